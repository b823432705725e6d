//! The `--report` HTML page, laid out for the SRE who reads it after an incident:
//! a summary first (every firing, pages before tickets and then by time, with who
//! was notified, what was inhibited, the budget spent and the forecasts' scores),
//! then one section per objective in the order of its worst firing: the alert
//! timeline (pending, firing, inhibited and notified told apart by pattern and
//! label, not by colour alone), each burn-rate alert's windows on a log axis against
//! the threshold its rule compares them with, and the error budget burning down.
//!
//! Invariants: one self-contained file with inline SVG (no scripts, no fetches at
//! view time); every SVG has a `viewBox` and scales with the page, and its texts
//! stay inside it; pure and deterministic (sorted inputs, fixed number formatting),
//! so the same report gives the same bytes; every text is HTML-escaped; lines keep
//! at most [`MAX_POINTS`] points and tables at most [`MAX_ROWS`] rows.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::{
    describe_page, display_name, format_time, AlertHistory, BurnWindows, Interval, ObjectiveKey,
    Report, ValueComparison,
};
use crate::compiler::ir::naming::LABEL_SEVERITY;
use crate::prometheus::model::duration::format_model_duration;

/// The width of every chart in `viewBox` units; the page scales it to the window.
const WIDTH: f64 = 1000.0;
/// Room left of the plot for the value axis labels.
const LEFT: f64 = 70.0;
/// Room right of the plot, so that the last time label is not cut.
const RIGHT: f64 = 40.0;
/// Room under the plot for the two lines of time labels.
const BOTTOM: f64 = 30.0;
/// Charts keep at most this many points per line (evenly spaced picks).
const MAX_POINTS: usize = 600;
/// Tables and timelines show at most this many rows, and say how many they left out.
const MAX_ROWS: usize = 200;

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Pages first, then tickets, then the rest (by name, after both).
fn severity_rank(severity: &str) -> (u8, &str) {
    match severity {
        "page" => (0, ""),
        "ticket" => (1, ""),
        other => (2, other),
    }
}

struct Axis {
    start: i64,
    end: i64,
}

/// Tick spacings a time axis picks from: round minutes, hours and days.
const TICK_STEPS_MS: [i64; 13] = [
    60_000,
    300_000,
    600_000,
    900_000,
    1_800_000,
    3_600_000,
    7_200_000,
    10_800_000,
    21_600_000,
    43_200_000,
    86_400_000,
    172_800_000,
    604_800_000,
];

impl Axis {
    fn x(&self, ts: i64) -> f64 {
        let span = (self.end - self.start).max(1) as f64;
        LEFT + (ts - self.start) as f64 / span * (WIDTH - LEFT - RIGHT)
    }

    /// Vertical grid lines at round times (multiples of the step in UTC), at most
    /// ten, labelled `HH:MM` with the date under the first and under each new day.
    fn ticks(&self, top: f64, bottom: f64, out: &mut String) {
        let span = self.end - self.start;
        let step = TICK_STEPS_MS
            .iter()
            .copied()
            .find(|step| span / step <= 9)
            .unwrap_or(TICK_STEPS_MS[TICK_STEPS_MS.len() - 1] * (span / 9 / 604_800_000 + 1));
        let mut ts = self.start.div_euclid(step) * step;
        if ts < self.start {
            ts += step;
        }
        let mut last_day = None;
        while ts <= self.end {
            let x = self.x(ts);
            let time = format_time(ts);
            let day = &time[5..10];
            let _ = write!(
                out,
                "<line x1=\"{x:.1}\" y1=\"{top:.1}\" x2=\"{x:.1}\" y2=\"{bottom:.1}\" stroke=\"#ddd\"/>\
<text x=\"{x:.1}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"middle\">{}</text>",
                bottom + 12.0,
                &time[11..16]
            );
            if last_day != Some(day.to_string()) {
                let _ = write!(
                    out,
                    "<text x=\"{x:.1}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"middle\" fill=\"#555\">{day}</text>",
                    bottom + 25.0
                );
                last_day = Some(day.to_string());
            }
            ts += step;
        }
    }
}

fn thin(points: &[(i64, f64)]) -> Vec<(i64, f64)> {
    if points.len() <= MAX_POINTS {
        return points.to_vec();
    }
    (0..MAX_POINTS)
        .map(|i| points[i * (points.len() - 1) / (MAX_POINTS - 1)])
        .collect()
}

fn svg_open(height: f64, label: &str) -> String {
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {WIDTH} {height:.0}\" width=\"100%\" \
font-family=\"sans-serif\" role=\"img\" aria-label=\"{}\">",
        escape(label)
    )
}

/// One line of a chart: its points, its stroke dash pattern (so lines are told
/// apart without colour) and its name in the legend.
struct Line<'a> {
    points: &'a [(i64, f64)],
    dash: &'a str,
    color: &'a str,
    name: String,
}

