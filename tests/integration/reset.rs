//! `pgtmp reset URL`: a running instance back to the state it was handed
//! out in, its URL, port, password and idle timeout kept, its clients
//! disconnected (they reconnect with the same URL).

use crate::support::{TestRoot, db, poll};

fn count(url: &str, sql: &str) -> String {
    db::text(&mut db::connect(url), sql)
}

#[test]
fn reset_puts_the_instance_back_and_keeps_its_url() {
    let t = TestRoot::new();
    let h = t.start(&["-t", "-w", "5m"]);
    let before = t.instance(&h.url);
    let mut client = db::connect(&h.url);
    db::execute(
        &mut client,
        "create table notes (t text); insert into notes values ('scribble')",
    );
    let out = t.pgtmp(["reset", h.url.as_str()]).run();
    out.assert_success();
    assert!(out.stdout.is_empty(), "{out}");
    // The client was disconnected; a new one with the same URL and
    // password finds the database as it was handed out.
    assert!(
        client.batch_execute("select 1").is_err(),
        "a client of the old server still works"
    );
    assert_eq!(
        count(
            &h.url,
            "select count(*)::text from pg_tables where tablename = 'notes'"
        ),
        "0"
    );
    let after = t.instance(&h.url);
    assert_eq!(
        (after.port, after.timeout_secs, after.tcp, &after.dir),
        (before.port, before.timeout_secs, before.tcp, &before.dir)
    );
    assert_ne!(after.pid, before.pid, "the server was not restarted");
    // Again, from a pool entry or a copy: it keeps working, and the
    // instance still stops when asked.
    db::execute(&mut db::connect(&h.url), "create table again (t text)");
    t.pgtmp(["reset", h.url.as_str()]).run().assert_success();
    assert_eq!(
        count(
            &h.url,
            "select count(*)::text from pg_tables where tablename = 'again'"
        ),
        "0"
    );
    t.stop(&h.url);
    assert!(!after.dir.exists(), "the instance directory is left");
}

/// Back to what it was handed out from: a fixture's template (the files are
/// not loaded again), a setup's (the commands do not run again), a
/// snapshot's.
#[test]
fn reset_returns_to_the_fixture_setup_or_snapshot() {
    let t = TestRoot::new();
    t.write("schema.sql", "create table fixture_t (id int);\n");
    t.mkdir("marks");
    let setup = "echo ran >> marks/setup; /usr/lib/postgresql/15/bin/psql -Xqc 'create table setup_t (id int)'";
    let cases = [
        (vec!["-f", "schema.sql"], "fixture_t"),
        (vec!["--setup", setup], "setup_t"),
    ];
    for (args, table) in cases {
        let h = t.start(&args);
        db::execute(
            &mut db::connect(&h.url),
            &format!("drop table {table}; create table scratch (id int)"),
        );
        t.pgtmp(["reset", h.url.as_str()]).run().assert_success();
        let tables = count(
            &h.url,
            "select string_agg(tablename, ',') from pg_tables where schemaname = 'public'",
        );
        assert_eq!(tables, table, "after a reset of a {args:?} instance");
    }
    let setup_runs = std::fs::read_to_string(t.join("marks/setup")).expect("marker");
    assert_eq!(
        setup_runs.lines().count(),
        1,
        "the reset ran the setup again"
    );

    let source = t.start(&[]);
    db::execute(
        &mut db::connect(&source.url),
        "create table snap_t (id int)",
    );
    t.pgtmp(["snapshot", source.url.as_str(), "base"])
        .run()
        .assert_success();
    let h = t.start(&["--from", "base"]);
    db::execute(&mut db::connect(&h.url), "drop table snap_t");
    t.pgtmp(["reset", h.url.as_str()]).run().assert_success();
    assert_eq!(
        count(
            &h.url,
            "select string_agg(tablename, ',') from pg_tables where schemaname = 'public'"
        ),
        "snap_t"
    );
}

/// What is not ours, or has nothing to go back to, is refused untouched.
#[test]
fn reset_refuses_what_it_cannot_reset() {
    let t = TestRoot::new();
    let out = t
        .pgtmp(["reset", "postgresql://someone@db.example.com:5432/app"])
        .run();
    out.assert_error(1, &["no running instance matches", "hint:"]);
    let out = t.pgtmp(["reset", "not a url"]).run();
    out.assert_error(1, &["is not a PostgreSQL URL"]);
    let out = t.pgtmp(["reset"]).run();
    out.assert_code(2);

    let own = t.start(&["-d", "mine"]);
    db::execute(&mut db::connect(&own.url), "create table precious (id int)");
    let out = t.pgtmp(["reset", own.url.as_str()]).run();
    out.assert_error(1, &["cannot reset", "your own data directory", "hint:"]);
    assert_eq!(
        count(
            &own.url,
            "select count(*)::text from pg_tables where tablename = 'precious'"
        ),
        "1"
    );
}

