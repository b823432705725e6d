//! Prometheus' `linearRegression` (`deriv`, `predict_linear`): the Kahan-compensated
//! sums as Prometheus computes them, and exact integer fast paths that give the same
//! bits: a single pass of integer sums for one window, and sliding integer sums that
//! a range query moves from step to step.
//!
//! Why the fast paths are bit-identical to the Kahan path:
//! Prometheus sums `x = (t - intercept_time) / 1000`, `y`, `x*y` and `x*x`
//! with Kahan–Neumaier compensation, then adds each compensation to its sum.
//! When every `x` and `y` is an integer-valued float and every partial sum,
//! in any order, stays within ±2^53, each term is computed exactly (the cast
//! of a whole-second millisecond difference, the division by 1000 and the
//! products are exact), each addition is exact, and so each compensation step
//! adds `(sum - total) + increment == +0.0`: the compensations stay `+0.0`
//! and `sum + compensation` is the exact integer sum, which the integer sums
//! here produce (converted exactly, as they are within ±2^53; a zero sum is
//! `+0.0` on both paths). The remaining float operations are the very same
//! function ([`finish_regression`]), so they give the same bits.
//!
//! The ±2^53 bound on every partial sum is checked with sums of absolute
//! values: with `X` the largest `|x|` of the window (at one of its ends, as
//! timestamps are sorted) and `A = Σ|y|`, every partial sum of `x` is at most
//! `n·X`, of `x*x` at most `n·X²`, of `x*y` at most `X·A`, of `y` at most
//! `A`. Anything else (fractional values or timestamps, NaN, ±Inf, values or
//! sums beyond 2^53) returns `None` and the caller uses the Kahan path.
//!
//! Invariants: the integer sums use wrapping arithmetic, which is exact
//! modulo 2^128; the bound check above is computed from quantities that
//! cannot wrap, and it guarantees the true sums fit, so when it passes the
//! wrapped sums equal the true ones. Nothing here panics on any input.

use super::kahan::{kahan_sum_inc, kahan_sum_inc_v3};
use super::value::Window;
use super::Semantics;

/// linearRegression (functions.go): least squares with Kahan-compensated
/// sums; `x` is seconds relative to `intercept_time`, and the returned
/// intercept is the fitted value at `intercept_time`. Windows of whole
/// numbers at whole seconds take the exact integer path of
/// [`integer_linear_regression`], which gives the same bits.
pub(crate) fn linear_regression(
    window: Window<'_>,
    intercept_time: i64,
    semantics: Semantics,
) -> (f64, f64) {
    if let Some(regression) = integer_linear_regression(window, intercept_time) {
        return regression;
    }
    kahan_linear_regression(window, intercept_time, semantics)
}

/// [`linear_regression`] always by Kahan sums, as Prometheus computes it.
pub(crate) fn kahan_linear_regression(
    window: Window<'_>,
    intercept_time: i64,
    semantics: Semantics,
) -> (f64, f64) {
    // Choosing the Kahan step once keeps the version test out of the loop,
    // which `predict_linear` runs over every sample of every window.
    match semantics {
        Semantics::V2 => linear_regression_with(window, intercept_time, kahan_sum_inc),
        Semantics::V3 => linear_regression_with(window, intercept_time, kahan_sum_inc_v3),
    }
}

fn linear_regression_with(
    window: Window<'_>,
    intercept_time: i64,
    kahan_step: impl Fn(f64, f64, f64) -> (f64, f64),
) -> (f64, f64) {
    let mut n = 0.0;
    let (mut sum_x, mut c_x) = (0.0, 0.0);
    let (mut sum_y, mut c_y) = (0.0, 0.0);
    let (mut sum_xy, mut c_xy) = (0.0, 0.0);
    let (mut sum_x2, mut c_x2) = (0.0, 0.0);
    let initial_y = window.values[0];
    let mut constant_y = true;
    for (index, (&time, &value)) in window.timestamps.iter().zip(window.values).enumerate() {
        if constant_y && index > 0 && value != initial_y {
            constant_y = false;
        }
        n += 1.0;
        let x = (time - intercept_time) as f64 / 1e3;
        (sum_x, c_x) = kahan_step(x, sum_x, c_x);
        (sum_y, c_y) = kahan_step(value, sum_y, c_y);
        (sum_xy, c_xy) = kahan_step(x * value, sum_xy, c_xy);
        (sum_x2, c_x2) = kahan_step(x * x, sum_x2, c_x2);
    }
    if constant_y {
        if initial_y.is_infinite() {
            return (f64::NAN, f64::NAN);
        }
        return (0.0, initial_y);
    }
    finish_regression(n, sum_x + c_x, sum_y + c_y, sum_xy + c_xy, sum_x2 + c_x2)
}

