//! What pg_prove prints for each file, as its `TAP::Formatter::File`
//! prints it when a file finishes: `name .. ok`, or the name, the lines
//! asked for (`-v` all, `--failures` the failed tests, comments by
//! default, `--directives` TODO and SKIP), and why the file failed
//! (`Dubious, test returned 3 (wstat 768, 0x300)`, `Failed 2/3 subtests`).
//! Files run in parallel, so each block is printed whole once its file is
//! done, never interleaved with another's.

use std::fmt::Write;
use std::time::{Duration, SystemTime};

use super::parser::{FileTap, LineKind};

/// The output options of pg_prove.
#[derive(Debug, Clone, Copy)]
pub struct Console {
    /// 1 `-v`, 0 default, -1 `-q`, -2 `-Q`.
    pub verbosity: i8,
    pub failures: bool,
    pub comments: bool,
    pub directives: bool,
    pub timer: bool,
    /// The longest file name of the run, for the dots.
    pub longest: usize,
}

impl Console {
    fn quiet(&self) -> bool {
        self.verbosity <= -1
    }

    fn really_quiet(&self) -> bool {
        self.verbosity <= -2
    }

    /// `name ..... ` padded to the longest name, with `--timer` the time the
    /// file started before it.
    pub fn pretty_name(&self, name: &str, started: SystemTime) -> String {
        let dots = ".".repeat((self.longest + 2).saturating_sub(name.chars().count()));
        if self.timer {
            format!("{} {name} {dots} ", stamp(started))
        } else {
            format!("{name} {dots} ")
        }
    }

    /// The block printed when a file finishes (empty with `-Q`).
    pub fn file_block(
        &self,
        name: &str,
        tap: &FileTap,
        started: SystemTime,
        elapsed: Duration,
    ) -> String {
        let mut out = String::new();
        if self.really_quiet() {
            return out;
        }
        out.push_str(&self.pretty_name(name, started));
        if let Some(skip) = &tap.skip_all {
            let _ = writeln!(out, "skipped: {skip}");
            return out;
        }
        let shown = self.shown_lines(tap);
        if let Some(why) = &tap.bailout {
            let _ = writeln!(out, "Bailout called.  Further testing stopped:  {why}");
        }
        if tap.has_problems() {
            out.push('\n');
            out.push_str(&shown);
            out.push_str(&failure(tap));
        } else {
            if !shown.is_empty() {
                out.push('\n');
                out.push_str(&shown);
            }
            out.push_str("ok");
            if self.timer {
                let _ = write!(out, " {:8} ms", elapsed.as_millis());
            }
            out.push('\n');
        }
        out
    }

    fn shown_lines(&self, tap: &FileTap) -> String {
        let mut out = String::new();
        if self.quiet() {
            return out;
        }
        for line in &tap.lines {
            let show = self.verbosity >= 1
                || match line.kind {
                    LineKind::Test { ok, directive } => {
                        (self.failures && !ok) || (self.directives && directive)
                    }
                    LineKind::Comment => self.comments,
                    LineKind::Other => false,
                };
            if show {
                out.push_str(&line.text);
                out.push('\n');
            }
        }
        out
    }
}

/// Why a file failed, as TAP::Formatter::Session says it.
fn failure(tap: &FileTap) -> String {
    let mut out = String::new();
    let run = tap.tests_run as i64;
    let total = tap.tests_planned.map_or(run, |p| p as i64);
    let failed = tap.failed.len() as i64 + total - run;
    if tap.exit != 0 {
        let _ = writeln!(
            out,
            "Dubious, test returned {} (wstat {}, 0x{:x})",
            tap.exit, tap.wait, tap.wait
        );
    }
    if failed == 0 {
        if total > 0 {
            let _ = write!(out, "All {total} subtests passed ");
        } else {
            out.push_str("No subtests run ");
        }
    } else {
        let _ = write!(out, "Failed {failed}/{total} subtests ");
        if total == 0 {
            out.push_str("\nNo tests run!");
        }
    }
    let skipped = tap.skipped.len();
    if skipped > 0 {
        let okay = tap.passed.len() - skipped.min(tap.passed.len());
        let s = if skipped == 1 { "" } else { "s" };
        let _ = write!(out, "\n\t(less {skipped} skipped subtest{s}: {okay} okay)");
    }
    let todo = tap.todo_passed.len();
    if todo > 0 {
        let s = if todo > 1 { "tests" } else { "test" };
        let _ = write!(out, "\n\t({todo} TODO {s} unexpectedly succeeded)");
    }
    out.push('\n');
    out
}

