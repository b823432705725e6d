//! The generated Grafana dashboards, without a Grafana server: every dashboard
//! validates against Grafana's dashboard JSON Schema, each panel's options against
//! its panel type's schema and each target against the Prometheus query schema
//! (foundation SDK schemas in `tests/data/schemas/grafana/`); every query parses
//! and returns series over the bundled backtest histories once the generated rules
//! have run over them; each burn-rate panel's threshold line is the number its
//! alert compares with; the `ConfigMap`s carry the dashboards byte for byte.

use std::collections::BTreeMap;
use std::path::Path;

use mlslo::prometheus::promql::{instant_query, range_query, EvalOptions, Storage, Value};
use mlslo::prometheus::ruler::{load_rule_file, EvalContext, GroupEvaluator, RuleKind};
use mlslo::tools::backtest::{Dataset, RULE_FILE_OPTIONS};
use serde_json::Value as Json;

use crate::support::{mlslo, outcome, read, repository, scratch};

const SCHEMAS: &str = "tests/data/schemas/grafana";

fn json_file(path: &Path) -> Json {
    serde_json::from_str(&read(path)).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

fn schema(name: &str) -> Json {
    json_file(&repository().join(SCHEMAS).join(name))
}

/// A validator for one definition of a schema file (`#/definitions/<name>`).
fn definition_validator(file: &str, definition: &str) -> jsonschema::Validator {
    let mut schema = schema(file);
    schema["$ref"] = Json::String(format!("#/definitions/{definition}"));
    jsonschema::validator_for(&schema)
        .unwrap_or_else(|error| panic!("{file}#{definition} compiles: {error}"))
}

fn errors(validator: &jsonschema::Validator, value: &Json) -> Vec<String> {
    validator
        .iter_errors(value)
        .map(|error| format!("{error} at {}", error.instance_path()))
        .collect()
}

/// Every generated dashboard, by service.
fn dashboards() -> BTreeMap<String, Json> {
    let folder = repository().join("generated/grafana");
    let mut dashboards = BTreeMap::new();
    for entry in std::fs::read_dir(&folder).expect("generated/grafana exists") {
        let path = entry.expect("readable entry").path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        if let Some(service) = name.strip_suffix(".json") {
            dashboards.insert(service.to_owned(), json_file(&path));
        }
    }
    assert!(
        dashboards.len() >= 4,
        "rules/ has services with Prometheus objectives: {:?}",
        dashboards.keys()
    );
    dashboards
}

/// The panels of a dashboard, rows left out.
fn panels(dashboard: &Json) -> Vec<&Json> {
    dashboard["panels"]
        .as_array()
        .expect("panels")
        .iter()
        .filter(|panel| panel["type"] != "row")
        .collect()
}

/// The panel type's schema file: Grafana's panel ids against the SDK's file names.
fn panel_schema_file(panel_type: &str) -> &'static str {
    match panel_type {
        "timeseries" => "timeseries.jsonschema.json",
        "stat" => "stat.jsonschema.json",
        "state-timeline" => "statetimeline.jsonschema.json",
        "text" => "text.jsonschema.json",
        other => panic!("no schema for panel type {other}"),
    }
}

#[test]
fn dashboards_validate_against_grafana_schemas() {
    let dashboard_validator =
        jsonschema::validator_for(&schema("dashboard.jsonschema.json")).expect("compiles");
    let target_validator =
        jsonschema::validator_for(&schema("prometheus.jsonschema.json")).expect("compiles");
    // The validators must be able to fail: a misspelled key and a bad target.
    let mut broken = dashboards().into_values().next().expect("a dashboard");
    broken["schemaVersoin"] = Json::from(39);
    assert!(!dashboard_validator.is_valid(&broken));
    assert!(!target_validator.is_valid(&serde_json::json!({ "refId": "A" })));

    for (service, dashboard) in dashboards() {
        let found = errors(&dashboard_validator, &dashboard);
        assert!(found.is_empty(), "{service}: {found:#?}");
        assert_eq!(dashboard["uid"], format!("mlslo-{service}"));
        let mut ids = Vec::new();
        for panel in dashboard["panels"].as_array().expect("panels") {
            ids.push(panel["id"].as_u64().expect("an id"));
            let grid = &panel["gridPos"];
            let right = grid["x"].as_u64().expect("x") + grid["w"].as_u64().expect("w");
            assert!(right <= 24, "{service}: {panel}");
            if panel["type"] == "row" {
                continue;
            }
            let panel_type = panel["type"].as_str().expect("a type");
            let file = panel_schema_file(panel_type);
            let options = definition_validator(file, "Options");
            let found = errors(&options, &panel["options"]);
            assert!(found.is_empty(), "{service} {}: {found:#?}", panel["title"]);
            let custom = &panel["fieldConfig"]["defaults"]["custom"];
            if !custom.is_null() {
                let field_config = definition_validator(file, "FieldConfig");
                let found = errors(&field_config, custom);
                assert!(found.is_empty(), "{service} {}: {found:#?}", panel["title"]);
            }
            for target in panel["targets"].as_array().into_iter().flatten() {
                let found = errors(&target_validator, target);
                assert!(found.is_empty(), "{service} {}: {found:#?}", panel["title"]);
            }
        }
        let expected: Vec<u64> = (1..=ids.len() as u64).collect();
        assert_eq!(ids, expected, "{service}: panel ids count up from 1");
    }
}

