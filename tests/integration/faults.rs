//! Crashes, injected with SIGKILL: of the supervisor, of the postmaster, of
//! `pgtmp` in the middle of a hand-out, of a pool refill and of a template
//! build, and of every process at once (a reboot, short of the reboot).
//! Nothing may keep running, no half-made copy may ever be handed out, and
//! the next call or `gc` removes what is left.

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::Duration;

use crate::support::fake::write_executable;
use crate::support::{PSQL, TestRoot, db, net, poll, procs, root, tree, url};

/// The ready pool entries (not the dot-named copies in progress).
fn ready_entries(t: &TestRoot) -> Vec<PathBuf> {
    t.pool_entries()
        .into_iter()
        .filter(|p| !name_of(p).starts_with('.'))
        .collect()
}

fn name_of(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// `pgtmp ARGS` started in the background with stdout piped.
fn spawn_pgtmp(t: &TestRoot, args: &[&str], envs: &[(&str, &str)]) -> Child {
    let mut run = t.pgtmp(args);
    for (k, v) in envs {
        run = run.env(k, v);
    }
    let (mut cmd, shown) = run.command();
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("{shown}: {e}"))
}

/// The pid of the running pool refill of this root, if any.
fn refill_pid(t: &TestRoot) -> Option<u32> {
    procs::touching(t.path())
        .into_iter()
        .find(|&pid| procs::cmdline(pid).contains("__refill"))
}

/// A supervisor killed with SIGKILL takes its server with it (the kernel
/// sends the postmaster SIGQUIT), even with a client connected and on TCP;
/// the port is free again, and the next hand-out sweeps the remains.
#[test]
fn killed_supervisor_stops_server_and_next_call_sweeps() {
    let t = TestRoot::new();
    let h = t.start(&["-t", "-w", "0"]);
    let inst = t.instance(&h.url);
    let port = url::tcp(&h.url).port;
    let mut client = db::connect(&h.url);
    // The refill of this hand-out (it also starts spares) ends with a
    // quiet gc; let it end first, or it could sweep before the next call.
    assert!(poll::eventually(|| !t.refilling()), "refill never ended");
    procs::signal(inst.supervisor_pid, "KILL");
    assert!(
        poll::eventually(|| !procs::alive(inst.pid)),
        "postmaster {} outlives its killed supervisor\n{}",
        inst.pid,
        t.logs()
    );
    assert!(
        poll::eventually(|| net::listeners(port).is_empty()),
        "port {port} still listens"
    );
    assert!(
        db::try_connect(&h.url).is_err() && client.simple_query("select 1").is_err(),
        "the server still answers"
    );
    assert!(
        inst.dir.exists(),
        "nothing left for the next call to sweep: the test proves nothing"
    );
    assert!(!t.listed(&h.url), "a dead instance is listed");

    let next = t.start(&[]);
    db::connect(&next.url);
    assert!(
        poll::eventually(|| !inst.dir.exists()),
        "the next call did not sweep {}\n{}",
        inst.dir.display(),
        t.logs()
    );
}

/// A postmaster killed with SIGKILL is noticed by its supervisor, which
/// removes the instance and the shared memory the dead server cannot, once
/// the server's last process (a connected backend) is gone.
#[test]
fn killed_postmaster_is_noticed_and_cleaned_up() {
    let t = TestRoot::new();
    let h = t.start(&["-w", "0"]);
    let inst = t.instance(&h.url);
    let mut client = db::connect(&h.url);
    assert_eq!(db::text(&mut client, "select 'busy'"), "busy");
    let segment =
        procs::postmaster_segment(&inst.data_dir).expect("postmaster.pid names a segment");
    assert!(
        procs::shm_segment(segment).is_some_and(|(cpid, _)| cpid == inst.pid),
        "segment {segment} is not the postmaster's"
    );

    procs::signal(inst.pid, "KILL");
    assert!(
        poll::eventually(|| !procs::alive(inst.supervisor_pid) && !inst.dir.exists()),
        "supervisor {} did not clean up after its postmaster died: {} exists={}\n{}",
        inst.supervisor_pid,
        inst.dir.display(),
        inst.dir.exists(),
        t.logs()
    );
    assert!(
        client.simple_query("select 1").is_err(),
        "the backend lives on"
    );
    assert!(
        poll::eventually(|| procs::touching(&inst.dir).is_empty()),
        "processes of the dead instance: {:?}",
        procs::touching(&inst.dir)
    );
    assert_eq!(
        procs::shm_segment(segment),
        None,
        "the dead server's shared memory segment {segment} leaked"
    );
    assert!(!t.listed(&h.url));
}

