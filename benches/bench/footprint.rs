//! What one idle instance costs: memory of the supervisor, the postmaster
//! and all its children, and the disk its directory takes; and the same for
//! a plain server started by pg_ctl, for comparison.
//!
//! Measured a second after the client left, when the server's background
//! workers have started and the instance is as it would sit waiting.

use std::path::Path;
use std::time::Duration;

use crate::client;
use crate::procfs;
use crate::results::Footprint;
use crate::scenarios::Bench;
use crate::server::Cluster;

const IDLE: Duration = Duration::from_secs(1);

pub fn pgtmp(bench: &mut Bench) -> Result<Footprint, String> {
    bench.settle();
    let handout = bench.pgtmp.start(&[])?;
    drop(client::select1(&handout.url)?);
    std::thread::sleep(IDLE);
    let info = bench.pgtmp.instance(&handout.url)?;
    let pid = |key: &str, pid: Option<u32>| pid.ok_or(format!("no `{key}` in {info:?}"));
    let roots = [
        pid("supervisor_pid", info.supervisor_pid)?,
        pid("pid", info.pid)?,
    ];
    measure("pgtmp instance (supervisor + postgres)", &roots, &info.dir)
}

pub fn cluster(label: &'static str, cluster: &Cluster) -> Result<Footprint, String> {
    let pid = cluster.postmaster_pid().ok_or("no postmaster.pid")?;
    measure(label, &[pid], &cluster.dir)
}

fn measure(label: &'static str, roots: &[u32], dir: &Path) -> Result<Footprint, String> {
    let pids = procfs::tree(roots);
    if pids.is_empty() {
        return Err(format!("none of {roots:?} is running"));
    }
    let (mut rss, mut pss) = (0, Some(0));
    for pid in &pids {
        // A backend may exit between listing and reading; skip it.
        if let Some((r, p)) = procfs::memory(*pid) {
            rss += r;
            pss = pss.zip(p).map(|(a, b)| a + b);
        }
    }
    Ok(Footprint {
        label,
        processes: pids.len(),
        rss_kib: rss,
        pss_kib: pss,
        disk_bytes: procfs::disk_usage(dir),
        dir: dir.display().to_string(),
    })
}
