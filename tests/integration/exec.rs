//! `pgtmp exec -- CMD`: CMD gets a database in DATABASE_URL and the libpq
//! PG* variables, signals meant for it reach it while the database stays up,
//! its exit status becomes pgtmp's (127/126 when it cannot be run, 128+N
//! when a signal ends it), and nothing of the instance is left afterwards.

use std::path::Path;
use std::process::Command;

use crate::support::command::Running;
use crate::support::tty::Terminal;
use crate::support::{PSQL, TestRoot, Who, poll, procs, user};

/// Once `exec` has returned, nothing of its instance may remain: no
/// instance directory, nothing listed, no process of the instance (a pool
/// refill may still be finishing; it belongs to no instance).
fn assert_dropped(t: &TestRoot) {
    assert_dropped_as(t, Who::Me);
}

fn assert_dropped_as(t: &TestRoot, who: Who) {
    let base = t.base_of(who);
    let run = base.join("run");
    // Spares started ahead for later calls are the tool's, not the
    // instance `exec` used (`spare.rs` tests their own lifetime).
    let entries = || t.run_entries_of(who);
    assert!(
        poll::eventually(|| entries().is_empty()),
        "{} still holds {:?} after `exec`\n{}",
        run.display(),
        entries(),
        t.logs()
    );
    assert!(t.list_as(who).is_empty(), "instances listed after `exec`");
    let leftovers = || -> Vec<String> {
        let spare: Vec<u32> = t
            .spares_of(who)
            .iter()
            .flat_map(|id| procs::touching(&run.join(id)))
            .collect();
        procs::touching(t.path())
            .into_iter()
            .filter(|pid| !spare.contains(pid))
            .map(procs::cmdline)
            .filter(|c| !c.contains("__refill"))
            .collect()
    };
    assert!(
        poll::eventually(|| leftovers().is_empty()),
        "processes left after `exec`: {:?}",
        leftovers()
    );
}

/// Starts `pgtmp exec ARGS` in the background and waits until its instance
/// is listed; returns it with the postmaster's and supervisor's pids.
fn exec_in_background(
    t: &TestRoot,
    args: &[&str],
    prepare: impl FnOnce(&mut Command),
) -> (Running, u32, u32) {
    let run = t.pgtmp(["exec"].iter().chain(args));
    let exec = run.spawn(prepare);
    assert!(
        poll::eventually(|| t.list().len() == 1),
        "{}: no instance listed\n{}\n{}",
        exec.shown,
        exec.stderr(),
        t.logs()
    );
    let inst = &t.list()[0];
    (exec, inst.pid, inst.supervisor_pid)
}

/// A shell command for `sh -c` that traps `sig`, writes `ready` once it
/// has, and when the signal comes still queries the database and exits 3.
/// Each delivery appends `trapped` to `out`.
fn trapping(sig: &str, ready: &Path, out: &Path) -> String {
    let (ready, out) = (ready.display(), out.display());
    format!(
        r#"n=0
trap 'n=$((n + 1)); echo trapped >> {out}' {sig}
echo > {ready}
while [ "$n" = 0 ]; do sleep 0.05; done
{PSQL} -X -tA -c 'select 6 * 7' >> {out}
exit 3
"#
    )
}

