//! `mlslo build [PATHS...] [-o DIR] [--check]`: compile `.slo` files into the
//! generated folder, or (with `--check`) show how the folder differs from a build.
//!
//! Only I/O lives here: the compilation is the library's ([`Compilation`]), and
//! this file reads the inputs, lists, stages, writes or diffs the output folder
//! and decides the exit status.
//!
//! Invariants: loading and diagnostics are the same as `mlslo check`; nothing is
//! written when the input has an error; the whole new output is made in a staging
//! folder beside the output and replaces it in one step (`atomic_write::replace_folder`),
//! so a reader, and a build that is killed or fails at any point, sees the whole old
//! output or the whole new one, never a mix; one build at a time writes an output
//! folder (a lock beside it; a second build waits and says for whom), and a build
//! removes what killed builds left beside it, saying so. Only files that start with
//! mlslo's header are ever replaced or removed: a foreign file in an owned folder and
//! everything outside the owned folders (a README) is carried into the new output as
//! it is (hard links), and a build that would overwrite a foreign file fails. Each
//! file is staged (or, under `--check`, compared) by the thread that generated it, so
//! a build never holds all of its output.
//! Exit status: 0 done or fresh, 1 input errors (or a stale folder under
//! `--check`, or warnings under `--deny-warnings`), 2 an I/O problem.

use super::atomic_write::{replace_folder, Replaced};
use super::input;
use super::process_lock::{LockError, ProcessLock};
use super::{write_stderr, write_stdout};
use super::{EXIT_CLEAN, EXIT_INVALID_INPUT, EXIT_USAGE_OR_IO};
use crate::base::diagnostic::{Diagnostic, SourceMap};
use crate::base::render;
use crate::base::text_diff::unified_diff;
use crate::compiler::emit::cost::{CostAssumptions, ServiceCost};
use crate::compiler::emit::{self, GENERATED_MARKER};
use crate::compiler::ir::naming;
use crate::compiler::verify::cardinality::CardinalityLimits;
use crate::compiler::Compilation;
use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

#[derive(Debug, clap::Args)]
pub(super) struct BuildArgs {
    /// Files or folders to compile; folders are searched recursively for *.slo files.
    #[arg(value_name = "PATHS", default_value = "rules/")]
    paths: Vec<PathBuf>,
    /// The output folder.
    #[arg(short = 'o', long = "output", default_value = "generated/")]
    output: PathBuf,
    /// Write nothing; exit 1 and print a unified diff when the output folder is stale.
    #[arg(long)]
    check: bool,
    /// Treat warnings as errors for the exit status (files are still written).
    #[arg(long)]
    deny_warnings: bool,
    /// Print each service's rule-evaluation cost (samples read per evaluation
    /// round), with the long windows chained and as raw counters would read them;
    /// `--cost=json` prints it as JSON, for scripts and pull-request bots.
    #[arg(
        long,
        value_name = "FORMAT",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "text"
    )]
    cost: Option<CostFormat>,
    /// The scrape interval the cost assumes (default: `[build]` or `[lint]`
    /// `scrape_interval` of .mlslo.toml, else 1m).
    #[arg(long, value_name = "DURATION", requires = "cost")]
    scrape_interval: Option<String>,
    /// The rule evaluation interval the cost assumes (default: `[build]
    /// evaluation_interval`, else 1m).
    #[arg(long, value_name = "DURATION", requires = "cost")]
    evaluation_interval: Option<String>,
    /// Series one raw selector matches per group, for the cost (default:
    /// `[build] series_per_selector`, else 1).
    #[arg(long, value_name = "N", requires = "cost", value_parser = clap::value_parser!(u64).range(1..))]
    series_per_selector: Option<u64>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum CostFormat {
    Text,
    Json,
}

