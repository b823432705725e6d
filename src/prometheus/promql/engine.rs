//! Evaluation of parsed PromQL expressions over a [`Storage`]: selectors with
//! lookback and staleness, `offset` and `@`, subqueries, function calls; the
//! aggregations and binary operators live in `aggregate.rs` and `binary.rs`.
//!
//! Invariants:
//! - An expression is evaluated one step at a time; a range query walks the
//!   steps in ascending order, and per-selector caches (matched series, the
//!   name-less labels, and sample cursors) make each step's window search an
//!   incremental advance instead of a binary search over the whole series.
//! - Window edges follow [`Semantics`]: V2 closed `[t-r, t]` (lookback
//!   `[t-δ, t]`), V3 left-open `(t-r, t]` (lookback `(t-δ, t]`).
//! - Stale markers never leave this module: an instant selection that lands
//!   on one yields nothing, and range windows skip them.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use promql_parser::label::MatchOp;
use promql_parser::parser::ast::{
    AtModifier, Call, Expr, MatrixSelector, Offset, SubqueryExpr, VectorSelector,
};
use promql_parser::parser::value::ValueType;

use super::error::EvalError;
use super::functions::{self, RangeContext};
use super::regression::{kahan_linear_regression, SlidingRegression};
use super::storage::Storage;
use super::value::{
    is_stale_nan, Labels, Matrix, Sample, Series, Value, Vector, Window, METRIC_NAME,
};
use super::Semantics;
use crate::prometheus::model::{go_number, go_quote, names};

/// How to evaluate: which Prometheus semantics, and the lookback delta.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EvalOptions {
    pub semantics: Semantics,
    /// How far back an instant selector looks for a sample (Prometheus'
    /// `--query.lookback-delta`), in milliseconds.
    pub lookback_delta_ms: i64,
    /// The step of a subquery written without one (`x[1h:]`): Prometheus uses
    /// the global evaluation interval; promqltest uses one minute.
    pub default_subquery_step_ms: i64,
}

impl Default for EvalOptions {
    fn default() -> Self {
        EvalOptions {
            semantics: Semantics::V2,
            lookback_delta_ms: 5 * 60 * 1000,
            default_subquery_step_ms: 60 * 1000,
        }
    }
}

impl EvalOptions {
    pub fn with_semantics(semantics: Semantics) -> EvalOptions {
        EvalOptions {
            semantics,
            ..EvalOptions::default()
        }
    }
}

/// Evaluates `expr` at one time (milliseconds): Prometheus' instant query.
pub fn instant_query_expr(
    storage: &Storage,
    expr: &Expr,
    time_ms: i64,
    options: &EvalOptions,
) -> Result<Value, EvalError> {
    let mut evaluator = Evaluator::new(storage, options, time_ms, time_ms);
    evaluator.eval(expr, time_ms)
}

/// Evaluates `expr` at every step from `start_ms` to `end_ms` inclusive:
/// Prometheus' range query. Series are sorted by labels, as Prometheus sorts.
pub fn range_query_expr(
    storage: &Storage,
    expr: &Expr,
    start_ms: i64,
    end_ms: i64,
    step_ms: i64,
    options: &EvalOptions,
) -> Result<Matrix, EvalError> {
    refuse_non_positive_step(step_ms)?;
    Evaluator::new(storage, options, start_ms, end_ms).eval_range(expr, start_ms, end_ms, step_ms)
}

/// The steps of a range query before Prometheus sorts its result: one instant
/// vector per step from `start_ms` to `end_ms`, each in the order the instant query
/// at that step returns it, for callers that append samples in query order (a
/// recording rule creates its series in that order).
pub fn range_query_steps(
    storage: &Storage,
    expr: &Expr,
    start_ms: i64,
    end_ms: i64,
    step_ms: i64,
    options: &EvalOptions,
) -> Result<Vec<Vector>, EvalError> {
    refuse_non_positive_step(step_ms)?;
    let mut steps = Vec::new();
    Evaluator::new(storage, options, start_ms, end_ms).eval_each_step(
        expr,
        start_ms,
        end_ms,
        step_ms,
        |_, vector| steps.push(vector),
    )?;
    Ok(steps)
}

/// Prometheus' API refuses a range query whose step is not positive, in these words.
fn refuse_non_positive_step(step_ms: i64) -> Result<(), EvalError> {
    if step_ms <= 0 {
        return Err(EvalError::InvalidArgument(
            "zero or negative query resolution step widths are not accepted. Try a positive integer".to_string(),
        ));
    }
    Ok(())
}

