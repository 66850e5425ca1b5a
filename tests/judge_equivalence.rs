//! The incremental judge (`brhook::testkit::judge::Judge`: push each request, in any order, then
//! finish) against the batch judge it replaced (`old_judge`, a copy of the old code):
//! over random captures, the new judge fed the requests in a random order and the old
//! one reading them in arrival order (as it read a journal file) give the same verdict,
//! the same status for every check (passed, failed, warned, skipped), and the same number
//! of findings per (check, level) at fail and warn. Info findings are compared as present
//! or absent only: the new judge counts one C2 "session still open" per session where
//! the old merged them into one finding.
//!
//! Captures are built directly as journals (no network): a random valid stream from
//! `brhook::testkit::gen::any_stream`, cut to a few events and delivered to random URLs with
//! random faults the way the reference sender would, then mutated: retries that change
//! the body or headers, give up, go on after a 2xx or come too soon; ids shared by
//! different events; changed or dropped events (FileOpening, SessionStarted, ...);
//! broken bodies; v1 records; URLs skipped, fanned out one after another or with other
//! bytes; stray requests and unreadable (`body_error`) ones; odd headers; strict or not.
//! Half the captures have whole-millisecond times, so that times tie.
//!
//! The differences the property found are at the end of the file, each fixed in the
//! incremental judge and kept as a regression test.

mod common;
mod old_judge;

use brhook::testkit::catalog::{Check, Level};
use brhook::testkit::fault::{Answer, Fault};
use brhook::testkit::gen::{self, Stream};
use brhook::testkit::journal::{Journal, Request, UrlSpec};
use brhook::testkit::judge::{self, Options};
use brhook::testkit::reference::Step;
use brhook::testkit::report::{Report, Status};
use common::journal::UA;
use common::mix::Mix;
use old_judge::Outcome;
use proptest::prelude::*;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

// ---------------------------------------------------------------------------------------
// Random choices
// ---------------------------------------------------------------------------------------

// ---------------------------------------------------------------------------------------
// Events: the stream's steps, changed
// ---------------------------------------------------------------------------------------

/// One event to deliver: its value and the bytes that go on the wire.
#[derive(Clone, Debug)]
struct Event {
    v1: bool,
    value: Value,
    /// Set when the bytes were broken after serialising (they no longer follow `value`).
    bytes: Option<Vec<u8>>,
}

impl Event {
    fn bytes(&self) -> Vec<u8> {
        self.bytes.clone().unwrap_or_else(|| gen::serialize(&self.value))
    }
    fn data(&mut self) -> &mut Value {
        if self.v1 {
            &mut self.value
        } else {
            &mut self.value["EventData"]
        }
    }
    fn id_key(&self) -> &'static str {
        if self.v1 {
            "EventRandomId"
        } else {
            "EventId"
        }
    }
    fn is(&self, t: &str) -> bool {
        self.value["EventType"].as_str() == Some(t)
    }
}

fn fresh_id(rng: &mut Mix) -> String {
    let bits = (u128::from(rng.next()) << 64) | u128::from(rng.next());
    uuid::Uuid::from_u128(bits).hyphenated().to_string()
}

