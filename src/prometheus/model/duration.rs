//! Durations as the Prometheus tools write them: `model.Duration` (`1h30m`, `90d`,
//! `2w`), which rule files, PromQL ranges, promtool, Alertmanager and the template
//! function `parseDuration` read and print, and Go's `time.Duration` text
//! (`1h30m0s`), which promtool prints for sample timestamps. The template function
//! `humanizeDuration`'s text lives with its siblings in `model::humanize`.
//!
//! Invariants: values are whole milliseconds, the precision of `model.Duration`.
//! Parsing is prometheus/common's `model.ParseDuration` as promtool 2.42 and
//! Alertmanager 0.25 run it, messages included. Printing is `Duration.String()`:
//! years and weeks only when they divide the value (`90d` stays `90d`, `14d` is `2w`),
//! then days, hours, minutes, seconds, milliseconds; zero is `0s`. Every printed text
//! parses back to the same value.

use std::fmt;

use crate::base::digits::Digits;

use super::go_quote;

pub const MILLISECOND: i64 = 1;
pub const SECOND: i64 = 1_000;
pub const MINUTE: i64 = 60 * SECOND;
pub const HOUR: i64 = 60 * MINUTE;
pub const DAY: i64 = 24 * HOUR;
pub const WEEK: i64 = 7 * DAY;
/// Prometheus' year: 365 days, no leap years.
pub const YEAR: i64 = 365 * DAY;

/// The longest duration Prometheus, promtool and Alertmanager hold: `model.Duration` is
/// an int64 count of nanoseconds, so about 292 years (`292y` fits, `293y` is out of
/// range), in whole milliseconds.
pub const MAX_DURATION_MILLIS: i64 = i64::MAX / 1_000_000;

/// The units of `model.Duration`, largest first, with their length in milliseconds;
/// a duration names each at most once, in this order.
pub const DURATION_UNITS: [(&str, i64); 7] = [
    ("y", YEAR),
    ("w", WEEK),
    ("d", DAY),
    ("h", HOUR),
    ("m", MINUTE),
    ("s", SECOND),
    ("ms", MILLISECOND),
];

/// `model.ParseDuration`: `1h30m`, `90d`, `0`, in milliseconds; the error is
/// Prometheus' message (`not a valid duration string: "5"`).
pub fn parse_model_duration(text: &str) -> Result<i64, String> {
    match text {
        "0" => return Ok(0),
        "" => return Err("empty duration string".to_string()),
        _ => {}
    }
    let invalid = || format!("not a valid duration string: {}", go_quote::quote(text));
    // Go adds the parts as int64 nanoseconds, wrapping, and reports an overflow
    // after reading them all; the same arithmetic gives the same verdict.
    let mut total_nanos: i64 = 0;
    let mut overflow = false;
    let mut rest = text;
    let mut next_unit = 0;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(invalid());
        }
        // Go's `strconv.Atoi` saturates a number too long for int64.
        let count: i64 = rest[..digits].parse().unwrap_or(i64::MAX);
        rest = &rest[digits..];
        // `5ms` is milliseconds: minutes would leave an `s` without digits.
        let unit_index = if rest.starts_with("ms") {
            DURATION_UNITS.len() - 1
        } else {
            DURATION_UNITS[..DURATION_UNITS.len() - 1]
                .iter()
                .position(|(name, _)| rest.starts_with(name))
                .ok_or_else(invalid)?
        };
        if unit_index < next_unit {
            return Err(invalid());
        }
        let (name, millis) = DURATION_UNITS[unit_index];
        rest = &rest[name.len()..];
        next_unit = unit_index + 1;
        if count > i64::MAX / millis / 1_000_000 {
            overflow = true;
        }
        total_nanos = total_nanos.wrapping_add(count.wrapping_mul(1_000_000).wrapping_mul(millis));
        if total_nanos < 0 {
            overflow = true;
        }
    }
    if overflow {
        return Err("duration out of range".to_string());
    }
    Ok(total_nanos / 1_000_000)
}

/// `model.Duration.String()` of a number of milliseconds, for `format!` and `write!`:
/// `1h30m`, `90d`, `2w`, `0s`. Prometheus cannot hold a negative `model.Duration`
/// (the parser takes no sign); one is written as `-` and the text of its magnitude.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ModelDuration(pub i64);

impl fmt::Display for ModelDuration {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_units(formatter, self.0, true)
    }
}

/// `model.Duration.String()` of `millis` as a new string.
pub fn format_model_duration(millis: i64) -> String {
    ModelDuration(millis).to_string()
}

/// The `model.Duration` text without years and weeks (`7d`, `365d`, `1h30m`): for
/// messages that repeat a duration as a person wrote it. Prometheus parses it to the
/// same value but never prints it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PlainDuration(pub i64);

impl fmt::Display for PlainDuration {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_units(formatter, self.0, false)
    }
}

/// Go's `time.Duration.String()` for whole milliseconds: `5m0s`, `1h0m0s`, `1.5s`,
/// `250ms`, `0s`.
pub fn format_go_duration(millis: i64) -> String {
    if millis == 0 {
        return "0s".to_string();
    }
    let sign = if millis < 0 { "-" } else { "" };
    let abs = millis.unsigned_abs();
    if abs < 1000 {
        return format!("{sign}{abs}ms");
    }
    let hours = abs / 3_600_000;
    let minutes = abs / 60_000 % 60;
    let seconds = abs / 1000 % 60;
    let fraction = abs % 1000;
    let mut seconds_text = seconds.to_string();
    if fraction > 0 {
        let digits = format!("{fraction:03}");
        seconds_text.push('.');
        seconds_text.push_str(digits.trim_end_matches('0'));
    }
    if hours > 0 {
        format!("{sign}{hours}h{minutes}m{seconds_text}s")
    } else if minutes > 0 {
        format!("{sign}{minutes}m{seconds_text}s")
    } else {
        format!("{sign}{seconds_text}s")
    }
}

