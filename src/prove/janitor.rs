//! Bounding the space a long run takes. Databases are not dropped while
//! the run is short: the server, with everything in it, is thrown away
//! afterwards, and a DROP costs more than it saves. Past `KEEP` finished
//! databases (each a copy of `test`, some 10 MB with pgTAP), the oldest are
//! dropped in the background, so that a suite of a thousand files does not
//! fill the tmpfs. Those of failing files stay with `--keep-failed`.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Receiver;

use crate::wire::{Connection, Target};

/// Finished databases kept before the oldest are dropped.
pub const KEEP: usize = 24;

/// Drops databases named on `rx`, once more than `KEEP` are waiting,
/// until `done` (the run is over: the server goes with them).
pub fn run(server: &Target, rx: Receiver<String>, done: &AtomicBool) {
    let mut waiting: VecDeque<String> = VecDeque::new();
    let mut conn: Option<Connection> = None;
    for database in rx {
        waiting.push_back(database);
        while waiting.len() > KEEP && !done.load(Ordering::Relaxed) {
            let Some(oldest) = waiting.pop_front() else {
                break;
            };
            if conn.is_none() {
                conn = Connection::connect(server, &[("application_name", "pgtmp-prove")]).ok();
            }
            let Some(c) = conn.as_mut() else { return };
            // FORCE (PostgreSQL 13+) ends a backend that is still on its
            // way out after its file closed the connection.
            let force = major(c) >= 13;
            let sql = format!(
                "DROP DATABASE IF EXISTS \"{}\"{}",
                oldest.replace('"', "\"\""),
                if force { " WITH (FORCE)" } else { "" }
            );
            if c.execute(&sql).is_err() && !force {
                // A backend still leaving: once more, a moment later.
                std::thread::sleep(std::time::Duration::from_millis(50));
                let _ = c.execute(&sql);
            }
        }
    }
    if let Some(c) = conn {
        c.close();
    }
}

fn major(conn: &Connection) -> u32 {
    conn.parameter("server_version")
        .and_then(|v| v.split(|c: char| !c.is_ascii_digit()).next()?.parse().ok())
        .unwrap_or(0)
}
