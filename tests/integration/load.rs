//! Load: fifty hand-outs at once, socket and TCP mixed, and three hundred
//! one after another. Every caller gets its own working database, no port
//! is handed out twice, the pool is consistent afterwards, and a long run
//! leaves no process, directory, port or growing file behind.
//!
//! The wall times are printed (past the output capture) for the record;
//! no test judges them.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::fs;
use std::io::Write;
use std::path::Path;
use std::sync::Barrier;
use std::time::{Duration, Instant};

use crate::support::command::Output;
use crate::support::{TestRoot, db, net, poll, procs, tree, url};

const PARALLEL: usize = 50;
const SEQUENTIAL: usize = 300;
/// The default pool size (`PGTMP_POOL_SIZE` unset).
const POOL_SIZE: usize = 2;
/// `refill::LOG_LIMIT` (src/refill.rs): the refill log starts over past it.
const REFILL_LOG_LIMIT: u64 = 64 * 1024;

fn note(msg: &str) {
    let _ = writeln!(std::io::stderr(), "load: {msg}");
}

#[test]
fn fifty_parallel_handouts_socket_and_tcp() {
    let t = TestRoot::new();
    let barrier = Barrier::new(PARALLEL);
    let began = Instant::now();
    let outs: Vec<(bool, Output)> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..PARALLEL)
            .map(|i| {
                let (t, barrier) = (&t, &barrier);
                s.spawn(move || {
                    let tcp = i % 2 == 1;
                    let args: &[&str] = if tcp {
                        &["-t", "-w", "0"]
                    } else {
                        &["-w", "0"]
                    };
                    barrier.wait();
                    (tcp, t.pgtmp(args).timeout(Duration::from_secs(300)).run())
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().expect("a hand-out thread panicked"))
            .collect()
    });
    note(&format!(
        "{PARALLEL} parallel hand-outs (cold, half TCP) took {:.1?}",
        began.elapsed()
    ));

    let failed: Vec<String> = outs
        .iter()
        .filter(|(_, o)| o.code() != Some(0))
        .map(|(_, o)| o.to_string())
        .collect();
    assert!(
        failed.is_empty(),
        "{} of {PARALLEL} hand-outs failed:\n{}",
        failed.len(),
        failed.join("\n")
    );
    let urls: Vec<(bool, String)> = outs
        .iter()
        .map(|(tcp, o)| (*tcp, o.one_line().to_string()))
        .collect();
    let distinct: HashSet<&String> = urls.iter().map(|(_, u)| u).collect();
    assert_eq!(distinct.len(), PARALLEL, "URLs repeat: {urls:#?}");

    // Each database is its own: what one caller writes no other sees.
    for (i, (_, u)) in urls.iter().enumerate() {
        let mut client = db::connect(u);
        db::execute(
            &mut client,
            &format!("create table whose (v int); insert into whose values ({i})"),
        );
    }
    for (i, (_, u)) in urls.iter().enumerate() {
        let mut client = db::connect(u);
        assert_eq!(
            db::text(&mut client, "select string_agg(v::text, ',') from whose"),
            i.to_string(),
            "{u}"
        );
    }

    let listed = t.list();
    assert_eq!(listed.len(), PARALLEL, "`list` does not show all of them");
    let pids: HashSet<u32> = listed.iter().map(|i| i.pid).collect();
    let dirs: HashSet<&Path> = listed.iter().map(|i| i.data_dir.as_path()).collect();
    assert_eq!(pids.len(), PARALLEL, "postmasters are shared");
    assert_eq!(dirs.len(), PARALLEL, "data directories are shared");
    let ports: Vec<u16> = urls
        .iter()
        .filter(|(tcp, _)| *tcp)
        .map(|(_, u)| url::tcp(u).port)
        .collect();
    let distinct_ports: HashSet<u16> = ports.iter().copied().collect();
    assert_eq!(ports.len(), PARALLEL / 2, "{urls:#?}");
    assert_eq!(distinct_ports.len(), ports.len(), "a port twice: {ports:?}");
    for &port in &ports {
        assert!(
            net::loopback_only(port),
            "port {port} listens on {:?}",
            net::listeners(port)
        );
    }

    // The pool after fifty claims and refills racing for it: exactly its
    // size, every entry a complete copy of the one template, no copy left
    // half-made.
    assert!(
        poll::eventually(|| !t.refilling()),
        "refills still running\n{}",
        t.logs()
    );
    assert_pool_consistent(&t);

    t.pgtmp(["stop", "--all"]).run().assert_success();
    assert!(
        poll::eventually(|| pids.iter().all(|&p| !procs::alive(p))),
        "postmasters survive `stop --all`"
    );
    assert_eq!(t.run_entries(), Vec::<String>::new(), "base/run after");
    for &port in &ports {
        assert!(net::listeners(port).is_empty(), "port {port} still listens");
    }
    assert!(
        poll::eventually(|| procs::touching(t.path()).is_empty()),
        "processes left: {:?}",
        procs::touching(t.path())
    );
}

