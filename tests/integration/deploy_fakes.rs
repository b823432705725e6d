//! `mlslo diff` / `mlslo deploy` against servers that cannot be installed on this machine:
//! Grafana Mimir's ruler and Elasticsearch Watcher. Each is a small local HTTP server in this
//! file (std TcpListener and threads) implementing the documented endpoints faithfully (paths,
//! status codes, YAML and JSON bodies, `X-Scope-OrgID`), as described in
//! ../shared/formats/FORMATS.md sections 1.2 and 5.1 and the Elasticsearch Watcher API docs.
//! They are fakes, not the real servers: what they check is our client's side of the protocol.
//! Also here: a Prometheus stand-in that accepts the reload but never shows the rules (so the
//! verification must fail and restore), a server refusing a bearer token (its message
//! shown, the token never), and a server that echoes the request's headers in its error
//! bodies, as some proxies do (every command that talks to a server prints it redacted).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use crate::support::{
    copy_dir, data, generated, mlslo_in, read, scratch, stderr, stdout, FakeServer,
};

type Namespaces = BTreeMap<String, BTreeMap<String, yaml_serde::Value>>;

fn decode(segment: &str) -> String {
    let bytes = segment.as_bytes();
    let mut out = Vec::new();
    let mut index = 0;
    while index < bytes.len() {
        if bytes[index] == b'%' && index + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[index + 1..index + 3]).expect("hex");
            out.push(u8::from_str_radix(hex, 16).expect("hex digits"));
            index += 3;
        } else {
            out.push(bytes[index]);
            index += 1;
        }
    }
    String::from_utf8(out).expect("UTF-8")
}

/// The Mimir ruler configuration API for one tenant (`ml`): GET a namespace (404 when it has
/// no groups), POST exactly one group (202), DELETE a group (202, 404 when absent); every
/// request without the tenant header gets 401 "no org id", as Mimir answers.
fn mimir(state: Arc<Mutex<Namespaces>>) -> FakeServer {
    FakeServer::start(move |request| {
        if request.headers.get("x-scope-orgid").map(String::as_str) != Some("ml") {
            return (401, "text/plain", "no org id\n".to_string());
        }
        let Some(rest) = request.path.strip_prefix("/prometheus/config/v1/rules/") else {
            return (404, "text/plain", "404 page not found\n".to_string());
        };
        let parts: Vec<String> = rest.split('/').map(decode).collect();
        let mut state = state.lock().expect("lock");
        match (request.method.as_str(), parts.as_slice()) {
            ("GET", [namespace]) => match state.get(namespace).filter(|g| !g.is_empty()) {
                None => (404, "text/plain", "no rule groups found\n".to_string()),
                Some(groups) => {
                    let list: Vec<yaml_serde::Value> = groups.values().cloned().collect();
                    let mut answer = BTreeMap::new();
                    answer.insert(namespace.clone(), list);
                    (
                        200,
                        "application/yaml",
                        yaml_serde::to_string(&answer).expect("YAML"),
                    )
                }
            },
            ("POST", [namespace]) => {
                if request.headers.get("content-type").map(String::as_str)
                    != Some("application/yaml")
                {
                    return (400, "text/plain", "unsupported content type\n".to_string());
                }
                let group: yaml_serde::Value = match yaml_serde::from_str(&request.body) {
                    Ok(group) => group,
                    Err(error) => return (400, "text/plain", format!("{error}\n")),
                };
                // Mimir validates with Prometheus' rulefmt; mlslo's strict loader stands in.
                let file = format!(
                    "groups:\n- {}",
                    request.body.trim_end().replace('\n', "\n  ")
                );
                if let Err(errors) = mlslo::prometheus::ruler::load_rule_file(
                    "group",
                    &file,
                    mlslo::prometheus::ruler::RuleFileOptions::default(),
                ) {
                    return (
                        400,
                        "text/plain",
                        format!("invalid rules config: {}\n", errors.join("; ")),
                    );
                }
                let Some(name) = group.get("name").and_then(|n| n.as_str()) else {
                    return (
                        400,
                        "text/plain",
                        "invalid rules config: rule group name must not be empty\n".to_string(),
                    );
                };
                state
                    .entry(namespace.clone())
                    .or_default()
                    .insert(name.to_string(), group.clone());
                (202, "application/json", "{}".to_string())
            }
            ("DELETE", [namespace, group]) => {
                match state.get_mut(namespace).and_then(|g| g.remove(group)) {
                    Some(_) => (202, "application/json", "{}".to_string()),
                    None => (404, "text/plain", "group does not exist\n".to_string()),
                }
            }
            _ => (405, "text/plain", "method not allowed\n".to_string()),
        }
    })
}

