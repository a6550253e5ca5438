//! psql, in-process, for the scripts a test suite runs: `psql -f FILE`'s
//! semantics over one connection without a psql process. Statements are
//! split and sent one at a time as psql sends them (simple query
//! protocol), results printed as `--no-align --tuples-only` prints them,
//! errors and notices as psql writes them to stderr
//! (`psql:FILE:LINE: ERROR:  ...`), and the meta-commands test scripts use
//! work: `\i`, `\ir`, `\set`, `\unset`, `\echo`, `\qecho`, `\warn`, `\if`
//! and friends, `\pset` (unaligned output), `\t`, `\f`, `\g`, `\gset`,
//! `\timing`, `\q`, with `ON_ERROR_STOP`, `ON_ERROR_ROLLBACK`,
//! `AUTOCOMMIT`, `ECHO`, `QUIET`, `VERBOSITY` and `SHOW_CONTEXT`.
//!
//! A script that needs anything else (`\copy`, `\c`, `\o`, aligned output,
//! COPY FROM STDIN, ...) is told apart beforehand by `support::check`, and
//! the caller runs the real psql for it. The exit status is psql's: 0, 3
//! when `ON_ERROR_STOP` stopped the script, 2 when the connection was lost,
//! 1 when a file could not be read.
//! <https://www.postgresql.org/docs/current/app-psql.html>

mod command;
pub mod lexer;
pub mod message;
mod query;
pub mod slash;
pub mod support;
pub mod vars;

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::wire::Connection;
use lexer::{Input, Lexer, Stop};
use vars::{Echo, Vars};

/// psql's exit statuses.
pub const EXIT_SUCCESS: i32 = 0;
pub const EXIT_FAILURE: i32 = 1;
pub const EXIT_BADCONN: i32 = 2;
pub const EXIT_USER: i32 = 3;

/// Where the script's output goes: psql's stdout and stderr.
pub trait Output {
    fn out(&mut self, text: &str);
    fn err(&mut self, text: &str);
}

/// How results are printed (`\pset`), unaligned only.
#[derive(Debug, Clone)]
pub struct Print {
    pub tuples_only: bool,
    pub field_sep: String,
    pub record_sep: String,
    pub null: String,
    pub footer: bool,
    pub timing: bool,
}

impl Default for Print {
    /// What pg_prove asks of psql: `--no-align --tuples-only`.
    fn default() -> Self {
        Print {
            tuples_only: true,
            field_sep: "|".into(),
            record_sep: "\n".into(),
            null: String::new(),
            footer: true,
            timing: false,
        }
    }
}

/// One psql session over `conn`.
pub struct Session<'a> {
    conn: &'a mut Connection,
    pub vars: Vars,
    pub print: Print,
    out: &'a mut dyn Output,
    /// The file being read and its current line, for messages.
    file: String,
    lineno: u64,
    /// `\q` was given.
    quit: bool,
    /// The connection broke.
    lost: bool,
    /// `\i` nesting, to stop a file that includes itself.
    depth: usize,
    /// Set from another thread to stop the script, as Ctrl-C stops psql's.
    pub cancel: Option<Arc<AtomicBool>>,
}

impl std::fmt::Debug for Session<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("file", &self.file)
            .field("lineno", &self.lineno)
            .finish_non_exhaustive()
    }
}

/// How deep `\i` may nest (psql has no limit but the stack).
const MAX_DEPTH: usize = 64;

impl<'a> Session<'a> {
    /// `vars`: psql's defaults plus `-v` settings; `QUIET` and
    /// `ON_ERROR_STOP` as the caller wants them.
    pub fn new(
        conn: &'a mut Connection,
        vars: Vars,
        print: Print,
        out: &'a mut dyn Output,
    ) -> Self {
        Session {
            conn,
            vars,
            print,
            out,
            file: String::new(),
            lineno: 0,
            quit: false,
            lost: false,
            depth: 0,
            cancel: None,
        }
    }

    /// `psql --command SQL`: one query string, sent whole; 1 if it failed.
    pub fn run_command(&mut self, sql: &str) -> i32 {
        self.file.clear();
        if self.send(sql, None) {
            EXIT_SUCCESS
        } else if self.lost {
            EXIT_BADCONN
        } else {
            EXIT_FAILURE
        }
    }

    fn cancelled(&self) -> bool {
        self.cancel
            .as_ref()
            .is_some_and(|c| c.load(Ordering::Relaxed))
    }

    /// `psql -f path`: runs the file; returns psql's exit status.
    pub fn run_file(&mut self, path: &str) -> i32 {
        match std::fs::read(path) {
            Ok(bytes) => self.main_loop(path, &String::from_utf8_lossy(&bytes)),
            Err(e) => {
                self.out
                    .err(&format!("psql: error: {path}: {}\n", io_reason(&e)));
                EXIT_FAILURE
            }
        }
    }

    /// `\i path`: what psql's process_file returns.
    fn include(&mut self, path: &str) -> i32 {
        if self.depth >= MAX_DEPTH {
            self.error(&format!("{path}: too many nested \\i"));
            return EXIT_FAILURE;
        }
        match std::fs::read(path) {
            Ok(bytes) => {
                let (file, lineno) = (std::mem::take(&mut self.file), self.lineno);
                self.depth += 1;
                let status = self.main_loop(path, &String::from_utf8_lossy(&bytes));
                self.depth -= 1;
                // `\q` in an included file ends that file only.
                self.quit = false;
                self.file = file;
                self.lineno = lineno;
                status
            }
            Err(e) => {
                self.error(&format!("{path}: {}", io_reason(&e)));
                EXIT_FAILURE
            }
        }
    }

