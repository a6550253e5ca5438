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
use crate::setup::runner::SETUP;

const EXAMPLES: &str = "\
Examples:
  url=$(pgtmp)               postgresql:///test?host=%2F...: Unix socket; database `test` is ready
  url=$(pgtmp -t)            TCP URL on 127.0.0.1 with a random password
  pgtmp -F jdbc              jdbc:postgresql://127.0.0.1:PORT/test?user=...&password=...
  eval \"$(pgtmp -F env)\"     export DATABASE_URL, PGHOST, PGPORT, PGUSER, ...
  pgtmp -w 5m -o '-c work_mem=64MB'
  pgtmp exec -- make test    a database for the length of one command
  pgtmp -f schema.sql        the schema loaded once, then served from a cached template
  pgtmp --setup 'sqitch deploy' --key deploy --key sqitch.plan
                             migrations run once, then served from a cached template
  pgtmp snapshot \"$url\" s1  save all its databases as snapshot s1
  pgtmp --from s1            a copy of snapshot s1
  pgtmp reset \"$url\"         back to the state it was handed out in, same URL
  pgtmp --replicas 2         a primary and two streaming replicas: three URLs, primary first
  pgtmp promote \"$replica\"   the replica becomes the primary; the others follow it
  pgtmp list                 this user's instances
  pgtmp stop \"$url\"          stop now and delete the data
  pgtmp stop -w 60 -d DIR    as pg_tmp: after 60 s, stop once no client is connected
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

    /// Use the newest N.x among the installations found (see `pgtmp versions`); wins over PGTMP_PG_BINDIR
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

    /// Extra server options, as postgres takes them: '-c work_mem=64MB -N 20' (repeatable)
    ///
    /// Read as postgres reads its own arguments (grouped flags, attached values,
    /// --name=value); later settings win. `-p N` and `port=N` mean pgtmp's -p N; a loopback
    /// listen_addresses (127.0.0.1, localhost, ::1) needs -t. Refused: anything that would
    /// listen beyond loopback (-i, -h *), move or open the socket (-k, unix_socket_*), or
    /// replace pgtmp's data directory or authentication (-D, data_directory, hba_file, ...).
    #[arg(
        short = 'o',
        long = "options",
        value_name = "OPTS",
        allow_hyphen_values = true,
        value_parser = parse_server_options
    )]
    pub server_options: Vec<String>,

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

    /// Run CMD (through `sh -c`, as you) against a fresh database once, then hand out copies (repeatable)
    ///
    /// The first call starts a private server from the template (with -f, -x and --now
    /// applied), runs each CMD in order in the current directory with DATABASE_URL and the PG*
    /// variables set as `exec` sets them (over TCP with -t), and caches the result as a template
    /// keyed by the commands, the directory, the --key contents and the template below
    /// (PostgreSQL build, -f files...). Later calls run nothing. The output goes to standard
    /// error; a failing CMD caches nothing.
    #[arg(
        long = "setup",
        value_name = "CMD",
        conflicts_with = "datadir",
        value_parser = clap::builder::NonEmptyStringValueParser::new()
    )]
    pub setup: Vec<String>,

    /// A file or directory whose contents key the --setup cache: edit it and the setup runs again (repeatable)
    ///
    /// Directories count recursively: names and contents of files, following symbolic links;
    /// hidden entries and __pycache__ directories are skipped (a hidden path named here counts);
    /// modes, owners and times do not count.
    #[arg(long = "key", value_name = "PATH", requires = "setup")]
    pub setup_keys: Vec<PathBuf>,

    /// Hand out a copy of the snapshot NAME (see `pgtmp snapshot`)
    #[arg(
        long,
        value_name = "NAME",
        conflicts_with_all = ["datadir", "files", "extensions", "now"]
    )]
    pub from: Option<String>,
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

    /// Create pgTAP in `test`, cached with the fixtures (used by `prove`)
    #[arg(long, hide = true)]
    pub with_pgtap: bool,

    /// Start the background refill only once this process has exited (used by `prove`)
    #[arg(long, hide = true, value_name = "PID")]
    pub refill_after: Option<u32>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start an instance and print its URL (what `pgtmp` alone does)
    Start(StartArgs),

    /// Prepare a data directory for `start -d` and print its path (or initialise DIR)
    Initdb(InitdbArgs),

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

    /// Save the databases of a running instance as snapshot NAME; list or delete snapshots
    Snapshot(SnapshotArgs),

    /// Put a running instance back to the state it was handed out in; its URL stays
    Reset {
        /// The URL `pgtmp` printed
        url: String,
    },

    /// List the PostgreSQL installations pgtmp can use: version, bin directory, client tools, default
    Versions {
        /// Print a JSON array instead of tab-separated rows
        #[arg(long)]
        json: bool,
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

        /// Run with these server options from now on, instead of those given before (repeatable)
        #[arg(
            short = 'o',
            long = "options",
            value_name = "OPTS",
            allow_hyphen_values = true,
            value_parser = parse_server_options
        )]
        server_options: Vec<String>,
    },
    /// Run pgTAP test files as pg_prove does, each in a fresh database of its own
    #[command(after_help = PROVE_NOTES)]
    Prove(Box<ProveArgs>),

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
    /// `__setup PID`: run the `--setup` commands pgtmp (process PID) sends.
    Setup,
    /// `__proxy CONFIG`: run a shared-transaction proxy (its JSON config).
    Proxy(PathBuf),
    /// `__psql FILE`: run FILE with `prove`'s in-process psql, connected as
    /// the PG* variables say (what the tests compare with psql).
    Psql(PathBuf),
}

