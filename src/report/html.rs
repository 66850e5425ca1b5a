//! The HTML report: one self-contained file (inline CSS and SVG, no script, no external
//! resource) for reading offline or attaching to a CI run. Summary first, then the
//! check table, the findings (one row per group: cause, count, examples), and, when the
//! report judged traffic (`report.timeline`), a delivery timeline: one row per (event,
//! URL), each attempt drawn from its arrival to the release of its answer, so retries,
//! back-off gaps and fan-out concurrency show at a glance. Above
//! [`MAX_ROWS`](super::timeline::MAX_ROWS) rows the timeline is a sample, and says so.

use super::timeline::{Mark, Timeline};
use super::{CheckResult, Counts, Group, Report, Status};
use crate::catalog::Level;
use crate::common::plural_s;
use std::collections::BTreeSet;
use std::fmt::Write;

/// `write!` into a String cannot fail.
macro_rules! w {
    ($h:expr, $($arg:tt)*) => {{ let _ = write!($h, $($arg)*); }};
}

const CSS: &str =
    "body{font:14px/1.45 system-ui,sans-serif;margin:24px auto;max-width:1180px;color:#222;padding:0 12px}
h1{margin:0;font-size:24px}h2{margin:28px 0 8px;font-size:18px;border-bottom:1px solid #ddd}
.v{padding:12px 16px;border-radius:6px;border-left:8px solid}
.v.pass{background:#e8f5e9;border-color:#2e7d32}.v.fail{background:#ffebee;border-color:#c62828}
.v ul{margin:6px 0 0;padding-left:20px}.v ul:empty{display:none}table{border-collapse:collapse;width:100%}
th{background:#f5f5f5}td,th{border-bottom:1px solid #eee;padding:2px 6px;text-align:left;vertical-align:top}
td.n{white-space:nowrap}code{font:12px ui-monospace,monospace;white-space:pre-wrap;overflow-wrap:anywhere}
.failed{color:#c62828;font-weight:600}.warned{color:#b26a00;font-weight:600}.passed{color:#2e7d32}
.skipped,.not-implemented,.muted{color:#888}.lv-fail{color:#c62828}.lv-warn{color:#b26a00}
.lv-info{color:#0277bd}.ex+.ex{margin-top:4px;padding-top:4px;border-top:1px dotted #ddd}svg{display:block;max-width:100%;height:auto;font:11px ui-monospace,monospace}";

/// Escapes text for HTML and SVG (element content and quoted attributes).
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() && c != '\n' && c != '\t' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

/// "1 fail (20 occurrences), 0 warn, 2 info": groups per level, and occurrences when
/// they differ, as the text report writes it.
fn counts(groups: Counts, occurrences: Counts) -> String {
    let one = |g: u64, o: u64, level: &str| match g == o {
        true => format!("{g} {level}"),
        false => format!("{g} {level} ({o} occurrences)"),
    };
    [
        one(groups.fail, occurrences.fail, "fail"),
        one(groups.warn, occurrences.warn, "warn"),
        one(groups.info, occurrences.info, "info"),
    ]
    .join(", ")
}

/// One findings row: a group with its count, URLs and examples. `anchor` marks the
/// first row of its check (the summary links to it).
fn group(h: &mut String, g: &Group, anchor: bool, sides: bool) {
    let (check, lv, count, msg) = (g.check, g.level, g.count, esc(&g.message));
    // A proxy run judged two parties: each cause says whose it is.
    let side = match sides {
        true => format!("<br><span class='muted'>{}</span>", g.check.side().as_str()),
        false => String::new(),
    };
    let id = if anchor {
        format!(" id='f-{check}'")
    } else {
        String::new()
    };
    let at = match g.pointer.as_deref() {
        Some("") => "<br><span class='muted'>at the body</span>".to_string(),
        Some(p) => format!("<br><span class='muted'>at <code>{}</code></span>", esc(p)),
        None => String::new(),
    };
    let urls = match g.urls.is_empty() {
        true => String::new(),
        false => format!("url {}", esc(&g.urls.join(", "))),
    };
    w!(
        h,
        "<tr{id}><td class='n'>{check}{side}</td><td class='n lv-{lv}'>{lv}</td><td class='n'>×{count}</td>\
         <td>{msg}{at}</td><td class='muted'>{urls}</td><td>"
    );
    for e in &g.examples {
        // Where this example was seen (the pointer is the group's, shown beside it).
        let place: Vec<String> = e
            .place()
            .into_iter()
            .filter(|p| !p.starts_with("at /") && p != "at the body")
            .collect();
        let mut lines = Vec::new();
        if !place.is_empty() {
            lines.push(format!("<span class='muted'>{}</span>", esc(&place.join(", "))));
        }
        if let Some(x) = &e.expected {
            lines.push(format!("expected <code>{}</code>", esc(x)));
        }
        if let Some(x) = &e.found {
            lines.push(format!("found <code>{}</code>", esc(x)));
        }
        if let Some(a) = &e.answer {
            lines.push(format!("answer <code>{}</code>", esc(&a.to_string())));
        }
        if let Some(r) = &e.reproduce {
            lines.push(format!("reproduce <code>{}</code>", esc(r)));
        }
        w!(h, "<div class='ex'>{}</div>", lines.join("<br>"));
    }
    if g.omitted > 0 {
        let (n, these) = (g.omitted, ["these", "it"][usize::from(g.examples.len() == 1)]);
        w!(
            h,
            "<div class='muted'>… and {n} more like {these}, left out of this report</div>"
        );
    }
    h.push_str("</td></tr>\n");
}

/// Renders the report (with its delivery timeline when it judged traffic) as HTML.
pub fn render(report: &Report) -> String {
    let mut h = String::new();
    let verdict = if report.passed() { "pass" } else { "fail" };
    let (up, subject) = (verdict.to_uppercase(), esc(&report.subject));
    let version = report.version;
    let strict = ["", " (strict: warnings fail)"][usize::from(report.strict)];
    let note = report
        .note
        .as_ref()
        .map(|n| format!("<div class='failed'>{}</div>", esc(n)));
    let (counts, note) = (
        counts(report.group_counts, report.counts),
        note.unwrap_or_default(),
    );
    w!(
        h,
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'><title>brhook {up}: {subject}</title>\
         <style>{CSS}</style></head><body>\n<div class='v {verdict}'><h1>brhook {version}: {up}</h1>\
         <div>{counts} — {subject}{strict}</div>{note}<ul>"
    );
    let bad = |c: &&CheckResult| matches!(c.status, Status::Failed | Status::Warned);
    for c in report.checks.iter().filter(bad) {
        // Occurrences, not groups: the number of things the sender got wrong.
        let n: u64 = report
            .groups
            .iter()
            .filter(|g| g.check == c.id && g.level >= Level::Warn)
            .map(|g| g.count)
            .sum();
        let (st, id, title, s) = (c.status.as_str(), c.id, esc(c.title), plural_s(n));
        let mark = if c.status == Status::Failed { "✗" } else { "!" };
        w!(
            h,
            "<li><span class='{st}'>{mark} {id}</span> {title} — <a href='#f-{id}'>{n} finding{s}</a></li>"
        );
    }
    let count = |s: Status| report.checks.iter().filter(|c| c.status == s).count();
    let (pass, skip) = (count(Status::Passed), count(Status::Skipped));
    let ni = count(Status::NotImplemented);
    w!(
        h,
        "</ul><div class='muted'>{pass} checks passed, {skip} skipped, {ni} not implemented</div></div>\n\
         <h2>Checks</h2><table><tr><th>ID</th><th>level</th><th>status</th><th>check</th>\
         <th>reason</th></tr>\n"
    );
    for c in &report.checks {
        let (id, lv, st, title) = (c.id, c.level, c.status.as_str(), esc(c.title));
        let reason = esc(&c.reason.as_ref().map(ToString::to_string).unwrap_or_default());
        w!(
            h,
            "<tr><td class='n'>{id}</td><td class='n lv-{lv}'>{lv}</td><td class='n {st}'>{st}</td>\
             <td>{title}</td><td class='muted'>{reason}</td></tr>\n"
        );
    }
    // One row per group (cause): its count, where it was seen, and the examples kept.
    h.push_str("</table>\n<h2>Findings</h2>\n<table><tr><th>check</th><th>level</th><th>count</th>");
    h.push_str("<th>finding</th><th>where</th><th>examples</th></tr>\n");
    let mut anchored = BTreeSet::new();
    for g in &report.groups {
        group(&mut h, g, anchored.insert(g.check), report.both_sides);
    }
    if report.groups.is_empty() {
        h.push_str("<tr><td colspan='6' class='muted'>No findings.</td></tr>");
    }
    h.push_str("</table>\n");
    if let Some(t) = &report.timeline {
        h.push_str("<h2 id='timeline'>Delivery timeline</h2>\n");
        timeline(&mut h, t);
    }
    h.push_str("</body></html>\n");
    h
}

/// The colour and caption of an answer.
fn answer(r: &Mark) -> (&'static str, String) {
    match r.status {
        Some(s) if (200..300).contains(&s) => (GREEN, s.to_string()),
        Some(s) => (RED, s.to_string()),
        None => (GREY, "reset".into()),
    }
}

const GREEN: &str = "#2e7d32";
const RED: &str = "#d32f2f";
const GREY: &str = "#444";
/// The wait between an answer and the next attempt.
const DOTS: &str = "stroke='#888' stroke-dasharray='2 3'";

/// An attempt: held from arrival until answered.
fn bar(color: &str) -> String {
    format!("stroke='{color}' stroke-width='4'")
}

/// A tick step (ms) giving at most about 10 ticks over `span` ms.
fn tick_step(span: f64) -> f64 {
    let mag = 10f64.powf((span / 10.0).log10().floor());
    let steps = [1.0, 2.0, 5.0, 10.0].map(|m| m * mag);
    steps
        .into_iter()
        .find(|s| *s >= span / 10.0)
        .unwrap_or(10.0 * mag)
}

fn line(h: &mut String, (x1, y1): (f64, f64), (x2, y2): (f64, f64), style: &str) {
    let _ = write!(
        h,
        "<line x1='{x1:.1}' y1='{y1:.1}' x2='{x2:.1}' y2='{y2:.1}' {style}/>"
    );
}

fn text(h: &mut String, (x, y): (f64, f64), attrs: &str, body: &str) {
    w!(h, "<text x='{x:.1}' y='{y:.1}'{attrs}>{body}</text>");
}

fn rect(h: &mut String, (x, y): (f64, f64), (w, ht): (f64, f64), fill: &str) {
    let _ = write!(
        h,
        "<rect x='{x:.1}' y='{y:.1}' width='{w:.1}' height='{ht:.1}' fill='{fill}'/>"
    );
}

fn timeline(h: &mut String, tl: &Timeline) {
    let rows = &tl.rows;
    if rows.is_empty() {
        h.push_str("<p class='muted'>No request reached a configured URL.</p>\n");
        return;
    }
    let span = tl.span_ms;
    let (label_w, plot_w, row_h, top) = (300.0, 840.0, 16.0, 62.0);
    let x = |ms: f64| label_w + ms / span * plot_w;
    let (width, bottom) = (label_w + plot_w + 20.0, top + rows.len() as f64 * row_h);
    let height = bottom + 8.0;
    let _ = writeln!(
        h,
        "<svg width='{width}' height='{height}' viewBox='0 0 {width} {height}'>"
    );
    text(h, (4.0, 16.0), " fill='#555'", "dot: arrival");
    text(h, (4.0, 30.0), " fill='#555'", "bar: held until answered");
    if rows
        .iter()
        .flat_map(|r| &r.attempts)
        .any(|m| m.upstream.is_some())
    {
        text(h, (4.0, 44.0), " fill='#555'", "| the receiver's answer (proxy)");
    }
    let mut lx = label_w;
    for (color, caption) in [(GREEN, "2xx"), (RED, "non-2xx"), (GREY, "reset (no answer)")] {
        line(h, (lx, 12.0), (lx + 22.0, 12.0), &bar(color));
        w!(h, "<circle cx='{lx}' cy='12' r='4' fill='{color}'/>");
        text(h, (lx + 28.0, 16.0), "", caption);
        lx += 44.0 + 7.0 * caption.len() as f64;
    }
    line(h, (lx, 12.0), (lx + 22.0, 12.0), DOTS);
    text(h, (lx + 28.0, 16.0), "", "wait before the retry");
    rect(h, (lx + 200.0, 6.0), (22.0, 12.0), "#fff3cd");
    text(h, (lx + 228.0, 16.0), "", "quiet window before close");
    // Background first (event bands, quiet window, ticks), marks on top.
    let new_event = |i: usize| i == 0 || rows[i - 1].event != rows[i].event;
    let mut band = false;
    for i in 0..rows.len() {
        band ^= new_event(i);
        if band {
            rect(h, (0.0, top + i as f64 * row_h), (width, row_h), "#eef2f7");
        }
    }
    if let (Some(c), Some(q)) = (tl.closed_ms, tl.quiet_ms) {
        let a = x((c - q).max(0.0));
        rect(h, (a, top), (x(c) - a, bottom - top), "#fff3cd");
    }
    let (step, mut t) = (tick_step(span), 0.0);
    let digits = [2, 1, 0][usize::from(step >= 100.0) + usize::from(step >= 1000.0)];
    while t <= span + 1e-9 {
        line(h, (x(t), top - 4.0), (x(t), bottom), "stroke='#ccc'");
        let caption = format!("{:.digits$} s", t / 1000.0);
        text(
            h,
            (x(t), top - 8.0),
            " text-anchor='middle' fill='#555'",
            &caption,
        );
        t += step;
    }
    if let Some(c) = tl.closed_ms {
        line(
            h,
            (x(c), 22.0),
            (x(c), bottom),
            "stroke='#000' stroke-dasharray='4 3'",
        );
        let caption = format!("capture closed at {:.2} s", c / 1000.0);
        text(h, (x(c) - 4.0, 32.0), " text-anchor='end'", &caption);
    }
    h.push('\n');
    for (i, row) in rows.iter().enumerate() {
        let reqs = &row.attempts;
        let mid = top + i as f64 * row_h + row_h / 2.0;
        let fill = [" fill='#999'", " fill='#222'"][usize::from(new_event(i))];
        text(h, (4.0, mid + 4.0), fill, &esc(&row.label));
        let name = esc(&row.url.chars().take(14).collect::<String>());
        let tries = (reqs.len() > 1).then(|| format!("<tspan fill='#777'> ×{}</tspan>", reqs.len()));
        let label = format!("{name}{}", tries.unwrap_or_default());
        text(h, (label_w - 8.0, mid + 4.0), " text-anchor='end'", &label);
        for (n, r) in reqs.iter().enumerate() {
            let (color, caption) = answer(r);
            let (a, b) = (x(r.at_ms), x(r.answered_ms.max(r.at_ms)));
            let next = reqs.get(n + 1).map(|r| x(r.at_ms));
            if let Some(next) = next {
                line(h, (b, mid), (next, mid), DOTS);
            }
            let (seq, at, done) = (r.seq, r.at_ms / 1000.0, r.answered_ms / 1000.0);
            // A proxy's attempt says when its receiver answered, inside the attempt.
            let receiver = r.upstream.map(|(t, status)| {
                let said = status.map_or("gave no answer".to_string(), |s| format!("answered {s}"));
                format!("; the receiver {said} at {:.3} s", t / 1000.0)
            });
            w!(
                h,
                "<g><title>request #{seq} to {name}, attempt {}: arrived {at:.3} s, answered {caption} at \
                 {done:.3} s{}</title><circle cx='{a:.1}' cy='{mid}' r='4' fill='{color}'/>",
                n + 1,
                receiver.unwrap_or_default()
            );
            line(h, (a, mid), (b.max(a + 1.5), mid), &bar(color));
            if let Some((t, _)) = r.upstream {
                let u = x(t);
                line(
                    h,
                    (u, mid - 6.0),
                    (u, mid + 6.0),
                    "stroke='#333' stroke-width='2'",
                );
            }
            // The code beside a failed attempt, where the next attempt leaves room.
            if !r.succeeded() && next.is_none_or(|next| next - b > 36.0) {
                text(h, (b + 6.0, mid + 4.0), &format!(" fill='{color}'"), &caption);
            }
            h.push_str("</g>");
        }
        h.push('\n');
    }
    h.push_str("</svg>\n");
    if tl.stride > 1 {
        let _ = writeln!(
            h,
            "<p class='warned'>Timeline sampled: showing {} of {} rows, one in {} (the capture is too large to draw whole; the findings above cover all of it).</p>",
            rows.len(),
            tl.total_rows,
            tl.stride
        );
    }
    let (n, s, started) = (tl.requests, plural_s(tl.requests), esc(&tl.started));
    let total = tl.total_rows;
    w!(
        h,
        "<p class='muted'>{n} request{s} in {total} rows; time since the capture started ({started}). \
         Stray requests (unknown path) are not shown. Hover a mark for its request number.</p>\n"
    );
}
