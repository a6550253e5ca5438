//! The harness every test uses: a private temp root with its guard, the
//! command runner, and small probes of URLs, databases and processes.

pub mod command;
pub mod db;
pub mod fake;
pub mod mount;
pub mod net;
pub mod pgtmp;
pub mod poll;
pub mod procs;
pub mod root;
pub mod tree;
pub mod tty;
pub mod url;
pub mod user;

pub use root::TestRoot;
pub use user::Who;

/// The PostgreSQL client used where a test needs a shell-level client
/// (`exec`, another OS user). `/usr/bin/psql` is a slow perl wrapper.
pub const PSQL: &str = "/usr/lib/postgresql/15/bin/psql";
