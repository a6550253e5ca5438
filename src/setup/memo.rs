//! A memo of the `--key` digest, so that a call whose `--key` files did not
//! change looks at them instead of reading them: for 50 small migrations,
//! one `stat` each instead of an open, two reads and a close (reading them
//! took ~0.45 ms here, against some 8 ms for a whole hand-out).
//!
//! One small file per set of `--key` paths and working directory, under
//! `BASE/setup-digests/`: the digest, and the identity (`Stamp`: device,
//! inode, size, mtime, ctime) of every path the digest read, files and
//! directories, links followed. A file written, replaced or renamed
//! changes its own; an entry added, removed or renamed in a directory
//! changes the directory's. The digest is taken from the memo only while
//! every one is unchanged, and remembered only when every ctime is over two
//! seconds old (the fixture memo's rule, git's "racily clean"), so that a
//! write in the clock tick of the read cannot go unnoticed. A dangling link
//! is never remembered. At most `MAX_FILES` are kept, the last written.
//!
//! As root it is read before privileges are dropped, like the `--key`
//! files, without following a link or blocking on a FIFO
//! (`paths::read_plain`), and written after (`save`), as the `--run-as`
//! account. That account could write a wrong digest into it, but it owns
//! the templates themselves anyway.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::digest::{self, Seen};
use crate::error::Result;
use crate::fixture::memo::SETTLED;
use crate::fixture::memo::Stamp;
use crate::fixture::{field, hex};
use crate::instance::meta::write_atomic;
use crate::paths::{self, Layout};

/// Memo files kept.
const MAX_FILES: usize = 32;
/// A memo file larger than this is not ours to read.
const MAX_BYTES: u64 = 4 * 1024 * 1024;

/// What one memo file holds.
#[derive(Debug, Serialize, Deserialize)]
struct Known {
    cwd: PathBuf,
    keys: Vec<PathBuf>,
    digest: String,
    read: Seen,
}

/// The memo of a base directory: `digest` asks it, `save` writes back
/// what it learnt.
#[derive(Debug)]
pub struct Memo {
    dir: PathBuf,
    /// How old every change must be for a digest to be remembered.
    settled: Duration,
    /// What to write: its file name and contents.
    learnt: Option<(String, Known)>,
}

impl Memo {
    /// The memo of `layout`'s base directory.
    pub fn open(layout: &Layout) -> Memo {
        Memo {
            dir: layout.setup_digests(),
            settled: SETTLED,
            learnt: None,
        }
    }

    /// The digest of `keys` (relative to `cwd`, the working directory): the
    /// remembered one when nothing it read changed, else read now.
    pub fn digest(&mut self, cwd: &Path, keys: &[PathBuf]) -> Result<String> {
        let name = file_name(cwd, keys);
        if let Some(known) = recall(&self.dir.join(&name), cwd, keys) {
            return Ok(known);
        }
        let (digest, read) = digest::read(keys, true)?;
        if let Some(read) = read.filter(|read| settled(read, self.settled)) {
            let known = Known {
                cwd: cwd.to_path_buf(),
                keys: keys.to_vec(),
                digest: digest.clone(),
                read,
            };
            self.learnt = Some((name, known));
        }
        Ok(digest)
    }

    /// Writes what was learnt, if anything (best effort: it is only a
    /// cache), and keeps the last `MAX_FILES` written.
    pub fn save(&mut self) {
        let Some((name, known)) = self.learnt.take() else {
            return;
        };
        let dir = &self.dir;
        let Ok(text) = serde_json::to_vec(&known) else {
            return;
        };
        if paths::mkdir_private(dir).is_err() {
            return;
        }
        let _ = write_atomic(&dir.join(&name), &text);
        prune(dir);
    }
}

/// The memo file of these `keys` in `cwd`.
fn file_name(cwd: &Path, keys: &[PathBuf]) -> String {
    let mut hash = Sha256::new();
    field(&mut hash, b"cwd", cwd.as_os_str().as_encoded_bytes());
    for key in keys {
        field(&mut hash, b"key", key.as_os_str().as_encoded_bytes());
    }
    format!("{}.json", hex(&hash.finalize()[..16]))
}

/// The remembered digest, if everything it read is unchanged.
fn recall(path: &Path, cwd: &Path, keys: &[PathBuf]) -> Option<String> {
    let bytes = paths::read_plain(path, MAX_BYTES)?;
    let known: Known = serde_json::from_slice(&bytes).ok()?;
    if known.cwd != cwd || known.keys != keys {
        return None;
    }
    let unchanged = known
        .read
        .iter()
        .all(|(path, stamp)| fs::metadata(path).is_ok_and(|m| Stamp::of(&m) == *stamp));
    unchanged.then_some(known.digest)
}

