//! Finding PostgreSQL without relying on PATH: Debian and Ubuntu keep the
//! server binaries in /usr/lib/postgresql/N/bin, which is never on PATH.
//!
//! Order: `--pg-bindir`/PGTMP_PG_BINDIR, `pg_config --bindir`, PATH, then the
//! usual install places, newest version first.
//!
//! `pg_config` is often a shell script (Debian's picks the newest
//! installed version) that costs ~3 ms, a tenth of a hand-out; its answer
//! is cached, keyed on PATH, the script itself and the directory holding
//! the installed versions, so installing or removing one is noticed.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use super::Install;
use crate::error::{Error, Result, VersionProblem};

/// A cached `pg_config --bindir` is trusted for at most this long.
const CACHE_FOR: Duration = Duration::from_secs(60 * 60);

/// Finds an installation; `version` restricts it to one major version.
/// `cache`: a file where the answer of `pg_config` may be kept.
pub fn find(
    explicit: Option<&Path>,
    version: Option<u32>,
    cache: Option<&Path>,
) -> Result<Install> {
    if let Some(dir) = explicit {
        if !Install::is_complete(dir) {
            return Err(Error::PgNotFound {
                looked: format!("{} (from `--pg-bindir`/PGTMP_PG_BINDIR)", dir.display()),
                version,
            });
        }
        let install = Install::new(dir.to_path_buf());
        check_version(&install, version)?;
        return Ok(install);
    }
    let mut looked = Vec::new();
    for dir in candidates(&mut looked, cache) {
        if !Install::is_complete(&dir) {
            continue;
        }
        let install = Install::new(dir);
        match version {
            None => return Ok(install),
            Some(v) => {
                let major = version_from_path(&install.bindir)
                    .map(Ok)
                    .unwrap_or_else(|| install.version().map(|v| v.major));
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
    let major =
        version_from_path(&install.bindir).or_else(|| install.version().ok().map(|v| v.major));
    Err(Error::MissingClient {
        program,
        bindir: install.bindir.clone(),
        major,
    })
}

fn check_version(install: &Install, version: Option<u32>) -> Result<()> {
    if let Some(want) = version {
        let got = install.version()?.major;
        if got != want {
            return Err(Error::PgVersion(VersionProblem::Mismatch {
                bindir: install.bindir.clone(),
                got,
                want,
            }));
        }
    }
    Ok(())
}

/// Every directory worth trying, in order; `looked` says where we looked.
fn candidates(looked: &mut Vec<String>, cache: Option<&Path>) -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    looked.push("`pg_config --bindir`".into());
    if let Ok(pg_config) = which::which("pg_config") {
        dirs.extend(pg_config_bindir(&pg_config, cache));
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

/// `pg_config --bindir`, from the cache when it still holds.
fn pg_config_bindir(pg_config: &Path, cache: Option<&Path>) -> Option<PathBuf> {
    let stamp = stamp(pg_config);
    if let Some(cache) = cache
        && let Some(dir) = cached(cache, &stamp)
    {
        return Some(dir);
    }
    let out = Command::new(pg_config).arg("--bindir").output().ok()?;
    let dir = String::from_utf8_lossy(&out.stdout).trim().to_string();
    if !out.status.success() || dir.is_empty() {
        return None;
    }
    let dir = PathBuf::from(dir);
    if let Some(cache) = cache {
        // Only a speed-up: a cache that cannot be written costs nothing.
        let text = format!("{stamp}\n{}\n{}\n", versions_stamp(&dir), dir.display());
        let tmp = cache.with_extension(format!("tmp{}", std::process::id()));
        if std::fs::write(&tmp, text).is_ok() && std::fs::rename(&tmp, cache).is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
    }
    Some(dir)
}

/// The cached answer, if it was made by the same `pg_config` under the same
/// PATH, the versions installed beside it are unchanged, and it is recent.
fn cached(cache: &Path, stamp: &str) -> Option<PathBuf> {
    let meta = std::fs::metadata(cache).ok()?;
    if meta.modified().ok()?.elapsed().ok()? > CACHE_FOR {
        return None;
    }
    let text = std::fs::read_to_string(cache).ok()?;
    let mut lines = text.lines();
    let (saved, versions, dir) = (lines.next()?, lines.next()?, PathBuf::from(lines.next()?));
    (saved == stamp && versions == versions_stamp(&dir) && Install::is_complete(&dir))
        .then_some(dir)
}

/// What `pg_config` is: its path, size, mtime and inode, and PATH.
fn stamp(pg_config: &Path) -> String {
    let m = std::fs::metadata(pg_config).ok();
    format!(
        "{}|{}|{}|{}|{}",
        pg_config.display(),
        m.as_ref().map_or(0, |m| m.len()),
        m.as_ref()
            .map_or(0, |m| m.mtime_nsec() + m.mtime() * 1_000_000_000),
        m.as_ref().map_or(0, |m| m.ino()),
        std::env::var("PATH").unwrap_or_default()
    )
}

/// The mtime of the folder holding the versions (`/usr/lib/postgresql` for
/// `/usr/lib/postgresql/15/bin`): it changes when one is added or removed.
fn versions_stamp(bindir: &Path) -> String {
    bindir
        .parent()
        .and_then(Path::parent)
        .and_then(|d| std::fs::metadata(d).ok())
        .map_or_else(String::new, |m| format!("{}.{}", m.mtime(), m.mtime_nsec()))
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
        let err = find(Some(Path::new("/nonexistent/bin")), None, None).unwrap_err();
        assert!(err.to_string().contains("/nonexistent/bin"), "{err}");
        assert!(err.hint().is_some());
    }
}
