//! The JUnit XML report: one testsuite `brhook`, one testcase per catalogue check, so
//! CI dashboards show every check, including the ones that could not run.
//!
//! - failed → `<failure>` listing its findings (warn findings too under `--strict`);
//! - warned → passed (`<failure>` under strict), the warnings in `<system-out>`;
//! - skipped, not-implemented → `<skipped>` with the reason;
//! - info findings of any check go to its `<system-out>`.
//!
//! A report that judged nothing (`note` set) gets one extra failing case `verdict`, so
//! a CI that reads only the JUnit file cannot pass on nothing.

use super::{CheckResult, Finding, Report, Status};
use crate::catalog::Level;
use quick_junit::{NonSuccessKind, TestCase, TestCaseStatus, TestSuite};

/// Renders the report as JUnit XML.
pub fn render(report: &Report) -> String {
    let mut suite = TestSuite::new("brhook");
    for c in &report.checks {
        suite.add_test_case(case(report, c));
    }
    if let Some(note) = &report.note {
        let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
        status.set_message(note.as_str()).set_type("nothing judged");
        let mut case = TestCase::new("verdict", status);
        case.set_classname("brhook");
        suite.add_test_case(case);
    }
    suite.add_property(("subject", report.subject.as_str()));
    suite.add_property(("verdict", report.verdict));
    suite.add_property(("strict", if report.strict { "true" } else { "false" }));
    let mut out = quick_junit::Report::new("brhook");
    out.add_test_suite(suite);
    out.to_string().expect("a JUnit report always serialises")
}

fn case(report: &Report, c: &CheckResult) -> TestCase {
    let findings: Vec<&Finding> = report.findings_of(c.id).collect();
    let at = |min: Level| findings.iter().filter(move |f| f.level >= min).copied();
    let failing = match c.status {
        Status::Failed => true,
        Status::Warned => report.strict,
        _ => false,
    };
    let status = match c.status {
        _ if failing => {
            // Under --strict a warning fails, so warn findings count as the failure.
            let shown: Vec<&Finding> = at(Level::Warn).collect();
            let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
            s.set_message(format!(
                "{} finding{}: {}",
                shown.len(),
                if shown.len() == 1 { "" } else { "s" },
                shown.iter().map(|f| line(f)).collect::<Vec<_>>().join(" | ")
            ))
            .set_type(c.level.as_str())
            .set_description(shown.iter().map(|f| block(f)).collect::<Vec<_>>().join("\n"));
            s
        }
        Status::Skipped | Status::NotImplemented => {
            let mut s = TestCaseStatus::skipped();
            s.set_message(c.reason.as_deref().unwrap_or(c.status.as_str()))
                .set_type(c.status.as_str());
            s
        }
        _ => TestCaseStatus::success(),
    };
    let mut case = TestCase::new(format!("{} {}", c.id, c.title), status);
    case.set_classname(format!("brhook.{}", &c.id[..1]));
    // What did not fail the case but is worth reading: warnings (non-strict) and info.
    let quiet: Vec<String> = findings
        .iter()
        .filter(|f| !failing || f.level < Level::Warn)
        .map(|f| block(f))
        .collect();
    if !quiet.is_empty() {
        case.set_system_out(quiet.join("\n"));
    }
    case
}

/// One finding on one line: check, level, message, where, expected, found.
fn line(f: &Finding) -> String {
    let mut parts = vec![format!("{} {}: {}", f.check, f.level, f.message)];
    parts.extend(f.place());
    if let Some(e) = &f.expected {
        parts.push(format!("expected {e}"));
    }
    if let Some(x) = &f.found {
        parts.push(format!("found {x}"));
    }
    parts.join("; ")
}

/// One finding over several lines, as the text report writes it.
fn block(f: &Finding) -> String {
    let mut out = format!("{} {}: {}", f.check, f.level, f.message);
    let at = f.place();
    if !at.is_empty() {
        out.push_str(&format!("\n    {}", at.join(", ")));
    }
    if let Some(e) = &f.expected {
        out.push_str(&format!("\n    expected: {e}"));
    }
    if let Some(x) = &f.found {
        out.push_str(&format!("\n    found:    {x}"));
    }
    out
}
