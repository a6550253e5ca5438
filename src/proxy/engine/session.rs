//! One server session shared by the clients of one database: its
//! connection over the server's private socket, opened as the instance's
//! superuser, the one transaction it keeps open (`BEGIN` at start, and
//! again after each `pgtmp rollback`), the statements the proxy prepares
//! on it for its own use, and the queue of replies it expects.
//!
//! The proxy's own commands run through named statements and a named
//! portal, never the unnamed ones, so a client's unnamed statement and
//! portal survive them, and never through a simple Query, which would drop
//! both.

use std::collections::{BTreeMap, VecDeque};
use std::os::unix::net::UnixStream;
use std::time::Instant;

use postgres_protocol::authentication::sasl::{ChannelBinding, ScramSha256};

use super::item::{AtSync, Effect, Errors, Item, Kind};
use super::{ClientId, SessionId};
use crate::proxy::config::Config;
use crate::proxy::net::{Conn, Stream};
use crate::proxy::wire::backend::{self, Report};
use crate::proxy::wire::frontend::write;

/// Savepoint names clients may not use: they would hide the proxy's.
pub const RESERVED_PREFIX: &str = "pgtmp_";

/// The portal of the proxy's own commands.
pub const PORTAL: &[u8] = b"pgtmp";

/// The statements the proxy prepares on each session: name and SQL.
pub mod stmt {
    /// `pgtmp_x` stands for a client's transaction (or guards its
    /// statements outside one); only one client holds it at a time.
    pub const SAVEPOINT: &str = "pgtmp_savepoint";
    pub const RELEASE: &str = "pgtmp_release";
    pub const ROLLBACK_TO: &str = "pgtmp_rollback_to";
    pub const ROLLBACK: &str = "pgtmp_rollback";
    pub const BEGIN: &str = "pgtmp_begin";
    pub const SET: &str = "pgtmp_set";
    pub const SETTING: &str = "pgtmp_setting";
    pub const BARRIER: &str = "pgtmp_barrier";
    pub const POISON: &str = "pgtmp_poison";
    pub const IMMEDIATE: &str = "pgtmp_immediate";
    pub const DEFERRABLE: &str = "pgtmp_deferrable";
    pub const DEFER: &str = "pgtmp_defer";
    pub const CHECK: &str = "pgtmp_check";
    pub const CHECK_ROLLBACK: &str = "pgtmp_check_rollback";
    pub const CHECK_RELEASE: &str = "pgtmp_check_release";

    pub const ALL: &[(&str, &str)] = &[
        (SAVEPOINT, "SAVEPOINT pgtmp_x"),
        (RELEASE, "RELEASE SAVEPOINT pgtmp_x"),
        (ROLLBACK_TO, "ROLLBACK TO SAVEPOINT pgtmp_x"),
        (ROLLBACK, "ROLLBACK"),
        (BEGIN, "BEGIN"),
        (SET, "SELECT pg_catalog.set_config($1, $2, false)"),
        (
            SETTING,
            "SELECT pg_catalog.current_setting($1), pg_catalog.set_config($1, $2, false)",
        ),
        // Fails in an aborted transaction: after a statement that failed,
        // it makes the server skip the rest of the batch, as a client's
        // own batch would be skipped.
        (BARRIER, "SELECT"),
        // Makes the server skip the rest of the batch after an error the
        // proxy raised itself, and aborts a transaction the proxy failed.
        (POISON, "SELECT 1/0"),
        (IMMEDIATE, "SET CONSTRAINTS ALL IMMEDIATE"),
        (
            DEFERRABLE,
            "SELECT pg_catalog.count(*), pg_catalog.string_agg(DISTINCT \
             pg_catalog.format('%I.%I', n.nspname, c.conname), ', ') FILTER (WHERE c.condeferred) \
             FROM pg_catalog.pg_constraint c JOIN pg_catalog.pg_namespace n ON n.oid = c.connamespace \
             WHERE c.condeferrable",
        ),
        (CHECK, "SAVEPOINT pgtmp_check"),
        (CHECK_ROLLBACK, "ROLLBACK TO SAVEPOINT pgtmp_check"),
        (CHECK_RELEASE, "RELEASE SAVEPOINT pgtmp_check"),
    ];
}

