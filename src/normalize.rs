//! A capture in canonical, redacted form, for committing as a baseline, and the drift
//! between two such forms.
//!
//! [`normalize`] keeps what a sender controls and drops what varies from run to run:
//! per request (stray requests left out) the method, URL name, headers, answer status,
//! attempt number at that URL and the body's *shape*; never times, GUIDs, ports or
//! arrival order. Two runs of the same sender against the same URLs and faults give the
//! same value, byte for byte.
//!
//! - Requests are sorted by URL name, then event placeholder, then attempt number.
//! - Event ids (`EventId`, `EventRandomId`, or the hash of a body with neither) become
//!   `<event-1>`, `<event-2>`, ..., numbered by sorting the events on what is stable
//!   across runs: `EventType` (v1 records after v2 events), then the body's shape, then
//!   the kind (v2, v1, other), then how the event was delivered (URLs, attempts,
//!   answers). Events equal in all of these are interchangeable in the output, so
//!   arrival order only breaks ties that cannot show. `SessionId`s become `<session-1>`,
//!   ... in the order of the first event that names them.
//! - Headers: names lowercase, `host` → `<host>`, `content-length` → `<len>`, a
//!   `BililiveRecorder/<semver>` user agent → `BililiveRecorder/<version>`; other values
//!   as sent. A header sent twice keeps both values, as a list.
//! - Body shape: a JSON body is its tree with keys in arrival order and each leaf
//!   replaced by its type and form: `<guid>`, `<date-time+offset>`, `<date-time>` (no
//!   offset), `<string>`, `<integer>`, `<number>`, `<bool>`, `<null>`. A v2 body's
//!   `EventType` stays literal (it is the protocol); GUID-form event and session ids are
//!   their placeholders. A body that is not JSON is `<not json: N bytes>`; one that was
//!   not read whole is `<not read: why>`.
//!
//! [`diff`] compares two normalized captures by shape only: the fields of each event
//! type (per kind), and the headers each URL name received. Counts of requests, attempts
//! and answers are not drift.

use crate::journal::{Journal, Request};
use crate::report::{order, Finding, Report};
use serde::Serialize;
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;

/// The `format` member of a normalized capture; `brhook diff` tells a baseline from a
/// journal by it.
pub const FORMAT: &str = "brhook-normalized/1";

/// Placeholders of one capture: event identity → `<event-N>`, SessionId → `<session-N>`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Names {
    pub events: BTreeMap<String, String>,
    pub sessions: BTreeMap<String, String>,
}

impl Names {
    /// The placeholder of an event id or session id, if the capture has it.
    pub fn of(&self, id: &str) -> Option<&str> {
        self.events
            .get(id)
            .or_else(|| self.sessions.get(id))
            .map(String::as_str)
    }
}

/// One request to a configured URL, parsed once.
struct Parsed<'a> {
    req: &'a Request,
    url: &'a str,
    id: String,
    kind: &'static str,
    value: Option<Value>,
    /// The body's shape with generic id forms (no placeholders yet), as text.
    generic: String,
}

fn parse(j: &Journal) -> Vec<Parsed<'_>> {
    let mut out: Vec<Parsed> = j
        .requests
        .iter()
        .filter_map(|req| {
            let url = req.url.as_deref()?;
            let value = match &req.body_error {
                None => serde_json::from_slice::<Value>(&req.body).ok(),
                Some(_) => None,
            };
            let kind = kind_of(value.as_ref());
            let generic = shape(req, value.as_ref(), kind, &Names::default()).to_string();
            Some(Parsed {
                req,
                url,
                id: crate::body::identity(&req.body),
                kind,
                value,
                generic,
            })
        })
        .collect();
    out.sort_by_key(|p| p.req.seq);
    out
}

/// v2 or v1 by the same rule as the body judge; anything else is `other`.
fn kind_of(value: Option<&Value>) -> &'static str {
    let Some(obj) = value.and_then(Value::as_object) else {
        return "other";
    };
    if ["EventType", "EventTimestamp", "EventId", "EventData"]
        .iter()
        .any(|k| obj.contains_key(*k))
    {
        "v2"
    } else if ["EventRandomId", "StartRecordTime", "EndRecordTime"]
        .iter()
        .any(|k| obj.contains_key(*k))
    {
        "v1"
    } else {
        "other"
    }
}

