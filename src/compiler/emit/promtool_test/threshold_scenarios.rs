//! Scenarios of the objectives that compare a gauge with a limit: drift and gpu
//! alerts fire once the value has been over the limit for `for`, a rising value
//! is forecast before it crosses (and the threshold alert stays quiet then), a
//! freshness alert fires when no job has succeeded for `max_age` and stays quiet
//! while jobs succeed.
//!
//! Invariant: a forecast scenario's ramp crosses the limit only after its check
//! time, so the forecast is what fires; a horizon too short for that gets no
//! forecast scenario.

use crate::compiler::emit::naming;
use crate::compiler::emit::promtool_test::generator::Generator;
use crate::compiler::emit::promtool_test::label_solver::RegexCache;
use crate::compiler::emit::promtool_test::test_file::{series_text, TestCase};
use crate::compiler::ir::{Decimal, Duration, ObjectiveKind};

impl Generator<'_> {
    /// The scenarios of a drift or gpu objective.
    pub fn threshold_cases(&self, cache: &mut RegexCache) -> Option<Vec<TestCase>> {
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
                forecast,
            } => {
                let labels = self.solver.solve(&[score], cache)?;
                let series = series_text(&score.metric, &labels);
                let high = find(naming::ALERT_DRIFT_HIGH)?;
                let above = max.checked_add(Decimal::ONE)?;
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
                if let (Some(forecast), Some(alert)) = (forecast, forecast_alert) {
                    if let Some((values, check_time)) = self.ramp(
                        max.checked_sub(Decimal::ONE)?,
                        *max,
                        forecast.horizon,
                        *for_,
                    ) {
                        cases.push(TestCase {
                            name: format!(
                                "{}/{}: a rising drift score is forecast before it crosses {max}",
                                self.service.name, self.objective.name
                            ),
                            series: vec![(series, values)],
                            checks: vec![
                                self.expect(alert, &labels, check_time),
                                self.expect_none(high, check_time),
                            ],
                        });
                    }
                }
            }
            ObjectiveKind::Gpu {
                utilization,
                max_utilization,
                memory,
                for_,
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
                }
                if let (Some(memory), Some(forecast), Some(alert)) = (
                    memory,
                    exhaustion,
                    find(naming::ALERT_GPU_MEMORY_EXHAUSTION),
                ) {
                    let memory_labels = self.solver.solve(&[&memory.used, &memory.free], cache)?;
                    let capacity = Decimal::from_integer(81920);
                    let start = Decimal::from_integer(40960);
                    if let Some((used_values, check_time)) =
                        self.ramp(start, capacity, forecast.horizon, *for_)
                    {
                        let steps = check_time / self.interval;
                        // free = capacity - used: the same ramp going down.
                        let slope =
                            ramp_slope(start, capacity, forecast.horizon, *for_, self.interval)?;
                        let free_values =
                            format!("{}-{}x{steps}", capacity.checked_sub(start)?, slope);
                        let series = vec![
                            (
                                series_text(&memory.used.metric, &memory_labels),
                                used_values,
                            ),
                            (
                                series_text(&memory.free.metric, &memory_labels),
                                free_values,
                            ),
                        ];
                        if self.solver.isolated(&series, cache) {
                            cases.push(TestCase {
                                name: format!(
                                    "{}/{}: GPU memory running out within {} is forecast",
                                    self.service.name, self.objective.name, forecast.horizon
                                ),
                                series,
                                checks: vec![self.expect(alert, &memory_labels, check_time)],
                            });
                        }
                    }
                }
            }
            _ => {}
        }
        Some(cases)
    }

    /// The scenarios of a freshness objective.
    pub fn freshness_cases(&self, cache: &mut RegexCache) -> Option<Vec<TestCase>> {
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
        Some(vec![
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
    }

    /// A linear ramp from `start` that crosses `limit` later than the check time
    /// but whose `horizon` forecast is above `limit` for `for_` before it; the
    /// values and the check time, or `None` when the horizon leaves no room.
    fn ramp(
        &self,
        start: Decimal,
        limit: Decimal,
        horizon: Duration,
        for_: Duration,
    ) -> Option<(String, i64)> {
        let room = horizon.millis - for_.millis - self.interval;
        if room < 3 * self.interval {
            return None;
        }
        let check =
            (for_.millis + 4 * self.interval + room / 2).div_euclid(self.interval) * self.interval;
        let slope = ramp_slope(start, limit, horizon, for_, self.interval)?;
        Some((format!("{start}+{slope}x{}", check / self.interval), check))
    }
}

/// Per-sample increase of a ramp from `start` reaching `limit` at
/// `horizon + 3 × interval` (see [`Generator::ramp`]).
fn ramp_slope(
    start: Decimal,
    limit: Decimal,
    horizon: Duration,
    for_: Duration,
    interval: i64,
) -> Option<Decimal> {
    let _ = for_;
    let crossing_steps = horizon.millis / interval + 3;
    Some(
        limit
            .checked_sub(start)?
            .div_rounded(Decimal::from_integer(crossing_steps))?
            .0,
    )
}
