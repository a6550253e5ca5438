//! `postmaster.pid`, the server's own record of itself and the one place
//! pgtmp learns a postmaster's pid, readiness and shared memory from.
//! <https://www.postgresql.org/docs/current/storage-file-layout.html>
//!
//! Line 1 is the pid, line 7 the System V shared memory key and id, and
//! line 8 (PostgreSQL 10+) the status: `starting`, `stopping`, `ready` or
//! `standby`, `ready` once the server accepts connections. A stale file
//! (a server that was killed) names a pid that is not the current server.

use std::path::Path;

/// What pgtmp reads from a data directory's `postmaster.pid`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PidFile {
    /// The process, positive also for a single-user `postgres`, which
    /// writes its pid negated.
    pub pid: u32,
    /// Written by a single-user `postgres` (the negated pid).
    pub single_user: bool,
    /// The System V shared memory segment id (line 7), if one is recorded.
    pub shmem_id: Option<i32>,
    /// Line 8; empty until the server writes it.
    pub status: String,
}

impl PidFile {
    /// The file of `data_dir`; None when there is none or it is unreadable.
    pub fn read(data_dir: &Path) -> Option<PidFile> {
        PidFile::parse(&std::fs::read_to_string(data_dir.join("postmaster.pid")).ok()?)
    }

    fn parse(text: &str) -> Option<PidFile> {
        let lines: Vec<&str> = text.lines().collect();
        let recorded: i64 = lines.first()?.trim().parse().ok()?;
        let pid = u32::try_from(recorded.unsigned_abs())
            .ok()
            .filter(|&p| p > 0)?;
        let shmem_id = lines
            .get(6)
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|id| id.parse().ok());
        let status = lines.get(7).map(|l| l.trim()).unwrap_or_default();
        Some(PidFile {
            pid,
            single_user: recorded < 0,
            shmem_id,
            status: status.to_string(),
        })
    }

    /// The server says it accepts connections.
    pub fn ready(&self) -> bool {
        self.status == "ready"
    }
}

#[cfg(test)]
mod tests {
    use super::PidFile;

    #[test]
    fn reads_pid_segment_and_status() {
        let f = PidFile::parse(
            "4242\n/data\n1700000000\n5432\n/run/x\n\n 10707270   6488112\nready   \n",
        )
        .unwrap();
        assert_eq!(f.pid, 4242);
        assert_eq!(f.shmem_id, Some(6488112));
        assert!(f.ready());
        let starting = PidFile::parse("77\n/data\n1\n5432\n/run/x\n\n").unwrap();
        assert_eq!((starting.shmem_id, starting.ready()), (None, false));
        assert_eq!(PidFile::parse("garbage\n"), None);
        let single = PidFile::parse("-4243\n/data\n1\n0\n\n\n 10707270   6488113\n").unwrap();
        assert_eq!((single.pid, single.single_user), (4243, true));
        assert_eq!(single.shmem_id, Some(6488113));
    }
}
