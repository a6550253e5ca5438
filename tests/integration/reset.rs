//! `pgtmp reset URL`: a running instance back to the state it was handed
//! out in, its URL, port, password and idle timeout kept, its clients
//! disconnected (they reconnect with the same URL).

use crate::support::{PSQL, TestRoot, Who, db, poll, procs};

fn count(url: &str, sql: &str) -> String {
    db::text(&mut db::connect(url), sql)
}

/// How many tables called `name` the database at `url` has, as text.
fn tables(url: &str, name: &str) -> String {
    count(
        url,
        &format!("select count(*)::text from pg_tables where tablename = '{name}'"),
    )
}

/// Waits until a spare of `who`'s is ready and no refill runs.
fn await_spare(t: &TestRoot, who: Who, context: &str) {
    assert!(
        poll::eventually(|| !t.refilling() && !t.spares_of(who).is_empty()),
        "{context}no spare ready\n{}",
        t.logs()
    );
}

/// A client writes into the instance at `url` and stays connected; `pgtmp
/// reset URL` succeeds and prints nothing; the client was disconnected,
/// and a new one with the same URL (and password) finds the database as
/// it was handed out.
fn scribble_and_reset(t: &TestRoot, url: &str) {
    let mut client = db::connect(url);
    db::execute(
        &mut client,
        "create table notes (t text); insert into notes values ('scribble')",
    );
    let out = t.pgtmp(["reset", url]).run();
    out.assert_success();
    assert!(out.stdout.is_empty(), "{out}");
    assert!(
        client.batch_execute("select 1").is_err(),
        "a client of the old server still works"
    );
    assert_eq!(tables(url, "notes"), "0");
}

#[test]
fn reset_puts_the_instance_back_and_keeps_its_url() {
    let t = TestRoot::new();
    let h = t.start(&["-t", "-w", "5m"]);
    let before = t.instance(&h.url);
    scribble_and_reset(&t, &h.url);
    let after = t.instance(&h.url);
    assert_eq!(
        (after.port, after.timeout_secs, after.tcp, &after.dir),
        (before.port, before.timeout_secs, before.tcp, &before.dir)
    );
    assert_ne!(after.pid, before.pid, "the server was not restarted");
    // Again, from a pool entry or a copy: it keeps working, and the
    // instance still stops when asked.
    db::execute(&mut db::connect(&h.url), "create table again (t text)");
    t.pgtmp(["reset", h.url.as_str()]).run().assert_success();
    assert_eq!(tables(&h.url, "again"), "0");
    t.stop(&h.url);
    assert!(!after.dir.exists(), "the instance directory is left");
}

/// With a socket URL and a spare ready, the reset puts the spare's server
/// in the instance's place rather than restarting it: the server that
/// answers at the same URL is the spare's, in the spare's own directory,
/// which the URL's directory now links to; the old one is gone with its
/// clients and its directory; the instance keeps its settings and stops
/// when asked, link and all.
#[test]
fn a_socket_reset_swaps_in_a_ready_spare() {
    let t = TestRoot::new();
    let h = t.start(&["-w", "5m"]);
    let before = t.instance(&h.url);
    let run = t.base().join("run");
    await_spare(&t, Who::Me, "");
    let spare_pids: Vec<u32> = t
        .spares()
        .iter()
        .map(|id| procs::postmaster_pid(&run.join(id).join("data")).expect("a spare's pid"))
        .collect();
    scribble_and_reset(&t, &h.url);
    let after = t.instance(&h.url);
    assert!(
        spare_pids.contains(&after.pid),
        "the server {} is no spare of {spare_pids:?}: restarted, not swapped",
        after.pid
    );
    assert_eq!(
        (after.timeout_secs, after.started, after.port),
        (before.timeout_secs, before.started, before.port)
    );
    assert_eq!(
        std::fs::read_link(&before.dir).expect("the URL's directory is a link now"),
        std::path::PathBuf::from(after.dir.file_name().expect("a name")),
    );
    assert!(after.data_dir.starts_with(&after.dir), "{}", after.raw);
    assert!(
        !procs::alive(before.pid),
        "the old server {} still runs",
        before.pid
    );
    assert!(
        poll::eventually(|| !hidden_left(&run)),
        "what the old server had is left\n{}",
        t.logs()
    );
    // Its own supervisor watches it now: it answers `stop`.
    t.stop(&h.url);
    assert!(!after.dir.exists(), "the instance directory is left");
    assert!(
        std::fs::symlink_metadata(&before.dir).is_err(),
        "the link to it is left"
    );
    assert!(
        !procs::alive(after.pid),
        "the server {} outlived its stop",
        after.pid
    );
}

