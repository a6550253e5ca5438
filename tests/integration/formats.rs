//! `-F FORMAT`: the same instance printed as a URL, a JDBC URL, libpq's
//! key=value form, `export` lines or JSON. Each form must name the server
//! `list` shows, reach it with a real client, and be taken by `pgtmp stop`.

use pgtmp::json::Connection;
use serde_json::Value;

use crate::support::{PSQL, TestRoot, db, poll, procs};

fn psql(t: &TestRoot, conninfo: &str) -> String {
    let out = t
        .cmd(
            PSQL,
            [
                conninfo,
                "-X",
                "-tA",
                "-c",
                "select current_user || '@' || current_database()",
            ],
        )
        .run();
    out.assert_success();
    out.stdout.trim().to_string()
}

fn me_at_test() -> String {
    format!("{}@test", procs::my_name())
}

#[test]
fn json_names_every_field_of_the_instance() {
    let t = TestRoot::new();
    for tcp in [false, true] {
        let args: &[&str] = if tcp {
            &["-F", "json", "-t"]
        } else {
            &["-F", "json"]
        };
        let out = t.pgtmp(args).run();
        out.assert_success();
        let raw: Value =
            serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("not JSON: {e}\n{out}"));
        // Every field is there, even those that may be null.
        let fields = serde_json::to_value(Connection::default()).unwrap();
        for key in fields.as_object().unwrap().keys() {
            assert!(raw.get(key).is_some(), "no `{key}`\n{out}");
        }
        let v: Connection =
            serde_json::from_value(raw).unwrap_or_else(|e| panic!("not a Connection: {e}\n{out}"));
        let inst = t.instance(&v.url);
        assert_eq!(v.pid, Some(inst.pid), "{out}");
        assert_eq!(v.supervisor_pid, Some(inst.supervisor_pid), "{out}");
        assert_eq!(v.port, inst.port, "{out}");
        assert_eq!(v.tcp, tcp, "{out}");
        assert_eq!(v.data_dir, inst.data_dir, "{out}");
        assert_eq!(v.database, "test", "{out}");
        assert_eq!(v.user, procs::my_name(), "{out}");
        assert!(inst.dir.ends_with(&v.id), "{out}");
        let major = std::fs::read_to_string(inst.data_dir.join("PG_VERSION")).unwrap();
        assert!(
            v.version.starts_with(&format!("{}.", major.trim())),
            "{out}"
        );
        if tcp {
            assert_eq!(v.host, "127.0.0.1", "{out}");
            let password = v.password.as_deref().unwrap_or_else(|| panic!("{out}"));
            assert!(v.url.contains(&format!(":{password}@")), "{out}");
            let jdbc = v.jdbc.as_deref().unwrap_or_else(|| panic!("{out}"));
            assert!(jdbc.starts_with("jdbc:postgresql://127.0.0.1:"), "{out}");
        } else {
            assert_eq!(v.host, v.socket_dir.to_str().unwrap(), "{out}");
            assert!(v.password.is_none() && v.jdbc.is_none(), "{out}");
        }
        assert_eq!(psql(&t, &v.dsn), me_at_test(), "{out}");
        let mut client = db::connect(&v.url);
        assert_eq!(db::text(&mut client, "select current_database()"), "test");
    }
}

/// JDBC has no Unix sockets: `-F jdbc` hands out a TCP instance, and
/// `pgtmp stop` takes the JDBC URL back.
#[test]
fn jdbc_implies_tcp() {
    let t = TestRoot::new();
    let h = t.start(&["-F", "jdbc"]);
    let jdbc = &h.url;
    assert!(
        jdbc.starts_with("jdbc:postgresql://127.0.0.1:"),
        "{}",
        h.out
    );
    let all = t.list();
    assert_eq!(all.len(), 1, "{}", h.out);
    let inst = &all[0];
    assert!(inst.tcp, "{}", inst.raw);
    let password = crate::support::url::tcp(&inst.url).password;
    assert_eq!(
        *jdbc,
        format!(
            "jdbc:postgresql://127.0.0.1:{}/test?user={}&password={password}&sslmode=disable",
            inst.port,
            procs::my_name()
        )
    );
    t.stop(jdbc);
    assert!(poll::eventually(|| !procs::alive(inst.pid)), "{}", h.out);
}

#[test]
fn dsn_reaches_the_server_and_stops_it() {
    let t = TestRoot::new();
    for args in [&["-F", "dsn"][..], &["-F", "dsn", "-t"]] {
        let h = t.start(args);
        assert!(h.url.starts_with("host="), "{}", h.out);
        assert_eq!(psql(&t, &h.url), me_at_test(), "{}", h.out);
        t.stop(&h.url);
        assert!(poll::eventually(|| t.list().is_empty()), "{}", h.out);
    }
}

