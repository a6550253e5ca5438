//! The run: test files spread over `-j` workers, each file in a database
//! of its own. A preparer makes the databases ahead of the workers, in the
//! files' order, as `CREATE DATABASE ... TEMPLATE test` (`STRATEGY
//! FILE_COPY` on PostgreSQL 15+, a file copy that is the fast way on tmpfs)
//! and opens the connection each in-process file will use, so that a
//! worker finds its next file's database and backend ready. Nothing is
//! dropped: the server is thrown away after the run.
//!
//! Events go to the caller as they happen (a file started, a test passed,
//! a file finished) so that it can print each file when it finishes.
//! `--fail-fast`, a `Bail out!` and Ctrl-C stop the run: no new file
//! starts; on Ctrl-C the running ones are cancelled and left out.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use super::execute::{self, Collector, Script, Settings};
use super::janitor;
use super::outcome::{FileOutcome, Runner};
use crate::psql;
use crate::wire::{CancelToken, Connection, Target};

/// One test file (or the `runtests()` call) to run.
#[derive(Debug, Clone)]
pub struct Job {
    pub name: String,
    pub script: Script,
    /// Why it must run with psql (`execute::needs_psql`); `None`: in-process.
    pub needs_psql: Option<String>,
}

/// Everything a run needs.
#[derive(Debug, Clone)]
pub struct Plan {
    pub jobs: Vec<Job>,
    pub workers: usize,
    /// The server, as the maintenance database `postgres` is reached.
    pub server: Target,
    /// The database every file's database is a copy of.
    pub template: String,
    pub settings: Settings,
    pub fail_fast: bool,
    /// Keep the databases of failing files (never dropped).
    pub keep_failed: bool,
}

/// What happened.
#[derive(Debug)]
pub enum Event {
    Started {
        index: usize,
    },
    /// `tests` tests of the file have run so far.
    Progress {
        index: usize,
        tests: u64,
    },
    Finished {
        index: usize,
        outcome: Box<FileOutcome>,
    },
    /// Nothing happened for a while (time to redraw a progress line).
    Tick,
}

/// How the run ended.
#[derive(Debug, Default)]
pub struct End {
    /// In the order they finished.
    pub outcomes: Vec<FileOutcome>,
    /// Jobs that did not run (or were cancelled), by index.
    pub not_run: Vec<usize>,
    pub interrupted: bool,
}

/// A database made for one job, with its connection when the job runs
/// in-process.
struct Prepared {
    index: usize,
    database: String,
    ready: Result<Option<Connection>, String>,
    /// Why the job needs psql, when it does.
    psql_because: Option<String>,
}

/// How to interrupt what a worker runs.
enum Interrupt {
    Query(CancelToken),
    Process(u32),
}

/// Runs the plan; `cancel` is set on Ctrl-C; events go to `on_event`.
pub fn run(plan: &Plan, cancel: &Arc<AtomicBool>, on_event: &mut dyn FnMut(Event)) -> End {
    let stop = Arc::new(AtomicBool::new(false));
    let (prepared_tx, prepared_rx) = mpsc::sync_channel::<Prepared>(lookahead(plan.workers));
    let prepared_rx = Arc::new(Mutex::new(prepared_rx));
    let (event_tx, event_rx) = mpsc::channel::<Event>();
    let running: Arc<Mutex<HashMap<usize, Interrupt>>> = Arc::default();
    let (janitor_tx, janitor_rx) = mpsc::channel::<String>();
    let mut end = End::default();
    let mut finished = vec![false; plan.jobs.len()];
    std::thread::scope(|scope| {
        {
            let stop = stop.clone();
            scope.spawn(move || prepare(plan, &stop, prepared_tx));
        }
        let done = Arc::new(AtomicBool::new(false));
        {
            let done = done.clone();
            scope.spawn(move || janitor::run(&plan.server, janitor_rx, &done));
        }
        for _ in 0..plan.workers.max(1) {
            let (rx, tx, stop, running) = (
                prepared_rx.clone(),
                event_tx.clone(),
                stop.clone(),
                running.clone(),
            );
            let cancel = cancel.clone();
            scope.spawn(move || work(plan, &rx, &tx, &stop, &cancel, &running));
        }
        drop(event_tx);
        // Only the workers hold the receiver now: once they are gone, the
        // preparer's next send fails and it ends.
        drop(prepared_rx);
        let mut interrupted = false;
        loop {
            if cancel.load(Ordering::Relaxed) && !interrupted {
                interrupted = true;
                stop.store(true, Ordering::Relaxed);
                for (_, what) in running.lock().expect("not poisoned").drain() {
                    match what {
                        Interrupt::Query(token) => token.cancel(),
                        Interrupt::Process(pid) => {
                            crate::process::signal(pid, nix::sys::signal::Signal::SIGINT);
                        }
                    }
                }
            }
            match event_rx.recv_timeout(Duration::from_millis(100)) {
                Ok(Event::Finished { index, outcome }) => {
                    if interrupted {
                        continue; // cut short: not a result
                    }
                    finished[index] = true;
                    if (plan.fail_fast && outcome.failed()) || outcome.tap.bailout.is_some() {
                        stop.store(true, Ordering::Relaxed);
                    }
                    let kept = plan.keep_failed && outcome.failed();
                    if !kept && !outcome.database.is_empty() {
                        let _ = janitor_tx.send(outcome.database.clone());
                    }
                    end.outcomes.push((*outcome).clone());
                    on_event(Event::Finished { index, outcome });
                }
                Ok(event) => on_event(event),
                Err(RecvTimeoutError::Timeout) => on_event(Event::Tick),
                Err(RecvTimeoutError::Disconnected) => break,
            }
        }
        end.interrupted = interrupted;
        done.store(true, Ordering::Relaxed);
        drop(janitor_tx);
    });
    end.not_run = (0..plan.jobs.len()).filter(|&i| !finished[i]).collect();
    end
}

