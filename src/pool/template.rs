//! The template: initdb runs once per (binaries, initdb options, role) into a
//! data directory that already holds the `test` database and the fast
//! settings, stopped cleanly so that copies start without recovery.
//! Concurrent first calls wait on one lock instead of each running initdb.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::locale::Locale;
use crate::error::{Error, Result, says_disk_full, tail};
use crate::lock;
use crate::paths::{self, Layout};
use crate::pg::Install;
use crate::random;

use super::wal::WalLevel;

/// Bumped when what a template contains changes, so old ones are not reused.
const FORMAT: u32 = 4;

/// Settings every instance starts with; `-o` overrides them. Durability is
/// worthless for a throwaway database, and these make writes several times
/// faster. See <https://www.postgresql.org/docs/current/non-durability.html>
const SETTINGS: &str = "
# Added by pgtmp: a throwaway cluster trades durability for speed.
fsync = off
full_page_writes = off
max_wal_size = 1GB
min_wal_size = 2MB
checkpoint_timeout = 30min
shared_buffers = 16MB
listen_addresses = ''
# Only the owner may connect through the socket, besides its directory
# being private: a second line of defence should it ever end up elsewhere.
unix_socket_permissions = 0700
# Dynamic shared memory in the data directory, not /dev/shm: an instance
# killed hard cannot leak PostgreSQL.* segments there, since its directory
# is removed after it.
dynamic_shared_memory_type = mmap
";

/// Trust on the socket, whose directory only its owner can enter; a password
/// on TCP, which every local user can reach (IPv6 loopback too, for
/// `-t -o '-h localhost'`).
const HBA: &str = "\
# pgtmp: the socket directory is private (mode 0700); TCP needs the password.
local   all           all                 trust
local   replication   all                 trust
host    all           all   127.0.0.1/32  scram-sha-256
host    replication   all   127.0.0.1/32  scram-sha-256
host    all           all   ::1/128       scram-sha-256
host    replication   all   ::1/128       scram-sha-256
";

/// What identifies a template: the binaries, the initdb options, the
/// role, the locale, the WAL level.
#[derive(Debug, Clone)]
pub struct Spec {
    pub install: Install,
    pub role: String,
    pub initdb_opts: Vec<String>,
    pub wal: WalLevel,
    pub locale: Locale,
}

