//! `pgtmp list [--json] [--spares | --clients]`: this user's running
//! instances, the spares started ahead for them, or the clients of the
//! `--shared-tx` ones. A set (`--replicas`) is a row per server, its
//! primary's first.

use std::time::Duration;

use super::{options, print_table};
use crate::cli::GlobalArgs;
use crate::config::Config;
use crate::error::Result;
use crate::json::{ListEntry, SharedTxClient};

pub fn run(json: bool, spares: bool, clients: bool, global: &GlobalArgs) -> Result<()> {
    let config = Config::resolve(&options(global))?;
    let rows = crate::list(&config, spares)?;
    if clients && !json {
        let header = "URL\tPID\tUSER\tDATABASE\tAPPLICATION\tSTATE\tADDRESS\n";
        let pairs: Vec<(&str, &SharedTxClient)> = rows
            .iter()
            .flat_map(|r| {
                let clients = r.shared_tx.iter().flat_map(|s| &s.clients);
                clients.map(|c| (r.url.as_str(), c))
            })
            .collect();
        return print_table(&pairs, false, header, |(url, c)| {
            format!(
                "{url}\t{}\t{}\t{}\t{}\t{}\t{}\n",
                c.pid, c.user, c.database, c.application_name, c.state, c.addr
            )
        });
    }
    let header = "URL\tPID\tAGE\tIDLE\tCLIENTS\tDIR\n";
    print_table(&rows, json, header, row)
}

/// One tab-separated line per server; a set's share all but URL and PID.
fn row(r: &ListEntry) -> String {
    let secs = |s: Option<u64>| {
        s.map(|s| humantime::format_duration(Duration::from_secs(s)).to_string())
            .unwrap_or_else(|| "-".into())
    };
    let servers: Vec<(&str, Option<u32>)> = if r.nodes.len() > 1 {
        r.nodes.iter().map(|n| (n.url.as_str(), n.pid)).collect()
    } else {
        vec![(r.url.as_str(), r.pid)]
    };
    servers
        .into_iter()
        .map(|(url, pid)| {
            format!(
                "{}\t{}\t{}\t{}\t{}\t{}\n",
                url,
                pid.map_or_else(|| "-".into(), |p| p.to_string()),
                secs(Some(r.age_secs)),
                secs(r.idle_secs),
                r.clients,
                r.dir.display(),
            )
        })
        .collect()
}
