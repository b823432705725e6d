//! promtool's rule unit tests (`promtool test rules`): the test file format, the
//! runner and promtool's output text, as promtool 2.42 or promtool 3 (Prometheus
//! v3.14.0's `cmd/promtool/unittest.go`) runs them ([`PromtoolVersion`]).
//!
//! ```text
//! test YAML ──parse──▶ TestFile ──rule_files via FileAccess──▶ RuleGroups
//!   per test: every group at every evaluation_interval from 0 to the largest
//!   eval_time, input samples up to each step loaded before it; alert tests checked
//!   at the step they fall in; PromQL tests after the last step ──▶ FileReport
//! ```
//!
//! Invariants: pure (files come through [`FileAccess`]); groups run in file order
//! (then stably sorted by `group_eval_order`), never in a random order; when that
//! order is ambiguous (several groups not ordered by `group_eval_order`) each test is
//! also run with those groups reversed and a differing verdict is reported as a
//! warning. As promtool's lazy loader, a step sees the input only up to its own time
//! (a negative `offset` or an `@` in the future finds nothing later), and the PromQL
//! tests see it up to the last step, whatever their `eval_time`. A test group is
//! refused, where promtool would run for hours, when it needs more than
//! [`MAX_EVALUATIONS`] steps or an input series of more than
//! `notation::MAX_SEQUENCE_LENGTH` points, so memory stays bounded. Each test group
//! tells a [`Progress`] the steps it plans before its first and, as they are done,
//! every one of them, whatever way it ends; the report never depends on it. Under
//! promtool 3 a file that uses native histograms (`histogram:` in `exp_samples`,
//! `{{...}}` in input values) is refused whole, each use named, since our PromQL engine
//! has none: never run with them missing.

pub mod format;
mod strict_yaml;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Deserialize;

use crate::prometheus::alertmanager::parse_rfc3339_milliseconds;
use crate::prometheus::model::duration::{
    format_go_duration, format_model_duration, parse_model_duration,
};
use crate::prometheus::model::{go_number, go_quote};
use crate::prometheus::promql::notation::{
    parse_labels_prefix, parse_series_line, prometheus_brace_error, SequenceValue,
};
use crate::prometheus::promql::{
    instant_query, prometheus_parse_error, EvalError, EvalOptions, Labels, Semantics, Storage,
    Value,
};
use crate::prometheus::ruler::group::written_metric_names;
use crate::prometheus::ruler::source::{go_optional_string, go_string_map};
use crate::prometheus::ruler::{
    load_rule_file, EvalContext, GroupEvaluator, GroupFields, RuleFileOptions, RuleGroup, RuleKind,
};
use format::{go_labels, go_map};

/// Which promtool's unit-test behaviour a run reproduces.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PromtoolVersion {
    /// promtool 2.42 (Debian's, the oracle of the differential tests).
    #[default]
    V2_42,
    /// promtool 3: `fuzzy_compare`, `start_timestamp`, a test group's `interval`
    /// defaulting to `evaluation_interval` (Prometheus PR 13011), PromQL with
    /// Prometheus 3's semantics and rule groups with `query_offset` and `labels`, no
    /// `Unit Testing:` line before a file's verdict (it went with the JUnit output,
    /// Prometheus PR 14506), `--run`, `--ignore-unknown-fields`.
    V3,
}

impl PromtoolVersion {
    fn semantics(self) -> Semantics {
        match self {
            PromtoolVersion::V2_42 => Semantics::V2,
            PromtoolVersion::V3 => Semantics::V3,
        }
    }

    fn group_fields(self) -> GroupFields {
        match self {
            PromtoolVersion::V2_42 => GroupFields::Prometheus2_42,
            PromtoolVersion::V3 => GroupFields::Prometheus3,
        }
    }
}

/// What a run reproduces: the promtool version and that version's options.
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    pub version: PromtoolVersion,
    /// promtool 3's `--run` patterns: only the test groups whose name matches one of
    /// them (anywhere in the name, as Go's `MatchString`) run. Empty runs every group.
    pub run: Vec<regex::Regex>,
    /// promtool 3's `--ignore-unknown-fields`: rule files may have keys rulefmt does
    /// not know (test files are decoded strictly all the same).
    pub ignore_unknown_fields: bool,
}

impl RunOptions {
    fn runs(&self, test: &TestGroup) -> bool {
        let name = test.name.as_deref().unwrap_or("");
        self.run.is_empty() || self.run.iter().any(|pattern| pattern.is_match(name))
    }
}

/// How the runner reaches files: the CLI implements it over the filesystem.
pub trait FileAccess {
    /// Go's `filepath.Glob`: matching paths, sorted; a pattern without metacharacters
    /// yields itself when the file exists.
    fn glob(&self, pattern: &str) -> Result<Vec<String>, String>;
    fn read(&self, path: &str) -> Result<String, String>;
    /// Go's `filepath.Join(base, path)` for a relative `path`; `path` itself when absolute.
    fn join(&self, base: &str, path: &str) -> String;
}

