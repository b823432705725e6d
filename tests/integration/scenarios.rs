//! The scenario corpus of `tests/data/scenarios/`: each folder holds an objective
//! (`.slo`, with its routing), a recorded history (`history.series`) and the outcome
//! a person should see (`expected.yaml`: which alerts page or ticket, when, and who is
//! notified after routing and inhibition, or none at all). Every folder found is run
//! twice:
//!
//! - through `mlslo backtest` (the library's [`mlslo::backtest`]): the firings of every
//!   page and ticket, their times and their receivers must be the expected ones;
//! - for the rule side, as a promtool unit test over the rules `mlslo build` writes: the
//!   history as `input_series`, and at times where the expected outcome leaves no
//!   doubt, the alerts that must (or must not) fire; `promtool test rules` and
//!   `mlslo test` must both pass it.
//!
//! Failures name the scenario and every difference, so one run shows all of them.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use mlslo::base::diagnostic::SourceMap;
use mlslo::prometheus::model::duration::{format_model_duration, parse_model_duration};
use mlslo::prometheus::promql::Labels;
use mlslo::tools::backtest::{AlertHistory, Dataset, Report};
use serde::Deserialize;

use crate::support::{
    data, failed_requests, installed, latency_bucket, metric_named, mlslo, read, scratch, stderr,
    stdout, write, PROMTOOL,
};

/// The severities of the alerts a scenario speaks about.
const SEVERITIES: [&str; 2] = ["page", "ticket"];

/// Whether an alert is a page or ticket of an objective. The alerts on the
/// monitoring path (`kind="monitoring"`: the Watchdog, missing self-metrics, which
/// no recorded history here has) have their own generated tests.
fn is_objective_alert(labels: &BTreeMap<String, String>) -> bool {
    labels
        .get("severity")
        .is_some_and(|severity| SEVERITIES.contains(&severity.as_str()))
        && labels.get("kind").map(String::as_str) != Some("monitoring")
}

/// The history of every scenario is written at this interval (its `interval:` header).
const INTERVAL_MS: i64 = 60_000;

/// Between two promtool expectations where the outcome is certain.
const EVAL_STEP_MS: i64 = 10 * 60_000;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExpectedFile {
    alerts: Vec<ExpectedAlertText>,
    /// Per receiver, the notifications carrying a firing alert that Alertmanager sends
    /// over the history; checked when given.
    #[serde(default)]
    notifications: Option<BTreeMap<String, usize>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExpectedAlertText {
    alert: String,
    #[serde(default)]
    labels: BTreeMap<String, String>,
    firing: Vec<ExpectedFiringText>,
    #[serde(default)]
    notified: Vec<String>,
    inhibited_by: Option<String>,
    /// For an alert muted when it starts: when its first notification is sent, once
    /// the inhibiting alert has resolved; absent when it is never notified.
    notified_at: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExpectedFiringText {
    from: String,
    until: String,
}

/// Times in milliseconds from the start of the history, both ends inclusive.
#[derive(Clone, Copy, Debug, PartialEq)]
struct TimeRange {
    low: i64,
    high: i64,
}

impl TimeRange {
    fn contains(&self, ms: i64) -> bool {
        self.low <= ms && ms <= self.high
    }
}

impl std::fmt::Display for TimeRange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.low == self.high {
            write!(f, "{}", format_model_duration(self.low))
        } else {
            write!(
                f,
                "{}..{}",
                format_model_duration(self.low),
                format_model_duration(self.high)
            )
        }
    }
}

/// One firing: when it starts, and when it stops (the first evaluation at which it no
/// longer fires; the end of the history when it still fires there).
#[derive(Debug)]
struct ExpectedFiring {
    from: TimeRange,
    until: TimeRange,
}

