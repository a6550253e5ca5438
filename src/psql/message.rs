//! An error or notice as psql prints it: libpq's text (severity, message,
//! the `LINE n:` of the query with a caret under the error's position,
//! DETAIL, HINT, QUERY, CONTEXT, as `VERBOSITY` and `SHOW_CONTEXT` ask),
//! behind psql's `psql:FILE:LINE: ` when a script is running.

use std::fmt::Write;

use super::vars::{ShowContext, Verbosity};
use crate::wire::Report;

/// How wide the `LINE n:` excerpt may be, and how far from its end the
/// caret is kept (libpq's choices).
const DISPLAY_SIZE: usize = 60;
const MIN_RIGHT_CUT: usize = 10;

/// libpq's message for `report`, a result of running `query`.
pub fn render(
    report: &Report,
    query: Option<&str>,
    verbosity: Verbosity,
    context: ShowContext,
    is_error: bool,
) -> String {
    let mut out = String::new();
    let severity = report.field(b'S').or(report.field(b'V')).unwrap_or("ERROR");
    let _ = write!(out, "{severity}:  ");
    let mut verbosity = verbosity;
    if verbosity == Verbosity::Sqlstate {
        if let Some(code) = report.field(b'C') {
            let _ = writeln!(out, "{code}");
            return out;
        }
        verbosity = Verbosity::Terse;
    }
    if verbosity == Verbosity::Verbose
        && let Some(code) = report.field(b'C')
    {
        let _ = write!(out, "{code}: ");
    }
    out.push_str(report.message());
    let mut cursor: Option<(&str, usize)> = None;
    if let Some(pos) = report.field(b'P') {
        match query {
            Some(q) if verbosity != Verbosity::Terse => {
                cursor = Some((q, pos.parse().unwrap_or(0)));
            }
            _ => {
                let _ = write!(out, " at character {pos}");
            }
        }
    } else if let Some(pos) = report.field(b'p') {
        match report.field(b'q') {
            Some(q) if verbosity != Verbosity::Terse => {
                cursor = Some((q, pos.parse().unwrap_or(0)));
            }
            _ => {
                let _ = write!(out, " at character {pos}");
            }
        }
    }
    out.push('\n');
    if verbosity != Verbosity::Terse {
        if let Some((q, pos)) = cursor
            && pos > 0
        {
            position(&mut out, q, pos);
        }
        for (code, label) in [(b'D', "DETAIL"), (b'H', "HINT"), (b'q', "QUERY")] {
            if let Some(v) = report.field(code) {
                let _ = writeln!(out, "{label}:  {v}");
            }
        }
        if (context == ShowContext::Always || (context == ShowContext::Errors && is_error))
            && let Some(v) = report.field(b'W')
        {
            let _ = writeln!(out, "CONTEXT:  {v}");
        }
    }
    if verbosity == Verbosity::Verbose {
        for (code, label) in [
            (b's', "SCHEMA NAME"),
            (b't', "TABLE NAME"),
            (b'c', "COLUMN NAME"),
            (b'd', "DATATYPE NAME"),
            (b'n', "CONSTRAINT NAME"),
        ] {
            if let Some(v) = report.field(code) {
                let _ = writeln!(out, "{label}:  {v}");
            }
        }
        let (file, line, routine) = (report.field(b'F'), report.field(b'L'), report.field(b'R'));
        if file.is_some() || line.is_some() || routine.is_some() {
            out.push_str("LOCATION:  ");
            if let Some(r) = routine {
                let _ = write!(out, "{r}, ");
            }
            if let (Some(f), Some(l)) = (file, line) {
                let _ = write!(out, "{f}:{l}");
            }
            out.push('\n');
        }
    }
    out
}

