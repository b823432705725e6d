//! The exact values of a budgeted objective's recorded series in a scenario, as
//! promtool 2.42 computes them from the scenario's input series: the error ratio
//! over any window (a burn alert's value, which its description says in words)
//! and the remaining budget at each step (which the burn alerts' descriptions
//! and the budget alerts read).
//!
//! The numbers come from the runtime's own range functions over the samples the
//! input series expand to, combined as the rules combine them: windows below
//! [`CHAINED_FROM`] are `rate`s of the raw counters, longer ones and the
//! objective's window `sum_over_time`s of the recorded 5m rates, and accuracy's
//! every window an `avg_over_time` of the recorded bad slices. What may differ
//! from promtool is the last bits of float rounding (two rates summed in
//! another order), which callers guard against by writing a value only where a
//! few bits cannot change its text.
//!
//! Invariant: a range is selected as promtool 2.42 selects it, both ends
//! included; a recorded series has a sample at a step only where its rule had a
//! value there.

use crate::compiler::emit::prometheus::CHAINED_FROM;
use crate::compiler::ir::naming::CHAINED_RATE_WINDOW;
use crate::compiler::ir::{Bound, Duration};
use crate::prometheus::promql::functions::{prefix_sums_over_time, range_function, RangeContext};
use crate::prometheus::promql::notation::{parse_sequence, SequenceValue};
use crate::prometheus::promql::value::Window;
use crate::prometheus::promql::Semantics;

/// The relative change of a value that must not change its rendering: far more
/// than the rounding of the rules' float arithmetic, in any order.
pub(super) const STABLE_RENDERING: f64 = 1e-9;

/// How an objective's rules make bad and total events of its two input series'
/// rates (the first and second series of its scenarios).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(super) enum Combine {
    /// Latency: the threshold bucket, then `+Inf`: `(inf - bucket, inf)`.
    Buckets,
    /// Errors on their own metric, then the total: `(errors, total)`.
    ErrorsOfTotal,
    /// Errors, then the other events of the same metric, which the total
    /// selector matches together: `(errors, errors + others)`.
    ErrorsBesideOthers,
    /// Good events on their own metric, then the total: `(total - good, total)`.
    GoodOfTotal,
    /// Good events, then the other events of the same metric:
    /// `((good + others) - good, good + others)`.
    GoodBesideOthers,
}

impl Combine {
    fn bad_and_total(self, first: f64, second: f64) -> (f64, f64) {
        match self {
            Combine::Buckets | Combine::GoodOfTotal => (second - first, second),
            Combine::ErrorsOfTotal => (first, second),
            Combine::ErrorsBesideOthers => (first, first + second),
            Combine::GoodBesideOthers => {
                let total = first + second;
                (total - first, total)
            }
        }
    }
}

/// The recorded series of one objective (one group of it) over a scenario, at
/// every evaluation step from 0.
pub(super) struct RecordedModel {
    interval: i64,
    timestamps: Vec<i64>,
    sli: Sli,
    error_budget: f64,
    window: Duration,
}

enum Sli {
    Counters {
        combine: Combine,
        first: Vec<f64>,
        second: Vec<f64>,
        /// `slo:sli_errors:rate5m` and `slo:sli_total:rate5m` at each step.
        bad_5m: Vec<Option<f64>>,
        total_5m: Vec<Option<f64>>,
        /// The remaining budget at each step while the objective's window holds
        /// the whole history (every scenario, as a rule), from running sums.
        whole_history_remaining: Vec<Option<f64>>,
    },
    /// `slo:slice_bad:bool<slice>` at each step.
    Slices(Vec<Option<f64>>),
}

impl RecordedModel {
    /// The model of a counter objective from its two input series' values (in
    /// promtool's expanding notation), sampled every `interval` milliseconds.
    pub fn counters(
        combine: Combine,
        [first, second]: [&str; 2],
        interval: i64,
        error_budget: f64,
        window: Duration,
    ) -> Option<RecordedModel> {
        let first = expand(first)?;
        let second = expand(second)?;
        if first.len() != second.len() || interval <= 0 {
            return None;
        }
        let timestamps: Vec<i64> = (0..first.len() as i64)
            .map(|step| step * interval)
            .collect();
        let first_5m = rates_5m(&timestamps, &first, interval);
        let second_5m = rates_5m(&timestamps, &second, interval);
        let (bad_5m, total_5m): (Vec<Option<f64>>, Vec<Option<f64>>) = first_5m
            .iter()
            .zip(&second_5m)
            .map(|(first, second)| {
                let rates = first
                    .zip(*second)
                    .map(|(first, second)| combine.bad_and_total(first, second));
                (rates.map(|(bad, _)| bad), rates.map(|(_, total)| total))
            })
            .unzip();
        let whole_history_remaining = whole_history_remaining(&bad_5m, &total_5m, error_budget);
        Some(RecordedModel {
            interval,
            timestamps,
            sli: Sli::Counters {
                combine,
                first,
                second,
                bad_5m,
                total_5m,
                whole_history_remaining,
            },
            error_budget,
            window,
        })
    }

