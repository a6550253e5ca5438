//! The TAP of one test file, tallied as TAP::Parser tallies it: the plan
//! first or last (and the parse errors when it is neither, missing, or
//! wrong), every test passed or failed (a TODO test always passes; a test
//! past the plan always fails), TODO tests that passed, skipped tests,
//! and the exit status of what produced the TAP. `FileTap` is the result;
//! the console, JUnit and JSON reports all read it.

use std::collections::HashSet;
use std::time::Duration;

use super::tap::{self, Directive, Token};

/// The state machine of TAP::Parser: where the plan may still come.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Init,
    Plan,
    Planned,
    PlannedAfterTest,
    GotPlan,
    Unplanned,
    UnplannedAfterTest,
}

/// What one line was, for the console's choice of what to show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineKind {
    /// A test; `ok` as the harness counts it (TODO included).
    Test {
        ok: bool,
        directive: bool,
    },
    Comment,
    Other,
}

/// One line of the file's TAP output.
#[derive(Debug, Clone)]
pub struct Line {
    pub text: String,
    pub kind: LineKind,
}

/// One top-level test (pgTAP: one assertion, or one `runtests()` test
/// function with its subtests).
#[derive(Debug, Clone)]
pub struct Assertion {
    pub number: u64,
    /// Passed as the harness counts it: TODO tests always do.
    pub ok: bool,
    /// `ok` rather than `not ok` as printed.
    pub actual_ok: bool,
    /// Without pgTAP's `- `.
    pub name: String,
    pub directive: Directive,
    pub explanation: String,
    /// Ran past the plan (so failed).
    pub unplanned: bool,
    /// Since the file started, and since the line before it.
    pub at: Duration,
    pub elapsed: Duration,
    /// The `#` lines that followed it (pgTAP's failure details).
    pub diagnostics: Vec<String>,
    /// The indented lines before it: a `runtests()` test's subtests.
    pub subtests: Vec<String>,
}

/// The tally of one file.
#[derive(Debug, Clone, Default)]
pub struct FileTap {
    pub plan: Option<String>,
    pub tests_planned: Option<u64>,
    /// A skip-all plan's reason (`(no reason given)` when empty).
    pub skip_all: Option<String>,
    pub tests_run: u64,
    pub passed: Vec<u64>,
    pub failed: Vec<u64>,
    pub todo: Vec<u64>,
    pub todo_passed: Vec<u64>,
    pub skipped: Vec<u64>,
    pub parse_errors: Vec<String>,
    pub bailout: Option<String>,
    /// The exit code of what ran the file (psql's, or ours acting as it),
    /// and the wait status as Perl has it (`code << 8`, or the signal).
    pub exit: i32,
    pub wait: i32,
    /// `--ignore-exit`: the exit status is not a problem.
    pub ignore_exit: bool,
    pub assertions: Vec<Assertion>,
    pub lines: Vec<Line>,
    /// Diagnostics before the first test (pgTAP prints few).
    pub leading_diagnostics: Vec<String>,
}

impl FileTap {
    /// TAP::Parser's `has_problems`: failed tests, parse errors, or a
    /// non-zero exit.
    pub fn has_problems(&self) -> bool {
        !self.failed.is_empty()
            || !self.parse_errors.is_empty()
            || (!self.ignore_exit && (self.wait != 0 || self.exit != 0))
    }
}

/// Tallies one file's TAP as its lines arrive.
#[derive(Debug)]
pub struct Parser {
    state: State,
    version: u64,
    planned_todo: HashSet<u64>,
    /// Indented lines seen since the last test.
    pending_subtests: Vec<String>,
    last_at: Duration,
    in_yaml: bool,
    tap: FileTap,
}

impl Default for Parser {
    fn default() -> Self {
        Parser::new()
    }
}

impl Parser {
    pub fn new() -> Parser {
        Parser {
            state: State::Init,
            version: 12,
            planned_todo: HashSet::new(),
            pending_subtests: Vec::new(),
            last_at: Duration::ZERO,
            in_yaml: false,
            tap: FileTap::default(),
        }
    }

    /// Reads one line (without its newline) that came `at` after the file
    /// started.
    pub fn line(&mut self, text: &str, at: Duration) {
        let token = if self.in_yaml {
            if text.trim() == "..." {
                self.in_yaml = false;
            }
            Token::Unknown
        } else {
            tap::parse(text, self.version)
        };
        let kind = match &token {
            Token::Test(_) => LineKind::Test {
                ok: true,
                directive: false,
            },
            Token::Comment(_) => LineKind::Comment,
            _ => LineKind::Other,
        };
        let kind = match token {
            Token::Test(test) => self.test(test, at),
            Token::Plan(plan) => {
                self.plan(text, plan);
                kind
            }
            Token::Comment(c) => {
                match self.tap.assertions.last_mut() {
                    Some(a) => a.diagnostics.push(c),
                    None => self.tap.leading_diagnostics.push(c),
                }
                kind
            }
            Token::Version(v) => {
                self.version(v);
                kind
            }
            Token::Bailout(why) => {
                self.tap.bailout.get_or_insert(why);
                kind
            }
            Token::Yaml => {
                self.in_yaml = true;
                match self.state {
                    State::PlannedAfterTest => self.state = State::Planned,
                    State::UnplannedAfterTest => self.state = State::Unplanned,
                    _ => {}
                }
                kind
            }
            Token::Unknown => {
                if text.starts_with(char::is_whitespace) && !text.trim().is_empty() {
                    self.pending_subtests.push(text.to_string());
                }
                kind
            }
        };
        self.tap.lines.push(Line {
            text: text.to_string(),
            kind,
        });
    }

