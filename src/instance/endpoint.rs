//! Where an instance's clients connect, which need not be a server: today
//! the primary itself; a proxy in front of the servers (shared
//! transactions) is an endpoint of its own. The URL, client counting and
//! `stop URL` all speak of the endpoint.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// A listening place: a Unix socket directory and port, and 127.0.0.1 on
/// the same port for TCP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Address {
    pub socket_dir: PathBuf,
    pub port: u16,
    pub tcp: bool,
}

/// What the instance's URL points at.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Endpoint {
    /// The primary server itself.
    #[default]
    Primary,
    /// A listener of pgtmp's own in front of the servers.
    Listener {
        socket_dir: PathBuf,
        port: u16,
        tcp: bool,
    },
}

impl Address {
    /// Client connections here, from the platform's socket tables (not
    /// our own connections, which go to the servers' private sockets).
    pub fn count_clients(&self) -> crate::error::Result<i64> {
        let socket = self.socket_dir.join(format!(".s.PGSQL.{}", self.port));
        crate::platform::count_connections(&socket, self.tcp.then_some(self.port))
    }
}

impl Endpoint {
    pub fn is_primary(&self) -> bool {
        *self == Endpoint::Primary
    }
}
