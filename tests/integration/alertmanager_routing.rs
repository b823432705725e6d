//! Routing of every alert the compiler generates from `rules/`, tested rather
//! than assumed. The intended receivers come from the `routing` block itself,
//! read by a deliberately naive interpreter of the DSL's flat route list (first
//! match, `continue`, the default receiver); the generated
//! `alertmanager.yml` nests those routes by team and severity, and both
//! `amtool config routes test --verify.receivers` 0.25 and our
//! `alertmanager::route_alerts` must give exactly the intended receivers for
//! every alert rule and watch, under every value of the labels the routes
//! test that the alert does not fix itself. Then the generated inhibition is
//! checked on realistic firing sets. Without amtool the amtool half prints a
//! notice, unless `CI` is set, where it fails.

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

use mlslo::base::diagnostic::SourceMap;
use mlslo::compiler::ir::{MatchOp, Program, Routing};
use mlslo::prometheus::alertmanager::{self, PostableAlert};

use crate::support::{installed, Lcg, AMTOOL};
const GENERATED_CONFIG: &str = "generated/alertmanager/alertmanager.yml";

type Labels = BTreeMap<String, String>;

fn program() -> Program {
    let mut map = SourceMap::new();
    let mut paths: Vec<_> = std::fs::read_dir("rules")
        .expect("rules/ exists")
        .map(|entry| entry.expect("entry").path())
        .filter(|path| path.extension().is_some_and(|extension| extension == "slo"))
        .collect();
    paths.sort();
    for path in paths {
        let text = std::fs::read_to_string(&path).expect("readable rules");
        map.add(path.display().to_string(), text);
    }
    let (program, diagnostics) = mlslo::check_sources(&map);
    program.unwrap_or_else(|| panic!("rules/ is clean: {diagnostics:?}"))
}

