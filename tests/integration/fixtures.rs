//! Fixtures (`-f`, `-x`, `--now`): loaded once into a template of their
//! own, then handed out as copies without running anything again.
//!
//! "Ran again" is observed, not timed: fixtures append a line to a marker
//! file with psql's `\!`, so a second execution shows as a second line.
//! The markers live in a 0777 directory because, as root, psql runs as the
//! `postgres` account.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use crate::support::pgtmp::templates_of_kind;
use crate::support::root::set_mode;
use crate::support::{PSQL, TestRoot, Who, db, poll, procs, user};

const PG_DUMP: &str = "/usr/lib/postgresql/15/bin/pg_dump";

/// A psql line that appends to marker `name` each time it runs.
fn mark(t: &TestRoot, name: &str) -> String {
    let dir = t.mkdir("marks");
    set_mode(&dir, 0o777);
    format!("\\! echo ran >> marks/{name}\n")
}

/// How often the fixture (or setup) with marker `name` ran.
pub fn runs(t: &TestRoot, name: &str) -> usize {
    fs::read_to_string(t.join("marks").join(name))
        .map(|s| s.lines().count())
        .unwrap_or(0)
}

/// Fixture templates (`templates/f...`), and build debris (`.tmp-...`).
fn fixture_templates(t: &TestRoot) -> Vec<PathBuf> {
    fixture_templates_of(&t.base())
}

fn fixture_templates_of(base: &Path) -> Vec<PathBuf> {
    templates_of_kind(base, 'f')
}

fn query(url: &str, sql: &str) -> String {
    let mut client = db::connect(url);
    db::text(&mut client, sql)
}

const SCHEMA: &str = "create table fruit (id serial primary key, name text not null);\n\
                      insert into fruit (name) values ('apple'), ('pear');\n";

#[test]
fn schema_is_in_the_handed_out_database() {
    let t = TestRoot::new();
    t.write("schema.sql", SCHEMA);
    let h = t.start(&["-f", "schema.sql"]);
    assert_eq!(
        query(
            &h.url,
            "select string_agg(name, ',' order by id) from fruit"
        ),
        "apple,pear",
        "{}",
        h.out
    );
    assert_eq!(fixture_templates(&t).len(), 1, "{}", t.logs());
}

/// The cache serves both ways a hand-out gets its directory: a copy of the
/// template (pool off) and a pool entry (refilled in the background).
#[test]
fn later_calls_run_nothing() {
    let t = TestRoot::new();
    t.write("schema.sql", &format!("{SCHEMA}{}", mark(&t, "schema")));
    let no_pool = |t: &TestRoot| {
        let out = t
            .pgtmp(["-f", "schema.sql"])
            .env("PGTMP_POOL_SIZE", "0")
            .run();
        out.assert_success();
        out.one_line().to_string()
    };
    let first = no_pool(&t);
    assert_eq!(runs(&t, "schema"), 1, "the fixture did not run once");
    let copied = no_pool(&t);
    let pooled_from = t.start(&["-f", "schema.sql"]);
    assert!(
        poll::eventually(|| !t.refilling() && t.pool_entries().len() == 2),
        "the fixture's pool was not refilled: {:?}\n{}",
        t.pool_entries(),
        t.logs()
    );
    let pooled = t.start(&["-f", "schema.sql"]);
    for url in [&first, &copied, &pooled_from.url, &pooled.url] {
        assert_eq!(query(url, "select count(*)::text from fruit"), "2", "{url}");
    }
    // Each hand-out is its own copy.
    db::execute(&mut db::connect(&copied), "delete from fruit");
    assert_eq!(query(&pooled.url, "select count(*)::text from fruit"), "2");
    assert_eq!(
        runs(&t, "schema"),
        1,
        "the fixture ran again for a cached hand-out\n{}",
        t.logs()
    );
    assert_eq!(fixture_templates(&t).len(), 1, "{}", t.logs());
}

