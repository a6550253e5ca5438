//! The databases' locale: C.UTF-8 by default (Unicode case rules and
//! character classes, code point order), whatever the caller's `LANG`/`LC_*`
//! say; `--locale C` (or `PGTMP_LOCALE`) for bytes, in a template of its
//! own; an unknown locale fails clearly.

use crate::support::{PSQL, TestRoot, db};

/// `upper('é')`, `'é' ~ '^\w$'`, `lower('ÀÉ')` and the test database's
/// collation, as the server answers them.
fn probe(url: &str) -> (String, String, String, String) {
    let mut c = db::connect(url);
    (
        db::text(&mut c, "select upper('é')"),
        db::text(&mut c, r"select ('é' ~ '^\w$')::text"),
        db::text(&mut c, "select lower('ÀÉ')"),
        db::text(
            &mut c,
            "select datcollate::text from pg_database where datname = 'test'",
        ),
    )
}

fn templates(t: &TestRoot) -> usize {
    t.templates().len()
}

#[test]
fn unicode_by_default_bytes_on_request() {
    let t = TestRoot::new();
    // No locale in the environment at all (as root, the run-as account
    // gets this environment too).
    let h = t
        .pgtmp(["-w", "0"])
        .env_remove("LANG")
        .env_remove("LC_ALL")
        .env("LC_CTYPE", "POSIX")
        .run();
    h.assert_success();
    let url = h.one_line().to_string();
    assert_eq!(
        probe(&url),
        ("É".into(), "true".into(), "àé".into(), "C.UTF-8".into()),
        "{h}"
    );
    // The issue's own check, with psql.
    let out = t
        .cmd(
            PSQL,
            [
                url.as_str(),
                "-Atc",
                r"select upper('é'), 'é' ~ '^\w$', lower('ÀÉ')",
            ],
        )
        .env_remove("LANG")
        .env_remove("LC_ALL")
        .run();
    out.assert_success();
    assert_eq!(out.stdout.trim(), "É|t|àé", "{out}");
    assert_eq!(templates(&t), 1);

    // Bytes, on request: a template of its own.
    let c = t.start(&["-w", "0", "--locale", "C"]);
    assert_eq!(
        probe(&c.url),
        ("é".into(), "false".into(), "ÀÉ".into(), "C".into())
    );
    assert_eq!(templates(&t), 2, "the locale is part of the template key");
    let env = t.pgtmp(["-w", "0"]).env("PGTMP_LOCALE", "C").run();
    env.assert_success();
    assert_eq!(probe(env.one_line()).0, "é", "{env}");
    // Another spelling of the default is the default.
    let same = t.start(&["-w", "0", "--locale", "C.utf8"]);
    assert_eq!(probe(&same.url).0, "É");
    assert_eq!(templates(&t), 2, "C.utf8 made a template of its own");

    let out = t.pgtmp(["--locale", "xx_NOWHERE.UTF-8"]).run();
    out.assert_error(1, &["xx_NOWHERE.UTF-8", "hint:", "locale -a"]);
    assert!(out.stdout.is_empty(), "{out}");
}
