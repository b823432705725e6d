//! promtool's text for label sets in unit-test failures: `labels.Labels.String()`.
//!
//! Invariants: pairs in the order given (sorted by the caller), values quoted with
//! Go's `strconv.Quote`.

use std::collections::BTreeMap;

use crate::prometheus::model::go_quote;
use crate::prometheus::promql::Labels;

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
    fn labels_print_like_go() {
        let labels = Labels::from_pairs([("__name__", "x"), ("a", "q\"uote")]);
        assert_eq!(go_labels(&labels), r#"{__name__="x", a="q\"uote"}"#);
    }
}
