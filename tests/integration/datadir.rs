//! `-d DIR` and `initdb`: a user's own data directory is initialised when
//! missing, reused when it holds a cluster, refused when it holds anything
//! else, and never deleted.

use std::fs;

use crate::support::{TestRoot, db, poll, procs};

#[test]
fn foreign_directory_is_refused_and_left_intact() {
    let t = TestRoot::new();
    let dir = t.mkdir("dirs/foreign");
    fs::write(dir.join("keep.txt"), "mine\n").expect("write keep.txt");
    let out = t.pgtmp(["-d".as_ref(), dir.as_os_str()]).run();
    out.assert_error(1, &[]);
    let left: Vec<_> = fs::read_dir(&dir)
        .expect("dir survives")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert_eq!(left, ["keep.txt"], "the foreign dir was changed\n{out}");
    assert_eq!(
        fs::read_to_string(dir.join("keep.txt")).expect("read keep.txt"),
        "mine\n"
    );
    assert_eq!(
        t.run_entries(),
        Vec::<String>::new(),
        "base/run is not empty after\n{out}"
    );
}

#[test]
fn missing_directory_is_initialised_and_survives_stop() {
    let t = TestRoot::new();
    t.mkdir("dirs");
    let dir = t.join("dirs/mine");
    let dir_arg = dir.to_str().expect("utf-8 path");

    let first = t.start(&["-d", dir_arg]);
    assert!(
        dir.join("PG_VERSION").is_file(),
        "{} was not initialised\n{}",
        dir.display(),
        first.out
    );
    assert_eq!(t.instance(&first.url).data_dir, dir);
    let mut client = db::connect(&first.url);
    db::execute(
        &mut client,
        "create table survivor (v text); insert into survivor values ('kept')",
    );
    drop(client);
    t.stop(&first.url);
    assert!(
        poll::eventually(|| !t.listed(&first.url)),
        "still listed after `stop`"
    );
    assert!(
        dir.join("PG_VERSION").is_file(),
        "`stop` deleted the -d directory {}",
        dir.display()
    );

    let second = t.start(&["-d", dir_arg]);
    let mut client = db::connect(&second.url);
    assert_eq!(
        db::text(&mut client, "select v from survivor"),
        "kept",
        "-d did not reuse the cluster"
    );
    drop(client);
    let pid = t.instance(&second.url).pid;
    t.pgtmp(["stop", "-d", dir_arg]).run().assert_success();
    assert!(
        poll::eventually(|| !procs::alive(pid)),
        "`stop -d` left the postmaster running"
    );
    assert!(
        dir.join("PG_VERSION").is_file(),
        "`stop -d` deleted {}",
        dir.display()
    );
}

#[test]
fn initdb_prepares_given_directory() {
    let t = TestRoot::new();
    t.mkdir("dirs");
    let dir = t.join("dirs/prepared");
    let out = t
        .pgtmp(["initdb".as_ref(), "-d".as_ref(), dir.as_os_str()])
        .run();
    out.assert_success();
    assert_eq!(out.one_line(), dir.to_str().expect("utf-8 path"), "{out}");
    assert!(
        dir.join("PG_VERSION").is_file(),
        "{} not initialised\n{out}",
        dir.display()
    );
}

#[test]
fn initdb_prepares_pool_entry() {
    let t = TestRoot::new();
    let out = t.pgtmp(["initdb"]).run();
    out.assert_success();
    let entry = std::path::PathBuf::from(out.one_line());
    assert!(
        entry.starts_with(t.base().join("pool")),
        "not a pool entry\n{out}"
    );
    assert!(
        entry.join("PG_VERSION").is_file(),
        "pool entry holds no cluster\n{out}"
    );
}
