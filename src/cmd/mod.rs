//! One file per subcommand; `dispatch` routes the parsed command line.
//! Only this layer writes to stdout.

mod datadir;
mod exec;
mod gc;
mod generate;
mod initdb;
mod list;
pub mod start;
mod stop;

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use crate::cli::{Cli, Command, GlobalArgs, Internal, StartArgs};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::format::Format;
use crate::{gc as collector, pool, reaper, standby};

pub use generate::man_page;

pub fn dispatch(cli: Cli) -> Result<ExitCode> {
    let global = cli.global;
    match cli.command {
        None => hand_out(&cli.start, &global),
        Some(Command::Start(args)) => hand_out(&args, &global),
        Some(Command::Initdb(args)) => {
            note_ignored(&args.ignored.given(), "initdb");
            let path = initdb::run(&global, args.datadir.as_deref())?;
            print_value(&path.display().to_string())
        }
        Some(Command::Stop(args)) => {
            note_ignored(&args.unused.given(), "stop");
            stop::run(&args, &global)
        }
        Some(Command::List { json, standbys }) => list::run(json, standbys, &global),
        Some(Command::Gc { all }) => gc::run(all, &global),
        Some(Command::Exec(args)) => return exec::run(&args, &global).map(ExitCode::from),
        Some(Command::Completions { shell }) => generate::completions(shell),
        Some(Command::Man) => generate::man(),
    }?;
    Ok(ExitCode::SUCCESS)
}

/// `pgtmp [start]`: start an instance and print it in the format asked for.
fn hand_out(args: &StartArgs, global: &GlobalArgs) -> Result<()> {
    let format = args.format.unwrap_or_default();
    let args = StartArgs {
        tcp: args.tcp || format.needs_tcp(),
        ..args.clone()
    };
    let handout = start::run(&args, global, args.owner_pid)?;
    // `exec` sets PGUSER for its command itself.
    if format == Format::Url && args.owner_pid.is_none() {
        warn_of_pguser(&handout.url);
    }
    handout.deliver(format)
}

/// The socket URL names no user, as pg_tmp's: libpq and most drivers then
/// take PGUSER, when set, over the OS user whose name the role has.
fn warn_of_pguser(url: &str) {
    let role = crate::process::login_name();
    if let Ok(other) = std::env::var("PGUSER")
        && !other.is_empty()
        && other != role
        && crate::url::parse(url).is_some_and(|t| t.user.is_empty())
    {
        eprintln!(
            "pgtmp: note: PGUSER={other} is set, but the role is {role}: clients that read PGUSER will fail (unset it, or use `-F url-with-user`)"
        );
    }
}

/// Says that pg_tmp options given where they mean nothing are ignored.
fn note_ignored(flags: &[&str], subcommand: &str) {
    if !flags.is_empty() {
        eprintln!(
            "pgtmp: note: {} ignored: no effect with `{subcommand}`",
            flags.join(" ")
        );
    }
}

/// Runs a background process started by re-executing pgtmp.
pub fn internal(command: Internal) -> Result<()> {
    match command {
        Internal::Supervise(dir) => reaper::supervise(&dir),
        Internal::Refill(key) => refill(&key),
    }
}

/// The background refill: standbys first, at normal priority since a
/// hand-out may be about to want one (and their servers keep the priority
/// they start with); then, niced, the pool and a quiet garbage collection.
fn refill(key: &str) -> Result<()> {
    use pool::refill::{BINDIR_ENV, ROLE_ENV, STANDBY_ENV};
    let began = std::time::SystemTime::now();
    crate::process::new_session();
    let config = Config::resolve(&GlobalArgs::default())?;
    let standbys = match (
        std::env::var(STANDBY_ENV),
        std::env::var(ROLE_ENV),
        std::env::var_os(BINDIR_ENV),
    ) {
        (Ok(listener), Ok(role), Some(bindir)) => standby::replenish::run(
            &config,
            &standby::replenish::Kind {
                key: key.to_string(),
                role,
                bindir: bindir.into(),
                tcp: listener == "tcp",
            },
            began,
        ),
        _ => Ok(()),
    };
    crate::process::be_nice();
    pool::refill::run(&config.layout, key, config.pool_size)?;
    collector::collect(&config.layout, Some(key), false)?;
    standbys
}

/// Writes a single value (a path) as pg_tmp writes its URL: newline-ended
/// on a terminal only (see `format::one_value`).
pub fn print_value(text: &str) -> Result<()> {
    print(&crate::format::one_value(
        text,
        std::io::stdout().is_terminal(),
    ))
}

/// Writes the product to stdout; a closed pipe (`pgtmp list | head`) is not
/// an error.
pub fn print(text: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(Error::io("write", "standard output")(e)),
    }
}
