//! `--setup CMD` with `--key PATH`: the commands run once against a fresh
//! database, as the caller, and later calls with the same key get a copy
//! without running anything.
//!
//! "Ran again" is observed, not timed: every command appends a line to a
//! marker file in the test root.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use crate::fixtures::runs;
use crate::support::pgtmp::templates_of_kind;
use crate::support::{PSQL, TestRoot, Who, db, poll, procs, user};

/// A migration runner as a shell script: every `*.sql` of `migrations/`
/// through psql, in order, then a line in `marks/NAME`.
fn migrate_script(t: &TestRoot, name: &str) -> String {
    t.mkdir("marks");
    crate::support::root::set_mode(&t.join("marks"), 0o777);
    let script = format!(
        "set -e\n\
         for f in migrations/*.sql; do {PSQL} -X -q -v ON_ERROR_STOP=1 -f \"$f\"; done\n\
         echo \"ran $(ls migrations | wc -l) migrations\"\n\
         echo ran >> marks/{name}\n"
    );
    t.write(format!("{name}.sh"), &script);
    format!("sh {name}.sh")
}

/// Setup templates (`templates/s...`) and build debris.
fn setup_templates(t: &TestRoot) -> Vec<PathBuf> {
    templates_of_kind(&t.base(), 's')
}

fn tables(url: &str) -> String {
    db::text(
        &mut db::connect(url),
        "select coalesce(string_agg(tablename, ',' order by tablename), '') \
         from pg_tables where schemaname = 'public'",
    )
}

fn migrations(t: &TestRoot, names: &[&str]) {
    for name in names {
        t.write(
            format!("migrations/{name}.sql"),
            &format!("create table {name} (id int);\n"),
        );
    }
}

#[test]
fn setup_runs_once_and_later_calls_get_copies() {
    let t = TestRoot::new();
    migrations(&t, &["a1", "a2"]);
    let setup = migrate_script(&t, "once");
    let args = ["--setup", setup.as_str(), "--key", "migrations"];
    let first = t.start(&args);
    assert_eq!(tables(&first.url), "a1,a2", "{}", first.out);
    // Its output went to stderr; stdout is the URL alone.
    assert!(
        first.out.stderr.contains("ran 2 migrations"),
        "{}",
        first.out
    );
    assert!(
        first.out.stderr.contains(&format!("pgtmp: setup: {setup}")),
        "no line names the setup\n{}",
        first.out
    );
    let second = t.start(&args);
    assert_eq!(tables(&second.url), "a1,a2");
    assert!(
        !second.out.stderr.contains("ran 2"),
        "the cached call ran the setup\n{}",
        second.out
    );
    assert!(
        poll::eventually(|| !t.refilling() && t.pool_entries().len() >= 2),
        "the setup template's pool was not refilled\n{}",
        t.logs()
    );
    let pooled = t.start(&args);
    // Each hand-out is its own copy.
    db::execute(&mut db::connect(&first.url), "drop table a1");
    assert_eq!(tables(&pooled.url), "a1,a2");
    assert_eq!(runs(&t, "once"), 1, "the setup ran again\n{}", t.logs());
    assert_eq!(setup_templates(&t).len(), 1, "{}", t.logs());
}

/// As root the commands run as root, by a runner started before
/// privileges are dropped. A call whose template is made has nothing to
/// run: it starts no runner (a process start and stop on every call) and
/// holds the template instead, from which it copies when no pool entry or
/// spare is ready. An ordinary user starts a runner only to run commands.
#[test]
fn a_cached_setup_starts_no_runner() {
    let t = TestRoot::new();
    migrations(&t, &["c1"]);
    let setup = migrate_script(&t, "cached");
    let args = ["--setup", setup.as_str(), "--key", "migrations"];
    // No pool, no spares: every hand-out is a copy of the template.
    let call = || {
        t.pgtmp(args)
            .env("PGTMP_POOL_SIZE", "0")
            .env("PGTMP_SPARES", "0")
            .env("PGTMP_TRACE", "1")
            .run()
    };
    let first = call();
    first.assert_success();
    assert!(
        first.stderr.contains("setup runner started") == procs::is_root(),
        "{first}"
    );
    for _ in 0..2 {
        let cached = call();
        cached.assert_success();
        assert_eq!(tables(cached.one_line()), "c1", "{cached}");
        assert!(!cached.stderr.contains("setup runner started"), "{cached}");
        assert!(
            cached.stderr.contains("setup template found made") == procs::is_root(),
            "{cached}"
        );
    }
    assert_eq!(runs(&t, "cached"), 1, "{}", t.logs());
}

