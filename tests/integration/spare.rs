//! Spares: servers started ahead after a hand-out and claimed by the
//! next matching one. Claims never hand one server out twice, never hand out
//! a dead one, take the caller's settings, and an unclaimed spare stops
//! after the spare timeout.

use std::path::Path;
use std::time::Duration;

use crate::support::{TestRoot, db, poll, procs, url};

/// Waits until at least `n` spares are ready and no refill still runs.
fn wait_spares(t: &TestRoot, n: usize) {
    assert!(
        poll::eventually(|| !t.refilling() && t.spares().len() >= n),
        "fewer than {n} spares ready: {:?}\n{}",
        t.spares(),
        t.logs()
    );
}

/// The instance directory name (`run/<id>`) a socket URL points into.
fn socket_id(u: &str) -> String {
    let host = url::socket(u).host;
    host.file_name()
        .expect("socket dir has a name")
        .to_string_lossy()
        .into_owned()
}

fn postmaster_pid(t: &TestRoot, id: &str) -> u32 {
    let pid_file = t.base().join("run").join(id).join("data/postmaster.pid");
    let text = std::fs::read_to_string(&pid_file)
        .unwrap_or_else(|e| panic!("read {}: {e}", pid_file.display()));
    text.lines().next().unwrap().trim().parse().unwrap()
}

fn meta_field(dir: &Path, key: &str) -> serde_json::Value {
    let text = std::fs::read_to_string(dir.join("meta.json")).unwrap_or_default();
    serde_json::from_str::<serde_json::Value>(&text).unwrap_or_default()[key].clone()
}

#[test]
fn next_handout_claims_a_ready_spare() {
    let t = TestRoot::new();
    let first = t.start(&[]);
    wait_spares(&t, 1);
    let ready = t.spares();
    let listed = t.pgtmp(["list", "--spares", "--json"]).run();
    listed.assert_success();
    for id in &ready {
        assert!(
            listed.stdout.contains(id.as_str()),
            "`list --spares` lacks {id}\n{listed}"
        );
        assert!(
            !t.list().iter().any(|i| i.dir.ends_with(id)),
            "spare {id} in `list`"
        );
    }

    let second = t.start(&["-w", "0"]);
    let id = socket_id(&second.url);
    assert!(
        ready.contains(&id),
        "{} was not one of the spares {ready:?}",
        second.url
    );
    let mut client = db::connect(&second.url);
    assert_eq!(db::text(&mut client, "select current_database()"), "test");
    let claimed = t.instance(&second.url);
    assert_eq!(claimed.timeout_secs, 0, "the claim's `-w 0` not applied");
    assert_eq!(claimed.raw["spare"], false);
    assert!(
        !t.spares().contains(&id),
        "claimed {id} still counted a spare"
    );
    // The first hand-out is untouched.
    db::connect(&first.url);
}

/// Twenty callers at once, with spares ready: every one gets its own
/// working server, and no spare is handed out twice.
#[test]
fn parallel_claims_never_share_a_spare() {
    let t = TestRoot::new();
    // A burst raises the demand, hence the spare target.
    let warm: Vec<_> = (0..6).map(|_| t.start(&[])).collect();
    wait_spares(&t, 4);
    let ready = t.spares();
    let urls: Vec<String> = std::thread::scope(|s| {
        let threads: Vec<_> = (0..20).map(|_| s.spawn(|| t.start(&[]).url)).collect();
        threads
            .into_iter()
            .map(|h| h.join().expect("hand-out"))
            .collect()
    });
    let mut ids: Vec<String> = urls.iter().map(|u| socket_id(u)).collect();
    let from_spares = ids.iter().filter(|id| ready.contains(id)).count();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 20, "two callers got the same server: {urls:?}");
    assert!(
        from_spares >= 1,
        "no caller got one of the spares {ready:?}"
    );
    for u in urls.iter().chain(warm.iter().map(|h| &h.url)) {
        let mut c = db::connect(u);
        assert_eq!(db::text(&mut c, "select 1::text"), "1");
    }
    // Each claimed spare names exactly one claimer.
    for id in ids.iter().filter(|id| ready.contains(id)) {
        let dir = t.base().join("run").join(id);
        let claims = std::fs::read_dir(&dir)
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().starts_with("claim-"))
            .count();
        assert_eq!(claims, 1, "{id} claimed {claims} times");
    }
}

