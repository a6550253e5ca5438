//! Full and read-only disks: the base directory on a tiny tmpfs that the
//! test mounts (as root; a guard unmounts it even when the test fails), and
//! on a directory its owner may not write. pgtmp fails with a clear error
//! (exit 1, what is full or read-only, a hint), leaves nothing half-written,
//! and works again once there is room.

use std::fs;
use std::io::Write;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::support::mount::Tmpfs;
use crate::support::root::set_mode;
use crate::support::{TestRoot, Who, db, poll, procs, tree, user};

/// Free bytes on the filesystem holding `path`.
fn free_bytes(path: &Path) -> u64 {
    let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).expect("no NUL");
    // SAFETY: statvfs is plain old data; all-zero is a valid value.
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: a NUL-terminated path and a buffer we own.
    let rc = unsafe { libc::statvfs(c.as_ptr(), &mut st) };
    assert_eq!(rc, 0, "statvfs {}", path.display());
    st.f_bavail * st.f_frsize
}

/// Takes all but `leave` bytes of the filesystem holding `dir` with a file
/// of really allocated blocks (a sparse file would take nothing).
fn fill(dir: &Path, leave: u64) -> PathBuf {
    let path = dir.join("ballast");
    let file = fs::File::create(&path).expect("create ballast");
    let len = free_bytes(dir).saturating_sub(leave);
    // SAFETY: a descriptor we own; offsets within i64.
    let rc = unsafe { libc::posix_fallocate(file.as_raw_fd(), 0, len as libc::off_t) };
    assert_eq!(rc, 0, "fallocate {len} bytes in {}", dir.display());
    path
}

/// Nothing half-written: no copy or template in progress, no instance.
fn assert_nothing_half_written(t: &TestRoot, base: &Path, out: &impl std::fmt::Display) {
    let mut partial = Vec::new();
    for dir in [base.join("templates"), base.join("pool")] {
        for entry in fs::read_dir(&dir).into_iter().flatten().flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with(".tmp-") {
                partial.push(entry.path());
            }
            if entry.path().is_dir() && !name.starts_with('.') && dir.ends_with("pool") {
                for inner in fs::read_dir(entry.path()).into_iter().flatten().flatten() {
                    if inner.file_name().to_string_lossy().starts_with(".tmp-") {
                        partial.push(inner.path());
                    }
                }
            }
        }
    }
    assert!(partial.is_empty(), "half-written: {partial:?}\n{out}");
    let run: Vec<_> = fs::read_dir(base.join("run"))
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .collect();
    assert!(run.is_empty(), "instances left: {run:?}\n{out}");
    assert!(
        poll::eventually(|| procs::touching(t.path()).is_empty()),
        "processes left: {:?}\n{out}",
        procs::touching(t.path())
    );
}

#[test]
fn full_disk_fails_cleanly_and_works_again_with_room() {
    let t = TestRoot::new();
    let Some(disk) = Tmpfs::mount(&t, "small", "20m", "disk::full_disk") else {
        return;
    };
    let base = disk.path().join("base");
    let base_text = base.to_str().expect("utf-8 path");
    // The pool is off so that every call copies: each one needs room.
    let call = || {
        t.pgtmp(["-w", "0"])
            .env("PGTMP_DIR", &base)
            .env("PGTMP_POOL_SIZE", "0")
            .run()
    };

    // 20 MB: initdb itself runs out.
    let out = call();
    out.assert_error(1, &["no space left", base_text, "hint:"]);
    assert!(out.stdout.is_empty(), "{out}");
    assert_nothing_half_written(&t, &base, &out);
    let templates: Vec<_> = fs::read_dir(base.join("templates"))
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.path().is_dir())
        .collect();
    assert!(
        templates.is_empty(),
        "a template after a failed initdb\n{out}"
    );

    // Room: it works.
    disk.remount("size=200m");
    let ok = call();
    ok.assert_success();
    let mut client = db::connect(ok.one_line());
    assert_eq!(db::text(&mut client, "select 'room'"), "room");
    drop(client);
    t.pgtmp(["stop", "--all"])
        .env("PGTMP_DIR", &base)
        .run()
        .assert_success();

    // Full again, with the template there: the copy for the instance fails.
    let ballast = fill(disk.path(), 4 << 20);
    let out = call();
    out.assert_error(1, &["no space left", base_text, "hint:"]);
    assert!(out.stdout.is_empty(), "{out}");
    assert_nothing_half_written(&t, &base, &out);

    fs::remove_file(ballast).expect("remove ballast");
    let ok = call();
    ok.assert_success();
    let mut client = db::connect(ok.one_line());
    assert_eq!(db::text(&mut client, "select 'room again'"), "room again");
    drop(client);
    t.pgtmp(["stop", "--all"])
        .env("PGTMP_DIR", &base)
        .run()
        .assert_success();
}

