//! `--shared-tx`: what the proxy costs per round trip, and what
//! `pgtmp rollback` costs next to a fresh hand-out. Round trips through
//! the proxy and straight to a server are timed in alternating blocks of
//! the same run (one sample: the mean of a block), so the machine's slow
//! spells hit both sides.

use std::time::{Duration, Instant};

use postgres::{Client, NoTls};

use crate::interrupt::interrupted;
use crate::results::{Results, Series, Side};
use crate::scenarios::Bench;

/// Round trips per sample.
const BLOCK: u32 = 400;

pub const DIRECT_SIMPLE: &str = "rt_simple_direct";
pub const PROXY_SIMPLE: &str = "rt_simple_proxy";
pub const DIRECT_PREPARED: &str = "rt_prepared_direct";
pub const PROXY_PREPARED: &str = "rt_prepared_proxy";
pub const ROLLBACK: &str = "rollback";
pub const HANDOUT: &str = "shared_tx_handout";

pub fn shared_tx(bench: &Bench, results: &mut Results, samples: usize) {
    let series = [
        (
            DIRECT_SIMPLE,
            "round trip, simple `select 1`: straight to the server",
            Side::Baseline,
        ),
        (
            PROXY_SIMPLE,
            "round trip, simple `select 1`: through --shared-tx",
            Side::Pgtmp,
        ),
        (
            DIRECT_PREPARED,
            "round trip, prepared statement: straight to the server",
            Side::Baseline,
        ),
        (
            PROXY_PREPARED,
            "round trip, prepared statement: through --shared-tx",
            Side::Pgtmp,
        ),
        (
            ROLLBACK,
            "pgtmp rollback URL (2 connections open)",
            Side::Pgtmp,
        ),
        (
            HANDOUT,
            "pgtmp --shared-tx (warm pool) to the first select 1",
            Side::Pgtmp,
        ),
    ];
    let first = results.series.len();
    for (key, label, side) in series {
        results.series.push(Series::new(key, label, side, false));
    }
    let started = bench
        .pgtmp
        .start(&["-w", "0"])
        .and_then(|direct| Ok((direct, bench.pgtmp.start(&["--shared-tx", "-w", "0"])?)));
    let (direct, shared) = match started {
        Ok(pair) => pair,
        Err(e) => {
            results.series[first].note(format!("no instances to measure: {e}"));
            return;
        }
    };
    let connect =
        |url: &str| Client::connect(url, NoTls).map_err(|e| format!("connect to {url}: {e}"));
    let clients =
        connect(&direct.url).and_then(|d| Ok((d, connect(&shared.url)?, connect(&shared.url)?)));
    let (mut d, mut p, _other) = match clients {
        Ok(c) => c,
        Err(e) => {
            results.series[first].note(e);
            return;
        }
    };
    for round in 0..samples {
        if interrupted() {
            return;
        }
        eprintln!("bench: round {}/{samples}: shared-tx", round + 1);
        let s = &mut results.series[first..first + 6];
        s[0].record(round, simple(&mut d));
        s[1].record(round, simple(&mut p));
        s[2].record(round, prepared(&mut d));
        s[3].record(round, prepared(&mut p));
        let t0 = Instant::now();
        s[4].record(
            round,
            bench
                .pgtmp
                .run(&["rollback", &shared.url])
                .map(|_| t0.elapsed()),
        );
        let t0 = Instant::now();
        let fresh = bench
            .pgtmp
            .start(&["--shared-tx"])
            .and_then(|h| crate::client::select1(&h.url).map(|_| h));
        s[5].record(round, fresh.map(|_| t0.elapsed()));
    }
}

fn simple(c: &mut Client) -> Result<Duration, String> {
    let t0 = Instant::now();
    for _ in 0..BLOCK {
        c.simple_query("select 1").map_err(|e| e.to_string())?;
    }
    Ok(t0.elapsed() / BLOCK)
}

fn prepared(c: &mut Client) -> Result<Duration, String> {
    let st = c.prepare("select $1::int4").map_err(|e| e.to_string())?;
    let t0 = Instant::now();
    for i in 0..BLOCK as i32 {
        c.query_one(&st, &[&i]).map_err(|e| e.to_string())?;
    }
    Ok(t0.elapsed() / BLOCK)
}
