//! Grouped objectives end to end: a two-model objective where only model `a`
//! burns pages for `a` alone (in the generated promtool tests, run by `mlslo
//! test` and by promtool 2.42), and the generated Alertmanager configuration keeps
//! model `b`'s alerts unmuted and in notifications of their own.

use std::collections::BTreeMap;
use std::process::Command;

use mlslo::prometheus::alertmanager::config;
use mlslo::prometheus::alertmanager::inhibit::{ActiveAlert, Inhibitor};
use mlslo::prometheus::alertmanager::matchers::LabelSet;
use mlslo::prometheus::alertmanager::route::{group_key, RoutingTree};

use crate::support::{installed, mlslo, outcome, read, scratch, write};

const TWO_MODELS: &str = r#"
monitoring { heartbeat = none }

routing {
  default_receiver = "ml-chat"
  receiver "ml-chat"  { webhook { url = "https://chat.example.com/hook" } }
  receiver "ml-pager" { webhook { url = "https://pager.example.com/hook" } }
  route { severity = "page" } -> "ml-pager"
}

service "serving" {
  team = "ml"

  availability "predict" {
    errors    = requests_total{code=~"5.."}
    total     = requests_total
    objective = 99.9%
    group_by  = [model]
    // Short windows keep the generated tests to a few hundred evaluations.
    page   { burn { long = 1h, short = 5m, factor = 14.4 } }
    ticket { burn { long = 2h, short = 10m, factor = 6 } }
  }

  drift "embeddings" {
    score    = embedding_drift_score
    max      = 0.3
    group_by = [model]
  }
}
"#;

fn labels(pairs: &[(&str, &str)]) -> LabelSet {
    pairs
        .iter()
        .map(|(label, value)| ((*label).to_owned(), (*value).to_owned()))
        .collect::<BTreeMap<_, _>>()
}

fn alert(alertname: &str, kind: &str, slo: &str, severity: &str, model: &str) -> LabelSet {
    labels(&[
        ("alertname", alertname),
        ("kind", kind),
        ("model", model),
        ("service", "serving"),
        ("severity", severity),
        ("slo", slo),
        ("team", "ml"),
    ])
}

