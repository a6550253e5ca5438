//! Bringing a new instance into being: its private `run/<id>` directory and
//! lock, then its supervisor (`pgtmp __supervise DIR`), whose one-line
//! report says whether the server came up. Used for hand-outs and for
//! spares alike; until the report says ready, a failure removes
//! everything made here.

use std::fs;
use std::io::{BufRead, BufReader, PipeReader, PipeWriter, Write};
use std::os::fd::AsRawFd;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use super::control::CONTROL_SOCKET;
use super::endpoint::Endpoint;
use super::handshake::{ACK, ACK_FD, LOCK_FD, READY_FD, Report, SUPERVISE};
use super::meta::{
    DELIVERED, LOCK, Meta, SERVER_LOG, SUPERVISE_LOG, Settings, SharedTx, UNBORN_PREFIX,
};
use super::port::{self, SHARED_SERVER_PORT, SOCKET_PORT};
use super::server::Server;
use crate::error::{Error, Result};
use crate::lock;
use crate::paths::{self, Layout};
use crate::process;
use crate::random;

/// A fresh `run/<id>`, locked; removed on drop unless launched successfully.
#[derive(Debug)]
pub struct NewInstance {
    pub id: String,
    pub dir: PathBuf,
    lock: fs::File,
    cleanup: Cleanup,
}

