//! What a run collected: latency series, footprints, and facts about the run.
//!
//! A failed sample is kept as an error string next to the good ones, so the
//! report can say "3 of 12 failed: ..." instead of the harness giving up.

use std::time::Duration;

use crate::stats::{self, Summary};

/// Which side of the comparison a series is on (colours the plot).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Pgtmp,
    Baseline,
}

#[derive(Debug)]
pub struct Series {
    /// Stable identifier, used in the JSON and to find the series again.
    pub key: &'static str,
    pub label: &'static str,
    pub side: Side,
    /// Taken in the interleaved rounds, so per-pair ratios against the
    /// baselines mean something.
    pub paired: bool,
    /// `(round, milliseconds)`.
    pub samples: Vec<(usize, f64)>,
    pub errors: Vec<String>,
    pub notes: Vec<String>,
}

/// After this many failures without one success a series is skipped for the
/// rest of the run: the binary under test may simply not work yet.
const GIVE_UP_AFTER: usize = 2;

impl Series {
    pub fn new(key: &'static str, label: &'static str, side: Side, paired: bool) -> Series {
        Series {
            key,
            label,
            side,
            paired,
            samples: Vec::new(),
            errors: Vec::new(),
            notes: Vec::new(),
        }
    }

    pub fn record(&mut self, round: usize, outcome: Result<Duration, String>) {
        match outcome {
            Ok(took) => self.samples.push((round, took.as_secs_f64() * 1e3)),
            Err(e) => {
                eprintln!("bench: {}: round {round}: {e}", self.key);
                self.errors.push(e);
            }
        }
    }

    pub fn note(&mut self, note: String) {
        if !self.notes.contains(&note) {
            self.notes.push(note);
        }
    }

    pub fn given_up(&self) -> bool {
        self.samples.is_empty() && self.errors.len() >= GIVE_UP_AFTER
    }

    pub fn values(&self) -> Vec<f64> {
        self.samples.iter().map(|(_, ms)| *ms).collect()
    }

    pub fn summary(&self) -> Option<Summary> {
        Summary::of(&self.values())
    }

    pub fn median(&self) -> Option<f64> {
        stats::median(&self.values())
    }
}

/// Memory and disk of one idle server and everything that belongs to it.
#[derive(Debug, Clone)]
pub struct Footprint {
    pub label: &'static str,
    pub processes: usize,
    pub rss_kib: u64,
    /// `None` when `smaps_rollup` was unreadable for some process.
    pub pss_kib: Option<u64>,
    pub disk_bytes: u64,
    pub dir: String,
}

#[derive(Debug, Default)]
pub struct Results {
    pub series: Vec<Series>,
    pub footprints: Vec<Result<Footprint, String>>,
    /// `(name, value)` facts about the run: versions, machine, settings.
    pub meta: Vec<(&'static str, String)>,
    /// Set when Ctrl-C cut the run short.
    pub interrupted: bool,
}

impl Results {
    pub fn get(&self, key: &str) -> Option<&Series> {
        self.series.iter().find(|s| s.key == key)
    }
}
