//! Running one test file in its database: in-process through `psql`'s
//! session over a connection opened ahead, or, for a script that needs
//! psql itself, by psql with pg_prove's own arguments. Either way the
//! output lines feed the file's TAP parser as they come (so each test has
//! its time) and stderr is kept for the report.

use std::ffi::OsString;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use super::parser::{FileTap, Parser};
use crate::psql::{self, Output, Print, Session, vars::Vars};
use crate::wire::{Connection, Target};

/// The libpq variables that set up a session rather than pick a server:
/// psql honours them, so files run in-process do too (as startup
/// parameters) and files run by psql keep them.
const SESSION_VARS: &[(&str, &str)] = &[
    ("PGOPTIONS", "options"),
    ("PGTZ", "TimeZone"),
    ("PGDATESTYLE", "DateStyle"),
    ("PGGEQO", "geqo"),
];

/// The startup parameters of a file's connection: pgtmp's application
/// name and what `SESSION_VARS` set.
pub fn session_params() -> Vec<(&'static str, String)> {
    let mut params = vec![("application_name", "pgtmp-prove".to_string())];
    for (var, param) in SESSION_VARS {
        if let Ok(value) = std::env::var(var) {
            params.push((param, value));
        }
    }
    params
}

/// What a test file is.
#[derive(Debug, Clone)]
pub enum Script {
    /// A file, run as `psql --file`.
    File(PathBuf),
    /// SQL, run as `psql --command` (`--runtests`).
    Sql(String),
}

/// How every file's session starts: pg_prove's psql settings.
#[derive(Debug, Clone)]
pub struct Settings {
    /// psql's variables: its defaults, `QUIET`, `ON_ERROR_STOP=1`, `--set`.
    pub vars: Vars,
    pub print: Print,
    /// `--pset` and `--set` as psql arguments, for the psql runs.
    pub psql_args: Vec<OsString>,
    /// The psql to run scripts that need it.
    pub psql: Option<PathBuf>,
    /// Run every file with psql (a `--pset` only psql can honour).
    pub force_psql: bool,
    pub ignore_exit: bool,
}

/// Collects a run's output: stdout lines into the TAP parser, stderr kept.
pub struct Collector<'p> {
    parser: Parser,
    started: Instant,
    partial: String,
    pub stderr: String,
    tests: u64,
    progress: &'p mut dyn FnMut(u64),
}

impl std::fmt::Debug for Collector<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Collector")
            .field("tests", &self.tests)
            .finish_non_exhaustive()
    }
}

impl<'p> Collector<'p> {
    pub fn new(started: Instant, progress: &'p mut dyn FnMut(u64)) -> Self {
        Collector {
            parser: Parser::new(),
            started,
            partial: String::new(),
            stderr: String::new(),
            tests: 0,
            progress,
        }
    }

    fn line(&mut self, line: &str) {
        self.parser.line(line, self.started.elapsed());
        if line.starts_with("ok") || line.starts_with("not ok") {
            self.tests += 1;
            (self.progress)(self.tests);
        }
    }

    /// The tally, given psql's exit status and wait status.
    pub fn finish(mut self, exit: i32, wait: i32, ignore_exit: bool) -> (FileTap, String) {
        if !self.partial.is_empty() {
            let last = std::mem::take(&mut self.partial);
            self.line(&last);
        }
        let mut tap = self.parser.finish(exit, wait);
        tap.ignore_exit = ignore_exit;
        (tap, self.stderr)
    }
}

impl Output for Collector<'_> {
    fn out(&mut self, text: &str) {
        self.partial.push_str(text);
        while let Some(i) = self.partial.find('\n') {
            let line: String = self.partial.drain(..=i).collect();
            self.line(&line[..line.len() - 1]);
        }
    }

    fn err(&mut self, text: &str) {
        self.stderr.push_str(text);
    }
}

/// Runs `script` (named `name`) in-process over `conn`; returns psql's
/// exit status.
pub fn in_process(
    conn: &mut Connection,
    target: &Target,
    name: &str,
    script: &Script,
    settings: &Settings,
    cancel: &Arc<AtomicBool>,
    out: &mut Collector,
) -> i32 {
    let mut vars = settings.vars.clone();
    connection_vars(&mut vars, conn, target);
    let mut session = Session::new(conn, vars, settings.print.clone(), out);
    session.cancel = Some(cancel.clone());
    match script {
        Script::File(_) => session.run_file(name),
        Script::Sql(sql) => session.run_command(sql),
    }
}

