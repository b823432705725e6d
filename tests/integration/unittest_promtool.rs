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
    let ms = mlslo::prometheus::model::duration::parse_model_duration(text).unwrap_or(0);
    mlslo::prometheus::model::duration::format_model_duration(ms + 60_000)
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

/// `promtool check rules` over one rule file per text, each made by `rule_file`:
/// for each, `Ok` when promtool accepts it, else promtool's message with the file
/// name taken off. `None` when promtool is missing outside CI.
fn promtool_check_rules(
    what: &str,
    texts: &[&str],
    rule_file: impl Fn(&str) -> String,
) -> Option<Vec<Result<(), String>>> {
    if !Path::new(PROMTOOL).exists() {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI is set but {PROMTOOL} is missing: the differential test cannot run"
        );
        eprintln!("skipping: {PROMTOOL} not found (set CI to make this an error)");
        return None;
    }
    let work = std::env::temp_dir().join(format!("mlslo-{what}-{}", std::process::id()));
    std::fs::create_dir_all(&work).expect("temp dir");
    let files: Vec<String> = (0..texts.len())
        .map(|index| format!("{what}{index:02}.yml"))
        .collect();
    for (text, file) in texts.iter().zip(&files) {
        std::fs::write(work.join(file), rule_file(text)).expect("write");
    }
    let mut args = vec!["check", "rules"];
    args.extend(files.iter().map(String::as_str));
    let theirs = run(PROMTOOL, &args, &work);
    let _ = std::fs::remove_dir_all(&work);
    Some(
        files
            .iter()
            .map(|file| {
                let prefix = format!("{file}: ");
                theirs
                    .stderr
                    .lines()
                    .find_map(|line| line.strip_prefix(prefix.as_str()))
                    .map_or(Ok(()), |message| Err(message.to_string()))
            })
            .collect(),
    )
}

/// A text as a YAML scalar that reads back as exactly that text.
fn yaml_string(text: &str) -> String {
    serde_json::to_string(text).expect("a JSON string is a YAML string")
}

/// Prometheus durations read the way promtool reads them: every text below goes into
/// a rule's `for:`, and `promtool check rules` must accept exactly those the model
/// parses, refuse the others with the model's message, and the model must print the
/// accepted ones back to a text that parses to the same value.
#[test]
fn model_durations_agree_with_promtool_check_rules() {
    const TEXTS: [&str; 30] = [
        "0",
        "5m",
        "1h30m",
        "05m",
        "90d",
        "1y1w1d1h1m1s1ms",
        "200y",
        "292y24w",
        "106751d",
        "9223372036854ms",
        "",
        "00",
        "5",
        "m",
        "10x",
        "1m1h",
        "1h1h",
        "5mm",
        "1.5h",
        "-5m",
        "1ms1s",
        "1w1y",
        "292y25w",
        "293y",
        "106752d",
        "9223372036855ms",
        "99999999999999999999s",
        "5m\u{1}",
        "1é",
        "5m ",
    ];
    let Some(verdicts) = promtool_check_rules("duration", &TEXTS, |text| {
        format!(
            "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up\n        for: {}\n",
            yaml_string(text)
        )
    }) else {
        return;
    };
    let mut differences = Vec::new();
    for (text, promtool) in TEXTS.iter().zip(verdicts) {
        let parsed = mlslo::prometheus::model::duration::parse_model_duration(text);
        if parsed.as_ref().map(|_| ()).map_err(String::clone) != promtool {
            differences.push(format!("{text:?}: promtool {promtool:?}, model {parsed:?}"));
        }
        if let Ok(millis) = parsed {
            let printed = mlslo::prometheus::model::duration::format_model_duration(millis);
            let reparsed = mlslo::prometheus::model::duration::parse_model_duration(&printed);
            if reparsed != Ok(millis) {
                differences.push(format!(
                    "{text:?} prints as {printed:?}, which reads {reparsed:?}"
                ));
            }
        }
    }
    assert!(differences.is_empty(), "{}", differences.join("\n"));
}

