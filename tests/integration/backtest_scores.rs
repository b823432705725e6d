//! `mlslo backtest`'s alert-quality scores (precision, recall, detection and reset
//! time, pages per week) over the scenario histories of `tests/data/scenarios/`:
//! the inferred incidents are counted here from the histories' raw counters, the
//! scores are worked out by hand from the firing times the `scenarios` module holds
//! to `expected.yaml`, and bad incident files are refused with their line.

use std::path::Path;

use mlslo::prometheus::promql::Labels;
use mlslo::tools::backtest::scores::parse_incidents;
use mlslo::tools::backtest::Dataset;
use serde_json::Value;

use crate::support::{
    data, failed_requests, latency_bucket, metric_named, mlslo, scratch, stderr, stdout, write,
};

const MINUTE: i64 = 60_000;

/// The JSON report of `mlslo backtest` over one scenario, with more arguments.
fn backtest_json(scenario: &str, more: &[&str]) -> Value {
    let folder = data("scenarios").join(scenario);
    let history = folder.join("history.series");
    let mut arguments = vec![
        "backtest",
        folder.to_str().expect("utf-8 path"),
        "--data",
        history.to_str().expect("utf-8 path"),
        "--format",
        "json",
    ];
    arguments.extend(more);
    let output = mlslo(&arguments);
    assert!(output.status.success(), "{}", stderr(&output));
    serde_json::from_str(&stdout(&output)).expect("JSON report")
}

/// The per-minute sum of the counters whose labels satisfy `pick`.
fn summed(dataset: &Dataset, pick: &dyn Fn(&Labels) -> bool) -> Vec<f64> {
    let mut sums: Vec<f64> = Vec::new();
    for (_, samples) in dataset.series.iter().filter(|(labels, _)| pick(labels)) {
        for (ts, value) in samples {
            let minute = (*ts / MINUTE) as usize;
            if sums.len() <= minute {
                sums.resize(minute + 1, 0.0);
            }
            sums[minute] += value;
        }
    }
    sums
}

/// The incidents of one objective as the README defines the inferred ones, counted
/// from the counters: at each minute `t`, the errors and requests of `[t-5m, t]` (a
/// 2.x range selection holds both ends; every series of a scenario has a sample each
/// minute, so the rates' extrapolation cancels in the ratio), above `budget` for 15
/// minutes or more; as (start, end, still going) in minutes.
fn counted_incidents(errors: &[f64], total: &[f64], budget: f64) -> Vec<(i64, i64, bool)> {
    let minutes = total.len() as i64;
    let above = |t: i64| {
        let from = (t - 5).max(0) as usize;
        let requests = total[t as usize] - total[from];
        requests > 0.0 && errors[t as usize] - errors[from] > budget * requests
    };
    let mut found = Vec::new();
    let mut since = None;
    for t in 0..minutes {
        match (since, above(t)) {
            (None, true) => since = Some(t),
            (Some(start), false) => {
                if t - start >= 15 {
                    found.push((start, t, false));
                }
                since = None;
            }
            _ => {}
        }
    }
    if let Some(start) = since {
        if minutes - 1 - start >= 15 {
            found.push((start, minutes - 1, true));
        }
    }
    found
}

/// The report's incidents of the objective `slo`, in minutes.
fn reported_incidents(report: &Value, slo: &str) -> Vec<(i64, i64, bool)> {
    report["scores"]["incidents"]
        .as_array()
        .expect("incidents")
        .iter()
        .filter(|incident| incident["slo"] == slo)
        .map(|incident| {
            (
                incident["start_ms"].as_i64().expect("start") / MINUTE,
                incident["end_ms"].as_i64().expect("end") / MINUTE,
                incident["open"].as_bool().unwrap_or(false),
            )
        })
        .collect()
}

