//! Go text/template as Prometheus runs it for alert labels and annotations: parse,
//! execute, and validate, with Prometheus' template functions and Go's error texts.
//!
//! ```text
//! text ──lexer::lex──▶ tokens ──parse::parse──▶ Trees ──exec::execute(data, Env)──▶ String
//! ```
//!
//! The reference is promtool 2.42 (Go 1.19/1.20 text/template): `tests/integration/template.rs`
//! replays 2,400 recorded promtool results (hand-written and random templates,
//! expansions, expansion errors and parse errors, 640 value formattings; generators in
//! `tests/data/template/promtool/`), Prometheus' own template test table and Go's
//! parser error table.
//!
//! Supported: text, actions, `{{-`/`-}}` trimming, comments, pipelines, variables
//! (`:=`, `=`, `$`), fields and chains on structs/maps/samples, every literal form
//! (strings with Go escapes, raw strings, chars, decimal/hex/octal/binary ints with
//! `_`, decimal and hex floats, complex), parentheses, `if`/`else if`/`else`,
//! `range` (slices, maps in key order, query results; `break`/`continue`), `with`,
//! `define`/`template`/`block`; every builtin (`and or not len index slice print
//! printf println html js urlquery eq ne lt le gt ge call`) and every Prometheus 2.42
//! function plus the later `toTime` and `stripDomain`. `fmt` verbs `v s q d x X o b c
//! U e E f F g G t T %` (`x` of floats as hex floats), flags `+ - # 0 space`, width,
//! precision, `*` and `[n]`, with Go's `%!verb(type=value)` for mismatches.
//!
//! Deliberate differences, each an error rather than a wrong answer: nesting deeper
//! than 64 parentheses/blocks (`max expression depth exceeded`, Go: 10000) or 100
//! template calls plus pipelines (`exceeded maximum template depth (100)`, Go:
//! 100000); `{{ else with }}` is rejected as Go before 1.23 does. Not reproduced:
//! pointer addresses (`{{ query "x" }}` prints stand-ins like `[0xc000000000]`; Go's
//! differ on every run), unsigned integers (none reach templates), `ExpandHTML`.
//!
//! Invariants: pure (no IO; `query` goes through the caller's `QueryFn`); never panics
//! on any template text or data; every error message is the one Go/Prometheus print.

pub mod exec;
pub mod format;
pub mod funcs;
pub mod lexer;
pub mod parse;
pub mod value;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

pub use funcs::{Dialect, Env, QueryFn};
pub use parse::{ParseError, Trees};
pub use value::{Sample, StructValue, Time, Value};

/// The variable definitions Prometheus prepends to every alert label and annotation
/// template (`rules/alerting.go`).
pub const ALERT_PREAMBLE: &str = "{{$labels := .Labels}}{{$externalLabels := .ExternalLabels}}{{$externalURL := .ExternalURL}}{{$value := .Value}}";

/// The variables [`ALERT_PREAMBLE`] declares.
pub const ALERT_PREAMBLE_VARIABLES: [&str; 4] =
    ["$labels", "$externalLabels", "$externalURL", "$value"];

/// Parses an alert label or annotation template as Prometheus does (after its
/// preamble) without lexing the preamble again for every template: its variables
/// are declared up front. Error offsets are into `text`.
pub fn parse_alert_template(name: &str, text: &str) -> Result<Trees, ParseError> {
    parse::parse_with_variables(
        name,
        text,
        &|f: &str| funcs::lookup(f).is_some(),
        &ALERT_PREAMBLE_VARIABLES,
    )
}

/// Parses a template with Prometheus' function map.
pub fn parse_template(name: &str, text: &str) -> Result<Trees, ParseError> {
    parse::parse(name, text, &|f: &str| funcs::lookup(f).is_some())
}

/// Parses and executes `text` as template `name` over `data`, the way Prometheus'
/// `Expander.Expand` does; errors read `error parsing template NAME: ...` or
/// `error executing template NAME: ...`.
pub fn expand(name: &str, text: &str, data: &Value, env: &Env<'_>) -> Result<String, String> {
    let trees = parse_template(name, text)
        .map_err(|e| format!("error parsing template {name}: {}", e.message))?;
    exec::execute(&trees, data, env).map_err(|e| format!("error executing template {name}: {e}"))
}

/// What an alert's templates see: Prometheus' `AlertTemplateData`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AlertData {
    pub labels: BTreeMap<String, String>,
    pub external_labels: BTreeMap<String, String>,
    pub external_url: String,
    pub value: f64,
}

