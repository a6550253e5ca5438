//! `pgtmp prove`: pgTAP files each in a database of its own, with
//! pg_prove's verdicts, output and exit status — checked against the real
//! pg_prove on the same files — plus what pg_prove lacks (isolation, JUnit,
//! JSON, `--keep-failed`, `--fail-fast`) and the ways a run can go wrong
//! (no pgTAP, no such file, Ctrl-C).

use std::collections::BTreeSet;
use std::path::Path;

use crate::support::tty::Terminal;
use crate::support::{PSQL, TestRoot, Who, db, poll, procs, url, user};

const PG_PROVE: &str = "/usr/bin/pg_prove";

/// Files of every kind pg_prove tells apart.
const MIXED: &[(&str, &str)] = &[
    (
        "t/01_pass.sql",
        "BEGIN;\nSELECT plan(3);\nSELECT ok(true, 'truth');\nSELECT is(1 + 1, 2, 'sum');\n\
         SELECT pass('passes');\nSELECT * FROM finish();\nROLLBACK;\n",
    ),
    (
        "t/02_fail.sql",
        "BEGIN;\nSELECT plan(5);\nSELECT ok(true, 'first');\nSELECT is(1 + 1, 3, 'bad sum');\n\
         SELECT ok(false, 'false');\nSELECT pass('fourth');\nSELECT ok(false);\n\
         SELECT * FROM finish();\nROLLBACK;\n",
    ),
    (
        "t/03_error.sql",
        "BEGIN;\nSELECT plan(3);\nSELECT ok(true, 'before');\nSELECT * FROM no_such_table;\n\
         SELECT ok(true, 'after');\nSELECT * FROM finish();\nROLLBACK;\n",
    ),
    (
        "t/04_badplan.sql",
        "BEGIN;\nSELECT plan(3);\nSELECT ok(true, 'one');\nSELECT ok(true, 'two');\n\
         SELECT * FROM finish();\nROLLBACK;\n",
    ),
    (
        "t/05_todo_skip.sql",
        "BEGIN;\nSELECT plan(5);\nSELECT todo('not yet', 2);\nSELECT ok(false, 'todo fails');\n\
         SELECT ok(true, 'todo passes');\nSELECT skip('no reason', 2);\nSELECT diag('a diagnostic');\n\
         SELECT ok(true, 'last');\nSELECT * FROM finish();\nROLLBACK;\n",
    ),
    (
        "t/06_noplan.sql",
        "BEGIN;\nSELECT * FROM no_plan();\nSELECT ok(true, 'a');\nSELECT ok(true, 'b');\n\
         SELECT * FROM finish();\nROLLBACK;\n",
    ),
    ("t/07_nothing.sql", "SELECT 1 WHERE false;\n"),
    (
        "t/08_include.sql",
        "\\set QUIET 1\n\\ir setup/common.sql\nSELECT plan(1);\nSELECT is(:answer, 42, 'from setup');\n\
         SELECT * FROM finish();\n",
    ),
    ("t/setup/common.sql", "\\set answer 42\n"),
];

/// xUnit-style test functions for `runtests()`.
const XUNIT: &str = "CREATE SCHEMA tests;\n\
    CREATE TABLE users (id int PRIMARY KEY);\n\
    CREATE FUNCTION tests.setup_users() RETURNS SETOF TEXT AS $$ BEGIN INSERT INTO users VALUES (1); RETURN NEXT pass('setup'); END $$ LANGUAGE plpgsql;\n\
    CREATE FUNCTION tests.test_count() RETURNS SETOF TEXT AS $$ BEGIN RETURN NEXT is((SELECT count(*)::int FROM users), 1, 'one user'); END $$ LANGUAGE plpgsql;\n\
    CREATE FUNCTION tests.test_fail() RETURNS SETOF TEXT AS $$ BEGIN RETURN NEXT ok(false, 'nope'); END $$ LANGUAGE plpgsql;\n\
    CREATE FUNCTION tests.test_other() RETURNS SETOF TEXT AS $$ BEGIN RETURN NEXT pass('other'); END $$ LANGUAGE plpgsql;\n";

fn write_all(t: &TestRoot, files: &[(&str, &str)]) {
    for (rel, text) in files {
        t.write(rel, text);
    }
}

