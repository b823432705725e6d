//! The promtool unit-test file as data and as text: test cases with their input
//! series and alert checks, written in promtool's `test rules` format.
//!
//! Invariants: the text is exactly what the YAML tree writer would give for the
//! same document (a test compares them on awkward strings); series are written
//! as PromQL selectors with exact labels, values in promtool's expanding
//! notation (`0+5x10`).

use std::collections::BTreeMap;

use crate::base::diagnostic::Span;
use crate::compiler::emit::yaml::direct;
use crate::compiler::ir::{Decimal, Duration, LabelMatcher, MatchOp, Selector};

pub(super) struct TestCase {
    pub name: String,
    pub series: Vec<(String, String)>,
    pub checks: Vec<Check>,
}

#[derive(Clone)]
pub(super) struct Check {
    pub eval_time: i64,
    pub alertname: String,
    pub expected: Vec<ExpectedAlert>,
}

#[derive(Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct ExpectedAlert {
    pub labels: BTreeMap<String, String>,
    pub annotations: Vec<(String, String)>,
}

/// The test file's document (after its header comments).
pub(super) fn tests_text(rule_file: &str, interval: Duration, cases: &[TestCase]) -> String {
    tests_text_in_order(rule_file, interval, &[], cases)
}

/// [`tests_text`] with the rule groups' `group_eval_order` (none written when
/// empty): promtool 2.42 runs the groups of a file in a random order unless told,
/// which matters to a test whose alert reads what another group records.
pub(super) fn tests_text_in_order(
    rule_file: &str,
    interval: Duration,
    group_eval_order: &[String],
    cases: &[TestCase],
) -> String {
    let interval_text = interval.to_string();
    let mut out = String::with_capacity(cases.len() * 2048);
    direct::key(&mut out, 0, "rule_files", false);
    direct::seq_value(&mut out, false);
    direct::str_item(&mut out, 0, rule_file);
    direct::key(&mut out, 0, "evaluation_interval", false);
    direct::str_value(&mut out, 0, &interval_text);
    if !group_eval_order.is_empty() {
        direct::key(&mut out, 0, "group_eval_order", false);
        direct::seq_value(&mut out, false);
        for group in group_eval_order {
            direct::str_item(&mut out, 0, group);
        }
    }
    direct::key(&mut out, 0, "tests", false);
    if !direct::seq_value(&mut out, cases.is_empty()) {
        return out;
    }
    for case in cases {
        direct::key(&mut out, 2, "name", true);
        direct::str_value(&mut out, 2, &case.name);
        direct::key(&mut out, 2, "interval", false);
        direct::str_value(&mut out, 2, &interval_text);
        direct::key(&mut out, 2, "input_series", false);
        if direct::seq_value(&mut out, case.series.is_empty()) {
            for (series, values) in &case.series {
                direct::key(&mut out, 4, "series", true);
                direct::str_value(&mut out, 4, series);
                direct::key(&mut out, 4, "values", false);
                direct::str_value(&mut out, 4, values);
            }
        }
        direct::key(&mut out, 2, "alert_rule_test", false);
        if !direct::seq_value(&mut out, case.checks.is_empty()) {
            continue;
        }
        for check in &case.checks {
            direct::key(&mut out, 4, "eval_time", true);
            direct::str_value(
                &mut out,
                4,
                &Duration::from_millis(check.eval_time).to_string(),
            );
            direct::key(&mut out, 4, "alertname", false);
            direct::str_value(&mut out, 4, &check.alertname);
            direct::key(&mut out, 4, "exp_alerts", false);
            if !direct::seq_value(&mut out, check.expected.is_empty()) {
                continue;
            }
            for alert in &check.expected {
                direct::key(&mut out, 6, "exp_labels", true);
                direct::string_map_value(&mut out, 6, alert.labels.iter());
                direct::key(&mut out, 6, "exp_annotations", false);
                direct::string_map_value(
                    &mut out,
                    6,
                    alert.annotations.iter().map(|(key, value)| (key, value)),
                );
            }
        }
    }
    out
}

pub(super) fn series_text(metric: &str, labels: &BTreeMap<String, String>) -> String {
    Selector {
        metric: metric.to_owned(),
        matchers: labels
            .iter()
            .map(|(label, value)| LabelMatcher {
                label: label.clone(),
                op: MatchOp::Equal,
                value: value.clone(),
            })
            .collect(),
        span: Span::default(),
    }
    .to_promql()
}

