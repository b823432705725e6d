//! Prometheus' `model.Duration` as Alertmanager 0.25 reads and prints it (prometheus/common
//! v0.38), in milliseconds.
//!
//! Invariants: [`GoDuration::parse`] accepts exactly the texts `model.ParseDuration` does,
//! with its error messages; printing is `model.Duration.String()`.

use std::fmt;

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

    /// `model.ParseDuration` of prometheus/common v0.38 with its messages.
    pub fn parse(text: &str) -> Result<GoDuration, String> {
        match text {
            "0" => return Ok(GoDuration::default()),
            "" => return Err("empty duration string".to_string()),
            _ => {}
        }
        let invalid = || format!("not a valid duration string: {text:?}");
        const UNITS: [(&str, u64); 7] = [
            ("y", 365 * 24 * 3_600_000),
            ("w", 7 * 24 * 3_600_000),
            ("d", 24 * 3_600_000),
            ("h", 3_600_000),
            ("m", 60_000),
            ("s", 1000),
            ("ms", 1),
        ];
        let bytes = text.as_bytes();
        let mut position = 0;
        let mut next_unit = 0;
        let mut total: u128 = 0;
        while position < bytes.len() {
            let digits_start = position;
            while position < bytes.len() && bytes[position].is_ascii_digit() {
                position += 1;
            }
            if position == digits_start {
                return Err(invalid());
            }
            let number: u128 = text[digits_start..position]
                .parse()
                .map_err(|_| "duration out of range".to_string())?;
            let rest = &text[position..];
            // `ms` before `m`, otherwise `5ms` would read as minutes then `s`.
            let unit_index = (next_unit..UNITS.len())
                .filter(|&index| rest.starts_with(UNITS[index].0))
                .max_by_key(|&index| UNITS[index].0.len())
                .ok_or_else(invalid)?;
            let (unit, factor) = UNITS[unit_index];
            if unit == "m" && rest.starts_with("ms") {
                return Err(invalid());
            }
            position += unit.len();
            next_unit = unit_index + 1;
            total = total.saturating_add(number.saturating_mul(u128::from(factor)));
        }
        // Go keeps durations as int64 nanoseconds.
        if total > (i64::MAX as u128) / 1_000_000 {
            return Err("duration out of range".to_string());
        }
        Ok(GoDuration {
            milliseconds: u64::try_from(total).map_err(|_| "duration out of range".to_string())?,
        })
    }
}

impl fmt::Display for GoDuration {
    /// `model.Duration.String()`: `30s`, `5m`, `1d`, `1d12h`, `0s`; years and
    /// weeks only when they divide the whole duration (`90d`, not `12w6d`).
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.milliseconds == 0 {
            return formatter.write_str("0s");
        }
        let whole = self.milliseconds;
        let mut remaining = whole;
        for (unit, factor, exact) in [
            ("y", 365 * 24 * 3_600_000u64, true),
            ("w", 7 * 24 * 3_600_000, true),
            ("d", 24 * 3_600_000, false),
            ("h", 3_600_000, false),
            ("m", 60_000, false),
            ("s", 1000, false),
            ("ms", 1, false),
        ] {
            if exact && remaining % factor != 0 {
                continue;
            }
            let count = remaining / factor;
            if count > 0 {
                write!(formatter, "{count}{unit}")?;
                remaining -= count * factor;
            }
        }
        Ok(())
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
