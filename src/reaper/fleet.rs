//! The processes one supervisor watches: a postmaster per server of its
//! instance, the primary first. Whichever exits on its own ends the
//! instance; stopping takes the replicas down before the primary.

use std::process::Child;
use std::time::Duration;

use crate::instance::Role;
use crate::postmaster::{Postmaster, Shutdown};

/// How long a server may take to shut down before it is hurried.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

#[derive(Debug, Default)]
pub struct Fleet {
    members: Vec<(Role, Postmaster)>,
    /// `--shared-tx`: the proxy in front of the primary.
    proxy: Option<Child>,
}

impl Fleet {
    pub fn push(&mut self, role: Role, postmaster: Postmaster) {
        self.members.push((role, postmaster));
    }

    pub fn proxy(&mut self, child: Child) {
        self.proxy = Some(child);
    }

    /// Says which server exited on its own, and how, if one did.
    pub fn exited(&mut self) -> Option<String> {
        if let Some(proxy) = &mut self.proxy
            && let Ok(Some(status)) = proxy.try_wait()
        {
            return Some(format!(
                "the shared-transaction proxy exited on its own ({status})"
            ));
        }
        self.members
            .iter_mut()
            .enumerate()
            .find_map(|(i, (role, pm))| {
                let status = pm.exited()?;
                Some(match role {
                    Role::Primary => format!("the server exited on its own ({status})"),
                    Role::Replica => format!("replica {i} exited on its own ({status})"),
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
        for (_, pm) in self.members.iter_mut().rev() {
            pm.stop(shutdown(keep_data));
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
