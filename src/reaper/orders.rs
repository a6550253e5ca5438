//! Carrying out `promote`, `restart`, `reset` and `snapshot` in the
//! supervisor, which alone may stop and start its servers.
//!
//! Promotion is a switchover: every replica first replays all the primary
//! wrote; the primary stops with a fast shutdown (its WAL senders send the
//! replicas everything up to its shutdown checkpoint before they exit);
//! the chosen replica promotes; the other replicas restart following it,
//! and so does the old primary, as a replica. It can, because its WAL ends
//! exactly where the new primary's timeline begins. Every URL keeps working
//! and keeps its server; only the roles move. Clients of the old primary
//! and of the restarted replicas are disconnected.
//! <https://www.postgresql.org/docs/current/warm-standby-failover.html>
//!
//! Restarting keeps every server's directories and port, so its URL. A
//! restart with new `-o` options that does not come up is tried again with
//! the old ones; a server that cannot start again ends the instance.
//!
//! `reset` and `snapshot` take a single server (`instance::capability`);
//! both keep its directories, port and password, so its URL; both
//! disconnect its clients, which reconnect. A reset stops the server at
//! once (immediate shutdown: its data is being thrown away), puts the fresh
//! copy of its template that the caller made beside the data directory in
//! its place, and starts it again.
//!
//! A snapshot pauses the server: a fast shutdown rolls back what clients
//! had open and ends with a checkpoint, so the data directory holds exactly
//! what was committed, cleanly shut down; it is copied, and the server
//! starts again on it. An online copy cannot do as well here: the servers
//! run with `wal_level=minimal`, which `pg_backup_start` refuses, and a
//! copy of a server frozen mid-flight needs crash recovery, which empties
//! unlogged tables and moves sequences ahead.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::START_TIMEOUT;
use super::bring_up;
use super::fleet::{self, Fleet};
use super::signals::StopSignals;
use crate::error::{Error, Result};
use crate::instance::catchup::{self, Need};
use crate::instance::{Meta, Role, client, shmem};
use crate::paths;
use crate::pool;
use crate::postmaster::Shutdown;
use crate::trace;

/// How long a server paused or thrown away may take to shut down before
/// it is hurried.
const GRACE: Duration = Duration::from_secs(10);
/// Data directories replaced by a reset are renamed so, then removed.
const OLD_PREFIX: &str = ".old-data-";

/// How an order ended.
#[derive(Debug)]
pub enum Outcome {
    Done,
    /// It failed, and the instance runs on as it was.
    Failed(Error),
    /// It failed and left the instance without all its servers: it stops.
    Broken(Error),
    /// A spare took the instance's place (`swap`): the supervisor ends,
    /// removing what was moved aside there, and never touches the instance
    /// directory again.
    Replaced(PathBuf),
}

/// Makes replica `name` the primary of its set (see the module header).
pub fn promote(
    dir: &Path,
    meta: &mut Meta,
    fleet: &mut Fleet,
    stop: &StopSignals,
    name: &str,
) -> Outcome {
    let cancelled = || stop.requested();
    match meta.node(name) {
        Some((Role::Replica, _)) => {}
        Some((Role::Primary, _)) => {
            return Outcome::Failed(Error::NotAReplica {
                url: meta.url.clone(),
                what: "the primary of its set",
            });
        }
        None => {
            return Outcome::Failed(Error::NoServer(name.to_string()));
        }
    }
    // Nothing the old primary wrote may be missing on the new one.
    if let Err(e) = catchup::wait(meta, Need::Streaming, Some(START_TIMEOUT), &cancelled) {
        return Outcome::Failed(e);
    }
    let old = meta.primary.name.clone();
    if let Some(mut pm) = fleet.take(&old)
        && !pm.stop(fleet::shutdown(true))
    {
        return Outcome::Broken(Error::Request {
            action: format!("stopping the primary {old}"),
            reason: "it did not shut down cleanly".into(),
            log: pm.log_tail(10),
            hint: None,
            disk_full: false,
        });
    }
    trace::mark("old primary stopped");
    let promoted = fleet
        .get(name)
        .ok_or_else(|| Error::NoServer(name.to_string()))
        .and_then(|pm| pm.promote())
        .and_then(|()| {
            let (_, server) = meta.node(name).expect("checked above");
            catchup::wait_promoted(meta, server, START_TIMEOUT, &cancelled)
        });
    if let Err(e) = promoted {
        return Outcome::Broken(e);
    }
    trace::mark("replica promoted");
    meta.swap_primary(name);
    if let Some(pm) = fleet.take(name) {
        fleet.push(Role::Primary, name, pm);
    }
    // The other replicas follow the new primary from their next start;
    // the old primary joins them.
    let mut followers: Vec<String> = meta
        .replicas
        .iter()
        .map(|r| r.name.clone())
        .filter(|n| *n != old)
        .collect();
    for follower in &followers {
        if let Some(mut pm) = fleet.take(follower) {
            pm.stop(fleet::shutdown(true));
        }
    }
    followers.push(old);
    let rejoined = bring_up::start_replicas(dir, meta, fleet, &followers, stop, false)
        .and_then(|()| catchup::wait(meta, Need::Streaming, Some(START_TIMEOUT), &cancelled))
        .and_then(|()| meta.write(dir));
    match rejoined {
        Ok(()) => {
            trace::mark("switched over");
            Outcome::Done
        }
        Err(e) => Outcome::Broken(e),
    }
}

