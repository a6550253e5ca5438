//! What a statement means to the shared transaction: transaction control
//! the proxy turns into savepoints, statements it answers or refuses
//! itself, and plain statements it passes on, with the edits they need
//! (prepared statement names made the client's own, `CONCURRENTLY` dropped
//! where it cannot run inside a transaction block).
//! <https://www.postgresql.org/docs/current/sql-commands.html>

use super::lexer::{Statement, Token};

/// What a statement is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Class {
    Plain(Plain),
    /// `BEGIN` / `START TRANSACTION`; `modes`: it asks for an isolation
    /// level, READ ONLY or DEFERRABLE, which one shared transaction cannot
    /// give each client.
    Begin {
        start: bool,
        modes: bool,
    },
    /// `COMMIT` / `END`.
    Commit {
        chain: bool,
    },
    /// `ROLLBACK` / `ABORT`.
    Rollback {
        chain: bool,
    },
    Savepoint(String),
    Release(String),
    RollbackTo(String),
    PrepareTransaction,
    DeallocateAll,
    DiscardAll,
    /// `SET TRANSACTION ...` (not `SET SESSION CHARACTERISTICS`).
    SetTransaction,
    /// `DECLARE name ... CURSOR`: only in a transaction, unless `WITH HOLD`.
    Declare {
        name: String,
        hold: bool,
    },
    /// `LOCK`: only in a transaction (`name` unused, always empty).
    Lock {
        name: String,
    },
    /// PGProxy's `BEGIN TEST 'name'` and `ROLLBACK TEST 'name'`.
    Test {
        begin: bool,
        name: Option<String>,
    },
}

/// A statement passed on to the server.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Plain {
    /// Schema-changing (CREATE, ALTER, DO, CALL, IMPORT): the set of
    /// deferrable constraints may have changed.
    pub ddl: bool,
    /// `COPY ... FROM STDIN`: the client sends data next.
    pub copy_in: bool,
    /// `PREPARE name` / `DEALLOCATE name`, for the client's bookkeeping.
    pub prepared: Option<(Prepared, String)>,
    pub edits: Vec<Edit>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prepared {
    Prepare,
    Deallocate,
}

/// A change to the statement's text before it reaches the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Edit {
    /// The prepared statement name at `start..end`, as the server stores it.
    Rename {
        start: usize,
        end: usize,
        name: String,
    },
    /// Bytes to leave out.
    Drop { start: usize, end: usize },
}

impl Class {
    /// The command tag the server would answer with.
    pub fn tag(&self) -> &'static str {
        match self {
            Class::Begin { start: true, .. } => "START TRANSACTION",
            Class::Begin { .. } | Class::Test { begin: true, .. } => "BEGIN",
            Class::Commit { .. } => "COMMIT",
            Class::Rollback { .. } | Class::RollbackTo(_) | Class::Test { begin: false, .. } => {
                "ROLLBACK"
            }
            Class::Savepoint(_) => "SAVEPOINT",
            Class::Release(_) => "RELEASE",
            Class::PrepareTransaction => "PREPARE TRANSACTION",
            Class::DeallocateAll => "DEALLOCATE ALL",
            Class::DiscardAll => "DISCARD ALL",
            Class::SetTransaction => "SET",
            Class::Declare { .. } => "DECLARE CURSOR",
            Class::Lock { .. } => "LOCK TABLE",
            Class::Plain(_) => "",
        }
    }
}

