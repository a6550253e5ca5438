//! What `pgtmp list` shows of a proxy: its clients (the pid it gave them,
//! who they are, what they are doing) and its sessions. Kept in a JSON
//! file next to the instance's, rewritten (atomically) when it changes.

use std::path::Path;
use std::time::UNIX_EPOCH;

use super::engine::Engine;

pub use crate::json::{
    SharedTx as Status, SharedTxClient as ClientRow, SharedTxSession as SessionRow,
};

/// A snapshot of `engine` for `pgtmp list`.
pub fn of(engine: &Engine) -> Status {
    let secs = |t: std::time::SystemTime| {
        t.duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0)
    };
    let clients = engine
        .clients
        .values()
        .filter(|c| c.pid != 0)
        .map(|c| {
            let session = c.session.and_then(|s| engine.sessions.get(&s));
            let owner = session.is_some_and(|s| s.owner == Some(c.id));
            let waiting = session.is_some_and(|s| s.waiters.iter().any(|w| w.0 == c.id));
            ClientRow {
                pid: c.pid,
                user: c.user.clone(),
                database: c.database.clone(),
                application_name: c.view.get("application_name").cloned().unwrap_or_default(),
                addr: c.conn.stream.peer(),
                state: if c.ready() {
                    c.state(owner, waiting).to_string()
                } else {
                    "starting".to_string()
                },
                connected: secs(c.connected),
            }
        })
        .collect();
    let sessions = engine
        .sessions
        .values()
        .map(|s| SessionRow {
            database: s.database.clone(),
            backend_pid: s.pid,
            owner: s.owner.and_then(|o| engine.clients.get(&o)).map(|c| c.pid),
            waiting: s.waiters.len(),
            test: s.test.clone(),
            since: secs(s.since),
        })
        .collect();
    Status {
        pid: std::process::id(),
        clients,
        sessions,
    }
}

/// What the proxy of an instance last wrote, if it runs.
pub fn read(path: &Path) -> Option<Status> {
    serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()
}

/// Writes through a temporary file and a rename.
pub fn write(status: &Status, path: &Path) -> std::io::Result<()> {
    let tmp = path.with_extension("tmp");
    let text = serde_json::to_string(status).expect("status serializes");
    std::fs::write(&tmp, text)?;
    std::fs::rename(&tmp, path)
}
