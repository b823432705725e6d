//! The evaluation plan held to promtool's: random rule files, inputs and sets of check
//! times give the same report with the range-query shortcut as with one instant query
//! per rule and step (also from a promtool 3 `start_timestamp`), and an alert check
//! gives the same result whichever other times the test asks about. Then promtool 3's
//! differences from 2.42, each read from Prometheus v3.14.0's `cmd/promtool/unittest.go`
//! (`ruleUnitTest` and `testGroup.test`).
//!
//! Invariants: inputs stay small (at most a few dozen steps), so the default
//! `PROPTEST_CASES` (256) runs in seconds; `PROPTEST_CASES=20000` explores further.

use std::collections::BTreeMap;

use proptest::prelude::*;

use super::{
    next_after, run_test_text, start_timestamp_ms, Comparison, EvaluationPlan, FileAccess,
    NoProgress, PromtoolVersion, RunOptions, Stream, Verdict,
};

/// Files held in memory, under their names.
struct Memory(BTreeMap<String, String>);

impl FileAccess for Memory {
    fn glob(&self, pattern: &str) -> Result<Vec<String>, String> {
        Ok(self
            .0
            .contains_key(pattern)
            .then(|| pattern.to_string())
            .into_iter()
            .collect())
    }

    fn read(&self, path: &str) -> Result<String, String> {
        self.0
            .get(path)
            .cloned()
            .ok_or_else(|| format!("open {path}: no such file or directory"))
    }

    fn join(&self, _base: &str, path: &str) -> String {
        path.to_string()
    }
}

/// The whole report of one test file: verdict, warnings and failures.
fn report(rules: &str, test: &str, plan: EvaluationPlan) -> (Verdict, Vec<String>) {
    report_as(rules, test, plan, &RunOptions::default())
}

/// [`report`] as `options` say.
fn report_as(
    rules: &str,
    test: &str,
    plan: EvaluationPlan,
    options: &RunOptions,
) -> (Verdict, Vec<String>) {
    let files = Memory(BTreeMap::from([(
        "rules.yml".to_string(),
        rules.to_string(),
    )]));
    let mut output = Vec::new();
    let (verdict, mut errors) = run_test_text(
        test,
        ".",
        &files,
        1,
        options,
        plan,
        &NoProgress,
        &mut output,
    );
    errors.extend(
        output
            .into_iter()
            .filter(|(stream, _)| *stream == Stream::Stderr)
            .map(|(_, text)| text),
    );
    (verdict, errors)
}

/// Expressions over the input series `a` and `b` only (range-planned) and over
/// recorded series (evaluated step by step), with offsets both ways.
const EXPRESSIONS: &[&str] = &[
    "a",
    "a > 2",
    "a == 0",
    "sum(a)",
    "stddev(a)",
    "sum by (i) (a) + 1",
    "rate(a[3m])",
    "max_over_time(b[2m])",
    "count_over_time(a[5m:])",
    "a offset 1m",
    "a offset -1m",
    "b offset -2m > 1",
    "a @ 120",
    "sum_over_time(a[2m:30s] offset -1m)",
    "a * on(i) b",
    "absent(b)",
    "vector(1)",
    "r0 * 2",
    "count(r1)",
    "ALERTS",
    "changes(r0[4m])",
];

const DURATIONS: &[&str] = &["0s", "30s", "1m", "2m", "5m"];

#[derive(Clone, Debug)]
struct GeneratedRule {
    alert: bool,
    expr: usize,
    for_index: usize,
    keep_firing: bool,
}

#[derive(Clone, Debug)]
struct GeneratedSeries {
    name: &'static str,
    instance: u8,
    values: Vec<u8>,
}

fn value_text(code: u8) -> String {
    match code {
        0 => "_".to_string(),
        1 => "stale".to_string(),
        n => format!("{}", f64::from(n - 2) / 2.0),
    }
}

