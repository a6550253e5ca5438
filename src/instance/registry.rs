//! Finding instances on disk and telling the live from the dead. An instance
//! is alive while any of its processes (supervisor, postmaster, backends)
//! holds its `lock` file: the kernel releases it when the last one dies, so
//! this survives SIGKILL and pid reuse alike.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::meta::{LOCK, META, Meta, REPLACED_PREFIX, State, UNBORN_PREFIX};
use crate::error::Result;
use crate::json::ListEntry;
use crate::lock;
use crate::paths::Layout;
use crate::postmaster;

/// An instance directory being made (`.new-`) may not hold its lock yet;
/// leave it alone for this long before calling it dead.
const GRACE: Duration = Duration::from_secs(10);

/// Every instance directory, live or not.
pub fn scan(layout: &Layout) -> Vec<PathBuf> {
    let Ok(dir) = fs::read_dir(layout.run_dir()) else {
        return Vec::new();
    };
    let mut found: Vec<PathBuf> = dir
        .filter_map(|e| e.ok())
        .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
        .filter(|e| e.file_type().map(|t| t.is_dir()).unwrap_or(false))
        .map(|e| e.path())
        .collect();
    found.sort();
    found
}

/// Whether some process of the instance in `dir` is alive.
pub fn is_alive(dir: &Path) -> bool {
    lock::is_held(&dir.join(LOCK))
}

/// Whether `dir` is dead and not one being born: an instance directory is
/// renamed into place holding its lock (`NewInstance::create`), so a lock
/// file nobody holds says its processes are gone. Without one (made by an
/// older pgtmp, or half removed), allow a grace period.
pub fn is_abandoned(dir: &Path) -> bool {
    if is_alive(dir) {
        return false;
    }
    if dir.join(LOCK).exists() || dir.join(META).exists() {
        return true;
    }
    older_than_grace(dir)
}

/// Instance directories being made (`.new-<random>`) whose maker died
/// before renaming them into place, or replaced by a spare
/// (`.replaced-<random>`) whose supervisor died before removing them.
pub fn unborn(layout: &Layout) -> Vec<PathBuf> {
    let Ok(dir) = fs::read_dir(layout.run_dir()) else {
        return Vec::new();
    };
    dir.filter_map(|e| e.ok())
        .filter(|e| {
            let name = e.file_name();
            let name = name.to_string_lossy();
            name.starts_with(UNBORN_PREFIX) || name.starts_with(REPLACED_PREFIX)
        })
        .map(|e| e.path())
        .filter(|d| !is_alive(d) && older_than_grace(d))
        .collect()
}

/// Links in `run/` whose instance is gone: the names a reset gave to
/// other instances' directories (`reaper::swap`), left by an instance
/// killed before it could remove its own. A link to a live instance stays.
pub fn stale_links(layout: &Layout) -> Vec<PathBuf> {
    let Ok(dir) = fs::read_dir(layout.run_dir()) else {
        return Vec::new();
    };
    dir.filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_ok_and(|t| t.is_symlink()))
        .map(|e| e.path())
        .filter(|link| !is_alive(link))
        .collect()
}

/// The instance directory `path` in `run/` stands for: itself, or the
/// directory beside it that it links to when a reset made it a link
/// (`reaper::swap`: a plain name, relative). None for any other link.
pub fn resolve(path: &Path) -> Option<PathBuf> {
    let Ok(target) = fs::read_link(path) else {
        return Some(path.to_path_buf());
    };
    let mut parts = target.components();
    match (parts.next(), parts.next()) {
        (Some(std::path::Component::Normal(name)), None) => Some(path.with_file_name(name)),
        _ => None,
    }
}

/// Whether `link` is a link beside `dir` that leads to it, as a reset
/// leaves the name the URL of the instance in `dir` was handed out with.
pub fn links_to(link: &Path, dir: &Path) -> bool {
    link.parent() == dir.parent()
        && fs::read_link(link).is_ok_and(|t| Some(t.as_os_str()) == dir.file_name())
}

fn older_than_grace(dir: &Path) -> bool {
    fs::metadata(dir)
        .and_then(|m| m.modified())
        .map(|t| t.elapsed().unwrap_or_default() > GRACE)
        .unwrap_or(true)
}

/// The live instances with their metadata, skipping those still starting
/// and, unless `stopping` is true, those already shutting down.
pub fn live(layout: &Layout, stopping: bool) -> Vec<(PathBuf, Meta)> {
    scan(layout)
        .into_iter()
        .filter(|d| is_alive(d))
        .filter(|d| stopping || !State::read(d).is_some_and(|s| s.stopping))
        .filter_map(|d| Meta::read(&d).ok().map(|m| (d, m)))
        .filter(|(_, m)| !m.url.is_empty())
        .collect()
}

/// The live instances (or, with `spares`, the unclaimed spares) as `list`
/// shows them.
pub fn entries(layout: &Layout, spares: bool) -> Vec<ListEntry> {
    live(layout, false)
        .into_iter()
        .filter(|(_, m)| m.spare.is_some() == spares)
        .map(|(dir, m)| entry(dir, &m))
        .collect()
}

fn entry(dir: PathBuf, m: &Meta) -> ListEntry {
    let state = State::read(&dir).unwrap_or_default();
    let now_ms = super::meta::now_ms();
    let at = m.address();
    let shared_tx = m.shared_tx.as_ref().map(|_| {
        crate::proxy::status::read(&dir.join(super::meta::PROXY_STATUS)).unwrap_or_default()
    });
    ListEntry {
        url: m.url.clone(),
        pid: postmaster::pid(&m.primary.data_dir),
        supervisor_pid: m.supervisor_pid,
        port: at.port,
        tcp: at.tcp,
        started: m.started,
        age_secs: (now_ms / 1000).saturating_sub(m.started),
        idle_secs: state
            .idle_since_ms
            .map(|since| now_ms.saturating_sub(since) / 1000),
        clients: state.clients,
        dir,
        data_dir: m.primary.data_dir.clone(),
        keep: m.keep,
        nodes: m.nodes(),
        timeout_secs: m.timeout_ms / 1000,
        spare: m.spare.is_some(),
        shared_tx,
    }
}

/// The server still running on `data_dir`, if any: the pid in line 1 of
/// `postmaster.pid` (negated by a single-user `postgres`), provided that
/// process runs and works in `data_dir`, as every postgres does. A pid
/// reused by some other process does not count. An error where the
/// platform cannot tell a process's working directory.
pub fn server_in(data_dir: &Path) -> Result<Option<u32>> {
    let Some(pid) = crate::postmaster::PidFile::read(data_dir).map(|f| f.pid) else {
        return Ok(None);
    };
    let Some(cwd) = crate::platform::cwd(pid)? else {
        return Ok(None);
    };
    let here = data_dir.canonicalize().is_ok_and(|dir| dir == cwd);
    Ok((here && crate::process::running(pid)).then_some(pid))
}