fn group(yaml: &str) -> yaml_serde::Value {
    yaml_serde::from_str(yaml).expect("YAML")
}

#[test]
fn mimir_ruler_create_update_delete_only_in_owned_namespaces() {
    let dir = scratch("deploy-mimir");
    let state = Arc::new(Mutex::new(Namespaces::new()));
    {
        let mut state = state.lock().expect("lock");
        // A stale group of ours and a group of another team in a namespace we do not own.
        state.entry("slo".to_string()).or_default().insert(
            "stale".to_string(),
            group("name: stale\nrules:\n- record: r\n  expr: up\n"),
        );
        state.entry("team".to_string()).or_default().insert(
            "theirs".to_string(),
            group("name: theirs\nrules:\n- record: t\n  expr: up\n"),
        );
    }
    let server = mimir(state.clone());
    let source = dir.path().join("generated");
    copy_dir(&generated(), &source);
    let config = dir.path().join("deploy.toml");
    std::fs::write(
        &config,
        format!(
            "[deploy.targets.mimir]\nkind = \"mimir\"\nurl = \"{}\"\nnamespace = \"slo\"\ntenant = \"ml\"\nowned_namespaces = [\"slo\"]\nsource = \"{}\"\n",
            server.url(),
            source.display()
        ),
    )
    .expect("write config");
    let config = config.display().to_string();
    let run = |command: &str| {
        mlslo_in(
            dir.path(),
            &[command, "--config", &config, "--target", "mimir"],
            &[],
        )
    };
    let diff = run("diff");
    assert_eq!(diff.status.code(), Some(1), "{}", stderr(&diff));
    let shown = stdout(&diff);
    assert!(
        shown.contains("- remove group stale in namespace slo\n"),
        "{shown}"
    );
    assert!(!shown.contains("theirs"), "{shown}");
    let deploy = run("deploy");
    assert_eq!(deploy.status.code(), Some(0), "{}", stderr(&deploy));
    {
        let state = state.lock().expect("lock");
        assert!(!state["slo"].contains_key("stale"));
        assert!(state["team"].contains_key("theirs"));
        let added = shown.matches("+ add group ").count();
        assert_eq!(state["slo"].len(), added);
        assert!(added > 10, "{shown}");
    }
    // Group names hold `/`: they travel percent-encoded and arrive whole.
    assert!(server
        .requests()
        .iter()
        .any(|r| r.method == "DELETE" && r.path == "/prometheus/config/v1/rules/slo/stale"));
    let again = run("deploy");
    assert_eq!(stdout(&again), "nothing to change\n", "{}", stderr(&again));

    // Fields mimirtool does not compare: keep_firing_for, limit, group labels.
    for (field, edit) in [
        ("keep_firing_for", "  keep_firing_for: 5m\n"),
        ("limit", "limit: 7\n"),
        ("labels", "labels:\n  tier: one\n"),
    ] {
        let mut state_guard = state.lock().expect("lock");
        let slo = state_guard.get_mut("slo").expect("slo namespace");
        let (name, stored) = slo.iter_mut().next().expect("a group");
        let mut text = yaml_serde::to_string(stored).expect("YAML");
        if field == "keep_firing_for" {
            text = text.replacen("  expr:", &format!("{}  expr:", edit), 1);
        } else {
            text.push_str(edit);
        }
        *stored = group(&text);
        let name = name.clone();
        drop(state_guard);
        let diff = run("diff");
        assert_eq!(diff.status.code(), Some(1), "{field}: {}", stdout(&diff));
        let shown = stdout(&diff);
        assert!(
            shown.starts_with(&format!("~ change group {name} in namespace slo")),
            "{field}: {shown}"
        );
        assert!(
            shown.contains(&format!("-{}", edit.lines().next().expect("line"))),
            "{field}: {shown}"
        );
        assert_eq!(run("deploy").status.code(), Some(0));
        assert_eq!(run("diff").status.code(), Some(0), "{field} restored");
    }

    // A group Mimir refuses: its message, and how far the deploy got.
    let file = source.join("prometheus/ranking.rules.yml");
    let text = std::fs::read_to_string(&file).expect("read");
    let bad = text.replacen("    expr: |-\n", "    expr: |-\n      sum(\n", 1);
    assert_ne!(bad, text);
    std::fs::write(&file, bad).expect("write");
    let refused = run("deploy");
    assert_eq!(refused.status.code(), Some(2));
    let message = stderr(&refused);
    assert!(
        message.contains("HTTP 400 Bad Request: invalid rules config:")
            && message.contains("0 of 1 changes were applied before this one"),
        "{message}"
    );
    std::fs::write(&file, text).expect("write");
    assert_eq!(run("diff").status.code(), Some(0));

    // Without the tenant, Mimir's own message comes back.
    let output = mlslo_in(
        dir.path(),
        &[
            "diff",
            "--kind",
            "mimir",
            "--url",
            &server.url(),
            "--namespace",
            "slo",
            "--source",
            &source.display().to_string(),
        ],
        &[],
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("HTTP 401: no org id"),
        "{}",
        stderr(&output)
    );
}

