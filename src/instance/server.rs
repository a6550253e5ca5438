//! One PostgreSQL server of an instance: its data directory, where it
//! listens and how it runs. An instance holds one primary and, for the
//! topologies to come, replicas; each is started, watched and stopped by
//! the instance's supervisor through a `Postmaster`.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::endpoint::Address;
use crate::postmaster;

/// What a server is to its instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Takes writes; every instance has exactly one.
    Primary,
    /// A streaming replica of the primary.
    Replica,
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Role::Primary => "primary",
            Role::Replica => "replica",
        })
    }
}

/// One server, as `meta.json` records it. The primary's fields stand at
/// the top level of `meta.json` (as they did when an instance had one).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Server {
    pub tcp: bool,
    pub port: u16,
    /// `-p`: never move to another port.
    pub fixed_port: bool,
    pub socket_dir: PathBuf,
    /// The socket directory is a fallback under /tmp, removed with the instance.
    pub socket_dir_separate: bool,
    pub data_dir: PathBuf,
    /// `-d`: the user's directory, never deleted.
    pub user_data_dir: bool,
    pub server_options: Vec<String>,
    pub bindir: PathBuf,
}

impl Server {
    /// Where it listens.
    pub fn address(&self) -> Address {
        Address {
            socket_dir: self.socket_dir.clone(),
            port: self.port,
            tcp: self.tcp,
        }
    }

    /// How its postmaster runs, logging to `log`.
    pub fn postmaster(&self, log: PathBuf) -> postmaster::Spec<'_> {
        postmaster::Spec {
            program: self.bindir.join("postgres"),
            data_dir: &self.data_dir,
            socket_dir: &self.socket_dir,
            port: self.port,
            tcp: self.tcp,
            user_options: &self.server_options,
            // The idle watch counts connections from these lines.
            settings: super::arrivals::settings(&self.data_dir),
            log,
        }
    }
}
