//! The committed Alertmanager configuration and Watcher watches in `generated/`,
//! checked by real oracles: `amtool check-config` 0.25 and our Alertmanager model
//! accept the configuration, the generated inhibition mutes what it should, and every
//! watch validates against the Elasticsearch specification's watch schema (which
//! rejects a known-bad watch). `tests/emit_generated.rs` keeps `generated/` fresh,
//! so these checks cover exactly what `mlslo build rules/` writes. Without amtool
//! the amtool check prints a notice and returns, unless `CI` is set, where it fails.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use mlslo::alertmanager::{self, PostableAlert};

const AMTOOL: &str = "/usr/bin/amtool";
const GENERATED_CONFIG: &str = "generated/alertmanager/alertmanager.yml";

fn read(path: &str) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|error| panic!("{path}: {error}"))
}

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
    if !Path::new(AMTOOL).exists() {
        assert!(
            std::env::var_os("CI").is_none(),
            "amtool is required in CI (apt package `prometheus-alertmanager`)"
        );
        eprintln!("notice: {AMTOOL} not found; amtool check skipped");
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