type Watches = BTreeMap<String, serde_json::Value>;

/// Elasticsearch Watcher: PUT (201 created / 200 updated), GET (`found`, `watch`; 404 with
/// `found: false`), DELETE (200 / 404), and POST `_watcher/_query/watches` with a `term`
/// query on a `metadata.*` field, `from` and `size`.
fn watcher(state: Arc<Mutex<Watches>>) -> FakeServer {
    FakeServer::start(move |request| {
        let mut state = state.lock().expect("lock");
        let json =
            |status: u16, value: serde_json::Value| (status, "application/json", value.to_string());
        if request.path.starts_with("/_watcher/_query/watches") {
            let body: serde_json::Value =
                serde_json::from_str(&request.body).unwrap_or(serde_json::json!({}));
            let term = body
                .pointer("/query/term")
                .and_then(|t| t.as_object())
                .cloned();
            let from = body["from"].as_u64().unwrap_or(0) as usize;
            let size = body["size"].as_u64().unwrap_or(10) as usize;
            let matching: Vec<(&String, &serde_json::Value)> = state
                .iter()
                .filter(|(_, watch)| match &term {
                    None => true,
                    Some(term) => term.iter().all(|(field, wanted)| {
                        let pointer = format!("/{}", field.replace('.', "/"));
                        watch.pointer(&pointer) == Some(wanted)
                    }),
                })
                .collect();
            let page: Vec<serde_json::Value> = matching
                .iter()
                .skip(from)
                .take(size)
                .map(|(id, watch)| serde_json::json!({"_id": id, "watch": watch, "status": {"state": {"active": true}}, "_seq_no": 0, "_primary_term": 1}))
                .collect();
            return json(
                200,
                serde_json::json!({"count": matching.len(), "watches": page}),
            );
        }
        let Some(id) = request.path.strip_prefix("/_watcher/watch/") else {
            return json(400, serde_json::json!({"error": "no handler"}));
        };
        let id = decode(id);
        match request.method.as_str() {
            "GET" => match state.get(&id) {
                Some(watch) => json(
                    200,
                    serde_json::json!({"found": true, "_id": id, "_version": 1, "_seq_no": 0, "_primary_term": 1, "status": {"state": {"active": true}}, "watch": watch}),
                ),
                None => json(404, serde_json::json!({"found": false, "_id": id})),
            },
            "PUT" => match serde_json::from_str::<serde_json::Value>(&request.body) {
                Ok(mut watch) if watch.get("trigger").is_some() => {
                    // Elasticsearch keeps the parsed watch and answers GETs with it
                    // re-serialised: the human throttle period becomes milliseconds.
                    if let Some(object) = watch.as_object_mut() {
                        if let Some(period) = object.remove("throttle_period") {
                            let millis = mlslo::prometheus::model::duration::parse_model_duration(
                                period.as_str().unwrap_or_default(),
                            )
                            .unwrap_or_default();
                            object.insert(
                                "throttle_period_in_millis".to_string(),
                                serde_json::json!(millis),
                            );
                        }
                    }
                    let created = state.insert(id.clone(), watch).is_none();
                    json(
                        if created { 201 } else { 200 },
                        serde_json::json!({"_id": id, "_version": 1, "created": created}),
                    )
                }
                _ => json(
                    400,
                    serde_json::json!({"error": {"type": "parse_exception", "reason": format!("could not parse watch [{id}]. missing required field [trigger]")}, "status": 400}),
                ),
            },
            "DELETE" => match state.remove(&id) {
                Some(_) => json(200, serde_json::json!({"found": true, "_id": id})),
                None => json(404, serde_json::json!({"found": false, "_id": id})),
            },
            _ => json(405, serde_json::json!({"error": "method not allowed"})),
        }
    })
}

