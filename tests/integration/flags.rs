//! Start options written the way pg_tmp users write them: combined short
//! flags (`-kt`), attached values (`-w5`), and server options (`-o`).

use crate::support::{TestRoot, db, poll, procs, url};

#[test]
fn keep_and_tcp_combine() {
    let t = TestRoot::new();
    let h = t.start(&["-kt"]);
    let u = url::tcp(&h.url);
    let inst = t.instance(&h.url);
    assert!(inst.keep && inst.tcp, "{}", inst.raw);
    assert_eq!(inst.port, u.port);
    db::connect(&h.url);

    t.stop(&h.url);
    assert!(
        poll::eventually(|| !procs::alive(inst.pid)),
        "postmaster survives `stop`"
    );
    assert!(
        inst.data_dir.join("PG_VERSION").is_file(),
        "`-k` data dir {} deleted",
        inst.data_dir.display()
    );
}

#[test]
fn attached_timeout_value() {
    let t = TestRoot::new();
    let h = t.start(&["-w5"]);
    assert_eq!(t.instance(&h.url).timeout_secs, 5);
}

#[test]
fn server_options_are_applied() {
    let t = TestRoot::new();
    let h = t.start(&["-o", "-c work_mem=64MB -c max_connections=20"]);
    let mut client = db::connect(&h.url);
    assert_eq!(db::text(&mut client, "show work_mem"), "64MB");
    assert_eq!(db::text(&mut client, "show max_connections"), "20");
}

/// `--pg-bindir`, `--pg-version` and `--run-as` are global options: they
/// belong before a subcommand as naturally as after it.
#[test]
fn global_options_go_before_or_after_subcommands() {
    let t = TestRoot::new();
    let bindir = "/usr/lib/postgresql/15/bin";
    let h = t.start(&["--pg-bindir", bindir, "--pg-version", "15"]);
    db::connect(&h.url);
    t.pgtmp(["list", "--pg-bindir", bindir])
        .run()
        .assert_success();
    t.pgtmp(["--pg-bindir", bindir, "list"])
        .run()
        .assert_success();
}
