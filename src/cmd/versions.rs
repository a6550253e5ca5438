//! `pgtmp versions [--json]`: the PostgreSQL installations pgtmp can use,
//! newest first, and which one it would take; unusable ones are named on
//! stderr with the reason.

use std::io::IsTerminal;

use super::{options, print};
use crate::cli::GlobalArgs;
use crate::config::Config;
use crate::error::Result;
use crate::json::Installation;

pub fn run(json: bool, global: &GlobalArgs) -> Result<()> {
    let config = Config::resolve(&options(global))?;
    let found = crate::versions(&config)?;
    for (dir, why) in &found.unusable {
        crate::say!(
            "pgtmp: skipping {}: {}",
            dir.display(),
            why.replace('\n', " ")
        );
    }
    if json {
        let text = serde_json::to_string_pretty(&found.installations).expect("rows serialize");
        print(&format!("{text}\n"))?;
    } else {
        print(&text(&found.installations))?;
    }
    // None to use (none at all, or none of `--pg-version`).
    found.no_default.map_or(Ok(()), Err)
}

/// Tab-separated rows, with a header on a terminal.
fn text(rows: &[Installation]) -> String {
    let mut out = String::new();
    if std::io::stdout().is_terminal() {
        out.push_str("VERSION\tBINDIR\tTOOLS\tDEFAULT\n");
    }
    for r in rows {
        let tools = if r.tools.is_empty() {
            "-".to_string()
        } else {
            r.tools.join(",")
        };
        out.push_str(&format!(
            "{}\t{}\t{tools}\t{}\n",
            r.version,
            r.bindir.display(),
            if r.default { "default" } else { "-" }
        ));
    }
    out
}
