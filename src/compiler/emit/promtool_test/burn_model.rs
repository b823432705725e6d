//! The model that predicts burn-rate alerts: each window's error ratio as a
//! function of time under a step burn, and from it the state of every
//! `ErrorBudgetBurn` rule at a step.
//!
//! A burn starts at `T0` and goes on at a constant level. A window's error ratio
//! is the share of the window, clipped to the data, that lies after `T0`, times
//! the level; it is computed with `T0` shifted by two sample intervals either
//! way to cover Prometheus' extrapolation. A window is predicted firing only
//! when the model says so with a margin ([`RATIO_MARGIN`]), quiet only when it
//! is quiet with a margin, and unknown otherwise; a step where any rule of the
//! objective is unknown is never used as a check. Ratios only grow while a burn
//! goes on, so a condition that holds at `t - for` holds until `t`.
//!
//! A window chained from the recorded 5m rates (counter kinds, from
//! [`CHAINED_FROM`] on) sees the step through rates that each cover the 5
//! minutes before them: it lags the raw ratio by up to 5 minutes, so its lower
//! estimate starts the burn 5 minutes later. Its sum starts at the first
//! recorded rate, whose 5 minutes are partly before the data: its upper
//! estimate leaves those minutes out of the window.

use crate::compiler::emit::prometheus::{AlertRule, CHAINED_FROM};
use crate::compiler::emit::promtool_test::test_file::{Check, ExpectedAlert};
use crate::compiler::ir::naming::CHAINED_RATE_WINDOW;
use crate::compiler::ir::{Budget, BurnWindow, Duration, Tier};

/// Relative margin the model keeps from a threshold before it predicts anything.
const RATIO_MARGIN: f64 = 0.03;

/// The model at one sample interval (milliseconds).
#[derive(Clone, Copy)]
pub(super) struct BurnModel {
    pub interval: i64,
    /// Whether windows from [`CHAINED_FROM`] on are chained from the recorded 5m
    /// rates (the kinds that count events).
    pub chains_long_windows: bool,
}

/// A step burn: the bad fraction is `level` from `t0` on (seconds), 0 before.
#[derive(Clone, Copy)]
pub(super) struct Burn {
    pub t0: f64,
    pub level: f64,
}

#[derive(Clone, Copy, PartialEq, Debug)]
pub(super) enum State {
    Firing,
    Quiet,
    Unknown,
}

/// One `ErrorBudgetBurn` rule with the burn windows it covers.
pub(super) struct BurnRule<'a> {
    pub rule: &'a AlertRule,
    pub tier: Tier,
    pub windows: Vec<BurnWindow>,
    pub for_: Duration,
}

/// Where [`BurnModel::find_check`] looks: under `burn` at a constant `rate` of
/// events per second, from `range.0` to `range.1` (milliseconds), skipping the
/// steps before any rule `must_fire` picks can fire.
#[derive(Clone, Copy)]
pub(super) struct Search<'a> {
    pub burn: Burn,
    pub rate: f64,
    pub range: (i64, i64),
    pub must_fire: Option<&'a dyn Fn(&BurnRule<'_>) -> bool>,
}

/// The annotations a firing rule has at a time (milliseconds); `None` where
/// they cannot be told surely.
pub(super) type Annotate<'a> = dyn Fn(&BurnRule<'_>, i64) -> Option<Vec<(String, String)>> + 'a;

/// The traffic guard of one burn window: at least `count` events in `window`
/// seconds.
#[derive(Clone, Copy)]
pub(super) struct Guard {
    pub count: f64,
    pub window: f64,
}

impl BurnModel {
    /// The ratio over `window` seconds at `t` for a step burn starting at `t0`,
    /// over data that starts at `data_start`.
    fn ratio(t0: f64, level: f64, window: f64, t: f64, data_start: f64) -> f64 {
        let start = (t - window).max(data_start);
        let length = t - start;
        if length <= 0.0 {
            return 0.0;
        }
        level * (t - t0.max(start)).max(0.0) / length
    }