#[test]
fn edited_files_make_a_new_template() {
    let t = TestRoot::new();
    // The digest covers what `\ir` pulls in, not only the named file.
    t.write(
        "db/main.sql",
        "create table version (v text);\n\\ir seed.sql\n",
    );
    t.write("db/seed.sql", "insert into version values ('one');\n");
    let v1 = t.start(&["-f", "db/main.sql"]);
    assert_eq!(query(&v1.url, "select v from version"), "one");

    t.write("db/seed.sql", "insert into version values ('two');\n");
    let v2 = t.start(&["-f", "db/main.sql"]);
    assert_eq!(
        query(&v2.url, "select v from version"),
        "two",
        "an edited included file was served from the old template"
    );

    t.write(
        "db/main.sql",
        "create table version (v text);\n\\ir seed.sql\ninsert into version values ('three');\n",
    );
    let v3 = t.start(&["-f", "db/main.sql"]);
    assert_eq!(
        query(&v3.url, "select string_agg(v, ',') from version"),
        "two,three"
    );
    assert_eq!(fixture_templates(&t).len(), 3, "{}", t.logs());
    // The old hand-outs are untouched copies.
    assert_eq!(query(&v1.url, "select v from version"), "one");
}

/// Large files are hashed once and then known by their inode, size and
/// times; an edit in place that keeps the size must still be seen.
#[test]
fn large_files_edited_in_place_make_a_new_template() {
    let t = TestRoot::new();
    let padding = format!("-- {}\n", "x".repeat(2 * 1024 * 1024));
    let big = |letter: &str| {
        format!(
            "{padding}create table letter (l text);\ninsert into letter values ('{letter}');\n{}",
            mark(&t, "big")
        )
    };
    let path = t.write("big.sql", &big("A"));
    // Only a file whose last change is two seconds old is memoised.
    std::thread::sleep(std::time::Duration::from_millis(2500));
    let a = t.start(&["-f", "big.sql"]);
    assert_eq!(query(&a.url, "select l from letter"), "A");
    assert!(
        t.base().join("digests.json").is_file(),
        "the large file's digest was not memoised, so this tests nothing"
    );
    // Same size, same inode, within moments of the last call.
    let mut file = fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .expect("open big.sql");
    std::io::Write::write_all(&mut file, big("B").as_bytes()).expect("rewrite big.sql");
    drop(file);
    let b = t.start(&["-f", "big.sql"]);
    assert_eq!(
        query(&b.url, "select l from letter"),
        "B",
        "an edit in place was served from the memoised digest"
    );
    let again = t.start(&["-f", "big.sql"]);
    assert_eq!(query(&again.url, "select l from letter"), "B");
    assert_eq!(
        runs(&t, "big"),
        2,
        "one load per version, none for the cached call"
    );
}

#[test]
fn directory_runs_its_sql_files_in_lexical_order() {
    let t = TestRoot::new();
    t.write(
        "migrations/0_init.sql",
        "create table steps (n serial, name text);\n",
    );
    // Lexical, not numeric: 10 sorts before 9.
    t.write(
        "migrations/9_late.sql",
        "insert into steps (name) values ('9_late');\n",
    );
    t.write(
        "migrations/10_early.sql",
        "insert into steps (name) values ('10_early');\n",
    );
    t.write("migrations/README.md", "not SQL, not loaded\n");
    t.write(
        "migrations/.hidden.sql",
        "insert into steps (name) values ('hidden');\n",
    );
    t.write("seed.sql", "insert into steps (name) values ('seed');\n");
    let h = t.start(&["-f", "migrations", "-f", "seed.sql"]);
    assert_eq!(
        query(&h.url, "select string_agg(name, ',' order by n) from steps"),
        "10_early,9_late,seed",
        "{}",
        h.out
    );
}

