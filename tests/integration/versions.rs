//! The version suite: each capability on every installed PostgreSQL major,
//! chosen with `--pg-version N` (the newest N.x) among the installations
//! `pgtmp versions` sees. The rest of the suite runs on the default one.
//!
//! Installations: the usual places (Debian's 15 here) and whatever
//! `.ci/install-deps` put into the checkout's `.pg/` (npm's 13, 14, 16,
//! 17, 18, PyPI's 18 with client tools), which it lists in `.pg/pg-path`
//! for `PGTMP_PG_PATH`; `PGTMP_TEST_PG_PATH` replaces that list. The
//! majors that must be there: 13 to 18, or `PGTMP_TEST_MAJORS=15,16`.
//!
//! A new capability adds one test here: `each_major("what", |t, pg| ...)`
//! runs its check on every major, in one test root, and reports every
//! version it failed on (not only the first) with the time each took.

use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Instant;

use pgtmp::json::Installation as Listed;

use crate::support::command::{Output, Run};
use crate::support::root::set_mode;
use crate::support::{PSQL, TestRoot, db, poll, url};

/// `PGTMP_PG_PATH` for the suite.
pub fn pg_path() -> String {
    if let Ok(path) = std::env::var("PGTMP_TEST_PG_PATH") {
        return path;
    }
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join(".pg/pg-path");
    std::fs::read_to_string(file)
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}

/// `pgtmp ARGS` with the suite's installations in sight.
pub fn pgtmp<'a>(t: &'a TestRoot, args: &[&str]) -> Run<'a> {
    t.pgtmp(args).env("PGTMP_PG_PATH", pg_path())
}

/// What `pgtmp versions --json` says.
pub fn listed(t: &TestRoot) -> Vec<Listed> {
    let out = pgtmp(t, &["versions", "--json"]).run();
    out.assert_success();
    serde_json::from_str(&out.stdout)
        .unwrap_or_else(|e| panic!("`versions --json` is not a list of installations: {e}\n{out}"))
}

/// The newest installation of each major, oldest major first.
fn majors() -> &'static [Listed] {
    static MAJORS: OnceLock<Vec<Listed>> = OnceLock::new();
    MAJORS.get_or_init(|| {
        let t = TestRoot::new();
        let mut all = listed(&t);
        all.sort_by(|a, b| (a.major, &b.version).cmp(&(b.major, &a.version)));
        all.dedup_by_key(|l| l.major);
        all
    })
}

/// Runs `check` for every major in one test root; fails naming each
/// version it failed on. Each version's time goes to stderr (shown with
/// `--nocapture`): the suite's cost per version, never judged here.
fn each_major(what: &str, check: impl Fn(&TestRoot, &Listed)) {
    let t = TestRoot::new();
    let mut failed = Vec::new();
    for pg in majors() {
        let began = Instant::now();
        let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| check(&t, pg)));
        eprintln!(
            "versions: {what} on {} took {:.1} s",
            pg.version,
            began.elapsed().as_secs_f64()
        );
        if let Err(panic) = outcome {
            let message = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            failed.push(format!(
                "PostgreSQL {} ({}): {message}",
                pg.version,
                pg.bindir.display()
            ));
        }
    }
    assert!(
        failed.is_empty(),
        "{what} failed on:\n{}",
        failed.join("\n\n")
    );
}

/// `pgtmp --pg-version N ARGS` must succeed with one URL.
fn start(t: &TestRoot, pg: &Listed, args: &[&str]) -> (String, Output) {
    let major = pg.major.to_string();
    let mut all = vec!["--pg-version", &major];
    all.extend_from_slice(args);
    let out = pgtmp(t, &all).run();
    out.assert_success();
    (out.one_line().to_string(), out)
}

/// The server behind `url` must be `pg`'s version.
fn assert_version(url: &str, pg: &Listed) {
    let mut client = db::connect(url);
    let version = db::text(&mut client, "show server_version");
    assert_eq!(
        version.split_whitespace().next(),
        Some(pg.version.as_str()),
        "{url} is not PostgreSQL {}",
        pg.version
    );
}