/// Classifies one statement of `sql`.
pub fn classify(sql: &[u8], st: &Statement) -> Class {
    let t = &st.tokens;
    let w = |i: usize| t.get(i).and_then(|t| t.word(sql)).unwrap_or_default();
    let first = w(0);
    // `BEGIN [WORK | TRANSACTION]` and `COMMIT [WORK | TRANSACTION]`, ...
    let noise = |i: usize| usize::from(matches!(w(i).as_str(), "work" | "transaction"));
    match first.as_str() {
        "begin" if w(1) == "test" => Class::Test {
            begin: true,
            name: t.get(2).and_then(|t| t.string(sql)),
        },
        "begin" => Class::Begin {
            start: false,
            modes: asks_modes(sql, &t[1 + noise(1)..]),
        },
        "start" if w(1) == "transaction" => Class::Begin {
            start: true,
            modes: asks_modes(sql, &t[2..]),
        },
        "commit" | "end" if w(1) == "prepared" => plain(sql, st),
        "commit" | "end" => Class::Commit {
            chain: chained(sql, &t[1 + noise(1)..]),
        },
        "rollback" if w(1) == "test" => Class::Test {
            begin: false,
            name: t.get(2).and_then(|t| t.string(sql)),
        },
        "rollback" if w(1) == "prepared" => plain(sql, st),
        "rollback" | "abort" => {
            let at = 1 + noise(1);
            if first == "rollback" && w(at) == "to" {
                let at = at + 1 + usize::from(w(at + 1) == "savepoint");
                Class::RollbackTo(ident(sql, t, at))
            } else {
                Class::Rollback {
                    chain: chained(sql, &t[at.min(t.len())..]),
                }
            }
        }
        "savepoint" => Class::Savepoint(ident(sql, t, 1)),
        "release" => Class::Release(ident(sql, t, 1 + usize::from(w(1) == "savepoint"))),
        "prepare" if w(1) == "transaction" => Class::PrepareTransaction,
        "deallocate" => {
            let at = 1 + usize::from(w(1) == "prepare");
            if w(at) == "all" && t.len() == at + 1 {
                Class::DeallocateAll
            } else {
                plain(sql, st)
            }
        }
        "discard" if w(1) == "all" => Class::DiscardAll,
        "set" if w(1) == "transaction" => Class::SetTransaction,
        "declare" => Class::Declare {
            name: ident(sql, t, 1),
            hold: holds(sql, t),
        },
        "lock" => Class::Lock {
            name: String::new(),
        },
        _ => plain(sql, st),
    }
}

/// The identifier at `at`, or an empty name (the server will refuse it).
fn ident(sql: &[u8], t: &[Token], at: usize) -> String {
    t.get(at).and_then(|t| t.ident(sql)).unwrap_or_default()
}

/// Transaction modes that one shared transaction cannot honour per client.
fn asks_modes(sql: &[u8], t: &[Token]) -> bool {
    let words: Vec<String> = t.iter().filter_map(|t| t.word(sql)).collect();
    words.iter().enumerate().any(|(i, w)| match w.as_str() {
        "serializable" | "repeatable" | "uncommitted" => true,
        "only" => i > 0 && words[i - 1] == "read",
        "deferrable" => i == 0 || words[i - 1] != "not",
        _ => false,
    })
}

/// `AND CHAIN` (not `AND NO CHAIN`).
fn chained(sql: &[u8], t: &[Token]) -> bool {
    t.len() == 2 && t[0].is(sql, "and") && t[1].is(sql, "chain")
}

/// `DECLARE name ... CURSOR WITH HOLD FOR ...`.
fn holds(sql: &[u8], t: &[Token]) -> bool {
    t.windows(2)
        .take_while(|p| !p[0].is(sql, "for"))
        .any(|p| p[0].is(sql, "with") && p[1].is(sql, "hold"))
}

