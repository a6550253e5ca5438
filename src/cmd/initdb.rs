//! `pgtmp initdb [-d DIR]`: a data directory ready for `start -d`, as
//! pg_tmp's `initdb` makes one: DIR, or else a new directory under the
//! base's `initdb/`, where the pool's claims never reach it. The server
//! `start -d` runs on it deletes it when it stops (unless kept); `stop -d`
//! takes the same path, running or not.

use std::path::{Path, PathBuf};

use super::options;
use crate::cli::GlobalArgs;
use crate::config::Config;
use crate::datadir::{prepare_as_root, prepare_user_dir};
use crate::error::Result;
use crate::paths;
use crate::pool::{self, template};
use crate::random;
use crate::refill;

/// Used by `initdb`: the directory made ready, to print.
pub fn run(global: &GlobalArgs, datadir: Option<&Path>) -> Result<PathBuf> {
    let config = Config::resolve(&options(global))?;
    if let Some(dir) = datadir {
        prepare_as_root(&config, dir)?;
    }
    config.enter()?;
    let spec = config.template_spec()?;
    match datadir {
        Some(dir) => prepare_user_dir(&config, &spec, dir),
        None => new_entry(&config, &spec),
    }
    .map_err(|e| e.on_filesystem_of(&config.layout.base))
}

/// A ready pool entry moved to `initdb/` (one rename), or a fresh copy of
/// the template; the pool is refilled in the background.
fn new_entry(config: &Config, spec: &template::Spec) -> Result<PathBuf> {
    let layout = &config.layout;
    let key = spec.key();
    let template = template::ensure(layout, spec)?;
    let dir = layout.initdb_dir();
    paths::mkdir_private(&dir)?;
    let entry = dir.join(random::id());
    if !pool::claim(layout, &key, &entry)? {
        let tmp = dir.join(format!(".tmp-{}", random::id()));
        paths::publish(&tmp, &entry, |tmp| pool::copy_tree(template.path(), tmp))?;
    }
    let _ = refill::spawn(config, &key, None, None);
    Ok(entry)
}
