//! Bad input, every kind a user can type or an environment can hold:
//! garbage in every flag, `-d` on a file or a directory that cannot be
//! written, `stop` with URLs that are not ours, paths with spaces and
//! non-ASCII names (and ones that are not UTF-8), a `$TMPDIR` too long for
//! a socket path, no `HOME`, a relative `PGTMP_DIR`. Each gets a clear
//! error with its documented exit code, or simply works; nothing is left
//! behind, and nothing of the user's is changed.

use std::fs;
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use crate::support::mount::Tmpfs;
use crate::support::{PSQL, TestRoot, Who, db, poll, procs, tree, url, user};

/// No instance is left, and once `stop --all` has stopped what may run by
/// design, nothing of pgtmp's runs.
fn assert_left_nothing(t: &TestRoot, what: &str) {
    if t.base().exists() {
        t.pgtmp(["stop", "--all"]).run().assert_success();
    }
    assert_eq!(t.run_entries(), Vec::<String>::new(), "run/ after {what}");
    assert!(
        poll::eventually(|| procs::touching(t.path()).is_empty()),
        "processes after {what}: {:?}",
        procs::touching(t.path())
            .into_iter()
            .map(procs::cmdline)
            .collect::<Vec<_>>()
    );
}

/// Usage errors: exit 2, the offending value named, nothing on stdout, and
/// pgtmp never got as far as creating its base directory.
#[test]
fn garbage_in_every_flag_is_a_usage_error() {
    let t = TestRoot::new();
    let cases: &[(&[&str], &str)] = &[
        (&["-p", "abc"], "abc"),
        (&["-p", "0"], "0"),
        (&["-p", "70000"], "70000"),
        (&["-p", ""], "--port"),
        (&["-p", "-1"], "-1"),
        (&["-w", "soon"], "soon"),
        (&["-w", "-3"], "-3"),
        (&["-w", ""], "--wait"),
        (&["-w", "5x"], "5x"),
        (&["-w", "99999999999999999999"], "99999999999999999999"),
        // Fits a u64 of seconds, but not of milliseconds: it used to wrap
        // around to a timeout of 0.4 s. Beyond the maximum (a year) anyway.
        (&["-w", "18446744073709552s"], "maximum"),
        (&["-w", "99999999999"], "maximum"),
        (&["-o", "'unbalanced"], "quote"),
        (&["-o", "-k /tmp"], "-k"),
        (&["-o", "--nonsense"], "--nonsense=VALUE"),
        (&["-o", "nonsense"], "not an option"),
        (&["-o", "-D /var/lib/postgresql"], "-D"),
        (&["-o", "-c listen_addresses=*"], "listen_addresses"),
        (&["-o", "-i"], "-i"),
        (
            &["-o", "--unix-socket-directories=/tmp"],
            "unix_socket_directories",
        ),
        (&["-o", "-c port=0"], "port"),
        (&["-o", "-h ::1"], "needs `-t`"),
        (&["-d"], "--datadir"),
        (&["-d", ""], "--datadir"),
        (&["-k", "-k"], "--keep"),
        (&["--pg-version", "abc"], "abc"),
        (&["--pg-version", "-1"], "-1"),
        (&["--pg-bindir"], "--pg-bindir"),
        (&["--no-such-flag"], "--no-such-flag"),
        (&["-t", "list"], "unexpected argument '-t'"),
        (&["stop"], "<URL|--datadir <DIR>|--all>"),
        (&["stop", "--all", "-d", "/x"], "cannot be used with"),
        (&["list", "extra"], "extra"),
        (&["gc", "--bogus"], "--bogus"),
        (&["initdb", "-x"], "-x"),
        (&["exec"], "<COMMAND>"),
        (&["exec", "--"], "<COMMAND>"),
        (&["exec", "-w", "never", "--", "true"], "never"),
        (&["completions", "nope"], "nope"),
    ];
    for (args, needle) in cases {
        let out = t.pgtmp(*args).run();
        out.assert_code(2);
        assert!(out.stderr.contains(needle), "expected {needle:?}\n{out}");
        assert!(out.stdout.is_empty(), "{out}");
    }
    assert!(
        !t.base().exists(),
        "a usage error got as far as creating {}",
        t.base().display()
    );
}

