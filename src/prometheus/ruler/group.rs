//! Evaluating rule groups at one timestamp as Prometheus' `rules/group.go` and
//! `rules/alerting.go` do: rules in order, results appended to the storage (so later
//! rules and later steps see them), stale markers for series a rule stopped returning,
//! and the pending → firing → inactive alert state machine with `for`,
//! `keep_firing_for`, `ALERTS` and `ALERTS_FOR_STATE`.
//!
//! Invariants: alert state is keyed by the alert's final label set (BTreeMap, so
//! iteration and output are deterministic); a sample whose timestamp already holds a
//! different value is dropped like Prometheus' duplicate-sample error and does not
//! count as returned; the evaluator never panics on any rule or data.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use super::file::{Rule, RuleGroup, RuleKind};
use crate::prometheus::gotemplate::{self, AlertData, AlertTemplate, Env};
use crate::prometheus::promql::value::{stale_nan, METRIC_NAME};
use crate::prometheus::promql::{
    instant_query_expr, parse_query, range_query_steps, EvalOptions, Expr, Labels, Storage, Value,
};
use promql_parser::label::MatchOp;
use promql_parser::parser::{AtModifier, Offset, VectorSelector};

/// The series every alerting rule writes (Prometheus' `alertMetricName` and
/// `alertForStateMetricName`).
pub const ALERTS_METRIC: &str = "ALERTS";
pub const ALERTS_FOR_STATE_METRIC: &str = "ALERTS_FOR_STATE";

/// Every metric name that evaluating `groups` writes: the recording rules' names plus
/// [`ALERTS_METRIC`] and [`ALERTS_FOR_STATE_METRIC`].
pub fn written_metric_names(groups: &[RuleGroup]) -> BTreeSet<String> {
    let recorded = groups
        .iter()
        .flat_map(|group| &group.rules)
        .filter_map(|rule| match &rule.kind {
            RuleKind::Recording { name } => Some(name.clone()),
            RuleKind::Alerting { .. } => None,
        });
    [ALERTS_METRIC, ALERTS_FOR_STATE_METRIC]
        .into_iter()
        .map(String::from)
        .chain(recorded)
        .collect()
}

/// How long a resolved alert stays in the active map (Prometheus' `resolvedRetention`).
const RESOLVED_RETENTION_MS: i64 = 15 * 60 * 1000;

/// What every rule evaluation of a run shares.
#[derive(Clone, Debug, Default)]
pub struct EvalContext {
    pub options: EvalOptions,
    pub external_labels: BTreeMap<String, String>,
    /// `None` as promtool 2.42's unit tests pass a nil URL.
    pub external_url: Option<String>,
    /// How many range queries may run at once (0 or 1: no extra threads).
    pub threads: usize,
}

/// A rule that failed at one evaluation, as `rule.LastError()`.
#[derive(Clone, Debug, PartialEq)]
pub struct RuleEvalError {
    pub rule_name: String,
    pub message: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AlertState {
    Inactive,
    Pending,
    Firing,
}

impl AlertState {
    pub fn as_str(self) -> &'static str {
        match self {
            AlertState::Inactive => "inactive",
            AlertState::Pending => "pending",
            AlertState::Firing => "firing",
        }
    }
}

/// One alert of an alerting rule.
#[derive(Clone, Debug)]
pub struct Alert {
    /// Final labels (series labels without the name, rule labels, `alertname`).
    pub labels: Labels,
    pub annotations: BTreeMap<String, String>,
    pub state: AlertState,
    pub value: f64,
    pub active_at_ms: i64,
    pub fired_at_ms: Option<i64>,
    pub resolved_at_ms: Option<i64>,
    pub keep_firing_since_ms: Option<i64>,
}

/// Evaluation state of one group: previous outputs per rule and alerts per rule.
#[derive(Clone, Debug)]
pub struct GroupEvaluator {
    pub group: RuleGroup,
    series_in_previous_eval: Vec<BTreeSet<Labels>>,
    /// Per rule (empty for recording rules).
    active_alerts: Vec<BTreeMap<Labels, Alert>>,
    /// Per rule: results precomputed by range queries, when the rule reads no series
    /// that rules write (see [`GroupEvaluator::plan_range_evaluation`]).
    range_plans: Vec<Option<RangePlan>>,
}