/// Whether evaluation selected a series that carried native histogram
/// samples, which this engine dropped at load time. Exposed for the
/// conformance runner through [`Evaluator`].
pub struct Evaluator<'a> {
    storage: &'a Storage,
    pub(crate) options: EvalOptions,
    pub(crate) query_start: i64,
    pub(crate) query_end: i64,
    /// The range query's step (0 for an instant query), for `step()`.
    pub(crate) query_step: i64,
    selector_caches: HashMap<usize, SelectorCache>,
    /// Per `deriv`/`predict_linear` matrix selector of a range query (keyed
    /// like `selector_caches`), per matched series: sliding regression sums.
    sliding_regressions: HashMap<usize, Vec<SlidingRegression>>,
    subquery_caches: HashMap<(usize, i64), Value>,
    window_timestamps: Vec<i64>,
    window_values: Vec<f64>,
    /// Set when a selector matched a series that had native histogram samples.
    pub touched_native_histograms: bool,
    /// Prometheus' info annotations ("PromQL info: ..."), without positions.
    pub infos: BTreeSet<String>,
    /// Prometheus' warning annotations ("PromQL warning: ..."), without positions.
    pub warnings: BTreeSet<String>,
}

/// One stale-free series' window as indices into its stored samples, for
/// state that slides across the steps of a range query.
#[derive(Clone, Copy)]
struct SeriesSpan<'a> {
    /// The series' position in its selector's cache.
    position: usize,
    start: usize,
    end: usize,
    timestamps: &'a [i64],
    values: &'a [f64],
}

/// What a selector node remembers across the steps of one query.
struct SelectorCache {
    series_ids: Vec<usize>,
    labels_without_name: Vec<Labels>,
    /// Whether all matched series share one metric name, so dropping it
    /// cannot make two of them equal.
    single_metric_name: bool,
    /// Per series: index of the first sample after the previous window end.
    end_cursors: Vec<usize>,
    /// Per series: index of the first sample inside the previous window.
    start_cursors: Vec<usize>,
}

