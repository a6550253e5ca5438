//! What one test file's run left: its TAP tally, when it ran and for how
//! long, what it wrote to stderr, the database it ran in, and how it ran
//! (in-process, or by psql for a script that needs psql itself). Every
//! report (console, JUnit, JSON, `--state`) reads these.

use std::time::{Duration, SystemTime};

use super::parser::FileTap;

/// How a file was run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Runner {
    /// pgtmp's own psql, over one connection.
    InProcess,
    /// The real psql (the script uses what only psql does).
    Psql,
}

#[derive(Debug, Clone)]
pub struct FileOutcome {
    /// The name the run prints.
    pub name: String,
    pub tap: FileTap,
    pub started: SystemTime,
    pub elapsed: Duration,
    /// psql's messages (errors, notices) while it ran.
    pub stderr: String,
    /// The database it ran in.
    pub database: String,
    pub runner: Runner,
}

impl FileOutcome {
    /// Whether the file failed (for `--fail-fast`, `--keep-failed`).
    pub fn failed(&self) -> bool {
        self.tap.has_problems() || self.tap.bailout.is_some()
    }
}
