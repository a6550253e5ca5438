//! Starting spares, in the background refill after a hand-out: up to the
//! demand-sized target (`demand::target`), several at once, each from a
//! pool entry (or a copy of the template) like any hand-out. One process
//! per class at a time (a file lock), re-checking the target after each
//! batch so that a burst that outruns it is caught up with.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use super::{Kind, announce, demand, starting, starting_tokens, token, tokens};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::instance::Settings;
use crate::instance::create::{Launched, NewInstance, Plan};
use crate::lock;
use crate::paths;
use crate::pool;

/// A pause in hand-outs this long ends a burst.
const LULL: Duration = Duration::from_millis(100);
const LULL_POLL: Duration = Duration::from_millis(10);
/// The longest a burst defers starting spares.
const MAX_DEFER: Duration = Duration::from_secs(2);

/// How many spares start at once: enough in flight that callers of a
/// burst, who claim those still starting, find one nearly ready.
const BATCH: usize = 2;

/// Starts spares of `kind` until the target is ready, unless `stop
/// --all` ran after `began` (when this refill was started). A failure is
/// returned after the batch it happened in.
pub fn run(config: &Config, kind: &Kind, began: std::time::SystemTime) -> Result<()> {
    if config.spare_max == 0 {
        return Ok(());
    }
    let layout = &config.layout;
    let class = kind.class();
    paths::mkdir_private(&layout.spare_root())?;
    let Some(_guard) = lock::try_lock(&layout.spare_lock(&class))? else {
        return Ok(()); // another refill is on it
    };
    let deferred = Instant::now();
    loop {
        if super::halted_since(layout, began) {
            return Ok(()); // `stop --all` ran meanwhile
        }
        let target = demand::target(layout, &class, config.spare_max);
        let ready = tokens(layout, &class).len() + starting_tokens(layout, &class).len();
        if ready >= target {
            return Ok(());
        }
        if ready > 0 && burst_goes_on(layout, &class, &deferred) {
            std::thread::sleep(LULL_POLL);
            continue;
        }
        let mut launched = Vec::new();
        let mut failed = None;
        for _ in 0..(target - ready).min(BATCH) {
            match start(config, kind, &class) {
                Ok(l) => launched.push(l),
                Err(e) => {
                    failed = Some(e);
                    break;
                }
            }
        }
        for (l, token) in launched {
            // The supervisor published its token before reporting; nobody
            // waits for this URL.
            if let Err(e) = l.wait() {
                let _ = std::fs::remove_file(starting(&token));
                failed.get_or_insert(e);
            }
        }
        if let Some(e) = failed {
            return Err(e);
        }
    }
}

/// While hand-outs keep coming and spares are left, starting more would
/// only take CPU from those hand-outs: wait for a lull of [`LULL`], for
/// at most [`MAX_DEFER`]. With none left, starting at once is quicker than
/// each caller starting its own.
fn burst_goes_on(layout: &crate::paths::Layout, class: &str, since: &Instant) -> bool {
    since.elapsed() < MAX_DEFER
        && demand::since_last(layout, class).is_some_and(|ms| ms < LULL.as_millis() as u64)
}

/// Creates one spare instance, starts its supervisor and announces it.
fn start(config: &Config, kind: &Kind, class: &str) -> Result<(Launched, PathBuf)> {
    let layout = &config.layout;
    let template = layout.template(&kind.key);
    if !template.join("PG_VERSION").exists() {
        return Err(Error::other(format!(
            "no template at {}",
            template.display()
        )));
    }
    let mut new = NewInstance::create(layout)?;
    let data_dir = new.data_dir();
    let replica_data_dirs: Vec<PathBuf> = (1..=kind.topology.replicas())
        .map(|k| new.replica_data_dir(k))
        .collect::<Result<_>>()?;
    for dir in std::iter::once(&data_dir).chain(&replica_data_dirs) {
        // A pool entry is quicker than a copy; but a refill told to keep
        // no pool (PGTMP_POOL_SIZE=0) would not replace it.
        if config.pool_size == 0 || !pool::claim(layout, &kind.key, dir)? {
            pool::copy_tree(&template, dir)?;
        }
    }
    let token = token(layout, class, &new.id);
    let meta = new.describe(Plan {
        role: kind.role.clone(),
        uid: config.identity.uid,
        tcp: kind.tcp,
        data_dir,
        bindir: kind.bindir.clone(),
        settings: Settings {
            timeout_ms: config.spare_timeout.as_millis() as u64,
            ..Settings::default()
        },
        spare: Some(token.clone()),
        replica_data_dirs,
        sync: kind.topology.sync(),
        ..Plan::default()
    })?;
    let launched = new.launch(&meta)?;
    announce(&token)?;
    Ok((launched, token))
}
