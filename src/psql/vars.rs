//! psql's variables: the ones a script sets with `\set`, the ones given on
//! the command line (`-v`, pg_prove's `--set`), and the special ones whose
//! values change how psql behaves (`ON_ERROR_STOP`, `ON_ERROR_ROLLBACK`,
//! `AUTOCOMMIT`, `QUIET`, `ECHO`, `VERBOSITY`, `SHOW_CONTEXT`), checked as
//! psql checks them: a bad value is refused and the old one kept.
//! <https://www.postgresql.org/docs/current/app-psql.html#APP-PSQL-VARIABLES>

use std::collections::BTreeMap;

/// The variables of one psql session.
#[derive(Debug, Clone, Default)]
pub struct Vars {
    values: BTreeMap<String, String>,
}

/// `ECHO`: which input psql copies to its output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Echo {
    None,
    Errors,
    Queries,
    All,
}

/// `VERBOSITY`: how much of an error psql prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verbosity {
    Default,
    Verbose,
    Terse,
    Sqlstate,
}

/// `SHOW_CONTEXT`: when the CONTEXT of a message is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShowContext {
    Never,
    Errors,
    Always,
}

/// `ON_ERROR_ROLLBACK`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnErrorRollback {
    Off,
    On,
    Interactive,
}

impl Vars {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }

    /// Sets `name`, as `\set` does; `Err` is psql's complaint when a
    /// special variable refuses the value.
    pub fn set(&mut self, name: &str, value: &str) -> Result<(), String> {
        if !valid_name(name) {
            return Err(format!("invalid variable name: \"{name}\""));
        }
        // An empty value turns a Boolean special variable on.
        let value = if value.is_empty() && is_bool_special(name) {
            "on"
        } else {
            value
        };
        self.check(name, Some(value))?;
        self.values.insert(name.to_string(), value.to_string());
        Ok(())
    }

    /// `\unset`: special variables fall back to their defaults.
    pub fn unset(&mut self, name: &str) -> Result<(), String> {
        self.check(name, None)?;
        match default_of(name) {
            Some(d) => {
                self.values.insert(name.to_string(), d.to_string());
            }
            None => {
                self.values.remove(name);
            }
        }
        Ok(())
    }

    /// Sets without any check (values psql itself maintains).
    pub fn put(&mut self, name: &str, value: impl Into<String>) {
        self.values.insert(name.to_string(), value.into());
    }

    fn check(&self, name: &str, value: Option<&str>) -> Result<(), String> {
        let Some(value) = value else { return Ok(()) };
        let ok = match name {
            "AUTOCOMMIT"
            | "ON_ERROR_STOP"
            | "QUIET"
            | "SINGLELINE"
            | "SINGLESTEP"
            | "HIDE_TABLEAM"
            | "HIDE_TOAST_COMPRESSION"
            | "SHOW_ALL_RESULTS" => parse_bool(value).is_some(),
            "ECHO" => echo(value).is_some(),
            "VERBOSITY" => verbosity(value).is_some(),
            "SHOW_CONTEXT" => show_context(value).is_some(),
            "ON_ERROR_ROLLBACK" => on_error_rollback(value).is_some(),
            "FETCH_COUNT" => value.trim().parse::<i64>().is_ok() || value.is_empty(),
            _ => true,
        };
        if ok {
            Ok(())
        } else {
            let expected = match name {
                "ECHO" => "none, errors, queries, all",
                "VERBOSITY" => "default, verbose, terse, sqlstate",
                "SHOW_CONTEXT" => "never, errors, always",
                "ON_ERROR_ROLLBACK" => "on, off, interactive",
                "FETCH_COUNT" => "integer",
                _ => "Boolean",
            };
            Err(if expected.contains(',') {
                format!(
                    "unrecognized value \"{value}\" for \"{name}\"\nAvailable values are: {expected}."
                )
            } else {
                format!("unrecognized value \"{value}\" for \"{name}\": {expected} expected")
            })
        }
    }

    pub fn flag(&self, name: &str) -> bool {
        self.get(name).and_then(parse_bool).unwrap_or(false)
    }

    pub fn echo(&self) -> Echo {
        self.get("ECHO").and_then(echo).unwrap_or(Echo::None)
    }

    pub fn verbosity(&self) -> Verbosity {
        self.get("VERBOSITY")
            .and_then(verbosity)
            .unwrap_or(Verbosity::Default)
    }

    pub fn show_context(&self) -> ShowContext {
        self.get("SHOW_CONTEXT")
            .and_then(show_context)
            .unwrap_or(ShowContext::Errors)
    }

    pub fn on_error_rollback(&self) -> OnErrorRollback {
        self.get("ON_ERROR_ROLLBACK")
            .and_then(on_error_rollback)
            .unwrap_or(OnErrorRollback::Off)
    }

    /// `AUTOCOMMIT` is on unless set to a false value.
    pub fn autocommit(&self) -> bool {
        self.get("AUTOCOMMIT").and_then(parse_bool).unwrap_or(true)
    }
}

/// What psql sets before a script runs, given where it connected.
pub fn defaults() -> Vars {
    let mut vars = Vars::default();
    for (name, value) in [
        ("AUTOCOMMIT", "on"),
        ("ECHO", "none"),
        ("ECHO_HIDDEN", "off"),
        ("FETCH_COUNT", "0"),
        ("ON_ERROR_ROLLBACK", "off"),
        ("ON_ERROR_STOP", "off"),
        ("QUIET", "off"),
        ("SHOW_ALL_RESULTS", "on"),
        ("SHOW_CONTEXT", "errors"),
        ("SINGLELINE", "off"),
        ("SINGLESTEP", "off"),
        ("VERBOSITY", "default"),
        ("HIDE_TABLEAM", "off"),
        ("HIDE_TOAST_COMPRESSION", "off"),
    ] {
        vars.put(name, value);
    }
    vars
}

