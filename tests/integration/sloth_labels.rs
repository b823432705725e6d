//! `grafana { sloth_labels = true }`: a budgeted objective's series carry Sloth's labels
//! with Sloth's values, and the rules and generated tests still pass promtool.
//!
//! The oracle is Sloth itself: `tests/data/sloth/sloth-getting-started.rules.yml`, the
//! rules Sloth generates for its getting-started SLO, and `getting-started.slo`, the same
//! SLO in mlslo's language. Every series Sloth records must be recorded by mlslo under
//! the same name with the same `sloth_id`, `sloth_service` and `sloth_slo` (and
//! `sloth_objective` on `sloth_slo_info`).

use std::process::Command;

use crate::support::{data, installed, mlslo_in, read, scratch, stderr, PROMTOOL};

type Labels = std::collections::BTreeMap<String, String>;

/// `(record, labels)` of every recording rule of a rule file.
fn recordings(text: &str) -> Vec<(String, Labels)> {
    let rules: yaml_serde::Value = yaml_serde::from_str(text).expect("YAML");
    rules["groups"]
        .as_sequence()
        .expect("groups")
        .iter()
        .flat_map(|group| group["rules"].as_sequence().expect("rules").iter())
        .filter_map(|rule| {
            let record = rule.get("record")?.as_str()?.to_string();
            let labels = rule
                .get("labels")
                .and_then(|labels| labels.as_mapping())
                .map(|labels| {
                    labels
                        .iter()
                        .map(|(key, value)| {
                            let text = |v: &yaml_serde::Value| {
                                v.as_str().map(str::to_string).unwrap_or_else(|| {
                                    yaml_serde::to_string(v).expect("scalar").trim().to_string()
                                })
                            };
                            (text(key), text(value))
                        })
                        .collect()
                })
                .unwrap_or_default();
            Some((record, labels))
        })
        .collect()
}

#[test]
fn sloth_labels_carry_sloths_values_and_pass_promtool() {
    let work = scratch("sloth-labels");
    let source = format!(
        "grafana {{ sloth_labels = true }}\n{}",
        read(&data("sloth/getting-started.slo"))
    );
    std::fs::write(work.path().join("myservice.slo"), source).expect("write source");
    let build = mlslo_in(work.path(), &["build", "myservice.slo", "-o", "out"], &[]);
    assert_eq!(build.status.code(), Some(0), "{}", stderr(&build));
    let rules_text =
        std::fs::read_to_string(work.path().join("out/prometheus/myservice.rules.yml"))
            .expect("rules");
    let ours = recordings(&rules_text);
    let theirs = recordings(&read(&data("sloth/sloth-getting-started.rules.yml")));
    assert_eq!(theirs.len(), 15);
    for (record, their_labels) in &theirs {
        let (_, our_labels) = ours
            .iter()
            .find(|(name, _)| name == record)
            .unwrap_or_else(|| panic!("Sloth records {record}, mlslo does not:\n{rules_text}"));
        for label in ["sloth_id", "sloth_service", "sloth_slo", "sloth_objective"] {
            assert_eq!(
                our_labels.get(label),
                their_labels.get(label),
                "{record}: {label}"
            );
        }
    }
    // The burn alerts carry them too, as Sloth's do, so `ALERTS{sloth_id!=""}` finds them.
    // Their tier is `sloth_severity`, which Sloth's dashboards read for the page and
    // ticket panels (`ALERTS{sloth_severity="page"}`).
    let alerts = rules_text.split("  - alert: ").skip(1);
    let mut tiers = Vec::new();
    for alert in alerts.filter(|alert| alert.starts_with("ErrorBudgetBurn\n")) {
        assert!(
            alert.contains("      sloth_id: myservice-requests-availability\n"),
            "{alert}"
        );
        let tier = alert
            .lines()
            .find_map(|line| line.strip_prefix("      sloth_severity: "))
            .unwrap_or_else(|| panic!("no sloth_severity: {alert}"));
        let severity = alert
            .lines()
            .find_map(|line| line.strip_prefix("      severity: "))
            .unwrap_or_else(|| panic!("no severity: {alert}"));
        assert_eq!(tier, severity, "the default vocabulary is Sloth's: {alert}");
        tiers.push(tier.to_owned());
    }
    tiers.sort();
    tiers.dedup();
    assert_eq!(tiers, ["page", "ticket"], "{rules_text}");

    if installed(PROMTOOL).is_none() {
        return;
    }
    let out = work.path().join("out");
    for arguments in [
        vec!["check", "rules", "prometheus/myservice.rules.yml"],
        vec!["test", "rules", "tests/myservice.test.yml"],
    ] {
        let run = Command::new(PROMTOOL)
            .args(&arguments)
            .current_dir(&out)
            .output()
            .expect("promtool runs");
        assert!(
            run.status.success(),
            "promtool {arguments:?}:\n{}{}",
            String::from_utf8_lossy(&run.stdout),
            String::from_utf8_lossy(&run.stderr)
        );
    }
}
