//! Other local users. A stranger (`nobody`) reaches neither a socket
//! instance (its directory is private) nor a TCP one without the password;
//! TCP listens on loopback only; every directory pgtmp makes is private;
//! one user's `list`, `stop` and `gc` never see or touch another's
//! instances; pgtmp deletes no directory it did not make; and no password
//! shows in a process's arguments, or in an environment others can read.
//!
//! Most of this needs root (to be two users at once); without it the tests
//! say they were skipped.

use std::fs;
use std::io::Write;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use crate::support::root::set_mode;
use crate::support::{PSQL, TestRoot, Who, db, net, poll, procs, tree, url, user};

fn running_as_root(test: &str) -> bool {
    if procs::is_root() {
        return true;
    }
    let _ = writeln!(std::io::stderr(), "security::{test}: skipped: needs root");
    false
}

/// `psql URL -c 'select 1'` as `who`, never prompting for a password.
fn psql_as(
    t: &TestRoot,
    who: Who,
    target: &str,
    password: Option<&str>,
) -> crate::support::command::Output {
    let mut run = t
        .cmd(PSQL, [target, "-X", "-w", "-tAc", "select 'in'"])
        .who(who);
    if let Some(pw) = password {
        run = run.env("PGPASSWORD", pw);
    }
    run.run()
}

/// Socket instances of root (run as the service account), of an ordinary
/// user, and one whose socket had to move to /tmp (a long base): their
/// owners get in, a stranger is turned away at the directory.
#[test]
fn strangers_cannot_reach_socket_instances() {
    if !running_as_root("strangers_cannot_reach_socket_instances") {
        return;
    }
    let t = TestRoot::new();
    let stranger = Who::Stranger(user::nobody());
    let ordinary = Who::User(user::ordinary());
    let long_base = t.extra_base(format!("{}/base", "s".repeat(100)));
    let moved = t.pgtmp(["-w", "0"]).env("PGTMP_DIR", &long_base).run();
    moved.assert_success();
    let cases = [
        (Who::Me, t.start(&["-w", "0"]).url),
        (ordinary, t.start_as(ordinary, &["-w", "0"]).url),
        (Who::Me, moved.one_line().to_string()),
    ];
    assert!(
        url::socket(&cases[2].1).host.starts_with("/tmp"),
        "{}",
        cases[2].1
    );
    for (owner, target) in &cases {
        let own = psql_as(&t, *owner, target, None);
        own.assert_success();
        assert_eq!(own.stdout.trim(), "in", "{own}");
        let out = psql_as(&t, stranger, target, None);
        assert_ne!(out.code(), Some(0), "a stranger got in\n{out}");
        assert!(
            out.stderr.contains("Permission denied"),
            "expected the socket directory to turn the stranger away\n{out}"
        );
    }
    t.pgtmp(["stop", "--all"])
        .env("PGTMP_DIR", &long_base)
        .run()
        .assert_success();
}

/// A TCP instance listens on 127.0.0.1 only, and a stranger gets nowhere
/// without the password, or with a wrong one; with it, they get in (so the
/// password is what stops them).
#[test]
fn strangers_need_the_tcp_password() {
    if !running_as_root("strangers_need_the_tcp_password") {
        return;
    }
    let t = TestRoot::new();
    let stranger = Who::Stranger(user::nobody());
    let ordinary = Who::User(user::ordinary());
    for owner in [Who::Me, ordinary] {
        let h = t.start_as(owner, &["-t", "-w", "0"]);
        let u = url::tcp(&h.url);
        assert!(
            net::loopback_only(u.port),
            "port {} listens on {:?}",
            u.port,
            net::listeners(u.port)
        );
        // The URL without its password, on the command line: harmless.
        let bare = format!("postgresql://{}@127.0.0.1:{}/test", u.user, u.port);
        let out = psql_as(&t, stranger, &bare, None);
        assert_ne!(out.code(), Some(0), "in without a password\n{out}");
        assert!(out.stderr.contains("no password supplied"), "{out}");
        let wrong = format!("{}x", u.password);
        let out = psql_as(&t, stranger, &bare, Some(&wrong));
        assert_ne!(out.code(), Some(0), "in with a wrong password\n{out}");
        assert!(
            out.stderr.contains("password authentication failed"),
            "{out}"
        );
        let out = psql_as(&t, stranger, &bare, Some(&u.password));
        out.assert_success();
        assert_eq!(out.stdout.trim(), "in", "{out}");
    }
}

