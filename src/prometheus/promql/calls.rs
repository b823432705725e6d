//! Function calls over instant vectors and scalars: the element-wise family
//! (delegated to `functions.rs`), and the ones that need labels or the whole
//! vector (`label_replace`, `label_join`, `histogram_quantile`, `absent`,
//! `sort*`, `timestamp`, `scalar`, `vector`, `time`, date functions).
//!
//! Invariants: functions drop `__name__` exactly where Prometheus does
//! (element-wise math, `timestamp`, `histogram_quantile`), and keep it for
//! `sort*`, `label_*`; every vector result is checked for duplicate labels.

use std::cmp::Ordering;
use std::collections::HashMap;

use promql_parser::parser::ast::{Call, Expr};

use super::engine::{absent_labels, ensure_unique_labels, unwrap_parens, Evaluator};
use super::error::EvalError;
use super::functions;
use super::value::{Labels, Sample, Value, Vector, METRIC_NAME};
use crate::prometheus::model::{go_number, go_quote};

/// Functions applied to each sample on its own, computed in `functions.rs`.
const ELEMENTWISE: &[&str] = &[
    "abs",
    "ceil",
    "floor",
    "exp",
    "ln",
    "log2",
    "log10",
    "sqrt",
    "round",
    "clamp",
    "clamp_min",
    "clamp_max",
    "sgn",
    "acos",
    "acosh",
    "asin",
    "asinh",
    "atan",
    "atanh",
    "cos",
    "cosh",
    "sin",
    "sinh",
    "tan",
    "tanh",
    "deg",
    "rad",
];

/// Date functions: over the argument's values, or over the evaluation time.
const DATE_FUNCTIONS: &[&str] = &[
    "minute",
    "hour",
    "day_of_month",
    "day_of_week",
    "day_of_year",
    "days_in_month",
    "month",
    "year",
];

