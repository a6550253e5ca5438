//! The server's replies, sent to the client whose item they answer (or
//! kept, for the proxy's own items), with the client's transaction state
//! changed as each item completes. An error ends an item's batch the way
//! the server ends it: what was queued after it, up to the next Sync, gets
//! no reply and is dropped, and so is what is sent after it until there is
//! a Sync (`Session::skipping`). Each client gets at most one error per batch
//! and exactly one ReadyForQuery per Sync, carrying its own status.

use super::item::{AtSync, Capture, Effect, Errors, Item, Kind, Tx};
use super::session::{Deferrable, SessionPhase, stmt};
use super::{ClientId, Engine, Phase, SessionId};
use crate::proxy::net::HIGH_WATER;
use crate::proxy::wire::backend::{self, Report};
use crate::proxy::wire::frame::{self, MAX_MESSAGE};

/// The hint added to errors about statements that cannot run in a
/// transaction block.
const TX_BLOCK_HINT: &str = "pgtmp --shared-tx runs every connection inside one shared transaction; \
     run this statement on an instance started without --shared-tx";

impl Engine {
    /// Replies of session `sid`; true if something happened.
    pub(super) fn session_input(&mut self, sid: SessionId) -> bool {
        let mut progress = false;
        loop {
            progress |= self.synthetic(sid);
            let Some(s) = self.sessions.get_mut(&sid) else {
                return progress;
            };
            let (ty, n) = match frame::typed(s.conn.input(), MAX_MESSAGE) {
                Ok(Some(f)) => f,
                Ok(None) => return progress,
                Err(e) => {
                    self.lose_session(sid, &format!("the server sent an invalid message: {e}"));
                    return true;
                }
            };
            // Back pressure: a client that does not read its rows holds
            // the server's output (and so the server) back, as it would
            // hold back a server of its own.
            let target = s.queue.front().and_then(|i| i.client);
            if let Some(c) = target.and_then(|c| self.clients.get(&c))
                && c.conn.pending() >= HIGH_WATER
                && !c.conn.broken
                && c.listening()
            {
                return progress;
            }
            let Some(s) = self.sessions.get_mut(&sid) else {
                return progress;
            };
            let frame = s.conn.input()[..n].to_vec();
            s.conn.consume(n);
            progress = true;
            if s.phase == SessionPhase::Starting {
                if let Err(report) = s.startup_reply(ty, &frame[5..]) {
                    s.phase = SessionPhase::Failed;
                    s.failure = Some(report);
                    let why = s.failure.as_ref().map(Report::text).unwrap_or_default();
                    self.lose_session(sid, &why);
                    return true;
                }
                continue;
            }
            self.reply(sid, ty, &frame);
        }
    }

    /// Sends the made-up replies at the head of the queue.
    fn synthetic(&mut self, sid: SessionId) -> bool {
        let mut progress = false;
        loop {
            let Some(s) = self.sessions.get_mut(&sid) else {
                return progress;
            };
            let Some(item) = s.queue.front() else {
                return progress;
            };
            if !item.is_synthetic() {
                return progress;
            }
            let item = s.queue.pop_front().expect("a front item");
            progress = true;
            let Some(cid) = item.client else { continue };
            match &item.kind {
                Kind::Synthetic(bytes) => {
                    if let Some(c) = self.clients.get_mut(&cid)
                        && c.ready()
                    {
                        c.conn.out().extend_from_slice(bytes);
                    }
                    self.apply(sid, cid, &item.effect);
                }
                Kind::Refusal(report) => self.error(sid, &item, report.clone()),
                _ => {}
            }
        }
    }

