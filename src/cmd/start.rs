//! `pgtmp` / `pgtmp start`: claim a data directory, start its supervisor,
//! wait for readiness, print the URL.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use super::datadir::{prepare_as_root, prepare_user_dir};
use crate::cli::{GlobalArgs, StartArgs};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::fixture::{self, Fixture};
use crate::format::{self, Format};
use crate::instance::create::{Ack, NewInstance};
use crate::instance::launch::{self, SOCKET_PORT};
use crate::instance::meta::{self, Meta};
use crate::paths;
use crate::pool::{self, refill, template};
use crate::process;
use crate::random;
use crate::standby::{self, claim::Settings, replenish::Kind};
use crate::trace;

/// The default idle timeout, as pg_tmp's.
pub const DEFAULT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

/// A ready instance whose URL still has to reach the caller.
#[derive(Debug)]
pub struct Handout {
    pub url: String,
    /// The instance directory, whose `meta.json` the other formats read.
    pub dir: PathBuf,
    /// How to tell the supervisor that the URL was delivered.
    ack: Ack,
}

impl Handout {
    /// Prints the URL (or its other `format`), then tells the supervisor it
    /// was delivered. If it cannot be written (stdout closed, pgtmp killed
    /// before this), no acknowledgement comes and the supervisor stops the
    /// server at once: nobody knows its URL, so nobody would ever stop it.
    pub fn deliver(self, format: Format) -> Result<()> {
        let text = match format {
            Format::Url => format!("{}\n", self.url),
            other => format::render(other, &Meta::read(&self.dir)?)?,
        };
        let mut out = std::io::stdout().lock();
        out.write_all(text.as_bytes())
            .and_then(|()| out.flush())
            .map_err(Error::io("write the URL to", "standard output"))?;
        self.ack.send()
    }
}

/// Starts an instance and returns its URL. `owner`: stop when that process
/// is gone (`exec`).
pub fn run(args: &StartArgs, global: &GlobalArgs, owner: Option<u32>) -> Result<Handout> {
    if args.with_pgtap {
        let mut args = args.clone();
        args.with_pgtap = false;
        if !args.extensions.iter().any(|x| x == "pgtap") {
            args.extensions.push("pgtap".into());
        }
        return run(&args, global, owner).map_err(Error::for_prove);
    }
    let mut config = Config::resolve(global)?;
    if let Some(n) = args.standby {
        config.standby_max = n.into();
    }
    if let Some(dir) = &args.datadir {
        prepare_as_root(&config, dir)?;
    }
    config.enter()?;
    start(&config, args, owner).map_err(|e| e.on_filesystem_of(&config.layout.base))
}