/// Values that can only be judged at run time: exit 1, a `pgtmp: error:`
/// naming what is wrong, and nothing left behind.
#[test]
fn garbage_judged_at_run_time_fails_cleanly() {
    let t = TestRoot::new();
    let file = t.join("a-file");
    fs::write(&file, "not a directory\n").expect("write a file");
    let file_arg = file.to_str().expect("utf-8 path");
    let as_root = procs::is_root();
    // Arguments, environment, what the error must say.
    type Case<'a> = (Vec<&'a str>, Vec<(&'a str, &'a str)>, &'a str);
    let cases: Vec<Case> = vec![
        (vec!["--pg-bindir", "/nonexistent"], vec![], "/nonexistent"),
        (vec!["--pg-bindir", file_arg], vec![], file_arg),
        (
            vec![],
            vec![("PGTMP_PG_BINDIR", "/nonexistent")],
            "/nonexistent",
        ),
        (vec!["--pg-version", "9"], vec![], "version 9"),
        (
            vec!["--pg-version", "15", "--pg-bindir", "/nonexistent"],
            vec![],
            "/nonexistent",
        ),
        (
            vec!["--run-as", "no-such-user-here"],
            vec![],
            if as_root {
                "no user named"
            } else {
                "only applies"
            },
        ),
        (vec![], vec![("PGTMP_POOL_SIZE", "x")], "PGTMP_POOL_SIZE"),
        (vec![], vec![("PGTMP_POOL_SIZE", "-1")], "PGTMP_POOL_SIZE"),
        (vec![], vec![("PGTMP_POOL_SIZE", "1000")], "PGTMP_POOL_SIZE"),
        (
            vec![],
            vec![("PGTMP_INITDB_OPTS", "'x")],
            "PGTMP_INITDB_OPTS",
        ),
        (
            vec![],
            vec![("PGTMP_INITDB_OPTS", "--no-such-initdb-option")],
            "initdb",
        ),
        (
            vec!["-o", "-c shared_buffers=banana"],
            vec![],
            "shared_buffers",
        ),
        (vec!["stop", "garbage"], vec![], "garbage"),
        (vec!["stop", ""], vec![], "not a PostgreSQL URL"),
        (vec!["stop", "-d", "/nonexistent"], vec![], "/nonexistent"),
        // (`exec` of a missing command exits 127, as a shell: exec.rs.)
        (vec![], vec![("PGTMP_SPARES", "many")], "PGTMP_SPARES"),
        (vec![], vec![("PGTMP_SPARES", "65")], "PGTMP_SPARES"),
        (
            vec![],
            vec![("PGTMP_SPARE_TIMEOUT", "soon")],
            "PGTMP_SPARE_TIMEOUT",
        ),
    ];
    for (args, envs, needle) in &cases {
        let mut run = t.pgtmp(args);
        for (k, v) in envs {
            run = run.env(k, v);
        }
        let out = run.run();
        out.assert_error(1, &[needle]);
        assert!(out.stdout.is_empty(), "{out}");
        assert!(!out.stderr.contains("panicked"), "pgtmp panicked\n{out}");
    }
    if as_root {
        let out = t.pgtmp(["--run-as", "root"]).run();
        out.assert_error(1, &["root"]);
    }
    assert_left_nothing(&t, "the failed calls");
}

/// `-d` on a file: refused before anything is touched, the file intact.
#[test]
fn datadir_on_a_file_is_refused() {
    let t = TestRoot::new();
    let file = t.join("a-file");
    fs::write(&file, "precious\n").expect("write a file");
    let before = tree::snapshot(&file);
    for args in [&["-d"][..], &["initdb", "-d"]] {
        let out = t
            .pgtmp(args.iter().copied().chain([file.to_str().expect("utf-8")]))
            .run();
        out.assert_error(1, &["-d", "not a directory", "hint:"]);
        assert!(tree::snapshot(&file) == before, "the file changed\n{out}");
    }
    assert_left_nothing(&t, "-d on a file");
}

/// `-d` where pgtmp may not write: as an ordinary user a directory of
/// root's (empty, and one level below it), as root a read-only filesystem.
/// A clear error about `-d` with a hint, and the directory as it was.
#[test]
fn datadir_that_cannot_be_written_is_refused() {
    let t = TestRoot::new();
    if procs::is_root() {
        let who = Who::User(user::ordinary());
        let roots = t.mkdir("roots-empty");
        let before = tree::snapshot(&roots);
        for dir in [roots.clone(), roots.join("below")] {
            let out = t.pgtmp(["-d".as_ref(), dir.as_os_str()]).who(who).run();
            out.assert_error(1, &["`-d", "hint: give `-d` a directory"]);
            assert!(out.stdout.is_empty(), "{out}");
        }
        assert!(
            tree::snapshot(&roots) == before,
            "root's directory changed: {:?}",
            tree::diff(&before, &tree::snapshot(&roots))
        );
        let Some(ro) = Tmpfs::mount(&t, "ro", "1m", "badinput::datadir_that_cannot_be_written")
        else {
            return;
        };
        ro.remount("ro");
        let before = tree::snapshot(ro.path());
        for dir in [ro.path().to_path_buf(), ro.path().join("below")] {
            let out = t.pgtmp(["-d".as_ref(), dir.as_os_str()]).run();
            out.assert_error(1, &["`-d", "Read-only file system", "hint: give `-d`"]);
        }
        assert!(
            tree::snapshot(ro.path()) == before,
            "the read-only dir changed"
        );
    } else {
        let out = t.pgtmp(["-d", "/proc/pgtmp"]).run();
        out.assert_error(1, &["`-d", "hint:"]);
    }
    assert_left_nothing(&t, "-d on unwritable directories");
}

