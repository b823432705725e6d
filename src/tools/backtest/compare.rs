//! `mlslo backtest --compare`: two rule sets replayed over the same data, routed by
//! the same Alertmanager configuration and scored against the same incidents, side
//! by side per objective (firings, page firings, notifications, the alert-quality
//! scores) with the second's differences from the first; and per receiver.
//!
//! Invariants: pure; objectives in key order, receivers in name order; a
//! difference is `compared - base`, `None` when either side is undefined; the JSON
//! carries both reports whole, so a bot can read anything the table leaves out.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use serde::Serialize;

use super::scores::{self, Score};
use super::{display_name, format_time, AlertHistory, ObjectiveKey, Report};
use crate::prometheus::model::duration::format_model_duration;

/// Two backtests of the same data, and what differs.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Comparison {
    /// What the base rules were (the command's `RULES`), for people.
    pub base_rules: String,
    /// What the compared rules were (`--compare`).
    pub compared_rules: String,
    pub objectives: Vec<ObjectiveComparison>,
    pub receivers: Vec<ReceiverComparison>,
    pub base: Report,
    pub compared: Report,
}

/// One objective or group in both backtests.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ObjectiveComparison {
    #[serde(flatten)]
    pub objective: ObjectiveKey,
    pub base: Side,
    pub compared: Side,
    pub differences: Differences,
}

/// One objective in one backtest.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Side {
    /// Firings of all its alerts.
    pub firings: usize,
    /// Firings of its page alerts.
    pub page_firings: usize,
    /// Notifications carrying one of its alerts as firing (to any receiver).
    pub notifications: usize,
    /// `None` when its objective was not scored.
    pub scores: Option<Score>,
}

/// `compared - base` for each figure, `None` where either is undefined.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Differences {
    pub firings: i64,
    pub page_firings: i64,
    pub notifications: i64,
    pub precision: Option<f64>,
    pub recall: Option<f64>,
    pub detection_ms: Option<i64>,
    pub reset_ms: Option<i64>,
    pub pages_per_week: Option<f64>,
}

/// One receiver's notifications in both backtests.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ReceiverComparison {
    pub receiver: String,
    pub base: usize,
    pub compared: usize,
}

/// The comparison of two reports of the same data.
pub fn compare(
    base: Report,
    compared: Report,
    base_rules: &str,
    compared_rules: &str,
) -> Comparison {
    let mut keys: BTreeSet<ObjectiveKey> = BTreeSet::new();
    for report in [&base, &compared] {
        keys.extend(
            report
                .alerts
                .iter()
                .map(|a| a.objective.clone())
                .filter(|o| !o.service.is_empty()),
        );
        if let Some(scores) = &report.scores {
            keys.extend(scores.objectives.iter().map(|o| o.objective.clone()));
        }
    }
    let (base_alerts, compared_alerts) =
        (alerts_by_objective(&base), alerts_by_objective(&compared));
    let objectives = keys
        .into_iter()
        .map(|objective| {
            let ours = side(&base, base_alerts.get(&objective), &objective);
            let theirs = side(&compared, compared_alerts.get(&objective), &objective);
            let differences = differences(&ours, &theirs);
            ObjectiveComparison {
                objective,
                base: ours,
                compared: theirs,
                differences,
            }
        })
        .collect();
    let mut per_receiver: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for receiver in &base.notifications {
        per_receiver.entry(receiver.receiver.clone()).or_default().0 = receiver.notifications;
    }
    for receiver in &compared.notifications {
        per_receiver.entry(receiver.receiver.clone()).or_default().1 = receiver.notifications;
    }
    Comparison {
        base_rules: base_rules.to_string(),
        compared_rules: compared_rules.to_string(),
        objectives,
        receivers: per_receiver
            .into_iter()
            .map(|(receiver, (base, compared))| ReceiverComparison {
                receiver,
                base,
                compared,
            })
            .collect(),
        base,
        compared,
    }
}

