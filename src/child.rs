//! The command `exec` runs: started with its environment, the signals meant
//! for it passed on, and its end turned into an exit code as a shell would.
//!
//! While the command runs, SIGINT, SIGTERM, SIGHUP and SIGQUIT do not stop
//! pgtmp (it has to drop the instance after the command, and the command
//! may still use the database while it handles the signal): they are
//! blocked and read from a signalfd, together with SIGCHLD, so that one
//! blocking read waits for both without a race. The signalfd also says who
//! sent each signal, which decides whether the command still needs it:
//! a terminal's Ctrl-C, Ctrl-\ or hang-up (sent by the kernel) already
//! reached the whole foreground process group, the command included, and
//! so did a signal the command (or a process below it) sent to its group.
//! Everything else, `kill PID` in particular, is passed on. A signal sent
//! to pgtmp's process group from outside it reaches the command directly
//! and once more through pgtmp; nothing can tell such a signal from one
//! sent to pgtmp alone.
//!
//! The signals stay blocked after the command ends, so that pgtmp finishes
//! dropping the instance; the command itself starts with them unblocked
//! (a blocked mask survives exec, and Rust's `Command` leaves it as it is).

use std::ffi::OsString;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Command, ExitStatus};

use nix::sys::signal::{SigSet, Signal};

use crate::error::{EXIT_FAILURE, Error, Result};
use crate::platform::{self, Received, Signals};

/// The signals passed on to the command.
const FORWARDED: [Signal; 4] = [
    Signal::SIGINT,
    Signal::SIGTERM,
    Signal::SIGHUP,
    Signal::SIGQUIT,
];

/// How far up the process tree a signal's sender is followed.
const MAX_DEPTH: usize = 64;

/// Runs `command` with `env` (`None`: unset) and returns how it ended.
pub fn run(command: &[OsString], env: &[(&str, Option<String>)]) -> Result<ExitStatus> {
    let (program, rest) = command.split_first().expect("clap requires a command");
    // pgtmp has a single thread here: blocking them in it blocks them.
    let mut blocked = FORWARDED.to_vec();
    blocked.push(Signal::SIGCHLD);
    let signals = Signals::block(&blocked).map_err(Error::io("block signals for", program))?;

    let mut child = spawn(program, rest, env).map_err(|source| Error::Exec {
        program: program.to_string_lossy().into_owned(),
        source,
    })?;
    let pid = child.id();
    loop {
        if let Some(status) = child.try_wait().map_err(Error::io("wait for", program))? {
            return Ok(status);
        }
        let Some(got) = signals
            .next()
            .map_err(Error::io("read signals for", program))?
        else {
            continue;
        };
        if got.signal != Signal::SIGCHLD && !already_delivered(&got, pid) {
            crate::process::signal(pid, got.signal);
        }
    }
}

/// Starts the command as a shell would: a file that is executable but no
/// binary and has no `#!` line is run by `/bin/sh` (as execvp(3) does).
fn spawn(
    program: &OsString,
    args: &[OsString],
    env: &[(&str, Option<String>)],
) -> std::io::Result<std::process::Child> {
    let command = |program: &std::ffi::OsStr| {
        let mut cmd = Command::new(program);
        // SAFETY: sigprocmask is async-signal-safe and allocates nothing.
        unsafe {
            cmd.pre_exec(|| {
                SigSet::empty()
                    .thread_set_mask()
                    .map_err(std::io::Error::from)
            });
        }
        for (name, value) in env {
            match value {
                Some(v) => cmd.env(name, v),
                None => cmd.env_remove(name),
            };
        }
        cmd
    };
    match command(program).args(args).spawn() {
        Err(e) if e.raw_os_error() == Some(libc::ENOEXEC) => {
            let script = which::which(program).map_err(|_| e)?;
            command("/bin/sh".as_ref()).arg(script).args(args).spawn()
        }
        result => result,
    }
}

/// The command's code, or 128+N for signal N, as shells report it.
pub fn exit_code(status: ExitStatus) -> u8 {
    match (status.code(), status.signal()) {
        (Some(c), _) => c as u8,
        (None, Some(sig)) => (128 + sig) as u8,
        _ => EXIT_FAILURE,
    }
}

/// Whether the command got this signal without our help: sent by the
/// kernel (the terminal), or by the command or a process below it.
fn already_delivered(got: &Received, command: u32) -> bool {
    if got.from_kernel {
        return true;
    }
    let mut pid = got.sender;
    for _ in 0..MAX_DEPTH {
        if pid == command {
            return true;
        }
        match parent(pid) {
            Some(p) if p > 1 => pid = p,
            _ => return false,
        }
    }
    false
}

/// The parent of `pid`.
fn parent(pid: u32) -> Option<u32> {
    platform::stat(pid).ok().flatten().map(|s| s.parent)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_as_a_shell_reports_them() {
        assert_eq!(exit_code(ExitStatus::from_raw(7 << 8)), 7);
        assert_eq!(exit_code(ExitStatus::from_raw(libc::SIGTERM)), 128 + 15);
        assert_eq!(exit_code(ExitStatus::from_raw(libc::SIGINT)), 130);
    }

    #[test]
    fn our_parent_is_found() {
        let me = std::process::id();
        assert_eq!(parent(me), Some(std::os::unix::process::parent_id()));
    }
}
