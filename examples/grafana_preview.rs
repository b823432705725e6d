//! A static preview of a generated Grafana dashboard over recorded history, for
//! looking at the panels without a Grafana server: the rules run over the history
//! every minute (as `mlslo backtest` runs them), every panel query runs over the
//! result, and each panel is drawn at its grid position (time series as lines with
//! their thresholds dashed, stats as their last value coloured by their thresholds,
//! the alert timeline as bars, text as text). Group variables are "All".
//!
//! ```sh
//! cargo run --example grafana_preview -- generated/grafana/fraud-detector.json \
//!     generated/prometheus/fraud-detector.rules.yml \
//!     tests/data/backtest/fraud-detector.series > preview.html
//! chromium --headless --screenshot=preview.png --window-size=1400,2400 preview.html
//! ```

use std::fmt::Write as _;

use mlslo::prometheus::promql::{range_query, EvalOptions, Matrix, Storage};
use mlslo::prometheus::ruler::{load_rule_file, EvalContext, GroupEvaluator};
use mlslo::tools::backtest::{Dataset, RULE_FILE_OPTIONS};
use serde_json::Value;

const COLUMN: f64 = 56.0;
const ROW: f64 = 30.0;
const STEP_MS: i64 = 300_000;
const COLOURS: [&str; 6] = [
    "#73bf69", "#f2cc0c", "#8ab8ff", "#ff780a", "#b877d9", "#5794f2",
];

fn main() {
    let arguments: Vec<String> = std::env::args().skip(1).collect();
    let [dashboard, rules, history] = arguments.as_slice() else {
        eprintln!("usage: grafana_preview DASHBOARD.json RULES.yml HISTORY.series");
        std::process::exit(2);
    };
    let read = |path: &str| {
        std::fs::read_to_string(path).unwrap_or_else(|error| {
            eprintln!("{path}: {error}");
            std::process::exit(2)
        })
    };
    let dashboard: Value = serde_json::from_str(&read(dashboard)).expect("dashboard JSON");
    let mut dataset = Dataset::default();
    dataset.add_file(history, &read(history)).expect("history");
    let (start, end) = dataset.extent_ms().expect("samples");
    let groups = load_rule_file(rules, &read(rules), RULE_FILE_OPTIONS).expect("rules");
    let mut evaluators: Vec<GroupEvaluator> = groups.into_iter().map(GroupEvaluator::new).collect();
    let mut storage = dataset.to_storage();
    let mut at = start;
    while at <= end {
        for evaluator in &mut evaluators {
            evaluator.evaluate(&mut storage, at, &EvalContext::default());
        }
        at += 60_000;
    }
    print!("{}", page(&dashboard, &storage, start, end));
}

