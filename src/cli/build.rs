//! `mlslo build [PATHS...] [-o DIR] [--check]`: compile `.slo` files into the
//! generated folder, or (with `--check`) show how the folder differs from a build.
//!
//! Only I/O lives here: the compilation is the library's ([`Compilation`]), and
//! this file reads the inputs, lists, stages, writes or diffs the output folder
//! and decides the exit status.
//!
//! Invariants: loading and diagnostics are the same as `mlslo check`; nothing is
//! written when the input has an error; files are written into a staging folder
//! beside the output and each owned folder (`prometheus/`, `kubernetes/`,
//! `tests/`) is swapped into place by renames, so a failed build leaves the output
//! as it was; only files that start with mlslo's header are ever replaced or
//! removed (a foreign file in an owned folder is kept, and a build that would
//! overwrite one fails). Each file is staged (or, under `--check`, compared) by
//! the thread that generated it, so a build never holds all of its output.
//! Exit status: 0 done or fresh, 1 input errors (or a stale folder under
//! `--check`, or warnings under `--deny-warnings`), 2 an I/O problem.

use super::input;
use super::{write_stderr, write_stdout};
use super::{EXIT_CLEAN, EXIT_INVALID_INPUT, EXIT_USAGE_OR_IO};
use crate::base::diagnostic::{Diagnostic, SourceMap};
use crate::base::render;
use crate::base::text_diff::unified_diff;
use crate::compiler::emit::{self, GENERATED_MARKER};
use crate::compiler::ir::naming;
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
}

pub(super) fn run(args: &BuildArgs) -> u8 {
    // The output folder's files and whose they are, listed while the input is
    // checked and compiled (at 10k objectives that is thousands of files to open).
    let output = args.output.clone();
    let listing_existing = std::thread::spawn(move || owned_files(&output));
    let inputs = input::load(&args.paths);
    for problem in &inputs.io_errors {
        write_stderr(&format!("error: {problem}\n"));
    }
    if !inputs.io_errors.is_empty() {
        return EXIT_USAGE_OR_IO;
    }
    let mut compilation = Compilation::check(&inputs.map, &inputs.parseable, inputs.diagnostics);
    let listed = listing_existing
        .join()
        .unwrap_or_else(|payload| std::panic::resume_unwind(payload));
    if compilation.has_errors() {
        report(&inputs.map, compilation.diagnostics());
        write_stderr("error: nothing was written because the input has errors\n");
        return EXIT_INVALID_INPUT;
    }
    let existing = match listed {
        Ok(existing) => existing,
        Err(message) => {
            report(&inputs.map, compilation.diagnostics());
            write_stderr(&format!("error: {message}\n"));
            return EXIT_USAGE_OR_IO;
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
        report(&inputs.map, compilation.diagnostics());
        let diff = match folder_diff(&args.output, diffs, &existing) {
            Ok(diff) => diff,
            Err(message) => {
                write_stderr(&format!("error: {message}\n"));
                return EXIT_USAGE_OR_IO;
            }
        };
        if diff.is_empty() {
            write_stderr(&format!("{} is fresh\n", args.output.display()));
            return exit_when_done(compilation.diagnostics());
        }
        write_stdout(&diff);
        write_stderr(&format!(
            "error: {} is stale; run `mlslo build` and commit the result\n",
            args.output.display()
        ));
        return EXIT_INVALID_INPUT;
    }
    let staging = match Staging::create(&args.output, &existing) {
        Ok(staging) => staging,
        Err(message) => {
            report(&inputs.map, compilation.diagnostics());
            write_stderr(&format!("error: {message}\n"));
            return EXIT_USAGE_OR_IO;
        }
    };
    // Each file is staged as it is generated, so no build holds all of its output.
    let staged = compilation.emit_each(|relative, content| staging.stage_file(relative, &content));
    report(&inputs.map, compilation.diagnostics());
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
            write_stderr(&format!(
                "wrote {written} files to {}\n",
                args.output.display()
            ));
            exit_when_done(compilation.diagnostics())
        }
        Err(message) => {
            write_stderr(&format!("error: {message}\n"));
            EXIT_USAGE_OR_IO
        }
    }
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
/// deploy uses to tell its watches from a user's).
fn is_generated(path: &Path) -> std::io::Result<bool> {
    use std::io::Read;
    let marker = format!("# {GENERATED_MARKER}");
    let mut head = Vec::with_capacity(marker.len());
    fs::File::open(path)?
        .take(marker.len() as u64)
        .read_to_end(&mut head)?;
    if head.first() == Some(&b'{') {
        let content = read_text(path)?;
        return Ok(
            serde_json::from_str::<serde_json::Value>(&content).is_ok_and(|watch| {
                watch["metadata"][emit::watcher::OWNED_MARKER] == serde_json::Value::Bool(true)
            }),
        );
    }
    Ok(head == marker.as_bytes())
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

/// The staging folder beside the output: files are written into it, then each
/// owned folder is swapped into place by renames. Dropping it removes it and the
/// folders it replaced.
struct Staging<'a> {
    output: &'a Path,
    path: PathBuf,
    existing: &'a BTreeMap<String, Existing>,
}