/// One template, a full pool of complete copies of it, nothing half-made.
fn assert_pool_consistent(t: &TestRoot) {
    let templates = t.templates();
    assert_eq!(templates.len(), 1, "templates: {templates:?}");
    let template = tree::shape(&templates[0]);
    let entries = t.pool_entries();
    assert_eq!(entries.len(), POOL_SIZE, "pool entries: {entries:?}");
    for entry in &entries {
        let shape = tree::shape(entry);
        assert!(
            shape == template,
            "pool entry {} is not a complete copy: {:?}",
            entry.display(),
            tree::diff(&template, &shape)
        );
    }
    for dir in [t.base().join("pool"), t.base().join("templates")] {
        let partial: Vec<_> = walk_names(&dir)
            .into_iter()
            .filter(|n| n.starts_with(".tmp-"))
            .collect();
        assert!(partial.is_empty(), "half-made copies: {partial:?}");
    }
}

/// Names one and two levels below `dir`.
fn walk_names(dir: &Path) -> Vec<String> {
    let mut names = Vec::new();
    for entry in fs::read_dir(dir).into_iter().flatten().flatten() {
        names.push(entry.file_name().to_string_lossy().into_owned());
        if entry.path().is_dir() {
            for inner in fs::read_dir(entry.path()).into_iter().flatten().flatten() {
                names.push(inner.file_name().to_string_lossy().into_owned());
            }
        }
    }
    names
}

/// What the base directory holds besides running instances: the names at
/// its top, the number of pool entries (and half-made ones) per key, the
/// templates directory's names, and the size of every loose file.
#[derive(Debug, PartialEq, Eq)]
struct Footprint {
    top: BTreeSet<String>,
    pool: BTreeMap<String, usize>,
    partial: usize,
    templates: BTreeSet<String>,
    files: BTreeMap<String, u64>,
}

fn footprint(base: &Path) -> Footprint {
    let names = |dir: &Path| -> BTreeSet<String> {
        fs::read_dir(dir)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect()
    };
    let mut pool = BTreeMap::new();
    let mut partial = 0;
    let mut files = BTreeMap::new();
    for key in names(&base.join("pool")) {
        let path = base.join("pool").join(&key);
        if path.is_dir() {
            let entries = names(&path);
            partial += entries.iter().filter(|n| n.starts_with('.')).count();
            pool.insert(key, entries.iter().filter(|n| !n.starts_with('.')).count());
        } else {
            files.insert(
                format!("pool/{key}"),
                fs::metadata(&path).map_or(0, |m| m.len()),
            );
        }
    }
    for sub in ["", "templates"] {
        for name in names(&base.join(sub)) {
            let path = base.join(sub).join(&name);
            if path.is_file() {
                files.insert(
                    format!("{sub}/{name}"),
                    fs::metadata(&path).map_or(0, |m| m.len()),
                );
            }
        }
    }
    Footprint {
        top: names(base),
        pool,
        partial,
        templates: names(&base.join("templates")),
        files,
    }
}

