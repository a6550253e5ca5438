//! The scenarios of issue 15: `--setup` with a shell loop over 50
//! migrations (the first call, which runs them, and the cached hand-outs
//! that follow), `snapshot` and `reset` of a running instance, and a
//! hand-out without spares (a pool entry and a server start, which is what
//! a reset costs when no spare can take the instance's place) to compare
//! the reset with.
//!
//! The migrations run through the psql of the PostgreSQL under test; a
//! first call needs a key of its own, so each round edits the last
//! migration, and its template (with pool) is removed afterwards so that
//! the run does not fill the tmpfs.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::client;
use crate::pgtmp::Pgtmp;
use crate::workspace::Workspace;

/// Migrations in the shell loop.
pub const MIGRATIONS: usize = 50;

/// The project a `--setup` runs in: its directory and the key of the
/// cached setup.
#[derive(Debug)]
pub struct Project {
    pub dir: PathBuf,
}

impl Project {
    /// Writes the migrations and the loop into the workspace.
    pub fn write(ws: &Workspace, pg_bindir: &Path) -> Result<Project, String> {
        let dir = ws.path("migrations-project");
        let migrations = dir.join("migrations");
        std::fs::create_dir_all(&migrations)
            .map_err(|e| format!("creating {}: {e}", migrations.display()))?;
        for i in 0..MIGRATIONS {
            let mut sql = String::new();
            let _ = writeln!(
                sql,
                "create table t{i:02} (id bigint generated always as identity primary key, \
                 name text not null, created timestamptz not null default now());"
            );
            let _ = writeln!(sql, "create index t{i:02}_name on t{i:02} (name);");
            let _ = writeln!(sql, "insert into t{i:02} (name) values ('row {i}');");
            let path = migrations.join(format!("{i:03}_t{i:02}.sql"));
            std::fs::write(&path, sql).map_err(|e| format!("writing {}: {e}", path.display()))?;
        }
        let script = format!(
            "set -e\nfor f in migrations/*.sql; do\n  {} -X -q -v ON_ERROR_STOP=1 -f \"$f\"\ndone\n",
            pg_bindir.join("psql").display()
        );
        let path = dir.join("migrate.sh");
        std::fs::write(&path, script).map_err(|e| format!("writing {}: {e}", path.display()))?;
        Ok(Project { dir })
    }

    /// The `--setup` arguments, run in the project's directory.
    pub fn args(&self) -> [&str; 4] {
        ["--setup", "sh migrate.sh", "--key", "migrations"]
    }

    /// A cached hand-out: start to the first answered `select 1`.
    pub fn handout(&self, pgtmp: &Pgtmp) -> Result<Duration, String> {
        let t0 = Instant::now();
        let handout = pgtmp.start_in(&self.dir, &self.args())?;
        let _client = client::select1(&handout.url)?;
        Ok(t0.elapsed())
    }

    /// A first call: the last migration edited for a new key, the setup
    /// run, the copy handed out; then the template it made removed.
    pub fn first(&self, pgtmp: &Pgtmp, round: usize) -> Result<Duration, String> {
        let edited = self.dir.join("migrations/zzz_round.sql");
        std::fs::write(
            &edited,
            format!("comment on table t00 is 'round {round}';\n"),
        )
        .map_err(|e| format!("writing {}: {e}", edited.display()))?;
        let before = setup_templates(&pgtmp.base);
        let outcome = self.handout(pgtmp);
        let _ = std::fs::remove_file(&edited);
        // Its pool is filled in the background: wait, then remove it all.
        let _ = pgtmp.wait_pool_full(Duration::from_secs(30));
        for key in setup_templates(&pgtmp.base)
            .into_iter()
            .filter(|k| !before.contains(k))
        {
            let _ = std::fs::remove_dir_all(pgtmp.base.join("templates").join(&key));
            let _ = std::fs::remove_dir_all(pgtmp.base.join("pool").join(&key));
        }
        outcome
    }
}

/// The setup templates' keys under `base`.
fn setup_templates(base: &Path) -> Vec<String> {
    std::fs::read_dir(base.join("templates")).map_or_else(
        |_| Vec::new(),
        |entries| {
            entries
                .flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.starts_with('s') && !n.contains('.'))
                .collect()
        },
    )
}

/// A long-lived instance that is reset and snapshotted.
#[derive(Debug)]
pub struct Target {
    pub url: String,
}

impl Target {
    /// Starts it (no idle timeout; stopped with the workspace).
    pub fn start(pgtmp: &Pgtmp) -> Result<Target, String> {
        let handout = pgtmp.start(&["-w", "0"])?;
        let url = handout.url.clone();
        handout.forget();
        client::select1(&url)?;
        Ok(Target { url })
    }

    /// Writes into it (untimed), then: `pgtmp reset URL` to the first
    /// answered `select 1` on a new connection.
    pub fn reset(&self, pgtmp: &Pgtmp) -> Result<Duration, String> {
        let mut client = client::select1(&self.url)?;
        client
            .batch_execute("create table scribble (x int)")
            .map_err(|e| format!("writing into {}: {e}", self.url))?;
        drop(client);
        let t0 = Instant::now();
        pgtmp.run(&["reset", &self.url])?;
        let _client = client::select1(&self.url)?;
        Ok(t0.elapsed())
    }

    /// `pgtmp snapshot URL bench` (taken again each time, so the older
    /// one goes), to its exit.
    pub fn snapshot(&self, pgtmp: &Pgtmp) -> Result<Duration, String> {
        let t0 = Instant::now();
        pgtmp.run(&["snapshot", &self.url, "bench"])?;
        Ok(t0.elapsed())
    }
}