fn event_type<'a>(value: Option<&'a Value>, kind: &str) -> Option<&'a str> {
    match kind {
        "v2" => value?.get("EventType")?.as_str(),
        _ => None,
    }
}

/// Attempt numbers: k-th request (by arrival) of one event at one URL.
fn attempts(parsed: &[Parsed]) -> Vec<usize> {
    let mut seen: HashMap<(&str, &str), usize> = HashMap::new();
    parsed
        .iter()
        .map(|p| {
            let n = seen.entry((p.url, p.id.as_str())).or_insert(0);
            *n += 1;
            *n
        })
        .collect()
}

/// The placeholders of a capture, as [`normalize`] assigns them.
pub fn names(j: &Journal) -> Names {
    let parsed = parse(j);
    names_of(&parsed, &attempts(&parsed))
}

fn names_of(parsed: &[Parsed], attempt: &[usize]) -> Names {
    #[derive(Default)]
    struct Ev<'a> {
        ty: Option<&'a str>,
        shapes: BTreeSet<&'a str>,
        kinds: BTreeSet<&'static str>,
        delivery: Vec<String>,
        first: u64,
        members: Vec<usize>,
    }
    let mut events: HashMap<&str, Ev> = HashMap::new();
    for (i, p) in parsed.iter().enumerate() {
        let e = events.entry(p.id.as_str()).or_insert_with(|| Ev {
            first: p.req.seq,
            ..Ev::default()
        });
        if e.ty.is_none() {
            e.ty = event_type(p.value.as_ref(), p.kind);
        }
        e.shapes.insert(&p.generic);
        e.kinds.insert(p.kind);
        e.delivery.push(format!(
            "{}|{}|{}|{:?}|{}",
            p.url,
            attempt[i],
            p.req.method,
            p.req.response.status,
            Value::Object(headers(&p.req.headers))
        ));
        e.members.push(i);
    }
    let mut list: Vec<(&str, Ev)> = events.into_iter().collect();
    for (_, e) in &mut list {
        e.delivery.sort();
    }
    list.sort_by(|(_, a), (_, b)| {
        (a.ty.is_none(), a.ty, &a.shapes, &a.kinds, &a.delivery, a.first).cmp(&(
            b.ty.is_none(),
            b.ty,
            &b.shapes,
            &b.kinds,
            &b.delivery,
            b.first,
        ))
    });
    let mut names = Names::default();
    for (n, (id, e)) in list.iter().enumerate() {
        names.events.insert(id.to_string(), format!("<event-{}>", n + 1));
        for &i in &e.members {
            let mut found = Vec::new();
            if let Some(v) = &parsed[i].value {
                session_ids(v, &mut found);
            }
            for s in found {
                let next = names.sessions.len() + 1;
                names
                    .sessions
                    .entry(s.to_string())
                    .or_insert_with(|| format!("<session-{next}>"));
            }
        }
    }
    names
}

fn session_ids<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                match x.as_str() {
                    Some(s) if k == "SessionId" && is_guid(s) => out.push(s),
                    _ => session_ids(x, out),
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|x| session_ids(x, out)),
        _ => {}
    }
}

/// The capture in canonical, redacted form (see the module documentation).
pub fn normalize(j: &Journal) -> Value {
    let parsed = parse(j);
    let attempt = attempts(&parsed);
    let names = names_of(&parsed, &attempt);
    let number = |id: &str| -> usize {
        names.events[id]
            .trim_start_matches("<event-")
            .trim_end_matches('>')
            .parse()
            .unwrap_or(usize::MAX)
    };
    let mut order: Vec<usize> = (0..parsed.len()).collect();
    order.sort_by_key(|&i| (parsed[i].url, number(&parsed[i].id), attempt[i]));
    let requests: Vec<Value> = order
        .into_iter()
        .map(|i| {
            let p = &parsed[i];
            json!({
                "url": p.url,
                "event": names.events[&p.id],
                "attempt": attempt[i],
                "kind": p.kind,
                "method": p.req.method,
                "headers": headers(&p.req.headers),
                "status": p.req.response.status,
                "body": shape(p.req, p.value.as_ref(), p.kind, &names),
            })
        })
        .collect();
    let urls: Vec<Value> = j
        .meta
        .urls
        .iter()
        .map(|u| json!({"name": u.name, "fault": u.fault.to_string()}))
        .collect();
    json!({
        "format": FORMAT,
        "urls": urls,
        "requests": requests,
    })
}

