//! Which test files run, in which order, as App::Prove picks them: each
//! PATH that is a file runs as named; a directory contributes its files
//! that end with an `--ext` (default `.pg`), sorted, directly in it or,
//! with `-r`, anywhere below it (hidden directories too, as Perl's
//! File::Find). No PATH means `t/` (`.` with `-r`). A file named twice runs
//! once. A PATH that does not exist is an error before anything starts.

use std::collections::HashSet;
use std::fs;
use std::path::{Path, PathBuf};

use crate::error::{Error, ProveProblem, Result};

/// The default extension, pg_prove's.
pub const DEFAULT_EXT: &str = ".pg";

/// A test file as the run names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestFile {
    /// As printed and as psql names it in messages: the PATH given, or the
    /// directory joined with the file's path below it.
    pub name: String,
    pub path: PathBuf,
}

/// The files that `paths` name; `exts` are the extensions to look for in
/// directories.
pub fn discover(paths: &[PathBuf], exts: &[String], recurse: bool) -> Result<Vec<TestFile>> {
    let default;
    let paths = if paths.is_empty() {
        let dir = if recurse { "." } else { "t" };
        if !Path::new(dir).is_dir() {
            return Err(Error::Prove(ProveProblem::NoTestDir(dir)));
        }
        default = vec![PathBuf::from(dir)];
        &default[..]
    } else {
        paths
    };
    let mut seen = HashSet::new();
    let mut files = Vec::new();
    for path in paths {
        let meta = fs::metadata(path).map_err(Error::io("read test path", path))?;
        let mut found = if meta.is_dir() {
            let mut found = Vec::new();
            if recurse {
                walk(path, exts, &mut found, 0)?;
            } else {
                for (name, p) in entries(path)? {
                    if !name.starts_with('.') && matches(&name, exts) && p.is_file() {
                        found.push(p);
                    }
                }
            }
            found.sort_by(|a, b| {
                a.as_os_str()
                    .as_encoded_bytes()
                    .cmp(b.as_os_str().as_encoded_bytes())
            });
            found
        } else {
            vec![path.clone()]
        };
        for p in found.drain(..) {
            let name = p.to_string_lossy().into_owned();
            if seen.insert(name.clone()) {
                files.push(TestFile { name, path: p });
            }
        }
    }
    Ok(files)
}

/// The entries of `dir` as (name, path), the path joined as Perl joins it
/// (`dir/name`, one slash).
fn entries(dir: &Path) -> Result<Vec<(String, PathBuf)>> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir).map_err(Error::io("read test directory", dir))? {
        let entry = entry.map_err(Error::io("read test directory", dir))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        out.push((name.clone(), join(dir, &name)));
    }
    Ok(out)
}

fn join(dir: &Path, name: &str) -> PathBuf {
    let d = dir.to_string_lossy();
    PathBuf::from(format!("{}/{name}", d.trim_end_matches('/')))
}

fn matches(name: &str, exts: &[String]) -> bool {
    exts.iter().any(|e| name.ends_with(e.as_str()))
}

/// How deep `-r` goes: deeper is a loop of symbolic links.
const MAX_DEPTH: usize = 64;

fn walk(dir: &Path, exts: &[String], out: &mut Vec<PathBuf>, depth: usize) -> Result<()> {
    if depth > MAX_DEPTH {
        return Ok(());
    }
    for (name, path) in entries(dir)? {
        // Followed through symbolic links, as File::Find's `follow`.
        let Ok(meta) = fs::metadata(&path) else {
            continue;
        };
        if meta.is_dir() {
            walk(&path, exts, out, depth + 1)?;
        } else if meta.is_file() && matches(&name, exts) {
            out.push(path);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directories_as_app_prove_reads_them() {
        let root = std::env::temp_dir().join(format!("pgtmp-discover-{}", std::process::id()));
        let _ = fs::remove_dir_all(&root);
        fs::create_dir_all(root.join("t/sub")).unwrap();
        for f in [
            "t/b.sql",
            "t/a.sql",
            "t/.hidden.sql",
            "t/c.pg",
            "t/sub/d.sql",
            "t/notes.txt",
        ] {
            fs::write(root.join(f), "").unwrap();
        }
        let t = root.join("t");
        let names = |files: Vec<TestFile>| -> Vec<String> {
            files
                .into_iter()
                .map(|f| {
                    f.name
                        .trim_start_matches(&format!("{}/", root.display()))
                        .to_string()
                })
                .collect()
        };
        let sql = vec![".sql".to_string()];
        assert_eq!(
            names(discover(std::slice::from_ref(&t), &sql, false).unwrap()),
            ["t/a.sql", "t/b.sql"]
        );
        assert_eq!(
            names(discover(std::slice::from_ref(&t), &sql, true).unwrap()),
            ["t/.hidden.sql", "t/a.sql", "t/b.sql", "t/sub/d.sql"]
        );
        let both = vec![".sql".to_string(), ".pg".to_string()];
        assert_eq!(
            names(discover(std::slice::from_ref(&t), &both, false).unwrap()),
            ["t/a.sql", "t/b.sql", "t/c.pg"]
        );
        // A file named twice runs once; a file runs whatever its extension.
        let again = vec![t.join("b.sql"), t.clone(), t.join("notes.txt")];
        assert_eq!(
            names(discover(&again, &sql, false).unwrap()),
            ["t/b.sql", "t/a.sql", "t/notes.txt"]
        );
        assert!(discover(&[root.join("nope")], &sql, false).is_err());
        fs::remove_dir_all(&root).unwrap();
    }
}