#[test]
fn inferred_incidents_are_the_5m_burn_above_the_budget_for_15m_counted_from_the_counters() {
    type Pick = Box<dyn Fn(&Labels) -> bool>;
    // (scenario, slo, budget, errors, requests, how many incidents the story has)
    let cases: Vec<(&str, &str, f64, Pick, Pick, usize)> = vec![
        (
            "fast-burn",
            "score-api",
            0.001,
            Box::new(failed_requests("http_requests_total", "code")),
            Box::new(metric_named("http_requests_total")),
            1,
        ),
        (
            "slow-burn",
            "feed",
            0.001,
            Box::new(failed_requests("http_requests_total", "code")),
            Box::new(metric_named("http_requests_total")),
            1,
        ),
        (
            "outage",
            "gateway",
            0.001,
            Box::new(failed_requests("istio_requests_total", "response_code")),
            Box::new(metric_named("istio_requests_total")),
            1,
        ),
        (
            "healthy-noise",
            "score-api",
            0.001,
            Box::new(failed_requests("http_requests_total", "code")),
            Box::new(metric_named("http_requests_total")),
            0,
        ),
        (
            "low-traffic",
            "review-api",
            0.001,
            Box::new(failed_requests("http_requests_total", "code")),
            Box::new(metric_named("http_requests_total")),
            0,
        ),
    ];
    for (scenario, slo, budget, errors, total, story) in &cases {
        let folder = data("scenarios").join(scenario);
        let mut dataset = Dataset::default();
        dataset
            .add_file(
                "history.series",
                &std::fs::read_to_string(folder.join("history.series")).expect("history"),
            )
            .expect("valid history");
        let counted =
            counted_incidents(&summed(&dataset, errors), &summed(&dataset, total), *budget);
        assert_eq!(counted.len(), *story, "{scenario}: {counted:?}");
        let report = backtest_json(scenario, &[]);
        assert_eq!(report["scores"]["source"]["kind"], "inferred", "{scenario}");
        assert_eq!(
            reported_incidents(&report, slo),
            counted,
            "{scenario}/{slo}"
        );
    }
    // The outage's latency objective, from its buckets: every request above 0.5s
    // fails it, with a 1% budget.
    let mut dataset = Dataset::default();
    let history =
        std::fs::read_to_string(data("scenarios/outage/history.series")).expect("history");
    dataset
        .add_file("history.series", &history)
        .expect("valid history");
    let all = summed(&dataset, &latency_bucket("+Inf"));
    let fast = summed(&dataset, &latency_bucket("0.5"));
    let slow: Vec<f64> = all.iter().zip(&fast).map(|(a, f)| a - f).collect();
    let counted = counted_incidents(&slow, &all, 0.01);
    assert_eq!(counted, [(91, 115, false)]);
    let report = backtest_json("outage", &[]);
    assert_eq!(reported_incidents(&report, "gateway-latency"), counted);
}

/// The scores of the alert named by `labels` (a subset), or of the objective `slo`
/// when `labels` is empty.
fn scores_of<'a>(report: &'a Value, slo: &str, labels: &[(&str, &str)]) -> &'a Value {
    let scores = &report["scores"];
    if labels.is_empty() {
        return scores["objectives"]
            .as_array()
            .expect("objectives")
            .iter()
            .find(|o| o["slo"] == slo)
            .unwrap_or_else(|| panic!("no scores for {slo}"));
    }
    scores["alerts"]
        .as_array()
        .expect("alerts")
        .iter()
        .find(|a| a["labels"]["slo"] == slo && labels.iter().all(|(k, v)| a["labels"][*k] == *v))
        .unwrap_or_else(|| panic!("no scores for {slo} {labels:?}"))
}

/// (firings, true positives, detected, incidents, detection, reset, reset a lower
/// bound) of one scores object, times in minutes.
type Summary = (u64, u64, u64, u64, Option<i64>, Option<i64>, bool);

fn summary(score: &Value) -> Summary {
    let minutes = |key: &str| score[key].as_i64().map(|ms| ms / MINUTE);
    (
        score["firings"].as_u64().expect("firings"),
        score["true_positives"].as_u64().expect("true positives"),
        score["detected"].as_u64().expect("detected"),
        score["incidents"].as_u64().expect("incidents"),
        minutes("detection_ms"),
        minutes("reset_ms"),
        score["reset_at_least"].as_bool().unwrap_or(false),
    )
}

const PAGE_1H: [(&str, &str); 2] = [("severity", "page"), ("long_window", "1h")];
const PAGE_6H: [(&str, &str); 2] = [("severity", "page"), ("long_window", "6h")];
const TICKET_3D: [(&str, &str); 2] = [("severity", "ticket"), ("long_window", "3d")];