/// `pgtmp` killed at every stage of hand-outs (with the pool claiming, and
/// without it copying) never spoils the pool, leaves no process, and what
/// it leaves in `run/` is removed by `gc` (once its grace period for a
/// directory being born is over).
#[test]
fn killed_handouts_leave_only_what_gc_removes() {
    let t = TestRoot::new();
    let warm = t.start(&["-w", "0"]);
    t.stop(&warm.url);
    assert!(
        poll::eventually(|| !t.refilling() && ready_entries(&t).len() == 2),
        "pool never filled\n{}",
        t.logs()
    );
    let template = tree::shape(&t.templates()[0]);

    let mut delivered = Vec::new();
    let mut kills = 0;
    for round in 0..120u64 {
        let pool = if round % 2 == 0 { "2" } else { "0" };
        // Spares off: a killed caller's claimed spare stops itself
        // (spare.rs); here the starter's own paths are under test.
        let child = spawn_pgtmp(
            &t,
            &["-w", "0"],
            &[("PGTMP_POOL_SIZE", pool), ("PGTMP_SPARES", "0")],
        );
        std::thread::sleep(Duration::from_millis(2 + (round * 7) % 90));
        procs::signal(child.id(), "KILL");
        let out = child.wait_with_output().expect("wait for pgtmp");
        let printed = String::from_utf8_lossy(&out.stdout).trim().to_string();
        if printed.is_empty() {
            kills += 1;
        } else {
            delivered.push(printed);
        }
        // A refill collects what killed hand-outs left (refill.rs), and
        // entries of hand-outs still starting clean up after themselves:
        // stop once, with no refill running, some entry no process works
        // in is left for `gc`.
        if kills >= 8 && round >= 11 && pool == "0" {
            poll::eventually(|| !t.refilling());
            if !abandoned_entries(&t).is_empty() {
                break;
            }
        }
    }
    assert!(kills > 0, "every pgtmp finished before it was killed");
    for u in &delivered {
        t.stop(u);
    }
    t.pgtmp(["stop", "--all"]).run().assert_success();
    assert!(
        poll::eventually(|| procs::touching(t.path()).is_empty()),
        "processes survive killed hand-outs: {:?}",
        procs::touching(t.path())
            .into_iter()
            .map(procs::cmdline)
            .collect::<Vec<_>>()
    );
    for entry in ready_entries(&t) {
        let shape = tree::shape(&entry);
        assert!(
            shape == template,
            "pool entry {} is incomplete: {:?}",
            entry.display(),
            tree::diff(&template, &shape)
        );
    }
    let debris = t.run_entries();
    assert!(
        !debris.is_empty(),
        "the killed hand-outs left nothing in run/: the test proves nothing"
    );

    assert!(
        poll::within(Duration::from_secs(60), || {
            t.pgtmp(["gc"]).run().assert_success();
            t.run_entries().is_empty()
        }),
        "`gc` leaves {:?} of {debris:?}\n{}",
        t.run_entries(),
        t.logs()
    );
    // What is left in the pool hands out working databases.
    let left = ready_entries(&t).len();
    for _ in 0..=left {
        let out = t.pgtmp(["-w", "0"]).env("PGTMP_POOL_SIZE", "0").run();
        out.assert_success();
        let mut client = db::connect(out.one_line());
        assert_eq!(db::text(&mut client, "select current_database()"), "test");
    }
}

