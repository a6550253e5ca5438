//! One postmaster: its command line, its start, knowing precisely when it
//! is ready, its log, and stopping it. Every path that runs a server (an
//! instance's supervisor, the server that loads a fixture) goes through
//! [`Postmaster`]; every signal to a postmaster comes from here.
//!
//! `pg_ctl -w` polls in 100 ms steps; instead we read the status line that
//! the postmaster writes into `postmaster.pid` (PostgreSQL 10+: `ready` once
//! it accepts connections) every millisecond or so.
//! <https://www.postgresql.org/docs/current/server-start.html>

mod frozen;
mod pidfile;
pub mod private;
mod shutdown;

pub use frozen::Frozen;
pub use pidfile::PidFile;
pub use shutdown::Shutdown;

use std::fs::{self, OpenOptions};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;

use crate::error::{Error, Result, tail};
use crate::process;

/// The file that asks a standby to promote itself (PostgreSQL 12+).
const PROMOTE_SIGNAL: &str = "promote";

/// How a server is to run: the directories and port pgtmp decides, the
/// user's options, and settings of pgtmp's that must win over them.
#[derive(Debug, Clone)]
pub struct Spec<'a> {
    /// The `postgres` binary.
    pub program: PathBuf,
    pub data_dir: &'a Path,
    pub socket_dir: &'a Path,
    /// A second socket directory, where the other servers of a set reach
    /// this one for replication, apart from the clients counted at
    /// `socket_dir`.
    pub stream_dir: Option<&'a Path>,
    pub port: u16,
    /// Listen on 127.0.0.1 too, not only on the socket.
    pub tcp: bool,
    /// `-o`, as given.
    pub user_options: &'a [String],
    /// `-c` settings of pgtmp's own that the user's options may not change:
    /// after them, so they win.
    pub settings: Vec<String>,
    /// Appended to (created if missing).
    pub log: PathBuf,
}

impl Spec<'_> {
    /// The arguments of `postgres`: what pgtmp manages first (`-o` may not
    /// name it, see `server_options`), then the user's options, then
    /// `settings`.
    pub fn args(&self) -> Vec<std::ffi::OsString> {
        let listen = if self.tcp { "127.0.0.1" } else { "" };
        // Several directories are a comma-separated list, each quoted.
        let sockets: std::ffi::OsString = match self.stream_dir {
            None => self.socket_dir.into(),
            Some(stream) => {
                format!("\"{}\",\"{}\"", self.socket_dir.display(), stream.display()).into()
            }
        };
        let mut args: Vec<std::ffi::OsString> = vec![
            "-D".into(),
            self.data_dir.into(),
            "-k".into(),
            sockets,
            "-p".into(),
            self.port.to_string().into(),
            "-c".into(),
            format!("listen_addresses={listen}").into(),
            // The template says so too; a `-d` directory made elsewhere
            // may not. Only the owner connects, wherever the socket is.
            "-c".into(),
            "unix_socket_permissions=0700".into(),
        ];
        args.extend(self.user_options.iter().map(Into::into));
        for setting in &self.settings {
            args.extend(["-c".into(), setting.into()]);
        }
        args
    }
}

/// How a start attempt ended.
#[derive(Debug)]
pub enum Startup {
    Ready,
    Exited(ExitStatus),
    TimedOut,
    Cancelled,
}

/// A running postmaster, our child. Dropped while it still runs, it is
/// shut down immediately: whoever drops it has given up on it.
#[derive(Debug)]
pub struct Postmaster {
    child: Child,
    data_dir: PathBuf,
    log: PathBuf,
    /// The log's length when this server started: its own lines follow.
    log_from: u64,
    exited: Option<ExitStatus>,
}

impl Postmaster {
    /// Spawns the postmaster. It gets SIGQUIT (immediate shutdown) if its
    /// parent dies: no server outlives the process that started it for long.
    pub fn start(spec: &Spec) -> Result<Postmaster> {
        let log_from = fs::metadata(&spec.log).map(|m| m.len()).unwrap_or(0);
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&spec.log)
            .map_err(Error::io("open", &spec.log))?;
        let err = log.try_clone().map_err(Error::io("open", &spec.log))?;
        let mut cmd = Command::new(&spec.program);
        cmd.args(spec.args())
            .env_remove("PGDATA")
            .env_remove("PGPORT")
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(err);
        crate::platform::die_with_parent(&mut cmd, libc::SIGQUIT);
        let child = cmd.spawn().map_err(Error::io("start", &spec.program))?;
        Ok(Postmaster {
            child,
            data_dir: spec.data_dir.to_path_buf(),
            log: spec.log.clone(),
            log_from,
            exited: None,
        })
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// How it ended, once it has (reaping it).
    pub fn exited(&mut self) -> Option<ExitStatus> {
        if self.exited.is_none()
            && let Ok(Some(status)) = self.child.try_wait()
        {
            self.exited = Some(status);
        }
        self.exited
    }