fn alerts_by_objective(report: &Report) -> BTreeMap<ObjectiveKey, Vec<&AlertHistory>> {
    let mut grouped: BTreeMap<ObjectiveKey, Vec<&AlertHistory>> = BTreeMap::new();
    for alert in &report.alerts {
        grouped
            .entry(alert.objective.clone())
            .or_default()
            .push(alert);
    }
    grouped
}

/// One objective of `report`, whose alerts are `alerts`.
fn side(report: &Report, alerts: Option<&Vec<&AlertHistory>>, objective: &ObjectiveKey) -> Side {
    let alerts = alerts.map_or(&[][..], Vec::as_slice);
    Side {
        firings: alerts.iter().map(|a| a.firings).sum(),
        page_firings: alerts
            .iter()
            .filter(|a| scores::is_page(a))
            .map(|a| a.firings)
            .sum(),
        notifications: alerts
            .iter()
            .flat_map(|a| &a.pages)
            .map(|p| p.notifications)
            .sum(),
        scores: report.scores.as_ref().and_then(|s| {
            let at = s
                .objectives
                .binary_search_by(|o| o.objective.cmp(objective))
                .ok()?;
            Some(s.objectives[at].score.clone())
        }),
    }
}

fn differences(base: &Side, compared: &Side) -> Differences {
    let count = |a: usize, b: usize| b as i64 - a as i64;
    let both = |pick: &dyn Fn(&Score) -> Option<f64>| match (&base.scores, &compared.scores) {
        (Some(a), Some(b)) => Some(pick(b)? - pick(a)?),
        _ => None,
    };
    let both_ms = |pick: &dyn Fn(&Score) -> Option<i64>| match (&base.scores, &compared.scores) {
        (Some(a), Some(b)) => Some(pick(b)? - pick(a)?),
        _ => None,
    };
    Differences {
        firings: count(base.firings, compared.firings),
        page_firings: count(base.page_firings, compared.page_firings),
        notifications: count(base.notifications, compared.notifications),
        precision: both(&|s| s.precision),
        recall: both(&|s| s.recall),
        detection_ms: both_ms(&|s| s.detection_ms),
        reset_ms: both_ms(&|s| s.reset_ms),
        pages_per_week: both(&|s| s.pages_per_week),
    }
}

/// `+3`, `-1`, `0`.
fn signed_count(difference: i64) -> String {
    if difference > 0 {
        format!("+{difference}")
    } else {
        difference.to_string()
    }
}

/// `+2m`, `-30s`, `0s`, or `-`.
fn signed_duration(difference: Option<i64>) -> String {
    match difference {
        None => "-".into(),
        Some(ms) if ms < 0 => format!("-{}", format_model_duration(-ms)),
        Some(ms) if ms > 0 => format!("+{}", format_model_duration(ms)),
        Some(_) => "0s".into(),
    }
}

/// `+12.5%` of a ratio, `+1.75` of a count per week, or `-`.
fn signed_number(difference: Option<f64>, percent: bool) -> String {
    match difference {
        None => "-".into(),
        Some(value) => {
            let (value, unit) = if percent {
                (100.0 * value, "%")
            } else {
                (value, "")
            };
            let text = if percent {
                format!("{value:.1}")
            } else {
                format!("{value:.2}")
            };
            let zero = text
                .trim_start_matches('-')
                .trim_matches(['0', '.'])
                .is_empty();
            if zero {
                format!("{}{unit}", text.trim_start_matches('-'))
            } else if value > 0.0 {
                format!("+{text}{unit}")
            } else {
                format!("{text}{unit}")
            }
        }
    }
}

