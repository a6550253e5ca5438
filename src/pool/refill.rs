//! Refilling the pool in the background after a hand-out: a detached,
//! low-priority re-execution of pgtmp (`pgtmp __refill KEY`), so the caller
//! never waits for the copy. One refill per pool at a time (a file lock);
//! the lock is re-checked after release so that a claim racing with the end
//! of a refill is never left unreplaced.

use std::fs::OpenOptions;
use std::path::Path;
use std::process::{Command, Stdio};

use super::budget::Budget;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::lock;
use crate::paths::Layout;
use crate::standby::replenish::Kind;

/// Environment of `pgtmp __refill`: which standbys to start (`socket` or
/// `tcp`), for which role, from which binaries.
pub const STANDBY_ENV: &str = "PGTMP_REFILL_STANDBY";
pub const ROLE_ENV: &str = "PGTMP_REFILL_ROLE";
pub const BINDIR_ENV: &str = "PGTMP_REFILL_BINDIR";

/// The size past which the refill log starts over.
pub const LOG_LIMIT: u64 = 64 * 1024;

/// Starts `pgtmp __refill KEY` detached; failures are only logged.
/// `standby`: also start standbys of that kind.
pub fn spawn(config: &Config, key: &str, standby: Option<&Kind>) -> Result<()> {
    let layout = &config.layout;
    let exe = std::env::current_exe().map_err(Error::io("find", "/proc/self/exe"))?;
    let path = layout.refill_log();
    // Every failed refill appends to the log: one that keeps failing (a
    // full disk) must not fill the disk further. Start it afresh when big.
    let full = std::fs::metadata(&path).is_ok_and(|m| m.len() > LOG_LIMIT);
    let log = OpenOptions::new()
        .create(true)
        .append(!full)
        .write(true)
        .truncate(full)
        .open(&path)
        .map_err(Error::io("open", &path))?;
    // No pre_exec hook here, so std can use posix_spawn (cheaper than fork
    // for the caller); the child calls setsid itself.
    let mut cmd = Command::new(exe);
    cmd.arg(crate::cli::Internal::REFILL)
        .arg(key)
        .env("PGTMP_DIR", &layout.base)
        .env("PGTMP_POOL_SIZE", config.pool_size.to_string())
        .env("PGTMP_STANDBY", config.standby_max.to_string())
        .env(
            "PGTMP_STANDBY_TIMEOUT",
            format!("{}ms", config.standby_timeout.as_millis()),
        );
    match standby {
        Some(kind) => cmd
            .env(STANDBY_ENV, if kind.tcp { "tcp" } else { "socket" })
            .env(ROLE_ENV, &kind.role)
            .env(BINDIR_ENV, &kind.bindir),
        None => cmd.env_remove(STANDBY_ENV),
    };
    cmd.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .map_err(Error::io("start pool refill", &layout.base))?;
    Ok(())
}

/// Fills the pool of `key` up to `size` entries from its template.
pub fn run(layout: &Layout, key: &str, size: usize) -> Result<()> {
    if size == 0 {
        return Ok(());
    }
    // Held for reading while copies are made: `gc` leaves it alone.
    let Some(template) = super::template::hold(layout, key)? else {
        return Ok(());
    };
    crate::paths::mkdir_private(&layout.pool_root())?;
    let lock_path = layout.pool_lock(key);
    loop {
        let Some(guard) = lock::try_lock(&lock_path)? else {
            return Ok(()); // another refill is on it
        };
        let complete = fill(layout, key, template.path(), size)?;
        drop(guard);
        if !complete || super::count(layout, key) >= size {
            return Ok(());
        }
    }
}

/// Adds entries up to `size` while the budget allows; false when it
/// stopped short.
fn fill(layout: &Layout, key: &str, template: &Path, size: usize) -> Result<bool> {
    let mut budget = Budget::new(layout);
    while super::count(layout, key) < size {
        if !budget.allows(key, false) {
            eprintln!(
                "pgtmp refill: the pool of {key} stays at {} entr(ies): another copy ({} MB) would pass the budget",
                super::count(layout, key),
                budget.size(key) >> 20
            );
            return Ok(false);
        }
        super::add(layout, key, template)?;
    }
    Ok(true)
}
