//! Claiming a ready standby for a hand-out: win its token, make sure the
//! server is really serving (a killed standby is never handed out), and
//! give it the caller's settings.

use std::fs;
use std::path::{Path, PathBuf};

use super::tokens;
use crate::error::{Error, Result};
use crate::instance::meta::{self, CLAIM_PREFIX};
use crate::instance::{Meta, State};
use crate::paths::Layout;
use crate::process;

/// What a hand-out sets on the standby it claims.
#[derive(Debug, Clone)]
pub struct Settings {
    pub keep: bool,
    pub timeout_ms: u64,
    pub owner_pid: Option<u32>,
    pub owner_start: Option<u64>,
}

/// Claims one standby of `class`: its instance directory and metadata, as
/// the caller's now; None when no live standby is ready.
pub fn claim(layout: &Layout, class: &str, settings: &Settings) -> Result<Option<(PathBuf, Meta)>> {
    let me = std::process::id();
    let Some(my_start) = process::start_time(me) else {
        return Ok(None);
    };
    for token in tokens(layout, class) {
        let Some(id) = token.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        let dir = layout.instance(id);
        let claim = dir.join(format!("{CLAIM_PREFIX}{me}-{my_start}"));
        match fs::rename(&token, &claim) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if !dir.exists() {
                    // Its instance is gone (a crash); nobody will retract it.
                    let _ = fs::remove_file(&token);
                }
                continue; // another caller won it
            }
            Err(e) => return Err(Error::io("claim standby", &token)(e)),
        }
        let Ok(mut meta) = Meta::read(&dir) else {
            continue;
        };
        if !serving(&dir, &meta) {
            abandon(&meta);
            continue;
        }
        meta.standby = None;
        meta.keep = settings.keep;
        meta.timeout_ms = settings.timeout_ms;
        meta.owner_pid = settings.owner_pid;
        meta.owner_start = settings.owner_start;
        meta.started = meta::now_secs();
        meta.write(&dir)?;
        return Ok(Some((dir, meta)));
    }
    Ok(None)
}

/// Whether the standby's supervisor and postmaster are both running (not
/// exited, not zombies) and the server says it is ready.
fn serving(dir: &Path, meta: &Meta) -> bool {
    let supervisor = meta
        .supervisor_pid
        .zip(meta.supervisor_start)
        .is_some_and(|(pid, start)| process::running_since(pid, start));
    supervisor && !State::read(dir).is_some_and(|s| s.stopping) && postmaster_ready(&meta.data_dir)
}

/// `postmaster.pid` names a running process and says `ready`.
fn postmaster_ready(data_dir: &Path) -> bool {
    let Ok(text) = fs::read_to_string(data_dir.join("postmaster.pid")) else {
        return false;
    };
    let lines: Vec<&str> = text.lines().collect();
    let pid = lines.first().and_then(|l| l.trim().parse::<u32>().ok());
    lines.get(7).map(|s| s.trim()) == Some("ready") && pid.is_some_and(process::running)
}

/// A claimed standby that is not serving: its supervisor, if it still
/// runs, stops and removes it; otherwise `gc` removes it once every
/// process of it is gone.
fn abandon(meta: &Meta) {
    if let Some((pid, start)) = meta.supervisor_pid.zip(meta.supervisor_start)
        && process::running_since(pid, start)
    {
        process::signal(pid, nix::sys::signal::Signal::SIGTERM);
    }
}
