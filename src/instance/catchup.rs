//! Whether the replicas of a set have caught up with the primary: the WAL
//! position the primary has written (`pg_current_wal_lsn()`) against what
//! each replica has replayed (`pg_last_wal_replay_lsn()`), asked of each
//! replica itself rather than of `pg_stat_replication`, which only learns
//! it from the replicas' next status message. Polled every few
//! milliseconds, not every second.
//! <https://www.postgresql.org/docs/current/functions-admin.html#FUNCTIONS-RECOVERY-CONTROL>

use std::time::{Duration, Instant};

use postgres::Client;

use super::client;
use super::meta::Meta;
use super::server::{Role, Server};
use crate::error::{Error, Result};

/// The longest pause between two looks.
const MAX_PAUSE: Duration = Duration::from_millis(10);

/// What a replica must have done to count as caught up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// Replayed the target.
    Replayed,
    /// Replayed it, and streams from the primary right now: what a set
    /// just started, restarted or switched over must do before its URLs
    /// are handed out.
    Streaming,
}

/// Waits until every replica of `meta` has replayed what the primary had
/// written when this was called, for at most `timeout` (None: no limit);
/// `cancelled` is asked between looks.
pub fn wait(
    meta: &Meta,
    need: Need,
    timeout: Option<Duration>,
    cancelled: &dyn Fn() -> bool,
) -> Result<()> {
    if !meta.is_set() {
        return Ok(());
    }
    let started = Instant::now();
    let target = written(meta)?;
    for replica in &meta.replicas {
        wait_for(meta, replica, &target, need, started, timeout, cancelled)?;
    }
    Ok(())
}

/// The primary's current WAL write position.
fn written(meta: &Meta) -> Result<String> {
    let mut primary = connect(meta, &meta.primary, "connect to the primary")?;
    let row = one_row(
        &mut primary,
        "SELECT pg_current_wal_lsn()::text",
        &[],
        "read the primary's WAL position",
    )?;
    Ok(row.get(0))
}

fn wait_for(
    meta: &Meta,
    replica: &Server,
    target: &str,
    need: Need,
    started: Instant,
    timeout: Option<Duration>,
    cancelled: &dyn Fn() -> bool,
) -> Result<()> {
    let mut client = connect(meta, replica, "connect to a replica")?;
    let mut pause = Duration::from_micros(500);
    loop {
        let row = one_row(
            &mut client,
            "SELECT coalesce((SELECT status = 'streaming' FROM pg_stat_wal_receiver), false), \
                    coalesce(pg_last_wal_replay_lsn() >= $1::text::pg_lsn, false), \
                    coalesce(pg_last_wal_replay_lsn()::text, 'nothing')",
            &[&target],
            "read a replica's replay position",
        )?;
        let (streaming, replayed): (bool, bool) = (row.get(0), row.get(1));
        if replayed && (streaming || need == Need::Replayed) {
            return Ok(());
        }
        let late = timeout.is_some_and(|t| started.elapsed() >= t);
        if late || cancelled() {
            return Err(Error::NotCaughtUp {
                node: replica.name.clone(),
                url: meta.node_url(Role::Replica, replica),
                replayed: row.get(2),
                target: target.to_string(),
                streaming,
                waited: started.elapsed(),
            });
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(MAX_PAUSE);
    }
}

/// Waits until `server`, asked to promote itself, accepts writes (it has
/// left recovery), for at most `timeout`.
pub fn wait_promoted(
    meta: &Meta,
    server: &Server,
    timeout: Duration,
    cancelled: &dyn Fn() -> bool,
) -> Result<()> {
    let started = Instant::now();
    let mut client = connect(meta, server, "connect to the server being promoted")?;
    let mut pause = Duration::from_micros(500);
    loop {
        let row = one_row(
            &mut client,
            "SELECT pg_is_in_recovery()",
            &[],
            "ask the server being promoted whether it is done",
        )?;
        if !row.get::<_, bool>(0) {
            return Ok(());
        }
        if started.elapsed() >= timeout || cancelled() {
            return Err(Error::NotPromoted {
                node: server.name.clone(),
                secs: timeout.as_secs(),
            });
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(MAX_PAUSE);
    }
}

/// The one row `sql` returns; `action` names it in the error.
fn one_row(
    client: &mut Client,
    sql: &str,
    params: &[&(dyn postgres::types::ToSql + Sync)],
    action: &'static str,
) -> Result<postgres::Row> {
    client
        .query_one(sql, params)
        .map_err(|source| Error::Sql { action, source })
}

/// A connection to one server of the set over its private socket.
pub fn connect(meta: &Meta, server: &Server, action: &'static str) -> Result<Client> {
    client::connect_at(
        &server.socket_dir,
        server.port,
        &meta.role,
        "postgres",
        action,
    )
}
