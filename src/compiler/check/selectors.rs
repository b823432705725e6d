//! Metric selectors as the objectives use them: a plain vector selector, checked
//! against the metric-kind rules and merged with the service's `selector {}`.
//!
//! A selector is the verbatim text the parser kept (`name{matchers}`); it must
//! parse as a *plain* instant vector selector: no range, offset, `@`, function or
//! `or` between matcher sets, because mlslo wraps it in its own `rate(...[w])`
//! and `_over_time` calls. promql-parser's errors carry no position, so the whole
//! value is labelled and the message is attached as a note.
//!
//! Metric kinds are read from the naming conventions of the Prometheus docs
//! ("Metric and label naming"): counters end in `_total`, histograms expose
//! `_bucket`, `_count` and `_sum` series. A latency objective over a `_total`,
//! `_count` or `_sum` series is an error (E0407): there is no `le` label to
//! compare with the threshold. A counter-based objective over a name that does
//! not look like a counter is only a warning (W0001), and so is a gauge-based
//! objective over a counter (W0002): exporters do not always follow the
//! conventions, and the user may know better.

use std::collections::BTreeMap;

use crate::base::diagnostic::Span;
use crate::compiler::check::checker::Checker;
use crate::compiler::check::codes;
use crate::compiler::check::schema::Fields;
use crate::compiler::check::selector_parser::{parse_plain_selector, SelectorFailure};
use crate::compiler::ir;
use crate::prometheus::model::names::counter_suffix;

/// What the objective does with the series, which decides the kind rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum MetricRole {
    /// A latency histogram: `_bucket` is appended when missing.
    Histogram,
    /// Counted with `rate`/`increase`: availability events and totals.
    Counter,
    /// Compared as a value: accuracy, drift, GPU and freshness metrics.
    Gauge,
}

/// The service's `selector {}` labels, merged into every metric selector of its
/// objectives.
pub(crate) struct ServiceSelector<'a> {
    pub labels: &'a BTreeMap<String, String>,
    /// Where each label is written, for W0006.
    pub spans: BTreeMap<String, Span>,
}

