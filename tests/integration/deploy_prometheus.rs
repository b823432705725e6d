//! `mlslo diff` / `mlslo deploy` against a real Prometheus 2.42 and a real Alertmanager 0.25
//! (Debian packages), started on 127.0.0.1 with free ports and temporary folders, and killed
//! when each test ends. Covers: first deploy, verification through the servers' APIs, one
//! changed rule, the no-op second deploy, dry runs, a configuration the server rejects
//! (restored, old one still serving), foreign files left alone, server down, slow server.

use std::path::Path;
use std::process::Command;

use crate::support::{
    copy_dir, free_port, generated, get_json, installed, mlslo_in, read, scratch,
    start_alertmanager, stderr, stdout, Server, SilentServer, ALERTMANAGER, PROMETHEUS,
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
        stderr(&locked).contains("another deploy holds"),
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
