//! Which instances a URL, a directory or `--all` names, as `pgtmp stop`
//! takes them: any form `pgtmp` printed, or one naming the same endpoint;
//! or any directory pg_tmp users know an instance by: a data directory
//! (what `initdb` printed), the socket directory (the URL's host), the
//! instance directory.

use std::path::{Path, PathBuf};

use super::endpoint::Address;
use super::{Meta, Role, Server, registry};
use crate::error::{Error, Result};
use crate::paths::Layout;
use crate::url;

/// What `stop` was asked to stop.
#[derive(Debug)]
pub enum Selector {
    Url(String, url::Target),
    Dir(PathBuf),
    All,
}

impl Selector {
    /// A URL `pgtmp` printed, in any of its forms.
    pub fn url(u: &str) -> Result<Selector> {
        let target = url::parse(u).ok_or_else(|| Error::NotAUrl(u.to_string()))?;
        Ok(Selector::Url(u.to_string(), target))
    }

    /// The instance whose data, socket or instance directory is `d`.
    pub fn dir(d: &Path) -> Selector {
        Selector::Dir(d.canonicalize().unwrap_or_else(|_| d.to_path_buf()))
    }

    fn matches(&self, dir: &Path, meta: &Meta) -> bool {
        match self {
            Selector::Url(u, target) => meta.url == *u || named_node(meta, target).is_some(),
            Selector::Dir(d) => {
                same_dir(dir, d)
                    || same_dir(&meta.address().socket_dir, d)
                    || meta
                        .servers()
                        .any(|(_, s)| same_dir(&s.data_dir, d) || same_dir(&s.socket_dir, d))
            }
            Selector::All => true,
        }
    }

    /// What it names, for messages (never a password).
    pub fn describe(&self) -> String {
        match self {
            Selector::Url(u, _) => url::without_password(u),
            Selector::Dir(d) => d.display().to_string(),
            Selector::All => "--all".to_string(),
        }
    }
}

/// The live instances `selector` names; an error when a URL or a
/// directory names none.
pub fn select(layout: &Layout, selector: &Selector) -> Result<Vec<(PathBuf, Meta)>> {
    if let Some(found) = by_socket_dir(layout, selector) {
        return Ok(vec![found]);
    }
    // Include those already stopping: `stop` then waits for them.
    let live = registry::live(layout, true);
    if let Selector::All = selector {
        return Ok(live);
    }
    let found: Vec<_> = live
        .into_iter()
        .filter(|(dir, m)| selector.matches(dir, m))
        .collect();
    if found.is_empty() {
        return Err(Error::NoSuchInstance(selector.describe()));
    }
    Ok(found)
}

/// The instance a socket URL names by its directory in `run/` (followed
/// if a reset made it a link, see `reaper::swap`), found without reading
/// every instance's metadata: what `select` would find there, if alive.
fn by_socket_dir(layout: &Layout, selector: &Selector) -> Option<(PathBuf, Meta)> {
    let Selector::Url(_, target) = selector else {
        return None;
    };
    let named = target.socket_dir()?;
    let run = layout.run_dir();
    if named.parent() != Some(run.as_path()) {
        return None;
    }
    let dir = registry::resolve(&named)?;
    let meta = Meta::read(&dir).ok()?;
    let found = registry::is_alive(&dir) && !meta.url.is_empty() && selector.matches(&dir, &meta);
    found.then_some((dir, meta))
}

/// The server of the instance a URL names (any form `pgtmp` printed),
/// with its role: the endpoint for the primary, else a replica's own
/// address.
pub fn node<'a>(meta: &'a Meta, u: &str) -> Option<(Role, &'a Server)> {
    if meta.url == u {
        return Some((Role::Primary, &meta.primary));
    }
    named_node(meta, &url::parse(u)?)
}

fn named_node<'a>(meta: &'a Meta, target: &url::Target) -> Option<(Role, &'a Server)> {
    if same_address(&meta.address(), target) {
        return Some((Role::Primary, &meta.primary));
    }
    meta.replicas
        .iter()
        .find(|r| same_address(&r.address(), target))
        .map(|r| (Role::Replica, r))
}

/// Whether `target` names the listening place `at`.
fn same_address(at: &Address, target: &url::Target) -> bool {
    match target.socket_dir() {
        Some(dir) => same_dir(&at.socket_dir, &dir) && at.port == target.port,
        // Our TCP servers listen on loopback only: a URL naming another
        // host is never one of ours, whatever its port.
        None => at.tcp && at.port == target.port && is_loopback(&target.host),
    }
}

fn is_loopback(host: &str) -> bool {
    host == "localhost"
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

fn same_dir(a: &Path, b: &Path) -> bool {
    a == b || a.canonicalize().ok() == b.canonicalize().ok() && a.exists()
}
