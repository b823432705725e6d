//! `mlslo backtest`: rule groups evaluated over recorded history with the same
//! evaluator as `mlslo test` (no second state machine), summarised per alert as
//! firings, firing time and pending intervals, per firing as the receivers an
//! Alertmanager would page after inhibition and the notifications it would send
//! (replayed with its grouping and timers), per objective as the share of its
//! window's error budget spent, and per forecast as its lead on the breach it
//! predicts; for the HTML report's charts, each burn-rate alert's windows and each
//! other alert's compared values with the thresholds its expression names.
//!
//! The library's way in is [`backtest`] (`.slo` sources and recorded data in, a
//! [`Report`] out) or, for a caller with work to do between reading the rules and
//! running them, the same in stages: a [`RuleSet`] gathers rule files and `.slo`
//! sources, [`RuleSet::finish`] gives a [`Backtest`], and [`Backtest::run`] replays it
//! over a [`Dataset`]. Between the two a caller may pull the history the rules read
//! from a server ([`Backtest::plan_fetch`], then [`fetch::fetch`] through a
//! [`crate::prometheus::http_api::PrometheusApi`] it implements).
//!
//! Invariants: pure (the CLI reads files, talks to servers and prints); every group
//! is evaluated at each multiple of its own interval from the start, groups in
//! input order at one timestamp, as `mlslo test` does; output is sorted (alert
//! name, then labels) so the table and JSON are byte-for-byte stable; an error is
//! the one line (or the rendered diagnostics) the command prints after `error: `,
//! and names the file or the command-line flag it comes from.

pub mod compare;
pub mod data;
pub mod fetch;
pub mod html;
pub mod scores;

pub use data::Dataset;
pub use html::render_html;

use std::collections::BTreeMap;

use serde::Serialize;

use crate::base::diagnostic::{Diagnostic, SourceMap};
use crate::compiler::ir::naming::{self, LABEL_SERVICE, LABEL_SLO};
use crate::prometheus::alertmanager::dispatch::{self, AlertTimeline};
use crate::prometheus::alertmanager::{config::Config, route_alerts, PostableAlert};
use crate::prometheus::model::duration::{format_model_duration, parse_model_duration};
use crate::prometheus::promql::storage::StoredSeries;
use crate::prometheus::promql::{EvalOptions, Labels, Semantics};
use crate::prometheus::ruler::group::AlertState;
use crate::prometheus::ruler::{
    load_rule_file, EvalContext, GroupEvaluator, GroupFields, RuleFileOptions, RuleGroup, RuleKind,
};

/// Backtests `.slo` sources over recorded data in one call: every file of `sources`
/// is compiled as `mlslo build` would (in memory), `data_files` are read as `(name,
/// text)` pairs whose name tells the format ([`Dataset::add_file`]), and firings are
/// routed by the Alertmanager configuration generated from the sources' routing
/// unless `options` gives another one.
///
/// ```
/// use mlslo::base::diagnostic::SourceMap;
///
/// let mut sources = SourceMap::new();
/// sources.add("shop.slo", r#"
/// service "shop" {
///   team = "web"
///   availability "checkout" {
///     errors    = http_requests_total{code="500"}
///     total     = http_requests_total
///     objective = 99%
///   }
/// }
/// "#);
/// // Two clean hours, then one request in five fails: twenty times the budget's rate.
/// let series = r#"
/// start: 2026-11-01T00:00:00Z
/// interval: 1m
/// http_requests_total{code="200"} 0+100x180
/// http_requests_total{code="500"} 0x119 0+25x60
/// "#;
/// let report = mlslo::backtest(
///     &sources,
///     &[("shop.series", series)],
///     &mlslo::BacktestOptions::default(),
/// )
/// .unwrap();
/// let page = report
///     .alerts
///     .iter()
///     .find(|alert| alert.labels["severity"] == "page")
///     .expect("the fast burn pages");
/// assert_eq!(page.alertname, "ErrorBudgetBurn");
/// assert_eq!(page.firings, 1);
/// // It pages once the last hour as a whole has burnt the budget 14.4 times too fast.
/// assert_eq!(
///     mlslo::tools::backtest::format_time(page.firing[0].start_ms),
///     "2026-11-01T02:41:00Z"
/// );
/// assert_eq!(page.pages[0].receivers, ["mlslo-default"]);
/// ```
pub fn backtest(
    sources: &SourceMap,
    data_files: &[(&str, &str)],
    options: &BacktestOptions,
) -> Result<Report, String> {
    let mut rules = RuleSet::default();
    let every_file: Vec<usize> = (0..sources.files().len()).collect();
    rules.add_slo_sources(sources, &every_file, Vec::new())?;
    let backtest = rules.finish()?;
    let mut dataset = Dataset::default();
    for (name, text) in data_files {
        dataset.add_file(name, text)?;
    }
    backtest.run(&dataset, options, &mut |_, _| {})
}

/// The rules of a backtest, gathered file by file in the order the caller reads
/// them, so that the first bad file is the one reported: Prometheus rule files as
/// they are, `.slo` sources compiled in memory. [`RuleSet::finish`] ends the
/// gathering.
#[derive(Debug, Default)]
pub struct RuleSet {
    groups: Vec<RuleGroup>,
    /// The Alertmanager configuration generated from the `.slo` sources, if any.
    generated_alertmanager: Option<String>,
    /// The `group_by` labels of each grouped objective of the `.slo` sources.
    grouped_by: GroupedBy,
}

/// The group labels of grouped objectives, per (service, slo).
type GroupedBy = BTreeMap<(String, String), Vec<String>>;

impl RuleSet {
    /// Adds the groups of one Prometheus rule file, read as [`RULE_FILE_OPTIONS`]
    /// says; `name` is the file's name in messages.
    pub fn add_rule_file(&mut self, name: &str, text: &str) -> Result<(), String> {
        let groups =
            load_rule_file(name, text, RULE_FILE_OPTIONS).map_err(|errors| errors.join("\n"))?;
        self.groups.extend(groups);
        Ok(())
    }

    /// Compiles the files of `sources` at `file_indices` together, as `mlslo build`
    /// would, and adds the rule groups generated from them; the Alertmanager
    /// configuration generated from their routing becomes the default for routing
    /// firings. Give every `.slo` file in one call: services and the routing block
    /// are checked as one program, and a second call replaces the generated
    /// Alertmanager configuration.
    ///
    /// `earlier` are diagnostics the caller found before parsing (the CLI's files
    /// that are not text, which are left out of `file_indices`). They are shown with
    /// the errors of the check, but do not stop the backtest on their own.
    pub fn add_slo_sources(
        &mut self,
        sources: &SourceMap,
        file_indices: &[usize],
        earlier: Vec<Diagnostic>,
    ) -> Result<(), String> {
        let (program, mut diagnostics) = crate::compiler::check_files(sources, file_indices);
        diagnostics.extend(earlier);
        let Some(mut program) = program else {
            return Err(format!(
                "the .slo files have errors:\n{}",
                crate::base::render::render_human(sources, &diagnostics, false)
            ));
        };
        // The alerts on the monitoring path watch Prometheus' and Alertmanager's own
        // metrics and `up`, which a recorded history of the objectives' series does
        // not hold: replayed, they would only report the recording's gaps.
        program.monitoring = crate::compiler::ir::Monitoring::all_off();
        for (name, text) in &crate::compiler::emit::rule_files(&program, sources) {
            self.add_rule_file(name, text)?;
        }
        self.generated_alertmanager =
            crate::compiler::emit::alertmanager_configuration(&program, sources);
        for service in &program.services {
            for objective in service.objectives.iter().filter(|o| o.is_grouped()) {
                self.grouped_by.insert(
                    (service.name.clone(), objective.name.clone()),
                    objective.group_by.clone(),
                );
            }
        }
        Ok(())
    }

    /// The rules gathered, ready to run; an error when there is no rule group at
    /// all, since a backtest of nothing is a mistake in the command.
    pub fn finish(self) -> Result<Backtest, String> {
        if self.groups.is_empty() {
            return Err("no rule groups in the given rules".into());
        }
        Ok(Backtest {
            groups: self.groups,
            generated_alertmanager: self.generated_alertmanager,
            grouped_by: self.grouped_by,
        })
    }
}

/// Rules ready to replay over recorded data: a backtest between its two stages,
/// as [`crate::compiler::Compilation`] is a compilation between its two. The rules come
/// first because they decide what data is needed ([`Backtest::plan_fetch`]).
#[derive(Clone, Debug)]
pub struct Backtest {
    groups: Vec<RuleGroup>,
    generated_alertmanager: Option<String>,
    grouped_by: GroupedBy,
}

impl Backtest {
    /// What to pull from a Prometheus-compatible server to replay these rules from
    /// `start_ms` to `end_ms`: `chunk` is the time span of one request as a
    /// Prometheus duration (`--chunk`), `concurrency` the requests in flight at once
    /// (`--concurrency`). Both are checked here, before any connection is made.
    pub fn plan_fetch(
        &self,
        start_ms: i64,
        end_ms: i64,
        chunk: &str,
        concurrency: usize,
    ) -> Result<fetch::FetchPlan, String> {
        let chunk_ms = parse_positive_duration("--chunk", chunk)?;
        if concurrency == 0 {
            return Err("--concurrency must be at least 1".into());
        }
        Ok(fetch::plan_fetch(
            &self.groups,
            start_ms,
            end_ms,
            chunk_ms,
            concurrency,
        ))
    }

