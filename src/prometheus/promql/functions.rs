//! PromQL's float functions on already-selected samples: range functions over
//! one series' window, element-wise functions, and the quantile helpers shared
//! by functions and aggregations. Selection (lookback, staleness, offset, `@`)
//! is the engine's job; this module only computes.
//!
//! Invariants: every computation follows the float operation order of
//! Prometheus' `promql/functions.go` and `promql/quantile.go` (v2.42.0 for
//! [`Semantics::V2`], v3.14.0 for [`Semantics::V3`]), because promtool 2.42
//! compares results bit for bit; no function panics on any input.
//!
//! Known deviation: `exp`, `ln`, `log2`, `log10`, the trigonometric and
//! hyperbolic functions use Rust's `f64` methods (the platform libm), while
//! Go's `math` package has its own implementations; results differ in the
//! last bit for some inputs (134 of 784 samples in one promtool run), always
//! within 2 ulps (`tests/integration/promtool_diff.rs` checks that bound). `log2` and
//! `log10` do follow Go's formulas on top of `ln`.

use super::kahan::{kahan_sum_inc, kahan_sum_inc_for, kahan_sum_inc_v3};
use super::regression::linear_regression;
use super::value::Window;
use super::Semantics;
use crate::prometheus::model::go_number;

/// Where the window sits in time; all times in milliseconds since the epoch.
#[derive(Clone, Copy, Debug)]
pub struct RangeContext {
    /// The evaluation timestamp (`enh.Ts` in Prometheus), before `offset`/`@`.
    pub eval_time: i64,
    /// The selector's range, `[5m]` is 300_000.
    pub range: i64,
    /// The window's lower edge: exclusive under `V3`, inclusive under `V2`.
    pub range_start: i64,
    /// The window's upper edge, inclusive: `eval_time - offset`, or the `@` time.
    pub range_end: i64,
    pub semantics: Semantics,
}

/// Every name [`range_function`] computes. `holt_winters` is the 2.x name and
/// `double_exponential_smoothing` the 3.x name of one algorithm; whether a
/// name exists under a given version is the parser's and engine's concern.
const RANGE_FUNCTION_NAMES: &[&str] = &[
    "avg_over_time",
    "changes",
    "count_over_time",
    "delta",
    "deriv",
    "double_exponential_smoothing",
    "first_over_time",
    "holt_winters",
    "idelta",
    "increase",
    "irate",
    "last_over_time",
    "mad_over_time",
    "max_over_time",
    "min_over_time",
    "predict_linear",
    "present_over_time",
    "quantile_over_time",
    "rate",
    "resets",
    "stddev_over_time",
    "stdvar_over_time",
    "sum_over_time",
    "ts_of_first_over_time",
    "ts_of_last_over_time",
    "ts_of_max_over_time",
    "ts_of_min_over_time",
];

/// A function over a range vector, applied to one series: `rate`, `increase`,
/// `delta`, `irate`, `idelta`, `deriv`, `predict_linear`, `holt_winters` /
/// `double_exponential_smoothing`, `resets`, `changes`, and every
/// `*_over_time`. `scalar_args` are the function's scalar arguments in order
/// (`predict_linear`'s seconds, `quantile_over_time`'s φ, ...).
/// `None` drops the series from the result, as Prometheus does when a window
/// has too few samples.
///
/// Argument errors (`holt_winters`' factors) are not checked here: the engine
/// calls [`validate_range_function_args`] first, at each step where at least
/// one series reaches the function, which is when Prometheus raises them.
pub fn range_function(
    name: &str,
    window: Window<'_>,
    context: &RangeContext,
    scalar_args: &[f64],
) -> Option<f64> {
    let (timestamps, values) = (window.timestamps, window.values);
    if values.is_empty() || timestamps.len() != values.len() {
        // Prometheus never calls a range function on an empty window.
        return None;
    }
    let semantics = context.semantics;
    match name {
        // funcRate / funcIncrease / funcDelta -> extrapolatedRate(isCounter, isRate).
        "rate" => extrapolated_rate(window, context, true, true),
        "increase" => extrapolated_rate(window, context, true, false),
        "delta" => extrapolated_rate(window, context, false, false),
        // funcIrate / funcIdelta -> instantValue(isRate).
        "irate" => instant_value(window, true),
        "idelta" => instant_value(window, false),
        "deriv" | "predict_linear" => {
            regression_function(name, window, context, scalar_args, |intercept_time| {
                linear_regression(window, intercept_time, semantics)
            })
        }
        "holt_winters" | "double_exponential_smoothing" => {
            let smoothing_factor = *scalar_args.first()?;
            let trend_factor = *scalar_args.get(1)?;
            double_exponential_smoothing(values, smoothing_factor, trend_factor)
        }
        "resets" => {
            // funcResets: a float reset is any decrease.
            let resets = values.windows(2).filter(|pair| pair[1] < pair[0]).count();
            Some(resets as f64)
        }
        "changes" => {
            // funcChanges: NaN followed by NaN is no change.
            let changes = values
                .windows(2)
                .filter(|pair| pair[1] != pair[0] && !(pair[1].is_nan() && pair[0].is_nan()))
                .count();
            Some(changes as f64)
        }
        "avg_over_time" => Some(match semantics {
            Semantics::V2 => avg_over_time_incremental(values),
            Semantics::V3 => avg_over_time_direct_then_incremental(values),
        }),
        "sum_over_time" => {
            // funcSumOverTime: Kahan sum, the compensation dropped at ±Inf.
            let (mut sum, mut compensation) = (0.0, 0.0);
            for &value in values {
                (sum, compensation) = kahan_sum_inc_for(semantics, value, sum, compensation);
            }
            Some(if sum.is_infinite() {
                sum
            } else {
                sum + compensation
            })
        }
        "count_over_time" => Some(values.len() as f64),
        "min_over_time" => Some(compare_over_time(window, |current, best| current < best).0),
        "max_over_time" => Some(compare_over_time(window, |current, best| current > best).0),
        // funcTsOfMinOverTime / funcTsOfMaxOverTime: `<=`/`>=` make the latest
        // of equal extremes win.
        "ts_of_min_over_time" => Some(milliseconds_to_seconds(
            compare_over_time(window, |c, b| c <= b).1,
        )),
        "ts_of_max_over_time" => Some(milliseconds_to_seconds(
            compare_over_time(window, |c, b| c >= b).1,
        )),
        "first_over_time" => Some(values[0]),
        "last_over_time" => values.last().copied(),
        "ts_of_first_over_time" => Some(milliseconds_to_seconds(timestamps[0])),
        "ts_of_last_over_time" => timestamps.last().map(|&t| milliseconds_to_seconds(t)),
        "present_over_time" => Some(1.0),
        "quantile_over_time" => {
            // funcQuantileOverTime: φ is the first argument, the range the second.
            let phi = *scalar_args.first()?;
            let mut sorted = values.to_vec();
            Some(quantile(phi, &mut sorted))
        }
        "stddev_over_time" => Some(variance_over_time(values, semantics).sqrt()),
        "stdvar_over_time" => Some(variance_over_time(values, semantics)),
        "mad_over_time" => {
            // funcMadOverTime (3.x): a NaN makes the median undefined.
            if values.iter().any(|value| value.is_nan()) {
                return Some(f64::NAN);
            }
            let mut sorted = values.to_vec();
            let median = quantile(0.5, &mut sorted);
            for value in &mut sorted {
                *value = (*value - median).abs();
            }
            Some(quantile(0.5, &mut sorted))
        }
        _ => None,
    }
}

