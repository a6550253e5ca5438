//! The runner process itself (`pgtmp __setup`): reads jobs from pgtmp,
//! runs each command through `sh -c` in pgtmp's working directory, as the
//! caller, in a process group of its own, with stdin on /dev/null and its
//! stdout and stderr, merged, passed on to standard error (never stdout,
//! which carries only the URL) and kept in part for an error.
//!
//! The signals a terminal sends (Ctrl-C, hang-up) are ignored here: they
//! end pgtmp, whose job pipe then closes, and that is what stops the
//! commands (SIGTERM to their process group, then SIGKILL). Whatever a
//! command leaves running in its group when it exits is stopped the same
//! way: nothing of a setup outlives it.

use std::collections::VecDeque;
use std::io::{BufRead, Read, Write};
use std::os::fd::AsFd;
use std::os::unix::process::CommandExt;
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::signal::{SigHandler, Signal, signal};

use super::digest;
use super::progress::Progress;
use super::runner::{Job, Outcome};
use crate::error::{Error, Result};

/// How much of the output is kept for an error.
const TAIL_BYTES: usize = 64 * 1024;
const TAIL_LINES: usize = 20;
/// How often the progress line is redrawn and pgtmp looked for.
const TICK: Duration = Duration::from_millis(250);
/// How long what a command left running gets after SIGTERM.
const GRACE: Duration = Duration::from_secs(2);

/// Serves jobs until pgtmp closes the pipe.
pub fn serve() -> Result<()> {
    for sig in [Signal::SIGINT, Signal::SIGQUIT, Signal::SIGHUP] {
        // SAFETY: SIG_IGN installs no handler code.
        let _ = unsafe { signal(sig, SigHandler::SigIgn) };
    }
    let stdin = std::io::stdin();
    let mut line = String::new();
    loop {
        line.clear();
        if stdin
            .lock()
            .read_line(&mut line)
            .map_err(Error::io("read", "the job pipe"))?
            == 0
        {
            return Ok(());
        }
        let job: Job = serde_json::from_str(line.trim()).map_err(|e| Error::Metadata {
            action: "cannot read the job on",
            path: "the job pipe".into(),
            reason: e.to_string(),
        })?;
        let Some(outcome) = execute(&job) else {
            return Ok(()); // pgtmp is gone
        };
        let text = serde_json::to_string(&outcome).expect("outcomes serialize");
        let mut out = std::io::stdout().lock();
        writeln!(out, "{text}")
            .and_then(|()| out.flush())
            .map_err(Error::io("answer on", "the job pipe"))?;
    }
}

/// Runs the job's commands; None when pgtmp went away meanwhile.
fn execute(job: &Job) -> Option<Outcome> {
    let total = job.commands.len();
    for (i, command) in job.commands.iter().enumerate() {
        let mut progress = Progress::new(command, i + 1, total);
        let (status, output) = match run(command, &job.env, &mut progress) {
            Ran::Exited(status, output) => (status, output),
            Ran::Abandoned => {
                progress.finish();
                return None;
            }
            Ran::NotStarted(e) => {
                return Some(Outcome::Failed {
                    command: command.clone(),
                    status: format!("cannot start `sh`: {e}"),
                    code: None,
                    output: String::new(),
                });
            }
        };
        progress.finish();
        if !status.success() {
            return Some(Outcome::Failed {
                command: command.clone(),
                status: status.to_string(),
                code: status.code(),
                output: crate::error::tail(&output, TAIL_LINES),
            });
        }
    }
    Some(Outcome::Done {
        contents: digest::digest(&job.keys).map_err(|e| e.to_string()),
    })
}

/// How a command's run ended.
enum Ran {
    Exited(ExitStatus, String),
    /// pgtmp closed the job pipe: the command was stopped.
    Abandoned,
    NotStarted(std::io::Error),
}

fn run(command: &str, env: &[(String, Option<String>)], progress: &mut Progress) -> Ran {
    let (reader, writer) = match std::io::pipe() {
        Ok(pipe) => pipe,
        Err(e) => return Ran::NotStarted(e),
    };
    let mut cmd = Command::new("/bin/sh");
    cmd.arg("-c")
        .arg(command)
        .stdin(Stdio::null())
        .process_group(0);
    for (name, value) in env {
        match value {
            Some(v) => cmd.env(name, v),
            None => cmd.env_remove(name),
        };
    }
    let err_writer = match writer.try_clone() {
        Ok(w) => w,
        Err(e) => return Ran::NotStarted(e),
    };
    cmd.stdout(writer).stderr(err_writer);
    let mut child = match cmd.spawn() {
        Ok(child) => child,
        Err(e) => return Ran::NotStarted(e),
    };
    // The writing ends now live in the command only: EOF once it and all
    // it started are done with them.
    drop(cmd);
    let group = child.id() as i32;
    let mut output = Output::default();
    let mut reader = Some(reader);
    loop {
        let (readable, orphaned) = wait(reader.as_ref(), TICK);
        if orphaned {
            stop_group(group, &mut reader, &mut output, progress);
            let _ = child.wait();
            return Ran::Abandoned;
        }
        if readable && !output.read(&mut reader, progress) {
            reader = None;
        }
        if let Ok(Some(status)) = child.try_wait() {
            // What it left running in its group goes too.
            stop_group(group, &mut reader, &mut output, progress);
            return Ran::Exited(status, output.text());
        }
        progress.tick();
    }
}

