//! Alert-quality scores, the four attributes of the SRE workbook's "Alerting on
//! SLOs" (precision, recall, detection time, reset time) plus pages per week, per
//! alert and per objective (or group), against incident windows: labelled by hand
//! in an `--incidents` file, or else inferred from the objective's SLI.
//!
//! Definitions (the README says the same to users):
//! - An incident is a time interval `[start, end)` of one objective or group. A
//!   firing is a true positive when it overlaps an incident of its own objective
//!   (`firing start < incident end` and `incident start < firing end`), else a false
//!   positive; one firing that overlaps two incidents is one true positive and
//!   detects both.
//! - Precision: true-positive firings / firings. Recall: incidents overlapped by at
//!   least one firing / incidents. Either is `None` when its denominator is zero.
//! - Detection time of an incident: the start of the earliest overlapping firing
//!   minus the incident's start, 0 when it already fired; the mean over detected
//!   incidents, `None` when none was detected.
//! - Reset time of an incident that ended in the range: the end of the latest
//!   overlapping firing minus the incident's end, 0 when it stopped first; a firing
//!   still open at the range's end gives a lower bound (`reset_at_least`). The mean
//!   over detected incidents that ended, `None` when there is none.
//! - Pages per week: an alert's firings per 7 days of range; an objective's, the
//!   firings of its page alerts.
//! - An objective's scores count its alerts but those on the budget left
//!   ([`is_budget_state`]), which are scored on their own rows.
//!
//! Invariants: pure; output sorted (objective, then alert name and labels, then
//! time); an incident file error names the file, and the line where there is one;
//! an incident file is at most [`MAX_INCIDENT_FILE_BYTES`] and
//! [`MAX_INCIDENTS`] incidents.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{data::parse_time_ms, AlertHistory, ErrorRatio, ObjectiveKey};
use crate::compiler::ir::naming;
use crate::prometheus::alertmanager::yaml::{line_of, PathStep};
use crate::prometheus::model::duration::{format_model_duration, MINUTE};

/// The burn rate above which the SLI counts as an incident when none is labelled:
/// errors faster than the budget allows over the window (1x spends it exactly).
pub const INFERRED_BURN_RATE: f64 = 1.0;

/// How long the burn must last to be an inferred incident: shorter blips spend a
/// negligible share of a month's budget and are what burn-rate alerts are meant to
/// stay quiet on.
pub const INFERRED_MIN_DURATION_MS: i64 = 15 * MINUTE;

/// The largest incident file read.
pub const MAX_INCIDENT_FILE_BYTES: usize = 4 << 20;

/// The most incidents one file may hold.
pub const MAX_INCIDENTS: usize = 10_000;

const WEEK_MS: f64 = 7.0 * 24.0 * 3_600_000.0;

/// One incident window of one objective or group.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Incident {
    #[serde(flatten)]
    pub objective: ObjectiveKey,
    pub start_ms: i64,
    pub end_ms: i64,
    /// Still going at the end of the range (inferred incidents only).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub open: bool,
}

impl Incident {
    /// The end used for overlaps: an open incident lasts beyond the range.
    fn overlap_end(&self) -> i64 {
        if self.open {
            i64::MAX
        } else {
            self.end_ms
        }
    }
}

/// Where the incidents came from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum IncidentSource {
    /// Labelled in this file.
    File { name: String },
    /// Inferred from each objective's recorded SLI, as `rule` says.
    Inferred { rule: String },
}

/// The scores of one set of firings against one set of incidents.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Score {
    pub firings: usize,
    pub true_positives: usize,
    pub precision: Option<f64>,
    pub incidents: usize,
    pub detected: usize,
    pub recall: Option<f64>,
    pub detection_ms: Option<i64>,
    pub reset_ms: Option<i64>,
    /// A firing was still open at the range's end: `reset_ms` is a lower bound.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub reset_at_least: bool,
    pub pages_per_week: Option<f64>,
}

