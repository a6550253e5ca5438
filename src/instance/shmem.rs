//! The System V shared memory segment of a server that did not shut down.
//!
//! PostgreSQL keeps a small SysV segment as an interlock and removes it on
//! every orderly exit, immediate shutdown included. A postmaster killed with
//! SIGKILL leaves it behind for good: its key is derived from the data
//! directory, which pgtmp then deletes, so no later server ever reclaims it,
//! and every such segment counts against the system-wide `SHMMNI` limit
//! (4096 by default), past which no server starts at all.
//! <https://www.postgresql.org/docs/current/kernel-resources.html>
//!
//! A leftover `postmaster.pid` names the segment (line 7: key and id); the
//! segment's creator pid, which must be the postmaster's (line 1), proves it
//! is still that server's segment and not a newer one that reused the id.

use std::path::Path;
use std::time::Duration;

use crate::postmaster::PidFile;

/// How long the dead postmaster's children may take to notice and detach.
const DETACH_WAIT: Duration = Duration::from_secs(10);

/// Marks the segment of the dead server in `data_dir` for removal, then
/// waits until it is gone, that is until the server's last process (a
/// backend, the checkpointer) has exited: only then may the data directory
/// be deleted under them. Does nothing after a clean shutdown, which
/// removes `postmaster.pid` and the segment itself.
pub fn release(data_dir: &Path) {
    let Some((pid, id)) = segment(data_dir) else {
        return;
    };
    // A kept data directory may run again, under a new postmaster.
    if crate::process::alive(pid as u32) {
        return;
    }
    match creator(id) {
        Some(cpid) if cpid == pid => {}
        _ => return,
    }
    // SAFETY: IPC_RMID takes no buffer; the call only names a segment id.
    unsafe {
        libc::shmctl(id, libc::IPC_RMID, std::ptr::null_mut());
    }
    // The kernel destroys a removed segment when its last user detaches;
    // until then IPC_STAT still answers for it.
    crate::process::wait_until(DETACH_WAIT, || creator(id) != Some(pid));
}

/// The postmaster pid and the segment id recorded in `postmaster.pid`. A
/// single-user `postgres` (the template's `CREATE DATABASE`) writes its
/// pid negated, and its segment is released the same way.
fn segment(data_dir: &Path) -> Option<(i32, i32)> {
    let file = PidFile::read(data_dir)?;
    Some((i32::try_from(file.pid).ok()?, file.shmem_id?))
}

/// The pid that created segment `id`, while it exists and we may see it.
fn creator(id: i32) -> Option<i32> {
    // SAFETY: shmid_ds is plain old data; all-zero is a valid value.
    let mut ds: libc::shmid_ds = unsafe { std::mem::zeroed() };
    // SAFETY: IPC_STAT writes one shmid_ds into the buffer we own.
    let rc = unsafe { libc::shmctl(id, libc::IPC_STAT, &mut ds) };
    (rc == 0).then_some(ds.shm_cpid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_segment_line_of_postmaster_pid() {
        let dir = std::env::temp_dir().join(format!("pgtmp-shmem-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("postmaster.pid"),
            "4242\n/data\n1700000000\n5432\n/run/x\n\n 10707270   6488112\nready   \n",
        )
        .unwrap();
        assert_eq!(segment(&dir), Some((4242, 6488112)));
        // Single-user mode.
        std::fs::write(
            dir.join("postmaster.pid"),
            "-4243\n/data\n1700000000\n0\n\n\n 10707270   6488113\n",
        )
        .unwrap();
        assert_eq!(segment(&dir), Some((4243, 6488113)));
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(segment(&dir), None);
    }
}
