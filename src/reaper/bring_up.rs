//! Starting an instance's servers: the primary, then a set's replicas all at
//! once (each a copy of the primary's template, streaming from it), each
//! retried on another port when a `-t` port was taken meanwhile; then the
//! TCP password, the replicas caught up, the URL and `meta.json` completed.

use std::path::Path;

use super::START_TIMEOUT;
use super::fleet::{self, Fleet};
use super::signals::StopSignals;
use crate::error::{Error, Result};
use crate::instance::catchup::{self, Need};
use crate::instance::handshake::Report;
use crate::instance::meta::SERVER_LOG;
use crate::instance::{Meta, Role, Server, State, client, meta, port, replication};
use crate::postmaster::{self, Postmaster, Startup};
use crate::process;
use crate::trace;

/// Attempts at finding a free port for `-t` when another process takes the
/// chosen one between our check and the server's bind.
const PORT_ATTEMPTS: usize = 10;

/// Starts the servers, sets the TCP password, waits for the replicas to
/// catch up and completes `meta.json`.
pub fn bring_up(dir: &Path, meta: &mut Meta, stop_signals: &StopSignals) -> Result<Fleet> {
    let mut fleet = Fleet::default();
    let started = start_all(dir, meta, &mut fleet, stop_signals);
    if let Err(e) = started {
        fleet.shut_down(meta.keeps_data());
        return Err(e);
    }
    if let Some(shared) = &meta.shared_tx {
        match super::proxy::start(dir, meta, shared) {
            Ok(child) => fleet.proxy(child),
            Err(e) => {
                fleet.shut_down(meta.keeps_data());
                return Err(e);
            }
        }
        trace::mark("proxy ready");
    }
    meta.url = meta.connection_url();
    meta.supervisor_pid = Some(std::process::id());
    meta.supervisor_start = process::start_time(std::process::id())?;
    meta.write(dir)?;
    State {
        clients: 0,
        idle_since_ms: Some(meta::now_ms()),
        stopping: false,
    }
    .write(dir)?;
    Ok(fleet)
}

fn start_all(
    dir: &Path,
    meta: &mut Meta,
    fleet: &mut Fleet,
    stop_signals: &StopSignals,
) -> Result<()> {
    // A set's servers start at once: a replica gets ready on its own (it
    // starts from the same checkpoint), and its first try to stream from
    // a primary not ready yet is retried 50 ms later.
    let name = meta.primary.name.clone();
    let port = meta.primary.port;
    let primary = spawn(dir, meta, &name)?;
    let replicas: Vec<String> = meta.replicas.iter().map(|r| r.name.clone()).collect();
    let mut spawned = spawn_replicas(dir, meta, &replicas)?;
    // Hash the password while the servers start.
    let password = meta.password.clone();
    let mut verifier = None;
    let primary = wait(dir, meta, &name, primary, stop_signals, true, &mut || {
        if verifier.is_none() {
            verifier = password.as_deref().map(client::verifier);
        }
    });
    let primary = match primary {
        Ok(pm) => pm,
        Err(e) => {
            stop_all(spawned, meta);
            return Err(e);
        }
    };
    fleet.push(Role::Primary, &name, primary);
    if meta.primary.port != port {
        // The primary moved to another port: the replicas would look for
        // it at the old one.
        stop_all(spawned, meta);
        spawned = spawn_replicas(dir, meta, &replicas)?;
    }
    await_replicas(dir, meta, fleet, spawned, stop_signals, true)?;
    if let Some(verifier) = &verifier {
        // Through `test`: this first connection builds the relation cache
        // file the caller's first connection would otherwise build. On a
        // set, the replicas replay it with the rest.
        client::connect(&meta.primary, &meta.role, "test")
            .and_then(|mut c| client::set_password(&mut c, &meta.role, verifier))?;
        trace::mark("password set");
    } else if let Some(token) = &meta.spare
        && crate::spare::waiting(&crate::spare::starting(token))
    {
        // As the password's connection does for TCP: build the relation
        // cache file now, not in the caller's first connection. Unless a
        // caller claimed it while it started and waits for it: then that
        // caller's own connection is sooner than this one and then theirs.
        drop(client::connect(&meta.primary, &meta.role, "test"));
    }
    if meta.is_set() {
        catchup::wait(meta, Need::Streaming, Some(START_TIMEOUT), &|| {
            stop_signals.requested()
        })?;
        trace::mark("replicas caught up");
    }
    Ok(())
}

/// Starts the replicas `names` at once and waits for each; on a failure
/// the ones started are stopped again. `moves`: a `-t` server whose port
/// was taken may move to another (not once its URL is out).
pub fn start_replicas(
    dir: &Path,
    meta: &mut Meta,
    fleet: &mut Fleet,
    names: &[String],
    stop_signals: &StopSignals,
    moves: bool,
) -> Result<()> {
    let spawned = spawn_replicas(dir, meta, names)?;
    await_replicas(dir, meta, fleet, spawned, stop_signals, moves)
}

/// Spawns the replicas `names`; on a failure, stops those spawned.
fn spawn_replicas(dir: &Path, meta: &Meta, names: &[String]) -> Result<Vec<(String, Postmaster)>> {
    let mut spawned = Vec::new();
    for name in names {
        match spawn(dir, meta, name) {
            Ok(pm) => spawned.push((name.clone(), pm)),
            Err(e) => {
                stop_all(spawned, meta);
                return Err(e);
            }
        }
    }
    Ok(spawned)
}