    fn version(&mut self, v: u64) {
        if self.state != State::Init {
            self.error("If TAP version is present it must be the first line of output");
            return;
        }
        self.version = if v <= 12 {
            self.error(format!(
                "Explicit TAP version must be at least 13. Got version {v}"
            ));
            12
        } else if v > 13 {
            self.error(format!(
                "TAP specified version {v} but we don't know about versions later than 13"
            ));
            13
        } else {
            v
        };
        self.state = State::Plan;
    }

    fn plan(&mut self, raw: &str, plan: tap::Plan) {
        loop {
            match self.state {
                State::Init | State::Plan => {
                    self.set_plan(raw, plan);
                    self.state = State::Planned;
                }
                State::Planned => self.error("More than one plan found in TAP output"),
                State::PlannedAfterTest | State::GotPlan => {
                    self.state = State::Planned;
                    continue;
                }
                State::Unplanned => {
                    self.set_plan(raw, plan);
                    self.state = State::GotPlan;
                }
                State::UnplannedAfterTest => {
                    self.state = State::Unplanned;
                    continue;
                }
            }
            return;
        }
    }

    fn set_plan(&mut self, raw: &str, plan: tap::Plan) {
        self.tap.tests_planned = Some(plan.planned);
        self.tap.plan = Some(raw.to_string());
        if let Some(why) = plan.skip_all {
            self.tap.skip_all = Some(if why.is_empty() {
                "(no reason given)".to_string()
            } else {
                why
            });
        }
        self.planned_todo.extend(plan.todo);
    }

    fn test(&mut self, test: tap::Test, at: Duration) -> LineKind {
        loop {
            match self.state {
                State::GotPlan => {
                    let line = self.tap.plan.clone().unwrap_or_default();
                    self.error(format!(
                        "Plan ({line}) must be at the beginning or end of the TAP output"
                    ));
                    self.state = State::Planned;
                    continue;
                }
                State::UnplannedAfterTest => {
                    self.state = State::Unplanned;
                    continue;
                }
                State::Init | State::Plan | State::Unplanned => {
                    self.state = State::UnplannedAfterTest;
                }
                State::Planned | State::PlannedAfterTest => {
                    self.state = State::PlannedAfterTest;
                }
            }
            break;
        }
        self.count(test, at)
    }

    fn count(&mut self, mut test: tap::Test, at: Duration) -> LineKind {
        self.tap.tests_run += 1;
        let run = self.tap.tests_run;
        if let Some(n) = test.number
            && self.planned_todo.remove(&n)
        {
            test.directive = Directive::Todo;
        }
        let todo = test.directive == Directive::Todo;
        let unplanned = self.tap.tests_planned.is_some_and(|planned| run > planned);
        let number = match test.number {
            Some(n) => {
                if n != run {
                    self.error(format!(
                        "Tests out of sequence.  Found ({n}) but expected ({run})"
                    ));
                }
                n
            }
            None => run,
        };
        let ok = !unplanned && (todo || test.ok);
        if todo {
            self.tap.todo.push(number);
            if test.ok {
                self.tap.todo_passed.push(number);
            }
        }
        if test.directive == Directive::Skip {
            self.tap.skipped.push(number);
        }
        if ok {
            self.tap.passed.push(number);
        } else {
            self.tap.failed.push(number);
        }
        let name = test
            .description
            .strip_prefix("- ")
            .unwrap_or(&test.description)
            .to_string();
        self.tap.assertions.push(Assertion {
            number,
            ok,
            actual_ok: test.ok,
            name,
            directive: test.directive,
            explanation: test.explanation,
            unplanned,
            at,
            elapsed: at.saturating_sub(self.last_at),
            diagnostics: Vec::new(),
            subtests: std::mem::take(&mut self.pending_subtests),
        });
        self.last_at = at;
        LineKind::Test {
            ok,
            directive: test.directive != Directive::None,
        }
    }

    fn error(&mut self, message: impl Into<String>) {
        self.tap.parse_errors.push(message.into());
    }