/// The swap works for an ordinary user as for root (who runs pgtmp as the
/// PostgreSQL account): the URL's directory becomes a link to the
/// spare's, and a stop removes both.
#[test]
fn an_ordinary_user_s_reset_swaps_too() {
    if !procs::is_root() {
        return; // run as that user already, by the other tests
    }
    let t = TestRoot::new();
    let user = crate::support::user::ordinary();
    let who = Who::User(user);
    let h = t.start_as(who, &["-w", "5m"]);
    let before = t.instance_as(who, &h.url);
    // Connected as that user's role, as a client of theirs would be.
    let as_user = format!("{}&user={}", h.url, user.name);
    await_spare(&t, who, "");
    db::execute(&mut db::connect(&as_user), "create table notes (t text)");
    t.pgtmp(["reset", h.url.as_str()])
        .who(who)
        .run()
        .assert_success();
    assert!(
        std::fs::read_link(&before.dir).is_ok(),
        "restarted, not swapped\n{}",
        t.logs()
    );
    assert_eq!(tables(&as_user, "notes"), "0");
    let after = t.instance_as(who, &h.url);
    t.pgtmp(["stop", h.url.as_str()])
        .who(who)
        .run()
        .assert_success();
    assert!(!after.dir.exists(), "the instance directory is left");
    assert!(
        std::fs::symlink_metadata(&before.dir).is_err(),
        "the link is left"
    );
}

/// Whether `run/` holds something a reset put aside.
fn hidden_left(run: &std::path::Path) -> bool {
    std::fs::read_dir(run)
        .expect("run/")
        .flatten()
        .any(|e| e.file_name().to_string_lossy().starts_with(".replaced-"))
}

/// A server swapped in keeps its data directory where it started, so it
/// survives what writes by absolute path (a checkpoint writes
/// `global/pg_control` so; a server whose directory was renamed under it
/// PANICs there), a snapshot (a fast shutdown, a start again), and a
/// second swap, which replaces the link the first one made.
#[test]
fn a_swapped_in_server_survives_checkpoints_and_more_resets() {
    let t = TestRoot::new();
    let h = t.start(&["-w", "5m"]);
    let first = t.instance(&h.url);
    let mut pids = vec![first.pid];
    for round in 0..2 {
        await_spare(&t, Who::Me, &format!("round {round}: "));
        db::execute(&mut db::connect(&h.url), "create table notes (t text)");
        t.pgtmp(["reset", h.url.as_str()]).run().assert_success();
        let now = t.instance(&h.url);
        assert!(!pids.contains(&now.pid), "round {round}: not reset");
        pids.push(now.pid);
        let mut c = db::connect(&h.url);
        db::execute(&mut c, "create table kept (t text); checkpoint");
        db::execute(&mut c, "create database other");
        db::execute(&mut c, "checkpoint");
        drop(c);
        let name = format!("swapped{round}");
        t.pgtmp(["snapshot", h.url.as_str(), name.as_str()])
            .run()
            .assert_success();
        assert_eq!(
            count(
                &h.url,
                "select count(*)::text from pg_tables where tablename in ('notes', 'kept')"
            ),
            "1",
            "round {round}\n{}",
            t.logs()
        );
        let log = std::fs::read_to_string(now.dir.join("server.log")).expect("server.log");
        assert!(!log.contains("PANIC"), "round {round}: crashed\n{log}");
    }
    let last = t.instance(&h.url);
    t.stop(&h.url);
    let run = t.base().join("run");
    assert!(!last.dir.exists(), "the instance directory is left");
    assert!(
        std::fs::symlink_metadata(&first.dir).is_err(),
        "the link is left"
    );
    assert!(!hidden_left(&run), "what resets put aside is left");
    for pid in pids {
        assert!(!procs::alive(pid), "server {pid} still runs");
    }
}

