//! Keeps the code base honest about its own rules: module docs, IO only in the CLI,
//! no skipped or panic-expecting tests.

use std::path::Path;

use crate::support::{read, relative, repository, rust_files_under};

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
    // The network too: tools take traits (`prometheus::http_api::PrometheusApi`) that the
    // CLI implements with its one HTTP client. Parsing an address (`std::net::IpAddr`)
    // is not IO and stays allowed.
    const FORBIDDEN: [&str; 17] = [
        "std::fs",
        "std::env",
        "std::process::exit",
        "process::exit",
        "std::process::Command",
        "println!",
        "eprintln!",
        "print!(",
        "eprint!(",
        "std::io::stdin",
        "std::io::stdout",
        "reqwest",
        "tokio",
        "TcpStream",
        "TcpListener",
        "UdpSocket",
        "ToSocketAddrs",
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
        "IO outside src/cli/ (move it to the CLI and pass data or a trait in):\n{}",
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

#[test]
fn the_tests_readme_names_every_module_and_data_folder() {
    let readme = read(&repository().join("tests/README.md"));
    let mut missing = Vec::new();
    for path in rust_files_under("tests/integration") {
        let module = path
            .file_stem()
            .and_then(|stem| stem.to_str())
            .unwrap_or_default()
            .to_string();
        if module != "main" && !readme.contains(&format!("| `{module}` |")) {
            missing.push(format!("module `{module}` (a row of the Modules table)"));
        }
    }
    let folders = std::fs::read_dir(repository().join("tests/data")).expect("tests/data");
    for entry in folders {
        let path = entry.expect("a folder entry").path();
        if !path.is_dir() {
            continue;
        }
        let name = path
            .file_name()
            .and_then(|name| name.to_str())
            .unwrap_or_default()
            .to_string();
        if !readme.contains(&format!("| `data/{name}/` |")) {
            missing.push(format!("data/{name}/ (a row of the Data folders table)"));
        }
        if !path.join("README.md").is_file() {
            missing.push(format!(
                "data/{name}/README.md (what it holds, where it came from)"
            ));
        }
    }
    assert!(
        missing.is_empty(),
        "tests/README.md and tests/data/ must describe every test module and data folder:\n{}",
        missing.join("\n")
    );
}

/// README's reliability promises each name the test that proves them, and every test
/// README names (a backquoted `snake_case` name of four words or more, with its module
/// when given) is a `#[test]` of `tests/integration/`.
#[test]
fn the_readme_names_existing_tests_for_its_promises() {
    let readme = read(&repository().join("README.md"));
    let promises = [
        (
            "atomic output",
            "build_atomic::a_killed_build_leaves_the_old_output_or_the_new_one_never_a_mix",
        ),
        (
            "deploy verification",
            "a_deploy_killed_before_its_reload_is_seen_by_diff_and_finished_by_the_next_deploy",
        ),
        (
            "a rejected reload restored",
            "prometheus_deploy_diff_change_noop_and_rejection",
        ),
        (
            "secrets never printed",
            "credentials_a_server_echoes_are_redacted_in_every_command_and_format",
        ),
        ("bounded input", "endless_stdin_stops_at_the_input_limit"),
    ];
    for (promise, test) in promises {
        assert!(
            readme.contains(&format!("`{test}`")),
            "README.md must name `{test}` for {promise}"
        );
    }
    let mut tests_by_module = std::collections::BTreeMap::new();
    for path in rust_files_under("tests/integration") {
        let module = path
            .file_stem()
            .map(|stem| stem.to_string_lossy().into_owned())
            .unwrap_or_default();
        let text = read(&path);
        let lines: Vec<&str> = text.lines().collect();
        for pair in lines.windows(2) {
            let name = pair[1]
                .trim_start()
                .strip_prefix("fn ")
                .and_then(|rest| rest.split('(').next());
            if let (true, Some(name)) = (pair[0].trim() == "#[test]", name) {
                tests_by_module.insert(name.to_string(), module.clone());
            }
        }
    }
    let mut unknown = Vec::new();
    for quoted in readme.split('`').skip(1).step_by(2) {
        let (module, name) = quoted.rsplit_once("::").unwrap_or(("", quoted));
        let is_test_like = name.split('_').count() >= 4
            && name
                .bytes()
                .all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'_');
        if !is_test_like {
            continue;
        }
        match tests_by_module.get(name) {
            Some(found) if module.is_empty() || module == found => {}
            _ => unknown.push(quoted.to_string()),
        }
    }
    assert!(
        unknown.is_empty(),
        "README.md names tests that do not exist: {unknown:?}"
    );
}
