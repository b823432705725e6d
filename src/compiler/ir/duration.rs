//! Exact durations in milliseconds, printed the way Prometheus prints them.
//!
//! Invariant: a [`Duration`] is never negative (the checker rejects nothing else
//! because the grammar has no negative durations). `Display` follows Prometheus'
//! `model.Duration.String()`: years and weeks only when they divide the value
//! exactly (so `30d` stays `30d` while `28d` becomes `4w`), then days, hours,
//! minutes, seconds and milliseconds; zero is `0s`. PromQL range selectors,
//! `for:` fields and rule names all accept this form.

use std::fmt;

use crate::compiler::ir::decimal::Decimal;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Duration {
    pub millis: i64,
}

pub const MILLISECOND: i64 = 1;
pub const SECOND: i64 = 1_000;
pub const MINUTE: i64 = 60 * SECOND;
pub const HOUR: i64 = 60 * MINUTE;
pub const DAY: i64 = 24 * HOUR;
pub const WEEK: i64 = 7 * DAY;
/// Prometheus' year: 365 days, no leap years.
pub const YEAR: i64 = 365 * DAY;

impl Duration {
    pub const ZERO: Duration = Duration { millis: 0 };

    pub const fn from_millis(millis: i64) -> Duration {
        Duration { millis }
    }

    pub const fn minutes(count: i64) -> Duration {
        Duration {
            millis: count * MINUTE,
        }
    }

    pub const fn hours(count: i64) -> Duration {
        Duration {
            millis: count * HOUR,
        }
    }

    pub const fn days(count: i64) -> Duration {
        Duration {
            millis: count * DAY,
        }
    }

    pub fn is_zero(self) -> bool {
        self.millis == 0
    }

    /// The form for messages to people: like `Display` but without weeks and
    /// years, so a `7d` the user wrote reads back as `7d`, not `1w`.
    pub fn to_plain_string(self) -> String {
        if self.millis <= 0 {
            return self.to_string();
        }
        let mut remaining = self.millis;
        let mut text = String::new();
        for (unit, size) in [
            ("d", DAY),
            ("h", HOUR),
            ("m", MINUTE),
            ("s", SECOND),
            ("ms", MILLISECOND),
        ] {
            let count = remaining / size;
            if count > 0 {
                text.push_str(&format!("{count}{unit}"));
                remaining -= count * size;
            }
        }
        text
    }

    /// Exact seconds, as Prometheus writes `le` bucket boundaries: `250ms` is `0.25`.
    pub fn as_seconds(self) -> Decimal {
        Decimal::new(i128::from(self.millis), 3).unwrap_or(Decimal::ZERO)
    }

    /// Exact milliseconds as a decimal, for ratio arithmetic between durations.
    pub fn as_millis_decimal(self) -> Decimal {
        Decimal::from_integer(self.millis)
    }
}

impl fmt::Display for Duration {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut remaining = self.millis;
        if remaining == 0 {
            return formatter.write_str("0s");
        }
        if remaining < 0 {
            formatter.write_str("-")?;
            remaining = remaining.checked_neg().unwrap_or(i64::MAX);
        }
        let units: [(&str, i64, bool); 7] = [
            ("y", YEAR, true),
            ("w", WEEK, true),
            ("d", DAY, false),
            ("h", HOUR, false),
            ("m", MINUTE, false),
            ("s", SECOND, false),
            ("ms", MILLISECOND, false),
        ];
        for (unit, size, only_when_exact) in units {
            if only_when_exact && remaining % size != 0 {
                continue;
            }
            let count = remaining / size;
            if count > 0 {
                write!(formatter, "{count}{unit}")?;
                remaining -= count * size;
            }
        }
        Ok(())
    }
}

impl serde::Serialize for Duration {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(millis: i64) -> String {
        Duration::from_millis(millis).to_string()
    }

    #[test]
    fn formats_like_prometheus_model_duration() {
        assert_eq!(text(0), "0s");
        assert_eq!(text(250), "250ms");
        assert_eq!(text(90 * MINUTE), "1h30m");
        assert_eq!(text(30 * DAY), "30d");
        assert_eq!(text(28 * DAY), "4w");
        assert_eq!(text(7 * DAY), "1w");
        assert_eq!(text(90 * DAY), "90d");
        assert_eq!(text(365 * DAY), "1y");
        assert_eq!(text(26 * HOUR), "1d2h");
        assert_eq!(text(SECOND + 5), "1s5ms");
    }

    #[test]
    fn plain_strings_avoid_weeks_and_years() {
        assert_eq!(Duration::days(7).to_plain_string(), "7d");
        assert_eq!(Duration::days(365).to_plain_string(), "365d");
        assert_eq!(
            Duration::from_millis(90 * MINUTE + 5).to_plain_string(),
            "1h30m5ms"
        );
        assert_eq!(Duration::ZERO.to_plain_string(), "0s");
    }

    #[test]
    fn seconds_are_exact() {
        assert_eq!(Duration::from_millis(250).as_seconds().to_string(), "0.25");
        assert_eq!(Duration::hours(1).as_seconds().to_string(), "3600");
    }
}