/// Headers with names lowercased and run-dependent values redacted.
fn headers(hs: &[(String, String)]) -> Map<String, Value> {
    let mut out = Map::new();
    for (name, value) in hs {
        let name = name.to_ascii_lowercase();
        let value = match name.as_str() {
            "host" => "<host>".to_string(),
            "content-length" => "<len>".to_string(),
            "user-agent" if crate::body::is_recorder_agent(value) => "BililiveRecorder/<version>".to_string(),
            _ => value.clone(),
        };
        match out.get_mut(&name) {
            None => {
                out.insert(name, Value::String(value));
            }
            Some(Value::Array(a)) => a.push(Value::String(value)),
            Some(first) => *first = json!([first.take(), value]),
        }
    }
    out
}

fn shape(req: &Request, value: Option<&Value>, kind: &str, names: &Names) -> Value {
    if let Some(e) = &req.body_error {
        return Value::String(format!("<not read: {e}>"));
    }
    match value {
        Some(v) => tree(v, kind == "v2", None, names),
        None => Value::String(format!("<not json: {} bytes>", req.body.len())),
    }
}

fn tree(v: &Value, root_v2: bool, key: Option<&str>, names: &Names) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, x)| {
                    let s = match (k.as_str(), x) {
                        ("EventType", Value::String(t)) if root_v2 => Value::String(t.clone()),
                        _ => tree(x, false, Some(k), names),
                    };
                    (k.clone(), s)
                })
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(|x| tree(x, false, None, names)).collect()),
        Value::String(s) => {
            let placeholder = match key {
                Some("EventId" | "EventRandomId") if is_guid(s) => names.events.get(s.as_str()),
                Some("SessionId") if is_guid(s) => names.sessions.get(s.as_str()),
                _ => None,
            };
            Value::String(match placeholder {
                Some(p) => p.clone(),
                None => form(s).to_string(),
            })
        }
        Value::Number(n) if n.is_i64() || n.is_u64() => "<integer>".into(),
        Value::Number(_) => "<number>".into(),
        Value::Bool(_) => "<bool>".into(),
        Value::Null => "<null>".into(),
    }
}

/// The form of a string leaf.
fn form(s: &str) -> &'static str {
    if is_guid(s) {
        return "<guid>";
    }
    match date_time_at(s.as_bytes(), 0) {
        Some((n, true)) if n == s.len() => "<date-time+offset>",
        Some((n, false)) if n == s.len() => "<date-time>",
        _ => "<string>",
    }
}

/// `8-4-4-4-12` hex digits, either case.
pub fn is_guid(s: &str) -> bool {
    guid_bytes(s.as_bytes())
}

