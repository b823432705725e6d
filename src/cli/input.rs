//! Finding and reading the `.slo` files of a run: folder walking, size limits, UTF-8.
//!
//! Invariants: every file is read once, into the one [`SourceMap`] of the run; the
//! order of files is deterministic (arguments in order, each folder's files sorted by
//! path, duplicates dropped); a file that is empty or cannot be treated as text becomes an `E000x`
//! diagnostic (exit 1), while a path that cannot be read at all is an I/O problem
//! (exit 2). Nothing here panics on any file content.

use crate::base::diagnostic::{Diagnostic, SourceMap, Span};
use std::collections::BTreeSet;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

crate::base::diagnostic::declare_codes! {
    /// Codes E00xx: problems with a file as a whole, before any parsing.
    pub const CODES;
    FILE_NOT_UTF8 = "E0001", "file is not valid UTF-8", "\
A .slo file must be UTF-8 text. The file contains a byte sequence that is not
UTF-8, so it is probably a binary file, a file saved in a legacy encoding such as
Latin-1 or Windows-1252, or a file saved as UTF-16 by an editor.

The diagnostic points at the first invalid byte. Nothing in the file is checked.

Example: a file holding the Latin-1 byte 0xE9 for `é`:

    service \"caf\\xE9\" { team = \"risk-ml\" }

Fix: convert the file to UTF-8, for example with
`iconv -f latin1 -t utf-8 old.slo > new.slo`, or remove the binary file from the
folder being checked.";
    FILE_TOO_LARGE = "E0002", "file too large", "\
mlslo refuses a .slo file larger than 256 MiB (268,435,456 bytes), and stops
reading once the files of one run add up to more than 1 GiB. Real rule files are
a few kilobytes to a few megabytes; a file this large is almost always a mistake,
such as a log file or a data dump with a .slo name, and reading it would only
exhaust memory.

Nothing in the file is checked.

Fix: split the objectives over several files (each file may hold any number of
services), or point `mlslo check` at the right folder.";
    EMPTY_FILE = "E0003", "empty file", "\
The file has no content at all: it is zero bytes long, or holds only whitespace
(and perhaps a UTF-8 byte order mark). An empty .slo file is usually the result
of a failed save, a truncated checkout or a generator that wrote nothing, so
mlslo reports it instead of silently checking nothing.

A file that holds only comments is accepted: it was written on purpose.

Fix: add a `service \"name\" { ... }` or `routing { ... }` block, or delete the
file.";
}

/// The largest single file mlslo reads, in bytes (256 MiB).
pub const MAX_FILE_BYTES: u64 = 256 * 1024 * 1024;
/// The largest total of all files of one run, in bytes (1 GiB). Spans are 32-bit
/// offsets into one space holding every file, so the total must stay far below 4 GiB.
pub const MAX_TOTAL_BYTES: u64 = 1024 * 1024 * 1024;

/// The files of one run, read.
#[derive(Debug, Default)]
pub(super) struct Inputs {
    pub map: SourceMap,
    /// The files of `map` that are text and should be parsed, in order.
    pub parseable: Vec<usize>,
    /// `E000x` diagnostics for files that are not parsed.
    pub diagnostics: Vec<Diagnostic>,
    /// Paths that could not be read at all, as messages.
    pub io_errors: Vec<String>,
}

/// Reads every file named by `paths`, searching folders recursively for `*.slo`.
pub(super) fn load(paths: &[PathBuf]) -> Inputs {
    let mut inputs = Inputs::default();
    let mut seen = BTreeSet::new();
    let mut total_bytes: u64 = 0;
    for path in paths {
        for file in expand(path, &mut inputs.io_errors) {
            let identity = fs::canonicalize(&file).unwrap_or_else(|_| file.clone());
            if seen.insert(identity) {
                read_one(&file, &mut inputs, &mut total_bytes);
            }
        }
    }
    inputs
}

/// The files a command-line path stands for: itself, or the `*.slo` files under it.
fn expand(path: &Path, io_errors: &mut Vec<String>) -> Vec<PathBuf> {
    let metadata = match fs::metadata(path) {
        Ok(metadata) => metadata,
        Err(error) => {
            io_errors.push(format!("cannot read `{}`: {error}", path.display()));
            return Vec::new();
        }
    };
    if !metadata.is_dir() {
        return vec![path.to_path_buf()];
    }
    let mut files = Vec::new();
    walk(path, &mut files, io_errors);
    files.sort();
    if files.is_empty() {
        io_errors.push(format!("no .slo files found in `{}`", path.display()));
    }
    files
}

/// Collects the `*.slo` files under `folder`. Symbolic links to folders are not
/// followed, so a link cycle cannot make the walk endless.
fn walk(folder: &Path, files: &mut Vec<PathBuf>, io_errors: &mut Vec<String>) {
    let entries = match fs::read_dir(folder) {
        Ok(entries) => entries,
        Err(error) => {
            io_errors.push(format!("cannot read `{}`: {error}", folder.display()));
            return;
        }
    };
    for entry in entries {
        let entry = match entry {
            Ok(entry) => entry,
            Err(error) => {
                io_errors.push(format!("cannot read `{}`: {error}", folder.display()));
                continue;
            }
        };
        let path = entry.path();
        let Ok(file_type) = entry.file_type() else {
            io_errors.push(format!("cannot read `{}`", path.display()));
            continue;
        };
        if file_type.is_dir() {
            walk(&path, files, io_errors);
        } else if path.extension().is_some_and(|extension| extension == "slo") {
            files.push(path);
        }
    }
}

