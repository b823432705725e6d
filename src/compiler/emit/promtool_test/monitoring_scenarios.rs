//! Test cases of the alerts on the monitoring path (`emit::monitoring`): the
//! Watchdog fires from the first evaluation; missing self-metrics fire after their
//! `for` and not when the metrics are there; a failing integration fires and a
//! healthy one does not; a service's failing and skipping rule groups fire while
//! another service's do not; a target that exposed an objective's series and goes
//! down fires, an unrelated target that is down does not.
//!
//! Invariants: expectations are the rules' own labels and annotations plus the
//! labels of the input series the expression keeps; every check of a case is at a
//! time where the outcome does not depend on evaluation timing (at least one
//! interval past each `for`).

use std::collections::BTreeMap;

use crate::compiler::emit::monitoring::{
    METRICS_ABSENT_FOR, NOTIFICATIONS_FAILING_FOR, RULE_FAILURES_FOR,
};
use crate::compiler::emit::prometheus::{absent_selectors, AlertRule, Rule, RuleGroup, ABSENT_FOR};
use crate::compiler::emit::promtool_test::label_solver::LabelSolver;
use crate::compiler::emit::promtool_test::scenario_cache::ScenarioCache;
use crate::compiler::emit::promtool_test::test_file::{
    series_text, Check, ExpectedAlert, TestCase,
};
use crate::compiler::ir::naming;
use crate::compiler::ir::{Duration, ObjectiveKind, Selector, Service};

/// The interval of the monitoring rules' own test file.
pub const MONITORING_TEST_INTERVAL: Duration = Duration::minutes(1);

const PROMETHEUS_TARGET: [(&str, &str); 2] =
    [("instance", "prometheus:9090"), ("job", "prometheus")];
const ALERTMANAGER_TARGET: [(&str, &str); 2] =
    [("instance", "alertmanager:9093"), ("job", "alertmanager")];

fn alerts_named<'a>(groups: &'a [RuleGroup], name: &str) -> Vec<&'a AlertRule> {
    groups
        .iter()
        .flat_map(|group| group.rules.iter())
        .filter_map(|rule| match rule {
            Rule::Alerting(alert) if alert.alert == name => Some(alert),
            _ => None,
        })
        .collect()
}

fn with_labels(alert: &AlertRule, extra: &[(&str, &str)]) -> ExpectedAlert {
    let mut labels: BTreeMap<String, String> = extra
        .iter()
        .map(|(label, value)| ((*label).to_owned(), (*value).to_owned()))
        .collect();
    labels.extend(alert.labels.clone());
    ExpectedAlert {
        labels,
        annotations: alert.annotations.clone(),
    }
}

fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(label, value)| ((*label).to_owned(), (*value).to_owned()))
        .collect()
}

/// `samples` samples of a counter growing by `step`, from 0.
fn counter(step: u32, samples: i64) -> String {
    format!("0+{step}x{samples}")
}

