//! The one directory a run owns, under /dev/shm, and the guard that leaves
//! nothing behind: on drop it stops every pgtmp instance started under it,
//! kills whatever still refers to it, and removes it.
//!
//! Mode 0755 because, as root, pgtmp and the baselines run PostgreSQL as
//! another account, which must be able to traverse it.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::pgtmp::Pgtmp;
use crate::procfs;

#[derive(Debug)]
pub struct Workspace {
    root: PathBuf,
    /// Every pgtmp set up with a `PGTMP_DIR` under `root`.
    pgtmps: Mutex<Vec<Pgtmp>>,
}

impl Workspace {
    pub fn create() -> Result<Workspace, String> {
        let parent = ["/dev/shm", "/tmp"]
            .into_iter()
            .map(Path::new)
            .find(|p| p.is_dir())
            .ok_or("neither /dev/shm nor /tmp exists")?;
        let root = parent.join(format!("pgtmp-bench-{}", std::process::id()));
        std::fs::create_dir(&root).map_err(|e| format!("creating {}: {e}", root.display()))?;
        let ws = Workspace {
            root,
            pgtmps: Mutex::new(Vec::new()),
        };
        std::fs::set_permissions(&ws.root, std::fs::Permissions::from_mode(0o755))
            .map_err(|e| format!("chmod {}: {e}", ws.root.display()))?;
        Ok(ws)
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.root.join(name)
    }

    /// A pgtmp with its own `PGTMP_DIR` named `name`, whose instances are
    /// stopped when the workspace goes.
    pub fn pgtmp(&self, bin: &Path, name: &str, pg_bindir: &Path) -> Pgtmp {
        let pgtmp = Pgtmp::new(bin, &self.path(name), pg_bindir);
        if let Ok(mut all) = self.pgtmps.lock() {
            all.push(pgtmp.clone());
        }
        pgtmp
    }

    /// Kills every process still referring to `dir` (SIGTERM, then SIGKILL),
    /// waiting up to five seconds for them to go.
    pub fn kill_leftovers(dir: &Path) -> usize {
        let found = procfs::referencing(dir);
        let deadline = Instant::now() + Duration::from_secs(5);
        let mut signal = libc::SIGTERM;
        loop {
            let left = procfs::referencing(dir);
            if left.is_empty() {
                return found.len();
            }
            if Instant::now() > deadline {
                eprintln!(
                    "bench: warning: processes under {} survive: {left:?}",
                    dir.display()
                );
                return found.len();
            }
            for pid in &left {
                procfs::kill(*pid, signal);
            }
            std::thread::sleep(Duration::from_millis(100));
            signal = libc::SIGKILL;
        }
    }
}

impl Drop for Workspace {
    fn drop(&mut self) {
        let all = self.pgtmps.lock().map(|p| p.clone()).unwrap_or_default();
        for pgtmp in all.iter().filter(|p| p.base.exists()) {
            pgtmp.stop_all();
        }
        let killed = Workspace::kill_leftovers(&self.root);
        if killed > 0 {
            eprintln!(
                "bench: killed {killed} leftover process(es) under {}",
                self.root.display()
            );
        }
        if let Err(e) = std::fs::remove_dir_all(&self.root) {
            eprintln!("bench: warning: removing {}: {e}", self.root.display());
        }
    }
}
