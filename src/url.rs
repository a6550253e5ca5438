//! Connection URLs: building the one pgtmp prints and reading it back (for
//! `stop URL` and the PG* variables of `exec`), also from the `jdbc` and
//! `dsn` forms of `-F`, so that `pgtmp stop` takes whatever pgtmp printed.
//!
//! The socket form is pg_tmp's, `postgresql:///test?host=%2Fdir%2Fsub`: the
//! host percent-encoded, and nothing else. It holds no character a POSIX
//! shell splits or expands but `?` (which globs only where a directory
//! `postgresql:` exists), so scripts interpolate it unquoted, and
//! `cut -d= -f2 | sed 's/%2F/\//g'` gives the socket directory. No `user`:
//! every driver of the client suite defaults it to the OS user, whose login
//! name is the role's, except node-postgres when `USER` is unset; for that,
//! `socket_with_user` adds it as `postgresql://NAME@/test?host=...`, still
//! free of `&`.
//!
//! The TCP form, `postgresql://NAME:PASSWORD@127.0.0.1:PORT/test?sslmode=disable`,
//! follows the same rule (name and password are percent-encoded, the
//! password is alphanumeric anyway). It says `sslmode=disable`: the server
//! has no TLS, and Go's lib/pq defaults to `sslmode=require`, so without it
//! that driver refuses the URL; libpq's default (`prefer`) would only waste
//! a round trip.

use std::path::{Path, PathBuf};

/// The database every instance has ready.
pub const DATABASE: &str = "test";

/// What a URL says, in libpq's terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// A socket directory (starts with `/`) or a TCP host.
    pub host: String,
    pub port: u16,
    pub user: String,
    pub password: Option<String>,
    pub dbname: String,
}

/// The Unix-socket URL of an instance, in pg_tmp's shape. Socket-only
/// servers listen on the default port 5432, in a directory of their own,
/// so the URL needs none; another port (a listener of pgtmp's own may
/// have one) is added as `&port=`, which a shell would then need quoted.
pub fn socket(dir: &Path, port: u16) -> String {
    let url = format!(
        "postgresql:///{DATABASE}?host={}",
        encode(&dir.to_string_lossy())
    );
    match port {
        DEFAULT_PORT => url,
        other => format!("{url}&port={other}"),
    }
}

/// libpq's default port, which a URL need not name.
const DEFAULT_PORT: u16 = 5432;

/// The socket URL naming the user too, for drivers that find no user name
/// in their environment: `postgresql://NAME@/test?host=...`.
pub fn socket_with_user(dir: &Path, port: u16, user: &str) -> String {
    with_user(&socket(dir, port), user)
}

/// `url` naming `user` if it names no one: a socket URL of `socket`'s
/// shape gains `NAME@`; any other (the TCP one names its user) is kept.
pub fn with_user(url: &str, user: &str) -> String {
    match url.strip_prefix("postgresql:///") {
        Some(rest) => format!("postgresql://{}@/{rest}", encode(user)),
        None => url.to_string(),
    }
}

/// The TCP host of every instance: loopback only.
pub const TCP_HOST: &str = "127.0.0.1";

/// The TCP URL of an instance: loopback only, with its password.
pub fn tcp(port: u16, user: &str, password: &str) -> String {
    format!(
        "postgresql://{}:{}@{TCP_HOST}:{port}/{DATABASE}?sslmode=disable",
        encode(user),
        encode(password)
    )
}

/// The URL without the password in its user part: what may appear on a
/// command line, which every local user can read in /proc.
pub fn without_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split_once(':').map_or(userinfo, |(u, _)| u);
            format!("{scheme}://{user}@{host}{tail}")
        }
        None => url.to_string(),
    }
}

/// Reads back what `pgtmp` printed: a URL of the two forms above (and the
/// usual variations), the `jdbc:` form, or libpq's `key=value` form.
pub fn parse(text: &str) -> Option<Target> {
    let text = text.trim();
    let url = text.strip_prefix("jdbc:").unwrap_or(text);
    if url.starts_with("postgres") && url.contains("://") {
        parse_url(url)
    } else {
        parse_dsn(text)
    }
}

