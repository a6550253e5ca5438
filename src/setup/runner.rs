//! The process that runs the `--setup` commands (`pgtmp __setup`), and how
//! pgtmp talks to it: one JSON line each way per job, on its stdin and
//! stdout; its stderr is pgtmp's, where the commands' output goes.
//!
//! Why a process of its own: the commands run as the caller, and as root
//! pgtmp drops to the `--run-as` account before it builds anything, so the
//! runner is started before that, while pgtmp is still root. It also
//! outlives pgtmp by a moment: when pgtmp dies (killed, Ctrl-C), its end of
//! the job pipe closes, and the runner stops whatever the commands left
//! running (they run in a process group of their own), so that a setup
//! killed midway leaves nothing behind. The server they ran against dies
//! with pgtmp (it gets SIGQUIT from the kernel).

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result, SetupProblem};

/// The hidden subcommand that runs setups.
pub const SETUP: &str = "__setup";

/// What to run: the commands in order, with `env` (`None`: unset), then
/// the `--key` paths to read again.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Job {
    pub commands: Vec<String>,
    pub env: Vec<(String, Option<String>)>,
    pub keys: Vec<PathBuf>,
}

/// How a job went.
#[derive(Debug, Serialize, Deserialize)]
pub enum Outcome {
    /// Every command succeeded; the digest of the `--key` paths read
    /// afterwards, or why they could not be read.
    Done { contents: Result<String, String> },
    /// A command failed: how it ended and the tail of its output.
    Failed {
        command: String,
        status: String,
        code: Option<i32>,
        output: String,
    },
}

/// pgtmp's end of a runner.
#[derive(Debug)]
pub struct Runner {
    child: Child,
    jobs: Option<ChildStdin>,
    outcomes: BufReader<ChildStdout>,
    /// A job was sent and its outcome not read: dropping the runner then
    /// lets it stop the commands before it exits.
    busy: bool,
}

impl Runner {
    /// Starts `pgtmp __setup` (`exe`), as whoever this process is now.
    pub fn spawn(exe: &Path) -> Result<Runner> {
        let mut child = Command::new(exe)
            .arg(SETUP)
            .arg(std::process::id().to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(Error::io("start the setup runner", exe))?;
        let jobs = child.stdin.take();
        let outcomes = BufReader::new(child.stdout.take().expect("stdout is piped"));
        Ok(Runner {
            child,
            jobs,
            outcomes,
            busy: false,
        })
    }

    /// Runs `job` and waits for its outcome.
    pub fn run(&mut self, job: &Job) -> Result<Outcome> {
        let gone = |why: String| Error::Setup(SetupProblem::RunnerGone(why));
        let line = serde_json::to_string(job).expect("jobs serialize");
        let jobs = self.jobs.as_mut().ok_or_else(|| gone("closed".into()))?;
        self.busy = true;
        writeln!(jobs, "{line}")
            .and_then(|()| jobs.flush())
            .map_err(|e| gone(e.to_string()))?;
        let mut reply = String::new();
        self.outcomes
            .read_line(&mut reply)
            .map_err(|e| gone(e.to_string()))?;
        self.busy = false;
        serde_json::from_str(reply.trim()).map_err(|_| match self.child.try_wait() {
            Ok(Some(status)) => gone(status.to_string()),
            _ => gone(format!("it answered {:?}", reply.trim())),
        })
    }
}

impl Drop for Runner {
    fn drop(&mut self) {
        // Its end of the job pipe closes: an idle runner exits at once, a
        // busy one first stops the commands.
        drop(self.jobs.take());
        if !self.busy {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}
