//! Where pgtmp keeps its files: the per-user base directory and its layout.
//!
//! Data directories live on tmpfs when it has room: copying a 35 MB data
//! directory costs ~30 ms on tmpfs and ~600 ms on a slow disk, which matters
//! more than any code path.

use std::fs;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use crate::base::MARKER;
use crate::error::{BaseProblem, Error, Result};
use crate::platform;

/// Free space a tmpfs needs before we put data directories on it.
const MIN_TMPFS_ROOM: u64 = 256 * 1024 * 1024;

/// Picks the base directory: `PGTMP_DIR` as given, else `pgtmp-UID` in
/// pg_tmp's `$SYSTMP`, else a tmpfs with room, else `$TMPDIR` or `/tmp`.
/// `XDG_RUNTIME_DIR` is skipped for root, whose runtime directory the
/// `--run-as` account cannot enter. Under `SYSTMP`, as under `/tmp`, the
/// base is a directory of its own, which is checked and made private like
/// any other: `SYSTMP` itself may be shared.
pub fn choose_base(
    explicit: Option<PathBuf>,
    systmp: Option<PathBuf>,
    uid: u32,
    as_root: bool,
) -> PathBuf {
    if let Some(dir) = explicit {
        return dir;
    }
    if let Some(dir) = systmp {
        return dir.join(format!("pgtmp-{uid}"));
    }
    if !as_root
        && let Some(xdg) = std::env::var_os("XDG_RUNTIME_DIR").map(PathBuf::from)
        && xdg.is_absolute()
        && has_room(&xdg)
    {
        return xdg.join("pgtmp");
    }
    if let Some(fast) = platform::FAST_DIR.map(Path::new)
        && has_room(fast)
    {
        return fast.join(format!("pgtmp-{uid}"));
    }
    let tmp = std::env::var_os("TMPDIR")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .unwrap_or_else(|| PathBuf::from("/tmp"));
    tmp.join(format!("pgtmp-{uid}"))
}

fn has_room(dir: &Path) -> bool {
    match nix::sys::statvfs::statvfs(dir) {
        Ok(st) => st.blocks_available() * st.fragment_size() >= MIN_TMPFS_ROOM,
        Err(_) => false,
    }
}

/// What a base directory holds that an earlier pgtmp made without the marker.
const OWN_ENTRIES: &[&str] = &[
    MARKER,
    "run",
    "pool",
    "initdb",
    "templates",
    "spare",
    // Before pgtmp called them spares (issue 17).
    "standby",
    "refill.log",
    "pg_config.cache",
    "pg.cache",
    "digests.json",
    "snapshots",
    "gc.lock",
];

/// Creates the base directory (mode 0700) if needed and checks that it is a
/// real directory owned by `owner`, so that nobody else can plant files in
/// it, and that it is pgtmp's: one it made, or one that was empty. A
/// directory of the user's (`PGTMP_DIR=/tmp`, `PGTMP_DIR=$HOME`) is refused
/// before anything in it changes. As root, a fresh directory (or one root
/// made earlier) is handed to the `--run-as` account, and one belonging to
/// anyone else is refused. Every step works on the directory opened without
/// following a link (`base` module): a link in its place is refused too.
pub fn prepare_base(base: &Path, owner: (u32, u32), as_root: bool) -> Result<()> {
    if let Some(parent) = base.parent()
        && !parent.as_os_str().is_empty()
        && !parent.exists()
    {
        fs::create_dir_all(parent).map_err(Error::io("create", parent))?;
    }
    let created = match fs::DirBuilder::new().mode(0o700).create(base) {
        Ok(()) => true,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => false,
        Err(e) => return Err(Error::io("create", base)(e)),
    };
    let dir = match crate::base::open_dir(base) {
        Ok(dir) => dir,
        Err(e) if matches!(e.raw_os_error(), Some(libc::ELOOP | libc::ENOTDIR)) => {
            return Err(refuse(base, not_a_directory(base)));
        }
        // Another user's private directory: say whose it is.
        Err(e) => {
            return Err(match fs::symlink_metadata(base) {
                Ok(m) if m.is_dir() && m.uid() != owner.0 => {
                    refuse(base, not_ours(m.uid(), owner.0, as_root))
                }
                _ => Error::io("open", base)(e),
            });
        }
    };
    let meta = dir.metadata().map_err(Error::io("inspect", base))?;
    let handed_over = meta.uid() == owner.0;
    let ours_to_take = as_root && meta.uid() == 0;
    if !handed_over && !ours_to_take {
        return Err(refuse(base, not_ours(meta.uid(), owner.0, as_root)));
    }
    let listed = platform::fd_path(&dir);
    if !created && !crate::base::has_marker(&dir) && !holds_only_own_entries(&listed, owner.0)? {
        return Err(refuse(base, BaseProblem::Foreign));
    }
    if !handed_over {
        std::os::unix::fs::fchown(&dir, Some(owner.0), Some(owner.1))
            .map_err(Error::io("chown", base))?;
    }
    if meta.mode() & 0o077 != 0 {
        dir.set_permissions(fs::Permissions::from_mode(0o700))
            .map_err(Error::io("chmod", base))?;
    }
    crate::base::write_marker(&dir, as_root.then_some(owner.0));
    Ok(())
}

