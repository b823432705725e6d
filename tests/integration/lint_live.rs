//! `mlslo lint --prometheus-url` against a real Prometheus 2.42 on 127.0.0.1, started
//! here with a temporary data folder and a configuration that scrapes itself every 1s.
//!
//! Without `/usr/bin/prometheus` the test returns early, unless `CI` is set: then it
//! fails. The server is killed when the test ends, also on failure.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Server {
    child: Child,
    folder: PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.folder);
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("a free port on 127.0.0.1")
}

fn get(port: u16, path: &str) -> Option<String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    Some(response)
}

fn start_prometheus() -> Option<(Server, u16)> {
    let binary = Path::new("/usr/bin/prometheus");
    if !binary.exists() {
        assert!(
            std::env::var_os("CI").is_none(),
            "prometheus is required in CI (apt package `prometheus`)"
        );
        return None;
    }
    let port = free_port();
    let folder =
        std::env::temp_dir().join(format!("mlslo-lint-live-{}-{port}", std::process::id()));
    let _ = std::fs::remove_dir_all(&folder);
    std::fs::create_dir_all(folder.join("data")).expect("temp folder");
    let config = folder.join("prometheus.yml");
    std::fs::write(
        &config,
        format!("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n  - job_name: prometheus\n    static_configs:\n      - targets: ['127.0.0.1:{port}']\n"),
    )
    .expect("write config");
    let child = Command::new(binary)
        .arg(format!("--config.file={}", config.display()))
        .arg(format!(
            "--storage.tsdb.path={}",
            folder.join("data").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("prometheus starts");
    let server = Server { child, folder };
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let up = get(
            port,
            "/api/v1/query?query=up%7Bjob%3D%22prometheus%22%7D%3D%3D1",
        )
        .is_some_and(|body| body.contains("\"value\""));
        let requests = get(port, "/api/v1/query?query=prometheus_http_requests_total")
            .is_some_and(|body| body.contains("\"value\""));
        if up && requests {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "prometheus did not scrape itself within 60s"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    Some((server, port))
}

#[test]
fn live_checks_against_a_real_prometheus() {
    let Some((_server, port)) = start_prometheus() else {
        return;
    };
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/lint");
    let output = Command::new(env!("CARGO_BIN_EXE_mlslo"))
        .args([
            "lint",
            "--format",
            "github",
            "--prometheus-url",
            &format!("http://127.0.0.1:{port}"),
            "live/rules.yml",
        ])
        .current_dir(&data)
        .output()
        .expect("mlslo runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
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
    let offline = Command::new(env!("CARGO_BIN_EXE_mlslo"))
        .args(["lint", "--format", "github", "live/rules.yml"])
        .current_dir(&data)
        .output()
        .expect("mlslo runs");
    assert_eq!(
        String::from_utf8_lossy(&offline.stdout)
            .matches("L0302")
            .count(),
        2
    );
}
