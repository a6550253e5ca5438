//! The proxy's state machine, without the event loop: clients, the server
//! sessions they share (one per database, each one server connection in
//! one long transaction), and the rules that map each client's protocol
//! onto its share. The event loop (`serve`) only moves bytes in and out of
//! the buffers here and calls `pump`.
//!
//! One client at a time owns a session: from the first message of a batch
//! to its ReadyForQuery, and for as long as it holds a transaction open,
//! a COPY or a suspended portal (those only last inside a batch or a
//! transaction). Savepoints nest, so two clients' transactions cannot
//! interleave; the others wait, up to the lock-wait timeout.

mod client;
pub mod item;
mod names;
mod respond;
mod session;
mod startup;
mod translate;

use std::collections::BTreeMap;
use std::time::Instant;

pub use client::{Client, Phase};
pub use session::Session;

use super::auth::Secret;
use super::config::Config;
use super::net::{Conn, HIGH_WATER, Stream};
use super::wire::backend::Report;

pub type ClientId = u64;
pub type SessionId = u64;

#[derive(Debug)]
pub struct Engine {
    pub config: Config,
    secret: Option<Secret>,
    pub clients: BTreeMap<ClientId, Client>,
    pub sessions: BTreeMap<SessionId, Session>,
    next_client: ClientId,
    next_session: SessionId,
    /// Cancel requests on their way to the server: which session, and the
    /// connection the server closes once it has passed the signal on.
    pub cancels: Vec<(SessionId, Conn)>,
    /// Something `pgtmp list` shows changed.
    pub changed: bool,
}

impl Engine {
    pub fn new(config: Config) -> Engine {
        let secret = config.password.as_deref().map(Secret::new);
        Engine {
            config,
            secret,
            clients: BTreeMap::new(),
            sessions: BTreeMap::new(),
            next_client: 1,
            next_session: 1,
            cancels: Vec::new(),
            changed: true,
        }
    }

    /// A new connection on one of the listeners.
    pub fn accept(&mut self, stream: Stream, tcp: bool) {
        let Ok(conn) = Conn::new(stream) else { return };
        let id = self.next_client;
        self.next_client += 1;
        self.clients.insert(id, Client::new(id, conn, tcp));
    }

    /// Opens the session of `database` (if not open yet); None if the
    /// server cannot be reached.
    pub fn session_for(&mut self, database: &str) -> Result<SessionId, Report> {
        if let Some((id, _)) = self
            .sessions
            .iter()
            .find(|(_, s)| s.database == database && !s.is_failed())
        {
            return Ok(*id);
        }
        let id = self.next_session;
        let session = Session::connect(id, &self.config, database)?;
        self.next_session += 1;
        self.sessions.insert(id, session);
        self.changed = true;
        Ok(id)
    }

    /// Does all the work the buffered input allows.
    pub fn pump(&mut self) {
        loop {
            let mut progress = false;
            let sessions: Vec<SessionId> = self.sessions.keys().copied().collect();
            for sid in sessions {
                progress |= self.session_input(sid);
            }
            let clients: Vec<ClientId> = self.clients.keys().copied().collect();
            for cid in clients {
                progress |= self.client_input(cid);
            }
            progress |= self.finish_cancels();
            if !progress {
                break;
            }
        }
        self.reap();
    }

    /// Refuses the waits that have lasted too long.
    pub fn tick(&mut self, now: Instant) {
        let wait = self.config.lock_wait();
        let mut expired = Vec::new();
        for s in self.sessions.values() {
            for &(cid, since) in &s.waiters {
                if now.duration_since(since) >= wait {
                    expired.push((s.id, cid));
                }
            }
        }
        for (sid, cid) in expired {
            self.give_up_waiting(sid, cid);
        }
        self.pump();
    }

    /// When `tick` has something to do next.
    pub fn next_deadline(&self) -> Option<Instant> {
        let wait = self.config.lock_wait();
        self.sessions
            .values()
            .flat_map(|s| s.waiters.iter().map(|&(_, since)| since + wait))
            .min()
    }

