//! How people get a throwaway PostgreSQL without pgtmp, timed the same way:
//! from the first command to the first answered `select 1`.
//!
//! - naive: initdb, `pg_ctl start -w`, `createdb test` for every database
//!   (testing.postgresql, testgres, pgtemp);
//! - pg_tmp-style: the initdb'd directory is ready beforehand (copied outside
//!   the timing), only `pg_ctl start -w` and `createdb test` are paid;
//! - floor: a connection to a server that is already running;
//! - initdb alone, the yardstick for pgtmp's cold start.

use std::time::{Duration, Instant};

use crate::client;
use crate::server::{Cluster, Pg};
use crate::workspace::Workspace;

#[derive(Debug)]
pub struct Baselines<'a> {
    pg: &'a Pg,
    ws: &'a Workspace,
    /// initdb'd once, never started: the source of pg_tmp-style copies.
    template: Cluster<'a>,
    /// Runs for the whole bench.
    pub floor: Cluster<'a>,
    made: usize,
}

impl<'a> Baselines<'a> {
    pub fn prepare(pg: &'a Pg, ws: &'a Workspace) -> Result<Baselines<'a>, String> {
        let template = Cluster::new(pg, ws.path("template"))?;
        template.initdb()?;
        let mut floor = Cluster::new(pg, ws.path("floor"))?;
        floor.copy_from(&template.data())?;
        floor.start()?;
        floor.createdb("test")?;
        Ok(Baselines {
            pg,
            ws,
            template,
            floor,
            made: 0,
        })
    }

    fn fresh(&mut self, kind: &str) -> Result<Cluster<'a>, String> {
        self.made += 1;
        Cluster::new(self.pg, self.ws.path(&format!("{kind}-{}", self.made)))
    }

    pub fn initdb(&mut self) -> Result<Duration, String> {
        let cluster = self.fresh("initdb")?;
        let t0 = Instant::now();
        cluster.initdb()?;
        Ok(t0.elapsed())
    }

    pub fn naive(&mut self) -> Result<Duration, String> {
        let mut cluster = self.fresh("naive")?;
        let t0 = Instant::now();
        cluster.initdb()?;
        cluster.start()?;
        cluster.createdb("test")?;
        let _client = client::select1(&cluster.url("test"))?;
        Ok(t0.elapsed())
    }

    pub fn pg_tmp_style(&mut self) -> Result<Duration, String> {
        let mut cluster = self.fresh("pg_tmp")?;
        cluster.copy_from(&self.template.data())?;
        let t0 = Instant::now();
        cluster.start()?;
        cluster.createdb("test")?;
        let _client = client::select1(&cluster.url("test"))?;
        Ok(t0.elapsed())
    }

    pub fn floor(&mut self) -> Result<Duration, String> {
        let t0 = Instant::now();
        let _client = client::select1(&self.floor.url("test"))?;
        Ok(t0.elapsed())
    }
}
