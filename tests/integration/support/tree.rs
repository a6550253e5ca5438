//! Snapshots of directory trees, to prove that something was left exactly
//! as it was (names, kinds, modes, owners, contents, modification times) or
//! that a copy is complete (the same files with the same sizes).

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// One entry as a careless program could change it.
#[derive(Debug, PartialEq, Eq)]
pub enum Node {
    Dir {
        mode: u32,
        uid: u32,
        gid: u32,
        mtime: (i64, i64),
    },
    File {
        mode: u32,
        uid: u32,
        gid: u32,
        mtime: (i64, i64),
        bytes: Vec<u8>,
    },
    Link {
        target: PathBuf,
        uid: u32,
    },
    Other {
        mode: u32,
    },
}

/// Every entry under `root` (itself included, as ""), by relative path.
pub fn snapshot(root: &Path) -> BTreeMap<PathBuf, Node> {
    let mut all = BTreeMap::new();
    walk(root, root, &mut |rel, path, meta| {
        let mtime = (meta.mtime(), meta.mtime_nsec());
        let (mode, uid, gid) = (meta.mode(), meta.uid(), meta.gid());
        let node = if meta.is_dir() {
            Node::Dir {
                mode,
                uid,
                gid,
                mtime,
            }
        } else if meta.is_file() {
            Node::File {
                mode,
                uid,
                gid,
                mtime,
                bytes: fs::read(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display())),
            }
        } else if meta.file_type().is_symlink() {
            Node::Link {
                target: fs::read_link(path).unwrap_or_default(),
                uid,
            }
        } else {
            Node::Other { mode }
        };
        all.insert(rel.to_path_buf(), node);
    });
    all
}

/// What a data directory copy must match: every path, with file sizes.
pub fn shape(root: &Path) -> BTreeMap<PathBuf, Option<u64>> {
    let mut all = BTreeMap::new();
    walk(root, root, &mut |rel, _, meta| {
        all.insert(rel.to_path_buf(), meta.is_file().then_some(meta.len()));
    });
    all
}

fn walk(root: &Path, path: &Path, visit: &mut dyn FnMut(&Path, &Path, &fs::Metadata)) {
    let meta =
        fs::symlink_metadata(path).unwrap_or_else(|e| panic!("inspect {}: {e}", path.display()));
    let rel = path.strip_prefix(root).expect("below the root");
    visit(rel, path, &meta);
    if meta.is_dir() {
        let entries = fs::read_dir(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
        for entry in entries {
            let entry = entry.unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
            walk(root, &entry.path(), visit);
        }
    }
}

/// The differences between two snapshots, for a failure message.
pub fn diff<V: std::fmt::Debug + PartialEq>(
    before: &BTreeMap<PathBuf, V>,
    after: &BTreeMap<PathBuf, V>,
) -> Vec<String> {
    let mut out = Vec::new();
    for (path, old) in before {
        match after.get(path) {
            None => out.push(format!("gone: {}", path.display())),
            Some(new) if new != old => {
                out.push(format!("changed: {}: {old:?} -> {new:?}", path.display()))
            }
            Some(_) => {}
        }
    }
    for path in after.keys().filter(|p| !before.contains_key(*p)) {
        out.push(format!("new: {}", path.display()));
    }
    out
}