/// pg_dump's custom, tar and directory formats, told apart by content:
/// the custom dump is even named `.sql`.
#[test]
fn dumps_are_restored() {
    let t = TestRoot::new();
    let source = t.start(&[]);
    db::execute(
        &mut db::connect(&source.url),
        "create table birds (name text primary key);
         insert into birds values ('wren'), ('robin');
         create view loud as select upper(name) as name from birds;",
    );
    for (format, file) in [
        ("c", "snapshot.sql"),
        ("t", "birds.tar"),
        ("d", "birds.dir"),
    ] {
        let out = t
            .cmd(
                PG_DUMP,
                [&format!("-F{format}"), "-f", file, source.url.as_str()],
            )
            .run();
        out.assert_success();
    }
    // pg_dump makes the directory format's files private to their owner.
    let chmod = t.cmd("chmod", ["-R", "a+rX", "birds.dir"]).run();
    chmod.assert_success();
    for file in ["snapshot.sql", "birds.tar", "birds.dir"] {
        let h = t.start(&["-f", file]);
        assert_eq!(
            query(
                &h.url,
                "select string_agg(name, ',' order by name) from loud"
            ),
            "ROBIN,WREN",
            "restoring {file}\n{}",
            h.out
        );
    }
}

#[test]
fn load_error_names_file_line_and_message() {
    let t = TestRoot::new();
    t.write("migrations/001_ok.sql", "create table ok (x int);\n");
    let bad = "create table half (x int);\n\ninsert into nowhere values (1);\n";
    t.write("migrations/002_bad.sql", bad);
    let out = t.pgtmp(["-f", "migrations"]).run();
    out.assert_error(
        1,
        &[
            "migrations/002_bad.sql, line 3",
            "relation \"nowhere\" does not exist",
        ],
    );
    assert!(out.stdout.is_empty(), "a URL despite the error\n{out}");

    // Errors in a file pulled in with \i name that file.
    t.write("outer.sql", "select 1;\n\\i inner.sql\n");
    t.write("inner.sql", "select 1;\nselect 2;\nselec 3;\n");
    let out = t.pgtmp(["-f", "outer.sql"]).run();
    out.assert_error(
        1,
        &["inner.sql, line 3", "syntax error at or near \"selec\""],
    );

    assert_eq!(
        fixture_templates(&t),
        Vec::<PathBuf>::new(),
        "something half-loaded was kept"
    );
    assert_eq!(
        t.run_entries(),
        Vec::<String>::new(),
        "instances left behind"
    );
    assert_eq!(
        t.pool_entries(),
        Vec::<PathBuf>::new(),
        "pool entries of a failed load"
    );
    assert!(
        poll::eventually(|| procs::touching(&t.base()).is_empty()),
        "processes left: {:?}",
        procs::touching(&t.base())
            .into_iter()
            .map(procs::cmdline)
            .collect::<Vec<_>>()
    );

    // Fixed, it loads: the failure cached nothing under the file's key.
    t.write("migrations/002_bad.sql", "create table half (x int);\n");
    let h = t.start(&["-f", "migrations"]);
    assert_eq!(query(&h.url, "select count(*)::text from half"), "0");
}

#[test]
fn extensions_are_created() {
    let t = TestRoot::new();
    let h = t.start(&["-x", "pgtap", "-x", "pgcrypto", "-x", "citext"]);
    let mut client = db::connect(&h.url);
    assert!(
        !db::text(&mut client, "select pgtap_version()::text").is_empty(),
        "pgTAP answers"
    );
    assert_eq!(
        db::text(&mut client, "select encode(digest('abc', 'sha1'), 'hex')"),
        "a9993e364706816aba3e25717850c26c9cd0d89d"
    );
    assert_eq!(
        db::text(&mut client, "select ('Fig'::citext = 'FIG'::citext)::text"),
        "true"
    );
}

#[test]
fn missing_extension_names_its_likely_package() {
    let t = TestRoot::new();
    let out = t.pgtmp(["-x", "citext", "-x", "pgtmp_no_such_ext"]).run();
    out.assert_error(
        1,
        &["\"pgtmp_no_such_ext\"", "postgresql-15-pgtmp-no-such-ext"],
    );
    assert!(out.stderr.contains("hint:"), "{out}");
    assert_eq!(fixture_templates(&t), Vec::<PathBuf>::new(), "{out}");
    assert_eq!(t.run_entries(), Vec::<String>::new(), "{out}");
}

