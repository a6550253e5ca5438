//! Races between pgtmp's own commands: `gc --all` removing templates, pool
//! entries and lock files while hand-outs build and copy them. Every
//! hand-out must succeed, and nothing may be left: no process, no
//! half-made directory, no System V shared memory segment (counted in a
//! private IPC namespace, where nothing else makes any).

use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use crate::support::command::{Output, Running};
use crate::support::{TestRoot, db, poll, procs};

const WORKERS: usize = 3;
const CALLS: usize = 6;

/// Runs pgtmp inside the IPC namespace of `holder` (as root), else as is.
fn pgtmp(t: &TestRoot, holder: Option<&Running>, args: &[&str]) -> Output {
    let run = match holder {
        Some(h) => {
            let target = h.pid().to_string();
            let mut all = vec![
                "--target",
                &target,
                "--ipc",
                "--",
                env!("CARGO_BIN_EXE_pgtmp"),
            ];
            all.extend(args);
            t.cmd("nsenter", all)
        }
        None => t.pgtmp(args),
    };
    run.env("PGTMP_SPARES", "0")
        .timeout(Duration::from_secs(180))
        .run()
}

/// The segments /proc/sysvipc/shm lists inside `holder`'s namespace.
fn segments(t: &TestRoot, holder: &Running) -> Vec<String> {
    let target = holder.pid().to_string();
    let out = t
        .cmd(
            "nsenter",
            [
                "--target",
                &target,
                "--ipc",
                "--",
                "cat",
                "/proc/sysvipc/shm",
            ],
        )
        .run();
    out.assert_success();
    out.stdout.lines().skip(1).map(str::to_string).collect()
}

#[test]
fn gc_all_alongside_handouts_breaks_none() {
    let t = TestRoot::new();
    let holder = procs::is_root().then(|| {
        t.cmd("unshare", ["--ipc", "--", "sleep", "600"])
            .spawn(|_| ())
    });
    if holder.is_none() {
        let _ = writeln!(
            std::io::stderr(),
            "races::gc_all_alongside_handouts: not root: no IPC namespace, segments not counted"
        );
    }
    let owned = holder;
    let holder = owned.as_ref();
    // Warm: the first template exists before the race starts.
    pgtmp(&t, holder, &["-w", "1"]).assert_success();
    let done = AtomicBool::new(false);
    let collections = AtomicUsize::new(0);
    let failures: Vec<String> = std::thread::scope(|s| {
        let collector = s.spawn(|| {
            while !done.load(Ordering::Relaxed) {
                let out = pgtmp(&t, holder, &["gc", "--all"]);
                out.assert_success();
                collections.fetch_add(1, Ordering::Relaxed);
            }
        });
        let workers: Vec<_> = (0..WORKERS)
            .map(|_| {
                s.spawn(|| {
                    let mut failed = Vec::new();
                    for _ in 0..CALLS {
                        let out = pgtmp(&t, holder, &["-w", "3"]);
                        if out.code() != Some(0) {
                            failed.push(out.to_string());
                            continue;
                        }
                        match db::try_connect(out.one_line()) {
                            Ok(mut c) => assert_eq!(db::text(&mut c, "select 'ok'"), "ok"),
                            Err(e) => failed.push(format!("cannot connect: {e}\n{out}")),
                        }
                    }
                    failed
                })
            })
            .collect();
        let failed = workers
            .into_iter()
            .flat_map(|w| w.join().expect("a worker panicked"))
            .collect();
        done.store(true, Ordering::Relaxed);
        collector.join().expect("the collector panicked");
        failed
    });
    assert!(
        failures.is_empty(),
        "{} of {} hand-outs failed alongside {} `gc --all`:\n{}\n{}",
        failures.len(),
        WORKERS * CALLS,
        collections.load(Ordering::Relaxed),
        failures.join("\n"),
        t.logs()
    );

    let _ = writeln!(
        std::io::stderr(),
        "races: {} hand-outs alongside {} `gc --all`",
        WORKERS * CALLS,
        collections.load(Ordering::Relaxed)
    );
    pgtmp(&t, holder, &["stop", "--all"]).assert_success();
    let holder_pid = holder.map(Running::pid);
    let others = || -> Vec<u32> {
        procs::touching(t.path())
            .into_iter()
            .filter(|&p| Some(p) != holder_pid)
            .collect()
    };
    assert!(
        poll::eventually(|| others().is_empty()),
        "processes left: {:?}",
        others()
    );
    pgtmp(&t, holder, &["gc"]).assert_success();
    let base = t.base();
    let leftovers: Vec<String> = ["run", "pool", "templates"]
        .iter()
        .flat_map(|d| {
            let dir = base.join(d);
            let mut found = Vec::new();
            for e in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
                found.push(e.path());
                if e.path().is_dir() && *d == "pool" {
                    found.extend(
                        std::fs::read_dir(e.path())
                            .into_iter()
                            .flatten()
                            .flatten()
                            .map(|e| e.path()),
                    );
                }
            }
            found
        })
        .map(|p| p.display().to_string())
        .filter(|p| p.contains("/run/") || p.contains("/.tmp-") || p.contains("/.gc-"))
        .collect();
    assert!(leftovers.is_empty(), "left behind: {leftovers:#?}");
    if let Some(h) = holder {
        let left = segments(&t, h);
        assert!(left.is_empty(), "shared memory segments leaked: {left:#?}");
    }
    if let Some(h) = owned {
        procs::signal(h.pid(), "KILL");
        h.wait();
    }
}
