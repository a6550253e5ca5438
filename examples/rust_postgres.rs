//! Run: cargo run --example rust_postgres   (`postgres` crate; PGTMP_FLAGS=-t for a TCP URL)
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
    let sql = "select current_database(), current_user";
    let row = db.query_one(sql, &[]).expect("query");
    let (name, user): (String, String) = (row.get(0), row.get(1));
    assert_eq!((name.as_str(), user.as_str()), ("test", "root"));
    println!("ok: {url}");
    drop(db);
    let stop = Command::new("pgtmp").args(["stop", &url]).status();
    assert!(stop.expect("pgtmp stop").success());
}
