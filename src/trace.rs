//! `PGTMP_TRACE=1`: where the time of a call goes, on stderr. Each mark
//! prints the milliseconds since the `pgtmp` call started and a phase name.
//! The background processes it starts inherit the same origin (through
//! `PGTMP_TRACE_T0`, monotonic nanoseconds), so their marks line up.

use std::sync::OnceLock;

const ORIGIN_VAR: &str = "PGTMP_TRACE_T0";

static ORIGIN: OnceLock<Option<u128>> = OnceLock::new();

fn monotonic_ns() -> u128 {
    let ts = nix::time::clock_gettime(nix::time::ClockId::CLOCK_MONOTONIC)
        .expect("CLOCK_MONOTONIC exists");
    ts.tv_sec() as u128 * 1_000_000_000 + ts.tv_nsec() as u128
}

/// Starts the clock; call first thing, while single-threaded.
pub fn init() {
    let enabled = std::env::var_os("PGTMP_TRACE").is_some_and(|v| !v.is_empty() && v != "0");
    let origin = enabled.then(|| {
        std::env::var(ORIGIN_VAR)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| {
                let now = monotonic_ns();
                // SAFETY: called at the start of main, before any thread exists.
                unsafe { std::env::set_var(ORIGIN_VAR, now.to_string()) };
                now
            })
    });
    let _ = ORIGIN.set(origin);
}

/// Prints `pgtmp: trace: <ms> [pid] <what>` when tracing is on.
pub fn mark(what: &str) {
    if let Some(Some(origin)) = ORIGIN.get() {
        let ms = monotonic_ns().saturating_sub(*origin) as f64 / 1e6;
        crate::say!("pgtmp: trace: {ms:7.2} ms [{}] {what}", std::process::id());
    }
}
