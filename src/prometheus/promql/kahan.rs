//! Prometheus' Kahan–Babuška (Neumaier) summation step, in its 2.42 and 3.x forms:
//! the sums of `sum_over_time`, `avg`, `stddev`, linear regression and friends.
//!
//! Invariants: each function is one step, `(sum, compensation)` in and out; the
//! caller adds the compensation to the sum at the end.

use super::Semantics;

/// One step of Kahan–Babuška summation, as Prometheus' `kahanSumInc`:
/// returns the new `(sum, compensation)`.
/// This is v2.42.0's version; [`kahan_sum_inc_for`] picks by version.
pub fn kahan_sum_inc(increment: f64, sum: f64, compensation: f64) -> (f64, f64) {
    let total = sum + increment;
    // Neumaier's improvement: compensate with the smaller operand.
    let compensation = if sum.abs() >= increment.abs() {
        compensation + ((sum - total) + increment)
    } else {
        compensation + ((increment - total) + sum)
    };
    (total, compensation)
}

/// util/kahansum.Inc (v3.14.0): as [`kahan_sum_inc`], except that an infinite
/// sum resets the compensation to 0 instead of letting it become NaN.
pub fn kahan_sum_inc_v3(increment: f64, sum: f64, compensation: f64) -> (f64, f64) {
    let total = sum + increment;
    if total.is_infinite() {
        return (total, 0.0);
    }
    kahan_sum_inc(increment, sum, compensation)
}

/// The Kahan step of the given Prometheus version.
pub fn kahan_sum_inc_for(
    semantics: Semantics,
    increment: f64,
    sum: f64,
    compensation: f64,
) -> (f64, f64) {
    match semantics {
        Semantics::V2 => kahan_sum_inc(increment, sum, compensation),
        Semantics::V3 => kahan_sum_inc_v3(increment, sum, compensation),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kahan_sum_recovers_lost_low_bits() {
        let (mut sum, mut compensation) = (0.0, 0.0);
        for value in [1.0, 1e100, 1.0, -1e100] {
            (sum, compensation) = kahan_sum_inc(value, sum, compensation);
        }
        assert_eq!(sum + compensation, 2.0);
        let (sum, compensation) = kahan_sum_inc_v3(f64::INFINITY, 1.0, 0.5);
        assert_eq!((sum, compensation), (f64::INFINITY, 0.0));
        let (_, v2_compensation) = kahan_sum_inc(f64::INFINITY, 1.0, 0.5);
        assert!(v2_compensation.is_nan());
    }
}
