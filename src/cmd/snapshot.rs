//! `pgtmp snapshot URL NAME | --list [--json] | --delete NAME`.

use std::time::Duration;

use super::{options, print_table};
use crate::cli::{GlobalArgs, SnapshotArgs};
use crate::config::Config;
use crate::error::Result;
use crate::json::SnapshotEntry;

pub fn run(args: &SnapshotArgs, global: &GlobalArgs) -> Result<()> {
    let config = Config::resolve(&options(global))?;
    if let Some(name) = &args.delete {
        return crate::delete_snapshot(&config, name);
    }
    if args.list {
        return list(&config, args.json);
    }
    match (&args.url, &args.name) {
        (Some(url), Some(name)) => crate::snapshot(&config, url, name),
        _ => unreachable!("clap requires URL and NAME, --list or --delete"),
    }
}

fn list(config: &Config, json: bool) -> Result<()> {
    let rows = crate::snapshots(config)?;
    let header = "NAME\tAGE\tUNUSED\tSIZE\tVERSION\tSOURCE\n";
    print_table(&rows, json, header, row)
}

/// One tab-separated line.
fn row(r: &SnapshotEntry) -> String {
    let secs = |s: u64| humantime::format_duration(Duration::from_secs(s)).to_string();
    format!(
        "{}\t{}\t{}\t{:.1} MiB\t{}\t{}\n",
        r.name,
        secs(r.age_secs),
        secs(r.unused_secs),
        r.bytes as f64 / (1024.0 * 1024.0),
        r.version,
        r.source,
    )
}
