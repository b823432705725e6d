//! The errors a query can fail with, worded as Prometheus words them so
//! promqltest's `expect fail msg:` lines and users' searches both match.

use std::fmt;

/// Why a query could not be evaluated.
#[derive(Clone, Debug, PartialEq)]
pub enum EvalError {
    /// The query text does not parse (`sum(`), or names a function this
    /// semantics does not know (`holt_winters` under V3).
    Parse(String),
    /// `ceil({__name__=~"a|b"})`: dropping the name makes two series equal.
    DuplicateLabelset,
    /// `a + on(job) b` where `b` has two series for one `job`.
    DuplicateMatchGroup {
        match_group: String,
        side: &'static str,
        first: String,
        second: String,
    },
    /// `a + b` where two series of `a` match one of `b`.
    ManyToOneNotExplicit,
    /// `a * on(job) group_left b` producing one label set twice.
    GroupingNotUnique,
    /// A function argument outside what Prometheus accepts, with its message:
    /// `label_replace(x, "1bad", "", "a", "")`.
    InvalidArgument(String),
    /// A well-formed query that uses something this engine does not model
    /// (native histograms, `limit_ratio`, `fill` modifiers).
    Unsupported(String),
    /// A type mismatch the parser let through: `range_query` of `x[5m]`.
    Type(String),
}

impl fmt::Display for EvalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EvalError::Parse(message) => f.write_str(message),
            EvalError::DuplicateLabelset => {
                f.write_str("vector cannot contain metrics with the same labelset")
            }
            EvalError::DuplicateMatchGroup {
                match_group,
                side,
                first,
                second,
            } => write!(
                f,
                "found duplicate series for the match group {match_group} on the {side} hand-side of the operation: [{first}, {second}];many-to-many matching not allowed: matching labels must be unique on one side"
            ),
            EvalError::ManyToOneNotExplicit => f.write_str(
                "multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)",
            ),
            EvalError::GroupingNotUnique => {
                f.write_str("multiple matches for labels: grouping labels must ensure unique matches")
            }
            EvalError::InvalidArgument(message) => f.write_str(message),
            EvalError::Unsupported(message) => write!(f, "not supported: {message}"),
            EvalError::Type(message) => f.write_str(message),
        }
    }
}

impl std::error::Error for EvalError {}