/// How many evaluation steps one range query covers: bounds memory to this many
/// steps of one rule's output.
const RANGE_CHUNK_STEPS: i64 = 256;

/// A rule's query result at one step.
type StepOutput = Vec<(Labels, f64)>;

/// A rule's results for a run of steps, computed as one range query.
#[derive(Clone, Debug)]
struct RangePlan {
    /// What the range queries read: the whole input, shared by every plan of a run.
    input: Arc<Storage>,
    step_ms: i64,
    end_ms: i64,
    chunk_start_ms: i64,
    chunk: Vec<Vec<(Labels, f64)>>,
}

impl RangePlan {
    /// The rule's output at `ts`, computing the next chunk when needed. `None` when
    /// `ts` is off the plan's grid or the range query failed (the caller then runs
    /// the instant query, which reports the error as Prometheus does).
    fn take(&mut self, rule: &Rule, ts: i64, context: &EvalContext) -> Option<Vec<(Labels, f64)>> {
        if ts < 0 || ts > self.end_ms || ts % self.step_ms != 0 {
            return None;
        }
        let in_chunk = ts >= self.chunk_start_ms
            && ts < self.chunk_start_ms + self.chunk.len() as i64 * self.step_ms;
        if !in_chunk {
            // One range query per worker, each over RANGE_CHUNK_STEPS steps.
            let workers = context.threads.max(1) as i64;
            let span = RANGE_CHUNK_STEPS * self.step_ms;
            let ranges: Vec<(i64, i64)> = (0..workers)
                .map(|w| ts + w * span)
                .filter(|&start| start <= self.end_ms)
                .map(|start| (start, (start + span - self.step_ms).min(self.end_ms)))
                .collect();
            let step_ms = self.step_ms;
            let storage: &Storage = &self.input;
            let compute = |(start, end): (i64, i64)| -> Option<Vec<StepOutput>> {
                // Each step in query order: a recording rule creates its series in
                // the order it appends them, and later selections walk that order.
                let steps =
                    range_query_steps(storage, &rule.expr, start, end, step_ms, &context.options)
                        .ok()?;
                Some(
                    steps
                        .into_iter()
                        .map(|vector| vector.into_iter().map(|s| (s.labels, s.value)).collect())
                        .collect(),
                )
            };
            let parts: Vec<Option<Vec<StepOutput>>> = if ranges.len() == 1 {
                ranges.into_iter().map(compute).collect()
            } else {
                std::thread::scope(|scope| {
                    let handles: Vec<_> = ranges
                        .into_iter()
                        .map(|range| scope.spawn(move || compute(range)))
                        .collect();
                    // A worker that panicked counts as a failed query: the caller
                    // falls back to instant queries.
                    handles
                        .into_iter()
                        .map(|h| h.join().ok().flatten())
                        .collect()
                })
            };
            let mut chunk = Vec::new();
            for part in parts {
                chunk.extend(part?);
            }
            self.chunk_start_ms = ts;
            self.chunk = chunk;
        }
        let index = ((ts - self.chunk_start_ms) / self.step_ms) as usize;
        self.chunk.get_mut(index).map(std::mem::take)
    }
}

/// The one metric name a selector can match: its name, or a `__name__="..."`
/// matcher; `None` when it may match several.
pub(crate) fn fixed_metric_name(selector: &VectorSelector) -> Option<String> {
    selector.name.clone().or_else(|| {
        selector
            .matchers
            .matchers
            .iter()
            .find(|m| m.name == METRIC_NAME && matches!(m.op, MatchOp::Equal))
            .map(|m| m.value.clone())
    })
}