pub(super) fn run(args: &BuildArgs) -> u8 {
    let limits = match super::check::check_limits() {
        Ok(limits) => limits,
        Err(message) => {
            write_stderr(&format!("error: {message}\n"));
            return EXIT_USAGE_OR_IO;
        }
    };
    let assumptions = match args.cost.map(|_| cost_assumptions(args)).transpose() {
        Ok(assumptions) => assumptions,
        Err(message) => {
            write_stderr(&format!("error: {message}\n"));
            return EXIT_USAGE_OR_IO;
        }
    };
    let output = match OutputFolder::locate(&args.output) {
        Ok(output) => output,
        Err(message) => {
            write_stderr(&format!("error: {message}\n"));
            return EXIT_USAGE_OR_IO;
        }
    };
    // Held until the new output is in place and the old one removed; `--check` writes
    // nothing and reads a folder that is always whole, so it takes no lock.
    let _lock = if args.check {
        None
    } else {
        match output.lock_and_clean_up(&args.output) {
            Ok(lock) => Some(lock),
            Err(message) => {
                write_stderr(&format!("error: {message}\n"));
                return EXIT_USAGE_OR_IO;
            }
        }
    };
    // The output folder's files and whose they are, listed while the input is
    // checked and compiled (at 10k objectives that is thousands of files to open).
    let output_path = output.path.clone();
    let listing_existing = std::thread::spawn(move || owned_files(&output_path));
    let mut inputs = input::load(&args.paths);
    for problem in &inputs.io_errors {
        write_stderr(&format!("error: {problem}\n"));
    }
    if !inputs.io_errors.is_empty() {
        return EXIT_USAGE_OR_IO;
    }
    // The generated headers name each input from the project root (the folder that
    // holds the output), so `build rules/`, `build ./rules//` and a build run from
    // another folder write the same bytes; diagnostics keep the paths as typed.
    let typed_names = name_from_project_root(&mut inputs.map, &output.parent);
    let earlier = std::mem::take(&mut inputs.diagnostics);
    let finished = compile_and_write(
        args,
        &output,
        (&inputs.map, &inputs.parseable, earlier),
        listing_existing,
        (assumptions.as_ref(), &limits),
    );
    for (index, name) in typed_names.into_iter().enumerate() {
        inputs.map.rename(index, name);
    }
    report(&inputs.map, &finished.diagnostics);
    write_stdout(&finished.stdout);
    write_stderr(&finished.stderr);
    finished.status
}

/// What a build or a check ends with, printed once the files have their typed names
/// back: diagnostics first, then the diff (stdout) and the closing lines (stderr).
struct Finished {
    diagnostics: Vec<Diagnostic>,
    stdout: String,
    stderr: String,
    status: u8,
}

fn compile_and_write(
    args: &BuildArgs,
    output: &OutputFolder,
    (map, parseable, earlier): (&SourceMap, &[usize], Vec<Diagnostic>),
    listing_existing: std::thread::JoinHandle<Result<BTreeMap<String, Existing>, String>>,
    (assumptions, limits): (Option<&CostAssumptions>, &CardinalityLimits),
) -> Finished {
    let mut compilation = Compilation::check_with(map, parseable, earlier, limits);
    let cost = match (compilation.program(), assumptions) {
        (Some(program), Some(assumptions)) => {
            let costs = emit::cost::service_costs(program, assumptions);
            match args.cost {
                Some(CostFormat::Json) => cost_json(&costs, assumptions),
                _ => cost_table(&costs, assumptions),
            }
        }
        _ => String::new(),
    };
    let listed = listing_existing
        .join()
        .unwrap_or_else(|payload| std::panic::resume_unwind(payload));
    let finish = |compilation: Compilation, stdout: String, stderr: String, status: u8| Finished {
        diagnostics: compilation.into_diagnostics(),
        stdout: stdout + &cost,
        stderr,
        status,
    };
    if compilation.has_errors() {
        let message = "error: nothing was written because the input has errors\n".to_owned();
        return finish(compilation, String::new(), message, EXIT_INVALID_INPUT);
    }
    let existing = match listed {
        Ok(existing) => existing,
        Err(message) => {
            return finish(
                compilation,
                String::new(),
                format!("error: {message}\n"),
                EXIT_USAGE_OR_IO,
            );
        }
    };
    let exit_when_done = |diagnostics: &[Diagnostic]| {
        if args.deny_warnings && !diagnostics.is_empty() {
            EXIT_INVALID_INPUT
        } else {
            EXIT_CLEAN
        }
    };
    if args.check {
        // Each file is compared as it is generated; only the differences are kept.
        let diffs = compilation.emit_each(|relative, content| {
            file_diff(&args.output, relative, &content, existing.get(relative))
        });
        let diff = match folder_diff(&args.output, diffs, &existing) {
            Ok(diff) => diff,
            Err(message) => {
                return finish(
                    compilation,
                    String::new(),
                    format!("error: {message}\n"),
                    EXIT_USAGE_OR_IO,
                );
            }
        };
        if diff.is_empty() {
            let status = exit_when_done(compilation.diagnostics());
            let message = format!("{} is fresh\n", args.output.display());
            return finish(compilation, String::new(), message, status);
        }
        let message = format!(
            "error: {} is stale; run `mlslo build` and commit the result\n",
            args.output.display()
        );
        return finish(compilation, diff, message, EXIT_INVALID_INPUT);
    }
    let staging = match Staging::create(output, &existing) {
        Ok(staging) => staging,
        Err(message) => {
            return finish(
                compilation,
                String::new(),
                format!("error: {message}\n"),
                EXIT_USAGE_OR_IO,
            );
        }
    };
    // Each file is staged as it is generated, so no build holds all of its output.
    let staged = compilation.emit_each(|relative, content| staging.stage_file(relative, &content));
    let written = staged.len();
    // The first failure in the order of generation is the one reported.
    let result = match staged.iter().find_map(|(_, staged)| staged.as_ref().err()) {
        Some(message) => Err(message.clone()),
        None => {
            let wanted: BTreeSet<&str> = staged.iter().map(|(path, _)| path.as_str()).collect();
            staging.swap_in(&wanted)
        }
    };
    drop(staging);
    match result {
        Ok(()) => {
            let status = exit_when_done(compilation.diagnostics());
            let message = format!("wrote {written} files to {}\n", args.output.display());
            finish(compilation, String::new(), message, status)
        }
        Err(message) => finish(
            compilation,
            String::new(),
            format!("error: {message}\n"),
            EXIT_USAGE_OR_IO,
        ),
    }
}

