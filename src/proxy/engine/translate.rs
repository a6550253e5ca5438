//! A ready client's messages, turned into what its share of the session
//! needs. Outside a transaction, each batch runs under the savepoint
//! `pgtmp_x`, released at its end (or rolled back if it failed), so an
//! error undoes only that batch, as an implicit transaction would; the
//! client's BEGIN turns that savepoint into its transaction, COMMIT
//! releases it (after checking deferred constraints), ROLLBACK rolls back
//! to it. Names are made the client's own, the client's settings are put
//! in place when its turn comes, and replies the proxy makes up are queued
//! where the server's would have been.

use std::collections::{BTreeMap, VecDeque};

use super::client::Client;
use super::item::{AtSync, Capture, Effect, Errors, Item, Kind, Tx};
use super::names;
use super::session::{Deferrable, RESERVED_PREFIX, Session, stmt};
use super::startup::FIXED;
use super::{ClientId, Engine, Phase};
use crate::proxy::sql::{self, Class, Prepared, Segment};
use crate::proxy::wire::backend::{self, Report};
use crate::proxy::wire::frame::{self, MAX_MESSAGE};
use crate::proxy::wire::frontend::{self, Malformed, Message, write};

const ABORTED: &str =
    "current transaction is aborted, commands ignored until end of transaction block";

impl Engine {
    /// Input of client `cid`, whatever its phase; true if something happened.
    pub(super) fn client_input(&mut self, cid: ClientId) -> bool {
        let Some(c) = self.clients.get(&cid) else {
            return false;
        };
        match c.phase {
            Phase::Startup => self.startup_input(cid),
            Phase::Sasl(_) => self.sasl_input(cid),
            Phase::Joining => self.hung_up(cid) || self.join(cid),
            Phase::Settle => self.hung_up(cid) || self.settle(cid),
            Phase::Settling => self.hung_up(cid),
            Phase::Ready => self.ready_input(cid),
            Phase::Departing => self.departing(cid),
            Phase::Leaving | Phase::Closing | Phase::Gone => false,
        }
    }

    /// A client gone before it finished starting.
    fn hung_up(&mut self, cid: ClientId) -> bool {
        match self.clients.get_mut(&cid) {
            Some(c) if c.conn.eof || c.conn.broken => {
                c.depart();
                true
            }
            _ => false,
        }
    }

    fn ready_input(&mut self, cid: ClientId) -> bool {
        let mut progress = false;
        loop {
            let Some(c) = self.clients.get_mut(&cid) else {
                return progress;
            };
            let Some(sid) = c.session else {
                return progress;
            };
            let framed = frame::typed(c.conn.input(), MAX_MESSAGE);
            if c.conn.broken || (c.conn.eof && !matches!(framed, Ok(Some(_)))) {
                c.depart();
                return true;
            }
            if c.awaiting && !c.copy_in {
                return progress;
            }
            let (ty, n) = match framed {
                Ok(Some(f)) => f,
                Ok(None) => return progress,
                Err(e) => {
                    c.fatal(&Report::fatal("08P01", e.to_string()));
                    return true;
                }
            };
            if ty == b'X' {
                c.conn.consume(n);
                c.depart();
                return true;
            }
            let owner = self
                .sessions
                .get(&sid)
                .is_some_and(|s| s.owner == Some(cid));
            if !owner {
                // Refused while waiting: answer from here until Sync.
                if c.skipping {
                    c.conn.consume(n);
                    if ty == b'S' {
                        c.skipping = false;
                        backend::ready_for_query(c.conn.out(), c.tx.status());
                    }
                    progress = true;
                    continue;
                }
                // Nothing to do on the server: COPY data after a COPY
                // ended (the server ignores it too), a Flush or a Sync
                // outside a batch. Taking the session for them would hold
                // it for nothing.
                if matches!(ty, b'd' | b'c' | b'f' | b'H' | b'S') {
                    c.conn.consume(n);
                    if ty == b'S' {
                        backend::ready_for_query(c.conn.out(), c.tx.status());
                    }
                    progress = true;
                    continue;
                }
                if !self.acquire(sid, cid) {
                    return progress;
                }
            }
            let (Some(c), Some(s)) = (self.clients.get_mut(&cid), self.sessions.get_mut(&sid))
            else {
                return progress;
            };
            let frame = c.conn.input()[..n].to_vec();
            c.conn.consume(n);
            progress = true;
            let mut unit = Unit { c, s };
            if let Err(e) = unit.message(ty, &frame) {
                unit.c
                    .fatal(&Report::fatal("08P01", format!("invalid message: {e}")));
                return true;
            }
            if !matches!(unit.c.phase, Phase::Ready) {
                return true;
            }
        }
    }

