//! The base directory before pgtmp settles in it: what is at its path, who
//! made it for whom, and the steps root takes on it, none of which follows
//! a symbolic link.
//!
//! The default base lies in a world-writable directory (/dev/shm, /tmp),
//! where any local user can create the name first. Root must not follow a
//! link found there, nor write or chown through one, nor adopt a directory
//! someone else made for an account root did not choose: that would hand
//! root's servers and files to that user (issue 18.1). So root opens the
//! base with O_NOFOLLOW and works on that descriptor only (fstat, fchown,
//! fchmod, openat), and the marker it writes stays root's own file naming
//! the `--run-as` account: nobody else can make such a file, so a base that
//! holds one is one root made for that account. A default name that
//! someone else holds is passed over for a fresh one beside it
//! (`pgtmp-0.<id>`), which later calls find again by its marker.

use std::ffi::CString;
use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::os::fd::{AsRawFd, FromRawFd};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

/// The file that marks a base directory as pgtmp's own: pgtmp deletes what
/// it finds in its base directory, so it must never adopt one of the user's.
pub const MARKER: &str = ".pgtmp";
/// What the marker says; root's adds the account it made the base for.
const MARKER_TEXT: &str = "This directory belongs to pgtmp, which deletes what it finds here.\n";
const RUN_AS: &str = "run-as uid: ";

/// What is at a base directory's path, seen without following a link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found {
    Missing,
    /// A symbolic link, and where it points.
    Link(PathBuf),
    /// A file, a socket or anything else that is not a directory.
    NotDir,
    Dir {
        uid: u32,
        /// The account root made it for, by root's marker: only when the
        /// directory belongs to that account (or still to root).
        made_for: Option<u32>,
    },
}

impl Found {
    /// The account root made this base for, if root did.
    pub fn made_for(&self) -> Option<u32> {
        match self {
            Found::Dir { made_for, .. } => *made_for,
            _ => None,
        }
    }
}

/// Looks at `path` without following a final symbolic link.
pub fn inspect(path: &Path) -> io::Result<Found> {
    match open_dir(path) {
        Ok(dir) => {
            let uid = dir.metadata()?.uid();
            let made_for = root_marker(&dir).filter(|&m| uid == m || uid == 0);
            Ok(Found::Dir { uid, made_for })
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Found::Missing),
        Err(e) if matches!(e.raw_os_error(), Some(libc::ELOOP | libc::ENOTDIR)) => {
            match fs::read_link(path) {
                Ok(target) => Ok(Found::Link(target)),
                Err(_) => Ok(Found::NotDir),
            }
        }
        // Another user's private directory: whose it is, from lstat.
        Err(e) => match fs::symlink_metadata(path) {
            Ok(m) if m.is_dir() => Ok(Found::Dir {
                uid: m.uid(),
                made_for: None,
            }),
            _ => Err(e),
        },
    }
}

/// Opens the directory at `path`, refusing a symbolic link in its place
/// (ELOOP) and anything that is not a directory (ENOTDIR).
pub fn open_dir(path: &Path) -> io::Result<File> {
    fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_DIRECTORY | libc::O_NOFOLLOW)
        .open(path)
}

/// The default base: `primary` when `usable`, else the first directory
/// beside it named `<primary>.<id>` that is (one an earlier call moved on
/// to), else a new such name. Says on stderr why it moves on: someone may
/// have planted the default name.
pub fn settle_default(primary: PathBuf, usable: impl Fn(&Found) -> bool) -> PathBuf {
    let found = inspect(&primary).unwrap_or(Found::NotDir);
    if usable(&found) {
        return primary;
    }
    let (Some(parent), Some(name)) = (primary.parent(), primary.file_name()) else {
        return primary;
    };
    let prefix = format!("{}.", name.to_string_lossy());
    let mut earlier: Vec<PathBuf> = fs::read_dir(parent)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with(&prefix))
        .map(|e| e.path())
        .filter(|p| inspect(p).is_ok_and(|f| usable(&f)))
        .collect();
    earlier.sort();
    let chosen = earlier
        .into_iter()
        .next()
        .unwrap_or_else(|| parent.join(format!("{prefix}{}", crate::random::id())));
    let what = match found {
        Found::Link(target) => format!("is a symbolic link to {}", target.display()),
        Found::NotDir => "is not a directory".into(),
        Found::Dir { uid, .. } => {
            format!("belongs to uid {uid}, not to an account pgtmp runs as here")
        }
        Found::Missing => "is gone".into(),
    };
    crate::say!(
        "pgtmp: warning: {} {what}; using {} instead (remove it if nobody should have made it)",
        primary.display(),
        chosen.display()
    );
    chosen
}

/// The account root's marker in `dir` names: a regular file owned by root,
/// opened without following a link, and without blocking on a FIFO.
pub fn root_marker(dir: &File) -> Option<u32> {
    let mut file = openat(dir, MARKER, libc::O_RDONLY | libc::O_NONBLOCK, 0).ok()?;
    let meta = file.metadata().ok()?;
    if !meta.is_file() || meta.uid() != 0 || meta.len() > 4096 {
        return None;
    }
    let mut text = String::new();
    file.read_to_string(&mut text).ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix(RUN_AS))
        .and_then(|uid| uid.trim().parse().ok())
}

