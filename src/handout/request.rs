//! What a hand-out asks for: the library's form of `pgtmp start`'s
//! options, plain values that any caller can fill in.

use std::path::PathBuf;
use std::time::Duration;

pub use crate::instance::topology::{MAX_REPLICAS, Topology};

/// A request for one instance. `Request::default()` is what `pgtmp` with
/// no options asks for: a socket-only server, the default idle timeout,
/// the data deleted when it stops.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Request {
    /// Keep the data directory after the server stops (`-k`).
    pub keep: bool,
    /// Listen on 127.0.0.1 too, with a password (`-t`).
    pub tcp: bool,
    /// Listen on this TCP port (`-p`; implies `tcp`).
    pub port: Option<u16>,
    /// Stop after this long without clients (`-w`): `None` the default
    /// (60 s), `Some(Duration::ZERO)` never.
    pub timeout: Option<Duration>,
    /// Extra server options, one word each (`-o`, split as a shell would),
    /// read as `postgres` reads its arguments: `-p N` is `port`, a loopback
    /// `listen_addresses` needs `tcp`, and what would open the server to
    /// others or break its URL is an error (see `server_options`).
    pub server_options: Vec<String>,
    /// Use this data directory (`-d`): never deleted, but for one that
    /// `pgtmp initdb` made, which goes with the instance unless kept.
    pub datadir: Option<PathBuf>,
    /// SQL files, directories of them or pg_dump archives to load (`-f`).
    pub files: Vec<PathBuf>,
    /// Extensions to create (`-x`).
    pub extensions: Vec<String>,
    /// Freeze now() at this timestamp (`--now`).
    pub now: Option<String>,
    /// Commands run once against a fresh database, as the caller, whose
    /// result is cached as a template (`--setup`). As root, a process
    /// runs them as root only from a hand-out made before it dropped
    /// privileges (its first): later ones run them as the `--run-as`
    /// account.
    pub setup: Vec<String>,
    /// Files and directories whose contents key the setup's template, with
    /// the commands (`--key`).
    pub setup_keys: Vec<PathBuf>,
    /// Hand out a copy of this snapshot (`--from`).
    pub from: Option<String>,
    /// Stop when this process is gone (what `exec` asks).
    pub owner_pid: Option<u32>,
    /// Start the background refill (the replacement spare, the pool copy,
    /// garbage collection) only once this process has exited, so that it
    /// takes no CPU from the work the hand-out serves (what `prove` asks:
    /// on a small machine the refill competes with its files).
    pub refill_after: Option<u32>,
    /// The servers of the instance.
    pub topology: Topology,
    /// `wal_level=logical`, with room for replication slots, WAL senders
    /// and logical replication workers (`--logical`).
    pub logical: bool,
    /// Put the shared-transaction proxy in front of the server: every
    /// connection through the URL shares one transaction (`--shared-tx`).
    pub shared_tx: bool,
}

impl Request {
    /// Whether a server started ahead (a spare) can serve this request: a
    /// fixed port, server options or a data directory of one's own need
    /// their own server. Sets have spares of their own kind.
    pub fn takes_spare(&self) -> bool {
        self.port.is_none()
            && self.datadir.is_none()
            && self.server_options.is_empty()
            && !self.shared_tx
    }
}
