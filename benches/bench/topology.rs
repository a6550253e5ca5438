//! Sets and logical pairs (issue 12): pgtmp's `--replicas`, `--sync`,
//! `--logical` and `promote` against the testgres way of getting the same
//! topology, rounds interleaved as in `scenarios`.
//!
//! - testgres-style primary + replica: initdb, `pg_ctl start -w`,
//!   `pg_basebackup -R -X stream` (its default spread checkpoint, as
//!   testgres' `backup()` runs it; and once more with `--checkpoint=fast`,
//!   which testgres does not pass), `pg_ctl start -w` of the replica, to the
//!   first answered `select 1` on the replica;
//! - pgtmp `--replicas 1` without a spare (`--spares 0`: pool copies of the
//!   template, servers started on the call) and with a spare set ready (the
//!   steady state of a suite asking again and again), and `--replicas 2
//!   --sync`, each to the first answered `select 1` on the last replica;
//! - a logical pair: a publisher (`--logical`, as `-F dsn`) and a
//!   subscriber, a table on both, CREATE PUBLICATION / SUBSCRIPTION, one
//!   row inserted, to that row on the subscriber (polled every millisecond
//!   on both sides, not testgres' every second); the baseline is two
//!   initdb'd servers started with pg_ctl, the publisher with
//!   `wal_level=logical`;
//! - promote: `pgtmp promote` of a running set's replica (a switchover:
//!   the old primary stops, the replica promotes, the old primary rejoins
//!   as a replica, all caught up), against `pg_ctl promote -w` of a
//!   testgres-style replica (promotion alone).

use std::time::{Duration, Instant};

use postgres::{Client, NoTls};

use crate::client;
use crate::pgtmp::Pgtmp;
use crate::results::{Results, Series, Side};
use crate::scenarios::{Bench, interleave};
use crate::server::{Cluster, Pg};
use crate::stats::paired_ratio;
use crate::targets::Target;

/// How long a replicated row may take to arrive.
const ROW_DEADLINE: Duration = Duration::from_secs(30);

/// The scenarios, in the order they run within a round.
const ROUND: [(&str, &str, Side); 10] = [
    (
        "tg_replica",
        "testgres-style primary + replica (pg_basebackup, default spread checkpoint)",
        Side::Baseline,
    ),
    (
        "replicas1",
        "pgtmp --replicas 1 (no spare: pool copies, started on the call)",
        Side::Pgtmp,
    ),
    (
        "tg_replica_fast",
        "testgres-style primary + replica, pg_basebackup --checkpoint=fast",
        Side::Baseline,
    ),
    (
        "replicas1_warm",
        "pgtmp --replicas 1 (a spare set ready)",
        Side::Pgtmp,
    ),
    (
        "replicas2_sync",
        "pgtmp --replicas 2 --sync (no spare), to the last replica",
        Side::Pgtmp,
    ),
    (
        "replicas2_sync_warm",
        "pgtmp --replicas 2 --sync (a spare set ready), to the last replica",
        Side::Pgtmp,
    ),
    (
        "tg_logical",
        "testgres-style logical pair (2× initdb + pg_ctl), first row replicated",
        Side::Baseline,
    ),
    (
        "logical",
        "pgtmp --logical + pgtmp, publication/subscription, first row replicated",
        Side::Pgtmp,
    ),
    (
        "tg_promote",
        "pg_ctl promote -w of a testgres-style replica",
        Side::Baseline,
    ),
    (
        "promote",
        "pgtmp promote (switchover: old primary rejoins as a replica)",
        Side::Pgtmp,
    ),
];

/// The keys this module measures, for `--only`.
pub fn keys() -> impl Iterator<Item = &'static str> {
    ROUND.iter().map(|(key, _, _)| *key)
}

