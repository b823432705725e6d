//! `mlslo test FILE...`: promtool's rule unit tests, files run in parallel, output
//! printed in argument order. A run of more than [`LONG_RUN_STEPS`] evaluation steps
//! shows a progress bar on stderr while it runs, when stderr is a terminal; it is
//! cleared before the output, which is byte for byte the same with or without it.
//!
//! `--promtool-version` picks the promtool whose behaviour and report a run reproduces:
//! 2.42 (the default) or 3; `--run` and `--ignore-unknown-fields` are promtool 3's and
//! refused under 2.42.
//!
//! Invariants: exit 0 only when every test of every file passes; 1, as promtool, when a
//! test failed or a file (or a rule file it names) is invalid; 2 when a file could not
//! be read or a test is over mlslo's limits, so nothing was tested; globbing follows
//! Go's `filepath.Glob` (`*`, `?`, `[...]` within one path element, sorted matches).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use super::input::ReadError;
use super::{write_stderr, write_stdout, EXIT_CLEAN, EXIT_INVALID_INPUT, EXIT_USAGE_OR_IO};
use crate::prometheus::promtool_test::{
    run_test_file, FileAccess, FileReport, Progress, PromtoolVersion, RunOptions, Stream, Verdict,
};

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Exit status: 0 when every test passes; 1, as promtool, when a test failed or a file is invalid; 2 when a file could not be read or a test is over mlslo's limits, so nothing was tested.\n\nPromtool versions: 2.42 (the default) reproduces promtool 2.42: a test group without `interval` loads every input sample at 0s, and `fuzzy_compare`, `start_timestamp` and `histogram` are unknown fields. 3 reproduces promtool 3.x: `fuzzy_compare`, `start_timestamp`, `interval` defaulting to `evaluation_interval`, Prometheus 3's PromQL, rule groups with `query_offset` and `labels`, `--run`, `--ignore-unknown-fields`, no `Unit Testing:` line; a file with native histograms is refused, as mlslo's PromQL engine has none."
)]
pub struct TestArgs {
    /// The unit-test files.
    #[arg(value_name = "FILES", required = true)]
    files: Vec<PathBuf>,
    /// The promtool whose behaviour and report to reproduce.
    #[arg(long, value_enum, value_name = "VERSION", default_value = "2.42")]
    promtool_version: VersionArg,
    /// Only run the test groups whose name matches this regular expression (anywhere
    /// in the name); may be given several times. promtool 3 only.
    #[arg(long, value_name = "REGEX")]
    run: Vec<String>,
    /// Ignore keys rulefmt does not know in the rule files the tests name (promtool
    /// 3 only); a server still refuses them.
    #[arg(long)]
    ignore_unknown_fields: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum VersionArg {
    #[value(name = "2.42")]
    V2_42,
    #[value(name = "3")]
    V3,
}

/// Evaluation steps from which a run shows its progress: about a second of work,
/// below which a bar would only flicker.
const LONG_RUN_STEPS: u64 = 100_000;

/// The steps of every file of a run, on a bar that appears once the planned steps
/// pass [`LONG_RUN_STEPS`] (never when stderr is not a terminal).
struct ProgressDisplay {
    bar: Option<indicatif::ProgressBar>,
    planned: AtomicU64,
    done: AtomicU64,
}

impl ProgressDisplay {
    fn new() -> ProgressDisplay {
        let bar = super::backtest::progress_bar("test {bar:40} {pos}/{len} steps {eta}");
        if let Some(bar) = &bar {
            bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
        }
        ProgressDisplay {
            bar,
            planned: AtomicU64::new(0),
            done: AtomicU64::new(0),
        }
    }

    fn finish(self) {
        if let Some(bar) = self.bar {
            bar.finish_and_clear();
        }
    }
}

impl Progress for ProgressDisplay {
    fn planned(&self, steps: u64) {
        let planned = self.planned.fetch_add(steps, Ordering::Relaxed) + steps;
        if let Some(bar) = &self.bar {
            bar.set_length(planned);
            if planned > LONG_RUN_STEPS && bar.is_hidden() {
                bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
            }
        }
    }

    fn done(&self, steps: u64) {
        let done = self.done.fetch_add(steps, Ordering::Relaxed) + steps;
        if let Some(bar) = &self.bar {
            bar.set_position(done);
        }
    }
}

struct Filesystem;

impl FileAccess for Filesystem {
    fn glob(&self, pattern: &str) -> Result<Vec<String>, String> {
        glob(pattern)
    }

    fn read(&self, path: &str) -> Result<String, String> {
        super::input::read_text(Path::new(path)).map_err(|error| match error {
            ReadError::Io(error) => format!("open {path}: {}", io_text(&error)),
            other => format!("read {path}: {other}"),
        })
    }