#[derive(Debug)]
struct ExpectedAlert {
    alert: String,
    labels: BTreeMap<String, String>,
    firing: Vec<ExpectedFiring>,
    /// Who each firing reaches; empty when it is inhibited.
    notified: Vec<String>,
    inhibited_by: Option<String>,
    /// When an inhibited alert is notified after all; `None` for never.
    notified_at: Option<TimeRange>,
}

impl ExpectedAlert {
    fn name(&self) -> String {
        let labels: Vec<String> = self
            .labels
            .iter()
            .map(|(k, v)| format!("{k}={v:?}"))
            .collect();
        format!("{}{{{}}}", self.alert, labels.join(", "))
    }

    fn matches(&self, alert: &AlertHistory) -> bool {
        alert.alertname == self.alert
            && self
                .labels
                .iter()
                .all(|(k, v)| alert.labels.get(k) == Some(v))
    }

    /// Whether this alert certainly fires (`Some(true)`), certainly does not
    /// (`Some(false)`) at `ms`, or the expected outcome leaves it open (`None`).
    fn certainly_firing_at(&self, ms: i64, end_ms: i64) -> Option<bool> {
        let mut certain_stretch = false;
        let mut possible = false;
        for firing in &self.firing {
            let still_firing = |at: i64| at < firing.until.low || firing.until.low == end_ms;
            if firing.from.high <= ms && still_firing(ms) {
                certain_stretch = true;
            }
            let before = ms < firing.from.low;
            let after = ms >= firing.until.high && firing.until.high < end_ms;
            if !(before || after) {
                possible = true;
            }
        }
        if certain_stretch {
            Some(true)
        } else if possible {
            None
        } else {
            Some(false)
        }
    }
}

/// A scenario folder, read.
struct Scenario {
    name: String,
    folder: PathBuf,
    history: String,
    end_ms: i64,
    expected: Vec<ExpectedAlert>,
    notifications: Option<BTreeMap<String, usize>>,
}

/// Every folder of `tests/data/scenarios/`, sorted by name.
fn scenario_folders() -> Vec<PathBuf> {
    let root = data("scenarios");
    let mut folders: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap_or_else(|error| panic!("{}: {error}", root.display()))
        .map(|entry| entry.expect("folder entries are readable").path())
        .filter(|path| path.is_dir())
        .collect();
    folders.sort();
    folders
}

fn folder_name(folder: &Path) -> String {
    folder
        .file_name()
        .expect("a scenario folder has a name")
        .to_string_lossy()
        .into_owned()
}

/// `2h5m`, `2h5m..2h10m`; `end` is the last sample of the history.
fn parse_range(text: &str, end_ms: i64) -> Result<TimeRange, String> {
    let time = |text: &str| -> Result<i64, String> {
        let text = text.trim();
        if text == "end" {
            return Ok(end_ms);
        }
        parse_model_duration(text).map_err(|error| format!("bad time {text:?}: {error}"))
    };
    let (low, high) = match text.split_once("..") {
        Some((low, high)) => (time(low)?, time(high)?),
        None => (time(text)?, time(text)?),
    };
    if low > high {
        return Err(format!("{text:?} runs backwards"));
    }
    if high > end_ms {
        return Err(format!(
            "{text:?} is after the end of the history ({})",
            format_model_duration(end_ms)
        ));
    }
    Ok(TimeRange { low, high })
}

/// The last sample of a history in series notation. Its header must say one sample a
/// minute and no `start:`, since promtool's input series start at the epoch.
fn history_end_ms(name: &str, history: &str) -> i64 {
    for line in history.lines().map(str::trim) {
        if let Some(interval) = line.strip_prefix("interval:") {
            assert_eq!(
                parse_model_duration(interval.trim()),
                Ok(INTERVAL_MS),
                "{name}: history.series must be written at one sample a minute"
            );
        }
        assert!(
            !line.starts_with("start:"),
            "{name}: history.series starts at the epoch, as promtool's input series do"
        );
    }
    let mut dataset = Dataset::default();
    dataset
        .add_file("history.series", history)
        .unwrap_or_else(|error| panic!("{name}/{error}"));
    let (first, last) = dataset
        .extent_ms()
        .unwrap_or_else(|| panic!("{name}: history.series has no samples"));
    assert_eq!(first, 0, "{name}: the history starts at the epoch");
    last
}

