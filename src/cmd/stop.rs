//! `pgtmp stop URL | -d DIR | --all`: stop now, delete unless kept.

use std::path::{Path, PathBuf};

use crate::cli::{GlobalArgs, StopArgs};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::instance::{Meta, registry, stop};
use crate::paths::Layout;
use crate::standby;
use crate::url;

/// How long `stop --all` waits for a refill to stop starting standbys.
const HALT_WAIT: std::time::Duration = std::time::Duration::from_secs(30);

pub fn run(args: &StopArgs, global: &GlobalArgs) -> Result<()> {
    let config = Config::resolve(global)?;
    config.enter()?;
    if args.all {
        // A refill may be starting standbys right now: make it stop doing
        // so and wait for it, so that none outlives `stop --all`.
        standby::halt(&config.layout, HALT_WAIT);
    }
    let targets = select(&config.layout, args)?;
    let mut first_error = None;
    for (dir, _) in targets {
        match stop::stop(&dir) {
            Ok(Some(kept)) => eprintln!("pgtmp: data directory kept: {}", kept.display()),
            Ok(None) => {}
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    first_error.map_or(Ok(()), Err)
}

/// What `stop` was asked to stop.
enum Selector {
    Url(String, url::Target),
    Dir(PathBuf),
}

impl Selector {
    fn matches(&self, meta: &Meta) -> bool {
        match self {
            Selector::Url(u, target) => meta.url == *u || same_server(meta, target),
            Selector::Dir(d) => same_dir(&meta.data_dir, d),
        }
    }

    fn describe(&self) -> String {
        match self {
            Selector::Url(u, _) => u.clone(),
            Selector::Dir(d) => d.display().to_string(),
        }
    }
}

/// The live instances `args` names; an error when a URL or -d names none.
fn select(layout: &Layout, args: &StopArgs) -> Result<Vec<(PathBuf, Meta)>> {
    // Include those already stopping: `stop` then waits for them.
    let live = registry::live(layout, true);
    if args.all {
        return Ok(live);
    }
    let selector = match (&args.url, &args.datadir) {
        (Some(u), _) => {
            let target = url::parse(u)
                .ok_or_else(|| Error::other(format!("{u:?} is not a PostgreSQL URL")))?;
            Selector::Url(u.clone(), target)
        }
        (None, Some(d)) => Selector::Dir(d.canonicalize().unwrap_or_else(|_| d.clone())),
        (None, None) => unreachable!("clap requires one of URL, -d, --all"),
    };
    let found: Vec<_> = live
        .into_iter()
        .filter(|(_, m)| selector.matches(m))
        .collect();
    if found.is_empty() {
        return Err(Error::NoSuchInstance(selector.describe()));
    }
    Ok(found)
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
