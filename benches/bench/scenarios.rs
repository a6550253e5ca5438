//! The latency scenarios. pgtmp and the baselines take turns within each
//! round (A B A B ...), so a slow spell of the machine hits both sides of a
//! pair and the per-pair ratios stay honest.
//!
//! Burst and concurrent hand-outs are in `load.rs`, reaping in `reap.rs`,
//! the generated fixture of the `fixture` scenario in `fixture.rs`.
//!
//! Before every timed sample the warm pools (the plain one and the
//! fixture's) must be full again: a refill
//! still copying in the background would otherwise steal one of the two
//! cores from whatever is measured next.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::baselines::Baselines;
use crate::client;
use crate::fixture;
use crate::interrupt::interrupted;
use crate::pgtmp::Pgtmp;
use crate::restore::{self, Project, Target};
use crate::results::{Results, Series, Side};
use crate::workspace::Workspace;

const POOL_WAIT: Duration = Duration::from_secs(30);
/// Once the pool has failed to fill, waiting long again only wastes the run.
const POOL_WAIT_BROKEN: Duration = Duration::from_millis(500);

#[derive(Debug)]
pub struct Bench<'a> {
    pub ws: &'a Workspace,
    pub baselines: Baselines<'a>,
    /// The warm instance factory; `PGTMP_DIR` lives for the whole run.
    pub pgtmp: Pgtmp,
    pub pg_bindir: PathBuf,
    /// The generated `-f` fixture, once written.
    pub fixture: Option<PathBuf>,
    /// The `--setup` project, once written and run.
    pub project: Option<Project>,
    /// The instance reset and snapshotted, once started.
    pub target: Option<Target>,
    pool_broken: bool,
    /// pgtmp could not even prime its pool: there is nothing to wait for.
    no_pool: bool,
}

impl<'a> Bench<'a> {
    pub fn new(
        ws: &'a Workspace,
        baselines: Baselines<'a>,
        pgtmp: Pgtmp,
        pg_bindir: PathBuf,
    ) -> Bench<'a> {
        Bench {
            ws,
            baselines,
            pgtmp,
            pg_bindir,
            fixture: None,
            project: None,
            target: None,
            pool_broken: false,
            no_pool: false,
        }
    }

    /// One untimed hand-out, so the template and pool exist before the
    /// first warm sample.
    pub fn prime(&mut self) -> Result<(), String> {
        let primed = self.pgtmp.start(&[]).and_then(|handout| {
            client::select1(&handout.url)?;
            Ok(())
        });
        // No pool is coming: do not wait for one before every sample.
        self.no_pool = primed.is_err();
        primed?;
        self.settle().map_or(Ok(()), Err)
    }

    /// Writes the fixture and makes the first, untimed hand-out with it,
    /// which loads and caches it; says how long that took.
    pub fn prime_fixture(&mut self) -> Result<String, String> {
        let file = fixture::write(self.ws)?;
        self.fixture = Some(file.clone());
        let took = fixture::prime(&self.pgtmp, &file)?;
        if let Some(why) = self.settle() {
            return Err(why);
        }
        Ok(format!(
            "{} statements; the first call (load and cache) took {:.0} ms",
            fixture::STATEMENTS,
            took.as_secs_f64() * 1e3
        ))
    }

    /// Writes the `--setup` project and makes its first, untimed call,
    /// which runs the migrations and caches them; says how long that took.
    /// Then starts the instance that `reset` and `snapshot` work on.
    pub fn prime_setup(&mut self) -> Result<String, String> {
        let project = Project::write(self.ws, &self.pg_bindir)?;
        let t0 = Instant::now();
        let primed = project.handout(&self.pgtmp);
        let took = t0.elapsed();
        self.project = Some(project);
        primed?;
        self.target = Some(Target::start(&self.pgtmp)?);
        if let Some(why) = self.settle() {
            return Err(why);
        }
        Ok(format!(
            "a shell loop over {} migrations through psql; the first call (run and cache) took {:.0} ms",
            restore::MIGRATIONS,
            took.as_secs_f64() * 1e3
        ))
    }

    /// Waits for full pools; `Some(why)` if they did not fill.
    pub fn settle(&mut self) -> Option<String> {
        if self.no_pool {
            return None;
        }
        settle_pool(&self.pgtmp, &mut self.pool_broken)
    }
}

