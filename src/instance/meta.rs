//! `meta.json`: what an instance is (its servers, URL, settings, owner).
//! The starting process writes it before the supervisor runs; the
//! supervisor completes it (final ports, URL, its own pid) once the servers
//! are ready. Written with a rename so readers never see half a file.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::endpoint::{Address, Endpoint};
use super::server::{Role, Server};
use crate::error::{Error, Result};
use crate::json::Node;
use crate::{postmaster, url};

pub const META: &str = "meta.json";
pub const LOCK: &str = "lock";
/// An instance directory being made, not yet locked and renamed into place.
pub const UNBORN_PREFIX: &str = ".new-";
/// The data directory of a server inside its instance directory.
pub const DATA: &str = "data";
pub const SERVER_LOG: &str = "server.log";
pub const SUPERVISE_LOG: &str = "supervise.log";
pub const STATE: &str = "state.json";
/// Created by the caller that claimed a spare once it printed the URL.
pub const DELIVERED: &str = "delivered";
/// Names, in `run/`, what a reset put aside: the directory of the server
/// it replaced (removed once the reset is answered), or a link not yet
/// moved into place (`reaper::swap`).
pub const REPLACED_PREFIX: &str = ".replaced-";
/// A claimed spare's token, renamed to `claim-<pid>-<start time>` of the
/// claiming process.
pub const CLAIM_PREFIX: &str = "claim-";

/// An instance: its servers, where clients connect, and whose it is.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Meta {
    pub id: String,
    /// Empty until the servers are ready.
    pub url: String,
    /// The SQL superuser (not a server's role, see `Role`).
    pub role: String,
    pub password: Option<String>,
    /// The primary server, its fields at the top level.
    #[serde(flatten)]
    pub primary: Server,
    /// Streaming replicas of the primary, started after it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub replicas: Vec<Server>,
    /// Where the URL points.
    #[serde(default, skip_serializing_if = "Endpoint::is_primary")]
    pub endpoint: Endpoint,
    /// A set's commits wait for every replica to apply them (`--sync`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub sync: bool,
    /// The supervisor's control socket (`promote`, `restart`, `reset`,
    /// `snapshot`); None for an instance started by a pgtmp that had none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub control: Option<PathBuf>,
    /// The key of the template it was made from, which `reset` copies
    /// again; None for a `-d` directory (or an older pgtmp's instance).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<String>,
    pub keep: bool,
    /// Idle timeout in milliseconds; 0 = none.
    pub timeout_ms: u64,
    /// Unix seconds.
    pub started: u64,
    pub supervisor_pid: Option<u32>,
    pub supervisor_start: Option<u64>,
    /// `exec`: stop when this process is gone.
    pub owner_pid: Option<u32>,
    pub owner_start: Option<u64>,
    /// `--shared-tx`: the proxy in front of the server (the endpoint).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shared_tx: Option<SharedTx>,
    /// A spare waiting to be claimed: its token, `spare/<class>/<id>`.
    /// None once claimed, and for instances started on demand.
    #[serde(default, alias = "standby")]
    pub spare: Option<PathBuf>,
    /// The instance directory its URL names, when that is not its own: a
    /// reset put this server in the place of the one the URL was handed
    /// out for, and that name is now a link to this directory
    /// (`reaper::swap`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alias: Option<PathBuf>,
}

/// The shared-transaction proxy of an instance (`--shared-tx`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SharedTx {
    /// How long a client may wait for another's transaction.
    pub lock_wait_ms: u64,
}

/// The proxy's configuration, and its list of clients for `pgtmp list`.
pub const PROXY_CONFIG: &str = "proxy.json";
pub const PROXY_STATUS: &str = "proxy-status.json";
pub const PROXY_LOG: &str = "proxy.log";

/// What a hand-out decides about the instance it gets, whether started for
/// it or claimed from the spares.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    pub keep: bool,
    pub timeout_ms: u64,
    pub owner_pid: Option<u32>,
    pub owner_start: Option<u64>,
}

impl Meta {
    pub fn read(dir: &Path) -> Result<Meta> {
        let path = dir.join(META);
        let text = fs::read_to_string(&path).map_err(Error::io("read", &path))?;
        serde_json::from_str(&text).map_err(|e| Error::Metadata {
            action: "corrupt",
            path,
            reason: e.to_string(),
        })
    }