    /// One message of the server, once the session is set up.
    fn reply(&mut self, sid: SessionId, ty: u8, frame: &[u8]) {
        let body = &frame[5..];
        let Some(s) = self.sessions.get_mut(&sid) else {
            return;
        };
        if crate::proxy::tracing() {
            let head = s
                .queue
                .front()
                .map(|i| format!("{:?} for {:?} show={}", i.kind, i.client, i.show));
            crate::proxy::log(&format!("server {} -> {head:?}", ty as char));
        }
        // Messages that may come at any time go to whoever the head item
        // is for.
        let head = s.queue.front().map(|i| (i.client, i.show || i.notify));
        match ty {
            b'S' => {
                let Some((name, value)) = backend::read_parameter_status(body) else {
                    return;
                };
                s.params.insert(name.clone(), value.clone());
                // A batch that failed outside a transaction is undone
                // before its ReadyForQuery; the values that count are
                // reported after that.
                if let Some((Some(cid), true)) = head
                    && let Some(c) = self.clients.get_mut(&cid)
                    && c.view.get(&name) != Some(&value)
                    && !(c.error_sent && c.tx == Tx::Guarded)
                {
                    c.view.insert(name, value);
                    if c.ready() {
                        c.conn.out().extend_from_slice(frame);
                    }
                }
                return;
            }
            b'N' | b'A' => {
                match head {
                    Some((Some(cid), true)) => self.forward(cid, frame),
                    _ if ty == b'N' => {
                        crate::proxy::log(&format!("server notice: {}", Report::parse(body).text()))
                    }
                    _ => {}
                }
                return;
            }
            b'E' => {
                let Some(item) = s.queue.front().cloned() else {
                    self.lose_session(sid, "the server reported an error out of turn");
                    return;
                };
                self.error(sid, &item, Report::parse(body));
                let Some(s) = self.sessions.get_mut(&sid) else {
                    return;
                };
                if matches!(item.kind, Kind::Query | Kind::Function) {
                    if let Some(front) = s.queue.front_mut() {
                        front.failed = true;
                    }
                } else {
                    s.skip_to_sync();
                }
                if let Some(cid) = item.client {
                    self.release_held_sync(cid);
                    self.skip_until_sync(cid);
                }
                return;
            }
            _ => {}
        }
        let Some(item) = s.queue.front_mut() else {
            self.lose_session(
                sid,
                &format!("the server sent an unexpected message ({})", ty as char),
            );
            return;
        };
        let cid = item.client;
        let show = item.show;
        let done = match (&item.kind, ty) {
            (Kind::Parse, b'1') | (Kind::Bind, b'2') | (Kind::Close, b'3') => true,
            (Kind::Describe { portal: false }, b't') => false,
            (Kind::Describe { .. }, b'T' | b'n') => true,
            (Kind::Execute | Kind::Query, b'G') => {
                if let Some(c) = cid.and_then(|c| self.clients.get_mut(&c)) {
                    c.copy_in = true;
                    // A Sync already sent is ignored in COPY mode.
                    c.held_sync = false;
                }
                false
            }
            (Kind::Execute, b'C' | b'I' | b's') => true,
            (Kind::Execute, b'D' | b'H' | b'd' | b'c' | b'W') => false,
            (Kind::Capture(capture), b'D') => {
                let capture = capture.clone();
                self.capture(sid, &capture, body);
                return;
            }
            (Kind::Capture(_), b'C') => true,
            (Kind::Query | Kind::Function, b'Z') => {
                let item = s.queue.pop_front().expect("a front item");
                if let Some(c) = cid.and_then(|c| self.clients.get_mut(&c)) {
                    c.copy_in = false;
                }
                self.complete(sid, item);
                return;
            }
            (Kind::Query | Kind::Function, _) => false,
            (Kind::Sync(at), b'Z') => {
                let at = *at;
                let item = s.queue.pop_front().expect("a front item");
                let status = body.first().copied().unwrap_or(b'E');
                self.at_sync(sid, item.client, at, status);
                return;
            }
            _ => {
                let what = format!("{:?}", item.kind);
                self.lose_session(
                    sid,
                    &format!(
                        "the server sent an unexpected message ({}) for {what}",
                        ty as char
                    ),
                );
                return;
            }
        };
        if show && let Some(cid) = cid {
            if ty == b'C'
                && let Some(c) = self.clients.get_mut(&cid)
            {
                c.copy_in = false;
            }
            self.forward(cid, frame);
        }
        if done {
            let Some(s) = self.sessions.get_mut(&sid) else {
                return;
            };
            let item = s.queue.pop_front().expect("a front item");
            self.complete(sid, item);
        }
    }

    fn forward(&mut self, cid: ClientId, frame: &[u8]) {
        if let Some(c) = self.clients.get_mut(&cid)
            && c.ready()
        {
            c.conn.out().extend_from_slice(frame);
        }
    }

    /// An item done without error: its effect, and what it held back.
    fn complete(&mut self, sid: SessionId, item: Item) {
        let Some(cid) = item.client else {
            if item.effect != Effect::None {
                self.apply(sid, 0, &item.effect);
            }
            return;
        };
        if !item.failed {
            self.apply(sid, cid, &item.effect);
        }
        if item.resume {
            self.resume(cid);
        }
    }