fn start(config: &Config, args: &StartArgs, owner: Option<u32>) -> Result<Handout> {
    let layout = &config.layout;
    let spec = config.template_spec()?;
    trace::mark("found PostgreSQL");
    let options = match &args.server_options {
        Some(o) => shell_words::split(o)
            .map_err(|e| Error::other(format!("cannot split `-o {o}`: {e}")))?,
        None => Vec::new(),
    };
    // With -f/-x/--now, the template (and so the pool and the standbys)
    // is the fixture's.
    let fixture = Fixture::from_args(args, &options)?;
    let key = match &fixture {
        Some(f) => f.key(layout, &spec.key())?,
        None => spec.key(),
    };
    trace::mark("template key known");
    let tcp = args.tcp || args.port.is_some();
    let settings = Settings {
        keep: args.keep,
        timeout_ms: args.timeout.unwrap_or(DEFAULT_TIMEOUT).as_millis() as u64,
        owner_pid: owner,
        owner_start: owner.and_then(process::start_time),
    };
    // Only a plain hand-out can take a server started ahead: a fixed port,
    // server options or a data directory of one's own need their own.
    let plain = args.port.is_none()
        && args.datadir.is_none()
        && args
            .server_options
            .as_deref()
            .is_none_or(|o| o.trim().is_empty());
    let standbys = plain && config.standby_max > 0;
    let kind = Kind {
        key: key.clone(),
        role: config.identity.role.clone(),
        bindir: spec.install.bindir.clone(),
        tcp,
    };
    if standbys {
        let class = standby::class(&key, tcp);
        standby::demand::record(layout, &class);
        if let Some((dir, meta)) = standby::claim::claim(layout, &class, &settings)? {
            trace::mark("standby claimed");
            after_handout(config, &key, Some(&kind), args, &meta);
            return Ok(Handout {
                url: meta.url,
                ack: Ack::file(&dir),
                dir,
            });
        }
    }
    if let Some(port) = args.port
        && launch::port_in_use(port)
    {
        return Err(Error::PortInUse(port));
    }

    let mut new = NewInstance::create(layout)?;
    let (data_dir, user_data_dir) = match &args.datadir {
        // `pgtmp start -d "$(pgtmp initdb)"`, as with pg_tmp: that entry is
        // ours, so claim it like any pool entry.
        Some(d) if pool_entry(layout, &key, d) => {
            let data = new.dir.join("data");
            fs::rename(d, &data).map_err(Error::io("claim pool entry", d))?;
            (data, false)
        }
        Some(d) => (prepare_user_dir(config, &spec, d)?, true),
        None => {
            let data = new.dir.join("data");
            if !pool::claim(layout, &key, &data)? {
                let template = match &fixture {
                    Some(f) => fixture::ensure(config, &spec, f, &key)?,
                    None => template::ensure(layout, &spec)?,
                };
                pool::copy_tree(&template, &data)?;
            }
            (data, false)
        }
    };
    trace::mark("data directory ready");
    check_version(&data_dir)?;

    let (socket_dir, socket_dir_separate) =
        paths::socket_dir(&new.dir, &new.id, config.identity.uid)?;
    if socket_dir_separate {
        new.separate_socket_dir(socket_dir.clone());
    }
    let port = match (args.port, tcp) {
        (Some(p), _) => p,
        (None, true) => launch::free_port()?,
        (None, false) => SOCKET_PORT,
    };
    let meta = Meta {
        id: new.id.clone(),
        role: config.identity.role.clone(),
        password: tcp.then(random::password),
        tcp,
        port,
        fixed_port: args.port.is_some(),
        socket_dir,
        socket_dir_separate,
        data_dir,
        user_data_dir,
        keep: settings.keep,
        timeout_ms: settings.timeout_ms,
        server_options: options,
        bindir: spec.install.bindir.clone(),
        started: meta::now_secs(),
        owner_pid: settings.owner_pid,
        owner_start: settings.owner_start,
        ..Meta::default()
    };
    let new_dir = new.dir.clone();
    let (url, ack) = new.launch(&meta)?.wait()?;
    trace::mark("server ready");
    after_handout(config, &key, standbys.then_some(&kind), args, &meta);
    Ok(Handout {
        url,
        dir: new_dir,
        ack,
    })
}

/// Refills the pool and the standbys (`standby`: of which listener) and
/// collects garbage in the background. A failure only costs the next call
/// some time; the refill log says why.
fn after_handout(
    config: &Config,
    key: &str,
    standby: Option<&Kind>,
    args: &StartArgs,
    meta: &Meta,
) {
    let layout = &config.layout;
    let _ = fs::File::create(layout.template_used(key));
    let _ = refill::spawn(config, key, standby);
    trace::mark("refill started");
    if args.keep && args.datadir.is_none() {
        eprintln!(
            "pgtmp: the data directory will be kept after the server stops: {}",
            meta.data_dir.display()
        );
    }
}

/// Whether `dir` is an entry of our pool (as `pgtmp initdb` prints them).
fn pool_entry(layout: &paths::Layout, key: &str, dir: &Path) -> bool {
    let pool = layout.pool(key);
    let (Ok(dir), Ok(pool)) = (dir.canonicalize(), pool.canonicalize()) else {
        return false;
    };
    dir.parent() == Some(pool.as_path())
}

/// The data directory's major version must be one whose readiness we can
/// see (10+): reading PG_VERSION costs nothing, running postgres does.
fn check_version(data_dir: &Path) -> Result<()> {
    let path = data_dir.join("PG_VERSION");
    let text = fs::read_to_string(&path).map_err(Error::io("read", &path))?;
    let major: u32 = text
        .trim()
        .split('.')
        .next()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    if major < crate::pg::MIN_MAJOR {
        return Err(Error::with_hint(
            format!(
                "{} is PostgreSQL {}, older than 10",
                data_dir.display(),
                text.trim()
            ),
            "use PostgreSQL 10 or newer (`--pg-version`, `--pg-bindir`)",
        ));
    }
    Ok(())
}