impl NewInstance {
    /// Creates `run/<id>` (a name no other caller can have), locked. It is
    /// made under a dot-name that `gc` and `list` skip, locked there, and
    /// only then renamed into place: an instance directory whose lock
    /// nobody holds is a dead one at once, with nothing to wait for.
    pub fn create(layout: &Layout) -> Result<NewInstance> {
        let run = layout.run_dir();
        paths::mkdir_private(&run)?;
        let unborn = loop {
            let dir = run.join(format!("{UNBORN_PREFIX}{}", random::id()));
            match fs::DirBuilder::new().mode(0o700).create(&dir) {
                Ok(()) => break dir,
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(Error::io("create", &dir)(e)),
            }
        };
        let mut cleanup = Cleanup {
            dir: unborn.clone(),
            socket_dirs: Vec::new(),
            armed: true,
        };
        let lock =
            lock::try_lock(&unborn.join(LOCK))?.ok_or_else(|| Error::Locked(unborn.clone()))?;
        let (id, dir) = loop {
            let id = random::id();
            let dir = layout.instance(&id);
            // Onto an existing directory only if it is empty, which no
            // instance's is (it holds its lock file).
            match fs::rename(&unborn, &dir) {
                Ok(()) => break (id, dir),
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::AlreadyExists | std::io::ErrorKind::DirectoryNotEmpty
                    ) =>
                {
                    continue;
                }
                Err(e) => return Err(Error::io("rename into", &dir)(e)),
            }
        };
        cleanup.dir = dir.clone();
        Ok(NewInstance {
            id,
            dir,
            lock,
            cleanup,
        })
    }

    /// The data directory of its primary, when it lives inside.
    pub fn data_dir(&self) -> PathBuf {
        self.dir.join(super::meta::DATA)
    }

    /// The data directory of replica `k` (from 1) of a set, in a directory
    /// of its own, made here.
    pub fn replica_data_dir(&self, k: usize) -> Result<PathBuf> {
        let node = self.dir.join(node_name(k));
        paths::mkdir_private(&node)?;
        Ok(node.join(super::meta::DATA))
    }

    /// The metadata of this instance as `plan` wants it: its socket
    /// directories chosen (and made, when they must lie outside, to be
    /// removed with it on failure), ports, a password for TCP, the control
    /// socket of its supervisor.
    pub fn describe(&mut self, plan: Plan) -> Result<Meta> {
        let set = !plan.replica_data_dirs.is_empty();
        // A set's servers have a second socket (`replication`) one deeper.
        let sub = if set { STREAM_SUB } else { "" };
        let fallback = format!("pgtmp-{}-{}", plan.uid, self.id);
        let (socket_dir, socket_dir_separate) = paths::socket_dir_for(&self.dir, &fallback, sub)?;
        if socket_dir_separate {
            self.cleanup.socket_dirs.push(socket_dir.clone());
        }
        let port = match (plan.port, plan.tcp) {
            (Some(p), _) => p,
            (None, true) => port::free()?,
            (None, false) => SOCKET_PORT,
        };
        // With --shared-tx the proxy is where clients connect (on the port
        // asked for), and the server only listens on its socket, in the
        // same directory under a port of its own.
        let (server_tcp, server_port) = match plan.shared_tx {
            Some(_) => (false, SHARED_SERVER_PORT),
            None => (plan.tcp, port),
        };
        let mut ports = vec![port];
        let primary = Server {
            name: if set { node_name(0) } else { String::new() },
            tcp: server_tcp,
            port: server_port,
            fixed_port: plan.port.is_some() && plan.shared_tx.is_none(),
            stream_dir: set.then(|| socket_dir.join(STREAM_DIR)),
            socket_dir,
            socket_dir_separate,
            data_dir: plan.data_dir,
            user_data_dir: plan.user_data_dir,
            server_options: plan.server_options.clone(),
            bindir: plan.bindir.clone(),
            log: None,
        };
        let mut replicas = Vec::new();
        for (i, data_dir) in plan.replica_data_dirs.into_iter().enumerate() {
            let name = node_name(i + 1);
            let node = self.dir.join(&name);
            paths::mkdir_private(&node)?;
            let (socket_dir, separate) =
                paths::socket_dir_for(&node, &format!("{fallback}-{name}"), sub)?;
            if separate {
                self.cleanup.socket_dirs.push(socket_dir.clone());
            }
            let port = if plan.tcp {
                distinct_free_port(&mut ports)?
            } else {
                SOCKET_PORT
            };
            replicas.push(Server {
                name,
                tcp: plan.tcp,
                port,
                fixed_port: false,
                stream_dir: Some(socket_dir.join(STREAM_DIR)),
                socket_dir,
                socket_dir_separate: separate,
                data_dir,
                user_data_dir: false,
                server_options: plan.server_options.clone(),
                bindir: plan.bindir.clone(),
                log: Some(node.join(SERVER_LOG)),
            });
        }
        for server in std::iter::once(&primary).chain(&replicas) {
            if let Some(stream) = &server.stream_dir {
                paths::mkdir_private(stream)?;
            }
        }
        let control = primary.socket_dir.join(CONTROL_SOCKET);
        let endpoint = match plan.shared_tx {
            Some(_) => Endpoint::Listener {
                socket_dir: primary.socket_dir.clone(),
                port,
                tcp: plan.tcp,
            },
            None => Endpoint::Primary,
        };
        let mut meta = Meta {
            id: self.id.clone(),
            role: plan.role,
            password: plan.tcp.then(random::password),
            primary,
            replicas,
            sync: plan.sync,
            control: Some(control),
            endpoint,
            shared_tx: plan.shared_tx.map(|lock_wait_ms| SharedTx { lock_wait_ms }),
            template: plan.template,
            spare: plan.spare,
            ..Meta::default()
        };
        meta.apply(&plan.settings);
        Ok(meta)
    }

    /// Writes `meta.json` and starts the supervisor, the pgtmp program
    /// `exe`; `wait` for its report.
    pub fn launch(self, meta: &Meta, exe: &Path) -> Result<Launched> {
        meta.write(&self.dir)?;
        let log_path = self.dir.join(SUPERVISE_LOG);
        let log = fs::File::create(&log_path).map_err(Error::io("create", &log_path))?;
        let log_err = log.try_clone().map_err(Error::io("open", &log_path))?;
        let pipe = || std::io::pipe().map_err(Error::io("create a pipe for", &self.dir));
        let (read_end, write_end) = pipe()?;
        let (ack_read, ack_write) = pipe()?;
        let mut cmd = Command::new(exe);
        cmd.arg(SUPERVISE)
            .arg(&self.dir)
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_err);
        let _held = process::detach(
            &mut cmd,
            &[
                (self.lock.as_raw_fd(), LOCK_FD),
                (write_end.as_raw_fd(), READY_FD),
                (ack_read.as_raw_fd(), ACK_FD),
            ],
        )
        .map_err(Error::io("prepare the supervisor for", &self.dir))?;
        let child = cmd
            .spawn()
            .map_err(Error::io("start the supervisor for", &self.dir))?;
        Ok(Launched {
            instance: self,
            child,
            report: read_end,
            ack: ack_write,
            log_path,
        })
    }
}