/// What `--now` covers, and what it does not, as the README says.
#[test]
fn now_freezes_the_clock_of_test() {
    let t = TestRoot::new();
    t.write(
        "events.sql",
        "create table events (id int, at timestamptz default now());\n\
         insert into events (id) values (1);\n",
    );
    // No zone: UTC. 981173106 is 2001-02-03 04:05:06 UTC.
    let h = t.start(&["--now", "2001-02-03 04:05:06", "-f", "events.sql"]);
    let mut c = db::connect(&h.url);
    let epoch = |c: &mut postgres::Client, expr: &str| {
        db::text(
            c,
            &format!("select extract(epoch from {expr})::bigint::text"),
        )
    };
    // Covered: unqualified now() and its synonyms, in queries and in
    // defaults created by the fixture or by clients.
    assert_eq!(epoch(&mut c, "now()"), "981173106");
    assert_eq!(epoch(&mut c, "transaction_timestamp()"), "981173106");
    assert_eq!(epoch(&mut c, "statement_timestamp()"), "981173106");
    assert_eq!(
        epoch(&mut c, "(select at from events where id = 1)"),
        "981173106"
    );
    db::execute(
        &mut c,
        "insert into events (id) values (2);
         create table mine (at timestamptz default now());
         insert into mine default values;",
    );
    assert_eq!(
        epoch(&mut c, "(select at from events where id = 2)"),
        "981173106"
    );
    assert_eq!(epoch(&mut c, "(select at from mine)"), "981173106");
    // Tables still land in public.
    assert_eq!(
        db::text(
            &mut c,
            "select schemaname::text from pg_tables where tablename = 'mine'"
        ),
        "public"
    );
    // Not covered: the SQL keywords, qualified calls, clock_timestamp().
    for real in [
        "current_timestamp",
        "localtimestamp::timestamptz",
        "pg_catalog.now()",
        "clock_timestamp()",
    ] {
        assert_eq!(
            db::text(&mut c, &format!("select ({real} > '2020-01-01')::text")),
            "true",
            "{real} should keep the real time"
        );
    }
    // Not covered: other databases.
    let other = h.url.replacen("/test?", "/postgres?", 1);
    assert_eq!(
        query(&other, "select (now() > '2020-01-01')::text"),
        "true",
        "{other}"
    );

    // An explicit zone is honoured.
    let h = t.start(&["--now", "2001-02-03 06:05:06+02"]);
    assert_eq!(epoch(&mut db::connect(&h.url), "now()"), "981173106");
}

#[test]
fn bad_now_is_an_error() {
    let t = TestRoot::new();
    let out = t.pgtmp(["--now", "teatime"]).run();
    out.assert_error(1, &["--now teatime", "invalid input syntax", "hint:"]);
    assert_eq!(fixture_templates(&t), Vec::<PathBuf>::new(), "{out}");
}

/// A bin directory holding only links to the server's binaries (as a
/// `~/bin` may): psql and pg_restore come from where `postgres` really
/// lives, the same installation, so nothing is said about them.
#[test]
fn linked_server_binaries_use_their_own_client_programs() {
    let t = TestRoot::new();
    let bin = t.mkdir("server-only/bin");
    for program in ["postgres", "initdb"] {
        std::os::unix::fs::symlink(Path::new(PSQL).with_file_name(program), bin.join(program))
            .expect("symlink");
    }
    let bindir = bin.to_str().expect("utf-8 path");
    t.write("schema.sql", SCHEMA);
    let h = t.start(&["--pg-bindir", bindir, "-f", "schema.sql", "-x", "citext"]);
    assert_eq!(query(&h.url, "select count(*)::text from fruit"), "2");
    assert_eq!(query(&h.url, "select ('A'::citext = 'a')::text"), "true");
    assert!(!h.out.stderr.contains("has no"), "{}", h.out);
}