/// A horizontal reference line, labelled at its right end.
struct Reference {
    value: f64,
    name: String,
}

/// A line chart over the report's time axis, on a log axis (powers of ten
/// labelled) or a linear one; the legend names each line by its dash pattern.
fn line_chart(
    axis: &Axis,
    lines: &[Line],
    references: &[Reference],
    log: bool,
    unit: &str,
    label: &str,
) -> String {
    let plot_height = 180.0;
    // One legend row per line, so that a long name never runs into the next.
    let legend_height = 16.0 * lines.len() as f64;
    let top = legend_height + 8.0;
    let lines: Vec<(&Line, Vec<(i64, f64)>)> = lines
        .iter()
        .map(|line| {
            let points = thin(line.points)
                .into_iter()
                .filter(|p| p.1.is_finite() && (!log || p.1 > 0.0))
                .collect::<Vec<_>>();
            (line, points)
        })
        .collect();
    let values = lines
        .iter()
        .flat_map(|(_, points)| points.iter().map(|p| p.1))
        .chain(references.iter().map(|r| r.value))
        .filter(|v| v.is_finite() && (!log || *v > 0.0));
    let (mut low, mut high) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), v| {
        (l.min(v), h.max(v))
    });
    if !low.is_finite() || !high.is_finite() {
        return String::new();
    }
    if log {
        // Whole decades, with room under the lowest value so that a line on it is
        // not drawn on the frame, and at most six decades under the highest value
        // (lower values sit on the floor) unless a threshold lies lower.
        high = 10f64.powf((high.log10() + 0.1).ceil());
        low = 10f64.powf((low.log10() - 0.3).floor()).max(high / 1e6);
        // A threshold is never cut off, however far under the values it lies.
        for reference in references.iter().filter(|r| r.value > 0.0) {
            low = low.min(10f64.powf(reference.value.log10().floor()));
        }
    } else {
        low = low.min(0.0);
        let step = nice_step((high - low) / 4.0);
        high = (high / step).ceil() * step;
        low = (low / step).floor() * step;
        if high - low < 1e-12 {
            high = low + 1.0;
        }
    }
    let scale = |v: f64| if log { v.log10() } else { v };
    let y = |v: f64| top + (scale(high) - scale(v)) / (scale(high) - scale(low)) * plot_height;
    let bottom = top + plot_height;
    let mut out = svg_open(bottom + BOTTOM, label);
    axis.ticks(top, bottom, &mut out);
    let value_ticks: Vec<f64> = if log {
        let (from, to) = (low.log10().round() as i32, high.log10().round() as i32);
        let every = ((to - from) / 6).max(1);
        (from..=to)
            .filter(|e| (e - from) % every == 0)
            .map(|e| 10f64.powi(e))
            .collect()
    } else {
        let step = nice_step((high - low) / 4.0);
        (0..)
            .map(|i| low + step * f64::from(i))
            .take_while(|v| *v <= high + step * 1e-9)
            .take(12)
            .collect()
    };
    for value in value_ticks {
        let _ = write!(
            out,
            "<line x1=\"{LEFT}\" y1=\"{0:.1}\" x2=\"{1:.1}\" y2=\"{0:.1}\" stroke=\"#eee\"/>\
<text x=\"{2:.1}\" y=\"{3:.1}\" font-size=\"11\" text-anchor=\"end\">{4}{unit}</text>",
            y(value),
            WIDTH - RIGHT,
            LEFT - 4.0,
            y(value) + 4.0,
            format_number(value)
        );
    }
    let _ = write!(
        out,
        "<rect x=\"{LEFT}\" y=\"{top:.1}\" width=\"{:.1}\" height=\"{plot_height:.1}\" fill=\"none\" stroke=\"#999\"/>",
        WIDTH - LEFT - RIGHT
    );
    for reference in references {
        // A threshold beyond the axis (under a log axis' floor) is drawn on its edge.
        let at = y(reference.value.clamp(low, high));
        let label_y = if at - 4.0 >= top + 12.0 {
            at - 4.0
        } else {
            at + 13.0
        };
        let _ = write!(
            out,
            "<line x1=\"{LEFT}\" y1=\"{at:.1}\" x2=\"{:.1}\" y2=\"{at:.1}\" stroke=\"#b00\" stroke-width=\"1.5\" stroke-dasharray=\"8 3 2 3\"/>\
<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" fill=\"#b00\" text-anchor=\"end\">{}</text>",
            WIDTH - RIGHT,
            WIDTH - RIGHT - 4.0,
            label_y.min(bottom - 3.0),
            escape(&reference.name)
        );
    }
    for (row, (line, points)) in lines.iter().enumerate() {
        let path: Vec<String> = points
            .iter()
            .map(|&(ts, v)| format!("{:.1},{:.1}", axis.x(ts), y(v.max(low))))
            .collect();
        let legend_y = 16.0 * row as f64 + 9.0;
        let _ = write!(
            out,
            "<polyline fill=\"none\" stroke=\"{0}\" stroke-width=\"1.5\" stroke-dasharray=\"{1}\" points=\"{2}\"/>\
<line x1=\"{LEFT}\" y1=\"{3:.1}\" x2=\"{4:.1}\" y2=\"{3:.1}\" stroke=\"{0}\" stroke-width=\"2\" stroke-dasharray=\"{1}\"/>\
<text x=\"{5:.1}\" y=\"{6:.1}\" font-size=\"11\">{7}</text>",
            line.color,
            line.dash,
            path.join(" "),
            legend_y,
            LEFT + 24.0,
            LEFT + 28.0,
            legend_y + 4.0,
            escape(&shorten(&line.name, 130))
        );
    }
    out.push_str("</svg>\n");
    out
}