    /// The highest and the lowest ratio a window of `length` may have at `t`.
    fn ratio_range(&self, burn: Burn, length: Duration, t: f64) -> (f64, f64) {
        let delta = 2.0 * seconds(self.interval);
        let window = seconds(length.millis);
        let (lag, data_start) = if self.chains_long_windows && length >= CHAINED_FROM {
            let lag = seconds(CHAINED_RATE_WINDOW.millis);
            (lag, lag + delta)
        } else {
            (0.0, 0.0)
        };
        (
            Self::ratio(burn.t0 - delta, burn.level, window, t, data_start),
            Self::ratio(burn.t0 + delta + lag, burn.level, window, t, 0.0),
        )
    }

    pub fn window_state(&self, burn: Burn, window: &BurnWindow, threshold: f64, t: f64) -> State {
        let (short_high, short_low) = self.ratio_range(burn, window.short, t);
        let (long_high, long_low) = self.ratio_range(burn, window.long, t);
        if short_high < threshold * (1.0 - RATIO_MARGIN)
            || long_high < threshold * (1.0 - RATIO_MARGIN)
        {
            State::Quiet
        } else if t >= 3.0 * seconds(self.interval)
            && short_low > threshold * (1.0 + RATIO_MARGIN)
            && long_low > threshold * (1.0 + RATIO_MARGIN)
        {
            State::Firing
        } else {
            State::Unknown
        }
    }

    /// A time (seconds) before which [`Self::window_state`] is never `Firing` for
    /// this burn: a window's ratio is at most `level * (x - t0') / min(x, long)`,
    /// so it clears the margin only once `x - t0'` is a share of the window, and
    /// never when the margin is above `level`.
    pub fn window_firing_bound(&self, burn: Burn, window: &BurnWindow, threshold: f64) -> f64 {
        let interval = seconds(self.interval);
        if threshold * (1.0 + RATIO_MARGIN) >= burn.level {
            return f64::INFINITY;
        }
        let burn_start = burn.t0 + 2.0 * interval;
        let longest = seconds(window.short.millis.max(window.long.millis));
        let needed =
            threshold * (1.0 + RATIO_MARGIN) * longest.min(burn_start.max(0.0)) / burn.level;
        (burn_start + needed).max(3.0 * interval)
    }

    /// A step (milliseconds) before which `rule` is never `Firing` for this burn.
    fn rule_firing_bound(&self, rule: &BurnRule<'_>, thresholds: &[f64], burn: Burn) -> i64 {
        let earliest = rule
            .windows
            .iter()
            .zip(thresholds)
            .map(|(window, threshold)| self.window_firing_bound(burn, window, *threshold))
            .fold(f64::INFINITY, f64::min);
        if !earliest.is_finite() {
            return i64::MAX;
        }
        (earliest * 1000.0) as i64 + rule.for_.millis + self.interval
    }

    /// Whether the guard lets the window fire at a constant `rate` (events per second).
    fn guard_state(&self, guard: Option<Guard>, rate: f64, t: f64) -> State {
        let Some(guard) = guard else {
            return State::Firing;
        };
        let full = rate * guard.window;
        if full * 2.0 < guard.count {
            State::Quiet
        } else if t >= guard.window + 2.0 * seconds(self.interval) && full * 0.5 > guard.count {
            State::Firing
        } else {
            State::Unknown
        }
    }

    fn rule_state(
        &self,
        rule: &BurnRule<'_>,
        (thresholds, guards): (&[f64], &[Option<Guard>]),
        burn: Burn,
        rate: f64,
        t: i64,
    ) -> State {
        let interval = self.interval;
        let firing_from = seconds(t - rule.for_.millis - interval);
        let quiet_at = seconds(t - (rule.for_.millis - interval).max(0));
        if firing_from < 0.0 {
            return State::Unknown;
        }
        // Each window's branch: its ratios above the threshold and its guard met.
        let states = |at: f64| {
            rule.windows.iter().zip(thresholds).zip(guards).map(
                move |((window, threshold), guard)| match (
                    self.window_state(burn, window, *threshold, at),
                    self.guard_state(*guard, rate, at),
                ) {
                    (State::Quiet, _) | (_, State::Quiet) => State::Quiet,
                    (State::Firing, State::Firing) => State::Firing,
                    _ => State::Unknown,
                },
            )
        };
        if states(quiet_at).all(|state| state == State::Quiet) {
            return State::Quiet;
        }
        if states(firing_from).any(|state| state == State::Firing) {
            return State::Firing;
        }
        State::Unknown
    }

