//! `mlslo backtest` end to end: each data format read and refused with file:line,
//! routing through `--alertmanager-config`, stable JSON, and promtool as the oracle
//! for when alerts fire (a promtool test file whose expectations are the backtest's
//! firing spans must pass `promtool test rules`).

use std::process::{Command, Output};

use crate::support::{data, installed, mlslo, scratch, stderr, stdout, write, PROMTOOL};

const RULES: &str = r#"groups:
  - name: example
    rules:
      - record: job:errors:rate2m
        expr: sum by (job) (rate(errors_total[2m]))
      - alert: ErrorsHigh
        expr: job:errors:rate2m > 0.5
        for: 3m
        labels:
          severity: page
      - alert: ErrorsSome
        expr: job:errors:rate2m > 0.1
        labels:
          severity: ticket
"#;

/// One hour at 1m: quiet, a burst from minute 10 to 25 in `api`, smaller ones later.
const SERIES: &str = "interval: 1m\n\
errors_total{job=\"api\"} 0+1x10 10+60x15 910+1x15 925+20x5 1025+1x14\n\
errors_total{job=\"batch\"} 0+0x30 0+12x10 120+0x20\n";

fn json(output: &Output) -> serde_json::Value {
    assert_eq!(output.status.code(), Some(0), "{}", stderr(output));
    serde_json::from_slice(&output.stdout).expect("JSON output")
}

#[test]
fn openmetrics_series_notation_and_matrix_json_give_the_same_report() {
    let folder = scratch("formats");
    let rules = write(&folder, "rules.yml", RULES);
    let series = write(&folder, "data.series", SERIES);
    // The same samples as OpenMetrics with float-second timestamps.
    let mut om = String::from("# TYPE errors_total counter\n");
    let mut matrix = Vec::new();
    for (job, pieces) in [
        (
            "api",
            vec![
                (0.0, 1.0, 10),
                (10.0, 60.0, 15),
                (910.0, 1.0, 15),
                (925.0, 20.0, 5),
                (1025.0, 1.0, 14),
            ],
        ),
        (
            "batch",
            vec![(0.0, 0.0, 30), (0.0, 12.0, 10), (120.0, 0.0, 20)],
        ),
    ] {
        let mut minute = 0;
        let mut points = Vec::new();
        for (start, delta, count) in pieces {
            for step in 0..=count {
                points.push(serde_json::json!([
                    (minute + step) * 60,
                    format!("{}", start + delta * step as f64)
                ]));
                om.push_str(&format!(
                    "errors_total{{job=\"{job}\"}} {} {}.0\n",
                    start + delta * step as f64,
                    (minute + step) * 60
                ));
            }
            minute += count + 1;
        }
        matrix.push(serde_json::json!({
            "metric": {"__name__": "errors_total", "job": job},
            "values": points,
        }));
    }
    let matrix = serde_json::json!({
        "status": "success",
        "data": {"resultType": "matrix", "result": matrix},
    });
    let matrix = write(&folder, "data.json", matrix.to_string());
    om.push_str("# EOF\n");
    let om = write(&folder, "data.om", &om);
    let a = json(&mlslo(&[
        "backtest", &rules, "--data", &series, "--format", "json",
    ]));
    let b = json(&mlslo(&[
        "backtest", &rules, "--data", &om, "--format", "json",
    ]));
    let c = json(&mlslo(&[
        "backtest", &rules, "--data", &matrix, "--format", "json",
    ]));
    assert_eq!(a, b);
    assert_eq!(a, c);
    assert!(
        a["alerts"]
            .as_array()
            .is_some_and(|alerts| !alerts.is_empty()),
        "{a}"
    );
}