/// The comparison as text: per objective, each figure of both sides and the
/// difference; then each side's firings; then notifications per receiver.
pub fn render_text(comparison: &Comparison) -> String {
    let mut out = String::new();
    let base = &comparison.base;
    let _ = writeln!(
        out,
        "backtest {} .. {}, two rule sets over the same data, Alertmanager configuration and incidents",
        format_time(base.start_ms),
        format_time(base.end_ms)
    );
    let _ = writeln!(out, "  A: {}", comparison.base_rules);
    let _ = writeln!(out, "  B: {}", comparison.compared_rules);
    if let Some(scores) = &base.scores {
        let _ = writeln!(
            out,
            "  scored against {} ({})",
            scores::describe_source(&scores.source),
            match scores.incidents.len() {
                1 => "1 incident".to_string(),
                n => format!("{n} incidents"),
            }
        );
    }
    let mut rows: Vec<[String; 4]> = Vec::new();
    for objective in &comparison.objectives {
        rows.push([
            objective.objective.to_string(),
            "A".into(),
            "B".into(),
            "B - A".into(),
        ]);
        let (a, b, d) = (&objective.base, &objective.compared, &objective.differences);
        let count_row = |name: &str, a: usize, b: usize, d: i64| {
            [
                format!("  {name}"),
                a.to_string(),
                b.to_string(),
                signed_count(d),
            ]
        };
        rows.push(count_row("firings", a.firings, b.firings, d.firings));
        rows.push(count_row(
            "page firings",
            a.page_firings,
            b.page_firings,
            d.page_firings,
        ));
        rows.push(count_row(
            "notifications",
            a.notifications,
            b.notifications,
            d.notifications,
        ));
        let score_cell = |side: &Side, show: &dyn Fn(&Score) -> String| {
            side.scores.as_ref().map_or("-".into(), show)
        };
        type Show = Box<dyn Fn(&Score) -> String>;
        let score_rows: [(&str, Show, String); 5] = [
            (
                "precision",
                Box::new(|s| scores::format_ratio(s.precision)),
                signed_number(d.precision, true),
            ),
            (
                "recall",
                Box::new(|s| {
                    format!(
                        "{} ({}/{})",
                        scores::format_ratio(s.recall),
                        s.detected,
                        s.incidents
                    )
                }),
                signed_number(d.recall, true),
            ),
            (
                "detection",
                Box::new(|s| scores::format_time_score(s.detection_ms, false)),
                signed_duration(d.detection_ms),
            ),
            (
                "reset",
                Box::new(|s| scores::format_time_score(s.reset_ms, s.reset_at_least)),
                signed_duration(d.reset_ms),
            ),
            (
                "pages per week",
                Box::new(|s| scores::format_per_week(s.pages_per_week)),
                signed_number(d.pages_per_week, false),
            ),
        ];
        for (name, show, difference) in score_rows {
            rows.push([
                format!("  {name}"),
                score_cell(a, &*show),
                score_cell(b, &*show),
                difference,
            ]);
        }
    }
    if !comparison.receivers.is_empty() {
        rows.push([
            "notifications per receiver".into(),
            "A".into(),
            "B".into(),
            "B - A".into(),
        ]);
        for receiver in &comparison.receivers {
            rows.push([
                format!("  {}", receiver.receiver),
                receiver.base.to_string(),
                receiver.compared.to_string(),
                signed_count(receiver.compared as i64 - receiver.base as i64),
            ]);
        }
    }
    let mut widths = [0; 4];
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    out.push('\n');
    for row in &rows {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            let pad = widths[i].saturating_sub(cell.chars().count());
            let _ = write!(line, "{cell}{}  ", " ".repeat(pad));
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    for (letter, report) in [("A", &comparison.base), ("B", &comparison.compared)] {
        let _ = writeln!(out, "\nfirings of {letter}");
        let mut firings: Vec<(i64, String)> = Vec::new();
        for alert in &report.alerts {
            for span in &alert.firing {
                firings.push((
                    span.start_ms,
                    format!(
                        "  {} {}  {} .. {}{} ({})",
                        alert.objective,
                        display_name(report, alert),
                        format_time(span.start_ms),
                        format_time(span.end_ms),
                        if span.open { " (still firing)" } else { "" },
                        format_model_duration(span.end_ms - span.start_ms)
                    ),
                ));
            }
        }
        firings.sort();
        if firings.is_empty() {
            out.push_str("  none\n");
        }
        for (_, line) in firings {
            out.push_str(&line);
            out.push('\n');
        }
    }
    out
}

/// The JSON document of a comparison (`--compare --format json`).
pub fn render_json(comparison: &Comparison) -> String {
    // Serialising plain structs of strings and numbers cannot fail.
    serde_json::to_string_pretty(comparison).expect("comparison serialises") + "\n"
}