/// A base directory with a space and a quote in it: every form quotes the
/// socket directory so that its reader gets it back whole.
#[test]
fn forms_survive_odd_socket_paths() {
    let t = TestRoot::new();
    let base = t.mkdir("it's a dir").join("base");
    let pgtmp = |args: &[&str]| {
        let out = t.pgtmp(args).env("PGTMP_DIR", &base).run();
        out.assert_success();
        out.stdout.trim_end().to_string()
    };
    let url = pgtmp(&[]);
    assert_eq!(psql(&t, &url), me_at_test());
    let with_user = pgtmp(&["-F", "url-with-user"]);
    assert_eq!(psql(&t, &with_user), me_at_test());
    let dsn = pgtmp(&["-F", "dsn"]);
    assert!(dsn.starts_with("host='"), "{dsn}");
    assert_eq!(psql(&t, &dsn), me_at_test());
    let env = pgtmp(&["-F", "env"]);
    let script =
        format!("{env}\n{PSQL} -X -tA -c \"select current_user || '@' || current_database()\"");
    let out = t.cmd("/bin/sh", ["-c", &script]).run();
    out.assert_success();
    assert_eq!(out.stdout.trim(), me_at_test(), "{out}");
    let stop = t.pgtmp(["stop", "--all"]).env("PGTMP_DIR", &base).run();
    stop.assert_success();
}

/// `eval "$(pgtmp -F env)"` replaces what the shell had: a stale password
/// and variables that would send libpq elsewhere are unset.
#[test]
fn env_lines_set_and_unset() {
    let t = TestRoot::new();
    let lines = t.pgtmp(["-F", "env"]).run();
    lines.assert_success();
    let script = format!(
        "{}\nprintf '%s|%s|%s\\n' \"${{PGPASSWORD-unset}}\" \"${{PGHOSTADDR-unset}}\" \"${{PGSERVICE-unset}}\"\n\
         {PSQL} -X -tA -c 'select current_database()'\necho \"$DATABASE_URL\"",
        lines.stdout
    );
    let out = t
        .cmd("/bin/sh", ["-c", &script])
        .env("PGPASSWORD", "stale")
        .env("PGHOSTADDR", "127.0.0.2")
        .env("PGSERVICE", "elsewhere")
        .run();
    out.assert_success();
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines[..2], ["unset|unset|unset", "test"], "{out}");
    assert!(t.listed(lines[2]), "DATABASE_URL is the listed URL\n{out}");
}

/// `-F url-with-user`: the socket URL in pg_tmp's shape but for the user,
/// as `postgresql://NAME@/test?host=...` (still nothing a shell splits on);
/// the TCP URL, which names it already, as it is. `stop` takes both.
#[test]
fn url_with_user_names_the_role() {
    let t = TestRoot::new();
    let h = t.start(&["-F", "url-with-user"]);
    let prefix = format!("postgresql://{}@/test?host=%2F", procs::my_name());
    assert!(h.url.starts_with(&prefix), "{}", h.out);
    assert!(!h.url.contains(['&', ' ', ';', '\'']), "{}", h.out);
    let inst = t.list().pop().expect("listed");
    assert_eq!(
        h.url.split_once("host=").map(|(_, host)| host),
        inst.url.split_once("host=").map(|(_, host)| host),
        "the same server as `list` shows"
    );
    assert_eq!(psql(&t, &h.url), me_at_test());
    t.stop(&h.url);
    let tcp = t.start(&["-t", "-F", "url-with-user"]);
    assert!(t.listed(&tcp.url), "{}", tcp.out);
    t.stop(&tcp.url);
}

/// The multi-line forms keep a newline after every line, terminal or not;
/// the one-line forms end without one when stdout is not a terminal.
#[test]
fn only_multi_line_forms_end_in_a_newline() {
    let t = TestRoot::new();
    for (form, lines) in [
        ("env", true),
        ("json", true),
        ("dsn", false),
        ("url", false),
    ] {
        let out = t.pgtmp(["-F", form, "-w", "0"]).run();
        out.assert_success();
        assert_eq!(out.stdout.ends_with('\n'), lines, "{out}");
        if !lines {
            out.one_line();
        }
    }
    t.pgtmp(["stop", "--all"]).run().assert_success();
}

#[test]
fn format_is_a_start_option() {
    let t = TestRoot::new();
    t.pgtmp(["-F", "json", "list"]).run().assert_code(2);
    t.pgtmp(["-F", "yaml"]).run().assert_code(2);
    assert!(t.run_entries().is_empty());
}
