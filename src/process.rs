//! Processes and identities: who we run as, signalling, liveness, and
//! detaching background helpers.
//!
//! PostgreSQL refuses to run as root, so as root pgtmp drops to an ordinary
//! account (`postgres`, else `nobody`, or `--run-as`) before it touches any
//! file, while still single-threaded; everything it starts inherits that.

use std::os::fd::{FromRawFd, OwnedFd, RawFd};
use std::os::unix::process::CommandExt;
use std::process::Command;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::{Gid, Pid, Uid, User};

use crate::error::{Error, Result, RunAsProblem};
use crate::platform;

/// Who pgtmp acts for and as.
#[derive(Debug, Clone)]
pub struct Identity {
    /// The invoking user's uid (names the base directory).
    pub uid: u32,
    /// The PostgreSQL superuser: the invoking user's login name, so that
    /// `psql` and libpq default to it.
    pub role: String,
    /// As root: the account PostgreSQL runs as.
    pub run_as: Option<User>,
}

impl Identity {
    /// `base_owner`: as root, the account an existing base directory was
    /// made for (root's marker in it says so), to keep using unless
    /// `--run-as` says otherwise.
    pub fn resolve(run_as: Option<&str>, base_owner: Option<u32>) -> Result<Identity> {
        let uid = Uid::current();
        let role = login_name();
        let run_as = if Uid::effective().is_root() {
            Some(pick_account(run_as, base_owner)?)
        } else if let Some(name) = run_as {
            return Err(Error::RunAs(RunAsProblem::NotRoot(name.to_string())));
        } else {
            None
        };
        Ok(Identity {
            uid: uid.as_raw(),
            role,
            run_as,
        })
    }

    /// The uid and gid that will own the files.
    pub fn owner(&self) -> (u32, u32) {
        match &self.run_as {
            Some(u) => (u.uid.as_raw(), u.gid.as_raw()),
            None => (Uid::effective().as_raw(), Gid::effective().as_raw()),
        }
    }

    /// As root, become the `--run-as` account for good. Must run before any
    /// thread exists (setuid affects only the calling thread's credentials
    /// in the kernel; glibc broadcasts it, but we never rely on that).
    pub fn drop_privileges(&self) -> Result<()> {
        let Some(user) = &self.run_as else {
            return Ok(());
        };
        if Uid::effective() == user.uid {
            return Ok(()); // dropped already, by an earlier call
        }
        let fail = |step: &'static str, errno: nix::Error| {
            Error::RunAs(RunAsProblem::Switch {
                name: user.name.clone(),
                step,
                errno,
            })
        };
        nix::unistd::setgroups(&[user.gid]).map_err(|e| fail("setgroups", e))?;
        nix::unistd::setgid(user.gid).map_err(|e| fail("setgid", e))?;
        nix::unistd::setuid(user.uid).map_err(|e| fail("setuid", e))?;
        Ok(())
    }
}

/// The invoking user's login name (`uidN` without a passwd entry): the
/// role every instance has, which libpq and the drivers default to.
pub fn login_name() -> String {
    let uid = Uid::current();
    User::from_uid(uid)
        .ok()
        .flatten()
        .map(|u| u.name)
        .unwrap_or_else(|| format!("uid{uid}"))
}

/// The uid root runs PostgreSQL as when no base directory says otherwise:
/// the `--run-as` account, else `postgres`, else `nobody`.
pub fn default_account(requested: Option<&str>) -> Result<u32> {
    pick_account(requested, None).map(|u| u.uid.as_raw())
}

fn pick_account(requested: Option<&str>, base_owner: Option<u32>) -> Result<User> {
    let lookup = |name: &str| User::from_name(name).ok().flatten();
    let owner = base_owner.and_then(|uid| User::from_uid(Uid::from_raw(uid)).ok().flatten());
    let no_such_user = |name: &str| Error::RunAs(RunAsProblem::NoSuchUser(name.to_string()));
    if let Some(name) = requested
        && lookup(name).is_none()
    {
        return Err(no_such_user(name));
    }
    if let (Some(name), Some(owner)) = (requested, &owner)
        && owner.name != name
    {
        return Err(Error::RunAs(RunAsProblem::Owner {
            name: name.to_string(),
            owner: owner.name.clone(),
        }));
    }
    let user = match requested {
        None if owner.is_some() => owner.expect("checked"),
        Some(name) => lookup(name).ok_or_else(|| no_such_user(name))?,
        None => lookup("postgres")
            .or_else(|| lookup("nobody"))
            .ok_or(Error::RunAs(RunAsProblem::NoAccount))?,
    };
    if user.uid.is_root() {
        return Err(Error::RunAs(RunAsProblem::Root(user.name)));
    }
    Ok(user)
}

/// Whether a process with this pid exists and has not exited: a zombie,
/// which its parent (in a container often a PID 1 that reaps late, or
/// never) has not collected yet, runs nothing.
pub fn alive(pid: u32) -> bool {
    match kill(Pid::from_raw(pid as i32), None) {
        Ok(()) | Err(nix::errno::Errno::EPERM) => !zombie(pid),
        Err(_) => false,
    }
}

/// Whether `pid` has exited and is not reaped yet (a zombie).
pub fn zombie(pid: u32) -> bool {
    stat(pid).is_some_and(|s| s.exited)
}

/// What the platform says of `pid`; None when it is gone, or when the
/// platform cannot tell (which `start_time` reports as an error).
fn stat(pid: u32) -> Option<platform::Stat> {
    platform::stat(pid).ok().flatten()
}