/// The scores of one alert (one label set of one alerting rule).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AlertScore {
    pub alertname: String,
    pub labels: BTreeMap<String, String>,
    #[serde(skip)]
    pub objective: ObjectiveKey,
    /// Its place in the scored report's `alerts`.
    #[serde(skip)]
    pub alert_index: usize,
    #[serde(flatten)]
    pub score: Score,
}

/// The scores of one objective or group, over all its alerts.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ObjectiveScore {
    #[serde(flatten)]
    pub objective: ObjectiveKey,
    #[serde(flatten)]
    pub score: Score,
}

/// One incident with what caught it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ScoredIncident {
    #[serde(flatten)]
    pub incident: Incident,
    /// The alert name of the earliest firing that overlaps it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detected_by: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detection_ms: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reset_ms: Option<i64>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub reset_at_least: bool,
}

/// Every score of a backtest.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Scores {
    pub source: IncidentSource,
    pub incidents: Vec<ScoredIncident>,
    pub objectives: Vec<ObjectiveScore>,
    pub alerts: Vec<AlertScore>,
}

impl Scores {
    /// The alerts' scores of each objective, in their order.
    pub fn alerts_by_objective(&self) -> BTreeMap<&ObjectiveKey, Vec<&AlertScore>> {
        let mut grouped: BTreeMap<&ObjectiveKey, Vec<&AlertScore>> = BTreeMap::new();
        for alert in &self.alerts {
            grouped.entry(&alert.objective).or_default().push(alert);
        }
        grouped
    }
}

/// The incident file as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct IncidentFile {
    incidents: Vec<IncidentEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct IncidentEntry {
    service: String,
    slo: String,
    #[serde(default)]
    group: BTreeMap<String, String>,
    #[serde(deserialize_with = "time_ms")]
    start: i64,
    #[serde(deserialize_with = "time_ms")]
    end: i64,
}

/// A time as `--start` takes it (RFC 3339 or unix seconds), written as a string or
/// a number, so that its error is placed at its line by the YAML reader.
fn time_ms<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<i64, D::Error> {
    let value = yaml_serde::Value::deserialize(deserializer)?;
    let text = match &value {
        yaml_serde::Value::String(text) => text.clone(),
        yaml_serde::Value::Number(number) => number.to_string(),
        _ => {
            return Err(serde::de::Error::custom(
                "a time must be RFC 3339 or unix seconds",
            ))
        }
    };
    parse_time_ms(&text).map_err(serde::de::Error::custom)
}

/// Reads an incident file (`name` in messages):
///
/// ```yaml
/// incidents:
///   - service: fraud-detector
///     slo: score-api
///     group: {model: ranker}        # only for an objective with group_by
///     start: 2026-11-01T02:00:00Z   # RFC 3339 or unix seconds
///     end: 2026-11-01T02:30:00Z
/// ```
pub fn parse_incidents(name: &str, text: &str) -> Result<Vec<Incident>, String> {
    if text.len() > MAX_INCIDENT_FILE_BYTES {
        return Err(format!(
            "{name}: {} bytes, more than the {MAX_INCIDENT_FILE_BYTES} an incident file may have",
            text.len()
        ));
    }
    let file: IncidentFile = yaml_serde::from_str(text).map_err(|e| located(name, &e))?;
    if file.incidents.len() > MAX_INCIDENTS {
        return Err(format!(
            "{name}: {} incidents, more than the {MAX_INCIDENTS} an incident file may have",
            file.incidents.len()
        ));
    }
    let mut incidents = Vec::with_capacity(file.incidents.len());
    for (index, entry) in file.incidents.into_iter().enumerate() {
        let at = |key: &str| {
            let path = [
                PathStep::Key {
                    name: "incidents".into(),
                    occurrence: 0,
                },
                PathStep::Index(index),
                PathStep::Key {
                    name: key.into(),
                    occurrence: 0,
                },
            ];
            match line_of(text, &path, true) {
                Some(line) => format!("{name}:{line}: incidents[{index}]"),
                None => format!("{name}: incidents[{index}]"),
            }
        };
        if entry.service.is_empty() || entry.slo.is_empty() {
            let key = if entry.service.is_empty() {
                "service"
            } else {
                "slo"
            };
            return Err(format!("{}: {key} is empty", at(key)));
        }
        if entry.end <= entry.start {
            return Err(format!("{}: end is not after start", at("end")));
        }
        incidents.push(Incident {
            objective: ObjectiveKey {
                service: entry.service,
                slo: entry.slo,
                group: entry.group,
            },
            start_ms: entry.start,
            end_ms: entry.end,
            open: false,
        });
    }
    incidents.sort();
    Ok(incidents)
}

