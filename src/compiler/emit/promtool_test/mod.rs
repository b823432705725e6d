//! promtool unit tests generated for every service: each page alert fires under a
//! burn above its factor and stays quiet below it, the traffic guard keeps
//! pages and tickets quiet on thin traffic, threshold and forecast alerts fire when they
//! should (and the forecast stops once the breach is there), and every
//! objective's absent-metrics alert fires when its metrics are missing, and the
//! alerts on the monitoring path (the Watchdog, rule failures, notification
//! failures, targets down, missing self-metrics) fire when that path breaks.
//!
//! Input series are built from the objective's own selectors (label values
//! chosen to satisfy, or violate, its matchers), with a baseline of healthy
//! traffic and a burn that starts at `T0` and goes on; expectations come from a
//! model of the burn rules, and only where the model is sure.
//!
//! Invariants: every expected label and annotation is the unescaped value the
//! rule produces; a scenario whose series would also match another objective of
//! the service is left out (W0506), so one objective's test never depends on
//! another's rules; so is an objective whose test would take more evaluations
//! than `mlslo test` runs (a `for` of a century), rather than written and refused.
//!
//! Layout: `burn_scenarios` and `threshold_scenarios` design the test cases of
//! each kind family on a `generator`, `budget_alert_scenarios` those of the
//! alerts on the budget left, `monitoring_scenarios` those of the
//! monitoring alerts, `burn_model` predicts the burn-rate
//! alerts, `label_solver` finds label values for the series, `test_file` writes
//! the file.

mod budget_alert_scenarios;
mod burn_model;
mod burn_scenarios;
mod generator;
mod label_solver;
mod monitoring_scenarios;
mod recorded_model;
mod scenario_cache;
mod test_file;
mod threshold_scenarios;

pub use scenario_cache::ScenarioCache;

use std::cell::RefCell;
use std::collections::BTreeMap;

use crate::base::diagnostic::Diagnostic;
use crate::compiler::emit::codes;
use crate::compiler::emit::prometheus::{absent_selectors, AlertRule, Rule, RuleGroup, ABSENT_FOR};
use crate::compiler::ir::naming;
use crate::compiler::ir::{Duration, Objective, ObjectiveKind, Selector, Service};
use crate::prometheus::promtool_test::MAX_EVALUATIONS;
use generator::Generator;
use label_solver::LabelSolver;
use test_file::{tests_text, tests_text_in_order, Check, ExpectedAlert, TestCase};

/// The test file of one service (`None` when it has nothing to test) and a
/// W0506 for each objective whose scenarios had to be left out.
pub fn service_tests(
    service: &Service,
    groups: &[RuleGroup],
    cache: &mut ScenarioCache,
) -> (Option<String>, Vec<Diagnostic>) {
    let interval = sample_interval(service);
    let mut cases = Vec::new();
    let mut diagnostics = Vec::new();
    let mut has_budget_alert_cases = false;
    for (index, objective) in service.objectives.iter().enumerate() {
        let alerts = objective_alerts(service, objective, groups);
        let budget_alerts = budget_group_alerts(service, objective, groups);
        has_budget_alert_cases |= !budget_alerts.is_empty();
        let others: Vec<&Selector> = service
            .objectives
            .iter()
            .enumerate()
            .filter(|(other, _)| *other != index)
            .flat_map(|(_, other)| other.kind.selectors())
            .collect();
        let generator = Generator {
            service,
            objective,
            alerts: &alerts,
            interval: interval.millis,
            solver: LabelSolver::new(others),
            counter_series: RefCell::default(),
        };
        match objective_cases(&generator, &budget_alerts, cache) {
            Some(found) => match evaluation_steps(&found, interval.millis) {
                steps if steps > MAX_EVALUATIONS => diagnostics.push(
                    codes::NO_GENERATED_TEST
                        .at(
                            objective.name_span,
                            format!(
                                "a test of this objective takes {steps} evaluations at {interval}, \
                                 more than the {MAX_EVALUATIONS} `mlslo test` runs"
                            ),
                        )
                        .with_help("shorter durations (`for`, `max_age`, windows) make this objective's alerts testable"),
                ),
                _ => cases.extend(found),
            },
            None if has_unmodelled_query(&objective.kind) => diagnostics.push(
                codes::NO_GENERATED_TEST.at(
                    objective.name_span,
                    "the value of this expression SLI is not one mlslo can model",
                )
                .with_help("mlslo builds test series for an expression of sums around one `rate(selector[$window])`; the rules are generated and checked all the same"),
            ),
            None => diagnostics.push(
                codes::NO_GENERATED_TEST.at(
                    objective.name_span,
                    "no input series could be built for these selectors",
                )
                .with_help("simpler matchers (`=`, or a regex with a literal alternative) let mlslo test this objective's alerts"),
            ),
        }
    }
    if let Some(absent) = absent_case(service, groups, interval.millis) {
        cases.push(absent);
    }
    cases.extend(monitoring_scenarios::service_cases(
        service,
        groups,
        interval.millis,
        cache,
    ));
    if cases.is_empty() {
        return (None, diagnostics);
    }
    // The budget alerts read the remaining budget, recorded from what the
    // objective's group records: their tests need the file's order.
    let group_eval_order: Vec<String> = if has_budget_alert_cases {
        groups.iter().map(|group| group.name.clone()).collect()
    } else {
        Vec::new()
    };
    let text = tests_text_in_order(
        &naming::rule_file_from_tests(&service.name),
        interval,
        &group_eval_order,
        &cases,
    );
    (Some(text), diagnostics)
}

