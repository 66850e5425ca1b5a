//! The human report: summary first (verdict, counts, one line per failed check),
//! details after: one block per group of findings that share a cause, with a few
//! examples each saying what was expected and what was seen.

use super::{Counts, Finding, Group, Report, Skip, Status};
use crate::catalog::{Level, Side};
use crate::common::plural;
use std::fmt::Write;

/// How the text report is drawn.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    /// ANSI colours (callers decide: terminal, NO_COLOR).
    pub color: bool,
    /// Examples shown per group (the report keeps at most as many as it was judged with).
    pub examples: usize,
    /// Info groups in full instead of one line each.
    pub verbose: bool,
}

impl Style {
    /// No colour, the default number of examples, info on one line.
    pub fn plain() -> Style {
        Style {
            color: false,
            examples: super::DEFAULT_EXAMPLES,
            verbose: false,
        }
    }

    /// `s` in the ANSI colour `code`, when colours are on.
    fn paint(&self, code: &str, s: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }
}

/// "3 fail (41 occurrences)": groups, and occurrences when they differ.
fn level_count(groups: u64, occurrences: u64, level: &str) -> String {
    if groups == occurrences {
        format!("{groups} {level}")
    } else {
        format!("{groups} {level} ({occurrences} occurrences)")
    }
}

fn counts(g: Counts, o: Counts) -> String {
    [
        level_count(g.fail, o.fail, "fail"),
        level_count(g.warn, o.warn, "warn"),
        level_count(g.info, o.info, "info"),
    ]
    .join(", ")
}

/// Renders the report.
pub fn render(r: &Report, style: &Style) -> String {
    let paint = |code: &str, s: &str| style.paint(code, s);
    let mut out = String::new();
    let verdict = if r.passed() {
        paint("1;32", "PASS")
    } else {
        paint("1;31", "FAIL")
    };
    let _ = writeln!(
        out,
        "brhook {verdict}: {} — {}{}",
        counts(r.group_counts, r.counts),
        r.subject,
        if r.strict { " (strict: warnings fail)" } else { "" }
    );
    if let Some(note) = &r.note {
        let _ = writeln!(out, "  {} {note}", paint("31", "✗"));
    }
    let sides: &[Option<Side>] = if r.both_sides {
        &[Some(Side::Sender), Some(Side::Receiver)]
    } else {
        &[None]
    };
    for side in sides {
        let failed: Vec<_> = r
            .checks
            .iter()
            .filter(|c| matches!(c.status, Status::Failed | Status::Warned))
            .filter(|c| side.is_none_or(|s| c.id.side() == s))
            .collect();
        if let Some(s) = side {
            let none = if failed.is_empty() { " no fail or warn" } else { "" };
            let _ = writeln!(out, "  {}:{none}", heading(*s));
        }
        for c in failed {
            let groups: Vec<&Group> = r
                .groups
                .iter()
                .filter(|g| g.check == c.id && g.level >= Level::Warn)
                .collect();
            let n: u64 = groups.iter().map(|g| g.count).sum();
            let mark = if c.status == Status::Failed {
                paint("31", "✗")
            } else {
                paint("33", "!")
            };
            let _ = writeln!(
                out,
                "  {mark} {} {} — {}",
                c.id,
                c.title,
                plural(n, "finding", "findings")
            );
        }
    }
    let skipped: Vec<_> = r.checks.iter().filter(|c| c.status == Status::Skipped).collect();
    let passed = r.checks.iter().filter(|c| c.status == Status::Passed).count() as u64;
    // Checks this command never runs (R checks under `listen`, T–C under `send`) are
    // counted apart: the skipped ones are those a different capture could run.
    let elsewhere = skipped
        .iter()
        .filter(|c| c.reason == Some(Skip::NotExercised))
        .count();
    let _ = write!(
        out,
        "  {} passed, {} skipped",
        plural(passed, "check", "checks"),
        skipped.len() - elsewhere
    );
    let _ = match elsewhere {
        0 => writeln!(out),
        n => writeln!(out, ", {n} not run by this command"),
    };
    for side in sides {
        let mine: Vec<&Group> = r
            .groups
            .iter()
            .filter(|g| side.is_none_or(|s| g.check.side() == s))
            .collect();
        if mine.is_empty() {
            continue;
        }
        match side {
            Some(s) => {
                let _ = writeln!(
                    out,
                    "\nFindings about the {}:",
                    match s {
                        Side::Sender => "sender (the recorder)",
                        Side::Receiver => "receivers",
                    }
                );
            }
            None => {
                let _ = writeln!(out, "\nFindings:");
            }
        }
        for g in mine {
            group(&mut out, g, style, &paint);
        }
    }
    if let Some(shadow) = &r.shadow {
        out.push('\n');
        out.push_str(&shadow.text());
    }
    let reasons: Vec<_> = skipped
        .iter()
        .filter(|c| c.reason != Some(Skip::NotExercised))
        .collect();
    if !reasons.is_empty() {
        let _ = writeln!(out, "\nSkipped (could not run here; never counted as passed):");
        // Group checks that share a reason: one line per reason.
        let mut groups: Vec<(String, Vec<String>)> = Vec::new();
        for c in reasons {
            let reason = c.reason.as_ref().map(ToString::to_string).unwrap_or_default();
            match groups.iter_mut().find(|(r, _)| *r == reason) {
                Some((_, ids)) => ids.push(c.id.to_string()),
                None => groups.push((reason, vec![c.id.to_string()])),
            }
        }
        for (reason, ids) in groups {
            let _ = writeln!(out, "  {}: {reason}", ids.join(", "));
        }
    }
    out
}