/// An archive in a format newer than every pg_restore found is refused
/// before anything is loaded, naming the format, the pg_dump that made it
/// and the pg_restore versions there are.
#[test]
fn archive_newer_than_every_pg_restore_names_the_versions() {
    let t = TestRoot::new();
    // A custom-format header as a pg_dump 99 would write it: format 1.99.
    let mut header = b"PGDMP\x01\x63\x00\x04\x08\x01\x00".to_vec();
    for _ in 0..7 {
        header.extend([0, 1, 0, 0, 0]);
    }
    for s in ["test", "99.0", "99.1"] {
        header.push(0);
        header.extend((s.len() as u32).to_le_bytes());
        header.extend(s.as_bytes());
    }
    let path = t.join("future.dump");
    fs::write(&path, &header).expect("write the archive");
    set_mode(&path, 0o644);
    let out = t.pgtmp(["-f", "future.dump"]).run();
    out.assert_error(
        1,
        &[
            "archive format 1.99",
            "pg_dump 99.1",
            "15.",
            "reads up to 1.14",
            "hint:",
            "PGTMP_PG_PATH",
        ],
    );
    assert_eq!(fixture_templates(&t), Vec::<PathBuf>::new(), "{out}");
    assert_eq!(t.run_entries(), Vec::<String>::new(), "{out}");
}

#[test]
fn concurrent_first_calls_load_once() {
    let t = TestRoot::new();
    t.start(&[]); // the plain template, so the race is over the fixture
    t.write(
        "schema.sql",
        &format!("{SCHEMA}{}select pg_sleep(0.5);\n", mark(&t, "once")),
    );
    let urls: Vec<String> = std::thread::scope(|s| {
        let calls: Vec<_> = (0..3)
            .map(|_| s.spawn(|| t.start(&["-f", "schema.sql"]).url))
            .collect();
        calls
            .into_iter()
            .map(|c| c.join().expect("a call panicked"))
            .collect()
    });
    for url in &urls {
        assert_eq!(query(url, "select count(*)::text from fruit"), "2");
    }
    assert_eq!(
        runs(&t, "once"),
        1,
        "concurrent first calls loaded it more than once"
    );
    assert_eq!(fixture_templates(&t).len(), 1, "{}", t.logs());
}

/// SIGKILL in the middle of a load: its server dies with it, nothing is
/// handed out or published, and gc removes the half-made copy.
#[test]
fn killed_load_leaves_nothing_to_hand_out() {
    let t = TestRoot::new();
    t.start(&[]);
    t.write(
        "slow.sql",
        &format!(
            "create table t (x int);\n{}select pg_sleep(60);\n",
            mark(&t, "slow")
        ),
    );
    let (mut cmd, shown) = t.pgtmp(["-f", "slow.sql"]).command();
    cmd.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut child = cmd.spawn().unwrap_or_else(|e| panic!("{shown}: {e}"));
    assert!(
        poll::eventually(|| runs(&t, "slow") == 1),
        "the load never started\n{}",
        t.logs()
    );
    child.kill().expect("kill pgtmp");
    let _ = child.wait();
    t.assert_no_builder_left("the loading server");
    t.assert_only_debris_then_gc('f', "load");

    t.write("slow.sql", "create table t (x int);\n");
    let h = t.start(&["-f", "slow.sql"]);
    assert_eq!(query(&h.url, "select count(*)::text from t"), "0");
}

