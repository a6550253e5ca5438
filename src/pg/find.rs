//! Finding PostgreSQL without relying on PATH: Debian and Ubuntu keep the
//! server binaries in /usr/lib/postgresql/N/bin, which is never on PATH,
//! and test machines often have several versions side by side.
//!
//! Where pgtmp looks is `places`. A directory is an installation when it holds
//! `postgres` and `initdb`; its version is what `postgres --version` says
//! (cached, see `cache`), never what its path suggests.
//!
//! Which one is used: `--pg-bindir` alone; else with `--pg-version N` the
//! newest N.x of all found (`PGTMP_PG_BINDIR` among them, first); else
//! `PGTMP_PG_BINDIR`; else the first found. A plain hand-out stops at the
//! first complete directory and reads one cached version.

use std::collections::HashSet;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use super::Install;
use super::cache::Cache;
use super::places::{Candidates, PATTERNS, PLACES, Search};
use crate::error::{Error, Result, VersionProblem};

/// One installation found, and how.
#[derive(Debug, Clone)]
pub struct Found {
    pub install: Install,
    /// `pg_config`, `PATH`, `PGTMP_PG_PATH`, a pattern, ...
    pub found_by: String,
}

/// Everything a search found.
#[derive(Debug, Default)]
pub struct Discovery {
    /// In search order.
    pub found: Vec<Found>,
    /// Directories with `postgres` and `initdb` that cannot be used, and why.
    pub skipped: Vec<(PathBuf, String)>,
    /// Index in `found` of the one `find` picks with the same search.
    pub chosen: Option<usize>,
}

/// The installation to use.
pub fn find(search: &Search) -> Result<Install> {
    let mut cache = Cache::open(search.cache.as_deref());
    let found = choose(search, &mut cache);
    cache.save();
    found
}

/// What `find` would find, from the cache alone: `None` where finding it
/// would run a program (`postgres --version`, `pg_config`) or failed.
/// Writes nothing and runs nothing: as root, it runs before privileges
/// are dropped, and the binaries it finds must never run as root.
pub fn find_cached(search: &Search) -> Option<Install> {
    let mut cache = Cache::open_offline(search.cache.as_deref());
    let found = choose(search, &mut cache);
    found.ok().filter(|_| !cache.missed())
}

fn choose(search: &Search, cache: &mut Cache) -> Result<Install> {
    if let Some(dir) = &search.bindir {
        let install = explicit(dir, "`--pg-bindir`", cache)?;
        return match search.major {
            Some(want) if install.version.major != want => {
                Err(Error::PgVersion(VersionProblem::Mismatch {
                    bindir: dir.clone(),
                    got: install.version.major,
                    want,
                }))
            }
            _ => Ok(install),
        };
    }
    if let Some(want) = search.major {
        if !super::Features::of_major(want).supported() {
            return Err(Error::PgVersion(VersionProblem::Unsupported {
                want,
                min: super::MIN_MAJOR,
            }));
        }
        let all = discover_with(search, cache);
        return all
            .chosen
            .map(|i| all.found[i].install.clone())
            .ok_or_else(|| not_found(search, Some(want), &all));
    }
    if let Some(dir) = &search.bindir_env {
        return explicit(dir, "PGTMP_PG_BINDIR", cache);
    }
    let mut seen = HashSet::new();
    let mut skipped = Vec::new();
    let mut candidates = Candidates::new(search);
    while let Some((dir, _)) = candidates.next(cache) {
        if let Some(install) = usable(&dir, &mut seen, &mut skipped, cache) {
            return Ok(install);
        }
    }
    let all = Discovery {
        skipped,
        ..Discovery::default()
    };
    Err(not_found(search, None, &all))
}

/// Every installation the search can see, each once.
pub fn discover(search: &Search) -> Discovery {
    let mut cache = Cache::open(search.cache.as_deref());
    let all = discover_with(search, &mut cache);
    cache.save();
    all
}

fn discover_with(search: &Search, cache: &mut Cache) -> Discovery {
    let mut all = Discovery::default();
    let mut seen = HashSet::new();
    let explicit = [
        (&search.bindir, "`--pg-bindir`"),
        (&search.bindir_env, "PGTMP_PG_BINDIR"),
    ];
    let mut explicit: std::collections::VecDeque<(PathBuf, String)> = explicit
        .into_iter()
        .filter_map(|(dir, by)| dir.clone().map(|d| (d, by.to_string())))
        .collect();
    let mut candidates = Candidates::new(search);
    while let Some((dir, found_by)) = explicit.pop_front().or_else(|| candidates.next(cache)) {
        if let Some(install) = usable(&dir, &mut seen, &mut all.skipped, cache) {
            all.found.push(Found { install, found_by });
        }
    }
    all.chosen = match (&search.bindir, search.major, &search.bindir_env) {
        // The explicit directory, which leads the list.
        (Some(_), _, _) | (None, None, Some(_)) => all
            .found
            .first()
            .filter(|f| {
                Some(&f.install.bindir) == search.bindir.as_ref().or(search.bindir_env.as_ref())
            })
            .map(|_| 0),
        (None, Some(want), _) => newest_of(&all.found, want),
        (None, None, None) => (!all.found.is_empty()).then_some(0),
    };
    all
}

