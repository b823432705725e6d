//! The PromQL checks of `mlslo lint`, over promql-parser's syntax tree.
//!
//! Invariants: the tree has no positions, so each finding locates itself by searching
//! the expression text for the token it is about (the n-th occurrence for repeated
//! ones), falling back to the whole expression; a finding's range is always inside the
//! text.

use promql_parser::label::MatchOp;
use promql_parser::parser::{Expr, LabelModifier};

use super::{codes, LintConfig};
use crate::base::diagnostic::CodeInfo;
use crate::prometheus::model::duration::ModelDuration;
use crate::prometheus::model::names::counter_suffix;

pub struct Finding {
    pub code: &'static CodeInfo,
    pub label: String,
    pub help: Vec<String>,
    pub range: (usize, usize),
}

/// The position a promql-parser error names, when it names one (`... at position N`
/// style messages or `N:M` prefixes); otherwise `None`.
pub fn error_position(message: &str) -> Option<usize> {
    let digits = |text: &str| -> Option<usize> {
        let number: String = text.chars().take_while(char::is_ascii_digit).collect();
        number.parse().ok()
    };
    if let Some(rest) = message.split("position ").nth(1) {
        return digits(rest);
    }
    if let Some(rest) = message.split("at ").nth(1) {
        return digits(rest);
    }
    None
}

struct Walker<'a> {
    text: &'a str,
    config: &'a LintConfig,
    is_alert: bool,
    findings: Vec<Finding>,
    /// How far each needle has been searched, so repeated tokens map in order.
    cursor: std::collections::BTreeMap<String, usize>,
}

