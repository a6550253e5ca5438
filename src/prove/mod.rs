//! `pgtmp prove`: pgTAP test files, each in a database of its own, run in
//! parallel and reported as pg_prove reports them.
//!
//! `discover` and `state` pick the files; `runner` runs them (`execute`:
//! in-process through `crate::psql`, or by psql), feeding each file's
//! output to its `parser` (TAP as TAP::Parser reads it, `tap` for the
//! lines); `console` prints each finished file as pg_prove does,
//! `summary` the `Test Summary Report` and verdict; `junit` and `json`
//! write the machine-readable reports. Nothing here prints: `cmd::prove`
//! does.

pub mod console;
pub mod discover;
pub mod execute;
pub mod janitor;
pub mod json;
pub mod junit;
pub mod outcome;
pub mod parser;
pub mod prepare;
pub mod runner;
pub mod state;
pub mod summary;
pub mod tap;

use std::path::Path;

use crate::error::{Error, Result};

/// Writes a report file whole: a temporary file next to it, renamed.
pub fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.tmp-{}", std::process::id()));
    std::fs::write(&tmp, bytes).map_err(Error::io("write", &tmp))?;
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        Error::io("write", path)(e)
    })
}
