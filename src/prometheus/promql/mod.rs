//! PromQL: parsing and the evaluator over in-memory float series.
//!
//! Queries are parsed by the `promql-parser` crate, always through [`parse`] (the
//! crate's one front door: a per-thread regex cache, and the function table of the
//! chosen Prometheus version). The public API:
//!
//! - [`parse_promql`] parses as promql-parser does; [`parse_query`] as one
//!   Prometheus version accepts a query.
//! - [`Storage`] holds series (load them with [`notation::parse_series_line`]
//!   or [`Storage::append`]).
//! - [`EvalOptions`] picks [`Semantics`] (V2 = promtool 2.42, the default;
//!   V3 = Prometheus 3.x) and the lookback delta.
//! - [`instant_query`] / [`range_query`] take query text; [`instant_query_expr`]
//!   / [`range_query_expr`] take an already parsed [`Expr`], for callers that
//!   evaluate one rule many times (parse once with [`parse_query`]);
//!   [`range_query_steps`] gives a range query's steps unsorted, in query order.
//! - [`promqltest`] runs Prometheus' own conformance test files.
//!
//! ```
//! use mlslo::prometheus::promql::{instant_query, notation, EvalOptions, Storage, Value};
//! let mut storage = Storage::new();
//! let line = notation::parse_series_line(r#"up{job="api"} 0+1x10"#).unwrap();
//! for (step, value) in line.values.iter().enumerate() {
//!     if let notation::SequenceValue::Value(v) = value {
//!         storage.append(&line.labels, step as i64 * 60_000, *v);
//!     }
//! }
//! let value = instant_query(&storage, "sum(up) * 2", 300_000, &EvalOptions::default()).unwrap();
//! assert!(matches!(value, Value::Vector(v) if v[0].value == 10.0));
//! ```

mod aggregate;
mod binary;
mod calls;
pub mod engine;
pub mod error;
pub mod functions;
mod kahan;
pub mod notation;
pub mod parse;
pub mod promqltest;
mod regression;
pub mod storage;
pub mod value;

pub use engine::{instant_query_expr, range_query_expr, range_query_steps, EvalOptions, Evaluator};
pub use error::EvalError;
pub use parse::{parse_promql, parse_query, prometheus_parse_error, prometheus_parse_error_offset};
pub use promql_parser::parser::Expr;
pub use storage::Storage;
pub use value::{Labels, Matrix, Sample, Series, Value, Vector};

use crate::prometheus::model::names;

/// Which Prometheus version's PromQL semantics to follow.
///
/// `V2` is promtool 2.42's: closed range windows `[t-r, t]` and lookback
/// `[t-5m, t]`, the pre-2.50 `rate` extrapolation, `holt_winters`.
/// `V3` is Prometheus 3.x: left-open windows `(t-r, t]`, the current
/// extrapolation, `double_exponential_smoothing`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Semantics {
    #[default]
    V2,
    V3,
}

impl Semantics {
    /// Whether PromQL functions accept `name` as a label name (`count_values`,
    /// `label_replace`, `label_join`): the classic rule under V2, any non-empty UTF-8
    /// under V3.
    pub fn is_valid_label_name(self, name: &str) -> bool {
        match self {
            Semantics::V2 => names::is_legacy_label_name(name),
            Semantics::V3 => names::is_utf8_label_name(name),
        }
    }
}

/// Parses and evaluates `query` at `time_ms` (milliseconds since the epoch).
pub fn instant_query(
    storage: &Storage,
    query: &str,
    time_ms: i64,
    options: &EvalOptions,
) -> Result<Value, EvalError> {
    let expr = parse_query(query, options.semantics)?;
    instant_query_expr(storage, &expr, time_ms, options)
}

/// Parses and evaluates `query` at each step from `start_ms` to `end_ms`.
pub fn range_query(
    storage: &Storage,
    query: &str,
    start_ms: i64,
    end_ms: i64,
    step_ms: i64,
    options: &EvalOptions,
) -> Result<Matrix, EvalError> {
    let expr = parse_query(query, options.semantics)?;
    range_query_expr(storage, &expr, start_ms, end_ms, step_ms, options)
}
