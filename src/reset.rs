//! `pgtmp reset URL`: an instance back to the state it was handed out in
//! (its template: plain, a fixture's, a setup's or a snapshot's), keeping
//! its URL, port, password and idle timeout. Its clients are disconnected
//! and reconnect.
//!
//! When the instance is what a spare can be (a socket URL, no `-o`, see
//! `capability::swappable`) and a spare of its template is ready, the
//! spare is claimed (without `-k`, which the swap gives it) and the
//! instance's supervisor is told to put it in the instance's place
//! (`reaper::swap`): about the cost of a hand-out, and the spare is
//! replaced in the background as after one. Otherwise a fresh copy of the template is made beside its data
//! directory first (a pool entry claimed with one rename, else a copy),
//! while the server still serves; then its supervisor stops the server,
//! swaps the directories and starts it again (see `reaper::orders`). If
//! the copy cannot be made (a full disk), nothing changes.

use std::path::Path;
use std::time::Duration;

use crate::config::Config;
use crate::error::{Error, Refusal, Result};
use crate::instance::capability::{self, Action};
use crate::instance::control::{self, Order};
use crate::instance::topology::Topology;
use crate::instance::{Meta, Settings};
use crate::paths;
use crate::pool::{self, template};
use crate::{random, refill, spare, trace, url};

/// How long the supervisor may take to stop and start the server again.
const TIMEOUT: Duration = Duration::from_secs(5 * 60);

/// How often a reset is tried in all when the instance changes hands
/// under it (concurrent resets, each swapping a spare in).
const ATTEMPTS: usize = 5;

/// Resets the instance at `url`.
pub fn reset(config: &Config, url: &str) -> Result<()> {
    config.enter()?;
    let layout = &config.layout;
    let mut attempt = 1;
    loop {
        let (dir, meta) = capability::find(layout, url, Action::Reset)?;
        trace::mark("instance found");
        match reset_once(config, url, &dir, &meta) {
            // The instance changed hands under this try: its supervisor
            // ended without answering, or the order reached the one now
            // in its place (through the link a swap made) and did not fit
            // it (a fresh copy made beside the old server's data).
            Err(_) if attempt < ATTEMPTS && replaced(config, url, &meta) => {
                attempt += 1;
            }
            other => return other,
        }
    }
}

/// Whether the instance at `url` has another supervisor than `meta` says
/// (a spare took its place meanwhile).
fn replaced(config: &Config, url: &str, meta: &Meta) -> bool {
    capability::find(&config.layout, url, Action::Reset)
        .is_ok_and(|(_, now)| now.supervisor_pid != meta.supervisor_pid)
}

/// One try at resetting the instance in `dir`: by swap when it can, else
/// by a restart on a fresh copy.
fn reset_once(config: &Config, url: &str, dir: &Path, meta: &Meta) -> Result<()> {
    let key = meta
        .template
        .as_deref()
        .expect("checked: a template is recorded");
    let swappable = capability::swappable(dir, meta) && config.spare_max > 0;
    if !(swappable && swap(config, dir, meta, key)?) {
        restart(config, url, dir, meta, key)?;
    }
    trace::mark("reset done");
    let _ = std::fs::File::create(config.layout.template_used(key));
    Ok(())
}

/// Puts a ready spare of the instance's kind in its place; false when no
/// spare is ready (nothing changed then).
fn swap(config: &Config, dir: &Path, meta: &Meta, key: &str) -> Result<bool> {
    let layout = &config.layout;
    let kind = spare::Kind {
        key: key.to_string(),
        role: meta.role.clone(),
        bindir: meta.primary.bindir.clone(),
        tcp: false,
        topology: Topology::Single,
    };
    let class = kind.class();
    spare::demand::record(layout, &class);
    // Not `-k` yet: a spare this reset cannot use after all (its order
    // failed) must leave nothing when it stops. The swap gives it the
    // instance's `-k` (`reaper::swap`).
    let settings = Settings {
        keep: false,
        timeout_ms: meta.timeout_ms,
        owner_pid: meta.owner_pid,
        owner_start: meta.owner_start,
    };
    let Some((spare_dir, spare_meta)) = spare::claim::claim_ready(layout, &class, &settings)?
    else {
        return Ok(false);
    };
    trace::mark("spare claimed");
    // Its replacement: spawned now, while the machine is quiet, and
    // started once this process has its answer and has exited (the swap
    // is work on the caller's clock; a server starting beside it on two
    // cores doubled its time).
    let _ = refill::spawn(config, key, Some(&kind), Some(std::process::id()));
    let order = Order::Swap { spare: spare_dir };
    match control::send(dir, meta, &order, "the reset", TIMEOUT) {
        Ok(()) => Ok(true),
        Err(e) => {
            // Nobody will deliver it: its supervisor stops it.
            spare::claim::abandon(&spare_meta);
            Err(e.on_filesystem_of(&layout.base))
        }
    }
}

/// Has the supervisor restart the server on a fresh copy of the template
/// `key`, made beside its data directory first.
fn restart(config: &Config, url: &str, dir: &Path, meta: &Meta, key: &str) -> Result<()> {
    let fresh = dir.join(format!(".fresh-data-{}", random::id()));
    let reset = copy_template(config, key, &fresh, url).and_then(|()| {
        trace::mark("fresh copy made");
        let order = Order::Reset {
            data: fresh.clone(),
        };
        control::send(dir, meta, &order, "the reset", TIMEOUT)
    });
    if let Err(e) = reset {
        let _ = paths::remove_tree(&fresh);
        return Err(e.on_filesystem_of(&config.layout.base));
    }
    // The pool entry taken is replaced in the background.
    let _ = refill::spawn(config, key, None, None);
    Ok(())
}

/// A copy of the template `key` at `dest`: a pool entry, else a copy made
/// while the template is held for reading (so `gc` leaves it meanwhile).
fn copy_template(config: &Config, key: &str, dest: &Path, url: &str) -> Result<()> {
    let layout = &config.layout;
    if pool::claim(layout, key, dest)? {
        return Ok(());
    }
    let template = match template::hold(layout, key)? {
        Some(held) => held,
        None => {
            // A plain template can be made again; any other is gone for
            // good (gc keeps those of running instances: only a hand or
            // `gc --all` removed it).
            let spec = config.template_spec()?;
            if spec.key() != key {
                return Err(Error::Refused {
                    action: Action::Reset.verb(),
                    url: url::without_password(url),
                    why: Refusal::TemplateGone,
                });
            }
            template::ensure(layout, &spec)?
        }
    };
    pool::copy_tree(template.path(), dest)
}
