//! PromQL's float functions on already-selected samples: range functions over
//! one series' window, element-wise functions, and the quantile helpers shared
//! by functions and aggregations. Selection (lookback, staleness, offset, `@`)
//! is the engine's job; this module only computes.

use super::Semantics;

/// The samples of one series inside a range window, oldest first, with stale
/// markers already removed. Both slices have the same length.
#[derive(Clone, Copy, Debug)]
pub struct Window<'a> {
    pub timestamps: &'a [i64],
    pub values: &'a [f64],
}

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

/// A function over a range vector, applied to one series: `rate`, `increase`,
/// `delta`, `irate`, `idelta`, `deriv`, `predict_linear`, `holt_winters` /
/// `double_exponential_smoothing`, `resets`, `changes`, and every
/// `*_over_time`. `scalar_args` are the function's scalar arguments in order
/// (`predict_linear`'s seconds, `quantile_over_time`'s φ, ...).
/// `None` drops the series from the result, as Prometheus does when a window
/// has too few samples.
pub fn range_function(
    _name: &str,
    _window: Window<'_>,
    _context: &RangeContext,
    _scalar_args: &[f64],
) -> Option<f64> {
    unimplemented!("filled in on branch eval-functions")
}

/// Whether `name` is a function [`range_function`] computes.
pub fn is_range_function(_name: &str) -> bool {
    unimplemented!("filled in on branch eval-functions")
}

/// A function applied to each sample value on its own: `abs`, `ceil`, `floor`,
/// `exp`, `ln`, `log2`, `log10`, `sqrt`, `round`, `clamp`, `clamp_min`,
/// `clamp_max`, `sgn`, the trigonometric functions, `deg`, `rad`, and the date
/// functions over the value as Unix seconds (`hour`, `day_of_week`, ...).
/// `None` when `name` is not such a function.
pub fn elementwise_function(_name: &str, _value: f64, _scalar_args: &[f64]) -> Option<f64> {
    unimplemented!("filled in on branch eval-functions")
}

/// `histogram_quantile` over one group of classic buckets: `(le, cumulative
/// count)` pairs in any order. Prometheus' `bucketQuantile`, with its
/// monotonicity fix and its NaN when the `+Inf` bucket is missing.
pub fn bucket_quantile(_quantile: f64, _buckets: &mut [(f64, f64)]) -> f64 {
    unimplemented!("filled in on branch eval-functions")
}

/// The φ-quantile of `values`, as the `quantile` aggregation and
/// `quantile_over_time` compute it (linear interpolation; NaN for φ outside
/// [0, 1] is ±Inf as Prometheus has it).
pub fn quantile(_quantile: f64, _values: &mut [f64]) -> f64 {
    unimplemented!("filled in on branch eval-functions")
}

/// One step of Kahan–Babuška summation, as Prometheus' `kahanSumInc`:
/// returns the new `(sum, compensation)`.
pub fn kahan_sum_inc(_increment: f64, _sum: f64, _compensation: f64) -> (f64, f64) {
    unimplemented!("filled in on branch eval-functions")
}
