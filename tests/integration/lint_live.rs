//! `mlslo lint --prometheus-url` against a real Prometheus 2.42 on 127.0.0.1, started
//! here with a temporary data folder and a configuration that scrapes itself every 1s.
//!
//! Without `/usr/bin/prometheus` the test returns early, unless `CI` is set: then it
//! fails. The server is killed when the test ends, also on failure. A local fake shows
//! what goes on the wire and that credentials in the URL are never printed.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::support::{
    data, free_port, http, installed, mlslo_in, scratch, stderr, stdout, FakeServer, Server,
    PROMETHEUS,
};

/// Prometheus on a free port of 127.0.0.1, scraping itself every 1s, returned once it has
/// scraped itself and counted HTTP requests.
fn start_prometheus(folder: &Path) -> Server {
    let port = free_port();
    let config = folder.join("prometheus.yml");
    std::fs::write(
        &config,
        format!("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n  - job_name: prometheus\n    static_configs:\n      - targets: ['127.0.0.1:{port}']\n"),
    )
    .expect("write config");
    let mut command = Command::new(PROMETHEUS);
    command
        .arg(format!("--config.file={}", config.display()))
        .arg(format!(
            "--storage.tsdb.path={}",
            folder.join("data").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"));
    let server = Server::start(command, port, folder.join("prometheus.log"), "/-/ready");
    let has_value =
        |path: &str| http(port, "GET", path, "").is_ok_and(|(_, body)| body.contains("\"value\""));
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let up = has_value("/api/v1/query?query=up%7Bjob%3D%22prometheus%22%7D%3D%3D1");
        let requests = has_value("/api/v1/query?query=prometheus_http_requests_total");
        if up && requests {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "prometheus did not scrape itself within 60s"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    server
}

#[test]
fn live_checks_against_a_real_prometheus() {
    if installed(PROMETHEUS).is_none() {
        return;
    }
    let folder = scratch("lint-live");
    let server = start_prometheus(&folder);
    let data = data("lint");
    let output = mlslo_in(
        &data,
        &[
            "lint",
            "--format",
            "github",
            "--prometheus-url",
            &server.url(),
            "live/rules.yml",
        ],
        &[],
    );
    let (stdout, stderr) = (stdout(&output), stderr(&output));
    // The server scrapes every 1s, so `[1m]` and `[5s]` are at least 4 intervals (no
    // L0302); only the two selectors with no series are reported. `job:up:sum` is
    // recorded by the file itself and is not queried.
    assert_eq!(
        stdout,
        "::warning file=live/rules.yml,line=9,col=20,endLine=9,endColumn=40,title=L0601 series not found in Prometheus::`no_such_metric_total` matches no series\n\
         ::warning file=live/rules.yml,line=9,col=53,endLine=9,endColumn=55,title=L0601 series not found in Prometheus::`up{job=\"nope\"}` matches no series\n",
        "{stderr}"
    );
    // Without the server's 1s interval, the default 1m makes `[1m]` and `[5s]` too short.
    let offline = mlslo_in(
        &data,
        &["lint", "--format", "github", "live/rules.yml"],
        &[],
    );
    assert_eq!(
        String::from_utf8_lossy(&offline.stdout)
            .matches("L0302")
            .count(),
        2
    );
}

#[test]
fn credentials_in_the_url_never_reach_the_output() {
    let server = FakeServer::start(|request| {
        let body = if request.path == "/api/v1/status/config" {
            r#"{"status":"success","data":{"yaml":"global:\n  scrape_interval: 1s\n"}}"#
        } else {
            r#"{"status":"success","data":{"resultType":"vector","result":[]}}"#
        };
        (200, "application/json", body.to_string())
    });
    let url = format!("http://ops:hunter2@127.0.0.1:{}/", server.port);
    let output = mlslo_in(
        &data("lint"),
        &["lint", "--prometheus-url", &url, "live/rules.yml"],
        &[],
    );
    let printed = format!("{}{}", stdout(&output), stderr(&output));
    assert!(
        printed.contains(&format!(
            "checked with `count(no_such_metric_total)` at http://***@127.0.0.1:{}\n",
            server.port
        )) && !printed.contains("hunter2"),
        "{printed}"
    );
    // The configuration, then one query per distinct selector not recorded by the file.
    let requests: Vec<(String, String, String)> = server
        .seen
        .lock()
        .expect("lock")
        .iter()
        .map(|request| {
            (
                request.method.clone(),
                request.path.clone(),
                request.body.clone(),
            )
        })
        .collect();
    assert_eq!(requests.len(), 5, "{requests:?}");
    assert_eq!(requests[0].1, "/api/v1/status/config");
    assert!(
        requests[1..]
            .iter()
            .all(|(method, path, body)| method == "POST"
                && path == "/api/v1/query"
                && body.starts_with("query=count%28")),
        "{requests:?}"
    );
}
