//! The background refill after a hand-out: a detached re-execution of
//! pgtmp (`pgtmp __refill KEY`), so the caller never waits. It starts the
//! spares the demand calls for, then, niced, fills the pool and collects
//! garbage quietly. What it has to say goes to `refill.log`. A hand-out
//! may ask it to wait until a process has exited (`prove`'s own), so that
//! it takes no CPU from the run it served.

use std::fs::OpenOptions;
use std::process::{Command, Stdio};

use crate::config::{Config, Options};
use crate::error::{Error, Result};
use crate::instance::topology::Topology;
use crate::{gc, pool, process, spare};

/// The hidden subcommand that runs a refill.
pub const REFILL: &str = "__refill";

/// Environment of `pgtmp __refill`: which spares to start (`socket` or
/// `tcp`), for which role, from which binaries.
const SPARE_ENV: &str = "PGTMP_REFILL_SPARE";
/// The topology of those spares (`Topology::tag`).
const TOPOLOGY_ENV: &str = "PGTMP_REFILL_TOPOLOGY";
const ROLE_ENV: &str = "PGTMP_REFILL_ROLE";
const BINDIR_ENV: &str = "PGTMP_REFILL_BINDIR";
/// The process to wait for before refilling: `PID:START` (its start time,
/// so that a reused pid is not waited for).
const AFTER_ENV: &str = "PGTMP_REFILL_AFTER";

/// How often a deferred refill looks whether the process it waits for has
/// exited: reading its `/proc` entry costs microseconds.
const AFTER_POLL: std::time::Duration = std::time::Duration::from_millis(5);

/// The size past which the refill log starts over.
pub const LOG_LIMIT: u64 = 64 * 1024;

/// Starts `pgtmp __refill KEY` detached; failures are only logged.
/// `spares`: also start spares of that kind. `after`: it waits until that
/// process has exited before it does anything.
pub fn spawn(
    config: &Config,
    key: &str,
    spares: Option<&spare::Kind>,
    after: Option<u32>,
) -> Result<()> {
    let layout = &config.layout;
    let path = layout.refill_log();
    // Every failed refill appends to the log: one that keeps failing (a
    // full disk) must not fill the disk further. Start it afresh when big.
    let full = std::fs::metadata(&path).is_ok_and(|m| m.len() > LOG_LIMIT);
    let log = OpenOptions::new()
        .create(true)
        .append(!full)
        .write(true)
        .truncate(full)
        .open(&path)
        .map_err(Error::io("open", &path))?;
    // No pre_exec hook here, so std can use posix_spawn (cheaper than fork
    // for the caller); the child calls setsid itself.
    let mut cmd = Command::new(&config.exe);
    cmd.arg(REFILL)
        .arg(key)
        .env("PGTMP_DIR", &layout.base)
        .env("PGTMP_POOL_SIZE", config.pool_size.to_string())
        .env("PGTMP_SPARES", config.spare_max.to_string())
        .env(
            "PGTMP_SPARE_TIMEOUT",
            format!("{}ms", config.spare_timeout.as_millis()),
        );
    match spares {
        Some(kind) => cmd
            .env(SPARE_ENV, if kind.tcp { "tcp" } else { "socket" })
            .env(ROLE_ENV, &kind.role)
            .env(BINDIR_ENV, &kind.bindir)
            .env(TOPOLOGY_ENV, kind.topology.tag()),
        None => cmd.env_remove(SPARE_ENV),
    };
    match after.and_then(|pid| Some((pid, process::start_time(pid).ok()??))) {
        Some((pid, start)) => cmd.env(AFTER_ENV, format!("{pid}:{start}")),
        None => cmd.env_remove(AFTER_ENV),
    };
    cmd.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .map_err(Error::io("start pool refill", &layout.base))?;
    Ok(())
}

/// The refill itself: spares first, at normal priority since a hand-out
/// may be about to want one (and their servers keep the priority they
/// start with); then, niced, the pool and a quiet garbage collection.
pub fn run(key: &str) -> Result<()> {
    // `stop --all` while it waited still counts.
    let began = std::time::SystemTime::now();
    process::new_session();
    wait_for_exit();
    let config = Config::resolve(&Options::default())?;
    let topology = std::env::var(TOPOLOGY_ENV)
        .ok()
        .and_then(|tag| Topology::from_tag(&tag));
    let spares = match (
        std::env::var(SPARE_ENV),
        std::env::var(ROLE_ENV),
        std::env::var_os(BINDIR_ENV),
        topology,
    ) {
        (Ok(listener), Ok(role), Some(bindir), Some(topology)) => spare::replenish::run(
            &config,
            &spare::Kind {
                key: key.to_string(),
                role,
                bindir: bindir.into(),
                tcp: listener == "tcp",
                topology,
            },
            began,
        ),
        _ => Ok(()),
    };
    process::be_nice();
    pool::refill::run(&config.layout, key, config.pool_size)?;
    gc::collect(&config.layout, Some(key), false)?;
    spares
}

/// Until the process the hand-out named (`AFTER_ENV`) has exited.
fn wait_for_exit() {
    let Some((pid, start)) = std::env::var(AFTER_ENV).ok().and_then(|v| {
        let (pid, start) = v.split_once(':')?;
        Some((pid.parse::<u32>().ok()?, start.parse::<u64>().ok()?))
    }) else {
        return;
    };
    while process::running_since(pid, start) {
        std::thread::sleep(AFTER_POLL);
    }
}
