//! The JUnit XML report: one testsuite `brhook`, one testcase per catalogue check, so
//! CI dashboards show every check, including the ones that could not run.
//!
//! Findings are reported per group (per cause), with the group's count and the
//! examples the report kept, never one block per occurrence:
//!
//! - failed → `<failure>` whose message is one line (the check, its count, the worst
//!   cause) and whose text lists its groups (warn groups too under `--strict`), each
//!   with its count, its examples (expected, found) and how many were left out;
//! - warned → passed (`<failure>` under strict), the warning groups in `<system-out>`;
//! - skipped, not-implemented → `<skipped>` with the reason;
//! - info groups of any check go to its `<system-out>`, one block per group.
//!
//! A report that judged nothing (`note` set) gets one extra failing case `verdict`, so
//! a CI that reads only the JUnit file cannot pass on nothing.

use super::{CheckResult, Group, Report, Status};
use crate::catalog::Level;
use crate::common::{plural, plural_s};
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
    suite.add_property(("verdict", report.verdict.as_str()));
    suite.add_property(("strict", if report.strict { "true" } else { "false" }));
    let mut out = quick_junit::Report::new("brhook");
    out.add_test_suite(suite);
    out.to_string().expect("a JUnit report always serialises")
}

fn case(report: &Report, c: &CheckResult) -> TestCase {
    let groups: Vec<&Group> = report.groups.iter().filter(|g| g.check == c.id).collect();
    let failing = match c.status {
        Status::Failed => true,
        Status::Warned => report.strict,
        _ => false,
    };
    let status = match c.status {
        _ if failing => {
            // Under --strict a warning fails, so warn groups count as the failure.
            let shown: Vec<&Group> = groups
                .iter()
                .copied()
                .filter(|g| g.level >= Level::Warn)
                .collect();
            let n: u64 = shown.iter().map(|g| g.count).sum();
            let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
            s.set_message(summary(c, &shown, n))
                .set_type(c.level.as_str())
                .set_description(shown.iter().map(|g| block(g)).collect::<Vec<_>>().join("\n"));
            s
        }
        Status::Skipped | Status::NotImplemented => {
            let mut s = TestCaseStatus::skipped();
            s.set_message(
                c.reason
                    .as_ref()
                    .map_or_else(|| c.status.as_str().to_string(), ToString::to_string),
            )
            .set_type(c.status.as_str());
            s
        }
        _ => TestCaseStatus::success(),
    };
    let mut case = TestCase::new(format!("{} {}", c.id, c.title), status);
    case.set_classname(format!("brhook.{}", c.id.family()));
    // What did not fail the case but is worth reading: warnings (non-strict) and info.
    let quiet: Vec<String> = groups
        .iter()
        .filter(|g| !failing || g.level < Level::Warn)
        .map(|g| block(g))
        .collect();
    if !quiet.is_empty() {
        case.set_system_out(quiet.join("\n"));
    }
    case
}

/// The `<failure message>`: one line, as the text report's summary says it: the check,
/// its count, and the worst cause (the details are in the description).
fn summary(c: &CheckResult, shown: &[&Group], n: u64) -> String {
    let mut out = format!("{} {} — {}", c.id, c.title, plural(n, "finding", "findings"));
    if let Some(g) = shown.first() {
        out.push_str(&format!(": {}", g.message));
        if shown.len() > 1 {
            let more = shown.len() - 1;
            out.push_str(&format!(" (and {more} more cause{})", plural_s(more as u64)));
        }
    }
    out
}

/// "F3 fail ×20: message" (the count only when there is more than one occurrence).
fn head(g: &Group) -> String {
    let times = if g.count == 1 {
        String::new()
    } else {
        format!(" ×{}", g.count)
    };
    format!("{} {}{times}: {}", g.check, g.level, g.message)
}

/// One group over several lines, as the text report writes it: head, URLs, every
/// example the report kept (where, expected, found), and how many were left out.
fn block(g: &Group) -> String {
    let at = g
        .pointer
        .as_deref()
        .map(|p| format!(" (at {p})"))
        .unwrap_or_default();
    let mut out = format!("{}{at}", head(g));
    if g.urls.len() > 1 {
        out.push_str(&format!("\n    urls: {}", g.urls.join(", ")));
    }
    for e in &g.examples {
        for line in super::text::example_lines(e, g.count > 1) {
            out.push_str(&format!("\n    {line}"));
        }
    }
    if g.omitted > 0 {
        out.push_str(&format!(
            "\n    … and {} more like {}, left out of this report (--examples N keeps more)",
            g.omitted,
            if g.examples.len() == 1 { "it" } else { "these" }
        ));
    }
    out
}