fn read_one(path: &Path, inputs: &mut Inputs, total_bytes: &mut u64) {
    let name = path.display().to_string();
    let bytes = match read_limited(path) {
        Ok(Ok(bytes)) => bytes,
        Ok(Err(size)) => {
            inputs.push_too_large(name, size, false);
            return;
        }
        Err(error) => {
            inputs
                .io_errors
                .push(format!("cannot read `{name}`: {error}"));
            return;
        }
    };
    let size = bytes.len() as u64;
    if total_bytes.saturating_add(size) > MAX_TOTAL_BYTES {
        inputs.push_too_large(name, size, true);
        return;
    }
    *total_bytes += size;
    match String::from_utf8(bytes) {
        Ok(text) => {
            let is_empty = text.trim_start_matches('\u{feff}').trim().is_empty();
            let index = inputs.map.add(name, text);
            if is_empty {
                let base = inputs.map.files()[index].base as usize;
                inputs.diagnostics.push(
                    EMPTY_FILE.at(Span::new(base, base), "this file has no content")
                        .with_help("add a `service \"name\" { ... }` or `routing { ... }` block, or delete the file"),
                );
            } else {
                inputs.parseable.push(index);
            }
        }
        Err(error) => {
            let valid_up_to = error.utf8_error().valid_up_to();
            let bytes = error.into_bytes();
            inputs.push_not_utf8(name, &bytes, valid_up_to);
        }
    }
}

/// The whole file, or `Err(size)` when it is larger than [`MAX_FILE_BYTES`]. Reading
/// stops just past the limit, so a huge or endless file (a device, a FIFO) is not
/// pulled into memory.
fn read_limited(path: &Path) -> std::io::Result<Result<Vec<u8>, u64>> {
    let file = fs::File::open(path)?;
    let declared_size = file.metadata()?.len();
    if declared_size > MAX_FILE_BYTES {
        return Ok(Err(declared_size));
    }
    let mut bytes = Vec::with_capacity(declared_size as usize);
    file.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Ok(Err(bytes.len() as u64));
    }
    Ok(Ok(bytes))
}

impl Inputs {
    fn push_too_large(&mut self, name: String, size: u64, over_total: bool) {
        let index = self.map.add(name, String::new());
        let base = self.map.files()[index].base as usize;
        let mut diagnostic = FILE_TOO_LARGE.at(
            Span::new(base, base),
            format!("this file has {}", describe_size(size)),
        );
        diagnostic = if over_total {
            diagnostic.with_note(format!(
                "the files of one run may add up to at most {}; this file would go past it",
                describe_size(MAX_TOTAL_BYTES)
            ))
        } else {
            diagnostic.with_note(format!(
                "a .slo file may have at most {}",
                describe_size(MAX_FILE_BYTES)
            ))
        };
        self.diagnostics.push(
            diagnostic.with_help("split the objectives over several files, or check the path"),
        );
    }

    /// Keeps the valid text before the first bad byte, so the diagnostic can show the
    /// line it is on; control characters in that text are replaced so that a binary
    /// file cannot send escape sequences to the terminal.
    fn push_not_utf8(&mut self, name: String, bytes: &[u8], valid_up_to: usize) {
        let valid = std::str::from_utf8(&bytes[..valid_up_to]).unwrap_or_default();
        let shown: String = valid
            .chars()
            .map(|c| {
                if c.is_control() && !matches!(c, '\n' | '\t' | '\r') {
                    char::REPLACEMENT_CHARACTER
                } else {
                    c
                }
            })
            .collect();
        let offset = shown.len();
        let index = self.map.add(name, shown);
        let base = self.map.files()[index].base as usize;
        let bad_byte = bytes.get(valid_up_to).copied().unwrap_or_default();
        let mut diagnostic = FILE_NOT_UTF8.at(
            Span::new(base + offset, base + offset),
            format!("byte 0x{bad_byte:02X} here is not UTF-8"),
        );
        if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
            diagnostic = diagnostic.with_note("the file starts with a UTF-16 byte order mark");
        } else if bytes.iter().take(8192).any(|&byte| byte == 0) {
            diagnostic =
                diagnostic.with_note("the file contains NUL bytes: it looks like a binary file");
        }
        self.diagnostics.push(
            diagnostic.with_help("save the file as UTF-8 (for example with `iconv -t utf-8`)"),
        );
    }
}

fn describe_size(bytes: u64) -> String {
    const MIB: u64 = 1024 * 1024;
    if bytes >= MIB {
        format!("{} bytes ({} MiB)", bytes, bytes / MIB)
    } else {
        format!("{bytes} bytes")
    }
}
