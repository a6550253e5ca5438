//! `pgtmp initdb [-d DIR]`: a pool entry, or DIR, ready for `start -d`.

use std::path::{Path, PathBuf};

use super::options;
use crate::cli::GlobalArgs;
use crate::config::Config;
use crate::datadir::{prepare_as_root, prepare_user_dir};
use crate::error::Result;
use crate::pool::{self, template};

/// Used by `initdb`: a pool entry or a `-d` directory, ready to start.
pub fn run(global: &GlobalArgs, datadir: Option<&Path>) -> Result<PathBuf> {
    let config = Config::resolve(&options(global))?;
    if let Some(dir) = datadir {
        prepare_as_root(&config, dir)?;
    }
    config.enter()?;
    let spec = config.template_spec()?;
    match datadir {
        Some(dir) => prepare_user_dir(&config, &spec, dir),
        None => template::ensure(&config.layout, &spec)
            .and_then(|template| pool::add(&config.layout, &spec.key(), template.path())),
    }
    .map_err(|e| e.on_filesystem_of(&config.layout.base))
}