    /// The lock-wait timeout of a waiting client: its batch is refused.
    pub(super) fn give_up_waiting(&mut self, sid: super::SessionId, cid: ClientId) {
        let Some(s) = self.sessions.get_mut(&sid) else {
            return;
        };
        s.waiters.retain(|w| w.0 != cid);
        let holder = s.owner.and_then(|o| self.clients.get(&o)).map(|o| {
            let app = o.view.get("application_name").cloned().unwrap_or_default();
            let since = o
                .tx_since
                .map(|t| format!(", in a transaction for {:.1}s", t.elapsed().as_secs_f64()))
                .unwrap_or_default();
            format!("client {} (application_name \"{app}\"{since})", o.pid)
        });
        let wait = self.config.lock_wait();
        let Some(c) = self.clients.get_mut(&cid) else {
            return;
        };
        let report = Report::error(
            "55P03",
            format!(
                "pgtmp --shared-tx: waited {}s for the shared transaction, held by {}",
                wait.as_secs_f64(),
                holder.unwrap_or_else(|| "another client".into())
            ),
        )
        .with(
            b'H',
            "every connection through a --shared-tx URL shares one transaction, one client at a time: \
             a connection that waits for another while holding a transaction open waits forever; \
             commit sooner, or raise the wait with PGTMP_SHARED_TX_WAIT",
        );
        self.changed = true;
        match c.phase {
            Phase::Settle => c.fatal(
                &Report {
                    fields: report.fields.clone(),
                }
                .with(b'S', "FATAL")
                .with(b'V', "FATAL"),
            ),
            Phase::Ready => {
                report.error_response(c.conn.out());
                // The message that waited starts a batch: a Query or a
                // FunctionCall is answered at once; anything else makes
                // the rest of its batch skipped until Sync.
                if let Ok(Some((ty, n))) = frame::typed(c.conn.input(), MAX_MESSAGE)
                    && matches!(ty, b'Q' | b'F')
                {
                    c.conn.consume(n);
                    backend::ready_for_query(c.conn.out(), c.tx.status());
                } else {
                    c.skipping = true;
                }
            }
            _ => {}
        }
    }

    /// A client that left: end what it had in flight, roll back its
    /// transaction, close its statements, then let it go.
    fn departing(&mut self, cid: ClientId) -> bool {
        let Some(c) = self.clients.get_mut(&cid) else {
            return false;
        };
        let Some(sid) = c.session else {
            c.phase = Phase::Gone;
            return true;
        };
        let Some(s) = self.sessions.get_mut(&sid) else {
            c.phase = Phase::Gone;
            return true;
        };
        if s.owner == Some(cid) && c.copy_in {
            write::copy_fail(s.conn.out(), "the client disconnected");
            c.copy_in = false;
        }
        if c.awaiting {
            if !c.cancelled {
                c.cancelled = true;
                self.cancel_running(sid, cid);
            }
            return false;
        }
        if !self.acquire(sid, cid) {
            return false;
        }
        let (Some(c), Some(s)) = (self.clients.get_mut(&cid), self.sessions.get_mut(&sid)) else {
            return false;
        };
        if c.in_batch {
            // Half a batch: fail it as the server fails a batch whose
            // client is gone, and end it.
            c.in_batch = false;
            let poison = Item::hidden(Some(cid), Kind::Execute).errors(Errors::Hide);
            s.run(Some(cid), stmt::POISON, &[], poison);
            s.sync(Some(cid), AtSync::Client);
            c.awaiting = true;
            return true;
        }
        if c.tx != Tx::Idle {
            s.command(None, stmt::ROLLBACK_TO, Effect::None);
            s.command(None, stmt::RELEASE, Effect::None);
            s.settings_applied.clear();
        }
        for name in c.statements.keys() {
            write::close(s.conn.out(), false, &names::server(cid, name));
            s.expect(Item::hidden(None, Kind::Close));
        }
        for name in c.portals.keys() {
            write::close(s.conn.out(), true, name);
            s.expect(Item::hidden(None, Kind::Close));
        }
        if s.unnamed_statement == Some(cid) {
            s.unnamed_statement = None;
        }
        if s.unnamed_portal == Some(cid) {
            s.unnamed_portal = None;
        }
        s.sync(Some(cid), AtSync::Departed);
        c.phase = Phase::Leaving;
        true
    }