impl Internal {
    /// `__psql FILE`.
    pub const PSQL: &str = "__psql";

    /// Recognises `pgtmp __supervise DIR`, `pgtmp __refill KEY`,
    /// `pgtmp __setup PID`, `pgtmp __proxy CONFIG` and `pgtmp __psql FILE`.
    pub fn from_args(mut args: impl Iterator<Item = std::ffi::OsString>) -> Option<Internal> {
        let _program = args.next();
        let command = args.next()?;
        let operand = args.next()?;
        match command.to_str()? {
            SUPERVISE => Some(Internal::Supervise(operand.into())),
            REFILL => Some(Internal::Refill(operand.into_string().ok()?)),
            SETUP => Some(Internal::Setup),
            PROXY => Some(Internal::Proxy(operand.into())),
            Internal::PSQL => Some(Internal::Psql(operand.into())),
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
pub struct InitdbArgs {
    /// Initialise this directory instead of one of pgtmp's (never deleted)
    #[arg(short = 'd', long = "datadir", value_name = "DIR")]
    pub datadir: Option<PathBuf>,

    #[command(flatten)]
    pub ignored: Ignored,
}

/// pg_tmp's `-t` and `-o` where they mean nothing (`pg_tmp -t stop`):
/// accepted, as pg_tmp accepts any of its options with any subcommand, and
/// ignored with a note.
#[derive(Debug, Clone, Args, Default)]
pub struct Unused {
    #[arg(short = 't', hide = true)]
    pub tcp: bool,
    #[arg(
        short = 'o',
        hide = true,
        value_name = "OPTS",
        allow_hyphen_values = true
    )]
    pub server_options: Vec<String>,
}

/// The same for `initdb`, where `-k`, `-p` and `-w` mean nothing either.
#[derive(Debug, Clone, Args, Default)]
pub struct Ignored {
    #[command(flatten)]
    pub unused: Unused,
    #[arg(short = 'k', hide = true)]
    pub keep: bool,
    #[arg(short = 'p', hide = true, value_name = "PORT")]
    pub port: Option<String>,
    #[arg(short = 'w', hide = true, value_name = "TIMEOUT")]
    pub timeout: Option<String>,
}

impl Unused {
    /// The options given, as `-t`, `-o`.
    pub fn given(&self) -> Vec<&'static str> {
        given(&[("-t", self.tcp), ("-o", !self.server_options.is_empty())])
    }
}

