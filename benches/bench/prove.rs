//! The prove scenario: one 20-file pgTAP suite (120 assertions, the shape
//! of pgtmp's research: six assertions a file inside BEGIN/ROLLBACK) run by
//! `pgtmp prove`, each file in a fresh database, and by pg_prove against
//! one shared pgtmp database (what a pg_prove user has), serial and with
//! `-j2`, the four taking turns within each round. Each sample is the
//! whole command, start to exit: for `pgtmp prove` that includes getting
//! its server and stopping it.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::command;
use crate::interrupt::interrupted;
use crate::results::{Results, Series, Side};
use crate::scenarios::Bench;

const FILES: usize = 20;
const TESTS: usize = 6 * FILES;
const TIMEOUT: Duration = Duration::from_secs(120);
/// The longest a sample waits for its refill to bring the spares back.
const SPARES_WAIT: Duration = Duration::from_secs(5);

/// Where Debian puts pg_prove (libtap-parser-sourcehandler-pgtap-perl).
const PG_PROVE: &str = "/usr/bin/pg_prove";

/// The scenarios of a round, in order.
const ROUND: [(&str, &str, Side); 4] = [
    (
        "prove",
        "pgtmp prove: 20 pgTAP files, a fresh database each",
        Side::Pgtmp,
    ),
    (
        "pg_prove",
        "pg_prove: the same files, one shared database",
        Side::Baseline,
    ),
    ("prove_j2", "pgtmp prove -j2", Side::Pgtmp),
    ("pg_prove_j2", "pg_prove -j2", Side::Baseline),
];

/// Writes the suite and its schema; returns the directory they are in.
fn write_suite(bench: &Bench) -> Result<PathBuf, String> {
    let dir = bench.ws.path("prove");
    let t = dir.join("t");
    std::fs::create_dir_all(&t).map_err(|e| format!("creating {}: {e}", t.display()))?;
    let schema = "CREATE TABLE users (id int PRIMARY KEY, name text NOT NULL);\n\
                  INSERT INTO users VALUES (1, 'alice'), (2, 'bob');\n";
    let write = |path: &Path, text: &str| {
        std::fs::write(path, text).map_err(|e| format!("writing {}: {e}", path.display()))
    };
    write(&dir.join("schema.sql"), schema)?;
    for i in 1..=FILES {
        let id = 100 + i;
        let mut sql = String::new();
        let _ = write!(
            sql,
            "BEGIN;\nSELECT plan(6);\n\
             SELECT has_table('users');\n\
             SELECT col_is_pk('users', 'id');\n\
             INSERT INTO users VALUES ({id}, 'user {i}');\n\
             SELECT is((SELECT count(*)::int FROM users), 3, 'three users');\n\
             SELECT results_eq('SELECT name FROM users WHERE id = {id}', ARRAY['user {i}'], 'the new one');\n\
             SELECT throws_ok('INSERT INTO users VALUES (999, NULL)', '23502');\n\
             SELECT lives_ok('UPDATE users SET name = name || ''!'' WHERE id = {id}');\n\
             SELECT * FROM finish();\nROLLBACK;\n"
        );
        write(&t.join(format!("{i:02}.sql")), &sql)?;
    }
    Ok(dir)
}

/// Runs the scenario for `samples` rounds.
pub fn prove(bench: &mut Bench, results: &mut Results, samples: usize) {
    let first = results.series.len();
    for (key, label, side) in ROUND {
        results.series.push(Series::new(key, label, side, false));
    }
    // Its own handle: the shared database lives while `bench` is used.
    let pgtmp = bench.pgtmp.clone();
    let setup = write_suite(bench).and_then(|dir| {
        // Untimed: builds the template with the schema and pgTAP.
        run_prove(bench, &dir, &[])?;
        let mut cmd = pgtmp.command(&["-x", "pgtap", "-f", "schema.sql", "-w", "0"]);
        cmd.current_dir(&dir);
        let url = command::check(&mut cmd, TIMEOUT)
            .map(|ran| ran.stdout.trim().to_string())
            .map_err(|e| format!("the shared database for pg_prove: {e}"));
        Ok((dir, url))
    });
    let (dir, shared_url) = match setup {
        Ok(s) => s,
        Err(e) => {
            for s in &mut results.series[first..] {
                s.record(0, Err(e.clone()));
            }
            return;
        }
    };
    for round in 0..samples {
        for i in 0..ROUND.len() {
            if interrupted() {
                return;
            }
            let series = &mut results.series[first + i];
            if let Some(why) = bench.settle() {
                series.note(format!("sampled without a full warm pool ({why})"));
            }
            eprintln!("bench: round {}/{samples}: {}", round + 1, series.key);
            let outcome = match series.key {
                "prove" => prove_sample(bench, &pgtmp, &dir, &[]),
                "prove_j2" => prove_sample(bench, &pgtmp, &dir, &["-j2"]),
                "pg_prove" => run_pg_prove(&dir, &shared_url, &[]),
                _ => run_pg_prove(&dir, &shared_url, &["-j2"]),
            };
            series.record(round, outcome);
        }
    }
    if let Ok(url) = &shared_url
        && let Err(e) = pgtmp.stop(url)
    {
        eprintln!("bench: warning: {e}");
    }
}

