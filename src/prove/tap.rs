//! One line of TAP, read the way Perl's TAP::Parser grammar reads it (the
//! parser pg_prove uses), so that verdicts match pg_prove's line for line:
//! the simple `ok N desc` form first, then the general test form with its
//! `# TODO`/`# SKIP` directive, comments, plans, and the rarer version and
//! `Bail out!` lines. Anything else, such as the 4-space indented subtest
//! lines of pgTAP's `runtests()`, is `Unknown`: TAP::Harness counts only
//! the top-level tests, and so does `pgtmp prove`.
//!
//! Hand-written rather than taken from a crate: the crates that parse TAP
//! read TAP 14 documents whole, with subtests, while a harness that must
//! agree with pg_prove needs TAP::Parser's own (version 12) rules, line by
//! line as the rows arrive.

/// What a line says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Token {
    /// `1..N`, possibly `1..0 # SKIP why` or `1..N todo 2 3`.
    Plan(Plan),
    /// `ok` / `not ok`, with or without a number.
    Test(Test),
    /// `# text`: a diagnostic (pgTAP's `diag()`, failure details).
    Comment(String),
    /// `Bail out! why`: stop the whole run.
    Bailout(String),
    /// `TAP version N`.
    Version(u64),
    /// A `---` YAML block's opening line (TAP 13 only).
    Yaml,
    /// Anything else, passed through in verbose output only.
    Unknown,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub planned: u64,
    /// `Some` for a skip-all plan (`1..0`), with its reason (maybe empty).
    pub skip_all: Option<String>,
    /// Tests the plan marks TODO (`1..5 todo 2 3`, an old TAP form).
    pub todo: Vec<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Test {
    /// `ok` rather than `not ok`, before any TODO is taken into account.
    pub ok: bool,
    pub number: Option<u64>,
    /// The description as TAP::Parser keeps it: pgTAP's `- ` included.
    pub description: String,
    pub directive: Directive,
    pub explanation: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Directive {
    #[default]
    None,
    Todo,
    Skip,
}

impl Directive {
    pub fn name(self) -> &'static str {
        match self {
            Directive::None => "",
            Directive::Todo => "TODO",
            Directive::Skip => "SKIP",
        }
    }
}

/// Reads one line (without its newline). `version` is the TAP version in
/// force: 12 unless a `TAP version 13` line came first.
pub fn parse(line: &str, version: u64) -> Token {
    if let Some(test) = test(line) {
        return Token::Test(test);
    }
    if let Some(comment) = line.strip_prefix('#') {
        return Token::Comment(comment.to_string());
    }
    if let Some(rest) = line.strip_prefix("1..") {
        let digits = leading_digits(rest);
        if !digits.is_empty() {
            return plan(digits, &rest[digits.len()..], version).unwrap_or(Token::Unknown);
        }
    }
    if let Some(v) = tap_version(line) {
        return Token::Version(v);
    }
    if let Some(why) = line.trim_start().strip_prefix("Bail out!") {
        return Token::Bailout(why.trim_start().to_string());
    }
    if version >= 13
        && line.starts_with(char::is_whitespace)
        && line.trim_start().starts_with("---")
    {
        return Token::Yaml;
    }
    Token::Unknown
}

/// `^(not )?ok\b`, then TAP::Parser's simple or general test form.
fn test(line: &str) -> Option<Test> {
    let (ok, rest) = match line.strip_prefix("not ok") {
        Some(rest) => (false, rest),
        None => (true, line.strip_prefix("ok")?),
    };
    if rest.chars().next().is_some_and(is_word) {
        return None; // `okay`, `ok1`: no word boundary after `ok`
    }
    // The simple form: exactly `ok N` or `ok N desc` with no `#` at all.
    if let Some(after) = rest.strip_prefix(' ') {
        let digits = leading_digits(after);
        let tail = &after[digits.len()..];
        if !digits.is_empty()
            && (tail.is_empty() || (tail.len() > 1 && tail.starts_with(' ') && !tail.contains('#')))
            && let Ok(n) = digits.parse()
        {
            return Some(Test {
                ok,
                number: Some(n),
                description: trim(tail).to_string(),
                directive: Directive::None,
                explanation: String::new(),
            });
        }
    }
    // The general form: `ok \s* (\d+)? \s* (.*)`.
    let rest = rest.trim_start_matches(is_perl_space);
    let digits = leading_digits(rest);
    let number = if digits.is_empty() {
        None
    } else {
        Some(digits.parse().ok()?)
    };
    let desc = rest[digits.len()..].trim_start_matches(is_perl_space);
    let (description, directive, explanation) = match directive(desc) {
        Some((before, directive, explanation)) => (before, directive, explanation),
        None => (desc, Directive::None, ""),
    };
    Some(Test {
        ok,
        number,
        description: trim(description).to_string(),
        directive,
        explanation: trim(explanation).to_string(),
    })
}