impl<'a> Evaluator<'a> {
    pub fn new(
        storage: &'a Storage,
        options: &EvalOptions,
        query_start: i64,
        query_end: i64,
    ) -> Evaluator<'a> {
        Evaluator {
            storage,
            options: *options,
            query_start,
            query_end,
            query_step: 0,
            selector_caches: HashMap::new(),
            sliding_regressions: HashMap::new(),
            subquery_caches: HashMap::new(),
            window_timestamps: Vec::new(),
            window_values: Vec::new(),
            touched_native_histograms: false,
            infos: BTreeSet::new(),
            warnings: BTreeSet::new(),
        }
    }

    /// Evaluates `expr` at every step from `start` to `end` inclusive; the
    /// evaluator should have been created with the same `start` and `end`.
    pub fn eval_range(
        &mut self,
        expr: &Expr,
        start: i64,
        end: i64,
        step: i64,
    ) -> Result<Matrix, EvalError> {
        let mut output = SeriesCollector::default();
        self.eval_each_step(expr, start, end, step, |time, vector| {
            for sample in vector {
                output.push(&sample.labels, time, sample.value);
            }
        })?;
        Ok(output.into_matrix())
    }

    /// Evaluates `expr` at every step from `start` to `end` inclusive and hands each
    /// step's instant vector to `each` in query order (a scalar as one sample without
    /// labels).
    fn eval_each_step(
        &mut self,
        expr: &Expr,
        start: i64,
        end: i64,
        step: i64,
        mut each: impl FnMut(i64, Vector),
    ) -> Result<(), EvalError> {
        self.query_step = step;
        let mut time = start;
        while time <= end {
            match self.eval(expr, time)? {
                Value::Scalar(value) => each(
                    time,
                    vec![Sample {
                        labels: Labels::empty(),
                        value,
                    }],
                ),
                Value::Vector(vector) => each(time, vector),
                other => {
                    return Err(EvalError::Type(format!(
                        "invalid expression type \"{}\" for range query, must be Scalar or instant Vector",
                        type_display(&other)
                    )))
                }
            }
            time += step;
        }
        Ok(())
    }

    /// Evaluates `expr` at `time` (milliseconds).
    pub fn eval(&mut self, expr: &Expr, time: i64) -> Result<Value, EvalError> {
        match expr {
            Expr::NumberLiteral(literal) => Ok(Value::Scalar(literal.val)),
            Expr::StringLiteral(literal) => Ok(Value::String(literal.val.clone())),
            Expr::Paren(paren) => self.eval(&paren.expr, time),
            Expr::Unary(unary) => match self.eval(&unary.expr, time)? {
                Value::Scalar(value) => Ok(Value::Scalar(-value)),
                Value::Vector(vector) => {
                    let negated: Vector = vector
                        .into_iter()
                        .map(|sample| Sample {
                            labels: sample.labels.without_metric_name(),
                            value: -sample.value,
                        })
                        .collect();
                    ensure_unique_labels(&negated)?;
                    Ok(Value::Vector(negated))
                }
                other => Err(EvalError::Type(format!(
                    "unary expression only allowed on expressions of type scalar or vector, got: {}",
                    other.type_name()
                ))),
            },
            Expr::VectorSelector(selector) => {
                let vector = self.select_instant(selector, time, false)?;
                Ok(Value::Vector(vector.into_iter().map(|(s, _)| s).collect()))
            }
            Expr::MatrixSelector(selector) => self.matrix_selector_value(selector, time),
            Expr::Subquery(subquery) => Ok(Value::Matrix(self.eval_subquery(subquery, time)?)),
            Expr::Call(call) => self.eval_call(call, time),
            Expr::Aggregate(aggregate) => self.eval_aggregate(aggregate, time),
            Expr::Binary(binary) => self.eval_binary(binary, time),
            Expr::Extension(_) => Err(EvalError::Unsupported(
                "extension expressions".to_string(),
            )),
        }
    }

    /// Evaluates `expr` expecting an instant vector.
    pub(crate) fn eval_vector(&mut self, expr: &Expr, time: i64) -> Result<Vector, EvalError> {
        match self.eval(expr, time)? {
            Value::Vector(vector) => Ok(vector),
            other => Err(EvalError::Type(format!(
                "expected type instant vector, got {}",
                type_display(&other)
            ))),
        }
    }

    /// Evaluates `expr` expecting a scalar.
    pub(crate) fn eval_scalar(&mut self, expr: &Expr, time: i64) -> Result<f64, EvalError> {
        match self.eval(expr, time)? {
            Value::Scalar(value) => Ok(value),
            other => Err(EvalError::Type(format!(
                "expected type scalar, got {}",
                type_display(&other)
            ))),
        }
    }

    /// The time a selector or subquery reads at: `@` if any, minus `offset`.
    fn reference_time(&self, at: &Option<AtModifier>, offset: &Option<Offset>, time: i64) -> i64 {
        let base = match at {
            None => time,
            Some(AtModifier::Start) => self.query_start,
            Some(AtModifier::End) => self.query_end,
            Some(AtModifier::At(system_time)) => system_time_ms(*system_time),
        };
        base - offset_ms(offset)
    }

    fn selector_cache(&mut self, selector: &VectorSelector) -> &mut SelectorCache {
        let key = selector as *const VectorSelector as usize;
        let storage = self.storage;
        let touched = &mut self.touched_native_histograms;
        self.selector_caches.entry(key).or_insert_with(|| {
            let series_ids = storage.select(selector.name.as_deref(), &selector.matchers);
            let labels_without_name: Vec<Labels> = series_ids
                .iter()
                .map(|&id| storage.series(id).labels_without_name.clone())
                .collect();
            let mut names = series_ids
                .iter()
                .map(|&id| storage.series(id).labels.metric_name());
            let first_name = names.next();
            let single_metric_name = names.all(|name| Some(name) == first_name);
            if series_ids
                .iter()
                .any(|&id| storage.series(id).had_native_histograms)
            {
                *touched = true;
            }
            SelectorCache {
                end_cursors: vec![0; series_ids.len()],
                start_cursors: vec![0; series_ids.len()],
                series_ids,
                labels_without_name,
                single_metric_name,
            }
        })
    }

    /// Instant selection: each series' newest sample within the lookback
    /// window, unless that sample is a stale marker. Returns the samples with
    /// their own timestamps (for `timestamp()`).
    pub(crate) fn select_instant(
        &mut self,
        selector: &VectorSelector,
        time: i64,
        drop_name: bool,
    ) -> Result<Vec<(Sample, i64)>, EvalError> {
        let reference = self.reference_time(&selector.at, &selector.offset, time);
        let lookback = self.options.lookback_delta_ms;
        let semantics = self.options.semantics;
        let storage = self.storage;
        let cache = self.selector_cache(selector);
        let mut output = Vec::with_capacity(cache.series_ids.len());
        for (position, &id) in cache.series_ids.iter().enumerate() {
            let series = storage.series(id);
            let end = advance_cursor(
                &series.timestamps,
                &mut cache.end_cursors[position],
                reference,
                |t| t <= reference,
            );
            if end == 0 {
                continue;
            }
            let sample_time = series.timestamps[end - 1];
            let in_window = match semantics {
                Semantics::V2 => sample_time >= reference - lookback,
                Semantics::V3 => sample_time > reference - lookback,
            };
            let value = series.values[end - 1];
            if !in_window || is_stale_nan(value) {
                continue;
            }
            let labels = if drop_name {
                cache.labels_without_name[position].clone()
            } else {
                series.labels.clone()
            };
            output.push((Sample { labels, value }, sample_time));
        }
        Ok(output)
    }

    /// Calls `visit` with each matched series' window of a matrix selector.
    fn for_each_selector_window(
        &mut self,
        selector: &MatrixSelector,
        time: i64,
        mut visit: impl FnMut(
            &Labels,
            &Labels,
            Window<'_>,
            &RangeContext,
            Option<SeriesSpan<'_>>,
        ) -> Result<(), EvalError>,
    ) -> Result<bool, EvalError> {
        let vector_selector = &selector.vs;
        let range = duration_ms(&selector.range);
        let reference = self.reference_time(&vector_selector.at, &vector_selector.offset, time);
        let semantics = self.options.semantics;
        let context = RangeContext {
            eval_time: time,
            range,
            range_start: reference - range,
            range_end: reference,
            semantics,
        };
        let storage = self.storage;
        let mut window_timestamps = std::mem::take(&mut self.window_timestamps);
        let mut window_values = std::mem::take(&mut self.window_values);
        let cache = self.selector_cache(vector_selector);
        let single_metric_name = cache.single_metric_name;
        let mut result = Ok(());
        for (position, &id) in cache.series_ids.iter().enumerate() {
            let series = storage.series(id);
            let lower = reference - range;
            let start = advance_cursor(
                &series.timestamps,
                &mut cache.start_cursors[position],
                lower,
                |t| match semantics {
                    Semantics::V2 => t < lower,
                    Semantics::V3 => t <= lower,
                },
            );
            let end = advance_cursor(
                &series.timestamps,
                &mut cache.end_cursors[position],
                reference,
                |t| t <= reference,
            );
            if start >= end {
                continue;
            }
            let span = (series.stale_count == 0).then_some(SeriesSpan {
                position,
                start,
                end,
                timestamps: &series.timestamps,
                values: &series.values,
            });
            let window = if series.stale_count == 0 {
                Window {
                    timestamps: &series.timestamps[start..end],
                    values: &series.values[start..end],
                }
            } else {
                window_timestamps.clear();
                window_values.clear();
                for index in start..end {
                    if !is_stale_nan(series.values[index]) {
                        window_timestamps.push(series.timestamps[index]);
                        window_values.push(series.values[index]);
                    }
                }
                if window_timestamps.is_empty() {
                    continue;
                }
                Window {
                    timestamps: &window_timestamps,
                    values: &window_values,
                }
            };
            if let Err(error) = visit(
                &series.labels,
                &cache.labels_without_name[position],
                window,
                &context,
                span,
            ) {
                result = Err(error);
                break;
            }
        }
        self.window_timestamps = window_timestamps;
        self.window_values = window_values;
        result.map(|()| single_metric_name)
    }

    fn matrix_selector_value(
        &mut self,
        selector: &MatrixSelector,
        time: i64,
    ) -> Result<Value, EvalError> {
        let mut matrix = Vec::new();
        self.for_each_selector_window(selector, time, |labels, _, window, _, _| {
            matrix.push(Series {
                labels: labels.clone(),
                timestamps: window.timestamps.to_vec(),
                values: window.values.to_vec(),
            });
            Ok(())
        })?;
        Ok(Value::Matrix(matrix))
    }

    /// A subquery's points at `time`: the inner expression evaluated at
    /// every multiple of the step inside the window (Prometheus aligns
    /// subquery steps to absolute time).
    fn eval_subquery(&mut self, subquery: &SubqueryExpr, time: i64) -> Result<Matrix, EvalError> {
        let reference = self.reference_time(&subquery.at, &subquery.offset, time);
        let range = duration_ms(&subquery.range);
        let step = match &subquery.step {
            Some(step) if !step.is_zero() => duration_ms(step),
            _ => self.options.default_subquery_step_ms,
        };
        let lower = reference - range;
        let mut first = lower.div_euclid(step) * step;
        let include_lower = self.options.semantics == Semantics::V2;
        while first < lower || (first == lower && !include_lower) {
            first += step;
        }
        let key_base = subquery as *const SubqueryExpr as usize;
        let mut output: BTreeMap<Labels, Series> = BTreeMap::new();
        let mut inner_time = first;
        while inner_time <= reference {
            let value = match self.subquery_caches.get(&(key_base, inner_time)) {
                Some(value) => value.clone(),
                None => {
                    let value = self.eval(&subquery.expr, inner_time)?;
                    self.subquery_caches
                        .insert((key_base, inner_time), value.clone());
                    value
                }
            };
            match value {
                Value::Scalar(value) => {
                    push_point(&mut output, &Labels::empty(), inner_time, value)
                }
                Value::Vector(vector) => {
                    for sample in vector {
                        push_point(&mut output, &sample.labels, inner_time, sample.value);
                    }
                }
                other => {
                    return Err(EvalError::Type(format!(
                        "subquery is only allowed on instant vector, got {} instead",
                        type_display(&other)
                    )))
                }
            }
            inner_time += step;
        }
        Ok(output.into_values().collect())
    }

    fn eval_call(&mut self, call: &Call, time: i64) -> Result<Value, EvalError> {
        let name = call.func.name;
        let args = &call.args.args;
        if let Some(matrix_position) = call
            .func
            .arg_types
            .iter()
            .position(|t| *t == ValueType::Matrix)
        {
            if name == "absent_over_time" {
                return self.absent_over_time(&args[matrix_position], time);
            }
            if functions::is_range_function(name) {
                return self.eval_range_function(call, matrix_position, time);
            }
            return Err(EvalError::Unsupported(format!("function {name}")));
        }
        self.eval_instant_function(call, time)
    }

    fn eval_range_function(
        &mut self,
        call: &Call,
        matrix_position: usize,
        time: i64,
    ) -> Result<Value, EvalError> {
        let name = call.func.name;
        let args = &call.args.args;
        let mut scalar_args = Vec::with_capacity(args.len());
        for (position, arg) in args.iter().enumerate() {
            if position != matrix_position {
                scalar_args.push(self.eval_scalar(arg, time)?);
            }
        }
        functions::validate_range_function_args(name, &scalar_args)
            .map_err(EvalError::InvalidArgument)?;
        if name == "quantile_over_time" {
            self.check_quantile(scalar_args[0]);
        }
        let keep_name = matches!(name, "last_over_time" | "first_over_time");
        let mut output = Vector::new();
        let matrix_arg = unwrap_parens(&args[matrix_position]);
        match matrix_arg {
            Expr::MatrixSelector(selector) => {
                let counter_check = matches!(name, "rate" | "increase");
                let mut non_counters: Vec<String> = Vec::new();
                let regression_key = &selector.vs as *const VectorSelector as usize;
                // Sliding sums pay off only when the windows move step by step;
                // an instant query's single window takes the one-pass path.
                let range_query = self.query_start < self.query_end;
                let mut sliding = if range_query && matches!(name, "deriv" | "predict_linear") {
                    Some(
                        self.sliding_regressions
                            .remove(&regression_key)
                            .unwrap_or_default(),
                    )
                } else {
                    None
                };
                let semantics = self.options.semantics;
                let single_name = self.for_each_selector_window(
                    selector,
                    time,
                    |labels, nameless, window, context, span| {
                        if counter_check && !looks_like_counter(labels.metric_name()) {
                            non_counters.push(labels.metric_name().to_string());
                        }
                        let value = match (sliding.as_mut(), span) {
                            (Some(states), Some(span)) => {
                                if states.len() <= span.position {
                                    states.resize(span.position + 1, SlidingRegression::default());
                                }
                                let state = &mut states[span.position];
                                functions::regression_function(
                                    name,
                                    window,
                                    context,
                                    &scalar_args,
                                    |intercept_time| {
                                        state
                                            .regression(
                                                span.timestamps,
                                                span.values,
                                                span.start,
                                                span.end,
                                                intercept_time,
                                            )
                                            .unwrap_or_else(|| {
                                                kahan_linear_regression(
                                                    window,
                                                    intercept_time,
                                                    semantics,
                                                )
                                            })
                                    },
                                )
                            }
                            _ => functions::range_function(name, window, context, &scalar_args),
                        };
                        if let Some(value) = value {
                            let labels = if keep_name { labels } else { nameless };
                            output.push(Sample {
                                labels: labels.clone(),
                                value,
                            });
                        }
                        Ok(())
                    },
                )?;
                if let Some(states) = sliding {
                    self.sliding_regressions.insert(regression_key, states);
                }
                for metric_name in non_counters {
                    self.infos.insert(non_counter_info(&metric_name));
                }
                if !(single_name || keep_name) {
                    ensure_unique_labels(&output)?;
                }
            }
            Expr::Subquery(subquery) => {
                let matrix = self.eval_subquery(subquery, time)?;
                let reference = self.reference_time(&subquery.at, &subquery.offset, time);
                let range = duration_ms(&subquery.range);
                let context = RangeContext {
                    eval_time: time,
                    range,
                    range_start: reference - range,
                    range_end: reference,
                    semantics: self.options.semantics,
                };
                for series in &matrix {
                    if series.timestamps.is_empty() {
                        continue;
                    }
                    if matches!(name, "rate" | "increase")
                        && !looks_like_counter(series.labels.metric_name())
                    {
                        self.infos
                            .insert(non_counter_info(series.labels.metric_name()));
                    }
                    let window = Window {
                        timestamps: &series.timestamps,
                        values: &series.values,
                    };
                    if let Some(value) =
                        functions::range_function(name, window, &context, &scalar_args)
                    {
                        let labels = if keep_name {
                            series.labels.clone()
                        } else {
                            series.labels.without_metric_name()
                        };
                        output.push(Sample { labels, value });
                    }
                }
                ensure_unique_labels(&output)?;
            }
            other => {
                return Err(EvalError::Type(format!(
                    "expected type range vector in call to function \"{name}\", got {}",
                    expr_type_name(other)
                )))
            }
        }
        Ok(Value::Vector(output))
    }

    fn absent_over_time(&mut self, arg: &Expr, time: i64) -> Result<Value, EvalError> {
        let arg = unwrap_parens(arg);
        let any_sample = match arg {
            Expr::MatrixSelector(selector) => {
                let mut any = false;
                self.for_each_selector_window(selector, time, |_, _, _, _, _| {
                    any = true;
                    Ok(())
                })?;
                any
            }
            Expr::Subquery(subquery) => self
                .eval_subquery(subquery, time)?
                .iter()
                .any(|series| !series.timestamps.is_empty()),
            other => {
                return Err(EvalError::Type(format!(
                    "expected type range vector in call to function \"absent_over_time\", got {}",
                    expr_type_name(other)
                )))
            }
        };
        if any_sample {
            return Ok(Value::Vector(Vector::new()));
        }
        Ok(Value::Vector(vec![Sample {
            labels: absent_labels(arg),
            value: 1.0,
        }]))
    }
}

