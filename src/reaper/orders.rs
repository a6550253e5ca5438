//! Carrying out `reset` and `snapshot` in the supervisor, which alone may
//! stop and start its server. Both keep the server's directories, port and
//! password, so its URL; both disconnect its clients, which reconnect.
//!
//! A reset stops the server at once (immediate shutdown: its data is being
//! thrown away), puts the fresh copy of its template that the caller made
//! beside the data directory in its place, and starts it again.
//!
//! A snapshot pauses the server: a fast shutdown rolls back what clients
//! had open and ends with a checkpoint, so the data directory holds exactly
//! what was committed, cleanly shut down; it is copied, and the server
//! starts again on it. An online copy cannot do as well here: the servers
//! run with `wal_level=minimal`, which `pg_backup_start` refuses, and a
//! copy of a server frozen mid-flight needs crash recovery, which empties
//! unlogged tables and moves sequences ahead.

use std::fs;
use std::path::Path;
use std::time::Duration;

use super::bring_up;
use super::fleet::Fleet;
use super::signals::StopSignals;
use crate::error::{Error, Result};
use crate::instance::{Meta, Role, client, shmem};
use crate::paths;
use crate::pool;
use crate::postmaster::Shutdown;
use crate::trace;

/// How long the server may take to shut down before it is hurried.
const GRACE: Duration = Duration::from_secs(10);
/// Data directories replaced by a reset are renamed so, then removed.
const OLD_PREFIX: &str = ".old-data-";

/// How a request ended.
#[derive(Debug)]
pub enum Outcome {
    Done,
    /// It failed, and the instance runs on as it was.
    Failed(Error),
    /// It failed and left the instance without its server: it stops.
    Broken(Error),
}

/// Puts `fresh` (a copy of the template) in place of the server's data.
pub fn reset(
    dir: &Path,
    meta: &mut Meta,
    fleet: &mut Fleet,
    stop: &StopSignals,
    fresh: &Path,
) -> Outcome {
    let data = meta.primary.data_dir.clone();
    if fresh.parent() != data.parent() || !fresh.join("PG_VERSION").is_file() {
        return Outcome::Failed(failure(format!(
            "{} is no fresh copy beside {}",
            fresh.display(),
            data.display()
        )));
    }
    if let Some(mut pm) = fleet.take_primary() {
        pm.stop(Shutdown::immediate(GRACE));
    }
    // Its shared memory, should SIGKILL have been needed.
    shmem::release(&data);
    trace::mark("server stopped for the reset");
    let old = dir.join(format!("{OLD_PREFIX}{}", crate::random::id()));
    let swapped = fs::rename(&data, &old)
        .map_err(Error::io("move aside", &data))
        .and_then(|()| fs::rename(fresh, &data).map_err(Error::io("rename into", &data)));
    if let Err(e) = swapped {
        return Outcome::Broken(e);
    }
    match start(dir, meta, fleet, stop) {
        Ok(()) => Outcome::Done,
        Err(e) => Outcome::Broken(e),
    }
}

/// Copies the data directory, paused, to `into` (which must not exist).
pub fn snapshot(
    dir: &Path,
    meta: &mut Meta,
    fleet: &mut Fleet,
    stop: &StopSignals,
    into: &Path,
) -> Outcome {
    let data = meta.primary.data_dir.clone();
    let clean = match fleet.take_primary() {
        Some(mut pm) => pm.stop(Shutdown::fast(GRACE)),
        None => false,
    };
    trace::mark("server paused for the snapshot");
    let copied = if clean {
        pool::copy_tree(&data, into)
    } else {
        shmem::release(&data);
        Err(failure(
            "the server did not shut down cleanly, so its data is no consistent copy".into(),
        ))
    };
    if copied.is_err() {
        // Nothing half-written stays.
        let _ = paths::remove_tree(into);
    }
    trace::mark("snapshot copied");
    if let Err(e) = start(dir, meta, fleet, stop) {
        let _ = paths::remove_tree(into);
        return Outcome::Broken(e);
    }
    match copied {
        Ok(()) => Outcome::Done,
        Err(e) => Outcome::Failed(e),
    }
}

/// Starts the server again with its directories, port and password.
fn start(dir: &Path, meta: &mut Meta, fleet: &mut Fleet, stop: &StopSignals) -> Result<()> {
    // The port stays: the URL names it.
    let mut server = meta.primary.clone();
    server.fixed_port = true;
    let password = meta.password.clone();
    let mut verifier = None;
    let pm = bring_up::start_server(dir, &mut server, meta.keeps_data(), stop, &mut || {
        if verifier.is_none() {
            verifier = password.as_deref().map(client::verifier);
        }
    })?;
    fleet.push(Role::Primary, pm);
    if let Some(verifier) = &verifier {
        let mut c = client::connect(&meta.primary, &meta.role, "test")?;
        client::set_password(&mut c, &meta.role, verifier)?;
    }
    trace::mark("server started again");
    Ok(())
}

/// Removes the data directories resets replaced, once the answer is out.
pub fn clean_up(dir: &Path) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        if entry.file_name().to_string_lossy().starts_with(OLD_PREFIX) {
            let _ = paths::remove_tree(&entry.path());
        }
    }
}

/// A failure with nothing more to say than `reason`.
fn failure(reason: String) -> Error {
    Error::Request {
        action: String::new(),
        reason,
        log: String::new(),
        hint: None,
        disk_full: false,
    }
}

/// An error as a reason, a log tail and a hint, for an answer.
pub fn explain(e: Error) -> (String, String, Option<String>) {
    match e {
        Error::ServerStart {
            reason, log, hint, ..
        } => (reason, log, hint),
        Error::Request {
            action,
            reason,
            log,
            hint,
            ..
        } if action.is_empty() => (reason, log, hint),
        other => {
            let hint = other.hint();
            (other.to_string(), String::new(), hint)
        }
    }
}