    /// Waits until it says `ready` in `postmaster.pid`, exits, or `timeout`
    /// passes; `cancelled` is asked between polls.
    pub fn wait_ready(&mut self, timeout: Duration, cancelled: &dyn Fn() -> bool) -> Startup {
        let deadline = Instant::now() + timeout;
        let pid = self.pid();
        let mut pause = Duration::from_micros(500);
        loop {
            if let Some(status) = self.exited() {
                return Startup::Exited(status);
            }
            // A stale file names another pid.
            if PidFile::read(&self.data_dir).is_some_and(|f| f.pid == pid && f.ready()) {
                return Startup::Ready;
            }
            if cancelled() {
                return Startup::Cancelled;
            }
            if Instant::now() >= deadline {
                return Startup::TimedOut;
            }
            std::thread::sleep(pause);
            pause = (pause + Duration::from_micros(500)).min(Duration::from_millis(10));
        }
    }

    /// Stops it and returns once it has exited (so nothing deletes a live
    /// data directory), escalating as `shutdown` says. True when it ended
    /// cleanly on the first signal: a fast shutdown then left a checkpoint.
    pub fn stop(&mut self, shutdown: Shutdown) -> bool {
        if self.exited().is_some() {
            return false;
        }
        let pid = self.pid();
        let mut sent = 0;
        let gone = process::escalate(
            &shutdown.steps(),
            |sig| {
                sent += 1;
                process::signal(pid, sig);
            },
            || self.exited().is_some(),
        );
        gone && sent == 1 && self.exited.is_some_and(|s| s.success())
    }

    /// Asks the standby to promote itself, as `pg_ctl promote` does: the
    /// `promote` file in its data directory, then SIGUSR1.
    /// <https://www.postgresql.org/docs/current/warm-standby-failover.html>
    pub fn promote(&self) -> Result<()> {
        let path = self.data_dir.join(PROMOTE_SIGNAL);
        fs::write(&path, "").map_err(Error::io("create", &path))?;
        process::signal(self.pid(), Signal::SIGUSR1);
        Ok(())
    }

    /// What it wrote to its log since it started.
    pub fn log(&self) -> String {
        read_log(&self.log, self.log_from)
    }

    /// The last `n` lines of that.
    pub fn log_tail(&self, n: usize) -> String {
        tail(&self.log(), n)
    }

    /// Whether its log says the port was taken.
    pub fn failed_to_bind(&self) -> bool {
        let text = self.log();
        text.contains("could not bind") || text.contains("Address already in use")
    }
}

impl Drop for Postmaster {
    fn drop(&mut self) {
        if self.exited().is_none() {
            self.stop(Shutdown::immediate(Duration::from_secs(5)));
        }
    }
}

/// The log at `path` from byte `from` on.
pub fn read_log(path: &Path, from: u64) -> String {
    let bytes = fs::read(path).unwrap_or_default();
    let from = (from as usize).min(bytes.len());
    String::from_utf8_lossy(&bytes[from..]).into_owned()
}

/// Signals the postmaster of `data_dir` that is not our child (its
/// supervisor is gone), as its `postmaster.pid` names it.
pub fn signal_orphan(data_dir: &Path, sig: Signal) {
    if let Some(f) = PidFile::read(data_dir) {
        process::signal(f.pid, sig);
    }
}

/// The pid `postmaster.pid` names, if any.
pub fn pid(data_dir: &Path) -> Option<u32> {
    PidFile::read(data_dir).map(|f| f.pid)
}

/// Whether the server of `data_dir` runs, is not stopped (SIGSTOP), and
/// says it is ready.
pub fn serving(data_dir: &Path) -> bool {
    PidFile::read(data_dir).is_some_and(|f| f.ready() && process::responsive(f.pid))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_come_after_the_users_options() {
        let user = vec!["-c".to_string(), "work_mem=64MB".to_string()];
        let spec = Spec {
            program: "postgres".into(),
            data_dir: Path::new("/d"),
            socket_dir: Path::new("/s"),
            stream_dir: None,
            port: 5432,
            tcp: true,
            user_options: &user,
            settings: vec!["autovacuum=off".into()],
            log: "/l".into(),
        };
        let args: Vec<String> = spec
            .args()
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            args,
            [
                "-D",
                "/d",
                "-k",
                "/s",
                "-p",
                "5432",
                "-c",
                "listen_addresses=127.0.0.1",
                "-c",
                "unix_socket_permissions=0700",
                "-c",
                "work_mem=64MB",
                "-c",
                "autovacuum=off"
            ]
        );
    }
}
