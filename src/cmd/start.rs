//! `pgtmp` / `pgtmp start`: claim a data directory, start its supervisor,
//! wait for readiness, print the URL.

use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::os::fd::AsRawFd;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::datadir::{prepare_as_root, prepare_user_dir};
use crate::cli::{GlobalArgs, StartArgs};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::instance::launch;
use crate::instance::meta::{self, LOCK, Meta, SUPERVISE_LOG};
use crate::lock;
use crate::paths;
use crate::pool::{self, refill, template};
use crate::process;
use crate::random;
use crate::reaper::{ACK, ACK_FD, LOCK_FD, READY_FD, Report};
use crate::trace;

/// The default idle timeout, as pg_tmp's.
pub const DEFAULT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

/// The port of socket-only instances: their socket directory is private,
/// so every instance can use the default and the URL needs no port.
const SOCKET_PORT: u16 = 5432;

/// A ready instance whose URL still has to reach the caller.
#[derive(Debug)]
pub struct Handout {
    pub url: String,
    /// The write end of the acknowledgement pipe to the supervisor.
    ack: std::io::PipeWriter,
}

impl Handout {
    /// Prints the URL, then tells the supervisor it was delivered. If the
    /// URL cannot be written (stdout closed, pgtmp killed before this), no
    /// acknowledgement comes and the supervisor stops the server at once:
    /// nobody knows its URL, so nobody would ever stop it.
    pub fn deliver(self) -> Result<()> {
        let mut out = std::io::stdout().lock();
        writeln!(out, "{}", self.url)
            .and_then(|()| out.flush())
            .map_err(Error::io("write the URL to", "standard output"))?;
        let mut ack = self.ack;
        ack.write_all(ACK)
            .map_err(Error::io("acknowledge to", "the supervisor"))
    }
}

/// Starts an instance and returns its URL. `owner`: stop when that process
/// is gone (`exec`).
pub fn run(args: &StartArgs, global: &GlobalArgs, owner: Option<u32>) -> Result<Handout> {
    let config = Config::resolve(global)?;
    if let Some(dir) = &args.datadir {
        prepare_as_root(&config, dir)?;
    }
    config.enter()?;
    start(&config, args, owner).map_err(|e| e.on_filesystem_of(&config.layout.base))
}

fn start(config: &Config, args: &StartArgs, owner: Option<u32>) -> Result<Handout> {
    let layout = &config.layout;
    let spec = config.template_spec()?;
    let key = spec.key();
    trace::mark("found PostgreSQL");
    if let Some(port) = args.port
        && launch::port_in_use(port)
    {
        return Err(Error::PortInUse(port));
    }
    let options = match &args.server_options {
        Some(o) => shell_words::split(o)
            .map_err(|e| Error::other(format!("cannot split `-o {o}`: {e}")))?,
        None => Vec::new(),
    };

    let (id, dir) = new_instance_dir(layout)?;
    let mut cleanup = Cleanup::new(dir.clone());
    let lock = lock::try_lock(&dir.join(LOCK))?
        .ok_or_else(|| Error::other(format!("{} is locked by another process", dir.display())))?;

    let (data_dir, user_data_dir) = match &args.datadir {
        // `pgtmp start -d "$(pgtmp initdb)"`, as with pg_tmp: that entry is
        // ours, so claim it like any pool entry.
        Some(d) if pool_entry(layout, &key, d) => {
            let data = dir.join("data");
            fs::rename(d, &data).map_err(Error::io("claim pool entry", d))?;
            (data, false)
        }
        Some(d) => (prepare_user_dir(config, &spec, d)?, true),
        None => {
            let data = dir.join("data");
            if !pool::claim(layout, &key, &data)? {
                let template = template::ensure(layout, &spec)?;
                pool::copy_tree(&template, &data)?;
            }
            (data, false)
        }
    };
    trace::mark("data directory ready");
    check_version(&data_dir)?;
    let _ = fs::File::create(layout.template_used(&key));

    let (socket_dir, socket_dir_separate) = paths::socket_dir(&dir, &id, config.identity.uid)?;
    cleanup.socket_dir = socket_dir_separate.then(|| socket_dir.clone());
    let tcp = args.tcp || args.port.is_some();
    let port = match (args.port, tcp) {
        (Some(p), _) => p,
        (None, true) => launch::free_port()?,
        (None, false) => SOCKET_PORT,
    };
    let owner_start = owner.and_then(process::start_time);
    let meta = Meta {
        id,
        url: String::new(),
        role: config.identity.role.clone(),
        password: tcp.then(random::password),
        tcp,
        port,
        fixed_port: args.port.is_some(),
        socket_dir,
        socket_dir_separate,
        data_dir,
        user_data_dir,
        keep: args.keep,
        timeout_ms: args.timeout.unwrap_or(DEFAULT_TIMEOUT).as_millis() as u64,
        server_options: options,
        bindir: spec.install.bindir.clone(),
        started: meta::now_secs(),
        supervisor_pid: None,
        supervisor_start: None,
        owner_pid: owner,
        owner_start,
    };
    meta.write(&dir)?;

    let handout = launch_supervisor(&dir, &lock)?;
    trace::mark("server ready");
    cleanup.disarm();
    drop(lock);

    // Refill the pool and collect garbage in the background. A failure only
    // costs the next call a copy; the refill log says why.
    let _ = refill::spawn(layout, &key, config.pool_size);
    trace::mark("refill started");
    if args.keep && args.datadir.is_none() {
        eprintln!(
            "pgtmp: the data directory will be kept after the server stops: {}",
            meta.data_dir.display()
        );
    }
    Ok(handout)
}

