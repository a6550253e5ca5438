//! Who the bench is, and who its baseline servers run as.
//!
//! PostgreSQL refuses to run as root, so as root the baselines run as the
//! `postgres` account (else `nobody`), the same one pgtmp picks, in
//! directories that account owns. The SQL role is always the invoking user's
//! name, as in pgtmp's URLs, so every client connects as the same role.

use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::Command;

#[derive(Debug, Clone)]
pub struct Account {
    pub name: String,
    pub uid: u32,
    pub gid: u32,
}

#[derive(Debug, Clone)]
pub struct Identity {
    /// The invoking user: the SQL role in every URL.
    pub me: Account,
    /// Runs initdb/pg_ctl/postgres for the baselines.
    pub server: Account,
}

impl Identity {
    pub fn detect() -> Result<Identity, String> {
        // SAFETY: geteuid has no preconditions and cannot fail.
        let uid = unsafe { libc::geteuid() };
        let me = lookup(|a| a.uid == uid).ok_or(format!("uid {uid} is not in /etc/passwd"))?;
        let server = if uid == 0 {
            lookup(|a| a.name == "postgres")
                .or_else(|| lookup(|a| a.name == "nobody"))
                .ok_or("running as root, but neither `postgres` nor `nobody` exists")?
        } else {
            me.clone()
        };
        Ok(Identity { me, server })
    }

    fn privileged(&self) -> bool {
        self.me.uid == 0 && self.server.uid != 0
    }

    /// Makes `cmd` run as the server account.
    pub fn run_as_server(&self, cmd: &mut Command) {
        if self.privileged() {
            cmd.uid(self.server.uid).gid(self.server.gid);
        }
    }

    /// Creates `dir` with mode 0700, owned by the server account.
    pub fn server_dir(&self, dir: &Path) -> Result<(), String> {
        std::fs::create_dir(dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
            .map_err(|e| format!("chmod {}: {e}", dir.display()))?;
        if self.privileged() {
            std::os::unix::fs::chown(dir, Some(self.server.uid), Some(self.server.gid))
                .map_err(|e| format!("chown {}: {e}", dir.display()))?;
        }
        Ok(())
    }
}

/// The first `/etc/passwd` entry matching `pred`.
fn lookup(pred: impl Fn(&Account) -> bool) -> Option<Account> {
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd
        .lines()
        .filter_map(|line| {
            let f: Vec<&str> = line.split(':').collect();
            Some(Account {
                name: f.first()?.to_string(),
                uid: f.get(2)?.parse().ok()?,
                gid: f.get(3)?.parse().ok()?,
            })
        })
        .find(|a| pred(a))
}
