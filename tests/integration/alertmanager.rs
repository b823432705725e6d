//! The Alertmanager model against the real tools: amtool 0.25's
//! `check-config` verdicts and messages, `config routes test` receivers and
//! `config routes show` trees (recorded corpora, tricky matchers and regexes,
//! random trees), and a real Alertmanager 0.25 on 127.0.0.1 for receivers,
//! inhibition and group keys; plus hand-checked inhibition cases.
//!
//! Every recorded amtool comparison runs twice: against the outputs stored in
//! `tests/data/alertmanager/` (always), and against a live `/usr/bin/amtool`
//! when it exists, which also proves the recordings current. With `CI` set, a
//! missing amtool or Alertmanager fails the test.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use mlslo::prometheus::alertmanager::config::{self, SecretSource};
use mlslo::prometheus::alertmanager::inhibit::{fingerprint, ActiveAlert, Inhibitor};
use mlslo::prometheus::alertmanager::matchers::LabelSet;
use mlslo::prometheus::alertmanager::route::RoutingTree;
use mlslo::prometheus::alertmanager::{parse_alerts, parse_rfc3339_milliseconds, route_alerts};

use crate::support::{
    data, http, installed, read, scratch, start_alertmanager, write, FakeServer, Lcg, ALERTMANAGER,
    AMTOOL,
};

fn files_with_extension(dir: &Path, extension: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|error| panic!("{}: {error}", dir.display()))
        .map(|entry| entry.expect("readable directory entry").path())
        .filter(|path| path.extension().is_some_and(|found| found == extension))
        .collect();
    files.sort();
    files
}

/// `SUCCESS` or `FAILED: <message>`, as amtool prints after the file name.
fn our_verdict(text: &str) -> String {
    match config::load(text) {
        Ok(_) => "SUCCESS".to_string(),
        Err(message) => format!("FAILED: {message}"),
    }
}

