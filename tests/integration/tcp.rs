//! TCP hand-outs (`-t`, `-p PORT`): loopback only, a random password that is
//! actually checked, and a clean failure when the port is taken.

use std::net::TcpListener;

use postgres::error::SqlState;

use crate::support::net::listeners;
use crate::support::{TestRoot, db, procs, url};

#[test]
fn tcp_url_listens_on_loopback_only() {
    let t = TestRoot::new();
    let h = t.start(&["-t"]);
    let u = url::tcp(&h.url);
    assert_eq!(
        (u.host.as_str(), u.db.as_str()),
        ("127.0.0.1", "test"),
        "{}",
        h.out
    );
    assert_eq!(u.user, procs::my_name(), "{}", h.out);
    assert!(
        !u.password.is_empty() && u.password.chars().all(|c| c.is_ascii_alphanumeric()),
        "password is not alphanumeric\n{}",
        h.out
    );

    let mut client = db::connect(&h.url);
    assert_eq!(db::text(&mut client, "select current_database()"), "test");
    assert_eq!(db::text(&mut client, "show listen_addresses"), "127.0.0.1");
    let addrs = listeners(u.port);
    assert!(!addrs.is_empty(), "nothing listens on port {}", u.port);
    assert!(
        addrs.iter().all(|a| a == "0100007F"),
        "port {} listens on {addrs:?}, not only 127.0.0.1",
        u.port
    );
    assert_eq!(t.instance(&h.url).port, u.port);
}

#[test]
fn tcp_refuses_wrong_password() {
    let t = TestRoot::new();
    let h = t.start(&["-t"]);
    let u = url::tcp(&h.url);
    let wrong = u.with_password(&format!("{}x", u.password));
    match db::try_connect(&wrong) {
        Ok(_) => panic!("{wrong} was accepted with a wrong password"),
        Err(e) => assert_eq!(
            e.code(),
            Some(&SqlState::INVALID_PASSWORD),
            "{wrong}: {e:?}"
        ),
    }
    db::connect(&h.url);
}

#[test]
fn fixed_port_is_used() {
    let t = TestRoot::new();
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let h = t.start(&["-p", &port.to_string()]);
    assert_eq!(url::tcp(&h.url).port, port, "{}", h.out);
    let mut client = db::connect(&h.url);
    assert_eq!(
        db::text(&mut client, "select inet_server_port()::text"),
        port.to_string()
    );
}

#[test]
fn port_in_use_fails_cleanly() {
    let t = TestRoot::new();
    let taken = TcpListener::bind("127.0.0.1:0").expect("bind a port");
    let port = taken.local_addr().expect("local addr").port().to_string();
    let out = t.pgtmp(["-p", &port]).run();
    out.assert_error(1, &[&port]);
    assert!(
        out.stderr.to_lowercase().contains("in use"),
        "expected the port to be called in use\n{out}"
    );
    assert!(out.stdout.is_empty(), "no URL on failure\n{out}");
    assert_eq!(
        t.run_entries(),
        Vec::<String>::new(),
        "base/run is not empty after\n{out}"
    );
    drop(taken);
}