/// The entries of `run/` that no process works in any more.
fn abandoned_entries(t: &TestRoot) -> Vec<String> {
    let run = t.base().join("run");
    t.run_entries()
        .into_iter()
        .filter(|n| procs::touching(&run.join(n)).is_empty())
        .collect()
}

/// A pool refill killed in the middle of a copy leaves a dot-named copy,
/// which no hand-out claims and `gc` removes; every entry under a real name
/// is complete.
#[test]
fn killed_refill_never_leaves_a_partial_entry_to_claim() {
    let t = TestRoot::new();
    let warm = t.start(&["-w", "0"]);
    t.stop(&warm.url);
    assert!(
        poll::eventually(|| !t.refilling() && ready_entries(&t).len() == 2),
        "pool never filled\n{}",
        t.logs()
    );
    let template = tree::shape(&t.templates()[0]);
    let incomplete = |t: &TestRoot| -> Vec<PathBuf> {
        t.pool_entries()
            .into_iter()
            .filter(|e| tree::shape(e) != template)
            .collect()
    };

    let mut caught = Vec::new();
    for _ in 0..10 {
        // A refill of 32 copies takes long enough to be caught mid-copy.
        let h = t.pgtmp(["-w", "0"]).env("PGTMP_POOL_SIZE", "32").run();
        h.assert_success();
        t.stop(h.one_line());
        let Some(pid) = (poll::eventually(|| refill_pid(&t).is_some()))
            .then(|| refill_pid(&t))
            .flatten()
        else {
            continue;
        };
        poll::within(Duration::from_secs(10), || ready_entries(&t).len() >= 4);
        procs::signal(pid, "KILL");
        assert!(
            poll::eventually(|| !procs::alive(pid)),
            "refill {pid} survives SIGKILL"
        );
        caught = incomplete(&t);
        if !caught.is_empty() {
            break;
        }
    }
    assert!(
        !caught.is_empty(),
        "the refill was never caught in the middle of a copy: the test proves nothing"
    );
    let named: Vec<&PathBuf> = caught
        .iter()
        .filter(|p| !name_of(p).starts_with('.'))
        .collect();
    assert!(
        named.is_empty(),
        "half-copied pool entries under names a hand-out would claim: {named:?}"
    );

    let out = t.pgtmp(["gc"]).env("PGTMP_POOL_SIZE", "0").run();
    out.assert_success();
    assert_eq!(incomplete(&t), Vec::<PathBuf>::new(), "`gc` left\n{out}");
    let ready = ready_entries(&t).len();
    assert!(ready >= 4, "complete entries went missing: {ready}");
    for _ in 0..ready {
        // No spares: each call must take (and so prove) a pool entry.
        let out = t
            .pgtmp(["-w", "0"])
            .env("PGTMP_POOL_SIZE", "0")
            .env("PGTMP_SPARES", "0")
            .run();
        out.assert_success();
        let mut client = db::connect(out.one_line());
        assert_eq!(db::text(&mut client, "select current_database()"), "test");
    }
    assert_eq!(ready_entries(&t), Vec::<PathBuf>::new());
}

/// A bin directory whose `initdb` hangs (a slow disk, a stuck NFS) after
/// writing part of a data directory while the file `hang` exists in it, and
/// is the real initdb otherwise; `postgres` is the real one.
fn hanging_initdb_bindir(t: &TestRoot) -> PathBuf {
    let real = Path::new(PSQL)
        .parent()
        .expect("PostgreSQL's bin directory");
    let dir = t.mkdir("hang-bin");
    std::os::unix::fs::symlink(real.join("postgres"), dir.join("postgres")).expect("link postgres");
    let script = format!(
        r#"#!/bin/sh
if [ -e "{hang}" ]; then
    dir=
    while [ $# -gt 0 ]; do
        case "$1" in -D) dir=$2; shift;; esac
        shift
    done
    mkdir -p "$dir" && echo 15 > "$dir/PG_VERSION" && : > "$dir/half-written"
    exec sleep 600
fi
exec {real}/initdb "$@"
"#,
        hang = dir.join("hang").display(),
        real = real.display()
    );
    write_executable(&dir.join("initdb"), &script);
    dir
}