/// Whether `dir` holds a marker as a regular file (a link does not count).
pub fn has_marker(dir: &File) -> bool {
    openat(dir, MARKER, libc::O_RDONLY | libc::O_NONBLOCK, 0)
        .and_then(|f| f.metadata())
        .is_ok_and(|m| m.is_file())
}

/// Writes the marker into `dir`, replacing whatever has the name (a link
/// is removed, never followed). As root (`run_as`), the file stays root's
/// and names the account. Best effort: a base on a read-only filesystem
/// still lists.
pub fn write_marker(dir: &File, run_as: Option<u32>) {
    if run_as.is_some() && root_marker(dir) == run_as {
        return;
    }
    if run_as.is_none() && has_marker(dir) {
        return;
    }
    let _ = unlinkat(dir, MARKER);
    let flags = libc::O_WRONLY | libc::O_CREAT | libc::O_EXCL;
    if let Ok(mut file) = openat(dir, MARKER, flags, 0o644) {
        let mut text = MARKER_TEXT.to_string();
        if let Some(uid) = run_as {
            text += &format!("{RUN_AS}{uid}\n");
        }
        let _ = file.write_all(text.as_bytes());
    }
}

/// openat(2) of `name` in `dir`, never following a link (O_NOFOLLOW).
fn openat(dir: &File, name: &str, flags: libc::c_int, mode: libc::mode_t) -> io::Result<File> {
    let name = CString::new(name).map_err(|_| io::ErrorKind::InvalidInput)?;
    let flags = flags | libc::O_NOFOLLOW | libc::O_CLOEXEC;
    // SAFETY: `name` is NUL-terminated and outlives the call; the result is
    // a new descriptor that nothing else owns.
    let fd = unsafe { libc::openat(dir.as_raw_fd(), name.as_ptr(), flags, mode) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `fd` was just opened and is ours alone.
    Ok(unsafe { File::from_raw_fd(fd) })
}

/// unlinkat(2) of `name` in `dir`: removes a link itself, not its target.
fn unlinkat(dir: &File, name: &str) -> io::Result<()> {
    let name = CString::new(name).map_err(|_| io::ErrorKind::InvalidInput)?;
    // SAFETY: `name` is NUL-terminated and outlives the call.
    if unsafe { libc::unlinkat(dir.as_raw_fd(), name.as_ptr(), 0) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("pgtmp-base-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn links_and_files_are_seen_as_such() {
        let dir = scratch("inspect");
        assert_eq!(inspect(&dir.join("none")).unwrap(), Found::Missing);
        std::os::unix::fs::symlink("/nowhere", dir.join("link")).unwrap();
        assert_eq!(
            inspect(&dir.join("link")).unwrap(),
            Found::Link("/nowhere".into())
        );
        fs::write(dir.join("file"), "").unwrap();
        assert_eq!(inspect(&dir.join("file")).unwrap(), Found::NotDir);
        let me = nix::unistd::Uid::effective().as_raw();
        assert!(matches!(inspect(&dir).unwrap(), Found::Dir { uid, .. } if uid == me));
        fs::remove_dir_all(&dir).unwrap();
    }

    /// A default name someone else holds is passed over for a fresh one,
    /// which the next call finds again by root's marker.
    #[test]
    fn a_squatted_default_is_passed_over() {
        if !nix::unistd::Uid::effective().is_root() {
            crate::say!("base::a_squatted_default_is_passed_over: skipped: needs root");
            return;
        }
        let dir = scratch("squat");
        let primary = dir.join("pgtmp-0");
        fs::create_dir(&primary).unwrap();
        std::os::unix::fs::chown(&primary, Some(65534), Some(65534)).unwrap();
        // Root's own, or the account's (107 here), would be usable.
        let usable = |f: &Found| match f {
            Found::Missing => true,
            Found::Dir { uid, made_for } => *uid == 0 || *uid == 107 || made_for.is_some(),
            _ => false,
        };
        let chosen = settle_default(primary.clone(), usable);
        assert_ne!(chosen, primary);
        assert!(chosen.starts_with(&dir), "{}", chosen.display());
        // Made by root for uid 107, as `prepare_base` does.
        fs::create_dir(&chosen).unwrap();
        let opened = open_dir(&chosen).unwrap();
        write_marker(&opened, Some(107));
        std::os::unix::fs::fchown(&opened, Some(107), Some(107)).unwrap();
        assert_eq!(settle_default(primary.clone(), usable), chosen);
        assert_eq!(inspect(&chosen).unwrap().made_for(), Some(107));
        // A link in the default's place is passed over too.
        fs::remove_dir(&primary).unwrap();
        std::os::unix::fs::symlink(&chosen, &primary).unwrap();
        assert_eq!(settle_default(primary.clone(), usable), chosen);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_planted_marker_link_is_replaced_not_followed() {
        let dir = scratch("marker");
        let target = dir.join("target");
        let base = dir.join("base");
        fs::create_dir(&base).unwrap();
        std::os::unix::fs::symlink(&target, base.join(MARKER)).unwrap();
        let opened = open_dir(&base).unwrap();
        assert!(!has_marker(&opened), "a link is no marker");
        write_marker(&opened, None);
        assert!(!target.exists(), "written through the link");
        assert!(has_marker(&opened));
        assert!(fs::symlink_metadata(base.join(MARKER)).unwrap().is_file());
        fs::remove_dir_all(&dir).unwrap();
    }
}