/// The summary's timing line without its times: pg_prove rounds the wall
/// clock to seconds, pgtmp does not.
fn normalized(stdout: &str) -> String {
    stdout
        .lines()
        .map(|l| match l.split_once(" wallclock secs") {
            Some((head, _)) => {
                let head = head.trim_end_matches(|c: char| c.is_ascii_digit() || c == '.');
                format!("{} [time]", head.trim_end())
            }
            None => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// pg_prove on `args` against a fresh `pgtmp -x pgtap` database (`setup`
/// loaded into it first).
fn pg_prove(t: &TestRoot, setup: Option<&str>, args: &[&str]) -> crate::support::command::Output {
    assert!(
        Path::new(PG_PROVE).exists(),
        "{PG_PROVE} is missing: run .ci/install-deps (Debian's libtap-parser-sourcehandler-pgtap-perl)"
    );
    let mut start = vec!["-x", "pgtap"];
    if let Some(s) = setup {
        start.extend(["-f", s]);
    }
    let h = t.start(&start);
    let u = url::socket(&h.url);
    let host = u.host.to_string_lossy().into_owned();
    // The socket URL names no user: the role is ours, libpq's default.
    let mut all = vec!["-h", host.as_str(), "-d", "test"];
    all.extend(args);
    t.cmd(PG_PROVE, all).run()
}

#[test]
fn verdicts_and_summary_match_pg_prove() {
    let t = TestRoot::new();
    write_all(&t, MIXED);
    for options in [
        &[][..],
        &["-v"],
        &["-q"],
        &["-Q"],
        &["--failures"],
        &["--directives"],
    ] {
        let mut args = vec!["--ext", ".sql"];
        args.extend(options);
        args.push("t");
        let ours = t.pgtmp(["prove"].iter().chain(&args)).run();
        let theirs = pg_prove(&t, None, &args);
        assert_eq!(ours.code(), Some(1), "{ours}");
        assert_eq!(theirs.code(), Some(1), "{theirs}");
        assert_eq!(
            normalized(&ours.stdout),
            normalized(&theirs.stdout),
            "`pgtmp prove {args:?}` and pg_prove differ\n--- ours ---\n{ours}\n--- pg_prove ---\n{theirs}"
        );
        // psql's error reaches stderr, as with pg_prove.
        let error = "psql:t/03_error.sql:4: ERROR:  relation \"no_such_table\" does not exist";
        assert!(ours.stderr.contains(error), "{ours}");
        assert!(theirs.stderr.contains(error), "{theirs}");
    }
    // In parallel: the same blocks, in the order files finish.
    let ours = t.pgtmp(["prove", "-j3", "--ext", ".sql", "t"]).run();
    let serial = t.pgtmp(["prove", "--ext", ".sql", "t"]).run();
    let blocks = |out: &str| -> BTreeSet<String> {
        out.split("\nTest Summary Report")
            .next()
            .unwrap_or_default()
            .split("t/")
            .map(str::to_string)
            .collect()
    };
    assert_eq!(
        blocks(&ours.stdout),
        blocks(&serial.stdout),
        "{ours}\n{serial}"
    );
    let tail = |out: &str| out.lines().last().map(str::to_string);
    assert_eq!(
        tail(&ours.stdout).as_deref(),
        Some("Result: FAIL"),
        "{ours}"
    );
}

#[test]
fn passing_runs_and_runtests_match_pg_prove() {
    let t = TestRoot::new();
    write_all(&t, MIXED);
    let args = [
        "--ext",
        ".sql",
        "t/01_pass.sql",
        "t/05_todo_skip.sql",
        "t/06_noplan.sql",
    ];
    let ours = t.pgtmp(["prove"].iter().chain(&args)).run();
    let theirs = pg_prove(&t, None, &args);
    ours.assert_success();
    theirs.assert_success();
    assert_eq!(
        normalized(&ours.stdout),
        normalized(&theirs.stdout),
        "{ours}\n{theirs}"
    );
    assert!(ours.stdout.contains("All tests successful.\n"), "{ours}");

    t.write("xunit.sql", XUNIT);
    for args in [
        &["-v", "-s", "tests"][..],
        &["-v", "--match", "count|other"],
    ] {
        let ours = t
            .pgtmp(["prove", "-f", "xunit.sql"].iter().chain(args))
            .run();
        // pg_prove's short option for --match is -x.
        let theirs_args: Vec<&str> = args
            .iter()
            .map(|a| if *a == "--match" { "-x" } else { a })
            .collect();
        let theirs = pg_prove(&t, Some("xunit.sql"), &theirs_args);
        assert_eq!(ours.code(), theirs.code(), "{ours}\n{theirs}");
        assert_eq!(
            normalized(&ours.stdout),
            normalized(&theirs.stdout),
            "{ours}\n{theirs}"
        );
    }
}

/// Each file checks that nothing of the others is there, then commits a
/// table and a row of its own.
fn isolation_files(t: &TestRoot, n: usize) {
    for i in 0..n {
        t.write(
            format!("iso/{i:02}.pg"),
            &format!(
                "SELECT plan(4);\n\
                 SELECT hasnt_table('leak', 'no table from another file');\n\
                 SELECT is((SELECT count(*)::int FROM seen), 1, 'the fixture row, alone');\n\
                 CREATE TABLE leak (file int);\n\
                 INSERT INTO leak VALUES ({i});\nINSERT INTO seen VALUES ({i});\n\
                 SELECT is((SELECT count(*)::int FROM leak), 1, 'one row');\n\
                 SELECT isnt(current_database(), 'test', 'a database of its own');\n\
                 SELECT * FROM finish();\n"
            ),
        );
    }
    t.write(
        "seen.sql",
        "CREATE TABLE seen (file int);\nINSERT INTO seen VALUES (-1);\n",
    );
}

#[test]
fn each_file_runs_in_a_database_of_its_own() {
    let t = TestRoot::new();
    isolation_files(&t, 6);
    // `-t`: over TCP with the password (SCRAM), psql's and ours.
    t.write("iso/copy.pg", "CREATE TABLE c (a int);\nCOPY c FROM STDIN;\n1\n\\.\nSELECT plan(4);\n\
        SELECT hasnt_table('leak', 'no table from another file');\nSELECT pass('a');\nSELECT pass('b');\n\
        SELECT is((SELECT count(*)::int FROM c), 1, 'copied');\n");
    for extra in [
        &[][..],
        &["-j3"],
        &["-j2", "--shuffle", "-t"],
        &["--reverse"],
    ] {
        let out = t
            .pgtmp(
                ["prove", "-f", "seen.sql"]
                    .iter()
                    .chain(extra)
                    .chain(&["iso"]),
            )
            .run();
        out.assert_success();
        assert!(out.stdout.contains("Files=7, Tests=28,"), "{out}");
        assert!(out.stdout.ends_with("Result: PASS\n"), "{out}");
    }
    // The server of a run is gone once it returns.
    assert!(poll::eventually(|| t.list().is_empty()), "{:?}", t.list());
}

/// As root, the server comes from a child `pgtmp start`; as anyone else,
/// from the hand-out in `prove`'s own process. Both ways, the tests are
/// read and the reports written as the caller.
#[test]
fn root_and_ordinary_users_alike() {
    let t = TestRoot::new();
    isolation_files(&t, 3);
    let mut whos = vec![Who::Me];
    if procs::is_root() {
        whos.push(Who::User(user::ordinary()));
    }
    for who in whos {
        let home = t.home_of(who);
        let dir = if who == Who::Me {
            t.path().to_path_buf()
        } else {
            home
        };
        let report = dir.join("report.xml");
        let out = t
            .pgtmp([
                "prove".as_ref(),
                "-f".as_ref(),
                t.join("seen.sql").as_os_str(),
                "--junit".as_ref(),
                report.as_os_str(),
                t.join("iso").as_os_str(),
            ])
            .who(who)
            .current_dir(&dir)
            .run();
        out.assert_success();
        assert!(out.stdout.contains("Files=3, Tests=12,"), "{out}");
        assert!(report.is_file(), "no report\n{out}");
        assert!(
            poll::eventually(|| t.list_as(who).is_empty()),
            "{:?}",
            t.list_as(who)
        );
    }
}

/// The refill after the run's hand-out (a spare in place of the one it
/// claimed) waits until the run is over, so that it takes no CPU from the
/// files; then it runs. Root (a child hands out) and an ordinary user (in
/// process) alike.
#[test]
fn the_refill_waits_for_the_run() {
    let t = TestRoot::new();
    t.write("quick/1.pg", "SELECT plan(1);\nSELECT pass('quick');\n");
    t.write(
        "slow/1.pg",
        "SELECT plan(1);\nSELECT pg_sleep(3);\nSELECT pass('slept');\n",
    );
    let mut whos = vec![Who::Me];
    if procs::is_root() {
        whos.push(Who::User(user::ordinary()));
    }
    for who in whos {
        let prove = |dir: &str| {
            t.pgtmp(["prove".as_ref(), t.join(dir).as_os_str()])
                .who(who)
        };
        // Builds the template; its refill starts a spare of the class.
        prove("quick").run().assert_success();
        assert!(
            poll::eventually(|| !t.refilling() && !t.spares_of(who).is_empty()),
            "no spare after the first run\n{}",
            t.logs()
        );
        let before: BTreeSet<String> = t.spares_of(who).into_iter().collect();
        let mut running = prove("slow").spawn(|_| {});
        // The run claims one of them; no new one starts while it runs
        // (spares read, then the run seen still going).
        loop {
            let new: Vec<String> = t
                .spares_of(who)
                .into_iter()
                .filter(|s| !before.contains(s))
                .collect();
            if running.finished() {
                break;
            }
            assert!(
                new.is_empty(),
                "a spare started while the run went on: {new:?}"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        let out = running.wait();
        out.assert_success();
        assert!(out.stdout.contains("Files=1, Tests=1,"), "{out}");
        assert!(
            poll::eventually(|| t.spares_of(who).iter().any(|s| !before.contains(s))),
            "no spare started after the run\n{}",
            t.logs()
        );
    }
}

#[test]
fn shuffle_with_state_replays_and_selects() {
    let t = TestRoot::new();
    for i in 0..6 {
        let body = if i == 3 {
            "SELECT fail('three');"
        } else {
            "SELECT pass('fine');"
        };
        t.write(format!("s/{i}.pg"), &format!("SELECT plan(1);\n{body}\n"));
    }
    let order = |stdout: &str| -> Vec<String> {
        stdout
            .lines()
            .filter(|l| l.starts_with("s/") && l.contains(" .."))
            .map(|l| l.split(' ').next().unwrap_or_default().to_string())
            .collect()
    };
    let first = t.pgtmp(["prove", "--shuffle", "--state=save", "s"]).run();
    first.assert_code(1);
    assert!(t.join(".pgtmp-prove").is_file(), "no state file\n{first}");
    let again = t.pgtmp(["prove", "--state=last"]).run();
    assert_eq!(
        order(&again.stdout),
        order(&first.stdout),
        "{first}\n{again}"
    );
    assert_eq!(order(&first.stdout).len(), 6, "{first}");
    let failed = t.pgtmp(["prove", "--state=failed"]).run();
    assert_eq!(order(&failed.stdout), vec!["s/3.pg"], "{failed}");
    t.pgtmp(["prove", "--state=bogus", "s"])
        .run()
        .assert_error(1, &["illegal state option: bogus"]);
}

#[test]
fn junit_and_json_reports() {
    let t = TestRoot::new();
    write_all(&t, MIXED);
    let out = t
        .pgtmp([
            "prove",
            "--ext",
            ".sql",
            "--junit",
            "report.xml",
            "--json",
            "report.json",
            "t",
        ])
        .run();
    out.assert_code(1);
    let xml = std::fs::read_to_string(t.join("report.xml")).expect("report.xml");
    let doc = roxmltree::Document::parse(&xml).unwrap_or_else(|e| panic!("bad XML: {e}\n{xml}"));
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "testsuites");
    let suites: Vec<_> = root
        .children()
        .filter(|n| n.has_tag_name("testsuite"))
        .collect();
    assert_eq!(suites.len(), 8, "{xml}");
    let suite = |name: &str| {
        *suites
            .iter()
            .find(|s| s.attribute("name") == Some(name))
            .unwrap_or_else(|| panic!("no testsuite {name}\n{xml}"))
    };
    let cases = |name: &str| -> Vec<roxmltree::Node> {
        suite(name)
            .children()
            .filter(|n| n.has_tag_name("testcase"))
            .collect()
    };
    let fail = cases("t/02_fail.sql");
    assert_eq!(fail.len(), 5);
    let failed: Vec<&str> = fail
        .iter()
        .filter(|c| c.children().any(|n| n.has_tag_name("failure")))
        .map(|c| c.attribute("name").unwrap_or_default())
        .collect();
    assert_eq!(failed, vec!["2 - bad sum", "3 - false", "5"], "{xml}");
    let bad_sum = fail[1]
        .children()
        .find(|n| n.has_tag_name("failure"))
        .unwrap();
    assert!(
        bad_sum.text().unwrap_or_default().contains("have: 2"),
        "{xml}"
    );
    for c in &fail {
        let time: f64 = c.attribute("time").unwrap_or("x").parse().expect("a time");
        assert!(time >= 0.0);
    }
    let error = cases("t/03_error.sql");
    let file = error
        .iter()
        .find(|c| c.attribute("name") == Some("(file)"))
        .unwrap_or_else(|| panic!("no (file) case for the SQL error\n{xml}"));
    let text = file.children().find(|n| n.has_tag_name("error")).unwrap();
    assert!(
        text.text().unwrap_or_default().contains("no_such_table"),
        "{xml}"
    );
    let todo = cases("t/05_todo_skip.sql");
    let skipped = todo
        .iter()
        .filter(|c| c.children().any(|n| n.has_tag_name("skipped")))
        .count();
    assert_eq!(skipped, 3, "a failing TODO and two SKIPs\n{xml}");

    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(t.join("report.json")).unwrap()).unwrap();
    assert_eq!(json["result"], "FAIL");
    assert_eq!(json["files"], 8);
    assert_eq!(json["tests"], 19);
    let runs = json["runs"].as_array().unwrap();
    let run = |name: &str| runs.iter().find(|r| r["name"] == name).unwrap();
    assert_eq!(run("t/02_fail.sql")["failed"], serde_json::json!([2, 3, 5]));
    assert_eq!(run("t/03_error.sql")["exit"], 3);
    assert_eq!(run("t/03_error.sql")["runner"], "in-process");
    assert!(
        run("t/03_error.sql")["stderr"]
            .as_str()
            .unwrap()
            .contains("no_such_table")
    );
    let assertion = &run("t/01_pass.sql")["assertions"][1];
    assert_eq!(assertion["name"], "sum");
    assert!(assertion["duration_secs"].as_f64().is_some());
}

#[test]
fn scripts_that_need_psql_run_with_psql() {
    let t = TestRoot::new();
    t.write(
        "p/copy.pg",
        "CREATE TABLE c (a int);\nCOPY c FROM STDIN;\n1\n2\n\\.\n\
         SELECT plan(1);\nSELECT is((SELECT count(*)::int FROM c), 2, 'copied');\n",
    );
    t.write("p/plain.pg", "SELECT plan(1);\nSELECT pass('plain');\n");
    let out = t.pgtmp(["prove", "--json", "r.json", "p"]).run();
    out.assert_success();
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(t.join("r.json")).unwrap()).unwrap();
    let runner = |i: usize| json["runs"][i]["runner"].as_str().unwrap().to_string();
    assert_eq!([runner(0), runner(1)], ["psql", "in-process"], "{json}");
}

/// psql honours PGOPTIONS and PGTZ; so do files run in-process.
#[test]
fn libpq_session_variables_reach_the_files() {
    let t = TestRoot::new();
    let check = "SELECT plan(2);\n\
                 SELECT is(current_setting('TimeZone'), 'Asia/Tokyo', 'PGTZ');\n\
                 SELECT is(current_setting('work_mem'), '7MB', 'PGOPTIONS');\n";
    t.write("e/in_process.pg", check);
    t.write(
        "e/psql.pg",
        &format!("\\copy (SELECT 1) TO '/dev/null'\n{check}"),
    );
    let out = t
        .pgtmp(["prove", "--json", "e.json", "e"])
        .env("PGTZ", "Asia/Tokyo")
        .env("PGOPTIONS", "-c work_mem=7MB")
        .run();
    out.assert_success();
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(t.join("e.json")).unwrap()).unwrap();
    let runners: BTreeSet<String> = json["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["runner"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(runners.len(), 2, "both ways: {json}");
}

#[test]
fn fail_fast_and_keep_failed() {
    let t = TestRoot::new();
    t.write("f/1.pg", "SELECT plan(1);\nSELECT pass('one');\n");
    t.write(
        "f/2.pg",
        "CREATE TABLE evidence (x int);\nINSERT INTO evidence VALUES (7);\n\
         SELECT plan(1);\nSELECT fail('two');\n",
    );
    t.write("f/3.pg", "SELECT plan(1);\nSELECT pass('three');\n");
    let out = t.pgtmp(["prove", "--fail-fast", "f"]).run();
    out.assert_code(1);
    assert!(out.stdout.contains("Files=2, Tests=2,"), "{out}");
    assert!(!out.stdout.contains("f/3.pg"), "{out}");
    assert!(
        out.stderr.contains("1 of 3 test files did not run"),
        "{out}"
    );

    let out = t.pgtmp(["prove", "--keep-failed", "f"]).run();
    out.assert_code(1);
    let kept = kept_url(&out, "f/2.pg");
    let mut client = db::connect(&kept);
    assert_eq!(db::text(&mut client, "SELECT x::text FROM evidence"), "7");
    drop(client);
    t.pgtmp(["stop", &kept]).run().assert_success();
}

/// The URL `--keep-failed` printed for `file`'s database.
fn kept_url(out: &crate::support::command::Output, file: &str) -> String {
    out.stderr
        .lines()
        .find_map(|l| l.trim().strip_prefix(file))
        .map(|url| url.trim().to_string())
        .unwrap_or_else(|| panic!("no kept URL for {file}\n{out}"))
}

/// A long run drops the databases of old finished files (not those kept
/// for `--keep-failed`), so that a big suite does not fill the tmpfs.
#[test]
fn long_runs_drop_old_databases() {
    let t = TestRoot::new();
    for i in 0..34 {
        t.write(
            format!("l/{i:02}.pg"),
            "SELECT plan(1);\nSELECT pass('x');\n",
        );
    }
    t.write("l/00_fails.pg", "SELECT plan(1);\nSELECT fail('kept');\n");
    let out = t.pgtmp(["prove", "--keep-failed", "l"]).run();
    out.assert_code(1);
    assert!(out.stdout.contains("Files=35, Tests=35,"), "{out}");
    let kept = kept_url(&out, "l/00_fails.pg");
    let mut client = db::connect(&kept);
    let count = |client: &mut postgres::Client| -> i64 {
        db::text(
            client,
            "SELECT count(*)::text FROM pg_database WHERE datname LIKE 'prove%'",
        )
        .parse()
        .unwrap()
    };
    // 24 kept by the janitor, the failing one, and a few still in hand.
    let n = count(&mut client);
    assert!((25..=30).contains(&n), "{n} databases left of 35\n{out}");
    drop(client);
    t.pgtmp(["stop", &kept]).run().assert_success();
}

#[test]
fn missing_files_and_options_are_clear_errors() {
    let t = TestRoot::new();
    t.mkdir("empty");
    t.pgtmp(["prove", "nope.sql"])
        .run()
        .assert_error(1, &["nope.sql", "No such file or directory"]);
    t.pgtmp(["prove", "nodir/"])
        .run()
        .assert_error(1, &["nodir"]);
    // No t/ directory and nothing named.
    t.pgtmp(["prove"])
        .run()
        .assert_error(1, &["no test files named"]);
    // A directory without *.pg: pg_prove's verdict, and a hint about --ext.
    t.write("empty/a.sql", "SELECT 1;\n");
    let none = t.pgtmp(["prove", "empty"]).run();
    none.assert_success();
    assert!(none.stdout.contains("Result: NOTESTS"), "{none}");
    assert!(none.stderr.contains("--ext .sql"), "{none}");
    t.pgtmp(["prove", "-U", "me", "empty"])
        .run()
        .assert_error(2, &["`-U/--username` has no meaning"]);
    t.pgtmp(["prove", "-R", "empty"])
        .run()
        .assert_error(1, &["takes no PATH"]);
    t.pgtmp(["prove", "-F", "json", "empty"])
        .run()
        .assert_code(2);
}

#[test]
fn interrupted_runs_report_what_ran_and_leave_nothing() {
    let t = TestRoot::new();
    t.write("i/1.pg", "SELECT plan(1);\nSELECT pass('quick');\n");
    t.write(
        "i/2.pg",
        "SELECT plan(1);\nSELECT pg_sleep(120);\nSELECT pass('slow');\n",
    );
    t.write("i/3.pg", "SELECT plan(1);\nSELECT pass('never');\n");
    // Ctrl-C typed into a terminal: SIGINT to the whole foreground group.
    let mut term = Terminal::open();
    let running = t.pgtmp(["prove", "i"]).spawn(|cmd| term.attach(cmd));
    assert!(
        poll::eventually(|| running.stdout().contains("i/1.pg .. ok")),
        "the first file did not finish: {}",
        running.stderr()
    );
    // The slow file's backend is running pg_sleep.
    assert!(
        poll::eventually(|| !t.list().is_empty()),
        "no instance listed"
    );
    term.interrupt();
    let out = running.wait();
    out.assert_code(130);
    assert!(out.stdout.contains("Test run interrupted!"), "{out}");
    assert!(out.stdout.contains("Files=1, Tests=1,"), "{out}");
    assert!(!out.stdout.contains("i/3.pg"), "{out}");
    assert!(poll::eventually(|| t.list().is_empty()), "{:?}", t.list());
}

#[test]
fn without_pgtap_the_error_names_the_package() {
    let t = TestRoot::new();
    let bindir = install_without_pgtap(&t);
    t.write("t/a.pg", "SELECT plan(1);\nSELECT pass('x');\n");
    t.pgtmp(["prove", "--pg-bindir", bindir.to_str().unwrap(), "t"])
        .run()
        .assert_error(
            1,
            &[
                "pgTAP is not installed",
                "apt-get install postgresql-15-pgtap",
            ],
        );
}

/// PostgreSQL 15 as installed, but without pgTAP: copies of the programs
/// (which find their share directory next to where they are) and links to
/// everything else except pgTAP's extension files.
fn install_without_pgtap(t: &TestRoot) -> std::path::PathBuf {
    let real_bin = Path::new(PSQL).parent().unwrap();
    let prefix = t.mkdir("pg");
    let bin = t.mkdir("pg/usr/lib/postgresql/15/bin");
    for program in ["postgres", "initdb", "psql", "pg_ctl"] {
        std::fs::copy(real_bin.join(program), bin.join(program)).unwrap();
    }
    std::os::unix::fs::symlink(
        "/usr/lib/postgresql/15/lib",
        prefix.join("usr/lib/postgresql/15/lib"),
    )
    .unwrap();
    let share = t.mkdir("pg/usr/share/postgresql/15/extension");
    let real_share = Path::new("/usr/share/postgresql/15");
    for entry in std::fs::read_dir(real_share).unwrap() {
        let entry = entry.unwrap();
        if entry.file_name() != "extension" {
            std::os::unix::fs::symlink(
                entry.path(),
                share.parent().unwrap().join(entry.file_name()),
            )
            .unwrap();
        }
    }
    for entry in std::fs::read_dir(real_share.join("extension")).unwrap() {
        let entry = entry.unwrap();
        if !entry.file_name().to_string_lossy().starts_with("pgtap") {
            std::os::unix::fs::symlink(entry.path(), share.join(entry.file_name())).unwrap();
        }
    }
    bin
}

/// On a terminal, a progress line on stderr while files run; never on
/// stdout, and none when stderr is not a terminal.
#[test]
fn progress_line_on_a_terminal() {
    let t = TestRoot::new();
    for i in 0..3 {
        t.write(
            format!("p/{i}.pg"),
            "SELECT plan(2);\nSELECT pass('a');\nSELECT pg_sleep(0.4);\nSELECT pass('b');\n",
        );
    }
    let mut term = Terminal::open();
    let out = t.pgtmp(["prove", "p"]).spawn(|cmd| term.stderr(cmd)).wait();
    out.assert_success();
    let shown = term.written();
    assert!(
        shown.contains("files, ") && shown.contains("p/"),
        "no progress line: {shown:?}"
    );
    assert!(
        shown.contains("\r\x1b[K"),
        "the line is not redrawn in place: {shown:?}"
    );
    assert!(!out.stdout.contains('\r'), "{out}");
    let plain = t.pgtmp(["prove", "p"]).run();
    assert!(!plain.stderr.contains("files, "), "{plain}");
}
