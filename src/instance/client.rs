//! The SQL pgtmp itself sends, over a server's private Unix socket:
//! setting the TCP password and counting client connections.

use std::path::Path;

use postgres::{Client, Config, NoTls};

use super::server::Server;
use crate::error::{Error, Result};

/// Connects to `dbname` on the server at `socket_dir` and `port` as `role`;
/// `action` names the attempt in the error.
pub fn connect_at(
    socket_dir: &Path,
    port: u16,
    role: &str,
    dbname: &str,
    action: &'static str,
) -> Result<Client> {
    Config::new()
        .host_path(socket_dir)
        .port(port)
        .user(role)
        .dbname(dbname)
        .application_name("pgtmp")
        .connect(NoTls)
        .map_err(|source| Error::Sql { action, source })
}

/// Connects to `dbname` of an instance's server as its superuser `role`.
pub fn connect(server: &Server, role: &str, dbname: &str) -> Result<Client> {
    connect_at(
        &server.socket_dir,
        server.port,
        role,
        dbname,
        "connect to the new server",
    )
}

/// The SCRAM-SHA-256 verifier of a password, as pg_authid stores it.
/// Computed by the supervisor while the server starts, so the server need
/// not hash the password (4096 PBKDF2 rounds) on the hand-out's path.
pub fn verifier(password: &str) -> String {
    postgres_protocol::password::scram_sha_256(password.as_bytes())
}

/// Gives the superuser the TCP password, as a precomputed `verifier`.
pub fn set_password(client: &mut Client, role: &str, verifier: &str) -> Result<()> {
    // Utility statements take no bind parameters; the verifier is base64
    // and `$:`, and the role name is quoted as an identifier.
    let sql = format!(
        "ALTER ROLE {} PASSWORD '{}'",
        quote_ident(role),
        verifier.replace('\'', "''")
    );
    client.batch_execute(&sql).map_err(|source| Error::Sql {
        action: "set the password",
        source,
    })
}

/// Client connections other than our own.
pub fn count_clients(client: &mut Client) -> std::result::Result<i64, postgres::Error> {
    let row = client.query_one(
        "SELECT count(*) FROM pg_stat_activity \
         WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()",
        &[],
    )?;
    Ok(row.get(0))
}

/// An SQL identifier, quoted: for statements that take no parameters.
pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

#[cfg(test)]
mod tests {
    #[test]
    fn identifiers_are_quoted() {
        assert_eq!(super::quote_ident("root"), "\"root\"");
        assert_eq!(super::quote_ident("a\"b"), "\"a\"\"b\"");
    }
}
