//! What sharing one transaction means for the clients, checked with the
//! `postgres` crate: each client's transactions, errors, prepared
//! statements and settings stay its own; clients wait their turn, with a
//! clear error when the wait is too long; what a test did is thrown away
//! by `ROLLBACK TEST` while every connection stays open.

use std::time::Duration;

use postgres::{Client, NoTls};

use super::{Shared, code, int};
use crate::support::{TestRoot, poll};

#[test]
fn clients_share_committed_work_and_keep_their_own_transactions() {
    let t = TestRoot::new();
    let p = Shared::start(&t, false);
    let (mut a, mut b) = (p.connect(), p.connect());
    a.batch_execute("create table t (id int primary key, v text)")
        .unwrap();
    let mut tx = a.transaction().unwrap();
    tx.execute("insert into t values (1, 'a')", &[]).unwrap();
    tx.commit().unwrap();
    assert_eq!(int(&mut b, "select count(*) from t"), 1);
    let mut tx = a.transaction().unwrap();
    tx.execute("insert into t values (2, 'b')", &[]).unwrap();
    tx.rollback().unwrap();
    assert_eq!(int(&mut b, "select count(*) from t"), 1);
    // Nested: the client's own savepoints.
    let mut tx = a.transaction().unwrap();
    tx.execute("insert into t values (3, 'c')", &[]).unwrap();
    let mut inner = tx.transaction().unwrap();
    inner.execute("insert into t values (4, 'd')", &[]).unwrap();
    inner.rollback().unwrap();
    tx.commit().unwrap();
    assert_eq!(int(&mut b, "select count(*) from t"), 2);
    // A multi-statement Query is one implicit transaction.
    let e = a
        .batch_execute("insert into t values (5, 'e'); insert into t values (1, 'dup')")
        .unwrap_err();
    assert_eq!(code(&e), "23505");
    assert_eq!(int(&mut b, "select count(*) from t"), 2);
    // BEGIN and COMMIT inside one Query, around an error kept for later.
    a.batch_execute("insert into t values (6, 'f'); BEGIN; insert into t values (7, 'g'); COMMIT")
        .unwrap();
    assert_eq!(int(&mut b, "select count(*) from t"), 4);
    // The server's answers for misplaced transaction control.
    let warned = a.simple_query("COMMIT").unwrap();
    assert!(!warned.is_empty());
    let e = a.batch_execute("SAVEPOINT s").unwrap_err();
    assert_eq!(code(&e), "25P01", "{e:?}");
    let e = a.batch_execute("BEGIN; SAVEPOINT pgtmp_x").unwrap_err();
    assert_eq!(code(&e), "0A000", "{e:?}");
    a.batch_execute("ROLLBACK").unwrap();
    assert_eq!(int(&mut a, "select 1"), 1);
}

#[test]
fn an_error_stays_with_its_client() {
    let t = TestRoot::new();
    let p = Shared::start(&t, false);
    let (mut a, mut b) = (p.connect(), p.connect());
    a.batch_execute("create table t (id int primary key)")
        .unwrap();
    a.execute("insert into t values ($1)", &[&1i32]).unwrap();
    let e = a
        .execute("insert into t values ($1)", &[&1i32])
        .unwrap_err();
    assert_eq!(code(&e), "23505");
    assert_eq!(int(&mut b, "select count(*) from t"), 1);
    assert_eq!(int(&mut a, "select count(*) from t"), 1);
    // Inside a transaction the error fails that transaction only.
    a.batch_execute("BEGIN; insert into t values (2)").unwrap();
    let e = a.batch_execute("insert into t values (1)").unwrap_err();
    assert_eq!(code(&e), "23505");
    let e = a.batch_execute("select 1").unwrap_err();
    assert_eq!(code(&e), "25P02");
    a.batch_execute("ROLLBACK").unwrap();
    assert_eq!(int(&mut b, "select count(*) from t"), 1);
    // Rolling back to a savepoint of its own revives it.
    a.batch_execute("BEGIN; SAVEPOINT s; insert into t values (1)")
        .unwrap_err();
    a.batch_execute("ROLLBACK TO SAVEPOINT s; insert into t values (3); COMMIT")
        .unwrap();
    assert_eq!(int(&mut b, "select count(*) from t"), 2);
}

