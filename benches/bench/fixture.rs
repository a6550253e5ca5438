//! The fixture scenario: a schema-and-seed file of 1,000 statements,
//! generated here (100 tables, each with an index, a comment and seven
//! inserts), loaded once by `pgtmp -f`. Each later hand-out with it is
//! timed in the same rounds as a plain warm hand-out: once cached, a loaded
//! schema should cost (almost) what an empty database does.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::client;
use crate::pgtmp::Pgtmp;
use crate::workspace::Workspace;

const TABLES: usize = 100;
const INSERTS: usize = 7;
/// Statements per table: create, index, comment, and the inserts.
pub const STATEMENTS: usize = TABLES * (3 + INSERTS);

/// Writes the fixture into the workspace; returns its absolute path.
pub fn write(ws: &Workspace) -> Result<PathBuf, String> {
    let mut sql = String::new();
    for t in 0..TABLES {
        let _ = writeln!(
            sql,
            "create table item_{t} (id bigserial primary key, name text not null, \
             qty integer not null default 0, created timestamptz not null default now());"
        );
        let _ = writeln!(sql, "create index item_{t}_name on item_{t} (name);");
        let _ = writeln!(
            sql,
            "comment on table item_{t} is 'bench fixture table {t}';"
        );
        for i in 0..INSERTS {
            let _ = writeln!(
                sql,
                "insert into item_{t} (name, qty) values ('item {t}-{i}', {});",
                t * i
            );
        }
    }
    let path = ws.path("fixture.sql");
    std::fs::write(&path, sql).map_err(|e| format!("writing {}: {e}", path.display()))?;
    Ok(path)
}

/// The first hand-out with the fixture, which loads and caches it; checks
/// that the last table arrived. Returns how long that took.
pub fn prime(pgtmp: &Pgtmp, file: &Path) -> Result<Duration, String> {
    let t0 = Instant::now();
    let handout = pgtmp.start(&args(file))?;
    let took = t0.elapsed();
    let mut client = client::select1(&handout.url)?;
    let last = format!("select count(*) from item_{}", TABLES - 1);
    let count: i64 = client
        .query_one(last.as_str(), &[])
        .map_err(|e| format!("{last} on {}: {e}", handout.url))?
        .get(0);
    if count != INSERTS as i64 {
        return Err(format!("{last} answered {count}, not {INSERTS}"));
    }
    Ok(took)
}

/// `-f FILE`, as the hand-outs pass it.
pub fn args(file: &Path) -> [&str; 2] {
    ["-f", file.to_str().unwrap_or_default()]
}