/// `[HH:MM:SS]` in local time, as `--timer` stamps lines.
fn stamp(at: SystemTime) -> String {
    let secs = at
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs() as libc::time_t)
        .unwrap_or(0);
    // SAFETY: localtime_r writes only into the struct we own.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    unsafe { libc::localtime_r(&secs, &mut tm) };
    format!("[{:02}:{:02}:{:02}]", tm.tm_hour, tm.tm_min, tm.tm_sec)
}

/// The stamp of now, which `--timer` prints before the summary.
pub fn clock_stamp() -> String {
    stamp(SystemTime::now())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prove::parser::tally;

    fn tap(text: &str, exit: i32) -> FileTap {
        tally(text, exit)
    }

    fn console(verbosity: i8) -> Console {
        Console {
            verbosity,
            failures: false,
            comments: true,
            directives: false,
            timer: false,
            longest: 16,
        }
    }

    const FAIL: &str = "1..5\nok 1 - first\nnot ok 2 - bad sum\n# Failed test 2: \"bad sum\"\n\
                        not ok 3 - false\nok 4 - fourth\nnot ok 5\n# Looks like you failed 3 tests of 5\n";

    #[test]
    fn blocks_as_pg_prove_prints_them() {
        let c = console(0);
        let now = SystemTime::now();
        assert_eq!(
            c.file_block("01_pass.sql", &tap("1..1\nok 1\n", 0), now, Duration::ZERO),
            "01_pass.sql ....... ok\n"
        );
        assert_eq!(
            c.file_block("02_fail.sql", &tap(FAIL, 0), now, Duration::ZERO),
            "02_fail.sql ....... \n# Failed test 2: \"bad sum\"\n\
             # Looks like you failed 3 tests of 5\nFailed 3/5 subtests \n"
        );
        assert_eq!(
            c.file_block("03_error.sql", &tap("1..3\nok 1\n", 3), now, Duration::ZERO),
            "03_error.sql ...... \nDubious, test returned 3 (wstat 768, 0x300)\nFailed 2/3 subtests \n"
        );
        assert_eq!(
            c.file_block("07_nothing.sql", &tap("", 0), now, Duration::ZERO),
            "07_nothing.sql .... \nNo subtests run \n"
        );
        assert_eq!(
            c.file_block("x.sql", &tap("1..0 # SKIP off\n", 0), now, Duration::ZERO),
            "x.sql ............. skipped: off\n"
        );
        assert_eq!(
            c.file_block(
                "05_todo_skip.sql",
                &tap("1..1\nok 1 # TODO x\n# a diagnostic\n", 0),
                now,
                Duration::ZERO
            ),
            "05_todo_skip.sql .. \n# a diagnostic\nok\n"
        );
    }

    #[test]
    fn verbosity() {
        let now = SystemTime::now();
        let verbose = console(1).file_block("02_fail.sql", &tap(FAIL, 0), now, Duration::ZERO);
        assert!(verbose.contains("\nok 1 - first\nnot ok 2 - bad sum\n"));
        let quiet = console(-1).file_block("02_fail.sql", &tap(FAIL, 0), now, Duration::ZERO);
        assert_eq!(quiet, "02_fail.sql ....... \nFailed 3/5 subtests \n");
        assert_eq!(
            console(-2).file_block("02_fail.sql", &tap(FAIL, 0), now, Duration::ZERO),
            ""
        );
        let failures = Console {
            failures: true,
            ..console(0)
        }
        .file_block("02_fail.sql", &tap(FAIL, 0), now, Duration::ZERO);
        assert!(failures.contains("\nnot ok 2 - bad sum\n# Failed test 2"));
        assert!(!failures.contains("ok 1 - first"));
    }
}