    pub fn write(&self, dir: &Path) -> Result<()> {
        // Only a path that is not UTF-8 can fail here; the callers refuse those.
        let text = serde_json::to_string_pretty(self).map_err(|e| Error::Metadata {
            action: "cannot describe the instance in",
            path: dir.to_path_buf(),
            reason: e.to_string(),
        })?;
        write_atomic(&dir.join(META), text.as_bytes())
    }

    /// Every server with its role, the primary first.
    pub fn servers(&self) -> impl Iterator<Item = (Role, &Server)> {
        std::iter::once((Role::Primary, &self.primary))
            .chain(self.replicas.iter().map(|s| (Role::Replica, s)))
    }

    /// Whether it is a set: a primary with replicas.
    pub fn is_set(&self) -> bool {
        !self.replicas.is_empty()
    }

    /// The server named `name`, with its role.
    pub fn node(&self, name: &str) -> Option<(Role, &Server)> {
        self.servers().find(|(_, s)| s.name == name)
    }

    /// The URL of one server: the instance's for the primary (its
    /// endpoint's), else the server's own socket or port, with the
    /// instance's role and password.
    pub fn node_url(&self, role: Role, server: &Server) -> String {
        if role == Role::Primary {
            if self.url.is_empty() {
                return self.connection_url();
            }
            return self.url.clone();
        }
        match &self.password {
            Some(pw) => url::tcp(server.port, &self.role, pw),
            None => url::socket(&server.socket_dir, server.port),
        }
    }

    /// Every server's URL, the primary's first.
    pub fn urls(&self) -> Vec<String> {
        self.servers()
            .map(|(role, server)| self.node_url(role, server))
            .collect()
    }

    /// Its servers as JSON, the primary first.
    pub fn nodes(&self) -> Vec<Node> {
        self.servers()
            .map(|(role, s)| Node {
                data_dir: s.data_dir.clone(),
                name: s.name.clone(),
                pid: postmaster::pid(&s.data_dir),
                port: s.port,
                role,
                socket_dir: s.socket_dir.clone(),
                url: self.node_url(role, s),
            })
            .collect()
    }

    /// Makes replica `name` the primary and the primary a replica, as a
    /// switchover leaves them; false when `name` is no replica.
    pub fn swap_primary(&mut self, name: &str) -> bool {
        let Some(i) = self.replicas.iter().position(|s| s.name == name) else {
            return false;
        };
        std::mem::swap(&mut self.primary, &mut self.replicas[i]);
        self.url = self.connection_url();
        true
    }

    /// Where its clients connect: the endpoint, and a set's replicas'
    /// own sockets (their replication connections use others).
    pub fn client_addresses(&self) -> Vec<Address> {
        let mut addresses = vec![self.address()];
        addresses.extend(self.replicas.iter().map(Server::address));
        addresses
    }

    /// Where clients connect.
    pub fn address(&self) -> Address {
        match &self.endpoint {
            Endpoint::Primary => self.primary.address(),
            Endpoint::Listener {
                socket_dir,
                port,
                tcp,
            } => Address {
                socket_dir: socket_dir.clone(),
                port: *port,
                tcp: *tcp,
            },
        }
    }

    /// The URL of the endpoint: with the password over TCP, else the socket.
    pub fn connection_url(&self) -> String {
        let at = self.address();
        match &self.password {
            Some(pw) => url::tcp(at.port, &self.role, pw),
            None => url::socket(&at.socket_dir, at.port),
        }
    }

    /// Takes a hand-out's settings (a claimed spare becomes the caller's).
    pub fn apply(&mut self, settings: &Settings) {
        self.keep = settings.keep;
        self.timeout_ms = settings.timeout_ms;
        self.owner_pid = settings.owner_pid;
        self.owner_start = settings.owner_start;
        self.started = now_secs();
    }

    /// Whether the data directory outlives the server (`-k`, or `-d`).
    pub fn keeps_data(&self) -> bool {
        self.keep || self.primary.user_data_dir
    }

    pub fn timeout(&self) -> Option<Duration> {
        (self.timeout_ms > 0).then(|| Duration::from_millis(self.timeout_ms))
    }
}

/// The log of `server` of the instance in `dir`: its own (a replica's),
/// else the instance's `server.log`.
pub fn server_log(dir: &Path, server: &Server) -> PathBuf {
    server.log.clone().unwrap_or_else(|| dir.join(SERVER_LOG))
}