/// An instance a reset swapped in whose processes are killed leaves its
/// directory and the link its URL names; `gc` removes both.
#[test]
fn gc_removes_a_killed_swapped_instance_and_its_link() {
    let t = TestRoot::new();
    let h = t.start(&["-w", "5m"]);
    let before = t.instance(&h.url);
    await_spare(&t, Who::Me, "");
    t.pgtmp(["reset", h.url.as_str()]).run().assert_success();
    let after = t.instance(&h.url);
    assert!(std::fs::read_link(&before.dir).is_ok(), "not swapped");
    procs::signal(after.supervisor_pid, "KILL");
    procs::signal(after.pid, "KILL");
    assert!(
        poll::eventually(|| !procs::alive(after.pid) && !procs::alive(after.supervisor_pid)),
        "the killed processes linger"
    );
    // Its backends leave once they see the postmaster gone.
    assert!(
        poll::eventually(|| {
            t.pgtmp(["gc"]).run().assert_success();
            !after.dir.exists()
        }),
        "gc left {}",
        after.dir.display()
    );
    assert!(
        std::fs::symlink_metadata(&before.dir).is_err(),
        "gc left the link {}",
        before.dir.display()
    );
}

/// A command run by `exec` may reset its database, a spare then taking
/// the instance's place: it finds it as handed out, and when the command
/// ends, `exec` stops the instance it now is, leaving no directory and no
/// link behind.
#[test]
fn exec_stops_an_instance_its_command_reset() {
    let t = TestRoot::new();
    // Spares of its kind asked for once.
    t.stop(&t.start(&[]).url);
    let pgtmp = env!("CARGO_BIN_EXE_pgtmp");
    let script = format!(
        r#"set -e
{PSQL} "$DATABASE_URL" -X -q -c 'create table notes (t text)'
# exec took the spare there was: wait for the next one to be ready.
for i in $(seq 300); do
  ls "$PGTMP_DIR"/spare/*-socket/ 2>/dev/null | grep -q . && break
  sleep 0.1
done
{pgtmp} reset "$DATABASE_URL"
test -L "$PGHOST"
{PSQL} "$DATABASE_URL" -X -tA -c "select count(*) from pg_tables where tablename = 'notes'"
"#
    );
    let out = t.pgtmp(["exec", "--", "sh", "-c", &script]).run();
    out.assert_success();
    assert_eq!(out.stdout, "0\n", "{out}");
    let entries = || t.run_entries_of(Who::Me);
    assert!(
        poll::eventually(|| entries().is_empty()),
        "left in run/: {:?}\n{}",
        entries(),
        t.logs()
    );
}

/// Resets of one URL at the same time all succeed, whether a spare or a
/// restart serves each: one that finds the instance swapped under it tries
/// again with the server now in its place.
#[test]
fn concurrent_resets_all_succeed() {
    let t = TestRoot::new();
    let h = t.start(&["-w", "5m"]);
    db::execute(&mut db::connect(&h.url), "create table notes (t text)");
    await_spare(&t, Who::Me, "");
    let outs: Vec<_> = std::thread::scope(|s| {
        let calls: Vec<_> = (0..3)
            .map(|_| s.spawn(|| t.pgtmp(["reset", h.url.as_str()]).run()))
            .collect();
        calls
            .into_iter()
            .map(|c| c.join().expect("a reset panicked"))
            .collect()
    });
    for out in &outs {
        out.assert_success();
    }
    assert_eq!(tables(&h.url, "notes"), "0");
    assert_eq!(t.list().len(), 1, "{}", t.logs());
    t.stop(&h.url);
}

/// `stop` at the moment a reset swaps a spare in still stops the instance
/// as asked, whichever supervisor it finds serving it: the one serving it
/// then shuts it down on request (not because its server was killed after
/// the request went unheard), and nothing is left running.
#[test]
fn stop_during_a_reset_stops_the_instance() {
    let t = TestRoot::new();
    // The stop comes a little later each round, so that some land while
    // the swap is under way.
    for round in 0..6u64 {
        // -k keeps the instance directory, with its supervisor's log.
        let h = t.start(&["-k", "-w", "5m"]);
        let dir = crate::support::url::socket(&h.url).host;
        await_spare(&t, Who::Me, "");
        let (reset, stop) = std::thread::scope(|s| {
            let reset = s.spawn(|| t.pgtmp(["reset", h.url.as_str()]).run());
            std::thread::sleep(std::time::Duration::from_millis(2 * round));
            let stop = s.spawn(|| t.pgtmp(["stop", h.url.as_str()]).run());
            (reset.join().expect("reset"), stop.join().expect("stop"))
        });
        stop.assert_success();
        // The reset may have come too late for an instance: that is said.
        if !reset.status.success() {
            reset.assert_error(1, &["pgtmp: error:"]);
        }
        // Read loosely: a spare the reset claimed and could not use may be
        // listed while it stops (no pid then).
        let list = t.pgtmp(["list", "--json"]).run();
        list.assert_success();
        let listed: serde_json::Value = serde_json::from_str(&list.stdout).expect("JSON");
        let urls: Vec<&str> = listed
            .as_array()
            .expect("an array")
            .iter()
            .filter_map(|e| e["url"].as_str())
            .collect();
        assert!(
            !urls.contains(&h.url.as_str()),
            "round {round}: the instance outlived its stop\nreset: {reset}\n{list}\n{}",
            t.logs()
        );
        // The directory kept is the one whose server served it last: its
        // own, or the spare's a reset swapped in.
        let kept = kept_dirs(&t.base().join("run"), &h.url);
        assert_eq!(kept.len(), 1, "round {round}: kept {kept:?}");
        let log = std::fs::read_to_string(kept[0].join("supervise.log")).unwrap_or_default();
        assert!(
            log.contains("stopping: stop requested"),
            "round {round}: not stopped on request\nreset: {reset}\n{log}"
        );
        std::fs::remove_dir_all(&kept[0]).expect("remove the kept directory");
        assert!(
            poll::eventually(|| !hidden_left(&t.base().join("run"))),
            "round {round}: what the reset put aside is left"
        );
        assert!(
            std::fs::symlink_metadata(&dir).is_err() || dir == kept[0],
            "round {round}: the link to the kept directory is left"
        );
    }
}

/// The instance directories in `run` whose `meta.json` names `url`.
fn kept_dirs(run: &std::path::Path, url: &str) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(run)
        .expect("run/")
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        // What a reset put aside is removed by its supervisor meanwhile.
        .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
        .map(|e| e.path())
        .filter(|d| {
            std::fs::read_to_string(d.join("meta.json"))
                .ok()
                .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
                .is_some_and(|m| m["url"] == url)
        })
        .collect()
}

/// A swap's supervisor removes what it moved aside as it ends; one killed
/// before that leaves it behind, and `gc` removes it once nobody holds its
/// lock, as it removes half-made instance directories.
#[test]
fn gc_removes_what_a_killed_swap_left_aside() {
    let t = TestRoot::new();
    let h = t.start(&[]);
    let run = t.base().join("run");
    let left = run.join(".replaced-0123456789");
    std::fs::create_dir_all(left.join("data")).expect("mkdir");
    std::fs::write(left.join("data/PG_VERSION"), "15\n").expect("write");
    std::fs::write(left.join("lock"), "").expect("write");
    let left_str = left.to_str().expect("utf-8");
    let run_str = run.to_str().expect("utf-8");
    // As the instances' owner, and older than a directory being made.
    t.cmd("chown", ["-R", "--reference", run_str, left_str])
        .run()
        .assert_success();
    t.cmd("touch", ["-d", "1 minute ago", left_str])
        .run()
        .assert_success();
    t.pgtmp(["gc"]).run().assert_success();
    assert!(!left.exists(), "gc left {}", left.display());
    assert!(t.listed(&h.url), "gc took the running instance");
    t.stop(&h.url);
}

/// Back to what it was handed out from: a fixture's template (the files are
/// not loaded again), a setup's (the commands do not run again), a
/// snapshot's.
#[test]
fn reset_returns_to_the_fixture_setup_or_snapshot() {
    let t = TestRoot::new();
    t.write("schema.sql", "create table fixture_t (id int);\n");
    t.mkdir("marks");
    let setup = "echo ran >> marks/setup; /usr/lib/postgresql/15/bin/psql -Xqc 'create table setup_t (id int)'";
    let cases = [
        (vec!["-f", "schema.sql"], "fixture_t"),
        (vec!["--setup", setup], "setup_t"),
    ];
    for (args, table) in cases {
        let h = t.start(&args);
        db::execute(
            &mut db::connect(&h.url),
            &format!("drop table {table}; create table scratch (id int)"),
        );
        t.pgtmp(["reset", h.url.as_str()]).run().assert_success();
        let tables = count(
            &h.url,
            "select string_agg(tablename, ',') from pg_tables where schemaname = 'public'",
        );
        assert_eq!(tables, table, "after a reset of a {args:?} instance");
    }
    let setup_runs = std::fs::read_to_string(t.join("marks/setup")).expect("marker");
    assert_eq!(
        setup_runs.lines().count(),
        1,
        "the reset ran the setup again"
    );

    let source = t.start(&[]);
    db::execute(
        &mut db::connect(&source.url),
        "create table snap_t (id int)",
    );
    t.pgtmp(["snapshot", source.url.as_str(), "base"])
        .run()
        .assert_success();
    let h = t.start(&["--from", "base"]);
    db::execute(&mut db::connect(&h.url), "drop table snap_t");
    t.pgtmp(["reset", h.url.as_str()]).run().assert_success();
    assert_eq!(
        count(
            &h.url,
            "select string_agg(tablename, ',') from pg_tables where schemaname = 'public'"
        ),
        "snap_t"
    );
}

/// What is not ours, or has nothing to go back to, is refused untouched.
#[test]
fn reset_refuses_what_it_cannot_reset() {
    let t = TestRoot::new();
    let out = t
        .pgtmp(["reset", "postgresql://someone@db.example.com:5432/app"])
        .run();
    out.assert_error(1, &["no running instance matches", "hint:"]);
    let out = t.pgtmp(["reset", "not a url"]).run();
    out.assert_error(1, &["is not a PostgreSQL URL"]);
    let out = t.pgtmp(["reset"]).run();
    out.assert_code(2);

    let own = t.start(&["-d", "mine"]);
    db::execute(&mut db::connect(&own.url), "create table precious (id int)");
    let out = t.pgtmp(["reset", own.url.as_str()]).run();
    out.assert_error(1, &["cannot reset", "your own data directory", "hint:"]);
    assert_eq!(tables(&own.url, "precious"), "1");
}

/// A `--shared-tx` URL is the proxy, whose clients' work is one open
/// transaction: `reset` and `snapshot` refuse it, pointing at `rollback`,
/// and leave that transaction as it was; no snapshot is recorded.
#[test]
fn reset_and_snapshot_refuse_a_shared_tx_proxy() {
    let t = TestRoot::new();
    let h = t.start(&["--shared-tx"]);
    let mut held = db::connect(&h.url);
    db::execute(&mut held, "create table inside (id int)");
    let url = h.url.as_str();
    for args in [&["reset", url][..], &["snapshot", url, "tx"][..]] {
        let out = t.pgtmp(args).run();
        out.assert_error(1, &["--shared-tx proxy", "hint:", "pgtmp rollback"]);
    }
    assert_eq!(
        tables(url, "inside"),
        "1",
        "the shared transaction was touched"
    );
    let list = t.pgtmp(["snapshot", "--list"]).run();
    list.assert_success();
    assert_eq!(list.stdout, "", "a snapshot was recorded");
    drop(held);
    t.stop(url);
}

/// A set with replicas is refused by `reset` and `snapshot`, whichever
/// server's URL names it, and runs on untouched.
#[test]
fn reset_and_snapshot_refuse_a_set_with_replicas() {
    let t = TestRoot::new();
    let out = t.pgtmp(["--replicas", "1", "-w", "0"]).run();
    out.assert_success();
    let urls: Vec<String> = out.stdout.lines().map(str::to_string).collect();
    assert_eq!(urls.len(), 2, "{out}");
    db::execute(&mut db::connect(&urls[0]), "create table kept (id int)");
    for url in &urls {
        for args in [&["reset", url.as_str()][..], &["snapshot", url, "set"][..]] {
            let out = t.pgtmp(args).run();
            out.assert_error(1, &["has replicas"]);
        }
    }
    assert_eq!(
        count(
            &urls[0],
            "select count(*)::text from pg_tables where tablename = 'kept'"
        ),
        "1"
    );
    let list = t.pgtmp(["snapshot", "--list"]).run();
    list.assert_success();
    assert_eq!(list.stdout, "", "a snapshot was recorded");
    t.stop(&urls[0]);
}

/// A reset is no crash to the supervisor, and the instance keeps its idle
/// timeout: it stops later for want of clients, as its log says.
#[test]
fn a_reset_instance_keeps_its_idle_timeout() {
    let t = TestRoot::new();
    // -k keeps the instance directory, with the supervisor's log. A client
    // keeps it up until the reset (which disconnects it), however slowly
    // the test gets there: the timeout must not end it first.
    let h = t.start(&["-k", "-w", "3"]);
    let client = db::connect(&h.url);
    // The socket directory of a socket URL is the instance directory.
    let dir = crate::support::url::socket(&h.url).host;
    t.pgtmp(["reset", h.url.as_str()]).run().assert_success();
    drop(client);
    assert!(
        poll::eventually(|| !t.listed(&h.url)),
        "the instance outlived its idle timeout after a reset\n{}",
        t.logs()
    );
    let log = std::fs::read_to_string(dir.join("supervise.log")).expect("supervise.log");
    assert!(
        log.contains("stopping: no client for 3s"),
        "it did not stop for want of clients:\n{log}"
    );
}

/// gc leaves the template of a running instance alone, however long
/// unused, so that a reset can go back to it; once the instance is gone,
/// it goes.
#[test]
fn gc_keeps_the_template_of_a_running_instance() {
    let t = TestRoot::new();
    t.write("schema.sql", "create table fixture_t (id int);\n");
    let h = t.start(&["-f", "schema.sql", "--spares", "0"]);
    assert!(poll::eventually(|| !t.refilling()), "refill still running");
    let template = crate::support::pgtmp::templates_of_kind(&t.base(), 'f')
        .pop()
        .expect("the fixture's template");
    let backdate = || {
        let used = template.with_extension("used");
        t.cmd("touch", ["-d", "3 days ago", used.to_str().expect("utf-8")])
            .run()
            .assert_success();
    };
    backdate();
    t.pgtmp(["gc"]).run().assert_success();
    assert!(
        template.is_dir(),
        "gc removed the template of a running instance"
    );
    t.pgtmp(["reset", h.url.as_str()]).run().assert_success();
    assert_eq!(count(&h.url, "select count(*)::text from fixture_t"), "0");
    t.stop(&h.url);
    // The refill after the reset holds the template while it copies it,
    // and gc leaves a held template alone.
    assert!(poll::eventually(|| !t.refilling()), "refill still running");
    backdate();
    t.pgtmp(["gc"]).run().assert_success();
    assert!(
        !template.exists(),
        "gc kept an unused template of no instance"
    );
}