/// Waits up to `timeout` for output on `reader`, or for pgtmp to close the
/// job pipe; says which happened.
fn wait(reader: Option<&std::io::PipeReader>, timeout: Duration) -> (bool, bool) {
    let stdin = std::io::stdin();
    let mut fds = vec![PollFd::new(stdin.as_fd(), PollFlags::POLLIN)];
    fds.extend(reader.map(|r| PollFd::new(r.as_fd(), PollFlags::POLLIN)));
    if !poll_for(&mut fds, timeout) {
        return (false, false);
    }
    // Nothing more comes on the job pipe while a job runs: anything there
    // is its end closing.
    (fds.get(1).is_some_and(woke), woke(&fds[0]))
}

/// Waits up to `timeout` for output on `reader` alone (once pgtmp is gone,
/// the job pipe would wake every wait at once).
fn readable(reader: Option<&std::io::PipeReader>, timeout: Duration) -> bool {
    let Some(r) = reader else {
        return false;
    };
    let mut fds = [PollFd::new(r.as_fd(), PollFlags::POLLIN)];
    poll_for(&mut fds, timeout) && woke(&fds[0])
}

fn poll_for(fds: &mut [PollFd], timeout: Duration) -> bool {
    let ms = u16::try_from(timeout.as_millis()).unwrap_or(u16::MAX);
    poll(fds, PollTimeout::from(ms)).is_ok()
}

/// Readable, at its end, or broken.
fn woke(fd: &PollFd) -> bool {
    fd.revents()
        .is_some_and(|r| r.intersects(PollFlags::POLLIN | PollFlags::POLLHUP | PollFlags::POLLERR))
}

/// SIGTERM to the command's process group, the grace period while its
/// output drains, then SIGKILL to whatever is left.
fn stop_group(
    group: i32,
    reader: &mut Option<std::io::PipeReader>,
    output: &mut Output,
    progress: &mut Progress,
) {
    let pgid = nix::unistd::Pid::from_raw(group);
    if nix::sys::signal::killpg(pgid, Signal::SIGTERM).is_ok() {
        let deadline = Instant::now() + GRACE;
        while Instant::now() < deadline && nix::sys::signal::killpg(pgid, None).is_ok() {
            drain(reader, output, progress, Duration::from_millis(20));
        }
        let _ = nix::sys::signal::killpg(pgid, Signal::SIGKILL);
    }
    // What is still in the pipe; a process that left the group may hold
    // it open, so only what comes at once.
    drain(reader, output, progress, Duration::from_millis(50));
}

/// Reads the output until it ends or nothing comes for `quiet`.
fn drain(
    reader: &mut Option<std::io::PipeReader>,
    output: &mut Output,
    progress: &mut Progress,
    quiet: Duration,
) {
    while readable(reader.as_ref(), quiet) {
        if !output.read(reader, progress) {
            *reader = None;
        }
    }
}

/// The output so far: passed on as it comes, its tail kept.
#[derive(Default)]
struct Output {
    tail: VecDeque<u8>,
}

impl Output {
    /// Reads what is there; false at the end of the output.
    fn read(&mut self, reader: &mut Option<std::io::PipeReader>, progress: &mut Progress) -> bool {
        let Some(r) = reader.as_mut() else {
            return false;
        };
        let mut buf = [0u8; 8192];
        match r.read(&mut buf) {
            Ok(0) | Err(_) => false,
            Ok(n) => {
                progress.output(&buf[..n]);
                self.tail.extend(&buf[..n]);
                let excess = self.tail.len().saturating_sub(TAIL_BYTES);
                self.tail.drain(..excess);
                true
            }
        }
    }

    fn text(&self) -> String {
        let (a, b) = self.tail.as_slices();
        let mut bytes = a.to_vec();
        bytes.extend_from_slice(b);
        String::from_utf8_lossy(&bytes).into_owned()
    }
}
