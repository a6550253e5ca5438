//! Everything pgtmp needs from the operating system beyond POSIX, behind
//! one contract, so that the rest never says `cfg` and a second platform
//! is one more file beside `linux.rs`. A platform that lacks a capability
//! says so with `Error::Unsupported` (or, for a build, `compile_error!`);
//! nothing here turns a feature off by returning a silent `None`.
//!
//! The contract:
//! - [`die_with_parent`]: a child gets a signal when pgtmp dies, even by
//!   SIGKILL, so no server or initdb outlives the process that waits for it;
//!   it starts with default signal handling, so an inherited SIG_IGN cannot
//!   swallow that signal. [`die_with`] is the same for a forked process.
//! - [`default_signals`], [`reset_signals`]: every signal at its default
//!   action and none blocked, for a child (before exec) or this process.
//! - [`Signals`]: signals blocked and read one by one with their sender,
//!   and whether the kernel (a terminal) sent them (`exec`).
//! - [`stat`]: a process's state (exited, stopped), parent and start
//!   time, which with the pid names a process uniquely.
//! - [`cwd`]: a process's working directory (every postgres works in its
//!   data directory).
//! - [`fd_path`]: a path naming an open directory itself, whatever happens
//!   to its name meanwhile.
//! - [`children`]: the processes a process started and has not reaped.
//! - [`exchange`]: two paths' names swapped in one step, neither missing
//!   at any moment.
//! - [`count_connections`]: connections accepted on a socket path and a
//!   TCP port, without connecting to the server.
//! - [`MAX_SOCKET_PATH`]: the longest Unix-socket path.
//! - [`FAST_DIR`]: a memory-backed directory for data directories.

#[cfg(target_os = "linux")]
mod linux;
#[cfg(target_os = "linux")]
use linux as os;

#[cfg(not(target_os = "linux"))]
compile_error!(
    "pgtmp has no platform module for this OS: add src/platform/<os>.rs implementing the contract of src/platform/mod.rs"
);

pub use os::{
    FAST_DIR, MAX_SOCKET_PATH, Signals, children, count_connections, cwd, default_signals,
    die_with, die_with_parent, exchange, fd_path, reset_signals, stat,
};

/// What the platform says about a running (or dead, unreaped) process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stat {
    /// Exited, but its parent has not reaped it yet (a zombie): it runs
    /// nothing.
    pub exited: bool,
    /// Stopped (SIGSTOP, Ctrl-Z, a debugger): it answers nothing until it
    /// is continued, though its sockets still accept connections.
    pub stopped: bool,
    pub parent: u32,
    /// When it started, in a unit of the platform's: with the pid, it names
    /// a process uniquely.
    pub start_time: u64,
}

/// A signal read from [`Signals`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Received {
    pub signal: nix::sys::signal::Signal,
    /// The kernel sent it (a terminal's Ctrl-C, Ctrl-\ or hang-up), to the
    /// whole foreground process group.
    pub from_kernel: bool,
    /// The sending process, when another process sent it.
    pub sender: u32,
}
