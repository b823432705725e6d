//! `mlslo routes` end to end: the bundled example alerts against the committed
//! `generated/alertmanager/alertmanager.yml`, the JSON form, ad-hoc `--alert`
//! label sets, `--at` with time intervals, and the exit codes (0 routed, 1 an
//! invalid configuration or alert, 2 a usage or I/O problem).

use crate::support::{mlslo, mlslo_command, repository, scratch, stderr, stdout, write};

const EXAMPLE_ALERTS: &str = "rules/examples/firing-alerts.json";

fn json_report(arguments: &[&str]) -> serde_json::Value {
    let output = mlslo(arguments);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    serde_json::from_slice(&output.stdout).expect("routes --format json prints JSON")
}

/// The example alerts' own time, a Monday: the data-platform route is muted on
/// Sunday nights (the example's maintenance window), so the answers depend on it.
const ALERTS_TIME: &str = "2026-05-04T09:30:00Z";

#[test]
fn the_example_alerts_route_and_inhibit_as_designed() {
    let report = json_report(&[
        "routes",
        EXAMPLE_ALERTS,
        "--format",
        "json",
        "--at",
        ALERTS_TIME,
    ]);
    let alerts = report["alerts"].as_array().expect("alerts list");
    assert_eq!(alerts.len(), 8);
    let receivers = |index: usize| -> Vec<String> {
        alerts[index]["receivers"]
            .as_array()
            .expect("receivers")
            .iter()
            .map(|receiver| receiver.as_str().expect("name").to_string())
            .collect()
    };
    let inhibitor = |index: usize| {
        let by = &alerts[index]["inhibited_by"];
        by.is_object().then(|| {
            (
                by["alert"].as_u64().expect("index"),
                by["rule"].as_u64().expect("rule"),
            )
        })
    };
    // The availability page pages and chats; its ticket, the accuracy page and the
    // drift ticket of the same service are muted by it.
    assert_eq!(receivers(0), ["risk-pager", "risk-chat"]);
    assert_eq!(inhibitor(0), None);
    assert_eq!(inhibitor(1), Some((0, 0)));
    assert_eq!(inhibitor(2), Some((0, 1)));
    assert_eq!(inhibitor(3), Some((0, 1)));
    // The stale nightly build mutes the drift of the feature it feeds.
    assert_eq!(receivers(4), ["data-tickets"]);
    assert_eq!(inhibitor(4), None);
    assert_eq!(inhibitor(5), Some((4, 2)));
    // A GPU forecast page mutes nothing: the latency page of its service is sent.
    assert_eq!(receivers(6), ["genai-pager", "genai-chat"]);
    assert_eq!(inhibitor(7), None);
    assert_eq!(receivers(7), ["genai-pager", "genai-chat"]);
    assert_eq!(report["summary"]["notified"], 4);
    assert_eq!(report["summary"]["inhibited"], 4);
    let rules = report["inhibit_rules"].as_array().expect("rule texts");
    assert_eq!(
        rules[0],
        r#"{severity="page",forecast!="true"} mutes {severity="ticket"} on [model, service, slo]"#
    );
    let group_key = alerts[0]["routes"][0]["group_key"].as_str().expect("key");
    assert!(
        group_key.ends_with(
            r#":{alertname="ErrorBudgetBurn", service="fraud-detector", slo="score-api"}"#
        ),
        "{group_key}"
    );
}

#[test]
fn the_text_report_names_receivers_routes_and_inhibitors() {
    let output = mlslo(&["routes", EXAMPLE_ALERTS, "--at", ALERTS_TIME]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(
        text.contains("   firing: notifies risk-pager, risk-chat\n"),
        "{text}"
    );
    assert!(
        text.contains(
            "   firing: inhibited by #0 ErrorBudgetBurn, rule 0: {severity=\"page\",forecast!=\"true\"} mutes {severity=\"ticket\"} on [model, service, slo]\n"
        ),
        "{text}"
    );
    assert!(
        text.ends_with("8 alerts: 4 notified, 4 inhibited, 0 resolved, 0 invalid\n"),
        "{text}"
    );
}

#[test]
fn ad_hoc_alerts_join_the_file_and_inhibit_across_it() {
    let report = json_report(&[
        "routes",
        "--format",
        "json",
        "--alert",
        "alertname=ErrorBudgetBurn,service=x,slo=y,severity=page,team=risk-ml",
        "--alert",
        "alertname=ErrorBudgetBurn,service=x,slo=y,severity=ticket,team=risk-ml",
    ]);
    let alerts = report["alerts"].as_array().expect("alerts list");
    assert_eq!(alerts[0]["receivers"][0], "risk-pager");
    assert_eq!(alerts[1]["inhibited_by"]["alert"], 0);
}

#[test]
fn resolved_alerts_do_not_inhibit_and_at_decides_what_is_resolved() {
    let folder = scratch("resolved");
    let alerts = write(
        &folder,
        "alerts.json",
        r#"[
  {"labels": {"alertname": "A", "service": "s", "slo": "o", "severity": "page"},
   "startsAt": "2026-01-01T00:00:00Z", "endsAt": "2026-01-01T01:00:00Z"},
  {"labels": {"alertname": "A", "service": "s", "slo": "o", "severity": "ticket"},
   "startsAt": "2026-01-01T00:00:00Z"}
]"#,
    );
    let before = json_report(&[
        "routes",
        &alerts,
        "--format",
        "json",
        "--at",
        "2026-01-01T00:30:00Z",
    ]);
    assert_eq!(before["evaluated_at"], "2026-01-01T00:30:00Z");
    assert_eq!(before["alerts"][1]["inhibited_by"]["alert"], 0);
    let after = json_report(&["routes", &alerts, "--format", "json", "--at", "1767229200"]);
    assert_eq!(after["alerts"][0]["status"], "resolved");
    assert!(after["alerts"][1]["inhibited_by"].is_null(), "{after}");
}