#[test]
fn unclaimed_spare_stops_after_the_spare_timeout() {
    let t = TestRoot::new();
    let h = t.pgtmp(["-w", "1"]).env("PGTMP_SPARE_TIMEOUT", "4s").run();
    h.assert_success();
    wait_spares(&t, 1);
    let ids = t.spares();
    let pids: Vec<u32> = ids.iter().map(|id| postmaster_pid(&t, id)).collect();
    assert!(
        poll::stays(Duration::from_millis(800), || pids
            .iter()
            .all(|&p| procs::alive(p))),
        "a spare stopped long before its timeout"
    );
    assert!(
        poll::eventually(|| t.all_run_entries().is_empty() && procs::touching(t.path()).is_empty()),
        "spares still run after the spare timeout: run/ {:?}, processes {:?}\n{}",
        t.all_run_entries(),
        procs::touching(t.path())
            .iter()
            .map(|&p| procs::cmdline(p))
            .collect::<Vec<_>>(),
        t.logs()
    );
    let tokens: Vec<_> = std::fs::read_dir(t.base().join("spare"))
        .unwrap()
        .flatten()
        .filter(|e| e.path().is_dir())
        .flat_map(|e| std::fs::read_dir(e.path()).unwrap().flatten())
        .map(|e| e.path())
        .collect();
    assert!(tokens.is_empty(), "tokens left: {tokens:?}");
}

/// After a hand-out, one ready spare and no other, so that the next
/// hand-out would take it: its id, its directory, and the pid of its
/// `victim` (`postmaster` or `supervisor`).
fn lone_spare(t: &TestRoot, victim: &str) -> (String, std::path::PathBuf, u32) {
    let _warm = t.start(&[]);
    wait_spares(t, 1);
    let id = t.spares()[0].clone();
    let dir = t.base().join("run").join(&id);
    let pid = match victim {
        "postmaster" => postmaster_pid(t, &id),
        _ => meta_field(&dir, "supervisor_pid").as_u64().unwrap() as u32,
    };
    for other in t.spares().into_iter().filter(|o| *o != id) {
        let u = format!(
            "postgresql:///test?host={}&user={}",
            t.base().join("run").join(&other).display(),
            procs::my_name()
        );
        t.pgtmp(["stop", &u]).run().assert_success();
    }
    (id, dir, pid)
}

/// A spare whose postmaster or supervisor was killed is never handed
/// out: the claim checks that it is really serving.
#[test]
fn killed_spare_is_never_handed_out() {
    let t = TestRoot::new();
    for victim in ["postmaster", "supervisor"] {
        let (id, dir, pid) = lone_spare(&t, victim);
        procs::signal(pid, "KILL");
        // kill(2) returns before the victim has died; on a loaded machine a
        // claim could still find it running (a race of this test's, not of
        // pgtmp's, which cannot know of a kill that has not happened yet).
        assert!(
            poll::eventually(|| !procs::alive(pid)),
            "the {victim} survives SIGKILL"
        );
        let h = t.start(&[]);
        let mut client = db::try_connect(&h.url).unwrap_or_else(|e| {
            panic!(
                "hand-out after killing a spare's {victim} is dead: {}: {e}\n{}",
                h.url,
                t.logs()
            )
        });
        assert_eq!(db::text(&mut client, "select 1::text"), "1");
        assert_ne!(socket_id(&h.url), id, "the killed spare was handed out");
        assert!(
            poll::eventually(
                || !dir.exists() || t.pgtmp(["gc"]).run().code() == Some(0) && !dir.exists()
            ),
            "the killed spare's directory stays: {}\n{}",
            dir.display(),
            t.logs()
        );
    }
}

/// A caller that claims a spare but cannot print the URL (stdout closed)
/// must not leave that server running for nobody.
#[test]
fn claimer_without_stdout_frees_spare() {
    use std::process::Stdio;
    let t = TestRoot::new();
    let _warm = t.start(&[]);
    wait_spares(&t, 1);
    let ready = t.spares();
    let (mut cmd, shown) = t.pgtmp(["-w", "0"]).command();
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    cmd.stdin(Stdio::null())
        .stdout(writer)
        .stderr(Stdio::piped());
    let out = cmd.output().unwrap_or_else(|e| panic!("{shown}: {e}"));
    assert!(!out.status.success(), "{shown} succeeded without a stdout");
    let claimed: Vec<_> = ready.iter().filter(|id| !t.spares().contains(id)).collect();
    assert_eq!(
        claimed.len(),
        1,
        "no spare was claimed: {ready:?} {:?}",
        t.spares()
    );
    let dir = t.base().join("run").join(claimed[0]);
    assert!(
        poll::eventually(|| !dir.exists()),
        "the spare claimed by a caller without stdout still runs: {}\n{}",
        dir.display(),
        t.logs()
    );
    assert!(
        !t.list().iter().any(|i| i.dir == dir),
        "the freed spare is listed"
    );
}

