//! The client side of every measurement: the `postgres` crate connecting
//! with the URL exactly as printed, and one `select 1`.
//!
//! Both URL forms pgtmp prints parse with tokio-postgres as they are: in
//! `postgresql:///test?host=%2Fdir` the decoded `host` query parameter
//! starts with `/` and becomes a Unix-socket directory (port 5432 when none
//! is given); the user defaults to the OS user, the role's name.
//! `self_check` verifies that at start-up rather than trusting it.

use std::time::Duration;

use postgres::config::Host;
use postgres::{Client, Config, NoTls, SimpleQueryMessage};

const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Connects and runs `select 1` (simple protocol: one round trip, as psql
/// does). The open client is returned so closing it stays outside the timing.
pub fn select1(url: &str) -> Result<Client, String> {
    let mut config: Config = url.parse().map_err(|e| format!("parsing {url}: {e}"))?;
    config.connect_timeout(CONNECT_TIMEOUT);
    let mut client = config
        .connect(NoTls)
        .map_err(|e| format!("connecting to {url}: {e}"))?;
    let answer = client
        .simple_query("select 1")
        .map_err(|e| format!("select 1 on {url}: {e}"))?;
    let one = answer.iter().find_map(|m| match m {
        SimpleQueryMessage::Row(row) => row.get(0),
        _ => None,
    });
    match one {
        Some("1") => Ok(client),
        _ => Err(format!("select 1 on {url}: answered {one:?}")),
    }
}

/// Problems the client library has with the URL forms in the contract.
pub fn self_check() -> Vec<String> {
    let mut problems = Vec::new();
    let socket = "postgresql:///test?host=%2Fdev%2Fshm%2Fpgtmp-0%2Frun%2Fa%20b";
    match socket.parse::<Config>() {
        Ok(c) => {
            let dir = std::path::PathBuf::from("/dev/shm/pgtmp-0/run/a b");
            if c.get_hosts() != [Host::Unix(dir)] || c.get_dbname() != Some("test") {
                problems.push(format!("socket URL parsed as {c:?}"));
            }
        }
        Err(e) => problems.push(format!("socket URL does not parse: {e}")),
    }
    let tcp = "postgresql://root:Ab12cD@127.0.0.1:54321/test?sslmode=disable";
    match tcp.parse::<Config>() {
        Ok(c) => {
            if c.get_hosts() != [Host::Tcp("127.0.0.1".into())]
                || c.get_ports() != [54321]
                || c.get_password() != Some(b"Ab12cD".as_slice())
            {
                problems.push(format!("TCP URL parsed as {c:?}"));
            }
        }
        Err(e) => problems.push(format!("TCP URL does not parse: {e}")),
    }
    problems
}