/// The float operations of linearRegression after its sums (compensations
/// already added), shared by the Kahan and the exact integer paths so both
/// compute identically.
pub(crate) fn finish_regression(
    n: f64,
    sum_x: f64,
    sum_y: f64,
    sum_xy: f64,
    sum_x2: f64,
) -> (f64, f64) {
    let covariance_xy = sum_xy - sum_x * sum_y / n;
    let variance_x = sum_x2 - sum_x * sum_x / n;
    let slope = covariance_xy / variance_x;
    let intercept = sum_y / n - slope * sum_x / n;
    (slope, intercept)
}

/// 2^53: integers up to this magnitude are exact in an `f64`.
const EXACT_INTEGER_LIMIT: i128 = 1 << 53;

/// The integer value of `value` when it is a whole number within ±2^53.
fn exact_integer(value: f64) -> Option<i64> {
    // Within ±2^53 the cast to i64 is exact for whole numbers and truncates
    // others, so the round trip tells them apart (NaN fails the range test).
    if value.abs() <= EXACT_INTEGER_LIMIT as f64 && (value as i64) as f64 == value {
        Some(value as i64)
    } else {
        None
    }
}

/// Whole seconds from `origin` to `time`, when the difference is a whole
/// number of seconds.
fn whole_seconds(time: i64, origin: i64) -> Option<i64> {
    let milliseconds = time.checked_sub(origin)?;
    (milliseconds % 1000 == 0).then_some(milliseconds / 1000)
}

/// Whether sums with these bounds are exact in `f64` (see the module doc).
fn sums_are_exact(count: i128, max_abs_x: i128, sum_abs_y: i128) -> bool {
    let within = |bound: Option<i128>| bound.is_some_and(|b| b <= EXACT_INTEGER_LIMIT);
    within(count.checked_mul(max_abs_x))
        && within(
            max_abs_x
                .checked_mul(max_abs_x)
                .and_then(|square| square.checked_mul(count)),
        )
        && within(max_abs_x.checked_mul(sum_abs_y))
        && within(Some(sum_abs_y))
}

/// The four exact sums relative to the intercept time, as `f64`, once their
/// exactness is checked; `(slope, intercept)` as Prometheus computes it.
fn finish_exact(count: i128, sum_x: i128, sum_y: i128, sum_xy: i128, sum_x2: i128) -> (f64, f64) {
    // Each sum is within ±2^53 (checked by the caller), so it fits an i64,
    // whose conversion is exact and avoids the slow i128 one.
    let exact = |sum: i128| sum as i64 as f64;
    finish_regression(
        count as i64 as f64,
        exact(sum_x),
        exact(sum_y),
        exact(sum_xy),
        exact(sum_x2),
    )
}

/// `linearRegression` of one window by integer sums, or `None` when the
/// window is outside the exact case. The window has at least one sample.
pub(crate) fn integer_linear_regression(
    window: Window<'_>,
    intercept_time: i64,
) -> Option<(f64, f64)> {
    let initial_y = *window.values.first()?;
    let (mut sum_x, mut sum_y, mut sum_xy, mut sum_x2) = (0i128, 0i128, 0i128, 0i128);
    let mut sum_abs_y = 0i128;
    let mut constant_y = true;
    for (&time, &value) in window.timestamps.iter().zip(window.values) {
        let y = i128::from(exact_integer(value)?);
        let x = i128::from(whole_seconds(time, intercept_time)?);
        constant_y &= value == initial_y;
        sum_x = sum_x.wrapping_add(x);
        sum_y = sum_y.wrapping_add(y);
        sum_xy = sum_xy.wrapping_add(x.wrapping_mul(y));
        sum_x2 = sum_x2.wrapping_add(x.wrapping_mul(x));
        sum_abs_y = sum_abs_y.wrapping_add(y.abs());
    }
    if constant_y {
        return Some((0.0, initial_y));
    }
    let count = window.values.len() as i128;
    let first_x = i128::from(whole_seconds(*window.timestamps.first()?, intercept_time)?);
    let last_x = i128::from(whole_seconds(*window.timestamps.last()?, intercept_time)?);
    if !sums_are_exact(count, first_x.abs().max(last_x.abs()), sum_abs_y) {
        return None;
    }
    Some(finish_exact(count, sum_x, sum_y, sum_xy, sum_x2))
}

