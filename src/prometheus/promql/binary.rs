//! Binary operators: arithmetic, comparison (filtering or `bool`), and the
//! set operators, between scalars and vectors, with `on`/`ignoring` and
//! `group_left`/`group_right` vector matching (Prometheus' `VectorBinop`,
//! `VectorscalarBinop`, `VectorAnd/Or/Unless`).
//!
//! Invariants: arithmetic and `bool` comparisons drop `__name__`, filtering
//! comparisons keep the left sample's labels and value; a filtering
//! comparison with the scalar on the left keeps the vector's value; matching
//! signatures never include `__name__` under `ignoring`.

use std::collections::{HashMap, HashSet};
use std::hash::{DefaultHasher, Hash, Hasher};

use promql_parser::parser::ast::{BinaryExpr, LabelModifier, VectorMatchCardinality};
use promql_parser::parser::token::{self, TokenId};

use super::engine::{ensure_unique_labels, Evaluator};
use super::error::EvalError;
use super::value::{Labels, Sample, Value, Vector, METRIC_NAME};
use super::Semantics;

impl Evaluator<'_> {
    pub(crate) fn eval_binary(
        &mut self,
        binary: &BinaryExpr,
        time: i64,
    ) -> Result<Value, EvalError> {
        let op = binary.op.id();
        if let Some(modifier) = &binary.modifier {
            if modifier.fill_values.lhs.is_some() || modifier.fill_values.rhs.is_some() {
                return Err(EvalError::Unsupported("fill modifiers".to_string()));
            }
        }
        let return_bool = binary.return_bool();
        let semantics = self.options.semantics;
        let lhs = self.eval(&binary.lhs, time)?;
        let rhs = self.eval(&binary.rhs, time)?;
        match (lhs, rhs) {
            (Value::Scalar(left), Value::Scalar(right)) => {
                let (value, keep) = element_binop(op, left, right);
                if is_comparison(op) {
                    Ok(Value::Scalar(if keep { 1.0 } else { 0.0 }))
                } else {
                    Ok(Value::Scalar(value))
                }
            }
            (Value::Vector(vector), Value::Scalar(scalar)) => Ok(Value::Vector(
                vector_scalar(op, vector, scalar, false, return_bool, semantics)?,
            )),
            (Value::Scalar(scalar), Value::Vector(vector)) => Ok(Value::Vector(
                vector_scalar(op, vector, scalar, true, return_bool, semantics)?,
            )),
            (Value::Vector(left), Value::Vector(right)) => {
                let (card, on, matching_labels) = matching(binary);
                let output = match op {
                    token::T_LAND => vector_and(left, right, on, &matching_labels),
                    token::T_LOR => vector_or(left, right, on, &matching_labels),
                    token::T_LUNLESS => vector_unless(left, right, on, &matching_labels),
                    _ => vector_binop(
                        op,
                        left,
                        right,
                        card,
                        on,
                        &matching_labels,
                        return_bool,
                        semantics,
                    )?,
                };
                Ok(Value::Vector(output))
            }
            (left, right) => Err(EvalError::Type(format!(
                "binary expression must contain only scalar and instant vector types, got {} and {}",
                left.type_name(),
                right.type_name()
            ))),
        }
    }
}

/// Cardinality, whether matching is `on`, and the matching labels.
fn matching(binary: &BinaryExpr) -> (VectorMatchCardinality, bool, Vec<String>) {
    match &binary.modifier {
        None => (VectorMatchCardinality::OneToOne, false, Vec::new()),
        Some(modifier) => {
            let (on, labels) = match &modifier.matching {
                Some(LabelModifier::Include(labels)) => (true, labels.labels.clone()),
                Some(LabelModifier::Exclude(labels)) => (false, labels.labels.clone()),
                None => (false, Vec::new()),
            };
            (modifier.card.clone(), on, labels)
        }
    }
}

fn is_comparison(op: TokenId) -> bool {
    matches!(
        op,
        token::T_EQLC | token::T_NEQ | token::T_GTR | token::T_LSS | token::T_GTE | token::T_LTE
    )
}

/// Prometheus' `shouldDropMetricName`: arithmetic drops the name; `atan2`
/// joined the list in 3.x.
fn drops_metric_name(op: TokenId, semantics: Semantics) -> bool {
    match op {
        token::T_ADD | token::T_SUB | token::T_MUL | token::T_DIV | token::T_MOD | token::T_POW => {
            true
        }
        token::T_ATAN2 => semantics == Semantics::V3,
        _ => false,
    }
}

