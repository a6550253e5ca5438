//! Advisory file locks (flock) that say who owns what: a held instance lock
//! means some process of that instance is alive, a held pool lock means a
//! refill is running, a template lock is held exclusively while the
//! template is built or removed and shared while it is copied. The kernel
//! drops them when the last holder dies, so a crash can never leave a stale
//! claim behind.
//!
//! A lock file may be unlinked, but only by a holder of its exclusive lock
//! (`gc` removing what it guarded). Whoever waited on the old file then
//! holds a lock on nothing: every taker checks, once it holds the lock,
//! that the path still names the file it locked, and else starts over on
//! the file now there. So a missing lock file is a free one, and two
//! processes never both hold "the" lock.

use std::fs::{File, OpenOptions, TryLockError};
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use crate::error::{Error, Result};

fn open(path: &Path) -> Result<File> {
    OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .map_err(Error::io("open lock", path))
}

/// An existing lock file, opened read-only without following a link or
/// blocking on a FIFO; `None` when there is none, or it is no file.
fn open_existing(path: &Path) -> Result<Option<File>> {
    let file = match crate::paths::open_plain(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io("open lock", path)(e)),
    };
    Ok(file.metadata().is_ok_and(|m| m.is_file()).then_some(file))
}

/// How to take a lock.
#[derive(Debug, Clone, Copy)]
enum Mode {
    /// Exclusive, without waiting.
    Try,
    /// Exclusive, waiting for the holders to let go.
    Wait,
    /// Shared with other readers, waiting for an exclusive holder.
    Shared,
    /// As `Shared`, on an existing lock file only (`open_existing`).
    SharedExisting,
}

fn take(path: &Path, mode: Mode) -> Result<Option<File>> {
    loop {
        let file = match mode {
            Mode::SharedExisting => match open_existing(path)? {
                Some(file) => file,
                None => return Ok(None),
            },
            _ => open(path)?,
        };
        let taken = match mode {
            Mode::Try => match file.try_lock() {
                Ok(()) => Ok(()),
                Err(TryLockError::WouldBlock) => return Ok(None),
                Err(TryLockError::Error(e)) => Err(e),
            },
            Mode::Wait => file.lock(),
            Mode::Shared | Mode::SharedExisting => file.lock_shared(),
        };
        taken.map_err(Error::io("lock", path))?;
        if names(path, &file) {
            return Ok(Some(file));
        }
        // Unlinked by its holder while we opened or waited: start over.
    }
}

/// Whether `path` still names the open `file`.
fn names(path: &Path, file: &File) -> bool {
    match (std::fs::metadata(path), file.metadata()) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

/// Takes the lock without waiting; `None` when someone holds it.
pub fn try_lock(path: &Path) -> Result<Option<File>> {
    take(path, Mode::Try)
}

/// Takes the lock, waiting for the holder to let go.
pub fn lock(path: &Path) -> Result<File> {
    Ok(take(path, Mode::Wait)?.expect("a waiting lock is always taken"))
}

/// Takes the lock shared with other readers, waiting for an exclusive
/// holder to let go.
pub fn lock_shared(path: &Path) -> Result<File> {
    Ok(take(path, Mode::Shared)?.expect("a waiting lock is always taken"))
}

/// As `lock_shared`, on an existing lock file only: `None` when there is
/// none. It never creates one, and opens it read-only, without following a
/// link or blocking on a FIFO: root uses it on lock files the `--run-as`
/// account owns, before privileges are dropped.
pub fn lock_shared_existing(path: &Path) -> Result<Option<File>> {
    take(path, Mode::SharedExisting)
}

/// Unlinks the lock file at `path`, which `_held` (its exclusive lock, from
/// `try_lock` or `lock`) proves nobody else holds; keep holding it until
/// done with what it guarded.
pub fn remove(path: &Path, _held: &File) {
    let _ = std::fs::remove_file(path);
}

/// Whether a live process holds the lock at `path`, shared or exclusive (a
/// missing file is free). Only an existing file is tested: this never
/// creates one.
pub fn is_held(path: &Path) -> bool {
    let Ok(file) = OpenOptions::new().write(true).open(path) else {
        return false;
    };
    matches!(file.try_lock(), Err(TryLockError::WouldBlock))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_existing_lock_only_is_taken_and_none_is_made() {
        let dir = std::env::temp_dir().join(format!("pgtmp-lockx-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("k.lock");
        assert!(lock_shared_existing(&path).unwrap().is_none());
        assert!(!path.exists(), "a lock file was made");
        // Neither a link nor a FIFO is followed or waited on.
        std::os::unix::fs::symlink(dir.join("elsewhere"), &path).unwrap();
        std::fs::write(dir.join("elsewhere"), "").unwrap();
        assert!(lock_shared_existing(&path).is_err());
        std::fs::remove_file(&path).unwrap();
        nix::unistd::mkfifo(&path, nix::sys::stat::Mode::S_IRWXU).unwrap();
        assert!(lock_shared_existing(&path).unwrap().is_none());
        std::fs::remove_file(&path).unwrap();
        let held = lock(&path).unwrap();
        drop(held);
        let shared = lock_shared_existing(&path).unwrap().expect("taken");
        assert!(try_lock(&path).unwrap().is_none(), "shared excludes");
        drop(shared);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_lock_whose_file_was_removed_is_taken_anew() {
        let dir = std::env::temp_dir().join(format!("pgtmp-lock-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("k.lock");
        let held = lock(&path).unwrap();
        assert!(try_lock(&path).unwrap().is_none(), "held");
        assert!(is_held(&path));
        // A reader waits on the file the holder is about to remove.
        let waiter = {
            let path = path.clone();
            std::thread::spawn(move || lock_shared(&path).unwrap())
        };
        std::thread::sleep(std::time::Duration::from_millis(50));
        remove(&path, &held);
        assert!(!is_held(&path), "a missing file is free");
        drop(held);
        let shared = waiter.join().unwrap();
        // It holds the file now at the path, not the removed one.
        assert!(names(&path, &shared));
        assert!(try_lock(&path).unwrap().is_none(), "shared excludes");
        let other = lock_shared(&path).unwrap();
        drop((shared, other));
        assert!(try_lock(&path).unwrap().is_some());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
