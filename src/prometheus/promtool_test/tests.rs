//! The evaluation plan held to promtool's: random rule files, inputs and sets of check
//! times give the same report with the range-query shortcut as with one instant query
//! per rule and step, and an alert check gives the same result whichever other times
//! the test asks about.
//!
//! Invariants: inputs stay small (at most a few dozen steps), so the default
//! `PROPTEST_CASES` (256) runs in seconds; `PROPTEST_CASES=20000` explores further.

use std::collections::BTreeMap;

use proptest::prelude::*;

use super::{run_test_text, EvaluationPlan, FileAccess, Stream, Verdict};

/// Files held in memory, under their names.
struct Memory(BTreeMap<String, String>);

impl FileAccess for Memory {
    fn glob(&self, pattern: &str) -> Result<Vec<String>, String> {
        Ok(self
            .0
            .contains_key(pattern)
            .then(|| pattern.to_string())
            .into_iter()
            .collect())
    }

    fn read(&self, path: &str) -> Result<String, String> {
        self.0
            .get(path)
            .cloned()
            .ok_or_else(|| format!("open {path}: no such file or directory"))
    }

    fn join(&self, _base: &str, path: &str) -> String {
        path.to_string()
    }
}

/// The whole report of one test file: verdict, warnings and failures.
fn report(rules: &str, test: &str, plan: EvaluationPlan) -> (Verdict, Vec<String>) {
    let files = Memory(BTreeMap::from([(
        "rules.yml".to_string(),
        rules.to_string(),
    )]));
    let mut output = Vec::new();
    let (verdict, mut errors) = run_test_text(test, ".", &files, 1, plan, &mut output);
    errors.extend(
        output
            .into_iter()
            .filter(|(stream, _)| *stream == Stream::Stderr)
            .map(|(_, text)| text),
    );
    (verdict, errors)
}

/// Expressions over the input series `a` and `b` only (range-planned) and over
/// recorded series (evaluated step by step), with offsets both ways.
const EXPRESSIONS: &[&str] = &[
    "a",
    "a > 2",
    "a == 0",
    "sum(a)",
    "sum by (i) (a) + 1",
    "rate(a[3m])",
    "max_over_time(b[2m])",
    "count_over_time(a[5m:])",
    "a offset 1m",
    "a offset -1m",
    "b offset -2m > 1",
    "a @ 120",
    "sum_over_time(a[2m:30s] offset -1m)",
    "a * on(i) b",
    "absent(b)",
    "vector(1)",
    "r0 * 2",
    "count(r1)",
    "ALERTS",
    "changes(r0[4m])",
];

const DURATIONS: &[&str] = &["0s", "30s", "1m", "2m", "5m"];

#[derive(Clone, Debug)]
struct GeneratedRule {
    alert: bool,
    expr: usize,
    for_index: usize,
    keep_firing: bool,
}

#[derive(Clone, Debug)]
struct GeneratedSeries {
    name: &'static str,
    instance: u8,
    values: Vec<u8>,
}

fn value_text(code: u8) -> String {
    match code {
        0 => "_".to_string(),
        1 => "stale".to_string(),
        n => format!("{}", f64::from(n - 2) / 2.0),
    }
}

fn rule_file(groups: &[Vec<GeneratedRule>]) -> String {
    let mut text = String::from("groups:\n");
    let (mut recorded, mut alerts) = (0, 0);
    for (index, rules) in groups.iter().enumerate() {
        text.push_str(&format!("  - name: g{index}\n    rules:\n"));
        for rule in rules {
            let expr = EXPRESSIONS[rule.expr % EXPRESSIONS.len()];
            if rule.alert {
                text.push_str(&format!(
                    "      - alert: A{}\n        expr: '{expr}'\n        for: {}\n",
                    alerts % 3,
                    DURATIONS[rule.for_index % DURATIONS.len()]
                ));
                if rule.keep_firing {
                    text.push_str("        keep_firing_for: 1m\n");
                }
                alerts += 1;
            } else {
                text.push_str(&format!(
                    "      - record: r{recorded}\n        expr: '{expr}'\n"
                ));
                recorded += 1;
            }
        }
    }
    text
}

