//! Scenarios of the alerts on the budget left (`ErrorBudgetLow`,
//! `ErrorBudgetExhaustionForecast`) of latency and availability objectives:
//! the low-budget alert fires once more than the share is spent and stays quiet
//! while less is; the forecast fires when a burn that started a lookback ago
//! empties the budget within the horizon and stays quiet under a burn eight
//! times slower. Grouped, one group burns beside a healthy one and only it
//! fires.
//!
//! The alerts say their value in words (`humanizePercentage`,
//! `humanizeDuration`), so a test must know the value: [`RemainingModel`] takes
//! the remaining budget at each step from the scenario's recorded series
//! ([`RecordedModel`](super::recorded_model::RecordedModel)) and fits it by least
//! squares as `predict_linear` and `deriv` do. The expectation is rendered by
//! the Go template engine from that value, and a check is kept only where the
//! rendering cannot change with the last bits of a float: a value that clears
//! every comparison by a wide margin, and a rendering that a value a few bits
//! away would not change.
//!
//! Invariant: a forecast scenario is written only when the sample interval
//! divides the lookback, so the fit sees whole steps; otherwise it is left out
//! (the alert is still checked by `promtool check rules`).

use std::collections::BTreeMap;

use crate::compiler::emit::prometheus::AlertRule;
use crate::compiler::emit::promtool_test::generator::Generator;
use crate::compiler::emit::promtool_test::recorded_model::STABLE_RENDERING;
use crate::compiler::emit::promtool_test::scenario_cache::ScenarioCache;
use crate::compiler::emit::promtool_test::test_file::{Check, ExpectedAlert, TestCase};
use crate::compiler::ir::{naming, Budget, Decimal, Duration};
use crate::prometheus::gotemplate::{expand_alert, AlertData, Env};

/// Events per sample interval in these scenarios (no guard to clear).
const TRAFFIC: i64 = 1000;

/// How far a modelled value must be from what would change the outcome, as a
/// fraction of it.
const MARGIN: f64 = 1e-6;

/// The step at which the low-budget checks look, well after the first rate.
const LOW_CHECK_STEP: i64 = 10;

