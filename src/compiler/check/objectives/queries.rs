//! Expression SLIs: `errors_query`, `good_query` and `total_query`, PromQL
//! expressions for what a counter selector cannot say, each a per-second rate
//! of events with `$window` ([`ir::WINDOW_PLACEHOLDER`]) as its range.
//!
//! Rules: the expression parses as PromQL (the version promtool 2.42 reads) with
//! `$window` read as 5m (E0710, at the position inside the string when the string
//! is written verbatim); its value is an instant vector (E0711); `$window` is
//! there (E0712; Sloth's `{{.window}}` gets a hint) and only as the range of a
//! range selector or subquery (E0713), since it stands for every window the
//! alerts use; every `group_by` label survives its aggregations and vector
//! matches (E0714). The service's `selector {}` is not merged into the
//! expression: it is used as written.
//!
//! Invariant: the placeholder is replaced by a duration of its own length
//! (`5m0s0ms`), so a byte offset of the parsed text is one of the written text.

use std::collections::BTreeSet;

use promql_parser::parser::value::ValueType;
use promql_parser::parser::{Expr, LabelModifier, VectorMatchCardinality, VectorSelector};

use crate::base::diagnostic::{Span, Spanned};
use crate::compiler::check::checker::Checker;
use crate::compiler::check::codes;
use crate::compiler::check::schema::{conflict, ordered, Fields};
use crate::compiler::check::selector_parser::label_matcher;
use crate::compiler::check::selectors::{MetricRole, ServiceSelector};
use crate::compiler::check::values::Unit;
use crate::compiler::ir::{self, WINDOW_PLACEHOLDER};
use crate::compiler::syntax::ast;
use crate::prometheus::promql::{parse_query, prometheus_parse_error_offset, Semantics};

/// A duration as long as [`WINDOW_PLACEHOLDER`], which promtool 2.42 reads.
const PARSED_WINDOW: &str = "5m0s0ms";

/// What Sloth users write for the window.
const SLOTH_PLACEHOLDERS: [&str; 2] = ["{{.window}}", "{{ .window }}"];

impl Checker {
    /// The counter `name` (a selector) or `<name>_query` (an expression SLI);
    /// `None` when neither is given, which the caller words, or after an error.
    pub(crate) fn counter_field(
        &mut self,
        fields: &Fields<'_>,
        name: &str,
        service_selector: &ServiceSelector<'_>,
        all_good: &mut bool,
    ) -> Option<ir::Counter> {
        let query_name = format!("{name}_query");
        match (fields.get(name), fields.get(&query_name)) {
            (Some(selector), Some(query)) => {
                let (first, second) = ordered(selector, query);
                self.push(conflict(
                    &first.key,
                    &second.key,
                    "a counter is a selector or an expression, not both",
                ));
                *all_good = false;
                None
            }
            (Some(_), None) => self
                .selector_field(
                    fields,
                    name,
                    MetricRole::Counter,
                    service_selector,
                    true,
                    all_good,
                )
                .map(ir::Counter::Selector),
            (None, Some(query)) => {
                let query = self.read_query(&query_name, query).map(ir::Counter::Query);
                *all_good &= query.is_some();
                query
            }
            (None, None) => None,
        }
    }

