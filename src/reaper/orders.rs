//! Carrying out `promote` and `restart` in the supervisor, which alone may
//! stop and start its servers.
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

use std::path::Path;

use super::START_TIMEOUT;
use super::bring_up;
use super::fleet::{self, Fleet};
use super::signals::StopSignals;
use crate::error::{Error, Result};
use crate::instance::catchup::{self, Need};
use crate::instance::{Meta, Role};
use crate::trace;

/// How an order ended.
#[derive(Debug)]
pub enum Outcome {
    Done,
    /// It failed, and the instance runs on as it was.
    Failed(Error),
    /// It failed and left the instance without all its servers: it stops.
    Broken(Error),
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
        } if action.is_empty() => (reason, log, hint),
        other => (other.to_string(), String::new(), other.hint()),
    }
}
