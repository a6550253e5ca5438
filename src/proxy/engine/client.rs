//! One client connection: where it is in its life (startup, waiting for
//! its turn, ready, leaving), what it believes about its session (its
//! transaction, its settings, its prepared statements and portals), and
//! what is in flight for it.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::time::{Instant, SystemTime};

use super::item::Tx;
use super::{ClientId, SessionId};
use crate::proxy::auth::Exchange;
use crate::proxy::net::Conn;
use crate::proxy::sql::{Class, Segment};
use crate::proxy::wire::backend::Report;

#[derive(Debug)]
pub enum Phase {
    /// Before the startup packet (and after an SSL or GSS refusal).
    Startup,
    /// Proving the password over SCRAM.
    Sasl(Exchange),
    /// Authenticated; waiting for its session's server connection.
    Joining,
    /// Waiting for its turn to apply its startup settings.
    Settle,
    /// Its startup settings are being applied.
    Settling,
    Ready,
    /// The connection is gone or was refused; what it left on the session
    /// (a transaction, statements) is being cleaned up.
    Departing,
    /// The cleanup is on its way; removed when it is done.
    Leaving,
    /// Sending a last message, then closing.
    Closing,
    /// Done; removed at the next reap.
    Gone,
}

#[derive(Debug)]
pub struct Client {
    pub id: ClientId,
    pub conn: Conn,
    pub tcp: bool,
    pub phase: Phase,
    /// The SSL (1) and GSS (2) requests answered.
    pub negotiated: u8,
    /// The protocol minor version spoken (0 or 2).
    pub minor: u16,
    /// What the client got in BackendKeyData, for its cancel requests.
    pub pid: i32,
    pub key: Vec<u8>,
    pub user: String,
    pub database: String,
    pub session: Option<SessionId>,
    /// Startup settings still to apply on the server (name, value).
    pub requested: Vec<(String, String)>,
    /// The reported parameters as this client knows them.
    pub view: BTreeMap<String, String>,
    /// `view` as it was after startup (what DISCARD ALL returns to).
    pub startup_view: BTreeMap<String, String>,
    /// Startup settings the server does not report (lower-case names).
    pub settings: BTreeMap<String, String>,
    /// The transaction as replies have confirmed it.
    pub tx: Tx,
    /// The transaction as the messages sent so far will leave it, if
    /// they succeed: what the next message is translated against.
    pub predicted: Tx,
    /// A batch ended (Sync, Query, FunctionCall); its ReadyForQuery is
    /// still to come. Nothing more is read from the client until then,
    /// except COPY data.
    pub awaiting: bool,
    /// Messages since the last Sync: a batch is open.
    pub in_batch: bool,
    /// Drop messages until Sync, as the server does after an error.
    pub skipping: bool,
    /// The server waits for this client's COPY data.
    pub copy_in: bool,
    /// A `COPY ... FROM STDIN` was executed and its data is still to come.
    pub copy_expected: bool,
    /// A Sync sent before the COPY data (tokio-postgres does), held back:
    /// the server ignores it in COPY mode, but needs it if the COPY fails
    /// before that mode begins.
    pub held_sync: bool,
    /// This batch has had its one error.
    pub error_sent: bool,
    /// An error while applying startup settings (sent as FATAL).
    pub settle_error: Option<Report>,
    pub statements: HashMap<Vec<u8>, Class>,
    /// The unnamed statement: the Parse that makes it again on the server
    /// (another client may have replaced it since) and its class.
    pub unnamed: Option<(Vec<u8>, Class)>,
    pub portals: HashMap<Vec<u8>, Class>,
    pub unnamed_portal: Option<Class>,
    /// Segments of a simple Query held back until its COPY is done.
    pub paused: Option<VecDeque<Segment>>,
    /// A cancel was sent for its running statement when it left.
    pub cancelled: bool,
    pub connected: SystemTime,
    pub tx_since: Option<Instant>,
}

impl Client {
    pub fn new(id: ClientId, conn: Conn, tcp: bool) -> Client {
        Client {
            id,
            conn,
            tcp,
            phase: Phase::Startup,
            negotiated: 0,
            minor: 0,
            pid: 0,
            key: Vec::new(),
            user: String::new(),
            database: String::new(),
            session: None,
            requested: Vec::new(),
            view: BTreeMap::new(),
            startup_view: BTreeMap::new(),
            settings: BTreeMap::new(),
            tx: Tx::Idle,
            predicted: Tx::Idle,
            awaiting: false,
            in_batch: false,
            skipping: false,
            copy_in: false,
            copy_expected: false,
            held_sync: false,
            error_sent: false,
            settle_error: None,
            statements: HashMap::new(),
            unnamed: None,
            portals: HashMap::new(),
            unnamed_portal: None,
            paused: None,
            cancelled: false,
            connected: SystemTime::now(),
            tx_since: None,
        }
    }

    pub fn ready(&self) -> bool {
        matches!(self.phase, Phase::Ready)
    }

    /// Still connected and able to read what it is sent.
    pub fn listening(&self) -> bool {
        matches!(
            self.phase,
            Phase::Ready | Phase::Settle | Phase::Settling | Phase::Joining
        ) && !self.conn.broken
    }

    /// Sends `report` and closes: before the session started or when it
    /// cannot go on. A client that took part in a session leaves it first.
    pub fn fatal(&mut self, report: &Report) {
        if !self.conn.broken {
            report.error_response(self.conn.out());
        }
        self.phase = match self.phase {
            Phase::Ready | Phase::Settling if self.session.is_some() => Phase::Departing,
            _ => Phase::Closing,
        };
    }

    /// The client sent Terminate, hung up, or broke the protocol.
    pub fn depart(&mut self) {
        self.phase = match self.phase {
            Phase::Ready | Phase::Settle | Phase::Settling => Phase::Departing,
            Phase::Departing | Phase::Leaving => return,
            _ => Phase::Gone,
        };
    }

    /// `standard_conforming_strings` as this client has it.
    pub fn standard_strings(&self) -> bool {
        self.view
            .get("standard_conforming_strings")
            .is_none_or(|v| v == "on")
    }

    /// For `pgtmp list`: idle, active, in transaction, ...
    pub fn state(&self, owner: bool, waiting: bool) -> &'static str {
        if waiting {
            return "waiting";
        }
        match (self.tx, owner && self.awaiting) {
            (Tx::Open, false) => "idle in transaction",
            (Tx::Failed, _) => "idle in transaction (aborted)",
            (_, true) => "active",
            _ => "idle",
        }
    }
}