#[test]
fn time_intervals_are_evaluated_at_the_given_time() {
    let folder = scratch("intervals");
    let config = write(
        &folder,
        "alertmanager.yml",
        r#"route:
  receiver: default
  routes:
    - matchers: ['severity="ticket"']
      receiver: tickets
      active_time_intervals: [office-hours]
time_intervals:
  - name: office-hours
    time_intervals:
      - weekdays: ['monday:friday']
        times: [{start_time: '09:00', end_time: '17:00'}]
receivers: [{name: default}, {name: tickets}]
"#,
    );
    let run = |at: &str| {
        json_report(&[
            "routes",
            "--config",
            &config,
            "--format",
            "json",
            "--at",
            at,
            "--alert",
            "severity=ticket",
        ])
    };
    // 2026-05-04 is a Monday.
    let inside = run("2026-05-04T10:00:00Z");
    assert_eq!(
        inside["alerts"][0]["routes"][0]["muted_by_time_intervals"],
        false
    );
    let outside = run("2026-05-04T20:00:00Z");
    assert_eq!(
        outside["alerts"][0]["routes"][0]["muted_by_time_intervals"],
        true
    );
    let text = stdout(&mlslo(&[
        "routes",
        "--config",
        &config,
        "--at",
        "2026-05-04T20:00:00Z",
        "--alert",
        "severity=ticket",
    ]));
    assert!(
        text.contains(", muted now by its time intervals\n"),
        "{text}"
    );
}

#[test]
fn exit_codes_separate_invalid_input_from_usage_problems() {
    let folder = scratch("exit_codes");
    // No alerts at all is a usage problem.
    assert_eq!(mlslo(&["routes"]).status.code(), Some(2));
    // A missing alerts file or configuration is an I/O problem.
    let missing = folder.join("missing.json").display().to_string();
    assert_eq!(mlslo(&["routes", &missing]).status.code(), Some(2));
    let output = mlslo(&["routes", "--config", &missing, "--alert", "a=b"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("cannot read"),
        "{}",
        stderr(&output)
    );
    // Bad arguments.
    assert_eq!(
        mlslo(&["routes", "--alert", "not a pair"]).status.code(),
        Some(2)
    );
    assert_eq!(
        mlslo(&["routes", "--alert", "a=b", "--at", "noon"])
            .status
            .code(),
        Some(2)
    );
    // An invalid configuration is invalid input, reported in amtool's words.
    let config = write(&folder, "bad.yml", "route:\n  receiver: nowhere\n");
    let output = mlslo(&["routes", "--config", &config, "--alert", "a=b"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("invalid Alertmanager configuration"),
        "{}",
        stderr(&output)
    );
    // So are unparsable alerts JSON and an alert Alertmanager would reject.
    let alerts = write(&folder, "bad.json", r#"{"labels": {}}"#);
    assert_eq!(mlslo(&["routes", &alerts]).status.code(), Some(1));
    let alerts = write(
        &folder,
        "rejected.json",
        r#"[{"labels": {"alertname": "A"}, "startsAt": "2026-01-02T00:00:00Z", "endsAt": "2026-01-01T00:00:00Z"}]"#,
    );
    let output = mlslo(&["routes", &alerts]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stdout(&output).contains("invalid: start time must be before end time"),
        "{}",
        stdout(&output)
    );
}

#[test]
fn alerts_can_come_from_stdin() {
    use std::io::Write;
    let mut child = mlslo_command(repository())
        .args(["routes", "-", "--format", "json", "--at", ALERTS_TIME])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("mlslo starts");
    child
        .stdin
        .take()
        .expect("piped stdin")
        .write_all(br#"[{"labels": {"alertname": "X", "team": "data-platform"}}]"#)
        .expect("write stdin");
    let output = child.wait_with_output().expect("mlslo ends");
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(report["alerts"][0]["receivers"][0], "data-tickets");
}