/// `text` cut to `limit` characters, with an ellipsis when cut.
fn shorten(text: &str, limit: usize) -> String {
    if text.chars().count() <= limit {
        return text.to_string();
    }
    let mut short: String = text.chars().take(limit - 1).collect();
    short.push('…');
    short
}

/// 1, 2 or 5 times a power of ten, at least `rough`: the spacing of linear ticks.
fn nice_step(rough: f64) -> f64 {
    if !(rough.is_finite() && rough > 0.0) {
        return 1.0;
    }
    let power = 10f64.powf(rough.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * power)
        .find(|step| *step >= rough * (1.0 - 1e-9))
        .unwrap_or(10.0 * power)
}

fn format_number(value: f64) -> String {
    if value == 0.0 {
        return "0".into();
    }
    let magnitude = value.abs();
    if magnitude >= 1e6 {
        format!("{value:.1e}")
    } else if magnitude >= 100.0 {
        format!("{value:.0}")
    } else if magnitude >= 1.0 {
        let text = format!("{value:.2}");
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else if magnitude >= 1e-4 {
        // Three significant digits: 0.998, 0.0667, 0.0144.
        let decimals = (2.0 - magnitude.log10().floor()) as usize;
        let text = format!("{value:.decimals$}");
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        format!("{value:.0e}")
    }
}

/// One firing of one alert: a row of the summary.
struct Incident<'a> {
    alert: &'a AlertHistory,
    index: usize,
    span: &'a Interval,
}

impl Incident<'_> {
    fn severity(&self) -> &str {
        self.alert
            .labels
            .get(LABEL_SEVERITY)
            .map_or("", String::as_str)
    }

    fn order_key(&self) -> ((u8, &str), i64, &str) {
        (
            severity_rank(self.severity()),
            self.span.start_ms,
            &self.alert.alertname,
        )
    }
}

fn incidents(report: &Report) -> Vec<Incident<'_>> {
    let mut incidents: Vec<Incident> = report
        .alerts
        .iter()
        .flat_map(|alert| {
            alert
                .firing
                .iter()
                .enumerate()
                .map(move |(index, span)| Incident { alert, index, span })
        })
        .collect();
    // Stable: ties keep the report's own order (alert name, then labels).
    incidents.sort_by(|a, b| a.order_key().cmp(&b.order_key()));
    incidents
}

/// Renders the whole page.
pub fn render_html(report: &Report) -> String {
    let axis = Axis {
        start: report.start_ms,
        end: report.end_ms,
    };
    let incidents = incidents(report);
    let mut out = String::from(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width\"><title>mlslo backtest</title>\
<style>body{font-family:sans-serif;margin:1.5em auto;max-width:1200px;padding:0 1em;color:#222}\
h2{margin-top:2em;border-bottom:1px solid #ccc}h3{margin:1.2em 0 .3em;font-size:1em}\
table{border-collapse:collapse;margin:.5em 0;font-size:13px}td,th{padding:3px 6px;text-align:left;border-bottom:1px solid #e4e4e4;vertical-align:top}\
th{background:#f4f4f4}td.n{text-align:right}.sev-page{font-weight:bold}p.note{color:#555;margin:.3em 0}\
svg{display:block;height:auto}div.wide{overflow-x:auto}</style></head><body>\n",
    );
    let _ = writeln!(
        out,
        "<h1>Backtest {} to {} ({})</h1>",
        escape(&format_time(report.start_ms)),
        escape(&format_time(report.end_ms)),
        escape(&format_model_duration(report.end_ms - report.start_ms))
    );
    // The bar patterns, defined once for every timeline of the page.
    out.push_str(
        "<svg width=\"0\" height=\"0\" style=\"position:absolute\" aria-hidden=\"true\">\
<defs><pattern id=\"hatch-pending\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\" patternTransform=\"rotate(45)\">\
<rect width=\"6\" height=\"6\" fill=\"#f7d774\"/><line x1=\"0\" y1=\"0\" x2=\"0\" y2=\"6\" stroke=\"#a07800\" stroke-width=\"2\"/></pattern>\
<pattern id=\"hatch-inhibited\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\">\
<rect width=\"6\" height=\"6\" fill=\"#ccc\"/><path d=\"M0 0L6 6M6 0L0 6\" stroke=\"#666\" stroke-width=\"1\"/></pattern>\
<pattern id=\"dots-unnotified\" width=\"5\" height=\"5\" patternUnits=\"userSpaceOnUse\">\
<rect width=\"5\" height=\"5\" fill=\"#f4c2c0\"/><circle cx=\"2.5\" cy=\"2.5\" r=\"1\" fill=\"#c9302c\"/></pattern></defs></svg>\n",
    );
    summary(report, &incidents, &mut out);
    for objective in objectives_in_order(report, &incidents) {
        objective_section(report, &axis, objective, &mut out);
    }
    out.push_str("</body></html>\n");
    out
}

