//! What pgtmp prints as JSON, as types: `pgtmp list --json` prints an
//! array of [`ListEntry`], `pgtmp -F json` one [`Connection`]. The fields
//! are declared in the order they are printed (alphabetical, as they were
//! when a map made them), and tools that read the output, pgtmp's own tests
//! included, can parse it into these same structs.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// One running instance (or spare) in `pgtmp list --json`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListEntry {
    /// Seconds since it was handed out (or, for a spare, started).
    pub age_secs: u64,
    /// Client connections at the last look (-1: could not count).
    pub clients: i64,
    /// Its primary's data directory.
    pub data_dir: PathBuf,
    /// The instance directory, `BASE/run/ID`.
    pub dir: PathBuf,
    /// Seconds without a client; null while one is connected.
    pub idle_secs: Option<u64>,
    /// The data directory outlives the server (`-k`).
    pub keep: bool,
    /// The primary's postmaster; null when its `postmaster.pid` is gone.
    pub pid: Option<u32>,
    pub port: u16,
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
