//! What the proxy expects back from the server, in order: one item per
//! message it sent that the server answers (or skips after an error), plus
//! the replies it makes up itself, queued in their place. Each item says
//! whose reply it is, whether the client sees it, and how the client's
//! transaction state changes when it completes or fails. Applying state
//! changes in reply order, not when sending, is what keeps a pipelined
//! batch right when a statement in its middle fails.

use super::ClientId;
use crate::proxy::wire::backend::Report;

/// A client's transaction, as the client sees it, over the savepoint
/// `pgtmp_x` that stands for it in the shared transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Tx {
    /// No transaction, no savepoint.
    #[default]
    Idle,
    /// No transaction; `pgtmp_x` guards the statements being run, so
    /// that an error undoes only them (an implicit transaction).
    Guarded,
    /// In a transaction that began with `pgtmp_x`.
    Open,
    /// In a transaction that failed: the shared one is aborted until the
    /// client rolls back (to `pgtmp_x` or to one of its own savepoints).
    Failed,
}

impl Tx {
    /// The ReadyForQuery status the client gets.
    pub fn status(self) -> u8 {
        match self {
            Tx::Idle | Tx::Guarded => b'I',
            Tx::Open => b'T',
            Tx::Failed => b'E',
        }
    }
}

/// What the server sends for an item, and what ends it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    Parse,
    Bind,
    Close,
    /// ParameterDescription (statements only), then RowDescription or NoData.
    Describe {
        portal: bool,
    },
    /// Rows, COPY, then CommandComplete, EmptyQueryResponse or PortalSuspended.
    Execute,
    /// A simple Query: everything up to its ReadyForQuery, which the client
    /// never sees (its own comes from the Sync that follows).
    Query,
    /// A FunctionCall: its result, then a ReadyForQuery kept like a Query's.
    Function,
    Sync(AtSync),
    /// Bytes for the client, sent when the item comes up.
    Synthetic(Vec<u8>),
    /// An error the proxy raises itself; like a server error, it is the
    /// one error of its batch.
    Refusal(Report),
    /// A hidden query whose one row the proxy reads.
    Capture(Capture),
}

/// What a ReadyForQuery ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AtSync {
    /// The client's batch: its own ReadyForQuery.
    Client,
    /// Work of the proxy; an aborted shared transaction here is a fault.
    Hidden,
    /// A client's startup settings were applied (or refused).
    Settled,
    /// A failed batch (or startup) of the client was undone: now its
    /// ReadyForQuery (or the outcome of its startup).
    Cleaned { settled: bool },
    /// A departed client's statements are closed and its transaction gone.
    Departed,
}

/// Rows the proxy reads from hidden queries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Capture {
    /// The deferrable constraints: which are initially deferred.
    Deferrable,
    /// A startup setting: its value before, and as set.
    Setting(String),
}

/// What completing an item changes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Effect {
    #[default]
    None,
    /// The client's transaction is now this.
    Tx(Tx),
    /// `BEGIN` after the shared transaction was rolled back: every client
    /// starts afresh.
    Reset,
    /// The server session is set up: clients may join.
    Ready,
}

/// Who sees a failing item's error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Errors {
    /// The client, as the one error of its batch.
    Show,
    /// Nobody: it can only follow an error the client already has (a
    /// barrier after a failed statement, the deliberate failure after a
    /// refusal).
    Hide,
}

#[derive(Debug, Clone)]
pub struct Item {
    pub client: Option<ClientId>,
    pub kind: Kind,
    /// Forward the server's replies to the client.
    pub show: bool,
    pub errors: Errors,
    pub effect: Effect,
    /// The client's transaction after an error here; None: the default
    /// (a transaction fails, a guard stays to be rolled back).
    pub on_error: Option<Tx>,
    /// Forward ParameterStatus and notices to the client even if hidden.
    pub notify: bool,
    /// When done, continue the client's paused work (after a COPY).
    pub resume: bool,
    /// An error was seen while the item ran (Query, Function).
    pub failed: bool,
}

impl Item {
    /// A reply the client sees.
    pub fn shown(client: ClientId, kind: Kind) -> Item {
        Item {
            client: Some(client),
            kind,
            show: true,
            errors: Errors::Show,
            effect: Effect::None,
            on_error: None,
            notify: false,
            resume: false,
            failed: false,
        }
    }

    /// A reply to the proxy's own message, on behalf of `client`.
    pub fn hidden(client: Option<ClientId>, kind: Kind) -> Item {
        Item {
            show: false,
            ..Item::shown(0, kind)
        }
        .on_behalf(client)
    }

    fn on_behalf(mut self, client: Option<ClientId>) -> Item {
        self.client = client;
        self
    }

    pub fn effect(mut self, effect: Effect) -> Item {
        self.effect = effect;
        self
    }

    pub fn errors(mut self, errors: Errors) -> Item {
        self.errors = errors;
        self
    }

    pub fn notify(mut self) -> Item {
        self.notify = true;
        self
    }

    pub fn resume(mut self) -> Item {
        self.resume = true;
        self
    }

    /// A server message answers nothing: a synthetic item's bytes.
    pub fn is_synthetic(&self) -> bool {
        matches!(self.kind, Kind::Synthetic(_) | Kind::Refusal(_))
    }

    /// Kinds whose statement may run long: what a cancel may interrupt.
    pub fn runs(&self) -> bool {
        matches!(self.kind, Kind::Execute | Kind::Query | Kind::Function)
    }
}