#[test]
fn only_the_burning_model_pages_and_mutes_nothing_of_the_other() {
    let work = scratch("grouped-objectives");
    let source = write(&work, "serving.slo", TWO_MODELS);
    let out = work.join("out");
    let (code, _, errors) = outcome(&mlslo(&[
        "build",
        &source,
        "-o",
        out.to_str().expect("scratch paths are UTF-8"),
    ]));
    assert_eq!(code, 0, "{errors}");

    // The generated tests hold a scenario where only model a burns, and expect
    // the page of model a and nothing else.
    let tests_path = out.join("tests/serving.test.yml");
    let tests = read(&tests_path);
    let one_group = tests
        .split("\n- name: ")
        .find(|case| case.contains("only {model=\\\"a\\\"} burns"))
        .unwrap_or_else(|| panic!("no one-group burn scenario in\n{tests}"));
    assert!(one_group.contains("model=\\\"b\\\""), "{one_group}");
    assert!(one_group.contains("model: a"), "{one_group}");
    assert!(!one_group.contains("model: b"), "{one_group}");
    assert!(
        tests.contains("only group embedding_drift_score{model=\\\"a\\\"}"),
        "{tests}"
    );
    let tests_arg = tests_path.to_str().expect("scratch paths are UTF-8");
    let (code, stdout, stderr) = outcome(&mlslo(&["test", tests_arg]));
    assert_eq!(code, 0, "mlslo test:\n{stdout}{stderr}");
    if let Some(promtool) = installed("/usr/bin/promtool") {
        let output = Command::new(promtool)
            .args(["test", "rules", tests_arg])
            .output()
            .expect("promtool runs");
        assert!(
            output.status.success(),
            "promtool test rules:\n{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }

    // Model a's page mutes its own ticket, and nothing of model b.
    let config = config::load(&read(&out.join("alertmanager/alertmanager.yml")))
        .expect("the generated configuration loads");
    let inhibitor = Inhibitor::new(&config);
    let page_a = alert("ErrorBudgetBurn", "availability", "predict", "page", "a");
    let ticket_a = alert("ErrorBudgetBurn", "availability", "predict", "ticket", "a");
    let ticket_b = alert("ErrorBudgetBurn", "availability", "predict", "ticket", "b");
    let drift_a = alert("DriftScoreHigh", "drift", "embeddings", "ticket", "a");
    let drift_b = alert("DriftScoreHigh", "drift", "embeddings", "ticket", "b");
    let active = [ActiveAlert {
        labels: &page_a,
        active: true,
    }];
    assert!(inhibitor.mutes(&ticket_a, &active).is_some());
    assert!(inhibitor.mutes(&drift_a, &active).is_some());
    assert_eq!(inhibitor.mutes(&ticket_b, &active), None);
    assert_eq!(inhibitor.mutes(&drift_b, &active), None);

    // The pages of the two models go to the pager as two notifications.
    let page_b = alert("ErrorBudgetBurn", "availability", "predict", "page", "b");
    let tree = RoutingTree::new(&config);
    let group_of = |alert: &LabelSet| {
        let routes = tree.match_routes(alert);
        assert_eq!(routes.len(), 1, "{alert:?}");
        assert_eq!(routes[0].options.receiver, "ml-pager");
        group_key(routes[0], alert)
    };
    assert_ne!(group_of(&page_a), group_of(&page_b));
}

/// The bundled one-day history of `rules/model-serving.slo` (three models, each
/// objective grouped by model): the ranker's availability incident pages once for
/// the ranker, mutes the ranker's drift alert and nothing of the embedder's, and
/// the budgets are reported per model.
#[test]
fn a_one_model_incident_in_the_bundled_history_pages_for_that_model_alone() {
    let output = mlslo(&[
        "backtest",
        "rules/model-serving.slo",
        "rules/routing.slo",
        "--data",
        "tests/data/backtest/model-serving.series",
        "--format",
        "json",
    ]);
    let (code, out, err) = outcome(&output);
    assert_eq!(code, 0, "{err}");
    let report: serde_json::Value = serde_json::from_str(&out).expect("JSON report");
    let alerts = report["alerts"].as_array().expect("alerts");
    let find = |alertname: &str, slo: &str, model: &str, severity: &str| {
        alerts
            .iter()
            .filter(|a| {
                let labels = &a["labels"];
                labels["alertname"] == alertname
                    && labels["slo"] == slo
                    && labels["model"] == model
                    && (severity.is_empty() || labels["severity"] == severity)
            })
            .collect::<Vec<_>>()
    };
    let ranker_page = find("ErrorBudgetBurn", "predict", "ranker", "page");
    assert_eq!(ranker_page.len(), 1, "{out}");
    assert_eq!(ranker_page[0]["firings"], 1);
    let pages = ranker_page[0]["pages"].as_array().expect("routed");
    assert_eq!(pages.len(), 1, "one notification for the ranker's incident");
    assert!(pages[0].get("inhibited_by").is_none());

    let ranker_drift = find("DriftScoreHigh", "input-embeddings", "ranker", "");
    assert_eq!(ranker_drift.len(), 1, "{out}");
    assert_eq!(
        ranker_drift[0]["pages"][0]["inhibited_by"],
        "ErrorBudgetBurn"
    );
    let embedder_drift = find("DriftScoreHigh", "input-embeddings", "embedder", "");
    assert_eq!(embedder_drift.len(), 1, "{out}");
    assert!(
        embedder_drift[0]["pages"][0].get("inhibited_by").is_none(),
        "the ranker's page must not mute the embedder: {out}"
    );
    assert_eq!(
        embedder_drift[0]["pages"][0]["receivers"],
        serde_json::json!(["ml-platform-chat"])
    );
    for alert in alerts {
        assert_ne!(alert["labels"]["model"], "reranker", "{out}");
        assert!(alert["labels"].get("model").is_some(), "{alert}");
    }

    // One budget per model and objective; the ranker's availability budget is the
    // one the incident spent.
    let spent = |slo: &str, model: &str| {
        report["budgets"]
            .as_array()
            .expect("budgets")
            .iter()
            .find(|b| b["slo"] == slo && b["group"]["model"] == model)
            .and_then(|b| b["spent_percent"].as_f64())
            .unwrap_or_else(|| panic!("no budget of {slo} for {model}: {out}"))
    };
    for model in ["embedder", "reranker"] {
        assert!(spent("predict", "ranker") > 2.0 * spent("predict", model));
    }
    // The embedder's slow answers burn its latency budget 1.2 times too fast over
    // the day recorded: of the 1w window's budget, that day spends 1.2 / 7.
    assert!(
        (spent("predict-p95", "embedder") - 100.0 * 1.2 / 7.0).abs() < 0.5,
        "{out}"
    );
    assert!(spent("predict-p95", "ranker") < spent("predict-p95", "embedder") / 5.0);
}