/// The first unescaped `#` followed by `SKIP` or `TODO` (any case) as a
/// word: `(description, directive, explanation)`.
fn directive(desc: &str) -> Option<(&str, Directive, &str)> {
    let bytes = desc.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'#' => break,
            _ => i += 1,
        }
    }
    if i >= bytes.len() {
        return None;
    }
    let after = desc[i + 1..].trim_start_matches(is_perl_space);
    let word = after.get(..4)?;
    let directive = if word.eq_ignore_ascii_case("SKIP") {
        Directive::Skip
    } else if word.eq_ignore_ascii_case("TODO") {
        Directive::Todo
    } else {
        return None;
    };
    let explanation = &after[4..];
    if explanation.chars().next().is_some_and(is_word) {
        return None;
    }
    Some((
        &desc[..i],
        directive,
        explanation.trim_start_matches(is_perl_space),
    ))
}

/// A plan's tail after `1..N`, by the grammar of `version`.
fn plan(digits: &str, tail: &str, version: u64) -> Option<Token> {
    let planned: u64 = digits.parse().ok()?;
    if version >= 13 {
        // `1..N` then optional `# SKIP why`; nothing else.
        let rest = tail.trim_start_matches(is_perl_space);
        let skip = if rest.is_empty() {
            None
        } else {
            let after = rest.strip_prefix('#')?.trim_start_matches(is_perl_space);
            let word = after.get(..4)?;
            if !word.eq_ignore_ascii_case("SKIP") || after[4..].chars().next().is_some_and(is_word)
            {
                return None;
            }
            Some(trim(&after[4..]).to_string())
        };
        let skip_all = match skip {
            Some(why) => Some(why),
            None if planned == 0 => Some(String::new()),
            None => None,
        };
        return Some(Token::Plan(Plan {
            planned,
            skip_all,
            todo: Vec::new(),
        }));
    }
    let tail = tail.trim_start_matches(is_perl_space);
    // `todo` and at least one number: the numbers that lead the rest.
    if let Some(list) = tail.strip_prefix("todo")
        && list.starts_with(is_perl_space)
    {
        let todo: Vec<u64> = list
            .split_whitespace()
            .map_while(|n| n.parse().ok())
            .collect();
        if !todo.is_empty() {
            return Some(Token::Plan(Plan {
                planned,
                skip_all: None,
                todo,
            }));
        }
    }
    if planned == 0 {
        // `# SKIP...` then a space and the reason; anything else, no reason.
        let why = tail
            .strip_prefix('#')
            .map(|r| r.trim_start_matches(is_perl_space))
            .filter(|r| r.get(..4).is_some_and(|w| w.eq_ignore_ascii_case("SKIP")))
            .and_then(|r| {
                let r = r[4..].trim_start_matches(|c: char| !c.is_whitespace());
                r.strip_prefix(is_perl_space).map(trim)
            })
            .unwrap_or_default();
        return Some(Token::Plan(Plan {
            planned,
            skip_all: Some(why.to_string()),
            todo: Vec::new(),
        }));
    }
    if !tail.trim_end_matches(is_perl_space).is_empty() {
        return None;
    }
    Some(Token::Plan(Plan {
        planned,
        skip_all: None,
        todo: Vec::new(),
    }))
}

/// `TAP version N` (any case, spaces around).
fn tap_version(line: &str) -> Option<u64> {
    let lower = line.get(..3)?;
    if !lower.eq_ignore_ascii_case("TAP") {
        return None;
    }
    let rest = line[3..]
        .strip_prefix(is_perl_space)?
        .trim_start_matches(is_perl_space);
    let word = rest.get(..7)?;
    if !word.eq_ignore_ascii_case("version") {
        return None;
    }
    let rest = rest[7..]
        .strip_prefix(is_perl_space)?
        .trim_start_matches(is_perl_space);
    let digits = leading_digits(rest);
    if digits.is_empty()
        || !rest[digits.len()..]
            .trim_end_matches(is_perl_space)
            .is_empty()
    {
        return None;
    }
    digits.parse().ok()
}

