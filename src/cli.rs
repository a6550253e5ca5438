//! The command line, declared with clap: nothing here reads the environment
//! or decides anything. Doc comments are the `--help` text, the man page and
//! the completions, so keep them short and true. `cmd` turns these types
//! into the library's plain values; nothing below `cmd` sees them.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::config::parse_timeout;
use crate::format::Format;
use crate::instance::handshake::SUPERVISE;
use crate::instance::topology::MAX_REPLICAS;
use crate::proxy::PROXY;
use crate::refill::REFILL;

const EXAMPLES: &str = "\
Examples:
  url=$(pgtmp)               Unix-socket URL; database `test` is ready
  url=$(pgtmp -t)            TCP URL on 127.0.0.1 with a random password
  pgtmp -F jdbc              jdbc:postgresql://127.0.0.1:PORT/test?user=...&password=...
  eval \"$(pgtmp -F env)\"     export DATABASE_URL, PGHOST, PGPORT, PGUSER, ...
  pgtmp -w 5m -o '-c work_mem=64MB'
  pgtmp exec -- make test    a database for the length of one command
  pgtmp -f schema.sql        the schema loaded once, then served from a cached template
  pgtmp --replicas 2         a primary and two streaming replicas: three URLs, primary first
  pgtmp promote \"$replica\"   the replica becomes the primary; the others follow it
  pgtmp list                 this user's instances
  pgtmp stop \"$url\"          stop now and delete the data
";

/// A private, throwaway PostgreSQL in well under a second.
///
/// Prints a connection URL on stdout once the server accepts connections.
/// When no client has been connected for the idle timeout, the server stops
/// and its directory is deleted.
#[derive(Debug, Parser)]
#[command(
    name = "pgtmp",
    version,
    after_help = EXAMPLES,
    disable_help_subcommand = true,
    max_term_width = 100
)]
pub struct Cli {
    #[command(flatten)]
    pub start: StartArgs,

    #[command(flatten)]
    pub global: GlobalArgs,

    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Options every subcommand understands.
#[derive(Debug, Clone, Args, Default)]
pub struct GlobalArgs {
    /// Directory holding `postgres` and `initdb` [env: PGTMP_PG_BINDIR]
    #[arg(long, global = true, value_name = "DIR")]
    pub pg_bindir: Option<PathBuf>,

    /// Pick this PostgreSQL major version among those installed
    #[arg(long, global = true, value_name = "N")]
    pub pg_version: Option<u32>,

    /// As root, run PostgreSQL as USER [default: the one root made the base directory for, else postgres, else nobody]
    #[arg(long, global = true, value_name = "USER")]
    pub run_as: Option<String>,

    /// Locale of the databases: C.UTF-8 (Unicode case rules, code point order), C (bytes), or an installed one [env: PGTMP_LOCALE] [default: C.UTF-8]
    #[arg(long, global = true, value_name = "NAME", value_parser = clap::builder::NonEmptyStringValueParser::new())]
    pub locale: Option<String>,
}

/// How to start an instance (pg_tmp's options).
#[derive(Debug, Clone, Args, Default, PartialEq)]
pub struct StartArgs {
    /// Keep the data directory after the server stops, and say where
    #[arg(short = 'k', long)]
    pub keep: bool,

    /// One transaction shared by every connection, thrown away by `pgtmp rollback URL` (see SHARED TRANSACTIONS)
    ///
    /// Not with --replicas or --logical: the shared transaction is never committed, so
    /// nothing would reach a replica or a subscriber.
    #[arg(long, conflicts_with_all = ["replicas", "logical"])]
    pub shared_tx: bool,

    /// Listen on TCP, 127.0.0.1 only, on a free port, with a random password
    #[arg(short = 't', long)]
    pub tcp: bool,

    /// Listen on this TCP port (implies -t)
    #[arg(short = 'p', long, value_name = "PORT", value_parser = clap::value_parser!(u16).range(1..))]
    pub port: Option<u16>,