/// The assumptions of `--cost`: the flags, else `.mlslo.toml` in the current
/// folder (when there is one), else Prometheus' defaults.
fn cost_assumptions(args: &BuildArgs) -> Result<CostAssumptions, String> {
    let path = Path::new(".mlslo.toml");
    let mut assumptions = match input::read_text(path) {
        Ok(text) => CostAssumptions::from_toml(&text)
            .map_err(|message| format!("{}: {message}", path.display()))?,
        Err(_) => CostAssumptions::default(),
    };
    if let Some(text) = &args.scrape_interval {
        assumptions.scrape_interval = emit::cost::interval("--scrape-interval", text)?;
    }
    if let Some(text) = &args.evaluation_interval {
        assumptions.evaluation_interval = emit::cost::interval("--evaluation-interval", text)?;
    }
    if let Some(count) = args.series_per_selector {
        assumptions.series_per_selector = count;
    }
    Ok(assumptions)
}

/// The totals of a `--cost` report: rules, samples with raw long windows, chained.
fn cost_totals(costs: &[ServiceCost]) -> (u64, u64, u64) {
    costs
        .iter()
        .fold((0u64, 0u64, 0u64), |(rules, raw, chained), cost| {
            (
                rules.saturating_add(cost.rules as u64),
                raw.saturating_add(cost.samples_with_raw_long_windows),
                chained.saturating_add(cost.samples),
            )
        })
}

/// The share of the samples that chaining the long windows saves (0 to 1).
fn cost_saving(raw: u64, chained: u64) -> f64 {
    if raw == 0 {
        0.0
    } else {
        (raw - chained.min(raw)) as f64 / raw as f64
    }
}

/// `--cost=json`: the table's figures, unrounded, with the assumptions.
fn cost_json(costs: &[ServiceCost], assumptions: &CostAssumptions) -> String {
    let (rules, raw, chained) = cost_totals(costs);
    let services: Vec<serde_json::Value> = costs
        .iter()
        .map(|cost| {
            serde_json::json!({
                "service": cost.service,
                "rules": cost.rules,
                "samples_raw_long_windows": cost.samples_with_raw_long_windows,
                "samples_chained": cost.samples,
            })
        })
        .collect();
    let report = serde_json::json!({
        "unit": "samples read per evaluation round, per group of a grouped objective",
        "assumptions": {
            "scrape_interval": assumptions.scrape_interval.to_string(),
            "evaluation_interval": assumptions.evaluation_interval.to_string(),
            "series_per_selector": assumptions.series_per_selector,
        },
        "chained_from": emit::prometheus::CHAINED_FROM.to_string(),
        "services": services,
        "total": {
            "rules": rules,
            "samples_raw_long_windows": raw,
            "samples_chained": chained,
        },
        "saving": cost_saving(raw, chained),
    });
    let mut text = serde_json::to_string_pretty(&report).unwrap_or_default();
    text.push('\n');
    text
}