/// A YAML error as `file:line: message`, the form of the other errors of the file.
fn located(name: &str, error: &yaml_serde::Error) -> String {
    let message = error.to_string();
    match error.location() {
        Some(location) => {
            let message = message
                .rsplit_once(" at line ")
                .map_or(message.as_str(), |(message, _)| message);
            format!("{name}:{}: {message}", location.line())
        }
        None => format!("{name}: {message}"),
    }
}

/// The rule by which incidents are inferred, in words.
pub fn inference_rule() -> String {
    format!(
        "the {} error ratio above {}x the error budget ratio for {} or more",
        naming::CHAINED_RATE_WINDOW,
        INFERRED_BURN_RATE,
        format_model_duration(INFERRED_MIN_DURATION_MS)
    )
}

/// Incidents inferred from each objective's recorded error ratio: every stretch of
/// evaluations where it stays above [`INFERRED_BURN_RATE`] times the budget ratio
/// for at least [`INFERRED_MIN_DURATION_MS`], from the first such evaluation to the
/// first one at or below it (open when the range ends first).
pub fn infer_incidents(error_ratios: &BTreeMap<ObjectiveKey, ErrorRatio>) -> Vec<Incident> {
    let mut incidents = Vec::new();
    for (objective, ratio) in error_ratios {
        let Some(budget) = ratio.budget else {
            continue;
        };
        let limit = INFERRED_BURN_RATE * budget;
        let mut since: Option<i64> = None;
        let mut close = |start: i64, end: i64, open: bool| {
            if end - start >= INFERRED_MIN_DURATION_MS {
                incidents.push(Incident {
                    objective: objective.clone(),
                    start_ms: start,
                    end_ms: end,
                    open,
                });
            }
        };
        for &(ts, value) in &ratio.points {
            match (since, value > limit) {
                (None, true) => since = Some(ts),
                (Some(start), false) => {
                    close(start, ts, false);
                    since = None;
                }
                _ => {}
            }
        }
        if let (Some(start), Some(&(last, _))) = (since, ratio.points.last()) {
            close(start, last, true);
        }
    }
    incidents.sort();
    incidents
}

/// Whether an alert counts as a page for the objective's pages per week: labelled
/// `severity="page"`, as mlslo's rules are, or `sloth_severity="page"`, as Sloth's.
pub fn is_page(alert: &AlertHistory) -> bool {
    alert.labels.get(naming::LABEL_SEVERITY).map(String::as_str) == Some("page")
        || alert
            .labels
            .get(naming::LABEL_SLOTH_SEVERITY)
            .map(String::as_str)
            == Some("page")
}

/// Whether `alert` is one on the budget left (`ErrorBudgetLow`,
/// `ErrorBudgetExhaustionForecast`). It says the budget is short, not that an
/// incident is on, and by design fires until the budget recovers, days after
/// the incident: counted in its objective's scores it would make the
/// objective's reset time its own.
pub fn is_budget_state(alert: &AlertHistory) -> bool {
    matches!(
        alert.alertname.as_str(),
        naming::ALERT_BUDGET_LOW | naming::ALERT_BUDGET_EXHAUSTION
    )
}

