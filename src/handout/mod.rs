//! The hand-out: a [`Request`] in, a ready instance (a [`Handout`]) out.
//! It claims a spare server when the request allows one, else a pool
//! entry, else copies (or first builds) the template; then starts the
//! instance's supervisor, waits for readiness and starts the background
//! refill. Nothing here prints: `pgtmp start` prints what it returns, and
//! other callers (many hand-outs in one process, a test crate) use it as a
//! value.

mod request;

pub use request::{MAX_REPLICAS, Request, Topology};

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::config::Config;
use crate::datadir::{prepare_as_root, prepare_user_dir};
use crate::error::{Error, Result, SharedTxProblem, VersionProblem};
use crate::fixture::caller::Caller;
use crate::fixture::{self, Files, Fixture};
use crate::format::{self, Format};
use crate::instance::create::{Ack, NewInstance, Plan};
use crate::instance::{Meta, Settings, port, replication};
use crate::json::Connection;
use crate::paths::Layout;
use crate::pg::Install;
use crate::pool::wal::WalLevel;
use crate::pool::{self, template};
use crate::process;
use crate::{pg, refill, spare, trace};

/// The default idle timeout, as pg_tmp's.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// A ready instance whose URL still has to reach its user. Until
/// [`Handout::acknowledge`] is called, its supervisor holds it; dropped
/// without that, the instance is stopped at once, since nobody would know
/// its URL to stop it.
#[derive(Debug)]
pub struct Handout {
    url: String,
    dir: PathBuf,
    /// `-k` without `-d`: where the data stays after the servers stop, the
    /// primary's first.
    kept_data_dirs: Vec<PathBuf>,
    install: Install,
    ack: Ack,
}

impl Handout {
    /// The connection URL (of the primary, in a set).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The URLs of a set's replicas, in order; empty for a single server.
    pub fn replica_urls(&self) -> Result<Vec<String>> {
        let meta = Meta::read(&self.dir)?;
        Ok(meta.urls().into_iter().skip(1).collect())
    }

    /// The instance directory, `BASE/run/ID`.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where the data directory stays after the server stops, when the
    /// request kept it (and it is not the user's own `-d`).
    pub fn kept_data_dir(&self) -> Option<&Path> {
        self.kept_data_dirs.first().map(PathBuf::as_path)
    }

    /// Where every server's data directory stays, the primary's first,
    /// when the request kept them.
    pub fn kept_data_dirs(&self) -> &[PathBuf] {
        &self.kept_data_dirs
    }

    /// The instance printed in `format`, newline-terminated; one line per
    /// server of a set, the primary's first, but for `env` and `json`.
    pub fn render(&self, format: Format) -> Result<String> {
        format::render(format, &Meta::read(&self.dir)?, &self.install)
    }

    /// Every way to reach the instance (what `-F json` prints).
    pub fn connection(&self) -> Result<Connection> {
        format::connection(&Meta::read(&self.dir)?, &self.install)
    }

    /// Tells the supervisor that the URL reached its user; from then on the
    /// instance lives until it is idle or stopped.
    pub fn acknowledge(self) -> Result<()> {
        self.ack.send()
    }
}

/// Hands out an instance as `request` asks. Creates the base directory
/// and, as root, drops to the `--run-as` account first.
///
/// As root with `-f` files, this forks a helper that stays root to load
/// them (`fixture::caller`): like dropping privileges, that needs the
/// process to be single-threaded.
pub fn hand_out(config: &Config, request: &Request) -> Result<Handout> {
    if request.shared_tx && (request.topology != Topology::Single || request.logical) {
        return Err(Error::SharedTx(SharedTxProblem::WithReplication));
    }
    if let Some(dir) = &request.datadir {
        prepare_as_root(config, dir)?;
    }
    config.prepare_base()?;
    // The `-f` files are the caller's, which the `--run-as` account may not
    // be able to read: read them now, and as root keep a helper that loads
    // them, before privileges are dropped.
    let mut memo = fixture::open_memo(&config.layout);
    let files = if request.files.is_empty() {
        Files::default()
    } else {
        Files::read(&request.files, &mut memo)?
    };
    let caller = Caller::start(&files.inputs, &memo, config.pg_bindir.as_deref())?;
    config.drop_privileges()?;
    memo.save();
    let handout = match start(config, request, files.clone(), &caller) {
        // Dead copies of killed hand-outs, or copies made ahead for other
        // templates, may be what fills it: collect, and try once more.
        Err(e) if e.is_no_space() => match make_room(config, request, &files) {
            Some(summary) => {
                // The one line a hand-out says on its own: it explains the
                // delay, and what disappeared.
                eprintln!(
                    "pgtmp: no space left on the filesystem of {}; removed {summary}; trying again",
                    config.layout.base.display()
                );
                start(config, request, files, &caller)
            }
            None => Err(e),
        },
        other => other,
    };
    handout.map_err(|e| e.on_filesystem_of(&config.layout.base))
}

