//! `--setup CMD` and `--key PATH`: a schema made by any migration tool
//! (Sqitch, Alembic, Rails, Flyway, a shell loop over `*.sql`), run once
//! against a fresh database and cached as a template of its own, which the
//! pool and the spares then copy like any other.
//!
//! The template's key covers what the result depends on that pgtmp can
//! see: the key of the template the commands run on (the plain one, a
//! fixture's, a snapshot's), the server options, the working directory,
//! the commands' text, and the contents of the `--key` paths (see
//! `digest`; `memo` spares reading them again while they are unchanged).
//! What the commands read any other way (the environment, the network,
//! files not named with `--key`) is not. The contents are read as
//! the caller, before pgtmp drops privileges, and again by the runner once
//! the commands are done: a template is cached only under the contents it
//! was made from.

mod build;
mod digest;
pub mod job;
mod memo;
mod progress;
pub mod runner;

pub use build::ensure;
pub use memo::Memo;
pub use runner::Runner;

use std::path::PathBuf;

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::fixture::{derived_key, field, hex};

/// Bumped when how a setup template is made changes.
const FORMAT: u32 = 1;

/// Setup template keys start with this (fixtures' with `f`, plain ones
/// with `t`).
pub const KEY_PREFIX: char = 's';

/// What a setup is: the commands, where they run, what keys them.
#[derive(Debug, Clone)]
pub struct Setup {
    pub commands: Vec<String>,
    /// The `--key` paths, as given (relative to `cwd`).
    pub keys: Vec<PathBuf>,
    /// The working directory the commands run in.
    pub cwd: PathBuf,
    /// The digest of the `--key` contents.
    pub contents: String,
    /// `-o`, as the server gets them (see `on_server`): the server the
    /// commands run against has them.
    pub server_options: Vec<String>,
}

impl Setup {
    /// The setup of these commands and `--key` paths; `None` without
    /// commands. Reads every `--key` path, or what `memo` needs to know
    /// them unchanged: call it as the caller.
    pub fn new(commands: &[String], keys: &[PathBuf], memo: &mut Memo) -> Result<Option<Setup>> {
        if commands.is_empty() {
            return Ok(None);
        }
        let cwd = std::env::current_dir().map_err(Error::io("find", "the current directory"))?;
        let contents = memo.digest(&cwd, keys)?;
        Ok(Some(Setup {
            commands: commands.to_vec(),
            keys: keys.to_vec(),
            cwd,
            contents,
            server_options: Vec::new(),
        }))
    }

    /// The setup run against a server with `server_args` (`-o`, checked and
    /// in the form the server gets them: `server_options::ServerOptions`).
    pub fn on_server(mut self, server_args: &[String]) -> Setup {
        self.server_options = server_args.to_vec();
        self
    }

    /// The template key: `s` and 128 bits of a SHA-256 over the base
    /// template's key, the settings and the `--key` contents.
    pub fn key(&self, base_key: &str) -> String {
        derived_key(KEY_PREFIX, self.settings_hash(base_key), &self.contents)
    }

    /// What the setup is made of, without the contents: an edit of a
    /// `--key` file gives the same origin, so that gc can tell the older
    /// template superseded.
    pub fn origin(&self, base_key: &str) -> String {
        hex(&self.settings_hash(base_key).finalize()[..16])
    }

    fn settings_hash(&self, base_key: &str) -> Sha256 {
        let mut hash = Sha256::new();
        field(&mut hash, b"format", &FORMAT.to_le_bytes());
        field(&mut hash, b"base", base_key.as_bytes());
        field(&mut hash, b"cwd", self.cwd.as_os_str().as_encoded_bytes());
        for option in &self.server_options {
            field(&mut hash, b"option", option.as_bytes());
        }
        for command in &self.commands {
            field(&mut hash, b"command", command.as_bytes());
        }
        for key in &self.keys {
            field(&mut hash, b"key", key.as_os_str().as_encoded_bytes());
        }
        hash
    }
}