    fn apply(&mut self, sid: SessionId, cid: ClientId, effect: &Effect) {
        match effect {
            Effect::None => {}
            Effect::Tx(tx) => {
                if let Some(c) = self.clients.get_mut(&cid) {
                    c.tx = *tx;
                }
            }
            Effect::Reset => {
                let owner = self.sessions.get(&sid).and_then(|s| s.owner);
                if let Some(s) = self.sessions.get_mut(&sid) {
                    s.unnamed_portal = None;
                    s.since = std::time::SystemTime::now();
                }
                for c in self.clients.values_mut().filter(|c| c.session == Some(sid)) {
                    c.tx = Tx::Idle;
                    c.tx_since = None;
                    c.portals.clear();
                    c.unnamed_portal = None;
                    if Some(c.id) != owner {
                        c.predicted = Tx::Idle;
                    }
                }
                self.changed = true;
            }
            Effect::Ready => {
                if let Some(s) = self.sessions.get_mut(&sid) {
                    s.phase = SessionPhase::Ready;
                }
                self.changed = true;
            }
        }
    }

    /// An error, the server's or the proxy's, for `item`.
    fn error(&mut self, sid: SessionId, item: &Item, mut report: Report) {
        let Some(cid) = item.client else {
            crate::proxy::log(&format!("error in the proxy's own work: {}", report.text()));
            if self.sessions.get(&sid).is_some_and(|s| !s.is_ready()) {
                self.lose_session(
                    sid,
                    &format!("cannot set the session up: {}", report.text()),
                );
            }
            return;
        };
        let Some(c) = self.clients.get_mut(&cid) else {
            return;
        };
        c.copy_in = false;
        c.tx = item.on_error.unwrap_or(match c.tx {
            Tx::Open => Tx::Failed,
            other => other,
        });
        if item.errors == Errors::Hide || c.error_sent {
            return;
        }
        c.error_sent = true;
        if matches!(report.code(), b"25001" | b"2D000") && report.get(b'H').is_none() {
            report.set(b'H', TX_BLOCK_HINT.as_bytes().to_vec());
        }
        match c.phase {
            Phase::Ready => report.error_response(c.conn.out()),
            Phase::Settling => c.settle_error = Some(report),
            _ => {}
        }
    }

    fn capture(&mut self, sid: SessionId, capture: &Capture, row: &[u8]) {
        let Some(s) = self.sessions.get_mut(&sid) else {
            return;
        };
        let values = data_row(row);
        let text = |i: usize| -> Option<String> {
            values
                .get(i)
                .cloned()
                .flatten()
                .map(|v| String::from_utf8_lossy(&v).into_owned())
        };
        match capture {
            Capture::Deferrable => {
                s.deferrable = match (text(0).as_deref(), text(1)) {
                    (Some("0"), _) => Deferrable::None,
                    (_, list) => Deferrable::Some(list.unwrap_or_default()),
                };
            }
            Capture::Setting(name) => {
                if !s.params.keys().any(|k| k.eq_ignore_ascii_case(name))
                    && let (Some(before), Some(now)) = (text(0), text(1))
                {
                    s.setting_defaults.entry(name.clone()).or_insert(before);
                    s.settings_applied.insert(name.clone(), now);
                }
            }
        }
    }

    /// A ReadyForQuery: the end of a client's batch, or of the proxy's work.
    fn at_sync(&mut self, sid: SessionId, client: Option<ClientId>, at: AtSync, status: u8) {
        if status == b'I' {
            self.transaction_ended(sid);
        }
        match (at, client) {
            (AtSync::Client | AtSync::Settled | AtSync::Cleaned { .. }, Some(cid)) => {
                self.end_batch(sid, cid, status, at)
            }
            (AtSync::Departed, Some(cid)) => {
                if let Some(c) = self.clients.get_mut(&cid) {
                    c.phase = Phase::Gone;
                }
                self.release(sid, cid);
                if status == b'E' {
                    self.broken(sid, "cleaning up after a client that left");
                }
            }
            _ => {
                if status == b'E' {
                    self.broken(sid, "the proxy's own work failed");
                }
            }
        }
    }