/// Number and duration literals in a rule's `expr` read as promtool 2.42 reads them:
/// Go's `strconv.ParseFloat` refuses a number beyond the float range (`1e400`) where
/// Rust's parse gives infinity, and Prometheus 2 has no numbers in a duration's place
/// or durations in a number's place. `promtool check rules`, `mlslo lint` and the
/// ruler's loader (`mlslo test`, backtest) must accept and refuse the same
/// expressions, the loader with promtool's message; and a unit test loading a refused
/// file fails in both `promtool test rules` and `mlslo test`.
#[test]
fn expression_literals_agree_with_promtool() {
    const EXPRESSIONS: [&str; 20] = [
        "vector(1e400)",
        "vector(-1.8e308)",
        "topk(1e400, up)",
        "up offset 1e400",
        "up[1e300]",
        "up[5m:1e400]",
        "vector(5m)",
        "rate(up[300])",
        "up offset 300",
        "up[5m:300]",
        "vector(infinity)",
        "vector(0x1p3)",
        "vector(1e-400)",
        "vector(1.7e308)",
        "vector(Inf) + vector(-inf) + vector(NaN)",
        "vector(123456789012345678901)",
        "vector(0x7fffffffffffffff)",
        "vector(0777)",
        "rate(up[5m:1m] offset 1h) * 1e308",
        "up[5m:]",
    ];
    let rule_file = |expr: &str| {
        format!(
            "groups:\n  - name: g\n    rules:\n      - record: x:y:z\n        expr: {}\n",
            yaml_string(expr)
        )
    };
    let Some(verdicts) = promtool_check_rules("expr", &EXPRESSIONS, rule_file) else {
        return;
    };
    let work = scratch("expression-literals");
    let mut differences = Vec::new();
    for (expr, promtool) in EXPRESSIONS.iter().zip(verdicts) {
        let text = rule_file(expr);
        std::fs::write(work.join("rules.yml"), &text).expect("write rules");
        let lint = run(MLSLO, &["lint", "rules.yml"], &work);
        let loaded = mlslo::prometheus::ruler::load_rule_file(
            "rules.yml",
            &text,
            mlslo::prometheus::ruler::RuleFileOptions::default(),
        );
        let promtool_message = promtool.as_ref().err().map(|message| {
            message
                .rsplit_once("parse error: ")
                .map_or(message.as_str(), |(_, reason)| reason)
                .to_string()
        });
        if lint.passed != promtool.is_ok() {
            differences.push(format!(
                "{expr}: promtool {promtool:?}, lint:\n{}{}",
                lint.stdout, lint.stderr
            ));
        }
        match (&loaded, &promtool_message) {
            (Ok(_), None) => {}
            // The messages of other malformed literals are promql-parser's own.
            (Err(_), Some(reason))
                if reason.starts_with("bad number") || !reason.contains("number") => {}
            (Err(errors), Some(reason)) if errors.join("\n").contains(reason.as_str()) => {}
            _ => differences.push(format!(
                "{expr}: promtool {promtool:?}, the ruler {:?}",
                loaded.map(|_| ())
            )),
        }
    }
    assert!(differences.is_empty(), "{}", differences.join("\n"));

    std::fs::write(work.join("rules.yml"), rule_file("vector(1e400)")).expect("write rules");
    let test = "rule_files: [rules.yml]\ntests:\n  - interval: 1m\n    promql_expr_test:\n      - expr: x:y:z\n        eval_time: 0m\n        exp_samples: []\n";
    std::fs::write(work.join("test.yml"), test).expect("write test");
    let theirs = run(PROMTOOL, &["test", "rules", "test.yml"], &work);
    let ours = run(MLSLO, &["test", "test.yml"], &work);
    assert_eq!(theirs.code, Some(1), "promtool: {}", theirs.stderr);
    assert!(
        !ours.passed && ours.stderr.contains("value out of range"),
        "mlslo test must fail the file as promtool does:\n{}{}",
        ours.stdout,
        ours.stderr
    );
}

