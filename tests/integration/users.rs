//! Who runs what. As root, PostgreSQL runs as the `postgres` account (or the
//! `--run-as` one) while the URL still works for root; an ordinary user runs
//! everything as themself. Under a root test run, the ordinary-user test runs
//! pgtmp as `pgtmp-test`; otherwise as the test's own user.

use std::io::Write;
use std::os::unix::fs::MetadataExt;

use crate::support::{PSQL, TestRoot, Who, db, poll, procs, url, user};

/// Whether the tests run as root; if not, says so past libtest's output
/// capture, so a skipped test is visible rather than silently green.
fn running_as_root(test: &str) -> bool {
    if procs::is_root() {
        return true;
    }
    let _ = writeln!(std::io::stderr(), "users::{test}: skipped: needs root");
    false
}

#[test]
fn root_runs_postgres_as_service_account() {
    if !running_as_root("root_runs_postgres_as_service_account") {
        return;
    }
    let t = TestRoot::new();
    let account = user::service_account();
    let h = t.start(&[]);
    assert!(url::socket(&h.url).host.starts_with(t.base()), "{}", h.out);
    let inst = t.instance(&h.url);
    assert_eq!(
        procs::uid(inst.pid),
        Some(account.uid),
        "postmaster is not run by {}",
        account.name
    );
    assert_eq!(
        procs::uid(inst.supervisor_pid),
        Some(account.uid),
        "supervisor is not run by {}",
        account.name
    );
    let owner = std::fs::metadata(t.base()).expect("base dir").uid();
    assert_eq!(
        owner, account.uid,
        "base dir is not owned by {}",
        account.name
    );

    let mut client = db::connect(&h.url);
    assert_eq!(db::text(&mut client, "select current_user"), "root");
    assert_eq!(db::text(&mut client, "select current_database()"), "test");
}

/// The base directory then belongs to that account, and later commands
/// without `--run-as` keep using it; naming another account is refused.
#[test]
fn run_as_picks_the_account() {
    if !running_as_root("run_as_picks_the_account") {
        return;
    }
    let t = TestRoot::new();
    let nobody = user::lookup("nobody").expect("a `nobody` account");
    let h = t.start(&["--run-as", "nobody"]);
    let pid = t.instance(&h.url).pid;
    assert_eq!(
        procs::uid(pid),
        Some(nobody.uid),
        "postmaster is not run by nobody"
    );
    let mut client = db::connect(&h.url);
    assert_eq!(db::text(&mut client, "select current_user"), "root");
    drop(client);

    let other = t.pgtmp(["list", "--run-as", "postgres"]).run();
    other.assert_error(1, &["nobody"]);

    t.pgtmp(["stop", "--all"]).run().assert_success();
    assert!(
        poll::eventually(|| !procs::alive(pid)),
        "postmaster survives `stop --all`"
    );
}

#[test]
fn ordinary_user_gets_own_instance() {
    let t = TestRoot::new();
    let (who, name, uid) = if procs::is_root() {
        let u = user::ordinary();
        (Who::User(u), u.name.clone(), u.uid)
    } else {
        (Who::Me, procs::my_name(), procs::my_uid())
    };
    let h = t.start_as(who, &[]);
    assert!(
        url::socket(&h.url).host.starts_with(t.base_of(who)),
        "{}",
        h.out
    );

    let out = t.cmd(
        PSQL,
        [
            h.url.as_str(),
            "-X",
            "-tA",
            "-c",
            "select current_user || '@' || current_database()",
        ],
    );
    let out = out.who(who).run();
    out.assert_success();
    assert_eq!(out.stdout.trim(), format!("{name}@test"), "{out}");

    let inst = t.instance_as(who, &h.url);
    assert_eq!(
        procs::uid(inst.pid),
        Some(uid),
        "postmaster is not run by {name}"
    );
    assert_eq!(
        procs::uid(inst.supervisor_pid),
        Some(uid),
        "supervisor is not run by {name}"
    );

    t.pgtmp(["stop", &h.url]).who(who).run().assert_success();
    assert!(
        poll::eventually(|| !procs::alive(inst.pid)),
        "postmaster survives `stop`\n{}",
        t.logs()
    );
}
