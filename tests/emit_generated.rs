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