/// Prometheus' `vectorElemBinop`: the value, and whether a comparison holds.
fn element_binop(op: TokenId, left: f64, right: f64) -> (f64, bool) {
    match op {
        token::T_ADD => (left + right, true),
        token::T_SUB => (left - right, true),
        token::T_MUL => (left * right, true),
        token::T_DIV => (left / right, true),
        token::T_POW => (go_pow(left, right), true),
        token::T_MOD => (left % right, true),
        token::T_ATAN2 => (left.atan2(right), true),
        token::T_EQLC => (left, left == right),
        token::T_NEQ => (left, left != right),
        token::T_GTR => (left, left > right),
        token::T_LSS => (left, left < right),
        token::T_GTE => (left, left >= right),
        token::T_LTE => (left, left <= right),
        _ => (f64::NAN, false),
    }
}

/// Go's `math.Pow` (what `^` computes in Prometheus), which is not C's `pow`: the
/// integer part of the exponent is applied by repeated squaring of the mantissa with
/// the binary exponent kept apart, so `0.1 ^ 60` and `10 ^ 100` round as in Go. The
/// fractional part goes through `exp(f * ln(x))` as Go does, with Rust's `exp` and
/// `ln` standing in for Go's.
fn go_pow(x: f64, y: f64) -> f64 {
    if y == 0.0 || x == 1.0 {
        return 1.0;
    }
    if y == 1.0 {
        return x;
    }
    if x.is_nan() || y.is_nan() {
        return f64::NAN;
    }
    let odd_integer =
        |v: f64| v.abs() < (1u64 << 53) as f64 && v.fract() == 0.0 && (v as i64) % 2 != 0;
    if x == 0.0 {
        return if y < 0.0 {
            if x.is_sign_negative() && odd_integer(y) {
                f64::NEG_INFINITY
            } else {
                f64::INFINITY
            }
        } else if x.is_sign_negative() && odd_integer(y) {
            x
        } else {
            0.0
        };
    }
    if y.is_infinite() {
        return if x == -1.0 {
            1.0
        } else if (x.abs() < 1.0) == (y > 0.0) {
            0.0
        } else {
            f64::INFINITY
        };
    }
    if x.is_infinite() {
        if x < 0.0 {
            return go_pow(1.0 / x, -y);
        }
        return if y < 0.0 { 0.0 } else { f64::INFINITY };
    }
    if y == 0.5 {
        return x.sqrt();
    }
    if y == -0.5 {
        return 1.0 / x.sqrt();
    }
    let mut whole = y.abs().trunc();
    let mut fraction = y.abs() - whole;
    if fraction != 0.0 && x < 0.0 {
        return f64::NAN;
    }
    // 2^63: beyond it Go's int64 conversion of the exponent overflows.
    if whole >= 2f64.powi(63) {
        return if x == -1.0 {
            1.0
        } else if (x.abs() < 1.0) == (y > 0.0) {
            0.0
        } else {
            f64::INFINITY
        };
    }
    let mut mantissa_product = 1.0;
    let mut exponent_sum: i64 = 0;
    if fraction != 0.0 {
        if fraction > 0.5 {
            fraction -= 1.0;
            whole += 1.0;
        }
        mantissa_product = (fraction * x.ln()).exp();
    }
    let (mut mantissa, mut exponent) = frexp(x);
    let mut bits = whole as i64;
    while bits != 0 {
        if !(-(1 << 12)..=(1 << 12)).contains(&exponent) {
            exponent_sum += exponent;
            break;
        }
        if bits & 1 == 1 {
            mantissa_product *= mantissa;
            exponent_sum += exponent;
        }
        mantissa *= mantissa;
        exponent <<= 1;
        if mantissa < 0.5 {
            mantissa += mantissa;
            exponent -= 1;
        }
        bits >>= 1;
    }
    if y < 0.0 {
        mantissa_product = 1.0 / mantissa_product;
        exponent_sum = -exponent_sum;
    }
    ldexp(mantissa_product, exponent_sum)
}

const MANTISSA_BITS: u32 = 52;
const EXPONENT_MASK: u64 = 0x7ff;
const EXPONENT_BIAS: i64 = 1023;