impl Checker {
    /// Parses `text` (at `span`) as a plain selector, applies the kind rules for
    /// `role`, and merges `service_selector` in. `field` names the attribute.
    pub fn read_selector(
        &mut self,
        field: &str,
        text: &str,
        span: Span,
        role: MetricRole,
        service_selector: &BTreeMap<String, String>,
        service_selector_spans: &BTreeMap<String, Span>,
    ) -> Option<ir::Selector> {
        let parsed = match self.selector_cache.get(text) {
            Some(cached) => cached.clone(),
            None => {
                let parsed = parse_plain_selector(text);
                self.selector_cache.insert(text.to_owned(), parsed.clone());
                parsed
            }
        };
        let parsed = match parsed {
            Ok(parsed) => parsed,
            Err(SelectorFailure::Syntax(message)) => {
                self.push(
                    codes::INVALID_SELECTOR
                        .at(span, "this is not a valid PromQL selector")
                        .with_note(format!("promql-parser: {}", message.trim()))
                        .with_help(
                            "write a metric name with optional label matchers, such as \
                         http_requests_total{job=\"api\", code=~\"5..\"}",
                        ),
                );
                return None;
            }
            Err(SelectorFailure::NotPlain(what)) => {
                self.push(
                    codes::NOT_A_PLAIN_SELECTOR.at(span,
                        format!("expected a metric name with label matchers, found {what}"),
                    )
                    .with_note(
                        "mlslo writes the rate(), ranges and aggregations around the selector itself",
                    )
                    .with_help(format!(
                        "`{field}` takes only `metric_name{{label=\"value\", ...}}`"
                    )),
                );
                return None;
            }
        };
        let mut metric = parsed.metric;

        let mut all_good = true;
        let mut matchers = Vec::new();
        for matcher in parsed.matchers {
            if matcher.label == "__name__"
                && matcher.op == ir::MatchOp::Equal
                && matcher.value == metric
            {
                continue;
            }
            if !self.check_label_name(&matcher.label, span) {
                all_good = false;
                continue;
            }
            if !self.check_control_characters(&matcher.value, span, false) {
                all_good = false;
                continue;
            }
            matchers.push(matcher);
        }
        if !all_good {
            return None;
        }

        match role {
            MetricRole::Histogram => {
                if let Some(suffix) = counter_suffix(&metric).filter(|suffix| *suffix != "_bucket")
                {
                    let base = metric.trim_end_matches(suffix);
                    self.push(
                        codes::LATENCY_OVER_COUNTER
                            .at(
                                span,
                                format!("`{metric}` is a counter series, not histogram buckets"),
                            )
                            .with_note(format!(
                            "a latency objective compares the `le` label of `_bucket` series with \
                             the threshold; `{suffix}` series have no `le` label"
                        ))
                            .with_help(if suffix == "_total" {
                                "name the histogram (the `_bucket` series or its base name); for \
                             request counts use an `availability` objective"
                                    .to_owned()
                            } else {
                                format!(
                                    "name the histogram itself: `{base}` (mlslo appends `_bucket`)"
                                )
                            }),
                    );
                    return None;
                }
                if !metric.ends_with("_bucket") {
                    metric.push_str("_bucket");
                }
            }
            MetricRole::Counter => {
                if counter_suffix(&metric).is_none() {
                    self.push(
                        codes::NOT_A_COUNTER.at(span,
                            format!(
                                "`{metric}` does not end in `_total`, `_sum`, `_count` or `_bucket`"
                            ),
                        )
                        .with_note(
                            "availability is computed with rate() over counters; rate() over a \
                             gauge gives meaningless numbers",
                        )
                        .with_help("use the counter of the events (usually named `..._total`)"),
                    );
                }
            }
            MetricRole::Gauge => {
                if let Some(suffix) = counter_suffix(&metric) {
                    self.push(
                        codes::COUNTER_AS_GAUGE.at(span,
                            format!("`{metric}` looks like a counter (`{suffix}`), but `{field}` compares its value"),
                        )
                        .with_note(
                            "a counter only grows, so comparing its raw value with a threshold \
                             is almost never what is meant",
                        )
                        .with_help(format!("`{field}` needs a gauge: a metric whose value is the score or level itself")),
                    );
                }
            }
        }

        for (label, value) in service_selector {
            if let Some(existing) = matchers.iter().find(|matcher| &matcher.label == label) {
                let differs = !(existing.op == ir::MatchOp::Equal && &existing.value == value);
                if differs {
                    self.push(
                        codes::SELECTOR_OVERRIDES_SERVICE
                            .at(
                                span,
                                format!(
                                    "this selector matches `{label}` itself, so the service's \
                                 `{label}=\"{value}\"` is not added"
                                ),
                            )
                            .with_secondary(
                                service_selector_spans.get(label).copied().unwrap_or(span),
                                "the service selector sets it here",
                            )
                            .with_help(format!(
                            "remove `{label}` from this selector to use the service's value, or \
                             remove it from the service `selector {{}}`"
                        )),
                    );
                }
                continue;
            }
            matchers.push(ir::LabelMatcher {
                label: label.clone(),
                op: ir::MatchOp::Equal,
                value: value.clone(),
            });
        }

        Some(ir::Selector {
            metric,
            matchers,
            span,
        })
    }

