//! One file per subcommand: each turns its arguments into the library's
//! plain values, calls the library and prints what comes back. `dispatch`
//! routes the parsed command line. Only this layer writes to stdout.

mod exec;
mod gc;
mod generate;
mod initdb;
mod list;
mod orders;
mod rollback;
mod start;
mod stop;

use std::io::Write;
use std::process::ExitCode;

use crate::cli::{Cli, Command, GlobalArgs, Internal};
use crate::config::Options;
use crate::error::{Error, Result};
use crate::{reaper, refill};

pub fn dispatch(cli: Cli) -> Result<ExitCode> {
    let global = cli.global;
    match cli.command {
        None => start::run(&cli.start, &global),
        Some(Command::Start(args)) => start::run(&args, &global),
        Some(Command::Initdb { datadir }) => {
            let path = initdb::run(&global, datadir.as_deref())?;
            print(&format!("{}\n", path.display()))
        }
        Some(Command::Stop(args)) => stop::run(&args, &global),
        Some(Command::List {
            json,
            spares,
            clients,
        }) => list::run(json, spares, clients, &global),
        Some(Command::Gc { all }) => gc::run(all, &global),
        Some(Command::Rollback { url }) => rollback::run(&url),
        Some(Command::Exec(args)) => return exec::run(&args, &global).map(ExitCode::from),
        Some(Command::Completions { shell }) => generate::completions(shell),
        Some(Command::Man) => generate::man(),
        Some(Command::Promote { url }) => orders::promote(&url, &global),
        Some(Command::Wait { url, timeout }) => orders::wait(&url, timeout, &global),
        Some(Command::Restart {
            url,
            server_options,
        }) => orders::restart(&url, server_options.as_deref(), &global),
    }?;
    Ok(ExitCode::SUCCESS)
}

/// What the options every subcommand takes decide.
fn options(global: &GlobalArgs) -> Options {
    Options {
        pg_bindir: global.pg_bindir.clone(),
        pg_version: global.pg_version,
        run_as: global.run_as.clone(),
        spares: None,
        locale: global.locale.clone(),
        exe: None,
    }
}

/// Runs a background process started by re-executing pgtmp.
pub fn internal(command: Internal) -> Result<()> {
    // Detached for good: nothing of the caller's signal handling applies,
    // and what these start must not inherit it either.
    crate::platform::reset_signals();
    match command {
        Internal::Supervise(dir) => reaper::supervise(&dir),
        Internal::Refill(key) => refill::run(&key),
        Internal::Proxy(config) => crate::proxy::run(&config),
    }
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
