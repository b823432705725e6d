//! Aggregation operators (`sum`, `avg`, `min`, `max`, `count`, `group`,
//! `stddev`, `stdvar`, `topk`, `bottomk`, `quantile`, `count_values`,
//! `limitk`) with `by` / `without` grouping, as Prometheus' `aggregation`.
//!
//! Invariants: groups appear in the order their first sample appears;
//! `without` always drops `__name__`; `topk`/`bottomk`/`limitk` return the
//! input samples with their labels, others return the grouping labels. V2
//! sums naively and averages incrementally (2.42); V3 uses Kahan summation
//! as 3.x does.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};

use promql_parser::label::Labels as GroupingLabels;
use promql_parser::parser::ast::{AggregateExpr, LabelModifier};
use promql_parser::parser::token;

use super::engine::Evaluator;
use super::error::EvalError;
use super::functions;
use super::kahan::kahan_sum_inc_v3;
use super::value::{Labels, Sample, Value, Vector, METRIC_NAME};
use super::Semantics;
use crate::prometheus::model::go_number;

/// Running state of one group.
struct Group {
    labels: Labels,
    value: f64,
    compensation: f64,
    mean: f64,
    count: f64,
    incremental_mean: bool,
    samples: Vec<Sample>,
}

impl Evaluator<'_> {
    pub(crate) fn eval_aggregate(
        &mut self,
        aggregate: &AggregateExpr,
        time: i64,
    ) -> Result<Value, EvalError> {
        let op = aggregate.op.id();
        let parameter = match &aggregate.param {
            Some(param) if op == token::T_COUNT_VALUES => match self.eval(param, time)? {
                Value::String(text) => Some(Param::Label(text)),
                other => {
                    return Err(EvalError::Type(format!(
                        "expected type string in aggregation parameter, got {}",
                        other.type_name()
                    )))
                }
            },
            Some(param) => Some(Param::Number(self.eval_scalar(param, time)?)),
            None => None,
        };
        let input = self.eval_vector(&aggregate.expr, time)?;
        let semantics = self.options.semantics;
        let (include, grouping) = match &aggregate.modifier {
            Some(LabelModifier::Include(labels)) => (true, Some(labels)),
            Some(LabelModifier::Exclude(labels)) => (false, Some(labels)),
            None => (true, None),
        };
        let empty = GroupingLabels { labels: Vec::new() };
        let grouping = grouping.unwrap_or(&empty);

        if op == token::T_COUNT_VALUES {
            let Some(Param::Label(label)) = parameter else {
                return Err(EvalError::Type(
                    "count_values needs a label name".to_string(),
                ));
            };
            if !semantics.is_valid_label_name(&label) {
                return Err(EvalError::InvalidArgument(format!(
                    "invalid label name \"{label}\""
                )));
            }
            // Prometheus sets the value label on each sample before grouping: `by` keeps
            // it as one more grouping label, `without` may list it and so drop it.
            let mut value_grouping = grouping.clone();
            if include {
                value_grouping.labels.push(label.clone());
            }
            let mut index: HashMap<Labels, usize> = HashMap::new();
            let mut output: Vector = Vec::new();
            for sample in &input {
                let labelled = sample
                    .labels
                    .with(&label, &go_number::format_float(sample.value, 'f', None));
                let group_labels = group_labels(&labelled, include, &value_grouping);
                let position = *index.entry(group_labels.clone()).or_insert_with(|| {
                    output.push(Sample {
                        labels: group_labels,
                        value: 0.0,
                    });
                    output.len() - 1
                });
                output[position].value += 1.0;
            }
            return Ok(Value::Vector(output));
        }

        let number = match parameter {
            Some(Param::Number(number)) => number,
            _ => 0.0,
        };
        if matches!(op, token::T_TOPK | token::T_BOTTOMK | token::T_LIMITK)
            && number.is_nan()
            && semantics == Semantics::V3
        {
            return Err(EvalError::InvalidArgument(
                "Parameter value is NaN".to_string(),
            ));
        }
        if op == token::T_LIMIT_RATIO {
            return Err(EvalError::Unsupported(
                "limit_ratio (needs Prometheus' series hash)".to_string(),
            ));
        }

        let mut groups: Vec<Group> = Vec::new();
        let mut group_by_signature: HashMap<u64, usize> = HashMap::new();
        for sample in input {
            let signature = grouping_signature(&sample.labels, include, grouping);
            let position = match group_by_signature.get(&signature) {
                Some(&position) => position,
                None => {
                    groups.push(Group {
                        labels: group_labels(&sample.labels, include, grouping),
                        value: 0.0,
                        compensation: 0.0,
                        mean: 0.0,
                        count: 0.0,
                        incremental_mean: false,
                        samples: Vec::new(),
                    });
                    group_by_signature.insert(signature, groups.len() - 1);
                    groups.len() - 1
                }
            };
            let group = &mut groups[position];
            accumulate(op, group, sample, semantics);
        }

        let mut output = Vector::with_capacity(groups.len());
        for mut group in groups {
            let value = match op {
                token::T_SUM => group.value + group.compensation,
                token::T_AVG => match semantics {
                    Semantics::V2 => group.mean,
                    Semantics::V3 => {
                        if group.incremental_mean {
                            group.mean + group.compensation
                        } else {
                            (group.value + group.compensation) / group.count
                        }
                    }
                },
                token::T_COUNT => group.count,
                token::T_GROUP => 1.0,
                token::T_MIN | token::T_MAX => group.value,
                token::T_STDVAR => group.value / group.count,
                token::T_STDDEV => (group.value / group.count).sqrt(),
                token::T_QUANTILE => {
                    let mut values: Vec<f64> = group.samples.iter().map(|s| s.value).collect();
                    functions::quantile(number, &mut values)
                }
                token::T_TOPK | token::T_BOTTOMK | token::T_LIMITK => {
                    let k = clamp_k(number, group.samples.len());
                    if op == token::T_TOPK {
                        group
                            .samples
                            .sort_by(|a, b| compare_nan_last(a.value, b.value, true));
                    } else if op == token::T_BOTTOMK {
                        group
                            .samples
                            .sort_by(|a, b| compare_nan_last(a.value, b.value, false));
                    }
                    output.extend(group.samples.drain(..).take(k));
                    continue;
                }
                other => {
                    return Err(EvalError::Unsupported(format!(
                        "aggregation {}",
                        promql_parser::parser::token::TokenType::new(other)
                    )))
                }
            };
            output.push(Sample {
                labels: group.labels,
                value,
            });
        }
        if op == token::T_QUANTILE {
            self.check_quantile(number);
        }
        Ok(Value::Vector(output))
    }
}

