//! Every driver of the client suite through a shared-transaction proxy,
//! two connections at once or more: commits and rollbacks seen by the
//! other connection, server-side prepared statements with the same names
//! on both, an error in one while the other works, COPY, pipelining,
//! cancel, a connection leaving mid-transaction, and `ROLLBACK TEST`
//! with everyone connected. The programs are in `drivers/`; each prints
//! `ok` or fails saying what it saw. Some connect over the socket, some
//! over TCP with SCRAM. (The `postgres` crate's run is `semantics`.)

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use super::Shared;
use crate::support::command::Output;
use crate::support::{PSQL, TestRoot};

const INSTALL: &str = "the clients are installed by `make deps` (.ci/install-deps)";

fn script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/integration/proxy/drivers")
        .join(name)
}

fn clients() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(".clients")
}

fn need(path: impl AsRef<Path>) -> PathBuf {
    let path = path.as_ref();
    let found = if path.is_absolute() {
        path.exists().then(|| path.to_path_buf())
    } else {
        which(path)
    };
    found.unwrap_or_else(|| panic!("{} is missing: {INSTALL}", path.display()))
}

fn which(name: &Path) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// The driver said `ok`, and nothing about a failure.
fn passed(p: &Shared, out: &Output) {
    assert_eq!(out.code(), Some(0), "{out}\nproxy log:\n{}", p.log());
    assert!(out.stdout.contains("ok"), "{out}");
    assert!(!out.stderr.contains("FAIL"), "{out}");
}

#[test]
fn psql() {
    let t = TestRoot::new();
    let p = Shared::start(&t, false);
    let out = t
        .cmd(
            "/bin/sh",
            [
                script("psql.sh").into_os_string(),
                p.url.clone().into(),
                PSQL.into(),
            ],
        )
        .run();
    passed(&p, &out);
}

#[test]
fn psycopg3_over_tcp() {
    let t = TestRoot::new();
    let p = Shared::start(&t, true);
    let python = need(clients().join("venv/bin/python"));
    let url = p.tcp_url.clone().expect("a TCP URL");
    let out = t
        .cmd(python, [script("psycopg3.py").into_os_string(), url.into()])
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .run();
    passed(&p, &out);
}

#[test]
fn node_postgres() {
    let t = TestRoot::new();
    let p = Shared::start(&t, false);
    let modules = need(clients().join("node_modules/pg")).join("..");
    // node-postgres takes the user name from USER, which the tests do not
    // set: give it the URL naming one, as `-F url-with-user` prints it.
    let url = p.url.replacen(
        "postgresql:///",
        &format!("postgresql://{}@/", crate::support::procs::my_name()),
        1,
    );
    let out = t
        .cmd(need("node"), [script("node_pg.js")])
        .env("NODE_PATH", modules)
        .env("DATABASE_URL", &url)
        .run();
    passed(&p, &out);
}

#[test]
fn jdbc_over_tcp() {
    let t = TestRoot::new();
    let p = Shared::start(&t, true);
    let jar = need("/usr/share/java/postgresql.jar");
    let classes = t.mkdir("classes");
    t.cmd(
        need("javac"),
        [
            OsString::from("-d"),
            classes.clone().into(),
            "-cp".into(),
            jar.clone().into(),
        ],
    )
    .args([script("SharedTx.java")])
    .run()
    .assert_success();
    let tcp = crate::support::url::tcp(p.tcp_url.as_deref().expect("a TCP URL"));
    let url = format!(
        "jdbc:postgresql://127.0.0.1:{}/test?user={}&password={}",
        tcp.port, tcp.user, tcp.password
    );
    let classpath = std::env::join_paths([classes, jar]).expect("a class path");
    let out = t
        .cmd(
            need("java"),
            [
                OsString::from("-XX:TieredStopAtLevel=1"),
                "-cp".into(),
                classpath,
            ],
        )
        .args(["SharedTx", &url])
        .run();
    passed(&p, &out);
}

#[test]
fn ruby_pg() {
    let t = TestRoot::new();
    let p = Shared::start(&t, false);
    let out = t
        .cmd(
            need("ruby"),
            [script("ruby_pg.rb").into_os_string(), p.url.clone().into()],
        )
        .run();
    passed(&p, &out);
}

#[test]
fn go_pgx_and_lib_pq_over_tcp() {
    let t = TestRoot::new();
    let p = Shared::start(&t, true);
    // Go in GOPATH mode on Debian's packaged sources: no module proxy.
    let dir = t.mkdir("go");
    std::fs::copy(script("go_drivers.go"), dir.join("main.go")).expect("copy the Go program");
    let bin = dir.join("drivers");
    t.cmd(
        need("go"),
        [
            OsString::from("build"),
            "-o".into(),
            bin.clone().into(),
            "main.go".into(),
        ],
    )
    .current_dir(&dir)
    .env("GO111MODULE", "off")
    .env("GOPATH", "/usr/share/gocode")
    .env("GOPROXY", "off")
    .env("GOCACHE", clients().join("go-build"))
    .timeout(std::time::Duration::from_secs(300))
    .run()
    .assert_success();
    let out = t.cmd(bin, [p.tcp_url.clone().expect("a TCP URL")]).run();
    passed(&p, &out);
}