/// `pgtmp` killed while it builds the template takes its initdb along (it
/// would run on as an orphan), no template is published, `gc` removes the
/// half-built one, and the next call builds a good one.
#[test]
fn killed_template_build_leaves_no_template_and_no_initdb() {
    let t = TestRoot::new();
    let bindir = hanging_initdb_bindir(&t);
    fs::write(bindir.join("hang"), "").expect("create hang");
    let bindir_env = bindir.to_str().expect("utf-8 path");
    let mut child = spawn_pgtmp(&t, &["-w", "0"], &[("PGTMP_PG_BINDIR", bindir_env)]);
    let templates = t.base().join("templates");
    let half_built = || {
        fs::read_dir(&templates)
            .into_iter()
            .flatten()
            .flatten()
            .any(|e| e.path().join("half-written").exists())
    };
    let started = poll::eventually(half_built);
    procs::signal(child.id(), "KILL");
    let _ = child.wait();
    assert!(started, "initdb never started\n{}", t.logs());

    assert!(
        poll::eventually(|| procs::touching(t.path()).is_empty()),
        "the killed pgtmp's initdb runs on: {:?}",
        procs::touching(t.path())
            .into_iter()
            .map(procs::cmdline)
            .collect::<Vec<_>>()
    );
    let published: Vec<PathBuf> = t
        .templates()
        .into_iter()
        .filter(|p| !name_of(p).starts_with('.'))
        .collect();
    assert!(
        published.is_empty(),
        "a template was published: {published:?}"
    );

    let out = t.pgtmp(["gc"]).env("PGTMP_PG_BINDIR", bindir_env).run();
    out.assert_success();
    assert_eq!(
        t.templates(),
        Vec::<PathBuf>::new(),
        "`gc` left the half-built template\n{out}"
    );

    fs::remove_file(bindir.join("hang")).expect("remove hang");
    let out = t
        .pgtmp(["-w", "0"])
        .env("PGTMP_PG_BINDIR", bindir_env)
        .run();
    out.assert_success();
    let mut client = db::connect(out.one_line());
    assert_eq!(db::text(&mut client, "select current_database()"), "test");
}

