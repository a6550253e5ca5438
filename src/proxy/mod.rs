//! The shared-transaction proxy (`pgtmp --shared-tx`): every connection
//! through its URL shares one server transaction, so that a test suite's
//! own connections and the application it drives see each other's data,
//! and `pgtmp rollback` (or `ROLLBACK TEST 'name'`) throws all of it away
//! while every connection stays open.
//!
//! Layers, each using only those below it: `wire` (the protocol's
//! messages), `sql` (splitting and classifying statements), `auth`
//! (SCRAM), `net` (buffered connections), `engine` (clients, sessions and
//! the translation between them), `serve` (the event loop).

pub mod auth;
pub mod config;
pub mod engine;
#[cfg(test)]
mod fuzz;
pub mod net;
pub mod serve;
pub mod sql;
pub mod status;
pub mod wire;

pub use config::Config;

/// `pgtmp __proxy CONFIG`: the proxy's process.
pub const PROXY: &str = "__proxy";

use crate::error::{Error, Result};

/// `PGTMP_PROXY_TRACE=1`: every message in and out, in the log.
pub fn tracing() -> bool {
    static ON: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *ON.get_or_init(|| std::env::var_os("PGTMP_PROXY_TRACE").is_some_and(|v| v != "0"))
}

/// A line in the proxy's log (its stderr).
pub fn log(msg: &str) {
    crate::say!(
        "{} pgtmp-proxy[{}]: {msg}",
        crate::instance::meta::now_secs(),
        std::process::id()
    );
}

/// `pgtmp __proxy CONFIG`: binds, says `ready` on stdout, serves until
/// SIGTERM.
pub fn run(config_path: &std::path::Path) -> Result<()> {
    let text = std::fs::read_to_string(config_path).map_err(Error::io("read", config_path))?;
    let config: Config = serde_json::from_str(&text).map_err(|e| Error::Metadata {
        action: "read",
        path: config_path.to_path_buf(),
        reason: e.to_string(),
    })?;
    let listeners =
        serve::Listeners::bind(&config).map_err(Error::io("listen on", config.socket_path()))?;
    // There from the start, for a `pgtmp list` right after the hand-out
    // (the loop rewrites it at most every 200 ms).
    if let Some(path) = &config.status_file {
        let empty = status::Status {
            pid: std::process::id(),
            ..Default::default()
        };
        status::write(&empty, path).map_err(Error::io("write", path))?;
    }
    {
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "ready").and_then(|()| out.flush());
    }
    serve::serve(config, listeners).map_err(Error::io("serve on", config_path))
}
