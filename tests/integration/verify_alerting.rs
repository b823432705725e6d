//! What `mlslo check` proves about the alerting system it generates (issue 16,
//! cases 2 and 3): receivers' templates fail in `check` exactly where a real
//! Alertmanager 0.25 fails at notify time, with Alertmanager's own error text;
//! routes no generated alert can match and a missing routing block are warned;
//! `mlslo routes --verify-receivers` agrees with `amtool config routes test
//! --verify.receivers` on the generated configuration. Without the tools the
//! real-tool halves print a notice, unless `CI` is set, where they fail.

use std::collections::BTreeMap;
use std::process::Command;
use std::time::{Duration, Instant};

use mlslo::prometheus::alertmanager::notification::{
    Notification, NotificationAlert, NotificationTemplate,
};

use crate::support::{
    http, installed, mlslo, outcome, scratch, start_alertmanager, write, FakeServer, ALERTMANAGER,
    AMTOOL, ONE_AVAILABILITY_SERVICE as SERVICE,
};

/// `mlslo check` on one file made of `SERVICE` and `routing`: exit status and stderr.
fn check(routing: &str) -> (i32, String) {
    let folder = scratch("verify-alerting-check");
    // Templates are the point here: no heartbeat, and no alert on notification
    // failures whose single-integration routing would be warned.
    let monitoring = "monitoring { heartbeat = none, notification_failures = false }\n";
    let file = write(
        &folder,
        "case.slo",
        format!("{monitoring}{SERVICE}{routing}"),
    );
    let (status, _, stderr) = outcome(&mlslo(&["check", &file]));
    (status, stderr)
}

#[test]
fn a_template_that_does_not_parse_is_an_error_with_gos_message() {
    let (status, stderr) = check(
        r##"routing {
  default_receiver = "chat"
  receiver "chat" { slack { api_url_file = "/etc/am/slack", channel = "#risk", title = "{{ .CommonLabels.slo " } }
}"##,
    );
    assert_eq!(status, 1, "{stderr}");
    assert!(stderr.contains("error[E0600]"), "{stderr}");
    assert!(stderr.contains("template: :1: unclosed action"), "{stderr}");
}

#[test]
fn a_template_that_fails_on_a_generated_alert_is_an_error_naming_the_alert() {
    let (status, stderr) = check(
        r##"routing {
  default_receiver = "pager"
  receiver "pager" { pagerduty { routing_key_file = "/etc/am/pd", severity = "{{ (index .Alerts 1).Labels.severity }}" } }
}"##,
    );
    assert_eq!(status, 1, "{stderr}");
    assert!(stderr.contains("error[E0601]"), "{stderr}");
    assert!(
        stderr.contains(r#"alertname="ErrorBudgetBurn""#),
        "{stderr}"
    );
    assert!(
        stderr.contains("error calling index: reflect: slice index out of range"),
        "{stderr}"
    );
}

#[test]
fn a_line_break_in_an_email_address_is_an_error() {
    let (status, stderr) = check(
        r##"routing {
  default_receiver = "mail"
  receiver "mail" { email { to = "a@example.com\nb@example.com", from = "am@example.com", smarthost = "smtp.example.com:587" } }
}"##,
    );
    assert_eq!(status, 1, "{stderr}");
    assert!(stderr.contains("error[E0602]"), "{stderr}");
}

#[test]
fn templates_that_use_alertmanagers_data_and_functions_are_clean() {
    let (status, stderr) = check(
        r##"routing {
  default_receiver = "chat"
  receiver "chat" { slack {
    api_url_file = "/etc/am/slack"
    channel = "#{{ .CommonLabels.team | toLower }}"
    title = "[{{ .Status | toUpper }}{{ if eq .Status \"firing\" }}:{{ .Alerts.Firing | len }}{{ end }}] {{ .GroupLabels.SortedPairs.Values | join \" \" }}"
    text = "{{ range .Alerts }}{{ .Annotations.summary }} since {{ .StartsAt.Format \"15:04\" }}{{ end }} {{ template \"slack.default.text\" . }}"
  } }
}"##,
    );
    assert_eq!(
        (status, stderr.as_str()),
        (0, "checked 1 file: no problems found\n")
    );
}