/// Integer sums over `values[start..end]` of one stale-free series, with `x`
/// in whole seconds from `origin` (the series' first timestamp), moved by
/// adding the samples that enter and removing those that leave.
#[derive(Clone, Debug, Default)]
pub(crate) struct SlidingRegression {
    origin: Option<i64>,
    start: usize,
    end: usize,
    sum_x: i128,
    sum_y: i128,
    sum_xy: i128,
    sum_x2: i128,
    sum_abs_y: i128,
    /// Samples in the window that leave the exact case.
    inexact_samples: usize,
    /// Adjacent pairs in the window with different values.
    value_changes: usize,
}

impl SlidingRegression {
    /// Moves the sums to `[start, end)` of the series and returns the window's
    /// `linearRegression` for `intercept_time`, or `None` outside the exact case.
    pub(crate) fn regression(
        &mut self,
        timestamps: &[i64],
        values: &[f64],
        start: usize,
        end: usize,
        intercept_time: i64,
    ) -> Option<(f64, f64)> {
        if start >= end || end > timestamps.len() || timestamps.len() != values.len() {
            return None;
        }
        // The origin is the series' first timestamp; a different one means
        // the state belongs to another series, so it starts afresh.
        let origin = timestamps[0];
        let moved_back = self.origin != Some(origin) || start < self.start || end < self.end;
        let far_ahead = start >= self.end;
        if moved_back || far_ahead {
            *self = SlidingRegression {
                origin: Some(origin),
                start,
                end: start,
                ..SlidingRegression::default()
            };
        }
        while self.end < end {
            self.push_back(timestamps, values, origin);
        }
        while self.start < start {
            self.pop_front(timestamps, values, origin);
        }
        if self.inexact_samples > 0 {
            return None;
        }
        let initial_y = values[start];
        if self.value_changes == 0 {
            return Some((0.0, initial_y));
        }
        let shift = i128::from(whole_seconds(intercept_time, origin)?);
        let count = (end - start) as i128;
        let first_x = i128::from(whole_seconds(timestamps[start], origin)?) - shift;
        let last_x = i128::from(whole_seconds(timestamps[end - 1], origin)?) - shift;
        if !sums_are_exact(count, first_x.abs().max(last_x.abs()), self.sum_abs_y) {
            return None;
        }
        // Re-base x from the origin to the intercept time: x = x' - shift.
        let sum_x = self.sum_x.wrapping_sub(count.wrapping_mul(shift));
        let sum_xy = self.sum_xy.wrapping_sub(shift.wrapping_mul(self.sum_y));
        let sum_x2 = self
            .sum_x2
            .wrapping_sub(shift.wrapping_mul(2).wrapping_mul(self.sum_x))
            .wrapping_add(count.wrapping_mul(shift.wrapping_mul(shift)));
        Some(finish_exact(count, sum_x, self.sum_y, sum_xy, sum_x2))
    }

    /// The sample's `(x', y)` relative to the origin, when exact.
    fn terms(time: i64, value: f64, origin: i64) -> Option<(i128, i128)> {
        let y = exact_integer(value)?;
        let x = whole_seconds(time, origin)?;
        Some((i128::from(x), i128::from(y)))
    }

    fn push_back(&mut self, timestamps: &[i64], values: &[f64], origin: i64) {
        let index = self.end;
        if index > self.start && values[index] != values[index - 1] {
            self.value_changes += 1;
        }
        self.apply(timestamps[index], values[index], origin, 1);
        self.end += 1;
    }

    fn pop_front(&mut self, timestamps: &[i64], values: &[f64], origin: i64) {
        let index = self.start;
        if index + 1 < self.end && values[index + 1] != values[index] {
            self.value_changes -= 1;
        }
        self.apply(timestamps[index], values[index], origin, -1);
        self.start += 1;
    }

