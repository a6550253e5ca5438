//! What a hand-out's data comes from: the plain template, a fixture's
//! (`-f`, `-x`, `--now`) or a snapshot's (`--from`), with a setup's
//! (`--setup`) on top of either; the key of the outermost one, which the
//! pool and the spares go by, and making it when it is not there yet.

use super::Request;
use crate::config::Config;
use crate::error::{Error, Result, SnapshotProblem};
use crate::fixture::caller::Caller;
use crate::fixture::{self, Files, Fixture};
use crate::pool::template::{self, Held};
use crate::setup::{self, Runner, Setup};
use crate::snapshot;

#[derive(Debug, Clone)]
pub struct Source {
    fixture: Option<Fixture>,
    snapshot: Option<snapshot::Record>,
    setup: Option<Setup>,
    /// The key of the template below the setup's; without a setup, `key`.
    base_key: String,
    /// The key of the template hand-outs are copies of.
    pub key: String,
}

impl Source {
    /// What `request` asks for; `files` and `setup` were read from it as
    /// the caller; `server_args`: the `-o` options as the server gets them.
    pub fn new(
        config: &Config,
        spec: &template::Spec,
        request: &Request,
        files: Files,
        setup: Option<Setup>,
        server_args: &[String],
    ) -> Result<Source> {
        let layout = &config.layout;
        let fixture = Fixture::new(
            files,
            &request.extensions,
            request.now.as_deref(),
            server_args,
        );
        let snapshot = match &request.from {
            Some(_) if fixture.is_some() => {
                return Err(Error::Snapshot(SnapshotProblem::Combined(
                    "-f, -x or --now",
                )));
            }
            Some(_) if request.datadir.is_some() => {
                return Err(Error::Snapshot(SnapshotProblem::Combined("-d")));
            }
            Some(name) => Some(snapshot::resolve(layout, name)?),
            None => None,
        };
        let base_key = match (&snapshot, &fixture) {
            (Some(s), _) => s.key.clone(),
            (None, Some(f)) => f.key(&spec.key()),
            (None, None) => spec.key(),
        };
        let key = match &setup {
            Some(s) => s.key(&base_key),
            None => base_key.clone(),
        };
        Ok(Source {
            fixture,
            snapshot,
            setup,
            base_key,
            key,
        })
    }

    /// The template to copy, held for reading, made first if it is not
    /// there: `caller` loads a fixture's files; `tcp` gives setup commands
    /// a TCP URL; `runner` runs them; `notes` gets what the user should
    /// hear about loading a fixture.
    pub fn template(
        &self,
        config: &Config,
        spec: &template::Spec,
        caller: &Caller,
        tcp: bool,
        runner: &mut Option<Runner>,
        notes: &mut Vec<String>,
    ) -> Result<Held> {
        let mut base = || match (&self.snapshot, &self.fixture) {
            (Some(s), _) => template::hold(&config.layout, &s.key)?
                .ok_or_else(|| Error::Snapshot(SnapshotProblem::Gone(s.name.clone()))),
            (None, Some(f)) => fixture::ensure(config, spec, f, &self.base_key, caller, notes),
            (None, None) => template::ensure(&config.layout, spec),
        };
        match &self.setup {
            Some(s) => setup::ensure(config, spec, s, &self.key, base, tcp, runner),
            None => base(),
        }
    }
}