#[test]
fn watcher_touches_only_owned_watches() {
    let dir = scratch("deploy-watcher");
    let state = Arc::new(Mutex::new(Watches::new()));
    let theirs = serde_json::json!({"trigger": {"schedule": {"interval": "1m"}}, "metadata": {"team": "search"}});
    let stale = serde_json::json!({"trigger": {"schedule": {"interval": "1m"}}, "metadata": {"mlslo_owned": true}});
    state
        .lock()
        .expect("lock")
        .insert("theirs".to_string(), theirs.clone());
    state
        .lock()
        .expect("lock")
        .insert("old-slo".to_string(), stale);
    let server = watcher(state.clone());
    let args = |command: &'static str, source: &str| {
        vec![
            command.to_string(),
            "--kind".to_string(),
            "watcher".to_string(),
            "--url".to_string(),
            server.url(),
            "--source".to_string(),
            source.to_string(),
        ]
    };
    let run = |command: &'static str, source: &str| {
        let all = args(command, source);
        let all: Vec<&str> = all.iter().map(String::as_str).collect();
        mlslo_in(dir.path(), &all, &[])
    };
    let source = generated().display().to_string();
    let diff = run("diff", &source);
    assert_eq!(diff.status.code(), Some(1), "{}", stderr(&diff));
    assert!(
        stdout(&diff).contains("- remove watch old-slo\n"),
        "{}",
        stdout(&diff)
    );
    let deploy = run("deploy", &source);
    assert_eq!(deploy.status.code(), Some(0), "{}", stderr(&deploy));
    let generated_ids: Vec<String> = std::fs::read_dir(generated().join("watcher"))
        .expect("read")
        .map(|e| {
            e.expect("entry")
                .file_name()
                .to_string_lossy()
                .trim_end_matches(".json")
                .to_string()
        })
        .collect();
    {
        let state = state.lock().expect("lock");
        assert_eq!(state["theirs"], theirs);
        assert!(!state.contains_key("old-slo"));
        for id in &generated_ids {
            let on_disk: serde_json::Value = serde_json::from_str(
                &std::fs::read_to_string(generated().join(format!("watcher/{id}.json")))
                    .expect("read"),
            )
            .expect("JSON");
            let mut stored = state[id].clone();
            assert!(stored["metadata"]["mlslo_hash"].is_string(), "{stored}");
            let metadata = stored["metadata"].as_object_mut().expect("metadata");
            metadata.remove("mlslo_hash");
            assert_eq!(stored["trigger"], on_disk["trigger"]);
            assert_eq!(stored["actions"], on_disk["actions"]);
            assert_eq!(stored["metadata"], on_disk["metadata"]);
            assert!(
                stored["throttle_period_in_millis"].is_number(),
                "rewritten: {stored}"
            );
        }
    }
    assert_eq!(stdout(&run("deploy", &source)), "nothing to change\n");

    // A foreign watch with the id of a generated one is never replaced.
    let id = generated_ids.first().expect("a generated watch").clone();
    state
        .lock()
        .expect("lock")
        .insert(id.clone(), theirs.clone());
    let refused = run("deploy", &source);
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        stderr(&refused).contains(&format!(
            "watch {id} exists on the cluster but was not created by mlslo"
        )),
        "{}",
        stderr(&refused)
    );
    assert_eq!(state.lock().expect("lock")[&id], theirs);
}

