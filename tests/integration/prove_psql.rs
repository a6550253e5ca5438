//! `prove`'s in-process psql against the real one: every script of
//! `tests/data/psql` runs through `psql` with pg_prove's options and
//! through `pgtmp __psql` (the same code `prove` runs files with), each in
//! a fresh database; stdout, stderr and the exit status must be the same.
//! The scripts cover what test suites use: statement splitting, quoting,
//! variables, `\i`/`\ir`, `\if`, `\set` of the special variables,
//! ON_ERROR_STOP/ON_ERROR_ROLLBACK/AUTOCOMMIT, ECHO, `\pset`, `\gset`,
//! errors with their position, notices, COPY TO STDOUT, NOTIFY.

use std::fs;
use std::path::Path;

use crate::support::{PSQL, TestRoot, db, url};

/// Copies `from` into `to`, directories and files.
fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// What differs from run to run: backend pids and timings.
fn steady(text: &str) -> String {
    text.lines()
        .map(|l| {
            let l = match l.find("PID ") {
                Some(i) => format!("{}PID N.", &l[..i]),
                None => l.to_string(),
            };
            if l.starts_with("Time: ") {
                "Time: N".to_string()
            } else {
                l
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn in_process_psql_matches_psql() {
    let t = TestRoot::new();
    let dir = t.join("psql");
    copy_tree(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/psql"),
        &dir,
    );
    let h = t.start(&["-x", "pgtap"]);
    let u = url::socket(&h.url);
    let mut admin = db::connect(&h.url.replace("/test?", "/postgres?"));
    let mut scripts: Vec<String> = fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| {
            let name = e.ok()?.file_name().to_string_lossy().into_owned();
            name.ends_with(".sql").then_some(name)
        })
        .collect();
    scripts.sort();
    assert!(scripts.len() > 30, "{scripts:?}");
    let mut differences = Vec::new();
    for (i, script) in scripts.iter().enumerate() {
        let mut run = |tool: &str| {
            let database = format!("{tool}_{i}");
            db::execute(
                &mut admin,
                &format!("CREATE DATABASE {database} TEMPLATE test"),
            );
            let command = if tool == "psql" {
                t.cmd(
                    PSQL,
                    [
                        "--no-psqlrc",
                        "--no-align",
                        "--quiet",
                        "--pset",
                        "pager=off",
                        "--pset",
                        "tuples_only=true",
                        "--set",
                        "ON_ERROR_STOP=1",
                        "--file",
                        script,
                    ],
                )
            } else {
                t.pgtmp(["__psql", script])
            };
            command
                .current_dir(&dir)
                .env("PGHOST", &u.host)
                .env("PGDATABASE", &database)
                .run()
        };
        let (theirs, ours) = (run("psql"), run("ours"));
        let same = theirs.code() == ours.code()
            && steady(&theirs.stdout) == steady(&ours.stdout)
            && steady(&theirs.stderr) == steady(&ours.stderr);
        if !same {
            differences.push(format!(
                "{script}\n--- psql ---\n{theirs}\n--- ours ---\n{ours}"
            ));
        }
    }
    assert!(differences.is_empty(), "{}", differences.join("\n\n"));
}