    /// Adds (`sign` 1) or removes (`sign` -1) one sample's terms.
    fn apply(&mut self, time: i64, value: f64, origin: i64, sign: i128) {
        match Self::terms(time, value, origin) {
            Some((x, y)) => {
                self.sum_x = self.sum_x.wrapping_add(sign * x);
                self.sum_y = self.sum_y.wrapping_add(sign * y);
                self.sum_xy = self.sum_xy.wrapping_add(sign * x.wrapping_mul(y));
                self.sum_x2 = self.sum_x2.wrapping_add(sign * x.wrapping_mul(x));
                self.sum_abs_y = self.sum_abs_y.wrapping_add(sign * y.abs());
            }
            None if sign > 0 => self.inexact_samples += 1,
            None => self.inexact_samples -= 1,
        }
    }
}

#[cfg(test)]
mod tests {
    //! The exact paths against the Kahan path (which the promqltest files and
    //! promtool check), bit for bit.

    use super::*;
    use proptest::prelude::*;

    fn kahan(timestamps: &[i64], values: &[f64], intercept_time: i64) -> [(f64, f64); 2] {
        let window = Window { timestamps, values };
        [Semantics::V2, Semantics::V3]
            .map(|semantics| kahan_linear_regression(window, intercept_time, semantics))
    }

    fn same_bits(left: (f64, f64), right: (f64, f64)) -> bool {
        left.0.to_bits() == right.0.to_bits() && left.1.to_bits() == right.1.to_bits()
    }

    /// Sorted whole-second timestamps from gaps in seconds (gaps model
    /// missed scrapes), values from integer steps (negative steps are resets).
    fn series(start_seconds: i64, gaps: &[i64], steps: &[i64], first: i64) -> (Vec<i64>, Vec<f64>) {
        let mut time = start_seconds * 1000;
        let mut value = first;
        let mut timestamps = Vec::new();
        let mut values = Vec::new();
        for (gap, step) in gaps.iter().zip(steps) {
            time += gap * 1000;
            value += step;
            timestamps.push(time);
            values.push(value as f64);
        }
        (timestamps, values)
    }

    proptest! {
        #[test]
        fn one_pass_integer_sums_match_kahan_bit_for_bit(
            start in -100_000i64..100_000,
            gaps in prop::collection::vec(1i64..600, 2..80),
            steps in prop::collection::vec(-1_000_000i64..1_000_000, 80),
            first in -1_000_000_000i64..1_000_000_000,
            eval_offset in 0i64..7_200,
        ) {
            let (timestamps, values) = series(start, &gaps, &steps, first);
            let window = Window { timestamps: &timestamps, values: &values };
            for intercept_time in [timestamps[0], timestamps[timestamps.len() - 1] + eval_offset * 1000] {
                let fast = integer_linear_regression(window, intercept_time);
                // These windows are far from 2^53, so the fast path must apply.
                prop_assert!(fast.is_some());
                for expected in kahan(&timestamps, &values, intercept_time) {
                    prop_assert!(same_bits(fast.unwrap(), expected), "{fast:?} vs {expected:?}");
                }
            }
        }

        #[test]
        fn sliding_sums_match_kahan_bit_for_bit(
            gaps in prop::collection::vec(1i64..120, 2..300),
            steps in prop::collection::vec(-50_000i64..50_000, 300),
            moves in prop::collection::vec((0usize..40, 1usize..60, -3i64..3), 1..60),
        ) {
            let (timestamps, values) = series(1_700_000_000, &gaps, &steps, 0);
            let mut sliding = SlidingRegression::default();
            let mut start = 0;
            for (advance, length, intercept_offset) in moves {
                // Mostly forward moves; wrapping around models a new query.
                start = (start + advance) % timestamps.len();
                let end = (start + length).min(timestamps.len());
                let intercept_time = timestamps[end - 1] + intercept_offset * 1000;
                let fast = sliding.regression(&timestamps, &values, start, end, intercept_time);
                prop_assert!(fast.is_some());
                let window = (&timestamps[start..end], &values[start..end]);
                for expected in kahan(window.0, window.1, intercept_time) {
                    prop_assert!(same_bits(fast.unwrap(), expected), "{fast:?} vs {expected:?}");
                }
            }
        }

        #[test]
        fn large_values_fall_back_or_match(
            gaps in prop::collection::vec(1i64..3_600, 2..20),
            magnitudes in prop::collection::vec(0i64..(1 << 53), 20),
            negative in prop::collection::vec(any::<bool>(), 20),
        ) {
            let timestamps: Vec<i64> = gaps.iter().scan(0, |time, gap| { *time += gap * 1000; Some(*time) }).collect();
            let values: Vec<f64> = magnitudes.iter().zip(&negative).take(timestamps.len())
                .map(|(&m, &n)| if n { -(m as f64) } else { m as f64 }).collect();
            let window = Window { timestamps: &timestamps, values: &values };
            let intercept_time = timestamps[0];
            let mut sliding = SlidingRegression::default();
            let slid = sliding.regression(&timestamps, &values, 0, timestamps.len(), intercept_time);
            let fast = integer_linear_regression(window, intercept_time);
            prop_assert!(fast.is_some() == slid.is_some());
            if let (Some(fast), Some(slid)) = (fast, slid) {
                prop_assert!(same_bits(fast, slid));
                for expected in kahan(&timestamps, &values, intercept_time) {
                    prop_assert!(same_bits(fast, expected), "{fast:?} vs {expected:?}");
                }
            }
        }
    }