impl Ignored {
    /// The options given, as `-k`, `-t`, ... in pg_tmp's order.
    pub fn given(&self) -> Vec<&'static str> {
        given(&[
            ("-k", self.keep),
            ("-t", self.unused.tcp),
            ("-p", self.port.is_some()),
            ("-w", self.timeout.is_some()),
            ("-o", !self.unused.server_options.is_empty()),
        ])
    }
}

/// The flags of `flags` that were given.
fn given(flags: &[(&'static str, bool)]) -> Vec<&'static str> {
    flags
        .iter()
        .filter_map(|&(flag, given)| given.then_some(flag))
        .collect()
}

#[derive(Debug, Clone, Args)]
#[command(group(
    clap::ArgGroup::new("which")
        .required(true)
        .multiple(false)
        .args(["url", "datadir", "all"])
))]
pub struct StopArgs {
    /// The URL `pgtmp` printed (any -F form)
    pub url: Option<String>,

    /// The instance using DIR: its data directory (as `initdb` printed it), or its socket directory (the URL's host)
    #[arg(short = 'd', long = "datadir", value_name = "DIR")]
    pub datadir: Option<PathBuf>,

    /// Every instance of this user
    #[arg(long)]
    pub all: bool,

    /// Keep the data directory, and say where
    #[arg(short = 'k', long)]
    pub keep: bool,

    /// Wait TIMEOUT, then stop once no client is connected, checking again every TIMEOUT
    #[arg(short = 'w', long = "wait", value_name = "TIMEOUT", value_parser = parse_timeout)]
    pub wait: Option<Duration>,

    /// Only if it listens on this port (pg_tmp's own stopper passes it)
    #[arg(short = 'p', long, value_name = "PORT", value_parser = clap::value_parser!(u16).range(1..))]
    pub port: Option<u16>,

    #[command(flatten)]
    pub unused: Unused,
}

#[derive(Debug, Clone, Args)]
#[command(group(
    clap::ArgGroup::new("what")
        .args(["url", "list", "delete"])
        .required(true)
        .multiple(false)
))]
pub struct SnapshotArgs {
    /// The URL `pgtmp` printed
    #[arg(requires = "name")]
    pub url: Option<String>,

    /// The snapshot's name: letters, digits, `-` and `_`
    #[arg(requires = "url")]
    pub name: Option<String>,

    /// List this user's snapshots
    #[arg(long)]
    pub list: bool,

    /// With --list: print a JSON array instead of tab-separated rows
    #[arg(long, requires = "list")]
    pub json: bool,

    /// Delete the snapshot NAME (instances handed out from it stay)
    #[arg(long, value_name = "NAME")]
    pub delete: Option<String>,
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

const PROVE_NOTES: &str = "\
Each test file runs in a database of its own, a copy of `test` with pgTAP created in it (and
the -f/-x/--now fixtures loaded, once): a file that commits cannot affect another, whatever the
order or -j. Files run with psql's semantics (ON_ERROR_STOP, \\i, \\ir, \\set), in-process
where pgtmp can, else by psql. Output, verdicts and exit status are pg_prove's: 0 all passed,
1 something failed, 2 usage, 130 interrupted.

pg_prove options whose short form pgtmp's start options take: --failures (-f is --file),
--match (-x is --extension), --timer (-t is --tcp), --comments (on; -o is --options).
pg_prove's -d/-U/-h/-p name a database pgtmp makes itself.

Examples:
  pgtmp prove --ext .sql -r t/         every t/**/*.sql, each in a fresh database
  pgtmp prove -j2 -f schema.sql t/     the schema loaded once, files two at a time
  pgtmp prove -f tests.sql -R -s tests xUnit-style test functions: runtests('tests')
  pgtmp prove --junit report.xml t/    and a JUnit report for CI