/// Whether `name` is a function [`range_function`] computes.
pub fn is_range_function(name: &str) -> bool {
    RANGE_FUNCTION_NAMES.contains(&name)
}

/// The argument errors Prometheus raises while evaluating a range function,
/// with its wording: `holt_winters`' and `double_exponential_smoothing`'s
/// factors must lie strictly between 0 and 1 (a NaN passes, as in
/// funcHoltWinters / funcDoubleExponentialSmoothing, whose tests are `<= 0 ||
/// >= 1`). Other functions accept any scalar.
pub fn validate_range_function_args(name: &str, scalar_args: &[f64]) -> Result<(), String> {
    if name != "holt_winters" && name != "double_exponential_smoothing" {
        return Ok(());
    }
    if let Some(&smoothing_factor) = scalar_args.first() {
        if smoothing_factor <= 0.0 || smoothing_factor >= 1.0 {
            return Err(format!(
                "invalid smoothing factor. Expected: 0 < sf < 1, got: {}",
                go_number::format_float(smoothing_factor, 'f', Some(6))
            ));
        }
    }
    if let Some(&trend_factor) = scalar_args.get(1) {
        if trend_factor <= 0.0 || trend_factor >= 1.0 {
            return Err(format!(
                "invalid trend factor. Expected: 0 < tf < 1, got: {}",
                go_number::format_float(trend_factor, 'f', Some(6))
            ));
        }
    }
    Ok(())
}

fn milliseconds_to_seconds(milliseconds: i64) -> f64 {
    milliseconds as f64 / 1000.0
}

/// extrapolatedRate (functions.go): the increase over the window, corrected
/// for counter resets, extrapolated towards the window's edges.
///
/// V2 (v2.42.0) clamps the start extrapolation at the counter's zero point
/// *before* the threshold test, so a clamped duration below the threshold is
/// used in full. V3 (since 2.50, #13725) first limits the start extrapolation
/// to half a sample interval and then clamps at the zero point.
fn extrapolated_rate(
    window: Window<'_>,
    context: &RangeContext,
    is_counter: bool,
    is_rate: bool,
) -> Option<f64> {
    let (timestamps, values) = (window.timestamps, window.values);
    let count = values.len();
    if count < 2 {
        return None;
    }
    let (first_value, last_value) = (values[0], values[count - 1]);
    let (first_time, last_time) = (timestamps[0], timestamps[count - 1]);

    let mut result = last_value - first_value;
    if is_counter {
        for pair in values.windows(2) {
            if pair[1] < pair[0] {
                result += pair[0];
            }
        }
    }

    let mut duration_to_start = (first_time - context.range_start) as f64 / 1000.0;
    let mut duration_to_end = (context.range_end - last_time) as f64 / 1000.0;
    let sampled_interval = (last_time - first_time) as f64 / 1000.0;
    let average_duration_between_samples = sampled_interval / (count - 1) as f64;
    let extrapolation_threshold = average_duration_between_samples * 1.1;

    let factor = match context.semantics {
        Semantics::V2 => {
            if is_counter && result > 0.0 && first_value >= 0.0 {
                let duration_to_zero = sampled_interval * (first_value / result);
                if duration_to_zero < duration_to_start {
                    duration_to_start = duration_to_zero;
                }
            }
            let mut extrapolate_to_interval = sampled_interval;
            if duration_to_start < extrapolation_threshold {
                extrapolate_to_interval += duration_to_start;
            } else {
                extrapolate_to_interval += average_duration_between_samples / 2.0;
            }
            if duration_to_end < extrapolation_threshold {
                extrapolate_to_interval += duration_to_end;
            } else {
                extrapolate_to_interval += average_duration_between_samples / 2.0;
            }
            extrapolate_to_interval / sampled_interval
        }
        Semantics::V3 => {
            if duration_to_start >= extrapolation_threshold {
                duration_to_start = average_duration_between_samples / 2.0;
            }
            if is_counter && result > 0.0 && first_value >= 0.0 {
                let duration_to_zero = sampled_interval * (first_value / result);
                if duration_to_zero < duration_to_start {
                    duration_to_start = duration_to_zero;
                }
            }
            if duration_to_end >= extrapolation_threshold {
                duration_to_end = average_duration_between_samples / 2.0;
            }
            if sampled_interval != 0.0 {
                (sampled_interval + duration_to_start + duration_to_end) / sampled_interval
            } else {
                1.0
            }
        }
    };
    let factor = if is_rate {
        factor / (context.range as f64 / 1000.0)
    } else {
        factor
    };
    Some(result * factor)
}

/// `sum_over_time` of every prefix of `values` (the first value, the first two,
/// ...), each exactly as [`range_function`] sums a window holding just that
/// prefix, in one pass: Kahan summation runs left to right, so a prefix's sum
/// is a step of the next one's.
pub fn prefix_sums_over_time(values: &[f64], semantics: Semantics) -> Vec<f64> {
    let (mut sum, mut compensation) = (0.0, 0.0);
    values
        .iter()
        .map(|&value| {
            (sum, compensation) = kahan_sum_inc_for(semantics, value, sum, compensation);
            if sum.is_infinite() {
                sum
            } else {
                sum + compensation
            }
        })
        .collect()
}

/// instantValue (functions.go): `irate`/`idelta` from the last two samples.
fn instant_value(window: Window<'_>, is_rate: bool) -> Option<f64> {
    let count = window.values.len();
    if count < 2 {
        return None;
    }
    let (previous_value, last_value) = (window.values[count - 2], window.values[count - 1]);
    let sampled_interval = window.timestamps[count - 1] - window.timestamps[count - 2];
    if sampled_interval == 0 {
        return None;
    }
    // After a counter reset the last value itself is the increase.
    let mut result = if is_rate && last_value < previous_value {
        last_value
    } else {
        last_value - previous_value
    };
    if is_rate {
        result /= sampled_interval as f64 / 1000.0;
    }
    Some(result)
}

/// funcDeriv / funcPredictLinear on a window of at least one sample, given
/// the window's `linearRegression` for an intercept time (computed by the
/// caller, who may have it from sliding sums).
pub(crate) fn regression_function(
    name: &str,
    window: Window<'_>,
    context: &RangeContext,
    scalar_args: &[f64],
    regression: impl FnOnce(i64) -> (f64, f64),
) -> Option<f64> {
    if window.values.len() < 2 {
        return None;
    }
    match name {
        "deriv" => {
            // funcDeriv: the intercept time is the first sample's, for accuracy
            // (prometheus issue #2674); only the slope is used.
            let (slope, _) = regression(*window.timestamps.first()?);
            Some(slope)
        }
        "predict_linear" => {
            // funcPredictLinear: the intercept is the fitted value at the
            // evaluation time (enh.Ts), not at the last sample.
            let duration = *scalar_args.first()?;
            let (slope, intercept) = regression(context.eval_time);
            Some(slope * duration + intercept)
        }
        _ => None,
    }
}

