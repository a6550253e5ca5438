//! Many hand-outs in a row or at once: does the pool keep up, and does
//! anybody end up waiting for an initdb?

use std::sync::Barrier;
use std::time::Instant;

use crate::client;
use crate::interrupt::interrupted;
use crate::pgtmp::{Handout, Pgtmp};
use crate::results::{Results, Series, Side};
use crate::scenarios::Bench;

pub const BURST: usize = 20;
/// How long a fresh `PGTMP_DIR` may take to settle after its first call.
const QUIET_WAIT: std::time::Duration = std::time::Duration::from_secs(60);
pub const CONCURRENT: usize = 10;

/// [`BURST`] hand-outs back to back, each kept until the burst ends (as a
/// test suite would hold its databases), per call.
pub fn burst(bench: &mut Bench, results: &mut Results, rounds: usize) {
    let mut series = Series::new("burst", "pgtmp burst of 20, per call", Side::Pgtmp, false);
    bench.rounds(
        &mut series,
        rounds,
        "burst",
        "burst started",
        |bench, series, round| {
            if round == 0 {
                let ready = bench.pgtmp.spares();
                series.note(format!(
                    "{ready} spare server(s) ready when the first burst began"
                ));
            }
            timed_burst(&bench.pgtmp, series, round, None);
        },
    );
    flag_initdb_sized(&mut series, results);
    results.series.push(series);
}

/// The first burst after a quiet spell, apart from `burst` (whose later
/// rounds find the spares an earlier burst left): each round in a fresh
/// `PGTMP_DIR`, one untimed hand-out (cold: its template is made) held
/// throughout, the refill let finish (one spare and the pool ready, as
/// after a quiet minute), then [`BURST`] hand-outs back to back, per call.
pub fn first_burst(bench: &mut Bench, results: &mut Results, rounds: usize) {
    let mut series = Series::new(
        "burst_first",
        "pgtmp first burst of 20 after a quiet spell, per call",
        Side::Pgtmp,
        false,
    );
    for round in 0..rounds {
        if interrupted() || series.given_up() {
            break;
        }
        eprintln!("bench: first burst {}/{rounds}", round + 1);
        let pgtmp = bench.ws.pgtmp(
            &bench.pgtmp.bin,
            &format!("quiet-{round}"),
            &bench.pg_bindir,
        );
        let first = pgtmp
            .start(&[])
            .and_then(|h| client::select1(&h.url).map(|c| (c, h)));
        let first = match first {
            Ok(held) => held,
            Err(e) => {
                series.record(
                    round * BURST,
                    Err(format!("the untimed first hand-out: {e}")),
                );
                continue;
            }
        };
        if let Err(why) = pgtmp.wait_pool_full(QUIET_WAIT) {
            series.note(format!("round {}: {why}", round + 1));
        }
        if round == 0 {
            series.note(format!(
                "{} spare server(s) ready when each burst began",
                pgtmp.spares()
            ));
        }
        timed_burst(&pgtmp, &mut series, round, Some(first));
        // Its spares too: they would only take a core from what follows.
        pgtmp.stop_all();
    }
    results.series.push(series);
}

/// [`BURST`] hand-outs back to back, each timed to its first `select 1`
/// and held (with `also`) until the burst ends, as a test suite would
/// hold its databases.
fn timed_burst<'a>(
    pgtmp: &'a Pgtmp,
    series: &mut Series,
    round: usize,
    also: Option<(postgres::Client, Handout<'a>)>,
) {
    let mut held: Vec<_> = also.into_iter().collect();
    for call in 0..BURST {
        let t0 = Instant::now();
        let outcome = pgtmp.start(&[]).and_then(|handout| {
            let client = client::select1(&handout.url)?;
            let took = t0.elapsed();
            held.push((client, handout));
            Ok(took)
        });
        series.record(round * BURST + call, outcome);
    }
    // Clients close before their instances stop.
    for (client, handout) in held {
        drop(client);
        drop(handout);
    }
}

/// initdb's median, and the burst calls slower than it: those must have
/// waited for an initdb instead of taking a ready copy.
pub fn paid_for_initdb(results: &Results, burst: &Series) -> Option<(f64, Vec<(usize, f64)>)> {
    let initdb = results.get("initdb").and_then(Series::median)?;
    let slow = burst
        .samples
        .iter()
        .copied()
        .filter(|(_, ms)| *ms > initdb)
        .collect();
    Some((initdb, slow))
}

fn flag_initdb_sized(series: &mut Series, results: &Results) {
    let Some((initdb, slow)) = paid_for_initdb(results, series) else {
        return;
    };
    if !slow.is_empty() {
        let calls: Vec<String> = slow
            .iter()
            .map(|(i, ms)| format!("#{} ({}) {ms:.0} ms", i % BURST + 1, i / BURST + 1))
            .collect();
        series.note(format!(
            "{} call(s) slower than initdb's median {initdb:.0} ms, as if they paid for initdb: \
             call (burst) {}",
            calls.len(),
            calls.join(", ")
        ));
    }
}

/// [`CONCURRENT`] hand-outs started at once; all must succeed. Records the
/// wall time for all of them and each call's own time.
pub fn concurrent(bench: &mut Bench, results: &mut Results, rounds: usize) {
    let mut wall = Series::new(
        "concurrent",
        "pgtmp, 10 at once: wall time",
        Side::Pgtmp,
        false,
    );
    let mut calls = Series::new(
        "concurrent_call",
        "pgtmp, 10 at once: per call",
        Side::Pgtmp,
        false,
    );
    bench.rounds(
        &mut wall,
        rounds,
        "concurrent",
        "started",
        |bench, wall, round| {
            let barrier = Barrier::new(CONCURRENT);
            let pgtmp = &bench.pgtmp;
            let outcomes: Vec<_> = std::thread::scope(|s| {
                let threads: Vec<_> = (0..CONCURRENT)
                    .map(|_| {
                        s.spawn(|| {
                            barrier.wait();
                            let t0 = Instant::now();
                            let held = pgtmp.start(&[]).and_then(|handout| {
                                client::select1(&handout.url).map(|client| (client, handout))
                            });
                            (t0, Instant::now(), held)
                        })
                    })
                    .collect();
                threads.into_iter().filter_map(|t| t.join().ok()).collect()
            });
            let start = outcomes.iter().map(|(t0, _, _)| *t0).min();
            let end = outcomes.iter().map(|(_, t1, _)| *t1).max();
            let mut failures = Vec::new();
            for (i, (t0, t1, held)) in outcomes.iter().enumerate() {
                let outcome = held.as_ref().map(|_| *t1 - *t0).map_err(Clone::clone);
                if let Err(e) = &outcome {
                    failures.push(e.clone());
                }
                calls.record(round * CONCURRENT + i, outcome);
            }
            wall.record(
                round,
                match (start, end) {
                    (Some(start), Some(end))
                        if failures.is_empty() && outcomes.len() == CONCURRENT =>
                    {
                        Ok(end - start)
                    }
                    _ => Err(format!(
                        "{} of {CONCURRENT} failed: {}",
                        CONCURRENT - (outcomes.len() - failures.len()),
                        failures.first().map_or("thread panicked", String::as_str)
                    )),
                },
            );
            // Clients close before their instances stop.
            for (_, _, held) in outcomes {
                if let Ok((client, handout)) = held {
                    drop(client);
                    drop(handout);
                }
            }
        },
    );
    results.series.push(wall);
    results.series.push(calls);
}