/// Whether `dir` is an entry of our pool (as `pgtmp initdb` prints them).
fn pool_entry(layout: &paths::Layout, key: &str, dir: &Path) -> bool {
    let pool = layout.pool(key);
    let (Ok(dir), Ok(pool)) = (dir.canonicalize(), pool.canonicalize()) else {
        return false;
    };
    dir.parent() == Some(pool.as_path())
}

/// `run/<id>`, created here so that no other caller can have it.
fn new_instance_dir(layout: &paths::Layout) -> Result<(String, PathBuf)> {
    paths::mkdir_private(&layout.run_dir())?;
    loop {
        let id = random::id();
        let dir = layout.instance(&id);
        match fs::DirBuilder::new().mode(0o700).create(&dir) {
            Ok(()) => return Ok((id, dir)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(Error::io("create", &dir)(e)),
        }
    }
}

/// Spawns `pgtmp __supervise DIR` and waits for its one-line report.
fn launch_supervisor(dir: &Path, lock: &fs::File) -> Result<Handout> {
    let exe = std::env::current_exe().map_err(Error::io("find", "/proc/self/exe"))?;
    let log_path = dir.join(SUPERVISE_LOG);
    let log = fs::File::create(&log_path).map_err(Error::io("create", &log_path))?;
    let log_err = log.try_clone().map_err(Error::io("open", &log_path))?;
    let (read_end, write_end) = std::io::pipe().map_err(Error::io("create a pipe for", dir))?;
    let (ack_read, ack_write) = std::io::pipe().map_err(Error::io("create a pipe for", dir))?;
    let mut cmd = Command::new(exe);
    cmd.arg(crate::cli::Internal::SUPERVISE)
        .arg(dir)
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(log_err);
    let held = process::detach(
        &mut cmd,
        &[
            (lock.as_raw_fd(), LOCK_FD),
            (write_end.as_raw_fd(), READY_FD),
            (ack_read.as_raw_fd(), ACK_FD),
        ],
    )
    .map_err(Error::io("prepare the supervisor for", dir))?;
    let mut child = cmd
        .spawn()
        .map_err(Error::io("start the supervisor for", dir))?;
    drop(held);
    drop(write_end);
    drop(ack_read);

    // The supervisor enforces START_TIMEOUT itself; EOF means it died.
    let mut line = String::new();
    let _ = BufReader::new(read_end).read_line(&mut line);
    match serde_json::from_str::<Report>(line.trim()) {
        Ok(Report::Ready { url }) => Ok(Handout {
            url,
            ack: ack_write,
        }),
        Ok(Report::Failed { reason, log, hint }) => {
            let _ = child.wait();
            Err(Error::ServerStart { reason, log, hint })
        }
        Err(_) => {
            let status = child.wait().map(|s| s.to_string()).unwrap_or_default();
            let log = fs::read_to_string(&log_path).unwrap_or_default();
            Err(Error::ServerStart {
                reason: format!("the supervisor exited ({status}) before the server was ready"),
                log: crate::error::tail(&log, 10),
                hint: None,
            })
        }
    }
}

/// The data directory's major version must be one whose readiness we can
/// see (10+): reading PG_VERSION costs nothing, running postgres does.
fn check_version(data_dir: &Path) -> Result<()> {
    let path = data_dir.join("PG_VERSION");
    let text = fs::read_to_string(&path).map_err(Error::io("read", &path))?;
    let major: u32 = text
        .trim()
        .split('.')
        .next()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    if major < crate::pg::MIN_MAJOR {
        return Err(Error::with_hint(
            format!(
                "{} is PostgreSQL {}, older than 10",
                data_dir.display(),
                text.trim()
            ),
            "use PostgreSQL 10 or newer (`--pg-version`, `--pg-bindir`)",
        ));
    }
    Ok(())
}

/// Removes a half-made instance unless disarmed.
struct Cleanup {
    dir: PathBuf,
    socket_dir: Option<PathBuf>,
    armed: bool,
}

impl Cleanup {
    fn new(dir: PathBuf) -> Cleanup {
        Cleanup {
            dir,
            socket_dir: None,
            armed: true,
        }
    }

    fn disarm(&mut self) {
        self.armed = false;
    }
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        if self.armed {
            if let Some(s) = &self.socket_dir {
                let _ = paths::remove_tree(s);
            }
            let _ = paths::remove_tree(&self.dir);
        }
    }
}
