//! pgtmp as a drop-in for pg_tmp: installed as `pg_tmp` (a symbolic link),
//! the idioms of projects that call pg_tmp run unchanged: the URL
//! interpolated unquoted, the socket directory cut out of it, a raw capture
//! of stdout, options before the subcommand, `initdb` → `start -d` →
//! `stop -d`, and `stop` with pg_tmp's `-k`, `-w` and `-d`.

use std::ffi::OsString;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::support::tty::Terminal;
use crate::support::{TestRoot, Who, db, poll, procs, url, user};

const PG_BIN: &str = "/usr/lib/postgresql/15/bin";

/// A directory holding `pg_tmp`, a symbolic link to the pgtmp `who` runs.
fn pg_tmp_link(t: &TestRoot, who: Who) -> PathBuf {
    let dir = t.mkdir(match who {
        Who::Me => "pg_tmp-me",
        _ => "pg_tmp-user",
    });
    let target = match who {
        Who::Me => PathBuf::from(env!("CARGO_BIN_EXE_pgtmp")),
        _ => {
            // The harness copies the binary for other users on first use.
            t.pgtmp(["--version"]).who(who).run().assert_success();
            t.join("bin/pgtmp")
        }
    };
    let link = dir.join("pg_tmp");
    if !link.exists() {
        std::os::unix::fs::symlink(target, &link).expect("symlink pg_tmp");
    }
    dir
}

fn path_with(dir: &Path) -> OsString {
    std::env::join_paths([
        dir,
        Path::new(PG_BIN),
        Path::new("/usr/bin"),
        Path::new("/bin"),
    ])
    .expect("a joinable PATH")
}

/// The idioms of issue 16, verbatim, in one shell script run by `sh`.
const IDIOMS: &str = r#"set -eu
# Options before the subcommand; the URL interpolated unquoted, through sh -c.
url=$(pg_tmp -w 0 start)
sh -c "psql -XAt $url -c 'select 1'"
# The socket directory cut out of the URL, for a tool's --host.
host=$(echo $url | cut -d= -f2 | sed 's/%2F/\//g')
psql -XAt --host $host test -c 'select 2'
# Stopped by the socket directory taken from the URL.
pg_tmp stop -d "$(echo ${url#*=} | sed 's:%2F:/:g')"
test -e "$host" || echo 3
# initdb, start -d, stop -d with the same directory.
d=$(pg_tmp initdb)
url=$(pg_tmp start -d $d)
psql -XAt $url -c 'select 4'
pg_tmp stop -d $d
test -e $d || echo 5
# Options first again (-k -d DIR start), then pg_tmp's own stopper's order.
d=$(pg_tmp initdb)
url=$(pg_tmp -k -d $d -t start)
port=$(echo $url | sed 's/.*:\([0-9]*\)\/test.*/\1/')
PGPASSWORD=$(echo $url | sed 's/.*:\(.*\)@.*/\1/') psql -XAt -h 127.0.0.1 -p $port test -c 'select 6'
pg_tmp -w 1 -d $d -p $port stop
test -f $d/PG_VERSION && echo 7
pg_tmp stop -d $d
test -e $d || echo 8
# A Makefile interpolating it unquoted.
url=$(pg_tmp)
printf 'all:\n\t@psql -XAt $(URL) -c "select 9"\n' | make -s -f - URL=$url
pg_tmp stop $url
"#;

#[test]
fn idioms_run_verbatim_as_pg_tmp() {
    let t = TestRoot::new();
    let mut whos = vec![Who::Me];
    if procs::is_root() {
        whos.push(Who::User(user::ordinary()));
    }
    for who in whos {
        let bin = pg_tmp_link(&t, who);
        let script = t.join("idioms.sh");
        std::fs::write(&script, IDIOMS).expect("write the script");
        let out = t
            .cmd("/bin/sh", [&script])
            .who(who)
            .env("PATH", path_with(&bin))
            .env("PGTMP_STANDBY", "0")
            .run();
        out.assert_success();
        assert_eq!(out.stdout, "1\n2\n3\n4\n5\n6\n7\n8\n9\n", "{out}");
        assert!(
            poll::eventually(|| t.list_as(who).is_empty()),
            "an instance is left\n{out}"
        );
    }
}

