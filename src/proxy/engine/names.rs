//! Each client's prepared statements get server names of their own: every
//! tokio-postgres connection calls its first statement `s0`, every sqlx
//! one `sqlx_s_1`, and on one shared server session they would collide.
//! The name is `c<client>_<name>`; one that would not fit the server's 63
//! bytes (where longer names are cut and could then collide) becomes
//! `c<client>_#<hash>`. The unnamed statement stays unnamed. The proxy's
//! own names start with `pgtmp_`, which no client name maps to.
//!
//! Portals keep their names: they share a namespace with SQL cursors
//! (psycopg declares a cursor, then describes it as a portal), and they
//! never outlive their owner's turn, since the proxy closes a client's
//! portals when its batch or transaction ends.

use sha2::{Digest, Sha256};

use super::ClientId;

/// The longest name the server keeps whole (NAMEDATALEN - 1).
const MAX: usize = 63;

/// The server's name for the client's statement `name`.
pub fn server(client: ClientId, name: &[u8]) -> Vec<u8> {
    if name.is_empty() {
        return Vec::new();
    }
    let mut out = format!("c{client}_").into_bytes();
    if out.len() + name.len() <= MAX {
        out.extend_from_slice(name);
    } else {
        let hash = Sha256::digest(name);
        out.push(b'#');
        for b in &hash[..12] {
            out.extend_from_slice(format!("{b:02x}").as_bytes());
        }
    }
    out
}

/// The same as an SQL identifier, for `PREPARE`/`EXECUTE`/`DEALLOCATE`.
pub fn quoted(client: ClientId, name: &str) -> String {
    let server = String::from_utf8_lossy(&server(client, name.as_bytes())).into_owned();
    format!("\"{}\"", server.replace('"', "\"\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_per_client_and_fit() {
        assert_eq!(server(3, b"s0"), b"c3_s0");
        assert_ne!(server(3, b"s0"), server(4, b"s0"));
        assert_eq!(server(3, b""), b"");
        let long = vec![b'x'; 80];
        let a = server(3, &long);
        assert!(a.len() <= MAX && a.starts_with(b"c3_#"));
        let mut other = long.clone();
        other[79] = b'y';
        assert_ne!(a, server(3, &other));
        assert_eq!(quoted(12, "a\"b"), "\"c12_a\"\"b\"");
    }
}
