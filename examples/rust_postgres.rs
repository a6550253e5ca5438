//! Run: cargo run --example rust_postgres   (`postgres`, the blocking tokio-postgres; PGTMP_FLAGS=-t for TCP)
use postgres::{Client, NoTls};
use std::process::{Command, Stdio};

/// Test-setup hook: a fresh throwaway database from `pgtmp`, connected, plus its URL.
fn pgtmp_db() -> (Client, String) {
    let flags = std::env::var("PGTMP_FLAGS").unwrap_or_default();
    let out = Command::new("pgtmp")
        .args(flags.split_whitespace())
        .stderr(Stdio::inherit())
        .output()
        .expect("run pgtmp");
    assert!(out.status.success(), "pgtmp failed");
    let url = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    (Client::connect(&url, NoTls).expect("connect"), url)
}

fn main() {
    let (mut db, url) = pgtmp_db();
    let row = db
        .query_one("select current_database()", &[])
        .expect("query");
    assert_eq!(row.get::<_, String>(0), "test");
    println!("ok: {url}");
    drop(db);
    let stop = Command::new("pgtmp").args(["stop", &url]).status();
    assert!(stop.expect("pgtmp stop").success());
}
