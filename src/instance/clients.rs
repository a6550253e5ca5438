//! Counting an instance's client connections from the kernel's socket
//! tables, without connecting: the server side of every accepted Unix-socket
//! connection carries the listening socket's path in /proc/net/unix (state
//! 03, connected), and every accepted TCP connection has the server's port
//! as its local port in /proc/net/tcp{,6} (state 01, established).
//!
//! A watcher that connects instead keeps a backend alive (~7 MB), takes a
//! connection slot and blocks `DROP DATABASE` of the database it sits in.

use std::fs;

use super::endpoint::Address;

/// Client connections at `address` (an instance's endpoint); None where
/// /proc/net is missing.
pub fn count(address: &Address) -> Option<i64> {
    let socket = address
        .socket_dir
        .join(format!(".s.PGSQL.{}", address.port));
    let unix = fs::read_to_string("/proc/net/unix").ok()?;
    let mut n = unix_connections(&unix, &socket.to_string_lossy());
    if address.tcp {
        for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
            if let Ok(text) = fs::read_to_string(table) {
                n += tcp_connections(&text, address.port);
            }
        }
    }
    Some(n)
}

/// Connected sockets bound to `path` (the listener itself is state 01).
fn unix_connections(table: &str, path: &str) -> i64 {
    table
        .lines()
        .skip(1)
        .filter(|line| {
            // Num RefCount Protocol Flags Type St Inode Path
            let fields: Vec<&str> = line.split_whitespace().collect();
            fields.get(5) == Some(&"03") && fields.get(7..).is_some_and(|p| p.join(" ") == path)
        })
        .count() as i64
}

/// Established connections whose local port is `port`.
fn tcp_connections(table: &str, port: u16) -> i64 {
    let suffix = format!(":{port:04X}");
    table
        .lines()
        .skip(1)
        .filter(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            fields.get(3) == Some(&"01") && fields.get(1).is_some_and(|l| l.ends_with(&suffix))
        })
        .count() as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    const UNIX: &str = "\
Num       RefCount Protocol Flags    Type St Inode Path
000000009aaaccf2: 00000002 00000000 00010000 0001 01 296316 /dev/shm/p/run/a/.s.PGSQL.5432
000000006e9efb70: 00000003 00000000 00000000 0001 03 295734 /dev/shm/p/run/a/.s.PGSQL.5432
000000006e9efb71: 00000003 00000000 00000000 0001 03 295735
000000006e9efb72: 00000003 00000000 00000000 0001 03 295736 /dev/shm/p/run/b/.s.PGSQL.5432
";

    const TCP: &str = "\
  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:B4C5 00000000:0000 0A 00000000:00000000 00:00000000 00000000   101        0 1 1
   1: 0100007F:B4C5 0100007F:D0A2 01 00000000:00000000 00:00000000 00000000   101        0 2 1
   2: 0100007F:D0A2 0100007F:B4C5 01 00000000:00000000 00:00000000 00000000     0        0 3 1
";

    #[test]
    fn counts_accepted_unix_connections_only() {
        assert_eq!(unix_connections(UNIX, "/dev/shm/p/run/a/.s.PGSQL.5432"), 1);
        assert_eq!(unix_connections(UNIX, "/dev/shm/p/run/c/.s.PGSQL.5432"), 0);
    }

    #[test]
    fn counts_server_side_tcp_connections_only() {
        assert_eq!(tcp_connections(TCP, 0xB4C5), 1);
        assert_eq!(tcp_connections(TCP, 5432), 0);
    }
}
