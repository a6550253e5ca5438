//! What pgtmp prints as JSON, as types: `pgtmp list --json` prints an
//! array of [`ListEntry`], `pgtmp -F json` one [`Connection`], `pgtmp
//! versions --json` an array of [`Installation`], `pgtmp snapshot --list
//! --json` an array of [`SnapshotEntry`]. The fields
//! are declared in the order they are printed (alphabetical, as they were
//! when a map made them), and tools that read the output, pgtmp's own tests
//! included, can parse it into these same structs.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::pg::Version;

/// One running instance (or spare) in `pgtmp list --json`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListEntry {
    /// Seconds since it was handed out (or, for a spare, started).
    pub age_secs: u64,
    /// Client connections at the last look, on all its servers (-1: could
    /// not count).
    pub clients: i64,
    /// Its primary's data directory.
    pub data_dir: PathBuf,
    /// The instance directory, `BASE/run/ID`.
    pub dir: PathBuf,
    /// Seconds without a client; null while one is connected.
    pub idle_secs: Option<u64>,
    /// The data directory outlives the server (`-k`).
    pub keep: bool,
    /// Its servers, the primary first: one for a single server, the
    /// primary and its replicas for a set (`--replicas`).
    pub nodes: Vec<Node>,
    /// The primary's postmaster; null when its `postmaster.pid` is gone.
    pub pid: Option<u32>,
    pub port: u16,
    /// `--shared-tx`: the proxy's clients and sessions (absent otherwise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shared_tx: Option<SharedTx>,
    /// A server started ahead that no hand-out has claimed yet.
    pub spare: bool,
    /// Unix seconds.
    pub started: u64,
    pub supervisor_pid: Option<u32>,
    pub tcp: bool,
    /// The idle timeout; 0: none.
    pub timeout_secs: u64,
    pub url: String,
}

/// A `--shared-tx` instance's proxy, in `pgtmp list --json`: its clients
/// and its sessions (one per database, each one shared transaction).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct SharedTx {
    /// The proxy's own process.
    pub pid: u32,
    pub clients: Vec<SharedTxClient>,
    pub sessions: Vec<SharedTxSession>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct SharedTxClient {
    /// The process id the proxy gave the client (BackendKeyData).
    pub pid: i32,
    pub user: String,
    pub database: String,
    pub application_name: String,
    /// `socket` or the TCP peer address.
    pub addr: String,
    /// idle, active, idle in transaction, idle in transaction (aborted),
    /// waiting, starting.
    pub state: String,
    /// Unix seconds.
    pub connected: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct SharedTxSession {
    pub database: String,
    /// The server process all its clients share (`pg_backend_pid()`).
    pub backend_pid: i32,
    /// The pid of the client holding it, if one does.
    pub owner: Option<i32>,
    pub waiting: usize,
    /// The test named by the last `BEGIN TEST` / `ROLLBACK TEST`.
    pub test: Option<String>,
    /// Unix seconds: when the shared transaction (re)started.
    pub since: u64,
}

/// Every way to reach one instance, as `pgtmp -F json` prints it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Connection {
    pub data_dir: PathBuf,
    pub database: String,
    /// libpq's `key=value` form.
    pub dsn: String,
    /// The socket directory, or 127.0.0.1.
    pub host: String,
    /// The instance directory's name.
    pub id: String,
    /// The JDBC URL; null for a socket-only instance.
    pub jdbc: Option<String>,
    /// The data directory outlives the server (`-k`, `-d`).
    pub keep: bool,
    /// Its servers, the primary first (the fields above are the
    /// primary's): one for a single server, more for a set.
    pub nodes: Vec<Node>,
    /// Null for a socket-only instance.
    pub password: Option<String>,
    /// The primary's postmaster.
    pub pid: Option<u32>,
    pub port: u16,
    pub socket_dir: PathBuf,
    pub supervisor_pid: Option<u32>,
    pub tcp: bool,
    /// The idle timeout; 0: none.
    pub timeout_secs: u64,
    pub url: String,
    pub user: String,
    /// The server's version, `15.18`.
    pub version: String,
}

/// One snapshot in `pgtmp snapshot --list --json`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SnapshotEntry {
    /// Seconds since it was taken.
    pub age_secs: u64,
    /// The size of its data directory.
    pub bytes: u64,
    /// The key of its template (`BASE/templates/KEY`).
    pub key: String,
    pub name: String,
    /// The URL of the instance it was taken from, without a password.
    pub source: String,
    /// When it was taken, Unix seconds.
    pub taken: u64,
    /// Seconds since it was last taken, handed out or reset to.
    pub unused_secs: u64,
    /// Its data directory's PostgreSQL major version (`PG_VERSION`).
    pub version: String,
}

/// One server of an instance, in `nodes`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Node {
    pub data_dir: PathBuf,
    /// `node0`, `node1`, ... in a set (`node0` was its first primary);
    /// empty for a single server.
    pub name: String,
    /// Its postmaster; null when its `postmaster.pid` is gone.
    pub pid: Option<u32>,
    pub port: u16,
    pub role: Role,
    /// Its own socket directory.
    pub socket_dir: PathBuf,
    /// The URL that reaches it.
    pub url: String,
}

/// What a server is to its instance.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Takes writes; every instance has exactly one.
    #[default]
    Primary,
    /// A hot standby streaming from the primary.
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

/// One PostgreSQL installation pgtmp can use, in `pgtmp versions --json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Installation {
    /// The directory holding `postgres` and `initdb`.
    pub bindir: PathBuf,
    /// The one pgtmp uses with the same options and environment.
    pub default: bool,
    /// Where it was found: `--pg-bindir`, `PGTMP_PG_BINDIR`, `pg_config`,
    /// `PATH`, `PGTMP_PG_PATH`, or the pattern of a usual install place.
    pub found_by: String,
    pub major: u32,
    /// The client programs that come with it, of `psql`, `pg_dump`,
    /// `pg_restore` and `pg_basebackup`.
    pub tools: Vec<String>,
    /// What its `postgres --version` says: `15.14`, `17beta1`.
    pub version: Version,
}
