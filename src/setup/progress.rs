//! What a user sees while a setup command runs: its output on standard
//! error as it comes and, on a terminal, a status line below it saying
//! which command runs and for how long (cleared when it ends). Where
//! standard error is no terminal (a CI log), one line names the command
//! before its output instead.

use std::io::{IsTerminal, Write};
use std::time::Instant;

/// The longest command text shown.
const SHOWN: usize = 60;

#[derive(Debug)]
pub struct Progress {
    terminal: bool,
    label: String,
    started: Instant,
    /// The status line is on the screen.
    drawn: bool,
    /// The output so far ended with a newline.
    line_start: bool,
}

impl Progress {
    /// Announces command `index` of `total`.
    pub fn new(command: &str, index: usize, total: usize) -> Progress {
        let mut shown: String = command.lines().next().unwrap_or_default().to_string();
        if shown.chars().count() > SHOWN || command.lines().nth(1).is_some() {
            shown = shown.chars().take(SHOWN).collect::<String>() + "…";
        }
        let label = match total {
            1 => format!("setup: {shown}"),
            _ => format!("setup {index}/{total}: {shown}"),
        };
        let mut progress = Progress {
            terminal: std::io::stderr().is_terminal(),
            label,
            started: Instant::now(),
            drawn: false,
            line_start: true,
        };
        if progress.terminal {
            progress.draw();
        } else {
            crate::say!("pgtmp: {}", progress.label);
        }
        progress
    }

    /// Passes output on, below which the status line is drawn again.
    pub fn output(&mut self, bytes: &[u8]) {
        let mut err = std::io::stderr().lock();
        if self.drawn {
            let _ = err.write_all(b"\r\x1b[2K");
            self.drawn = false;
        }
        let _ = err.write_all(bytes);
        let _ = err.flush();
        drop(err);
        self.line_start = bytes.ends_with(b"\n");
        self.draw();
    }

    /// Redraws the status line with the time so far.
    pub fn tick(&mut self) {
        self.draw();
    }

    /// Clears the status line.
    pub fn finish(&mut self) {
        if self.drawn {
            let mut err = std::io::stderr().lock();
            let _ = err.write_all(b"\r\x1b[2K");
            let _ = err.flush();
            self.drawn = false;
        }
    }

    fn draw(&mut self) {
        // Not in the middle of a line the command is still writing.
        if !self.terminal || !self.line_start {
            return;
        }
        let secs = self.started.elapsed().as_secs();
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "\r\x1b[2Kpgtmp: {} ({secs}s)", self.label);
        let _ = err.flush();
        self.drawn = true;
    }
}