/// Sends `sig`, ignoring a process that is already gone.
pub fn signal(pid: u32, sig: Signal) {
    let _ = kill(Pid::from_raw(pid as i32), sig);
}

/// The start time of a process (`platform::Stat`): with the pid, it names
/// a process uniquely. None when there is no such process; an error where
/// the platform cannot tell, since the claims and owner checks built on it
/// would otherwise silently fail.
pub fn start_time(pid: u32) -> Result<Option<u64>> {
    Ok(platform::stat(pid)?.map(|s| s.start_time))
}

/// Whether `pid` exists and is not a zombie (a killed child its parent has
/// not reaped yet still has a pid).
pub fn running(pid: u32) -> bool {
    stat(pid).is_some_and(|s| !s.exited)
}

/// Whether `pid` exists and can answer now: not a zombie, and not stopped
/// (state `T` after SIGSTOP or Ctrl-Z, `t` under a debugger), which a
/// server may stay for ever while its socket still accepts connections.
pub fn responsive(pid: u32) -> bool {
    stat(pid).is_some_and(|s| !s.exited && !s.stopped)
}

/// Whether `pid` is running and is the process that started at `start`.
pub fn running_since(pid: u32, start: u64) -> bool {
    stat(pid).is_some_and(|s| !s.exited && s.start_time == start)
}

/// Whether `pid` is the process that started at `start` and can answer now
/// (see `responsive`).
pub fn responsive_since(pid: u32, start: u64) -> bool {
    stat(pid).is_some_and(|s| !s.exited && !s.stopped && s.start_time == start)
}

/// Polls `done` until it holds or `timeout` passes; true if it held.
/// Every half millisecond at first (what is waited for here, a server's
/// immediate shutdown say, often ends within a few, with a caller
/// waiting), then backing off to every 10 ms.
pub fn wait_until(timeout: Duration, mut done: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    let deadline = start + timeout;
    let mut pause = Duration::from_micros(500);
    loop {
        if done() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(pause);
        if start.elapsed() >= Duration::from_millis(10) {
            pause = (pause * 2).min(Duration::from_millis(10));
        }
    }
}

/// Polls `done` every `step` until it holds or `timeout` passes; true if
/// it held. For a wait whose end someone is waiting on (no backoff).
pub fn wait_every(timeout: Duration, step: Duration, mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if done() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(step);
    }
}

/// Termination as data: sends each step's signal through `send`, then
/// waits up to the step's time for `gone`. True once gone; false when the
/// last step's wait ran out.
pub fn escalate(
    steps: &[(Signal, Duration)],
    mut send: impl FnMut(Signal),
    mut gone: impl FnMut() -> bool,
) -> bool {
    for &(sig, wait) in steps {
        send(sig);
        if wait_until(wait, &mut gone) {
            return true;
        }
    }
    false
}

/// Makes `cmd` start in its own session (no controlling terminal, immune to
/// the caller's hangup and Ctrl-C) with each of `fds` at the number given,
/// and with default signal handling (`platform::default_signals`). The
/// descriptors are first duplicated above the highest target so that
/// placing one cannot overwrite another, and dup2(2) leaves the placed ones
/// inheritable.
pub fn detach(cmd: &mut Command, fds: &[(RawFd, RawFd)]) -> std::io::Result<Vec<OwnedFd>> {
    let mut moved = Vec::new();
    let mut plan = Vec::new();
    // Above every target: placing one then never overwrites another.
    let above = fds.iter().map(|&(_, to)| to + 1).max().unwrap_or(0);
    for &(from, to) in fds {
        // SAFETY: F_DUPFD_CLOEXEC returns a new descriptor we then own.
        let high = unsafe { libc::fcntl(from, libc::F_DUPFD_CLOEXEC, above) };
        if high < 0 {
            return Err(std::io::Error::last_os_error());
        }
        // SAFETY: `high` is a fresh descriptor owned by nobody else.
        moved.push(unsafe { OwnedFd::from_raw_fd(high) });
        plan.push((high, to));
    }
    platform::default_signals(cmd);
    // SAFETY: between fork and exec only async-signal-safe calls are made:
    // setsid(2) and dup2(2), and nothing allocates.
    unsafe {
        cmd.pre_exec(move || {
            if libc::setsid() < 0 {
                return Err(std::io::Error::last_os_error());
            }
            for &(from, to) in &plan {
                if libc::dup2(from, to) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
            }
            Ok(())
        });
    }
    // The caller drops these after spawning.
    Ok(moved)
}

/// Lowers this process's CPU priority: background work must not slow the
/// hand-outs it prepares.
pub fn be_nice() {
    make_nice(0);
}

/// Lowers the CPU priority of process `pid` (0: this one), as `be_nice`
/// does: its work (say, a killed server's exit) yields to what a caller
/// waits for.
pub fn make_nice(pid: u32) {
    // SAFETY: setpriority has no memory-safety preconditions.
    unsafe {
        libc::setpriority(libc::PRIO_PROCESS, pid as libc::id_t, 19);
    }
}

/// Makes the calling process the leader of a new session (for processes
/// started without `detach`).
pub fn new_session() {
    let _ = nix::unistd::setsid();
}

/// Puts an inherited descriptor back to close-on-exec, so the next program
/// started does not inherit it.
pub fn set_cloexec(fd: RawFd) {
    // SAFETY: fcntl on an fd number has no memory-safety preconditions.
    unsafe {
        libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn we_are_alive_and_have_a_start_time() {
        let me = std::process::id();
        assert!(alive(me) && running(me) && !zombie(me));
        let start = start_time(me).unwrap().unwrap();
        assert!(running_since(me, start) && !running_since(me, start + 1));
    }
}