#[test]
fn gc_removes_fixture_templates() {
    let t = TestRoot::new();
    t.write("schema.sql", "create table v1 ();\n");
    let v1 = t.start(&["-f", "schema.sql"]);
    let old = fixture_templates(&t);
    t.write("schema.sql", "create table v2 ();\n");
    let v2 = t.start(&["-f", "schema.sql"]);
    let both = fixture_templates(&t);
    assert_eq!(both.len(), 2, "{}", t.logs());
    let new: Vec<PathBuf> = both.iter().filter(|p| !old.contains(p)).cloned().collect();
    assert!(
        poll::eventually(|| !t.refilling()),
        "refill still running\n{}",
        t.logs()
    );
    // A template stays while an instance handed out from it runs (`reset`
    // goes back to it): these have done their part.
    t.stop(&v1.url);
    t.stop(&v2.url);

    // Superseded by the edit and unused for an hour: removed; the current
    // version stays.
    let used = |template: &Path| template.with_extension("used");
    let backdate = |file: &Path, when: &str| {
        t.cmd("touch", ["-d", when, file.to_str().expect("utf-8")])
            .run()
            .assert_success();
    };
    backdate(&used(&old[0]), "1 hour ago");
    t.pgtmp(["gc"]).run().assert_success();
    assert_eq!(
        fixture_templates(&t),
        new,
        "gc kept a superseded fixture template"
    );

    // Unused for two days: removed too, with its pool.
    backdate(&used(&new[0]), "2 days ago");
    let out = t.pgtmp(["gc"]).run();
    out.assert_success();
    assert_eq!(fixture_templates(&t), Vec::<PathBuf>::new(), "{out}");
    let key = new[0].file_name().expect("name").to_owned();
    assert!(
        !t.base().join("pool").join(&key).exists(),
        "the pool of a removed fixture template is still there\n{out}"
    );
    assert_eq!(
        t.templates().len(),
        1,
        "the plain template must stay\n{out}"
    );

    // `gc --all` removes fresh ones as well. (Without spares: a spare
    // of the removed template, still running, would serve this call
    // without making the template again.)
    t.pgtmp(["-f", "schema.sql", "--spares", "0"])
        .run()
        .assert_success();
    assert_eq!(fixture_templates(&t).len(), 1);
    assert!(poll::eventually(|| !t.refilling()), "refill still running");
    t.pgtmp(["gc", "--all"]).run().assert_success();
    assert_eq!(fixture_templates(&t), Vec::<PathBuf>::new());
}

#[test]
fn fixtures_work_with_tcp_keep_and_exec() {
    let t = TestRoot::new();
    t.write("schema.sql", &format!("{SCHEMA}{}", mark(&t, "schema")));
    let h = t.start(&["-k", "-t", "-f", "schema.sql", "-x", "citext"]);
    assert!(h.url.starts_with("postgresql://"), "{}", h.out);
    assert!(h.url.contains("@127.0.0.1:"), "not a TCP URL: {}", h.out);
    assert_eq!(query(&h.url, "select count(*)::text from fruit"), "2");
    let data = t.instance(&h.url).data_dir;
    t.stop(&h.url);
    assert!(
        data.join("PG_VERSION").is_file(),
        "-k did not keep {}",
        data.display()
    );

    let out = t
        .pgtmp([
            "exec",
            "-f",
            "schema.sql",
            "-x",
            "citext",
            "--",
            PSQL,
            "-XtAc",
            "select string_agg(name, ',' order by id) from fruit",
        ])
        .run();
    out.assert_success();
    assert_eq!(out.stdout, "apple,pear\n", "{out}");
    assert_eq!(
        runs(&t, "schema"),
        1,
        "exec loaded the cached fixture again"
    );
}

#[test]
fn fixtures_for_an_ordinary_user() {
    let t = TestRoot::new();
    let who = if procs::is_root() {
        Who::User(user::ordinary())
    } else {
        Who::Me
    };
    t.write("schema.sql", &format!("{SCHEMA}{}", mark(&t, "user")));
    let first = t.start_as(who, &["-f", "schema.sql", "--now", "2001-02-03 04:05:06Z"]);
    let second = t.start_as(who, &["-f", "schema.sql", "--now", "2001-02-03 04:05:06Z"]);
    for h in [&first, &second] {
        let out = t
            .cmd(
                PSQL,
                [
                    h.url.as_str(),
                    "-XtAc",
                    "select count(*) || ' ' || extract(epoch from now())::bigint from fruit",
                ],
            )
            .who(who)
            .run();
        out.assert_success();
        assert_eq!(out.stdout, "2 981173106\n", "{out}");
    }
    assert_eq!(runs(&t, "user"), 1);
    assert_eq!(
        fixture_templates_of(&t.base_of(who)).len(),
        1,
        "{}",
        t.logs()
    );
}

/// A pipe (`-f <(cmd)`) would be read once to hash it, leaving nothing
/// to load: refused, as is a path that does not exist.
#[test]
fn pipes_and_missing_files_are_refused() {
    let t = TestRoot::new();
    t.cmd("mkfifo", ["fifo.sql"]).run().assert_success();
    let out = t.pgtmp(["-f", "fifo.sql"]).run();
    out.assert_error(1, &["fifo.sql", "not a regular file", "hint:"]);
    let out = t.pgtmp(["-f", "nowhere.sql"]).run();
    out.assert_error(1, &["nowhere.sql", "No such file"]);
    assert_eq!(t.run_entries(), Vec::<String>::new(), "{out}");
}