/// Every directory below `base` (itself included) is private and `owner`'s.
fn assert_private(base: &Path, owner: u32) {
    let mut checked = 0;
    let mut stack = vec![base.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let meta = fs::symlink_metadata(&dir).expect("inspect");
        assert_eq!(
            meta.mode() & 0o077,
            0,
            "{} has mode {:o}",
            dir.display(),
            meta.mode() & 0o777
        );
        assert_eq!(
            meta.uid(),
            owner,
            "{} belongs to uid {}",
            dir.display(),
            meta.uid()
        );
        checked += 1;
        for entry in fs::read_dir(&dir).expect("read").flatten() {
            if entry.file_type().is_ok_and(|k| k.is_dir()) {
                stack.push(entry.path());
            }
        }
    }
    // The base, run/, pool/, templates/, instances, entries, data inside.
    assert!(
        checked > 50,
        "only {checked} directories under {}",
        base.display()
    );
}

/// Every directory pgtmp makes (base, run/, each instance and its data,
/// pool/, its entries, templates/, a socket directory under /tmp) is 0700
/// and its owner's; a base that existed with mode 0755 is tightened.
#[test]
fn per_user_directories_are_private() {
    let t = TestRoot::new();
    let mut whos = vec![(
        Who::Me,
        if procs::is_root() {
            user::service_account().uid
        } else {
            procs::my_uid()
        },
    )];
    if procs::is_root() {
        let u = user::ordinary();
        whos.push((Who::User(u), u.uid));
    }
    for (who, owner) in whos {
        let base = t.base_of(who);
        fs::create_dir_all(&base).expect("create the base");
        if let Who::User(u) = who {
            std::os::unix::fs::chown(&base, Some(u.uid), Some(u.gid)).expect("chown");
        }
        set_mode(&base, 0o755);
        let h = t.start_as(who, &["-w", "0"]);
        t.start_as(who, &["-t", "-w", "0"]);
        assert!(poll::eventually(|| !t.refilling()), "refills still running");
        assert!(base.join("pool").is_dir(), "no pool to check");
        assert_private(&base, owner);
        let dir = url::socket(&h.url).host;
        assert_eq!(fs::metadata(&dir).expect("socket dir").mode() & 0o077, 0);
    }
    if procs::is_root() {
        let long_base = t.extra_base(format!("{}/base", "p".repeat(100)));
        let out = t.pgtmp(["-w", "0"]).env("PGTMP_DIR", &long_base).run();
        out.assert_success();
        let dir = url::socket(out.one_line()).host;
        assert!(dir.starts_with("/tmp"), "{}", dir.display());
        let meta = fs::metadata(&dir).expect("socket dir");
        assert_eq!(
            meta.mode() & 0o077,
            0,
            "{} has mode {:o}",
            dir.display(),
            meta.mode()
        );
        assert_eq!(meta.uid(), user::service_account().uid);
        t.pgtmp(["stop", "--all"])
            .env("PGTMP_DIR", &long_base)
            .run()
            .assert_success();
    }
}

/// A killed supervisor leaves a dead instance for `gc` to find.
fn dead_instance(t: &TestRoot, who: Who) -> PathBuf {
    let doomed = t.start_as(who, &["-w", "0"]).url;
    let inst = t.instance_as(who, &doomed);
    // Its own refill ends with a gc, which must not find it dead yet.
    assert!(poll::eventually(|| !t.refilling()), "refills still running");
    procs::signal(inst.supervisor_pid, "KILL");
    assert!(
        poll::eventually(|| !procs::alive(inst.pid)),
        "postmaster outlives its supervisor"
    );
    inst.dir
}

fn live_instances(t: &TestRoot, who: Who) -> Vec<String> {
    let mut urls = vec![
        t.start_as(who, &["-w", "0"]).url,
        t.start_as(who, &["-t", "-w", "0"]).url,
    ];
    urls.sort();
    urls
}