    /// The end of the file's output: `exit` is the exit code of what ran
    /// it and `wait` the wait status (Perl's `$?`).
    pub fn finish(mut self, exit: i32, wait: i32) -> FileTap {
        self.tap.exit = exit;
        self.tap.wait = wait;
        if self.tap.plan.is_none() {
            self.error("No plan found in TAP output");
        }
        if self.tap.tests_run != self.tap.tests_planned.unwrap_or(0)
            && let Some(planned) = self.tap.tests_planned
        {
            let ran = self.tap.tests_run;
            self.error(format!(
                "Bad plan.  You planned {planned} tests but ran {ran}."
            ));
        }
        self.tap
    }
}

/// The tally of `text`, whose producer exited with `exit` (for tests).
#[cfg(test)]
pub fn tally(text: &str, exit: i32) -> FileTap {
    let mut p = Parser::new();
    for (i, line) in text.lines().enumerate() {
        p.line(line, Duration::from_millis(i as u64));
    }
    p.finish(exit, exit << 8)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(text: &str, exit: i32) -> FileTap {
        tally(text, exit)
    }

    #[test]
    fn a_failing_file() {
        let tap = run(
            "1..5\nok 1 - first\nnot ok 2 - bad sum\n# Failed test 2: \"bad sum\"\n#         have: 2\n\
             #         want: 3\nnot ok 3 - false\n# Failed test 3: \"false\"\nok 4 - fourth\nnot ok 5\n\
             # Failed test 5\n# Looks like you failed 3 tests of 5\n",
            0,
        );
        assert_eq!(tap.failed, vec![2, 3, 5]);
        assert_eq!(tap.passed, vec![1, 4]);
        assert!(tap.parse_errors.is_empty());
        assert!(tap.has_problems());
        assert_eq!(tap.assertions[1].name, "bad sum");
        assert_eq!(tap.assertions[1].diagnostics.len(), 3);
        assert_eq!(tap.assertions[4].diagnostics.len(), 2);
    }

    #[test]
    fn an_error_half_way() {
        let tap = run("1..3\nok 1 - before\n", 3);
        assert_eq!(
            tap.parse_errors,
            vec!["Bad plan.  You planned 3 tests but ran 1."]
        );
        assert_eq!((tap.exit, tap.wait), (3, 768));
        assert!(tap.has_problems());
    }

    #[test]
    fn todo_and_skip() {
        let tap = run(
            "1..5\nnot ok 1 - todo fails # TODO not yet\n# Failed (TODO) test 1: \"todo fails\"\n\
             ok 2 - todo passes # TODO not yet\nok 3 # SKIP no reason\nok 4 # SKIP no reason\n\
             # a diagnostic\nok 5 - last\n",
            0,
        );
        assert!(tap.failed.is_empty());
        assert_eq!(tap.todo_passed, vec![2]);
        assert_eq!(tap.todo, vec![1, 2]);
        assert_eq!(tap.skipped, vec![3, 4]);
        assert!(!tap.has_problems());
    }

    #[test]
    fn plan_at_the_end_or_missing_or_misplaced() {
        let end = run("ok 1 - a\nok 2 - b\n1..2\n", 0);
        assert!(!end.has_problems());
        let none = run("", 0);
        assert_eq!(none.parse_errors, vec!["No plan found in TAP output"]);
        let mid = run("ok 1\n1..3\nok 2\nok 3\n", 0);
        assert_eq!(
            mid.parse_errors,
            vec!["Plan (1..3) must be at the beginning or end of the TAP output"]
        );
        let two = run("1..1\nok 1\n1..1\n", 0);
        assert_eq!(
            two.parse_errors,
            vec!["More than one plan found in TAP output"]
        );
    }

    #[test]
    fn past_the_plan_and_out_of_sequence() {
        let over = run("1..1\nok 1\nok 2\n", 0);
        assert_eq!(over.failed, vec![2]);
        assert!(over.assertions[1].unplanned);
        assert_eq!(
            over.parse_errors,
            vec!["Bad plan.  You planned 1 tests but ran 2."]
        );
        let seq = run("1..2\nok 1\nok 3\n", 0);
        assert_eq!(
            seq.parse_errors,
            vec!["Tests out of sequence.  Found (3) but expected (2)"]
        );
    }

    #[test]
    fn skip_all_and_subtests() {
        let skip = run("1..0 # SKIP no pgcrypto\n", 0);
        assert_eq!(skip.skip_all.as_deref(), Some("no pgcrypto"));
        assert!(!skip.has_problems());
        let xunit = run(
            "    # Subtest: tests.test_fail()\n    ok 1 - setup\n    not ok 2 - nope\n    1..2\n\
             not ok 1 - tests.test_fail\n# Failed test 1: \"tests.test_fail\"\n1..1\n",
            0,
        );
        assert_eq!(xunit.tests_run, 1);
        assert_eq!(xunit.failed, vec![1]);
        assert_eq!(xunit.assertions[0].subtests.len(), 4);
    }
}
