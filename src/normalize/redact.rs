//! Redaction of a report for snapshots: what varies between runs is replaced field by
//! field, never by scanning prose. Event and session ids become the capture's
//! placeholders ([`names`]), request numbers `<request>`, measurements `<measured>`,
//! the tool version `<version>`; URL lists are sorted and groups re-sorted on the
//! redacted values (the judge sorts examples on raw ids, which vary).

use super::placeholders::{event_number, names, Names};
use crate::journal::Journal;
use crate::report::{Finding, Group, Report, Source};
use serde_json::Value;

/// The report with what varies between runs replaced, for snapshots.
pub fn redact_report(report: &Report, j: &Journal) -> Value {
    let names = names(j);
    let mut groups: Vec<Group> = report.groups.iter().map(|g| group(g, &names)).collect();
    groups.sort_by(Group::order);
    let mut v = serde_json::to_value(report).expect("a report serialises");
    v["version"] = "<version>".into();
    v["findings"] = serde_json::to_value(groups.iter().map(Group::summary).collect::<Vec<_>>())
        .expect("findings serialise");
    v["groups"] = serde_json::to_value(&groups).expect("groups serialise");
    v
}

fn group(g: &Group, names: &Names) -> Group {
    let mut g = g.clone();
    for e in &mut g.examples {
        *e = finding(e, names);
    }
    let num = |e: &Finding| e.event.as_deref().and_then(event_number).unwrap_or(usize::MAX);
    g.examples
        .sort_by(|a, b| (num(a), &a.event, &a.urls, &a.found).cmp(&(num(b), &b.event, &b.urls, &b.found)));
    g
}

/// One id: its placeholder, else its kind.
fn id(s: &str, names: &Names) -> String {
    if let Some(p) = names.of(s) {
        return p.to_string();
    }
    if s.starts_with("body:") {
        "<body-hash>".into()
    } else if uuid::Uuid::parse_str(s).is_ok() {
        "<guid>".into()
    } else {
        s.to_string()
    }
}

fn finding(f: &Finding, names: &Names) -> Finding {
    let mut f = f.clone();
    f.event = f.event.as_deref().map(|e| id(e, names));
    let mut sources: Vec<Source> = f
        .sources
        .iter()
        .map(|s| match s {
            Source::Request(_) => Source::Input("<request>".into()),
            Source::Session(s) => Source::Session(id(s, names)),
            other => other.clone(),
        })
        .collect();
    sources.sort();
    sources.dedup();
    f.sources = sources;
    f.urls.sort();
    // Evidence names ids as they are: put the placeholders of the capture's ids in.
    let known = |s: &str| -> String {
        let mut s = s.to_string();
        for (raw, placeholder) in names.events.iter().chain(&names.sessions) {
            if s.contains(raw.as_str()) {
                s = s.replace(raw.as_str(), placeholder);
            }
        }
        s
    };
    f.expected = f.expected.as_deref().map(known);
    f.found = if f.measured {
        f.found.as_ref().map(|_| "<measured>".to_string())
    } else {
        f.found.as_deref().map(known)
    };
    f
}