/// A raw capture, as Ruby backticks without `chomp` and a Rust
/// `String::from_utf8(out.stdout)` take it, is the URL itself.
#[test]
fn raw_captures_are_the_url() {
    let t = TestRoot::new();
    let bin = pg_tmp_link(&t, Who::Me);
    let out = Command::new(bin.join("pg_tmp"))
        .env("PGTMP_DIR", t.base())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .output()
        .expect("run pg_tmp");
    assert!(out.status.success());
    let url = String::from_utf8(out.stdout).expect("UTF-8");
    let mut client = db::connect(&url);
    assert_eq!(db::text(&mut client, "select 'raw'"), "raw");
    drop(client);
    t.stop(&url);
    let ruby = r#"url = `pg_tmp`; puts PG.connect(url).exec("select 'ruby'").getvalue(0, 0); system("pg_tmp stop #{url}")"#;
    let out = t
        .cmd("/usr/bin/ruby", ["-rpg", "-e", ruby])
        .env("PATH", path_with(&bin))
        .run();
    out.assert_success();
    assert_eq!(out.stdout, "ruby\n", "{out}");
    assert!(poll::eventually(|| t.list().is_empty()), "{out}");
}

/// On a terminal the URL (and `initdb`'s path) ends in a newline, as
/// pg_tmp's `echo`; elsewhere not (see `raw_captures_are_the_url`).
#[test]
fn a_terminal_gets_a_newline() {
    let t = TestRoot::new();
    for args in [&["-w", "0"][..], &["initdb"]] {
        let mut terminal = Terminal::open();
        let (mut cmd, shown) = t.pgtmp(args).command();
        terminal.as_stdout(&mut cmd);
        cmd.stderr(Stdio::null()).stdin(Stdio::null());
        let status = cmd.status().expect("run pgtmp");
        assert!(status.success(), "{shown}");
        let text = terminal.output();
        // The terminal turns "\n" into "\r\n".
        assert!(text.ends_with("\r\n"), "{shown} printed {text:?}");
        assert_eq!(text.matches('\n').count(), 1, "{shown} printed {text:?}");
    }
    t.pgtmp(["stop", "--all"]).run().assert_success();
}

/// `stop -d` names an instance by its data directory, its socket directory
/// or its instance directory; `-p` must then match its port.
#[test]
fn stop_d_takes_every_directory_of_an_instance() {
    let t = TestRoot::new();
    let dirs: [fn(&crate::support::pgtmp::Instance, &Path) -> PathBuf; 3] = [
        |inst, _| inst.data_dir.clone(),
        |_, socket| socket.to_path_buf(),
        |inst, _| inst.dir.clone(),
    ];
    for dir_of in dirs {
        let h = t.start(&["-w", "0"]);
        let socket = url::socket(&h.url).host;
        let inst = t.instance(&h.url);
        let dir = dir_of(&inst, &socket);
        let wrong = t
            .pgtmp([
                "stop".as_ref(),
                "-p".as_ref(),
                "5433".as_ref(),
                "-d".as_ref(),
                dir.as_os_str(),
            ])
            .run();
        wrong.assert_error(1, &["no running instance", "port 5433"]);
        t.pgtmp([
            "-p".as_ref(),
            "5432".as_ref(),
            "-d".as_ref(),
            dir.as_os_str(),
            "stop".as_ref(),
        ])
        .run()
        .assert_success();
        assert!(
            poll::eventually(|| !procs::alive(inst.pid) && !inst.dir.exists()),
            "`stop -d {}` left the instance",
            dir.display()
        );
    }
}

/// pg_tmp's `stop -w N`: after N seconds, stop as soon as no client is
/// connected, looking again every N seconds; never while one is.
#[test]
fn stop_w_waits_until_no_client_is_connected() {
    let t = TestRoot::new();
    let h = t.start(&["-w", "0"]);
    let inst = t.instance(&h.url);
    let mut client = db::connect(&h.url);
    let stopping = t.pgtmp(["stop", "-w", "1", &h.url]).spawn(|_| ());
    assert!(
        poll::stays(Duration::from_secs(4), || procs::alive(inst.pid)
            && procs::alive(stopping.pid())),
        "stopped while a client was connected\n{}",
        stopping.stderr()
    );
    assert_eq!(db::text(&mut client, "select 'still here'"), "still here");
    drop(client);
    stopping.wait().assert_success();
    assert!(
        poll::eventually(|| !procs::alive(inst.pid) && !inst.data_dir.exists()),
        "the instance is left after `stop -w`"
    );
}

