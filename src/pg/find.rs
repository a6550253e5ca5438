//! Finding PostgreSQL without relying on PATH: Debian and Ubuntu keep the
//! server binaries in /usr/lib/postgresql/N/bin, which is never on PATH,
//! and test machines often have several versions side by side.
//!
//! Where pgtmp looks, in order: `pg_config --bindir`, PATH, each entry of
//! `PGTMP_PG_PATH` (a bin directory or a prefix holding `bin/`), then the
//! usual install places (Debian/Ubuntu, PGDG RPMs, Homebrew, Postgres.app,
//! the source build default). A directory is an installation when it holds
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
use std::process::Command;

use super::Install;
use super::cache::Cache;
use crate::error::{Error, Result};

/// Where to look, as the command line and the environment say.
#[derive(Debug, Clone, Default)]
pub struct Search {
    /// `--pg-bindir`: this directory and no other.
    pub bindir: Option<PathBuf>,
    /// `PGTMP_PG_BINDIR`: this directory, unless `--pg-version` asks for
    /// another major.
    pub bindir_env: Option<PathBuf>,
    /// `--pg-version N`.
    pub major: Option<u32>,
    /// `PGTMP_PG_PATH`: more bin directories or prefixes, in order.
    pub path: Vec<PathBuf>,
    /// The file that keeps what running programs taught (`Layout::pg_cache`).
    pub cache: Option<PathBuf>,
}

impl Search {
    /// `-d DIR` of an existing data directory: unless `--pg-bindir` or
    /// `--pg-version` says otherwise, its `PG_VERSION` is the major to use
    /// (as `--pg-version` would, so it wins over `PGTMP_PG_BINDIR`).
    pub fn follow_data_dir(&mut self, data_dir: &Path) {
        if self.bindir.is_some() || self.major.is_some() {
            return;
        }
        self.major = std::fs::read_to_string(data_dir.join("PG_VERSION"))
            .ok()
            .and_then(|v| v.trim().parse().ok());
    }
}

/// Install places with one version per directory, newest name first:
/// Debian/Ubuntu, PGDG RPMs, Homebrew (Apple silicon, Intel), Postgres.app,
/// MacPorts, EnterpriseDB's installers (macOS, Linux).
const PATTERNS: [&str; 8] = [
    "/usr/lib/postgresql/*/bin",
    "/usr/pgsql-*/bin",
    "/opt/homebrew/opt/postgresql@*/bin",
    "/usr/local/opt/postgresql@*/bin",
    "/Applications/Postgres.app/Contents/Versions/*/bin",
    "/opt/local/lib/postgresql*/bin",
    "/Library/PostgreSQL/*/bin",
    "/opt/PostgreSQL/*/bin",
];

/// Install places of a single version.
const PLACES: [&str; 3] = [
    "/opt/homebrew/opt/postgresql/bin",
    "/usr/local/opt/postgresql/bin",
    "/usr/local/pgsql/bin",
];

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

fn choose(search: &Search, cache: &mut Cache) -> Result<Install> {
    if let Some(dir) = &search.bindir {
        let install = explicit(dir, "`--pg-bindir`", cache)?;
        return match search.major {
            Some(want) if install.version.major != want => Err(Error::with_hint(
                format!(
                    "{} is PostgreSQL {}, not {want}",
                    dir.display(),
                    install.version
                ),
                "drop `--pg-version`, or point `--pg-bindir` at the other version",
            )),
            _ => Ok(install),
        };
    }
    if let Some(want) = search.major {
        if !super::Features::of_major(want).supported() {
            return Err(Error::with_hint(
                format!(
                    "`--pg-version {want}`: pgtmp runs PostgreSQL {} and newer",
                    super::MIN_MAJOR
                ),
                "`pgtmp versions` lists the installations pgtmp can use",
            ));
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
fn explicit(dir: &Path, named_by: &str, cache: &mut Cache) -> Result<Install> {
    if !Install::is_complete(dir) {
        return Err(Error::with_hint(
            format!(
                "{} (from {named_by}) holds no executable `postgres` and `initdb`",
                dir.display()
            ),
            "point it at the bin directory of a PostgreSQL installation (`pgtmp versions` lists those pgtmp finds by itself)",
        ));
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

/// The directories worth trying, in order, produced as they are needed:
/// a plain hand-out usually stops at the first.
struct Candidates<'a> {
    search: &'a Search,
    step: usize,
    queue: std::collections::VecDeque<(PathBuf, String)>,
}

impl<'a> Candidates<'a> {
    fn new(search: &'a Search) -> Candidates<'a> {
        Candidates {
            search,
            step: 0,
            queue: Default::default(),
        }
    }

    /// The next directory; `cache` keeps `pg_config`'s answer.
    fn next(&mut self, cache: &mut Cache) -> Option<(PathBuf, String)> {
        loop {
            if let Some(next) = self.queue.pop_front() {
                return Some(next);
            }
            let (dirs, by) = self.step(cache)?;
            self.queue
                .extend(dirs.into_iter().map(|d| (d, by.to_string())));
            self.step += 1;
        }
    }

    /// The directories of the current step and how they were found; `None`
    /// past the last step.
    fn step(&self, cache: &mut Cache) -> Option<(Vec<PathBuf>, &'static str)> {
        Some(match self.step {
            0 => {
                let dir = which::which("pg_config")
                    .ok()
                    .and_then(|pg_config| pg_config_bindir(&pg_config, cache));
                (dir.into_iter().collect(), "pg_config")
            }
            1 => {
                let dirs = which::which_all("postgres")
                    .map(|found| {
                        found
                            .filter_map(|p| p.parent().map(Path::to_path_buf))
                            .collect()
                    })
                    .unwrap_or_default();
                (dirs, "PATH")
            }
            2 => {
                let dirs = self.search.path.iter().map(|e| bindir_of(e)).collect();
                (dirs, "PGTMP_PG_PATH")
            }
            n if n - 3 < PATTERNS.len() => {
                let pattern = PATTERNS[n - 3];
                (glob_versions(pattern), pattern)
            }
            n if n - 3 - PATTERNS.len() < PLACES.len() => {
                let place = PLACES[n - 3 - PATTERNS.len()];
                (vec![PathBuf::from(place)], place)
            }
            _ => return None,
        })
    }
}

/// A `PGTMP_PG_PATH` entry: a bin directory, or a prefix holding one.
fn bindir_of(entry: &Path) -> PathBuf {
    if Install::is_complete(entry) {
        entry.to_path_buf()
    } else {
        entry.join("bin")
    }
}

/// `pg_config --bindir`, from the cache when it still holds.
fn pg_config_bindir(pg_config: &Path, cache: &mut Cache) -> Option<PathBuf> {
    if let Some(dir) = cache.pg_config(pg_config)
        && Install::is_complete(&dir)
    {
        return Some(dir);
    }
    let out = Command::new(pg_config).arg("--bindir").output().ok()?;
    let dir = String::from_utf8_lossy(&out.stdout).trim().to_string();
    if !out.status.success() || dir.is_empty() {
        return None;
    }
    let dir = PathBuf::from(dir);
    cache.set_pg_config(pg_config, &dir);
    Some(dir)
}

/// Expands a pattern with one `*` in a directory name, newest version
/// (by the name's numbers) first; the names only order the search.
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

    #[test]
    fn path_entries_are_bin_dirs_or_prefixes() {
        assert_eq!(
            bindir_of(Path::new("/nonexistent/pg16")),
            PathBuf::from("/nonexistent/pg16/bin")
        );
    }
}
