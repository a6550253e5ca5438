//! The integration tests: the real `pgtmp` binary against a real PostgreSQL.
//!
//! One binary for every test (`autotests = false`), as ripgrep and just do,
//! so the harness in `support` is compiled once. Each test owns a private
//! root under /dev/shm with `PGTMP_DIR` inside it and `PG*` scrubbed from the
//! environment; its guard stops whatever the test started, even on panic.
//! No test asserts a timing: conditions are polled against generous deadlines.

// eprintln! is refused in the product (clippy.toml: a closed stderr must
// not end a run); here a closed stderr may end the run.
#![allow(clippy::disallowed_macros)]

mod support;

mod badinput;
mod clients;
mod datadir;
mod discovery;
mod disk;
mod docs;
mod errors;
mod exec;
mod faults;
mod fixtures;
mod flags;
mod formats;
mod handout;
mod lifecycle;
mod load;
mod locale;
mod migrations;
mod parallel;
mod paths;
mod pg_tmp;
mod pool;
mod prove;
mod prove_psql;
mod proxy;
mod races;
mod reaper;
mod replicas;
mod reset;
mod security;
mod setup;
mod snapshot;
mod spare;
mod tcp;
mod users;
mod versions;