/// What the proxy knows of the database's deferrable constraints, which a
/// virtual COMMIT must check (the real commit never comes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Deferrable {
    /// The schema may have changed since the last look.
    Unknown,
    /// None at all: nothing to check.
    None,
    /// Some; these (`schema.name, ...`, maybe empty) are initially deferred.
    Some(String),
}

#[derive(Debug, PartialEq, Eq)]
pub enum SessionPhase {
    /// Authenticating and reading the server's parameters.
    Starting,
    /// Preparing statements, opening the transaction.
    SettingUp,
    Ready,
    /// The server refused the connection.
    Failed,
}

#[derive(Debug)]
pub struct Session {
    pub id: SessionId,
    pub database: String,
    pub conn: Conn,
    pub phase: SessionPhase,
    pub failure: Option<Report>,
    scram: Option<Scram>,
    password: Option<String>,
    /// The server's BackendKeyData, for forwarding cancel requests.
    pub pid: i32,
    pub key: i32,
    /// The reported parameters as the server last reported them.
    pub params: BTreeMap<String, String>,
    /// The reported parameters as the connection started: what a client
    /// that sets none of them sees.
    pub defaults: BTreeMap<String, String>,
    /// Unreported settings some client set at startup: their value
    /// before any client did, and the value set last (None: unknown, set
    /// it again).
    pub setting_defaults: BTreeMap<String, String>,
    pub settings_applied: BTreeMap<String, String>,
    pub queue: VecDeque<Item>,
    /// The server skips what it is sent until the next Sync (an error in
    /// the extended protocol, and that Sync not sent yet): nothing it is
    /// sent meanwhile is answered.
    pub skipping: bool,
    pub owner: Option<ClientId>,
    /// Clients waiting for the session, and since when.
    pub waiters: VecDeque<(ClientId, Instant)>,
    /// Whose unnamed statement and portal the server holds.
    pub unnamed_statement: Option<ClientId>,
    pub unnamed_portal: Option<ClientId>,
    pub deferrable: Deferrable,
    /// The deferred constraints `stmt::DEFER` is prepared with.
    pub defer_prepared: Option<String>,
    pub cancels_in_flight: usize,
    /// The test named by the last `BEGIN TEST` / `ROLLBACK TEST`.
    pub test: Option<String>,
    /// When the shared transaction began.
    pub since: std::time::SystemTime,
}

impl Session {
    /// Connects to the server's socket and sends the startup packet.
    pub fn connect(id: SessionId, config: &Config, database: &str) -> Result<Session, Report> {
        let path = config.server_socket_path();
        let stream = UnixStream::connect(&path).map_err(|e| {
            Report::fatal(
                "08006",
                format!(
                    "pgtmp --shared-tx: cannot reach the server at {}: {e}",
                    path.display()
                ),
            )
        })?;
        let mut conn = Conn::new(Stream::Unix(stream))
            .map_err(|e| Report::fatal("08006", format!("pgtmp --shared-tx: {e}")))?;
        startup_message(conn.out(), &config.role, database);
        Ok(Session {
            id,
            database: database.to_string(),
            conn,
            phase: SessionPhase::Starting,
            failure: None,
            scram: None,
            password: config.password.clone(),
            pid: 0,
            key: 0,
            params: BTreeMap::new(),
            defaults: BTreeMap::new(),
            setting_defaults: BTreeMap::new(),
            settings_applied: BTreeMap::new(),
            queue: VecDeque::new(),
            skipping: false,
            owner: None,
            waiters: VecDeque::new(),
            unnamed_statement: None,
            unnamed_portal: None,
            deferrable: Deferrable::Unknown,
            defer_prepared: None,
            cancels_in_flight: 0,
            test: None,
            since: std::time::SystemTime::now(),
        })
    }

    pub fn is_ready(&self) -> bool {
        self.phase == SessionPhase::Ready
    }

    pub fn is_failed(&self) -> bool {
        self.phase == SessionPhase::Failed
    }