/// Labels `absent()` and `absent_over_time()` give their one sample: the
/// selector's equality matchers, except labels matched more than once
/// (Prometheus' `createLabelsForAbsentFunction`).
pub(crate) fn absent_labels(expr: &Expr) -> Labels {
    let selector = match expr {
        Expr::VectorSelector(selector) => selector,
        Expr::MatrixSelector(selector) => &selector.vs,
        _ => return Labels::empty(),
    };
    let mut pairs: Vec<(String, String)> = Vec::new();
    let mut seen: HashSet<&str> = HashSet::new();
    for matcher in selector
        .matchers
        .matchers
        .iter()
        .chain(selector.matchers.or_matchers.iter().flatten())
    {
        if matcher.name == METRIC_NAME {
            continue;
        }
        if matches!(matcher.op, MatchOp::Equal) && !seen.contains(matcher.name.as_str()) {
            pairs.retain(|(name, _)| *name != matcher.name);
            pairs.push((matcher.name.clone(), matcher.value.clone()));
            seen.insert(matcher.name.as_str());
        } else {
            pairs.retain(|(name, _)| *name != matcher.name);
        }
    }
    Labels::from_pairs(pairs)
}

/// Advances `cursor` to the first index whose timestamp fails `before`
/// (timestamps ascending, `before` monotone, `target` the time where it
/// flips), returning it. Moves forward from the previous position when the
/// window moved a little (the range-query case); otherwise searches from an
/// interpolated guess, which touches few cache lines on regular samples.
fn advance_cursor(
    timestamps: &[i64],
    cursor: &mut usize,
    target: i64,
    before: impl Fn(i64) -> bool,
) -> usize {
    let mut index = (*cursor).min(timestamps.len());
    if index > 0 && !before(timestamps[index - 1]) {
        index = guided_search(timestamps, target, &before);
    } else {
        let mut steps = 0;
        while index < timestamps.len() && before(timestamps[index]) {
            index += 1;
            steps += 1;
            if steps == 8 {
                index = guided_search(timestamps, target, &before);
                break;
            }
        }
    }
    *cursor = index;
    index
}

