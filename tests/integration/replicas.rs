//! Sets (`--replicas N [--sync]`): a primary and hot standbys streaming
//! from it, handed out caught up, living and dying together; `promote`,
//! `wait` and `restart`; `--logical` between two instances.
//!
//! Most sets here run with `--spares 0`: a set is several servers, and
//! starting spare sets after each would only load the machine; one test
//! covers spare sets.

use std::fs;
use std::time::Duration;

use crate::support::root::set_mode;
use crate::support::{TestRoot, Who, db, poll, procs, url, user};

/// Whether the server at `u` is in recovery (a replica).
fn in_recovery(u: &str) -> bool {
    in_recovery_of(u, Who::Me)
}

/// The same for a server `who` started (its role is `who`'s name; the
/// socket URL names no user).
fn in_recovery_of(u: &str, who: Who) -> bool {
    let mut c = db::connect_to_whose(u, who);
    db::text(&mut c, "select pg_is_in_recovery()::text") == "true"
}

/// The number of rows in table `t` of the server at `u`.
fn rows(u: &str) -> String {
    let mut c = db::connect(u);
    db::text(&mut c, "select count(*)::text from t")
}

/// What test_decoding makes of inserting `i` into table `t`, through a
/// new logical slot and `pg_logical_slot_get_changes()`.
fn decoded_insert(c: &mut postgres::Client, i: i32) -> String {
    db::execute(
        c,
        "select pg_create_logical_replication_slot('dec', 'test_decoding')",
    );
    db::execute(c, &format!("insert into t values ({i})"));
    db::text(
        c,
        "select string_agg(data, ' ') from pg_logical_slot_get_changes('dec', null, null)",
    )
}

/// Every pid of a listed set: supervisor and postmasters.
fn pids(t: &TestRoot, primary: &str) -> Vec<u32> {
    let inst = t.instance(primary);
    let mut pids = vec![inst.supervisor_pid];
    pids.extend(inst.nodes.iter().filter_map(|n| n.pid));
    pids
}

#[test]
fn replicas_stream_what_the_primary_writes() {
    let t = TestRoot::new();
    let urls = t.start_set(&["--replicas", "2", "--spares", "0", "-w", "0"]);
    assert_eq!(urls.len(), 3, "{urls:?}");
    assert!(!in_recovery(&urls[0]), "the first URL is not the primary");
    for u in &urls[1..] {
        assert!(in_recovery(u), "{u} is not a replica");
    }
    let inst = t.instance(&urls[0]);
    let roles: Vec<String> = inst.nodes.iter().map(|n| n.role.to_string()).collect();
    assert_eq!(roles, ["primary", "replica", "replica"], "{}", inst.raw);
    let listed: Vec<&str> = inst.nodes.iter().map(|n| n.url.as_str()).collect();
    assert_eq!(listed, urls, "{}", inst.raw);
    // Each server has its own socket directory.
    let dirs: std::collections::BTreeSet<_> = urls.iter().map(|u| url::socket(u).host).collect();
    assert_eq!(dirs.len(), 3, "{urls:?}");

    let mut primary = db::connect(&urls[0]);
    db::execute(
        &mut primary,
        "create table t(i int); insert into t values (1)",
    );
    t.pgtmp(["wait", urls[2].as_str()]).run().assert_success();
    for u in &urls[1..] {
        assert_eq!(rows(u), "1", "{u} has not replayed the row after `wait`");
    }
    // The replicas stream from the primary, which says so.
    let streaming = db::text(
        &mut primary,
        "select string_agg(application_name || ' ' || state, ', ' order by application_name) \
         from pg_stat_replication",
    );
    assert_eq!(streaming, "node1 streaming, node2 streaming");

    // `list` shows the set as a row per server, the primary's first.
    let out = t.pgtmp(["list"]).run();
    out.assert_success();
    let first: Vec<&str> = out
        .stdout
        .lines()
        .map(|l| l.split('\t').next().unwrap())
        .collect();
    assert_eq!(first, urls, "{out}");
}