/// The ready copies in `who`'s pool.
fn pool_of(t: &TestRoot, who: Who) -> Vec<PathBuf> {
    let mut entries: Vec<PathBuf> = fs::read_dir(t.base_of(who).join("pool"))
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.path().is_dir())
        .flat_map(|key| fs::read_dir(key.path()).into_iter().flatten().flatten())
        .map(|e| e.path())
        .collect();
    entries.sort();
    entries
}

/// `who` lists only `own`, and its `stop URL`, `stop --all`, `gc` and
/// `gc --all` leave `other`'s live instances, dead one and pool alone.
fn keeps_to_itself(
    t: &TestRoot,
    who: Who,
    own: &[String],
    other: Who,
    theirs: &[String],
    dead: &Path,
) {
    assert!(poll::eventually(|| !t.refilling()), "refills still running");
    let other_pool = pool_of(t, other);
    assert!(!other_pool.is_empty(), "no pool to leave alone");
    let mut listed: Vec<String> = t.list_as(who).into_iter().map(|i| i.url).collect();
    listed.sort();
    assert_eq!(listed, own, "`list` shows what is not its own");
    for u in theirs {
        let out = t.pgtmp(["stop", &url::without_password(u)]).who(who).run();
        out.assert_error(1, &["no running instance"]);
    }
    for args in [&["stop", "--all"][..], &["gc"], &["gc", "--all"]] {
        t.pgtmp(args).who(who).run().assert_success();
    }
    for u in theirs {
        let mut client = db::connect_to_whose(u, other);
        assert_eq!(db::text(&mut client, "select 'untouched'"), "untouched");
    }
    assert!(
        dead.exists(),
        "{} was collected by another user",
        dead.display()
    );
    assert_eq!(pool_of(t, other), other_pool, "another user's pool changed");
}

/// Root and an ordinary user, each with live instances (socket and TCP), a
/// dead one and a pool: `list`, `stop URL`, `stop --all`, `gc` and
/// `gc --all` of the one never see or touch the other's; and the ordinary
/// user pointing `PGTMP_DIR` at root's base directory is refused.
#[test]
fn users_never_see_or_touch_each_other() {
    if !running_as_root("users_never_see_or_touch_each_other") {
        return;
    }
    let t = TestRoot::new();
    let root = Who::Me;
    let other = Who::User(user::ordinary());
    let root_live = live_instances(&t, root);
    let root_dead = dead_instance(&t, root);
    let other_live = live_instances(&t, other);
    let _other_dead = dead_instance(&t, other);

    keeps_to_itself(&t, other, &other_live, root, &root_live, &root_dead);
    // Root's base named outright, and one a stranger planted where the
    // user's would go (world-writable, as /dev/shm/pgtmp-UID could be):
    // refused for belonging to someone else, and left as it was.
    let planted = t.mkdir("planted");
    let nobody = user::nobody();
    std::os::unix::fs::chown(&planted, Some(nobody.uid), Some(nobody.gid)).expect("chown");
    set_mode(&planted, 0o777);
    for theirs in [t.base_of(root), planted.clone()] {
        for args in [
            &["list"][..],
            &["stop", "--all"],
            &["gc", "--all"],
            &["-w", "0"],
        ] {
            let out = t.pgtmp(args).who(other).env("PGTMP_DIR", &theirs).run();
            out.assert_error(1, &[theirs.to_str().expect("utf-8 path"), "belongs to uid"]);
        }
    }
    let planted_now = fs::read_dir(&planted).expect("read").count();
    assert_eq!(planted_now, 0, "pgtmp wrote into a planted base");

    // And the other way round, with fresh instances of the ordinary user.
    let other_live = live_instances(&t, other);
    let other_dead = dead_instance(&t, other);
    keeps_to_itself(&t, root, &root_live, other, &other_live, &other_dead);
}