fn guid_bytes(b: &[u8]) -> bool {
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// An ISO 8601 date-time starting at `i`: `YYYY-MM-DDTHH:MM:SS[.fff][Z|±HH:MM]`.
/// Returns its length in bytes and whether it has an offset.
fn date_time_at(b: &[u8], i: usize) -> Option<(usize, bool)> {
    let digits =
        |from: usize, n: usize| from + n <= b.len() && b[from..from + n].iter().all(u8::is_ascii_digit);
    let at = |k: usize, c: u8| b.get(k) == Some(&c);
    let ok = digits(i, 4)
        && at(i + 4, b'-')
        && digits(i + 5, 2)
        && at(i + 7, b'-')
        && digits(i + 8, 2)
        && at(i + 10, b'T')
        && digits(i + 11, 2)
        && at(i + 13, b':')
        && digits(i + 14, 2)
        && at(i + 16, b':')
        && digits(i + 17, 2);
    if !ok {
        return None;
    }
    let mut k = i + 19;
    if at(k, b'.') && digits(k + 1, 1) {
        k += 1;
        while b.get(k).is_some_and(u8::is_ascii_digit) {
            k += 1;
        }
    }
    if at(k, b'Z') {
        return Some((k + 1 - i, true));
    }
    if (at(k, b'+') || at(k, b'-')) && digits(k + 1, 2) && at(k + 3, b':') && digits(k + 4, 2) {
        return Some((k + 6 - i, true));
    }
    Some((k - i, false))
}

/// One difference in shape between a baseline and a current capture.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Drift {
    /// `field-added`, `field-removed`, `type-changed`, `event-type-new`,
    /// `event-type-gone`, `header-changed`, `header-added` or `header-removed`.
    pub kind: &'static str,
    /// Where: `v2 FileClosed /EventData/RoomId`, `v1 record /FileSize`, `v2 FileClosed`
    /// (a whole event type), or `url plain: user-agent` (a header at one URL name).
    pub path: String,
    /// The baseline's form(s) or value(s), `|`-joined.
    pub was: Option<String>,
    /// The current form(s) or value(s), `|`-joined.
    pub now: Option<String>,
}

impl fmt::Display for Drift {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:<15} {}", self.kind, self.path)?;
        match (&self.was, &self.now) {
            (Some(w), Some(n)) => write!(f, ": was {w}, now {n}"),
            (Some(w), None) => write!(f, ": was {w}"),
            (None, Some(n)) => write!(f, ": now {n}"),
            (None, None) => Ok(()),
        }
    }
}

/// Path → forms seen there, per event group (`v2 FileClosed`, `v1 record`, `other`).
type Shapes = BTreeMap<String, BTreeMap<String, BTreeSet<String>>>;
/// URL name → header name → values seen.
type Headers = BTreeMap<String, BTreeMap<String, BTreeSet<String>>>;

fn collect(v: &Value) -> (Shapes, Headers) {
    let mut shapes = Shapes::new();
    let mut headers = Headers::new();
    for r in v["requests"].as_array().into_iter().flatten() {
        let kind = r["kind"].as_str().unwrap_or("other");
        let body = &r["body"];
        let group = match kind {
            "v2" => match body.get("EventType").and_then(Value::as_str) {
                Some(t) if !t.starts_with('<') => format!("v2 {t}"),
                _ => "v2 (no string EventType)".to_string(),
            },
            "v1" => "v1 record".to_string(),
            k => k.to_string(),
        };
        flatten(body, String::new(), shapes.entry(group).or_default());
        let url = r["url"].as_str().unwrap_or("?").to_string();
        let at = headers.entry(url).or_default();
        for (name, value) in r["headers"].as_object().into_iter().flatten() {
            let set = at.entry(name.clone()).or_default();
            match value {
                Value::Array(a) => set.extend(a.iter().map(text)),
                v => {
                    set.insert(text(v));
                }
            }
        }
    }
    (shapes, headers)
}

fn text(v: &Value) -> String {
    v.as_str().map_or_else(|| v.to_string(), str::to_string)
}

fn flatten(v: &Value, path: String, out: &mut BTreeMap<String, BTreeSet<String>>) {
    match v {
        Value::Object(m) => {
            out.entry(path.clone()).or_default().insert("<object>".into());
            for (k, x) in m {
                let k = k.replace('~', "~0").replace('/', "~1");
                flatten(x, format!("{path}/{k}"), out);
            }
        }
        Value::Array(a) => {
            out.entry(path.clone()).or_default().insert("<array>".into());
            for x in a {
                flatten(x, format!("{path}/*"), out);
            }
        }
        Value::String(s) => {
            out.entry(path).or_default().insert(generic(s));
        }
        other => {
            out.entry(path).or_default().insert(other.to_string());
        }
    }
}

/// Forms that differ between runs without being drift, made equal.
fn generic(s: &str) -> String {
    if s.starts_with("<event-") {
        "<event-id>".into()
    } else if s.starts_with("<session-") {
        "<session-id>".into()
    } else if s.starts_with("<not json:") {
        "<not json>".into()
    } else if s.starts_with("<not read:") {
        "<not read>".into()
    } else {
        s.to_string()
    }
}