/// The majors the machine must have: 13 to 18, or `PGTMP_TEST_MAJORS`.
fn expected_majors() -> Vec<u32> {
    match std::env::var("PGTMP_TEST_MAJORS") {
        Ok(list) => list
            .split(',')
            .map(|m| m.trim().parse().expect("PGTMP_TEST_MAJORS: numbers"))
            .collect(),
        Err(_) => (13..=18).collect(),
    }
}

#[test]
fn every_supported_major_is_installed() {
    let found: Vec<u32> = majors().iter().map(|l| l.major).collect();
    for want in expected_majors() {
        assert!(
            found.contains(&want),
            "PostgreSQL {want} is not among the installations {found:?} (PGTMP_PG_PATH={}); \
             run .ci/install-deps, or set PGTMP_TEST_MAJORS to the majors this machine has",
            pg_path()
        );
    }
}

#[test]
fn handout_on_every_version() {
    each_major("a plain hand-out", |t, pg| {
        let (u, _) = start(t, pg, &["--spares", "0"]);
        assert_version(&u, pg);
        let mut client = db::connect(&u);
        db::execute(
            &mut client,
            "create table t (id int); insert into t values (1)",
        );
        assert_eq!(db::text(&mut client, "select count(*)::text from t"), "1");
        drop(client);
        pgtmp(t, &["stop", &u]).run().assert_success();
    });
}

#[test]
fn tcp_on_every_version() {
    each_major("a TCP hand-out", |t, pg| {
        let (u, _) = start(t, pg, &["-t", "--spares", "0"]);
        let parsed = url::tcp(&u);
        assert_eq!(parsed.host, "127.0.0.1", "{u}");
        assert_version(&u, pg);
        // The password is required: a wrong one is refused.
        let wrong = parsed.with_password("not-the-password");
        assert!(db::try_connect(&wrong).is_err(), "{wrong} let us in");
        pgtmp(t, &["stop", &u]).run().assert_success();
    });
}

/// `-f` (SQL through psql, an archive through pg_restore), `-x` (a contrib
/// module) and `--now`, on server-only installations too: their psql and
/// pg_restore come from another installation, said once on stderr, and a
/// second call with the same fixture loads nothing and says nothing.
#[test]
fn fixtures_on_every_version() {
    let t = TestRoot::new();
    let dir = t.mkdir("fixture");
    let schema = dir.join("schema.sql");
    std::fs::write(
        &schema,
        "create table fruit (id serial primary key, name text);\n\
         insert into fruit (name) values ('apple'), ('pear');\n\\ir more.sql\n",
    )
    .expect("write schema.sql");
    std::fs::write(
        dir.join("more.sql"),
        "insert into fruit (name) values ('fig');\n",
    )
    .expect("write more.sql");
    let dump = archive(&t, &dir);
    for f in [&schema, &dir.join("more.sql"), &dump] {
        set_mode(f, 0o644);
    }
    let files = [
        "-f",
        schema.to_str().expect("utf-8"),
        "-f",
        dump.to_str().expect("utf-8"),
        "-x",
        "citext",
        "--now",
        "2020-02-02 20:20:20+00",
        "--spares",
        "0",
    ];
    each_major("fixtures", |t, pg| {
        let (u, out) = start(t, pg, &files);
        assert_version(&u, pg);
        let mut client = db::connect(&u);
        assert_eq!(
            db::text(
                &mut client,
                "select string_agg(name, ',' order by id) from fruit"
            ),
            "apple,pear,fig"
        );
        assert_eq!(
            db::text(
                &mut client,
                "select string_agg(v, ',' order by v) from dumped"
            ),
            "a,b"
        );
        assert_eq!(
            db::text(&mut client, "select ('A'::citext = 'a')::text"),
            "true"
        );
        assert_eq!(
            db::text(&mut client, "select now()::timestamptz(0)::text"),
            "2020-02-02 20:20:20+00"
        );
        // Borrowed when missing (or, pg_restore, too old for the archive).
        for tool in ["psql", "pg_restore"] {
            let said = out.stderr.matches(&format!(": using {tool} ")).count();
            let missing = !pg.tools.iter().any(|have| have == tool);
            assert!(said <= 1, "said more than once\n{out}");
            if missing {
                assert!(
                    out.stderr.contains(&format!("has no {tool}: using")),
                    "{out}"
                );
            }
        }
        drop(client);
        pgtmp(t, &["stop", &u]).run().assert_success();
        let (again, out) = start(t, pg, &files);
        assert!(
            !out.stderr.contains("has no"),
            "the cached fixture ran again\n{out}"
        );
        pgtmp(t, &["stop", &again]).run().assert_success();
    });
    drop(t);
}

