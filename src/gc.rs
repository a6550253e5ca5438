//! Garbage collection: what crashed processes left behind. Dead instances
//! (no process holds their lock), tokens of spares that died, copies in
//! progress whose copier died (also those of `pgtmp initdb`), pools and
//! templates of other PostgreSQL builds that nobody used lately, and
//! fixture and setup templates: after a day unused, or ten minutes once a
//! newer version of the same fixture was used. With `all`, ready spares
//! stop too; `make_room` (a hand-out on a full filesystem) also removes
//! what was copied ahead for other templates. Snapshots stay, even with
//! `all`, until unused for `snapshot::UNUSED`; a template that a running
//! instance was handed out from stays while it runs (`reset` needs it),
//! unless `all` says otherwise.
//! Run by `pgtmp gc` and, quietly, by every background pool refill.

use std::collections::{HashMap, HashSet};
use std::fs;
use std::path::Path;
use std::time::{Duration, SystemTime};

use nix::sys::signal::Signal;

use crate::error::Result;
use crate::instance::meta::LOCK;
use crate::instance::{Meta, registry, shmem, stop};
use crate::lock;
use crate::paths::{self, Layout};
use crate::pool::retire::{self, last_used};
use crate::process;
use crate::spare;
use crate::{fixture, setup, snapshot};

/// A pool of another key unused this long is emptied (tmpfs is memory).
const POOL_UNUSED: Duration = Duration::from_secs(60 * 60);
/// A template of another key unused this long is removed.
const TEMPLATE_UNUSED: Duration = Duration::from_secs(7 * 24 * 60 * 60);
/// A fixture template (`-f`, `-x`, `--now`) unused this long is removed:
/// every edit of a fixture makes a new one, and tmpfs is memory.
const FIXTURE_UNUSED: Duration = Duration::from_secs(24 * 60 * 60);
/// ... and this long once a newer one made from the same files was used.
const SUPERSEDED_UNUSED: Duration = Duration::from_secs(10 * 60);
/// Lock and marker files without a template, older than this, are removed.
const ORPHAN_AGE: Duration = Duration::from_secs(60 * 60);
/// A pool entry taken out of the pool to be removed (a dot-name, which
/// claims skip).
const GC_PREFIX: &str = ".gc-";
/// How long an orphaned server on a half-built template may take to stop.
const ORPHAN_STOP: Duration = Duration::from_secs(10);

#[derive(Debug, Default)]
pub struct Summary {
    pub instances: usize,
    pub spares: usize,
    pub partial: usize,
    pub pool_entries: usize,
    pub templates: usize,
}

/// How far a collection goes beyond what crashed processes left.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Extent {
    /// Garbage, and what aged out.
    Garbage,
    /// Also the copies made ahead of demand (pool entries, unclaimed
    /// spares) for templates other than the current one.
    Speculative,
    /// Also every spare, pool and template not in use right now.
    All,
}

/// Collects garbage; `current` is the key in use (never aged out), `all`
/// also removes every pool and template not being written right now.
pub fn collect(layout: &Layout, current: Option<&str>, all: bool) -> Result<Summary> {
    let extent = if all { Extent::All } else { Extent::Garbage };
    sweep(layout, current, extent)
}

/// Makes room on a full filesystem for a hand-out of the template `key`:
/// collects garbage, and removes the copies made ahead of demand for other
/// templates (their pool entries and unclaimed spares). The templates
/// themselves stay: they cost an initdb or a fixture load to make again.
pub fn make_room(layout: &Layout, key: &str) -> Result<Summary> {
    sweep(layout, Some(key), Extent::Speculative)
}

