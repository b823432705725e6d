//! The monitoring of the monitoring path (issue 16): the generated dead man's switch
//! reaches its heartbeat receiver, alone and at its interval, through a real
//! Alertmanager; each alert family of the `monitoring` block is on by default and
//! goes away when switched off; the generated tests of the monitoring alerts pass
//! in promtool and in `mlslo test`. Without the tools the real-tool halves print a
//! notice, unless `CI` is set, where they fail.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::support::{
    http, installed, mlslo, outcome, read, scratch, start_alertmanager, write, FakeServer,
    ALERTMANAGER, ONE_AVAILABILITY_SERVICE as SERVICE, PROMTOOL,
};

fn routing(heartbeat_url: &str, pager_url: &str) -> String {
    format!(
        r#"
routing {{
  group_wait = 0s
  group_interval = 1s
  default_receiver = "risk-pager"
  receiver "heartbeat" {{ webhook {{ url = "{heartbeat_url}/ping" }} }}
  receiver "risk-pager" {{ webhook {{ url = "{pager_url}/page" }} }}
  receiver "platform" {{
    webhook {{ url = "{pager_url}/platform" }}
    email {{ to = "platform@example.com", from = "am@example.com", smarthost = "smtp.example.com:587" }}
  }}
  route {{ kind = "monitoring" }} -> "platform"
}}
"#
    )
}

/// The Watchdog goes to the heartbeat receiver at once and again every
/// `heartbeat_interval`, never every second interval (Alertmanager resends only
/// when the last notification is older than `repeat_interval`); a page fired at the
/// same time never reaches it. Measured on a real Alertmanager 0.25 with a 2s
/// interval over 11 seconds.
#[test]
fn the_heartbeat_reaches_its_receiver_alone_at_every_interval() {
    if installed(ALERTMANAGER).is_none() {
        return;
    }
    let folder = scratch("monitoring-heartbeat");
    let pings: Arc<Mutex<Vec<(Instant, String)>>> = Arc::default();
    let seen = pings.clone();
    let heartbeat = FakeServer::start(move |request| {
        seen.lock()
            .expect("lock")
            .push((Instant::now(), request.body.clone()));
        (200, "text/plain", "ok".to_owned())
    });
    let pager = FakeServer::start(|_| (200, "text/plain", "ok".to_owned()));
    let source = format!(
        "monitoring {{ heartbeat = \"heartbeat\", heartbeat_interval = 2s }}\n{SERVICE}{}",
        routing(&heartbeat.url(), &pager.url())
    );
    std::fs::create_dir_all(folder.join("rules")).expect("rules folder");
    write(&folder.join("rules"), "slo.slo", &source);
    let (status, stdout, stderr) = outcome(&mlslo(&[
        "build",
        folder.join("rules").to_str().expect("path"),
        "-o",
        folder.join("out").to_str().expect("path"),
        "--deny-warnings",
    ]));
    assert_eq!(status, 0, "{stdout}{stderr}");
    let config_path = folder.join("out/alertmanager/alertmanager.yml");
    let config = read(&config_path);
    assert!(config.contains("repeat_interval: 1s"), "{config}");

    let server = start_alertmanager(&folder, &config_path, "alertmanager");
    let ends = "2100-01-01T00:00:00Z";
    let alerts = format!(
        r#"[{{"labels": {{"alertname": "Watchdog", "kind": "monitoring", "severity": "heartbeat"}}, "endsAt": "{ends}"}},
            {{"labels": {{"alertname": "ErrorBudgetBurn", "kind": "availability", "service": "fraud-detector", "slo": "predict-api", "severity": "page", "team": "risk-ml"}}, "endsAt": "{ends}"}}]"#
    );
    let started = Instant::now();
    let (status, body) = http(server.port, "POST", "/api/v2/alerts", &alerts).expect("post");
    assert_eq!(status, 200, "{body}");
    std::thread::sleep(Duration::from_secs(11));

    let pings = pings.lock().expect("lock").clone();
    assert!(
        pings
            .iter()
            .all(|(_, body)| body.contains("\"Watchdog\"") && !body.contains("ErrorBudgetBurn")),
        "only the Watchdog reaches the heartbeat: {pings:?}"
    );
    let times: Vec<f64> = pings
        .iter()
        .map(|(at, _)| at.duration_since(started).as_secs_f64())
        .collect();
    assert!(times.len() >= 4, "a ping every 2s over 11s: {times:?}");
    assert!(times[0] < 2.0, "the first ping comes at once: {times:?}");
    for pair in times.windows(2) {
        assert!(
            pair[1] - pair[0] < 3.0,
            "no ping is skipped (gaps of 2s, never 4s): {times:?}"
        );
    }
    assert!(
        pager
            .requests()
            .iter()
            .any(|request| request.path == "/page" && request.body.contains("ErrorBudgetBurn")),
        "the page went to its own receiver"
    );
}

fn build(folder: &std::path::Path, source: &str) -> String {
    std::fs::create_dir_all(folder.join("rules")).expect("rules folder");
    write(&folder.join("rules"), "slo.slo", source);
    let (status, stdout, stderr) = outcome(&mlslo(&[
        "build",
        folder.join("rules").to_str().expect("path"),
        "-o",
        folder.join("out").to_str().expect("path"),
    ]));
    assert_eq!(status, 0, "{stdout}{stderr}");
    stderr
}

