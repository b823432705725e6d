//! `mlslo backtest --prometheus-url`: against a real Prometheus 2.42 on 127.0.0.1 whose
//! TSDB is built (with `promtool tsdb create-blocks-from openmetrics`) from the
//! bundled fraud-detector history, the report must equal the one from the same
//! history given as a file; against local fakes, retries, timeouts, API errors and
//! credentials behave.
//!
//! Without promtool or Prometheus the real-server test returns early, unless `CI` is
//! set: then it fails. Servers are killed when the test ends, also on failure.

use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use mlslo::tools::backtest::data::parse_series_notation;

use crate::support::{
    free_port, installed, mlslo_in, repository, scratch, stderr, stdout, FakeServer, Server,
    SilentServer, PROMETHEUS, PROMTOOL,
};

const HISTORY: &str = "tests/data/backtest/fraud-detector.series";
const START: &str = "2026-11-01T00:00:00Z";
const END: &str = "2026-11-02T23:59:00Z";

/// The bundled history as OpenMetrics text, one family after the other.
fn history_as_openmetrics() -> String {
    let text = std::fs::read_to_string(repository().join(HISTORY)).expect("history");
    let dataset = parse_series_notation(HISTORY, &text).expect("valid history");
    let mut families: std::collections::BTreeMap<String, String> = Default::default();
    for (labels, samples) in &dataset.series {
        let family = families
            .entry(labels.get("__name__").to_string())
            .or_default();
        let pairs: Vec<String> = labels
            .pairs()
            .iter()
            .filter(|(name, _)| name != "__name__")
            .map(|(name, value)| format!("{name}=\"{value}\""))
            .collect();
        let series = format!("{}{{{}}}", labels.get("__name__"), pairs.join(","));
        for (ms, value) in samples {
            family.push_str(&format!(
                "{series} {value} {}.{:03}\n",
                ms / 1000,
                ms % 1000
            ));
        }
    }
    let mut out: String = families.into_values().collect();
    out.push_str("# EOF\n");
    out
}

