//! The binary under test, driven only through its documented interface
//! (notes/contract.md): the command line, `list --json`, and the layout of
//! `PGTMP_DIR`.
//!
//! `PGTMP_PG_BINDIR` is always set, so pgtmp and the baselines run the very
//! same PostgreSQL binaries.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use ::pgtmp::json::ListEntry;

use crate::command::{self, Ran};

/// Whether some process holds an flock(2) on `path`.
fn locked(path: &Path) -> bool {
    use std::os::fd::AsRawFd;
    let Ok(file) = std::fs::OpenOptions::new().write(true).open(path) else {
        return false;
    };
    // SAFETY: flock on a descriptor we own; closing it releases our probe.
    let got = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    got != 0
}

/// pgtmp's default `PGTMP_POOL_SIZE`; the bench never overrides it.
pub const POOL_SIZE: usize = 2;
const START_TIMEOUT: Duration = Duration::from_secs(60);
const STOP_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, Clone)]
pub struct Pgtmp {
    pub bin: PathBuf,
    /// `PGTMP_DIR`.
    pub base: PathBuf,
    pg_bindir: PathBuf,
}

/// A running instance; dropping it runs `pgtmp stop URL`.
#[derive(Debug)]
pub struct Handout<'a> {
    pgtmp: &'a Pgtmp,
    pub url: String,
}

impl Handout<'_> {
    /// For an instance that is expected to go away by itself.
    pub fn forget(mut self) {
        self.url.clear();
    }
}

impl Drop for Handout<'_> {
    fn drop(&mut self) {
        if self.url.is_empty() {
            return;
        }
        if let Err(e) = self.pgtmp.stop(&self.url) {
            eprintln!("bench: warning: {e}");
        }
    }
}

impl Pgtmp {
    pub fn new(bin: &Path, base: &Path, pg_bindir: &Path) -> Pgtmp {
        Pgtmp {
            // Absolute: a `--setup` hand-out runs in another directory.
            bin: std::path::absolute(bin).unwrap_or_else(|_| bin.to_path_buf()),
            base: base.to_path_buf(),
            pg_bindir: pg_bindir.to_path_buf(),
        }
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(&self.bin);
        command::scrub_env(&mut cmd);
        cmd.args(args)
            .env("PGTMP_DIR", &self.base)
            .env("PGTMP_PG_BINDIR", &self.pg_bindir);
        cmd
    }

    /// Runs `pgtmp ARGS`, failing on a non-zero exit.
    pub fn run(&self, args: &[&str]) -> Result<Ran, String> {
        command::check(&mut self.command(args), START_TIMEOUT)
    }

    /// `pgtmp ARGS` (a start): the instance it printed the URL of.
    pub fn start(&self, args: &[&str]) -> Result<Handout<'_>, String> {
        self.start_ran(self.run(args)?)
    }

    /// The same, run in `dir` (a `--setup` runs there).
    pub fn start_in(&self, dir: &Path, args: &[&str]) -> Result<Handout<'_>, String> {
        let mut cmd = self.command(args);
        cmd.current_dir(dir);
        self.start_ran(command::check(&mut cmd, START_TIMEOUT)?)
    }

    fn start_ran(&self, ran: Ran) -> Result<Handout<'_>, String> {
        let mut lines = ran.stdout.lines();
        let url = lines.next().unwrap_or_default().trim().to_string();
        if !url.starts_with("postgresql://") {
            return Err(format!("pgtmp printed {:?}, not a URL", ran.stdout));
        }
        let handout = Handout { pgtmp: self, url };
        if lines.next().is_some() {
            // A caller doing `url=$(pgtmp)` would get a broken URL.
            return Err(format!(
                "pgtmp printed more than one line: {:?}",
                ran.stdout
            ));
        }
        Ok(handout)
    }

    pub fn stop(&self, url: &str) -> Result<(), String> {
        command::check(&mut self.command(&["stop", url]), STOP_TIMEOUT).map(drop)
    }

    pub fn stop_all(&self) {
        if let Err(e) = command::check(&mut self.command(&["stop", "--all"]), STOP_TIMEOUT) {
            eprintln!("bench: warning: {e}");
        }
    }

    pub fn version(&self) -> Option<String> {
        let ran = self.run(&["--version"]).ok()?;
        Some(ran.stdout.trim().to_string())
    }

    /// The `list --json` entry for `url`.
    pub fn instance(&self, url: &str) -> Result<ListEntry, String> {
        let ran = self.run(&["list", "--json"])?;
        let list: Vec<ListEntry> = serde_json::from_str(&ran.stdout)
            .map_err(|e| format!("`pgtmp list --json`: {e}: {:?}", ran.stdout))?;
        list.into_iter().find(|i| i.url == url).ok_or(format!(
            "`pgtmp list --json` does not show {url}: {}",
            ran.stdout.trim()
        ))
    }

    /// Ready entries in the emptiest `pool/<key>/` (hidden names are taken
    /// to be copies in progress): the plain pool and the fixture's must
    /// both be full before a sample, or a refill steals a core from it.
    pub fn pool_entries(&self) -> usize {
        let count = |dir: &Path| {
            std::fs::read_dir(dir).map_or(0, |entries| {
                entries
                    .flatten()
                    .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
                    .filter(|e| e.path().is_dir())
                    .count()
            })
        };
        std::fs::read_dir(self.base.join("pool"))
            .map(|keys| {
                keys.flatten()
                    .filter(|k| k.path().is_dir())
                    .map(|k| count(&k.path()))
                    .min()
                    .unwrap_or(0)
            })
            .unwrap_or(0)
    }

    /// Waits until every pool holds [`POOL_SIZE`] entries and no
    /// background refill still works (starting spares or copying).
    pub fn wait_pool_full(&self, timeout: Duration) -> Result<(), String> {
        let deadline = Instant::now() + timeout;
        loop {
            let n = self.pool_entries();
            let busy = self.refill_running();
            if n >= POOL_SIZE && !busy {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "pool held {n} of {POOL_SIZE} entries after {timeout:?}{}",
                    if busy { ", a refill still running" } else { "" }
                ));
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Whether a refill holds one of the locks it works under:
    /// `pool/<key>.lock` or `spare/<class>.lock`.
    pub fn refill_running(&self) -> bool {
        ["pool", "spare"].iter().any(|sub| {
            std::fs::read_dir(self.base.join(sub)).is_ok_and(|entries| {
                entries
                    .flatten()
                    .filter(|e| e.file_name().to_string_lossy().ends_with(".lock"))
                    .any(|e| locked(&e.path()))
            })
        })
    }

    /// Ready spares (tokens under `spare/<class>/`).
    pub fn spares(&self) -> usize {
        std::fs::read_dir(self.base.join("spare")).map_or(0, |classes| {
            classes
                .flatten()
                .filter(|c| c.path().is_dir())
                .map(|c| std::fs::read_dir(c.path()).map_or(0, |t| t.count()))
                .sum()
        })
    }
}
