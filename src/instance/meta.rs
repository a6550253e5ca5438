//! `meta.json`: what an instance is (URL, port, directories, options). The
//! starting process writes it before the supervisor runs; the supervisor
//! completes it (final port, URL, its own pid) once the server is ready.
//! Written with a rename so readers never see half a file.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

pub const META: &str = "meta.json";
pub const LOCK: &str = "lock";
/// An instance directory being made, not yet locked and renamed into place.
pub const UNBORN_PREFIX: &str = ".new-";
pub const SERVER_LOG: &str = "server.log";
pub const SUPERVISE_LOG: &str = "supervise.log";
pub const STATE: &str = "state.json";
/// Created by the caller that claimed a standby once it printed the URL.
pub const DELIVERED: &str = "delivered";
/// A claimed standby's token, renamed to `claim-<pid>-<start time>` of the
/// claiming process.
pub const CLAIM_PREFIX: &str = "claim-";

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Meta {
    pub id: String,
    /// Empty until the server is ready.
    pub url: String,
    pub role: String,
    pub password: Option<String>,
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
    pub keep: bool,
    /// Idle timeout in milliseconds; 0 = none.
    pub timeout_ms: u64,
    pub server_options: Vec<String>,
    pub bindir: PathBuf,
    /// Unix seconds.
    pub started: u64,
    pub supervisor_pid: Option<u32>,
    pub supervisor_start: Option<u64>,
    /// `exec`: stop when this process is gone.
    pub owner_pid: Option<u32>,
    pub owner_start: Option<u64>,
    /// A standby waiting to be claimed: its token, `standby/<class>/<id>`.
    /// None once claimed, and for instances started on demand.
    #[serde(default)]
    pub standby: Option<PathBuf>,
}

impl Meta {
    pub fn read(dir: &Path) -> Result<Meta> {
        let path = dir.join(META);
        let text = fs::read_to_string(&path).map_err(Error::io("read", &path))?;
        serde_json::from_str(&text)
            .map_err(|e| Error::other(format!("corrupt {}: {e}", path.display())))
    }

    pub fn write(&self, dir: &Path) -> Result<()> {
        // Only a path that is not UTF-8 can fail here; the callers refuse those.
        let text = serde_json::to_string_pretty(self).map_err(|e| {
            Error::other(format!(
                "cannot describe the instance in {}: {e}",
                dir.display()
            ))
        })?;
        write_atomic(&dir.join(META), text.as_bytes())
    }

    /// Whether the data directory outlives the server (`-k`, or `-d`).
    pub fn keeps_data(&self) -> bool {
        self.keep || self.user_data_dir
    }

    pub fn timeout(&self) -> Option<Duration> {
        (self.timeout_ms > 0).then(|| Duration::from_millis(self.timeout_ms))
    }
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