/// A subnormal scaled into the normal range, with the power of two taken out.
fn normalize(x: f64) -> (f64, i64) {
    if x.abs() < f64::MIN_POSITIVE {
        (x * (1u64 << 52) as f64, -52)
    } else {
        (x, 0)
    }
}

/// `x = mantissa * 2^exponent` with `0.5 <= |mantissa| < 1` (Go's `math.Frexp`).
fn frexp(x: f64) -> (f64, i64) {
    if x == 0.0 || x.is_infinite() || x.is_nan() {
        return (x, 0);
    }
    let (x, shift) = normalize(x);
    let bits = x.to_bits();
    let exponent = shift + ((bits >> MANTISSA_BITS) & EXPONENT_MASK) as i64 - EXPONENT_BIAS + 1;
    let bits = (bits & !(EXPONENT_MASK << MANTISSA_BITS))
        | (((EXPONENT_BIAS - 1) as u64) << MANTISSA_BITS);
    (f64::from_bits(bits), exponent)
}

/// `fraction * 2^exponent`, rounding into subnormals as Go's `math.Ldexp` does.
fn ldexp(fraction: f64, exponent: i64) -> f64 {
    if fraction == 0.0 || fraction.is_infinite() || fraction.is_nan() {
        return fraction;
    }
    let (fraction, shift) = normalize(fraction);
    let bits = fraction.to_bits();
    let mut exponent = exponent
        .saturating_add(shift)
        .saturating_add(((bits >> MANTISSA_BITS) & EXPONENT_MASK) as i64 - EXPONENT_BIAS);
    if exponent < -1075 {
        return 0.0_f64.copysign(fraction);
    }
    if exponent > 1023 {
        return f64::INFINITY.copysign(fraction);
    }
    let mut scale = 1.0;
    if exponent < -1022 {
        exponent += 53;
        scale = 1.0 / (1u64 << 53) as f64;
    }
    let bits = (bits & !(EXPONENT_MASK << MANTISSA_BITS))
        | (((exponent + EXPONENT_BIAS) as u64) << MANTISSA_BITS);
    scale * f64::from_bits(bits)
}

fn vector_scalar(
    op: TokenId,
    vector: Vector,
    scalar: f64,
    scalar_on_left: bool,
    return_bool: bool,
    semantics: Semantics,
) -> Result<Vector, EvalError> {
    let drop_name = drops_metric_name(op, semantics) || return_bool;
    let mut output = Vector::with_capacity(vector.len());
    for sample in vector {
        let (left, right) = if scalar_on_left {
            (scalar, sample.value)
        } else {
            (sample.value, scalar)
        };
        let (mut value, mut keep) = element_binop(op, left, right);
        if is_comparison(op) && scalar_on_left {
            value = right;
        }
        if return_bool {
            value = if keep { 1.0 } else { 0.0 };
            keep = true;
        }
        if keep {
            output.push(Sample {
                labels: if drop_name {
                    sample.labels.without_metric_name()
                } else {
                    sample.labels
                },
                value,
            });
        }
    }
    if drop_name {
        ensure_unique_labels(&output)?;
    }
    Ok(output)
}

/// A hash of the labels vector matching compares.
fn signature(labels: &Labels, on: bool, matching_labels: &[String]) -> u64 {
    let mut hasher = DefaultHasher::new();
    for (name, value) in labels.pairs() {
        let listed = matching_labels.iter().any(|m| m == name);
        let used = if on {
            listed
        } else {
            !listed && name != METRIC_NAME
        };
        if used {
            name.hash(&mut hasher);
            value.hash(&mut hasher);
        }
    }
    hasher.finish()
}

fn vector_and(left: Vector, right: Vector, on: bool, matching_labels: &[String]) -> Vector {
    let right_signatures: HashSet<u64> = right
        .iter()
        .map(|sample| signature(&sample.labels, on, matching_labels))
        .collect();
    left.into_iter()
        .filter(|sample| right_signatures.contains(&signature(&sample.labels, on, matching_labels)))
        .collect()
}

fn vector_or(left: Vector, right: Vector, on: bool, matching_labels: &[String]) -> Vector {
    let left_signatures: HashSet<u64> = left
        .iter()
        .map(|sample| signature(&sample.labels, on, matching_labels))
        .collect();
    let mut output = left;
    output.extend(right.into_iter().filter(|sample| {
        !left_signatures.contains(&signature(&sample.labels, on, matching_labels))
    }));
    output
}

