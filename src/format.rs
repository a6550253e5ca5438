//! `-F/--format`: the forms a hand-out can be printed in, and the variables
//! `exec` gives its command. Every form is derived from one instance's
//! metadata, through the URL the supervisor built once the server was ready,
//! so all of them name the same server, user and password.
//!
//! Which driver takes which form is what the client suite
//! (tests/integration/clients.rs) checks: JDBC takes only `jdbc` (it has no
//! Unix sockets without junixsocket, so `-F jdbc` hands out a TCP instance);
//! node-postgres and SQLAlchemy take no `dsn`; pgjdbc and the Rust crates
//! read no `PG*` variables; node-postgres, alone, finds no user name for the
//! plain socket URL when `USER` is unset, hence `url-with-user`.
//!
//! The one-line forms end without a newline when stdout is not a terminal,
//! as pg_tmp prints its URL: a raw capture (Ruby backticks, a Rust
//! `String::from_utf8(out.stdout)`) is then the URL itself. `env` and
//! `json` keep their line structure: each line ends in a newline.

use crate::error::{Error, Result};
use crate::instance::Meta;
use crate::json::Connection;
use crate::pg::Install;
use crate::postmaster;
use crate::url::{self, Target};

/// How the hand-out is printed (see [`Format::about`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Format {
    #[default]
    Url,
    UrlWithUser,
    Jdbc,
    Dsn,
    Env,
    Json,
}

impl Format {
    pub const ALL: [Format; 6] = [
        Format::Url,
        Format::UrlWithUser,
        Format::Jdbc,
        Format::Dsn,
        Format::Env,
        Format::Json,
    ];

    /// Its name on the command line (`-F NAME`).
    pub fn name(self) -> &'static str {
        match self {
            Format::Url => "url",
            Format::UrlWithUser => "url-with-user",
            Format::Jdbc => "jdbc",
            Format::Dsn => "dsn",
            Format::Env => "env",
            Format::Json => "json",
        }
    }

    /// What it prints, as `--help` says it.
    pub fn about(self) -> &'static str {
        match self {
            Format::Url => {
                "A postgresql:// URL in pg_tmp's shape (libpq, psycopg, node-postgres, Go, Rust, ...)"
            }
            Format::UrlWithUser => {
                "The URL with the user name in it, for drivers that find none (node-postgres without USER)"
            }
            Format::Jdbc => "A jdbc:postgresql:// URL with user and password; implies -t",
            Format::Dsn => "A libpq key=value connection string",
            Format::Env => "`export` lines for DATABASE_URL and PG*, for eval \"$(pgtmp -F env)\"",
            Format::Json => {
                "A JSON object: url, host, port, user, password, database, directories, pid, version"
            }
        }
    }

    /// JDBC cannot use a Unix socket without junixsocket, which no
    /// distribution ships with the driver: `-F jdbc` hands out over TCP.
    pub fn needs_tcp(self) -> bool {
        self == Format::Jdbc
    }

    /// Whether the form is a single value (a URL, a connection string)
    /// rather than lines.
    pub fn is_one_line(self) -> bool {
        !matches!(self, Format::Env | Format::Json)
    }
}

/// The text to print for the instance in `format`; `install` runs its
/// servers (`-F json` names its version). The forms of one connection
/// (`url`, `url-with-user`, `jdbc`, `dsn`) are one line per server of a
/// set, the primary's first, with a newline between lines but none after
/// the last (see `one_value`); `env` and `json` are newline-terminated.
pub fn render(format: Format, meta: &Meta, install: &Install) -> Result<String> {
    let t = target(meta)?;
    let lines = |form: &dyn Fn(&str, &Target) -> Result<String>| -> Result<String> {
        let mut lines = Vec::new();
        for url in meta.urls() {
            lines.push(form(&url, &target_of(meta, &url)?)?);
        }
        Ok(lines.join("\n"))
    };
    Ok(match format {
        Format::Url => meta.urls().join("\n"),
        Format::UrlWithUser => lines(&|u, t| Ok(with_user(u, t)))?,
        Format::Jdbc => lines(&|_, t| jdbc(t))?,
        Format::Dsn => lines(&|_, t| Ok(dsn(t)))?,
        Format::Env => env_lines(&meta.url, &t, &replica_urls(meta)),
        Format::Json => {
            let value = connection(meta, install)?;
            let text = serde_json::to_string_pretty(&value).expect("JSON values serialize");
            format!("{text}\n")
        }
    })
}