impl Spec {
    /// The cache key: a stable hash (FNV-1a) of everything the template
    /// depends on. std's hasher may change between Rust releases.
    pub fn key(&self) -> String {
        let mut text = format!(
            "{FORMAT}\n{}\n{}\n{}\n{}",
            self.install.fingerprint(),
            self.role,
            self.initdb_opts.join("\u{1}"),
            self.locale.key_text()
        );
        // Nothing for `minimal`: plain templates keep the keys they had.
        if self.wal != WalLevel::Minimal {
            text.push_str(&format!("\nwal={}", self.wal.key_part()));
        }
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        for b in text.bytes() {
            hash ^= u64::from(b);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
        format!("t{hash:016x}")
    }
}

/// A template being read (copied): its lock is held shared, so `gc` does
/// not remove it meanwhile. Drop it once the copy is made.
#[derive(Debug)]
pub struct Held {
    dir: PathBuf,
    _lock: fs::File,
}

impl Held {
    pub fn path(&self) -> &Path {
        &self.dir
    }
}

/// Holds the template `key` for reading; None when there is none (never
/// built, or removed by `gc`).
pub fn hold(layout: &Layout, key: &str) -> Result<Option<Held>> {
    hold_with(layout, key, |lock| lock::lock_shared(lock).map(Some))
}

/// As `hold`, creating nothing (see `lock::lock_shared_existing`): `None`
/// also when the template has no lock file.
pub fn hold_existing(layout: &Layout, key: &str) -> Result<Option<Held>> {
    hold_with(layout, key, lock::lock_shared_existing)
}

fn hold_with(
    layout: &Layout,
    key: &str,
    lock_shared: impl FnOnce(&Path) -> Result<Option<fs::File>>,
) -> Result<Option<Held>> {
    let dir = layout.template(key);
    if !dir.join("PG_VERSION").exists() {
        return Ok(None);
    }
    let Some(lock) = lock_shared(&layout.template_lock(key))? else {
        return Ok(None);
    };
    // Removed after the look above, before the lock was ours.
    Ok(dir
        .join("PG_VERSION")
        .exists()
        .then_some(Held { dir, _lock: lock }))
}

/// Returns the template for `spec`, held for reading, building it first
/// if it is missing.
pub fn ensure(layout: &Layout, spec: &Spec) -> Result<Held> {
    let key = spec.key();
    loop {
        if let Some(held) = hold(layout, &key)? {
            return Ok(held);
        }
        build_once(layout, &key, |tmp| build(spec, tmp))?;
    }
}

/// Builds the template `key` with `build` unless it exists: under its
/// exclusive lock, into a `.tmp-` directory renamed into place when
/// complete. Concurrent callers wait on the lock, and the later ones find
/// it built.
fn build_once(layout: &Layout, key: &str, build: impl FnOnce(&Path) -> Result<()>) -> Result<()> {
    paths::mkdir_private(&layout.templates())?;
    let _guard = lock::lock(&layout.template_lock(key))?;
    let dir = layout.template(key);
    if dir.join("PG_VERSION").exists() {
        return Ok(()); // another caller built it while we waited
    }
    let tmp = layout
        .templates()
        .join(format!(".tmp-{key}-{}", random::id()));
    paths::publish(&tmp, &dir, build)
}

/// initdb, settings, and the `test` database, into `dir`.
fn build(spec: &Spec, dir: &Path) -> Result<()> {
    let features = spec.install.features();
    let (locale, fell_back) = spec.locale.initdb_args(features);
    if fell_back {
        crate::say!(
            "pgtmp: the {} locale is not installed: the template uses C, which compares bytes (`--locale` picks another)",
            super::locale::UNICODE
        );
    }
    let mut initdb = Command::new(spec.install.initdb());
    initdb
        .arg("-D")
        .arg(dir)
        .args(["--no-sync", "--auth=trust", "--encoding=UTF8"])
        .args(&locale)
        .args(["--wal-segsize=1", "--username"])
        .arg(&spec.role)
        .args(features.initdb_options())
        .args(&spec.initdb_opts)
        // initdb reads these; the caller's must not change the template.
        .env_remove("PGDATA")
        .env_remove("LANG")
        .env_remove("LC_ALL")
        .env_remove("LANGUAGE");
    run(&mut initdb, "initdb", None)?;
    crate::trace::mark("initdb done");

    append(
        &dir.join("postgresql.conf"),
        &format!(
            "{SETTINGS}{}{}",
            spec.wal.settings(features.major),
            features.settings()
        ),
    )?;
    fs::write(dir.join("pg_hba.conf"), HBA).map_err(Error::io("write", dir.join("pg_hba.conf")))?;

    // Single-user mode creates the database without a server, socket or
    // port: ~40 ms on tmpfs, and the directory stays cleanly shut down.
    let create = features.create_database("test");
    let mut single = Command::new(spec.install.postgres());
    single
        .args(["--single", "-D"])
        .arg(dir)
        .args(["-c", "exit_on_error=on", "template1"]);
    run(&mut single, "postgres --single", Some(&create))?;
    crate::trace::mark("database test created");
    Ok(())
}

/// Runs a helper program, failing with its exit status and output tail.
fn run(cmd: &mut Command, name: &str, stdin: Option<&str>) -> Result<()> {
    cmd.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    // A killed pgtmp takes its initdb along: nobody would wait for it, and
    // it would go on writing into a directory `gc` is about to remove.
    crate::platform::die_with_parent(cmd, libc::SIGKILL);
    let program = cmd.get_program().to_owned();
    let mut child = cmd.spawn().map_err(Error::io("run", &program))?;
    if let (Some(text), Some(mut pipe)) = (stdin, child.stdin.take()) {
        pipe.write_all(text.as_bytes())
            .map_err(Error::io("write to", &program))?;
    }
    let out = child
        .wait_with_output()
        .map_err(Error::io("wait for", &program))?;
    let mut output = String::from_utf8_lossy(&out.stdout).into_owned();
    output.push_str(&String::from_utf8_lossy(&out.stderr));
    // Single-user mode reports a failed statement on stdout; exit_on_error
    // turns it into a non-zero exit, but check the text too.
    if out.status.success() && !output.contains("ERROR:") && !output.contains("FATAL:") {
        return Ok(());
    }
    Err(Error::Command {
        program: name.to_string(),
        status: out.status.to_string(),
        disk_full: says_disk_full(&output),
        output: tail(&output, 12),
    })
}

fn append(path: &Path, text: &str) -> Result<()> {
    let mut f = fs::OpenOptions::new()
        .append(true)
        .open(path)
        .map_err(Error::io("open", path))?;
    f.write_all(text.as_bytes())
        .map_err(Error::io("write", path))
}
