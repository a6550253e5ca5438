//! The hand-out: a [`Request`] in, a ready instance (a [`Handout`]) out.
//! It claims a spare server when the request allows one, else a pool
//! entry, else copies (or first builds) the template; then starts the
//! instance's supervisor, waits for readiness and starts the background
//! refill. Nothing here prints: `pgtmp start` prints what it returns, and
//! other callers (many hand-outs in one process, a test crate) use it as a
//! value.

mod request;
mod source;

pub use request::{MAX_REPLICAS, Request, Topology};

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::config::Config;
use crate::datadir::{prepare_as_root, prepare_user_dir};
use crate::error::{Error, PathProblem, Result, SharedTxProblem, VersionProblem};
use crate::fixture::caller::Caller;
use crate::fixture::{self, Files};
use crate::format::{self, Format};
use crate::instance::create::{Ack, NewInstance, Plan};
use crate::instance::{Meta, Settings, port, replication};
use crate::json::Connection;
use crate::paths::{Layout, Place};
use crate::pg::Install;
use crate::pool;
use crate::pool::template::{self, Held};
use crate::pool::wal::WalLevel;
use crate::process;
use crate::server_options::ServerOptions;
use crate::setup::{self, Runner, Setup};
use crate::{pg, refill, spare, trace, url};
use source::Source;

/// The default idle timeout, as pg_tmp's.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// A ready instance whose URL still has to reach its user. Until
/// [`Handout::acknowledge`] is called, its supervisor holds it; dropped
/// without that, the instance is stopped at once, since nobody would know
/// its URL to stop it.
#[derive(Debug)]
pub struct Handout {
    /// The URL naming the role: what `url()` gives a library caller.
    url: String,
    dir: PathBuf,
    /// `-k` without `-d`: where the data stays after the servers stop, the
    /// primary's first.
    kept_data_dirs: Vec<PathBuf>,
    install: Install,
    /// What the user should hear about how it was made.
    notes: Vec<String>,
    ack: Ack,
}

impl Handout {
    /// The connection URL (of the primary, in a set), naming the user (as
    /// `-F url-with-user`): in a library caller's process, the OS user need
    /// not be the role (as root, it is the `--run-as` account once the
    /// hand-out has run), and the socket URL `pgtmp` prints leaves the user
    /// to the OS.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The URLs of a set's replicas, in order; empty for a single server.
    /// Like [`Handout::url`], they name the user.
    pub fn replica_urls(&self) -> Result<Vec<String>> {
        let meta = Meta::read(&self.dir)?;
        let role = &meta.role;
        Ok(meta
            .urls()
            .iter()
            .skip(1)
            .map(|u| url::with_user(u, role))
            .collect())
    }