#[test]
fn an_edit_of_a_key_file_runs_the_setup_again() {
    let t = TestRoot::new();
    migrations(&t, &["b1"]);
    let setup = migrate_script(&t, "edit");
    let args = ["--setup", setup.as_str(), "--key", "migrations"];
    assert_eq!(tables(&t.start(&args).url), "b1");

    // Neither times, nor hidden files (an editor's swap file), count.
    t.cmd("touch", ["migrations/b1.sql"]).run().assert_success();
    t.write("migrations/.b1.sql.swp", "not a migration");
    assert_eq!(tables(&t.start(&args).url), "b1");
    assert_eq!(runs(&t, "edit"), 1, "{}", t.logs());

    // An edit does, and so does a new file.
    t.write("migrations/b1.sql", "create table b1_edited (id int);\n");
    assert_eq!(tables(&t.start(&args).url), "b1_edited");
    migrations(&t, &["b2"]);
    assert_eq!(tables(&t.start(&args).url), "b1_edited,b2");
    assert_eq!(runs(&t, "edit"), 3, "{}", t.logs());
    assert_eq!(setup_templates(&t).len(), 3, "{}", t.logs());
    // Without --key, only the commands' text keys it.
    let out = t.pgtmp(["--setup", setup.as_str()]).run();
    out.assert_success();
    t.write("migrations/b3.sql", "create table b3 (id int);\n");
    let again = t.start(&["--setup", setup.as_str()]);
    assert_eq!(tables(&again.url), "b1_edited,b2", "{}", again.out);
}

#[test]
fn a_failing_setup_caches_nothing() {
    let t = TestRoot::new();
    let cmd = "echo to-stdout; echo to-stderr >&2; exit 3";
    let out = t.pgtmp(["--setup", cmd]).run();
    out.assert_error(
        1,
        &[
            "the setup command",
            "exit status: 3",
            "to-stdout",
            "to-stderr",
        ],
    );
    assert!(out.stdout.is_empty(), "a URL despite the failure\n{out}");
    assert_eq!(setup_templates(&t), Vec::<PathBuf>::new(), "{out}");
    assert_eq!(t.run_entries(), Vec::<String>::new(), "{out}");
    assert!(
        poll::eventually(|| procs::touching(&t.base().join("templates")).is_empty()),
        "a server is left: {:?}",
        procs::touching(&t.base().join("templates"))
    );
    // A command that is not there says so.
    let out = t.pgtmp(["--setup", "no-such-migrator up"]).run();
    out.assert_error(1, &["exit status: 127", "not found", "hint:"]);
    // Fixed, it runs and is cached.
    t.start(&["--setup", "exit 0"]);
    assert_eq!(setup_templates(&t).len(), 1);
}

#[test]
fn concurrent_first_calls_run_the_setup_once() {
    let t = TestRoot::new();
    t.start(&[]); // the plain template, so the race is over the setup
    migrations(&t, &["c1"]);
    let setup = format!("sleep 0.5; {}", migrate_script(&t, "race"));
    let urls: Vec<String> = std::thread::scope(|s| {
        let calls: Vec<_> = (0..3)
            .map(|_| {
                s.spawn(|| {
                    t.start(&["--setup", setup.as_str(), "--key", "migrations"])
                        .url
                })
            })
            .collect();
        calls
            .into_iter()
            .map(|c| c.join().expect("a call panicked"))
            .collect()
    });
    for url in &urls {
        assert_eq!(tables(url), "c1");
    }
    assert_eq!(runs(&t, "race"), 1, "{}", t.logs());
    assert_eq!(setup_templates(&t).len(), 1, "{}", t.logs());
}

/// SIGKILL to pgtmp while its setup runs: the server dies with it, the
/// commands' processes are stopped, nothing is cached, gc removes the
/// half-made copy, and the next call runs the setup again.
#[test]
fn a_setup_killed_midway_leaves_nothing() {
    let t = TestRoot::new();
    t.start(&[]);
    t.mkdir("marks");
    let setup = "sleep 600 & echo $! > marks/sleeper; echo started >> marks/killed; wait";
    let (mut cmd, shown) = t.pgtmp(["--setup", setup]).command();
    cmd.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut child = cmd.spawn().unwrap_or_else(|e| panic!("{shown}: {e}"));
    assert!(
        poll::eventually(|| runs(&t, "killed") == 1),
        "the setup never started\n{}",
        t.logs()
    );
    let sleeper: u32 = fs::read_to_string(t.join("marks/sleeper"))
        .expect("the sleeper's pid")
        .trim()
        .parse()
        .expect("a pid");
    child.kill().expect("kill pgtmp");
    let _ = child.wait();
    t.assert_no_builder_left("the setup's server");
    assert!(
        poll::eventually(|| !procs::alive(sleeper)),
        "what the setup started survives: {}",
        procs::cmdline(sleeper)
    );
    t.assert_only_debris_then_gc('s', "setup");
    t.start(&["--setup", "echo started >> marks/killed"]);
    assert_eq!(runs(&t, "killed"), 2);
}

