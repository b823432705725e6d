//! Finding and reading the `.slo` files of a run: folder walking, size limits, UTF-8;
//! and the one bounded reader every command reads its input files and stdin with.
//!
//! Invariants: every file is read once, into the one [`SourceMap`] of the run; the
//! order of files is deterministic (arguments in order, each folder's files sorted by
//! path, duplicates dropped); a file that is empty or cannot be treated as text becomes an `E000x`
//! diagnostic (exit 1), while a path that cannot be read at all is an I/O problem
//! (exit 2). Nothing here panics on any file content. No read takes more than
//! [`MAX_FILE_BYTES`] into memory, and FIFOs, devices and sockets are refused by name
//! before they are opened, so no input can hang a command or exhaust its memory.

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
    let bytes = match read_bytes(path) {
        Ok(bytes) => bytes,
        Err(ReadError::TooLarge(size)) => {
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

/// Why a file (or stdin) was not read in full. Its text is the reason alone; callers put
/// the path in front as their command words its errors.
#[derive(Debug)]
pub(super) enum ReadError {
    Io(std::io::Error),
    /// A FIFO, device or socket: it may never end (`/dev/zero`) or never start (a FIFO
    /// without a writer), so it is refused before it is opened.
    NotRegularFile(&'static str),
    /// More than [`MAX_FILE_BYTES`]; the size read so far, or the size the file declares.
    TooLarge(u64),
    NotUtf8,
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReadError::Io(error) => write!(formatter, "{error}"),
            ReadError::NotRegularFile(kind) => write!(
                formatter,
                "not a regular file but {kind}; mlslo reads only regular files (and `-` for stdin where a command takes it)"
            ),
            ReadError::TooLarge(size) => write!(
                formatter,
                "it has {}, more than the {} an input may have",
                describe_size(*size),
                describe_size(MAX_FILE_BYTES)
            ),
            ReadError::NotUtf8 => write!(formatter, "stream did not contain valid UTF-8"),
        }
    }
}

/// A whole input file as text, for every command: a regular file of at most
/// [`MAX_FILE_BYTES`], in UTF-8.
pub(super) fn read_text(path: &Path) -> Result<String, ReadError> {
    String::from_utf8(read_bytes(path)?).map_err(|_| ReadError::NotUtf8)
}

/// Standard input as text, with the limit of a file.
pub(super) fn read_stdin_text() -> Result<String, ReadError> {
    let bytes = read_stream(std::io::stdin().lock(), 0)?;
    String::from_utf8(bytes).map_err(|_| ReadError::NotUtf8)
}

/// A whole regular file of at most [`MAX_FILE_BYTES`]. The file type is asked before
/// opening, because opening a FIFO blocks until a writer comes; and reading stops just
/// past the limit, so a file that grows while it is read is not pulled into memory.
pub(super) fn read_bytes(path: &Path) -> Result<Vec<u8>, ReadError> {
    let metadata = fs::metadata(path).map_err(ReadError::Io)?;
    if let Some(kind) = special_file_kind(&metadata.file_type()) {
        return Err(ReadError::NotRegularFile(kind));
    }
    if metadata.is_file() && metadata.len() > MAX_FILE_BYTES {
        return Err(ReadError::TooLarge(metadata.len()));
    }
    let file = fs::File::open(path).map_err(ReadError::Io)?;
    read_stream(file, metadata.len())
}

/// A credential or certificate file, with the limit of an input but open to pipes: a
/// secret handed over as `--bearer-token-file <(pass show token)` never touches the disk,
/// and the user who names a pipe there is the one who writes to it.
pub(super) fn read_bytes_or_pipe(path: &Path) -> Result<Vec<u8>, ReadError> {
    let file = fs::File::open(path).map_err(ReadError::Io)?;
    let declared_size = file.metadata().map_err(ReadError::Io)?.len();
    if declared_size > MAX_FILE_BYTES {
        return Err(ReadError::TooLarge(declared_size));
    }
    read_stream(file, declared_size)
}

fn read_stream(reader: impl Read, declared_size: u64) -> Result<Vec<u8>, ReadError> {
    let mut bytes = Vec::with_capacity(declared_size.min(MAX_FILE_BYTES) as usize);
    reader
        .take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(ReadError::Io)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(ReadError::TooLarge(bytes.len() as u64));
    }
    Ok(bytes)
}

/// What a file that is neither a regular file nor a folder is, in words.
#[cfg(unix)]
fn special_file_kind(file_type: &fs::FileType) -> Option<&'static str> {
    use std::os::unix::fs::FileTypeExt;
    if file_type.is_fifo() {
        Some("a FIFO (named pipe)")
    } else if file_type.is_char_device() {
        Some("a character device")
    } else if file_type.is_block_device() {
        Some("a block device")
    } else if file_type.is_socket() {
        Some("a socket")
    } else {
        None
    }
}

#[cfg(not(unix))]
fn special_file_kind(file_type: &fs::FileType) -> Option<&'static str> {
    (!file_type.is_file() && !file_type.is_dir()).then_some("a special file")
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