#[test]
fn sync_replicas_have_every_commit_at_once() {
    let t = TestRoot::new();
    let urls = t.start_set(&["--replicas", "2", "--sync", "--spares", "0"]);
    let mut primary = db::connect(&urls[0]);
    db::execute(&mut primary, "create table t(i int)");
    let mut replicas: Vec<_> = urls[1..].iter().map(|u| db::connect(u)).collect();
    for n in 1..=3 {
        db::execute(&mut primary, "insert into t values (1)");
        for r in &mut replicas {
            assert_eq!(db::text(r, "select count(*)::text from t"), n.to_string());
        }
    }
    let states = db::text(
        &mut primary,
        "select string_agg(sync_state, ',') from pg_stat_replication",
    );
    assert_eq!(states, "sync,sync");
}

#[test]
fn promote_switches_the_roles_over() {
    let t = TestRoot::new();
    let urls = t.start_set(&["--replicas", "2", "--spares", "0", "-w", "0"]);
    let mut primary = db::connect(&urls[0]);
    db::execute(
        &mut primary,
        "create table t(i int); insert into t values (1)",
    );
    drop(primary);

    // Not a replica: the primary, a single server, nobody's.
    t.pgtmp(["promote", urls[0].as_str()]).run().assert_error(
        1,
        &["is the primary of its set", "takes the URL of a replica"],
    );
    let single = t.start(&["--spares", "0"]);
    t.pgtmp(["promote", single.url.as_str()])
        .run()
        .assert_error(1, &["a server without replicas"]);
    let foreign = "postgresql:///test?host=/nonexistent/dir&user=nobody";
    t.pgtmp(["promote", foreign])
        .run()
        .assert_error(1, &["no running instance matches"]);

    t.pgtmp(["promote", urls[1].as_str()])
        .run()
        .assert_success();
    assert!(
        !in_recovery(&urls[1]),
        "the promoted replica is still in recovery"
    );
    assert!(
        in_recovery(&urls[0]),
        "the old primary did not become a replica"
    );
    assert!(
        in_recovery(&urls[2]),
        "the other replica is no replica any more"
    );
    // Nothing written before is lost; what the new primary writes reaches
    // the others, the old primary among them.
    let mut new_primary = db::connect(&urls[1]);
    db::execute(&mut new_primary, "insert into t values (2)");
    t.pgtmp(["wait", urls[0].as_str()]).run().assert_success();
    for u in &urls {
        assert_eq!(rows(u), "2", "{u}");
    }
    let inst = t.instance(&urls[1]);
    let order: Vec<(String, String)> = inst
        .nodes
        .iter()
        .map(|n| (n.name.clone(), n.role.to_string()))
        .collect();
    assert_eq!(order[0], ("node1".into(), "primary".into()), "{}", inst.raw);
    // A second switchover, back to where it began.
    t.pgtmp(["promote", urls[0].as_str()])
        .run()
        .assert_success();
    assert!(!in_recovery(&urls[0]) && in_recovery(&urls[1]));
}

#[test]
fn wait_returns_once_replayed_and_gives_up_after_its_timeout() {
    let t = TestRoot::new();
    let urls = t.start_set(&["--replicas", "1", "--spares", "0", "-w", "0"]);
    let mut primary = db::connect(&urls[0]);
    db::execute(
        &mut primary,
        "create table t(i int); insert into t select generate_series(1, 50000)",
    );
    t.pgtmp(["wait", urls[0].as_str(), "--timeout", "1m"])
        .run()
        .assert_success();
    assert_eq!(rows(&urls[1]), "50000");

    // A replica that does not replay makes `wait` give up, naming it.
    let mut replica = db::connect(&urls[1]);
    db::execute(&mut replica, "select pg_wal_replay_pause()");
    db::execute(&mut primary, "insert into t values (0)");
    t.pgtmp(["wait", urls[0].as_str(), "--timeout", "1"])
        .run()
        .assert_error(1, &["replica node1", "not yet to"]);
    db::execute(&mut replica, "select pg_wal_replay_resume()");
    t.pgtmp(["wait", urls[1].as_str()]).run().assert_success();
    assert_eq!(rows(&urls[1]), "50001");
    // A single server has nothing to wait for.
    let single = t.start(&["--spares", "0"]);
    t.pgtmp(["wait", single.url.as_str()])
        .run()
        .assert_success();
}