fn summary(report: &Report, incidents: &[Incident], out: &mut String) {
    let count = |severity: &str| {
        incidents
            .iter()
            .filter(|i| i.severity() == severity)
            .count()
    };
    let inhibited = incidents
        .iter()
        .filter(|i| {
            i.alert
                .pages
                .get(i.index)
                .is_some_and(|p| p.inhibited_by.is_some())
        })
        .count();
    let _ = writeln!(
        out,
        "<p id=\"headline\"><b>{}, {}, {} in all; {} inhibited.</b></p>",
        counted(count("page"), "page"),
        counted(count("ticket"), "ticket"),
        counted(incidents.len(), "firing"),
        inhibited
    );
    out.push_str("<h2>Firings</h2>\n");
    if incidents.is_empty() {
        out.push_str("<p>No alert fired.</p>\n");
    } else {
        out.push_str(
            "<div class=\"wide\"><table id=\"firings\"><thead><tr><th>severity</th><th>alert</th><th>objective</th>\
<th>fired</th><th>for</th><th>sent to</th><th>first notified</th><th>notifications</th></tr></thead><tbody>\n",
        );
        for incident in incidents.iter().take(MAX_ROWS) {
            let page = incident.alert.pages.get(incident.index);
            let sent_to = page.map_or_else(
                || "no routing".to_string(),
                |page| describe_page(page, incident.span),
            );
            let notified = page
                .and_then(|p| p.notified_ms)
                .map_or_else(|| "–".to_string(), format_time);
            let notifications =
                page.map_or_else(|| "–".to_string(), |p| p.notifications.to_string());
            let duration = format!(
                "{}{}",
                format_model_duration(incident.span.end_ms - incident.span.start_ms),
                if incident.span.open {
                    " (still firing)"
                } else {
                    ""
                }
            );
            let _ = writeln!(
                out,
                "<tr class=\"sev-{0}\"><td>{0}</td><td>{1}</td><td>{2}</td><td>{3}</td><td>{4}</td><td>{5}</td><td>{6}</td><td class=\"n\">{7}</td></tr>",
                escape(incident.severity()),
                escape(&display_name(report, incident.alert)),
                escape(&incident.alert.objective.to_string()),
                escape(&format_time(incident.span.start_ms)),
                escape(&duration),
                escape(&sent_to),
                escape(&notified),
                escape(&notifications)
            );
        }
        out.push_str("</tbody></table></div>\n");
        if incidents.len() > MAX_ROWS {
            let _ = writeln!(
                out,
                "<p class=\"note\">{} more firings are left out; the JSON report has them all.</p>",
                incidents.len() - MAX_ROWS
            );
        }
    }
    if !report.notifications.is_empty() {
        out.push_str(
            "<h3>Notifications per receiver</h3>\n<table id=\"receivers\"><thead><tr><th>receiver</th>\
<th>firing</th><th>resolved only</th></tr></thead><tbody>\n",
        );
        for receiver in &report.notifications {
            let _ = writeln!(
                out,
                "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
                escape(&receiver.receiver),
                receiver.notifications,
                receiver.resolved
            );
        }
        out.push_str("</tbody></table>\n");
    }
    if !report.budgets.is_empty() {
        out.push_str(
            "<h3>Error budget spent</h3>\n<table id=\"budgets\"><thead><tr><th>objective</th><th>window</th>\
<th>spent</th><th>average burn rate</th><th>range covers</th></tr></thead><tbody>\n",
        );
        let mut budgets: Vec<_> = report.budgets.iter().collect();
        budgets.sort_by(|a, b| {
            b.spent_percent
                .total_cmp(&a.spent_percent)
                .then_with(|| a.objective.cmp(&b.objective))
        });
        for budget in budgets.into_iter().take(MAX_ROWS) {
            let _ = writeln!(
                out,
                "<tr><td>{}</td><td>{}</td><td class=\"n\">{:.1}%</td><td class=\"n\">{}×</td><td>{}</td></tr>",
                escape(&budget.objective.to_string()),
                escape(&budget.window),
                budget.spent_percent,
                format_number(budget.burn_rate),
                if budget.full_window {
                    "the whole window".to_string()
                } else {
                    escape(&format!(
                        "{} (the rest assumed clean)",
                        format_model_duration(budget.history_ms)
                    ))
                }
            );
        }
        out.push_str("</tbody></table>\n");
    }
    if !report.forecasts.is_empty() {
        out.push_str(
            "<h3>Forecasts</h3>\n<table id=\"forecasts\"><thead><tr><th>objective</th><th>forecast</th>\
<th>at</th><th>outcome</th></tr></thead><tbody>\n",
        );
        for forecast in report.forecasts.iter().take(MAX_ROWS) {
            let _ = writeln!(
                out,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                escape(&forecast.objective.to_string()),
                escape(&forecast.forecast),
                escape(&format_time(forecast.at_ms)),
                escape(&forecast_text(forecast))
            );
        }
        out.push_str("</tbody></table>\n");
    }
    if let Some(scores) = &report.scores {
        alert_quality(report, scores, out);
    }
}