    /// Stop after this long without clients: 90s, 5m, or seconds; 0 never
    #[arg(short = 'w', long = "wait", value_name = "TIMEOUT", value_parser = parse_timeout)]
    pub timeout: Option<Duration>,

    /// Extra server options, e.g. '-c work_mem=64MB -c max_connections=20'; not the directories, port or listen addresses, which pgtmp sets
    #[arg(
        short = 'o',
        long = "options",
        value_name = "OPTS",
        allow_hyphen_values = true,
        value_parser = parse_server_options
    )]
    pub server_options: Option<String>,

    /// Use this data directory (initialised if missing or empty; never deleted)
    #[arg(short = 'd', long = "datadir", value_name = "DIR")]
    pub datadir: Option<PathBuf>,

    /// Keep up to N servers started ahead for the next hand-outs; 0 none [env: PGTMP_SPARES] [default: 16]
    #[arg(long, alias = "standby", value_name = "N", value_parser = clap::value_parser!(u8).range(0..=64))]
    pub spares: Option<u8>,

    /// Load an SQL file, a directory of *.sql, or a pg_dump -Fc/-Ft/-Fd dump into `test`; cached as a template (repeatable)
    ///
    /// SQL files run through psql with ON_ERROR_STOP (meta-commands such as \i work); a
    /// directory means its *.sql files in lexical order; pg_dump archives, told by their
    /// content, are restored with pg_restore --no-owner --no-privileges. The first call loads
    /// them into a template keyed by their contents (with what they include); later calls
    /// copy it without running anything.
    #[arg(
        short = 'f',
        long = "file",
        value_name = "PATH",
        conflicts_with = "datadir"
    )]
    pub files: Vec<PathBuf>,

    /// CREATE EXTENSION EXT in `test`, cached with the -f files (repeatable)
    #[arg(
        short = 'x',
        long = "extension",
        value_name = "EXT",
        conflicts_with = "datadir",
        value_parser = clap::builder::NonEmptyStringValueParser::new()
    )]
    pub extensions: Vec<String>,

    /// Freeze now() in `test` at TIMESTAMP (UTC unless it has a zone)
    ///
    /// A schema with its own now(), transaction_timestamp() and statement_timestamp() is put
    /// before pg_catalog on the search_path of database `test`. That covers unqualified calls
    /// in its sessions, and defaults, views and functions created by -f files or clients.
    /// Not covered: CURRENT_TIMESTAMP, CURRENT_DATE, LOCALTIMESTAMP and the other SQL keywords,
    /// pg_catalog.now(), clock_timestamp(), defaults and views that -x extensions or restored
    /// dumps create, sessions that set their own search_path, and other databases.
    #[arg(
        long,
        value_name = "TIMESTAMP",
        conflicts_with = "datadir",
        value_parser = clap::builder::NonEmptyStringValueParser::new()
    )]
    pub now: Option<String>,

    /// Also start N hot-standby replicas streaming from the server (1 to 10); one URL per line, the primary's first
    ///
    /// Each replica is a copy of the primary's template with its own socket directory (and
    /// port with -t), caught up with the primary when the URLs are printed. The set lives and
    /// dies together: clients on any server keep it alive, `pgtmp stop` with any server's URL
    /// stops all, -k keeps every data directory. See `pgtmp promote`, `pgtmp wait` and
    /// `pgtmp restart`.
    #[arg(
        long,
        value_name = "N",
        allow_negative_numbers = true,
        value_parser = clap::value_parser!(u8).range(1..=i64::from(MAX_REPLICAS)),
        conflicts_with = "datadir"
    )]
    pub replicas: Option<u8>,

    /// With --replicas: a commit returns once every replica has applied it (remote_apply)
    #[arg(long, requires = "replicas")]
    pub sync: bool,

    /// wal_level=logical, with room for replication slots, WAL senders and subscription workers
    ///
    /// For CREATE PUBLICATION here and CREATE SUBSCRIPTION in another instance (give it this
    /// one's `-F dsn`), pg_recvlogical and pg_logical_slot_get_changes(). With --replicas too.
    #[arg(long, conflicts_with = "datadir")]
    pub logical: bool,

    /// Print the connection as FORMAT [default: url]
    #[arg(short = 'F', long, value_name = "FORMAT", value_enum)]
    pub format: Option<Format>,

    /// Stop when this process is gone (used by `exec`)
    #[arg(long, hide = true, value_name = "PID")]
    pub owner_pid: Option<u32>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start an instance and print its URL (what `pgtmp` alone does)
    Start(StartArgs),

    /// Prepare a pool entry, or the directory given with -d, and print its path
    Initdb {
        /// Initialise this directory instead of a pool entry
        #[arg(short = 'd', long = "datadir", value_name = "DIR")]
        datadir: Option<PathBuf>,
    },

    /// Stop instances now; delete their data unless kept
    Stop(StopArgs),

    /// List this user's instances: URL, pid, age, idle, clients, directory
    List {
        /// Print a JSON array instead of tab-separated rows
        #[arg(long)]
        json: bool,

        /// List the spares (servers started ahead, not handed out) instead
        #[arg(long, alias = "standbys")]
        spares: bool,

        /// List the clients of --shared-tx instances instead: URL, pid, user, database, application, state, address
        #[arg(long, conflicts_with = "spares")]
        clients: bool,
    },

    /// Throw away what every client of a --shared-tx URL did since the hand-out (or the last rollback); they stay connected
    Rollback {
        /// The URL `pgtmp --shared-tx` printed
        url: String,
    },

    /// Remove what crashed runs left: dead instances, stale pool entries
    Gc {
        /// Also stop spares, empty the pool and remove templates (instances stay)
        #[arg(long)]
        all: bool,
    },

    /// Run COMMAND with a fresh database in DATABASE_URL and PG*, then drop it
    Exec(ExecArgs),

    /// Make the replica at URL the primary of its set; the old primary and the other replicas follow it
    Promote {
        /// The URL of a replica, as `pgtmp --replicas N` printed it
        url: String,
    },

    /// Wait until every replica of the set at URL has replayed what its primary has written
    Wait {
        /// The URL of any server of the set
        url: String,

        /// Give up after this long: 90s, 5m, or seconds; 0 never
        #[arg(long, value_name = "TIMEOUT", default_value = "60s", value_parser = parse_timeout)]
        timeout: Duration,
    },

    /// Restart the server at URL, or a whole set from its primary's URL, keeping the URLs
    Restart {
        /// The URL of a server; a primary's restarts its whole set
        url: String,

        /// Run with these server options from now on, instead of those given before
        #[arg(
            short = 'o',
            long = "options",
            value_name = "OPTS",
            allow_hyphen_values = true,
            value_parser = parse_server_options
        )]
        server_options: Option<String>,
    },

    /// Print a completion script for SHELL
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },

    /// Print the man page (roff) on stdout
    Man,
}