/// The directory below a set server's socket directory where it listens
/// for the other servers' replication connections.
const STREAM_DIR: &str = "stream";
const STREAM_SUB: &str = "/stream";

/// What a new instance is to be, before it has a directory.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    /// The SQL superuser.
    pub role: String,
    /// The invoking user's uid (names a socket directory under /tmp).
    pub uid: u32,
    pub tcp: bool,
    /// `-p`: this port and no other.
    pub port: Option<u16>,
    pub data_dir: PathBuf,
    /// `-d`: the user's directory, never deleted.
    pub user_data_dir: bool,
    pub server_options: Vec<String>,
    pub bindir: PathBuf,
    pub settings: Settings,
    /// A spare's token.
    pub spare: Option<PathBuf>,
    /// The data directories of a set's replicas (see
    /// [`NewInstance::replica_data_dir`]), ready copies of the primary's
    /// template; empty for a single server.
    pub replica_data_dirs: Vec<PathBuf>,
    /// Commits wait for every replica (`--sync`).
    pub sync: bool,
    /// The key of the template its data was copied from; None for `-d`.
    pub template: Option<String>,
    /// `--shared-tx`: the proxy's lock-wait timeout in milliseconds.
    pub shared_tx: Option<u64>,
}

/// The name of server `k` of a set: `node0` is the first primary.
pub fn node_name(k: usize) -> String {
    format!("node{k}")
}

/// A port free right now and not among `taken` (one per server of a set),
/// which it joins.
fn distinct_free_port(taken: &mut Vec<u16>) -> Result<u16> {
    loop {
        let port = port::free()?;
        if !taken.contains(&port) {
            taken.push(port);
            return Ok(port);
        }
    }
}

/// A supervisor started, its report not read yet.
#[derive(Debug)]
pub struct Launched {
    instance: NewInstance,
    child: Child,
    report: PipeReader,
    ack: PipeWriter,
    log_path: PathBuf,
}

impl Launched {
    /// Waits for the supervisor's report: the URL and the way to tell it
    /// that the URL was delivered, or the reason the server did not start.
    pub fn wait(mut self) -> Result<(String, Ack)> {
        // The supervisor enforces START_TIMEOUT itself; EOF means it died.
        let mut line = String::new();
        let _ = BufReader::new(&self.report).read_line(&mut line);
        match serde_json::from_str::<Report>(line.trim()) {
            Ok(Report::Ready { url }) => {
                self.instance.cleanup.armed = false;
                Ok((url, Ack::Pipe(self.ack)))
            }
            Ok(Report::Failed {
                reason,
                log,
                hint,
                disk_full,
            }) => {
                let _ = self.child.wait();
                Err(Error::ServerStart {
                    reason,
                    log,
                    hint,
                    disk_full,
                })
            }
            Err(_) => {
                let status = self.child.wait().map(|s| s.to_string()).unwrap_or_default();
                let log = fs::read_to_string(&self.log_path).unwrap_or_default();
                Err(Error::server_start(
                    format!("the supervisor exited ({status}) before the server was ready"),
                    crate::error::tail(&log, 10),
                    None,
                ))
            }
        }
    }
}

/// How a ready instance learns that its URL reached someone. Until then
/// its supervisor holds it, and stops it if the deliverer dies.
#[derive(Debug)]
pub enum Ack {
    /// The starter's end of the pipe to the supervisor it started.
    Pipe(PipeWriter),
    /// A claimed spare's `delivered` file.
    File(PathBuf),
}

impl Ack {
    pub fn send(self) -> Result<()> {
        match self {
            Ack::Pipe(mut pipe) => pipe
                .write_all(ACK)
                .map_err(Error::io("acknowledge to", "the supervisor")),
            Ack::File(path) => fs::File::create(&path)
                .map(drop)
                .map_err(Error::io("create", &path)),
        }
    }

    /// For a spare's `run/<id>`.
    pub fn file(dir: &Path) -> Ack {
        Ack::File(dir.join(DELIVERED))
    }
}

/// Removes a half-made instance unless disarmed.
#[derive(Debug)]
struct Cleanup {
    dir: PathBuf,
    socket_dirs: Vec<PathBuf>,
    armed: bool,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        if self.armed {
            for s in &self.socket_dirs {
                let _ = paths::remove_tree(s);
            }
            let _ = paths::remove_tree(&self.dir);
        }
    }
}