/// funcHoltWinters (v2.42) / funcDoubleExponentialSmoothing (3.x), with
/// calcTrendValue inlined: the first trend is the first difference.
fn double_exponential_smoothing(
    values: &[f64],
    smoothing_factor: f64,
    trend_factor: f64,
) -> Option<f64> {
    if values.len() < 2 {
        return None;
    }
    let mut previous_smoothed = 0.0;
    let mut smoothed = values[0];
    let mut trend = values[1] - values[0];
    for (index, &value) in values.iter().enumerate().skip(1) {
        let scaled_value = smoothing_factor * value;
        if index > 1 {
            trend = trend_factor * (smoothed - previous_smoothed) + (1.0 - trend_factor) * trend;
        }
        let scaled_previous = (1.0 - smoothing_factor) * (smoothed + trend);
        previous_smoothed = smoothed;
        smoothed = scaled_value + scaled_previous;
    }
    Some(smoothed)
}

/// funcAvgOverTime at v2.42.0: an incremental mean with Kahan compensation,
/// which keeps an infinite mean once reached unless a NaN or an opposite
/// infinity arrives.
fn avg_over_time_incremental(values: &[f64]) -> f64 {
    let (mut mean, mut count, mut compensation) = (0.0_f64, 0.0, 0.0);
    for &value in values {
        count += 1.0;
        if mean.is_infinite() {
            if value.is_infinite() && (mean > 0.0) == (value > 0.0) {
                continue;
            }
            if !value.is_infinite() && !value.is_nan() {
                continue;
            }
        }
        (mean, compensation) = kahan_sum_inc(value / count - mean / count, mean, compensation);
    }
    if mean.is_infinite() {
        mean
    } else {
        mean + compensation
    }
}

/// funcAvgOverTime at v3.14.0: a direct Kahan sum divided by the count, which
/// switches to the incremental mean only once the sum would overflow.
fn avg_over_time_direct_then_incremental(values: &[f64]) -> f64 {
    let mut sum = values[0];
    let mut count = 1.0;
    let (mut mean, mut compensation) = (0.0, 0.0);
    let mut incremental = false;
    for (index, &value) in values.iter().enumerate().skip(1) {
        count = (index + 1) as f64;
        if !incremental {
            let (new_sum, new_compensation) = kahan_sum_inc_v3(value, sum, compensation);
            if !new_sum.is_infinite() {
                (sum, compensation) = (new_sum, new_compensation);
                continue;
            }
            incremental = true;
            mean = sum / (count - 1.0);
            compensation /= count - 1.0;
        }
        let shrink = (count - 1.0) / count;
        (mean, compensation) =
            kahan_sum_inc_v3(value / count, shrink * mean, shrink * compensation);
    }
    if incremental {
        mean + compensation
    } else {
        sum / count + compensation / count
    }
}

/// compareOverTime (3.x) / funcMinOverTime, funcMaxOverTime (v2.42): the
/// extreme value and its timestamp; a NaN extreme is replaced by any value.
fn compare_over_time(window: Window<'_>, better: impl Fn(f64, f64) -> bool) -> (f64, i64) {
    let mut best_value = window.values[0];
    let mut best_time = window.timestamps[0];
    for (&time, &value) in window.timestamps.iter().zip(window.values) {
        if better(value, best_value) || best_value.is_nan() {
            best_value = value;
            best_time = time;
        }
    }
    (best_value, best_time)
}

/// funcStdvarOverTime (v2.42) / varianceOverTime (3.x): Welford's online
/// variance with Kahan-compensated mean and sum of squares.
fn variance_over_time(values: &[f64], semantics: Semantics) -> f64 {
    let mut count = 0.0;
    let (mut mean, mut c_mean) = (0.0, 0.0);
    let (mut aux, mut c_aux) = (0.0, 0.0);
    for &value in values {
        count += 1.0;
        let delta = value - (mean + c_mean);
        (mean, c_mean) = kahan_sum_inc_for(semantics, delta / count, mean, c_mean);
        (aux, c_aux) = kahan_sum_inc_for(semantics, delta * (value - (mean + c_mean)), aux, c_aux);
    }
    (aux + c_aux) / count
}

/// A function applied to each sample value on its own: `abs`, `ceil`, `floor`,
/// `exp`, `ln`, `log2`, `log10`, `sqrt`, `round`, `clamp`, `clamp_min`,
/// `clamp_max`, `sgn`, the trigonometric functions, `deg`, `rad`, and the date
/// functions over the value as Unix seconds (`hour`, `day_of_week`, ...).
/// `None` when `name` is not such a function, or when the function drops the
/// sample: `clamp` with max < min returns an empty vector in Prometheus
/// (funcClamp), and so does a missing scalar argument.
pub fn elementwise_function(name: &str, value: f64, scalar_args: &[f64]) -> Option<f64> {
    let result = match name {
        "abs" => value.abs(),
        "ceil" => value.ceil(),
        "floor" => value.floor(),
        "exp" => value.exp(),
        "ln" => value.ln(),
        "log2" => go_log2(value),
        // Go's math.Log10 is math.Log(x) * (1/Ln10).
        "log10" => value.ln() * std::f64::consts::LOG10_E,
        "sqrt" => value.sqrt(),
        "round" => {
            // funcRound: ties round up; the inverse "causes fewer floating
            // point accuracy issues" (Prometheus' own comment).
            let to_nearest = scalar_args.first().copied().unwrap_or(1.0);
            let to_nearest_inverse = 1.0 / to_nearest;
            (value * to_nearest_inverse + 0.5).floor() / to_nearest_inverse
        }
        "clamp" => {
            let (minimum, maximum) = (*scalar_args.first()?, *scalar_args.get(1)?);
            if maximum < minimum {
                return None;
            }
            go_max(minimum, go_min(maximum, value))
        }
        "clamp_min" => go_max(*scalar_args.first()?, value),
        "clamp_max" => go_min(*scalar_args.first()?, value),
        "sgn" => {
            // funcSgn: NaN and signed zeros pass through.
            if value < 0.0 {
                -1.0
            } else if value > 0.0 {
                1.0
            } else {
                value
            }
        }
        "sin" => value.sin(),
        "cos" => value.cos(),
        "tan" => value.tan(),
        "asin" => value.asin(),
        "acos" => value.acos(),
        "atan" => value.atan(),
        "sinh" => value.sinh(),
        "cosh" => value.cosh(),
        "tanh" => value.tanh(),
        "asinh" => value.asinh(),
        "acosh" => value.acosh(),
        "atanh" => value.atanh(),
        // funcDeg / funcRad: multiply first, then divide, as Prometheus does.
        "deg" => value * 180.0 / std::f64::consts::PI,
        "rad" => value * std::f64::consts::PI / 180.0,
        "year" | "month" | "day_of_month" | "day_of_week" | "day_of_year" | "days_in_month"
        | "hour" | "minute" => date_function(name, value)?,
        _ => return None,
    };
    Some(result)
}

