//! The codes of `mlslo lint`, each with its default severity, its title and its long
//! form (what `mlslo explain CODE` prints), raised by name:
//! `codes::UNKNOWN_FIELD.at(span, label)`.
//!
//! Invariants: codes are sorted, unique and stable forever (a code is never reused for
//! another meaning); each code has one title, which is the message of every finding
//! raised with it (the label and help carry the specifics); codes are errors where
//! Prometheus or promtool refuses the file and warnings otherwise, and `.mlslo.toml`
//! may change either per code; no other lint file writes a code as a string;
//! `tests/data/lint/<CODE>/bad.yml` triggers each code but L0601, which needs a
//! running Prometheus.

crate::base::diagnostic::declare_codes! {
    /// Every lint code, in order: L01xx the file and its rules as Prometheus reads
    /// them, L02xx rules that clash across files, L03xx counters and timing, L04xx
    /// conventions, L05xx expressions that cannot mean what they say, L06xx the live
    /// server, L07xx lint's own configuration.
    pub const CODES;
    INVALID_YAML = "L0101", Error, "invalid yaml", "\
The file is not valid YAML, or its shape is not a rule file (`groups:` of `name` and \
`rules`). Prometheus refuses to load it. Fix the YAML at the position shown.";
    UNKNOWN_FIELD = "L0102", Error, "unknown field", "\
Prometheus reads rule files strictly: a key it does not know (a typo such as \
`anotations`) makes the whole file fail to load. Remove or correct the key.";
    INVALID_PROMQL = "L0103", Error, "invalid promql", "\
The `expr` does not parse as PromQL. The caret points inside the expression where \
the mapping from the YAML string is exact; for folded or escaped strings it points \
at the start of the expression.";
    INVALID_RULE = "L0104", Error, "invalid rule", "\
The rule breaks Prometheus' rule-file validation: both or neither of `record` and \
`alert`, an empty `expr`, a recording rule with `for` or `annotations`, an invalid \
metric or label name, or a bad duration. Prometheus refuses the file.";
    DUPLICATE_GROUP_NAME = "L0105", Error, "duplicate group name", "\
Two groups in one file share a name; Prometheus refuses the file. Rename one.";
    GROUP_FIELD_NEEDS_NEWER_PROMETHEUS = "L0106", Error, "group field needs a newer Prometheus", "\
Group `labels` (Prometheus 3.0) and `query_offset` (2.53) are unknown fields to \
older servers and to promtool 2.42, which refuse the whole file. Move the labels \
onto each rule, or raise this code's severity policy in .mlslo.toml when every \
server is new enough.";
    DUPLICATE_SERIES = "L0201", Warning, "duplicate series", "\
Two recording rules write the same series (same name and same labels), so they \
overwrite each other's samples. Give them different labels or merge them.";
    SAME_NAME_DIFFERENT_FOR = "L0202", Warning, "alerts with the same name and different `for`", "\
Alerts that share a name and that no label tells apart but wait different times before \
firing are usually a copy that was edited in one place only. Align the `for` durations, \
rename one alert, or give each a label value of its own (`severity`, a window, the \
objective). Alerts that differ in the value of a label both carry are different alerts \
by design (tiers, window pairs, objectives) and are not reported.";
    RATE_OVER_NON_COUNTER = "L0301", Warning, "`rate`/`increase` over a series that is not a counter", "\
`rate`, `irate` and `increase` only make sense over counters, whose names end in \
`_total`, `_count`, `_sum` or `_bucket` by convention. Over a gauge they produce \
nonsense; use `deriv` or `delta`.";
    RANGE_SHORTER_THAN_SCRAPE_INTERVALS = "L0302", Warning, "range window shorter than 4 scrape intervals", "\
A range such as `[1m]` with a 30s scrape interval holds at most two samples; one \
missed scrape leaves `rate` empty. Use a window of at least `min_range_multiple` \
(default 4) scrape intervals (`scrape_interval` in .mlslo.toml, or from the targets \
with --prometheus-url).";
    FOR_SHORTER_THAN_GROUP_INTERVAL = "L0303", Warning, "`for` shorter than the group interval", "\
An alert is evaluated once per group interval, so a `for` shorter than it behaves \
like the interval itself. Make `for` at least the group's `interval` (default 1m), \
or drop it.";
    ALERT_WITHOUT_SEVERITY = "L0401", Warning, "alert without a `severity` label", "\
Routing in Alertmanager usually matches on `severity`; an alert without it goes to \
the default receiver. Add `labels: {severity: ...}` to the rule or its group.";
    INVALID_TEMPLATE = "L0402", Error, "invalid template", "\
A label or annotation is a Go template that does not parse; Prometheus refuses the \
file. Fix the template at the position shown.";
    UNKNOWN_TEMPLATE_FUNCTION = "L0403", Error, "unknown template function", "\
A label or annotation template calls a function Prometheus does not define (for \
example `humanise` instead of `humanize`); the file fails to load.";
    RECORDING_RULE_NAME_NOT_CONVENTIONAL = "L0404", Warning, "recording rule name does not follow `level:metric:operations`", "\
Prometheus' naming convention for recorded series is `level:metric:operations`, such \
as `job:http_requests:rate5m`. A name without colons reads like a raw metric and \
hides where it came from.";
    AGGREGATION_KEEPS_HIGH_CARDINALITY_LABEL = "L0405", Warning, "aggregation keeps a high-cardinality label", "\
Aggregating `by` a label such as `user_id`, `request_id` or `trace_id` keeps one \
series per value and can explode the number of series. Aggregate it away; the list \
is `high_cardinality_labels` in .mlslo.toml.";
    CONSTANT_COMPARISON = "L0501", Warning, "comparison that is always or never true", "\
A comparison between two numbers, or of a non-negative function (`count`, `rate`, \
`absent`...) against a negative number or zero with `>=`/`<`, has a fixed result, so \
the alert never fires or always fires.";
    ABSENT_OVER_REGEX = "L0502", Warning, "`absent` over a selector with a regex", "\
`absent(x{a=~\"b|c\"})` cannot tell which value is missing and stays silent while \
any one of them is present. Use one `absent` per value. A pattern without \
alternation (`host=~\"gpu-.*\"`) is not reported: there `absent` rightly means that \
none is left.";
    MATCHING_LABEL_ON_NEITHER_SIDE = "L0503", Warning, "`on`/`ignoring` names a label no side has", "\
Both sides of the binary operation are aggregations whose `by` lists do not contain \
the label named in `on(...)`/`ignoring(...)`, so the matching cannot use it. Fix the \
label name.";
    BURN_RATE_THRESHOLD_ABOVE_ONE = "L0504", Warning, "burn-rate threshold above 1", "\
An SLO burn-rate alert compares an error ratio (a value between 0 and 1) with `burn \
rate * (1 - objective)`; a threshold above 1 can never be reached. Check the \
objective and the burn-rate factor.";
    SERIES_NOT_FOUND = "L0601", Warning, "series not found in Prometheus", "\
With --prometheus-url, a selector of the rule matches no series in that Prometheus, \
so the rule records nothing or never fires. Check the metric and label values.";
    SUPPRESSION_OF_UNKNOWN_CODE = "L0701", Warning, "suppression names an unknown code", "\
A `# mlslo: disable=CODE` comment or the config names a code that does not exist, so \
it suppresses nothing.";
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::base::diagnostic::Severity;

    /// Every file of lint but this one, by module name, and lint's command.
    const SOURCES: &[(&str, &str)] = &[
        ("mod", include_str!("mod.rs")),
        ("config", include_str!("config.rs")),
        ("documents", include_str!("documents.rs")),
        ("live", include_str!("live.rs")),
        ("locate", include_str!("locate.rs")),
        ("output", include_str!("output.rs")),
        ("promql", include_str!("promql.rs")),
        ("cli/lint", include_str!("../../cli/lint.rs")),
    ];

    /// Findings are raised by name (`codes::UNKNOWN_FIELD.at(...)`), so every code lint
    /// reports is registered with one title; a code written as a string would bypass that.
    #[test]
    fn every_code_is_raised_by_name_and_registered_with_an_explanation() {
        let mut modules: Vec<&str> = include_str!("mod.rs")
            .lines()
            .filter_map(|line| line.trim_start_matches("pub ").strip_prefix("mod "))
            .filter_map(|rest| rest.strip_suffix(';'))
            .filter(|module| *module != "codes")
            .collect();
        modules.push("mod");
        modules.push("cli/lint");
        let mut listed: Vec<&str> = SOURCES.iter().map(|(module, _)| *module).collect();
        modules.sort_unstable();
        listed.sort_unstable();
        assert_eq!(listed, modules, "a lint file is missing from SOURCES");
        for (module, source) in SOURCES {
            // Unit tests below `#[cfg(test)]` name codes to compare with.
            let source = source
                .split("#[cfg(test)]\nmod tests {")
                .next()
                .unwrap_or(source);
            let literal = source
                .match_indices("\"L")
                .map(|(index, _)| &source[index..(index + 6).min(source.len())])
                .find(|text| text.len() == 6 && text[2..].bytes().all(|b| b.is_ascii_digit()));
            assert_eq!(literal, None, "{module} raises a code by a string literal");
        }
        for info in CODES {
            assert!(
                info.code.len() == 5
                    && info.code.starts_with('L')
                    && info.code[1..].bytes().all(|b| b.is_ascii_digit()),
                "{}",
                info.code
            );
            assert!(
                !info.title.is_empty()
                    && !info.title.ends_with('.')
                    && !info.title.starts_with(|c: char| c.is_uppercase()),
                "{}: a lowercase title without a final period",
                info.code
            );
            assert!(
                info.explanation.ends_with('.') && !info.explanation.contains('\n'),
                "{}: an explanation of whole sentences, one paragraph",
                info.code
            );
        }
        let mut sorted: Vec<&str> = CODES.iter().map(|info| info.code).collect();
        sorted.sort_unstable();
        sorted.dedup();
        let written: Vec<&str> = CODES.iter().map(|info| info.code).collect();
        assert_eq!(sorted, written, "codes are sorted and unique");
    }

    /// Errors are what Prometheus or promtool refuses to load; everything else warns.
    #[test]
    fn codes_that_stop_prometheus_loading_the_file_are_errors() {
        let errors: Vec<&str> = CODES
            .iter()
            .filter(|info| info.severity == Severity::Error)
            .map(|info| info.code)
            .collect();
        assert_eq!(
            errors,
            ["L0101", "L0102", "L0103", "L0104", "L0105", "L0106", "L0402", "L0403"]
        );
        let finding = ALERT_WITHOUT_SEVERITY.at(crate::base::diagnostic::Span::new(3, 4), "here");
        assert_eq!(
            (finding.code, finding.severity, finding.message.as_str()),
            (
                "L0401",
                Severity::Warning,
                "alert without a `severity` label"
            )
        );
    }
}
