//! The PostgreSQL installations pgtmp drives: where their binaries are,
//! which version each is (as its `postgres` says), what that version
//! changes (`features`), which client programs go with a server (`tools`),
//! and a fingerprint that keys the template cache.

pub mod archive;
mod cache;
mod features;
mod find;
pub mod packages;
mod places;
mod tools;
mod version;

pub use features::{Features, MIN_MAJOR};
pub use find::{Found, discover, find, find_cached};
pub use places::Search;
pub use tools::{Chosen, Tool, choose as client};
pub use version::Version;

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::error::{Error, Result, VersionProblem, tail};
use cache::Cache;

/// One installation: a directory holding `postgres` and `initdb`, and the
/// version they are.
#[derive(Debug, Clone)]
pub struct Install {
    pub bindir: PathBuf,
    pub version: Version,
}

impl Install {
    /// The installation in `bindir`, its version read from `postgres
    /// --version` (uncached: see `find` for the cached way).
    pub fn at(bindir: &Path) -> Result<Install> {
        Install::read(bindir, &mut Cache::default())
    }

    fn read(bindir: &Path, cache: &mut Cache) -> Result<Install> {
        let postgres = bindir.join("postgres");
        let version = match cache.version(&postgres) {
            Some(v) => v,
            None if !cache.may_run() => {
                return Err(Error::PgVersion(VersionProblem::Unreadable {
                    program: postgres,
                    output: "(not in the cache)".into(),
                }));
            }
            None => {
                let v = run_version(&postgres)?;
                cache.set_version(&postgres, &v);
                v
            }
        };
        Ok(Install {
            bindir: bindir.to_path_buf(),
            version,
        })
    }

    pub fn postgres(&self) -> PathBuf {
        self.bindir.join("postgres")
    }

    pub fn initdb(&self) -> PathBuf {
        self.bindir.join("initdb")
    }

    /// What this version changes in how pgtmp runs it.
    pub fn features(&self) -> Features {
        Features::of(&self.version)
    }

    /// Whether the client program `tool` comes with this installation.
    pub fn has(&self, tool: Tool) -> bool {
        is_executable(&self.tool(tool))
    }

    /// Where `tool` of this installation is: in the bin directory, or
    /// where `postgres` really lives when the bin directory only links to
    /// it (`~/bin/postgres` -> `/usr/lib/postgresql/16/bin/postgres`).
    pub fn tool(&self, tool: Tool) -> PathBuf {
        let here = self.bindir.join(tool.name());
        if is_executable(&here) {
            return here;
        }
        self.postgres()
            .canonicalize()
            .ok()
            .and_then(|real| Some(real.parent()?.join(tool.name())))
            .filter(|there| is_executable(there))
            .unwrap_or(here)
    }

    /// Whether both server binaries are there and executable.
    pub fn is_complete(dir: &Path) -> bool {
        is_executable(&dir.join("postgres")) && is_executable(&dir.join("initdb"))
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

    /// An installation made up for unit tests: `postgres`, `initdb` and,
    /// with `tools`, every client program, as empty executables under `root`.
    #[cfg(test)]
    pub fn fake(root: &Path, name: &str, version: &str, tools: bool) -> Install {
        use std::os::unix::fs::PermissionsExt;
        let bindir = root.join(name).join("bin");
        std::fs::create_dir_all(&bindir).unwrap();
        let mut names = vec!["postgres", "initdb"];
        if tools {
            names.extend(Tool::ALL.iter().map(|t| t.name()));
        }
        for n in names {
            let path = bindir.join(n);
            std::fs::write(&path, "").unwrap();
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        Install {
            bindir,
            version: Version::parse(version).expect("a version"),
        }
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

/// Runs `postgres --version`; a binary that does not run (a missing
/// library, another architecture) says why.
fn run_version(postgres: &Path) -> Result<Version> {
    let out = Command::new(postgres)
        .arg("--version")
        .env("LC_ALL", "C")
        .output()
        .map_err(Error::io("run", postgres))?;
    let text = String::from_utf8_lossy(&out.stdout);
    match Version::parse(&text) {
        Some(v) if out.status.success() => Ok(v),
        _ => Err(Error::PgVersion(VersionProblem::Unreadable {
            program: postgres.to_path_buf(),
            output: tail(
                &format!("{text}{}", String::from_utf8_lossy(&out.stderr)),
                4,
            ),
        })),
    }
}

fn is_executable(path: &Path) -> bool {
    std::fs::metadata(path)
        .map(|m| m.is_file() && m.mode() & 0o111 != 0)
        .unwrap_or(false)
}