/// Every alert rule of `generated/prometheus/` and every watch's posted alert,
/// as (where it comes from, its fixed labels including `alertname`).
fn generated_alerts() -> Vec<(String, Labels)> {
    let mut alerts = Vec::new();
    let mut files: Vec<_> = std::fs::read_dir("generated/prometheus")
        .expect("generated/prometheus exists")
        .map(|entry| entry.expect("entry").path())
        .collect();
    files.sort();
    for file in files {
        let text = std::fs::read_to_string(&file).expect("rules file");
        let value: serde_json::Value = yaml_serde::from_str(&text).expect("rules YAML");
        for group in value["groups"].as_array().expect("groups") {
            for rule in group["rules"].as_array().expect("rules") {
                let Some(name) = rule["alert"].as_str() else {
                    continue;
                };
                let mut labels: Labels = rule["labels"]
                    .as_object()
                    .map(|labels| {
                        labels
                            .iter()
                            .map(|(key, value)| {
                                (key.clone(), value.as_str().expect("string").to_string())
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                labels.insert("alertname".into(), name.into());
                alerts.push((format!("{} {name}", file.display()), labels));
            }
        }
    }
    let mut watches: Vec<_> = std::fs::read_dir("generated/watcher")
        .expect("generated/watcher exists")
        .map(|entry| entry.expect("entry").path())
        .collect();
    watches.sort();
    for watch in watches {
        let text = std::fs::read_to_string(&watch).expect("watch");
        let value: serde_json::Value = serde_json::from_str(&text).expect("watch JSON");
        let body = value["actions"]["notify_alertmanager"]["webhook"]["body"]
            .as_str()
            .expect("a watch posts to Alertmanager");
        let posted: serde_json::Value =
            serde_json::from_str(body).expect("the posted body is JSON (Mustache inside strings)");
        for alert in posted.as_array().expect("a list of alerts") {
            let labels: Labels = serde_json::from_value(alert["labels"].clone()).expect("labels");
            alerts.push((watch.display().to_string(), labels));
        }
    }
    alerts
}

/// The DSL's routing semantics, written as plainly as possible: routes in
/// written order, the first match stops unless it says `continue`, every
/// receiver of a matching route in its order, the default when none matches.
fn intended_receivers(routing: &Routing, labels: &Labels) -> Vec<String> {
    // The dead man's switch has a route of its own, ahead of the written ones, to
    // the heartbeat receiver of rules/.
    if labels.get("alertname").map(String::as_str) == Some("Watchdog")
        && labels.get("kind").map(String::as_str) == Some("monitoring")
    {
        return vec!["heartbeat".to_owned()];
    }
    let mut receivers = Vec::new();
    for route in &routing.routes {
        let matches = route.matchers.iter().all(|matcher| {
            let value = labels.get(&matcher.label).map(String::as_str).unwrap_or("");
            let regex =
                || regex::Regex::new(&format!("^(?:{})$", matcher.value)).expect("checked regex");
            match matcher.op {
                MatchOp::Equal => value == matcher.value,
                MatchOp::NotEqual => value != matcher.value,
                MatchOp::Regex => regex().is_match(value),
                MatchOp::NotRegex => !regex().is_match(value),
            }
        });
        if matches {
            receivers.extend(route.receivers.iter().cloned());
            if !route.continue_matching {
                return receivers;
            }
        }
    }
    if receivers.is_empty() {
        receivers.push(routing.default_receiver.clone());
    }
    receivers
}

/// The alert itself, and one variant per value of each route label it does
/// not fix: absent, every value a route names, and one no route names.
fn label_variants(routing: &Routing, fixed: &Labels) -> Vec<Labels> {
    let mut values: BTreeMap<String, BTreeSet<Option<String>>> = BTreeMap::new();
    for route in &routing.routes {
        for matcher in &route.matchers {
            if fixed.contains_key(&matcher.label) {
                continue;
            }
            let entry = values.entry(matcher.label.clone()).or_default();
            entry.insert(None);
            entry.insert(Some("unrouted-value".into()));
            if matches!(matcher.op, MatchOp::Equal | MatchOp::NotEqual) {
                entry.insert(Some(matcher.value.clone()));
            }
        }
    }
    let mut variants = vec![fixed.clone()];
    for (label, choices) in values {
        let mut next = Vec::new();
        for variant in &variants {
            for choice in &choices {
                let mut labels = variant.clone();
                if let Some(value) = choice {
                    labels.insert(label.clone(), value.clone());
                }
                next.push(labels);
            }
        }
        variants = next;
    }
    variants
}

fn postable(labels: &Labels) -> PostableAlert {
    PostableAlert {
        labels: labels.clone(),
        ..PostableAlert::default()
    }
}

#[test]
fn every_generated_alert_reaches_its_intended_receivers() {
    let program = program();
    let routing = program
        .routing
        .as_ref()
        .expect("rules/ has a routing block");
    let config = alertmanager::config::load(
        &std::fs::read_to_string(GENERATED_CONFIG).expect("generated config"),
    )
    .expect("the generated configuration loads");
    let alerts = generated_alerts();
    assert!(alerts.len() > 40, "only {} generated alerts", alerts.len());
    let use_amtool = installed(AMTOOL).is_some();
    let mut checked = 0;
    let mut receivers_seen = BTreeSet::new();
    for (origin, fixed) in &alerts {
        for labels in label_variants(routing, fixed) {
            let intended = intended_receivers(routing, &labels);
            let routed = alertmanager::route_alerts(&config, &[postable(&labels)], 0);
            assert_eq!(
                routed[0].receivers, intended,
                "{origin}: our model routes {labels:?} elsewhere"
            );
            if use_amtool {
                let mut command = Command::new(AMTOOL);
                command.args([
                    "config",
                    "routes",
                    "test",
                    &format!("--config.file={GENERATED_CONFIG}"),
                    &format!("--verify.receivers={}", intended.join(",")),
                ]);
                for (name, value) in &labels {
                    command.arg(format!("{name}={value}"));
                }
                let output = command.output().expect("amtool runs");
                assert!(
                    output.status.success(),
                    "{origin}: amtool routes {labels:?} to {} instead of {intended:?}{}",
                    String::from_utf8_lossy(&output.stdout).trim(),
                    String::from_utf8_lossy(&output.stderr)
                );
            }
            receivers_seen.extend(intended);
            checked += 1;
        }
    }
    assert!(checked >= alerts.len(), "{checked} label sets checked");
    // Every receiver a route names is used by some generated alert (the default
    // catches alerts without a routed team, which rules/ does not generate).
    eprintln!("{checked} label sets routed as intended");
    for receiver in &routing.receivers {
        if receiver.name == routing.default_receiver {
            continue;
        }
        assert!(
            receivers_seen.contains(&receiver.name),
            "no generated alert reaches {}",
            receiver.name
        );
    }
}

#[test]
fn pages_reach_a_pager_and_the_team_chat() {
    let program = program();
    let routing = program.routing.as_ref().expect("routing block");
    let config = alertmanager::config::load(
        &std::fs::read_to_string(GENERATED_CONFIG).expect("generated config"),
    )
    .expect("loads");
    for (origin, labels) in generated_alerts() {
        let routed = alertmanager::route_alerts(&config, &[postable(&labels)], 0);
        let receivers = &routed[0].receivers;
        match (labels["team"].as_str(), labels["severity"].as_str()) {
            ("risk-ml", "page") => assert_eq!(receivers, &["risk-pager", "risk-chat"], "{origin}"),
            ("risk-ml", _) => assert_eq!(receivers, &["risk-chat"], "{origin}"),
            ("genai-platform", "page") => {
                assert_eq!(receivers, &["genai-pager", "genai-chat"], "{origin}");
            }
            ("genai-platform", _) => assert_eq!(receivers, &["genai-chat"], "{origin}"),
            ("data-platform", _) => assert_eq!(receivers, &["data-tickets"], "{origin}"),
            (team, _) => assert_eq!(
                receivers,
                &intended_receivers(routing, &labels),
                "{origin}: team {team}"
            ),
        }
        // One incident, one notification: the group key names the objective (the
        // heartbeat is one alert, grouped by its name).
        if labels["alertname"] == "Watchdog" {
            continue;
        }
        for route in &routed[0].routes {
            assert_eq!(
                route.group_by,
                ["alertname", "model", "service", "slo"],
                "{origin}"
            );
        }
    }
}

#[test]
fn the_route_tree_branches_on_team_then_severity() {
    let config = alertmanager::config::load(
        &std::fs::read_to_string(GENERATED_CONFIG).expect("generated config"),
    )
    .expect("loads");
    let team_routes: Vec<String> = config
        .route
        .routes
        .iter()
        .map(|route| alertmanager::matchers::format_matchers(&route.matchers))
        .collect();
    assert_eq!(
        team_routes[..5],
        [
            r#"{alertname="Watchdog",kind="monitoring"}"#,
            r#"{team="ml-platform"}"#,
            r#"{team="risk-ml"}"#,
            r#"{team="genai-platform"}"#,
            r#"{team="data-platform"}"#
        ]
    );
    let risk = &config.route.routes[2];
    assert_eq!(
        alertmanager::matchers::format_matchers(&risk.routes[0].matchers),
        r#"{severity="page"}"#
    );
    // The page reaches the pager and, through `continue`, the team chat.
    assert!(risk.routes[0].routes[0].continue_matching);
}

fn alert(labels: &[(&str, &str)]) -> PostableAlert {
    postable(
        &labels
            .iter()
            .map(|(name, value)| (name.to_string(), value.to_string()))
            .collect(),
    )
}

/// The input index of the alert that mutes each alert, if any.
fn inhibitors(alerts: &[PostableAlert]) -> Vec<Option<usize>> {
    let config = alertmanager::config::load(
        &std::fs::read_to_string(GENERATED_CONFIG).expect("generated config"),
    )
    .expect("loads");
    alertmanager::route_alerts(&config, alerts, 0)
        .into_iter()
        .map(|routing| routing.inhibited_by.map(|inhibition| inhibition.alert))
        .collect()
}

const FRAUD: [(&str, &str); 4] = [
    ("service", "fraud-detector"),
    ("team", "risk-ml"),
    ("env", "prod"),
    ("alertname", "ErrorBudgetBurn"),
];

fn fraud(extra: &[(&'static str, &'static str)]) -> PostableAlert {
    let mut labels = FRAUD.to_vec();
    labels.extend_from_slice(extra);
    alert(&labels)
}

#[test]
fn a_page_mutes_the_ticket_of_its_own_objective_only() {
    let alerts = [
        fraud(&[
            ("kind", "latency"),
            ("slo", "score-p99"),
            ("severity", "page"),
        ]),
        fraud(&[
            ("kind", "latency"),
            ("slo", "score-p99"),
            ("severity", "ticket"),
        ]),
        fraud(&[
            ("kind", "drift"),
            ("slo", "transaction-amount"),
            ("severity", "ticket"),
        ]),
    ];
    assert_eq!(inhibitors(&alerts), [None, Some(0), None]);
}

#[test]
fn a_serving_page_mutes_quality_alerts_of_its_service_only() {
    let alerts = [
        fraud(&[
            ("kind", "availability"),
            ("slo", "score-api"),
            ("severity", "page"),
        ]),
        fraud(&[
            ("kind", "accuracy"),
            ("slo", "precision"),
            ("severity", "page"),
        ]),
        fraud(&[
            ("kind", "drift"),
            ("slo", "transaction-amount"),
            ("severity", "ticket"),
        ]),
        fraud(&[
            ("kind", "latency"),
            ("slo", "score-p99"),
            ("severity", "page"),
        ]),
        alert(&[
            ("alertname", "ErrorBudgetBurn"),
            ("service", "ranking"),
            ("team", "genai-platform"),
            ("kind", "latency"),
            ("slo", "rank-p95"),
            ("severity", "page"),
        ]),
    ];
    assert_eq!(inhibitors(&alerts), [None, Some(0), Some(0), Some(0), None]);
    let gpu = [
        alert(&[
            ("alertname", "GPUMemoryExhaustionForecast"),
            ("service", "support-assistant"),
            ("kind", "gpu"),
            ("slo", "a100-pool"),
            ("severity", "page"),
        ]),
        alert(&[
            ("alertname", "ErrorBudgetBurn"),
            ("service", "support-assistant"),
            ("kind", "latency"),
            ("slo", "end-to-end"),
            ("severity", "page"),
        ]),
        // A GPU ticket is not an outage: it mutes nothing.
        alert(&[
            ("alertname", "GPUUtilizationHigh"),
            ("service", "ranking"),
            ("kind", "gpu"),
            ("slo", "t4-pool"),
            ("severity", "ticket"),
        ]),
        alert(&[
            ("alertname", "ErrorBudgetBurn"),
            ("service", "ranking"),
            ("kind", "latency"),
            ("slo", "rank-p95"),
            ("severity", "ticket"),
        ]),
    ];
    assert_eq!(inhibitors(&gpu), [None, Some(0), None, None]);
}

#[test]
fn a_stale_pipeline_mutes_the_drift_of_the_features_it_feeds_only() {
    let pipeline = |name: &'static str, kind: &'static str, slo: &'static str| {
        alert(&[
            ("alertname", name),
            ("service", "feature-pipeline"),
            ("team", "data-platform"),
            ("kind", kind),
            ("slo", slo),
            ("severity", "ticket"),
        ])
    };
    let alerts = [
        pipeline("DataFreshnessStale", "freshness", "nightly-build"),
        pipeline("DriftScoreHigh", "drift", "user-spend-30d"),
        pipeline("DriftScoreHigh", "drift", "merchant-risk"),
    ];
    assert_eq!(inhibitors(&alerts), [None, Some(0), Some(0)]);
}

#[test]
fn the_users_own_inhibit_rules_apply() {
    // `inhibit kind "availability" over ["accuracy", "drift"] on [service]`:
    // an availability ticket (no page) still mutes accuracy and drift alerts.
    let alerts = [
        fraud(&[
            ("kind", "availability"),
            ("slo", "score-api"),
            ("severity", "ticket"),
        ]),
        fraud(&[
            ("kind", "accuracy"),
            ("slo", "precision"),
            ("severity", "ticket"),
        ]),
        fraud(&[
            ("kind", "latency"),
            ("slo", "score-p99"),
            ("severity", "ticket"),
        ]),
    ];
    assert_eq!(inhibitors(&alerts), [None, Some(0), None]);
    // `inhibit kind "freshness" over "drift" on [service]`: the other stale job too.
    let stale = alert(&[
        ("alertname", "DataFreshnessStale"),
        ("service", "feature-pipeline"),
        ("kind", "freshness"),
        ("slo", "feature-store-sync"),
        ("severity", "ticket"),
    ]);
    let drift = alert(&[
        ("alertname", "DriftScoreHigh"),
        ("service", "feature-pipeline"),
        ("kind", "drift"),
        ("slo", "merchant-risk"),
        ("severity", "ticket"),
    ]);
    assert_eq!(inhibitors(&[stale, drift]), [None, Some(0)]);
}

const TEAMS: &[&str] = &["a", "b", "c"];
const SEVERITIES: &[&str] = &["page", "ticket"];
const ENVS: &[&str] = &["prod", "dev"];

fn random_routing_block(random: &mut Lcg) -> String {
    let mut text = String::from("routing {\n  default_receiver = \"r0\"\n");
    for receiver in 0..4 {
        text.push_str(&format!(
            "  receiver \"r{receiver}\" {{ webhook {{ url = \"https://hooks.example.com/{receiver}\" }} }}\n"
        ));
    }
    for _ in 0..random.below(7) {
        let mut matchers = Vec::new();
        for (label, values) in [("team", TEAMS), ("severity", SEVERITIES), ("env", ENVS)] {
            match random.below(5) {
                0 | 1 => matchers.push(format!("{label} = \"{}\"", random.pick(values))),
                2 => matchers.push(format!("{label} != \"{}\"", random.pick(values))),
                3 if label != "team" => {
                    matchers.push(format!("{label} =~ \"{}|x\"", random.pick(values)));
                }
                _ => {}
            }
        }
        let receivers: Vec<String> = (0..1 + random.below(2))
            .map(|_| format!("\"r{}\"", random.below(4)))
            .collect();
        let continue_matching = if random.below(3) == 0 {
            " continue"
        } else {
            ""
        };
        text.push_str(&format!(
            "  route {{ {} }} -> [{}]{continue_matching}\n",
            matchers.join(", "),
            receivers.join(", ")
        ));
    }
    text.push_str("}\n");
    text
}

#[test]
fn the_nested_route_tree_routes_exactly_like_the_flat_route_list() {
    let mut random = Lcg(20_261_122);
    let mut checked = 0;
    for case in 0..300 {
        let block = random_routing_block(&mut random);
        let mut map = SourceMap::new();
        map.add("routing.slo", block.clone());
        let (program, diagnostics) = mlslo::check_sources(&map);
        let Some(program) = program else {
            panic!("case {case}: the generated block is valid:\n{block}{diagnostics:?}");
        };
        let routing = program.routing.as_ref().expect("a routing block");
        let files = mlslo::compiler::emit::alertmanager::files(
            &program,
            &["routing.slo".to_string()],
            &mlslo::compiler::emit::alertmanager::AlertmanagerOptions::default(),
        );
        let config = alertmanager::config::load(&files[0].1)
            .unwrap_or_else(|error| panic!("case {case}: {error}\n{}", files[0].1));
        for team in ["", "a", "b", "c"] {
            for severity in ["", "page", "ticket"] {
                for env in ["", "prod", "dev"] {
                    let labels: Labels = [("team", team), ("severity", severity), ("env", env)]
                        .into_iter()
                        .filter(|(_, value)| !value.is_empty())
                        .map(|(name, value)| (name.to_string(), value.to_string()))
                        .chain([("alertname".to_string(), "A".to_string())])
                        .collect();
                    let routed = alertmanager::route_alerts(&config, &[postable(&labels)], 0);
                    assert_eq!(
                        routed[0].receivers,
                        intended_receivers(routing, &labels),
                        "case {case}, {labels:?}\n{block}\n{}",
                        files[0].1
                    );
                    checked += 1;
                }
            }
        }
    }
    assert_eq!(checked, 300 * 36);
}
