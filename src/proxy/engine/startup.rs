//! A client's way in: SSL and GSS encryption refused with `N` (a TLS
//! ClientHello without them gets a TLS alert), protocol 3.0 and 3.2
//! (newer versions and `_pq_.` options answered with
//! NegotiateProtocolVersion), trust on the socket and SCRAM on TCP
//! checked by the proxy, then the session of its database and its
//! startup settings applied on it, so that a bad value is refused the way
//! the server would refuse it. Cancel requests arrive here too.
//! <https://www.postgresql.org/docs/current/protocol-flow.html#PROTOCOL-FLOW-START-UP>

use super::item::{AtSync, Capture, Effect, Item, Kind, Tx};
use super::session::stmt;
use super::{ClientId, Engine, Phase};
use crate::proxy::auth;
use crate::proxy::wire::backend::{self, Report};
use crate::proxy::wire::frame::{self, MAX_MESSAGE, MAX_STARTUP};
use crate::proxy::wire::startup::{self, Startup, TLS_HANDSHAKE};

/// A TLS alert record: fatal, handshake_failure. A client that opens with
/// TLS directly is told in its own protocol that there is none.
const TLS_ALERT: &[u8] = &[0x15, 0x03, 0x01, 0x00, 0x02, 0x02, 0x28];

/// The newest protocol minor version spoken (3.2: longer cancel keys).
const NEWEST_MINOR: u16 = 2;

/// Reported parameters the server sets itself; never switched per client.
pub const FIXED: &[&str] = &[
    "server_version",
    "server_encoding",
    "integer_datetimes",
    "is_superuser",
    "in_hot_standby",
];

impl Engine {
    /// Startup-phase input of client `cid`; true if something happened.
    pub(super) fn startup_input(&mut self, cid: ClientId) -> bool {
        let Some(c) = self.clients.get_mut(&cid) else {
            return false;
        };
        if c.negotiated == 0 && c.conn.input().first() == Some(&TLS_HANDSHAKE) {
            c.conn.out().extend_from_slice(TLS_ALERT);
            c.phase = Phase::Closing;
            return true;
        }
        let packet = match frame::untyped(c.conn.input(), MAX_STARTUP) {
            Ok(Some(n)) => {
                let packet = c.conn.input()[..n].to_vec();
                c.conn.consume(n);
                packet
            }
            Ok(None) => {
                if c.conn.eof {
                    c.phase = Phase::Gone;
                    return true;
                }
                return false;
            }
            Err(e) => {
                c.fatal(&Report::fatal(
                    "08P01",
                    format!("invalid startup packet: {e}"),
                ));
                return true;
            }
        };
        match startup::parse(&packet) {
            Err(e) => c.fatal(&Report::fatal(
                "08P01",
                format!("invalid startup packet: {e}"),
            )),
            Ok(request @ (Startup::Ssl | Startup::GssEnc)) => {
                // Each may come once (libpq tries GSS, then SSL).
                let bit = if request == Startup::Ssl { 1 } else { 2 };
                if c.negotiated & bit != 0 {
                    c.fatal(&Report::fatal("08P01", "unexpected encryption request"));
                } else {
                    c.negotiated |= bit;
                    c.conn.out().push(b'N');
                }
            }
            Ok(Startup::Cancel { pid, key }) => {
                c.phase = Phase::Gone;
                self.cancel(pid, &key);
            }
            Ok(Startup::Start {
                major,
                minor,
                params,
            }) => self.start(cid, major, minor, params),
        }
        true
    }