/// `name{labels} values` split after the closing brace (label values may hold spaces).
fn split_series_line<'a>(name: &str, line: &'a str) -> (&'a str, &'a str) {
    let at = match line.find('{') {
        Some(_) => line.rfind('}').map(|brace| brace + 1),
        None => line.find(' '),
    }
    .unwrap_or_else(|| panic!("{name}: a series line without values: {line}"));
    (&line[..at], line[at..].trim())
}

fn read_scenario(folder: &Path) -> Scenario {
    let name = folder_name(folder);
    let history = read(&folder.join("history.series"));
    let end_ms = history_end_ms(&name, &history);
    let text = read(&folder.join("expected.yaml"));
    let file: ExpectedFile =
        yaml_serde::from_str(&text).unwrap_or_else(|error| panic!("{name}/expected.yaml: {error}"));
    let expected = file
        .alerts
        .into_iter()
        .map(|alert| {
            let at = |error: String| panic!("{name}/expected.yaml: {}: {error}", alert.alert);
            assert!(
                alert.inhibited_by.is_none() || alert.notified.is_empty(),
                "{name}/expected.yaml: {}: an inhibited alert notifies nobody",
                alert.alert
            );
            assert!(
                !alert.firing.is_empty(),
                "{name}/expected.yaml: {}: an expected alert fires at least once",
                alert.alert
            );
            assert!(
                alert.notified_at.is_none() || alert.inhibited_by.is_some(),
                "{name}/expected.yaml: {}: notified_at is for an alert inhibited when it starts",
                alert.alert
            );
            let notified_at = alert
                .notified_at
                .as_deref()
                .map(|text| parse_range(text, end_ms).unwrap_or_else(at));
            let firing = alert
                .firing
                .iter()
                .map(|firing| ExpectedFiring {
                    from: parse_range(&firing.from, end_ms).unwrap_or_else(at),
                    until: parse_range(&firing.until, end_ms).unwrap_or_else(at),
                })
                .collect();
            ExpectedAlert {
                alert: alert.alert,
                labels: alert.labels,
                firing,
                notified: alert.notified,
                inhibited_by: alert.inhibited_by,
                notified_at,
            }
        })
        .collect();
    Scenario {
        name,
        folder: folder.to_path_buf(),
        history,
        end_ms,
        expected,
        notifications: file.notifications,
    }
}

/// The `.slo` files of a scenario folder, in one source map.
fn sources(scenario: &Scenario) -> SourceMap {
    let mut sources = SourceMap::new();
    let mut files: Vec<PathBuf> = std::fs::read_dir(&scenario.folder)
        .expect("scenario folder")
        .map(|entry| entry.expect("entry").path())
        .filter(|path| path.extension().is_some_and(|extension| extension == "slo"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "{}: no .slo file", scenario.name);
    for file in files {
        sources.add(folder_name(&file), read(&file));
    }
    sources
}

/// The backtest report of every scenario, computed once for both tests.
fn reports() -> &'static BTreeMap<String, Result<Report, String>> {
    static REPORTS: OnceLock<BTreeMap<String, Result<Report, String>>> = OnceLock::new();
    REPORTS.get_or_init(|| {
        scenario_folders()
            .iter()
            .map(|folder| {
                let scenario = read_scenario(folder);
                let report = mlslo::backtest(
                    &sources(&scenario),
                    &[("history.series", &scenario.history)],
                    &mlslo::BacktestOptions::default(),
                );
                (scenario.name, report)
            })
            .collect()
    })
}

/// The pages and tickets of a report that fired at least once.
fn fired(report: &Report) -> Vec<&AlertHistory> {
    report
        .alerts
        .iter()
        .filter(|alert| !alert.firing.is_empty() && is_objective_alert(&alert.labels))
        .collect()
}