/// Scores the alerts of the `scored` objectives against `incidents` over the range
/// `[start_ms, end_ms]`. Alerts of other objectives are left out.
pub fn score(
    alerts: &[AlertHistory],
    incidents: &[Incident],
    scored: &[ObjectiveKey],
    source: IncidentSource,
    (start_ms, end_ms): (i64, i64),
) -> Scores {
    let weeks = (end_ms - start_ms) as f64 / WEEK_MS;
    let per_week = |firings: usize| (weeks > 0.0).then(|| firings as f64 / weeks);
    let mut objectives = Vec::new();
    let mut alert_scores = Vec::new();
    let mut scored_incidents = Vec::new();
    // Grouped once, so that thousands of objectives cost no quadratic scan.
    let mut incidents_of: BTreeMap<&ObjectiveKey, Vec<&Incident>> = BTreeMap::new();
    for incident in incidents {
        incidents_of
            .entry(&incident.objective)
            .or_default()
            .push(incident);
    }
    let mut alerts_of: BTreeMap<&ObjectiveKey, Vec<(usize, &AlertHistory)>> = BTreeMap::new();
    for (index, alert) in alerts.iter().enumerate() {
        alerts_of
            .entry(&alert.objective)
            .or_default()
            .push((index, alert));
    }
    for objective in scored {
        let own = incidents_of.remove(objective).unwrap_or_default();
        let indexed = alerts_of.remove(objective).unwrap_or_default();
        let mine: Vec<&AlertHistory> = indexed
            .iter()
            .map(|(_, alert)| *alert)
            .filter(|alert| !is_budget_state(alert))
            .collect();
        for &(index, alert) in &indexed {
            let mut score = score_firings(&[alert], &own);
            score.pages_per_week = per_week(alert.firings);
            alert_scores.push(AlertScore {
                alertname: alert.alertname.clone(),
                labels: alert.labels.clone(),
                objective: objective.clone(),
                alert_index: index,
                score,
            });
        }
        let mut score = score_firings(&mine, &own);
        score.pages_per_week =
            per_week(mine.iter().filter(|a| is_page(a)).map(|a| a.firings).sum());
        objectives.push(ObjectiveScore {
            objective: objective.clone(),
            score,
        });
        for incident in own {
            let catch = catch(&mine, incident);
            scored_incidents.push(ScoredIncident {
                incident: incident.clone(),
                detected_by: catch.first.map(|alert| alert.alertname.clone()),
                detection_ms: catch.first.map(|_| catch.detection_ms),
                reset_ms: catch.reset_ms,
                reset_at_least: catch.reset_at_least,
            });
        }
    }
    objectives.sort_by(|a, b| a.objective.cmp(&b.objective));
    alert_scores.sort_by(|a, b| {
        (&a.objective, &a.alertname, &a.labels).cmp(&(&b.objective, &b.alertname, &b.labels))
    });
    scored_incidents.sort_by(|a, b| a.incident.cmp(&b.incident));
    Scores {
        source,
        incidents: scored_incidents,
        objectives,
        alerts: alert_scores,
    }
}

/// How one incident was caught by some alerts.
struct Catch<'a> {
    /// The alert whose firing overlapping the incident starts first.
    first: Option<&'a AlertHistory>,
    detection_ms: i64,
    reset_ms: Option<i64>,
    reset_at_least: bool,
}

fn catch<'a>(alerts: &[&'a AlertHistory], incident: &Incident) -> Catch<'a> {
    let mut first: Option<(i64, &AlertHistory)> = None;
    let mut last_end: Option<(i64, bool)> = None;
    for alert in alerts {
        for firing in alert.firing.iter().filter(|f| overlaps(f, incident)) {
            if first.is_none_or(|(start, _)| firing.start_ms < start) {
                first = Some((firing.start_ms, alert));
            }
            let end = (firing.end_ms, firing.open);
            if last_end.is_none_or(|(ms, open)| (end.0, end.1) > (ms, open)) {
                last_end = Some(end);
            }
        }
    }
    let detection_ms = first.map_or(0, |(start, _)| (start - incident.start_ms).max(0));
    let (reset_ms, reset_at_least) = match last_end {
        Some((end, open)) if !incident.open => (Some((end - incident.end_ms).max(0)), open),
        _ => (None, false),
    };
    Catch {
        first: first.map(|(_, alert)| alert),
        detection_ms,
        reset_ms,
        reset_at_least,
    }
}