    /// The first time from `start` (stepping by the interval, up to `limit`) where
    /// every burn rule is predictable, `accept` holds and `annotate` knows the
    /// annotations of every firing rule (a rule's annotations at a time, `None`
    /// where its value cannot be written surely); with the firing alerts.
    /// When `accept` needs one of the rules `must_fire` picks to be firing, the
    /// steps before any of them can fire are skipped (most of a slow window's wait).
    pub fn find_check(
        &self,
        rules: &BurnRules<'_>,
        search: Search<'_>,
        accept: impl Fn(&[(&BurnRule<'_>, State)]) -> bool,
        annotate: &Annotate<'_>,
    ) -> Option<Check> {
        let Search {
            burn,
            rate,
            range: (start, limit),
            must_fire,
        } = search;
        let BurnRules {
            rules,
            thresholds,
            guards,
            burn_alert,
        } = rules;
        let mut start = start;
        if let Some(must_fire) = must_fire {
            let earliest = rules
                .iter()
                .zip(thresholds)
                .filter(|(rule, _)| must_fire(rule))
                .map(|(rule, thresholds)| self.rule_firing_bound(rule, thresholds, burn))
                .min()
                .unwrap_or(i64::MAX);
            // One interval early, so float rounding in the bound cannot skip a step.
            start = start.max(earliest.saturating_sub(self.interval));
        }
        let mut t = start.div_euclid(self.interval) * self.interval;
        // One buffer for every step: this loop runs hundreds of times per scenario.
        let mut states: Vec<(&BurnRule<'_>, State)> = Vec::with_capacity(rules.len());
        while t <= limit {
            states.clear();
            for ((rule, thresholds), guards) in rules.iter().zip(thresholds).zip(guards) {
                let state = self.rule_state(rule, (thresholds, guards), burn, rate, t);
                if state == State::Unknown {
                    break;
                }
                states.push((rule, state));
            }
            if states.len() == rules.len() && accept(&states) {
                let expected: Option<Vec<ExpectedAlert>> = states
                    .iter()
                    .filter(|(_, state)| *state == State::Firing)
                    .map(|(rule, _)| {
                        Some(ExpectedAlert {
                            labels: rule.rule.labels.clone(),
                            annotations: annotate(rule, t)?,
                        })
                    })
                    .collect();
                if let Some(mut expected) = expected {
                    expected.sort();
                    expected.dedup();
                    return Some(Check {
                        eval_time: t,
                        alertname: (*burn_alert).to_owned(),
                        expected,
                    });
                }
            }
            t += self.interval;
        }
        None
    }
}

/// Milliseconds as seconds, the model's unit of time.
pub(super) fn seconds(millis: i64) -> f64 {
    millis as f64 / 1000.0
}

/// An objective's `ErrorBudgetBurn` rules, in the order the rule file has them
/// (pages then tickets, one rule per window pair), with the window each covers.
pub(super) struct BurnRules<'a> {
    pub rules: Vec<BurnRule<'a>>,
    /// Each window's error-ratio threshold, converted once rather than at every step.
    pub thresholds: Vec<Vec<f64>>,
    /// Each window's traffic guard.
    pub guards: Vec<Vec<Option<Guard>>>,
    /// The `alertname` of every rule.
    pub burn_alert: &'a str,
}

impl<'a> BurnRules<'a> {
    /// The burn rules among `alerts`, for `budget`; `counts_events` is false for
    /// accuracy, whose rules have no traffic guard.
    pub fn of(alerts: &[&'a AlertRule], budget: &'a Budget, counts_events: bool) -> BurnRules<'a> {
        let burn_alerts: Vec<&AlertRule> = alerts
            .iter()
            .copied()
            .filter(|alert| alert.alert == budget.burn_alert)
            .collect();
        let mut rules = Vec::new();
        let mut next = burn_alerts.into_iter();
        for tier in [Tier::Page, Tier::Ticket] {
            let windows = match tier {
                Tier::Page => &budget.page,
                Tier::Ticket => &budget.ticket,
            };
            for burn in windows {
                if let Some(rule) = next.next() {
                    rules.push(BurnRule {
                        rule,
                        tier,
                        windows: vec![*burn],
                        for_: burn.for_,
                    });
                }
            }
        }
        let budget_fraction = budget.error_budget.to_f64();
        let thresholds = rules
            .iter()
            .map(|rule| {
                rule.windows
                    .iter()
                    .map(|window| window.factor.to_f64() * budget_fraction)
                    .collect()
            })
            .collect();
        let guards = rules
            .iter()
            .map(|rule| {
                rule.windows
                    .iter()
                    .map(|window| {
                        budget
                            .min_traffic_of(window)
                            .filter(|_| counts_events)
                            .map(|min_traffic| Guard {
                                count: min_traffic.count.to_f64(),
                                window: seconds(min_traffic.window.millis),
                            })
                    })
                    .collect()
            })
            .collect();
        BurnRules {
            rules,
            thresholds,
            guards,
            burn_alert: &budget.burn_alert,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compiler::emit::prometheus::Rule;
    use crate::compiler::ir::ObjectiveKind;

    /// The steps `find_check` skips: no window may fire before its bound, for burns
    /// from below the threshold to a total outage, long and short windows, and
    /// windows longer than the healthy lead-in.
    #[test]
    fn no_window_fires_before_its_firing_bound() {
        let source = r#"
service "s" {
  team = "t"
  availability "a" {
    errors = x_total{code="5"}
    total = x_total
    objective = 99.9%
    window = 90d
    page {
      burn { long = 1h, short = 5m, factor = 14.4, for = 2m }
      burn { long = 6h, short = 30m, factor = 6 }
      burn { long = 2d, short = 4h, factor = 2 }
    }
    ticket { burn { long = 3d, short = 6h, factor = 1 } }
  }
}
"#;
        let (program, _) = crate::compiler::emit::tests::checked(source);
        let service = &program.services[0];
        let objective = &service.objectives[0];
        let groups = crate::compiler::emit::prometheus::objective_rule_groups(
            service,
            crate::compiler::emit::prometheus::WhichRules::AlertingOnly,
        );
        // The service has one objective, so its alert rules are the objective's.
        let alerts: Vec<&AlertRule> = groups
            .iter()
            .flat_map(|group| group.rules.iter())
            .filter_map(|rule| match rule {
                Rule::Alerting(alert) => Some(alert),
                Rule::Recording { .. } => None,
            })
            .collect();
        let ObjectiveKind::Availability { budget, .. } = &objective.kind else {
            panic!("availability expected");
        };
        let model = BurnModel {
            interval: 60_000,
            chains_long_windows: true,
        };
        let budget_fraction = budget.error_budget.to_f64();
        let mut checked = 0;
        for rule in BurnRules::of(&alerts, budget, true).rules {
            for window in &rule.windows {
                let threshold = window.factor.to_f64() * budget_fraction;
                for level in [0.5, 0.97, 1.04, 1.25, 2.0, 10.0, 1000.0] {
                    for t0_minutes in [0.0, 30.0, 362.0, 2882.0] {
                        let burn = Burn {
                            t0: t0_minutes * 60.0,
                            level: (threshold * level).min(1.0),
                        };
                        let bound = model.window_firing_bound(burn, window, threshold);
                        let last = if bound.is_finite() {
                            bound
                        } else {
                            10.0 * 86_400.0
                        };
                        // Every 10 s up to the bound: never firing there.
                        let mut x = 0.0;
                        while x < last {
                            let state = model.window_state(burn, window, threshold, x);
                            assert_ne!(
                                state,
                                State::Firing,
                                "{window:?} {level} {t0_minutes} at {x} (bound {bound})"
                            );
                            x += 10.0;
                            checked += 1;
                        }
                        // A burn well above the threshold fires within a window of the bound.
                        if level >= 1.25 && burn.level < 1.0 {
                            let soon = bound + seconds(window.long.millis) + 600.0;
                            assert_eq!(
                                model.window_state(burn, window, threshold, soon),
                                State::Firing
                            );
                        }
                    }
                }
            }
        }
        assert!(checked > 100_000, "{checked}");
    }
}