/// The one fired alert an expected alert describes, or why there is none.
fn matching<'a>(expected: &ExpectedAlert, report: &'a Report) -> Result<&'a AlertHistory, String> {
    let found: Vec<&AlertHistory> = fired(report)
        .into_iter()
        .filter(|alert| expected.matches(alert))
        .collect();
    match found.as_slice() {
        [one] => Ok(one),
        [] => Err(format!("{} never fired", expected.name())),
        many => Err(format!(
            "{} matches {} alerts, give labels that tell them apart: {}",
            expected.name(),
            many.len(),
            many.iter()
                .map(|alert| describe(alert))
                .collect::<Vec<_>>()
                .join("; ")
        )),
    }
}

/// An alert of the report with its labels and firings, for messages.
fn describe(alert: &AlertHistory) -> String {
    let labels: Vec<String> = alert
        .labels
        .iter()
        .filter(|(k, _)| *k != "alertname")
        .map(|(k, v)| format!("{k}={v:?}"))
        .collect();
    let firings: Vec<String> = alert
        .firing
        .iter()
        .zip(alert.pages.iter().map(Some).chain(std::iter::repeat(None)))
        .map(|(span, page)| {
            let until = if span.open {
                "end".to_string()
            } else {
                format_model_duration(span.end_ms)
            };
            let who = match page {
                Some(page) => match &page.inhibited_by {
                    Some(by) => format!("inhibited by {by}"),
                    None => format!("notified {:?}", page.receivers),
                },
                None => "not routed".to_string(),
            };
            format!(
                "{}..{} ({who})",
                format_model_duration(span.start_ms),
                until
            )
        })
        .collect();
    format!(
        "{}{{{}}} firing {}",
        alert.alertname,
        labels.join(", "),
        firings.join(", ")
    )
}

/// Every difference between a backtest report and the expected outcome.
fn backtest_differences(scenario: &Scenario, report: &Report) -> Vec<String> {
    let mut differences = Vec::new();
    for error in &report.rule_errors {
        differences.push(format!("rule evaluation failed: {error}"));
    }
    if report.end_ms != scenario.end_ms {
        differences.push(format!(
            "the backtest ran to {}, the history ends at {}",
            format_model_duration(report.end_ms),
            format_model_duration(scenario.end_ms)
        ));
    }
    let mut explained = BTreeSet::new();
    for expected in &scenario.expected {
        let alert = match matching(expected, report) {
            Ok(alert) => alert,
            Err(difference) => {
                differences.push(difference);
                continue;
            }
        };
        explained.insert((alert.alertname.clone(), alert.labels.clone()));
        let name = expected.name();
        if alert.firing.len() != expected.firing.len() {
            differences.push(format!(
                "{name}: expected {} firing(s), got {}: {}",
                expected.firing.len(),
                alert.firing.len(),
                describe(alert)
            ));
            continue;
        }
        for (index, (span, want)) in alert.firing.iter().zip(&expected.firing).enumerate() {
            let nth = index + 1;
            if !want.from.contains(span.start_ms) {
                differences.push(format!(
                    "{name}: firing {nth} should start at {}, started at {}",
                    want.from,
                    format_model_duration(span.start_ms)
                ));
            }
            let stopped = if span.open {
                scenario.end_ms
            } else {
                span.end_ms
            };
            if !want.until.contains(stopped) || (want.until.low == scenario.end_ms && !span.open) {
                let got = if span.open {
                    "still fires at the end".to_string()
                } else {
                    format!("stopped at {}", format_model_duration(span.end_ms))
                };
                let want_text = if want.until.low == scenario.end_ms {
                    "still fire at the end".to_string()
                } else {
                    format!("stop at {}", want.until)
                };
                differences.push(format!("{name}: firing {nth} should {want_text}, {got}"));
            }
            match alert.pages.get(index) {
                None => differences.push(format!("{name}: firing {nth} was not routed")),
                Some(page) => {
                    let got = match &page.inhibited_by {
                        Some(by) => format!("inhibited by {by}"),
                        None => format!("notified {:?}", page.receivers),
                    };
                    let want_text = match &expected.inhibited_by {
                        Some(by) => format!("inhibited by {by}"),
                        None => format!("notified {:?}", expected.notified),
                    };
                    if got != want_text {
                        differences.push(format!(
                            "{name}: firing {nth} should be {want_text}, was {got}"
                        ));
                    }
                    let late = match (page.inhibited_by.is_some(), page.notified_ms) {
                        (true, Some(at)) => Some(at),
                        _ => None,
                    };
                    match (expected.notified_at, late) {
                        (None, None) => {}
                        (Some(want), Some(at)) if want.contains(at) => {}
                        (want, at) => differences.push(format!(
                            "{name}: firing {nth} should be notified after its inhibition {}, was {}",
                            want.map_or("never".to_string(), |w| format!("at {w}")),
                            at.map_or("never".to_string(), |at| format!(
                                "at {}",
                                format_model_duration(at)
                            )),
                        )),
                    }
                }
            }
        }
    }
    for alert in fired(report) {
        if !explained.contains(&(alert.alertname.clone(), alert.labels.clone())) {
            differences.push(format!("unexpected: {}", describe(alert)));
        }
    }
    if let Some(expected) = &scenario.notifications {
        let got: BTreeMap<String, usize> = report
            .notifications
            .iter()
            .filter(|receiver| receiver.notifications > 0)
            .map(|receiver| (receiver.receiver.clone(), receiver.notifications))
            .collect();
        if got != *expected {
            differences.push(format!(
                "notifications per receiver should be {expected:?}, were {got:?}"
            ));
        }
    }
    differences
}