#[test]
fn three_hundred_sequential_handouts_leave_nothing_behind() {
    let t = TestRoot::new();
    // Warm: the template and a full pool exist before the count starts.
    let first = t.start(&["-w", "1"]);
    db::connect(&first.url);
    let settled = |t: &TestRoot| {
        t.pgtmp(["stop", "--all"]).run().assert_success();
        poll::eventually(|| procs::touching(t.path()).is_empty())
    };
    assert!(settled(&t), "processes left after the warm-up");
    assert_eq!(t.pool_entries().len(), POOL_SIZE, "pool never filled");
    // As after a long run of failed refills (a full disk): a big log must
    // be cut back, never grow further.
    let refill_log = t.base().join("refill.log");
    fs::write(&refill_log, "pgtmp: error: an old failure\n".repeat(40_000))
        .expect("seed refill.log");
    let mut before = footprint(&t.base());

    let began = Instant::now();
    let (mut ports, mut socket_dirs, mut urls) = (Vec::new(), Vec::new(), HashSet::new());
    for i in 0..SEQUENTIAL {
        let tcp = i % 3 == 0;
        let args: &[&str] = if tcp {
            &["-t", "-w", "1"]
        } else {
            &["-w", "1"]
        };
        let h = t.start(args);
        let mut client = db::connect(&h.url);
        assert_eq!(db::text(&mut client, "select current_database()"), "test");
        if tcp {
            ports.push(url::tcp(&h.url).port);
        } else {
            socket_dirs.push(url::socket(&h.url).host);
        }
        assert!(urls.insert(h.url), "a URL handed out twice");
    }
    let took = began.elapsed();
    note(&format!(
        "{SEQUENTIAL} sequential hand-outs (a third TCP, each connected to) took {took:.1?}, {:.0?} each",
        took / SEQUENTIAL as u32
    ));

    // Every instance reaps itself after its second idle: its server stops
    // (the port closes) and its directory goes.
    // A TCP spare started since may have been given a port that a reaped
    // instance had: that port was free then, so its instance is gone.
    let spare_ports = || -> Vec<u16> {
        t.spares()
            .iter()
            .filter_map(|id| {
                let meta = fs::read(t.base().join("run").join(id).join("meta.json")).ok()?;
                let meta: serde_json::Value = serde_json::from_slice(&meta).ok()?;
                u16::try_from(meta["port"].as_u64()?).ok()
            })
            .collect()
    };
    let still_listening = || -> Vec<u16> {
        let taken = spare_ports();
        ports
            .iter()
            .copied()
            .filter(|p| !taken.contains(p) && !net::listeners(*p).is_empty())
            .collect()
    };
    let reaped = || socket_dirs.iter().all(|d| !d.exists()) && still_listening().is_empty();
    assert!(
        poll::within(Duration::from_secs(60), reaped),
        "not reaped: dirs {:?}, ports {:?}\n{}",
        socket_dirs
            .iter()
            .filter(|d| d.exists())
            .collect::<Vec<_>>(),
        still_listening(),
        t.logs()
    );
    let listed: Vec<String> = t
        .list()
        .into_iter()
        .map(|i| i.url)
        .filter(|u| urls.contains(u))
        .collect();
    assert!(
        listed.is_empty(),
        "reaped instances still listed: {listed:?}"
    );
    // Then nothing is left: no process, no instance directory.
    assert!(
        settled(&t),
        "processes left: {:?}",
        procs::touching(t.path())
            .into_iter()
            .map(procs::cmdline)
            .collect::<Vec<_>>()
    );
    assert_eq!(
        t.run_entries(),
        Vec::<String>::new(),
        "run/ after the reaps"
    );

    let after = footprint(&t.base());
    let log_size = after.files.get("/refill.log").copied().unwrap_or(0);
    assert!(
        log_size <= REFILL_LOG_LIMIT,
        "refill.log is {log_size} bytes after {SEQUENTIAL} hand-outs"
    );
    // The same files, none larger, the same pool; the log only shrank.
    before.files.insert("/refill.log".into(), log_size);
    assert_eq!(
        after, before,
        "the base directory changed shape over {SEQUENTIAL} hand-outs"
    );
    assert_pool_consistent(&t);
}
