//! What the test modules share: running the built `mlslo`, scratch folders, the external
//! tools (promtool, amtool, Prometheus, Alertmanager) and whether a test may go without them,
//! free ports, servers killed on drop, local fake HTTP servers, and a seeded generator.
//!
//! The modules run as threads of one process, so nothing here may depend on a fixed name or
//! port: scratch folders carry the process id and a counter, `free_port` never hands out the
//! same port twice, and no helper changes the environment or the current folder (the tests
//! rely on Cargo's current folder, the repository root). Network helpers talk to 127.0.0.1
//! only and stop by themselves when dropped.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The binary under test.
pub const MLSLO: &str = env!("CARGO_BIN_EXE_mlslo");

/// promtool 2.42 (Debian package `prometheus`), the reference for rules and unit tests.
/// One service with one availability objective: the smallest input whose generated
/// alerting system has pages, tickets and monitoring alerts to route.
pub const ONE_AVAILABILITY_SERVICE: &str = r#"
service "fraud-detector" {
  team = "risk-ml"
  availability "predict-api" {
    errors    = http_requests_total{code=~"5.."}
    total     = http_requests_total
    objective = 99.9%
  }
}
"#;

pub const PROMTOOL: &str = "/usr/bin/promtool";
/// amtool 0.25 (Debian package `prometheus-alertmanager`), the reference for Alertmanager configs.
pub const AMTOOL: &str = "/usr/bin/amtool";
/// The Prometheus 2.42 server (Debian package `prometheus`).
pub const PROMETHEUS: &str = "/usr/bin/prometheus";
/// The Alertmanager 0.25 server (Debian package `prometheus-alertmanager`).
pub const ALERTMANAGER: &str = "/usr/bin/prometheus-alertmanager";

/// The repository root, where `rules/`, `generated/` and `tests/data/` live.
pub fn repository() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A folder under `tests/data/`.
pub fn data(folder: &str) -> PathBuf {
    repository().join("tests/data").join(folder)
}

/// Every `.rs` file under `folder` of the repository, sorted.
pub fn rust_files_under(folder: &str) -> Vec<PathBuf> {
    fn walk(folder: &Path, files: &mut Vec<PathBuf>) {
        let entries = std::fs::read_dir(folder)
            .unwrap_or_else(|error| panic!("cannot read {}: {error}", folder.display()));
        for entry in entries {
            let path = entry.expect("folder entries are readable").path();
            if path.is_dir() {
                walk(&path, files);
            } else if path.extension().is_some_and(|extension| extension == "rs") {
                files.push(path);
            }
        }
    }
    let mut files = Vec::new();
    let root = repository().join(folder);
    if root.is_dir() {
        walk(&root, &mut files);
    }
    files.sort();
    files
}

/// `path` from the repository root, as `src/lib.rs`.
pub fn relative(path: &Path) -> String {
    path.strip_prefix(repository())
        .unwrap_or(path)
        .display()
        .to_string()
}

/// The repository's committed build of `rules/`.
pub fn generated() -> PathBuf {
    repository().join("generated")
}

/// Where an external program is, when it is installed. When it is not, the test that needs
/// it returns early with a notice, except when `CI` is set: there a missing tool fails the
/// test, so that a CI machine without the tools cannot pass by skipping.
pub fn installed(program: &str) -> Option<&Path> {
    let path = Path::new(program);
    if path.exists() {
        return Some(path);
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "{program} is missing but CI is set: install it as .ci/run does \
         (apt-get install prometheus prometheus-alertmanager chromium)"
    );
    eprintln!("notice: {program} not found; what needs it is skipped (set CI to fail instead)");
    None
}

/// A command running the built `mlslo` in `folder`, without the variables that would change
/// its output (`NO_COLOR`; colour depends on a terminal, which tests never have) or lend it
/// credentials from the caller's environment.
pub fn mlslo_command(folder: &Path) -> Command {
    let mut command = Command::new(MLSLO);
    command
        .current_dir(folder)
        .env_remove("NO_COLOR")
        .env_remove("MLSLO_BEARER_TOKEN")
        .env_remove("MLSLO_BASIC_AUTH_USER")
        .env_remove("MLSLO_BASIC_AUTH_PASSWORD");
    command
}

/// Runs `mlslo` at the repository root.
pub fn mlslo(arguments: &[&str]) -> Output {
    mlslo_in(repository(), arguments, &[])
}

/// Runs `mlslo` in `folder` with extra environment variables.
pub fn mlslo_in(folder: &Path, arguments: &[&str], environment: &[(&str, &str)]) -> Output {
    let mut command = mlslo_command(folder);
    command.args(arguments);
    for (name, value) in environment {
        command.env(name, value);
    }
    command.output().expect("the mlslo binary runs")
}

