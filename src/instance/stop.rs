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
/// `keep` (`stop -k`): keep them even if the instance was not to.
pub fn stop(dir: &Path, keep: bool) -> Result<Vec<PathBuf>> {
    let mut meta = match Meta::read(dir) {
        Ok(meta) => meta,
        // Its supervisor is removing it (the idle timeout came first): an
        // instance that is gone is stopped. Let the removal finish.
        Err(_) if !dir.join(super::meta::META).exists() => {
            process::wait_until(GONE_WAIT, || !registry::is_alive(dir));
            return Ok(Vec::new());
        }
        Err(e) => return Err(e),
    };
    if keep && !meta.keep {
        // The supervisor reads it again before it shuts the server down.
        meta.keep = true;
        meta.write(dir)?;
    }
    if registry::is_alive(dir) {
        // A reset may put a spare in the instance's place meanwhile: its
        // supervisor is then the one to ask (`reaper::swap`).
        let current = std::cell::RefCell::new(meta);
        let stopped = process::escalate(
            &STEPS,
            |sig| match sig {
                Signal::SIGTERM => ask_to_stop(&current.borrow()),
                sig => signal_all(&current.borrow(), sig),
            },
            || {
                if let Ok(now) = Meta::read(dir)
                    && now.supervisor_pid != current.borrow().supervisor_pid
                {
                    ask_to_stop(&now);
                    *current.borrow_mut() = now;
                }
                !registry::is_alive(dir)
            },
        );
        meta = current.into_inner();
        if !stopped {
            return Err(Error::NotStopped(dir.to_path_buf()));
        }
        // What the last supervisor left says what there is to remove.
        if let Ok(last) = Meta::read(dir) {
            meta = last;
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
        _ => stop(dir, false).map(drop),
    }
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
/// directory of the user's is never touched; one that `pgtmp initdb` made
/// lives beside the instance and goes with it unless kept. A server that
/// was killed rather than stopped also leaves shared memory to release.
pub fn remove(dir: &Path, meta: &Meta) -> Result<Vec<PathBuf>> {
    // Named by the link a reset made (a `stop` begun before it): the
    // instance is the directory it points to. Any other link goes alone.
    let dir = &registry::resolve(dir).unwrap_or_else(|| dir.to_path_buf());
    remove_alias(dir, meta);
    for (_, server) in meta.servers() {
        super::shmem::release(&server.data_dir);
        if server.socket_dir_separate {
            paths::remove_tree(&server.socket_dir)?;
        }
    }
    let primary = &meta.primary;
    let beside = !primary.user_data_dir && !primary.data_dir.starts_with(dir);
    if meta.keep && !primary.user_data_dir {
        if beside {
            // A single server (`-d` excludes sets): only its data is kept.
            paths::remove_tree(dir)?;
        } else {
            let _ = std::fs::remove_file(dir.join(super::meta::STATE));
            if let Some(control) = &meta.control {
                let _ = std::fs::remove_file(control);
            }
        }
        return Ok(meta.servers().map(|(_, s)| s.data_dir.clone()).collect());
    }
    if beside && made_by_initdb(dir, &primary.data_dir) {
        paths::remove_tree(&primary.data_dir)?;
    }
    paths::remove_tree(dir)?;
    Ok(primary
        .user_data_dir
        .then(|| primary.data_dir.clone())
        .into_iter()
        .collect())
}

/// Removes the link by which the instance's URL names `dir` after a reset
/// (`Meta::alias`), provided it is a link beside `dir` still pointing to
/// it: never anything else found at that name.
pub fn remove_alias(dir: &Path, meta: &Meta) {
    if let Some(alias) = &meta.alias
        && registry::links_to(alias, dir)
    {
        let _ = std::fs::remove_file(alias);
    }
}

/// Whether `data` is an entry of `initdb/` in the base of the instance
/// directory `dir` (`BASE/run/ID`): only those are deleted from outside it.
fn made_by_initdb(dir: &Path, data: &Path) -> bool {
    let base = dir.parent().and_then(Path::parent);
    base.is_some_and(|b| paths::Layout::new(b.to_path_buf()).place(data) == paths::Place::Initdb)
}
