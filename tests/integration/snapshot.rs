//! `pgtmp snapshot URL NAME`, `--from NAME`, `snapshot --list` and
//! `--delete`: the state of a running instance saved under a name of the
//! user's and handed out again as copies.

use std::fs;

use pgtmp::json::SnapshotEntry;

use crate::support::{TestRoot, Who, db, poll, procs, user};

fn text(url: &str, sql: &str) -> String {
    db::text(&mut db::connect(url), sql)
}

fn snapshots(t: &TestRoot) -> Vec<SnapshotEntry> {
    let out = t.pgtmp(["snapshot", "--list", "--json"]).run();
    out.assert_success();
    serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("not JSON: {e}\n{out}"))
}

/// Consistent while a client works: what was committed is in it, exactly
/// (sequences where they were, unlogged tables with their rows), what was
/// not is not; the client is disconnected and the instance goes on.
#[test]
fn a_snapshot_holds_what_was_committed() {
    let t = TestRoot::new();
    let h = t.start(&["-t"]);
    let mut client = db::connect(&h.url);
    db::execute(
        &mut client,
        "create table items (id serial primary key, name text);
         insert into items (name) values ('one'), ('two');
         create unlogged table scratch (v int); insert into scratch values (42);",
    );
    // In a query string of its own: a BEGIN takes what precedes it in the
    // same string into its transaction.
    db::execute(
        &mut client,
        "begin; insert into items (name) values ('uncommitted');",
    );
    let out = t.pgtmp(["snapshot", h.url.as_str(), "two-items"]).run();
    out.assert_success();
    assert!(out.stdout.is_empty(), "{out}");
    assert!(
        client.batch_execute("commit").is_err(),
        "the client's open transaction outlived the snapshot's pause"
    );

    let copy = t.start(&["--from", "two-items"]);
    assert_eq!(
        text(
            &copy.url,
            "select string_agg(name, ',' order by id) from items"
        ),
        "one,two"
    );
    // The uncommitted insert took 3 (sequences are not transactional); a
    // copy that went through crash recovery would say 34, the sequence
    // having been logged 32 values ahead.
    assert_eq!(
        text(
            &copy.url,
            "insert into items (name) values ('four') returning id::text"
        ),
        "4",
        "the sequence moved in the snapshot"
    );
    assert_eq!(text(&copy.url, "select v::text from scratch"), "42");
    // The instance goes on, with its URL, from where it was.
    assert_eq!(text(&h.url, "select count(*)::text from items"), "2");

    let listed = snapshots(&t);
    assert_eq!(listed.len(), 1, "{listed:?}");
    let s = &listed[0];
    assert_eq!(s.name, "two-items");
    assert_eq!(s.version, "15");
    assert!(s.bytes > 1 << 20, "{s:?}");
    let password = crate::support::url::tcp(&h.url).password;
    assert!(!s.source.contains(&password), "the password is in {s:?}");
}

/// `--from` hand-outs come from the pool and the spares like any other;
/// gc leaves snapshots alone, even `gc --all`, until unused for 30 days.
#[test]
fn snapshots_serve_like_templates_and_survive_gc() {
    let t = TestRoot::new();
    let h = t.start(&[]);
    db::execute(&mut db::connect(&h.url), "create table kept (id int)");
    t.pgtmp(["snapshot", h.url.as_str(), "kept"])
        .run()
        .assert_success();
    let first = t.start(&["--from", "kept"]);
    assert!(
        poll::eventually(|| !t.refilling() && t.pool_entries().len() >= 2),
        "the snapshot's pool was not refilled\n{}",
        t.logs()
    );
    for _ in 0..3 {
        let again = t.start(&["--from", "kept"]);
        assert_eq!(text(&again.url, "select count(*)::text from kept"), "0");
    }
    db::connect(&first.url);
    t.pgtmp(["stop", "--all"]).run().assert_success();
    assert!(poll::eventually(|| !t.refilling()), "refill still running");
    t.pgtmp(["gc", "--all"]).run().assert_success();
    assert_eq!(snapshots(&t).len(), 1, "gc --all removed the snapshot");
    let again = t.start(&["--from", "kept", "--spares", "0"]);
    assert_eq!(text(&again.url, "select count(*)::text from kept"), "0");
    t.stop(&again.url);
    assert!(poll::eventually(|| !t.refilling()), "refill still running");

    // Unused for a month: gone, record and all.
    let key = &snapshots(&t)[0].key;
    let used = t.base().join("templates").join(format!("{key}.used"));
    t.cmd(
        "touch",
        ["-d", "31 days ago", used.to_str().expect("utf-8")],
    )
    .run()
    .assert_success();
    t.pgtmp(["gc"]).run().assert_success();
    assert_eq!(snapshots(&t), Vec::new());
    assert!(!t.base().join("templates").join(key).exists());
    let out = t.pgtmp(["--from", "kept"]).run();
    out.assert_error(1, &["no snapshot named \"kept\"", "hint:"]);
}

