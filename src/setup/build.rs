//! Building a setup template: copy the template below it, start a private
//! server on the copy, have the runner run the commands against it, put
//! the server's state in order, shut it down cleanly and publish the copy
//! under its key with one rename. Concurrent first calls wait on the key's
//! lock and the later ones find it built; a failed or killed build leaves
//! only a `.tmp-` directory that nobody hands out and gc removes.
//!
//! What the commands leave that a template must not carry: client
//! connections (waited for a moment, then closed; the fast shutdown would
//! roll back what they have open), prepared transactions (refused: every
//! copy would inherit their locks), and the TCP password pgtmp set for
//! them (cleared). Databases and roles they create stay, with everything
//! else in the cluster.

use std::fs;
use std::path::Path;
use std::time::Duration;

use super::Setup;
use super::runner::{Job, Outcome, Runner};
use crate::config::Config;
use crate::error::{Error, Result, SetupProblem};
use crate::format;
use crate::instance::{client, port};
use crate::lock;
use crate::paths;
use crate::pool;
use crate::pool::template::{self, Held};
use crate::postmaster::private::{self, Private};
use crate::random;
use crate::trace;
use crate::url;

/// How long connections the commands left open may take to close.
const SETTLE: Duration = Duration::from_secs(5);

/// Returns the template of `setup` (key `key`), held for reading (see
/// `template::Held`), running it first on a copy of `base` (the template
/// below it) if it is not cached yet. `tcp`: the commands get a TCP URL.
/// `runner` runs them; one is started if needed.
pub fn ensure(
    config: &Config,
    spec: &template::Spec,
    setup: &Setup,
    key: &str,
    mut base: impl FnMut() -> Result<Held>,
    tcp: bool,
    runner: &mut Option<Runner>,
) -> Result<Held> {
    let build = Build {
        config,
        spec,
        setup,
        key,
        tcp,
    };
    loop {
        if let Some(held) = template::hold(&config.layout, key)? {
            return Ok(held);
        }
        build.run(&mut base, runner)?;
    }
}

/// What one build of a setup template needs.
#[derive(Debug)]
struct Build<'a> {
    config: &'a Config,
    spec: &'a template::Spec,
    setup: &'a Setup,
    key: &'a str,
    tcp: bool,
}

impl Build<'_> {
    /// Runs the setup into its template unless another caller did.
    fn run(
        &self,
        base: &mut impl FnMut() -> Result<Held>,
        runner: &mut Option<Runner>,
    ) -> Result<()> {
        let layout = &self.config.layout;
        let dir = layout.template(self.key);
        paths::mkdir_private(&layout.templates())?;
        let _guard = lock::lock(&layout.template_lock(self.key))?;
        if dir.join("PG_VERSION").exists() {
            return Ok(()); // another caller ran it while we waited
        }
        let runner = match runner {
            Some(runner) => runner,
            None => runner.insert(Runner::spawn(&self.config.exe)?),
        };
        let id = random::id();
        let tmp = layout.templates().join(format!(".tmp-{}-{id}", self.key));
        let mut base_key = String::new();
        paths::publish(&tmp, &dir, |tmp| {
            // The template below is held only while it is copied.
            let base = base()?;
            pool::copy_tree(base.path(), tmp)?;
            base_key = base
                .path()
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into();
            drop(base);
            trace::mark("setup copy made");
            run_into(
                self.config,
                self.spec,
                self.setup,
                tmp,
                &id,
                self.tcp,
                runner,
            )
        })?;
        let _ = fs::write(
            layout.template_origin(self.key),
            self.setup.origin(&base_key),
        );
        trace::mark("setup template published");
        Ok(())
    }
}

/// Starts the private server on `data`, runs the commands against it,
/// settles what they left and stops it cleanly.
fn run_into(
    config: &Config,
    spec: &template::Spec,
    setup: &Setup,
    data: &Path,
    id: &str,
    tcp: bool,
    runner: &mut Runner,
) -> Result<()> {
    let private = private::Spec::on_copy(
        spec.install.postgres(),
        data,
        id,
        config.identity.uid,
        tcp,
        &setup.server_options,
        "running the setup",
    )?;
    let mut server = Private::start(private, || match tcp {
        true => port::free(),
        false => Ok(port::SOCKET_PORT),
    })?;
    trace::mark("setup server ready");
    let role = &spec.role;
    let password = tcp.then(random::password);
    if let Some(pw) = &password {
        let mut c = connect(&server, role, "test")?;
        client::set_password(&mut c, role, &client::verifier(pw))?;
    }
    let url = match &password {
        Some(pw) => url::tcp(server.port, role, pw),
        None => url::socket(&server.socket_dir, server.port),
    };
    // As `exec` does: the socket URL names no user; PGUSER is the role.
    let target = url::parse(&url)
        .ok_or_else(|| Error::NotAUrl(url.clone()))?
        .or_user(|| role.clone());
    let env = format::env_vars(&url, &target, &[])
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
    let job = Job {
        commands: setup.commands.clone(),
        env,
        keys: setup.keys.clone(),
    };
    match runner.run(&job)? {
        Outcome::Failed {
            command,
            status,
            code,
            output,
        } => {
            return Err(Error::SetupFailed {
                command,
                status,
                code,
                output,
            });
        }
        Outcome::Done { contents: Err(why) } => {
            return Err(Error::Setup(SetupProblem::RunnerGone(why)));
        }
        Outcome::Done {
            contents: Ok(contents),
        } if contents != setup.contents => return Err(Error::Setup(SetupProblem::Changed)),
        Outcome::Done { .. } => {}
    }
    trace::mark("setup commands done");
    settle(&server, role, password.is_some())?;
    server.stop()
}

/// Puts in order what the commands left: their connections closed, no
/// prepared transaction, no password.
fn settle(server: &Private, role: &str, password: bool) -> Result<()> {
    let sql = |action| move |source| Error::Sql { action, source };
    let mut c = connect(server, role, "postgres")?;
    let closed = crate::process::wait_until(SETTLE, || {
        client::count_clients(&mut c).is_ok_and(|n| n == 0)
    });
    if !closed {
        let rows = c
            .query(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                 WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()",
                &[],
            )
            .map_err(sql("close the connections the setup left"))?;
        crate::say!(
            "pgtmp: the setup left {} connection(s) open for {}s; closed them",
            rows.len(),
            SETTLE.as_secs()
        );
    }
    let prepared: Vec<String> = c
        .query("SELECT gid FROM pg_prepared_xacts ORDER BY gid", &[])
        .map_err(sql("look for prepared transactions"))?
        .iter()
        .map(|row| row.get(0))
        .collect();
    if !prepared.is_empty() {
        return Err(Error::Setup(SetupProblem::PreparedTransactions(prepared)));
    }
    if password {
        let clear = format!("ALTER ROLE {} PASSWORD NULL", client::quote_ident(role));
        c.batch_execute(&clear)
            .map_err(sql("clear the setup's password"))?;
    }
    Ok(())
}

fn connect(server: &Private, role: &str, dbname: &str) -> Result<postgres::Client> {
    client::connect_at(
        &server.socket_dir,
        server.port,
        role,
        dbname,
        "connect to the server running the setup",
    )
}
