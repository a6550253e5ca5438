//! The kinds of some failures, each with its own message and fix: what is
//! wrong with the base directory, the `--run-as` account, a setting from
//! the environment, the PostgreSQL version, a fixture, the root loader.

use std::fmt;
use std::path::PathBuf;

/// Why the base directory (`PGTMP_DIR`) cannot be used.
#[derive(Debug)]
pub enum BaseProblem {
    NotUtf8,
    NotADirectory,
    /// A symbolic link (to this target), which pgtmp never follows for its
    /// base directory.
    Link(PathBuf),
    /// Owned by `uid`, not by `want`; `as_root`: root refused it, which
    /// uses only a base it made or one of the account it runs as.
    Owner {
        uid: u32,
        want: u32,
        as_root: bool,
    },
    /// It holds files pgtmp did not make.
    Foreign,
}

/// Why the `--run-as` account cannot be used.
#[derive(Debug)]
pub enum RunAsProblem {
    /// `--run-as` without root.
    NotRoot(String),
    NoSuchUser(String),
    /// The base directory's instances run as `owner`.
    Owner {
        name: String,
        owner: String,
    },
    /// Neither `postgres` nor `nobody` exists.
    NoAccount,
    /// The account is root.
    Root(String),
    /// A system call of the switch failed.
    Switch {
        name: String,
        step: &'static str,
        errno: nix::Error,
    },
}

/// Why an environment variable's value is refused.
#[derive(Debug)]
pub enum SettingProblem {
    /// Not a count from 0 to `max`.
    Count {
        max: usize,
        default: usize,
    },
    Duration,
    /// Cannot be split into words.
    Words(String),
}

/// What went wrong with a shared-transaction instance.
#[derive(Debug)]
pub enum SharedTxProblem {
    /// `PGTMP_SHARED_TX_WAIT` is not a duration above 0.
    Wait(String),
    /// `pgtmp rollback` was given a URL whose server is not behind a proxy.
    NotShared(String),
    /// The proxy did not say it was ready; its log says why.
    ProxyStart(std::path::PathBuf),
    /// An instance whose metadata has no proxy listener.
    NoListener,
    /// `--shared-tx` with `--replicas` or `--logical`.
    WithReplication,
}

/// What is wrong with a PostgreSQL version.
#[derive(Debug)]
pub enum VersionProblem {
    /// `--pg-bindir` is not the `--pg-version` asked for.
    Mismatch {
        bindir: PathBuf,
        got: u32,
        want: u32,
    },
    /// `postgres --version` said something else.
    Unreadable { program: PathBuf, output: String },
    /// A data directory older than 10, whose readiness pgtmp cannot see.
    TooOld { data_dir: PathBuf, version: String },
    /// `--pg-version N` below the oldest major pgtmp runs.
    Unsupported { want: u32, min: u32 },
    /// A bin directory named by `--pg-bindir` or `PGTMP_PG_BINDIR` without
    /// `postgres` and `initdb`.
    NotAnInstall {
        dir: PathBuf,
        named_by: &'static str,
    },
    /// A `-d` data directory of another major than the binaries.
    DataDirMismatch {
        data_dir: PathBuf,
        major: u32,
        bindir: PathBuf,
        version: String,
    },
    /// A pg_dump archive no pg_restore found can read: its format (`1.16`),
    /// the pg_dump that made it, and each pg_restore there is with the
    /// newest format it reads.
    ArchiveTooNew {
        format: String,
        pg_dump: Option<String>,
        readers: Vec<ArchiveReader>,
    },
}

/// A pg_restore that was found, for `VersionProblem::ArchiveTooNew`.
#[derive(Debug)]
pub struct ArchiveReader {
    pub version: String,
    pub major: u32,
    pub bindir: PathBuf,
    /// The newest archive format it reads: `1.14`.
    pub reads: String,
}

/// What is wrong with the fixture (`-f`) as given.
#[derive(Debug)]
pub enum FixtureProblem {
    NoSqlFiles(PathBuf),
    NotRegular(PathBuf),
    /// An SQL script (or one it includes) holds a NUL byte at `offset`,
    /// which psql would silently drop with the rest of its line.
    NulByte {
        path: PathBuf,
        offset: u64,
    },
    /// A file changed while it was loaded.
    Changed,
}