fn parse_url(url: &str) -> Option<Target> {
    let rest = url
        .strip_prefix("postgresql://")
        .or_else(|| url.strip_prefix("postgres://"))?;
    let (main, query) = rest.split_once('?').unwrap_or((rest, ""));
    let (authority, path) = main.split_once('/').unwrap_or((main, ""));
    let (userinfo, hostport) = match authority.rsplit_once('@') {
        Some((u, h)) => (Some(u), h),
        None => (None, authority),
    };
    let mut target = Target {
        host: String::new(),
        port: 5432,
        user: String::new(),
        password: None,
        dbname: decode(path),
    };
    if let Some(userinfo) = userinfo {
        let (user, password) = match userinfo.split_once(':') {
            Some((u, p)) => (u, Some(decode(p))),
            None => (userinfo, None),
        };
        target.user = decode(user);
        target.password = password;
    }
    if !hostport.is_empty() {
        let (host, port) = match hostport.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (hostport, None),
        };
        target.host = decode(host);
        if let Some(port) = port {
            target.port = port.parse().ok()?;
        }
    }
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let v = decode(v);
        match k {
            "host" => target.host = v,
            "port" => target.port = v.parse().ok()?,
            "user" => target.user = v,
            "password" => target.password = Some(v),
            "dbname" => target.dbname = v,
            _ => {}
        }
    }
    Some(target)
}

/// libpq's `key=value` form: values in single quotes or bare, `\\` escaping
/// the next character in both.
fn parse_dsn(dsn: &str) -> Option<Target> {
    let mut target = Target {
        host: String::new(),
        port: 5432,
        user: String::new(),
        password: None,
        dbname: String::new(),
    };
    let mut chars = dsn.chars().peekable();
    loop {
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        if chars.peek().is_none() {
            break;
        }
        let key: String =
            std::iter::from_fn(|| chars.next_if(|&c| c != '=' && !c.is_whitespace())).collect();
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        chars.next_if_eq(&'=')?;
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        let quoted = chars.next_if_eq(&'\'').is_some();
        let mut value = String::new();
        loop {
            match chars.next() {
                Some('\\') => value.push(chars.next()?),
                Some('\'') if quoted => break,
                Some(c) if !quoted && c.is_whitespace() => break,
                Some(c) => value.push(c),
                None if quoted => return None,
                None => break,
            }
        }
        match key.as_str() {
            "host" => target.host = value,
            "port" => target.port = value.parse().ok()?,
            "user" => target.user = value,
            "password" => target.password = Some(value),
            "dbname" => target.dbname = value,
            "" => return None,
            _ => {}
        }
    }
    (!target.host.is_empty()).then_some(target)
}

/// A value for libpq's `key=value` form: an empty value, or one with white
/// space, a quote or a backslash, goes in single quotes with `'` and `\`
/// escaped by a backslash
/// (<https://www.postgresql.org/docs/current/libpq-connect.html#LIBPQ-CONNSTRING-KEYWORD-VALUE>).
pub fn quote_value(v: &str) -> String {
    let plain = !v.is_empty()
        && !v
            .chars()
            .any(|c| c.is_whitespace() || c == '\'' || c == '\\');
    if plain {
        v.to_string()
    } else {
        format!("'{}'", v.replace('\\', r"\\").replace('\'', r"\'"))
    }
}

impl Target {
    /// The socket URL names no user (pg_tmp's shape): the one clients
    /// would take by default, `role`, fills it in.
    pub fn or_user(mut self, role: impl FnOnce() -> String) -> Target {
        if self.user.is_empty() {
            self.user = role();
        }
        self
    }

    /// The socket directory, when the host is one.
    pub fn socket_dir(&self) -> Option<PathBuf> {
        self.host
            .starts_with('/')
            .then(|| PathBuf::from(&self.host))
    }

    /// The same server, another database.
    pub fn with_dbname(&self, dbname: &str) -> Target {
        Target {
            dbname: dbname.to_string(),
            ..self.clone()
        }
    }
}