fn wait_for(path: &Path, exec: &Running) {
    assert!(
        poll::eventually(|| path.exists()),
        "{}: the command never got ready\n{}",
        exec.shown,
        exec.stderr()
    );
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

#[test]
fn exec_hands_command_a_database() {
    let t = TestRoot::new();
    let script = format!(
        r#"set -e
test -n "$PGHOST"; test -n "$PGPORT"; test -n "$PGUSER"; test "$PGDATABASE" = test
{PSQL} -X -tA -c 'select current_database()'
{PSQL} "$DATABASE_URL" -X -tA -c 'select 6 * 7'
"#
    );
    let out = t.pgtmp(["exec", "--", "sh", "-c", &script]).run();
    out.assert_success();
    assert_eq!(out.stdout, "test\n42\n", "stdout is CMD's alone\n{out}");
    assert_dropped(&t);
}

/// Every libpq variable names the instance, and those from the caller's
/// environment that would lead libpq elsewhere (or demand TLS) are gone.
#[test]
fn exec_sets_every_libpq_variable() {
    let t = TestRoot::new();
    let me = procs::my_name();
    let show = r#"printf '%s|%s|%s|%s|%s|%s|%s|%s|%s\n' "$PGHOST" "$PGPORT" "$PGUSER" "$PGDATABASE" \
        "${PGPASSWORD-unset}" "${PGSSLMODE-unset}" "${PGHOSTADDR-unset}" "${PGSERVICE-unset}" "$DATABASE_URL""#;
    let script = format!("{show}\n{PSQL} -X -tA -c 'select current_user'");
    for tcp in [false, true] {
        let mut args = vec!["exec"];
        if tcp {
            args.push("-t");
        }
        args.extend(["--", "sh", "-c", &script]);
        let out = t
            .pgtmp(&args)
            .env("PGPASSWORD", "stale")
            .env("PGSSLMODE", "verify-full")
            .env("PGHOSTADDR", "127.0.0.2")
            .env("PGSERVICE", "elsewhere")
            .env("PGUSER", "someone-else")
            .run();
        out.assert_success();
        let mut lines = out.stdout.lines();
        let vars: Vec<&str> = lines.next().expect("the variables").split('|').collect();
        let [
            host,
            port,
            user,
            db,
            password,
            sslmode,
            hostaddr,
            service,
            url,
        ] = vars[..]
        else {
            panic!("unexpected output\n{out}");
        };
        assert_eq!((user, db), (me.as_str(), "test"), "{out}");
        assert_eq!((hostaddr, service), ("unset", "unset"), "{out}");
        if tcp {
            assert_eq!(host, "127.0.0.1", "{out}");
            assert!(
                url.ends_with(&format!(":{port}/test?sslmode=disable")),
                "{out}"
            );
            assert!(url.contains(&format!(":{password}@")), "{out}");
            assert_eq!(sslmode, "disable", "{out}");
        } else {
            assert!(host.starts_with(t.base().to_str().unwrap()), "{out}");
            assert_eq!(port, "5432", "{out}");
            let encoded = host.replace('/', "%2F");
            assert_eq!(url, format!("postgresql:///test?host={encoded}"), "{out}");
            assert_eq!((password, sslmode), ("unset", "unset"), "{out}");
        }
        assert_eq!(lines.next(), Some(me.as_str()), "psql reached it\n{out}");
        assert_dropped(&t);
    }
}

#[test]
fn exec_passes_exit_code_through() {
    let t = TestRoot::new();
    let out = t
        .pgtmp([
            "exec",
            "--",
            "sh",
            "-c",
            r#"test -n "$DATABASE_URL" || exit 99; exit 7"#,
        ])
        .run();
    out.assert_code(7);
    assert_dropped(&t);
}

#[test]
fn exec_reports_signal_as_128_plus_n() {
    let t = TestRoot::new();
    let out = t.pgtmp(["exec", "--", "sh", "-c", "kill -TERM $$"]).run();
    out.assert_code(128 + 15);
    assert_dropped(&t);
}

/// As a shell: 127 for a command that does not exist, 126 for one that
/// cannot be executed, and in both cases the instance is gone.
#[test]
fn exec_cannot_run_command() {
    let t = TestRoot::new();
    let out = t.pgtmp(["exec", "--", "no-such-command-pgtmp"]).run();
    out.assert_error(127, &["no-such-command-pgtmp: command not found", "hint:"]);
    assert_eq!(out.stdout, "", "{out}");
    assert_dropped(&t);

    let script = t.join("not-executable.sh");
    std::fs::write(&script, "echo hello\n").expect("write script");
    crate::support::root::set_mode(&script, 0o644);
    let out = t.pgtmp(["exec", "--"]).args([&script]).run();
    out.assert_error(126, &["cannot run", "not-executable.sh", "chmod +x"]);
    assert_dropped(&t);

    let dir = t.mkdir("a-directory");
    t.pgtmp(["exec", "--"])
        .args([&dir])
        .run()
        .assert_error(126, &["a-directory"]);
    assert_dropped(&t);
}

/// An executable script without `#!` runs under /bin/sh, as a shell runs it.
#[test]
fn exec_runs_scripts_without_interpreter_line() {
    let t = TestRoot::new();
    let script = t.join("plain-script");
    std::fs::write(
        &script,
        format!("{PSQL} -X -tA -c 'select 1 + 1'\nexit 4\n"),
    )
    .expect("write");
    crate::support::root::set_mode(&script, 0o755);
    let out = t.pgtmp(["exec", "--"]).args([&script]).run();
    out.assert_code(4);
    assert_eq!(out.stdout, "2\n", "{out}");
    assert_dropped(&t);
}

/// `kill -SIG` of `pgtmp exec` reaches CMD, which can still use the
/// database while it handles the signal; pgtmp then exits with CMD's code.
#[test]
fn exec_forwards_signals_to_command() {
    let t = TestRoot::new();
    for sig in ["TERM", "INT", "HUP"] {
        let ready = t.join(format!("{sig}.ready"));
        let out = t.join(format!("{sig}.out"));
        let script = trapping(sig, &ready, &out);
        let (exec, pid, supervisor) = exec_in_background(&t, &["--", "sh", "-c", &script], |_| ());
        wait_for(&ready, &exec);
        procs::signal(exec.pid(), sig);
        let done = exec.wait();
        done.assert_code(3);
        assert_eq!(read(&out), "trapped\n42\n", "SIG{sig}: CMD's log\n{done}");
        assert_dropped(&t);
        assert!(!procs::alive(pid) && !procs::alive(supervisor), "SIG{sig}");
    }
}

/// A forwarded signal that CMD does not handle ends it: 128+N.
#[test]
fn exec_forwarded_signal_ends_command() {
    let t = TestRoot::new();
    let ready = t.join("ready");
    let script = format!("echo > {}; exec sleep 60", ready.display());
    let (exec, _, _) = exec_in_background(&t, &["--", "sh", "-c", &script], |_| ());
    wait_for(&ready, &exec);
    procs::signal(exec.pid(), "TERM");
    exec.wait().assert_code(128 + 15);
    assert_dropped(&t);
}

/// Ctrl-C in a terminal goes to the whole foreground process group, so
/// CMD gets it from the terminal: pgtmp must neither stop the database
/// behind CMD's back nor send the signal a second time.
#[test]
fn exec_survives_ctrl_c_while_command_handles_it() {
    let t = TestRoot::new();
    let mut tty = Terminal::open();
    let (ready, out) = (t.join("ready"), t.join("out"));
    let script = trapping("INT", &ready, &out);
    let (exec, pid, _) =
        exec_in_background(&t, &["--", "sh", "-c", &script], |cmd| tty.attach(cmd));
    wait_for(&ready, &exec);
    tty.interrupt();
    let done = exec.wait();
    done.assert_code(3);
    assert_eq!(read(&out), "trapped\n42\n", "CMD's log\n{done}");
    assert_dropped(&t);
    assert!(!procs::alive(pid));
}

/// Ctrl-C that CMD does not handle ends it, and pgtmp reports 128+2.
#[test]
fn exec_ctrl_c_ends_command() {
    let t = TestRoot::new();
    let mut tty = Terminal::open();
    let ready = t.join("ready");
    let script = format!("echo > {}; exec sleep 60", ready.display());
    let (exec, _, _) = exec_in_background(&t, &["--", "sh", "-c", &script], |cmd| tty.attach(cmd));
    wait_for(&ready, &exec);
    tty.interrupt();
    exec.wait().assert_code(128 + 2);
    assert_dropped(&t);
}

/// SIGINT sent to the whole process group (as `kill -INT -PGID` does): CMD
/// gets it directly (and, since nothing tells such a signal from one sent
/// to pgtmp alone, possibly once more through pgtmp), and the database
/// stays up while CMD handles it.
#[test]
fn exec_survives_sigint_to_process_group() {
    let t = TestRoot::new();
    let (ready, out) = (t.join("ready"), t.join("out"));
    let script = trapping("INT", &ready, &out);
    let (exec, pid, _) = exec_in_background(&t, &["--", "sh", "-c", &script], |cmd| {
        std::os::unix::process::CommandExt::process_group(cmd, 0);
    });
    wait_for(&ready, &exec);
    procs::signal_group(exec.pid(), "INT");
    let done = exec.wait();
    done.assert_code(3);
    let log = read(&out);
    assert!(
        log.starts_with("trapped\n") && log.lines().any(|l| l == "42"),
        "CMD's log: {log:?}\n{done}"
    );
    assert_dropped(&t);
    assert!(!procs::alive(pid));
}

#[test]
fn exec_over_tcp_sets_password() {
    let t = TestRoot::new();
    let script = format!(
        r#"set -e
test -n "$PGPASSWORD"; test "$PGHOST" = 127.0.0.1
{PSQL} -X -tA -c 'select inet_server_port() = '"$PGPORT"
"#
    );
    let out = t.pgtmp(["exec", "-t", "--", "sh", "-c", &script]).run();
    out.assert_success();
    assert_eq!(out.stdout, "t\n", "{out}");
    assert_dropped(&t);
}

/// An ordinary user's `exec`: their own server, their command, nothing left.
#[test]
fn exec_as_ordinary_user() {
    let t = TestRoot::new();
    let (who, name) = if procs::is_root() {
        let u = user::ordinary();
        (Who::User(u), u.name.clone())
    } else {
        (Who::Me, procs::my_name())
    };
    let script = format!("{PSQL} -X -tA -c 'select current_user'; exit 9");
    let out = t.pgtmp(["exec", "--", "sh", "-c", &script]).who(who).run();
    out.assert_code(9);
    assert_eq!(out.stdout.trim(), name, "{out}");
    assert_dropped_as(&t, who);
}

/// `-F` belongs to the hand-out: `exec` gives no output to format.
#[test]
fn exec_rejects_format() {
    let t = TestRoot::new();
    let out = t.pgtmp(["exec", "-F", "json", "--", "true"]).run();
    out.assert_code(2);
    assert!(out.stderr.contains("-F"), "{out}");
    assert!(t.run_entries().is_empty(), "{out}");
}

/// If `pgtmp exec` itself is killed (SIGKILL: no chance to clean up), its
/// instance goes anyway: the supervisor watches the process that owns it.
#[test]
fn killed_exec_takes_its_instance_along() {
    let t = TestRoot::new();
    let (exec, pid, _) = exec_in_background(&t, &["--", "sleep", "60"], |_| ());
    procs::signal(exec.pid(), "KILL");
    exec.wait();
    assert!(
        poll::eventually(|| !procs::alive(pid) && t.run_entries().is_empty()),
        "instance of a killed `exec` survives: postmaster {pid}, run/ {:?}\n{}",
        t.run_entries(),
        t.logs()
    );
}