/// A directory the user already had, with things in it, given as
/// `PGTMP_DIR`: every command refuses it and leaves it exactly as it was
/// (before, `gc --all` deleted its `pool/*`, and as root pgtmp made `/tmp`
/// 0700 and gave it to postgres). And a `-d` directory outlives its idle
/// reap, `gc --all` and a failed start.
#[test]
fn pgtmp_never_deletes_what_it_did_not_create() {
    let t = TestRoot::new();
    let mut whos = vec![Who::Me];
    if procs::is_root() {
        whos.push(Who::User(user::ordinary()));
    }
    for who in whos {
        let theirs = t.mkdir(format!("theirs-{}", whos_name(who)));
        for rel in [
            "run/notes",
            "pool/t0123456789abcdef/entry",
            "templates/t0123456789abcdef",
        ] {
            fs::create_dir_all(theirs.join(rel)).expect("mkdir");
            fs::write(theirs.join(rel).join("file"), "mine\n").expect("write");
        }
        fs::write(theirs.join("notes.txt"), "mine\n").expect("write");
        // Deletable by pgtmp if it adopted the directory: the account it
        // runs as owns the contents.
        let owner = match who {
            Who::User(u) => Some((u.uid, u.gid)),
            _ if procs::is_root() => {
                let s = user::service_account();
                Some((s.uid, s.gid))
            }
            _ => None,
        };
        if let Some((uid, gid)) = owner {
            chown_tree(&theirs, uid, gid);
            if who == Who::Me {
                std::os::unix::fs::chown(&theirs, Some(0), Some(0)).expect("chown");
                set_mode(&theirs, 0o1777);
            }
        }
        let before = tree::snapshot(&theirs);
        for args in [
            &["-w", "0"][..],
            &["list"],
            &["stop", "--all"],
            &["gc"],
            &["gc", "--all"],
            &["initdb"],
        ] {
            let out = t.pgtmp(args).who(who).env("PGTMP_DIR", &theirs).run();
            out.assert_error(1, &["did not make", "hint:"]);
            let after = tree::snapshot(&theirs);
            assert!(
                after == before,
                "`pgtmp {}` changed {}: {:?}",
                args.join(" "),
                theirs.display(),
                tree::diff(&before, &after)
            );
        }
    }

    let mine = t.join("mine");
    let mine_arg = mine.to_str().expect("utf-8 path");
    let h = t.start(&["-d", mine_arg, "-w", "1"]);
    fs::write(mine.join("NOTES"), "mine\n").expect("write NOTES");
    let pid = t.instance(&h.url).pid;
    assert!(poll::eventually(|| !procs::alive(pid)), "not reaped");
    t.pgtmp(["gc", "--all"]).run().assert_success();
    let out = t
        .pgtmp(["-d", mine_arg, "-o", "-c shared_buffers=banana"])
        .run();
    out.assert_error(1, &["shared_buffers"]);
    assert!(
        mine.join("PG_VERSION").is_file() && mine.join("NOTES").is_file(),
        "the -d directory lost files"
    );
}

fn whos_name(who: Who) -> &'static str {
    match who {
        Who::Me => "me",
        _ => "user",
    }
}

fn chown_tree(root: &Path, uid: u32, gid: u32) {
    std::os::unix::fs::lchown(root, Some(uid), Some(gid)).expect("chown");
    if root.is_dir() {
        for entry in fs::read_dir(root).expect("read").flatten() {
            chown_tree(&entry.path(), uid, gid);
        }
    }
}

