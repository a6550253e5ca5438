//! The server a `prove` run uses: a hand-out of the start options with
//! pgTAP added to the fixtures, tied to this process unless
//! `--keep-failed` may need it afterwards, and asked to stop at the end
//! (its supervisor shuts it down and removes it after `prove` returned).
//!
//! The hand-out is the library's `hand_out`, in this process, except as
//! root: it becomes the `--run-as` account for good, and `prove` must go
//! on reading the test files and writing the reports and the state as the
//! caller. Then a child `pgtmp start --with-pgtap` hands it out, as with
//! `exec`.

use std::path::PathBuf;
use std::time::Duration;

use super::super::{options, start};
use crate::cli::{GlobalArgs, StartArgs};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::format::Format;
use crate::handout::hand_out;
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
    config: Config,
    /// The instance directory, when handed out here.
    dir: Option<PathBuf>,
}

impl Server {
    /// Hands one out; `Err(code)`: a child printed its error and exited so.
    pub fn start(
        args: &StartArgs,
        global: &GlobalArgs,
        keep_failed: bool,
    ) -> Result<std::result::Result<Server, u8>> {
        let mut options = options(global);
        options.spares = args.spares.map(usize::from);
        let config = Config::resolve(&options)?;
        // Tied to us, no idle timeout is needed; a server that may outlive
        // us for --keep-failed stops when idle.
        let wait = match (keep_failed, args.timeout) {
            (_, Some(t)) => t,
            (true, None) => KEEP_FAILED_TIMEOUT,
            (false, None) => Duration::ZERO,
        };
        let owner = (!keep_failed).then(std::process::id);
        // The refill after the hand-out (a spare started, a pool entry
        // copied) waits until this run is over: on a small machine it would
        // take CPU from the files.
        let me = std::process::id();
        let (url, dir) = if config.identity.run_as.is_some() {
            let extra = ["--with-pgtap", "--refill-after", &me.to_string()];
            match super::super::exec::start_child(args, global, wait, owner, &extra)? {
                Ok(url) => (url, None),
                Err(code) => return Ok(Err(code)),
            }
        } else {
            let mut request = start::request(args, Format::Url)?;
            start::with_pgtap(&mut request);
            request.timeout = Some(wait);
            request.owner_pid = owner;
            request.refill_after = Some(me);
            let handout = hand_out(&config, &request).map_err(Error::for_prove)?;
            if let Some(kept) = handout.kept_data_dir() {
                eprintln!(
                    "pgtmp: the data directory will be kept after the server stops: {}",
                    kept.display()
                );
            }
            let (url, dir) = (handout.url().to_string(), handout.dir().to_path_buf());
            // Delivered: its user is this process.
            handout.acknowledge()?;
            (url, Some(dir))
        };
        // The role is the caller's login name, as libpq (and psql) take it.
        let target: Target = url::parse(&url)
            .ok_or_else(|| Error::NotAUrl(url.clone()))?
            .or_user(crate::process::login_name);
        Ok(Ok(Server {
            url,
            target,
            config,
            dir,
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
        let dir = self.dir.clone().or_else(|| {
            registry::live(&self.config.layout, false)
                .into_iter()
                .find(|(_, meta)| meta.url == self.url)
                .map(|(dir, _)| dir)
        });
        if let Some(dir) = dir
            && let Err(e) = stop::request(&dir)
        {
            eprintln!(
                "pgtmp: warning: could not stop {}: {e}; its supervisor will",
                url::without_password(&self.url)
            );
        }
    }
}