fn backtest_json(folder: &Path, source: &[&str]) -> serde_json::Value {
    let mut args = vec![
        "backtest",
        "rules/fraud-detector.slo",
        "rules/routing.slo",
        "--start",
        START,
        "--end",
        END,
        "--format",
        "json",
    ];
    args.extend_from_slice(source);
    let output = mlslo_in(folder, &args, &[]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    serde_json::from_str(&stdout(&output)).expect("JSON report")
}

#[test]
fn history_pulled_from_prometheus_gives_the_report_of_the_file() {
    if installed(PROMTOOL).is_none() || installed(PROMETHEUS).is_none() {
        return;
    }
    let scratch = scratch("backtest-prometheus");
    let openmetrics = scratch.path().join("history.om");
    std::fs::write(&openmetrics, history_as_openmetrics()).expect("write OpenMetrics");
    let tsdb = scratch.path().join("tsdb");
    let created = Command::new(PROMTOOL)
        .args(["tsdb", "create-blocks-from", "openmetrics"])
        .arg(&openmetrics)
        .arg(&tsdb)
        .output()
        .expect("promtool runs");
    assert!(
        created.status.success(),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );
    std::fs::write(scratch.path().join("prometheus.yml"), "global: {}\n").expect("config");
    let port = free_port();
    let mut command = Command::new(PROMETHEUS);
    command
        .arg(format!(
            "--config.file={}",
            scratch.path().join("prometheus.yml").display()
        ))
        .arg(format!("--storage.tsdb.path={}", tsdb.display()))
        // The history is from 2026-11-01: keep it whatever today's date.
        .arg("--storage.tsdb.retention.time=100y")
        .arg(format!("--web.listen-address=127.0.0.1:{port}"));
    let server = Server::start(
        command,
        port,
        scratch.path().join("prometheus.log"),
        "/-/ready",
    );

    let from_file = backtest_json(repository(), &["--data", HISTORY]);
    // Half-hour chunks, four in flight: many requests, answered out of order.
    let from_server = backtest_json(
        repository(),
        &[
            "--prometheus-url",
            &server.url(),
            "--chunk",
            "30m",
            "--concurrency",
            "4",
        ],
    );
    assert_eq!(from_server, from_file);
    let firings: usize = from_file["alerts"]
        .as_array()
        .expect("alerts")
        .iter()
        .map(|alert| alert["firings"].as_u64().unwrap_or(0) as usize)
        .sum();
    assert!(firings >= 3, "the history makes alerts fire: {from_file}");
    // One chunk per request as big as the range: the same again.
    let one_chunk = backtest_json(
        repository(),
        &["--prometheus-url", &server.url(), "--chunk", "3d"],
    );
    assert_eq!(one_chunk, from_file);
}

const RULES: &str =
    "groups:\n  - name: g\n    rules:\n      - alert: Down\n        expr: up{job=\"api\"} == 0\n";

const MATRIX: &str = r#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"__name__":"up","job":"api"},"values":[[1700000000,"1"],[1700000060,"0"],[1700000120,"0"]]}]}}"#;

fn run_against(url: &str, extra: &[&str], environment: &[(&str, &str)]) -> std::process::Output {
    let scratch = scratch("backtest-fake");
    std::fs::write(scratch.path().join("rules.yml"), RULES).expect("rules");
    let mut args = vec![
        "backtest",
        "rules.yml",
        "--prometheus-url",
        url,
        "--start",
        "1700000000",
        "--end",
        "1700000120",
        "--step",
        "1m",
        "--format",
        "json",
    ];
    args.extend_from_slice(extra);
    mlslo_in(scratch.path(), &args, environment)
}

#[test]
fn a_503_is_retried_and_the_raw_samples_are_read() {
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&calls);
    let server = FakeServer::start(move |_| {
        if counter.fetch_add(1, Ordering::SeqCst) == 0 {
            (503, "text/plain", "busy".to_string())
        } else {
            (200, "application/json", MATRIX.to_string())
        }
    });
    let output = run_against(&server.url(), &["--chunk", "1d"], &[]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let requests = server.requests();
    assert_eq!(requests.len(), 2, "one retry");
    let request = &requests[1];
    assert_eq!(
        (request.method.as_str(), request.path.as_str()),
        ("POST", "/api/v1/query")
    );
    // The selector over the whole widened range (5m lookback, 1ms early), at its end.
    assert!(
        request
            .body
            .contains("query=up%7Bjob%3D%22api%22%7D%5B420001ms%5D")
            && request.body.contains("time=1700000120.000"),
        "{}",
        request.body
    );
    let report: serde_json::Value = serde_json::from_str(&stdout(&output)).expect("JSON");
    assert_eq!(report["alerts"][0]["firings"], 1, "{report}");
}

#[test]
fn a_silent_server_times_out_and_the_command_ends() {
    let server = SilentServer::start();
    let url = format!("http://127.0.0.1:{}", server.port);
    let output = run_against(&url, &["--timeout", "1s", "--retries", "0"], &[]);
    assert_eq!(output.status.code(), Some(2));
    let error = stderr(&output);
    assert!(
        error.contains("no response within 1s") && error.contains("fetching `up{job=\"api\"}`"),
        "{error}"
    );
}

#[test]
fn an_api_error_names_the_selector_and_the_time_range() {
    let server = FakeServer::start(|_| {
        (
            422,
            "application/json",
            r#"{"status":"error","errorType":"execution","error":"query processing would load too many samples into memory in query execution"}"#.to_string(),
        )
    });
    let output = run_against(&server.url(), &[], &[]);
    assert_eq!(output.status.code(), Some(2));
    let error = stderr(&output);
    assert!(
        error.contains("fetching `up{job=\"api\"}` for (")
            && error.contains("HTTP 422")
            && error.contains("too many samples")
            && error.contains("hint: give a smaller --chunk"),
        "{error}"
    );
}

#[test]
fn the_bearer_token_is_sent_and_never_printed() {
    let server = FakeServer::start(|request| {
        if request.headers.get("authorization").map(String::as_str) == Some("Bearer s3cr3t-t0ken") {
            (200, "application/json", MATRIX.to_string())
        } else {
            (401, "text/plain", "unauthorized".to_string())
        }
    });
    let scratch = scratch("backtest-token");
    let token = scratch.path().join("token");
    std::fs::write(&token, "s3cr3t-t0ken\n").expect("token file");
    let token = token.display().to_string();
    let output = run_against(&server.url(), &["--bearer-token-file", &token], &[]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let output = run_against(&server.url(), &[], &[("MLSLO_BEARER_TOKEN", "wrong-t0ken")]);
    assert_eq!(output.status.code(), Some(2));
    let printed = format!("{}{}", stdout(&output), stderr(&output));
    assert!(
        printed.contains("HTTP 401") && !printed.contains("t0ken"),
        "{printed}"
    );
}

#[test]
fn a_server_without_the_series_is_named_in_a_warning() {
    let server = FakeServer::start(|_| {
        (
            200,
            "application/json",
            r#"{"status":"success","data":{"resultType":"matrix","result":[]}}"#.to_string(),
        )
    });
    let output = run_against(&server.url(), &[], &[]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let error = stderr(&output);
    assert!(
        error.contains(&format!(
            "warning: {}: `up{{job=\"api\"}}` matched no series from ",
            server.url()
        )) && error.contains("the rules that read it see no data"),
        "{error}"
    );
}