/// Where a run reports its evaluation steps, for a progress display; called from
/// the threads that run test files.
pub trait Progress: Sync {
    /// `steps` more evaluation steps are planned.
    fn planned(&self, steps: u64);
    /// `steps` more of the planned steps are done.
    fn done(&self, steps: u64);
}

/// A run nobody watches.
pub struct NoProgress;

impl Progress for NoProgress {
    fn planned(&self, _steps: u64) {}
    fn done(&self, _steps: u64) {}
}

/// Steps done, reported to a [`Progress`] in batches; the steps not reported yet
/// are reported when it is dropped, so a group that stops early still ends done.
struct StepCounter<'a> {
    progress: &'a dyn Progress,
    planned: u64,
    reported: u64,
    done: u64,
}

impl<'a> StepCounter<'a> {
    /// Steps between two reports: few enough calls to cost nothing, often enough
    /// for a display that redraws a few times a second.
    const BATCH: u64 = 4096;

    fn new(progress: &'a dyn Progress, planned: u64) -> StepCounter<'a> {
        progress.planned(planned);
        StepCounter {
            progress,
            planned,
            reported: 0,
            done: 0,
        }
    }

    fn step(&mut self) {
        self.done += 1;
        if self.done - self.reported >= Self::BATCH {
            self.progress.done(self.done - self.reported);
            self.reported = self.done;
        }
    }
}

impl Drop for StepCounter<'_> {
    fn drop(&mut self) {
        self.progress.done(self.planned - self.reported);
    }
}

/// The verdict of one test file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Success,
    /// At least one test failed.
    Failed,
    /// The file (or a rule file it names) is invalid: promtool refuses it.
    Bad,
    /// The file (or a rule file it names) could not be read, or a test group is over
    /// mlslo's limits ([`MAX_EVALUATIONS`], `notation::MAX_SEQUENCE_LENGTH`) where
    /// promtool would run for hours: nothing was tested.
    NotRun,
}

/// Where a piece of output goes, as promtool splits it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
}

