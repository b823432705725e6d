//! Prometheus' `model.Duration` text (`1h30m`, `5m`, `0`) and Go's `time.Duration`
//! printing, in milliseconds.
//!
//! Invariants: parsing accepts exactly the units `y w d h m s ms`, each at most once and
//! in that order, as `model.ParseDuration` does; printing is the inverse for whole
//! milliseconds.

/// Milliseconds per unit, largest first, as `model.Duration.String` walks them.
const UNITS: [(&str, i64); 7] = [
    ("y", 365 * 24 * 3_600_000),
    ("w", 7 * 24 * 3_600_000),
    ("d", 24 * 3_600_000),
    ("h", 3_600_000),
    ("m", 60_000),
    ("s", 1_000),
    ("ms", 1),
];

/// Parses a `model.Duration`; the error is Prometheus' text.
pub fn parse_model_duration(text: &str) -> Result<i64, String> {
    let invalid = || format!("not a valid duration string: {text:?}");
    if text == "0" {
        return Ok(0);
    }
    if text.is_empty() {
        return Err(invalid());
    }
    let mut rest = text;
    let mut total: i64 = 0;
    let mut next_unit = 0;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(invalid());
        }
        let number: i64 = rest[..digits].parse().map_err(|_| invalid())?;
        rest = &rest[digits..];
        // "ms" must be tried before "m".
        let unit = UNITS
            .iter()
            .enumerate()
            .skip(next_unit)
            .filter(|(_, (name, _))| rest.starts_with(name))
            .max_by_key(|(_, (name, _))| name.len())
            .ok_or_else(invalid)?;
        let (index, (name, millis)) = unit;
        rest = &rest[name.len()..];
        next_unit = index + 1;
        total = number
            .checked_mul(*millis)
            .and_then(|v| total.checked_add(v))
            .ok_or_else(|| "duration out of range".to_string())?;
    }
    Ok(total)
}

/// `model.Duration.String()`: `1h30m`, `1w`, `0s`.
pub fn format_model_duration(millis: i64) -> String {
    if millis == 0 {
        return "0s".to_string();
    }
    let mut out = String::new();
    let mut rest = millis.unsigned_abs();
    if millis < 0 {
        out.push('-');
    }
    for (name, size) in UNITS {
        let size = size as u64;
        if rest >= size {
            out.push_str(&format!("{}{name}", rest / size));
            rest %= size;
        }
    }
    out
}

/// Go's `time.Duration.String()` for whole milliseconds: `5m0s`, `1h0m0s`, `1.5s`, `0s`.
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_durations_round_trip() {
        for (text, millis) in [
            ("0", 0),
            ("5m", 300_000),
            ("1h30m", 5_400_000),
            ("1d", 86_400_000),
            ("1w", 604_800_000),
            ("1s500ms", 1_500),
            ("90m", 5_400_000),
        ] {
            assert_eq!(parse_model_duration(text), Ok(millis), "{text}");
        }
        assert_eq!(format_model_duration(5_400_000), "1h30m");
        assert_eq!(format_model_duration(0), "0s");
        assert_eq!(format_model_duration(604_800_000), "1w");
        for bad in ["", "5", "m", "5m1h", "1.5h", "5mm", "-5m"] {
            assert!(parse_model_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn go_durations_print_like_go() {
        assert_eq!(format_go_duration(300_000), "5m0s");
        assert_eq!(format_go_duration(3_600_000), "1h0m0s");
        assert_eq!(format_go_duration(1_500), "1.5s");
        assert_eq!(format_go_duration(0), "0s");
        assert_eq!(format_go_duration(5), "5ms");
    }
}
