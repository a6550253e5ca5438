//! How the servers of a set (`--replicas`) run together: the settings each
//! gets on its command line for its role, and the `standby.signal` that
//! makes a server a replica.
//!
//! Every server of a set is a copy of the same template: replicas share the
//! primary's system identifier and start at the very checkpoint it started
//! at, so a replica only needs the WAL the primary wrote since (which
//! `wal_keep_size` keeps) and no `pg_basebackup`. A replica connects to the
//! primary's second socket directory (its `stream_dir`), as the set's
//! superuser, which pg_hba.conf trusts on the socket; the directory is
//! private to the account all servers run as. Settings go on the command
//! line, after the user's `-o`, so they win, and so they change with the
//! roles at the next start without touching any file.
//! <https://www.postgresql.org/docs/current/warm-standby.html>

use std::fs;

use super::meta::Meta;
use super::server::{Role, Server};
use crate::error::{Error, Result};
use crate::url;

/// The file that makes a server start as a standby (PostgreSQL 12+).
pub const STANDBY_SIGNAL: &str = "standby.signal";

/// How soon, in milliseconds, a replica tries its primary again. The set's
/// primary is never down for long (a crash ends the set), so this costs a
/// few log lines at most.
const RETRY_MS: u32 = 50;

/// The oldest PostgreSQL with `standby.signal` and `primary_conninfo` as a
/// setting.
pub const MIN_MAJOR: u32 = 12;

/// pgtmp's settings for `server`, in the role it is to start in; none for
/// a server on its own.
pub fn settings(meta: &Meta, role: Role, server: &Server) -> Vec<String> {
    if !meta.is_set() {
        return Vec::new();
    }
    let mut settings = vec![format!("cluster_name={}", server.name)];
    if meta.sync {
        // On a replica these do nothing; after a promotion they are what
        // the new primary needs, naming every other server.
        let others: Vec<&str> = meta
            .servers()
            .filter(|(_, s)| s.name != server.name)
            .map(|(_, s)| s.name.as_str())
            .collect();
        settings.push(format!(
            "synchronous_standby_names=FIRST {} ({})",
            others.len(),
            others.join(", ")
        ));
        settings.push("synchronous_commit=remote_apply".into());
    }
    if role == Role::Replica {
        settings.push(format!("primary_conninfo={}", conninfo(meta, server)));
        // Readiness is "accepts connections"; without hot standby a
        // replica never does.
        settings.push("hot_standby=on".into());
        // How soon a replica tries again when the primary cannot be
        // reached: when it starts before its primary is ready, and when a
        // promotion is asked after the primary stopped (the startup
        // process sleeps this long before it looks, 5 s by default).
        settings.push(format!("wal_retrieve_retry_interval={RETRY_MS}ms"));
    }
    settings
}

/// How `replica` reaches the primary: its stream socket, as the superuser,
/// named so that `pg_stat_replication` and `synchronous_standby_names`
/// know it.
fn conninfo(meta: &Meta, replica: &Server) -> String {
    let primary = &meta.primary;
    let host = primary.stream_dir.as_deref().unwrap_or(&primary.socket_dir);
    let pairs = [
        ("host", host.to_string_lossy().into_owned()),
        ("port", primary.port.to_string()),
        ("user", meta.role.clone()),
        ("application_name", replica.name.clone()),
    ];
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={}", url::quote_value(v)))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Makes the data directory of `server` start as `role`: a replica has a
/// `standby.signal`; a primary has none (PostgreSQL removes it when it
/// promotes).
pub fn prepare(role: Role, server: &Server) -> Result<()> {
    let signal = server.data_dir.join(STANDBY_SIGNAL);
    match role {
        Role::Replica => fs::write(&signal, "").map_err(Error::io("create", &signal)),
        Role::Primary => match fs::remove_file(&signal) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(Error::io("remove", &signal)(e)),
        },
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    fn server(name: &str, dir: &str) -> Server {
        Server {
            name: name.into(),
            port: 5432,
            socket_dir: PathBuf::from(dir),
            stream_dir: Some(PathBuf::from(format!("{dir}/stream"))),
            ..Server::default()
        }
    }

    fn set(sync: bool) -> Meta {
        Meta {
            role: "o'neil".into(),
            primary: server("node0", "/r/a b"),
            replicas: vec![server("node1", "/r/n1"), server("node2", "/r/n2")],
            sync,
            ..Meta::default()
        }
    }

    #[test]
    fn a_single_server_gets_nothing() {
        let m = Meta {
            primary: server("", "/r"),
            ..Meta::default()
        };
        assert!(settings(&m, Role::Primary, &m.primary).is_empty());
    }

    #[test]
    fn replicas_stream_from_the_primarys_stream_socket() {
        let m = set(false);
        let s = settings(&m, Role::Replica, &m.replicas[0]);
        assert_eq!(
            s,
            [
                "cluster_name=node1",
                r"primary_conninfo=host='/r/a b/stream' port=5432 user='o\'neil' application_name=node1",
                "hot_standby=on",
                "wal_retrieve_retry_interval=50ms",
            ]
        );
        assert_eq!(
            settings(&m, Role::Primary, &m.primary),
            ["cluster_name=node0"]
        );
    }

    #[test]
    fn sync_names_every_other_server() {
        let m = set(true);
        let s = settings(&m, Role::Primary, &m.primary);
        assert!(
            s.contains(&"synchronous_standby_names=FIRST 2 (node1, node2)".to_string()),
            "{s:?}"
        );
        assert!(s.contains(&"synchronous_commit=remote_apply".to_string()));
        let r = settings(&m, Role::Replica, &m.replicas[1]);
        assert!(
            r.contains(&"synchronous_standby_names=FIRST 2 (node0, node1)".to_string()),
            "{r:?}"
        );
    }
}