fn page(dashboard: &Value, storage: &Storage, start: i64, end: i64) -> String {
    let mut html = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><style>\
body{{background:#111217;color:#ccccdc;font-family:sans-serif;margin:8px}}\
.panel{{position:absolute;background:#181b1f;border:1px solid #2c3235;border-radius:2px;overflow:hidden;box-sizing:border-box;padding:4px}}\
.title{{font-size:12px;font-weight:600;margin-bottom:2px;white-space:nowrap}}\
.row{{position:absolute;font-size:14px;font-weight:600;color:#d8d9da}}\
.value{{font-size:26px;font-weight:600;text-align:center}}\
.name{{font-size:10px;text-align:center}}\
pre{{font-size:10px;white-space:pre-wrap}}</style></head><body>\
<div style=\"font-size:18px;margin-bottom:6px\">{} <span style=\"font-size:11px\">{}</span></div>\
<div style=\"position:relative\">",
        escape(dashboard["title"].as_str().unwrap_or_default()),
        escape(&format!(
            "uid {} · history {} to {}",
            dashboard["uid"].as_str().unwrap_or_default(),
            start / 1000,
            end / 1000
        )),
    );
    let all_values: Vec<(String, String)> = dashboard["templating"]["list"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|variable| variable["type"] == "query")
        .map(|variable| {
            (
                format!("${}", variable["name"].as_str().unwrap_or_default()),
                variable["allValue"].as_str().unwrap_or(".*").to_owned(),
            )
        })
        .collect();
    for panel in dashboard["panels"].as_array().into_iter().flatten() {
        let grid = &panel["gridPos"];
        let number = |key: &str| grid[key].as_f64().unwrap_or_default();
        let (x, y, w, h) = (
            number("x") * COLUMN,
            number("y") * ROW,
            number("w") * COLUMN - 4.0,
            number("h") * ROW - 4.0,
        );
        let title = escape(panel["title"].as_str().unwrap_or_default());
        if panel["type"] == "row" {
            let _ = write!(
                html,
                "<div class=\"row\" style=\"left:{x}px;top:{y}px\">{title}</div>"
            );
            continue;
        }
        let results: Vec<(String, Matrix)> = panel["targets"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|target| {
                let mut expr = target["expr"].as_str().unwrap_or_default().to_owned();
                for (variable, value) in &all_values {
                    expr = expr.replace(variable, value);
                }
                let matrix =
                    range_query(storage, &expr, start, end, STEP_MS, &EvalOptions::default())
                        .unwrap_or_default();
                let legend = target["legendFormat"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned();
                (legend, matrix)
            })
            .collect();
        let body = match panel["type"].as_str().unwrap_or_default() {
            "timeseries" => time_series(panel, &results, start, end, w, h - 20.0),
            "stat" => stat(panel, &results),
            "state-timeline" => timeline(&results, start, end, w, h - 20.0),
            _ => format!(
                "<pre>{}</pre>",
                escape(panel["options"]["content"].as_str().unwrap_or_default())
            ),
        };
        let _ = write!(
            html,
            "<div class=\"panel\" style=\"left:{x}px;top:{y}px;width:{w}px;height:{h}px\">\
<div class=\"title\">{title}</div>{body}</div>"
        );
    }
    html.push_str("</div></body></html>\n");
    html
}

/// A legend template with the series' labels put in.
fn legend(template: &str, labels: &mlslo::prometheus::promql::Labels) -> String {
    let mut text = template.to_owned();
    while let Some(open) = text.find("{{") {
        let Some(close) = text[open..].find("}}") else {
            break;
        };
        let name = text[open + 2..open + close].trim().to_owned();
        text.replace_range(open..open + close + 2, labels.get(&name));
    }
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn thresholds(panel: &Value) -> Vec<(Option<f64>, String)> {
    panel["fieldConfig"]["defaults"]["thresholds"]["steps"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|step| {
            (
                step["value"].as_f64(),
                step["color"].as_str().unwrap_or("green").to_owned(),
            )
        })
        .collect()
}

fn colour(name: &str) -> &str {
    match name {
        "red" => "#f2495c",
        "green" => "#73bf69",
        "yellow" => "#fade2a",
        "orange" => "#ff9830",
        other => other,
    }
}

fn format_value(unit: &str, value: f64) -> String {
    match unit {
        "percentunit" => format!("{:.3}%", value * 100.0),
        "percent" => format!("{value:.1}%"),
        "s" => format!("{value:.0} s"),
        _ => format!("{value:.3}"),
    }
}

fn time_series(
    panel: &Value,
    results: &[(String, Matrix)],
    start: i64,
    end: i64,
    width: f64,
    height: f64,
) -> String {
    let unit = panel["fieldConfig"]["defaults"]["unit"]
        .as_str()
        .unwrap_or_default();
    let lines: Vec<f64> = thresholds(panel)
        .iter()
        .filter_map(|(value, _)| *value)
        .collect();
    let values = results
        .iter()
        .flat_map(|(_, matrix)| {
            matrix
                .iter()
                .flat_map(|series| series.values.iter().copied())
        })
        .chain(lines.iter().copied())
        .filter(|value| value.is_finite());
    let (mut low, mut high) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), v| {
        (l.min(v), h.max(v))
    });
    if !low.is_finite() {
        return "<div class=\"name\">No data</div>".to_owned();
    }
    if high - low < 1e-12 {
        high += 1.0;
        low -= 1.0;
    }
    let left = 60.0;
    let plot_height = height - 22.0;
    let x =
        |ts: i64| left + (ts - start) as f64 / (end - start).max(1) as f64 * (width - left - 10.0);
    let y = |value: f64| 4.0 + (high - value) / (high - low) * (plot_height - 8.0);
    let mut svg =
        format!("<svg width=\"{width}\" height=\"{height}\" font-size=\"9\" fill=\"#ccccdc\">");
    for value in [high, low] {
        let _ = write!(
            svg,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>",
            left - 3.0,
            y(value) + 3.0,
            format_value(unit, value)
        );
    }
    for value in &lines {
        let _ = write!(
            svg,
            "<line x1=\"{left}\" x2=\"{right}\" y1=\"{level}\" y2=\"{level}\" stroke=\"#f2495c\" stroke-dasharray=\"6 4\"/>\
<text x=\"{label_x}\" y=\"{label_y}\" fill=\"#f2495c\" text-anchor=\"end\">{text}</text>",
            right = width - 10.0,
            level = y(*value),
            label_x = width - 12.0,
            label_y = y(*value) - 2.0,
            text = format_value(unit, *value)
        );
    }
    let mut legend_x = left;
    let mut index = 0;
    for (template, matrix) in results {
        for series in matrix {
            let colour = COLOURS[index % COLOURS.len()];
            index += 1;
            let points: Vec<String> = series
                .timestamps
                .iter()
                .zip(&series.values)
                .filter(|(_, value)| value.is_finite())
                .map(|(ts, value)| format!("{:.1},{:.1}", x(*ts), y(*value)))
                .collect();
            let _ = write!(
                svg,
                "<polyline fill=\"none\" stroke=\"{colour}\" stroke-width=\"1.3\" points=\"{}\"/>",
                points.join(" ")
            );
            let name = escape(&legend(template, &series.labels));
            let _ = write!(
                svg,
                "<rect x=\"{legend_x}\" y=\"{}\" width=\"10\" height=\"3\" fill=\"{colour}\"/>\
<text x=\"{}\" y=\"{}\">{name}</text>",
                height - 8.0,
                legend_x + 13.0,
                height - 4.0
            );
            legend_x += 24.0 + 5.5 * name.len() as f64;
        }
    }
    svg.push_str("</svg>");
    svg
}

fn stat(panel: &Value, results: &[(String, Matrix)]) -> String {
    let unit = panel["fieldConfig"]["defaults"]["unit"]
        .as_str()
        .unwrap_or_default();
    let steps = thresholds(panel);
    let mut html = String::from("<div style=\"display:flex;justify-content:space-around\">");
    for (template, matrix) in results {
        for series in matrix {
            let Some(last) = series.values.iter().rev().find(|v| v.is_finite()) else {
                continue;
            };
            let colour_name = steps
                .iter()
                .rfind(|(value, _)| value.is_none_or(|value| *last >= value))
                .map_or("green", |(_, colour)| colour.as_str());
            let _ = write!(
                html,
                "<div><div class=\"value\" style=\"color:{}\">{}</div><div class=\"name\">{}</div></div>",
                colour(colour_name),
                format_value(unit, *last),
                escape(&legend(template, &series.labels))
            );
        }
    }
    html.push_str("</div>");
    html
}

fn timeline(results: &[(String, Matrix)], start: i64, end: i64, width: f64, height: f64) -> String {
    let series: Vec<(String, &mlslo::prometheus::promql::Series)> = results
        .iter()
        .flat_map(|(template, matrix)| {
            matrix
                .iter()
                .map(move |series| (legend(template, &series.labels), series))
        })
        .collect();
    let left = 330.0;
    let lane = ((height - 14.0) / series.len().max(1) as f64).min(18.0);
    let x =
        |ts: i64| left + (ts - start) as f64 / (end - start).max(1) as f64 * (width - left - 10.0);
    let mut svg =
        format!("<svg width=\"{width}\" height=\"{height}\" font-size=\"9\" fill=\"#ccccdc\">");
    for (index, (name, series)) in series.iter().enumerate() {
        let top = index as f64 * lane;
        let _ = write!(
            svg,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>",
            left - 4.0,
            top + lane * 0.7,
            escape(name)
        );
        for ts in &series.timestamps {
            let _ = write!(
                svg,
                "<rect x=\"{:.1}\" y=\"{top:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"#f2495c\"/>",
                x(*ts),
                (x(ts + STEP_MS) - x(*ts)).max(1.0),
                lane * 0.8
            );
        }
    }
    svg.push_str("</svg>");
    svg
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