/// Template number literals read as Go's text/template reads them (through
/// `strconv.ParseInt`, `ParseUint` and `ParseFloat`): `promtool check rules` and the
/// template validator must accept the same literals and refuse the others with the
/// same message.
#[test]
fn template_number_literals_agree_with_promtool_check_rules() {
    const LITERALS: [&str; 16] = [
        "1_000",
        "1__0",
        "1_",
        "0x1p-2",
        "0x_1p0",
        "0x10",
        "0x1.8",
        "0b101",
        "0o17",
        "017",
        "1e3",
        "1e",
        ".5",
        "1i",
        "0x1p1024",
        "99999999999999999999",
    ];
    let Some(verdicts) = promtool_check_rules("literal", &LITERALS, |literal| {
        format!(
            "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up\n        annotations:\n          a: {}\n",
            yaml_string(&format!("{{{{ {literal} }}}}"))
        )
    }) else {
        return;
    };
    let mut differences = Vec::new();
    for (literal, promtool) in LITERALS.iter().zip(verdicts) {
        let promtool = promtool.map_err(|message| {
            message
                .strip_prefix("group \"g\", rule 1, \"A\": annotation \"a\": ")
                .unwrap_or(&message)
                .to_string()
        });
        let ours = mlslo::prometheus::gotemplate::validate_alert_template(
            "A",
            &format!("{{{{ {literal} }}}}"),
        )
        .error
        .map_or(Ok(()), |error| Err(error.message));
        if ours != promtool {
            differences.push(format!("{literal}: promtool {promtool:?}, mlslo {ours:?}"));
        }
    }
    assert!(differences.is_empty(), "{}", differences.join("\n"));
}

/// Runs `rules` and `test` through promtool 2.42 and `mlslo test`: both must pass
/// (the test states what promtool computes) and print the same text. `None` when
/// promtool is missing outside CI.
fn passes_in_both(what: &str, rules: &str, test: &str) -> Option<()> {
    passes_in_both_with_warning(what, rules, test, "")
}

/// The same, where mlslo prints `warning` on stderr before promtool's text.
fn passes_in_both_with_warning(what: &str, rules: &str, test: &str, warning: &str) -> Option<()> {
    installed(PROMTOOL)?;
    let work = scratch(what);
    std::fs::write(work.join("rules.yml"), rules).expect("write rules");
    std::fs::write(work.join("test.yml"), test).expect("write test");
    let theirs = run(PROMTOOL, &["test", "rules", "test.yml"], &work);
    let ours = run(MLSLO, &["test", "test.yml"], &work);
    assert!(
        theirs.passed,
        "the case must state what promtool computes:\n{}{}",
        theirs.stdout, theirs.stderr
    );
    assert_eq!(
        (ours.passed, &ours.stdout, &ours.stderr),
        (
            theirs.passed,
            &theirs.stdout,
            &format!("{warning}{}", theirs.stderr)
        ),
        "mlslo against promtool"
    );
    Some(())
}

const INSTANCE_DOWN: &str = "groups:
  - name: alerts
    rules:
      - alert: InstanceDown
        expr: up == 0
        for: 5m
";

/// Prometheus' `failing.yml` case: promtool evaluates every step from 0 to the last
/// `eval_time`, so a single check at 5m sees the alert that has been pending since 0.
#[test]
fn an_alert_checked_once_fires_after_its_for() {
    passes_in_both(
        "alert-checked-once",
        INSTANCE_DOWN,
        "rule_files: [rules.yml]
tests:
  - interval: 1m
    input_series:
      - series: 'up{job=\"test\"}'
        values: '0x10'
    alert_rule_test:
      - eval_time: 5m
        alertname: InstanceDown
        exp_alerts:
          - exp_labels: {job: test}
",
    );
}

