//! The main promise: `pgtmp` prints one Unix-socket URL, and behind it a
//! ready, private database `test` owned by a superuser role named after the
//! invoking user.

use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::process::Stdio;
use std::sync::mpsc;

use crate::support::{TestRoot, db, poll, procs, url};

#[test]
fn socket_url_reaches_database_test() {
    let t = TestRoot::new();
    let h = t.start(&[]);
    let u = url::socket(&h.url);
    assert_eq!(u.db, "test", "{}", h.out);
    assert!(
        u.host.starts_with(t.base()),
        "socket dir {} is not under the base dir",
        u.host.display()
    );

    let mut client = db::connect(&h.url);
    assert_eq!(db::text(&mut client, "select current_database()"), "test");
    assert_eq!(
        db::text(&mut client, "select current_user"),
        procs::my_name()
    );
    let superuser = "select rolsuper::text from pg_roles where rolname = current_user";
    assert_eq!(db::text(&mut client, superuser), "true");
}

#[test]
fn start_subcommand_is_the_default() {
    let t = TestRoot::new();
    let h = t.start(&["start"]);
    assert_eq!(url::socket(&h.url).db, "test");
    let mut client = db::connect(&h.url);
    assert_eq!(db::text(&mut client, "select current_database()"), "test");
}

/// `url=$(pgtmp)` must return: nothing left running may hold pgtmp's stdout.
#[test]
fn stdout_closes_when_pgtmp_exits() {
    let t = TestRoot::new();
    let (mut cmd, shown) = t.pgtmp(Vec::<&str>::new()).command();
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {shown}: {e}"));
    let mut stdout = child.stdout.take().expect("piped stdout");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stdout.read_to_string(&mut text);
        let _ = tx.send(text);
    });
    let text = rx.recv_timeout(poll::PATIENCE);
    let mut status = None;
    let exited = poll::eventually(|| {
        status = child.try_wait().expect("wait for pgtmp");
        status.is_some()
    });
    if !exited {
        let _ = child.kill();
        let _ = child.wait();
        panic!("{shown}: still running after {:?}", poll::PATIENCE);
    }
    let text = text.unwrap_or_else(|_| {
        panic!("{shown}: stdout still open after pgtmp exited; a background process holds it")
    });
    let status = status.expect("exit status");
    assert!(status.success(), "{shown}: {status}");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 1, "{shown}: stdout is not one line: {text:?}");
    db::connect(lines[0]);
}

/// The second hand-out (served from the pool) is a fresh database, not a
/// copy of what the first client did.
#[test]
fn handouts_are_independent() {
    let t = TestRoot::new();
    let first = t.start(&[]);
    let mut one = db::connect(&first.url);
    db::execute(
        &mut one,
        "create table marker (v int); insert into marker values (1)",
    );

    let second = t.start(&[]);
    assert_ne!(first.url, second.url);
    let mut two = db::connect(&second.url);
    assert_eq!(
        db::text(
            &mut two,
            "select coalesce(to_regclass('marker')::text, 'none')"
        ),
        "none"
    );

    drop(one);
    t.stop(&first.url);
    assert_eq!(db::text(&mut two, "select 'still here'"), "still here");
}

#[test]
fn base_dir_is_private() {
    let t = TestRoot::new();
    t.start(&[]);
    let mode = std::fs::metadata(t.base())
        .expect("base dir exists")
        .permissions()
        .mode();
    assert_eq!(
        mode & 0o777,
        0o700,
        "base dir {} has mode {:o}",
        t.base().display(),
        mode & 0o777
    );
}