fn rule_file(groups: &[Vec<GeneratedRule>]) -> String {
    let mut text = String::from("groups:\n");
    let (mut recorded, mut alerts) = (0, 0);
    for (index, rules) in groups.iter().enumerate() {
        text.push_str(&format!("  - name: g{index}\n    rules:\n"));
        for rule in rules {
            let expr = EXPRESSIONS[rule.expr % EXPRESSIONS.len()];
            if rule.alert {
                text.push_str(&format!(
                    "      - alert: A{}\n        expr: '{expr}'\n        for: {}\n",
                    alerts % 3,
                    DURATIONS[rule.for_index % DURATIONS.len()]
                ));
                if rule.keep_firing {
                    text.push_str("        keep_firing_for: 1m\n");
                }
                alerts += 1;
            } else {
                text.push_str(&format!(
                    "      - record: r{recorded}\n        expr: '{expr}'\n"
                ));
                recorded += 1;
            }
        }
    }
    text
}

fn test_file(
    evaluation_interval: &str,
    interval: &str,
    series: &[GeneratedSeries],
    alert_checks: &[(u32, u8)],
    promql_checks: &[(u32, usize)],
) -> String {
    let mut text = format!(
        "rule_files: [rules.yml]\nevaluation_interval: {evaluation_interval}\ntests:\n  - interval: {interval}\n    input_series:\n"
    );
    for s in series {
        let values: Vec<String> = s.values.iter().map(|&v| value_text(v)).collect();
        text.push_str(&format!(
            "      - series: '{}{{i=\"{}\"}}'\n        values: '{}'\n",
            s.name,
            s.instance,
            values.join(" ")
        ));
    }
    text.push_str("    alert_rule_test:\n");
    for (seconds, alert) in alert_checks {
        text.push_str(&format!(
            "      - eval_time: {seconds}s\n        alertname: A{alert}\n"
        ));
    }
    text.push_str("    promql_expr_test:\n");
    for (seconds, expr) in promql_checks {
        text.push_str(&format!(
            "      - eval_time: {seconds}s\n        expr: '{}'\n",
            EXPRESSIONS[expr % EXPRESSIONS.len()]
        ));
    }
    text
}

fn rules_strategy() -> impl Strategy<Value = Vec<Vec<GeneratedRule>>> {
    let rule = (
        any::<bool>(),
        0..EXPRESSIONS.len(),
        0..DURATIONS.len(),
        any::<bool>(),
    )
        .prop_map(|(alert, expr, for_index, keep_firing)| GeneratedRule {
            alert,
            expr,
            for_index,
            keep_firing,
        });
    prop::collection::vec(prop::collection::vec(rule, 1..4), 1..3)
}

fn series_strategy() -> impl Strategy<Value = Vec<GeneratedSeries>> {
    let one = (
        prop::sample::select(&["a", "b"][..]),
        1u8..3,
        prop::collection::vec(0u8..10, 0..24),
    )
        .prop_map(|(name, instance, values)| GeneratedSeries {
            name,
            instance,
            values,
        });
    prop::collection::vec(one, 1..4)
}

/// Check times on a 15 s grid, so some fall between evaluation steps.
fn times_strategy(most: usize) -> impl Strategy<Value = Vec<u32>> {
    prop::collection::vec((0u32..60).prop_map(|quarter| quarter * 15), 1..most)
}

