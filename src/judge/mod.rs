//! The judges: journal in, report out. Per request (T, S), per event per URL (D),
//! across URLs (F), over the stream (C). Order-insensitive except where a check is
//! about the sequence of one event's attempts at one URL.

mod delivery;
mod fanout;
mod stream;

use crate::body::{self, Body, Kind};
use crate::journal::{Journal, Request};
use crate::report::{Coverage, Finding, Report};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

/// How a capture is judged.
#[derive(Debug, Clone)]
pub struct Options {
    /// Warnings fail.
    pub strict: bool,
    /// D6: a retry gap under this is `warn` (real sender: 1 s then 2 s; default 100 ms).
    /// Tests that scale the sender's back-off scale this with it.
    pub min_retry_gap: Duration,
    /// `finish` never waits longer than this for the sender to go quiet.
    pub max_wait: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            strict: false,
            min_retry_gap: Duration::from_millis(100),
            max_wait: Duration::from_secs(600),
        }
    }
}

/// One request to a configured URL, with its judged body.
pub(crate) struct Seen<'a> {
    pub req: &'a Request,
    pub url: &'a str,
    pub body: Arc<Body>,
    /// Identity of the event's content (type and data, key order ignored), so that a
    /// re-serialised retry (D3) is told apart from another event reusing an id (D5).
    pub class: Arc<str>,
}

impl Seen<'_> {
    pub fn id(&self) -> &str {
        &self.body.id
    }
    pub fn source(&self) -> String {
        format!("request #{}", self.req.seq)
    }
}

/// Judges a closed (or still open) capture.
pub fn judge(journal: &Journal, opts: &Options) -> Report {
    let mut findings = Vec::new();
    let mut cov = Coverage::default();
    let mut cache: HashMap<&[u8], (Arc<Body>, Arc<str>)> = HashMap::new();
    let mut seen = Vec::new();
    let stray = journal.requests.iter().filter(|r| r.url.is_none()).count();
    for req in &journal.requests {
        let Some(url) = req.url.as_deref() else { continue };
        let src = format!("request #{}", req.seq);
        let headers = body::judge_request(&req.method, &req.headers);
        let headers = headers.into_iter().map(|f| f.url(url).source(src.clone()));
        if let Some(err) = &req.body_error {
            // The endpoint keeps no bytes of a body it could not read: no event to name.
            findings.extend(headers);
            findings.push(
                Finding::new("T4", format!("body not judged: {err}"))
                    .url(url)
                    .source(src)
                    .expected("a complete webhook body")
                    .found(err.clone()),
            );
            continue;
        }
        let (b, class) = cache
            .entry(req.body.as_slice())
            .or_insert_with(|| {
                let b = body::judge(&req.body);
                let class = class_of(&b, &req.body);
                (Arc::new(b), class)
            })
            .clone();
        // The judged body's id is `body::identity` of these bytes: no second parse.
        let named = !req.body.is_empty();
        findings.extend(headers.map(|f| if named { f.event(b.id.clone()) } else { f }));
        findings.extend(b.findings.iter().cloned().map(|f| f.url(url).source(src.clone())));
        seen.push(Seen {
            req,
            url,
            body: b,
            class,
        });
    }
    let requests = journal.requests.len() - stray;
    let (v2, known, v1) = seen.iter().fold((0, 0, 0), |(a, k, c), s| match s.body.kind {
        Kind::V2 => (
            a + 1,
            k + usize::from(s.body.event_type.as_deref().is_some_and(known_type)),
            c,
        ),
        Kind::V1 => (a, k, c + 1),
        Kind::Other => (a, k, c),
    });
    crate::validate::body_coverage(&mut cov, seen.len(), v2, known, v1);
    if requests == 0 {
        for id in ["T1", "T2", "T3", "T5"] {
            cov.skip(id, "no request reached a configured URL");
        }
    } else {
        for id in ["T1", "T2", "T3", "T5"] {
            cov.ran(id);
        }
    }
    delivery::judge(&seen, journal, opts, &mut findings, &mut cov);
    fanout::judge(&seen, journal, &mut findings, &mut cov);
    stream::judge(&seen, &mut findings, &mut cov);
    let events = seen
        .iter()
        .map(|s| (s.id(), &s.class))
        .collect::<std::collections::BTreeSet<_>>()
        .len();
    let urls = seen
        .iter()
        .map(|s| s.url)
        .collect::<std::collections::BTreeSet<_>>()
        .len();
    let mut subject = format!(
        "{requests} request{} carrying {events} event{} to {urls} URL{}",
        plural(requests),
        plural(events),
        plural(urls)
    );
    if stray > 0 {
        subject.push_str(&format!(", {stray} stray (unknown path, not judged)"));
    }
    let mut report = Report::build(subject, merge(findings), &cov, opts.strict);
    if requests == 0 {
        report.fail_on_nothing(
            "no request reached a configured URL: point the sender at the URLs brhook printed",
        );
    }
    report
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

pub(crate) fn known_type(t: &str) -> bool {
    crate::schema::V2_TYPES.contains(&t)
}

/// Content identity: for a v2 event its EventType and EventData, for a v1 record the
/// record, canonicalised (keys sorted); for anything else the bytes.
fn class_of(b: &Body, bytes: &[u8]) -> Arc<str> {
    let v = match (&b.kind, &b.value) {
        (Kind::V2, Some(v)) => serde_json::json!([v.get("EventType"), v.get("EventData")]),
        (Kind::V1, Some(v)) => v.clone(),
        _ => return body::hash(bytes).into(),
    };
    // A hash, not the text: one per distinct body is held while judging.
    body::hash(canonical(&v).as_bytes()).into()
}

fn canonical(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Object(m) => {
            let sorted: BTreeMap<_, _> = m.iter().collect();
            let parts: Vec<_> = sorted
                .into_iter()
                .map(|(k, v)| format!("{}:{}", serde_json::Value::String(k.clone()), canonical(v)))
                .collect();
            format!("{{{}}}", parts.join(","))
        }
        serde_json::Value::Array(a) => format!("[{}]", a.iter().map(canonical).collect::<Vec<_>>().join(",")),
        other => other.to_string(),
    }
}

/// Findings that differ only in URL and source are one finding: a body judged at
/// three URLs and three attempts says its problem once, naming where it was seen.
fn merge(findings: Vec<Finding>) -> Vec<Finding> {
    let mut out: Vec<Finding> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    for f in findings {
        let key = format!(
            "{}|{}|{}|{:?}|{:?}|{:?}|{:?}",
            f.check, f.level, f.message, f.pointer, f.event, f.expected, f.found
        );
        match index.get(&key) {
            Some(&i) => {
                let g = &mut out[i];
                join(&mut g.url, f.url);
                join(&mut g.source, f.source);
            }
            None => {
                index.insert(key, out.len());
                out.push(f);
            }
        }
    }
    out
}

fn join(into: &mut Option<String>, more: Option<String>) {
    if let Some(m) = more {
        match into {
            Some(s) if s.split(", ").any(|x| x == m) => {}
            Some(s) => {
                s.push_str(", ");
                s.push_str(&m);
            }
            None => *into = Some(m),
        }
    }
}