/// Taking a name again replaces it; an instance handed out from the older
/// one still resets to it; `--delete` removes it, and what was handed out
/// from it runs on.
#[test]
fn names_are_replaced_and_deleted() {
    let t = TestRoot::new();
    let h = t.start(&[]);
    db::execute(&mut db::connect(&h.url), "create table v1 (id int)");
    t.pgtmp(["snapshot", h.url.as_str(), "state"])
        .run()
        .assert_success();
    let old = t.start(&["--from", "state"]);
    db::execute(&mut db::connect(&h.url), "create table v2 (id int)");
    t.pgtmp(["snapshot", h.url.as_str(), "state"])
        .run()
        .assert_success();
    let tables = "select string_agg(tablename, ',' order by tablename) from pg_tables where schemaname = 'public'";
    let new = t.start(&["--from", "state"]);
    assert_eq!(text(&new.url, tables), "v1,v2");
    assert_eq!(snapshots(&t).len(), 1);
    db::execute(&mut db::connect(&old.url), "drop table v1");
    t.pgtmp(["reset", old.url.as_str()]).run().assert_success();
    assert_eq!(
        text(&old.url, tables),
        "v1",
        "reset went to the newer snapshot"
    );

    t.pgtmp(["snapshot", "--delete", "state"])
        .run()
        .assert_success();
    assert_eq!(snapshots(&t), Vec::new());
    let out = t.pgtmp(["--from", "state"]).run();
    out.assert_error(1, &["no snapshot named \"state\""]);
    assert_eq!(
        text(&new.url, tables),
        "v1,v2",
        "a hand-out from it stopped"
    );
    let out = t.pgtmp(["snapshot", "--delete", "state"]).run();
    out.assert_error(1, &["no snapshot named \"state\"", "hint:"]);
}

/// Names are checked before anything happens; a URL that is not ours is
/// refused; names are per user.
#[test]
fn bad_names_and_foreign_urls_are_refused() {
    let t = TestRoot::new();
    let h = t.start(&[]);
    for bad in ["../escape", "a.b", ".hidden", "two words", "tab\tname", ""] {
        let out = t.pgtmp(["snapshot", h.url.as_str(), bad]).run();
        out.assert_error(1, &["is not a snapshot name", "hint:"]);
        let out = t.pgtmp(["--from", bad]).run();
        out.assert_error(1, &["is not a snapshot name"]);
    }
    let records = fs::read_dir(t.base().join("snapshots")).map_or(0, |d| d.count());
    assert_eq!(records, 0, "a bad name left a record");
    let out = t
        .pgtmp(["snapshot", "postgresql://app@127.0.0.1:1/prod", "theirs"])
        .run();
    out.assert_error(1, &["no running instance matches"]);
    let out = t.pgtmp(["-f", "x.sql", "--from", "s"]).run();
    out.assert_code(2);

    if !procs::is_root() {
        return;
    }
    t.pgtmp(["snapshot", h.url.as_str(), "mine"])
        .run()
        .assert_success();
    let other = Who::User(user::ordinary());
    let out = t.pgtmp(["--from", "mine"]).who(other).run();
    out.assert_error(1, &["no snapshot named \"mine\""]);
}