    /// The instance directory, `BASE/run/ID`.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// What the user should hear about how the instance was made, once
    /// (say, that psql came from another installation than the server's).
    pub fn notes(&self) -> &[String] {
        &self.notes
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

    /// The instance printed in `format`: a one-line form (`url`, `dsn`,
    /// ...) is one line per server of a set, the primary's first, with no
    /// newline after the last; `env` and `json` are newline-terminated (see
    /// [`format::one_value`] for pg_tmp's rule on a terminal).
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
/// process to be single-threaded. With `--setup`, as root, it starts the
/// process that runs the commands as root (`setup::runner`) before that,
/// unless the setup's template is found made already.
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
    // them, before privileges are dropped. So are the `--key` files and the
    // setup commands.
    let mut memo = fixture::open_memo(&config.layout);
    let files = if request.files.is_empty() {
        Files::default()
    } else {
        Files::read(&request.files, &mut memo)?
    };
    let named = config.pg.bindir.as_ref().or(config.pg.bindir_env.as_ref());
    let caller = Caller::start(&files.inputs, &memo, named.map(PathBuf::as_path))?;
    let mut setup_memo = setup::Memo::open(&config.layout);
    let setup = Setup::new(&request.setup, &request.setup_keys, &mut setup_memo)?;
    trace::mark("caller's files read");
    let mut read = AsCaller {
        files,
        caller,
        setup,
        runner: None,
        cached: None,
    };
    if read.setup.is_some() && nix::unistd::Uid::effective().is_root() {
        read.start_runner_unless_cached(config, request)?;
    }
    config.drop_privileges()?;
    memo.save();
    setup_memo.save();
    trace::mark("privileges dropped");
    let handout = match start(config, request, &mut read) {
        // Dead copies of killed hand-outs, or copies made ahead for other
        // templates, may be what fills it: collect, and try once more.
        Err(e) if e.is_no_space() => match make_room(config, request, &read) {
            Some(summary) => {
                // The one line a hand-out says on its own: it explains the
                // delay, and what disappeared.
                crate::say!(
                    "pgtmp: no space left on the filesystem of {}; removed {summary}; trying again",
                    config.layout.base.display()
                );
                start(config, request, &mut read)
            }
            None => Err(e),
        },
        other => other,
    };
    drop(read);
    trace::mark("helpers stopped");
    handout.map_err(|e| e.on_filesystem_of(&config.layout.base))
}

/// What a hand-out read, and started, as the caller before privileges were
/// dropped.
#[derive(Debug)]
struct AsCaller {
    /// The `-f` files.
    files: Files,
    /// Who loads them.
    caller: Caller,
    setup: Option<Setup>,
    /// Who runs the setup's commands; started when needed, if not yet.
    runner: Option<Runner>,
    /// As root, the setup's template when it was found made before the
    /// privilege drop: then no runner was started.
    cached: Option<Cached>,
}

/// A setup's template found made as root (`start_runner_unless_cached`):
/// the data the hand-out is made of, and the template held for reading,
/// which keeps `gc` from removing it until the hand-out is done.
#[derive(Debug)]
struct Cached {
    spec: template::Spec,
    source: Source,
    held: Held,
}

impl AsCaller {
    /// As root, the setup's commands have to run as root, so their runner
    /// is started now, before privileges are dropped: unless the setup's
    /// template is made already, which is what most calls find. Its key is
    /// known now when PostgreSQL can be found from the cache alone (and
    /// neither `-d` nor `--from` is asked for); the template is then held,
    /// so that it is still there when it is needed, and the runner, a
    /// process start and stop, is saved.
    fn start_runner_unless_cached(&mut self, config: &Config, request: &Request) -> Result<()> {
        self.cached = self.find_cached(config, request);
        if self.cached.is_some() {
            trace::mark("setup template found made");
        } else {
            self.runner = Some(Runner::spawn(&config.exe)?);
            trace::mark("setup runner started");
        }
        Ok(())
    }

    /// The setup's template, if it is made and its key can be known without
    /// running a program or writing a file (this runs as root).
    fn find_cached(&self, config: &Config, request: &Request) -> Option<Cached> {
        if request.datadir.is_some() || request.from.is_some() {
            return None;
        }
        let options = ServerOptions::from_words(&request.server_options).ok()?;
        let spec = with_wal(config.template_spec_cached(&config.pg)?, request);
        let source = self.source(config, &spec, request, &options.args).ok()?;
        let held = template::hold_existing(&config.layout, &source.key).ok()??;
        Some(Cached { spec, source, held })
    }