/// A single value as pg_tmp prints its URL: with a newline on a terminal,
/// without one otherwise, so that a raw capture is the value itself.
pub fn one_value(text: &str, terminal: bool) -> String {
    if terminal {
        format!("{text}\n")
    } else {
        text.to_string()
    }
}

/// Every field of `-F json`.
pub fn connection(meta: &Meta, install: &Install) -> Result<Connection> {
    let t = target(meta)?;
    let pid = postmaster::pid(&meta.primary.data_dir);
    Ok(details(meta, &t, pid, install.version.as_str()))
}

/// The URLs of a set's replicas, in order.
fn replica_urls(meta: &Meta) -> Vec<String> {
    meta.urls().into_iter().skip(1).collect()
}

/// The first replica's URL, and all of them separated by spaces (a URL
/// has none): what `-F env` and `exec` export beside DATABASE_URL.
pub const REPLICA_URL: &str = "DATABASE_REPLICA_URL";
pub const REPLICA_URLS: &str = "DATABASE_REPLICA_URLS";

/// The environment `exec` gives its command and `-F env` prints, in
/// libpq's terms; `None` means unset. The last three would otherwise steer
/// libpq (and drivers that follow it) away from this server: a service
/// file entry or a host address overrides `PGHOST`, and a `PGSSLMODE` of
/// `require` or stricter cannot be met by a server without TLS.
///
/// A set's replicas are in `DATABASE_REPLICA_URL` (the first) and
/// `DATABASE_REPLICA_URLS` (all, separated by spaces); both are unset for
/// a single server, so that a set's do not linger in a shell.
pub fn env_vars(url: &str, t: &Target, replicas: &[String]) -> Vec<(&'static str, Option<String>)> {
    let tcp = t.socket_dir().is_none();
    vec![
        ("DATABASE_URL", Some(url.to_string())),
        (REPLICA_URL, replicas.first().cloned()),
        (
            REPLICA_URLS,
            (!replicas.is_empty()).then(|| replicas.join(" ")),
        ),
        ("PGHOST", Some(t.host.clone())),
        ("PGPORT", Some(t.port.to_string())),
        ("PGUSER", Some(t.user.clone())),
        ("PGDATABASE", Some(t.dbname.clone())),
        ("PGPASSWORD", t.password.clone()),
        ("PGSSLMODE", tcp.then(|| "disable".to_string())),
        ("PGHOSTADDR", None),
        ("PGSERVICE", None),
    ]
}

/// What the URL says, with the role as the user where the socket URL
/// leaves it out; the supervisor wrote the URL, so it always parses.
pub fn target(meta: &Meta) -> Result<Target> {
    target_of(meta, &meta.url)
}

/// What the URL `u` of a server of `meta` says, with the role as its user.
fn target_of(meta: &Meta, u: &str) -> Result<Target> {
    let t = url::parse(u).ok_or_else(|| Error::NotAUrl(u.to_string()))?;
    Ok(t.or_user(|| meta.role.clone()))
}

/// The URL naming its user: the TCP URL already does.
fn with_user(u: &str, t: &Target) -> String {
    match t.socket_dir() {
        Some(dir) => url::socket_with_user(&dir, t.port, &t.user),
        None => u.to_string(),
    }
}

/// `jdbc:postgresql://127.0.0.1:PORT/test?user=..&password=..`: pgjdbc
/// takes no credentials before the host, only as parameters.
fn jdbc(t: &Target) -> Result<String> {
    let (None, Some(password)) = (t.socket_dir(), &t.password) else {
        return Err(Error::JdbcNeedsTcp);
    };
    Ok(format!(
        "jdbc:postgresql://{}:{}/{}?user={}&password={}&sslmode=disable",
        t.host,
        t.port,
        url::encode(&t.dbname),
        url::encode(&t.user),
        url::encode(password)
    ))
}

/// libpq's `key=value` form, values quoted where libpq needs it.
fn dsn(t: &Target) -> String {
    let tcp = t.socket_dir().is_none();
    let port = t.port.to_string();
    let pairs = [
        ("host", Some(t.host.as_str())),
        ("port", Some(port.as_str())),
        ("user", Some(t.user.as_str())),
        ("password", t.password.as_deref()),
        ("dbname", Some(t.dbname.as_str())),
        ("sslmode", tcp.then_some("disable")),
    ];
    let words: Vec<String> = pairs
        .iter()
        .filter_map(|(k, v)| Some(format!("{k}={}", url::quote_value(v.as_ref()?))))
        .collect();
    words.join(" ")
}