    /// psql's MainLoop over the lines of one file.
    fn main_loop(&mut self, file: &str, text: &str) -> i32 {
        self.file = file.to_string();
        self.lineno = 0;
        let mut lexer = Lexer::default();
        lexer.std_strings = self.conn.parameter("standard_conforming_strings") != Some("off");
        let mut query = String::new();
        let mut previous = String::new();
        let mut cond = command::Conditions::default();
        let mut result = EXIT_SUCCESS;
        let mut die_on_error = false;
        for raw in text.split_inclusive('\n') {
            if self.cancelled() {
                result = EXIT_USER;
                break;
            }
            let mut line = raw.strip_suffix('\n').unwrap_or(raw);
            self.lineno += 1;
            if self.lineno == 1 {
                line = line.strip_prefix('\u{feff}').unwrap_or(line);
            }
            if line.is_empty() && !lexer.in_quote() {
                continue;
            }
            if self.vars.echo() == Echo::All {
                self.out.out(&format!("{line}\n"));
            }
            let mut added_newline = None;
            if !query.is_empty() {
                query.push('\n');
                added_newline = Some(query.len());
            }
            die_on_error = self.vars.flag("ON_ERROR_STOP");
            let mut input = Input::new(line);
            let mut success = true;
            while success || !die_on_error {
                let mut warnings = Vec::new();
                let stop = lexer.scan(&mut input, &mut query, &self.vars, &mut warnings);
                for w in warnings {
                    self.warning(&w);
                }
                match stop {
                    Stop::Semicolon => {
                        success = if cond.active() {
                            self.send(&query, None)
                        } else {
                            true
                        };
                        previous = std::mem::take(&mut query);
                        added_newline = None;
                    }
                    Stop::Backslash => {
                        if added_newline == Some(query.len()) {
                            query.pop();
                        }
                        added_newline = None;
                        let status = self.command(&mut input, &mut query, &mut cond, &mut lexer);
                        success = status != command::Status::Error;
                        if let command::Status::Send(gset) = status {
                            if query.is_empty() {
                                query = previous.clone();
                            }
                            success = self.send(&query, gset.as_deref());
                            previous = std::mem::take(&mut query);
                            lexer.reset();
                        } else if status == command::Status::Terminate {
                            self.quit = true;
                        }
                    }
                    Stop::EndOfLine => break,
                }
                if self.quit || self.lost {
                    break;
                }
            }
            if self.quit {
                return EXIT_SUCCESS;
            }
            if !success && die_on_error {
                result = EXIT_USER;
                break;
            }
            if self.lost {
                result = EXIT_BADCONN;
                break;
            }
        }
        if !query.is_empty() && result == EXIT_SUCCESS {
            let success = !cond.active() || self.send(&query, None);
            if !success && die_on_error {
                result = EXIT_USER;
            } else if self.lost {
                result = EXIT_BADCONN;
            }
        }
        if result != EXIT_USER && !cond.is_empty() {
            self.error("reached EOF without finding closing \\endif(s)");
            if die_on_error {
                result = EXIT_USER;
            }
        }
        result
    }

    /// A message with psql's `psql:FILE:LINE: ` in front.
    fn log(&mut self, text: &str) {
        let mut line = message::prefix(&self.file, self.lineno);
        line.push_str(text);
        if !line.ends_with('\n') {
            line.push('\n');
        }
        self.out.err(&line);
    }

    fn error(&mut self, text: &str) {
        if self.file.is_empty() {
            self.out.err(&format!("psql: error: {text}\n"));
        } else {
            self.log(&format!("error: {text}"));
        }
    }

    fn warning(&mut self, text: &str) {
        self.log(&format!("warning: {text}"));
    }

    /// `\ir`: a path relative to the directory of the file being read.
    fn relative_to_file(&self, name: &str) -> String {
        let path = Path::new(name);
        if path.is_absolute() {
            return name.to_string();
        }
        let parent = Path::new(&self.file).parent().unwrap_or(Path::new(""));
        canonical(&parent.join(path).to_string_lossy())
    }
}

/// psql's canonicalize_path: `.` dropped, `a/..` folded, no trailing `/`.
fn canonical(path: &str) -> String {
    let absolute = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." if parts.last().is_some_and(|p| *p != "..") => {
                parts.pop();
            }
            ".." if absolute => {}
            p => parts.push(p),
        }
    }
    let joined = parts.join("/");
    match (absolute, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".to_string(),
        (false, false) => joined,
    }
}

/// `~/x` and `~user/x`, as psql expands them for file names.
fn expand_tilde(name: &str) -> String {
    let Some(rest) = name.strip_prefix('~') else {
        return name.to_string();
    };
    let (user, tail) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let home = if user.is_empty() {
        std::env::var("HOME").ok()
    } else {
        nix::unistd::User::from_name(user)
            .ok()
            .flatten()
            .map(|u| u.dir.to_string_lossy().into_owned())
    };
    match home {
        Some(h) => format!("{h}{tail}"),
        None => name.to_string(),
    }
}

/// The OS's reason, as C's `%m` has it (`No such file or directory`).
fn io_reason(e: &std::io::Error) -> String {
    let text = e.to_string();
    match text.find(" (os error") {
        Some(i) => text[..i].to_string(),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_as_psql_canonicalizes_them() {
        assert_eq!(canonical("t/../setup.sql"), "setup.sql");
        assert_eq!(canonical("./t/./a.sql"), "t/a.sql");
        assert_eq!(canonical("/x/../y"), "/y");
        assert_eq!(canonical("../a"), "../a");
        assert_eq!(canonical("a/../.."), "..");
    }
}