#[test]
fn restart_keeps_the_url_and_takes_new_options() {
    let t = TestRoot::new();
    let single = t.start(&["-t", "--spares", "0", "-w", "0"]);
    let mut c = db::connect(&single.url);
    db::execute(&mut c, "alter system set work_mem = '7MB'");
    drop(c);
    t.pgtmp(["restart", single.url.as_str()])
        .run()
        .assert_success();
    let mut c = db::connect(&single.url);
    assert_eq!(db::text(&mut c, "show work_mem"), "7MB");
    drop(c);

    // Behind a --shared-tx proxy: the proxy stays, the URL works again,
    // and the shared transaction starts afresh (nothing was committed).
    let shared = t.start(&["--shared-tx", "--spares", "0", "-w", "0"]);
    let mut c = db::connect(&shared.url);
    db::execute(&mut c, "create table t(i int); insert into t values (1)");
    drop(c);
    t.pgtmp(["restart", shared.url.as_str()])
        .run()
        .assert_success();
    let mut c = db::connect(&shared.url);
    assert_eq!(
        db::text(
            &mut c,
            "select count(*)::text from pg_class where relname = 't'"
        ),
        "0",
        "the shared transaction outlived the restart"
    );
    drop(c);
    t.pgtmp(["rollback", shared.url.as_str()])
        .run()
        .assert_success();
    // `-o` is read as `start -o` is: nothing that opens the server, and
    // listen addresses only where they fit (not behind the proxy).
    t.pgtmp(["restart", shared.url.as_str(), "-o", "-h 127.0.0.1"])
        .run()
        .assert_error(1, &["--shared-tx"]);

    let urls = t.start_set(&["--replicas", "1", "-t", "--spares", "0", "-w", "0"]);
    let pids_before = pids(&t, &urls[0]);
    t.pgtmp(["restart", urls[1].as_str(), "-o", "-c work_mem=5MB"])
        .run()
        .assert_success();
    let mut replica = db::connect(&urls[1]);
    assert_eq!(db::text(&mut replica, "show work_mem"), "5MB");
    let mut primary = db::connect(&urls[0]);
    assert_eq!(
        db::text(&mut primary, "show work_mem"),
        "4MB",
        "only the replica restarted"
    );
    drop((replica, primary));
    // From the primary's URL: the whole set, both on new options.
    t.pgtmp(["restart", urls[0].as_str(), "-o", "-c work_mem=6MB"])
        .run()
        .assert_success();
    let pids_after = pids(&t, &urls[0]);
    assert_eq!(pids_before[0], pids_after[0], "the supervisor changed");
    assert!(
        pids_before[1..].iter().all(|p| !pids_after.contains(p)),
        "not every server restarted: {pids_before:?} then {pids_after:?}"
    );
    for u in &urls {
        let mut c = db::connect(u);
        assert_eq!(db::text(&mut c, "show work_mem"), "6MB", "{u}");
    }
    let mut primary = db::connect(&urls[0]);
    db::execute(
        &mut primary,
        "create table t(i int); insert into t values (1)",
    );
    t.pgtmp(["wait", urls[1].as_str()]).run().assert_success();
    assert_eq!(
        rows(&urls[1]),
        "1",
        "the replica does not follow after the restart"
    );
    drop(primary);

    // Options the server refuses: an error with its words, and the set
    // runs on as it was.
    t.pgtmp(["restart", urls[0].as_str(), "-o", "-c work_mem=banana"])
        .run()
        .assert_error(
            1,
            &["invalid value for parameter \"work_mem\"", "options before"],
        );
    for u in &urls {
        let mut c = db::connect(u);
        assert_eq!(db::text(&mut c, "show work_mem"), "6MB", "{u}");
    }
    for refused in ["-p 5", "-Fi", "-c listen_addresses=0.0.0.0", "-Fk/tmp"] {
        t.pgtmp(["restart", urls[0].as_str(), "-o", refused])
            .run()
            .assert_code(2);
    }
    t.pgtmp(["restart", "postgresql:///test?host=/nonexistent&user=x"])
        .run()
        .assert_error(1, &["no running instance matches"]);
}

