//! Claiming a ready spare for a hand-out: win its token, make sure the
//! server is really serving (a killed spare is never handed out), and
//! give it the caller's settings.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::{starting_tokens, tokens};
use crate::error::{Error, Result};
use crate::instance::meta::CLAIM_PREFIX;
use crate::instance::registry;
use crate::instance::{Meta, Settings, State};
use crate::paths::Layout;
use crate::postmaster;
use crate::process;

/// How long a caller waits for a spare it claimed while starting.
const START_WAIT: Duration = Duration::from_secs(30);

/// Claims one spare of `class`: its instance directory and metadata, as
/// the caller's now; None when no live spare is ready.
pub fn claim(layout: &Layout, class: &str, settings: &Settings) -> Result<Option<(PathBuf, Meta)>> {
    claim_among(layout, class, settings, true)
}

/// Claims one spare of `class` that is ready already, never one still
/// starting: a reset puts it in another instance's place
/// (`reaper::swap`), which its supervisor must be waiting for.
pub fn claim_ready(
    layout: &Layout,
    class: &str,
    settings: &Settings,
) -> Result<Option<(PathBuf, Meta)>> {
    claim_among(layout, class, settings, false)
}

fn claim_among(
    layout: &Layout,
    class: &str,
    settings: &Settings,
    starting: bool,
) -> Result<Option<(PathBuf, Meta)>> {
    let me = std::process::id();
    let Some(my_start) = process::start_time(me)? else {
        return Ok(None);
    };
    let claim_name = format!("{CLAIM_PREFIX}{me}-{my_start}");
    // Ready ones first; else one still starting, which will be ready
    // sooner than a server this caller would start itself.
    let still_starting = match starting {
        true => starting_tokens(layout, class),
        false => Vec::new(),
    };
    for (token, started) in tokens(layout, class)
        .into_iter()
        .map(|t| (t, true))
        .chain(still_starting.into_iter().map(|t| (t, false)))
    {
        let Some(id) = super::token_id(&token) else {
            continue;
        };
        let dir = layout.instance(id);
        match fs::rename(&token, dir.join(&claim_name)) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if !dir.exists() {
                    // Its instance is gone (a crash); nobody will retract it.
                    let _ = fs::remove_file(&token);
                }
                continue; // another caller won it
            }
            Err(e) => return Err(Error::io("claim spare", &token)(e)),
        }
        let meta = if started {
            crate::trace::mark(&format!("claimed a ready spare: {id}"));
            Meta::read(&dir).ok()
        } else {
            crate::trace::mark(&format!("claimed a spare still starting: {id}"));
            let meta = wait_started(&dir);
            crate::trace::mark("it is ready");
            meta
        };
        let Some(mut meta) = meta else {
            continue;
        };
        if !serving(&dir, &meta) {
            abandon(&meta);
            continue;
        }
        meta.spare = None;
        meta.apply(settings);
        meta.write(&dir)?;
        return Ok(Some((dir, meta)));
    }
    Ok(None)
}

/// Waits for a spare claimed while starting: its supervisor completes
/// `meta.json` with the URL once the server is ready (after which it never
/// writes it again). None if the start failed.
fn wait_started(dir: &std::path::Path) -> Option<Meta> {
    let mut meta = None;
    // A caller waits on this: look every millisecond (reading meta.json
    // costs microseconds), not with the backoff of a background wait.
    let done = process::wait_every(START_WAIT, Duration::from_millis(1), || {
        match Meta::read(dir) {
            Ok(m) if !m.url.is_empty() => meta = Some(m),
            // The refill holds the lock until the supervisor does: a free
            // lock or a removed directory means the start failed.
            _ if !dir.exists() || !registry::is_alive(dir) => return true,
            _ => {}
        }
        meta.is_some()
    });
    if !done {
        // Not ready in time. The token is ours now, so nobody else will
        // take it: stop it (a supervisor not yet known stops it anyway
        // when no URL is delivered).
        if let Ok(m) = Meta::read(dir) {
            abandon(&m);
        }
    }
    meta
}

/// Whether the spare's supervisor and postmasters can all answer (not
/// exited, not zombies, not stopped: a SIGSTOPped postmaster's socket
/// still accepts connections, which then hang) and every server says it
/// is ready.
fn serving(dir: &Path, meta: &Meta) -> bool {
    let supervisor = meta
        .supervisor_pid
        .zip(meta.supervisor_start)
        .is_some_and(|(pid, start)| process::responsive_since(pid, start));
    supervisor
        && !State::read(dir).is_some_and(|s| s.stopping)
        && meta
            .servers()
            .all(|(_, server)| postmaster::serving(&server.data_dir))
}

/// A claimed spare that is not serving: its supervisor, if it still
/// runs, stops and removes it; otherwise `gc` removes it once every
/// process of it is gone. A stopped one is not continued: whoever stopped
/// it (a debugger, an admin) keeps it as it is, and the stop request
/// takes effect when it resumes; claimed, it is never offered again.
pub fn abandon(meta: &Meta) {
    if let Some((pid, start)) = meta.supervisor_pid.zip(meta.supervisor_start)
        && process::running_since(pid, start)
    {
        process::signal(pid, nix::sys::signal::Signal::SIGTERM);
    }
}
