//! A private server on a directory being made into a template: a fixture
//! loaded into it (`-f`, `-x`, `--now`), or a `--setup` run against it. It
//! listens on its own socket directory (and on 127.0.0.1 when asked), runs
//! without autovacuum, and ends with a fast shutdown, whose checkpoint
//! leaves the directory cleanly shut down, as a template must be, so that
//! copies start without recovery. Dropped without that, it is shut down at
//! once: its directory is about to be deleted. Its log lives inside the
//! directory until the clean stop removes it.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::{Postmaster, Shutdown, Startup};
use crate::error::{Error, Result};
use crate::paths;

/// The server's log, inside its data directory; removed by a clean stop.
pub const LOG: &str = "pgtmp-load.log";
/// How long it may take to start.
const START_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a fast shutdown may take before it is forced.
const STOP_TIMEOUT: Duration = Duration::from_secs(60);
/// Attempts at a free TCP port when another process takes the chosen one.
const PORT_ATTEMPTS: usize = 10;

/// How a private server runs.
#[derive(Debug)]
pub struct Spec<'a> {
    /// The `postgres` binary.
    pub program: PathBuf,
    pub data_dir: &'a Path,
    pub socket_dir: PathBuf,
    /// The socket directory is a fallback under /tmp, removed with it.
    pub separate: bool,
    /// Listen on 127.0.0.1 too, on a port `port` picks.
    pub tcp: bool,
    /// `-o`, so that what the user's servers preload is there.
    pub options: &'a [String],
    /// What it is for, as the errors say it: `loading the fixture`.
    pub purpose: &'static str,
}

impl Spec<'_> {
    /// A server of `program` on `data`, a copy being made into a template
    /// (`id` names it), listening in it or, when its path is too long for a
    /// socket, in a private directory under /tmp (`uid`'s).
    pub fn on_copy<'a>(
        program: PathBuf,
        data: &'a Path,
        id: &str,
        uid: u32,
        tcp: bool,
        options: &'a [String],
        purpose: &'static str,
    ) -> Result<Spec<'a>> {
        let (socket_dir, separate) = paths::socket_dir(data, id, uid)?;
        Ok(Spec {
            program,
            data_dir: data,
            socket_dir,
            separate,
            tcp,
            options,
            purpose,
        })
    }
}

/// A running private server.
#[derive(Debug)]
pub struct Private {
    postmaster: Postmaster,
    pub socket_dir: PathBuf,
    pub port: u16,
    separate: bool,
    data_dir: PathBuf,
    purpose: &'static str,
}

impl Private {
    /// Starts it and waits until it is ready; `port` gives the port to
    /// listen on (asked again when a TCP one turns out to be taken).
    pub fn start(spec: Spec, mut port: impl FnMut() -> Result<u16>) -> Result<Private> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let port = port()?;
            let postmaster = Postmaster::start(&super::Spec {
                program: spec.program.clone(),
                data_dir: spec.data_dir,
                socket_dir: &spec.socket_dir,
                stream_dir: None,
                port,
                tcp: spec.tcp,
                user_options: spec.options,
                settings: vec!["autovacuum=off".into()],
                log: spec.data_dir.join(LOG),
            })?;
            let mut server = Private {
                postmaster,
                socket_dir: spec.socket_dir.clone(),
                port,
                separate: spec.separate,
                data_dir: spec.data_dir.to_path_buf(),
                purpose: spec.purpose,
            };
            let reason = match server.postmaster.wait_ready(START_TIMEOUT, &|| false) {
                Startup::Ready => return Ok(server),
                Startup::Exited(_)
                    if spec.tcp
                        && attempt < PORT_ATTEMPTS
                        && server.postmaster.failed_to_bind() =>
                {
                    // Dropped without removing the socket directory: the
                    // next attempt uses it.
                    server.separate = false;
                    continue;
                }
                Startup::Exited(status) => format!("postgres exited ({status})"),
                Startup::TimedOut => format!("not ready after {}s", START_TIMEOUT.as_secs()),
                Startup::Cancelled => "cancelled".to_string(),
            };
            let hint = (!spec.options.is_empty())
                .then(|| "check the server options given with `-o`".to_string());
            return Err(Error::server_start(
                format!("{}: {reason}", spec.purpose),
                server.postmaster.log_tail(10),
                hint,
            ));
        }
    }

    /// Fast shutdown, which ends with a checkpoint: the directory is then
    /// cleanly shut down, as a template must be. Removes the log.
    pub fn stop(&mut self) -> Result<()> {
        if self.postmaster.stop(Shutdown::fast(STOP_TIMEOUT)) {
            let _ = std::fs::remove_file(self.data_dir.join(LOG));
            return Ok(());
        }
        Err(Error::server_start(
            format!("the server {} did not shut down cleanly", self.purpose),
            self.postmaster.log_tail(10),
            None,
        ))
    }
}

impl Drop for Private {
    fn drop(&mut self) {
        // Before its socket directory goes.
        self.postmaster
            .stop(Shutdown::immediate(Duration::from_secs(5)));
        if self.separate {
            let _ = paths::remove_tree(&self.socket_dir);
        }
    }
}