fn plain(sql: &[u8], st: &Statement) -> Class {
    let t = &st.tokens;
    let w = |i: usize| t.get(i).and_then(|t| t.word(sql)).unwrap_or_default();
    let first = w(0);
    let mut p = Plain {
        ddl: matches!(
            first.as_str(),
            "create" | "alter" | "do" | "call" | "import"
        ),
        copy_in: first == "copy" && t.iter().any(|t| t.is(sql, "stdin")),
        ..Plain::default()
    };
    let rename = |p: &mut Plain, at: usize, op: Option<Prepared>| {
        if let Some(tok) = t.get(at)
            && let Some(name) = tok.ident(sql)
        {
            if let Some(op) = op {
                p.prepared = Some((op, name.clone()));
            }
            p.edits.push(Edit::Rename {
                start: tok.start,
                end: tok.end,
                name,
            });
        }
    };
    match first.as_str() {
        "prepare" => rename(&mut p, 1, Some(Prepared::Prepare)),
        "deallocate" => {
            let at = 1 + usize::from(w(1) == "prepare");
            rename(&mut p, at, Some(Prepared::Deallocate));
        }
        "execute" => rename(&mut p, 1, None),
        "explain" => {
            if let Some(at) = explained_execute(sql, t) {
                rename(&mut p, at + 1, None);
            }
        }
        "create" => {
            // CREATE TABLE ... AS EXECUTE name; not `EXECUTE FUNCTION` of triggers.
            if let Some(at) =
                (1..t.len()).find(|&i| t[i].is(sql, "execute") && t[i - 1].is(sql, "as"))
            {
                rename(&mut p, at + 1, None);
            }
            let index = if w(1) == "unique" { 2 } else { 1 };
            if w(index) == "index" && w(index + 1) == "concurrently" {
                drop_token(&mut p, &t[index + 1]);
            }
        }
        "drop" if w(1) == "index" && w(2) == "concurrently" => drop_token(&mut p, &t[2]),
        "reindex" => {
            // REINDEX [(options)] INDEX|TABLE CONCURRENTLY name.
            let mut at = 1;
            if t.get(1).is_some_and(|t| t.is_punct(sql, b'(')) {
                at = t
                    .iter()
                    .position(|t| t.is_punct(sql, b')'))
                    .map_or(t.len(), |i| i + 1);
            }
            if matches!(w(at).as_str(), "index" | "table") && w(at + 1) == "concurrently" {
                drop_token(&mut p, &t[at + 1]);
            }
        }
        _ => {}
    }
    Class::Plain(p)
}

fn drop_token(p: &mut Plain, t: &Token) {
    p.edits.push(Edit::Drop {
        start: t.start,
        end: t.end,
    });
}

