//! Label and metric names as the Prometheus tools accept them, and the name suffixes
//! that mark a counter.
//!
//! Invariants: each rule is one function named after the Go check it mirrors; the
//! classic (Prometheus 2.x) rules are ASCII-only and decided byte by byte, so the
//! byte predicates and the whole-name checks can never disagree.

/// Prometheus 2.x's label name, `model.LabelName.IsValid` under the legacy rule
/// (`model.LabelNameRE`, `^[a-zA-Z_][a-zA-Z0-9_]*$`): what rule files, PromQL 2.x,
/// Alertmanager's configuration and alerts accept.
pub fn is_legacy_label_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .enumerate()
            .all(|(index, byte)| is_label_name_byte(byte, index == 0))
}

/// Prometheus 3.x's label name, `model.LabelName.IsValid` under UTF-8 validation:
/// any non-empty valid UTF-8 text (which every `&str` is).
pub fn is_utf8_label_name(name: &str) -> bool {
    !name.is_empty()
}

/// Prometheus 2.x's metric name, `model.IsValidLegacyMetricName`
/// (`model.MetricNameRE`, `^[a-zA-Z_:][a-zA-Z0-9_:]*$`): label names plus `:`, which
/// recording rules use to name their level and operations.
pub fn is_legacy_metric_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .enumerate()
            .all(|(index, byte)| is_metric_name_byte(byte, index == 0))
}

/// A label name that Alertmanager 0.25's classic matcher parser reads back
/// (`pkg/labels/parse.go`, `^\s*([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(=~|=|!=|!~)...`): the
/// metric-name characters, `:` included, although `model.LabelName` refuses `:`.
pub fn is_classic_matcher_label_name(name: &str) -> bool {
    is_legacy_metric_name(name)
}

/// Whether `byte` may stand in a legacy label name, at its start when `first`.
pub fn is_label_name_byte(byte: u8, first: bool) -> bool {
    byte.is_ascii_alphabetic() || byte == b'_' || (!first && byte.is_ascii_digit())
}

/// Whether `byte` may stand in a legacy metric name, at its start when `first`.
pub fn is_metric_name_byte(byte: u8, first: bool) -> bool {
    byte == b':' || is_label_name_byte(byte, first)
}

/// The suffixes of counter series by Prometheus' naming conventions, as Prometheus
/// 3.x's `PossibleNonCounterInfo` check lists them: counters end in `_total`, and a
/// histogram's or summary's `_sum`, `_count` and `_bucket` series are counters too.
pub const COUNTER_SUFFIXES: [&str; 4] = ["_total", "_sum", "_count", "_bucket"];

/// The counter suffix `metric_name` ends in, if any.
pub fn counter_suffix(metric_name: &str) -> Option<&'static str> {
    COUNTER_SUFFIXES
        .into_iter()
        .find(|suffix| metric_name.ends_with(suffix))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legacy_names_follow_the_prometheus_patterns() {
        for good in ["a", "_", "job", "__name__", "le_2", "A_b"] {
            assert!(is_legacy_label_name(good), "{good}");
            assert!(is_legacy_metric_name(good), "{good}");
        }
        for bad in ["", "2xx", "a-b", "a.b", "é", "a b"] {
            assert!(!is_legacy_label_name(bad), "{bad}");
            assert!(!is_legacy_metric_name(bad), "{bad}");
        }
        assert!(!is_legacy_label_name("job:rate"));
        assert!(is_legacy_metric_name("job:http_requests:rate5m"));
        assert!(is_legacy_metric_name(":a"));
        assert!(is_classic_matcher_label_name("a:b"));
        assert!(is_utf8_label_name("service.name é"));
        assert!(!is_utf8_label_name(""));
    }

    #[test]
    fn counter_suffixes_are_prometheus_list() {
        assert_eq!(counter_suffix("http_requests_total"), Some("_total"));
        assert_eq!(counter_suffix("latency_seconds_sum"), Some("_sum"));
        assert_eq!(counter_suffix("latency_seconds_bucket"), Some("_bucket"));
        assert_eq!(counter_suffix("queue_depth"), None);
    }
}
