//! The supervisor: one detached process per instance (`pgtmp __supervise
//! DIR`), started by `pgtmp start` in its own session with its stdio in
//! `supervise.log`. It is the postmaster's parent, so the postmaster gets
//! SIGQUIT (PR_SET_PDEATHSIG) if the supervisor is killed; it reports
//! readiness to the starter through a pipe, watches client connections, and
//! after the idle timeout shuts the server down and deletes the directory
//! only once the postmaster has exited.
//!
//! Why re-execute the binary rather than fork with the `daemonize` crate:
//! the starter must keep running after the fork (to wait for readiness and
//! print the URL), and a fork of a process that may hold library state is
//! fragile; a fresh exec starts clean, single-threaded, with exactly the
//! descriptors we pass (fd 3: the instance lock, fd 4: the readiness pipe,
//! fd 5: the acknowledgement that the URL was printed).

mod signals;
mod standby;
mod watch;

use std::fs::File;
use std::io::Write;
use std::os::fd::{FromRawFd, RawFd};
use std::path::Path;
use std::process::Child;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result, tail};
use crate::instance::launch::{self, Startup};
use crate::instance::{Meta, State, client, meta, stop};
use crate::process;
use crate::url;
use signals::StopSignals;

/// The instance lock, inherited by the postmaster and every backend.
pub const LOCK_FD: RawFd = 3;
/// The write end of the readiness pipe.
pub const READY_FD: RawFd = 4;
/// The read end of the acknowledgement pipe: the starter writes `ACK` once
/// the URL is printed.
pub const ACK_FD: RawFd = 5;
pub const ACK: &[u8] = b"delivered\n";

/// How long the starter may take to print the URL once told it.
pub(crate) const ACK_TIMEOUT: Duration = Duration::from_secs(30);

/// How long a server may take to accept connections.
pub const START_TIMEOUT: Duration = Duration::from_secs(60);

/// Attempts at finding a free port for `-t` when another process takes the
/// chosen one between our check and the server's bind.
const PORT_ATTEMPTS: usize = 10;

/// What the supervisor tells the starter, one line on the pipe.
#[derive(Debug, Serialize, Deserialize)]
pub enum Report {
    Ready {
        url: String,
    },
    Failed {
        reason: String,
        log: String,
        hint: Option<String>,
    },
}

/// Runs the supervisor for the instance in `dir` until the server is gone.
pub fn supervise(dir: &Path) -> Result<()> {
    // SAFETY: the starter placed the readiness pipe at READY_FD; nothing
    // else in this fresh process owns it.
    let mut ready = unsafe { File::from_raw_fd(READY_FD) };
    process::set_cloexec(READY_FD);
    // SAFETY: likewise for the acknowledgement pipe at ACK_FD.
    let ack = unsafe { File::from_raw_fd(ACK_FD) };
    process::set_cloexec(ACK_FD);
    let stop_signals = StopSignals::install().map_err(Error::io("install signal handlers", dir))?;
    let mut meta = Meta::read(dir)?;
    let mut child = match bring_up(dir, &mut meta, &stop_signals) {
        Ok(child) => child,
        Err(e) => {
            let _ = send(&mut ready, &failure(dir, &e));
            return Err(e);
        }
    };
    let report = Report::Ready {
        url: meta.url.clone(),
    };
    let why = match meta.standby.clone() {
        // Nobody waits for a standby's URL: callers find it by its token.
        Some(token) => {
            let published = crate::standby::publish(&token);
            let _ = send(&mut ready, &report);
            drop(ready);
            drop(ack);
            match published {
                Err(e) => format!("cannot publish the standby: {e}"),
                Ok(()) => {
                    log("standby ready");
                    match standby::serve(dir, &mut meta, &token, &mut child, &stop_signals) {
                        standby::Outcome::Delivered => watch(dir, &meta, &mut child, &stop_signals),
                        standby::Outcome::Stop(why) => why,
                    }
                }
            }
        }
        // If the starter is gone (killed while waiting, or its stdout
        // closed), nobody has the URL: stop at once rather than after the
        // idle timeout, or never with -w 0.
        None => {
            let delivered = send(&mut ready, &report) && acknowledged(ack, ACK_TIMEOUT);
            drop(ready);
            if delivered {
                watch(dir, &meta, &mut child, &stop_signals)
            } else {
                "nobody received the URL".to_string()
            }
        }
    };
    log(&format!("stopping: {why}"));
    // `pgtmp stop -k` says so in meta.json before it signals us.
    if Meta::read(dir).is_ok_and(|now| now.keep) {
        meta.keep = true;
    }
    let _ = State {
        stopping: true,
        ..State::read(dir).unwrap_or_default()
    }
    .write(dir);
    shut_down(&mut child, meta.keeps_data());
    match stop::remove(dir, &meta)? {
        Some(kept) => log(&format!("data directory kept: {}", kept.display())),
        None => log("removed"),
    }
    Ok(())
}

/// Watches a delivered instance until it is to stop; says why.
fn watch(dir: &Path, meta: &Meta, child: &mut Child, stop_signals: &StopSignals) -> String {
    log(&format!("ready: {}", meta.url));
    watch::until_done(dir, meta, child, stop_signals).to_string()
}

