//! The run: test files spread over `-j` workers, each file in a database
//! of its own, which preparers make ahead of them (`prepare`), so that a
//! worker finds its next file's database and backend ready. A janitor
//! drops old ones in a long run (`janitor`); otherwise the server is
//! thrown away with them after the run.
//!
//! Events go to the caller as they happen (a file started, a test passed,
//! a file finished) so that it can print each file when it finishes.
//! `--fail-fast`, a `Bail out!` and Ctrl-C stop the run: no new file
//! starts; on Ctrl-C the running ones are cancelled and left out.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use super::execute::{self, Collector, Script, Settings};
use super::janitor;
use super::outcome::{FileOutcome, Runner};
use super::prepare::{self, Prepared, Queue};
use crate::psql;
use crate::wire::{CancelToken, Target};

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

/// How to interrupt what a worker runs.
enum Interrupt {
    Query(CancelToken),
    Process(u32),
}

/// Runs the plan; `cancel` is set on Ctrl-C; events go to `on_event`.
pub fn run(plan: &Plan, cancel: &Arc<AtomicBool>, on_event: &mut dyn FnMut(Event)) -> End {
    let stop = Arc::new(AtomicBool::new(false));
    let (preparers, lookahead, warm) = preparation(plan.workers);
    let queue = Queue::new(plan.jobs.len(), lookahead);
    let (event_tx, event_rx) = mpsc::channel::<Event>();
    let running: Arc<Mutex<HashMap<usize, Interrupt>>> = Arc::default();
    let mut end = End::default();
    let mut finished = vec![false; plan.jobs.len()];
    std::thread::scope(|scope| {
        // Made in here, so that a panic below drops the sender before the
        // scope waits for the janitor, and the workers stop taking files.
        let (janitor_tx, janitor_rx) = mpsc::channel::<String>();
        let _halt = HaltOnPanic {
            stop: &stop,
            queue: &queue,
        };
        for _ in 0..preparers {
            let queue = &queue;
            scope.spawn(move || prepare::preparer(plan, queue, warm));
        }
        let done = Arc::new(AtomicBool::new(false));
        {
            let done = done.clone();
            scope.spawn(move || janitor::run(&plan.server, janitor_rx, &done));
        }
        for _ in 0..plan.workers.max(1) {
            let (tx, stop, running) = (event_tx.clone(), stop.clone(), running.clone());
            let (cancel, queue) = (cancel.clone(), &queue);
            scope.spawn(move || work(plan, queue, &tx, &stop, &cancel, &running));
        }
        drop(event_tx);
        let mut interrupted = false;
        loop {
            if stop.load(Ordering::Relaxed) {
                queue.stop();
            }
            if cancel.load(Ordering::Relaxed) && !interrupted {
                interrupted = true;
                stop.store(true, Ordering::Relaxed);
                queue.stop();
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
                        queue.stop();
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

/// Stops the workers and preparers when the run's own thread panics, so
/// that the scope around them ends (and the panic goes on) instead of
/// waiting for every file.
struct HaltOnPanic<'a> {
    stop: &'a AtomicBool,
    queue: &'a Queue,
}

impl Drop for HaltOnPanic<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.stop.store(true, Ordering::Relaxed);
            self.queue.stop();
        }
    }
}

/// How many preparers, how far ahead, and whether they warm the backends
/// up: with CPUs to spare beyond the workers, preparers warm up backends
/// (taking the first pgTAP calls off the files' path) and more of them run
/// so that they keep ahead; otherwise one preparer does only what must be
/// done. At most 8 jobs wait prepared, each with a connection: `-j 64`
/// stays within the server's 100 connections.
fn preparation(workers: usize) -> (usize, usize, bool) {
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    let spare = cpus.saturating_sub(workers);
    let warm = spare > 0;
    let preparers = if warm { (spare + 1).clamp(1, 4) } else { 1 };
    let lookahead = (workers + preparers - 1).clamp(1, 8);
    (preparers, lookahead, warm)
}

/// A worker: the next prepared job, run, reported; until none is left or
/// the run stops.
fn work(
    plan: &Plan,
    queue: &Queue,
    tx: &mpsc::Sender<Event>,
    stop: &AtomicBool,
    cancel: &Arc<AtomicBool>,
    running: &Mutex<HashMap<usize, Interrupt>>,
) {
    loop {
        if stop.load(Ordering::Relaxed) {
            return;
        }
        let Some(prepared) = queue.take() else { return };
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