    fn start(&mut self, cid: ClientId, major: u16, minor: u16, params: Vec<(String, String)>) {
        let secret_wanted = self.clients.get(&cid).is_some_and(|c| c.tcp);
        let Some(c) = self.clients.get_mut(&cid) else {
            return;
        };
        if major != 3 {
            c.fatal(&Report::fatal(
                "0A000",
                format!("unsupported frontend protocol {major}.{minor}: server supports 3.0 to 3.{NEWEST_MINOR}"),
            ));
            return;
        }
        let unknown: Vec<String> = params
            .iter()
            .filter(|(k, _)| k.starts_with("_pq_."))
            .map(|(k, _)| k.clone())
            .collect();
        c.minor = minor.min(NEWEST_MINOR);
        if minor > NEWEST_MINOR || !unknown.is_empty() {
            backend::negotiate_protocol_version(c.conn.out(), c.minor, &unknown);
        }
        let get = |name: &str| {
            params
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        };
        let Some(user) = get("user").filter(|u| !u.is_empty()) else {
            c.fatal(&Report::fatal(
                "28000",
                "no PostgreSQL user name specified in startup packet",
            ));
            return;
        };
        if get("replication").is_some_and(|r| !matches!(r.as_str(), "false" | "off" | "no" | "0")) {
            c.fatal(&Report::fatal(
                "08P01",
                "pgtmp --shared-tx does not accept replication connections",
            ));
            return;
        }
        c.database = get("database")
            .filter(|d| !d.is_empty())
            .unwrap_or_else(|| user.clone());
        c.user = user;
        let mut requested: Vec<(String, String)> = params
            .iter()
            .filter(|(k, _)| {
                !matches!(k.as_str(), "user" | "database" | "options" | "replication")
                    && !k.starts_with("_pq_.")
            })
            .cloned()
            .collect();
        if let Some(options) = get("options") {
            match split_options(&options) {
                Ok(settings) => requested.extend(settings),
                Err(why) => {
                    c.fatal(&Report::fatal(
                        "08P01",
                        format!("invalid command-line argument in `options`: {why}"),
                    ));
                    return;
                }
            }
        }
        c.requested = requested;
        c.pid = (cid as i32).wrapping_mul(7919).wrapping_add(1_000_000) & 0x3fff_ffff;
        c.key = crate::random::bytes(if c.minor >= 2 { 32 } else { 4 });
        if secret_wanted && self.secret.is_some() {
            backend::authentication(c.conn.out(), 10, &auth::offer());
            c.phase = Phase::Sasl(auth::Exchange::default());
        } else if secret_wanted {
            c.fatal(&Report::fatal(
                "28P01",
                "password authentication is not set up",
            ));
        } else {
            backend::authentication(c.conn.out(), 0, &[]);
            c.phase = Phase::Joining;
        }
    }

    /// The SCRAM exchange of a TCP client.
    pub(super) fn sasl_input(&mut self, cid: ClientId) -> bool {
        let Some(c) = self.clients.get_mut(&cid) else {
            return false;
        };
        let (ty, n) = match frame::typed(c.conn.input(), MAX_MESSAGE) {
            Ok(Some(f)) => f,
            Ok(None) => {
                if c.conn.eof {
                    c.phase = Phase::Gone;
                    return true;
                }
                return false;
            }
            Err(e) => {
                c.fatal(&Report::fatal("08P01", e.to_string()));
                return true;
            }
        };
        let body = c.conn.input()[5..n].to_vec();
        c.conn.consume(n);
        let secret = self
            .secret
            .as_ref()
            .expect("SASL is only offered with a secret");
        let Phase::Sasl(exchange) = &mut c.phase else {
            return false;
        };
        let first = matches!(exchange_step(exchange), Step::First);
        let reply = if ty != b'p' {
            Err(auth::Refused("expected a password message"))
        } else if first {
            exchange.initial(secret, &body).map(|r| (11, r))
        } else {
            exchange.finish(secret, &body).map(|r| (12, r))
        };
        match reply {
            Ok((code, data)) => {
                backend::authentication(c.conn.out(), code, &data);
                if code == 12 {
                    backend::authentication(c.conn.out(), 0, &[]);
                    c.phase = Phase::Joining;
                }
            }
            Err(auth::Refused(why)) => {
                crate::proxy::log(&format!("client {cid}: authentication refused: {why}"));
                let user = c.user.clone();
                c.fatal(&Report::fatal(
                    "28P01",
                    format!("password authentication failed for user \"{user}\""),
                ));
            }
        }
        true
    }