/// `-t` is served by TCP spares: port picked and password set ahead.
#[test]
fn tcp_handouts_use_tcp_spares() {
    let t = TestRoot::new();
    let _first = t.start(&["-t"]);
    wait_spares(&t, 1);
    let ready = t.spares();
    let h = t.start(&["-t"]);
    let inst = t.instance(&h.url);
    let id = inst.dir.file_name().unwrap().to_string_lossy().into_owned();
    assert!(
        ready.contains(&id),
        "`-t` did not take a TCP spare: {ready:?}, got {id}"
    );
    assert!(inst.tcp);
    let mut client = db::connect(&h.url);
    assert_eq!(db::text(&mut client, "select 1::text"), "1");
    let wrong = url::tcp(&h.url).with_password("wrong");
    assert!(
        db::try_connect(&wrong).is_err(),
        "a wrong password was accepted"
    );
}

/// Hand-outs with their own server options or data directory never take a
/// spare; and `stop --all` and `gc --all` stop the spares.
#[test]
fn options_bypass_spares_and_cleanup_stops_them() {
    let t = TestRoot::new();
    let _first = t.start(&[]);
    wait_spares(&t, 1);
    let ready = t.spares();
    let h = t.start(&["-o", "-c work_mem=7MB"]);
    assert!(!ready.contains(&socket_id(&h.url)), "`-o` took a spare");
    let mut client = db::connect(&h.url);
    assert_eq!(db::text(&mut client, "show work_mem"), "7MB");
    drop(client);
    wait_spares(&t, 1);

    let out = t.pgtmp(["gc", "--all"]).run();
    out.assert_success();
    assert!(
        t.spares().is_empty(),
        "`gc --all` left spares {:?}\n{out}",
        t.spares()
    );
    assert!(
        !t.list().is_empty(),
        "`gc --all` stopped a handed-out instance"
    );

    let _again = t.start(&[]);
    wait_spares(&t, 1);
    t.pgtmp(["stop", "--all"]).run().assert_success();
    assert!(
        poll::eventually(|| t.spares().is_empty() || t.refilling()),
        "`stop --all` left spares {:?}",
        t.spares()
    );
}

/// `PGTMP_SPARES=0` (or `--spares 0`) starts none.
#[test]
fn zero_disables_spares() {
    let t = TestRoot::new();
    t.pgtmp(["--spares", "0"]).run().assert_success();
    t.pgtmp(Vec::<&str>::new())
        .env("PGTMP_SPARES", "0")
        .run()
        .assert_success();
    assert!(
        poll::eventually(|| !t.refilling()),
        "refill never ended\n{}",
        t.logs()
    );
    assert!(t.spares().is_empty(), "spares started: {:?}", t.spares());
    t.pgtmp(Vec::<&str>::new())
        .env("PGTMP_SPARES", "many")
        .run()
        .assert_error(1, &["PGTMP_SPARES"]);
}

/// `stop --all` right after a hand-out, while its refill starts spares:
/// nothing may outlive it (the refill is told to stop starting them, and
/// `stop --all` waits for it).
#[test]
fn stop_all_during_a_refill_leaves_no_spare() {
    let t = TestRoot::new();
    // Demand for several, so the refill has a batch to start.
    for _ in 0..4 {
        t.start(&[]);
    }
    t.pgtmp(["stop", "--all"]).run().assert_success();
    assert!(
        poll::eventually(|| procs::touching(t.path()).is_empty()),
        "processes outlive `stop --all`: {:?}\n{}",
        procs::touching(t.path())
            .iter()
            .map(|&p| procs::cmdline(p))
            .collect::<Vec<_>>(),
        t.logs()
    );
    assert!(
        t.all_run_entries().is_empty(),
        "left: {:?}",
        t.all_run_entries()
    );
}

/// A bin directory whose `postgres` takes `delay` seconds before it starts
/// a server (not for `--single` or `--version`): spares slow enough for a
/// burst to outrun them, whatever the machine's speed.
fn slow_bindir(t: &TestRoot, delay: u32) -> std::path::PathBuf {
    let real = Path::new(crate::support::PSQL)
        .parent()
        .expect("psql's bin directory");
    let dir = t.mkdir("slowbin");
    crate::support::fake::write_executable(
        &dir.join("postgres"),
        &format!(
            "#!/bin/sh\ncase \" $* \" in *\" --single \"*|*\" --version \"*|*\" -V \"*) ;; *) sleep {delay};; esac\nexec {} \"$@\"\n",
            real.join("postgres").display()
        ),
    );
    std::os::unix::fs::symlink(real.join("initdb"), dir.join("initdb")).expect("link initdb");
    dir
}

