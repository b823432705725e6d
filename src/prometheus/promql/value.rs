//! The values PromQL expressions evaluate to: label sets, samples, instant
//! vectors, range vectors (matrices), scalars and strings.
//!
//! Invariants: a [`Labels`] is sorted by label name with unique names and no
//! empty values (Prometheus drops empty labels); clones are cheap (shared).
//! Stale markers never appear in a [`Value`]: the engine removes them.

use std::fmt;
use std::sync::Arc;

/// The name of the label that holds the metric name.
pub const METRIC_NAME: &str = "__name__";

/// Prometheus' stale marker, a NaN with a payload the scraper and the rule
/// engine write when a series disappears (model/value/value.go).
pub const STALE_NAN_BITS: u64 = 0x7ff0_0000_0000_0002;

/// Whether `value` is the stale marker (and not an ordinary NaN).
pub fn is_stale_nan(value: f64) -> bool {
    value.to_bits() == STALE_NAN_BITS
}

/// The stale marker as an `f64`.
pub fn stale_nan() -> f64 {
    f64::from_bits(STALE_NAN_BITS)
}

/// A sorted set of label pairs, including `__name__` when the series has one.
///
/// Ordering is Prometheus' `labels.Compare`: pair by pair, name then value,
/// shorter first on a common prefix.
#[derive(Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Labels(Arc<Vec<(String, String)>>);

impl Labels {
    /// Builds a label set from pairs in any order; empty values are dropped
    /// and a later duplicate name wins.
    pub fn from_pairs<I, K, V>(pairs: I) -> Labels
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        let mut collected: Vec<(String, String)> = Vec::new();
        for (name, value) in pairs {
            let name = name.into();
            let value = value.into();
            collected.retain(|(existing, _)| *existing != name);
            if !value.is_empty() {
                collected.push((name, value));
            }
        }
        collected.sort();
        Labels(Arc::new(collected))
    }

    /// An identity for this shared label set: equal identities mean equal
    /// labels (the converse need not hold). Valid while the set is alive.
    pub fn identity(&self) -> usize {
        Arc::as_ptr(&self.0) as usize
    }

    /// The empty label set.
    pub fn empty() -> Labels {
        Labels::default()
    }

    /// The value of label `name`, `""` when absent (as Prometheus' `Get`).
    pub fn get(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(label_name, _)| label_name == name)
            .map(|(_, value)| value.as_str())
            .unwrap_or("")
    }

    /// The metric name, `""` when the set has none.
    pub fn metric_name(&self) -> &str {
        self.get(METRIC_NAME)
    }

    /// All pairs, sorted by name.
    pub fn pairs(&self) -> &[(String, String)] {
        &self.0
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// A copy without `__name__`; cheap when there is none.
    pub fn without_metric_name(&self) -> Labels {
        if self.0.iter().any(|(name, _)| name == METRIC_NAME) {
            self.filtered(|name| name != METRIC_NAME)
        } else {
            self.clone()
        }
    }

    /// A copy keeping only the labels for which `keep` holds.
    pub fn filtered(&self, mut keep: impl FnMut(&str) -> bool) -> Labels {
        Labels(Arc::new(
            self.0
                .iter()
                .filter(|(name, _)| keep(name))
                .cloned()
                .collect(),
        ))
    }

    /// A copy with `name` set to `value` (removed when `value` is empty).
    pub fn with(&self, name: &str, value: &str) -> Labels {
        let mut pairs: Vec<(String, String)> = self
            .0
            .iter()
            .filter(|(existing, _)| existing != name)
            .cloned()
            .collect();
        if !value.is_empty() {
            pairs.push((name.to_string(), value.to_string()));
            pairs.sort();
        }
        Labels(Arc::new(pairs))
    }
}

impl fmt::Display for Labels {
    /// Prometheus' `labels.String()`: `{a="1", b="2"}`, name included as a label.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{{")?;
        for (index, (name, value)) in self.0.iter().enumerate() {
            if index > 0 {
                write!(f, ", ")?;
            }
            write!(f, "{name}={value:?}")?;
        }
        write!(f, "}}")
    }
}

impl fmt::Debug for Labels {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// One element of an instant vector.
#[derive(Clone, Debug, PartialEq)]
pub struct Sample {
    pub labels: Labels,
    pub value: f64,
}

/// An instant vector: at most one sample per label set.
pub type Vector = Vec<Sample>;

/// One series of a range vector or of a range query's result.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Series {
    pub labels: Labels,
    /// Sample times in milliseconds, ascending.
    pub timestamps: Vec<i64>,
    pub values: Vec<f64>,
}

/// A range vector, or the result of a range query: series sorted by labels.
pub type Matrix = Vec<Series>;

/// The result of evaluating an expression at one time.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Scalar(f64),
    String(String),
    Vector(Vector),
    Matrix(Matrix),
}

impl Value {
    /// The PromQL type name, as error messages spell it.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Scalar(_) => "scalar",
            Value::String(_) => "string",
            Value::Vector(_) => "vector",
            Value::Matrix(_) => "matrix",
        }
    }
}

/// The samples of one series inside a range window, oldest first, with stale
/// markers already removed. Both slices have the same length.
#[derive(Clone, Copy, Debug)]
pub struct Window<'a> {
    pub timestamps: &'a [i64],
    pub values: &'a [f64],
}