/// The first index whose timestamp fails `before`: interpolation guess,
/// exponential bracketing, then binary search inside the bracket.
fn guided_search(timestamps: &[i64], target: i64, before: &impl Fn(i64) -> bool) -> usize {
    let length = timestamps.len();
    if length == 0 || !before(timestamps[0]) {
        return 0;
    }
    if before(timestamps[length - 1]) {
        return length;
    }
    let (first, last) = (timestamps[0], timestamps[length - 1]);
    let fraction = (target.saturating_sub(first)) as f64 / (last - first).max(1) as f64;
    let guess = ((fraction.clamp(0.0, 1.0) * (length - 1) as f64) as usize).min(length - 1);
    // Invariant: before(timestamps[low]) holds and before(timestamps[high]) fails.
    let (mut low, mut high);
    if before(timestamps[guess]) {
        low = guess;
        let mut step = 1;
        loop {
            let probe = low + step;
            if probe >= length - 1 {
                high = length - 1;
                break;
            }
            if !before(timestamps[probe]) {
                high = probe;
                break;
            }
            low = probe;
            step *= 2;
        }
    } else {
        high = guess;
        let mut step = 1;
        loop {
            if high < step {
                low = 0;
                break;
            }
            let probe = high - step;
            if before(timestamps[probe]) {
                low = probe;
                break;
            }
            high = probe;
            step *= 2;
        }
    }
    low + 1 + timestamps[low + 1..high].partition_point(|&t| before(t))
}

