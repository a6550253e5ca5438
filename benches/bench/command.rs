//! Running a child to completion with a deadline.
//!
//! "Completion" is what a caller like `url=$(pgtmp)` or Rust's
//! `Command::output` waits for: exit *and* end of stdout and stderr. A
//! background process that keeps either pipe open is a bug in the program
//! under test, and shows up here as a timeout with that explanation rather
//! than a hung benchmark.

use std::ffi::OsStr;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::Duration;

#[derive(Debug)]
pub struct Ran {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

/// Removes every `PG*` variable (PGHOST, PGTMP_DIR, ...) so nothing from the
/// caller's environment leaks into what is measured.
pub fn scrub_env(cmd: &mut Command) {
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("PG") {
            cmd.env_remove(&key);
        }
    }
}

/// Runs `cmd` until it exits and closes its output, or kills it at `timeout`.
/// A non-zero exit is not an error here; see [`check`].
pub fn run(cmd: &mut Command, timeout: Duration) -> Result<Ran, String> {
    let program = name(cmd);
    let child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run {program}: {e}"))?;
    let pid = child.id() as libc::pid_t;
    let (tx, rx) = mpsc::channel();
    // The waiting happens on a thread so that this one can give up on it.
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    let output = match rx.recv_timeout(timeout) {
        Ok(output) => output,
        Err(_) => {
            // SAFETY: plain kill(2). The pid stays ours until the waiting
            // thread reaps it, which it does only after both pipes close,
            // i.e. (but for a vanishing window) not yet.
            unsafe { libc::kill(pid, libc::SIGKILL) };
            let why = match rx.recv_timeout(Duration::from_secs(2)) {
                Ok(_) => "killed".to_string(),
                Err(_) => "killed, but its stdout/stderr stay open: a background process \
                           inherited them"
                    .to_string(),
            };
            return Err(format!("{program} took over {timeout:?}: {why}"));
        }
    };
    let output = output.map_err(|e| format!("waiting for {program}: {e}"))?;
    Ok(Ran {
        status: output.status,
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    })
}

/// [`run`], and a non-zero exit becomes an error carrying the tail of stderr.
pub fn check(cmd: &mut Command, timeout: Duration) -> Result<Ran, String> {
    let program = name(cmd);
    let ran = run(cmd, timeout)?;
    if ran.status.success() {
        Ok(ran)
    } else {
        Err(format!(
            "{program} failed ({}): {}",
            ran.status,
            tail(&ran.stderr)
        ))
    }
}

/// The last few non-empty lines of `text`, joined for a one-line report.
pub fn tail(text: &str) -> String {
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let start = lines.len().saturating_sub(4);
    let joined = lines[start..].join(" / ");
    if joined.is_empty() {
        "(no output)".into()
    } else {
        joined
    }
}

/// `program arg1` for messages: the file name and the first argument.
fn name(cmd: &Command) -> String {
    let program = std::path::Path::new(cmd.get_program())
        .file_name()
        .unwrap_or(OsStr::new("?"))
        .to_string_lossy()
        .into_owned();
    match cmd.get_args().next() {
        Some(arg) if !arg.to_string_lossy().starts_with('-') => {
            format!("`{program} {}`", arg.to_string_lossy())
        }
        _ => format!("`{program}`"),
    }
}
