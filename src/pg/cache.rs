//! What finding PostgreSQL learnt by running programs, kept in one small
//! file of the base directory so that a warm hand-out runs none of them:
//! the answer of `pg_config --bindir` (often a shell script, ~3 ms) and the
//! version each `postgres` binary printed (~5 ms each, more for builds that
//! load ICU).
//!
//! An entry holds only while what produced it is unchanged: `pg_config`'s
//! path, size, mtime and inode and PATH, and the folder holding the
//! versions (installing or removing one changes its mtime); a binary's
//! device, inode, size, mtime and ctime (a package upgrade or a re-unpacked
//! archive changes them, even when the archive fixed the mtime). The file is
//! only a speed-up: unreadable, it is empty; unwritable, nothing is lost.
//!
//! An offline cache (`open_offline`) only answers: where it holds nothing,
//! the search runs no program and notes the miss (`find_cached`, which
//! root uses before it drops privileges).

use std::collections::BTreeMap;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::Version;

/// A cached `pg_config --bindir` is trusted for at most this long.
const PG_CONFIG_FOR: Duration = Duration::from_secs(60 * 60);

/// Bumped when the layout of the file changes; other files are ignored.
const FORMAT: u32 = 1;

/// A cache file larger than this is not ours (it holds a few entries).
const MAX_BYTES: u64 = 1024 * 1024;

#[derive(Debug, Default, Serialize, Deserialize)]
struct Contents {
    format: u32,
    pg_config: Option<PgConfig>,
    /// By the `postgres` binary's path.
    versions: BTreeMap<PathBuf, Known>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct PgConfig {
    stamp: String,
    versions_stamp: String,
    bindir: PathBuf,
    /// Unix seconds when asked.
    at: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Known {
    stamp: String,
    version: Version,
}

/// The cache of one call: read once, written back once if it learnt
/// something.
#[derive(Debug, Default)]
pub struct Cache {
    path: Option<PathBuf>,
    contents: Contents,
    dirty: bool,
    /// Runs no program: see `may_run`.
    offline: bool,
    /// An offline cache was asked for what it does not hold.
    missed: bool,
}

impl Cache {
    /// The cache at `path`; `None` keeps nothing.
    pub fn open(path: Option<&Path>) -> Cache {
        let contents = path
            .and_then(|p| crate::paths::read_plain(p, MAX_BYTES))
            .and_then(|bytes| serde_json::from_slice::<Contents>(&bytes).ok())
            .filter(|c| c.format == FORMAT)
            .unwrap_or_default();
        Cache {
            path: path.map(Path::to_path_buf),
            contents,
            dirty: false,
            offline: false,
            missed: false,
        }
    }

    /// The cache at `path`, never written, and whose misses run nothing.
    pub fn open_offline(path: Option<&Path>) -> Cache {
        Cache {
            offline: true,
            ..Cache::open(path)
        }
    }

    /// Whether a miss may be filled by running a program; an offline
    /// cache says no and remembers that it missed.
    pub fn may_run(&mut self) -> bool {
        self.missed |= self.offline;
        !self.offline
    }

    /// Whether an offline cache missed: the search's answer is then not
    /// the one a search that may run programs would give.
    pub fn missed(&self) -> bool {
        self.missed
    }

    /// The remembered `pg_config --bindir` of `pg_config`, if still true.
    pub fn pg_config(&self, pg_config: &Path) -> Option<PathBuf> {
        let known = self.contents.pg_config.as_ref()?;
        let fresh = now_secs().saturating_sub(known.at) < PG_CONFIG_FOR.as_secs();
        (fresh
            && known.stamp == pg_config_stamp(pg_config)
            && known.versions_stamp == versions_stamp(&known.bindir))
        .then(|| known.bindir.clone())
    }

    pub fn set_pg_config(&mut self, pg_config: &Path, bindir: &Path) {
        self.contents.pg_config = Some(PgConfig {
            stamp: pg_config_stamp(pg_config),
            versions_stamp: versions_stamp(bindir),
            bindir: bindir.to_path_buf(),
            at: now_secs(),
        });
        self.dirty = true;
    }

    /// The version `postgres` printed, if it is still the same file.
    pub fn version(&self, postgres: &Path) -> Option<Version> {
        let known = self.contents.versions.get(postgres)?;
        (known.stamp == file_stamp(postgres)?).then(|| known.version.clone())
    }

    pub fn set_version(&mut self, postgres: &Path, version: &Version) {
        if let Some(stamp) = file_stamp(postgres) {
            let known = Known {
                stamp,
                version: version.clone(),
            };
            self.contents.versions.insert(postgres.to_path_buf(), known);
            self.dirty = true;
        }
    }

    /// Writes what was learnt (whole, through a rename: concurrent callers
    /// each replace the file, and the last one wins).
    pub fn save(&mut self) {
        let Some(path) = &self.path else {
            return;
        };
        if !self.dirty || self.offline {
            return;
        }
        self.dirty = false;
        // Binaries removed since stay out.
        self.contents.versions.retain(|p, _| p.exists());
        self.contents.format = FORMAT;
        let Ok(text) = serde_json::to_vec_pretty(&self.contents) else {
            return;
        };
        let tmp = path.with_extension(format!("tmp{}", std::process::id()));
        if std::fs::write(&tmp, text)
            .and_then(|()| std::fs::rename(&tmp, path))
            .is_err()
        {
            let _ = std::fs::remove_file(&tmp);
        }
    }
}

/// What `pg_config` is: its path, size, mtime and inode, and PATH.
fn pg_config_stamp(pg_config: &Path) -> String {
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

/// What identifies a binary's contents without reading them.
fn file_stamp(path: &Path) -> Option<String> {
    let m = std::fs::metadata(path).ok()?;
    Some(format!(
        "{}:{}:{}:{}.{}:{}.{}",
        m.dev(),
        m.ino(),
        m.len(),
        m.mtime(),
        m.mtime_nsec(),
        m.ctime(),
        m.ctime_nsec()
    ))
}

fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_changed_binary_is_asked_again() {
        let dir = std::env::temp_dir().join(format!("pgtmp-pgcache-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let bin = dir.join("postgres");
        std::fs::write(&bin, "one").unwrap();
        let file = dir.join("pg.cache");
        let mut cache = Cache::open(Some(&file));
        let v = Version::parse("15.14").unwrap();
        cache.set_version(&bin, &v);
        cache.save();
        assert_eq!(Cache::open(Some(&file)).version(&bin), Some(v));
        std::fs::write(&bin, "another").unwrap();
        assert_eq!(Cache::open(Some(&file)).version(&bin), None);
        std::fs::write(&file, "garbage").unwrap();
        assert_eq!(Cache::open(Some(&file)).version(&bin), None);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
