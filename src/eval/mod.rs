//! The PromQL evaluator over in-memory float series.

pub mod functions;

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