/// Every family is on without a `monitoring` block, and each switch removes
/// exactly its alerts.
#[test]
fn each_monitoring_family_is_on_by_default_and_switchable() {
    let folder = scratch("monitoring-switches");
    let routing = routing("https://hc-ping.example.com", "https://pager.example.com");
    let stderr = build(&folder, &format!("{SERVICE}{routing}"));
    assert!(stderr.contains("W0640"), "no heartbeat is warned: {stderr}");
    let rules = read(&folder.join("out/prometheus/fraud-detector.rules.yml"));
    let monitoring = read(&folder.join("out/prometheus/_monitoring.rules.yml"));
    for alert in [
        "alert: SLORuleEvaluationFailures",
        "alert: SLORuleEvaluationsMissed",
        "alert: SLOScrapeTargetDown",
    ] {
        assert!(rules.contains(alert), "{alert} in\n{rules}");
    }
    for alert in [
        "alert: AlertmanagerNotificationsFailing",
        "alert: SLOMonitoringMetricsAbsent",
    ] {
        assert!(monitoring.contains(alert), "{alert} in\n{monitoring}");
    }
    assert!(!monitoring.contains("alert: Watchdog"), "{monitoring}");

    let cases: [(&str, &[&str]); 4] = [
        ("heartbeat = \"heartbeat\"", &[]),
        (
            "rule_failures = false",
            &[
                "SLORuleEvaluationFailures",
                "SLORuleEvaluationsMissed",
                "prometheus_rule_evaluation_failures_total",
            ],
        ),
        (
            "notification_failures = false",
            &[
                "AlertmanagerNotificationsFailing",
                "alertmanager_notifications_total",
            ],
        ),
        (
            "targets_down = false",
            &["SLOScrapeTargetDown", "slo:scrape_targets:info"],
        ),
    ];
    for (switch, gone) in cases {
        let folder = scratch(&format!(
            "monitoring-switch-{}",
            switch.split(' ').next().unwrap_or("x")
        ));
        let stderr = build(
            &folder,
            &format!("monitoring {{ {switch} }}\n{SERVICE}{routing}"),
        );
        let all = format!(
            "{}{}",
            read(&folder.join("out/prometheus/fraud-detector.rules.yml")),
            std::fs::read_to_string(folder.join("out/prometheus/_monitoring.rules.yml"))
                .unwrap_or_default()
        );
        for name in gone {
            assert!(!all.contains(name), "{switch} removes {name}:\n{all}");
        }
        if switch.starts_with("heartbeat") {
            assert!(!stderr.contains("W0640"), "{stderr}");
            assert!(all.contains("alert: Watchdog"), "{all}");
            let config = read(&folder.join("out/alertmanager/alertmanager.yml"));
            let heartbeat_route = config
                .find("receiver: heartbeat")
                .expect("the heartbeat route");
            let first_team_route = config.find("team=").unwrap_or(usize::MAX);
            assert!(
                heartbeat_route < first_team_route,
                "the heartbeat route comes first:\n{config}"
            );
        }
    }

    let folder = scratch("monitoring-all-off");
    build(
        &folder,
        &format!(
            "monitoring {{ heartbeat = none, rule_failures = false, notification_failures = false, targets_down = false }}\n{SERVICE}{routing}"
        ),
    );
    assert!(!folder.join("out/prometheus/_monitoring.rules.yml").exists());
    assert!(!folder.join("out/tests/_monitoring.test.yml").exists());
    let rules = read(&folder.join("out/prometheus/fraud-detector.rules.yml"));
    assert!(!rules.contains("_monitoring"), "{rules}");
}

/// The generated tests of the monitoring alerts pass in promtool and in `mlslo
/// test`: they prove each alert fires when its part of the path breaks, and stays
/// quiet for an unrelated service, integration or target.
#[test]
fn the_generated_monitoring_tests_pass_in_promtool_and_mlslo() {
    let folder = scratch("monitoring-generated-tests");
    let routing = routing("https://hc-ping.example.com", "https://pager.example.com");
    build(
        &folder,
        &format!("monitoring {{ heartbeat = \"heartbeat\", team = \"ml-platform\" }}\n{SERVICE}{routing}"),
    );
    let tests: Vec<String> = ["_monitoring", "fraud-detector"]
        .iter()
        .map(|name| {
            folder
                .join(format!("out/tests/{name}.test.yml"))
                .to_str()
                .expect("path")
                .to_owned()
        })
        .collect();
    let service_tests = read(std::path::Path::new(&tests[1]));
    for case in [
        "failing and skipped evaluations of its groups fire",
        "a target behind its series goes down",
    ] {
        assert!(service_tests.contains(case), "{case} in\n{service_tests}");
    }
    let mut arguments = vec!["test"];
    arguments.extend(tests.iter().map(String::as_str));
    let (status, stdout, stderr) = outcome(&mlslo(&arguments));
    assert_eq!(status, 0, "{stdout}{stderr}");
    if let Some(promtool) = installed(PROMTOOL) {
        let output = std::process::Command::new(promtool)
            .args(["test", "rules"])
            .args(&tests)
            .output()
            .expect("run promtool");
        assert!(
            output.status.success(),
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
}