    /// A batch whose Sync was held back for a COPY failed before the COPY
    /// began: the server skips to a Sync, so it gets one now.
    pub(super) fn release_held_sync(&mut self, cid: ClientId) {
        let Some(c) = self.clients.get_mut(&cid) else {
            return;
        };
        if !std::mem::take(&mut c.held_sync) {
            return;
        }
        c.copy_expected = false;
        let Some(s) = c.session.and_then(|sid| self.sessions.get_mut(&sid)) else {
            return;
        };
        Unit { c, s }.sync();
    }

    /// The server skips what follows an error up to the next Sync, and
    /// this client's Sync is still to come: what the client sends until
    /// then is dropped here too (its COPY, if one was to come, will not).
    pub(super) fn skip_until_sync(&mut self, cid: ClientId) {
        if let Some(c) = self.clients.get_mut(&cid)
            && c.session
                .is_some_and(|sid| self.sessions.get(&sid).is_some_and(|s| s.skipping))
        {
            c.skipping = true;
            c.copy_expected = false;
        }
    }

    /// Continues a simple Query held back while its COPY ran.
    pub(super) fn resume(&mut self, cid: ClientId) {
        let Some(c) = self.clients.get_mut(&cid) else {
            return;
        };
        let Some(sid) = c.session else { return };
        let Some(s) = self.sessions.get_mut(&sid) else {
            return;
        };
        let rest = c.paused.take().unwrap_or_default();
        let mut unit = Unit { c, s };
        if !rest.is_empty() {
            unit.barrier();
        }
        unit.script(rest, false);
    }
}

/// A client and the session it owns, while its messages are translated.
pub(super) struct Unit<'a> {
    pub c: &'a mut Client,
    pub s: &'a mut Session,
}

/// Where a statement the proxy handles came from.
enum Source<'a> {
    /// A simple Query: the statement's text, and whether it was alone.
    Simple { text: &'a [u8], alone: bool },
    /// An Execute of this (server-side) portal.
    Extended { portal: Vec<u8>, max_rows: i32 },
}