/// The alert-quality scores: where the incidents came from, then one row per
/// objective and one per alert under it.
fn alert_quality(report: &Report, scores: &super::scores::Scores, out: &mut String) {
    use super::scores::{describe_source, format_per_week, format_ratio, format_time_score};
    let _ = writeln!(
        out,
        "<h3>Alert quality</h3>\n<p class=\"note\">Against {} ({}).</p>",
        escape(&describe_source(&scores.source)),
        counted(scores.incidents.len(), "incident")
    );
    out.push_str(
        "<div class=\"wide\"><table id=\"scores\"><thead><tr><th>objective / alert</th><th>firings</th>\
<th>precision</th><th>recall</th><th>detection</th><th>reset</th><th>pages per week</th></tr></thead><tbody>\n",
    );
    let row = |kind: &str, name: String, score: &super::scores::Score, out: &mut String| {
        let _ = writeln!(
            out,
            "<tr class=\"{kind}\"><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{} ({}/{})</td>\
<td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            escape(&name),
            score.firings,
            escape(&format_ratio(score.precision)),
            escape(&format_ratio(score.recall)),
            score.detected,
            score.incidents,
            escape(&format_time_score(score.detection_ms, false)),
            escape(&format_time_score(score.reset_ms, score.reset_at_least)),
            escape(&format_per_week(score.pages_per_week)),
        );
    };
    let mut rows = 0;
    let alerts_of = scores.alerts_by_objective();
    for objective in &scores.objectives {
        if rows < MAX_ROWS {
            row(
                "objective",
                objective.objective.to_string(),
                &objective.score,
                out,
            );
        }
        rows += 1;
        for alert in alerts_of.get(&objective.objective).into_iter().flatten() {
            if rows < MAX_ROWS {
                let name = report
                    .alerts
                    .get(alert.alert_index)
                    .map_or_else(|| alert.alertname.clone(), |a| display_name(report, a));
                row("alert", format!("\u{a0}\u{a0}{name}"), &alert.score, out);
            }
            rows += 1;
        }
    }
    out.push_str("</tbody></table></div>\n");
    if rows > MAX_ROWS {
        let _ = writeln!(
            out,
            "<p class=\"note\">{} more rows are left out; the JSON report has them all.</p>",
            rows - MAX_ROWS
        );
    }
}

/// `1 page`, `2 pages`.
fn counted(count: usize, noun: &str) -> String {
    if count == 1 {
        format!("1 {noun}")
    } else {
        format!("{count} {noun}s")
    }
}

fn forecast_text(forecast: &super::ForecastOutcome) -> String {
    match forecast.lead_ms {
        Some(lead) => format!(
            "{} fired {} later",
            forecast.threshold,
            format_model_duration(lead)
        ),
        None => format!(
            "{}: {}",
            forecast.outcome.replace('_', " "),
            forecast.threshold
        ),
    }
}

/// Objectives with firings first, in the order of their first row in the summary,
/// then the others by name.
fn objectives_in_order<'a>(
    report: &'a Report,
    incidents: &[Incident<'a>],
) -> Vec<&'a ObjectiveKey> {
    let mut order: Vec<&ObjectiveKey> = Vec::new();
    for incident in incidents {
        if !order.contains(&&incident.alert.objective) {
            order.push(&incident.alert.objective);
        }
    }
    let mut rest: BTreeMap<&ObjectiveKey, ()> = BTreeMap::new();
    for key in report
        .alerts
        .iter()
        .map(|a| &a.objective)
        .chain(report.budgets.iter().map(|b| &b.objective))
        .chain(report.error_ratios.keys())
        .chain(report.burn_windows.keys())
        .chain(report.value_comparisons.keys())
    {
        if !order.contains(&key) {
            rest.insert(key, ());
        }
    }
    order.extend(rest.into_keys());
    order
}

