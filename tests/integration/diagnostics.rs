//! Every diagnostic code, rendered as a user sees it: one small invalid file per code
//! under `tests/data/invalid/`, checked by the built binary, snapshotted as source plus
//! rendered output (see `tests/README.md` for adding a case and accepting changes).

use std::collections::BTreeMap;
use std::path::Path;

use crate::support::{data, mlslo, repository, status, stderr};

/// Codes that no file under `tests/data/invalid/` can trigger, with where they are tested.
const CODES_TESTED_ELSEWHERE: &[(&str, &str)] = &[
    (
        "E0002",
        "needs a file above 256 MiB; the cli module creates a sparse one",
    ),
    (
        "W0506",
        "only `mlslo build` finds it; the emit_generated module builds tests/data/build-warnings/",
    ),
    (
        "W0507",
        "only `mlslo build` finds it; the emit_alertmanager module builds tests/data/build-warnings/",
    ),
];

/// Runs `mlslo check` on one file (by a path relative to the crate, so snapshots do
/// not depend on where the repository is) and returns the exit status and stderr.
fn check_file(relative_path: &str) -> (i32, String) {
    let output = mlslo(&["check", relative_path]);
    let rendered = stderr(&output);
    assert!(
        !rendered.contains("panicked"),
        "{relative_path}: {rendered}"
    );
    (status(&output), rendered)
}

fn relative_path(path: &Path) -> String {
    path.strip_prefix(repository())
        .expect("test data lives in the crate")
        .to_str()
        .expect("test data paths are UTF-8")
        .to_string()
}

/// The code a test file is named after: `E0101-colon.slo` and `E0101.slo` give `E0101`.
fn code_in_file_name(path: &Path) -> String {
    let stem = path
        .file_stem()
        .and_then(|stem| stem.to_str())
        .expect("test file names are UTF-8");
    stem.split(['-', '_', '.'])
        .next()
        .unwrap_or(stem)
        .to_string()
}

#[test]
fn rendered_diagnostics() {
    insta::glob!("../data/invalid", "*.slo", |path| {
        let relative = relative_path(path);
        let (status, rendered) = check_file(&relative);
        let code = code_in_file_name(path);
        assert!(
            rendered.contains(&format!("[{code}]: ")),
            "{relative} is named after {code} but does not produce it:\n{rendered}"
        );
        let expected_status = if code.starts_with('W') { 0 } else { 1 };
        assert_eq!(status, expected_status, "{relative}:\n{rendered}");
        assert!(
            rendered.lines().all(|line| line == line.trim_end()),
            "{relative}: trailing whitespace in\n{rendered}"
        );
        let bytes = std::fs::read(path).expect("test data is readable");
        let source = String::from_utf8_lossy(&bytes);
        insta::assert_snapshot!(format!(
            "----- SOURCE -----\n{source}\n----- DIAGNOSTICS -----\n{rendered}"
        ));
    });
}

#[test]
fn every_code_has_an_invalid_file_that_produces_it() {
    let folder = data("invalid");
    let mut produced: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut entries: Vec<_> = std::fs::read_dir(&folder)
        .expect("tests/data/invalid exists")
        .map(|entry| entry.expect("readable entry").path())
        .filter(|path| path.extension().is_some_and(|extension| extension == "slo"))
        .collect();
    entries.sort();
    for path in entries {
        let relative = relative_path(&path);
        let (_, rendered) = check_file(&relative);
        for info in mlslo::cli::all_codes() {
            if rendered.contains(&format!("[{}]: ", info.code)) {
                produced
                    .entry(info.code.to_string())
                    .or_default()
                    .push(relative.clone());
            }
        }
    }
    let exempt: Vec<&str> = CODES_TESTED_ELSEWHERE
        .iter()
        .map(|(code, _)| *code)
        .collect();
    let missing: Vec<&str> = mlslo::cli::all_codes()
        .iter()
        .map(|info| info.code)
        // `L` codes are lint's: the lint module has a bad and a good file for each.
        .filter(|code| !code.starts_with('L'))
        .filter(|code| !produced.contains_key(*code) && !exempt.contains(code))
        .collect();
    assert!(
        missing.is_empty(),
        "codes with no file under tests/data/invalid/ that produces them: {missing:?}"
    );
    for code in exempt {
        assert!(
            mlslo::cli::lookup_code(code).is_some(),
            "{code} is exempted but not registered"
        );
        assert!(
            !produced.contains_key(code),
            "{code} now has a file under tests/data/invalid/: drop its exemption"
        );
    }
}

#[test]
fn every_code_is_explained_and_titled_in_house_style() {
    let codes = mlslo::cli::all_codes();
    assert!(
        codes.windows(2).all(|pair| pair[0].code < pair[1].code),
        "codes are unique and sorted"
    );
    for info in codes {
        let shape_ok = info.code.len() == 5
            && (info.code.starts_with('E')
                || info.code.starts_with('W')
                || info.code.starts_with('L'))
            && info.code[1..].bytes().all(|byte| byte.is_ascii_digit());
        assert!(shape_ok, "{} is not shaped like E0101 or W0001", info.code);
        assert!(!info.title.is_empty(), "{} has no title", info.code);
        assert!(
            !info.title.starts_with(|c: char| c.is_uppercase()) && !info.title.ends_with('.'),
            "{}: titles are lowercase with no final period: {:?}",
            info.code,
            info.title
        );
        assert!(
            info.explanation.trim().len() > info.title.len(),
            "{} has no real explanation",
            info.code
        );
    }
}