fn amtool_verdict(path: &Path) -> String {
    let output = Command::new(AMTOOL)
        .arg("check-config")
        .arg(path)
        .output()
        .expect("amtool runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let after_name = stdout
        .split_once("  ")
        .map(|(_, rest)| rest)
        .unwrap_or_else(|| panic!("unexpected amtool output: {stdout}"));
    if after_name.starts_with("SUCCESS") {
        "SUCCESS".to_string()
    } else {
        after_name.split("\n\n").next().unwrap_or("").to_string()
    }
}

#[test]
fn check_config_agrees_with_amtool_on_every_file() {
    let live = installed(AMTOOL).is_some();
    let mut mismatches = Vec::new();
    let files = files_with_extension(&data("alertmanager/check"), "yml");
    assert!(
        files.len() >= 50,
        "the check corpus shrank: {}",
        files.len()
    );
    let known_differences: Vec<String> =
        read(&data("alertmanager/check").join("KNOWN-MESSAGE-DIFFERENCES"))
            .lines()
            .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
            .map(|line| line.split(" # ").next().unwrap_or("").trim().to_string())
            .collect();
    for path in &files {
        let ours = our_verdict(&read(path));
        let recorded = read(&path.with_extension("expected"))
            .trim_end()
            .to_string();
        let file_name = path
            .file_name()
            .and_then(|name| name.to_str())
            .unwrap_or("");
        if known_differences.iter().any(|known| known == file_name) {
            let verdict = |text: &str| text.starts_with("SUCCESS");
            if verdict(&ours) != verdict(&recorded) {
                mismatches.push(format!(
                    "{}: verdicts differ: ours {ours}, recorded {recorded}",
                    path.display()
                ));
            } else if ours == recorded {
                mismatches.push(format!(
                    "{file_name} now matches amtool: remove it from KNOWN-MESSAGE-DIFFERENCES"
                ));
            }
        } else if ours != recorded {
            mismatches.push(format!(
                "{}\n  ours:     {ours}\n  recorded: {recorded}",
                path.display()
            ));
        }
        if live {
            let amtool = amtool_verdict(path);
            if amtool != recorded {
                mismatches.push(format!(
                    "{}: recording is stale, amtool says {amtool}",
                    path.display()
                ));
            }
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

/// The recorded `label=value ... -> receivers` lines of one routing config.
fn recorded_routes(name: &str) -> Vec<(Vec<(String, String)>, String)> {
    read(&data("alertmanager/routing").join(format!("{name}.receivers")))
        .lines()
        .filter(|line| !line.starts_with('#') && !line.is_empty())
        .map(|line| {
            let (labels, receivers) = line.split_once(" -> ").expect("`labels -> receivers` line");
            let labels = labels
                .split_whitespace()
                .map(|pair| {
                    let (name, value) = pair.split_once('=').expect("label=value");
                    (name.to_string(), value.to_string())
                })
                .collect();
            (labels, receivers.to_string())
        })
        .collect()
}

const ROUTING_CONFIGS: [&str; 4] = ["ml-platform", "teams", "nested", "scalars"];

#[test]
fn routes_test_receivers_agree_with_amtool() {
    let live = installed(AMTOOL).is_some();
    let mut checked = 0;
    let mut mismatches = Vec::new();
    for name in ROUTING_CONFIGS {
        let path = data("alertmanager/routing").join(format!("{name}.yml"));
        let config = config::load(&read(&path)).unwrap_or_else(|error| panic!("{name}: {error}"));
        let tree = RoutingTree::new(&config);
        for (pairs, recorded) in recorded_routes(name) {
            let labels: LabelSet = pairs.iter().cloned().collect();
            let ours = tree.receivers(&labels).join(",");
            if ours != recorded {
                mismatches.push(format!("{name} {pairs:?}: ours {ours}, amtool {recorded}"));
            }
            if live {
                let output = Command::new(AMTOOL)
                    .args(["config", "routes", "test"])
                    .arg(format!("--config.file={}", path.display()))
                    .args(pairs.iter().map(|(name, value)| format!("{name}={value}")))
                    .output()
                    .expect("amtool runs");
                let amtool = String::from_utf8_lossy(&output.stdout).trim().to_string();
                if amtool != recorded {
                    mismatches.push(format!(
                        "{name} {pairs:?}: recording {recorded} is stale, amtool {amtool}"
                    ));
                }
            }
            checked += 1;
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
    assert!(checked >= 490, "only {checked} label sets were checked");
}

#[test]
fn routes_show_prints_amtool_tree() {
    let live = installed(AMTOOL).is_some();
    for name in ROUTING_CONFIGS {
        let path = data("alertmanager/routing").join(format!("{name}.yml"));
        let config = config::load(&read(&path)).expect("valid config");
        let ours = format!("Routing tree:\n{}\n", RoutingTree::new(&config).show());
        assert_eq!(
            ours,
            read(&data("alertmanager/routing").join(format!("{name}.tree"))),
            "{name}"
        );
        if live {
            let output = Command::new(AMTOOL)
                .args(["config", "routes", "show"])
                .arg(format!("--config.file={}", path.display()))
                .output()
                .expect("amtool runs");
            assert_eq!(ours, String::from_utf8_lossy(&output.stdout), "{name}");
        }
    }
}

#[test]
fn routes_test_tree_prints_amtool_matching_tree() {
    let path = data("alertmanager/routing").join("teams.yml");
    let config = config::load(&read(&path)).expect("valid config");
    let tree = RoutingTree::new(&config);
    let labels = label_set(&[
        ("severity", "ticket"),
        ("team", "payments"),
        ("alertname", "SLOBurnSlow"),
    ]);
    // Recorded in /work/shared/reference/amtool-examples/outputs.txt.
    let expected = ".\n└── default-route\n    ├── {severity=~\"ticket|warning\",team!=\"\"}  receiver: ticket-queue\n    └── {severity=~\"ticket|warning\"}  receiver: audit-log\n";
    assert_eq!(tree.show_matching(&labels), expected);
    if installed(AMTOOL).is_some() {
        let output = Command::new(AMTOOL)
            .args(["config", "routes", "test", "--tree"])
            .arg(format!("--config.file={}", path.display()))
            .args(["severity=ticket", "team=payments", "alertname=SLOBurnSlow"])
            .output()
            .expect("amtool runs");
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(stdout.contains(expected), "{stdout}");
    }
}

fn label_set(pairs: &[(&str, &str)]) -> LabelSet {
    pairs
        .iter()
        .map(|(name, value)| (name.to_string(), value.to_string()))
        .collect()
}

const INHIBIT_CONFIG: &str = r#"
route:
  receiver: r
inhibit_rules:
  - source_matchers: ['severity="page"']
    target_matchers: ['severity="ticket"']
    equal: [slo, service]
  - source_matchers: ['alertname="ClusterDown"']
    target_matchers: ['alertname!="ClusterDown"']
    equal: [cluster]
  - source_match: {kind: availability}
    source_match_re: {severity: 'page|critical'}
    target_matchers: ['kind=~"accuracy|drift"']
    equal: [service]
receivers:
  - name: r
"#;

fn mutes(
    config_text: &str,
    target: &LabelSet,
    alerts: &[(&LabelSet, bool)],
) -> Option<(usize, Vec<usize>)> {
    let config = config::load(config_text).expect("valid config");
    let candidates: Vec<ActiveAlert<'_>> = alerts
        .iter()
        .map(|(labels, active)| ActiveAlert {
            labels,
            active: *active,
        })
        .collect();
    Inhibitor::new(&config)
        .mutes(target, &candidates)
        .map(|inhibition| (inhibition.rule_index, inhibition.source_indexes))
}

#[test]
fn a_page_mutes_the_ticket_of_the_same_slo_and_service_only() {
    let page = label_set(&[("severity", "page"), ("slo", "a"), ("service", "x")]);
    let ticket = label_set(&[("severity", "ticket"), ("slo", "a"), ("service", "x")]);
    let other_ticket = label_set(&[("severity", "ticket"), ("slo", "b"), ("service", "x")]);
    let alerts = [(&page, true), (&ticket, true), (&other_ticket, true)];
    assert_eq!(mutes(INHIBIT_CONFIG, &ticket, &alerts), Some((0, vec![0])));
    assert_eq!(mutes(INHIBIT_CONFIG, &other_ticket, &alerts), None);
    assert_eq!(mutes(INHIBIT_CONFIG, &page, &alerts), None);
}

#[test]
fn a_missing_equal_label_counts_as_empty() {
    let page = label_set(&[("severity", "page")]);
    let ticket = label_set(&[("severity", "ticket"), ("slo", "")]);
    let ticket_with_slo = label_set(&[("severity", "ticket"), ("slo", "a")]);
    let alerts = [(&page, true), (&ticket, true), (&ticket_with_slo, true)];
    assert_eq!(mutes(INHIBIT_CONFIG, &ticket, &alerts), Some((0, vec![0])));
    assert_eq!(mutes(INHIBIT_CONFIG, &ticket_with_slo, &alerts), None);
}

#[test]
fn resolved_sources_do_not_inhibit() {
    let page = label_set(&[("severity", "page"), ("slo", "a"), ("service", "x")]);
    let ticket = label_set(&[("severity", "ticket"), ("slo", "a"), ("service", "x")]);
    assert_eq!(
        mutes(INHIBIT_CONFIG, &ticket, &[(&page, false), (&ticket, true)]),
        None
    );
}

#[test]
fn two_sided_alerts_neither_inhibit_themselves_nor_each_other() {
    // `critical` alerts match both sides of this rule.
    let config = r#"
route:
  receiver: r
inhibit_rules:
  - source_matchers: ['severity=~"page|critical"']
    target_matchers: ['severity=~"critical|ticket"']
    equal: [service]
receivers:
  - name: r
"#;
    let critical_a = label_set(&[
        ("severity", "critical"),
        ("service", "x"),
        ("alertname", "A"),
    ]);
    let critical_b = label_set(&[
        ("severity", "critical"),
        ("service", "x"),
        ("alertname", "B"),
    ]);
    let page = label_set(&[("severity", "page"), ("service", "x")]);
    let ticket = label_set(&[("severity", "ticket"), ("service", "x")]);
    // Two two-sided alerts: neither mutes the other (hasEqual's exclusion).
    let alerts = [(&critical_a, true), (&critical_b, true)];
    assert_eq!(mutes(config, &critical_a, &alerts), None);
    // A one-sided source does mute a two-sided target.
    let alerts = [(&critical_a, true), (&page, true)];
    assert_eq!(mutes(config, &critical_a, &alerts), Some((0, vec![1])));
    // A two-sided source does mute a one-sided target.
    let alerts = [(&critical_a, true), (&ticket, true)];
    assert_eq!(mutes(config, &ticket, &alerts), Some((0, vec![0])));
}

#[test]
fn legacy_source_match_and_match_re_are_anded() {
    let source = label_set(&[
        ("kind", "availability"),
        ("severity", "critical"),
        ("service", "x"),
    ]);
    let weak_source = label_set(&[
        ("kind", "availability"),
        ("severity", "ticket"),
        ("service", "x"),
    ]);
    let drift = label_set(&[("kind", "drift"), ("severity", "ticket"), ("service", "x")]);
    assert_eq!(
        mutes(INHIBIT_CONFIG, &drift, &[(&source, true), (&drift, true)]),
        Some((2, vec![0]))
    );
    assert_eq!(
        mutes(
            INHIBIT_CONFIG,
            &drift,
            &[(&weak_source, true), (&drift, true)]
        ),
        None
    );
}

#[test]
fn the_first_matching_rule_decides_and_all_its_sources_are_listed() {
    let down_1 = label_set(&[
        ("alertname", "ClusterDown"),
        ("cluster", "eu"),
        ("instance", "1"),
    ]);
    let down_2 = label_set(&[
        ("alertname", "ClusterDown"),
        ("cluster", "eu"),
        ("instance", "2"),
    ]);
    let page = label_set(&[
        ("severity", "page"),
        ("slo", "a"),
        ("service", "x"),
        ("cluster", "eu"),
    ]);
    let ticket = label_set(&[
        ("severity", "ticket"),
        ("slo", "a"),
        ("service", "x"),
        ("cluster", "eu"),
    ]);
    let alerts = [
        (&down_1, true),
        (&page, true),
        (&ticket, true),
        (&down_2, true),
    ];
    assert_eq!(mutes(INHIBIT_CONFIG, &ticket, &alerts), Some((0, vec![1])));
    assert_eq!(mutes(INHIBIT_CONFIG, &page, &alerts), Some((1, vec![0, 3])));
    assert_eq!(mutes(INHIBIT_CONFIG, &down_1, &alerts), None);
}

#[test]
fn fingerprints_match_prometheus() {
    // Values from prometheus/common v0.38 model/signature_test.go.
    assert_eq!(
        fingerprint(&LabelSet::new()),
        format!("{:016x}", 14695981039346656037u64)
    );
    assert_eq!(
        fingerprint(&label_set(&[
            ("name", "garland, briggs"),
            ("fear", "love is not enough")
        ])),
        format!("{:016x}", 5799056148416392346u64)
    );
}

/// Status, receivers, group keys and the reported inhibiting alert.
type AlertSummary = (String, Vec<String>, Vec<String>, Option<usize>);

#[test]
fn route_alerts_reports_receivers_group_keys_and_inhibitors() {
    let config =
        config::load(&read(&data("alertmanager/routing").join("teams.yml"))).expect("valid config");
    let alerts = parse_alerts(
        r#"[
          {"labels": {"alertname": "SLOBurnFast", "severity": "page", "team": "payments", "slo": "checkout-availability", "service": "checkout"},
           "annotations": {"summary": "burning"}, "startsAt": "2024-05-01T12:00:00Z"},
          {"labels": {"alertname": "SLOBurnSlow", "severity": "ticket", "team": "payments", "slo": "checkout-availability", "service": "checkout", "empty": ""}},
          {"labels": {"alertname": "Old", "severity": "page", "slo": "checkout-availability", "service": "checkout"},
           "startsAt": "2024-05-01T10:00:00Z", "endsAt": "2024-05-01T11:00:00Z"},
          {"labels": {}},
          {"labels": {"alertname": "X"}, "startsAt": "2024-05-01T12:00:00Z", "endsAt": "2024-05-01T11:00:00+00:00"}
        ]"#,
    )
    .expect("valid alerts JSON");
    let now = parse_rfc3339_milliseconds("2024-05-01T12:05:00Z").expect("valid time");
    let routed = route_alerts(&config, &alerts, now);
    let summary: Vec<AlertSummary> = routed
        .iter()
        .map(|alert| {
            (
                alert.status.clone(),
                alert.receivers.clone(),
                alert
                    .routes
                    .iter()
                    .map(|route| route.group_key.clone())
                    .collect(),
                alert.inhibited_by.as_ref().map(|inhibited| inhibited.alert),
            )
        })
        .collect();
    let strings = |items: &[&str]| {
        items
            .iter()
            .map(|item| item.to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        summary,
        vec![
            (
                "firing".to_string(),
                strings(&["pager-payments"]),
                strings(&[
                    r#"{}/{severity="page"}/{team="payments"}:{alertname="SLOBurnFast", service="checkout", slo="checkout-availability"}"#
                ]),
                None
            ),
            (
                "firing".to_string(),
                strings(&["ticket-queue", "audit-log"]),
                strings(&[
                    r#"{}/{severity=~"ticket|warning",team!=""}:{alertname="SLOBurnSlow"}"#,
                    r#"{}/{severity=~"ticket|warning"}:{alertname="SLOBurnSlow"}"#,
                ]),
                Some(0)
            ),
            (
                "resolved".to_string(),
                strings(&["pager-default"]),
                strings(&[
                    r#"{}/{severity="page"}:{alertname="Old", service="checkout", slo="checkout-availability"}"#
                ]),
                None
            ),
            ("invalid".to_string(), vec![], vec![], None),
            ("invalid".to_string(), vec![], vec![], None),
        ]
    );
    assert_eq!(
        routed[1].labels.get("empty"),
        None,
        "empty labels are dropped"
    );
    assert_eq!(
        routed[3].error.as_deref(),
        Some("at least one label pair required")
    );
    assert_eq!(
        routed[4].error.as_deref(),
        Some("start time must be before end time")
    );
    assert_eq!(routed[1].routes[0].group_interval, "30m");
    // Go's model.Duration prints 24h as `1d`.
    assert_eq!(routed[1].routes[0].repeat_interval, "1d");
    assert_eq!(
        routed[0].routes[0].group_by,
        strings(&["alertname", "service", "slo"])
    );
    let json = serde_json::to_string(&routed).expect("serializable");
    assert_eq!(
        json,
        serde_json::to_string(&route_alerts(&config, &alerts, now)).expect("serializable")
    );
}

#[test]
fn group_keys_follow_group_by_all_and_sorted_label_strings() {
    let config = config::load(&read(&data("alertmanager/routing").join("nested.yml")))
        .expect("valid config");
    let alerts =
        parse_alerts(r#"[{"labels": {"a": "1", "a1": "2", "env": "staging"}}]"#).expect("valid");
    let routed = route_alerts(&config, &alerts, 0);
    // Go sorts the `name="value"` strings, so `a1=` comes before `a=`.
    assert_eq!(
        routed[0].routes[0].group_key,
        r#"{}:{a1="2", a="1", env="staging"}"#
    );
    assert_eq!(routed[0].routes[0].group_by, vec!["...".to_string()]);
    assert_eq!(routed[0].routes[0].group_wait, "45s");
}

#[test]
fn secrets_from_files_are_distinguished_from_inline_ones() {
    let config = config::load(&read(&data("alertmanager/check").join("slack-file-ok.yml")))
        .expect("valid config");
    let sources: BTreeMap<String, SecretSource> = config.receivers[0]
        .integrations
        .iter()
        .flat_map(|integration| integration.secrets.iter())
        .map(|secret| (secret.field.clone(), secret.source.clone()))
        .collect();
    assert_eq!(
        sources.get("api_url"),
        Some(&SecretSource::File(
            "/etc/alertmanager/slack-url".to_string()
        ))
    );
    assert_eq!(
        sources.get("routing_key"),
        Some(&SecretSource::File("/etc/alertmanager/pd-key".to_string()))
    );
    let inline = config::load(&read(&data("alertmanager/routing").join("ml-platform.yml")))
        .expect("valid config");
    let pagerduty = inline
        .receivers
        .iter()
        .find(|receiver| receiver.name == "ml-pagerduty")
        .expect("ml-pagerduty receiver");
    assert_eq!(
        pagerduty.integrations[0].secrets[0].source,
        SecretSource::Inline
    );
}

/// Matcher texts whose parsing the classic parser makes subtle.
const MATCHER_CORPUS: [&str; 48] = [
    r#"a="b""#,
    r#"a = "b""#,
    r#"  a=b  "#,
    "a=b,c=d",
    "{a=b}",
    "{a=b",
    "a=b}",
    "{a=b,}",
    "{a=b, }",
    "a=b,,c=d",
    "a=",
    r#"a="""#,
    "a!=",
    "a=~",
    "a!~.+",
    "a=b c",
    "a=b=c",
    "a=~b|c",
    r#"a="b,c""#,
    r#"a="b\"c""#,
    r#"a="b\\c""#,
    r#"a="b\nc""#,
    r#"a="b\tc""#,
    r#"a="b\qc""#,
    r"a=b\",
    r#"a="b\""#,
    r#"a=b"c"#,
    r#"a="b"c""#,
    r#"a="b"#,
    r#"a=b""#,
    "a:b=c",
    ":a=b",
    "_a=b",
    "1a=b",
    "a-b=c",
    "a==b",
    "a=!b",
    "a~=b",
    "a=~(b",
    "a=~b)",
    "a=~[b",
    r"a=~\d{2}",
    "a=~x{1001}",
    "a=~(?i)B",
    "a=~(?x)b",
    "a=~[[:alpha:]]+",
    "é=b",
    "a=é",
];

fn temporary_config(folder: &Path, stem: &str, text: &str) -> PathBuf {
    PathBuf::from(write(folder, &format!("{stem}.yml"), text))
}

/// One config per matcher text: amtool's check-config verdict and, for valid
/// ones, its `routes show` (which prints the parsed matchers) must equal ours.
#[test]
fn matcher_parsing_agrees_with_amtool_on_a_tricky_corpus() {
    if installed(AMTOOL).is_none() {
        return;
    }
    let folder = scratch("amtool-matchers");
    let mut mismatches = Vec::new();
    for (index, matcher_text) in MATCHER_CORPUS.iter().enumerate() {
        let yaml_string = serde_json::to_string(matcher_text).expect("json string");
        let text = format!(
            "route:\n  receiver: r\n  routes:\n    - receiver: r\n      matchers: [{yaml_string}]\nreceivers:\n  - name: r\n"
        );
        let path = temporary_config(&folder, &format!("matcher-{index}"), &text);
        let amtool = amtool_verdict(&path);
        let ours = our_verdict(&text);
        if amtool != ours {
            mismatches.push(format!("{matcher_text:?}: ours {ours}, amtool {amtool}"));
            continue;
        }
        if ours == "SUCCESS" {
            let config = config::load(&text).expect("valid");
            let ours = format!("Routing tree:\n{}\n", RoutingTree::new(&config).show());
            let output = Command::new(AMTOOL)
                .args(["config", "routes", "show"])
                .arg(format!("--config.file={}", path.display()))
                .output()
                .expect("amtool runs");
            let amtool = String::from_utf8_lossy(&output.stdout).to_string();
            if amtool != ours {
                mismatches.push(format!("{matcher_text:?}: ours\n{ours}amtool\n{amtool}"));
            }
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

/// Regex patterns whose Go and Rust readings could differ, each on its own
/// `continue` route, so that one `routes test` call tests them all.
const REGEX_CORPUS: [&str; 20] = [
    r"\d+",
    r"\D+",
    r"\w+",
    r"\W+",
    r"\s",
    r"\S+",
    r".*\bx\b.*",
    "[[:digit:]]+",
    "[[:^alpha:]]+",
    "(?i)abc",
    "(?s).+",
    ".+",
    "[^a]+",
    "[a-c]+",
    "x*?y",
    r"\pL+",
    r"\p{Greek}+",
    "[[]+",
    "a{",
    "[&~]+",
];

const REGEX_VALUES: [&str; 22] = [
    "42", "٤٢", "abc", "ABC", "AbC", "é", "x y", "a x b", "ax", "\t", "\u{a0}", "\u{b}", "\n",
    "a\nb", "αβγ", "[[", "a{", "&~", "yy", "xxy", "", "-",
];

#[test]
fn regex_matching_agrees_with_amtool() {
    if installed(AMTOOL).is_none() {
        return;
    }
    let folder = scratch("amtool-regexes");
    let mut text = String::from("route:\n  receiver: none\n  routes:\n");
    let mut receivers = String::from("receivers:\n  - name: none\n");
    for (index, pattern) in REGEX_CORPUS.iter().enumerate() {
        let matcher = mlslo::prometheus::alertmanager::matchers::quote_matcher("v", "=~", pattern)
            .expect("quotable");
        let yaml_string = serde_json::to_string(&matcher).expect("json string");
        text.push_str(&format!(
            "    - receiver: r{index}\n      matchers: [{yaml_string}]\n      continue: true\n"
        ));
        receivers.push_str(&format!("  - name: r{index}\n"));
    }
    text.push_str(&receivers);
    let path = temporary_config(&folder, "regexes", &text);
    assert_eq!(amtool_verdict(&path), "SUCCESS");
    let config = config::load(&text).expect("valid config");
    let tree = RoutingTree::new(&config);
    let mut mismatches = Vec::new();
    for value in REGEX_VALUES {
        let labels = label_set(&[("v", value), ("k", "x")]);
        let ours = tree.receivers(&labels).join(",");
        // amtool parses each argument with the classic matcher parser.
        let argument = format!(
            "v=\"{}\"",
            mlslo::prometheus::alertmanager::matchers::open_metrics_escape(value)
        );
        let output = Command::new(AMTOOL)
            .args(["config", "routes", "test"])
            .arg(format!("--config.file={}", path.display()))
            .args([argument.as_str(), "k=x"])
            .output()
            .expect("amtool runs");
        let amtool = String::from_utf8_lossy(&output.stdout).trim().to_string();
        if amtool != ours {
            mismatches.push(format!("{value:?}: ours {ours}, amtool {amtool}"));
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

/// Values that need escaping: `quote_matcher` output must read back, in
/// amtool, as exactly the value (printed by `routes show` and matched by
/// `routes test`).
#[test]
fn quoted_matchers_are_read_back_by_amtool() {
    if installed(AMTOOL).is_none() {
        return;
    }
    let folder = scratch("amtool-quoted");
    let values = [
        "plain",
        "with \"quotes\"",
        "back\\slash",
        "trailing\\",
        "new\nline",
        "a,b",
        "{braces}",
        "x=y",
        "tab\there",
        "\\n",
        "ünï",
        "'single'",
        "",
    ];
    for (index, value) in values.iter().enumerate() {
        let matcher = mlslo::prometheus::alertmanager::matchers::quote_matcher("label", "=", value)
            .expect("quotable");
        let yaml_string = serde_json::to_string(&matcher).expect("json string");
        let text = format!(
            "route:\n  receiver: none\n  routes:\n    - receiver: hit\n      matchers: [{yaml_string}]\nreceivers:\n  - name: none\n  - name: hit\n"
        );
        let path = temporary_config(&folder, &format!("quoted-{index}"), &text);
        assert_eq!(amtool_verdict(&path), "SUCCESS", "{value:?}");
        let output = Command::new(AMTOOL)
            .args(["config", "routes", "show"])
            .arg(format!("--config.file={}", path.display()))
            .output()
            .expect("amtool runs");
        let shown = String::from_utf8_lossy(&output.stdout).to_string();
        assert!(
            shown.contains(&format!("{{{matcher}}}  receiver: hit")),
            "{value:?}: {shown}"
        );
        let argument = format!(
            "label=\"{}\"",
            mlslo::prometheus::alertmanager::matchers::open_metrics_escape(value)
        );
        let output = Command::new(AMTOOL)
            .args(["config", "routes", "test"])
            .arg(format!("--config.file={}", path.display()))
            .args([argument.as_str(), "other=x"])
            .output()
            .expect("amtool runs");
        assert_eq!(
            String::from_utf8_lossy(&output.stdout).trim(),
            "hit",
            "{value:?}"
        );
    }
}

/// Patterns where Go's `regexp/syntax` accepts, rejects, or words its error
/// differently from the regex crate; check-config must agree with amtool.
const REGEX_ERROR_CORPUS: [&str; 40] = [
    "a**",
    "a++",
    "a*?*",
    "(?P<n>a)",
    "(?<n>a)",
    r"\Q.*\E",
    "x{2,1}",
    r"\8",
    r"\1",
    r"\12",
    "[z-a]",
    r"\C",
    "(?U)a+",
    r"\z",
    r"\A",
    "a{,3}",
    r"\pN",
    r"[\d-z]",
    "(*)",
    "a|*",
    r"\x{41}",
    r"\x4",
    "[[:foo:]]",
    r"\p{Foo}",
    "a{1000}",
    "a{1001}",
    "(?i:a)",
    "(?-i)a",
    "(?m)^a$",
    "a{2}{3}",
    r"\b",
    "[a&&b]",
    r"\e",
    r"\/",
    r"\_",
    r"\<",
    "[]a]",
    "[^]a]",
    "[a-]",
    "(?x)a",
];

#[test]
fn regex_errors_agree_with_amtool() {
    if installed(AMTOOL).is_none() {
        return;
    }
    let folder = scratch("amtool-regex-errors");
    let mut mismatches = Vec::new();
    for (index, pattern) in REGEX_ERROR_CORPUS.iter().enumerate() {
        let matcher = format!(
            "x=~\"{}\"",
            mlslo::prometheus::alertmanager::matchers::open_metrics_escape(pattern)
        );
        let yaml_string = serde_json::to_string(&matcher).expect("json string");
        let text = format!(
            "route:\n  receiver: r\n  routes:\n    - receiver: r\n      matchers: [{yaml_string}]\nreceivers:\n  - name: r\n"
        );
        let path = temporary_config(&folder, &format!("regex-error-{index}"), &text);
        let amtool = amtool_verdict(&path);
        let ours = our_verdict(&text);
        if amtool != ours {
            mismatches.push(format!("{pattern:?}: ours {ours}, amtool {amtool}"));
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

#[test]
fn an_inhibited_alert_still_inhibits_others() {
    // As in Go, the source cache holds every active alert, muted or not.
    let config = r#"
route:
  receiver: r
inhibit_rules:
  - source_matchers: ['level="1"']
    target_matchers: ['level="2"']
  - source_matchers: ['level="2"']
    target_matchers: ['level="3"']
receivers:
  - name: r
"#;
    let first = label_set(&[("level", "1")]);
    let second = label_set(&[("level", "2")]);
    let third = label_set(&[("level", "3")]);
    let alerts = [(&first, true), (&second, true), (&third, true)];
    assert_eq!(mutes(config, &second, &alerts), Some((0, vec![0])));
    assert_eq!(mutes(config, &third, &alerts), Some((1, vec![1])));
}

#[test]
fn time_intervals_mute_routes_at_the_evaluation_time() {
    let config = config::load(&read(&data("alertmanager/check").join("ti-all-ok.yml")))
        .expect("valid config");
    let alerts = parse_alerts(r#"[{"labels": {"alertname": "X"}}]"#).expect("valid alerts");
    let at = |time: &str| {
        let now = parse_rfc3339_milliseconds(time).expect("valid time");
        route_alerts(&config, &alerts, now)[0].routes[0].muted_by_time_intervals
    };
    // `w` (UTC): weekends, days 1-7/15/last 7, Jan-Mar and Dec, 2020-2030.
    // `o` has no location, so it is UTC too: Monday to Friday.
    assert_eq!(
        at("2024-03-02T12:00:00Z"),
        Some(true),
        "Saturday 2 March: inside w"
    );
    assert_eq!(
        at("2024-03-04T12:00:00Z"),
        Some(false),
        "Monday 4 March: outside w, inside o"
    );
    assert_eq!(
        at("2024-03-09T12:00:00Z"),
        Some(true),
        "Saturday 9 March: outside w and o"
    );
    assert_eq!(at("2024-06-03T12:00:00Z"), Some(false), "Monday in June");
    let berlin = config::load(&read(&data("alertmanager/routing").join("ml-platform.yml")))
        .expect("valid config");
    let page = parse_alerts(r#"[{"labels": {"team": "ml-platform", "severity": "page"}}]"#)
        .expect("valid");
    let routed = route_alerts(&berlin, &page, 0);
    // maintenance-window has no location (UTC); business-hours is Europe/Berlin,
    // where the Unix epoch is 01:00 on a Thursday: outside its active hours.
    assert_eq!(routed[0].routes[0].muted_by_time_intervals, Some(false));
    assert_eq!(routed[0].routes[1].muted_by_time_intervals, Some(true));
}

mod never_panics {
    use super::*;
    use proptest::prelude::*;

    const FRAGMENTS: [&str; 24] = [
        "route:\n",
        "  receiver: r\n",
        "  routes:\n",
        "    - matchers: ['a=~\"",
        "(",
        "[",
        "\\",
        "\"']\n",
        "      continue: yes\n",
        "receivers:\n",
        "  - name: r\n",
        "inhibit_rules:\n",
        "  - equal: [",
        "]\n",
        "time_intervals:\n",
        "  - name: w\n    time_intervals:\n      - weekdays: ['",
        "monday:",
        "']\n",
        "      times: [{start_time: '",
        "24:00",
        "'}]\n",
        "&a ",
        "*a\n",
        "<<: {}\n",
    ];

    proptest! {
        #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

        #[test]
        fn matchers_and_regexes_never_panic(text in "\\PC{0,40}") {
            let _ = mlslo::prometheus::alertmanager::matchers::parse_matchers(&text);
            let _ = mlslo::prometheus::alertmanager::matchers::compile_anchored_regex(&text);
            let _ = parse_rfc3339_milliseconds(&text);
        }

        #[test]
        fn quoted_matchers_read_alike_in_both_parsers(value in "(\\PC|[\\n\\t\\\\\"{},=~!])*", operator in prop_oneof![Just("="), Just("!=")]) {
            let text = mlslo::prometheus::alertmanager::matchers::quote_matcher("label_name", operator, &value).expect("quotable");
            prop_assert!(mlslo::prometheus::alertmanager::matchers::parsers_agree(&text), "{}", text);
            let parsed = mlslo::prometheus::alertmanager::matchers::parse_matchers(&text).expect("classic parse");
            prop_assert_eq!(&parsed[0].value, &value);
        }

        #[test]
        fn configs_of_arbitrary_fragments_never_panic(picks in proptest::collection::vec(0..FRAGMENTS.len(), 0..30)) {
            let text: String = picks.iter().map(|pick| FRAGMENTS[*pick]).collect();
            if let Ok(config) = config::load(&text) {
                let alerts = parse_alerts(r#"[{"labels": {"a": "b"}}]"#).expect("valid alerts");
                let _ = route_alerts(&config, &alerts, 0);
                let _ = RoutingTree::new(&config).show();
            }
        }

        #[test]
        fn rfc3339_parses_what_it_should(seconds in 0i64..4_102_444_800, offset_minutes in -900i64..900) {
            // Round trip through a formatted date-time with an offset.
            let shifted = seconds + offset_minutes * 60;
            let days = shifted.div_euclid(86_400);
            let (year, month, day) = civil(days);
            let second_of_day = shifted.rem_euclid(86_400);
            let sign = if offset_minutes < 0 { '-' } else { '+' };
            let text = format!(
                "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.250{sign}{:02}:{:02}",
                second_of_day / 3600, second_of_day / 60 % 60, second_of_day % 60,
                offset_minutes.abs() / 60, offset_minutes.abs() % 60,
            );
            prop_assert_eq!(parse_rfc3339_milliseconds(&text), Some(seconds * 1000 + 250));
        }
    }

    /// Days since 1970-01-01 to a civil date, by walking years and months.
    fn civil(mut days: i64) -> (i64, i64, i64) {
        let mut year = 1970;
        loop {
            let length = if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 {
                366
            } else {
                365
            };
            if days < length {
                break;
            }
            days -= length;
            year += 1;
        }
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
        let lengths = [
            31,
            if leap { 29 } else { 28 },
            31,
            30,
            31,
            30,
            31,
            31,
            30,
            31,
            30,
            31,
        ];
        let mut month = 1;
        for length in lengths {
            if days < length {
                break;
            }
            days -= length;
            month += 1;
        }
        (year, month, days + 1)
    }
}

fn random_route(random: &mut Lcg, depth: usize, indent: &str, receivers: &mut usize) -> String {
    const MATCHERS: [&str; 10] = [
        "a=\"x\"",
        "a!=\"x\"",
        "b=~\"x|y\"",
        "b!~\"y\"",
        "c=\"\"",
        "c!=\"\"",
        "a=~\"x.*\"",
        "{b=\"z\",c=\"x\"}",
        "c=y",
        "a!~\"\"",
    ];
    let mut text = String::new();
    let count = random.below(3);
    if count > 0 {
        let picked: Vec<String> = (0..count)
            .map(|_| serde_json::to_string(MATCHERS[random.below(MATCHERS.len())]).expect("json"))
            .collect();
        text.push_str(&format!("{indent}matchers: [{}]\n", picked.join(", ")));
    }
    match random.below(4) {
        0 => text.push_str(&format!("{indent}match: {{a: y}}\n")),
        1 => text.push_str(&format!("{indent}match_re: {{c: 'x|z'}}\n")),
        _ => {}
    }
    if random.below(3) == 0 {
        text.push_str(&format!("{indent}continue: true\n"));
    }
    if random.below(3) > 0 {
        *receivers += 1;
        text.push_str(&format!("{indent}receiver: r{}\n", *receivers % 6));
    }
    if depth < 3 {
        let children = random.below(4);
        if children > 0 {
            text.push_str(&format!("{indent}routes:\n"));
            for _ in 0..children {
                let child = random_route(random, depth + 1, &format!("{indent}    "), receivers);
                text.push_str(&format!("{indent}  - {}", child.trim_start()));
            }
        }
    }
    if text.is_empty() {
        text.push_str(&format!("{indent}group_by: [a]\n"));
    }
    text
}

/// Random trees and label sets: receivers and `routes show` against amtool.
#[test]
fn random_trees_route_like_amtool() {
    if installed(AMTOOL).is_none() {
        return;
    }
    let folder = scratch("amtool-random-trees");
    let mut random = Lcg(20_240_501);
    let mut mismatches = Vec::new();
    let mut label_sets_checked = 0;
    for tree_index in 0..15 {
        let mut receivers = 0;
        let mut routes = String::new();
        for _ in 0..1 + random.below(4) {
            let child = random_route(&mut random, 1, "      ", &mut receivers);
            routes.push_str(&format!("    - {}", child.trim_start()));
        }
        let text = format!(
            "route:\n  receiver: root\n  routes:\n{routes}receivers:\n  - name: root\n{}",
            (0..6)
                .map(|index| format!("  - name: r{index}\n"))
                .collect::<String>()
        );
        let path = temporary_config(&folder, &format!("random-{tree_index}"), &text);
        let verdict = amtool_verdict(&path);
        assert_eq!(verdict, our_verdict(&text), "{text}");
        if verdict != "SUCCESS" {
            continue;
        }
        let config = config::load(&text).expect("valid config");
        let tree = RoutingTree::new(&config);
        let output = Command::new(AMTOOL)
            .args(["config", "routes", "show"])
            .arg(format!("--config.file={}", path.display()))
            .output()
            .expect("amtool runs");
        let shown = String::from_utf8_lossy(&output.stdout).to_string();
        if shown != format!("Routing tree:\n{}\n", tree.show()) {
            mismatches.push(format!("tree {tree_index} shows differently:\n{text}"));
        }
        for _ in 0..20 {
            let mut pairs = Vec::new();
            for name in ["a", "b", "c"] {
                let value = ["", "x", "y", "z"][random.below(4)];
                if !value.is_empty() {
                    pairs.push((name, value));
                }
            }
            let labels = label_set(&pairs);
            let ours = tree.receivers(&labels).join(",");
            let output = Command::new(AMTOOL)
                .args(["config", "routes", "test"])
                .arg(format!("--config.file={}", path.display()))
                .args(pairs.iter().map(|(name, value)| format!("{name}={value}")))
                .output()
                .expect("amtool runs");
            let amtool = String::from_utf8_lossy(&output.stdout).trim().to_string();
            if amtool != ours {
                mismatches.push(format!(
                    "tree {tree_index} {pairs:?}: ours {ours}, amtool {amtool}\n{text}"
                ));
            }
            label_sets_checked += 1;
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
    assert!(
        label_sets_checked >= 200,
        "only {label_sets_checked} label sets checked"
    );
}

/// A local webhook receiver: every notification is kept (see `FakeServer::requests`).
fn webhook_receiver() -> FakeServer {
    FakeServer::start(|_| (200, "text/plain", String::new()))
}

/// The `receivers:` entries of `names`, each posting to its own path of the
/// webhook receiver on `port`.
fn webhook_receivers_yaml(port: u16, names: &[&str]) -> String {
    names
        .iter()
        .map(|name| {
            format!(
                "  - name: {name}\n    webhook_configs:\n      - url: 'http://127.0.0.1:{port}/{name}'\n"
            )
        })
        .collect()
}

/// `GET /api/v2/alerts` once `expected` alerts are listed and two reads agree
/// (the inhibitor's cache fills asynchronously).
fn stable_alert_list(port: u16, expected: usize) -> Vec<serde_json::Value> {
    let mut previous = String::new();
    for _ in 0..50 {
        std::thread::sleep(std::time::Duration::from_millis(200));
        let Ok((200, body)) = http(port, "GET", "/api/v2/alerts", "") else {
            continue;
        };
        let parsed: Vec<serde_json::Value> = serde_json::from_str(&body).expect("alerts JSON");
        let mut summary: Vec<String> = parsed
            .iter()
            // Which source Go reports varies between reads (its cache is a
            // map), so stability is judged on the state and the count only.
            .map(|alert| {
                let sources = alert["status"]["inhibitedBy"]
                    .as_array()
                    .map(Vec::len)
                    .unwrap_or(0);
                format!(
                    "{}{}{sources}",
                    alert["fingerprint"], alert["status"]["state"]
                )
            })
            .collect();
        summary.sort();
        let summary = summary.join(";");
        if summary == previous && parsed.len() == expected {
            return parsed;
        }
        previous = summary;
    }
    panic!("alertmanager did not list {expected} alerts stably");
}

/// Whether Alertmanager's `inhibitedBy` for one alert agrees with ours: both
/// empty, or its one source is among our qualifying sources.
fn inhibition_agrees(
    listed: &serde_json::Value,
    ours: &mlslo::prometheus::alertmanager::AlertRouting,
    all: &[mlslo::prometheus::alertmanager::AlertRouting],
) -> Result<(), String> {
    let theirs: Vec<String> = listed["status"]["inhibitedBy"]
        .as_array()
        .map(|fingerprints| {
            fingerprints
                .iter()
                .filter_map(|fingerprint| fingerprint.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    let candidates: Vec<String> = ours
        .inhibited_by
        .as_ref()
        .map(|inhibited| {
            inhibited
                .candidates
                .iter()
                .map(|index| all[*index].fingerprint.clone())
                .collect()
        })
        .unwrap_or_default();
    let agrees = match theirs.as_slice() {
        [] => candidates.is_empty(),
        [one] => candidates.contains(one),
        _ => false,
    };
    if agrees {
        Ok(())
    } else {
        Err(format!(
            "alert {} {:?}: inhibited by ours {candidates:?}, alertmanager {theirs:?}",
            ours.index, ours.labels
        ))
    }
}

#[test]
fn a_real_alertmanager_agrees_on_receivers_inhibition_and_group_keys() {
    if installed(ALERTMANAGER).is_none() {
        return;
    }
    let webhooks = webhook_receiver();
    let hook_port = webhooks.port;
    let receivers = webhook_receivers_yaml(hook_port, &["default", "pager", "tickets", "ml"]);
    let config_text = format!(
        r#"route:
  receiver: default
  group_by: [alertname, service]
  # Not 0s: a group flushed at once can notify before the inhibitor has seen
  # a source posted in the same request (seen under load).
  group_wait: 2s
  group_interval: 1m
  routes:
    - matchers: ['severity="page"']
      receiver: pager
      group_by: [slo]
      continue: true
    - matchers: ['severity=~"page|ticket"']
      receiver: tickets
      group_by: ['...']
    - match_re: {{team: 'ml-.*'}}
      receiver: ml
inhibit_rules:
  - source_matchers: ['severity="page"']
    target_matchers: ['severity="ticket"']
    equal: [slo, service]
  - source_matchers: ['alertname="ServingDown"']
    target_matchers: ['kind=~"accuracy|drift"']
    equal: [service]
  - source_matchers: ['severity=~"critical|ticket"']
    target_matchers: ['severity=~"critical|warning"']
    equal: [service]
receivers:
{receivers}"#
    );
    let past_start = "2020-01-01T00:00:00Z";
    let past_end = "2020-01-01T01:00:00Z";
    let alerts_json = format!(
        r#"[
      {{"labels": {{"alertname": "Burn", "severity": "page", "slo": "a", "service": "s1"}}}},
      {{"labels": {{"alertname": "Burn", "severity": "ticket", "slo": "a", "service": "s1"}}}},
      {{"labels": {{"alertname": "Burn", "severity": "ticket", "slo": "b", "service": "s1"}}}},
      {{"labels": {{"alertname": "ServingDown", "service": "s2"}}}},
      {{"labels": {{"alertname": "Drift", "kind": "drift", "service": "s2", "team": "ml-x"}}}},
      {{"labels": {{"alertname": "Acc", "kind": "accuracy", "service": "s3", "team": "ml-y"}}}},
      {{"labels": {{"alertname": "C1", "severity": "critical", "service": "s4"}}}},
      {{"labels": {{"alertname": "C2", "severity": "critical", "service": "s4"}}}},
      {{"labels": {{"alertname": "W", "severity": "warning", "service": "s4"}}}},
      {{"labels": {{"alertname": "T", "severity": "ticket", "service": "s5"}}}},
      {{"labels": {{"alertname": "W2", "severity": "warning", "service": "s5"}}}},
      {{"labels": {{"alertname": "Old", "severity": "page", "slo": "c", "service": "s6"}}, "startsAt": "{past_start}", "endsAt": "{past_end}"}},
      {{"labels": {{"alertname": "Burn", "severity": "ticket", "slo": "c", "service": "s6"}}}},
      {{"labels": {{"alertname": "Burn2", "severity": "page", "service": "s7"}}}},
      {{"labels": {{"alertname": "T7", "severity": "ticket", "service": "s7", "slo": ""}}}},
      {{"labels": {{"alertname": "Plain", "severity": "ticket", "version": "1.10", "a1": "x", "a": "y"}}}}
    ]"#
    );
    let (mismatches, n_compared) =
        compare_with_real_alertmanager("oracle", &config_text, &alerts_json, 15, &webhooks);
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
    assert!(
        n_compared >= 12,
        "too few notifications compared: {n_compared}"
    );
}

/// Posts `alerts_json` to a real Alertmanager running `config_text` (whose
/// receivers are webhooks into `webhooks`) and compares its receivers,
/// inhibition and notifications with `route_alerts`. Returns the mismatches
/// and how many notifications were compared.
fn compare_with_real_alertmanager(
    name: &str,
    config_text: &str,
    alerts_json: &str,
    n_listed: usize,
    webhooks: &FakeServer,
) -> (Vec<String>, usize) {
    let config = config::load(config_text).expect("valid config");
    let folder = scratch(&format!("alertmanager-{name}"));
    let config_path = temporary_config(&folder, name, config_text);
    let alertmanager = start_alertmanager(&folder, &config_path, name);

    let posted = http(alertmanager.port, "POST", "/api/v2/alerts", alerts_json);
    assert_eq!(
        posted.as_ref().ok().map(|(status, _)| *status),
        Some(200),
        "{posted:?}"
    );
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|duration| duration.as_millis() as i64)
        .expect("clock after 1970");
    let ours = route_alerts(
        &config,
        &parse_alerts(alerts_json).expect("valid alerts"),
        now,
    );

    let listed = stable_alert_list(alertmanager.port, n_listed);
    let mut mismatches = Vec::new();
    for alert in &ours {
        if alert.status != "firing" {
            continue;
        }
        let Some(theirs) = listed
            .iter()
            .find(|listed| listed["fingerprint"] == alert.fingerprint.as_str())
        else {
            mismatches.push(format!(
                "alert {} ({}) not listed by alertmanager",
                alert.index, alert.fingerprint
            ));
            continue;
        };
        let their_receivers: Vec<String> = theirs["receivers"]
            .as_array()
            .map(|receivers| {
                receivers
                    .iter()
                    .filter_map(|receiver| receiver["name"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        if their_receivers != alert.receivers {
            mismatches.push(format!(
                "alert {}: receivers ours {:?}, alertmanager {their_receivers:?}",
                alert.index, alert.receivers
            ));
        }
        if let Err(mismatch) = inhibition_agrees(theirs, alert, &ours) {
            mismatches.push(mismatch);
        }
    }

    // Notifications: every (receiver, group key, alert) Alertmanager sends is
    // one of ours, and every route of every firing, uninhibited alert is sent.
    let mut expected: std::collections::BTreeSet<(String, String, String)> =
        std::collections::BTreeSet::new();
    for alert in &ours {
        if alert.status == "firing" && alert.inhibited_by.is_none() {
            for route in &alert.routes {
                expected.insert((
                    route.receiver.clone(),
                    route.group_key.clone(),
                    alert.fingerprint.clone(),
                ));
            }
        }
    }
    let mut sent = std::collections::BTreeSet::new();
    for _ in 0..40 {
        std::thread::sleep(std::time::Duration::from_millis(250));
        sent.clear();
        for request in webhooks.requests() {
            let message: serde_json::Value =
                serde_json::from_str(&request.body).expect("webhook JSON");
            for alert in message["alerts"].as_array().cloned().unwrap_or_default() {
                if alert["status"] == "firing" {
                    sent.insert((
                        message["receiver"].as_str().unwrap_or("").to_string(),
                        message["groupKey"].as_str().unwrap_or("").to_string(),
                        alert["fingerprint"].as_str().unwrap_or("").to_string(),
                    ));
                }
            }
        }
        if expected.is_subset(&sent) {
            break;
        }
    }
    for missing in expected.difference(&sent) {
        mismatches.push(format!("not notified by alertmanager: {missing:?}"));
    }
    for extra in sent.difference(&expected) {
        mismatches.push(format!(
            "notified by alertmanager but not expected: {extra:?}"
        ));
    }
    (mismatches, expected.len())
}

/// Random alerts under random inhibit rules, against a real Alertmanager.
#[test]
fn random_inhibitions_agree_with_a_real_alertmanager() {
    if installed(ALERTMANAGER).is_none() {
        return;
    }
    let folder = scratch("alertmanager-random-inhibitions");
    const SIDES: [&str; 8] = [
        r#"a="x""#,
        r#"a=~"x|y""#,
        r#"b!="x""#,
        r#"b="y""#,
        r#"c=~".+""#,
        r#"a!~"z""#,
        r#"c="""#,
        r#"b=~"x|z""#,
    ];
    for seed in [77, 2024, 31337, 5] {
        let mut random = Lcg(seed);
        let mut rules = String::new();
        for _ in 0..5 {
            let side = |random: &mut Lcg| {
                let count = 1 + random.below(2);
                (0..count)
                    .map(|_| serde_json::to_string(SIDES[random.below(SIDES.len())]).expect("json"))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let source = side(&mut random);
            let target = side(&mut random);
            let equal: Vec<&str> = ["a", "b", "c"]
                .into_iter()
                .filter(|_| random.below(2) == 0)
                .collect();
            rules.push_str(&format!(
                "  - source_matchers: [{source}]\n    target_matchers: [{target}]\n    equal: [{}]\n",
                equal.join(", ")
            ));
        }
        let config_text = format!(
            "route:\n  receiver: r\n  group_wait: 1h\ninhibit_rules:\n{rules}receivers:\n  - name: r\n"
        );
        let config = config::load(&config_text).expect("valid config");
        let mut alerts: Vec<BTreeMap<String, String>> = Vec::new();
        for id in 0..40 {
            let mut labels = BTreeMap::new();
            labels.insert("id".to_string(), id.to_string());
            for name in ["a", "b", "c"] {
                let value = ["", "x", "y", "z"][random.below(4)];
                if !value.is_empty() {
                    labels.insert(name.to_string(), value.to_string());
                }
            }
            alerts.push(labels);
        }
        let alerts_json = serde_json::to_string(
            &alerts
                .iter()
                .map(|labels| serde_json::json!({ "labels": labels }))
                .collect::<Vec<_>>(),
        )
        .expect("json");
        let config_path =
            temporary_config(&folder, &format!("random-inhibition-{seed}"), &config_text);
        let alertmanager =
            start_alertmanager(&folder, &config_path, &format!("random-inhibition-{seed}"));
        let posted = http(alertmanager.port, "POST", "/api/v2/alerts", &alerts_json);
        assert_eq!(
            posted.as_ref().ok().map(|(status, _)| *status),
            Some(200),
            "{posted:?}"
        );
        let ours = route_alerts(
            &config,
            &parse_alerts(&alerts_json).expect("valid alerts"),
            0,
        );
        let listed = stable_alert_list(alertmanager.port, alerts.len());
        let mut mismatches = Vec::new();
        let mut inhibited = 0;
        for alert in &ours {
            let theirs = listed
                .iter()
                .find(|listed| listed["fingerprint"] == alert.fingerprint.as_str())
                .expect("every alert is listed");
            if let Err(mismatch) = inhibition_agrees(theirs, alert, &ours) {
                mismatches.push(mismatch);
            }
            inhibited += usize::from(alert.inhibited_by.is_some());
        }
        assert!(
            mismatches.is_empty(),
            "{config_text}\n{}",
            mismatches.join("\n")
        );
        assert!(
            inhibited >= 5 && inhibited < ours.len(),
            "uninformative draw: {inhibited} of {} inhibited",
            ours.len()
        );
    }
}

/// The generated `alertmanager.yml` and the README's example alerts against a
/// real Alertmanager 0.25: the route tree and the generated inhibition as
/// written, with each receiver swapped for a local webhook (so nothing leaves
/// 127.0.0.1), `group_wait` cut to 2s and `startsAt` dropped (timing only:
/// Alertmanager flushes a group at once when its alert started more than
/// `group_wait` ago, which can be before the inhibitor has seen a source
/// posted in the same request).
#[test]
fn a_real_alertmanager_routes_and_inhibits_the_example_alerts_like_mlslo_routes() {
    if installed(ALERTMANAGER).is_none() {
        return;
    }
    let generated = std::fs::read_to_string("generated/alertmanager/alertmanager.yml")
        .expect("generated configuration");
    let (routing_part, receivers_part) = generated
        .split_once("\nreceivers:\n")
        .expect("a top-level receivers list");
    // The maintenance windows the routes name follow the receivers. Both sides
    // evaluate them at the wall clock, so each is redefined as a window that never
    // comes (the year 1999): the routes keep naming them, and the count below holds
    // on any day, also inside the example's Sunday window.
    let (receivers_part, time_intervals) = match receivers_part.split_once("\ntime_intervals:\n") {
        Some((receivers_part, intervals)) => {
            let never: String = intervals
                .lines()
                .filter_map(|line| line.strip_prefix("- name: "))
                .map(|name| format!("- name: {name}\n  time_intervals:\n  - years: ['1999']\n"))
                .collect();
            (receivers_part, format!("time_intervals:\n{never}"))
        }
        None => (receivers_part, String::new()),
    };
    let names: Vec<&str> = receivers_part
        .lines()
        .filter_map(|line| line.strip_prefix("- name: "))
        .collect();
    assert!(names.len() >= 6, "{names:?}");
    let webhooks = webhook_receiver();
    let hook_port = webhooks.port;
    let receivers: String = names
        .iter()
        .map(|name| {
            format!("- name: {name}\n  webhook_configs:\n  - url: 'http://127.0.0.1:{hook_port}/{name}'\n")
        })
        .collect();
    let config_text = format!(
        "{}\nreceivers:\n{receivers}{time_intervals}",
        routing_part.replacen("group_wait: 30s", "group_wait: 2s", 1)
    );
    let mut alerts: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string("rules/examples/firing-alerts.json").expect("example alerts"),
    )
    .expect("alerts JSON");
    for alert in alerts.as_array_mut().expect("a list") {
        alert
            .as_object_mut()
            .expect("an alert object")
            .remove("startsAt");
    }
    let alerts_json = alerts.to_string();
    let (mismatches, n_compared) =
        compare_with_real_alertmanager("generated", &config_text, &alerts_json, 8, &webhooks);
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
    // Four uninhibited alerts: one route for the data ticket, two for each page
    // (the availability page, the GPU forecast and the latency page it no longer
    // mutes).
    assert_eq!(n_compared, 7);
}

/// One notification as a label of its alerts: `receiver: firing [..] resolved [..]`,
/// the alerts named by `alertname/slo`, sorted.
fn notification_summary(receiver: &str, firing: &[String], resolved: &[String]) -> String {
    let sorted = |names: &[String]| {
        let mut names = names.to_vec();
        names.sort();
        names.join(",")
    };
    format!(
        "{receiver}: firing [{}] resolved [{}]",
        sorted(firing),
        sorted(resolved)
    )
}

/// The notification replay of the backtest against a real Alertmanager 0.25 fed
/// the same alert timeline, in seconds instead of minutes: a ticket muted by its
/// page when it starts is notified at the first flush after the page resolves,
/// a repeat follows `repeat_interval`, resolved alerts are sent to webhooks, and
/// all of a group's alerts resolving sends one last notification.
#[test]
fn a_real_alertmanager_sends_the_notifications_the_replay_counts() {
    use mlslo::prometheus::alertmanager::dispatch::{replay, AlertTimeline};
    if installed(ALERTMANAGER).is_none() {
        return;
    }
    let webhooks = webhook_receiver();
    let hook_port = webhooks.port;
    let receivers = webhook_receivers_yaml(hook_port, &["default", "pager", "tickets"]);
    // Every event is two seconds from any flush of its group, so that the real
    // server's timers and this test's sleeps cannot reorder them.
    let config_text = format!(
        r#"route:
  receiver: default
  group_by: [alertname, slo]
  group_wait: 1s
  group_interval: 4s
  repeat_interval: 10s
  routes:
    - matchers: ['severity="page"']
      receiver: pager
    - matchers: ['severity="ticket"']
      receiver: tickets
inhibit_rules:
  - source_matchers: ['severity="page"']
    target_matchers: ['severity="ticket"']
    equal: [slo]
receivers:
{receivers}"#
    );
    let labels = |alertname: &str, severity: &str, slo: &str| -> LabelSet {
        [
            ("alertname", alertname),
            ("severity", severity),
            ("slo", slo),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    };
    // (labels, start ms, end ms) from the first post.
    let timeline = [
        (labels("Burn", "page", "a"), 0, 7_000),
        (labels("BurnTicket", "ticket", "a"), 0, 23_000),
        (labels("Burn", "page", "b"), 2_500, 13_500),
    ];
    let end_ms = 27_000;
    let alerts: Vec<AlertTimeline> = timeline
        .iter()
        .map(|(labels, start, end)| AlertTimeline {
            labels: labels.clone(),
            firing: vec![(*start, Some(*end))],
        })
        .collect();
    let config = config::load(&config_text).expect("valid config");
    let name = |index: usize| {
        let labels = &timeline[index].0;
        format!("{}/{}", labels["alertname"], labels["slo"])
    };
    let ours: Vec<String> = replay(&config, &alerts, end_ms)
        .expect("a short replay")
        .iter()
        .map(|n| {
            let firing: Vec<String> = n.firing.iter().map(|&i| name(i)).collect();
            let resolved: Vec<String> = n.resolved.iter().map(|&i| name(i)).collect();
            notification_summary(&n.receiver, &firing, &resolved)
        })
        .collect();

    let folder = scratch("alertmanager-notifications");
    let config_path = temporary_config(&folder, "notifications", &config_text);
    let alertmanager = start_alertmanager(&folder, &config_path, "notifications");
    let started = std::time::Instant::now();
    let start_wall = std::time::SystemTime::now();
    let rfc3339 = |offset_ms: i64| {
        let at = start_wall + std::time::Duration::from_millis(offset_ms as u64);
        let ms = at
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock after 1970")
            .as_millis() as i64;
        let seconds = ms.div_euclid(1000);
        let (year, month, day) = mlslo::base::calendar::civil_from_days(seconds.div_euclid(86_400));
        let rest = seconds.rem_euclid(86_400);
        format!(
            "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
            rest / 3600,
            rest % 3600 / 60,
            rest % 60,
            ms.rem_euclid(1000)
        )
    };
    // Posts at each start, and at each end the alert with `endsAt` now, as
    // Prometheus resolves an alert.
    let mut events: Vec<(i64, usize, bool)> = timeline
        .iter()
        .enumerate()
        .flat_map(|(index, (_, start, end))| [(*start, index, true), (*end, index, false)])
        .collect();
    events.sort();
    for (at_ms, index, firing) in events {
        let due = std::time::Duration::from_millis(at_ms as u64);
        if let Some(wait) = due.checked_sub(started.elapsed()) {
            std::thread::sleep(wait);
        }
        let labels = serde_json::to_string(&timeline[index].0).expect("labels JSON");
        let starts_at = rfc3339(timeline[index].1);
        let body = if firing {
            format!(r#"[{{"labels": {labels}, "startsAt": "{starts_at}"}}]"#)
        } else {
            format!(
                r#"[{{"labels": {labels}, "startsAt": "{starts_at}", "endsAt": "{}"}}]"#,
                rfc3339(at_ms)
            )
        };
        let posted = http(alertmanager.port, "POST", "/api/v2/alerts", &body);
        assert_eq!(
            posted.as_ref().ok().map(|(status, _)| *status),
            Some(200),
            "{posted:?}"
        );
    }
    let until = std::time::Duration::from_millis(end_ms as u64);
    if let Some(wait) = until.checked_sub(started.elapsed()) {
        std::thread::sleep(wait);
    }
    let theirs: Vec<String> = webhooks
        .requests()
        .iter()
        .map(|request| {
            let message: serde_json::Value =
                serde_json::from_str(&request.body).expect("webhook JSON");
            let of_status = |status: &str| -> Vec<String> {
                message["alerts"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter(|alert| alert["status"] == status)
                    .map(|alert| {
                        format!(
                            "{}/{}",
                            alert["labels"]["alertname"].as_str().unwrap_or(""),
                            alert["labels"]["slo"].as_str().unwrap_or("")
                        )
                    })
                    .collect()
            };
            notification_summary(
                message["receiver"].as_str().unwrap_or(""),
                &of_status("firing"),
                &of_status("resolved"),
            )
        })
        .collect();
    // Per receiver in time order; receivers interleave as the server's goroutines do.
    let per_receiver = |all: &[String]| -> BTreeMap<String, Vec<String>> {
        let mut map: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for summary in all {
            let receiver = summary.split(':').next().unwrap_or("").to_string();
            map.entry(receiver).or_default().push(summary.clone());
        }
        map
    };
    assert_eq!(per_receiver(&ours), per_receiver(&theirs));
    // The replay's own account, worked out by hand: the pager gets each page 1s
    // after it starts and each resolution at its group's next flush; the ticket,
    // muted by page a until 7s, at 9s, again at 21s (10s after 9s, at a flush),
    // and its resolution at 25s.
    assert_eq!(
        ours,
        [
            "pager: firing [Burn/a] resolved []",
            "pager: firing [Burn/b] resolved []",
            "pager: firing [] resolved [Burn/a]",
            "tickets: firing [BurnTicket/a] resolved []",
            "pager: firing [] resolved [Burn/b]",
            "tickets: firing [BurnTicket/a] resolved []",
            "tickets: firing [] resolved [BurnTicket/a]",
        ]
    );
}