#[test]
fn rules_accepted_but_not_loaded_are_restored() {
    let dir = scratch("deploy-not-loaded");
    let rules = dir.path().join("rules");
    std::fs::create_dir_all(&rules).expect("rules folder");
    // A stand-in that says yes to everything but loads nothing.
    let server =
        FakeServer::start(
            |request| match (request.method.as_str(), request.path.as_str()) {
                ("GET", "/api/v1/rules") => (
                    200,
                    "application/json",
                    r#"{"status":"success","data":{"groups":[]}}"#.to_string(),
                ),
                ("POST", "/-/reload") => (200, "text/plain", String::new()),
                _ => (404, "text/plain", "not found".to_string()),
            },
        );
    let output = mlslo_in(
        dir.path(),
        &[
            "deploy",
            "--kind",
            "thanos-ruler",
            "--url",
            &server.url(),
            "--rules-dir",
            &rules.display().to_string(),
            "--source",
            &generated().display().to_string(),
        ],
        &[],
    );
    assert_eq!(output.status.code(), Some(2));
    let message = stderr(&output);
    assert!(
        message.contains("the reload was accepted but the rules did not load as written")
            && message.contains("is not loaded")
            && message.contains("restored and reloaded"),
        "{message}"
    );
    assert_eq!(
        std::fs::read_dir(&rules).expect("read").count(),
        0,
        "the new files were removed again"
    );
    let reloads = server
        .requests()
        .iter()
        .filter(|r| r.path == "/-/reload")
        .count();
    assert_eq!(
        reloads, 2,
        "reloaded once with the new files, once after restoring"
    );
}

#[test]
fn a_refused_token_shows_the_servers_message_but_never_the_token() {
    let dir = scratch("deploy-token");
    let token = "tok-3b1f9c-never-printed";
    let token_file = dir.path().join("token");
    std::fs::write(&token_file, format!("{token}\n")).expect("write token");
    let server = FakeServer::start(|request| {
        if request.headers.get("authorization").map(String::as_str)
            == Some("Bearer tok-3b1f9c-never-printed")
        {
            (403, "text/plain", "user may not write rules\n".to_string())
        } else {
            (401, "text/plain", "unauthorized\n".to_string())
        }
    });
    for credentials in [
        vec![
            "--bearer-token-file".to_string(),
            token_file.display().to_string(),
        ],
        vec![],
    ] {
        let mut args = vec!["diff", "--kind", "mimir", "--tenant", "ml"];
        let url = server.url();
        let source = generated().display().to_string();
        args.extend(["--url", &url, "--source", &source]);
        args.extend(credentials.iter().map(String::as_str));
        let environment: Vec<(&str, &str)> = if credentials.is_empty() {
            vec![("MLSLO_BEARER_TOKEN", token)]
        } else {
            vec![]
        };
        let output = mlslo_in(dir.path(), &args, &environment);
        assert_eq!(output.status.code(), Some(2));
        let message = stderr(&output);
        assert!(
            message.contains("HTTP 403: user may not write rules"),
            "{message}"
        );
        assert!(
            !message.contains(token) && !stdout(&output).contains(token),
            "{message}"
        );
    }
}

#[test]
fn the_readme_target_examples_are_valid_configuration() {
    let readme = read("README.md");
    let start = readme
        .find("```toml\n[deploy.targets.")
        .expect("the README shows a [deploy] example")
        + "```toml\n".len();
    let end = start + readme[start..].find("```").expect("closed block");
    let targets = mlslo::tools::deploy::config::parse_targets("README.md", &readme[start..end])
        .expect("the README example parses");
    let kinds: Vec<&str> = targets
        .iter()
        .map(|(name, config)| {
            mlslo::tools::deploy::config::resolve(name, config.clone())
                .expect("every README target is complete")
                .kind
                .as_str()
        })
        .collect();
    assert_eq!(
        kinds,
        ["alertmanager", "grafana", "watcher", "mimir", "prometheus"]
    );
}