#[test]
fn scores_against_the_inferred_incidents_are_the_hand_computed_ones() {
    // fast-burn over 4h: the incident is [2h1m, 2h35m) (counted above). The firings,
    // held to expected.yaml by the scenarios module: 3d/6h ticket 2h4m..end,
    // 1d/2h ticket 2h6m..end, 6h/30m page 2h8m..2h59m, 1h/5m page 2h9m..2h35m.
    let report = backtest_json("fast-burn", &[]);
    // Every firing overlaps the incident; the ticket at 2h4m detects it 3m in; the
    // tickets still fire at 4h, so the reset is at least 4h - 2h35m = 1h25m.
    assert_eq!(
        summary(scores_of(&report, "score-api", &[])),
        (4, 4, 1, 1, Some(3), Some(85), true)
    );
    assert_eq!(
        summary(scores_of(&report, "score-api", &PAGE_1H)),
        (1, 1, 1, 1, Some(8), Some(0), false)
    );
    assert_eq!(
        summary(scores_of(&report, "score-api", &PAGE_6H)),
        (1, 1, 1, 1, Some(7), Some(24), false)
    );
    // Two page firings in 4h: 2 * 168h / 4h a week; one each for an alert.
    let per_week = |score: &Value| score["pages_per_week"].as_f64().expect("per week");
    assert_eq!(per_week(scores_of(&report, "score-api", &[])), 84.0);
    assert_eq!(per_week(scores_of(&report, "score-api", &PAGE_1H)), 42.0);
    assert_eq!(scores_of(&report, "score-api", &[])["precision"], 1.0);
    assert_eq!(scores_of(&report, "score-api", &[])["recall"], 1.0);

    // outage over 3h: availability's incident is [1h31m, 1h55m); its 1h/5m page fires
    // 1h31m..1h55m (detection and reset 0), its 6h/30m page 1h31m..2h20m (reset 25m).
    let report = backtest_json("outage", &[]);
    assert_eq!(
        summary(scores_of(&report, "gateway", &PAGE_1H)),
        (1, 1, 1, 1, Some(0), Some(0), false)
    );
    assert_eq!(
        summary(scores_of(&report, "gateway", &PAGE_6H)),
        (1, 1, 1, 1, Some(0), Some(25), false)
    );
    // Latency's incident is the same 24 minutes; its 3d/6h ticket is first, at 1h33m.
    assert_eq!(
        summary(scores_of(&report, "gateway-latency", &[])),
        (4, 4, 1, 1, Some(2), Some(65), true)
    );

    // healthy-noise: no incident and no firing, so precision and recall are undefined
    // and nobody is paged.
    let report = backtest_json("healthy-noise", &[]);
    let quiet = scores_of(&report, "score-api", &[]);
    assert_eq!(summary(quiet), (0, 0, 0, 0, None, None, false));
    assert!(quiet["precision"].is_null() && quiet["recall"].is_null());
    assert_eq!(quiet["pages_per_week"], 0.0);
}