/// No password in any process's arguments (which every local user can
/// read in /proc), neither of a TCP instance's processes nor of `exec`'s
/// final `pgtmp stop`; `exec`'s command has it in its environment, which a
/// stranger cannot read.
#[test]
fn passwords_stay_out_of_process_arguments() {
    let t = TestRoot::new();
    let plain = t.start(&["-t", "-w", "0"]);
    // The command runs until the test releases it: on a loaded machine the
    // scans below take seconds, and a command that ended meanwhile would
    // let exec stop its instance before the supervisor is held.
    let hold = "until [ -e release ]; do sleep 0.05; done";
    let (mut cmd, shown) = t.pgtmp(["exec", "-t", "--", "sh", "-c", hold]).command();
    let mut exec = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("{shown}: {e}"));
    assert!(
        poll::eventually(|| t.list().len() == 2),
        "the exec instance never came up\n{}",
        t.logs()
    );
    let exec_inst = t
        .list()
        .into_iter()
        .find(|i| i.url != plain.url)
        .expect("the exec instance");
    let passwords = [
        url::tcp(&plain.url).password,
        url::tcp(&exec_inst.url).password,
    ];
    let command_pid = procs::touching(t.path())
        .into_iter()
        .find(|&p| procs::cmdline(p) == format!("sh -c {hold}"))
        .expect("exec's command");
    let env = fs::read(format!("/proc/{command_pid}/environ")).expect("environ");
    assert!(
        contains(&env, passwords[1].as_bytes()),
        "exec's command has no PGPASSWORD: the scan below would prove nothing"
    );
    assert_hidden(&t, &passwords, "while exec's command runs");

    // Hold the supervisor, so that exec's `pgtmp stop` stays in flight;
    // then let the command end.
    procs::signal(exec_inst.supervisor_pid, "STOP");
    fs::write(t.join("release"), "").expect("release exec's command");
    let stopping = poll::eventually(|| {
        procs::touching(t.path())
            .into_iter()
            .any(|p| procs::cmdline(p).contains(" stop "))
    });
    let seen = if stopping {
        assert_hidden(&t, &passwords, "while exec stops its instance");
        true
    } else {
        false
    };
    procs::signal(exec_inst.supervisor_pid, "CONT");
    let _ = exec.wait();
    assert!(seen, "exec's `pgtmp stop` was never seen");
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// No command line holds a password; as a stranger, nothing readable does.
fn assert_hidden(t: &TestRoot, passwords: &[String], when: &str) {
    for entry in fs::read_dir("/proc").expect("/proc").flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let raw = fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        for pw in passwords {
            assert!(
                !contains(&raw, pw.as_bytes()),
                "{when}: the password is in the arguments of {pid}: {}",
                procs::cmdline(pid)
            );
        }
    }
    if !procs::is_root() {
        return;
    }
    let scan = "for p in /proc/[0-9]*; do cat $p/cmdline $p/environ; echo; done 2>/dev/null; true";
    let out = t
        .cmd("sh", ["-c", scan])
        .who(Who::Stranger(user::nobody()))
        .run();
    out.assert_success();
    assert!(out.stdout.len() > 1000, "the stranger read nothing\n{out}");
    for pw in passwords {
        assert!(
            !out.stdout.contains(pw.as_str()),
            "{when}: a stranger can read a password in /proc"
        );
    }
}

/// Issue 18.3: `-o` read word by word let grouped short options through:
/// `-Fi` listened on every address, `-Fk DIR` put a trust socket of mode
/// 0777 in a world-writable directory. Read as `postgres` reads them, they
/// are usage errors before anything starts; and the socket itself is 0700,
/// so that a socket that ever ended up in a shared directory would still
/// let nobody else in.
#[test]
fn grouped_server_options_cannot_open_the_server() {
    let t = TestRoot::new();
    let public = t.mkdir("public");
    set_mode(&public, 0o1777);
    let public_arg = format!("-Fk{}", public.display());
    for opts in [
        "-Fi",
        "-eFi",
        public_arg.as_str(),
        "-Fc listen_addresses=*",
        "-F-listen-addresses=0.0.0.0",
        "-Fh *",
    ] {
        let out = t.pgtmp(["-t", "-w", "0", "-o", opts]).run();
        out.assert_code(2);
        assert!(out.stdout.is_empty(), "{out}");
        assert!(
            out.stderr.contains("beyond")
                || out.stderr.contains("every address")
                || out.stderr.contains("socket"),
            "the error does not say why\n{out}"
        );
    }
    assert!(
        fs::read_dir(&public).expect("read").next().is_none(),
        "something was put in the public directory"
    );
    assert!(t.list().is_empty(), "a server started");
    let h = t.start(&["-w", "0"]);
    let socket = url::socket(&h.url).host.join(".s.PGSQL.5432");
    let mode = fs::metadata(&socket).expect("the socket").mode() & 0o777;
    assert_eq!(mode, 0o700, "{} has mode {mode:o}", socket.display());
    let mut client = db::connect(&h.url);
    assert_eq!(
        db::text(&mut client, "show unix_socket_permissions"),
        "0700"
    );
}