#[test]
fn logical_publication_reaches_another_instance() {
    let t = TestRoot::new();
    // The publisher as `-F dsn` prints it: what CREATE SUBSCRIPTION takes.
    let publisher = t
        .pgtmp(["--logical", "-F", "dsn", "--spares", "0", "-w", "0"])
        .run();
    publisher.assert_success();
    let publisher_dsn = publisher.one_line().to_string();
    let subscriber = t.start(&["--spares", "0", "-w", "0"]);

    let mut p = db::connect(&publisher_dsn);
    db::execute(
        &mut p,
        "create table t(i int primary key); insert into t values (1); \
         create publication pub for all tables",
    );
    let mut s = db::connect(&subscriber.url);
    db::execute(&mut s, "create table t(i int primary key)");
    db::execute(
        &mut s,
        &format!("create subscription sub connection '{publisher_dsn}' publication pub"),
    );
    db::execute(&mut p, "insert into t values (2)");
    assert!(
        poll::eventually(|| rows(&subscriber.url) == "2"),
        "the subscriber has {} rows\n{}",
        rows(&subscriber.url),
        t.logs()
    );
    // Logical decoding through SQL and through pg_recvlogical.
    let changes = decoded_insert(&mut p, 3);
    assert!(changes.contains("INSERT: i[integer]:3"), "{changes}");
    let recv = "/usr/lib/postgresql/15/bin/pg_recvlogical";
    t.cmd(
        recv,
        [
            "-d",
            publisher_dsn.as_str(),
            "--slot",
            "rl",
            "--create-slot",
        ],
    )
    .run()
    .assert_success();
    db::execute(&mut p, "insert into t values (4)");
    let end = db::text(&mut p, "select pg_current_wal_lsn()::text");
    let out = t
        .cmd(
            recv,
            [
                "-d",
                publisher_dsn.as_str(),
                "--slot",
                "rl",
                "--start",
                "--endpos",
                end.as_str(),
                "-f",
                "-",
            ],
        )
        .run();
    out.assert_success();
    assert!(out.stdout.contains("INSERT: i[integer]:4"), "{out}");
    drop(s);
    let mut s = db::connect(&subscriber.url);
    db::execute(&mut s, "drop subscription sub");
}

#[test]
fn logical_works_with_replicas_too() {
    let t = TestRoot::new();
    let urls = t.start_set(&["--logical", "--replicas", "1", "--spares", "0"]);
    let mut p = db::connect(&urls[0]);
    assert_eq!(db::text(&mut p, "show wal_level"), "logical");
    db::execute(&mut p, "create table t(i int)");
    let changes = decoded_insert(&mut p, 1);
    assert!(changes.contains("INSERT: i[integer]:1"), "{changes}");
    t.pgtmp(["wait", urls[1].as_str()]).run().assert_success();
    assert_eq!(rows(&urls[1]), "1");
}

#[test]
fn stop_with_a_replicas_url_stops_the_set() {
    let t = TestRoot::new();
    let urls = t.start_set(&["--replicas", "2", "--spares", "0", "-w", "0"]);
    let inst = t.instance(&urls[0]);
    let all = pids(&t, &urls[0]);
    assert_eq!(all.len(), 4, "{}", inst.raw);
    t.stop(&urls[2]);
    assert!(
        poll::eventually(|| all.iter().all(|p| !procs::alive(*p))),
        "processes survive: {:?}",
        all.iter().filter(|p| procs::alive(**p)).collect::<Vec<_>>()
    );
    assert!(!inst.dir.exists(), "{} survives", inst.dir.display());
    assert!(t.list().is_empty());
}