/// The `--cost` report: the assumptions, then one line per service and the total.
fn cost_table(costs: &[ServiceCost], assumptions: &CostAssumptions) -> String {
    let series = match assumptions.series_per_selector {
        1 => "1 series".to_owned(),
        count => format!("{count} series"),
    };
    let mut out = format!(
        "rule evaluation cost: samples read per evaluation round, per group of a grouped objective\n\
         assuming a {} scrape interval, a {} evaluation interval, {series} per raw selector\n\n",
        assumptions.scrape_interval, assumptions.evaluation_interval
    );
    let name_width = costs
        .iter()
        .map(|cost| cost.service.chars().count())
        .chain(["service".len(), "total".len()])
        .max()
        .unwrap_or(0);
    let mut rows: Vec<[String; 4]> = costs
        .iter()
        .map(|cost| {
            [
                cost.service.clone(),
                cost.rules.to_string(),
                cost.samples_with_raw_long_windows.to_string(),
                cost.samples.to_string(),
            ]
        })
        .collect();
    let (rules, before, after) = cost_totals(costs);
    if costs.len() > 1 {
        rows.push([
            "total".to_owned(),
            rules.to_string(),
            before.to_string(),
            after.to_string(),
        ]);
    }
    out.push_str(&format!(
        "{:<name_width$}  {:>5}  {:>16}  {:>12}\n",
        "service", "rules", "raw long windows", "chained"
    ));
    for [service, rules, raw, chained] in rows {
        out.push_str(&format!(
            "{service:<name_width$}  {rules:>5}  {raw:>16}  {chained:>12}\n"
        ));
    }
    if before > 0 {
        let saved = cost_saving(before, after) * 100.0;
        out.push_str(&format!(
            "\nchaining the windows from {} on saves {saved:.0}% of the samples read\n",
            emit::prometheus::CHAINED_FROM
        ));
    }
    out
}

/// Renames every file of `map` to its path from `root` (or, outside it, from the
/// current folder; else its full path), with `/` and no `.` or `..` steps; returns the
/// names as typed, by file index.
fn name_from_project_root(map: &mut SourceMap, root: &Path) -> Vec<String> {
    let current = std::env::current_dir()
        .ok()
        .and_then(|folder| fs::canonicalize(folder).ok());
    let count = map.files().len();
    (0..count)
        .map(|index| {
            let typed = map.files()[index].name.clone();
            let Ok(full) = fs::canonicalize(&typed) else {
                return typed;
            };
            let from_root = full
                .strip_prefix(root)
                .ok()
                .or_else(|| {
                    current
                        .as_deref()
                        .and_then(|folder| full.strip_prefix(folder).ok())
                })
                .unwrap_or(&full);
            let name = from_root.to_string_lossy().replace('\\', "/");
            map.rename(index, name)
        })
        .collect()
}

/// Prints the diagnostics (in source order), with their summary line.
fn report(map: &SourceMap, diagnostics: &[Diagnostic]) {
    write_stderr(&render::render_human(map, diagnostics, use_color()));
    if let Some(summary) = render::summary(diagnostics) {
        write_stderr(&format!("{summary}\n"));
    }
}

/// A file found in an owned folder: whether mlslo generated it, and its size.
/// Contents are read only where they are compared (a rebuild at 10k objectives
/// finds 170 MB of old output, and holding all of it at once costs more than
/// comparing one file at a time).
struct Existing {
    generated: bool,
    size: u64,
}

/// Every file in the owned folders of `output`, by path relative to `output`.
fn owned_files(output: &Path) -> Result<BTreeMap<String, Existing>, String> {
    let mut found = BTreeMap::new();
    for folder in naming::OWNED_FOLDERS {
        let directory = output.join(folder);
        let entries = match fs::read_dir(&directory) {
            Ok(entries) => entries,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => continue,
            Err(error) => return Err(format!("cannot read `{}`: {error}", directory.display())),
        };
        for entry in entries {
            let entry =
                entry.map_err(|error| format!("cannot read `{}`: {error}", directory.display()))?;
            let path = entry.path();
            let Ok(metadata) = fs::metadata(&path) else {
                continue;
            };
            if !metadata.is_file() {
                continue;
            }
            let name = entry.file_name().to_string_lossy().into_owned();
            let generated = is_generated(&path)
                .map_err(|error| format!("cannot read `{}`: {error}", path.display()))?;
            found.insert(
                format!("{folder}/{name}"),
                Existing {
                    generated,
                    size: metadata.len(),
                },
            );
        }
    }
    Ok(found)
}