fn test_file(
    evaluation_interval: &str,
    interval: &str,
    series: &[GeneratedSeries],
    alert_checks: &[(u32, u8)],
    promql_checks: &[(u32, usize)],
) -> String {
    let mut text = format!(
        "rule_files: [rules.yml]\nevaluation_interval: {evaluation_interval}\ntests:\n  - interval: {interval}\n    input_series:\n"
    );
    for s in series {
        let values: Vec<String> = s.values.iter().map(|&v| value_text(v)).collect();
        text.push_str(&format!(
            "      - series: '{}{{i=\"{}\"}}'\n        values: '{}'\n",
            s.name,
            s.instance,
            values.join(" ")
        ));
    }
    text.push_str("    alert_rule_test:\n");
    for (seconds, alert) in alert_checks {
        text.push_str(&format!(
            "      - eval_time: {seconds}s\n        alertname: A{alert}\n"
        ));
    }
    text.push_str("    promql_expr_test:\n");
    for (seconds, expr) in promql_checks {
        text.push_str(&format!(
            "      - eval_time: {seconds}s\n        expr: '{}'\n",
            EXPRESSIONS[expr % EXPRESSIONS.len()]
        ));
    }
    text
}

fn rules_strategy() -> impl Strategy<Value = Vec<Vec<GeneratedRule>>> {
    let rule = (
        any::<bool>(),
        0..EXPRESSIONS.len(),
        0..DURATIONS.len(),
        any::<bool>(),
    )
        .prop_map(|(alert, expr, for_index, keep_firing)| GeneratedRule {
            alert,
            expr,
            for_index,
            keep_firing,
        });
    prop::collection::vec(prop::collection::vec(rule, 1..4), 1..3)
}

fn series_strategy() -> impl Strategy<Value = Vec<GeneratedSeries>> {
    let one = (
        prop::sample::select(&["a", "b"][..]),
        1u8..3,
        prop::collection::vec(0u8..10, 0..24),
    )
        .prop_map(|(name, instance, values)| GeneratedSeries {
            name,
            instance,
            values,
        });
    prop::collection::vec(one, 1..4)
}

/// Check times on a 15 s grid, so some fall between evaluation steps.
fn times_strategy(most: usize) -> impl Strategy<Value = Vec<u32>> {
    prop::collection::vec((0u32..60).prop_map(|quarter| quarter * 15), 1..most)
}

proptest! {
    #[test]
    fn range_queries_report_what_step_by_step_evaluation_reports(
        groups in rules_strategy(),
        series in series_strategy(),
        evaluation_interval in prop::sample::select(&["30s", "1m", "2m"][..]),
        interval in prop::sample::select(&["30s", "1m", "90s"][..]),
        alert_times in times_strategy(5),
        alert_names in prop::collection::vec(0u8..3, 5),
        promql_times in times_strategy(3),
        promql_exprs in prop::collection::vec(0..EXPRESSIONS.len(), 3),
    ) {
        let rules = rule_file(&groups);
        let alert_checks: Vec<(u32, u8)> =
            alert_times.iter().copied().zip(alert_names.iter().copied()).collect();
        let promql_checks: Vec<(u32, usize)> =
            promql_times.iter().copied().zip(promql_exprs.iter().copied()).collect();
        let test = test_file(evaluation_interval, interval, &series, &alert_checks, &promql_checks);
        let reference = report(&rules, &test, EvaluationPlan::StepByStep);
        let fast = report(&rules, &test, EvaluationPlan::RangeQueriesWherePossible);
        prop_assert_eq!(&fast, &reference, "\n{}\n{}", rules, test);
    }

    #[test]
    fn an_alert_check_does_not_depend_on_the_other_check_times(
        groups in rules_strategy(),
        series in series_strategy(),
        evaluation_interval in prop::sample::select(&["30s", "1m", "2m"][..]),
        interval in prop::sample::select(&["30s", "1m", "90s"][..]),
        alert_times in times_strategy(5),
        alert_names in prop::collection::vec(0u8..3, 5),
    ) {
        let rules = rule_file(&groups);
        let alert_checks: Vec<(u32, u8)> =
            alert_times.iter().copied().zip(alert_names.iter().copied()).collect();
        let together = test_file(evaluation_interval, interval, &series, &alert_checks, &[]);
        let (_, all) = report(&rules, &together, EvaluationPlan::StepByStep);
        // A rule that fails ends the test group at that step, so later checks vanish.
        prop_assume!(all.iter().all(|failure| !failure.starts_with("    rule: ")));
        let mut alone = Vec::new();
        for check in &alert_checks {
            let single = test_file(evaluation_interval, interval, &series, &[*check], &[]);
            alone.extend(report(&rules, &single, EvaluationPlan::RangeQueriesWherePossible).1);
        }
        // The group-order warning judges a test's whole verdict, which does depend on
        // which checks it holds; the property is about the checks.
        let checks_only = |reports: Vec<String>| -> Vec<String> {
            let mut reports: Vec<String> =
                reports.into_iter().filter(|text| !text.starts_with("  WARNING: ")).collect();
            reports.sort();
            reports
        };
        prop_assert_eq!(checks_only(all), checks_only(alone), "\n{}\n{}", rules, together);
    }
}