#[test]
fn configmaps_carry_the_dashboards_and_the_sidecar_label() {
    for (service, dashboard) in dashboards() {
        let path = repository().join(format!("generated/grafana/{service}.configmap.yaml"));
        let manifest: Json = yaml_serde::from_str(&read(&path)).expect("the ConfigMap is YAML");
        assert_eq!(manifest["kind"], "ConfigMap");
        assert_eq!(manifest["metadata"]["labels"]["grafana_dashboard"], "1");
        let data = manifest["data"][format!("{service}.json")]
            .as_str()
            .expect("the dashboard is a string");
        let carried: Json = serde_json::from_str(data).expect("the data is JSON");
        assert!(
            carried == dashboard,
            "{service}: the ConfigMap's dashboard differs"
        );
    }
    let provisioning: Json = yaml_serde::from_str(&read(
        &repository().join("generated/grafana/provisioning.yml"),
    ))
    .expect("provisioning is YAML");
    assert_eq!(provisioning["apiVersion"], 1);
    assert_eq!(provisioning["providers"][0]["type"], "file");
    assert!(provisioning["providers"][0]["options"]["path"].is_string());
}

/// The history of `service` with the generated rules run over it every minute:
/// the raw series, every recorded series and `ALERTS`, as Prometheus would hold them.
fn history_with_rules(service: &str) -> (Storage, i64, i64) {
    let history = repository().join(format!("tests/data/backtest/{service}.series"));
    let rules_path = repository().join(format!("generated/prometheus/{service}.rules.yml"));
    rules_over_history(&history, &rules_path)
}

/// The rules of `rules_path` run over `history` every minute, as
/// [`history_with_rules`].
fn rules_over_history(history: &Path, rules_path: &Path) -> (Storage, i64, i64) {
    let service = history.display();
    let mut dataset = Dataset::default();
    dataset
        .add_file(&history.to_string_lossy(), &read(&history))
        .expect("the history loads");
    let (start, end) = dataset.extent_ms().expect("the history has samples");
    let groups = load_rule_file("rules", &read(rules_path), RULE_FILE_OPTIONS)
        .expect("the generated rules load");
    let mut evaluators: Vec<GroupEvaluator> = groups.into_iter().map(GroupEvaluator::new).collect();
    let mut storage = dataset.to_storage();
    let context = EvalContext::default();
    let mut at = start;
    while at <= end {
        for evaluator in &mut evaluators {
            let failures = evaluator.evaluate(&mut storage, at, &context);
            assert!(failures.is_empty(), "{service}: {:?}", failures[0].message);
        }
        at += 60_000;
    }
    (storage, start, end)
}

/// A panel query as Grafana sends it with every group chosen (`All` is `.*`).
fn with_variables_substituted(dashboard: &Json, expr: &str) -> String {
    let mut expr = expr.to_owned();
    for variable in dashboard["templating"]["list"]
        .as_array()
        .expect("variables")
    {
        if variable["type"] == "query" {
            let name = variable["name"].as_str().expect("a name");
            let all = variable["allValue"].as_str().expect("an all value");
            expr = expr.replace(&format!("${name}"), all);
        }
    }
    expr
}

/// Runs every panel query of `dashboard` over `storage` and fails on one that
/// returns no series; returns how many ran.
fn every_query_returns_series(
    name: &str,
    dashboard: &Json,
    storage: &Storage,
    start: i64,
    end: i64,
) -> usize {
    let options = EvalOptions::default();
    let mut queries = 0;
    for panel in panels(dashboard) {
        for target in panel["targets"].as_array().into_iter().flatten() {
            let expr =
                with_variables_substituted(dashboard, target["expr"].as_str().expect("expr"));
            let matrix = range_query(storage, &expr, start, end, 300_000, &options)
                .unwrap_or_else(|error| panic!("{name} {expr}: {error:?}"));
            assert!(
                !matrix.is_empty(),
                "{name}, panel {}: {expr} returns nothing",
                panel["title"]
            );
            queries += 1;
        }
    }
    queries
}

