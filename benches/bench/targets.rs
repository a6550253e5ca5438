//! The goals from the issue, judged against a run. A missed target is a
//! finding to report, never a failed bench: the exit code stays 0.

use crate::load::paid_for_initdb;
use crate::results::{Footprint, Results, Series};
use crate::stats::{paired, paired_ratio};

/// Resident memory allowed for one idle instance, in KiB (40 MiB).
const FOOTPRINT_KIB: u64 = 40 * 1024;

#[derive(Debug)]
pub struct Target {
    pub goal: &'static str,
    /// `None` when the run has not got the numbers to tell.
    pub met: Option<bool>,
    pub detail: String,
}

pub fn evaluate(r: &Results) -> Vec<Target> {
    let mut all = vec![
        warm(r),
        fixture(r),
        setup(r),
        reset(r),
        burst(r),
        spare(r),
        cold(r),
        footprint(r),
        proxy_round_trip(r),
        rollback(r),
        prove(r, "prove", "pg_prove", "serial"),
        prove(r, "prove_j2", "pg_prove_j2", "-j2"),
    ];
    all.extend(crate::topology::targets(r));
    all
}

impl Target {
    pub fn unknown(goal: &'static str, why: &str) -> Target {
        unknown(goal, why)
    }
}

/// Issue 11: a fresh database per file, and still faster than pg_prove on
/// one shared database.
fn prove(r: &Results, ours: &str, theirs: &str, mode: &'static str) -> Target {
    let goal = if mode == "serial" {
        "pgtmp prove ≤ 0.7× pg_prove (20 pgTAP files, serial)"
    } else {
        "pgtmp prove -j2 ≤ 0.7× pg_prove -j2"
    };
    let (Some(a), Some(b)) = (r.get(ours), r.get(theirs)) else {
        return unknown(goal, "not measured");
    };
    let (Some(ma), Some(mb), Some((ratio, pairs))) =
        (a.median(), b.median(), paired_ratio(&a.samples, &b.samples))
    else {
        return unknown(goal, "no successful pair");
    };
    Target {
        goal,
        met: Some(ratio <= 0.7),
        detail: format!(
            "{ratio:.2}× (median of {pairs} per-round ratios); medians {ma:.0} ms vs {mb:.0} ms"
        ),
    }
}

fn median(r: &Results, key: &str) -> Option<f64> {
    r.get(key).and_then(Series::median)
}

fn unknown(goal: &'static str, why: &str) -> Target {
    Target {
        goal,
        met: None,
        detail: why.to_string(),
    }
}

fn warm(r: &Results) -> Target {
    let goal = "warm ≤ 100 ms and ≥ 3× faster than pg_tmp-style";
    let (Some(warm), Some(pg_tmp)) = (r.get("warm"), r.get("pg_tmp")) else {
        return unknown(goal, "not measured");
    };
    let (Some(ms), Some((speedup, pairs))) =
        (warm.median(), paired_ratio(&pg_tmp.samples, &warm.samples))
    else {
        return unknown(goal, "no successful warm/pg_tmp-style pair");
    };
    Target {
        goal,
        met: Some(ms <= 100.0 && speedup >= 3.0),
        detail: format!(
            "median {ms:.1} ms; {speedup:.1}× faster than pg_tmp-style (median of {pairs} pairs)"
        ),
    }
}

/// Judged on the medians, as the issue states it; the median of per-round
/// ratios is shown beside it.
fn fixture(r: &Results) -> Target {
    let goal = "cached fixture hand-out (-f, 1,000 statements) ≤ 1.2× warm (medians)";
    let (Some(fixture), Some(warm)) = (r.get("fixture"), r.get("warm")) else {
        return unknown(goal, "not measured");
    };
    let (Some(f), Some(w)) = (fixture.median(), warm.median()) else {
        return unknown(goal, "no successful fixture or warm sample");
    };
    let pairs = paired_ratio(&fixture.samples, &warm.samples)
        .map_or("no pairs".into(), |(x, n)| {
            format!("{x:.2}× over {n} pairs")
        });
    Target {
        goal,
        met: Some(f <= 1.2 * w),
        detail: format!(
            "median {f:.1} ms vs warm {w:.1} ms = {:.2}×; per round: {pairs}",
            f / w
        ),
    }
}

/// Issue 15: a migrated database per test in the time of a plain one.
fn setup(r: &Results) -> Target {
    let goal = "cached --setup hand-out (50 migrations) ≤ 1.2× warm (medians)";
    let (Some(setup), Some(warm)) = (r.get("setup"), r.get("warm")) else {
        return unknown(goal, "not measured");
    };
    let (Some(s), Some(w)) = (setup.median(), warm.median()) else {
        return unknown(goal, "no successful --setup or warm sample");
    };
    let first =
        median(r, "setup_first").map_or(String::new(), |f| format!("; the first call {f:.0} ms"));
    Target {
        goal,
        met: Some(s <= 1.2 * w),
        detail: format!("median {s:.1} ms vs warm {w:.1} ms = {:.2}×{first}", s / w),
    }
}

/// Issue 15: a reset in about the time of a hand-out. Judged against the
/// warm hand-out (which claims a server started ahead, as a reset of a
/// socket URL does); the hand-out without spares, what a reset without a
/// ready spare costs, is shown beside it.
fn reset(r: &Results) -> Target {
    let goal = "reset ≤ 2× warm hand-out (medians)";
    let (Some(reset), Some(warm)) = (median(r, "reset"), median(r, "warm")) else {
        return unknown(goal, "reset or warm not measured");
    };
    let nospare = median(r, "nospare").map_or(String::new(), |n| {
        format!(
            "; {:.2}× a hand-out without spares ({n:.1} ms), which a reset with no spare ready costs",
            reset / n
        )
    });
    Target {
        goal,
        met: Some(reset <= 2.0 * warm),
        detail: format!(
            "median {reset:.1} ms vs warm {warm:.1} ms = {:.2}×{nospare}",
            reset / warm
        ),
    }
}

