//! `pgtmp stop URL | -d DIR | --all [-k] [-w TIMEOUT] [-p PORT]`: stop now,
//! or, with `-w`, as pg_tmp's stopper does: wait TIMEOUT, then stop once no
//! client is connected, looking again every TIMEOUT. Delete unless kept.
//!
//! `-d DIR` names an instance by any directory pg_tmp users know it by:
//! its data directory (what `initdb` printed), its socket directory (the
//! URL's host), or its instance directory. A directory `initdb` printed
//! whose server is not running is removed (kept with `-k`).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::cli::{GlobalArgs, StopArgs};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::instance::{Meta, clients, registry, stop};
use crate::paths::{self, Layout, Place};
use crate::process;
use crate::standby;
use crate::url;

/// How long `stop --all` waits for a refill to stop starting standbys.
const HALT_WAIT: Duration = Duration::from_secs(30);

/// How often `-w 0` looks for clients (pg_tmp's `sleep 0` would spin).
const MIN_INTERVAL: Duration = Duration::from_millis(100);

pub fn run(args: &StopArgs, global: &GlobalArgs) -> Result<()> {
    let config = Config::resolve(global)?;
    config.enter()?;
    if args.all {
        // A refill may be starting standbys right now: make it stop doing
        // so and wait for it, so that none outlives `stop --all`.
        standby::halt(&config.layout, HALT_WAIT);
    }
    let targets = match select(&config.layout, args) {
        Err(Error::NoSuchInstance(what)) => {
            return match unused_initdb_dir(&config.layout, args) {
                Some(dir) => discard(&dir, args.keep),
                None => Err(Error::NoSuchInstance(what)),
            };
        }
        other => other?,
    };
    let mut first_error = None;
    let mut stop_one = |dir: &Path| match stop::stop(dir, args.keep) {
        Ok(Some(kept)) => eprintln!("pgtmp: data directory kept: {}", kept.display()),
        Ok(None) => {}
        Err(e) => {
            first_error.get_or_insert(e);
        }
    };
    match args.wait {
        None => targets.iter().for_each(|(dir, _)| stop_one(dir)),
        Some(every) => when_idle(targets, every, stop_one),
    }
    first_error.map_or(Ok(()), Err)
}

/// pg_tmp's `stop -w`: after `every`, each instance without a client is
/// stopped; those with clients are looked at again after `every` more. An
/// instance that ends by itself meanwhile needs nothing more.
fn when_idle(mut pending: Vec<(PathBuf, Meta)>, every: Duration, mut stop_one: impl FnMut(&Path)) {
    let mut next = Instant::now() + every;
    while !pending.is_empty() {
        // Short steps, so that an instance ending early ends the wait early.
        while Instant::now() < next && pending.iter().any(|(d, _)| registry::is_alive(d)) {
            std::thread::sleep(MIN_INTERVAL.min(next - Instant::now()));
        }
        pending.retain(|(dir, meta)| {
            if !registry::is_alive(dir) {
                return false;
            }
            if clients::count(meta).unwrap_or(0) > 0 {
                return true;
            }
            stop_one(dir);
            false
        });
        next = Instant::now() + every.max(MIN_INTERVAL);
    }
}

/// What `stop` was asked to stop.
enum Selector {
    Url(String, url::Target),
    Dir(PathBuf),
}

impl Selector {
    fn matches(&self, dir: &Path, meta: &Meta) -> bool {
        match self {
            Selector::Url(u, target) => meta.url == *u || same_server(meta, target),
            Selector::Dir(d) => [&meta.data_dir, &meta.socket_dir, dir]
                .iter()
                .any(|known| same_dir(known, d)),
        }
    }

    fn describe(&self) -> String {
        match self {
            Selector::Url(u, _) => url::without_password(u),
            Selector::Dir(d) => d.display().to_string(),
        }
    }
}

/// The live instances `args` names; an error when a URL or -d names none.
fn select(layout: &Layout, args: &StopArgs) -> Result<Vec<(PathBuf, Meta)>> {
    // Include those already stopping: `stop` then waits for them.
    let live = registry::live(layout, true);
    let on_port = |m: &Meta| args.port.is_none_or(|p| m.port == p);
    if args.all {
        return Ok(live.into_iter().filter(|(_, m)| on_port(m)).collect());
    }
    let selector = match (&args.url, &args.datadir) {
        (Some(u), _) => {
            let target = url::parse(u).ok_or_else(|| {
                Error::other(format!(
                    "{:?} is not a PostgreSQL URL",
                    url::without_password(u)
                ))
            })?;
            Selector::Url(u.clone(), target)
        }
        (None, Some(d)) => Selector::Dir(d.canonicalize().unwrap_or_else(|_| d.clone())),
        (None, None) => unreachable!("clap requires one of URL, -d, --all"),
    };
    let found: Vec<_> = live
        .into_iter()
        .filter(|(dir, m)| selector.matches(dir, m) && on_port(m))
        .collect();
    if found.is_empty() {
        let mut what = selector.describe();
        if let Some(p) = args.port {
            what.push_str(&format!(" on port {p}"));
        }
        return Err(Error::NoSuchInstance(what));
    }
    Ok(found)
}

/// `-d DIR` naming a directory of `initdb/` that no instance runs on.
fn unused_initdb_dir(layout: &Layout, args: &StopArgs) -> Option<PathBuf> {
    let dir = args.datadir.as_deref()?;
    (layout.place(dir) == Place::Initdb && dir.join("PG_VERSION").is_file())
        .then(|| dir.to_path_buf())
}

/// Removes (or, with `-k`, keeps) a directory `initdb` made, unless a
/// server pgtmp does not know of runs in it.
fn discard(dir: &Path, keep: bool) -> Result<()> {
    if let Some(pid) = registry::postmaster_pid(dir).filter(|&p| process::alive(p)) {
        return Err(Error::with_hint(
            format!(
                "a server (pid {pid}) that pgtmp did not start runs in {}",
                dir.display()
            ),
            format!("stop it with `pg_ctl stop -D {}`", dir.display()),
        ));
    }
    if keep {
        eprintln!("pgtmp: no server runs in {}; kept", dir.display());
    } else {
        paths::remove_tree(dir)?;
        eprintln!("pgtmp: no server ran in {}; removed it", dir.display());
    }
    Ok(())
}

fn same_server(meta: &Meta, target: &url::Target) -> bool {
    match target.socket_dir() {
        Some(dir) => same_dir(&meta.socket_dir, &dir) && meta.port == target.port,
        // Our TCP servers listen on loopback only: a URL naming another
        // host is never one of ours, whatever its port.
        None => meta.tcp && meta.port == target.port && is_loopback(&target.host),
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