fn leading_digits(s: &str) -> &str {
    let end = s
        .bytes()
        .position(|b| !b.is_ascii_digit())
        .unwrap_or(s.len());
    &s[..end]
}

fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

fn is_perl_space(c: char) -> bool {
    c.is_whitespace()
}

fn trim(s: &str) -> &str {
    s.trim_matches(is_perl_space)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(line: &str) -> Test {
        match parse(line, 12) {
            Token::Test(t) => t,
            other => panic!("{line:?} is {other:?}"),
        }
    }

    #[test]
    fn tests_as_pgtap_prints_them() {
        let ok = t("ok 1 - truth");
        assert!(ok.ok);
        assert_eq!(ok.number, Some(1));
        assert_eq!(ok.description, "- truth");
        let bad = t("not ok 12");
        assert!(!bad.ok);
        assert_eq!(bad.number, Some(12));
        assert_eq!(bad.description, "");
        let todo = t("not ok 1 - todo fails # TODO not yet");
        assert_eq!(todo.directive, Directive::Todo);
        assert_eq!(todo.explanation, "not yet");
        assert_eq!(todo.description, "- todo fails");
        let skip = t("ok 3 # SKIP no reason");
        assert_eq!(skip.directive, Directive::Skip);
        assert_eq!(skip.explanation, "no reason");
        assert_eq!(skip.description, "");
        let skip = t("ok 4 # skip");
        assert_eq!(skip.directive, Directive::Skip);
        assert_eq!(skip.explanation, "");
    }

    #[test]
    fn tests_in_looser_forms() {
        let t1 = t("ok");
        assert_eq!((t1.ok, t1.number), (true, None));
        let t2 = t("not ok - no number");
        assert_eq!(t2.number, None);
        assert_eq!(t2.description, "- no number");
        let t3 = t("ok 7abc");
        assert_eq!(t3.number, Some(7));
        assert_eq!(t3.description, "abc");
        // An escaped # is not a directive; a # not followed by one is kept.
        let t4 = t(r"ok 2 - a \# TODO b");
        assert_eq!(t4.directive, Directive::None);
        let t5 = t("ok 2 - a # note");
        assert_eq!(t5.directive, Directive::None);
        assert_eq!(t5.description, "- a # note");
        let t6 = t("ok 5 # TODOS later");
        assert_eq!(t6.directive, Directive::None);
        assert_eq!(parse("okay", 12), Token::Unknown);
        assert_eq!(parse("    ok 1 - setup", 12), Token::Unknown);
        assert_eq!(parse("not  ok 1", 12), Token::Unknown);
    }

    #[test]
    fn plans() {
        let plan = |l: &str| match parse(l, 12) {
            Token::Plan(p) => p,
            other => panic!("{l:?} is {other:?}"),
        };
        assert_eq!(plan("1..5").planned, 5);
        assert_eq!(plan("1..5").skip_all, None);
        assert_eq!(plan("1..0").skip_all.as_deref(), Some(""));
        assert_eq!(plan("1..0 # SKIP no db").skip_all.as_deref(), Some("no db"));
        assert_eq!(plan("1..3 todo 2 3").todo, vec![2, 3]);
        assert_eq!(parse("1..3 junk", 12), Token::Unknown);
        assert_eq!(parse("1..", 12), Token::Unknown);
        let v13 = |l: &str| parse(l, 13);
        assert!(
            matches!(v13("1..2 # SKIP why"), Token::Plan(Plan { skip_all: Some(w), .. }) if w == "why")
        );
        assert_eq!(v13("1..2 junk"), Token::Unknown);
    }

    #[test]
    fn other_lines() {
        assert_eq!(parse("# hi", 12), Token::Comment(" hi".into()));
        assert_eq!(parse("#", 12), Token::Comment(String::new()));
        assert_eq!(
            parse("Bail out! db gone", 12),
            Token::Bailout("db gone".into())
        );
        assert_eq!(parse("TAP version 13", 12), Token::Version(13));
        assert_eq!(parse("    # Subtest: tests.a()", 12), Token::Unknown);
        assert_eq!(parse("  ---", 13), Token::Yaml);
        assert_eq!(parse("", 12), Token::Unknown);
    }
}