fn join(set: &BTreeSet<String>) -> String {
    set.iter().cloned().collect::<Vec<_>>().join(" | ")
}

/// Drift from `baseline` to `current`, both [`normalize`]d: event types new or gone,
/// fields added, removed or of another form within an event type, headers added,
/// removed or changed at a URL name. Empty when the shapes agree.
pub fn diff(baseline: &Value, current: &Value) -> Vec<Drift> {
    let (bs, bh) = collect(baseline);
    let (cs, ch) = collect(current);
    let mut out = Vec::new();
    let drift = |kind, path: String, was: Option<String>, now: Option<String>| Drift { kind, path, was, now };
    let groups: BTreeSet<&String> = bs.keys().chain(cs.keys()).collect();
    for g in groups {
        let (b, c) = match (bs.get(g), cs.get(g)) {
            (Some(b), Some(c)) => (b, c),
            (Some(_), None) => {
                out.push(drift("event-type-gone", g.clone(), None, None));
                continue;
            }
            (None, _) => {
                out.push(drift("event-type-new", g.clone(), None, None));
                continue;
            }
        };
        let paths: BTreeSet<&String> = b.keys().chain(c.keys()).collect();
        let mut reported: Vec<&str> = Vec::new();
        for p in paths {
            if reported
                .iter()
                .any(|r| p.strip_prefix(r).is_some_and(|rest| rest.starts_with('/')))
            {
                continue;
            }
            let at = format!("{g} {}", if p.is_empty() { "/" } else { p });
            let d = match (b.get(p), c.get(p)) {
                (Some(w), None) => drift("field-removed", at, Some(join(w)), None),
                (None, Some(n)) => drift("field-added", at, None, Some(join(n))),
                (Some(w), Some(n)) if w != n => drift("type-changed", at, Some(join(w)), Some(join(n))),
                _ => continue,
            };
            out.push(d);
            reported.push(p);
        }
    }
    let empty = BTreeMap::new();
    let urls: BTreeSet<&String> = bh.keys().chain(ch.keys()).collect();
    for u in urls {
        let (b, c) = (bh.get(u).unwrap_or(&empty), ch.get(u).unwrap_or(&empty));
        let names: BTreeSet<&String> = b.keys().chain(c.keys()).collect();
        for n in names {
            let at = format!("url {u}: {n}");
            match (b.get(n), c.get(n)) {
                (Some(w), None) => out.push(drift("header-removed", at, Some(join(w)), None)),
                (None, Some(v)) => out.push(drift("header-added", at, None, Some(join(v)))),
                (Some(w), Some(v)) if w != v => {
                    out.push(drift("header-changed", at, Some(join(w)), Some(join(v))))
                }
                _ => {}
            }
        }
    }
    out
}

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
        let n = e
            .as_deref()
            .and_then(|e| e.strip_prefix("<event-"))
            .and_then(|e| e.strip_suffix('>'))
            .and_then(|e| e.parse().ok())
            .unwrap_or(usize::MAX);
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
    fn forms() {
        assert_eq!(form("e3e1c9ec-f386-4bc3-9e5a-661bf3ed2fb2"), "<guid>");
        assert_eq!(form("2021-05-14T17:52:44.4182643+08:00"), "<date-time+offset>");
        assert_eq!(form("2021-05-14T17:52:44Z"), "<date-time+offset>");
        assert_eq!(form("2021-05-14T17:52:44.123"), "<date-time>");
        assert_eq!(form("2021-05-14T17:52:44+08:00 later"), "<string>");
        assert_eq!(form("录制"), "<string>");
    }

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

    #[test]
    fn drift_display() {
        let d = Drift {
            kind: "type-changed",
            path: "v2 FileClosed /EventData/RoomId".into(),
            was: Some("<integer>".into()),
            now: Some("<string>".into()),
        };
        assert_eq!(
            d.to_string(),
            "type-changed    v2 FileClosed /EventData/RoomId: was <integer>, now <string>"
        );
    }
}
