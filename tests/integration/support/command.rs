//! Running a command the way a test needs it: scrubbed environment, a
//! deadline, and an `Output` whose failures show everything.
//!
//! stdout and stderr go to files in the test root, not pipes: if pgtmp let a
//! background process inherit them, reading a pipe to its end would hang the
//! test instead of failing it (`handout::stdout_closes_when_pgtmp_exits`
//! checks that case on purpose).

use std::ffi::{OsStr, OsString};
use std::fmt;
use std::fs::{self, File};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use super::root::TestRoot;
use super::user::Who;

/// Long enough for a cold start on a loaded two-core machine.
pub const COMMAND_DEADLINE: Duration = Duration::from_secs(60);

#[derive(Debug)]
enum Program {
    Pgtmp,
    Path(PathBuf),
}

/// A command about to run in a test root.
#[derive(Debug)]
pub struct Run<'a> {
    root: &'a TestRoot,
    program: Program,
    args: Vec<OsString>,
    envs: Vec<(OsString, OsString)>,
    unset: Vec<OsString>,
    who: Who,
    timeout: Duration,
    dir: Option<PathBuf>,
}

impl<'a> Run<'a> {
    pub(crate) fn pgtmp(root: &'a TestRoot) -> Run<'a> {
        Run::new(root, Program::Pgtmp)
    }

    pub(crate) fn program(root: &'a TestRoot, path: &Path) -> Run<'a> {
        Run::new(root, Program::Path(path.to_path_buf()))
    }

    fn new(root: &'a TestRoot, program: Program) -> Run<'a> {
        Run {
            root,
            program,
            args: Vec::new(),
            envs: Vec::new(),
            unset: Vec::new(),
            who: Who::Me,
            timeout: COMMAND_DEADLINE,
            dir: None,
        }
    }

    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.args
            .extend(args.into_iter().map(|a| a.as_ref().to_os_string()));
        self
    }

    pub fn env(mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> Self {
        self.envs.push((key.as_ref().into(), value.as_ref().into()));
        self
    }

    /// Leave `key` out of the environment (after the harness's own settings).
    pub fn env_remove(mut self, key: impl AsRef<OsStr>) -> Self {
        self.unset.push(key.as_ref().into());
        self
    }

    /// Run as this identity (an ordinary user only when the tests are root).
    pub fn who(mut self, who: Who) -> Self {
        self.who = who;
        self
    }

    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Run in `dir` instead of the test root.
    pub fn current_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.dir = Some(dir.into());
        self
    }

    /// The configured `Command` (stdio left to the caller) and its
    /// description for failure messages.
    pub fn command(&self) -> (Command, String) {
        self.root.enlist(self.who);
        let program = match (&self.program, self.who) {
            (Program::Pgtmp, Who::Me) => PathBuf::from(env!("CARGO_BIN_EXE_pgtmp")),
            (Program::Pgtmp, Who::User(_) | Who::Stranger(_)) => self.root.pgtmp_copy(),
            (Program::Path(path), _) => path.clone(),
        };
        let mut cmd = Command::new(&program);
        let dir = self.dir.as_deref().unwrap_or(self.root.path());
        cmd.args(&self.args).current_dir(dir);
        for (key, _) in std::env::vars_os() {
            let k = key.to_string_lossy();
            if k.starts_with("PG") || k == "XDG_RUNTIME_DIR" || k == "DATABASE_URL" {
                cmd.env_remove(&key);
            }
        }
        let base = self.root.base_of(self.who);
        cmd.env("PGTMP_DIR", &base);
        let mut shown = vec![format!("PGTMP_DIR={}", base.display())];
        if let Who::User(user) | Who::Stranger(user) = self.who {
            let home = self.root.home_of(self.who);
            cmd.uid(user.uid).gid(user.gid);
            cmd.env("HOME", &home)
                .env("USER", &user.name)
                .env("LOGNAME", &user.name);
            shown.push(format!("(as {} uid {})", user.name, user.uid));
        }
        for (key, value) in &self.envs {
            cmd.env(key, value);
            shown.push(format!(
                "{}={}",
                key.to_string_lossy(),
                value.to_string_lossy()
            ));
        }
        for key in &self.unset {
            cmd.env_remove(key);
            shown.push(format!("(without {})", key.to_string_lossy()));
        }
        shown.push(program.display().to_string());
        shown.extend(self.args.iter().map(|a| quote(&a.to_string_lossy())));
        if let Some(d) = &self.dir {
            shown.push(format!("(in {})", d.display()));
        }
        (cmd, shown.join(" "))
    }

    /// Runs to completion; panics (showing everything) if it cannot start or
    /// outlives its deadline. Any exit status is returned, not judged.
    pub fn run(self) -> Output {
        self.try_run().unwrap_or_else(|e| panic!("{e}"))
    }

    pub fn try_run(self) -> Result<Output, String> {
        self.try_spawn(|_| ())?.try_wait()
    }

    /// Starts the command in the background (stdin empty, stdout and stderr
    /// to files), after `prepare` has had a last look at it.
    pub fn spawn(self, prepare: impl FnOnce(&mut Command)) -> Running {
        self.try_spawn(prepare).unwrap_or_else(|e| panic!("{e}"))
    }

    fn try_spawn(self, prepare: impl FnOnce(&mut Command)) -> Result<Running, String> {
        let (mut cmd, shown) = self.command();
        let (out_path, err_path) = self.root.output_files();
        let create = |p: &Path| File::create(p).map_err(|e| format!("create {}: {e}", p.display()));
        cmd.stdin(Stdio::null())
            .stdout(create(&out_path)?)
            .stderr(create(&err_path)?);
        prepare(&mut cmd);
        let child = spawn(&mut cmd).map_err(|e| format!("cannot run {shown}: {e}"))?;
        Ok(Running {
            child,
            shown,
            out_path,
            err_path,
            timeout: self.timeout,
        })
    }
}

/// A command started with `Run::spawn`; `wait` gives its `Output`.
#[derive(Debug)]
pub struct Running {
    child: std::process::Child,
    pub shown: String,
    out_path: PathBuf,
    err_path: PathBuf,
    timeout: Duration,
}

impl Running {
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// What it wrote to stdout so far.
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&fs::read(&self.out_path).unwrap_or_default()).into_owned()
    }

