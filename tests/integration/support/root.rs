//! `TestRoot`: one private directory under /dev/shm per test, and the guard
//! that stops and deletes everything the test started, even when it panics.
//!
//! The root is 0755 so that the `postgres` account (pgtmp drops to it when
//! run as root) and the ordinary test user can reach what lies inside. The
//! guard cannot rely on `pgtmp stop --all` alone: pool refills keep running
//! after it, and a broken binary may leave anything behind, so it also kills
//! every process whose cwd, executable, command line or environment points
//! into the root before deleting it.

use std::collections::hash_map::RandomState;
use std::fs;
use std::hash::BuildHasher;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime};

use super::command::Run;
use super::poll;
use super::procs;
use super::user::Who;

/// Set this to keep a failed test's root (processes are still stopped).
const KEEP_ENV: &str = "PGTMP_TEST_KEEP";

#[derive(Debug)]
pub struct TestRoot {
    path: PathBuf,
    seq: AtomicUsize,
    /// Who ran pgtmp here, so the guard stops each one's instances.
    used: Mutex<Vec<Who>>,
    /// Directories of this test outside the root (see `outside`).
    outside: Mutex<Vec<PathBuf>>,
    /// Base directories other than `base()` (see `extra_base`).
    bases: Mutex<Vec<PathBuf>>,
}

impl TestRoot {
    pub fn new() -> TestRoot {
        for attempt in 0..100 {
            let path = PathBuf::from(format!("/dev/shm/pgtmp-it-{}", random_suffix(attempt)));
            match fs::create_dir(&path) {
                Ok(()) => {
                    let root = TestRoot {
                        path,
                        seq: AtomicUsize::new(0),
                        used: Mutex::new(Vec::new()),
                        outside: Mutex::new(Vec::new()),
                        bases: Mutex::new(Vec::new()),
                    };
                    set_mode(&root.path, 0o755);
                    root.mkdir(".out");
                    return root;
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => panic!("cannot create a test root {}: {e}", path.display()),
            }
        }
        panic!("cannot find a free test root name under /dev/shm");
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn join(&self, rel: impl AsRef<Path>) -> PathBuf {
        self.path.join(rel)
    }

    /// `PGTMP_DIR` of the test's own user.
    pub fn base(&self) -> PathBuf {
        self.base_of(Who::Me)
    }

    pub fn base_of(&self, who: Who) -> PathBuf {
        match who {
            Who::Me => self.join("base"),
            Who::User(_) => self.join("user/base"),
            Who::Stranger(_) => self.join("stranger/base"),
        }
    }

    /// `HOME` of an ordinary user or a stranger.
    pub fn home_of(&self, who: Who) -> PathBuf {
        match who {
            Who::Stranger(_) => self.join("stranger"),
            _ => self.join("user"),
        }
    }

    /// Writes `text` to `rel` in the root (0644, readable by `postgres`),
    /// making the directories on the way.
    pub fn write(&self, rel: impl AsRef<Path>, text: &str) -> PathBuf {
        let path = self.join(rel);
        if let Some(parent) = path.parent() {
            self.mkdir(parent);
        }
        fs::write(&path, text).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
        set_mode(&path, 0o644);
        path
    }

    /// A directory inside the root, mode 0755 like the root itself.
    pub fn mkdir(&self, rel: impl AsRef<Path>) -> PathBuf {
        let dir = self.join(rel);
        fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("mkdir {}: {e}", dir.display()));
        set_mode(&dir, 0o755);
        dir
    }

    /// A directory of this test under /tmp, for what must not live under
    /// /dev/shm; the guard kills what uses it and removes it with the root.
    pub fn outside(&self, name: &str) -> PathBuf {
        let root_name = self.path.file_name().expect("a named root");
        let dir = PathBuf::from("/tmp").join(format!("{}-{name}", root_name.to_string_lossy()));
        fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("mkdir {}: {e}", dir.display()));
        set_mode(&dir, 0o755);
        let mut outside = self.outside.lock().unwrap_or_else(|p| p.into_inner());
        outside.push(dir.clone());
        dir
    }

    /// A base directory of the test's own user other than `base()` (a long
    /// one, one below `outside`): the guard stops its instances and, once
    /// everything is dead, collects it too, so that a failed test leaves no
    /// socket directory under /tmp.
    pub fn extra_base(&self, path: impl AsRef<Path>) -> PathBuf {
        let path = self.join(path);
        let mut bases = self.bases.lock().unwrap_or_else(|p| p.into_inner());
        bases.push(path.clone());
        path
    }