/// Waits for spawned replicas to be ready and adds them to the fleet; on a
/// failure, stops them all.
fn await_replicas(
    dir: &Path,
    meta: &mut Meta,
    fleet: &mut Fleet,
    spawned: Vec<(String, Postmaster)>,
    stop_signals: &StopSignals,
    moves: bool,
) -> Result<()> {
    let mut ready = Vec::new();
    let mut failed = None;
    for (name, pm) in spawned {
        if failed.is_some() {
            ready.push((name, pm));
            continue;
        }
        match wait(dir, meta, &name, pm, stop_signals, moves, &mut || {}) {
            Ok(pm) => ready.push((name, pm)),
            Err(e) => failed = Some(e),
        }
    }
    if let Some(e) = failed {
        stop_all(ready, meta);
        return Err(e);
    }
    for (name, pm) in ready {
        fleet.push(Role::Replica, &name, pm);
    }
    trace::mark("replicas ready");
    Ok(())
}

fn stop_all(postmasters: Vec<(String, Postmaster)>, meta: &Meta) {
    for (_, mut pm) in postmasters {
        pm.stop(fleet::shutdown(meta.keeps_data()));
    }
}

/// Starts server `name` in the role the metadata gives it and waits for it
/// to be ready (`moves`: see [`start_replicas`]); `spawned` runs while it
/// starts.
pub fn start(
    dir: &Path,
    meta: &mut Meta,
    name: &str,
    stop_signals: &StopSignals,
    moves: bool,
    spawned: &mut dyn FnMut(),
) -> Result<Postmaster> {
    let pm = spawn(dir, meta, name)?;
    wait(dir, meta, name, pm, stop_signals, moves, spawned)
}

/// Spawns the postmaster of server `name` with the settings of its role.
fn spawn(dir: &Path, meta: &Meta, name: &str) -> Result<Postmaster> {
    let (role, server) = node(meta, name)?;
    if meta.is_set() {
        replication::prepare(role, server)?;
    }
    let settings = replication::settings(meta, role, server);
    let pm = Postmaster::start(&server.postmaster(meta::server_log(dir, server), settings))?;
    trace::mark("postmaster spawned");
    Ok(pm)
}

/// Waits for a spawned postmaster to be ready, spawning it again on
/// another port when its `-t` port was taken meanwhile.
fn wait(
    dir: &Path,
    meta: &mut Meta,
    name: &str,
    mut pm: Postmaster,
    stop_signals: &StopSignals,
    moves: bool,
    spawned: &mut dyn FnMut(),
) -> Result<Postmaster> {
    let shutdown = fleet::shutdown(meta.keeps_data());
    let mut attempt = 1;
    loop {
        spawned();
        match pm.wait_ready(START_TIMEOUT, &|| stop_signals.requested()) {
            Startup::Ready => {
                trace::mark("postmaster ready");
                return Ok(pm);
            }
            Startup::Exited(status) => {
                let (_, server) = node(meta, name)?;
                let taken = pm.failed_to_bind();
                if taken && moves && server.tcp && !server.fixed_port && attempt < PORT_ATTEMPTS {
                    let port = port::free()?;
                    node_mut(meta, name)?.port = port;
                    attempt += 1;
                    pm = spawn(dir, meta, name)?;
                    continue;
                }
                return Err(start_error(&pm, server, status.to_string(), taken));
            }
            Startup::TimedOut => {
                pm.stop(shutdown);
                return Err(Error::server_start(
                    format!("not ready after {}s", START_TIMEOUT.as_secs()),
                    pm.log_tail(10),
                    None,
                ));
            }
            Startup::Cancelled => {
                pm.stop(shutdown);
                return Err(Error::Interrupted);
            }
        }
    }
}

fn node<'a>(meta: &'a Meta, name: &str) -> Result<(Role, &'a Server)> {
    meta.node(name)
        .ok_or_else(|| Error::NoServer(name.to_string()))
}

fn node_mut<'a>(meta: &'a mut Meta, name: &str) -> Result<&'a mut Server> {
    std::iter::once(&mut meta.primary)
        .chain(meta.replicas.iter_mut())
        .find(|s| s.name == name)
        .ok_or_else(|| Error::NoServer(name.to_string()))
}

fn start_error(pm: &Postmaster, server: &Server, status: String, taken: bool) -> Error {
    let log = pm.log_tail(10);
    if taken {
        return Error::server_start(
            format!("port {} on 127.0.0.1 is already in use", server.port),
            log,
            Some("choose another port with `-p`, or use `-t` to pick a free one".into()),
        );
    }
    let hint = (!server.server_options.is_empty()
        && (log.contains("parameter") || log.contains("invalid") || log.contains("option")))
    .then(|| "check the server options given with `-o`".to_string());
    let what = if server.name.is_empty() {
        String::new()
    } else {
        format!("{}: ", server.name)
    };
    Error::server_start(format!("{what}postgres exited ({status})"), log, hint)
}

/// The report of a failed bring-up: the server's own words where it had
/// some, else the tail of the whole server log.
pub fn failure(dir: &Path, e: &Error) -> Report {
    match e {
        Error::ServerStart {
            reason,
            log,
            hint,
            disk_full,
        } => Report::Failed {
            reason: reason.clone(),
            log: log.clone(),
            hint: hint.clone(),
            disk_full: *disk_full,
        },
        other => Report::Failed {
            reason: other.to_string(),
            log: crate::error::tail(&postmaster::read_log(&dir.join(SERVER_LOG), 0), 10),
            hint: other.hint(),
            disk_full: other.is_no_space(),
        },
    }
}