/// The newest installation of major `want`; the first found among equals.
fn newest_of(found: &[Found], want: u32) -> Option<usize> {
    let mut best: Option<usize> = None;
    for (i, f) in found.iter().enumerate() {
        if f.install.version.major == want
            && best.is_none_or(|b| f.install.version > found[b].install.version)
        {
            best = Some(i);
        }
    }
    best
}

/// A directory named by the user: it must be a usable installation.
fn explicit(dir: &Path, named_by: &'static str, cache: &mut Cache) -> Result<Install> {
    if !Install::is_complete(dir) {
        return Err(Error::PgVersion(VersionProblem::NotAnInstall {
            dir: dir.to_path_buf(),
            named_by,
        }));
    }
    Install::read(dir, cache)
}

/// `dir` as an installation, once per `postgres` binary (however reached);
/// one whose `postgres` does not run is noted in `skipped`.
fn usable(
    dir: &Path,
    seen: &mut HashSet<(u64, u64)>,
    skipped: &mut Vec<(PathBuf, String)>,
    cache: &mut Cache,
) -> Option<Install> {
    if !Install::is_complete(dir) {
        return None;
    }
    // Once per binary: /usr/local/bin/postgres may be a link (symbolic or
    // hard) to /usr/lib/postgresql/15/bin/postgres, found first.
    let Ok(meta) = std::fs::metadata(dir.join("postgres")) else {
        return None;
    };
    if !seen.insert((meta.dev(), meta.ino())) {
        return None;
    }
    match Install::read(dir, cache) {
        Ok(install) if install.features().supported() => Some(install),
        Ok(install) => {
            skipped.push((
                dir.to_path_buf(),
                format!(
                    "PostgreSQL {} is older than {}",
                    install.version,
                    super::MIN_MAJOR
                ),
            ));
            None
        }
        Err(e) => {
            skipped.push((dir.to_path_buf(), e.to_string()));
            None
        }
    }
}

fn not_found(search: &Search, version: Option<u32>, all: &Discovery) -> Error {
    let mut looked = vec!["`pg_config --bindir`".to_string(), "PATH".into()];
    if !search.path.is_empty() {
        looked.push(format!(
            "PGTMP_PG_PATH ({})",
            std::env::join_paths(&search.path)
                .map(|p| p.to_string_lossy().into_owned())
                .unwrap_or_default()
        ));
    }
    looked.extend(PATTERNS.iter().chain(&PLACES).map(|p| p.to_string()));
    if let Some(dir) = &search.bindir_env {
        looked.insert(0, format!("{} (PGTMP_PG_BINDIR)", dir.display()));
    }
    for (dir, why) in &all.skipped {
        looked.push(format!("{} (unusable: {why})", dir.display()));
    }
    Error::PgNotFound {
        looked: looked.join(", "),
        version,
        found: {
            let mut versions: Vec<_> = all.found.iter().map(|f| &f.install.version).collect();
            versions.sort();
            versions.dedup();
            versions.iter().map(|v| v.to_string()).collect()
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_dir_is_a_clear_error() {
        let search = Search {
            bindir: Some("/nonexistent/bin".into()),
            ..Search::default()
        };
        let err = find(&search).unwrap_err();
        assert!(err.to_string().contains("/nonexistent/bin"), "{err}");
        assert!(err.hint().is_some());
    }

    /// Root asks the cache alone before it drops privileges: nothing runs,
    /// nothing is written, and a miss is no answer.
    #[test]
    fn the_cache_alone_runs_nothing_and_writes_nothing() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("pgtmp-findcached-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let bin = dir.join("bin");
        std::fs::create_dir_all(&bin).unwrap();
        let ran = dir.join("ran");
        let script = format!(
            "#!/bin/sh\necho x >> {}\necho 'postgres (PostgreSQL) 15.4'\n",
            ran.display()
        );
        for name in ["postgres", "initdb"] {
            std::fs::write(bin.join(name), &script).unwrap();
            std::fs::set_permissions(bin.join(name), std::fs::Permissions::from_mode(0o755))
                .unwrap();
        }
        let search = Search {
            bindir_env: Some(bin.clone()),
            cache: Some(dir.join("pg.cache")),
            ..Search::default()
        };
        assert!(find_cached(&search).is_none());
        assert!(!ran.exists(), "a program ran");
        assert!(!dir.join("pg.cache").exists(), "the cache was written");
        let found = find(&search).unwrap();
        assert_eq!(found.version.major, 15);
        let runs = std::fs::read_to_string(&ran).unwrap();
        let cached = find_cached(&search).expect("found from the cache");
        assert_eq!((cached.bindir, cached.version), (bin, found.version));
        assert_eq!(std::fs::read_to_string(&ran).unwrap(), runs, "it ran again");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
