//! The idle timeout (`-w`): an instance without clients stops and vanishes,
//! one with a client connected stays, `-k` keeps the data, `-w 0` never stops
//! on its own.

use std::time::Duration;

use crate::support::{TestRoot, db, poll, procs};

/// Longer than the 2 s timeout the tests use, with room for a slow poll.
const BEYOND_TIMEOUT: Duration = Duration::from_secs(6);

#[test]
fn idle_instance_is_reaped() {
    let t = TestRoot::new();
    let h = t.start(&["-w", "2s"]);
    let inst = t.instance(&h.url);
    assert_eq!(inst.timeout_secs, 2, "{}", inst.raw);
    assert!(
        poll::eventually(|| !procs::alive(inst.pid) && !inst.dir.exists()),
        "idle instance not reaped: postmaster {} alive={}, {} exists={}\n{}",
        inst.pid,
        procs::alive(inst.pid),
        inst.dir.display(),
        inst.dir.exists(),
        t.logs()
    );
    assert!(!t.listed(&h.url), "a reaped instance is still listed");
}

#[test]
fn connected_client_keeps_instance_alive() {
    let t = TestRoot::new();
    let h = t.start(&["-w", "2s"]);
    let inst = t.instance(&h.url);
    let mut client = db::connect(&h.url);
    assert!(
        poll::stays(BEYOND_TIMEOUT, || procs::alive(inst.pid)),
        "instance reaped while a client was connected\n{}",
        t.logs()
    );
    assert_eq!(db::text(&mut client, "select 'alive'"), "alive");

    drop(client);
    assert!(
        poll::eventually(|| !procs::alive(inst.pid) && !inst.dir.exists()),
        "instance not reaped after its client left\n{}",
        t.logs()
    );
}

/// A client that connects over and over, each time briefly (a test suite
/// whose tests each open a short connection), keeps the instance: any
/// connection since the last look is activity, not only one open at the
/// moment the supervisor looks. Once the client stops, the timeout runs.
#[test]
fn short_connections_keep_instance_alive() {
    let t = TestRoot::new();
    for args in [&["-w", "2s"][..], &["-w", "2s", "-t"]] {
        let h = t.start(args);
        let inst = t.instance(&h.url);
        let until = std::time::Instant::now() + 2 * BEYOND_TIMEOUT;
        let mut n = 0;
        while std::time::Instant::now() < until {
            let mut client = db::try_connect(&h.url).unwrap_or_else(|e| {
                panic!(
                    "{args:?}: connection {n} failed: the instance was reaped while a client kept connecting: {e}\n{}",
                    t.logs()
                )
            });
            assert_eq!(db::text(&mut client, "select 'short'"), "short");
            drop(client);
            n += 1;
            std::thread::sleep(Duration::from_millis(300));
        }
        assert!(
            poll::eventually(|| !procs::alive(inst.pid) && !inst.dir.exists()),
            "{args:?}: not reaped after the client stopped connecting\n{}",
            t.logs()
        );
    }
}

#[test]
fn kept_data_dir_survives_reap() {
    let t = TestRoot::new();
    let h = t.start(&["-k", "-w", "2s"]);
    // A client until the instance is read: on a slow machine the 2 s can
    // pass before the test looks.
    let client = db::connect(&h.url);
    let inst = t.instance(&h.url);
    drop(client);
    assert!(inst.keep, "{}", inst.raw);
    let data = inst.data_dir.display().to_string();
    assert!(
        h.out.stderr.contains(&data),
        "stderr should name the kept data dir {data}\n{}",
        h.out
    );
    assert!(
        poll::eventually(|| !procs::alive(inst.pid)),
        "idle kept instance not stopped\n{}",
        t.logs()
    );
    assert!(
        inst.data_dir.join("PG_VERSION").is_file(),
        "kept data dir {data} is gone"
    );
    assert!(!t.listed(&h.url), "a stopped instance is still listed");
}

#[test]
fn zero_timeout_stays_until_stopped() {
    let t = TestRoot::new();
    let h = t.start(&["-w", "0"]);
    let inst = t.instance(&h.url);
    assert_eq!(inst.timeout_secs, 0, "{}", inst.raw);
    assert!(
        poll::stays(BEYOND_TIMEOUT, || procs::alive(inst.pid)),
        "`-w 0` instance stopped on its own\n{}",
        t.logs()
    );
    let mut client = db::connect(&h.url);
    assert_eq!(db::text(&mut client, "select 'alive'"), "alive");
    drop(client);

    t.stop(&h.url);
    assert!(
        poll::eventually(|| !procs::alive(inst.pid) && !inst.dir.exists()),
        "stopped instance still there\n{}",
        t.logs()
    );
}

/// A timeout below the millisecond it is kept in is rounded up, not down
/// to 0 (which means "never stop"); one beyond the documented maximum (a
/// year) is a usage error.
#[test]
fn sub_millisecond_timeout_still_stops_and_huge_ones_are_refused() {
    let t = TestRoot::new();
    for tiny in ["500us", "1ns"] {
        let h = t.start(&["-w", tiny]);
        let inst = t.instance(&h.url);
        assert!(
            poll::eventually(|| !procs::alive(inst.pid) && !inst.dir.exists()),
            "`-w {tiny}` instance never stopped\n{}",
            t.logs()
        );
    }
    for huge in ["99999999999", "2y", "366d"] {
        let out = t.pgtmp(["-w", huge]).run();
        out.assert_code(2);
        assert!(out.stderr.contains("maximum"), "{out}");
        assert!(out.stdout.is_empty(), "{out}");
    }
    t.start(&["-w", "1y"]);
}
