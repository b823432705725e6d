//! `generated/` is the committed build of `rules/`: `mlslo build --check` must
//! find it fresh (run `mlslo build` and commit `generated/` when this fails).

use std::process::Command;

#[test]
fn generated_folder_is_fresh() {
    let output = Command::new(env!("CARGO_BIN_EXE_mlslo"))
        .args(["build", "rules/", "-o", "generated/", "--check"])
        .output()
        .expect("run mlslo");
    assert!(
        output.status.success(),
        "generated/ is stale: run `mlslo build` and commit generated/\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn a_second_build_into_the_same_folder_replaces_its_own_files() {
    let output = std::env::temp_dir().join(format!("mlslo-rebuild-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&output);
    let output_arg = output.to_str().expect("temp paths are UTF-8");
    for attempt in ["first", "second"] {
        let result = Command::new(env!("CARGO_BIN_EXE_mlslo"))
            .args(["build", "rules/", "-o", output_arg])
            .output()
            .expect("run mlslo");
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
    let _ = std::fs::remove_dir_all(&output);
}

#[test]
fn an_objective_no_input_series_can_match_gets_no_generated_test_and_a_warning() {
    let output = std::env::temp_dir().join(format!("mlslo-w0506-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&output);
    let result = Command::new(env!("CARGO_BIN_EXE_mlslo"))
        .args([
            "build",
            "tests/data/build-warnings/W0506.slo",
            "-o",
            output.to_str().expect("temp paths are UTF-8"),
        ])
        .output()
        .expect("run mlslo");
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert!(
        result.status.success(),
        "a warning does not fail the build:\n{stderr}"
    );
    assert!(stderr.contains("warning[W0506]: "), "{stderr}");
    assert!(output.join("prometheus/fraud-detector.rules.yml").is_file());
    let _ = std::fs::remove_dir_all(&output);
}