/// `gc::make_room` for the template this request needs; None when it found
/// nothing to remove (or failed: the first error is the one to tell).
fn make_room(config: &Config, request: &Request, files: &Files) -> Option<String> {
    let spec = config.template_spec().ok()?;
    let fixture = Fixture::new(
        files.clone(),
        &request.extensions,
        request.now.as_deref(),
        &request.server_options,
    );
    let key = match fixture {
        Some(f) => f.key(&spec.key()),
        None => spec.key(),
    };
    let sum = crate::gc::make_room(&config.layout, &key).ok()?;
    let removed = [
        (sum.instances, "dead instance(s)"),
        (sum.partial, "half-made cop(ies)"),
        (sum.pool_entries, "pool entr(ies)"),
        (sum.spares, "spare(s)"),
        (sum.templates, "template(s)"),
    ]
    .iter()
    .filter(|(n, _)| *n > 0)
    .map(|(n, what)| format!("{n} {what}"))
    .collect::<Vec<_>>();
    (!removed.is_empty()).then(|| removed.join(", "))
}

fn start(config: &Config, request: &Request, files: Files, caller: &Caller) -> Result<Handout> {
    let layout = &config.layout;
    let mut spec = config.template_spec()?;
    spec.wal = match (request.logical, request.topology) {
        (true, _) => WalLevel::Logical,
        (false, Topology::Streaming { .. }) => WalLevel::Replica,
        (false, Topology::Single) => WalLevel::Minimal,
    };
    trace::mark("found PostgreSQL");
    // With -f/-x/--now, the template (and so the pool and the spares)
    // is the fixture's.
    let fixture = Fixture::new(
        files,
        &request.extensions,
        request.now.as_deref(),
        &request.server_options,
    );
    let key = match &fixture {
        Some(f) => f.key(&spec.key()),
        None => spec.key(),
    };
    trace::mark("template key known");
    let tcp = request.tcp || request.port.is_some();
    let settings = settings(request)?;
    let kind = spare::Kind {
        key: key.clone(),
        role: config.identity.role.clone(),
        bindir: spec.install.bindir.clone(),
        tcp,
        topology: request.topology,
    };
    let spares = request.takes_spare() && config.spare_max > 0;
    let claimed = match spares {
        true => claim_spare(layout, &kind.class(), &settings)?,
        false => None,
    };
    let (url, dir, ack, meta) = match claimed {
        Some((dir, meta)) => (meta.url.clone(), dir.clone(), Ack::file(&dir), meta),
        None => {
            let new = Launch {
                spec: &spec,
                key: &key,
                fixture: fixture.as_ref().map(|f| (f, caller)),
                tcp,
                settings,
            };
            new.run(config, request)?
        }
    };
    after_handout(config, &key, spares.then_some(&kind));
    let kept = request.keep && request.datadir.is_none();
    Ok(Handout {
        url,
        kept_data_dirs: meta
            .servers()
            .filter(|_| kept)
            .map(|(_, s)| s.data_dir.clone())
            .collect(),
        dir,
        install: spec.install.clone(),
        ack,
    })
}

/// What the request sets on the instance it gets.
fn settings(request: &Request) -> Result<Settings> {
    Ok(Settings {
        keep: request.keep,
        timeout_ms: request.timeout.unwrap_or(DEFAULT_TIMEOUT).as_millis() as u64,
        owner_pid: request.owner_pid,
        owner_start: match request.owner_pid {
            Some(pid) => process::start_time(pid)?,
            None => None,
        },
    })
}

/// A ready spare of `class` (template, listener, topology), now the
/// caller's.
fn claim_spare(
    layout: &Layout,
    class: &str,
    settings: &Settings,
) -> Result<Option<(PathBuf, Meta)>> {
    spare::demand::record(layout, class);
    let claimed = spare::claim::claim(layout, class, settings)?;
    if claimed.is_some() {
        trace::mark("spare claimed");
    }
    Ok(claimed)
}

/// A new instance of the template `key`, started for this request.
struct Launch<'a> {
    spec: &'a template::Spec,
    key: &'a str,
    /// The fixture, and who loads its files.
    fixture: Option<(&'a Fixture, &'a Caller)>,
    tcp: bool,
    settings: Settings,
}

impl Launch<'_> {
    /// Makes the instance and waits for its supervisor to say it is ready:
    /// the URL, the directory, how to acknowledge, the metadata.
    fn run(self, config: &Config, request: &Request) -> Result<(String, PathBuf, Ack, Meta)> {
        if let Some(port) = request.port
            && port::in_use(port)
        {
            return Err(Error::PortInUse(port));
        }
        let mut new = NewInstance::create(&config.layout)?;
        let (data_dir, user_data_dir) =
            data_dir(config, self.spec, self.key, self.fixture, request, &new)?;
        trace::mark("data directory ready");
        check_version(&data_dir)?;
        let replicas = request.topology.replicas();
        let replica_data_dirs = if replicas > 0 {
            check_replicas_version(&data_dir, self.spec)?;
            replica_dirs(&config.layout, self.key, &new, replicas)?
        } else {
            Vec::new()
        };
        let meta = new.describe(Plan {
            role: config.identity.role.clone(),
            uid: config.identity.uid,
            tcp: self.tcp,
            port: request.port,
            data_dir,
            user_data_dir,
            server_options: request.server_options.clone(),
            bindir: self.spec.install.bindir.clone(),
            settings: self.settings,
            spare: None,
            replica_data_dirs,
            sync: request.topology.sync(),
            shared_tx: request
                .shared_tx
                .then_some(config.shared_tx_wait.as_millis() as u64),
        })?;
        let dir = new.dir.clone();
        let (url, ack) = new.launch(&meta, &config.exe)?.wait()?;
        trace::mark("server ready");
        Ok((url, dir, ack, meta))
    }
}