/// Fails with Prometheus' error when two samples share one label set.
pub(crate) fn ensure_unique_labels(vector: &Vector) -> Result<(), EvalError> {
    if vector.len() < 2 {
        return Ok(());
    }
    let mut seen: HashSet<&Labels> = HashSet::with_capacity(vector.len());
    for sample in vector {
        if !seen.insert(&sample.labels) {
            return Err(EvalError::DuplicateLabelset);
        }
    }
    Ok(())
}

/// Gathers a range query's points into series. Samples that share one label
/// set allocation (the engine reuses them across steps) are found by
/// pointer first, so the per-step cost avoids hashing label strings.
#[derive(Default)]
struct SeriesCollector {
    series: Vec<Series>,
    by_identity: HashMap<usize, usize>,
    by_labels: HashMap<Labels, usize>,
}

impl SeriesCollector {
    fn push(&mut self, labels: &Labels, time: i64, value: f64) {
        let index = match self.by_identity.get(&labels.identity()) {
            Some(&index) => index,
            None => {
                let index = match self.by_labels.get(labels) {
                    Some(&index) => index,
                    None => {
                        self.series.push(Series {
                            labels: labels.clone(),
                            ..Series::default()
                        });
                        self.by_labels.insert(labels.clone(), self.series.len() - 1);
                        self.series.len() - 1
                    }
                };
                // Keep the allocation alive through the stored series so the
                // identity cannot be reused by another label set.
                if self.series[index].labels.identity() == labels.identity() {
                    self.by_identity.insert(labels.identity(), index);
                }
                index
            }
        };
        let series = &mut self.series[index];
        series.timestamps.push(time);
        series.values.push(value);
    }