#[test]
fn an_idle_set_is_reaped_but_not_while_a_replica_has_a_client() {
    let t = TestRoot::new();
    let urls = t.start_set(&["--replicas", "1", "--spares", "0", "-w", "2"]);
    let inst = t.instance(&urls[0]);
    let client = db::connect(&urls[1]);
    assert!(
        poll::eventually(|| t.instance(&urls[0]).clients == 1),
        "the replica's client is not counted: {}",
        t.instance(&urls[0]).raw
    );
    // Past the timeout, held by the replica's client alone; the replication
    // connection itself counts for nothing.
    assert!(
        poll::stays(Duration::from_secs(4), || inst.dir.exists()),
        "reaped with a client on the replica\n{}",
        t.logs()
    );
    drop(client);
    assert!(
        poll::eventually(|| !inst.dir.exists()),
        "an idle set is not reaped\n{}",
        t.logs()
    );
    // The directory goes only once every postmaster is gone; the
    // supervisor exits just after removing it.
    let postmasters: Vec<u32> = inst.nodes.iter().filter_map(|n| n.pid).collect();
    let alive: Vec<&u32> = postmasters.iter().filter(|p| procs::alive(**p)).collect();
    assert!(alive.is_empty(), "postmasters {alive:?} alive");
    assert!(
        poll::eventually(|| !procs::alive(inst.supervisor_pid)),
        "the supervisor {} stays",
        inst.supervisor_pid
    );
}

/// Short connections to a replica, each between two looks of the
/// supervisor, keep the set too: every server's own log is read for the
/// connections it accepted.
#[test]
fn short_connections_to_a_replica_keep_the_set() {
    let t = TestRoot::new();
    let urls = t.start_set(&["--replicas", "1", "--spares", "0", "-w", "2"]);
    let inst = t.instance(&urls[0]);
    let until = std::time::Instant::now() + Duration::from_secs(5);
    while std::time::Instant::now() < until {
        drop(db::connect(&urls[1]));
        assert!(inst.dir.exists(), "reaped while used\n{}", t.logs());
        std::thread::sleep(Duration::from_millis(400));
    }
    assert!(
        poll::eventually(|| !inst.dir.exists()),
        "not reaped once idle\n{}",
        t.logs()
    );
}

/// Whichever process of a set dies, the set goes with it and nothing is
/// left once `gc` ran: no process, no directory, no shared memory.
#[test]
fn killing_any_process_of_a_set_leaves_nothing() {
    let t = TestRoot::new();
    for victim in ["supervisor", "primary", "replica"] {
        let urls = t.start_set(&["--replicas", "1", "--spares", "0", "-w", "0"]);
        let inst = t.instance(&urls[0]);
        let segments: Vec<i64> = inst
            .nodes
            .iter()
            .filter_map(|n| procs::postmaster_segment(&n.data_dir))
            .collect();
        assert_eq!(segments.len(), 2, "{}", inst.raw);
        let pid = match victim {
            "supervisor" => inst.supervisor_pid,
            "primary" => inst.nodes[0].pid.unwrap(),
            _ => inst.nodes[1].pid.unwrap(),
        };
        let _client = db::connect(&urls[1]);
        procs::signal(pid, "KILL");
        assert!(
            poll::eventually(|| procs::touching(&inst.dir).is_empty()),
            "{victim} killed: processes left {:?}\n{}",
            procs::touching(&inst.dir),
            t.logs()
        );
        t.pgtmp(["gc"]).run().assert_success();
        assert!(
            poll::eventually(|| !inst.dir.exists()),
            "{victim} killed: {} left\n{}",
            inst.dir.display(),
            t.logs()
        );
        assert!(
            segments.iter().all(|s| procs::shm_segment(*s).is_none()),
            "{victim} killed: shared memory left {segments:?}"
        );
        assert!(!t.listed(&urls[0]));
    }
}

