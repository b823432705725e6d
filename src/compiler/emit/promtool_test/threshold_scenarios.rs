//! Scenarios of the objectives that compare a gauge with a limit: drift and gpu
//! alerts fire once the value has been over the limit for `for` and stay firing
//! through a one-sample dip (`keep_firing_for`); a rising value with a full
//! `lookback` of history is forecast before it crosses, and the drift forecast
//! hands over to the threshold alert at the evaluation where that fires; the
//! same ramp on a series younger than `lookback` is not forecast; a freshness
//! alert fires when no job has succeeded for `max_age` and stays quiet while jobs
//! succeed.
//!
//! Invariant: a forecast scenario's ramp crosses the limit only after its check
//! time, half a sample between two samples (so promtool's float steps cannot
//! land on the limit), so the forecast is what fires; a horizon too short for
//! that gets no forecast scenario. Values above and below a limit differ from it by
//! a margin the float arithmetic of Prometheus keeps: 1, or near a millionth of a
//! limit beyond a million (`max = 123456789012345678901` plus 1 is the same double).

use std::collections::BTreeMap;

use crate::compiler::emit::prometheus::AlertRule;
use crate::compiler::emit::promtool_test::generator::Generator;
use crate::compiler::emit::promtool_test::scenario_cache::ScenarioCache;
use crate::compiler::emit::promtool_test::test_file::{series_text, Check, TestCase};
use crate::compiler::ir::naming;
use crate::compiler::ir::{Decimal, Duration, ObjectiveKind};

/// A rising line that crosses a limit half a sample after `crossing_step - 1`.
struct Ramp {
    start: Decimal,
    slope: Decimal,
    /// The first sample above the limit.
    crossing_step: i64,
    /// When the forecast has been firing for `for` and the value is still below.
    check: i64,
}

impl Ramp {
    /// `steps + 1` samples of the ramp in promtool's notation.
    fn values(&self, steps: i64) -> String {
        format!("{}+{}x{steps}", self.start, self.slope)
    }
}

/// How far from `limit` the scenarios' values sit: 1, or for a limit beyond a
/// million the power of ten at or above a millionth of it, so that the values on
/// either side and each step of a forecast ramp between them stay distinct doubles
/// after promtool's additions (a double keeps about 16 digits).
fn margin_around(limit: Decimal) -> Option<Decimal> {
    const EXACT_RANGE: f64 = 1e6;
    let magnitude = limit.to_f64().abs();
    if magnitude <= EXACT_RANGE {
        return Some(Decimal::ONE);
    }
    let exponent = (magnitude / EXACT_RANGE).log10().ceil();
    Decimal::ONE.scaled_by_power_of_ten(exponent as i32)
}

