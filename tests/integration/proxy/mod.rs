//! The shared-transaction proxy: its semantics with the `postgres` crate
//! (tokio-postgres underneath), its protocol handling with raw sockets,
//! and every driver of the client suite with two connections or more.
//!
//! `Shared` starts an instance and a proxy in front of it; the proxy's
//! socket URL and (with TCP) its password URL are what a test suite would
//! be given.

mod drivers;
mod protocol;
mod semantics;

use std::net::TcpListener;
use std::path::PathBuf;

use postgres::{Client, NoTls};

use crate::support::command::Running;
use crate::support::{TestRoot, poll, procs, url};

/// The password of the proxy's TCP listener in these tests.
pub const PASSWORD: &str = "pr0xy-Secret";

/// An instance with a proxy in front of it.
#[derive(Debug)]
pub struct Shared {
    /// The proxy's socket URL.
    pub url: String,
    /// The proxy's TCP URL (with its password), if asked for.
    pub tcp_url: Option<String>,
    pub socket_dir: PathBuf,
    /// What `pgtmp list` will read: the proxy's clients.
    pub status: PathBuf,
    proxy: Running,
}

impl Shared {
    pub fn start(t: &TestRoot, tcp: bool) -> Shared {
        Shared::start_with(t, tcp, 10_000)
    }

    /// With a lock-wait timeout of `lock_wait_ms`.
    pub fn start_with(t: &TestRoot, tcp: bool, lock_wait_ms: u64) -> Shared {
        let direct = t.start(&["-w", "0"]).url;
        let server = url::socket(&direct);
        let n = t.path().read_dir().map(|d| d.count()).unwrap_or(0);
        let dir = t.mkdir(format!("proxy{n}"));
        let port = if tcp {
            TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .map(|a| a.port())
                .expect("a free port")
        } else {
            5432
        };
        let status = dir.join("status.json");
        let config = serde_json::json!({
            "socket_dir": dir,
            "port": port,
            "tcp": tcp,
            "password": tcp.then_some(PASSWORD),
            "server_socket_dir": server.host,
            "server_port": 5432,
            "role": server.user,
            "lock_wait_ms": lock_wait_ms,
            "status_file": status,
            "database": "test",
        });
        let file = dir.join("proxy.json");
        std::fs::write(&file, config.to_string()).expect("write the proxy's config");
        let mut run = t.pgtmp([std::ffi::OsStr::new("__proxy"), file.as_os_str()]);
        if let Some(trace) = std::env::var_os("PGTMP_PROXY_TRACE") {
            run = run.env("PGTMP_PROXY_TRACE", trace);
        }
        let proxy = run.spawn(|_| ());
        let socket = dir.join(format!(".s.PGSQL.{port}"));
        assert!(
            poll::eventually(|| socket.exists()),
            "the proxy did not listen on {}\n{}",
            socket.display(),
            proxy.stderr()
        );
        let mut url = format!(
            "postgresql:///test?host={}&user={}",
            dir.display(),
            server.user
        );
        if port != 5432 {
            url.push_str(&format!("&port={port}"));
        }
        let tcp_url = tcp.then(|| {
            format!(
                "postgresql://{}:{PASSWORD}@127.0.0.1:{port}/test?sslmode=disable",
                server.user
            )
        });
        Shared {
            url,
            tcp_url,
            socket_dir: dir,
            status,
            proxy,
        }
    }

    pub fn connect(&self) -> Client {
        Client::connect(&self.url, NoTls)
            .unwrap_or_else(|e| panic!("connect to {}: {e:?}\n{}", self.url, self.log()))
    }

    /// The proxy's socket, for raw protocol tests.
    pub fn socket(&self) -> PathBuf {
        std::fs::read_dir(&self.socket_dir)
            .expect("the proxy's directory")
            .flatten()
            .map(|e| e.path())
            .find(|p| {
                p.file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with(".s.PGSQL."))
            })
            .expect("the proxy's socket")
    }

    /// What the proxy logged so far.
    pub fn log(&self) -> String {
        self.proxy.stderr()
    }

    /// The proxy's status: clients and sessions, as `pgtmp list` shows them.
    pub fn status(&self) -> serde_json::Value {
        std::fs::read_to_string(&self.status)
            .ok()
            .and_then(|s| serde_json::from_str(&s).ok())
            .unwrap_or(serde_json::Value::Null)
    }

    pub fn alive(&self) -> bool {
        procs::alive(self.proxy.pid())
    }
}

impl Drop for Shared {
    fn drop(&mut self) {
        procs::signal(self.proxy.pid(), "TERM");
    }
}

/// The SQLSTATE of a failed statement.
pub fn code(e: &postgres::Error) -> String {
    e.code()
        .map(|c| c.code().to_string())
        .unwrap_or_else(|| format!("{e:?}"))
}

/// A single integer result.
pub fn int(c: &mut Client, sql: &str) -> i64 {
    c.query_one(&format!("select ({sql})::int8"), &[])
        .unwrap_or_else(|e| panic!("{sql}: {e:?}"))
        .get(0)
}
