//! Garbage collection: what crashed processes left behind. Dead instances
//! (no process holds their lock), copies in progress whose copier died, and
//! pools and templates of other PostgreSQL builds that nobody used lately.
//! Run by `pgtmp gc` and, quietly, by every background pool refill.

use std::fs;
use std::path::Path;
use std::time::Duration;

use crate::error::Result;
use crate::instance::meta::LOCK;
use crate::instance::{Meta, registry, stop};
use crate::lock;
use crate::paths::{self, Layout};

/// A pool of another key unused this long is emptied (tmpfs is memory).
const POOL_UNUSED: Duration = Duration::from_secs(60 * 60);
/// A template of another key unused this long is removed.
const TEMPLATE_UNUSED: Duration = Duration::from_secs(7 * 24 * 60 * 60);

#[derive(Debug, Default)]
pub struct Summary {
    pub instances: usize,
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
    for (key, pool) in children(&layout.pool_root()) {
        if !pool.is_dir() {
            continue;
        }
        let Some(_guard) = lock::try_lock(&layout.pool_lock(&key))? else {
            continue; // a refill is writing it
        };
        let stale = all || (Some(key.as_str()) != current && unused_for(layout, &key, POOL_UNUSED));
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
        if !path.is_dir() || name.starts_with('.') {
            continue;
        }
        let old = Some(name.as_str()) != current && unused_for(layout, &name, TEMPLATE_UNUSED);
        if (all || old) && !lock::is_held(&layout.template_lock(&name)) {
            paths::remove_tree(&path)?;
            let _ = fs::remove_file(layout.template_used(&name));
            let _ = fs::remove_file(layout.template_lock(&name));
            sum.templates += 1;
        }
    }
    Ok(sum)
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
    let used = layout.template_used(key);
    let probe = if used.exists() {
        used
    } else {
        layout.template(key)
    };
    fs::metadata(probe)
        .and_then(|m| m.modified())
        .map(|t| t.elapsed().unwrap_or_default() > age)
        .unwrap_or(true)
}
