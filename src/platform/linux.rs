//! The Linux side of `platform`: /proc, signalfd, PR_SET_PDEATHSIG and the
//! real-time signals.

use std::fs;
use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use nix::errno::Errno;
use nix::sys::signal::{SigSet, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};

use super::{Received, Stat};
use crate::error::{Error, Result};

/// The longest Unix-socket path Linux accepts (`sun_path` less its NUL).
pub const MAX_SOCKET_PATH: usize = 107;

/// A tmpfs every Linux system mounts.
pub const FAST_DIR: Option<&str> = Some("/dev/shm");

/// `cmd`'s process receives `sig` when this process dies, even by SIGKILL
/// (PR_SET_PDEATHSIG). The signal is tied to the thread that spawns, so
/// spawn from the main thread. It starts with default signal handling: an
/// inherited SIG_IGN would swallow the signal before the program sets a
/// handler of its own (issue 18.4: an orphaned postmaster).
pub fn die_with_parent(cmd: &mut Command, sig: libc::c_int) {
    default_signals(cmd);
    let parent = std::process::id() as libc::pid_t;
    // SAFETY: prctl and getppid are async-signal-safe; nothing allocates.
    unsafe {
        cmd.pre_exec(move || {
            if libc::prctl(libc::PR_SET_PDEATHSIG, sig) != 0 {
                return Err(io::Error::last_os_error());
            }
            // The parent may have died before prctl took effect.
            if libc::getppid() != parent {
                return Err(io::Error::other("the parent process died"));
            }
            Ok(())
        });
    }
}

/// This process (forked, not exec'd) receives `sig` when `parent`, its
/// parent now, dies, even by SIGKILL. False when it has died already.
pub fn die_with(parent: u32, sig: libc::c_int) -> bool {
    // SAFETY: prctl(PR_SET_PDEATHSIG) has no memory-safety preconditions.
    let set = unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, sig) } == 0;
    // The parent may have died before prctl took effect.
    set && std::os::unix::process::parent_id() == parent
}

/// Makes `cmd` start with every signal at its default action and none
/// blocked. A signal ignored when pgtmp started (a background job `cmd &`
/// of a non-interactive shell ignores SIGINT and SIGQUIT) stays ignored
/// across exec(2), and so does a blocked mask: a server or helper started
/// so would never see the parent-death signal or the stop request meant
/// for it. Handlers, unlike SIG_IGN, are reset by exec anyway.
pub fn default_signals(cmd: &mut Command) {
    // Read here: SIGRTMAX() asks the C library, which is not known to be
    // async-signal-safe.
    let last = libc::SIGRTMAX();
    // SAFETY: sigaction(2) and sigprocmask(2) are async-signal-safe, and
    // the closure only uses values on its stack; nothing allocates.
    unsafe {
        cmd.pre_exec(move || {
            reset_signals_up_to(last);
            Ok(())
        });
    }
}

/// Puts every signal of this process back to its default action and
/// unblocks all (see `default_signals`): for pgtmp's own background
/// processes, which are started without a pre-exec hook.
pub fn reset_signals() {
    reset_signals_up_to(libc::SIGRTMAX());
}

/// Up to `last`, the highest real-time signal.
fn reset_signals_up_to(last: libc::c_int) {
    // SAFETY: an all-zero sigaction is SIG_DFL with no flags and an empty
    // mask; sigaction and sigprocmask only read what we pass. Errors (for
    // SIGKILL, SIGSTOP and the C library's reserved signals) change nothing.
    unsafe {
        let default: libc::sigaction = std::mem::zeroed();
        for sig in 1..=last {
            if sig != libc::SIGKILL && sig != libc::SIGSTOP {
                libc::sigaction(sig, &default, std::ptr::null_mut());
            }
        }
        let mut none: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut none);
        libc::sigprocmask(libc::SIG_SETMASK, &none, std::ptr::null_mut());
    }
}

/// `/proc/PID/stat`: None when there is no such process. Without /proc at
/// all (a container that does not mount it) pgtmp cannot tell processes
/// apart, which is an error, not a process that is gone.
pub fn stat(pid: u32) -> Result<Option<Stat>> {
    match fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(text) => Ok(parse_stat(&text)),
        Err(_) if Path::new("/proc/self/stat").exists() => Ok(None),
        Err(_) => Err(Error::Unsupported("reading processes without /proc")),
    }
}

