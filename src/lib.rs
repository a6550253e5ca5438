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

/// `eprintln!` that never panics: when stderr is a pipe whose reader is
/// gone (`pgtmp prove t 2>&1 | head`), the line is lost, not the run.
/// `eprintln!` itself is refused by clippy (`clippy.toml`).
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}
pub(crate) use say;

pub(crate) mod argv;
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
pub(crate) mod prove;
pub(crate) mod proxy;
pub(crate) mod psql;
pub(crate) mod random;
pub(crate) mod reaper;
pub(crate) mod refill;
pub(crate) mod reset;
pub(crate) mod server_options;
pub(crate) mod setup;
pub(crate) mod snapshot;
pub(crate) mod spare;
pub(crate) mod stream;
pub(crate) mod trace;
pub(crate) mod url;
pub(crate) mod wire;

pub use config::{Config, Options};
pub use error::{Error, Result};
pub use format::Format;
pub use handout::{Handout, Request, Topology, hand_out};
pub use pg::Version;

use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches};

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
        Some(internal) => cmd::internal(internal),
        None => {
            let command = cli::Cli::command();
            let args = argv::subcommand_first(std::env::args_os().collect(), &command);
            let cli = cli::Cli::from_arg_matches(&command.get_matches_from(args))
                .unwrap_or_else(|e| e.exit());
            if let Some(message) = cli.usage_error() {
                cli::Cli::command()
                    .error(clap::error::ErrorKind::ArgumentConflict, message)
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
    crate::say!("pgtmp: error: {e}");
    if let Some(hint) = e.hint() {
        crate::say!("hint: {hint}");
    }
}

/// This user's running instances (or, with `spares`, the servers started
/// ahead that nobody claimed yet), as `pgtmp list --json` prints them.
pub fn list(config: &Config, spares: bool) -> Result<Vec<json::ListEntry>> {
    config.enter()?;
    Ok(instance::registry::entries(&config.layout, spares))
}

/// Puts the instance whose URL `pgtmp` printed back to the state it was
/// handed out in (a fresh copy of its template), keeping its URL, port,
/// password and idle timeout; its clients are disconnected.
pub fn reset(config: &Config, url: &str) -> Result<()> {
    reset::reset(config, url)
}

/// Saves the databases of the instance at `url` as snapshot `name` (this
/// user's; an older one of that name is replaced); `Request::from` hands
/// out copies of it.
pub fn snapshot(config: &Config, url: &str, name: &str) -> Result<()> {
    snapshot::take::take(config, url, name)
}

/// This user's snapshots, as `pgtmp snapshot --list --json` prints them.
pub fn snapshots(config: &Config) -> Result<Vec<json::SnapshotEntry>> {
    config.enter()?;
    Ok(snapshot::list(&config.layout))
}

/// Deletes snapshot `name`; instances handed out from it keep running.
pub fn delete_snapshot(config: &Config, name: &str) -> Result<()> {
    config.enter()?;
    snapshot::delete(&config.layout, name)
}

/// Stops the instance whose URL `pgtmp` printed (in any of its forms, of
/// any server of a set) and deletes its data unless kept; returns the data
/// directories kept.
pub fn stop(config: &Config, url: &str) -> Result<Vec<std::path::PathBuf>> {
    use instance::select::{Selector, select};
    config.enter()?;
    let mut kept = Vec::new();
    for (dir, _) in select(&config.layout, &Selector::url(url)?)? {
        kept.extend(instance::stop::stop(&dir, false)?);
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
    let options = options
        .map(|words| restart_options(&meta, &name, &words))
        .transpose()?;
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

/// `restart -o`, read as `postgres` reads it and checked as `start` checks
/// it (nothing that opens the server or moves its socket), for the server
/// `name` of `meta`: the arguments its postmaster gets from then on. The
/// port is refused: the URLs name the one the server has.
fn restart_options(meta: &instance::Meta, name: &str, words: &[String]) -> Result<Vec<String>> {
    let refuse = |reason: String| Error::ServerOptions {
        options: words.join(" "),
        reason,
    };
    let options = server_options::ServerOptions::from_words(words).map_err(refuse)?;
    if options.port.is_some() {
        return Err(refuse(
            "`restart` keeps the server's port, which its URL names".into(),
        ));
    }
    let tcp = meta.node(name).is_some_and(|(_, s)| s.tcp);
    let proxied = meta.endpoint != instance::endpoint::Endpoint::Primary;
    options.check_listener(tcp, proxied).map_err(refuse)?;
    Ok(handout::server_args(&options, tcp))
}

/// Returns once every replica of the set whose URL (of any server) this is
/// has replayed all the primary had written when it was called; at once
/// for an instance without replicas. `timeout`: None waits for ever.
pub fn wait(config: &Config, url: &str, timeout: Option<std::time::Duration>) -> Result<()> {
    use instance::catchup::{Need, wait};
    let (_, meta, _) = instance_of(config, url)?;
    wait(&meta, Need::Replayed, timeout, &|| false)
}

/// What `pgtmp versions` reports.
#[derive(Debug)]
pub struct Versions {
    /// Every installation pgtmp can use, newest first.
    pub installations: Vec<json::Installation>,
    /// Directories holding a `postgres` that cannot be used, and why.
    pub unusable: Vec<(std::path::PathBuf, String)>,
    /// Why none of them is the default: none found, or none of
    /// `--pg-version`.
    pub no_default: Option<Error>,
}

/// The PostgreSQL installations pgtmp can use, as `pgtmp versions` lists
/// them (versions read from each `postgres --version`, remembered in the
/// base directory until the binary changes).
pub fn versions(config: &Config) -> Result<Versions> {
    config.enter()?;
    let all = pg::discover(&config.pg);
    let mut installations: Vec<json::Installation> = all
        .found
        .iter()
        .enumerate()
        .map(|(i, f)| json::Installation {
            bindir: f.install.bindir.clone(),
            default: all.chosen == Some(i),
            found_by: f.found_by.clone(),
            major: f.install.version.major,
            tools: pg::Tool::ALL
                .iter()
                .filter(|t| f.install.has(**t))
                .map(|t| t.name().to_string())
                .collect(),
            version: f.install.version.clone(),
        })
        .collect();
    installations.sort_by(|a, b| b.version.cmp(&a.version));
    // The same search gives the error that says where it looked.
    let no_default = all
        .chosen
        .is_none()
        .then(|| pg::find(&config.pg).err())
        .flatten();
    Ok(Versions {
        installations,
        unusable: all.skipped,
        no_default,
    })
}