#[test]
fn every_panel_query_returns_series_over_the_bundled_histories() {
    let dashboards = dashboards();
    let options = EvalOptions::default();
    for service in ["fraud-detector", "model-serving"] {
        let dashboard = &dashboards[service];
        let (storage, start, end) = history_with_rules(service);
        let queries = every_query_returns_series(service, dashboard, &storage, start, end);
        assert!(queries >= 8, "{service}: {queries} queries");
        // Each group variable lists the groups of the history.
        for variable in dashboard["templating"]["list"]
            .as_array()
            .expect("variables")
        {
            if variable["type"] != "query" {
                continue;
            }
            let label = variable["name"].as_str().expect("a name");
            let query = variable["query"].as_str().expect("a query");
            let series = query
                .strip_prefix("label_values(")
                .and_then(|rest| rest.strip_suffix(&format!(", {label})")))
                .unwrap_or_else(|| panic!("{query}"));
            let matrix = range_query(&storage, series, start, end, 300_000, &options)
                .unwrap_or_else(|error| panic!("{series}: {error:?}"));
            let values: std::collections::BTreeSet<&str> = matrix
                .iter()
                .map(|series| series.labels.get(label))
                .collect();
            assert!(values.len() >= 2, "{service} {label}: {values:?}");
        }
    }
}

#[test]
fn burn_rate_threshold_lines_are_the_alerts_thresholds() {
    let dashboards = dashboards();
    let options = EvalOptions::default();
    let empty = Storage::new();
    let mut checked = 0;
    for (service, dashboard) in &dashboards {
        let rules_path = repository().join(format!("generated/prometheus/{service}.rules.yml"));
        let groups = load_rule_file("rules", &read(&rules_path), RULE_FILE_OPTIONS)
            .expect("the generated rules load");
        for group in &groups {
            for rule in &group.rules {
                let RuleKind::Alerting { name, .. } = &rule.kind else {
                    continue;
                };
                let (Some(long), Some(short)) = (
                    rule.labels.get("long_window"),
                    rule.labels.get("short_window"),
                ) else {
                    continue;
                };
                let slo = rule.labels.get("slo").expect("an slo label");
                let severity = rule.labels.get("severity").expect("a severity");
                // `short > (f * b)\nand\nlong > (f * b)...`: the alert's constant.
                let expr = &rule.expr_text;
                let constant = expr
                    .lines()
                    .next()
                    .and_then(|line| line.rsplit_once(" > "))
                    .map(|(_, constant)| constant)
                    .unwrap_or_else(|| panic!("{expr}"));
                let Value::Scalar(threshold) = instant_query(&empty, constant, 0, &options)
                    .unwrap_or_else(|error| panic!("{constant}: {error:?}"))
                else {
                    panic!("{constant} is a scalar");
                };
                let title = format!("{slo}: {name} {severity} over {long} and {short}");
                let panel = panels(dashboard)
                    .into_iter()
                    .find(|panel| panel["title"] == title.as_str())
                    .unwrap_or_else(|| panic!("{service}: no panel {title}"));
                let steps = panel["fieldConfig"]["defaults"]["thresholds"]["steps"]
                    .as_array()
                    .expect("steps");
                let drawn = steps.last().expect("a step")["value"]
                    .as_f64()
                    .expect("a number");
                assert_eq!(drawn.to_bits(), threshold.to_bits(), "{service} {title}");
                checked += 1;
            }
        }
    }
    assert!(checked >= 5, "{checked} burn-rate alerts checked");
}