/// `rate` rounds of random changes to the events (0: the stream as generated).
fn change_events(events: &mut Vec<Event>, rng: &mut Mix, rate: u32) {
    let rounds = rng.below(rate as usize * 2 + 1);
    for _ in 0..rounds {
        if events.is_empty() {
            return;
        }
        let i = rng.below(events.len());
        match rng.below(16) {
            // Missing FileOpening, SessionStarted, SessionEnded, ... (C2, C3).
            0 | 1 => {
                events.remove(i);
            }
            // Prefer dropping a FileOpening: its FileClosed stays (C3).
            2 => {
                if let Some(k) = events.iter().position(|e| e.is("FileOpening")) {
                    events.remove(k);
                }
            }
            // The same event again under a fresh id (a second SessionStarted: C1).
            3 => {
                let mut again = events[i].clone();
                let key = again.id_key();
                again.value[key] = fresh_id(rng).into();
                again.bytes = None;
                events.insert(i + 1, again);
            }
            // Another event takes this one's id (D5).
            4 | 5 => {
                let j = rng.below(events.len());
                let key = events[j].id_key();
                let id = events[i].value.get(events[i].id_key()).cloned();
                if let Some(id) = id {
                    events[j].value[key] = id;
                    events[j].bytes = None;
                }
            }
            // Another room inside the session (C5), or a v1 record that disagrees (C6).
            6 => {
                let d = events[i].data();
                if let Some(n) = d["RoomId"].as_i64() {
                    d["RoomId"] = (n + 1).into();
                }
            }
            // Negative Duration or FileSize (C4, and C6 for a pair).
            7 => {
                let field = rng.pick(&["Duration", "FileSize"]);
                let d = events[i].data();
                if d.get(field).is_some() {
                    d[field] = (-1).into();
                }
            }
            // Open and close times swapped (C4; the file no longer pairs: C3).
            8 => {
                let d = events[i].data();
                if let (Some(o), Some(c)) = (d.get("FileOpenTime").cloned(), d.get("FileCloseTime").cloned())
                {
                    d["FileOpenTime"] = c;
                    d["FileCloseTime"] = o;
                }
            }
            // RelativePath not relative (C7).
            9 => {
                let prefix = rng.pick(&["/rec/", "C:\\rec\\", "../"]);
                let d = events[i].data();
                if let Some(p) = d["RelativePath"].as_str() {
                    d["RelativePath"] = format!("{prefix}{p}").into();
                }
            }
            // Streaming flag wrong (C8).
            10 => {
                let want = events[i].is("StreamStarted");
                if want || events[i].is("StreamEnded") {
                    events[i].data()["Streaming"] = (!want).into();
                }
            }
            // Another session (C2) or another session's id (C1, C5).
            11 => {
                let sid = if rng.chance(50) {
                    fresh_id(rng).into()
                } else {
                    let j = rng.below(events.len());
                    events[j].value["EventData"]["SessionId"].clone()
                };
                if !events[i].v1 && events[i].value["EventData"].get("SessionId").is_some() && !sid.is_null()
                {
                    events[i].value["EventData"]["SessionId"] = sid;
                }
            }
            // v1 FileSize off by one (C6).
            12 => {
                if let Some(k) = events.iter().position(|e| e.v1) {
                    let n = events[k].value["FileSize"].as_i64().unwrap_or(0);
                    events[k].value["FileSize"] = n.checked_add(1).unwrap_or(n - 1).into();
                }
            }
            // A single-field schema mutation (S1, S2, S5).
            13 => {
                if let Some(m) = gen::mutate(events[i].value.clone(), rng.below(1000)) {
                    events[i].bytes = Some(m.bytes);
                }
            }
            // Broken bytes (T4, S1, S6): BOM, trailing data, cut off, not an object,
            // neither shape, pretty-printed.
            14 => {
                let good = gen::serialize(&events[i].value);
                let bad = match rng.below(6) {
                    0 => [b"\xEF\xBB\xBF".as_slice(), &good].concat(),
                    1 => [good.as_slice(), b" x"].concat(),
                    2 => good[..good.len() / 2].to_vec(),
                    3 => b"[1,2]".to_vec(),
                    4 => br#"{"Hello":"world"}"#.to_vec(),
                    _ => serde_json::to_vec_pretty(&events[i].value).expect("serialises"),
                };
                events[i].bytes = Some(bad);
            }
            // An unknown EventType (S3), or a field beyond the schema (S4).
            _ => {
                if rng.chance(50) {
                    events[i].data()["Comment"] = "not in the schema".into();
                } else if !events[i].v1 {
                    events[i].value["EventType"] = gen::UNKNOWN_EVENT_TYPE.into();
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Deliveries: the events as requests to URLs
// ---------------------------------------------------------------------------------------

struct Capture<'r> {
    rng: &'r mut Mix,
    /// Sub-millisecond times (real captures) rather than whole milliseconds (ties).
    fine: bool,
    requests: Vec<Request>,
}

impl Capture<'_> {
    /// A time, whole or with a fraction.
    fn time(&mut self, ms: f64) -> f64 {
        if self.fine {
            ms + self.rng.below(1_000_000) as f64 / 1_000_000.0
        } else {
            ms
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn push(
        &mut self,
        url: Option<&str>,
        at: f64,
        method: &str,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
        body_error: Option<String>,
        status: Option<u16>,
        answered: f64,
    ) {
        // seq and conn are numbered once the capture is sorted.
        self.requests.push(Request {
            seq: 0,
            conn: 0,
            method: method.into(),
            headers,
            body_error,
            ..common::journal::post(0, url, at, body, status, answered)
        });
    }
}

fn headers(body: &[u8], content_type: &str, ua: Option<&str>, length: bool) -> Vec<(String, String)> {
    let mut h = vec![("content-type".to_string(), content_type.to_string())];
    if let Some(ua) = ua {
        h.push(("user-agent".into(), ua.into()));
    }
    if length {
        h.push(("content-length".into(), body.len().to_string()));
    } else {
        h.push(("transfer-encoding".into(), "chunked".into()));
    }
    h
}

/// How one event is delivered to one URL.
#[derive(Clone, Copy, Debug)]
struct Plan {
    /// Attempts after which the sender stops even though the last failed (faithful: 3).
    give_up: usize,
    /// Attempts the sender makes at most while failing (faithful: 3).
    most: usize,
    /// Another attempt after a 2xx.
    after_success: bool,
    /// Back-off in ms before attempts 2, 3, 4, 5 (faithful: 1000, 2000).
    gaps: [f64; 4],
    /// Retries carry other bytes of the same event (pretty-printed: D3).
    retry_rewritten: bool,
    /// Retries carry another event under the same id (D5).
    retry_other_event: bool,
    /// Retries carry another User-Agent / Content-Type (D3).
    retry_headers: bool,
}

fn plan(rng: &mut Mix, rate: u32) -> Plan {
    let p = rate * 6;
    let mut gaps = [1000.0, 2000.0, 2000.0, 2000.0];
    if rng.chance(p) {
        for g in &mut gaps {
            *g = rng.pick(&[0.0, 1.0, 40.0, 99.0, 100.0, 150.0, 1000.0]);
        }
    }
    Plan {
        give_up: if rng.chance(p) { rng.pick(&[1, 2]) } else { 3 },
        most: if rng.chance(p) { rng.pick(&[4, 5]) } else { 3 },
        after_success: rng.chance(p),
        gaps,
        retry_rewritten: rng.chance(p),
        retry_other_event: rng.chance(p / 2),
        retry_headers: rng.chance(p / 2),
    }
}

/// The attempts of one event at one URL, from `start`; returns the first answer's time.
#[allow(clippy::too_many_arguments)]
fn deliver(
    cap: &mut Capture,
    url: &str,
    fault: &Fault,
    event: &Event,
    bytes: &[u8],
    plan: Plan,
    start: f64,
    first_headers: &(String, String, Option<String>, bool),
) -> f64 {
    // Attempts the sender makes while they fail.
    let limit = if plan.give_up < 3 { plan.give_up } else { plan.most };
    let mut t = start;
    let mut first_answer = None;
    let mut extra_done = false;
    for attempt in 1..=6usize {
        let mut body = bytes.to_vec();
        let (mut method, mut ct, mut ua, length) = first_headers.clone();
        if attempt > 1 {
            if plan.retry_rewritten {
                body = serde_json::to_vec_pretty(&event.value).expect("serialises");
            }
            if plan.retry_other_event {
                let mut other = event.clone();
                other.data()["Title"] = format!("retry {attempt}").into();
                body = gen::serialize(&other.value);
            }
            if plan.retry_headers {
                if cap.rng.chance(50) {
                    ua = Some("BililiveRecorder/2.17.4".into());
                } else {
                    ct = "application/json; charset=utf-8".into();
                }
                if cap.rng.chance(10) {
                    method = "PUT".into();
                }
            }
        }
        let held = fault.delay_ms as f64 + cap.rng.below(4) as f64;
        let at = cap.time(t);
        let answered = cap.time(at.floor() + held).max(at);
        let status = match fault.answer(attempt as u32) {
            Answer::Status(s) => Some(s),
            Answer::Reset => None,
        };
        let h = headers(&body, &ct, ua.as_deref(), length);
        cap.push(Some(url), at, &method, h, body, None, status, answered);
        first_answer.get_or_insert(answered);
        let more = if status.is_some_and(|s| (200..300).contains(&s)) {
            let again = plan.after_success && !extra_done;
            extra_done = true;
            again
        } else {
            attempt < limit
        };
        if !more {
            break;
        }
        t = answered.floor() + plan.gaps[(attempt - 1).min(3)];
    }
    first_answer.unwrap_or(start)
}

/// A random capture of `stream` at the URLs of `faults` (and a v1 URL when it has v1
/// records), changed at `rate` (0: the faithful sender, no changes).
fn capture(stream: &Stream, faults: &[(String, String)], seed: u64, rate: u32) -> (Journal, Options) {
    let rng = &mut Mix(seed);
    // A few events: a window of the stream (a capture that began or closed mid-stream).
    let steps = &stream.steps;
    let len = 1 + rng.below(steps.len().min(10));
    let from = if rng.chance(30) {
        rng.below(steps.len() - len + 1)
    } else {
        0
    };
    let mut events: Vec<Event> = steps[from..from + len]
        .iter()
        .map(|s| Event {
            v1: matches!(s, Step::V1(_)),
            value: s.value().clone(),
            bytes: None,
        })
        .collect();
    change_events(&mut events, rng, rate);
    let p = rate * 8;
    // The URLs: the v2 plan, a v1 URL, sometimes one that nobody posts to (F1).
    let mut urls: Vec<UrlSpec> = faults.iter().map(|(n, f)| common::journal::url(n, f)).collect();
    let v2_urls: Vec<String> = urls.iter().map(|u| u.name.clone()).collect();
    let mut v1_urls = Vec::new();
    if events.iter().any(|e| e.v1) {
        let fault = if rng.chance(p) {
            rng.pick(&gen::STREAM_FAULTS)
        } else {
            "ok"
        };
        urls.push(common::journal::url("v1", fault));
        v1_urls.push("v1".to_string());
        // v1 records sent to a v2 URL as well (F1: both kinds at one URL).
        if rng.chance(p / 2) {
            v1_urls.push(v2_urls[0].clone());
        }
    }
    if rng.chance(p / 2) {
        urls.push(common::journal::url("idle", "ok"));
    }
    let fault_of = |name: &str| urls.iter().find(|u| u.name == name).expect("a URL").fault.clone();
    let mut cap = Capture {
        fine: rng.chance(50),
        rng,
        requests: Vec::new(),
    };
    let pace = cap.rng.pick(&[0.0, 1.0, 5.0, 30.0, 250.0, 3000.0]);
    for (i, event) in events.iter().enumerate() {
        let bytes = event.bytes();
        let targets = if event.v1 { &v1_urls } else { &v2_urls };
        // Per event: a URL skipped (F1), URLs one after another (F3), other bytes at
        // one URL (F2), odd headers (T1–T3, T5).
        let skip = cap.rng.chance(p / 2).then(|| cap.rng.below(targets.len()));
        let sequential = cap.rng.chance(p);
        let other_bytes = cap.rng.chance(p / 2).then(|| cap.rng.below(targets.len()));
        let first_headers = if cap.rng.chance(p / 2) {
            match cap.rng.below(5) {
                0 => (
                    "GET".to_string(),
                    "application/json".to_string(),
                    Some(UA.to_string()),
                    true,
                ),
                1 => ("POST".into(), "text/plain".into(), Some(UA.into()), true),
                2 => ("POST".into(), "application/json".into(), None, true),
                3 => (
                    "POST".into(),
                    "application/json".into(),
                    Some("curl/8.0".into()),
                    true,
                ),
                _ => ("POST".into(), "application/json".into(), Some(UA.into()), false),
            }
        } else {
            ("POST".into(), "application/json".into(), Some(UA.into()), true)
        };
        let mut start = i as f64 * pace + cap.rng.below(3) as f64;
        for (k, url) in targets.iter().enumerate() {
            if skip == Some(k) {
                continue;
            }
            let plan = plan(cap.rng, rate);
            let b = if other_bytes == Some(k) {
                serde_json::to_vec_pretty(&event.value).expect("serialises")
            } else {
                bytes.clone()
            };
            let fault = fault_of(url);
            let answered = deliver(&mut cap, url, &fault, event, &b, plan, start, &first_headers);
            if sequential {
                start = answered.floor() + 1.0;
            }
        }
    }
    // Stray requests (unknown path) and bodies that could not be read whole.
    let end = cap.requests.iter().map(|r| r.response.at_ms).fold(0.0, f64::max);
    let stray = if cap.rng.chance(p) {
        1 + cap.rng.below(3)
    } else {
        0
    };
    for _ in 0..stray {
        let ms = cap.rng.below(end as usize + 1) as f64;
        let at = cap.time(ms);
        let body = br#"{"EventType":"SessionStarted"}"#.to_vec();
        let h = headers(&body, "application/json", Some(UA), true);
        cap.push(None, at, "POST", h, body, None, Some(404), at);
    }
    let unread = if cap.rng.chance(p) {
        1 + cap.rng.below(3)
    } else {
        0
    };
    for _ in 0..unread {
        let url = urls[cap.rng.below(urls.len())].name.clone();
        let ms = cap.rng.below(end as usize + 1) as f64;
        let at = cap.time(ms);
        let err = cap
            .rng
            .pick(&["body larger than 16777216 bytes", "connection closed mid-body"]);
        let h = headers(b"", "application/json", Some(UA), true);
        cap.push(
            Some(&url),
            at,
            "POST",
            h,
            Vec::new(),
            Some(err.into()),
            Some(413),
            at + 1.0,
        );
    }
    let fine = cap.fine;
    let strict = cap.rng.chance(25);
    let closed = !cap.rng.chance(15);
    let mut requests = cap.requests;
    // Arrival order gives the sequence numbers.
    requests.sort_by(|a, b| a.at_ms.total_cmp(&b.at_ms));
    for (i, r) in requests.iter_mut().enumerate() {
        r.seq = i as u64 + 1;
        r.conn = i as u64 + 1;
    }
    let last = requests.iter().map(|r| r.response.at_ms).fold(0.0, f64::max);
    let mut journal = Journal::new(urls, String::new());
    journal.meta.started = "2024-01-01T00:00:00+08:00".into();
    journal.requests = requests;
    journal.quiet_ms = Some(5000.0);
    journal.closed_ms = closed.then_some(last + if fine { 5000.25 } else { 5000.0 });
    let opts = Options {
        strict,
        ..Options::default()
    };
    (journal, opts)
}

/// The requests in another order (sequence numbers stay with their requests).
fn shuffled(j: &Journal, seed: u64) -> Journal {
    let mut j = j.clone();
    Mix(seed).shuffle(&mut j.requests);
    j
}

// ---------------------------------------------------------------------------------------
// Comparison
// ---------------------------------------------------------------------------------------

fn class(s: Status) -> old_judge::Status {
    match s {
        Status::Passed => old_judge::Status::Passed,
        Status::Failed => old_judge::Status::Failed,
        Status::Warned => old_judge::Status::Warned,
        Status::Skipped | Status::NotImplemented => old_judge::Status::Skipped,
    }
}

/// Occurrences per (check, level) in the new report.
fn new_counts(r: &Report) -> BTreeMap<(Check, Level), u64> {
    let mut out = BTreeMap::new();
    for g in &r.groups {
        *out.entry((g.check, g.level)).or_default() += g.count;
    }
    out
}

/// How the two judgements differ, one line per difference (none: equivalent).
fn differences(old: &Outcome, new: &Report) -> Vec<String> {
    let mut out = Vec::new();
    if old.passed != new.passed() {
        out.push(format!(
            "verdict: old passed {}, new {}",
            old.passed,
            new.verdict.as_str()
        ));
    }
    for c in &new.checks {
        let (o, n) = (old.status[&c.id], class(c.status));
        if o != n {
            out.push(format!("{} status: old {o:?}, new {n:?}", c.id));
        }
    }
    let newc = new_counts(new);
    let keys: BTreeSet<(Check, Level)> = old.counts.keys().chain(newc.keys()).copied().collect();
    for (check, level) in keys {
        let o = old.counts.get(&(check, level)).copied().unwrap_or(0) as u64;
        let n = newc.get(&(check, level)).copied().unwrap_or(0);
        let same = match level {
            Level::Info => (o > 0) == (n > 0),
            _ => o == n,
        };
        if !same {
            out.push(format!("{check} at {level}: old {o}, new {n}"));
        }
    }
    out
}

/// The requests in arrival order, as the old judge read a journal file.
fn in_arrival_order(j: &Journal) -> Journal {
    let mut j = j.clone();
    j.requests.sort_by_key(|r| r.seq);
    j
}

/// The old judge on the capture in arrival order against the new one fed `j` as it is.
fn compare(j: &Journal, opts: &Options) -> Vec<String> {
    differences(
        &old_judge::judge(&in_arrival_order(j), opts),
        &judge::judge(j, opts),
    )
}

/// The journal as people read it: one line per request, bodies as text.
fn show(j: &Journal) -> String {
    let mut s = format!(
        "urls: {}\nclosed_ms: {:?}\n",
        j.meta
            .urls
            .iter()
            .map(|u| format!("{}={}", u.name, u.fault))
            .collect::<Vec<_>>()
            .join(" "),
        j.closed_ms
    );
    for r in &j.requests {
        s.push_str(&format!(
            "#{} {} {:?} at {} -> {:?} at {} {:?}{} {}\n",
            r.seq,
            r.method,
            r.url,
            r.at_ms,
            r.response.status,
            r.response.at_ms,
            r.headers,
            r.body_error
                .as_ref()
                .map(|e| format!(" body_error {e:?}"))
                .unwrap_or_default(),
            String::from_utf8_lossy(&r.body)
        ));
    }
    s
}

/// The smallest journal (requests dropped one at a time, then URLs nobody posts to)
/// on which the judges still differ as `still` says.
fn minimise(j: &Journal, opts: &Options, still: impl Fn(&[String]) -> bool) -> Journal {
    let mut j = j.clone();
    loop {
        let mut smaller = false;
        let mut i = 0;
        while i < j.requests.len() {
            let mut k = j.clone();
            k.requests.remove(i);
            if still(&compare(&k, opts)) {
                j = k;
                smaller = true;
            } else {
                i += 1;
            }
        }
        let used: BTreeSet<String> = j.requests.iter().filter_map(|r| r.url.clone()).collect();
        let mut u = 0;
        while u < j.meta.urls.len() {
            let mut k = j.clone();
            if used.contains(&k.meta.urls[u].name) {
                u += 1;
                continue;
            }
            k.meta.urls.remove(u);
            if still(&compare(&k, opts)) {
                j = k;
                smaller = true;
            } else {
                u += 1;
            }
        }
        if !smaller {
            return j;
        }
    }
}

/// What a difference is about: `"D3 at fail"`, `"C2 status"`, `"verdict"`.
fn about(d: &str) -> &str {
    d.split(':').next().unwrap_or(d)
}

fn equivalent(
    stream: &Stream,
    faults: &[(String, String)],
    seed: u64,
    rate: u32,
) -> Result<(), TestCaseError> {
    let (journal, opts) = capture(stream, faults, seed, rate);
    for k in 0..3u64 {
        let j = shuffled(&journal, seed ^ (k + 1).wrapping_mul(0x51_7cc1_b727_220a));
        let diffs = compare(&j, &opts);
        if diffs.is_empty() {
            continue;
        }
        // Would the old judge have said the same with the requests in this order?
        let old_here = old_judge::judge(&j, &opts);
        let old_there = old_judge::judge(&journal, &opts);
        let old_moved = old_here.passed != old_there.passed
            || old_here.status != old_there.status
            || old_here.counts != old_there.counts;
        let first = about(&diffs[0]).to_string();
        let small = minimise(&j, &opts, |d| d.iter().any(|x| about(x) == first));
        prop_assert!(
            false,
            "old and new judges differ (strict: {}; the old judge itself order-dependent here: {old_moved}):\n{}\n\
             minimal journal for {first:?} ({}):\n{}\nold findings: {:#?}\nnew report: {:#?}",
            opts.strict,
            diffs.join("\n"),
            compare(&small, &opts).join("; "),
            show(&small),
            old_judge::judge(&in_arrival_order(&small), &opts).findings,
            judge::judge(&small, &opts).groups,
        );
    }
    Ok(())
}

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        max_shrink_iters: 64,
        ..common::proptest_config(cases)
    }
}

proptest! {
    #![proptest_config(config(64))]

    #[test]
    fn incremental_judge_equals_batch_judge(
        stream in gen::any_stream(),
        faults in gen::any_fault_plan(),
        seed in any::<u64>(),
        rate in 0u32..=4,
    ) {
        equivalent(&stream, &faults, seed, rate)?;
    }
}

// ---------------------------------------------------------------------------------------
// Differences (fail / warn) the property above found, minimised. Each was fixed in the
// incremental judge (1: ties go to the smaller event id; 2: a finding whose text is read
// back later carries a hash of what that text depends on; 3: answer times are kept as
// f64) and is kept below as a regression test. Two more were display artefacts of the
// old judge (two different v1 records, or two different retry bodies, merged because
// their 80- or 30-character excerpts matched); its copy now tells them apart. Times are
// `at_ms -> answer at_ms`; every request is a POST with the real sender's headers.
//
// 1. Two events whose first arrivals tie on `at_ms`: which is the capture's first event
//    (C2 and C3 read "capture began mid-session" off its session). The old judge broke the
//    tie by event id (its `firsts` map is keyed by id, then sorted by time, stably), the
//    new one by sequence number. C2 warn and C3 fail turn into info, and the verdict
//    flips. Minimal journal (URL a = ok, capture closed at 5000):
//      #1 a 0 -> 204 at 1: FileClosed     EventId b0000000-…-01, SessionId 1111…, no FileOpening
//      #2 a 0 -> 204 at 1: SessionStarted EventId a0000000-…-02, SessionId 2222…
//    old: first event #2 (smaller id): session 1111… seen without SessionStarted (C2 warn)
//         and its FileClosed without FileOpening (C3 fail): verdict fail.
//    new: first event #1 (smaller seq): both are "capture began mid-session" (info): pass.
//    Only exact ties show it (integer-millisecond journals; never two requests of a live
//    capture, whose times have sub-microsecond parts).
//
// 2. Findings whose `found` the new judge fills in only for examples (`Detail`: D3, C3,
//    C5, C6) are told apart without it, so occurrences that differ only in what they
//    found are one occurrence now; the old judge, with `found` in the merge key, counted
//    them apart.
//    a. D3: a sender that re-stamps EventTimestamp on every retry (URL a = fail:2):
//         #1 a 0    -> 500 at 1:    SessionStarted, EventTimestamp …17:52:55+08:00
//         #2 a 1001 -> 500 at 1002: the same, EventTimestamp …17:52:56+08:00
//         #3 a 3002 -> 204 at 3003: the same, EventTimestamp …17:52:58+08:00
//       old: D3 fail 2 (attempts 2 and 3 differ from attempt 1 in different bytes);
//       new: D3 fail 1 (one per event and changed part: body, Content-Type, User-Agent).
//    b. C3: two FileClosed events sharing one EventId (also D5), neither opened:
//         #1 a 0  -> 204 at 1:  SessionStarted (session S)
//         #2 a 10 -> 204 at 11: FileClosed, session S, EventId X, file A
//         #3 a 20 -> 204 at 21: FileClosed, session S, EventId X, file B
//       old: C3 fail 2 ("A opened …", "B opened …"); new: C3 fail 1.
//    (C5, and C6 fail and warn, are built the same way; the property has not drawn them
//    with two occurrences under one id yet.)
//
// 3. Not drawn by the property (it needs two times equal to the nanosecond), found by
//    reading the code: the new judge keeps a request's answer time as `at` plus an `f32`
//    hold, so an answer and another request at the very same `at_ms` no longer compare
//    equal. F4 ("a failure at another URL caused an extra attempt") asks whether the
//    failure was answered at or before the extra attempt (URL a = status:500, b = ok):
//      #1 a 0.1    -> 500 at 1000.3
//      #2 b 0.1    -> 204 at 1.1
//      #3 b 1000.3 -> 204 at 1001.3   (an extra attempt after the 2xx of #2)
//    old: F4 fail (#1 answered at 1000.3 <= 1000.3); new: D4 fail (0.1 + f32(1000.2) =
//    1000.3000122 > 1000.3). D6 (gap < minimum) and F3 compare the same way.
// ---------------------------------------------------------------------------------------

fn guid(s: &str) -> uuid::Uuid {
    s.parse().expect("a GUID")
}

fn at(s: &str) -> gen::Time {
    gen::parse_time(s)
}

/// A request with the real sender's headers.
fn post(seq: u64, url: &str, at_ms: f64, body: Vec<u8>, status: u16, answered: f64) -> Request {
    common::journal::post(seq, Some(url), at_ms, body, Some(status), answered)
}

/// Equivalent in arrival order and reversed.
fn assert_equivalent(j: &Journal) {
    let opts = Options::default();
    let mut reversed = j.clone();
    reversed.requests.reverse();
    for j in [j, &reversed] {
        let d = compare(j, &opts);
        assert!(
            d.is_empty(),
            "old and new judges differ:\n{}\n{}",
            d.join("\n"),
            show(j)
        );
    }
}

/// Difference 1 (see above), fixed.
#[test]
fn regression_first_event_tie() {
    let (room, file) = (gen::Room::doc_example(), gen::File::doc_example());
    let ts = at("2021-05-14T17:52:55+08:00");
    let closed = gen::file_closed(
        &room,
        guid("11111111-1111-4111-8111-111111111111"),
        &file,
        ts,
        guid("b0000000-0000-4000-8000-000000000001"),
        true,
    );
    let started = gen::session_started(
        &room,
        guid("22222222-2222-4222-8222-222222222222"),
        ts,
        guid("a0000000-0000-4000-8000-000000000002"),
        true,
    );
    let j = common::journal::journal(
        &[("a", "ok")],
        vec![
            post(1, "a", 0.0, gen::serialize(&closed), 204, 1.0),
            post(2, "a", 0.0, gen::serialize(&started), 204, 1.0),
        ],
        5000.0,
    );
    assert_equivalent(&j);
}

/// Difference 2a (see above), fixed.
#[test]
fn regression_d3_restamped_retries() {
    let room = gen::Room::doc_example();
    let session = guid("33333333-3333-4333-8333-333333333333");
    let id = guid("c0000000-0000-4000-8000-000000000003");
    let attempt = |ts: &str| gen::serialize(&gen::session_started(&room, session, at(ts), id, true));
    let j = common::journal::journal(
        &[("a", "fail:2")],
        vec![
            post(1, "a", 0.0, attempt("2021-05-14T17:52:55+08:00"), 500, 1.0),
            post(2, "a", 1001.0, attempt("2021-05-14T17:52:56+08:00"), 500, 1002.0),
            post(3, "a", 3002.0, attempt("2021-05-14T17:52:58+08:00"), 204, 3003.0),
        ],
        8000.0,
    );
    assert_equivalent(&j);
}

/// Difference 2b (see above), fixed.
#[test]
fn regression_c3_shared_id() {
    let room = gen::Room::doc_example();
    let session = guid("44444444-4444-4444-8444-444444444444");
    let ts = at("2021-05-14T17:52:55+08:00");
    let started = gen::session_started(
        &room,
        session,
        ts,
        guid("d0000000-0000-4000-8000-000000000004"),
        true,
    );
    let x = guid("e0000000-0000-4000-8000-000000000005");
    let a = gen::File::doc_example();
    let b = gen::File {
        relative_path: "23058-3号直播间/another.flv".into(),
        ..gen::File::doc_example()
    };
    let j = common::journal::journal(
        &[("a", "ok")],
        vec![
            post(1, "a", 0.0, gen::serialize(&started), 204, 1.0),
            post(
                2,
                "a",
                10.0,
                gen::serialize(&gen::file_closed(&room, session, &a, ts, x, true)),
                204,
                11.0,
            ),
            post(
                3,
                "a",
                20.0,
                gen::serialize(&gen::file_closed(&room, session, &b, ts, x, true)),
                204,
                21.0,
            ),
        ],
        5000.0,
    );
    assert_equivalent(&j);
}

/// Difference 3 (see above), fixed.
#[test]
fn regression_f4_answer_time_precision() {
    let room = gen::Room::doc_example();
    let event = gen::session_started(
        &room,
        guid("55555555-5555-4555-8555-555555555555"),
        at("2021-05-14T17:52:55+08:00"),
        guid("f0000000-0000-4000-8000-000000000006"),
        true,
    );
    let body = gen::serialize(&event);
    let j = common::journal::journal(
        &[("a", "status:500"), ("b", "ok")],
        vec![
            post(1, "a", 0.1, body.clone(), 500, 1000.3),
            post(2, "b", 0.1, body.clone(), 204, 1.1),
            post(3, "b", 1000.3, body, 204, 1001.3),
        ],
        9000.0,
    );
    assert_equivalent(&j);
}
