//! The run as a whole, as TAP::Harness sums it up: every finished file's
//! tally in the order the files finished, the totals, the verdict
//! (`PASS`, `FAIL`, `NOTESTS`) and the exit status, and the text of the
//! `Test Summary Report` with its compressed ranges (`Failed tests:  2-3, 5`).

use std::fmt::Write;
use std::time::Duration;

use super::parser::FileTap;

/// How many parse errors a file shows in the summary without `--parse`.
const MAX_ERRORS: usize = 5;

/// The finished files, in the order they finished.
#[derive(Debug, Default)]
pub struct Aggregate {
    pub files: Vec<(String, FileTap)>,
}

/// CPU time of the run, as `times(2)` splits it.
#[derive(Debug, Clone, Copy, Default)]
pub struct CpuTimes {
    pub user: f64,
    pub system: f64,
    pub children_user: f64,
    pub children_system: f64,
}

impl CpuTimes {
    /// This process's and its waited-for children's CPU time so far.
    pub fn now() -> CpuTimes {
        let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
        let usage = |who| {
            // SAFETY: getrusage only writes into the struct we own.
            let mut u: libc::rusage = unsafe { std::mem::zeroed() };
            unsafe { libc::getrusage(who, &mut u) };
            u
        };
        let me = usage(libc::RUSAGE_SELF);
        let children = usage(libc::RUSAGE_CHILDREN);
        CpuTimes {
            user: secs(me.ru_utime),
            system: secs(me.ru_stime),
            children_user: secs(children.ru_utime),
            children_system: secs(children.ru_stime),
        }
    }

    pub fn since(self, start: CpuTimes) -> CpuTimes {
        CpuTimes {
            user: self.user - start.user,
            system: self.system - start.system,
            children_user: self.children_user - start.children_user,
            children_system: self.children_system - start.children_system,
        }
    }
}

/// The verdict line's word.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Pass,
    Fail,
    NoTests,
}

impl Status {
    pub fn word(self) -> &'static str {
        match self {
            Status::Pass => "PASS",
            Status::Fail => "FAIL",
            Status::NoTests => "NOTESTS",
        }
    }
}

/// What the summary prints besides the tallies.
#[derive(Debug, Clone, Copy, Default)]
pub struct Style {
    /// `--timer`: a time stamp before the summary.
    pub timer: bool,
    /// `--parse`: every parse error, not the first five.
    pub all_errors: bool,
    /// Ctrl-C stopped the run.
    pub interrupted: bool,
}

impl Aggregate {
    pub fn add(&mut self, name: String, tap: FileTap) {
        self.files.push((name, tap));
    }

    /// Tests run, over every file.
    pub fn total(&self) -> u64 {
        self.files.iter().map(|(_, t)| t.tests_run).sum()
    }

    pub fn passed(&self) -> u64 {
        self.files.iter().map(|(_, t)| t.passed.len() as u64).sum()
    }

    /// Failed tests, parse errors, a non-zero exit or a bail out anywhere.
    pub fn has_errors(&self) -> bool {
        self.files.iter().any(|(_, t)| {
            !t.failed.is_empty()
                || !t.parse_errors.is_empty()
                || t.bailout.is_some()
                || (!t.ignore_exit && (t.exit != 0 || t.wait != 0))
        })
    }

    fn has_problems(&self) -> bool {
        self.has_errors() || self.files.iter().any(|(_, t)| !t.todo_passed.is_empty())
    }

    fn all_passed(&self) -> bool {
        self.total() > 0 && self.total() == self.passed() && !self.has_errors()
    }

    pub fn status(&self) -> Status {
        if self.has_errors() || self.total() != self.passed() {
            Status::Fail
        } else if self.total() > 0 {
            Status::Pass
        } else {
            Status::NoTests
        }
    }

    /// pg_prove's exit status: 1 when anything failed, else 0 (also when
    /// no test ran).
    pub fn exit_code(&self) -> u8 {
        u8::from(self.has_errors())
    }