/// One group of findings as the report's details show it (`brhook checks ID` quotes one).
pub fn render_group(g: &Group, style: &Style) -> String {
    let paint = |code: &str, s: &str| style.paint(code, s);
    let mut out = String::new();
    group(&mut out, g, style, &paint);
    out
}

/// The heading of one side in a proxy run's report.
fn heading(side: Side) -> &'static str {
    match side {
        Side::Sender => "Sender (the recorder: T, S, D, F, C)",
        Side::Receiver => "Receivers (behind the proxy: R)",
    }
}

fn group(out: &mut String, g: &Group, style: &Style, paint: &dyn Fn(&str, &str) -> String) {
    let lvl = match g.level {
        Level::Fail => paint("31", "fail"),
        Level::Warn => paint("33", "warn"),
        Level::Info => paint("36", "info"),
    };
    let times = if g.count == 1 {
        String::new()
    } else {
        format!(" ×{}", g.count)
    };
    // Where in the body, unless the message already says it.
    let at = match g.pointer.as_deref() {
        Some("") => " (at the body)".to_string(),
        Some(p) if !g.message.contains(p) => format!(" (at {p})"),
        _ => String::new(),
    };
    if g.level == Level::Info && !style.verbose {
        // One line: the message and what the first example found.
        let found = g.examples[0]
            .found
            .as_deref()
            .map(|f| format!(": {f}"))
            .unwrap_or_default();
        let _ = writeln!(out, "  {} {lvl}{times}: {}{at}{found}", g.check, g.message);
        return;
    }
    let _ = writeln!(out, "  {} {lvl}{times}: {}{at}", g.check, g.message);
    if g.urls.len() > 1 {
        let _ = writeln!(out, "       urls: {}", g.urls.join(", "));
    }
    let shown = g.examples.len().min(style.examples.max(1));
    for e in &g.examples[..shown] {
        for line in example_lines(e, g.count > 1) {
            let _ = writeln!(out, "       {line}");
        }
    }
    let hidden = g.count - shown as u64;
    if hidden > 0 {
        let _ = writeln!(
            out,
            "       … and {hidden} more like {} (--examples N shows more; --format json counts them all)",
            if shown == 1 { "it" } else { "these" }
        );
    }
}

/// One example as lines, unindented: where it was seen ("e.g. " when the group has
/// several), what was expected and what was found, the receiver's answer and the
/// command that reproduces it. JUnit writes the same lines.
pub(super) fn example_lines(f: &Finding, several: bool) -> Vec<String> {
    let at: Vec<String> = f
        .place()
        .into_iter()
        .filter(|p| !p.starts_with("at /") && p != "at the body")
        .collect();
    let mut lines = Vec::new();
    if !at.is_empty() {
        lines.push(format!("{}{}", if several { "e.g. " } else { "" }, at.join(", ")));
    }
    let pad = if several && !at.is_empty() { "     " } else { "" };
    if let Some(e) = &f.expected {
        lines.push(format!("{pad}expected: {e}"));
    }
    if let Some(found) = &f.found {
        lines.push(format!("{pad}found:    {found}"));
    }
    if let Some(a) = &f.answer {
        lines.push(format!("{pad}answer:   {a}"));
    }
    if let Some(r) = &f.reproduce {
        lines.push(format!("{pad}reproduce: {r}"));
    }
    lines
}
