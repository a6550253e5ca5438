//! A plain PostgreSQL cluster driven with initdb/pg_ctl/createdb, as the
//! baselines do it, and a guard that stops and deletes it on drop.
//!
//! Servers listen on a Unix socket in their own directory only
//! (`listen_addresses=''`, so no port can clash) and run with `-F` (fsync
//! off), as testing.postgresql and pg_tmp start theirs.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::account::Identity;
use crate::command;
use crate::procfs;

const TIMEOUT: Duration = Duration::from_secs(60);

/// The PostgreSQL installation and who runs it.
#[derive(Debug)]
pub struct Pg {
    pub bindir: PathBuf,
    pub who: Identity,
}

impl Pg {
    /// `bindir/name`, as the server account, with a clean `PG*` environment.
    pub fn tool(&self, name: &str, cwd: &Path) -> Command {
        let mut cmd = Command::new(self.bindir.join(name));
        command::scrub_env(&mut cmd);
        self.who.run_as_server(&mut cmd);
        cmd.current_dir(cwd);
        cmd
    }

    pub fn version(&self) -> Result<String, String> {
        let mut cmd = self.tool("postgres", Path::new("/"));
        let ran = command::check(cmd.arg("--version"), TIMEOUT)?;
        Ok(ran.stdout.trim().to_string())
    }

    /// The initdb options pgtmp uses, for `data`.
    pub fn initdb(&self, data: &Path, cwd: &Path) -> Result<(), String> {
        let mut cmd = self.tool("initdb", cwd);
        cmd.args([
            "-N",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
            "--wal-segsize=1",
            "-U",
        ])
        .arg(&self.who.me.name)
        .arg("-D")
        .arg(data);
        command::check(&mut cmd, TIMEOUT).map(drop)
    }
}

/// One cluster in its own directory: `data/`, `server.log`, the socket.
#[derive(Debug)]
pub struct Cluster<'a> {
    pg: &'a Pg,
    pub dir: PathBuf,
    started: bool,
}

impl<'a> Cluster<'a> {
    /// Creates the (empty) directory; the guard owns it from here on.
    pub fn new(pg: &'a Pg, dir: PathBuf) -> Result<Cluster<'a>, String> {
        pg.who.server_dir(&dir)?;
        Ok(Cluster {
            pg,
            dir,
            started: false,
        })
    }

    pub fn data(&self) -> PathBuf {
        self.dir.join("data")
    }

    pub fn initdb(&self) -> Result<(), String> {
        self.pg.initdb(&self.data(), &self.dir)
    }

    /// Copies an initdb'd, cleanly stopped data directory into place.
    pub fn copy_from(&self, data: &Path) -> Result<(), String> {
        let mut cp = Command::new("cp");
        self.pg.who.run_as_server(&mut cp);
        cp.current_dir(&self.dir)
            .arg("-a")
            .arg(data)
            .arg(self.data());
        command::check(&mut cp, TIMEOUT).map(drop)
    }

    /// `pg_ctl start -w`: returns once pg_ctl sees the server ready.
    pub fn start(&mut self) -> Result<(), String> {
        self.start_with("")
    }

    /// `pg_ctl start -w` with `extra` server options too.
    pub fn start_with(&mut self, extra: &str) -> Result<(), String> {
        self.started = true;
        let options = format!(
            "-F -k {} -c listen_addresses='' {extra}",
            self.dir.display()
        );
        let mut cmd = self.pg.tool("pg_ctl", &self.dir);
        cmd.args(["start", "-w", "-s", "-t", "60", "-D"])
            .arg(self.data())
            .arg("-l")
            .arg(self.dir.join("server.log"))
            .args(["-o", &options]);
        command::check(&mut cmd, TIMEOUT).map(drop).map_err(|e| {
            let log = std::fs::read_to_string(self.dir.join("server.log")).unwrap_or_default();
            format!("{e}: server log: {}", command::tail(&log))
        })
    }

    /// `pg_basebackup -R -X stream` of `primary` into this cluster's data
    /// directory, as testgres' `backup()` and `spawn_replica()` do; `fast`
    /// asks for an immediate checkpoint instead of the default spread one.
    pub fn basebackup_from(&self, primary: &Cluster, fast: bool) -> Result<(), String> {
        let mut cmd = self.pg.tool("pg_basebackup", &self.dir);
        cmd.arg("-D")
            .arg(self.data())
            .arg("-h")
            .arg(&primary.dir)
            .args(["-U", &self.pg.who.me.name, "-R", "-X", "stream"])
            .arg(if fast {
                "--checkpoint=fast"
            } else {
                "--checkpoint=spread"
            });
        command::check(&mut cmd, TIMEOUT).map(drop)
    }

    /// `pg_ctl promote -w`, as testgres' `promote()`.
    pub fn promote(&self) -> Result<(), String> {
        let mut cmd = self.pg.tool("pg_ctl", &self.dir);
        cmd.args(["promote", "-w", "-s", "-t", "60", "-D"])
            .arg(self.data());
        command::check(&mut cmd, TIMEOUT).map(drop)
    }

    pub fn createdb(&self, name: &str) -> Result<(), String> {
        let mut cmd = self.pg.tool("createdb", &self.dir);
        cmd.arg("-h")
            .arg(&self.dir)
            .args(["-U", &self.pg.who.me.name, name]);
        command::check(&mut cmd, TIMEOUT).map(drop)
    }

    pub fn url(&self, db: &str) -> String {
        format!(
            "postgresql:///{db}?host={}&user={}",
            self.dir.display(),
            self.pg.who.me.name
        )
    }

    pub fn postmaster_pid(&self) -> Option<u32> {
        let pidfile = std::fs::read_to_string(self.data().join("postmaster.pid")).ok()?;
        pidfile.lines().next()?.trim().parse().ok()
    }
}

impl Drop for Cluster<'_> {
    fn drop(&mut self) {
        if self.started {
            let pid = self.postmaster_pid();
            let mut cmd = self.pg.tool("pg_ctl", &self.dir);
            cmd.args(["stop", "-m", "immediate", "-w", "-s", "-t", "30", "-D"])
                .arg(self.data());
            if let Err(e) = command::check(&mut cmd, TIMEOUT) {
                eprintln!("bench: warning: stopping {}: {e}", self.dir.display());
            }
            if let Some(pid) = pid.filter(|p| procfs::alive(*p)) {
                procfs::kill(pid, libc::SIGKILL);
                let deadline = Instant::now() + Duration::from_secs(5);
                while procfs::alive(pid) && Instant::now() < deadline {
                    std::thread::sleep(Duration::from_millis(10));
                }
            }
        }
        if let Err(e) = std::fs::remove_dir_all(&self.dir) {
            eprintln!("bench: warning: removing {}: {e}", self.dir.display());
        }
    }
}
