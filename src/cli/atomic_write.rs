//! Replacing one file so that no reader (a person, a Prometheus reloading its rule files)
//! ever sees half of it: write a temporary file in the same folder, then rename it over.
//!
//! Invariant: the temporary name starts with `.` and ends with `.tmp`, so neither a
//! `*.yml` rule_files glob nor a folder listing of reports picks it up; it is removed when
//! the rename fails.

use std::path::Path;

/// Writes `contents` to `path` atomically; errors name the file and the failed step.
pub fn write_file_atomically(path: &Path, contents: &str) -> Result<(), String> {
    let file_name = path
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .ok_or_else(|| format!("{} is not a file name", path.display()))?;
    // The process id keeps two writers of one folder (two backtests) off each other's file.
    let temporary = path.with_file_name(format!(".{file_name}.{}.tmp", std::process::id()));
    std::fs::write(&temporary, contents).map_err(|error| {
        let _ = std::fs::remove_file(&temporary);
        format!("cannot write {}: {error}", temporary.display())
    })?;
    std::fs::rename(&temporary, path).map_err(|error| {
        let _ = std::fs::remove_file(&temporary);
        format!("cannot replace {}: {error}", path.display())
    })
}