/// The variables psql sets once connected.
pub fn connection_vars(vars: &mut Vars, conn: &Connection, target: &Target) {
    vars.put("DBNAME", target.dbname.as_str());
    vars.put("USER", target.user.as_str());
    vars.put("HOST", target.host.as_str());
    vars.put("PORT", target.port.to_string());
    vars.put(
        "ENCODING",
        conn.parameter("client_encoding").unwrap_or("UTF8"),
    );
    if let Some(v) = conn.parameter("server_version") {
        vars.put("SERVER_VERSION_NAME", v);
        if let Some(num) = version_num(v) {
            vars.put("SERVER_VERSION_NUM", num.to_string());
        }
    }
}

/// `15.4` → 150004 (and `9.6.3` → 90603), as psql computes it.
fn version_num(version: &str) -> Option<u32> {
    let numbers: Vec<u32> = version
        .split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .take(3)
        .map(|s| s.parse().unwrap_or(0))
        .collect();
    match numbers.as_slice() {
        [major, minor, ..] if *major >= 10 => Some(major * 10000 + minor),
        [major] => Some(major * 10000),
        [major, minor, patch, ..] => Some(major * 10000 + minor * 100 + patch),
        [major, minor] => Some(major * 10000 + minor * 100),
        [] => None,
    }
}

/// Runs `script` with psql, as pg_prove does; returns psql's exit code and
/// wait status. `started` receives the child's pid (to interrupt it).
pub fn with_psql(
    psql: &Path,
    target: &Target,
    script: &Script,
    name: &str,
    settings: &Settings,
    started: &mut dyn FnMut(u32),
    out: &mut Collector,
) -> (i32, i32) {
    let mut cmd = Command::new(psql);
    cmd.args([
        "--no-psqlrc",
        "--no-align",
        "--quiet",
        "--pset",
        "pager=off",
        "--pset",
        "tuples_only=true",
        "--set",
        "ON_ERROR_STOP=1",
    ]);
    cmd.args(&settings.psql_args);
    // The connection by the environment: a password never on the command line.
    for (key, _) in std::env::vars_os() {
        let k = key.to_string_lossy();
        if k.starts_with("PG") && !SESSION_VARS.iter().any(|(v, _)| *v == k) {
            cmd.env_remove(&key);
        }
    }
    cmd.env("PGHOST", &target.host)
        .env("PGPORT", target.port.to_string())
        .env("PGUSER", &target.user)
        .env("PGDATABASE", &target.dbname)
        .env("PGAPPNAME", "pgtmp-prove");
    if let Some(p) = &target.password {
        cmd.env("PGPASSWORD", p).env("PGSSLMODE", "disable");
    }
    match script {
        Script::File(_) => cmd.arg("--file").arg(name),
        Script::Sql(sql) => cmd.arg("--command").arg(sql),
    };
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            out.err(&format!("pgtmp: cannot run {}: {e}\n", psql.display()));
            return (1, 1 << 8);
        }
    };
    started(child.id());
    let stderr = child.stderr.take().map(|mut e| {
        std::thread::spawn(move || {
            let mut text = Vec::new();
            let _ = e.read_to_end(&mut text);
            String::from_utf8_lossy(&text).into_owned()
        })
    });
    if let Some(stdout) = child.stdout.take() {
        let mut reader = BufReader::new(stdout);
        let mut line = Vec::new();
        while reader.read_until(b'\n', &mut line).unwrap_or(0) > 0 {
            out.out(&String::from_utf8_lossy(&line));
            line.clear();
        }
    }
    if let Some(text) = stderr.and_then(|h| h.join().ok()) {
        out.err(&text);
    }
    match child.wait() {
        Ok(status) => {
            use std::os::unix::process::ExitStatusExt;
            let wait = status.into_raw();
            (status.code().unwrap_or(0), wait)
        }
        Err(_) => (1, 1 << 8),
    }
}

/// What `psql::support` says about a script: in-process, or psql because
/// of what (for `--verbose` users, in the JSON).
pub fn needs_psql(script: &Script, settings: &Settings) -> Option<String> {
    if settings.force_psql {
        return Some("a --pset only psql honours".into());
    }
    match script {
        Script::File(path) => psql::support::check(path).err(),
        Script::Sql(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::version_num;

    #[test]
    fn server_version_numbers() {
        assert_eq!(version_num("15.4"), Some(150004));
        assert_eq!(version_num("16.0 (Debian 16.0-1)"), Some(160000));
        assert_eq!(version_num("9.6.24"), Some(90624));
        assert_eq!(version_num("17devel"), Some(170000));
    }
}