/// Go's math.Log2: exact for powers of two, else `Log(frac)/Ln2 + exp`.
fn go_log2(value: f64) -> f64 {
    let (fraction, exponent) = frexp(value);
    if fraction == 0.5 {
        return (exponent - 1) as f64;
    }
    fraction.ln() * std::f64::consts::LOG2_E + exponent as f64
}

/// Go's math.Frexp: `value = fraction · 2^exponent` with |fraction| in
/// [0.5, 1); zeros, infinities and NaN come back unchanged with exponent 0.
fn frexp(value: f64) -> (f64, i32) {
    if value == 0.0 || value.is_infinite() || value.is_nan() {
        return (value, 0);
    }
    let (mut normal, mut exponent) = (value, 0);
    if value.abs() < f64::MIN_POSITIVE {
        normal = value * (1u64 << 52) as f64;
        exponent = -52;
    }
    let bits = normal.to_bits();
    exponent += ((bits >> 52) & 0x7ff) as i32 - 1022;
    let fraction_bits = (bits & !(0x7ff << 52)) | (1022 << 52);
    (f64::from_bits(fraction_bits), exponent)
}

/// Go's math.Max: +Inf wins, then NaN, and +0 beats -0.
pub(crate) fn go_max(left: f64, right: f64) -> f64 {
    if left == f64::INFINITY || right == f64::INFINITY {
        f64::INFINITY
    } else if left.is_nan() || right.is_nan() {
        f64::NAN
    } else if left == 0.0 && left == right {
        if left.is_sign_negative() {
            right
        } else {
            left
        }
    } else if left > right {
        left
    } else {
        right
    }
}

/// Go's math.Min: -Inf wins, then NaN, and -0 beats +0.
pub(crate) fn go_min(left: f64, right: f64) -> f64 {
    if left == f64::NEG_INFINITY || right == f64::NEG_INFINITY {
        f64::NEG_INFINITY
    } else if left.is_nan() || right.is_nan() {
        f64::NAN
    } else if left == 0.0 && left == right {
        if left.is_sign_negative() {
            left
        } else {
            right
        }
    } else if left < right {
        left
    } else {
        right
    }
}

/// dateWrapper (functions.go): the value is converted with Go's `int64(v)`
/// and read as UTC Unix seconds. On amd64 that conversion yields the minimum
/// int64 for NaN, ±Inf and out-of-range values, which Go's time package then
/// reads as 292277026596-12-04 15:30 (a Sunday): the constants below were
/// taken from promtool 2.42 on this machine.
fn date_function(name: &str, value: f64) -> Option<f64> {
    // 2^63 is the first float outside int64.
    const INT64_LIMIT: f64 = 9_223_372_036_854_775_808.0;
    if !(value > -INT64_LIMIT && value < INT64_LIMIT) {
        return Some(match name {
            "year" => 292_277_026_596.0,
            "month" => 12.0,
            "day_of_month" => 4.0,
            "day_of_week" => 0.0,
            "day_of_year" => 339.0,
            "days_in_month" => 31.0,
            "hour" => 15.0,
            "minute" => 30.0,
            _ => return None,
        });
    }
    // Go's conversion truncates towards zero, as `as` does in range.
    let seconds = value as i64;
    let days = seconds.div_euclid(86_400);
    let seconds_of_day = seconds.rem_euclid(86_400);
    let (year, month, day) = crate::base::calendar::civil_from_days(days);
    let leap = crate::base::calendar::is_leap_year(year);
    const DAYS_BEFORE_MONTH: [i64; 12] = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334];
    let month_index = (month - 1) as usize;
    let result = match name {
        "year" => year as f64,
        "month" => month as f64,
        "day_of_month" => day as f64,
        // 1970-01-01 was a Thursday (4).
        "day_of_week" => (days + 4).rem_euclid(7) as f64,
        "day_of_year" => {
            let leap_day = i64::from(leap && month > 2);
            (DAYS_BEFORE_MONTH[month_index] + day + leap_day) as f64
        }
        "days_in_month" => crate::base::calendar::days_in_month(year, month) as f64,
        "hour" => (seconds_of_day / 3600) as f64,
        "minute" => (seconds_of_day % 3600 / 60) as f64,
        _ => return None,
    };
    Some(result)
}

/// `histogram_quantile` over one group of classic buckets: `(le, cumulative
/// count)` pairs in any order. Prometheus' `bucketQuantile`, with its
/// monotonicity fix and its NaN when the `+Inf` bucket is missing.
/// This is the v2.42.0 algorithm; [`bucket_quantile_for`] picks by version.
pub fn bucket_quantile(quantile: f64, buckets: &mut [(f64, f64)]) -> f64 {
    bucket_quantile_for(Semantics::V2, quantile, buckets)
}