/// YAML files carry the marker in their first comment line; JSON has no comments,
/// so a watch is mlslo's when its `metadata` says so (the same mark the GitOps
/// deploy uses to tell its watches from a user's), and a dashboard when its
/// `description` starts with the marker.
fn is_generated(path: &Path) -> std::io::Result<bool> {
    use std::io::Read;
    let marker = format!("# {GENERATED_MARKER}");
    let dashboard_start = format!("{}{GENERATED_MARKER}", emit::grafana::DASHBOARD_TEXT_START);
    let mut head = Vec::with_capacity(dashboard_start.len());
    fs::File::open(path)?
        .take(dashboard_start.len() as u64)
        .read_to_end(&mut head)?;
    // A rebuild meets every dashboard again: the prefix spares parsing them whole.
    if head == dashboard_start.as_bytes() {
        return Ok(true);
    }
    if head.first() == Some(&b'{') {
        let content = read_text(path)?;
        return Ok(
            serde_json::from_str::<serde_json::Value>(&content).is_ok_and(|document| {
                document["metadata"][emit::watcher::OWNED_MARKER] == serde_json::Value::Bool(true)
                    || document["description"]
                        .as_str()
                        .is_some_and(|description| description.starts_with(GENERATED_MARKER))
            }),
        );
    }
    Ok(head.starts_with(marker.as_bytes()))
}

/// A file's text; bytes that are not UTF-8 become U+FFFD (only shown in diffs).
fn read_text(path: &Path) -> std::io::Result<String> {
    let bytes = fs::read(path)?;
    Ok(match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(error) => String::from_utf8_lossy(error.as_bytes()).into_owned(),
    })
}

/// [`read_text`] of an old output file, for a diff; the error names the file.
fn old_text(path: &Path) -> Result<String, String> {
    read_text(path).map_err(|error| format!("cannot read `{}`: {error}", path.display()))
}