/// A custom-format archive of table `dumped`, made by the newest pg_dump
/// there is (so older servers get a pg_restore of another version).
fn archive(t: &TestRoot, dir: &Path) -> PathBuf {
    let pg_dump = listed(t)
        .into_iter()
        .filter(|l| l.tools.iter().any(|x| x == "pg_dump"))
        .max_by(|a, b| a.version.cmp(&b.version))
        .map(|l| l.bindir.join("pg_dump"))
        .expect("some installation has pg_dump");
    let out = t.pgtmp(["--spares", "0"]).run();
    out.assert_success();
    let source = out.one_line().to_string();
    db::execute(
        &mut db::connect(&source),
        "create table dumped (v text); insert into dumped values ('a'), ('b')",
    );
    let path = dir.join("dumped.dump");
    let dumped = t
        .cmd(
            &pg_dump,
            [
                "-Fc",
                "--no-owner",
                "-d",
                &source,
                "-f",
                path.to_str().expect("utf-8"),
            ],
        )
        .run();
    dumped.assert_success();
    t.pgtmp(["stop", &source]).run().assert_success();
    path
}

#[test]
fn exec_on_every_version() {
    each_major("exec", |t, pg| {
        let major = pg.major.to_string();
        let out = pgtmp(
            t,
            &[
                "exec",
                "--pg-version",
                &major,
                "--spares",
                "0",
                "--",
                PSQL,
                "-XAtc",
                "show server_version",
            ],
        )
        .run();
        out.assert_success();
        assert_eq!(
            out.stdout.split_whitespace().next(),
            Some(pg.version.as_str()),
            "{out}"
        );
    });
}

/// The unclaimed spares of `pg`'s installation (by their `meta.json`).
fn spares_of(t: &TestRoot, pg: &Listed) -> Vec<String> {
    t.spares()
        .into_iter()
        .filter(|id| {
            let meta = t.base().join("run").join(id).join("meta.json");
            std::fs::read_to_string(meta)
                .ok()
                .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok())
                .is_some_and(|m| m["bindir"].as_str() == pg.bindir.to_str())
        })
        .collect()
}

/// A hand-out leaves a spare server of its version started ahead; the next
/// hand-out of that version claims it.
#[test]
fn spare_claim_on_every_version() {
    each_major("a spare claim", |t, pg| {
        let (first, _) = start(t, pg, &["--spares", "1"]);
        let ready = poll::eventually(|| !t.refilling() && !spares_of(t, pg).is_empty());
        assert!(ready, "no spare started\n{}", t.logs());
        let spares = spares_of(t, pg);
        let (second, _) = start(t, pg, &["--spares", "1"]);
        let id = url::socket(&second)
            .host
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        assert!(
            spares.contains(&id),
            "{second} was none of the spares {spares:?}"
        );
        assert_version(&second, pg);
        for u in [first, second] {
            pgtmp(t, &["stop", &u]).run().assert_success();
        }
    });
}

/// `initdb -d DIR` of a version, then `start -d DIR` without saying which:
/// the data directory's own version is chosen; another is refused clearly.
#[test]
fn datadir_on_every_version() {
    each_major("a data directory of its own", |t, pg| {
        let major = pg.major.to_string();
        let dir = t.join(format!("data-{major}"));
        let dir_arg = dir.to_str().expect("utf-8");
        pgtmp(t, &["initdb", "-d", dir_arg, "--pg-version", &major])
            .run()
            .assert_success();
        let out = pgtmp(t, &["start", "-d", dir_arg, "-w", "0", "--spares", "0"]).run();
        out.assert_success();
        let u = out.one_line().to_string();
        assert_version(&u, pg);
        pgtmp(t, &["stop", &u]).run().assert_success();
        if let Some(other) = majors().iter().find(|o| o.major != pg.major) {
            let other = other.major.to_string();
            let out = pgtmp(t, &["start", "-d", dir_arg, "--pg-version", &other]).run();
            out.assert_error(
                1,
                &[&format!("is a PostgreSQL {major} data directory"), "hint:"],
            );
        }
    });
}

