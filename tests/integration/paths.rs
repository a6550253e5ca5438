//! Where things live: a base directory too long for a Unix-socket path
//! moves the socket to a short private directory under /tmp, and that
//! directory goes with the instance.

use crate::support::{TestRoot, db, poll, url};

/// Linux's `sun_path` holds 107 bytes and a NUL.
const MAX_SOCKET_PATH: usize = 107;

#[test]
fn long_base_dir_keeps_socket_path_short() {
    let t = TestRoot::new();
    let base = t.extra_base(format!("{}/base", "d".repeat(110)));
    // No spares: only the instance handed out may be in base/run.
    let out = t
        .pgtmp(["-w", "0"])
        .env("PGTMP_DIR", &base)
        .env("PGTMP_SPARES", "0")
        .run();
    out.assert_success();
    let handed = out.one_line().to_string();
    let socket_dir = url::socket(&handed).host;
    let socket = socket_dir.join(".s.PGSQL.5432");
    assert!(
        socket.as_os_str().len() <= MAX_SOCKET_PATH,
        "socket path {} is longer than {MAX_SOCKET_PATH} bytes",
        socket.display()
    );
    assert!(
        !socket_dir.starts_with(&base),
        "socket stayed under the long base dir: {}",
        socket_dir.display()
    );
    let mut client = db::connect(&handed);
    assert_eq!(db::text(&mut client, "select current_database()"), "test");
    drop(client);

    t.pgtmp(["stop", &handed])
        .env("PGTMP_DIR", &base)
        .run()
        .assert_success();
    assert!(
        poll::eventually(|| !socket_dir.exists()),
        "socket directory {} survives the instance",
        socket_dir.display()
    );
    let run = std::fs::read_dir(base.join("run"))
        .map(|d| d.count())
        .unwrap_or(0);
    assert_eq!(run, 0, "base/run is not empty after stop");
}

/// Issue 18.15: `PGTMP_DIR` naming a symbolic link (to a directory that
/// would do) is refused as a link, saying so and where it points, not as
/// "not a directory"; nothing is written through it.
#[test]
fn base_dir_link_is_named_a_link() {
    let t = TestRoot::new();
    let real = t.mkdir("real");
    let link = t.join("link");
    std::os::unix::fs::symlink(&real, &link).expect("symlink");
    for args in [&["-w", "0"][..], &["list"], &["gc"]] {
        let out = t.pgtmp(args).env("PGTMP_DIR", &link).run();
        out.assert_error(
            1,
            &["symbolic link", real.to_str().expect("utf-8"), "hint:"],
        );
        assert_eq!(
            std::fs::read_dir(&real).expect("read").count(),
            0,
            "written through the link\n{out}"
        );
    }
}
