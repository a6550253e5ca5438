//! Advisory file locks (flock) that say who owns what: a held instance lock
//! means some process of that instance is alive, a held pool lock means a
//! refill is running. The kernel drops them when the last holder dies, so a
//! crash can never leave a stale claim behind.

use std::fs::{File, OpenOptions, TryLockError};
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

/// Takes the lock without waiting; `None` when someone holds it.
pub fn try_lock(path: &Path) -> Result<Option<File>> {
    let file = open(path)?;
    match file.try_lock() {
        Ok(()) => Ok(Some(file)),
        Err(TryLockError::WouldBlock) => Ok(None),
        Err(TryLockError::Error(e)) => Err(Error::io("lock", path)(e)),
    }
}

/// Takes the lock, waiting for the holder to let go.
pub fn lock(path: &Path) -> Result<File> {
    let file = open(path)?;
    file.lock().map_err(Error::io("lock", path))?;
    Ok(file)
}

/// Whether a live process holds the lock at `path` (a missing file is free).
/// Only an existing file is tested: this never creates one.
pub fn is_held(path: &Path) -> bool {
    let Ok(file) = OpenOptions::new().write(true).open(path) else {
        return false;
    };
    matches!(file.try_lock(), Err(TryLockError::WouldBlock))
}