proptest! {
    #[test]
    fn range_queries_report_what_step_by_step_evaluation_reports(
        groups in rules_strategy(),
        series in series_strategy(),
        evaluation_interval in prop::sample::select(&["30s", "1m", "2m"][..]),
        interval in prop::sample::select(&["30s", "1m", "90s"][..]),
        alert_times in times_strategy(5),
        alert_names in prop::collection::vec(0u8..3, 5),
        promql_times in times_strategy(3),
        promql_exprs in prop::collection::vec(0..EXPRESSIONS.len(), 3),
    ) {
        let rules = rule_file(&groups);
        let alert_checks: Vec<(u32, u8)> =
            alert_times.iter().copied().zip(alert_names.iter().copied()).collect();
        let promql_checks: Vec<(u32, usize)> =
            promql_times.iter().copied().zip(promql_exprs.iter().copied()).collect();
        let test = test_file(evaluation_interval, interval, &series, &alert_checks, &promql_checks);
        let reference = report(&rules, &test, EvaluationPlan::StepByStep);
        let fast = report(&rules, &test, EvaluationPlan::RangeQueriesWherePossible);
        prop_assert_eq!(&fast, &reference, "\n{}\n{}", rules, test);
    }

    #[test]
    fn an_alert_check_does_not_depend_on_the_other_check_times(
        groups in rules_strategy(),
        series in series_strategy(),
        evaluation_interval in prop::sample::select(&["30s", "1m", "2m"][..]),
        interval in prop::sample::select(&["30s", "1m", "90s"][..]),
        alert_times in times_strategy(5),
        alert_names in prop::collection::vec(0u8..3, 5),
    ) {
        let rules = rule_file(&groups);
        let alert_checks: Vec<(u32, u8)> =
            alert_times.iter().copied().zip(alert_names.iter().copied()).collect();
        let together = test_file(evaluation_interval, interval, &series, &alert_checks, &[]);
        let (_, all) = report(&rules, &together, EvaluationPlan::StepByStep);
        // A rule that fails ends the test group at that step, so later checks vanish.
        prop_assume!(all.iter().all(|failure| !failure.starts_with("    rule: ")));
        let mut alone = Vec::new();
        for check in &alert_checks {
            let single = test_file(evaluation_interval, interval, &series, &[*check], &[]);
            alone.extend(report(&rules, &single, EvaluationPlan::RangeQueriesWherePossible).1);
        }
        // The group-order warning is per test group: one for the checks together,
        // one per failing check alone, so only the failures compare.
        let failures = |mut reports: Vec<String>| {
            reports.retain(|line| !line.starts_with("  WARNING: "));
            reports.sort();
            reports
        };
        prop_assert_eq!(failures(all), failures(alone), "\n{}\n{}", rules, together);
    }
}

proptest! {
    // Fewer cases: the plain property above covers the plans; this one adds the start.
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn range_queries_report_what_step_by_step_evaluation_reports_from_a_start_timestamp(
        groups in rules_strategy(),
        series in series_strategy(),
        evaluation_interval in prop::sample::select(&["30s", "1m"][..]),
        start in prop::sample::select(&["1704067200", "1704067230.5", "-90"][..]),
        alert_times in times_strategy(4),
        alert_names in prop::collection::vec(0u8..3, 4),
        promql_times in times_strategy(3),
        promql_exprs in prop::collection::vec(0..EXPRESSIONS.len(), 3),
    ) {
        let rules = rule_file(&groups);
        let alert_checks: Vec<(u32, u8)> =
            alert_times.iter().copied().zip(alert_names.iter().copied()).collect();
        let promql_checks: Vec<(u32, usize)> =
            promql_times.iter().copied().zip(promql_exprs.iter().copied()).collect();
        let test = test_file(evaluation_interval, "1m", &series, &alert_checks, &promql_checks)
            .replacen("    input_series:\n", &format!("    start_timestamp: {start}\n    input_series:\n"), 1);
        let v3 = RunOptions { version: PromtoolVersion::V3, ..RunOptions::default() };
        let reference = report_as(&rules, &test, EvaluationPlan::StepByStep, &v3);
        let fast = report_as(&rules, &test, EvaluationPlan::RangeQueriesWherePossible, &v3);
        prop_assert_eq!(&fast, &reference, "\n{}\n{}", rules, test);
    }
}

fn promtool_3() -> RunOptions {
    RunOptions {
        version: PromtoolVersion::V3,
        ..RunOptions::default()
    }
}

fn under(version: PromtoolVersion, rules: &str, test: &str) -> (Verdict, Vec<String>) {
    let options = RunOptions {
        version,
        ..RunOptions::default()
    };
    report_as(
        rules,
        test,
        EvaluationPlan::RangeQueriesWherePossible,
        &options,
    )
}

