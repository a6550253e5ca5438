//! The protocol as drivers speak it, and as broken clients do, with raw
//! sockets: encryption requests, protocol versions, pipelining, Flush,
//! suspended portals, binary formats, FunctionCall, cancel keys; and
//! truncated, oversized or malformed messages, which cost their sender
//! its connection and nobody else anything.

use std::io::Read;
use std::time::Duration;

use super::raw::{
    Raw, bind, cat, cstr, execute, msg, parse, query, sqlstate, startup, sync, types,
};
use super::{Shared, int};
use crate::support::{TestRoot, poll};

#[test]
fn encryption_requests_get_no_and_tls_gets_an_alert() {
    let t = TestRoot::new();
    let p = Shared::start(&t, false);
    let mut r = Raw::open(&p);
    for code in [80_877_104i32, 80_877_103] {
        let mut req = 8i32.to_be_bytes().to_vec();
        req.extend_from_slice(&code.to_be_bytes());
        r.send(&req);
        let mut answer = [0u8; 1];
        r.s.read_exact(&mut answer).unwrap();
        assert_eq!(&answer, b"N");
    }
    let user = crate::support::procs::my_name();
    r.send(&startup(0, &[("user", &user), ("database", "test")]));
    assert!(types(&r.until(b'Z')).starts_with('R'));
    // A ClientHello without SSLRequest (libpq's sslnegotiation=direct).
    let mut r = Raw::open(&p);
    r.send(&[0x16, 0x03, 0x01, 0x00, 0x05, 0x01, 0x00, 0x00, 0x01, 0x00]);
    let mut got = Vec::new();
    r.s.read_to_end(&mut got).unwrap();
    assert_eq!(got.first(), Some(&0x15), "a TLS alert: {got:?}");
}

#[test]
fn protocol_versions_are_negotiated() {
    let t = TestRoot::new();
    let p = Shared::start(&t, false);
    // 3.2: a 32-byte cancel key, nothing to negotiate.
    let (_r, got) = Raw::start(&p, 2, &[]);
    assert!(!types(&got).contains('v'), "{}", types(&got));
    let key = got.iter().find(|m| m.0 == b'K').expect("BackendKeyData");
    assert_eq!(key.1.len(), 4 + 32);
    // A newer minor version and unknown options, as PG 19's libpq greases.
    let (mut r, got) = Raw::start(&p, 9999, &[("_pq_.test_option", "1")]);
    let v = got
        .iter()
        .find(|m| m.0 == b'v')
        .expect("NegotiateProtocolVersion");
    assert_eq!(&v.1[..4], &((3i32 << 16) | 2).to_be_bytes());
    assert_eq!(&v.1[4..8], &1i32.to_be_bytes());
    assert_eq!(&v.1[8..], b"_pq_.test_option\0");
    r.send(&query("select 1"));
    assert!(types(&r.until(b'Z')).contains('D'));
    // Protocol 2 is refused.
    let mut r = Raw::open(&p);
    let mut old = startup(0, &[("user", "x")]);
    old[4..8].copy_from_slice(&(2i32 << 16).to_be_bytes());
    r.send(&old);
    let (ty, body) = r.next().expect("an error");
    assert_eq!((ty, sqlstate(&body).as_str()), (b'E', "0A000"));
}

#[test]
fn pipelined_batches_each_get_one_ready_for_query() {
    let t = TestRoot::new();
    let p = Shared::start(&t, false);
    let (mut r, _) = Raw::start(&p, 0, &[]);
    r.send(&cat(&[
        &parse("", "select $1::int + 1"),
        &bind("", "", &["1"]),
        &execute("", 0),
        &sync(),
        &parse("", "select nonsense from nowhere"),
        &bind("", "", &[]),
        &execute("", 0),
        &sync(),
        &query("select 3; select 4"),
        &parse("s", "select 5"),
        &sync(),
    ]));
    let mut all = Vec::new();
    for _ in 0..4 {
        all.extend(r.until(b'Z'));
    }
    let shape = types(&all);
    assert_eq!(shape, "12DCZEZTDCTDCZ1Z", "{all:?}");
    let statuses: Vec<u8> = all.iter().filter(|m| m.0 == b'Z').map(|m| m.1[0]).collect();
    assert_eq!(statuses, b"IIII");
}

