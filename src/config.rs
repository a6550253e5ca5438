//! The one place that reads environment variables and defaults: plain
//! values in (`Options`: what the command line or a library caller
//! decided), a `Config` the rest of pgtmp acts on out. Nothing here knows
//! the command line's types.

use std::path::PathBuf;
use std::time::Duration;

use crate::base::Found;
use crate::error::{BaseProblem, Error, Result, SettingProblem, SharedTxProblem};
use crate::paths::{self, Layout};
use crate::pg;
use crate::pool::locale::Locale;
use crate::pool::template::Spec;
use crate::process::{self, Identity};

/// How many ready copies the pool keeps by default. Each costs ~35 MB of
/// tmpfs; two absorb a burst of back-to-back hand-outs while the refill
/// (~30 ms a copy) keeps up. Fewer where the budget (`pool::budget`) says.
pub const DEFAULT_POOL_SIZE: usize = 2;
const MAX_POOL_SIZE: usize = 32;

/// The most spares kept per class by default (`PGTMP_SPARES`). Each is
/// one idle server: ~11 MiB of memory (PSS) and ~35 MB of tmpfs.
pub const DEFAULT_SPARES: usize = 16;
/// The most `PGTMP_SPARES` (or `--spares`) may ask for.
pub const MAX_SPARES: usize = 64;

/// How long an unclaimed spare waits before it stops, by default
/// (`PGTMP_SPARE_TIMEOUT`): an idle machine ends up running nothing.
pub const DEFAULT_SPARE_TIMEOUT: Duration = Duration::from_secs(60);

/// What the caller decides; everything else comes from the environment
/// and the defaults.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The directory holding `postgres` and `initdb` (else
    /// `PGTMP_PG_BINDIR`, else searched for).
    pub pg_bindir: Option<PathBuf>,
    /// The newest installation of this major version among those found
    /// (wins over `PGTMP_PG_BINDIR`).
    pub pg_version: Option<u32>,
    /// As root, run PostgreSQL as this account.
    pub run_as: Option<String>,
    /// The most spares kept per class (else `PGTMP_SPARES`).
    pub spares: Option<usize>,
    /// The databases' locale (else `PGTMP_LOCALE`, else C.UTF-8).
    pub locale: Option<String>,
    /// The pgtmp program that runs supervisors and refills (`__supervise`,
    /// `__refill`). By default the running program when it is pgtmp
    /// (`pgtmp::run`), else the `pgtmp` found on PATH.
    pub exe: Option<PathBuf>,
}

/// Everything pgtmp acts on, resolved once.
#[derive(Debug, Clone)]
pub struct Config {
    pub layout: Layout,
    pub identity: Identity,
    pub pool_size: usize,
    pub initdb_opts: Vec<String>,
    /// Where to look for PostgreSQL and which one to take.
    pub pg: pg::Search,
    /// The most spares kept ready per class; 0: none.
    pub spare_max: usize,
    /// How long an unclaimed spare waits before it stops.
    pub spare_timeout: Duration,
    /// The databases' locale (else `PGTMP_LOCALE`); None: C.UTF-8 (see
    /// `pool::locale`).
    pub locale: Option<String>,
    /// `--shared-tx`: how long a client waits for another's transaction.
    pub shared_tx_wait: Duration,
    /// The pgtmp program the background processes run.
    pub exe: PathBuf,
}