    /// A message of the server before the session is set up: the
    /// authentication exchange, parameters, key data. Err: it failed.
    pub fn startup_reply(&mut self, ty: u8, body: &[u8]) -> Result<(), Report> {
        match ty {
            b'R' => self.authenticate(body),
            b'S' => {
                if let Some((name, value)) = backend::read_parameter_status(body) {
                    self.defaults.insert(name.clone(), value.clone());
                    self.params.insert(name, value);
                }
                Ok(())
            }
            b'K' => {
                if body.len() >= 8 {
                    self.pid = i32::from_be_bytes([body[0], body[1], body[2], body[3]]);
                    self.key = i32::from_be_bytes([body[4], body[5], body[6], body[7]]);
                }
                Ok(())
            }
            b'E' => Err(Report::parse(body)),
            b'Z' => {
                self.set_up();
                Ok(())
            }
            _ => Ok(()),
        }
    }

    fn authenticate(&mut self, body: &[u8]) -> Result<(), Report> {
        let code = body
            .get(..4)
            .map(|b| i32::from_be_bytes([b[0], b[1], b[2], b[3]]))
            .unwrap_or(-1);
        let data = body.get(4..).unwrap_or_default();
        let refused = |why: String| Report::fatal("28000", format!("pgtmp --shared-tx: {why}"));
        match code {
            0 => Ok(()),
            10 => {
                let password = self.password.clone().ok_or_else(|| {
                    refused("the server asks for a password the proxy does not have".into())
                })?;
                let scram = ScramSha256::new(password.as_bytes(), ChannelBinding::unsupported());
                let first = scram.message().to_vec();
                crate::proxy::wire::frame::message(self.conn.out(), b'p', |b| {
                    crate::proxy::wire::frame::cstr(b, crate::proxy::auth::MECHANISM.as_bytes());
                    b.extend_from_slice(&(first.len() as i32).to_be_bytes());
                    b.extend_from_slice(&first);
                });
                self.scram = Some(Scram(scram));
                Ok(())
            }
            11 => {
                let Scram(scram) = self
                    .scram
                    .as_mut()
                    .ok_or_else(|| refused("unexpected SASL message".into()))?;
                scram.update(data).map_err(|e| refused(e.to_string()))?;
                let reply = scram.message().to_vec();
                crate::proxy::wire::frame::message(self.conn.out(), b'p', |b| {
                    b.extend_from_slice(&reply)
                });
                Ok(())
            }
            12 => {
                let Scram(scram) = self
                    .scram
                    .as_mut()
                    .ok_or_else(|| refused("unexpected SASL message".into()))?;
                scram.finish(data).map_err(|e| refused(e.to_string()))
            }
            other => Err(refused(format!(
                "unsupported authentication request {other}"
            ))),
        }
    }

    /// Prepares the proxy's statements and opens the shared transaction.
    fn set_up(&mut self) {
        self.phase = SessionPhase::SettingUp;
        for (name, sql) in stmt::ALL {
            write::parse(self.conn.out(), name.as_bytes(), sql.as_bytes(), &[0, 0]);
            self.expect(Item::hidden(None, Kind::Parse));
        }
        self.begin(Effect::Ready);
    }

    /// `BEGIN` through a prepared statement, then a Sync.
    pub fn begin(&mut self, effect: Effect) {
        self.run(
            None,
            stmt::BEGIN,
            &[],
            Item::hidden(None, Kind::Execute).effect(effect),
        );
        self.sync(None, AtSync::Hidden);
    }

    /// Queues what answers the next message sent (or, synthetic, stands
    /// in its place). Nothing while the server skips to a Sync: it sends
    /// nothing for what it skips, and a reply the proxy makes up for a
    /// skipped message must not reach the client either.
    pub fn expect(&mut self, item: Item) {
        if matches!(item.kind, Kind::Sync(_)) {
            self.skipping = false;
        } else if self.skipping {
            return;
        }
        self.queue.push_back(item);
    }

    /// An error in the extended protocol: the server skips everything up
    /// to the next Sync, so what is queued before it gets no reply; with
    /// no Sync on its way, neither does anything sent until one is. What
    /// was noted when the skipped messages were sent may not have
    /// happened: the proxy's statement that defers constraints is made
    /// again when next needed.
    pub fn skip_to_sync(&mut self) {
        self.queue.pop_front();
        while self
            .queue
            .front()
            .is_some_and(|i| !matches!(i.kind, Kind::Sync(_)))
        {
            self.queue.pop_front();
        }
        self.skipping = self.queue.is_empty();
        self.defer_prepared = None;
    }

