//! The supervisor: one detached process per instance (`pgtmp __supervise
//! DIR`), started by `pgtmp start` in its own session with its stdio in
//! `supervise.log`. It is the parent of the instance's postmasters (one per
//! server, see `fleet`), so each gets SIGQUIT (PR_SET_PDEATHSIG) if the
//! supervisor is killed; it reports readiness to the starter through a
//! pipe, watches client connections at the instance's endpoint, and after
//! the idle timeout shuts the servers down and deletes the directory only
//! once every postmaster has exited.
//!
//! Why re-execute the binary rather than fork with the `daemonize` crate:
//! the starter must keep running after the fork (to wait for readiness and
//! print the URL), and a fork of a process that may hold library state is
//! fragile; a fresh exec starts clean, single-threaded, with exactly the
//! descriptors we pass (fd 3: the instance lock, fd 4: the readiness pipe,
//! fd 5: the acknowledgement that the URL was printed).

mod bring_up;
mod control;
mod fleet;
mod orders;
mod proxy;
mod signals;
mod spare;
mod swap;
mod watch;

use std::fs::File;
use std::io::Write;
use std::os::fd::FromRawFd;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::error::{Error, Result};
use crate::instance::handshake::{ACK, ACK_FD, READY_FD, Report};
use crate::instance::{Meta, State, meta, stop};
use crate::process;
use control::Control;
use fleet::Fleet;
use signals::StopSignals;

/// How long the starter may take to print the URL once told it.
pub(crate) const ACK_TIMEOUT: Duration = Duration::from_secs(30);

/// How long a server may take to accept connections.
pub const START_TIMEOUT: Duration = Duration::from_secs(60);

/// Runs the supervisor for the instance in `dir` until its servers are gone.
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
    let mut fleet = match bring_up::bring_up(dir, &mut meta, &stop_signals) {
        Ok(fleet) => fleet,
        Err(e) => {
            let _ = send(&mut ready, &bring_up::failure(dir, &e));
            return Err(e);
        }
    };
    // Bound before the URL goes out, so that a `reset` right after the
    // hand-out finds it.
    let control = match Control::bind(&meta) {
        Ok(control) => control,
        Err(e) => {
            let _ = send(&mut ready, &bring_up::failure(dir, &e));
            fleet.shut_down(meta.keeps_data());
            return Err(e);
        }
    };
    let watched = Watched {
        dir,
        control: control.as_ref(),
        stop: &stop_signals,
    };
    let why = match serve(&watched, &mut meta, &mut fleet, ready, ack) {
        End::Stop(why) => why,
        End::Replaced(old) => {
            // A spare serves the instance's URL now; this supervisor's
            // directory, its control socket among it, was moved aside.
            log("a spare took the instance's place (reset)");
            if let Some(control) = control {
                control.disown();
            }
            // Its frozen server killed and reaped, then its shared memory
            // and directory removed: work nobody waits for.
            process::be_nice();
            drop(fleet);
            swap::clean_up(&old);
            return Ok(());
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
    fleet.shut_down(meta.keeps_data());
    let kept = stop::remove(dir, &meta)?;
    if kept.is_empty() {
        log("removed");
    }
    for dir in kept {
        log(&format!("data directory kept: {}", dir.display()));
    }
    Ok(())
}

/// What the supervisor watches an instance with.
#[derive(Debug)]
pub(crate) struct Watched<'a> {
    pub dir: &'a Path,
    pub control: Option<&'a Control>,
    pub stop: &'a StopSignals,
}

/// How serving an instance ended.
#[derive(Debug)]
enum End {
    /// It is to stop, for this reason.
    Stop(String),
    /// A spare took its place (`reset`): what was moved aside.
    Replaced(PathBuf),
}

/// Reports the servers ready, hands the instance over (to the starter, or
/// to whoever claims the spare) and watches it; says how that ended.
fn serve(watched: &Watched, meta: &mut Meta, fleet: &mut Fleet, mut ready: File, ack: File) -> End {
    let (dir, stop_signals) = (watched.dir, watched.stop);
    let report = Report::Ready {
        url: meta.url.clone(),
    };
    let Some(token) = meta.spare.clone() else {
        // If the starter is gone (killed while waiting, or its stdout
        // closed), nobody has the URL: stop at once rather than after the
        // idle timeout, or never with -w 0.
        let delivered = send(&mut ready, &report) && acknowledged(ack, ACK_TIMEOUT);
        drop(ready);
        return if delivered {
            watch(watched, meta, fleet)
        } else {
            End::Stop("nobody received the URL".to_string())
        };
    };
    // Nobody waits for a spare's URL: callers find it by its token.
    let published = crate::spare::publish(&token);
    let _ = send(&mut ready, &report);
    drop(ready);
    drop(ack);
    if let Err(e) = published {
        return End::Stop(format!("cannot publish the spare: {e}"));
    }
    log("spare ready");
    match spare::serve(dir, meta, &token, fleet, stop_signals) {
        spare::Outcome::Delivered => watch(watched, meta, fleet),
        spare::Outcome::Stop(why) => End::Stop(why),
    }
}

/// Watches a delivered instance until it is to stop; says how that ended.
fn watch(watched: &Watched, meta: &mut Meta, fleet: &mut Fleet) -> End {
    log(&format!("ready: {}", meta.urls().join(" ")));
    match watch::until_done(watched, meta, fleet) {
        watch::Done::Replaced(old) => End::Replaced(old),
        done => End::Stop(done.to_string()),
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

/// A line in `supervise.log`.
pub(crate) fn log(msg: &str) {
    crate::say!("{} pgtmp[{}]: {msg}", meta::now_secs(), std::process::id());
}