/// The special variables that hold a Boolean.
fn is_bool_special(name: &str) -> bool {
    matches!(
        name,
        "AUTOCOMMIT"
            | "ON_ERROR_STOP"
            | "QUIET"
            | "SINGLELINE"
            | "SINGLESTEP"
            | "HIDE_TABLEAM"
            | "HIDE_TOAST_COMPRESSION"
            | "SHOW_ALL_RESULTS"
    )
}

fn default_of(name: &str) -> Option<&'static str> {
    Some(match name {
        "AUTOCOMMIT" => "on",
        "ON_ERROR_STOP"
        | "QUIET"
        | "SINGLELINE"
        | "SINGLESTEP"
        | "ON_ERROR_ROLLBACK"
        | "HIDE_TABLEAM"
        | "HIDE_TOAST_COMPRESSION"
        | "ECHO_HIDDEN" => "off",
        "SHOW_ALL_RESULTS" => "on",
        "ECHO" => "none",
        "VERBOSITY" => "default",
        "SHOW_CONTEXT" => "errors",
        "FETCH_COUNT" => "0",
        _ => return None,
    })
}

/// psql's Boolean: a case-insensitive prefix of true/false/yes/no,
/// on/off (two letters at least), or 1/0.
pub fn parse_bool(value: &str) -> Option<bool> {
    let v = value.to_ascii_lowercase();
    let prefix = |word: &str, min: usize| v.len() >= min && word.starts_with(&v);
    if prefix("true", 1) || prefix("yes", 1) || prefix("on", 2) || v == "1" {
        Some(true)
    } else if prefix("false", 1) || prefix("no", 1) || prefix("off", 2) || v == "0" {
        Some(false)
    } else {
        None
    }
}

/// The value of `table` that `v` names, case-insensitively.
fn choose<T: Copy>(v: &str, table: &[(&str, T)]) -> Option<T> {
    table
        .iter()
        .find(|(name, _)| v.eq_ignore_ascii_case(name))
        .map(|(_, value)| *value)
}

fn echo(v: &str) -> Option<Echo> {
    let table = [
        ("none", Echo::None),
        ("errors", Echo::Errors),
        ("queries", Echo::Queries),
        ("all", Echo::All),
    ];
    choose(v, &table)
}

fn verbosity(v: &str) -> Option<Verbosity> {
    let table = [
        ("default", Verbosity::Default),
        ("verbose", Verbosity::Verbose),
        ("terse", Verbosity::Terse),
        ("sqlstate", Verbosity::Sqlstate),
    ];
    choose(v, &table)
}

fn show_context(v: &str) -> Option<ShowContext> {
    let table = [
        ("never", ShowContext::Never),
        ("errors", ShowContext::Errors),
        ("always", ShowContext::Always),
    ];
    choose(v, &table)
}

fn on_error_rollback(v: &str) -> Option<OnErrorRollback> {
    if v.eq_ignore_ascii_case("interactive") {
        return Some(OnErrorRollback::Interactive);
    }
    parse_bool(v).map(|b| {
        if b {
            OnErrorRollback::On
        } else {
            OnErrorRollback::Off
        }
    })
}

/// Letters, digits and underscores (and bytes past ASCII), as psql allows.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || !c.is_ascii())
}

/// `:'name'`: the value as an SQL literal, as libpq's PQescapeLiteral
/// writes it (` E'...'` when it holds a backslash).
pub fn quote_literal(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 3);
    if value.contains('\\') {
        out.push_str(" E");
    }
    out.push('\'');
    for c in value.chars() {
        if c == '\'' || c == '\\' {
            out.push(c);
        }
        out.push(c);
    }
    out.push('\'');
    out
}

/// `:"name"`: the value as a quoted SQL identifier.
pub fn quote_ident(value: &str) -> String {
    format!("\"{}\"", value.replace('"', "\"\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn booleans_as_psql_reads_them() {
        for t in ["on", "ON", "true", "t", "yes", "y", "1", "tru"] {
            assert_eq!(parse_bool(t), Some(true), "{t}");
        }
        for f in ["off", "of", "false", "f", "no", "n", "0"] {
            assert_eq!(parse_bool(f), Some(false), "{f}");
        }
        for bad in ["", "o", "maybe", "2", "onn"] {
            assert_eq!(parse_bool(bad), None, "{bad}");
        }
    }

    #[test]
    fn special_variables_refuse_bad_values() {
        let mut vars = defaults();
        assert!(vars.set("ON_ERROR_STOP", "1").is_ok());
        assert!(vars.flag("ON_ERROR_STOP"));
        assert!(vars.set("ON_ERROR_STOP", "maybe").is_err());
        assert!(vars.flag("ON_ERROR_STOP"));
        assert!(vars.set("ECHO", "loud").is_err());
        vars.unset("ON_ERROR_STOP").unwrap();
        assert_eq!(vars.get("ON_ERROR_STOP"), Some("off"));
        vars.set("ON_ERROR_STOP", "").unwrap();
        assert_eq!(vars.get("ON_ERROR_STOP"), Some("on"));
        vars.set("x", "1").unwrap();
        vars.unset("x").unwrap();
        assert_eq!(vars.get("x"), None);
        assert!(vars.set("bad name", "1").is_err());
    }

    #[test]
    fn quoting() {
        assert_eq!(quote_literal("it's"), "'it''s'");
        assert_eq!(quote_literal(r"a\b"), r" E'a\\b'");
        assert_eq!(quote_ident("My \"T\""), "\"My \"\"T\"\"\"");
    }
}
