//! A lock one mlslo process holds on a path (today: `build` on its output folder), with
//! its owner written inside so that whoever finds it taken can say who holds it.
//!
//! Invariants: the lock is an exclusive `flock(2)` on a lock file, so the kernel releases
//! it when its holder exits in any way, SIGKILL included, and a lock left by a dead
//! process is taken over without guessing from process ids. The file holds the owner's
//! pid and start time; the holder removes the file before it lets go of the lock, and a
//! process that locked a file no longer at the path (removed in between) starts again,
//! so two processes never both believe they hold the lock. A lock file found with an
//! owner in it when the lock is acquired was left by a holder that died: its owner is
//! reported as taken over.

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

/// A held lock; dropping it removes the lock file and releases the lock.
#[derive(Debug)]
pub(super) struct ProcessLock {
    path: PathBuf,
    /// Kept open: closing the file releases the lock.
    _locked_file: File,
    /// The owner of a lock left by a process that died, which this one took over.
    pub taken_over_from: Option<LockOwner>,
}

/// Who holds (or held) a lock, as written in its file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct LockOwner {
    pub pid: u32,
    /// Seconds since the Unix epoch.
    pub started_at: u64,
}

impl ProcessLock {
    /// Takes the lock at `path`, waiting while another process holds it;
    /// `on_wait` is called once, with the holder (when its file says), before waiting.
    pub fn acquire(path: &Path, on_wait: impl FnOnce(Option<LockOwner>)) -> Result<Self, String> {
        let mut on_wait = Some(on_wait);
        loop {
            let file = OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(path)
                .map_err(|error| format!("cannot open the lock `{}`: {error}", path.display()))?;
            let locked = platform::try_lock_exclusive(&file)
                .map_err(|error| format!("cannot lock `{}`: {error}", path.display()))?;
            if !locked {
                if let Some(on_wait) = on_wait.take() {
                    on_wait(read_owner(&file));
                }
                platform::lock_exclusive(&file)
                    .map_err(|error| format!("cannot lock `{}`: {error}", path.display()))?;
            }
            // The holder before us removed the file before releasing it: the lock we
            // hold is on a file nobody else will open again.
            if !platform::is_still_at(&file, path) {
                continue;
            }
            let taken_over_from = read_owner(&file);
            let owner = LockOwner {
                pid: std::process::id(),
                started_at: SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .map_or(0, |since| since.as_secs()),
            };
            write_owner(&file, &owner)
                .map_err(|error| format!("cannot write the lock `{}`: {error}", path.display()))?;
            return Ok(ProcessLock {
                path: path.to_path_buf(),
                _locked_file: file,
                taken_over_from,
            });
        }
    }
}

impl Drop for ProcessLock {
    fn drop(&mut self) {
        // Removed while still locked, so nobody locks a file that is about to vanish
        // without noticing (see `is_still_at`).
        let _ = fs::remove_file(&self.path);
    }
}

impl LockOwner {
    /// `pid 4242, started 2026-12-07 05:30:00 UTC`.
    pub fn describe(&self) -> String {
        let days = (self.started_at / 86_400) as i64;
        let seconds = self.started_at % 86_400;
        let (year, month, day) = crate::base::calendar::civil_from_days(days);
        format!(
            "pid {}, started {year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC",
            self.pid,
            seconds / 3600,
            seconds / 60 % 60,
            seconds % 60
        )
    }
}

/// The owner written in a lock file: `pid STARTED_AT`, one line.
fn read_owner(mut file: &File) -> Option<LockOwner> {
    use std::io::Seek;
    let mut text = String::new();
    file.seek(std::io::SeekFrom::Start(0)).ok()?;
    file.take(256).read_to_string(&mut text).ok()?;
    let mut fields = text.split_whitespace();
    let pid = fields.next()?.parse().ok()?;
    let started_at = fields.next()?.parse().ok()?;
    Some(LockOwner { pid, started_at })
}

fn write_owner(mut file: &File, owner: &LockOwner) -> std::io::Result<()> {
    use std::io::Seek;
    file.set_len(0)?;
    file.seek(std::io::SeekFrom::Start(0))?;
    file.write_all(format!("{} {}\n", owner.pid, owner.started_at).as_bytes())
}

