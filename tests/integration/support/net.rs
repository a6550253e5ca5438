//! What listens where, from the kernel's TCP tables (as `ss -ltn` reads
//! them): which addresses a port is bound to, and whether anything still
//! listens on it.

/// Addresses (hex, as /proc/net/tcp{,6} print them) listening on `port`;
/// `0100007F` is 127.0.0.1, `00000000` every IPv4 address.
pub fn listeners(port: u16) -> Vec<String> {
    let mut found = Vec::new();
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let Ok(text) = std::fs::read_to_string(table) else {
            continue;
        };
        for line in text.lines().skip(1) {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let (Some(local), Some(state)) = (fields.get(1), fields.get(3)) else {
                continue;
            };
            let Some((addr, hex_port)) = local.split_once(':') else {
                continue;
            };
            // 0A is TCP_LISTEN.
            if *state == "0A" && u16::from_str_radix(hex_port, 16) == Ok(port) {
                found.push(addr.to_string());
            }
        }
    }
    found
}

/// Whether the only listener on `port` is 127.0.0.1 (and there is one).
pub fn loopback_only(port: u16) -> bool {
    let addrs = listeners(port);
    !addrs.is_empty() && addrs.iter().all(|a| a == "0100007F")
}