    /// Where `request`'s data comes from, given what was read;
    /// `server_args`: the `-o` options as the server gets them.
    fn source(
        &self,
        config: &Config,
        spec: &template::Spec,
        request: &Request,
        server_args: &[String],
    ) -> Result<Source> {
        let setup = self.setup.clone().map(|s| s.on_server(server_args));
        Source::new(
            config,
            spec,
            request,
            self.files.clone(),
            setup,
            server_args,
        )
    }
}

/// `gc::make_room` for the template this request needs; None when it found
/// nothing to remove (or failed: the first error is the one to tell).
fn make_room(config: &Config, request: &Request, read: &AsCaller) -> Option<String> {
    let spec = config.template_spec().ok()?;
    let options = ServerOptions::from_words(&request.server_options).ok()?;
    let source = read.source(config, &spec, request, &options.args).ok()?;
    let sum = crate::gc::make_room(&config.layout, &source.key).ok()?;
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

fn start(config: &Config, request: &Request, read: &mut AsCaller) -> Result<Handout> {
    let layout = &config.layout;
    // Read as `postgres` will read them: what would open the server or
    // break its URL is refused whoever asks (the command line says so
    // first, as a usage error).
    let options = ServerOptions::from_words(&request.server_options).map_err(|reason| {
        Error::ServerOptions {
            options: request.server_options.join(" "),
            reason,
        }
    })?;
    // `-o '-p N'` is `-p N`; it comes after `-p`, as pg_tmp passes `-o`.
    let port = options.port.or(request.port);
    // With -f/-x/--now, --from or --setup, the template (and so the pool
    // and the spares) is theirs; building it needs neither the port nor
    // the listener.
    let (spec, source) = match &read.cached {
        Some(cached) => (cached.spec.clone(), cached.source.clone()),
        None => {
            // An existing `-d` directory says which major it needs.
            let mut search = config.pg.clone();
            if let Some(dir) = &request.datadir {
                search.follow_data_dir(dir);
            }
            let spec = with_wal(config.template_spec_with(&search)?, request);
            trace::mark("found PostgreSQL");
            let source = read.source(config, &spec, request, &options.args)?;
            (spec, source)
        }
    };
    let key = source.key.clone();
    trace::mark("template key known");
    let tcp = request.tcp || port.is_some();
    options
        .check_listener(tcp, request.shared_tx)
        .map_err(|reason| Error::ServerOptions {
            options: request.server_options.join(" "),
            reason,
        })?;
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
    let mut notes = Vec::new();
    let (url, dir, ack, meta) = match claimed {
        Some((dir, meta)) => (meta.url.clone(), dir.clone(), Ack::file(&dir), meta),
        None => {
            let new = Launch {
                spec: &spec,
                source: &source,
                caller: &read.caller,
                tcp,
                port,
                server_options: server_args(&options, tcp),
                settings,
                runner: &mut read.runner,
                held: read.cached.as_ref().map(|c| &c.held),
            };
            new.run(config, request, &mut notes)?
        }
    };
    after_handout(config, &key, spares.then_some(&kind), request.refill_after);
    let kept = request.keep && request.datadir.is_none();
    Ok(Handout {
        url: url::with_user(&url, &config.identity.role),
        kept_data_dirs: meta
            .servers()
            .filter(|_| kept)
            .map(|(_, s)| s.data_dir.clone())
            .collect(),
        dir,
        install: spec.install.clone(),
        notes,
        ack,
    })
}

/// `spec` with the WAL level `request`'s topology needs.
fn with_wal(mut spec: template::Spec, request: &Request) -> template::Spec {
    spec.wal = match (request.logical, request.topology) {
        (true, _) => WalLevel::Logical,
        (false, Topology::Streaming { .. }) => WalLevel::Replica,
        (false, Topology::Single) => WalLevel::Minimal,
    };
    spec
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

/// A new instance of the template of `source`, started for this request.
struct Launch<'a> {
    spec: &'a template::Spec,
    source: &'a Source,
    /// Who loads a fixture's files.
    caller: &'a Caller,
    tcp: bool,
    /// `-p`, or `-o '-p N'`.
    port: Option<u16>,
    /// What `postgres` gets of `-o` (see `server_args`).
    server_options: Vec<String>,
    settings: Settings,
    /// Who runs a setup's commands.
    runner: &'a mut Option<Runner>,
    /// The template, when it was found (and held) before the privilege
    /// drop.
    held: Option<&'a Held>,
}

impl Launch<'_> {
    /// Makes the instance and waits for its supervisor to say it is ready:
    /// the URL, the directory, how to acknowledge, the metadata.
    /// Building a fixture's template may leave `notes` for the user.
    fn run(
        mut self,
        config: &Config,
        request: &Request,
        notes: &mut Vec<String>,
    ) -> Result<(String, PathBuf, Ack, Meta)> {
        if let Some(port) = self.port
            && port::in_use(port)
        {
            return Err(Error::PortInUse(port));
        }
        let mut new = NewInstance::create(&config.layout)?;
        let (data_dir, user_data_dir) = data_dir(config, &mut self, request, &new, notes)?;
        trace::mark("data directory ready");
        check_version(&data_dir, &self.spec.install)?;
        let replicas = request.topology.replicas();
        let replica_data_dirs = if replicas > 0 {
            check_replicas_version(&data_dir, self.spec)?;
            replica_dirs(&config.layout, &self.source.key, &new, replicas)?
        } else {
            Vec::new()
        };
        let meta = new.describe(Plan {
            role: config.identity.role.clone(),
            uid: config.identity.uid,
            tcp: self.tcp,
            port: self.port,
            data_dir,
            user_data_dir,
            server_options: self.server_options,
            bindir: self.spec.install.bindir.clone(),
            settings: self.settings,
            spare: None,
            template: (!user_data_dir).then(|| self.source.key.clone()),
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
/// Building a fixture's template may leave `notes` for the user.
fn data_dir(
    config: &Config,
    launch: &mut Launch,
    request: &Request,
    new: &NewInstance,
    notes: &mut Vec<String>,
) -> Result<(PathBuf, bool)> {
    let layout = &config.layout;
    let (spec, key) = (launch.spec, launch.source.key.as_str());
    let data = new.data_dir();
    match &request.datadir {
        // `pgtmp start -d "$(pgtmp initdb)"`, as with pg_tmp: used where it
        // is, so that `stop -d` with the same path finds it, and deleted
        // with the instance unless kept.
        Some(d) if layout.place(d) == Place::Initdb => {
            Ok((prepare_user_dir(config, spec, d)?, false))
        }
        Some(d) if layout.place(d) == Place::Internal => Err(Error::DataDirPath {
            dir: d.clone(),
            problem: PathProblem::Internal,
        }),
        Some(d) => Ok((prepare_user_dir(config, spec, d)?, true)),
        None => {
            if !pool::claim(layout, key, &data)? {
                let made;
                let template = match launch.held {
                    Some(held) => held,
                    None => {
                        made = launch.source.template(
                            config,
                            spec,
                            launch.caller,
                            launch.tcp,
                            launch.runner,
                            notes,
                        )?;
                        &made
                    }
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
/// garbage in the background, at once or once process `after` has exited.
/// A failure only costs the next call some time; the refill log says why.
fn after_handout(config: &Config, key: &str, spares: Option<&spare::Kind>, after: Option<u32>) {
    let _ = fs::File::create(config.layout.template_used(key));
    let _ = refill::spawn(config, key, spares, after);
    trace::mark("refill started");
}

/// The options `postgres` gets after pgtmp's own: `-o`'s, one option per
/// word as read, and its loopback listen addresses last, so that they win
/// over pgtmp's 127.0.0.1.
pub(crate) fn server_args(options: &ServerOptions, tcp: bool) -> Vec<String> {
    let mut args = options.args.clone();
    if let Some(listen) = options.tcp_listen().filter(|_| tcp) {
        args.push("-c".into());
        args.push(format!("listen_addresses={listen}"));
    }
    args
}

/// The data directory's major version must be one whose readiness we can
/// see (10+), and the binaries' own: reading PG_VERSION costs nothing,
/// running postgres does, and a server of another major only refuses.
fn check_version(data_dir: &Path, install: &Install) -> Result<()> {
    let major = pg::data_dir_major(data_dir)?;
    if !pg::Features::of_major(major).supported() {
        let text = fs::read_to_string(data_dir.join("PG_VERSION")).unwrap_or_default();
        return Err(Error::PgVersion(VersionProblem::TooOld {
            data_dir: data_dir.to_path_buf(),
            version: text.trim().to_string(),
        }));
    }
    if major != install.version.major {
        return Err(Error::PgVersion(VersionProblem::DataDirMismatch {
            data_dir: data_dir.to_path_buf(),
            major,
            bindir: install.bindir.clone(),
            version: install.version.to_string(),
        }));
    }
    Ok(())
}