/// Runs the scenarios of [`ROUND`] (those named in `only`), `rounds` times.
pub fn run(
    bench: &mut Bench,
    pg: &Pg,
    results: &mut Results,
    rounds: usize,
    only: Option<&[String]>,
) {
    // Untimed: the templates of the replica and logical WAL levels, their
    // pools, and spare sets of each kind the warm rows claim.
    for args in [
        &["--replicas", "1"][..],
        &["--replicas", "2", "--sync"],
        &["--logical", "-F", "dsn"],
    ] {
        if let Err(e) = Set::start(&bench.pgtmp, args) {
            eprintln!("bench: warning: priming `pgtmp {}`: {e}", args.join(" "));
        }
        if let Some(why) = bench.settle() {
            eprintln!(
                "bench: warning: after priming `pgtmp {}`: {why}",
                args.join(" ")
            );
        }
    }
    let mut made = 0;
    let first = results.series.len();
    interleave(bench, results, &ROUND, rounds, only, |bench, series, _| {
        made += 1;
        let fresh = |kind: &str| Cluster::new(pg, bench.ws.path(&format!("{kind}-{made}")));
        let pgtmp = &bench.pgtmp;
        match series.key {
            "tg_replica" => tg_replica(&fresh, false),
            "tg_replica_fast" => tg_replica(&fresh, true),
            "replicas1" => set(pgtmp, &["--replicas", "1", "--spares", "0"]),
            "replicas1_warm" => set(pgtmp, &["--replicas", "1"]),
            "replicas2_sync" => set(pgtmp, &["--replicas", "2", "--sync", "--spares", "0"]),
            "replicas2_sync_warm" => set(pgtmp, &["--replicas", "2", "--sync"]),
            "tg_logical" => tg_logical(pg, &fresh),
            "logical" => logical(pgtmp),
            "tg_promote" => tg_promote(&fresh),
            _ => promote(pgtmp),
        }
    });
    // Paired with the testgres-style rows of their own rounds (see
    // `targets`), not with the plain rows' baselines of other rounds.
    for series in &mut results.series[first..] {
        series.paired = false;
    }
}

/// A set pgtmp printed; dropping it stops it (through its primary's URL).
struct Set<'a> {
    pgtmp: &'a Pgtmp,
    urls: Vec<String>,
}

impl Set<'_> {
    fn start<'a>(pgtmp: &'a Pgtmp, args: &[&str]) -> Result<Set<'a>, String> {
        let ran = pgtmp.run(args)?;
        // One line per server (URLs, or `-F dsn` connection strings).
        let urls: Vec<String> = ran.stdout.lines().map(str::to_string).collect();
        if urls.is_empty() || urls.iter().any(|u| u.trim().is_empty()) {
            return Err(format!(
                "pgtmp printed {:?}, not one line per server",
                ran.stdout
            ));
        }
        Ok(Set { pgtmp, urls })
    }
}

impl Drop for Set<'_> {
    fn drop(&mut self) {
        if let Some(primary) = self.urls.first()
            && let Err(e) = self.pgtmp.stop(primary)
        {
            eprintln!("bench: warning: {e}");
        }
    }
}

/// `pgtmp ARGS` to the first answered `select 1` on the last server.
fn set(pgtmp: &Pgtmp, args: &[&str]) -> Result<Duration, String> {
    let t0 = Instant::now();
    let set = Set::start(pgtmp, args)?;
    let last = set.urls.last().expect("at least one URL");
    let _client = client::select1(last)?;
    Ok(t0.elapsed())
}

/// A primary and a replica made the testgres way, started; `fast` passes
/// `--checkpoint=fast` to pg_basebackup.
fn tg_pair<'a>(
    fresh: &dyn Fn(&str) -> Result<Cluster<'a>, String>,
    fast: bool,
) -> Result<(Cluster<'a>, Cluster<'a>), String> {
    let mut primary = fresh("tg-primary")?;
    primary.initdb()?;
    primary.start()?;
    let mut replica = fresh("tg-replica")?;
    replica.basebackup_from(&primary, fast)?;
    replica.start()?;
    Ok((primary, replica))
}

fn tg_replica<'a>(
    fresh: &dyn Fn(&str) -> Result<Cluster<'a>, String>,
    fast: bool,
) -> Result<Duration, String> {
    let t0 = Instant::now();
    let (_primary, replica) = tg_pair(fresh, fast)?;
    let _client = client::select1(&replica.url("postgres"))?;
    Ok(t0.elapsed())
}

