//! Start options written the way pg_tmp users write them: combined short
//! flags (`-kt`), attached values (`-w5`), and server options (`-o`).

use crate::support::{TestRoot, db, net, poll, procs, url};

#[test]
fn keep_and_tcp_combine() {
    let t = TestRoot::new();
    let h = t.start(&["-kt"]);
    let u = url::tcp(&h.url);
    let inst = t.instance(&h.url);
    assert!(inst.keep && inst.tcp, "{}", inst.raw);
    assert_eq!(inst.port, u.port);
    db::connect(&h.url);

    t.stop(&h.url);
    assert!(
        poll::eventually(|| !procs::alive(inst.pid)),
        "postmaster survives `stop`"
    );
    assert!(
        inst.data_dir.join("PG_VERSION").is_file(),
        "`-k` data dir {} deleted",
        inst.data_dir.display()
    );
}

#[test]
fn attached_timeout_value() {
    let t = TestRoot::new();
    let h = t.start(&["-w5"]);
    assert_eq!(t.instance(&h.url).timeout_secs, 5);
}

#[test]
fn server_options_are_applied() {
    let t = TestRoot::new();
    let h = t.start(&["-o", "-c work_mem=64MB -c max_connections=20"]);
    let mut client = db::connect(&h.url);
    assert_eq!(db::text(&mut client, "show work_mem"), "64MB");
    assert_eq!(db::text(&mut client, "show max_connections"), "20");
}

/// `--pg-bindir`, `--pg-version` and `--run-as` are global options: they
/// belong before a subcommand as naturally as after it.
#[test]
fn global_options_go_before_or_after_subcommands() {
    let t = TestRoot::new();
    let bindir = "/usr/lib/postgresql/15/bin";
    let h = t.start(&["--pg-bindir", bindir, "--pg-version", "15"]);
    db::connect(&h.url);
    t.pgtmp(["list", "--pg-bindir", bindir])
        .run()
        .assert_success();
    t.pgtmp(["--pg-bindir", bindir, "list"])
        .run()
        .assert_success();
}

/// `-o` is read as `postgres` reads its arguments: grouped flags, attached
/// values, `--name=value`, several `-o`; the last setting wins.
#[test]
fn server_options_are_read_as_postgres_reads_them() {
    let t = TestRoot::new();
    let h = t.start(&[
        "-o",
        "-Fc work_mem=3MB --max-connections=30 -cwork_mem=5MB",
        "-o",
        "-c work_mem=4MB",
    ]);
    let mut client = db::connect(&h.url);
    assert_eq!(db::text(&mut client, "show work_mem"), "4MB");
    assert_eq!(db::text(&mut client, "show max_connections"), "30");
}

/// `-o '-p N'` (and `port=N`) is pgtmp's `-p N`: TCP on 127.0.0.1:N, and
/// the URL says so.
#[test]
fn port_in_server_options_is_pgtmps_port() {
    let t = TestRoot::new();
    let port = free_port();
    let h = t.start(&["-o", &format!("-c work_mem=2MB -p {port}")]);
    let u = url::tcp(&h.url);
    assert_eq!(u.port, port, "{}", h.out);
    assert!(net::loopback_only(port), "{:?}", net::listeners(port));
    let mut client = db::connect(&h.url);
    assert_eq!(db::text(&mut client, "show work_mem"), "2MB");
}

/// A loopback `listen_addresses` is accepted with `-t`: `127.0.0.1` is
/// pgtmp's own; `::1` and `localhost` add IPv6's loopback (to 127.0.0.1,
/// which the URL names), where the password works too.
#[test]
fn loopback_listen_addresses_go_with_tcp() {
    let t = TestRoot::new();
    let h = t.start(&["-t", "-o", "-c listen_addresses=127.0.0.1"]);
    let u = url::tcp(&h.url);
    assert!(net::loopback_only(u.port), "{:?}", net::listeners(u.port));
    db::connect(&h.url);
    for listen in ["-h ::1", "--listen-addresses=localhost"] {
        let h = t.start(&["-o", listen, "-t"]);
        let u = url::tcp(&h.url);
        let mut addrs = net::listeners(u.port);
        addrs.sort();
        assert_eq!(addrs, [V6_LOOPBACK, "0100007F"], "{listen}");
        db::connect(&h.url);
        let v6 = format!(
            "postgresql://{}:{}@[::1]:{}/test?sslmode=disable",
            u.user, u.password, u.port
        );
        let mut client = db::connect(&v6);
        assert_eq!(db::text(&mut client, "select 'v6'"), "v6");
    }
}

/// ::1 as /proc/net/tcp6 prints it.
const V6_LOOPBACK: &str = "00000000000000000000000001000000";

fn free_port() -> u16 {
    std::net::TcpListener::bind(("127.0.0.1", 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}
