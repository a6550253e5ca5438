//! What `pgtmp prove` refuses: the runs it cannot make sense of, and a
//! state or report it cannot read or write.

use std::fmt;
use std::path::PathBuf;

/// Why a `prove` run cannot go ahead.
#[derive(Debug)]
pub enum ProveProblem {
    /// No PATH, and no `t/` (or `.` with `-r`) to default to.
    NoTestDir(&'static str),
    /// `--runtests` with PATHs, which it would ignore.
    RuntestsWithPaths,
    /// A `--set` psql refuses (a special variable's bad value).
    Variable { setting: String, reason: String },
    /// A `--state` switch App::Prove does not know.
    StateOption(String),
    /// A `--state` switch whose `:N` limit is not a number.
    StateLimit(String),
    /// A state file that is not ours to read.
    StateFile { path: PathBuf, reason: String },
    /// A report that could not be made.
    Report(String),
    /// `__psql` could not connect.
    Connect(String),
}

/// The `--state` switches.
pub const STATE_SWITCHES: &str =
    "save, last, failed, passed, all, hot, todo, slow, fast, new, old, fresh";

impl fmt::Display for ProveProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProveProblem::NoTestDir(dir) => {
                write!(f, "no test files named, and there is no `{dir}` directory")
            }
            ProveProblem::RuntestsWithPaths => f.write_str(
                "`--runtests` runs the test functions already in the database; it takes no PATH",
            ),
            ProveProblem::Variable { setting, reason } => write!(f, "`--set {setting}`: {reason}"),
            ProveProblem::StateOption(name) => write!(f, "illegal state option: {name}"),
            ProveProblem::StateLimit(switch) => {
                write!(f, "`--state={switch}`: the limit is not a number")
            }
            ProveProblem::StateFile { path, reason } => write!(
                f,
                "{} is not a state file pgtmp can read: {reason}",
                path.display()
            ),
            ProveProblem::Report(why) => f.write_str(why),
            ProveProblem::Connect(why) => f.write_str(why),
        }
    }
}

impl ProveProblem {
    pub fn hint(&self) -> Option<String> {
        Some(match self {
            ProveProblem::NoTestDir(_) => {
                "name the test files or directories: `pgtmp prove --ext .sql -r test/`".into()
            }
            ProveProblem::RuntestsWithPaths => {
                "load the test functions with `-f`: `pgtmp prove -f tests.sql -R`".into()
            }
            ProveProblem::StateOption(_) => format!("use {STATE_SWITCHES}"),
            ProveProblem::StateLimit(_) => "give a count, as in `--state=slow:5`".into(),
            ProveProblem::StateFile { .. } => {
                "remove it; the next `--state=save` writes a new one".into()
            }
            ProveProblem::Variable { .. } | ProveProblem::Report(_) | ProveProblem::Connect(_) => {
                return None;
            }
        })
    }
}
