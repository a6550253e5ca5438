//! The progress line on a terminal while files run: how many files are
//! done of how many, the tests so far, and the files running. It lives on
//! stderr, is cleared before anything else is printed, and is redrawn at
//! most every 50 ms.

use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

const REDRAW: Duration = Duration::from_millis(50);

#[derive(Debug)]
pub struct Progress {
    enabled: bool,
    total: usize,
    done: usize,
    failed: usize,
    tests: u64,
    /// Running files and their tests so far.
    running: BTreeMap<usize, (String, u64)>,
    shown: bool,
    last: Option<Instant>,
}

impl Progress {
    /// A progress line for `total` files when stderr is a terminal.
    pub fn new(total: usize, wanted: bool) -> Progress {
        Progress {
            enabled: wanted && std::io::stderr().is_terminal(),
            total,
            done: 0,
            failed: 0,
            tests: 0,
            running: BTreeMap::new(),
            shown: false,
            last: None,
        }
    }

    pub fn started(&mut self, index: usize, name: &str) {
        self.running.insert(index, (name.to_string(), 0));
        self.draw(false);
    }

    pub fn tests(&mut self, index: usize, tests: u64) {
        if let Some(entry) = self.running.get_mut(&index) {
            entry.1 = tests;
        }
        self.draw(false);
    }

    pub fn finished(&mut self, index: usize, tests: u64, failed: bool) {
        self.running.remove(&index);
        self.done += 1;
        self.tests += tests;
        self.failed += usize::from(failed);
    }

    pub fn tick(&mut self) {
        self.draw(false);
    }

    /// Clears the line so that something else can be printed.
    pub fn clear(&mut self) {
        if self.enabled && self.shown {
            let _ = std::io::stderr().write_all(b"\r\x1b[K");
            self.shown = false;
        }
    }

    fn draw(&mut self, force: bool) {
        if !self.enabled || self.running.is_empty() {
            return;
        }
        if !force && self.last.is_some_and(|t| t.elapsed() < REDRAW) {
            return;
        }
        self.last = Some(Instant::now());
        let running_tests: u64 = self.running.values().map(|(_, t)| t).sum();
        let names: Vec<&str> = self.running.values().map(|(n, _)| n.as_str()).collect();
        let failed = if self.failed > 0 {
            format!(", {} failed", self.failed)
        } else {
            String::new()
        };
        let mut line = format!(
            "[{}/{} files, {} tests{failed}] {}",
            self.done,
            self.total,
            self.tests + running_tests,
            names.join(" ")
        );
        let width = terminal_width().saturating_sub(1).max(20);
        if line.chars().count() > width {
            line = line.chars().take(width - 1).collect::<String>() + "…";
        }
        let _ = write!(std::io::stderr(), "\r\x1b[K{line}");
        self.shown = true;
    }
}

/// The width of the terminal on stderr (80 when unknown).
fn terminal_width() -> usize {
    // SAFETY: TIOCGWINSZ only writes into the struct we own.
    let mut size: libc::winsize = unsafe { std::mem::zeroed() };
    let ok = unsafe { libc::ioctl(libc::STDERR_FILENO, libc::TIOCGWINSZ, &mut size) } == 0;
    if ok && size.ws_col > 0 {
        size.ws_col as usize
    } else {
        80
    }
}