    /// The end of a client's batch: a failed one undone first (outside a
    /// transaction), or the transaction marked failed; then the client's
    /// ReadyForQuery with its own status. The undoing comes before the
    /// ReadyForQuery, and before anyone else's turn, so that the
    /// parameters the server reports afterwards are the client's own.
    fn end_batch(&mut self, sid: SessionId, cid: ClientId, status: u8, at: AtSync) {
        let settled = matches!(at, AtSync::Settled | AtSync::Cleaned { settled: true });
        let (Some(c), Some(s)) = (self.clients.get_mut(&cid), self.sessions.get_mut(&sid)) else {
            if status == b'E' {
                self.broken(sid, "a client's batch failed after it left");
            }
            return;
        };
        match (status, c.tx, at) {
            (b'E', _, AtSync::Cleaned { .. }) | (b'E', Tx::Idle, _) => {
                c.tx = Tx::Idle;
                self.broken(sid, "a failed batch could not be undone");
            }
            (b'E', Tx::Guarded, _) => {
                let cleanup = |kind| Item::hidden(Some(cid), kind).notify();
                s.close_unnamed_portal(Some(cid));
                s.run(Some(cid), stmt::ROLLBACK_TO, &[], cleanup(Kind::Execute));
                s.run(
                    Some(cid),
                    stmt::RELEASE,
                    &[],
                    cleanup(Kind::Execute).effect(Effect::Tx(Tx::Idle)),
                );
                s.sync(Some(cid), AtSync::Cleaned { settled });
                s.settings_applied.clear();
                return;
            }
            (b'E', Tx::Open, _) => c.tx = Tx::Failed,
            (b'T', Tx::Guarded, _) => {
                s.command(Some(cid), stmt::RELEASE, Effect::Tx(Tx::Idle));
                s.sync(None, AtSync::Hidden);
                c.tx = Tx::Idle;
            }
            _ => {}
        }
        self.after_batch(sid, cid, settled);
    }

    fn after_batch(&mut self, sid: SessionId, cid: ClientId, settled: bool) {
        let Some(c) = self.clients.get_mut(&cid) else {
            return;
        };
        c.predicted = c.tx;
        c.error_sent = false;
        c.awaiting = false;
        c.copy_in = false;
        match c.tx {
            Tx::Idle => c.tx_since = None,
            _ => {
                c.tx_since.get_or_insert_with(std::time::Instant::now);
            }
        }
        let idle = c.tx == Tx::Idle;
        if settled {
            match c.settle_error.take() {
                Some(mut report) if matches!(c.phase, Phase::Settling) => {
                    // A role that does not exist is the server's 28000 at
                    // startup, not set_config's 22023.
                    if report.text().starts_with("role ") {
                        report.set(b'C', b"28000".to_vec());
                    }
                    c.fatal(&report.with(b'S', "FATAL").with(b'V', "FATAL"));
                }
                _ if matches!(c.phase, Phase::Settling) => {
                    self.release(sid, cid);
                    self.welcome(cid);
                    return;
                }
                _ => {}
            }
        } else if c.ready() {
            backend::ready_for_query(c.conn.out(), c.tx.status());
        }
        if idle {
            self.release(sid, cid);
        }
        self.changed = true;
    }

    /// The shared transaction is gone (a statement the proxy did not see
    /// as one ended it): nothing done before can be taken back; start
    /// another.
    fn transaction_ended(&mut self, sid: SessionId) {
        crate::proxy::log("the shared transaction ended unexpectedly; what it held is committed");
        if let Some(s) = self.sessions.get_mut(&sid) {
            s.simple("BEGIN", Effect::Reset);
        }
    }

    /// The shared transaction is aborted with no savepoint to go back to:
    /// roll it back and start again.
    fn broken(&mut self, sid: SessionId, why: &str) {
        crate::proxy::log(&format!(
            "the shared transaction broke ({why}); rolled back"
        ));
        if let Some(s) = self.sessions.get_mut(&sid) {
            s.simple("ROLLBACK", Effect::None);
            s.simple("BEGIN", Effect::Reset);
        }
    }
}

/// The values of a DataRow.
fn data_row(body: &[u8]) -> Vec<Option<Vec<u8>>> {
    let mut r = crate::proxy::wire::frontend::Reader::new(body);
    let Ok(n) = r.count() else { return Vec::new() };
    (0..n)
        .map_while(|_| {
            let len = r.i32().ok()?;
            if len < 0 {
                return Some(None);
            }
            r.bytes(len as usize).ok().map(|b| Some(b.to_vec()))
        })
        .collect()
}
