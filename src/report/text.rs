//! The human report: summary first (verdict, counts, one line per failed check),
//! details after, each finding saying what was expected and what was seen.

use super::{Report, Status};
use crate::catalog::Level;
use std::fmt::Write;

/// Renders the report; `color` adds ANSI colours (callers decide: terminal, NO_COLOR).
pub fn render(r: &Report, color: bool) -> String {
    let paint = |code: &str, s: &str| {
        if color {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    };
    let mut out = String::new();
    let verdict = if r.passed() {
        paint("1;32", "PASS")
    } else {
        paint("1;31", "FAIL")
    };
    let _ = writeln!(
        out,
        "brhook {verdict}: {} fail, {} warn, {} info — {}{}",
        r.counts.fail,
        r.counts.warn,
        r.counts.info,
        r.subject,
        if r.strict { " (strict: warnings fail)" } else { "" }
    );
    for c in r
        .checks
        .iter()
        .filter(|c| matches!(c.status, Status::Failed | Status::Warned))
    {
        let n = r.findings_of(c.id).filter(|f| f.level >= Level::Warn).count();
        let mark = if c.status == Status::Failed {
            paint("31", "✗")
        } else {
            paint("33", "!")
        };
        let _ = writeln!(
            out,
            "  {mark} {} {} — {} finding{}",
            c.id,
            c.title,
            n,
            if n == 1 { "" } else { "s" }
        );
    }
    let skipped: Vec<_> = r.checks.iter().filter(|c| c.status == Status::Skipped).collect();
    let passed = r.checks.iter().filter(|c| c.status == Status::Passed).count();
    let _ = writeln!(out, "  {passed} checks passed, {} skipped", skipped.len());
    if !r.findings.is_empty() {
        let _ = writeln!(out, "\nFindings:");
        for f in &r.findings {
            let lvl = match f.level {
                Level::Fail => paint("31", "fail"),
                Level::Warn => paint("33", "warn"),
                Level::Info => paint("36", "info"),
            };
            let at = f.place();
            let _ = writeln!(out, "  {} {lvl}: {}", f.check, f.message);
            if !at.is_empty() {
                let _ = writeln!(out, "       {}", at.join(", "));
            }
            if let Some(e) = &f.expected {
                let _ = writeln!(out, "       expected: {e}");
            }
            if let Some(found) = &f.found {
                let _ = writeln!(out, "       found:    {found}");
            }
        }
    }
    let reasons: Vec<_> = skipped
        .iter()
        .filter(|c| c.reason.as_deref() != Some("not exercised by this command"))
        .collect();
    if !reasons.is_empty() {
        let _ = writeln!(out, "\nSkipped (could not run here; never counted as passed):");
        // Group checks that share a reason: one line per reason.
        let mut groups: Vec<(&str, Vec<&str>)> = Vec::new();
        for c in reasons {
            let reason = c.reason.as_deref().unwrap_or("");
            match groups.iter_mut().find(|(r, _)| *r == reason) {
                Some((_, ids)) => ids.push(c.id),
                None => groups.push((reason, vec![c.id])),
            }
        }
        for (reason, ids) in groups {
            let _ = writeln!(out, "  {}: {reason}", ids.join(", "));
        }
    }
    out
}