/// Whether a counter of the objective is an expression SLI whose value the
/// burn scenarios cannot model ([`crate::compiler::ir::Counter::rate_of`]).
fn has_unmodelled_query(kind: &ObjectiveKind) -> bool {
    match kind {
        ObjectiveKind::Availability { events, total, .. } => {
            events.counter().rate_of().is_none() || total.rate_of().is_none()
        }
        _ => false,
    }
}

/// The test file of the rules about Prometheus and Alertmanager themselves.
pub fn monitoring_tests(groups: &[RuleGroup]) -> String {
    tests_text(
        &naming::rule_file_from_tests(naming::MONITORING_STEM),
        monitoring_scenarios::MONITORING_TEST_INTERVAL,
        &monitoring_scenarios::global_cases(groups),
    )
}

/// How many rule evaluations the longest of `cases` takes at `interval`.
fn evaluation_steps(cases: &[TestCase], interval: i64) -> i64 {
    cases
        .iter()
        .flat_map(|case| case.checks.iter())
        .map(|check| check.eval_time / interval + 1)
        .max()
        .unwrap_or(0)
}

/// The test cases of one objective, by its kind family; `None` when its
/// scenarios had to be left out.
fn objective_cases(
    generator: &Generator<'_>,
    budget_alerts: &[&AlertRule],
    cache: &mut ScenarioCache,
) -> Option<Vec<TestCase>> {
    match &generator.objective.kind {
        ObjectiveKind::Latency { budget, .. } | ObjectiveKind::Availability { budget, .. } => {
            let mut cases = generator.budget_cases(budget, cache)?;
            cases.extend(generator.budget_alert_cases(budget, budget_alerts, cache));
            Some(cases)
        }
        ObjectiveKind::Accuracy { budget, .. } => generator.accuracy_cases(budget, cache),
        ObjectiveKind::Drift { .. } | ObjectiveKind::Gpu { .. } => generator.threshold_cases(cache),
        ObjectiveKind::Freshness { .. } => generator.freshness_cases(cache),
        ObjectiveKind::Logs { .. } => Some(Vec::new()),
    }
}

/// One minute, or a fifth of the shortest window any rule of the service uses.
fn sample_interval(service: &Service) -> Duration {
    let mut shortest = Duration::minutes(5);
    for objective in &service.objectives {
        if let Some(budget) = objective.kind.budget() {
            for (_, burn) in budget.burn_windows() {
                shortest = shortest.min(burn.short);
            }
            for (_, burn) in budget.burn_windows() {
                if let Some(min_traffic) = budget.min_traffic_of(burn) {
                    shortest = shortest.min(min_traffic.window);
                }
            }
        }
        if let ObjectiveKind::Accuracy { slice, .. } = &objective.kind {
            shortest = shortest.min(*slice);
        }
    }
    let millis = (shortest.millis / 5 / 1000 * 1000).max(1000);
    Duration::from_millis(millis)
}

fn objective_alerts<'a>(
    service: &Service,
    objective: &Objective,
    groups: &'a [RuleGroup],
) -> Vec<&'a AlertRule> {
    group_alerts(
        &naming::group_objective(&service.name, &objective.name),
        groups,
    )
}

/// The alerts of an objective's budget group: those on the budget left.
fn budget_group_alerts<'a>(
    service: &Service,
    objective: &Objective,
    groups: &'a [RuleGroup],
) -> Vec<&'a AlertRule> {
    group_alerts(
        &naming::group_budget(&service.name, &objective.name),
        groups,
    )
}

/// The alerting rules of the rule group named `name`.
fn group_alerts<'a>(name: &str, groups: &'a [RuleGroup]) -> Vec<&'a AlertRule> {
    groups
        .iter()
        .filter(|group| group.name == name)
        .flat_map(|group| group.rules.iter())
        .filter_map(|rule| match rule {
            Rule::Alerting(alert) => Some(alert),
            Rule::Recording { .. } => None,
        })
        .collect()
}

/// The absent-metrics test of a service: no series at all, every objective's
/// absent alert fires once `for` has passed.
fn absent_case(service: &Service, groups: &[RuleGroup], interval: i64) -> Option<TestCase> {
    let mut expected = Vec::new();
    for objective in &service.objectives {
        for alert in objective_alerts(service, objective, groups) {
            if alert.alert != naming::ALERT_METRIC_ABSENT {
                continue;
            }
            let mut seen: Vec<BTreeMap<String, String>> = Vec::new();
            for selector in objective.kind.selectors() {
                if !absent_selectors(&objective.kind).contains(&selector.to_promql()) {
                    continue;
                }
                // absent() keeps the selector's equality matchers as labels; `or`
                // drops a later result with the same labels.
                let labels = selector.equality_labels();
                if seen.contains(&labels) {
                    continue;
                }
                seen.push(labels.clone());
                let mut all = labels;
                all.extend(alert.labels.clone());
                expected.push(ExpectedAlert {
                    labels: all,
                    annotations: alert.annotations.clone(),
                });
            }
        }
    }
    if expected.is_empty() {
        return None;
    }
    expected.sort();
    expected.dedup();
    Some(TestCase {
        name: format!("{}: absent metrics alert after {ABSENT_FOR}", service.name),
        series: Vec::new(),
        checks: vec![Check {
            eval_time: ABSENT_FOR.millis + interval,
            alertname: naming::ALERT_METRIC_ABSENT.to_owned(),
            expected,
        }],
    })
}
