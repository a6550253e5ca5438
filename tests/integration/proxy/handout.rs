//! `pgtmp --shared-tx` as a hand-out: the URL in every form points at the
//! proxy, its clients keep the instance alive and are listed, `stop` ends
//! it (telling the clients), and the proxy never outlives its supervisor.

use std::time::Duration;

use postgres::{Client, NoTls};

use super::{Shared, int};
use crate::support::{TestRoot, poll, procs};

#[test]
fn the_proxys_clients_keep_the_instance_and_are_listed() {
    let t = TestRoot::new();
    let out = t.pgtmp(["--shared-tx", "-w", "2"]).run();
    out.assert_success();
    let url = out.one_line().to_string();
    let mut c = Client::connect(&format!("{url}&application_name=held"), NoTls).unwrap();
    assert!(
        poll::eventually(|| t.instance(&url).clients == 1),
        "{}",
        t.logs()
    );
    assert!(
        poll::stays(Duration::from_secs(4), || t.listed(&url)),
        "stopped with a client"
    );
    let listed = t.pgtmp(["list", "--clients"]).run();
    listed.assert_success();
    assert!(
        listed.stdout.contains(&format!("{url}\t"))
            && listed.stdout.contains("\theld\tidle\tsocket"),
        "{listed}"
    );
    assert_eq!(int(&mut c, "select 1"), 1);
    drop(c);
    assert!(
        poll::eventually(|| !t.listed(&url)),
        "not stopped when idle\n{}",
        t.logs()
    );
    assert!(poll::eventually(|| t.run_entries().is_empty()));
}

#[test]
fn every_form_points_at_the_proxy() {
    let t = TestRoot::new();
    let out = t.pgtmp(["--shared-tx", "-F", "jdbc", "-w", "0"]).run();
    out.assert_success();
    let jdbc = out.one_line().to_string();
    let list = t.list();
    let entry = list
        .iter()
        .find(|i| jdbc.contains(&format!(":{}/", i.port)))
        .expect("the instance");
    // The server itself is not on that port: only the proxy answers ROLLBACK TEST.
    t.pgtmp(["rollback", &jdbc]).run().assert_success();
    let out = t
        .pgtmp([
            "exec",
            "--shared-tx",
            "--",
            "sh",
            "-c",
            "echo \"$DATABASE_URL\"",
        ])
        .run();
    out.assert_success();
    t.pgtmp(["rollback", out.stdout.trim()])
        .run()
        .assert_error(1, &["connect"]);
    t.pgtmp(["stop", &entry.url]).run().assert_success();
}

#[test]
fn stop_tells_the_clients_and_the_proxy_dies_with_its_supervisor() {
    let t = TestRoot::new();
    let p = Shared::start(&t, false);
    let mut c = p.connect();
    assert_eq!(int(&mut c, "select 1"), 1);
    t.pgtmp(["stop", &p.url]).run().assert_success();
    assert!(c.batch_execute("select 1").is_err());
    // A supervisor killed outright takes its proxy along.
    let p = Shared::start(&t, false);
    let proxy = p.status()["pid"].as_u64();
    assert!(poll::eventually(|| p.status()["pid"].as_u64().is_some()));
    let proxy = proxy
        .or_else(|| p.status()["pid"].as_u64())
        .expect("the proxy's pid") as u32;
    let supervisor = t.instance(&p.url).supervisor_pid;
    procs::signal(supervisor, "KILL");
    assert!(
        poll::eventually(|| !procs::alive(proxy)),
        "the proxy outlived its supervisor"
    );
}