/// Each unit that fits, largest first; years and weeks only when `with_weeks` and
/// they divide the whole rest, as `Duration.String()` does.
fn write_units(out: &mut dyn fmt::Write, millis: i64, with_weeks: bool) -> fmt::Result {
    if millis == 0 {
        return out.write_str("0s");
    }
    // Composed in a stack buffer and written once: durations are in every rule
    // name and expression, and `write!` per unit was most of their cost. The
    // longest, `-292y...`, is far below its size.
    let mut text = [0u8; 64];
    let mut length = 0;
    if millis < 0 {
        text[0] = b'-';
        length = 1;
    }
    let mut rest = millis.unsigned_abs();
    for (index, (name, size)) in DURATION_UNITS.iter().enumerate() {
        let size = size.unsigned_abs();
        let is_week_or_year = index < 2;
        if is_week_or_year && (!with_weeks || rest % size != 0) {
            continue;
        }
        if rest >= size {
            let digits = Digits::of(u128::from(rest / size));
            rest %= size;
            for byte in digits.as_str().bytes().chain(name.bytes()) {
                text[length] = byte;
                length += 1;
            }
        }
    }
    out.write_str(std::str::from_utf8(&text[..length]).map_err(|_| fmt::Error)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_durations_parse_like_prometheus() {
        for (text, millis) in [
            ("0", 0),
            ("5m", 5 * MINUTE),
            ("1h30m", 90 * MINUTE),
            ("90m", 90 * MINUTE),
            ("1d", DAY),
            ("1w", WEEK),
            ("1s500ms", 1_500),
            ("5ms", 5),
            ("05m", 5 * MINUTE),
            (
                "1y1w1d1h1m1s1ms",
                YEAR + WEEK + DAY + HOUR + MINUTE + SECOND + 1,
            ),
            ("200y", 200 * YEAR),
        ] {
            assert_eq!(parse_model_duration(text), Ok(millis), "{text}");
        }
    }

    #[test]
    fn the_longest_duration_is_the_longest_prometheus_parses() {
        let longest = format_model_duration(MAX_DURATION_MILLIS);
        assert_eq!(parse_model_duration(&longest), Ok(MAX_DURATION_MILLIS));
        let beyond = format_model_duration(MAX_DURATION_MILLIS + 1);
        assert_eq!(
            parse_model_duration(&beyond),
            Err("duration out of range".to_string())
        );
        assert!(parse_model_duration("292y").is_ok());
        assert!(parse_model_duration("293y").is_err());
    }

    #[test]
    fn malformed_durations_get_prometheus_messages() {
        for bad in [
            "5", "m", "5m1h", "1h1h", "1.5h", "5mm", "-5m", "00", "1ms1s", "1w1y", "10x", " 5m",
        ] {
            assert_eq!(
                parse_model_duration(bad),
                Err(format!("not a valid duration string: \"{bad}\"")),
            );
        }
        assert_eq!(
            parse_model_duration("1\u{1}"),
            Err(r#"not a valid duration string: "1\x01""#.to_string())
        );
        assert_eq!(
            parse_model_duration(""),
            Err("empty duration string".to_string())
        );
        for too_long in [
            "300y",
            "293y",
            "106752d",
            "292y25w",
            "9223372036855ms",
            "99999999999999999999s",
        ] {
            assert_eq!(
                parse_model_duration(too_long),
                Err("duration out of range".to_string()),
                "{too_long}"
            );
        }
        for longest in ["292y24w", "106751d", "9223372036854ms"] {
            assert!(parse_model_duration(longest).is_ok(), "{longest}");
        }
    }

    #[test]
    fn model_durations_print_like_prometheus() {
        for (millis, text) in [
            (0, "0s"),
            (250, "250ms"),
            (SECOND + 5, "1s5ms"),
            (90 * MINUTE, "1h30m"),
            (26 * HOUR, "1d2h"),
            (DAY, "1d"),
            (WEEK, "1w"),
            (8 * DAY, "8d"),
            (14 * DAY, "2w"),
            (28 * DAY, "4w"),
            (30 * DAY, "30d"),
            (90 * DAY, "90d"),
            (YEAR, "1y"),
            (YEAR + DAY, "366d"),
            (2 * YEAR, "2y"),
            (-5 * MINUTE, "-5m"),
        ] {
            assert_eq!(format_model_duration(millis), text, "{millis}");
            if millis >= 0 {
                assert_eq!(parse_model_duration(text), Ok(millis), "{text}");
            }
        }
    }

    #[test]
    fn plain_durations_avoid_weeks_and_years() {
        assert_eq!(PlainDuration(7 * DAY).to_string(), "7d");
        assert_eq!(PlainDuration(YEAR).to_string(), "365d");
        assert_eq!(PlainDuration(90 * MINUTE + 5).to_string(), "1h30m5ms");
        assert_eq!(PlainDuration(0).to_string(), "0s");
    }

    #[test]
    fn go_durations_print_like_go() {
        assert_eq!(format_go_duration(300_000), "5m0s");
        assert_eq!(format_go_duration(3_600_000), "1h0m0s");
        assert_eq!(format_go_duration(90 * DAY), "2160h0m0s");
        assert_eq!(format_go_duration(1_500), "1.5s");
        assert_eq!(format_go_duration(1_050), "1.05s");
        assert_eq!(format_go_duration(0), "0s");
        assert_eq!(format_go_duration(5), "5ms");
        assert_eq!(format_go_duration(-1_500), "-1.5s");
    }
}
