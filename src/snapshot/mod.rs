//! Snapshots: the databases of a running instance saved under a name of
//! the user's (`pgtmp snapshot URL NAME`), handed out again as copies
//! (`pgtmp --from NAME`) with the usual pool and spares.
//!
//! A snapshot is a template like any other, under a key of its own (`n`
//! and 128 random-looking bits, new each time a name is taken again, so
//! that pool entries and spares of the older one never serve the newer),
//! plus a record `BASE/snapshots/NAME.json` that names the key. Names are
//! per user because base directories are. Taking one again replaces the
//! record in one rename; instances handed out from the older one keep it
//! as the state `reset` returns them to, until gc sees none left.
//!
//! Snapshots survive `gc` and `gc --all`; one that nobody took, handed
//! out or reset to for [`UNUSED`] is removed, as is one `--delete`d.

pub mod take;

use std::fs;
use std::path::Path;
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result, SnapshotProblem};
use crate::fixture::{field, hex};
use crate::instance::meta::{now_secs, write_atomic};
use crate::json::SnapshotEntry;
use crate::lock;
use crate::paths::{self, Layout};
use crate::pool::retire;

/// Snapshot template keys start with this.
pub const KEY_PREFIX: char = 'n';

/// A snapshot nobody used for this long is removed by gc.
pub const UNUSED: Duration = Duration::from_secs(30 * 24 * 60 * 60);

/// The longest name.
const MAX_NAME: usize = 64;

/// What `BASE/snapshots/NAME.json` says.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Record {
    pub name: String,
    /// The key of its template.
    pub key: String,
    /// When it was taken, Unix seconds.
    pub taken: u64,
    /// The URL of the instance it was taken from, without a password.
    pub source: String,
}

/// Checks a snapshot name: letters and digits of any script, `-` and `_`,
/// 1 to 64 characters, not starting with `-` (it would read as an option).
/// So no `/`, no `.` (no `..`, no hidden names), no space, no control
/// character: a name is always one plain file name.
pub fn check_name(name: &str) -> Result<()> {
    let bad = |why| {
        Err(Error::Snapshot(SnapshotProblem::BadName {
            name: name.to_string(),
            why,
        }))
    };
    if name.is_empty() {
        return bad("it is empty");
    }
    if name.chars().count() > MAX_NAME {
        return bad("it is longer than 64 characters");
    }
    if name.starts_with('-') {
        return bad("it starts with `-`");
    }
    if let Some(c) = name
        .chars()
        .find(|&c| !(c.is_alphanumeric() || c == '-' || c == '_'))
    {
        return match c {
            '/' => bad("it holds a `/`"),
            '.' => bad("it holds a `.`"),
            c if c.is_control() => bad("it holds a control character"),
            c if c.is_whitespace() => bad("it holds a space"),
            _ => bad("it holds a character other than letters, digits, `-` and `_`"),
        };
    }
    Ok(())
}

/// A fresh template key for snapshot `name`.
pub fn new_key(name: &str) -> String {
    let mut hash = Sha256::new();
    field(&mut hash, b"name", name.as_bytes());
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    field(&mut hash, b"taken", &nanos.to_le_bytes());
    field(&mut hash, b"id", crate::random::id().as_bytes());
    format!("{KEY_PREFIX}{}", hex(&hash.finalize()[..16]))
}

/// The record of snapshot `name`, whose template must be there.
pub fn resolve(layout: &Layout, name: &str) -> Result<Record> {
    check_name(name)?;
    let record = read(layout, name)?
        .ok_or_else(|| Error::Snapshot(SnapshotProblem::Unknown(name.to_string())))?;
    if !layout.template(&record.key).join("PG_VERSION").exists() {
        return Err(Error::Snapshot(SnapshotProblem::Gone(name.to_string())));
    }
    Ok(record)
}