/// A `--shared-tx` URL is the proxy, whose clients' work is one open
/// transaction: `reset` and `snapshot` refuse it, pointing at `rollback`,
/// and leave that transaction as it was; no snapshot is recorded.
#[test]
fn reset_and_snapshot_refuse_a_shared_tx_proxy() {
    let t = TestRoot::new();
    let h = t.start(&["--shared-tx"]);
    let mut held = db::connect(&h.url);
    db::execute(&mut held, "create table inside (id int)");
    let url = h.url.as_str();
    for args in [&["reset", url][..], &["snapshot", url, "tx"][..]] {
        let out = t.pgtmp(args).run();
        out.assert_error(1, &["--shared-tx proxy", "hint:", "pgtmp rollback"]);
    }
    assert_eq!(
        count(
            url,
            "select count(*)::text from pg_tables where tablename = 'inside'"
        ),
        "1",
        "the shared transaction was touched"
    );
    let list = t.pgtmp(["snapshot", "--list"]).run();
    list.assert_success();
    assert_eq!(list.stdout, "", "a snapshot was recorded");
    drop(held);
    t.stop(url);
}

/// A set with replicas is refused by `reset` and `snapshot`, whichever
/// server's URL names it, and runs on untouched.
#[test]
fn reset_and_snapshot_refuse_a_set_with_replicas() {
    let t = TestRoot::new();
    let out = t.pgtmp(["--replicas", "1", "-w", "0"]).run();
    out.assert_success();
    let urls: Vec<String> = out.stdout.lines().map(str::to_string).collect();
    assert_eq!(urls.len(), 2, "{out}");
    db::execute(&mut db::connect(&urls[0]), "create table kept (id int)");
    for url in &urls {
        for args in [&["reset", url.as_str()][..], &["snapshot", url, "set"][..]] {
            let out = t.pgtmp(args).run();
            out.assert_error(1, &["has replicas"]);
        }
    }
    assert_eq!(
        count(
            &urls[0],
            "select count(*)::text from pg_tables where tablename = 'kept'"
        ),
        "1"
    );
    let list = t.pgtmp(["snapshot", "--list"]).run();
    list.assert_success();
    assert_eq!(list.stdout, "", "a snapshot was recorded");
    t.stop(&urls[0]);
}

/// A reset is no crash to the supervisor, and the instance keeps its idle
/// timeout: it stops later for want of clients, as its log says.
#[test]
fn a_reset_instance_keeps_its_idle_timeout() {
    let t = TestRoot::new();
    // -k keeps the instance directory, with the supervisor's log. A client
    // keeps it up until the reset (which disconnects it), however slowly
    // the test gets there: the timeout must not end it first.
    let h = t.start(&["-k", "-w", "3"]);
    let client = db::connect(&h.url);
    // The socket directory of a socket URL is the instance directory.
    let dir = crate::support::url::socket(&h.url).host;
    t.pgtmp(["reset", h.url.as_str()]).run().assert_success();
    drop(client);
    assert!(
        poll::eventually(|| !t.listed(&h.url)),
        "the instance outlived its idle timeout after a reset\n{}",
        t.logs()
    );
    let log = std::fs::read_to_string(dir.join("supervise.log")).expect("supervise.log");
    assert!(
        log.contains("stopping: no client for 3s"),
        "it did not stop for want of clients:\n{log}"
    );
}

/// gc leaves the template of a running instance alone, however long
/// unused, so that a reset can go back to it; once the instance is gone,
/// it goes.
#[test]
fn gc_keeps_the_template_of_a_running_instance() {
    let t = TestRoot::new();
    t.write("schema.sql", "create table fixture_t (id int);\n");
    let h = t.start(&["-f", "schema.sql", "--spares", "0"]);
    assert!(poll::eventually(|| !t.refilling()), "refill still running");
    let template = crate::support::pgtmp::templates_of_kind(&t.base(), 'f')
        .pop()
        .expect("the fixture's template");
    let backdate = || {
        let used = template.with_extension("used");
        t.cmd("touch", ["-d", "3 days ago", used.to_str().expect("utf-8")])
            .run()
            .assert_success();
    };
    backdate();
    t.pgtmp(["gc"]).run().assert_success();
    assert!(
        template.is_dir(),
        "gc removed the template of a running instance"
    );
    t.pgtmp(["reset", h.url.as_str()]).run().assert_success();
    assert_eq!(count(&h.url, "select count(*)::text from fixture_t"), "0");
    t.stop(&h.url);
    // The refill after the reset holds the template while it copies it,
    // and gc leaves a held template alone.
    assert!(poll::eventually(|| !t.refilling()), "refill still running");
    backdate();
    t.pgtmp(["gc"]).run().assert_success();
    assert!(
        !template.exists(),
        "gc kept an unused template of no instance"
    );
}