#[test]
fn configuration_mistakes_are_named_with_their_line() {
    let dir = scratch("deploy-config");
    let config = dir.path().join(".mlslo.toml");
    std::fs::write(
        &config,
        "[lint]\nwhatever = 1\n\n[deploy.targets.prod]\nkind = \"prometheus\"\nurl = \"http://127.0.0.1:1\"\nrules-dir = \"r\"\n",
    )
    .expect("write config");
    // The file in the current folder is found without --config.
    let output = mlslo_in(dir.path(), &["diff", "--target", "prod"], &[]);
    assert_eq!(output.status.code(), Some(2));
    let message = stderr(&output);
    assert!(
        message.contains(".mlslo.toml: TOML parse error at line 7")
            && message.contains("unknown field `rules-dir`"),
        "{message}"
    );
    let output = mlslo_in(dir.path(), &["deploy", "--target", "staging"], &[]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("TOML parse error"));
    std::fs::write(
        &config,
        "[deploy.targets.prod]\nkind = \"prometheus\"\nurl = \"http://127.0.0.1:1\"\n",
    )
    .expect("write config");
    let output = mlslo_in(dir.path(), &["diff", "--target", "staging"], &[]);
    assert!(
        stderr(&output).contains("no target `staging` in .mlslo.toml (known: prod)"),
        "{}",
        stderr(&output)
    );
    let output = mlslo_in(dir.path(), &["diff", "--target", "prod"], &[]);
    assert!(
        stderr(&output)
            .contains("target `prod` of kind prometheus needs `rules_dir` (or --rules-dir)"),
        "{}",
        stderr(&output)
    );
    let output = mlslo_in(dir.path(), &["diff"], &[]);
    assert!(
        stderr(&output).contains("no target: give --target NAME")
            && stderr(&output).contains("known: prod"),
        "{}",
        stderr(&output)
    );
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn a_reload_that_never_answers_times_out_and_restores() {
    let dir = scratch("deploy-slow-reload");
    let rules = dir.path().join("rules");
    std::fs::create_dir_all(&rules).expect("rules folder");
    let server = FakeServer::start(|request| match request.path.as_str() {
        "/api/v1/rules" => (
            200,
            "application/json",
            r#"{"status":"success","data":{"groups":[]}}"#.to_string(),
        ),
        "/api/v1/status/runtimeinfo" => (404, "text/plain", "404 page not found".to_string()),
        _ => {
            // Far beyond the client's timeout; the fake's only thread is busy meanwhile,
            // so the reload after restoring times out too.
            std::thread::sleep(std::time::Duration::from_secs(3));
            (200, "text/plain", String::new())
        }
    });
    let output = mlslo_in(
        dir.path(),
        &[
            "deploy",
            "--kind",
            "prometheus",
            "--url",
            &server.url(),
            "--rules-dir",
            &rules.display().to_string(),
            "--source",
            &generated().display().to_string(),
            "--timeout",
            "300ms",
            "--retries",
            "0",
        ],
        &[],
    );
    assert_eq!(output.status.code(), Some(2));
    let message = stderr(&output);
    assert!(
        message.contains("reload failed: POST")
            && message.contains("no response within 300ms")
            && message.contains("the previous files were restored, but reloading them failed"),
        "{message}"
    );
    assert_eq!(
        std::fs::read_dir(&rules).expect("read").count(),
        0,
        "the new files were removed again"
    );
}

#[test]
fn basic_auth_and_the_ca_file_come_from_the_target_configuration() {
    let dir = scratch("deploy-basic");
    std::fs::write(dir.path().join("password"), "pw-9d2e-never-printed\n").expect("write");
    std::fs::write(dir.path().join("ca.pem"), "not a certificate\n").expect("write");
    // "ops:pw-9d2e-never-printed" in base64.
    let expected = "Basic b3BzOnB3LTlkMmUtbmV2ZXItcHJpbnRlZA==";
    let server = FakeServer::start(move |request| {
        if request.headers.get("authorization").map(String::as_str) == Some(expected) {
            (404, "text/plain", "no rule groups found\n".to_string())
        } else {
            (401, "text/plain", "unauthorized\n".to_string())
        }
    });
    let source = generated().display().to_string();
    let write_config = |extra: &str| {
        std::fs::write(
            dir.path().join(".mlslo.toml"),
            format!(
                "[deploy.targets.m]\nkind = \"mimir\"\nurl = \"{}\"\ntenant = \"ml\"\nnamespace = \"slo\"\nsource = \"{source}\"\nbasic_auth_user = \"ops\"\nbasic_auth_password_file = \"password\"\n{extra}",
                server.url()
            ),
        )
        .expect("write config")
    };
    write_config("");
    let output = mlslo_in(dir.path(), &["diff", "--target", "m"], &[]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(stdout(&output).contains("+ add group "));
    assert!(!stdout(&output).contains("pw-9d2e") && !stderr(&output).contains("pw-9d2e"));
    write_config("ca_file = \"ca.pem\"\n");
    let output = mlslo_in(dir.path(), &["diff", "--target", "m"], &[]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("the CA file holds no certificate")
            || stderr(&output).contains("the CA file is not PEM"),
        "{}",
        stderr(&output)
    );
}

/// Answers every request with 401 and a body quoting the headers it received, raw and as
/// JSON, the way a misconfigured proxy or a debugging endpoint does.
fn header_echo() -> FakeServer {
    FakeServer::start(|request| {
        let received: Vec<String> = request
            .headers
            .iter()
            .map(|(name, value)| format!("{name}: {value}"))
            .collect();
        let text = received.join("; ");
        let body =
            serde_json::json!({"status": "error", "error": format!("denied, received {text}")});
        (401, "application/json", format!("{body}\nraw: {text}\n"))
    })
}

#[test]
fn credentials_a_server_echoes_are_redacted_in_every_command_and_format() {
    let dir = scratch("deploy-echo");
    let server = header_echo();
    let url = server.url();
    let token = "tok-5e1a-echoed-back";
    let password = "pw-77c4-echoed\"back";
    // base64("ops:pw-77c4-echoed\"back"), the Authorization header's value.
    let basic = "b3BzOnB3LTc3YzQtZWNob2VkImJhY2s=";
    let tenant = "tenant-0b9d-secret";
    std::fs::write(
        dir.path().join("rules.yml"),
        "groups:\n- name: g\n  rules:\n  - alert: Down\n    expr: up == 0\n",
    )
    .expect("write");
    std::fs::create_dir_all(dir.path().join("rules-dir")).expect("folder");
    let source = generated().display().to_string();
    let bearer = [("MLSLO_BEARER_TOKEN", token)];
    let basic_auth = [
        ("MLSLO_BASIC_AUTH_USER", "ops"),
        ("MLSLO_BASIC_AUTH_PASSWORD", password),
    ];
    let lint_rules = data("lint").join("live/rules.yml").display().to_string();
    // Each run: its arguments and the credentials in its environment.
    type Run<'a> = (Vec<&'a str>, &'a [(&'a str, &'a str)]);
    let runs: Vec<Run> = vec![
        (
            vec![
                "diff",
                "--kind",
                "prometheus",
                "--url",
                &url,
                "--rules-dir",
                "rules-dir",
                "--source",
                &source,
            ],
            &bearer,
        ),
        (
            vec![
                "deploy",
                "--kind",
                "prometheus",
                "--url",
                &url,
                "--rules-dir",
                "rules-dir",
                "--source",
                &source,
            ],
            &basic_auth,
        ),
        (
            vec![
                "diff", "--kind", "mimir", "--url", &url, "--tenant", tenant, "--source", &source,
            ],
            &bearer,
        ),
        (
            vec![
                "deploy", "--kind", "mimir", "--url", &url, "--tenant", tenant, "--source", &source,
            ],
            &basic_auth,
        ),
        (
            vec![
                "backtest",
                "rules.yml",
                "--prometheus-url",
                &url,
                "--start",
                "1700000000",
                "--end",
                "1700000120",
                "--step",
                "1m",
                "--retries",
                "0",
            ],
            &bearer,
        ),
        (
            vec![
                "backtest",
                "rules.yml",
                "--prometheus-url",
                &url,
                "--start",
                "1700000000",
                "--end",
                "1700000120",
                "--step",
                "1m",
                "--retries",
                "0",
                "--format",
                "json",
            ],
            &basic_auth,
        ),
        (
            vec![
                "lint",
                "--prometheus-url",
                &url,
                "--tenant",
                tenant,
                &lint_rules,
            ],
            &basic_auth,
        ),
        (
            vec![
                "lint",
                "--prometheus-url",
                &url,
                "--format",
                "json",
                &lint_rules,
            ],
            &bearer,
        ),
    ];
    for (args, environment) in runs {
        let output = mlslo_in(dir.path(), &args, environment);
        let printed = format!("{}{}", stdout(&output), stderr(&output));
        assert!(
            printed.contains("denied, received") && printed.contains("***"),
            "{args:?}: the server's message is shown, redacted:\n{printed}"
        );
        for secret in [token, password, "pw-77c4-echoed\\\"back", basic, tenant] {
            assert!(
                !printed.contains(secret),
                "{args:?} printed {secret}:\n{printed}"
            );
        }
        assert_ne!(output.status.code(), Some(0), "{args:?}:\n{printed}");
    }
    assert!(server.requests().len() >= 8);
}
