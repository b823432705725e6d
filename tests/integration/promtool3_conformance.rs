//! `mlslo test --promtool-version 3` against promtool 3 as its source says it behaves
//! (promtool 3 is not installed here, so every expectation is read from Prometheus
//! v3.14.0, commit d15adb9ad7e5):
//!
//! - exit codes: the cases of `TestRulesUnitTest` and `TestRulesUnitTestRun` in
//!   `cmd/promtool/unittest_test.go`, on the copies of their files in
//!   `data/promtool-testdata/`, transcribed in [`UNITTEST_TEST_GO`] with their line.
//!   The cases run with `EnableAtModifier` or `EnableNegativeOffset` off (lines 90
//!   and 107, and the JUnit case) are not transcribed: `promtool test rules` always
//!   turns both on (`cmd/promtool/main.go`, `testRulesCmd`), so no command line
//!   reaches them. `unittest.yml` (line 43, exit 0) uses native histograms, which
//!   mlslo refuses on purpose (exit 1, every use named): [`NATIVE_HISTOGRAMS`].
//! - report text: `RulesUnitTestResult` prints no `Unit Testing:` line any more (it
//!   went with the JUnit output, Prometheus PR 14506), then `  SUCCESS` and a blank
//!   line on stdout, or `  FAILED:` and each error on stderr with a blank line per error
//!   on stdout; the errors are `testGroup.test`'s (`alertname: ..., time: ...` with the
//!   `eval_time`, `expr: ..., time: ...`), the PromQL values compared by its
//!   `compareFloat64` under `fuzzy_compare`, the input loaded by `promqltest`'s lazy
//!   loader from `queryOpts.StartTime` (`start_timestamp`) every `interval`, which
//!   `ruleUnitTest` defaults to `evaluation_interval` (Prometheus PR 13011). The files
//!   are in `data/promtool3/`.

use std::path::Path;

use crate::support::{data, mlslo, mlslo_in, stderr, stdout};

/// Runs `mlslo test --promtool-version 3 ARGS` in `folder`: exit code, stdout, stderr.
fn promtool_3(folder: &Path, args: &[&str]) -> (Option<i32>, String, String) {
    let arguments: Vec<&str> = ["test", "--promtool-version", "3"]
        .iter()
        .chain(args)
        .copied()
        .collect();
    let output = mlslo_in(folder, &arguments, &[]);
    (output.status.code(), stdout(&output), stderr(&output))
}

/// `unittest_test.go` line, its arguments as `mlslo test` options and file, the exit
/// code it wants.
const UNITTEST_TEST_GO: &[(u32, &[&str], i32)] = &[
    (50, &["long-period.yml"], 0),
    (57, &["bad-input-series.yml"], 1),
    (64, &["bad-promql.yml"], 1),
    (71, &["bad-rules-syntax-test.yml"], 1),
    (78, &["bad-rules-error-test.yml"], 1),
    (85, &["failing.yml"], 1),
    (99, &["at-modifier-test.yml"], 0),
    (116, &["negative-offset-test.yml"], 0),
    (126, &["no-test-group-interval.yml"], 0),
    (136, &["start-time-test.yml"], 0),
    (218, &["rules_run.yml"], 1),
    (
        226,
        &["--run", "correct", "--run", "wrong", "rules_run.yml"],
        1,
    ),
    (234, &["--run", "correct", "rules_run.yml"], 0),
    (242, &["--run", "wrong", "rules_run.yml"], 1),
    (
        249,
        &["--ignore-unknown-fields", "rules_run_extrafields.yml"],
        0,
    ),
    (257, &["rules_run_no_fuzzy.yml"], 1),
    (265, &["--run", "correct", "rules_run_fuzzy.yml"], 0),
    (273, &["--run", "wrong", "rules_run_fuzzy.yml"], 1),
];

/// Files promtool 3 passes that mlslo refuses for their native histograms.
const NATIVE_HISTOGRAMS: &[&str] = &["unittest.yml"];

#[test]
fn prometheus_promtool_test_files_exit_as_unittest_test_go_wants() {
    let folder = data("promtool-testdata");
    let mut differing = Vec::new();
    for &(line, args, want) in UNITTEST_TEST_GO {
        let (code, out, err) = promtool_3(&folder, args);
        if code != Some(want) {
            println!(
                "DIFFERS unittest_test.go:{line} {args:?}: want {want}, got {code:?}\n{out}{err}"
            );
            differing.push(line);
        }
    }
    assert_eq!(
        differing,
        Vec::<u32>::new(),
        "see the DIFFERS reports above"
    );
    for file in NATIVE_HISTOGRAMS {
        let (code, _, err) = promtool_3(&folder, &[file]);
        assert_eq!(code, Some(1), "{file}: {err}");
        assert!(err.contains("native histogram"), "{file}: {err}");
    }
}

#[test]
fn every_test_file_of_the_folder_has_an_expectation() {
    let folder = data("promtool-testdata");
    for entry in std::fs::read_dir(&folder).expect("the data folder exists") {
        let name = entry
            .expect("entry")
            .file_name()
            .to_string_lossy()
            .into_owned();
        let text = std::fs::read_to_string(folder.join(&name)).unwrap_or_default();
        let expected = UNITTEST_TEST_GO
            .iter()
            .any(|(_, args, _)| args.last() == Some(&name.as_str()))
            || NATIVE_HISTOGRAMS.contains(&name.as_str());
        if name.ends_with(".yml") && text.contains("\ntests:") {
            assert!(expected, "{name} is a test file: add its cases");
        }
    }
}