    /// The expression SLI of the attribute `field`; `None` after an error.
    pub(crate) fn read_query(
        &mut self,
        field: &str,
        attribute: &ast::Attribute,
    ) -> Option<ir::Query> {
        let value = &attribute.value;
        let ast::Value::String(text) = &value.node else {
            self.mismatch(field, value, Unit::String);
            return None;
        };
        let text_span = attribute.text_span;
        // A span inside the written text, or the whole string when its text
        // does not map one to one onto the source (a string with escapes).
        let inside = |start: usize, end: usize| match text_span {
            Some(span) => Span {
                start: span.start + start as u32,
                end: span.start + end.max(start) as u32,
            },
            None => value.span,
        };
        let placeholders: Vec<usize> = text
            .match_indices(WINDOW_PLACEHOLDER)
            .map(|(at, _)| at)
            .collect();
        if placeholders.is_empty() {
            let mut diagnostic = codes::QUERY_WITHOUT_WINDOW.at(
                value.span,
                format!("`{field}` has no `{WINDOW_PLACEHOLDER}`"),
            );
            diagnostic = match SLOTH_PLACEHOLDERS
                .iter()
                .find_map(|sloth| text.find(sloth).map(|at| (at, sloth.len())))
            {
                Some((at, len)) => codes::QUERY_WITHOUT_WINDOW
                    .at(inside(at, at + len), "Sloth's placeholder, not mlslo's")
                    .with_help(format!("write `{WINDOW_PLACEHOLDER}` here")),
                None => diagnostic.with_help(format!(
                    "write the range of each rate as `[{WINDOW_PLACEHOLDER}]`: \
                     `sum(rate(http_requests_total{{code=~\"5..\"}}[{WINDOW_PLACEHOLDER}]))`"
                )),
            };
            self.push(diagnostic);
            return None;
        }
        let mut all_good = true;
        for &at in &placeholders {
            let end = at + WINDOW_PLACEHOLDER.len();
            let before = text[..at].trim_end().ends_with('[');
            let after = text[end..].trim_start();
            if !(before && (after.starts_with(']') || after.starts_with(':'))) {
                self.push(
                    codes::WINDOW_OUTSIDE_RANGE
                        .at(inside(at, end), "not the range of a range selector or subquery")
                        .with_help(format!(
                            "use `{WINDOW_PLACEHOLDER}` only between brackets, as in `rate(x[{WINDOW_PLACEHOLDER}])`"
                        )),
                );
                all_good = false;
            }
        }
        if !all_good {
            return None;
        }
        let parsed_text = text.replace(WINDOW_PLACEHOLDER, PARSED_WINDOW);
        let expr = match parse_query(&parsed_text, Semantics::V2) {
            Ok(expr) => expr,
            Err(error) => {
                let (offset, message) =
                    prometheus_parse_error_offset(&parsed_text, &error.to_string());
                let offset = offset.min(text.len());
                let end = text[offset..]
                    .char_indices()
                    .nth(1)
                    .map_or(text.len(), |(next, _)| offset + next);
                self.push(
                    codes::QUERY_SYNTAX
                        .at(inside(offset, end), message)
                        .with_note(format!(
                            "`{WINDOW_PLACEHOLDER}` is read as 5m to parse the expression"
                        )),
                );
                return None;
            }
        };
        let found = match expr.value_type() {
            ValueType::Vector => None,
            ValueType::Matrix => Some("a range vector"),
            ValueType::Scalar => Some("a scalar"),
            ValueType::String => Some("a string"),
        };
        if let Some(found) = found {
            self.push(
                codes::QUERY_NOT_INSTANT_VECTOR
                    .at(value.span, format!("this expression is {found}"))
                    .with_help(match found {
                        "a range vector" => "take its rate: `sum(rate(x[$window]))`",
                        _ => "an SLI is a rate per series: `sum(rate(x[$window]))`",
                    }),
            );
            return None;
        }
        let mut selectors = Vec::new();
        collect_selectors(&expr, value.span, &mut selectors);
        Some(ir::Query {
            text: one_line(text),
            rate_of: rate_of(&expr, value.span),
            summed_by: summed_by(&expr),
            selectors,
            span: value.span,
        })
    }

