//! Keeps the code base honest about its own rules: module docs, IO only in the CLI,
//! no skipped or panic-expecting tests.

use std::path::{Path, PathBuf};

use crate::support::read;

fn rust_files_under(folder: &str) -> Vec<PathBuf> {
    fn walk(folder: &Path, files: &mut Vec<PathBuf>) {
        let entries = std::fs::read_dir(folder)
            .unwrap_or_else(|error| panic!("cannot read {}: {error}", folder.display()));
        for entry in entries {
            let path = entry.expect("folder entries are readable").path();
            if path.is_dir() {
                walk(&path, files);
            } else if path.extension().is_some_and(|extension| extension == "rs") {
                files.push(path);
            }
        }
    }
    let mut files = Vec::new();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join(folder);
    if root.is_dir() {
        walk(&root, &mut files);
    }
    files.sort();
    files
}

fn relative(path: &Path) -> String {
    path.strip_prefix(env!("CARGO_MANIFEST_DIR"))
        .unwrap_or(path)
        .display()
        .to_string()
}

/// Lines that are code, not comments, so that a doc comment may name `std::fs`.
fn code_lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines().enumerate().filter(|(_, line)| {
        let trimmed = line.trim_start();
        !trimmed.starts_with("//")
    })
}

#[test]
fn every_source_file_starts_with_a_module_doc() {
    let mut offenders = Vec::new();
    for path in rust_files_under("src") {
        let text = read(&path);
        let is_main = path.ends_with("src/main.rs");
        if !is_main && !text.starts_with("//!") {
            offenders.push(relative(&path));
        }
    }
    assert!(
        offenders.is_empty(),
        "files without a leading `//!` doc: {offenders:?}"
    );
}

#[test]
fn only_the_cli_does_io() {
    const FORBIDDEN: [&str; 9] = [
        "std::fs",
        "std::env",
        "std::process::exit",
        "process::exit",
        "println!",
        "eprintln!",
        "print!(",
        "eprint!(",
        "std::io::stdin",
    ];
    let mut offenders = Vec::new();
    for path in rust_files_under("src") {
        let name = relative(&path);
        if name.starts_with("src/cli/") || name == "src/main.rs" {
            continue;
        }
        let text = read(&path);
        for (index, line) in code_lines(&text) {
            for pattern in FORBIDDEN {
                if line.contains(pattern) {
                    offenders.push(format!("{name}:{}: {pattern}", index + 1));
                }
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "IO outside src/cli/ (move it to the CLI and pass data in):\n{}",
        offenders.join("\n")
    );
}

#[test]
fn no_test_is_skipped_or_expects_a_panic() {
    // Spelled in two halves so that this file does not find itself.
    let ignore_attribute = format!("#[{}", "ignore");
    let panic_expectation = format!("should{}", "_panic");
    let mut offenders = Vec::new();
    for folder in ["src", "tests", "benches", "examples"] {
        for path in rust_files_under(folder) {
            let text = read(&path);
            for (index, line) in code_lines(&text) {
                if line.contains(&ignore_attribute) || line.contains(&panic_expectation) {
                    offenders.push(format!("{}:{}", relative(&path), index + 1));
                }
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "assert the wrong behaviour with a FIXME instead of skipping: {offenders:?}"
    );
}

#[test]
fn main_only_calls_the_cli() {
    let text = read(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src/main.rs"));
    let code: Vec<&str> = code_lines(&text)
        .map(|(_, line)| line.trim())
        .filter(|line| !line.is_empty())
        .collect();
    assert_eq!(
        code,
        [
            "fn main() -> std::process::ExitCode {",
            "mlslo::cli::run()",
            "}"
        ],
        "src/main.rs stays three lines; logic belongs in src/cli/"
    );
}
