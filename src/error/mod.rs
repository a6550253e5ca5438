//! The one error type of pgtmp. A variant per kind of failure, built where
//! the failure is known, carrying what a user needs to act on it (the path
//! and the action, the program and its output tail); `hint` gives the known
//! fix where there is one, and `exit_code` the status. `lib::run` prints it
//! once.

mod hint;
mod problem;
mod prove;
mod state;

pub use problem::{
    ArchiveReader, BaseProblem, FixtureProblem, LoaderProblem, PathProblem, RunAsProblem,
    SettingProblem, SharedTxProblem, VersionProblem,
};
pub use prove::{ProveProblem, STATE_SWITCHES};
pub use state::{Refusal, SetupProblem, SnapshotProblem};

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

    /// The base directory (`PGTMP_DIR`) cannot be used.
    #[error("{}", problem.describe(path))]
    BaseDir { path: PathBuf, problem: BaseProblem },

    /// An environment variable has a value pgtmp cannot use.
    #[error("{}", problem.describe(name, value))]
    Setting {
        name: &'static str,
        value: String,
        problem: SettingProblem,
    },

    /// `-o` that cannot be split into words, or that would open the
    /// server or break its URL (see `server_options`).
    #[error("`-o {options}`: {reason}")]
    ServerOptions { options: String, reason: String },

    /// The `--run-as` account cannot be used.
    #[error("{0}")]
    RunAs(RunAsProblem),

    /// No usable PostgreSQL installation (of `version`, when one was asked
    /// for; `found` lists the versions there are).
    #[error("PostgreSQL{} not found{}; looked in: {looked}", version.map(|v| format!(" {v}")).unwrap_or_default(), found_list(found))]
    PgNotFound {
        looked: String,
        version: Option<u32>,
        found: Vec<String>,
    },

    /// A PostgreSQL version that is not the one needed, or not known.
    #[error("{0}")]
    PgVersion(VersionProblem),

    /// A helper program (initdb, postgres --single) failed; `disk_full`
    /// when its output says the disk was full.
    #[error("{program} failed ({status}){}", tail_block(output))]
    Command {
        program: String,
        status: String,
        output: String,
        disk_full: bool,
    },

    /// The server did not come up; `log` is the tail of its log.
    #[error("the server did not start: {reason}{}", tail_block(log))]
    ServerStart {
        reason: String,
        log: String,
        hint: Option<String>,
        disk_full: bool,
    },

    /// A server was asked to stop while it started.
    #[error("stopped by a signal while starting")]
    Interrupted,

    /// A fixed port (`-p`) is taken.
    #[error("port {0} on 127.0.0.1 is already in use")]
    PortInUse(u16),

    /// A `-d` directory that is neither empty nor a PostgreSQL data directory.
    #[error("{} is not empty and is not a PostgreSQL data directory; refusing to touch it", .0.display())]
    ForeignDir(PathBuf),

    /// A `-d` path that cannot be a data directory, refused untouched.
    #[error("`-d {}`: {problem}", dir.display())]
    DataDirPath { dir: PathBuf, problem: PathProblem },

    /// A `-d` directory in which a server already runs; `ours` when a
    /// live pgtmp instance runs it (so `pgtmp stop -d` can stop it).
    #[error("a server (pid {pid}) already runs in {}", dir.display())]
    DataDirInUse { dir: PathBuf, pid: u32, ours: bool },

    /// Something failed on the `-d` directory itself.
    #[error("`-d {}`: {source}", dir.display())]
    DataDir { dir: PathBuf, source: Box<Error> },

    /// `stop` found nothing to stop.
    #[error("no running instance matches {0}")]
    NoSuchInstance(String),

    /// `stop` was given something that is no PostgreSQL URL.
    #[error("{0:?} is not a PostgreSQL URL")]
    NotAUrl(String),

    /// An instance that did not stop, even by SIGKILL.
    #[error("the instance in {} did not stop", .0.display())]
    NotStopped(PathBuf),

    /// A new instance directory that another process locked first.
    #[error("{} is locked by another process", .0.display())]
    Locked(PathBuf),

    /// An instance's `meta.json` that cannot be read, or written.
    #[error("{action} {}: {reason}", path.display())]
    Metadata {
        action: &'static str,
        path: PathBuf,
        reason: String,
    },

    /// `--shared-tx`: its proxy, its settings, `pgtmp rollback`.
    #[error("{0}")]
    SharedTx(SharedTxProblem),

    /// A refill that found no template to start spares from.
    #[error("no template at {}", .0.display())]
    NoTemplate(PathBuf),

    /// `-F jdbc` of a socket-only instance.
    #[error("a JDBC URL needs a TCP instance: JDBC cannot use a Unix socket")]
    JdbcNeedsTcp,

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

    /// A fixture (`-f`) that cannot be used as given.
    #[error("{0}")]
    Fixture(FixtureProblem),

    /// The helper that loads the fixture files as root (`fixture::caller`)
    /// could not, or was not asked properly.
    #[error("{0}")]
    Loader(LoaderProblem),

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

    /// A `--setup` command failed; `output` is the tail of what it printed.
    /// Nothing was cached.
    #[error(
        "the setup command `{command}` failed ({status}){}",
        tail_block(output)
    )]
    SetupFailed {
        command: String,
        status: String,
        /// Its exit code, if it exited (not killed by a signal).
        code: Option<i32>,
        output: String,
    },

    /// A `--key` path that cannot be read.
    #[error("cannot read --key {}: {source}", path.display())]
    SetupKey { path: PathBuf, source: io::Error },

    /// A `--setup` that was not cached.
    #[error("{0}")]
    Setup(SetupProblem),

    /// A snapshot name, or the snapshot it names, that cannot be used.
    #[error("{0}")]
    Snapshot(SnapshotProblem),

    /// `reset` or `snapshot` of an instance that cannot take it.
    #[error("cannot {action} {url}: {why}")]
    Refused {
        action: &'static str,
        url: String,
        why: Refusal,
    },

    /// The supervisor of an instance cannot take an order (`promote`,
    /// `restart`, `reset`, `snapshot`).
    #[error("cannot reach the supervisor of {}: {reason}", dir.display())]
    Supervisor { dir: PathBuf, reason: String },

    /// An order the supervisor carried out failed; `log` is the tail of
    /// the server log that says why; `disk_full`: for want of space.
    #[error("{action} failed: {reason}{}", tail_block(log))]
    Request {
        action: String,
        reason: String,
        log: String,
        hint: Option<String>,
        disk_full: bool,
    },

    /// A client program pgtmp needs (psql, pg_restore) is neither next to
    /// `postgres` nor in any other installation pgtmp found (of version
    /// `minimum` or newer, where that matters).
    #[error("{program} not found in {} (PostgreSQL {}) nor in any other installation pgtmp found", bindir.display(), major.map(|v| v.to_string()).unwrap_or_else(|| "?".into()))]
    MissingClient {
        program: &'static str,
        bindir: PathBuf,
        major: Option<u32>,
        minimum: Option<u32>,
    },

    /// `-x EXT`: the extension is not installed for this PostgreSQL.
    #[error("extension \"{name}\" is not installed for PostgreSQL {major} ({})", bindir.display())]
    MissingExtension {
        name: String,
        major: u32,
        bindir: PathBuf,
        /// Where this server looks for extensions, if it said.
        extension_dir: Option<PathBuf>,
    },

    /// `pgtmp prove`: pgTAP is not installed for this PostgreSQL.
    #[error("pgTAP is not installed for PostgreSQL {major} ({}); `pgtmp prove` creates it in every test database", bindir.display())]
    MissingPgtap {
        major: u32,
        bindir: PathBuf,
        /// Where this server looks for extensions, if it said.
        extension_dir: Option<PathBuf>,
    },

    /// `pgtmp prove` cannot make sense of its run.
    #[error("{0}")]
    Prove(ProveProblem),

    /// The filesystem holding `path` (the base directory) is full.
    #[error("no space left on the filesystem of {}: {source}", path.display())]
    NoSpace { path: PathBuf, source: Box<Error> },

    /// A library caller without a `pgtmp` program to run supervisors.
    #[error("no `pgtmp` program to run the supervisors: not on PATH")]
    NoProgram,

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

    /// A set has no (running) server of this name.
    #[error("the set has no running server {0}")]
    NoServer(String),

    /// A replica asked to promote itself that did not finish in time.
    #[error("{node} did not finish its promotion within {secs}s")]
    NotPromoted { node: String, secs: u64 },

    /// An instance whose supervisor takes no orders: an older pgtmp's.
    #[error("the instance in {} was started by a pgtmp that takes no orders", .0.display())]
    NoControl(PathBuf),

    /// `--replicas` or `--logical` with a PostgreSQL too old for them.
    #[error("{what} needs PostgreSQL {min} or newer; {} is {major}", bindir.display())]
    TooOldFor {
        what: &'static str,
        min: u32,
        major: u32,
        bindir: PathBuf,
    },

    /// Something this platform cannot do (see `platform`).
    #[error("{0} is not supported on this platform")]
    Unsupported(&'static str),
}