/// The record of `name`, if there is one.
fn read(layout: &Layout, name: &str) -> Result<Option<Record>> {
    let path = layout.snapshot(name);
    let text = match fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io("read", &path)(e)),
    };
    serde_json::from_str(&text)
        .map(Some)
        .map_err(|e| Error::Metadata {
            action: "corrupt",
            path,
            reason: e.to_string(),
        })
}

/// Writes (or replaces, in one rename) the record of `record.name`.
pub fn write(layout: &Layout, record: &Record) -> Result<()> {
    paths::mkdir_private(&layout.snapshots())?;
    let text = serde_json::to_string_pretty(record).expect("records serialize");
    write_atomic(&layout.snapshot(&record.name), text.as_bytes())
}

/// Every record, by name.
pub fn records(layout: &Layout) -> Vec<Record> {
    let Ok(entries) = fs::read_dir(layout.snapshots()) else {
        return Vec::new();
    };
    let mut found: Vec<Record> = entries
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            let name = name.strip_suffix(".json")?.to_string();
            check_name(&name).ok()?;
            read(layout, &name).ok().flatten()
        })
        .collect();
    found.sort_by(|a, b| a.name.cmp(&b.name));
    found
}

/// The snapshots as `snapshot --list` shows them.
pub fn list(layout: &Layout) -> Vec<SnapshotEntry> {
    let now = now_secs();
    records(layout)
        .into_iter()
        .map(|r| {
            let dir = layout.template(&r.key);
            SnapshotEntry {
                age_secs: now.saturating_sub(r.taken),
                bytes: tree_size(&dir),
                key: r.key.clone(),
                name: r.name,
                source: r.source,
                taken: r.taken,
                unused_secs: retire::last_used(layout, &r.key)
                    .and_then(|t| t.elapsed().ok())
                    .map_or(0, |d| d.as_secs()),
                version: fs::read_to_string(dir.join("PG_VERSION"))
                    .map(|v| v.trim().to_string())
                    .unwrap_or_default(),
            }
        })
        .collect()
}

/// Deletes snapshot `name`: its record at once, then its template and
/// pool. Instances handed out from it keep running on their own copies.
pub fn delete(layout: &Layout, name: &str) -> Result<()> {
    check_name(name)?;
    let record = read(layout, name)?
        .ok_or_else(|| Error::Snapshot(SnapshotProblem::Unknown(name.to_string())))?;
    let path = layout.snapshot(name);
    fs::remove_file(&path).map_err(Error::io("remove", &path))?;
    crate::spare::withdraw(layout, &record.key);
    retire::remove_template(layout, &record.key)
}

/// Removes the records whose template is gone (gc aged it out).
pub fn prune(layout: &Layout) {
    for r in records(layout) {
        let gone = !layout.template(&r.key).exists();
        if gone && !lock::is_held(&layout.template_lock(&r.key)) {
            let _ = fs::remove_file(layout.snapshot(&r.name));
        }
    }
}

/// Bytes in the files of a tree (not following links).
fn tree_size(dir: &Path) -> u64 {
    let Ok(entries) = fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| match e.file_type() {
            Ok(t) if t.is_dir() => tree_size(&e.path()),
            Ok(t) if t.is_file() => e.metadata().map_or(0, |m| m.len()),
            _ => 0,
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        for ok in ["seeded", "after-login_2", "Ünïcode", "x"] {
            assert!(check_name(ok).is_ok(), "{ok}");
        }
        let long = "a".repeat(65);
        for bad in [
            "",
            "a/b",
            "..",
            ".hidden",
            "a.b",
            "-x",
            "a b",
            "tab\there",
            "nl\n",
            &long,
            "a$b",
        ] {
            assert!(check_name(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn keys_are_new_each_time() {
        let (a, b) = (new_key("s"), new_key("s"));
        assert_ne!(a, b);
        assert!(a.starts_with(KEY_PREFIX) && a.len() == 33, "{a}");
    }
}