";

/// `pgtmp prove`: pg_prove's options, where pgtmp's start options leave
/// them room.
#[derive(Debug, Clone, Args)]
#[command(mut_arg("format", |a| a.hide(true)))]
pub struct ProveArgs {
    #[command(flatten)]
    pub start: StartArgs,

    /// Test files, or directories of them [default: t, or . with -r]
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,

    /// Run N test files at once (at most 64)
    #[arg(short = 'j', long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub jobs: u16,

    /// Test files in directories end with EXT (repeatable) [default: .pg]
    #[arg(long, value_name = "EXT")]
    pub ext: Vec<String>,

    /// Look for test files in subdirectories too
    #[arg(short = 'r', long)]
    pub recurse: bool,

    /// Print every line of TAP
    #[arg(short = 'v', long)]
    pub verbose: bool,

    /// Print the failed tests' lines too (pg_prove's -f)
    #[arg(long)]
    pub failures: bool,

    /// Print the TODO and SKIP tests' lines too
    #[arg(long)]
    pub directives: bool,

    /// Print only the failing files and the summary
    #[arg(short = 'q', long)]
    pub quiet: bool,

    /// Print only the summary
    #[arg(short = 'Q', long = "QUIET")]
    pub really_quiet: bool,

    /// Print when each file started and how long it took (pg_prove's --timer)
    #[arg(long)]
    pub timer: bool,

    /// Every parse error in the summary, not the first five
    #[arg(long)]
    pub parse: bool,

    /// Run the files in random order
    #[arg(long)]
    pub shuffle: bool,

    /// Run the files in reverse order
    #[arg(long)]
    pub reverse: bool,

    /// Select, order and save by earlier runs, kept in ./.pgtmp-prove: save, last, failed, passed, all, hot, todo, slow, fast, new, old, fresh (comma-separated, each with :N to limit)
    #[arg(long, value_name = "OPTS")]
    pub state: Vec<String>,

    /// Run xUnit-style test functions with runtests() instead of files
    #[arg(short = 'R', long)]
    pub runtests: bool,

    /// runtests() of this schema (implies -R)
    #[arg(short = 's', long, value_name = "SCHEMA")]
    pub schema: Option<String>,

    /// runtests() of the functions matching REGEX (implies -R; pg_prove's -x)
    #[arg(long = "match", value_name = "REGEX")]
    pub pattern: Option<String>,

    /// Set a psql printing option, as psql --pset (repeatable)
    #[arg(short = 'P', long, value_name = "KEY=VALUE", value_parser = parse_key_value)]
    pub pset: Vec<(String, String)>,

    /// Set a psql variable, as psql --set (repeatable)
    #[arg(short = 'S', long = "set", value_name = "KEY=VALUE", value_parser = parse_key_value)]
    pub variables: Vec<(String, String)>,

    /// The psql to run scripts that need psql itself [default: the server's]
    #[arg(short = 'b', long, value_name = "PATH")]
    pub psql_bin: Option<PathBuf>,

    /// A non-zero exit status of psql is not a failure
    #[arg(long)]
    pub ignore_exit: bool,

    /// Print the test files that would run, and run none
    #[arg(short = 'D', long)]
    pub dry: bool,

    /// Stop starting files after the first one that fails
    #[arg(long)]
    pub fail_fast: bool,

    /// Keep the databases of failing files, and the server, and print their URLs
    #[arg(long)]
    pub keep_failed: bool,

    /// Write a JUnit XML report to FILE
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,

    /// Write a JSON report to FILE
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,

    /// pg_prove's database options have no meaning here: pgtmp makes the databases
    #[arg(short = 'U', long, hide = true, value_name = "NAME")]
    pub username: Option<String>,

    #[arg(long, hide = true, value_name = "NAME")]
    pub dbname: Option<String>,

