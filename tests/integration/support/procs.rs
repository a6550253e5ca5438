//! Probing processes through /proc: alive or not, owner, and which processes
//! belong to a test root.
//!
//! A zombie counts as dead: a postmaster whose supervisor was killed is
//! reparented to PID 1, which may be slow to reap it, and its exit is what the
//! tests care about.

use std::fs;
use std::path::Path;
use std::process::Command;

/// Whether `pid` runs (exists and is not a zombie).
pub fn alive(pid: u32) -> bool {
    let Ok(stat) = fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    // The state follows the command name, which is in parentheses and may
    // itself contain spaces or parentheses.
    let state = stat
        .rsplit_once(')')
        .and_then(|(_, rest)| rest.split_whitespace().next());
    !matches!(state, None | Some("Z") | Some("X"))
}

/// The state letter of `pid` (`R`, `S`, `T` for stopped, `Z`...), from
/// /proc/PID/stat.
pub fn state(pid: u32) -> Option<char> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat.rsplit_once(')')?
        .1
        .split_whitespace()
        .next()?
        .chars()
        .next()
}

/// The real uid of `pid`, from /proc/PID/status.
pub fn uid(pid: u32) -> Option<u32> {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("Uid:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

pub fn my_uid() -> u32 {
    uid(std::process::id()).expect("own /proc/self/status has a Uid line")
}

pub fn is_root() -> bool {
    my_uid() == 0
}

/// The name of the user running the tests (pgtmp's role name for them).
pub fn my_name() -> String {
    let out = Command::new("id")
        .arg("-un")
        .output()
        .expect("run `id -un`");
    assert!(
        out.status.success(),
        "`id -un` failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Sends `SIG` (a name like `KILL`) with kill(1); failures (already gone,
/// not ours) are ignored.
pub fn signal(pid: u32, sig: &str) {
    let _ = Command::new("kill")
        .arg(format!("-{sig}"))
        .arg(pid.to_string())
        .output();
}

/// Sends `SIG` to every process of the process group `pgid`, as a shell's
/// `kill -SIG -PGID` (or a terminal) does.
pub fn signal_group(pgid: u32, sig: &str) {
    let _ = Command::new("kill")
        .arg(format!("-{sig}"))
        .arg("--")
        .arg(format!("-{pgid}"))
        .output();
}

/// The command line of `pid`, arguments separated by spaces.
pub fn cmdline(pid: u32) -> String {
    let raw = fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    String::from_utf8_lossy(&raw)
        .replace('\0', " ")
        .trim_end()
        .to_string()
}

/// Live processes (other than this one) whose working directory, executable,
/// command line or environment points at or into `root`: postgres works in
/// its data directory, the supervisor names its instance directory, a pool
/// refill inherits `PGTMP_DIR`.
pub fn touching(root: &Path) -> Vec<u32> {
    let me = std::process::id();
    let Ok(entries) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|&pid| pid != me && alive(pid) && points_into(pid, root))
        .collect()
}

fn points_into(pid: u32, root: &Path) -> bool {
    let inside = |p: &Path| p.starts_with(root);
    let link = |name: &str| fs::read_link(format!("/proc/{pid}/{name}"));
    if link("cwd").is_ok_and(|p| inside(&p)) || link("exe").is_ok_and(|p| inside(&p)) {
        return true;
    }
    let needle = root.as_os_str().as_encoded_bytes();
    ["cmdline", "environ"]
        .iter()
        .any(|name| fs::read(format!("/proc/{pid}/{name}")).is_ok_and(|raw| mentions(&raw, needle)))
}

/// Whether `haystack` names `root` itself or a path below it (not merely a
/// longer name that starts the same, like another test's root).
fn mentions(haystack: &[u8], root: &[u8]) -> bool {
    haystack.windows(root.len()).enumerate().any(|(i, w)| {
        w == root
            && matches!(
                haystack.get(i + root.len()),
                None | Some(b'/' | b'\0' | b' ' | b':')
            )
    })
}

/// The System V shared memory segment `id` as /proc/sysvipc/shm shows it:
/// its creator pid and how many processes are attached; None once gone.
pub fn shm_segment(id: i64) -> Option<(u32, u64)> {
    let table = fs::read_to_string("/proc/sysvipc/shm").ok()?;
    table.lines().skip(1).find_map(|line| {
        // key shmid perms size cpid lpid nattch uid gid ...
        let f: Vec<&str> = line.split_whitespace().collect();
        (f.get(1)?.parse::<i64>().ok()? == id)
            .then(|| Some((f.get(4)?.parse().ok()?, f.get(6)?.parse().ok()?)))
            .flatten()
    })
}

/// The pid a server recorded in line 1 of its `postmaster.pid`.
pub fn postmaster_pid(data_dir: &Path) -> Option<u32> {
    let text = fs::read_to_string(data_dir.join("postmaster.pid")).ok()?;
    text.lines().next()?.trim().parse().ok()
}

/// The shared memory segment id a running server recorded in line 7 of
/// its `postmaster.pid` (`key id`).
pub fn postmaster_segment(data_dir: &Path) -> Option<i64> {
    let text = fs::read_to_string(data_dir.join("postmaster.pid")).ok()?;
    text.lines().nth(6)?.split_whitespace().nth(1)?.parse().ok()
}

/// Kills every process that points into `root` at once, as a machine
/// losing power would: all are stopped first (SIGSTOP), so that none sees
/// another die and cleans up, then killed (SIGKILL). Returns how many.
pub fn kill_all_touching(root: &Path) -> usize {
    let send = |pid: u32, sig: i32| {
        // SAFETY: kill(2) has no memory-safety preconditions.
        unsafe { libc::kill(pid as i32, sig) };
    };
    let mut frozen = std::collections::BTreeSet::new();
    // Until no new process appears (one may be forking right now).
    loop {
        let found: Vec<u32> = touching(root)
            .into_iter()
            .filter(|p| !frozen.contains(p))
            .collect();
        if found.is_empty() {
            break;
        }
        for pid in found {
            send(pid, libc::SIGSTOP);
            frozen.insert(pid);
        }
    }
    for &pid in &frozen {
        send(pid, libc::SIGKILL);
    }
    frozen.len()
}
