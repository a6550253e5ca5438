//! Per-version rows: a warm and a cold hand-out on the newest installation
//! of every PostgreSQL major `pgtmp versions` sees (the usual places, and
//! `PGTMP_PG_PATH`, else the checkout's `.pg/pg-path` that
//! `.ci/install-deps` writes). Each version gets a `PGTMP_DIR` of its own;
//! warm and cold take turns within a round, as the main scenarios do.
//!
//! Self-contained (one entry point, `run`), so that it moves with the rest
//! of the harness.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use pgtmp::json::Installation as Listed;

use crate::command;
use crate::interrupt::interrupted;
use crate::results::{Results, Series, Side};
use crate::scenarios::{Bench, first_run, handout};
use crate::workspace::Workspace;

const POOL_WAIT: Duration = Duration::from_secs(30);

/// The `PGTMP_PG_PATH` the rows see.
fn pg_path() -> String {
    std::env::var("PGTMP_PG_PATH").unwrap_or_else(|_| {
        let file = Path::new(env!("CARGO_MANIFEST_DIR")).join(".pg/pg-path");
        std::fs::read_to_string(file)
            .map(|s| s.trim().to_string())
            .unwrap_or_default()
    })
}

/// The newest installation of each major, oldest major first.
fn installations(bin: &Path, base: &Path) -> Result<Vec<Listed>, String> {
    let mut cmd = Command::new(bin);
    command::scrub_env(&mut cmd);
    cmd.args(["versions", "--json"])
        .env("PGTMP_DIR", base)
        .env("PGTMP_PG_PATH", pg_path());
    let ran = command::check(&mut cmd, Duration::from_secs(60))?;
    let mut all: Vec<Listed> = serde_json::from_str(&ran.stdout)
        .map_err(|e| format!("`pgtmp versions --json`: {e}: {:?}", ran.stdout))?;
    all.sort_by(|a, b| (a.major, &b.version).cmp(&(b.major, &a.version)));
    all.dedup_by_key(|l| l.major);
    Ok(all)
}

/// A string that lives as long as the run (series keys are `&'static`).
fn leak(text: String) -> &'static str {
    Box::leak(text.into_boxed_str())
}

pub fn run(bench: &mut Bench, results: &mut Results, rounds: usize) {
    let ws = bench.ws;
    let bin = bench.pgtmp.bin.clone();
    let installs = match installations(&bin, &ws.path("versions-list")) {
        Ok(all) => all,
        Err(e) => {
            eprintln!("bench: warning: per-version rows: {e}");
            results
                .meta
                .push(("per-version rows", format!("not run: {e}")));
            return;
        }
    };
    let listed: Vec<String> = installs
        .iter()
        .map(|l| format!("{} ({})", l.version, l.bindir.display()))
        .collect();
    results.meta.push(("per-version rows", listed.join(", ")));
    for pg in &installs {
        if interrupted() {
            return;
        }
        let v = pg.version.as_str();
        let mut warm = Series::new(
            leak(format!("warm-{}", pg.major)),
            leak(format!("pgtmp on {v} (warm pool)")),
            Side::Pgtmp,
            false,
        );
        let mut cold = Series::new(
            leak(format!("cold-{}", pg.major)),
            leak(format!("pgtmp on {v} (cold: empty PGTMP_DIR)")),
            Side::Pgtmp,
            false,
        );
        let pgtmp = ws.pgtmp(&bin, &format!("v{}", pg.major), &pg.bindir);
        if let Err(e) = pgtmp.start(&[]).map(drop) {
            warm.record(0, Err(format!("priming: {e}")));
        }
        for round in 0..rounds {
            if interrupted() {
                break;
            }
            eprintln!("bench: round {}/{rounds}: PostgreSQL {v}", round + 1);
            if let Err(why) = pgtmp.wait_pool_full(POOL_WAIT) {
                warm.note(format!("sampled without a full warm pool ({why})"));
            }
            if !warm.given_up() {
                warm.record(round, handout(&pgtmp, &[]));
            }
            if !cold.given_up() {
                let outcome = cold_start(ws, &bin, &pg.bindir, pg.major, round, &mut cold);
                cold.record(round, outcome);
            }
        }
        pgtmp.stop_all();
        results.series.extend([warm, cold]);
    }
}

/// A first run ever on this version: its own fresh `PGTMP_DIR`.
fn cold_start(
    ws: &Workspace,
    bin: &Path,
    bindir: &Path,
    major: u32,
    round: usize,
    series: &mut Series,
) -> Result<Duration, String> {
    let pgtmp = ws.pgtmp(bin, &format!("v{major}-cold-{round}"), bindir);
    first_run(&pgtmp, series, |p| p.wait_pool_full(POOL_WAIT).err())
}