/// `/proc/PID/cwd`: None when there is no such process (or it is not
/// ours to look at); an error without /proc, as for `stat`.
pub fn cwd(pid: u32) -> Result<Option<PathBuf>> {
    match fs::read_link(format!("/proc/{pid}/cwd")) {
        Ok(dir) => Ok(Some(dir)),
        Err(_) if Path::new("/proc/self/cwd").exists() => Ok(None),
        Err(_) => Err(Error::Unsupported("reading processes without /proc")),
    }
}

/// The children of `pid`, from `/proc/PID/task/PID/children` (its main
/// thread's: a postmaster has no other), else from every process's
/// parent in `/proc`. Empty when it is gone.
pub fn children(pid: u32) -> Vec<u32> {
    if let Ok(text) = fs::read_to_string(format!("/proc/{pid}/task/{pid}/children")) {
        return text
            .split_whitespace()
            .filter_map(|p| p.parse().ok())
            .collect();
    }
    let Ok(entries) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|&p| stat(p).ok().flatten().is_some_and(|s| s.parent == pid))
        .collect()
}

/// Swaps the names of `a` and `b` in one step (`renameat2` with
/// `RENAME_EXCHANGE`, Linux 3.15; tmpfs and the usual filesystems): at no
/// moment is either name missing.
pub fn exchange(a: &Path, b: &Path) -> std::io::Result<()> {
    use nix::fcntl::{AT_FDCWD, RenameFlags, renameat2};
    renameat2(AT_FDCWD, a, AT_FDCWD, b, RenameFlags::RENAME_EXCHANGE).map_err(std::io::Error::from)
}

/// A path naming the open directory `dir` itself (`/proc/self/fd/N`), for
/// listing it by path while a link swapped in at its name is not followed.
pub fn fd_path(dir: &impl AsRawFd) -> PathBuf {
    PathBuf::from(format!("/proc/self/fd/{}", dir.as_raw_fd()))
}

/// The fields after the command name, which may hold spaces and
/// parentheses: state (3), parent (4), start time in clock ticks (22).
/// States: Z and X exited; T stopped by a signal, t by a debugger.
fn parse_stat(text: &str) -> Option<Stat> {
    let rest = text.get(text.rfind(')')? + 2..)?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    Some(Stat {
        exited: matches!(fields.first(), Some(&"Z" | &"X")),
        stopped: matches!(fields.first(), Some(&"T" | &"t")),
        parent: fields.get(1)?.parse().ok()?,
        start_time: fields.get(19)?.parse().ok()?,
    })
}

/// Blocked signals, read from a signalfd: one blocking read waits for any
/// of them without a race. Block them while single-threaded.
#[derive(Debug)]
pub struct Signals {
    fd: SignalFd,
}

impl Signals {
    pub fn block(signals: &[Signal]) -> io::Result<Signals> {
        let mut mask = SigSet::empty();
        for &sig in signals {
            mask.add(sig);
        }
        mask.thread_block()?;
        let fd = SignalFd::with_flags(&mask, SfdFlags::SFD_CLOEXEC)?;
        Ok(Signals { fd })
    }

    /// The next signal; None when interrupted or not one we know.
    pub fn next(&self) -> io::Result<Option<Received>> {
        let info = match self.fd.read_signal() {
            Ok(Some(info)) => info,
            Ok(None) | Err(Errno::EINTR) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let Ok(signal) = Signal::try_from(info.ssi_signo as i32) else {
            return Ok(None);
        };
        Ok(Some(Received {
            signal,
            from_kernel: info.ssi_code == libc::SI_KERNEL,
            sender: info.ssi_pid,
        }))
    }
}

/// Connections accepted on the Unix socket `socket` and, if given, on TCP
/// `port`, from the kernel's socket tables: the server side of every
/// accepted Unix-socket connection carries the listening socket's path in
/// /proc/net/unix (state 03, connected), and every accepted TCP connection
/// has the server's port as its local port in /proc/net/tcp{,6} (state 01,
/// established).
pub fn count_connections(socket: &Path, port: Option<u16>) -> Result<i64> {
    let unix = fs::read_to_string("/proc/net/unix")
        .map_err(|_| Error::Unsupported("counting connections without /proc/net"))?;
    let mut n = unix_connections(&unix, &socket.to_string_lossy());
    if let Some(port) = port {
        for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
            if let Ok(text) = fs::read_to_string(table) {
                n += tcp_connections(&text, port);
            }
        }
    }
    Ok(n)
}