    fn join(&self, base: &str, path: &str) -> String {
        if Path::new(path).is_absolute() {
            return path.to_string();
        }
        let joined = Path::new(base).join(path);
        clean(&joined)
    }
}

/// Go's `os` error wording for the common cases.
fn io_text(error: &std::io::Error) -> String {
    match error.kind() {
        std::io::ErrorKind::NotFound => "no such file or directory".to_string(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        _ => error.to_string(),
    }
}

/// Go's `filepath.Clean` for the joins we make (drops `.` elements and folds `..`).
fn clean(path: &Path) -> String {
    let mut parts: Vec<String> = Vec::new();
    let absolute = path.is_absolute();
    for component in path.components() {
        match component {
            std::path::Component::CurDir | std::path::Component::RootDir => {}
            std::path::Component::ParentDir => {
                if parts.last().is_some_and(|p| p != "..") {
                    parts.pop();
                } else if !absolute {
                    parts.push("..".to_string());
                }
            }
            other => parts.push(other.as_os_str().to_string_lossy().into_owned()),
        }
    }
    let body = parts.join("/");
    match (absolute, body.is_empty()) {
        (true, _) => format!("/{body}"),
        (false, true) => ".".to_string(),
        (false, false) => body,
    }
}

fn has_meta(text: &str) -> bool {
    text.contains(['*', '?', '['])
}

/// Go's `filepath.Glob`.
fn glob(pattern: &str) -> Result<Vec<String>, String> {
    if !has_meta(pattern) {
        return Ok(if std::fs::symlink_metadata(pattern).is_ok() {
            vec![pattern.to_string()]
        } else {
            Vec::new()
        });
    }
    let (dir, file) = match pattern.rfind('/') {
        Some(0) => ("/", &pattern[1..]),
        Some(i) => (&pattern[..i], &pattern[i + 1..]),
        None => (".", pattern),
    };
    // Validate the pattern as Go does (ErrBadPattern).
    match_pattern(file, "").map_err(|_| "syntax error in pattern".to_string())?;
    let dirs = if has_meta(dir) {
        glob(dir)?
    } else {
        vec![dir.to_string()]
    };
    let mut matches = Vec::new();
    for dir in dirs {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut names: Vec<String> = entries
            .filter_map(Result::ok)
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        for name in names {
            if match_pattern(file, &name).unwrap_or(false) {
                let full = if pattern.contains('/') {
                    if dir == "/" {
                        format!("/{name}")
                    } else {
                        format!("{dir}/{name}")
                    }
                } else {
                    name
                };
                matches.push(full);
            }
        }
    }
    Ok(matches)
}

/// Go's `filepath.Match` for one path element: `*`, `?`, `[...]` with ranges and `^`,
/// `\` escapes. `Err` for a malformed pattern.
fn match_pattern(pattern: &str, name: &str) -> Result<bool, ()> {
    let pattern: Vec<char> = pattern.chars().collect();
    let name: Vec<char> = name.chars().collect();
    fn class(pattern: &[char], mut i: usize, ch: char) -> Result<(bool, usize), ()> {
        // i points after '['.
        let negated = pattern.get(i) == Some(&'^');
        if negated {
            i += 1;
        }
        let mut matched = false;
        let mut first = true;
        loop {
            let c = *pattern.get(i).ok_or(())?;
            if c == ']' && !first {
                return Ok((matched != negated, i + 1));
            }
            first = false;
            let (lo, next) = escaped(pattern, i)?;
            i = next;
            let hi = if pattern.get(i) == Some(&'-') && pattern.get(i + 1) != Some(&']') {
                let (hi, next) = escaped(pattern, i + 1)?;
                i = next;
                hi
            } else {
                lo
            };
            if lo <= ch && ch <= hi {
                matched = true;
            }
        }
    }
    fn escaped(pattern: &[char], i: usize) -> Result<(char, usize), ()> {
        match pattern.get(i) {
            Some('\\') => pattern.get(i + 1).map(|&c| (c, i + 2)).ok_or(()),
            Some(&c) if c != ']' && c != '-' => Ok((c, i + 1)),
            _ => Err(()),
        }
    }
    fn go(pattern: &[char], p: usize, name: &[char], n: usize) -> Result<bool, ()> {
        if p == pattern.len() {
            return Ok(n == name.len());
        }
        match pattern[p] {
            '*' => {
                let mut k = n;
                loop {
                    if go(pattern, p + 1, name, k)? {
                        return Ok(true);
                    }
                    if k == name.len() || name[k] == '/' {
                        return Ok(false);
                    }
                    k += 1;
                }
            }
            '?' => Ok(n < name.len() && name[n] != '/' && go(pattern, p + 1, name, n + 1)?),
            '[' => {
                let Some(&ch) = name.get(n) else {
                    // Still validate the class.
                    class(pattern, p + 1, '\0')?;
                    return Ok(false);
                };
                let (ok, next) = class(pattern, p + 1, ch)?;
                Ok(ok && go(pattern, next, name, n + 1)?)
            }
            '\\' => {
                let c = *pattern.get(p + 1).ok_or(())?;
                Ok(name.get(n) == Some(&c) && go(pattern, p + 2, name, n + 1)?)
            }
            c => Ok(name.get(n) == Some(&c) && go(pattern, p + 1, name, n + 1)?),
        }
    }
    go(&pattern, 0, &name, 0)
}

/// The run `args` ask for, or the usage error.
fn run_options(args: &TestArgs) -> Result<RunOptions, String> {
    let version = match args.promtool_version {
        VersionArg::V2_42 => PromtoolVersion::V2_42,
        VersionArg::V3 => PromtoolVersion::V3,
    };
    let promtool_3_option = if !args.run.is_empty() {
        Some("--run")
    } else if args.ignore_unknown_fields {
        Some("--ignore-unknown-fields")
    } else {
        None
    };
    if let (Some(option), PromtoolVersion::V2_42) = (promtool_3_option, version) {
        return Err(format!(
            "{option} is a promtool 3 option: add --promtool-version 3"
        ));
    }
    // promtool joins the patterns with `|` into one regular expression.
    let run = if args.run.is_empty() {
        Vec::new()
    } else {
        let joined = args.run.join("|");
        let pattern = regex::Regex::new(&joined)
            .map_err(|e| format!("--run: invalid regular expression {joined:?}: {e}"))?;
        vec![pattern]
    };
    Ok(RunOptions {
        version,
        run,
        ignore_unknown_fields: args.ignore_unknown_fields,
    })
}

/// Runs the test files, printing promtool's output; returns the exit status.
pub fn run(args: &TestArgs) -> u8 {
    let options = match run_options(args) {
        Ok(options) => options,
        Err(message) => {
            write_stderr(&format!("error: {message}\n"));
            return EXIT_USAGE_OR_IO;
        }
    };
    let options = &options;
    let names: Vec<String> = args
        .files
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    // Cores left over by the file-level parallelism go to range queries within a file.
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let threads = (cores / names.len().max(1)).max(1);
    let progress = ProgressDisplay::new();
    let reports: Vec<FileReport> = std::thread::scope(|scope| {
        let handles: Vec<_> = names
            .iter()
            .map(|name| {
                let progress = &progress;
                scope.spawn(move || {
                    let base = Path::new(name)
                        .parent()
                        .map(|p| p.to_string_lossy().into_owned())
                        .filter(|p| !p.is_empty())
                        .unwrap_or_else(|| ".".to_string());
                    run_test_file(name, &base, &Filesystem, threads, options, progress)
                })
            })
            .collect();
        handles
            .into_iter()
            .zip(&names)
            .map(|(handle, name)| {
                handle.join().unwrap_or_else(|_| FileReport {
                    verdict: Verdict::NotRun,
                    output: vec![(
                        Stream::Stderr,
                        format!("Unit Testing:  {name}\n  FAILED:\ninternal error: the runner panicked\n\n"),
                    )],
                })
            })
            .collect()
    });
    progress.finish();
    let mut status = EXIT_CLEAN;
    for report in reports {
        for (stream, text) in &report.output {
            match stream {
                Stream::Stdout => write_stdout(text),
                Stream::Stderr => write_stderr(text),
            }
        }
        status = match report.verdict {
            Verdict::NotRun => EXIT_USAGE_OR_IO,
            Verdict::Failed | Verdict::Bad if status == EXIT_CLEAN => EXIT_INVALID_INPUT,
            _ => status,
        };
    }
    status
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_patterns_match_like_go() {
        assert_eq!(match_pattern("*.yml", "rules.yml"), Ok(true));
        assert_eq!(match_pattern("*.yml", "rules.yaml"), Ok(false));
        assert_eq!(match_pattern("r?les.yml", "rules.yml"), Ok(true));
        assert_eq!(match_pattern("[a-r]ules.yml", "rules.yml"), Ok(true));
        assert_eq!(match_pattern("[^a-r]ules.yml", "rules.yml"), Ok(false));
        assert_eq!(match_pattern("[", "x"), Err(()));
    }

    #[test]
    fn joins_are_cleaned() {
        assert_eq!(Filesystem.join("a/b", "../c.yml"), "a/c.yml");
        assert_eq!(Filesystem.join(".", "c.yml"), "c.yml");
        assert_eq!(Filesystem.join("a", "/abs.yml"), "/abs.yml");
    }
}