/// `bucketQuantile` (v2.42.0 quantile.go) or `BucketQuantile` (v3.14.0): the
/// versions differ only in the monotonicity fix, where 3.x also flattens
/// increases within a relative 1e-12 of the previous count
/// (ensureMonotonicAndIgnoreSmallDeltas, smallDeltaTolerance).
pub fn bucket_quantile_for(semantics: Semantics, quantile: f64, buckets: &mut [(f64, f64)]) -> f64 {
    if quantile.is_nan() {
        return f64::NAN;
    }
    if quantile < 0.0 {
        return f64::NEG_INFINITY;
    }
    if quantile > 1.0 {
        return f64::INFINITY;
    }
    if buckets.is_empty() {
        return f64::NAN;
    }
    // Bucket bounds are never NaN (they are parsed `le` labels that the
    // engine filters); a stable sort keeps equal bounds in input order.
    buckets.sort_by(|left, right| {
        left.0
            .partial_cmp(&right.0)
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    if buckets[buckets.len() - 1].0 != f64::INFINITY {
        return f64::NAN;
    }
    let length = coalesce_buckets(buckets);
    let buckets = &mut buckets[..length];
    match semantics {
        Semantics::V2 => ensure_monotonic(buckets),
        Semantics::V3 => ensure_monotonic_ignoring_small_deltas(buckets, 1e-12),
    }
    if buckets.len() < 2 {
        return f64::NAN;
    }
    let observations = buckets[buckets.len() - 1].1;
    if observations == 0.0 {
        return f64::NAN;
    }
    let mut rank = quantile * observations;
    // sort.Search over all but the +Inf bucket: the first count >= rank.
    let searched = &buckets[..buckets.len() - 1];
    let index = searched.partition_point(|bucket| bucket.1 < rank);
    if index == buckets.len() - 1 {
        return buckets[buckets.len() - 2].0;
    }
    if index == 0 && buckets[0].0 <= 0.0 {
        return buckets[0].0;
    }
    let mut bucket_start = 0.0;
    let bucket_end = buckets[index].0;
    let mut count = buckets[index].1;
    if index > 0 {
        bucket_start = buckets[index - 1].0;
        count -= buckets[index - 1].1;
        rank -= buckets[index - 1].1;
    }
    bucket_start + (bucket_end - bucket_start) * (rank / count)
}

/// coalesceBuckets: merges buckets with equal bounds (already sorted) by
/// adding their counts; returns the new length.
fn coalesce_buckets(buckets: &mut [(f64, f64)]) -> usize {
    let mut last = buckets[0];
    let mut write = 0;
    for index in 1..buckets.len() {
        let bucket = buckets[index];
        if bucket.0 == last.0 {
            last.1 += bucket.1;
        } else {
            buckets[write] = last;
            last = bucket;
            write += 1;
        }
    }
    buckets[write] = last;
    write + 1
}

/// ensureMonotonic (v2.42.0): every count is raised to the running maximum.
fn ensure_monotonic(buckets: &mut [(f64, f64)]) {
    let mut maximum = buckets[0].1;
    for bucket in buckets.iter_mut().skip(1) {
        if bucket.1 > maximum {
            maximum = bucket.1;
        } else if bucket.1 < maximum {
            bucket.1 = maximum;
        }
    }
}

/// ensureMonotonicAndIgnoreSmallDeltas (v3.14.0).
fn ensure_monotonic_ignoring_small_deltas(buckets: &mut [(f64, f64)], tolerance: f64) {
    let mut previous = buckets[0].1;
    for bucket in buckets.iter_mut().skip(1) {
        let current = bucket.1;
        if current == previous {
            continue;
        }
        if almost_equal(previous, current, tolerance) || current < previous {
            bucket.1 = previous;
            continue;
        }
        previous = current;
    }
}

/// util/almost.Equal for ordinary floats (bucket counts are never stale
/// markers): relative difference below `epsilon`, absolute near zero.
fn almost_equal(left: f64, right: f64, epsilon: f64) -> bool {
    if left.is_nan() && right.is_nan() {
        return true;
    }
    if left == right {
        return true;
    }
    let absolute_sum = left.abs() + right.abs();
    let difference = (left - right).abs();
    if left == 0.0 || right == 0.0 || absolute_sum < f64::MIN_POSITIVE {
        return difference < epsilon * f64::MIN_POSITIVE;
    }
    difference / absolute_sum.min(f64::MAX) < epsilon
}

/// The φ-quantile of `values`, as the `quantile` aggregation and
/// `quantile_over_time` compute it (linear interpolation; NaN for φ outside
/// [0, 1] is ±Inf as Prometheus has it).
///
/// Prometheus' `quantile` (quantile.go) sorts with vectorByValueHeap, whose
/// order puts NaN first; `values` is left sorted that way. An empty slice or
/// a NaN φ gives NaN, φ < 0 gives -Inf and φ > 1 gives +Inf.
pub fn quantile(quantile: f64, values: &mut [f64]) -> f64 {
    if values.is_empty() || quantile.is_nan() {
        return f64::NAN;
    }
    if quantile < 0.0 {
        return f64::NEG_INFINITY;
    }
    if quantile > 1.0 {
        return f64::INFINITY;
    }
    values.sort_by(|left, right| match (left.is_nan(), right.is_nan()) {
        (true, true) => std::cmp::Ordering::Equal,
        (true, false) => std::cmp::Ordering::Less,
        (false, true) => std::cmp::Ordering::Greater,
        (false, false) => left.partial_cmp(right).unwrap_or(std::cmp::Ordering::Equal),
    });
    let count = values.len() as f64;
    let rank = quantile * (count - 1.0);
    let lower_index = rank.floor().max(0.0);
    let upper_index = (count - 1.0).min(lower_index + 1.0);
    let weight = rank - rank.floor();
    values[lower_index as usize] * (1.0 - weight) + values[upper_index as usize] * weight
}

#[cfg(test)]
mod tests {
    //! Expected values come from the promqltest files of Prometheus v2.42.0
    //! and v3.14.0 (`functions.test`, `histograms.test`), recomputed here on
    //! hand-selected windows.

    use super::*;

    const MINUTE: i64 = 60_000;

    /// A loaded series: `values[i]` at `i * step` milliseconds.
    struct Series {
        timestamps: Vec<i64>,
        values: Vec<f64>,
    }

    fn series(step: i64, values: &[f64]) -> Series {
        Series {
            timestamps: (0..values.len() as i64).map(|index| index * step).collect(),
            values: values.to_vec(),
        }
    }

    /// `start + increment·k` for k in 0..=times, promqltest's `a+bxn`.
    fn expand(start: f64, increment: f64, times: usize) -> Vec<f64> {
        (0..=times).map(|k| start + increment * k as f64).collect()
    }

    /// Evaluates `name(series[range])` at `eval_time` with the window rules
    /// of `semantics`: `[t-r, t]` under V2 and `(t-r, t]` under V3.
    fn evaluate(
        name: &str,
        series: &Series,
        range: i64,
        eval_time: i64,
        semantics: Semantics,
        scalar_args: &[f64],
    ) -> Option<f64> {
        let range_start = eval_time - range;
        let inside = |time: i64| match semantics {
            Semantics::V2 => time >= range_start && time <= eval_time,
            Semantics::V3 => time > range_start && time <= eval_time,
        };
        let first = series.timestamps.iter().position(|&t| inside(t))?;
        let last = series.timestamps.iter().rposition(|&t| inside(t))?;
        let context = RangeContext {
            eval_time,
            range,
            range_start,
            range_end: eval_time,
            semantics,
        };
        let window = Window {
            timestamps: &series.timestamps[first..=last],
            values: &series.values[first..=last],
        };
        range_function(name, window, &context, scalar_args)
    }

    /// promqltest's comparison: relative epsilon 1e-6, NaN equals NaN.
    fn assert_close(actual: Option<f64>, expected: f64) {
        let actual = actual.expect("a result, not a dropped series");
        if expected.is_nan() {
            assert!(actual.is_nan(), "expected NaN, got {actual}");
            return;
        }
        if actual == expected {
            return;
        }
        let tolerance = 1e-6 * expected.abs().max(1e-300);
        assert!(
            (actual - expected).abs() <= tolerance,
            "expected {expected}, got {actual}"
        );
    }

    #[test]
    fn resets_and_changes_count_decreases_and_value_changes() {
        let foo = series(5 * MINUTE, &[1., 2., 3., 0., 1., 0., 0., 1., 2., 0.]);
        let bar = series(5 * MINUTE, &[1., 2., 3., 4., 5., 1., 2., 3., 4., 5.]);
        let at = 50 * MINUTE;
        let v2 = Semantics::V2;
        assert_eq!(
            evaluate("resets", &foo, 20 * MINUTE, at, v2, &[]),
            Some(1.0)
        );
        assert_eq!(
            evaluate("resets", &foo, 50 * MINUTE, at, v2, &[]),
            Some(3.0)
        );
        assert_eq!(
            evaluate("resets", &bar, 30 * MINUTE, at, v2, &[]),
            Some(1.0)
        );
        assert_eq!(
            evaluate("changes", &foo, 50 * MINUTE, at, v2, &[]),
            Some(8.0)
        );
        assert_eq!(
            evaluate("changes", &bar, 20 * MINUTE, at, v2, &[]),
            Some(3.0)
        );
        let nans = series(5 * MINUTE, &[f64::NAN, f64::NAN, f64::NAN]);
        let mixed = series(5 * MINUTE, &[0., f64::NAN, 0.]);
        assert_eq!(
            evaluate("changes", &nans, 15 * MINUTE, 15 * MINUTE, v2, &[]),
            Some(0.0)
        );
        assert_eq!(
            evaluate("changes", &mixed, 15 * MINUTE, 15 * MINUTE, v2, &[]),
            Some(2.0)
        );
    }

    #[test]
    fn increase_and_rate_extrapolate_and_handle_resets() {
        let at = 50 * MINUTE;
        let foo = series(5 * MINUTE, &expand(0., 10., 10));
        let mut bar_values = expand(0., 10., 5);
        bar_values.extend(expand(0., 10., 5));
        let bar = series(5 * MINUTE, &bar_values);
        for semantics in [Semantics::V2, Semantics::V3] {
            assert_close(
                evaluate("increase", &foo, 50 * MINUTE, at, semantics, &[]),
                100.0,
            );
            assert_close(
                evaluate("increase", &bar, 100 * MINUTE, at, semantics, &[]),
                90.0,
            );
        }
        let reset = series(5 * MINUTE, &[0., 1., 2., 3., 2., 3., 4.]);
        assert_close(
            evaluate(
                "increase",
                &reset,
                30 * MINUTE,
                30 * MINUTE,
                Semantics::V2,
                &[],
            ),
            7.0,
        );
        let mut middle_values = expand(0., 10., 4);
        middle_values.extend(expand(0., 10., 5));
        let middle = series(5 * MINUTE, &middle_values);
        assert_close(
            evaluate("rate", &middle, 50 * MINUTE, at, Semantics::V2, &[]),
            0.03,
        );
        let window = series(5 * MINUTE, &expand(0., 80., 10));
        assert_eq!(
            evaluate("rate", &window, 50 * MINUTE, at, Semantics::V2, &[]),
            Some(0.26666666666666666)
        );
        let mut end_values = expand(0., 10., 9);
        end_values.extend([0., 10.]);
        let end = series(5 * MINUTE, &end_values);
        assert_close(
            evaluate("rate", &end, 5 * MINUTE, at, Semantics::V2, &[]),
            0.0,
        );
    }

    #[test]
    fn rate_zero_cutoff_differs_between_v2_and_v3() {
        // load 4m; testcounter_zero_cutoff{start="Nm"} (60·N)+240x10.
        let v2_expected = [0.5, 0.55, 0.6, 0.65, 0.7, 0.6];
        let v3_expected = [0.5, 0.55, 0.6, 0.6, 0.6, 0.6];
        for start in 0..6 {
            let counter = series(4 * MINUTE, &expand(60.0 * start as f64, 240., 10));
            let at = 10 * MINUTE;
            assert_close(
                evaluate("rate", &counter, 20 * MINUTE, at, Semantics::V2, &[]),
                v2_expected[start],
            );
            assert_close(
                evaluate("rate", &counter, 20 * MINUTE, at, Semantics::V3, &[]),
                v3_expected[start],
            );
            for semantics in [Semantics::V2, Semantics::V3] {
                let later = evaluate("rate", &counter, 20 * MINUTE, 50 * MINUTE, semantics, &[]);
                assert_close(later, 0.6);
            }
        }
    }

    #[test]
    fn irate_delta_and_idelta() {
        let foo = series(5 * MINUTE, &expand(0., 10., 10));
        let mut bar_values = expand(0., 10., 5);
        bar_values.extend(expand(0., 10., 5));
        let bar = series(5 * MINUTE, &bar_values);
        let v2 = Semantics::V2;
        let expected = 0.033_333_333_333_333_33;
        assert_close(
            evaluate("irate", &foo, 50 * MINUTE, 50 * MINUTE, v2, &[]),
            expected,
        );
        assert_close(
            evaluate("irate", &bar, 50 * MINUTE, 50 * MINUTE, v2, &[]),
            expected,
        );
        assert_close(
            evaluate("irate", &bar, 50 * MINUTE, 30 * MINUTE, v2, &[]),
            0.0,
        );
        let up = series(5 * MINUTE, &[0., 50., 100., 150., 200.]);
        let down = series(5 * MINUTE, &[200., 150., 100., 50., 0.]);
        let at = 20 * MINUTE;
        assert_close(evaluate("delta", &up, 20 * MINUTE, at, v2, &[]), 200.0);
        assert_close(evaluate("delta", &down, 20 * MINUTE, at, v2, &[]), -200.0);
        let gauge = series(5 * MINUTE, &[0., 50., 100., 50.]);
        assert_eq!(
            evaluate("idelta", &gauge, 20 * MINUTE, at, v2, &[]),
            Some(-50.0)
        );
        let single = series(5 * MINUTE, &[3.0]);
        assert_eq!(evaluate("irate", &single, 5 * MINUTE, 0, v2, &[]), None);
        assert_eq!(evaluate("rate", &single, 5 * MINUTE, 0, v2, &[]), None);
    }

    #[test]
    fn deriv_and_predict_linear_use_their_intercept_times() {
        let mut values = expand(0., 10., 4);
        values.extend(expand(0., 10., 5));
        let counter = series(5 * MINUTE, &values);
        let at = 50 * MINUTE;
        for semantics in [Semantics::V2, Semantics::V3] {
            let deriv = evaluate("deriv", &counter, 100 * MINUTE, at, semantics, &[]);
            assert_eq!(deriv, Some(0.010606060606060607));
        }
        let v2_prediction = evaluate(
            "predict_linear",
            &counter,
            100 * MINUTE,
            at,
            Semantics::V2,
            &[3600.],
        );
        assert_eq!(v2_prediction, Some(76.81818181818181));
        // The left-open 3.x window drops the sample at 0 (PROMTOOLING.md 6.1).
        let v3_prediction = evaluate(
            "predict_linear",
            &counter,
            50 * MINUTE,
            at,
            Semantics::V3,
            &[3600.],
        );
        assert_close(v3_prediction, 70.0);
        let constant = series(MINUTE, &[f64::INFINITY, f64::INFINITY]);
        let infinite = evaluate("deriv", &constant, 5 * MINUTE, MINUTE, Semantics::V2, &[]);
        assert!(infinite.is_some_and(f64::is_nan));
    }

    #[test]
    fn holt_winters_follows_the_trend() {
        let step = 10_000;
        let cases: [(Vec<f64>, f64); 4] = [
            (
                [expand(0., 10., 1000), expand(100., 30., 1000)].concat(),
                8000.,
            ),
            (
                [expand(0., 20., 1000), expand(200., 30., 1000)].concat(),
                16000.,
            ),
            (
                [expand(0., 30., 1000), expand(300., 80., 1000)].concat(),
                24000.,
            ),
            (expand(0., 40., 2000), 32000.),
        ];
        for (values, expected) in cases {
            let loaded = series(step, &values);
            let at = 8_000_000;
            for name in ["holt_winters", "double_exponential_smoothing"] {
                let result = evaluate(name, &loaded, MINUTE, at, Semantics::V2, &[0.01, 0.1]);
                assert_close(result, expected);
            }
        }
        let falling = series(step, &expand(8000., -10., 1000));
        let result = evaluate(
            "holt_winters",
            &falling,
            MINUTE,
            8_000_000,
            Semantics::V2,
            &[0.01, 0.1],
        );
        assert_close(result, 0.0);
    }

    #[test]
    fn smoothing_factor_validation_uses_prometheus_wording() {
        assert_eq!(
            validate_range_function_args("holt_winters", &[1.0, 0.1]),
            Err("invalid smoothing factor. Expected: 0 < sf < 1, got: 1.000000".to_owned())
        );
        assert_eq!(
            validate_range_function_args("double_exponential_smoothing", &[0.5, 0.0]),
            Err("invalid trend factor. Expected: 0 < tf < 1, got: 0.000000".to_owned())
        );
        assert_eq!(
            validate_range_function_args("holt_winters", &[0.5, 0.5]),
            Ok(())
        );
        assert_eq!(
            validate_range_function_args("holt_winters", &[f64::NAN, 0.5]),
            Ok(())
        );
        assert_eq!(validate_range_function_args("rate", &[]), Ok(()));
    }

    #[test]
    fn over_time_aggregations() {
        let metric = series(10_000, &[0., 8., 8., 2., 3.]);
        // At 40s both window conventions hold all five samples.
        let at = 40_000;
        for semantics in [Semantics::V2, Semantics::V3] {
            let stdvar = evaluate("stdvar_over_time", &metric, MINUTE, at, semantics, &[]);
            assert_close(stdvar, 10.56);
            let stddev = evaluate("stddev_over_time", &metric, MINUTE, at, semantics, &[]);
            assert_close(stddev, 3.249615);
            assert_close(
                evaluate("avg_over_time", &metric, MINUTE, at, semantics, &[]),
                4.2,
            );
            assert_close(
                evaluate("sum_over_time", &metric, MINUTE, at, semantics, &[]),
                21.0,
            );
            assert_eq!(
                evaluate("min_over_time", &metric, MINUTE, at, semantics, &[]),
                Some(0.)
            );
            assert_eq!(
                evaluate("max_over_time", &metric, MINUTE, at, semantics, &[]),
                Some(8.)
            );
            let ts_of_max = evaluate("ts_of_max_over_time", &metric, MINUTE, at, semantics, &[]);
            assert_eq!(ts_of_max, Some(20.0), "the latest of equal maxima");
            let ts_of_min = evaluate("ts_of_min_over_time", &metric, MINUTE, at, semantics, &[]);
            assert_eq!(ts_of_min, Some(0.0));
            let count = evaluate("count_over_time", &metric, MINUTE, at, semantics, &[]);
            assert_eq!(count, Some(5.0));
            assert_eq!(
                evaluate("last_over_time", &metric, MINUTE, at, semantics, &[]),
                Some(3.)
            );
            let ts_of_last = evaluate("ts_of_last_over_time", &metric, MINUTE, at, semantics, &[]);
            assert_eq!(ts_of_last, Some(40.0));
        }
        let equal = series(10_000, &[1.5990505637277868; 3]);
        assert_eq!(
            evaluate(
                "stdvar_over_time",
                &equal,
                MINUTE,
                MINUTE,
                Semantics::V2,
                &[]
            ),
            Some(0.0)
        );
        let with_nan = series(10_000, &[f64::NAN, 1.0, 3.0]);
        let max = evaluate(
            "max_over_time",
            &with_nan,
            MINUTE,
            MINUTE,
            Semantics::V2,
            &[],
        );
        assert_eq!(max, Some(3.0), "a NaN start is replaced");
    }

    #[test]
    fn avg_over_time_handles_infinities_per_version() {
        let values = [f64::INFINITY, 1.0, f64::INFINITY];
        let loaded = series(10_000, &values);
        for semantics in [Semantics::V2, Semantics::V3] {
            let average = evaluate("avg_over_time", &loaded, MINUTE, MINUTE, semantics, &[]);
            assert_eq!(average, Some(f64::INFINITY));
        }
        // 3.x switches to the incremental mean when the sum overflows.
        let huge = series(10_000, &[f64::MAX, f64::MAX, f64::MAX]);
        let average = evaluate("avg_over_time", &huge, MINUTE, MINUTE, Semantics::V3, &[]);
        assert_close(average, f64::MAX);
    }

    #[test]
    fn quantile_and_mad_over_time() {
        let windows = [vec![0., 1.], vec![0., 1., 2.], vec![0., 1., 4.]];
        let expected = [
            (0.0, [0.0, 0.0, 0.0]),
            (0.5, [0.5, 1.0, 1.0]),
            (0.75, [0.75, 1.5, 2.5]),
            (0.8, [0.8, 1.6, 2.8]),
            (1.0, [1.0, 2.0, 4.0]),
            (-1.0, [f64::NEG_INFINITY; 3]),
            (2.0, [f64::INFINITY; 3]),
        ];
        for (phi, results) in expected {
            for (values, result) in windows.iter().zip(results) {
                let loaded = series(10_000, values);
                let actual = evaluate(
                    "quantile_over_time",
                    &loaded,
                    MINUTE,
                    MINUTE,
                    Semantics::V2,
                    &[phi],
                );
                assert_close(actual, result);
            }
        }
        assert!(quantile(f64::NAN, &mut [1.0]).is_nan());
        assert!(quantile(0.5, &mut []).is_nan());
        // vectorByValueHeap sorts NaN first.
        assert_eq!(quantile(1.0, &mut [f64::NAN, 2.0, 1.0]), 2.0);
        assert!(quantile(0.0, &mut [2.0, f64::NAN]).is_nan());
        // mad_over_time (v3.14.0 functions.test): metric 4 6 2 1 999 1 2 at 10s.
        let mad = series(10_000, &[4., 6., 2., 1., 999., 1., 2.]);
        let result = evaluate("mad_over_time", &mad, 70_000, 70_000, Semantics::V3, &[]);
        assert_close(result, 1.0);
        let nan = series(10_000, &[1., f64::NAN, 3.]);
        let result = evaluate("mad_over_time", &nan, 40_000, 30_000, Semantics::V3, &[]);
        assert!(result.is_some_and(f64::is_nan));
    }

    #[test]
    fn elementwise_functions_match_go() {
        assert_eq!(elementwise_function("round", 2.5, &[]), Some(3.0));
        assert_eq!(elementwise_function("round", -2.5, &[]), Some(-2.0));
        assert_eq!(elementwise_function("round", 1.234, &[0.1]), Some(1.2));
        assert_eq!(elementwise_function("round", 17.0, &[5.0]), Some(15.0));
        assert_eq!(elementwise_function("clamp", 5.0, &[0.0, 3.0]), Some(3.0));
        assert_eq!(elementwise_function("clamp", 5.0, &[3.0, 0.0]), None);
        assert!(elementwise_function("clamp", f64::NAN, &[0.0, 3.0]).is_some_and(f64::is_nan));
        assert!(elementwise_function("clamp_min", f64::NAN, &[0.0]).is_some_and(f64::is_nan));
        assert_eq!(
            elementwise_function("clamp_max", 5.0, &[f64::NEG_INFINITY]),
            Some(f64::NEG_INFINITY)
        );
        let negative_zero = elementwise_function("clamp_max", 0.0, &[-0.0]);
        assert!(negative_zero.is_some_and(|value| value == 0.0 && value.is_sign_negative()));
        assert_eq!(elementwise_function("sgn", -3.0, &[]), Some(-1.0));
        assert!(elementwise_function("sgn", f64::NAN, &[]).is_some_and(f64::is_nan));
        assert_eq!(elementwise_function("log2", 8.0, &[]), Some(3.0));
        assert_eq!(
            elementwise_function("log2", 0.0, &[]),
            Some(f64::NEG_INFINITY)
        );
        assert!(elementwise_function("log2", -1.0, &[]).is_some_and(f64::is_nan));
        // promtool 2.42 gives exactly 3 for log10(1000).
        assert_eq!(elementwise_function("log10", 1000.0, &[]), Some(3.0));
        assert_eq!(
            elementwise_function("deg", std::f64::consts::PI, &[]),
            Some(180.0)
        );
        assert_eq!(
            elementwise_function("rad", 180.0, &[]),
            Some(std::f64::consts::PI)
        );
        assert_eq!(elementwise_function("no_such_function", 1.0, &[]), None);
    }

    #[test]
    fn date_functions_read_unix_seconds_in_utc() {
        let date = |name: &str, value: f64| elementwise_function(name, value, &[]);
        assert_eq!(date("year", 0.0), Some(1970.0));
        assert_eq!(date("day_of_year", 1136239445.0), Some(2.0));
        assert_eq!(date("day_of_week", 0.0), Some(4.0));
        assert_eq!(date("day_of_week", 1136239445.0), Some(1.0));
        assert_eq!(date("hour", 1136239445.0), Some(22.0));
        assert_eq!(date("minute", 1136239445.0), Some(4.0));
        assert_eq!(date("year", 1230767999.0), Some(2008.0));
        assert_eq!(date("year", 1230768000.0), Some(2009.0));
        assert_eq!(date("month", 1456790399.0), Some(2.0));
        assert_eq!(date("day_of_month", 1456790399.0), Some(29.0));
        assert_eq!(date("month", 1456790400.0), Some(3.0));
        assert_eq!(date("day_of_year", 1483191420.0), Some(366.0));
        assert_eq!(date("day_of_year", 1672493820.0), Some(365.0));
        assert_eq!(date("days_in_month", 1454284800.0), Some(29.0));
        assert_eq!(date("days_in_month", 1485907200.0), Some(28.0));
        // Values promtool 2.42 printed on this machine: Go truncates towards
        // zero, and NaN/±Inf become the minimum int64.
        assert_eq!(date("day_of_month", -1.5), Some(31.0));
        assert_eq!(date("day_of_week", -86401.0), Some(2.0));
        assert_eq!(date("day_of_year", -86401.0), Some(364.0));
        assert_eq!(date("year", f64::NAN), Some(292_277_026_596.0));
        assert_eq!(date("hour", f64::INFINITY), Some(15.0));
        assert_eq!(date("day_of_year", 1e19), Some(339.0));
    }

    #[test]
    fn bucket_quantile_interpolates_and_fixes_monotonicity() {
        // histograms.test at 50m: histogram_quantile(0.5, testhistogram_bucket).
        let mut positive = vec![
            (f64::INFINITY, 120.0),
            (0.1, 50.0),
            (0.2, 70.0),
            (1.0, 110.0),
        ];
        assert_close(Some(bucket_quantile(0.5, &mut positive)), 0.15);
        let mut negative = vec![
            (-0.2, 10.0),
            (-0.1, 20.0),
            (0.3, 20.0),
            (f64::INFINITY, 30.0),
        ];
        assert_close(Some(bucket_quantile(0.5, &mut negative)), -0.15);
        // testhistogram2_bucket at 7m: le 0 → 0, 2 → 1, 4 → 2, 6 → 3, +Inf → 3.
        let second = [
            (0.0, 0.0),
            (2.0, 1.0),
            (4.0, 2.0),
            (6.0, 3.0),
            (f64::INFINITY, 3.0),
        ];
        assert_close(Some(bucket_quantile(1. / 6., &mut second.clone())), 1.0);
        assert_close(Some(bucket_quantile(0.5, &mut second.clone())), 3.0);
        assert_close(Some(bucket_quantile(5. / 6., &mut second.clone())), 5.0);
        let mut buckets = vec![(0.1, 50.0), (0.2, 70.0), (f64::INFINITY, 110.0)];
        assert_eq!(
            bucket_quantile(0.9, &mut buckets),
            0.2,
            "rank in +Inf bucket"
        );
        let mut no_infinity = vec![(0.1, 50.0), (0.2, 70.0)];
        assert!(bucket_quantile(0.5, &mut no_infinity).is_nan());
        let mut buckets = vec![(0.1, 1.0), (f64::INFINITY, 2.0)];
        assert_eq!(bucket_quantile(-0.1, &mut buckets), f64::NEG_INFINITY);
        assert_eq!(bucket_quantile(1.1, &mut buckets), f64::INFINITY);
        assert!(bucket_quantile(f64::NAN, &mut buckets).is_nan());
        // Non-monotonic counts are raised to the running maximum.
        let mut buckets = vec![(1.0, 10.0), (2.0, 5.0), (3.0, 20.0), (f64::INFINITY, 20.0)];
        assert_eq!(bucket_quantile(0.5, &mut buckets), 1.0);
        // Equal bounds are merged.
        let mut buckets = vec![(1.0, 5.0), (1.0, 5.0), (f64::INFINITY, 20.0)];
        assert_eq!(bucket_quantile(0.25, &mut buckets), 0.5);
        let mut zero = vec![(1.0, 0.0), (f64::INFINITY, 0.0)];
        assert!(bucket_quantile(0.5, &mut zero).is_nan());
        let mut negative = vec![(-1.0, 10.0), (f64::INFINITY, 20.0)];
        assert_eq!(bucket_quantile(0.25, &mut negative), -1.0);
        // 3.x flattens numerically insignificant increases.
        let tiny = 1.0 + 1e-15;
        let mut buckets = vec![(1.0, 1.0), (2.0, tiny), (f64::INFINITY, tiny)];
        let v3 = bucket_quantile_for(Semantics::V3, 1.0, &mut buckets.clone());
        assert_eq!(v3, 1.0);
        let v2 = bucket_quantile_for(Semantics::V2, 1.0, &mut buckets);
        assert_eq!(v2, 2.0);
    }

    #[test]
    fn every_listed_range_function_is_computed() {
        let loaded = series(10_000, &[1.0, 2.0, 4.0]);
        for name in RANGE_FUNCTION_NAMES {
            assert!(is_range_function(name));
            let result = evaluate(name, &loaded, MINUTE, MINUTE, Semantics::V3, &[0.5, 0.5]);
            assert!(result.is_some(), "{name} returned None");
        }
        assert!(!is_range_function("abs"));
    }
}
