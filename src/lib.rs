//! pgtmp: a private, throwaway PostgreSQL in well under a second.
//!
//! The binary is `run`: it parses the command line, dispatches to `cmd`
//! (the only layer that knows the command line or writes to stdout) and
//! prints an error once. The library below it takes plain values, and a
//! small part of it is public, for tools that want hand-outs without the
//! command line (many in one process, a crate for `cargo test`):
//!
//! ```no_run
//! use pgtmp::{Config, Options, Request, hand_out};
//!
//! let config = Config::resolve(&Options::default())?;
//! let handout = hand_out(&config, &Request { tcp: true, ..Request::default() })?;
//! println!("{}", handout.url());
//! handout.acknowledge()?; // from here on it lives until idle
//! # Ok::<(), pgtmp::Error>(())
//! ```
//!
//! See `docs/architecture.md` for the map of the modules.

pub(crate) mod base;
pub(crate) mod child;
pub(crate) mod cli;
pub(crate) mod cmd;
pub mod config;
pub(crate) mod datadir;
pub mod error;
pub(crate) mod fixture;
pub mod format;
pub(crate) mod gc;
pub mod handout;
pub(crate) mod instance;
pub mod json;
pub(crate) mod lock;
pub(crate) mod paths;
pub(crate) mod pg;
pub(crate) mod platform;
pub(crate) mod pool;
pub(crate) mod postmaster;
pub(crate) mod process;
pub(crate) mod proxy;
pub(crate) mod random;
pub(crate) mod reaper;
pub(crate) mod refill;
pub(crate) mod spare;
pub(crate) mod trace;
pub(crate) mod url;

pub use config::{Config, Options};
pub use error::{Error, Result};
pub use format::Format;
pub use handout::{Handout, Request, Topology, hand_out};

use std::process::ExitCode;

use clap::{CommandFactory, Parser};

/// Set by `run`: this process is the pgtmp program, which can re-execute
/// itself as a supervisor or refill.
static IS_PGTMP: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

pub(crate) fn is_pgtmp() -> bool {
    IS_PGTMP.load(std::sync::atomic::Ordering::Relaxed)
}

/// The whole program; `main` only turns this into an exit status.
pub fn run() -> ExitCode {
    IS_PGTMP.store(true, std::sync::atomic::Ordering::Relaxed);
    trace::init();
    let result = match cli::Internal::from_args(std::env::args_os()) {
        Some(internal) => cmd::internal(internal).map(|()| ExitCode::SUCCESS),
        None => {
            let cli = cli::Cli::parse();
            if cli.misplaced_start_options() {
                cli::Cli::command()
                    .error(
                        clap::error::ErrorKind::ArgumentConflict,
                        "start options (-k -t -p -w -o -d -f -x --now --replicas --sync --logical) go after `start`, or with no subcommand at all",
                    )
                    .exit();
            }
            if matches!(&cli.command, Some(cli::Command::Exec(e)) if e.start.format.is_some()) {
                cli::Cli::command()
                    .error(
                        clap::error::ErrorKind::ArgumentConflict,
                        "`-F` has no effect with `exec`: COMMAND gets DATABASE_URL and the PG* variables",
                    )
                    .exit();
            }
            cmd::dispatch(cli)
        }
    };
    result.unwrap_or_else(|e| {
        report(&e);
        ExitCode::from(e.exit_code())
    })
}

/// Prints an error once: `pgtmp: error: ...`, then its hint.
pub fn report(e: &Error) {
    eprintln!("pgtmp: error: {e}");
    if let Some(hint) = e.hint() {
        eprintln!("hint: {hint}");
    }
}

/// This user's running instances (or, with `spares`, the servers started
/// ahead that nobody claimed yet), as `pgtmp list --json` prints them.
pub fn list(config: &Config, spares: bool) -> Result<Vec<json::ListEntry>> {
    config.enter()?;
    Ok(instance::registry::entries(&config.layout, spares))
}

/// Stops the instance whose URL `pgtmp` printed (in any of its forms, of
/// any server of a set) and deletes its data unless kept; returns the data
/// directories kept.
pub fn stop(config: &Config, url: &str) -> Result<Vec<std::path::PathBuf>> {
    use instance::select::{Selector, select};
    config.enter()?;
    let mut kept = Vec::new();
    for (dir, _) in select(&config.layout, &Selector::url(url)?)? {
        kept.extend(instance::stop::stop(&dir)?);
    }
    Ok(kept)
}

/// How long `promote` and `restart` wait for the supervisor's answer; it
/// bounds every step itself.
const ORDER_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(600);

/// The running instance a URL (of any of its servers) names, and which
/// server of it.
fn instance_of(config: &Config, url: &str) -> Result<(std::path::PathBuf, instance::Meta, String)> {
    use instance::select::{Selector, node, select};
    config.enter()?;
    let found = select(&config.layout, &Selector::url(url)?)?;
    found
        .into_iter()
        .find_map(|(dir, meta)| {
            let name = node(&meta, url)?.1.name.clone();
            Some((dir, meta, name))
        })
        .ok_or_else(|| Error::NoSuchInstance(url.to_string()))
}

/// Makes the replica whose URL this is the primary of its set, and returns
/// once it takes writes and the other servers (the old primary among them)
/// stream from it: a switchover, every URL still naming the same server.
pub fn promote(config: &Config, url: &str) -> Result<()> {
    use instance::control::{Order, send};
    let (dir, meta, name) = instance_of(config, url)?;
    if meta
        .node(&name)
        .is_some_and(|(role, _)| role == instance::Role::Primary)
    {
        return Err(Error::NotAReplica {
            url: url.to_string(),
            what: if meta.is_set() {
                "the primary of its set"
            } else {
                "a server without replicas"
            },
        });
    }
    let order = Order::Promote { node: name.clone() };
    send(
        &dir,
        &meta,
        &order,
        &format!("promote {name}"),
        ORDER_TIMEOUT,
    )
}

/// Restarts the server whose URL this is, or every server of a set from
/// its primary's URL, keeping the URLs; `options` replace the `-o` options
/// of those servers.
pub fn restart(config: &Config, url: &str, options: Option<Vec<String>>) -> Result<()> {
    use instance::control::{Order, send};
    let (dir, meta, name) = instance_of(config, url)?;
    let primary = meta
        .node(&name)
        .is_some_and(|(role, _)| role == instance::Role::Primary);
    let order = Order::Restart {
        node: (!primary).then(|| name.clone()),
        options,
    };
    let action = if primary {
        "restart".to_string()
    } else {
        format!("restart {name}")
    };
    send(&dir, &meta, &order, &action, ORDER_TIMEOUT)
}

/// Returns once every replica of the set whose URL (of any server) this is
/// has replayed all the primary had written when it was called; at once
/// for an instance without replicas. `timeout`: None waits for ever.
pub fn wait(config: &Config, url: &str, timeout: Option<std::time::Duration>) -> Result<()> {
    use instance::catchup::{Need, wait};
    let (_, meta, _) = instance_of(config, url)?;
    wait(&meta, Need::Replayed, timeout, &|| false)
}
