//! What a proxy needs to know: where to listen, which server to share,
//! how long a client may wait for another's transaction. Written as JSON
//! by whoever starts it (the supervisor, or a test).

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// How long a client waits for the shared transaction by default.
pub const DEFAULT_LOCK_WAIT: Duration = Duration::from_secs(10);

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Config {
    /// The directory of the proxy's socket `.s.PGSQL.<port>`.
    pub socket_dir: PathBuf,
    /// The socket's port number; with `tcp`, also the TCP port.
    pub port: u16,
    /// Also listen on 127.0.0.1:`port`, asking for `password` (SCRAM).
    pub tcp: bool,
    pub password: Option<String>,
    /// The server's socket directory and port.
    pub server_socket_dir: PathBuf,
    pub server_port: u16,
    /// The role the proxy connects as: the instance's superuser. Clients
    /// naming another role get it as their session authorization.
    pub role: String,
    /// How long a client waits while another holds the shared
    /// transaction, in milliseconds.
    pub lock_wait_ms: u64,
    /// Where to keep the list of clients for `pgtmp list`.
    pub status_file: Option<PathBuf>,
    /// The database whose shared transaction opens at once (others open
    /// when a client first asks for them).
    pub database: String,
}

impl Config {
    pub fn lock_wait(&self) -> Duration {
        Duration::from_millis(self.lock_wait_ms)
    }

    pub fn socket_path(&self) -> PathBuf {
        self.socket_dir.join(format!(".s.PGSQL.{}", self.port))
    }

    pub fn server_socket_path(&self) -> PathBuf {
        self.server_socket_dir
            .join(format!(".s.PGSQL.{}", self.server_port))
    }
}
