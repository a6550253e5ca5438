//! The server a `prove` run uses: handed out by a child `pgtmp start
//! --with-pgtap` (so that, as root, only the child drops privileges and
//! the test files, reports and state are read and written as the caller,
//! as with `exec`), tied to this process unless `--keep-failed` may need
//! it afterwards, and asked to stop at the end: its supervisor shuts it
//! down and removes it after `prove` has returned.

use std::process::{Command, Stdio};
use std::time::Duration;

use crate::cli::{GlobalArgs, StartArgs};
use crate::config::Config;
use crate::error::{EXIT_FAILURE, Error, Result};
use crate::instance::{registry, stop};
use crate::url;
use crate::wire::Target;

/// How long a server kept for `--keep-failed` waits for a developer
/// without `-w`: pg_tmp's minute is too short to copy a URL and look.
pub const KEEP_FAILED_TIMEOUT: Duration = Duration::from_secs(600);

/// A running server of the run.
#[derive(Debug)]
pub struct Server {
    pub url: String,
    /// Its `test` database, which every file's database copies.
    pub target: Target,
    global: GlobalArgs,
}

impl Server {
    /// Starts one, or returns the exit status the child's error ended with
    /// (it printed the error).
    pub fn start(
        start: &StartArgs,
        global: &GlobalArgs,
        keep_failed: bool,
    ) -> Result<std::result::Result<Server, u8>> {
        let exe = std::env::current_exe().map_err(Error::io("find", "/proc/self/exe"))?;
        let mut cmd = Command::new(&exe);
        // Tied to us, no idle timeout is needed; a server that may outlive
        // us for --keep-failed stops when idle.
        let wait = match (keep_failed, start.timeout) {
            (_, Some(t)) => t,
            (true, None) => KEEP_FAILED_TIMEOUT,
            (false, None) => Duration::ZERO,
        };
        cmd.arg("start")
            .args(super::super::exec::start_args(start, global, wait))
            .arg("--with-pgtap");
        if !keep_failed {
            cmd.arg("--owner-pid").arg(std::process::id().to_string());
        }
        let out = cmd
            .stdin(Stdio::null())
            .stderr(Stdio::inherit())
            .output()
            .map_err(Error::io("run", &exe))?;
        if !out.status.success() {
            return Ok(Err(out
                .status
                .code()
                .map(|c| c as u8)
                .unwrap_or(EXIT_FAILURE)));
        }
        let url = String::from_utf8_lossy(&out.stdout).trim().to_string();
        let parsed = url::parse(&url)
            .ok_or_else(|| Error::other(format!("`pgtmp start` printed {url:?}, not a URL")))?;
        let target = Target {
            host: parsed.host.clone(),
            port: parsed.port,
            user: parsed.user.clone(),
            password: parsed.password.clone(),
            dbname: parsed.dbname.clone(),
        };
        Ok(Ok(Server {
            url,
            target,
            global: global.clone(),
        }))
    }

    /// The URL of another database of the server.
    pub fn url_of(&self, database: &str) -> String {
        let from = format!("/{}", self.target.dbname);
        match self.url.find(&format!("{from}?")) {
            Some(i) => format!(
                "{}/{database}{}",
                &self.url[..i],
                &self.url[i + from.len()..]
            ),
            None => self.url.replacen(&from, &format!("/{database}"), 1),
        }
    }

    /// Has it stopped (its data goes, unless `-k`) without waiting for
    /// that: its supervisor shuts it down and removes its directory.
    pub fn stop(self) {
        let found = Config::resolve(&self.global).map(|config| {
            registry::live(&config.layout, false)
                .into_iter()
                .find(|(_, meta)| meta.url == self.url)
        });
        let stopped = match found {
            Ok(Some((dir, _))) => stop::request(&dir),
            Ok(None) => Ok(()), // already gone
            Err(e) => Err(e),
        };
        if let Err(e) = stopped {
            eprintln!(
                "pgtmp: warning: could not stop {}: {e}; its supervisor will",
                url::without_password(&self.url)
            );
        }
    }
}