#[test]
fn build_check_reports_a_stale_dashboard_and_a_build_replaces_only_its_own() {
    let folder = scratch("grafana-check");
    let out = folder.join("generated");
    let out_text = out.to_str().expect("utf-8");
    let build = |extra: &[&str]| {
        let mut arguments = vec!["build", "rules/fraud-detector.slo", "-o", out_text];
        arguments.extend_from_slice(extra);
        outcome(&mlslo(&arguments))
    };
    assert_eq!(build(&[]).0, 0);
    let (status, stdout, _) = build(&["--check"]);
    assert_eq!((status, stdout.as_str()), (0, ""));
    let dashboard = out.join("grafana/fraud-detector.json");
    let original = read(&dashboard);
    let edited = original.replacen("\"refresh\": \"1m\"", "\"refresh\": \"5m\"", 1);
    assert_ne!(edited, original);
    std::fs::write(&dashboard, &edited).expect("edit");
    // A dashboard of a service that is gone, and a user's own dashboard.
    let stale = original.replace("mlslo-fraud-detector", "mlslo-retired");
    std::fs::write(out.join("grafana/retired.json"), stale).expect("stale");
    std::fs::write(
        out.join("grafana/mine.json"),
        "{\"title\": \"mine\", \"description\": \"hand-made\"}\n",
    )
    .expect("foreign");
    let (status, stdout, _) = build(&["--check"]);
    assert_eq!(status, 1, "{stdout}");
    assert!(stdout.contains("-  \"refresh\": \"5m\","), "{stdout}");
    assert!(stdout.contains("+  \"refresh\": \"1m\","), "{stdout}");
    assert!(stdout.contains("retired.json"), "{stdout}");
    assert!(!stdout.contains("mine.json"), "{stdout}");
    assert_eq!(build(&[]).0, 0);
    assert_eq!(read(&dashboard), original);
    assert!(!out.join("grafana/retired.json").exists());
    assert!(out.join("grafana/mine.json").exists());
}

#[test]
fn the_kubernetes_block_labels_the_configmap_and_may_change_the_sidecar_label() {
    let folder = scratch("grafana-configmap-labels");
    let source = r#"
kubernetes {
  namespace = "monitoring"
  labels    { grafana_dashboard = "yes", release = "kube-prometheus-stack" }
}
service "checkout" {
  team = "payments"
  availability "api" {
    errors    = http_requests_total{code=~"5.."}
    total     = http_requests_total
    objective = 99.9%
  }
  logs "errors" {
    index = "logs-*"
    query = "level:error"
    max_count = 10 per 5m
  }
}
service "archive" {
  team = "payments"
  logs "errors" {
    index = "logs-*"
    query = "level:error"
    max_count = 10 per 5m
  }
}
"#;
    std::fs::write(folder.join("input.slo"), source).expect("write input");
    let out = folder.join("generated");
    let (status, _, stderr) = outcome(&mlslo(&[
        "build",
        folder.join("input.slo").to_str().expect("utf-8"),
        "-o",
        out.to_str().expect("utf-8"),
    ]));
    assert_eq!(status, 0, "{stderr}");
    let text = read(&out.join("grafana/checkout.configmap.yaml"));
    assert_eq!(text.matches("grafana_dashboard:").count(), 1, "{text}");
    let manifest: Json = yaml_serde::from_str(&text).expect("YAML");
    let metadata = &manifest["metadata"];
    assert_eq!(metadata["name"], "checkout-slo");
    assert_eq!(metadata["namespace"], "monitoring");
    assert_eq!(metadata["labels"]["grafana_dashboard"], "yes");
    assert_eq!(metadata["labels"]["release"], "kube-prometheus-stack");
    // A service of log objectives alone has no series to draw: no dashboard.
    assert!(!out.join("grafana/archive.json").exists());
    assert!(out.join("grafana/provisioning.yml").exists());
}

/// The kinds the bundled histories lack (GPU utilisation and memory with its
/// forecast, freshness) through the scenario histories of `data/scenarios/`.
#[test]
fn gpu_and_freshness_panel_queries_return_series_over_the_scenario_histories() {
    for scenario in ["gpu-leak", "stalled-batch", "drift-ramp-noise"] {
        let folder = repository().join("tests/data/scenarios").join(scenario);
        let work = scratch(&format!("grafana-{scenario}"));
        let out = work.join("generated");
        let (status, _, stderr) = outcome(&mlslo(&[
            "build",
            folder.join("service.slo").to_str().expect("utf-8"),
            "-o",
            out.to_str().expect("utf-8"),
        ]));
        assert_eq!(status, 0, "{scenario}: {stderr}");
        let mut checked = 0;
        for entry in std::fs::read_dir(out.join("grafana")).expect("dashboards") {
            let path = entry.expect("entry").path();
            let Some(service) = path
                .file_name()
                .and_then(|name| name.to_str())
                .and_then(|name| name.strip_suffix(".json"))
            else {
                continue;
            };
            let (storage, start, end) = rules_over_history(
                &folder.join("history.series"),
                &out.join(format!("prometheus/{service}.rules.yml")),
            );
            checked +=
                every_query_returns_series(scenario, &json_file(&path), &storage, start, end);
        }
        assert!(checked >= 2, "{scenario}: {checked} queries");
    }
}
