//! The processes one supervisor watches: a postmaster per server of its
//! instance, each under its server's name, the primary first, and the
//! `--shared-tx` proxy if there is one. Whichever exits on its own ends the
//! instance; stopping takes the replicas down
//! before the primary. A server restarted on request (`restart`,
//! `promote`) is taken out while it is down, so that its exit is not taken
//! for a crash.

use std::process::Child;
use std::time::Duration;

use crate::instance::Role;
use crate::postmaster::{Frozen, Postmaster, Shutdown};

/// How long a server may take to shut down before it is hurried.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

#[derive(Debug)]
struct Member {
    /// The server's name in its set (empty for a single server).
    name: String,
    role: Role,
    postmaster: Postmaster,
}

#[derive(Debug, Default)]
pub struct Fleet {
    members: Vec<Member>,
    /// `--shared-tx`: the proxy in front of the primary.
    proxy: Option<Child>,
    /// Servers frozen for a swap: killed and reaped when the fleet is
    /// dropped.
    frozen: Vec<Frozen>,
}

impl Fleet {
    /// Adds a running server; a primary goes first.
    pub fn push(&mut self, role: Role, name: &str, postmaster: Postmaster) {
        let member = Member {
            name: name.to_string(),
            role,
            postmaster,
        };
        match role {
            Role::Primary => self.members.insert(0, member),
            Role::Replica => self.members.push(member),
        }
    }

    /// Stops every process of server `name` at once (`Frozen`) and keeps
    /// it so, out of the watch, until the fleet is dropped.
    pub fn freeze(&mut self, name: &str) {
        if let Some(pm) = self.take(name) {
            self.frozen.push(Frozen::freeze(pm));
        }
    }

    /// Kills the servers `freeze` stopped; they are reaped when the fleet
    /// is dropped.
    pub fn kill_frozen(&mut self) {
        for frozen in &mut self.frozen {
            frozen.kill();
        }
    }

    /// Takes the server `name` out, to stop or restart it.
    pub fn take(&mut self, name: &str) -> Option<Postmaster> {
        let i = self.members.iter().position(|m| m.name == name)?;
        Some(self.members.remove(i).postmaster)
    }

    /// The running postmaster of server `name`.
    pub fn get(&self, name: &str) -> Option<&Postmaster> {
        self.members
            .iter()
            .find(|m| m.name == name)
            .map(|m| &m.postmaster)
    }

    pub fn proxy(&mut self, child: Child) {
        self.proxy = Some(child);
    }

    /// Says which server (or the proxy) exited on its own, and how, if one
    /// did.
    pub fn exited(&mut self) -> Option<String> {
        if let Some(proxy) = &mut self.proxy
            && let Ok(Some(status)) = proxy.try_wait()
        {
            return Some(format!(
                "the shared-transaction proxy exited on its own ({status})"
            ));
        }
        self.members.iter_mut().find_map(|m| {
            let status = m.postmaster.exited()?;
            Some(match (m.role, m.name.as_str()) {
                (Role::Primary, "") => format!("the server exited on its own ({status})"),
                (role, name) => format!("{role} {name} exited on its own ({status})"),
            })
        })
    }

    /// Stops every server and returns once all have exited, so nothing
    /// deletes a live data directory. Data about to be deleted needs no
    /// shutdown checkpoint: immediate shutdown then; kept data gets a fast
    /// shutdown, so it restarts without recovery. SIGKILL is the last resort.
    pub fn shut_down(&mut self, keep_data: bool) {
        // The proxy first: its clients are told, not left hanging.
        if let Some(mut proxy) = self.proxy.take() {
            crate::process::signal(proxy.id(), nix::sys::signal::Signal::SIGTERM);
            let gone = crate::process::wait_until(SHUTDOWN_GRACE, || {
                matches!(proxy.try_wait(), Ok(Some(_)))
            });
            if !gone {
                let _ = proxy.kill();
                let _ = proxy.wait();
            }
        }
        for m in self.members.iter_mut().rev() {
            m.postmaster.stop(shutdown(keep_data));
        }
    }
}

/// Immediate for data about to be deleted, fast for data that is kept.
pub fn shutdown(keep_data: bool) -> Shutdown {
    if keep_data {
        Shutdown::fast(SHUTDOWN_GRACE)
    } else {
        Shutdown::immediate(SHUTDOWN_GRACE)
    }
}