/// `stop` with URLs that are not ours: garbage, another host on our TCP
/// port, another socket directory, our socket directory on another port.
/// Each is an error, and our instances run on untouched.
#[test]
fn stop_with_urls_that_are_not_ours() {
    let t = TestRoot::new();
    let socket = t.start(&["-w", "0"]);
    let tcp = t.start(&["-t", "-w", "0"]);
    let port = url::tcp(&tcp.url).port;
    let dir = url::socket(&socket.url).host;
    let dir = dir.to_str().expect("utf-8 path");
    let not_ours = [
        "garbage".to_string(),
        "mysql://root@127.0.0.1:3306/test".into(),
        format!("postgresql://someone@10.11.12.13:{port}/test"),
        format!("postgresql://someone:secret@db.example.com:{port}/prod"),
        format!("postgresql:///test?host=/tmp&port={port}"),
        "postgresql:///test?host=/tmp&user=root".into(),
        format!("postgresql:///test?host={dir}&port=5433"),
        format!(
            "postgresql://x@127.0.0.1:{}/test",
            port.wrapping_add(1).max(1)
        ),
        "postgresql://x@127.0.0.1:notaport/test".into(),
    ];
    for u in &not_ours {
        let out = t.pgtmp(["stop", u]).run();
        out.assert_error(1, &[]);
        assert!(out.stdout.is_empty(), "{out}");
    }
    for h in [&socket, &tcp] {
        let mut client = db::connect(&h.url);
        assert_eq!(db::text(&mut client, "select 'untouched'"), "untouched");
    }
    assert_eq!(t.list().len(), 2, "an instance went missing");
}

/// Spaces and non-ASCII in the base directory and in `-d`: the URL (with
/// the socket path percent-encoded) works with libpq and the Rust client,
/// `list` and `stop URL` find the instance.
#[test]
fn paths_with_spaces_and_non_ascii_names() {
    let t = TestRoot::new();
    let base = t.join("a dir with spaces/données 数据 ü");
    let run = |args: &[&str]| t.pgtmp(args).env("PGTMP_DIR", &base).run();
    let data = t.join("my data/ünïcødé 数据");
    let data_arg = data.to_str().expect("utf-8 path");
    for args in [
        &["-w", "0"][..],
        &["-t", "-w", "0"],
        &["-d", data_arg, "-w", "0"],
    ] {
        let out = run(args);
        out.assert_success();
        let handed = out.one_line();
        let mut client = db::connect(handed);
        assert_eq!(db::text(&mut client, "select current_database()"), "test");
        if !args.contains(&"-t") {
            let psql = t.cmd(PSQL, [handed, "-X", "-tAc", "select 'libpq'"]).run();
            psql.assert_success();
            assert_eq!(psql.stdout.trim(), "libpq", "{psql}");
        }
        let listed = crate::support::pgtmp::instances(&run(&["list", "--json"]));
        let inst = listed
            .iter()
            .find(|i| i.url == handed)
            .unwrap_or_else(|| panic!("{handed} is not listed"));
        drop(client);
        run(&["stop", handed]).assert_success();
        assert!(
            poll::eventually(|| !procs::alive(inst.pid) && !inst.dir.exists()),
            "`stop` left {}",
            inst.dir.display()
        );
    }
    assert!(
        data.join("PG_VERSION").is_file(),
        "the -d directory is gone"
    );
}

/// A path that is not UTF-8 cannot go into a URL or the metadata: refused
/// before anything is made (it used to panic after building a template).
#[test]
fn paths_that_are_not_utf8_are_refused() {
    let t = TestRoot::new();
    let name = std::ffi::OsStr::from_bytes(b"latin1-\xe9t\xe9");
    let base = t.path().join(name);
    let out = t.pgtmp(["-w", "0"]).env("PGTMP_DIR", &base).run();
    out.assert_error(1, &["UTF-8", "hint:"]);
    assert!(!base.exists(), "{} was created\n{out}", base.display());

    let data = t.path().join(name);
    let out = t.pgtmp(["-d".as_ref(), data.as_os_str()]).run();
    out.assert_error(1, &["UTF-8", "hint:"]);
    assert!(!data.exists(), "{} was created\n{out}", data.display());
    assert_left_nothing(&t, "paths that are not UTF-8");
}

