//! Replacing one file, or one whole folder, so that no reader (a person, a Prometheus
//! reloading its rule files, `git`) ever sees half of it: the new file or folder is made
//! beside the old one, then put in its place by one rename.
//!
//! Invariants: the temporary file name starts with `.` and ends with `.tmp`, so neither a
//! `*.yml` rule_files glob nor a folder listing of reports picks it up; it is removed when
//! the rename fails. A folder is replaced by exchanging the two names in one
//! `renameat2(RENAME_EXCHANGE)` (Linux; `RENAME_SWAP` on macOS), so the path names the
//! whole old folder or the whole new one at every instant; where the file system cannot
//! exchange, the old folder is renamed aside and the new one renamed in, which leaves an
//! instant with no folder at the path but never a mix.

use std::fs;
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

/// Where the folder that was replaced by [`replace_folder`] is now.
#[derive(Debug, PartialEq, Eq)]
pub enum Replaced {
    /// There was no folder at the target.
    Nothing,
    /// The old folder is at the path the new one came from.
    AtNewFoldersPath,
    /// The file system cannot exchange: the old folder is at the `aside` path.
    Aside,
}

/// Puts the folder `fresh` at `target` in one step. `aside` (beside `target`, free) is
/// used only where the file system cannot exchange two names.
pub fn replace_folder(fresh: &Path, target: &Path, aside: &Path) -> Result<Replaced, String> {
    let cannot = |error: std::io::Error| {
        format!(
            "cannot move `{}` into place of `{}`: {error}",
            fresh.display(),
            target.display()
        )
    };
    if fs::symlink_metadata(target).is_err() {
        // A rename onto a path that is free is atomic everywhere.
        fs::rename(fresh, target).map_err(cannot)?;
        return Ok(Replaced::Nothing);
    }
    if exchange(fresh, target).map_err(cannot)? {
        return Ok(Replaced::AtNewFoldersPath);
    }
    replace_folder_by_two_renames(fresh, target, aside)?;
    Ok(Replaced::Aside)
}

/// The way without exchange: `target` renamed to `aside`, then `fresh` to `target`
/// (and `aside` back when that fails).
fn replace_folder_by_two_renames(fresh: &Path, target: &Path, aside: &Path) -> Result<(), String> {
    fs::rename(target, aside)
        .map_err(|error| format!("cannot move `{}` aside: {error}", target.display()))?;
    if let Err(error) = fs::rename(fresh, target) {
        let _ = fs::rename(aside, target);
        return Err(format!(
            "cannot move `{}` into place of `{}`: {error}",
            fresh.display(),
            target.display()
        ));
    }
    Ok(())
}

/// Exchanges the names of two folders; `Ok(false)` where the kernel or the file system
/// cannot (NFS, many FUSE file systems, old kernels).
#[cfg(any(target_os = "linux", target_os = "android", target_vendor = "apple"))]
fn exchange(first: &Path, second: &Path) -> std::io::Result<bool> {
    use rustix::fs::{renameat_with, RenameFlags, CWD};
    use rustix::io::Errno;
    match renameat_with(CWD, first, CWD, second, RenameFlags::EXCHANGE) {
        Ok(()) => Ok(true),
        // EOPNOTSUPP and ENOTSUP are one number on Linux and two on macOS.
        Err(error)
            if [Errno::INVAL, Errno::NOSYS, Errno::OPNOTSUPP, Errno::NOTSUP].contains(&error) =>
        {
            Ok(false)
        }
        Err(error) => Err(error.into()),
    }
}

#[cfg(not(any(target_os = "linux", target_os = "android", target_vendor = "apple")))]
fn exchange(_first: &Path, _second: &Path) -> std::io::Result<bool> {
    Ok(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn folder_with(parent: &Path, name: &str, file: &str) -> std::path::PathBuf {
        let folder = parent.join(name);
        fs::create_dir_all(&folder).expect("a folder can be created");
        fs::write(folder.join(file), name).expect("a file can be written");
        folder
    }

    fn temporary_folder(name: &str) -> std::path::PathBuf {
        let folder =
            std::env::temp_dir().join(format!("mlslo-atomic-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&folder);
        fs::create_dir_all(&folder).expect("a temporary folder can be created");
        folder
    }

    #[test]
    fn a_folder_is_replaced_whole_and_the_old_one_kept_for_removal() {
        let parent = temporary_folder("exchange");
        let target = folder_with(&parent, "generated", "old.yml");
        let fresh = folder_with(&parent, "staging", "new.yml");
        let replaced = replace_folder(&fresh, &target, &parent.join("aside")).expect("replaced");
        assert!(target.join("new.yml").exists() && !target.join("old.yml").exists());
        let old = match replaced {
            Replaced::AtNewFoldersPath => fresh,
            Replaced::Aside => parent.join("aside"),
            Replaced::Nothing => panic!("there was an old folder"),
        };
        assert!(old.join("old.yml").exists());
        let _ = fs::remove_dir_all(&parent);
    }

    #[test]
    fn without_exchange_the_old_folder_goes_aside_and_comes_back_on_failure() {
        let parent = temporary_folder("renames");
        let target = folder_with(&parent, "generated", "old.yml");
        let fresh = folder_with(&parent, "staging", "new.yml");
        let aside = parent.join("aside");
        replace_folder_by_two_renames(&fresh, &target, &aside).expect("replaced");
        assert!(target.join("new.yml").exists() && aside.join("old.yml").exists());
        let missing = parent.join("missing");
        let error = replace_folder_by_two_renames(&missing, &target, &parent.join("aside2"))
            .expect_err("nothing to move in");
        assert!(error.contains("cannot move"), "{error}");
        assert!(target.join("new.yml").exists(), "the folder is put back");
        let _ = fs::remove_dir_all(&parent);
    }
}