impl Generator<'_> {
    /// The scenarios of the budget alerts of `budget`, among `alerts` (the rules
    /// of the objective's budget group); empty when it has none, or when they
    /// cannot be modelled exactly.
    pub fn budget_alert_cases(
        &self,
        budget: &Budget,
        alerts: &[&AlertRule],
        cache: &mut ScenarioCache,
    ) -> Vec<TestCase> {
        if self.interval <= 0 {
            return Vec::new();
        }
        let mut cases = Vec::new();
        for alert in alerts {
            let found = if alert.alert == naming::ALERT_BUDGET_LOW {
                budget
                    .budget_alerts
                    .remaining_below
                    .and_then(|below| self.low_cases(budget, below, alert, cache))
            } else if alert.alert == naming::ALERT_BUDGET_EXHAUSTION {
                budget.budget_alerts.exhaustion.and_then(|forecast| {
                    self.exhaustion_cases(budget, forecast.lookback, forecast.horizon, alert, cache)
                })
            } else {
                None
            };
            cases.extend(found.unwrap_or_default());
        }
        cases
    }

    /// Errors at a ratio leaving half the share from the first step: fires;
    /// errors leaving half of the rest: quiet.
    fn low_cases(
        &self,
        budget: &Budget,
        below: Decimal,
        alert: &AlertRule,
        cache: &mut ScenarioCache,
    ) -> Option<Vec<TestCase>> {
        let two = Decimal::from_integer(2);
        let spent_firing = Decimal::ONE.checked_sub(below.div_rounded(two)?.0)?;
        let spent_quiet =
            Decimal::ONE.checked_sub(Decimal::ONE.checked_add(below)?.div_rounded(two)?.0)?;
        let mut cases = Vec::new();
        for (spent, fires) in [(spent_firing, true), (spent_quiet, false)] {
            let level = budget.error_budget.checked_mul(spent)?;
            if level > Decimal::ONE {
                continue;
            }
            let model = self.remaining_model(budget, 0, level, LOW_CHECK_STEP, cache)?;
            let remaining = model.remaining(LOW_CHECK_STEP)?;
            let threshold = below.to_f64();
            let sure = if fires {
                remaining < threshold * (1.0 - MARGIN)
            } else {
                remaining > threshold * (1.0 + MARGIN)
            };
            if !sure {
                continue;
            }
            let group = self.burning_group()?;
            let series = self.scenario_series(0, LOW_CHECK_STEP + 1, level, cache)?;
            let eval_time = LOW_CHECK_STEP * self.interval;
            let check = if fires {
                self.rendered(alert, &group, remaining, eval_time)?
            } else {
                self.expect_none(alert, eval_time)
            };
            cases.push(TestCase {
                name: format!(
                    "{}/{}: {} {} with {}% of the budget spent",
                    self.service.name,
                    self.objective.name,
                    alert.alert,
                    if fires { "fires" } else { "stays quiet" },
                    spent.scaled_by_power_of_ten(2)?,
                ),
                series,
                checks: vec![check],
            });
        }
        Some(cases)
    }

    /// Healthy for one lookback, then a burn: at the first step where the model
    /// is sure the fit empties the budget within the horizon, the forecast
    /// fires; at that step, under a burn eight times slower, it is quiet.
    fn exhaustion_cases(
        &self,
        budget: &Budget,
        lookback: Duration,
        horizon: Duration,
        alert: &AlertRule,
        cache: &mut ScenarioCache,
    ) -> Option<Vec<TestCase>> {
        if lookback.millis % self.interval != 0 {
            return None;
        }
        let lookback_steps = lookback.millis / self.interval;
        let horizon_seconds = horizon.as_seconds().to_f64();
        let last_step = 2 * lookback_steps + 1;
        let group = self.burning_group()?;
        let mut found = None;
        'search: for multiplier in [1, 2, 4, 8, 16, 32, 64] {
            let level = budget
                .error_budget
                .checked_mul(Decimal::from_integer(multiplier))?;
            if level > Decimal::ONE {
                break;
            }
            let model = self.remaining_model(budget, lookback_steps, level, last_step, cache)?;
            for step in lookback_steps + 1..=last_step {
                if let Forecast::Fires(seconds_left) =
                    model.forecast(step, lookback_steps, horizon_seconds)
                {
                    let eval_time = step * self.interval;
                    if let Some(check) = self.rendered(alert, &group, seconds_left, eval_time) {
                        found = Some((level, step, check));
                        break 'search;
                    }
                }
            }
        }
        let (level, step, check) = found?;
        let eval_time = step * self.interval;
        let series = self.scenario_series(lookback_steps, step + 1, level, cache)?;
        let mut cases = vec![TestCase {
            name: format!(
                "{}/{}: {} fires {} into a burn at {level} error ratio",
                self.service.name,
                self.objective.name,
                alert.alert,
                Duration::from_millis(eval_time - lookback_steps * self.interval)
            ),
            series,
            checks: vec![
                self.expect_none(alert, lookback_steps * self.interval),
                check,
            ],
        }];
        let slow = level.div_rounded(Decimal::from_integer(8))?.0;
        let model = self.remaining_model(budget, lookback_steps, slow, step, cache)?;
        if model.forecast(step, lookback_steps, horizon_seconds) == Forecast::SurelyQuiet {
            let series = self.scenario_series(lookback_steps, step + 1, slow, cache)?;
            cases.push(TestCase {
                name: format!(
                    "{}/{}: {} stays quiet at {slow} error ratio",
                    self.service.name, self.objective.name, alert.alert
                ),
                series,
                checks: vec![self.expect_none(alert, eval_time)],
            });
        }
        Some(cases)
    }

    /// The labels the alert gets from a scenario's series: none, or grouped, the
    /// group `a` that burns beside a healthy group `b`; `None` when a selector
    /// pins a group label.
    fn burning_group(&self) -> Option<BTreeMap<String, String>> {
        if !self.objective.is_grouped() {
            return Some(BTreeMap::new());
        }
        let [burning, _] = self.two_groups()?;
        Some(burning)
    }

    /// The input series of a scenario: healthy for `healthy_steps`, then errors
    /// at `level`, `steps` samples after the first; grouped, in group `a`, with
    /// group `b` healthy beside it.
    fn scenario_series(
        &self,
        healthy_steps: i64,
        steps: i64,
        level: Decimal,
        cache: &mut ScenarioCache,
    ) -> Option<Vec<(String, String)>> {
        let traffic = Decimal::from_integer(TRAFFIC);
        if !self.objective.is_grouped() {
            return self.counter_series(
                healthy_steps,
                steps,
                traffic,
                level,
                &BTreeMap::new(),
                cache,
            );
        }
        let [burning, healthy] = self.two_groups()?;
        let mut series =
            self.counter_series(healthy_steps, steps, traffic, level, &burning, cache)?;
        series.extend(self.counter_series(
            healthy_steps,
            steps,
            traffic,
            Decimal::ZERO,
            &healthy,
            cache,
        )?);
        Some(series)
    }

    /// `alert` firing at `eval_time` with `value`, its templates rendered as
    /// Prometheus renders them; `None` when a value a few bits away would
    /// render differently, so the check would hang on float rounding.
    fn rendered(
        &self,
        alert: &AlertRule,
        group: &BTreeMap<String, String>,
        value: f64,
        eval_time: i64,
    ) -> Option<Check> {
        let mut labels = group.clone();
        labels.extend(alert.labels.clone());
        let env = Env {
            query: None,
            external_url: None,
        };
        let render = |value: f64| -> Vec<(String, String)> {
            let data = AlertData {
                labels: labels.clone(),
                value,
                ..AlertData::default()
            };
            alert
                .templates
                .iter()
                .map(|(key, template)| {
                    (
                        key.clone(),
                        expand_alert(&alert.alert, template, &data, &env),
                    )
                })
                .collect()
        };
        let mut annotations = render(value);
        let stable = [1.0 - STABLE_RENDERING, 1.0 + STABLE_RENDERING]
            .iter()
            .all(|factor| render(value * factor) == annotations);
        if !stable {
            return None;
        }
        annotations.extend(alert.annotations.clone());
        Some(Check {
            eval_time,
            alertname: alert.alert.clone(),
            expected: vec![ExpectedAlert {
                labels,
                annotations,
            }],
        })
    }

    fn remaining_model(
        &self,
        budget: &Budget,
        healthy_steps: i64,
        level: Decimal,
        last_step: i64,
        cache: &mut ScenarioCache,
    ) -> Option<RemainingModel> {
        let recorded = self.recorded_model(
            budget,
            (healthy_steps, last_step * self.interval),
            Decimal::from_integer(TRAFFIC),
            level,
            cache,
        )?;
        Some(RemainingModel {
            remaining: (0..=last_step)
                .map(|step| recorded.remaining(step))
                .collect(),
            interval_seconds: self.interval as f64 / 1000.0,
        })
    }
}

