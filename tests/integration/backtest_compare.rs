//! `mlslo backtest --compare`: Sloth's generated rules for its getting-started SLO
//! (`data/sloth/`) beside mlslo's rules for the same objective over a day of its
//! metrics (`data/backtest/getting-started.series`), routed by one Alertmanager
//! configuration: each side is the report of its rules alone, both are scored
//! against the same incidents, the differences are the sides' differences, and
//! the fast burn pages at the minute worked out by hand on both sides.

use serde_json::Value;

use crate::support::{mlslo, stderr, stdout};

const SLO: &str = "tests/data/sloth/getting-started.slo";
const SLOTH_RULES: &str = "tests/data/sloth/sloth-getting-started.rules.yml";
const HISTORY: &str = "tests/data/backtest/getting-started.series";
const ROUTING: &str = "tests/data/backtest/getting-started.alertmanager.yml";

fn json(arguments: &[&str]) -> Value {
    let mut command = vec!["backtest"];
    command.extend(arguments);
    command.extend([
        "--data",
        HISTORY,
        "--alertmanager-config",
        ROUTING,
        "--format",
        "json",
    ]);
    let output = mlslo(&command);
    assert!(output.status.success(), "{}", stderr(&output));
    serde_json::from_str(&stdout(&output)).expect("JSON")
}

/// `2026-11-01T06:18:00Z` as unix milliseconds: minutes after the history's start.
fn at(hours: i64, minutes: i64) -> i64 {
    1_793_491_200_000 + (hours * 60 + minutes) * 60_000
}

/// (start, end) of every firing of the page alerts of a report.
fn page_firings(report: &Value) -> Vec<(i64, i64)> {
    let mut found = Vec::new();
    for alert in report["alerts"].as_array().expect("alerts") {
        let labels = &alert["labels"];
        if labels["severity"] != "page" && labels["sloth_severity"] != "page" {
            continue;
        }
        for firing in alert["firing"].as_array().expect("firing") {
            found.push((
                firing["start_ms"].as_i64().expect("start"),
                firing["end_ms"].as_i64().expect("end"),
            ));
        }
    }
    found
}

#[test]
fn sloth_and_mlslo_rules_side_by_side_over_the_same_data() {
    let comparison = json(&[SLO, "--compare", SLOTH_RULES]);
    assert_eq!(comparison["base_rules"], SLO);
    assert_eq!(comparison["compared_rules"], SLOTH_RULES);
    // Each side is what its rules give alone: the comparison changes no replay.
    // Sloth's rules alone infer the same incidents from their own 5m error ratio.
    let ours = json(&[SLO]);
    let theirs = json(&[SLOTH_RULES]);
    assert_eq!(comparison["base"], ours);
    assert_eq!(comparison["compared"], theirs);
    assert_eq!(
        ours["scores"]["incidents"]
            .as_array()
            .expect("incidents")
            .len(),
        2
    );
    let incident_times = |report: &Value| -> Vec<(Value, Value)> {
        report["scores"]["incidents"]
            .as_array()
            .expect("incidents")
            .iter()
            .map(|i| (i["start_ms"].clone(), i["end_ms"].clone()))
            .collect()
    };
    assert_eq!(incident_times(&ours), incident_times(&theirs));

    // The fast burn (5% of 1000 requests a minute failing from 06:00 to 06:25)
    // pages once on each side, by the same 14.4x 1h/5m condition: at 06:18 the
    // hour's samples hold 900 errors of 60900 requests (1.48% > 1.44%), at 06:17
    // 850 of 60850 (1.40%); the 5m window's samples 06:24..06:29 hold 50 errors of
    // 5050 requests (0.99%), its first below 1.44%.
    let expected = vec![(at(6, 18), at(6, 29))];
    assert_eq!(page_firings(&comparison["base"]), expected);
    assert_eq!(page_firings(&comparison["compared"]), expected);

    let objectives = comparison["objectives"].as_array().expect("objectives");
    assert_eq!(objectives.len(), 1, "{objectives:?}");
    let objective = &objectives[0];
    assert_eq!(
        (&objective["service"], &objective["slo"]),
        (
            &Value::from("myservice"),
            &Value::from("requests-availability")
        )
    );
    for (side, report) in [("base", &ours), ("compared", &theirs)] {
        let alerts = report["alerts"].as_array().expect("alerts");
        let firings: usize = alerts
            .iter()
            .map(|a| a["firing"].as_array().expect("firing").len())
            .sum();
        let notifications: u64 = alerts
            .iter()
            .flat_map(|a| a["pages"].as_array().expect("pages"))
            .map(|p| p["notifications"].as_u64().expect("count"))
            .sum();
        assert_eq!(objective[side]["firings"], firings as u64, "{side}");
        assert_eq!(objective[side]["page_firings"], 1, "{side}");
        assert_eq!(objective[side]["notifications"], notifications, "{side}");
        assert_eq!(
            objective[side]["scores"],
            report["scores"]["objectives"][0]
                .as_object()
                .map(|o| {
                    let mut score = o.clone();
                    score.remove("service");
                    score.remove("slo");
                    Value::Object(score)
                })
                .expect("scores"),
            "{side}"
        );
    }
    let difference = |key: &str| {
        objective["compared"][key].as_i64().expect("compared")
            - objective["base"][key].as_i64().expect("base")
    };
    for key in ["firings", "page_firings", "notifications"] {
        assert_eq!(objective["differences"][key], difference(key), "{key}");
    }
    let score_difference = |key: &str| {
        objective["compared"]["scores"][key]
            .as_i64()
            .expect("compared")
            - objective["base"]["scores"][key].as_i64().expect("base")
    };
    for key in ["detection_ms", "reset_ms"] {
        assert_eq!(
            objective["differences"][key],
            score_difference(key),
            "{key}"
        );
    }
    // mlslo splits the ticket window pairs into two alerts, Sloth ORs them in one.
    assert_eq!(objective["base"]["firings"], 4);
    assert_eq!(objective["compared"]["firings"], 3);
}

#[test]
fn a_bad_compared_rule_file_is_named() {
    // An Alertmanager configuration given as the rules to compare.
    let output = mlslo(&["backtest", SLO, "--compare", ROUTING, "--data", HISTORY]);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        stderr(&output),
        format!("error: {ROUTING}: unknown field `route`, expected `groups` at line 4 column 1\n")
    );
    assert_eq!(stdout(&output), "");
}