/// The same alert checked at 4m, 5m and 6m: the check at 5m sees what it sees alone.
#[test]
fn an_alert_checked_at_several_times_fires_after_its_for() {
    passes_in_both(
        "alert-checked-thrice",
        INSTANCE_DOWN,
        "rule_files: [rules.yml]
tests:
  - interval: 1m
    input_series:
      - series: 'up{job=\"test\"}'
        values: '0x10'
    alert_rule_test:
      - eval_time: 4m
        alertname: InstanceDown
      - eval_time: 5m
        alertname: InstanceDown
        exp_alerts:
          - exp_labels: {job: test}
      - eval_time: 6m
        alertname: InstanceDown
        exp_alerts:
          - exp_labels: {job: test}
",
    );
}

const SHIFTED_AND_PINNED: &str = "groups:
  - name: g
    rules:
      - record: shifted
        expr: a offset -2m
      - record: pinned
        expr: a @ 300
";

/// promtool loads the input step by step: a PromQL test between two evaluation steps
/// sees the input only up to the step before it (5m, not 7m).
#[test]
fn a_promql_test_between_steps_sees_the_input_up_to_the_last_step() {
    passes_in_both(
        "between-steps",
        SHIFTED_AND_PINNED,
        "rule_files: [rules.yml]
evaluation_interval: 5m
tests:
  - interval: 1m
    input_series:
      - series: a
        values: '0+1x10'
    promql_expr_test:
      - expr: a
        eval_time: 7m
        exp_samples:
          - labels: a
            value: 5
",
    );
}

/// A rule reading after its evaluation time (negative `offset`, `@` in the future)
/// finds only the input loaded by the current step, though the test runs to 8m.
#[test]
fn rules_reading_ahead_see_only_the_input_loaded_by_their_step() {
    passes_in_both(
        "reading-ahead",
        SHIFTED_AND_PINNED,
        "rule_files: [rules.yml]
tests:
  - interval: 1m
    input_series:
      - series: a
        values: '0+1x10'
    promql_expr_test:
      - expr: shifted
        eval_time: 2m
        exp_samples:
          - labels: shifted
            value: 2
      - expr: pinned
        eval_time: 2m
        exp_samples:
          - labels: pinned
            value: 2
      - expr: a
        eval_time: 8m
        exp_samples:
          - labels: a
            value: 8
",
    );
}

/// promtool 2.42 loads a test group without `interval` as `load 0s`: every sample at
/// 0, the first value of a series kept. mlslo does the same and says so.
#[test]
fn a_test_group_without_interval_keeps_the_first_value_at_zero() {
    passes_in_both_with_warning(
        "no-interval",
        "groups: []\n",
        "rule_files: [rules.yml]
tests:
  - input_series:
      - series: a
        values: '1 2 3'
    promql_expr_test:
      - expr: a
        eval_time: 2m
        exp_samples:
          - labels: a
            value: 1
",
        "  WARNING: test 1 has no interval: promtool 2.42 loads every input sample at 0s and keeps the first value of each series (promtool 3 spaces them by evaluation_interval); set interval\n",
    );
}

/// `ALERTS` and `ALERTS_FOR_STATE` start from the rule's labels as written: a label
/// template that expands to nothing leaves the alert without the label and the two
/// series with its text.
#[test]
fn alert_series_keep_the_text_of_a_label_template_that_expands_to_nothing() {
    passes_in_both(
        "unexpanded-label",
        "groups:
  - name: g
    rules:
      - alert: A
        expr: vector(1)
        labels:
          job: \"{{ $labels.job }}\"
",
        "rule_files: [rules.yml]
tests:
  - interval: 1m
    promql_expr_test:
      - expr: ALERTS
        eval_time: 1m
        exp_samples:
          - labels: 'ALERTS{alertname=\"A\", alertstate=\"firing\", job=\"{{ $labels.job }}\"}'
            value: 1
      - expr: ALERTS_FOR_STATE
        eval_time: 1m
        exp_samples:
          - labels: 'ALERTS_FOR_STATE{alertname=\"A\", job=\"{{ $labels.job }}\"}'
            value: 0
    alert_rule_test:
      - eval_time: 1m
        alertname: A
        exp_alerts:
          - exp_labels: {}
",
    );
}