/// A base directory that became read-only (a remount): calls that need to
/// write fail clearly (`gc` too: it cannot take its locks), those that only
/// read still work, nothing changes; writable again, it works.
#[test]
fn read_only_base_fails_cleanly() {
    let t = TestRoot::new();
    let Some(disk) = Tmpfs::mount(&t, "ro", "200m", "disk::read_only_base") else {
        return;
    };
    let base = disk.path().join("base");
    let run = |args: &[&str]| {
        t.pgtmp(args)
            .env("PGTMP_DIR", &base)
            .env("PGTMP_POOL_SIZE", "1")
            .run()
    };
    let warm = run(&["-w", "0"]);
    warm.assert_success();
    run(&["stop", "--all"]).assert_success();
    // The refill after the first hand-out copies and starts ahead; on a
    // loaded machine that can outlast the usual patience.
    assert!(
        poll::within(Duration::from_secs(120), || procs::touching(t.path())
            .is_empty()),
        "still running: {:?}",
        procs::touching(t.path())
            .into_iter()
            .map(procs::cmdline)
            .collect::<Vec<_>>()
    );
    let before = tree::snapshot(&base);

    disk.remount("ro");
    for args in [&["-w", "0"][..], &["-t"], &["initdb"], &["gc"]] {
        let out = run(args);
        out.assert_error(1, &["Read-only file system", "hint:"]);
        assert!(out.stdout.is_empty(), "{out}");
    }
    for args in [&["list"][..], &["stop", "--all"]] {
        run(args).assert_success();
    }
    let after = tree::snapshot(&base);
    assert!(
        after == before,
        "the read-only base changed: {:?}",
        tree::diff(&before, &after)
    );

    disk.remount("rw");
    let ok = run(&["-w", "0"]);
    ok.assert_success();
    db::connect(ok.one_line());
    run(&["stop", "--all"]).assert_success();
}

/// Takes the write bits off everything under `root`; returns the modes to
/// put back.
fn make_read_only(root: &Path) -> Vec<(PathBuf, u32)> {
    use std::os::unix::fs::PermissionsExt;
    let mut modes = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(path) = stack.pop() {
        let meta = fs::symlink_metadata(&path).expect("inspect");
        if meta.file_type().is_symlink() {
            continue;
        }
        if meta.is_dir() {
            stack.extend(
                fs::read_dir(&path)
                    .expect("read")
                    .flatten()
                    .map(|e| e.path()),
            );
        }
        let mode = meta.permissions().mode() & 0o7777;
        modes.push((path, mode));
    }
    // Children first, so that a read-only parent does not stop the walk.
    for (path, mode) in modes.iter().rev() {
        set_mode(path, mode & !0o222);
    }
    modes
}

