//! One file per subcommand; `dispatch` routes the parsed command line.
//! Only this layer writes to stdout.

mod datadir;
mod exec;
mod gc;
mod generate;
mod initdb;
mod list;
mod prove;
pub mod start;
mod stop;

use std::io::Write;
use std::process::ExitCode;

use crate::cli::{Cli, Command, GlobalArgs, Internal, StartArgs};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::{gc as collector, pool, reaper, standby};

pub use generate::man_page;

pub fn dispatch(cli: Cli) -> Result<ExitCode> {
    let global = cli.global;
    match cli.command {
        None => hand_out(&cli.start, &global),
        Some(Command::Start(args)) => hand_out(&args, &global),
        Some(Command::Initdb { datadir }) => {
            let path = initdb::run(&global, datadir.as_deref())?;
            print(&format!("{}\n", path.display()))
        }
        Some(Command::Stop(args)) => stop::run(&args, &global),
        Some(Command::List { json, standbys }) => list::run(json, standbys, &global),
        Some(Command::Gc { all }) => gc::run(all, &global),
        Some(Command::Exec(args)) => return exec::run(&args, &global).map(ExitCode::from),
        Some(Command::Prove(args)) => return prove::run(&args, &global).map(ExitCode::from),
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
    start::run(&args, global, args.owner_pid)?.deliver(format)
}

/// Runs a background process started by re-executing pgtmp.
pub fn internal(command: Internal) -> Result<ExitCode> {
    match command {
        Internal::Supervise(dir) => reaper::supervise(&dir).map(|()| ExitCode::SUCCESS),
        Internal::Refill(key) => refill(&key).map(|()| ExitCode::SUCCESS),
        Internal::Psql(file) => prove::psql_alone(&file).map(ExitCode::from),
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