    /// `pgtmp ARGS` as the test's own user, not yet run.
    pub fn pgtmp<I, S>(&self, args: I) -> Run<'_>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        Run::pgtmp(self).args(args)
    }

    /// Any other program, with the same scrubbed environment.
    pub fn cmd<I, S>(&self, program: impl AsRef<Path>, args: I) -> Run<'_>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        Run::program(self, program.as_ref()).args(args)
    }

    /// Fresh file names for one command's stdout and stderr.
    pub(crate) fn output_files(&self) -> (PathBuf, PathBuf) {
        let n = self.seq.fetch_add(1, Ordering::Relaxed);
        let dir = self.join(".out");
        (
            dir.join(format!("{n}.stdout")),
            dir.join(format!("{n}.stderr")),
        )
    }

    /// Note that `who` runs pgtmp here; the first time, give an ordinary
    /// user its own base directory and a copy of the binary it can execute.
    pub(crate) fn enlist(&self, who: Who) {
        let mut used = self.used.lock().unwrap_or_else(|p| p.into_inner());
        if used.contains(&who) {
            return;
        }
        if let Who::User(user) | Who::Stranger(user) = who {
            let home = self.mkdir(self.home_of(who));
            std::os::unix::fs::chown(&home, Some(user.uid), Some(user.gid))
                .unwrap_or_else(|e| panic!("chown {}: {e}", home.display()));
            self.mkdir("bin");
            let copy = self.pgtmp_copy();
            // Once: another user's copy may be running (ETXTBSY).
            if !copy.exists() {
                fs::copy(env!("CARGO_BIN_EXE_pgtmp"), &copy)
                    .unwrap_or_else(|e| panic!("copy pgtmp to {}: {e}", copy.display()));
                set_mode(&copy, 0o755);
            }
        }
        used.push(who);
    }

    /// Where an ordinary user's copy of the binary lives.
    pub(crate) fn pgtmp_copy(&self) -> PathBuf {
        self.join("bin/pgtmp")
    }
}

impl Drop for TestRoot {
    fn drop(&mut self) {
        let used = self.used.lock().unwrap_or_else(|p| p.into_inner()).clone();
        // A refill still running may start spares after a `stop --all`:
        // wait for refills, then stop again.
        for _ in 0..3 {
            for &who in used.iter().filter(|w| !matches!(w, Who::Stranger(_))) {
                let stop = self
                    .pgtmp(["stop", "--all"])
                    .who(who)
                    .timeout(Duration::from_secs(30));
                if let Err(e) = stop.try_run() {
                    eprintln!("guard: {e}");
                }
            }
            let refilling = || {
                procs::touching(&self.path)
                    .into_iter()
                    .any(|pid| procs::cmdline(pid).contains("__refill"))
            };
            if !refilling() {
                break;
            }
            poll::within(Duration::from_secs(10), || !refilling());
        }
        let bases = self.bases.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let in_base = |args: &[&str], base: &Path| {
            let run = self.pgtmp(args).env("PGTMP_DIR", base);
            if let Err(e) = run.timeout(Duration::from_secs(30)).try_run() {
                eprintln!("guard: {e}");
            }
        };
        for base in bases.iter().filter(|b| b.exists()) {
            in_base(&["stop", "--all"], base);
        }
        let outside = self
            .outside
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        for dir in outside.iter().chain([&self.path]) {
            settle(dir);
        }
        // What was killed above leaves shared memory that only a `gc` of its
        // base releases (the directories go with the root anyway).
        for who in used.iter().filter(|w| !matches!(w, Who::Stranger(_))) {
            if self.base_of(*who).exists() {
                let gc = self
                    .pgtmp(["gc"])
                    .who(*who)
                    .timeout(Duration::from_secs(30));
                if let Err(e) = gc.try_run() {
                    eprintln!("guard: {e}");
                }
            }
        }
        for base in bases.iter().filter(|b| b.exists()) {
            in_base(&["gc"], base);
        }
        if std::thread::panicking() && std::env::var_os(KEEP_ENV).is_some() {
            eprintln!("guard: kept {} ({KEEP_ENV} is set)", self.path.display());
            return;
        }
        for dir in outside.iter().chain([&self.path]) {
            remove(dir);
        }
    }
}

/// Waits for background processes (pool refills) to finish, then kills
/// whatever still points into the root.
fn settle(root: &Path) {
    if poll::within(Duration::from_secs(10), || procs::touching(root).is_empty()) {
        return;
    }
    for pid in procs::touching(root) {
        eprintln!(
            "guard: killing leftover process {pid}: {}",
            procs::cmdline(pid)
        );
        procs::signal(pid, "KILL");
    }
    if !poll::within(Duration::from_secs(5), || procs::touching(root).is_empty()) {
        eprintln!(
            "guard: processes still use {}: {:?}",
            root.display(),
            procs::touching(root)
        );
    }
}

/// Deletes the root, retrying while a dying process may still write into it.
fn remove(root: &Path) {
    let mut last = None;
    let gone = poll::within(Duration::from_secs(5), || match fs::remove_dir_all(root) {
        Ok(()) => true,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => true,
        Err(e) => {
            last = Some(e);
            false
        }
    });
    if !gone {
        eprintln!("guard: cannot remove {}: {last:?}", root.display());
    }
}

pub fn set_mode(path: &Path, mode: u32) {
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
        .unwrap_or_else(|e| panic!("chmod {mode:o} {}: {e}", path.display()));
}

/// Six random lowercase alphanumerics: short paths keep the Unix socket path
/// (`<root>/base/run/<id>/.s.PGSQL.<port>`) far below its 107-byte limit.
fn random_suffix(attempt: u32) -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default();
    let mut n = RandomState::new().hash_one((std::process::id(), attempt, nanos));
    (0..6)
        .map(|_| {
            let c = ALPHABET[(n % ALPHABET.len() as u64) as usize];
            n /= ALPHABET.len() as u64;
            c as char
        })
        .collect()
}
