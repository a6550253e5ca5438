//! Orders to a running instance's supervisor (`pgtmp promote`, `pgtmp
//! restart`, `pgtmp reset`, `pgtmp snapshot`) and its answers: one JSON line each way over a Unix socket
//! in the instance's private socket directory. Only the supervisor may stop
//! and start its servers: it is their parent, and it takes any server that
//! exits without its asking for the whole instance's end.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::meta::Meta;
use crate::error::{Error, Result};

/// The socket's name in the socket directory of the instance's first server.
pub const CONTROL_SOCKET: &str = "pgtmp.sock";

/// What the supervisor is asked to do.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub enum Order {
    /// Make replica `node` the primary (see `reaper::orders`).
    Promote { node: String },
    /// Restart server `node`, or every server when None; with `options`,
    /// they replace the servers' `-o` options.
    Restart {
        node: Option<String>,
        options: Option<Vec<String>>,
    },
    /// Restart the server on `data`, a fresh copy of its template made
    /// beside the data directory, in place of the data it has.
    Reset { data: PathBuf },
    /// Put the spare in `spare` (a sibling instance directory, claimed by
    /// the caller) in this instance's place: freeze the server, make the
    /// URL's directory a link to the spare's, so that the URL reaches the
    /// spare's server, answer, kill the frozen server; then end.
    Swap { spare: PathBuf },
    /// Pause the server (a fast shutdown), copy its data directory to
    /// `into`, and start it again.
    Snapshot { into: PathBuf },
}

/// What the supervisor answers.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum Answer {
    Done,
    Failed {
        reason: String,
        log: String,
        hint: Option<String>,
        #[serde(default)]
        disk_full: bool,
    },
}

/// Sends `order` to the supervisor of the instance in `dir` and waits up to
/// `timeout` for its answer; a failure it reports is an `Error::Request`
/// for `action`.
pub fn send(dir: &Path, meta: &Meta, order: &Order, action: &str, timeout: Duration) -> Result<()> {
    let unreachable = |reason: String| Error::Supervisor {
        dir: dir.to_path_buf(),
        reason,
    };
    let Some(path) = &meta.control else {
        return Err(Error::NoControl(dir.to_path_buf()));
    };
    let mut stream =
        UnixStream::connect(path).map_err(|e| unreachable(format!("{}: {e}", path.display())))?;
    let line = serde_json::to_string(order).expect("orders serialize");
    stream
        .set_read_timeout(Some(timeout))
        .and_then(|()| writeln!(stream, "{line}"))
        .map_err(|e| unreachable(e.to_string()))?;
    let mut reply = String::new();
    BufReader::new(&stream)
        .read_line(&mut reply)
        .map_err(|e| unreachable(format!("no answer: {e}")))?;
    match serde_json::from_str::<Answer>(reply.trim()) {
        Ok(Answer::Done) => Ok(()),
        Ok(Answer::Failed {
            reason,
            log,
            hint,
            disk_full,
        }) => Err(Error::Request {
            action: action.to_string(),
            reason,
            log,
            hint,
            disk_full,
        }),
        // EOF: it died, or stopped the instance, while carrying it out.
        Err(_) => Err(unreachable(
            "it ended without answering (the instance may have stopped)".into(),
        )),
    }
}
