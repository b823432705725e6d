//! The untyped syntax tree of one `.slo` file.
//!
//! The tree is deliberately generic: a file is a list of blocks and attributes,
//! and only `route` and `inhibit` have productions of their own. Which blocks and
//! fields exist, and what type each value must have, is the checker's business
//! (`crate::compiler::check`), so that a misspelled field gets "did you mean" instead of a
//! parse error. Every node carries the byte span it was parsed from.
//! Invariant: no semantics here; nothing in this file knows what a `latency` is.

use crate::base::diagnostic::{Span, Spanned};
use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct File {
    pub items: Vec<Item>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum Item {
    Attribute(Attribute),
    Block(Block),
    Route(Route),
    Inhibit(Inhibit),
}

impl Item {
    pub fn span(&self) -> Span {
        match self {
            Item::Attribute(attribute) => attribute.span,
            Item::Block(block) => block.span,
            Item::Route(route) => route.span,
            Item::Inhibit(inhibit) => inhibit.span,
        }
    }
}

/// `objective = 99.9%`
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Attribute {
    pub key: Spanned<String>,
    pub value: Spanned<Value>,
    /// Where a string value's text lies in the source when it is written
    /// verbatim (single- or triple-quoted, or double-quoted without escapes), so
    /// that a position inside the text (a PromQL error in a query) maps back to
    /// the file; `None` otherwise.
    pub text_span: Option<Span>,
    /// From the key to the end of the value.
    pub span: Span,
}

/// `latency "inference-p99" { ... }`, `labels { ... }`, `routing { ... }`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Block {
    /// The keyword before the braces: `service`, `latency`, `forecast`, ...
    pub kind: Spanned<String>,
    /// The optional quoted name after the keyword.
    pub name: Option<Spanned<String>>,
    pub items: Vec<Item>,
    /// From the keyword to the closing brace.
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum Value {
    /// `"text"` with escapes resolved, or `'raw text'` and `"""raw text"""`
    /// (which may span lines) taken verbatim.
    String(String),
    /// `0.92`, `100`, `1.5e3`: always finite.
    Number(Number),
    /// `250ms`, `28d`, `1h30m`: exact milliseconds.
    Duration(Duration),
    /// `99.5%`: the number before the percent sign.
    Percent(Number),
    /// `10GiB`, `512MB`, `64B`.
    Bytes(Bytes),
    /// `100 per 5m`: a count in a window.
    PerWindow {
        count: Number,
        window: Spanned<Duration>,
    },
    /// `true` or `false`.
    Bool(bool),
    /// A bare PromQL vector selector, or a plain identifier when it has no braces:
    /// `http_requests_total{status=~"5.."}`, `model_precision`, `service`.
    /// The text is kept verbatim; the checker parses it as PromQL where a metric is due.
    Selector(String),
    /// `[service, slo]`, `["accuracy", "drift"]`.
    List(Vec<Spanned<Value>>),
}

impl Value {
    /// What the value is, for messages such as "expected a duration, found a percentage".
    pub fn describe(&self) -> &'static str {
        match self {
            Value::String(_) => "a string",
            Value::Number(_) => "a number",
            Value::Duration(_) => "a duration",
            Value::Percent(_) => "a percentage",
            Value::Bytes(_) => "a byte size",
            Value::PerWindow { .. } => "a count per window",
            Value::Bool(_) => "a boolean",
            Value::Selector(_) => "a metric selector",
            Value::List(_) => "a list",
        }
    }
}

/// A decimal literal. The text is kept so that later stages can do exact decimal
/// arithmetic (`1 - 99.9%` is `0.001`, not `0.0009999999999999432`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Number {
    /// The literal as written, without sign normalisation: `-0.5`, `99.9`, `1e3`.
    pub text: String,
    pub value: f64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Duration {
    pub millis: i64,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Bytes {
    pub number: Number,
    pub unit: ByteUnit,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum ByteUnit {
    B,
    KB,
    MB,
    GB,
    TB,
    KiB,
    MiB,
    GiB,
    TiB,
}

impl ByteUnit {
    pub fn multiplier(self) -> u64 {
        match self {
            ByteUnit::B => 1,
            ByteUnit::KB => 1_000,
            ByteUnit::MB => 1_000_000,
            ByteUnit::GB => 1_000_000_000,
            ByteUnit::TB => 1_000_000_000_000,
            ByteUnit::KiB => 1 << 10,
            ByteUnit::MiB => 1 << 20,
            ByteUnit::GiB => 1 << 30,
            ByteUnit::TiB => 1 << 40,
        }
    }
}

/// `route { team = "risk-ml", severity = "page" } -> "risk-pager" continue`
/// or `-> ["risk-pager", "audit-log"]`, optionally followed by
/// `mute_during ["retraining"]` and `active_during "office-hours"`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Route {
    pub matchers: Vec<Matcher>,
    pub receivers: Vec<Spanned<String>>,
    /// The span of the trailing `continue` keyword, when present.
    pub continue_span: Option<Span>,
    /// The time intervals named after `mute_during` (Alertmanager's
    /// `mute_time_intervals`); empty when the clause is absent.
    pub mute_during: Vec<Spanned<String>>,
    /// The time intervals named after `active_during` (`active_time_intervals`).
    pub active_during: Vec<Spanned<String>>,
    pub span: Span,
}

/// `severity = "page"`, `team =~ "risk-.*"`, `env != "dev"`, `slo !~ "test-.*"`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Matcher {
    pub label: Spanned<String>,
    pub op: MatchOp,
    pub value: Spanned<String>,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum MatchOp {
    Equal,
    NotEqual,
    Regex,
    NotRegex,
}

impl MatchOp {
    pub fn as_str(self) -> &'static str {
        match self {
            MatchOp::Equal => "=",
            MatchOp::NotEqual => "!=",
            MatchOp::Regex => "=~",
            MatchOp::NotRegex => "!~",
        }
    }
}

/// `inhibit severity "page" over "ticket" on [service, slo]`
/// or `inhibit kind "availability" over ["accuracy", "drift"] on [service]`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Inhibit {
    /// The label whose value tells source from target: `severity`, `kind`.
    pub label: Spanned<String>,
    pub source: Spanned<String>,
    pub targets: Vec<Spanned<String>>,
    /// Labels that must be equal on source and target (Alertmanager's `equal`).
    pub equal: Vec<Spanned<String>>,
    pub span: Span,
}
