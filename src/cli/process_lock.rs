//! The one lock of mlslo's commands on a path: `build` on its output folder, `deploy` on
//! the rules folder or Alertmanager file it writes. The lock file names its owner (pid,
//! host, start time), so whoever finds it taken can say who holds it, and a lock left by
//! a process that died is taken over with a message naming it.
//!
//! Invariants: the lock is an exclusive `flock(2)` on the lock file, so the kernel
//! releases it when its holder exits in any way, SIGKILL included, and a lock left by a
//! dead process is taken over without guessing from process ids. A new lock file is
//! born whole: written with its owner and locked under a private name, then linked to
//! the path, which fails when a lock file is there; so a lock file without an owner
//! was not made by this version (an older mlslo, a hand), and a command may refuse it
//! rather than guess. The holder removes the file before it lets go of the lock, and a
//! process that locked a file no longer at the path (removed in between) starts again,
//! so two processes never both believe they hold the lock. Where the file system has
//! no hard links, the lock file is created in place and locked (an instant without an
//! owner written, so an ownerless file there is taken).
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
    /// The host name, when the file says (a build lock of an older mlslo does not).
    pub host: Option<String>,
    /// Seconds since the Unix epoch.
    pub started_at: u64,
}

/// Why a lock was not taken.
#[derive(Debug)]
pub(super) enum LockError {
    /// Another process holds it (its owner, when its file says).
    Held(Option<LockOwner>),
    /// A lock file nobody holds names no owner: not made by this version.
    Ownerless,
    /// The lock file could not be made, opened, locked or written.
    Io(String),
}

impl std::fmt::Display for LockError {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LockError::Held(owner) => write!(
                formatter,
                "the lock is held ({})",
                owner
                    .as_ref()
                    .map_or_else(|| "its owner is starting".to_string(), LockOwner::describe)
            ),
            LockError::Ownerless => formatter.write_str("the lock file names no owner"),
            LockError::Io(message) => formatter.write_str(message),
        }
    }
}

/// What to do when another process holds the lock.
enum WhenHeld<'a> {
    /// Wait for it, after telling the callback (once) who holds it.
    Wait(Box<dyn FnOnce(Option<LockOwner>) + 'a>),
    Refuse,
}

impl ProcessLock {
    /// Takes the lock at `path`, waiting while another process holds it; `on_wait` is
    /// called once, with the holder (when its file says), before waiting.
    pub fn acquire(
        path: &Path,
        on_wait: impl FnOnce(Option<LockOwner>),
    ) -> Result<Self, LockError> {
        ProcessLock::take(path, WhenHeld::Wait(Box::new(on_wait)))
    }

    /// Takes the lock at `path`, or refuses at once when another process holds it.
    pub fn acquire_or_refuse(path: &Path) -> Result<Self, LockError> {
        ProcessLock::take(path, WhenHeld::Refuse)
    }