/// `pgtmp --pg-version N ARGS` (with `--replicas`) must succeed with one
/// URL per server, the primary's first (no newline after the last).
fn start_set(t: &TestRoot, pg: &Listed, args: &[&str]) -> Vec<String> {
    let major = pg.major.to_string();
    let mut all = vec!["--pg-version", &major, "--spares", "0", "-w", "0"];
    all.extend_from_slice(args);
    crate::support::pgtmp::set_urls(&pgtmp(t, &all).run())
}

fn text_at(u: &str, sql: &str) -> String {
    db::text(&mut db::connect(u), sql)
}

/// Issue 12: a primary and a synchronous replica (`--sync`: a commit is
/// applied on the replica when it returns).
#[test]
fn sync_replicas_on_every_version() {
    each_major("--replicas 1 --sync", |t, pg| {
        let urls = start_set(t, pg, &["--replicas", "1", "--sync"]);
        for u in &urls {
            assert_version(u, pg);
        }
        let mut primary = db::connect(&urls[0]);
        db::execute(
            &mut primary,
            "create table t (id int); insert into t values (1)",
        );
        assert_eq!(
            db::text(
                &mut primary,
                "select string_agg(sync_state, ',') from pg_stat_replication"
            ),
            "sync"
        );
        assert_eq!(text_at(&urls[1], "select count(*)::text from t"), "1");
        assert_eq!(
            text_at(&urls[1], "select pg_is_in_recovery()::text"),
            "true"
        );
        drop(primary);
        pgtmp(t, &["stop", &urls[1]]).run().assert_success();
    });
}

/// Issue 12: `wait` until the replicas replayed, then `promote` one (a
/// switchover: the old primary and the other replica follow it).
#[test]
fn promote_and_wait_on_every_version() {
    each_major("promote and wait", |t, pg| {
        let urls = start_set(t, pg, &["--replicas", "2"]);
        let mut primary = db::connect(&urls[0]);
        db::execute(
            &mut primary,
            "create table t (id int); insert into t values (1)",
        );
        drop(primary);
        pgtmp(t, &["wait", &urls[0]]).run().assert_success();
        assert_eq!(text_at(&urls[2], "select count(*)::text from t"), "1");
        pgtmp(t, &["promote", &urls[1]]).run().assert_success();
        assert_eq!(
            text_at(&urls[1], "select pg_is_in_recovery()::text"),
            "false"
        );
        assert_eq!(
            text_at(&urls[0], "select pg_is_in_recovery()::text"),
            "true"
        );
        db::execute(&mut db::connect(&urls[1]), "insert into t values (2)");
        pgtmp(t, &["wait", &urls[1]]).run().assert_success();
        for u in [&urls[0], &urls[2]] {
            assert_eq!(text_at(u, "select count(*)::text from t"), "2", "{u}");
        }
        pgtmp(t, &["stop", &urls[0]]).run().assert_success();
    });
}

/// Issue 12: `--logical` publishes to another instance of the same major,
/// given the publisher's `-F dsn`.
#[test]
fn logical_pair_on_every_version() {
    each_major("a --logical pair", |t, pg| {
        let (publisher, _) = start(
            t,
            pg,
            &["--logical", "-F", "dsn", "--spares", "0", "-w", "0"],
        );
        let (subscriber, _) = start(t, pg, &["--spares", "0", "-w", "0"]);
        db::execute(
            &mut db::connect(&publisher),
            "create table t (i int primary key); insert into t values (1); \
             create publication pub for all tables",
        );
        let mut s = db::connect(&subscriber);
        db::execute(&mut s, "create table t (i int primary key)");
        db::execute(
            &mut s,
            &format!("create subscription sub connection '{publisher}' publication pub"),
        );
        db::execute(&mut db::connect(&publisher), "insert into t values (2)");
        assert!(
            poll::eventually(|| text_at(&subscriber, "select count(*)::text from t") == "2"),
            "the subscriber has {} rows",
            text_at(&subscriber, "select count(*)::text from t")
        );
        db::execute(&mut s, "drop subscription sub");
        drop(s);
        pgtmp(t, &["stop", &subscriber]).run().assert_success();
        pgtmp(t, &["stop", &publisher]).run().assert_success();
    });
}
