//! The one error type of pgtmp. Each variant carries what a user needs to act
//! on it (the path and the action, the program and its output tail), and
//! `hint` gives the known fix where there is one. `lib::run` prints it once.

use std::io;
use std::path::PathBuf;

/// Exit status: success.
pub const EXIT_OK: u8 = 0;
/// Exit status: something failed (see the message on stderr).
pub const EXIT_FAILURE: u8 = 1;
/// Exit status: the command line was wrong (clap's own code).
pub const EXIT_USAGE: u8 = 2;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A filesystem or process operation on a path failed.
    #[error("{action} {}: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        source: io::Error,
    },

    /// No usable PostgreSQL installation.
    #[error("PostgreSQL not found{}; looked in: {looked}", version.map(|v| format!(" (version {v})")).unwrap_or_default())]
    PgNotFound {
        looked: String,
        version: Option<u32>,
    },

    /// A helper program (initdb, postgres --single) failed.
    #[error("{program} failed ({status}){}", tail_block(output))]
    Command {
        program: String,
        status: String,
        output: String,
    },

    /// The server did not come up; `log` is the tail of its log.
    #[error("the server did not start: {reason}{}", tail_block(log))]
    ServerStart {
        reason: String,
        log: String,
        hint: Option<String>,
    },

    /// A fixed port (`-p`) is taken.
    #[error("port {0} on 127.0.0.1 is already in use")]
    PortInUse(u16),

    /// A `-d` directory that is neither empty nor a PostgreSQL data directory.
    #[error("{} is not empty and is not a PostgreSQL data directory; refusing to touch it", .0.display())]
    ForeignDir(PathBuf),

    /// `stop` found nothing to stop.
    #[error("no running instance matches {0}")]
    NoSuchInstance(String),

    /// A SQL round trip with the instance failed.
    #[error("{action}: {source}")]
    Sql {
        action: &'static str,
        source: postgres::Error,
    },

    /// The filesystem holding `path` (the base directory) is full.
    #[error("no space left on the filesystem of {}: {source}", path.display())]
    NoSpace { path: PathBuf, source: Box<Error> },

    /// Something failed on the `-d` directory itself.
    #[error("`-d {}`: {source}", dir.display())]
    DataDir { dir: PathBuf, source: Box<Error> },

    /// Anything else, already phrased for the user.
    #[error("{msg}")]
    Other { msg: String, hint: Option<String> },
}

fn tail_block(text: &str) -> String {
    let text = text.trim_end();
    if text.is_empty() {
        String::new()
    } else {
        let indented: Vec<String> = text.lines().map(|l| format!("  {l}")).collect();
        format!(":\n{}", indented.join("\n"))
    }
}

impl Error {
    /// An `Io` error; use as `.map_err(Error::io("create", &path))`.
    pub fn io(action: &'static str, path: impl Into<PathBuf>) -> impl FnOnce(io::Error) -> Error {
        let path = path.into();
        move |source| Error::Io {
            action,
            path,
            source,
        }
    }

    pub fn other(msg: impl Into<String>) -> Error {
        Error::Other {
            msg: msg.into(),
            hint: None,
        }
    }

    pub fn with_hint(msg: impl Into<String>, hint: impl Into<String>) -> Error {
        Error::Other {
            msg: msg.into(),
            hint: Some(hint.into()),
        }
    }

    /// Names the filesystem when the error is that it is full: the message of
    /// initdb or postgres alone names a file relative to a directory that is
    /// already gone. A full `-d` directory is named by its own error.
    pub fn on_filesystem_of(self, path: &std::path::Path) -> Error {
        if self.is_no_space() && !matches!(self, Error::DataDir { .. }) {
            Error::NoSpace {
                path: path.to_path_buf(),
                source: Box::new(self),
            }
        } else {
            self
        }
    }

    /// Whether this failed for want of disk space, whoever reported it.
    fn is_no_space(&self) -> bool {
        const TEXT: &str = "No space left on device";
        match self {
            Error::Io { source, .. } => matches!(
                source.kind(),
                io::ErrorKind::StorageFull | io::ErrorKind::QuotaExceeded
            ),
            Error::Command { output, .. } => output.contains(TEXT),
            Error::ServerStart { reason, log, .. } => reason.contains(TEXT) || log.contains(TEXT),
            Error::Other { msg, .. } => msg.contains(TEXT),
            _ => false,
        }
    }

    /// The known fix, printed as `hint: ...` under the error.
    pub fn hint(&self) -> Option<String> {
        match self {
            Error::NoSpace { .. } => Some(
                "free some space there, or set PGTMP_DIR to a directory on a filesystem with room (a server needs about 40 MB)".into(),
            ),
            Error::DataDir { source, .. } => match &**source {
                Error::Io { source, .. } if is_unwritable(source) => Some(
                    "give `-d` a directory you (or, as root, the `--run-as` account) can write".into(),
                ),
                e if e.is_no_space() => {
                    Some("free some space there, or give `-d` a directory on a filesystem with room".into())
                }
                other => other.hint(),
            },
            Error::PgNotFound { version, .. } => Some(match version {
                Some(v) => format!(
                    "install it (Debian/Ubuntu: `apt-get install postgresql-{v}`) or point `--pg-bindir`/PGTMP_PG_BINDIR at its bin directory"
                ),
                None => "install PostgreSQL (Debian/Ubuntu: `apt-get install postgresql`, Fedora: `dnf install postgresql-server`, macOS: `brew install postgresql`) or point `--pg-bindir`/PGTMP_PG_BINDIR at its bin directory".into(),
            }),
            Error::PortInUse(_) => {
                Some("choose another port with `-p`, or use `-t` to pick a free one".into())
            }
            Error::ForeignDir(_) => {
                Some("give `-d` a missing or empty directory, or an existing data directory".into())
            }
            Error::NoSuchInstance(_) => Some("`pgtmp list` shows the running instances".into()),
            Error::ServerStart { hint, .. } | Error::Other { hint, .. } => hint.clone(),
            Error::Io { source, .. } if is_unwritable(source) => Some(
                "set PGTMP_DIR to a directory you (or, as root, the `--run-as` account) can write".into(),
            ),
            _ => None,
        }
    }
}

/// Permission denied, or a read-only filesystem: either way, not ours to write.
fn is_unwritable(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::PermissionDenied | io::ErrorKind::ReadOnlyFilesystem
    )
}

/// The last `n` non-empty lines of `text` (a log tail for an error).
pub fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}
