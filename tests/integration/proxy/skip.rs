//! After an error in the extended protocol the server ignores every
//! message until the next Sync: the proxy must expect nothing for them
//! either, whenever they reach it (in the same write as the failing
//! message, or after the client has read its error), and never mistake
//! the ReadyForQuery that follows for a broken protocol, which would end
//! the session every client shares.

use postgres::Client;

use super::raw::{
    Raw, bind, cat, close, copy_data, copy_done, copy_fail, describe, execute, flush, parse, query,
    sqlstate, sync, types,
};
use super::{Shared, int};
use crate::support::TestRoot;

/// A session of the proxy with another client that has three rows of its
/// own in the shared transaction, and a raw client.
fn setup(t: &TestRoot) -> (Shared, Client, Raw) {
    let p = Shared::start(t, false);
    let mut b = p.connect();
    b.batch_execute("create table t (id int); insert into t values (1), (2), (3)")
        .unwrap();
    let (a, _) = Raw::start(&p, 0, &[]);
    (p, b, a)
}

/// The shared session is still the one it was: the other client still
/// sees its rows, and the proxy ended no session.
fn survived(p: &Shared, b: &mut Client) {
    let log = p.log();
    assert!(!log.contains("session of database"), "{log}");
    assert_eq!(int(b, "select count(*) from t"), 3, "{}", p.log());
}

/// Sends `bytes`, which end with a Sync; the answer is a lone
/// ReadyForQuery with `status`.
fn only_ready(a: &mut Raw, p: &Shared, bytes: &[u8], status: u8) {
    a.send(bytes);
    let got: Vec<_> = a.next().into_iter().collect();
    assert_eq!(types(&got), "Z", "{got:?}\n{}", p.log());
    assert_eq!(got[0].1, [status]);
}

/// Parse, Bind and Execute of `sql`, unnamed.
fn unnamed(sql: &str) -> Vec<u8> {
    cat(&[&parse("", sql), &bind("", "", &[]), &execute("", 0)])
}

/// Fails when executed, not before.
const FAILING: &str = "select 1 / g from generate_series(0, 0) g";

#[test]
fn messages_after_an_error_get_no_reply_until_sync() {
    let t = TestRoot::new();
    let (p, mut b, mut a) = setup(&t);
    let failing = unnamed(FAILING);
    // Every extended-protocol message there is, the named ones made anew.
    let skipped = cat(&[
        &parse("s", "select 1"),
        &bind("p", "s", &[]),
        &describe(false, "s"),
        &describe(true, "p"),
        &execute("p", 0),
        &close(true, "p"),
        &close(false, "s"),
        &close(true, ""),
        &close(false, ""),
        &flush(),
        &sync(),
    ]);
    for in_tx in [false, true] {
        if in_tx {
            a.send(&query("BEGIN"));
            assert_eq!(types(&a.until(b'Z')), "CZ");
        }
        // The client reads its error (Flush) before it sends the rest:
        // the proxy has handled the error when the rest comes.
        a.send(&cat(&[&failing, &flush()]));
        let got = a.until(b'E');
        assert_eq!(types(&got), "12E", "{got:?}");
        assert_eq!(sqlstate(&got[2].1), "22012");
        only_ready(&mut a, &p, &skipped, if in_tx { b'E' } else { b'I' });
        if in_tx {
            a.send(&query("ROLLBACK"));
            assert_eq!(types(&a.until(b'Z')), "CZ");
        }
        survived(&p, &mut b);
    }
    // All in one write.
    a.send(&cat(&[&failing, &skipped]));
    let got = a.until(b'Z');
    assert_eq!(types(&got), "12EZ", "{got:?}\n{}", p.log());
    survived(&p, &mut b);
    // The statement "s" was never made: the client may make it now.
    a.send(&cat(&[
        &parse("s", "select count(*) from t"),
        &bind("", "s", &[]),
        &execute("", 0),
        &sync(),
    ]));
    let got = a.until(b'Z');
    assert_eq!(types(&got), "12DCZ", "{got:?}\n{}", p.log());
}

#[test]
fn a_failed_copy_is_skipped_until_sync() {
    let t = TestRoot::new();
    let (p, mut b, mut a) = setup(&t);
    let copy = |table: &str| {
        // As tokio-postgres sends it: the Sync before the data.
        cat(&[&unnamed(&format!("copy {table} from stdin")), &sync()])
    };
    for end in [copy_done(), copy_fail("given up")] {
        a.send(&copy("t"));
        assert_eq!(types(&a.until(b'G')), "12G");
        a.send(&copy_data("4\nnot a number\n"));
        let got = a.until(b'E');
        assert_eq!(sqlstate(&got.last().unwrap().1), "22P02", "{got:?}");
        // The rest of the COPY, then what a driver closes; the server
        // skips it all, the Sync sent before the data included.
        let rest = cat(&[
            &copy_data("5\n"),
            &end,
            &close(true, ""),
            &close(false, ""),
            &sync(),
        ]);
        only_ready(&mut a, &p, &rest, b'I');
        survived(&p, &mut b);
    }
    // A COPY that fails before it starts: the Sync held for its data is
    // what ends the skipping.
    a.send(&copy("nosuch"));
    let got = a.until(b'Z');
    assert_eq!(types(&got), "12EZ", "{got:?}\n{}", p.log());
    survived(&p, &mut b);
    a.send(&query("select count(*) from t"));
    assert_eq!(types(&a.until(b'Z')), "TDCZ");
}

/// What the proxy prepares at the end of a batch (the statement that
/// defers initially deferred constraints again) is skipped with the rest
/// of a failed batch: it is made again when it is next needed.
#[test]
fn statements_the_server_skipped_are_made_again() {
    let t = TestRoot::new();
    let (p, mut b, mut a) = setup(&t);
    b.batch_execute("create table d (id int unique deferrable initially deferred)")
        .unwrap();
    a.send(&cat(&[&unnamed(FAILING), &sync()]));
    assert_eq!(types(&a.until(b'Z')), "12EZ");
    for sql in ["select 1", "insert into d values (1), (1)"] {
        a.send(&cat(&[&unnamed(sql), &sync()]));
        let got = a.until(b'Z');
        let want = if sql.starts_with("insert") {
            // Checked at the end of the statement's implicit transaction.
            "12CEZ"
        } else {
            "12DCZ"
        };
        assert_eq!(types(&got), want, "{sql}: {got:?}\n{}", p.log());
    }
    survived(&p, &mut b);
}
