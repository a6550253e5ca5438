//! The known fix of each kind of failure, printed as `hint: ...` under it.

use std::io;

use super::Error;

impl Error {
    /// The known fix, printed as `hint: ...` under the error.
    pub fn hint(&self) -> Option<String> {
        match self {
            Error::NoSpace { .. } => Some(
                "`pgtmp gc` removes what killed runs left there, `pgtmp gc --all` also the cached templates and the copies made ahead, `pgtmp list` shows the servers still running; else free some space there, or set PGTMP_DIR to a directory on a filesystem with room (a server needs about 40 MB)".into(),
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
            Error::DataDirPath { problem, .. } => Some(problem.hint().into()),
            Error::DataDirInUse {
                dir, ours: true, ..
            } => Some(format!("stop it first: `pgtmp stop -d {}`", dir.display())),
            // `pgtmp stop -d` stops only what pgtmp started.
            Error::DataDirInUse { dir, .. } => Some(format!(
                "pgtmp did not start it, so `pgtmp stop` cannot stop it: stop it where it was started (e.g. `pg_ctl stop -D {}` as the account it runs as), or give `-d` another directory",
                dir.display()
            )),
            Error::BaseDir { problem, .. } => Some(problem.hint().into()),
            Error::Setting { problem, .. } => problem.hint(),
            Error::RunAs(problem) => problem.hint(),
            Error::PgNotFound { version, .. } => Some(match version {
                Some(v) => format!(
                    "install it (Debian/Ubuntu: `apt-get install postgresql-{v}`, from apt.postgresql.org for a version the distribution lacks) and, if it is not in a usual place, add its bin directory to PGTMP_PG_PATH"
                ),
                None => "install PostgreSQL (Debian/Ubuntu: `apt-get install postgresql`, Fedora: `dnf install postgresql-server`, macOS: `brew install postgresql@17`), or add the bin directory of one pgtmp does not know to PGTMP_PG_PATH".into(),
            }),
            Error::PgVersion(problem) => problem.hint(),
            Error::PortInUse(_) => {
                Some("choose another port with `-p`, or use `-t` to pick a free one".into())
            }
            Error::ForeignDir(_) => {
                Some("give `-d` a missing or empty directory, or an existing data directory".into())
            }
            Error::NoSuchInstance(_) => Some("`pgtmp list` shows the running instances".into()),
            Error::Command { output, .. } if super::says_out_of_files(output) => {
                Some(out_of_files())
            }
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
            Error::Command { output, .. } if output.contains("invalid locale name") => Some(
                "`locale -a` lists the installed locales; `--locale C.UTF-8` (the default) and `--locale C` need none".into(),
            ),
            Error::NoProgram => {
                Some("install pgtmp on PATH, or name it in `Options::exe`".into())
            }
            Error::JdbcNeedsTcp => Some("use `-t` (`-F jdbc` implies it)".into()),
            Error::ServerStart { hint, .. } | Error::FixtureLoad { hint, .. } => hint.clone(),
            Error::Fixture(problem) => Some(problem.hint().into()),
            Error::Loader(problem) => problem.hint(),
            Error::SharedTx(problem) => Some(problem.hint().into()),
            Error::SetupFailed { code: Some(127), .. } => Some(
                "each command runs through `sh -c` in the current directory, with your PATH".into(),
            ),
            Error::SetupFailed { .. } => {
                Some("its output is above; nothing was cached, so the next call runs it again".into())
            }
            Error::SetupKey { .. } => {
                Some("give --key files and directories you can read".into())
            }
            Error::Setup(problem) => problem.hint().map(Into::into),
            Error::Snapshot(problem) => problem.hint().map(Into::into),
            Error::Refused { why, .. } => why.hint().map(Into::into),
            Error::Supervisor { .. } => {
                Some("`pgtmp stop` it and start a new one with this pgtmp".into())
            }
            Error::MissingClient {
                program,
                major,
                minimum,
                ..
            } => Some(crate::pg::packages::client_hint(program, *major, *minimum)),
            Error::Prove(problem) => problem.hint(),
            Error::MissingPgtap {
                major,
                extension_dir,
                ..
            } => Some(format!(
                "install pgTAP for PostgreSQL {major} (Debian/Ubuntu: `apt-get install postgresql-{major}-pgtap`; elsewhere https://pgtap.org says how{}), or point `--pg-bindir` at a PostgreSQL that has it",
                extension_dir
                    .as_ref()
                    .map(|d| format!(", into {}", d.display()))
                    .unwrap_or_default()
            )),
            Error::MissingExtension {
                name,
                major,
                bindir,
                extension_dir,
            } => Some(crate::pg::packages::extension_hint(
                name,
                *major,
                bindir,
                extension_dir.as_deref(),
            )),
            Error::Io { source, .. } | Error::Exec { source, .. } if is_out_of_files(source) => {
                Some(out_of_files())
            }
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

/// The process (EMFILE) or the system (ENFILE) ran out of file descriptors.
fn is_out_of_files(e: &io::Error) -> bool {
    matches!(e.raw_os_error(), Some(libc::EMFILE | libc::ENFILE))
}

/// The fix when file descriptors ran out, naming the limit in force: a
/// `ulimit -n` set low in a script or CI job is easy to overlook. getrlimit
/// is POSIX (nix's safe wrapper), so it needs nothing of `platform`.
pub(super) fn out_of_files() -> String {
    use nix::sys::resource::{Resource, getrlimit};
    let now = getrlimit(Resource::RLIMIT_NOFILE)
        .map(|(soft, _)| format!(" (`ulimit -n` is {soft})"))
        .unwrap_or_default();
    format!(
        "the limit on open files ran out{now}: raise it, e.g. `ulimit -n 1024`; PostgreSQL itself needs at least 64"
    )
}

/// Permission denied, or a read-only filesystem: either way, not ours to write.
fn is_unwritable(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::PermissionDenied | io::ErrorKind::ReadOnlyFilesystem
    )
}