thread_local! {
    /// The old file being compared, reused from file to file on each thread.
    static OLD_CONTENT: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Whether the file at `path` holds exactly `wanted`. A size that differs answers
/// without reading.
fn holds_exactly(path: &Path, old: &Existing, wanted: &str) -> bool {
    use std::io::Read;
    if old.size != wanted.len() as u64 {
        return false;
    }
    OLD_CONTENT.with(|buffer| {
        let mut buffer = buffer.borrow_mut();
        buffer.clear();
        let read = fs::File::open(path).and_then(|mut file| file.read_to_end(&mut buffer));
        read.is_ok() && buffer.as_slice() == wanted.as_bytes()
    })
}

/// How one wanted file differs from its copy in `output`: a unified diff, empty
/// when they are the same.
fn file_diff(
    output: &Path,
    relative: &str,
    content: &str,
    existing: Option<&Existing>,
) -> Result<String, String> {
    let path = output.join(relative);
    let shown = shown_path(output, relative);
    match existing {
        Some(old) if holds_exactly(&path, old, content) => Ok(String::new()),
        Some(_) => {
            let (old_name, new_name) = (format!("a/{shown}"), format!("b/{shown}"));
            let diff = unified_diff(&old_name, &new_name, &old_text(&path)?, content);
            // Bytes that are not UTF-8 read as U+FFFD, so the texts can be equal where
            // the bytes differ; the headers alone still show the file as stale.
            Ok(if diff.is_empty() {
                format!("--- {old_name}\n+++ {new_name}\n")
            } else {
                diff
            })
        }
        None => Ok(unified_diff(
            "/dev/null",
            &format!("b/{shown}"),
            "",
            content,
        )),
    }
}

/// `output/relative` as diffs name it: forward slashes, no leading `/`.
fn shown_path(output: &Path, relative: &str) -> String {
    output
        .join(relative)
        .to_string_lossy()
        .replace('\\', "/")
        .trim_start_matches('/')
        .to_owned()
}

/// A unified diff from the folder as it is to the folder as a build would leave
/// it: the wanted files' diffs in path order, then the generated files a build
/// would remove.
fn folder_diff(
    output: &Path,
    mut wanted: Vec<(String, Result<String, String>)>,
    existing: &BTreeMap<String, Existing>,
) -> Result<String, String> {
    wanted.sort_by(|left, right| left.0.cmp(&right.0));
    let mut diff = String::new();
    for (_, file_diff) in &wanted {
        diff.push_str(file_diff.as_ref().map_err(String::clone)?);
    }
    for (relative, old) in existing {
        let still_wanted = wanted
            .binary_search_by(|(path, _)| path.as_str().cmp(relative))
            .is_ok();
        if old.generated && !still_wanted {
            diff.push_str(&unified_diff(
                &format!("a/{}", shown_path(output, relative)),
                "/dev/null",
                &old_text(&output.join(relative))?,
                "",
            ));
        }
    }
    Ok(diff)
}

/// The output folder as a build replaces it: the folder itself (a symbolic link is
/// followed, so the folder it names is replaced and the link kept), and the folder
/// it sits in, which also holds the staging folder and the lock.
struct OutputFolder {
    path: PathBuf,
    parent: PathBuf,
    name: String,
}

impl OutputFolder {
    fn locate(output: &Path) -> Result<Self, String> {
        let cannot = |error: std::io::Error| format!("cannot use `{}`: {error}", output.display());
        let absolute = std::path::absolute(output).map_err(cannot)?;
        let path = match fs::canonicalize(&absolute) {
            Ok(path) => path,
            Err(_) => match (absolute.parent(), absolute.file_name()) {
                (Some(parent), Some(name)) => fs::canonicalize(parent)
                    .unwrap_or_else(|_| parent.to_path_buf())
                    .join(name),
                _ => absolute.clone(),
            },
        };
        if path.exists() && !path.is_dir() {
            return Err(format!("`{}` is not a folder", output.display()));
        }
        match (path.parent(), path.file_name()) {
            (Some(parent), Some(name)) => Ok(OutputFolder {
                parent: parent.to_path_buf(),
                name: name.to_string_lossy().into_owned(),
                path,
            }),
            _ => Err(format!(
                "cannot build into `{}`: a build needs the folder above it for its staging folder",
                output.display()
            )),
        }
    }

    /// `.NAME.mlslo-KIND-PID` beside the output: hidden, and named after the output so
    /// that builds into two folders of one parent never take each other's.
    fn sibling(&self, kind: &str) -> PathBuf {
        self.parent.join(format!(
            "{}{}",
            self.leftover_prefix(kind),
            std::process::id()
        ))
    }

    fn leftover_prefix(&self, kind: &str) -> String {
        format!(".{}.mlslo-{kind}-", self.name)
    }

    /// Takes the build lock of this folder (waiting for a build that holds it), then
    /// removes what builds that were killed left beside it.
    fn lock_and_clean_up(&self, shown: &Path) -> Result<ProcessLock, String> {
        fs::create_dir_all(&self.parent)
            .map_err(|error| format!("cannot create `{}`: {error}", self.parent.display()))?;
        let lock_path = self.parent.join(format!(".{}.mlslo-build.lock", self.name));
        let lock = ProcessLock::acquire(&lock_path, |holder| {
            let holder = holder.map_or_else(|| "starting".to_owned(), |owner| owner.describe());
            write_stderr(&format!(
                "waiting for another build into `{}` to finish ({holder}; lock `{}`)\n",
                shown.display(),
                lock_path.display()
            ));
        })
        .map_err(|error| match error {
            LockError::Ownerless => format!(
                "`{}` names no owner (an older mlslo, or a file made by hand): remove it if no \
                 build into `{}` is running",
                lock_path.display(),
                shown.display()
            ),
            // Waiting, a build is never refused for a held lock.
            LockError::Held(_) | LockError::Io(_) => error.to_string(),
        })?;
        if let Some(owner) = &lock.taken_over_from {
            write_stderr(&format!(
                "note: took over the lock of a build into `{}` that was stopped ({})\n",
                shown.display(),
                owner.describe()
            ));
        }
        self.clean_up_stopped_builds(shown)?;
        Ok(lock)
    }

    /// A stopped build leaves its staging folder (or, after the swap, the old output
    /// it had not yet removed). Where a file system cannot exchange two folders, a
    /// build stopped between its two renames leaves no output and the old one aside,
    /// which is put back. Only called under the lock, so no build is using them.
    fn clean_up_stopped_builds(&self, shown: &Path) -> Result<(), String> {
        let staging_prefix = self.leftover_prefix(STAGING);
        let aside_prefix = self.leftover_prefix(REPLACED);
        let entries = fs::read_dir(&self.parent)
            .map_err(|error| format!("cannot read `{}`: {error}", self.parent.display()))?;
        let mut leftovers: Vec<PathBuf> = entries
            .filter_map(|entry| entry.ok())
            .filter(|entry| {
                let name = entry.file_name().to_string_lossy().into_owned();
                name.starts_with(&staging_prefix) || name.starts_with(&aside_prefix)
            })
            .map(|entry| entry.path())
            .collect();
        leftovers.sort();
        if fs::symlink_metadata(&self.path).is_err() {
            let aside = leftovers.iter().position(|path| {
                path.file_name()
                    .is_some_and(|name| name.to_string_lossy().starts_with(&aside_prefix))
            });
            if let Some(index) = aside {
                let aside = leftovers.remove(index);
                fs::rename(&aside, &self.path)
                    .map_err(|error| format!("cannot put `{}` back: {error}", aside.display()))?;
                write_stderr(&format!(
                    "note: put back `{}`, moved aside to `{}` by a build that was stopped\n",
                    shown.display(),
                    aside.display()
                ));
            }
        }
        for leftover in leftovers {
            remove_tree(&leftover)
                .map_err(|error| format!("cannot remove `{}`: {error}", leftover.display()))?;
            write_stderr(&format!(
                "note: removed `{}`, left by a build that was stopped\n",
                leftover.display()
            ));
        }
        Ok(())
    }
}

const STAGING: &str = "staging";
const REPLACED: &str = "replaced";

/// The staging folder beside the output: the whole new output is made in it (files
/// written, unchanged and foreign files linked), then it replaces the output in one
/// step. Dropping it removes what is left of it.
struct Staging<'a> {
    output: &'a OutputFolder,
    path: PathBuf,
    existing: &'a BTreeMap<String, Existing>,
}