/// promtool evaluates a rule through its printed text, whose matchers are sorted:
/// `job!~""` comes before `job="db"`, so `absent()` keeps `job` in the rule and drops
/// it in a PromQL test of the expression as written.
#[test]
fn absent_in_a_rule_reads_its_matchers_in_printed_order() {
    passes_in_both(
        "absent-printed-order",
        "groups:
  - name: g
    rules:
      - record: r
        expr: absent(nope{job=\"db\", job!~\"\"})
",
        "rule_files: [rules.yml]
tests:
  - interval: 1m
    promql_expr_test:
      - expr: r
        eval_time: 1m
        exp_samples:
          - labels: 'r{job=\"db\"}'
            value: 1
      - expr: 'absent(nope{job=\"db\", job!~\"\"})'
        eval_time: 1m
        exp_samples:
          - labels: '{}'
            value: 1
",
    );
}

/// `^` is Go's `math.Pow`, whose last bit differs from C's `pow` on these.
#[test]
fn powers_round_as_promtool_rounds_them() {
    passes_in_both(
        "go-pow",
        "groups: []\n",
        "rule_files: [rules.yml]
tests:
  - interval: 1m
    promql_expr_test:
      - expr: 0.1 ^ 60
        eval_time: 0m
        exp_samples:
          - value: 1.0000000000000066e-60
      - expr: 10 ^ 100
        eval_time: 0m
        exp_samples:
          - value: 1.0000000000000002e+100
",
    );
}

/// A binary operation with an empty side gives nothing before it matches anything, so
/// the duplicate `up` series under `on()` raise no error and the group goes on.
#[test]
fn a_binary_operation_with_an_empty_side_is_empty_without_a_matching_error() {
    passes_in_both(
        "empty-side",
        "groups:
  - name: g
    rules:
      - record: divided
        expr: nothing / on() up
      - record: joined
        expr: up * on() group_left nothing
      - record: compared
        expr: nothing > on() group_right up
      - record: counted
        expr: count(up)
",
        "rule_files: [rules.yml]
tests:
  - interval: 1m
    input_series:
      - series: 'up{job=\"a\"}'
        values: '1x5'
      - series: 'up{job=\"b\"}'
        values: '1x5'
    promql_expr_test:
      - expr: divided
        eval_time: 2m
      - expr: joined or compared
        eval_time: 2m
      - expr: counted
        eval_time: 2m
        exp_samples:
          - labels: counted
            value: 2
",
    );
}

/// `count_values` sets its label before grouping, so a `without` that names it drops it.
#[test]
fn count_values_without_its_own_label_counts_into_one_group() {
    passes_in_both(
        "count-values-without",
        "groups: []\n",
        "rule_files: [rules.yml]
tests:
  - interval: 1m
    input_series:
      - series: 'up{job=\"a\"}'
        values: '1'
      - series: 'up{job=\"b\"}'
        values: '0'
    promql_expr_test:
      - expr: count_values without (job) (\"job\", up)
        eval_time: 0m
        exp_samples:
          - labels: '{}'
            value: 2
      - expr: count_values by (job) (\"job\", up)
        eval_time: 0m
        exp_samples:
          - labels: '{job=\"0\"}'
            value: 1
          - labels: '{job=\"1\"}'
            value: 1
",
    );
}

/// Runs `rules` and `test` through `mlslo test` and promtool 2.42, promtool up to
/// `PROMTOOL_TRIES` times: promtool 2.42 creates the input series of one step by
/// walking a Go map, which for a few series starts at the first most of the time
/// (7 in 8 for two) and at a random one otherwise, so a test that shows the creation
/// order passes in most of its runs. mlslo follows the likely order and must pass with
/// the text of a passing promtool run.
fn passes_in_both_in_likely_series_order(what: &str, rules: &str, test: &str) -> Option<()> {
    const PROMTOOL_TRIES: usize = 6;
    installed(PROMTOOL)?;
    let work = scratch(what);
    std::fs::write(work.join("rules.yml"), rules).expect("write rules");
    std::fs::write(work.join("test.yml"), test).expect("write test");
    let mut runs = Vec::new();
    let theirs = loop {
        let run = run(PROMTOOL, &["test", "rules", "test.yml"], &work);
        if run.passed || runs.len() + 1 == PROMTOOL_TRIES {
            break run;
        }
        runs.push(run);
    };
    assert!(
        theirs.passed,
        "the case must state what promtool computes in most runs:\n{}{}",
        theirs.stdout, theirs.stderr
    );
    let ours = run(MLSLO, &["test", "test.yml"], &work);
    assert_eq!(
        (ours.passed, &ours.stdout, &ours.stderr),
        (theirs.passed, &theirs.stdout, &theirs.stderr),
        "mlslo against promtool"
    );
    Some(())
}

/// Series `b` is created before `a`: queries walk series in creation order, which the
/// `query` template function shows and the rounding of `stddev` depends on
/// (0.049999999999999996 adding 0.1 then 0.2, 0.05000000000000001 the other way).
#[test]
fn queries_walk_input_series_in_creation_order() {
    passes_in_both_in_likely_series_order(
        "creation-order",
        "groups:
  - name: g
    rules:
      - record: copied
        expr: x * 1
      - alert: Order
        expr: vector(1)
        annotations:
          input: '{{ range query \"x\" }}{{ .Labels.i }} {{ end }}'
          recorded: '{{ range query \"copied\" }}{{ .Labels.i }} {{ end }}'
",
        "rule_files: [rules.yml]
tests:
  - interval: 1m
    input_series:
      - series: 'x{i=\"b\"}'
        values: '0.1'
      - series: 'x{i=\"a\"}'
        values: '0.2'
    alert_rule_test:
      - eval_time: 0m
        alertname: Order
        exp_alerts:
          - exp_annotations:
              input: 'b a '
              recorded: 'b a '
    promql_expr_test:
      - expr: stddev(x)
        eval_time: 0m
        exp_samples:
          - value: 0.049999999999999996
      - expr: stddev(copied)
        eval_time: 0m
        exp_samples:
          - value: 0.049999999999999996
",
    );
}

/// A series whose first sample comes at a later step is created then, after the
/// series loaded before it, whatever its place in the input: here in every promtool
/// run, as each step creates one series.
#[test]
fn a_series_is_created_at_the_step_that_loads_its_first_sample() {
    passes_in_both(
        "creation-step",
        "groups:
  - name: g
    rules:
      - alert: Order
        expr: vector(1)
        annotations:
          input: '{{ range query \"x\" }}{{ .Labels.i }} {{ end }}'
",
        "rule_files: [rules.yml]
tests:
  - interval: 30s
    input_series:
      - series: 'x{i=\"a\"}'
        values: '_ _ 0.2 0.2'
      - series: 'x{i=\"b\"}'
        values: '0.1 0.1 0.1 0.1'
    alert_rule_test:
      - eval_time: 1m
        alertname: Order
        exp_alerts:
          - exp_annotations:
              input: 'b a '
    promql_expr_test:
      - expr: stddev(x)
        eval_time: 1m
        exp_samples:
          - value: 0.049999999999999996
",
    );
}

/// promtool reads the rule files for each test group: a file without tests passes
/// whatever its rule files hold.
#[test]
fn a_file_without_tests_never_reads_its_rule_files() {
    passes_in_both(
        "no-tests-bad-rules",
        "groups:\n  - name: g\n    bogus: 1\n",
        "rule_files: [rules.yml]\ntests: []\n",
    );
}
