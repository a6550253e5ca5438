//! `--junit FILE`: the run as JUnit XML, the format GitLab, Jenkins and
//! GitHub test reporters read. A `<testsuite>` per test file, a
//! `<testcase>` per top-level test (pgTAP assertion, or `runtests()` test
//! function) with its time; failures carry pgTAP's diagnostics, TODO and
//! SKIP tests are skipped ones, and what went wrong with the file as a
//! whole (a bad plan, an SQL error) is an `<error>` of a testcase named
//! `(file)`, with psql's messages. Written by `quick-junit`.

use std::path::Path;
use std::time::{Duration, SystemTime};

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

use super::outcome::FileOutcome;
use super::parser::{Assertion, FileTap};
use super::tap::Directive;
use crate::error::{Error, ProveProblem, Result};

/// The name of the testcase that stands for the file as a whole.
pub const FILE_CASE: &str = "(file)";

/// Builds the report of `files`, run in `wall` starting at `started`.
pub fn report(files: &[FileOutcome], started: SystemTime, wall: Duration) -> Report {
    let mut report = Report::new("pgtmp prove");
    report.set_time(wall);
    if let Some(t) = timestamp(started) {
        report.set_timestamp(t);
    }
    for file in files {
        report.add_test_suite(suite(file));
    }
    report
}

/// Writes the report to `path` (whole, through a temporary file).
pub fn write(path: &Path, report: &Report) -> Result<()> {
    let xml = report
        .to_string()
        .map_err(|e| Error::Prove(ProveProblem::Report(format!("cannot write JUnit XML: {e}"))))?;
    crate::prove::write_file(path, xml.as_bytes())
}

fn suite(file: &FileOutcome) -> TestSuite {
    let mut suite = TestSuite::new(file.name.as_str());
    suite.set_time(file.elapsed);
    if let Some(t) = timestamp(file.started) {
        suite.set_timestamp(t);
    }
    let tap = &file.tap;
    for a in &tap.assertions {
        suite.add_test_case(case(&file.name, a));
    }
    if let Some(problem) = file_problem(tap, &file.stderr) {
        let mut case = TestCase::new(FILE_CASE, problem);
        case.set_classname(file.name.as_str());
        suite.add_test_case(case);
    }
    let tap_text: String = tap.lines.iter().map(|l| format!("{}\n", l.text)).collect();
    suite.set_system_out(tap_text);
    if !file.stderr.is_empty() {
        suite.set_system_err(file.stderr.as_str());
    }
    suite
}

fn case(file: &str, a: &Assertion) -> TestCase {
    let name = if a.name.is_empty() {
        format!("{}", a.number)
    } else {
        format!("{} - {}", a.number, a.name)
    };
    let details = || {
        let mut text = a.subtests.join("\n");
        if !text.is_empty() {
            text.push('\n');
        }
        for d in &a.diagnostics {
            text.push('#');
            text.push_str(d);
            text.push('\n');
        }
        text
    };
    let status = match a.directive {
        Directive::Skip => {
            let mut s = TestCaseStatus::skipped();
            s.set_message(format!("SKIP {}", a.explanation).trim_end());
            s
        }
        Directive::Todo if !a.actual_ok => {
            let mut s = TestCaseStatus::skipped();
            s.set_message(format!("TODO {}", a.explanation).trim_end());
            s.set_description(details());
            s
        }
        _ if a.ok => TestCaseStatus::success(),
        _ => {
            let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
            let message = if a.unplanned {
                format!("test {} ran past the plan", a.number)
            } else {
                a.diagnostics
                    .first()
                    .map(|d| d.trim().to_string())
                    .filter(|d| !d.is_empty())
                    .unwrap_or_else(|| format!("Failed test {}", a.number))
            };
            s.set_message(message);
            s.set_description(details());
            s
        }
    };
    let mut case = TestCase::new(name, status);
    case.set_classname(file);
    case.set_time(a.elapsed);
    case
}

/// The file's own problem (plan, exit status), or its skip-all.
fn file_problem(tap: &FileTap, stderr: &str) -> Option<TestCaseStatus> {
    if let Some(why) = &tap.skip_all {
        let mut s = TestCaseStatus::skipped();
        s.set_message(format!("skipped: {why}"));
        return Some(s);
    }
    let exit = !tap.ignore_exit && (tap.exit != 0 || tap.wait != 0);
    if !exit && tap.parse_errors.is_empty() && tap.bailout.is_none() {
        return None;
    }
    let mut messages = Vec::new();
    if let Some(why) = &tap.bailout {
        messages.push(format!("Bail out! {why}"));
    }
    if tap.exit != 0 {
        messages.push(format!(
            "Dubious, test returned {} (wstat {}, 0x{:x})",
            tap.exit, tap.wait, tap.wait
        ));
    }
    messages.extend(tap.parse_errors.iter().cloned());
    let mut s = TestCaseStatus::non_success(NonSuccessKind::Error);
    s.set_message(messages.first().cloned().unwrap_or_default());
    let mut description = messages.join("\n");
    if !stderr.is_empty() {
        description.push('\n');
        description.push_str(stderr);
    }
    s.set_description(description);
    Some(s)
}

fn timestamp(t: SystemTime) -> Option<chrono::DateTime<chrono::FixedOffset>> {
    let d = t.duration_since(SystemTime::UNIX_EPOCH).ok()?;
    chrono::DateTime::from_timestamp(d.as_secs() as i64, d.subsec_nanos()).map(|t| t.fixed_offset())
}