/// The same for an ordinary user whose whole base directory became
/// read-only to them: a clear error with a hint, nothing changed.
#[test]
fn read_only_base_of_an_ordinary_user() {
    let t = TestRoot::new();
    let who = if procs::is_root() {
        Who::User(user::ordinary())
    } else {
        Who::Me
    };
    let warm = t.start_as(who, &["-w", "0"]);
    db::connect_to_whose(&warm.url, who);
    // Spares too: a read-only base must not meet a running server.
    t.pgtmp(["stop", "--all"]).who(who).run().assert_success();
    assert!(
        poll::eventually(|| procs::touching(t.path()).is_empty()),
        "refill still running"
    );
    let base = t.base_of(who);
    let modes = make_read_only(&base);
    let before = tree::snapshot(&base);
    let out = t.pgtmp(["-w", "0"]).who(who).run();
    out.assert_error(1, &["Permission denied", "hint:", "PGTMP_DIR"]);
    assert!(out.stdout.is_empty(), "{out}");
    t.pgtmp(["list"]).who(who).run().assert_success();
    let after = tree::snapshot(&base);
    assert!(
        after == before,
        "the read-only base changed: {:?}",
        tree::diff(&before, &after)
    );
    for (path, mode) in &modes {
        set_mode(path, *mode);
    }
    t.start_as(who, &["-w", "0"]);
}

/// Copies `from` to `to` as the base directory's owner would have made it
/// (the test may be root; pgtmp then runs as another account).
fn copy_as_owner(t: &TestRoot, base: &Path, from: &Path, to: &Path) {
    t.cmd("cp", ["-a".as_ref(), from.as_os_str(), to.as_os_str()])
        .run()
        .assert_success();
    give_to_owner(t, base, to);
}

/// Hands `path` (and what is below it) to the base directory's owner.
fn give_to_owner(t: &TestRoot, base: &Path, path: &Path) {
    use std::os::unix::fs::MetadataExt;
    let owner = fs::metadata(base).expect("inspect base");
    t.cmd(
        "chown",
        [
            "-R".as_ref(),
            format!("{}:{}", owner.uid(), owner.gid()).as_ref(),
            path.as_os_str(),
        ],
    )
    .run()
    .assert_success();
}

/// A disk filled by what killed hand-outs left (run/<id> with a half-made
/// copy and a lock file nobody holds, moments ago) and by copies made
/// ahead for another template (a fixture's pool entries): the next
/// hand-out removes them and tries again, and says so. When even that
/// leaves no room, the error's hint names `pgtmp gc`.
#[test]
fn full_disk_is_collected_and_the_handout_retried() {
    let t = TestRoot::new();
    let Some(disk) = Tmpfs::mount(&t, "small", "200m", "disk::full_disk_is_collected") else {
        return;
    };
    let base = disk.path().join("base");
    let call = |args: &[&str]| {
        t.pgtmp(args)
            .env("PGTMP_DIR", &base)
            .env("PGTMP_POOL_SIZE", "0")
            .env("PGTMP_SPARES", "0")
            .run()
    };
    let fixture = t.join("schema.sql");
    fs::write(&fixture, "create table kept (v int);\n").expect("write fixture");
    let fixture = fixture.to_str().expect("utf-8 path");
    for args in [&["-w", "0"][..], &["-w", "0", "-f", fixture]] {
        call(args).assert_success();
        call(&["stop", "--all"]).assert_success();
    }
    let template = |prefix: &str| -> PathBuf {
        fs::read_dir(base.join("templates"))
            .expect("read templates")
            .flatten()
            .map(|e| e.path())
            .find(|p| {
                p.is_dir()
                    && p.file_name()
                        .is_some_and(|n| n.to_string_lossy().starts_with(prefix))
            })
            .unwrap_or_else(|| panic!("no {prefix}* template\n{}", t.logs()))
    };
    let (plain, loaded) = (template("t"), template("f"));
    let key = loaded.file_name().expect("a key").to_owned();
    let pool = base.join("pool").join(&key);
    fs::create_dir_all(&pool).expect("create pool");
    give_to_owner(&t, &base, &base.join("pool"));
    for entry in ["ahead1", "ahead2"] {
        copy_as_owner(&t, &base, &loaded, &pool.join(entry));
    }
    let mut dead = Vec::new();
    while free_bytes(disk.path()) > 40 << 20 {
        let dir = base.join("run").join(format!("dead{}", dead.len()));
        fs::create_dir_all(&dir).expect("create a dead instance");
        fs::write(dir.join("lock"), "").expect("write its lock file");
        give_to_owner(&t, &base, &dir);
        copy_as_owner(&t, &base, &plain, &dir.join("data"));
        dead.push(dir);
    }

    let out = call(&["-w", "0"]);
    out.assert_success();
    assert!(out.stderr.contains("trying again"), "{out}");
    let mut client = db::connect(out.one_line());
    assert_eq!(db::text(&mut client, "select 'room made'"), "room made");
    drop(client);
    assert!(dead.iter().all(|d| !d.exists()), "dead copies left\n{out}");
    assert!(!pool.join("ahead1").exists(), "pool entries left\n{out}");
    assert!(loaded.exists(), "the fixture template itself must stay");
    call(&["stop", "--all"]).assert_success();

    // Full of what is not pgtmp's: nothing to collect, a hint.
    let ballast = fill(disk.path(), 4 << 20);
    let out = call(&["-w", "0"]);
    out.assert_error(1, &["no space left", "hint:", "pgtmp gc"]);
    assert!(out.stdout.is_empty(), "{out}");
    assert_nothing_half_written(&t, &base, &out);
    fs::remove_file(ballast).expect("remove ballast");
}

