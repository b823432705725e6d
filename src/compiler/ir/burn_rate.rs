//! Multi-window, multi-burn-rate alert parameters: the SRE workbook table as data.
//!
//! Source: Google, *The Site Reliability Workbook*, chapter 5 "Alerting on SLOs",
//! section 6 "Multiwindow, Multi-Burn-Rate Alerts", table 5-8 (recommended
//! parameters for a 99.9% SLO over 30 days): page when 2% of the budget burns in
//! 1 hour (short window 5m) or 5% in 6 hours (30m); open a ticket when 10% burns
//! in 1 day (2h) or 10% in 3 days (6h). Sloth and Pyrra use the same table.
//!
//! The burn-rate factor of a window is the rate that spends that fraction of the
//! budget in the long window: `factor = budget_consumed × objective_window /
//! long_window`. For 30 days this gives the workbook's 14.4, 6, 3 and 1; for any
//! other window the same budget fractions give the right factors (28d: 13.44, 5.6,
//! 2.8, 0.9333…), instead of the 30-day constants that peers hard-code. The
//! factor is computed in exact decimals; it is exact whenever the quotient
//! terminates (every whole number of days over 1h, 6h and 1d does), otherwise it is
//! rounded at 12 fractional digits and [`BurnFactor::exact`] is false.

use crate::compiler::ir::decimal::Decimal;
use crate::compiler::ir::duration::Duration;
use crate::compiler::ir::Tier;

/// One row of the workbook table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DefaultBurnWindow {
    pub tier: Tier,
    pub long: Duration,
    pub short: Duration,
    /// Fraction of the error budget spent in `long` at the alerting burn rate,
    /// as (mantissa, scale): 2% is (2, 2).
    pub budget_consumed: (i128, u32),
}

/// SRE workbook table 5-8, in order: page rows first, then ticket rows.
pub const DEFAULT_BURN_WINDOWS: [DefaultBurnWindow; 4] = [
    DefaultBurnWindow {
        tier: Tier::Page,
        long: Duration::hours(1),
        short: Duration::minutes(5),
        budget_consumed: (2, 2),
    },
    DefaultBurnWindow {
        tier: Tier::Page,
        long: Duration::hours(6),
        short: Duration::minutes(30),
        budget_consumed: (5, 2),
    },
    DefaultBurnWindow {
        tier: Tier::Ticket,
        long: Duration::days(1),
        short: Duration::hours(2),
        budget_consumed: (10, 2),
    },
    DefaultBurnWindow {
        tier: Tier::Ticket,
        long: Duration::days(3),
        short: Duration::hours(6),
        budget_consumed: (10, 2),
    },
];

/// A computed factor and whether it is exact.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BurnFactor {
    pub factor: Decimal,
    pub exact: bool,
}

impl DefaultBurnWindow {
    pub fn budget_consumed(&self) -> Decimal {
        let (mantissa, scale) = self.budget_consumed;
        Decimal::new(mantissa, scale).unwrap_or(Decimal::ZERO)
    }
}

/// `budget_consumed × objective_window / long_window`; `None` only for a zero
/// long window or an arithmetic overflow (windows of millions of years).
pub fn burn_factor(
    budget_consumed: Decimal,
    objective_window: Duration,
    long_window: Duration,
) -> Option<BurnFactor> {
    let numerator = budget_consumed.checked_mul(objective_window.as_millis_decimal())?;
    let (factor, exact) = numerator.div_rounded(long_window.as_millis_decimal())?;
    Some(BurnFactor { factor, exact })
}

/// The workbook's budget fraction for a long window, when the window is one of
/// the table's; a user `burn { long = 6h, short = 30m }` without `factor` uses it.
pub fn default_budget_consumed(long_window: Duration) -> Option<Decimal> {
    DEFAULT_BURN_WINDOWS
        .iter()
        .find(|row| row.long == long_window)
        .map(DefaultBurnWindow::budget_consumed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn factors(window: Duration) -> Vec<String> {
        DEFAULT_BURN_WINDOWS
            .iter()
            .map(|row| {
                burn_factor(row.budget_consumed(), window, row.long)
                    .expect("table windows are non-zero")
                    .factor
                    .to_string()
            })
            .collect()
    }

    #[test]
    fn thirty_days_reproduces_the_workbook_table() {
        assert_eq!(factors(Duration::days(30)), ["14.4", "6", "3", "1"]);
    }

    #[test]
    fn other_windows_scale_the_same_budget_fractions() {
        assert_eq!(
            factors(Duration::days(28)),
            ["13.44", "5.6", "2.8", "0.933333333333"]
        );
        assert_eq!(
            factors(Duration::days(7)),
            ["3.36", "1.4", "0.7", "0.233333333333"]
        );
        assert_eq!(factors(Duration::days(90)), ["43.2", "18", "9", "3"]);
    }

    #[test]
    fn factors_rise_as_the_long_window_shrinks() {
        let window = Duration::days(30);
        let consumed = Decimal::parse("0.02").unwrap();
        let one_hour = burn_factor(consumed, window, Duration::hours(1)).unwrap();
        let two_hours = burn_factor(consumed, window, Duration::hours(2)).unwrap();
        assert!(one_hour.factor > two_hours.factor);
        assert!(one_hour.exact && two_hours.exact);
    }
}
