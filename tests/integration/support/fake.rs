//! Fake PostgreSQL programs for error paths that need no real server
//! (ephemeralpg's stubs, just's `write_executable`).
//!
//! They live in the test root (0755) because, run as root, pgtmp executes
//! them as the `postgres` account.

use std::fs;
use std::path::{Path, PathBuf};

use super::root::{TestRoot, set_mode};

/// What the failing fake `initdb` says on stderr.
pub const INITDB_FAILURE: &str = "fake initdb: could not write PG_VERSION: the disk is on fire";

pub fn write_executable(path: &Path, body: &str) {
    fs::write(path, body).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    set_mode(path, 0o755);
}

/// A bin directory whose `initdb` starts a data directory (even a plausible
/// `PG_VERSION`), then fails with `INITDB_FAILURE`; `postgres` only knows
/// `--version`.
pub fn failing_bindir(t: &TestRoot, rel: &str) -> PathBuf {
    failing_bindir_of(t, rel, "15.99")
}

/// `failing_bindir` of PostgreSQL `version`, which its `initdb` also names
/// when it fails (`fake initdb 16.99`), so a test sees which one ran.
pub fn failing_bindir_of(t: &TestRoot, rel: &str, version: &str) -> PathBuf {
    let dir = t.mkdir(rel);
    let initdb = format!(
        r#"#!/bin/sh
case "$1" in --version|-V) echo "initdb (PostgreSQL) {version}"; exit 0;; esac
dir=$PGDATA
while [ $# -gt 0 ]; do
    case "$1" in
        -D|--pgdata) dir=$2; [ $# -gt 1 ] && shift;;
        --pgdata=*) dir=${{1#--pgdata=}};;
        -D*) dir=${{1#-D}};;
    esac
    shift
done
if [ -n "$dir" ]; then
    mkdir -p "$dir" && echo 15 > "$dir/PG_VERSION" && : > "$dir/half-written"
fi
echo "fake initdb {version}" >&2
echo "{INITDB_FAILURE}" >&2
exit 1
"#
    );
    write_executable(&dir.join("initdb"), &initdb);
    write_executable(
        &dir.join("postgres"),
        &format!(
            r#"#!/bin/sh
case "$1" in --version|-V) echo "postgres (PostgreSQL) {version}"; exit 0;; esac
echo "fake postgres: not expected to run: $*" >&2
exit 1
"#
        ),
    );
    dir
}

/// A directory holding only a `pg_config` that points `--bindir` at `bindir`.
pub fn pg_config_dir(t: &TestRoot, rel: &str, bindir: &Path) -> PathBuf {
    let dir = t.mkdir(rel);
    let script = format!(
        r#"#!/bin/sh
case "$1" in
    --bindir) echo "{}";;
    --version) echo "PostgreSQL 15.99";;
    *) echo "fake pg_config: unsupported: $*" >&2; exit 1;;
esac
"#,
        bindir.display()
    );
    write_executable(&dir.join("pg_config"), &script);
    dir
}