/// Whether a query may read a series named in `written` (or any series, for a
/// selector without a fixed metric name).
fn reads_written_series(expr: &Expr, written: &BTreeSet<String>) -> bool {
    let selector_reads = |selector: &VectorSelector| {
        !selector.matchers.or_matchers.is_empty()
            || fixed_metric_name(selector).is_none_or(|n| written.contains(&n))
    };
    match expr {
        Expr::VectorSelector(selector) => selector_reads(selector),
        Expr::MatrixSelector(matrix) => selector_reads(&matrix.vs),
        Expr::Call(call) => call
            .args
            .args
            .iter()
            .any(|a| reads_written_series(a, written)),
        Expr::Aggregate(aggregate) => {
            reads_written_series(&aggregate.expr, written)
                || aggregate
                    .param
                    .as_ref()
                    .is_some_and(|p| reads_written_series(p, written))
        }
        Expr::Unary(unary) => reads_written_series(&unary.expr, written),
        Expr::Binary(binary) => {
            reads_written_series(&binary.lhs, written) || reads_written_series(&binary.rhs, written)
        }
        Expr::Paren(paren) => reads_written_series(&paren.expr, written),
        Expr::Subquery(subquery) => reads_written_series(&subquery.expr, written),
        Expr::NumberLiteral(_) | Expr::StringLiteral(_) => false,
        _ => true,
    }
}

/// Whether a query may read samples after its evaluation time: an `@` modifier or a
/// negative `offset` anywhere in it. promtool loads input step by step, so such a
/// query sees only what is loaded by the current step, which a range query over the
/// whole input cannot reproduce.
fn reads_after_evaluation_time(expr: &Expr) -> bool {
    let shifted = |at: &Option<AtModifier>, offset: &Option<Offset>| {
        at.is_some() || matches!(offset, Some(Offset::Neg(_)))
    };
    match expr {
        Expr::VectorSelector(selector) => shifted(&selector.at, &selector.offset),
        Expr::MatrixSelector(matrix) => shifted(&matrix.vs.at, &matrix.vs.offset),
        Expr::Subquery(subquery) => {
            shifted(&subquery.at, &subquery.offset) || reads_after_evaluation_time(&subquery.expr)
        }
        Expr::Call(call) => call
            .args
            .args
            .iter()
            .any(|a| reads_after_evaluation_time(a)),
        Expr::Aggregate(aggregate) => {
            reads_after_evaluation_time(&aggregate.expr)
                || aggregate
                    .param
                    .as_ref()
                    .is_some_and(|p| reads_after_evaluation_time(p))
        }
        Expr::Unary(unary) => reads_after_evaluation_time(&unary.expr),
        Expr::Binary(binary) => {
            reads_after_evaluation_time(&binary.lhs) || reads_after_evaluation_time(&binary.rhs)
        }
        Expr::Paren(paren) => reads_after_evaluation_time(&paren.expr),
        Expr::NumberLiteral(_) | Expr::StringLiteral(_) => false,
        _ => true,
    }
}

impl GroupEvaluator {
    pub fn new(group: RuleGroup) -> GroupEvaluator {
        let count = group.rules.len();
        GroupEvaluator {
            group,
            series_in_previous_eval: vec![BTreeSet::new(); count],
            active_alerts: vec![BTreeMap::new(); count],
            range_plans: vec![None; count],
        }
    }

    /// Lets rules that read none of the series named in `written` (every recorded
    /// name plus `ALERTS` and `ALERTS_FOR_STATE` of the whole run) be evaluated as
    /// range queries over `input` (the run's input series, none of which a rule
    /// writes) from 0 to `end_ms` at `step_ms`, in chunks: the same results as
    /// one instant query per step (Prometheus evaluates a range query step by step),
    /// far faster. `input` holds samples beyond the current step, so rules that can
    /// read after their evaluation time (`@`, negative `offset`) are left alone.
    pub fn plan_range_evaluation(
        &mut self,
        input: &Arc<Storage>,
        written: &BTreeSet<String>,
        step_ms: i64,
        end_ms: i64,
    ) {
        if step_ms <= 0 {
            return;
        }
        for (rule, plan) in self.group.rules.iter().zip(&mut self.range_plans) {
            if reads_after_evaluation_time(&rule.expr) || reads_written_series(&rule.expr, written)
            {
                continue;
            }
            *plan = Some(RangePlan {
                input: Arc::clone(input),
                step_ms,
                end_ms,
                chunk_start_ms: 0,
                chunk: Vec::new(),
            });
        }
    }