/// The outcome and promtool's output for one test file.
#[derive(Clone, Debug)]
pub struct FileReport {
    pub verdict: Verdict,
    pub output: Vec<(Stream, String)>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TestFile {
    #[serde(default)]
    rule_files: Vec<String>,
    #[serde(default, deserialize_with = "go_optional_string")]
    evaluation_interval: Option<String>,
    #[serde(default)]
    group_eval_order: Vec<String>,
    #[serde(default)]
    tests: Vec<TestGroup>,
    /// promtool 3: expected and actual sample values also match one float apart.
    #[serde(default)]
    fuzzy_compare: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TestGroup {
    #[serde(default, deserialize_with = "go_optional_string")]
    interval: Option<String>,
    #[serde(default)]
    input_series: Vec<InputSeries>,
    #[serde(default)]
    alert_rule_test: Vec<AlertTest>,
    #[serde(default)]
    promql_expr_test: Vec<PromqlTest>,
    #[serde(default, deserialize_with = "go_string_map")]
    external_labels: BTreeMap<String, String>,
    #[serde(default, deserialize_with = "go_optional_string")]
    external_url: Option<String>,
    #[serde(default, deserialize_with = "go_optional_string")]
    name: Option<String>,
    /// promtool 3: the time the group's 0s is at, Unix seconds or RFC 3339.
    #[serde(default, deserialize_with = "go_optional_string")]
    start_timestamp: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct InputSeries {
    #[serde(default, deserialize_with = "go_optional_string")]
    series: Option<String>,
    #[serde(default, deserialize_with = "go_optional_string")]
    values: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AlertTest {
    #[serde(default, deserialize_with = "go_optional_string")]
    eval_time: Option<String>,
    #[serde(default, deserialize_with = "go_optional_string")]
    alertname: Option<String>,
    #[serde(default)]
    exp_alerts: Vec<ExpAlert>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExpAlert {
    #[serde(default, deserialize_with = "go_string_map")]
    exp_labels: BTreeMap<String, String>,
    #[serde(default, deserialize_with = "go_string_map")]
    exp_annotations: BTreeMap<String, String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PromqlTest {
    #[serde(default, deserialize_with = "go_optional_string")]
    expr: Option<String>,
    #[serde(default, deserialize_with = "go_optional_string")]
    eval_time: Option<String>,
    #[serde(default)]
    exp_samples: Vec<ExpSample>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExpSample {
    #[serde(default, deserialize_with = "go_optional_string")]
    labels: Option<String>,
    #[serde(default)]
    value: f64,
    /// promtool 3: an expected native histogram, which mlslo refuses.
    #[serde(default, deserialize_with = "go_optional_string")]
    histogram: Option<String>,
}

/// How a test group's rules are evaluated. Both give the same report: promtool's
/// plan is every group at every `evaluation_interval` from 0 to the last `eval_time`,
/// and the property tests in `tests.rs` hold the shortcut to it over random rule files,
/// inputs and sets of check times.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum EvaluationPlan {
    /// promtool's plan, with the rules that read only input series (see
    /// [`GroupEvaluator::plan_range_evaluation`]) computed as range queries.
    RangeQueriesWherePossible,
    /// promtool's plan, one instant query per rule and step: the reference.
    #[cfg_attr(not(test), allow(dead_code))]
    StepByStep,
}

/// The most evaluation steps of one test group (9.5 years at one a minute): every step
/// keeps samples and alert state, so the memory of a test grows with them, and a
/// longer test is a mistake (a `for` of a century) rather than a test.
pub const MAX_EVALUATIONS: i64 = 5_000_000;

fn duration_or_zero(text: &Option<String>) -> Result<i64, String> {
    match text {
        None => Ok(0),
        Some(text) => parse_model_duration(text),
    }
}

/// Go's `time.Time` of promtool 3's `start_timestamp` (its `parseTime`: a float of
/// Unix seconds, else RFC 3339) in Unix milliseconds; none is the Unix epoch.
fn start_timestamp_ms(text: &Option<String>) -> Result<i64, String> {
    let Some(text) = text else { return Ok(0) };
    let refused = || {
        format!(
            "cannot parse {} to a valid timestamp",
            go_quote::quote(text)
        )
    };
    match text.parse::<f64>() {
        Ok(seconds) if seconds.is_finite() => {
            let whole = seconds.trunc();
            let nanos = whole as i128 * 1_000_000_000 + ((seconds - whole) * 1e9) as i128;
            i64::try_from(nanos.div_euclid(1_000_000)).map_err(|_| refused())
        }
        _ => parse_rfc3339_milliseconds(text).ok_or_else(refused),
    }
}

/// Runs one test file. `name` is how the user named it (printed), `base_dir` the
/// directory rule file paths are relative to.
pub fn run_test_file(
    name: &str,
    base_dir: &str,
    files: &dyn FileAccess,
    threads: usize,
    options: &RunOptions,
    progress: &dyn Progress,
) -> FileReport {
    let mut output = Vec::new();
    if options.version == PromtoolVersion::V2_42 {
        output.push((Stream::Stdout, format!("Unit Testing:  {name}\n")));
    }
    let (verdict, errors) = match files.read(name) {
        Err(e) => (Verdict::NotRun, vec![e]),
        Ok(text) => run_test_text(
            &text,
            base_dir,
            files,
            threads,
            options,
            EvaluationPlan::RangeQueriesWherePossible,
            progress,
            &mut output,
        ),
    };
    if errors.is_empty() {
        output.push((Stream::Stdout, "  SUCCESS\n".to_string()));
    } else {
        output.push((Stream::Stderr, "  FAILED:\n".to_string()));
        for error in errors {
            output.push((Stream::Stderr, format!("{error}\n")));
            output.push((Stream::Stdout, "\n".to_string()));
        }
    }
    output.push((Stream::Stdout, "\n".to_string()));
    FileReport { verdict, output }
}

#[allow(clippy::too_many_arguments)]
fn run_test_text(
    text: &str,
    base_dir: &str,
    files: &dyn FileAccess,
    threads: usize,
    run_options: &RunOptions,
    plan: EvaluationPlan,
    progress: &dyn Progress,
    output: &mut Vec<(Stream, String)>,
) -> (Verdict, Vec<String>) {
    let bad = |e: String| (Verdict::Bad, vec![e]);
    let version = run_options.version;
    // The serde model has promtool 3's fields, so the version's own field list decides
    // which keys are unknown.
    let unknown = || strict_yaml::unknown_fields(text, strict_yaml::test_file(version));
    let file: TestFile = match yaml_serde::from_str(text) {
        Ok(file) => file,
        Err(e) => return bad(unknown().unwrap_or_else(|| e.to_string())),
    };
    if version == PromtoolVersion::V3 {
        // yaml.v2 stops at an UnmarshalYAML error before it reports unknown fields.
        for test in &file.tests {
            if let Err(e) = start_timestamp_ms(&test.start_timestamp) {
                return bad(e);
            }
        }
    }
    // Only promtool 3's fields pass the model and are still unknown (to 2.42): a file
    // that never names them needs no second decoding.
    let names_newer_field = ["fuzzy_compare", "start_timestamp", "histogram"]
        .iter()
        .any(|field| text.contains(field));
    if version == PromtoolVersion::V2_42 && names_newer_field {
        if let Some(message) = unknown() {
            return bad(message);
        }
    }
    if version == PromtoolVersion::V3 {
        let uses = native_histogram_uses(&file);
        if !uses.is_empty() {
            return (Verdict::Bad, uses);
        }
    }
    let mut rule_paths = Vec::new();
    for pattern in &file.rule_files {
        let pattern = if pattern.is_empty() {
            pattern.clone()
        } else {
            files.join(base_dir, pattern)
        };
        match files.glob(&pattern) {
            Ok(found) if found.is_empty() => output.push((
                Stream::Stderr,
                format!("  WARNING: no file match pattern {pattern}\n"),
            )),
            Ok(found) => rule_paths.extend(found),
            Err(e) => return bad(e),
        }
    }
    let eval_interval = match duration_or_zero(&file.evaluation_interval) {
        Ok(0) => 60_000,
        Ok(ms) => ms,
        Err(e) => return bad(e),
    };
    let mut order = BTreeMap::new();
    for (index, name) in file.group_eval_order.iter().enumerate() {
        if order.insert(name.clone(), index).is_some() {
            return bad(format!("group name repeated in evaluation order: {name}"));
        }
    }
    let options = EvalOptions {
        default_subquery_step_ms: eval_interval,
        ..EvalOptions::with_semantics(version.semantics())
    };
    if file.tests.is_empty() {
        // promtool reads the rule files once per test group, so without one it never
        // sees them.
        return (Verdict::Success, Vec::new());
    }
    let mut groups = Vec::new();
    let mut load_errors = Vec::new();
    let mut load_verdict = Verdict::Bad;
    let rule_file_options = RuleFileOptions {
        semantics: options.semantics,
        group_fields: version.group_fields(),
    };
    let rule_file_shape = strict_yaml::rule_file(rule_file_options.group_fields);
    for path in &rule_paths {
        let read = files.read(path).map(|text| {
            if run_options.ignore_unknown_fields {
                strict_yaml::without_unknown_fields(&text, &rule_file_shape)
            } else {
                text
            }
        });
        match read {
            Err(e) => {
                load_verdict = Verdict::NotRun;
                load_errors.push(e);
            }
            Ok(text) => match load_rule_file(path, &text, rule_file_options) {
                Ok(loaded) => groups.extend(loaded),
                // rulefmt stops at yaml.v3's unknown fields before it validates anything.
                Err(errors) => match strict_yaml::unknown_fields(&text, &rule_file_shape) {
                    Some(message) => load_errors.push(format!("{path}: {message}")),
                    None => load_errors.extend(errors),
                },
            },
        }
    }
    if !load_errors.is_empty() {
        return (load_verdict, load_errors);
    }
    let rank = |group: &RuleGroup| order.get(&group.name).copied().unwrap_or(0);
    let mut in_file_order = groups.clone();
    in_file_order.sort_by_key(rank);
    let mut reversed = groups;
    reversed.reverse();
    reversed.sort_by_key(rank);
    let ambiguous: Vec<&str> = {
        let mut count_by_rank: BTreeMap<usize, Vec<&str>> = BTreeMap::new();
        for group in &in_file_order {
            count_by_rank
                .entry(rank(group))
                .or_default()
                .push(&group.name);
        }
        count_by_rank
            .into_values()
            .filter(|names| names.len() > 1)
            .flatten()
            .collect()
    };
    let mut errors = Vec::new();
    let mut verdict = Verdict::Success;
    let comparison = if file.fuzzy_compare {
        Comparison::OneFloatApart
    } else {
        Comparison::Exact
    };
    for (index, test) in file.tests.iter().enumerate() {
        if !run_options.runs(test) {
            continue;
        }
        let label = test
            .name
            .as_deref()
            .map_or(format!("test {}", index + 1), |n| {
                format!("test {} ({n})", index + 1)
            });
        if let Ok(interval) = duration_or_zero(&test.interval) {
            if let Some(warning) =
                InputSpacing::of(version, interval, eval_interval).warning(test, &label)
            {
                output.push((Stream::Stderr, warning));
            }
        }
        let run = |groups: &[RuleGroup]| {
            run_test_group(
                test,
                eval_interval,
                &options,
                GroupRun {
                    version,
                    comparison,
                    threads,
                    plan,
                },
                groups,
                progress,
            )
        };
        let result = run(&in_file_order);
        let (group_verdict, group_errors) = match result {
            Ok(failures) if failures.is_empty() => (Verdict::Success, failures),
            Ok(failures) => (Verdict::Failed, failures),
            Err(refusal) => refusal,
        };
        if !ambiguous.is_empty() && matches!(group_verdict, Verdict::Success | Verdict::Failed) {
            let other = run(&reversed);
            let other_passes = matches!(&other, Ok(f) if f.is_empty());
            if other_passes != (group_verdict == Verdict::Success) {
                let names: Vec<String> = ambiguous.iter().map(|n| format!("{n:?}")).collect();
                output.push((
                    Stream::Stderr,
                    format!(
                        "  WARNING: {label} {} only in file order: its verdict depends on the evaluation order of rule groups {}, which promtool picks at random; set group_eval_order\n",
                        if group_verdict == Verdict::Success { "passes" } else { "fails" },
                        names.join(", ")
                    ),
                ));
            }
        }
        verdict = match (verdict, group_verdict) {
            (Verdict::NotRun, _) | (_, Verdict::NotRun) => Verdict::NotRun,
            (Verdict::Bad, _) | (_, Verdict::Bad) => Verdict::Bad,
            (Verdict::Failed, _) | (_, Verdict::Failed) => Verdict::Failed,
            _ => Verdict::Success,
        };
        errors.extend(group_errors);
    }
    (verdict, errors)
}

/// Where promtool 3's test file uses native histograms, one line each: `{{...}}`
/// values of an input series (promqltest's series notation) and `histogram:` of an
/// expected sample. promtool 3 runs them; mlslo's PromQL engine has no native
/// histograms, so any of them makes the file unusable here.
fn native_histogram_uses(file: &TestFile) -> Vec<String> {
    let mut uses = Vec::new();
    for (group_index, test) in file.tests.iter().enumerate() {
        let group = match test.name.as_deref().filter(|name| !name.is_empty()) {
            Some(name) => format!("test {} ({name})", group_index + 1),
            None => format!("test {}", group_index + 1),
        };
        for (index, input) in test.input_series.iter().enumerate() {
            if input.values.as_deref().is_some_and(|v| v.contains("{{")) {
                uses.push(format!(
                    "{group}, input_series {} (series {}): native histogram values ({{{{...}}}}) are not supported by mlslo test, whose PromQL engine has no native histograms",
                    index + 1,
                    go_quote::quote(input.series.as_deref().unwrap_or(""))
                ));
            }
        }
        for (case_index, case) in test.promql_expr_test.iter().enumerate() {
            for (index, sample) in case.exp_samples.iter().enumerate() {
                if sample.histogram.as_deref().is_some_and(|h| !h.is_empty()) {
                    uses.push(format!(
                        "{group}, promql_expr_test {} (expr {}), exp_samples {}: expected native histograms (histogram:) are not supported by mlslo test, whose PromQL engine has no native histograms",
                        case_index + 1,
                        go_quote::quote(case.expr.as_deref().unwrap_or("")),
                        index + 1
                    ));
                }
            }
        }
    }
    uses
}

/// One firing alert as promtool compares it.
type LabelsAndAnnotations = (Labels, BTreeMap<String, String>);

fn alerts_string(alerts: &[LabelsAndAnnotations]) -> String {
    if alerts.is_empty() {
        return "[]".to_string();
    }
    let mut s = String::from("[\n");
    for (index, (labels, annotations)) in alerts.iter().enumerate() {
        if index > 0 {
            s.push_str(",\n");
        }
        s.push_str(&format!(
            "{index}:\n  Labels:{}\n  Annotations:{}",
            go_labels(labels),
            go_map(annotations)
        ));
    }
    s.push_str("\n]");
    s
}

/// promtool's `indentLines`: every line after the first gets `indent`.
fn indent_lines(text: &str, indent: &str) -> String {
    text.split('\n')
        .collect::<Vec<_>>()
        .join(&format!("\n{indent}"))
}

/// How expected sample values are compared with the results.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Comparison {
    /// `reflect.DeepEqual` (2.42) and `cmp.Equal` (3) compare floats with `==`: NaN
    /// never matches, -0 matches 0.
    Exact,
    /// promtool 3's `fuzzy_compare: true`: also the next float either way
    /// (`math.Nextafter`), so a last-bit rounding difference passes.
    OneFloatApart,
}

impl Comparison {
    fn matches(self, expected: f64, got: f64) -> bool {
        expected == got
            || (self == Comparison::OneFloatApart
                && (next_after(expected, f64::NEG_INFINITY) == got
                    || next_after(expected, f64::INFINITY) == got))
    }
}

/// Go's `math.Nextafter`: the next float after `x` towards `y`.
fn next_after(x: f64, y: f64) -> f64 {
    if x.is_nan() || y.is_nan() {
        f64::NAN
    } else if x == y {
        x
    } else if x == 0.0 {
        f64::from_bits(1).copysign(y)
    } else if (y > x) == (x > 0.0) {
        f64::from_bits(x.to_bits() + 1)
    } else {
        f64::from_bits(x.to_bits() - 1)
    }
}

/// How one test group runs, besides its input and rules.
#[derive(Clone, Copy)]
struct GroupRun {
    version: PromtoolVersion,
    comparison: Comparison,
    threads: usize,
    plan: EvaluationPlan,
}

/// Runs one test group; `Ok` holds the failures (empty when it passes), `Err` the
/// errors that refuse the file and how ([`Verdict::Bad`] or [`Verdict::NotRun`]).
/// Times are relative to the group's start (promtool 3's `start_timestamp`, else the
/// Unix epoch): `eval_time`s count from it, the input's first sample lies at it and
/// the evaluation starts there.
fn run_test_group(
    test: &TestGroup,
    eval_interval: i64,
    options: &EvalOptions,
    run: GroupRun,
    groups: &[RuleGroup],
    progress: &dyn Progress,
) -> Result<Vec<String>, (Verdict, Vec<String>)> {
    let one = |e: String| (Verdict::Bad, vec![e]);
    let GroupRun {
        version,
        comparison,
        threads,
        plan,
    } = run;
    let start = match version {
        PromtoolVersion::V2_42 => 0,
        PromtoolVersion::V3 => start_timestamp_ms(&test.start_timestamp).map_err(one)?,
    };
    let input_spacing = InputSpacing::of(
        version,
        duration_or_zero(&test.interval).map_err(one)?,
        eval_interval,
    );
    let mut alert_tests: Vec<(i64, &AlertTest)> = Vec::new();
    for alert in &test.alert_rule_test {
        let eval_time = duration_or_zero(&alert.eval_time).map_err(one)?;
        if alert.alertname.as_deref().unwrap_or("").is_empty() {
            let in_group = test
                .name
                .as_deref()
                .map_or(String::new(), |n| format!(" (in TestGroup {n})"));
            return Err(one(format!(
                "an item under alert_rule_test misses required attribute alertname at eval_time {}{in_group}",
                format_model_duration(eval_time)
            )));
        }
        alert_tests.push((eval_time, alert));
    }
    let mut promql_tests = Vec::new();
    for promql in &test.promql_expr_test {
        promql_tests.push((duration_or_zero(&promql.eval_time).map_err(one)?, promql));
    }
    let max_time = alert_tests
        .iter()
        .map(|(t, _)| *t)
        .chain(promql_tests.iter().map(|(t, _)| *t))
        .max()
        .unwrap_or(0);

    let evaluations = max_time / eval_interval + 1;
    if evaluations > MAX_EVALUATIONS {
        return Err((
            Verdict::NotRun,
            vec![format!(
                "eval_time {} at evaluation_interval {} needs {evaluations} evaluations of every group; \
                 mlslo test runs at most {MAX_EVALUATIONS} per test group: use a longer evaluation_interval",
                format_model_duration(max_time),
                format_model_duration(eval_interval)
            )],
        ));
    }
    let last_step = max_time - max_time % eval_interval;
    let mut input = load_input(test, input_spacing, eval_interval, start, last_step)
        .map_err(|(verdict, e)| (verdict, vec![e]))?;
    let mut storage = Storage::new();
    let context = EvalContext {
        options: *options,
        external_labels: test.external_labels.clone(),
        external_url: test.external_url.clone(),
        threads,
    };
    let mut evaluators: Vec<GroupEvaluator> =
        groups.iter().cloned().map(GroupEvaluator::new).collect();
    let written = written_metric_names(groups);
    if plan == EvaluationPlan::RangeQueriesWherePossible {
        for evaluator in &mut evaluators {
            evaluator.plan_range_evaluation(
                &input.samples,
                &written,
                eval_interval,
                start.saturating_add(max_time),
            );
        }
    }
    let mut alert_times: Vec<i64> = alert_tests.iter().map(|(t, _)| *t).collect();
    alert_times.sort_unstable();
    alert_times.dedup();
    let mut next_alert_time = 0;
    let mut failures = Vec::new();
    let mut steps = StepCounter::new(progress, evaluations as u64);
    let mut since_start = 0i64;
    while since_start <= max_time {
        let ts = start.saturating_add(since_start);
        steps.step();
        input.load_till(&mut storage, ts);
        let mut eval_errors = Vec::new();
        for evaluator in &mut evaluators {
            for error in evaluator.evaluate(&mut storage, ts, &context) {
                eval_errors.push(format!(
                    "    rule: {}, time: {}, err: {}",
                    error.rule_name,
                    format_go_duration(ts),
                    error.message
                ));
            }
        }
        if !eval_errors.is_empty() {
            failures.extend(eval_errors);
            return Ok(failures);
        }
        while next_alert_time < alert_times.len()
            && since_start <= alert_times[next_alert_time]
            && alert_times[next_alert_time] < since_start + eval_interval
        {
            let time = alert_times[next_alert_time];
            for (_, case) in alert_tests.iter().filter(|(t, _)| *t == time) {
                if let Some(failure) = check_alert(test, case, time, &evaluators) {
                    failures.push(failure);
                }
            }
            next_alert_time += 1;
        }
        since_start += eval_interval;
    }
    for (time, case) in promql_tests {
        if let Some(failure) = check_promql(case, start, time, &storage, options, comparison) {
            failures.push(failure);
        }
    }
    Ok(failures)
}

/// Where the samples of a test group's input series lie in time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum InputSpacing {
    /// One value every this many milliseconds from 0.
    Every(i64),
    /// promtool 2.42 without `interval` (or with `0s`): its loader is told `load 0s`,
    /// so every sample of a series lies at 0 and the head keeps the first value
    /// appended there. Prometheus PR 13011 (promtool 3) defaults `interval` to
    /// `evaluation_interval` instead.
    AllAtZeroFirstWins,
}

impl InputSpacing {
    /// The spacing a promtool version gives a test group's `interval`, the one place
    /// that decides it without one: 2.42 loads at 0, 3 spaces by `evaluation_interval`.
    fn of(version: PromtoolVersion, interval_ms: i64, eval_interval_ms: i64) -> InputSpacing {
        match (version, interval_ms) {
            (PromtoolVersion::V2_42, 0) => InputSpacing::AllAtZeroFirstWins,
            (PromtoolVersion::V3, 0) => InputSpacing::Every(eval_interval_ms),
            (_, ms) => InputSpacing::Every(ms),
        }
    }

    /// The warning for a test group that is loaded at 0: promtool 2.42 reads its
    /// input differently from what its values say, and promtool 3 reads it as
    /// they say.
    fn warning(self, test: &TestGroup, label: &str) -> Option<String> {
        let several_values = test.input_series.iter().any(|input| {
            let values = input.values.as_deref().unwrap_or("");
            values.split_whitespace().count() > 1 || values.contains('x')
        });
        (self == InputSpacing::AllAtZeroFirstWins && several_values).then(|| {
            format!(
                "  WARNING: {label} has no interval: promtool 2.42 loads every input sample at 0s and keeps the first value of each series (promtool 3 spaces them by evaluation_interval); set interval\n"
            )
        })
    }
}

/// A test group's input series, handed to the evaluation step by step as promtool
/// 2.42's lazy loader does (`WithSamplesTill` before every step).
struct Input {
    /// Every sample up to the last step, series in the order the evaluation creates
    /// them (see [`load_input`]), so range plans over it select as the steps do.
    samples: Arc<Storage>,
    /// Per series of `samples`: how many of its samples are loaded.
    loaded: Vec<usize>,
    /// Per series of `samples`: its id in the evaluation storage, once it has one.
    loaded_ids: Vec<Option<usize>>,
}

impl Input {
    /// Appends to `storage` the samples at or before `ts` not loaded yet. A sample at
    /// or before one a rule already wrote to the same series is dropped, as the head
    /// refuses it.
    fn load_till(&mut self, storage: &mut Storage, ts: i64) {
        for (id, (loaded, loaded_id)) in
            self.loaded.iter_mut().zip(&mut self.loaded_ids).enumerate()
        {
            let series = self.samples.series(id);
            if *loaded == series.timestamps.len() || series.timestamps[*loaded] > ts {
                continue;
            }
            let end = *loaded + series.timestamps[*loaded..].partition_point(|&t| t <= ts);
            let target = *loaded_id.get_or_insert_with(|| storage.series_id(&series.labels));
            for (&t, &value) in series.timestamps[*loaded..end]
                .iter()
                .zip(&series.values[*loaded..end])
            {
                if storage
                    .series(target)
                    .timestamps
                    .last()
                    .is_none_or(|&last| last < t)
                {
                    storage.append_to(target, t, value);
                }
            }
            *loaded = end;
        }
    }
}

/// Reads input series with samples up to `last_step` only, as promtool's lazy loader
/// never loads later ones, in the order promtool creates them: a series is created
/// at the first step that loads one of its samples, and the series of one step in
/// input order. (The loader walks a Go map of them, which for a few series starts at
/// the first one most of the time and at a random one otherwise.) That order is the
/// order queries walk series in, which `query` in templates and the rounding of sums
/// show. An error says whether promtool refuses the series ([`Verdict::Bad`]) or
/// mlslo's length limit does ([`Verdict::NotRun`]).
fn load_input(
    test: &TestGroup,
    spacing: InputSpacing,
    eval_interval: i64,
    start: i64,
    last_step: i64,
) -> Result<Input, (Verdict, String)> {
    let mut parsed = Vec::with_capacity(test.input_series.len());
    for (index, input) in test.input_series.iter().enumerate() {
        let series = input.series.as_deref().unwrap_or("");
        // Parse only the labels now; values are expanded one series at a time below.
        let values = input.values.as_deref().unwrap_or("");
        let refused = |ours: String| {
            // promtool parses `series values` as one line; its lexer's words where it
            // has them.
            let theirs = prometheus_brace_error(&format!("{series} {values}"));
            (Verdict::Bad, theirs.unwrap_or(ours))
        };
        let (labels, rest) = parse_labels_prefix(series)
            .map_err(|e| refused(format!("error in input series {series:?}: {e}")))?;
        if !rest.trim().is_empty() {
            return Err(refused(format!(
                "error in input series {series:?}: unexpected {rest:?}"
            )));
        }
        parsed.push((labels, index));
    }
    let mut storage = Storage::new();
    for (labels, index) in parsed {
        let input = &test.input_series[index];
        let line = format!(
            "{} {}",
            input.series.as_deref().unwrap_or(""),
            input.values.as_deref().unwrap_or("")
        );
        let line = parse_series_line(&line).map_err(|e| {
            let verdict = if e.over_length_limit {
                Verdict::NotRun
            } else {
                Verdict::Bad
            };
            (verdict, format!("error in input series {line:?}: {e}"))
        })?;
        let id = storage.series_id(&labels);
        match spacing {
            InputSpacing::Every(interval) => {
                for (step, value) in line.values.iter().enumerate() {
                    let since_start = (step as i64).saturating_mul(interval);
                    if since_start > last_step {
                        break;
                    }
                    if let SequenceValue::Value(v) = value {
                        storage.append_to(id, start.saturating_add(since_start), *v);
                    }
                }
            }
            InputSpacing::AllAtZeroFirstWins => {
                let first = line.values.iter().find_map(|value| match value {
                    SequenceValue::Value(v) => Some(*v),
                    _ => None,
                });
                if let Some(v) = first {
                    storage.append_to(id, start, v);
                }
            }
        }
    }
    let creation_step = |id: usize| {
        let first = storage.series(id).timestamps.first();
        first.map_or(i64::MAX, |&t| {
            let t = t - start;
            t.div_euclid(eval_interval) + i64::from(t.rem_euclid(eval_interval) != 0)
        })
    };
    let mut order: Vec<usize> = (0..storage.len()).collect();
    order.sort_by_key(|&id| creation_step(id));
    let storage = storage.reordered(&order);
    Ok(Input {
        loaded: vec![0; storage.len()],
        loaded_ids: vec![None; storage.len()],
        samples: Arc::new(storage),
    })
}

fn check_alert(
    test: &TestGroup,
    case: &AlertTest,
    time: i64,
    evaluators: &[GroupEvaluator],
) -> Option<String> {
    let alertname = case.alertname.as_deref().unwrap_or("");
    let mut got: Vec<LabelsAndAnnotations> = Vec::new();
    for evaluator in evaluators {
        for (index, rule) in evaluator.group.rules.iter().enumerate() {
            if !matches!(&rule.kind, RuleKind::Alerting { name, .. } if name == alertname) {
                continue;
            }
            for alert in evaluator.alerts(index) {
                if alert.state == crate::prometheus::ruler::group::AlertState::Firing {
                    got.push((alert.labels.clone(), alert.annotations.clone()));
                }
            }
        }
    }
    let mut expected: Vec<LabelsAndAnnotations> = case
        .exp_alerts
        .iter()
        .map(|a| {
            let mut labels = a.exp_labels.clone();
            labels.insert("alertname".to_string(), alertname.to_string());
            (Labels::from_pairs(labels), a.exp_annotations.clone())
        })
        .collect();
    let order = |a: &LabelsAndAnnotations, b: &LabelsAndAnnotations| {
        a.0.cmp(&b.0).then_with(|| {
            let a: Vec<_> = a.1.iter().collect();
            let b: Vec<_> = b.1.iter().collect();
            a.cmp(&b)
        })
    };
    got.sort_by(order);
    expected.sort_by(order);
    if got == expected {
        return None;
    }
    let name = test
        .name
        .as_deref()
        .filter(|n| !n.is_empty())
        .map_or(String::new(), |n| format!("    name: {n},\n"));
    let indent = "            ";
    Some(format!(
        "{name}    alertname: {alertname}, time: {}, \n        exp:{}, \n        got:{}",
        format_model_duration(time),
        indent_lines(&alerts_string(&expected), indent),
        indent_lines(&alerts_string(&got), indent)
    ))
}

fn samples_string(samples: &[(Labels, f64)]) -> String {
    if samples.is_empty() {
        return "nil".to_string();
    }
    samples
        .iter()
        .map(|(labels, value)| {
            format!(
                "{} {}",
                go_labels(labels),
                go_number::format_float(*value, 'E', None)
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Checks a PromQL test `time` after `start`.
fn check_promql(
    case: &PromqlTest,
    start: i64,
    time: i64,
    storage: &Storage,
    options: &EvalOptions,
    comparison: Comparison,
) -> Option<String> {
    let expr = case.expr.as_deref().unwrap_or("");
    let quoted = go_quote::quote(expr);
    let time_text = format_model_duration(time);
    let fail = |e: String| Some(format!("    expr: {quoted}, time: {time_text}, err: {e}"));
    let at = start.saturating_add(time);
    let mut got: Vec<(Labels, f64)> = match instant_query(storage, expr, at, options) {
        Ok(Value::Vector(vector)) => vector.into_iter().map(|s| (s.labels, s.value)).collect(),
        Ok(Value::Scalar(value)) => vec![(Labels::empty(), value)],
        Ok(_) => return fail("rule result is not a vector or scalar".to_string()),
        Err(EvalError::Parse(message)) => return fail(prometheus_parse_error(expr, &message)),
        Err(e) => return fail(e.to_string()),
    };
    let mut expected = Vec::new();
    for sample in &case.exp_samples {
        let text = sample.labels.as_deref().unwrap_or("");
        if text.trim().is_empty() {
            // promtool accepts a missing `labels` as the empty label set.
            expected.push((Labels::empty(), sample.value));
            continue;
        }
        match parse_labels_prefix(text) {
            Ok((labels, rest)) if rest.trim().is_empty() => expected.push((labels, sample.value)),
            Ok((_, rest)) => {
                return fail(format!(
                    "labels {}: unexpected {rest:?}",
                    go_quote::quote(text)
                ))
            }
            Err(e) => return fail(format!("labels {}: {e}", go_quote::quote(text))),
        }
    }
    expected.sort_by(|a, b| a.0.cmp(&b.0));
    got.sort_by(|a, b| a.0.cmp(&b.0));
    let equal = expected.len() == got.len()
        && expected
            .iter()
            .zip(&got)
            .all(|(e, g)| e.0 == g.0 && comparison.matches(e.1, g.1));
    if equal {
        return None;
    }
    Some(format!(
        "    expr: {quoted}, time: {time_text},\n        exp: {}\n        got: {}",
        samples_string(&expected),
        samples_string(&got)
    ))
}
