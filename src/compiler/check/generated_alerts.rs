//! Verification of the alerts the checked model will generate, with warnings no
//! peer gives: alerts that fire too late or on a single bad slice, forecasts that
//! cannot warn before the breach, guards that do nothing, ceilings that cannot be
//! exceeded. Reads the typed model only, after every other check passed.
//!
//! Invariants: every warning has a code (W0501 to W0505), a span from the model, a
//! label saying what is wrong there and a help saying how to fix it.
//! The checker already reports an alert that can never fire (W0005), a window
//! not shorter than the objective window (E0403) and a latency threshold that is
//! not a known bucket boundary (E0610, E0611); nothing here repeats them.

use crate::base::diagnostic::Diagnostic;
use crate::compiler::check::codes;
use crate::compiler::ir::{Budget, Decimal, Duration, ObjectiveKind, Program, TrafficGuard};

/// Scrape plus rule-evaluation delay assumed before any alert can see a sample.
pub const DETECTION_DELAY: Duration = Duration::minutes(2);

/// Every warning about the program's generated alerts, not sorted.
pub(crate) fn warnings(program: &Program) -> Vec<Diagnostic> {
    let mut found = Vec::new();
    for service in &program.services {
        for objective in &service.objectives {
            let span = objective.name_span;
            match &objective.kind {
                ObjectiveKind::Latency { budget, .. }
                | ObjectiveKind::Availability { budget, .. } => {
                    exhaustion_before_page(budget, span, &mut found);
                }
                ObjectiveKind::Accuracy { budget, slice, .. } => {
                    exhaustion_before_page(budget, span, &mut found);
                    let fixed_guard = std::iter::once(Some(budget.traffic_guard))
                        .chain(budget.burn_windows().map(|(_, burn)| burn.traffic_guard))
                        .any(|guard| matches!(guard, Some(TrafficGuard::Fixed(_))));
                    if fixed_guard {
                        found.push(
                            codes::MIN_TRAFFIC_WITHOUT_EFFECT
                                .at(span, "accuracy objectives count time slices, not events")
                                .with_help("remove `min_traffic` from this objective"),
                        );
                    }
                    if budget.alerts_enabled {
                        for (tier, burn) in budget.burn_windows() {
                            let threshold = burn.factor.to_f64() * budget.error_budget.to_f64();
                            let one_slice = slice.millis as f64 / burn.long.millis as f64;
                            if threshold < 1.0 && one_slice > threshold {
                                found.push(
                                    codes::ONE_SLICE_FIRES.at(burn.span.unwrap_or(span),
                                        format!(
                                            "one {slice} slice is {:.1}% of the {} window, above the {} alert's threshold of {}",
                                            one_slice * 100.0,
                                            burn.long,
                                            tier.as_str(),
                                            burn.factor.checked_mul(budget.error_budget).unwrap_or(Decimal::ONE)
                                        ),
                                    )
                                    .with_help("use a shorter `slice`, or longer burn windows"),
                                );
                            }
                        }
                    }
                }
                ObjectiveKind::Drift {
                    for_,
                    forecast: Some(forecast),
                    ..
                } => forecast_lead(forecast.horizon, *for_, forecast.span, &mut found),
                ObjectiveKind::Gpu {
                    max_utilization,
                    for_,
                    exhaustion,
                    ..
                } => {
                    if *max_utilization >= Decimal::HUNDRED {
                        found.push(
                            codes::UTILIZATION_CEILING_UNREACHABLE
                                .at(
                                    span,
                                    format!(
                                    "utilization is at most 100%, never above {max_utilization}%"
                                ),
                                )
                                .with_help("use a ceiling below 100%, such as 90%"),
                        );
                    }
                    if let Some(forecast) = exhaustion {
                        forecast_lead(forecast.horizon, *for_, forecast.span, &mut found);
                    }
                }
                _ => {}
            }
        }
    }
    found
}

fn exhaustion_before_page(
    budget: &Budget,
    span: crate::base::diagnostic::Span,
    found: &mut Vec<Diagnostic>,
) {
    if !budget.alerts_enabled || budget.page.is_empty() {
        return;
    }
    let budget_fraction = budget.error_budget.to_f64();
    let exhaustion_ms = budget.window.millis as f64 * budget_fraction;
    let fastest_ms = budget
        .page
        .iter()
        .map(|burn| {
            burn.factor.to_f64() * budget_fraction * burn.long.millis as f64
                + burn.for_.millis as f64
                + DETECTION_DELAY.millis as f64
        })
        .fold(f64::INFINITY, f64::min);
    if exhaustion_ms <= fastest_ms {
        let seconds = |millis: f64| format!("{:.0}s", millis / 1000.0);
        found.push(
            codes::BUDGET_GONE_BEFORE_PAGE.at(span,
                format!(
                    "at 100% errors the budget lasts {}, the fastest page needs about {}",
                    seconds(exhaustion_ms),
                    seconds(fastest_ms)
                ),
            )
            .with_note(format!(
                "the estimate includes {DETECTION_DELAY} for a scrape and a rule evaluation"
            ))
            .with_help("lower the objective, lengthen the window, or add a page burn window with a shorter long window"),
        );
    }
}

fn forecast_lead(
    horizon: Duration,
    for_: Duration,
    span: crate::base::diagnostic::Span,
    found: &mut Vec<Diagnostic>,
) {
    if horizon <= for_ {
        found.push(
            codes::FORECAST_TOO_LATE
                .at(
                    span,
                    format!("the horizon {horizon} is not longer than `for` ({for_})"),
                )
                .with_help("use a horizon several times longer than `for`"),
        );
    }
}