impl Evaluator<'_> {
    pub(crate) fn eval_instant_function(
        &mut self,
        call: &Call,
        time: i64,
    ) -> Result<Value, EvalError> {
        let name = call.func.name;
        let args = &call.args.args;
        if ELEMENTWISE.contains(&name) || DATE_FUNCTIONS.contains(&name) {
            let vector = if args.is_empty() {
                vec![Sample {
                    labels: Labels::empty(),
                    value: time as f64 / 1000.0,
                }]
            } else {
                self.eval_vector(&args[0], time)?
            };
            let mut scalar_args = Vec::with_capacity(args.len().saturating_sub(1));
            for arg in args.iter().skip(1) {
                scalar_args.push(self.eval_scalar(arg, time)?);
            }
            if name == "clamp" && scalar_args.len() == 2 && scalar_args[1] < scalar_args[0] {
                return Ok(Value::Vector(Vector::new()));
            }
            let mut output = Vector::with_capacity(vector.len());
            for sample in vector {
                let value = functions::elementwise_function(name, sample.value, &scalar_args)
                    .ok_or_else(|| EvalError::Unsupported(format!("function {name}")))?;
                output.push(Sample {
                    labels: sample.labels.without_metric_name(),
                    value,
                });
            }
            ensure_unique_labels(&output)?;
            return Ok(Value::Vector(output));
        }
        match name {
            "time" => Ok(Value::Scalar(time as f64 / 1000.0)),
            "pi" => Ok(Value::Scalar(std::f64::consts::PI)),
            "start" => Ok(Value::Scalar(self.query_start as f64 / 1000.0)),
            "end" => Ok(Value::Scalar(self.query_end as f64 / 1000.0)),
            "step" => Ok(Value::Scalar(self.query_step as f64 / 1000.0)),
            "range" => Ok(Value::Scalar(
                (self.query_end - self.query_start) as f64 / 1000.0,
            )),
            "min_of" | "max_of" => {
                let a = self.eval_scalar(&args[0], time)?;
                let b = self.eval_scalar(&args[1], time)?;
                Ok(Value::Scalar(if name == "min_of" {
                    functions::go_min(a, b)
                } else {
                    functions::go_max(a, b)
                }))
            }
            "vector" => {
                let value = self.eval_scalar(&args[0], time)?;
                Ok(Value::Vector(vec![Sample {
                    labels: Labels::empty(),
                    value,
                }]))
            }
            "scalar" => {
                let vector = self.eval_vector(&args[0], time)?;
                Ok(Value::Scalar(if vector.len() == 1 {
                    vector[0].value
                } else {
                    f64::NAN
                }))
            }
            "timestamp" => {
                let output: Vector = match unwrap_parens(&args[0]) {
                    Expr::VectorSelector(selector) => self
                        .select_instant(selector, time, true)?
                        .into_iter()
                        .map(|(sample, sample_time)| Sample {
                            labels: sample.labels,
                            value: sample_time as f64 / 1000.0,
                        })
                        .collect(),
                    other => self
                        .eval_vector(other, time)?
                        .into_iter()
                        .map(|sample| Sample {
                            labels: sample.labels.without_metric_name(),
                            value: time as f64 / 1000.0,
                        })
                        .collect(),
                };
                ensure_unique_labels(&output)?;
                Ok(Value::Vector(output))
            }
            "absent" => {
                let vector = self.eval_vector(&args[0], time)?;
                if !vector.is_empty() {
                    return Ok(Value::Vector(Vector::new()));
                }
                Ok(Value::Vector(vec![Sample {
                    labels: absent_labels(&args[0]),
                    value: 1.0,
                }]))
            }
            "sort" | "sort_desc" => {
                self.warn_sort_in_range_query();
                let mut vector = self.eval_vector(&args[0], time)?;
                let descending = name == "sort_desc";
                vector.sort_by(|a, b| compare_for_sort(a.value, b.value, descending));
                Ok(Value::Vector(vector))
            }
            "sort_by_label" | "sort_by_label_desc" => {
                self.warn_sort_in_range_query();
                let mut vector = self.eval_vector(&args[0], time)?;
                let mut label_names = Vec::new();
                for arg in args.iter().skip(1) {
                    label_names.push(self.eval_string(arg, time)?);
                }
                let descending = name == "sort_by_label_desc";
                vector.sort_by(|a, b| {
                    let mut ordering = Ordering::Equal;
                    for label in &label_names {
                        ordering = natural_compare(a.labels.get(label), b.labels.get(label));
                        if ordering != Ordering::Equal {
                            break;
                        }
                    }
                    if ordering == Ordering::Equal {
                        ordering = a.labels.cmp(&b.labels);
                    }
                    if descending {
                        ordering.reverse()
                    } else {
                        ordering
                    }
                });
                Ok(Value::Vector(vector))
            }
            "label_replace" => self.label_replace(args, time),
            "label_join" => self.label_join(args, time),
            "histogram_quantile" => self.histogram_quantile(args, time),
            "histogram_quantiles" => self.histogram_quantiles(args, time),
            "histogram_fraction" if self.options.semantics == super::Semantics::V3 => {
                self.histogram_fraction(args, time)
            }
            "histogram_count" | "histogram_sum" | "histogram_avg" | "histogram_fraction"
            | "histogram_stddev" | "histogram_stdvar" => {
                // These read native histograms only; float samples yield nothing.
                self.eval_vector(&args[args.len() - 1], time)?;
                Ok(Value::Vector(Vector::new()))
            }
            other => Err(EvalError::Unsupported(format!("function {other}"))),
        }
    }

    fn eval_string(&mut self, expr: &Expr, time: i64) -> Result<String, EvalError> {
        match self.eval(expr, time)? {
            Value::String(text) => Ok(text),
            other => Err(EvalError::Type(format!(
                "expected type string, got {}",
                other.type_name()
            ))),
        }
    }

    fn label_replace(&mut self, args: &[Box<Expr>], time: i64) -> Result<Value, EvalError> {
        let vector = self.eval_vector(&args[0], time)?;
        let destination = self.eval_string(&args[1], time)?;
        let replacement = self.eval_string(&args[2], time)?;
        let source = self.eval_string(&args[3], time)?;
        let pattern = self.eval_string(&args[4], time)?;
        let regex = regex::Regex::new(&format!("^(?s:{pattern})$")).map_err(|error| {
            EvalError::InvalidArgument(format!(
                "invalid regular expression in label_replace(): {pattern}: {error}"
            ))
        })?;
        if !self.options.semantics.is_valid_label_name(&destination) {
            return Err(EvalError::InvalidArgument(format!(
                "invalid destination label name in label_replace(): {destination}"
            )));
        }
        let mut output = Vector::with_capacity(vector.len());
        for sample in vector {
            let source_value = sample.labels.get(&source);
            let labels = match regex.captures(source_value) {
                Some(captures) => {
                    let mut expanded = String::new();
                    captures.expand(&replacement, &mut expanded);
                    sample.labels.with(&destination, &expanded)
                }
                None => sample.labels.clone(),
            };
            output.push(Sample {
                labels,
                value: sample.value,
            });
        }
        ensure_unique_labels(&output)?;
        Ok(Value::Vector(output))
    }

    fn label_join(&mut self, args: &[Box<Expr>], time: i64) -> Result<Value, EvalError> {
        let vector = self.eval_vector(&args[0], time)?;
        let destination = self.eval_string(&args[1], time)?;
        let separator = self.eval_string(&args[2], time)?;
        let mut sources = Vec::new();
        for arg in args.iter().skip(3) {
            let source = self.eval_string(arg, time)?;
            if !self.options.semantics.is_valid_label_name(&source) {
                return Err(EvalError::InvalidArgument(format!(
                    "invalid source label name in label_join(): {source}"
                )));
            }
            sources.push(source);
        }
        if !self.options.semantics.is_valid_label_name(&destination) {
            return Err(EvalError::InvalidArgument(format!(
                "invalid destination label name in label_join(): {destination}"
            )));
        }
        let mut output = Vector::with_capacity(vector.len());
        for sample in vector {
            let joined: Vec<&str> = sources.iter().map(|s| sample.labels.get(s)).collect();
            let joined = joined.join(&separator);
            output.push(Sample {
                labels: sample.labels.with(&destination, &joined),
                value: sample.value,
            });
        }
        ensure_unique_labels(&output)?;
        Ok(Value::Vector(output))
    }

    /// `histogram_fraction(lower, upper, buckets)` over classic buckets
    /// (3.x): the share of observations between the bounds, interpolating
    /// linearly inside finite buckets and not at all inside infinite ones.
    fn histogram_fraction(&mut self, args: &[Box<Expr>], time: i64) -> Result<Value, EvalError> {
        let lower = self.eval_scalar(&args[0], time)?;
        let upper = self.eval_scalar(&args[1], time)?;
        let vector = self.eval_vector(&args[2], time)?;
        let output: Vector = self
            .group_buckets_annotated(vector, false)
            .into_iter()
            .map(|(labels, mut buckets)| Sample {
                labels,
                value: bucket_fraction(lower, upper, &mut buckets),
            })
            .collect();
        ensure_unique_labels(&output)?;
        Ok(Value::Vector(output))
    }

    fn histogram_quantile(&mut self, args: &[Box<Expr>], time: i64) -> Result<Value, EvalError> {
        let quantile = self.eval_scalar(&args[0], time)?;
        let vector = self.eval_vector(&args[1], time)?;
        self.check_quantile(quantile);
        let semantics = self.options.semantics;
        let groups = self.group_buckets_annotated(vector, true);
        let output: Vector = groups
            .into_iter()
            .map(|(labels, mut buckets)| Sample {
                labels,
                value: functions::bucket_quantile_for(semantics, quantile, &mut buckets),
            })
            .collect();
        ensure_unique_labels(&output)?;
        Ok(Value::Vector(output))
    }

    /// `histogram_quantiles(v, "label", φ...)` (3.x): one series per φ,
    /// labelled with φ in OpenMetrics float form.
    fn histogram_quantiles(&mut self, args: &[Box<Expr>], time: i64) -> Result<Value, EvalError> {
        let vector = self.eval_vector(&args[0], time)?;
        let label = self.eval_string(&args[1], time)?;
        let mut quantiles = Vec::new();
        for arg in args.iter().skip(2) {
            let quantile = self.eval_scalar(arg, time)?;
            self.check_quantile(quantile);
            quantiles.push(quantile);
        }
        let semantics = self.options.semantics;
        let groups = self.group_buckets_annotated(vector, true);
        let mut output = Vector::new();
        for (labels, buckets) in groups {
            for &quantile in &quantiles {
                let mut buckets = buckets.clone();
                output.push(Sample {
                    labels: labels.with(&label, &format_open_metrics_float(quantile)),
                    value: functions::bucket_quantile_for(semantics, quantile, &mut buckets),
                });
            }
        }
        ensure_unique_labels(&output)?;
        Ok(Value::Vector(output))
    }

    /// [`group_buckets`], recording Prometheus' annotations: a warning per
    /// bad `le`, an info when a group's counts are not monotonic.
    fn group_buckets_annotated(
        &mut self,
        vector: Vector,
        check_monotonic: bool,
    ) -> Vec<(Labels, Vec<(f64, f64)>)> {
        let mut names: HashMap<Labels, String> = HashMap::new();
        for sample in &vector {
            let upper_bound = sample.labels.get("le");
            if go_number::parse_float(upper_bound).is_err() {
                self.warnings.insert(format!(
                    "PromQL warning: bucket label \"le\" is missing or has a malformed value of {} for metric name {}",
                    go_quote::quote(upper_bound),
                    go_quote::quote(sample.labels.metric_name())
                ));
            }
            names.insert(
                sample
                    .labels
                    .filtered(|name| name != "le" && name != METRIC_NAME),
                sample.labels.metric_name().to_string(),
            );
        }
        let groups = group_buckets(vector);
        for (labels, buckets) in &groups {
            let mut sorted = buckets.clone();
            sorted.sort_by(|a, b| a.0.partial_cmp(&b.0).unwrap_or(Ordering::Equal));
            if check_monotonic && sorted.windows(2).any(|pair| pair[1].1 < pair[0].1) {
                self.infos.insert(format!(
                    "PromQL info: input to histogram_quantile needed to be fixed for monotonicity (see https://prometheus.io/docs/prometheus/latest/querying/functions/#histogram_quantile) for metric name \"{}\"",
                    names.get(labels).map(String::as_str).unwrap_or("")
                ));
            }
        }
        groups
    }

    fn warn_sort_in_range_query(&mut self) {
        if self.query_start != self.query_end {
            self.warnings.insert(
                "PromQL warning: sort is ineffective for range queries since results are always ordered by labels"
                    .to_string(),
            );
        }
    }
}

