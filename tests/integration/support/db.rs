//! Talking to a handed-out database with the `postgres` crate: what a user's
//! program would do with the URL, with no retry (pgtmp only prints the URL
//! once the server accepts connections).

use postgres::{Client, Config, NoTls};

use super::user::Who;

pub fn connect(url: &str) -> Client {
    try_connect(url).unwrap_or_else(|e| panic!("cannot connect to {url}: {e:?}"))
}

/// Connects, from the test process, to an instance `who` started: the
/// socket URL names no user (the driver defaults to the OS user, which is
/// the role only for `who` itself), so name the role `who` has.
pub fn connect_to_whose(url: &str, who: Who) -> Client {
    let mut config: Config = url
        .parse()
        .unwrap_or_else(|e| panic!("cannot parse {url}: {e:?}"));
    if let Who::User(u) | Who::Stranger(u) = who {
        config.user(&u.name);
    }
    config
        .connect(NoTls)
        .unwrap_or_else(|e| panic!("cannot connect to {url} as {who:?}'s role: {e:?}"))
}

pub fn try_connect(url: &str) -> Result<Client, postgres::Error> {
    Client::connect(url, NoTls)
}

/// The single text value `sql` returns (cast in SQL where needed).
pub fn text(client: &mut Client, sql: &str) -> String {
    let row = client
        .query_one(sql, &[])
        .unwrap_or_else(|e| panic!("{sql}: {e:?}"));
    row.get(0)
}

pub fn execute(client: &mut Client, sql: &str) {
    client
        .batch_execute(sql)
        .unwrap_or_else(|e| panic!("{sql}: {e:?}"));
}