/// Every process of pgtmp and of its servers killed at once, as a crash of
/// the machine would (short of the tmpfs going too): the next call works,
/// and it sweeps the dead instances, their socket directories under /tmp
/// (the base is long) and their shared memory; kept data stays, and a `-d`
/// directory starts again with its data.
#[test]
fn reboot_like_loss_of_all_processes() {
    let t = TestRoot::new();
    let base = t.extra_base(format!("{}/base", "r".repeat(100)));
    let call = |args: &[&str]| {
        let out = t.pgtmp(args).env("PGTMP_DIR", &base).run();
        out.assert_success();
        out
    };
    let mine = t.join("mine");
    let mine_arg = mine.to_str().expect("utf-8 path");
    let handed: Vec<String> = [
        &["-w", "0"][..],
        &["-t", "-w", "0"],
        &["-k", "-w", "0"],
        &["-d", mine_arg, "-w", "0"],
    ]
    .iter()
    .map(|args| call(args).one_line().to_string())
    .collect();
    let mut client = db::connect(&handed[3]);
    // On disk before the crash: pgtmp's settings commit asynchronously.
    db::execute(
        &mut client,
        "create table survivor (v text); insert into survivor values ('here')",
    );
    db::execute(&mut client, "checkpoint");
    let listed = crate::support::pgtmp::instances(
        &t.pgtmp(["list", "--json"]).env("PGTMP_DIR", &base).run(),
    );
    assert_eq!(listed.len(), 4);
    let socket_dirs: Vec<PathBuf> = listed
        .iter()
        .map(|i| {
            let meta: serde_json::Value =
                serde_json::from_slice(&fs::read(i.dir.join("meta.json")).expect("meta.json"))
                    .expect("meta.json is JSON");
            PathBuf::from(meta["socket_dir"].as_str().expect("socket_dir"))
        })
        .collect();
    assert!(
        socket_dirs.iter().all(|d| d.starts_with("/tmp")),
        "the long base did not move the sockets: {socket_dirs:?}"
    );
    let segments: Vec<i64> = listed
        .iter()
        .map(|i| procs::postmaster_segment(&i.data_dir).expect("a segment"))
        .collect();
    let kept = listed
        .iter()
        .find(|i| i.keep)
        .expect("the -k instance")
        .data_dir
        .clone();
    poll::eventually(|| !t.refilling());

    let killed = procs::kill_all_touching(t.path());
    drop(client);
    assert!(killed >= 8, "only {killed} processes were killed");
    assert!(
        poll::eventually(|| procs::touching(t.path()).is_empty()),
        "processes survive SIGKILL"
    );
    assert!(
        listed.iter().all(|i| i.dir.exists()) && socket_dirs.iter().all(|d| d.exists()),
        "nothing left to sweep: the test proves nothing"
    );

    // The next call works, and its background work sweeps the dead.
    let next = call(&["-w", "0"]);
    let mut client = db::connect(next.one_line());
    assert_eq!(db::text(&mut client, "select 'after'"), "after");
    let swept = || {
        listed.iter().all(|i| i.keep || !i.dir.exists())
            && socket_dirs.iter().all(|d| !d.exists())
            && segments.iter().all(|&s| procs::shm_segment(s).is_none())
    };
    assert!(
        poll::eventually(swept),
        "not swept: dirs {:?}, socket dirs {:?}, segments {:?}\n{}",
        listed
            .iter()
            .filter(|i| i.dir.exists())
            .map(|i| &i.dir)
            .collect::<Vec<_>>(),
        socket_dirs
            .iter()
            .filter(|d| d.exists())
            .collect::<Vec<_>>(),
        segments
            .iter()
            .filter(|&&s| procs::shm_segment(s).is_some())
            .collect::<Vec<_>>(),
        t.logs()
    );
    assert!(
        kept.join("PG_VERSION").is_file(),
        "the kept data directory {} is gone",
        kept.display()
    );
    let now = crate::support::pgtmp::instances(
        &t.pgtmp(["list", "--json"]).env("PGTMP_DIR", &base).run(),
    );
    assert_eq!(
        now.iter().map(|i| i.url.as_str()).collect::<Vec<_>>(),
        [next.one_line()],
        "only the new instance runs"
    );

    // The -d directory starts again (its postmaster.pid is stale) with its data.
    let again = call(&["-d", mine_arg, "-w", "0"]);
    let mut client = db::connect(again.one_line());
    assert_eq!(db::text(&mut client, "select v from survivor"), "here");
    drop(client);
    t.pgtmp(["stop", "--all"])
        .env("PGTMP_DIR", &base)
        .run()
        .assert_success();
}