#[test]
fn bad_data_is_refused_with_file_and_line() {
    let folder = scratch("bad");
    let rules = write(&folder, "rules.yml", RULES);
    for (name, data, expected) in [
        (
            "a.om",
            "up 1 10\nup 1\n",
            "a.om:2: a sample needs a timestamp",
        ),
        (
            "b.om",
            "up 1 10\n# EOF\nup 2 20\n",
            "b.om:3: data after \"# EOF\"",
        ),
        (
            "c.series",
            "interval: 1m\nup 1+x\n",
            "c.series:2: bad values",
        ),
        ("d.prom", "up{job=\"a\" 1 10\n", "d.prom:1: bad series"),
    ] {
        let path = write(&folder, name, data);
        let output = mlslo(&["backtest", &rules, "--data", &path]);
        assert_eq!(output.status.code(), Some(2));
        assert!(
            stderr(&output).contains(expected),
            "{name}: {}",
            stderr(&output)
        );
        assert!(output.stdout.is_empty());
    }
    let output = mlslo(&[
        "backtest",
        &rules,
        "--data",
        &write(&folder, "e.series", "up 1\n"),
        "--start",
        "noon",
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("--start: bad time \"noon\""),
        "{}",
        stderr(&output)
    );
    let bad_rules = write(
        &folder,
        "bad.yml",
        "groups:\n  - name: x\n    rules:\n      - alert: A\n        expr: sum(\n",
    );
    let output = mlslo(&[
        "backtest",
        &bad_rules,
        "--data",
        &write(&folder, "f.series", "up 1\n"),
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("bad.yml"), "{}", stderr(&output));
}

#[test]
fn routing_with_an_alertmanager_config() {
    let folder = scratch("routing");
    let rules = write(&folder, "rules.yml", RULES);
    let series = write(&folder, "data.series", SERIES);
    let config = write(
        &folder,
        "am.yml",
        "route:\n  receiver: tickets\n  routes:\n    - matchers: ['severity=\"page\"']\n      receiver: pager\n\
inhibit_rules:\n  - source_matchers: ['severity=\"page\"']\n    target_matchers: ['severity=\"ticket\"']\n    equal: [job]\n\
receivers:\n  - name: tickets\n  - name: pager\n",
    );
    let report = json(&mlslo(&[
        "backtest",
        &rules,
        "--data",
        &series,
        "--alertmanager-config",
        &config,
        "--format",
        "json",
    ]));
    let alerts = report["alerts"].as_array().expect("alerts");
    let find = |name: &str, job: &str| {
        alerts
            .iter()
            .find(|a| a["alertname"] == name && a["labels"]["job"] == job)
            .unwrap_or_else(|| panic!("{name} {job} in {report}"))
    };
    // api: the counter is 10 at minutes 10 and 11, then +60/min. rate(errors_total[2m])
    // (2.42: both ends of the window inclusive) is 60/120s = 0.5 at minute 12, so
    // ErrorsSome (> 0.1) fires at 12; 1/s from minute 13, so ErrorsHigh (> 0.5, for 3m)
    // is pending at 13 and fires at 16.
    let high = find("ErrorsHigh", "api");
    assert_eq!(high["pending"][0]["start_ms"], 13 * 60_000);
    assert_eq!(high["firing"][0]["start_ms"], 16 * 60_000);
    assert_eq!(high["pages"][0]["receivers"][0], "pager");
    let some = find("ErrorsSome", "api");
    assert_eq!(some["firing"][0]["start_ms"], 12 * 60_000);
    // The ticket started before the page existed: routed to tickets, not inhibited.
    assert_eq!(some["pages"][0]["receivers"][0], "tickets");
    assert!(some["pages"][0].get("inhibited_by").is_none());
}

#[test]
fn promtool_agrees_on_when_alerts_fire() {
    if installed(PROMTOOL).is_none() {
        return;
    }
    let folder = scratch("oracle");
    let rules = write(&folder, "rules.yml", RULES);
    let series = write(&folder, "data.series", SERIES);
    let report = json(&mlslo(&[
        "backtest", &rules, "--data", &series, "--format", "json",
    ]));
    let alerts = report["alerts"].as_array().expect("alerts");
    // Expected firing alerts per minute and alert name, from the backtest's spans.
    let mut tests = String::new();
    let mut checked = 0;
    for minute in 0..=59i64 {
        let ts = minute * 60_000;
        for name in ["ErrorsHigh", "ErrorsSome"] {
            let mut expected = Vec::new();
            for alert in alerts.iter().filter(|a| a["alertname"] == name) {
                let firing = alert["firing"]
                    .as_array()
                    .expect("spans")
                    .iter()
                    .any(|span| {
                        let start = span["start_ms"].as_i64().expect("start");
                        let end = span["end_ms"].as_i64().expect("end");
                        start <= ts && (ts < end || (span["open"] == true && ts <= end))
                    });
                if firing {
                    let labels: Vec<String> = alert["labels"]
                        .as_object()
                        .expect("labels")
                        .iter()
                        .filter(|(k, _)| *k != "alertname")
                        .map(|(k, v)| format!("{k}: {v}"))
                        .collect();
                    expected.push(format!(
                        "          - exp_labels: {{{}}}\n",
                        labels.join(", ")
                    ));
                    checked += 1;
                }
            }
            tests.push_str(&format!(
                "      - eval_time: {minute}m\n        alertname: {name}\n"
            ));
            if expected.is_empty() {
                tests.push_str("        exp_alerts: []\n");
            } else {
                tests.push_str("        exp_alerts:\n");
                tests.push_str(&expected.concat());
            }
        }
    }
    assert!(
        checked > 20,
        "the case must exercise firing alerts: {checked}"
    );
    let input: String = SERIES
        .lines()
        .skip(1)
        .map(|line| {
            let (series, values) = line.split_once(' ').expect("series line");
            format!("      - series: '{series}'\n        values: '{values}'\n")
        })
        .collect();
    let test_file = format!(
        "rule_files: [rules.yml]\nevaluation_interval: 1m\ntests:\n  - interval: 1m\n    input_series:\n{input}    alert_rule_test:\n{tests}"
    );
    let path = write(&folder, "oracle_test.yml", &test_file);
    let output = Command::new(PROMTOOL)
        .args(["test", "rules", &path])
        .output()
        .expect("promtool runs");
    assert!(
        output.status.success(),
        "promtool disagrees with the backtest:\n{}\n{}",
        stdout(&output),
        stderr(&output)
    );
}

#[test]
fn the_html_report_is_self_contained_and_deterministic() {
    let folder = scratch("html");
    let rules = write(&folder, "rules.yml", RULES);
    let series = write(&folder, "data.series", SERIES);
    let mut pages = Vec::new();
    for name in ["a.html", "b.html"] {
        let path = folder.join(name).display().to_string();
        let output = mlslo(&["backtest", &rules, "--data", &series, "--report", &path]);
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        pages.push(std::fs::read_to_string(&path).expect("report written"));
    }
    assert_eq!(pages[0], pages[1], "same input, same bytes");
    let page = &pages[0];
    assert!(page.starts_with("<!DOCTYPE html>"));
    assert!(!page.contains("<script"));
    // One timeline per objective with alerts, with a firing span for ErrorsHigh.
    assert!(
        page.contains("<h2>(no service/slo labels)</h2>"),
        "rules without service/slo labels group together"
    );
    assert!(
        page.contains("<title>firing 1970-01-01T00:16:00Z"),
        "{page}"
    );
    assert_eq!(page.matches("<svg").count(), page.matches("</svg>").count());
    // No stray temporary file is left next to the report.
    let leftovers: Vec<_> = std::fs::read_dir(&folder)
        .expect("folder")
        .filter_map(Result::ok)
        .filter(|entry| entry.file_name().to_string_lossy().contains(".tmp"))
        .collect();
    assert!(leftovers.is_empty());
}

#[test]
fn the_html_report_shows_the_budget_share_and_what_it_assumes() {
    let folder = scratch("html-budget");
    let scenario = data("scenarios").join("fast-burn");
    let path = folder.join("report.html").display().to_string();
    let output = mlslo(&[
        "backtest",
        &scenario.display().to_string(),
        "--data",
        &scenario.join("history.series").display().to_string(),
        "--report",
        &path,
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let page = std::fs::read_to_string(&path).expect("report written");
    // 3000 failed requests of 1000 a minute against 0.1% of 30 days of them: 6.9%,
    // 7.0% as the 5m rates of the first minutes see a little less traffic.
    assert!(
        page.contains("<h3>Error budget of the 30d window remaining (spent 7.0%)</h3>"),
        "{page}"
    );
    assert!(
        page.contains(
            "The range covers 4h of the window: the rest is assumed to have had \
                       the range's traffic and no errors."
        ),
        "{page}"
    );
}

/// Six hours of a histogram with boundaries 100ms, 250ms and +Inf: 1000 requests a
/// minute, 999 of them under 100ms (99.9% fast).
const FAST_HISTOGRAM: &str = "interval: 1m\n\
http_request_duration_seconds_bucket{le=\"0.1\"} 0+999x360\n\
http_request_duration_seconds_bucket{le=\"0.25\"} 0+1000x360\n\
http_request_duration_seconds_bucket{le=\"+Inf\"} 0+1000x360\n";

fn latency_slo(threshold: &str, extra: &str) -> String {
    format!(
        "service \"api\" {{\n  team = \"web\"\n  latency \"fast\" {{\n    \
         histogram = http_request_duration_seconds\n    threshold = {threshold}\n    \
         objective = 99.9%\n{extra}  }}\n}}\n"
    )
}

/// A 200ms threshold on a histogram whose boundaries are 100ms and 250ms has no
/// `le` series: it once read as 100% errors (a budget spent 100000% while 99.9%
/// of requests were fast, and a page firing for good).
#[test]
fn a_threshold_between_buckets_is_refused_and_never_reads_as_errors() {
    let folder = scratch("bucket");
    let series = write(&folder, "data.series", FAST_HISTOGRAM);
    let unproven = write(&folder, "unproven.slo", latency_slo("200ms", ""));
    let output = mlslo(&["check", &unproven]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("error[E0611]"),
        "{}",
        stderr(&output)
    );
    assert!(
        stderr(&output).contains("boundaries are 100ms and 250ms"),
        "{}",
        stderr(&output)
    );
    let declared = write(
        &folder,
        "declared.slo",
        latency_slo("200ms", "    buckets = [100ms, 250ms]\n"),
    );
    let output = mlslo(&["check", &declared]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("error[E0610]"),
        "{}",
        stderr(&output)
    );

    // The user vouches for the bucket and is wrong: no data, and an alert naming
    // the missing series, routed with the objective's labels.
    let assumed = write(
        &folder,
        "assumed.slo",
        latency_slo("200ms", "    assume_bucket = true\n"),
    );
    let report = json(&mlslo(&[
        "backtest", &assumed, "--data", &series, "--format", "json",
    ]));
    let names: Vec<&str> = report["alerts"]
        .as_array()
        .expect("alerts")
        .iter()
        .filter_map(|alert| alert["alertname"].as_str())
        .collect();
    assert_eq!(names, ["SLOLatencyBucketMissing"], "{report}");
    assert_eq!(report["alerts"][0]["labels"]["team"], "web", "{report}");
    assert_eq!(report["budgets"], serde_json::json!([]), "{report}");

    // At a real boundary the same requests are all fast, and nothing fires.
    let real = write(
        &folder,
        "real.slo",
        latency_slo("250ms", "    buckets = [100ms, 250ms]\n"),
    );
    let output = mlslo(&["check", &real]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let report = json(&mlslo(&[
        "backtest", &real, "--data", &series, "--format", "json",
    ]));
    assert_eq!(report["alerts"], serde_json::json!([]), "{report}");
}

fn availability_slo(extra: &str) -> String {
    format!(
        "service \"api\" {{\n  team = \"web\"\n  availability \"requests\" {{\n    \
         errors    = http_requests_total{{code=\"500\"}}\n    \
         total     = http_requests_total\n    objective = 99.9%\n{extra}  }}\n}}\n"
    )
}

fn alert_severities(report: &serde_json::Value) -> Vec<String> {
    report["alerts"]
        .as_array()
        .expect("alerts")
        .iter()
        .map(|alert| format!("{}/{}", alert["alertname"], alert["labels"]["severity"]))
        .collect()
}

/// 3 requests a minute for a day, then 3 of them failing in one minute: once a
/// page (20% errors over 5m), the same false page Sloth's rules give. The default
/// guard needs 70 events in the 5m window before the 14.4× page may fire.
#[test]
fn a_handful_of_failures_on_thin_traffic_pages_nobody() {
    let folder = scratch("thin");
    let series = write(
        &folder,
        "data.series",
        "interval: 1m\n\
         http_requests_total{code=\"200\"} 0+3x1440 4323+3x119\n\
         http_requests_total{code=\"500\"} 0x1440 3+0x119\n",
    );
    let slo = write(&folder, "api.slo", availability_slo(""));
    let report = json(&mlslo(&[
        "backtest", &slo, "--data", &series, "--format", "json",
    ]));
    assert_eq!(alert_severities(&report), Vec::<String>::new(), "{report}");
    // Opting out brings the false page back.
    let unguarded = write(
        &folder,
        "unguarded.slo",
        availability_slo("    min_traffic = none\n"),
    );
    let report = json(&mlslo(&[
        "backtest", &unguarded, "--data", &series, "--format", "json",
    ]));
    assert_eq!(
        alert_severities(&report),
        ["\"ErrorBudgetBurn\"/\"page\""],
        "{report}"
    );
}

/// One request a minute, every one failing, for ten hours, below a written
/// `min_traffic = 10 per 5m`: the guard once kept only the page quiet, and the
/// ticket fired all along.
#[test]
fn the_traffic_guard_keeps_tickets_quiet_too() {
    let folder = scratch("ticket-guard");
    let series = write(
        &folder,
        "data.series",
        "interval: 1m\nhttp_requests_total{code=\"500\"} 0+1x600\n",
    );
    let slo = write(
        &folder,
        "api.slo",
        availability_slo("    min_traffic = 10 per 5m\n"),
    );
    let report = json(&mlslo(&[
        "backtest", &slo, "--data", &series, "--format", "json",
    ]));
    assert_eq!(alert_severities(&report), Vec::<String>::new(), "{report}");
    // At 3 a minute the guard holds, and the outage pages.
    let series = write(
        &folder,
        "busier.series",
        "interval: 1m\nhttp_requests_total{code=\"500\"} 0+3x600\n",
    );
    let report = json(&mlslo(&[
        "backtest", &slo, "--data", &series, "--format", "json",
    ]));
    assert!(
        alert_severities(&report).contains(&"\"ErrorBudgetBurn\"/\"page\"".to_owned()),
        "{report}"
    );
}

#[test]
fn data_without_a_selectors_series_is_named_in_a_warning() {
    // The fraud detector's rules over the model-serving history: every selector of
    // theirs matches nothing there, as a fetch from a server without them would warn.
    let output = mlslo(&[
        "backtest",
        "rules/fraud-detector.slo",
        "rules/routing.slo",
        "--data",
        "tests/data/backtest/model-serving.series",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let warnings = stderr(&output);
    assert!(
        warnings.contains(
            "warning: --data: `fraud_model_precision{app=\"fraud-detector\",label_delay=\"24h\",\
             namespace=\"risk-prod\"}` matched no series from 2026-11-01T00:00:00Z to \
             2026-11-01T23:59:00Z: the rules that read it see no data\n"
        ),
        "{warnings}"
    );
    assert!(warnings
        .lines()
        .all(|line| line.starts_with("warning: --data: `")));
    // Its own history holds every series it reads, a sample a minute.
    let output = mlslo(&[
        "backtest",
        "rules/fraud-detector.slo",
        "rules/routing.slo",
        "--data",
        "tests/data/backtest/fraud-detector.series",
    ]);
    assert_eq!(stderr(&output), "");
}

#[test]
fn the_html_alert_bars_show_when_each_firing_was_muted_and_when_notified() {
    // The outage: the tickets start muted by the pages and are notified once those
    // resolve; each bar turns from cross-hatched to solid at the notification the
    // JSON report gives, and a page is dotted for its group_wait, then solid.
    let folder = scratch("html-notified");
    let scenario = data("scenarios").join("outage");
    let path = folder.join("report.html").display().to_string();
    let arguments = [
        "backtest".to_string(),
        scenario.display().to_string(),
        "--data".to_string(),
        scenario.join("history.series").display().to_string(),
    ];
    let mut with_report: Vec<&str> = arguments.iter().map(String::as_str).collect();
    with_report.extend(["--report", &path, "--format", "json"]);
    let output = mlslo(&with_report);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let report: serde_json::Value = serde_json::from_str(&stdout(&output)).expect("JSON");
    let page = std::fs::read_to_string(&path).expect("report written");
    let time = |ms: i64| {
        let seconds = ms / 1000;
        format!(
            "1970-01-01T{:02}:{:02}:{:02}Z",
            seconds / 3600,
            seconds % 3600 / 60,
            seconds % 60
        )
    };
    let mut checked = (0, 0);
    for alert in report["alerts"].as_array().expect("alerts") {
        let (Some(firing), Some(sent)) = (alert["firing"].get(0), alert["pages"].get(0)) else {
            continue;
        };
        let (Some(start), Some(end)) = (firing["start_ms"].as_i64(), firing["end_ms"].as_i64())
        else {
            continue;
        };
        let Some(notified) = sent["notified_ms"].as_i64() else {
            continue;
        };
        let receivers: Vec<&str> = sent["receivers"]
            .as_array()
            .expect("receivers")
            .iter()
            .filter_map(|r| r.as_str())
            .collect();
        let before = match sent["inhibited_by"].as_str() {
            Some(by) => {
                checked.0 += 1;
                format!("firing, inhibited by {by}")
            }
            None => {
                checked.1 += 1;
                "firing, not notified yet".to_string()
            }
        };
        for title in [
            format!("<title>{before} {} – {}", time(start), time(notified)),
            format!(
                "<title>firing, notified ({}) {} – {}",
                receivers.join("+"),
                time(notified),
                time(end)
            ),
        ] {
            assert!(page.contains(&title), "{title} in\n{page}");
        }
    }
    // Four tickets muted then notified; two pages notified after group_wait.
    assert_eq!(checked, (4, 2));
    assert!(page.contains("<table id=\"scores\">"), "{page}");
}
