//! Talking to a handed-out database with the `postgres` crate: what a user's
//! program would do with the URL, with no retry (pgtmp only prints the URL
//! once the server accepts connections).

use postgres::{Client, NoTls};

pub fn connect(url: &str) -> Client {
    try_connect(url).unwrap_or_else(|e| panic!("cannot connect to {url}: {e:?}"))
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
