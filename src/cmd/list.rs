//! `pgtmp list [--json] [--spares | --clients]`: this user's running
//! instances, the spares started ahead for them, or the clients of the
//! `--shared-tx` ones. A set (`--replicas`) is a row per server, its
//! primary's first.

use std::io::IsTerminal;
use std::time::Duration;

use super::{options, print};
use crate::cli::GlobalArgs;
use crate::config::Config;
use crate::error::Result;
use crate::json::ListEntry;

pub fn run(json: bool, spares: bool, clients: bool, global: &GlobalArgs) -> Result<()> {
    let config = Config::resolve(&options(global))?;
    let rows = crate::list(&config, spares)?;
    if json {
        let text = serde_json::to_string_pretty(&rows).expect("rows serialize");
        return print(&format!("{text}\n"));
    }
    let mut out = String::new();
    if clients {
        if std::io::stdout().is_terminal() {
            out.push_str("URL\tPID\tUSER\tDATABASE\tAPPLICATION\tSTATE\tADDRESS\n");
        }
        for r in &rows {
            for c in r.shared_tx.iter().flat_map(|s| &s.clients) {
                out.push_str(&format!(
                    "{}\t{}\t{}\t{}\t{}\t{}\t{}\n",
                    r.url, c.pid, c.user, c.database, c.application_name, c.state, c.addr
                ));
            }
        }
        return print(&out);
    }
    if std::io::stdout().is_terminal() {
        out.push_str("URL\tPID\tAGE\tIDLE\tCLIENTS\tDIR\n");
    }
    for r in &rows {
        out.push_str(&row(r));
    }
    print(&out)
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