/// The background processes pgtmp starts by re-executing itself. They are
/// not part of the command line users see (nor of its completions).
#[derive(Debug)]
pub enum Internal {
    /// `__supervise DIR`: run one instance's server, stop it when idle.
    Supervise(PathBuf),
    /// `__refill KEY`: fill the pool, then collect garbage.
    Refill(String),
    /// `__proxy CONFIG`: run a shared-transaction proxy (its JSON config).
    Proxy(PathBuf),
}

impl Internal {
    /// Recognises `pgtmp __supervise DIR` and `pgtmp __refill KEY`.
    pub fn from_args(mut args: impl Iterator<Item = std::ffi::OsString>) -> Option<Internal> {
        let _program = args.next();
        let command = args.next()?;
        let operand = args.next()?;
        match command.to_str()? {
            SUPERVISE => Some(Internal::Supervise(operand.into())),
            REFILL => Some(Internal::Refill(operand.into_string().ok()?)),
            PROXY => Some(Internal::Proxy(operand.into())),
            _ => None,
        }
    }
}

/// `-F`: the library's `Format`, named and described for clap.
impl ValueEnum for Format {
    fn value_variants<'a>() -> &'a [Self] {
        &Format::ALL
    }

    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        Some(clap::builder::PossibleValue::new(self.name()).help(self.about()))
    }
}