#[test]
fn prepared_statements_are_each_clients_own() {
    let t = TestRoot::new();
    let p = Shared::start(&t, false);
    let (mut a, mut b) = (p.connect(), p.connect());
    // tokio-postgres names every connection's first statement `s0`.
    let sa = a.prepare("select $1::int + 1").unwrap();
    let sb = b.prepare("select $1::int * 10").unwrap();
    for _ in 0..3 {
        let ra: i32 = a.query_one(&sa, &[&1i32]).unwrap().get(0);
        let rb: i32 = b.query_one(&sb, &[&2i32]).unwrap().get(0);
        assert_eq!((ra, rb), (2, 20));
    }
    // SQL-level names, and DEALLOCATE ALL (psycopg sends it after errors).
    a.batch_execute("PREPARE q AS select 'a'").unwrap();
    b.batch_execute("PREPARE q AS select 'b'").unwrap();
    a.batch_execute("DEALLOCATE ALL").unwrap();
    let rows = b.simple_query("EXECUTE q").unwrap();
    let value = rows.iter().find_map(|m| match m {
        postgres::SimpleQueryMessage::Row(r) => r.get(0).map(str::to_string),
        _ => None,
    });
    assert_eq!(value.as_deref(), Some("b"));
    let e = a.batch_execute("EXECUTE q").unwrap_err();
    assert_eq!(code(&e), "26000");
    let rb: i32 = b.query_one(&sb, &[&3i32]).unwrap().get(0);
    assert_eq!(rb, 30);
}

#[test]
fn a_client_waits_its_turn_and_is_told_when_too_long() {
    let t = TestRoot::new();
    let p = Shared::start_with(&t, false, 1000);
    let (mut a, mut b) = (p.connect(), p.connect());
    a.batch_execute("create table t (id int); BEGIN; insert into t values (1)")
        .unwrap();
    let e = b.batch_execute("select count(*) from t").unwrap_err();
    assert_eq!(code(&e), "55P03", "{e:?}");
    let db = e.as_db_error().expect("a server error");
    assert!(db.message().contains("--shared-tx"), "{db:?}");
    assert!(
        db.hint().is_some_and(|h| h.contains("transaction")),
        "{db:?}"
    );
    // Its connection is fine, and its turn comes once A commits.
    let waiting = std::thread::spawn(move || {
        let n = int(&mut b, "select count(*) from t");
        (b, n)
    });
    std::thread::sleep(Duration::from_millis(200));
    a.batch_execute("COMMIT").unwrap();
    let (_b, n) = waiting.join().unwrap();
    assert_eq!(n, 1);
}

#[test]
fn a_client_that_leaves_mid_transaction_is_undone() {
    let t = TestRoot::new();
    let p = Shared::start_with(&t, false, 20_000);
    let mut b = p.connect();
    b.batch_execute("create table t (id int)").unwrap();
    let mut c = p.connect();
    c.batch_execute("BEGIN; insert into t values (99); PREPARE gone AS select 1")
        .unwrap();
    drop(c);
    assert_eq!(int(&mut b, "select count(*) from t"), 0);
}

#[test]
fn deferred_constraints_are_checked_at_each_commit() {
    let t = TestRoot::new();
    let p = Shared::start(&t, false);
    let mut a = p.connect();
    a.batch_execute(
        "create table parent (id int primary key);
         create table child (pid int references parent deferrable initially deferred)",
    )
    .unwrap();
    // Child before parent, fixed before COMMIT: fine.
    a.batch_execute("BEGIN; insert into child values (1); insert into parent values (1); COMMIT")
        .unwrap();
    // Never fixed: COMMIT fails, and the transaction is gone.
    a.batch_execute("BEGIN; insert into child values (2)")
        .unwrap();
    let e = a.batch_execute("COMMIT").unwrap_err();
    assert_eq!(code(&e), "23503", "{e:?}");
    assert_eq!(int(&mut a, "select count(*) from child"), 1);
    // Outside a transaction, the statement's own commit checks it.
    let e = a.batch_execute("insert into child values (3)").unwrap_err();
    assert_eq!(code(&e), "23503");
    // The constraint is still deferred for the next transaction.
    a.batch_execute("BEGIN; insert into child values (4); insert into parent values (4); COMMIT")
        .unwrap();
    assert_eq!(int(&mut a, "select count(*) from child"), 2);
}