enum Param {
    Number(f64),
    Label(String),
}

fn accumulate(op: token::TokenId, group: &mut Group, sample: Sample, semantics: Semantics) {
    let value = sample.value;
    let first = group.count == 0.0;
    group.count += 1.0;
    match op {
        token::T_SUM => match semantics {
            Semantics::V2 => group.value += value,
            Semantics::V3 => {
                (group.value, group.compensation) =
                    kahan_sum_inc_v3(value, group.value, group.compensation);
            }
        },
        token::T_AVG => match semantics {
            Semantics::V2 => {
                if first {
                    group.mean = value;
                    return;
                }
                if group.mean.is_infinite() {
                    if value.is_infinite() && (group.mean > 0.0) == (value > 0.0) {
                        return;
                    }
                    if !value.is_infinite() && !value.is_nan() {
                        return;
                    }
                }
                group.mean += value / group.count - group.mean / group.count;
            }
            Semantics::V3 => {
                if first {
                    group.value = value;
                    return;
                }
                if !group.incremental_mean {
                    let (sum, compensation) =
                        kahan_sum_inc_v3(value, group.value, group.compensation);
                    if !sum.is_infinite() {
                        group.value = sum;
                        group.compensation = compensation;
                        return;
                    }
                    group.incremental_mean = true;
                    group.mean = group.value / (group.count - 1.0);
                    group.compensation /= group.count - 1.0;
                }
                let q = (group.count - 1.0) / group.count;
                (group.mean, group.compensation) =
                    kahan_sum_inc_v3(value / group.count, q * group.mean, q * group.compensation);
            }
        },
        token::T_MIN if first || group.value > value || group.value.is_nan() => {
            group.value = value;
        }
        token::T_MAX if first || group.value < value || group.value.is_nan() => {
            group.value = value;
        }
        token::T_STDDEV | token::T_STDVAR => {
            // 2.42 seeds the mean with the first value, so a lone NaN gives
            // 0; 3.x runs the first value through the update, giving NaN.
            if first && semantics == Semantics::V2 {
                group.mean = value;
                group.value = 0.0;
                return;
            }
            let delta = value - group.mean;
            group.mean += delta / group.count;
            group.value += delta * (value - group.mean);
        }
        token::T_TOPK | token::T_BOTTOMK | token::T_LIMITK | token::T_QUANTILE => {
            group.samples.push(sample);
        }
        _ => {}
    }
}