fn objective_section(report: &Report, axis: &Axis, objective: &ObjectiveKey, out: &mut String) {
    let name = objective.to_string();
    let _ = writeln!(
        out,
        "<h2>{}</h2>",
        escape(if name == "/" {
            "(no service/slo labels)"
        } else {
            &name
        })
    );
    let mut alerts: Vec<&AlertHistory> = report
        .alerts
        .iter()
        .filter(|a| a.objective == *objective)
        .collect();
    // As the summary orders firings: pages, then tickets, each by its first firing;
    // alerts that only went pending last.
    alerts.sort_by_key(|alert| {
        (
            severity_rank(alert.labels.get(LABEL_SEVERITY).map_or("", String::as_str)),
            alert.firing.first().map_or(i64::MAX, |span| span.start_ms),
        )
    });
    if !alerts.is_empty() {
        out.push_str("<h3>Alerts</h3>\n");
        timeline(report, axis, &alerts, &name, out);
    }
    if let Some(windows) = report.burn_windows.get(objective) {
        let budget = report.error_ratios.get(objective).and_then(|r| r.budget);
        for window in windows {
            burn_chart(axis, window, budget, &name, out);
        }
    } else if let Some(ratio) = report.error_ratios.get(objective) {
        out.push_str("<h3>Error ratio (5m)</h3>\n");
        let references: Vec<Reference> = ratio
            .budget
            .iter()
            .map(|b| Reference {
                value: *b,
                name: format!("error budget {}", format_number(*b)),
            })
            .collect();
        out.push_str(&line_chart(
            axis,
            &[Line {
                points: &ratio.points,
                dash: "none",
                color: "#1f5fa8",
                name: "error ratio over 5m".into(),
            }],
            &references,
            true,
            "",
            &format!("{name} error ratio"),
        ));
    }
    if let Some(comparisons) = report.value_comparisons.get(objective) {
        value_charts(axis, comparisons, &name, out);
    }
    for forecast in report
        .forecasts
        .iter()
        .filter(|f| f.objective == *objective)
    {
        let _ = writeln!(
            out,
            "<p>Forecast {} at {}: {}</p>",
            escape(&forecast.forecast),
            escape(&format_time(forecast.at_ms)),
            escape(&forecast_text(forecast))
        );
    }
    if let Some(budget) = report.budgets.iter().find(|b| b.objective == *objective) {
        let _ = writeln!(
            out,
            "<h3>Error budget of the {} window remaining (spent {:.1}%)</h3>",
            escape(&budget.window),
            budget.spent_percent
        );
        let assumption = if budget.full_window {
            String::new()
        } else {
            format!(
                " The range covers {} of the window: the rest is assumed to have \
                 had the range's traffic and no errors.",
                escape(&format_model_duration(budget.history_ms))
            )
        };
        let _ = writeln!(
            out,
            "<p class=\"note\">The share of the budget of the objective window that the errors \
             since the start of the range used, at each evaluation.{assumption}</p>"
        );
        let remaining: Vec<(i64, f64)> = budget
            .points
            .iter()
            .map(|&(ts, spent)| (ts, 100.0 - spent))
            .collect();
        out.push_str(&line_chart(
            axis,
            &[Line {
                points: &remaining,
                dash: "none",
                color: "#1f5fa8",
                name: "budget remaining".into(),
            }],
            &[Reference {
                value: 0.0,
                name: "budget exhausted".into(),
            }],
            false,
            "%",
            &format!("{name} error budget remaining"),
        ));
    }
}