/// The blocks the files below `dir` take, in bytes (as `du`).
fn disk_usage(dir: &Path) -> u64 {
    use std::os::unix::fs::MetadataExt;
    let mut total = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(path) = stack.pop() {
        for entry in fs::read_dir(&path).into_iter().flatten().flatten() {
            let Ok(meta) = entry.metadata() else { continue };
            total += meta.blocks() * 512;
            if meta.is_dir() {
                stack.push(entry.path());
            }
        }
    }
    total
}

/// What the copies made ahead hold under `base`: pool entries, and the
/// instance directories of spares nobody claimed.
fn speculative_bytes(base: &Path) -> (u64, usize) {
    let mut bytes = 0;
    let mut copies = 0;
    for key in fs::read_dir(base.join("pool"))
        .into_iter()
        .flatten()
        .flatten()
    {
        if key.path().is_dir() {
            for entry in fs::read_dir(key.path()).into_iter().flatten().flatten() {
                bytes += disk_usage(&entry.path());
                copies += 1;
            }
        }
    }
    for inst in fs::read_dir(base.join("run"))
        .into_iter()
        .flatten()
        .flatten()
    {
        let spare = fs::read_to_string(inst.path().join("meta.json"))
            .ok()
            .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
            .is_some_and(|m| !m["spare"].is_null());
        if spare {
            bytes += disk_usage(&inst.path());
            copies += 1;
        }
    }
    (bytes, copies)
}

/// A large fixture on a small tmpfs: the copies made ahead of demand (pool
/// entries and spares) stay within their documented budget, a quarter of
/// the room (free space plus what they hold), so they never take the space
/// the hand-outs need; and every hand-out succeeds.
#[test]
fn copies_made_ahead_stay_within_the_budget() {
    let t = TestRoot::new();
    let Some(disk) = Tmpfs::mount(&t, "small", "800m", "disk::copies_made_ahead") else {
        return;
    };
    let base = disk.path().join("base");
    let fixture = t.join("big.sql");
    // About 60 MB of rows: the fixture's template weighs ~100 MB.
    fs::write(
        &fixture,
        "create table big as select g, repeat(md5(g::text), 12) as pad \
         from generate_series(1, 150000) g;\n",
    )
    .expect("write fixture");
    let fixture = fixture.to_str().expect("utf-8 path");
    for round in 0..5 {
        let out = t
            .pgtmp(["-w", "0", "-f", fixture])
            .env("PGTMP_DIR", &base)
            .timeout(std::time::Duration::from_secs(300))
            .run();
        out.assert_success();
        let mut client = db::connect(out.one_line());
        assert_eq!(
            db::text(&mut client, "select count(*)::text from big"),
            "150000"
        );
        drop(client);
        assert!(
            poll::eventually(|| !t.refilling()),
            "round {round}: the refill never ended\n{}",
            t.logs()
        );
        let (held, copies) = speculative_bytes(&base);
        let free = free_bytes(disk.path());
        let _ = writeln!(
            std::io::stderr(),
            "disk::copies_made_ahead: round {round}: {copies} copies made ahead, {} MB; {} MB free",
            held >> 20,
            free >> 20
        );
        assert!(
            held <= (free + held) / 4,
            "round {round}: {copies} copies made ahead hold {} MB, over a quarter of {} MB (free {} MB)\n{}",
            held >> 20,
            (free + held) >> 20,
            free >> 20,
            t.logs()
        );
    }
    t.pgtmp(["stop", "--all"])
        .env("PGTMP_DIR", &base)
        .run()
        .assert_success();
}