/// `ruleUnitTest`: `if t.Interval == 0 { t.Interval = unitTestInp.EvaluationInterval }`
/// (Prometheus PR 13011); 2.42 loads every sample at 0s, the first value winning.
#[test]
fn a_group_without_interval_is_spaced_by_the_evaluation_interval_under_promtool_3() {
    let test = |expected: u8| {
        format!("evaluation_interval: 1m\ntests:\n  - input_series:\n      - series: a\n        values: 1 2 3\n    promql_expr_test:\n      - expr: a\n        eval_time: 2m\n        exp_samples:\n          - labels: a\n            value: {expected}\n")
    };
    assert_eq!(under(PromtoolVersion::V3, "", &test(3)).0, Verdict::Success);
    assert_eq!(under(PromtoolVersion::V3, "", &test(1)).0, Verdict::Failed);
    let (verdict, report) = under(PromtoolVersion::V2_42, "", &test(1));
    assert_eq!(verdict, Verdict::Success);
    assert!(report[0].contains("has no interval"), "{report:?}");
    let slow = test(3).replace("evaluation_interval: 1m", "evaluation_interval: 2m");
    let (verdict, report) = under(PromtoolVersion::V3, "", &slow);
    assert_eq!(
        verdict,
        Verdict::Failed,
        "a at 2m is the 2nd value at 2m spacing"
    );
    assert!(
        report[0].contains("got: {__name__=\"a\"} 2E+00"),
        "{report:?}"
    );
}

/// `testGroup.test`'s comparer: `x == y || math.Nextafter(x, -Inf) == y ||
/// math.Nextafter(x, +Inf) == y`.
#[test]
fn fuzzy_compare_lets_values_one_float_apart_match() {
    assert_eq!(next_after(1.0, 2.0), 1.0000000000000002);
    assert_eq!(next_after(-1.0, 0.0), -0.9999999999999999);
    assert_eq!(next_after(-1.0, f64::NEG_INFINITY), -1.0000000000000002);
    assert_eq!(next_after(f64::MAX, f64::INFINITY), f64::INFINITY);
    assert_eq!(next_after(f64::INFINITY, 0.0), f64::MAX);
    let fuzzy = Comparison::OneFloatApart;
    assert!(fuzzy.matches(3.0, 3.0000000000000004));
    assert!(fuzzy.matches(3.0, 2.9999999999999996));
    assert!(!fuzzy.matches(3.0, 3.000000000000001));
    assert!(!Comparison::Exact.matches(3.0, 3.0000000000000004));
    assert!(fuzzy.matches(0.0, -0.0) && fuzzy.matches(0.0, -5e-324));
    assert!(fuzzy.matches(f64::INFINITY, f64::MAX));
    assert!(!fuzzy.matches(f64::NAN, f64::NAN));
    let test = |fuzzy: bool, got: &str| {
        format!("fuzzy_compare: {fuzzy}\ntests:\n  - interval: 1m\n    input_series:\n      - series: a\n        values: {got}\n    promql_expr_test:\n      - expr: a\n        eval_time: 0s\n        exp_samples:\n          - labels: a\n            value: 3\n")
    };
    let verdict = |fuzzy, got| under(PromtoolVersion::V3, "", &test(fuzzy, got)).0;
    assert_eq!(verdict(true, "3.0000000000000004"), Verdict::Success);
    assert_eq!(verdict(true, "3.0000000000000013"), Verdict::Failed);
    assert_eq!(verdict(false, "3.0000000000000004"), Verdict::Failed);
    let (verdict, report) = under(PromtoolVersion::V2_42, "", &test(true, "3"));
    assert_eq!(verdict, Verdict::Bad);
    assert_eq!(
        report,
        ["yaml: unmarshal errors:\n  line 1: field fuzzy_compare not found in type main.unitTestFile"]
    );
}

/// `parseTime` of cmd/promtool/query.go: a float of Unix seconds, else RFC 3339.
#[test]
fn start_timestamps_read_as_promtool_3_reads_them() {
    let ms = |text: &str| start_timestamp_ms(&Some(text.to_string()));
    assert_eq!(start_timestamp_ms(&None), Ok(0));
    assert_eq!(ms("1609459200"), Ok(1_609_459_200_000));
    assert_eq!(ms("1.5"), Ok(1_500));
    assert_eq!(ms("-1.5"), Ok(-1_500));
    assert_eq!(ms("2024-01-01T00:00:00Z"), Ok(1_704_067_200_000));
    assert_eq!(ms("2024-01-01T01:00:00.25+01:00"), Ok(1_704_067_200_250));
    assert_eq!(
        ms("yesterday"),
        Err("cannot parse \"yesterday\" to a valid timestamp".to_string())
    );
    assert_eq!(
        ms(""),
        Err("cannot parse \"\" to a valid timestamp".to_string())
    );
}

