//! The digest of the `--key` paths: what the setup's commands read, by
//! content. A file counts by its bytes; a directory by the names of its
//! entries and what each holds, recursively, in byte order of the names.
//!
//! Symbolic links are followed, as the tools that read through them do (a
//! dangling one counts by its target's name; a loop is cut). Inside a
//! directory, hidden entries (`.git`, an editor's `.swp` file, `.env`) and
//! `__pycache__` directories (which Python tools such as Alembic write
//! while they run) are skipped; a hidden path named by `--key` itself
//! counts. Sockets, pipes and devices count by their kind, never opened.
//! Modes, owners and times do not count: touching a file changes nothing,
//! `chmod` neither.

use std::collections::HashSet;
use std::fs::{self, File};
use std::io::Read;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::error::{Error, Result, SetupProblem};
use crate::fixture::field;
use crate::fixture::memo::Stamp;

/// Entries read per `--key` path at most: a whole home directory given by
/// mistake is refused, not hashed for minutes.
const MAX_ENTRIES: usize = 100_000;

/// Directories skipped by name inside a `--key` directory.
const SKIPPED: &[&str] = &["__pycache__"];

/// The hex SHA-256 of the `--key` paths, in order.
pub fn digest(keys: &[PathBuf]) -> Result<String> {
    Ok(read(keys, false)?.0)
}

/// What the digest read: every path, file or directory (links followed),
/// and its identity before it was read, in order.
pub type Seen = Vec<(PathBuf, Stamp)>;

/// The digest, and with `record` what it read (`None` when something
/// cannot be told by its identity: a dangling link).
pub fn read(keys: &[PathBuf], record: bool) -> Result<(String, Option<Seen>)> {
    let mut hash = Sha256::new();
    // One buffer for every file: zeroing a new one for each of many small
    // migrations costs more than reading them.
    let mut buf = vec![0u8; 64 * 1024];
    let mut read = record.then(Vec::new);
    for key in keys {
        field(&mut hash, b"key", key.as_os_str().as_encoded_bytes());
        let mut walk = Walk {
            root: key,
            hash: &mut hash,
            entries: 0,
            open: HashSet::new(),
            buf: &mut buf,
            read: &mut read,
        };
        walk.entry(key)?;
    }
    Ok((crate::fixture::hex(&hash.finalize()), read))
}

/// One `--key` path being read.
struct Walk<'a> {
    root: &'a Path,
    hash: &'a mut Sha256,
    entries: usize,
    /// The directories being read (device, inode), to cut loops of links.
    open: HashSet<(u64, u64)>,
    buf: &'a mut [u8],
    /// What was read, when recorded.
    read: &'a mut Option<Seen>,
}

impl Walk<'_> {
    /// Counts one more entry read, refusing too many.
    fn count(&mut self) -> Result<()> {
        self.entries += 1;
        if self.entries > MAX_ENTRIES {
            return Err(Error::Setup(SetupProblem::TooManyEntries {
                path: self.root.to_path_buf(),
                max: MAX_ENTRIES,
            }));
        }
        Ok(())
    }

    /// A regular file, by its contents.
    fn file(&mut self, path: &Path) -> Result<()> {
        self.count()?;
        self.contents(path, false)
    }

    /// `stamped`: its identity is recorded already.
    fn contents(&mut self, path: &Path, stamped: bool) -> Result<()> {
        let mut file = File::open(path).map_err(read_error(path))?;
        if !stamped && self.read.is_some() {
            let meta = file.metadata().map_err(read_error(path))?;
            self.record(path, &meta);
        }
        let sha = file_sha(&mut file, self.buf).map_err(read_error(path))?;
        field(self.hash, b"file", &sha);
        Ok(())
    }

    fn record(&mut self, path: &Path, meta: &fs::Metadata) {
        if let Some(read) = self.read.as_mut() {
            read.push((path.to_path_buf(), Stamp::of(meta)));
        }
    }

    fn entry(&mut self, path: &Path) -> Result<()> {
        self.count()?;
        let meta = match fs::metadata(path) {
            Ok(meta) => meta,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                // A dangling link counts by what it names.
                let target = fs::read_link(path).map_err(read_error(path))?;
                *self.read = None;
                field(
                    self.hash,
                    b"dangling",
                    target.as_os_str().as_encoded_bytes(),
                );
                return Ok(());
            }
            Err(e) => return Err(read_error(path)(e)),
        };
        self.record(path, &meta);
        let kind = meta.file_type();
        if kind.is_dir() {
            self.directory(path, (meta.dev(), meta.ino()))
        } else if kind.is_file() {
            self.contents(path, true)
        } else {
            let what: &[u8] = if kind.is_fifo() {
                b"fifo"
            } else if kind.is_socket() {
                b"socket"
            } else {
                b"device"
            };
            field(self.hash, b"special", what);
            Ok(())
        }
    }

    fn directory(&mut self, path: &Path, id: (u64, u64)) -> Result<()> {
        if !self.open.insert(id) {
            field(self.hash, b"loop", &[]);
            return Ok(());
        }
        let mut names = Vec::new();
        for entry in fs::read_dir(path).map_err(read_error(path))? {
            let entry = entry.map_err(read_error(path))?;
            let name = entry.file_name();
            let bytes = name.as_encoded_bytes();
            if bytes.starts_with(b".") || SKIPPED.iter().any(|s| bytes == s.as_bytes()) {
                continue;
            }
            // What the directory says of the kind costs no system call:
            // a plain file needs no `stat` of its own.
            let plain = entry.file_type().is_ok_and(|t| t.is_file());
            names.push((name, plain));
        }
        names.sort_by(|a, b| a.0.as_encoded_bytes().cmp(b.0.as_encoded_bytes()));
        field(self.hash, b"dir", &(names.len() as u64).to_le_bytes());
        for (name, plain) in names {
            field(self.hash, b"name", name.as_encoded_bytes());
            let path = path.join(name);
            if plain {
                self.file(&path)?;
            } else {
                self.entry(&path)?;
            }
        }
        self.open.remove(&id);
        Ok(())
    }
}

