//! A reset by swap: a running spare of the same template takes the
//! instance's place, so that its URL reaches a fresh server at once instead
//! of after a postmaster start.
//!
//! A socket URL names a directory and a port, and a spare of the instance's
//! class listens on the same port in its own instance directory. So the
//! URL reaches the spare's server once the directory it names is a
//! symbolic link to the spare's. Nothing of the spare moves: PostgreSQL
//! opens some files of its data directory by absolute path (a checkpoint
//! writes `global/pg_control` so), and a running server's directory must
//! keep its name.
//!
//! The caller (`pgtmp reset`) claims a ready spare without `-k` and names
//! it in the order. This supervisor then:
//! 1. checks the spare fits (claimed for this, not delivered, the same
//!    template, role and port, serving; see `fits`);
//! 2. freezes its own server (SIGSTOP to the postmaster and every process
//!    it started, `postmaster::Frozen`): none of them runs from then on,
//!    so none unlinks or writes anything by its old paths once these lead
//!    to the spare; its data is thrown away, and it is killed once the
//!    answer is out. An immediate shutdown would take 7 to 10 ms here, a
//!    hand-out's time;
//! 3. writes the spare's `meta.json` as this instance's (its id, URL and
//!    start time, `-k`, `-w`, owner), with `alias`, the URL's directory;
//! 4. moves its own directory aside (`.replaced-<random>`) and makes the
//!    URL's directory a link to the spare's, each name present at every
//!    moment: the first time the URL's directory is its own, exchanged
//!    with the new link; after an earlier reset it is a link already, and
//!    a new link is renamed over it;
//! 5. marks the spare delivered, whose supervisor watches it as the
//!    instance from then on (and removes the link with it);
//! 6. answers, kills its frozen server, removes what it put aside (its
//!    shared memory once the last process has exited, then the
//!    directory), and ends without touching the URL's directory again.
//!
//! Only what a spare can be is swapped: a single server on a socket in
//! its instance directory, no `-o` options, no password
//! (`capability::swappable`). Anything else is refused before anything is
//! touched (the caller then restarts the server on a fresh copy instead).

use std::fs;
use std::path::{Path, PathBuf};

use super::fleet::Fleet;
use super::orders::{Outcome, failure};
use crate::error::{Error, Result};
use crate::instance::capability::swappable;
use crate::instance::meta::{DATA, DELIVERED, REPLACED_PREFIX};
use crate::instance::{Meta, registry, shmem};
use crate::platform;
use crate::postmaster;
use crate::{random, trace};

/// Puts the claimed spare in `spare` in the place of the instance this
/// supervisor serves from `dir`.
pub fn swap(dir: &Path, meta: &Meta, fleet: &mut Fleet, spare: &Path) -> Outcome {
    let entry = meta.alias.clone().unwrap_or_else(|| dir.to_path_buf());
    let fresh = match Meta::read(spare)
        .and_then(|fresh| fits(dir, &entry, meta, spare, &fresh).map(|()| fresh))
    {
        Ok(fresh) => fresh,
        Err(e) => return Outcome::Failed(e),
    };
    fleet.freeze(&meta.primary.name);
    trace::mark("server frozen for the swap");
    let adopted = Meta {
        id: meta.id.clone(),
        url: meta.url.clone(),
        started: meta.started,
        // Claimed without it, so that a spare left unused keeps nothing.
        keep: meta.keep,
        timeout_ms: meta.timeout_ms,
        owner_pid: meta.owner_pid,
        owner_start: meta.owner_start,
        alias: Some(entry.clone()),
        ..fresh.clone()
    };
    if let Err(e) = adopted.write(spare) {
        return Outcome::Broken(e);
    }
    let aside = match point(&entry, dir, spare) {
        Ok(aside) => aside,
        Err(e) => {
            // The spare was not delivered: its claimer abandons it.
            let _ = fresh.write(spare);
            return Outcome::Broken(e);
        }
    };
    if let Err(e) = fs::File::create(spare.join(DELIVERED)).map_err(Error::io("create", spare)) {
        // Its supervisor stops it once the caller is gone, and with it
        // the link.
        return Outcome::Broken(e);
    }
    trace::mark("spare swapped in");
    Outcome::Replaced(aside)
}

/// A fresh name beside `dir` for what a reset puts aside.
fn aside_name(dir: &Path) -> PathBuf {
    dir.with_file_name(format!("{REPLACED_PREFIX}{}", random::id()))
}

/// Makes `entry`, the URL's directory, a link to `spare`, and moves `dir`,
/// this server's directory, out of the way; returns where it is now.
fn point(entry: &Path, dir: &Path, spare: &Path) -> Result<PathBuf> {
    // Relative: a sibling, whatever the base is called.
    let target = spare.file_name().expect("checked: a sibling");
    let aside = aside_name(dir);
    std::os::unix::fs::symlink(target, &aside).map_err(Error::io("create link", &aside))?;
    if entry == dir {
        // The exchange leaves the link at the URL's directory and this
        // directory where the link was made.
        return match platform::exchange(&aside, dir) {
            Ok(()) => Ok(aside),
            Err(e) => {
                let _ = fs::remove_file(&aside);
                Err(Error::io("swap in the spare at", dir)(e))
            }
        };
    }
    // A new link over the old one, then this directory (its server
    // stopped: nothing opens it by name any more) out of `run/`'s list.
    if let Err(e) = fs::rename(&aside, entry) {
        let _ = fs::remove_file(&aside);
        return Err(Error::io("swap in the spare at", entry)(e));
    }
    let aside = aside_name(dir);
    Ok(match fs::rename(dir, &aside) {
        Ok(()) => aside,
        Err(_) => dir.to_path_buf(),
    })
}

/// Whether the spare in `spare` can stand in for the instance served from
/// `dir` whose URL names `entry`: a claimed, serving spare of the same
/// template, role and port, beside it, whose socket lies in its own
/// directory as the instance's does; `entry` is `dir` or a link to it.
fn fits(dir: &Path, entry: &Path, meta: &Meta, spare: &Path, fresh: &Meta) -> Result<()> {
    let no = |why: &str| {
        Err(failure(format!(
            "{} cannot replace it: {why}",
            spare.display()
        )))
    };
    let (old, new) = (&meta.primary, &fresh.primary);
    let beside = |p: &Path| p.parent() == dir.parent() && p.file_name().is_some();
    if !beside(spare) || spare == dir || spare == entry {
        return no("it is no other instance beside it");
    }
    if !beside(entry) || (entry != dir && !registry::links_to(entry, dir)) {
        return Err(failure(format!(
            "{} is no link to {}: not this instance's name",
            entry.display(),
            dir.display()
        )));
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

/// Removes what a swap put aside, once the answer is out: first the
/// killed server's shared memory, once its last process has exited.
pub fn clean_up(aside: &Path) {
    shmem::release(&aside.join(DATA));
    let _ = crate::paths::remove_tree(aside);
}
