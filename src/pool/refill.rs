//! Filling a pool up to its size from its template, in the background
//! refill after a hand-out (the top-level `refill` module). One filler per pool at a
//! time (a file lock); the lock is re-checked after release so that a
//! claim racing with the end of a fill is never left unreplaced.

use std::path::Path;

use super::budget::Budget;
use crate::error::Result;
use crate::lock;
use crate::paths::Layout;

/// Fills the pool of `key` up to `size` entries from its template.
pub fn run(layout: &Layout, key: &str, size: usize) -> Result<()> {
    if size == 0 {
        return Ok(());
    }
    // Held for reading while copies are made: `gc` leaves it alone.
    let Some(template) = super::template::hold(layout, key)? else {
        return Ok(());
    };
    crate::paths::mkdir_private(&layout.pool_root())?;
    let lock_path = layout.pool_lock(key);
    loop {
        let Some(guard) = lock::try_lock(&lock_path)? else {
            return Ok(()); // another refill is on it
        };
        let complete = fill(layout, key, template.path(), size)?;
        drop(guard);
        if !complete || super::count(layout, key) >= size {
            return Ok(());
        }
    }
}

/// Adds entries up to `size` while the budget allows; false when it
/// stopped short.
fn fill(layout: &Layout, key: &str, template: &Path, size: usize) -> Result<bool> {
    let mut budget = Budget::new(layout);
    while super::count(layout, key) < size {
        if !budget.allows(key, false) {
            crate::say!(
                "pgtmp refill: the pool of {key} stays at {} entr(ies): another copy ({} MB) would pass the budget",
                super::count(layout, key),
                budget.size(key) >> 20
            );
            return Ok(false);
        }
        super::add(layout, key, template)?;
    }
    Ok(true)
}
