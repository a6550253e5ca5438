//! Taking apart the two URL shapes pgtmp prints, strictly: a test should fail
//! loudly, naming the URL, when the shape drifts from the contract.

use std::path::PathBuf;

/// `postgresql:///test?host=<socketdir, percent-encoded>`, pg_tmp's shape.
#[derive(Debug)]
pub struct SocketUrl {
    pub db: String,
    pub host: PathBuf,
}

/// `postgresql://<role>:<password>@127.0.0.1:<port>/test?sslmode=disable`
#[derive(Debug)]
pub struct TcpUrl {
    pub user: String,
    pub password: String,
    pub host: String,
    pub port: u16,
    pub db: String,
}

impl TcpUrl {
    /// The same URL with another password.
    pub fn with_password(&self, password: &str) -> String {
        format!(
            "postgresql://{}:{password}@{}:{}/{}?sslmode=disable",
            self.user, self.host, self.port, self.db
        )
    }
}

pub fn socket(url: &str) -> SocketUrl {
    let bad = |why: &str| -> ! { panic!("not a socket URL ({why}): {url}") };
    let rest = url
        .strip_prefix("postgresql:///")
        .unwrap_or_else(|| bad("prefix"));
    let (db, query) = rest.split_once('?').unwrap_or_else(|| bad("no query"));
    let host = query
        .strip_prefix("host=")
        .unwrap_or_else(|| bad("no `host=`"));
    // pg_tmp's shape: nothing but the host, all of it encoded, so that
    // `cut -d= -f2 | sed 's/%2F/\//g'` gives the directory.
    if host.contains(['&', '/', '=', '?']) {
        bad("the host is not alone or not encoded");
    }
    SocketUrl {
        db: decode(db),
        host: PathBuf::from(decode(host)),
    }
}

pub fn tcp(url: &str) -> TcpUrl {
    let bad = |why: &str| -> ! { panic!("not a TCP URL ({why}): {url}") };
    let rest = url
        .strip_prefix("postgresql://")
        .unwrap_or_else(|| bad("prefix"));
    let (userinfo, rest) = rest.split_once('@').unwrap_or_else(|| bad("no `@`"));
    let (user, password) = userinfo
        .split_once(':')
        .unwrap_or_else(|| bad("no password"));
    let (hostport, path) = rest.split_once('/').unwrap_or_else(|| bad("no database"));
    // The server has no TLS; Go's lib/pq needs to be told.
    let db = path
        .strip_suffix("?sslmode=disable")
        .unwrap_or_else(|| bad("no `?sslmode=disable`"));
    let (host, port) = hostport.rsplit_once(':').unwrap_or_else(|| bad("no port"));
    TcpUrl {
        user: decode(user),
        password: password.to_string(),
        host: host.to_string(),
        port: port.parse().unwrap_or_else(|_| bad("port")),
        db: decode(db),
    }
}

/// Percent-decoding.
fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The URL without a TCP password, safe for a command line (which every
/// local user can read); socket URLs have none.
pub fn without_password(url: &str) -> String {
    if url.starts_with("postgresql:///") {
        return url.to_string();
    }
    let u = tcp(url);
    format!("postgresql://{}@{}:{}/{}", u.user, u.host, u.port, u.db)
}