    /// Replays the rules over `dataset` as `options` say; `progress` is called with
    /// (done, total) evaluation timestamps. The options are checked in the order the
    /// command line reports them: the time range, the step, the Alertmanager
    /// configuration.
    pub fn run(
        &self,
        dataset: &Dataset,
        options: &BacktestOptions,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<Report, String> {
        let (start_ms, end_ms) = resolve_range(options.start_and_end_ms()?, dataset.extent_ms())?;
        let step_override_ms = options
            .step
            .map(|text| parse_positive_duration("--step", text))
            .transpose()?;
        let alertmanager_text = options.alertmanager_config.or_else(|| {
            self.generated_alertmanager
                .as_deref()
                .map(|text| ("generated alertmanager.yml", text))
        });
        let config = match alertmanager_text {
            Some((name, text)) => Some(
                crate::prometheus::alertmanager::config::load(text)
                    .map_err(|e| format!("{name}: {e}"))?,
            ),
            None => None,
        };
        let schedule = Schedule {
            start_ms,
            end_ms,
            default_interval_ms: DEFAULT_INTERVAL_MS,
            step_override_ms,
        };
        let max_steps = options.max_steps.unwrap_or(DEFAULT_MAX_STEPS);
        let steps = schedule.steps(&schedule.intervals(&self.groups));
        if steps > max_steps {
            return Err(format!(
                "the backtest would evaluate the rules at {steps} timestamps from {} to {}, \
                 more than the {max_steps} of --max-steps; give a shorter --start/--end range \
                 or a larger --step, or raise --max-steps",
                format_time(start_ms),
                format_time(end_ms),
            ));
        }
        let labelled = options
            .incidents
            .map(|(name, text)| Ok::<_, String>((name, scores::parse_incidents(name, text)?)))
            .transpose()?;
        let mut report = evaluate(
            &self.groups,
            &self.grouped_by,
            dataset,
            &schedule,
            config.as_ref(),
            progress,
        )?;
        report.scores = score_report(&report, labelled);
        Ok(report)
    }

    /// What a fetch would warn of, for recorded data: each selector the rules read
    /// that matches no series of `dataset`, or whose series hold fewer samples than
    /// one per 5m over the range `options` gives ([`fetch::dataset_warnings`]).
    pub fn data_warnings(
        &self,
        dataset: &Dataset,
        options: &BacktestOptions,
    ) -> Result<Vec<String>, String> {
        let (start_ms, end_ms) = resolve_range(options.start_and_end_ms()?, dataset.extent_ms())?;
        let plan = fetch::plan_fetch(&self.groups, start_ms, end_ms, end_ms - start_ms + 1, 1);
        Ok(fetch::dataset_warnings(&plan, dataset, start_ms, end_ms))
    }

    /// These rules and `other`'s as one set, for a fetch plan that pulls what
    /// either reads before a [`Backtest::compare`] of the two.
    pub fn together_with(&self, other: &Backtest) -> Backtest {
        let mut both = self.clone();
        both.groups.extend(other.groups.iter().cloned());
        both
    }

    /// Replays these rules (named `base_rules` in the output) and `other`
    /// (`other_rules`) over `dataset`, both routed by the same Alertmanager
    /// configuration (the one `options` gives, else the one generated from these
    /// rules' `.slo` sources, else `other`'s) and scored against the same incidents
    /// (the file `options` gives, else those inferred from these rules' SLIs, since
    /// `other` may record none or name them otherwise).
    pub fn compare(
        &self,
        other: &Backtest,
        (base_rules, other_rules): (&str, &str),
        dataset: &Dataset,
        options: &BacktestOptions,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<compare::Comparison, String> {
        let base = self.run(dataset, options, progress)?;
        let routing = options.alertmanager_config.or_else(|| {
            self.generated_alertmanager
                .as_deref()
                .map(|text| ("the alertmanager.yml generated from the first rules", text))
        });
        let other_options = BacktestOptions {
            alertmanager_config: routing,
            ..*options
        };
        let mut compared = other.run(dataset, &other_options, progress)?;
        if let (Some(base_scores), None) = (&base.scores, options.incidents) {
            let incidents: Vec<scores::Incident> = base_scores
                .incidents
                .iter()
                .map(|scored| scored.incident.clone())
                .collect();
            let scored: Vec<ObjectiveKey> = base_scores
                .objectives
                .iter()
                .map(|objective| objective.objective.clone())
                .collect();
            compared.scores = Some(scores::score(
                &compared.alerts,
                &incidents,
                &scored,
                base_scores.source.clone(),
                (compared.start_ms, compared.end_ms),
            ));
        }
        Ok(compare::compare(base, compared, base_rules, other_rules))
    }
}

/// When to evaluate and where firings go, as text the way `mlslo backtest` takes
/// its flags, so that every caller gets the same checks and the same messages (which
/// name the flags). The default evaluates from the data's first sample to its last,
/// each group at its own interval, and routes with the generated configuration.
#[derive(Clone, Copy, Debug, Default)]
pub struct BacktestOptions<'a> {
    /// First evaluation (`--start`): unix seconds or RFC 3339; `None` for the
    /// data's first sample.
    pub start: Option<&'a str>,
    /// Last evaluation (`--end`), inclusive: unix seconds or RFC 3339; `None` for
    /// the data's last sample.
    pub end: Option<&'a str>,
    /// Evaluate every group at this interval (`--step`, a Prometheus duration)
    /// instead of its own `interval` (or [`DEFAULT_INTERVAL_MS`]).
    pub step: Option<&'a str>,
    /// The Alertmanager configuration that routes firings (`--alertmanager-config`),
    /// as (name in messages, text); `None` for the one generated from the `.slo`
    /// routing, and no routing for rule files alone.
    pub alertmanager_config: Option<(&'a str, &'a str)>,
    /// The most evaluation timestamps a run may take (`--max-steps`); `None` for
    /// [`DEFAULT_MAX_STEPS`].
    pub max_steps: Option<u64>,
    /// Labelled incident windows (`--incidents`), as (name in messages, YAML text),
    /// for the alert-quality scores; `None` to infer them from the SLIs
    /// ([`scores::infer_incidents`]).
    pub incidents: Option<(&'a str, &'a str)>,
}

impl BacktestOptions<'_> {
    /// `start` and `end` in milliseconds, where given. A caller that fetches history
    /// needs them before the data is complete; [`Backtest::run`] reads them again.
    pub fn start_and_end_ms(&self) -> Result<(Option<i64>, Option<i64>), String> {
        let time = |flag: &str, text: Option<&str>| -> Result<Option<i64>, String> {
            text.map(|text| data::parse_time_ms(text).map_err(|e| format!("{flag}: {e}")))
                .transpose()
        };
        Ok((time("--start", self.start)?, time("--end", self.end)?))
    }
}

/// The most evaluation timestamps of one run unless `--max-steps` says otherwise: a year
/// at one-minute steps fits, while two samples decades apart, or `--step 1ms`, are refused
/// up front instead of running for days.
pub const DEFAULT_MAX_STEPS: u64 = 1_000_000;

/// The evaluation interval of a group without its own `interval` and without
/// `--step`: Prometheus' default `evaluation_interval`.
pub const DEFAULT_INTERVAL_MS: i64 = 60_000;

/// How backtest reads rule files: as promtool 2.42 does, except that the group fields of
/// newer servers (`query_offset`, group `labels`) are accepted, since the rules replayed
/// are often those of a production server that is newer than 2.42.
pub const RULE_FILE_OPTIONS: RuleFileOptions = RuleFileOptions {
    semantics: Semantics::V2,
    group_fields: GroupFields::Prometheus3,
};

/// The time interval `[start_ms, end_ms)` an alert spent in one state; `open` when
/// the state still lasted at the end of the range.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Interval {
    pub start_ms: i64,
    pub end_ms: i64,
    pub open: bool,
}

/// Where one firing would have been sent: routed when it starts, then replayed
/// through Alertmanager's grouping, timers and inhibition
/// ([`crate::prometheus::alertmanager::dispatch`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Page {
    /// The receivers its routes name.
    pub receivers: Vec<String>,
    /// The `alertname` of the alert that inhibits this one when it starts, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inhibited_by: Option<String>,
    /// When the first notification carrying it as firing was sent; `None` when none
    /// was (muted throughout, or over before its group's first flush).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notified_ms: Option<i64>,
    /// The notifications (to all its receivers) that carry it as firing.
    pub notifications: usize,
}

/// What one receiver got over the range.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ReceiverNotifications {
    pub receiver: String,
    /// Notifications carrying at least one firing alert.
    pub notifications: usize,
    /// Notifications of resolved alerts alone, which reach only the receiver's
    /// integrations that send resolved notifications.
    pub resolved: usize,
}

/// The history of one alert (one label set of one alerting rule).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AlertHistory {
    pub alertname: String,
    pub labels: BTreeMap<String, String>,
    /// The objective, or the objective's group, the alert belongs to (from its
    /// labels); its fields are in `labels` already, so JSON leaves it out.
    #[serde(skip)]
    pub objective: ObjectiveKey,
    pub firings: usize,
    pub firing_ms: i64,
    pub pending: Vec<Interval>,
    pub firing: Vec<Interval>,
    /// One per firing interval, when an Alertmanager configuration was given.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub pages: Vec<Page>,
}

/// One objective, or one group of a grouped objective (`group_by`): what budgets,
/// error ratios and forecasts are reported per, so that one model's budget or
/// forecast is never mixed with another's.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct ObjectiveKey {
    pub service: String,
    pub slo: String,
    /// The group's labels; empty for an objective without groups.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub group: BTreeMap<String, String>,
}

impl ObjectiveKey {
    /// The objective of a series or alert with these labels, its group read from
    /// the labels `grouped_by` names for its objective.
    ///
    /// Alerts of Sloth's rules name their objective with Sloth's labels, read when
    /// mlslo's are absent, so that `--compare` scores them against the same incidents.
    fn of(labels: &BTreeMap<String, String>, grouped_by: &GroupedBy) -> ObjectiveKey {
        let label = |name: &str| labels.get(name).cloned().unwrap_or_default();
        let (mut service, mut slo) = (label(LABEL_SERVICE), label(LABEL_SLO));
        if service.is_empty() && slo.is_empty() {
            service = label(naming::LABEL_SLOTH_SERVICE);
            slo = label(naming::LABEL_SLOTH_SLO);
        }
        let group = grouped_by
            .get(&(service.clone(), slo.clone()))
            .into_iter()
            .flatten()
            .filter_map(|name| Some((name.clone(), labels.get(name)?.clone())))
            .collect();
        ObjectiveKey {
            service,
            slo,
            group,
        }
    }
}

/// `service/slo`, and `{model=ranker}` after it for a group.
impl std::fmt::Display for ObjectiveKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.service, self.slo)?;
        if !self.group.is_empty() {
            let pairs: Vec<String> = self.group.iter().map(|(k, v)| format!("{k}={v}")).collect();
            write!(f, "{{{}}}", pairs.join(","))?;
        }
        Ok(())
    }
}

/// The group labels of every grouped objective: the `group_by` of the `.slo`
/// sources, and for rule files the labels the objective's recorded series carry
/// beside `service` and `slo` (the generated rules record `sum by (group labels)`
/// with only the identity labels added).
fn group_labels_of_objectives(
    storage: &crate::prometheus::promql::Storage,
    declared: &GroupedBy,
) -> GroupedBy {
    let mut found: BTreeMap<(String, String), std::collections::BTreeSet<String>> = BTreeMap::new();
    for id in 0..storage.len() {
        let labels = &storage.series(id).labels;
        if !naming::is_per_group_sli_series(labels.metric_name()) {
            continue;
        }
        let (service, slo) = (labels.get(LABEL_SERVICE), labels.get(LABEL_SLO));
        if service.is_empty() || slo.is_empty() {
            continue;
        }
        let names = found
            .entry((service.to_string(), slo.to_string()))
            .or_default();
        for (name, _) in labels.pairs() {
            if !matches!(name.as_str(), "__name__" | LABEL_SERVICE | LABEL_SLO) {
                names.insert(name.clone());
            }
        }
    }
    let mut grouped_by: GroupedBy = found
        .into_iter()
        .filter(|(_, names)| !names.is_empty())
        .map(|(key, names)| (key, names.into_iter().collect()))
        .collect();
    for (key, names) in declared {
        grouped_by.insert(key.clone(), names.clone());
    }
    grouped_by
}

