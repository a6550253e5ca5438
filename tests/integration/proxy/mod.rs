//! The shared-transaction proxy: its semantics with the `postgres` crate
//! (tokio-postgres underneath), its protocol handling with raw sockets,
//! and every driver of the client suite with two connections or more.
//!
//! `Shared` starts a `pgtmp --shared-tx` instance; the proxy's socket URL
//! and (with `-t`) its password URL are what a test suite would be given.

mod drivers;
mod handout;
mod protocol;
mod raw;
mod semantics;
mod skip;

use std::path::PathBuf;

use postgres::{Client, NoTls};

use crate::support::{TestRoot, procs};

/// A `pgtmp --shared-tx` instance.
#[derive(Debug)]
pub struct Shared {
    /// The proxy's socket URL.
    pub url: String,
    /// The proxy's TCP URL (with its password), with `-t`.
    pub tcp_url: Option<String>,
    pub socket_dir: PathBuf,
    port: u16,
    /// The instance directory.
    pub dir: PathBuf,
}

impl Shared {
    pub fn start(t: &TestRoot, tcp: bool) -> Shared {
        Shared::start_with(t, tcp, 10_000)
    }

    /// With a lock-wait timeout of `lock_wait_ms` (PGTMP_SHARED_TX_WAIT).
    pub fn start_with(t: &TestRoot, tcp: bool, lock_wait_ms: u64) -> Shared {
        let mut args = vec!["--shared-tx", "-w", "0"];
        if tcp {
            args.push("-t");
        }
        let mut run = t
            .pgtmp(&args)
            .env("PGTMP_SHARED_TX_WAIT", format!("{lock_wait_ms}ms"));
        if let Some(trace) = std::env::var_os("PGTMP_PROXY_TRACE") {
            run = run.env("PGTMP_PROXY_TRACE", trace);
        }
        let out = run.run();
        out.assert_success();
        let printed = out.one_line().to_string();
        let dir = t.instance(&printed).dir;
        let meta: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(dir.join("meta.json")).expect("meta.json"),
        )
        .expect("meta.json is JSON");
        let listener = &meta["endpoint"]["listener"];
        let socket_dir = PathBuf::from(
            listener["socket_dir"]
                .as_str()
                .expect("the proxy's socket directory"),
        );
        let port = listener["port"].as_u64().expect("the proxy's port") as u16;
        let user = meta["role"].as_str().expect("the role").to_string();
        let mut url = format!(
            "postgresql:///test?host={}&user={user}",
            socket_dir.display()
        );
        if port != 5432 {
            url.push_str(&format!("&port={port}"));
        }
        let (url, tcp_url) = if tcp {
            (url, Some(printed))
        } else {
            (printed, None)
        };
        Shared {
            url,
            tcp_url,
            socket_dir,
            port,
            dir,
        }
    }

    pub fn connect(&self) -> Client {
        Client::connect(&self.url, NoTls)
            .unwrap_or_else(|e| panic!("connect to {}: {e:?}\n{}", self.url, self.log()))
    }

    /// The proxy's socket, for raw protocol tests.
    pub fn socket(&self) -> PathBuf {
        self.socket_dir.join(format!(".s.PGSQL.{}", self.port))
    }

    /// What the supervisor and the proxy logged so far.
    pub fn log(&self) -> String {
        let read = |name: &str| std::fs::read_to_string(self.dir.join(name)).unwrap_or_default();
        format!("{}{}", read("supervise.log"), read("proxy.log"))
    }

    /// The proxy's clients and sessions, as `pgtmp list --json` shows them.
    pub fn status(&self) -> serde_json::Value {
        std::fs::read_to_string(self.dir.join("proxy-status.json"))
            .ok()
            .and_then(|s| serde_json::from_str(&s).ok())
            .unwrap_or(serde_json::Value::Null)
    }

    pub fn alive(&self) -> bool {
        self.status()["pid"]
            .as_u64()
            .is_some_and(|pid| procs::alive(pid as u32))
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