impl Bench<'_> {
    /// Runs `each` for every round until interrupted or `series` gives up,
    /// saying so on stderr, and notes a round that `started` without full
    /// pools.
    pub fn rounds(
        &mut self,
        series: &mut Series,
        rounds: usize,
        name: &str,
        started: &str,
        mut each: impl FnMut(&mut Self, &mut Series, usize),
    ) {
        for round in 0..rounds {
            if interrupted() || series.given_up() {
                break;
            }
            eprintln!("bench: {name} {}/{rounds}", round + 1);
            if let Some(why) = self.settle() {
                series.note(format!("{started} without a full pool ({why})"));
            }
            each(self, series, round);
        }
    }
}

fn settle_pool(pgtmp: &Pgtmp, broken: &mut bool) -> Option<String> {
    let wait = if *broken { POOL_WAIT_BROKEN } else { POOL_WAIT };
    let outcome = pgtmp.wait_pool_full(wait).err();
    *broken |= outcome.is_some();
    outcome
}

/// Start (with `args`) to the first answered `select 1`.
pub fn handout(pgtmp: &Pgtmp, args: &[&str]) -> Result<Duration, String> {
    let t0 = Instant::now();
    let handout = pgtmp.start(args)?;
    let _client = client::select1(&handout.url)?;
    Ok(t0.elapsed())
}

/// The interleaved scenarios, in the order they run within a round.
const ROUND: [(&str, &str, Side); 14] = [
    ("initdb", "initdb alone", Side::Baseline),
    ("warm", "pgtmp (warm pool)", Side::Pgtmp),
    (
        "fixture",
        "pgtmp -f fixture.sql (1,000 statements, cached)",
        Side::Pgtmp,
    ),
    (
        "naive",
        "naive: initdb + pg_ctl start + createdb",
        Side::Baseline,
    ),
    ("tcp", "pgtmp -t (warm, TCP)", Side::Pgtmp),
    (
        "pg_tmp",
        "pg_tmp-style: pg_ctl start + createdb",
        Side::Baseline,
    ),
    ("exec", "pgtmp exec -- true", Side::Pgtmp),
    (
        "floor",
        "floor: connect to a running server",
        Side::Baseline,
    ),
    ("cold", "pgtmp (cold: empty PGTMP_DIR)", Side::Pgtmp),
    (
        "setup",
        "pgtmp --setup (50 migrations, cached)",
        Side::Pgtmp,
    ),
    (
        "nospare",
        "pgtmp --spares 0 (pool entry + server start)",
        Side::Pgtmp,
    ),
    (
        "reset",
        "pgtmp reset URL, to the next select 1",
        Side::Pgtmp,
    ),
    ("snapshot", "pgtmp snapshot URL NAME", Side::Pgtmp),
    (
        "setup_first",
        "pgtmp --setup, first call (runs 50 migrations)",
        Side::Pgtmp,
    ),
];

