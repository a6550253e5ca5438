//! Failures: usage errors exit 2, everything else exits 1 with
//! `pgtmp: error: ...` and what the user needs to act, and leaves nothing
//! behind. Fake `initdb`/`postgres`/`pg_config` stand in where a real server
//! cannot fail on cue.

use crate::support::{TestRoot, fake, poll, procs};

#[test]
fn bad_server_option_fails_with_server_message() {
    let t = TestRoot::new();
    let out = t.pgtmp(["-o", "-c work_mem=banana"]).run();
    out.assert_error(1, &["work_mem"]);
    assert!(out.stdout.is_empty(), "no URL on failure\n{out}");
    assert_eq!(
        t.run_entries(),
        Vec::<String>::new(),
        "base/run is not empty after\n{out}"
    );
    let run = t.base().join("run");
    assert!(
        poll::eventually(|| procs::touching(&run).is_empty()),
        "processes left in {}: {:?}",
        run.display(),
        procs::touching(&run)
            .into_iter()
            .map(procs::cmdline)
            .collect::<Vec<_>>()
    );
}

#[test]
fn invalid_timeout_is_usage_error() {
    let t = TestRoot::new();
    let out = t.pgtmp(["-w", "soon"]).run();
    out.assert_code(2);
    assert!(
        out.stderr.contains("soon"),
        "the error should quote the bad value\n{out}"
    );
    assert!(out.stdout.is_empty(), "{out}");
}

#[test]
fn unknown_flag_is_usage_error() {
    let t = TestRoot::new();
    let out = t.pgtmp(["--no-such-flag"]).run();
    out.assert_code(2);
    assert!(out.stderr.contains("--no-such-flag"), "{out}");
}

#[test]
fn empty_bindir_says_where_it_looked() {
    let t = TestRoot::new();
    let empty = t.mkdir("empty-bin");
    let out = t
        .pgtmp(Vec::<&str>::new())
        .env("PGTMP_PG_BINDIR", &empty)
        .run();
    out.assert_error(1, &[empty.to_str().expect("utf-8 path")]);
    assert!(
        out.stderr.starts_with("pgtmp: error:"),
        "stderr should start with the error\n{out}"
    );
}

/// A failed initdb must not leave a half-written template that a later run
/// would trust: the second run fails the same way, by running initdb again.
#[test]
fn failing_initdb_leaves_no_half_template() {
    let t = TestRoot::new();
    let bindir = fake::failing_bindir(&t, "fake-bin");
    for _ in 0..2 {
        let out = t
            .pgtmp(Vec::<&str>::new())
            .env("PGTMP_PG_BINDIR", &bindir)
            .run();
        out.assert_error(1, &[fake::INITDB_FAILURE]);
        assert_eq!(
            t.templates(),
            Vec::<std::path::PathBuf>::new(),
            "template left behind\n{out}"
        );
        assert_eq!(
            t.pool_entries(),
            Vec::<std::path::PathBuf>::new(),
            "pool entry left behind\n{out}"
        );
        assert_eq!(
            t.run_entries(),
            Vec::<String>::new(),
            "base/run is not empty after\n{out}"
        );
    }
}

/// With no `PGTMP_PG_BINDIR`, a `pg_config` on PATH says where PostgreSQL is,
/// before the well-known directories are tried.
#[test]
fn pg_config_on_path_is_consulted() {
    let t = TestRoot::new();
    let bindir = fake::failing_bindir(&t, "fake-bin");
    let config_dir = fake::pg_config_dir(&t, "fake-config", &bindir);
    let path = format!("{}:/usr/local/bin:/usr/bin:/bin", config_dir.display());
    let out = t.pgtmp(Vec::<&str>::new()).env("PATH", path).run();
    out.assert_error(1, &[fake::INITDB_FAILURE]);
}

/// Issue 18.15: with a tiny open-file limit (`ulimit -n 10`), the error
/// says that the open files ran out and what the limit is, not an
/// unexplained "Invalid argument"; a limit a little higher fails the same
/// clear way (or works).
#[test]
fn open_file_limit_is_named() {
    let t = TestRoot::new();
    let pgtmp = env!("CARGO_BIN_EXE_pgtmp");
    for limit in [10, 12, 16] {
        let script = format!("ulimit -n {limit} && exec {pgtmp} -w 0");
        let out = t.cmd("sh", ["-c", &script]).run();
        if out.code() == Some(0) {
            continue;
        }
        assert!(
            !out.stderr.contains("Invalid argument"),
            "ulimit -n {limit}: no word of what ran out\n{out}"
        );
        assert!(
            out.stderr.contains("open files") && out.stderr.contains(&format!("is {limit}")),
            "ulimit -n {limit}: the error must name the open-file limit\n{out}"
        );
        assert!(
            t.run_entries().is_empty(),
            "ulimit -n {limit}: an instance directory is left\n{out}"
        );
    }
}