#[test]
fn flush_suspended_portals_binary_and_function_calls() {
    let t = TestRoot::new();
    let p = Shared::start(&t, false);
    let (mut r, _) = Raw::start(&p, 0, &[]);
    // Flush: answers come before any Sync (asyncpg waits for them).
    r.send(&cat(&[
        &parse("q", "select g from generate_series(1, 3) g"),
        &bind("", "q", &[]),
        &msg(b'D', b"P\0"),
        &msg(b'H', &[]),
    ]));
    assert_eq!(types(&r.until(b'T')), "12T");
    // A row limit leaves the portal suspended.
    r.send(&cat(&[&execute("", 1), &msg(b'H', &[])]));
    assert_eq!(types(&r.until(b's')), "Ds");
    r.send(&cat(&[&execute("", 0), &sync()]));
    assert_eq!(types(&r.until(b'Z')), "DDCZ");
    // Binary parameter and result: int4 7 + 1.
    let mut body = cat(&[
        &cstr(""),
        &cstr("b"),
        &[0, 1, 0, 1],
        &[0, 1],
        &4i32.to_be_bytes(),
        &7i32.to_be_bytes(),
    ]);
    body.extend_from_slice(&[0, 1, 0, 1]);
    r.send(&cat(&[
        &parse("b", "select $1::int4 + 1"),
        &msg(b'B', &body),
        &execute("", 0),
        &sync(),
    ]));
    let got = r.until(b'Z');
    let row = got.iter().find(|m| m.0 == b'D').expect("a row");
    assert_eq!(
        &row.1[2..],
        &cat(&[&4i32.to_be_bytes(), &8i32.to_be_bytes()])
    );
    // FunctionCall: int4pl (oid 177) of 40 and 2, binary.
    let mut call = 177i32.to_be_bytes().to_vec();
    call.extend_from_slice(&[0, 1, 0, 1, 0, 2]);
    for v in [40i32, 2] {
        call.extend_from_slice(&4i32.to_be_bytes());
        call.extend_from_slice(&v.to_be_bytes());
    }
    call.extend_from_slice(&[0, 1]);
    r.send(&msg(b'F', &call));
    let got = r.until(b'Z');
    assert_eq!(types(&got), "VZ");
    assert_eq!(
        &got[0].1,
        &cat(&[&4i32.to_be_bytes(), &42i32.to_be_bytes()])
    );
}

#[test]
fn unnamed_statements_survive_other_clients() {
    let t = TestRoot::new();
    let p = Shared::start(&t, false);
    let (mut a, _) = Raw::start(&p, 0, &[]);
    let (mut b, _) = Raw::start(&p, 0, &[]);
    // lib/pq and pg8000 parse in one batch and bind in the next.
    a.send(&cat(&[&parse("", "select 'a:' || $1"), &sync()]));
    assert_eq!(types(&a.until(b'Z')), "1Z");
    b.send(&cat(&[
        &parse("", "select 'b'"),
        &bind("", "", &[]),
        &execute("", 0),
        &sync(),
    ]));
    assert_eq!(types(&b.until(b'Z')), "12DCZ");
    a.send(&cat(&[&bind("", "", &["x"]), &execute("", 0), &sync()]));
    let got = a.until(b'Z');
    let row = got.iter().find(|m| m.0 == b'D').expect("a row");
    assert!(row.1.ends_with(b"a:x"), "{got:?}");
}

#[test]
fn a_broken_client_is_dropped_and_the_others_are_served() {
    let t = TestRoot::new();
    let p = Shared::start(&t, false);
    let mut good = p.connect();
    good.batch_execute("create table t (id int)").unwrap();
    let bad: Vec<Vec<u8>> = vec![
        // Longer than the server would ever read.
        vec![b'Q', 0x7f, 0xff, 0xff, 0xff],
        // A length that cannot even hold itself.
        vec![b'Q', 0, 0, 0, 2],
        // A Bind whose value runs past the end.
        msg(
            b'B',
            &cat(&[
                &cstr(""),
                &cstr(""),
                &[0, 0, 0, 1],
                &100i32.to_be_bytes(),
                b"abc",
            ]),
        ),
        // No such message.
        msg(b'Z', &[]),
        // A Parse with an unterminated name.
        msg(b'P', b"abc"),
    ];
    for bytes in bad {
        let (mut r, _) = Raw::start(&p, 0, &[]);
        r.send(&query("BEGIN; insert into t values (1)"));
        r.until(b'Z');
        r.send(&bytes);
        let (ty, body) = r.next().unwrap_or_else(|| panic!("no error for {bytes:?}"));
        assert_eq!((ty, sqlstate(&body).as_str()), (b'E', "08P01"), "{bytes:?}");
        assert!(r.closed());
        // Its transaction is gone, and nobody waits for it.
        assert_eq!(int(&mut good, "select count(*) from t"), 0);
    }
    // Truncated: half a message, then the connection closes.
    let (mut r, _) = Raw::start(&p, 0, &[]);
    r.send(&query("BEGIN; insert into t values (2)"));
    r.until(b'Z');
    r.send(&query("select 1")[..6]);
    drop(r);
    assert_eq!(int(&mut good, "select count(*) from t"), 0);
    // Garbage before the startup packet.
    let mut r = Raw::open(&p);
    r.send(&[0, 0, 0, 3]);
    assert_eq!(r.next().map(|m| m.0), Some(b'E'));
    assert!(p.alive(), "{:?}\n{}", p.status(), p.log());
}

