//! The kinds of some failures, each with its own message and fix: what is
//! wrong with the base directory, the `--run-as` account, a setting from
//! the environment, the PostgreSQL version, a fixture.

use std::fmt;
use std::path::PathBuf;

/// Why the base directory (`PGTMP_DIR`) cannot be used.
#[derive(Debug)]
pub enum BaseProblem {
    NotUtf8,
    NotADirectory,
    /// Owned by `uid`, not by `want`.
    Owner {
        uid: u32,
        want: u32,
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
}

/// What is wrong with the fixture (`-f`) as given.
#[derive(Debug)]
pub enum FixtureProblem {
    NoSqlFiles(PathBuf),
    NotRegular(PathBuf),
    /// psql cannot enter this working directory as the server's account.
    WorkingDir(PathBuf),
    /// A file changed while it was loaded.
    Changed,
}

/// What is wrong with a `-d` path before anything is touched.
#[derive(Debug)]
pub enum PathProblem {
    NotUtf8,
    NotADirectory,
}

impl BaseProblem {
    pub fn describe(&self, path: &std::path::Path) -> String {
        let p = path.display();
        match self {
            BaseProblem::NotUtf8 => {
                format!("the base directory {p} is not valid UTF-8, which connection URLs need")
            }
            BaseProblem::NotADirectory => format!("{p} is not a directory"),
            BaseProblem::Owner { uid, want } => {
                format!("{p} belongs to uid {uid}, not to uid {want}; refusing to use it")
            }
            BaseProblem::Foreign => {
                format!("{p} holds files pgtmp did not make; refusing to use it")
            }
        }
    }

    pub fn hint(&self) -> &'static str {
        match self {
            BaseProblem::NotUtf8 => "set PGTMP_DIR to a path in UTF-8",
            BaseProblem::NotADirectory => "set PGTMP_DIR to a directory of your own",
            BaseProblem::Owner { .. } => "remove it, or set PGTMP_DIR to a directory of your own",
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
        }
    }
}

impl VersionProblem {
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            VersionProblem::Mismatch { .. } => {
                Some("drop `--pg-version`, or point `--pg-bindir` at the other version")
            }
            VersionProblem::Unreadable { .. } => None,
            VersionProblem::TooOld { .. } => {
                Some("use PostgreSQL 10 or newer (`--pg-version`, `--pg-bindir`)")
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
            FixtureProblem::WorkingDir(cwd) => write!(
                f,
                "psql cannot work in the current directory {}: the account PostgreSQL runs as cannot enter it",
                cwd.display()
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
            FixtureProblem::WorkingDir(_) => {
                "as root, psql runs as `postgres` (or the `--run-as` account): run pgtmp from, and keep the fixtures in, a directory it can read (not under /root)"
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
        }
    }
}
