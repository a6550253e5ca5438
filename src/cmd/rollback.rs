//! `pgtmp rollback URL`: throws away what every client of a `--shared-tx`
//! URL did since the hand-out (or the last rollback), while they all stay
//! connected. It is a client of the proxy like any other, and asks with
//! PGProxy's `ROLLBACK TEST`: it waits its turn, so a client's batch or
//! transaction in progress finishes (or times out) first.

use postgres::{Config, NoTls};

use crate::error::{Error, Result, SharedTxProblem};
use crate::url;

pub fn run(target: &str) -> Result<()> {
    let parsed = url::parse(target).ok_or_else(|| Error::NotAUrl(target.to_string()))?;
    let mut config = Config::new();
    match parsed.socket_dir() {
        Some(dir) => config.host_path(dir),
        None => config.host(&parsed.host),
    };
    // The socket URL names no user (pg_tmp's shape): the role is the
    // caller's login name, as libpq would default it.
    let user = match parsed.user.as_str() {
        "" => crate::process::login_name(),
        named => named.to_string(),
    };
    config
        .port(parsed.port)
        .user(&user)
        .dbname(&parsed.dbname)
        .application_name("pgtmp rollback");
    if let Some(password) = &parsed.password {
        config.password(password);
    }
    let mut client = config.connect(NoTls).map_err(|source| Error::Sql {
        action: "connect to the shared-transaction proxy",
        source,
    })?;
    match client.batch_execute("ROLLBACK TEST") {
        Ok(()) => Ok(()),
        // The server itself does not know the statement.
        Err(e) if e.code().is_some_and(|c| c.code() == "42601") => Err(Error::SharedTx(
            SharedTxProblem::NotShared(url::without_password(target)),
        )),
        Err(source) => Err(Error::Sql {
            action: "roll the shared transaction back",
            source,
        }),
    }
}
