//! `pgtmp exec -- CMD`: CMD gets a database in DATABASE_URL and the libpq
//! PG* variables, its exit status becomes pgtmp's, and the instance is gone
//! afterwards.

use crate::support::{PSQL, TestRoot, poll, procs};

/// Once `exec` has returned, nothing of its instance may remain.
fn assert_dropped(t: &TestRoot) {
    assert!(
        poll::eventually(|| t.run_entries().is_empty()),
        "base/run still holds {:?} after `exec`\n{}",
        t.run_entries(),
        t.logs()
    );
    assert!(t.list().is_empty(), "instances listed after `exec`");
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

/// If `pgtmp exec` itself is killed (SIGKILL: no chance to clean up), its
/// instance goes anyway: the supervisor watches the process that owns it.
#[test]
fn killed_exec_takes_its_instance_along() {
    let t = TestRoot::new();
    let (mut cmd, shown) = t.pgtmp(["exec", "--", "sleep", "60"]).command();
    cmd.stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    let mut child = cmd.spawn().unwrap_or_else(|e| panic!("{shown}: {e}"));
    assert!(
        poll::eventually(|| t.list().len() == 1),
        "{shown}: no instance listed\n{}",
        t.logs()
    );
    let pid = t.list()[0].pid;
    child.kill().expect("kill pgtmp exec");
    let _ = child.wait();
    assert!(
        poll::eventually(|| !procs::alive(pid) && t.run_entries().is_empty()),
        "instance of a killed `exec` survives: postmaster {pid}, run/ {:?}\n{}",
        t.run_entries(),
        t.logs()
    );
}
