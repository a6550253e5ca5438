//! psql's SQL scanner: where a statement ends. A semicolon ends one unless
//! it is inside quotes, a dollar quote, a comment, parentheses or the
//! `BEGIN ... END` body of a `CREATE FUNCTION ... BEGIN ATOMIC`; a
//! backslash starts a meta-command; `:name`, `:'name'`, `:"name"` and
//! `:{?name}` are replaced by variables outside quotes (a plain `:name`'s
//! value is scanned again, as psql does). Leading whitespace and `--`
//! comments are dropped, as psql drops them, so that the text sent (and the
//! `LINE n:` of an error) is psql's.
//! <https://www.postgresql.org/docs/current/app-psql.html#APP-PSQL-INTERPOLATION>

use super::vars::{Vars, quote_ident, quote_literal};

#[derive(Debug, Clone, PartialEq, Eq, Default)]
enum State {
    #[default]
    Initial,
    /// `/* ... */`, nested.
    Comment,
    /// `'...'` with standard_conforming_strings, and B'', X'', U&''.
    Quote,
    /// `E'...'`: backslash escapes.
    Escape,
    /// `"..."`, U&"...".
    Ident,
    /// `$tag$ ... $tag$`.
    Dollar(String),
}

/// Why scanning stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// A statement-ending semicolon (in the buffer now).
    Semicolon,
    /// A backslash that starts a meta-command, at the input's position.
    Backslash,
    /// The end of the line.
    EndOfLine,
}

/// The scanner's state, kept from line to line.
#[derive(Debug, Clone)]
pub struct Lexer {
    state: State,
    xc_depth: u32,
    paren_depth: u32,
    begin_depth: u32,
    identifiers: [u8; 4],
    identifier_count: usize,
    /// standard_conforming_strings: `'\'` is a backslash, not an escape.
    pub std_strings: bool,
}

impl Default for Lexer {
    fn default() -> Self {
        Lexer {
            state: State::Initial,
            xc_depth: 0,
            paren_depth: 0,
            begin_depth: 0,
            identifiers: [0; 4],
            identifier_count: 0,
            std_strings: true,
        }
    }
}

/// One line being scanned, with the variables spliced into it.
#[derive(Debug, Clone, Default)]
pub struct Input {
    text: String,
    pos: usize,
    /// Variables being expanded: their name and how much text follows
    /// their value.
    expanding: Vec<(String, usize)>,
}

impl Input {
    pub fn new(line: &str) -> Input {
        Input {
            text: line.to_string(),
            pos: 0,
            expanding: Vec::new(),
        }
    }

    pub fn rest(&self) -> &str {
        &self.text[self.pos..]
    }

    pub fn advance(&mut self, n: usize) {
        self.pos = (self.pos + n).min(self.text.len());
        let left = self.text.len() - self.pos;
        while self.expanding.last().is_some_and(|(_, tail)| left <= *tail) {
            self.expanding.pop();
        }
    }

    pub fn at_end(&self) -> bool {
        self.pos >= self.text.len()
    }

    fn expanding(&self, name: &str) -> bool {
        self.expanding.iter().any(|(n, _)| n == name)
    }

    /// Replaces the next `len` bytes by `value`, to be scanned next.
    fn splice(&mut self, len: usize, value: &str, name: &str) {
        let tail = self.text.len() - self.pos - len;
        self.text.replace_range(self.pos..self.pos + len, value);
        self.expanding.push((name.to_string(), tail));
        self.advance(0);
    }
}

/// `[A-Za-z_]` and any byte past ASCII.
pub fn ident_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_' || !c.is_ascii()
}

/// What a variable name is made of.
pub fn variable_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || !c.is_ascii()
}

fn ident_cont(c: char) -> bool {
    variable_char(c) || c == '$'
}

fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r' | '\x0c')
}

/// A `$tag$` delimiter at the start of `s`, if there is one.
fn dollar_delimiter(s: &str) -> Option<&str> {
    let body = s.strip_prefix('$')?;
    let mut chars = body.char_indices();
    match chars.next() {
        Some((_, '$')) => return Some(&s[..2]),
        Some((_, c)) if ident_start(c) => {}
        _ => return None,
    }
    for (i, c) in chars {
        if c == '$' {
            return Some(&s[..i + 2]);
        }
        if !variable_char(c) {
            return None;
        }
    }
    None
}