/// Values in promtool's expanding notation: each segment adds `increase` per
/// sample for `samples` samples, starting from 0.
pub(super) fn counter_values(segments: &[(i64, Decimal)]) -> String {
    let mut parts = Vec::new();
    let mut value = Decimal::ZERO;
    for (index, (samples, increase)) in segments.iter().enumerate() {
        if index == 0 {
            parts.push(format!("0+{increase}x{samples}"));
            value = increase
                .checked_mul(Decimal::from_integer(*samples))
                .unwrap_or(Decimal::ZERO);
        } else if *samples > 0 {
            let first = value.checked_add(*increase).unwrap_or(value);
            parts.push(format!("{first}+{increase}x{}", samples - 1));
            value = first
                .checked_add(
                    increase
                        .checked_mul(Decimal::from_integer(samples - 1))
                        .unwrap_or(Decimal::ZERO),
                )
                .unwrap_or(first);
        }
    }
    parts.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compiler::emit::yaml::{self, Node};

    /// The test file as a tree, written by the tree writer: the oracle for the
    /// direct writer's layout and quoting.
    fn tests_node(rule_file: &str, interval: Duration, cases: &[TestCase]) -> Node {
        let interval_text = interval.to_string();
        let tests = cases
            .iter()
            .map(|case| {
                let series = case
                    .series
                    .iter()
                    .map(|(series, values)| {
                        Node::map([("series", Node::str(series)), ("values", Node::str(values))])
                    })
                    .collect();
                let checks = case
                    .checks
                    .iter()
                    .map(|check| {
                        let alerts = check
                            .expected
                            .iter()
                            .map(|alert| {
                                Node::map([
                                    ("exp_labels", Node::string_map(&alert.labels)),
                                    (
                                        "exp_annotations",
                                        Node::owned_map(
                                            alert
                                                .annotations
                                                .iter()
                                                .map(|(key, value)| (key.clone(), Node::str(value)))
                                                .collect(),
                                        ),
                                    ),
                                ])
                            })
                            .collect();
                        Node::map([
                            (
                                "eval_time",
                                Node::str(Duration::from_millis(check.eval_time).to_string()),
                            ),
                            ("alertname", Node::str(&check.alertname)),
                            ("exp_alerts", Node::Seq(alerts)),
                        ])
                    })
                    .collect();
                Node::map([
                    ("name", Node::str(&case.name)),
                    ("interval", Node::str(&interval_text)),
                    ("input_series", Node::Seq(series)),
                    ("alert_rule_test", Node::Seq(checks)),
                ])
            })
            .collect();
        Node::map([
            ("rule_files", Node::Seq(vec![Node::str(rule_file)])),
            ("evaluation_interval", Node::str(interval_text)),
            ("tests", Node::Seq(tests)),
        ])
    }

    #[test]
    fn direct_writer_equals_the_tree_writer() {
        let awkward = [
            "",
            "on",
            "a: b",
            "{{ $labels.x }}",
            "x\ny",
            "q\"b\\s",
            "é",
            "- d",
            "1",
        ];
        let mut cases = Vec::new();
        for text in awkward {
            cases.push(TestCase {
                name: text.into(),
                series: vec![(format!("m{{l=\"{text}\"}}"), "0+1x3".into())],
                checks: vec![
                    Check {
                        eval_time: 61_000,
                        alertname: text.into(),
                        expected: Vec::new(),
                    },
                    Check {
                        eval_time: 0,
                        alertname: "A".into(),
                        expected: vec![
                            ExpectedAlert {
                                labels: BTreeMap::from([(text.to_owned(), text.to_owned())]),
                                annotations: vec![(text.to_owned(), text.to_owned())],
                            },
                            ExpectedAlert {
                                labels: BTreeMap::new(),
                                annotations: Vec::new(),
                            },
                        ],
                    },
                ],
            });
        }
        cases.push(TestCase {
            name: "no series, no checks".into(),
            series: Vec::new(),
            checks: Vec::new(),
        });
        for file in ["../prometheus/a.rules.yml", "../prometheus/on: {{.yml"] {
            for interval in [Duration::minutes(1), Duration::from_millis(30_000)] {
                for cases in [&cases[..], &cases[..1], &[]] {
                    assert_eq!(
                        tests_text(file, interval, cases),
                        yaml::to_string(&[], &tests_node(file, interval, cases))
                    );
                }
            }
        }
    }

    #[test]
    fn counter_values_continue_across_segments() {
        let one = Decimal::ONE;
        let two = Decimal::from_integer(2);
        assert_eq!(counter_values(&[(3, one), (2, two)]), "0+1x3 5+2x1");
    }
}