/// How many databases (with their connections) wait prepared for the
/// workers: one per worker, up to 8, so that `-j 64` stays well within the
/// server's 100 connections (workers, the waiting ones, the preparer's,
/// the janitor's).
fn lookahead(workers: usize) -> usize {
    workers.clamp(1, 8)
}

/// The preparer: databases (and connections) in job order, ahead of the
/// workers by `lookahead`.
fn prepare(plan: &Plan, stop: &AtomicBool, tx: SyncSender<Prepared>) {
    let mut admin = match Connection::connect(&plan.server, &[("application_name", "pgtmp-prove")])
    {
        Ok(c) => Some(c),
        Err(e) => {
            // Every job fails the same way; say so once per job.
            for index in 0..plan.jobs.len() {
                let p = Prepared {
                    index,
                    database: String::new(),
                    ready: Err(e.0.clone()),
                    psql_because: None,
                };
                if tx.send(p).is_err() {
                    return;
                }
            }
            return;
        }
    };
    // PostgreSQL 15+ copies through the WAL by default; FILE_COPY (what
    // older versions always do) copies the files, faster for small ones.
    let file_copy = admin
        .as_ref()
        .and_then(|a| a.parameter("server_version"))
        .and_then(|v| {
            v.split(|c: char| !c.is_ascii_digit())
                .next()?
                .parse::<u32>()
                .ok()
        })
        .is_some_and(|major| major >= 15);
    for (index, job) in plan.jobs.iter().enumerate() {
        if stop.load(Ordering::Relaxed) {
            return;
        }
        let database = database_name(index, &job.name);
        let psql_because = job.needs_psql.clone();
        let strategy = if file_copy { " STRATEGY FILE_COPY" } else { "" };
        let sql = format!(
            "CREATE DATABASE {} TEMPLATE {}{strategy}",
            quote_ident(&database),
            quote_ident(&plan.template)
        );
        let created = match admin.as_mut().map(|a| a.execute(&sql)) {
            Some(Ok(_)) => Ok(()),
            Some(Err(report)) => Err(format!(
                "pgtmp: cannot create the database of {}: {}\n",
                job.name,
                report.message()
            )),
            None => Err("pgtmp: the connection to the server is gone\n".to_string()),
        };
        let ready = created.and_then(|()| {
            if psql_because.is_some() {
                return Ok(None);
            }
            Connection::connect(
                &plan.server.with_dbname(&database),
                &[("application_name", "pgtmp-prove")],
            )
            .map(Some)
            .map_err(|e| format!("pgtmp: {}\n", e.0))
        });
        crate::trace::mark(&format!("prove: database {index} ready"));
        let p = Prepared {
            index,
            database,
            ready,
            psql_because,
        };
        if tx.send(p).is_err() {
            return;
        }
    }
    if let Some(admin) = admin.take() {
        admin.close();
    }
}