fn refuse(base: &Path, problem: BaseProblem) -> Error {
    Error::BaseDir {
        path: base.to_path_buf(),
        problem,
    }
}

/// The base belongs to `uid`, who is neither `owner` nor, as root, root.
fn not_ours(uid: u32, owner: u32, as_root: bool) -> BaseProblem {
    BaseProblem::Owner {
        uid,
        want: owner,
        as_root,
    }
}

/// The base is a link or a file: say which, and where a link points.
fn not_a_directory(base: &Path) -> BaseProblem {
    match fs::read_link(base) {
        Ok(target) => BaseProblem::Link(target),
        Err(_) => BaseProblem::NotADirectory,
    }
}

/// Whether everything in `base` is what an earlier pgtmp would have made
/// there: its names, owned by `owner`, directories private (true when empty).
/// The marker itself, which a concurrent first call may have just written
/// (and not yet handed over, as root), settles it.
fn holds_only_own_entries(base: &Path, owner: u32) -> Result<bool> {
    let entries = fs::read_dir(base)
        .and_then(|rd| rd.collect::<std::io::Result<Vec<_>>>())
        .map_err(Error::io("read", base))?;
    let marker =
        |e: &fs::DirEntry| e.file_name() == MARKER && e.file_type().is_ok_and(|t| t.is_file());
    if entries.iter().any(marker) {
        return Ok(true);
    }
    for entry in entries {
        let meta = entry
            .metadata()
            .map_err(Error::io("inspect", entry.path()))?;
        let own_name = OWN_ENTRIES.iter().any(|own| entry.file_name() == *own);
        let private = !meta.is_dir() || meta.mode() & 0o077 == 0;
        if !own_name || meta.uid() != owner || !private {
            return Ok(false);
        }
    }
    Ok(true)
}

/// The layout below the base directory.
#[derive(Debug, Clone)]
pub struct Layout {
    pub base: PathBuf,
}

impl Layout {
    pub fn new(base: PathBuf) -> Layout {
        Layout { base }
    }

    /// `run/`: one directory per instance.
    pub fn run_dir(&self) -> PathBuf {
        self.base.join("run")
    }

    pub fn instance(&self, id: &str) -> PathBuf {
        self.run_dir().join(id)
    }

    /// `pool/`: ready copies of a template, one folder per template key.
    pub fn pool_root(&self) -> PathBuf {
        self.base.join("pool")
    }

    pub fn pool(&self, key: &str) -> PathBuf {
        self.pool_root().join(key)
    }

    /// Held by the one process filling a pool.
    pub fn pool_lock(&self, key: &str) -> PathBuf {
        self.pool_root().join(format!("{key}.lock"))
    }

    /// `initdb/`: the data directories `pgtmp initdb` printed, for `start
    /// -d`; out of the pool's reach, deleted when their server stops
    /// (unless kept) or by `stop -d`.
    pub fn initdb_dir(&self) -> PathBuf {
        self.base.join("initdb")
    }

    /// Where `dir`, a `-d` directory, lies: in `initdb/`, in what pgtmp
    /// hands out or builds from (`pool/`, `templates/`, `spare/`), or
    /// elsewhere (a directory of the user's, or data a `-k` kept).
    pub fn place(&self, dir: &Path) -> Place {
        let Some(dir) = resolve(dir) else {
            return Place::Elsewhere;
        };
        let Some(base) = resolve(&self.base) else {
            return Place::Elsewhere;
        };
        if dir.parent() == Some(base.join("initdb").as_path()) {
            return Place::Initdb;
        }
        let internal = ["pool", "templates", "spare", "standby", "initdb"]
            .iter()
            .any(|sub| dir.starts_with(base.join(sub)));
        if internal || dir == base {
            Place::Internal
        } else {
            Place::Elsewhere
        }
    }

    /// `templates/`: one initdb'd, cleanly stopped data directory per key.
    pub fn templates(&self) -> PathBuf {
        self.base.join("templates")
    }

    pub fn template(&self, key: &str) -> PathBuf {
        self.templates().join(key)
    }

    /// Held while a template is being built.
    pub fn template_lock(&self, key: &str) -> PathBuf {
        self.templates().join(format!("{key}.lock"))
    }