    /// The alerts of the rule at `rule_index` (all states), in label order.
    pub fn alerts(&self, rule_index: usize) -> impl Iterator<Item = &Alert> {
        self.active_alerts
            .get(rule_index)
            .into_iter()
            .flat_map(|alerts| alerts.values())
    }

    /// Evaluates every rule of the group at `ts_ms`, appending results to `storage`.
    /// Returns the rules that failed (their output is dropped, as Prometheus does).
    pub fn evaluate(
        &mut self,
        storage: &mut Storage,
        ts_ms: i64,
        context: &EvalContext,
    ) -> Vec<RuleEvalError> {
        let mut errors = Vec::new();
        let eval_ts = ts_ms - self.group.query_offset_ms;
        for index in 0..self.group.rules.len() {
            let rule = &self.group.rules[index];
            let planned = self.range_plans[index]
                .as_mut()
                .and_then(|plan| plan.take(rule, eval_ts, context));
            let vector = match planned {
                Some(vector) => Ok(vector),
                None => query_vector(storage, rule, eval_ts, context),
            };
            let result = vector.and_then(|vector| match &rule.kind {
                RuleKind::Recording { name } => {
                    eval_recording(rule, name, vector, self.group.limit)
                }
                RuleKind::Alerting { .. } => eval_alerting(
                    rule,
                    vector,
                    &mut self.active_alerts[index],
                    storage,
                    eval_ts,
                    ts_ms,
                    self.group.limit,
                    context,
                ),
            });
            let output = match result {
                Ok(output) => output,
                Err(message) => {
                    errors.push(RuleEvalError {
                        rule_name: rule.name().to_string(),
                        message,
                    });
                    continue;
                }
            };
            let mut returned = BTreeSet::new();
            for (labels, value) in output {
                if append_checked(storage, &labels, eval_ts, value) {
                    returned.insert(labels);
                }
            }
            for gone in self.series_in_previous_eval[index].difference(&returned) {
                append_checked(storage, gone, eval_ts, stale_nan());
            }
            self.series_in_previous_eval[index] = returned;
        }
        errors
    }
}

/// Appends unless the series already holds a different value at `ts` (Prometheus'
/// duplicate sample error); returns whether the sample is in the storage.
fn append_checked(storage: &mut Storage, labels: &Labels, ts: i64, value: f64) -> bool {
    let id = storage.series_id(labels);
    let series = storage.series(id);
    if let Some(position) = series.timestamps.iter().rposition(|&t| t <= ts) {
        if series.timestamps[position] == ts {
            return series.values[position].to_bits() == value.to_bits();
        }
        if position + 1 != series.timestamps.len() {
            // Out of order: Prometheus' head rejects it.
            return false;
        }
    } else if !series.timestamps.is_empty() {
        return false;
    }
    storage.append_to(id, ts, value);
    true
}

/// The rule's query as a vector, as Prometheus' `EngineQueryFunc` returns it.
fn query_vector(
    storage: &Storage,
    rule: &Rule,
    ts: i64,
    context: &EvalContext,
) -> Result<Vec<(Labels, f64)>, String> {
    match instant_query_expr(storage, &rule.expr, ts, &context.options) {
        Ok(Value::Vector(vector)) => Ok(vector.into_iter().map(|s| (s.labels, s.value)).collect()),
        Ok(Value::Scalar(value)) => Ok(vec![(Labels::empty(), value)]),
        Ok(_) => Err("rule result is not a vector or scalar".to_string()),
        Err(e) => Err(e.to_string()),
    }
}

/// Replaces or removes (empty value) labels, as `labels.Builder.Set` does.
fn set_labels(labels: &Labels, changes: &[(String, String)]) -> Labels {
    let mut map: BTreeMap<String, String> = labels.pairs().iter().cloned().collect();
    for (name, value) in changes {
        if value.is_empty() {
            map.remove(name);
        } else {
            map.insert(name.clone(), value.clone());
        }
    }
    Labels::from_pairs(map)
}