/// The exit status of a finished run; a run killed by a signal fails the test.
pub fn status(output: &Output) -> i32 {
    output
        .status
        .code()
        .expect("the program exits normally, not by a signal")
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).expect("stdout is UTF-8")
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).expect("stderr is UTF-8")
}

/// Exit status, stdout and stderr of a finished run.
pub fn outcome(output: &Output) -> (i32, String, String) {
    (status(output), stdout(output), stderr(output))
}

/// The text of a file; a relative path is taken from the repository root.
pub fn read<P: AsRef<Path> + ?Sized>(path: &P) -> String {
    let path = repository().join(path);
    std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

/// Writes `contents` to `folder/name` and returns the path as text, for command lines.
pub fn write(folder: &Path, name: &str, contents: impl AsRef<[u8]>) -> String {
    let path = folder.join(name);
    std::fs::write(&path, contents).unwrap_or_else(|error| panic!("{}: {error}", path.display()));
    path.to_str().expect("scratch paths are UTF-8").to_string()
}

/// Copies a folder tree.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create folder");
    for entry in std::fs::read_dir(from).expect("read folder") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy file");
        }
    }
}

/// A fresh, empty folder for one test under Cargo's temporary folder for integration tests
/// (`target/tmp`). It is removed when dropped; when the test fails it is kept and named on
/// stderr, so that its files can be inspected.
pub struct Scratch {
    path: PathBuf,
}

/// A new scratch folder; `name` says which test it serves.
pub fn scratch(name: &str) -> Scratch {
    static CREATED: AtomicUsize = AtomicUsize::new(0);
    let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!(
        "{name}-{}-{}",
        std::process::id(),
        CREATED.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&path);
    std::fs::create_dir_all(&path).expect("a scratch folder can be created");
    Scratch { path }
}

