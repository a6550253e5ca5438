//! Filling a pool up to its size from its template, in the background
//! refill after a hand-out (the top-level `refill` module). One filler per pool at a
//! time (a file lock); the lock is re-checked after release so that a
//! claim racing with the end of a fill is never left unreplaced.

use std::path::Path;

use crate::error::Result;
use crate::lock;
use crate::paths::Layout;

/// Fills the pool of `key` up to `size` entries from its template.
pub fn run(layout: &Layout, key: &str, size: usize) -> Result<()> {
    let template = layout.template(key);
    if !template.join("PG_VERSION").exists() || size == 0 {
        return Ok(());
    }
    crate::paths::mkdir_private(&layout.pool_root())?;
    let lock_path = layout.pool_lock(key);
    loop {
        let Some(guard) = lock::try_lock(&lock_path)? else {
            return Ok(()); // another refill is on it
        };
        fill(layout, key, &template, size)?;
        drop(guard);
        if super::count(layout, key) >= size {
            return Ok(());
        }
    }
}

fn fill(layout: &Layout, key: &str, template: &Path, size: usize) -> Result<()> {
    while super::count(layout, key) < size {
        super::add(layout, key, template)?;
    }
    Ok(())
}
