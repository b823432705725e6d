//! Prometheus' own `promtool test rules` files (`data/promtool-testdata/`, copied from
//! `cmd/promtool/testdata/`) through `mlslo test` and promtool 2.42: on every test file
//! the same verdict, the same exit code and the same report (stdout and stderr).
//!
//! The files written for Prometheus 3 (`fuzzy_compare`, `start_timestamp`, native
//! histograms in `exp_samples`, a test group without `interval`) are judged by what
//! promtool 2.42 does with them, as this is `mlslo test`'s default mode. Both tools run
//! in the data folder on the bare file name, so the reports name the same paths.
//!
//! Fails when `CI` is set and promtool is missing; elsewhere it says so and passes.

use std::path::Path;
use std::process::Command;

use crate::support::{data, installed, MLSLO, PROMTOOL};

/// The test files `cmd/promtool/unittest_test.go` (Prometheus v3.14.0) runs through
/// `RulesUnitTest`, with the line of its case; the other `.yml` files of the folder are
/// the rule files they name.
const TEST_FILES: &[(&str, u32)] = &[
    ("unittest.yml", 43),
    ("long-period.yml", 50),
    ("bad-input-series.yml", 57),
    ("bad-promql.yml", 64),
    ("bad-rules-syntax-test.yml", 71),
    ("bad-rules-error-test.yml", 78),
    ("failing.yml", 85),
    ("at-modifier-test.yml", 92),
    ("negative-offset-test.yml", 109),
    ("no-test-group-interval.yml", 126),
    ("start-time-test.yml", 136),
    ("rules_run.yml", 218),
    ("rules_run_extrafields.yml", 249),
    ("rules_run_no_fuzzy.yml", 257),
    ("rules_run_fuzzy.yml", 265),
];

/// Files whose report still differs from promtool 2.42's, each with what differs. The
/// test fails when one of them agrees, so that the list only shrinks.
const KNOWN_DIFFERENCES: &[(&str, &str)] = &[];

/// The most runs of promtool on one file before its report counts as different from
/// ours; see where it is used.
const PROMTOOL_RUNS: usize = 16;