/// The commands get what `exec` gives its command (TCP with `-t`), in the
/// caller's directory, as the caller: root as root, not as the account
/// PostgreSQL runs as; an ordinary user as themself.
#[test]
fn setup_runs_as_the_caller_with_the_exec_environment() {
    let t = TestRoot::new();
    let record = "{ id -u; pwd; echo \"$DATABASE_URL\"; echo \"$PGHOST $PGPORT $PGUSER $PGDATABASE\"; \
                  echo \"pw=${PGPASSWORD:-none}\"; read x && echo stdin || echo no-stdin; } > env.txt";
    let as_me = t.start(&["--setup", record]);
    let env = fs::read_to_string(t.join("env.txt")).expect("env.txt");
    let lines: Vec<&str> = env.lines().collect();
    assert_eq!(lines[0], procs::my_uid().to_string(), "{env}");
    assert_eq!(Path::new(lines[1]), t.path(), "{env}");
    assert!(lines[2].starts_with("postgresql:///test?host=%2F"), "{env}");
    assert!(
        lines[3].contains(" 5432 ") && lines[3].ends_with(" test"),
        "{env}"
    );
    assert_eq!(lines[4], "pw=none", "{env}");
    assert_eq!(lines[5], "no-stdin", "{env}");
    db::connect(&as_me.url);

    // With -t, over TCP with a password, which the template then lacks.
    let tcp = t.start(&["-t", "--setup", &format!("{record}; echo tcp >> env.txt")]);
    let env = fs::read_to_string(t.join("env.txt")).expect("env.txt");
    assert!(env.contains("@127.0.0.1:"), "{env}");
    assert!(!env.contains("pw=none"), "{env}");
    assert!(tcp.url.contains("@127.0.0.1:"), "{}", tcp.out);
    let password: String = db::text(
        &mut db::connect(&tcp.url),
        "select (rolpassword is not null)::text from pg_authid where rolname = current_user",
    );
    assert_eq!(password, "true", "the hand-out has its own password");

    let user = if procs::is_root() {
        Who::User(user::ordinary())
    } else {
        return;
    };
    let home = t.home_of(user);
    let uid = match user {
        Who::User(u) => u.uid,
        _ => unreachable!(),
    };
    let out = t
        .pgtmp(["--setup", "id -u > $HOME/uid.txt"])
        .who(user)
        .run();
    out.assert_success();
    assert_eq!(
        fs::read_to_string(home.join("uid.txt"))
            .expect("uid.txt")
            .trim(),
        uid.to_string()
    );
}

/// `-f` first, then the setup on top; `exec` passes it on.
#[test]
fn setup_builds_on_fixtures_and_works_with_exec() {
    let t = TestRoot::new();
    t.write("schema.sql", "create table base (id int);\n");
    migrations(&t, &["d1"]);
    let setup = migrate_script(&t, "layered");
    let args = [
        "-f",
        "schema.sql",
        "--setup",
        setup.as_str(),
        "--key",
        "migrations",
    ];
    assert_eq!(tables(&t.start(&args).url), "base,d1");
    let mut exec: Vec<&str> = vec!["exec"];
    exec.extend(args);
    exec.extend(["--", PSQL, "-XtAc", "select count(*) from d1"]);
    let out = t.pgtmp(&exec).run();
    out.assert_success();
    assert_eq!(out.stdout, "0\n", "{out}");
    assert_eq!(runs(&t, "layered"), 1, "{}", t.logs());
}

/// What a setup leaves behind is put in order before the template is
/// cached: a connection that outlives its commands is closed, prepared
/// transactions are refused.
#[test]
fn what_a_setup_leaves_is_settled() {
    let t = TestRoot::new();
    // setsid: out of the commands' process group, so only the server-side
    // clean-up can end it.
    let lingering = format!(
        "{PSQL} -X -c 'create table kept (id int)' && \
         ( setsid {PSQL} -X -c 'select pg_sleep(600)' > /dev/null 2>&1 & ) && \
         until {PSQL} -XAtc \"select count(*) from pg_stat_activity where query like 'select pg_sleep%'\" | grep -q 1; \
         do sleep 0.05; done"
    );
    let h = t.start(&["--setup", &lingering]);
    assert!(
        h.out.stderr.contains("left 1 connection(s) open"),
        "{}",
        h.out
    );
    assert_eq!(tables(&h.url), "kept");

    let prepare =
        format!("{PSQL} -X -c 'begin; create table p (id int); prepare transaction $$pending$$;'");
    let out = t
        .pgtmp(["-o", "-c max_prepared_transactions=2", "--setup", &prepare])
        .run();
    out.assert_error(1, &["prepared transaction", "pending", "hint:"]);
    assert_eq!(setup_templates(&t).len(), 1, "{out}");
}

/// On a terminal, a status line names the command while it runs.
#[test]
fn a_terminal_shows_the_setup_running() {
    let t = TestRoot::new();
    let mut terminal = crate::support::tty::Terminal::open();
    let (mut cmd, shown) = t
        .pgtmp(["--setup", "echo from-the-setup; sleep 1.5"])
        .command();
    cmd.stdout(Stdio::piped());
    terminal.stderr(&mut cmd);
    let out = cmd.output().unwrap_or_else(|e| panic!("{shown}: {e}"));
    let screen = terminal.written();
    assert!(out.status.success(), "{shown}\n{screen}");
    assert!(
        String::from_utf8_lossy(&out.stdout).starts_with("postgresql://"),
        "{shown}: stdout {:?}",
        out.stdout
    );
    assert!(screen.contains("from-the-setup"), "{screen:?}");
    assert!(
        screen.contains("pgtmp: setup: echo from-the-setup; sleep 1.5 (1s)"),
        "no status line with the time so far: {screen:?}"
    );
}