/// The SHA-256 of a file's contents.
fn file_sha(file: &mut File, buf: &mut [u8]) -> std::io::Result<[u8; 32]> {
    let mut sha = Sha256::new();
    loop {
        let n = file.read(buf)?;
        if n == 0 {
            return Ok(sha.finalize().into());
        }
        sha.update(&buf[..n]);
    }
}

fn read_error(path: &Path) -> impl FnOnce(std::io::Error) -> Error {
    let path = path.to_path_buf();
    move |source| Error::SetupKey { path, source }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A scratch directory, removed when dropped.
    struct Scratch(PathBuf);

    impl Scratch {
        fn new(name: &str) -> Scratch {
            let dir =
                std::env::temp_dir().join(format!("pgtmp-digest-{name}-{}", std::process::id()));
            let _ = fs::remove_dir_all(&dir);
            fs::create_dir_all(dir.join("m")).unwrap();
            fs::write(dir.join("m/001.sql"), "create table a ();\n").unwrap();
            fs::write(dir.join("m/002.sql"), "create table b ();\n").unwrap();
            Scratch(dir)
        }

        fn key(&self) -> String {
            digest(&[self.0.join("m")]).unwrap()
        }
    }

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    #[test]
    fn contents_and_names_count_the_rest_does_not() {
        let s = Scratch::new("what");
        let before = s.key();
        // Times and modes do not count.
        let file = s.0.join("m/001.sql");
        fs::write(&file, "create table a ();\n").unwrap();
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&file, fs::Permissions::from_mode(0o755)).unwrap();
        assert_eq!(s.key(), before);
        // Hidden entries and bytecode caches do not count.
        fs::write(s.0.join("m/.001.sql.swp"), "junk").unwrap();
        fs::create_dir_all(s.0.join("m/__pycache__")).unwrap();
        fs::write(s.0.join("m/__pycache__/x.pyc"), "junk").unwrap();
        assert_eq!(s.key(), before);
        // Contents, names and new files do.
        fs::write(&file, "create table a (x int);\n").unwrap();
        let edited = s.key();
        assert_ne!(edited, before);
        fs::rename(s.0.join("m/002.sql"), s.0.join("m/003.sql")).unwrap();
        let renamed = s.key();
        assert_ne!(renamed, edited);
        fs::create_dir_all(s.0.join("m/sub")).unwrap();
        assert_ne!(s.key(), renamed, "an empty directory counts");
    }

    #[test]
    fn links_are_followed_and_loops_cut() {
        let s = Scratch::new("links");
        fs::create_dir_all(s.0.join("shared")).unwrap();
        fs::write(s.0.join("shared/common.sql"), "select 1;\n").unwrap();
        std::os::unix::fs::symlink(s.0.join("shared"), s.0.join("m/shared")).unwrap();
        let before = s.key();
        fs::write(s.0.join("shared/common.sql"), "select 2;\n").unwrap();
        assert_ne!(s.key(), before, "an edit behind a link counts");
        std::os::unix::fs::symlink(s.0.join("m"), s.0.join("m/again")).unwrap();
        std::os::unix::fs::symlink(s.0.join("nowhere"), s.0.join("m/dangling")).unwrap();
        s.key();
    }

    #[test]
    fn a_missing_path_is_an_error() {
        let err = digest(&[PathBuf::from("/nonexistent/pgtmp/key")]).unwrap_err();
        assert!(err.to_string().contains("/nonexistent/pgtmp/key"), "{err}");
    }
}
