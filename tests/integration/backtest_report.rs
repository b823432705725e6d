//! The HTML report of `mlslo backtest` as a real browser lays it out (Debian's
//! chromium, headless): no SVG text runs out of its chart, every chart has a
//! `viewBox`, the page does not overflow the window sideways, and the summary's
//! firings table says what the JSON report says, in the report's order (pages, then
//! tickets, then time), as do its budgets and alert-quality tables.
//!
//! The report has no script; a copy gets one appended that measures every text with
//! `getBBox` and writes what it found into the page, which `chromium --dump-dom`
//! prints after layout.

use std::process::Command;

use mlslo::tools::backtest::format_time;

use crate::support::{data, installed, mlslo, repository, scratch, stderr};

/// Debian's `chromium` package.
const CHROMIUM: &str = "/usr/bin/chromium";

/// Appended to a copy of the report: measures every `<text>` of every chart against
/// the chart's `viewBox`, and reads the firings and budgets tables, into
/// `<pre id="measured">`.
const MEASURE: &str = r#"<script>
(function () {
  var result = { charts: 0, texts: 0, overflow: [], withoutViewBox: 0, pageOverflow: 0, firings: [] };
  document.querySelectorAll('svg').forEach(function (svg) {
    var texts = svg.querySelectorAll('text');
    if (texts.length === 0) { return; }
    result.charts += 1;
    if (!svg.hasAttribute('viewBox')) { result.withoutViewBox += 1; return; }
    var box = svg.viewBox.baseVal;
    texts.forEach(function (text) {
      result.texts += 1;
      var b = text.getBBox();
      if (b.width === 0 || b.x < box.x - 0.5 || b.y < box.y - 0.5 ||
          b.x + b.width > box.x + box.width + 0.5 || b.y + b.height > box.y + box.height + 0.5) {
        result.overflow.push([svg.getAttribute('aria-label'), text.textContent, b.x, b.y, b.width, b.height]);
      }
    });
  });
  result.pageOverflow = document.documentElement.scrollWidth - window.innerWidth;
  document.querySelectorAll('#firings tbody tr').forEach(function (row) {
    result.firings.push(Array.prototype.map.call(row.cells, function (cell) { return cell.textContent; }));
  });
  result.budgets = [];
  document.querySelectorAll('#budgets tbody tr').forEach(function (row) {
    result.budgets.push(Array.prototype.map.call(row.cells, function (cell) { return cell.textContent; }));
  });
  result.scores = [];
  document.querySelectorAll('#scores tbody tr.objective').forEach(function (row) {
    result.scores.push(Array.prototype.map.call(row.cells, function (cell) { return cell.textContent; }));
  });
  var out = document.createElement('pre');
  out.id = 'measured';
  out.textContent = JSON.stringify(result);
  document.body.appendChild(out);
})();
</script>"#;

/// What the browser measured in `html` at `width` CSS pixels.
fn measure_in_chromium(chromium: &std::path::Path, html: &str, width: u32) -> serde_json::Value {
    let folder = scratch("report-browser");
    let path = folder.join("measured.html");
    let body_end = html.rfind("</body>").expect("the report ends its body");
    let page = format!("{}{MEASURE}{}", &html[..body_end], &html[body_end..]);
    std::fs::write(&path, page).expect("measured copy written");
    let output = Command::new(chromium)
        .args([
            "--headless",
            "--disable-gpu",
            "--no-sandbox",
            "--hide-scrollbars",
            &format!("--window-size={width},2000"),
            "--dump-dom",
        ])
        .arg(format!("file://{}", path.display()))
        .output()
        .expect("chromium runs");
    let dom = String::from_utf8_lossy(&output.stdout);
    let start = dom
        .find("<pre id=\"measured\">")
        .unwrap_or_else(|| panic!("no measurement in the DOM: {}", stderr(&output)))
        + "<pre id=\"measured\">".len();
    let end = start + dom[start..].find("</pre>").expect("measurement closed");
    // The text content as serialised HTML: only these three are escaped.
    let text = dom[start..end]
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&");
    serde_json::from_str(&text).expect("measurement is JSON")
}

/// The firings table's rows as the JSON report gives them: severity, the start of the
/// alert name, the objective, fired at, first notified, notifications.
fn firings_from_json(report: &serde_json::Value) -> Vec<[String; 6]> {
    let mut rows = Vec::new();
    for alert in report["alerts"].as_array().expect("alerts") {
        let labels = &alert["labels"];
        let severity = labels["severity"].as_str().unwrap_or("").to_string();
        for (index, span) in alert["firing"]
            .as_array()
            .expect("firing")
            .iter()
            .enumerate()
        {
            let page = &alert["pages"][index];
            let start_ms = span["start_ms"].as_i64().expect("start");
            rows.push((
                match severity.as_str() {
                    "page" => 0,
                    "ticket" => 1,
                    _ => 2,
                },
                start_ms,
                [
                    severity.clone(),
                    alert["alertname"].as_str().expect("name").to_string(),
                    format!(
                        "{}/{}",
                        labels["service"].as_str().unwrap_or(""),
                        labels["slo"].as_str().unwrap_or("")
                    ),
                    format_time(start_ms),
                    page["notified_ms"]
                        .as_i64()
                        .map_or_else(|| "–".to_string(), format_time),
                    page["notifications"].to_string(),
                ],
            ));
        }
    }
    // Stable: the JSON's own order (name, then labels) among equals, as the page keeps it.
    rows.sort_by_key(|row| (row.0, row.1));
    rows.into_iter().map(|row| row.2).collect()
}