impl Config {
    pub fn resolve(options: &Options) -> Result<Config> {
        let as_root = nix::unistd::Uid::effective().is_root();
        // Absolute: the supervisor and postgres do not share our cwd.
        let explicit = env_path("PGTMP_DIR")
            .map(|dir| std::path::absolute(&dir).map_err(Error::io("resolve PGTMP_DIR", dir)))
            .transpose()?;
        // pg_tmp's variable: a base of our own under it, chosen (and
        // settled, should someone hold its name) like the default one.
        let systmp = env_path("SYSTMP")
            .map(|dir| std::path::absolute(&dir).map_err(Error::io("resolve SYSTMP", dir)))
            .transpose()?;
        let uid = nix::unistd::Uid::current().as_raw();
        let requested = options.run_as.as_deref();
        let default = explicit.is_none();
        let mut base = paths::choose_base(explicit, systmp, uid, as_root);
        if default {
            // Someone else may hold the default name (it lies in a
            // world-writable directory): move on to one of our own.
            let account = as_root
                .then(|| process::default_account(requested))
                .transpose()?;
            base = crate::base::settle_default(base, |found| usable(found, uid, account));
        }
        if base.to_str().is_none() {
            return Err(Error::BaseDir {
                path: base,
                problem: BaseProblem::NotUtf8,
            });
        }
        let made_for = if as_root {
            crate::base::inspect(&base).ok().and_then(|f| f.made_for())
        } else {
            None
        };
        let identity = Identity::resolve(requested, made_for)?;
        let pool_size = env_count(&["PGTMP_POOL_SIZE"], MAX_POOL_SIZE, DEFAULT_POOL_SIZE)?;
        // Checked even when `--spares` overrides it.
        let spare_max = env_count(SPARES_VARS, MAX_SPARES, DEFAULT_SPARES)?;
        let spare_max = options.spares.map_or(spare_max, |n| n.min(MAX_SPARES));
        let spare_timeout = match env_var(SPARE_TIMEOUT_VARS) {
            Some((name, v)) => match parse_timeout(&v) {
                Ok(t) if !t.is_zero() => t,
                _ => return Err(setting(name, v, SettingProblem::Duration)),
            },
            None => DEFAULT_SPARE_TIMEOUT,
        };
        let shared_tx_wait = match std::env::var("PGTMP_SHARED_TX_WAIT") {
            Ok(v) => match parse_timeout(&v) {
                Ok(t) if !t.is_zero() => t,
                _ => return Err(Error::SharedTx(SharedTxProblem::Wait(v))),
            },
            Err(_) => crate::proxy::config::DEFAULT_LOCK_WAIT,
        };
        let initdb_opts = match std::env::var("PGTMP_INITDB_OPTS") {
            Ok(v) => shell_words::split(&v).map_err(|e| {
                setting(
                    "PGTMP_INITDB_OPTS",
                    v.clone(),
                    SettingProblem::Words(e.to_string()),
                )
            })?,
            Err(_) => Vec::new(),
        };
        let exe = match &options.exe {
            Some(exe) => exe.clone(),
            None if crate::is_pgtmp() => {
                std::env::current_exe().map_err(Error::io("find", "/proc/self/exe"))?
            }
            // Never this program: re-run as `__supervise`, it would hand
            // out again.
            None => which::which("pgtmp").map_err(|_| Error::NoProgram)?,
        };
        let layout = Layout::new(base);
        let pg = pg::Search {
            bindir: options.pg_bindir.clone(),
            bindir_env: env_path("PGTMP_PG_BINDIR"),
            major: options.pg_version,
            path: std::env::var_os("PGTMP_PG_PATH")
                .map(|v| {
                    std::env::split_paths(&v)
                        .filter(|p| !p.as_os_str().is_empty())
                        .map(|p| std::path::absolute(&p).unwrap_or(p))
                        .collect()
                })
                .unwrap_or_default(),
            cache: Some(layout.pg_cache()),
        };
        Ok(Config {
            exe,
            layout,
            identity,
            pool_size,
            initdb_opts,
            pg,
            spare_max,
            spare_timeout,
            locale: match &options.locale {
                Some(l) => Some(l.clone()),
                None => std::env::var("PGTMP_LOCALE").ok().filter(|l| !l.is_empty()),
            },
            shared_tx_wait,
        })
    }

    /// Creates the base directory and, as root, becomes the `--run-as`
    /// account: everything after this runs unprivileged. Calling it again
    /// does no harm.
    pub fn enter(&self) -> Result<()> {
        self.prepare_base()?;
        self.identity.drop_privileges()
    }

    /// The first half of `enter`: the base directory, made safe to use. A
    /// command with something left to do as the caller does it before
    /// `drop_privileges`, the second half.
    pub fn prepare_base(&self) -> Result<()> {
        let as_root = self.identity.run_as.is_some();
        paths::prepare_base(&self.layout.base, self.identity.owner(), as_root)
    }

    pub fn drop_privileges(&self) -> Result<()> {
        self.identity.drop_privileges()
    }

    /// Finds PostgreSQL and says which template it needs.
    pub fn template_spec(&self) -> Result<Spec> {
        self.template_spec_with(&self.pg)
    }

    /// As `template_spec`, searching as `search` says.
    pub(crate) fn template_spec_with(&self, search: &pg::Search) -> Result<Spec> {
        Ok(self.spec_of(pg::find(search)?))
    }

    /// As `template_spec_with`, from the cache alone (`pg::find_cached`):
    /// `None` where finding PostgreSQL would run a program.
    pub(crate) fn template_spec_cached(&self, search: &pg::Search) -> Option<Spec> {
        pg::find_cached(search).map(|install| self.spec_of(install))
    }

    fn spec_of(&self, install: pg::Install) -> Spec {
        Spec {
            install,
            role: self.identity.role.clone(),
            initdb_opts: self.initdb_opts.clone(),
            wal: crate::pool::wal::WalLevel::Minimal,
            locale: Locale::resolve(self.locale.as_deref()),
        }
    }
}