    /// E0714 for each `group_by` label an expression SLI of `kind` drops.
    pub(crate) fn check_query_group_labels(
        &mut self,
        group_by: &[Spanned<String>],
        kind: &ir::ObjectiveKind,
    ) {
        let ir::ObjectiveKind::Availability { events, total, .. } = kind else {
            return;
        };
        for counter in [events.counter(), total] {
            let ir::Counter::Query(query) = counter else {
                continue;
            };
            let Ok(expr) = parse_query(
                &query.text.replace(WINDOW_PLACEHOLDER, PARSED_WINDOW),
                Semantics::V2,
            ) else {
                continue;
            };
            let labels = output_labels(&expr);
            for label in group_by {
                if let Some(dropped_by) = labels.drops(&label.node) {
                    self.push(
                        codes::QUERY_DROPS_GROUP_LABEL
                            .at(
                                query.span,
                                format!(
                                    "the result has no `{}` label: {dropped_by} drops it",
                                    label.node
                                ),
                            )
                            .with_secondary(label.span, "grouped by here")
                            .with_help(format!(
                                "keep `{}` in the aggregation, as in `sum by ({}) (...)`",
                                label.node,
                                group_by
                                    .iter()
                                    .map(|label| label.node.as_str())
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            )),
                    );
                }
            }
        }
    }
}

