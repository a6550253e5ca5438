//! The bench's own command line, resolved once into `Args`.
//!
//! Hand-parsed rather than clap: `cargo bench` appends `--bench` to the
//! arguments of a `harness = false` target, which we must accept and ignore.

use std::path::{Path, PathBuf};
use std::process::Command;

pub const USAGE: &str = "\
usage: cargo bench --bench bench -- [--quick] [--samples N] [--only KEYS] [--out DIR] [--pgtmp PATH] [--pg-bindir DIR]

  --quick          3 samples per scenario (for CI)
  --samples N      samples per scenario [default: 20, about 1.5 minutes]
  --only KEYS      only these scenarios, e.g. `warm,fixture`, `warm,burst,floor` `burst_first`,
                   `shared_tx`, `prove` or `versions` (a warm and a cold row per PostgreSQL
                   major found; never the footprint): to measure one change quickly
  --out DIR        where bench.json, bench.svg and bench.md go [default: bench-results]
  --pgtmp PATH     the binary under test [default: $PGTMP_BIN, else the release build]
  --pg-bindir DIR  PostgreSQL binaries [default: `pg_config --bindir`, else newest /usr/lib/postgresql/*/bin]";

/// Samples per scenario in a default run: keeps the whole run under three
/// minutes on a 2-core machine with tmpfs.
const DEFAULT_SAMPLES: usize = 20;
const QUICK_SAMPLES: usize = 3;

#[derive(Debug)]
pub struct Args {
    pub samples: usize,
    /// `--only`: the interleaved scenarios to run; `None` runs everything.
    pub only: Option<Vec<String>>,
    pub out: PathBuf,
    pub pgtmp: PathBuf,
    pub pg_bindir: PathBuf,
}

/// Parses the arguments after `--` (`--help` is handled before); an `Err`
/// is a usage error.
pub fn parse(mut it: impl Iterator<Item = String>) -> Result<Args, String> {
    let (mut samples, mut quick, mut only) = (None, false, None);
    let (mut out, mut pgtmp, mut bindir) = (None, None, None);
    while let Some(arg) = it.next() {
        let mut value = |name: &str| it.next().ok_or(format!("`{name}` needs a value"));
        match arg.as_str() {
            "--quick" => quick = true,
            "--samples" => {
                let v = value("--samples")?;
                let n: usize = v
                    .parse()
                    .map_err(|_| format!("`--samples {v}`: not a number"))?;
                if n == 0 {
                    return Err("`--samples` must be at least 1".into());
                }
                samples = Some(n);
            }
            "--only" => {
                let keys: Vec<String> = value("--only")?
                    .split(',')
                    .map(|k| k.trim().to_string())
                    .filter(|k| !k.is_empty())
                    .collect();
                if keys.is_empty() {
                    return Err("`--only` needs scenario keys, e.g. `warm,fixture`".into());
                }
                only = Some(keys);
            }
            "--out" => out = Some(PathBuf::from(value("--out")?)),
            "--pgtmp" => pgtmp = Some(PathBuf::from(value("--pgtmp")?)),
            "--pg-bindir" => bindir = Some(PathBuf::from(value("--pg-bindir")?)),
            // Added by `cargo bench` itself.
            "--bench" => {}
            other => return Err(format!("unexpected argument `{other}`")),
        }
    }
    let samples = samples.unwrap_or(if quick {
        QUICK_SAMPLES
    } else {
        DEFAULT_SAMPLES
    });
    Ok(Args {
        samples,
        only,
        out: out.unwrap_or_else(|| PathBuf::from("bench-results")),
        // Absolute: some scenarios run it from their own directory.
        pgtmp: std::path::absolute(pgtmp.unwrap_or_else(default_pgtmp))
            .map_err(|e| format!("--pgtmp: {e}"))?,
        pg_bindir: match bindir {
            Some(dir) => dir,
            None => find_pg_bindir().ok_or("no PostgreSQL found: pass `--pg-bindir DIR`")?,
        },
    })
}

/// `$PGTMP_BIN`, else the binary cargo built for this bench (the release
/// profile, i.e. `target/release/pgtmp` under whatever target dir is in use).
fn default_pgtmp() -> PathBuf {
    std::env::var_os("PGTMP_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_pgtmp")))
}

/// The same lookup pgtmp does: `pg_config --bindir`, else the newest
/// `/usr/lib/postgresql/*/bin`.
fn find_pg_bindir() -> Option<PathBuf> {
    let from_pg_config = Command::new("pg_config")
        .arg("--bindir")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()))
        .filter(|dir| has_server(dir));
    from_pg_config.or_else(|| {
        let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
            .ok()?
            .flatten()
            .filter_map(|e| {
                let version = e.file_name().to_str()?.parse().ok()?;
                Some((version, e.path().join("bin")))
            })
            .filter(|(_, dir)| has_server(dir))
            .collect();
        found.sort();
        found.pop().map(|(_, dir)| dir)
    })
}

fn has_server(dir: &Path) -> bool {
    dir.join("postgres").is_file() && dir.join("initdb").is_file()
}
