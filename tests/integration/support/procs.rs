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
