//! The budget of speculative copies: pool entries and spares, the full
//! copies of a template made ahead of demand. They may take at most a
//! quarter ([`SHARE`]) of the room there is for pgtmp: of the base
//! filesystem's free space (counting what they already hold), and of the
//! memory available (counting what they already use: a spare's server,
//! and on tmpfs, which is memory, their files too). So the more a template
//! weighs, the fewer copies are made ahead (none once one copy would pass
//! the quarter), and three quarters always stay for the hand-outs
//! themselves, which are never limited. The refill checks before every
//! copy; what is there already is used, not removed.
//!
//! A copy's size is its template's (the sum of the files' allocated
//! blocks, measured once per refill); a spare's server is counted at
//! [`SERVER_MEMORY`].

use std::collections::HashMap;
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use crate::paths::Layout;

/// The part of the room speculative copies may take: 1/`SHARE`.
pub const SHARE: u64 = 4;
/// The memory of one idle spare's processes beyond its files: shared
/// buffers (16 MB) and the processes' own.
pub const SERVER_MEMORY: u64 = 32 << 20;

/// What the refill may still copy; measures templates once.
#[derive(Debug)]
pub struct Budget<'a> {
    layout: &'a Layout,
    sizes: HashMap<String, u64>,
}

/// Where the room is counted and what is in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Room {
    /// Free bytes on the base filesystem.
    pub free: u64,
    /// Memory available: None where it cannot be told.
    pub memory: Option<u64>,
    /// The base filesystem is tmpfs: its files are memory.
    pub tmpfs: bool,
}

/// What speculative copies hold now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Held {
    /// Bytes of files (pool entries and spares' data directories).
    pub bytes: u64,
    /// Running spare servers.
    pub servers: u64,
}