/// Issue 18.10: fixtures in a private (0700) directory, as `mktemp -d`
/// makes them, under a private working directory (a checkout under /root),
/// with `\ir` includes beside the script and `\i` ones from the working
/// directory: they load, as root (whose `--run-as` account cannot read
/// them) and as an ordinary user, by absolute path and relative to the
/// working directory.
#[test]
fn private_fixture_directories_load() {
    let t = TestRoot::new();
    let mut whos = vec![Who::Me];
    if procs::is_root() {
        whos.push(Who::User(user::ordinary()));
    }
    for who in whos {
        let name = match who {
            Who::Me => "mine",
            _ => "theirs",
        };
        let dir = t.join(name);
        let private = dir.join("private");
        t.write(
            format!("{name}/private/schema.sql"),
            &format!(
                "create table fruit (name text);\n\\ir data/{name}.sql\n\\i private/more.sql\n"
            ),
        );
        t.write(
            format!("{name}/private/data/{name}.sql"),
            "insert into fruit values ('apple');\n",
        );
        t.write(
            format!("{name}/private/more.sql"),
            "insert into fruit values ('pear');\n",
        );
        if let Who::User(u) = who {
            std::os::unix::fs::chown(&dir, Some(u.uid), Some(u.gid)).expect("chown");
            for entry in [
                "private",
                "private/schema.sql",
                "private/data",
                "private/more.sql",
            ] {
                std::os::unix::fs::chown(dir.join(entry), Some(u.uid), Some(u.gid)).expect("chown");
            }
            std::os::unix::fs::chown(
                dir.join(format!("private/data/{name}.sql")),
                Some(u.uid),
                Some(u.gid),
            )
            .expect("chown");
        }
        for p in [&dir, &private, &private.join("data")] {
            set_mode(p, 0o700);
        }
        for f in ["schema.sql", "more.sql"] {
            set_mode(&private.join(f), 0o600);
        }
        let schema = private.join("schema.sql");
        for arg in [schema.to_str().expect("utf-8"), "private/schema.sql"] {
            let out = t
                .pgtmp(["-f", arg, "-w", "0"])
                .who(who)
                .current_dir(&dir)
                .run();
            out.assert_success();
            let sql = "select string_agg(name, ',' order by name) from fruit";
            let got = t.cmd(PSQL, [out.one_line(), "-XtAc", sql]).who(who).run();
            got.assert_success();
            assert_eq!(got.stdout, "apple,pear\n", "{got}");
        }
    }
}

/// Issue 18.15: a NUL byte in an SQL script (or in one it includes) made
/// psql drop the rest of its line, silently, and the cut-short template
/// was cached. Refused, saying where, and nothing is cached.
#[test]
fn nul_bytes_in_scripts_are_refused() {
    let t = TestRoot::new();
    fs::write(
        t.join("nul.sql"),
        b"create table t (x int);\nselect 1;\0 drop table t;\n",
    )
    .expect("write");
    t.write("outer.sql", "create table u (x int);\n\\ir nul.sql\n");
    for (file, offset) in [("nul.sql", "at byte 33"), ("outer.sql", "at byte 33")] {
        let out = t.pgtmp(["-f", file, "-w", "0"]).run();
        out.assert_error(1, &["nul.sql", "NUL byte", offset, "hint:"]);
        assert_eq!(fixture_templates(&t), Vec::<PathBuf>::new(), "{out}");
        assert_eq!(t.run_entries(), Vec::<String>::new(), "{out}");
    }
}

#[test]
fn fixtures_and_datadir_do_not_mix() {
    let t = TestRoot::new();
    t.write("schema.sql", SCHEMA);
    let out = t.pgtmp(["-d", "data", "-f", "schema.sql"]).run();
    out.assert_code(2);
    assert!(!t.join("data").exists(), "{out}");
}