    /// Its mtime says when a template was last handed out.
    pub fn template_used(&self, key: &str) -> PathBuf {
        self.templates().join(format!("{key}.used"))
    }

    /// A fixture template's origin (`Fixture::origin`): what gc tells
    /// superseded fixture templates by.
    pub fn template_origin(&self, key: &str) -> PathBuf {
        self.templates().join(format!("{key}.origin"))
    }

    /// `snapshots/`: one record `NAME.json` per snapshot, naming its
    /// template.
    pub fn snapshots(&self) -> PathBuf {
        self.base.join("snapshots")
    }

    pub fn snapshot(&self, name: &str) -> PathBuf {
        self.snapshots().join(format!("{name}.json"))
    }

    /// Digests of large fixture files, by file identity (`fixture::memo`).
    pub fn digest_memo(&self) -> PathBuf {
        self.base.join("digests.json")
    }

    /// Digests of `--key` paths, by the identity of what they read
    /// (`setup::memo`).
    pub fn setup_digests(&self) -> PathBuf {
        self.base.join("setup-digests")
    }

    /// What background pool refills had to say.
    pub fn refill_log(&self) -> PathBuf {
        self.base.join("refill.log")
    }

    /// `spare/`: one folder per class of spare (template key and
    /// listener), holding a token file per ready, unclaimed server.
    pub fn spare_root(&self) -> PathBuf {
        self.base.join("spare")
    }

    pub fn spare(&self, class: &str) -> PathBuf {
        self.spare_root().join(class)
    }

    /// Held by the one process starting spares of a class.
    pub fn spare_lock(&self, class: &str) -> PathBuf {
        self.spare_root().join(format!("{class}.lock"))
    }

    /// Touched by `stop --all`: refills running since then start no more
    /// spares.
    pub fn spare_halt(&self) -> PathBuf {
        self.spare_root().join("halt")
    }

    /// Recent hand-outs of a class, which size its spare pool.
    pub fn spare_demand(&self, class: &str) -> PathBuf {
        self.spare_root().join(format!("{class}.demand"))
    }

    /// Held by the one process collecting garbage (`gc`).
    pub fn gc_lock(&self) -> PathBuf {
        self.base.join("gc.lock")
    }

    /// What finding PostgreSQL learnt by running programs: where
    /// `pg_config --bindir` pointed (a slow script) and each `postgres`
    /// binary's version.
    pub fn pg_cache(&self) -> PathBuf {
        self.base.join("pg.cache")
    }
}

/// See `Layout::place`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    Initdb,
    Internal,
    Elsewhere,
}

/// `path` made absolute with its symbolic links resolved, also when it does
/// not exist (yet): its deepest existing ancestor is resolved.
fn resolve(path: &Path) -> Option<PathBuf> {
    let path = std::path::absolute(path).ok()?;
    let mut missing = Vec::new();
    let mut at = path.as_path();
    loop {
        if let Ok(real) = at.canonicalize() {
            return Some(missing.iter().rev().fold(real, |p, name| p.join(name)));
        }
        missing.push(at.file_name()?);
        at = at.parent()?;
    }
}

/// The bytes of the regular file `path`, at most `max` of them; `None`
/// when it is missing, unreadable, larger or anything but a regular file.
/// Opened without following a link or blocking on a FIFO: as root this
/// reads files of the base directory before privileges are dropped, where
/// the `--run-as` account could have planted anything.
pub fn read_plain(path: &Path, max: u64) -> Option<Vec<u8>> {
    use std::io::Read;
    let file = open_plain(path).ok()?;
    let meta = file.metadata().ok()?;
    if !meta.is_file() || meta.len() > max {
        return None;
    }
    let mut bytes = Vec::new();
    file.take(max).read_to_end(&mut bytes).ok()?;
    Some(bytes)
}

/// Opens `path` for reading without following a link (ELOOP) or blocking
/// on a FIFO; the caller checks it is a regular file.
pub fn open_plain(path: &Path) -> std::io::Result<fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)
}

/// Creates `dir` (and missing parents) with mode 0700.
pub fn mkdir_private(dir: &Path) -> Result<()> {
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(Error::io("create", dir))
}

/// The directory for an instance's Unix socket: the instance directory when
/// `<dir>/.s.PGSQL.<port>` fits the OS limit, else a short private directory
/// under /tmp (a long `$TMPDIR` must not break the URL).
pub fn socket_dir(instance: &Path, id: &str, uid: u32) -> Result<(PathBuf, bool)> {
    socket_dir_for(instance, &format!("pgtmp-{uid}-{id}"), "")
}