impl<'a> Staging<'a> {
    fn create(
        output: &'a OutputFolder,
        existing: &'a BTreeMap<String, Existing>,
    ) -> Result<Self, String> {
        let path = output.sibling(STAGING);
        let _ = fs::remove_dir_all(&path);
        fs::create_dir(&path)
            .map_err(|error| format!("cannot create `{}`: {error}", path.display()))?;
        let staging = Staging {
            output,
            path,
            existing,
        };
        for folder in naming::OWNED_FOLDERS {
            let folder = staging.path.join(folder);
            fs::create_dir_all(&folder)
                .map_err(|error| format!("cannot create `{}`: {error}", folder.display()))?;
        }
        Ok(staging)
    }

    /// Puts one wanted file into the staging folder. A file whose generated copy is
    /// already in the output with the same content is hard-linked rather than
    /// written: a rebuild that changes little then creates almost no new files, and
    /// creating files, not reading them, is the costly part of writing thousands.
    fn stage_file(&self, relative: &str, content: &str) -> Result<(), String> {
        let old_path = self.output.path.join(relative);
        let old = self.existing.get(relative);
        if old.is_some_and(|old| !old.generated) {
            return Err(format!(
                "refusing to overwrite `{}`: it was not generated by mlslo",
                old_path.display()
            ));
        }
        let path = self.path.join(relative);
        let unchanged = old.is_some_and(|old| holds_exactly(&old_path, old, content));
        if unchanged && fs::hard_link(&old_path, &path).is_ok() {
            return Ok(());
        }
        let mut written = fs::write(&path, content);
        if written
            .as_ref()
            .is_err_and(|error| error.kind() == std::io::ErrorKind::NotFound)
        {
            if let Some(parent) = path.parent() {
                let _ = fs::create_dir_all(parent);
            }
            written = fs::write(&path, content);
        }
        written.map_err(|error| format!("cannot write `{}`: {error}", path.display()))
    }