/// What went wrong with the helper that loads the fixture files as root
/// (`fixture::caller`).
#[derive(Debug)]
pub enum LoaderProblem {
    /// A client program root will not run: another user could change it.
    Untrusted { program: PathBuf, why: String },
    /// No psql (or pg_restore) was named for a file of that kind.
    NoClient,
    /// The request could not be read.
    Garbled(String),
    /// The helper ended without answering.
    NoAnswer,
    /// A failure the helper reported, as it worded it.
    Reported {
        message: String,
        hint: Option<String>,
    },
}

/// What is wrong with a `-d` path before anything is touched.
#[derive(Debug)]
pub enum PathProblem {
    NotUtf8,
    NotADirectory,
    /// Inside pgtmp's pool, templates or spares, which it hands out.
    Internal,
    /// As root: a symbolic link another user made, never followed.
    PlantedLink,
}

impl BaseProblem {
    pub fn describe(&self, path: &std::path::Path) -> String {
        let p = path.display();
        match self {
            BaseProblem::NotUtf8 => {
                format!("the base directory {p} is not valid UTF-8, which connection URLs need")
            }
            BaseProblem::NotADirectory => format!("{p} is not a directory"),
            BaseProblem::Link(target) => format!(
                "{p} is a symbolic link (to {}); pgtmp does not follow links for its base directory",
                target.display()
            ),
            BaseProblem::Owner { uid, want, .. } => {
                format!("{p} belongs to uid {uid}, not to uid {want}; refusing to use it")
            }
            BaseProblem::Foreign => {
                format!("{p} holds files pgtmp did not make; refusing to use it")
            }
        }
    }

    pub fn hint(&self) -> &'static str {
        match self {
            BaseProblem::NotUtf8 => "set PGTMP_DIR (or SYSTMP) to a path in UTF-8",
            BaseProblem::NotADirectory => "set PGTMP_DIR to a directory of your own",
            BaseProblem::Link(_) => "set PGTMP_DIR to a real directory, not a link",
            BaseProblem::Owner { as_root: false, .. } => {
                "remove it, or set PGTMP_DIR to a directory of your own"
            }
            BaseProblem::Owner { as_root: true, .. } => {
                "remove it, or set PGTMP_DIR to a directory of your own: as root, pgtmp uses only a base it made, or one of the account it runs as (`--run-as`)"
            }
            BaseProblem::Foreign => {
                "set PGTMP_DIR to a new or empty directory: pgtmp deletes what it finds in its own"
            }
        }
    }
}

impl fmt::Display for RunAsProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RunAsProblem::NotRoot(name) => {
                write!(f, "`--run-as {name}` only applies when pgtmp runs as root")
            }
            RunAsProblem::NoSuchUser(name) => write!(f, "`--run-as`: no user named {name:?}"),
            RunAsProblem::Owner { name, owner } => write!(
                f,
                "`--run-as {name}`: this base directory's instances run as {owner}"
            ),
            RunAsProblem::NoAccount => f.write_str(
                "running as root, and neither a `postgres` nor a `nobody` account exists",
            ),
            RunAsProblem::Root(name) => {
                write!(f, "`--run-as {name}` is root, which PostgreSQL refuses")
            }
            RunAsProblem::Switch { name, step, errno } => {
                write!(f, "cannot switch to user {name}: {step}: {errno}")
            }
        }
    }
}

impl RunAsProblem {
    pub fn hint(&self) -> Option<String> {
        Some(match self {
            RunAsProblem::NotRoot(_) => "drop `--run-as`: PostgreSQL runs as you".into(),
            RunAsProblem::NoSuchUser(_) => {
                "create it (`useradd --system NAME`) or name an existing account".into()
            }
            RunAsProblem::Owner { name, owner } => {
                format!("use `--run-as {owner}`, or another PGTMP_DIR for {name}")
            }
            RunAsProblem::NoAccount => {
                "PostgreSQL refuses to run as root: create an account and pass `--run-as NAME`"
                    .into()
            }
            RunAsProblem::Root(_) => "name an unprivileged account".into(),
            RunAsProblem::Switch { .. } => return None,
        })
    }
}

impl SettingProblem {
    pub fn describe(&self, name: &str, value: &str) -> String {
        match self {
            SettingProblem::Count { max, .. } => {
                format!("{name}={value:?} is not a number from 0 to {max}")
            }
            SettingProblem::Duration => format!("{name}={value:?} is not a duration"),
            SettingProblem::Words(reason) => format!("{name}: {reason}"),
        }
    }