impl AlertData {
    /// The Go struct value, field for field.
    pub fn to_value(&self) -> Value {
        Value::Struct(Arc::new(StructValue {
            type_name: "struct { Labels map[string]string; ExternalLabels map[string]string; ExternalURL string; Value float64 }".to_string(),
            fields: vec![
                ("Labels".to_string(), Value::StringMap(Arc::new(self.labels.clone()))),
                (
                    "ExternalLabels".to_string(),
                    Value::StringMap(Arc::new(self.external_labels.clone())),
                ),
                ("ExternalURL".to_string(), Value::String(self.external_url.clone())),
                ("Value".to_string(), Value::Float(self.value)),
            ],
        }))
    }
}

/// The template name Prometheus gives an alert's label and annotation templates.
pub fn alert_template_name(alert_name: &str) -> String {
    format!("__alert_{alert_name}")
}

/// An alert label or annotation template parsed once, for expanding it for many
/// alerts (Prometheus re-parses on every expansion; the result is the same).
#[derive(Clone, Debug, PartialEq)]
pub struct AlertTemplate {
    name: String,
    parsed: Result<Trees, String>,
}

impl AlertTemplate {
    pub fn new(alert_name: &str, text: &str) -> AlertTemplate {
        let name = alert_template_name(alert_name);
        let full = format!("{ALERT_PREAMBLE}{text}");
        let parsed = parse_template(&name, &full)
            .map_err(|e| format!("error parsing template {name}: {}", e.message));
        AlertTemplate { name, parsed }
    }

    /// The expansion, or Prometheus' error text (without the `<error expanding ...>`).
    pub fn try_expand(&self, data: &AlertData, env: &Env<'_>) -> Result<String, String> {
        let trees = self.parsed.as_ref().map_err(Clone::clone)?;
        exec::execute(trees, &data.to_value(), env)
            .map_err(|e| format!("error executing template {}: {e}", self.name))
    }

    /// The expansion, or `<error expanding template: ...>` as Prometheus writes it into
    /// the label or annotation.
    pub fn expand(&self, data: &AlertData, env: &Env<'_>) -> String {
        self.try_expand(data, env)
            .unwrap_or_else(|e| format!("<error expanding template: {e}>"))
    }
}

/// Expands one alert label or annotation template, returning the error as `Err`.
pub fn try_expand_alert(
    alert_name: &str,
    text: &str,
    data: &AlertData,
    env: &Env<'_>,
) -> Result<String, String> {
    AlertTemplate::new(alert_name, text).try_expand(data, env)
}

/// Expands one alert label or annotation template exactly as Prometheus does: an error
/// becomes the text `<error expanding template: ...>`.
pub fn expand_alert(alert_name: &str, text: &str, data: &AlertData, env: &Env<'_>) -> String {
    AlertTemplate::new(alert_name, text).expand(data, env)
}

/// A template problem found without executing it, for the linter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TemplateProblem {
    /// What promtool 2.42 prints after `annotation "x": `, e.g.
    /// `template: __alert_X:1: unclosed action`.
    pub message: String,
    /// The message without Go's `template: NAME:LINE: ` prefix.
    pub detail: String,
    /// Byte offset into the user's text (not counting the preamble) of the token the
    /// parser stopped at.
    pub offset: usize,
    /// 1-based line and column (in characters) of `offset` in the user's text.
    pub line: usize,
    pub column: usize,
}

/// What validation learned about a template.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TemplateReport {
    /// Every function name the template calls, known or not.
    pub functions: BTreeSet<String>,
    /// Names called that Prometheus does not define.
    pub unknown_functions: BTreeSet<String>,
    /// The first parse error as Go reports it, if any.
    pub error: Option<TemplateProblem>,
}

/// Parses an alert label or annotation template as `promtool check rules` does (with
/// the preamble and the `__alert_NAME` name) and reports what a linter needs.
pub fn validate_alert_template(alert_name: &str, text: &str) -> TemplateReport {
    let name = alert_template_name(alert_name);
    let mut report = TemplateReport::default();
    // A permissive parse collects every identifier even past the first unknown one.
    if let Ok(trees) =
        parse::parse_with_variables(&name, text, &|_| true, &ALERT_PREAMBLE_VARIABLES)
    {
        for list in trees.trees.values() {
            collect_functions_in_list(list, &mut report.functions);
        }
    }
    report.unknown_functions = report
        .functions
        .iter()
        .filter(|f| funcs::lookup(f).is_none())
        .cloned()
        .collect();
    if let Err(e) = parse_alert_template(&name, text) {
        let offset = e.offset.min(text.len());
        let offset = (0..=offset)
            .rev()
            .find(|i| text.is_char_boundary(*i))
            .unwrap_or(0);
        let before = &text[..offset];
        let line = 1 + before.matches('\n').count();
        let column = 1 + before.rsplit('\n').next().unwrap_or("").chars().count();
        report.error = Some(TemplateProblem {
            message: e.message,
            detail: e.detail,
            offset,
            line,
            column,
        });
    }
    report
}

