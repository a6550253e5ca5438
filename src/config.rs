//! The one place that reads environment variables and defaults and turns
//! the command line into a `Config` the commands act on.

use std::path::PathBuf;
use std::time::Duration;

use crate::cli::GlobalArgs;
use crate::error::{Error, Result};
use crate::paths::{self, Layout};
use crate::pg;
use crate::pool::template::Spec;
use crate::process::Identity;
use crate::standby;

/// How many ready copies the pool keeps by default. Each costs ~35 MB of
/// tmpfs; two absorb a burst of back-to-back hand-outs while the refill
/// (~30 ms a copy) keeps up.
pub const DEFAULT_POOL_SIZE: usize = 2;
const MAX_POOL_SIZE: usize = 32;

#[derive(Debug, Clone)]
pub struct Config {
    pub layout: Layout,
    pub identity: Identity,
    pub pool_size: usize,
    pub initdb_opts: Vec<String>,
    /// Where to look for PostgreSQL and which one to take.
    pub pg: pg::Search,
    /// The most standbys kept ready per class; 0: none.
    pub standby_max: usize,
    /// How long an unclaimed standby waits before it stops.
    pub standby_timeout: Duration,
}

impl Config {
    pub fn resolve(global: &GlobalArgs) -> Result<Config> {
        let as_root = nix::unistd::Uid::effective().is_root();
        // Absolute: the supervisor and postgres do not share our cwd.
        let explicit = env_path("PGTMP_DIR")
            .map(|dir| std::path::absolute(&dir).map_err(Error::io("resolve PGTMP_DIR", dir)))
            .transpose()?;
        let base = paths::choose_base(explicit, nix::unistd::Uid::current().as_raw(), as_root);
        if base.to_str().is_none() {
            return Err(Error::with_hint(
                format!(
                    "the base directory {} is not valid UTF-8, which connection URLs need",
                    base.display()
                ),
                "set PGTMP_DIR to a path in UTF-8",
            ));
        }
        let identity = Identity::resolve(global.run_as.as_deref(), existing_owner(&base))?;
        let pool_size = env_count("PGTMP_POOL_SIZE", MAX_POOL_SIZE, DEFAULT_POOL_SIZE)?;
        let standby_max = env_count("PGTMP_STANDBY", standby::MAX_MAX, standby::DEFAULT_MAX)?;
        let standby_timeout = match std::env::var("PGTMP_STANDBY_TIMEOUT") {
            Ok(v) => crate::cli::parse_timeout(&v)
                .ok()
                .filter(|t| !t.is_zero())
                .ok_or_else(|| {
                    Error::with_hint(
                        format!("PGTMP_STANDBY_TIMEOUT={v:?} is not a duration"),
                        "give seconds or e.g. `90s`, `5m`; use PGTMP_STANDBY=0 for no standbys",
                    )
                })?,
            Err(_) => standby::DEFAULT_TIMEOUT,
        };
        let initdb_opts = match std::env::var("PGTMP_INITDB_OPTS") {
            Ok(v) => shell_words::split(&v)
                .map_err(|e| Error::other(format!("PGTMP_INITDB_OPTS: {e}")))?,
            Err(_) => Vec::new(),
        };
        let layout = Layout::new(base);
        let pg = pg::Search {
            bindir: global.pg_bindir.clone(),
            bindir_env: env_path("PGTMP_PG_BINDIR"),
            major: global.pg_version,
            path: std::env::var_os("PGTMP_PG_PATH")
                .map(|v| {
                    std::env::split_paths(&v)
                        .filter(|p| !p.as_os_str().is_empty())
                        .map(|p| std::path::absolute(&p).unwrap_or(p))
                        .collect()
                })
                .unwrap_or_default(),
            cache: Some(layout.pg_cache()),
        };
        Ok(Config {
            layout,
            identity,
            pool_size,
            initdb_opts,
            pg,
            standby_max,
            standby_timeout,
        })
    }

    /// Creates the base directory and, as root, becomes the `--run-as`
    /// account: everything after this runs unprivileged.
    pub fn enter(&self) -> Result<()> {
        let as_root = self.identity.run_as.is_some();
        paths::prepare_base(&self.layout.base, self.identity.owner(), as_root)?;
        self.identity.drop_privileges()
    }

    /// Finds PostgreSQL and says which template it needs.
    pub fn template_spec(&self) -> Result<Spec> {
        let install = pg::find(&self.pg)?;
        Ok(Spec {
            install,
            role: self.identity.role.clone(),
            initdb_opts: self.initdb_opts.clone(),
        })
    }
}

/// The account that owns an existing base directory: as root, the one its
/// instances run as, so that `pgtmp stop` after `pgtmp --run-as X` finds them.
fn existing_owner(base: &std::path::Path) -> Option<u32> {
    use std::os::unix::fs::MetadataExt;
    std::fs::symlink_metadata(base)
        .ok()
        .map(|m| m.uid())
        .filter(|&uid| uid != 0)
}

/// A count from the environment variable `name`, from 0 to `max`.
fn env_count(name: &str, max: usize, default: usize) -> Result<usize> {
    match std::env::var(name) {
        Ok(v) => v
            .trim()
            .parse::<usize>()
            .ok()
            .filter(|n| *n <= max)
            .ok_or_else(|| {
                Error::with_hint(
                    format!("{name}={v:?} is not a number from 0 to {max}"),
                    format!("unset it to use the default of {default}"),
                )
            }),
        Err(_) => Ok(default),
    }
}

fn env_path(name: &str) -> Option<PathBuf> {
    std::env::var_os(name)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}