/// The values the objective's other alerts compare, one chart per threshold: a
/// forecast shares the chart of the threshold it predicts, its extrapolation dashed
/// beside the value.
fn value_charts(axis: &Axis, comparisons: &[ValueComparison], objective: &str, out: &mut String) {
    let mut thresholds: Vec<f64> = Vec::new();
    for comparison in comparisons {
        if !thresholds
            .iter()
            .any(|t| t.to_bits() == comparison.threshold.to_bits())
        {
            thresholds.push(comparison.threshold);
        }
    }
    let dashes = ["none", "5 3", "2 2", "8 2 2 2"];
    let colors = ["#1f5fa8", "#6a3d9a", "#2d7d2d", "#8c510a"];
    for threshold in thresholds {
        let same: Vec<&ValueComparison> = comparisons
            .iter()
            .filter(|c| c.threshold.to_bits() == threshold.to_bits())
            .collect();
        let mut drawn: Vec<(String, String)> = Vec::new();
        let mut lines: Vec<Line> = Vec::new();
        for comparison in &same {
            for (labels, points) in &comparison.series {
                let key = (comparison.expression.clone(), labels.clone());
                if drawn.contains(&key) || lines.len() >= MAX_ROWS {
                    continue;
                }
                let style = drawn
                    .iter()
                    .map(|(expression, _)| expression)
                    .filter(|e| **e != comparison.expression)
                    .count()
                    .min(dashes.len() - 1);
                drawn.push(key);
                let name = if comparison.series.len() > 1 {
                    labels.clone()
                } else {
                    comparison.expression.clone()
                };
                lines.push(Line {
                    points,
                    dash: dashes[style],
                    color: colors[style],
                    name,
                });
            }
        }
        let mut alertnames: Vec<&str> = same.iter().map(|c| c.alertname.as_str()).collect();
        alertnames.dedup();
        let _ = writeln!(
            out,
            "<h3>{}: {} {} {}</h3>",
            escape(&alertnames.join(", ")),
            escape(&shorten(&same[0].expression, 100)),
            escape(&same[0].operator),
            format_number(threshold)
        );
        let all_positive = lines
            .iter()
            .flat_map(|l| l.points.iter())
            .all(|p| p.1 > 0.0)
            && threshold > 0.0;
        let max = lines
            .iter()
            .flat_map(|l| l.points.iter().map(|p| p.1))
            .fold(threshold, f64::max);
        let min = lines
            .iter()
            .flat_map(|l| l.points.iter().map(|p| p.1))
            .fold(threshold, f64::min);
        // A log axis only for values spread over decades, where a linear one would flatten them.
        let log = all_positive && max / min > 100.0;
        out.push_str(&line_chart(
            axis,
            &lines,
            &[Reference {
                value: threshold,
                name: format!("threshold {}", format_number(threshold)),
            }],
            log,
            "",
            &format!("{objective} {}", alertnames.join(", ")),
        ));
    }
}

/// One burn-rate alert's windows against the threshold its rule compares them
/// with, on a log axis; in multiples of the budget when the objective records it.
fn burn_chart(
    axis: &Axis,
    window: &BurnWindows,
    budget: Option<f64>,
    objective: &str,
    out: &mut String,
) {
    let per_budget = budget.filter(|b| *b > 0.0);
    let scale = per_budget.unwrap_or(1.0);
    let scaled: Vec<Vec<(i64, f64)>> = window
        .lines
        .iter()
        .map(|line| line.points.iter().map(|&(ts, v)| (ts, v / scale)).collect())
        .collect();
    let dashes = ["none", "5 3", "2 2"];
    let lines: Vec<Line> = window
        .lines
        .iter()
        .zip(&scaled)
        .enumerate()
        .map(|(index, (line, points))| Line {
            points,
            dash: dashes[index.min(dashes.len() - 1)],
            color: if index == 0 { "#1f5fa8" } else { "#6a3d9a" },
            name: line.series.clone(),
        })
        .collect();
    let mut thresholds: Vec<f64> = window.lines.iter().map(|l| l.threshold / scale).collect();
    thresholds.dedup();
    let unit = if per_budget.is_some() { "×" } else { "" };
    let references: Vec<Reference> = thresholds
        .iter()
        .map(|&value| Reference {
            value,
            name: format!(
                "{} threshold {}{unit}",
                if window.severity.is_empty() {
                    "alert"
                } else {
                    &window.severity
                },
                format_number(value)
            ),
        })
        .collect();
    let _ = writeln!(
        out,
        "<h3>{} {}: burn rate over {} and {}{}</h3>",
        escape(&window.alertname),
        escape(&window.severity),
        escape(&window.long_window),
        escape(&window.short_window),
        if per_budget.is_some() {
            " (1× spends the budget exactly over the window)"
        } else {
            " (error ratio)"
        }
    );
    out.push_str(&line_chart(
        axis,
        &lines,
        &references,
        true,
        unit,
        &format!(
            "{objective} burn rate over {} and {}",
            window.long_window, window.short_window
        ),
    ));
}