/// `:name` forms at the start of `s`: (length, name, quoting).
fn variable_reference(s: &str) -> Option<(usize, &str, char)> {
    let body = s.strip_prefix(':')?;
    let (open, close, quoting) = if body.starts_with('\'') {
        ("'", "'", '\'')
    } else if body.starts_with('"') {
        ("\"", "\"", '"')
    } else if body.starts_with("{?") {
        ("{?", "}", '?')
    } else {
        ("", "", ' ')
    };
    let inner = &body[open.len()..];
    let end = inner
        .find(|c: char| !variable_char(c))
        .unwrap_or(inner.len());
    if end == 0 || !inner[end..].starts_with(close) {
        return None;
    }
    Some((1 + open.len() + end + close.len(), &inner[..end], quoting))
}

impl Lexer {
    /// Not in the middle of a quote or comment (psql then ignores empty
    /// lines).
    pub fn in_quote(&self) -> bool {
        self.state != State::Initial
    }

    /// Forgets parentheses and the like after a forced send (`\g`).
    pub fn reset(&mut self) {
        *self = Lexer {
            std_strings: self.std_strings,
            ..Lexer::default()
        };
    }

    /// Scans `input` into `buf` until a statement ends, a meta-command
    /// starts, or the line ends. `warnings` gets psql's complaints.
    pub fn scan(
        &mut self,
        input: &mut Input,
        buf: &mut String,
        vars: &Vars,
        warnings: &mut Vec<String>,
    ) -> Stop {
        while !input.at_end() {
            let rest = input.rest();
            let c = rest.chars().next().unwrap_or_default();
            match &self.state {
                State::Initial => {
                    if let Some(stop) = self.initial(input, buf, vars, warnings) {
                        return stop;
                    }
                }
                State::Comment => {
                    let n = if rest.starts_with("/*") {
                        self.xc_depth += 1;
                        2
                    } else if rest.starts_with("*/") {
                        if self.xc_depth == 0 {
                            self.state = State::Initial;
                        } else {
                            self.xc_depth -= 1;
                        }
                        2
                    } else {
                        c.len_utf8()
                    };
                    buf.push_str(&rest[..n]);
                    input.advance(n);
                }
                State::Quote | State::Escape | State::Ident => {
                    let quote = if self.state == State::Ident {
                        '"'
                    } else {
                        '\''
                    };
                    let n = if self.state == State::Escape && c == '\\' {
                        1 + rest[1..].chars().next().map_or(0, char::len_utf8)
                    } else if c == quote && rest[1..].starts_with(quote) {
                        2
                    } else {
                        if c == quote {
                            self.state = State::Initial;
                        }
                        c.len_utf8()
                    };
                    buf.push_str(&rest[..n]);
                    input.advance(n);
                }
                State::Dollar(tag) => {
                    let n = match dollar_delimiter(rest) {
                        Some(d) if d == tag => {
                            self.state = State::Initial;
                            d.len()
                        }
                        // Not ours: keep its last `$` for the next try.
                        Some(d) => d.len() - 1,
                        None => c.len_utf8(),
                    };
                    buf.push_str(&rest[..n]);
                    input.advance(n);
                }
            }
        }
        Stop::EndOfLine
    }

