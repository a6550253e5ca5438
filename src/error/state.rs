//! The kinds of failure of what keeps or restores a database's state:
//! `--setup` (a template made by the user's own commands), snapshots, and
//! the instances that `reset` and `snapshot` cannot take.

use std::fmt;
use std::path::PathBuf;

/// Why a `--setup` was not cached.
#[derive(Debug)]
pub enum SetupProblem {
    /// The `--key` contents changed while the commands ran.
    Changed,
    /// A `--key` directory holds more entries than pgtmp reads.
    TooManyEntries { path: PathBuf, max: usize },
    /// The commands left prepared transactions (`PREPARE TRANSACTION`),
    /// which a template would carry into every copy.
    PreparedTransactions(Vec<String>),
    /// The process running the commands ended without answering.
    RunnerGone(String),
}

/// What is wrong with a snapshot name, or the snapshot it names.
#[derive(Debug)]
pub enum SnapshotProblem {
    /// Not a name pgtmp takes (see `snapshot::name`).
    BadName { name: String, why: &'static str },
    /// No snapshot of this user has that name.
    Unknown(String),
    /// Its record names a template that is gone.
    Gone(String),
    /// `--from` with what it cannot take: `-f`, `-x`, `--now`, `-d`.
    Combined(&'static str),
}

/// Why an instance cannot be reset or snapshotted. Other kinds of instance
/// (sets with replicas, `--shared-tx`) say so here, as they learn to.
#[derive(Debug)]
pub enum Refusal {
    /// It runs on the user's own data directory (`-d`): nothing to go back to.
    OwnData,
    /// It was started by a pgtmp that recorded no template, or takes no
    /// requests.
    OldInstance,
    /// A primary with replicas.
    Replicas,
    /// Its URL is the `--shared-tx` proxy.
    SharedTx,
    /// The template it was made from is gone.
    TemplateGone,
    /// A spare nobody was handed yet.
    Spare,
}

impl fmt::Display for SetupProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SetupProblem::Changed => {
                f.write_str("the --key contents changed while the setup ran; nothing was cached")
            }
            SetupProblem::TooManyEntries { path, max } => write!(
                f,
                "--key {} holds more than {max} files and directories",
                path.display()
            ),
            SetupProblem::PreparedTransactions(gids) => write!(
                f,
                "the setup left {} prepared transaction(s) ({}), which every copy would inherit; nothing was cached",
                gids.len(),
                gids.join(", ")
            ),
            SetupProblem::RunnerGone(why) => {
                write!(f, "the process running the setup ended: {why}")
            }
        }
    }
}

impl SetupProblem {
    pub fn hint(&self) -> Option<&'static str> {
        Some(match self {
            SetupProblem::Changed => {
                "if the setup writes into a --key path (a schema dump, a lock file), key only its inputs (`--key db/migrate`, not `--key db`); otherwise run pgtmp again"
            }
            SetupProblem::TooManyEntries { .. } => {
                "key the files the setup reads (a migrations directory), not a whole tree"
            }
            SetupProblem::PreparedTransactions(_) => {
                "end them in the setup with COMMIT PREPARED or ROLLBACK PREPARED"
            }
            SetupProblem::RunnerGone(_) => return None,
        })
    }
}

impl fmt::Display for SnapshotProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SnapshotProblem::BadName { name, why } => {
                write!(f, "{name:?} is not a snapshot name: {why}")
            }
            SnapshotProblem::Unknown(name) => write!(f, "no snapshot named {name:?}"),
            SnapshotProblem::Gone(name) => write!(
                f,
                "the data of snapshot {name:?} is gone (its base directory was cleaned by hand?)"
            ),
            SnapshotProblem::Combined(what) => write!(f, "`--from` takes no {what}"),
        }
    }
}

impl SnapshotProblem {
    pub fn hint(&self) -> Option<&'static str> {
        Some(match self {
            SnapshotProblem::BadName { .. } => {
                "use letters, digits, `-` and `_` (at most 64), not starting with `-`"
            }
            SnapshotProblem::Unknown(_) => "`pgtmp snapshot --list` shows yours",
            SnapshotProblem::Gone(_) => "take it again, or `pgtmp snapshot --delete` it",
            SnapshotProblem::Combined(_) => {
                "a snapshot already holds its schema and data; `--setup` may run on top of it"
            }
        })
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Refusal::OwnData => {
                "it runs on your own data directory (`-d`), which pgtmp never replaces"
            }
            Refusal::OldInstance => "it was started by an older pgtmp",
            Refusal::Replicas => "it has replicas, which this pgtmp cannot reset or copy",
            Refusal::SharedTx => {
                "it is a --shared-tx proxy, whose clients' changes live in one open transaction"
            }
            Refusal::TemplateGone => {
                "the template it was made from is gone (`gc --all`, or removed by hand)"
            }
            Refusal::Spare => "it is a spare server, which nobody was handed yet",
        })
    }
}

impl Refusal {
    pub fn hint(&self) -> Option<&'static str> {
        Some(match self {
            Refusal::OwnData => {
                "copy the directory yourself, or start from a template instead of `-d`"
            }
            Refusal::OldInstance => "stop it and start a new one",
            Refusal::Replicas => return None,
            Refusal::SharedTx => "`pgtmp rollback URL` puts it back",
            Refusal::TemplateGone => "stop it and start a new one",
            Refusal::Spare => "`pgtmp list` shows the instances handed out",
        })
    }
}