    #[arg(long, hide = true, value_name = "HOST")]
    pub host: Option<String>,
}

/// `KEY=VALUE` of `--set` and `--pset`.
fn parse_key_value(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
        _ => Err("expected KEY=VALUE".into()),
    }
}

/// `-o`: refused when `postgres` would read it as something pgtmp must
/// decide (see `server_options`); kept as given otherwise.
pub fn parse_server_options(s: &str) -> Result<String, String> {
    crate::server_options::parse(s).map(|_| s.to_string())
}

impl Cli {
    /// What clap cannot check alone, as a usage error: `-F` with `exec` or
    /// `prove`, `--replicas` with `prove`, `-o` listen addresses that do
    /// not fit the listener, and a port in `restart -o`.
    pub fn usage_error(&self) -> Option<String> {
        let start = match &self.command {
            None => &self.start,
            Some(Command::Start(args)) => args,
            Some(Command::Exec(e)) if e.start.format.is_some() => {
                return Some(
                    "`-F` has no effect with `exec`: COMMAND gets DATABASE_URL and the PG* variables"
                        .into(),
                );
            }
            Some(Command::Exec(e)) => &e.start,
            Some(Command::Prove(p)) if p.start.format.is_some() => {
                return Some(
                    "`-F` has no effect with `prove`: pgtmp makes a database for each test file"
                        .into(),
                );
            }
            Some(Command::Prove(p)) if p.start.replicas.is_some() => {
                return Some(
                    "`--replicas` has no use with `prove`: its test files reach the primary only"
                        .into(),
                );
            }
            Some(Command::Prove(p)) => &p.start,
            Some(Command::Restart { server_options, .. }) => {
                let o = crate::server_options::ServerOptions::parse_all(server_options).ok()?;
                return o.port.is_some().then(|| {
                    "`-o`: `restart` keeps the server's port, which its URL names".into()
                });
            }
            Some(_) => return None,
        };
        let check = || -> Result<(), String> {
            let o = crate::server_options::ServerOptions::parse_all(&start.server_options)?;
            o.check_listener(start.listens_on_tcp() || o.port.is_some(), start.shared_tx)
        };
        check().err().map(|e| format!("`-o`: {e}"))
    }
}

impl StartArgs {
    /// `-t`, `-p`, or a format that needs TCP.
    pub fn listens_on_tcp(&self) -> bool {
        self.tcp || self.port.is_some() || self.format.is_some_and(crate::format::Format::needs_tcp)
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
    fn server_options_are_checked_in_the_parser() {
        assert_eq!(
            parse_server_options("-c work_mem=64MB").as_deref(),
            Ok("-c work_mem=64MB")
        );
        assert!(parse_server_options("-Fi").is_err());
    }

    #[test]
    fn listen_addresses_must_fit_the_listener() {
        use clap::Parser;
        let error = |args: &[&str]| Cli::parse_from(args).usage_error();
        assert!(error(&["pgtmp", "-t", "-o", "-c listen_addresses=127.0.0.1"]).is_none());
        assert!(error(&["pgtmp", "-o", "-p 5433 -h localhost"]).is_none());
        assert!(error(&["pgtmp", "-o", "-h ::1"]).is_some_and(|e| e.contains("`-t`")));
        assert!(error(&["pgtmp", "exec", "-o", "-h ::1", "--", "true"]).is_some());
        assert!(error(&["pgtmp", "start", "-t", "-o", "-h ''"]).is_some());
        assert!(error(&["pgtmp", "exec", "-F", "url", "--", "true"]).is_some());
        assert!(error(&["pgtmp", "prove", "--replicas", "1", "t/"]).is_some());
        assert!(error(&["pgtmp", "prove", "--logical", "t/"]).is_none());
        assert!(error(&["pgtmp", "restart", "URL", "-o", "-c port=5"]).is_some());
        assert!(error(&["pgtmp", "restart", "URL", "-o", "-B 16MB"]).is_none());
    }
}