impl Unit<'_> {
    fn id(&self) -> ClientId {
        self.c.id
    }

    fn message(&mut self, ty: u8, frame: &[u8]) -> Result<(), Malformed> {
        let msg = frontend::parse(ty, &frame[5..])?;
        if crate::proxy::tracing() {
            crate::proxy::log(&format!(
                "client {} {} ({:?}, predicted {:?})",
                self.c.id, ty as char, self.c.tx, self.c.predicted
            ));
        }
        match msg {
            Message::CopyData | Message::CopyDone | Message::CopyFail => {
                if self.c.copy_in {
                    self.s.conn.out().extend_from_slice(frame);
                }
                // The client's COPY is over: what it sends next waits for
                // the batch's end like anything else.
                if !matches!(msg, Message::CopyData) {
                    self.c.copy_in = false;
                    self.c.copy_expected = false;
                    self.c.held_sync = false;
                }
            }
            Message::Sync if self.c.copy_expected => self.c.held_sync = true,
            Message::Sync => self.sync(),
            Message::Flush => {
                if !self.c.skipping {
                    self.s.conn.out().extend_from_slice(frame);
                }
            }
            Message::Terminate => self.c.depart(),
            Message::Password(_) => return Err(Malformed("unexpected password message".into())),
            _ if self.c.skipping => {}
            Message::Query(sql) => self.query(sql),
            Message::FunctionCall => {
                self.open();
                self.c.awaiting = true;
                self.s.send(frame, Item::shown(self.id(), Kind::Function));
                self.end_batch();
            }
            Message::Parse { name, query, types } => {
                self.batch();
                self.parse(name, query, types);
            }
            Message::Bind {
                portal,
                statement,
                rest,
            } => {
                self.batch();
                self.bind(portal, statement, rest);
            }
            Message::Describe { portal, name } => {
                self.batch();
                self.describe(portal, name);
            }
            Message::Execute { portal, max_rows } => {
                self.batch();
                self.execute(portal, max_rows);
            }
            Message::Close { portal, name } => {
                self.batch();
                self.close(portal, name);
            }
        }
        Ok(())
    }

    /// An extended-protocol message: a batch is open, under the guard.
    fn batch(&mut self) {
        self.c.in_batch = true;
        self.open();
    }

    /// Puts the client's settings in place and opens the guard, if the
    /// client has no transaction.
    fn open(&mut self) {
        if self.c.predicted != Tx::Idle {
            return;
        }
        self.switch(None, true);
        let cid = self.id();
        let guard = Item::hidden(Some(cid), Kind::Execute).effect(Effect::Tx(Tx::Guarded));
        self.s.run(Some(cid), stmt::SAVEPOINT, &[], guard);
        self.c.predicted = Tx::Guarded;
    }

    /// Sets, on the shared session, the parameters this client sees and
    /// its own startup settings, where they differ from what is there
    /// (`base`: the reported values there, if not the last reported). At
    /// the top level (`top`), in a savepoint of their own released at
    /// once: they stay when the client's batch fails, which undoes only
    /// what the client did.
    fn switch(&mut self, base: Option<&BTreeMap<String, String>>, top: bool) {
        let cid = self.id();
        let base = base.unwrap_or(&self.s.params);
        let mut changes: Vec<(String, String)> = self
            .c
            .view
            .iter()
            .filter(|(k, _)| !FIXED.contains(&k.as_str()))
            .filter(|(k, v)| base.get(*k) != Some(*v))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        // The role first: other settings may be the role's to set.
        changes.sort_by_key(|(k, _)| k != "session_authorization");
        let mut names: Vec<String> = self.s.setting_defaults.keys().cloned().collect();
        names.extend(self.c.settings.keys().cloned());
        names.sort();
        names.dedup();
        for name in names {
            let Some(want) = self
                .c
                .settings
                .get(&name)
                .or_else(|| self.s.setting_defaults.get(&name))
                .cloned()
            else {
                continue;
            };
            if self.s.settings_applied.get(&name) != Some(&want) {
                self.s.settings_applied.insert(name.clone(), want.clone());
                changes.push((name, want));
            }
        }
        if changes.is_empty() {
            return;
        }
        if top {
            let item = Item::hidden(Some(cid), Kind::Execute).effect(Effect::Tx(Tx::Guarded));
            self.s.run(Some(cid), stmt::SAVEPOINT, &[], item);
        }
        for (name, value) in changes {
            let item = Item::hidden(Some(cid), Kind::Execute);
            self.s.run(
                Some(cid),
                stmt::SET,
                &[Some(name.as_bytes()), Some(value.as_bytes())],
                item,
            );
        }
        if top {
            self.s
                .command(Some(cid), stmt::RELEASE, Effect::Tx(Tx::Idle));
        }
    }

    /// The end of a batch: the guard released (after the deferred
    /// constraint check), then Sync and the client's ReadyForQuery.
    fn end_batch(&mut self) {
        self.tail();
        self.s.sync(Some(self.id()), AtSync::Client);
        self.c.awaiting = true;
    }

    pub(super) fn sync(&mut self) {
        self.c.in_batch = false;
        self.c.skipping = false;
        self.end_batch();
    }

    fn tail(&mut self) {
        if self.c.predicted != Tx::Guarded {
            return;
        }
        self.close_portals();
        self.check(None);
        self.s
            .command(Some(self.id()), stmt::RELEASE, Effect::Tx(Tx::Idle));
        self.refresh();
        self.c.predicted = Tx::Idle;
    }

    /// Closes the client's portals, as the end of a transaction does
    /// (releasing a savepoint keeps them).
    fn close_portals(&mut self) {
        let cid = self.id();
        for name in std::mem::take(&mut self.c.portals).into_keys() {
            write::close(self.s.conn.out(), true, &name);
            self.s.expect(Item::hidden(Some(cid), Kind::Close));
        }
        self.c.unnamed_portal = None;
        if self.s.unnamed_portal == Some(cid) {
            self.s.unnamed_portal = None;
        }
    }

    /// Checks deferred constraints as a commit would: all immediate, then
    /// the initially deferred ones deferred again for the next commit.
    /// Without knowing which those are (the schema changed), inside a
    /// savepoint rolled back after the check.
    fn check(&mut self, on_error: Option<Tx>) {
        if self.s.skipping {
            // A failed batch: there is nothing to commit, and what would
            // be prepared here would not be.
            return;
        }
        let cid = Some(self.id());
        let mut immediate = Item::hidden(cid, Kind::Execute);
        immediate.on_error = on_error;
        match self.s.deferrable.clone() {
            Deferrable::None => {}
            Deferrable::Some(list) => {
                self.s.run(cid, stmt::IMMEDIATE, &[], immediate);
                if !list.is_empty() {
                    if self.s.defer_prepared.as_deref() != Some(list.as_str()) {
                        write::close(self.s.conn.out(), false, stmt::DEFER.as_bytes());
                        self.s.expect(Item::hidden(cid, Kind::Close));
                        let sql = format!("SET CONSTRAINTS {list} DEFERRED");
                        write::parse(
                            self.s.conn.out(),
                            stmt::DEFER.as_bytes(),
                            sql.as_bytes(),
                            &[0, 0],
                        );
                        self.s.expect(Item::hidden(cid, Kind::Parse));
                        self.s.defer_prepared = Some(list);
                    }
                    self.s.command(cid, stmt::DEFER, Effect::None);
                }
            }
            Deferrable::Unknown => {
                self.s.command(cid, stmt::CHECK, Effect::None);
                self.s.run(cid, stmt::IMMEDIATE, &[], immediate);
                self.s.command(cid, stmt::CHECK_ROLLBACK, Effect::None);
                self.s.command(cid, stmt::CHECK_RELEASE, Effect::None);
            }
        }
    }

    /// Looks the deferrable constraints up again after a schema change.
    fn refresh(&mut self) {
        if self.s.deferrable == Deferrable::Unknown {
            let cid = Some(self.id());
            let item = Item::hidden(cid, Kind::Capture(Capture::Deferrable)).errors(Errors::Hide);
            self.s.run(cid, stmt::DEFERRABLE, &[], item);
        }
    }

    /// Makes the server skip the rest of a batch after a failed statement.
    fn barrier(&mut self) {
        let cid = Some(self.id());
        let item = Item::hidden(cid, Kind::Execute).errors(Errors::Hide);
        self.s.run(cid, stmt::BARRIER, &[], item);
    }

    fn refuse(&mut self, report: Report) {
        self.s.refuse(self.id(), report);
        self.c.skipping = true;
    }

    fn complete(&mut self, tag: &str, effect: Effect) {
        let mut out = Vec::new();
        backend::command_complete(&mut out, tag);
        self.s.synthetic(self.id(), out, effect);
    }

    fn notice(&mut self, severity: &str, code: &str, message: &str) {
        let mut out = Vec::new();
        Report::new(severity, code, message).notice_response(&mut out);
        self.s.synthetic(self.id(), out, Effect::None);
    }

    fn query(&mut self, sql: &[u8]) {
        let cid = self.id();
        // A simple Query drops the unnamed statement and portal.
        self.c.unnamed = None;
        self.c.unnamed_portal = None;
        self.s.unnamed_statement = None;
        self.s.unnamed_portal = None;
        let segments = sql::segments(sql, self.c.standard_strings(), &|n| names::quoted(cid, n));
        self.open();
        self.c.awaiting = true;
        let alone = segments.len() == 1;
        self.script(segments.into(), alone);
    }

    /// Runs the segments of a simple Query, a barrier between each, then
    /// ends the batch; a COPY FROM STDIN holds the rest back (the server
    /// reads nothing but COPY data until it is done).
    fn script(&mut self, mut segments: VecDeque<Segment>, alone: bool) {
        let cid = self.id();
        while let Some(segment) = segments.pop_front() {
            self.open();
            match segment {
                Segment::Forward {
                    text,
                    copy_in,
                    ddl,
                    prepared,
                } => {
                    if ddl {
                        self.s.deferrable = Deferrable::Unknown;
                    }
                    self.prepared(&prepared);
                    let mut item = Item::shown(cid, Kind::Query);
                    let mut out = Vec::new();
                    write::query(&mut out, &text);
                    if copy_in {
                        item = item.resume();
                        self.s.send(&out, item);
                        self.c.paused = Some(segments);
                        return;
                    }
                    self.s.send(&out, item);
                }
                Segment::Special { text, class } => {
                    self.special(class, Source::Simple { text: &text, alone });
                    if self.c.skipping {
                        break;
                    }
                }
            }
            if !segments.is_empty() {
                self.barrier();
            }
        }
        self.c.skipping = false;
        self.end_batch();
    }

    fn prepared(&mut self, names: &[(Prepared, String)]) {
        for (op, name) in names {
            match op {
                Prepared::Prepare => {
                    self.c
                        .statements
                        .insert(name.as_bytes().to_vec(), Class::Plain(Default::default()));
                }
                Prepared::Deallocate => {
                    self.c.statements.remove(name.as_bytes());
                }
            }
        }
    }

    fn parse(&mut self, name: &[u8], query: &[u8], types: &[u8]) {
        let cid = self.id();
        let (class, mut text) =
            sql::parsed(query, self.c.standard_strings(), &|n| names::quoted(cid, n));
        if let Class::Test { .. } = class {
            // The server does not know PGProxy's syntax: it prepares a
            // statement that describes the same (no rows, no parameters)
            // and the proxy runs the test control when it is executed.
            text = b"ROLLBACK".to_vec();
        }
        let mut out = Vec::new();
        write::parse(&mut out, &names::server(cid, name), &text, types);
        if name.is_empty() {
            self.c.unnamed = Some((out.clone(), class));
            self.s.unnamed_statement = Some(cid);
        } else {
            self.c.statements.insert(name.to_vec(), class);
        }
        self.s.send(&out, Item::shown(cid, Kind::Parse));
    }

    /// Makes the server's unnamed statement this client's again (another
    /// client may have replaced it), or none if the client has none.
    fn own_unnamed_statement(&mut self) {
        let cid = self.id();
        if self.s.unnamed_statement == Some(cid) {
            return;
        }
        match &self.c.unnamed {
            Some((parse, _)) => {
                let parse = parse.clone();
                self.s.send(&parse, Item::hidden(Some(cid), Kind::Parse));
                self.s.unnamed_statement = Some(cid);
            }
            None => {
                write::close(self.s.conn.out(), false, b"");
                self.s.expect(Item::hidden(Some(cid), Kind::Close));
                self.s.unnamed_statement = None;
            }
        }
    }

    /// The unnamed portal, if it is not this client's, is not there for it.
    fn own_unnamed_portal(&mut self) {
        let cid = self.id();
        if self.s.unnamed_portal != Some(cid) {
            write::close(self.s.conn.out(), true, b"");
            self.s.expect(Item::hidden(Some(cid), Kind::Close));
            self.s.unnamed_portal = None;
            self.c.unnamed_portal = None;
        }
    }

    fn bind(&mut self, portal: &[u8], statement: &[u8], rest: &[u8]) {
        let cid = self.id();
        let class = if statement.is_empty() {
            self.own_unnamed_statement();
            self.c.unnamed.as_ref().map(|u| u.1.clone())
        } else {
            self.c.statements.get(statement).cloned()
        }
        .unwrap_or_else(|| Class::Plain(Default::default()));
        if portal.is_empty() {
            self.c.unnamed_portal = Some(class);
            self.s.unnamed_portal = Some(cid);
        } else {
            self.c.portals.insert(portal.to_vec(), class);
        }
        let mut out = Vec::new();
        write::bind(&mut out, portal, &names::server(cid, statement), rest);
        self.s.send(&out, Item::shown(cid, Kind::Bind));
    }

    fn describe(&mut self, portal: bool, name: &[u8]) {
        let cid = self.id();
        if name.is_empty() {
            if portal {
                self.own_unnamed_portal();
            } else {
                self.own_unnamed_statement();
            }
        }
        let mut out = Vec::new();
        let name = if portal {
            name.to_vec()
        } else {
            names::server(cid, name)
        };
        write::describe(&mut out, portal, &name);
        self.s
            .send(&out, Item::shown(cid, Kind::Describe { portal }));
    }

    fn execute(&mut self, portal: &[u8], max_rows: i32) {
        let cid = self.id();
        let class = if portal.is_empty() {
            self.own_unnamed_portal();
            self.c.unnamed_portal.clone()
        } else {
            self.c.portals.get(portal).cloned()
        }
        .unwrap_or_else(|| Class::Plain(Default::default()));
        let server = portal.to_vec();
        match class {
            Class::Plain(p) => {
                if p.ddl {
                    self.s.deferrable = Deferrable::Unknown;
                }
                if let Some(prepared) = p.prepared {
                    self.prepared(&[prepared]);
                }
                self.c.copy_expected |= p.copy_in;
                let mut out = Vec::new();
                write::execute(&mut out, &server, max_rows);
                self.s.send(&out, Item::shown(cid, Kind::Execute));
            }
            special => self.special(
                special,
                Source::Extended {
                    portal: server,
                    max_rows,
                },
            ),
        }
    }

    fn close(&mut self, portal: bool, name: &[u8]) {
        let cid = self.id();
        let mine = if name.is_empty() {
            if portal {
                self.c.unnamed_portal = None;
                let mine = self.s.unnamed_portal == Some(cid);
                if mine {
                    self.s.unnamed_portal = None;
                }
                mine
            } else {
                self.c.unnamed = None;
                let mine = self.s.unnamed_statement == Some(cid);
                if mine {
                    self.s.unnamed_statement = None;
                }
                mine
            }
        } else {
            if portal {
                self.c.portals.remove(name);
            } else {
                self.c.statements.remove(name);
            }
            true
        };
        if mine {
            let mut out = Vec::new();
            let name = if portal {
                name.to_vec()
            } else {
                names::server(cid, name)
            };
            write::close(&mut out, portal, &name);
            self.s.send(&out, Item::shown(cid, Kind::Close));
        } else {
            let mut out = Vec::new();
            backend::close_complete(&mut out);
            self.s.synthetic(cid, out, Effect::None);
        }
    }

    /// Passes a statement the proxy looked at on to the server as it came.
    fn forward(&mut self, src: &Source<'_>, effect: Effect) {
        let cid = self.id();
        let mut out = Vec::new();
        let kind = match src {
            Source::Simple { text, .. } => {
                write::query(&mut out, text);
                Kind::Query
            }
            Source::Extended { portal, max_rows } => {
                write::execute(&mut out, portal, *max_rows);
                Kind::Execute
            }
        };
        self.s.send(&out, Item::shown(cid, kind).effect(effect));
    }

    fn special(&mut self, class: Class, src: Source<'_>) {
        let tag = class.tag();
        let state = self.c.predicted;
        let in_tx = matches!(state, Tx::Open | Tx::Failed);
        match class {
            Class::Plain(_) => self.forward(&src, Effect::None),
            _ if state == Tx::Failed && !matches!(class, Class::Commit { .. } | Class::Rollback { .. } | Class::RollbackTo(_) | Class::Test { .. }) => {
                self.refuse(Report::error("25P02", ABORTED));
            }
            Class::Begin { modes, .. } => {
                if in_tx {
                    self.notice("WARNING", "25001", "there is already a transaction in progress");
                    self.complete(tag, Effect::None);
                } else {
                    if modes {
                        self.notice(
                            "NOTICE",
                            "0A000",
                            "pgtmp --shared-tx: transaction modes (isolation level, READ ONLY, DEFERRABLE) \
                             are ignored: every connection shares one transaction",
                        );
                    }
                    self.complete(tag, Effect::Tx(Tx::Open));
                    self.c.predicted = Tx::Open;
                }
            }
            Class::Commit { chain } | Class::Rollback { chain } if !in_tx => {
                if chain {
                    let what = if tag == "COMMIT" { "COMMIT" } else { "ROLLBACK" };
                    self.refuse(Report::error(
                        "25P01",
                        format!("{what} AND CHAIN can only be used in transaction blocks"),
                    ));
                } else {
                    self.notice("WARNING", "25P01", "there is no transaction in progress");
                    self.complete(tag, Effect::None);
                }
            }
            Class::Commit { chain } if state == Tx::Open => self.commit(chain),
            Class::Commit { chain } | Class::Rollback { chain } => self.rollback(chain),
            Class::Savepoint(ref name) | Class::Release(ref name) | Class::RollbackTo(ref name) => {
                if name.starts_with(RESERVED_PREFIX) {
                    self.refuse(Report::error(
                        "0A000",
                        format!("savepoint names starting with \"{RESERVED_PREFIX}\" are reserved by pgtmp --shared-tx"),
                    ));
                } else if !in_tx {
                    let what = match class {
                        Class::Savepoint(_) => "SAVEPOINT",
                        Class::Release(_) => "RELEASE SAVEPOINT",
                        _ => "ROLLBACK TO SAVEPOINT",
                    };
                    self.refuse(Report::error("25P01", format!("{what} can only be used in transaction blocks")));
                } else {
                    let back = matches!(class, Class::RollbackTo(_));
                    if back {
                        self.s.settings_applied.clear();
                    }
                    let effect = if back && state == Tx::Failed { Effect::Tx(Tx::Open) } else { Effect::None };
                    self.forward(&src, effect);
                    if back {
                        self.c.predicted = Tx::Open;
                    }
                }
            }
            Class::PrepareTransaction => self.refuse(Report::error(
                "0A000",
                "PREPARE TRANSACTION is not available with pgtmp --shared-tx: every connection shares one transaction",
            )),
            Class::DeallocateAll => {
                let cid = self.id();
                for name in std::mem::take(&mut self.c.statements).into_keys() {
                    write::close(self.s.conn.out(), false, &names::server(cid, &name));
                    self.s.expect(Item::hidden(Some(cid), Kind::Close));
                }
                self.complete(tag, Effect::None);
            }
            Class::DiscardAll if in_tx => {
                self.refuse(Report::error("25001", "DISCARD ALL cannot run inside a transaction block"))
            }
            Class::DiscardAll => self.discard_all(),
            Class::SetTransaction => {
                if in_tx {
                    self.notice(
                        "NOTICE",
                        "0A000",
                        "pgtmp --shared-tx: SET TRANSACTION is ignored: every connection shares one transaction",
                    );
                } else {
                    self.notice("WARNING", "25P01", "SET TRANSACTION can only be used in transaction blocks");
                }
                self.complete(tag, Effect::None);
            }
            Class::Declare { hold: true, .. } => self.forward(&src, Effect::None),
            Class::Declare { ref name, .. } | Class::Lock { ref name } => {
                let alone = matches!(src, Source::Extended { .. } | Source::Simple { alone: true, .. });
                let cursor = matches!(class, Class::Declare { .. });
                if !in_tx && alone {
                    let what = if cursor { "DECLARE CURSOR" } else { "LOCK TABLE" };
                    self.refuse(Report::error("25P01", format!("{what} can only be used in transaction blocks")));
                } else {
                    // A cursor ends with the transaction, which the proxy
                    // only releases: closed then, like a portal.
                    if cursor {
                        self.c.portals.insert(name.as_bytes().to_vec(), Class::Plain(Default::default()));
                    }
                    self.forward(&src, Effect::None);
                }
            }
            Class::Test { begin, name } => self.test(begin, name),
        }
    }

    fn commit(&mut self, chain: bool) {
        let cid = Some(self.id());
        self.close_portals();
        self.check(Some(Tx::Guarded));
        self.s.command(cid, stmt::RELEASE, Effect::Tx(Tx::Idle));
        self.refresh();
        self.complete("COMMIT", Effect::None);
        self.c.predicted = Tx::Idle;
        if chain {
            self.s.command(cid, stmt::SAVEPOINT, Effect::Tx(Tx::Open));
            self.c.predicted = Tx::Open;
        }
    }

    fn rollback(&mut self, chain: bool) {
        let cid = Some(self.id());
        self.c.portals.clear();
        self.c.unnamed_portal = None;
        self.s.close_unnamed_portal(cid);
        self.s.command(cid, stmt::ROLLBACK_TO, Effect::None);
        self.s.command(cid, stmt::RELEASE, Effect::Tx(Tx::Idle));
        self.s.settings_applied.clear();
        self.complete("ROLLBACK", Effect::None);
        self.c.predicted = Tx::Idle;
        if chain {
            self.s.command(cid, stmt::SAVEPOINT, Effect::Tx(Tx::Open));
            self.c.predicted = Tx::Open;
        }
    }

    /// DISCARD ALL for this client only: its statements and portals
    /// closed, its parameters back to what it started with.
    fn discard_all(&mut self) {
        let cid = self.id();
        for name in std::mem::take(&mut self.c.statements).into_keys() {
            write::close(self.s.conn.out(), false, &names::server(cid, &name));
            self.s.expect(Item::hidden(Some(cid), Kind::Close));
        }
        self.close_portals();
        let startup = self.c.startup_view.clone();
        let mut out = Vec::new();
        for (name, value) in &startup {
            if self.c.view.get(name) != Some(value) {
                backend::parameter_status(&mut out, name, value);
            }
        }
        let before = std::mem::replace(&mut self.c.view, startup);
        out.extend_from_slice(&{
            let mut cc = Vec::new();
            backend::command_complete(&mut cc, "DISCARD ALL");
            cc
        });
        self.s.synthetic(cid, out, Effect::None);
        // The startup values, in place for the rest of the batch.
        self.switch(Some(&before), false);
    }

    /// `BEGIN TEST` / `ROLLBACK TEST` / `pgtmp rollback`: the shared
    /// transaction rolled back to the hand-out (or the last rollback) and
    /// begun again; every client starts afresh, still connected.
    fn test(&mut self, begin: bool, name: Option<String>) {
        let cid = Some(self.id());
        self.s.command(cid, stmt::ROLLBACK, Effect::None);
        self.s.command(cid, stmt::BEGIN, Effect::Reset);
        self.s.test = name;
        self.s.deferrable = Deferrable::Unknown;
        self.s.settings_applied.clear();
        self.complete(if begin { "BEGIN" } else { "ROLLBACK" }, Effect::None);
        self.c.portals.clear();
        self.c.unnamed_portal = None;
        // Put this client's parameters back at once, so the server does
        // not report the rolled back values to it: after the rollback, the
        // values are those the session started with.
        let defaults = self.s.defaults.clone();
        self.switch(Some(&defaults), true);
        let guard = Item::hidden(cid, Kind::Execute).effect(Effect::Tx(Tx::Guarded));
        self.s.run(cid, stmt::SAVEPOINT, &[], guard);
        self.c.predicted = Tx::Guarded;
    }
}