/// `export NAME=value` lines, shell-quoted, then one `unset` line.
fn env_lines(url: &str, t: &Target, replicas: &[String]) -> String {
    let vars = env_vars(url, t, replicas);
    let mut out = String::new();
    for (name, value) in &vars {
        if let Some(v) = value {
            out.push_str(&format!("export {name}={}\n", shell_words::quote(v)));
        }
    }
    let unset: Vec<&str> = vars
        .iter()
        .filter(|(_, v)| v.is_none())
        .map(|(n, _)| *n)
        .collect();
    out.push_str(&format!("unset {}\n", unset.join(" ")));
    out
}

fn details(meta: &Meta, t: &Target, pid: Option<u32>, version: &str) -> Connection {
    let at = meta.address();
    Connection {
        url: meta.url.clone(),
        jdbc: jdbc(t).ok(),
        dsn: dsn(t),
        tcp: at.tcp,
        host: t.host.clone(),
        port: t.port,
        user: t.user.clone(),
        password: t.password.clone(),
        database: t.dbname.clone(),
        socket_dir: at.socket_dir,
        data_dir: meta.primary.data_dir.clone(),
        id: meta.id.clone(),
        pid,
        supervisor_pid: meta.supervisor_pid,
        version: version.to_string(),
        keep: meta.keeps_data(),
        nodes: meta.nodes(),
        timeout_secs: meta.timeout_ms / 1000,
    }
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use super::*;

    fn meta(url: String, tcp: bool, socket_dir: &Path) -> Meta {
        Meta {
            id: "abc".into(),
            url,
            role: "o'neil".into(),
            password: None,
            primary: crate::instance::Server {
                tcp,
                port: 5432,
                socket_dir: socket_dir.into(),
                data_dir: PathBuf::from("/nonexistent/data"),
                bindir: PathBuf::from("/nonexistent/bin"),
                ..Default::default()
            },
            keep: false,
            timeout_ms: 60_000,
            started: 0,
            supervisor_pid: Some(7),
            ..Meta::default()
        }
    }

    fn render(format: Format, meta: &Meta) -> Result<String> {
        super::render(
            format,
            meta,
            &Install {
                bindir: PathBuf::from("/nonexistent/bin"),
                version: crate::pg::Version::parse("15.18").expect("a version"),
            },
        )
    }

    fn socket_meta() -> Meta {
        let dir = Path::new("/tmp/a b");
        meta(url::socket(dir, 5432), false, dir)
    }

    fn tcp_meta() -> Meta {
        meta(url::tcp(41234, "o'neil", "pw"), true, Path::new("/s"))
    }

    #[test]
    fn dsn_quotes_as_libpq_wants() {
        assert_eq!(
            render(Format::Dsn, &socket_meta()).unwrap(),
            "host='/tmp/a b' port=5432 user='o\\'neil' dbname=test"
        );
        assert_eq!(
            render(Format::Dsn, &tcp_meta()).unwrap(),
            "host=127.0.0.1 port=41234 user='o\\'neil' password=pw dbname=test sslmode=disable"
        );
        assert_eq!(url::quote_value(""), "''");
        assert_eq!(url::quote_value(r"a\b"), r"'a\\b'");
    }

    #[test]
    fn jdbc_needs_tcp() {
        assert_eq!(
            render(Format::Jdbc, &tcp_meta()).unwrap(),
            "jdbc:postgresql://127.0.0.1:41234/test?user=o%27neil&password=pw&sslmode=disable"
        );
        let e = render(Format::Jdbc, &socket_meta()).unwrap_err();
        assert!(e.to_string().contains("Unix socket"), "{e}");
        assert!(Format::Jdbc.needs_tcp() && !Format::Url.needs_tcp());
    }

    #[test]
    fn the_user_comes_from_the_role_where_the_url_has_none() {
        let socket = socket_meta();
        assert_eq!(target(&socket).unwrap().user, "o'neil");
        assert_eq!(
            render(Format::UrlWithUser, &socket).unwrap(),
            "postgresql://o%27neil@/test?host=%2Ftmp%2Fa%20b"
        );
        let tcp = tcp_meta();
        assert_eq!(render(Format::UrlWithUser, &tcp).unwrap(), tcp.url);
    }

    #[test]
    fn a_set_is_one_line_per_server_with_no_newline_after_the_last() {
        let mut set = socket_meta();
        set.replicas.push(crate::instance::Server {
            name: "node1".into(),
            port: 5432,
            socket_dir: PathBuf::from("/tmp/r1"),
            ..Default::default()
        });
        assert_eq!(
            render(Format::Url, &set).unwrap(),
            format!("{}\npostgresql:///test?host=%2Ftmp%2Fr1", set.url)
        );
        assert_eq!(
            render(Format::UrlWithUser, &set).unwrap(),
            "postgresql://o%27neil@/test?host=%2Ftmp%2Fa%20b\n\
             postgresql://o%27neil@/test?host=%2Ftmp%2Fr1"
        );
        let dsn = render(Format::Dsn, &set).unwrap();
        assert_eq!(dsn.lines().count(), 2, "{dsn}");
        assert!(
            dsn.ends_with("host=/tmp/r1 port=5432 user='o\\'neil' dbname=test"),
            "{dsn}"
        );
        let env = render(Format::Env, &set).unwrap();
        assert!(env.ends_with('\n'), "{env}");
        assert!(
            env.contains("export DATABASE_REPLICA_URL='postgresql:///test?host=%2Ftmp%2Fr1'\n"),
            "{env}"
        );
    }

    #[test]
    fn one_line_forms_end_in_a_newline_on_a_terminal_only() {
        assert_eq!(
            one_value("postgresql:///test", true),
            "postgresql:///test\n"
        );
        assert_eq!(one_value("postgresql:///test", false), "postgresql:///test");
        for f in [Format::Url, Format::UrlWithUser, Format::Jdbc, Format::Dsn] {
            assert!(f.is_one_line(), "{f:?}");
        }
        assert!(!Format::Env.is_one_line() && !Format::Json.is_one_line());
    }

    #[test]
    fn env_lines_survive_the_shell() {
        let text = render(Format::Env, &socket_meta()).unwrap();
        let mut lines = text.lines();
        let first = shell_words::split(lines.next().unwrap()).unwrap();
        assert_eq!(
            first,
            ["export", &format!("DATABASE_URL={}", socket_meta().url)]
        );
        let host = shell_words::split(lines.next().unwrap()).unwrap();
        assert_eq!(host, ["export", "PGHOST=/tmp/a b"]);
        assert!(text.contains("export PGUSER='o'\\''neil'\n"), "{text}");
        assert!(
            text.ends_with(
                "unset DATABASE_REPLICA_URL DATABASE_REPLICA_URLS PGPASSWORD PGSSLMODE PGHOSTADDR PGSERVICE\n"
            ),
            "{text}"
        );
        let tcp = render(Format::Env, &tcp_meta()).unwrap();
        assert!(tcp.contains("export PGPASSWORD=pw\n"), "{tcp}");
        assert!(tcp.contains("export PGSSLMODE=disable\n"), "{tcp}");
        assert!(
            tcp.ends_with(
                "unset DATABASE_REPLICA_URL DATABASE_REPLICA_URLS PGHOSTADDR PGSERVICE\n"
            ),
            "{tcp}"
        );
    }

    #[test]
    fn json_has_every_field() {
        let m = tcp_meta();
        let v = serde_json::to_value(details(&m, &target(&m).unwrap(), Some(42), "15.18")).unwrap();
        for key in [
            "url",
            "jdbc",
            "dsn",
            "tcp",
            "host",
            "port",
            "user",
            "password",
            "database",
            "socket_dir",
            "data_dir",
            "id",
            "pid",
            "supervisor_pid",
            "version",
            "keep",
            "nodes",
            "timeout_secs",
        ] {
            assert!(v.get(key).is_some(), "no {key}: {v}");
        }
        assert_eq!(v["host"], "127.0.0.1");
        assert_eq!(v["port"], 41234);
        assert_eq!(v["password"], "pw");
        assert_eq!(v["pid"], 42);
        let s = socket_meta();
        let v = serde_json::to_value(details(&s, &target(&s).unwrap(), None, "15.18")).unwrap();
        assert_eq!(v["host"], "/tmp/a b");
        assert!(v["password"].is_null() && v["jdbc"].is_null() && v["pid"].is_null());
    }
}