/// OpenMetrics' float text: integral values keep one decimal (`1.0`).
fn format_open_metrics_float(value: f64) -> String {
    if value.is_finite() && value.fract() == 0.0 && value.abs() < 1e15 {
        format!("{value:.1}")
    } else {
        go_number::format_float(value, 'f', None)
    }
}

/// Prometheus' sort order for `sort`/`sort_desc`: by value, NaN last.
fn compare_for_sort(a: f64, b: f64, descending: bool) -> Ordering {
    match (a.is_nan(), b.is_nan()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Greater,
        (false, true) => Ordering::Less,
        (false, false) => {
            let ordering = a.partial_cmp(&b).unwrap_or(Ordering::Equal);
            if descending {
                ordering.reverse()
            } else {
                ordering
            }
        }
    }
}

/// Natural order as `sort_by_label` uses it: digit runs compare as numbers.
fn natural_compare(a: &str, b: &str) -> Ordering {
    let (a_bytes, b_bytes) = (a.as_bytes(), b.as_bytes());
    let (mut i, mut j) = (0, 0);
    while i < a_bytes.len() && j < b_bytes.len() {
        if a_bytes[i].is_ascii_digit() && b_bytes[j].is_ascii_digit() {
            let a_start = i;
            while i < a_bytes.len() && a_bytes[i].is_ascii_digit() {
                i += 1;
            }
            let b_start = j;
            while j < b_bytes.len() && b_bytes[j].is_ascii_digit() {
                j += 1;
            }
            let a_digits = a[a_start..i].trim_start_matches('0');
            let b_digits = b[b_start..j].trim_start_matches('0');
            let ordering = a_digits
                .len()
                .cmp(&b_digits.len())
                .then_with(|| a_digits.cmp(b_digits));
            if ordering != Ordering::Equal {
                return ordering;
            }
        } else {
            let ordering = a_bytes[i].cmp(&b_bytes[j]);
            if ordering != Ordering::Equal {
                return ordering;
            }
            i += 1;
            j += 1;
        }
    }
    (a_bytes.len() - i).cmp(&(b_bytes.len() - j))
}

