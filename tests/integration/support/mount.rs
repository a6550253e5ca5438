//! A small tmpfs mounted for one test, as root: a full disk, a read-only
//! filesystem. The guard detaches it even when the test fails; lazily, so
//! that a process still inside cannot keep it mounted (the root's guard then
//! kills that process, which lets the kernel free the filesystem).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::procs;
use super::root::{TestRoot, set_mode};

#[derive(Debug)]
pub struct Tmpfs {
    path: PathBuf,
}

impl Tmpfs {
    /// Mounts a tmpfs of `size` (as mount(8) takes it: `20m`) at `rel` in
    /// the root. None, said on stderr past the output capture, when the
    /// tests cannot mount (not root, or a container without the right).
    pub fn mount(t: &TestRoot, rel: &str, size: &str, test: &str) -> Option<Tmpfs> {
        if !procs::is_root() {
            let _ = writeln!(std::io::stderr(), "{test}: skipped: mounting needs root");
            return None;
        }
        let path = t.mkdir(rel);
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o"])
            .arg(format!("size={size},mode=0755"))
            .arg("tmpfs")
            .arg(&path)
            .output()
            .expect("run mount(8)");
        if !out.status.success() {
            let _ = writeln!(
                std::io::stderr(),
                "{test}: skipped: cannot mount a tmpfs: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            );
            return None;
        }
        set_mode(&path, 0o755);
        Some(Tmpfs { path })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// `mount -o remount,OPTS`, e.g. `size=200m` or `ro`.
    pub fn remount(&self, opts: &str) {
        let out = Command::new("mount")
            .args(["-o", &format!("remount,{opts}")])
            .arg(&self.path)
            .output()
            .expect("run mount(8)");
        assert!(
            out.status.success(),
            "remount {opts} {}: {}",
            self.path.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let out = Command::new("umount").arg("-l").arg(&self.path).output();
        if !matches!(&out, Ok(o) if o.status.success()) {
            eprintln!("guard: cannot unmount {}: {out:?}", self.path.display());
        }
    }
}