/// `EXPLAIN [ANALYZE] [VERBOSE] [(options)] EXECUTE name`: where EXECUTE is.
fn explained_execute(sql: &[u8], t: &[Token]) -> Option<usize> {
    let mut i = 1;
    let mut depth = 0usize;
    while let Some(tok) = t.get(i) {
        if tok.is_punct(sql, b'(') {
            depth += 1;
        } else if tok.is_punct(sql, b')') {
            depth = depth.saturating_sub(1);
        } else if depth == 0 {
            match tok.word(sql).as_deref() {
                Some("analyze" | "analyse" | "verbose") => {}
                Some("execute") => return Some(i),
                _ => return None,
            }
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::super::lexer::split;
    use super::*;

    fn class(sql: &str) -> Class {
        let sts = split(sql.as_bytes(), true);
        classify(sql.as_bytes(), &sts[0])
    }

    #[test]
    fn transaction_control() {
        for (sql, want) in [
            (
                "BEGIN",
                Class::Begin {
                    start: false,
                    modes: false,
                },
            ),
            (
                "begin work",
                Class::Begin {
                    start: false,
                    modes: false,
                },
            ),
            (
                "BEGIN ISOLATION LEVEL SERIALIZABLE",
                Class::Begin {
                    start: false,
                    modes: true,
                },
            ),
            (
                "begin transaction read write, not deferrable",
                Class::Begin {
                    start: false,
                    modes: false,
                },
            ),
            (
                "START TRANSACTION READ ONLY",
                Class::Begin {
                    start: true,
                    modes: true,
                },
            ),
            (
                "start transaction isolation level read committed",
                Class::Begin {
                    start: true,
                    modes: false,
                },
            ),
            ("COMMIT", Class::Commit { chain: false }),
            ("end transaction", Class::Commit { chain: false }),
            ("commit and chain", Class::Commit { chain: true }),
            ("commit and no chain", Class::Commit { chain: false }),
            ("ROLLBACK", Class::Rollback { chain: false }),
            ("abort work and chain", Class::Rollback { chain: true }),
            ("rollback to savepoint \"A\"", Class::RollbackTo("A".into())),
            ("ROLLBACK WORK TO b", Class::RollbackTo("b".into())),
            ("SAVEPOINT _pg3_1", Class::Savepoint("_pg3_1".into())),
            ("release savepoint Sp", Class::Release("sp".into())),
            ("RELEASE x", Class::Release("x".into())),
            ("prepare transaction 'x'", Class::PrepareTransaction),
            ("DEALLOCATE ALL", Class::DeallocateAll),
            ("deallocate prepare all", Class::DeallocateAll),
            ("DISCARD ALL", Class::DiscardAll),
            (
                "SET TRANSACTION ISOLATION LEVEL SERIALIZABLE",
                Class::SetTransaction,
            ),
            (
                "declare c cursor for select 1",
                Class::Declare {
                    name: "c".into(),
                    hold: false,
                },
            ),
            (
                "DECLARE \"C\" CURSOR WITH HOLD FOR select 1",
                Class::Declare {
                    name: "C".into(),
                    hold: true,
                },
            ),
            (
                "LOCK TABLE t",
                Class::Lock {
                    name: String::new(),
                },
            ),
            (
                "BEGIN TEST 'login'",
                Class::Test {
                    begin: true,
                    name: Some("login".into()),
                },
            ),
            (
                "rollback test 'login'",
                Class::Test {
                    begin: false,
                    name: Some("login".into()),
                },
            ),
        ] {
            assert_eq!(class(sql), want, "{sql}");
        }
    }

    #[test]
    fn plain_statements() {
        for sql in [
            "select 1",
            "COMMIT PREPARED 'x'",
            "rollback prepared 'x'",
            "SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL SERIALIZABLE",
            "begin_x()",
            "vacuum",
            "set transaction_isolation = 'serializable'",
            "",
        ] {
            assert!(matches!(class(sql), Class::Plain(_)), "{sql}");
        }
        let Class::Plain(p) = class("copy t from stdin with (format csv)") else {
            panic!()
        };
        assert!(p.copy_in && !p.ddl);
        let Class::Plain(p) = class("COPY t TO STDOUT") else {
            panic!()
        };
        assert!(!p.copy_in);
        let Class::Plain(p) = class("create table t (id int)") else {
            panic!()
        };
        assert!(p.ddl);
    }

    fn edits(sql: &str) -> Vec<String> {
        let Class::Plain(p) = class(sql) else {
            panic!("{sql}")
        };
        p.edits
            .iter()
            .map(|e| match e {
                Edit::Rename { start, end, name } => {
                    format!("rename {}={name}", &sql[*start..*end])
                }
                Edit::Drop { start, end } => format!("drop {}", &sql[*start..*end]),
            })
            .collect()
    }

    #[test]
    fn names_and_concurrently() {
        assert_eq!(edits("PREPARE Foo(int) AS select $1"), ["rename Foo=foo"]);
        assert_eq!(edits("execute \"Foo\"(1)"), ["rename \"Foo\"=Foo"]);
        assert_eq!(edits("deallocate prepare foo"), ["rename foo=foo"]);
        assert_eq!(
            edits("explain (analyze, costs off) execute foo(1)"),
            ["rename foo=foo"]
        );
        assert_eq!(
            edits("explain analyze verbose execute foo"),
            ["rename foo=foo"]
        );
        assert_eq!(
            edits("create table t as execute foo(1)"),
            ["rename foo=foo"]
        );
        assert!(edits("create trigger t after insert on x execute function f()").is_empty());
        assert!(edits("explain select 1").is_empty());
        assert_eq!(
            edits("create unique index concurrently if not exists i on t (a)"),
            ["drop concurrently"]
        );
        assert_eq!(edits("DROP INDEX CONCURRENTLY i"), ["drop CONCURRENTLY"]);
        assert_eq!(
            edits("reindex (verbose) table concurrently t"),
            ["drop concurrently"]
        );
        assert!(edits("refresh materialized view concurrently v").is_empty());
        let Class::Plain(p) = class("PREPARE q AS select 1") else {
            panic!()
        };
        assert_eq!(p.prepared, Some((Prepared::Prepare, "q".into())));
    }
}
