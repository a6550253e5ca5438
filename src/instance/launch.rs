//! Starting `postgres` directly and knowing, precisely, when it is ready.
//!
//! `pg_ctl -w` polls in 100 ms steps; instead we read the status line that
//! the postmaster writes into `postmaster.pid` (PostgreSQL 10+: `ready` once
//! it accepts connections) every millisecond or so.
//! <https://www.postgresql.org/docs/current/server-start.html>

use std::fs::{self, OpenOptions};
use std::net::{Ipv4Addr, TcpListener};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use super::meta::{Meta, SERVER_LOG};
use crate::error::{Error, Result};

/// The port of socket-only instances: their socket directory is private,
/// so every instance can use the default and the URL needs no port.
pub const SOCKET_PORT: u16 = 5432;

/// How a start attempt ended.
#[derive(Debug)]
pub enum Startup {
    Ready,
    Exited(ExitStatus),
    TimedOut,
    Cancelled,
}

/// Spawns the postmaster for `meta`, logging to `server.log`. On Linux it
/// gets SIGQUIT (immediate shutdown) if its parent, the supervisor, dies:
/// no server outlives its supervisor for long.
pub fn spawn(meta: &Meta, dir: &Path) -> Result<Child> {
    let log_path = dir.join(SERVER_LOG);
    let log = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log_path)
        .map_err(Error::io("open", &log_path))?;
    let err = log.try_clone().map_err(Error::io("open", &log_path))?;
    let listen = if meta.tcp { "127.0.0.1" } else { "" };
    let mut cmd = Command::new(meta.bindir.join("postgres"));
    cmd.arg("-D")
        .arg(&meta.data_dir)
        .arg("-k")
        .arg(&meta.socket_dir)
        .arg("-p")
        .arg(meta.port.to_string())
        .arg("-c")
        .arg(format!("listen_addresses={listen}"))
        // The template says so too; a `-d` directory made elsewhere may not.
        .args(["-c", "unix_socket_permissions=0700"])
        .args(&meta.server_options)
        .env_remove("PGDATA")
        .env_remove("PGPORT")
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(err);
    crate::process::die_with_parent(&mut cmd, libc::SIGQUIT);
    cmd.spawn()
        .map_err(Error::io("start", meta.bindir.join("postgres")))
}

/// Waits until `child` says `ready` in `postmaster.pid`, exits, or `timeout`
/// passes; `cancelled` is asked between polls.
pub fn wait_ready(
    child: &mut Child,
    data_dir: &Path,
    timeout: Duration,
    cancelled: &dyn Fn() -> bool,
) -> Startup {
    let deadline = Instant::now() + timeout;
    let pid = child.id();
    let mut pause = Duration::from_micros(500);
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return Startup::Exited(status);
        }
        // A stale file names another pid.
        if super::registry::postmaster_status(data_dir)
            .is_some_and(|(p, s)| p == pid && s == "ready")
        {
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

/// A port on 127.0.0.1 that is free right now. Another process may take it
/// before the server binds it; the supervisor then retries with another.
pub fn free_port() -> Result<u16> {
    let listener =
        TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).map_err(Error::io("bind", "127.0.0.1:0"))?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(Error::io("bind", "127.0.0.1:0"))
}

/// Whether something already listens on 127.0.0.1:`port`.
pub fn port_in_use(port: u16) -> bool {
    matches!(
        TcpListener::bind((Ipv4Addr::LOCALHOST, port)),
        Err(e) if e.kind() == std::io::ErrorKind::AddrInUse
    )
}

/// Whether the server log (from byte `from` on) says the port was taken.
pub fn failed_to_bind(dir: &Path, from: u64) -> bool {
    let text = log_since(dir, from);
    text.contains("could not bind") || text.contains("Address already in use")
}

/// The server log from byte `from` on.
pub fn log_since(dir: &Path, from: u64) -> String {
    let bytes = fs::read(dir.join(SERVER_LOG)).unwrap_or_default();
    let from = (from as usize).min(bytes.len());
    String::from_utf8_lossy(&bytes[from..]).into_owned()
}

/// The current length of the server log.
pub fn log_len(dir: &Path) -> u64 {
    fs::metadata(dir.join(SERVER_LOG))
        .map(|m| m.len())
        .unwrap_or(0)
}
