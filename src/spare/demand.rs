//! How many spares a class needs: as many as hand-outs came within one
//! second at the busiest moment of the last half minute, at least one and
//! at most the configured bound. A test suite asking once in a while keeps
//! one server warm; a burst of parallel workers gets several; a quiet
//! machine, after the spare timeout, none.

use std::path::Path;

use crate::instance::meta::{self, now_ms};
use crate::paths::{self, Layout};

/// How far back demand is remembered.
const WINDOW_MS: u64 = 30_000;
/// The span whose hand-outs a spare pool should absorb at once.
const BURST_MS: u64 = 1_000;
/// Enough to see any burst the bound allows.
const KEEP: usize = 256;

/// Notes a hand-out of `class` now. Concurrent callers may lose one
/// another's notes; demand is an estimate.
pub fn record(layout: &Layout, class: &str) {
    let path = layout.spare_demand(class);
    let now = now_ms();
    let mut times = read(&path, now);
    times.push(now);
    let skip = times.len().saturating_sub(KEEP);
    let text: String = times[skip..].iter().map(|t| format!("{t}\n")).collect();
    let _ = paths::mkdir_private(&layout.spare_root());
    let _ = meta::write_atomic(&path, text.as_bytes());
}

/// Milliseconds since the last recorded hand-out of `class`.
pub fn since_last(layout: &Layout, class: &str) -> Option<u64> {
    let now = now_ms();
    read(&layout.spare_demand(class), now)
        .last()
        .map(|&t| now.saturating_sub(t))
}

/// How many spares of `class` to keep ready, from 1 to `max`.
pub fn target(layout: &Layout, class: &str, max: usize) -> usize {
    peak(&read(&layout.spare_demand(class), now_ms())).clamp(1, max.max(1))
}

/// The most hand-outs within any [`BURST_MS`] span.
fn peak(times: &[u64]) -> usize {
    let mut best = 0;
    let mut first = 0;
    for (i, &t) in times.iter().enumerate() {
        while t.saturating_sub(times[first]) >= BURST_MS {
            first += 1;
        }
        best = best.max(i + 1 - first);
    }
    best
}

/// The recorded hand-outs of the last [`WINDOW_MS`], in order.
fn read(path: &Path, now: u64) -> Vec<u64> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let mut times: Vec<u64> = text
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .filter(|&t: &u64| now.saturating_sub(t) < WINDOW_MS)
        .collect();
    times.sort_unstable();
    times
}

#[cfg(test)]
mod tests {
    use super::peak;

    #[test]
    fn peaks() {
        assert_eq!(peak(&[]), 0);
        assert_eq!(peak(&[5]), 1);
        // One a second, as a sequential suite: one spare is enough.
        assert_eq!(peak(&[0, 1500, 3000, 4500]), 1);
        // A burst inside a quiet spell.
        assert_eq!(peak(&[0, 2000, 2100, 2200, 2900, 5000]), 4);
    }
}