fn burst(r: &Results) -> Target {
    let goal = "burst median ≤ 2× warm median, and no call paying for initdb";
    let (Some(series), Some(warm)) = (r.get("burst"), median(r, "warm")) else {
        return unknown(goal, "burst or warm not measured");
    };
    let (Some(burst), Some((initdb, slow))) = (series.median(), paid_for_initdb(r, series)) else {
        return unknown(goal, "no successful burst call, or initdb not measured");
    };
    Target {
        goal,
        met: Some(burst <= 2.0 * warm && slow.is_empty()),
        detail: format!(
            "burst median {burst:.1} ms = {:.2}× warm ({warm:.1} ms); {} of {} calls slower than \
             initdb's median ({initdb:.0} ms)",
            burst / warm,
            slow.len(),
            series.samples.len()
        ),
    }
}

/// Issue 4: with spares, a hand-out costs about one connection.
fn spare(r: &Results) -> Target {
    let goal = "warm and burst medians ≤ 15 ms and ≤ 3× the floor (connect to a running server)";
    let (Some(warm), Some(burst), Some(floor)) =
        (median(r, "warm"), median(r, "burst"), median(r, "floor"))
    else {
        return unknown(goal, "warm, burst or floor not measured");
    };
    let worst = warm.max(burst);
    Target {
        goal,
        met: Some(worst <= 15.0 && worst <= 3.0 * floor),
        detail: format!(
            "warm {warm:.1} ms ({:.1}× floor), burst {burst:.1} ms ({:.1}× floor), floor {floor:.1} ms",
            warm / floor,
            burst / floor
        ),
    }
}

/// Judged per round (cold minus the initdb run next to it), which cancels
/// the machine's drift; the medians are shown for reference.
fn cold(r: &Results) -> Target {
    let goal = "cold ≤ initdb + 150 ms";
    let (Some(cold), Some(initdb)) = (r.get("cold"), r.get("initdb")) else {
        return unknown(goal, "not measured");
    };
    let extra = paired(&cold.samples, &initdb.samples, |c, i| Some(c - i));
    let (Some(c), Some(i), Some((extra, pairs))) = (cold.median(), initdb.median(), extra) else {
        return unknown(goal, "no successful cold/initdb pair");
    };
    Target {
        goal,
        met: Some(extra <= 150.0),
        detail: format!(
            "cold − initdb, same round: median {extra:+.0} ms over {pairs} pairs \
             (medians: cold {c:.0} ms, initdb {i:.0} ms)"
        ),
    }
}

fn footprint(r: &Results) -> Target {
    let goal = "footprint ≤ 40 MiB resident (PSS of supervisor + postgres processes)";
    let Some(Ok(f)) = r
        .footprints
        .iter()
        .find(|f| matches!(f, Ok(f) if f.label.starts_with("pgtmp")))
    else {
        return unknown(goal, "not measured");
    };
    let Footprint {
        rss_kib, pss_kib, ..
    } = *f;
    let resident = pss_kib.unwrap_or(rss_kib);
    Target {
        goal,
        met: Some(resident <= FOOTPRINT_KIB),
        detail: format!(
            "PSS {}, RSS sum {} over {} processes",
            pss_kib.map_or("unreadable (RSS used)".into(), mib),
            mib(rss_kib),
            f.processes
        ),
    }
}

pub fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

/// `--shared-tx`: the proxy's cost per round trip, paired block by block.
fn proxy_round_trip(r: &Results) -> Target {
    use crate::shared_tx::{DIRECT_PREPARED, DIRECT_SIMPLE, PROXY_PREPARED, PROXY_SIMPLE};
    let goal = "--shared-tx adds ≤ 100 µs per round trip (simple and prepared)";
    let added = |direct: &str, proxy: &str| -> Option<f64> {
        let (d, p) = (r.get(direct)?, r.get(proxy)?);
        let mut diffs: Vec<f64> = p
            .samples
            .iter()
            .filter_map(|(round, v)| {
                d.samples
                    .iter()
                    .find(|(r2, _)| r2 == round)
                    .map(|(_, w)| v - w)
            })
            .collect();
        diffs.sort_by(|a, b| a.total_cmp(b));
        diffs.get(diffs.len() / 2).copied()
    };
    match (
        added(DIRECT_SIMPLE, PROXY_SIMPLE),
        added(DIRECT_PREPARED, PROXY_PREPARED),
    ) {
        (Some(simple), Some(prepared)) => Target {
            goal,
            met: Some(simple <= 0.1 && prepared <= 0.1),
            detail: format!(
                "added (median of paired blocks): simple {:.0} µs, prepared {:.0} µs",
                simple * 1e3,
                prepared * 1e3
            ),
        },
        _ => unknown(goal, "not measured"),
    }
}

fn rollback(r: &Results) -> Target {
    let goal = "pgtmp rollback < 5 ms";
    match median(r, crate::shared_tx::ROLLBACK) {
        Some(ms) => Target {
            goal,
            met: Some(ms < 5.0),
            detail: format!(
                "median {ms:.2} ms; a fresh --shared-tx hand-out: {}",
                median(r, crate::shared_tx::HANDOUT)
                    .map_or_else(|| "not measured".into(), |h| format!("{h:.1} ms"))
            ),
        },
        None => unknown(goal, "not measured"),
    }
}