impl Scratch {
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl std::ops::Deref for Scratch {
    type Target = Path;

    fn deref(&self) -> &Path {
        &self.path
    }
}

impl AsRef<Path> for Scratch {
    fn as_ref(&self) -> &Path {
        &self.path
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("kept {} for inspection", self.path.display());
        } else {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}

/// A port on 127.0.0.1 that is free now, for a server started next. Ports handed out are
/// remembered so that two tests of this process never get the same one.
pub fn free_port() -> u16 {
    local_listener()
        .local_addr()
        .expect("a bound listener has an address")
        .port()
}

/// A listener on a port of 127.0.0.1 that `free_port` will not hand out.
fn local_listener() -> TcpListener {
    static HANDED_OUT: Mutex<BTreeSet<u16>> = Mutex::new(BTreeSet::new());
    loop {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a free port on 127.0.0.1");
        let port = listener
            .local_addr()
            .expect("a bound listener has an address")
            .port();
        if HANDED_OUT.lock().expect("port list lock").insert(port) {
            return listener;
        }
    }
}

/// A server process, killed (and waited for) on drop, also when the test fails.
pub struct Server {
    child: Child,
    pub port: u16,
    log: PathBuf,
}

impl Server {
    /// Starts `command` with its output in `log` and waits until `GET ready_path` answers 200.
    pub fn start(mut command: Command, port: u16, log: PathBuf, ready_path: &str) -> Server {
        let file = std::fs::File::create(&log).expect("create the server log");
        let error_file = file.try_clone().expect("clone the log handle");
        command.stdout(file).stderr(error_file);
        let child = command.spawn().expect("start the server");
        let server = Server { child, port, log };
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok((200, _)) = http(port, "GET", ready_path, "") {
                return server;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let log = std::fs::read_to_string(&server.log).unwrap_or_default();
        panic!("the server on port {port} did not become ready:\n{log}");
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Alertmanager 0.25 on a free port of 127.0.0.1 with clustering off, its storage
/// (`storage-<name>`) and log (`<name>.log`) in `folder`; killed when dropped.
pub fn start_alertmanager(folder: &Path, config_path: &Path, name: &str) -> Server {
    let port = free_port();
    let mut command = Command::new(ALERTMANAGER);
    command
        .arg(format!("--config.file={}", config_path.display()))
        .arg(format!(
            "--storage.path={}",
            folder.join(format!("storage-{name}")).display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .arg("--cluster.listen-address=")
        .arg("--log.level=error");
    Server::start(
        command,
        port,
        folder.join(format!("{name}.log")),
        "/-/ready",
    )
}

/// One HTTP/1.0 request to 127.0.0.1:`port` with a JSON body: status and body.
pub fn http(port: u16, method: &str, path: &str, body: &str) -> std::io::Result<(u16, String)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(
        stream,
        "{method} {path} HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    let status = response
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0);
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_string())
        .unwrap_or_default();
    Ok((status, body))
}

/// `GET path`, which must answer 200 with JSON.
pub fn get_json(port: u16, path: &str) -> serde_json::Value {
    let (status, body) = http(port, "GET", path, "").expect("GET");
    assert_eq!(status, 200, "GET {path}: {body}");
    serde_json::from_str(&body).expect("JSON")
}

/// A request as a fake server sees it.
#[derive(Clone, Debug)]
pub struct FakeRequest {
    pub method: String,
    pub path: String,
    pub headers: BTreeMap<String, String>,
    pub body: String,
}

/// A response of a fake: status, content type, body.
pub type FakeResponse = (u16, &'static str, String);

/// A tiny threaded HTTP/1.1 server on 127.0.0.1 (one request per connection), stopped on
/// drop; every request it saw is kept in `seen`.
pub struct FakeServer {
    pub port: u16,
    pub seen: Arc<Mutex<Vec<FakeRequest>>>,
    stop: Arc<AtomicBool>,
}

impl FakeServer {
    pub fn start<H>(handler: H) -> FakeServer
    where
        H: Fn(&FakeRequest) -> FakeResponse + Send + Sync + 'static,
    {
        let listener = local_listener();
        let port = listener.local_addr().expect("address").port();
        listener.set_nonblocking(true).expect("nonblocking");
        let seen = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let handler = Arc::new(handler);
        let (seen_in, stop_in) = (seen.clone(), stop.clone());
        std::thread::spawn(move || {
            while !stop_in.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        let _ = stream.set_nonblocking(false);
                        if let Some(request) = read_request(&stream) {
                            seen_in.lock().expect("lock").push(request.clone());
                            let (status, content_type, body) = handler(&request);
                            let mut stream = stream;
                            let _ = write!(
                                stream,
                                "HTTP/1.1 {status} X\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                                body.len()
                            );
                        }
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        FakeServer { port, seen, stop }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn requests(&self) -> Vec<FakeRequest> {
        self.seen.lock().expect("lock").clone()
    }
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

fn read_request(stream: &TcpStream) -> Option<FakeRequest> {
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .ok()?;
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_string();
    let path = parts.next()?.to_string();
    let mut headers = BTreeMap::new();
    loop {
        let mut header = String::new();
        reader.read_line(&mut header).ok()?;
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        let (name, value) = header.split_once(':')?;
        headers.insert(name.trim().to_ascii_lowercase(), value.trim().to_string());
    }
    let length: usize = headers
        .get("content-length")
        .and_then(|value| value.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some(FakeRequest {
        method,
        path,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}

/// Accepts connections and never answers, until dropped.
pub struct SilentServer {
    pub port: u16,
    stop: Arc<AtomicBool>,
}

impl SilentServer {
    pub fn start() -> SilentServer {
        let listener = local_listener();
        let port = listener.local_addr().expect("address").port();
        listener.set_nonblocking(true).expect("nonblocking");
        let stop = Arc::new(AtomicBool::new(false));
        let stop_in = stop.clone();
        std::thread::spawn(move || {
            let mut held = Vec::new();
            while !stop_in.load(Ordering::SeqCst) {
                if let Ok((stream, _)) = listener.accept() {
                    held.push(stream);
                }
                std::thread::sleep(Duration::from_millis(5));
            }
        });
        SilentServer { port, stop }
    }
}

impl Drop for SilentServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

/// A small deterministic generator (64-bit LCG), so random cases are the same on every run
/// and need no seed file.
pub struct Lcg(pub u64);

impl Lcg {
    /// A number in `0..bound`.
    pub fn below(&mut self, bound: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((self.0 >> 33) % bound as u64) as usize
    }

    pub fn pick<'a>(&mut self, choices: &[&'a str]) -> &'a str {
        choices[self.below(choices.len())]
    }
}

/// A series of the metric `name`, for counting a scenario's events from its data.
pub fn metric_named(name: &'static str) -> impl Fn(&mlslo::prometheus::promql::Labels) -> bool {
    move |labels| labels.metric_name() == name
}

/// A series of `name` whose label `code` is a 5xx status.
pub fn failed_requests(
    name: &'static str,
    code: &'static str,
) -> impl Fn(&mlslo::prometheus::promql::Labels) -> bool {
    move |labels| labels.metric_name() == name && labels.get(code).starts_with('5')
}

/// The scenarios' latency histogram bucket `le`.
pub fn latency_bucket(le: &'static str) -> impl Fn(&mlslo::prometheus::promql::Labels) -> bool {
    move |labels| {
        labels.metric_name() == "istio_request_duration_seconds_bucket" && labels.get("le") == le
    }
}
