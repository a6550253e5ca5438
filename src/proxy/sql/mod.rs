//! The SQL the proxy has to understand: a lexer that splits a simple
//! Query into statements, a classifier that says which of them the shared
//! transaction must handle itself, and the edits applied to the others.

pub mod classify;
pub mod lexer;

pub use classify::{Class, Edit, Plain, Prepared};

/// A run of a simple Query: statements passed on together, or one the
/// proxy handles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    Forward {
        text: Vec<u8>,
        /// Some statement is `COPY ... FROM STDIN`.
        copy_in: bool,
        /// Some statement may change the schema.
        ddl: bool,
        /// PREPARE / DEALLOCATE names, in order.
        prepared: Vec<(Prepared, String)>,
    },
    Special {
        /// The statement's own text, for the cases where it is passed on.
        text: Vec<u8>,
        class: Class,
    },
}

/// Splits a simple Query into segments. `rename` gives the server's name
/// for a prepared statement name of this client (already quoted).
pub fn segments(
    sql: &[u8],
    standard_strings: bool,
    rename: &dyn Fn(&str) -> String,
) -> Vec<Segment> {
    let statements = lexer::split(sql, standard_strings);
    let mut out = Vec::new();
    let mut run: Option<(usize, usize, Vec<Plain>)> = None;
    let flush = |run: &mut Option<(usize, usize, Vec<Plain>)>, out: &mut Vec<Segment>| {
        if let Some((start, end, plains)) = run.take() {
            let edits: Vec<Edit> = plains
                .iter()
                .flat_map(|p| p.edits.iter().cloned())
                .collect();
            out.push(Segment::Forward {
                text: apply(sql, start, end, &edits, rename),
                copy_in: plains.iter().any(|p| p.copy_in),
                ddl: plains.iter().any(|p| p.ddl),
                prepared: plains.into_iter().filter_map(|p| p.prepared).collect(),
            });
        }
    };
    for st in &statements {
        match classify::classify(sql, st) {
            Class::Plain(p) => match &mut run {
                Some((_, end, plains)) => {
                    *end = st.end;
                    plains.push(p);
                }
                None => run = Some((st.start, st.end, vec![p])),
            },
            class => {
                flush(&mut run, &mut out);
                out.push(Segment::Special {
                    text: sql[st.start..st.end].to_vec(),
                    class,
                });
            }
        }
    }
    flush(&mut run, &mut out);
    out
}

/// The statement of a Parse message, classified, and its text for the
/// server. Text with several statements is passed on unchanged for the
/// server to refuse.
pub fn parsed(
    sql: &[u8],
    standard_strings: bool,
    rename: &dyn Fn(&str) -> String,
) -> (Class, Vec<u8>) {
    let statements = lexer::split(sql, standard_strings);
    let mut real = statements.iter().filter(|s| !s.tokens.is_empty());
    let (Some(st), None) = (real.next(), real.next()) else {
        return (Class::Plain(Plain::default()), sql.to_vec());
    };
    let class = classify::classify(sql, st);
    let text = match &class {
        Class::Plain(p) if !p.edits.is_empty() => apply(sql, 0, sql.len(), &p.edits, rename),
        _ => sql.to_vec(),
    };
    (class, text)
}

/// `sql[start..end]` with `edits` applied.
pub fn apply(
    sql: &[u8],
    start: usize,
    end: usize,
    edits: &[Edit],
    rename: &dyn Fn(&str) -> String,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(end - start + 16);
    let mut at = start;
    for edit in edits {
        let (s, e, with) = match edit {
            Edit::Rename { start, end, name } => (*start, *end, rename(name).into_bytes()),
            Edit::Drop { start, end } => (*start, *end, Vec::new()),
        };
        if s < at || e > end {
            continue;
        }
        out.extend_from_slice(&sql[at..s]);
        out.extend_from_slice(&with);
        at = e;
    }
    out.extend_from_slice(&sql[at..end]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rename(name: &str) -> String {
        format!("\"c1_{name}\"")
    }

    #[test]
    fn plain_text_is_one_segment_unchanged() {
        let sql = b"insert into t values (1); select 'BEGIN;'; -- COMMIT\n";
        assert_eq!(
            segments(sql, true, &rename),
            [Segment::Forward {
                text: sql.to_vec(),
                copy_in: false,
                ddl: false,
                prepared: vec![]
            }]
        );
    }

    #[test]
    fn transaction_control_splits_the_text() {
        let sql = b"insert into t values (1); BEGIN; PREPARE q AS select 1; execute q; COMMIT";
        let segs = segments(sql, true, &rename);
        assert_eq!(segs.len(), 4, "{segs:?}");
        assert!(
            matches!(&segs[0], Segment::Forward { text, .. } if text == b"insert into t values (1);")
        );
        assert!(
            matches!(&segs[1], Segment::Special { class: Class::Begin { .. }, text } if text == b" BEGIN;")
        );
        let Segment::Forward { text, prepared, .. } = &segs[2] else {
            panic!()
        };
        assert_eq!(
            String::from_utf8_lossy(text),
            " PREPARE \"c1_q\" AS select 1; execute \"c1_q\";"
        );
        assert_eq!(prepared, &[(Prepared::Prepare, "q".to_string())]);
        assert!(matches!(
            &segs[3],
            Segment::Special {
                class: Class::Commit { .. },
                ..
            }
        ));
    }
}
