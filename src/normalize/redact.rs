//! Redaction of a report for snapshots: [`redact_report`], and [`redact_text`] for
//! one string (ids to placeholders, GUIDs, date-times, durations, request numbers).

use super::placeholders::{event_number, names, Names};
use super::shape::{date_time_at, guid_bytes};
use crate::journal::Journal;
use crate::report::{order, Finding, Report};
use serde_json::Value;

/// The report with what varies between runs replaced, for snapshots: event and session
/// ids by the capture's placeholders ([`names`]), other GUIDs by `<guid>`, date-times by
/// `<date-time>`, millisecond and second counts by `<ms>` and `<s>`, `request #N` by
/// `<request>`, the tool version by `<version>`; URL lists sorted, and the findings
/// re-sorted on the redacted values (the judge sorts on raw ids, which vary).
pub fn redact_report(report: &Report, j: &Journal) -> Value {
    let names = names(j);
    let mut findings: Vec<Finding> = report
        .findings
        .iter()
        .cloned()
        .map(|mut f| {
            f.message = redact_text(&f.message, &names);
            for x in [&mut f.pointer, &mut f.expected, &mut f.found, &mut f.event]
                .into_iter()
                .flatten()
            {
                *x = redact_text(x, &names);
            }
            if let Some(s) = &mut f.source {
                let mut parts: Vec<String> = Vec::new();
                for p in redact_text(s, &names).split(", ") {
                    if !parts.iter().any(|x| x == p) {
                        parts.push(p.to_string());
                    }
                }
                *s = parts.join(", ");
            }
            if let Some(u) = &mut f.url {
                let mut parts: Vec<&str> = u.split(", ").collect();
                parts.sort_unstable();
                parts.dedup();
                *u = parts.join(", ");
            }
            f
        })
        .collect();
    let num = |e: &Option<String>| -> (usize, Option<String>) {
        let n = e.as_deref().and_then(event_number).unwrap_or(usize::MAX);
        (n, e.clone())
    };
    findings.sort_by(|a, b| {
        (
            std::cmp::Reverse(a.level),
            order(a.check),
            &a.url,
            num(&a.event),
            &a.pointer,
        )
            .cmp(&(
                std::cmp::Reverse(b.level),
                order(b.check),
                &b.url,
                num(&b.event),
                &b.pointer,
            ))
            .then_with(|| {
                (&a.message, &a.expected, &a.found, &a.source).cmp(&(
                    &b.message,
                    &b.expected,
                    &b.found,
                    &b.source,
                ))
            })
    });
    let mut v = serde_json::to_value(report).expect("a report serialises");
    v["version"] = "<version>".into();
    v["subject"] = redact_text(&report.subject, &names).into();
    if let Some(n) = &report.note {
        v["note"] = redact_text(n, &names).into();
    }
    v["findings"] = serde_json::to_value(&findings).expect("findings serialise");
    v
}

/// The text redactions of [`redact_report`].
pub fn redact_text(s: &str, names: &Names) -> String {
    let b = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    let boundary = |k: usize| k == 0 || !b[k - 1].is_ascii_alphanumeric();
    while i < b.len() {
        if boundary(i) && i + 36 <= b.len() && guid_bytes(&b[i..i + 36]) {
            let id = &s[i..i + 36];
            out.push_str(names.of(id).unwrap_or("<guid>"));
            i += 36;
            continue;
        }
        if boundary(i) && s[i..].starts_with("body:") && i + 21 <= b.len() {
            let h = &s[i..i + 21];
            if h[5..].bytes().all(|c| c.is_ascii_hexdigit()) {
                out.push_str(names.of(h).unwrap_or("<body-hash>"));
                i += 21;
                continue;
            }
        }
        if boundary(i) {
            if let Some((n, _)) = date_time_at(b, i) {
                out.push_str("<date-time>");
                i += n;
                continue;
            }
        }
        if s[i..].starts_with("request #") {
            let digits = b[i + 9..].iter().take_while(|c| c.is_ascii_digit()).count();
            if digits > 0 {
                out.push_str("<request>");
                i += 9 + digits;
                continue;
            }
        }
        if boundary(i) && b[i].is_ascii_digit() && (i == 0 || b[i - 1] != b'.') {
            if let Some((len, parts)) = durations(s, i) {
                let mut rest = &s[i..i + len];
                for (start, end, unit) in parts {
                    out.push_str(&rest[..start]);
                    out.push_str(unit);
                    rest = &rest[end..];
                }
                out.push_str(rest);
                i += len;
                continue;
            }
        }
        let ch = s[i..].chars().next().expect("in bounds");
        out.push(ch);
        i += ch.len_utf8();
    }
    out
}

/// At `i`, a number or a range of numbers (`251–253`) followed by the unit `ms` or `s`:
/// the length of the numbers part and, per number, its span (relative, each after the
/// previous one) and its placeholder.
#[allow(clippy::type_complexity)]
fn durations(s: &str, i: usize) -> Option<(usize, Vec<(usize, usize, &'static str)>)> {
    let b = s.as_bytes();
    let number = |k: usize| -> usize {
        let mut e = k;
        while b.get(e).is_some_and(u8::is_ascii_digit) {
            e += 1;
        }
        if b.get(e) == Some(&b'.') && b.get(e + 1).is_some_and(u8::is_ascii_digit) {
            e += 1;
            while b.get(e).is_some_and(u8::is_ascii_digit) {
                e += 1;
            }
        }
        e
    };
    let mut spans = vec![(i, number(i))];
    loop {
        let end = spans.last().expect("one span").1;
        let rest = &s[end..];
        let sep = ["–", "-", " – ", " - "]
            .iter()
            .find(|d| rest.starts_with(**d) && b.get(end + d.len()).is_some_and(u8::is_ascii_digit));
        match sep {
            Some(d) => {
                let k = end + d.len();
                spans.push((k, number(k)));
            }
            None => break,
        }
    }
    let end = spans.last().expect("one span").1;
    let rest = s[end..].trim_start_matches(' ');
    let unit = if rest.starts_with("ms") && !rest[2..].starts_with(|c: char| c.is_alphanumeric()) {
        "<ms>"
    } else if rest.starts_with('s') && !rest[1..].starts_with(|c: char| c.is_alphanumeric()) {
        "<s>"
    } else {
        return None;
    };
    let mut prev = i;
    let parts = spans
        .into_iter()
        .map(|(a, e)| {
            let p = (a - prev, e - prev, unit);
            prev = e;
            p
        })
        .collect();
    Some((end - i, parts))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_redactions() {
        let mut names = Names::default();
        names
            .events
            .insert("e3e1c9ec-f386-4bc3-9e5a-661bf3ed2fb2".into(), "<event-2>".into());
        let r = |s: &str| redact_text(s, &names);
        assert_eq!(
            r("attempt 2: 10 retries, 251–253 ms after the previous answer"),
            "attempt 2: 10 retries, <ms>–<ms> ms after the previous answer"
        );
        assert_eq!(
            r("came 12.5ms after; in the 0.8 s until"),
            "came <ms>ms after; in the <s> s until"
        );
        assert_eq!(
            r("request #3, request #15 for e3e1c9ec-f386-4bc3-9e5a-661bf3ed2fb2"),
            "<request>, <request> for <event-2>"
        );
        assert_eq!(
            r("SessionId 7c7f3672-70ce-405a-aa12-886702ced6e5 at 2021-05-14T17:52:44.4182643+08:00."),
            "SessionId <guid> at <date-time>."
        );
        assert_eq!(
            r("3 attempts, 500 status, v2.17.3"),
            "3 attempts, 500 status, v2.17.3"
        );
    }
}
