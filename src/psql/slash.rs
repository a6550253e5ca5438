//! The words of a meta-command, as psql reads them: the name runs to
//! whitespace or a backslash; arguments are separated by whitespace, may be
//! `'quoted'` (with `''` and backslash escapes), `"double-quoted"` (kept
//! with their quotes), `` `a shell command` `` (its output), or hold
//! `:variables`; `\\` ends the command and the line goes on as SQL.

use std::process::{Command, Stdio};

use super::lexer::{Input, variable_char};
use super::vars::{Vars, quote_ident, quote_literal};

/// Reads the name after the backslash at the input's position.
pub fn name(input: &mut Input) -> String {
    input.advance(1); // the backslash
    let rest = input.rest();
    let n = rest
        .find(|c: char| c.is_whitespace() || c == '\\')
        .unwrap_or(rest.len());
    let name = rest[..n].to_string();
    input.advance(n);
    name
}

/// Reads the next argument, expanding variables and running backticks
/// when `eval`; otherwise (a skipped `\if` branch, a check before running)
/// they stay as written. `None`: no more.
pub fn argument(input: &mut Input, vars: &Vars, eval: bool) -> Option<String> {
    let rest = input.rest();
    let start = rest
        .find(|c: char| !c.is_whitespace())
        .unwrap_or(rest.len());
    input.advance(start);
    let rest = input.rest();
    if rest.is_empty() || rest.starts_with('\\') {
        return None;
    }
    let mut out = String::new();
    loop {
        let rest = input.rest();
        let Some(c) = rest.chars().next() else { break };
        if c.is_whitespace() || c == '\\' {
            break;
        }
        match c {
            '\'' => {
                input.advance(1);
                single_quoted(input, &mut out);
            }
            '"' => {
                let end = rest[1..].find('"').map(|i| i + 2).unwrap_or(rest.len());
                out.push_str(&rest[..end]);
                input.advance(end);
            }
            '`' => {
                let end = rest[1..].find('`').map(|i| i + 1).unwrap_or(rest.len());
                let command = rest[1..end].to_string();
                let whole = (end + 1).min(rest.len());
                if !eval {
                    out.push_str(&rest[..whole]);
                }
                input.advance(whole);
                if eval {
                    out.push_str(&backtick(&command));
                }
            }
            ':' => {
                let n = variable(rest, vars, eval, &mut out);
                input.advance(n);
            }
            c => {
                out.push(c);
                input.advance(c.len_utf8());
            }
        }
    }
    Some(out)
}

/// Everything left of the command's line, unparsed (for `\!`-like
/// commands); stops at `\\`.
pub fn rest_of_line(input: &mut Input) -> String {
    let rest = input.rest();
    let n = rest.find("\\\\").unwrap_or(rest.len());
    let text = rest[..n].trim().to_string();
    input.advance(n);
    text
}

/// Ends the command: a `\\` after it is eaten, so that the rest of the
/// line is SQL again.
pub fn end(input: &mut Input) {
    let rest = input.rest();
    let start = rest
        .find(|c: char| !c.is_whitespace())
        .unwrap_or(rest.len());
    if rest[start..].starts_with("\\\\") {
        input.advance(start + 2);
    }
}

/// `'...'` after its opening quote: `''`, `\n`, `\t`, octal and hex
/// escapes; a backslash before anything else keeps that character.
fn single_quoted(input: &mut Input, out: &mut String) {
    loop {
        let rest = input.rest();
        let Some(c) = rest.chars().next() else { return };
        match c {
            '\'' if rest[1..].starts_with('\'') => {
                out.push('\'');
                input.advance(2);
            }
            '\'' => {
                input.advance(1);
                return;
            }
            '\\' => {
                let (ch, n) = escape(&rest[1..]);
                if let Some(ch) = ch {
                    out.push(ch);
                }
                input.advance(1 + n);
            }
            c => {
                out.push(c);
                input.advance(c.len_utf8());
            }
        }
    }
}