/// `testGroup.test`: the loader's `StartTime`, `mint` and the PromQL tests' time all
/// start at `start_timestamp`; a rule's error names its time since the epoch
/// (`ts.Sub(time.Unix(0, 0))`), an alert check its `eval_time`.
#[test]
fn a_start_timestamp_moves_the_input_the_evaluation_and_the_checks() {
    let rules = "groups:\n  - name: g\n    rules:\n      - alert: High\n        expr: a > 1\n        for: 1m\n      - record: at_start\n        expr: a @ 1704067200\n";
    let test = "rule_files: [rules.yml]\ntests:\n  - interval: 1m\n    start_timestamp: \"2024-01-01T00:00:00Z\"\n    input_series:\n      - series: a\n        values: 1 2 3\n    alert_rule_test:\n      - eval_time: 1m\n        alertname: High\n      - eval_time: 2m\n        alertname: High\n        exp_alerts:\n          - exp_labels: {}\n    promql_expr_test:\n      - expr: time()\n        eval_time: 2m\n        exp_samples:\n          - value: 1704067320\n      - expr: timestamp(a)\n        eval_time: 1m\n        exp_samples:\n          - value: 1704067260\n      - expr: at_start\n        eval_time: 2m\n        exp_samples:\n          - labels: at_start\n            value: 1\n";
    assert_eq!(
        under(PromtoolVersion::V3, rules, test),
        (Verdict::Success, vec![])
    );
    let failing = "groups:\n  - name: g\n    rules:\n      - record: r\n        expr: label_replace(a, \"x\", \"\", \"x\", \".*\")\n";
    let duplicated = "rule_files: [rules.yml]\ntests:\n  - interval: 1m\n    start_timestamp: 3600\n    input_series:\n      - series: a{x=\"1\"}\n        values: 1\n      - series: a{x=\"2\"}\n        values: 1\n    promql_expr_test:\n      - expr: r\n        eval_time: 0s\n";
    let (verdict, report) = under(PromtoolVersion::V3, failing, duplicated);
    assert_eq!(verdict, Verdict::Failed);
    assert!(
        report[0].starts_with("    rule: r, time: 1h0m0s, err: "),
        "{report:?}"
    );
    let bad = test.replace("\"2024-01-01T00:00:00Z\"", "soon");
    assert_eq!(
        under(PromtoolVersion::V3, rules, &bad),
        (
            Verdict::Bad,
            vec!["cannot parse \"soon\" to a valid timestamp".to_string()]
        )
    );
}

/// promtool 3 runs native histograms (`histogram:` of `sample`, `{{...}}` input
/// values); mlslo's engine has none, so the file is refused with every use named.
#[test]
fn native_histograms_refuse_the_file_under_promtool_3_naming_each_use() {
    let test = "tests:\n  - name: hist\n    interval: 1m\n    input_series:\n      - series: a\n        values: 1\n      - series: h\n        values: '{{schema:0 sum:1 count:1}}x3'\n    promql_expr_test:\n      - expr: h\n        eval_time: 1m\n        exp_samples:\n          - labels: h\n            histogram: '{{schema:0 sum:1 count:1}}'\n";
    let (verdict, report) = under(PromtoolVersion::V3, "", test);
    assert_eq!(verdict, Verdict::Bad);
    assert_eq!(report, [
        "test 1 (hist), input_series 2 (series \"h\"): native histogram values ({{...}}) are not supported by mlslo test, whose PromQL engine has no native histograms",
        "test 1 (hist), promql_expr_test 1 (expr \"h\"), exp_samples 1: expected native histograms (histogram:) are not supported by mlslo test, whose PromQL engine has no native histograms",
    ]);
    let (verdict, report) = under(PromtoolVersion::V2_42, "", test);
    assert_eq!(verdict, Verdict::Bad);
    assert!(
        report[0].contains("field histogram not found in type main.sample"),
        "{report:?}"
    );
}

