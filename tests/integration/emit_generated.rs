//! `generated/` is the committed build of `rules/`: `mlslo build --check` must
//! find it fresh (run `mlslo build` and commit `generated/` when this fails).

use crate::support::{mlslo, mlslo_in, outcome, repository, scratch, write};

#[test]
fn generated_folder_is_fresh() {
    let output = mlslo(&["build", "rules/", "-o", "generated/", "--check"]);
    assert!(
        output.status.success(),
        "generated/ is stale: run `mlslo build` and commit generated/\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Our own output passes our own lint with every code on: an empty config, so no
/// project setting can hide a finding, and warnings fail.
#[test]
fn generated_folder_lints_clean_with_every_code_on() {
    let settings = scratch("lint-generated-settings");
    let empty_config = write(settings.path(), "empty.toml", "");
    let (status, stdout, stderr) = outcome(&mlslo(&[
        "lint",
        "--config",
        &empty_config,
        "--fail-on",
        "warning",
        "generated/",
    ]));
    assert_eq!(status, 0, "{stdout}{stderr}");
}

/// The headers name each input from the project root (the folder holding the output),
/// so every way of naming the same inputs, from any folder, gives the same bytes.
#[test]
fn equivalent_invocations_give_byte_identical_output() {
    for (folder, arguments) in [
        ("", ["build", "./rules//", "-o", "generated/", "--check"]),
        ("", ["build", "rules", "-o", "./generated", "--check"]),
        ("rules", ["build", ".", "-o", "../generated", "--check"]),
        (
            "rules",
            ["build", "../rules/", "-o", "../generated/", "--check"],
        ),
    ] {
        let (status, stdout, stderr) =
            outcome(&mlslo_in(&repository().join(folder), &arguments, &[]));
        assert_eq!(status, 0, "in `{folder}`, {arguments:?}:\n{stdout}{stderr}");
    }
}

#[test]
fn a_second_build_into_the_same_folder_replaces_its_own_files() {
    let folder = scratch("rebuild");
    let output = folder.join("generated");
    let output_arg = output.to_str().expect("temp paths are UTF-8");
    for attempt in ["first", "second"] {
        let result = mlslo(&["build", "rules/", "-o", output_arg]);
        assert!(
            result.status.success(),
            "{attempt} build failed:\n{}",
            String::from_utf8_lossy(&result.stderr)
        );
    }
    let watches = std::fs::read_dir(output.join("watcher"))
        .expect("watches written")
        .count();
    assert!(watches > 0, "rules/ has logs objectives");
}

#[test]
fn an_objective_no_input_series_can_match_gets_no_generated_test_and_a_warning() {
    let folder = scratch("w0506");
    let output = folder.join("generated");
    let result = mlslo(&[
        "build",
        "tests/data/build-warnings/W0506.slo",
        "-o",
        output.to_str().expect("temp paths are UTF-8"),
    ]);
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert!(
        result.status.success(),
        "a warning does not fail the build:\n{stderr}"
    );
    assert!(stderr.contains("warning[W0506]: "), "{stderr}");
    assert!(output.join("prometheus/fraud-detector.rules.yml").is_file());
}

/// A test of a `for = 100y` objective would take 52 million evaluations, which
/// `mlslo test` refuses: the build leaves that objective out of the generated test
/// with W0506, and the rest of the file still passes `mlslo test` and promtool.
#[test]
fn an_objective_too_long_to_test_gets_no_generated_test_and_a_warning() {
    let folder = scratch("w0506-century");
    let output = folder.join("generated");
    let result = mlslo(&[
        "build",
        "tests/data/build-warnings/W0506-century-for.slo",
        "-o",
        output.to_str().expect("temp paths are UTF-8"),
    ]);
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert!(result.status.success(), "{stderr}");
    assert!(stderr.contains("warning[W0506]: "), "{stderr}");
    assert!(stderr.contains("52560005 evaluations"), "{stderr}");
    let test_file = output.join("tests/search.test.yml");
    let tests = std::fs::read_to_string(&test_file).expect("the absent-metrics test is written");
    assert!(!tests.contains("x5256"), "{tests}");
    let run = mlslo(&["test", test_file.to_str().expect("temp paths are UTF-8")]);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
}
