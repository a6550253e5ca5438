//! `pgtmp promote URL`, `pgtmp wait URL` and `pgtmp restart URL`: what a
//! test does with a running set (or instance). Each prints nothing on
//! success.

use std::time::Duration;

use super::options;
use crate::cli::GlobalArgs;
use crate::config::Config;
use crate::error::{Error, Result};

pub fn promote(url: &str, global: &GlobalArgs) -> Result<()> {
    crate::promote(&Config::resolve(&options(global))?, url)
}

pub fn wait(url: &str, timeout: Duration, global: &GlobalArgs) -> Result<()> {
    let timeout = (!timeout.is_zero()).then_some(timeout);
    crate::wait(&Config::resolve(&options(global))?, url, timeout)
}

/// Each `-o` is split as a shell would, as for `start`; none keeps the
/// options the servers have.
pub fn restart(url: &str, server_options: &[String], global: &GlobalArgs) -> Result<()> {
    let mut words = Vec::new();
    for o in server_options {
        words.extend(shell_words::split(o).map_err(|e| Error::ServerOptions {
            options: o.clone(),
            reason: format!("cannot split it: {e}"),
        })?);
    }
    let words = (!server_options.is_empty()).then_some(words);
    crate::restart(&Config::resolve(&options(global))?, url, words)
}