/// Restarts server `name` (a replica), or every server (`None`, or the
/// primary's name), with `options` as their `-o` when given.
pub fn restart(
    dir: &Path,
    meta: &mut Meta,
    fleet: &mut Fleet,
    stop: &StopSignals,
    name: Option<&str>,
    options: Option<Vec<String>>,
) -> Outcome {
    let names: Vec<String> = match name {
        Some(n) if meta.node(n).is_some_and(|(role, _)| role == Role::Replica) => {
            vec![n.to_string()]
        }
        Some(n) if meta.node(n).is_none() => {
            return Outcome::Failed(Error::NoServer(n.to_string()));
        }
        _ => meta.servers().map(|(_, s)| s.name.clone()).collect(),
    };
    // Replicas first, so that none is left streaming from a stopped primary.
    for n in names.iter().rev() {
        if let Some(mut pm) = fleet.take(n) {
            pm.stop(fleet::shutdown(true));
        }
    }
    let old = options.map(|new| set_options(meta, &names, |_| new.clone()));
    let started = start(dir, meta, fleet, stop, &names);
    let Err(e) = started else {
        return match meta.write(dir) {
            Ok(()) => Outcome::Done,
            Err(e) => Outcome::Failed(e),
        };
    };
    let Some(old) = old else {
        return Outcome::Broken(e);
    };
    // The new options did not do: the old ones, which ran before.
    super::log(&format!("restart with the new options failed: {e}"));
    stop_named(fleet, &names);
    set_options(meta, &names, |name| {
        old.iter()
            .find(|(n, _)| n == name)
            .map(|(_, o)| o.clone())
            .unwrap_or_default()
    });
    match start(dir, meta, fleet, stop, &names) {
        Ok(()) => {
            let (reason, log, _) = explain(e);
            let again = if names.len() > 1 {
                "they run"
            } else {
                "it runs"
            };
            Outcome::Failed(Error::Request {
                action: String::new(),
                reason: format!(
                    "with the new options, {reason}; {again} again with the options before"
                ),
                log,
                hint: Some("check the server options given with `-o`".into()),
                disk_full: false,
            })
        }
        Err(again) => Outcome::Broken(again),
    }
}

/// Starts the servers `names` (the primary first, if among them) and waits
/// for the replicas to catch up.
fn start(
    dir: &Path,
    meta: &mut Meta,
    fleet: &mut Fleet,
    stop: &StopSignals,
    names: &[String],
) -> Result<()> {
    let primary = meta.primary.name.clone();
    if names.contains(&primary) {
        let pm = bring_up::start(dir, meta, &primary, stop, false, &mut || {})?;
        fleet.push(Role::Primary, &primary, pm);
    }
    let replicas: Vec<String> = names.iter().filter(|n| **n != primary).cloned().collect();
    bring_up::start_replicas(dir, meta, fleet, &replicas, stop, false)?;
    catchup::wait(meta, Need::Streaming, Some(START_TIMEOUT), &|| {
        stop.requested()
    })
}

/// Stops whichever of `names` runs.
fn stop_named(fleet: &mut Fleet, names: &[String]) {
    for n in names.iter().rev() {
        if let Some(mut pm) = fleet.take(n) {
            pm.stop(fleet::shutdown(true));
        }
    }
}

/// Gives each of the servers `names` the options `new` says for it;
/// returns the ones they had, by name.
fn set_options(
    meta: &mut Meta,
    names: &[String],
    new: impl Fn(&str) -> Vec<String>,
) -> Vec<(String, Vec<String>)> {
    let mut old = Vec::new();
    for server in std::iter::once(&mut meta.primary).chain(meta.replicas.iter_mut()) {
        if names.contains(&server.name) {
            let options = new(&server.name);
            old.push((
                server.name.clone(),
                std::mem::replace(&mut server.server_options, options),
            ));
        }
    }
    old
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
    if let Some(mut pm) = fleet.take(&meta.primary.name) {
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
    match start_again(dir, meta, fleet, stop) {
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
    let clean = match fleet.take(&meta.primary.name) {
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
    if let Err(e) = start_again(dir, meta, fleet, stop) {
        let _ = paths::remove_tree(into);
        return Outcome::Broken(e);
    }
    match copied {
        Ok(()) => Outcome::Done,
        Err(e) => Outcome::Failed(e),
    }
}

/// Starts the server again with its directories, port and password.
fn start_again(dir: &Path, meta: &mut Meta, fleet: &mut Fleet, stop: &StopSignals) -> Result<()> {
    // The port stays (no move to another): the URL names it.
    let name = meta.primary.name.clone();
    let password = meta.password.clone();
    let mut verifier = None;
    let pm = bring_up::start(dir, meta, &name, stop, false, &mut || {
        if verifier.is_none() {
            verifier = password.as_deref().map(client::verifier);
        }
    })?;
    fleet.push(Role::Primary, &name, pm);
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
pub(super) fn failure(reason: String) -> Error {
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
