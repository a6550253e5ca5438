//! `pgtmp stop URL | -d DIR | --all`: stop now, delete unless kept.

use std::path::{Path, PathBuf};

use crate::cli::{GlobalArgs, StopArgs};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::instance::{Meta, registry, stop};
use crate::paths::Layout;
use crate::url;

pub fn run(args: &StopArgs, global: &GlobalArgs) -> Result<()> {
    let config = Config::resolve(global)?;
    config.enter()?;
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

/// The live instances `args` names; an error when a URL or -d names none.
fn select(layout: &Layout, args: &StopArgs) -> Result<Vec<(PathBuf, Meta)>> {
    let live = registry::live(layout);
    if args.all {
        return Ok(live);
    }
    let (wanted, what): (Box<dyn Fn(&Meta) -> bool>, String) = match (&args.url, &args.datadir) {
        (Some(u), _) => {
            let target = url::parse(u)
                .ok_or_else(|| Error::other(format!("{u:?} is not a PostgreSQL URL")))?;
            let shown = u.clone();
            let u = u.clone();
            (
                Box::new(move |m: &Meta| m.url == u || same_server(m, &target)),
                shown,
            )
        }
        (None, Some(d)) => {
            let d = d.canonicalize().unwrap_or_else(|_| d.clone());
            let shown = d.display().to_string();
            (Box::new(move |m: &Meta| same_dir(&m.data_dir, &d)), shown)
        }
        (None, None) => unreachable!("clap requires one of URL, -d, --all"),
    };
    let found: Vec<_> = live.into_iter().filter(|(_, m)| wanted(m)).collect();
    if found.is_empty() {
        return Err(Error::NoSuchInstance(what));
    }
    Ok(found)
}

fn same_server(meta: &Meta, target: &url::Target) -> bool {
    match target.socket_dir() {
        Some(dir) => same_dir(&meta.socket_dir, &dir) && meta.port == target.port,
        None => meta.tcp && meta.port == target.port,
    }
}

fn same_dir(a: &Path, b: &Path) -> bool {
    a == b || a.canonicalize().ok() == b.canonicalize().ok() && a.exists()
}