    /// The model of an accuracy objective from its metric's values, read in
    /// slices of `slice` against `bound`.
    pub fn slices(
        values: &str,
        bound: Bound,
        slice: Duration,
        interval: i64,
        error_budget: f64,
        window: Duration,
    ) -> Option<RecordedModel> {
        let values = expand(values)?;
        if interval <= 0 {
            return None;
        }
        let timestamps: Vec<i64> = (0..values.len() as i64)
            .map(|step| step * interval)
            .collect();
        let bad = (0..values.len())
            .map(|step| {
                let at = timestamps[step];
                let (function, is_bad): (&str, fn(f64, f64) -> bool) = match bound {
                    Bound::Min(_) => ("min_over_time", |value, limit| value < limit),
                    Bound::Max(_) => ("max_over_time", |value, limit| value > limit),
                };
                let limit = match bound {
                    Bound::Min(limit) | Bound::Max(limit) => limit.to_f64(),
                };
                over_time(function, &timestamps, &values, at, slice).map(|worst| {
                    if is_bad(worst, limit) {
                        1.0
                    } else {
                        0.0
                    }
                })
            })
            .collect();
        Some(RecordedModel {
            interval,
            timestamps,
            sli: Sli::Slices(bad),
            error_budget,
            window,
        })
    }

    /// `slo:sli_error:ratio_rate<window>` at `step`: the value of a burn alert
    /// whose short window it is.
    pub fn error_ratio(&self, window: Duration, step: i64) -> Option<f64> {
        let at = self.at(step)?;
        match &self.sli {
            Sli::Counters {
                combine,
                first,
                second,
                bad_5m,
                total_5m,
                ..
            } => {
                if window >= CHAINED_FROM {
                    let bad = self.recorded_over_time("sum_over_time", bad_5m, at, window)?;
                    let total = self.recorded_over_time("sum_over_time", total_5m, at, window)?;
                    return Some(bad / total);
                }
                let (bad, total) = combine.bad_and_total(
                    rate(&self.timestamps, first, at, window)?,
                    rate(&self.timestamps, second, at, window)?,
                );
                Some(bad / total)
            }
            Sli::Slices(bad) => self.recorded_over_time("avg_over_time", bad, at, window),
        }
    }

    /// `slo:period_error_budget_remaining:ratio` at `step`: one minus the error
    /// ratio over the objective's window in budgets.
    pub fn remaining(&self, step: i64) -> Option<f64> {
        let at = self.at(step)?;
        let ratio = match &self.sli {
            Sli::Counters {
                whole_history_remaining,
                ..
            } if at <= self.window.millis => {
                return *whole_history_remaining.get(usize::try_from(step).ok()?)?;
            }
            Sli::Counters {
                bad_5m, total_5m, ..
            } => {
                self.recorded_over_time("sum_over_time", bad_5m, at, self.window)?
                    / self.recorded_over_time("sum_over_time", total_5m, at, self.window)?
            }
            Sli::Slices(bad) => self.recorded_over_time("avg_over_time", bad, at, self.window)?,
        };
        Some(1.0 - ratio / self.error_budget)
    }

    fn at(&self, step: i64) -> Option<i64> {
        let index = usize::try_from(step).ok()?;
        self.timestamps.get(index).copied()
    }

    /// A range function over the samples a recorded series has in `window` up
    /// to `at`.
    fn recorded_over_time(
        &self,
        function: &str,
        recorded: &[Option<f64>],
        at: i64,
        window: Duration,
    ) -> Option<f64> {
        let first = first_step_in(at, window, self.interval);
        let last = usize::try_from(at / self.interval).ok()?;
        let (timestamps, values): (Vec<i64>, Vec<f64>) = (first..=last)
            .filter_map(|step| Some((*self.timestamps.get(step)?, (*recorded.get(step)?)?)))
            .unzip();
        over_time(function, &timestamps, &values, at, window)
    }
}

/// `1 - (sum_over_time(bad 5m) / sum_over_time(total 5m)) / budget` over all the
/// recorded samples up to each step.
fn whole_history_remaining(
    bad_5m: &[Option<f64>],
    total_5m: &[Option<f64>],
    error_budget: f64,
) -> Vec<Option<f64>> {
    let recorded =
        |series: &[Option<f64>]| -> Vec<f64> { series.iter().flatten().copied().collect() };
    let bad_sums = prefix_sums_over_time(&recorded(bad_5m), Semantics::V2);
    let total_sums = prefix_sums_over_time(&recorded(total_5m), Semantics::V2);
    let mut samples = 0;
    bad_5m
        .iter()
        .map(|bad| {
            samples += usize::from(bad.is_some());
            let last = samples.checked_sub(1)?;
            Some(1.0 - (bad_sums[last] / total_sums[last]) / error_budget)
        })
        .collect()
}

