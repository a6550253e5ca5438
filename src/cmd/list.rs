//! `pgtmp list [--json] [--standbys]`: this user's running instances, or
//! the standbys started ahead for them.

use std::io::IsTerminal;
use std::time::Duration;

use serde_json::{Value, json};

use super::print;
use crate::cli::GlobalArgs;
use crate::config::Config;
use crate::error::Result;
use crate::instance::{Meta, State, meta, registry};

pub fn run(json: bool, standbys: bool, global: &GlobalArgs) -> Result<()> {
    let config = Config::resolve(global)?;
    config.enter()?;
    let rows: Vec<Value> = registry::live(&config.layout, false)
        .into_iter()
        .filter(|(_, m)| m.standby.is_some() == standbys)
        .map(|(dir, m)| row(&dir, &m))
        .collect();
    if json {
        let text = serde_json::to_string_pretty(&rows).expect("rows serialize");
        return print(&format!("{text}\n"));
    }
    let mut out = String::new();
    if std::io::stdout().is_terminal() {
        out.push_str("URL\tPID\tAGE\tIDLE\tCLIENTS\tDIR\n");
    }
    for r in &rows {
        let secs = |v: &Value| {
            v.as_u64()
                .map(|s| humantime::format_duration(Duration::from_secs(s)).to_string())
                .unwrap_or_else(|| "-".into())
        };
        out.push_str(&format!(
            "{}\t{}\t{}\t{}\t{}\t{}\n",
            r["url"].as_str().unwrap_or(""),
            r["pid"]
                .as_u64()
                .map(|p| p.to_string())
                .unwrap_or_else(|| "-".into()),
            secs(&r["age_secs"]),
            secs(&r["idle_secs"]),
            r["clients"],
            r["dir"].as_str().unwrap_or(""),
        ));
    }
    print(&out)
}

fn row(dir: &std::path::Path, m: &Meta) -> Value {
    let state = State::read(dir).unwrap_or_default();
    let now_ms = meta::now_ms();
    let idle = state
        .idle_since_ms
        .map(|since| now_ms.saturating_sub(since) / 1000);
    json!({
        "url": m.url,
        "pid": registry::postmaster_pid(&m.data_dir),
        "supervisor_pid": m.supervisor_pid,
        "port": m.port,
        "tcp": m.tcp,
        "started": m.started,
        "age_secs": (now_ms / 1000).saturating_sub(m.started),
        "idle_secs": idle,
        "clients": state.clients,
        "dir": dir,
        "data_dir": m.data_dir,
        "keep": m.keep,
        "timeout_secs": m.timeout_ms / 1000,
        "standby": m.standby.is_some(),
    })
}
