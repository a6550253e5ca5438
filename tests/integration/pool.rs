//! The pool of ready copies: refilled in the background after a hand-out,
//! disabled by `PGTMP_POOL_SIZE=0`, emptied by `gc --all`.

use crate::support::{TestRoot, db, poll};

#[test]
fn pool_is_refilled_in_background() {
    let t = TestRoot::new();
    t.start(&[]);
    assert!(
        poll::eventually(|| !t.refilling() && t.pool_entries().len() == 2),
        "pool not refilled to the default size 2: {:?}\n{}",
        t.pool_entries(),
        t.logs()
    );
    for entry in t.pool_entries() {
        assert!(
            entry.join("PG_VERSION").is_file(),
            "pool entry {} holds no cluster",
            entry.display()
        );
    }
}

#[test]
fn pool_size_zero_disables_refill() {
    let t = TestRoot::new();
    let h = t
        .pgtmp(Vec::<&str>::new())
        .env("PGTMP_POOL_SIZE", "0")
        .env("PGTMP_SPARES", "0")
        .run();
    h.assert_success();
    db::connect(h.one_line());
    assert!(
        !t.refilling(),
        "a refill runs although PGTMP_POOL_SIZE=0 and PGTMP_SPARES=0"
    );
    assert_eq!(
        t.pool_entries(),
        Vec::<std::path::PathBuf>::new(),
        "pool filled although disabled"
    );
}

#[test]
fn gc_all_empties_pool_and_keeps_instances() {
    let t = TestRoot::new();
    let h = t.start(&[]);
    assert!(
        poll::eventually(|| !t.refilling() && !t.pool_entries().is_empty()),
        "pool never filled\n{}",
        t.logs()
    );
    let out = t.pgtmp(["gc", "--all"]).run();
    out.assert_success();
    assert_eq!(
        t.pool_entries(),
        Vec::<std::path::PathBuf>::new(),
        "`gc --all` left pool entries\n{out}"
    );
    assert_eq!(
        t.templates(),
        Vec::<std::path::PathBuf>::new(),
        "`gc --all` left templates\n{out}"
    );
    let mut client = db::connect(&h.url);
    assert_eq!(db::text(&mut client, "select 'untouched'"), "untouched");
}