#[test]
fn a_route_no_generated_alert_matches_is_warned_with_the_values_mlslo_emits() {
    let (status, stderr) = check(
        r##"routing {
  default_receiver = "chat"
  receiver "chat"  { slack { api_url_file = "/etc/am/slack", channel = "#risk" } }
  receiver "pager" { pagerduty { routing_key_file = "/etc/am/pd" } }
  route { team = "risk-ml", severity = "critical" } -> "pager"
  route { teams = "risk-ml" } -> "chat"
  route { team = "risk-ml", severity = "paeg" } -> "pager"
}"##,
    );
    assert_eq!(status, 0, "warnings only: {stderr}");
    assert_eq!(stderr.matches("warning[W0601]").count(), 3, "{stderr}");
    assert!(
        stderr.contains(r#"no generated alert has severity = "critical""#),
        "{stderr}"
    );
    assert!(
        stderr.contains(r#"mlslo's alerts have severity = "page", "ticket""#),
        "{stderr}"
    );
    assert!(stderr.contains("did you mean `team`?"), "{stderr}");
    assert!(stderr.contains("did you mean `page`?"), "{stderr}");
}

#[test]
fn no_routing_block_is_an_explicit_warning_and_fails_under_deny_warnings() {
    let folder = scratch("verify-alerting-no-routing");
    let file = write(&folder, "case.slo", SERVICE);
    let (status, _, stderr) = outcome(&mlslo(&["check", &file]));
    assert_eq!(status, 0, "{stderr}");
    assert!(stderr.contains("warning[W0600]"), "{stderr}");
    assert!(stderr.contains("mlslo-default"), "{stderr}");
    let (status, _, _) = outcome(&mlslo(&["check", "--deny-warnings", &file]));
    assert_eq!(status, 1);
}

#[test]
fn an_alert_routed_to_a_receiver_left_without_integration_is_an_error() {
    let (status, stderr) = check(
        r##"routing {
  default_receiver = "hook"
  receiver "hook" { webhook { url_file = "/etc/am/hook-url" } }
}"##,
    );
    assert_eq!(status, 1, "{stderr}");
    assert!(stderr.contains("error[E0603]"), "{stderr}");
    assert!(stderr.contains(r#"severity="page""#), "{stderr}");
}

/// The failures `check` predicts are the failures of a real Alertmanager 0.25:
/// two Slack receivers whose templates fail (one does not parse, one fails on
/// a single-alert notification) each get an alert; Alertmanager logs
/// "unrecoverable error" with exactly the text our engine gives, counts the
/// failures in `alertmanager_notifications_failed_total`, and never calls Slack.
#[test]
fn a_real_alertmanager_fails_where_check_says_a_template_fails() {
    if installed(ALERTMANAGER).is_none() {
        return;
    }
    let folder = scratch("verify-alerting-alertmanager");
    let slack = FakeServer::start(|_| (200, "text/plain", "ok".to_owned()));
    let templates = [
        ("unparsable", "{{ .CommonLabels.slo "),
        ("failing", "{{ (index .Alerts 1).Labels.severity }}"),
    ];
    let mut config = String::from(
        "route:\n  receiver: unparsable\n  group_by: [alertname]\n  group_wait: 0s\n  group_interval: 1s\n  routes:\n",
    );
    for (name, _) in &templates {
        config.push_str(&format!(
            "  - receiver: {name}\n    matchers: ['alertname=\"{name}\"']\n"
        ));
    }
    config.push_str("receivers:\n");
    for (name, title) in &templates {
        config.push_str(&format!(
            "- name: {name}\n  slack_configs:\n  - api_url: {}/hook\n    channel: '#x'\n    title: '{title}'\n",
            slack.url()
        ));
    }
    let config_path = folder.join("alertmanager.yml");
    std::fs::write(&config_path, &config).expect("write the configuration");
    let server = start_alertmanager(&folder, &config_path, "alertmanager");
    let alerts: Vec<String> = templates
        .iter()
        .map(|(name, _)| format!(r#"{{"labels": {{"alertname": "{name}", "slo": "api"}}}}"#))
        .collect();
    let (status, body) = http(
        server.port,
        "POST",
        "/api/v2/alerts",
        &format!("[{}]", alerts.join(",")),
    )
    .expect("post the alerts");
    assert_eq!(status, 200, "{body}");

    let log_path = folder.join("alertmanager.log");
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut log = String::new();
    while Instant::now() < deadline {
        log = std::fs::read_to_string(&log_path).unwrap_or_default();
        if templates.iter().all(|(name, _)| {
            log.contains(&format!(
                "{name}/slack[0]: notify retry canceled due to unrecoverable error"
            ))
        }) {
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    for (name, title) in &templates {
        let ours = NotificationTemplate::parse(title)
            .and_then(|template| template.execute(&one_alert_notification(name)))
            .expect_err("our engine fails too");
        // The log is logfmt: the error is quoted, its own quotes escaped.
        let expected = format!(
            "{name}/slack[0]: notify retry canceled due to unrecoverable error after 1 attempts: {}",
            ours.replace('"', "\\\"")
        );
        assert!(log.contains(&expected), "expected {expected:?} in:\n{log}");
    }
    let (_, metrics) = http(server.port, "GET", "/metrics", "").expect("metrics");
    let failed: f64 = metrics
        .lines()
        .find_map(|line| {
            line.strip_prefix(r#"alertmanager_notifications_failed_total{integration="slack"} "#)
        })
        .and_then(|value| value.parse().ok())
        .expect("the failure counter");
    assert!(failed >= 2.0, "{failed}");
    assert!(slack.requests().is_empty(), "Slack was never called");
}

fn one_alert_notification(alertname: &str) -> Notification {
    let labels = BTreeMap::from([
        ("alertname".to_owned(), alertname.to_owned()),
        ("slo".to_owned(), "api".to_owned()),
    ]);
    Notification {
        receiver: alertname.to_owned(),
        group_labels: BTreeMap::from([("alertname".to_owned(), alertname.to_owned())]),
        alerts: vec![NotificationAlert {
            labels,
            annotations: BTreeMap::new(),
            starts_at: 0,
            ends_at: None,
            generator_url: String::new(),
        }],
        external_url: "http://127.0.0.1".to_owned(),
    }
}

/// `mlslo routes --verify-receivers` passes and fails exactly where `amtool
/// config routes test --verify.receivers` does on the generated configuration:
/// right receivers, a missing one, the right ones out of order, and an alert
/// that falls to the default receiver.
#[test]
fn routes_verify_receivers_agrees_with_amtool() {
    const CONFIG: &str = "generated/alertmanager/alertmanager.yml";
    let cases: [(&[&str], &str, i32); 5] = [
        (
            &["team=risk-ml", "severity=page"],
            "risk-pager,risk-chat",
            0,
        ),
        (&["team=risk-ml", "severity=page"], "risk-pager", 1),
        (
            &["team=risk-ml", "severity=page"],
            "risk-chat,risk-pager",
            1,
        ),
        (&["team=risk-ml", "severity=ticket"], "risk-chat", 0),
        (&["team=nobody", "env=prod"], "ml-platform-chat", 0),
    ];
    let amtool = installed(AMTOOL);
    for (labels, expected, status) in cases {
        let (ours, stdout, stderr) = outcome(&mlslo(&[
            "routes",
            "--config",
            CONFIG,
            "--alert",
            &labels.join(","),
            "--verify-receivers",
            expected,
        ]));
        assert_eq!(ours, status, "{labels:?} -> {expected}: {stdout}{stderr}");
        if status == 1 {
            assert!(
                stderr.contains(&format!("expected `{expected}`")),
                "{stderr}"
            );
        }
        if let Some(amtool) = amtool {
            let output = Command::new(amtool)
                .args(["config", "routes", "test", "--config.file", CONFIG])
                .arg(format!("--verify.receivers={expected}"))
                .args(labels)
                .output()
                .expect("run amtool");
            assert_eq!(
                output.status.code(),
                Some(status),
                "amtool on {labels:?} -> {expected}: {}",
                String::from_utf8_lossy(&output.stdout)
            );
        }
    }
}
