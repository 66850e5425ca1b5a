//! The batch judge as it was before the incremental one (kept for the equivalence test only).
//!
//! A copy of `src/judge/{mod,delivery,fanout,stream}.rs` and of the parts of
//! `src/report/mod.rs` it used (the finding, coverage and verdict of that report model)
//! at commit cde0556, adapted only to compile against today's public API: check IDs are
//! [`Check`] values rather than strings, the body and header findings of
//! [`brhook::testkit::body`] (today's [`brhook::testkit::report::Finding`]) are converted to this module's
//! own [`Finding`], and it keeps its own copy of the body-coverage rule. The judging
//! logic, the finding texts and the merge of findings are as they were.

mod delivery;
mod fanout;
mod stream;

use brhook::testkit::body::{self, Body, Kind};
use brhook::testkit::catalog::{Check, Level, CHECKS};
use brhook::testkit::journal::{Journal, Request};
use brhook::testkit::judge::Options;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

// ---------------------------------------------------------------------------------------
// The old report model: one finding per occurrence, merged by `merge`.
// ---------------------------------------------------------------------------------------

/// One thing a judge saw, keyed by its catalogue check (the old `report::Finding`).
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub check: Check,
    pub level: Level,
    pub message: String,
    pub pointer: Option<String>,
    pub url: Option<String>,
    pub event: Option<String>,
    pub source: Option<String>,
    pub expected: Option<String>,
    pub found: Option<String>,
}

impl Finding {
    /// A finding at the check's catalogue level.
    pub fn new(check: Check, message: impl Into<String>) -> Finding {
        Finding::at(check, check.level(), message)
    }

    /// A finding at an explicit level (for checks that report more than one level).
    pub fn at(check: Check, level: Level, message: impl Into<String>) -> Finding {
        Finding {
            check,
            level,
            message: message.into(),
            pointer: None,
            url: None,
            event: None,
            source: None,
            expected: None,
            found: None,
        }
    }

    /// A finding of today's body and header judges (`brhook::testkit::body`), as the old model
    /// held it.
    pub fn from_today(f: brhook::testkit::report::Finding) -> Finding {
        let join = |v: Vec<String>| (!v.is_empty()).then(|| v.join(", "));
        Finding {
            check: f.check,
            level: f.level,
            message: f.message,
            pointer: f.pointer,
            url: join(f.urls),
            event: f.event,
            source: join(f.sources.iter().map(ToString::to_string).collect()),
            expected: f.expected,
            found: f.found,
        }
    }

    pub fn pointer(mut self, p: impl Into<String>) -> Self {
        self.pointer = Some(p.into());
        self
    }
    pub fn url(mut self, u: impl Into<String>) -> Self {
        self.url = Some(u.into());
        self
    }
    pub fn event(mut self, e: impl Into<String>) -> Self {
        self.event = Some(e.into());
        self
    }
    pub fn source(mut self, s: impl Into<String>) -> Self {
        self.source = Some(s.into());
        self
    }
    pub fn expected(mut self, e: impl Into<String>) -> Self {
        self.expected = Some(e.into());
        self
    }
    pub fn found(mut self, f: impl Into<String>) -> Self {
        self.found = Some(f.into());
        self
    }
}

/// Which checks a run could exercise (the old `report::Coverage`).
#[derive(Debug, Clone, Default)]
pub struct Coverage {
    ran: BTreeMap<Check, ()>,
    skipped: BTreeMap<Check, String>,
}

impl Coverage {
    pub fn ran(&mut self, id: Check) {
        self.skipped.remove(&id);
        self.ran.insert(id, ());
    }
    /// Marks a check skipped unless something already ran it.
    pub fn skip(&mut self, id: Check, reason: impl Into<String>) {
        if !self.ran.contains_key(&id) {
            self.skipped.insert(id, reason.into());
        }
    }
}

/// A check's status, in the four classes the equivalence test compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Status {
    Passed,
    Failed,
    Warned,
    Skipped,
}

/// What the old judge decided.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The verdict is `pass`.
    pub passed: bool,
    /// Every catalogue check: a check with a finding at fail is failed, at warn warned
    /// (failed when strict), else passed when it ran (or has a finding), else skipped.
    pub status: BTreeMap<Check, Status>,
    /// Merged findings per (check, level).
    pub counts: BTreeMap<(Check, Level), usize>,
    /// The merged findings themselves, for diagnostics.
    pub findings: Vec<Finding>,
}

