//! `pgtmp exec -- COMMAND`: a database for the length of one command.
//!
//! The instance is started by a child `pgtmp start` (so that, as root, only
//! that child drops privileges and COMMAND still runs as the caller), tied
//! to this process: its supervisor stops it if we die, even by SIGKILL.
//! The command itself, its environment and its signals are `child`'s.

use std::ffi::OsString;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::child;
use crate::cli::{ExecArgs, GlobalArgs, StartArgs};
use crate::error::{EXIT_FAILURE, Error, Result};
use crate::{format, url};

/// Runs the command; returns the exit code to pass on.
pub fn run(args: &ExecArgs, global: &GlobalArgs) -> Result<u8> {
    // Tied to this process, the instance needs no idle timeout unless asked.
    let wait = args.start.timeout.unwrap_or_default();
    let owner = Some(std::process::id());
    let stdout = match start_child(&args.start, global, wait, owner, &[])? {
        Ok(stdout) => stdout,
        // The child already printed its error.
        Err(code) => return Ok(code),
    };
    // One URL per line: the primary's, then a set's replicas'.
    let mut urls = stdout.lines().map(str::trim).filter(|l| !l.is_empty());
    let url = urls.next().unwrap_or_default().to_string();
    let replicas: Vec<String> = urls.map(str::to_string).collect();
    let exe = std::env::current_exe().map_err(Error::io("find", "/proc/self/exe"))?;
    let env = match url::parse(&url) {
        // The socket URL names no user; the role is our login name.
        Some(target) => {
            format::env_vars(&url, &target.or_user(crate::process::login_name), &replicas)
        }
        None => vec![("DATABASE_URL", Some(url.clone()))],
    };
    // Whatever happens to the command, the instance is stopped after it.
    let status = child::run(&args.command, &env);
    // Not the password: every local user can read our children's arguments.
    let stopped = Command::new(&exe)
        .arg("stop")
        .arg(url::without_password(&url))
        .args(global_args(global))
        .stdin(Stdio::null())
        .status();
    if !matches!(stopped, Ok(s) if s.success()) {
        crate::say!(
            "pgtmp: warning: could not stop {}; its supervisor will",
            url::without_password(&url)
        );
    }
    Ok(child::exit_code(status?))
}

/// `pgtmp start` in a child (which, as root, drops privileges alone),
/// asking for what `start` asks with idle timeout `wait`, tied to process
/// `owner`, plus `extra` arguments. Its URL, or the exit status it ended
/// with after printing its error.
pub(super) fn start_child(
    start: &StartArgs,
    global: &GlobalArgs,
    wait: Duration,
    owner: Option<u32>,
    extra: &[&str],
) -> Result<std::result::Result<String, u8>> {
    let exe = std::env::current_exe().map_err(Error::io("find", "/proc/self/exe"))?;
    let mut cmd = Command::new(&exe);
    cmd.arg("start")
        .args(start_args(start, global, wait))
        .args(extra);
    if let Some(pid) = owner {
        cmd.arg("--owner-pid").arg(pid.to_string());
    }
    let out = cmd
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .map_err(Error::io("run", &exe))?;
    if !out.status.success() {
        return Ok(Err(out
            .status
            .code()
            .map(|c| c as u8)
            .unwrap_or(EXIT_FAILURE)));
    }
    Ok(Ok(String::from_utf8_lossy(&out.stdout).trim().to_string()))
}

/// The `pgtmp start` arguments that ask for what `s` asks, with idle
/// timeout `wait`.
fn start_args(s: &StartArgs, global: &GlobalArgs, wait: Duration) -> Vec<OsString> {
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
    v.push(format!("--wait={}ms", wait.as_millis()).into());
    for o in &s.server_options {
        v.push(format!("--options={o}").into());
    }
    if let Some(d) = &s.datadir {
        v.push("-d".into());
        v.push(d.into());
    }
    for f in &s.files {
        let mut arg = OsString::from("--file=");
        arg.push(f);
        v.push(arg);
    }
    for x in &s.extensions {
        v.push(format!("--extension={x}").into());
    }
    if let Some(n) = &s.now {
        v.push(format!("--now={n}").into());
    }
    for cmd in &s.setup {
        v.push(format!("--setup={cmd}").into());
    }
    for k in &s.setup_keys {
        let mut arg = OsString::from("--key=");
        arg.push(k);
        v.push(arg);
    }
    if let Some(name) = &s.from {
        v.push(format!("--from={name}").into());
    }
    if let Some(n) = s.replicas {
        v.push(format!("--replicas={n}").into());
    }
    if s.sync {
        v.push("--sync".into());
    }
    if s.logical {
        v.push("--logical".into());
    }
    if let Some(n) = s.spares {
        v.push(format!("--spares={n}").into());
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