/// `ruleUnitTest`'s `matchesRun(t.TestGroupName, run)`: unanchored, unnamed groups
/// match as the empty name.
#[test]
fn run_patterns_pick_the_test_groups_by_name() {
    let test = "tests:\n  - name: correct one\n    interval: 1m\n    promql_expr_test:\n      - expr: vector(1)\n        eval_time: 0s\n        exp_samples:\n          - value: 1\n  - name: wrong one\n    interval: 1m\n    promql_expr_test:\n      - expr: vector(1)\n        eval_time: 0s\n  - interval: 1m\n    promql_expr_test:\n      - expr: vector(1)\n        eval_time: 0s\n";
    let with = |pattern: &str| {
        let options = RunOptions {
            run: vec![regex::Regex::new(pattern).expect("a valid pattern")],
            ..promtool_3()
        };
        report_as(
            "",
            test,
            EvaluationPlan::RangeQueriesWherePossible,
            &options,
        )
    };
    assert_eq!(with("correct").0, Verdict::Success);
    assert_eq!(with("rong").0, Verdict::Failed);
    assert_eq!(with("^$").1.len(), 1, "only the unnamed group runs");
    assert_eq!(under(PromtoolVersion::V3, "", test).1.len(), 2);
}

/// promtool 3 reads rules with Prometheus 3's rulefmt (group `labels`,
/// `query_offset`) and PromQL (range windows open on the left).
#[test]
fn rules_and_queries_read_as_prometheus_3_reads_them() {
    let rules = "groups:\n  - name: g\n    labels:\n      team: a\n    rules:\n      - record: r\n        expr: vector(1)\n";
    let test = "rule_files: [rules.yml]\ntests:\n  - interval: 1m\n    input_series:\n      - series: a\n        values: 1 2 3\n    promql_expr_test:\n      - expr: r\n        eval_time: 0s\n        exp_samples:\n          - labels: r{team=\"a\"}\n            value: 1\n      - expr: count_over_time(a[1m])\n        eval_time: 2m\n        exp_samples:\n          - value: 1\n";
    assert_eq!(
        under(PromtoolVersion::V3, rules, test),
        (Verdict::Success, vec![])
    );
    let (verdict, report) = under(PromtoolVersion::V2_42, rules, test);
    assert_eq!(verdict, Verdict::Bad);
    assert!(
        report[0].contains("field labels not found in type rulefmt.RuleGroup"),
        "{report:?}"
    );
}

/// Counts what a run tells its progress display.
#[derive(Default)]
struct RecordedProgress {
    planned: std::sync::atomic::AtomicU64,
    done: std::sync::atomic::AtomicU64,
}

impl super::Progress for RecordedProgress {
    fn planned(&self, steps: u64) {
        self.planned
            .fetch_add(steps, std::sync::atomic::Ordering::Relaxed);
    }

    fn done(&self, steps: u64) {
        self.done
            .fetch_add(steps, std::sync::atomic::Ordering::Relaxed);
    }
}

/// Every test group plans its steps up front and ends with all of them done, also
/// when a rule's evaluation error stops it at its first step.
#[test]
fn progress_counts_every_planned_step_as_done() {
    let rules = "groups:\n  - name: g\n    rules:\n      - record: r\n        expr: a\n";
    let duplicate_output = "groups:\n  - name: g\n    rules:\n      - record: r\n        expr: label_replace(a, \"x\", \"\", \"x\", \".*\")\n";
    let test = "rule_files: [rules.yml]\ntests:\n  - interval: 1m\n    input_series:\n      - series: a{x=\"1\"}\n        values: 1x10\n      - series: a{x=\"2\"}\n        values: 1x10\n    alert_rule_test:\n      - eval_time: 9999m\n        alertname: A\n";
    for (rules, steps) in [(rules, 10_000), (duplicate_output, 10_000)] {
        let files = Memory(BTreeMap::from([(
            "rules.yml".to_string(),
            rules.to_string(),
        )]));
        let progress = RecordedProgress::default();
        let mut output = Vec::new();
        run_test_text(
            test,
            ".",
            &files,
            1,
            &RunOptions::default(),
            EvaluationPlan::RangeQueriesWherePossible,
            &progress,
            &mut output,
        );
        let planned = progress.planned.into_inner();
        assert_eq!(planned, steps, "{rules}");
        assert_eq!(progress.done.into_inner(), planned, "{rules}");
    }
}
