//! The spare pool: servers started ahead of demand, so that a
//! hand-out costs about one connection instead of a postmaster start.
//!
//! A spare is an ordinary instance in `run/<id>` whose supervisor, once
//! the server is ready, creates a token `spare/<class>/<id>`; the class is
//! the template key, the listener (socket or TCP) and the topology (a set
//! of `--replicas N [--sync]` is a spare of its own class, all its servers
//! started ahead), which is all a hand-out that takes spares can differ in. A caller claims a spare by renaming its token
//! into the instance as `claim-<pid>-<start>`: only one rename can win, and
//! the name says who won. The claimer checks the server is alive, writes
//! its own settings (`-k`, `-w`, owner) into `meta.json`, prints the URL,
//! then creates `delivered`. The supervisor, which polls its token, then
//! watches the instance like any other. A spare nobody claims within the
//! spare timeout retracts its token (an unlink, which fails if a claim
//! won the race) and stops. See `replenish` for how many are kept.

pub mod claim;
pub mod demand;
pub mod replenish;

use std::fs;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::instance::meta::CLAIM_PREFIX;
use crate::instance::topology::Topology;
use crate::paths::{self, Layout};

/// What the spares of a class are: the hand-out that asked for them
/// passes this on to the refill (as root, the refill no longer knows the
/// caller's role).
#[derive(Debug, Clone)]
pub struct Kind {
    /// The template key.
    pub key: String,
    pub role: String,
    pub bindir: PathBuf,
    pub tcp: bool,
    pub topology: Topology,
}

impl Kind {
    /// The class of spares of this kind.
    pub fn class(&self) -> String {
        class(&self.key, self.tcp, self.topology)
    }
}

/// `stop --all`: refills running now start no more spares, and once
/// none is starting any, the caller can stop what is left. Returns
/// whether they all finished within `timeout`.
pub fn halt(layout: &Layout, timeout: std::time::Duration) -> bool {
    if paths::mkdir_private(&layout.spare_root()).is_ok() {
        let _ = fs::File::create(layout.spare_halt());
    }
    crate::process::wait_until(timeout, || !starting_any(layout))
}

/// Whether a refill is starting spares (holds a class lock).
fn starting_any(layout: &Layout) -> bool {
    fs::read_dir(layout.spare_root()).is_ok_and(|entries| {
        entries
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().ends_with(".lock"))
            .any(|e| crate::lock::is_held(&e.path()))
    })
}

/// Whether `stop --all` ran since `since`.
pub fn halted_since(layout: &Layout, since: std::time::SystemTime) -> bool {
    fs::metadata(layout.spare_halt())
        .and_then(|m| m.modified())
        .is_ok_and(|t| t >= since)
}

/// `<template key>-socket` or `<template key>-tcp`, then the topology's
/// tag for a set (`-r2`, `-r2s`).
pub fn class(key: &str, tcp: bool, topology: Topology) -> String {
    format!(
        "{key}-{}{}",
        if tcp { "tcp" } else { "socket" },
        topology.tag()
    )
}

/// Whether `class` is one of the spare classes of template `key` (any
/// listener, any topology).
pub fn of_key(class: &str, key: &str) -> bool {
    let Some(rest) = class.strip_prefix(key) else {
        return false;
    };
    ["-socket", "-tcp"].iter().any(|listener| {
        rest.strip_prefix(listener)
            .is_some_and(|tag| Topology::from_tag(tag).is_some())
    })
}

/// The token of spare `id` of `class`.
pub fn token(layout: &Layout, class: &str, id: &str) -> PathBuf {
    layout.spare(class).join(id)
}

/// Names a token whose server is still starting: `.starting-<id>`.
pub const STARTING: &str = ".starting-";

/// The token of a spare still starting, beside its ready token.
pub fn starting(token: &Path) -> PathBuf {
    let id = token.file_name().unwrap_or_default().to_string_lossy();
    token.with_file_name(format!("{STARTING}{id}"))
}

/// Refill: a spare is being started. A caller that finds none ready may
/// claim it and wait, which beats starting a server of its own.
pub fn announce(token: &Path) -> Result<()> {
    if let Some(dir) = token.parent() {
        paths::mkdir_private(dir)?;
    }
    let path = starting(token);
    fs::File::create(&path)
        .map(drop)
        .map_err(Error::io("create", &path))
}

/// Supervisor: the server is ready; let callers claim it. If a caller
/// claimed it while it started, there is nothing to publish.
pub fn publish(token: &Path) -> Result<()> {
    match fs::rename(starting(token), token) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::io("publish", token)(e)),
    }
}

/// Supervisor: withdraws the token; false when a caller claimed it first.
pub fn retract(token: &Path) -> bool {
    match fs::remove_file(token) {
        Ok(()) => true,
        Err(e) => e.kind() != std::io::ErrorKind::NotFound,
    }
}

/// Withdraws every spare of the template `key` (any listener, any
/// topology), ready or starting: without its token, a spare's supervisor
/// stops it.
pub fn withdraw(layout: &Layout, key: &str) {
    let Ok(entries) = fs::read_dir(layout.spare_root()) else {
        return;
    };
    for entry in entries.flatten() {
        let class = entry.file_name().to_string_lossy().into_owned();
        if !of_key(&class, key) {
            continue;
        }
        for token in tokens(layout, &class)
            .into_iter()
            .chain(starting_tokens(layout, &class))
        {
            let _ = fs::remove_file(token);
        }
    }
}

/// Whether the token is still there to be claimed.
pub fn waiting(token: &Path) -> bool {
    fs::symlink_metadata(token).is_ok()
}

/// Who claimed the spare in `dir`: the pid and start time in the name of
/// its `claim-*` file.
pub fn claimed_by(dir: &Path) -> Option<(u32, u64)> {
    fs::read_dir(dir).ok()?.flatten().find_map(|e| {
        let name = e.file_name().into_string().ok()?;
        let (pid, start) = name.strip_prefix(CLAIM_PREFIX)?.split_once('-')?;
        Some((pid.parse().ok()?, start.parse().ok()?))
    })
}

/// The ready tokens of `class`, oldest first.
pub fn tokens(layout: &Layout, class: &str) -> Vec<PathBuf> {
    listed(layout, class, |name| !name.starts_with('.'))
}

/// The tokens of spares of `class` still starting, oldest first.
pub fn starting_tokens(layout: &Layout, class: &str) -> Vec<PathBuf> {
    listed(layout, class, |name| name.starts_with(STARTING))
}

/// The instance id a token (ready or starting) names.
pub fn token_id(token: &Path) -> Option<&str> {
    let name = token.file_name()?.to_str()?;
    Some(name.strip_prefix(STARTING).unwrap_or(name))
}

fn listed(layout: &Layout, class: &str, keep: impl Fn(&str) -> bool) -> Vec<PathBuf> {
    let Ok(dir) = fs::read_dir(layout.spare(class)) else {
        return Vec::new();
    };
    let mut found: Vec<(std::time::SystemTime, PathBuf)> = dir
        .flatten()
        .filter(|e| keep(&e.file_name().to_string_lossy()))
        .map(|e| {
            let age = e.metadata().and_then(|m| m.modified()).ok();
            (age.unwrap_or(std::time::UNIX_EPOCH), e.path())
        })
        .collect();
    found.sort();
    found.into_iter().map(|(_, p)| p).collect()
}
