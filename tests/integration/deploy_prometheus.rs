//! `mlslo diff` / `mlslo deploy` against a real Prometheus 2.42 and a real Alertmanager 0.25
//! (Debian packages), started on 127.0.0.1 with free ports and temporary folders, and killed
//! when each test ends. Covers: first deploy, verification through the servers' APIs, one
//! changed rule, the no-op second deploy, dry runs, a configuration the server rejects
//! (restored, old one still serving), foreign files left alone, server down, slow server; a
//! deploy killed after writing and before its reload (seen by `diff`, its lock refused while
//! it lives and taken over once it is dead, finished by the next deploy), a reload that failed
//! after the write, an Alertmanager file written but not reloaded. The one stand-in is a
//! pass-through that holds the reload request, so a real deploy can be killed at that point.

use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::support::{
    copy_dir, free_port, generated, get_json, http, installed, mlslo_command, mlslo_in, read,
    scratch, start_alertmanager, stderr, stdout, FakeServer, Server, SilentServer, ALERTMANAGER,
    PROMETHEUS,
};

fn start_prometheus(dir: &Path) -> Server {
    let rules = dir.join("rules");
    std::fs::create_dir_all(&rules).expect("rules folder");
    let config = dir.join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  evaluation_interval: 1m\nrule_files:\n- {}/*.yml\n",
            rules.display()
        ),
    )
    .expect("write the Prometheus configuration");
    let port = free_port();
    let mut command = Command::new(PROMETHEUS);
    command.args([
        format!("--config.file={}", config.display()),
        format!("--storage.tsdb.path={}", dir.join("data").display()),
        format!("--web.listen-address=127.0.0.1:{port}"),
        "--web.enable-lifecycle".to_string(),
    ]);
    Server::start(command, port, dir.join("prometheus.log"), "/-/ready")
}

/// Group names loaded, with their file's name and rule count.
fn loaded_groups(port: u16) -> Vec<(String, String, usize)> {
    let rules = get_json(port, "/api/v1/rules");
    let mut groups: Vec<(String, String, usize)> = rules["data"]["groups"]
        .as_array()
        .expect("groups")
        .iter()
        .map(|group| {
            let file = group["file"].as_str().expect("file");
            (
                file.rsplit('/').next().expect("a file name").to_string(),
                group["name"].as_str().expect("name").to_string(),
                group["rules"].as_array().expect("rules").len(),
            )
        })
        .collect();
    groups.sort();
    groups
}

/// The groups of the rule files of `folder`, as Prometheus should load them.
fn expected_groups(folder: &Path) -> Vec<(String, String, usize)> {
    let mut groups = Vec::new();
    for entry in std::fs::read_dir(folder).expect("read folder") {
        let path = entry.expect("entry").path();
        let name = path
            .file_name()
            .expect("name")
            .to_string_lossy()
            .into_owned();
        if !name.ends_with(".yml") {
            continue;
        }
        let value: yaml_serde::Value =
            yaml_serde::from_str(&std::fs::read_to_string(&path).expect("read")).expect("YAML");
        for group in value["groups"].as_sequence().expect("groups") {
            groups.push((
                name.clone(),
                group["name"].as_str().expect("name").to_string(),
                group["rules"].as_sequence().expect("rules").len(),
            ));
        }
    }
    groups.sort();
    groups
}

fn write_config(dir: &Path, body: &str) -> String {
    let path = dir.join("deploy.toml");
    std::fs::write(&path, format!("[lint]\nignored = true\n\n{body}")).expect("write config");
    path.display().to_string()
}

fn snapshot(folder: &Path) -> Vec<(String, String)> {
    let mut files: Vec<(String, String)> = std::fs::read_dir(folder)
        .expect("read folder")
        .map(|entry| {
            let path = entry.expect("entry").path();
            (
                path.file_name()
                    .expect("name")
                    .to_string_lossy()
                    .into_owned(),
                std::fs::read_to_string(&path).expect("read"),
            )
        })
        .collect();
    files.sort();
    files
}

#[test]
fn prometheus_deploy_diff_change_noop_and_rejection() {
    if installed(PROMETHEUS).is_none() {
        return;
    }
    let dir = scratch("deploy-prometheus");
    let prometheus = start_prometheus(dir.path());
    let rules = dir.path().join("rules");
    // A hand-written file mlslo must neither overwrite nor remove.
    let foreign =
        "groups:\n- name: hand-written\n  rules:\n  - record: mine\n    expr: vector(1)\n";
    std::fs::write(rules.join("mine.yml"), foreign).expect("write foreign file");
    let source = dir.path().join("generated");
    copy_dir(&generated(), &source);
    let config = write_config(
        dir.path(),
        &format!(
            "[deploy.targets.prom]\nkind = \"prometheus\"\nurl = \"{}\"\nrules_dir = \"{}\"\nsource = \"{}\"\n",
            prometheus.url(),
            rules.display(),
            source.display()
        ),
    );
    let run = |args: &[&str]| {
        let mut all = args.to_vec();
        all.extend(["--config", config.as_str(), "--target", "prom"]);
        mlslo_in(dir.path(), &all, &[])
    };

    // diff before anything is there: every group is added; exit 1.
    let diff = run(&["diff"]);
    assert_eq!(diff.status.code(), Some(1), "{}", stderr(&diff));
    let expected = expected_groups(&source.join("prometheus"));
    assert_eq!(
        stdout(&diff)
            .lines()
            .filter(|l| l.starts_with("+ add group "))
            .count(),
        expected.len()
    );

    // A dry run prints the same plan and writes nothing.
    let dry = run(&["deploy", "--dry-run"]);
    assert_eq!(dry.status.code(), Some(0), "{}", stderr(&dry));
    assert_eq!(stdout(&dry), stdout(&diff));
    assert_eq!(snapshot(&rules).len(), 1);

    let deploy = run(&["deploy"]);
    assert_eq!(deploy.status.code(), Some(0), "{}", stderr(&deploy));
    assert!(
        stdout(&deploy).ends_with("deployed\n"),
        "{}",
        stdout(&deploy)
    );
    let mut with_foreign = expected.clone();
    with_foreign.push(("mine.yml".to_string(), "hand-written".to_string(), 1));
    with_foreign.sort();
    assert_eq!(loaded_groups(prometheus.port), with_foreign);
    assert_eq!(
        std::fs::read_to_string(rules.join("mine.yml")).expect("read"),
        foreign
    );

    // The second deploy and the diff find nothing to do.
    let again = run(&["deploy"]);
    assert_eq!(again.status.code(), Some(0), "{}", stderr(&again));
    assert_eq!(stdout(&again), "nothing to change\n");
    let diff = run(&["diff"]);
    assert_eq!(diff.status.code(), Some(0));
    assert_eq!(stdout(&diff), "nothing to change\n");

    // One changed rule: the diff shows exactly that line of that group.
    let file = source.join("prometheus/feature-pipeline.rules.yml");
    let text = std::fs::read_to_string(&file).expect("read");
    assert!(text.contains("    for: 10m\n"));
    std::fs::write(&file, text.replacen("    for: 10m\n", "    for: 17m\n", 1)).expect("write");
    let diff = run(&["diff"]);
    assert_eq!(diff.status.code(), Some(1));
    let shown = stdout(&diff);
    let changed: Vec<&str> = shown
        .lines()
        .filter(|line| line.starts_with(['-', '+', '~']))
        .collect();
    assert_eq!(changed.len(), 3, "{shown}");
    assert_eq!(
        changed[0],
        "~ change group feature-pipeline/nightly-build in feature-pipeline.rules.yml (rule SLOMetricAbsent)",
        "{shown}"
    );
    // The README shows this very session.
    let readme = read("README.md");
    assert!(
        readme.contains(&format!(
            "$ mlslo diff --target prod\n{shown}$ echo $?\n1\n"
        )),
        "update the README's diff session to:\n{shown}"
    );
    assert_eq!(&changed[1..], ["-  for: 10m", "+  for: 17m"], "{shown}");
    assert!(
        shown.ends_with("0 to add, 1 to change, 0 to remove\n"),
        "{shown}"
    );
    let deploy = run(&["deploy"]);
    assert_eq!(deploy.status.code(), Some(0), "{}", stderr(&deploy));
    let durations: Vec<u64> = get_json(prometheus.port, "/api/v1/rules")["data"]["groups"]
        .as_array()
        .expect("groups")
        .iter()
        .flat_map(|group| group["rules"].as_array().expect("rules").clone())
        .filter_map(|rule| rule["duration"].as_u64())
        .collect();
    assert!(durations.contains(&(17 * 60)), "{durations:?}");
    assert_eq!(run(&["diff"]).status.code(), Some(0));

    // A group field Prometheus 2.42 does not know (query_offset came in 2.53): the reload is
    // rejected, the previous files come back and the old rules keep serving.
    let before = snapshot(&rules);
    let served = loaded_groups(prometheus.port);
    let file = source.join("prometheus/ranking.rules.yml");
    let text = std::fs::read_to_string(&file).expect("read");
    let bad = text.replacen("\n  rules:\n", "\n  query_offset: 1m\n  rules:\n", 1);
    assert_ne!(bad, text);
    std::fs::write(&file, bad).expect("write");
    let rejected = run(&["deploy"]);
    assert_eq!(rejected.status.code(), Some(2), "{}", stdout(&rejected));
    let message = stderr(&rejected);
    assert!(
        message.contains("prometheus rejected the new configuration (HTTP 500 on reload)")
            && message.contains("the previous files were restored and reloaded"),
        "{message}"
    );
    assert_eq!(snapshot(&rules), before);
    assert_eq!(loaded_groups(prometheus.port), served);
    assert!(
        get_json(prometheus.port, "/api/v1/status/runtimeinfo")["data"]["reloadConfigSuccess"]
            .as_bool()
            == Some(true),
        "the restored files reloaded"
    );
    let diff = run(&["diff"]);
    assert_eq!(diff.status.code(), Some(1), "the change is still pending");

    // A second deploy while one holds the folder is refused and writes nothing.
    let lock = rules.join(".mlslo-deploy.lock");
    std::fs::write(&lock, "").expect("write lock");
    let locked = run(&["deploy"]);
    assert_eq!(locked.status.code(), Some(2));
    assert!(
        stderr(&locked).contains(".mlslo-deploy.lock names no owner"),
        "{}",
        stderr(&locked)
    );
    std::fs::remove_file(&lock).expect("remove lock");
    assert_eq!(snapshot(&rules), before);
}

#[test]
fn server_down_or_silent_leaves_the_rules_folder_untouched() {
    let dir = scratch("deploy-down");
    let rules = dir.path().join("rules");
    std::fs::create_dir_all(&rules).expect("rules folder");
    let token = "s3cr3t-t0ken-never-printed";
    let down = format!("http://127.0.0.1:{}", free_port());
    let output = mlslo_in(
        dir.path(),
        &[
            "deploy",
            "--kind",
            "prometheus",
            "--url",
            &down,
            "--rules-dir",
            &rules.display().to_string(),
            "--source",
            &generated().display().to_string(),
            "--retries",
            "1",
        ],
        &[("MLSLO_BEARER_TOKEN", token)],
    );
    assert_eq!(output.status.code(), Some(2));
    let message = stderr(&output);
    assert!(
        message.contains("cannot connect") && message.contains("after 2 attempts"),
        "{message}"
    );
    assert!(!message.contains(token) && !stdout(&output).contains(token));
    assert!(snapshot(&rules).is_empty(), "nothing written");

    let silent = SilentServer::start();
    let output = mlslo_in(
        dir.path(),
        &[
            "diff",
            "--kind",
            "prometheus",
            "--url",
            &format!("http://127.0.0.1:{}", silent.port),
            "--rules-dir",
            &rules.display().to_string(),
            "--timeout",
            "500ms",
            "--retries",
            "0",
        ],
        &[("MLSLO_BEARER_TOKEN", token)],
    );
    assert_eq!(output.status.code(), Some(2));
    let message = stderr(&output);
    assert!(message.contains("no response within 500ms"), "{message}");
    assert!(!message.contains(token) && !stdout(&output).contains(token));
    assert!(snapshot(&rules).is_empty(), "nothing written");
}

fn running_receivers(port: u16) -> Vec<String> {
    let status = get_json(port, "/api/v2/status");
    let original: yaml_serde::Value =
        yaml_serde::from_str(status["config"]["original"].as_str().expect("original"))
            .expect("YAML");
    let mut names: Vec<String> = original["receivers"]
        .as_sequence()
        .expect("receivers")
        .iter()
        .map(|r| r["name"].as_str().expect("name").to_string())
        .collect();
    names.sort();
    names
}

#[test]
fn alertmanager_deploy_verify_noop_and_rejection() {
    if installed(ALERTMANAGER).is_none() {
        return;
    }
    let dir = scratch("deploy-alertmanager");
    let config_file = dir.path().join("alertmanager.yml");
    let first = "# Generated by mlslo from rules/old.slo; DO NOT EDIT.\nroute:\n  receiver: old\nreceivers:\n- name: old\n";
    std::fs::write(&config_file, first).expect("write");
    let alertmanager = start_alertmanager(dir.path(), &config_file, "alertmanager");
    assert_eq!(running_receivers(alertmanager.port), ["old"]);
    let source = dir.path().join("generated");
    copy_dir(&generated(), &source);
    let args = |command: &'static str| {
        vec![
            command.to_string(),
            "--kind".to_string(),
            "alertmanager".to_string(),
            "--url".to_string(),
            alertmanager.url(),
            "--config-file".to_string(),
            config_file.display().to_string(),
            "--source".to_string(),
            source.display().to_string(),
        ]
    };
    let run = |command: &'static str| {
        let all = args(command);
        let all: Vec<&str> = all.iter().map(String::as_str).collect();
        mlslo_in(dir.path(), &all, &[])
    };
    let diff = run("diff");
    assert_eq!(diff.status.code(), Some(1));
    assert!(
        stdout(&diff).contains("-  receiver: old\n"),
        "{}",
        stdout(&diff)
    );
    let deploy = run("deploy");
    assert_eq!(deploy.status.code(), Some(0), "{}", stderr(&deploy));
    let written =
        std::fs::read_to_string(source.join("alertmanager/alertmanager.yml")).expect("read");
    assert_eq!(
        std::fs::read_to_string(&config_file).expect("read"),
        written
    );
    let generated_config: yaml_serde::Value = yaml_serde::from_str(&written).expect("YAML");
    let mut expected: Vec<String> = generated_config["receivers"]
        .as_sequence()
        .expect("receivers")
        .iter()
        .map(|r| r["name"].as_str().expect("name").to_string())
        .collect();
    expected.sort();
    assert_eq!(running_receivers(alertmanager.port), expected);
    let again = run("deploy");
    assert_eq!(stdout(&again), "nothing to change\n");
    assert_eq!(again.status.code(), Some(0));

    // A route to a receiver that does not exist: Alertmanager refuses the reload.
    let bad = written.replacen("receiver: ", "receiver: nobody-", 1);
    std::fs::write(source.join("alertmanager/alertmanager.yml"), &bad).expect("write");
    let rejected = run("deploy");
    assert_eq!(rejected.status.code(), Some(2));
    let message = stderr(&rejected);
    assert!(
        message.contains("alertmanager rejected the new configuration")
            && message.contains("undefined receiver")
            && message.contains("restored and reloaded"),
        "{message}"
    );
    assert_eq!(
        std::fs::read_to_string(&config_file).expect("read"),
        written
    );
    assert_eq!(running_receivers(alertmanager.port), expected);
}

/// A pass-through in front of a real server that holds `POST /-/reload` until released, so
/// a test can kill a deploy after it wrote its files and before its reload reached the
/// server. Everything else is forwarded unchanged; the held request never reaches it.
struct ReloadGate {
    proxy: FakeServer,
    reload_requested: Arc<AtomicBool>,
    released: Arc<AtomicBool>,
}

impl ReloadGate {
    fn start(backend_port: u16) -> ReloadGate {
        let reload_requested = Arc::new(AtomicBool::new(false));
        let released = Arc::new(AtomicBool::new(false));
        let (requested, open) = (reload_requested.clone(), released.clone());
        let proxy = FakeServer::start(move |request| {
            if request.path == "/-/reload" {
                requested.store(true, Ordering::SeqCst);
                let deadline = Instant::now() + Duration::from_secs(30);
                while !open.load(Ordering::SeqCst) && Instant::now() < deadline {
                    std::thread::sleep(Duration::from_millis(10));
                }
                return (503, "text/plain", "held\n".to_string());
            }
            let (status, body) = http(backend_port, &request.method, &request.path, &request.body)
                .expect("the real server answers");
            (status, "application/json", body)
        });
        ReloadGate {
            proxy,
            reload_requested,
            released,
        }
    }

    /// Waits until a deploy asks for the reload (it has written its files by then).
    fn wait_for_reload(&self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while !self.reload_requested.load(Ordering::SeqCst) {
            assert!(
                Instant::now() < deadline,
                "the deploy never asked for a reload"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for ReloadGate {
    fn drop(&mut self) {
        self.released.store(true, Ordering::SeqCst);
    }
}

fn rule_durations(port: u16) -> Vec<u64> {
    get_json(port, "/api/v1/rules")["data"]["groups"]
        .as_array()
        .expect("groups")
        .iter()
        .flat_map(|group| group["rules"].as_array().expect("rules").clone())
        .filter_map(|rule| rule["duration"].as_u64())
        .collect()
}

fn prometheus_target_args(url: &str, rules: &Path, source: &Path) -> Vec<String> {
    vec![
        "--kind".to_string(),
        "prometheus".to_string(),
        "--url".to_string(),
        url.to_string(),
        "--rules-dir".to_string(),
        rules.display().to_string(),
        "--source".to_string(),
        source.display().to_string(),
    ]
}

#[test]
fn a_deploy_killed_before_its_reload_is_seen_by_diff_and_finished_by_the_next_deploy() {
    if installed(PROMETHEUS).is_none() {
        return;
    }
    let dir = scratch("deploy-killed");
    let prometheus = start_prometheus(dir.path());
    let rules = dir.path().join("rules");
    let source = dir.path().join("generated");
    copy_dir(&generated(), &source);
    let direct = prometheus_target_args(&prometheus.url(), &rules, &source);
    let run = |command: &str| {
        let mut all = vec![command];
        all.extend(direct.iter().map(String::as_str));
        mlslo_in(dir.path(), &all, &[])
    };
    let first = run("deploy");
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));

    let file = source.join("prometheus/feature-pipeline.rules.yml");
    let text = std::fs::read_to_string(&file).expect("read");
    std::fs::write(&file, text.replacen("    for: 10m\n", "    for: 17m\n", 1)).expect("write");
    // The deploy goes through the gate, which holds its reload: killed there, it has
    // written the new file, holds the lock and never reloaded.
    let gate = ReloadGate::start(prometheus.port);
    let mut gated = mlslo_command(dir.path())
        .arg("deploy")
        .args(prometheus_target_args(&gate.proxy.url(), &rules, &source))
        .args(["--timeout", "1m", "--retries", "0"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the deploy");
    gate.wait_for_reload();
    assert!(
        std::fs::read_to_string(rules.join("feature-pipeline.rules.yml"))
            .expect("read")
            .contains("    for: 17m\n"),
        "the deploy wrote the new file before its reload"
    );
    // Meanwhile a second deploy is refused, naming the one that holds the lock.
    let refused = run("deploy");
    assert_eq!(refused.status.code(), Some(2), "{}", stdout(&refused));
    let message = stderr(&refused);
    assert!(
        message.contains("another deploy holds")
            && message.contains(&format!("pid {} on host ", gated.id()))
            && message.contains("wait for it to finish"),
        "{message}"
    );
    gated.kill().expect("kill the deploy");
    gated.wait().expect("reap the deploy");
    drop(gate);
    let lock = rules.join(".mlslo-deploy.lock");
    assert!(lock.exists(), "the killed deploy left its lock");
    assert!(
        !rule_durations(prometheus.port).contains(&(17 * 60)),
        "the server still runs the old rules"
    );

    // The files on disk are the new ones, but the server does not run them: diff says so.
    let diff = run("diff");
    assert_eq!(diff.status.code(), Some(1), "{}", stderr(&diff));
    let shown = stdout(&diff);
    assert!(
        shown.contains(
            "~ change group feature-pipeline/nightly-build in feature-pipeline.rules.yml \
             (the server runs another version than the disk)\n"
        ) && shown.contains("-  for: 10m\n+  for: 17m\n")
            && shown.ends_with("0 to add, 1 to change, 0 to remove\n"),
        "{shown}"
    );
    // The next deploy takes over the dead deploy's lock, reloads, and verifies.
    let finish = run("deploy");
    assert_eq!(finish.status.code(), Some(0), "{}", stderr(&finish));
    assert!(
        stderr(&finish).contains("took over the deploy lock")
            && stderr(&finish).contains("is no longer running"),
        "{}",
        stderr(&finish)
    );
    assert!(
        stdout(&finish).ends_with("deployed\n"),
        "{}",
        stdout(&finish)
    );
    assert!(rule_durations(prometheus.port).contains(&(17 * 60)));
    assert!(!lock.exists(), "the lock is released");
    let diff = run("diff");
    assert_eq!(
        (diff.status.code(), stdout(&diff).as_str()),
        (Some(0), "nothing to change\n")
    );
}

#[test]
fn a_reload_that_failed_after_the_write_is_reported_and_retried() {
    if installed(PROMETHEUS).is_none() {
        return;
    }
    let dir = scratch("deploy-reload-failed");
    let prometheus = start_prometheus(dir.path());
    let rules = dir.path().join("rules");
    let source = dir.path().join("generated");
    copy_dir(&generated(), &source);
    let direct = prometheus_target_args(&prometheus.url(), &rules, &source);
    let run = |command: &str| {
        let mut all = vec![command];
        all.extend(direct.iter().map(String::as_str));
        mlslo_in(dir.path(), &all, &[])
    };
    assert_eq!(run("deploy").status.code(), Some(0));

    // The new file written, then a reload that fails on someone else's broken file: the
    // server keeps the old rules and says its last reload failed.
    let name = "feature-pipeline.rules.yml";
    let text = std::fs::read_to_string(source.join("prometheus").join(name)).expect("read");
    let new = text.replacen("    for: 10m\n", "    for: 17m\n", 1);
    std::fs::write(source.join("prometheus").join(name), &new).expect("write");
    std::fs::write(rules.join(name), &new).expect("write as the deploy does");
    let broken = rules.join("broken.yml");
    std::fs::write(
        &broken,
        "groups:\n- name: b\n  rules:\n  - record: x\n    expr: sum(\n",
    )
    .expect("write");
    let (status, _) = http(prometheus.port, "POST", "/-/reload", "").expect("reload");
    assert_eq!(status, 500);
    assert_eq!(
        get_json(prometheus.port, "/api/v1/status/runtimeinfo")["data"]["reloadConfigSuccess"],
        false
    );

    let diff = run("diff");
    assert_eq!(diff.status.code(), Some(1), "{}", stderr(&diff));
    let shown = stdout(&diff);
    assert!(
        shown.contains("(the server runs another version than the disk)")
            && shown.contains("+  for: 17m\n")
            && shown.contains(
                "~ change configuration reload: the server's last reload failed, it runs the \
                 configuration it loaded before\n"
            ),
        "{shown}"
    );
    // Deploy retries the reload; the server refuses again and the message says why and
    // that nothing was restored, since this deploy wrote nothing.
    let retried = run("deploy");
    assert_eq!(retried.status.code(), Some(2), "{}", stdout(&retried));
    let message = stderr(&retried);
    assert!(
        message.contains("prometheus rejected the new configuration (HTTP 500 on reload)")
            && message.contains("failed to reload config")
            && message.contains("this deploy wrote no file"),
        "{message}"
    );
    assert_eq!(
        std::fs::read_to_string(rules.join(name)).expect("read"),
        new
    );
    // With the cause gone, deploy finishes the job.
    std::fs::remove_file(&broken).expect("remove");
    let finish = run("deploy");
    assert_eq!(finish.status.code(), Some(0), "{}", stderr(&finish));
    assert!(rule_durations(prometheus.port).contains(&(17 * 60)));
    assert_eq!(run("diff").status.code(), Some(0));
}

#[test]
fn an_alertmanager_configuration_written_but_not_reloaded_is_seen_and_finished() {
    if installed(ALERTMANAGER).is_none() {
        return;
    }
    let dir = scratch("deploy-alertmanager-drift");
    let source = dir.path().join("generated");
    copy_dir(&generated(), &source);
    let config_file = dir.path().join("alertmanager.yml");
    let generated_file = source.join("alertmanager/alertmanager.yml");
    let running = std::fs::read_to_string(&generated_file).expect("read");
    std::fs::write(&config_file, &running).expect("write");
    let alertmanager = start_alertmanager(dir.path(), &config_file, "alertmanager");
    let run = |command: &str| {
        let url = alertmanager.url();
        let config = config_file.display().to_string();
        let source = source.display().to_string();
        let args = [
            command,
            "--kind",
            "alertmanager",
            "--url",
            &url,
            "--config-file",
            &config,
            "--source",
            &source,
        ];
        mlslo_in(dir.path(), &args, &[])
    };
    let diff = run("diff");
    assert_eq!(
        (diff.status.code(), stdout(&diff).as_str()),
        (Some(0), "nothing to change\n"),
        "Alertmanager's re-serialisation of the same file is no change"
    );

    // A deploy that wrote the new file and stopped before its reload.
    let new = running.replacen(
        "channel: \"#risk-ml-alerts\"",
        "channel: \"#risk-ml-oncall\"",
        1,
    );
    assert_ne!(new, running);
    std::fs::write(&generated_file, &new).expect("write");
    std::fs::write(&config_file, &new).expect("write as the deploy does");
    let diff = run("diff");
    assert_eq!(diff.status.code(), Some(1), "{}", stderr(&diff));
    assert!(
        stdout(&diff).contains(
            "(on disk, not running: Alertmanager runs another configuration, first difference \
             at receivers[6].slack_configs[0].channel)"
        ),
        "{}",
        stdout(&diff)
    );
    let finish = run("deploy");
    assert_eq!(finish.status.code(), Some(0), "{}", stderr(&finish));
    assert!(stdout(&finish).ends_with("deployed\n"));
    let status = get_json(alertmanager.port, "/api/v2/status");
    assert!(status["config"]["original"]
        .as_str()
        .expect("original")
        .contains("channel: '#risk-ml-oncall'"));
    assert_eq!(run("diff").status.code(), Some(0));
}
