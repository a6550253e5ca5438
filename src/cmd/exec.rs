//! `pgtmp exec -- COMMAND`: a database for the length of one command.
//!
//! The instance is started by a child `pgtmp start` (so that, as root, only
//! that child drops privileges and COMMAND still runs as the caller), tied
//! to this process: its supervisor stops it if we die, even by SIGKILL.

use std::ffi::OsString;
use std::process::{Command, ExitStatus, Stdio};
use std::time::Duration;

use signal_hook::consts::{SIGHUP, SIGINT, SIGQUIT, SIGTERM};
use signal_hook::iterator::Signals;

use crate::cli::{ExecArgs, GlobalArgs};
use crate::error::{EXIT_FAILURE, Error, Result};
use crate::url;

/// Runs the command; returns the exit code to pass on.
pub fn run(args: &ExecArgs, global: &GlobalArgs) -> Result<u8> {
    let exe = std::env::current_exe().map_err(Error::io("find", "/proc/self/exe"))?;
    let mut start = Command::new(&exe);
    start.arg("start").args(start_args(args, global));
    start.arg("--owner-pid").arg(std::process::id().to_string());
    let out = start
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .map_err(Error::io("run", &exe))?;
    if !out.status.success() {
        // The child already printed its error.
        return Ok(out.status.code().map(|c| c as u8).unwrap_or(EXIT_FAILURE));
    }
    let url = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let status = run_command(&args.command, &url);
    // Not the password: every local user can read our children's arguments.
    let stopped = Command::new(&exe)
        .arg("stop")
        .arg(url::without_password(&url))
        .args(global_args(global))
        .stdin(Stdio::null())
        .status();
    let status = status?;
    if !matches!(stopped, Ok(s) if s.success()) {
        eprintln!(
            "pgtmp: warning: could not stop {}; its supervisor will",
            url::without_password(&url)
        );
    }
    Ok(exit_code(status))
}

fn run_command(command: &[OsString], url: &str) -> Result<ExitStatus> {
    let (program, rest) = command.split_first().expect("clap requires a command");
    let mut cmd = Command::new(program);
    cmd.args(rest).env("DATABASE_URL", url);
    if let Some(t) = url::parse(url) {
        cmd.env("PGHOST", &t.host)
            .env("PGPORT", t.port.to_string())
            .env("PGUSER", &t.user)
            .env("PGDATABASE", &t.dbname);
        match &t.password {
            Some(pw) => cmd.env("PGPASSWORD", pw),
            None => cmd.env_remove("PGPASSWORD"),
        };
    }
    // Survive the signals meant for the command, so that we can clean up;
    // the terminal delivers Ctrl-C to it directly, the rest we pass on.
    let mut signals = Signals::new([SIGINT, SIGTERM, SIGHUP, SIGQUIT])
        .map_err(Error::io("install signal handlers for", program))?;
    let mut child = cmd.spawn().map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => Error::with_hint(
            format!("{}: command not found", program.to_string_lossy()),
            "give the command after `--`, e.g. `pgtmp exec -- make test`",
        ),
        _ => Error::io("run", program)(e),
    })?;
    let mut pause = Duration::from_millis(1);
    loop {
        if let Some(status) = child.try_wait().map_err(Error::io("wait for", program))? {
            return Ok(status);
        }
        for sig in signals.pending() {
            if sig != SIGINT {
                crate::process::signal(child.id(), sig.try_into().expect("known signal"));
            }
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(20));
    }
}

/// The command's code, or 128+N for signal N, as shells report it.
fn exit_code(status: ExitStatus) -> u8 {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(c), _) => c as u8,
        (None, Some(sig)) => (128 + sig) as u8,
        _ => EXIT_FAILURE,
    }
}

fn start_args(args: &ExecArgs, global: &GlobalArgs) -> Vec<OsString> {
    let s = &args.start;
    let mut v: Vec<OsString> = Vec::new();
    if s.keep {
        v.push("-k".into());
    }
    if s.tcp {
        v.push("-t".into());
    }
    if let Some(p) = s.port {
        v.push(format!("-p{p}").into());
    }
    // Tied to this process, the instance needs no idle timeout unless asked.
    let wait = s.timeout.map(|t| t.as_millis()).unwrap_or(0);
    v.push(format!("--wait={wait}ms").into());
    if let Some(o) = &s.server_options {
        v.push(format!("--options={o}").into());
    }
    if let Some(d) = &s.datadir {
        v.push("-d".into());
        v.push(d.into());
    }
    v.extend(global_args(global));
    v
}

fn global_args(g: &GlobalArgs) -> Vec<OsString> {
    let mut v: Vec<OsString> = Vec::new();
    if let Some(d) = &g.pg_bindir {
        v.push("--pg-bindir".into());
        v.push(d.into());
    }
    if let Some(n) = g.pg_version {
        v.push(format!("--pg-version={n}").into());
    }
    if let Some(u) = &g.run_as {
        v.push(format!("--run-as={u}").into());
    }
    v
}
