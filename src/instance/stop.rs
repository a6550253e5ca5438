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
use crate::process;

/// Stops the instance in `dir`; returns the data directory when it is kept.
pub fn stop(dir: &Path) -> Result<Option<PathBuf>> {
    let meta = Meta::read(dir)?;
    if registry::is_alive(dir) {
        ask_to_stop(&meta);
        // Fast shutdown normally takes milliseconds; escalate if it hangs.
        let steps = [
            (Duration::from_secs(10), Some(Signal::SIGQUIT)),
            (Duration::from_secs(5), Some(Signal::SIGKILL)),
            (Duration::from_secs(5), None),
        ];
        for (wait, next) in steps {
            if process::wait_until(wait, || !registry::is_alive(dir)) {
                break;
            }
            match next {
                Some(sig) => signal_all(&meta, sig),
                None => {
                    return Err(Error::other(format!(
                        "the instance in {} did not stop",
                        dir.display()
                    )));
                }
            }
        }
    }
    remove(dir, &meta)
}

/// Asks the instance in `dir` to stop and returns at once: its supervisor
/// shuts the server down and removes what it leaves (`prove`, whose user
/// has the summary and need not wait for that). Without a supervisor, it
/// is stopped here and now.
pub fn request(dir: &Path) -> Result<()> {
    let meta = Meta::read(dir)?;
    match supervisor(&meta) {
        Some(pid) if registry::is_alive(dir) => {
            process::signal(pid, Signal::SIGTERM);
            Ok(())
        }
        _ => stop(dir).map(drop),
    }
}

/// SIGTERM to the supervisor, which shuts the server down and cleans up;
/// without a supervisor, SIGINT (fast shutdown) to the postmaster.
fn ask_to_stop(meta: &Meta) {
    match supervisor(meta) {
        Some(pid) => process::signal(pid, Signal::SIGTERM),
        None => {
            if let Some(pid) = registry::postmaster_pid(&meta.data_dir) {
                process::signal(pid, Signal::SIGINT);
            }
        }
    }
}

fn signal_all(meta: &Meta, sig: Signal) {
    if let Some(pid) = registry::postmaster_pid(&meta.data_dir) {
        process::signal(pid, sig);
    }
    if let Some(pid) = supervisor(meta) {
        process::signal(pid, sig);
    }
}

/// The supervisor's pid, if that process still is the supervisor.
fn supervisor(meta: &Meta) -> Option<u32> {
    let pid = meta.supervisor_pid?;
    (process::start_time(pid) == meta.supervisor_start).then_some(pid)
}

/// Removes a stopped instance: everything, or all but a kept data directory.
/// A `-d` data directory lives outside and is never touched. A server that
/// was killed rather than stopped also leaves shared memory to release.
pub fn remove(dir: &Path, meta: &Meta) -> Result<Option<PathBuf>> {
    super::shmem::release(&meta.data_dir);
    if meta.socket_dir_separate {
        paths::remove_tree(&meta.socket_dir)?;
    }
    if meta.keep && !meta.user_data_dir {
        let _ = std::fs::remove_file(dir.join(super::meta::STATE));
        return Ok(Some(meta.data_dir.clone()));
    }
    paths::remove_tree(dir)?;
    Ok(meta.user_data_dir.then(|| meta.data_dir.clone()))
}
