//! `mlslo build [PATHS...] [-o DIR] [--check]`: compile `.slo` files into the
//! generated folder, or (with `--check`) show how the folder differs from a build.
//!
//! Invariants: loading and diagnostics are the same as `mlslo check`; nothing is
//! written when the input has an error; files are written into a staging folder
//! beside the output and each owned folder (`prometheus/`, `kubernetes/`,
//! `tests/`) is swapped into place by renames, so a failed build leaves the output
//! as it was; only files that start with mlslo's header are ever replaced or
//! removed (a foreign file in an owned folder is kept, and a build that would
//! overwrite one fails). Exit status: 0 done or fresh, 1 input errors (or a stale
//! folder under `--check`, or warnings under `--deny-warnings`), 2 an I/O problem.

use super::input;
use super::{write_stderr, write_stdout};
use super::{EXIT_CLEAN, EXIT_INVALID_INPUT, EXIT_USAGE_OR_IO};
use crate::emit::{self, naming, GENERATED_MARKER};
use crate::render;
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
    let reading_existing = std::thread::spawn(move || owned_files(&output));
    let inputs = input::load(&args.paths);
    for problem in &inputs.io_errors {
        write_stderr(&format!("error: {problem}\n"));
    }
    if !inputs.io_errors.is_empty() {
        return EXIT_USAGE_OR_IO;
    }
    let mut diagnostics = inputs.diagnostics;
    let mut program = None;
    if !inputs.parseable.is_empty() {
        let (checked, found) = crate::check_files(&inputs.map, &inputs.parseable);
        diagnostics.extend(found);
        program = checked;
    }
    let has_errors = diagnostics.iter().any(|diagnostic| diagnostic.is_error());
    let outputs = match (&program, has_errors) {
        (Some(program), false) => Some(emit::emit(program, &inputs.map)),
        _ => None,
    };
    if let Some(outputs) = &outputs {
        diagnostics.extend(outputs.diagnostics.iter().cloned());
    }
    diagnostics.sort_by_key(|diagnostic| diagnostic.primary.span.start);
    write_stderr(&render::render_human(
        &inputs.map,
        &diagnostics,
        use_color(),
    ));
    if let Some(summary) = render::summary(&diagnostics) {
        write_stderr(&format!("{summary}\n"));
    }
    let Some(outputs) = outputs else {
        write_stderr("error: nothing was written because the input has errors\n");
        return EXIT_INVALID_INPUT;
    };
    let n_warnings = diagnostics.len();
    let warnings_denied = args.deny_warnings && n_warnings > 0;
    let read = reading_existing
        .join()
        .unwrap_or_else(|payload| std::panic::resume_unwind(payload));
    let existing = match read {
        Ok(existing) => existing,
        Err(message) => {
            write_stderr(&format!("error: {message}\n"));
            return EXIT_USAGE_OR_IO;
        }
    };
    if args.check {
        let diff = match folder_diff(&args.output, &outputs.files, &existing) {
            Ok(diff) => diff,
            Err(message) => {
                write_stderr(&format!("error: {message}\n"));
                return EXIT_USAGE_OR_IO;
            }
        };
        if diff.is_empty() {
            write_stderr(&format!("{} is fresh\n", args.output.display()));
            return if warnings_denied {
                EXIT_INVALID_INPUT
            } else {
                EXIT_CLEAN
            };
        }
        write_stdout(&diff);
        write_stderr(&format!(
            "error: {} is stale; run `mlslo build` and commit the result\n",
            args.output.display()
        ));
        return EXIT_INVALID_INPUT;
    }
    match write_atomically(&args.output, &outputs.files, &existing) {
        Ok(()) => {
            write_stderr(&format!(
                "wrote {} files to {}\n",
                outputs.files.len(),
                args.output.display()
            ));
            if warnings_denied {
                EXIT_INVALID_INPUT
            } else {
                EXIT_CLEAN
            }
        }
        Err(message) => {
            write_stderr(&format!("error: {message}\n"));
            EXIT_USAGE_OR_IO
        }
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

/// Whether the file at `path` holds exactly `wanted`, read into `buffer` (reused
/// from file to file). A size that differs answers without reading.
fn holds_exactly(path: &Path, old: &Existing, wanted: &str, buffer: &mut Vec<u8>) -> bool {
    use std::io::Read;
    if old.size != wanted.len() as u64 {
        return false;
    }
    buffer.clear();
    let read = fs::File::open(path).and_then(|mut file| file.read_to_end(buffer));
    read.is_ok() && buffer.as_slice() == wanted.as_bytes()
}

/// A unified diff from the folder as it is to the folder as a build would leave it.
fn folder_diff(
    output: &Path,
    wanted: &BTreeMap<String, String>,
    existing: &BTreeMap<String, Existing>,
) -> Result<String, String> {
    let shown = |relative: &str| {
        output
            .join(relative)
            .to_string_lossy()
            .replace('\\', "/")
            .trim_start_matches('/')
            .to_owned()
    };
    let old_text = |relative: &str| {
        let path = output.join(relative);
        read_text(&path).map_err(|error| format!("cannot read `{}`: {error}", path.display()))
    };
    let mut buffer = Vec::new();
    let mut diff = String::new();
    for (relative, content) in wanted {
        match existing.get(relative) {
            Some(old) if holds_exactly(&output.join(relative), old, content, &mut buffer) => {}
            Some(_) => diff.push_str(&unified_diff(
                &format!("a/{}", shown(relative)),
                &format!("b/{}", shown(relative)),
                &old_text(relative)?,
                content,
            )),
            None => diff.push_str(&unified_diff(
                "/dev/null",
                &format!("b/{}", shown(relative)),
                "",
                content,
            )),
        }
    }
    for (relative, old) in existing {
        if old.generated && !wanted.contains_key(relative) {
            diff.push_str(&unified_diff(
                &format!("a/{}", shown(relative)),
                "/dev/null",
                &old_text(relative)?,
                "",
            ));
        }
    }
    Ok(diff)
}

/// Writes `wanted` into a staging folder beside `output`, then swaps each owned
/// folder into place. Foreign files of owned folders are carried over.
fn write_atomically(
    output: &Path,
    wanted: &BTreeMap<String, String>,
    existing: &BTreeMap<String, Existing>,
) -> Result<(), String> {
    for (relative, old) in existing {
        if !old.generated && wanted.contains_key(relative) {
            return Err(format!(
                "refusing to overwrite `{}`: it was not generated by mlslo",
                output.join(relative).display()
            ));
        }
    }
    fs::create_dir_all(output)
        .map_err(|error| format!("cannot create `{}`: {error}", output.display()))?;
    let folder_name = output.file_name().map_or_else(
        || "generated".to_owned(),
        |name| name.to_string_lossy().into_owned(),
    );
    let staging = output
        .parent()
        .unwrap_or_else(|| Path::new("."))
        .join(format!(
            ".{folder_name}.mlslo-staging-{}",
            std::process::id()
        ));
    let result = stage_and_swap(output, &staging, wanted, existing);
    // The staging folder holds only our copies and the replaced folders; the
    // replaced folders (thousands of files at 10k objectives) go on all cores.
    let replaced = staging.join(".replaced");
    std::thread::scope(|scope| {
        for folder in naming::OWNED_FOLDERS {
            let path = replaced.join(folder);
            scope.spawn(move || fs::remove_dir_all(path));
        }
    });
    let _ = fs::remove_dir_all(&staging);
    result
}

fn stage_and_swap(
    output: &Path,
    staging: &Path,
    wanted: &BTreeMap<String, String>,
    existing: &BTreeMap<String, Existing>,
) -> Result<(), String> {
    let _ = fs::remove_dir_all(staging);
    fs::create_dir_all(staging)
        .map_err(|error| format!("cannot create `{}`: {error}", staging.display()))?;
    let folders: BTreeSet<&Path> = wanted
        .keys()
        .filter_map(|relative| Path::new(relative).parent())
        .collect();
    for folder in folders {
        let path = staging.join(folder);
        fs::create_dir_all(&path)
            .map_err(|error| format!("cannot create `{}`: {error}", path.display()))?;
    }
    let files: Vec<(&String, &String)> = wanted.iter().collect();
    // Thousands of files at 10k objectives: creating and filling them is kernel work
    // that runs on all cores; the first error in file order is the one reported.
    const FILES_PER_THREAD_AT_LEAST: usize = 64;
    let results = crate::parallel::in_parallel_balanced(
        &files,
        FILES_PER_THREAD_AT_LEAST,
        |chunk: &[(&String, &String)]| {
            let mut buffer = Vec::new();
            chunk
                .iter()
                .map(|(relative, content)| {
                    let old = existing.get(*relative);
                    stage_file(output, staging, relative, content, old, &mut buffer)
                })
                .collect()
        },
    );
    results.into_iter().collect::<Result<(), String>>()?;
    for (relative, old) in existing {
        if !old.generated {
            // Carried over byte for byte (read as text; non-UTF-8 files are copied).
            let from = output.join(relative);
            let to = staging.join(relative);
            if let Some(parent) = to.parent() {
                fs::create_dir_all(parent)
                    .map_err(|error| format!("cannot create `{}`: {error}", parent.display()))?;
            }
            fs::copy(&from, &to)
                .map_err(|error| format!("cannot copy `{}`: {error}", from.display()))?;
        }
    }
    let old_folders = staging.join(".replaced");
    fs::create_dir_all(&old_folders)
        .map_err(|error| format!("cannot create `{}`: {error}", old_folders.display()))?;
    for folder in naming::OWNED_FOLDERS {
        let target = output.join(folder);
        let fresh = staging.join(folder);
        let backup = old_folders.join(folder);
        let had_target = target.exists();
        if had_target {
            fs::rename(&target, &backup)
                .map_err(|error| format!("cannot move `{}` aside: {error}", target.display()))?;
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

/// Puts one wanted file into the staging folder. A file whose generated copy is
/// already in the output with the same content is hard-linked rather than written:
/// a rebuild that changes little then creates almost no new files, and creating
/// files, not reading them, is the costly part of writing thousands of them.
fn stage_file(
    output: &Path,
    staging: &Path,
    relative: &str,
    content: &str,
    existing: Option<&Existing>,
    buffer: &mut Vec<u8>,
) -> Result<(), String> {
    let path = staging.join(relative);
    let old_path = output.join(relative);
    let unchanged =
        existing.is_some_and(|old| old.generated && holds_exactly(&old_path, old, content, buffer));
    if unchanged && fs::hard_link(&old_path, &path).is_ok() {
        return Ok(());
    }
    fs::write(&path, content).map_err(|error| format!("cannot write `{}`: {error}", path.display()))
}

/// Colour only for a terminal, and never when the user asked for none.
fn use_color() -> bool {
    std::io::stderr().is_terminal()
        && std::env::var_os("NO_COLOR").is_none_or(|value| value.is_empty())
        && std::env::var_os("TERM").is_none_or(|term| term != "dumb")
}

/// A unified diff of two texts with three lines of context (one hunk per changed
/// region; the middle of a large change is shown as removed then added).
pub(crate) fn unified_diff(old_name: &str, new_name: &str, old: &str, new: &str) -> String {
    let old_lines: Vec<&str> = if old.is_empty() {
        Vec::new()
    } else {
        old.lines().collect()
    };
    let new_lines: Vec<&str> = if new.is_empty() {
        Vec::new()
    } else {
        new.lines().collect()
    };
    let edits = line_edits(&old_lines, &new_lines);
    let mut out = format!("--- {old_name}\n+++ {new_name}\n");
    // Group edits into hunks with 3 lines of context.
    const CONTEXT: usize = 3;
    let mut index = 0;
    while index < edits.len() {
        if matches!(edits[index], Edit::Same(..)) {
            index += 1;
            continue;
        }
        let start = index.saturating_sub(CONTEXT);
        let mut last_change = index;
        let mut cursor = index;
        while cursor < edits.len() {
            if !matches!(edits[cursor], Edit::Same(..)) {
                last_change = cursor;
            } else if cursor - last_change > 2 * CONTEXT {
                break;
            }
            cursor += 1;
        }
        let end = (last_change + 1 + CONTEXT).min(edits.len());
        let hunk = &edits[start..end];
        let (old_start, new_start) = hunk.first().map_or((0, 0), |edit| edit.positions());
        let old_count = hunk
            .iter()
            .filter(|edit| !matches!(edit, Edit::Added(..)))
            .count();
        let new_count = hunk
            .iter()
            .filter(|edit| !matches!(edit, Edit::Removed(..)))
            .count();
        let range = |start: usize, count: usize| {
            if count == 0 {
                format!("{start},0")
            } else {
                format!("{},{count}", start + 1)
            }
        };
        out.push_str(&format!(
            "@@ -{} +{} @@\n",
            range(old_start, old_count),
            range(new_start, new_count)
        ));
        for edit in hunk {
            match edit {
                Edit::Same(_, _, line) => out.push_str(&format!(" {line}\n")),
                Edit::Removed(_, _, line) => out.push_str(&format!("-{line}\n")),
                Edit::Added(_, _, line) => out.push_str(&format!("+{line}\n")),
            }
        }
        index = end;
    }
    out
}

/// One line of a diff with its 0-based (old, new) positions.
enum Edit<'a> {
    Same(usize, usize, &'a str),
    Removed(usize, usize, &'a str),
    Added(usize, usize, &'a str),
}

impl Edit<'_> {
    fn positions(&self) -> (usize, usize) {
        match self {
            Edit::Same(old, new, _) | Edit::Removed(old, new, _) | Edit::Added(old, new, _) => {
                (*old, *new)
            }
        }
    }
}

/// Common prefix and suffix, then a longest-common-subsequence table for the
/// middle when it is small (at most 4 million cells), else removed-then-added.
fn line_edits<'a>(old: &[&'a str], new: &[&'a str]) -> Vec<Edit<'a>> {
    let prefix = old.iter().zip(new).take_while(|(a, b)| a == b).count();
    let suffix = old[prefix..]
        .iter()
        .rev()
        .zip(new[prefix..].iter().rev())
        .take_while(|(a, b)| a == b)
        .count();
    let old_middle = &old[prefix..old.len() - suffix];
    let new_middle = &new[prefix..new.len() - suffix];
    let mut edits = Vec::new();
    for (index, line) in old.iter().enumerate().take(prefix) {
        edits.push(Edit::Same(index, index, line));
    }
    let (n, m) = (old_middle.len(), new_middle.len());
    if n.saturating_mul(m) <= 4_000_000 {
        // lcs[i][j]: LCS length of old_middle[i..] and new_middle[j..].
        let mut lcs = vec![vec![0u32; m + 1]; n + 1];
        for i in (0..n).rev() {
            for j in (0..m).rev() {
                lcs[i][j] = if old_middle[i] == new_middle[j] {
                    lcs[i + 1][j + 1] + 1
                } else {
                    lcs[i + 1][j].max(lcs[i][j + 1])
                };
            }
        }
        let (mut i, mut j) = (0, 0);
        while i < n || j < m {
            if i < n && j < m && old_middle[i] == new_middle[j] {
                edits.push(Edit::Same(prefix + i, prefix + j, old_middle[i]));
                i += 1;
                j += 1;
            } else if i < n && (j == m || lcs[i + 1][j] >= lcs[i][j + 1]) {
                edits.push(Edit::Removed(prefix + i, prefix + j, old_middle[i]));
                i += 1;
            } else {
                edits.push(Edit::Added(prefix + i, prefix + j, new_middle[j]));
                j += 1;
            }
        }
    } else {
        for (i, line) in old_middle.iter().enumerate() {
            edits.push(Edit::Removed(prefix + i, prefix, line));
        }
        for (j, line) in new_middle.iter().enumerate() {
            edits.push(Edit::Added(prefix + n, prefix + j, line));
        }
    }
    for index in 0..suffix {
        let old_index = old.len() - suffix + index;
        let new_index = new.len() - suffix + index;
        edits.push(Edit::Same(old_index, new_index, old[old_index]));
    }
    edits
}

#[cfg(test)]
mod tests {
    use super::unified_diff;

    #[test]
    fn a_changed_line_gives_one_hunk_with_context() {
        let old = "a\nb\nc\nd\ne\nf\ng\n";
        let new = "a\nb\nc\nD\ne\nf\ng\n";
        assert_eq!(
            unified_diff("a/x", "b/x", old, new),
            "--- a/x\n+++ b/x\n@@ -1,7 +1,7 @@\n a\n b\n c\n-d\n+D\n e\n f\n g\n"
        );
    }

    #[test]
    fn a_new_file_is_all_added() {
        assert_eq!(
            unified_diff("/dev/null", "b/x", "", "a\nb\n"),
            "--- /dev/null\n+++ b/x\n@@ -0,0 +1,2 @@\n+a\n+b\n"
        );
    }
}