    pub fn selector_field(
        &mut self,
        fields: &Fields<'_>,
        name: &str,
        role: MetricRole,
        service_selector: &ServiceSelector<'_>,
        required: bool,
        all_good: &mut bool,
    ) -> Option<ir::Selector> {
        let value = if required {
            fields.require(self, name)
        } else {
            fields.value(name)
        };
        let Some(value) = value else {
            *all_good &= !required;
            return None;
        };
        let selector = self.read_selector_text(name, value).and_then(|text| {
            self.read_selector(
                name,
                text,
                value.span,
                role,
                service_selector.labels,
                &service_selector.spans,
            )
        });
        if selector.is_none() {
            *all_good = false;
        }
        selector
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn selector(
        text: &str,
        role: MetricRole,
        service: &[(&str, &str)],
    ) -> (Option<String>, Vec<&'static str>) {
        let mut checker = Checker::default();
        let service: BTreeMap<String, String> = service
            .iter()
            .map(|(label, value)| (label.to_string(), value.to_string()))
            .collect();
        let spans = BTreeMap::new();
        let parsed = checker.read_selector("metric", text, Span::default(), role, &service, &spans);
        (
            parsed.map(|selector| selector.to_promql()),
            checker
                .diagnostics
                .iter()
                .map(|diagnostic| diagnostic.code)
                .collect(),
        )
    }

    #[test]
    fn plain_selectors_are_rendered_back_with_the_service_labels() {
        assert_eq!(
            selector(
                r#"http_requests_total{path="/predict", status=~"5.."}"#,
                MetricRole::Counter,
                &[("model", "fraud")]
            ),
            (
                Some(r#"http_requests_total{path="/predict",status=~"5..",model="fraud"}"#.into()),
                vec![]
            )
        );
    }

    #[test]
    fn escaped_values_survive_the_round_trip() {
        let (rendered, codes) = selector(r#"x_total{path="a\"b\\c"}"#, MetricRole::Counter, &[]);
        assert_eq!(codes, Vec::<&str>::new());
        assert_eq!(rendered.as_deref(), Some(r#"x_total{path="a\"b\\c"}"#));
    }

    #[test]
    fn histograms_get_the_bucket_suffix() {
        assert_eq!(
            selector("latency_seconds", MetricRole::Histogram, &[])
                .0
                .as_deref(),
            Some("latency_seconds_bucket")
        );
        assert_eq!(
            selector("latency_seconds_bucket", MetricRole::Histogram, &[])
                .0
                .as_deref(),
            Some("latency_seconds_bucket")
        );
        assert_eq!(
            selector("latency_seconds_count", MetricRole::Histogram, &[]).1,
            vec!["E0407"]
        );
    }

    #[test]
    fn kind_warnings() {
        assert_eq!(
            selector("queue_depth", MetricRole::Counter, &[]).1,
            vec!["W0001"]
        );
        assert_eq!(
            selector("errors_total", MetricRole::Gauge, &[]).1,
            vec!["W0002"]
        );
    }

    #[test]
    fn non_plain_selectors_are_rejected() {
        assert_eq!(
            selector("x offset 5m", MetricRole::Gauge, &[]).1,
            vec!["E0303"]
        );
        assert_eq!(
            selector(r#"x{a="1" or b="2"}"#, MetricRole::Gauge, &[]).1,
            vec!["E0303"]
        );
        assert_eq!(
            selector("rate(x[5m])", MetricRole::Gauge, &[]).1,
            vec!["E0303"]
        );
        assert_eq!(
            selector(r#"x{a=~"("}"#, MetricRole::Gauge, &[]).1,
            vec!["E0302"]
        );
        assert_eq!(
            selector(r#"x{__meta="1"}"#, MetricRole::Gauge, &[]).1,
            vec!["E0211"]
        );
    }

    #[test]
    fn own_matchers_win_over_the_service_selector() {
        let (rendered, codes) = selector(
            r#"x{model="other"}"#,
            MetricRole::Gauge,
            &[("model", "fraud")],
        );
        assert_eq!(rendered.as_deref(), Some(r#"x{model="other"}"#));
        assert_eq!(codes, vec!["W0006"]);
        let (_, codes) = selector(
            r#"x{model="fraud"}"#,
            MetricRole::Gauge,
            &[("model", "fraud")],
        );
        assert!(codes.is_empty());
    }
}
