//! Run: cargo run --example rust_library   (the pgtmp crate itself, no subprocess to parse; PGTMP_FLAGS=-t for TCP)
//!
//! A Rust test suite can take its databases from the library instead of
//! running `pgtmp` and reading its stdout. The supervisors it starts are
//! still the `pgtmp` program: the one on PATH unless `Options::exe` names
//! another.
use postgres::{Client, NoTls};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let flags = std::env::var("PGTMP_FLAGS").unwrap_or_default();
    let config = pgtmp::Config::resolve(&pgtmp::Options::default())?;
    let request = pgtmp::Request {
        tcp: flags.split_whitespace().any(|f| f == "-t"),
        ..pgtmp::Request::default()
    };
    let handout = pgtmp::hand_out(&config, &request)?;
    let url = handout.url().to_string();
    let conn = handout.connection()?;
    // From here on the instance lives until it is idle or stopped.
    handout.acknowledge()?;

    let mut db = Client::connect(&url, NoTls)?;
    let row = db.query_one("select current_database()", &[])?;
    assert_eq!(row.get::<_, String>(0), conn.database);
    println!(
        "ok: {url} (postgres pid {:?}, version {})",
        conn.pid, conn.version
    );
    drop(db);
    pgtmp::stop(&config, &url)?;
    Ok(())
}
