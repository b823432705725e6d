//! `mlslo lint PATHS...`: read rule files, PrometheusRule manifests and .slo files, lint
//! them, apply `.mlslo.toml` and suppression comments, and report.
//!
//! Invariants: human output goes to stderr, json/sarif/github to stdout; the exit status
//! is 2 for a usage or I/O problem, else 1 when a finding is at or above `--fail-on`
//! (default `error`, or the config's `fail_on`), else 0. A .slo file is linted as its
//! check diagnostics plus the lint of the Prometheus rules it compiles to.

use super::http::redact_user_info;
use super::prometheus_api::PrometheusServer;
use super::{write_stderr, write_stdout};
use super::{EXIT_CLEAN, EXIT_INVALID_INPUT, EXIT_USAGE_OR_IO};
use crate::base::diagnostic::{Severity, SourceMap};
use crate::base::render;
use crate::tools::lint::{self, LintConfig};
use clap::ValueEnum;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

#[derive(Debug, clap::Args)]
pub struct LintArgs {
    /// Rule files, PrometheusRule manifests, .slo files or folders (searched for
    /// *.yml, *.yaml and *.slo).
    #[arg(value_name = "PATHS", required = true)]
    paths: Vec<PathBuf>,
    /// Output: human (stderr), json, sarif (SARIF 2.1.0) or github (workflow commands).
    #[arg(long, value_enum, default_value_t = LintFormat::Human)]
    format: LintFormat,
    /// Lowest severity that makes the exit status 1 (default: the config's, else error).
    #[arg(long, value_enum)]
    fail_on: Option<FailOn>,
    /// The config file (default: .mlslo.toml in the current folder, if present).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Report only rules added or changed since this git revision (pull-request mode).
    #[arg(long, value_name = "REV")]
    diff_base: Option<String>,
    /// Check against this Prometheus that the series the rules read exist (L0601), and
    /// take the scrape interval for L0302 from its configuration.
    #[arg(long, value_name = "URL")]
    prometheus_url: Option<String>,
    #[command(flatten)]
    connection: super::connection::ConnectionArgs,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum LintFormat {
    Human,
    Json,
    Sarif,
    Github,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum FailOn {
    Error,
    Warning,
    Info,
}

pub(super) fn run(args: &LintArgs) -> u8 {
    let mut config = match load_config(args.config.as_deref()) {
        Ok(config) => config,
        Err(message) => {
            write_stderr(&format!("error: {message}\n"));
            return EXIT_USAGE_OR_IO;
        }
    };
    let server = match &args.prometheus_url {
        None => None,
        Some(url) => {
            let connected = PrometheusServer::connect(&args.connection, url).and_then(|server| {
                let interval =
                    super::connection::block_on(lint::live::scrape_interval_ms(&server))??;
                Ok((server, interval))
            });
            match connected {
                Ok((server, interval)) => {
                    config.scrape_interval_ms = interval;
                    Some((server, redact_user_info(url)))
                }
                Err(message) => {
                    write_stderr(&format!(
                        "error: --prometheus-url {}: {message}\n",
                        redact_user_info(url)
                    ));
                    return EXIT_USAGE_OR_IO;
                }
            }
        }
    };
    let mut io_errors = Vec::new();
    let mut files = Vec::new();
    for path in &args.paths {
        collect(path, &mut files, &mut io_errors);
    }
    let named: Vec<&Path> = args.paths.iter().map(PathBuf::as_path).collect();
    // `.slo` files are read as `check` and `build` read them (empty, non-UTF-8 and
    // oversized files are E000x diagnostics), so the three commands agree on every input.
    let (slo_paths, files): (Vec<PathBuf>, Vec<PathBuf>) = files
        .into_iter()
        .partition(|file| file.extension().is_some_and(|e| e == "slo"));
    let slo_inputs = super::input::load(&slo_paths);
    let mut map = slo_inputs.map;
    io_errors.extend(slo_inputs.io_errors);
    let slo_files = slo_inputs.parseable;
    let mut diagnostics = slo_inputs.diagnostics;
    let mut rule_files = Vec::new();
    for file in &files {
        match super::input::read_text(file) {
            Ok(text) => {
                let from_folder = !named.contains(&file.as_path());
                if from_folder && !lint::looks_like_rule_file(&text) {
                    continue;
                }
                rule_files.push(map.add(file.display().to_string().replace('\\', "/"), text));
            }
            Err(error) => io_errors.push(format!("cannot read `{}`: {error}", file.display())),
        }
    }
    if !slo_files.is_empty() {
        let limits = super::check::check_limits().unwrap_or_default();
        let (program, found) = crate::compiler::check_files_with(&map, &slo_files, &limits);
        let has_errors = found.iter().any(|d| d.is_error());
        diagnostics.extend(found);
        if let (Some(program), false) = (program, has_errors) {
            for (name, text) in crate::compiler::emit::rule_files(&program, &map) {
                rule_files.push(map.add(format!("{}{name}", lint::GENERATED_PREFIX), text));
            }
        }
    }
    let report = lint::lint_files(&map, &rule_files, &config);
    diagnostics.extend(report.diagnostics.iter().cloned());
    if let Some((server, url)) = &server {
        let recorded: std::collections::BTreeSet<String> = report
            .rules
            .iter()
            .filter(|r| !r.is_alert)
            .map(|r| r.name.clone())
            .collect();
        let selectors: Vec<(String, String, crate::base::diagnostic::Span)> = report
            .rules
            .iter()
            .flat_map(|rule| rule.selectors.iter().cloned())
            .collect();
        match super::connection::block_on(lint::live::missing_series(
            server, url, &selectors, &recorded,
        ))
        .and_then(|r| r)
        {
            Ok(found) => diagnostics.extend(found),
            Err(message) => {
                write_stderr(&format!("error: --prometheus-url {url}: {message}\n"));
                return EXIT_USAGE_OR_IO;
            }
        }
    }
    let mut diagnostics = lint::apply_policy(&map, &config, diagnostics);
    if let Some(base) = &args.diff_base {
        let mut old_map = SourceMap::new();
        let mut old_files = Vec::new();
        for &index in &rule_files {
            let name = &map.files()[index].name;
            match git_show(base, Path::new(name)) {
                Ok(Some(text)) => old_files.push(old_map.add(name.clone(), text)),
                Ok(None) => {}
                Err(message) => {
                    write_stderr(&format!("error: --diff-base {base}: {message}\n"));
                    return EXIT_USAGE_OR_IO;
                }
            }
        }
        let old_report = lint::lint_files(&old_map, &old_files, &config);
        diagnostics = lint::keep_changed(&map, &report, &old_map, &old_report, diagnostics);
    }

    match args.format {
        LintFormat::Human => write_stderr(&render::render_human(&map, &diagnostics, use_color())),
        LintFormat::Json => write_stdout(&render::render_json(&map, &diagnostics)),
        LintFormat::Sarif => write_stdout(&lint::output::render_sarif(&map, &diagnostics)),
        LintFormat::Github => write_stdout(&lint::output::render_github(&map, &diagnostics)),
    }
    for problem in &io_errors {
        write_stderr(&format!("error: {problem}\n"));
    }
    match render::summary(&diagnostics) {
        Some(summary) => write_stderr(&format!("{summary}\n")),
        None if io_errors.is_empty() => {
            let n = map.files().len();
            let noun = if n == 1 { "file" } else { "files" };
            write_stderr(&format!("linted {n} {noun}: no problems found\n"));
        }
        None => {}
    }
    let fail_on = args.fail_on.unwrap_or(match config.fail_on.as_deref() {
        Some("warning") => FailOn::Warning,
        Some("info") => FailOn::Info,
        _ => FailOn::Error,
    });
    let failing = diagnostics.iter().any(|d| match fail_on {
        FailOn::Error => d.severity == Severity::Error,
        FailOn::Warning | FailOn::Info => true,
    });
    if !io_errors.is_empty() {
        EXIT_USAGE_OR_IO
    } else if failing {
        EXIT_INVALID_INPUT
    } else {
        EXIT_CLEAN
    }
}

/// The text of `path` at git revision `base`; `None` when the file did not exist
/// there. An unknown revision or a path outside a repository is an error.
fn git_show(base: &str, path: &Path) -> Result<Option<String>, String> {
    if path.to_string_lossy().starts_with(lint::GENERATED_PREFIX) {
        return Ok(None);
    }
    let folder = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let verify = std::process::Command::new("git")
        .arg("-C")
        .arg(folder)
        .args([
            "rev-parse",
            "--verify",
            "--quiet",
            &format!("{base}^{{commit}}"),
        ])
        .output()
        .map_err(|e| format!("cannot run git: {e}"))?;
    if !verify.status.success() {
        return Err(format!(
            "`{base}` is not a commit of the repository holding `{}`",
            path.display()
        ));
    }
    let output = std::process::Command::new("git")
        .arg("-C")
        .arg(folder)
        .args(["show", &format!("{base}:./{file_name}")])
        .output()
        .map_err(|e| format!("cannot run git: {e}"))?;
    if output.status.success() {
        Ok(Some(String::from_utf8_lossy(&output.stdout).into_owned()))
    } else {
        Ok(None)
    }
}

fn load_config(path: Option<&Path>) -> Result<LintConfig, String> {
    let (path, required) = match path {
        Some(path) => (path.to_path_buf(), true),
        None => (PathBuf::from(".mlslo.toml"), false),
    };
    match super::input::read_text(&path) {
        Ok(text) => LintConfig::from_toml(&text).map_err(|e| format!("{}: {e}", path.display())),
        Err(_) if !required => Ok(LintConfig::default()),
        Err(error) => Err(format!("cannot read `{}`: {error}", path.display())),
    }
}

/// A path, or the *.yml, *.yaml and *.slo files under a folder (sorted, links to
/// folders not followed).
fn collect(path: &Path, files: &mut Vec<PathBuf>, io_errors: &mut Vec<String>) {
    let metadata = match std::fs::metadata(path) {
        Ok(metadata) => metadata,
        Err(error) => {
            io_errors.push(format!("cannot read `{}`: {error}", path.display()));
            return;
        }
    };
    if !metadata.is_dir() {
        files.push(path.to_path_buf());
        return;
    }
    let mut found = Vec::new();
    let mut stack = vec![path.to_path_buf()];
    while let Some(folder) = stack.pop() {
        let entries = match std::fs::read_dir(&folder) {
            Ok(entries) => entries,
            Err(error) => {
                io_errors.push(format!("cannot read `{}`: {error}", folder.display()));
                continue;
            }
        };
        for entry in entries.flatten() {
            let entry_path = entry.path();
            match entry.file_type() {
                Ok(kind) if kind.is_dir() => stack.push(entry_path),
                Ok(kind)
                    if kind.is_file()
                        && entry_path
                            .extension()
                            .is_some_and(|e| e == "yml" || e == "yaml" || e == "slo") =>
                {
                    found.push(entry_path)
                }
                _ => {}
            }
        }
    }
    found.sort();
    files.extend(found);
}

fn use_color() -> bool {
    std::io::stderr().is_terminal()
        && std::env::var_os("NO_COLOR").is_none_or(|value| value.is_empty())
        && std::env::var_os("TERM").is_none_or(|term| term != "dumb")
}