/// Whether every change to what was read is older than `age`.
fn settled(read: &Seen, age: Duration) -> bool {
    read.iter().all(|(_, stamp)| stamp.unchanged_for(age))
}

/// Removes all but the `MAX_FILES` memo files written last.
fn prune(dir: &Path) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    let mut files: Vec<_> = entries
        .flatten()
        .filter_map(|e| Some((e.metadata().ok()?.modified().ok()?, e.path())))
        .collect();
    if files.len() <= MAX_FILES {
        return;
    }
    files.sort();
    for (_, path) in &files[..files.len() - MAX_FILES] {
        let _ = fs::remove_file(path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A scratch base directory and project, removed when dropped.
    struct Scratch(PathBuf);

    impl Scratch {
        fn new(name: &str) -> Scratch {
            let dir = std::env::temp_dir()
                .join(format!("pgtmp-setup-memo-{name}-{}", std::process::id()));
            let _ = fs::remove_dir_all(&dir);
            fs::create_dir_all(dir.join("project/m")).unwrap();
            fs::create_dir_all(dir.join("base")).unwrap();
            for i in 0..3 {
                fs::write(dir.join(format!("project/m/{i}.sql")), "select 1;\n").unwrap();
            }
            Scratch(dir)
        }

        /// A memo that remembers at once (a settling time of zero).
        fn memo(&self) -> Memo {
            Memo {
                dir: self.0.join("base/setup-digests"),
                settled: Duration::ZERO,
                learnt: None,
            }
        }

        /// The digest through a fresh memo, saved; and whether it came from
        /// the memo (then nothing was learnt).
        fn digest(&self) -> (String, bool) {
            let mut memo = self.memo();
            let digest = memo.digest(&self.0, &self.keys()).unwrap();
            let recalled = memo.learnt.is_none();
            memo.save();
            (digest, recalled)
        }

        fn keys(&self) -> Vec<PathBuf> {
            vec![self.0.join("project/m")]
        }

        /// The digest read from the files.
        fn truth(&self) -> String {
            digest::digest(&self.keys()).unwrap()
        }
    }

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    #[test]
    fn an_unchanged_set_is_recalled_and_any_change_read_again() {
        let s = Scratch::new("changes");
        let (first, recalled) = s.digest();
        assert_eq!(first, s.truth());
        assert!(!recalled, "nothing was remembered yet");
        assert_eq!(s.digest(), (first.clone(), true));

        // An edit of the same size.
        fs::write(s.0.join("project/m/1.sql"), "select 2;\n").unwrap();
        let (edited, recalled) = s.digest();
        assert!(!recalled);
        assert_ne!(edited, first);
        assert_eq!(edited, s.truth());
        assert_eq!(s.digest(), (edited.clone(), true));

        // A new file, a file replaced by a rename, a removed one.
        fs::write(s.0.join("project/m/3.sql"), "select 3;\n").unwrap();
        let (added, _) = s.digest();
        assert_eq!(added, s.truth());
        assert_ne!(added, edited);
        fs::write(s.0.join("project/new"), "select 4;\n").unwrap();
        fs::rename(s.0.join("project/new"), s.0.join("project/m/0.sql")).unwrap();
        let (replaced, _) = s.digest();
        assert_eq!(replaced, s.truth());
        assert_ne!(replaced, added);
        fs::remove_file(s.0.join("project/m/2.sql")).unwrap();
        let (removed, _) = s.digest();
        assert_eq!(removed, s.truth());
        assert_ne!(removed, replaced);
        assert_eq!(s.digest(), (removed, true));
    }

    #[test]
    fn fresh_changes_and_dangling_links_are_not_remembered() {
        let s = Scratch::new("fresh");
        let mut memo = Memo {
            settled: SETTLED,
            ..s.memo()
        };
        memo.digest(&s.0, &s.keys()).unwrap();
        assert!(
            memo.learnt.is_none(),
            "files written just now were remembered"
        );

        std::os::unix::fs::symlink(s.0.join("nowhere"), s.0.join("project/m/x.sql")).unwrap();
        let mut memo = s.memo();
        memo.digest(&s.0, &s.keys()).unwrap();
        assert!(memo.learnt.is_none(), "a dangling link was remembered");
    }

    #[test]
    fn another_working_directory_or_key_set_is_another_entry() {
        let s = Scratch::new("sets");
        let (digest, _) = s.digest();
        let mut memo = s.memo();
        let other = memo.digest(&s.0.join("project"), &s.keys()).unwrap();
        assert_eq!(other, digest);
        assert!(memo.learnt.is_some(), "recalled for another directory");
        let mut both = s.keys();
        both.push(s.0.join("project/m/0.sql"));
        let mut memo = s.memo();
        assert_ne!(memo.digest(&s.0, &both).unwrap(), digest);
        assert!(memo.learnt.is_some());
    }
}