fn collect_functions_in_list(list: &parse::List, out: &mut BTreeSet<String>) {
    for node in &list.nodes {
        match node {
            parse::Node::Action { pipe, .. } => collect_functions_in_pipe(pipe, out),
            parse::Node::If(b) | parse::Node::Range(b) | parse::Node::With(b) => {
                collect_functions_in_pipe(&b.pipe, out);
                collect_functions_in_list(&b.list, out);
                if let Some(e) = &b.else_list {
                    collect_functions_in_list(e, out);
                }
            }
            parse::Node::Template { pipe: Some(p), .. } => collect_functions_in_pipe(p, out),
            _ => {}
        }
    }
}

fn collect_functions_in_pipe(pipe: &parse::Pipe, out: &mut BTreeSet<String>) {
    for cmd in &pipe.cmds {
        for arg in &cmd.args {
            collect_functions_in_arg(arg, out);
        }
    }
}

fn collect_functions_in_arg(arg: &parse::Arg, out: &mut BTreeSet<String>) {
    match arg {
        parse::Arg::Identifier { name, .. } => {
            out.insert(name.clone());
        }
        parse::Arg::Pipe(p) => collect_functions_in_pipe(p, out),
        parse::Arg::Chain { node, .. } => collect_functions_in_arg(node, out),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env() -> Env<'static> {
        Env {
            query: None,
            external_url: Some("http://localhost:9090".to_string()),
        }
    }

    #[test]
    fn alert_expansion_uses_labels_and_value() {
        let data = AlertData {
            labels: [("instance".to_string(), "a".to_string())]
                .into_iter()
                .collect(),
            value: 1234567.0,
            ..AlertData::default()
        };
        assert_eq!(
            expand_alert(
                "X",
                "{{ $labels.instance }} at {{ $value | humanize }} ({{ $value }})",
                &data,
                &env()
            ),
            "a at 1.235M (1.234567e+06)"
        );
        assert_eq!(
            expand_alert(
                "X",
                "{{ $labels.nope }}|{{ .Labels.instance }}",
                &data,
                &env()
            ),
            "|a"
        );
    }

    #[test]
    fn alert_errors_are_wrapped_like_prometheus() {
        let data = AlertData::default();
        let out = expand_alert("X", "{{ if gt $value 1 }}big{{ end }}", &data, &env());
        assert_eq!(
            out,
            "<error expanding template: error executing template __alert_X: template: __alert_X:1:118: executing \"__alert_X\" at <gt $value 1>: error calling gt: incompatible types for comparison>"
        );
        let out = expand_alert("X", "{{", &data, &env());
        assert_eq!(
            out,
            "<error expanding template: error parsing template __alert_X: template: __alert_X:1: unclosed action>"
        );
    }

    #[test]
    fn validation_reports_functions_and_positions() {
        let report = validate_alert_template("X", "ok\n{{ $value | humanise }}");
        assert_eq!(
            report.unknown_functions.iter().cloned().collect::<Vec<_>>(),
            vec!["humanise"]
        );
        let error = report.error.expect("unknown function is a parse error");
        assert_eq!(
            error.message,
            "template: __alert_X:2: function \"humanise\" not defined"
        );
        assert_eq!((error.line, error.column), (2, 13));
        let report = validate_alert_template("X", "{{ $labels.a | toUpper }}");
        assert!(report.error.is_none());
        assert!(report.functions.contains("toUpper"));
    }

    #[test]
    fn declared_preamble_variables_parse_like_the_preamble() {
        for text in [
            "{{ $labels.job }} at {{ $value | humanizePercentage }}",
            "{{ $externalLabels.cluster }} {{ $externalURL }}",
            "{{ $other }}",
            "{{ range $k, $v := $labels }}{{ $k }}{{ end }}{{ $k }}",
            "{{ define \"x\" }}{{ $labels }}{{ end }}",
            "line\n{{ $value | nosuch }}",
            "{{ if }}",
            "{{",
            "plain",
            "{{ $value := 1 }}{{ $value }}",
        ] {
            let with_preamble = parse_template("__alert_X", &format!("{ALERT_PREAMBLE}{text}"))
                .map(|_| ())
                .map_err(|e| (e.message, e.detail, e.offset - ALERT_PREAMBLE.len()));
            let declared = parse_alert_template("__alert_X", text)
                .map(|_| ())
                .map_err(|e| (e.message, e.detail, e.offset));
            assert_eq!(declared, with_preamble, "{text}");
        }
    }
}
