//! Starting spares, in the background refill after a hand-out: up to the
//! demand-sized target (`demand::target`), a few at once, each from a pool
//! entry (or a copy of the template) like any hand-out. One process per
//! class at a time (a file lock), watching the target while starts are in
//! flight so that a burst that outruns it is caught up with.

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use super::{Kind, announce, demand, starting, starting_tokens, token, tokens};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::instance::Settings;
use crate::instance::create::{Launched, NewInstance, Plan};
use crate::lock;
use crate::paths;
use crate::pool::budget::Budget;
use crate::pool::{self, template};

/// A pause in hand-outs this long ends a burst.
const LULL: Duration = Duration::from_millis(100);
const LULL_POLL: Duration = Duration::from_millis(10);
/// The longest a burst defers starting spares.
const MAX_DEFER: Duration = Duration::from_secs(2);

/// How many spares start at once ahead of demand: enough that callers of
/// a burst, who claim those still starting, find one nearly ready. One a
/// caller claimed while it starts is no longer ahead of anybody, so it
/// does not count; at most [`MAX_IN_FLIGHT`] start at once in all.
const BATCH: usize = 2;
const MAX_IN_FLIGHT: usize = 4;
/// How often demand is looked at while starts are in flight.
const DEMAND_POLL: Duration = Duration::from_millis(5);

/// Starts spares of `kind` until the target is ready, unless `stop
/// --all` ran after `began` (when this refill was started). Up to
/// [`BATCH`] start at once, and another starts as soon as one is ready
/// (or was claimed while starting): a burst that outruns the ready ones
/// always finds one well on its way, not a gap between two batches. A
/// failure is returned once the starts in flight are done.
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
    let mut budget = Budget::new(layout);
    // Each start in flight is waited for on a thread of its own, which
    // reports here: the loop meanwhile watches demand.
    let (done, finished) = mpsc::channel::<(PathBuf, Result<()>)>();
    let mut in_flight = 0;
    let mut failed = None;
    let mut stopped = false;
    loop {
        while let Ok((token, result)) = finished.try_recv() {
            in_flight -= 1;
            if let Err(e) = result {
                let _ = std::fs::remove_file(starting(&token));
                failed.get_or_insert(e);
            }
        }
        // `stop --all` ran meanwhile, a start failed, or the budget is
        // spent: start no more.
        stopped = stopped || failed.is_some() || super::halted_since(layout, began);
        let target = demand::target(layout, &class, config.spare_max);
        let ahead = starting_tokens(layout, &class).len();
        let ready = tokens(layout, &class).len() + ahead;
        let wanted = !stopped && ready < target;
        let room = ahead < BATCH && in_flight < MAX_IN_FLIGHT;
        if wanted && room && !(ready > 0 && burst_goes_on(layout, &class, &deferred)) {
            if !budget.allows(&kind.key, true) {
                crate::say!(
                    "pgtmp refill: {class} keeps {ready} spare(s): another ({} MB and a server) would pass the budget",
                    budget.size(&kind.key) >> 20
                );
                stopped = true;
                continue;
            }
            match start(config, kind, &class) {
                Ok((launched, token)) => {
                    crate::trace::mark(&format!(
                        "refill: started a spare ({ready} ready or starting, target {target}, {in_flight} in flight)"
                    ));
                    let done = done.clone();
                    // The supervisor publishes the token before it
                    // reports; nobody waits for this URL.
                    std::thread::spawn(move || {
                        let result = launched.wait().map(drop);
                        let _ = done.send((token, result));
                    });
                    in_flight += 1;
                }
                Err(e) => {
                    failed.get_or_insert(e);
                }
            }
            continue;
        }
        if in_flight == 0 {
            if !wanted {
                return failed.map_or(Ok(()), Err);
            }
            std::thread::sleep(LULL_POLL); // a burst goes on
            continue;
        }
        // Until a start is done, or demand may have moved.
        if let Ok((token, result)) = finished.recv_timeout(DEMAND_POLL) {
            in_flight -= 1;
            if let Err(e) = result {
                let _ = std::fs::remove_file(starting(&token));
                failed.get_or_insert(e);
            }
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
        return Err(Error::NoTemplate(template));
    }
    let new = NewInstance::create(layout)?;
    let token = token(layout, class, &new.id);
    // Announced at once, before the copy: a caller that finds none ready
    // waits for this one rather than copying and starting its own beside
    // it, which would slow both down.
    announce(&token)?;
    let launched = fill_and_launch(config, kind, new, &token);
    if launched.is_err() {
        let _ = std::fs::remove_file(starting(&token));
    }
    Ok((launched?, token))
}

/// Gives the new spare its data directory and starts its supervisor.
fn fill_and_launch(
    config: &Config,
    kind: &Kind,
    mut new: NewInstance,
    token: &Path,
) -> Result<Launched> {
    let layout = &config.layout;
    let data_dir = new.data_dir();
    let replica_data_dirs: Vec<PathBuf> = (1..=kind.topology.replicas())
        .map(|k| new.replica_data_dir(k))
        .collect::<Result<_>>()?;
    // Held for reading while copies are made: `gc` leaves it alone.
    let mut held = None;
    for dir in std::iter::once(&data_dir).chain(&replica_data_dirs) {
        // A pool entry is quicker than a copy; but a refill told to keep
        // no pool (PGTMP_POOL_SIZE=0) would not replace it.
        if config.pool_size == 0 || !pool::claim(layout, &kind.key, dir)? {
            if held.is_none() {
                held = Some(
                    template::hold(layout, &kind.key)?
                        .ok_or_else(|| Error::NoTemplate(layout.template(&kind.key)))?,
                );
            }
            let template = held.as_ref().expect("held just above");
            pool::copy_tree(template.path(), dir)?;
        }
    }
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
        spare: Some(token.to_path_buf()),
        template: Some(kind.key.clone()),
        replica_data_dirs,
        sync: kind.topology.sync(),
        ..Plan::default()
    })?;
    new.launch(&meta, &config.exe)
}
