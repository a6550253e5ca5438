//! Connections that came and went between two looks of the supervisor.
//!
//! The kernel's socket tables (`clients`) show only the connections open
//! at the moment of a look: a test suite whose tests each open a short
//! connection would look idle and lose its server mid-run. So every server
//! runs with `log_connections`, and the server itself writes a
//! `connection received:` line for each connection it accepts, before
//! authentication, on PostgreSQL 13 to 18 alike; the supervisor reads only
//! what the log grew by since its last look. No connection of our own
//! (which `pg_stat_database.sessions`, 14+ only, would need), no polling
//! of the server. <https://www.postgresql.org/docs/current/runtime-config-logging.html#GUC-LOG-CONNECTIONS>
//!
//! Where the lines do not reach `server.log` (`-o` sending the log
//! elsewhere, or translating it with `lc_messages`), only connections open
//! at a look count, as before.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

/// What the server logs for every connection it accepts.
const NEEDLE: &[u8] = b"connection received: ";
/// How much of the log one read takes at most.
const CHUNK: usize = 64 * 1024;

/// The `-c` settings that make the server log every connection: from 18,
/// `receipt` logs just the line we look for (`on` would add two more).
pub fn settings(data_dir: &Path) -> &'static [&'static str] {
    let major = std::fs::read_to_string(data_dir.join("PG_VERSION"))
        .ok()
        .and_then(|v| v.trim().parse::<u32>().ok())
        .unwrap_or(0);
    if major >= 18 {
        &["log_connections=receipt"]
    } else {
        &["log_connections=on"]
    }
}

/// A reader of an instance's server log that remembers how far it got.
#[derive(Debug)]
pub struct Arrivals {
    path: PathBuf,
    offset: u64,
}

impl Arrivals {
    /// Connections logged from now on in `path` (what it holds already is
    /// past): the log of one server of an instance (a set's replicas log
    /// apart).
    pub fn in_log(path: PathBuf) -> Arrivals {
        let offset = len(&path);
        Arrivals { path, offset }
    }

    /// Forgets what the log grew by: the caller knows it is busy anyway.
    pub fn skip(&mut self) {
        self.offset = len(&self.path);
    }

    /// Whether a connection arrived since the last look.
    pub fn any(&mut self) -> bool {
        let end = len(&self.path);
        if end < self.offset {
            self.offset = 0; // the log was truncated
        }
        if end == self.offset {
            return false;
        }
        let Ok(mut file) = File::open(&self.path) else {
            return false;
        };
        if file.seek(SeekFrom::Start(self.offset)).is_err() {
            return false;
        }
        let mut buf = vec![0; CHUNK];
        // Bytes kept from the previous chunk, so that a line split between
        // two reads is still found.
        let mut kept = 0;
        while self.offset < end {
            let want = (CHUNK - kept).min((end - self.offset) as usize);
            let n = match file.read(&mut buf[kept..kept + want]) {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            self.offset += n as u64;
            let filled = kept + n;
            if contains(&buf[..filled], NEEDLE) {
                self.skip();
                return true;
            }
            kept = filled.min(NEEDLE.len() - 1);
            buf.copy_within(filled - kept..filled, 0);
        }
        // The partial line at the end is read again next time.
        self.offset -= kept as u64;
        false
    }
}

fn len(path: &Path) -> u64 {
    std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::instance::meta::SERVER_LOG;
    use std::io::Write;

    #[test]
    fn sees_only_connections_logged_since_the_last_look() {
        let dir = std::env::temp_dir().join(format!("pgtmp-arrivals-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(SERVER_LOG);
        let log = |text: &str| {
            let mut f = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&path)
                .unwrap();
            f.write_all(text.as_bytes()).unwrap();
        };
        log("LOG:  connection received: host=[local]\nLOG:  database system is ready\n");
        let mut arrivals = Arrivals::in_log(path.clone());
        assert!(!arrivals.any(), "what was logged before is past");
        log("LOG:  checkpoint starting: time\n");
        assert!(!arrivals.any());
        // A line written in two pieces, read in between.
        log("2024-01-01 LOG:  connection rec");
        assert!(!arrivals.any());
        log("eived: host=127.0.0.1 port=5555\n");
        assert!(arrivals.any());
        assert!(!arrivals.any(), "each connection is seen once");
        // More than one read's worth, the line at the end.
        log(&"x".repeat(3 * CHUNK + 7));
        log("LOG:  connection received: host=[local]\n");
        assert!(arrivals.any());
        log("LOG:  connection received: host=[local]\n");
        arrivals.skip();
        assert!(!arrivals.any(), "skipped");
        // Truncated: read from the start again.
        std::fs::write(&path, "LOG:  connection received: host=[local]\n").unwrap();
        assert!(arrivals.any());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