/// Classic buckets grouped as `histogram_quantile` groups them: by every label
/// but `le` (the name included), labelled without `le` and the name.
fn group_buckets(vector: Vector) -> Vec<(Labels, Vec<(f64, f64)>)> {
    let mut group_index: HashMap<Labels, usize> = HashMap::new();
    let mut groups: Vec<(Labels, Vec<(f64, f64)>)> = Vec::new();
    for sample in vector {
        let Ok(upper_bound) = go_number::parse_float(sample.labels.get("le")) else {
            continue;
        };
        let group_key = sample.labels.filtered(|name| name != "le");
        let index = *group_index.entry(group_key).or_insert_with(|| {
            let group_labels = sample
                .labels
                .filtered(|name| name != "le" && name != METRIC_NAME);
            groups.push((group_labels, Vec::new()));
            groups.len() - 1
        });
        groups[index].1.push((upper_bound, sample.value));
    }
    groups
}

/// Prometheus 3's `BucketFraction` over `(le, cumulative count)` pairs.
fn bucket_fraction(lower: f64, upper: f64, buckets: &mut [(f64, f64)]) -> f64 {
    buckets.sort_by(|a, b| a.0.partial_cmp(&b.0).unwrap_or(Ordering::Equal));
    let Some(&(last_bound, count)) = buckets.last() else {
        return f64::NAN;
    };
    if last_bound != f64::INFINITY || count == 0.0 || lower.is_nan() || upper.is_nan() {
        return f64::NAN;
    }
    if lower >= upper {
        return 0.0;
    }
    let (mut rank, mut lower_rank, mut upper_rank) = (0.0, 0.0, 0.0);
    let (mut lower_set, mut upper_set) = (false, false);
    for (index, &(upper_bound, bucket_count)) in buckets.iter().enumerate() {
        let lower_bound = if index > 0 {
            buckets[index - 1].0
        } else if upper_bound > 0.0 {
            0.0
        } else {
            f64::NEG_INFINITY
        };
        let interpolate = |value: f64| -> f64 {
            if lower_bound == f64::NEG_INFINITY {
                bucket_count
            } else if upper_bound == f64::INFINITY {
                rank
            } else {
                rank + (bucket_count - rank) * (value - lower_bound) / (upper_bound - lower_bound)
            }
        };
        if !lower_set && lower_bound >= lower {
            lower_rank = rank;
            lower_set = true;
        }
        if !upper_set && lower_bound >= upper {
            upper_rank = rank;
            upper_set = true;
        }
        if lower_set && upper_set {
            break;
        }
        if !lower_set && lower_bound < lower && upper_bound > lower {
            lower_rank = interpolate(lower);
            lower_set = true;
        }
        if !upper_set && lower_bound < upper && upper_bound > upper {
            upper_rank = interpolate(upper);
            upper_set = true;
        }
        if lower_set && upper_set {
            break;
        }
        rank = bucket_count;
    }
    if !lower_set || lower_rank > count {
        lower_rank = count;
    }
    if !upper_set || upper_rank > count {
        upper_rank = count;
    }
    (upper_rank - lower_rank) / count
}
