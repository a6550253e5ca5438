//! `--json FILE`: the run as one JSON document for programs: the verdict
//! and totals, and per file its tally, times, the database it ran in, what
//! it wrote to stderr and every top-level test with its time and
//! diagnostics. The shape is the `Run` type below (version 1).

use std::path::Path;
use std::time::{Duration, SystemTime};

use serde::Serialize;

use super::outcome::{FileOutcome, Runner};
use super::summary::Aggregate;
use super::tap::Directive;
use crate::error::Result;

/// The document.
#[derive(Debug, Serialize)]
pub struct Run<'a> {
    /// Of this shape.
    pub version: u32,
    /// `PASS`, `FAIL` or `NOTESTS`, as the summary's `Result:` line.
    pub result: &'static str,
    pub exit_code: u8,
    /// Ctrl-C stopped the run: files not finished are missing.
    pub interrupted: bool,
    /// Files that did not run (`--fail-fast`, a bail out, Ctrl-C).
    pub not_run: Vec<&'a str>,
    pub started_at: f64,
    pub wallclock_secs: f64,
    pub files: usize,
    pub tests: u64,
    pub passed: u64,
    pub failed: u64,
    pub runs: Vec<File<'a>>,
}

#[derive(Debug, Serialize)]
pub struct File<'a> {
    pub name: &'a str,
    /// No problem (what `ok` means in pg_prove's output).
    pub ok: bool,
    pub skip_all: Option<&'a str>,
    pub tests_planned: Option<u64>,
    pub tests_run: u64,
    pub passed: &'a [u64],
    pub failed: &'a [u64],
    pub todo: &'a [u64],
    pub todo_passed: &'a [u64],
    pub skipped: &'a [u64],
    pub parse_errors: &'a [String],
    pub bailout: Option<&'a str>,
    /// psql's exit status (3: an SQL error stopped the script).
    pub exit: i32,
    pub wait: i32,
    pub started_at: f64,
    pub duration_secs: f64,
    pub database: &'a str,
    pub runner: Runner,
    pub stderr: &'a str,
    pub assertions: Vec<Assertion<'a>>,
}

#[derive(Debug, Serialize)]
pub struct Assertion<'a> {
    pub number: u64,
    pub ok: bool,
    pub actual_ok: bool,
    pub name: &'a str,
    pub directive: Option<&'static str>,
    pub explanation: &'a str,
    pub unplanned: bool,
    /// Since the file started, and since the line before.
    pub at_secs: f64,
    pub duration_secs: f64,
    pub diagnostics: &'a [String],
    pub subtests: &'a [String],
}

/// What `--json` writes.
#[derive(Debug)]
pub struct Input<'a> {
    pub files: &'a [FileOutcome],
    pub aggregate: &'a Aggregate,
    pub not_run: Vec<&'a str>,
    pub interrupted: bool,
    pub exit_code: u8,
    pub started: SystemTime,
    pub wall: Duration,
}

pub fn write(path: &Path, input: &Input) -> Result<()> {
    let run = Run {
        version: 1,
        result: input.aggregate.status().word(),
        exit_code: input.exit_code,
        interrupted: input.interrupted,
        not_run: input.not_run.clone(),
        started_at: secs(input.started),
        wallclock_secs: input.wall.as_secs_f64(),
        files: input.files.len(),
        tests: input.aggregate.total(),
        passed: input.aggregate.passed(),
        failed: input.files.iter().map(|f| f.tap.failed.len() as u64).sum(),
        runs: input.files.iter().map(file).collect(),
    };
    let text = serde_json::to_string_pretty(&run).expect("the report serializes");
    crate::prove::write_file(path, format!("{text}\n").as_bytes())
}

fn file(f: &FileOutcome) -> File<'_> {
    let t = &f.tap;
    File {
        name: &f.name,
        ok: !t.has_problems(),
        skip_all: t.skip_all.as_deref(),
        tests_planned: t.tests_planned,
        tests_run: t.tests_run,
        passed: &t.passed,
        failed: &t.failed,
        todo: &t.todo,
        todo_passed: &t.todo_passed,
        skipped: &t.skipped,
        parse_errors: &t.parse_errors,
        bailout: t.bailout.as_deref(),
        exit: t.exit,
        wait: t.wait,
        started_at: secs(f.started),
        duration_secs: f.elapsed.as_secs_f64(),
        database: &f.database,
        runner: f.runner,
        stderr: &f.stderr,
        assertions: t
            .assertions
            .iter()
            .map(|a| Assertion {
                number: a.number,
                ok: a.ok,
                actual_ok: a.actual_ok,
                name: &a.name,
                directive: match a.directive {
                    Directive::None => None,
                    d => Some(d.name()),
                },
                explanation: &a.explanation,
                unplanned: a.unplanned,
                at_secs: a.at.as_secs_f64(),
                duration_secs: a.elapsed.as_secs_f64(),
                diagnostics: &a.diagnostics,
                subtests: &a.subtests,
            })
            .collect(),
    }
}

fn secs(t: SystemTime) -> f64 {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}