/// `k` as Prometheus truncates it: below 1 selects nothing.
fn clamp_k(number: f64, available: usize) -> usize {
    if number.is_nan() || number < 1.0 {
        return 0;
    }
    if number >= available as f64 {
        return available;
    }
    number as usize
}

fn compare_nan_last(a: f64, b: f64, descending: bool) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    match (a.is_nan(), b.is_nan()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Greater,
        (false, true) => Ordering::Less,
        _ => {
            let ordering = a.partial_cmp(&b).unwrap_or(Ordering::Equal);
            if descending {
                ordering.reverse()
            } else {
                ordering
            }
        }
    }
}

/// The grouping labels of a sample: `by` keeps the listed labels, `without`
/// drops them and the metric name.
fn group_labels(labels: &Labels, include: bool, grouping: &GroupingLabels) -> Labels {
    if include {
        labels.filtered(|name| grouping.labels.iter().any(|g| g == name))
    } else {
        labels.filtered(|name| name != METRIC_NAME && !grouping.labels.iter().any(|g| g == name))
    }
}

/// A hash of the grouping labels, computed without building them.
fn grouping_signature(labels: &Labels, include: bool, grouping: &GroupingLabels) -> u64 {
    let mut hasher = DefaultHasher::new();
    for (name, value) in labels.pairs() {
        let listed = grouping.labels.iter().any(|g| g == name);
        let kept = if include {
            listed
        } else {
            !listed && name != METRIC_NAME
        };
        if kept {
            name.hash(&mut hasher);
            value.hash(&mut hasher);
        }
    }
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use crate::prometheus::promql::value::METRIC_NAME;
    use crate::prometheus::promql::{instant_query, EvalOptions, Labels, Storage, Value};

    fn count_values(query: &str) -> Vec<(String, f64)> {
        let mut storage = Storage::new();
        for (job, instance, value) in [("a", "1", 1.0), ("b", "1", 1.0), ("b", "2", 2.0)] {
            let labels =
                Labels::from_pairs([(METRIC_NAME, "up"), ("job", job), ("instance", instance)]);
            storage.append(&labels, 0, value);
        }
        let Ok(Value::Vector(vector)) = instant_query(&storage, query, 0, &EvalOptions::default())
        else {
            panic!("{query} is a vector query");
        };
        let mut samples: Vec<(String, f64)> = vector
            .into_iter()
            .map(|s| (s.labels.to_string(), s.value))
            .collect();
        samples.sort_by(|a, b| a.0.cmp(&b.0));
        samples
    }

    /// The value label is set before grouping, as in Prometheus' aggregation (2.42 and
    /// current): a `without` that lists it drops it, and every sample lands in one group.
    #[test]
    fn count_values_without_its_own_label_drops_it() {
        assert_eq!(
            count_values(r#"count_values without (job, instance) ("job", up)"#),
            vec![("{}".to_string(), 3.0)]
        );
        assert_eq!(
            count_values(r#"count_values without (instance) ("job", up)"#),
            vec![
                (r#"{job="1"}"#.to_string(), 2.0),
                (r#"{job="2"}"#.to_string(), 1.0)
            ]
        );
    }

    /// Under `by` the value label is one more grouping label and replaces a label of
    /// the same name.
    #[test]
    fn count_values_by_keeps_its_label_over_a_grouping_label_of_that_name() {
        assert_eq!(
            count_values(r#"count_values by (job) ("job", up)"#),
            vec![
                (r#"{job="1"}"#.to_string(), 2.0),
                (r#"{job="2"}"#.to_string(), 1.0)
            ]
        );
        assert_eq!(
            count_values(r#"count_values by (instance) ("v", up)"#),
            vec![
                (r#"{instance="1", v="1"}"#.to_string(), 2.0),
                (r#"{instance="2", v="2"}"#.to_string(), 1.0)
            ]
        );
    }
}
