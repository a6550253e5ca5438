//! pgtmp: a private, throwaway PostgreSQL in well under a second.
//!
//! `run` parses the command line, dispatches, and prints an error once.
//! The modules below `cmd` never write to stdout.

pub mod child;
pub mod cli;
pub mod cmd;
pub mod config;
pub mod error;
pub mod fixture;
pub mod format;
pub mod gc;
pub mod instance;
pub mod lock;
pub mod paths;
pub mod pg;
pub mod pool;
pub mod process;
pub mod prove;
pub mod psql;
pub mod random;
pub mod reaper;
pub mod standby;
pub mod trace;
pub mod url;
pub mod wire;

use std::process::ExitCode;

use clap::{CommandFactory, Parser};

use crate::error::Error;

/// The whole program; `main` only turns this into an exit status.
pub fn run() -> ExitCode {
    trace::init();
    let result = match cli::Internal::from_args(std::env::args_os()) {
        Some(internal) => cmd::internal(internal),
        None => {
            let cli = cli::Cli::parse();
            if cli.misplaced_start_options() {
                cli::Cli::command()
                    .error(
                        clap::error::ErrorKind::ArgumentConflict,
                        "start options (-k -t -p -w -o -d -f -x --now) go after `start`, or with no subcommand at all",
                    )
                    .exit();
            }
            let format_given = match &cli.command {
                Some(cli::Command::Exec(e)) => e.start.format.is_some(),
                Some(cli::Command::Prove(p)) => p.start.format.is_some(),
                _ => false,
            };
            if format_given {
                cli::Cli::command()
                    .error(
                        clap::error::ErrorKind::ArgumentConflict,
                        "`-F` has no effect with `exec` and `prove`: they hand the database to their commands and tests",
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
