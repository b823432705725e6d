//! Every resource a run can be made to take is bounded, for every command: input files
//! and stdin (256 MiB, regular files only), HTTP response bodies, series expansion and
//! evaluation steps. Each test drives the built binary with input that would otherwise
//! hang or exhaust memory, under a deadline and a memory cap, so a regression fails the
//! test instead of the machine.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::support::{mlslo_command, scratch, write};

/// Longer than any bounded run takes on a busy machine; a run still going then is hung.
const DEADLINE: Duration = Duration::from_secs(60);

/// Address space the binary may take (`ulimit -v`, in KiB): the 256 MiB input limit and
/// the runtime's threads fit well inside, and an unbounded read of `/dev/zero` fails fast
/// instead of taking the machine's memory.
const ADDRESS_SPACE_KIB: u64 = 3 * 1024 * 1024;

/// Runs `mlslo` in `folder` under the memory cap, with `stdin` (a path) as standard
/// input, and kills it at the deadline; the test fails if it had to be killed.
fn bounded_run(folder: &Path, arguments: &[&str], stdin: Option<&str>) -> Output {
    let binary = mlslo_command(folder).get_program().to_owned();
    let mut command = Command::new("sh");
    command
        .current_dir(folder)
        .arg("-c")
        .arg(format!(
            "ulimit -v {ADDRESS_SPACE_KIB} && exec \"$0\" \"$@\""
        ))
        .arg(binary)
        .args(arguments)
        .env_remove("NO_COLOR")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .stdin(match stdin {
            Some(path) => Stdio::from(std::fs::File::open(path).expect("stdin file opens")),
            None => Stdio::null(),
        });
    let mut child = command.spawn().expect("mlslo starts");
    let started = Instant::now();
    while child.try_wait().expect("wait works").is_none() {
        if started.elapsed() > DEADLINE {
            let _ = child.kill();
            let output = child.wait_with_output().expect("killed mlslo is reaped");
            panic!(
                "mlslo {arguments:?} was still running after {DEADLINE:?}; stderr:\n{}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().expect("mlslo output")
}

fn make_fifo(folder: &Path, name: &str) -> String {
    let path = folder.join(name);
    let status = Command::new("mkfifo")
        .arg(&path)
        .status()
        .expect("mkfifo runs");
    assert!(status.success(), "mkfifo {}", path.display());
    path.display().to_string()
}

/// Exit status 2 (an I/O problem), no panic, and a message that names `path` and `what`.
fn assert_refused(arguments: &[&str], output: &Output, path: &str, what: &str) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        output.status.code(),
        Some(2),
        "mlslo {arguments:?}: wrong exit status; stderr:\n{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(
        stderr.contains(path) && stderr.contains(what),
        "mlslo {arguments:?}: the error should name `{path}` and say `{what}`:\n{stderr}"
    );
}

const RULE_FILE: &str =
    "groups:\n  - name: g\n    rules:\n      - alert: Down\n        expr: up{job=\"api\"} == 0\n";

/// A valid Alertmanager configuration, for the commands that need one beside the bad input.
const ALERTMANAGER_YML: &str = "route:\n  receiver: team\nreceivers:\n  - name: team\n";

/// Every command that reads a file, with the file at `path` in the place it reads.
fn every_reader(path: &str, config: &str) -> Vec<Vec<String>> {
    let owned = |arguments: &[&str]| arguments.iter().map(|a| a.to_string()).collect();
    vec![
        owned(&["check", path]),
        owned(&["build", path, "-o", "out"]),
        owned(&["lint", path]),
        owned(&["test", path]),
        owned(&["routes", path, "--config", config]),
        owned(&["routes", "--alert", "a=b", "--config", path]),
        owned(&["backtest", path, "--data", "data.prom"]),
        owned(&["backtest", "rules.yml", "--data", path]),
        owned(&[
            "backtest",
            "rules.yml",
            "--data",
            "data.prom",
            "--alertmanager-config",
            path,
        ]),
    ]
}

fn write_companions(folder: &Path) -> String {
    write(folder, "rules.yml", RULE_FILE);
    write(folder, "data.prom", "up 1 0\n");
    write(folder, "alertmanager.yml", ALERTMANAGER_YML)
}

#[test]
fn a_fifo_named_like_an_input_is_refused_by_every_command_without_waiting_for_a_writer() {
    let folder = scratch("bounds-fifo");
    let config = write_companions(&folder);
    let fifo = make_fifo(&folder, "x.slo");
    for arguments in every_reader(&fifo, &config) {
        let arguments: Vec<&str> = arguments.iter().map(String::as_str).collect();
        let output = bounded_run(&folder, &arguments, None);
        assert_refused(&arguments, &output, &fifo, "FIFO");
    }
}

#[test]
fn a_fifo_found_in_a_folder_is_refused_by_check_and_build() {
    let folder = scratch("bounds-fifo-folder");
    std::fs::create_dir(folder.join("rules")).expect("folder");
    make_fifo(&folder.join("rules"), "x.slo");
    for arguments in [&["check", "rules"][..], &["build", "rules", "-o", "out"]] {
        let output = bounded_run(&folder, arguments, None);
        assert_refused(arguments, &output, "rules/x.slo", "FIFO");
    }
}

#[test]
fn dev_zero_is_refused_by_every_command_as_a_device() {
    let folder = scratch("bounds-dev-zero");
    let config = write_companions(&folder);
    for arguments in every_reader("/dev/zero", &config) {
        let arguments: Vec<&str> = arguments.iter().map(String::as_str).collect();
        let output = bounded_run(&folder, &arguments, None);
        assert_refused(&arguments, &output, "/dev/zero", "character device");
    }
}

#[test]
fn endless_stdin_stops_at_the_input_limit() {
    let folder = scratch("bounds-stdin");
    let config = write_companions(&folder);
    let arguments = ["routes", "-", "--config", &config];
    let output = bounded_run(&folder, &arguments, Some("/dev/zero"));
    assert_refused(
        &arguments,
        &output,
        "stdin",
        "more than the 268435456 bytes (256 MiB)",
    );
}

/// An HTTP server on 127.0.0.1 whose every response is a chunked body that never ends:
/// it writes until the client hangs up, and stops by itself after [`ENDLESS_CAP_BYTES`]
/// per connection or when dropped.
struct EndlessServer {
    port: u16,
    stop: Arc<AtomicBool>,
}

/// Far more than the address space mlslo gets in these tests, so that a client without
/// a limit fails the test instead of succeeding.
const ENDLESS_CAP_BYTES: u64 = 2 * ADDRESS_SPACE_KIB * 1024;

impl EndlessServer {
    fn start() -> EndlessServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("loopback port");
        let port = listener.local_addr().expect("address").port();
        listener.set_nonblocking(true).expect("nonblocking");
        let stop = Arc::new(AtomicBool::new(false));
        let stop_in = stop.clone();
        std::thread::spawn(move || {
            while !stop_in.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        let stop = stop_in.clone();
                        std::thread::spawn(move || stream_forever(stream, &stop));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        EndlessServer { port, stop }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for EndlessServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

fn stream_forever(stream: TcpStream, stop: &AtomicBool) {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let _ = stream.set_write_timeout(Some(Duration::from_secs(10)));
    let mut reader = BufReader::new(&stream);
    loop {
        let mut line = String::new();
        match reader.read_line(&mut line) {
            Ok(0) | Err(_) => return,
            Ok(_) if line.trim().is_empty() => break,
            Ok(_) => {}
        }
    }
    let mut writer = &stream;
    let head =
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
    if writer.write_all(head.as_bytes()).is_err() {
        return;
    }
    let chunk = format!("10000\r\n{}\r\n", " ".repeat(0x10000));
    let mut sent: u64 = 0;
    while sent < ENDLESS_CAP_BYTES && !stop.load(Ordering::SeqCst) {
        if writer.write_all(chunk.as_bytes()).is_err() {
            return;
        }
        sent += 0x10000;
    }
}

/// Exit status 2 with the limit and the URL in the message.
fn assert_body_limit(arguments: &[&str], output: &Output, url: &str) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        output.status.code(),
        Some(2),
        "mlslo {arguments:?}: wrong exit status; stderr:\n{stderr}"
    );
    assert!(
        stderr.contains(url)
            && stderr.contains("the response body is larger than 268435456 bytes (256 MiB)"),
        "mlslo {arguments:?}: the error should name the URL and the limit:\n{stderr}"
    );
}

#[test]
fn an_endless_response_ends_in_an_error_naming_the_limit_and_the_url() {
    let server = EndlessServer::start();
    let folder = scratch("bounds-endless");
    write(&folder, "rules.yml", RULE_FILE);
    let url = server.url();
    let source = crate::support::generated().display().to_string();
    let runs: [&[&str]; 4] = [
        &["lint", "rules.yml", "--prometheus-url", &url],
        &[
            "backtest",
            "rules.yml",
            "--prometheus-url",
            &url,
            "--start",
            "1700000000",
            "--end",
            "1700000120",
        ],
        &[
            "diff", "--kind", "mimir", "--tenant", "ml", "--url", &url, "--source", &source,
        ],
        &[
            "deploy", "--kind", "mimir", "--tenant", "ml", "--url", &url, "--source", &source,
        ],
    ];
    for arguments in runs {
        let output = bounded_run(&folder, arguments, None);
        assert_body_limit(arguments, &output, &url);
    }
}

#[test]
fn a_backtest_of_too_many_steps_is_refused_up_front_naming_the_flag() {
    let folder = scratch("bounds-steps");
    write(&folder, "rules.yml", RULE_FILE);
    write(
        &folder,
        "far.prom",
        "up{job=\"api\"} 1 0\nup{job=\"api\"} 0 3153600000\n",
    );
    write(
        &folder,
        "near.prom",
        "up{job=\"api\"} 1 0\nup{job=\"api\"} 0 3600\n",
    );
    let runs: [&[&str]; 2] = [
        &["backtest", "rules.yml", "--data", "far.prom"],
        &[
            "backtest",
            "rules.yml",
            "--data",
            "near.prom",
            "--step",
            "1ms",
        ],
    ];
    for arguments in runs {
        let output = bounded_run(&folder, arguments, None);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{arguments:?}: {stderr}");
        assert!(
            stderr.contains("more than the 1000000 of --max-steps")
                && stderr.contains("raise --max-steps"),
            "{arguments:?}: {stderr}"
        );
    }
    let raised = bounded_run(
        &folder,
        &[
            "backtest",
            "rules.yml",
            "--data",
            "near.prom",
            "--step",
            "1s",
            "--max-steps",
            "3601",
        ],
        None,
    );
    assert_eq!(
        raised.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&raised.stderr)
    );
}

#[test]
fn a_series_expanding_past_the_limit_is_refused_naming_it_before_allocating() {
    let folder = scratch("bounds-series");
    write(&folder, "rules.yml", RULE_FILE);
    write(
        &folder,
        "huge.series",
        "start: 0\ninterval: 1m\nup{job=\"api\"} 0+1x1000000000\n",
    );
    let output = bounded_run(
        &folder,
        &["backtest", "rules.yml", "--data", "huge.series"],
        None,
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("huge.series:3")
            && stderr.contains("\"0+1x1000000000\" makes the series longer than 5000000 points"),
        "{stderr}"
    );
    write(
        &folder,
        "test.yml",
        "rule_files: [rules.yml]\ntests:\n  - input_series:\n      - series: up\n        values: 0+1x1000000000\n    alert_rule_test:\n      - eval_time: 1m\n        alertname: Down\n",
    );
    let output = bounded_run(&folder, &["test", "test.yml"], None);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("0+1x1000000000") && stderr.contains("longer than 5000000 points"),
        "{stderr}"
    );
}