    #[test]
    fn sums_at_the_2_pow_53_boundary() {
        let timestamps = [0, 1000];
        let half = (1i64 << 52) as f64;
        // Σ|y| = 2^53 - 1: exact, and equal to the Kahan result.
        let below = [half, half - 1.0];
        let window = Window {
            timestamps: &timestamps,
            values: &below,
        };
        let fast = integer_linear_regression(window, 0).expect("within 2^53");
        for expected in kahan(&timestamps, &below, 0) {
            assert!(same_bits(fast, expected), "{fast:?} vs {expected:?}");
        }
        // Σ|y| = 2^53 + 1: a partial sum could round, so fall back.
        let above = [half, half + 1.0];
        let window = Window {
            timestamps: &timestamps,
            values: &above,
        };
        assert_eq!(integer_linear_regression(window, 0), None);
        let mut sliding = SlidingRegression::default();
        assert_eq!(sliding.regression(&timestamps, &above, 0, 2, 0), None);
        // Σ|x·y| beyond 2^53 through a large x.
        let far = [0, 2_000_000_000_000];
        let values = [1.0, (1i64 << 40) as f64];
        let window = Window {
            timestamps: &far,
            values: &values,
        };
        assert_eq!(integer_linear_regression(window, 0), None);
    }

    #[test]
    fn inexact_windows_fall_back() {
        let timestamps = [0, 1000, 2000];
        for values in [
            [1.0, 2.5, 3.0],
            [1.0, f64::NAN, 3.0],
            [1.0, f64::INFINITY, 3.0],
        ] {
            let window = Window {
                timestamps: &timestamps,
                values: &values,
            };
            assert_eq!(integer_linear_regression(window, 0), None);
            let mut sliding = SlidingRegression::default();
            assert_eq!(sliding.regression(&timestamps, &values, 0, 3, 0), None);
        }
        let values = [1.0, 2.0, 3.0];
        let window = Window {
            timestamps: &timestamps,
            values: &values,
        };
        // Intercept time off the whole seconds of the samples.
        assert_eq!(integer_linear_regression(window, 500), None);
        let fractional = [0, 1500, 3000];
        let window = Window {
            timestamps: &fractional,
            values: &values,
        };
        assert_eq!(integer_linear_regression(window, 0), None);
        // Once the inexact sample leaves the window, the sliding sums apply again.
        let values = [0.5, 2.0, 3.0, 7.0];
        let timestamps = [0, 1000, 2000, 3000];
        let mut sliding = SlidingRegression::default();
        assert_eq!(sliding.regression(&timestamps, &values, 0, 3, 3000), None);
        let fast = sliding
            .regression(&timestamps, &values, 1, 4, 3000)
            .expect("exact");
        for expected in kahan(&timestamps[1..], &values[1..], 3000) {
            assert!(same_bits(fast, expected));
        }
    }

    #[test]
    fn constant_values_keep_their_sign_of_zero() {
        let timestamps = [0, 1000, 2000];
        let values = [-0.0, 0.0, -0.0];
        let window = Window {
            timestamps: &timestamps,
            values: &values,
        };
        let fast = integer_linear_regression(window, 0).expect("exact");
        assert!(same_bits(fast, (0.0, -0.0)));
        for expected in kahan(&timestamps, &values, 0) {
            assert!(same_bits(fast, expected));
        }
        let mut sliding = SlidingRegression::default();
        let slid = sliding
            .regression(&timestamps, &values, 0, 3, 0)
            .expect("exact");
        assert!(same_bits(slid, (0.0, -0.0)));
    }
}