    fn into_matrix(mut self) -> Matrix {
        self.series.sort_by(|a, b| a.labels.cmp(&b.labels));
        self.series
    }
}

fn push_point(output: &mut BTreeMap<Labels, Series>, labels: &Labels, time: i64, value: f64) {
    let series = output.entry(labels.clone()).or_insert_with(|| Series {
        labels: labels.clone(),
        ..Series::default()
    });
    series.timestamps.push(time);
    series.values.push(value);
}

pub(crate) fn unwrap_parens(mut expr: &Expr) -> &Expr {
    while let Expr::Paren(paren) = expr {
        expr = &paren.expr;
    }
    expr
}

fn expr_type_name(expr: &Expr) -> &'static str {
    match expr.value_type() {
        ValueType::Vector => "instant vector",
        ValueType::Scalar => "scalar",
        ValueType::Matrix => "range vector",
        ValueType::String => "string",
    }
}

fn type_display(value: &Value) -> &'static str {
    match value {
        Value::Scalar(_) => "scalar",
        Value::String(_) => "string",
        Value::Vector(_) => "instant vector",
        Value::Matrix(_) => "range vector",
    }
}

pub(crate) fn duration_ms(duration: &Duration) -> i64 {
    duration.as_millis() as i64
}

fn offset_ms(offset: &Option<Offset>) -> i64 {
    match offset {
        None => 0,
        Some(Offset::Pos(duration)) => duration_ms(duration),
        Some(Offset::Neg(duration)) => -duration_ms(duration),
    }
}

fn system_time_ms(time: SystemTime) -> i64 {
    match time.duration_since(UNIX_EPOCH) {
        Ok(after) => after.as_millis() as i64,
        Err(before) => -(before.duration().as_millis() as i64),
    }
}

/// Whether a metric name ends like a counter's (Prometheus 3's
/// `PossibleNonCounterInfo` check); a missing name is not reported.
fn looks_like_counter(metric_name: &str) -> bool {
    metric_name.is_empty() || names::counter_suffix(metric_name).is_some()
}

fn non_counter_info(metric_name: &str) -> String {
    format!(
        "PromQL info: metric might not be a counter, name does not end in _total/_sum/_count/_bucket: {}",
        go_quote::quote(metric_name)
    )
}

