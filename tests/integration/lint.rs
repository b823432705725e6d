//! `mlslo lint` end to end: every code has a file that triggers it and one that does
//! not (tests/data/lint/<CODE>/bad.yml, good.yml), human reports are snapshots, the
//! machine formats keep their shape, and every file promtool rejects lint rejects too.
//!
//! promtool is optional locally; when `CI` is set and it is missing, the promtool test
//! fails instead of returning early.

use std::process::Command;

use mlslo::base::diagnostic::Severity;

use crate::support::{data, installed, mlslo, mlslo_in, outcome, read, scratch, stderr, PROMTOOL};

/// Runs mlslo in `tests/data/lint` (so paths in reports are short and stable): exit
/// status, stdout, stderr.
fn in_data_folder(args: &[&str]) -> (i32, String, String) {
    outcome(&mlslo_in(&data("lint"), args, &[]))
}

fn code_dirs() -> Vec<String> {
    let mut codes: Vec<String> = std::fs::read_dir(data("lint"))
        .expect("tests/data/lint exists")
        .filter_map(|entry| entry.ok())
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with('L'))
        .collect();
    codes.sort();
    codes
}

fn codes_in_json(json: &str) -> Vec<String> {
    let value: serde_json::Value =
        serde_json::from_str(json).expect("lint --format json prints JSON");
    value
        .as_array()
        .expect("an array of diagnostics")
        .iter()
        .map(|d| d["code"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[test]
fn every_lint_code_has_a_bad_and_a_good_file() {
    let dirs = code_dirs();
    for info in mlslo::tools::lint::CODES {
        // L0601 needs a live Prometheus: the lint_live module.
        if info.code != "L0601" {
            assert!(
                dirs.iter().any(|d| d == info.code),
                "no tests/data/lint/{} folder",
                info.code
            );
        }
    }
    for code in dirs {
        let bad = format!("{code}/bad.yml");
        let good = format!("{code}/good.yml");
        let (_, json, _) = in_data_folder(&["lint", "--format", "json", &bad]);
        assert!(
            codes_in_json(&json).contains(&code),
            "{bad} does not trigger {code}: {json}"
        );
        let (status, json, stderr) = in_data_folder(&["lint", "--format", "json", &good]);
        assert_eq!(
            codes_in_json(&json),
            Vec::<String>::new(),
            "{good} is not clean: {stderr}"
        );
        assert_eq!(status, 0, "{good}");
        let (status, _, human) = in_data_folder(&["lint", &bad]);
        let expected_status = if codes_in_json(&json).is_empty()
            && mlslo::tools::lint::CODES
                .iter()
                .any(|info| info.code == code && info.severity == Severity::Warning)
        {
            0
        } else {
            1
        };
        assert_eq!(status, expected_status, "{bad}: {human}");
        insta::assert_snapshot!(format!("lint_{code}"), human);
    }
}

/// A finding on an alert whose name is written with an escape sits on that name,
/// not on its group's.
#[test]
fn findings_point_at_an_escaped_alert_name() {
    let work = scratch("lint-escaped-name");
    let rules = "groups:\n- name: g\n  rules:\n  - alert: \"A\\\"B\"\n    expr: up == 0\n";
    std::fs::write(work.join("rules.yml"), rules).expect("write rules");
    let output = mlslo_in(&work, &["lint", "--format", "github", "rules.yml"], &[]);
    let (_, stdout, stderr) = outcome(&output);
    assert!(
        stdout.starts_with(
            "::warning file=rules.yml,line=4,col=12,endLine=4,endColumn=18,title=L0401 "
        ),
        "{stdout}{stderr}"
    );
}

#[test]
fn fail_on_warning_turns_warnings_into_exit_1() {
    let (status, _, _) = in_data_folder(&["lint", "L0401/bad.yml"]);
    assert_eq!(status, 0);
    let (status, _, _) = in_data_folder(&["lint", "--fail-on", "warning", "L0401/bad.yml"]);
    assert_eq!(status, 1);
    let (status, _, stderr) = in_data_folder(&["lint", "no-such-file.yml"]);
    assert_eq!(status, 2, "{stderr}");
}

#[test]
fn github_format_is_one_workflow_command_per_finding() {
    let (_, stdout, _) = in_data_folder(&["lint", "--format", "github", "L0302/bad.yml"]);
    assert_eq!(
        stdout,
        "::warning file=L0302/bad.yml,line=5,col=53,endLine=5,endColumn=57,title=L0302 range window shorter than 4 scrape intervals::`[1m]` holds fewer than 4 samples at a 1m scrape interval\n"
    );
}

#[test]
fn sarif_output_is_valid_sarif_2_1_0() {
    let (_, stdout, _) = in_data_folder(&[
        "lint",
        "--format",
        "sarif",
        "L0302/bad.yml",
        "L0103/bad.yml",
        "L0401/bad.yml",
    ]);
    let log: serde_json::Value = serde_json::from_str(&stdout).expect("SARIF is JSON");
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(data("lint").join("sarif-2.1.0.schema.json"))
            .expect("schema copy exists"),
    )
    .expect("schema is JSON");
    let validator = jsonschema::validator_for(&schema).expect("schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(&log)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    assert_eq!(log["version"], "2.1.0");
    let results = log["runs"][0]["results"].as_array().expect("results");
    assert_eq!(results.len(), 3);
    let rules = log["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .expect("rules");
    for result in results {
        let index = result["ruleIndex"].as_u64().expect("ruleIndex") as usize;
        assert_eq!(rules[index]["id"], result["ruleId"]);
        let region = &result["locations"][0]["physicalLocation"]["region"];
        assert!(region["startLine"].as_u64().expect("startLine") >= 1);
    }
}

#[test]
fn expr_positions_are_exact_inside_literal_blocks_and_quotes() {
    let (_, stdout, _) = in_data_folder(&["lint", "--format", "github", "positions.yml"]);
    insta::assert_snapshot!("lint_positions", stdout);
}

#[test]
fn suppression_comments_and_config() {
    let (status, _, stderr) = in_data_folder(&["lint", "suppress.yml"]);
    assert_eq!(status, 0, "{stderr}");
    insta::assert_snapshot!("lint_suppress", stderr);
    let (status, _, stderr) = in_data_folder(&[
        "lint",
        "--config",
        "config/strict.toml",
        "L0401/bad.yml",
        "L0404/bad.yml",
    ]);
    assert_eq!(status, 1, "{stderr}");
    insta::assert_snapshot!("lint_config", stderr);
    let (status, _, stderr) = in_data_folder(&[
        "lint",
        "--config",
        "config/unknown-key.toml",
        "L0401/bad.yml",
    ]);
    assert_eq!(status, 2);
    assert!(
        stderr.contains("unknown field `scrape_intervall`"),
        "{stderr}"
    );
}

#[test]
fn prometheus_rule_manifests_are_linted() {
    let (_, stdout, _) = in_data_folder(&["lint", "--format", "github", "manifest.yaml"]);
    insta::assert_snapshot!("lint_manifest", stdout);
}

/// Every file promtool rejects, lint reports at least one error for.
#[test]
fn lint_rejects_whatever_promtool_rejects() {
    let Some(promtool) = installed(PROMTOOL) else {
        return;
    };
    let mut files = Vec::new();
    for code in code_dirs() {
        files.push(format!("{code}/bad.yml"));
        files.push(format!("{code}/good.yml"));
    }
    files.extend(["positions.yml", "suppress.yml", "manifest.yaml"].map(String::from));
    let mut rejected = 0;
    for file in files {
        if file == "manifest.yaml" {
            continue; // promtool does not read PrometheusRule manifests.
        }
        let output = Command::new(promtool)
            .args(["check", "rules", &file])
            .current_dir(data("lint"))
            .output()
            .expect("promtool runs");
        let (_, json, _) = in_data_folder(&["lint", "--format", "json", &file]);
        let value: serde_json::Value = serde_json::from_str(&json).expect("JSON");
        let lint_errors = value
            .as_array()
            .expect("array")
            .iter()
            .filter(|d| d["severity"] == "error")
            .count();
        if !output.status.success() {
            rejected += 1;
            assert!(
                lint_errors > 0,
                "promtool rejects {file} but lint has no error:\n{}",
                String::from_utf8_lossy(&output.stdout)
            );
        }
    }
    assert!(
        rejected >= 6,
        "the differential test should see several rejected files, saw {rejected}"
    );
}

#[test]
fn corpus_lints_without_crash_and_matches_the_reviewed_report() {
    let (status, stdout, stderr) = in_data_folder(&["lint", "--format", "github", "corpus"]);
    assert_eq!(
        status, 0,
        "warnings only, so exit 0 under the default --fail-on error: {stderr}"
    );
    assert!(!stdout.contains("::error"), "{stdout}");
    insta::assert_snapshot!("lint_corpus", stdout);
}

/// The repository's own rules and generated files, as `.ci/run` lints them.
#[test]
fn the_repository_rules_and_generated_files_lint_clean() {
    let output = mlslo(&["lint", "rules/", "generated/"]);
    let stderr = stderr(&output);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("no problems found"), "{stderr}");
}

/// The README's lint session is real output.
#[test]
fn the_readme_lint_session_is_real() {
    let readme = read("README.md");
    let start = readme
        .find("$ mlslo lint tests/data/lint/L0302/bad.yml\n")
        .expect("the README shows a lint session");
    let after = &readme[start..];
    let shown = &after["$ mlslo lint tests/data/lint/L0302/bad.yml\n".len()
        ..after.find("```").expect("the block ends")];
    let output = mlslo(&["lint", "tests/data/lint/L0302/bad.yml"]);
    assert_eq!(stderr(&output), shown, "update the README's lint session");
}

/// `--diff-base REV` reports only the rules added or changed since REV.
#[test]
fn diff_base_reports_only_changed_rules() {
    let folder = scratch("lint-diff-base");
    let git = |args: &[&str]| {
        let output = Command::new("git")
            .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
            .args(args)
            .current_dir(&folder)
            .output()
            .expect("git runs");
        assert!(
            output.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    };
    let before = "groups:\n  - name: g\n    rules:\n      - alert: Old\n        expr: up == 0\n      - alert: Changed\n        expr: up == 0\n";
    let after = "groups:\n  - name: g\n    rules:\n      - alert: Old\n        expr: up == 0\n      - alert: Changed\n        expr: up == 1\n      - alert: Added\n        expr: up == 2\n";
    std::fs::write(folder.join("rules.yml"), before).expect("write");
    git(&["init", "-q"]);
    git(&["add", "rules.yml"]);
    git(&["commit", "-q", "-m", "base"]);
    std::fs::write(folder.join("rules.yml"), after).expect("write");
    let (_, stdout, _) = outcome(&mlslo_in(
        &folder,
        &[
            "lint",
            "--format",
            "github",
            "--diff-base",
            "HEAD",
            "rules.yml",
        ],
        &[],
    ));
    let all = mlslo_in(&folder, &["lint", "--format", "github", "rules.yml"], &[]);
    let bad_rev = mlslo_in(
        &folder,
        &["lint", "--diff-base", "no-such-rev", "rules.yml"],
        &[],
    );
    assert_eq!(
        String::from_utf8_lossy(&all.stdout).lines().count(),
        3,
        "every alert lacks severity"
    );
    assert_eq!(
        stdout,
        "::warning file=rules.yml,line=6,col=16,endLine=6,endColumn=23,title=L0401 alert without a `severity` label::this alert has no `severity` label\n\
         ::warning file=rules.yml,line=8,col=16,endLine=8,endColumn=21,title=L0401 alert without a `severity` label::this alert has no `severity` label\n"
    );
    assert_eq!(bad_rev.status.code(), Some(2));
}

/// Schema and YAML details where lint, the ruler's loader (as `mlslo test` and backtest
/// read rule files) and promtool must give the same verdict: merge keys, scalars of any
/// type as strings, null items and values, Go's int for `limit`, a zero `for` on a
/// recording rule are accepted; a key given twice, a mistyped or unknown field, an empty
/// duration, `__name__` as a label, an expression of spaces and an expression that is a
/// mapping are not.
#[test]
fn yaml_edge_cases_get_promtools_verdict() {
    let cases = [
        ("yaml/merge-keys.yml", true),
        ("yaml/merge-keys-on-a-rule.yml", true),
        ("yaml/scalar-label-values.yml", true),
        ("yaml/expr-scalar.yml", true),
        ("yaml/null-group-and-rule.yml", true),
        ("yaml/null-durations-and-label-values.yml", true),
        ("yaml/limit-negative-and-fractional.yml", true),
        ("yaml/for-zero-in-recording-rule.yml", true),
        ("yaml/duplicate-label.yml", false),
        ("yaml/duplicate-field.yml", false),
        ("yaml/limit-as-string.yml", false),
        ("yaml/mapping-as-label-value.yml", false),
        ("yaml/unknown-top-level-key.yml", false),
        ("yaml/empty-duration.yml", false),
        ("yaml/name-label.yml", false),
        ("yaml/record-tilde.yml", false),
        ("yaml/expr-only-spaces.yml", false),
        ("yaml/expr-mapping.yml", false),
    ];
    let promtool = installed(PROMTOOL);
    for (file, valid) in cases {
        let (code, stdout, stderr) = in_data_folder(&["lint", file]);
        assert_eq!(code == 0, valid, "lint on {file}:\n{stdout}{stderr}");
        let text = read(&data("lint").join(file));
        let loaded = mlslo::prometheus::ruler::load_rule_file(
            file,
            &text,
            mlslo::prometheus::ruler::RuleFileOptions::default(),
        );
        assert_eq!(loaded.is_ok(), valid, "the ruler on {file}: {loaded:?}");
        if let Some(promtool) = &promtool {
            let output = Command::new(promtool)
                .args(["check", "rules", file])
                .current_dir(data("lint"))
                .output()
                .expect("promtool runs");
            assert_eq!(output.status.success(), valid, "promtool on {file}");
        }
    }
}
