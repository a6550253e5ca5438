//! Splitting SQL text into statements and tokens, the way the server's
//! lexer sees it: `''` and `E''` strings (with backslashes when
//! `standard_conforming_strings` is off), `"quoted"` identifiers, dollar
//! quotes, `--` and nested `/* */` comments, parentheses, and the
//! `BEGIN ATOMIC ... END` bodies of SQL-standard functions, whose
//! semicolons do not end the statement (the same heuristic psql uses).
//! It works on bytes, so text that is not valid UTF-8 still splits, and it
//! never fails: what it cannot make sense of, the server will refuse.
//! <https://www.postgresql.org/docs/current/sql-syntax-lexical.html>

/// What a token is; only what classifying statements needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A keyword or unquoted identifier.
    Word,
    /// `"quoted"` or `U&"quoted"`.
    QuotedIdent,
    /// Any string constant, dollar quotes included.
    String,
    Number,
    /// `$1`.
    Param,
    /// Any other character, one at a time.
    Punct,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token {
    pub kind: Kind,
    pub start: usize,
    pub end: usize,
}

/// One statement: its bytes (its `;` included) and its tokens (no
/// comments, no `;`). A statement without tokens is empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    pub start: usize,
    pub end: usize,
    pub tokens: Vec<Token>,
}

impl Token {
    pub fn text<'a>(&self, sql: &'a [u8]) -> &'a [u8] {
        &sql[self.start..self.end]
    }

    /// A keyword, lower-cased; None for anything but a word.
    pub fn word(&self, sql: &[u8]) -> Option<String> {
        (self.kind == Kind::Word)
            .then(|| String::from_utf8_lossy(self.text(sql)).to_ascii_lowercase())
    }

    pub fn is(&self, sql: &[u8], keyword: &str) -> bool {
        self.kind == Kind::Word && self.text(sql).eq_ignore_ascii_case(keyword.as_bytes())
    }

    pub fn is_punct(&self, sql: &[u8], c: u8) -> bool {
        self.kind == Kind::Punct && self.text(sql) == [c]
    }

    /// An identifier as the server stores it: unquoted ones folded to
    /// lower case (ASCII only, as the server does for UTF-8), quoted ones
    /// with `""` undone. None for anything else, and for `U&""`.
    pub fn ident(&self, sql: &[u8]) -> Option<String> {
        let text = self.text(sql);
        match self.kind {
            Kind::Word => Some(String::from_utf8_lossy(text).to_ascii_lowercase()),
            Kind::QuotedIdent if text.first() == Some(&b'"') => {
                let inner = text
                    .get(1..text.len().saturating_sub(1))
                    .unwrap_or_default();
                Some(String::from_utf8_lossy(inner).replace("\"\"", "\""))
            }
            _ => None,
        }
    }

    /// The value of a plain `'string'` (no escapes); None for other tokens.
    pub fn string(&self, sql: &[u8]) -> Option<String> {
        let text = self.text(sql);
        (self.kind == Kind::String && text.first() == Some(&b'\'') && text.len() >= 2)
            .then(|| String::from_utf8_lossy(&text[1..text.len() - 1]).replace("''", "'"))
    }
}

fn ident_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_' || c >= 0x80
}

fn ident_cont(c: u8) -> bool {
    ident_start(c) || c.is_ascii_digit() || c == b'$'
}

/// Splits `sql` into statements. `standard_strings`: the session's
/// `standard_conforming_strings` (with it off, `\` escapes in `'...'`).
pub fn split(sql: &[u8], standard_strings: bool) -> Vec<Statement> {
    Lexer {
        sql,
        pos: 0,
        standard_strings,
    }
    .statements()
}

struct Lexer<'a> {
    sql: &'a [u8],
    pos: usize,
    standard_strings: bool,
}

/// How far a statement has gone, for `BEGIN ATOMIC` bodies.
#[derive(Default)]
struct Depth {
    parens: usize,
    begins: usize,
    /// The first words, to see `CREATE [OR REPLACE] FUNCTION|PROCEDURE`.
    leading: Vec<String>,
}

impl Depth {
    fn routine(&self) -> bool {
        let w: Vec<&str> = self.leading.iter().map(String::as_str).collect();
        matches!(
            w.as_slice(),
            ["create", "function" | "procedure", ..]
                | ["create", "or", "replace", "function" | "procedure", ..]
        )
    }

    fn word(&mut self, word: &str) {
        if self.leading.len() < 4 {
            self.leading.push(word.to_string());
        }
        if self.parens > 0 || !self.routine() {
            return;
        }
        match word {
            "begin" => self.begins += 1,
            "case" if self.begins > 0 => self.begins += 1,
            "end" if self.begins > 0 => self.begins -= 1,
            _ => {}
        }
    }
}