    /// Carries over everything of the output that is not a generated file (the
    /// foreign files of owned folders, and every other file or folder, such as a
    /// README), then replaces the output with the staging folder in one step and
    /// removes the old output. An owned folder left with no file is not kept.
    fn swap_in(&self, wanted: &BTreeSet<&str>) -> Result<(), String> {
        let had_output = self.output.path.is_dir();
        if had_output {
            self.carry_over_what_is_not_generated(wanted)?;
        }
        for folder in naming::OWNED_FOLDERS {
            // Fails, as it should, when the folder has files.
            let _ = fs::remove_dir(self.path.join(folder));
        }
        if had_output {
            // The new folder keeps the old one's mode (set last: it may forbid writing).
            let permissions = fs::metadata(&self.output.path)
                .map_err(|error| format!("cannot read `{}`: {error}", self.output.path.display()))?
                .permissions();
            fs::set_permissions(&self.path, permissions).map_err(|error| {
                format!("cannot set the mode of `{}`: {error}", self.path.display())
            })?;
        }
        let aside = self.output.sibling(REPLACED);
        let old_output = match replace_folder(&self.path, &self.output.path, &aside)? {
            Replaced::Nothing => return Ok(()),
            Replaced::AtNewFoldersPath => &self.path,
            Replaced::Aside => &aside,
        };
        // The new output is in place: a failure to remove the old one is left to the
        // next build, which removes it and says so.
        let _ = remove_tree(old_output);
        Ok(())
    }

    fn carry_over_what_is_not_generated(&self, wanted: &BTreeSet<&str>) -> Result<(), String> {
        let carry = |from: &Path, to: &Path| {
            link_tree(from, to)
                .map_err(|error| format!("cannot carry over `{}`: {error}", from.display()))
        };
        for (relative, old) in self.existing {
            if !old.generated && !wanted.contains(relative.as_str()) {
                carry(&self.output.path.join(relative), &self.path.join(relative))?;
            }
        }
        let read = |folder: &Path| {
            fs::read_dir(folder)
                .map_err(|error| format!("cannot read `{}`: {error}", folder.display()))
        };
        for entry in read(&self.output.path)? {
            let entry = entry.map_err(|error| {
                format!("cannot read `{}`: {error}", self.output.path.display())
            })?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let is_owned_folder = naming::OWNED_FOLDERS.contains(&name.as_str())
                && entry.file_type().is_ok_and(|kind| kind.is_dir());
            if !is_owned_folder {
                carry(&entry.path(), &self.path.join(&name))?;
                continue;
            }
            // Inside an owned folder, the listing has every file; anything else (a
            // folder, a dangling link) is the user's.
            for inner in read(&entry.path())? {
                let inner = inner.map_err(|error| {
                    format!("cannot read `{}`: {error}", entry.path().display())
                })?;
                let relative = format!("{name}/{}", inner.file_name().to_string_lossy());
                if !self.existing.contains_key(&relative) {
                    carry(&inner.path(), &self.path.join(&relative))?;
                }
            }
        }
        Ok(())
    }
}

impl Drop for Staging<'_> {
    fn drop(&mut self) {
        let _ = remove_tree(&self.path);
    }
}

/// Removes a folder (or a file); the folders directly inside it (thousands of files
/// each at 10k objectives) go on all cores.
fn remove_tree(path: &Path) -> std::io::Result<()> {
    if !fs::symlink_metadata(path)?.is_dir() {
        return fs::remove_file(path);
    }
    let folders: Vec<PathBuf> = fs::read_dir(path)?
        .filter_map(|entry| entry.ok())
        .filter(|entry| entry.file_type().is_ok_and(|kind| kind.is_dir()))
        .map(|entry| entry.path())
        .collect();
    std::thread::scope(|scope| {
        for folder in &folders {
            scope.spawn(move || fs::remove_dir_all(folder));
        }
    });
    fs::remove_dir_all(path)
}

/// A copy of the tree at `from` whose files are hard links to the originals (copies
/// where the file system has no hard links), so carrying a user's files over costs
/// no space and keeps them byte for byte.
fn link_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    let metadata = fs::symlink_metadata(from)?;
    if metadata.is_dir() {
        fs::create_dir(to)?;
        for entry in fs::read_dir(from)? {
            let entry = entry?;
            link_tree(&entry.path(), &to.join(entry.file_name()))?;
        }
        // Set last, so that a read-only folder can first be filled.
        return fs::set_permissions(to, metadata.permissions());
    }
    if fs::hard_link(from, to).is_ok() {
        return Ok(());
    }
    #[cfg(unix)]
    if metadata.file_type().is_symlink() {
        return std::os::unix::fs::symlink(fs::read_link(from)?, to);
    }
    fs::copy(from, to).map(|_| ())
}

/// Colour only for a terminal, and never when the user asked for none.
fn use_color() -> bool {
    std::io::stderr().is_terminal()
        && std::env::var_os("NO_COLOR").is_none_or(|value| value.is_empty())
        && std::env::var_os("TERM").is_none_or(|term| term != "dumb")
}