/// Percent-encodes all but RFC 3986's unreserved characters, for URLs and
/// for JDBC's query parameters: nothing a shell or a URL parser reads
/// specially is left.
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        let keep = b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~');
        if keep {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
            if let Ok(b) = u8::from_str_radix(hex, 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What a POSIX shell splits, expands or redirects on, but `?` (and `~`
    /// and `=`, special only at the start of a word).
    const SHELL_SPECIAL: &[char] = &[
        '&', ';', '|', '<', '>', '(', ')', '$', '`', '\\', '\'', '"', ' ', '\t', '*', '\n', '[',
        '#', '{', '}',
    ];

    #[test]
    fn socket_urls_have_pg_tmps_shape() {
        let dir = Path::new("/dev/shm/pgtmp-0/run/abc");
        let url = socket(dir, 5432);
        assert_eq!(
            url,
            "postgresql:///test?host=%2Fdev%2Fshm%2Fpgtmp-0%2Frun%2Fabc"
        );
        assert_eq!(parse(&socket(dir, 6543)).unwrap().port, 6543);
        // What scripts do with it: `cut -d= -f2 | sed 's/%2F/\//g'`.
        let cut = url.split('=').nth(1).unwrap().replace("%2F", "/");
        assert_eq!(cut, "/dev/shm/pgtmp-0/run/abc");
        let t = parse(&url).unwrap();
        assert_eq!(t.host, "/dev/shm/pgtmp-0/run/abc");
        assert_eq!(t.port, 5432);
        assert_eq!(t.user, "");
        assert_eq!(t.dbname, "test");
        assert_eq!(t.socket_dir(), Some(PathBuf::from(dir)));
        let with_user = socket_with_user(dir, 5432, "root");
        assert_eq!(
            with_user,
            "postgresql://root@/test?host=%2Fdev%2Fshm%2Fpgtmp-0%2Frun%2Fabc"
        );
        let t = parse(&with_user).unwrap();
        assert_eq!(
            (t.host.as_str(), t.user.as_str()),
            (dir.to_str().unwrap(), "root")
        );
    }

    #[test]
    fn no_form_needs_quoting_in_a_shell() {
        let dir = Path::new("/tmp/a b&c;$(x)'\"*");
        for url in [
            socket(dir, 5432),
            socket_with_user(dir, 5432, "o'neil & co"),
            tcp(54321, "o'neil", "s3cret"),
        ] {
            assert!(!url.contains(SHELL_SPECIAL), "{url}");
        }
    }

    #[test]
    fn odd_characters_are_escaped() {
        let t = parse(&socket_with_user(Path::new("/tmp/a b&c"), 5432, "o'neil")).unwrap();
        assert_eq!(t.host, "/tmp/a b&c");
        assert_eq!(t.port, 5432);
        assert_eq!(t.user, "o'neil");
    }

    #[test]
    fn earlier_socket_urls_are_still_read() {
        let t = parse("postgresql:///test?host=/dev/shm/x&user=root&port=6000").unwrap();
        assert_eq!(
            (t.host.as_str(), t.user.as_str(), t.port),
            ("/dev/shm/x", "root", 6000)
        );
    }
    #[test]
    fn tcp_urls_round_trip() {
        let url = tcp(54321, "alice", "s3cret");
        assert_eq!(
            url,
            "postgresql://alice:s3cret@127.0.0.1:54321/test?sslmode=disable"
        );
        let t = parse(&url).unwrap();
        assert_eq!(
            t,
            Target {
                host: "127.0.0.1".into(),
                port: 54321,
                user: "alice".into(),
                password: Some("s3cret".into()),
                dbname: "test".into()
            }
        );
    }

    #[test]
    fn passwords_come_out() {
        let url = tcp(54321, "alice", "s3cret");
        assert_eq!(
            without_password(&url),
            "postgresql://alice@127.0.0.1:54321/test?sslmode=disable"
        );
        let socket = socket(Path::new("/dev/shm/x"), 5432);
        assert_eq!(without_password(&socket), socket);
        assert_eq!(without_password("garbage"), "garbage");
    }

    #[test]
    fn jdbc_and_dsn_forms_are_read_back() {
        let want = Target {
            host: "127.0.0.1".into(),
            port: 41234,
            user: "o'neil".into(),
            password: Some("pw".into()),
            dbname: "test".into(),
        };
        let jdbc =
            "jdbc:postgresql://127.0.0.1:41234/test?user=o%27neil&password=pw&sslmode=disable";
        assert_eq!(parse(jdbc), Some(want.clone()));
        let dsn =
            r"host=127.0.0.1 port=41234 user='o\'neil' password=pw dbname=test sslmode=disable";
        assert_eq!(parse(dsn), Some(want));
        let t = parse("host='/tmp/a b' port = 5432 user=root dbname=test").unwrap();
        assert_eq!((t.host.as_str(), t.user.as_str()), ("/tmp/a b", "root"));
        assert!(parse("host='/tmp/unterminated").is_none());
        assert!(parse("user=root").is_none());
    }

    #[test]
    fn garbage_is_not_a_url() {
        assert!(parse("mysql://x").is_none());
        assert!(parse("postgresql://h:notaport/db").is_none());
    }
}
