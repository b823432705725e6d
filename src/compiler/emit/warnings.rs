//! Compile-time warnings about generated alerts that no peer gives: alerts that
//! fire too late or on a single bad slice, forecasts that cannot warn before the
//! breach, guards that do nothing, ceilings that cannot be exceeded.
//!
//! Invariants: every warning has a code in [`CODES_LIST`] (W05xx: emit), a span from
//! the model, a label saying what is wrong there and a help saying how to fix it.
//! The checker already reports an alert that can never fire (W0005), a window
//! not shorter than the objective window (E0403) and a latency threshold that is
//! not a declared bucket (W0003); nothing here repeats them.

use crate::base::diagnostic::{CodeInfo, Diagnostic};
use crate::compiler::ir::{Budget, Decimal, Duration, ObjectiveKind, Program};

/// Scrape plus rule-evaluation delay assumed before any alert can see a sample.
pub const DETECTION_DELAY: Duration = Duration::minutes(2);

pub static CODES_LIST: &[CodeInfo] = &[
    CodeInfo {
        code: "W0501",
        title: "error budget runs out before a page can fire",
        explanation: "\
With every request failing, the whole error budget of an objective lasts
`window × (1 - objective)`: 26 seconds for 99.999% over 30 days. The fastest page
alert needs its long-window error ratio above `factor × budget` (plus its `for`, a
scrape and a rule evaluation), which takes longer than that, so the budget is gone
before anyone is paged.

Example:

    availability \"api\" { objective = 99.999%  window = 30d  ... }

Fix: lower the objective, lengthen the window, or page on a shorter window with a
`page { burn { long = 5m, short = 1m } }` block; the SRE workbook's advice for
extreme goals is to alert on the raw error rate instead.",
    },
    CodeInfo {
        code: "W0502",
        title: "min_traffic has no effect here",
        explanation: "\
`min_traffic` keeps page alerts quiet while too few events happen. An accuracy
objective counts time slices of a gauge, not events, so there is no traffic to
compare with and no guard is generated.

Example:

    accuracy \"precision\" { metric = model_precision  min = 0.9  min_traffic = 10 per 5m ... }

Fix: remove `min_traffic`.",
    },
    CodeInfo {
        code: "W0503",
        title: "one bad slice fires the alert",
        explanation: "\
An accuracy objective's error ratio over a window is the fraction of the window
covered by bad slices. When one slice is longer than `factor × budget` of a burn
window's long window, a single bad sample fills enough of the window to fire that
alert: the alert pages on one blip rather than on a sustained burn.

Example: `slice = 1h` with the default page window 1h/5m at 14.4× a 5% budget
(one bad slice is 100% of the hour, the threshold 72%).

Fix: use a shorter `slice`, or longer burn windows for this objective.",
    },
    CodeInfo {
        code: "W0504",
        title: "forecast cannot warn before the breach",
        explanation: "\
A forecast alert fires when `predict_linear` crosses the limit within the horizon
and has done so for `for`. For a steady trend the breach comes `horizon` after the
prediction first crosses, so the warning arrives `horizon - for` before it; the
forecast alert stops once the breach is there (the threshold alert takes over).
With a horizon not longer than `for` the forecast alert can never fire first.

Example:

    drift \"x\" { score = s  max = 0.3  for = 1h  forecast { lookback = 6h, horizon = 30m } }

Fix: a horizon several times longer than `for`.",
    },
    CodeInfo {
        code: "W0505",
        title: "utilization ceiling can never be exceeded",
        explanation: "\
GPU utilization is reported between 0 and 100 percent, and the alert fires when it
is strictly above `max_utilization`; with 100% it never fires.

Fix: a ceiling below 100%, such as 90%.",
    },
    CodeInfo {
        code: "W0506",
        title: "no unit test generated for this objective",
        explanation: "\
mlslo generates a promtool unit test for each objective by building input series
that match its selectors. When a selector's regular-expression matchers cannot be
satisfied by a generated label value (or the error selector cannot be told apart
from the total selector), that objective gets no generated test; its rules are
still generated.

Fix: nothing is required; simpler matchers (`=`, or regexes with a literal
alternative) let mlslo test the alerts.",
    },
    CodeInfo {
        code: "W0507",
        title: "webhook url_file needs a newer alertmanager",
        explanation: "\
A receiver's webhook reads its URL from a file (`url_file`), a key Alertmanager
added in 0.26. The generated configuration targets Alertmanager 0.25 (Debian
bookworm) unless the routing block says otherwise, and 0.25 refuses unknown
keys, so the webhook is left out of `alertmanager.yml` (and named in its header).

Example:

    receiver \"tickets\" { webhook { url_file = \"/etc/alertmanager/hook-url\" } }

Fix: declare the release you run, `alertmanager_version = \"0.26\"` (or newer),
in the routing block; or, for 0.25, write `url = \"https://...\"` with no
credentials in it.",
    },
];

/// Every emit-time warning of the program, not sorted.
pub fn check(program: &Program) -> Vec<Diagnostic> {
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
                    if let Some(min_traffic) = &budget.min_traffic {
                        let _ = min_traffic;
                        found.push(
                            Diagnostic::warning(
                                "W0502",
                                "min_traffic has no effect here",
                                span,
                                "accuracy objectives count time slices, not events",
                            )
                            .with_help("remove `min_traffic` from this objective"),
                        );
                    }
                    if budget.alerts_enabled {
                        for (tier, burn) in budget.burn_windows() {
                            let threshold = burn.factor.to_f64() * budget.error_budget.to_f64();
                            let one_slice = slice.millis as f64 / burn.long.millis as f64;
                            if threshold < 1.0 && one_slice > threshold {
                                found.push(
                                    Diagnostic::warning(
                                        "W0503",
                                        "one bad slice fires the alert",
                                        burn.span.unwrap_or(span),
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
                            Diagnostic::warning(
                                "W0505",
                                "utilization ceiling can never be exceeded",
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
            Diagnostic::warning(
                "W0501",
                "error budget runs out before a page can fire",
                span,
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
            Diagnostic::warning(
                "W0504",
                "forecast cannot warn before the breach",
                span,
                format!("the horizon {horizon} is not longer than `for` ({for_})"),
            )
            .with_help("use a horizon several times longer than `for`"),
        );
    }
}
