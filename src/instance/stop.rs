//! Stopping an instance from outside (`pgtmp stop`, `gc`) and removing what
//! it leaves. The supervisor does the same on its own when idle; this path
//! also copes with a supervisor that was killed.

use std::path::{Path, PathBuf};
use std::time::Duration;

use nix::sys::signal::Signal;

use super::meta::Meta;
use super::registry;
use crate::error::{Error, Result};
use crate::paths;
use crate::postmaster;
use crate::process;

/// How long to wait for an instance that is removing itself.
const GONE_WAIT: Duration = Duration::from_secs(10);

/// Asking first (SIGTERM to the supervisor, which shuts its servers down
/// and cleans up), then SIGQUIT and SIGKILL to every process left, each
/// step waiting for the instance's lock to be free.
const STEPS: [(Signal, Duration); 3] = [
    (Signal::SIGTERM, Duration::from_secs(10)),
    (Signal::SIGQUIT, Duration::from_secs(5)),
    (Signal::SIGKILL, Duration::from_secs(5)),
];

/// Stops the instance in `dir`; returns the data directories it keeps.
pub fn stop(dir: &Path) -> Result<Vec<PathBuf>> {
    let meta = match Meta::read(dir) {
        Ok(meta) => meta,
        // Its supervisor is removing it (the idle timeout came first): an
        // instance that is gone is stopped. Let the removal finish.
        Err(_) if !dir.join(super::meta::META).exists() => {
            process::wait_until(GONE_WAIT, || !registry::is_alive(dir));
            return Ok(Vec::new());
        }
        Err(e) => return Err(e),
    };
    if registry::is_alive(dir) {
        let stopped = process::escalate(
            &STEPS,
            |sig| match sig {
                Signal::SIGTERM => ask_to_stop(&meta),
                sig => signal_all(&meta, sig),
            },
            || !registry::is_alive(dir),
        );
        if !stopped {
            return Err(Error::NotStopped(dir.to_path_buf()));
        }
    }
    remove(dir, &meta)
}

/// SIGTERM to the supervisor, which shuts the servers down and cleans up;
/// without a supervisor, a fast shutdown (SIGINT) of each postmaster.
fn ask_to_stop(meta: &Meta) {
    match supervisor(meta) {
        Some(pid) => process::signal(pid, Signal::SIGTERM),
        None => {
            for (_, server) in meta.servers() {
                postmaster::signal_orphan(&server.data_dir, Signal::SIGINT);
            }
        }
    }
}

fn signal_all(meta: &Meta, sig: Signal) {
    for (_, server) in meta.servers() {
        postmaster::signal_orphan(&server.data_dir, sig);
    }
    if let Some(pid) = supervisor(meta) {
        process::signal(pid, sig);
    }
}

/// The supervisor's pid, if that process still is the supervisor.
fn supervisor(meta: &Meta) -> Option<u32> {
    let pid = meta.supervisor_pid?;
    (process::start_time(pid).ok().flatten() == meta.supervisor_start).then_some(pid)
}

/// Removes a stopped instance: everything, or all but the kept data
/// directories (`-k`: every server's), which it returns. A `-d` data
/// directory lives outside and is never touched. A server that was killed
/// rather than stopped also leaves shared memory to release.
pub fn remove(dir: &Path, meta: &Meta) -> Result<Vec<PathBuf>> {
    for (_, server) in meta.servers() {
        super::shmem::release(&server.data_dir);
        if server.socket_dir_separate {
            paths::remove_tree(&server.socket_dir)?;
        }
    }
    let primary = &meta.primary;
    if meta.keep && !primary.user_data_dir {
        let _ = std::fs::remove_file(dir.join(super::meta::STATE));
        if let Some(control) = &meta.control {
            let _ = std::fs::remove_file(control);
        }
        return Ok(meta.servers().map(|(_, s)| s.data_dir.clone()).collect());
    }
    paths::remove_tree(dir)?;
    Ok(primary
        .user_data_dir
        .then(|| primary.data_dir.clone())
        .into_iter()
        .collect())
}
