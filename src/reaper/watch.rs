//! The idle watch: every tick, counts client connections (not our own, nor
//! a set's replication connections) on every server and looks for
//! connections that came and went since the last tick; carries out the
//! orders that come (`promote`, `restart`, `reset`, `snapshot`); returns
//! once the instance has had no client for the timeout, a server died, a
//! stop was requested, or the `exec` that owns it is gone.

use std::fmt;
use std::time::{Duration, Instant};

use postgres::Client;

use super::Watched;
use super::control::Leave;
use super::fleet::Fleet;
use super::signals::Woke;
use crate::instance::arrivals::Arrivals;
use crate::instance::{Meta, State, client, meta};
use crate::process;

#[derive(Debug)]
pub enum Done {
    Idle(Duration),
    StopRequested,
    ServerExited(String),
    OwnerGone(u32),
    /// An order left it without all its servers.
    Broken(String),
    /// A spare took its place (`reset`); what was moved aside.
    Replaced(std::path::PathBuf),
}

impl fmt::Display for Done {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Done::Idle(t) => write!(f, "no client for {}", humantime::format_duration(*t)),
            Done::StopRequested => write!(f, "stop requested"),
            Done::ServerExited(why) => f.write_str(why),
            Done::OwnerGone(pid) => write!(f, "owner process {pid} is gone"),
            Done::Broken(why) => f.write_str(why),
            Done::Replaced(_) => write!(f, "a spare took its place (reset)"),
        }
    }
}

/// How often to look: a tenth of the timeout, between 50 ms and 1 s.
fn tick(timeout: Option<Duration>) -> Duration {
    timeout
        .map(|t| (t / 10).clamp(Duration::from_millis(50), Duration::from_secs(1)))
        .unwrap_or(Duration::from_secs(1))
}

pub fn until_done(watched: &Watched, meta: &mut Meta, fleet: &mut Fleet) -> Done {
    let (dir, stop) = (watched.dir, watched.stop);
    let timeout = meta.timeout();
    let tick = tick(timeout);
    let mut conn: Option<Client> = None;
    let mut last_busy = Instant::now();
    // One per server: each logs the connections it accepts in its own log.
    let mut arrivals: Vec<Arrivals> = meta
        .servers()
        .map(|(_, s)| Arrivals::in_log(meta::server_log(dir, s)))
        .collect();
    let mut shown = State {
        clients: 0,
        idle_since_ms: Some(meta::now_ms()),
        stopping: false,
    };
    loop {
        match stop.wait_for(tick, watched.control.map(|c| c.fd())) {
            Woke::Stop => return Done::StopRequested,
            Woke::Other => {
                if let Some(control) = watched.control
                    && let Some(leave) = control.serve(dir, meta, fleet, stop)
                {
                    return match leave {
                        Leave::Broken(why) => Done::Broken(why),
                        Leave::Replaced(old) => Done::Replaced(old),
                    };
                }
                // Whoever gives orders is busy with the instance; the
                // connections the order made are not clients.
                last_busy = Instant::now();
                conn = None;
                arrivals.iter_mut().for_each(Arrivals::skip);
            }
            Woke::Timeout => {}
        }
        if let Some(why) = fleet.exited() {
            return Done::ServerExited(why);
        }
        if let (Some(pid), Some(start)) = (meta.owner_pid, meta.owner_start)
            && !matches!(process::start_time(pid), Ok(Some(s)) if s == start)
        {
            return Done::OwnerGone(pid);
        }
        // A failed count (server busy, connection slots full) counts as busy:
        // never reap on a doubt.
        let clients = count(meta, &mut conn).unwrap_or(-1);
        // A short connection between two ticks counts too.
        let arrived = if clients == 0 {
            // Every log is read, so that none keeps old lines for later.
            let seen: Vec<bool> = arrivals.iter_mut().map(Arrivals::any).collect();
            seen.contains(&true)
        } else {
            arrivals.iter_mut().for_each(Arrivals::skip);
            false
        };
        if clients != 0 || arrived {
            last_busy = Instant::now();
        }
        let idle_since_ms = (clients == 0).then(|| match shown.idle_since_ms {
            Some(since) if !arrived => since,
            _ => meta::now_ms(),
        });
        if clients != shown.clients || idle_since_ms != shown.idle_since_ms {
            shown = State {
                clients: clients.max(0),
                idle_since_ms,
                stopping: false,
            };
            let _ = shown.write(dir);
        }
        if let Some(t) = timeout
            && clients == 0
            && last_busy.elapsed() >= t
        {
            return Done::Idle(t);
        }
    }
}

/// From the kernel's socket tables where there are some (at every
/// server's client socket: a set's replicas stream through their own), else
/// by asking the primary over a connection kept open for it.
fn count(meta: &Meta, conn: &mut Option<Client>) -> Option<i64> {
    let counts: crate::error::Result<Vec<i64>> = meta
        .client_addresses()
        .iter()
        .map(|a| a.count_clients())
        .collect();
    if let Ok(counts) = counts {
        return Some(counts.iter().sum());
    }
    if conn.is_none() {
        *conn = client::connect(&meta.primary, &meta.role, "postgres").ok();
    }
    match client::count_clients(conn.as_mut()?) {
        Ok(n) => Some(n),
        Err(_) => {
            *conn = None;
            None
        }
    }
}