    /// One token in the initial state; `Some` when scanning stops.
    fn initial(
        &mut self,
        input: &mut Input,
        buf: &mut String,
        vars: &Vars,
        warnings: &mut Vec<String>,
    ) -> Option<Stop> {
        let rest = input.rest();
        let c = rest.chars().next()?;
        let echo = |buf: &mut String, input: &mut Input, n: usize| {
            buf.push_str(&input.rest()[..n]);
            input.advance(n);
        };
        if rest.starts_with("--") {
            // To the end of the line (of a variable's value, maybe), dropped.
            let n = rest.find(['\n', '\r']).unwrap_or(rest.len());
            input.advance(n);
            return None;
        }
        if is_space(c) {
            let n = rest.find(|c| !is_space(c)).unwrap_or(rest.len());
            if buf.is_empty() {
                input.advance(n);
            } else {
                echo(buf, input, n);
            }
            return None;
        }
        if rest.starts_with("/*") {
            self.state = State::Comment;
            self.xc_depth = 0;
            echo(buf, input, 2);
            return None;
        }
        match c {
            '\'' => {
                self.state = if self.std_strings {
                    State::Quote
                } else {
                    State::Escape
                };
                echo(buf, input, 1);
            }
            '"' => {
                self.state = State::Ident;
                echo(buf, input, 1);
            }
            '$' => match dollar_delimiter(rest) {
                Some(d) => {
                    self.state = State::Dollar(d.to_string());
                    let n = d.len();
                    echo(buf, input, n);
                }
                None => echo(buf, input, 1),
            },
            '(' => {
                self.paren_depth += 1;
                echo(buf, input, 1);
            }
            ')' => {
                self.paren_depth = self.paren_depth.saturating_sub(1);
                echo(buf, input, 1);
            }
            ';' => {
                echo(buf, input, 1);
                if self.paren_depth == 0 && self.begin_depth == 0 {
                    self.identifier_count = 0;
                    return Some(Stop::Semicolon);
                }
            }
            '\\' => match rest[1..].chars().next() {
                Some(k @ (';' | ':')) => {
                    buf.push(k);
                    input.advance(2);
                    if k == ';' {
                        self.identifier_count = 0;
                    }
                }
                _ => return Some(Stop::Backslash),
            },
            ':' => self.colon(input, buf, vars, warnings),
            c if c.is_ascii_digit() => {
                let n = rest
                    .find(|c: char| !c.is_ascii_digit())
                    .unwrap_or(rest.len());
                echo(buf, input, n);
            }
            c if ident_start(c) => self.identifier(input, buf),
            c => echo(buf, input, c.len_utf8()),
        }
        None
    }

    fn colon(
        &mut self,
        input: &mut Input,
        buf: &mut String,
        vars: &Vars,
        warnings: &mut Vec<String>,
    ) {
        let rest = input.rest();
        if rest.starts_with("::") || rest.starts_with(":=") {
            buf.push_str(&rest[..2]);
            input.advance(2);
            return;
        }
        let Some((len, name, quoting)) = variable_reference(rest) else {
            buf.push(':');
            input.advance(1);
            return;
        };
        let name = name.to_string();
        let value = vars.get(&name).map(str::to_string);
        match (quoting, value) {
            ('?', v) => {
                buf.push_str(if v.is_some() { "TRUE" } else { "FALSE" });
                input.advance(len);
            }
            (_, None) => {
                buf.push_str(&input.rest()[..len]);
                input.advance(len);
            }
            ('\'', Some(v)) => {
                buf.push_str(&quote_literal(&v));
                input.advance(len);
            }
            ('"', Some(v)) => {
                buf.push_str(&quote_ident(&v));
                input.advance(len);
            }
            (_, Some(v)) => {
                if input.expanding(&name) {
                    warnings.push(format!(
                        "skipping recursive expansion of variable \"{name}\""
                    ));
                    buf.push_str(&input.rest()[..len]);
                    input.advance(len);
                } else {
                    input.splice(len, &v, &name);
                }
            }
        }
    }

    /// An identifier, or the letter that starts a B'', X'', E'', N'' or
    /// U&'' literal (or a U&"" identifier).
    fn identifier(&mut self, input: &mut Input, buf: &mut String) {
        let rest = input.rest();
        let mut chars = rest.chars();
        let first = chars.next().unwrap_or_default();
        let second = chars.next();
        let prefix_state = match (first.to_ascii_lowercase(), second) {
            ('b' | 'x', Some('\'')) => Some((State::Quote, 2)),
            ('e', Some('\'')) => Some((State::Escape, 2)),
            ('n', Some('\'')) => Some((State::Initial, 1)),
            ('u', Some('&')) if rest[2..].starts_with('\'') => Some((State::Quote, 3)),
            ('u', Some('&')) if rest[2..].starts_with('"') => Some((State::Ident, 3)),
            _ => None,
        };
        if let Some((state, n)) = prefix_state {
            self.state = state;
            buf.push_str(&rest[..n]);
            input.advance(n);
            return;
        }
        let n = rest.find(|c| !ident_cont(c)).unwrap_or(rest.len());
        let word = rest[..n].to_ascii_lowercase();
        self.track_function_body(&word);
        buf.push_str(&rest[..n]);
        input.advance(n);
    }