/// What the supervisor last saw, for `list`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct State {
    pub clients: i64,
    /// Unix milliseconds since when no client was connected; None while busy.
    pub idle_since_ms: Option<u64>,
    /// The supervisor is shutting the server down.
    #[serde(default)]
    pub stopping: bool,
}

impl State {
    pub fn read(dir: &Path) -> Option<State> {
        let text = fs::read_to_string(dir.join(STATE)).ok()?;
        serde_json::from_str(&text).ok()
    }

    pub fn write(&self, dir: &Path) -> Result<()> {
        let text = serde_json::to_string(self).expect("state serializes");
        write_atomic(&dir.join(STATE), text.as_bytes())
    }
}

/// Writes `path` through a temporary file and a rename.
/// The temporary name is this process's own, so concurrent writers of one
/// file never write into each other's; the last rename wins.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    let written = fs::write(&tmp, bytes)
        .map_err(Error::io("write", &tmp))
        .and_then(|()| fs::rename(&tmp, path).map_err(Error::io("rename into", path)));
    if written.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    written
}

pub fn now_secs() -> u64 {
    now_ms() / 1000
}

pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The `meta.json` of an instance started before servers and spares
    /// had their names: a running one must still be listed and stopped.
    const OLD: &str = r#"{
  "id": "abc", "url": "postgresql:///test?host=/r/abc&user=me", "role": "me",
  "password": null, "tcp": false, "port": 5432, "fixed_port": false,
  "socket_dir": "/r/abc", "socket_dir_separate": false, "data_dir": "/r/abc/data",
  "user_data_dir": false, "keep": true, "timeout_ms": 60000, "server_options": ["-N", "5"],
  "bindir": "/usr/lib/postgresql/15/bin", "started": 1, "supervisor_pid": 7,
  "supervisor_start": 8, "owner_pid": null, "owner_start": null,
  "standby": "/b/standby/t1-socket/abc"
}"#;

    #[test]
    fn reads_the_single_server_layout() {
        let m: Meta = serde_json::from_str(OLD).unwrap();
        assert_eq!(m.primary.data_dir, PathBuf::from("/r/abc/data"));
        assert_eq!(m.primary.server_options, ["-N", "5"]);
        assert!(m.replicas.is_empty() && m.endpoint.is_primary());
        assert_eq!(m.spare, Some(PathBuf::from("/b/standby/t1-socket/abc")));
        assert_eq!(m.address().socket_dir, PathBuf::from("/r/abc"));
        assert_eq!(m.servers().count(), 1);
    }

    #[test]
    fn a_switchover_moves_the_roles_not_the_urls() {
        let server = |name: &str, port| Server {
            name: name.into(),
            tcp: true,
            port,
            ..Server::default()
        };
        let mut m = Meta {
            role: "me".into(),
            password: Some("pw".into()),
            primary: server("node0", 5000),
            replicas: vec![server("node1", 5001), server("node2", 5002)],
            ..Meta::default()
        };
        m.url = m.connection_url();
        let before = m.urls();
        assert!(before[1].contains(":5001/"), "{before:?}");
        assert!(m.swap_primary("node1"));
        assert!(!m.swap_primary("node7"));
        assert_eq!(m.primary.name, "node1");
        assert_eq!(m.url, before[1]);
        let mut after = m.urls();
        assert_eq!(after[0], before[1], "the primary comes first");
        after.sort();
        let mut sorted = before.clone();
        sorted.sort();
        assert_eq!(after, sorted, "every server keeps its URL");
        let back: Meta = serde_json::from_value(serde_json::to_value(&m).unwrap()).unwrap();
        assert_eq!(back.urls(), m.urls());
        assert_eq!(m.node("node0").map(|(r, _)| r), Some(Role::Replica));
    }

    #[test]
    fn writes_the_primary_at_the_top_level() {
        let m: Meta = serde_json::from_str(OLD).unwrap();
        let v = serde_json::to_value(&m).unwrap();
        assert_eq!(v["data_dir"], "/r/abc/data");
        assert_eq!(v["spare"], "/b/standby/t1-socket/abc");
        for absent in ["primary", "replicas", "endpoint", "standby"] {
            assert!(v.get(absent).is_none(), "{absent} in {v}");
        }
        let back: Meta = serde_json::from_value(v).unwrap();
        assert_eq!(back.connection_url(), m.connection_url());
    }
}