fn overlaps(firing: &super::Interval, incident: &Incident) -> bool {
    let firing_end = if firing.open { i64::MAX } else { firing.end_ms };
    firing.start_ms < incident.overlap_end() && incident.start_ms < firing_end
}

/// The scores of the firings of `alerts` against `incidents` (pages per week left
/// to the caller, who knows which firings are pages).
fn score_firings(alerts: &[&AlertHistory], incidents: &[&Incident]) -> Score {
    let firings: usize = alerts.iter().map(|a| a.firing.len()).sum();
    let true_positives = alerts
        .iter()
        .flat_map(|a| &a.firing)
        .filter(|f| incidents.iter().any(|i| overlaps(f, i)))
        .count();
    let catches: Vec<Catch> = incidents.iter().map(|i| catch(alerts, i)).collect();
    let detected: Vec<&Catch> = catches.iter().filter(|c| c.first.is_some()).collect();
    let resets: Vec<i64> = detected.iter().filter_map(|c| c.reset_ms).collect();
    let ratio = |part: usize, whole: usize| (whole > 0).then(|| part as f64 / whole as f64);
    Score {
        firings,
        true_positives,
        precision: ratio(true_positives, firings),
        incidents: incidents.len(),
        detected: detected.len(),
        recall: ratio(detected.len(), incidents.len()),
        detection_ms: mean(detected.iter().map(|c| c.detection_ms)),
        reset_ms: mean(resets.iter().copied()),
        reset_at_least: detected.iter().any(|c| c.reset_at_least),
        pages_per_week: None,
    }
}

/// The mean, rounded to the millisecond; `None` for no values.
fn mean(values: impl Iterator<Item = i64>) -> Option<i64> {
    let (sum, count) = values.fold((0i128, 0i128), |(sum, n), v| (sum + v as i128, n + 1));
    (count > 0).then(|| ((2 * sum + count) / (2 * count)) as i64)
}

/// `97.5%`, or `-` when undefined.
pub fn format_ratio(ratio: Option<f64>) -> String {
    ratio.map_or("-".into(), |r| format!("{:.1}%", 100.0 * r))
}

/// A duration, `>=` before a lower bound, or `-` when undefined.
pub fn format_time_score(ms: Option<i64>, at_least: bool) -> String {
    match ms {
        Some(ms) if at_least => format!(">={}", format_model_duration(ms)),
        Some(ms) => format_model_duration(ms),
        None => "-".into(),
    }
}

/// Pages per week with two decimals, or `-` for an empty range.
pub fn format_per_week(per_week: Option<f64>) -> String {
    per_week.map_or("-".into(), |p| format!("{p:.2}"))
}

/// Where the incidents came from, in words.
pub fn describe_source(source: &IncidentSource) -> String {
    match source {
        IncidentSource::File { name } => format!("incidents labelled in {name}"),
        IncidentSource::Inferred { rule } => format!("incidents inferred from the SLIs: {rule}"),
    }
}