    /// An authenticated client: its session, then its settings.
    pub(super) fn join(&mut self, cid: ClientId) -> bool {
        let Some(database) = self.clients.get(&cid).map(|c| c.database.clone()) else {
            return false;
        };
        let sid = match self.clients.get(&cid).and_then(|c| c.session) {
            Some(sid) => sid,
            None => match self.session_for(&database) {
                Ok(sid) => {
                    if let Some(c) = self.clients.get_mut(&cid) {
                        c.session = Some(sid);
                    }
                    sid
                }
                Err(report) => {
                    if let Some(c) = self.clients.get_mut(&cid) {
                        c.fatal(&report);
                    }
                    return true;
                }
            },
        };
        let Some(s) = self.sessions.get(&sid) else {
            return false;
        };
        if s.is_failed() {
            let report = s
                .failure
                .clone()
                .unwrap_or_else(|| Report::fatal("08006", "the server refused the connection"));
            if let Some(c) = self.clients.get_mut(&cid) {
                c.session = None;
                c.fatal(&report);
            }
            return true;
        }
        if !s.is_ready() {
            return false;
        }
        let defaults = s.defaults.clone();
        let role = self.config.role.clone();
        let Some(c) = self.clients.get_mut(&cid) else {
            return false;
        };
        c.view = defaults;
        let requested = std::mem::take(&mut c.requested);
        let mut rest = Vec::new();
        for (name, value) in requested {
            match known(&name, &value, &c.view) {
                Some(v) => {
                    c.view.insert(name.to_ascii_lowercase(), v);
                }
                None => rest.push((name, value)),
            }
        }
        if c.user != role {
            rest.insert(0, ("session_authorization".to_string(), c.user.clone()));
        }
        c.requested = rest;
        if c.requested.is_empty() {
            self.welcome(cid);
        } else {
            c.phase = Phase::Settle;
        }
        true
    }

    /// Applies a client's startup settings in a unit of its own.
    pub(super) fn settle(&mut self, cid: ClientId) -> bool {
        let Some(sid) = self.clients.get(&cid).and_then(|c| c.session) else {
            return false;
        };
        if !self.acquire(sid, cid) {
            return false;
        }
        let (Some(c), Some(s)) = (self.clients.get_mut(&cid), self.sessions.get_mut(&sid)) else {
            return false;
        };
        c.phase = Phase::Settling;
        let guard = Item::hidden(Some(cid), Kind::Execute)
            .effect(Effect::Tx(Tx::Guarded))
            .notify();
        s.run(Some(cid), stmt::SAVEPOINT, &[], guard);
        for (name, value) in std::mem::take(&mut c.requested) {
            let item = Item::hidden(
                Some(cid),
                Kind::Capture(Capture::Setting(name.to_ascii_lowercase())),
            )
            .notify();
            s.run(
                Some(cid),
                stmt::SETTING,
                &[Some(name.as_bytes()), Some(value.as_bytes())],
                item,
            );
            // Reported settings come back as ParameterStatus; the others
            // are this client's to have applied whenever it is its turn.
            if !c.view.keys().any(|k| k.eq_ignore_ascii_case(&name))
                && name != "session_authorization"
            {
                c.settings.insert(name.to_ascii_lowercase(), value);
            }
        }
        let release = Item::hidden(Some(cid), Kind::Execute)
            .effect(Effect::Tx(Tx::Idle))
            .notify();
        s.run(Some(cid), stmt::RELEASE, &[], release);
        s.sync(Some(cid), AtSync::Settled);
        true
    }

    /// Startup is over: parameters, key, ReadyForQuery.
    pub(super) fn welcome(&mut self, cid: ClientId) {
        let Some(c) = self.clients.get_mut(&cid) else {
            return;
        };
        c.startup_view = c.view.clone();
        for (name, value) in &c.view {
            backend::parameter_status(c.conn.out(), name, value);
        }
        let (pid, key) = (c.pid, c.key.clone());
        backend::backend_key_data(c.conn.out(), pid, &key);
        c.tx = Tx::Idle;
        c.predicted = Tx::Idle;
        backend::ready_for_query(c.conn.out(), b'I');
        c.phase = Phase::Ready;
        self.changed = true;
    }

    /// A CancelRequest: passed on to the server only if that client's
    /// statement is running there now, over a connection of its own.
    fn cancel(&mut self, pid: i32, key: &[u8]) {
        let Some(c) = self
            .clients
            .values()
            .find(|c| c.pid == pid && c.key == key && !c.key.is_empty())
        else {
            return;
        };
        let (Some(sid), cid) = (c.session, c.id) else {
            return;
        };
        self.cancel_running(sid, cid);
    }