    fn take(path: &Path, mut when_held: WhenHeld<'_>) -> Result<Self, LockError> {
        let io = |what: &str, error: std::io::Error| {
            LockError::Io(format!("cannot {what} `{}`: {error}", path.display()))
        };
        let owner = LockOwner::this_process();
        // Lock files that vanish while we look (released by their holder) send us
        // round again; a few thousand rounds means something keeps deleting it.
        for _ in 0..10_000 {
            let created_in_place = match create_whole(path, &owner) {
                Ok(Created::Linked(file)) => {
                    return Ok(ProcessLock {
                        path: path.to_path_buf(),
                        _locked_file: file,
                        taken_over_from: None,
                    });
                }
                Ok(Created::AlreadyThere) => false,
                Ok(Created::NoHardLinks) => true,
                Err(error) => return Err(io("create the lock", error)),
            };
            let file = match OpenOptions::new()
                .read(true)
                .write(true)
                .create(created_in_place)
                .truncate(false)
                .open(path)
            {
                Ok(file) => file,
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => continue,
                Err(error) => return Err(io("open the lock", error)),
            };
            if !platform::try_lock_exclusive(&file).map_err(|error| io("lock", error))? {
                match when_held {
                    WhenHeld::Refuse => return Err(LockError::Held(read_owner(&file))),
                    WhenHeld::Wait(on_wait) => {
                        on_wait(read_owner(&file));
                        when_held = WhenHeld::Wait(Box::new(|_| {}));
                        platform::lock_exclusive(&file).map_err(|error| io("lock", error))?;
                    }
                }
            }
            // The holder before us removed the file before releasing it: the lock we
            // hold is on a file nobody else will open again.
            if !platform::is_still_at(&file, path) {
                continue;
            }
            let taken_over_from = read_owner(&file);
            if taken_over_from.is_none() && !created_in_place {
                return Err(LockError::Ownerless);
            }
            write_owner(&file, &owner).map_err(|error| io("write the lock", error))?;
            return Ok(ProcessLock {
                path: path.to_path_buf(),
                _locked_file: file,
                taken_over_from,
            });
        }
        Err(LockError::Io(format!(
            "cannot take the lock `{}`: other processes keep taking and releasing it",
            path.display()
        )))
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
    fn this_process() -> LockOwner {
        let host = fs::read_to_string("/proc/sys/kernel/hostname")
            .ok()
            .or_else(|| std::env::var("HOSTNAME").ok())
            .map(|name| name.trim().to_string())
            .filter(|name| !name.is_empty() && !name.contains(char::is_whitespace));
        LockOwner {
            pid: std::process::id(),
            host,
            started_at: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |since| since.as_secs()),
        }
    }

    /// `pid 4242 on host ci-7, started 2026-12-07 05:30:00 UTC` (no host when the file
    /// names none).
    pub fn describe(&self) -> String {
        let days = (self.started_at / 86_400) as i64;
        let seconds = self.started_at % 86_400;
        let (year, month, day) = crate::base::calendar::civil_from_days(days);
        let host = self
            .host
            .as_ref()
            .map_or(String::new(), |host| format!(" on host {host}"));
        format!(
            "pid {}{host}, started {year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC",
            self.pid,
            seconds / 3600,
            seconds / 60 % 60,
            seconds % 60
        )
    }
}

enum Created {
    /// The new lock file is at the path, locked by us.
    Linked(File),
    AlreadyThere,
    /// The file system makes no hard links.
    NoHardLinks,
}

/// A lock file with `owner` in it, locked, linked to `path` only if none is there.
fn create_whole(path: &Path, owner: &LockOwner) -> std::io::Result<Created> {
    // Unique per attempt, also between threads of one process.
    static ATTEMPTS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let attempt = ATTEMPTS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let mut private_name = path.file_name().unwrap_or_default().to_os_string();
    private_name.push(format!(".{}-{attempt}", std::process::id()));
    let private = path.with_file_name(private_name);
    let file = File::create(&private)?;
    let linked = write_owner(&file, owner)
        .and_then(|()| platform::lock_exclusive(&file))
        .and_then(|()| fs::hard_link(&private, path));
    let _ = fs::remove_file(&private);
    match linked {
        Ok(()) => Ok(Created::Linked(file)),
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {
            Ok(Created::AlreadyThere)
        }
        Err(error) if hard_links_unsupported(&error) => Ok(Created::NoHardLinks),
        Err(error) => Err(error),
    }
}

fn hard_links_unsupported(error: &std::io::Error) -> bool {
    matches!(
        error.kind(),
        std::io::ErrorKind::Unsupported | std::io::ErrorKind::PermissionDenied
    )
}

