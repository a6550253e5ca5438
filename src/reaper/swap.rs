//! A reset by swap: a running spare of the same template takes the
//! instance's place, so that the URL reaches a fresh server at once instead
//! of after a postmaster start.
//!
//! The caller (`pgtmp reset`) claims the spare with this instance's
//! settings and names it in the order. This supervisor stops its own
//! server (immediate shutdown: its data is being thrown away; the
//! postmaster unlinks its socket as it exits, so it must be gone before
//! anything new lies at that path), exchanges the names of its directory
//! and the spare's in one step (so that the instance directory is never
//! missing), moves its own aside, and writes the spare's `meta.json` as
//! this instance's (its id, URL and start time; every path moved). A socket
//! URL names the instance directory and the port, and a listening Unix
//! socket keeps working when its directory is renamed: from that rename on,
//! new connections reach the spare's server. Then it marks the spare
//! delivered, whose supervisor finds its new place and watches it as the
//! instance, and this supervisor ends without touching the instance
//! directory again.
//!
//! Only what a spare can be is swapped: a single server on a socket in the
//! instance directory, on the spare's port, with no `-o` options and no
//! password. Anything else is refused here before it is touched (the
//! caller then restarts the server on a fresh copy instead).

use std::fs;
use std::path::Path;

use super::fleet::Fleet;
use super::orders::{GRACE, Outcome, failure};
use crate::error::{Error, Result};
use crate::instance::capability::swappable;
use crate::instance::meta::{DELIVERED, REPLACED_PREFIX};
use crate::instance::{Meta, shmem};
use crate::platform;
use crate::postmaster::{self, Shutdown};
use crate::trace;

/// Puts the claimed spare in `spare` in the place of the instance in `dir`.
pub fn swap(dir: &Path, meta: &Meta, fleet: &mut Fleet, spare: &Path) -> Outcome {
    let mut fresh =
        match Meta::read(spare).and_then(|fresh| fits(dir, meta, spare, &fresh).map(|()| fresh)) {
            Ok(fresh) => fresh,
            Err(e) => return Outcome::Failed(e),
        };
    if let Some(mut pm) = fleet.take(&meta.primary.name) {
        pm.stop(Shutdown::immediate(GRACE));
    }
    shmem::release(&meta.primary.data_dir);
    trace::mark("server stopped for the swap");
    // One step, so that nobody looking at the instance directory (a
    // `stop`, `list`) finds it missing; then what was this instance's goes
    // aside, under a name the spare's supervisor does not take for its own.
    if let Err(e) = platform::exchange(dir, spare) {
        return Outcome::Broken(Error::io("swap in the spare at", dir)(e));
    }
    let old = dir.with_file_name(format!("{REPLACED_PREFIX}{}", crate::random::id()));
    if let Err(e) = fs::rename(spare, &old) {
        let _ = platform::exchange(dir, spare);
        return Outcome::Broken(Error::io("move aside", spare)(e));
    }
    fresh.relocate(spare, dir);
    fresh.id = meta.id.clone();
    fresh.url = meta.url.clone();
    fresh.started = meta.started;
    let delivered = fresh
        .write(dir)
        .and_then(|()| fs::File::create(dir.join(DELIVERED)).map_err(Error::io("create", dir)));
    if let Err(e) = delivered {
        // The spare's supervisor stops it once this caller is gone.
        return Outcome::Broken(e);
    }
    trace::mark("spare swapped in");
    Outcome::Replaced(old)
}

/// Whether the spare in `spare` can stand in for the instance in `dir`:
/// a claimed, serving spare of the same template, role and port, whose
/// socket lies in its own directory as the instance's does.
fn fits(dir: &Path, meta: &Meta, spare: &Path, fresh: &Meta) -> Result<()> {
    let no = |why: &str| {
        Err(failure(format!(
            "{} cannot replace it: {why}",
            spare.display()
        )))
    };
    let (old, new) = (&meta.primary, &fresh.primary);
    if spare.parent() != dir.parent() || spare == dir {
        return no("it is no other instance beside it");
    }
    let claimed = crate::spare::claimed_by(spare).is_some();
    if fresh.spare.is_some() || !claimed || spare.join(DELIVERED).exists() {
        return no("it is not a spare claimed for this");
    }
    if fresh.template != meta.template || fresh.role != meta.role {
        return no("it was made from another template or for another role");
    }
    if !swappable(dir, meta) || !swappable(spare, fresh) || old.port != new.port {
        return no("only a single server on a socket in its own directory can be swapped");
    }
    if !postmaster::serving(&new.data_dir) {
        return no("its server is not serving");
    }
    Ok(())
}

/// Removes what a swap moved aside, once the answer is out.
pub fn clean_up(old: &Path) {
    let _ = crate::paths::remove_tree(old);
}
