//! `pgtmp stop URL | -d DIR | --all`: stop now, delete unless kept.

use super::options;
use crate::cli::{GlobalArgs, StopArgs};
use crate::config::Config;
use crate::error::Result;
use crate::instance::select::{Selector, select};
use crate::instance::stop;
use crate::spare;

/// How long `stop --all` waits for a refill to stop starting spares.
const HALT_WAIT: std::time::Duration = std::time::Duration::from_secs(30);

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
    let targets = select(&config.layout, &selector)?;
    let mut first_error = None;
    for (dir, _) in targets {
        match stop::stop(&dir) {
            Ok(kept) => {
                for kept in kept {
                    eprintln!("pgtmp: data directory kept: {}", kept.display());
                }
            }
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    first_error.map_or(Ok(()), Err)
}
