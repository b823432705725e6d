//! Exact durations in milliseconds, printed the way Prometheus prints them.
//!
//! Invariant: a [`Duration`] is never negative (the checker rejects nothing else
//! because the grammar has no negative durations). `Display` is Prometheus'
//! `model.Duration.String()` from the Prometheus model (`30d` stays `30d` while `28d`
//! becomes `4w`); PromQL range selectors, `for:` fields and rule names all accept
//! this form.

use std::fmt;

use crate::compiler::ir::decimal::Decimal;
use crate::prometheus::model::duration::{ModelDuration, PlainDuration, DAY, HOUR, MINUTE};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Duration {
    pub millis: i64,
}

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
        PlainDuration(self.millis).to_string()
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
        ModelDuration(self.millis).fmt(formatter)
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

    #[test]
    fn prints_as_prometheus_model_duration() {
        assert_eq!(Duration::days(90).to_string(), "90d");
        assert_eq!(Duration::days(28).to_string(), "4w");
        assert_eq!(Duration::ZERO.to_string(), "0s");
    }

    #[test]
    fn plain_strings_avoid_weeks_and_years() {
        assert_eq!(Duration::days(7).to_plain_string(), "7d");
        assert_eq!(Duration::days(365).to_plain_string(), "365d");
    }

    #[test]
    fn seconds_are_exact() {
        assert_eq!(Duration::from_millis(250).as_seconds().to_string(), "0.25");
        assert_eq!(Duration::hours(1).as_seconds().to_string(), "3600");
    }
}