/// `ruleUnitTest` gives a group without `interval` the file's `evaluation_interval`;
/// 2.42 mode keeps promtool 2.42's load at 0s (its `Unit Testing:` line too).
#[test]
fn a_group_without_interval_is_spaced_by_the_evaluation_interval() {
    let folder = data("promtool3");
    assert_eq!(
        promtool_3(&folder, &["interval_default_test.yml"]),
        (Some(0), "  SUCCESS\n\n".to_string(), String::new())
    );
    let output = mlslo_in(&folder, &["test", "interval_default_test.yml"], &[]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        stdout(&output),
        "Unit Testing:  interval_default_test.yml\n\n\n"
    );
    assert!(
        stderr(&output).ends_with("  FAILED:\n    expr: \"a\", time: 4m,\n        exp: {__name__=\"a\"} 3E+00\n        got: {__name__=\"a\"} 1E+00\n"),
        "{}",
        stderr(&output)
    );
}

/// `compareFloat64`: one float apart matches, two do not, and the failure prints both
/// values in full (`parsedSample.String`, `strconv.FormatFloat(v, 'E', -1, 64)`).
#[test]
fn fuzzy_compare_matches_one_float_apart() {
    assert_eq!(
        promtool_3(&data("promtool3"), &["fuzzy_compare_test.yml"]),
        (
            Some(1),
            "\n\n".to_string(),
            "  FAILED:\n    expr: \"ratio\", time: 0s,\n        exp: {__name__=\"ratio\"} 3E-01\n        got: {__name__=\"ratio\"} 3.000000000000001E-01\n".to_string()
        )
    );
}

/// The group starts at `start_timestamp`: `time()` and `timestamp()` see 2024, the
/// alert fires from 1m after it, and the failing check names its `eval_time` (3m).
#[test]
fn a_start_timestamp_shifts_the_input_and_the_checks() {
    let expected = "  FAILED:\n    name: from 2024,\n    alertname: Down, time: 3m, \n        exp:[\n            0:\n              Labels:{alertname=\"Down\", job=\"a\"}\n              Annotations:{}\n            ], \n        got:[]\n";
    assert_eq!(
        promtool_3(&data("promtool3"), &["start_timestamp_test.yml"]),
        (Some(1), "\n\n".to_string(), expected.to_string())
    );
}

/// A file with native histograms is unusable here: exit 1 as promtool for a file it
/// cannot use, each use named by test group, item and series or expression.
#[test]
fn native_histograms_are_refused_by_name_and_place() {
    let (code, out, err) = promtool_3(&data("promtool3"), &["native_histogram_test.yml"]);
    assert_eq!(code, Some(1));
    assert_eq!(out, "\n\n\n");
    assert_eq!(
        err,
        "  FAILED:\ntest 1 (latency), input_series 1 (series \"latency\"): native histogram values ({{...}}) are not supported by mlslo test, whose PromQL engine has no native histograms\ntest 1 (latency), promql_expr_test 1 (expr \"latency\"), exp_samples 1: expected native histograms (histogram:) are not supported by mlslo test, whose PromQL engine has no native histograms\n"
    );
}

/// Several files: a verdict each, in argument order, without `Unit Testing:` lines.
#[test]
fn reports_have_no_unit_testing_line() {
    let (code, out, _) = promtool_3(
        &data("promtool3"),
        &["interval_default_test.yml", "interval_default_test.yml"],
    );
    assert_eq!(code, Some(0));
    assert_eq!(out, "  SUCCESS\n\n  SUCCESS\n\n");
}

/// promtool 3's options are refused under 2.42, which has none of them; both versions
/// are documented in `--help`.
#[test]
fn promtool_3_options_need_promtool_version_3() {
    let folder = data("promtool3");
    for option in [&["--run", "x"][..], &["--ignore-unknown-fields"][..]] {
        let arguments: Vec<&str> = ["test"]
            .iter()
            .chain(option)
            .chain(&["interval_default_test.yml"])
            .copied()
            .collect();
        let output = mlslo_in(&folder, &arguments, &[]);
        assert_eq!(output.status.code(), Some(2), "{option:?}");
        assert!(
            stderr(&output).contains("is a promtool 3 option: add --promtool-version 3"),
            "{}",
            stderr(&output)
        );
    }
    let help = stdout(&mlslo(&["test", "--help"]));
    assert!(help.contains("--promtool-version <VERSION>"), "{help}");
    assert!(help.contains("[possible values: 2.42, 3]"), "{help}");
    assert!(help.contains("[default: 2.42]"), "{help}");
}

/// Without `--ignore-unknown-fields`, `rulefmt.Parse` decodes with `KnownFields(true)`
/// and `ParseFile` prefixes the file: the unknown group keys, each at its line.
#[test]
fn unknown_rule_file_fields_are_refused_without_the_option() {
    let folder = data("promtool-testdata");
    assert_eq!(
        promtool_3(&folder, &["rules_run_extrafields.yml"]),
        (
            Some(1),
            "\n\n".to_string(),
            "  FAILED:\nrules_extrafields.yml: yaml: unmarshal errors:\n  line 7: field namespace not found in type rulefmt.RuleGroup\n  line 21: field ownership not found in type rulefmt.RuleGroup\n".to_string()
        )
    );
}
