//! The `--setup` examples as users run them, with real migration tools: a
//! shell loop over `*.sql` (examples/shell_setup), Sqitch
//! (examples/sqitch, Debian's `sqitch`) and Alembic (examples/alembic, from
//! .clients/venv). Each runs its migrations once; later runs, and resets,
//! get copies. The examples are copied into the test root first, so that
//! nothing is written into examples/.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use crate::support::command::Output;
use crate::support::{TestRoot, poll};

const INSTALL: &str = "the tools are installed by `make deps` (.ci/install-deps)";

/// A copy of `examples/NAME` in the test root.
fn example(t: &TestRoot, name: &str) -> PathBuf {
    let from = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples")
        .join(name);
    t.cmd("cp", [OsString::from("-R"), from.into(), t.path().into()])
        .run()
        .assert_success();
    t.join(name)
}

/// PATH with this build's pgtmp and the Python venv first.
fn search_path() -> OsString {
    let pgtmp = Path::new(env!("CARGO_BIN_EXE_pgtmp"))
        .parent()
        .expect("pgtmp's directory")
        .to_path_buf();
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join(".clients/venv/bin");
    let rest = std::env::var_os("PATH").unwrap_or_default();
    let dirs = [pgtmp, venv]
        .into_iter()
        .chain(std::env::split_paths(&rest));
    std::env::join_paths(dirs).expect("a PATH")
}

/// Runs `program ARGS` in `dir` as a user would.
fn run(t: &TestRoot, dir: &Path, program: &str, args: &[&str], flags: &str) -> Output {
    t.cmd(program, args)
        .current_dir(dir)
        .env("PATH", search_path())
        .env("PGTMP_FLAGS", flags)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .run()
}

fn assert_works(out: &Output, what: &str) {
    assert_eq!(out.code(), Some(0), "{what} should work ({INSTALL})\n{out}");
}

/// The instances the examples started are stopped by them.
fn assert_cleaned_up(t: &TestRoot, out: &Output) {
    assert!(
        poll::eventually(|| t.list().is_empty()),
        "an instance is left after {}\n{out}",
        out.cmd
    );
}

#[test]
fn shell_loop_example() {
    let t = TestRoot::new();
    let dir = example(&t, "shell_setup");
    let first = run(&t, &dir, "./test.sh", &[], "");
    assert_works(&first, "examples/shell_setup/test.sh");
    // Two posts, none after the test deleted them, two again after the reset.
    assert_eq!(first.stdout, "2\n2\n", "{first}");
    assert!(
        first.stderr.contains("pgtmp: setup: ./migrate.sh"),
        "{first}"
    );
    let second = run(&t, &dir, "./test.sh", &[], "-t");
    assert_works(&second, "examples/shell_setup/test.sh with -t");
    assert_eq!(second.stdout, "2\n2\n", "{second}");
    assert!(
        !second.stderr.contains("pgtmp: setup:"),
        "the migrations ran again\n{second}"
    );
    // A new migration runs them again.
    std::fs::write(
        dir.join("migrations/0004_more.sql"),
        "insert into posts (user_id, title) select id, 'more' from users;\n",
    )
    .expect("write a migration");
    let third = run(&t, &dir, "./test.sh", &[], "");
    assert_works(&third, "examples/shell_setup/test.sh after a new migration");
    assert_eq!(third.stdout, "4\n4\n", "{third}");
    assert_cleaned_up(&t, &third);
}

#[test]
fn sqitch_example() {
    let t = TestRoot::new();
    let dir = example(&t, "sqitch");
    let first = run(&t, &dir, "./test.sh", &[], "");
    assert_works(&first, "examples/sqitch/test.sh");
    assert_eq!(first.stdout, "3\n", "three changes deployed\n{first}");
    assert!(first.stderr.contains("+ posts"), "{first}");
    let second = run(&t, &dir, "./test.sh", &[], "");
    assert_works(&second, "examples/sqitch/test.sh again");
    assert_eq!(second.stdout, "3\n", "{second}");
    assert!(
        !second.stderr.contains("Deploying"),
        "sqitch deployed again\n{second}"
    );
    assert_cleaned_up(&t, &second);
}

#[test]
fn alembic_example() {
    let t = TestRoot::new();
    let dir = example(&t, "alembic");
    let python = Path::new(env!("CARGO_MANIFEST_DIR")).join(".clients/venv/bin/python");
    let python = python.to_str().expect("utf-8 path");
    let pytest = [
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "test_app.py",
    ];
    for flags in ["", "-t"] {
        let out = run(&t, &dir, python, &pytest, flags);
        assert_works(
            &out,
            &format!("examples/alembic/test_app.py with {flags:?}"),
        );
        assert!(out.stdout.contains("2 passed"), "{out}");
        assert_cleaned_up(&t, &out);
    }
    // Cached: nothing runs, also once Alembic's bytecode caches are there
    // (it writes __pycache__ beside the migrations when it may).
    let setup = [
        "--setup",
        "alembic upgrade head",
        "--key",
        "alembic.ini",
        "--key",
        "migrations",
    ];
    for bytecode in [false, true] {
        if bytecode {
            let compiled = t
                .cmd(python, ["-m", "compileall", "-q", "migrations"])
                .current_dir(&dir)
                .run();
            compiled.assert_success();
            assert!(dir.join("migrations/versions/__pycache__").is_dir());
        }
        let cached = run(&t, &dir, "pgtmp", &setup, "");
        assert_works(&cached, "pgtmp --setup 'alembic upgrade head'");
        assert!(
            !cached.stderr.contains("Running upgrade"),
            "the migrations ran again (bytecode caches: {bytecode})\n{cached}"
        );
    }
}
