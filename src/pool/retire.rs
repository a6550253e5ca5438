//! The end of a template: when it was last used (its `KEY.used` file, touched
//! by every hand-out, reset and snapshot taken), and removing it with its
//! pool, for gc and for `snapshot --delete`.

use std::fs;
use std::time::SystemTime;

use crate::error::Result;
use crate::lock;
use crate::paths::{self, Layout};

/// When the template `key` was last handed out (or else made).
pub fn last_used(layout: &Layout, key: &str) -> Option<SystemTime> {
    let used = layout.template_used(key);
    let probe = if used.exists() {
        used
    } else {
        layout.template(key)
    };
    fs::metadata(probe).and_then(|m| m.modified()).ok()
}

/// Removes the template `key` and its pool, unless one is being written
/// or copied.
pub fn remove_template(layout: &Layout, key: &str) -> Result<()> {
    let pool = layout.pool(key);
    if pool.is_dir()
        && let Some(guard) = lock::try_lock(&layout.pool_lock(key))?
    {
        paths::remove_tree(&pool)?;
        lock::remove(&layout.pool_lock(key), &guard);
    }
    // Held shared by whoever copies it, exclusively by a builder.
    if let Some(guard) = lock::try_lock(&layout.template_lock(key))? {
        remove_template_dir(layout, key, &guard)?;
    }
    Ok(())
}

/// The template directory `key` and the files beside it; `held` is its
/// lock, taken exclusively.
pub fn remove_template_dir(layout: &Layout, key: &str, held: &fs::File) -> Result<()> {
    paths::remove_tree(&layout.template(key))?;
    let _ = fs::remove_file(layout.template_used(key));
    let _ = fs::remove_file(layout.template_origin(key));
    lock::remove(&layout.template_lock(key), held);
    Ok(())
}