/// Issue 18.1, as reported: another user makes the base root is told to
/// use (private, theirs) with the marker a link to a file in a directory
/// only root can write. Root must neither follow the link (the file would
/// be created, and chowned to that user) nor adopt the directory (its
/// servers would run as that user): it refuses, and nothing changes.
#[test]
fn root_never_adopts_a_planted_base_or_follows_its_marker() {
    if !running_as_root("root_never_adopts_a_planted_base_or_follows_its_marker") {
        return;
    }
    let t = TestRoot::new();
    let stranger = Who::Stranger(user::nobody());
    let protected = t.outside("ro");
    set_mode(&protected, 0o700);
    let victim = protected.join("x");
    // A world-writable, sticky directory, as /dev/shm is.
    let shm = t.mkdir("shm");
    set_mode(&shm, 0o1777);
    let planted = shm.join("sq");
    let plant = format!(
        "mkdir -m700 {p} && ln -s {v} {p}/.pgtmp",
        p = planted.display(),
        v = victim.display()
    );
    t.cmd("sh", ["-c", &plant])
        .who(stranger)
        .run()
        .assert_success();
    let before = tree::snapshot(&planted);
    for args in [
        &[][..],
        &["-w", "0"],
        &["list"],
        &["gc"],
        &["stop", "--all"],
    ] {
        let out = t.pgtmp(args).env("PGTMP_DIR", &planted).run();
        out.assert_error(1, &[planted.to_str().expect("utf-8"), "belongs to uid"]);
        assert!(
            fs::symlink_metadata(&victim).is_err(),
            "`pgtmp {}` wrote through the planted marker link\n{out}",
            args.join(" ")
        );
        assert_eq!(tree::snapshot(&planted), before, "{out}");
        assert!(
            fs::symlink_metadata(&planted).expect("planted").uid() == user::nobody().uid,
            "`pgtmp {}` took the planted base over\n{out}",
            args.join(" ")
        );
    }
    let theirs: Vec<u32> = procs::touching(&planted);
    assert!(
        theirs.is_empty(),
        "something runs in the planted base: {theirs:?}"
    );

    // The same base made by root for `--run-as nobody` is root's: later
    // calls keep using it for that account without being told.
    let made = shm.join("made");
    let h = t
        .pgtmp(["--run-as", "nobody", "-w", "0"])
        .env("PGTMP_DIR", &made)
        .run();
    h.assert_success();
    let marker = fs::symlink_metadata(made.join(".pgtmp")).expect("marker");
    assert_eq!(marker.uid(), 0, "root's marker must stay root's");
    let listed = t.pgtmp(["list"]).env("PGTMP_DIR", &made).run();
    listed.assert_success();
    assert!(listed.stdout.contains(h.one_line()), "{listed}");
    t.pgtmp(["stop", "--all"])
        .env("PGTMP_DIR", &made)
        .run()
        .assert_success();
}

/// A `-d` path another user planted as a link to a directory of root's:
/// root must not chown it through the link (to the account PostgreSQL runs
/// as), nor start a server in it.
#[test]
fn root_never_hands_over_a_planted_datadir_link() {
    if !running_as_root("root_never_hands_over_a_planted_datadir_link") {
        return;
    }
    let t = TestRoot::new();
    let stranger = Who::Stranger(user::nobody());
    let roots = t.outside("roots");
    set_mode(&roots, 0o700);
    let shm = t.mkdir("shm");
    set_mode(&shm, 0o1777);
    let link = shm.join("data");
    t.cmd(
        "ln",
        [
            "-s",
            roots.to_str().expect("utf-8"),
            link.to_str().expect("utf-8"),
        ],
    )
    .who(stranger)
    .run()
    .assert_success();
    let out = t
        .pgtmp(["-d", link.to_str().expect("utf-8"), "-w", "0"])
        .run();
    out.assert_error(1, &["symbolic link"]);
    let meta = fs::metadata(&roots).expect("root's directory");
    assert_eq!(meta.uid(), 0, "root's directory was handed over\n{out}");
    assert_eq!(fs::read_dir(&roots).expect("read").count(), 0, "{out}");
}
