//! Prometheus' `model.Duration` as Alertmanager 0.25's configuration holds it, in
//! milliseconds; the text rules are `crate::prometheus::model::duration`'s.
//!
//! Invariants: [`GoDuration::parse`] accepts exactly the texts `model.ParseDuration` does,
//! with its error messages; printing is `model.Duration.String()`.

use std::fmt;

use crate::prometheus::model::duration;

/// Prometheus' `model.Duration`, in milliseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct GoDuration {
    pub milliseconds: u64,
}

impl GoDuration {
    pub const fn from_seconds(seconds: u64) -> GoDuration {
        GoDuration {
            milliseconds: seconds * 1000,
        }
    }

    /// `model.ParseDuration`, with Prometheus' messages.
    pub fn parse(text: &str) -> Result<GoDuration, String> {
        // The grammar has no sign, so a parsed duration is never negative.
        let millis = duration::parse_model_duration(text)?;
        Ok(GoDuration {
            milliseconds: millis.unsigned_abs(),
        })
    }
}

impl fmt::Display for GoDuration {
    /// `model.Duration.String()`: `30s`, `5m`, `1d`, `1d12h`, `0s`, `90d`, `2w`.
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A parsed duration fits in int64 nanoseconds, so in i64 milliseconds.
        let millis = i64::try_from(self.milliseconds).unwrap_or(i64::MAX);
        duration::ModelDuration(millis).fmt(formatter)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_and_print_like_prometheus_common() {
        assert_eq!(GoDuration::parse("30s"), Ok(GoDuration::from_seconds(30)));
        assert_eq!(
            GoDuration::parse("1h30m"),
            Ok(GoDuration::from_seconds(5400))
        );
        assert_eq!(GoDuration::parse("5ms"), Ok(GoDuration { milliseconds: 5 }));
        assert_eq!(GoDuration::parse("0"), Ok(GoDuration::default()));
        assert_eq!(
            GoDuration::parse("10x"),
            Err("not a valid duration string: \"10x\"".to_string())
        );
        assert!(GoDuration::parse("1m1h").is_err());
        assert!(GoDuration::parse("1.5h").is_err());
        assert!(GoDuration::parse("1h1h").is_err());
        assert_eq!(GoDuration::parse("").unwrap_err(), "empty duration string");
        assert_eq!(GoDuration::from_seconds(14400).to_string(), "4h");
        assert_eq!(GoDuration::from_seconds(86400).to_string(), "1d");
        assert_eq!(GoDuration::from_seconds(90 * 86400).to_string(), "90d");
        assert_eq!(GoDuration::from_seconds(14 * 86400).to_string(), "2w");
        assert_eq!(GoDuration::from_seconds(5400).to_string(), "1h30m");
        assert_eq!(GoDuration::default().to_string(), "0s");
    }
}
