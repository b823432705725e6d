//! The `--report` HTML page: one self-contained file, inline SVG drawn here (no
//! scripts, no fetches at view time), one section per objective with its alert
//! timeline (pending and firing intervals), its 5m error ratio and its error budget
//! burning down.
//!
//! Invariants: pure and deterministic (sorted inputs, fixed number formatting), so
//! the same report gives the same bytes; every text is HTML-escaped.

use std::collections::BTreeMap;

use super::{format_time, ObjectiveKey, Report};
use crate::compiler::ir::naming::{LABEL_LONG_WINDOW, LABEL_SEVERITY, LABEL_SHORT_WINDOW};
use crate::prometheus::model::duration::format_model_duration;

const WIDTH: f64 = 900.0;
const LEFT: f64 = 230.0;
const RIGHT: f64 = 20.0;
/// Charts keep at most this many points per line (evenly spaced picks).
const MAX_POINTS: usize = 600;

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

struct Axis {
    start: i64,
    end: i64,
}

impl Axis {
    fn x(&self, ts: i64) -> f64 {
        let span = (self.end - self.start).max(1) as f64;
        LEFT + (ts - self.start) as f64 / span * (WIDTH - LEFT - RIGHT)
    }

    fn ticks(&self, height: f64, out: &mut String) {
        for i in 0..=4 {
            let ts = self.start + (self.end - self.start) * i / 4;
            let x = self.x(ts);
            out.push_str(&format!(
                "<line x1=\"{x:.1}\" y1=\"0\" x2=\"{x:.1}\" y2=\"{height:.1}\" stroke=\"#ddd\"/>\
<text x=\"{x:.1}\" y=\"{:.1}\" font-size=\"10\" text-anchor=\"middle\">{}</text>",
                height + 12.0,
                escape(&format_time(ts).replace('T', " "))
            ));
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

/// A line chart of `points` with optional horizontal reference lines.
fn line_chart(
    axis: &Axis,
    points: &[(i64, f64)],
    references: &[(f64, &str)],
    unit: &str,
) -> String {
    let height = 140.0;
    let points = thin(points);
    let values = points
        .iter()
        .map(|p| p.1)
        .chain(references.iter().map(|r| r.0));
    let (mut low, mut high) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), v| {
        (l.min(v), h.max(v))
    });
    if !low.is_finite() || !high.is_finite() {
        return String::new();
    }
    if high - low < 1e-12 {
        high += 1.0;
        low -= 1.0;
    }
    let y = |v: f64| 5.0 + (high - v) / (high - low) * (height - 10.0);
    let mut out = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{:.0}\" font-family=\"sans-serif\">",
        height + 16.0
    );
    axis.ticks(height, &mut out);
    for (label, v) in [(high, high), (low, low)] {
        out.push_str(&format!(
            "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"10\" text-anchor=\"end\">{}{unit}</text>",
            LEFT - 4.0,
            y(v) + 3.0,
            format_number(label)
        ));
    }
    for (value, name) in references {
        out.push_str(&format!(
            "<line x1=\"{LEFT}\" y1=\"{0:.1}\" x2=\"{1:.1}\" y2=\"{0:.1}\" stroke=\"#c00\" stroke-dasharray=\"4 3\"/>\
<text x=\"{LEFT}\" y=\"{2:.1}\" font-size=\"10\" fill=\"#c00\">{3}</text>",
            y(*value),
            WIDTH - RIGHT,
            y(*value) - 3.0,
            escape(name)
        ));
    }
    let path: Vec<String> = points
        .iter()
        .filter(|p| p.1.is_finite())
        .map(|&(ts, v)| format!("{:.1},{:.1}", axis.x(ts), y(v)))
        .collect();
    out.push_str(&format!(
        "<polyline fill=\"none\" stroke=\"#1f5fa8\" stroke-width=\"1.5\" points=\"{}\"/></svg>",
        path.join(" ")
    ));
    out
}

fn format_number(value: f64) -> String {
    if value.abs() >= 100.0 || value == 0.0 {
        format!("{value:.0}")
    } else if value.abs() >= 1.0 {
        format!("{value:.2}")
    } else {
        format!("{value:.4}")
    }
}

