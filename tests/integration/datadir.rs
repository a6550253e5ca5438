//! `-d DIR` and `initdb`: a user's own data directory is initialised when
//! missing, reused when it holds a cluster, refused when it holds anything
//! else, and never deleted.

use std::fs;

use crate::support::{TestRoot, Who, db, poll, procs, tree, user};

/// A non-empty directory that holds no cluster is the user's: `start -d`
/// and `initdb -d` refuse it, as root and as an ordinary user, and leave it
/// byte for byte as it was (names, modes, owners, contents, times).
#[test]
fn foreign_directory_is_refused_and_left_intact() {
    let t = TestRoot::new();
    let mut whos = vec![Who::Me];
    if procs::is_root() {
        whos.push(Who::User(user::ordinary()));
    }
    for (n, who) in whos.into_iter().enumerate() {
        let dir = t.mkdir(format!("dirs/foreign-{n}"));
        fs::write(dir.join("keep.txt"), "mine\n").expect("write keep.txt");
        fs::create_dir_all(dir.join("src/deep")).expect("mkdir");
        fs::write(dir.join("src/deep/main.rs"), "fn main() {}\n").expect("write");
        std::os::unix::fs::symlink("keep.txt", dir.join("link")).expect("symlink");
        if let Who::User(u) = who {
            std::os::unix::fs::chown(&dir, Some(u.uid), Some(u.gid)).expect("chown");
        }
        let before = tree::snapshot(&dir);
        for args in [&["-d"][..], &["initdb", "-d"]] {
            let out = t
                .pgtmp(
                    args.iter()
                        .map(std::ffi::OsStr::new)
                        .chain([dir.as_os_str()]),
                )
                .who(who)
                .run();
            out.assert_error(1, &["not a PostgreSQL data directory", "hint:"]);
            let after = tree::snapshot(&dir);
            assert!(
                after == before,
                "the foreign dir was changed: {:?}\n{out}",
                tree::diff(&before, &after)
            );
        }
        assert_eq!(
            t.run_entries(),
            Vec::<String>::new(),
            "base/run is not empty after"
        );
    }
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

/// `pgtmp initdb` alone: a ready data directory of its own under the base,
/// where no plain hand-out can claim it before `start -d` does.
#[test]
fn initdb_prepares_a_directory_out_of_the_pools_reach() {
    let t = TestRoot::new();
    let out = t.pgtmp(["initdb"]).run();
    out.assert_success();
    let entry = std::path::PathBuf::from(out.one_line());
    assert!(
        entry.starts_with(t.base().join("initdb")),
        "not under initdb/\n{out}"
    );
    assert!(
        entry.join("PG_VERSION").is_file(),
        "{} holds no cluster\n{out}",
        entry.display()
    );
    // Plain hand-outs take pool entries, never this one.
    for _ in 0..3 {
        t.start(&["--standby", "0"]);
    }
    assert!(
        entry.join("PG_VERSION").is_file(),
        "{} was taken",
        entry.display()
    );
}

/// Issue 18.15: `-d` on a data directory a server pgtmp did not start runs
/// in: refused, and the hint says what stops it (`pgtmp stop -d` cannot);
/// for a server pgtmp did start there, `pgtmp stop -d` is the hint.
#[test]
fn running_cluster_under_d_gets_a_hint_that_works() {
    let t = TestRoot::new();
    let who = if procs::is_root() {
        Who::User(user::ordinary())
    } else {
        Who::Me
    };
    let parent = t.mkdir("clusters");
    if let Who::User(u) = who {
        std::os::unix::fs::chown(&parent, Some(u.uid), Some(u.gid)).expect("chown");
    }
    let dir = parent.join("cluster");
    let dir_arg = dir.to_str().expect("utf-8").to_string();
    t.pgtmp(["initdb", "-d", &dir_arg])
        .who(who)
        .run()
        .assert_success();
    let postgres = std::path::Path::new(crate::support::PSQL)
        .parent()
        .expect("bin")
        .join("postgres");
    let server = t
        .cmd(
            &postgres,
            [
                "-D",
                &dir_arg,
                "-k",
                &dir_arg,
                "-c",
                "listen_addresses=",
                "-p",
                "5432",
            ],
        )
        .who(who)
        .spawn(|_| ());
    assert!(
        poll::eventually(
            || fs::read_to_string(dir.join("postmaster.pid")).is_ok_and(|s| s.contains("ready"))
        ),
        "the foreign server never got ready: {}",
        server.stderr()
    );
    let out = t.pgtmp(["-d", &dir_arg, "-w", "0"]).who(who).run();
    procs::signal(server.pid(), "INT");
    let _ = server.wait();
    out.assert_error(1, &["already runs", "pg_ctl stop -D", "hint:"]);
    assert!(
        !out.stderr.contains("pgtmp stop -d"),
        "the hint names `pgtmp stop -d`, which cannot stop it\n{out}"
    );

    let h = t.start_as(who, &["-d", &dir_arg, "-w", "0"]);
    let out = t.pgtmp(["-d", &dir_arg, "-w", "0"]).who(who).run();
    out.assert_error(1, &["already runs", "pgtmp stop -d"]);
    t.pgtmp(["stop", &h.url]).who(who).run().assert_success();
}