/// The error budget of one objective or group: the share of the budget of its
/// objective window that the errors of the range used, from the
/// [`naming::SLO_PERIOD_BURN_RATE`] and [`naming::SLO_TIME_PERIOD_DAYS`] series the
/// generated rules record.
///
/// The budget of a window `W` is `budget ratio × events over W`, and the range's
/// errors spend `errors in range / (budget ratio × events over W)` of it. The
/// recorded period burn rate is `errors / (budget ratio × events)` over the history
/// the window holds, which is the range (the rules are evaluated from its start). When
/// the range covers `W` that is the share itself. When it is shorter, the events of
/// the rest of the window are unknown: the share assumes the window held no other
/// errors and the range's traffic rate throughout, which scales the burn rate by
/// `history / W` (`full_window` false says this assumption was made).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Budget {
    #[serde(flatten)]
    pub objective: ObjectiveKey,
    /// The share of the window's budget the range's errors spent, in percent, at the
    /// last evaluation.
    pub spent_percent: f64,
    /// The objective window, as written (`30d`).
    pub window: String,
    /// How much of the window the range covered at the last evaluation.
    pub history_ms: i64,
    /// Whether the range covered the whole window (no assumption about the rest).
    pub full_window: bool,
    /// The average burn rate over that history: errors per event in units of the
    /// budget ratio (1 spends the budget exactly over the window).
    pub burn_rate: f64,
    /// (timestamp ms, spent %) at each evaluation, for charts.
    #[serde(skip)]
    pub points: Vec<(i64, f64)>,
}

/// One objective's error ratio at [`naming::CHAINED_RATE_WINDOW`] over the range and
/// its error budget ratio.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ErrorRatio {
    pub points: Vec<(i64, f64)>,
    pub budget: Option<f64>,
}

/// How one firing of a forecast alert turned out against its threshold alert.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ForecastOutcome {
    pub forecast: String,
    pub threshold: String,
    #[serde(flatten)]
    pub objective: ObjectiveKey,
    /// `lead`: the threshold alert fired `lead_ms` after the forecast did;
    /// `false_alarm`: it did not fire before the next forecast or the end;
    /// `missed`: the threshold alert fired with no forecast ahead of it.
    pub outcome: String,
    pub at_ms: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lead_ms: Option<i64>,
}

/// One burn-rate alert of an objective or group (an alerting rule with a window
/// pair), for charts: each series its expression compares with a constant, and that
/// constant as the expression computes it, so the chart shows the rule's own
/// thresholds, from generated rules and hand-written ones alike.
#[derive(Clone, Debug, PartialEq)]
pub struct BurnWindows {
    pub alertname: String,
    pub long_window: String,
    pub short_window: String,
    /// Empty when the rule has no severity label.
    pub severity: String,
    /// In the order the expression compares them.
    pub lines: Vec<BurnLine>,
}

/// One comparison of a burn-rate alert: `series > threshold`.
#[derive(Clone, Debug, PartialEq)]
pub struct BurnLine {
    pub series: String,
    pub threshold: f64,
    /// (timestamp ms, value) over the range.
    pub points: Vec<(i64, f64)>,
}

/// One `expression > constant` (or `<`, `>=`, `<=`) of an alert without a window
/// pair, evaluated over the range: what a drift, GPU or freshness alert watches, and
/// what its forecast predicts, against the threshold the rule names.
#[derive(Clone, Debug, PartialEq)]
pub struct ValueComparison {
    pub alertname: String,
    /// The compared expression, as PromQL prints it.
    pub expression: String,
    /// `>`, `>=`, `<` or `<=`.
    pub operator: String,
    pub threshold: f64,
    /// Per series of the expression (at most [`MAX_VALUE_SERIES`]): its labels as
    /// text and its (timestamp ms, value) points.
    pub series: Vec<ValueSeries>,
}

/// One series of a compared expression: its labels as text and its (timestamp ms,
/// value) points.
pub type ValueSeries = (String, Vec<(i64, f64)>);

/// The most series of one compared expression a chart draws.
pub const MAX_VALUE_SERIES: usize = 8;

/// The most evaluations of one compared expression for a chart: the range is
/// sampled at a coarser step when it holds more.
const MAX_VALUE_STEPS: i64 = 600;

/// The result of one backtest.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Report {
    pub start_ms: i64,
    pub end_ms: i64,
    pub evaluations: usize,
    pub alerts: Vec<AlertHistory>,
    pub budgets: Vec<Budget>,
    pub forecasts: Vec<ForecastOutcome>,
    /// Per receiver, in name order, when an Alertmanager configuration routes the
    /// alerts.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notifications: Vec<ReceiverNotifications>,
    /// Per objective or group: the recorded error ratio at
    /// [`naming::CHAINED_RATE_WINDOW`], for charts.
    #[serde(skip)]
    pub error_ratios: BTreeMap<ObjectiveKey, ErrorRatio>,
    /// Per objective or group: the window pairs of its burn-rate alerts, highest
    /// threshold first, for charts.
    #[serde(skip)]
    pub burn_windows: BTreeMap<ObjectiveKey, Vec<BurnWindows>>,
    /// Per objective or group: the values its other alerts compare with a constant
    /// (drift scores, memory used, data age, forecasts of them), for charts.
    #[serde(skip)]
    pub value_comparisons: BTreeMap<ObjectiveKey, Vec<ValueComparison>>,
    /// `rule: message` per failed rule evaluation (first 20).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub rule_errors: Vec<String>,
    /// Alert-quality scores against labelled or inferred incidents; `None` when
    /// incidents were inferred and no objective records an error ratio.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scores: Option<scores::Scores>,
}

/// The alert-quality scores of `report`: against `labelled` incidents (file name,
/// incidents), every objective with an alert or an incident is scored, the file
/// being the whole truth about the range; without them, incidents are inferred from
/// the recorded error ratios, and only objectives that record one are scored.
fn score_report(
    report: &Report,
    labelled: Option<(&str, Vec<scores::Incident>)>,
) -> Option<scores::Scores> {
    let range = (report.start_ms, report.end_ms);
    let (incidents, scored, source) = match labelled {
        Some((name, incidents)) => {
            let mut scored: Vec<ObjectiveKey> = report
                .alerts
                .iter()
                .map(|alert| alert.objective.clone())
                .filter(|objective| !objective.service.is_empty())
                .chain(incidents.iter().map(|incident| incident.objective.clone()))
                .collect();
            scored.sort();
            scored.dedup();
            let source = scores::IncidentSource::File { name: name.into() };
            (incidents, scored, source)
        }
        None => {
            let scored: Vec<ObjectiveKey> = report
                .error_ratios
                .iter()
                .filter(|(_, ratio)| ratio.budget.is_some())
                .map(|(objective, _)| objective.clone())
                .collect();
            if scored.is_empty() {
                return None;
            }
            let incidents = scores::infer_incidents(&report.error_ratios);
            let source = scores::IncidentSource::Inferred {
                rule: scores::inference_rule(),
            };
            (incidents, scored, source)
        }
    };
    Some(scores::score(
        &report.alerts,
        &incidents,
        &scored,
        source,
        range,
    ))
}

/// The evaluation range, resolved: the times asked for, or else the data's
/// extent. Both ends are needed, and a range that runs backwards is refused.
fn resolve_range(
    (start_ms, end_ms): (Option<i64>, Option<i64>),
    extent_ms: Option<(i64, i64)>,
) -> Result<(i64, i64), String> {
    let no_samples = "the data has no samples; give --start and --end";
    let start_ms = match start_ms {
        Some(ms) => ms,
        None => extent_ms.ok_or(no_samples)?.0,
    };
    let end_ms = match end_ms {
        Some(ms) => ms,
        None => extent_ms.ok_or(no_samples)?.1,
    };
    if end_ms < start_ms {
        return Err("--end is before --start".into());
    }
    Ok((start_ms, end_ms))
}

/// A Prometheus duration above zero, in milliseconds, for the flag `flag`.
fn parse_positive_duration(flag: &str, text: &str) -> Result<i64, String> {
    parse_model_duration(text)
        .ok()
        .filter(|ms| *ms > 0)
        .ok_or_else(|| format!("{flag}: bad duration {text:?}"))
}

/// When each group is evaluated: a resolved [`BacktestOptions`].
#[derive(Clone, Debug)]
struct Schedule {
    start_ms: i64,
    end_ms: i64,
    /// Evaluation interval for groups without their own `interval`.
    default_interval_ms: i64,
    /// When set, every group is evaluated at this interval (`--step`).
    step_override_ms: Option<i64>,
}

impl Schedule {
    /// Each group's evaluation interval in milliseconds, at least 1.
    fn intervals(&self, groups: &[RuleGroup]) -> Vec<i64> {
        groups
            .iter()
            .map(|group| {
                self.step_override_ms
                    .or(group.interval_ms.filter(|ms| *ms > 0))
                    .unwrap_or(self.default_interval_ms)
                    .max(1)
            })
            .collect()
    }

    /// The step at which some group is due: the greatest common divisor of the intervals.
    fn base_interval(intervals: &[i64]) -> i64 {
        intervals.iter().copied().fold(0, gcd).max(1)
    }

    /// The timestamps the run visits, known before it starts.
    fn steps(&self, intervals: &[i64]) -> u64 {
        let span = self.end_ms.saturating_sub(self.start_ms).max(0);
        (span / Schedule::base_interval(intervals)) as u64 + 1
    }
}

