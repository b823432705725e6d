//! The committed Alertmanager configuration and Watcher watches in `generated/`,
//! checked by real oracles: `amtool check-config` 0.25 and our Alertmanager model
//! accept the configuration, the generated inhibition mutes what it should, and every
//! watch validates against the Elasticsearch specification's watch schema (which
//! rejects a known-bad watch). The `emit_generated` module keeps `generated/` fresh,
//! so these checks cover exactly what `mlslo build rules/` writes. Without amtool
//! the amtool check prints a notice and returns, unless `CI` is set, where it fails.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use mlslo::prometheus::alertmanager::{self, PostableAlert};

use crate::support::{installed, mlslo, read, scratch, Scratch, AMTOOL, PROMTOOL};

const GENERATED_CONFIG: &str = "generated/alertmanager/alertmanager.yml";

fn json(path: &Path) -> serde_json::Value {
    let text =
        std::fs::read_to_string(path).unwrap_or_else(|error| panic!("{}: {error}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

fn alert(labels: &[(&str, &str)]) -> PostableAlert {
    let labels: BTreeMap<String, String> = labels
        .iter()
        .map(|(name, value)| (name.to_string(), value.to_string()))
        .collect();
    let text = serde_json::json!([{ "labels": labels }]).to_string();
    alertmanager::parse_alerts(&text)
        .expect("an API v2 alert with labels only")
        .remove(0)
}

#[test]
fn amtool_accepts_the_generated_configuration() {
    if installed(AMTOOL).is_none() {
        return;
    }
    let output = Command::new(AMTOOL)
        .args(["check-config", GENERATED_CONFIG])
        .output()
        .expect("run amtool");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.contains("SUCCESS"),
        "amtool rejected {GENERATED_CONFIG}:\n{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn our_alertmanager_model_accepts_the_generated_configuration() {
    let config = alertmanager::config::load(&read(GENERATED_CONFIG));
    assert!(config.is_ok(), "{config:?}");
}

#[test]
fn a_page_mutes_the_ticket_of_the_same_objective_only() {
    let config = alertmanager::config::load(&read(GENERATED_CONFIG)).expect("valid config");
    let base = [
        ("alertname", "ErrorBudgetBurn"),
        ("service", "fraud-detector"),
        ("team", "risk-ml"),
        ("kind", "availability"),
    ];
    let with = |slo: &'static str, severity: &'static str| {
        let mut labels = base.to_vec();
        labels.push(("slo", slo));
        labels.push(("severity", severity));
        alert(&labels)
    };
    let alerts = vec![
        with("score-api", "page"),
        with("score-api", "ticket"),
        with("other-api", "ticket"),
    ];
    let routed = alertmanager::route_alerts(&config, &alerts, 0);
    let inhibitor = |index: usize| {
        routed[index]
            .inhibited_by
            .as_ref()
            .map(|inhibition| inhibition.alert)
    };
    assert_eq!(inhibitor(0), None, "{routed:?}");
    assert_eq!(inhibitor(1), Some(0), "{routed:?}");
    assert_eq!(inhibitor(2), None, "{routed:?}");
}

#[test]
fn generated_watches_validate_against_the_watch_schema() {
    let schema = json(Path::new("tests/data/schemas/watch.schema.json"));
    let validator = jsonschema::validator_for(&schema).expect("the watch schema compiles");
    let rejected = json(Path::new("tests/data/schemas/watch-bad.json"));
    assert!(
        !validator.is_valid(&rejected),
        "the known-bad watch must fail the schema"
    );
    let accepted = json(Path::new("tests/data/schemas/watch-ml-full.json"));
    assert!(
        validator.is_valid(&accepted),
        "the worked example must pass the schema"
    );

    let mut watches: Vec<PathBuf> = std::fs::read_dir("generated/watcher")
        .expect("generated/watcher exists")
        .map(|entry| entry.expect("readable entry").path())
        .collect();
    watches.sort();
    assert!(
        !watches.is_empty(),
        "rules/ has logs objectives, so watches are generated"
    );
    for path in watches {
        let watch = json(&path);
        let errors: Vec<String> = validator
            .iter_errors(&watch)
            .map(|error| error.to_string())
            .collect();
        assert!(errors.is_empty(), "{}: {errors:?}", path.display());
        assert_eq!(watch["metadata"]["mlslo_owned"], true, "{}", path.display());
    }
}

/// Closes every object schema that lists its properties, so that a
/// misspelled key fails (the CRD leaves objects open; the API server prunes).
fn close_objects(schema: &mut serde_json::Value) {
    match schema {
        serde_json::Value::Object(map) => {
            let open = map.contains_key("x-kubernetes-preserve-unknown-fields");
            if map.contains_key("properties") && !open {
                map.entry("additionalProperties")
                    .or_insert(serde_json::Value::Bool(false));
            }
            for value in map.values_mut() {
                close_objects(value);
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(close_objects),
        _ => {}
    }
}

fn validate_routes(
    route_validator: &jsonschema::Validator,
    route: &serde_json::Value,
    path: &str,
    count: &mut usize,
) {
    let errors: Vec<String> = route_validator
        .iter_errors(route)
        .map(|error| format!("{path}: {error}"))
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
    *count += 1;
    if let Some(children) = route["routes"].as_array() {
        for (index, child) in children.iter().enumerate() {
            validate_routes(
                route_validator,
                child,
                &format!("{path}.routes[{index}]"),
                count,
            );
        }
    }
}

#[test]
fn the_alertmanager_config_manifest_validates_and_matches_the_plain_configuration() {
    let mut schema = json(Path::new(
        "tests/data/schemas/alertmanagerconfig-v1alpha1.schema.json",
    ));
    close_objects(&mut schema);
    let validator = jsonschema::validator_for(&schema).expect("the CRD schema compiles");
    let route_validator =
        jsonschema::validator_for(&schema["properties"]["spec"]["properties"]["route"])
            .expect("the route schema compiles");
    // The closed schema rejects a misspelled key and a bare matcher string.
    let misspelled = serde_json::json!({"spec": {"route": {"reciever": "x"}}});
    assert!(!validator.is_valid(&misspelled));
    let bare = serde_json::json!({"receiver": "x", "matchers": ["team=\"a\""]});
    assert!(!route_validator.is_valid(&bare));

    let path = "generated/alertmanager/alertmanagerconfig.yaml";
    let text = read(path);
    let manifest: serde_json::Value = yaml_serde::from_str(&text).expect("manifest is YAML");
    let errors: Vec<String> = validator
        .iter_errors(&manifest)
        .map(|error| error.to_string())
        .collect();
    assert!(errors.is_empty(), "{path}: {errors:?}");
    let mut n_routes = 0;
    validate_routes(
        &route_validator,
        &manifest["spec"]["route"],
        "route",
        &mut n_routes,
    );
    assert_eq!(manifest["kind"], "AlertmanagerConfig");
    assert_eq!(manifest["apiVersion"], "monitoring.coreos.com/v1alpha1");
    assert!(
        text.contains("matchType: \"=\"\n"),
        "`=` is quoted for YAML 1.1 readers"
    );

    // Same tree, receivers and inhibit rules as alertmanager.yml.
    let plain: serde_json::Value =
        yaml_serde::from_str(&read(GENERATED_CONFIG)).expect("alertmanager.yml is YAML");
    fn count_routes(route: &serde_json::Value) -> usize {
        1 + route["routes"]
            .as_array()
            .map(|children| children.iter().map(count_routes).sum())
            .unwrap_or(0)
    }
    assert_eq!(n_routes, count_routes(&plain["route"]));
    assert_eq!(
        manifest["spec"]["inhibitRules"].as_array().map(Vec::len),
        plain["inhibit_rules"].as_array().map(Vec::len)
    );
    let names = |list: &serde_json::Value| -> Vec<String> {
        list.as_array()
            .expect("receivers")
            .iter()
            .map(|receiver| receiver["name"].as_str().expect("name").to_string())
            .collect()
    };
    assert_eq!(
        names(&manifest["spec"]["receivers"]),
        names(&plain["receivers"])
    );
    // No secret is inline: every secret field is a Secret key reference.
    for receiver in manifest["spec"]["receivers"].as_array().expect("receivers") {
        for (field, list) in [
            ("routingKey", "pagerdutyConfigs"),
            ("apiURL", "slackConfigs"),
            ("authPassword", "emailConfigs"),
        ] {
            for config in receiver[list].as_array().into_iter().flatten() {
                if let Some(reference) = config.get(field) {
                    assert_eq!(reference["name"], "mlslo-alertmanager", "{receiver}");
                    assert!(reference["key"].is_string(), "{receiver}");
                }
            }
        }
    }
    assert!(
        !text.contains("_file"),
        "file paths appear only in the header"
    );
}

fn build(source: &str, name: &str) -> (std::process::Output, Scratch) {
    let folder = scratch(&format!("emit-alertmanager-{name}"));
    let input = folder.join("input.slo");
    std::fs::write(&input, source).expect("write input");
    let output = mlslo(&[
        "build",
        input.to_str().expect("UTF-8 temp path"),
        "-o",
        folder.join("out").to_str().expect("UTF-8 temp path"),
    ]);
    (output, folder)
}

#[test]
fn a_webhook_url_file_needs_an_explicit_alertmanager_version() {
    let source = read("tests/data/build-warnings/W0507.slo");
    // Under the default 0.25 the webhook is left out, with a warning and a header note.
    let (output, folder) = build(&source, "w0507");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "a warning does not fail the build: {stderr}"
    );
    assert!(
        stderr.contains("warning[W0507]: webhook url_file needs a newer alertmanager"),
        "{stderr}"
    );
    let config = std::fs::read_to_string(folder.join("out/alertmanager/alertmanager.yml"))
        .expect("config written");
    assert!(!config.contains("webhook_configs"), "{config}");
    assert!(
        config.contains("# Note: receiver tickets: webhook url_file"),
        "{config}"
    );
    if installed(AMTOOL).is_some() {
        let checked = Command::new(AMTOOL)
            .arg("check-config")
            .arg(folder.join("out/alertmanager/alertmanager.yml"))
            .output()
            .expect("amtool runs");
        assert!(
            checked.status.success(),
            "{}",
            String::from_utf8_lossy(&checked.stdout)
        );
    }
    // With the release declared, the key is written and nothing is reported.
    let declared = source.replace(
        "  default_receiver = \"tickets\"\n",
        "  default_receiver = \"tickets\"\n  alertmanager_version = \"0.26\"\n",
    );
    let (output, folder) = build(&declared, "w0507-declared");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(!stderr.contains("W0507"), "{stderr}");
    let config = std::fs::read_to_string(folder.join("out/alertmanager/alertmanager.yml"))
        .expect("config written");
    assert!(
        config.contains("Alertmanager 0.26 configuration"),
        "{config}"
    );
    assert!(
        config.contains("url_file: /etc/alertmanager/secrets/hook-url"),
        "{config}"
    );
    // An unknown release is an error.
    let unknown = source.replace(
        "  default_receiver = \"tickets\"\n",
        "  default_receiver = \"tickets\"\n  alertmanager_version = \"1.0\"\n",
    );
    let (output, _) = build(&unknown, "w0507-unknown");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("error[E0311]: invalid choice"), "{stderr}");
    assert!(
        stderr.contains("`1.0` is not an Alertmanager version"),
        "{stderr}"
    );
}

/// A Mustache subset as Watcher renders a webhook body (no escaping for a
/// text body): `{{dotted.name}}` variables and `{{=<% %>=}}` delimiter changes.
fn render_mustache(template: &str, context: &serde_json::Value) -> String {
    let (mut open, mut close) = ("{{".to_string(), "}}".to_string());
    let mut output = String::new();
    let mut rest = template;
    while let Some(start) = rest.find(open.as_str()) {
        output.push_str(&rest[..start]);
        let after_open = &rest[start + open.len()..];
        let end = after_open
            .find(close.as_str())
            .unwrap_or_else(|| panic!("unclosed tag in {template}"));
        let tag = after_open[..end].trim();
        rest = &after_open[end + close.len()..];
        if let Some(delimiters) = tag.strip_prefix('=').and_then(|tag| tag.strip_suffix('=')) {
            let mut parts = delimiters.split_whitespace();
            open = parts.next().expect("new open delimiter").to_string();
            close = parts.next().expect("new close delimiter").to_string();
            continue;
        }
        let mut value = context;
        for step in tag.split('.') {
            value = &value[step];
        }
        match value {
            serde_json::Value::String(text) => output.push_str(text),
            serde_json::Value::Null => {}
            other => output.push_str(&other.to_string()),
        }
    }
    output.push_str(rest);
    output
}

fn execution_context(execution_time: &str, ends_at: &str) -> serde_json::Value {
    serde_json::json!({"ctx": {
        "execution_time": execution_time,
        "payload": {
            "ends_at": ends_at,
            "hits": {"total": 42},
            "aggregations": {"ratio": {"buckets": {
                "matching": {"doc_count": 7},
                "total": {"doc_count": 100}
            }}}
        }
    }})
}

#[test]
fn watches_post_alerts_that_route_like_metric_alerts_and_resolve() {
    let config = alertmanager::config::load(&read(GENERATED_CONFIG)).expect("valid config");
    let mut paths: Vec<PathBuf> = std::fs::read_dir("generated/watcher")
        .expect("generated/watcher exists")
        .map(|entry| entry.expect("readable entry").path())
        .collect();
    paths.sort();
    for path in paths {
        let watch = json(&path);
        let action = &watch["actions"]["notify_alertmanager"];
        let webhook = &action["webhook"];
        assert_eq!(webhook["method"], "post", "{}", path.display());
        assert_eq!(webhook["path"], "/api/v2/alerts", "{}", path.display());
        assert_eq!(
            (webhook["host"].as_str(), webhook["port"].as_u64()),
            (Some("alertmanager"), Some(9093))
        );
        // Posted on every execution whose condition holds, ending three
        // schedule intervals later.
        let interval = watch["trigger"]["schedule"]["interval"]
            .as_str()
            .expect("interval");
        let interval_seconds: u64 = match interval.split_at(interval.len() - 1) {
            (number, "m") => number.parse::<u64>().expect("minutes") * 60,
            (number, "s") => number.parse().expect("seconds"),
            (number, "h") => number.parse::<u64>().expect("hours") * 3600,
            other => panic!("unexpected interval {other:?}"),
        };
        let params = &action["transform"]["script"]["params"];
        assert_eq!(
            params["resolve_after_seconds"].as_u64(),
            Some(3 * interval_seconds)
        );
        let body = webhook["body"].as_str().expect("body");
        let rendered = render_mustache(
            body,
            &execution_context(
                "2026-05-04T10:00:00.123456789Z",
                "2026-05-04T10:15:00.123456789Z",
            ),
        );
        let alerts = alertmanager::parse_alerts(&rendered)
            .unwrap_or_else(|error| panic!("{}: {error}\n{rendered}", path.display()));
        let at = |text: &str| alertmanager::parse_rfc3339_milliseconds(text).expect("time");
        let firing = alertmanager::route_alerts(&config, &alerts, at("2026-05-04T10:05:00Z"));
        assert_eq!(firing[0].status, "firing", "{}: {firing:?}", path.display());
        assert_eq!(firing[0].receivers, ["data-tickets"], "{}", path.display());
        let later = alertmanager::route_alerts(&config, &alerts, at("2026-05-04T10:16:00Z"));
        assert_eq!(later[0].status, "resolved", "{}", path.display());
        let annotations = &alerts[0].annotations;
        assert!(
            annotations["description"].contains(" 42 matching log events")
                || annotations["description"].contains("7 of 100 log events"),
            "{annotations:?}"
        );
    }
}

#[test]
fn user_text_with_mustache_tags_reaches_the_posted_alert_as_text() {
    let mut map = mlslo::base::diagnostic::SourceMap::new();
    map.add(
        "logs.slo",
        r#"service "search" {
  team = "{{team}}"
  runbook = "https://runbooks.example.com/{{ctx.metadata}}"
  labels { note = "a {{ctx.payload}} b }} c {{" }
  logs "errors" {
    description = "Go {{ .Labels.x }} and Mustache {{ctx.watch_id}} {{=<% %>=}} stay text"
    index     = "logs-*"
    query     = 'level:ERROR AND msg:"{{x}}"'
    max_count = 10 per 5m
  }
}
routing {
  default_receiver = "chat"
  alertmanager_url = "https://am.example.com:9443/prefix/"
  receiver "chat" { webhook { url = "https://hooks.example.com/x" } }
  route { team = "{{team}}" } -> "chat"
}
"#,
    );
    let (program, diagnostics) = mlslo::check_sources(&map);
    let program = program.unwrap_or_else(|| panic!("{diagnostics:?}"));
    let options = mlslo::compiler::emit::alertmanager::AlertmanagerOptions::for_program(&program);
    let files = mlslo::compiler::emit::watcher::files(&program, &options);
    assert_eq!(files.len(), 1);
    let watch: serde_json::Value = serde_json::from_str(&files[0].1).expect("watch JSON");
    let webhook = &watch["actions"]["notify_alertmanager"]["webhook"];
    assert_eq!(webhook["scheme"], "https");
    assert_eq!(webhook["host"], "am.example.com");
    assert_eq!(webhook["port"], 9443);
    assert_eq!(webhook["path"], "/prefix/api/v2/alerts");
    let rendered = render_mustache(
        webhook["body"].as_str().expect("body"),
        &execution_context("2026-05-04T10:00:00Z", "2026-05-04T10:15:00Z"),
    );
    let alerts = alertmanager::parse_alerts(&rendered).expect("the rendered body is alerts JSON");
    let alert = &alerts[0];
    assert_eq!(alert.labels["team"], "{{team}}");
    assert_eq!(alert.labels["note"], "a {{ctx.payload}} b }} c {{");
    assert_eq!(
        alert.annotations["runbook_url"],
        "https://runbooks.example.com/{{ctx.metadata}}"
    );
    assert!(
        alert.annotations["description"].starts_with(
            "Go {{ .Labels.x }} and Mustache {{ctx.watch_id}} {{=<% %>=}} stay text: 42 matching"
        ),
        "{:?}",
        alert.annotations
    );
    // Watcher renders the search body as a Mustache template before searching:
    // the query reaches Elasticsearch as written.
    let body = &watch["input"]["search"]["request"]["body"];
    let searched: serde_json::Value = serde_json::from_str(&render_mustache(
        &serde_json::to_string(body).expect("body JSON"),
        &execution_context("2026-05-04T10:00:00Z", "2026-05-04T10:15:00Z"),
    ))
    .expect("the rendered search body is JSON");
    assert_eq!(
        searched["query"]["bool"]["filter"][0]["query_string"]["query"],
        r#"level:ERROR AND msg:"{{x}}""#
    );
    let config_text =
        mlslo::compiler::emit::alertmanager::files(&program, &["logs.slo".into()], &options);
    let config = alertmanager::config::load(&config_text[0].1).expect("config loads");
    let routed = alertmanager::route_alerts(&config, &alerts, 0);
    assert_eq!(routed[0].receivers, ["chat"]);
}

/// The `critical`/`warning` vocabulary of kube-prometheus and Sloth: alerts carry
/// it, routes written with it reach their receivers, the derived page-mutes-ticket
/// inhibition uses it, and amtool, promtool and `mlslo test` accept the output.
#[test]
fn the_critical_warning_vocabulary_labels_routes_and_inhibits() {
    let source = r#"
service "fraud-detector" {
  team = "risk-ml"
  availability "score-api" {
    errors    = http_requests_total{code=~"5.."}
    total     = http_requests_total
    objective = 99.9%
  }
}
routing {
  default_receiver = "chat"
  severity { page = "critical", ticket = "warning" }
  receiver "pager" { webhook { url = "https://pager.example.com/hook" } }
  receiver "chat" { webhook { url = "https://chat.example.com/hook" } }
  route { severity = "critical" } -> "pager"
  route { severity = "warning" } -> "chat"
}
"#;
    let (output, folder) = build(source, "critical-warning");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let rules = std::fs::read_to_string(folder.join("out/prometheus/fraud-detector.rules.yml"))
        .expect("rules written");
    assert!(rules.contains("severity: critical"), "{rules}");
    assert!(rules.contains("severity: warning"), "{rules}");
    assert!(!rules.contains("severity: page") && !rules.contains("severity: ticket"));
    let config_path = folder.join("out/alertmanager/alertmanager.yml");
    let config_text = std::fs::read_to_string(&config_path).expect("config written");
    let config = alertmanager::config::load(&config_text).expect("valid config");
    let burn = |severity: &'static str| {
        alert(&[
            ("alertname", "ErrorBudgetBurn"),
            ("service", "fraud-detector"),
            ("slo", "score-api"),
            ("team", "risk-ml"),
            ("kind", "availability"),
            ("severity", severity),
        ])
    };
    let routed = alertmanager::route_alerts(&config, &[burn("critical"), burn("warning")], 0);
    let receivers = |index: usize| {
        routed[index]
            .routes
            .iter()
            .map(|route| route.receiver.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(receivers(0), ["pager"], "{routed:?}");
    assert_eq!(receivers(1), ["chat"], "{routed:?}");
    assert_eq!(
        routed[1]
            .inhibited_by
            .as_ref()
            .map(|inhibition| inhibition.alert),
        Some(0),
        "the critical page mutes the warning ticket: {routed:?}"
    );
    if installed(AMTOOL).is_some() {
        let checked = Command::new(AMTOOL)
            .arg("check-config")
            .arg(&config_path)
            .output()
            .expect("amtool runs");
        assert!(
            checked.status.success(),
            "{}",
            String::from_utf8_lossy(&checked.stdout)
        );
    }
    let tests = folder.join("out/tests/fraud-detector.test.yml");
    let tests = tests.to_str().expect("UTF-8 temp path");
    let ours = mlslo(&["test", tests]);
    assert!(
        ours.status.success(),
        "{}",
        String::from_utf8_lossy(&ours.stdout)
    );
    if installed(PROMTOOL).is_some() {
        let theirs = Command::new(PROMTOOL)
            .args(["test", "rules", tests])
            .output()
            .expect("promtool runs");
        assert!(
            theirs.status.success(),
            "{}",
            String::from_utf8_lossy(&theirs.stdout)
        );
    }
}

const MAINTENANCE_WINDOWS: &str = r#"
monitoring { heartbeat = "heartbeat" }

service "feature-pipeline" {
  team = "data-platform"
  availability "tasks" {
    errors    = task_runs_total{status="failed"}
    total     = task_runs_total
    objective = 99%
  }
}

routing {
  default_receiver = "chat"
  receiver "chat" { webhook { url = "https://chat.example.com/hook" } }
  receiver "tickets" { webhook { url = "https://tickets.example.com/hook" } }
  receiver "heartbeat" { webhook { url = "https://heartbeat.example.com/ping" } }
  time_interval "retraining" {
    weekdays = ["sunday"]
    times    = ["02:00-04:00"]
    location = "Europe/Berlin"
  }
  time_interval "first-of-month" { days_of_month = [1] }
  route { team = "data-platform", severity = "ticket" } -> "tickets" mute_during ["retraining", "first-of-month"]
  route { kind = "monitoring" } -> "chat"
}
"#;

/// `mlslo routes --at` over a generated configuration: for each route the alert
/// takes, whether its time intervals mute it at that instant.
fn muted_at(config: &Path, labels: &str, at: &str) -> Vec<(String, bool)> {
    let output = mlslo(&[
        "routes",
        "--config",
        config.to_str().expect("UTF-8 temp path"),
        "--alert",
        labels,
        "--at",
        at,
        "--format",
        "json",
    ]);
    let report: serde_json::Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|error| panic!("{error}: {}", String::from_utf8_lossy(&output.stderr)));
    report["alerts"][0]["routes"]
        .as_array()
        .expect("routes")
        .iter()
        .map(|route| {
            (
                route["receiver"].as_str().expect("receiver").to_string(),
                route["muted_by_time_intervals"]
                    .as_bool()
                    .expect("every interval is known"),
            )
        })
        .collect()
}

#[test]
fn a_maintenance_window_mutes_its_route_inside_the_window_only_and_never_the_heartbeat() {
    let (output, folder) = build(MAINTENANCE_WINDOWS, "maintenance-windows");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let config = folder.join("out/alertmanager/alertmanager.yml");
    if installed(AMTOOL).is_some() {
        let checked = Command::new(AMTOOL)
            .arg("check-config")
            .arg(&config)
            .output()
            .expect("amtool runs");
        assert!(
            checked.status.success(),
            "{}",
            String::from_utf8_lossy(&checked.stdout)
        );
    }
    let ticket = "alertname=ErrorBudgetBurn,team=data-platform,severity=ticket";
    let tickets = |muted: bool| vec![("tickets".to_string(), muted)];
    // Sunday 2026-12-06, Berlin on UTC+1: 02:30 there is 01:30Z.
    assert_eq!(
        muted_at(&config, ticket, "2026-12-06T01:30:00Z"),
        tickets(true)
    );
    assert_eq!(
        muted_at(&config, ticket, "2026-12-06T00:59:00Z"),
        tickets(false)
    );
    assert_eq!(
        muted_at(&config, ticket, "2026-12-06T03:00:00Z"),
        tickets(false)
    );
    // Summer time, UTC+2: 02:30 in Berlin is 00:30Z on Sunday 2026-07-05.
    assert_eq!(
        muted_at(&config, ticket, "2026-07-05T00:30:00Z"),
        tickets(true)
    );
    assert_eq!(
        muted_at(&config, ticket, "2026-07-05T02:30:00Z"),
        tickets(false)
    );
    // The second window, a whole day in UTC.
    assert_eq!(
        muted_at(&config, ticket, "2026-12-01T12:00:00Z"),
        tickets(true)
    );
    // The dead man's switch is delivered inside every window.
    for at in ["2026-12-06T01:30:00Z", "2026-12-01T12:00:00Z"] {
        assert_eq!(
            muted_at(&config, "alertname=Watchdog,kind=monitoring", at),
            vec![("heartbeat".to_string(), false)]
        );
    }
    // The manifest keeps the UTC window and leaves out the zoned one, which
    // v1alpha1 cannot say, with a note and the checker's warning.
    assert!(stderr.contains("warning[W0652]"), "{stderr}");
    let manifest_text = read(&folder.join("out/alertmanager/alertmanagerconfig.yaml"));
    assert!(
        manifest_text
            .contains("# Time interval retraining is left out: its location Europe/Berlin"),
        "{manifest_text}"
    );
    let manifest: serde_json::Value = yaml_serde::from_str(&manifest_text).expect("YAML");
    assert_eq!(
        manifest["spec"]["muteTimeIntervals"],
        serde_json::json!([{"name": "first-of-month", "timeIntervals": [{"daysOfMonth": [{"start": 1, "end": 1}]}]}])
    );
    assert!(
        manifest_text.contains("muteTimeIntervals:\n        - first-of-month\n"),
        "{manifest_text}"
    );
    let mut schema = json(Path::new(
        "tests/data/schemas/alertmanagerconfig-v1alpha1.schema.json",
    ));
    close_objects(&mut schema);
    let validator = jsonschema::validator_for(&schema).expect("the CRD schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(&manifest)
        .map(|error| error.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
}