/// The owner written in a lock file: `pid:`, `host:` and `started:` lines, or the
/// one line `PID STARTED_AT` of an older mlslo's build lock.
fn read_owner(mut file: &File) -> Option<LockOwner> {
    use std::io::Seek;
    let mut text = String::new();
    file.seek(std::io::SeekFrom::Start(0)).ok()?;
    file.take(1024).read_to_string(&mut text).ok()?;
    let field = |name: &str| {
        text.lines().find_map(|line| {
            line.strip_prefix(name)
                .and_then(|rest| rest.strip_prefix(':'))
                .map(str::trim)
        })
    };
    if let Some(pid) = field("pid") {
        return Some(LockOwner {
            pid: pid.parse().ok()?,
            host: field("host").map(str::to_string),
            started_at: field("started")?.parse().ok()?,
        });
    }
    let mut fields = text.split_whitespace();
    let pid = fields.next()?.parse().ok()?;
    let started_at = fields.next()?.parse().ok()?;
    Some(LockOwner {
        pid,
        host: None,
        started_at,
    })
}

fn write_owner(mut file: &File, owner: &LockOwner) -> std::io::Result<()> {
    use std::io::Seek;
    let mut text = format!("pid: {}\n", owner.pid);
    if let Some(host) = &owner.host {
        text.push_str(&format!("host: {host}\n"));
    }
    text.push_str(&format!("started: {}\n", owner.started_at));
    file.set_len(0)?;
    file.seek(std::io::SeekFrom::Start(0))?;
    file.write_all(text.as_bytes())
}

#[cfg(unix)]
mod platform {
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
mod platform {
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
        let lock = ProcessLock::acquire(&path, |_| panic!("nobody else holds it"))
            .unwrap_or_else(|error| panic!("{error:?}"));
        assert_eq!(lock.taken_over_from, None);
        let written = fs::read_to_string(&path).expect("lock file");
        assert!(
            written.starts_with(&format!("pid: {}\n", std::process::id())),
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
        let lock = ProcessLock::acquire(&path, |_| panic!("the file is not locked"))
            .unwrap_or_else(|error| panic!("{error:?}"));
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
        let first =
            ProcessLock::acquire(&path, |_| panic!("free")).unwrap_or_else(|e| panic!("{e:?}"));
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
        let taken_over = second
            .join()
            .expect("no panic")
            .unwrap_or_else(|error| panic!("{error:?}"));
        assert_eq!(taken_over, None, "a released lock is not a stale one");
        let _ = fs::remove_dir_all(path.parent().expect("folder"));
    }

    #[test]
    fn a_held_lock_is_refused_naming_its_holder() {
        let path = lock_path("refuse");
        let first = ProcessLock::acquire_or_refuse(&path).unwrap_or_else(|e| panic!("{e:?}"));
        match ProcessLock::acquire_or_refuse(&path) {
            Err(LockError::Held(Some(owner))) => {
                assert_eq!(owner.pid, std::process::id());
                assert!(owner.describe().starts_with(&format!("pid {}", owner.pid)));
            }
            other => panic!("refused with the holder, got {other:?}"),
        }
        drop(first);
        let again = ProcessLock::acquire_or_refuse(&path).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(again.taken_over_from, None);
        drop(again);
        let _ = fs::remove_dir_all(path.parent().expect("folder"));
    }

    #[test]
    fn a_lock_file_naming_no_owner_is_refused_and_kept() {
        let path = lock_path("ownerless");
        fs::write(&path, "").expect("an empty lock");
        assert!(matches!(
            ProcessLock::acquire_or_refuse(&path),
            Err(LockError::Ownerless)
        ));
        assert!(matches!(
            ProcessLock::acquire(&path, |_| panic!("not held")),
            Err(LockError::Ownerless)
        ));
        assert!(path.exists());
        let _ = fs::remove_dir_all(path.parent().expect("folder"));
    }

    #[test]
    fn owners_are_written_with_their_host_and_read_back() {
        let path = lock_path("owner");
        fs::write(&path, "pid: 12\nhost: ci-7\nstarted: 1796621400\n").expect("stale lock");
        let lock = ProcessLock::acquire_or_refuse(&path).unwrap_or_else(|e| panic!("{e:?}"));
        let owner = lock.taken_over_from.clone().expect("the dead holder");
        assert_eq!(
            owner.describe(),
            "pid 12 on host ci-7, started 2026-12-07 05:30:00 UTC"
        );
        drop(lock);
        let _ = fs::remove_dir_all(path.parent().expect("folder"));
    }
}
