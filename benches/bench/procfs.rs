//! What `/proc` says about processes: liveness, process trees, memory, and
//! which processes belong to a directory of ours.
//!
//! Memory is reported both as RSS, which counts shared pages (the postmaster's
//! shared buffers, the binary) once per process, and PSS, which splits them
//! among their sharers and so adds up to what the instance really costs.

use std::collections::{HashMap, HashSet};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// The state letter and parent pid from `/proc/PID/stat`.
fn stat(pid: u32) -> Option<(char, u32)> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name is in parentheses and may contain anything.
    let rest = &text[text.rfind(')')? + 2..];
    let mut fields = rest.split(' ');
    let state = fields.next()?.chars().next()?;
    let ppid = fields.next()?.parse().ok()?;
    Some((state, ppid))
}

/// Running, and not a zombie waiting for its parent.
pub fn alive(pid: u32) -> bool {
    matches!(stat(pid), Some((state, _)) if state != 'Z' && state != 'X')
}

fn pids() -> Vec<u32> {
    std::fs::read_dir("/proc")
        .map(|dir| {
            dir.flatten()
                .filter_map(|e| e.file_name().to_str()?.parse().ok())
                .collect()
        })
        .unwrap_or_default()
}

/// `roots` and all their living descendants.
pub fn tree(roots: &[u32]) -> Vec<u32> {
    let mut children: HashMap<u32, Vec<u32>> = HashMap::new();
    for pid in pids() {
        if let Some((state, ppid)) = stat(pid)
            && state != 'Z'
        {
            children.entry(ppid).or_default().push(pid);
        }
    }
    let mut seen: HashSet<u32> = HashSet::new();
    let mut todo: Vec<u32> = roots.iter().copied().filter(|p| alive(*p)).collect();
    while let Some(pid) = todo.pop() {
        if seen.insert(pid) {
            todo.extend(children.get(&pid).into_iter().flatten());
        }
    }
    let mut all: Vec<u32> = seen.into_iter().collect();
    all.sort();
    all
}

/// `(rss_kib, pss_kib)`; PSS is `None` when `smaps_rollup` is unreadable.
pub fn memory(pid: u32) -> Option<(u64, Option<u64>)> {
    let field = |text: &str, name: &str| {
        text.lines()
            .find(|l| l.starts_with(name))?
            .split_whitespace()
            .nth(1)?
            .parse::<u64>()
            .ok()
    };
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let rss = field(&status, "VmRSS:")?;
    let pss = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup"))
        .ok()
        .and_then(|t| field(&t, "Pss:"));
    Some((rss, pss))
}

/// Bytes allocated under `path`, like `du -s`: hard links counted once,
/// symlinks not followed.
pub fn disk_usage(path: &Path) -> u64 {
    let mut seen = HashSet::new();
    let mut total = 0;
    let mut todo = vec![path.to_path_buf()];
    while let Some(p) = todo.pop() {
        let Ok(meta) = std::fs::symlink_metadata(&p) else {
            continue;
        };
        if seen.insert((meta.dev(), meta.ino())) {
            total += meta.blocks() * 512;
        }
        if meta.is_dir()
            && let Ok(entries) = std::fs::read_dir(&p)
        {
            todo.extend(entries.flatten().map(|e| e.path()));
        }
    }
    total
}

/// Processes (other than this one) whose command line, environment or
/// working directory mentions `root`: PostgreSQL backends chdir into their
/// data directory, pgtmp's helpers get `PGTMP_DIR` in their environment.
pub fn referencing(root: &Path) -> Vec<u32> {
    let needle = root.as_os_str().as_bytes();
    let contains = |hay: &[u8]| hay.windows(needle.len()).any(|w| w == needle);
    let me = std::process::id();
    pids()
        .into_iter()
        .filter(|pid| *pid != me && alive(*pid))
        .filter(|pid| {
            let read =
                |what: &str| std::fs::read(format!("/proc/{pid}/{what}")).unwrap_or_default();
            let cwd = std::fs::read_link(format!("/proc/{pid}/cwd")).unwrap_or_default();
            contains(&read("cmdline")) || contains(&read("environ")) || cwd.starts_with(root)
        })
        .collect()
}

pub fn kill(pid: u32, signal: libc::c_int) {
    // SAFETY: plain kill(2) on a pid we found under our own directory.
    unsafe { libc::kill(pid as libc::pid_t, signal) };
}