/// Issue 18.4: `pgtmp -f new.sql` started as a background job of a
/// non-interactive shell does (`bash -c 'pgtmp -f new.sql & ...'`) has
/// SIGINT and SIGQUIT ignored; killed while its loading server starts,
/// that server kept the ignored SIGQUIT, its parent-death signal, and ran
/// on under pid 1. Rather than hope a `sleep` lands in that window, the
/// test kills pgtmp the moment the server's process has exec'd postgres.
#[test]
fn loads_killed_while_their_server_starts_leave_no_orphan() {
    let t = TestRoot::new();
    t.start(&["-w", "0"]);
    let templates = t.base().join("templates");
    for round in 0..6 {
        let file = format!("new{round}.sql");
        fs::write(t.join(&file), format!("create table t{round} (x int);\n")).expect("write");
        let (mut cmd, shown) = t.pgtmp(["-f", &file, "-w", "0"]).command();
        cmd.stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        // SAFETY: signal(2) is async-signal-safe; nothing allocates.
        unsafe {
            std::os::unix::process::CommandExt::pre_exec(&mut cmd, || {
                libc::signal(libc::SIGINT, libc::SIG_IGN);
                libc::signal(libc::SIGQUIT, libc::SIG_IGN);
                Ok(())
            });
        }
        let mut child = cmd.spawn().unwrap_or_else(|e| panic!("{shown}: {e}"));
        let pid = child.id();
        let children = format!("/proc/{pid}/task/{pid}/children");
        let server_started = || {
            fs::read_to_string(&children).is_ok_and(|list| {
                list.split_whitespace().any(|c| {
                    fs::read_to_string(format!("/proc/{c}/comm"))
                        .is_ok_and(|n| n.trim() == "postgres")
                })
            })
        };
        let deadline = std::time::Instant::now() + poll::PATIENCE;
        let mut seen = false;
        while !seen && std::time::Instant::now() < deadline && matches!(child.try_wait(), Ok(None))
        {
            seen = server_started();
            std::thread::sleep(Duration::from_micros(200));
        }
        let _ = child.kill();
        let _ = child.wait();
        assert!(
            seen,
            "round {round}: the loading server was never seen\n{}",
            t.logs()
        );
        assert!(
            poll::eventually(|| procs::touching(&templates).is_empty()),
            "round {round}: a loading server outlives its pgtmp: {:?}",
            procs::touching(&templates)
                .into_iter()
                .map(|p| format!("{p} {}", procs::cmdline(p)))
                .collect::<Vec<_>>()
        );
    }
    t.pgtmp(["gc"]).run().assert_success();
}