#[test]
fn labelled_incidents_score_false_positives_misses_and_a_firing_across_two_incidents() {
    let folder = scratch("backtest-scores-labelled");
    // fast-burn, labelled by hand: the burn [2h, 2h30m), a second incident
    // [3h30m, 3h40m) that no error ratio shows, and one of an objective without rules.
    let fast_burn = write(
        folder.path(),
        "fast-burn.yml",
        "incidents:\n\
         - {service: fraud-detector, slo: score-api, start: 7200, end: 9000}\n\
         - {service: fraud-detector, slo: score-api, start: '1970-01-01T03:30:00Z', end: 13200}\n\
         - {service: fraud-detector, slo: explain-api, start: 7200, end: 9000}\n",
    );
    let report = backtest_json("fast-burn", &["--incidents", &fast_burn]);
    assert_eq!(report["scores"]["source"]["kind"], "file");
    // The 1h/5m page (2h9m..2h35m) catches the first incident 9m in and stops 5m
    // after it; it misses the second: recall 1/2.
    assert_eq!(
        summary(scores_of(&report, "score-api", &PAGE_1H)),
        (1, 1, 1, 2, Some(9), Some(5), false)
    );
    assert_eq!(scores_of(&report, "score-api", &PAGE_1H)["recall"], 0.5);
    // The 3d/6h ticket's one firing (2h4m..end) overlaps both: one true positive that
    // detects both, 4m into the first and already firing at the second (mean 2m); it
    // outlasts them by at least 4h - 2h30m = 1h30m and 4h - 3h40m = 20m (mean 55m).
    assert_eq!(
        summary(scores_of(&report, "score-api", &TICKET_3D)),
        (1, 1, 2, 2, Some(2), Some(55), true)
    );
    assert_eq!(
        summary(scores_of(&report, "score-api", &[])),
        (4, 4, 2, 2, Some(2), Some(55), true)
    );
    // No alert of explain-api: its incident is missed, its precision undefined.
    let missed = scores_of(&report, "explain-api", &[]);
    assert_eq!(summary(missed), (0, 0, 0, 1, None, None, false));
    assert!(missed["precision"].is_null());
    assert_eq!(missed["recall"], 0.0);

    // outage, labelled as availability alone: latency's four firings are false
    // positives (the file is the whole truth about the range).
    let outage = write(
        folder.path(),
        "outage.yml",
        "incidents:\n  - service: support-assistant\n    slo: gateway\n    start: 5400\n    end: 6600\n",
    );
    let report = backtest_json("outage", &["--incidents", &outage]);
    let latency = scores_of(&report, "gateway-latency", &[]);
    assert_eq!(summary(latency), (4, 0, 0, 0, None, None, false));
    assert_eq!(latency["precision"], 0.0);
    assert!(latency["recall"].is_null());
    let text = stdout(&mlslo(&[
        "backtest",
        data("scenarios/outage").to_str().expect("utf-8"),
        "--data",
        data("scenarios/outage/history.series")
            .to_str()
            .expect("utf-8"),
        "--incidents",
        &outage,
    ]));
    assert!(
        text.contains(&format!("alert quality (incidents labelled in {outage})")),
        "{text}"
    );
    assert!(
        text.contains("  incident support-assistant/gateway  1970-01-01T01:30:00Z .. 1970-01-01T01:50:00Z (20m)  detected after 1m by ErrorBudgetBurn"),
        "{text}"
    );
}

#[test]
fn a_bad_incident_file_is_refused_with_its_line() {
    let refused = |text: &str| parse_incidents("i.yml", text).expect_err(text);
    assert_eq!(
        refused("incidents:\n  - {service: s, slo: o, start: 60, end: 60}\n"),
        "i.yml:2: incidents[0]: end is not after start"
    );
    assert_eq!(
        refused("incidents:\n  - service: s\n    slo: ''\n    start: 0\n    end: 60\n"),
        "i.yml:3: incidents[0]: slo is empty"
    );
    assert_eq!(
        refused("incidents:\n  - {service: s, slo: o, start: noon, end: 60}\n"),
        "i.yml:2: incidents[0]: bad time \"noon\" (unix seconds or RFC 3339)"
    );
    let unknown = refused("incidents:\n  - {service: s, slo: o, begin: 0, end: 60}\n");
    assert!(
        unknown.starts_with("i.yml:2: incidents[0]: unknown field `begin`"),
        "{unknown}"
    );
    assert!(refused("incidents: [\n").starts_with("i.yml:2: "));
    assert_eq!(refused(""), "i.yml:1: missing field `incidents`");
    let many = format!(
        "incidents:\n{}",
        "  - {service: s, slo: o, start: 0, end: 60}\n".repeat(10_001)
    );
    assert_eq!(
        refused(&many),
        "i.yml: 10001 incidents, more than the 10000 an incident file may have"
    );
    let huge = format!("# {}\nincidents: []\n", "x".repeat(4 << 20));
    assert!(refused(&huge).contains("more than the 4194304 an incident file may have"));

    // Through the command: exit 2, the file named, nothing on stdout.
    let folder = scratch("backtest-scores-bad");
    let path = write(
        folder.path(),
        "bad.yml",
        "incidents:\n  - {service: s, slo: o, start: 60, end: 0}\n",
    );
    let scenario = data("scenarios/fast-burn");
    let output = mlslo(&[
        "backtest",
        scenario.to_str().expect("utf-8"),
        "--data",
        Path::new(&scenario)
            .join("history.series")
            .to_str()
            .expect("utf-8"),
        "--incidents",
        &path,
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        stderr(&output),
        format!("error: {path}:2: incidents[0]: end is not after start\n")
    );
    assert_eq!(stdout(&output), "");
}