/// `LINE n: ...` and the caret under character `loc` (1-based) of `query`,
/// cut to about 60 columns around it.
fn position(out: &mut String, query: &str, loc: usize) {
    let loc = loc - 1;
    // Per character: its text (tabs shown as spaces) and screen column.
    let chars: Vec<char> = query
        .chars()
        .map(|c| if c == '\t' { ' ' } else { c })
        .collect();
    let mut line = 1;
    let mut begin = 0;
    let mut end = None;
    for (i, &c) in chars.iter().enumerate() {
        if c == '\r' || c == '\n' {
            if i < loc {
                if c == '\r' || i == 0 || chars[i - 1] != '\r' {
                    line += 1;
                }
                begin = i + 1;
            } else {
                end = Some(i);
                break;
            }
        }
    }
    let mut end = end.unwrap_or(chars.len());
    if loc > chars.len() {
        return;
    }
    // One column per character: wide characters are rare in test scripts.
    let (mut begin_cut, mut end_cut) = (false, false);
    if end - begin > DISPLAY_SIZE {
        if begin + DISPLAY_SIZE >= loc + MIN_RIGHT_CUT {
            while end - begin > DISPLAY_SIZE {
                end -= 1;
            }
            end_cut = true;
        } else {
            while loc + MIN_RIGHT_CUT < end {
                end -= 1;
                end_cut = true;
            }
            let mut b = begin;
            while end - b > DISPLAY_SIZE {
                b += 1;
                begin_cut = true;
            }
            begin = b;
        }
    }
    let prefix = format!("LINE {line}: {}", if begin_cut { "..." } else { "" });
    let width = prefix.chars().count();
    out.push_str(&prefix);
    out.extend(&chars[begin..end]);
    if end_cut {
        out.push_str("...");
    }
    out.push('\n');
    out.push_str(&" ".repeat(width + loc - begin));
    out.push_str("^\n");
}

/// psql's prefix for messages while it runs a script: `psql:FILE:LINE: `
/// (nothing for `--command`).
pub fn prefix(file: &str, line: u64) -> String {
    if file.is_empty() {
        String::new()
    } else {
        format!("psql:{file}:{line}: ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(fields: &[(u8, &str)]) -> Report {
        Report::from_fields(fields.iter().map(|(c, v)| (*c, v.to_string())).collect())
    }

    #[test]
    fn an_error_with_its_position() {
        let r = report(&[
            (b'S', "ERROR"),
            (b'M', "relation \"no_such_table\" does not exist"),
            (b'P', "15"),
        ]);
        assert_eq!(
            render(
                &r,
                Some("SELECT * FROM no_such_table;"),
                Verbosity::Default,
                ShowContext::Errors,
                true
            ),
            "ERROR:  relation \"no_such_table\" does not exist\n\
             LINE 1: SELECT * FROM no_such_table;\n                      ^\n"
        );
        let r = report(&[
            (b'S', "ERROR"),
            (b'M', "syntax error at or near \"FRM\""),
            (b'P', "20"),
        ]);
        assert_eq!(
            render(
                &r,
                Some("SELECT 1,\n       2 FRM x;"),
                Verbosity::Default,
                ShowContext::Errors,
                true
            ),
            "ERROR:  syntax error at or near \"FRM\"\nLINE 2:        2 FRM x;\n                 ^\n"
        );
        assert_eq!(
            render(&r, Some("x"), Verbosity::Terse, ShowContext::Errors, true),
            "ERROR:  syntax error at or near \"FRM\" at character 20\n"
        );
    }

    #[test]
    fn long_lines_are_cut() {
        let query = format!("SELECT {} + nope;", "1 + ".repeat(30));
        let loc = query.find("nope").unwrap() + 1;
        let r = report(&[(b'S', "ERROR"), (b'M', "x"), (b'P', &loc.to_string())]);
        let text = render(
            &r,
            Some(&query),
            Verbosity::Default,
            ShowContext::Errors,
            true,
        );
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[1].starts_with("LINE 1: ..."), "{text}");
        let caret = lines[2].find('^').unwrap();
        assert_eq!(&lines[1][caret..caret + 4], "nope");
    }

    #[test]
    fn details_and_context() {
        let r = report(&[
            (b'S', "ERROR"),
            (b'M', "boom"),
            (b'D', "the detail"),
            (b'H', "the hint"),
            (b'W', "PL/pgSQL function f() line 3 at RAISE"),
        ]);
        assert_eq!(
            render(&r, None, Verbosity::Default, ShowContext::Errors, true),
            "ERROR:  boom\nDETAIL:  the detail\nHINT:  the hint\nCONTEXT:  PL/pgSQL function f() line 3 at RAISE\n"
        );
        assert_eq!(
            render(&r, None, Verbosity::Default, ShowContext::Errors, false),
            "ERROR:  boom\nDETAIL:  the detail\nHINT:  the hint\n"
        );
    }
}