impl Generator<'_> {
    /// The scenarios of a drift or gpu objective.
    pub fn threshold_cases(&self, cache: &mut ScenarioCache) -> Option<Vec<TestCase>> {
        let mut cases = Vec::new();
        let find = |name: &str| {
            self.alerts
                .iter()
                .find(|alert| alert.alert == name)
                .copied()
        };
        match &self.objective.kind {
            ObjectiveKind::Drift {
                score,
                max,
                for_,
                keep_firing_for,
                forecast,
            } => {
                let labels = self.solver.solve(&[score], cache)?;
                let series = series_text(&score.metric, &labels);
                let high = find(naming::ALERT_DRIFT_HIGH)?;
                let margin = margin_around(*max)?;
                let above = max.checked_add(margin)?;
                let eval = for_.millis + 2 * self.interval;
                let steps = eval / self.interval;
                let mut checks = vec![self.expect(high, &labels, eval)];
                let forecast_alert = find(naming::ALERT_DRIFT_FORECAST);
                if let Some(alert) = forecast_alert {
                    checks.push(self.expect_none(alert, eval));
                }
                let case = TestCase {
                    name: format!(
                        "{}/{}: drift above {max} fires after {for_}, the forecast stays quiet",
                        self.service.name, self.objective.name
                    ),
                    series: vec![(series.clone(), format!("{above}x{steps}"))],
                    checks,
                };
                if !self.solver.isolated(&case.series, cache) {
                    return None;
                }
                cases.push(case);
                let below = max.checked_sub(margin)?;
                cases.extend(self.one_group_case(
                    high,
                    (&score.metric, &labels),
                    (&format!("{above}x{steps}"), &format!("{below}x{steps}")),
                    eval,
                    cache,
                ));
                cases.extend(self.dip_case(
                    high,
                    &labels,
                    &series,
                    above,
                    below,
                    *for_,
                    *keep_firing_for,
                ));
                if let (Some(forecast), Some(alert)) = (forecast, forecast_alert) {
                    let first_check = forecast.lookback.millis + for_.millis + 4 * self.interval;
                    if let Some(ramp) = self.ramp(below, *max, forecast.horizon, *for_, first_check)
                    {
                        // The first evaluation at least `for` after the crossing sample.
                        let handover =
                            (ramp.crossing_step * self.interval + for_.millis + self.interval - 1)
                                .div_euclid(self.interval)
                                * self.interval;
                        let mut checks = vec![
                            self.expect(alert, &labels, ramp.check),
                            self.expect_none(high, ramp.check),
                        ];
                        if for_.millis >= self.interval {
                            checks.push(self.expect(alert, &labels, handover - self.interval));
                            checks.push(self.expect_none(high, handover - self.interval));
                        }
                        checks.push(self.expect(high, &labels, handover));
                        checks.push(self.expect_none(alert, handover));
                        cases.push(TestCase {
                            name: format!(
                                "{}/{}: a rising drift score is forecast before it crosses {max}, until the threshold alert fires",
                                self.service.name, self.objective.name
                            ),
                            series: vec![(series.clone(), ramp.values(handover / self.interval + 1))],
                            checks,
                        });
                    }
                    cases.extend(self.young_series_case(
                        alert,
                        below,
                        *max,
                        forecast.lookback,
                        forecast.horizon,
                        *for_,
                        |ramp, steps| vec![(series.clone(), ramp.values(steps))],
                    ));
                }
            }
            ObjectiveKind::Gpu {
                utilization,
                max_utilization,
                memory,
                for_,
                keep_firing_for,
                exhaustion,
            } => {
                let high = find(naming::ALERT_GPU_UTILIZATION_HIGH)?;
                let labels = self.solver.solve(&[utilization], cache)?;
                let util_series = series_text(&utilization.metric, &labels);
                let eval = for_.millis + 2 * self.interval;
                let steps = eval / self.interval;
                if *max_utilization < Decimal::HUNDRED {
                    let above = max_utilization
                        .checked_add(Decimal::HUNDRED)?
                        .div_rounded(Decimal::from_integer(2))?
                        .0;
                    let series = vec![(util_series.clone(), format!("{above}x{steps}"))];
                    if !self.solver.isolated(&series, cache) {
                        return None;
                    }
                    cases.push(TestCase {
                        name: format!(
                            "{}/{}: utilization above {max_utilization}% fires after {for_}",
                            self.service.name, self.objective.name
                        ),
                        series,
                        checks: vec![self.expect(high, &labels, eval)],
                    });
                    let below = max_utilization.div_rounded(Decimal::from_integer(2))?.0;
                    cases.extend(self.one_group_case(
                        high,
                        (&utilization.metric, &labels),
                        (&format!("{above}x{steps}"), &format!("{below}x{steps}")),
                        eval,
                        cache,
                    ));
                    cases.extend(self.dip_case(
                        high,
                        &labels,
                        &util_series,
                        above,
                        below,
                        *for_,
                        *keep_firing_for,
                    ));
                }
                if let (Some(memory), Some(forecast), Some(alert)) = (
                    memory,
                    exhaustion,
                    find(naming::ALERT_GPU_MEMORY_EXHAUSTION),
                ) {
                    let memory_labels = self.solver.solve(&[&memory.used, &memory.free], cache)?;
                    let capacity = Decimal::from_integer(81920);
                    let start = Decimal::from_integer(40960);
                    let used_series = series_text(&memory.used.metric, &memory_labels);
                    let free_series = series_text(&memory.free.metric, &memory_labels);
                    // free = capacity - used: the same ramp going down.
                    let memory_series = |ramp: &Ramp, steps: i64| -> Vec<(String, String)> {
                        let free_start = capacity.checked_sub(ramp.start).unwrap_or(Decimal::ZERO);
                        vec![
                            (used_series.clone(), ramp.values(steps)),
                            (
                                free_series.clone(),
                                format!("{free_start}-{}x{steps}", ramp.slope),
                            ),
                        ]
                    };
                    let first_check = forecast.lookback.millis + for_.millis + 4 * self.interval;
                    if let Some(ramp) =
                        self.ramp(start, capacity, forecast.horizon, *for_, first_check)
                    {
                        let series = memory_series(&ramp, ramp.check / self.interval);
                        if self.solver.isolated(&series, cache) {
                            cases.push(TestCase {
                                name: format!(
                                    "{}/{}: GPU memory of the pool running out within {} is forecast",
                                    self.service.name, self.objective.name, forecast.horizon
                                ),
                                series,
                                // The pool's forecast carries the objective's labels only.
                                checks: vec![self.expect(alert, &BTreeMap::new(), ramp.check)],
                            });
                        }
                    }
                    cases.extend(self.young_series_case(
                        alert,
                        start,
                        capacity,
                        forecast.lookback,
                        forecast.horizon,
                        *for_,
                        memory_series,
                    ));
                }
            }
            _ => {}
        }
        Some(cases)
    }

    /// A value over the limit long enough to fire, one sample back under it, then
    /// over again: with `keep_firing_for` the alert fires throughout.
    #[allow(clippy::too_many_arguments)]
    fn dip_case(
        &self,
        alert: &AlertRule,
        labels: &BTreeMap<String, String>,
        series: &str,
        above: Decimal,
        below: Decimal,
        for_: Duration,
        keep_firing_for: Duration,
    ) -> Option<TestCase> {
        if keep_firing_for.is_zero() {
            return None;
        }
        let before_dip = for_.millis / self.interval + 2;
        let dip = (before_dip + 1) * self.interval;
        Some(TestCase {
            name: format!(
                "{}/{}: a one-sample dip under the limit does not resolve the alert (keep_firing_for {keep_firing_for})",
                self.service.name, self.objective.name
            ),
            series: vec![(
                series.to_owned(),
                format!("{above}x{before_dip} {below} {above}x3"),
            )],
            checks: vec![
                self.expect(alert, labels, dip),
                self.expect(alert, labels, dip + self.interval),
            ],
        })
    }

    /// The forecast ramp on a series younger than `lookback`: not forecast
    /// (without the history guard its first minutes would be extrapolated).
    #[allow(clippy::too_many_arguments)]
    fn young_series_case(
        &self,
        alert: &AlertRule,
        start: Decimal,
        limit: Decimal,
        lookback: Duration,
        horizon: Duration,
        for_: Duration,
        series: impl Fn(&Ramp, i64) -> Vec<(String, String)>,
    ) -> Option<TestCase> {
        let ramp = self.ramp(start, limit, horizon, for_, for_.millis + 4 * self.interval)?;
        if ramp.check + self.interval >= lookback.millis {
            return None;
        }
        Some(TestCase {
            name: format!(
                "{}/{}: a series younger than the {lookback} lookback is not forecast",
                self.service.name, self.objective.name
            ),
            series: series(&ramp, ramp.check / self.interval),
            checks: vec![Check {
                eval_time: ramp.check,
                alertname: alert.alert.clone(),
                expected: Vec::new(),
            }],
        })
    }

    /// The scenarios of a freshness objective.
    pub fn freshness_cases(&self, cache: &mut ScenarioCache) -> Option<Vec<TestCase>> {
        let ObjectiveKind::Freshness {
            last_success,
            max_age,
            for_,
            ..
        } = &self.objective.kind
        else {
            return Some(Vec::new());
        };
        let alert = self
            .alerts
            .iter()
            .find(|alert| alert.alert == naming::ALERT_FRESHNESS_STALE)
            .copied()?;
        let labels = self.solver.solve(&[last_success], cache)?;
        let series = series_text(&last_success.metric, &labels);
        let eval = max_age.millis + for_.millis + 2 * self.interval;
        let steps = eval / self.interval;
        let stale = vec![(series.clone(), format!("0x{steps}"))];
        if !self.solver.isolated(&stale, cache) {
            return None;
        }
        let step_seconds = Duration::from_millis(self.interval).as_seconds();
        let one_group = self.one_group_case(
            alert,
            (&last_success.metric, &labels),
            (&format!("0x{steps}"), &format!("0+{step_seconds}x{steps}")),
            eval,
            cache,
        );
        Some(
            one_group
                .into_iter()
                .chain([
                    TestCase {
                        name: format!(
                            "{}/{}: no success for {max_age} fires",
                            self.service.name, self.objective.name
                        ),
                        series: stale,
                        checks: vec![self.expect(alert, &labels, eval)],
                    },
                    TestCase {
                        name: format!(
                            "{}/{}: a job succeeding every sample stays quiet",
                            self.service.name, self.objective.name
                        ),
                        series: vec![(series, format!("0+{step_seconds}x{steps}"))],
                        checks: vec![self.expect_none(alert, eval)],
                    },
                ])
                .collect(),
        )
    }

    /// A grouped objective's threshold alert with two groups: group `a` has the
    /// `firing` values and group `b` the `quiet` ones, and the alert fires for `a`
    /// alone at `eval`.
    fn one_group_case(
        &self,
        alert: &AlertRule,
        (metric, labels): (&str, &BTreeMap<String, String>),
        (firing, quiet): (&str, &str),
        eval: i64,
        cache: &mut ScenarioCache,
    ) -> Option<TestCase> {
        let [burning, healthy] = self.two_groups()?;
        let mut firing_labels = labels.clone();
        firing_labels.extend(burning);
        let mut quiet_labels = labels.clone();
        quiet_labels.extend(healthy);
        let series = vec![
            (series_text(metric, &firing_labels), firing.to_owned()),
            (series_text(metric, &quiet_labels), quiet.to_owned()),
        ];
        if !self.solver.isolated(&series, cache) {
            return None;
        }
        Some(TestCase {
            name: format!(
                "{}/{}: only group {} of {} crosses: {} fires for it alone",
                self.service.name,
                self.objective.name,
                series[0].0,
                self.objective.group_by.join(", "),
                alert.alert
            ),
            series,
            checks: vec![self.expect(alert, &firing_labels, eval)],
        })
    }

    /// A linear ramp from `start` whose `horizon` forecast is above `limit` from
    /// `for_` before its check time (the first sample at or after `first_check`)
    /// on, and which itself crosses `limit` only after it; `None` when the
    /// horizon leaves no room.
    fn ramp(
        &self,
        start: Decimal,
        limit: Decimal,
        horizon: Duration,
        for_: Duration,
        first_check: i64,
    ) -> Option<Ramp> {
        let room = horizon.millis - for_.millis - self.interval;
        if room < 3 * self.interval {
            return None;
        }
        let check_step = (first_check + self.interval - 1).div_euclid(self.interval);
        // The forecast at step k reaches k + horizon steps: above the limit from
        // crossing - horizon on, which is before check - for.
        let crossing_step =
            check_step + ((horizon.millis - for_.millis) / (2 * self.interval)).max(2);
        let slope = limit
            .checked_sub(start)?
            .checked_mul(Decimal::from_integer(2))?
            .div_rounded(Decimal::from_integer(2 * crossing_step - 1))?
            .0;
        Some(Ramp {
            start,
            slope,
            crossing_step,
            check: check_step * self.interval,
        })
    }
}