#[derive(Debug, PartialEq, Eq)]
struct Report {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

fn run(program: &str, args: &[&str], dir: &Path) -> Report {
    let output = Command::new(program)
        .args(args)
        .current_dir(dir)
        .env_remove("NO_COLOR")
        .output()
        .unwrap_or_else(|e| panic!("running {program}: {e}"));
    Report {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// `mlslo test`'s report without its own notes on what promtool does silently (a test
/// group without `interval`, a verdict that depends on promtool's random group order):
/// they add a line before promtool's text and change nothing in it. promtool's own
/// warnings never name promtool, so they stay.
fn without_notes_on_promtool(stderr: &str) -> String {
    stderr
        .split_inclusive('\n')
        .filter(|line| !(line.starts_with("  WARNING: ") && line.contains("promtool")))
        .collect()
}

#[test]
fn prometheus_promtool_test_files_give_promtool_2_42_reports() {
    if installed(PROMTOOL).is_none() {
        return;
    }
    let folder = data("promtool-testdata");
    let mut agreeing = 0;
    let mut differing = Vec::new();
    for &(file, line) in TEST_FILES {
        let ours = run(MLSLO, &["test", file], &folder);
        let ours = Report {
            stderr: without_notes_on_promtool(&ours.stderr),
            ..ours
        };
        // promtool 2.42 loads input series in Go's random map order, which decides the
        // order of the series an error lists (`bad-promql.yml` names `b="4"` first in
        // about seven runs of eight): any report promtool gives is promtool's report.
        let theirs = run(PROMTOOL, &["test", "rules", file], &folder);
        let agrees = theirs == ours
            || (1..PROMTOOL_RUNS).any(|_| run(PROMTOOL, &["test", "rules", file], &folder) == ours);
        if agrees {
            agreeing += 1;
        } else {
            println!(
                "DIFFERS {file} (unittest_test.go:{line})\n--- promtool 2.42\n{:#?}\n--- mlslo test\n{ours:#?}",
                theirs
            );
            differing.push(file);
        }
    }
    println!(
        "{agreeing} of {} files agree with promtool 2.42 on verdict, exit code and report",
        TEST_FILES.len()
    );
    let known: Vec<&str> = KNOWN_DIFFERENCES.iter().map(|(file, _)| *file).collect();
    assert_eq!(
        differing, known,
        "the files that differ from promtool 2.42 (see the DIFFERS reports above)"
    );
}

#[test]
fn every_test_file_of_the_folder_is_compared() {
    let folder = data("promtool-testdata");
    for &(file, _) in TEST_FILES {
        assert!(folder.join(file).is_file(), "{file} is in the data folder");
    }
    for entry in std::fs::read_dir(&folder).expect("the data folder exists") {
        let name = entry
            .expect("entry")
            .file_name()
            .to_string_lossy()
            .into_owned();
        let text = std::fs::read_to_string(folder.join(&name)).unwrap_or_default();
        if name.ends_with(".yml") && text.contains("\ntests:") {
            assert!(
                TEST_FILES.iter().any(|(file, _)| *file == name),
                "{name} is a test file: add it to TEST_FILES"
            );
        }
    }
}

/// Queries Prometheus' parser refuses, one of each message `mlslo test` words as
/// promtool does (`prometheus_parse_error`).
const MALFORMED_QUERIES: &[&str] = &[
    // Literals Prometheus 2 refuses and promql-parser reads.
    "vector(1e400)",
    "up[300]",
    "up offset 300",
    "up[5m:300]",
    "vector(5m)",
    "rate(up[1e300])",
    "test +",
    "a ==bool",
    "1 < bool",
    "-",
    "foo bar",
    "a + b c",
    "sum by (a) (b) c",
    "sum without(a) (b) by (c)",
    "1 +* 2",
    "up @ foo",
    "sum(up) by",
    "topk(3, up) by",
    "rate(x[5m] offset)",
    r#"up{job="a" foo="b"}"#,
    "sum(",
    "(a",
    "rate(up[5m]",
    "up{",
    r#"up{job="x""#,
    "up[5m",
    "x[5m:1m",
    "up offset",
    ")",
    "(a + b)) ",
    "a + on(x) group_left(x) b",
    r#"{a=~"+"}"#,
    r#"a{b!~"("}"#,
    r#"foo{a!~"a)"}"#,
    r#"up{job=~"a{2,1}"}"#,
    r#"foo{a=~"[a"}"#,
    r#"foo{a=~"\\q"}"#,
    "unknown_fn(up)",
    "abs(up, up)",
    "rate(up)",
    "a and 1",
    "1 == 1",
    "topk(up)",
    r#""a" + 1"#,
    "{}",
    "a offset 5m offset 5m",
];

/// Input series whose label set Prometheus' lexer refuses.
const MALFORMED_SERIES: &[&str] = &[
    r#"up{job="a""#,
    r#"up{job="a","#,
    r#"up{job="prometheus" 0"#,
    r#"up{j0b="a" 1}"#,
];

/// Runs `test` (with `rules.yml` beside it) through both tools: the same report.
fn same_report_as_promtool(what: &str, rules: &str, test: &str) {
    let work = crate::support::scratch(what);
    std::fs::write(work.join("rules.yml"), rules).expect("write rules");
    std::fs::write(work.join("test.yml"), test).expect("write test");
    let theirs = run(PROMTOOL, &["test", "rules", "test.yml"], &work);
    let ours = run(MLSLO, &["test", "test.yml"], &work);
    let ours = Report {
        stderr: without_notes_on_promtool(&ours.stderr),
        ..ours
    };
    assert_eq!(ours, theirs, "{what}: mlslo test against promtool 2.42");
}

#[test]
fn malformed_queries_are_reported_in_promtool_2_42_words() {
    if installed(PROMTOOL).is_none() {
        return;
    }
    let quoted = |text: &str| serde_json::to_string(text).expect("a string serialises");
    let mut test = String::from("tests:\n  - interval: 1m\n    promql_expr_test:\n");
    let mut rules = String::from("groups:\n  - name: malformed\n    rules:\n");
    for query in MALFORMED_QUERIES {
        test.push_str(&format!(
            "      - expr: {}\n        eval_time: 0m\n",
            quoted(query)
        ));
        rules.push_str(&format!(
            "      - record: x\n        expr: {}\n",
            quoted(query)
        ));
    }
    same_report_as_promtool("promtool-malformed-queries", "groups: []\n", &test);
    same_report_as_promtool(
        "promtool-malformed-rules",
        &rules,
        "rule_files: [rules.yml]\ntests:\n  - interval: 1m\n",
    );
    for series in MALFORMED_SERIES {
        same_report_as_promtool(
            "promtool-malformed-series",
            "groups: []\n",
            &format!(
                "tests:\n  - interval: 1m\n    input_series:\n      - series: {}\n        values: 1 2\n",
                quoted(series)
            ),
        );
    }
}