    pub fn hint(&self) -> Option<String> {
        match self {
            SettingProblem::Count { default, .. } => {
                Some(format!("unset it to use the default of {default}"))
            }
            SettingProblem::Duration => {
                Some("give seconds or e.g. `90s`, `5m`; use PGTMP_SPARES=0 for no spares".into())
            }
            SettingProblem::Words(_) => None,
        }
    }
}

impl fmt::Display for VersionProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VersionProblem::Mismatch { bindir, got, want } => {
                write!(f, "{} is PostgreSQL {got}, not {want}", bindir.display())
            }
            VersionProblem::Unreadable { program, output } => write!(
                f,
                "cannot tell the version of {}: it printed {output:?}",
                program.display()
            ),
            VersionProblem::TooOld { data_dir, version } => write!(
                f,
                "{} is PostgreSQL {version}, older than 10",
                data_dir.display()
            ),
            VersionProblem::Unsupported { want, min } => {
                write!(
                    f,
                    "`--pg-version {want}`: pgtmp runs PostgreSQL {min} and newer"
                )
            }
            VersionProblem::NotAnInstall { dir, named_by } => write!(
                f,
                "{} (from {named_by}) holds no executable `postgres` and `initdb`",
                dir.display()
            ),
            VersionProblem::DataDirMismatch {
                data_dir,
                major,
                bindir,
                version,
            } => write!(
                f,
                "{} is a PostgreSQL {major} data directory, but {} is PostgreSQL {version}",
                data_dir.display(),
                bindir.display()
            ),
            VersionProblem::ArchiveTooNew {
                format,
                pg_dump,
                readers,
            } => {
                let made_by = pg_dump
                    .as_deref()
                    .map(|v| format!(", made by pg_dump {v},"))
                    .unwrap_or_default();
                let readers: Vec<String> = readers
                    .iter()
                    .map(|r| {
                        format!(
                            "{} in {} (reads up to {})",
                            r.version,
                            r.bindir.display(),
                            r.reads
                        )
                    })
                    .collect();
                write!(
                    f,
                    "the archive format {format}{made_by} is newer than every pg_restore pgtmp found: {}",
                    readers.join(", ")
                )
            }
        }
    }
}

impl VersionProblem {
    pub fn hint(&self) -> Option<String> {
        match self {
            VersionProblem::Mismatch { .. } => Some(
                "drop `--pg-version`, or point `--pg-bindir` at the other version".into(),
            ),
            VersionProblem::Unreadable { .. } => None,
            VersionProblem::TooOld { .. } => {
                Some("use PostgreSQL 10 or newer (`--pg-version`, `--pg-bindir`)".into())
            }
            VersionProblem::Unsupported { .. } => {
                Some("`pgtmp versions` lists the installations pgtmp can use".into())
            }
            VersionProblem::NotAnInstall { .. } => Some(
                "point it at the bin directory of a PostgreSQL installation (`pgtmp versions` lists those pgtmp finds by itself)".into(),
            ),
            VersionProblem::DataDirMismatch { major, version, .. } => Some(format!(
                "without `--pg-version` and `--pg-bindir` pgtmp takes a PostgreSQL {major} itself (`pgtmp versions` lists those found); or give `-d` a directory of version {}",
                version.split('.').next().unwrap_or(version)
            )),
            VersionProblem::ArchiveTooNew {
                pg_dump, readers, ..
            } => {
                let needed = pg_dump
                    .as_deref()
                    .and_then(|v| v.split('.').next())
                    .map_or_else(|| "a newer PostgreSQL".to_string(), |m| format!("PostgreSQL {m}"));
                let older = readers
                    .iter()
                    .map(|r| r.major)
                    .max()
                    .map_or_else(|| "the server's version".to_string(), |m| format!("PostgreSQL {m} or older"));
                Some(format!(
                    "add the bin directory of {needed}'s client tools to PGTMP_PG_PATH (`pgtmp versions` lists what pgtmp finds), or make the dump with the pg_dump of {older}"
                ))
            }
        }
    }
}