    /// What it wrote to stderr so far (for failure messages).
    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&fs::read(&self.err_path).unwrap_or_default()).into_owned()
    }

    /// Waits for it to finish; panics (showing everything) if it outlives
    /// its deadline, counted from now.
    /// Whether it has exited (it is reaped then; `wait` still reports it).
    pub fn finished(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(Some(_)))
    }

    pub fn wait(self) -> Output {
        self.try_wait().unwrap_or_else(|e| panic!("{e}"))
    }

    fn try_wait(mut self) -> Result<Output, String> {
        let shown = self.shown.clone();
        let deadline = Instant::now() + self.timeout;
        let status = loop {
            match self.child.try_wait() {
                Ok(Some(status)) => break status,
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(10))
                }
                Ok(None) => {
                    let _ = self.child.kill();
                    let status = self
                        .child
                        .wait()
                        .map_err(|e| format!("wait for {shown}: {e}"))?;
                    let out = Output::read(shown, status, &self.out_path, &self.err_path);
                    return Err(format!(
                        "still running after {:?}, killed\n{out}",
                        self.timeout
                    ));
                }
                Err(e) => return Err(format!("wait for {shown}: {e}")),
            }
        };
        Ok(Output::read(shown, status, &self.out_path, &self.err_path))
    }
}

/// Spawns, retrying on ETXTBSY: a binary copied into the root moments ago may
/// still be open for writing in a child another test thread is forking.
fn spawn(cmd: &mut Command) -> std::io::Result<std::process::Child> {
    const ETXTBSY: i32 = 26;
    let mut tries = 0;
    loop {
        match cmd.spawn() {
            Err(e) if e.raw_os_error() == Some(ETXTBSY) && tries < 50 => {
                tries += 1;
                std::thread::sleep(Duration::from_millis(20));
            }
            result => return result,
        }
    }
}

fn quote(arg: &str) -> String {
    let plain = !arg.is_empty()
        && arg
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_=./:,@%+".contains(c));
    if plain {
        arg.to_string()
    } else {
        format!("'{}'", arg.replace('\'', r"'\''"))
    }
}

/// What a finished command did. `Display` shows all of it, for assertions.
#[derive(Debug)]
pub struct Output {
    pub cmd: String,
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    fn read(cmd: String, status: ExitStatus, out: &Path, err: &Path) -> Output {
        let read =
            |p: &Path| String::from_utf8_lossy(&fs::read(p).unwrap_or_default()).into_owned();
        Output {
            cmd,
            status,
            stdout: read(out),
            stderr: read(err),
        }
    }

    pub fn code(&self) -> Option<i32> {
        self.status.code()
    }

    pub fn assert_success(&self) -> &Self {
        self.assert_code(0)
    }

    pub fn assert_code(&self, code: i32) -> &Self {
        assert_eq!(self.code(), Some(code), "expected exit code {code}\n{self}");
        self
    }

    /// A failure as the contract prints it: exit `code`, a
    /// `pgtmp: error: ...` line, and each of `needles` in stderr.
    pub fn assert_error(&self, code: i32, needles: &[&str]) -> &Self {
        self.assert_code(code);
        assert!(
            self.stderr.lines().any(|l| l.starts_with("pgtmp: error:")),
            "expected a `pgtmp: error:` line on stderr\n{self}"
        );
        for needle in needles {
            assert!(
                self.stderr.contains(needle),
                "expected {needle:?} in stderr\n{self}"
            );
        }
        self
    }

    /// stdout must be exactly one non-empty value without a newline, as
    /// pgtmp prints one (like pg_tmp) when stdout is not a terminal: the
    /// tests' stdout is a file.
    pub fn one_line(&self) -> &str {
        let line = self.stdout.as_str();
        assert!(
            !line.is_empty() && !line.contains('\n'),
            "expected one value without a newline on stdout\n{self}"
        );
        line
    }
}

impl fmt::Display for Output {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let status = match (self.status.code(), self.status.signal()) {
            (Some(code), _) => format!("exit code {code}"),
            (None, Some(sig)) => format!("killed by signal {sig}"),
            (None, None) => self.status.to_string(),
        };
        writeln!(f, "command: {}", self.cmd)?;
        writeln!(f, "status:  {status}")?;
        writeln!(f, "--- stdout ---\n{}", self.stdout.trim_end())?;
        write!(
            f,
            "--- stderr ---\n{}\n--------------",
            self.stderr.trim_end()
        )
    }
}