fn sweep(layout: &Layout, current: Option<&str>, extent: Extent) -> Result<Summary> {
    let all = extent == Extent::All;
    // One collector at a time: one that finds what another is removing
    // locked would leave it, and return before it is gone.
    let _one = lock::lock(&layout.gc_lock())?;
    let mut sum = Summary::default();
    for dir in registry::scan(layout) {
        if !registry::is_abandoned(&dir) {
            continue;
        }
        // Hold the lock while removing: two collectors never race on one.
        let Ok(Some(_guard)) = lock::try_lock(&dir.join(LOCK)) else {
            continue;
        };
        match Meta::read(&dir) {
            // Kept data stays; what else a killed instance held (a socket
            // directory under /tmp, shared memory) goes.
            Ok(meta) if meta.keep => {
                stop::remove(&dir, &meta)?;
                continue;
            }
            Ok(meta) => {
                stop::remove(&dir, &meta)?;
            }
            // Died before its metadata was written: nothing else to find.
            Err(_) => paths::remove_tree(&dir)?,
        }
        sum.instances += 1;
    }
    // Makers of instance directories killed before renaming them in.
    for dir in registry::unborn(layout) {
        if let Ok(Some(_guard)) = lock::try_lock(&dir.join(LOCK)) {
            paths::remove_tree(&dir)?;
        }
    }
    for link in registry::stale_links(layout) {
        let _ = fs::remove_file(link);
    }
    sum.spares = spares(layout, current, extent)?;
    sum.partial += initdb_copies(layout)?;
    let superseded = superseded_fixtures(layout);
    let kept = kept_templates(layout);
    for (key, pool) in children(&layout.pool_root()) {
        if !pool.is_dir() {
            continue;
        }
        let Some(guard) = lock::try_lock(&layout.pool_lock(&key))? else {
            continue; // a refill is writing it
        };
        let limit = template_limit(&key, &superseded, &kept).min(POOL_UNUSED);
        let other = Some(key.as_str()) != current;
        let stale = all
            || (other && extent == Extent::Speculative)
            || (other && unused_for(layout, &key, limit));
        for (name, entry) in children(&pool) {
            if name.starts_with(".tmp-") || name.starts_with(GC_PREFIX) {
                paths::remove_tree(&entry)?;
                sum.partial += 1;
            } else if stale && take_entry(&pool, &name)? {
                sum.pool_entries += 1;
            }
        }
        if stale {
            let _ = fs::remove_dir(&pool);
            lock::remove(&layout.pool_lock(&key), &guard);
        }
    }
    for (name, path) in children(&layout.templates()) {
        if let Some(rest) = name.strip_prefix(".tmp-") {
            // Its builder holds the template lock while it writes there.
            let key = rest.rsplit_once('-').map(|(k, _)| k).unwrap_or(rest);
            // A killed builder may have left its loading server running.
            if let Some(_guard) = lock::try_lock(&layout.template_lock(key))?
                && remove_partial(&path)?
            {
                sum.partial += 1;
            }
            continue;
        }
        if name.starts_with('.') {
            continue;
        }
        if !path.is_dir() {
            remove_orphan(layout, &name, &path);
            continue;
        }
        let limit = template_limit(&name, &superseded, &kept);
        let old = Some(name.as_str()) != current && unused_for(layout, &name, limit);
        // `--all` means every template but the snapshots, which are named.
        let all = all && !kept.snapshots.contains(&name);
        if !(all || old) {
            continue;
        }
        // Held shared by whoever copies it, exclusively by a builder.
        if let Some(guard) = lock::try_lock(&layout.template_lock(&name))? {
            retire::remove_template_dir(layout, &name, &guard)?;
            sum.templates += 1;
        }
    }
    snapshot::prune(layout);
    Ok(sum)
}

/// Removes the tokens of spares that are gone; with `Extent::All`, stops
/// the unclaimed ones, with `Extent::Speculative` those of other templates
/// than `current`. Returns how many were stopped or swept.
fn spares(layout: &Layout, current: Option<&str>, extent: Extent) -> Result<usize> {
    let all = extent == Extent::All;
    let mut n = 0;
    for (class, dir) in children(&layout.spare_root()) {
        if !dir.is_dir() {
            continue;
        }
        let ours = current.is_some_and(|key| spare::of_key(&class, key));
        let stop_unclaimed = all || (extent == Extent::Speculative && !ours);
        for (_, token) in children(&dir) {
            let Some(id) = spare::token_id(&token) else {
                continue;
            };
            let instance = layout.instance(id);
            if !registry::is_alive(&instance) {
                let _ = fs::remove_file(&token);
                n += 1;
            } else if stop_unclaimed && fs::remove_file(&token).is_ok() {
                // Its token withdrawn first, as its supervisor would at
                // its timeout: a caller claims it, or we stop it, never
                // both.
                stop::stop(&instance, false)?;
                n += 1;
            }
        }
        let lock_path = layout.spare_lock(&class);
        if all
            && let Some(guard) = lock::try_lock(&lock_path)?
            && fs::remove_dir(&dir).is_ok()
        {
            let _ = fs::remove_file(layout.spare_demand(&class));
            lock::remove(&lock_path, &guard);
        }
    }
    Ok(n)
}

/// Copies into `initdb/` that a killed `pgtmp initdb` left half-made
/// (`.tmp-` names; the finished directories are the user's until `stop -d`
/// or their instance's end), once older than any copy takes.
fn initdb_copies(layout: &Layout) -> Result<usize> {
    let mut n = 0;
    for (name, path) in children(&layout.initdb_dir()) {
        let old = fs::symlink_metadata(&path)
            .and_then(|m| m.modified())
            .is_ok_and(|t| t.elapsed().unwrap_or_default() > ORPHAN_AGE);
        if name.starts_with(".tmp-") && old {
            paths::remove_tree(&path)?;
            n += 1;
        }
    }
    Ok(n)
}

