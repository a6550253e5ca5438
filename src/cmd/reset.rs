//! `pgtmp reset URL`: the instance back to the state it was handed out in.

use super::options;
use crate::cli::GlobalArgs;
use crate::config::Config;
use crate::error::Result;

pub fn run(url: &str, global: &GlobalArgs) -> Result<()> {
    let config = Config::resolve(&options(global))?;
    crate::reset(&config, url)
}
