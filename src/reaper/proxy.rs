//! Starting an instance's shared-transaction proxy (`--shared-tx`): a
//! child of the supervisor like the postmasters (`pgtmp __proxy CONFIG`,
//! SIGTERM if the supervisor dies), its log in `proxy.log`. It is
//! ready once it says so on its stdout, after binding its listeners.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::error::{Error, Result, SharedTxProblem};
use crate::instance::Meta;
use crate::instance::endpoint::Endpoint;
use crate::instance::meta::{PROXY_CONFIG, PROXY_LOG, PROXY_STATUS, SharedTx};
use crate::proxy::{self, PROXY};

/// How long the proxy may take to listen.
const READY_TIMEOUT: Duration = Duration::from_secs(30);

/// Writes the proxy's configuration and starts it in front of the primary.
pub fn start(dir: &Path, meta: &Meta, shared: &SharedTx) -> Result<Child> {
    let Endpoint::Listener {
        socket_dir,
        port,
        tcp,
    } = &meta.endpoint
    else {
        return Err(Error::SharedTx(SharedTxProblem::NoListener));
    };
    let config = proxy::Config {
        socket_dir: socket_dir.clone(),
        port: *port,
        tcp: *tcp,
        password: meta.password.clone(),
        server_socket_dir: meta.primary.socket_dir.clone(),
        server_port: meta.primary.port,
        role: meta.role.clone(),
        lock_wait_ms: shared.lock_wait_ms,
        status_file: Some(dir.join(PROXY_STATUS)),
        database: crate::url::DATABASE.to_string(),
    };
    let path = dir.join(PROXY_CONFIG);
    let text = serde_json::to_string_pretty(&config).expect("the proxy's config serializes");
    // The instance directory is private (0700): the password stays there.
    crate::instance::meta::write_atomic(&path, text.as_bytes())?;
    let exe = std::env::current_exe().map_err(Error::io("find", "/proc/self/exe"))?;
    // A log of its own: writes through the supervisor's descriptor would
    // be overwritten by the supervisor's, which does not append.
    let log_path = dir.join(PROXY_LOG);
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log_path)
        .map_err(Error::io("open", &log_path))?;
    let mut cmd = Command::new(exe);
    cmd.arg(PROXY)
        .arg(&path)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(log);
    crate::platform::die_with_parent(&mut cmd, libc::SIGTERM);
    let mut child = cmd.spawn().map_err(Error::io("start the proxy of", dir))?;
    let stdout = child.stdout.take().expect("piped stdout");
    if ready(stdout, READY_TIMEOUT) {
        return Ok(child);
    }
    let _ = child.kill();
    let _ = child.wait();
    Err(Error::SharedTx(SharedTxProblem::ProxyStart(log_path)))
}

/// Whether `ready` comes on the proxy's stdout in time.
fn ready(stdout: std::process::ChildStdout, timeout: Duration) -> bool {
    use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
    use std::os::fd::AsFd;
    let ms = u16::try_from(timeout.as_millis()).unwrap_or(u16::MAX);
    let mut fds = [PollFd::new(stdout.as_fd(), PollFlags::POLLIN)];
    if !matches!(poll(&mut fds, PollTimeout::from(ms)), Ok(n) if n > 0) {
        return false;
    }
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).is_ok() && line.trim() == "ready"
}
