//! The text of Prometheus' `humanize*` template functions: numbers with SI or binary
//! prefixes, durations in days, hours, minutes and seconds, percentages.
//!
//! Invariants: every number is printed as Go's `%.4g` (`model::go_number`), NaN and
//! ±Inf without prefix or unit; a Go conversion to int64 is amd64's, where promtool
//! runs.

use super::go_number;

/// `humanize`: SI prefixes, `1.235M`, `120m`.
pub fn humanize(v: f64) -> String {
    if v == 0.0 || v.is_nan() || v.is_infinite() {
        return g4(v);
    }
    if v.abs() >= 1.0 {
        let (scaled, prefix) = scale_down(v, 1000.0, ["k", "M", "G", "T", "P", "E", "Z", "Y"]);
        return format!("{}{prefix}", g4(scaled));
    }
    let (scaled, prefix) = scale_below_one(v);
    format!("{}{prefix}", g4(scaled))
}

/// `humanize1024`: binary prefixes, `1.177Mi`.
pub fn humanize1024(v: f64) -> String {
    if v.abs() <= 1.0 || v.is_nan() || v.is_infinite() {
        return g4(v);
    }
    let (scaled, prefix) = scale_down(v, 1024.0, ["ki", "Mi", "Gi", "Ti", "Pi", "Ei", "Zi", "Yi"]);
    format!("{}{prefix}", g4(scaled))
}

/// `humanizeDuration` for a number of seconds: `1d 2h 3m 4s`, `1.234s`, `100us`.
pub fn humanize_duration(v: f64) -> String {
    if v.is_nan() || v.is_infinite() {
        return g4(v);
    }
    if v == 0.0 {
        return format!("{}s", g4(v));
    }
    let mut v = v;
    if v.abs() >= 1.0 {
        let mut sign = "";
        if v < 0.0 {
            sign = "-";
            v = -v;
        }
        let duration = go_number::go_int64(v);
        let seconds = duration % 60;
        let minutes = (duration / 60) % 60;
        let hours = (duration / 60 / 60) % 24;
        let days = duration / 60 / 60 / 24;
        if days != 0 {
            return format!("{sign}{days}d {hours}h {minutes}m {seconds}s");
        }
        if hours != 0 {
            return format!("{sign}{hours}h {minutes}m {seconds}s");
        }
        if minutes != 0 {
            return format!("{sign}{minutes}m {seconds}s");
        }
        return format!("{sign}{}s", g4(v));
    }
    let (scaled, prefix) = scale_below_one(v);
    format!("{}{prefix}s", g4(scaled))
}

/// `humanizePercentage`: the ratio times 100, `%.4g%`.
pub fn humanize_percentage(ratio: f64) -> String {
    format!("{}%", g4(ratio * 100.0))
}

/// A magnitude divided by `base` while it is at least `base`, with the prefix of
/// the last division (`1234567` by 1000 is `1.234567` and `M`).
fn scale_down(mut v: f64, base: f64, prefixes: [&'static str; 8]) -> (f64, &'static str) {
    let mut prefix = "";
    for p in prefixes {
        if v.abs() < base {
            break;
        }
        prefix = p;
        v /= base;
    }
    (v, prefix)
}

/// A magnitude below one scaled up by thousands until it reaches one, with the SI
/// prefix of the scale (`0.00012` is `120` and `u`), as `humanize` and
/// `humanizeDuration` share it.
fn scale_below_one(mut v: f64) -> (f64, &'static str) {
    let mut prefix = "";
    for p in ["m", "u", "n", "p", "f", "a", "z", "y"] {
        if v.abs() >= 1.0 {
            break;
        }
        prefix = p;
        v *= 1000.0;
    }
    (v, prefix)
}

/// `%.4g`, the precision every humanize function prints with.
fn g4(v: f64) -> String {
    go_number::format_float(v, 'g', Some(4))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn humanized_numbers_match_prometheus() {
        assert_eq!(humanize(1234567.0), "1.235M");
        assert_eq!(humanize(0.12), "120m");
        assert_eq!(humanize(0.0), "0");
        assert_eq!(humanize(-1.0), "-1");
        assert_eq!(humanize(i64::MAX as f64), "9.223E");
        assert_eq!(humanize(u64::MAX as f64), "18.45E");
        assert_eq!(humanize(1e-30), "1e-06y");
        assert_eq!(humanize1024(1048576.0), "1Mi");
        assert_eq!(humanize1024(0.12), "0.12");
        assert_eq!(humanize1024(1234567.0), "1.177Mi");
        assert_eq!(humanize1024(i64::MAX as f64), "8Ei");
        assert_eq!(humanize_percentage(0.1234), "12.34%");
    }

    #[test]
    fn humanized_durations_match_prometheus() {
        assert_eq!(humanize_duration(3600.0), "1h 0m 0s");
        assert_eq!(humanize_duration(899.99), "14m 59s");
        assert_eq!(humanize_duration(0.0001), "100us");
        assert_eq!(humanize_duration(1.2345), "1.234s");
        assert_eq!(
            humanize_duration(-(86400.0 * 2.0 + 3600.0 * 3.0 + 60.0 * 4.0 + 5.0)),
            "-2d 3h 4m 5s"
        );
    }
}
