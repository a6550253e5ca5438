//! What a starter and the supervisor it starts (`pgtmp __supervise DIR`)
//! agree on: the descriptors the supervisor inherits and the one line it
//! reports on the readiness pipe. Both sides use these; neither knows the
//! other's code.

use std::os::fd::RawFd;

use serde::{Deserialize, Serialize};

/// The hidden subcommand that runs a supervisor.
pub const SUPERVISE: &str = "__supervise";

/// The instance lock, inherited by the postmaster and every backend.
pub const LOCK_FD: RawFd = 3;
/// The write end of the readiness pipe.
pub const READY_FD: RawFd = 4;
/// The read end of the acknowledgement pipe: the starter writes `ACK` once
/// the URL is printed.
pub const ACK_FD: RawFd = 5;
pub const ACK: &[u8] = b"delivered\n";

/// What the supervisor tells the starter, one line on the pipe.
#[derive(Debug, Serialize, Deserialize)]
pub enum Report {
    Ready {
        url: String,
    },
    Failed {
        reason: String,
        log: String,
        hint: Option<String>,
        /// The failure was for want of disk space.
        #[serde(default)]
        disk_full: bool,
    },
}