impl Walker<'_> {
    fn locate(&mut self, needle: &str) -> (usize, usize) {
        if needle.is_empty() {
            return (0, self.text.len());
        }
        let from = self.cursor.get(needle).copied().unwrap_or(0);
        let found = self
            .text
            .get(from..)
            .and_then(|rest| rest.find(needle))
            .map(|i| i + from);
        let found = found.or_else(|| self.text.find(needle));
        match found {
            Some(start) => {
                self.cursor.insert(needle.to_string(), start + needle.len());
                (start, start + needle.len())
            }
            None => (0, self.text.len()),
        }
    }

    fn push(&mut self, code: &'static CodeInfo, needle: &str, label: String, help: &str) {
        let range = self.locate(needle);
        self.findings.push(Finding {
            code,
            label,
            help: if help.is_empty() {
                Vec::new()
            } else {
                vec![help.to_string()]
            },
            range,
        });
    }

    fn walk(&mut self, expr: &Expr) {
        match expr {
            Expr::Call(call) => {
                let name = call.func.name;
                if matches!(name, "rate" | "irate" | "increase") {
                    if let Some(Expr::MatrixSelector(matrix)) =
                        call.args.args.first().map(|a| a.as_ref())
                    {
                        let metric = matrix.vs.name.clone().unwrap_or_default();
                        let counter = counter_suffix(&metric).is_some();
                        if !metric.is_empty() && !counter && !metric.contains(':') {
                            self.push(&codes::RATE_OVER_NON_COUNTER, &metric,
                                format!("`{metric}` does not look like a counter"),
                                "Counters end in `_total`, `_count`, `_sum` or `_bucket`; over a gauge use `deriv` or `delta`.");
                        }
                    }
                }
                if name == "absent" {
                    if let Some(Expr::VectorSelector(selector)) =
                        call.args.args.first().map(|a| a.as_ref())
                    {
                        if selector
                            .matchers
                            .matchers
                            .iter()
                            // A pattern such as `gpu-.*` asks "is there none?", which
                            // `absent` answers; an alternation of values asks "is each
                            // one there?", which it cannot.
                            .any(|m| matches!(m.op, MatchOp::Re(_)) && m.value.contains('|'))
                        {
                            self.push(
                                &codes::ABSENT_OVER_REGEX,
                                "absent",
                                "this `absent` cannot tell which of the matched values is missing"
                                    .into(),
                                "Use one `absent` per value, with `=` matchers.",
                            );
                        }
                    }
                }
                for arg in &call.args.args {
                    self.walk(arg);
                }
            }
            Expr::MatrixSelector(matrix) => {
                let range_ms = matrix.range.as_millis() as i64;
                let minimum = self
                    .config
                    .scrape_interval_ms
                    .saturating_mul(self.config.min_range_multiple as i64);
                if range_ms < minimum {
                    let range_text = ModelDuration(range_ms).to_string();
                    self.push(
                        &codes::RANGE_SHORTER_THAN_SCRAPE_INTERVALS,
                        &format!("[{range_text}]"),
                        format!(
                            "`[{range_text}]` holds fewer than {} samples at a {} scrape interval",
                            self.config.min_range_multiple,
                            ModelDuration(self.config.scrape_interval_ms)
                        ),
                        &format!("Use a window of at least {}.", ModelDuration(minimum)),
                    );
                }
            }
            Expr::Aggregate(aggregate) => {
                if let Some(LabelModifier::Include(labels)) = &aggregate.modifier {
                    for label in &labels.labels {
                        if self
                            .config
                            .high_cardinality_labels
                            .iter()
                            .any(|l| l == label)
                        {
                            self.push(&codes::AGGREGATION_KEEPS_HIGH_CARDINALITY_LABEL, label,
                                format!("`{label}` has one value per request or user"),
                                "Aggregate this label away, or record it somewhere built for it (logs, traces).");
                        }
                    }
                }
                self.walk(&aggregate.expr);
                if let Some(param) = &aggregate.param {
                    self.walk(param);
                }
            }
            Expr::Binary(binary) => {
                self.check_comparison(binary);
                self.check_matching(binary);
                if self.is_alert {
                    self.check_burn_rate(binary);
                }
                self.walk(&binary.lhs);
                self.walk(&binary.rhs);
            }
            Expr::Unary(unary) => self.walk(&unary.expr),
            Expr::Paren(paren) => self.walk(&paren.expr),
            Expr::Subquery(subquery) => self.walk(&subquery.expr),
            _ => {}
        }
    }

    fn check_comparison(&mut self, binary: &promql_parser::parser::BinaryExpr) {
        if !binary.op.is_comparison_operator() {
            return;
        }
        let op = binary.op.to_string();
        let lhs = constant(&binary.lhs);
        let rhs = constant(&binary.rhs);
        let verdict = match (lhs, rhs) {
            (Some(a), Some(b)) => Some(compare(&op, a, b)),
            (None, Some(b)) if non_negative(&binary.lhs) => match op.as_str() {
                ">=" if b <= 0.0 => Some(true),
                ">" if b < 0.0 => Some(true),
                "<" if b <= 0.0 => Some(false),
                "<=" if b < 0.0 => Some(false),
                "==" if b < 0.0 => Some(false),
                _ => None,
            },
            _ => None,
        };
        if let Some(always) = verdict {
            let word = if always { "always" } else { "never" };
            self.push(
                &codes::CONSTANT_COMPARISON,
                &op,
                format!("this comparison is {word} true"),
                "Compare with a threshold the left side can actually cross.",
            );
        }
    }

    fn check_matching(&mut self, binary: &promql_parser::parser::BinaryExpr) {
        let Some(modifier) = &binary.modifier else {
            return;
        };
        let Some(matching) = &modifier.matching else {
            return;
        };
        let (Some(left), Some(right)) = (by_labels(&binary.lhs), by_labels(&binary.rhs)) else {
            return;
        };
        for label in &matching.labels().labels {
            if !left.contains(label) && !right.contains(label) {
                self.push(
                    &codes::MATCHING_LABEL_ON_NEITHER_SIDE,
                    label,
                    format!("neither side keeps `{label}`"),
                    "Name a label that the `by` lists of both sides keep.",
                );
            }
        }
    }

    fn check_burn_rate(&mut self, binary: &promql_parser::parser::BinaryExpr) {
        let op = binary.op.to_string();
        if op != ">" && op != ">=" {
            return;
        }
        let Some(threshold) = constant(&binary.rhs) else {
            return;
        };
        if threshold <= 1.0 || !mentions_error_ratio(&binary.lhs) {
            return;
        }
        self.push(
            &codes::BURN_RATE_THRESHOLD_ABOVE_ONE,
            &op,
            format!(
                "an error ratio is at most 1 but the threshold is {}",
                (threshold * 1e6).round() / 1e6
            ),
            "A burn-rate threshold is `factor * (1 - objective)`, such as `14.4 * (1 - 0.999)`.",
        );
    }
}

fn compare(op: &str, a: f64, b: f64) -> bool {
    match op {
        "==" => a == b,
        "!=" => a != b,
        ">" => a > b,
        "<" => a < b,
        ">=" => a >= b,
        _ => a <= b,
    }
}