/// The cases of the monitoring rule file (the Watchdog, notification failures and
/// missing self-metrics).
pub fn global_cases(groups: &[RuleGroup]) -> Vec<TestCase> {
    let interval = MONITORING_TEST_INTERVAL.millis;
    let mut cases = Vec::new();
    if let Some(watchdog) = alerts_named(groups, naming::ALERT_WATCHDOG).first() {
        cases.push(TestCase {
            name: "monitoring: the Watchdog fires from the first evaluation".to_owned(),
            series: Vec::new(),
            checks: vec![
                Check {
                    eval_time: 0,
                    alertname: watchdog.alert.clone(),
                    expected: vec![with_labels(watchdog, &[])],
                },
                Check {
                    eval_time: 30 * interval,
                    alertname: watchdog.alert.clone(),
                    expected: vec![with_labels(watchdog, &[])],
                },
            ],
        });
    }
    let absent = alerts_named(groups, naming::ALERT_MONITORING_METRICS_ABSENT);
    if !absent.is_empty() {
        let after = METRICS_ABSENT_FOR.millis + interval;
        let mut expected: Vec<ExpectedAlert> =
            absent.iter().map(|alert| with_labels(alert, &[])).collect();
        expected.sort();
        cases.push(TestCase {
            name: "monitoring: missing self-metrics fire after their `for`".to_owned(),
            series: Vec::new(),
            checks: vec![
                Check {
                    eval_time: METRICS_ABSENT_FOR.millis - interval,
                    alertname: naming::ALERT_MONITORING_METRICS_ABSENT.to_owned(),
                    expected: Vec::new(),
                },
                Check {
                    eval_time: after,
                    alertname: naming::ALERT_MONITORING_METRICS_ABSENT.to_owned(),
                    expected,
                },
            ],
        });
        let samples = after / interval + 1;
        let mut series = Vec::new();
        let mut rule_group = labels(&PROMETHEUS_TARGET);
        rule_group.insert(
            "rule_group".to_owned(),
            format!(
                "/etc/prometheus/rules/{}.rules.yml;{}",
                naming::MONITORING_STEM,
                naming::GROUP_MONITORING
            ),
        );
        series.push((
            series_text("prometheus_rule_evaluation_failures_total", &rule_group),
            format!("0x{samples}"),
        ));
        let mut notifications = labels(&ALERTMANAGER_TARGET);
        notifications.insert("integration".to_owned(), "webhook".to_owned());
        series.push((
            series_text("alertmanager_notifications_total", &notifications),
            format!("0x{samples}"),
        ));
        cases.push(TestCase {
            name: "monitoring: present self-metrics keep the absent alerts quiet".to_owned(),
            series,
            checks: vec![Check {
                eval_time: after,
                alertname: naming::ALERT_MONITORING_METRICS_ABSENT.to_owned(),
                expected: Vec::new(),
            }],
        });
    }
    if let Some(failing) = alerts_named(groups, naming::ALERT_NOTIFICATIONS_FAILING).first() {
        let after = NOTIFICATIONS_FAILING_FOR.millis + 5 * interval;
        let samples = after / interval + 1;
        let mut series = Vec::new();
        for (integration, failed_per_step) in [("slack", 1), ("email", 0)] {
            let mut target = labels(&ALERTMANAGER_TARGET);
            target.insert("integration".to_owned(), integration.to_owned());
            series.push((
                series_text("alertmanager_notifications_total", &target),
                counter(10, samples),
            ));
            series.push((
                series_text("alertmanager_notifications_failed_total", &target),
                counter(failed_per_step, samples),
            ));
        }
        let mut failing_target = ALERTMANAGER_TARGET.to_vec();
        failing_target.push(("integration", "slack"));
        cases.push(TestCase {
            name: "monitoring: a failing integration fires, a healthy one does not".to_owned(),
            series,
            checks: vec![
                Check {
                    eval_time: NOTIFICATIONS_FAILING_FOR.millis - interval,
                    alertname: failing.alert.clone(),
                    expected: Vec::new(),
                },
                Check {
                    eval_time: after,
                    alertname: failing.alert.clone(),
                    expected: vec![with_labels(failing, &failing_target)],
                },
            ],
        });
    }
    cases
}

/// The cases of a service's monitoring group, at the service test file's interval.
pub fn service_cases(
    service: &Service,
    groups: &[RuleGroup],
    interval: i64,
    cache: &mut ScenarioCache,
) -> Vec<TestCase> {
    let mut cases = Vec::new();
    let Some(first_group) = groups.first() else {
        return cases;
    };
    let failures = alerts_named(groups, naming::ALERT_RULE_EVALUATION_FAILURES);
    let missed = alerts_named(groups, naming::ALERT_RULE_EVALUATIONS_MISSED);
    if let (Some(failures), Some(missed)) = (failures.first(), missed.first()) {
        let after = RULE_FAILURES_FOR.millis + 5 * interval.max(60_000);
        let samples = after / interval + 1;
        let own_group = format!(
            "/etc/prometheus/rules/{}.rules.yml;{}",
            service.name, first_group.name
        );
        // A group of another service whose name starts like this one's.
        let other_group = format!(
            "/etc/prometheus/rules/{0}-other.rules.yml;{0}-other/x",
            service.name
        );
        let mut series = Vec::new();
        for metric in [
            "prometheus_rule_evaluation_failures_total",
            "prometheus_rule_group_iterations_missed_total",
        ] {
            for group in [&own_group, &other_group] {
                let mut target = labels(&PROMETHEUS_TARGET);
                target.insert("rule_group".to_owned(), group.clone());
                series.push((series_text(metric, &target), counter(1, samples)));
            }
        }
        let mut own = PROMETHEUS_TARGET.to_vec();
        own.push(("rule_group", &own_group));
        let checks = [failures, missed]
            .into_iter()
            .flat_map(|alert| {
                [
                    Check {
                        eval_time: RULE_FAILURES_FOR.millis - interval,
                        alertname: alert.alert.clone(),
                        expected: Vec::new(),
                    },
                    Check {
                        eval_time: after,
                        alertname: alert.alert.clone(),
                        expected: vec![with_labels(alert, &own)],
                    },
                ]
            })
            .collect();
        cases.push(TestCase {
            name: format!(
                "{}: failing and skipped evaluations of its groups fire, another service's do not",
                service.name
            ),
            series,
            checks,
        });
    }
    cases.extend(target_down_cases(service, groups, interval, cache));
    cases
}

