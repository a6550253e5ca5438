//! The ports of instances: the fixed one of socket-only servers, a free one
//! for `-t`, and whether a `-p` one is taken.

use std::net::{Ipv4Addr, TcpListener};

use crate::error::{Error, Result};

/// The port of socket-only instances: their socket directory is private,
/// so every instance can use the default and the URL needs no port.
pub const SOCKET_PORT: u16 = 5432;

/// The port of the server behind a `--shared-tx` proxy: socket only, in the
/// socket directory it shares with the proxy, which has `SOCKET_PORT`.
pub const SHARED_SERVER_PORT: u16 = 5433;

/// A port on 127.0.0.1 that is free right now. Another process may take it
/// before the server binds it; the supervisor then retries with another.
pub fn free() -> Result<u16> {
    let listener =
        TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).map_err(Error::io("bind", "127.0.0.1:0"))?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(Error::io("bind", "127.0.0.1:0"))
}

/// Whether something already listens on 127.0.0.1:`port`.
pub fn in_use(port: u16) -> bool {
    matches!(
        TcpListener::bind((Ipv4Addr::LOCALHOST, port)),
        Err(e) if e.kind() == std::io::ErrorKind::AddrInUse
    )
}