#[test]
fn a_tcp_set_has_a_port_per_server_and_one_password() {
    let t = TestRoot::new();
    let urls = t.start_set(&["--replicas", "1", "-t", "--spares", "0", "-w", "0"]);
    let (p, r) = (url::tcp(&urls[0]), url::tcp(&urls[1]));
    assert_ne!(p.port, r.port);
    assert_eq!(p.password, r.password);
    assert!(in_recovery(&urls[1]));
    assert!(
        db::try_connect(&r.with_password("wrong")).is_err(),
        "the replica takes any password"
    );
    // `-F json` names every server with its role, URL, port and pid.
    let single = t
        .pgtmp(["-F", "json", "-t", "--replicas", "1", "--spares", "0"])
        .run();
    single.assert_success();
    let c: pgtmp::json::Connection =
        serde_json::from_str(&single.stdout).unwrap_or_else(|e| panic!("{e}\n{single}"));
    assert_eq!(c.nodes.len(), 2, "{single}");
    assert_eq!(c.nodes[0].url, c.url);
    assert_eq!(c.nodes[1].role, pgtmp::json::Role::Replica);
    assert!(c.nodes.iter().all(|n| n.pid.is_some_and(procs::alive)));
    assert!(in_recovery(&c.nodes[1].url));
    // `-F env`: the primary's variables and the replicas'.
    let env = t
        .pgtmp(["-F", "env", "-t", "--replicas", "2", "--spares", "0"])
        .run();
    env.assert_success();
    assert!(env.stdout.contains("export DATABASE_REPLICA_URL="), "{env}");
    let listed = t
        .cmd(
            "/bin/sh",
            [
                "-c",
                &format!("{}\nprintf '%s\\n' $DATABASE_REPLICA_URLS", env.stdout),
            ],
        )
        .run();
    listed.assert_success();
    assert_eq!(listed.stdout.lines().count(), 2, "{listed}\n{env}");
    t.stop(&urls[1]);
    assert!(!t.listed(&urls[0]));
}

#[test]
fn a_kept_set_keeps_every_data_directory() {
    let t = TestRoot::new();
    let out = t
        .pgtmp(["-k", "--replicas", "1", "--spares", "0", "-w", "0"])
        .run();
    out.assert_success();
    let urls: Vec<&str> = out.stdout.lines().collect();
    let inst = t.instance(urls[0]);
    let data_dirs: Vec<_> = inst.nodes.iter().map(|n| n.data_dir.clone()).collect();
    for d in &data_dirs {
        assert!(
            out.stderr.contains(&d.display().to_string()),
            "{} not announced as kept\n{out}",
            d.display()
        );
    }
    let stopped = t.stop(urls[1]);
    for d in &data_dirs {
        assert!(d.join("PG_VERSION").exists(), "{} not kept", d.display());
        assert!(
            stopped.stderr.contains(&d.display().to_string()),
            "{} not named\n{stopped}",
            d.display()
        );
    }
    assert!(
        data_dirs[1].join("standby.signal").exists(),
        "the kept replica lost its standby.signal"
    );
}

#[test]
fn fixtures_reach_the_replicas() {
    let t = TestRoot::new();
    let schema = t.join("schema.sql");
    fs::write(
        &schema,
        "create table seeded(i int); insert into seeded values (42);",
    )
    .expect("write schema");
    set_mode(&schema, 0o644);
    let file = schema.to_string_lossy().into_owned();
    let urls = t.start_set(&[
        "-f",
        &file,
        "--now",
        "2020-01-02 03:04:05",
        "--replicas",
        "1",
        "--spares",
        "0",
    ]);
    for u in &urls {
        let mut c = db::connect(u);
        assert_eq!(db::text(&mut c, "select i::text from seeded"), "42", "{u}");
        assert_eq!(
            db::text(&mut c, "select now()::date::text"),
            "2020-01-02",
            "{u}"
        );
    }
}

#[test]
fn exec_exports_the_replicas() {
    let t = TestRoot::new();
    let out = t
        .pgtmp([
            "exec",
            "--replicas",
            "2",
            "--spares",
            "0",
            "--",
            "sh",
            "-c",
            "echo \"$DATABASE_URL\"; echo \"$DATABASE_REPLICA_URL\"; echo \"$DATABASE_REPLICA_URLS\"",
        ])
        .run();
    out.assert_success();
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{out}");
    let replicas: Vec<&str> = lines[2].split(' ').collect();
    assert_eq!(replicas.len(), 2, "{out}");
    assert_eq!(replicas[0], lines[1], "{out}");
    assert_ne!(lines[0], lines[1], "{out}");
}