/// The data directory of the new instance, and whether it is the user's
/// own (`-d`): a pool entry, a copy of the (fixture's) template, or `-d`.
fn data_dir(
    config: &Config,
    spec: &template::Spec,
    key: &str,
    fixture: Option<(&Fixture, &Caller)>,
    request: &Request,
    new: &NewInstance,
) -> Result<(PathBuf, bool)> {
    let layout = &config.layout;
    let data = new.data_dir();
    match &request.datadir {
        // `pgtmp start -d "$(pgtmp initdb)"`, as with pg_tmp: that entry is
        // ours, so claim it like any pool entry.
        Some(d) if pool_entry(layout, key, d) => {
            fs::rename(d, &data).map_err(Error::io("claim pool entry", d))?;
            Ok((data, false))
        }
        Some(d) => Ok((prepare_user_dir(config, spec, d)?, true)),
        None => {
            if !pool::claim(layout, key, &data)? {
                let template = match fixture {
                    Some((f, caller)) => fixture::ensure(config, spec, f, key, caller)?,
                    None => template::ensure(layout, spec)?,
                };
                pool::copy_tree(template.path(), &data)?;
            }
            Ok((data, false))
        }
    }
}

/// The data directories of a set's `n` replicas: pool entries where there
/// are some, else copies of the template, made at once.
fn replica_dirs(layout: &Layout, key: &str, new: &NewInstance, n: usize) -> Result<Vec<PathBuf>> {
    let dirs: Vec<PathBuf> = (1..=n)
        .map(|k| new.replica_data_dir(k))
        .collect::<Result<_>>()?;
    let mut missing = Vec::new();
    for dir in &dirs {
        if !pool::claim(layout, key, dir)? {
            missing.push(dir);
        }
    }
    if missing.is_empty() {
        return Ok(dirs);
    }
    // Held for reading while it is copied: `gc` leaves it alone.
    let template =
        template::hold(layout, key)?.ok_or_else(|| Error::NoTemplate(layout.template(key)))?;
    std::thread::scope(|scope| {
        let copies: Vec<_> = missing
            .iter()
            .map(|dir| scope.spawn(|| pool::copy_tree(template.path(), dir)))
            .collect();
        copies
            .into_iter()
            .map(|c| c.join().expect("a copy does not panic"))
            .collect::<Result<Vec<()>>>()
    })?;
    trace::mark("replica data directories ready");
    Ok(dirs)
}

/// Replicas that start from a copy of the template need `standby.signal`.
fn check_replicas_version(data_dir: &Path, spec: &template::Spec) -> Result<()> {
    let major = pg::data_dir_major(data_dir)?;
    if major < replication::MIN_MAJOR {
        return Err(Error::TooOldFor {
            what: "`--replicas`",
            min: replication::MIN_MAJOR,
            major,
            bindir: spec.install.bindir.clone(),
        });
    }
    Ok(())
}

/// Refills the pool and the spares (`spares`: of which kind) and collects
/// garbage in the background. A failure only costs the next call some
/// time; the refill log says why.
fn after_handout(config: &Config, key: &str, spares: Option<&spare::Kind>) {
    let _ = fs::File::create(config.layout.template_used(key));
    let _ = refill::spawn(config, key, spares);
    trace::mark("refill started");
}

/// Whether `dir` is an entry of our pool (as `pgtmp initdb` prints them).
fn pool_entry(layout: &Layout, key: &str, dir: &Path) -> bool {
    let pool = layout.pool(key);
    let (Ok(dir), Ok(pool)) = (dir.canonicalize(), pool.canonicalize()) else {
        return false;
    };
    dir.parent() == Some(pool.as_path())
}

/// The data directory's major version must be one whose readiness we can
/// see (10+): reading PG_VERSION costs nothing, running postgres does.
fn check_version(data_dir: &Path) -> Result<()> {
    if pg::data_dir_major(data_dir)? < pg::MIN_MAJOR {
        let text = fs::read_to_string(data_dir.join("PG_VERSION")).unwrap_or_default();
        return Err(Error::PgVersion(VersionProblem::TooOld {
            data_dir: data_dir.to_path_buf(),
            version: text.trim().to_string(),
        }));
    }
    Ok(())
}
