//! Finding PostgreSQL without relying on PATH: Debian and Ubuntu keep the
//! server binaries in /usr/lib/postgresql/N/bin, which is never on PATH.
//!
//! Order: `--pg-bindir`/PGTMP_PG_BINDIR, `pg_config --bindir`, PATH, then the
//! usual install places, newest version first.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::Install;
use crate::error::{Error, Result};

/// Finds an installation; `version` restricts it to one major version.
pub fn find(explicit: Option<&Path>, version: Option<u32>) -> Result<Install> {
    if let Some(dir) = explicit {
        if !Install::is_complete(dir) {
            return Err(Error::PgNotFound {
                looked: format!("{} (from `--pg-bindir`/PGTMP_PG_BINDIR)", dir.display()),
                version,
            });
        }
        let install = Install {
            bindir: dir.to_path_buf(),
        };
        check_version(&install, version)?;
        return Ok(install);
    }
    let mut looked = Vec::new();
    for dir in candidates(&mut looked) {
        if !Install::is_complete(&dir) {
            continue;
        }
        let install = Install { bindir: dir };
        match version {
            None => return Ok(install),
            Some(v) => {
                let major = version_from_path(&install.bindir)
                    .map(Ok)
                    .unwrap_or_else(|| install.major_version());
                if major.ok() == Some(v) {
                    return Ok(install);
                }
            }
        }
    }
    Err(Error::PgNotFound {
        looked: looked.join(", "),
        version,
    })
}

/// A client program (`psql`, `pg_restore`) of `install`: from its own bin
/// directory, never from PATH, so that it matches the server's version
/// (pg_restore cannot read dumps of a newer pg_dump).
pub fn client(install: &Install, program: &'static str) -> Result<PathBuf> {
    let path = install.bindir.join(program);
    if super::is_executable(&path) {
        return Ok(path);
    }
    let major = version_from_path(&install.bindir).or_else(|| install.major_version().ok());
    Err(Error::MissingClient {
        program,
        bindir: install.bindir.clone(),
        major,
    })
}

fn check_version(install: &Install, version: Option<u32>) -> Result<()> {
    if let Some(want) = version {
        let got = install.major_version()?;
        if got != want {
            return Err(Error::with_hint(
                format!(
                    "{} is PostgreSQL {got}, not {want}",
                    install.bindir.display()
                ),
                "drop `--pg-version`, or point `--pg-bindir` at the other version",
            ));
        }
    }
    Ok(())
}

/// Every directory worth trying, in order; `looked` says where we looked.
fn candidates(looked: &mut Vec<String>) -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    looked.push("`pg_config --bindir`".into());
    if let Ok(pg_config) = which::which("pg_config")
        && let Ok(out) = Command::new(&pg_config).arg("--bindir").output()
        && out.status.success()
    {
        let dir = String::from_utf8_lossy(&out.stdout).trim().to_string();
        if !dir.is_empty() {
            dirs.push(PathBuf::from(dir));
        }
    }
    looked.push("PATH".into());
    if let Ok(found) = which::which_all("postgres") {
        dirs.extend(found.filter_map(|p| p.parent().map(Path::to_path_buf)));
    }
    for pattern in [
        "/usr/lib/postgresql/*/bin",
        "/usr/pgsql-*/bin",
        "/opt/homebrew/opt/postgresql@*/bin",
        "/usr/local/opt/postgresql@*/bin",
    ] {
        looked.push(pattern.into());
        dirs.extend(glob_versions(pattern));
    }
    for dir in [
        "/opt/homebrew/opt/postgresql/bin",
        "/usr/local/opt/postgresql/bin",
        "/usr/local/pgsql/bin",
    ] {
        looked.push(dir.into());
        dirs.push(PathBuf::from(dir));
    }
    dirs
}

/// Expands a pattern with one `*` in a directory name, newest version first.
fn glob_versions(pattern: &str) -> Vec<PathBuf> {
    let (head, tail) = pattern.split_once('*').expect("pattern has a *");
    let (parent, prefix) = head.rsplit_once('/').expect("absolute pattern");
    let Ok(entries) = std::fs::read_dir(parent) else {
        return Vec::new();
    };
    let mut found: Vec<(Vec<u32>, PathBuf)> = entries
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let version = name.strip_prefix(prefix)?;
            let key: Vec<u32> = version
                .split('.')
                .map(|p| p.parse().ok())
                .collect::<Option<_>>()?;
            Some((key, PathBuf::from(format!("{parent}/{name}{tail}"))))
        })
        .collect();
    found.sort_by(|a, b| b.0.cmp(&a.0));
    found.into_iter().map(|(_, p)| p).collect()
}

/// `/usr/lib/postgresql/15/bin` -> 15, without running anything.
fn version_from_path(bindir: &Path) -> Option<u32> {
    let parent = bindir.parent()?.file_name()?.to_str()?;
    let digits = parent.trim_start_matches(|c: char| !c.is_ascii_digit());
    digits.split('.').next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_from_paths() {
        assert_eq!(
            version_from_path(Path::new("/usr/lib/postgresql/15/bin")),
            Some(15)
        );
        assert_eq!(version_from_path(Path::new("/usr/pgsql-16/bin")), Some(16));
        assert_eq!(
            version_from_path(Path::new("/opt/homebrew/opt/postgresql@14/bin")),
            Some(14)
        );
        assert_eq!(version_from_path(Path::new("/usr/local/bin")), None);
    }

    #[test]
    fn missing_dir_is_a_clear_error() {
        let err = find(Some(Path::new("/nonexistent/bin")), None).unwrap_err();
        assert!(err.to_string().contains("/nonexistent/bin"), "{err}");
        assert!(err.hint().is_some());
    }
}