fn vector_unless(left: Vector, right: Vector, on: bool, matching_labels: &[String]) -> Vector {
    let right_signatures: HashSet<u64> = right
        .iter()
        .map(|sample| signature(&sample.labels, on, matching_labels))
        .collect();
    left.into_iter()
        .filter(|sample| {
            !right_signatures.contains(&signature(&sample.labels, on, matching_labels))
        })
        .collect()
}

// The arguments are the parts of one `VectorMatching`; a struct would only rename them.
#[allow(clippy::too_many_arguments)]
fn vector_binop(
    op: TokenId,
    left: Vector,
    right: Vector,
    card: VectorMatchCardinality,
    on: bool,
    matching_labels: &[String],
    return_bool: bool,
    semantics: Semantics,
) -> Result<Vector, EvalError> {
    // Prometheus returns before it matches anything: with one side empty no pair can
    // form, so the other side's duplicates are no error.
    if left.is_empty() || right.is_empty() {
        return Ok(Vector::new());
    }
    let one_to_many = matches!(card, VectorMatchCardinality::OneToMany(_));
    let include: Vec<String> = card.labels().map(|l| l.labels.clone()).unwrap_or_default();
    let (many, one) = if one_to_many {
        (right, left)
    } else {
        (left, right)
    };
    let mut one_by_signature: HashMap<u64, usize> = HashMap::with_capacity(one.len());
    for (index, sample) in one.iter().enumerate() {
        let sig = signature(&sample.labels, on, matching_labels);
        if let Some(&previous) = one_by_signature.get(&sig) {
            let match_group = if on {
                sample
                    .labels
                    .filtered(|name| matching_labels.iter().any(|m| m == name))
            } else {
                sample.labels.filtered(|name| {
                    name != METRIC_NAME && !matching_labels.iter().any(|m| m == name)
                })
            };
            return Err(EvalError::DuplicateMatchGroup {
                match_group: match_group.to_string(),
                side: if one_to_many { "left" } else { "right" },
                // 2.42 names the later series first; 3.x the earlier one.
                first: if semantics == Semantics::V2 {
                    sample.labels.to_string()
                } else {
                    one[previous].labels.to_string()
                },
                second: if semantics == Semantics::V2 {
                    one[previous].labels.to_string()
                } else {
                    sample.labels.to_string()
                },
            });
        }
        one_by_signature.insert(sig, index);
    }
    let one_to_one = matches!(card, VectorMatchCardinality::OneToOne);
    let mut matched: HashMap<u64, HashSet<Labels>> = HashMap::new();
    let mut output = Vector::new();
    for sample in many {
        let sig = signature(&sample.labels, on, matching_labels);
        let Some(&one_index) = one_by_signature.get(&sig) else {
            continue;
        };
        let one_sample = &one[one_index];
        let (left_value, right_value) = if one_to_many {
            (one_sample.value, sample.value)
        } else {
            (sample.value, one_sample.value)
        };
        let (mut value, keep) = element_binop(op, left_value, right_value);
        // 2.42 checks cardinality only for samples that survive a filtering
        // comparison; 3.x checks every matched pair.
        if !return_bool && !keep && semantics == Semantics::V2 {
            continue;
        }
        if return_bool {
            value = if keep { 1.0 } else { 0.0 };
        }
        let mut labels = result_labels(
            &sample.labels,
            &one_sample.labels,
            op,
            one_to_one,
            on,
            matching_labels,
            &include,
            semantics,
        );
        if return_bool {
            labels = labels.without_metric_name();
        }
        match matched.entry(sig) {
            std::collections::hash_map::Entry::Occupied(mut existing) => {
                if one_to_one {
                    return Err(EvalError::ManyToOneNotExplicit);
                }
                if !existing.get_mut().insert(labels.clone()) {
                    return Err(EvalError::GroupingNotUnique);
                }
            }
            std::collections::hash_map::Entry::Vacant(vacant) => {
                let mut set = HashSet::new();
                if !one_to_one {
                    set.insert(labels.clone());
                }
                vacant.insert(set);
            }
        }
        if !return_bool && !keep {
            continue;
        }
        // A filtering comparison keeps the left-hand side's value, which in
        // group_right is the "one" side.
        if !return_bool && is_comparison(op) {
            value = left_value;
        }
        output.push(Sample { labels, value });
    }
    Ok(output)
}