impl fmt::Display for SharedTxProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SharedTxProblem::Wait(v) => write!(f, "PGTMP_SHARED_TX_WAIT={v:?} is not a duration"),
            SharedTxProblem::NotShared(url) => write!(
                f,
                "{url} is not a --shared-tx URL: the server there does not take `ROLLBACK TEST`"
            ),
            SharedTxProblem::ProxyStart(log) => write!(
                f,
                "the shared-transaction proxy did not start (see {})",
                log.display()
            ),
            SharedTxProblem::NoListener => {
                f.write_str("a --shared-tx instance without its listener")
            }
            SharedTxProblem::WithReplication => f.write_str(
                "--shared-tx does not combine with --replicas or --logical: its transaction is never committed, so nothing would reach a replica or a subscriber",
            ),
        }
    }
}

impl SharedTxProblem {
    pub fn hint(&self) -> &'static str {
        match self {
            SharedTxProblem::Wait(_) => "give seconds or e.g. `30s`, `2m` (more than 0)",
            SharedTxProblem::NotShared(_) => "start the instance with `pgtmp --shared-tx`",
            SharedTxProblem::ProxyStart(_) => "with `-p PORT`, the port must be free for the proxy",
            SharedTxProblem::NoListener => "stop it with `pgtmp stop` and hand out another",
            SharedTxProblem::WithReplication => {
                "hand out the set without `--shared-tx`, and a `--shared-tx` instance apart"
            }
        }
    }
}

impl fmt::Display for FixtureProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FixtureProblem::NoSqlFiles(p) => {
                write!(f, "fixture directory {} holds no *.sql files", p.display())
            }
            FixtureProblem::NotRegular(p) => {
                write!(f, "fixture {} is not a regular file", p.display())
            }
            FixtureProblem::NulByte { path, offset } => write!(
                f,
                "fixture {} holds a NUL byte (at byte {offset}): psql would silently load it cut short",
                path.display()
            ),
            FixtureProblem::Changed => f.write_str(
                "the fixture files changed while they were being loaded; nothing was cached",
            ),
        }
    }
}

impl FixtureProblem {
    pub fn hint(&self) -> &'static str {
        match self {
            FixtureProblem::NoSqlFiles(_) => {
                "give `-f` an SQL file, a pg_dump archive, or a directory of *.sql files"
            }
            FixtureProblem::NotRegular(_) => {
                "write it to a file first: pgtmp reads a fixture twice, to hash it and to load it"
            }
            FixtureProblem::NulByte { .. } => {
                "an SQL script is text: remove the NUL bytes; give a pg_dump archive in its custom (`-Fc`), tar (`-Ft`) or directory (`-Fd`) format"
            }
            FixtureProblem::Changed => "run pgtmp again",
        }
    }
}

impl fmt::Display for PathProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PathProblem::NotUtf8 => "the path is not valid UTF-8",
            PathProblem::NotADirectory => "not a directory",
            PathProblem::Internal => "it is inside pgtmp's own directories",
            PathProblem::PlantedLink => {
                "a symbolic link another user made; refusing to follow it as root"
            }
        })
    }
}

impl PathProblem {
    pub fn hint(&self) -> &'static str {
        match self {
            PathProblem::NotUtf8 => "give `-d` a path in UTF-8",
            PathProblem::NotADirectory => {
                "give `-d` a missing or empty directory, or an existing data directory"
            }
            PathProblem::Internal => {
                "use `pgtmp initdb` for a data directory to give `-d`, or a directory of your own"
            }
            PathProblem::PlantedLink => "give `-d` the directory itself, or a link of your own",
        }
    }
}

impl fmt::Display for LoaderProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoaderProblem::Untrusted { program, why } => write!(
                f,
                "refusing to run {} as root to load the fixture: {why}",
                program.display()
            ),
            LoaderProblem::NoClient => f.write_str("no client program to load the fixture with"),
            LoaderProblem::Garbled(e) => write!(f, "a garbled request: {e}"),
            LoaderProblem::NoAnswer => {
                f.write_str("the fixture loader (root) ended without an answer")
            }
            LoaderProblem::Reported { message, .. } => f.write_str(message),
        }
    }
}

impl LoaderProblem {
    pub fn hint(&self) -> Option<String> {
        match self {
            LoaderProblem::Untrusted { .. } => Some(
                "name a PostgreSQL that only root can change with `--pg-bindir` (or PGTMP_PG_BINDIR)"
                    .into(),
            ),
            LoaderProblem::Reported { hint, .. } => hint.clone(),
            LoaderProblem::NoClient | LoaderProblem::Garbled(_) | LoaderProblem::NoAnswer => None,
        }
    }
}