#[cfg(unix)]
pub(super) mod platform {
    use rustix::fs::{flock, FlockOperation};
    use std::fs::File;
    use std::os::unix::fs::MetadataExt;
    use std::path::Path;

    pub fn try_lock_exclusive(file: &File) -> std::io::Result<bool> {
        match flock(file, FlockOperation::NonBlockingLockExclusive) {
            Ok(()) => Ok(true),
            Err(rustix::io::Errno::WOULDBLOCK) => Ok(false),
            Err(error) => Err(error.into()),
        }
    }

    pub fn lock_exclusive(file: &File) -> std::io::Result<()> {
        flock(file, FlockOperation::LockExclusive).map_err(Into::into)
    }

    pub fn is_still_at(file: &File, path: &Path) -> bool {
        match (file.metadata(), std::fs::metadata(path)) {
            (Ok(open), Ok(named)) => open.dev() == named.dev() && open.ino() == named.ino(),
            _ => false,
        }
    }
}

#[cfg(not(unix))]
pub(super) mod platform {
    use std::fs::File;
    use std::path::Path;

    pub fn try_lock_exclusive(file: &File) -> std::io::Result<bool> {
        match file.try_lock() {
            Ok(()) => Ok(true),
            Err(std::fs::TryLockError::WouldBlock) => Ok(false),
            Err(std::fs::TryLockError::Error(error)) => Err(error),
        }
    }

    pub fn lock_exclusive(file: &File) -> std::io::Result<()> {
        file.lock()
    }

    /// An open file cannot be removed here, so the file locked is the one at the path.
    pub fn is_still_at(_file: &File, path: &Path) -> bool {
        path.exists()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lock_path(name: &str) -> PathBuf {
        let folder =
            std::env::temp_dir().join(format!("mlslo-process-lock-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&folder);
        fs::create_dir_all(&folder).expect("a temporary folder can be created");
        folder.join("x.lock")
    }

    #[test]
    fn the_holder_is_written_and_the_file_removed_on_release() {
        let path = lock_path("release");
        let lock = ProcessLock::acquire(&path, |_| panic!("nobody else holds it")).expect("lock");
        assert_eq!(lock.taken_over_from, None);
        let written = fs::read_to_string(&path).expect("lock file");
        assert!(
            written.starts_with(&format!("{} ", std::process::id())),
            "{written}"
        );
        drop(lock);
        assert!(!path.exists());
        let _ = fs::remove_dir_all(path.parent().expect("folder"));
    }

    #[test]
    fn a_lock_file_left_by_a_dead_holder_is_taken_over_and_named() {
        let path = lock_path("stale");
        fs::write(&path, "999999 1796621400\n").expect("stale lock");
        let lock = ProcessLock::acquire(&path, |_| panic!("the file is not locked")).expect("lock");
        let owner = lock.taken_over_from.clone().expect("the dead holder");
        assert_eq!(
            owner.describe(),
            "pid 999999, started 2026-12-07 05:30:00 UTC"
        );
        drop(lock);
        let _ = fs::remove_dir_all(path.parent().expect("folder"));
    }

    #[test]
    fn a_second_holder_waits_for_the_first() {
        let path = lock_path("wait");
        let first = ProcessLock::acquire(&path, |_| panic!("free")).expect("lock");
        let (told, waited) = std::sync::mpsc::channel();
        let second_path = path.clone();
        let second = std::thread::spawn(move || {
            ProcessLock::acquire(&second_path, move |owner| {
                told.send(owner).expect("the test listens");
            })
            .map(|lock| lock.taken_over_from.clone())
        });
        let owner = waited.recv().expect("the second waits");
        assert_eq!(owner.map(|owner| owner.pid), Some(std::process::id()));
        drop(first);
        let taken_over = second.join().expect("no panic").expect("locked");
        assert_eq!(taken_over, None, "a released lock is not a stale one");
        let _ = fs::remove_dir_all(path.parent().expect("folder"));
    }
}