/// A worker: the next prepared job, run, reported; until none is left or
/// the run stops.
fn work(
    plan: &Plan,
    rx: &Mutex<Receiver<Prepared>>,
    tx: &mpsc::Sender<Event>,
    stop: &AtomicBool,
    cancel: &Arc<AtomicBool>,
    running: &Mutex<HashMap<usize, Interrupt>>,
) {
    loop {
        if stop.load(Ordering::Relaxed) {
            return;
        }
        let next = rx.lock().expect("not poisoned").recv();
        let Ok(prepared) = next else { return };
        if stop.load(Ordering::Relaxed) {
            return;
        }
        let index = prepared.index;
        let outcome = run_one(plan, prepared, tx, cancel, running);
        crate::trace::mark(&format!("prove: file {index} done"));
        running.lock().expect("not poisoned").remove(&index);
        let _ = tx.send(Event::Finished {
            index,
            outcome: Box::new(outcome),
        });
    }
}

fn run_one(
    plan: &Plan,
    prepared: Prepared,
    tx: &mpsc::Sender<Event>,
    cancel: &Arc<AtomicBool>,
    running: &Mutex<HashMap<usize, Interrupt>>,
) -> FileOutcome {
    let index = prepared.index;
    let job = &plan.jobs[index];
    let _ = tx.send(Event::Started { index });
    let started = SystemTime::now();
    let clock = Instant::now();
    let mut progress = |tests| {
        let _ = tx.send(Event::Progress { index, tests });
    };
    let mut out = Collector::new(clock, &mut progress);
    let target = plan.server.with_dbname(&prepared.database);
    let settings = &plan.settings;
    let (exit, wait, runner) = match prepared.ready {
        Err(why) => {
            psql::Output::err(&mut out, &why);
            (2, 2 << 8, Runner::InProcess)
        }
        Ok(Some(mut conn)) => {
            if let Some(token) = conn.cancel_token() {
                running
                    .lock()
                    .expect("not poisoned")
                    .insert(index, Interrupt::Query(token));
            }
            let exit = execute::in_process(
                &mut conn,
                &target,
                &job.name,
                &job.script,
                settings,
                cancel,
                &mut out,
            );
            conn.close();
            (exit, exit << 8, Runner::InProcess)
        }
        Ok(None) => match &settings.psql {
            Some(psql) => {
                let mut started_child = |pid| {
                    running
                        .lock()
                        .expect("not poisoned")
                        .insert(index, Interrupt::Process(pid));
                };
                let (exit, wait) = execute::with_psql(
                    psql,
                    &target,
                    &job.script,
                    &job.name,
                    settings,
                    &mut started_child,
                    &mut out,
                );
                (exit, wait, Runner::Psql)
            }
            None => {
                let why = prepared.psql_because.unwrap_or_default();
                psql::Output::err(
                    &mut out,
                    &format!(
                        "pgtmp: {} needs psql ({why}), and there is none\n",
                        job.name
                    ),
                );
                (1, 1 << 8, Runner::Psql)
            }
        },
    };
    let (tap, stderr) = out.finish(exit, wait, settings.ignore_exit);
    FileOutcome {
        name: job.name.clone(),
        tap,
        started,
        elapsed: clock.elapsed(),
        stderr,
        database: prepared.database,
        runner,
    }
}

/// `prove_3_02_fail`: the job's number and its file's stem, as a database
/// name (at most 63 bytes, PostgreSQL's limit).
pub fn database_name(index: usize, name: &str) -> String {
    let stem = std::path::Path::new(name)
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut clean = String::new();
    for c in stem.chars() {
        if c.is_ascii_alphanumeric() {
            clean.push(c.to_ascii_lowercase());
        } else if !clean.is_empty() && !clean.ends_with('_') {
            clean.push('_');
        }
    }
    let mut db = format!("prove_{}_{clean}", index + 1);
    db.truncate(63);
    db.trim_end_matches('_').to_string()
}

fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

#[cfg(test)]
mod tests {
    use super::database_name;

    #[test]
    fn database_names() {
        assert_eq!(database_name(0, "t/01_pass.sql"), "prove_1_01_pass");
        assert_eq!(
            database_name(9, "runtests('tests'::name);"),
            "prove_10_runtests_tests_name"
        );
        assert!(database_name(2, &"x".repeat(100)).len() <= 63);
    }
}