#[derive(Debug, Clone, Args)]
#[group(required = true, multiple = false)]
pub struct StopArgs {
    /// The URL `pgtmp` printed
    pub url: Option<String>,

    /// The instance using this data directory
    #[arg(short = 'd', long = "datadir", value_name = "DIR")]
    pub datadir: Option<PathBuf>,

    /// Every instance of this user
    #[arg(long)]
    pub all: bool,
}

#[derive(Debug, Clone, Args)]
#[command(mut_arg("format", |a| a.hide(true)))]
pub struct ExecArgs {
    #[command(flatten)]
    pub start: StartArgs,

    /// The command and its arguments
    #[arg(required = true, trailing_var_arg = true, value_name = "COMMAND")]
    pub command: Vec<std::ffi::OsString>,
}

/// What pgtmp itself decides about a server, and what its URL promises:
/// the data directory, the socket directory and its permissions, the port
/// and the listen addresses. `-o` must not override them, or the URL would
/// point nowhere, or the server would be open to other users.
const MANAGED_SETTINGS: &[&str] = &[
    "config_file",
    "data_directory",
    "hba_file",
    "listen_addresses",
    "port",
    "unix_socket_directories",
    "unix_socket_group",
    "unix_socket_permissions",
];

/// `-o`: split as a shell would, and refuse options that would contradict
/// what pgtmp manages (`-D`, `-k`, `-p`, `-h`, `-i`, `-c port=...`, ...).
pub fn parse_server_options(s: &str) -> Result<String, String> {
    let words = shell_words::split(s).map_err(|e| format!("cannot split it: {e}"))?;
    let mut words = words.iter().map(String::as_str);
    while let Some(word) = words.next() {
        let setting = match word {
            "-D" | "-k" | "-p" | "-h" | "-i" => {
                return Err(format!(
                    "`{word}` is pgtmp's to set (use `-d`, `-p` or `-t` of pgtmp instead)"
                ));
            }
            "-c" => words.next().unwrap_or_default(),
            w if w.starts_with("-c") => &w[2..],
            w if w.starts_with("--") => &w[2..],
            w if ["-D", "-k", "-p", "-h", "-i"]
                .iter()
                .any(|f| w.starts_with(f)) =>
            {
                return Err(format!("`{}` is pgtmp's to set", &w[..2]));
            }
            _ => continue,
        };
        let name = setting
            .split('=')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase()
            .replace('-', "_");
        if MANAGED_SETTINGS.contains(&name.as_str()) {
            return Err(format!(
                "`{name}` is pgtmp's to set: the URL it prints depends on it"
            ));
        }
    }
    Ok(s.to_string())
}

impl Cli {
    /// Start options given before a subcommand (`pgtmp -t list`) mean
    /// nothing there; clap's own conflict rule would also reject the global
    /// options, which belong on either side of the subcommand.
    pub fn misplaced_start_options(&self) -> bool {
        self.command.is_some() && self.start != StartArgs::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn server_options_pgtmp_manages_are_refused() {
        for ok in [
            "-c work_mem=64MB",
            "-c max_connections=20 -N 20",
            "--work-mem=1MB",
            "",
        ] {
            assert_eq!(parse_server_options(ok).as_deref(), Ok(ok));
        }
        for bad in [
            "-p 5555",
            "-k /tmp",
            "-D /var/lib/postgresql",
            "-h *",
            "-i",
            "-k/tmp",
            "-c port=5555",
            "-cport=1",
            "-c listen_addresses=*",
            "--listen-addresses=*",
            "-c Unix_Socket_Directories=/tmp",
            "-c unix_socket_permissions=0777",
            "'unbalanced",
        ] {
            assert!(parse_server_options(bad).is_err(), "{bad}");
        }
    }
}