/// The alert timeline: a row per alert, its name above its bar so that no name is
/// cut; pending hatched; with routing, a firing is drawn in the states a receiver
/// sees it: dotted until its first notification (group_wait, or never sent),
/// cross-hatched while it was muted by an inhibiting alert, solid once notified,
/// and a marker where the first notification went out; without routing, firing
/// is solid.
fn timeline(
    report: &Report,
    axis: &Axis,
    alerts: &[&AlertHistory],
    objective: &str,
    out: &mut String,
) {
    let row_height = 36.0;
    let legend_height = 24.0;
    let shown = &alerts[..alerts.len().min(MAX_ROWS)];
    let bottom = legend_height + row_height * shown.len() as f64;
    out.push_str(&svg_open(
        bottom + BOTTOM,
        &format!("{objective} alert timeline"),
    ));
    axis.ticks(legend_height, bottom, out);
    // The legend, drawn with the same fills as the bars.
    let routed = alerts.iter().any(|alert| !alert.pages.is_empty());
    let legend: &[(&str, &str)] = if routed {
        &[
            ("url(#hatch-pending)", "pending"),
            ("url(#dots-unnotified)", "firing, not notified yet"),
            ("url(#hatch-inhibited)", "firing, inhibited"),
            ("#c9302c", "firing, notified"),
        ]
    } else {
        &[("url(#hatch-pending)", "pending"), ("#c9302c", "firing")]
    };
    let mut x = LEFT;
    for &(fill, name) in legend {
        let _ = write!(
            out,
            "<rect x=\"{x:.1}\" y=\"4\" width=\"18\" height=\"12\" fill=\"{fill}\" stroke=\"#444\" stroke-width=\"0.5\"/>\
<text x=\"{:.1}\" y=\"14\" font-size=\"11\">{name}</text>",
            x + 22.0
        );
        x += 40.0 + 6.5 * name.len() as f64;
    }
    let _ = write!(
        out,
        "<path d=\"M{0:.1} 4l5 8l5 -8z\" fill=\"#000\"/><text x=\"{1:.1}\" y=\"14\" font-size=\"11\">first notification</text>",
        x,
        x + 14.0
    );
    for (row, alert) in shown.iter().enumerate() {
        let top = legend_height + row as f64 * row_height;
        let _ = write!(
            out,
            "<text x=\"{LEFT}\" y=\"{:.1}\" font-size=\"11\">{}</text>",
            top + 12.0,
            escape(&format!(
                "{} {}",
                display_name(report, alert),
                alert.labels.get(LABEL_SEVERITY).map_or("", String::as_str)
            ))
        );
        let bar_top = top + 16.0;
        let bar_height = 14.0;
        for interval in &alert.pending {
            bar(
                axis,
                interval,
                bar_top,
                bar_height,
                "url(#hatch-pending)",
                "pending",
                out,
            );
        }
        for (index, interval) in alert.firing.iter().enumerate() {
            let page = alert.pages.get(index);
            let Some(page) = page else {
                bar(
                    axis, interval, bar_top, bar_height, "#c9302c", "firing", out,
                );
                continue;
            };
            // Before the first notification (all of it when none went out): muted
            // by the inhibiting alert, or waiting for its group's flush.
            let quiet_end = page.notified_ms.unwrap_or(interval.end_ms);
            let quiet = Interval {
                start_ms: interval.start_ms,
                end_ms: quiet_end,
                open: page.notified_ms.is_none() && interval.open,
            };
            let (fill, state) = match &page.inhibited_by {
                Some(by) => (
                    "url(#hatch-inhibited)",
                    format!("firing, inhibited by {by}"),
                ),
                None => (
                    "url(#dots-unnotified)",
                    "firing, not notified yet".to_string(),
                ),
            };
            if quiet_end > interval.start_ms {
                bar(axis, &quiet, bar_top, bar_height, fill, &state, out);
            }
            if let Some(at) = page.notified_ms {
                let notified = Interval {
                    start_ms: at,
                    ..interval.clone()
                };
                let state = format!("firing, notified ({})", page.receivers.join("+"));
                bar(axis, &notified, bar_top, bar_height, "#c9302c", &state, out);
            }
            if let Some(at) = page.notified_ms {
                let _ = write!(
                    out,
                    "<path d=\"M{:.1} {:.1}l5 8l5 -8z\" fill=\"#000\"><title>first notification {}</title></path>",
                    axis.x(at) - 5.0,
                    bar_top - 8.0 + bar_height,
                    escape(&format_time(at))
                );
            }
        }
    }
    out.push_str("</svg>\n");
    if alerts.len() > MAX_ROWS {
        let _ = writeln!(
            out,
            "<p class=\"note\">{} more alerts are left out; the JSON report has them all.</p>",
            alerts.len() - MAX_ROWS
        );
    }
}

fn bar(
    axis: &Axis,
    interval: &Interval,
    top: f64,
    height: f64,
    fill: &str,
    state: &str,
    out: &mut String,
) {
    let x = axis.x(interval.start_ms);
    let width = (axis.x(interval.end_ms) - x).max(1.0);
    let _ = write!(
        out,
        "<rect x=\"{x:.1}\" y=\"{top:.1}\" width=\"{width:.1}\" height=\"{height:.1}\" fill=\"{fill}\" stroke=\"#333\" stroke-width=\"0.5\">\
<title>{} {} – {} ({})</title></rect>",
        escape(state),
        escape(&format_time(interval.start_ms)),
        escape(&format_time(interval.end_ms)),
        escape(&format_model_duration(interval.end_ms - interval.start_ms))
    );
}