#[test]
fn every_scenario_folder_is_complete_and_described() {
    let readme = read(&data("scenarios").join("README.md"));
    let folders = scenario_folders();
    assert!(!folders.is_empty(), "no scenario in tests/data/scenarios/");
    let mut problems = Vec::new();
    let names: BTreeSet<String> = folders.iter().map(|folder| folder_name(folder)).collect();
    for line in readme.lines() {
        if let Some(section) = line
            .strip_prefix("### `")
            .and_then(|rest| rest.strip_suffix("/`"))
        {
            if !names.contains(section) {
                problems.push(format!(
                    "the README describes {section}/, which is not a folder"
                ));
            }
        }
    }
    for folder in &folders {
        let name = folder_name(folder);
        for file in ["history.series", "expected.yaml"] {
            if !folder.join(file).is_file() {
                problems.push(format!("{name}: no {file}"));
            }
        }
        if !readme.contains(&format!("### `{name}/`")) {
            problems.push(format!("{name}: no `### `{name}/`` section in the README"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn backtest_gives_each_scenario_its_expected_outcome() {
    let mut failures = Vec::new();
    for folder in scenario_folders() {
        let scenario = read_scenario(&folder);
        let differences = match &reports()[&scenario.name] {
            Ok(report) => backtest_differences(&scenario, report),
            Err(error) => vec![format!("the backtest failed: {error}")],
        };
        if !differences.is_empty() {
            failures.push(format!(
                "scenario {}:\n  {}",
                scenario.name,
                differences.join("\n  ")
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "mlslo backtest differs from expected.yaml:\n{}",
        failures.join("\n")
    );
}

/// The increase of the counters of a history whose labels satisfy `pick`: their last
/// value less their first (the scenarios' counters never reset).
fn counted(dataset: &Dataset, pick: &dyn Fn(&Labels) -> bool) -> f64 {
    dataset
        .series
        .iter()
        .filter(|(labels, _)| pick(labels))
        .map(|(_, samples)| match (samples.first(), samples.last()) {
            (Some(first), Some(last)) => last.1 - first.1,
            _ => 0.0,
        })
        .sum()
}

#[test]
fn budget_spent_is_the_range_errors_over_the_window_budget() {
    // Counted from the recorded counters, not from any rule: the budget of a 30d
    // window is the budget ratio times 30 days of requests at the history's rate,
    // and the range spends its errors of it.
    let window_minutes = 30.0 * 24.0 * 60.0;
    type Count = Box<dyn Fn(&Dataset) -> f64>;
    let cases: Vec<(&str, &str, f64, Count, Count)> = vec![
        (
            "fast-burn",
            "score-api",
            0.001,
            Box::new(move |d| counted(d, &failed_requests("http_requests_total", "code"))),
            Box::new(move |d| counted(d, &metric_named("http_requests_total"))),
        ),
        (
            "slow-burn",
            "feed",
            0.001,
            Box::new(move |d| counted(d, &failed_requests("http_requests_total", "code"))),
            Box::new(move |d| counted(d, &metric_named("http_requests_total"))),
        ),
        (
            "outage",
            "gateway",
            0.001,
            Box::new(move |d| {
                counted(d, &failed_requests("istio_requests_total", "response_code"))
            }),
            Box::new(move |d| counted(d, &metric_named("istio_requests_total"))),
        ),
        (
            "outage",
            "gateway-latency",
            0.01,
            Box::new(move |d| {
                counted(d, &latency_bucket("+Inf")) - counted(d, &latency_bucket("0.5"))
            }),
            Box::new(move |d| counted(d, &latency_bucket("+Inf"))),
        ),
    ];
    let mut failures = Vec::new();
    for (name, slo, budget_ratio, errors, total) in &cases {
        let scenario = read_scenario(&data("scenarios").join(name));
        let mut dataset = Dataset::default();
        dataset
            .add_file("history.series", &scenario.history)
            .expect("valid history");
        let minutes = scenario.end_ms as f64 / INTERVAL_MS as f64;
        let per_minute = total(&dataset) / minutes;
        let expected = 100.0 * errors(&dataset) / (budget_ratio * per_minute * window_minutes);
        let report = reports()[*name].as_ref().expect("the backtest runs");
        let Some(budget) = report.budgets.iter().find(|b| b.objective.slo == *slo) else {
            failures.push(format!("{name}: no budget for {slo}"));
            continue;
        };
        // The 5m rates of the history's first minutes see less than five minutes of
        // it, so the backtest undercounts their requests a little.
        if (budget.spent_percent - expected).abs() > expected * 0.015 || budget.full_window {
            failures.push(format!(
                "{name}/{slo}: spent {:.3}% (full window: {}), counted {expected:.3}%",
                budget.spent_percent, budget.full_window
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// An alerting rule of a generated rule file: its name, labels and annotations.
struct AlertRule {
    alert: String,
    labels: BTreeMap<String, String>,
    annotations: BTreeMap<String, String>,
}

/// The alerting rules of the generated rule files, with the files' paths relative to
/// `folder`.
fn alert_rules(folder: &Path) -> (Vec<String>, Vec<AlertRule>) {
    let prometheus = folder.join("out/prometheus");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&prometheus)
        .unwrap_or_else(|error| panic!("{}: {error}", prometheus.display()))
        .map(|entry| entry.expect("entry").path())
        .collect();
    files.sort();
    let strings = |value: &yaml_serde::Value| -> BTreeMap<String, String> {
        value
            .as_mapping()
            .map(|mapping| {
                mapping
                    .iter()
                    .map(|(k, v)| {
                        let text = |v: &yaml_serde::Value| match v {
                            yaml_serde::Value::String(s) => s.clone(),
                            other => yaml_serde::to_string(other)
                                .expect("a scalar")
                                .trim()
                                .to_string(),
                        };
                        (text(k), text(v))
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut rules = Vec::new();
    let mut names = Vec::new();
    for file in files {
        let text = read(&file);
        let mut document: yaml_serde::Value = yaml_serde::from_str(&text).expect("generated YAML");
        // The annotations that say an alert's value (a burn alert's description)
        // are left out of the rules these tests run: their subject is when alerts
        // fire and for whom, and the generated tests check those texts where the
        // value is modelled exactly.
        let mut left_out = false;
        for group in document["groups"].as_sequence_mut().into_iter().flatten() {
            for rule in group["rules"].as_sequence_mut().into_iter().flatten() {
                if let Some(annotations) = rule["annotations"].as_mapping_mut() {
                    let before = annotations.len();
                    annotations
                        .retain(|_, text| !text.as_str().is_some_and(|text| text.contains("{{")));
                    left_out |= annotations.len() != before;
                }
                let Some(alert) = rule["alert"].as_str() else {
                    continue;
                };
                rules.push(AlertRule {
                    alert: alert.to_string(),
                    labels: strings(&rule["labels"]),
                    annotations: strings(&rule["annotations"]),
                });
            }
        }
        if left_out {
            std::fs::write(&file, yaml_serde::to_string(&document).expect("YAML"))
                .unwrap_or_else(|error| panic!("{}: {error}", file.display()));
        }
        names.push(format!(
            "out/prometheus/{}",
            file.file_name().expect("file name").to_string_lossy()
        ));
    }
    (names, rules)
}

/// A YAML flow mapping of strings, quoted as JSON (a subset of YAML's double quotes).
fn flow_mapping(map: &BTreeMap<String, String>) -> String {
    let pairs: Vec<String> = map
        .iter()
        .map(|(k, v)| {
            format!(
                "{}: {}",
                serde_json::to_string(k).expect("string"),
                serde_json::to_string(v).expect("string")
            )
        })
        .collect();
    format!("{{{}}}", pairs.join(", "))
}

/// The promtool unit test of a scenario: its history as input series and, at each time
/// where expected.yaml leaves no doubt, the alerts of each name that fire. Labels come
/// from the backtest's alert of the same expectation (where there is none, that
/// expectation is left out: the backtest test reports it) and annotations from the
/// generated rule.
fn unit_test(
    scenario: &Scenario,
    report: &Report,
    rule_files: &[String],
    rules: &[AlertRule],
) -> String {
    let names: BTreeSet<&str> = rules
        .iter()
        .filter(|rule| is_objective_alert(&rule.labels))
        .map(|rule| rule.alert.as_str())
        .collect();
    let mut times: BTreeSet<i64> = (0..=scenario.end_ms / EVAL_STEP_MS)
        .map(|step| step * EVAL_STEP_MS)
        .collect();
    times.insert(scenario.end_ms);
    for expected in &scenario.expected {
        for firing in &expected.firing {
            times.extend([
                firing.from.low - INTERVAL_MS,
                firing.from.high,
                firing.until.low - INTERVAL_MS,
                firing.until.high,
            ]);
        }
    }
    let mut cases = String::new();
    // The expectations that some eval_time checks as firing.
    let mut checked_firing = BTreeSet::new();
    for &ms in times.range(0..=scenario.end_ms) {
        'names: for name in &names {
            let mut alerts = Vec::new();
            let mut firing_here = Vec::new();
            for (index, expected) in scenario.expected.iter().enumerate() {
                if expected.alert != *name {
                    continue;
                }
                match expected.certainly_firing_at(ms, scenario.end_ms) {
                    None => continue 'names,
                    Some(false) => {}
                    Some(true) => match matching(expected, report) {
                        Ok(alert) => {
                            alerts.push(alert);
                            firing_here.push(index);
                        }
                        Err(_) => continue 'names,
                    },
                }
            }
            checked_firing.extend(firing_here);
            cases.push_str(&format!(
                "      - eval_time: {}\n        alertname: {}\n",
                format_model_duration(ms),
                serde_json::to_string(name).expect("string")
            ));
            if alerts.is_empty() {
                cases.push_str("        exp_alerts: []\n");
                continue;
            }
            cases.push_str("        exp_alerts:\n");
            for alert in alerts {
                let mut labels = alert.labels.clone();
                labels.remove("alertname");
                let rule = rules
                    .iter()
                    .find(|rule| {
                        rule.alert == *name
                            && rule.labels.iter().all(|(k, v)| labels.get(k) == Some(v))
                    })
                    .unwrap_or_else(|| {
                        panic!("{}: no rule fires {}", scenario.name, describe(alert))
                    });
                assert!(
                    rule.annotations.values().all(|text| !text.contains("{{")),
                    "{}: the annotations of {name} are templates; expand them here",
                    scenario.name
                );
                cases.push_str(&format!(
                    "          - exp_labels: {}\n            exp_annotations: {}\n",
                    flow_mapping(&labels),
                    flow_mapping(&rule.annotations)
                ));
            }
        }
    }
    for (index, expected) in scenario.expected.iter().enumerate() {
        assert!(
            checked_firing.contains(&index) || matching(expected, report).is_err(),
            "{}: expected.yaml leaves no moment at which {} certainly fires, \
             so promtool cannot check it; narrow its ranges",
            scenario.name,
            expected.name()
        );
    }
    let mut input = String::new();
    for line in scenario.history.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') || line.starts_with("interval:") {
            continue;
        }
        let (series, values) = split_series_line(&scenario.name, line);
        input.push_str(&format!(
            "      - series: {}\n        values: {}\n",
            serde_json::to_string(series).expect("string"),
            serde_json::to_string(values).expect("string")
        ));
    }
    let rule_files: Vec<String> = rule_files
        .iter()
        .map(|file| serde_json::to_string(file).expect("string"))
        .collect();
    format!(
        "rule_files: [{}]\nevaluation_interval: 1m\ntests:\n  - name: {}\n    interval: 1m\n    input_series:\n{input}    alert_rule_test:\n{cases}",
        rule_files.join(", "),
        serde_json::to_string(&scenario.name).expect("string"),
    )
}

/// The first lines of a tool's output, enough to see the first failures.
fn head(output: &Output) -> String {
    let text = format!("{}{}", stdout(output), stderr(output));
    let lines: Vec<&str> = text.lines().take(30).collect();
    lines.join("\n    ")
}

#[test]
fn promtool_and_mlslo_test_fire_each_scenario_as_expected() {
    let promtool = installed(PROMTOOL);
    let mut failures = Vec::new();
    for folder in scenario_folders() {
        let scenario = read_scenario(&folder);
        let Ok(report) = &reports()[&scenario.name] else {
            failures.push(format!(
                "scenario {}: no backtest to take labels from",
                scenario.name
            ));
            continue;
        };
        let work = scratch(&format!("scenario-{}", scenario.name));
        let out = work.join("out");
        let build = mlslo(&[
            "build",
            folder.to_str().expect("UTF-8 path"),
            "-o",
            out.to_str().expect("UTF-8 path"),
        ]);
        if !build.status.success() {
            failures.push(format!(
                "scenario {}: mlslo build failed:\n    {}",
                scenario.name,
                head(&build)
            ));
            continue;
        }
        let (rule_files, rules) = alert_rules(&work);
        let test = write(
            &work,
            "scenario.test.yml",
            unit_test(&scenario, report, &rule_files, &rules),
        );
        let mut runs = vec![("mlslo test", mlslo(&["test", &test]))];
        if let Some(promtool) = promtool {
            let output = Command::new(promtool)
                .args(["test", "rules", &test])
                .current_dir(&*work)
                .output()
                .expect("promtool runs");
            runs.push(("promtool test rules", output));
        }
        for (tool, output) in runs {
            if !output.status.success() {
                failures.push(format!(
                    "scenario {}: {tool} fails on the expected outcome:\n    {}",
                    scenario.name,
                    head(&output)
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