    /// Whether to read from a client now.
    pub fn wants_client_input(&self, c: &Client) -> bool {
        !c.conn.eof
            && !matches!(c.phase, Phase::Closing | Phase::Gone)
            && c.conn.input().len() < HIGH_WATER
    }

    /// Whether to read from a server session now: not while the client
    /// its replies go to has not read what it already got.
    pub fn wants_session_input(&self, s: &Session) -> bool {
        if s.conn.eof {
            return false;
        }
        let target = s
            .queue
            .iter()
            .find(|i| !i.is_synthetic())
            .and_then(|i| i.client);
        match target.and_then(|c| self.clients.get(&c)) {
            Some(c) => c.conn.pending() < HIGH_WATER || c.conn.broken,
            None => true,
        }
    }

    /// Takes ownership of session `sid` for client `cid` if it is free and
    /// `cid` is next in line; otherwise puts `cid` in line.
    fn acquire(&mut self, sid: SessionId, cid: ClientId) -> bool {
        let Some(s) = self.sessions.get_mut(&sid) else {
            return false;
        };
        if s.owner == Some(cid) {
            return true;
        }
        let first = s.waiters.front().map(|w| w.0);
        if s.owner.is_none()
            && s.is_ready()
            && s.cancels_in_flight == 0
            && first.is_none_or(|w| w == cid)
        {
            s.waiters.pop_front();
            s.owner = Some(cid);
            self.changed = true;
            return true;
        }
        if !s.waiters.iter().any(|w| w.0 == cid) {
            s.waiters.push_back((cid, Instant::now()));
            self.changed = true;
        }
        false
    }

    fn release(&mut self, sid: SessionId, cid: ClientId) {
        if let Some(s) = self.sessions.get_mut(&sid)
            && s.owner == Some(cid)
        {
            s.owner = None;
            self.changed = true;
        }
    }

    /// Removes clients that are done; ends sessions whose server is gone.
    fn reap(&mut self) {
        let gone: Vec<ClientId> = self
            .clients
            .iter()
            .filter(|(_, c)| {
                matches!(c.phase, Phase::Gone)
                    || (matches!(c.phase, Phase::Closing)
                        && (c.conn.pending() == 0 || c.conn.broken))
            })
            .map(|(id, _)| *id)
            .collect();
        for cid in gone {
            if let Some(c) = self.clients.remove(&cid) {
                for s in self.sessions.values_mut() {
                    s.waiters.retain(|w| w.0 != cid);
                    if s.owner == Some(cid) {
                        s.owner = None;
                    }
                }
                drop(c);
                self.changed = true;
            }
        }
        let broken: Vec<SessionId> = self
            .sessions
            .iter()
            .filter(|(_, s)| s.conn.eof || s.conn.broken)
            .map(|(id, _)| *id)
            .collect();
        for sid in broken {
            self.lose_session(sid, "the shared server connection was closed");
        }
    }

    /// The server connection of `sid` is gone: its clients lose their
    /// share of a transaction that no longer exists, so they are told and
    /// disconnected; new clients get a new session.
    fn lose_session(&mut self, sid: SessionId, why: &str) {
        let Some(s) = self.sessions.remove(&sid) else {
            return;
        };
        let why = match &s.failure {
            Some(r) => r.text(),
            None => why.to_string(),
        };
        super::log(&format!(
            "session of database {:?} ended: {why}",
            s.database
        ));
        for c in self.clients.values_mut() {
            if c.session == Some(sid) {
                c.fatal(&Report::fatal("57P01", format!("pgtmp --shared-tx: {why}")));
            }
        }
        self.changed = true;
    }

    /// Cancel connections the server has closed: its signal is on its way,
    /// so another client may take the session without being hit by it.
    fn finish_cancels(&mut self) -> bool {
        let mut progress = false;
        self.cancels.retain_mut(|(sid, conn)| {
            conn.flush();
            conn.fill();
            if conn.eof || conn.broken {
                if let Some(s) = self.sessions.get_mut(sid) {
                    s.cancels_in_flight = s.cancels_in_flight.saturating_sub(1);
                }
                progress = true;
                false
            } else {
                true
            }
        });
        progress
    }
}
