//! The PostgreSQL installation pgtmp drives: where its binaries are, which
//! version they are, and a fingerprint that keys the template cache.

mod find;

pub use find::{client, find};

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use crate::error::{Error, Result, VersionProblem};

/// The oldest major version whose `postmaster.pid` carries a status line,
/// which readiness detection relies on.
pub const MIN_MAJOR: u32 = 10;

/// One installation: a directory holding `postgres` and `initdb`, and the
/// version they are. The version is data on the install, read from
/// `postgres --version` the first time anyone asks and never again: a
/// plain hand-out never needs it, so it costs nothing there.
#[derive(Debug, Clone)]
pub struct Install {
    pub bindir: PathBuf,
    version: OnceLock<Version>,
}

/// A PostgreSQL version as `postgres --version` gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version {
    /// `15` for 15.18, `9` for 9.6.24.
    pub major: u32,
    /// `15.18`, `17beta1`.
    pub full: String,
}

impl Install {
    pub fn new(bindir: PathBuf) -> Install {
        Install {
            bindir,
            version: OnceLock::new(),
        }
    }

    pub fn postgres(&self) -> PathBuf {
        self.bindir.join("postgres")
    }

    pub fn initdb(&self) -> PathBuf {
        self.bindir.join("initdb")
    }

    /// Whether both binaries are there and executable.
    pub fn is_complete(dir: &Path) -> bool {
        is_executable(&dir.join("postgres")) && is_executable(&dir.join("initdb"))
    }

    /// The version, from `postgres --version` the first time.
    pub fn version(&self) -> Result<&Version> {
        if let Some(v) = self.version.get() {
            return Ok(v);
        }
        let out = Command::new(self.postgres())
            .arg("--version")
            .output()
            .map_err(Error::io("run", self.postgres()))?;
        let text = String::from_utf8_lossy(&out.stdout);
        let version = Version::parse(&text).ok_or_else(|| {
            Error::PgVersion(VersionProblem::Unreadable {
                program: self.postgres(),
                output: text.trim().to_string(),
            })
        })?;
        Ok(self.version.get_or_init(|| version))
    }

    /// What a template depends on: the binaries' identity. A new package
    /// version changes size or mtime, so its templates are made anew.
    pub fn fingerprint(&self) -> String {
        let mut parts = vec![self.bindir.to_string_lossy().into_owned()];
        for bin in [self.postgres(), self.initdb()] {
            if let Ok(m) = std::fs::metadata(&bin) {
                parts.push(format!("{}:{}:{}", m.len(), m.mtime(), m.ino()));
            }
        }
        parts.join("|")
    }
}

fn is_executable(path: &Path) -> bool {
    std::fs::metadata(path)
        .map(|m| m.is_file() && m.mode() & 0o111 != 0)
        .unwrap_or(false)
}

impl Version {
    /// From `postgres (PostgreSQL) 15.18 (Debian ...)`.
    pub fn parse(version_output: &str) -> Option<Version> {
        Some(Version {
            major: parse_major(version_output)?,
            full: parse_version(version_output)?,
        })
    }
}

/// The major version of the data directory `dir` (its `PG_VERSION`: `15`,
/// or `9.6` before 10), which may not be the installation's (`-d`).
pub fn data_dir_major(dir: &Path) -> Result<u32> {
    let path = dir.join("PG_VERSION");
    let text = std::fs::read_to_string(&path).map_err(Error::io("read", &path))?;
    Ok(text
        .trim()
        .split('.')
        .next()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0))
}

/// `postgres (PostgreSQL) 15.18 (Debian ...)` -> `15.18`.
fn parse_version(version_output: &str) -> Option<String> {
    let (_, after) = version_output.split_once(')')?;
    let word = after.split_whitespace().next()?;
    word.starts_with(|c: char| c.is_ascii_digit())
        .then(|| word.to_string())
}

/// `postgres (PostgreSQL) 15.18 (Debian ...)` -> 15; `9.6.24` -> 9.
fn parse_major(version_output: &str) -> Option<u32> {
    let after = version_output.split(')').nth(1).unwrap_or(version_output);
    let number = after
        .split(|c: char| !c.is_ascii_digit() && c != '.')
        .find(|s| !s.is_empty() && s.starts_with(|c: char| c.is_ascii_digit()))?;
    number.split('.').next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::{parse_major, parse_version};

    #[test]
    fn versions() {
        assert_eq!(
            parse_major("postgres (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)"),
            Some(15)
        );
        assert_eq!(parse_major("postgres (PostgreSQL) 9.6.24"), Some(9));
        assert_eq!(parse_major("postgres (PostgreSQL) 17beta1"), Some(17));
        assert_eq!(parse_major("nonsense"), None);
    }

    #[test]
    fn full_versions() {
        assert_eq!(
            parse_version("postgres (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)\n").as_deref(),
            Some("15.18")
        );
        assert_eq!(
            parse_version("postgres (PostgreSQL) 17beta1").as_deref(),
            Some("17beta1")
        );
        assert_eq!(parse_version("nonsense"), None);
    }
}
