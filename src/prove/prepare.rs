//! The databases of the run, made ahead of the workers: `CREATE DATABASE
//! ... TEMPLATE test` (`STRATEGY FILE_COPY` on PostgreSQL 15+, which copies
//! the files: on tmpfs the fast way; older versions always copy files),
//! then the connection the file will use, then, when there is CPU to spare,
//! a warm-up of that backend: the first pgTAP calls of a fresh backend
//! compile PL/pgSQL and fill catalog caches, which is most of a small
//! file's time. The warm-up calls the common pgTAP functions in a
//! transaction that is rolled back, so that the file finds them compiled
//! and nothing else changed.
//!
//! Preparers claim jobs in order and may run `lookahead` jobs ahead of the
//! workers; workers take the prepared jobs strictly in order, whichever
//! preparer finished first.

use std::collections::BTreeMap;
use std::sync::{Condvar, Mutex};

use super::execute;
use super::runner::{Plan, database_name};
use crate::wire::{Connection, TxStatus};

/// Warms a fresh backend: what most pgTAP files call first, and the
/// helpers behind them, compiled; everything they created rolled back.
const WARM_UP: &str = "BEGIN;
SELECT plan(8);
SELECT ok(true);
SELECT is(1, 1);
SELECT isnt(1, 2);
SELECT has_table('pg_catalog'::name, 'pg_class'::name, 'x');
SELECT results_eq('SELECT 1', ARRAY[1]);
SELECT throws_ok('SELECT 1/0');
SELECT lives_ok('SELECT 1');
SELECT pass();
SELECT * FROM finish();
ROLLBACK;";

/// A job's database, with the connection of an in-process file.
#[derive(Debug)]
pub struct Prepared {
    pub index: usize,
    pub database: String,
    pub ready: Result<Option<Connection>, String>,
    /// Why the job needs psql, when it does.
    pub psql_because: Option<String>,
}

#[derive(Debug, Default)]
struct State {
    next_prepare: usize,
    next_run: usize,
    ready: BTreeMap<usize, Prepared>,
    stopped: bool,
}

/// Where preparers put jobs and workers take them, in order.
#[derive(Debug)]
pub struct Queue {
    state: Mutex<State>,
    changed: Condvar,
    jobs: usize,
    lookahead: usize,
}

impl Queue {
    pub fn new(jobs: usize, lookahead: usize) -> Queue {
        Queue {
            state: Mutex::default(),
            changed: Condvar::new(),
            jobs,
            lookahead: lookahead.max(1),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The next job to prepare, once it is no more than `lookahead` ahead
    /// of the workers; `None` when there is none left or the run stopped.
    fn claim(&self) -> Option<usize> {
        let mut s = self.lock();
        loop {
            if s.stopped || s.next_prepare >= self.jobs {
                return None;
            }
            if s.next_prepare < s.next_run + self.lookahead {
                s.next_prepare += 1;
                return Some(s.next_prepare - 1);
            }
            s = self.changed.wait(s).unwrap_or_else(|p| p.into_inner());
        }
    }

    fn put(&self, prepared: Prepared) {
        self.lock().ready.insert(prepared.index, prepared);
        self.changed.notify_all();
    }

    /// The next job in order, once prepared; `None` when none is left or
    /// the run stopped.
    pub fn take(&self) -> Option<Prepared> {
        let mut s = self.lock();
        loop {
            if s.stopped || s.next_run >= self.jobs {
                return None;
            }
            let next = s.next_run;
            if let Some(p) = s.ready.remove(&next) {
                s.next_run += 1;
                self.changed.notify_all();
                return Some(p);
            }
            s = self.changed.wait(s).unwrap_or_else(|p| p.into_inner());
        }
    }

    /// No job starts from now on; prepared ones are dropped.
    pub fn stop(&self) {
        let mut s = self.lock();
        s.stopped = true;
        s.ready.clear();
        drop(s);
        self.changed.notify_all();
    }
}

/// A preparer: claims jobs and prepares them until none is left.
pub fn preparer(plan: &Plan, queue: &Queue, warm: bool) {
    let owned = execute::session_params();
    let params: Vec<(&str, &str)> = owned.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let mut admin = match Connection::connect(&plan.server, &params[..1]) {
        Ok(c) => c,
        Err(e) => {
            // Every job fails the same way.
            while let Some(index) = queue.claim() {
                queue.put(Prepared {
                    index,
                    database: String::new(),
                    ready: Err(format!("pgtmp: {}\n", e.0)),
                    psql_because: None,
                });
            }
            return;
        }
    };
    // PostgreSQL 15+ copies through the WAL by default; FILE_COPY (what
    // older versions always do) copies the files, faster for small ones.
    let strategy = if major(&admin) >= 15 {
        " STRATEGY FILE_COPY"
    } else {
        ""
    };
    while let Some(index) = queue.claim() {
        let job = &plan.jobs[index];
        let database = database_name(index, &job.name);
        let psql_because = job.needs_psql.clone();
        let sql = format!(
            "CREATE DATABASE {} TEMPLATE {}{strategy}",
            quote_ident(&database),
            quote_ident(&plan.template)
        );
        let created = admin.execute(&sql).map_err(|report| {
            format!(
                "pgtmp: cannot create the database of {}: {}\n",
                job.name,
                report.message()
            )
        });
        let ready = created.and_then(|_| {
            if psql_because.is_some() {
                return Ok(None);
            }
            let mut conn = Connection::connect(&plan.server.with_dbname(&database), &params)
                .map_err(|e| format!("pgtmp: {}\n", e.0))?;
            if warm {
                warm_up(&mut conn);
            }
            Ok(Some(conn))
        });
        crate::trace::mark(&format!("prove: database {index} ready"));
        queue.put(Prepared {
            index,
            database,
            ready,
            psql_because,
        });
    }
    admin.close();
}

/// Runs `WARM_UP`; whatever fails (a pgTAP without one of the functions,
/// a search_path without pgTAP's schema) is rolled back and forgotten.
fn warm_up(conn: &mut Connection) {
    let _ = conn.execute(WARM_UP);
    if conn.tx_status() != TxStatus::Idle {
        let _ = conn.execute("ROLLBACK");
    }
}

fn major(conn: &Connection) -> u32 {
    conn.parameter("server_version")
        .and_then(|v| v.split(|c: char| !c.is_ascii_digit()).next()?.parse().ok())
        .unwrap_or(0)
}

pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jobs_come_out_in_order_whoever_prepared_them() {
        let queue = Queue::new(4, 2);
        let (a, b) = (queue.claim(), queue.claim());
        assert_eq!((a, b), (Some(0), Some(1)));
        let prepared = |index| Prepared {
            index,
            database: format!("db{index}"),
            ready: Ok(None),
            psql_because: None,
        };
        std::thread::scope(|s| {
            let taker = s.spawn(|| queue.take().map(|p| p.index));
            queue.put(prepared(1)); // the second finished first
            std::thread::sleep(std::time::Duration::from_millis(20));
            queue.put(prepared(0));
            assert_eq!(taker.join().unwrap(), Some(0));
        });
        assert_eq!(queue.take().map(|p| p.index), Some(1));
        assert_eq!(queue.claim(), Some(2));
        queue.stop();
        assert_eq!(queue.claim(), None);
        assert!(queue.take().is_none());
    }
}