/// Renders the whole page.
pub fn render_html(report: &Report) -> String {
    let axis = Axis {
        start: report.start_ms,
        end: report.end_ms,
    };
    // One section per objective, and per group of a grouped objective.
    let mut objectives: BTreeMap<&ObjectiveKey, Vec<usize>> = BTreeMap::new();
    for (index, alert) in report.alerts.iter().enumerate() {
        objectives.entry(&alert.objective).or_default().push(index);
    }
    for budget in &report.budgets {
        objectives.entry(&budget.objective).or_default();
    }
    for key in report.error_ratios.keys() {
        objectives.entry(key).or_default();
    }
    let mut out = String::from(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>mlslo backtest</title>\
<style>body{font-family:sans-serif;margin:2em;color:#222}h2{margin-top:2em;border-bottom:1px solid #ccc}\
table{border-collapse:collapse}td,th{padding:2px 10px;text-align:left}.legend span{padding:0 8px}</style></head><body>\n",
    );
    out.push_str(&format!(
        "<h1>Backtest {} – {}</h1>\n<p>{} group evaluations. <span class=\"legend\"><span style=\"background:#f5c242\">pending</span><span style=\"background:#d9534f;color:#fff\">firing</span></span></p>\n",
        escape(&format_time(report.start_ms)),
        escape(&format_time(report.end_ms)),
        report.evaluations
    ));
    for (objective, alert_indexes) in &objectives {
        out.push_str(&format!("<h2>{}</h2>\n", escape(&objective.to_string())));
        if !alert_indexes.is_empty() {
            let row_height = 22.0;
            let height = row_height * alert_indexes.len() as f64;
            out.push_str(&format!(
                "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{:.0}\" font-family=\"sans-serif\">",
                height + 16.0
            ));
            axis.ticks(height, &mut out);
            for (row, &index) in alert_indexes.iter().enumerate() {
                let alert = &report.alerts[index];
                let top = row as f64 * row_height;
                // `feature` is not generated: drift alerts keep it from the user's metric.
                let extra: Vec<String> = [
                    LABEL_SEVERITY,
                    LABEL_LONG_WINDOW,
                    LABEL_SHORT_WINDOW,
                    "feature",
                ]
                .iter()
                .filter_map(|k| alert.labels.get(*k).map(|v| format!("{k}={v}")))
                .collect();
                out.push_str(&format!(
                    "<text x=\"0\" y=\"{:.1}\" font-size=\"11\">{} {}</text>",
                    top + 14.0,
                    escape(&alert.alertname),
                    escape(&extra.join(","))
                ));
                for (intervals, color, state) in [
                    (&alert.pending, "#f5c242", "pending"),
                    (&alert.firing, "#d9534f", "firing"),
                ] {
                    for interval in intervals {
                        let x = axis.x(interval.start_ms);
                        let width = (axis.x(interval.end_ms) - x).max(1.0);
                        out.push_str(&format!(
                            "<rect x=\"{x:.1}\" y=\"{:.1}\" width=\"{width:.1}\" height=\"{:.1}\" fill=\"{color}\"><title>{state} {} – {} ({})</title></rect>",
                            top + 3.0,
                            row_height - 6.0,
                            escape(&format_time(interval.start_ms)),
                            escape(&format_time(interval.end_ms)),
                            escape(&format_model_duration(interval.end_ms - interval.start_ms))
                        ));
                    }
                }
            }
            out.push_str("</svg>\n");
        }
        if let Some(ratio) = report.error_ratios.get(*objective) {
            out.push_str("<h3>Error ratio (5m) against the objective's budget</h3>\n");
            let references: Vec<(f64, &str)> =
                ratio.budget.iter().map(|b| (*b, "error budget")).collect();
            out.push_str(&line_chart(&axis, &ratio.points, &references, ""));
            out.push('\n');
        }
        for forecast in report
            .forecasts
            .iter()
            .filter(|f| f.objective == **objective)
        {
            let text = match forecast.lead_ms {
                Some(lead) => format!(
                    "{} fired {} ahead of {}",
                    forecast.forecast,
                    format_model_duration(lead),
                    forecast.threshold
                ),
                None => format!(
                    "{}: {}",
                    forecast.outcome.replace('_', " "),
                    forecast.threshold
                ),
            };
            out.push_str(&format!(
                "<p>Forecast at {}: {}</p>\n",
                escape(&format_time(forecast.at_ms)),
                escape(&text)
            ));
        }
        if let Some(budget) = report.budgets.iter().find(|b| b.objective == **objective) {
            out.push_str(&format!(
                "<h3>Error budget of the {} window remaining (spent {:.1}%)</h3>\n",
                escape(&budget.window),
                budget.spent_percent
            ));
            let assumption = if budget.full_window {
                String::new()
            } else {
                format!(
                    " The range covers {} of the window: the rest is assumed to have \
                     had the range's traffic and no errors.",
                    escape(&format_model_duration(budget.history_ms))
                )
            };
            out.push_str(&format!(
                "<p>The share of the budget of the objective window that the errors \
                 since the start of the range used, at each evaluation.{assumption}</p>\n"
            ));
            let remaining: Vec<(i64, f64)> = budget
                .points
                .iter()
                .map(|&(ts, spent)| (ts, 100.0 - spent))
                .collect();
            out.push_str(&line_chart(
                &axis,
                &remaining,
                &[(0.0, "budget exhausted")],
                "%",
            ));
            out.push('\n');
        }
    }
    out.push_str("</body></html>\n");
    out
}