/// The scores section of the text report: the incidents with what caught them, then
/// a table per objective and its alerts.
pub fn render_text(report: &super::Report, scores: &Scores, out: &mut String) {
    use std::fmt::Write as _;
    let _ = writeln!(out, "\nalert quality ({})", describe_source(&scores.source));
    if scores.incidents.is_empty() {
        out.push_str("  no incidents\n");
    }
    for scored in &scores.incidents {
        let incident = &scored.incident;
        let caught = match (&scored.detected_by, scored.detection_ms) {
            (Some(by), Some(ms)) => format!(
                "detected after {} by {by}, reset {}",
                format_model_duration(ms),
                format_time_score(scored.reset_ms, scored.reset_at_least)
            ),
            _ => "not detected".into(),
        };
        let _ = writeln!(
            out,
            "  incident {}  {} .. {}{} ({})  {caught}",
            incident.objective,
            super::format_time(incident.start_ms),
            super::format_time(incident.end_ms),
            if incident.open { " (still going)" } else { "" },
            format_model_duration(incident.end_ms - incident.start_ms),
        );
    }
    let mut rows: Vec<[String; 7]> = Vec::new();
    let cells = |name: String, score: &Score| {
        [
            name,
            score.firings.to_string(),
            format_ratio(score.precision),
            format!(
                "{} ({}/{})",
                format_ratio(score.recall),
                score.detected,
                score.incidents
            ),
            format_time_score(score.detection_ms, false),
            format_time_score(score.reset_ms, score.reset_at_least),
            format_per_week(score.pages_per_week),
        ]
    };
    let alerts_of = scores.alerts_by_objective();
    for objective in &scores.objectives {
        rows.push(cells(objective.objective.to_string(), &objective.score));
        for alert in alerts_of.get(&objective.objective).into_iter().flatten() {
            let name = report.alerts.get(alert.alert_index).map_or_else(
                || alert.alertname.clone(),
                |a| super::display_name(report, a),
            );
            rows.push(cells(format!("  {name}"), &alert.score));
        }
    }
    let header = [
        "OBJECTIVE / ALERT",
        "FIRINGS",
        "PRECISION",
        "RECALL",
        "DETECTION",
        "RESET",
        "PAGES/WEEK",
    ]
    .map(String::from);
    let mut widths = [0; 7];
    for row in std::iter::once(&header).chain(&rows) {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.len());
        }
    }
    for row in std::iter::once(&header).chain(&rows) {
        let mut line = String::from("  ");
        for (i, cell) in row.iter().enumerate() {
            let _ = write!(line, "{cell:<width$}  ", width = widths[i]);
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tools::backtest::Interval;

    const M: i64 = MINUTE;

    fn objective(slo: &str) -> ObjectiveKey {
        ObjectiveKey {
            service: "s".into(),
            slo: slo.into(),
            group: BTreeMap::new(),
        }
    }

    fn alert(severity: &str, firings: &[(i64, i64, bool)]) -> AlertHistory {
        AlertHistory {
            alertname: "Burn".into(),
            labels: BTreeMap::from([
                ("alertname".into(), "Burn".into()),
                ("severity".into(), severity.into()),
            ]),
            objective: objective("o"),
            firings: firings.len(),
            firing_ms: 0,
            pending: Vec::new(),
            firing: firings
                .iter()
                .map(|&(start, end, open)| Interval {
                    start_ms: start * M,
                    end_ms: end * M,
                    open,
                })
                .collect(),
            pages: Vec::new(),
        }
    }

    fn incident(start: i64, end: i64) -> Incident {
        Incident {
            objective: objective("o"),
            start_ms: start * M,
            end_ms: end * M,
            open: false,
        }
    }

    fn scores(alerts: &[AlertHistory], incidents: &[Incident], end: i64) -> Scores {
        let source = IncidentSource::Inferred {
            rule: inference_rule(),
        };
        score(alerts, incidents, &[objective("o")], source, (0, end * M))
    }

    #[test]
    fn a_firing_that_ends_as_the_incident_starts_does_not_overlap_it() {
        // [10m, 20m) and [20m, 30m) share no instant; [19m, 21m) overlaps both ends.
        let result = scores(
            &[
                alert("page", &[(10, 20, false)]),
                alert("ticket", &[(29, 31, false)]),
            ],
            &[incident(20, 30)],
            60,
        );
        let page = &result.alerts[0].score;
        assert_eq!((page.firings, page.true_positives), (1, 0));
        assert_eq!((page.precision, page.recall), (Some(0.0), Some(0.0)));
        assert_eq!(page.detection_ms, None);
        let ticket = &result.alerts[1].score;
        assert_eq!(
            (ticket.detection_ms, ticket.reset_ms),
            (Some(9 * M), Some(M))
        );
    }

    #[test]
    fn detection_is_zero_when_already_firing_and_reset_is_a_bound_when_still_firing() {
        let result = scores(
            &[alert("ticket", &[(5, 60, true)])],
            &[incident(10, 20), incident(30, 50)],
            60,
        );
        let score = &result.objectives[0].score;
        assert_eq!(
            (score.firings, score.true_positives, score.detected),
            (1, 1, 2)
        );
        assert_eq!(score.detection_ms, Some(0));
        // 60 - 20 = 40 and 60 - 50 = 10: a mean of 25 minutes, at least.
        assert_eq!((score.reset_ms, score.reset_at_least), (Some(25 * M), true));
        // One ticket firing in an hour: 168 a week for the alert, no page for the
        // objective.
        assert_eq!(result.alerts[0].score.pages_per_week, Some(168.0));
        assert_eq!(score.pages_per_week, Some(0.0));
    }

    #[test]
    fn the_budget_alerts_keep_their_rows_but_not_their_objectives_reset_time() {
        let mut budget_low = alert("ticket", &[(15, 600, true)]);
        budget_low.alertname = naming::ALERT_BUDGET_LOW.into();
        let result = scores(
            &[alert("page", &[(12, 25, false)]), budget_low],
            &[incident(10, 20)],
            600,
        );
        let objective = &result.objectives[0].score;
        assert_eq!((objective.firings, objective.detected), (1, 1));
        assert_eq!(
            (objective.detection_ms, objective.reset_ms),
            (Some(2 * M), Some(5 * M))
        );
        assert!(!objective.reset_at_least);
        assert_eq!(result.incidents[0].detected_by.as_deref(), Some("Burn"));
        let low = result
            .alerts
            .iter()
            .find(|alert| alert.alertname == naming::ALERT_BUDGET_LOW)
            .expect("the budget alert keeps its row");
        assert_eq!(
            (low.score.reset_ms, low.score.reset_at_least),
            (Some(580 * M), true)
        );
    }

    #[test]
    fn an_incident_still_going_has_no_reset_and_an_open_one_is_inferred() {
        let ratio = ErrorRatio {
            // Above 0.001 from 2m on, for 20 minutes, until the range ends at 22m.
            points: (0..=22)
                .map(|m| (m * M, if m >= 2 { 0.002 } else { 0.0 }))
                .collect(),
            budget: Some(0.001),
        };
        let mut ratios = BTreeMap::from([(objective("o"), ratio)]);
        let inferred = infer_incidents(&ratios);
        assert_eq!(
            inferred,
            [Incident {
                open: true,
                ..incident(2, 22)
            }]
        );
        // 14 minutes above, then below: too short to count.
        ratios.get_mut(&objective("o")).expect("ratio").points = (0..=30)
            .map(|m| (m * M, if (2..16).contains(&m) { 0.002 } else { 0.0 }))
            .collect();
        assert_eq!(infer_incidents(&ratios), []);
        let result = scores(&[alert("page", &[(4, 22, true)])], &inferred, 22);
        let scored = &result.incidents[0];
        assert_eq!(scored.detection_ms, Some(2 * M));
        assert_eq!((scored.reset_ms, scored.reset_at_least), (None, false));
    }

    #[test]
    fn means_round_to_the_nearest_millisecond() {
        assert_eq!(mean([1, 2].into_iter()), Some(2));
        assert_eq!(mean([1, 1, 2].into_iter()), Some(1));
        assert_eq!(mean(std::iter::empty()), None);
    }
}
