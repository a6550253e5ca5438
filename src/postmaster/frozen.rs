//! A server thrown away at once, for a swap (`reaper::swap`): every one
//! of its processes stopped (SIGSTOP) while another server takes its
//! place, then killed (SIGKILL) once the caller has its answer.
//!
//! Why not a shutdown: an immediate shutdown takes 7 to 10 ms here, most
//! of it the processes' exit, which is a hand-out's time; and a postmaster
//! that shuts down unlinks its socket by path as it exits, a path that
//! names the new server's socket by then. A killed one runs no code of its
//! own again. Why stopped first: a stopped process is in no system call
//! (one it was waiting in is interrupted, to be restarted on SIGCONT), so
//! none of them opens a file by its old path once that path leads to the
//! new server (a checkpoint writes `global/pg_control` by absolute path).
//! The postmaster is stopped before its children are listed: stopped, it
//! starts no more of them and reaps none, so their pids stay theirs until
//! they are killed.

use std::time::Duration;

use nix::sys::signal::Signal;

use super::Postmaster;
use crate::{platform, process};

/// How long a process may take to stop on SIGSTOP, or to exit on
/// SIGKILL when it did not stop (an uninterruptible sleep on a slow disk).
const STOP_WAIT: Duration = Duration::from_secs(1);
const KILL_WAIT: Duration = Duration::from_secs(60);

/// A server none of whose processes runs: killed (and the postmaster
/// reaped) when dropped.
#[derive(Debug)]
pub struct Frozen {
    postmaster: Postmaster,
    children: Vec<u32>,
}

impl Frozen {
    /// Stops every process of `postmaster`. Should one not stop in time,
    /// all are killed at once instead and waited for, so that in either
    /// case none of them runs when this returns.
    pub fn freeze(mut postmaster: Postmaster) -> Frozen {
        let pid = postmaster.pid();
        let mut children = Vec::new();
        // Stopped, exited or gone.
        let still = |p: u32| !process::responsive(p);
        let all_stopped = postmaster.exited().is_none() && {
            process::signal(pid, Signal::SIGSTOP);
            process::wait_until(STOP_WAIT, || still(pid)) && {
                children = platform::children(pid);
                for &child in &children {
                    process::signal(child, Signal::SIGSTOP);
                }
                process::wait_until(STOP_WAIT, || children.iter().all(|&c| still(c)))
            }
        };
        let mut frozen = Frozen {
            postmaster,
            children,
        };
        if !all_stopped {
            frozen.kill();
            // The postmaster reaped, its children exited (zombies until
            // reparented and reaped) or gone.
            let Frozen {
                postmaster,
                children,
            } = &mut frozen;
            process::wait_until(KILL_WAIT, || {
                postmaster.exited().is_some() && !children.iter().any(|&c| process::running(c))
            });
        }
        frozen
    }

    /// SIGKILL to the children, then to the postmaster (whose pid stays
    /// its own until it is reaped), each niced first: their exit (a few
    /// milliseconds of the CPU, unmapping their memory) yields to the new
    /// server and its clients.
    pub fn kill(&mut self) {
        if self.postmaster.exited().is_some() {
            return;
        }
        let pid = self.postmaster.pid();
        for &p in self.children.iter().chain([&pid]) {
            process::make_nice(p);
            process::signal(p, Signal::SIGKILL);
        }
        self.children.clear();
    }
}

impl Drop for Frozen {
    fn drop(&mut self) {
        self.kill();
        // Dropping the postmaster then waits for it and reaps it.
    }
}