/// `stop -k` keeps the data of an instance that was not started with
/// `-k`; a directory `initdb` made then starts again with its data, and
/// `stop -d` on it, no longer running, removes it.
#[test]
fn stop_k_keeps_the_data_for_the_next_start() {
    let t = TestRoot::new();
    let dir = PathBuf::from(t.pgtmp(["initdb"]).run().one_line());
    let d = dir.to_str().expect("UTF-8");
    let h = t.start(&["start", "-d", d]);
    db::execute(&mut db::connect(&h.url), "create table kept (x int)");
    let out = t.pgtmp(["stop", "-k", "-d", d]).run();
    out.assert_success();
    assert!(out.stderr.contains(d), "{out}");
    assert!(dir.join("PG_VERSION").is_file(), "`stop -k` deleted {d}");
    let again = t.start(&["-d", d]);
    let mut client = db::connect(&again.url);
    assert_eq!(
        db::text(&mut client, "select count(*)::text from kept"),
        "0"
    );
    drop(client);
    t.stop(&again.url);
    assert!(poll::eventually(|| !dir.exists()), "{d} outlived `stop`");
    // An `initdb` directory nobody started: `stop -d` removes it too.
    let unused = t.pgtmp(["initdb"]).run().one_line().to_string();
    let out = t.pgtmp(["stop", "-d", &unused]).run();
    out.assert_success();
    assert!(!Path::new(&unused).exists(), "{out}");
}

/// pg_tmp's options with `initdb` and `stop`, where they mean nothing: a
/// note, not a usage error.
#[test]
fn meaningless_options_are_ignored_with_a_note() {
    let t = TestRoot::new();
    let out = t.pgtmp(["-t", "-w", "9", "initdb"]).run();
    out.assert_success();
    assert!(out.stderr.contains("-t -w ignored"), "{out}");
    let url = t.start(&["-w", "0"]).url;
    let out = t.pgtmp(["-t", "-o", "-c x.y=1", "stop", &url]).run();
    out.assert_success();
    assert!(out.stderr.contains("-t -o ignored"), "{out}");
}

/// Without `PGTMP_DIR`, pg_tmp's `SYSTMP` says where the base goes:
/// `$SYSTMP/pgtmp-UID`, made private like any base; `PGTMP_DIR` wins.
#[test]
fn systmp_places_the_base() {
    let t = TestRoot::new();
    let systmp = t.mkdir("systmp");
    let base = t.extra_base(format!("systmp/pgtmp-{}", procs::my_uid()));
    let out = t
        .pgtmp(["-w", "0"])
        .env_remove("PGTMP_DIR")
        .env("SYSTMP", &systmp)
        .run();
    out.assert_success();
    let host = url::socket(out.one_line()).host;
    assert!(host.starts_with(&base), "{out}");
    let mode = std::fs::metadata(&base)
        .expect("the base")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o700, "{}", base.display());
    let out = t.pgtmp(["-w", "0"]).env("SYSTMP", &systmp).run();
    out.assert_success();
    assert!(
        url::socket(out.one_line()).host.starts_with(t.base()),
        "{out}"
    );
}

/// A PGUSER naming another role would lead libpq away from the role the
/// socket URL leaves unsaid: pgtmp says so, and `-F url-with-user` is
/// immune to it.
#[test]
fn a_stray_pguser_is_pointed_out() {
    let t = TestRoot::new();
    let out = t.pgtmp(["-w", "0"]).env("PGUSER", "someone-else").run();
    out.assert_success();
    assert!(out.stderr.contains("PGUSER=someone-else"), "{out}");
    let out = t
        .pgtmp(["-w", "0", "-F", "url-with-user"])
        .env("PGUSER", "someone-else")
        .run();
    out.assert_success();
    assert!(out.stderr.is_empty(), "{out}");
    let psql = t
        .cmd(
            Path::new(PG_BIN).join("psql"),
            [out.one_line(), "-XAtc", "select current_user"],
        )
        .env("PGUSER", "someone-else")
        .run();
    psql.assert_success();
    assert_eq!(psql.stdout.trim(), procs::my_name(), "{psql}");
    t.pgtmp(["stop", "--all"]).run().assert_success();
}