impl<'a> Budget<'a> {
    pub fn new(layout: &'a Layout) -> Budget<'a> {
        Budget {
            layout,
            sizes: HashMap::new(),
        }
    }

    /// Whether one more copy of the template `key` fits, with a server on
    /// it (`server`: a spare) or not (a pool entry). Yes where the room
    /// cannot be measured.
    pub fn allows(&mut self, key: &str, server: bool) -> bool {
        let Some(room) = room(&self.layout.base) else {
            return true;
        };
        let size = self.size(key);
        let held = self.held();
        fits(room, held, size, server)
    }

    /// What the speculative copies of every template hold now.
    pub fn held(&mut self) -> Held {
        let mut held = Held::default();
        for (key, n) in pool_entries(self.layout) {
            held.bytes += n * self.size(&key);
        }
        for (key, n) in spares(self.layout) {
            held.bytes += n * self.size(&key);
            held.servers += n;
        }
        held
    }

    /// The size of a copy of the template `key` (0 if there is none).
    pub fn size(&mut self, key: &str) -> u64 {
        if let Some(&size) = self.sizes.get(key) {
            return size;
        }
        let size = tree_size(&self.layout.template(key));
        self.sizes.insert(key.to_string(), size);
        size
    }
}

/// The rule: one more copy of `size` bytes (with a server or not) keeps
/// what speculative copies hold within 1/[`SHARE`] of the room there would
/// be without them, on the filesystem and in memory.
pub fn fits(room: Room, held: Held, size: u64, server: bool) -> bool {
    let disk = held.bytes + size <= (room.free + held.bytes) / SHARE;
    let memory = room.memory.is_none_or(|available| {
        let files = |bytes: u64| if room.tmpfs { bytes } else { 0 };
        let used = files(held.bytes) + held.servers * SERVER_MEMORY;
        let more = files(size) + if server { SERVER_MEMORY } else { 0 };
        used + more <= (available + used) / SHARE
    });
    disk && memory
}

/// The room at the base directory now; None where it cannot be told.
pub fn room(base: &Path) -> Option<Room> {
    let st = nix::sys::statvfs::statvfs(base).ok()?;
    let tmpfs = nix::sys::statfs::statfs(base)
        .is_ok_and(|s| s.filesystem_type() == nix::sys::statfs::TMPFS_MAGIC);
    Some(Room {
        free: st.blocks_available() * st.fragment_size(),
        memory: memory_available(),
        tmpfs,
    })
}

/// The memory the kernel says is available (`MemAvailable`), or less
/// under a container's memory limit (cgroup v2, else v1).
fn memory_available() -> Option<u64> {
    let meminfo = fs::read_to_string("/proc/meminfo").ok()?;
    let kb: u64 = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemAvailable:"))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()?;
    let host = kb * 1024;
    let read = |path: &str| -> Option<u64> { fs::read_to_string(path).ok()?.trim().parse().ok() };
    let limited = [
        ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
        (
            "/sys/fs/cgroup/memory/memory.limit_in_bytes",
            "/sys/fs/cgroup/memory/memory.usage_in_bytes",
        ),
    ]
    .iter()
    .find_map(|(max, current)| Some(read(max)?.saturating_sub(read(current)?)));
    Some(limited.map_or(host, |l| l.min(host)))
}

/// Ready and half-made pool entries, per template key.
fn pool_entries(layout: &Layout) -> Vec<(String, u64)> {
    subdirs(&layout.pool_root())
        .into_iter()
        .map(|(key, dir)| {
            let n = fs::read_dir(dir).map(|rd| rd.count() as u64).unwrap_or(0);
            (key, n)
        })
        .collect()
}

/// Unclaimed spares (ready or starting), per template key: the tokens
/// in `spare/<key>-<listener>/` (see `spare`).
fn spares(layout: &Layout) -> Vec<(String, u64)> {
    subdirs(&layout.spare_root())
        .into_iter()
        .filter_map(|(class, dir)| {
            let key = class.rsplit_once('-')?.0.to_string();
            let n = fs::read_dir(dir).map(|rd| rd.count() as u64).unwrap_or(0);
            Some((key, n))
        })
        .collect()
}

fn subdirs(dir: &Path) -> Vec<(String, std::path::PathBuf)> {
    let Ok(rd) = fs::read_dir(dir) else {
        return Vec::new();
    };
    rd.flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .map(|e| (e.file_name().to_string_lossy().into_owned(), e.path()))
        .collect()
}

/// The blocks the files below `dir` take, in bytes.
fn tree_size(dir: &Path) -> u64 {
    let mut total = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(path) = stack.pop() {
        let Ok(rd) = fs::read_dir(&path) else {
            continue;
        };
        for entry in rd.flatten() {
            let Ok(meta) = entry.metadata() else {
                continue;
            };
            total += meta.blocks() * 512;
            if meta.is_dir() {
                stack.push(entry.path());
            }
        }
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    const MB: u64 = 1 << 20;

    fn room(free: u64, memory: Option<u64>, tmpfs: bool) -> Room {
        Room {
            free: free * MB,
            memory: memory.map(|m| m * MB),
            tmpfs,
        }
    }

    fn held(bytes: u64, servers: u64) -> Held {
        Held {
            bytes: bytes * MB,
            servers,
        }
    }

    #[test]
    fn a_quarter_of_the_room() {
        // 400 MB free, nothing held: up to 100 MB.
        assert!(fits(room(400, None, false), held(0, 0), 100 * MB, false));
        assert!(!fits(room(400, None, false), held(0, 0), 101 * MB, false));
        // What is held counts as room it would free: 300 free + 100 held
        // is 400, of which 100 is held already.
        assert!(!fits(room(300, None, false), held(100, 0), MB, false));
        // 300 free + 60 held: 90 in all.
        assert!(fits(room(300, None, false), held(60, 0), 30 * MB, false));
        assert!(!fits(room(300, None, false), held(60, 0), 31 * MB, false));
    }

    #[test]
    fn large_templates_get_fewer_copies() {
        let copies = |size: u64| {
            let mut n = 0;
            let mut free = 6000;
            while fits(room(free, None, false), held(n * size, 0), size * MB, false) {
                n += 1;
                free -= size;
            }
            n
        };
        assert_eq!(copies(35), 42);
        assert_eq!(copies(260), 5);
        assert_eq!(copies(2000), 0);
    }

    #[test]
    fn memory_counts_servers_and_tmpfs_files() {
        // Plenty of disk, 300 MB of memory: a spare (35 MB on tmpfs and
        // a server) fits once; a pool entry on disk costs no memory.
        let r = room(100_000, Some(300), true);
        assert!(fits(r, held(0, 0), 35 * MB, true));
        assert!(!fits(r, held(35, 1), 35 * MB, true));
        let disk = room(100_000, Some(300), false);
        assert!(fits(disk, held(35, 1), 35 * MB, false));
    }
}