/// A constant numeric value, folding arithmetic over literals.
fn constant(expr: &Expr) -> Option<f64> {
    match expr {
        Expr::NumberLiteral(number) => Some(number.val),
        Expr::Paren(paren) => constant(&paren.expr),
        Expr::Unary(unary) => constant(&unary.expr).map(|v| -v),
        Expr::Binary(binary) if !binary.op.is_comparison_operator() => {
            let (a, b) = (constant(&binary.lhs)?, constant(&binary.rhs)?);
            match binary.op.to_string().as_str() {
                "+" => Some(a + b),
                "-" => Some(a - b),
                "*" => Some(a * b),
                "/" => Some(a / b),
                _ => None,
            }
        }
        _ => None,
    }
}

fn non_negative(expr: &Expr) -> bool {
    match expr {
        Expr::Paren(paren) => non_negative(&paren.expr),
        Expr::Call(call) => matches!(
            call.func.name,
            "rate"
                | "irate"
                | "increase"
                | "absent"
                | "absent_over_time"
                | "count_over_time"
                | "abs"
                | "sqrt"
                | "changes"
                | "resets"
                | "time"
        ),
        Expr::Aggregate(aggregate) => {
            let op = aggregate.op.to_string();
            op == "count"
                || op == "count_values"
                || (matches!(op.as_str(), "sum" | "max" | "min" | "avg")
                    && non_negative(&aggregate.expr))
        }
        _ => false,
    }
}

fn mentions_error_ratio(expr: &Expr) -> bool {
    match expr {
        Expr::VectorSelector(selector) => selector
            .name
            .as_deref()
            .is_some_and(|n| n.contains("error") && n.contains("ratio") || n.contains("burnrate")),
        Expr::Paren(paren) => mentions_error_ratio(&paren.expr),
        Expr::Aggregate(aggregate) => mentions_error_ratio(&aggregate.expr),
        Expr::Call(call) => call.args.args.iter().any(|a| mentions_error_ratio(a)),
        _ => false,
    }
}

/// The labels an aggregation with `by (...)` keeps; `None` when unknown.
fn by_labels(expr: &Expr) -> Option<Vec<String>> {
    match expr {
        Expr::Paren(paren) => by_labels(&paren.expr),
        Expr::Aggregate(aggregate) => match &aggregate.modifier {
            Some(LabelModifier::Include(labels)) => Some(labels.labels.clone()),
            None => Some(Vec::new()),
            Some(LabelModifier::Exclude(_)) => None,
        },
        _ => None,
    }
}

pub fn check_expr(expr: &Expr, text: &str, config: &LintConfig, is_alert: bool) -> Vec<Finding> {
    let mut walker = Walker {
        text,
        config,
        is_alert,
        findings: Vec::new(),
        cursor: Default::default(),
    };
    walker.walk(expr);
    walker.findings
}

/// Every vector selector of the expression as PromQL text, with where its metric name is.
pub fn selectors(expr: &Expr, text: &str) -> Vec<(String, String, (usize, usize))> {
    fn collect(expr: &Expr, out: &mut Vec<promql_parser::parser::VectorSelector>) {
        match expr {
            Expr::VectorSelector(selector) => out.push(selector.clone()),
            Expr::MatrixSelector(matrix) => out.push(matrix.vs.clone()),
            Expr::Call(call) => call.args.args.iter().for_each(|a| collect(a, out)),
            Expr::Aggregate(aggregate) => {
                collect(&aggregate.expr, out);
                if let Some(param) = &aggregate.param {
                    collect(param, out);
                }
            }
            Expr::Binary(binary) => {
                collect(&binary.lhs, out);
                collect(&binary.rhs, out);
            }
            Expr::Unary(unary) => collect(&unary.expr, out),
            Expr::Paren(paren) => collect(&paren.expr, out),
            Expr::Subquery(subquery) => collect(&subquery.expr, out),
            _ => {}
        }
    }
    let mut found = Vec::new();
    collect(expr, &mut found);
    let mut cursor = std::collections::BTreeMap::<String, usize>::new();
    found
        .into_iter()
        .map(|mut selector| {
            selector.offset = None;
            selector.at = None;
            let name = selector.name.clone().unwrap_or_default();
            let from = cursor.get(&name).copied().unwrap_or(0);
            let start = text
                .get(from..)
                .and_then(|rest| rest.find(&name))
                .map_or(0, |i| i + from);
            cursor.insert(name.clone(), start + name.len());
            let end = (start + name.len()).min(text.len());
            (name, selector.to_string(), (start, end))
        })
        .collect()
}