/// The budgets table's (objective, spent) as the JSON report gives them, sorted.
fn budgets_from_json(report: &serde_json::Value) -> Vec<(String, String)> {
    let mut rows: Vec<(String, String)> = report["budgets"]
        .as_array()
        .expect("budgets")
        .iter()
        .map(|budget| {
            let group: Vec<String> = budget["group"]
                .as_object()
                .into_iter()
                .flatten()
                .map(|(name, value)| format!("{name}={}", value.as_str().unwrap_or("")))
                .collect();
            let objective = format!(
                "{}/{}{}",
                budget["service"].as_str().unwrap_or(""),
                budget["slo"].as_str().unwrap_or(""),
                if group.is_empty() {
                    String::new()
                } else {
                    format!("{{{}}}", group.join(","))
                }
            );
            let spent = budget["spent_percent"].as_f64().expect("spent");
            (objective, format!("{spent:.1}%"))
        })
        .collect();
    rows.sort();
    rows
}

/// The objective rows of the alert-quality table as the JSON report gives them:
/// objective, firings, precision, recall with its counts.
fn objective_scores_from_json(report: &serde_json::Value) -> Vec<[String; 4]> {
    let percent = |value: &serde_json::Value| {
        value
            .as_f64()
            .map_or("-".to_string(), |ratio| format!("{:.1}%", 100.0 * ratio))
    };
    report["scores"]["objectives"]
        .as_array()
        .expect("scored objectives")
        .iter()
        .map(|score| {
            let group: Vec<String> = score["group"]
                .as_object()
                .into_iter()
                .flatten()
                .map(|(name, value)| format!("{name}={}", value.as_str().unwrap_or("")))
                .collect();
            [
                format!(
                    "{}/{}{}",
                    score["service"].as_str().unwrap_or(""),
                    score["slo"].as_str().unwrap_or(""),
                    if group.is_empty() {
                        String::new()
                    } else {
                        format!("{{{}}}", group.join(","))
                    }
                ),
                score["firings"].to_string(),
                percent(&score["precision"]),
                format!(
                    "{} ({}/{})",
                    percent(&score["recall"]),
                    score["detected"],
                    score["incidents"]
                ),
            ]
        })
        .collect()
}

fn check_report(rules: &[&str], series: &str) {
    let Some(chromium) = installed(CHROMIUM) else {
        return;
    };
    let folder = scratch("report-html");
    let report_path = folder.join("report.html").display().to_string();
    let mut arguments = vec!["backtest"];
    let rules: Vec<String> = rules
        .iter()
        .map(|rule| repository().join(rule).display().to_string())
        .collect();
    arguments.extend(rules.iter().map(String::as_str));
    let series = data("backtest").join(series).display().to_string();
    arguments.extend([
        "--data",
        &series,
        "--format",
        "json",
        "--report",
        &report_path,
    ]);
    let output = mlslo(&arguments);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON report");
    let html = std::fs::read_to_string(&report_path).expect("report written");
    // A narrow window as well as a wide one: the charts scale, the wide table scrolls
    // in its own box.
    for width in [1280, 700] {
        let measured = measure_in_chromium(chromium, &html, width);
        assert!(measured["charts"].as_u64() > Some(3), "{measured}");
        assert!(measured["texts"].as_u64() > Some(50), "{measured}");
        assert_eq!(measured["withoutViewBox"], 0, "{measured}");
        assert_eq!(
            measured["overflow"],
            serde_json::json!([]),
            "texts outside their chart at {width}px"
        );
        assert!(
            measured["pageOverflow"].as_i64() <= Some(0),
            "the page is wider than a {width}px window: {measured}"
        );
        let budgets: Vec<Vec<String>> =
            serde_json::from_value(measured["budgets"].clone()).expect("rows of cells");
        let mut shown_budgets: Vec<(String, String)> = budgets
            .iter()
            .map(|row| (row[0].clone(), row[2].clone()))
            .collect();
        shown_budgets.sort();
        assert_eq!(shown_budgets, budgets_from_json(&report));
        // The alert-quality table's objective rows (its alerts' rows are under each).
        let scores: Vec<Vec<String>> =
            serde_json::from_value(measured["scores"].clone()).expect("rows of cells");
        let shown_scores: Vec<[String; 4]> = scores
            .iter()
            .map(|row| {
                [
                    row[0].clone(),
                    row[1].clone(),
                    row[2].clone(),
                    row[3].clone(),
                ]
            })
            .collect();
        assert_eq!(shown_scores, objective_scores_from_json(&report));
        let expected = firings_from_json(&report);
        let shown: Vec<Vec<String>> =
            serde_json::from_value(measured["firings"].clone()).expect("rows of cells");
        assert_eq!(shown.len(), expected.len(), "{shown:?}");
        for (row, want) in shown.iter().zip(&expected) {
            let [severity, name, objective, fired, notified, notifications] = want;
            let (objective_cell, notifications_cell) = (&row[2], &row[7]);
            assert_eq!(&row[0], severity, "{row:?}");
            assert!(row[1].starts_with(name.as_str()), "{row:?} {want:?}");
            assert!(objective_cell.starts_with(objective.as_str()), "{row:?}");
            assert_eq!(&row[3], fired, "{row:?}");
            assert_eq!(&row[6], notified, "{row:?}");
            assert_eq!(notifications_cell, notifications, "{row:?}");
        }
    }
}

#[test]
fn the_fraud_detector_report_fits_its_charts_and_matches_the_json() {
    check_report(
        &["rules/fraud-detector.slo", "rules/routing.slo"],
        "fraud-detector.series",
    );
}

#[test]
fn the_model_serving_report_fits_its_charts_and_matches_the_json() {
    check_report(
        &["rules/model-serving.slo", "rules/routing.slo"],
        "model-serving.series",
    );
}