/// Runs the scenarios of [`ROUND`] (those named in `only`, if given).
pub fn interleaved(
    bench: &mut Bench,
    results: &mut Results,
    samples: usize,
    only: Option<&[String]>,
) {
    interleave(
        bench,
        results,
        &ROUND,
        samples,
        only,
        |bench, series, round| match series.key {
            "initdb" => bench.baselines.initdb(),
            "naive" => bench.baselines.naive(),
            "pg_tmp" => bench.baselines.pg_tmp_style(),
            "floor" => bench.baselines.floor(),
            "warm" => handout(&bench.pgtmp, &[]),
            "fixture" => match &bench.fixture {
                Some(file) => handout(&bench.pgtmp, &fixture::args(file)),
                None => Err("the fixture was not written".into()),
            },
            "tcp" => handout(&bench.pgtmp, &["-t"]),
            "exec" => exec(&bench.pgtmp),
            "setup" => match &bench.project {
                Some(p) => p.handout(&bench.pgtmp),
                None => Err("the --setup project was not primed".into()),
            },
            "setup_first" => match &bench.project {
                Some(p) => p.first(&bench.pgtmp, round),
                None => Err("the --setup project was not primed".into()),
            },
            "nospare" => handout(&bench.pgtmp, &["--spares", "0"]),
            "reset" => match &bench.target {
                Some(t) => t.reset(&bench.pgtmp),
                None => Err("no instance to reset".into()),
            },
            "snapshot" => match &bench.target {
                Some(t) => t.snapshot(&bench.pgtmp),
                None => Err("no instance to snapshot".into()),
            },
            _ => cold(bench, round, series),
        },
    );
}

/// Runs the scenarios of `table` (those named in `only`, if given) in
/// `rounds` rounds, taking each in turn within a round; `sample` takes one
/// sample of a series, after the warm pools are full again.
pub fn interleave(
    bench: &mut Bench,
    results: &mut Results,
    table: &[(&'static str, &'static str, Side)],
    rounds: usize,
    only: Option<&[String]>,
    mut sample: impl FnMut(&mut Bench, &mut Series, usize) -> Result<Duration, String>,
) {
    let first = results.series.len();
    let chosen: Vec<_> = table
        .iter()
        .filter(|(key, _, _)| only.is_none_or(|keys| keys.iter().any(|k| k == key)))
        .collect();
    for &&(key, label, side) in &chosen {
        results.series.push(Series::new(key, label, side, true));
    }
    for round in 0..rounds {
        for i in 0..chosen.len() {
            if interrupted() {
                return;
            }
            let series = &mut results.series[first + i];
            if series.given_up() {
                continue;
            }
            if let Some(why) = bench.settle() {
                series.note(format!("sampled without a full warm pool ({why})"));
            }
            eprintln!("bench: round {}/{rounds}: {}", round + 1, series.key);
            let outcome = sample(bench, series, round);
            series.record(round, outcome);
        }
    }
}

fn exec(pgtmp: &Pgtmp) -> Result<Duration, String> {
    let t0 = Instant::now();
    pgtmp.run(&["exec", "--", "true"])?;
    Ok(t0.elapsed())
}

/// A first run ever: its own fresh `PGTMP_DIR`, deleted afterwards once its
/// background pool refill has finished (so it cannot disturb what follows).
fn cold(bench: &mut Bench, round: usize, series: &mut Series) -> Result<Duration, String> {
    let name = format!("cold-{round}");
    let pgtmp = bench.ws.pgtmp(&bench.pgtmp.bin, &name, &bench.pg_bindir);
    let broken = &mut bench.pool_broken;
    first_run(&pgtmp, series, |p| settle_pool(p, broken))
}

/// A hand-out by `pgtmp` whose `PGTMP_DIR` is new, then (once `settle` has
/// waited for its pool: `Some(why)` if it did not fill) everything of it
/// stopped and its directory removed.
pub fn first_run(
    pgtmp: &Pgtmp,
    series: &mut Series,
    settle: impl FnOnce(&Pgtmp) -> Option<String>,
) -> Result<Duration, String> {
    let outcome = handout(pgtmp, &[]);
    if outcome.is_ok()
        && let Some(why) = settle(pgtmp)
    {
        series.note(format!("a cold start's own pool did not fill: {why}"));
    }
    pgtmp.stop_all();
    Workspace::kill_leftovers(&pgtmp.base);
    if let Err(e) = std::fs::remove_dir_all(&pgtmp.base) {
        eprintln!("bench: warning: removing {}: {e}", pgtmp.base.display());
    }
    outcome
}