/// Prometheus' `resultMetric`.
#[allow(clippy::too_many_arguments)]
fn result_labels(
    many: &Labels,
    one: &Labels,
    op: TokenId,
    one_to_one: bool,
    on: bool,
    matching_labels: &[String],
    include: &[String],
    semantics: Semantics,
) -> Labels {
    let mut labels = if drops_metric_name(op, semantics) {
        many.without_metric_name()
    } else {
        many.clone()
    };
    if one_to_one {
        labels = if on {
            labels.filtered(|name| matching_labels.iter().any(|m| m == name))
        } else {
            labels.filtered(|name| !matching_labels.iter().any(|m| m == name))
        };
    }
    for name in include {
        labels = labels.with(name, one.get(name));
    }
    labels
}

#[cfg(test)]
mod tests {
    use super::go_pow;
    use crate::prometheus::promql::value::METRIC_NAME;
    use crate::prometheus::promql::{instant_query, EvalOptions, Labels, Storage, Value};

    /// Two `up` series that share every matching signature under `on()`.
    fn two_up_series() -> Storage {
        let mut storage = Storage::new();
        for job in ["a", "b"] {
            storage.append(
                &Labels::from_pairs([(METRIC_NAME, "up"), ("job", job)]),
                0,
                1.0,
            );
        }
        storage
    }

    fn query(storage: &Storage, query: &str) -> Result<Vec<String>, String> {
        match instant_query(storage, query, 0, &EvalOptions::default()) {
            Ok(Value::Vector(vector)) => Ok(vector
                .iter()
                .map(|s| s.labels.get("job").to_string())
                .collect()),
            Ok(other) => Err(format!("not a vector: {other:?}")),
            Err(e) => Err(e.to_string()),
        }
    }

    /// Prometheus' `VectorBinop` returns nothing before matching when a side is empty,
    /// so the duplicates on the other side raise no matching error.
    #[test]
    fn an_empty_side_gives_nothing_before_any_matching_error() {
        let storage = two_up_series();
        for expr in [
            "nothing / on() up",
            "up / on() nothing",
            "nothing * on() group_left up",
            "up * on() group_left nothing",
            "nothing - on() group_right up",
            "up - on() group_right nothing",
            "nothing > on() up",
            "up == bool on() nothing",
            "up / on() (up * 2)",
        ] {
            let expected = if expr.contains("nothing") {
                Ok(Vec::new())
            } else {
                Err("found duplicate series".to_string())
            };
            let got = query(&storage, expr).map_err(|e| {
                e.split(" for the match group")
                    .next()
                    .unwrap_or("")
                    .to_string()
            });
            assert_eq!(got, expected, "{expr}");
        }
    }

    /// The set operators short-circuit on an empty side as Prometheus' do.
    #[test]
    fn set_operators_with_an_empty_side() {
        let storage = two_up_series();
        let both = vec!["a".to_string(), "b".to_string()];
        assert_eq!(query(&storage, "nothing and on() up"), Ok(vec![]));
        assert_eq!(query(&storage, "up and on() nothing"), Ok(vec![]));
        assert_eq!(query(&storage, "nothing or on() up"), Ok(both.clone()));
        assert_eq!(query(&storage, "up or on() nothing"), Ok(both.clone()));
        assert_eq!(query(&storage, "up unless on() nothing"), Ok(both));
        assert_eq!(query(&storage, "nothing unless on() up"), Ok(vec![]));
    }

    /// Values Go 1.19's `math.Pow` returns (promtool 2.42 prints them), where C's
    /// `pow` rounds differently in the last bit.
    #[test]
    fn powers_round_as_go_math_pow() {
        assert_eq!(format!("{:e}", go_pow(0.1, 60.0)), "1.0000000000000066e-60");
        assert_eq!(
            format!("{:e}", go_pow(10.0, 100.0)),
            "1.0000000000000002e100"
        );
        assert_eq!(go_pow(2.0, -1074.0), f64::from_bits(1));
        assert_eq!(go_pow(-2.0, 3.0), -8.0);
        assert_eq!(go_pow(-1.0, f64::INFINITY), 1.0);
        assert_eq!(go_pow(-0.0, -3.0), f64::NEG_INFINITY);
        assert!(go_pow(-8.0, 1.0 / 3.0).is_nan());
        assert_eq!(go_pow(4.0, 0.5), 2.0);
    }
}