/// The socket directory of a server whose socket goes in `dir`, or in
/// `sub` below it (a set's stream socket, `sub` like `/stream`): `dir`
/// when the deeper socket path fits, else `/tmp/<fallback>`, made here,
/// private. True when it is the fallback, to be removed with its instance.
pub fn socket_dir_for(dir: &Path, fallback: &str, sub: &str) -> Result<(PathBuf, bool)> {
    let socket_len = dir.as_os_str().len() + sub.len() + "/.s.PGSQL.65535".len();
    if socket_len <= platform::MAX_SOCKET_PATH {
        return Ok((dir.to_path_buf(), false));
    }
    let dir = PathBuf::from("/tmp").join(fallback);
    fs::DirBuilder::new()
        .mode(0o700)
        .create(&dir)
        .map_err(Error::io("create socket directory", &dir))?;
    Ok((dir, true))
}

/// Builds a directory at `tmp` and renames it to `dest` once complete, so
/// that nobody ever sees it half-made; on failure `tmp` is removed.
pub fn publish(tmp: &Path, dest: &Path, build: impl FnOnce(&Path) -> Result<()>) -> Result<()> {
    let made =
        build(tmp).and_then(|()| fs::rename(tmp, dest).map_err(Error::io("rename into", dest)));
    if made.is_err() {
        let _ = remove_tree(tmp);
    }
    made
}

/// Removes a tree, treating "already gone" as success.
pub fn remove_tree(path: &Path) -> Result<()> {
    match fs::remove_dir_all(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::io("remove", path)(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explicit_base_wins() {
        let p = choose_base(Some("/x/y".into()), Some("/s".into()), 1000, false);
        assert_eq!(p, PathBuf::from("/x/y"));
        let p = choose_base(None, Some("/s".into()), 1000, false);
        assert_eq!(p, PathBuf::from("/s/pgtmp-1000"));
    }

    #[test]
    fn only_what_pgtmp_makes_counts_as_its_own() {
        let base = std::env::temp_dir().join(format!("pgtmp-own-{}", std::process::id()));
        fs::create_dir_all(&base).unwrap();
        let me = nix::unistd::Uid::effective().as_raw();
        assert!(holds_only_own_entries(&base, me).unwrap(), "empty");
        mkdir_private(&base.join("run")).unwrap();
        fs::write(base.join("refill.log"), "").unwrap();
        assert!(holds_only_own_entries(&base, me).unwrap(), "an old base");
        assert!(!holds_only_own_entries(&base, me + 1).unwrap(), "another's");
        // A concurrent first call's marker, not yet handed over: ours.
        fs::write(base.join(MARKER), "").unwrap();
        assert!(holds_only_own_entries(&base, me + 1).unwrap(), "marked");
        fs::remove_file(base.join(MARKER)).unwrap();
        fs::write(base.join("notes.txt"), "mine").unwrap();
        assert!(!holds_only_own_entries(&base, me).unwrap(), "a user's file");
        fs::remove_dir_all(&base).unwrap();
    }

    #[test]
    fn data_directories_are_told_by_where_they_lie() {
        let base = std::env::temp_dir().join(format!("pgtmp-place-{}", std::process::id()));
        fs::create_dir_all(base.join("initdb/abc")).unwrap();
        let layout = Layout::new(base.clone());
        assert_eq!(layout.place(&base.join("initdb/abc")), Place::Initdb);
        assert_eq!(layout.place(&base.join("initdb/gone")), Place::Initdb);
        assert_eq!(layout.place(&base.join("initdb/abc/x")), Place::Internal);
        assert_eq!(layout.place(&base.join("pool/t1/x")), Place::Internal);
        assert_eq!(layout.place(&base.join("templates/t1")), Place::Internal);
        assert_eq!(layout.place(&base), Place::Internal);
        assert_eq!(layout.place(&base.join("run/x/data")), Place::Elsewhere);
        assert_eq!(layout.place(Path::new("/somewhere/else")), Place::Elsewhere);
        fs::remove_dir_all(&base).unwrap();
    }

    #[test]
    fn short_instance_dirs_hold_their_socket() {
        let (dir, fallback) = socket_dir(Path::new("/dev/shm/pgtmp-1/run/abc"), "abc", 1).unwrap();
        assert_eq!(dir, PathBuf::from("/dev/shm/pgtmp-1/run/abc"));
        assert!(!fallback);
    }

    #[test]
    fn long_instance_dirs_fall_back_to_tmp() {
        let long = PathBuf::from(format!("/{}/run/abc", "x".repeat(120)));
        let id = format!("t{}", std::process::id());
        let (dir, fallback) = socket_dir(&long, &id, 4242).unwrap();
        assert!(fallback);
        assert!(dir.as_os_str().len() + 15 <= platform::MAX_SOCKET_PATH);
        fs::remove_dir(dir).unwrap();
    }
}