fn eval_recording(
    rule: &Rule,
    name: &str,
    vector: Vec<(Labels, f64)>,
    limit: usize,
) -> Result<Vec<(Labels, f64)>, String> {
    let mut changes = vec![(METRIC_NAME.to_string(), name.to_string())];
    changes.extend(rule.labels.iter().map(|(k, v)| (k.clone(), v.clone())));
    let mut seen = BTreeSet::new();
    let mut output = Vec::with_capacity(vector.len());
    for (labels, value) in vector {
        let labels = set_labels(&labels, &changes);
        if !seen.insert(labels.clone()) {
            return Err(
                "vector contains metrics with the same labelset after applying rule labels"
                    .to_string(),
            );
        }
        output.push((labels, value));
    }
    if limit > 0 && output.len() > limit {
        return Err(format!(
            "exceeded limit of {limit} with {} series",
            output.len()
        ));
    }
    Ok(output)
}

/// The `query` template function: an instant query at the evaluation time.
fn template_query(
    storage: &Storage,
    query: &str,
    ts: i64,
    context: &EvalContext,
) -> Result<Vec<gotemplate::Sample>, String> {
    let expr = parse_query(query, context.options.semantics).map_err(|e| e.to_string())?;
    let value =
        instant_query_expr(storage, &expr, ts, &context.options).map_err(|e| e.to_string())?;
    let to_map = |labels: &Labels| labels.pairs().iter().cloned().collect::<BTreeMap<_, _>>();
    match value {
        Value::Vector(vector) => Ok(vector
            .iter()
            .map(|s| gotemplate::Sample {
                labels: to_map(&s.labels),
                value: s.value,
            })
            .collect()),
        Value::Scalar(value) => Ok(vec![gotemplate::Sample {
            labels: BTreeMap::new(),
            value,
        }]),
        _ => Err("rule result is not a vector or scalar".to_string()),
    }
}

