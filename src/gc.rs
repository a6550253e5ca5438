//! Garbage collection: what crashed processes left behind. Dead instances
//! (no process holds their lock), tokens of spares that died, copies in
//! progress whose copier died, pools and templates of other PostgreSQL
//! builds that nobody used lately, and fixture templates: after a day
//! unused, or ten minutes once a newer version of the same fixture was
//! used. With `all`, ready spares stop too.
//! Run by `pgtmp gc` and, quietly, by every background pool refill.

use std::collections::{HashMap, HashSet};
use std::fs;
use std::path::Path;
use std::time::{Duration, SystemTime};

use crate::error::Result;
use crate::fixture;
use crate::instance::meta::LOCK;
use crate::instance::{Meta, registry, stop};
use crate::lock;
use crate::paths::{self, Layout};
use crate::spare;

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

#[derive(Debug, Default)]
pub struct Summary {
    pub instances: usize,
    pub spares: usize,
    pub partial: usize,
    pub pool_entries: usize,
    pub templates: usize,
}

/// Collects garbage; `current` is the key in use (never aged out), `all`
/// also removes every pool and template not being written right now.
pub fn collect(layout: &Layout, current: Option<&str>, all: bool) -> Result<Summary> {
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
    sum.spares = spares(layout, all)?;
    let superseded = superseded_fixtures(layout);
    for (key, pool) in children(&layout.pool_root()) {
        if !pool.is_dir() {
            continue;
        }
        let Some(_guard) = lock::try_lock(&layout.pool_lock(&key))? else {
            continue; // a refill is writing it
        };
        let limit = template_limit(&key, &superseded).min(POOL_UNUSED);
        let stale = all || (Some(key.as_str()) != current && unused_for(layout, &key, limit));
        for (name, entry) in children(&pool) {
            if name.starts_with(".tmp-") {
                paths::remove_tree(&entry)?;
                sum.partial += 1;
            } else if stale {
                paths::remove_tree(&entry)?;
                sum.pool_entries += 1;
            }
        }
        if stale {
            let _ = fs::remove_dir(&pool);
            let _ = fs::remove_file(layout.pool_lock(&key));
        }
    }
    for (name, path) in children(&layout.templates()) {
        if let Some(rest) = name.strip_prefix(".tmp-") {
            let key = rest.rsplit_once('-').map(|(k, _)| k).unwrap_or(rest);
            if !lock::is_held(&layout.template_lock(key)) {
                paths::remove_tree(&path)?;
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
        let limit = template_limit(&name, &superseded);
        let old = Some(name.as_str()) != current && unused_for(layout, &name, limit);
        if (all || old) && !lock::is_held(&layout.template_lock(&name)) {
            paths::remove_tree(&path)?;
            let _ = fs::remove_file(layout.template_used(&name));
            let _ = fs::remove_file(layout.template_origin(&name));
            let _ = fs::remove_file(layout.template_lock(&name));
            sum.templates += 1;
        }
    }
    Ok(sum)
}

/// Removes the tokens of spares that are gone; with `all`, stops the
/// unclaimed ones (their supervisors retract their tokens). Returns how
/// many were stopped or swept.
fn spares(layout: &Layout, all: bool) -> Result<usize> {
    let mut n = 0;
    for (class, dir) in children(&layout.spare_root()) {
        if !dir.is_dir() {
            continue;
        }
        for (_, token) in children(&dir) {
            let Some(id) = spare::token_id(&token) else {
                continue;
            };
            let instance = layout.instance(id);
            if !registry::is_alive(&instance) {
                let _ = fs::remove_file(&token);
                n += 1;
            } else if all && spare::claimed_by(&instance).is_none() {
                stop::stop(&instance)?;
                n += 1;
            }
        }
        if all && !lock::is_held(&layout.spare_lock(&class)) && fs::remove_dir(&dir).is_ok() {
            let _ = fs::remove_file(layout.spare_demand(&class));
            let _ = fs::remove_file(layout.spare_lock(&class));
        }
    }
    Ok(n)
}

/// How long the template `key` may go unused.
fn template_limit(key: &str, superseded: &HashSet<String>) -> Duration {
    if superseded.contains(key) {
        SUPERSEDED_UNUSED
    } else if key.starts_with(fixture::KEY_PREFIX) {
        FIXTURE_UNUSED
    } else {
        TEMPLATE_UNUSED
    }
}

/// Fixture templates of which another one made from the same files and
/// options (the same origin) was used more recently: older versions of an
/// edited fixture.
fn superseded_fixtures(layout: &Layout) -> HashSet<String> {
    let mut latest: HashMap<String, (SystemTime, String)> = HashMap::new();
    let mut all = Vec::new();
    for (key, path) in children(&layout.templates()) {
        if !key.starts_with(fixture::KEY_PREFIX) || !path.is_dir() {
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
    if old && !layout.template(key).exists() && !lock::is_held(&layout.template_lock(key)) {
        let _ = fs::remove_file(path);
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

/// When the template `key` was last handed out (or else made).
fn last_used(layout: &Layout, key: &str) -> Option<SystemTime> {
    let used = layout.template_used(key);
    let probe = if used.exists() {
        used
    } else {
        layout.template(key)
    };
    fs::metadata(probe).and_then(|m| m.modified()).ok()
}