/// With `PGTMP_DIR` unset and /dev/shm without room (a private mount
/// namespace with a small tmpfs over it), the base directory goes below
/// `$TMPDIR`; one so long that the socket path would pass the 107-byte
/// limit moves the socket to a short directory under /tmp, and the URL
/// works.
#[test]
fn long_tmpdir_moves_the_socket_out() {
    let t = TestRoot::new();
    if !procs::is_root() {
        let _ = writeln!(
            std::io::stderr(),
            "badinput::long_tmpdir_moves_the_socket_out: skipped: needs root"
        );
        return;
    }
    let tmpdir = t.outside("tmpdir").join("t".repeat(90));
    fs::create_dir_all(&tmpdir).expect("create TMPDIR");
    let base = t.extra_base(tmpdir.join("pgtmp-0"));
    let script = r#"mount -t tmpfs -o size=16m tmpfs /dev/shm && exec "$@""#;
    let out = t
        .cmd(
            "unshare",
            [
                "--mount".as_ref(),
                "sh".as_ref(),
                "-c".as_ref(),
                script.as_ref(),
                "sh".as_ref(),
                Path::new(env!("CARGO_BIN_EXE_pgtmp")).as_os_str(),
                "-w".as_ref(),
                "0".as_ref(),
            ],
        )
        .env("PGTMP_DIR", "")
        .env("TMPDIR", &tmpdir)
        .run();
    if out.code() != Some(0) && out.stderr.contains("unshare") {
        let _ = writeln!(
            std::io::stderr(),
            "badinput::long_tmpdir_moves_the_socket_out: skipped: {}",
            out.stderr.trim()
        );
        return;
    }
    out.assert_success();
    let handed = out.one_line();
    assert!(
        base.join("run").is_dir(),
        "the base is not under $TMPDIR\n{out}"
    );
    let socket_dir = url::socket(handed).host;
    assert!(
        socket_dir.join(".s.PGSQL.5432").as_os_str().len() <= 107,
        "socket path too long: {}",
        socket_dir.display()
    );
    assert!(
        !socket_dir.starts_with(&tmpdir),
        "the socket stayed under $TMPDIR: {}",
        socket_dir.display()
    );
    let mut client = db::connect(handed);
    assert_eq!(db::text(&mut client, "select 'short'"), "short");
    drop(client);
    t.pgtmp(["stop", handed])
        .env("PGTMP_DIR", &base)
        .run()
        .assert_success();
    assert!(
        poll::eventually(|| !socket_dir.exists()),
        "the socket directory {} survives",
        socket_dir.display()
    );
}

/// No `HOME` at all (cron, some CI runners): everything still works, as
/// root and as an ordinary user.
#[test]
fn unset_home_is_no_problem() {
    let t = TestRoot::new();
    let mut whos = vec![Who::Me];
    if procs::is_root() {
        whos.push(Who::User(user::ordinary()));
    }
    for who in whos {
        let out = t.pgtmp(["-w", "0"]).who(who).env_remove("HOME").run();
        out.assert_success();
        let mut client = db::connect_to_whose(out.one_line(), who);
        assert_eq!(db::text(&mut client, "select 'homeless'"), "homeless");
        drop(client);
        let exec = t
            .pgtmp(["exec", "--", PSQL, "-X", "-tAc", "select 'exec'"])
            .who(who)
            .env_remove("HOME")
            .run();
        exec.assert_success();
        assert_eq!(exec.stdout.trim(), "exec", "{exec}");
        t.pgtmp(["stop", "--all"])
            .who(who)
            .env_remove("HOME")
            .run()
            .assert_success();
    }
}

/// A relative `PGTMP_DIR` is taken relative to where pgtmp runs (it used
/// to reach postgres unresolved, which then could not find its socket).
#[test]
fn relative_base_directory_works() {
    let t = TestRoot::new();
    let out = t.pgtmp(["-w", "0"]).env("PGTMP_DIR", "rel/base").run();
    out.assert_success();
    let handed = out.one_line();
    assert!(
        url::socket(handed).host.starts_with(t.join("rel/base")),
        "{out}"
    );
    db::connect(handed);
    t.pgtmp(["stop", handed])
        .env("PGTMP_DIR", "rel/base")
        .run()
        .assert_success();
}