impl<'a> Staging<'a> {
    fn create(output: &'a Path, existing: &'a BTreeMap<String, Existing>) -> Result<Self, String> {
        fs::create_dir_all(output)
            .map_err(|error| format!("cannot create `{}`: {error}", output.display()))?;
        let folder_name = output.file_name().map_or_else(
            || "generated".to_owned(),
            |name| name.to_string_lossy().into_owned(),
        );
        let path = output
            .parent()
            .unwrap_or_else(|| Path::new("."))
            .join(format!(
                ".{folder_name}.mlslo-staging-{}",
                std::process::id()
            ));
        let _ = fs::remove_dir_all(&path);
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
        let old_path = self.output.join(relative);
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

    /// Carries the foreign files of owned folders over, then swaps each owned
    /// folder into place (a folder left with no file is removed from the output).
    fn swap_in(&self, wanted: &BTreeSet<&str>) -> Result<(), String> {
        for (relative, old) in self.existing {
            if !old.generated && !wanted.contains(relative.as_str()) {
                // Carried over byte for byte.
                let from = self.output.join(relative);
                let to = self.path.join(relative);
                fs::copy(&from, &to)
                    .map_err(|error| format!("cannot copy `{}`: {error}", from.display()))?;
            }
        }
        let old_folders = self.path.join(".replaced");
        fs::create_dir_all(&old_folders)
            .map_err(|error| format!("cannot create `{}`: {error}", old_folders.display()))?;
        for folder in naming::OWNED_FOLDERS {
            let target = self.output.join(folder);
            let fresh = self.path.join(folder);
            let backup = old_folders.join(folder);
            // Fails, as it should, when the folder has files.
            let _ = fs::remove_dir(&fresh);
            let had_target = target.exists();
            if had_target {
                fs::rename(&target, &backup).map_err(|error| {
                    format!("cannot move `{}` aside: {error}", target.display())
                })?;
            }
            if fresh.exists() {
                if let Err(error) = fs::rename(&fresh, &target) {
                    if had_target {
                        let _ = fs::rename(&backup, &target);
                    }
                    return Err(format!(
                        "cannot move `{}` into place: {error}",
                        target.display()
                    ));
                }
            }
        }
        Ok(())
    }
}

impl Drop for Staging<'_> {
    fn drop(&mut self) {
        // The staging folder holds only our copies and the replaced folders; the
        // replaced folders (thousands of files at 10k objectives) go on all cores.
        let replaced = self.path.join(".replaced");
        std::thread::scope(|scope| {
            for folder in naming::OWNED_FOLDERS {
                let path = replaced.join(folder);
                scope.spawn(move || fs::remove_dir_all(path));
            }
        });
        let _ = fs::remove_dir_all(&self.path);
    }
}

/// Colour only for a terminal, and never when the user asked for none.
fn use_color() -> bool {
    std::io::stderr().is_terminal()
        && std::env::var_os("NO_COLOR").is_none_or(|value| value.is_empty())
        && std::env::var_os("TERM").is_none_or(|term| term != "dumb")
}
