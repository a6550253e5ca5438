//! Where PostgreSQL installations are, in the order pgtmp looks: `pg_config
//! --bindir`, PATH, each `PGTMP_PG_PATH` entry, then the usual install
//! places of the distributions and of macOS. Produced lazily: a plain
//! hand-out stops at the first directory that holds an installation.
//!
//! `pg_config` is often a shell script (Debian's picks the newest installed
//! version) that costs ~3 ms, a tenth of a hand-out: its answer is cached
//! (`cache`).

use std::path::{Path, PathBuf};
use std::process::Command;

use super::Install;
use super::cache::Cache;

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
pub const PATTERNS: [&str; 8] = [
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
pub const PLACES: [&str; 3] = [
    "/opt/homebrew/opt/postgresql/bin",
    "/usr/local/opt/postgresql/bin",
    "/usr/local/pgsql/bin",
];

/// The directories worth trying, in order, produced as they are needed:
/// a plain hand-out usually stops at the first.
pub struct Candidates<'a> {
    search: &'a Search,
    step: usize,
    queue: std::collections::VecDeque<(PathBuf, String)>,
}

impl<'a> Candidates<'a> {
    pub fn new(search: &'a Search) -> Candidates<'a> {
        Candidates {
            search,
            step: 0,
            queue: Default::default(),
        }
    }

    /// The next directory; `cache` keeps `pg_config`'s answer.
    pub fn next(&mut self, cache: &mut Cache) -> Option<(PathBuf, String)> {
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
    if !cache.may_run() {
        return None;
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
    fn path_entries_are_bin_dirs_or_prefixes() {
        assert_eq!(
            bindir_of(Path::new("/nonexistent/pg16")),
            PathBuf::from("/nonexistent/pg16/bin")
        );
    }
}
