//! One file per subcommand: each turns its arguments into the library's
//! plain values, calls the library and prints what comes back. `dispatch`
//! routes the parsed command line. Only this layer writes to stdout.

mod exec;
mod gc;
mod generate;
mod initdb;
mod list;
mod orders;
mod prove;
mod reset;
mod rollback;
mod snapshot;
mod start;
mod stop;
mod versions;

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use crate::cli::{Cli, Command, GlobalArgs, Internal};
use crate::config::Options;
use crate::error::{Error, Result};
use crate::{reaper, refill, setup};

pub fn dispatch(cli: Cli) -> Result<ExitCode> {
    let global = cli.global;
    match cli.command {
        None => start::run(&cli.start, &global),
        Some(Command::Start(args)) => start::run(&args, &global),
        Some(Command::Initdb(args)) => {
            note_ignored(&args.ignored.given(), "initdb");
            let path = initdb::run(&global, args.datadir.as_deref())?;
            print_value(&path.display().to_string())
        }
        Some(Command::Stop(args)) => {
            note_ignored(&args.unused.given(), "stop");
            stop::run(&args, &global)
        }
        Some(Command::List {
            json,
            spares,
            clients,
        }) => list::run(json, spares, clients, &global),
        Some(Command::Snapshot(args)) => snapshot::run(&args, &global),
        Some(Command::Reset { url }) => reset::run(&url, &global),
        Some(Command::Versions { json }) => versions::run(json, &global),
        Some(Command::Gc { all }) => gc::run(all, &global),
        Some(Command::Rollback { url }) => rollback::run(&url),
        Some(Command::Exec(args)) => return exec::run(&args, &global).map(ExitCode::from),
        Some(Command::Prove(args)) => return prove::run(&args, &global).map(ExitCode::from),
        Some(Command::Completions { shell }) => generate::completions(shell),
        Some(Command::Man) => generate::man(),
        Some(Command::Promote { url }) => orders::promote(&url, &global),
        Some(Command::Wait { url, timeout }) => orders::wait(&url, timeout, &global),
        Some(Command::Restart {
            url,
            server_options,
        }) => orders::restart(&url, &server_options, &global),
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

/// Says that pg_tmp options given where they mean nothing are ignored.
fn note_ignored(flags: &[&str], subcommand: &str) {
    if !flags.is_empty() {
        crate::say!(
            "pgtmp: note: {} ignored: no effect with `{subcommand}`",
            flags.join(" ")
        );
    }
}

/// Runs a background process started by re-executing pgtmp.
pub fn internal(command: Internal) -> Result<ExitCode> {
    // Detached for good: nothing of the caller's signal handling applies,
    // and what these start must not inherit it either.
    crate::platform::reset_signals();
    match command {
        Internal::Supervise(dir) => reaper::supervise(&dir).map(|()| ExitCode::SUCCESS),
        Internal::Refill(key) => refill::run(&key).map(|()| ExitCode::SUCCESS),
        Internal::Setup => setup::job::serve().map(|()| ExitCode::SUCCESS),
        Internal::Proxy(config) => crate::proxy::run(&config).map(|()| ExitCode::SUCCESS),
        Internal::Psql(file) => prove::psql_alone(&file).map(ExitCode::from),
    }
}

/// Prints `rows` as a JSON array, or as tab-separated lines (`row` makes
/// each) under `header` when stdout is a terminal.
fn print_table<T: serde::Serialize>(
    rows: &[T],
    json: bool,
    header: &str,
    row: impl Fn(&T) -> String,
) -> Result<()> {
    if json {
        let text = serde_json::to_string_pretty(rows).expect("rows serialize");
        return print(&format!("{text}\n"));
    }
    let mut out = String::new();
    if std::io::stdout().is_terminal() {
        out.push_str(header);
    }
    for r in rows {
        out.push_str(&row(r));
    }
    print(&out)
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