#[allow(clippy::too_many_arguments)]
fn eval_alerting(
    rule: &Rule,
    vector: Vec<(Labels, f64)>,
    active: &mut BTreeMap<Labels, Alert>,
    storage: &Storage,
    eval_ts: i64,
    ts: i64,
    limit: usize,
    context: &EvalContext,
) -> Result<Vec<(Labels, f64)>, String> {
    let RuleKind::Alerting {
        name,
        for_ms,
        keep_firing_for_ms,
        label_templates,
        annotation_templates,
        ..
    } = &rule.kind
    else {
        return Err("not an alerting rule".to_string());
    };
    let query_fn = |query: &str| template_query(storage, query, eval_ts, context);
    let env = Env {
        query: Some(&query_fn),
        external_url: context.external_url.clone(),
    };
    let mut fresh: BTreeMap<Labels, Alert> = BTreeMap::new();
    for (series_labels, value) in vector {
        let data = AlertData {
            labels: series_labels.pairs().iter().cloned().collect(),
            external_labels: context.external_labels.clone(),
            external_url: context.external_url.clone().unwrap_or_default(),
            value,
        };
        let expand = |templates: &BTreeMap<String, AlertTemplate>| {
            templates
                .iter()
                .map(|(k, t)| (k.clone(), t.expand(&data, &env)))
                .collect::<Vec<_>>()
        };
        let mut changes = vec![(METRIC_NAME.to_string(), String::new())];
        changes.extend(expand(label_templates));
        changes.push(("alertname".to_string(), name.clone()));
        let labels = set_labels(&series_labels, &changes);
        let annotations = expand(annotation_templates).into_iter().collect();
        if fresh.contains_key(&labels) {
            return Err(
                "vector contains metrics with the same labelset after applying alert labels"
                    .to_string(),
            );
        }
        fresh.insert(
            labels.clone(),
            Alert {
                labels,
                annotations,
                state: AlertState::Pending,
                value,
                active_at_ms: ts,
                fired_at_ms: None,
                resolved_at_ms: None,
                keep_firing_since_ms: None,
            },
        );
    }
    for (labels, alert) in &fresh {
        match active.get_mut(labels) {
            Some(existing) if existing.state != AlertState::Inactive => {
                existing.value = alert.value;
                existing.annotations = alert.annotations.clone();
            }
            _ => {
                active.insert(labels.clone(), alert.clone());
            }
        }
    }
    let unexpanded_rule_labels: BTreeMap<String, String> = rule
        .labels
        .iter()
        .filter(|(_, value)| !value.is_empty())
        .map(|(name, value)| (name.clone(), value.clone()))
        .collect();
    let mut output = Vec::new();
    let mut active_pending = 0usize;
    let mut delete = Vec::new();
    for (labels, alert) in active.iter_mut() {
        if !fresh.contains_key(labels) {
            let mut keep_firing = false;
            if alert.state == AlertState::Firing && *keep_firing_for_ms > 0 {
                let since = *alert.keep_firing_since_ms.get_or_insert(ts);
                keep_firing = ts - since < *keep_firing_for_ms;
            }
            if alert.state == AlertState::Pending
                || alert
                    .resolved_at_ms
                    .is_some_and(|resolved| ts - resolved > RESOLVED_RETENTION_MS)
            {
                delete.push(labels.clone());
            }
            if alert.state != AlertState::Inactive && !keep_firing {
                alert.state = AlertState::Inactive;
                alert.resolved_at_ms = Some(ts);
            }
            if !keep_firing {
                continue;
            }
        } else {
            alert.keep_firing_since_ms = None;
        }
        active_pending += 1;
        if alert.state == AlertState::Pending && ts - alert.active_at_ms >= *for_ms {
            alert.state = AlertState::Firing;
            alert.fired_at_ms = Some(ts);
        }
        // Prometheus builds both series from the rule's labels as written and then
        // sets the alert's: a label template that expanded to nothing keeps its text.
        let mut series_labels = unexpanded_rule_labels.clone();
        series_labels.extend(alert.labels.pairs().iter().cloned());
        let alert_series_labels = Labels::from_pairs(series_labels);
        output.push((
            set_labels(
                &alert_series_labels,
                &[
                    (METRIC_NAME.to_string(), ALERTS_METRIC.to_string()),
                    ("alertstate".to_string(), alert.state.as_str().to_string()),
                ],
            ),
            1.0,
        ));
        output.push((
            set_labels(
                &alert_series_labels,
                &[(METRIC_NAME.to_string(), ALERTS_FOR_STATE_METRIC.to_string())],
            ),
            (alert.active_at_ms.div_euclid(1000)) as f64,
        ));
    }
    for labels in delete {
        active.remove(&labels);
    }
    if limit > 0 && active_pending > limit {
        active.clear();
        return Err(format!(
            "exceeded limit of {limit} with {active_pending} alerts"
        ));
    }
    Ok(output)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prometheus::ruler::{load_rule_file, RuleFileOptions};

    fn run(rules: &str, series: &[(&str, &[f64])], steps: i64) -> (Storage, GroupEvaluator) {
        let mut groups =
            load_rule_file("r.yml", rules, RuleFileOptions::default()).expect("valid rules");
        let mut storage = Storage::new();
        for (text, values) in series {
            let (labels, _) =
                crate::prometheus::promql::notation::parse_labels_prefix(text).expect("labels");
            for (i, v) in values.iter().enumerate() {
                storage.append(&labels, i as i64 * 60_000, *v);
            }
        }
        let mut evaluator = GroupEvaluator::new(groups.remove(0));
        for step in 0..steps {
            let errors = evaluator.evaluate(&mut storage, step * 60_000, &EvalContext::default());
            assert!(errors.is_empty(), "{errors:?}");
        }
        (storage, evaluator)
    }

    #[test]
    fn alert_goes_pending_firing_inactive() {
        let rules = "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: x > 0\n        for: 2m\n";
        let (mut storage, evaluator) = run(rules, &[("x", &[1.0, 1.0, 1.0, 1.0, 0.0])], 5);
        let alert = evaluator
            .alerts(0)
            .next()
            .expect("alert retained as resolved");
        assert_eq!(alert.state, AlertState::Inactive);
        assert_eq!(alert.fired_at_ms, Some(120_000));
        let (labels, _) = crate::prometheus::promql::notation::parse_labels_prefix(
            r#"ALERTS{alertname="A",alertstate="firing"}"#,
        )
        .expect("labels");
        let id = storage.series_id(&labels);
        let series = storage.series(id);
        assert_eq!(series.timestamps, vec![120_000, 180_000, 240_000]);
        assert!(crate::prometheus::promql::value::is_stale_nan(
            series.values[2]
        ));
    }

    #[test]
    fn keep_firing_for_holds_the_alert() {
        let rules = "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: x > 0\n        keep_firing_for: 2m\n";
        let (_, evaluator) = run(rules, &[("x", &[1.0, 0.0, 0.0, 0.0])], 3);
        assert_eq!(
            evaluator.alerts(0).next().map(|a| a.state),
            Some(AlertState::Firing)
        );
        let (_, evaluator) = run(rules, &[("x", &[1.0, 0.0, 0.0, 0.0])], 4);
        assert_eq!(
            evaluator.alerts(0).next().map(|a| a.state),
            Some(AlertState::Inactive)
        );
    }

    #[test]
    fn recorded_series_are_visible_to_later_rules() {
        let rules = "groups:\n  - name: g\n    rules:\n      - record: y\n        expr: x * 2\n      - record: z\n        expr: y + 1\n";
        let (storage, _) = run(rules, &[("x", &[1.0, 2.0])], 2);
        let value = crate::prometheus::promql::instant_query(
            &storage,
            "z",
            60_000,
            &EvalOptions::default(),
        )
        .expect("query");
        assert!(matches!(value, Value::Vector(v) if v[0].value == 5.0));
    }

    #[test]
    fn range_plans_record_exactly_what_instant_queries_record() {
        let rules = "groups:\n  - name: g\n    rules:\n      - record: r\n        expr: sum by (job) (rate(x[3m]))\n      - record: p\n        expr: predict_linear(x[4m], 60) > 3\n      - alert: A\n        expr: x > 4\n        for: 1m\n      - record: s\n        expr: scalar(sum(x))\n      - record: m\n        expr: x * 1\n";
        // Out of label order, so that the recorded `m` series are created in query order.
        let series: [(&str, &[f64]); 2] = [
            (
                r#"x{job="a",i="2"}"#,
                &[5.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0],
            ),
            (
                r#"x{job="a",i="1"}"#,
                &[1.0, 2.0, 4.0, f64::NAN, 7.0, 9.0, 9.0, 1.0, 2.0, 3.0],
            ),
        ];
        let (mut plain, _) = run(rules, &series, 10);
        let mut groups =
            load_rule_file("r.yml", rules, RuleFileOptions::default()).expect("valid rules");
        let mut storage = Storage::new();
        for (text, values) in series {
            let (labels, _) =
                crate::prometheus::promql::notation::parse_labels_prefix(text).expect("labels");
            for (i, v) in values.iter().enumerate() {
                storage.append(&labels, i as i64 * 60_000, *v);
            }
        }
        let mut evaluator = GroupEvaluator::new(groups.remove(0));
        let written = ["r", "p", "s", "m", "ALERTS", "ALERTS_FOR_STATE"]
            .map(String::from)
            .into();
        let input = Arc::new(storage.clone());
        evaluator.plan_range_evaluation(&input, &written, 60_000, 9 * 60_000);
        assert!(evaluator.range_plans.iter().all(Option::is_some));
        for step in 0..10 {
            assert!(evaluator
                .evaluate(&mut storage, step * 60_000, &EvalContext::default())
                .is_empty());
        }
        assert_eq!(plain.len(), storage.len());
        for id in 0..storage.len() {
            let ours = storage.series(id);
            let theirs_id = plain.series_id(&ours.labels.clone());
            assert_eq!(theirs_id, id, "{} is created at the same rank", ours.labels);
            let theirs = plain.series(theirs_id);
            assert_eq!(ours.timestamps, theirs.timestamps, "{}", ours.labels);
            let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&ours.values), bits(&theirs.values), "{}", ours.labels);
        }
    }
}