/// As a shell says it: `make: command not found`, else the OS's reason.
fn exec_message(program: &str, source: &io::Error) -> String {
    match source.kind() {
        io::ErrorKind::NotFound => format!("{program}: command not found"),
        _ => format!("cannot run {program}: {source}"),
    }
}

/// `; found 13.23, 15.14` (or nothing when nothing was found).
fn found_list(found: &[String]) -> String {
    if found.is_empty() {
        String::new()
    } else {
        format!(" among {} (`pgtmp versions` lists them)", found.join(", "))
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

/// Whether the server's log (or initdb's output) says it had too few file
/// descriptors: PostgreSQL checks how many it can open before it accepts
/// anything, and logs each open that fails for want of one. The second can
/// end in another message entirely (a locale that `setlocale` could not
/// open its files for), so the fd lines are what tell the cause.
pub(super) fn says_out_of_files(text: &str) -> bool {
    text.contains("insufficient file descriptors") || text.contains("out of file descriptors")
}

/// Whether PostgreSQL's or initdb's own words say the disk was full: they
/// report a failed write only as text (`could not write ...: No space left
/// on device`), so this is read where their output is at hand.
pub fn says_disk_full(text: &str) -> bool {
    text.contains("No space left on device")
}

impl Error {
    /// `-x pgtap` missing when `prove` asked for it: said for `prove`.
    pub fn for_prove(self) -> Error {
        match self {
            Error::MissingExtension {
                name,
                major,
                bindir,
                extension_dir,
            } if name == "pgtap" => Error::MissingPgtap {
                major,
                bindir,
                extension_dir,
            },
            other => other,
        }
    }

    /// An `Io` error; use as `.map_err(Error::io("create", &path))`.
    pub fn io(action: &'static str, path: impl Into<PathBuf>) -> impl FnOnce(io::Error) -> Error {
        let path = path.into();
        move |source| Error::Io {
            action,
            path,
            source,
        }
    }

    /// A server that did not start, with the tail of its log. Without a
    /// hint of the caller's, a server that ran out of file descriptors gets
    /// the one naming the open-file limit.
    pub fn server_start(reason: String, log: String, hint: Option<String>) -> Error {
        let hint = hint.or_else(|| says_out_of_files(&log).then(hint::out_of_files));
        Error::ServerStart {
            disk_full: says_disk_full(&reason) || says_disk_full(&log),
            reason,
            log,
            hint,
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
    pub fn is_no_space(&self) -> bool {
        match self {
            Error::Io { source, .. } => matches!(
                source.kind(),
                io::ErrorKind::StorageFull | io::ErrorKind::QuotaExceeded
            ),
            Error::Command { disk_full, .. }
            | Error::ServerStart { disk_full, .. }
            | Error::Request { disk_full, .. } => *disk_full,
            _ => false,
        }
    }
}

/// The last `n` non-empty lines of `text` (a log tail for an error).
pub fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}