/// Connected sockets bound to `path` (the listener itself is state 01).
fn unix_connections(table: &str, path: &str) -> i64 {
    table
        .lines()
        .skip(1)
        .filter(|line| {
            // Num RefCount Protocol Flags Type St Inode Path
            let fields: Vec<&str> = line.split_whitespace().collect();
            fields.get(5) == Some(&"03") && fields.get(7..).is_some_and(|p| p.join(" ") == path)
        })
        .count() as i64
}

/// Established connections whose local port is `port`.
fn tcp_connections(table: &str, port: u16) -> i64 {
    let suffix = format!(":{port:04X}");
    table
        .lines()
        .skip(1)
        .filter(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            fields.get(3) == Some(&"01") && fields.get(1).is_some_and(|l| l.ends_with(&suffix))
        })
        .count() as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    const UNIX: &str = "\
Num       RefCount Protocol Flags    Type St Inode Path
000000009aaaccf2: 00000002 00000000 00010000 0001 01 296316 /dev/shm/p/run/a/.s.PGSQL.5432
000000006e9efb70: 00000003 00000000 00000000 0001 03 295734 /dev/shm/p/run/a/.s.PGSQL.5432
000000006e9efb71: 00000003 00000000 00000000 0001 03 295735
000000006e9efb72: 00000003 00000000 00000000 0001 03 295736 /dev/shm/p/run/b/.s.PGSQL.5432
";

    const TCP: &str = "\
  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:B4C5 00000000:0000 0A 00000000:00000000 00:00000000 00000000   101        0 1 1
   1: 0100007F:B4C5 0100007F:D0A2 01 00000000:00000000 00:00000000 00000000   101        0 2 1
   2: 0100007F:D0A2 0100007F:B4C5 01 00000000:00000000 00:00000000 00000000     0        0 3 1
";

    #[test]
    fn counts_accepted_unix_connections_only() {
        assert_eq!(unix_connections(UNIX, "/dev/shm/p/run/a/.s.PGSQL.5432"), 1);
        assert_eq!(unix_connections(UNIX, "/dev/shm/p/run/c/.s.PGSQL.5432"), 0);
    }

    #[test]
    fn counts_server_side_tcp_connections_only() {
        assert_eq!(tcp_connections(TCP, 0xB4C5), 1);
        assert_eq!(tcp_connections(TCP, 5432), 0);
    }

    #[test]
    fn stat_lines_with_odd_names() {
        let line = "42 (a) b (c)) S 7 42 42 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 1 0 987654 1 1";
        assert_eq!(
            parse_stat(line),
            Some(Stat {
                exited: false,
                stopped: false,
                parent: 7,
                start_time: 987654
            })
        );
        let zombie = "9 (x) Z 1 9 9 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 1 0 55 0 0";
        assert!(parse_stat(zombie).unwrap().exited);
        let stopped = "9 (x) T 1 9 9 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 1 0 55 0 0";
        let traced = "9 (x) t 1 9 9 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 1 0 55 0 0";
        assert!(parse_stat(stopped).unwrap().stopped);
        assert!(parse_stat(traced).unwrap().stopped && !parse_stat(traced).unwrap().exited);
    }

    #[test]
    fn we_have_a_parent_and_a_start_time() {
        let me = stat(std::process::id()).unwrap().unwrap();
        assert_eq!(me.parent, std::os::unix::process::parent_id());
        assert!(!me.exited && !me.stopped);
        let here = std::env::current_dir().unwrap();
        assert_eq!(cwd(std::process::id()).unwrap(), Some(here));
    }
}