/// The values of a series in promtool's notation, every sample a float.
fn expand(values: &str) -> Option<Vec<f64>> {
    parse_sequence(values)
        .ok()?
        .into_iter()
        .map(|value| match value {
            SequenceValue::Value(value) => Some(value),
            _ => None,
        })
        .collect()
}

/// The first step whose sample lies in the window `[at - window, at]`.
fn first_step_in(at: i64, window: Duration, interval: i64) -> usize {
    let start = at - window.millis;
    usize::try_from((start + interval - 1).div_euclid(interval).max(0)).unwrap_or(0)
}

/// `rate(series[5m])` at every step. A scenario builds one model per burn level
/// over a day of steps, so the common case skips the general function: a
/// counter that starts at zero and never falls, sampled at a divisor of 5m, has
/// a sample at both edges of every full window and a zero point at its first
/// sample for the others, so Prometheus 2's extrapolation factor is exactly 1
/// and the rate is the increase times `1 / 300` (the test below holds the two
/// equal bit for bit).
fn rates_5m(timestamps: &[i64], values: &[f64], interval: i64) -> Vec<Option<f64>> {
    let window = CHAINED_RATE_WINDOW;
    let steps_per_window = window.millis / interval;
    let simple = window.millis % interval == 0
        && values.first() == Some(&0.0)
        && values.windows(2).all(|pair| pair[0] <= pair[1]);
    if !simple {
        return timestamps
            .iter()
            .map(|&at| rate(timestamps, values, at, window))
            .collect();
    }
    let per_second = 1.0 / (window.millis as f64 / 1000.0);
    (0..values.len())
        .map(|step| {
            (step > 0).then(|| {
                let from = step.saturating_sub(steps_per_window as usize);
                (values[step] - values[from]) * per_second
            })
        })
        .collect()
}

/// `rate(series[window])` at `at` over samples at `timestamps`.
fn rate(timestamps: &[i64], values: &[f64], at: i64, window: Duration) -> Option<f64> {
    over_time("rate", timestamps, values, at, window)
}

/// A range function over the samples of `[at - window, at]`.
fn over_time(
    function: &str,
    timestamps: &[i64],
    values: &[f64],
    at: i64,
    window: Duration,
) -> Option<f64> {
    let start = at - window.millis;
    let from = timestamps.partition_point(|&time| time < start);
    let to = timestamps.partition_point(|&time| time <= at);
    if from >= to {
        return None;
    }
    let context = RangeContext {
        eval_time: at,
        range: window.millis,
        range_start: start,
        range_end: at,
        semantics: Semantics::V2,
    };
    range_function(
        function,
        Window {
            timestamps: &timestamps[from..to],
            values: &values[from..to],
        },
        &context,
        &[],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The remaining budget from running sums against `sum_over_time` over each
    /// step's window, bit for bit.
    #[test]
    fn the_running_remaining_budget_is_the_windowed_one() {
        let model = RecordedModel::counters(
            Combine::ErrorsOfTotal,
            ["0+0x362 7+7x53", "0+1000x362 363000+1000x53"],
            60_000,
            0.001,
            Duration::days(30),
        )
        .unwrap();
        let Sli::Counters {
            whole_history_remaining,
            bad_5m,
            total_5m,
            ..
        } = &model.sli
        else {
            panic!("counters");
        };
        for step in 0..whole_history_remaining.len() as i64 {
            let at = model.at(step).unwrap();
            let windowed = model
                .recorded_over_time("sum_over_time", bad_5m, at, model.window)
                .zip(model.recorded_over_time("sum_over_time", total_5m, at, model.window))
                .map(|(bad, total)| 1.0 - (bad / total) / model.error_budget);
            assert_eq!(
                whole_history_remaining[step as usize].map(f64::to_bits),
                windowed.map(f64::to_bits),
                "step {step}"
            );
        }
    }

    /// The shortcut of [`rates_5m`] against the runtime's `rate`, bit for bit,
    /// on counters that start at zero, stay flat, step up mid-way or carry
    /// fractions.
    #[test]
    fn the_5m_rate_shortcut_is_the_runtime_rate() {
        for (values, interval) in [
            ("0+1000x362 362916+916x53", 60_000),
            ("0+0x30 0+7x40", 60_000),
            ("0+0.25x100 25.25+0.3x50", 30_000),
            ("0+3x20", 100_000),
        ] {
            let values = expand(values).unwrap();
            let timestamps: Vec<i64> = (0..values.len() as i64)
                .map(|step| step * interval)
                .collect();
            let general: Vec<Option<f64>> = timestamps
                .iter()
                .map(|&at| rate(&timestamps, &values, at, CHAINED_RATE_WINDOW))
                .collect();
            let shortcut = rates_5m(&timestamps, &values, interval);
            assert_eq!(
                general
                    .iter()
                    .map(|rate| rate.map(f64::to_bits))
                    .collect::<Vec<_>>(),
                shortcut
                    .iter()
                    .map(|rate| rate.map(f64::to_bits))
                    .collect::<Vec<_>>(),
                "interval {interval}"
            );
        }
    }
}