/// Removes a template being built whose builder died (its lock is free).
/// A server may still run on it: a loading server or the single-user
/// `postgres` that outlived a killed pgtmp. Nobody will use it, so it gets
/// an immediate shutdown first; the directory is removed only once it is
/// gone (false: still running, left for the next gc), and after the shared
/// memory a killed server leaves is released.
fn remove_partial(dir: &Path) -> Result<bool> {
    if let Some(pid) = registry::server_in(dir)? {
        process::signal(pid, Signal::SIGQUIT);
        if !process::wait_until(ORPHAN_STOP, || !process::running(pid)) {
            return Ok(false);
        }
    }
    shmem::release(dir);
    paths::remove_tree(dir)?;
    Ok(true)
}

/// How long the template `key` may go unused.
fn template_limit(key: &str, superseded: &HashSet<String>, kept: &Kept) -> Duration {
    if kept.in_use.contains(key) {
        Duration::MAX
    } else if kept.snapshots.contains(key) {
        snapshot::UNUSED
    } else if superseded.contains(key) || key.starts_with(snapshot::KEY_PREFIX) {
        SUPERSEDED_UNUSED
    } else if is_derived(key) {
        FIXTURE_UNUSED
    } else {
        TEMPLATE_UNUSED
    }
}

/// Whether `key` is a template made from another (`-f`, `--setup`).
fn is_derived(key: &str) -> bool {
    key.starts_with(fixture::KEY_PREFIX) || key.starts_with(setup::KEY_PREFIX)
}

/// Templates that age by other rules: those a running instance was handed
/// out from stay while it runs (`reset` copies them again; only `--all`
/// removes them), and those a snapshot record names stay for
/// `snapshot::UNUSED` (even with `--all`).
#[derive(Debug, Default)]
struct Kept {
    in_use: HashSet<String>,
    snapshots: HashSet<String>,
}

fn kept_templates(layout: &Layout) -> Kept {
    Kept {
        // Not the spares nobody claimed: they were made ahead, and go.
        in_use: registry::live(layout, true)
            .into_iter()
            .filter(|(_, meta)| meta.spare.is_none())
            .filter_map(|(_, meta)| meta.template)
            .collect(),
        snapshots: snapshot::records(layout)
            .into_iter()
            .map(|r| r.key)
            .collect(),
    }
}

/// Fixture and setup templates of which another one made from the same
/// files, commands and options (the same origin) was used more recently:
/// older versions of an edited fixture or `--key`.
fn superseded_fixtures(layout: &Layout) -> HashSet<String> {
    let mut latest: HashMap<String, (SystemTime, String)> = HashMap::new();
    let mut all = Vec::new();
    for (key, path) in children(&layout.templates()) {
        if !is_derived(&key) || !path.is_dir() {
            continue;
        }
        let Ok(origin) = fs::read_to_string(layout.template_origin(&key)) else {
            continue;
        };
        let used = last_used(layout, &key).unwrap_or(SystemTime::UNIX_EPOCH);
        let newest = latest.entry(origin.clone()).or_insert((used, key.clone()));
        if used > newest.0 {
            *newest = (used, key.clone());
        }
        all.push((key, origin));
    }
    all.into_iter()
        .filter(|(key, origin)| latest.get(origin).is_some_and(|(_, k)| k != key))
        .map(|(key, _)| key)
        .collect()
}

/// A `KEY.lock`, `.used` or `.origin` file whose template is gone (a build
/// that failed leaves its lock file), once nobody holds it for an hour.
fn remove_orphan(layout: &Layout, name: &str, path: &Path) {
    let Some((key, _)) = name.rsplit_once('.') else {
        return;
    };
    let old = fs::metadata(path)
        .and_then(|m| m.modified())
        .is_ok_and(|t| t.elapsed().unwrap_or_default() > ORPHAN_AGE);
    if !old || layout.template(key).exists() {
        return;
    }
    let lock_path = layout.template_lock(key);
    if let Ok(Some(guard)) = lock::try_lock(&lock_path)
        && !layout.template(key).exists()
    {
        if *path == lock_path {
            lock::remove(&lock_path, &guard);
        } else {
            let _ = fs::remove_file(path);
        }
    }
}

/// Moves a pool entry out of the claimers' reach (a rename, which only one
/// of them or we can win), then removes it; false when a claimer won.
fn take_entry(pool: &Path, name: &str) -> Result<bool> {
    let taken = pool.join(format!("{GC_PREFIX}{name}"));
    match fs::rename(pool.join(name), &taken) {
        Ok(()) => {
            paths::remove_tree(&taken)?;
            Ok(true)
        }
        Err(_) => Ok(false),
    }
}

fn children(dir: &Path) -> Vec<(String, std::path::PathBuf)> {
    let Ok(rd) = fs::read_dir(dir) else {
        return Vec::new();
    };
    rd.filter_map(|e| e.ok())
        .map(|e| (e.file_name().to_string_lossy().into_owned(), e.path()))
        .collect()
}

/// Whether the template `key` was last handed out longer ago than `age`.
fn unused_for(layout: &Layout, key: &str, age: Duration) -> bool {
    last_used(layout, key)
        .map(|t| t.elapsed().unwrap_or_default() > age)
        .unwrap_or(true)
}
