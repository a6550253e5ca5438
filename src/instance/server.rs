//! One PostgreSQL server of an instance: its data directory, where it
//! listens and how it runs. An instance holds one primary and, in a set
//! (`--replicas`), replicas streaming from it; each is started, watched and
//! stopped by the instance's supervisor through a `Postmaster`.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::endpoint::Address;
use crate::postmaster;

pub use crate::json::Role;

/// One server, as `meta.json` records it. The primary's fields stand at
/// the top level of `meta.json` (as they did when an instance had one).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Server {
    /// Its name in a set, `node0` (the first primary), `node1`, ...: the
    /// `application_name` it streams with and its `cluster_name`. Empty for
    /// a single server.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
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
    /// In a set: a second socket directory, where the other servers connect
    /// for replication, so that they are not counted as clients.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream_dir: Option<PathBuf>,
    /// Its own log; None: the instance's `server.log` (see
    /// `meta::server_log`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log: Option<PathBuf>,
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

    /// How its postmaster runs, logging to `log`, with pgtmp's `settings`
    /// (see `replication::settings`) after the user's options.
    pub fn postmaster(&self, log: PathBuf, settings: Vec<String>) -> postmaster::Spec<'_> {
        postmaster::Spec {
            program: self.bindir.join("postgres"),
            data_dir: &self.data_dir,
            socket_dir: &self.socket_dir,
            stream_dir: self.stream_dir.as_deref(),
            port: self.port,
            tcp: self.tcp,
            user_options: &self.server_options,
            // The idle watch counts connections from the lines the first
            // settings make the server log.
            settings: super::arrivals::settings(&self.data_dir)
                .iter()
                .map(|s| s.to_string())
                .chain(settings)
                .collect(),
            log,
        }
    }
}