/// Starts the server (retrying on a taken port), sets the TCP password and
/// completes `meta.json`.
fn bring_up(dir: &Path, meta: &mut Meta, stop_signals: &StopSignals) -> Result<Child> {
    let mut attempt = 0;
    let mut verifier = None;
    let mut child = loop {
        attempt += 1;
        let from = launch::log_len(dir);
        let mut child = launch::spawn(meta, dir)?;
        crate::trace::mark("postmaster spawned");
        // Hash the password while the server starts.
        if verifier.is_none() {
            verifier = meta.password.as_deref().map(client::verifier);
        }
        match launch::wait_ready(&mut child, &meta.data_dir, START_TIMEOUT, &|| {
            stop_signals.requested()
        }) {
            Startup::Ready => {
                crate::trace::mark("postmaster ready");
                break child;
            }
            Startup::Exited(status) => {
                let taken = launch::failed_to_bind(dir, from);
                if taken && meta.tcp && !meta.fixed_port && attempt < PORT_ATTEMPTS {
                    meta.port = launch::free_port()?;
                    continue;
                }
                return Err(start_error(dir, from, meta, status.to_string(), taken));
            }
            Startup::TimedOut => {
                shut_down(&mut child, meta.keeps_data());
                return Err(Error::ServerStart {
                    reason: format!("not ready after {}s", START_TIMEOUT.as_secs()),
                    log: tail(&launch::log_since(dir, from), 10),
                    hint: None,
                });
            }
            Startup::Cancelled => {
                shut_down(&mut child, meta.keeps_data());
                return Err(Error::other("stopped by a signal while starting"));
            }
        }
    };
    if let Some(verifier) = &verifier {
        // Through `test`: this first connection builds the relation cache
        // file the caller's first connection would otherwise build.
        let set = client::connect(meta, "test")
            .and_then(|mut c| client::set_password(&mut c, &meta.role, verifier));
        if let Err(e) = set {
            shut_down(&mut child, meta.keeps_data());
            return Err(e);
        }
        crate::trace::mark("password set");
    } else if meta.standby.is_some() {
        // As the password's connection does for TCP: build the relation
        // cache file now, not in the caller's first connection.
        drop(client::connect(meta, "test"));
    }
    meta.url = match &meta.password {
        Some(pw) => url::tcp(meta.port, &meta.role, pw),
        None => url::socket(&meta.socket_dir),
    };
    meta.supervisor_pid = Some(std::process::id());
    meta.supervisor_start = process::start_time(std::process::id());
    meta.write(dir)?;
    State {
        clients: 0,
        idle_since_ms: Some(meta::now_ms()),
        stopping: false,
    }
    .write(dir)?;
    Ok(child)
}

fn start_error(dir: &Path, from: u64, meta: &Meta, status: String, taken: bool) -> Error {
    let log = tail(&launch::log_since(dir, from), 10);
    if taken {
        return Error::ServerStart {
            reason: format!("port {} on 127.0.0.1 is already in use", meta.port),
            log,
            hint: Some("choose another port with `-p`, or use `-t` to pick a free one".into()),
        };
    }
    let hint = (!meta.server_options.is_empty()
        && (log.contains("parameter") || log.contains("invalid") || log.contains("option")))
    .then(|| "check the server options given with `-o`".to_string());
    Error::ServerStart {
        reason: format!("postgres exited ({status})"),
        log,
        hint,
    }
}

fn failure(dir: &Path, e: &Error) -> Report {
    match e {
        Error::ServerStart { reason, log, hint } => Report::Failed {
            reason: reason.clone(),
            log: log.clone(),
            hint: hint.clone(),
        },
        other => Report::Failed {
            reason: other.to_string(),
            log: tail(&launch::log_since(dir, 0), 10),
            hint: other.hint(),
        },
    }
}

/// Whether the starter says it printed the URL; false when it died first
/// (EOF) or hangs past `timeout`.
fn acknowledged(ack: File, timeout: Duration) -> bool {
    use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
    use std::io::Read;
    use std::os::fd::AsFd;
    let ms = u16::try_from(timeout.as_millis()).unwrap_or(u16::MAX);
    let mut fds = [PollFd::new(ack.as_fd(), PollFlags::POLLIN)];
    if !matches!(poll(&mut fds, PollTimeout::from(ms)), Ok(n) if n > 0) {
        return false;
    }
    let mut buf = [0u8; 16];
    matches!((&ack).read(&mut buf), Ok(n) if buf[..n] == *ACK)
}

/// Sends the report; false when the starter is gone (EPIPE: Rust ignores
/// SIGPIPE, so the write fails instead of killing us).
fn send(pipe: &mut File, report: &Report) -> bool {
    let line = serde_json::to_string(report).expect("report serializes");
    writeln!(pipe, "{line}").is_ok()
}

/// Stops the postmaster and returns once it has exited, so nothing deletes
/// a live data directory. Data that is about to be deleted needs no
/// shutdown checkpoint: immediate shutdown (SIGQUIT) then. Kept data gets a
/// fast shutdown (SIGINT) first, so it restarts without recovery. SIGKILL
/// is the last resort.
fn shut_down(child: &mut Child, keep_data: bool) {
    use nix::sys::signal::Signal;
    let pid = child.id();
    let first = if keep_data {
        Signal::SIGINT
    } else {
        Signal::SIGQUIT
    };
    let steps = [
        (first, Duration::from_secs(10)),
        (Signal::SIGQUIT, Duration::from_secs(5)),
        (Signal::SIGKILL, Duration::from_secs(60)),
    ];
    for (sig, wait) in steps {
        if matches!(child.try_wait(), Ok(Some(_))) {
            return;
        }
        process::signal(pid, sig);
        if process::wait_until(wait, || matches!(child.try_wait(), Ok(Some(_)))) {
            return;
        }
    }
}

/// A line in `supervise.log`.
pub(crate) fn log(msg: &str) {
    eprintln!("{} pgtmp[{}]: {msg}", meta::now_secs(), std::process::id());
}