/// The old `Report::build` and `fail_on_nothing`, reduced to what the test compares.
fn outcome(findings: Vec<Finding>, cov: &Coverage, strict: bool, nothing: bool) -> Outcome {
    let mut counts: BTreeMap<(Check, Level), usize> = BTreeMap::new();
    for f in &findings {
        *counts.entry((f.check, f.level)).or_default() += 1;
    }
    let status = CHECKS
        .iter()
        .map(|c| {
            let worst = findings.iter().filter(|f| f.check == c.id).map(|f| f.level).max();
            let s = match worst {
                Some(Level::Fail) => Status::Failed,
                Some(Level::Warn) if strict => Status::Failed,
                Some(Level::Warn) => Status::Warned,
                _ if cov.skipped.contains_key(&c.id) => Status::Skipped,
                _ if cov.ran.contains_key(&c.id) || worst.is_some() => Status::Passed,
                _ => Status::Skipped,
            };
            (c.id, s)
        })
        .collect();
    let (fail, warn) = findings.iter().fold((0, 0), |(f, w), x| match x.level {
        Level::Fail => (f + 1, w),
        Level::Warn => (f, w + 1),
        Level::Info => (f, w),
    });
    let failed = fail > 0 || (strict && warn > 0) || nothing;
    Outcome {
        passed: !failed,
        status,
        counts,
        findings,
    }
}

// ---------------------------------------------------------------------------------------
// The old `judge/mod.rs`.
// ---------------------------------------------------------------------------------------

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
pub fn judge(journal: &Journal, opts: &Options) -> Outcome {
    let mut findings = Vec::new();
    let mut cov = Coverage::default();
    let mut cache: HashMap<&[u8], (Arc<Body>, Arc<str>)> = HashMap::new();
    let mut seen = Vec::new();
    let stray = journal.requests.iter().filter(|r| r.url.is_none()).count();
    for req in &journal.requests {
        let Some(url) = req.url.as_deref() else { continue };
        let src = format!("request #{}", req.seq);
        let headers = body::judge_request(&req.method, &req.headers);
        let headers = headers
            .into_iter()
            .map(|f| Finding::from_today(f).url(url).source(src.clone()));
        if let Some(err) = &req.body_error {
            // The endpoint keeps no bytes of a body it could not read: no event to name.
            findings.extend(headers);
            findings.push(
                Finding::new(Check::T4, format!("body not judged: {err}"))
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
        findings.extend(
            b.findings
                .iter()
                .cloned()
                .map(|f| Finding::from_today(f).url(url).source(src.clone())),
        );
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
            k + u64::from(s.body.event_type.as_deref().is_some_and(known_type)),
            c,
        ),
        Kind::V1 => (a, k, c + 1),
        Kind::Other => (a, k, c),
    });
    // Adopted after the equivalence was shown (issue 17): S3 runs on unknown types only.
    let unknown = seen
        .iter()
        .filter(|s| s.body.kind == Kind::V2)
        .filter(|s| s.body.event_type.as_deref().is_some_and(|t| !known_type(t)))
        .count() as u64;
    body_coverage(&mut cov, seen.len() as u64, v2, known, unknown, v1);
    let headers = [Check::T1, Check::T2, Check::T3, Check::T5];
    if requests == 0 {
        for id in headers {
            cov.skip(id, "no request reached a configured URL");
        }
    } else {
        for id in headers {
            cov.ran(id);
        }
    }
    delivery::judge(&seen, journal, opts, &mut findings, &mut cov);
    fanout::judge(&seen, journal, &mut findings, &mut cov);
    stream::judge(&seen, &mut findings, &mut cov);
    // (The old judge built its subject line here: events, URLs, stray requests.)
    outcome(merge(findings), &cov, opts.strict, requests == 0)
}

/// Which body checks a set of bodies exercised (the old judge's own copy of the rule).
fn body_coverage(cov: &mut Coverage, bodies: u64, v2: u64, known: u64, unknown: u64, v1: u64) {
    use Check::*;
    let mut family = |ids: &[Check], ran: bool| {
        for &id in ids {
            if ran {
                cov.ran(id);
            } else {
                cov.skip(id, "not exercised by these bodies");
            }
        }
    };
    if bodies == 0 {
        family(&[T4, S1, S2, S3, S4, S5, S6, S7], false);
        return;
    }
    family(&[T4, S4, S6], true);
    family(&[S1], v2 > 0);
    family(&[S3], unknown > 0);
    family(&[S2, S7], known > 0);
    family(&[S5], v1 > 0);
}

pub(crate) fn known_type(t: &str) -> bool {
    brhook::testkit::protocol::EventKind::parse(t).is_some()
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