/// The remaining budget at each evaluation step of a scenario (none at step 0,
/// where no rate has two samples yet).
struct RemainingModel {
    remaining: Vec<Option<f64>>,
    interval_seconds: f64,
}

#[derive(Debug, PartialEq)]
enum Forecast {
    /// Fires, surely, with this many seconds left.
    Fires(f64),
    SurelyQuiet,
    Unsure,
}

impl RemainingModel {
    fn remaining(&self, step: i64) -> Option<f64> {
        *self.remaining.get(usize::try_from(step).ok()?)?
    }

    /// The exhaustion forecast at `step`: a least-squares line through the
    /// remaining budget of the last `lookback_steps` steps (both ends included,
    /// as promtool 2.42 selects a range), solved for zero.
    fn forecast(&self, step: i64, lookback_steps: i64, horizon_seconds: f64) -> Forecast {
        // `and R offset lookback`: no sample a lookback ago, no alert.
        if self.remaining(step - lookback_steps).is_none() {
            return Forecast::SurelyQuiet;
        }
        let points: Vec<(f64, f64)> = (step - lookback_steps..=step)
            .filter_map(|at| {
                let value = self.remaining(at)?;
                Some(((at - step) as f64 * self.interval_seconds, value))
            })
            .collect();
        let n = points.len() as f64;
        let mean_x = points.iter().map(|(x, _)| x).sum::<f64>() / n;
        let mean_y = points.iter().map(|(_, y)| y).sum::<f64>() / n;
        let covariance: f64 = points
            .iter()
            .map(|(x, y)| (x - mean_x) * (y - mean_y))
            .sum();
        let variance: f64 = points
            .iter()
            .map(|(x, _)| (x - mean_x) * (x - mean_x))
            .sum();
        if variance <= 0.0 {
            return Forecast::Unsure;
        }
        let slope = covariance / variance;
        let now = mean_y - slope * mean_x;
        if now <= -MARGIN || slope >= MARGIN * MARGIN {
            return Forecast::SurelyQuiet;
        }
        if now <= MARGIN || slope > -MARGIN * MARGIN {
            return Forecast::Unsure;
        }
        let seconds_left = now / -slope;
        if seconds_left > horizon_seconds * (1.0 + MARGIN) {
            return Forecast::SurelyQuiet;
        }
        if seconds_left >= 1.0 && seconds_left < horizon_seconds * (1.0 - MARGIN) {
            Forecast::Fires(seconds_left)
        } else {
            Forecast::Unsure
        }
    }
}