    /// Appends raw bytes for the server, answered by `item`.
    pub fn send(&mut self, bytes: &[u8], item: Item) {
        self.conn.out().extend_from_slice(bytes);
        self.expect(item);
    }

    /// Runs one of the proxy's statements through the proxy's portal; the
    /// Execute's reply is `item` (its kind Execute or Capture). The portal
    /// is closed first, not after: an Execute that fails leaves it open
    /// (the server skips the rest of the batch), and a Close is allowed
    /// even in an aborted transaction.
    pub fn run(
        &mut self,
        client: Option<ClientId>,
        statement: &str,
        params: &[Option<&[u8]>],
        item: Item,
    ) {
        let errors = item.errors;
        let notify = item.notify;
        let aside = |kind| {
            let mut i = Item::hidden(client, kind).errors(errors);
            i.notify = notify;
            i
        };
        let (close, bind) = (aside(Kind::Close), aside(Kind::Bind));
        write::close(self.conn.out(), true, PORTAL);
        self.expect(close);
        write::bind_text(self.conn.out(), PORTAL, statement.as_bytes(), params);
        self.expect(bind);
        write::execute(self.conn.out(), PORTAL, 0);
        self.expect(item);
    }

    /// A simple Query of the proxy's own, when its prepared statements
    /// cannot be relied on: it drops the unnamed statement and portal.
    pub fn simple(&mut self, sql: &str, effect: Effect) {
        write::query(self.conn.out(), sql.as_bytes());
        self.expect(Item::hidden(None, Kind::Query).effect(effect));
        self.unnamed_statement = None;
        self.unnamed_portal = None;
    }

    /// Drops the unnamed portal before a rollback to a savepoint: a portal
    /// that failed mid-run still has its cleanup to do, which the server
    /// would skip (with a warning) when the savepoint goes, but runs when
    /// the portal is dropped, as a simple Query of the client would.
    pub fn close_unnamed_portal(&mut self, client: Option<ClientId>) {
        write::close(self.conn.out(), true, b"");
        self.expect(Item::hidden(client, Kind::Close));
        self.unnamed_portal = None;
    }

    /// A hidden command on behalf of `client` whose errors it sees.
    pub fn command(&mut self, client: Option<ClientId>, statement: &str, effect: Effect) {
        let item = Item::hidden(client, Kind::Execute).effect(effect);
        self.run(client, statement, &[], item);
    }

    pub fn sync(&mut self, client: Option<ClientId>, at: AtSync) {
        write::sync(self.conn.out());
        let mut item = Item::hidden(client, Kind::Sync(at));
        item.notify = client.is_some();
        self.expect(item);
    }

    /// A reply the proxy makes up, queued in its place.
    pub fn synthetic(&mut self, client: ClientId, bytes: Vec<u8>, effect: Effect) {
        self.expect(Item::shown(client, Kind::Synthetic(bytes)).effect(effect));
    }

    /// An error the proxy raises for `client`: queued in its place, then
    /// the deliberate failure that makes the server skip what follows
    /// until Sync, as after an error of its own.
    pub fn refuse(&mut self, client: ClientId, report: Report) {
        self.expect(Item::shown(client, Kind::Refusal(report)));
        let poison = Item::hidden(Some(client), Kind::Execute).errors(Errors::Hide);
        self.run(Some(client), stmt::POISON, &[], poison);
    }

    /// Whether a statement of `client` is still running on the server.
    pub fn running(&self, client: ClientId) -> bool {
        self.queue
            .iter()
            .any(|i| i.client == Some(client) && i.show && i.runs())
    }
}

/// The client side of SCRAM, for a server that asks for the password.
struct Scram(ScramSha256);

impl std::fmt::Debug for Scram {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Scram")
    }
}

fn startup_message(out: &mut Vec<u8>, user: &str, database: &str) {
    let mut params: Vec<u8> = Vec::new();
    for (k, v) in [("user", user), ("database", database)] {
        params.extend_from_slice(k.as_bytes());
        params.push(0);
        params.extend_from_slice(v.as_bytes());
        params.push(0);
    }
    params.push(0);
    let len = (8 + params.len()) as i32;
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(&(3i32 << 16).to_be_bytes());
    out.extend_from_slice(&params);
}
