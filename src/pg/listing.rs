//! What `pgtmp versions --json` prints of each installation: a contract
//! that scripts and pgtmp's own tests read through this very type.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::{Discovery, Tool, Version};

/// One installation pgtmp can use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Listed {
    /// As its `postgres --version` says: `15.14`.
    pub version: Version,
    pub major: u32,
    pub bindir: PathBuf,
    /// The client programs in the same directory, of `psql`, `pg_dump`,
    /// `pg_restore` and `pg_basebackup`.
    pub tools: Vec<String>,
    /// The one pgtmp uses with the same options and environment.
    pub default: bool,
    /// Where it was found: `--pg-bindir`, `PGTMP_PG_BINDIR`, `pg_config`,
    /// `PATH`, `PGTMP_PG_PATH`, or a usual install place.
    pub found_by: String,
}

/// The rows of a discovery: newest version first, equal versions in the
/// order they were found.
pub fn rows(all: &Discovery) -> Vec<Listed> {
    let mut rows: Vec<Listed> = all
        .found
        .iter()
        .enumerate()
        .map(|(i, f)| Listed {
            version: f.install.version.clone(),
            major: f.install.version.major,
            bindir: f.install.bindir.clone(),
            tools: Tool::ALL
                .iter()
                .filter(|t| f.install.has(**t))
                .map(|t| t.name().to_string())
                .collect(),
            default: all.chosen == Some(i),
            found_by: f.found_by.clone(),
        })
        .collect();
    rows.sort_by(|a, b| b.version.cmp(&a.version));
    rows
}