/// A reset or a snapshot that runs out of room changes nothing: the
/// instance serves its own data as before, no half-made copy is left, no
/// snapshot is recorded; with room again, both work.
#[test]
fn full_disk_during_reset_and_snapshot_changes_nothing() {
    let t = TestRoot::new();
    let Some(disk) = Tmpfs::mount(&t, "small", "200m", "disk::full_disk_during_reset") else {
        return;
    };
    let base = disk.path().join("base");
    let base_text = base.to_str().expect("utf-8 path");
    // No pool and no spares: a reset must copy, and nothing else fills up.
    let run = |args: &[&str]| {
        t.pgtmp(args)
            .env("PGTMP_DIR", &base)
            .env("PGTMP_POOL_SIZE", "0")
            .env("PGTMP_SPARES", "0")
            .run()
    };
    let h = run(&["-w", "0"]);
    h.assert_success();
    let url = h.one_line().to_string();
    db::execute(
        &mut db::connect(&url),
        "create table precious (v text); insert into precious values ('kept')",
    );
    assert!(
        poll::eventually(|| procs::touching(&base)
            .iter()
            .all(|&p| !procs::cmdline(p).contains("__refill"))),
        "refill still running"
    );
    let ballast = fill(disk.path(), 4 << 20);
    let precious = || db::text(&mut db::connect(&url), "select v from precious");

    let out = run(&["reset", &url]);
    out.assert_error(1, &["no space left", base_text, "hint:"]);
    assert_eq!(precious(), "kept", "{out}");
    // The socket directory of a socket URL is the instance directory.
    let instance_dir = crate::support::url::socket(&url).host;
    let fresh: Vec<_> = fs::read_dir(&instance_dir)
        .expect("instance dir")
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with(".fresh-"))
        .collect();
    assert!(
        fresh.is_empty(),
        "a half-made copy is left: {fresh:?}\n{out}"
    );

    let out = run(&["snapshot", &url, "full"]);
    out.assert_error(1, &["no space left", base_text, "hint:"]);
    assert_eq!(precious(), "kept", "the server did not come back\n{out}");
    assert_nothing_half_written_in(&base.join("templates"), &out);
    let list = run(&["snapshot", "--list"]);
    list.assert_success();
    assert_eq!(list.stdout, "", "a snapshot was recorded\n{out}");

    fs::remove_file(ballast).expect("remove ballast");
    run(&["snapshot", &url, "roomy"]).assert_success();
    run(&["reset", &url]).assert_success();
    assert_eq!(
        db::text(
            &mut db::connect(&url),
            "select count(*)::text from pg_tables where tablename = 'precious'"
        ),
        "0"
    );
    run(&["stop", "--all"]).assert_success();
}

/// No `.tmp-` copy left in `dir`.
fn assert_nothing_half_written_in(dir: &Path, out: &impl std::fmt::Display) {
    let partial: Vec<_> = fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with(".tmp-"))
        .map(|e| e.path())
        .collect();
    assert!(partial.is_empty(), "half-written: {partial:?}\n{out}");
}