/// A backslash escape's character and how many bytes after the backslash
/// it took.
fn escape(s: &str) -> (Option<char>, usize) {
    let Some(c) = s.chars().next() else {
        return (None, 0);
    };
    let simple = match c {
        'n' => Some('\n'),
        't' => Some('\t'),
        'b' => Some('\x08'),
        'r' => Some('\r'),
        'f' => Some('\x0c'),
        _ => None,
    };
    if let Some(ch) = simple {
        return (Some(ch), 1);
    }
    if c.is_digit(8) {
        let n = s.chars().take(3).take_while(|c| c.is_digit(8)).count();
        let v = u32::from_str_radix(&s[..n], 8).unwrap_or(0);
        return (char::from_u32(v), n);
    }
    if c == 'x' {
        let n = s[1..]
            .chars()
            .take(2)
            .take_while(char::is_ascii_hexdigit)
            .count();
        if n > 0 {
            let v = u32::from_str_radix(&s[1..1 + n], 16).unwrap_or(0);
            return (char::from_u32(v), 1 + n);
        }
    }
    (Some(c), c.len_utf8())
}

/// `:name`, `:'name'`, `:"name"`, `:{?name}` in an argument; returns how
/// many bytes it took. Unknown variables stay as written.
fn variable(rest: &str, vars: &Vars, eval: bool, out: &mut String) -> usize {
    let body = &rest[1..];
    let (open, close) = if body.starts_with('\'') {
        ("'", "'")
    } else if body.starts_with('"') {
        ("\"", "\"")
    } else if body.starts_with("{?") {
        ("{?", "}")
    } else {
        ("", "")
    };
    let inner = &body[open.len()..];
    let end = inner
        .find(|c: char| !variable_char(c))
        .unwrap_or(inner.len());
    if end == 0 || !inner[end..].starts_with(close) {
        out.push(':');
        return 1;
    }
    let len = 1 + open.len() + end + close.len();
    let name = &inner[..end];
    if !eval {
        out.push_str(&rest[..len]);
        return len;
    }
    match (open, vars.get(name)) {
        ("{?", v) => out.push_str(if v.is_some() { "TRUE" } else { "FALSE" }),
        (_, None) => out.push_str(&rest[..len]),
        ("'", Some(v)) => out.push_str(&quote_literal(v)),
        ("\"", Some(v)) => out.push_str(&quote_ident(v)),
        (_, Some(v)) => out.push_str(v),
    }
    len
}

/// A backquoted shell command's output, without its last newline.
fn backtick(command: &str) -> String {
    let output = Command::new("/bin/sh")
        .arg("-c")
        .arg(command)
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output();
    match output {
        Ok(out) => {
            let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
            if text.ends_with('\n') {
                text.pop();
            }
            text
        }
        Err(_) => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(line: &str, vars: &Vars) -> (String, Vec<String>, String) {
        let mut input = Input::new(line);
        let name = name(&mut input);
        let mut args = Vec::new();
        while let Some(a) = argument(&mut input, vars, true) {
            args.push(a);
        }
        end(&mut input);
        (name, args, input.rest().to_string())
    }

    #[test]
    fn arguments_as_psql_splits_them() {
        let mut v = Vars::default();
        v.put("f", "setup.sql");
        v.put("t", "it's");
        let (name, args, rest) = words(r"\set x 'a b' 'it''s' 'x\ty' c", &v);
        assert_eq!(name, "set");
        assert_eq!(args, vec!["x", "a b", "it's", "x\ty", "c"]);
        assert_eq!(rest, "");
        let (_, args, _) = words(r#"\echo "q r" :f :'t' :nope pre:f"#, &v);
        assert_eq!(
            args,
            vec!["\"q r\"", "setup.sql", "'it''s'", ":nope", "presetup.sql"]
        );
        let (name, args, rest) = words(r"\i t/setup.sql \\ SELECT 1;", &v);
        assert_eq!(
            (name.as_str(), args),
            ("i", vec!["t/setup.sql".to_string()])
        );
        assert_eq!(rest, " SELECT 1;");
        let (name, args, rest) = words(r"\set a 1\set b 2", &v);
        assert_eq!((name.as_str(), args.len()), ("set", 2));
        assert_eq!(rest, r"\set b 2");
        let (_, args, _) = words("\\set now `echo hi`", &v);
        assert_eq!(args, vec!["now", "hi"]);
    }
}