impl Evaluator<'_> {
    /// Records Prometheus' warning for a quantile outside [0, 1].
    pub(crate) fn check_quantile(&mut self, quantile: f64) {
        if quantile.is_nan() || !(0.0..=1.0).contains(&quantile) {
            self.warnings.insert(format!(
                "PromQL warning: quantile value should be between 0 and 1, got {}",
                go_number::format_float(quantile, 'g', None)
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prometheus::promql::parse::parse_query;
    use crate::prometheus::promql::value::stale_nan;

    fn storage_with(points: &[(i64, f64)]) -> Storage {
        let mut storage = Storage::new();
        let labels = Labels::from_pairs([(METRIC_NAME, "x")]);
        for &(time, value) in points {
            storage.append(&labels, time, value);
        }
        storage
    }

    fn instant(storage: &Storage, query: &str, time: i64, options: &EvalOptions) -> Vec<f64> {
        let expr = parse_query(query, options.semantics).expect("test query parses");
        match instant_query_expr(storage, &expr, time, options).expect("test query evaluates") {
            Value::Vector(vector) => vector.into_iter().map(|s| s.value).collect(),
            Value::Scalar(value) => vec![value],
            other => panic!("unexpected {other:?}"),
        }
    }

    /// Range queries slide integer regression sums across steps; each step
    /// must equal the instant query at that time bit for bit, including
    /// series that leave the exact case (fractions, half seconds, stale
    /// markers, values beyond 2^53) for part of the range.
    #[test]
    fn sliding_regression_in_range_queries_matches_instant_queries() {
        let mut storage = Storage::new();
        let mut append = |kind: &str, time: i64, value: f64| {
            let labels =
                Labels::from_pairs([(METRIC_NAME, "x".to_string()), ("k", kind.to_string())]);
            storage.append(&labels, time, value);
        };
        for index in 0..200i64 {
            let time = index * 15_000;
            let counter = (index % 70) * 13 - 40;
            if index % 17 != 5 {
                append("counter", time, counter as f64);
            }
            let fraction = if index == 60 { 0.5 } else { 0.0 };
            append("fraction", time, index as f64 * 3.0 + fraction);
            append("half_second", time + 500, (index * index) as f64);
            let stale = if index == 90 {
                stale_nan()
            } else {
                (index % 9) as f64
            };
            append("stale", time, stale);
            let huge = if (80..100).contains(&index) {
                1e16
            } else {
                -(index as f64)
            };
            append("huge", time, huge);
            append("constant", time, if index < 150 { -0.0 } else { 4.0 });
        }
        for semantics in [Semantics::V2, Semantics::V3] {
            let options = EvalOptions::with_semantics(semantics);
            for query in [
                "deriv(x[10m])",
                "predict_linear(x[10m], 600)",
                "predict_linear(x[3m] offset 1m, 60)",
            ] {
                let expr = parse_query(query, semantics).expect("test query parses");
                for step in [15_000, 60_000, 7_500] {
                    let matrix = range_query_expr(&storage, &expr, 0, 3_000_000, step, &options)
                        .expect("test query evaluates");
                    let mut compared = 0;
                    for series in &matrix {
                        for (&time, &value) in series.timestamps.iter().zip(&series.values) {
                            let Value::Vector(vector) =
                                instant_query_expr(&storage, &expr, time, &options)
                                    .expect("test query evaluates")
                            else {
                                panic!("{query} is a vector");
                            };
                            let expected = vector
                                .iter()
                                .find(|sample| sample.labels == series.labels)
                                .expect("the instant query has the series");
                            assert_eq!(
                                value.to_bits(),
                                expected.value.to_bits(),
                                "{query} at {time} step {step} for {:?}",
                                series.labels
                            );
                            compared += 1;
                        }
                    }
                    assert!(compared > 250, "{query}: only {compared} samples");
                }
            }
        }
    }

    #[test]
    fn lookback_delta_is_configurable_and_its_edge_follows_semantics() {
        let storage = storage_with(&[(0, 1.0)]);
        let mut options = EvalOptions::default();
        assert_eq!(instant(&storage, "x", 300_000, &options), vec![1.0]);
        options.semantics = Semantics::V3;
        assert!(instant(&storage, "x", 300_000, &options).is_empty());
        options.lookback_delta_ms = 60_000;
        assert!(instant(&storage, "x", 120_000, &options).is_empty());
        assert_eq!(instant(&storage, "x", 59_000, &options), vec![1.0]);
    }

    #[test]
    fn stale_marker_hides_the_series_until_the_next_sample() {
        let storage = storage_with(&[(0, 1.0), (60_000, stale_nan()), (120_000, 3.0)]);
        let options = EvalOptions::default();
        assert_eq!(instant(&storage, "x", 30_000, &options), vec![1.0]);
        assert!(instant(&storage, "x", 90_000, &options).is_empty());
        assert_eq!(
            instant(&storage, "count_over_time(x[5m])", 150_000, &options),
            vec![2.0]
        );
        let expr = parse_query("x", Semantics::V2).expect("parses");
        let matrix =
            range_query_expr(&storage, &expr, 0, 180_000, 30_000, &options).expect("evaluates");
        assert_eq!(
            matrix[0].timestamps,
            vec![0, 30_000, 120_000, 150_000, 180_000]
        );
    }

    #[test]
    fn holt_winters_is_v2_only_and_double_exponential_smoothing_v3_only() {
        assert!(parse_query("holt_winters(x[5m], 0.5, 0.5)", Semantics::V2).is_ok());
        assert!(parse_query("holt_winters(x[5m], 0.5, 0.5)", Semantics::V3).is_err());
        assert!(parse_query(
            "double_exponential_smoothing(x[5m], 0.5, 0.5)",
            Semantics::V3
        )
        .is_ok());
        assert!(parse_query(
            "double_exponential_smoothing(x[5m], 0.5, 0.5)",
            Semantics::V2
        )
        .is_err());
    }

    #[test]
    fn cursor_search_agrees_with_partition_point() {
        let timestamps: Vec<i64> = (0..500).map(|i| i * 15_000 + (i % 7) * 1_000).collect();
        let targets = [
            -100_000, 0, 1, 14_999, 15_000, 3_000_000, 7_500_000, 8_000_000,
        ];
        for &target in &targets {
            let expected = timestamps.partition_point(|&t| t <= target);
            assert_eq!(
                guided_search(&timestamps, target, &|t| t <= target),
                expected,
                "target {target}"
            );
            for start in [0, 3, 250, 499, 500] {
                let mut cursor = start;
                assert_eq!(
                    advance_cursor(&timestamps, &mut cursor, target, |t| t <= target),
                    expected,
                    "target {target} from cursor {start}"
                );
            }
        }
    }

    /// Prometheus 3 prints the quantile of this warning with Go's `%g`.
    #[test]
    fn quantile_warnings_print_the_quantile_as_go_does() {
        let storage = storage_with(&[(0, 1.0)]);
        let options = EvalOptions::with_semantics(Semantics::V3);
        let mut warnings = Vec::new();
        for quantile in ["2", "-0.0000001", "Inf", "NaN"] {
            let query = format!("quantile({quantile}, x)");
            let expr = parse_query(&query, Semantics::V3).expect("test query parses");
            let mut evaluator = Evaluator::new(&storage, &options, 0, 0);
            evaluator.eval(&expr, 0).expect("test query evaluates");
            warnings.extend(evaluator.warnings);
        }
        let got: Vec<&str> = warnings
            .iter()
            .map(|warning| warning.rsplit(", got ").next().unwrap_or(""))
            .collect();
        assert_eq!(got, ["2", "-1e-07", "+Inf", "NaN"]);
    }
}