#[test]
fn rollback_test_throws_the_test_away_with_everyone_connected() {
    let t = TestRoot::new();
    let p = Shared::start(&t, false);
    let (mut a, mut b) = (p.connect(), p.connect());
    a.batch_execute(
        "create table t (id int); insert into t values (1); SET TimeZone = 'Asia/Tokyo'",
    )
    .unwrap();
    b.batch_execute("BEGIN TEST 'first'").unwrap();
    let e = a.batch_execute("select * from t").unwrap_err();
    assert_eq!(code(&e), "42P01");
    // Settings of a connection outlive the rollback.
    let tz: String = a.query_one("show timezone", &[]).unwrap().get(0);
    assert_eq!(tz, "Asia/Tokyo");
    a.batch_execute("create table t (id int); insert into t values (2)")
        .unwrap();
    assert_eq!(int(&mut b, "select count(*) from t"), 1);
    // From inside a transaction, with a prepared statement.
    let st = b.prepare("ROLLBACK TEST 'first'").unwrap();
    b.batch_execute("BEGIN").unwrap();
    b.execute(&st, &[]).unwrap();
    assert_eq!(int(&mut b, "select 1"), 1);
    let e = a.batch_execute("select * from t").unwrap_err();
    assert_eq!(code(&e), "42P01");
    assert!(poll::eventually(
        || p.status()["sessions"][0]["test"] == "first"
    ));
}

#[test]
fn statements_that_need_their_own_transaction() {
    let t = TestRoot::new();
    let p = Shared::start(&t, false);
    let mut a = p.connect();
    a.batch_execute("create table t (id int)").unwrap();
    let e = a.batch_execute("VACUUM t").unwrap_err();
    assert_eq!(code(&e), "25001");
    let hint = e.as_db_error().and_then(|d| d.hint()).unwrap_or_default();
    assert!(hint.contains("--shared-tx"), "{e:?}");
    let e = a
        .batch_execute("BEGIN; PREPARE TRANSACTION 'x'")
        .unwrap_err();
    assert_eq!(code(&e), "0A000");
    a.batch_execute("ROLLBACK").unwrap();
    // Made to work: CONCURRENTLY makes no difference inside one transaction.
    a.batch_execute("CREATE INDEX CONCURRENTLY i ON t (id); DROP INDEX CONCURRENTLY i")
        .unwrap();
    let e = a
        .batch_execute("DECLARE c CURSOR FOR select 1")
        .unwrap_err();
    assert_eq!(code(&e), "25P01");
    a.batch_execute("BEGIN; DECLARE c CURSOR FOR select 1; FETCH c; COMMIT")
        .unwrap();
    // The cursor ended with the transaction: the name is free again.
    a.batch_execute("BEGIN; DECLARE c CURSOR FOR select 2; COMMIT")
        .unwrap();
}

#[test]
fn each_client_keeps_its_startup_settings_and_role() {
    let t = TestRoot::new();
    let p = Shared::start(&t, false);
    let tokyo = format!(
        "{}&options=-c%20TimeZone%3DAsia/Tokyo&application_name=tokyo",
        p.url
    );
    let mut a = Client::connect(&tokyo, NoTls).unwrap();
    let mut b = p.connect();
    for _ in 0..2 {
        let tz: String = a.query_one("show timezone", &[]).unwrap().get(0);
        assert_eq!(tz, "Asia/Tokyo");
        let tz: String = b.query_one("show timezone", &[]).unwrap().get(0);
        assert_ne!(tz, "Asia/Tokyo");
        let app: String = a
            .query_one("select current_setting('application_name')", &[])
            .unwrap()
            .get(0);
        assert_eq!(app, "tokyo");
    }
    // A bad value is refused as the server refuses it.
    let bad = format!("{}&options=-c%20TimeZone%3DNowhere/Else", p.url);
    let e = Client::connect(&bad, NoTls).err().expect("refused");
    assert_eq!(code(&e), "22023", "{e:?}");
    // A role made in the shared transaction can connect, and is that role.
    b.batch_execute("CREATE ROLE app LOGIN").unwrap();
    // The socket URL names no user (pg_tmp's shape): name this one.
    let app_url = format!("{}&user=app", p.url);
    let mut c = Client::connect(&app_url, NoTls).unwrap();
    let who: String = c.query_one("select current_user", &[]).unwrap().get(0);
    assert_eq!(who, "app");
    let who: String = b.query_one("select current_user", &[]).unwrap().get(0);
    assert_ne!(who, "app");
    let nobody = app_url.replace("user=app", "user=nobody_here");
    let e = Client::connect(&nobody, NoTls).err().expect("refused");
    assert_eq!(code(&e), "28000", "{e:?}");
}

