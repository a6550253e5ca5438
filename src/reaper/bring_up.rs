//! Starting an instance's servers (the primary, then any replicas), each
//! retried on another port when a `-t` port was taken meanwhile; then the
//! TCP password, the URL and `meta.json` completed.

use std::path::Path;

use super::START_TIMEOUT;
use super::fleet::Fleet;
use super::signals::StopSignals;
use crate::error::{Error, Result};
use crate::instance::handshake::Report;
use crate::instance::meta::SERVER_LOG;
use crate::instance::{Meta, Role, Server, State, client, meta, port};
use crate::postmaster::{self, Postmaster, Startup};
use crate::process;
use crate::trace;

/// Attempts at finding a free port for `-t` when another process takes the
/// chosen one between our check and the server's bind.
const PORT_ATTEMPTS: usize = 10;

/// Starts the servers, sets the TCP password and completes `meta.json`.
pub fn bring_up(dir: &Path, meta: &mut Meta, stop_signals: &StopSignals) -> Result<Fleet> {
    let mut fleet = Fleet::default();
    let keep = meta.keeps_data();
    // Hash the password while the primary starts.
    let password = meta.password.clone();
    let mut verifier = None;
    let primary = start_server(dir, &mut meta.primary, keep, stop_signals, &mut || {
        if verifier.is_none() {
            verifier = password.as_deref().map(client::verifier);
        }
    })?;
    fleet.push(Role::Primary, primary);
    for replica in &mut meta.replicas {
        match start_server(dir, replica, keep, stop_signals, &mut || {}) {
            Ok(pm) => fleet.push(Role::Replica, pm),
            Err(e) => {
                fleet.shut_down(keep);
                return Err(e);
            }
        }
    }
    if let Some(verifier) = &verifier {
        // Through `test`: this first connection builds the relation cache
        // file the caller's first connection would otherwise build.
        let set = client::connect(&meta.primary, &meta.role, "test")
            .and_then(|mut c| client::set_password(&mut c, &meta.role, verifier));
        if let Err(e) = set {
            fleet.shut_down(keep);
            return Err(e);
        }
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
    if let Some(shared) = &meta.shared_tx {
        match super::proxy::start(dir, meta, shared) {
            Ok(child) => fleet.proxy(child),
            Err(e) => {
                fleet.shut_down(keep);
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

/// Starts one server and waits for it to be ready; `spawned` runs while
/// it starts.
fn start_server(
    dir: &Path,
    server: &mut Server,
    keep: bool,
    stop_signals: &StopSignals,
    spawned: &mut dyn FnMut(),
) -> Result<Postmaster> {
    let shutdown = super::fleet::shutdown(keep);
    let mut attempt = 0;
    loop {
        attempt += 1;
        let mut pm = Postmaster::start(&server.postmaster(dir.join(SERVER_LOG)))?;
        trace::mark("postmaster spawned");
        spawned();
        match pm.wait_ready(START_TIMEOUT, &|| stop_signals.requested()) {
            Startup::Ready => {
                trace::mark("postmaster ready");
                return Ok(pm);
            }
            Startup::Exited(status) => {
                let taken = pm.failed_to_bind();
                if taken && server.tcp && !server.fixed_port && attempt < PORT_ATTEMPTS {
                    server.port = port::free()?;
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
    Error::server_start(format!("postgres exited ({status})"), log, hint)
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