/// The logical pair's SQL, from two connection strings to the first row on
/// the subscriber; returns the subscriber's connection, to drop the
/// subscription with (see [`unsubscribe`]).
fn publish_and_subscribe(publisher: &str, subscriber: &str, dsn: &str) -> Result<Client, String> {
    let connect = |c: &str| Client::connect(c, NoTls).map_err(|e| format!("connect {c}: {e}"));
    let run = |client: &mut Client, sql: &str| {
        client.batch_execute(sql).map_err(|e| {
            let why = e
                .as_db_error()
                .map_or(e.to_string(), |d| d.message().to_string());
            format!("{sql}: {why}")
        })
    };
    let mut p = connect(publisher)?;
    let mut s = connect(subscriber)?;
    run(
        &mut p,
        "create table t(i int primary key); create publication p for table t",
    )?;
    run(&mut s, "create table t(i int primary key)")?;
    run(
        &mut s,
        &format!("create subscription s connection '{dsn}' publication p"),
    )?;
    run(&mut p, "insert into t values (1)")?;
    let t0 = Instant::now();
    loop {
        let rows = s
            .query_one("select count(*) from t", &[])
            .map_err(|e| format!("count on the subscriber: {e}"))?;
        if rows.get::<_, i64>(0) == 1 {
            break;
        }
        if t0.elapsed() > ROW_DEADLINE {
            return Err(format!("no row on the subscriber after {ROW_DEADLINE:?}"));
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    Ok(s)
}

/// Drops the subscription, outside the timing: it must go before its
/// publisher does, or the subscriber's worker retries for ever.
fn unsubscribe(mut subscriber: Client) -> Result<(), String> {
    subscriber
        .batch_execute("drop subscription s")
        .map_err(|e| format!("drop subscription: {e}"))
}

fn tg_logical<'a>(
    pg: &Pg,
    fresh: &dyn Fn(&str) -> Result<Cluster<'a>, String>,
) -> Result<Duration, String> {
    let t0 = Instant::now();
    let mut publisher = fresh("tg-pub")?;
    publisher.initdb()?;
    publisher.start_with("-c wal_level=logical")?;
    let mut subscriber = fresh("tg-sub")?;
    subscriber.initdb()?;
    subscriber.start()?;
    let dsn = format!(
        "host={} user={} dbname=postgres",
        publisher.dir.display(),
        pg.who.me.name
    );
    let s = publish_and_subscribe(
        &publisher.url("postgres"),
        &subscriber.url("postgres"),
        &dsn,
    )?;
    let took = t0.elapsed();
    unsubscribe(s)?;
    Ok(took)
}

fn logical(pgtmp: &Pgtmp) -> Result<Duration, String> {
    let t0 = Instant::now();
    // The subscriber is given the publisher's `-F dsn`, as a user would.
    let publisher = Set::start(pgtmp, &["--logical", "-F", "dsn"])?;
    let subscriber = Set::start(pgtmp, &[])?;
    let dsn = &publisher.urls[0];
    let s = publish_and_subscribe(dsn, &subscriber.urls[0], dsn)?;
    let took = t0.elapsed();
    unsubscribe(s)?;
    Ok(took)
}

fn tg_promote<'a>(fresh: &dyn Fn(&str) -> Result<Cluster<'a>, String>) -> Result<Duration, String> {
    let (_primary, replica) = tg_pair(fresh, true)?;
    let t0 = Instant::now();
    replica.promote()?;
    Ok(t0.elapsed())
}

fn promote(pgtmp: &Pgtmp) -> Result<Duration, String> {
    let set = Set::start(pgtmp, &["--replicas", "1", "-w", "0"])?;
    let t0 = Instant::now();
    pgtmp.run(&["promote", &set.urls[1]])?;
    Ok(t0.elapsed())
}

/// The goals for sets.
pub fn targets(r: &Results) -> Vec<Target> {
    vec![set_vs_testgres(r), steady_set(r)]
}

fn set_vs_testgres(r: &Results) -> Target {
    let goal = "primary + one replica (no spare) ≤ 1/5 of testgres-style and under one initdb";
    let (Some(set), Some(tg), Some(initdb)) = (
        r.get("replicas1"),
        r.get("tg_replica"),
        r.get("initdb").and_then(Series::median),
    ) else {
        return Target::unknown(goal, "not measured (needs replicas1, tg_replica, initdb)");
    };
    let (Some(ms), Some(tg_ms), Some((speedup, pairs))) = (
        set.median(),
        tg.median(),
        paired_ratio(&tg.samples, &set.samples),
    ) else {
        return Target::unknown(goal, "no successful pair");
    };
    Target {
        goal,
        met: Some(speedup >= 5.0 && ms < initdb),
        detail: format!(
            "median {ms:.0} ms vs testgres-style {tg_ms:.0} ms: {speedup:.1}× faster (median of {pairs} pairs); initdb median {initdb:.0} ms"
        ),
    }
}

fn steady_set(r: &Results) -> Target {
    let goal = "steady state (a spare set ready): primary + one replica ≤ 3× a plain warm hand-out";
    let (Some(set), Some(warm)) = (
        r.get("replicas1_warm").and_then(Series::median),
        r.get("warm").and_then(Series::median),
    ) else {
        return Target::unknown(goal, "not measured (needs replicas1_warm, warm)");
    };
    Target {
        goal,
        met: Some(set <= 3.0 * warm),
        detail: format!(
            "median {set:.1} ms vs warm {warm:.1} ms = {:.2}×",
            set / warm
        ),
    }
}
