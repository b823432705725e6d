//! The alerts on an objective's error budget itself (its `budget { ... }`
//! block): `ErrorBudgetLow` while less than `remaining_below` of the objective
//! window's budget is left, and `ErrorBudgetExhaustionForecast` while the trend
//! of the remaining budget reaches zero within the horizon. Both are tickets,
//! both read the recorded remaining budget
//! ([`naming::SLO_PERIOD_BUDGET_REMAINING`]), and both sit in the objective's
//! budget group after it, so they see this cycle's value.
//!
//! Grouped objectives need nothing more: the remaining budget is recorded per
//! group, and every operator below matches on all labels, so each group has its
//! own alert and one group's trend never meets another's.
//!
//! The forecast is `predict_linear` solved for zero. With `R` the remaining
//! budget, `predict_linear(R[lookback], 0)` is the fitted value now and
//! `deriv(R[lookback])` the fitted slope (one least-squares line), so
//! `predict_linear(R[lookback], 0) / -deriv(R[lookback])` is the time at which
//! the line reaches zero: positive only while budget is left and falling, and
//! within the horizon exactly when `predict_linear(R[lookback], horizon) <= 0`.
//! The alert's value is that time in seconds, which the summary says in words
//! (`humanizeDuration`). Like the other forecasts it fires only from a full
//! `lookback` of history (`and R offset <lookback>`) and carries
//! `forecast="true"`, so it never mutes anything.

use crate::compiler::emit::prometheus::{
    alert_labels, annotations, escape_go_template, mark_forecast, percent, recorded, AlertRule,
    Rule, RuleGroup,
};
use crate::compiler::ir::{naming, Budget, Duration, Objective, Service, Tier};

/// The Go template of the low-budget alert's summary: the remaining budget in
/// percent.
pub const REMAINING_TEMPLATE: &str = "{{ $value | humanizePercentage }}";
/// The Go template of the forecast's summary: the time left, in words.
pub const TIME_LEFT_TEMPLATE: &str = "{{ $value | humanizeDuration }}";

/// Appends the budget alerts of every objective of `service` to its budget
/// group among `groups` (the service's objective groups).
pub fn add_budget_alerts(service: &Service, groups: &mut [RuleGroup]) {
    for objective in &service.objectives {
        let Some(budget) = objective.kind.budget() else {
            continue;
        };
        let alerts = budget_alert_rules(service, objective, budget);
        if alerts.is_empty() {
            continue;
        }
        let name = naming::group_budget(&service.name, &objective.name);
        if let Some(group) = groups.iter_mut().find(|group| group.name == name) {
            group.rules.extend(alerts.into_iter().map(Rule::Alerting));
        }
    }
}

/// The budget alerts of one budgeted objective, in writing order.
pub fn budget_alert_rules(
    service: &Service,
    objective: &Objective,
    budget: &Budget,
) -> Vec<AlertRule> {
    let mut alerts = Vec::new();
    let remaining = recorded(naming::SLO_PERIOD_BUDGET_REMAINING, service, objective);
    let each_group = if objective.group_by.is_empty() {
        String::new()
    } else {
        format!(
            " Each {} has its own budget; this alert's labels name the one concerned.",
            objective.group_by.join(", ")
        )
    };
    if let Some(remaining_below) = budget.budget_alerts.remaining_below {
        alerts.push(budget_ticket(
            service,
            objective,
            naming::ALERT_BUDGET_LOW,
            format!("{remaining} < {remaining_below}"),
            low_summary(service, objective, REMAINING_TEMPLATE),
            format!(
                "Less than {} of the {} error budget of the {} objective of {} is left.{each_group}",
                percent(remaining_below),
                budget.window,
                objective.kind.name().as_str(),
                percent(budget.objective),
            ),
        ));
    }
    if let Some(exhaustion) = &budget.budget_alerts.exhaustion {
        let lookback = exhaustion.lookback;
        let mut alert = budget_ticket(
            service,
            objective,
            naming::ALERT_BUDGET_EXHAUSTION,
            format!(
                "(\n  predict_linear({remaining}[{lookback}], 0) > 0\n)\n/\n-deriv({remaining}[{lookback}])\n  > 0 <= {}\nand\n{remaining} offset {lookback}",
                exhaustion.horizon.as_seconds()
            ),
            exhaustion_summary(service, objective, TIME_LEFT_TEMPLATE),
            format!(
                "A linear fit of the remaining {} error budget over the last {lookback} reaches zero within {}.{each_group}",
                budget.window, exhaustion.horizon
            ),
        );
        mark_forecast(&mut alert);
        alerts.push(alert);
    }
    alerts
}

/// A budget alert: a ticket whose summary is a Go template saying its value,
/// with the objective's description before `description`.
fn budget_ticket(
    service: &Service,
    objective: &Objective,
    alert: &str,
    expr: String,
    summary_template: String,
    description: String,
) -> AlertRule {
    AlertRule {
        alert: alert.to_owned(),
        expr,
        for_: Duration::ZERO,
        keep_firing_for: Duration::ZERO,
        labels: alert_labels(service, objective, service.severities.of(Tier::Ticket)),
        templates: vec![(naming::ANNOTATION_SUMMARY.to_owned(), summary_template)],
        annotations: without_summary(annotations(service, objective, String::new(), description)),
    }
}

/// The summary of `ErrorBudgetLow` with `remaining` in place of the value:
/// [`REMAINING_TEMPLATE`] in the rule, its rendering in a test's expectation.
pub fn low_summary(service: &Service, objective: &Objective, remaining: &str) -> String {
    format!(
        "Error budget of {}/{} is down to {remaining}",
        escape_go_template(&service.name),
        escape_go_template(&objective.name)
    )
}

/// The summary of `ErrorBudgetExhaustionForecast` with `time_left` in place of
/// the value ([`TIME_LEFT_TEMPLATE`] in the rule).
pub fn exhaustion_summary(service: &Service, objective: &Objective, time_left: &str) -> String {
    format!(
        "At this rate the error budget of {}/{} is gone in {time_left}",
        escape_go_template(&service.name),
        escape_go_template(&objective.name)
    )
}

/// The annotations but the summary, which these alerts write as a template.
fn without_summary(annotations: Vec<(String, String)>) -> Vec<(String, String)> {
    annotations
        .into_iter()
        .filter(|(key, _)| key != naming::ANNOTATION_SUMMARY)
        .collect()
}
