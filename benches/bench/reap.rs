//! Idle reaping: with `-w 1s`, how long from the last client disconnecting
//! until the postmaster is gone and `run/<id>` deleted.
//!
//! Polled every 2 ms, so that is the resolution; the expected answer is the
//! 1 s timeout plus pgtmp's detection and shutdown time.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::client;
use crate::procfs;
use crate::results::{Results, Series, Side};
use crate::scenarios::Bench;

const TIMEOUT: &str = "1s";
const DEADLINE: Duration = Duration::from_secs(20);

pub fn reap(bench: &mut Bench, results: &mut Results, samples: usize) {
    let mut series = Series::new(
        "reap",
        "pgtmp -w 1s: disconnect to gone",
        Side::Pgtmp,
        false,
    );
    bench.rounds(
        &mut series,
        samples,
        "reap",
        "sampled",
        |bench, series, i| {
            let outcome = once(bench);
            series.record(i, outcome);
        },
    );
    results.series.push(series);
}

fn once(bench: &Bench) -> Result<Duration, String> {
    let handout = bench.pgtmp.start(&["-w", TIMEOUT])?;
    let client = client::select1(&handout.url)?;
    let info = bench.pgtmp.instance(&handout.url)?;
    let pid = info.pid.ok_or(format!("no `pid` in {info:?}"))?;
    let dir = info.dir;
    drop(client);
    let t0 = Instant::now();
    while procfs::alive(pid) || Path::new(&dir).exists() {
        if t0.elapsed() > DEADLINE {
            // `handout` stops it on the way out.
            return Err(format!(
                "still there {DEADLINE:?} after the last client left: postmaster {}, {} {}",
                if procfs::alive(pid) { "alive" } else { "gone" },
                dir.display(),
                if Path::new(&dir).exists() {
                    "exists"
                } else {
                    "gone"
                },
            ));
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    let took = t0.elapsed();
    handout.forget();
    Ok(took)
}