fn run_prove(bench: &Bench, dir: &Path, extra: &[&str]) -> Result<Duration, String> {
    let mut args = vec!["prove", "-f", "schema.sql", "--ext", ".sql"];
    args.extend(extra);
    args.push("t");
    let mut cmd = bench.pgtmp.command(&args);
    cmd.current_dir(dir);
    timed(&mut cmd)
}

fn run_pg_prove(
    dir: &Path,
    url: &Result<String, String>,
    extra: &[&str],
) -> Result<Duration, String> {
    let url = url.as_ref().map_err(Clone::clone)?;
    if !Path::new(PG_PROVE).exists() {
        return Err(format!(
            "{PG_PROVE} is missing (Debian: libtap-parser-sourcehandler-pgtap-perl; .ci/install-deps)"
        ));
    }
    let host = socket_dir(url).ok_or(format!("not a socket URL: {url}"))?;
    let mut cmd = Command::new(PG_PROVE);
    command::scrub_env(&mut cmd);
    // The socket URL names no user: libpq takes ours, the role's name.
    cmd.args(["-h", &host, "-d", "test", "--ext", ".sql"])
        .args(extra)
        .arg("t")
        .current_dir(dir);
    timed(&mut cmd)
}

/// One timed `pgtmp prove` run, then (untimed) until what it left behind
/// is done (`gone`).
fn prove_sample(
    bench: &Bench,
    pgtmp: &crate::pgtmp::Pgtmp,
    dir: &Path,
    extra: &[&str],
) -> Result<Duration, String> {
    let before = running(pgtmp)?;
    let spares = pgtmp.spares();
    run_prove(bench, dir, extra).and_then(|t| gone(pgtmp, &before, spares, t))
}

/// The URLs of the instances running now.
fn running(pgtmp: &crate::pgtmp::Pgtmp) -> Result<Vec<String>, String> {
    let ran = pgtmp.run(&["list", "--json"])?;
    let list: Vec<serde_json::Value> =
        serde_json::from_str(&ran.stdout).map_err(|e| format!("`pgtmp list --json`: {e}"))?;
    Ok(list
        .iter()
        .filter_map(|i| i["url"].as_str().map(str::to_string))
        .collect())
}

/// `pgtmp prove` returns once the summary is out; its server is shut down
/// and removed by its supervisor after that, and the refill of its
/// hand-out (a spare in place of the one it took) runs once it has exited.
/// Wait for both (untimed), so that they do not run into the next sample:
/// until no instance runs that did not run `before` (pg_prove's shared
/// database and other scenarios' long-lived instances stay), and the
/// `spares` there were before are back with no refill running (the spares
/// for at most [`SPARES_WAIT`]: demand may ask for fewer).
fn gone(
    pgtmp: &crate::pgtmp::Pgtmp,
    before: &[String],
    spares: usize,
    took: Duration,
) -> Result<Duration, String> {
    let began = Instant::now();
    let deadline = began + TIMEOUT;
    loop {
        let new: Vec<String> = running(pgtmp)?
            .into_iter()
            .filter(|u| !before.contains(u))
            .collect();
        let refilled = pgtmp.spares() >= spares || began.elapsed() > SPARES_WAIT;
        if new.is_empty() && refilled && !pgtmp.refill_running() {
            return Ok(took);
        }
        if Instant::now() > deadline {
            return Err(format!("the server of `pgtmp prove` still runs: {new:?}"));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The command, start to exit; it must pass every test.
fn timed(cmd: &mut Command) -> Result<Duration, String> {
    let t0 = Instant::now();
    let ran = command::check(cmd, TIMEOUT)?;
    let took = t0.elapsed();
    let want = format!("Files={FILES}, Tests={TESTS},");
    if !ran.stdout.contains(&want) || !ran.stdout.contains("Result: PASS") {
        return Err(format!(
            "not {want} ... Result: PASS: {}",
            command::tail(&ran.stdout)
        ));
    }
    Ok(took)
}

/// The socket directory a socket URL names, as the client library reads
/// it (pgtmp prints it percent-encoded).
fn socket_dir(url: &str) -> Option<String> {
    let config: postgres::Config = url.parse().ok()?;
    match config.get_hosts() {
        [postgres::config::Host::Unix(dir)] => Some(dir.to_str()?.to_string()),
        _ => None,
    }
}
