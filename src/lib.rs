//! pgtmp: a private, throwaway PostgreSQL in well under a second.
//!
//! `run` parses the command line, dispatches, and prints an error once.
//! The modules below `cmd` never write to stdout.

pub mod argv;
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
pub mod random;
pub mod reaper;
pub mod server_options;
pub mod standby;
pub mod trace;
pub mod url;

use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches};

use crate::error::Error;

/// The whole program; `main` only turns this into an exit status.
pub fn run() -> ExitCode {
    trace::init();
    let result = match cli::Internal::from_args(std::env::args_os()) {
        Some(internal) => cmd::internal(internal).map(|()| ExitCode::SUCCESS),
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
    eprintln!("pgtmp: error: {e}");
    if let Some(hint) = e.hint() {
        eprintln!("hint: {hint}");
    }
}