    /// The text after the files: the report of what went wrong, the totals
    /// and the verdict. `longest`: the longest file name of the run.
    pub fn report(&self, longest: usize, wall: Duration, cpu: CpuTimes, style: Style) -> String {
        let mut out = String::new();
        if style.timer {
            out.push_str(&super::console::clock_stamp());
            out.push('\n');
        }
        if style.interrupted {
            out.push_str("Test run interrupted!\n");
        }
        if self.all_passed() {
            out.push_str("All tests successful.\n");
        }
        if self.total() != self.passed() || self.has_problems() {
            out.push_str("\nTest Summary Report\n-------------------\n");
            for (name, tap) in &self.files {
                file_report(&mut out, name, tap, longest, style.all_errors);
            }
        }
        let _ = writeln!(
            out,
            "Files={}, Tests={}, {}",
            self.files.len(),
            self.total(),
            timestr(wall, cpu)
        );
        let _ = writeln!(out, "Result: {}", self.status().word());
        out
    }
}

/// One file's part of the report; nothing when it has nothing to say.
fn file_report(out: &mut String, name: &str, tap: &FileTap, longest: usize, all_errors: bool) {
    let mut header = Some(header(name, tap, longest));
    let mut head = |out: &mut String| {
        if let Some(h) = header.take() {
            out.push_str(&h);
        }
    };
    for (numbers, singular, plural) in [
        (&tap.failed, "  Failed test:  ", "  Failed tests:  "),
        (&tap.todo_passed, "  TODO passed:   ", "  TODO passed:   "),
    ] {
        if numbers.is_empty() {
            continue;
        }
        head(out);
        out.push_str(if numbers.len() == 1 { singular } else { plural });
        for (i, line) in balanced_ranges(40, numbers).iter().enumerate() {
            if i > 0 {
                out.push_str(&" ".repeat(16));
            }
            out.push_str(line);
            out.push('\n');
        }
    }
    if tap.exit != 0 {
        head(out);
        let _ = writeln!(out, "  Non-zero exit status: {}", tap.exit);
    } else if tap.wait != 0 {
        head(out);
        let _ = writeln!(out, "  Non-zero wait status: {}", tap.wait);
    }
    if let Some((first, rest)) = tap.parse_errors.split_first() {
        head(out);
        let _ = writeln!(out, "  Parse errors: {first}");
        let shown = if all_errors {
            rest.len()
        } else {
            rest.len().min(MAX_ERRORS - 1)
        };
        for error in &rest[..shown] {
            let _ = writeln!(out, "{}{error}", " ".repeat(16));
        }
        if shown < rest.len() {
            let _ = writeln!(
                out,
                "Displayed the first {MAX_ERRORS} of {} TAP syntax errors.\n\
                 Re-run with `--parse` to see them all.",
                tap.parse_errors.len()
            );
        }
    }
}

/// `name   (Wstat: 768 (exited 3) Tests: 1 Failed: 0)`
fn header(name: &str, tap: &FileTap, longest: usize) -> String {
    let pad = longest.saturating_sub(name.chars().count()).max(1);
    let wait = match tap.wait {
        0 => "0".to_string(),
        w if w & 0x7f != 0 => {
            let signal = nix::sys::signal::Signal::try_from(w & 0x7f)
                .map(|s| s.as_str().trim_start_matches("SIG").to_string())
                .unwrap_or_else(|_| (w & 0x7f).to_string());
            let core = if w & 0x80 != 0 { ", dumped core" } else { "" };
            format!("{w} (Signal: {signal}{core})")
        }
        w => format!("{w} (exited {})", w >> 8),
    };
    format!(
        "{name}{}(Wstat: {wait} Tests: {} Failed: {})\n",
        " ".repeat(pad),
        tap.tests_run,
        tap.failed.len()
    )
}

/// Sorted numbers as ranges: `1, 3-5, 9`.
pub fn ranges(numbers: &[u64]) -> Vec<String> {
    let mut sorted = numbers.to_vec();
    sorted.sort_unstable();
    let mut out = Vec::new();
    let mut start: Option<u64> = None;
    for (i, &n) in sorted.iter().enumerate() {
        let next = sorted.get(i + 1);
        if next == Some(&(n + 1)) {
            start.get_or_insert(n);
        } else if let Some(s) = start.take() {
            out.push(format!("{s}-{n}"));
        } else {
            out.push(n.to_string());
        }
    }
    out
}