#[test]
fn a_set_hand_out_starts_spare_sets_of_its_kind() {
    let t = TestRoot::new();
    let first = t.start_set(&["--replicas", "1"]);
    assert!(
        poll::eventually(|| !t.refilling() && !t.spares().is_empty()),
        "no spare set started\n{}",
        t.logs()
    );
    let spares = t.spares();
    let second = t.start_set(&["--replicas", "1", "-w", "0"]);
    let id = url::socket(&second[0]).host;
    assert!(
        spares.iter().any(|s| id.ends_with(s)),
        "{second:?} is none of the spares {spares:?}"
    );
    assert_eq!(second.len(), 2);
    assert!(in_recovery(&second[1]));
    // A plain hand-out never takes a set, nor a set a plain spare.
    let plain = t.start(&["-w", "0"]);
    let plain_id = url::socket(&plain.url).host;
    assert!(!spares.iter().any(|s| plain_id.ends_with(s)));
    drop(first);
}

#[test]
fn bad_replica_options_are_usage_errors() {
    let t = TestRoot::new();
    for (args, needle) in [
        (vec!["--replicas", "0"], "0 is not in 1..=10"),
        (vec!["--replicas", "-1"], "-1 is not in 1..=10"),
        (vec!["--replicas", "100"], "100 is not in 1..=10"),
        (vec!["--replicas", "two"], "invalid digit"),
        (vec!["--sync"], "--replicas"),
        (
            vec!["--replicas", "1", "-d", "somewhere"],
            "cannot be used with",
        ),
        (vec!["--logical", "-d", "somewhere"], "cannot be used with"),
        (
            vec!["--shared-tx", "--replicas", "1"],
            "cannot be used with",
        ),
        (vec!["--shared-tx", "--logical"], "cannot be used with"),
        (
            vec!["exec", "--shared-tx", "--replicas", "1", "--", "true"],
            "cannot be used with",
        ),
        (vec!["list", "--replicas", "1"], "unexpected argument"),
    ] {
        let out = t.pgtmp(&args).run();
        out.assert_code(2);
        assert!(
            out.stderr.contains(needle),
            "{args:?}: no {needle:?}\n{out}"
        );
        assert!(out.stdout.is_empty(), "{out}");
    }
    assert!(t.run_entries().is_empty());
    for cmd in ["promote", "wait", "restart"] {
        t.pgtmp([cmd]).run().assert_code(2);
        t.pgtmp([cmd, "not a url"])
            .run()
            .assert_error(1, &["is not a PostgreSQL URL"]);
    }
}

/// As an ordinary user, a set runs as that user, and the orders reach its
/// supervisor (run as root, the tests try `pgtmp-test`).
#[test]
fn an_ordinary_user_runs_and_promotes_a_set() {
    if !procs::is_root() {
        return; // the other tests run as this ordinary user already
    }
    let t = TestRoot::new();
    let who = Who::User(user::ordinary());
    let out = t
        .pgtmp(["--replicas", "1", "--spares", "0", "-w", "0"])
        .who(who)
        .run();
    out.assert_success();
    let urls: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(urls.len(), 2, "{out}");
    let inst = t.instance_as(who, urls[0]);
    for node in &inst.nodes {
        let pid = node.pid.expect("a running server");
        assert_eq!(procs::uid(pid), Some(user::ordinary().uid), "{}", inst.raw);
    }
    t.pgtmp(["promote", urls[1]])
        .who(who)
        .run()
        .assert_success();
    assert!(!in_recovery_of(urls[1], who) && in_recovery_of(urls[0], who));
    t.pgtmp(["wait", urls[0]]).who(who).run().assert_success();
    t.pgtmp(["stop", urls[0]]).who(who).run().assert_success();
    assert!(!inst.dir.exists());
}