/// A burst that outruns the ready spares: while a caller waits for one
/// still starting, the refill already starts the next, rather than
/// waiting for the ones it started to be ready first (which left every
/// other caller of a first burst waiting a whole start). Spares are made
/// to take 2 s to start, so the order of events is plain to see.
#[test]
fn the_next_spare_starts_while_a_caller_waits_for_one() {
    let t = TestRoot::new();
    let bindir = slow_bindir(&t, 2);
    let bindir = bindir.to_str().expect("utf-8 path");
    let start = || t.start(&["-w", "0", "--pg-bindir", bindir]);
    // A quiet spell: one hand-out, one spare ready.
    start();
    wait_spares(&t, 1);
    // The first of a burst takes it; the refill starts another.
    start();
    assert!(
        poll::eventually(|| !t.spares().is_empty()),
        "no spare started after the one ready was taken\n{}",
        t.logs()
    );
    // The next claims that one while it starts, and waits for it.
    let waited = start();
    let returned = std::time::SystemTime::now();
    let claimed = socket_id(&waited.url);
    let created = |id: &str| {
        std::fs::metadata(t.base().join("run").join(id).join("lock"))
            .and_then(|m| m.modified())
            .ok()
    };
    let early: Vec<(String, Option<std::time::SystemTime>)> = t
        .spares()
        .into_iter()
        .filter(|id| *id != claimed)
        .map(|id| {
            let c = created(&id);
            (id, c)
        })
        .collect();
    assert!(
        early.iter().any(|(_, c)| c.is_some_and(|c| {
            returned
                .duration_since(c)
                .is_ok_and(|d| d > Duration::from_secs(1))
        })),
        "no spare was started while the caller waited for {claimed} (2 s): {early:?}, the caller returned at {returned:?}\n{}",
        t.logs()
    );
}

/// Issue 18.11: a spare whose postmaster (or supervisor) was stopped
/// with SIGSTOP still looks alive, and its socket still accepts
/// connections, which then hang: the claim must see the state and pass it
/// over. It is not continued behind the back of whoever stopped it; once
/// continued, it stops, having been claimed.
#[test]
fn stopped_spare_is_never_handed_out() {
    let t = TestRoot::new();
    for victim in ["postmaster", "supervisor"] {
        let (id, _, pid) = lone_spare(&t, victim);
        procs::signal(pid, "STOP");
        assert!(
            poll::eventually(|| procs::state(pid) == Some('T')),
            "the {victim} did not stop"
        );
        let h = t.start(&[]);
        let same = socket_id(&h.url) == id;
        procs::signal(pid, "CONT");
        assert!(!same, "the spare with a stopped {victim} was handed out");
        let mut client = db::connect(&h.url);
        assert_eq!(db::text(&mut client, "select 1::text"), "1");
        drop(client);
        assert!(
            poll::eventually(|| !procs::alive(pid)),
            "the passed-over spare's {victim} runs on after SIGCONT\n{}",
            t.logs()
        );
        t.stop(&h.url);
    }
}

/// The names spares had before (`--standby`, `list --standbys`,
/// `PGTMP_STANDBY`, `PGTMP_STANDBY_TIMEOUT`) still work; the new ones win.
#[test]
fn old_names_still_work() {
    let t = TestRoot::new();
    t.pgtmp(["--standby", "0"]).run().assert_success();
    t.pgtmp(Vec::<&str>::new())
        .env("PGTMP_STANDBY", "0")
        .run()
        .assert_success();
    assert!(
        poll::eventually(|| !t.refilling()),
        "refill never ended\n{}",
        t.logs()
    );
    assert!(t.spares().is_empty(), "spares started: {:?}", t.spares());
    let listed = t.pgtmp(["list", "--standbys", "--json"]).run();
    listed.assert_success();
    assert_eq!(listed.stdout, "[]\n", "{listed}");
    t.pgtmp(Vec::<&str>::new())
        .env("PGTMP_STANDBY", "many")
        .run()
        .assert_error(1, &["PGTMP_STANDBY=\"many\""]);
    t.pgtmp(Vec::<&str>::new())
        .env("PGTMP_STANDBY_TIMEOUT", "soon")
        .run()
        .assert_error(1, &["PGTMP_STANDBY_TIMEOUT"]);
    t.pgtmp(Vec::<&str>::new())
        .env("PGTMP_SPARES", "0")
        .env("PGTMP_STANDBY", "many")
        .run()
        .assert_success();
}