/// One case per objective: its first selector's series is exposed by a target that
/// then goes down.
fn target_down_cases(
    service: &Service,
    groups: &[RuleGroup],
    interval: i64,
    cache: &mut ScenarioCache,
) -> Vec<TestCase> {
    let alerts = alerts_named(groups, naming::ALERT_SCRAPE_TARGET_DOWN);
    if alerts.is_empty() {
        return Vec::new();
    }
    let solver = LabelSolver::new(Vec::new());
    let up_minutes = 10;
    let up_samples = up_minutes * 60_000 / interval;
    let after = (up_minutes * 60_000) + ABSENT_FOR.millis + 5 * interval.max(60_000);
    let down_samples = (after - up_minutes * 60_000) / interval + 1;
    let mut cases = Vec::new();
    for objective in &service.objectives {
        let Some(selector) = first_absent_selector(&objective.kind) else {
            continue;
        };
        let Some(mut series_labels) = solver.solve(&[selector], cache) else {
            continue;
        };
        series_labels
            .entry("job".to_owned())
            .or_insert_with(|| format!("{}-exporter", service.name));
        series_labels
            .entry("instance".to_owned())
            .or_insert_with(|| "10.0.0.1:8080".to_owned());
        let job = series_labels["job"].clone();
        let instance = series_labels["instance"].clone();
        let target = labels(&[("instance", &instance), ("job", &job)]);
        let unrelated = labels(&[("instance", "10.0.0.9:9100"), ("job", "unrelated")]);
        let series = vec![
            (
                series_text(&selector.metric, &series_labels),
                format!("1+1x{up_samples}"),
            ),
            (
                series_text("up", &target),
                format!("1x{up_samples} 0x{down_samples}"),
            ),
            (
                series_text("up", &unrelated),
                format!("0x{}", up_samples + down_samples),
            ),
        ];
        // Every objective of the service whose targets include this series.
        let mut expected: Vec<ExpectedAlert> = service
            .objectives
            .iter()
            .filter(|other| {
                other.kind.selectors().iter().any(|candidate| {
                    absent_selectors(&other.kind).contains(&candidate.to_promql())
                        && solver.matches_selector(
                            candidate,
                            &selector.metric,
                            &series_labels,
                            cache,
                        )
                })
            })
            .filter_map(|other| {
                alerts
                    .iter()
                    .find(|alert| alert.labels.get(naming::LABEL_SLO) == Some(&other.name))
            })
            .map(|alert| with_labels(alert, &[("instance", &instance), ("job", &job)]))
            .collect();
        expected.sort();
        cases.push(TestCase {
            name: format!(
                "{}/{}: a target behind its series goes down",
                service.name, objective.name
            ),
            series,
            checks: vec![
                Check {
                    eval_time: up_minutes * 60_000 - interval,
                    alertname: naming::ALERT_SCRAPE_TARGET_DOWN.to_owned(),
                    expected: Vec::new(),
                },
                Check {
                    eval_time: after,
                    alertname: naming::ALERT_SCRAPE_TARGET_DOWN.to_owned(),
                    expected,
                },
            ],
        });
    }
    cases
}

fn first_absent_selector(kind: &ObjectiveKind) -> Option<&Selector> {
    let absent = absent_selectors(kind);
    kind.selectors()
        .into_iter()
        .find(|selector| absent.contains(&selector.to_promql()))
}