/// Whether pgtmp may settle in what it found at a default base path: a
/// directory of its own, or none yet. Root's own is one it made (its
/// marker names the account), or one belonging to root or to the account
/// it would run as anyway (`account`); another user's directory never is.
fn usable(found: &Found, uid: u32, account: Option<u32>) -> bool {
    match (found, account) {
        (Found::Missing, _) => true,
        (Found::Dir { uid: owner, .. }, None) => *owner == uid,
        (
            Found::Dir {
                uid: owner,
                made_for,
            },
            Some(account),
        ) => *owner == 0 || *owner == account || made_for.is_some(),
        (Found::Link(_) | Found::NotDir, _) => false,
    }
}

/// `PGTMP_SPARES`, and the name it had before spares were called so.
const SPARES_VARS: &[&str] = &["PGTMP_SPARES", "PGTMP_STANDBY"];
/// `PGTMP_SPARE_TIMEOUT`, and its old name.
const SPARE_TIMEOUT_VARS: &[&str] = &["PGTMP_SPARE_TIMEOUT", "PGTMP_STANDBY_TIMEOUT"];

/// The longest idle timeout `-w` takes: a year (`1y`, as humantime counts
/// it). Anything longer is a typo; `0` means no timeout at all.
pub const MAX_TIMEOUT: Duration = Duration::from_secs(31_557_600);

/// An idle timeout as `-w` takes it, or a spare timeout: humantime (`90s`,
/// `5m`) or plain seconds, as pg_tmp takes them. `0` means none. The
/// timeout is kept in whole milliseconds, so a shorter one (`500us`,
/// `1ns`) is rounded up to 1 ms rather than down to 0, which would mean
/// "never stop"; one over [`MAX_TIMEOUT`] is refused.
pub fn parse_timeout(s: &str) -> std::result::Result<Duration, String> {
    let s = s.trim();
    let timeout = match s.parse::<u64>() {
        Ok(secs) => Duration::from_secs(secs),
        Err(_) => humantime::parse_duration(s)
            .map_err(|e| format!("{e} (try `90s`, `5m` or a number of seconds)"))?,
    };
    if timeout > MAX_TIMEOUT {
        return Err("longer than the maximum of a year, `1y` (use `0` for no idle timeout)".into());
    }
    let ms = timeout.as_nanos().div_ceil(1_000_000);
    Ok(Duration::from_millis(ms as u64))
}

/// The first of `names` that is set, with its value: a new name first,
/// then the old ones it replaced.
fn env_var(names: &[&'static str]) -> Option<(&'static str, String)> {
    names
        .iter()
        .find_map(|&name| std::env::var(name).ok().map(|v| (name, v)))
}

/// A count from the first set of the environment variables `names`, from
/// 0 to `max`.
fn env_count(names: &[&'static str], max: usize, default: usize) -> Result<usize> {
    match env_var(names) {
        Some((name, v)) => v
            .trim()
            .parse::<usize>()
            .ok()
            .filter(|n| *n <= max)
            .ok_or_else(|| setting(name, v, SettingProblem::Count { max, default })),
        None => Ok(default),
    }
}

fn setting(name: &'static str, value: String, problem: SettingProblem) -> Error {
    Error::Setting {
        name,
        value,
        problem,
    }
}

fn env_path(name: &str) -> Option<PathBuf> {
    std::env::var_os(name)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

#[cfg(test)]
mod tests {
    use super::parse_timeout;
    use std::time::Duration;

    #[test]
    fn timeouts() {
        assert_eq!(parse_timeout("5").unwrap(), Duration::from_secs(5));
        assert_eq!(parse_timeout("90s").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_timeout("5m").unwrap(), Duration::from_secs(300));
        assert_eq!(parse_timeout("0").unwrap(), Duration::ZERO);
        assert!(parse_timeout("soon").is_err());
        assert!(parse_timeout("-3").is_err());
        assert!(parse_timeout("18446744073709552s").is_err());
        assert!(parse_timeout("584942417y").is_err());
        // Below the millisecond the timeout is kept in: up, never to 0.
        assert_eq!(parse_timeout("500us").unwrap(), Duration::from_millis(1));
        assert_eq!(parse_timeout("1ns").unwrap(), Duration::from_millis(1));
        assert_eq!(parse_timeout("1500us").unwrap(), Duration::from_millis(2));
        // At most a year.
        assert_eq!(parse_timeout("1y").unwrap(), super::MAX_TIMEOUT);
        assert!(parse_timeout("1y 1s").is_err());
        assert!(parse_timeout("99999999999").is_err());
    }
}