/// A server left running on a half-built template (an orphan of a killed
/// build, as older pgtmp left them): `gc` must never delete the directory
/// under it; it stops the server first, then removes the directory and
/// the server's shared memory.
#[test]
fn gc_never_deletes_a_running_servers_directory() {
    let t = TestRoot::new();
    t.start(&["-w", "0"]);
    assert!(poll::eventually(|| !t.refilling()), "refill still running");
    let template = t
        .templates()
        .into_iter()
        .find(|p| !name_of(p).starts_with('.'))
        .expect("the plain template");
    let orphan = template.with_file_name(format!(".tmp-{}-orphan", name_of(&template)));
    t.cmd(
        "cp",
        [
            "-a",
            template.to_str().expect("utf-8"),
            orphan.to_str().expect("utf-8"),
        ],
    )
    .run()
    .assert_success();
    let owner = fs::metadata(&template).expect("template");
    let dir = orphan.to_str().expect("utf-8").to_string();
    let bin = Path::new(PSQL).parent().expect("bin").join("postgres");
    let mut server = std::process::Command::new(&bin);
    server
        .args([
            "-D",
            &dir,
            "-k",
            &dir,
            "-c",
            "listen_addresses=",
            "-p",
            "5432",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    std::os::unix::process::CommandExt::uid(&mut server, owner.uid());
    std::os::unix::process::CommandExt::gid(&mut server, owner.gid());
    let mut server = server.spawn().expect("start the orphan server");
    assert!(
        poll::eventually(
            || fs::read_to_string(orphan.join("postmaster.pid")).is_ok_and(|s| s.contains("ready"))
        ),
        "the orphan server never got ready"
    );
    let segment = procs::postmaster_segment(&orphan).expect("its shared memory");
    let out = t.pgtmp(["gc"]).run();
    out.assert_success();
    let running = matches!(server.try_wait(), Ok(None));
    assert!(
        running == orphan.exists(),
        "gc {} the directory of a server that is {}\n{out}",
        if orphan.exists() { "kept" } else { "deleted" },
        if running { "still running" } else { "gone" },
    );
    if running {
        let _ = server.kill();
    }
    let _ = server.wait();
    assert!(!orphan.exists(), "gc left the orphan's directory\n{out}");
    assert_eq!(procs::shm_segment(segment), None, "its shared memory stays");
}

/// Issue 18.8: pgtmp killed while the single-user `postgres` makes the
/// template's database. That process dies by its parent-death signal
/// (SIGKILL) without releasing its SysV segment, and its `postmaster.pid`
/// names it with a negative pid: `gc` must still release that segment.
/// The single-user run is held open (its input comes through a FIFO that
/// is fed only once the test says so) so that the kill lands while it runs.
#[test]
fn killed_template_database_leaks_no_shared_memory() {
    let t = TestRoot::new();
    let real = Path::new(PSQL).parent().expect("bin");
    let bindir = t.mkdir("single-bin");
    std::os::unix::fs::symlink(real.join("initdb"), bindir.join("initdb")).expect("link initdb");
    let work = t.mkdir("single-work");
    root::set_mode(&work, 0o777);
    let go = work.join("go");
    let script = format!(
        r#"#!/bin/sh
if [ "$1" = --single ]; then
    fifo={work}/in.$$
    mkfifo "$fifo"
    exec 3<&0
    ( while [ ! -e {go} ]; do sleep 0.05; done; cat <&3 ) > "$fifo" &
    exec {real}/postgres "$@" < "$fifo"
fi
exec {real}/postgres "$@"
"#,
        work = work.display(),
        go = go.display(),
        real = real.display()
    );
    write_executable(&bindir.join("postgres"), &script);
    let bindir_env = bindir.to_str().expect("utf-8 path");
    let mut child = spawn_pgtmp(&t, &["-w", "0"], &[("PGTMP_PG_BINDIR", bindir_env)]);
    let templates = t.base().join("templates");
    // pgtmp's single-user postgres (not initdb's, which write the same
    // file before it), running with its segment: (pid, segment). The
    // wrapper names its FIFO after its pid, which postgres then has.
    let single = || -> Option<(u32, i64)> {
        let pid: u32 = fs::read_dir(&work)
            .ok()?
            .flatten()
            .find_map(|e| e.file_name().to_str()?.strip_prefix("in.")?.parse().ok())?;
        fs::read_dir(&templates).ok()?.flatten().find_map(|e| {
            let text = fs::read_to_string(e.path().join("postmaster.pid")).ok()?;
            let recorded: i64 = text.lines().next()?.trim().parse().ok()?;
            (recorded == -i64::from(pid)).then_some(())?;
            Some((pid, procs::postmaster_segment(&e.path())?))
        })
    };
    let found = poll::eventually(|| single().is_some());
    procs::signal(child.id(), "KILL");
    let _ = child.wait();
    assert!(found, "the single-user postgres never ran\n{}", t.logs());
    let (pid, segment) = single().expect("still recorded");
    assert!(
        poll::eventually(|| !procs::alive(pid)),
        "the single-user postgres outlives its pgtmp"
    );
    fs::write(&go, "").expect("release the feeder");
    assert_eq!(
        procs::shm_segment(segment).map(|(creator, _)| creator),
        Some(pid),
        "the killed single-user postgres left no segment: the test proves nothing"
    );
    let out = t.pgtmp(["gc"]).env("PGTMP_PG_BINDIR", bindir_env).run();
    out.assert_success();
    assert_eq!(
        procs::shm_segment(segment),
        None,
        "gc left the segment of the killed single-user postgres\n{out}"
    );
    assert_eq!(t.templates(), Vec::<PathBuf>::new(), "{out}");
}
