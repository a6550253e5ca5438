//! `pgtmp stop URL | -d DIR | --all [-k] [-w TIMEOUT] [-p PORT]`: stop now,
//! or, with `-w`, as pg_tmp's stopper does: wait TIMEOUT, then stop once no
//! client is connected, looking again every TIMEOUT. Delete unless kept.
//!
//! `-d DIR` names an instance by any directory pg_tmp users know it by
//! (see `instance::select`). A directory `initdb` printed whose server is
//! not running is removed (kept with `-k`).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::options;
use crate::cli::{GlobalArgs, StopArgs};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::instance::select::{Selector, select};
use crate::instance::{Meta, registry, stop};
use crate::paths::{self, Layout, Place};
use crate::postmaster::PidFile;
use crate::{process, spare};

/// How long `stop --all` waits for a refill to stop starting spares.
const HALT_WAIT: Duration = Duration::from_secs(30);

/// How often `-w 0` looks for clients (pg_tmp's `sleep 0` would spin).
const MIN_INTERVAL: Duration = Duration::from_millis(100);

pub fn run(args: &StopArgs, global: &GlobalArgs) -> Result<()> {
    let config = Config::resolve(&options(global))?;
    config.enter()?;
    if args.all {
        // A refill may be starting spares right now: make it stop doing
        // so and wait for it, so that none outlives `stop --all`.
        spare::halt(&config.layout, HALT_WAIT);
    }
    let selector = match (&args.url, &args.datadir) {
        _ if args.all => Selector::All,
        (Some(u), _) => Selector::url(u)?,
        (None, Some(d)) => Selector::dir(d),
        (None, None) => unreachable!("clap requires one of URL, -d, --all"),
    };
    let targets = match select(&config.layout, &selector) {
        Err(Error::NoSuchInstance(what)) => {
            return match unused_initdb_dir(&config.layout, args) {
                Some(dir) => discard(&dir, args.keep),
                None => Err(Error::NoSuchInstance(what)),
            };
        }
        other => on_port(other?, args.port, &selector)?,
    };
    let mut first_error = None;
    let mut stop_one = |dir: &Path| match stop::stop(dir, args.keep) {
        Ok(kept) => {
            for kept in kept {
                crate::say!("pgtmp: data directory kept: {}", kept.display());
            }
        }
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

/// `-p PORT`: only the instances whose endpoint listens on PORT (pg_tmp's
/// own stopper passes it, 5432 for a socket).
fn on_port(
    mut targets: Vec<(PathBuf, Meta)>,
    port: Option<u16>,
    selector: &Selector,
) -> Result<Vec<(PathBuf, Meta)>> {
    let Some(port) = port else {
        return Ok(targets);
    };
    targets.retain(|(_, m)| m.address().port == port);
    if targets.is_empty() && !matches!(selector, Selector::All) {
        return Err(Error::NoSuchInstance(format!(
            "{} on port {port}",
            selector.describe()
        )));
    }
    Ok(targets)
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
            let clients = meta
                .client_addresses()
                .into_iter()
                .map(|a| a.count_clients());
            if clients.map(|n| n.unwrap_or(0)).sum::<i64>() > 0 {
                return true;
            }
            stop_one(dir);
            false
        });
        next = Instant::now() + every.max(MIN_INTERVAL);
    }
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
    if let Some(pid) = PidFile::read(dir)
        .map(|f| f.pid)
        .filter(|&p| process::running(p))
    {
        // No instance of ours runs it (`select` found none).
        return Err(Error::DataDirInUse {
            dir: dir.to_path_buf(),
            pid,
            ours: false,
        });
    }
    if keep {
        crate::say!("pgtmp: no server runs in {}; kept", dir.display());
    } else {
        paths::remove_tree(dir)?;
        crate::say!("pgtmp: no server ran in {}; removed it", dir.display());
    }
    Ok(())
}