/// The ranges in lines of about `limit` characters, as TAP::Harness
/// wraps a long `Failed tests:` list.
pub fn balanced_ranges(limit: usize, numbers: &[u64]) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for range in ranges(numbers) {
        if line.len() >= limit {
            lines.push(line.trim_end_matches(", ").to_string());
            line.clear();
        }
        line.push_str(&range);
        line.push_str(", ");
    }
    if !line.is_empty() {
        lines.push(line.trim_end_matches(", ").to_string());
    }
    lines
}

/// Benchmark's `timestr`, with the wall clock to the hundredth (pg_prove
/// rounds it down to whole seconds).
fn timestr(wall: Duration, cpu: CpuTimes) -> String {
    let total = cpu.user + cpu.system + cpu.children_user + cpu.children_system;
    format!(
        "{:5.2} wallclock secs ({:5.2} usr {:5.2} sys + {:5.2} cusr {:5.2} csys = {:5.2} CPU)",
        wall.as_secs_f64(),
        cpu.user,
        cpu.system,
        cpu.children_user,
        cpu.children_system,
        total
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prove::parser::tally;

    fn tap(text: &str, exit: i32) -> FileTap {
        tally(text, exit)
    }

    #[test]
    fn ranges_compress() {
        assert_eq!(ranges(&[2, 3, 5]), vec!["2-3", "5"]);
        assert_eq!(ranges(&[1]), vec!["1"]);
        assert_eq!(ranges(&[9, 1, 2, 3, 7]), vec!["1-3", "7", "9"]);
        let many: Vec<u64> = (1..=60).filter(|n| n % 2 == 0).collect();
        let lines = balanced_ranges(40, &many);
        assert!(lines.len() > 1);
        assert!(lines[0].starts_with("2, 4, 6"));
        assert!(!lines[0].ends_with(','));
    }

    #[test]
    fn the_report_of_a_mixed_run() {
        let mut agg = Aggregate::default();
        agg.add("01_pass.sql".into(), tap("1..1\nok 1\n", 0));
        agg.add(
            "02_fail.sql".into(),
            tap("1..5\nok 1\nnot ok 2\nnot ok 3\nok 4\nnot ok 5\n", 0),
        );
        agg.add("03_error.sql".into(), tap("1..3\nok 1 - before\n", 3));
        agg.add(
            "05_todo_skip.sql".into(),
            tap("1..2\nok 1 # TODO x\nok 2 # SKIP y\n", 0),
        );
        agg.add("07_nothing.sql".into(), tap("", 0));
        let text = agg.report(
            16,
            Duration::from_millis(430),
            CpuTimes::default(),
            Style::default(),
        );
        let expected = "
Test Summary Report
-------------------
02_fail.sql     (Wstat: 0 Tests: 5 Failed: 3)
  Failed tests:  2-3, 5
03_error.sql    (Wstat: 768 (exited 3) Tests: 1 Failed: 0)
  Non-zero exit status: 3
  Parse errors: Bad plan.  You planned 3 tests but ran 1.
05_todo_skip.sql (Wstat: 0 Tests: 2 Failed: 0)
  TODO passed:   1
07_nothing.sql  (Wstat: 0 Tests: 0 Failed: 0)
  Parse errors: No plan found in TAP output
Files=5, Tests=9,  0.43 wallclock secs ( 0.00 usr  0.00 sys +  0.00 cusr  0.00 csys =  0.00 CPU)
Result: FAIL
";
        assert_eq!(text, expected);
        assert_eq!(agg.exit_code(), 1);
    }

    #[test]
    fn verdicts() {
        let mut pass = Aggregate::default();
        pass.add("a".into(), tap("1..1\nok 1\n", 0));
        assert_eq!(pass.status(), Status::Pass);
        assert_eq!(pass.exit_code(), 0);
        assert!(
            pass.report(1, Duration::ZERO, CpuTimes::default(), Style::default())
                .starts_with("All tests successful.\nFiles=1, Tests=1, ")
        );
        let mut none = Aggregate::default();
        none.add("a".into(), tap("1..0 # SKIP nothing\n", 0));
        assert_eq!(none.status(), Status::NoTests);
        assert_eq!(none.exit_code(), 0);
    }
}
