//! Managing running instances: `list` (plain and JSON), `stop` (by URL, by
//! data directory, all), and `gc` after a supervisor was killed.

use std::time::{SystemTime, UNIX_EPOCH};

use crate::support::{TestRoot, db, poll, procs};

#[test]
fn list_json_describes_instances() {
    let t = TestRoot::new();
    let before = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    let socket = t.start(&[]);
    let tcp = t.start(&["-t"]);
    let all = t.list();
    assert_eq!(
        all.len(),
        2,
        "{:?}",
        all.iter().map(|i| &i.raw).collect::<Vec<_>>()
    );

    let s = t.instance(&socket.url);
    assert!(!s.tcp && !s.keep, "{}", s.raw);
    assert_eq!(s.timeout_secs, 60, "default idle timeout\n{}", s.raw);
    assert!(s.dir.starts_with(t.base().join("run")), "{}", s.raw);
    assert!(
        s.dir.join(format!(".s.PGSQL.{}", s.port)).exists(),
        "no socket in dir\n{}",
        s.raw
    );
    assert_eq!(s.data_dir, s.dir.join("data"), "{}", s.raw);
    assert!(
        procs::alive(s.pid) && procs::alive(s.supervisor_pid),
        "{}",
        s.raw
    );
    assert_ne!(s.pid, s.supervisor_pid);
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    assert!(
        before.saturating_sub(1) <= s.started && s.started <= now + 1,
        "started\n{}",
        s.raw
    );
    assert!(s.age_secs <= now + 1 - before, "age_secs\n{}", s.raw);
    assert_eq!(s.clients, 0, "{}", s.raw);
    assert!(
        s.idle_secs.is_some(),
        "idle_secs is a number without clients\n{}",
        s.raw
    );

    let t2 = t.instance(&tcp.url);
    assert!(t2.tcp, "{}", t2.raw);
    assert!(
        tcp.url.contains(&format!(":{}/test?", t2.port)),
        "{}\n{}",
        tcp.url,
        t2.raw
    );
    assert_ne!(t2.dir, s.dir);

    let _client = db::connect(&socket.url);
    assert!(
        poll::eventually(|| {
            let i = t.instance(&socket.url);
            i.clients == 1 && i.idle_secs.is_none()
        }),
        "with one client: expected clients 1 and idle_secs null: {}",
        t.instance(&socket.url).raw
    );
}

#[test]
fn list_prints_tab_separated_rows() {
    let t = TestRoot::new();
    let a = t.start(&[]);
    let b = t.start(&["-t"]);
    let out = t.pgtmp(["list"]).run();
    out.assert_success();
    let rows: Vec<Vec<&str>> = out
        .stdout
        .lines()
        .map(|l| l.split('\t').collect())
        .collect();
    assert_eq!(
        rows.len(),
        2,
        "two rows, no header when not on a terminal\n{out}"
    );
    for h in [&a, &b] {
        let inst = t.instance(&h.url);
        let row = rows
            .iter()
            .find(|r| r[0] == h.url)
            .unwrap_or_else(|| panic!("no row for {}\n{out}", h.url));
        assert_eq!(row.len(), 6, "URL PID AGE IDLE CLIENTS DIR\n{out}");
        assert_eq!(row[1], inst.pid.to_string(), "{out}");
        assert_eq!(row[5], inst.dir.display().to_string(), "{out}");
    }
}

#[test]
fn stop_by_url_removes_instance() {
    let t = TestRoot::new();
    let h = t.start(&[]);
    let inst = t.instance(&h.url);
    t.stop(&h.url);
    assert!(
        poll::eventually(|| !procs::alive(inst.pid) && !procs::alive(inst.supervisor_pid)),
        "processes survive `stop`\n{}",
        t.logs()
    );
    assert!(!inst.dir.exists(), "{} survives `stop`", inst.dir.display());
    assert!(!t.listed(&h.url));
    t.pgtmp(["stop", &h.url]).run().assert_error(1, &[]);
}

#[test]
fn stop_all_stops_every_instance() {
    let t = TestRoot::new();
    let started: Vec<_> = [&[][..], &["-t"][..], &["-w", "0"][..]]
        .iter()
        .map(|a| t.start(a))
        .collect();
    let pids: Vec<u32> = started.iter().map(|h| t.instance(&h.url).pid).collect();
    t.pgtmp(["stop", "--all"]).run().assert_success();
    assert!(
        poll::eventually(|| pids.iter().all(|&p| !procs::alive(p))),
        "alive after `stop --all`"
    );
    assert!(t.list().is_empty(), "instances listed after `stop --all`");
    assert_eq!(t.run_entries(), Vec::<String>::new());
}