    /// psql's heuristic for `CREATE [OR REPLACE] FUNCTION|PROCEDURE ...
    /// BEGIN ATOMIC ... END`: semicolons inside the body do not end it.
    fn track_function_body(&mut self, word: &str) {
        if self.identifier_count == 0 {
            self.identifiers = [0; 4];
        }
        if matches!(word, "create" | "function" | "procedure" | "or" | "replace")
            && self.identifier_count < self.identifiers.len()
        {
            self.identifiers[self.identifier_count] = word.as_bytes()[0];
        }
        self.identifier_count += 1;
        let ids = self.identifiers;
        let in_create = ids[0] == b'c'
            && (matches!(ids[1], b'f' | b'p')
                || (ids[1] == b'o' && ids[2] == b'r' && matches!(ids[3], b'f' | b'p')));
        if in_create && self.paren_depth == 0 {
            match word {
                "begin" => self.begin_depth += 1,
                "case" if self.begin_depth >= 1 => self.begin_depth += 1,
                "end" => self.begin_depth = self.begin_depth.saturating_sub(1),
                _ => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Statements of a script, as psql would send them.
    fn statements(script: &str, vars: &Vars) -> Vec<String> {
        let mut lexer = Lexer::default();
        let mut buf = String::new();
        let mut out = Vec::new();
        let mut warnings = Vec::new();
        for line in script.lines() {
            if line.is_empty() && !lexer.in_quote() {
                continue;
            }
            if !buf.is_empty() {
                buf.push('\n');
            }
            let mut input = Input::new(line);
            loop {
                match lexer.scan(&mut input, &mut buf, vars, &mut warnings) {
                    Stop::Semicolon => out.push(std::mem::take(&mut buf)),
                    Stop::Backslash => panic!("no meta-commands here"),
                    Stop::EndOfLine => break,
                }
            }
        }
        if !buf.is_empty() {
            out.push(buf);
        }
        out
    }

    #[test]
    fn statements_end_where_psql_ends_them() {
        let v = Vars::default();
        assert_eq!(
            statements(
                "SELECT 1; SELECT 2;\n  -- a comment\nSELECT 'a;b', \"c;d\";",
                &v
            ),
            vec!["SELECT 1;", "SELECT 2;", "SELECT 'a;b', \"c;d\";"]
        );
        assert_eq!(
            statements("SELECT $$a;\nb$$, $x$;$y$;$x$;\nSELECT (1;\n2);", &v),
            vec!["SELECT $$a;\nb$$, $x$;$y$;$x$;", "SELECT (1;\n2);"]
        );
        assert_eq!(
            statements("SELECT /* ; /* ; */ ; */ 1;\nSELECT E'\\';', 2;", &v),
            vec!["SELECT /* ; /* ; */ ; */ 1;", "SELECT E'\\';', 2;"]
        );
        assert_eq!(
            statements("SELECT 1 -- trailing\n;", &v),
            vec!["SELECT 1 \n;"]
        );
        assert_eq!(statements("select 'it''s;';", &v), vec!["select 'it''s;';"]);
        assert_eq!(statements("SELECT 1", &v), vec!["SELECT 1"]);
    }

    #[test]
    fn function_bodies_in_begin_atomic() {
        let v = Vars::default();
        let sql = "CREATE FUNCTION f() RETURNS int LANGUAGE sql\nBEGIN ATOMIC\n  SELECT 1;\n  SELECT CASE WHEN true THEN 2 END;\nEND;\nSELECT 3;";
        let got = statements(sql, &v);
        assert_eq!(got.len(), 2, "{got:?}");
        assert!(got[0].ends_with("END;"));
        let begin = "BEGIN;\nSELECT 1;";
        assert_eq!(statements(begin, &v).len(), 2);
    }

    #[test]
    fn variables_outside_quotes() {
        let mut v = Vars::default();
        v.put("n", "42");
        v.put("t", "it's");
        v.put("tbl", "My T");
        v.put("q", "1; SELECT 2");
        assert_eq!(
            statements(
                "SELECT :n, ':n', :'t', :\"tbl\", :{?n}, :{?zz}, :zz, 1::int;",
                &v
            ),
            vec!["SELECT 42, ':n', 'it''s', \"My T\", TRUE, FALSE, :zz, 1::int;"]
        );
        // A value is scanned again: its semicolon ends a statement.
        assert_eq!(statements("SELECT :q;", &v), vec!["SELECT 1;", "SELECT 2;"]);
        let mut warnings = Vec::new();
        let mut r = Vars::default();
        r.put("a", ":a");
        let mut lexer = Lexer::default();
        let mut buf = String::new();
        lexer.scan(&mut Input::new("SELECT :a"), &mut buf, &r, &mut warnings);
        assert_eq!(buf, "SELECT :a");
        assert_eq!(warnings.len(), 1);
    }
}
