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
/// Exit status of `exec`, as a shell's: COMMAND exists but cannot be run.
pub const EXIT_CANNOT_EXECUTE: u8 = 126;
/// Exit status of `exec`, as a shell's: COMMAND was not found.
pub const EXIT_NOT_FOUND: u8 = 127;

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

    /// `exec`: COMMAND could not be started.
    #[error("{}", exec_message(program, source))]
    Exec { program: String, source: io::Error },

    /// A SQL round trip with the instance failed.
    #[error("{action}: {source}")]
    Sql {
        action: &'static str,
        source: postgres::Error,
    },

    /// A fixture (`-f`) that cannot be read.
    #[error("cannot read fixture {}: {source}", path.display())]
    FixtureInput { path: PathBuf, source: io::Error },

    /// Loading a fixture failed: `what` names the file and line (or the
    /// `-x`/`--now` step), `message` is PostgreSQL's, `output` the context
    /// psql or pg_restore printed. Nothing was cached.
    #[error("loading {what}: {message}{}", tail_block(output))]
    FixtureLoad {
        what: String,
        message: String,
        output: String,
        hint: Option<String>,
    },

    /// A client program pgtmp needs (psql, pg_restore) is not next to
    /// `postgres`.
    #[error("{program} not found in {}, next to postgres", bindir.display())]
    MissingClient {
        program: &'static str,
        bindir: PathBuf,
        major: Option<u32>,
    },

    /// `-x EXT`: the extension is not installed for this PostgreSQL.
    #[error("extension \"{name}\" is not installed for PostgreSQL {major} ({})", bindir.display())]
    MissingExtension {
        name: String,
        major: u32,
        bindir: PathBuf,
        package: String,
    },

    /// The filesystem holding `path` (the base directory) is full.
    #[error("no space left on the filesystem of {}: {source}", path.display())]
    NoSpace { path: PathBuf, source: Box<Error> },

    /// Something failed on the `-d` directory itself.
    #[error("`-d {}`: {source}", dir.display())]
    DataDir { dir: PathBuf, source: Box<Error> },

    /// A replica that has not replayed what the primary had written.
    #[error("replica {node} ({url}) has replayed WAL up to {replayed}, not yet to {target}, after {}", humantime::format_duration(std::time::Duration::from_millis(waited.as_millis() as u64)))]
    NotCaughtUp {
        node: String,
        url: String,
        replayed: String,
        target: String,
        streaming: bool,
        waited: std::time::Duration,
    },

    /// `promote` was given the URL of a server that is not a replica.
    #[error("{url} is {what}: `promote` takes the URL of a replica")]
    NotAReplica { url: String, what: &'static str },

    /// The supervisor of an instance cannot take a request (`promote`,
    /// `restart`).
    #[error("cannot reach the supervisor of {}: {reason}", dir.display())]
    Supervisor { dir: PathBuf, reason: String },

    /// An instance whose supervisor takes no orders: an older pgtmp's.
    #[error("the instance in {} was started by a pgtmp that takes no orders", .0.display())]
    NoControl(PathBuf),

    /// A request the supervisor carried out failed; `log` is the tail of
    /// the server log that says why.
    #[error("{action} failed: {reason}{}", tail_block(log))]
    Request {
        action: String,
        reason: String,
        log: String,
        hint: Option<String>,
    },

    /// `--replicas` or `--logical` with a PostgreSQL too old for them.
    #[error("{what} needs PostgreSQL {min} or newer; {} is {major}", bindir.display())]
    TooOldFor {
        what: &'static str,
        min: u32,
        major: u32,
        bindir: PathBuf,
    },

    /// Anything else, already phrased for the user.
    #[error("{msg}")]
    Other { msg: String, hint: Option<String> },
}

/// As a shell says it: `make: command not found`, else the OS's reason.
fn exec_message(program: &str, source: &io::Error) -> String {
    match source.kind() {
        io::ErrorKind::NotFound => format!("{program}: command not found"),
        _ => format!("cannot run {program}: {source}"),
    }
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

    /// The exit status this error ends pgtmp with: a shell's 127 and 126
    /// for an `exec` command not found or not executable, else 1.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Exec { source, .. } if source.kind() == io::ErrorKind::NotFound => {
                EXIT_NOT_FOUND
            }
            Error::Exec { .. } => EXIT_CANNOT_EXECUTE,
            _ => EXIT_FAILURE,
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
            Error::NotCaughtUp { streaming: false, .. } => Some(
                "it does not stream from the primary: its server log (in the instance's directory, see `pgtmp list --json`) says why".into(),
            ),
            Error::NotCaughtUp { .. } => Some(
                "give it longer with `--timeout`, or look at what the primary is writing".into(),
            ),
            Error::NotAReplica { .. } => Some(
                "`pgtmp list` shows each set's servers, its primary first; start a set with `pgtmp --replicas N`".into(),
            ),
            Error::NoControl(_) => {
                Some("`pgtmp stop` it and start a new one with this pgtmp".into())
            }
            Error::TooOldFor { .. } => Some(
                "use a newer PostgreSQL (`--pg-version`, `--pg-bindir`)".into(),
            ),
            Error::Request { hint, .. } => hint.clone(),
            Error::ServerStart { hint, .. }
            | Error::Other { hint, .. }
            | Error::FixtureLoad { hint, .. } => hint.clone(),
            Error::FixtureInput { source, .. }
                if source.kind() == io::ErrorKind::PermissionDenied =>
            {
                Some(
                    "make it readable by the account PostgreSQL runs as (as root: `postgres`, or the `--run-as` one)".into(),
                )
            }
            Error::MissingClient { major, .. } => Some(format!(
                "install PostgreSQL's client programs of the same version (Debian/Ubuntu: `apt-get install postgresql-client{}`), or point `--pg-bindir` at a bin directory that has them",
                major.map(|v| format!("-{v}")).unwrap_or_default()
            )),
            Error::MissingExtension { name, package, .. } => Some(format!(
                "install it (Debian/Ubuntu: `apt-get install {package}`, the likely package), or drop `-x {name}`"
            )),
            Error::Exec { source, .. } => match source.kind() {
                io::ErrorKind::NotFound => Some(
                    "give the command after `--` as you would run it, e.g. `pgtmp exec -- make test`"
                        .into(),
                ),
                io::ErrorKind::PermissionDenied => {
                    Some("make it executable (`chmod +x`), or run it with its interpreter".into())
                }
                _ => None,
            },
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
