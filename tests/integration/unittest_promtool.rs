//! Differential test: promtool 2.42 (`/usr/bin/promtool test rules`) against
//! `mlslo test` over every test file in `tests/data/unittest/` and over mutated copies
//! (an expected value, a label, an eval_time, an alertname changed). Both must give
//! the same verdict; mutations that cannot pass must fail in both; the printed text
//! (stdout and stderr) must be identical.
//!
//! Fails when `CI` is set and promtool is missing; elsewhere it says so and passes.

use std::path::Path;
use std::process::Command;

use yaml_serde::Value;

use crate::support::{data, installed, scratch, MLSLO, PROMTOOL};

struct Run {
    passed: bool,
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

fn run(program: &str, args: &[&str], dir: &Path) -> Run {
    let output = Command::new(program)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("running {program}: {e}"));
    Run {
        passed: output.status.success(),
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// What a mutation may do to the verdict.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Expect {
    MustFail,
    SameVerdict,
}

fn add_minute(text: &str) -> String {
    let ms = mlslo::prometheus::ruler::parse_model_duration(text).unwrap_or(0);
    mlslo::prometheus::ruler::format_model_duration(ms + 60_000)
}

/// Every single-point mutation of a test file, with what it must do.
fn mutations(original: &Value) -> Vec<(String, Value, Expect)> {
    let mut out = Vec::new();
    let Some(tests) = original.get("tests").and_then(Value::as_sequence) else {
        return out;
    };
    for (t, test) in tests.iter().enumerate() {
        let mut edit = |what: String, expect: Expect, f: &dyn Fn(&mut Value)| {
            let mut copy = original.clone();
            f(&mut copy["tests"][t]);
            out.push((what, copy, expect));
        };
        let promql = test
            .get("promql_expr_test")
            .and_then(Value::as_sequence)
            .cloned()
            .unwrap_or_default();
        for (p, case) in promql.iter().enumerate() {
            let samples = case
                .get("exp_samples")
                .and_then(Value::as_sequence)
                .cloned()
                .unwrap_or_default();
            for (s, sample) in samples.iter().enumerate() {
                let value = sample.get("value").and_then(Value::as_f64).unwrap_or(0.0);
                edit(
                    format!("test {t} promql {p} sample {s} value+1"),
                    Expect::MustFail,
                    &|v| {
                        v["promql_expr_test"][p]["exp_samples"][s]["value"] =
                            Value::from(value + 1.0)
                    },
                );
                let labels = sample
                    .get("labels")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string();
                let mutated = match labels.rfind('}') {
                    Some(i) if labels[..i].trim_end().ends_with('{') => {
                        format!("{}mutated=\"1\"}}", &labels[..i])
                    }
                    Some(i) => format!("{}, mutated=\"1\"}}", &labels[..i]),
                    None => format!("{labels}{{mutated=\"1\"}}"),
                };
                edit(
                    format!("test {t} promql {p} sample {s} label"),
                    Expect::MustFail,
                    &|v| {
                        v["promql_expr_test"][p]["exp_samples"][s]["labels"] =
                            Value::from(mutated.clone())
                    },
                );
            }
            let time = case
                .get("eval_time")
                .and_then(Value::as_str)
                .unwrap_or("0")
                .to_string();
            edit(
                format!("test {t} promql {p} eval_time+1m"),
                Expect::SameVerdict,
                &|v| v["promql_expr_test"][p]["eval_time"] = Value::from(add_minute(&time)),
            );
        }
        let alerts = test
            .get("alert_rule_test")
            .and_then(Value::as_sequence)
            .cloned()
            .unwrap_or_default();
        for (a, case) in alerts.iter().enumerate() {
            let firing = case
                .get("exp_alerts")
                .and_then(Value::as_sequence)
                .is_some_and(|s| !s.is_empty());
            let name = case
                .get("alertname")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            edit(
                format!("test {t} alert {a} alertname"),
                if firing {
                    Expect::MustFail
                } else {
                    Expect::SameVerdict
                },
                &|v| v["alert_rule_test"][a]["alertname"] = Value::from(format!("{name}X")),
            );
            if firing {
                edit(
                    format!("test {t} alert {a} exp_labels"),
                    Expect::MustFail,
                    &|v| {
                        let labels = &mut v["alert_rule_test"][a]["exp_alerts"][0]["exp_labels"];
                        if !labels.is_mapping() {
                            *labels = Value::Mapping(Default::default());
                        }
                        labels["mutated"] = Value::from("1");
                    },
                );
            }
            let time = case
                .get("eval_time")
                .and_then(Value::as_str)
                .unwrap_or("0")
                .to_string();
            edit(
                format!("test {t} alert {a} eval_time+1m"),
                Expect::SameVerdict,
                &|v| v["alert_rule_test"][a]["eval_time"] = Value::from(add_minute(&time)),
            );
        }
    }
    out
}

#[test]
fn mlslo_test_agrees_with_promtool() {
    if installed(PROMTOOL).is_none() {
        return;
    }
    let work = scratch("unittest-promtool");
    let mut test_files = Vec::new();
    for entry in std::fs::read_dir(data("unittest")).expect("data dir") {
        let path = entry.expect("entry").path();
        let name = path
            .file_name()
            .expect("name")
            .to_string_lossy()
            .into_owned();
        if !name.ends_with(".yml") {
            continue;
        }
        std::fs::copy(&path, work.join(&name)).expect("copy");
        if name.contains("test") {
            test_files.push(name);
        }
    }
    test_files.sort();
    assert!(test_files.len() >= 6, "{test_files:?}");

    let mut cases: Vec<(String, String, Expect)> = Vec::new();
    for name in &test_files {
        cases.push((
            name.clone(),
            format!("{name} (original)"),
            Expect::SameVerdict,
        ));
        let text = std::fs::read_to_string(work.join(name)).expect("read");
        let value: Value = yaml_serde::from_str(&text).expect("test file parses");
        for (index, (what, mutated, expect)) in mutations(&value).into_iter().enumerate() {
            let file = format!("mut{index:03}_{name}");
            std::fs::write(
                work.join(&file),
                yaml_serde::to_string(&mutated).expect("yaml"),
            )
            .expect("write");
            cases.push((file, format!("{name}: {what}"), expect));
        }
    }

    let mut disagreements = Vec::new();
    let mut text_differences = Vec::new();
    let (mut passing, mut failing) = (0, 0);
    for (file, what, expect) in &cases {
        let theirs = run(PROMTOOL, &["test", "rules", file], &work);
        let ours = run(MLSLO, &["test", file], &work);
        if theirs.passed != ours.passed || (*expect == Expect::MustFail && theirs.passed) {
            disagreements.push(format!(
                "{what}: promtool {} (rc {:?}), mlslo {} (rc {:?}), expected {expect:?}\n--- promtool\n{}{}--- mlslo\n{}{}",
                theirs.passed, theirs.code, ours.passed, ours.code, theirs.stdout, theirs.stderr, ours.stdout, ours.stderr
            ));
        } else if ours.code != Some(if ours.passed { 0 } else { 1 }) {
            disagreements.push(format!("{what}: mlslo exit code {:?}", ours.code));
        }
        if theirs.stdout != ours.stdout || theirs.stderr != ours.stderr {
            text_differences.push(format!(
                "{what}\n--- promtool\n{}{}--- mlslo\n{}{}",
                theirs.stdout, theirs.stderr, ours.stdout, ours.stderr
            ));
        }
        if theirs.passed {
            passing += 1;
        } else {
            failing += 1;
        }
    }
    eprintln!(
        "{} cases ({passing} pass, {failing} fail in promtool), {} verdict disagreements, {} text differences",
        cases.len(),
        disagreements.len(),
        text_differences.len()
    );
    assert!(disagreements.is_empty(), "{}", disagreements.join("\n\n"));
    assert!(
        text_differences.is_empty(),
        "{}",
        text_differences.join("\n\n")
    );
    assert!(
        failing > 30 && passing > 5,
        "the mutations must exercise both verdicts"
    );
}