#[test]
fn a_client_leaving_mid_statement_frees_the_session() {
    let t = TestRoot::new();
    let p = Shared::start(&t, false);
    let mut good = p.connect();
    good.batch_execute("create table t (id int)").unwrap();
    let (mut r, _) = Raw::start(&p, 0, &[]);
    r.send(&query("BEGIN; insert into t values (1)"));
    r.until(b'Z');
    r.send(&query("select pg_sleep(600)"));
    assert!(poll::eventually(|| p.status()["clients"]
        .as_array()
        .is_some_and(|c| c.iter().any(|c| c["state"] == "active"))));
    drop(r);
    // The proxy cancels the statement and rolls the transaction back.
    assert_eq!(int(&mut good, "select count(*) from t"), 0);
}

#[test]
fn cancel_keys_of_protocol_3_2() {
    let t = TestRoot::new();
    let p = Shared::start(&t, false);
    let (mut r, got) = Raw::start(&p, 2, &[]);
    let key = got
        .iter()
        .find(|m| m.0 == b'K')
        .expect("BackendKeyData")
        .1
        .clone();
    r.send(&query("select pg_sleep(60)"));
    assert!(poll::eventually(
        || p.status()["sessions"][0]["owner"].is_number()
    ));
    // A wrong key does nothing; the right one cancels.
    let mut wrong = key.clone();
    wrong[10] ^= 1;
    for k in [wrong, key] {
        let mut cancel = Raw::open(&p);
        let mut req = ((k.len() + 8) as i32).to_be_bytes().to_vec();
        req.extend_from_slice(&80_877_102i32.to_be_bytes());
        req.extend_from_slice(&k);
        cancel.send(&req);
        assert!(cancel.closed());
    }
    let got = r.until(b'Z');
    let err = got.iter().find(|m| m.0 == b'E').expect("an error");
    assert_eq!(sqlstate(&err.1), "57014");
}

/// Clients that send random messages (well framed or not, valid types or
/// not) one after another; after each, the proxy still serves a good
/// client, with nothing left of what the random one did.
#[test]
fn random_clients_never_hurt_the_others() {
    let t = TestRoot::new();
    let p = Shared::start(&t, false);
    let mut good = p.connect();
    good.batch_execute("create table t (id int)").unwrap();
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    const TYPES: &[u8] = b"QPBDECSHFdcfpXZ\0";
    for round in 0..60 {
        let (mut r, _) = Raw::start(&p, 0, &[]);
        r.send(&query("BEGIN; insert into t values (1)"));
        r.until(b'Z');
        let mut bytes = Vec::new();
        for _ in 0..(next() % 6 + 1) {
            let ty = TYPES[(next() % TYPES.len() as u64) as usize];
            let body: Vec<u8> = (0..next() % 24)
                .map(|_| (next() % 4) as u8 * 0x3f)
                .collect();
            match next() % 4 {
                // A length that lies.
                0 => {
                    bytes.push(ty);
                    bytes.extend_from_slice(&((next() % 40) as i32 - 4).to_be_bytes());
                    bytes.extend_from_slice(&body);
                }
                _ => bytes.extend_from_slice(&msg(ty, &body)),
            }
        }
        r.send(&bytes);
        // Whatever it said, the session outlives it: drop it (half a
        // message may still be expected), then check.
        let _ = r.s.set_read_timeout(Some(Duration::from_millis(200)));
        while r.next().is_some() {}
        drop(r);
        assert_eq!(
            int(&mut good, "select count(*) from t"),
            0,
            "round {round}: {bytes:?}\n{}",
            p.log()
        );
    }
    assert!(p.alive());
}