/// Evaluates `groups` over `dataset` from `start_ms` to `end_ms` inclusive.
/// `progress` is called with (done, total) evaluation timestamps. The one error is a
/// notification replay too long to run.
fn evaluate(
    groups: &[RuleGroup],
    grouped_by: &GroupedBy,
    dataset: &Dataset,
    schedule: &Schedule,
    alertmanager: Option<&Config>,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<Report, String> {
    let mut storage = dataset.to_storage();
    let context = EvalContext {
        options: EvalOptions::default(),
        ..EvalContext::default()
    };
    let mut evaluators: Vec<GroupEvaluator> =
        groups.iter().cloned().map(GroupEvaluator::new).collect();
    let intervals = schedule.intervals(groups);
    let base = Schedule::base_interval(&intervals);
    let total = schedule.steps(&intervals);
    // (rule identity, alert labels) -> (state at the previous step, open interval start).
    let mut tracks: BTreeMap<(String, Labels), Track> = BTreeMap::new();
    let mut rule_errors = Vec::new();
    let mut evaluations = 0;
    let mut ts = schedule.start_ms;
    let mut done = 0u64;
    while ts <= schedule.end_ms {
        for (index, evaluator) in evaluators.iter_mut().enumerate() {
            if (ts - schedule.start_ms) % intervals[index] != 0 {
                continue;
            }
            evaluations += 1;
            for error in evaluator.evaluate(&mut storage, ts, &context) {
                if rule_errors.len() < 20 {
                    rule_errors.push(format!("{}: {}", error.rule_name, error.message));
                }
            }
            for (rule_index, rule) in evaluator.group.rules.iter().enumerate() {
                if !matches!(rule.kind, RuleKind::Alerting { .. }) {
                    continue;
                }
                let key_prefix = format!("{}/{}", evaluator.group.name, rule_index);
                let mut seen = Vec::new();
                for alert in evaluator.alerts(rule_index) {
                    let key = (key_prefix.clone(), alert.labels.clone());
                    seen.push(alert.labels.clone());
                    tracks.entry(key).or_default().observe(alert.state, ts);
                }
                for ((prefix, labels), track) in tracks.iter_mut() {
                    if *prefix == key_prefix && !seen.contains(labels) {
                        track.observe(AlertState::Inactive, ts);
                    }
                }
            }
        }
        done += 1;
        progress(done, total);
        ts += base;
    }
    let mut alerts: Vec<AlertHistory> = tracks
        .into_iter()
        .map(|((_, labels), mut track)| {
            track.close(schedule.end_ms);
            let labels_map: BTreeMap<String, String> = labels.pairs().iter().cloned().collect();
            AlertHistory {
                alertname: labels.get("alertname").to_string(),
                objective: ObjectiveKey::default(),
                firings: track.firing.len(),
                firing_ms: track.firing.iter().map(|s| s.end_ms - s.start_ms).sum(),
                labels: labels_map,
                pending: track.pending,
                firing: track.firing,
                pages: Vec::new(),
            }
        })
        .filter(|alert| !alert.pending.is_empty() || !alert.firing.is_empty())
        .collect();
    alerts.sort_by(|a, b| (&a.alertname, &a.labels).cmp(&(&b.alertname, &b.labels)));
    let notifications = match alertmanager {
        Some(config) => attach_pages(&mut alerts, config, schedule.end_ms)?,
        None => Vec::new(),
    };
    let grouped_by = group_labels_of_objectives(&storage, grouped_by);
    for alert in &mut alerts {
        alert.objective = ObjectiveKey::of(&alert.labels, &grouped_by);
    }
    let budgets = budgets(&storage, schedule.start_ms, schedule.end_ms);
    let forecasts = forecast_outcomes(&alerts);
    let error_ratios = error_ratios(&storage, schedule.start_ms, schedule.end_ms);
    let burn_windows = burn_windows(groups, &storage, schedule.start_ms, schedule.end_ms);
    let value_comparisons = value_comparisons(groups, &storage, &grouped_by, schedule);
    Ok(Report {
        error_ratios,
        burn_windows,
        value_comparisons,
        start_ms: schedule.start_ms,
        end_ms: schedule.end_ms,
        evaluations,
        alerts,
        budgets,
        forecasts,
        notifications,
        rule_errors,
        scores: None,
    })
}

/// The budget spent per objective or group, as [`Budget`] defines it; the rules are
/// evaluated from `start_ms`, so that is where each window's history begins.
fn budgets(
    storage: &crate::prometheus::promql::Storage,
    start_ms: i64,
    end_ms: i64,
) -> Vec<Budget> {
    let last_finite = |id: usize| {
        let series = storage.series(id);
        series
            .timestamps
            .iter()
            .zip(&series.values)
            .rev()
            .find(|(ts, value)| **ts <= end_ms && value.is_finite())
            .map(|(_, value)| *value)
    };
    // `vector(days)`: one series per objective, shared by its groups.
    let mut windows_ms: BTreeMap<(String, String), i64> = BTreeMap::new();
    for id in 0..storage.len() {
        let labels = &storage.series(id).labels;
        if labels.metric_name() != naming::SLO_TIME_PERIOD_DAYS {
            continue;
        }
        if let Some(days) = last_finite(id).filter(|days| *days > 0.0) {
            let objective = series_objective(labels);
            windows_ms.insert(
                (objective.service, objective.slo),
                (days * crate::prometheus::model::duration::DAY as f64).round() as i64,
            );
        }
    }
    let mut budgets = Vec::new();
    for id in 0..storage.len() {
        let series = storage.series(id);
        if series.labels.metric_name() != naming::SLO_PERIOD_BURN_RATE {
            continue;
        }
        let objective = series_objective(&series.labels);
        let Some(&window_ms) = windows_ms.get(&(objective.service.clone(), objective.slo.clone()))
        else {
            continue;
        };
        let history_at = |ts: i64| (ts - start_ms).clamp(0, window_ms);
        let points: Vec<(i64, f64)> = series
            .timestamps
            .iter()
            .zip(&series.values)
            .filter(|(ts, value)| (start_ms..=end_ms).contains(*ts) && value.is_finite())
            .map(|(ts, burn_rate)| {
                (
                    *ts,
                    100.0 * burn_rate * history_at(*ts) as f64 / window_ms as f64,
                )
            })
            .collect();
        let Some(&(last_ms, spent_percent)) = points.last() else {
            continue;
        };
        let history_ms = history_at(last_ms);
        budgets.push(Budget {
            objective,
            spent_percent,
            window: format_model_duration(window_ms),
            history_ms,
            full_window: history_ms == window_ms,
            burn_rate: last_finite(id).unwrap_or(0.0),
            points,
        });
    }
    budgets.sort_by(|a, b| a.objective.cmp(&b.objective));
    budgets
}

/// The objective or group of a series recorded per objective: every label but the
/// name, `service` and `slo` tells the group.
/// A recorded series' finite samples within `[start_ms, end_ms]`, for a chart.
fn finite_points(series: &StoredSeries, start_ms: i64, end_ms: i64) -> Vec<(i64, f64)> {
    series
        .timestamps
        .iter()
        .zip(&series.values)
        .filter(|(ts, v)| (start_ms..=end_ms).contains(*ts) && v.is_finite())
        .map(|(ts, v)| (*ts, *v))
        .collect()
}

///
/// Sloth's series name their objective with `sloth_service` and `sloth_slo` and carry
/// the SLO's static labels and Sloth's ids beside them; Sloth has no groups, so such
/// a series is the objective's own.
fn series_objective(labels: &Labels) -> ObjectiveKey {
    if labels.get(LABEL_SERVICE).is_empty() && !labels.get(naming::LABEL_SLOTH_SERVICE).is_empty() {
        return ObjectiveKey {
            service: labels.get(naming::LABEL_SLOTH_SERVICE).to_string(),
            slo: labels.get(naming::LABEL_SLOTH_SLO).to_string(),
            group: BTreeMap::new(),
        };
    }
    ObjectiveKey {
        service: labels.get(LABEL_SERVICE).to_string(),
        slo: labels.get(LABEL_SLO).to_string(),
        group: labels
            .pairs()
            .iter()
            .filter(|(name, _)| !matches!(name.as_str(), "__name__" | LABEL_SERVICE | LABEL_SLO))
            .cloned()
            .collect(),
    }
}

fn error_ratios(
    storage: &crate::prometheus::promql::Storage,
    start_ms: i64,
    end_ms: i64,
) -> BTreeMap<ObjectiveKey, ErrorRatio> {
    let error_ratio = naming::sli_error_ratio(naming::CHAINED_RATE_WINDOW);
    let mut ratios: BTreeMap<ObjectiveKey, ErrorRatio> = BTreeMap::new();
    let mut budget_ratios: BTreeMap<(String, String), f64> = BTreeMap::new();
    for id in 0..storage.len() {
        let series = storage.series(id);
        let name = series.labels.metric_name();
        if name == error_ratio {
            let key = series_objective(&series.labels);
            ratios.entry(key).or_default().points = finite_points(series, start_ms, end_ms);
        } else if name == naming::SLO_ERROR_BUDGET {
            // `vector(budget)`: one series per objective, shared by its groups.
            if let Some(budget) = series.values.iter().rev().copied().find(|v| v.is_finite()) {
                let objective = series_objective(&series.labels);
                budget_ratios.insert((objective.service, objective.slo), budget);
            }
        }
    }
    ratios.retain(|_, ratio| !ratio.points.is_empty());
    for (key, ratio) in &mut ratios {
        ratio.budget = budget_ratios
            .get(&(key.service.clone(), key.slo.clone()))
            .copied();
    }
    ratios
}

/// The burn-rate alerts of `groups` (alerting rules labelled with a window pair),
/// per objective or group whose series they compare.
fn burn_windows(
    groups: &[RuleGroup],
    storage: &crate::prometheus::promql::Storage,
    start_ms: i64,
    end_ms: i64,
) -> BTreeMap<ObjectiveKey, Vec<BurnWindows>> {
    let mut found: BTreeMap<ObjectiveKey, Vec<BurnWindows>> = BTreeMap::new();
    for rule in groups.iter().flat_map(|group| &group.rules) {
        let RuleKind::Alerting { name, .. } = &rule.kind else {
            continue;
        };
        let (Some(long), Some(short)) = (
            rule.labels.get(naming::LABEL_LONG_WINDOW),
            rule.labels.get(naming::LABEL_SHORT_WINDOW),
        ) else {
            continue;
        };
        let mut comparisons = Vec::new();
        threshold_comparisons(&rule.expr, &mut comparisons);
        let comparisons = comparisons
            .into_iter()
            .filter_map(
                |(expr, operator, threshold)| match (expr, operator.as_str()) {
                    (crate::prometheus::promql::Expr::VectorSelector(selector), ">" | ">=") => {
                        Some((selector.name.clone()?, threshold))
                    }
                    _ => None,
                },
            );
        let label = |name: &str| rule.labels.get(name).map_or("", String::as_str);
        let mut per_objective: BTreeMap<ObjectiveKey, Vec<BurnLine>> = BTreeMap::new();
        for (series_name, threshold) in comparisons {
            for id in 0..storage.len() {
                let series = storage.series(id);
                let labels = &series.labels;
                if labels.metric_name() != series_name
                    || labels.get(LABEL_SERVICE) != label(LABEL_SERVICE)
                    || labels.get(LABEL_SLO) != label(LABEL_SLO)
                {
                    continue;
                }
                let points = finite_points(series, start_ms, end_ms);
                per_objective
                    .entry(series_objective(labels))
                    .or_default()
                    .push(BurnLine {
                        series: series_name.clone(),
                        threshold,
                        points,
                    });
            }
        }
        for (objective, lines) in per_objective {
            found.entry(objective).or_default().push(BurnWindows {
                alertname: name.clone(),
                long_window: long.clone(),
                short_window: short.clone(),
                severity: label(naming::LABEL_SEVERITY).to_string(),
                lines,
            });
        }
    }
    for windows in found.values_mut() {
        let highest =
            |w: &BurnWindows| w.lines.iter().map(|l| l.threshold).fold(f64::NAN, f64::max);
        windows.sort_by(|a, b| highest(b).total_cmp(&highest(a)));
    }
    found
}

/// The `expression > constant` comparisons of an alert expression (and `>=`, `<`,
/// `<=`), as (expression, operator, the constant as PromQL evaluates it).
fn threshold_comparisons<'a>(
    expr: &'a crate::prometheus::promql::Expr,
    found: &mut Vec<(&'a crate::prometheus::promql::Expr, String, f64)>,
) {
    use crate::prometheus::promql::Expr;
    match expr {
        Expr::Paren(paren) => threshold_comparisons(&paren.expr, found),
        Expr::Binary(binary) => {
            let op = binary.op.to_string();
            let constant = crate::prometheus::promql::instant_query_expr(
                &crate::prometheus::promql::Storage::new(),
                &binary.rhs,
                0,
                &EvalOptions::default(),
            );
            match (op.as_str(), constant) {
                (">" | ">=" | "<" | "<=", Ok(crate::prometheus::promql::Value::Scalar(value)))
                    if binary.modifier.as_ref().is_none_or(|m| !m.return_bool) =>
                {
                    found.push((&binary.lhs, op, value));
                }
                _ => {
                    threshold_comparisons(&binary.lhs, found);
                    threshold_comparisons(&binary.rhs, found);
                }
            }
        }
        _ => {}
    }
}

/// The value comparisons of every alerting rule without a window pair, evaluated
/// over the range at a step that keeps at most [`MAX_VALUE_STEPS`] points, per
/// objective or group of the series they give.
fn value_comparisons(
    groups: &[RuleGroup],
    storage: &crate::prometheus::promql::Storage,
    grouped_by: &GroupedBy,
    schedule: &Schedule,
) -> BTreeMap<ObjectiveKey, Vec<ValueComparison>> {
    let span = schedule.end_ms - schedule.start_ms;
    let step_ms = (span / MAX_VALUE_STEPS + 1).max(DEFAULT_INTERVAL_MS);
    let mut found: BTreeMap<ObjectiveKey, Vec<ValueComparison>> = BTreeMap::new();
    for rule in groups.iter().flat_map(|group| &group.rules) {
        let RuleKind::Alerting { name, .. } = &rule.kind else {
            continue;
        };
        if rule.labels.contains_key(naming::LABEL_LONG_WINDOW) {
            continue;
        }
        let mut comparisons = Vec::new();
        threshold_comparisons(&rule.expr, &mut comparisons);
        for (expr, operator, threshold) in comparisons {
            let Ok(matrix) = crate::prometheus::promql::range_query_expr(
                storage,
                expr,
                schedule.start_ms,
                schedule.end_ms,
                step_ms,
                &EvalOptions::default(),
            ) else {
                continue;
            };
            let mut per_objective: BTreeMap<ObjectiveKey, Vec<ValueSeries>> = BTreeMap::new();
            for series in matrix.iter() {
                let mut labels = rule.labels.clone();
                labels.extend(series.labels.pairs().iter().cloned());
                let points: Vec<(i64, f64)> = series
                    .timestamps
                    .iter()
                    .zip(&series.values)
                    .filter(|(_, v)| v.is_finite())
                    .map(|(ts, v)| (*ts, *v))
                    .collect();
                let lines = per_objective
                    .entry(ObjectiveKey::of(&labels, grouped_by))
                    .or_default();
                if !points.is_empty() && lines.len() < MAX_VALUE_SERIES {
                    lines.push((series.labels.to_string(), points));
                }
            }
            for (objective, series) in per_objective {
                if series.is_empty() {
                    continue;
                }
                found.entry(objective).or_default().push(ValueComparison {
                    alertname: name.clone(),
                    expression: expr.to_string(),
                    operator: operator.clone(),
                    threshold,
                    series,
                });
            }
        }
    }
    found
}

/// Scores each forecast alert against the threshold alert it predicts
/// ([`naming::forecast_threshold_alert`]) of the same objective or group
/// ([`ObjectiveKey`]); a threshold alert may carry more labels than its forecast (a
/// feature's drift beside a forecast over the objective), and a forecast without a
/// threshold alert is not scored.
///
/// With the threshold alert's firings starting at `b1 < b2 < ...`: a breach `bk` is a
/// `lead` when a forecast firing started after `b(k-1)` (or the range's start) and no
/// later than `bk`, timed from the first of them, however often the forecast
/// re-fired in between; else it is `missed`. A forecast firing that starts while the
/// threshold alert fires is not scored (the breach is already there); one that starts
/// after the last breach is a `false_alarm`.
fn forecast_outcomes(alerts: &[AlertHistory]) -> Vec<ForecastOutcome> {
    let mut outcomes = Vec::new();
    for forecast in alerts
        .iter()
        .filter(|a| naming::is_forecast_alert(&a.alertname))
    {
        let Some(threshold_name) = naming::forecast_threshold_alert(&forecast.alertname) else {
            continue;
        };
        for threshold in alerts
            .iter()
            .filter(|a| a.alertname == threshold_name && a.objective == forecast.objective)
        {
            let outcome = |kind: &str, at_ms: i64, lead_ms: Option<i64>| ForecastOutcome {
                forecast: forecast.alertname.clone(),
                threshold: threshold.alertname.clone(),
                objective: forecast.objective.clone(),
                outcome: kind.to_string(),
                at_ms,
                lead_ms,
            };
            let breaching_at = |ts: i64| {
                threshold
                    .firing
                    .iter()
                    .any(|span| span.start_ms <= ts && ts < span.end_ms)
            };
            let warnings: Vec<i64> = forecast
                .firing
                .iter()
                .map(|span| span.start_ms)
                .filter(|&start| !breaching_at(start))
                .collect();
            let mut previous_breach = i64::MIN;
            for breach in threshold.firing.iter().map(|span| span.start_ms) {
                match warnings
                    .iter()
                    .find(|&&start| previous_breach < start && start <= breach)
                {
                    Some(&first) => outcomes.push(outcome("lead", first, Some(breach - first))),
                    None => outcomes.push(outcome("missed", breach, None)),
                }
                previous_breach = breach;
            }
            for &start in warnings.iter().filter(|&&start| start > previous_breach) {
                outcomes.push(outcome("false_alarm", start, None));
            }
        }
    }
    outcomes.sort_by(|a, b| {
        (&a.objective, &a.threshold, a.at_ms).cmp(&(&b.objective, &b.threshold, b.at_ms))
    });
    outcomes
}

fn gcd(a: i64, b: i64) -> i64 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

#[derive(Debug, Default)]
struct Track {
    state: Option<AlertState>,
    since_ms: i64,
    pending: Vec<Interval>,
    firing: Vec<Interval>,
}

impl Track {
    fn observe(&mut self, state: AlertState, ts: i64) {
        if self.state == Some(state) {
            return;
        }
        self.finish(ts, false);
        self.state = Some(state);
        self.since_ms = ts;
    }

    fn finish(&mut self, ts: i64, open: bool) {
        let interval = Interval {
            start_ms: self.since_ms,
            end_ms: ts,
            open,
        };
        match self.state {
            Some(AlertState::Pending) => self.pending.push(interval),
            Some(AlertState::Firing) => self.firing.push(interval),
            _ => {}
        }
    }

    fn close(&mut self, end_ms: i64) {
        self.finish(end_ms, true);
        self.state = None;
    }
}

/// Routes each firing when it starts, with every alert firing at that moment as a
/// possible source of inhibition, and replays all firings through Alertmanager's
/// dispatcher to find the notifications each firing and each receiver got.
fn attach_pages(
    alerts: &mut [AlertHistory],
    config: &Config,
    end_ms: i64,
) -> Result<Vec<ReceiverNotifications>, String> {
    let firing_at = |alerts: &[AlertHistory], ts: i64| -> Vec<usize> {
        (0..alerts.len())
            .filter(|&i| {
                alerts[i]
                    .firing
                    .iter()
                    .any(|s| s.start_ms <= ts && (ts < s.end_ms || (s.open && ts <= s.end_ms)))
            })
            .collect()
    };
    let timelines: Vec<AlertTimeline> = alerts
        .iter()
        .map(|alert| AlertTimeline {
            labels: alert.labels.clone(),
            firing: alert
                .firing
                .iter()
                .map(|span| (span.start_ms, (!span.open).then_some(span.end_ms)))
                .collect(),
        })
        .collect();
    let sent = dispatch::replay(config, &timelines, end_ms)?;
    let mut pages: Vec<Vec<Page>> = vec![Vec::new(); alerts.len()];
    for (index, alert) in alerts.iter().enumerate() {
        for interval in &alert.firing {
            let active = firing_at(alerts, interval.start_ms);
            let postable: Vec<PostableAlert> = active
                .iter()
                .map(|&i| PostableAlert {
                    labels: alerts[i].labels.clone(),
                    ..PostableAlert::default()
                })
                .collect();
            let routed = route_alerts(config, &postable, interval.start_ms);
            let Some(position) = active.iter().position(|&i| i == index) else {
                continue;
            };
            let Some(routing) = routed.get(position) else {
                continue;
            };
            let carrying: Vec<&dispatch::Notification> = sent
                .iter()
                .filter(|n| {
                    n.firing.contains(&index)
                        && interval.start_ms <= n.at_ms
                        && (n.at_ms < interval.end_ms || interval.open)
                })
                .collect();
            pages[index].push(Page {
                receivers: routing.receivers.clone(),
                inhibited_by: routing
                    .inhibited_by
                    .as_ref()
                    .and_then(|by| active.get(by.alert).map(|&i| alerts[i].alertname.clone())),
                notified_ms: carrying.first().map(|n| n.at_ms),
                notifications: carrying.len(),
            });
        }
    }
    for (alert, pages) in alerts.iter_mut().zip(pages) {
        alert.pages = pages;
    }
    let mut per_receiver: BTreeMap<&str, ReceiverNotifications> = BTreeMap::new();
    for notification in &sent {
        let entry = per_receiver
            .entry(&notification.receiver)
            .or_insert_with(|| ReceiverNotifications {
                receiver: notification.receiver.clone(),
                notifications: 0,
                resolved: 0,
            });
        if notification.firing.is_empty() {
            entry.resolved += 1;
        } else {
            entry.notifications += 1;
        }
    }
    Ok(per_receiver.into_values().collect())
}

/// `2026-11-22T10:00:00Z` for a millisecond timestamp.
pub fn format_time(ms: i64) -> String {
    let seconds = ms.div_euclid(1000);
    let days = seconds.div_euclid(86_400);
    let rest = seconds.rem_euclid(86_400);
    let (year, month, day) = crate::base::calendar::civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

/// The alert's name with the labels that tell it from its namesakes of the same
/// objective or group (the group is shown with the objective), and a burn-rate
/// alert's window pair as `windows=1h/5m`.
pub(super) fn display_name(report: &Report, alert: &AlertHistory) -> String {
    let told_apart = |name: &str, value: &String| {
        report.alerts.iter().any(|other| {
            other.alertname == alert.alertname
                && other.objective == alert.objective
                && other.labels.get(name) != Some(value)
        })
    };
    let window_pair = match (
        alert.labels.get(naming::LABEL_LONG_WINDOW),
        alert.labels.get(naming::LABEL_SHORT_WINDOW),
    ) {
        (Some(long), Some(short)) => Some(format!("{long}/{short}")),
        _ => None,
    };
    let mut distinguishing: Vec<String> = alert
        .labels
        .iter()
        .filter(|(name, value)| {
            !matches!(
                name.as_str(),
                "alertname"
                    | LABEL_SERVICE
                    | LABEL_SLO
                    | naming::LABEL_LONG_WINDOW
                    | naming::LABEL_SHORT_WINDOW
            ) && !alert.objective.group.contains_key(name.as_str())
                && told_apart(name, value)
        })
        .map(|(name, value)| format!("{name}={value}"))
        .collect();
    if let Some(pair) = window_pair {
        let long = &alert.labels[naming::LABEL_LONG_WINDOW];
        let short = &alert.labels[naming::LABEL_SHORT_WINDOW];
        if told_apart(naming::LABEL_LONG_WINDOW, long)
            || told_apart(naming::LABEL_SHORT_WINDOW, short)
        {
            distinguishing.push(format!("windows={pair}"));
        }
    }
    if distinguishing.is_empty() {
        alert.alertname.clone()
    } else {
        format!("{}{{{}}}", alert.alertname, distinguishing.join(","))
    }
}

/// Who one firing reached: its receivers, or the alert that muted it when it
/// started and, if it was notified later, when.
pub(super) fn describe_page(page: &Page, span: &Interval) -> String {
    let receivers = if page.receivers.is_empty() {
        "nobody".to_string()
    } else {
        page.receivers.join("+")
    };
    match (&page.inhibited_by, page.notified_ms) {
        (None, Some(_)) => receivers,
        (None, None) if page.receivers.is_empty() => receivers,
        (None, None) => format!("{receivers} (not notified)"),
        (Some(by), None) => format!("inhibited by {by}"),
        (Some(by), Some(at)) => format!(
            "inhibited by {by}, {receivers} after {}",
            format_model_duration(at - span.start_ms)
        ),
    }
}

/// The human table.
pub fn render_table(report: &Report) -> String {
    let mut out = format!(
        "backtest {} .. {} ({} group evaluations)\n\n",
        format_time(report.start_ms),
        format_time(report.end_ms),
        report.evaluations
    );
    if report.alerts.is_empty() {
        out.push_str("no alert was pending or firing\n");
    } else {
        let rows: Vec<[String; 6]> = report
            .alerts
            .iter()
            .map(|alert| {
                let name = display_name(report, alert);
                let pages: Vec<String> = alert
                    .pages
                    .iter()
                    .zip(&alert.firing)
                    .map(|(page, span)| describe_page(page, span))
                    .collect();
                [
                    alert.objective.to_string(),
                    name,
                    alert.firings.to_string(),
                    format_model_duration(alert.firing_ms),
                    alert.pending.len().to_string(),
                    pages.join(", "),
                ]
            })
            .collect();
        let header = [
            "OBJECTIVE",
            "ALERT",
            "FIRINGS",
            "FIRING",
            "PENDING",
            "PAGED",
        ];
        let mut widths = header.map(str::len);
        for row in &rows {
            for (width, cell) in widths.iter_mut().zip(row) {
                *width = (*width).max(cell.len());
            }
        }
        let line = |cells: [&str; 6]| {
            let mut text = String::new();
            for (i, cell) in cells.iter().enumerate() {
                if i + 1 == cells.len() {
                    text.push_str(cell);
                } else {
                    text.push_str(&format!("{cell:<width$}  ", width = widths[i]));
                }
            }
            text.trim_end().to_string() + "\n"
        };
        out.push_str(&line(header));
        for row in &rows {
            out.push_str(&line([
                &row[0], &row[1], &row[2], &row[3], &row[4], &row[5],
            ]));
        }
        out.push('\n');
        for alert in &report.alerts {
            for interval in &alert.firing {
                out.push_str(&format!(
                    "{} {}  firing {} .. {}{} ({})\n",
                    alert.objective,
                    display_name(report, alert),
                    format_time(interval.start_ms),
                    format_time(interval.end_ms),
                    if interval.open { " (still firing)" } else { "" },
                    format_model_duration(interval.end_ms - interval.start_ms)
                ));
            }
        }
    }
    if !report.budgets.is_empty() {
        out.push_str("\nerror budget spent (share of the objective window's budget used by the range's errors)\n");
        for budget in &report.budgets {
            out.push_str(&format!(
                "  {}  {:.1}% of {}{}\n",
                budget.objective,
                budget.spent_percent,
                budget.window,
                if budget.full_window {
                    String::new()
                } else {
                    format!(
                        " ({} seen, burn rate {:.2}x)",
                        format_model_duration(budget.history_ms),
                        budget.burn_rate
                    )
                }
            ));
        }
        if report.budgets.iter().any(|budget| !budget.full_window) {
            out.push_str(
                "  where the range is shorter than the window, the rest of the window is \
                 assumed to have the range's traffic and no errors\n",
            );
        }
    }
    if !report.notifications.is_empty() {
        out.push_str(
            "\nnotifications (Alertmanager's grouping, group_wait, group_interval, \
             repeat_interval and inhibition at each flush)\n",
        );
        for receiver in &report.notifications {
            out.push_str(&format!(
                "  {}  {} firing, {} resolved\n",
                receiver.receiver, receiver.notifications, receiver.resolved
            ));
        }
    }
    if !report.forecasts.is_empty() {
        out.push_str("\nforecasts\n");
        for f in &report.forecasts {
            let what = match (f.outcome.as_str(), f.lead_ms) {
                ("lead", Some(lead)) => format!(
                    "{} fired {} before {}",
                    f.forecast,
                    format_model_duration(lead),
                    f.threshold
                ),
                ("false_alarm", _) => format!(
                    "{} fired, {} did not follow (false alarm)",
                    f.forecast, f.threshold
                ),
                _ => format!("{} fired with no forecast ahead (missed)", f.threshold),
            };
            out.push_str(&format!(
                "  {}  {}  {}\n",
                f.objective,
                format_time(f.at_ms),
                what
            ));
        }
    }
    if let Some(scores) = &report.scores {
        scores::render_text(report, scores, &mut out);
    }
    for error in &report.rule_errors {
        out.push_str(&format!("rule error: {error}\n"));
    }
    out
}

/// The JSON document (`--format json`): the [`Report`] fields, times in unix ms.
pub fn render_json(report: &Report) -> String {
    // Serialising plain structs of strings and integers cannot fail.
    serde_json::to_string_pretty(report).expect("report serialises") + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prometheus::ruler::load_rule_file;

    const RULES: &str = r#"
groups:
  - name: g
    interval: 1m
    rules:
      - alert: Down
        expr: up == 0
        for: 2m
        labels: {severity: page}
"#;

    fn report(series: &str, end_ms: i64) -> Report {
        let groups = load_rule_file("r.yml", RULES, RULE_FILE_OPTIONS).unwrap();
        let data = data::parse_series_notation("d", series).unwrap();
        let schedule = Schedule {
            start_ms: 0,
            end_ms,
            default_interval_ms: DEFAULT_INTERVAL_MS,
            step_override_ms: None,
        };
        evaluate(
            &groups,
            &GroupedBy::new(),
            &data,
            &schedule,
            None,
            &mut |_, _| {},
        )
        .expect("no notification replay")
    }

    #[test]
    fn firing_intervals_are_hand_computed() {
        // up is 0 from minute 2 to minute 7 inclusive: pending at 2, firing at 4
        // (for: 2m), inactive at 8 when up is 1 again.
        let r = report("up{job=\"a\"} 1 1 0 0 0 0 0 0 1 1 1\n", 600_000);
        assert_eq!(r.alerts.len(), 1);
        let alert = &r.alerts[0];
        assert_eq!(alert.alertname, "Down");
        assert_eq!(
            alert.pending,
            vec![Interval {
                start_ms: 120_000,
                end_ms: 240_000,
                open: false
            }]
        );
        assert_eq!(
            alert.firing,
            vec![Interval {
                start_ms: 240_000,
                end_ms: 480_000,
                open: false
            }]
        );
        assert_eq!((alert.firings, alert.firing_ms), (1, 240_000));
    }

    #[test]
    fn two_firings_and_an_open_one() {
        let r = report("up 0 0 0 1 0 0 0 0\n", 420_000);
        let alert = &r.alerts[0];
        assert_eq!(alert.firings, 2);
        assert_eq!(
            alert.firing[0],
            Interval {
                start_ms: 120_000,
                end_ms: 180_000,
                open: false
            }
        );
        assert_eq!(
            alert.firing[1],
            Interval {
                start_ms: 360_000,
                end_ms: 420_000,
                open: true
            }
        );
        assert_eq!(alert.firing_ms, 120_000);
        let json = render_json(&r);
        assert!(json.contains("\"firing_ms\": 120000"), "{json}");
        let table = render_table(&r);
        assert!(table.contains("Down   2        2m"), "{table}");
    }

    #[test]
    fn charts_take_their_thresholds_from_the_rules_as_written() {
        // A hand-written rule file: the threshold is whatever its expression computes,
        // and a drift alert's value is charted against its own constant.
        let rules = r#"groups:
  - name: burn
    rules:
      - alert: FastBurn
        expr: slo:sli_error:ratio_rate1h{service="s",slo="o"} > (14.4 * 0.001) and slo:sli_error:ratio_rate5m{service="s",slo="o"} > (14.4 * 0.001)
        labels: {service: s, slo: o, severity: page, long_window: 1h, short_window: 5m}
      - alert: Drift
        expr: drift_psi{service="s",slo="o"} >= 0.1 + 0.15
        labels: {service: s, slo: o, severity: ticket}
"#;
        let mut set = RuleSet::default();
        set.add_rule_file("r.yml", rules).expect("valid rules");
        let mut dataset = Dataset::default();
        dataset
            .add_file(
                "d.series",
                "interval: 1m\n\
                 slo:sli_error:ratio_rate1h{service=\"s\",slo=\"o\"} 0.001x10\n\
                 slo:sli_error:ratio_rate5m{service=\"s\",slo=\"o\"} 0.02x10\n\
                 drift_psi{service=\"s\",slo=\"o\"} 0.3x10\n",
            )
            .expect("valid series");
        let r = set
            .finish()
            .expect("rules")
            .run(&dataset, &BacktestOptions::default(), &mut |_, _| {})
            .expect("runs");
        let objective = ObjectiveKey {
            service: "s".into(),
            slo: "o".into(),
            group: BTreeMap::new(),
        };
        let windows = &r.burn_windows[&objective];
        assert_eq!(windows.len(), 1, "{windows:?}");
        assert_eq!(
            (
                windows[0].long_window.as_str(),
                windows[0].severity.as_str()
            ),
            ("1h", "page")
        );
        let lines: Vec<(&str, f64, usize)> = windows[0]
            .lines
            .iter()
            .map(|l| (l.series.as_str(), l.threshold, l.points.len()))
            .collect();
        assert_eq!(
            lines,
            [
                ("slo:sli_error:ratio_rate1h", 14.4 * 0.001, 11),
                ("slo:sli_error:ratio_rate5m", 14.4 * 0.001, 11)
            ]
        );
        let values = &r.value_comparisons[&objective];
        assert_eq!(values.len(), 1, "{values:?}");
        assert_eq!(
            (values[0].alertname.as_str(), values[0].operator.as_str()),
            ("Drift", ">=")
        );
        assert_eq!(values[0].threshold, 0.25);
        assert_eq!(values[0].series[0].1.len(), 11);
        assert!(values[0].series[0].1.iter().all(|p| p.1 == 0.3));
    }

    #[test]
    fn budgets_and_error_ratios_come_from_the_series_the_compiler_records() {
        let mut map = crate::base::diagnostic::SourceMap::new();
        map.add(
            "a.slo",
            r#"
service "shop" {
  team = "t"
  runbook = "https://runbooks.example.com/shop"
  availability "checkout" {
    errors    = requests_total{code="500"}
    total     = requests_total
    objective = 99%
    window    = 1d
  }
}
"#,
        );
        // One request in ten fails for two hours: ten times the budget's rate.
        let series = "requests_total{code=\"500\"} 0+1x120\nrequests_total{code=\"200\"} 0+9x120\n";
        let r = backtest(&map, &[("d.series", series)], &BacktestOptions::default())
            .expect("valid objective and data");
        assert_eq!(r.rule_errors, Vec::<String>::new());
        let objective = ObjectiveKey {
            service: "shop".into(),
            slo: "checkout".into(),
            group: BTreeMap::new(),
        };
        let budget = r.budgets.iter().find(|b| b.objective == objective);
        assert!(
            budget.is_some_and(|b| b.spent_percent > 0.0),
            "{:?}",
            r.budgets
        );
        let ratio = &r.error_ratios[&objective];
        assert_eq!(ratio.budget, Some(0.01));
        assert!(
            ratio.points.iter().any(|(_, v)| (v - 0.1).abs() < 1e-9),
            "{ratio:?}"
        );
    }

    #[test]
    fn pages_follow_routing_and_inhibition() {
        let rules = r#"
groups:
  - name: g
    rules:
      - alert: Down
        expr: up == 0
        labels: {severity: page}
      - alert: Slow
        expr: up == 0
        labels: {severity: ticket}
"#;
        let config = r#"
route:
  receiver: tickets
  routes:
    - matchers: ['severity="page"']
      receiver: pager
inhibit_rules:
  - source_matchers: ['severity="page"']
    target_matchers: ['severity="ticket"']
receivers:
  - name: tickets
  - name: pager
"#;
        let options = BacktestOptions {
            alertmanager_config: Some(("am.yml", config)),
            ..BacktestOptions::default()
        };
        let r = backtest_of_rule_file(rules, "up 1 0 0 1\n", &options).expect("valid inputs");
        assert_eq!(r.alerts[0].alertname, "Down");
        assert_eq!(r.alerts[0].pages[0].receivers, vec!["pager"]);
        assert_eq!(r.alerts[1].alertname, "Slow");
        assert_eq!(r.alerts[1].pages[0].inhibited_by.as_deref(), Some("Down"));
    }

    /// The report of one rule file over one file of series notation.
    fn backtest_of_rule_file(
        rules: &str,
        series: &str,
        options: &BacktestOptions,
    ) -> Result<Report, String> {
        let mut rule_set = RuleSet::default();
        rule_set.add_rule_file("r.yml", rules)?;
        let mut dataset = Dataset::default();
        dataset.add_file("d.series", series)?;
        rule_set.finish()?.run(&dataset, options, &mut |_, _| {})
    }

    fn options_with_range<'a>(start: Option<&'a str>, end: Option<&'a str>) -> BacktestOptions<'a> {
        BacktestOptions {
            start,
            end,
            ..BacktestOptions::default()
        }
    }

    #[test]
    fn the_range_defaults_to_the_data_and_must_run_forwards() {
        let up = "up 1 1 0 0 0 0 0 0 1 1 1\n";
        let range = |options: &BacktestOptions| {
            backtest_of_rule_file(RULES, up, options).map(|r| (r.start_ms, r.end_ms))
        };
        assert_eq!(range(&BacktestOptions::default()), Ok((0, 600_000)));
        assert_eq!(
            range(&options_with_range(Some("120"), None)),
            Ok((120_000, 600_000))
        );
        assert_eq!(
            range(&options_with_range(None, Some("1970-01-01T00:05:00Z"))),
            Ok((0, 300_000))
        );
        assert_eq!(
            range(&options_with_range(Some("60"), Some("60"))),
            Ok((60_000, 60_000))
        );
        assert_eq!(
            range(&options_with_range(Some("600"), Some("60"))),
            Err("--end is before --start".to_string())
        );
        let no_data = |options: &BacktestOptions| {
            backtest_of_rule_file(RULES, "# nothing recorded\n", options).map(|r| r.evaluations)
        };
        let no_samples = Err("the data has no samples; give --start and --end".to_string());
        assert_eq!(no_data(&BacktestOptions::default()), no_samples);
        assert_eq!(no_data(&options_with_range(Some("0"), None)), no_samples);
        assert_eq!(no_data(&options_with_range(None, Some("600"))), no_samples);
        assert_eq!(no_data(&options_with_range(Some("0"), Some("600"))), Ok(11));
    }

    #[test]
    fn a_bad_time_names_its_flag_and_start_is_checked_first() {
        let bad_time = |flag: &str, text: &str| {
            format!("{flag}: bad time {text:?} (unix seconds or RFC 3339)")
        };
        assert_eq!(
            options_with_range(Some("noon"), Some("later")).start_and_end_ms(),
            Err(bad_time("--start", "noon"))
        );
        assert_eq!(
            options_with_range(Some("1.5"), Some("later")).start_and_end_ms(),
            Err(bad_time("--end", "later"))
        );
        assert_eq!(
            options_with_range(Some("1.5"), Some("2026-11-01T00:00:00Z")).start_and_end_ms(),
            Ok((Some(1_500), Some(1_793_491_200_000)))
        );
        assert_eq!(
            backtest_of_rule_file(RULES, "up 1\n", &options_with_range(Some("noon"), None))
                .map(|r| r.evaluations),
            Err(bad_time("--start", "noon"))
        );
    }

    #[test]
    fn a_run_of_more_steps_than_the_limit_is_refused_before_it_starts() {
        let options = |step: &'static str, max_steps: Option<u64>| BacktestOptions {
            step: Some(step),
            end: Some("3153600000"),
            max_steps,
            ..BacktestOptions::default()
        };
        let refused =
            backtest_of_rule_file(RULES, "up 1 0\n", &options("1m", None)).map(|r| r.evaluations);
        assert_eq!(
            refused,
            Err(
                "the backtest would evaluate the rules at 52560001 timestamps from \
                 1970-01-01T00:00:00Z to 2069-12-07T00:00:00Z, more than the 1000000 of \
                 --max-steps; give a shorter --start/--end range or a larger --step, or raise \
                 --max-steps"
                    .to_string()
            )
        );
        let tiny = BacktestOptions {
            end: Some("600"),
            ..options("1ms", Some(10))
        };
        assert!(backtest_of_rule_file(RULES, "up 1 0\n", &tiny)
            .is_err_and(|message| message.contains("600001 timestamps")));
        let allowed = BacktestOptions {
            end: Some("600"),
            ..options("1m", Some(11))
        };
        assert_eq!(
            backtest_of_rule_file(RULES, "up 1 0\n", &allowed).map(|r| r.evaluations),
            Ok(11)
        );
    }

    #[test]
    fn a_step_must_be_a_positive_duration_and_is_checked_after_the_range() {
        let up = "up 1 1 0 0 0 0 0 0 1 1 1\n";
        let with_step = |step: &'static str, end: Option<&'static str>| {
            let options = BacktestOptions {
                step: Some(step),
                end,
                ..BacktestOptions::default()
            };
            backtest_of_rule_file(RULES, up, &options).map(|r| r.evaluations)
        };
        assert_eq!(with_step("30s", None), Ok(21));
        assert_eq!(with_step("2m", None), Ok(6));
        for bad in ["0s", "-1m", "abc", ""] {
            assert_eq!(
                with_step(bad, None),
                Err(format!("--step: bad duration {bad:?}"))
            );
        }
        assert_eq!(
            with_step("0s", Some("-60")),
            Err("--end is before --start".to_string())
        );
    }

    #[test]
    fn a_rule_set_names_a_bad_file_and_refuses_to_be_empty() {
        let mut rules = RuleSet::default();
        let error = rules
            .add_rule_file(
                "bad.yml",
                "groups:\n  - name: x\n    rules:\n      - alert: A\n        expr: sum(\n",
            )
            .expect_err("unclosed parenthesis");
        assert!(
            error.starts_with("bad.yml: 5:15: group \"x\", rule 1, \"A\": "),
            "{error}"
        );
        rules
            .add_rule_file("empty.yml", "groups: []\n")
            .expect("valid");
        assert_eq!(
            rules.finish().map(|backtest| backtest.groups.len()),
            Err("no rule groups in the given rules".to_string())
        );
    }

    #[test]
    fn slo_errors_are_rendered_with_the_diagnostics_found_before_parsing() {
        /// The diagnostic the CLI gives the second file, which it cannot parse.
        fn sources_with_an_empty_second_file(first: &str) -> (SourceMap, Diagnostic) {
            let mut sources = SourceMap::new();
            sources.add("first.slo", first);
            let index = sources.add("empty.slo", "");
            let at = sources.files()[index].base as usize;
            let empty = Diagnostic::error(
                "E0003",
                "empty file",
                crate::base::diagnostic::Span::new(at, at),
                "this file has no content",
            );
            (sources, empty)
        }
        // On its own it does not stop the backtest.
        let (sources, empty) = sources_with_an_empty_second_file(SHOP);
        let mut rules = RuleSet::default();
        rules
            .add_slo_sources(&sources, &[0], vec![empty])
            .expect("first.slo is valid");
        assert!(rules
            .finish()
            .is_ok_and(|backtest| backtest.generated_alertmanager.is_some()));
        // Next to an error of the check it is shown too, after the check's own.
        let (sources, empty) =
            sources_with_an_empty_second_file("service \"x\" {\n  team = 3\n}\n");
        let error = RuleSet::default()
            .add_slo_sources(&sources, &[0], vec![empty])
            .expect_err("team is not a string");
        assert!(
            error.starts_with("the .slo files have errors:\nerror[E0301]: mismatched types\n"),
            "{error}"
        );
        assert!(
            error.contains("\nerror[E0003]: empty file\n  ┌─ empty.slo:1:1\n"),
            "{error}"
        );
    }

    const SHOP: &str = r#"
service "shop" {
  team = "web"
  availability "checkout" {
    errors    = http_requests_total{code="500"}
    total     = http_requests_total
    objective = 99%
  }
}
"#;

    #[test]
    fn firings_are_routed_by_the_generated_configuration_unless_another_is_given() {
        let mut sources = SourceMap::new();
        sources.add("shop.slo", SHOP);
        let series = "http_requests_total{code=\"200\"} 0+90x30\nhttp_requests_total{code=\"500\"} 0+10x30\n";
        let receivers = |options: &BacktestOptions| {
            backtest(&sources, &[("d.series", series)], options).map(|r| {
                r.alerts
                    .iter()
                    .flat_map(|alert| &alert.pages)
                    .map(|page| (page.receivers.join("+"), page.inhibited_by.clone()))
                    .collect::<Vec<_>>()
            })
        };
        assert_eq!(
            receivers(&BacktestOptions::default()),
            // Ten times the budget's rate: the 6h/30m page (6×) and both tickets
            // fire; the page mutes the tickets.
            Ok(vec![
                (
                    "mlslo-default".to_string(),
                    Some("ErrorBudgetBurn".to_string())
                ),
                (
                    "mlslo-default".to_string(),
                    Some("ErrorBudgetBurn".to_string())
                ),
                ("mlslo-default".to_string(), None),
            ])
        );
        let given = BacktestOptions {
            alertmanager_config: Some((
                "am.yml",
                "route:\n  receiver: a\nreceivers:\n  - name: a\n",
            )),
            ..BacktestOptions::default()
        };
        assert_eq!(
            receivers(&given),
            Ok(vec![
                ("a".to_string(), None),
                ("a".to_string(), None),
                ("a".to_string(), None)
            ])
        );
        let bad = BacktestOptions {
            alertmanager_config: Some((
                "am.yml",
                "route:\n  receiver: nope\nreceivers:\n  - name: a\n",
            )),
            ..BacktestOptions::default()
        };
        assert_eq!(
            receivers(&bad),
            Err("am.yml: undefined receiver \"nope\" used in route".to_string())
        );
        // Rule files alone route nowhere: no pages.
        let r = backtest_of_rule_file(RULES, "up 0 0 0 0\n", &BacktestOptions::default());
        assert!(r.is_ok_and(|r| r.alerts.iter().all(|alert| alert.pages.is_empty())));
    }

    #[test]
    fn a_fetch_plan_checks_chunk_then_concurrency() {
        let mut rules = RuleSet::default();
        rules.add_rule_file("r.yml", RULES).expect("valid");
        let backtest = rules.finish().expect("one group");
        assert_eq!(
            backtest.plan_fetch(0, 600_000, "0s", 0),
            Err("--chunk: bad duration \"0s\"".to_string())
        );
        assert_eq!(
            backtest.plan_fetch(0, 600_000, "2h", 0),
            Err("--concurrency must be at least 1".to_string())
        );
        let plan = backtest.plan_fetch(0, 600_000, "2h", 3).expect("valid");
        assert_eq!(
            (plan.selectors, plan.concurrency),
            (vec!["up".to_string()], 3)
        );
    }
}

#[cfg(test)]
mod forecast_tests {
    use super::*;

    fn alert(name: &str, starts: &[i64]) -> AlertHistory {
        AlertHistory {
            alertname: name.into(),
            objective: ObjectiveKey {
                service: "s".into(),
                slo: "d".into(),
                group: BTreeMap::new(),
            },
            labels: [(LABEL_SERVICE, "s"), (LABEL_SLO, "d"), ("alertname", name)]
                .into_iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            firings: starts.len(),
            firing_ms: 0,
            pending: Vec::new(),
            firing: starts
                .iter()
                .map(|&s| Interval {
                    start_ms: s,
                    end_ms: s + 10,
                    open: false,
                })
                .collect(),
            pages: Vec::new(),
        }
    }

    #[test]
    fn lead_missed_and_false_alarm() {
        // Forecast at 100 then 500; threshold at 300 (lead 200) and 900 (after the
        // second forecast: lead 400); a third forecast at 1000 never followed.
        let alerts = [
            alert(naming::ALERT_DRIFT_FORECAST, &[100, 500, 1000]),
            alert(naming::ALERT_DRIFT_HIGH, &[50, 300, 900]),
        ];
        let outcomes = forecast_outcomes(&alerts);
        let summary: Vec<(&str, i64, Option<i64>)> = outcomes
            .iter()
            .map(|o| (o.outcome.as_str(), o.at_ms, o.lead_ms))
            .collect();
        assert_eq!(
            summary,
            vec![
                ("missed", 50, None),
                ("lead", 100, Some(200)),
                ("lead", 500, Some(400)),
                ("false_alarm", 1000, None),
            ]
        );
    }

    #[test]
    fn a_forecast_of_one_group_is_scored_against_that_group_alone() {
        let of_model = |mut alert: AlertHistory, model: &str| {
            alert.objective.group.insert("model".into(), model.into());
            alert.labels.insert("model".into(), model.into());
            alert
        };
        // Model a's forecast at 100 is followed by model b's breach at 300 only: the
        // two are not paired.
        let alerts = [
            of_model(alert(naming::ALERT_DRIFT_FORECAST, &[100]), "a"),
            of_model(alert(naming::ALERT_DRIFT_HIGH, &[300]), "b"),
        ];
        assert_eq!(forecast_outcomes(&alerts), Vec::new());
        let alerts = [
            of_model(alert(naming::ALERT_DRIFT_FORECAST, &[100]), "a"),
            of_model(alert(naming::ALERT_DRIFT_HIGH, &[800]), "a"),
            of_model(alert(naming::ALERT_DRIFT_HIGH, &[300]), "b"),
        ];
        let outcomes: Vec<(String, String, Option<i64>)> = forecast_outcomes(&alerts)
            .into_iter()
            .map(|o| (o.objective.to_string(), o.outcome, o.lead_ms))
            .collect();
        assert_eq!(
            outcomes,
            vec![("s/d{model=a}".into(), "lead".into(), Some(700))]
        );
    }

    #[test]
    fn budgets_and_error_ratios_are_kept_per_group_with_or_without_the_slo_source() {
        let mut map = SourceMap::new();
        map.add(
            "models.slo",
            r#"
service "serving" {
  team = "ml"
  availability "predict" {
    errors    = requests_total{code="500"}
    total     = requests_total
    objective = 99%
    group_by  = [model]
  }
}
"#,
        );
        // Model a fails one request in ten; model b never fails.
        let series = concat!(
            "requests_total{model=\"a\",code=\"500\"} 0+1x120\n",
            "requests_total{model=\"a\",code=\"200\"} 0+9x120\n",
            "requests_total{model=\"b\",code=\"200\"} 0+10x120\n",
        );
        let r = backtest(&map, &[("d.series", series)], &BacktestOptions::default())
            .expect("valid objective and data");
        let spent: Vec<(String, bool)> = r
            .budgets
            .iter()
            .map(|b| (b.objective.to_string(), b.spent_percent > 0.0))
            .collect();
        assert_eq!(
            spent,
            vec![
                ("serving/predict{model=a}".into(), true),
                ("serving/predict{model=b}".into(), false),
            ]
        );
        let ratios: Vec<String> = r.error_ratios.keys().map(ToString::to_string).collect();
        assert_eq!(
            ratios,
            ["serving/predict{model=a}", "serving/predict{model=b}"]
        );
        let pages: Vec<String> = r.alerts.iter().map(|a| a.objective.to_string()).collect();
        assert!(
            pages
                .iter()
                .all(|objective| objective == "serving/predict{model=a}"),
            "{pages:?}"
        );
        assert!(!pages.is_empty());

        // The same rules as a rule file: the groups are read off the recorded series.
        let program = crate::compiler::check_sources(&map)
            .0
            .expect("valid objective");
        let mut rules = RuleSet::default();
        for (name, text) in &crate::compiler::emit::rule_files(&program, &map) {
            rules
                .add_rule_file(name, text)
                .expect("generated rules load");
        }
        let mut dataset = Dataset::default();
        dataset.add_file("d.series", series).expect("valid series");
        let from_rule_files = rules
            .finish()
            .expect("rules")
            .run(&dataset, &BacktestOptions::default(), &mut |_, _| {})
            .expect("runs");
        // The rule files also hold the monitoring alerts, which have no objective.
        let objectives = |report: &Report| -> Vec<String> {
            report
                .alerts
                .iter()
                .filter(|a| !a.objective.service.is_empty())
                .map(|a| a.objective.to_string())
                .collect()
        };
        assert_eq!(objectives(&from_rule_files), objectives(&r));
    }

    fn in_group(mut alert: AlertHistory, model: &str, severity: &str) -> AlertHistory {
        alert.labels.insert("model".into(), model.into());
        alert.objective.group.insert("model".into(), model.into());
        alert
            .labels
            .insert(naming::LABEL_SEVERITY.into(), severity.into());
        alert
    }

    #[test]
    fn a_budget_forecast_is_scored_against_its_own_groups_budget_floor() {
        // Model a's budget is forecast to run out at 100 and its budget-low ticket
        // fires at 400; its burn page at 150 is another alert's business; model b's
        // budget-low ticket at 200 had no forecast of its own.
        let mut forecast = in_group(
            alert(naming::ALERT_BUDGET_EXHAUSTION, &[100]),
            "a",
            "ticket",
        );
        forecast.labels.insert(
            naming::LABEL_FORECAST.into(),
            naming::FORECAST_LABEL_VALUE.into(),
        );
        let alerts = [
            forecast,
            in_group(alert(naming::ALERT_BUDGET_BURN, &[150]), "a", "page"),
            in_group(alert(naming::ALERT_BUDGET_LOW, &[400]), "a", "ticket"),
            in_group(alert(naming::ALERT_BUDGET_LOW, &[200]), "b", "ticket"),
        ];
        let outcomes = forecast_outcomes(&alerts);
        let summary: Vec<(&str, &str, i64, Option<i64>)> = outcomes
            .iter()
            .map(|o| (o.threshold.as_str(), o.outcome.as_str(), o.at_ms, o.lead_ms))
            .collect();
        assert_eq!(
            summary,
            vec![(naming::ALERT_BUDGET_LOW, "lead", 100, Some(300))]
        );
    }

    #[test]
    fn a_forecast_that_re_fires_before_the_breach_leads_from_its_first_firing() {
        // The forecast fires at 100, stops, fires again at 250; the breach comes at
        // 300 (until 310), and a forecast firing at 305, during it, says nothing new.
        let alerts = [
            alert(naming::ALERT_DRIFT_FORECAST, &[100, 250, 305]),
            alert(naming::ALERT_DRIFT_HIGH, &[300]),
        ];
        let summary: Vec<(String, i64, Option<i64>)> = forecast_outcomes(&alerts)
            .into_iter()
            .map(|o| (o.outcome, o.at_ms, o.lead_ms))
            .collect();
        assert_eq!(summary, vec![("lead".to_string(), 100, Some(200))]);
    }

    #[test]
    fn a_gpu_memory_forecast_is_not_scored_against_utilization() {
        let alerts = [
            alert(naming::ALERT_GPU_MEMORY_EXHAUSTION, &[100]),
            alert(naming::ALERT_GPU_UTILIZATION_HIGH, &[300]),
        ];
        assert_eq!(forecast_outcomes(&alerts), Vec::new());
    }
}
