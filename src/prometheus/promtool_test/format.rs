//! promtool's text for values in unit-test failures: Go's `strconv.FormatFloat(v, 'E',
//! -1, 64)` and `labels.Labels.String()`.
//!
//! Invariants: the shortest round-trip digits (Rust and Go agree on them), exponent
//! with a sign and at least two digits, `NaN`/`+Inf`/`-Inf` as Go spells them.

use std::collections::BTreeMap;

use crate::prometheus::model::go_quote;
use crate::prometheus::promql::Labels;

/// Go's `strconv.FormatFloat(value, 'E', -1, 64)`: `1.5E+01`, `1.5000000000000002E+01`.
pub fn go_float_e(value: f64) -> String {
    if value.is_nan() {
        return "NaN".to_string();
    }
    if value.is_infinite() {
        return if value > 0.0 { "+Inf" } else { "-Inf" }.to_string();
    }
    let rust = format!("{value:E}");
    let (mantissa, exponent) = rust.split_once('E').unwrap_or((rust.as_str(), "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let sign = if exponent < 0 { '-' } else { '+' };
    format!("{mantissa}E{sign}{:02}", exponent.unsigned_abs())
}

/// `labels.Labels.String()`: `{a="1", b="2"}` with Go-quoted values.
pub fn go_labels(labels: &Labels) -> String {
    go_pairs(labels.pairs().iter().map(|(k, v)| (k.as_str(), v.as_str())))
}

/// The same for a sorted map (annotations).
pub fn go_map(map: &BTreeMap<String, String>) -> String {
    go_pairs(map.iter().map(|(k, v)| (k.as_str(), v.as_str())))
}

fn go_pairs<'a>(pairs: impl Iterator<Item = (&'a str, &'a str)>) -> String {
    let body: Vec<String> = pairs
        .map(|(k, v)| format!("{k}={}", go_quote::quote(v)))
        .collect();
    format!("{{{}}}", body.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_print_like_go_e_format() {
        assert_eq!(go_float_e(15.0), "1.5E+01");
        assert_eq!(go_float_e(15.000000000000002), "1.5000000000000002E+01");
        assert_eq!(go_float_e(0.0), "0E+00");
        assert_eq!(go_float_e(1.0), "1E+00");
        assert_eq!(go_float_e(-0.00025), "-2.5E-04");
        assert_eq!(go_float_e(1e300), "1E+300");
        assert_eq!(go_float_e(f64::NAN), "NaN");
        assert_eq!(go_float_e(f64::NEG_INFINITY), "-Inf");
    }

    #[test]
    fn labels_print_like_go() {
        let labels = Labels::from_pairs([("__name__", "x"), ("a", "q\"uote")]);
        assert_eq!(go_labels(&labels), r#"{__name__="x", a="q\"uote"}"#);
    }
}
