//! `mlslo check`, `mlslo lint` and `mlslo build` agree on every `.slo` input: the three
//! exit with the same status, report the same error codes, and a build that refuses
//! writes nothing. The inputs are every file of `data/invalid/` and
//! `data/build-warnings/`, `rules/`, and names at the exact limits of their targets.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::support::{data, outcome, repository, scratch, write};

// The benchmarks' input generator, compiled here so that its promise (input that
// checks clean, every kind used) is held by the suite; its `main` is unused.
#[allow(dead_code)]
#[path = "../../examples/gen_slo.rs"]
mod gen_slo;

/// The benchmarks time `check` and `build` of generated input; input with errors
/// or warnings would time the diagnostics instead of the compiler.
#[test]
fn the_benchmark_generator_writes_input_that_checks_clean() {
    let mut sources = mlslo::base::diagnostic::SourceMap::new();
    sources.add("synthetic.slo", gen_slo::generate(1000));
    let (program, diagnostics) = mlslo::check_sources(&sources);
    let codes: Vec<&str> = diagnostics.iter().map(|d| d.code).collect();
    assert!(codes.is_empty(), "{codes:?}");
    let program = program.expect("no errors");
    let objectives: usize = program.services.iter().map(|s| s.objectives.len()).sum();
    assert_eq!(objectives, 1000);
}

#[test]
fn check_lint_and_build_agree_on_every_invalid_and_warning_file() {
    let mut inputs: Vec<PathBuf> = Vec::new();
    for folder in ["invalid", "build-warnings"] {
        let mut files: Vec<PathBuf> = std::fs::read_dir(data(folder))
            .expect("the data folder exists")
            .map(|entry| entry.expect("a folder entry").path())
            .filter(|path| path.extension().is_some_and(|e| e == "slo"))
            .collect();
        files.sort();
        inputs.extend(files);
    }
    inputs.push(repository().join("rules"));
    assert!(inputs.len() > 60, "{} inputs", inputs.len());
    let mut refused = 0;
    for input in &inputs {
        refused += usize::from(assert_agreement(input));
    }
    assert!(refused > 40, "only {refused} inputs had errors");
}

/// The longest service and objective names whose files and watch ids fit build; one
/// byte more is E0631 in all three commands, before anything is written.
#[test]
fn names_at_the_limit_build_and_one_byte_more_is_refused_by_all_three() {
    let dir = scratch("check-lint-build-limits");
    // `kubernetes/<service>.prometheusrule.yaml`: 20 bytes around the service name.
    let longest_service = "s".repeat(255 - ".prometheusrule.yaml".len());
    // `watcher/<service>-<objective>.json`.
    let longest_objective = "o".repeat(255 - "a-.json".len());
    let source = |service: &str, objective: &str| {
        format!(
            "service \"{service}\" {{\n  team = \"t\"\n  drift \"d\" {{ score = s, max = 0.3 }}\n}}\n\
             service \"a\" {{\n  team = \"t\"\n  logs \"{objective}\" {{\n    index = \"i-*\"\n    query = 'x:y'\n    max_count = 10 per 5m\n  }}\n}}\n"
        )
    };
    let at_limit = write(
        &dir,
        "at-limit.slo",
        source(&longest_service, &longest_objective),
    );
    assert!(!assert_agreement(Path::new(&at_limit)));
    for (name, service, objective) in [
        (
            "long-service.slo",
            format!("{longest_service}s"),
            longest_objective.clone(),
        ),
        (
            "long-objective.slo",
            longest_service.clone(),
            format!("{longest_objective}o"),
        ),
    ] {
        let file = write(&dir, name, source(&service, &objective));
        assert!(assert_agreement(Path::new(&file)), "{name}");
        let (_, _, stderr) = outcome(&crate::support::mlslo(&["check", &file]));
        assert!(stderr.contains("error[E0631]"), "{name}: {stderr}");
    }
}

/// Runs the three commands on `input` and asserts they agree; returns whether the
/// input has errors.
fn assert_agreement(input: &Path) -> bool {
    let input_text = input.to_str().expect("UTF-8 paths");
    let out = scratch("check-lint-build-out");
    let out_folder = out.path().join("generated");
    let out_text = out_folder.to_str().expect("UTF-8 paths");
    let (check_status, _, check_stderr) = outcome(&crate::support::mlslo(&["check", input_text]));
    let (lint_status, _, lint_stderr) = outcome(&crate::support::mlslo(&[
        "lint",
        "--fail-on",
        "error",
        input_text,
    ]));
    let (build_status, _, build_stderr) = outcome(&crate::support::mlslo(&[
        "build", input_text, "-o", out_text,
    ]));
    assert!(
        check_status == lint_status && check_status == build_status,
        "{input_text}: check exits {check_status}, lint {lint_status}, build {build_status}\n\
         {check_stderr}\n{lint_stderr}\n{build_stderr}"
    );
    let check_errors = error_codes(&check_stderr);
    assert_eq!(
        check_errors,
        error_codes(&lint_stderr),
        "{input_text}: lint"
    );
    assert_eq!(
        check_errors,
        error_codes(&build_stderr),
        "{input_text}: build"
    );
    let has_errors = check_status != 0;
    assert_eq!(has_errors, !check_errors.is_empty(), "{input_text}");
    if has_errors {
        let written = std::fs::read_dir(&out_folder).map_or(0, |entries| entries.count());
        assert_eq!(written, 0, "{input_text}: a refused build wrote files");
    }
    has_errors
}

/// The codes of `error[CODE]` headings in human output.
fn error_codes(stderr: &str) -> BTreeSet<String> {
    stderr
        .match_indices("error[")
        .filter_map(|(position, _)| {
            let rest = &stderr[position + "error[".len()..];
            rest.find(']').map(|end| rest[..end].to_owned())
        })
        .collect()
}
