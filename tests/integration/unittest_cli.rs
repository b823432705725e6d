//! `mlslo test` end to end: exit statuses, output order over several files, and the
//! warning for tests whose verdict depends on the order of rule groups.

use crate::support::{data, mlslo_in, scratch, stderr, stdout};

/// Runs `mlslo test` in `tests/data/unittest`: exit code, stdout, stderr.
fn mlslo_test(args: &[&str]) -> (Option<i32>, String, String) {
    let arguments: Vec<&str> = ["test"].iter().chain(args).copied().collect();
    let output = mlslo_in(&data("unittest"), &arguments, &[]);
    (output.status.code(), stdout(&output), stderr(&output))
}

/// A run long enough for a progress bar (300,001 steps) prints exactly what a short
/// one prints when stderr is not a terminal; on a terminal (through `script`, which
/// gives the run one) the bar is drawn while it runs.
#[test]
fn long_runs_show_progress_only_on_a_terminal() {
    let dir = scratch("unittest-cli-progress");
    std::fs::write(
        dir.join("rules.yml"),
        "groups:\n  - name: g\n    rules:\n      - alert: Up\n        expr: up == 1\n",
    )
    .expect("write rules");
    let test = "rule_files: [rules.yml]\ntests:\n  - interval: 1m\n    input_series:\n      - series: up\n        values: 1x10\n    alert_rule_test:\n      - eval_time: 300000m\n        alertname: Up\n";
    std::fs::write(dir.join("long_test.yml"), test).expect("write test");
    let output = mlslo_in(&dir, &["test", "long_test.yml"], &[]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(
        stdout(&output),
        "Unit Testing:  long_test.yml\n  SUCCESS\n\n"
    );
    assert_eq!(stderr(&output), "");
    if std::process::Command::new("script")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("`script` is missing: the terminal half did not run");
        return;
    }
    let command = format!("{} test long_test.yml", crate::support::MLSLO);
    let on_terminal = std::process::Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .current_dir(&dir)
        .output()
        .expect("run script");
    let text = stdout(&on_terminal);
    assert!(text.contains("/300001 steps"), "{text}");
    assert!(text.contains("Unit Testing:  long_test.yml"), "{text}");
}

#[test]
fn passing_files_exit_zero() {
    let (code, stdout, stderr) = mlslo_test(&["rules_test.yml", "features_test.yml"]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert_eq!(
        stdout,
        "Unit Testing:  rules_test.yml\n  SUCCESS\n\nUnit Testing:  features_test.yml\n  SUCCESS\n\n"
    );
}

#[test]
fn a_failing_test_exits_one_and_files_keep_argument_order() {
    let (code, stdout, stderr) = mlslo_test(&["rules_test_fail.yml", "boundary_test.yml"]);
    assert_eq!(code, Some(1));
    assert_eq!(
        stdout,
        "Unit Testing:  rules_test_fail.yml\n\n\nUnit Testing:  boundary_test.yml\n  SUCCESS\n\n"
    );
    assert!(stderr.contains("1.5000000000000002E+01"), "{stderr}");
}

/// promtool 2.42 exits 1 on a file it refuses (an unknown field, a rule without
/// `expr`), as on a failed test; a file that cannot be read is not tested at all.
#[test]
fn invalid_files_exit_one_as_in_promtool_and_unreadable_ones_two() {
    let dir = scratch("unittest-cli-bad-files");
    let unknown_field = dir.join("unknown_field_test.yml");
    std::fs::write(&unknown_field, "rule_files: []\ntestz: []\n").expect("write");
    let bad_rules = dir.join("bad_rules.yml");
    std::fs::write(
        &bad_rules,
        "groups:\n  - name: g\n    rules:\n      - record: x\n",
    )
    .expect("write");
    let uses_bad_rules = dir.join("uses_bad_rules_test.yml");
    std::fs::write(
        &uses_bad_rules,
        "rule_files: [bad_rules.yml]\ntests:\n  - interval: 1m\n",
    )
    .expect("write");
    for file in [&unknown_field, &uses_bad_rules] {
        let (code, _, stderr) = mlslo_test(&[file.to_str().expect("utf-8 path")]);
        assert_eq!(code, Some(1), "{stderr}");
        assert!(stderr.contains("  FAILED:"), "{stderr}");
    }
    let (code, _, stderr) = mlslo_test(&["no_such_file_test.yml"]);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("no such file or directory"), "{stderr}");
}

/// A `for` of a century made a generated test of 52 million one-minute steps that took
/// 4.8 GB; both the steps and the input series are bounded, with an error naming the
/// limit, before anything proportional to them is allocated.
#[test]
fn absurd_test_durations_are_refused_with_the_limit() {
    let dir = scratch("unittest-cli-absurd");
    std::fs::write(
        dir.join("rules.yml"),
        "groups:\n  - name: g\n    rules:\n      - alert: High\n        expr: score > 0.3\n        for: 36500d\n",
    )
    .expect("write");
    let long_evaluation = "rule_files: [rules.yml]\ntests:\n  - interval: 1m\n    input_series:\n      - series: score\n        values: 1.3x10\n    alert_rule_test:\n      - eval_time: 36500d2m\n        alertname: High\n";
    let long_series = "rule_files: [rules.yml]\ntests:\n  - interval: 1m\n    input_series:\n      - series: score\n        values: 1.3x52560002\n    alert_rule_test:\n      - eval_time: 5m\n        alertname: High\n";
    for (name, text, limit) in [
        (
            "evaluation_test.yml",
            long_evaluation,
            "at most 5000000 per test group",
        ),
        ("series_test.yml", long_series, "longer than 5000000 points"),
    ] {
        let file = dir.join(name);
        std::fs::write(&file, text).expect("write");
        let (code, _, stderr) = mlslo_test(&[file.to_str().expect("utf-8 path")]);
        assert_eq!(code, Some(2), "{name}: {stderr}");
        assert!(stderr.contains(limit), "{name}: {stderr}");
    }
}

#[test]
fn order_dependent_tests_pass_in_file_order_and_warn() {
    let (code, stdout, stderr) = mlslo_test(&["order-dependent/features_unordered_test.yml"]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(
        stderr.contains("WARNING: test 1 (features) passes only in file order")
            && stderr.contains(r#"rule groups "record", "alerts""#),
        "{stderr}"
    );
    // With group_eval_order the order is fixed and nothing is reported.
    let (code, _, stderr) = mlslo_test(&["features_test.yml"]);
    assert_eq!(code, Some(0));
    assert!(!stderr.contains("WARNING"), "{stderr}");
}