    /// Sends the server a cancel for `cid`'s statement, if one of its
    /// statements runs there now.
    pub(super) fn cancel_running(&mut self, sid: super::SessionId, cid: ClientId) {
        let Some(s) = self.sessions.get_mut(&sid) else {
            return;
        };
        if s.owner != Some(cid) || !s.running(cid) {
            return;
        }
        let path = self.config.server_socket_path();
        if let Ok(stream) = std::os::unix::net::UnixStream::connect(&path)
            && let Ok(mut conn) =
                crate::proxy::net::Conn::new(crate::proxy::net::Stream::Unix(stream))
        {
            let out = conn.out();
            out.extend_from_slice(&16i32.to_be_bytes());
            out.extend_from_slice(&startup::CANCEL_REQUEST.to_be_bytes());
            out.extend_from_slice(&s.pid.to_be_bytes());
            out.extend_from_slice(&s.key.to_be_bytes());
            s.cancels_in_flight += 1;
            self.cancels.push((sid, conn));
        }
    }
}

enum Step {
    First,
    Final,
}

fn exchange_step(e: &auth::Exchange) -> Step {
    if e.started() {
        Step::Final
    } else {
        Step::First
    }
}

/// A startup setting whose reported value the proxy can tell without the
/// server: application_name in plain ASCII, client_encoding UTF-8 on a
/// UTF-8 server.
fn known(
    name: &str,
    value: &str,
    view: &std::collections::BTreeMap<String, String>,
) -> Option<String> {
    match name.to_ascii_lowercase().as_str() {
        "application_name"
            if value.len() < 64 && value.bytes().all(|b| (0x20..0x7f).contains(&b)) =>
        {
            Some(value.to_string())
        }
        "client_encoding" => {
            let norm: String = value
                .chars()
                .filter(|c| c.is_ascii_alphanumeric())
                .collect::<String>()
                .to_ascii_uppercase();
            (matches!(norm.as_str(), "UTF8" | "UNICODE")
                && view.get("client_encoding").map(String::as_str) == Some("UTF8"))
            .then(|| "UTF8".to_string())
        }
        _ => None,
    }
}

/// The settings in a startup `options` string: `-c name=value` and
/// `--name=value`, split on spaces with `\` escaping the next character,
/// as the server reads them.
pub fn split_options(options: &str) -> Result<Vec<(String, String)>, String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut chars = options.chars();
    while let Some(ch) = chars.next() {
        match ch {
            '\\' => word.extend(chars.next()),
            c if c.is_ascii_whitespace() => {
                if !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                }
            }
            c => word.push(c),
        }
    }
    if !word.is_empty() {
        words.push(word);
    }
    let mut out = Vec::new();
    let mut words = words.into_iter();
    while let Some(w) = words.next() {
        let setting = if w == "-c" {
            words.next().ok_or("`-c` without a setting")?
        } else if let Some(s) = w.strip_prefix("-c").or_else(|| w.strip_prefix("--")) {
            s.to_string()
        } else {
            return Err(format!("`{w}` (only -c name=value is supported)"));
        };
        let (name, value) = setting
            .split_once('=')
            .ok_or_else(|| format!("`{setting}` requires a value"))?;
        out.push((name.replace('-', "_"), value.to_string()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_are_split_like_the_server() {
        assert_eq!(
            split_options("-c search_path=a,b --statement-timeout=5s -csearch_path=x\\ y").unwrap(),
            [
                ("search_path".to_string(), "a,b".to_string()),
                ("statement_timeout".to_string(), "5s".to_string()),
                ("search_path".to_string(), "x y".to_string()),
            ]
        );
        assert!(split_options("-B 10").is_err());
        assert!(split_options("-c").is_err());
        assert!(split_options("-c nothing").is_err());
        assert_eq!(split_options("  ").unwrap(), []);
    }

    #[test]
    fn settings_known_without_the_server() {
        let mut view = std::collections::BTreeMap::new();
        view.insert("client_encoding".to_string(), "UTF8".to_string());
        assert_eq!(
            known("client_encoding", "utf-8", &view).as_deref(),
            Some("UTF8")
        );
        assert_eq!(known("client_encoding", "LATIN1", &view), None);
        assert_eq!(
            known("application_name", "psql", &view).as_deref(),
            Some("psql")
        );
        assert_eq!(known("application_name", "pé", &view), None);
        assert_eq!(known("TimeZone", "UTC", &view), None);
    }
}