impl Lexer<'_> {
    fn peek(&self, off: usize) -> Option<u8> {
        self.sql.get(self.pos + off).copied()
    }

    fn statements(mut self) -> Vec<Statement> {
        let mut out = Vec::new();
        let mut start = 0;
        let mut tokens = Vec::new();
        let mut depth = Depth::default();
        loop {
            self.skip_blanks();
            let Some(c) = self.peek(0) else { break };
            if c == b';' && depth.parens == 0 && depth.begins == 0 {
                self.pos += 1;
                out.push(Statement {
                    start,
                    end: self.pos,
                    tokens: std::mem::take(&mut tokens),
                });
                start = self.pos;
                depth = Depth::default();
                continue;
            }
            let token = self.token(c);
            match token.kind {
                Kind::Word => {
                    depth.word(&String::from_utf8_lossy(token.text(self.sql)).to_ascii_lowercase())
                }
                Kind::Punct if c == b'(' => depth.parens += 1,
                Kind::Punct if c == b')' => depth.parens = depth.parens.saturating_sub(1),
                _ => {}
            }
            tokens.push(token);
        }
        if start < self.sql.len() || !tokens.is_empty() || out.is_empty() {
            out.push(Statement {
                start,
                end: self.sql.len(),
                tokens,
            });
        }
        out
    }

    /// Whitespace and comments.
    fn skip_blanks(&mut self) {
        while let Some(c) = self.peek(0) {
            match c {
                b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c => self.pos += 1,
                b'-' if self.peek(1) == Some(b'-') => {
                    while let Some(c) = self.peek(0) {
                        self.pos += 1;
                        if c == b'\n' || c == b'\r' {
                            break;
                        }
                    }
                }
                b'/' if self.peek(1) == Some(b'*') => {
                    self.pos += 2;
                    let mut nest = 1;
                    while nest > 0 {
                        match (self.peek(0), self.peek(1)) {
                            (None, _) => return,
                            (Some(b'/'), Some(b'*')) => {
                                nest += 1;
                                self.pos += 2;
                            }
                            (Some(b'*'), Some(b'/')) => {
                                nest -= 1;
                                self.pos += 2;
                            }
                            _ => self.pos += 1,
                        }
                    }
                }
                _ => return,
            }
        }
    }

    fn token(&mut self, c: u8) -> Token {
        let start = self.pos;
        let kind = match c {
            b'\'' => {
                self.quoted(b'\'', !self.standard_strings);
                Kind::String
            }
            b'"' => {
                self.quoted(b'"', false);
                Kind::QuotedIdent
            }
            b'e' | b'E' if self.peek(1) == Some(b'\'') => {
                self.pos += 1;
                self.quoted(b'\'', true);
                Kind::String
            }
            b'b' | b'B' | b'x' | b'X' | b'n' | b'N' if self.peek(1) == Some(b'\'') => {
                self.pos += 1;
                self.quoted(b'\'', matches!(c, b'n' | b'N') && !self.standard_strings);
                Kind::String
            }
            b'u' | b'U'
                if self.peek(1) == Some(b'&') && matches!(self.peek(2), Some(b'\'' | b'"')) =>
            {
                let q = self.peek(2).unwrap_or(b'\'');
                self.pos += 2;
                self.quoted(q, false);
                if q == b'"' {
                    Kind::QuotedIdent
                } else {
                    Kind::String
                }
            }
            c if ident_start(c) => {
                while self.peek(0).is_some_and(ident_cont) {
                    self.pos += 1;
                }
                Kind::Word
            }
            c if c.is_ascii_digit()
                || (c == b'.' && self.peek(1).is_some_and(|d| d.is_ascii_digit())) =>
            {
                while self
                    .peek(0)
                    .is_some_and(|d| d.is_ascii_alphanumeric() || d == b'_' || d == b'.')
                {
                    // `1..2` is not a number but two; the server decides.
                    if self.peek(0) == Some(b'.') && self.peek(1) == Some(b'.') {
                        break;
                    }
                    self.pos += 1;
                }
                Kind::Number
            }
            b'$' if self.peek(1).is_some_and(|d| d.is_ascii_digit()) => {
                self.pos += 1;
                while self.peek(0).is_some_and(|d| d.is_ascii_digit()) {
                    self.pos += 1;
                }
                Kind::Param
            }
            b'$' => match self.dollar_tag() {
                Some(tag_len) => {
                    self.dollar_string(tag_len);
                    Kind::String
                }
                None => {
                    self.pos += 1;
                    Kind::Punct
                }
            },
            _ => {
                self.pos += 1;
                Kind::Punct
            }
        };
        Token {
            kind,
            start,
            end: self.pos,
        }
    }

    /// A string or identifier from its opening quote `q` on; a doubled
    /// quote stays inside; with `backslash`, `\` escapes the next byte.
    /// Unterminated: the rest of the text.
    fn quoted(&mut self, q: u8, backslash: bool) {
        self.pos += 1;
        while let Some(c) = self.peek(0) {
            self.pos += 1;
            if backslash && c == b'\\' {
                self.pos = (self.pos + 1).min(self.sql.len());
            } else if c == q {
                if self.peek(0) == Some(q) {
                    self.pos += 1;
                } else {
                    return;
                }
            }
        }
    }

    /// The length of a `$tag$` delimiter at the current position.
    fn dollar_tag(&self) -> Option<usize> {
        let rest = &self.sql[self.pos..];
        let mut i = 1;
        if rest.get(i).is_some_and(|&c| ident_start(c)) {
            i += 1;
            while rest
                .get(i)
                .is_some_and(|&c| ident_start(c) || c.is_ascii_digit())
            {
                i += 1;
            }
        }
        (rest.get(i) == Some(&b'$')).then_some(i + 1)
    }

    fn dollar_string(&mut self, tag_len: usize) {
        let tag = &self.sql[self.pos..self.pos + tag_len];
        self.pos += tag_len;
        match self.sql[self.pos..].windows(tag_len).position(|w| w == tag) {
            Some(at) => self.pos += at + tag_len,
            None => self.pos = self.sql.len(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(sql: &str) -> Vec<String> {
        split(sql.as_bytes(), true)
            .iter()
            .filter(|s| !s.tokens.is_empty())
            .map(|s| sql[s.start..s.end].trim().to_string())
            .collect()
    }

    fn words(sql: &str) -> Vec<String> {
        split(sql.as_bytes(), true)
            .iter()
            .flat_map(|s| s.tokens.iter().map(|t| sql[t.start..t.end].to_string()))
            .collect()
    }

    #[test]
    fn semicolons_in_quotes_and_comments_do_not_split() {
        assert_eq!(
            texts(
                "select 'a;b''c;'; select \"x;\"\"y\" from t -- c;\n; select 1 /* a /* b; */ c; */ + 2"
            ),
            [
                "select 'a;b''c;';",
                "select \"x;\"\"y\" from t -- c;\n;",
                "select 1 /* a /* b; */ c; */ + 2"
            ]
        );
        assert_eq!(
            texts("select E'\\';'; select $$;$$; select $f$ $$; $f$; select $1;"),
            [
                "select E'\\';';",
                "select $$;$$;",
                "select $f$ $$; $f$;",
                "select $1;"
            ]
        );
        // Identifiers may contain `$`: no dollar quote starts inside one.
        assert_eq!(texts("select a$$b; select 2"), ["select a$$b;", "select 2"]);
        assert_eq!(
            texts("select e'x' ; select 2"),
            ["select e'x' ;", "select 2"]
        );
    }

    #[test]
    fn backslashes_follow_standard_conforming_strings() {
        let sql = "select '\\';select 1;";
        assert_eq!(split(sql.as_bytes(), true).len(), 2);
        assert_eq!(split(sql.as_bytes(), false).len(), 1);
    }

    #[test]
    fn parentheses_and_atomic_bodies_hold_semicolons() {
        assert_eq!(
            texts("select (1; 2); select 3"),
            ["select (1; 2);", "select 3"]
        );
        let f = "create or replace function f() returns int language sql begin atomic select 1; select case when true then 2 end; end; select 4";
        assert_eq!(texts(f).len(), 2, "{:?}", texts(f));
        // `begin` outside a routine is a statement.
        assert_eq!(texts("begin; select 1; commit;").len(), 3);
    }

    #[test]
    fn tokens() {
        assert_eq!(
            words("PREPARE foo(int) AS select $1 + 1.5e3 ::text;"),
            [
                "PREPARE", "foo", "(", "int", ")", "AS", "select", "$1", "+", "1.5e3", ":", ":",
                "text"
            ]
        );
        let sql = b"savepoint \"My\"\"Sp\", x";
        let st = &split(sql, true)[0];
        assert_eq!(st.tokens[1].ident(sql).as_deref(), Some("My\"Sp"));
        let sql = b"ROLLBACK TEST 'it''s'";
        let st = &split(sql, true)[0];
        assert_eq!(st.tokens[2].string(sql).as_deref(), Some("it's"));
    }

    #[test]
    fn unterminated_input_never_panics() {
        for sql in [
            "'abc",
            "\"abc",
            "/* abc",
            "$tag$ abc",
            "E'\\",
            "--",
            "$",
            "U&",
            "1.",
            ";;",
        ] {
            let _ = split(sql.as_bytes(), true);
            let _ = split(sql.as_bytes(), false);
        }
        assert_eq!(split(b"", true).len(), 1);
    }
}
