//! Finding PostgreSQL: `pgtmp versions` lists what pgtmp can use, with the
//! version each binary reports (never one read from a directory name);
//! `--pg-version N` takes the newest N.x and wins over `PGTMP_PG_BINDIR`;
//! `PGTMP_PG_PATH` adds bin directories and prefixes; versions are read
//! once and remembered until the binary changes.
//!
//! The installations here are fake (`support::fake`): a `postgres` that
//! only answers `--version`, an `initdb` that fails naming its version, so
//! a test sees which one pgtmp chose without starting a server.

use std::fs;
use std::path::Path;

use pgtmp::json::Installation as Listed;

use crate::support::fake::{self, INITDB_FAILURE};
use crate::support::root::set_mode;
use crate::support::{PSQL, TestRoot};

fn json(out: &crate::support::command::Output) -> Vec<Listed> {
    out.assert_success();
    serde_json::from_str(&out.stdout)
        .unwrap_or_else(|e| panic!("`versions --json` is not a list of installations: {e}\n{out}"))
}

fn path_with(dir: &Path) -> String {
    format!(
        "{}:{}",
        dir.display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

/// A directory named like PostgreSQL 13 holding a 16.99: the name says
/// nothing, the binary does.
#[test]
fn versions_come_from_the_binaries_not_the_path() {
    let t = TestRoot::new();
    let fake = fake::failing_bindir_of(&t, "pg13/bin", "16.99");
    let path = path_with(&fake);
    let out = t.pgtmp(["versions"]).env("PATH", &path).run();
    out.assert_success();
    let line = format!("16.99\t{}\t-\t", fake.display());
    assert!(
        out.stdout.contains(&line),
        "expected a line {line:?}\n{out}"
    );

    let out = t.pgtmp(["--pg-version", "13"]).env("PATH", &path).run();
    out.assert_error(1, &["PostgreSQL 13 not found among", "16.99", "hint:"]);
    assert!(
        !out.stderr.contains(INITDB_FAILURE),
        "the 16.99 ran as 13\n{out}"
    );

    let out = t.pgtmp(["--pg-version", "16"]).env("PATH", &path).run();
    out.assert_error(1, &["fake initdb 16.99", INITDB_FAILURE]);
}

/// `--pg-version` searches everywhere, `PGTMP_PG_BINDIR` included, instead
/// of failing on a `PGTMP_PG_BINDIR` of another version; `--pg-bindir`
/// given with it on the command line still has to be that version.
#[test]
fn pg_version_wins_over_pgtmp_pg_bindir() {
    let t = TestRoot::new();
    let fake = fake::failing_bindir_of(&t, "fake/bin", "16.99");
    let h = t
        .pgtmp(["--pg-version", "15", "-w", "0"])
        .env("PGTMP_PG_BINDIR", &fake)
        .run();
    h.assert_success();
    let url = h.one_line().to_string();
    let out = t
        .cmd(PSQL, ["-XAtc", "show server_version_num", &url])
        .run();
    out.assert_success();
    assert!(out.stdout.starts_with("15"), "{out}");
    t.stop(&url);

    // Without `--pg-version`, PGTMP_PG_BINDIR is the one.
    let out = t
        .pgtmp(Vec::<&str>::new())
        .env("PGTMP_PG_BINDIR", &fake)
        .run();
    out.assert_error(1, &["fake initdb 16.99"]);
    // `--pg-version 16` takes it as the newest 16.
    let out = t
        .pgtmp(["--pg-version", "16"])
        .env("PGTMP_PG_BINDIR", &fake)
        .run();
    out.assert_error(1, &["fake initdb 16.99"]);
    let fake_arg = fake.to_str().expect("utf-8 path");
    let out = t
        .pgtmp(["--pg-bindir", fake_arg, "--pg-version", "15"])
        .run();
    out.assert_error(1, &[fake_arg, "is PostgreSQL 16, not 15"]);
}

/// `PGTMP_PG_PATH` entries are prefixes or bin directories; they add
/// installations without changing the default, and `--pg-version` takes
/// the newest of a major among all.
#[test]
fn pgtmp_pg_path_adds_installations() {
    let t = TestRoot::new();
    let older = fake::failing_bindir_of(&t, "opt/a/bin", "16.98");
    let newer = fake::failing_bindir_of(&t, "opt/b/bin", "16.99");
    let path = format!("{}:{}", t.join("opt/a").display(), newer.display());
    let all = json(
        &t.pgtmp(["versions", "--json"])
            .env("PGTMP_PG_PATH", &path)
            .run(),
    );
    for (dir, version) in [(&older, "16.98"), (&newer, "16.99")] {
        let row = all
            .iter()
            .find(|l| &l.bindir == dir)
            .unwrap_or_else(|| panic!("{} not listed: {all:?}", dir.display()));
        assert_eq!(row.version.as_str(), version);
        assert_eq!((row.major, row.found_by.as_str()), (16, "PGTMP_PG_PATH"));
        assert!(!row.default, "{row:?}");
        assert!(row.tools.is_empty(), "{row:?}");
    }
    let default: Vec<&Listed> = all.iter().filter(|l| l.default).collect();
    assert_eq!(default.len(), 1, "{all:?}");
    assert_eq!(default[0].major, 15, "the default changed: {all:?}");

    let out = t
        .pgtmp(["--pg-version", "16"])
        .env("PGTMP_PG_PATH", &path)
        .run();
    out.assert_error(1, &["fake initdb 16.99"]);
    let picked = json(
        &t.pgtmp(["versions", "--json", "--pg-version", "16"])
            .env("PGTMP_PG_PATH", &path)
            .run(),
    );
    let picked: Vec<&Listed> = picked.iter().filter(|l| l.default).collect();
    assert_eq!(picked.len(), 1);
    assert_eq!(picked[0].bindir, newer);
}

/// One whose `postgres` does not run is named on stderr, not listed.
#[test]
fn unusable_installations_are_named_not_listed() {
    let t = TestRoot::new();
    let broken = t.mkdir("broken/bin");
    for program in ["postgres", "initdb"] {
        fake::write_executable(
            &broken.join(program),
            "#!/bin/sh\necho \"$0: error while loading shared libraries: libicuuc.so.60\" >&2\nexit 127\n",
        );
    }
    let out = t
        .pgtmp(["versions"])
        .env("PGTMP_PG_PATH", t.join("broken"))
        .run();
    out.assert_success();
    assert!(!out.stdout.contains("broken"), "{out}");
    assert!(
        out.stderr
            .contains(&format!("skipping {}", broken.display()))
            && out.stderr.contains("libicuuc.so.60"),
        "{out}"
    );
}

/// A version is read once: until the binary changes, later calls take it
/// from the cache in the base directory.
#[test]
fn versions_are_read_once() {
    let t = TestRoot::new();
    let counts = t.mkdir("counts");
    set_mode(&counts, 0o777);
    let bin = t.mkdir("counted/bin");
    let script = |version: &str| {
        format!(
            "#!/bin/sh\necho ran >> {}/runs\necho \"postgres (PostgreSQL) {version}\"\n",
            counts.display()
        )
    };
    fake::write_executable(&bin.join("postgres"), &script("16.97"));
    fake::write_executable(&bin.join("initdb"), "#!/bin/sh\nexit 1\n");
    let runs = || {
        fs::read_to_string(counts.join("runs"))
            .map(|s| s.lines().count())
            .unwrap_or(0)
    };
    let versions = || {
        let all = json(
            &t.pgtmp(["versions", "--json"])
                .env("PGTMP_PG_PATH", &bin)
                .run(),
        );
        all.into_iter()
            .find(|l| l.bindir == bin)
            .map(|l| l.version.to_string())
    };
    assert_eq!(versions().as_deref(), Some("16.97"));
    assert_eq!(versions().as_deref(), Some("16.97"));
    assert_eq!(runs(), 1, "the version was read again");
    // Replaced (a new inode, as a package upgrade makes): read again.
    fs::remove_file(bin.join("postgres")).expect("remove");
    fake::write_executable(&bin.join("postgres"), &script("16.98"));
    assert_eq!(versions().as_deref(), Some("16.98"));
    assert_eq!(runs(), 2);
}

/// The text form has the JSON's rows, one per line; every version is what
/// the binary itself prints.
#[test]
fn versions_text_matches_json_and_binaries() {
    let t = TestRoot::new();
    let pg_path = crate::versions::pg_path();
    let all = crate::versions::listed(&t);
    let text = t.pgtmp(["versions"]).env("PGTMP_PG_PATH", &pg_path).run();
    text.assert_success();
    let lines: Vec<&str> = text.stdout.lines().collect();
    assert_eq!(lines.len(), all.len(), "{text}");
    for (line, row) in lines.iter().zip(&all) {
        let fields: Vec<&str> = line.split('\t').collect();
        let tools = if row.tools.is_empty() {
            "-".to_string()
        } else {
            row.tools.join(",")
        };
        let default = if row.default { "default" } else { "-" };
        assert_eq!(
            fields,
            [
                row.version.as_str(),
                row.bindir.to_str().expect("utf-8"),
                &tools,
                default
            ],
            "{text}"
        );
        let said = t.cmd(row.bindir.join("postgres"), ["--version"]).run();
        said.assert_success();
        assert!(
            said.stdout.trim().ends_with(row.version.as_str())
                || said.stdout.contains(&format!(" {} ", row.version)),
            "{said}"
        );
    }
    assert_eq!(all.iter().filter(|l| l.default).count(), 1, "{text}");
}