/// The expression on one line, as the generated rules show it: each line break
/// and the indentation after it become one space. A backquoted PromQL string may
/// hold a line break and a `#` comment ends at one, so an expression with either
/// is kept as written.
fn one_line(text: &str) -> String {
    let text = text.trim();
    if text.contains(['`', '#']) {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    for (index, line) in text.lines().enumerate() {
        let line = if index == 0 { line } else { line.trim_start() };
        if index > 0 && !line.is_empty() && !out.ends_with(['(', ' ']) && !line.starts_with(')') {
            out.push(' ');
        }
        out.push_str(line.trim_end());
    }
    out
}

/// The sorted labels of `expr`'s outermost `sum by (...)`, empty for `sum`.
fn summed_by(expr: &Expr) -> Option<Vec<String>> {
    match expr {
        Expr::Paren(paren) => summed_by(&paren.expr),
        Expr::Aggregate(aggregate) if aggregate.op.to_string() == "sum" => {
            match &aggregate.modifier {
                None => Some(Vec::new()),
                Some(LabelModifier::Include(labels)) => {
                    let mut labels = labels.labels.clone();
                    labels.sort();
                    labels.dedup();
                    Some(labels)
                }
                Some(LabelModifier::Exclude(_)) => None,
            }
        }
        _ => None,
    }
}

/// Every vector selector of `expr`, in written order; each alternative of a
/// selector with `or` between matcher sets is one.
fn collect_selectors(expr: &Expr, span: Span, out: &mut Vec<ir::Selector>) {
    match expr {
        Expr::VectorSelector(vector) => push_selector(vector, span, out),
        Expr::MatrixSelector(matrix) => push_selector(&matrix.vs, span, out),
        Expr::Aggregate(aggregate) => {
            if let Some(param) = &aggregate.param {
                collect_selectors(param, span, out);
            }
            collect_selectors(&aggregate.expr, span, out);
        }
        Expr::Unary(unary) => collect_selectors(&unary.expr, span, out),
        Expr::Binary(binary) => {
            collect_selectors(&binary.lhs, span, out);
            collect_selectors(&binary.rhs, span, out);
        }
        Expr::Paren(paren) => collect_selectors(&paren.expr, span, out),
        Expr::Subquery(subquery) => collect_selectors(&subquery.expr, span, out),
        Expr::Call(call) => {
            for arg in &call.args.args {
                collect_selectors(arg, span, out);
            }
        }
        Expr::NumberLiteral(_) | Expr::StringLiteral(_) | Expr::Extension(_) => {}
    }
}

fn push_selector(vector: &VectorSelector, span: Span, out: &mut Vec<ir::Selector>) {
    let sets = std::iter::once(&vector.matchers.matchers).chain(&vector.matchers.or_matchers);
    for set in sets {
        let selector = ir::Selector {
            metric: vector.name.clone().unwrap_or_default(),
            matchers: set
                .iter()
                .filter(|matcher| !(vector.name.is_some() && matcher.name == "__name__"))
                .map(label_matcher)
                .collect(),
            span,
        };
        if !out.contains(&selector) {
            out.push(selector);
        }
    }
}

/// The selector when `expr` is sums (of any grouping) around
/// `rate(selector[$window])`, with a metric name and without `offset` or `@`.
/// The placeholder is the only range there: it stands in a range, and the
/// expression has one.
fn rate_of(expr: &Expr, span: Span) -> Option<ir::Selector> {
    match expr {
        Expr::Paren(paren) => rate_of(&paren.expr, span),
        Expr::Aggregate(aggregate) if aggregate.op.to_string() == "sum" => {
            rate_of(&aggregate.expr, span)
        }
        Expr::Call(call) if call.func.name == "rate" => match call.args.args.first()?.as_ref() {
            Expr::MatrixSelector(matrix)
                if matrix.vs.name.is_some()
                    && matrix.vs.offset.is_none()
                    && matrix.vs.at.is_none()
                    && matrix.vs.matchers.or_matchers.is_empty() =>
            {
                let mut selectors = Vec::new();
                push_selector(&matrix.vs, span, &mut selectors);
                selectors.pop()
            }
            _ => None,
        },
        _ => None,
    }
}

/// The labels an expression's result can carry, as far as its text tells.
#[derive(Clone, Debug)]
enum OutputLabels {
    /// Any label of the input series, except these, each with the text that
    /// dropped it.
    AllBut(Vec<(String, String)>),
    /// Only `kept`: `by` narrowed the labels to a list, and `dropped` are the
    /// labels of the list an inner expression had dropped already.
    Only {
        kept: BTreeSet<String>,
        dropped: Vec<(String, String)>,
        by: String,
    },
}

impl OutputLabels {
    fn none(by: String) -> OutputLabels {
        OutputLabels::Only {
            kept: BTreeSet::new(),
            dropped: Vec::new(),
            by,
        }
    }

    fn just(labels: impl IntoIterator<Item = String>) -> OutputLabels {
        OutputLabels::Only {
            kept: labels.into_iter().collect(),
            dropped: Vec::new(),
            by: String::new(),
        }
    }

    /// What drops `label`, when it certainly cannot be on the result.
    fn drops(&self, label: &str) -> Option<String> {
        let reason = |dropped: &[(String, String)]| {
            dropped
                .iter()
                .find(|(name, _)| name == label)
                .map(|(_, by)| by.clone())
        };
        match self {
            OutputLabels::AllBut(dropped) => reason(dropped),
            OutputLabels::Only { kept, dropped, by } => {
                if kept.contains(label) {
                    None
                } else {
                    reason(dropped).or_else(|| Some(by.clone()))
                }
            }
        }
    }

    fn without(self, labels: &[String], by: &str) -> OutputLabels {
        match self {
            OutputLabels::AllBut(mut dropped) => {
                dropped.extend(labels.iter().map(|label| (label.clone(), by.to_owned())));
                OutputLabels::AllBut(dropped)
            }
            OutputLabels::Only {
                mut kept,
                mut dropped,
                by: narrowed,
            } => {
                for label in labels {
                    if kept.remove(label) {
                        dropped.push((label.clone(), by.to_owned()));
                    }
                }
                OutputLabels::Only {
                    kept,
                    dropped,
                    by: narrowed,
                }
            }
        }
    }

    fn only(self, labels: &[String], by: &str) -> OutputLabels {
        let mut kept = BTreeSet::new();
        let mut dropped = Vec::new();
        for label in labels {
            match self.drops(label) {
                Some(reason) => dropped.push((label.clone(), reason)),
                None => {
                    kept.insert(label.clone());
                }
            }
        }
        OutputLabels::Only {
            kept,
            dropped,
            by: by.to_owned(),
        }
    }

    /// Either side's labels may be on the result (`or`): a label is certainly
    /// dropped only when both sides drop it.
    fn union(self, other: OutputLabels) -> OutputLabels {
        match self {
            OutputLabels::AllBut(dropped) => OutputLabels::AllBut(
                dropped
                    .into_iter()
                    .filter(|(label, _)| other.drops(label).is_some())
                    .collect(),
            ),
            OutputLabels::Only {
                mut kept,
                dropped,
                by,
            } => match other {
                OutputLabels::AllBut(other_dropped) => OutputLabels::AllBut(
                    other_dropped
                        .into_iter()
                        .filter(|(label, _)| !kept.contains(label))
                        .collect(),
                ),
                OutputLabels::Only {
                    kept: other_kept, ..
                } => {
                    kept.extend(other_kept);
                    OutputLabels::Only { kept, dropped, by }
                }
            },
        }
    }
}

fn label_list(labels: &[String]) -> String {
    labels.join(", ")
}

/// The labels of `expr`'s result, following Prometheus' rules for aggregations,
/// vector matching and the functions that add or remove labels.
fn output_labels(expr: &Expr) -> OutputLabels {
    let all = || OutputLabels::AllBut(Vec::new());
    match expr {
        Expr::VectorSelector(_) | Expr::MatrixSelector(_) => all(),
        Expr::Paren(paren) => output_labels(&paren.expr),
        Expr::Unary(unary) => output_labels(&unary.expr),
        Expr::Subquery(subquery) => output_labels(&subquery.expr),
        Expr::NumberLiteral(_) | Expr::StringLiteral(_) | Expr::Extension(_) => {
            OutputLabels::none("a number".to_owned())
        }
        Expr::Aggregate(aggregate) => {
            let inner = output_labels(&aggregate.expr);
            let op = aggregate.op.to_string();
            if matches!(op.as_str(), "topk" | "bottomk" | "limitk" | "limit_ratio") {
                return inner;
            }
            let inner = if op == "count_values" {
                match aggregate.param.as_deref() {
                    Some(Expr::StringLiteral(label)) => {
                        inner.union(OutputLabels::just([label.val.clone()]))
                    }
                    _ => inner,
                }
            } else {
                inner
            };
            match &aggregate.modifier {
                Some(LabelModifier::Include(labels)) => inner.only(
                    &labels.labels,
                    &format!("`{op} by ({})`", label_list(&labels.labels)),
                ),
                Some(LabelModifier::Exclude(labels)) => inner.without(
                    &labels.labels,
                    &format!("`{op} without ({})`", label_list(&labels.labels)),
                ),
                None => OutputLabels::none(format!("`{op}` without `by`")),
            }
        }
        Expr::Call(call) => {
            let first = || {
                call.args
                    .args
                    .first()
                    .map_or_else(all, |arg| output_labels(arg))
            };
            let string_arg = |index: usize| match call.args.args.get(index).map(AsRef::as_ref) {
                Some(Expr::StringLiteral(text)) => Some(text.val.clone()),
                _ => None,
            };
            match call.func.name {
                "vector" | "time" | "scalar" | "pi" => {
                    OutputLabels::none(format!("`{}`", call.func.name))
                }
                "label_replace" | "label_join" => match string_arg(1) {
                    Some(target) => first().union(OutputLabels::just([target])),
                    None => first(),
                },
                "histogram_quantile" => call
                    .args
                    .args
                    .get(1)
                    .map_or_else(all, |arg| output_labels(arg))
                    .without(&["le".to_owned()], "`histogram_quantile`"),
                _ => {
                    // The one vector argument; a scalar parameter comes first in
                    // `histogram_quantile`, `quantile_over_time` and the like.
                    call.args
                        .args
                        .iter()
                        .find(|arg| {
                            matches!(arg.value_type(), ValueType::Vector | ValueType::Matrix)
                        })
                        .map_or_else(all, |arg| output_labels(arg))
                }
            }
        }
        Expr::Binary(binary) => {
            let lhs_vector = binary.lhs.value_type() == ValueType::Vector;
            let rhs_vector = binary.rhs.value_type() == ValueType::Vector;
            let lhs = output_labels(&binary.lhs);
            let rhs = output_labels(&binary.rhs);
            if !(lhs_vector && rhs_vector) {
                return if lhs_vector { lhs } else { rhs };
            }
            let op = binary.op.to_string();
            let modifier = binary.modifier.as_ref();
            if op == "or" {
                return lhs.union(rhs);
            }
            if op == "and" || op == "unless" {
                return lhs;
            }
            let card = modifier.map(|modifier| &modifier.card);
            match card {
                Some(VectorMatchCardinality::ManyToOne(include)) => {
                    lhs.union(OutputLabels::just(include.labels.iter().cloned()))
                }
                Some(VectorMatchCardinality::OneToMany(include)) => {
                    rhs.union(OutputLabels::just(include.labels.iter().cloned()))
                }
                _ => match modifier.and_then(|modifier| modifier.matching.as_ref()) {
                    Some(LabelModifier::Include(labels)) => lhs.only(
                        &labels.labels,
                        &format!("`{op} on ({})`", label_list(&labels.labels)),
                    ),
                    Some(LabelModifier::Exclude(labels)) => lhs.without(
                        &labels.labels,
                        &format!("`{op} ignoring ({})`", label_list(&labels.labels)),
                    ),
                    None => lhs,
                },
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dropped(query: &str, label: &str) -> Option<String> {
        let expr = parse_query(
            &query.replace(WINDOW_PLACEHOLDER, PARSED_WINDOW),
            Semantics::V2,
        )
        .expect("test queries parse");
        output_labels(&expr).drops(label)
    }

    #[test]
    fn group_labels_survive_or_not_as_prometheus_computes_labels() {
        let query = "sum by (model) (rate(x[$window]))";
        assert_eq!(dropped(query, "model"), None);
        assert_eq!(
            dropped(query, "region").as_deref(),
            Some("`sum by (model)`")
        );
        assert_eq!(
            dropped("sum(rate(x[$window]))", "model").as_deref(),
            Some("`sum` without `by`")
        );
        assert_eq!(
            dropped("sum without (pod) (rate(x[$window]))", "model"),
            None
        );
        assert_eq!(
            dropped("sum without (model) (rate(x[$window]))", "model").as_deref(),
            Some("`sum without (model)`")
        );
        assert_eq!(dropped("rate(x[$window])", "model"), None);
        // An outer `by` cannot bring back what an inner one dropped.
        assert_eq!(
            dropped(
                "sum by (model, region) (sum by (model) (rate(x[$window])))",
                "region"
            )
            .as_deref(),
            Some("`sum by (model)`")
        );
        assert_eq!(
            dropped(
                "sum by (model) (rate(a[$window])) / on () sum(rate(b[$window]))",
                "model"
            )
            .as_deref(),
            Some("`/ on ()`")
        );
        assert_eq!(
            dropped("sum by (model) (rate(a[$window])) * on (model) group_left sum by (model) (rate(b[$window]))", "model"),
            None
        );
        assert_eq!(
            dropped(
                r#"label_replace(sum(rate(a[$window])), "model", "x", "", "")"#,
                "model"
            ),
            None
        );
        assert_eq!(
            dropped(
                "sum(rate(a[$window])) or sum by (model) (rate(b[$window]))",
                "model"
            ),
            None
        );
        assert_eq!(dropped("vector(1)", "model").as_deref(), Some("`vector`"));
    }

    #[test]
    fn a_sum_of_one_rate_is_modelled_and_anything_else_is_not() {
        let span = Span::default();
        let parse = |query: &str| {
            parse_query(
                &query.replace(WINDOW_PLACEHOLDER, PARSED_WINDOW),
                Semantics::V2,
            )
            .expect("test queries parse")
        };
        let selector = rate_of(
            &parse(r#"sum by (model) (rate(x_total{code=~"5.."}[$window]))"#),
            span,
        )
        .expect("a sum of one rate");
        assert_eq!(selector.to_promql(), r#"x_total{code=~"5.."}"#);
        assert!(rate_of(
            &parse("sum(rate(a[$window])) + sum(rate(b[$window]))"),
            span
        )
        .is_none());
        assert!(rate_of(&parse("sum(irate(a[$window]))"), span).is_none());
        assert!(rate_of(&parse("max(rate(a[$window]))"), span).is_none());
        assert!(rate_of(&parse("sum(rate(a[$window] offset 1h))"), span).is_none());
    }
}