/// `stop --all` while instances reach their idle timeout and end by
/// themselves: one that is gone by the time it is stopped is stopped, not
/// an error ("read .../meta.json: No such file or directory").
#[test]
fn stop_all_while_instances_end_by_themselves() {
    let t = TestRoot::new();
    for round in 0..6u64 {
        let urls: Vec<String> = (0..6).map(|_| t.start(&["-w", "1"]).url).collect();
        // Around the 1 s timeout, later in each round.
        std::thread::sleep(std::time::Duration::from_millis(700 + 100 * round));
        let out = t.pgtmp(["stop", "--all"]).run();
        out.assert_success();
        assert!(
            poll::eventually(|| t.run_entries().is_empty()),
            "round {round}: instances left: {:?} of {urls:?}\n{out}\n{}",
            t.run_entries(),
            t.logs()
        );
    }
}

#[test]
fn stop_unknown_url_fails() {
    let t = TestRoot::new();
    let h = t.start(&[]);
    let unknown = "postgresql:///test?host=/nonexistent/pgtmp&user=nobody";
    t.pgtmp(["stop", unknown]).run().assert_error(1, &[]);
    let mut client = db::connect(&h.url);
    assert_eq!(db::text(&mut client, "select 'untouched'"), "untouched");
}

/// A supervisor killed with SIGKILL takes its postmaster with it
/// (PR_SET_PDEATHSIG), and `gc` removes what is left on disk. The pool is
/// off, and so are spares: a refill ends with a quiet gc of its own,
/// which could do the work (or race this one) and hide whether `pgtmp gc`
/// does it.
#[test]
fn gc_cleans_up_after_killed_supervisor() {
    let t = TestRoot::new();
    let start = t
        .pgtmp(["-w", "0"])
        .env("PGTMP_POOL_SIZE", "0")
        .env("PGTMP_SPARES", "0")
        .run();
    start.assert_success();
    let url = start.one_line();
    let inst = t.instance(url);
    procs::signal(inst.supervisor_pid, "KILL");
    assert!(
        poll::eventually(|| !procs::alive(inst.pid)),
        "postmaster {} outlives its killed supervisor\n{}",
        inst.pid,
        t.logs()
    );
    assert!(
        inst.dir.exists(),
        "nothing left for `gc` to do: the test proves nothing"
    );
    let out = t.pgtmp(["gc"]).env("PGTMP_POOL_SIZE", "0").run();
    out.assert_success();
    assert!(
        !inst.dir.exists(),
        "`gc` left {}\n{out}",
        inst.dir.display()
    );
    assert!(!t.listed(url), "dead instance still listed after `gc`");
}

#[test]
fn gc_leaves_running_instances_alone() {
    let t = TestRoot::new();
    let h = t.start(&["-w", "0"]);
    t.pgtmp(["gc"]).run().assert_success();
    let mut client = db::connect(&h.url);
    assert_eq!(db::text(&mut client, "select 'untouched'"), "untouched");
    assert!(t.listed(&h.url));
}

/// A `pgtmp` killed before it printed the URL leaves no server behind, even
/// with `-w 0`: nobody could ever stop a server whose URL nobody has. Its
/// supervisor notices the starter's pipes close and stops at once.
#[test]
fn killed_starter_leaves_no_server() {
    use std::process::Stdio;
    let t = TestRoot::new();
    // The template exists from here on; no spares are started.
    let warm = t.pgtmp(["-w", "0"]).env("PGTMP_SPARES", "0").run();
    warm.assert_success();
    t.stop(warm.one_line());
    let delays = [1u64, 3, 6, 10, 15, 20, 30, 45];
    let mut delivered = Vec::new();
    for ms in delays {
        // Starting a server: a spare is claimed too fast to be killed
        // mid-way (see `spare::claimer_without_stdout_frees_spare`).
        let (mut cmd, shown) = t.pgtmp(["-w", "0"]).env("PGTMP_SPARES", "0").command();
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        let child = cmd.spawn().unwrap_or_else(|e| panic!("{shown}: {e}"));
        std::thread::sleep(std::time::Duration::from_millis(ms));
        procs::signal(child.id(), "KILL");
        let out = child.wait_with_output().expect("wait for pgtmp");
        let url = String::from_utf8_lossy(&out.stdout).trim().to_string();
        if !url.is_empty() {
            delivered.push(url);
        }
    }
    assert!(
        delivered.len() < delays.len(),
        "every pgtmp finished before it was killed; nothing was tested"
    );
    for url in &delivered {
        t.stop(url);
    }
    assert!(
        poll::eventually(|| procs::touching(t.path()).is_empty()),
        "processes survive killed starters: {:?}\n{}",
        procs::touching(t.path())
            .iter()
            .map(|&p| procs::cmdline(p))
            .collect::<Vec<_>>(),
        t.logs()
    );
}