#[test]
fn copy_in_and_out() {
    use std::io::{Read, Write};
    let t = TestRoot::new();
    let p = Shared::start(&t, false);
    let (mut a, mut b) = (p.connect(), p.connect());
    a.batch_execute("create table t (id int, v text)").unwrap();
    let mut w = a.copy_in("copy t from stdin").unwrap();
    for i in 0..1000 {
        writeln!(w, "{i}\trow {i}").unwrap();
    }
    w.finish().unwrap();
    assert_eq!(int(&mut b, "select count(*) from t"), 1000);
    let mut out = String::new();
    b.copy_out("copy (select id from t where id < 3 order by id) to stdout")
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    assert_eq!(out, "0\n1\n2\n");
    // A COPY that fails is undone, and the client goes on.
    let mut w = a.copy_in("copy t from stdin").unwrap();
    writeln!(w, "1\tok").unwrap();
    writeln!(w, "not a number\tbad").unwrap();
    assert!(w.finish().is_err());
    assert_eq!(int(&mut a, "select count(*) from t"), 1000);
}

#[test]
fn cancel_stops_the_running_statement_only() {
    let t = TestRoot::new();
    let p = Shared::start(&t, false);
    let mut a = p.connect();
    let cancel = a.cancel_token();
    let sleeper = std::thread::spawn(move || {
        let e = a.batch_execute("select pg_sleep(60)").unwrap_err();
        (a, code(&e))
    });
    assert!(poll::eventually(
        || p.status()["sessions"][0]["owner"].is_number()
    ));
    cancel.cancel_query(NoTls).unwrap();
    let (mut a, code) = sleeper.join().unwrap();
    assert_eq!(code, "57014");
    assert_eq!(int(&mut a, "select 1"), 1);
    // A cancel for an idle client reaches nobody.
    cancel.cancel_query(NoTls).unwrap();
    let mut b = p.connect();
    assert_eq!(int(&mut b, "select count(*) from pg_sleep(0.2)"), 1);
}

#[test]
fn list_shows_the_clients() {
    let t = TestRoot::new();
    let p = Shared::start(&t, false);
    let _a = Client::connect(&format!("{}&application_name=web", p.url), NoTls).unwrap();
    let mut b = Client::connect(&format!("{}&application_name=tests", p.url), NoTls).unwrap();
    b.batch_execute("BEGIN").unwrap();
    let listed = |p: &Shared| {
        let s = p.status();
        let apps: Vec<String> = s["clients"]
            .as_array()
            .map(|c| {
                c.iter()
                    .map(|c| {
                        format!(
                            "{}:{}",
                            c["application_name"].as_str().unwrap_or(""),
                            c["state"].as_str().unwrap_or("")
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        apps
    };
    assert!(
        poll::eventually(|| {
            let apps = listed(&p);
            apps.contains(&"web:idle".to_string())
                && apps.contains(&"tests:idle in transaction".to_string())
        }),
        "{:?}",
        p.status()
    );
}

#[test]
fn pgtmp_rollback_with_connections_open() {
    let t = TestRoot::new();
    let p = Shared::start(&t, true);
    let (mut a, mut b) = (p.connect(), p.connect());
    a.batch_execute("create table t (id int); insert into t values (1)")
        .unwrap();
    for url in [p.url.clone(), p.tcp_url.clone().expect("a TCP URL")] {
        let out = t.pgtmp(["rollback", &url]).run();
        out.assert_success();
        assert_eq!(out.stdout, "", "{out}");
        let e = b.batch_execute("select * from t").unwrap_err();
        assert_eq!(code(&e), "42P01");
        a.batch_execute("create table t (id int)").unwrap();
    }
    assert_eq!(int(&mut a, "select 1"), 1);
    // Not a shared-transaction URL: said so.
    let plain = t.start(&[]).url;
    t.pgtmp(["rollback", &plain])
        .run()
        .assert_error(1, &["is not a --shared-tx URL", "--shared-tx"]);
    t.pgtmp(["rollback", "not a url"])
        .run()
        .assert_error(1, &["is not a PostgreSQL URL"]);
}
