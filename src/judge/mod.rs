//! The judges: requests in, one at a time, report out. Per request (T, S, and the
//! single-event C4, C7, C8) as each arrives; per event per URL (D), across URLs (F) and
//! over the stream (C) at [`Judge::finish`], from a fixed-size record per request.
//! Order-insensitive except where a check is about the sequence of one event's attempts
//! at one URL, which the records' arrival times give whatever order they were pushed in.
//!
//! The live endpoint and `brhook check` feed the same [`Judge`], so a journal judged
//! offline gets the report the live capture got. A replay's journal (its meta has
//! `replay`) and a `send` journal (its meta has `send`, each request its case) are
//! judged on the receiver side only: brhook was the sender.

pub(crate) mod answer;
mod delivery;
mod fanout;
pub(crate) mod latency;
mod lookup;
mod pipeline;
mod receiver;
mod record;
mod reopen;
mod replay;
mod send;
mod shadow;
mod stream;
mod timeline;

pub use crate::finding::Detail;
pub(crate) use answer::fmt_duration;
pub use answer::R2_FAIL_AFTER;
pub use latency::Latency;
pub use lookup::{JournalFile, Lookup};
pub use pipeline::judge_journal;
// `Pushed` names a body's class; callers match on it without reaching into the testkit.
pub use crate::body::Kind;

use crate::body;
use crate::catalog::{Check, Level};
use crate::common::plural_s;
use crate::common::Recent;
use crate::journal::UpstreamError;
use crate::journal::{Journal, Meta, Request, UrlSpec};
use crate::report::{Coverage, Finding, Findings, Report, Skip, Source};
use record::{Interner, Judged, Key, Leg, Rec};
use std::collections::HashMap;
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
    /// Examples kept per group of findings.
    pub examples: usize,
    /// Where a judge that runs as long as a capture keeps its scratch file (unlinked as
    /// soon as it is open); `None` for the system's temporary directory.
    pub scratch_dir: Option<std::path::PathBuf>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            strict: false,
            min_retry_gap: crate::protocol::MIN_RETRY_GAP,
            max_wait: Duration::from_secs(600),
            examples: crate::report::DEFAULT_EXAMPLES,
            scratch_dir: None,
        }
    }
}

/// Distinct bodies whose judgement is remembered (retries and fan-out copies hit).
const BODY_CACHE: usize = 2048;
/// (URL, event) pairs whose attempt count the live line shows.
const ATTEMPT_CACHE: usize = 16384;

/// Sees each request with what the judge made of it, in the order answers were
/// released (the live lines of `listen` and `demo`). Runs on the judge's thread.
pub type Sink = Box<dyn FnMut(&Request, &Pushed) + Send>;

/// What one pushed request showed: for the live line of `listen` and `demo`.
#[derive(Debug, Clone)]
pub struct Pushed {
    /// The URL name, `None` for a stray request (unknown path).
    pub url: Option<String>,
    /// Whether the body is a v2 event, a v1 record or neither.
    pub kind: Kind,
    /// `EventType` when it is a string.
    pub event_type: Option<String>,
    /// `RoomId` as written, when the body has one.
    pub room: Option<String>,
    /// Attempt number of this event at this URL, from 1.
    pub attempt: u32,
    /// This request's own warn and fail findings (headers, body, single-event checks).
    pub findings: Vec<Finding>,
}

/// A body judged on its own, ready for [`Judge::push_prejudged`]: judging bodies is
/// most of the work and needs no state, so callers may do it on other threads.
pub struct Prejudged {
    hash: u64,
    judged: Arc<Judged>,
}

impl Prejudged {
    /// Judges `body` on its own.
    pub fn of(body: &[u8]) -> Prejudged {
        Prejudged {
            hash: record::hash64(body),
            judged: Arc::new(Judged::of(body)),
        }
    }
}

/// The incremental judge.
pub struct Judge {
    opts: Options,
    meta: Meta,
    names: HashMap<String, u16>,
    recs: Store,
    ids: Interner,
    cache: Recent<u64, Arc<Judged>>,
    attempts: Recent<(u16, Key), u32>,
    findings: Findings,
    stats: Stats,
    /// A `send` journal's attempts, case by case (its meta has `send`).
    sent: Option<send::Collect>,
    /// A proxy journal's shadow lines (`--shadow`), compared as they come.
    shadow: shadow::Tally,
    /// A `send` journal's reconnect lines (R11).
    reconnects: Vec<crate::journal::Reconnect>,
    /// With `--workdir`: which event named which file, for R12 ([`reopen`]).
    reopen: Option<reopen::Collect>,
    /// The journal's file lines (who opened the `--workdir` files).
    files: Vec<crate::journal::FileLine>,
}

#[derive(Default)]
struct Stats {
    requests: u64,
    stray: u64,
    v2: u64,
    known: u64,
    unknown: u64,
    v1: u64,
    paths: u64,
    /// Requests with a body that was read (each has a record).
    bodies: u64,
    /// Per URL index: whether any request reached it.
    reached: Vec<bool>,
}

impl Judge {
    /// A judge for a capture with these URLs (`meta`), judging by `opts`.
    pub fn new(meta: &Meta, opts: &Options) -> Judge {
        let names = meta
            .urls
            .iter()
            .enumerate()
            .map(|(i, u)| (u.name.clone(), i as u16))
            .collect();
        Judge {
            findings: Findings::new(opts.examples),
            opts: opts.clone(),
            meta: meta.clone(),
            names,
            recs: Store::Memory(Vec::new()),
            ids: Interner::default(),
            cache: Recent::new(BODY_CACHE),
            attempts: Recent::new(ATTEMPT_CACHE),
            stats: Stats {
                reached: vec![false; meta.urls.len()],
                ..Stats::default()
            },
            sent: meta.send.as_ref().map(|_| send::Collect::default()),
            shadow: shadow::Tally::default(),
            reconnects: Vec::new(),
            reopen: meta.workdir.clone().map(reopen::Collect::new),
            files: Vec::new(),
        }
    }

    /// A `send` journal's reconnect lines, read with its close line (R11).
    pub fn reconnected(&mut self, lines: &[crate::journal::Reconnect]) {
        self.reconnects = lines.to_vec();
    }

    /// Keeps the per-request records in a file under `dir` instead of memory (read back
    /// at finish), so a judge that runs as long as a capture holds memory flat.
    pub fn spill_to(mut self, dir: &std::path::Path) -> std::io::Result<Judge> {
        let path = dir.join(format!(
            "brhook-judge-{}-{}.bin",
            std::process::id(),
            uuid::Uuid::new_v4().simple()
        ));
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&path)?;
        // Gone from the directory at once: the open file is all there is, so nothing is
        // left behind however brhook ends (SIGKILL included). Windows cannot unlink an
        // open file: there the name goes on drop.
        #[cfg(unix)]
        let _ = std::fs::remove_file(&path);
        let old = std::mem::replace(
            &mut self.recs,
            Store::Spill {
                out: std::io::BufWriter::with_capacity(1 << 16, file),
                path: TempFile(path),
                buf: Vec::with_capacity(record::REC_BYTES),
                failed: None,
            },
        );
        for r in old.into_vec() {
            self.recs.push(r);
        }
        Ok(self)
    }

    /// Judges one request. Requests may come in any order.
    pub fn push(&mut self, r: &Request) -> Pushed {
        self.take(r, None)
    }

    /// Takes a shadow line of a proxy journal: the candidate's answer beside the real
    /// one, for the report's comparison.
    pub fn push_shadow(&mut self, s: &crate::journal::Shadow) {
        let slow = self
            .meta
            .proxy
            .as_ref()
            .map_or(crate::protocol::SLOW_AFTER.as_secs_f64() * 1000.0, |p| {
                p.slow_after_ms
            });
        self.shadow.push(s, slow);
    }

    /// As [`push`](Self::push), with its body already judged (on another thread).
    pub fn push_prejudged(&mut self, r: &Request, body: Prejudged) -> Pushed {
        self.take(r, Some(body))
    }

    fn take(&mut self, r: &Request, pre: Option<Prejudged>) -> Pushed {
        self.stats.requests += 1;
        let stray = Pushed {
            url: None,
            kind: Kind::Other,
            event_type: None,
            room: None,
            attempt: 0,
            findings: Vec::new(),
        };
        let Some((name, url)) = r
            .url
            .as_deref()
            .and_then(|n| self.names.get(n).map(|i| (n.to_string(), *i)))
        else {
            self.stats.stray += 1;
            return stray;
        };
        self.stats.reached[usize::from(url)] = true;
        let src = Source::Request(r.seq);
        // In a replay or a `send` brhook is the sender: its own headers are not judged,
        // and its bodies only for whether each is valid.
        let replay = self.meta.replay.is_some() || self.meta.send.is_some();
        let headers = if replay {
            Vec::new()
        } else {
            body::judge_request(&r.method, &r.headers)
        };
        let mut mine: Vec<Finding> = Vec::new();
        if let Some(err) = &r.body_error {
            // The endpoint keeps no bytes of a body it could not read: no event to name.
            mine.extend(headers.into_iter().map(|f| f.url(&name).source(src.clone())));
            let why = if err.contains("limit") {
                "body not judged: over the size limit (answered 413)"
            } else {
                "body not judged: it could not be read whole"
            };
            if !replay {
                mine.push(
                    Finding::new(Check::T4, why)
                        .url(&name)
                        .source(src)
                        .expected("a complete webhook body")
                        .found(err.clone()),
                );
            }
            let loud = loud(&mine);
            self.findings.extend(mine);
            return Pushed {
                url: Some(name),
                findings: loud,
                ..stray
            };
        }
        let (hash, j) = match pre {
            Some(p) => (p.hash, p.judged),
            None => {
                let hash = record::hash64(&r.body);
                match self.cache.get(&hash) {
                    Some(j) => (hash, j),
                    None => {
                        let j = Arc::new(Judged::of(&r.body));
                        self.cache.insert(hash, j.clone());
                        (hash, j)
                    }
                }
            }
        };
        let named = !r.body.is_empty();
        mine.extend(headers.into_iter().map(|f| {
            let f = f.url(&name).source(src.clone());
            if named {
                f.event(j.id.clone())
            } else {
                f
            }
        }));
        mine.extend(
            j.findings
                .iter()
                .cloned()
                .map(|f| f.url(&name).source(src.clone())),
        );
        // The live line shows what is loud; every finding goes to the groups.
        let valid = !mine.iter().any(|f| f.level == Level::Fail);
        if replay {
            // Only the body's validity mattered (an invalid one's answer proves nothing).
            mine.clear();
        }
        let loud = loud(&mine);
        self.findings.extend(mine);
        if r.body.is_empty() {
            // An empty body names no event: it is judged (T1-T4) and is no attempt of
            // any event (a GET and an unrelated POST are not two attempts of one).
            return Pushed {
                url: Some(name),
                kind: Kind::Other,
                event_type: None,
                room: None,
                attempt: 1,
                findings: loud,
            };
        }
        match j.kind {
            Kind::V2 => {
                self.stats.v2 += 1;
                self.stats.known += u64::from(j.ty.known());
                self.stats.unknown += u64::from(j.ty == record::Ty::Unknown);
            }
            Kind::V1 => self.stats.v1 += 1,
            Kind::Other => {}
        }
        self.stats.paths += u64::from(j.has_path);
        let id = self.ids.key(&j.id);
        if let Some(w) = self.reopen.as_mut() {
            w.push(r, id, url);
        }
        if let Some(c) = self.sent.as_mut() {
            // Judged case by case from its own small record: no D, F or C to feed.
            let session = (j.kind == Kind::V2 && j.ty.known()).then_some(j.session.is_some());
            c.push(r, id, url, session);
            return Pushed {
                url: Some(name),
                kind: j.kind,
                event_type: j.event_type.clone(),
                room: j.room_text.clone(),
                attempt: r.sent.as_ref().map_or(1, |s| s.attempt + 1),
                findings: loud,
            };
        }
        let session = j.session.as_deref().map_or(Key::default(), |s| self.ids.key(s));
        let h32 = |s: Option<&str>| record::hash64(s) as u32;
        self.stats.bodies += 1;
        self.recs.push(Rec {
            id,
            session,
            class: j.class,
            file: j.file,
            v1_pair: j.v1_pair,
            at: r.at_ms,
            answered: r.response.at_ms,
            gave_up: r.response.abandoned_ms.unwrap_or(-1.0),
            seq: r.seq as u32,
            body: hash as u32,
            content_type: h32(r.header("content-type")),
            user_agent: h32(r.header("user-agent")),
            room: j.room,
            path: j.path,
            opened: j.opened,
            url,
            status: r.response.status.unwrap_or(0),
            kind: j.kind,
            ty: j.ty,
            len: r.body.len() as u32,
            took: r.upstream.as_ref().map_or(0.0, |u| u.took_ms() as f32),
            up_status: r.upstream.as_ref().and_then(|u| u.status).unwrap_or(0),
            leg: match r.upstream.as_ref().map(|u| &u.error) {
                None => Leg::None,
                Some(None) => Leg::Answered,
                Some(Some(UpstreamError::Timeout)) => Leg::TimedOut,
                Some(Some(_)) => Leg::Failed,
            },
            flags: if valid { record::VALID } else { 0 } | if j.raw_text { record::RAW_TEXT } else { 0 },
        });
        let n = self.attempts.get(&(url, id)).unwrap_or(0) + 1;
        self.attempts.insert((url, id), n);
        Pushed {
            url: Some(name),
            kind: j.kind,
            event_type: j.event_type.clone(),
            room: j.room_text.clone(),
            attempt: n,
            findings: loud,
        }
    }

    /// The journal's `--workdir` file lines ([`crate::journal::Reader::files`]), for R12.
    pub fn files(&mut self, files: Vec<crate::journal::FileLine>) {
        self.files.extend(files);
    }

    /// R12 and the files never opened, for a journal brhook sent (`send`, `replay`).
    fn workdir(&mut self, out: &mut Findings, cov: &mut Coverage) {
        match self.reopen.take() {
            Some(c) => reopen::judge(c, &self.files, &self.ids, &self.meta, out, cov),
            None => cov.skip(Check::R12, Skip::NoWorkdir),
        }
    }

    /// Judges what was pushed. `closed_ms` is when the capture closed (D2 says how long
    /// it waited); `lookup` reads back the few requests the examples quote.
    pub fn finish(
        mut self,
        closed_ms: Option<f64>,
        quiet_ms: Option<f64>,
        lookup: &mut dyn Lookup,
    ) -> Report {
        let mut cov = Coverage::default();
        let s = &self.stats;
        let requests = s.requests - s.stray;
        let bodies = s.bodies;
        let replay = self.meta.replay.clone();
        if replay.is_none() && self.meta.send.is_none() {
            cov.bodies(bodies, s.v2, s.known, s.unknown, s.v1);
            let (t_checks, skip) = ([Check::T1, Check::T2, Check::T3, Check::T5], Skip::NoRequest);
            cov.family(&t_checks, requests > 0, skip);
        }
        // One order serves every family: an event's records together, each delivery
        // (class, URL) together inside it, attempts by arrival.
        let store = std::mem::replace(&mut self.recs, Store::Memory(Vec::new()));
        let failed = match &store {
            Store::Spill { failed, .. } => failed.clone(),
            Store::Memory(_) => None,
        };
        let mut recs = store.into_vec();
        recs.sort_unstable_by(|a, b| {
            (a.id, a.class, a.url, a.at, a.seq)
                .partial_cmp(&(b.id, b.class, b.url, b.at, b.seq))
                .expect("times are finite")
        });
        let cx = Cx {
            recs: &recs,
            ids: &self.ids,
            urls: &self.meta.urls,
            opts: &self.opts,
            closed_ms,
            paths: self.stats.paths,
        };
        let mut out = std::mem::take(&mut self.findings);
        if let Some(c) = self.sent.take() {
            let subject = send::judge(
                c,
                &self.ids,
                &self.meta,
                closed_ms,
                &self.reconnects,
                &mut out,
                &mut cov,
            );
            self.workdir(&mut out, &mut cov);
            lookup::fill(out.examples_mut(), lookup);
            let mut report = Report::build(subject, out, &cov, self.opts.strict);
            if let Some(e) = failed {
                report.fail_on_nothing(&format!("the judge lost records: {e}"));
            }
            return report;
        }
        if replay.is_none() {
            delivery::judge(&cx, &self.stats.reached, &mut out, &mut cov);
            fanout::judge(&cx, &self.stats.reached, &mut out, &mut cov);
            stream::judge(&cx, &mut out, &mut cov);
        }
        if let Some(proxy) = &self.meta.proxy {
            receiver::judge(&cx, proxy, replay.is_some(), &mut out, &mut cov);
        }
        let events = recs.chunk_by(|a, b| (a.id, a.class) == (b.id, b.class)).count();
        if let Some(m) = &replay {
            let subject = replay::finish(&cx, m, requests, events, &mut out, &mut cov);
            self.workdir(&mut out, &mut cov);
            lookup::fill(out.examples_mut(), lookup);
            let mut report = Report::build(subject, out, &cov, self.opts.strict);
            if requests == 0 {
                report.fail_on_nothing(replay::nothing(m, &self.meta.urls));
            }
            if let Some(e) = failed {
                report.fail_on_nothing(&format!("the judge lost records: {e}"));
            }
            return report;
        }
        let urls = self.stats.reached.iter().filter(|r| **r).count();
        let mut subject = format!(
            "{requests} request{} carrying {events} event{} to {urls} URL{}",
            plural_s(requests),
            plural_s(events as u64),
            plural_s(urls as u64)
        );
        if self.stats.stray > 0 {
            subject.push_str(&format!(
                ", {} stray (unknown path, not judged)",
                self.stats.stray
            ));
        }
        lookup::fill(out.examples_mut(), lookup);
        let timeline = timeline::build(&cx, &self.meta, closed_ms, quiet_ms, self.stats.requests);
        let mut report = Report::build(subject, out, &cov, self.opts.strict);
        report.timeline = Some(timeline);
        report.both_sides = self.meta.proxy.is_some();
        report.shadow = std::mem::take(&mut self.shadow).report();
        if requests == 0 {
            report.fail_on_nothing(
                "no request reached a configured URL: point the sender at the URLs brhook printed",
            );
        }
        if let Some(e) = failed {
            report.fail_on_nothing(&format!("the judge lost records: {e}"));
        }
        report
    }
}

/// The warn and fail findings of a request: what its live line shows.
fn loud(findings: &[Finding]) -> Vec<Finding> {
    findings
        .iter()
        .filter(|f| f.level >= Level::Warn)
        .cloned()
        .collect()
}

/// Where the per-request records are kept until finish.
enum Store {
    Memory(Vec<Rec>),
    Spill {
        out: std::io::BufWriter<std::fs::File>,
        path: TempFile,
        buf: Vec<u8>,
        /// The first write that failed: the report fails with it.
        failed: Option<String>,
    },
}

/// A file removed when dropped: the spill file goes whether the judge finishes or not.
struct TempFile(std::path::PathBuf);

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

impl Store {
    fn push(&mut self, r: Rec) {
        match self {
            Store::Memory(v) => v.push(r),
            Store::Spill {
                out,
                buf,
                path,
                failed,
            } => {
                use std::io::Write;
                buf.clear();
                r.write(buf);
                if let Err(e) = out.write_all(buf) {
                    // Judging cannot go on without its records: the report will say so.
                    if failed.is_none() {
                        *failed = Some(format!(
                            "cannot write the judge's records to {}: {e}",
                            path.0.display()
                        ));
                    }
                }
            }
        }
    }

    /// Every record, in memory (a spill file is read back and removed).
    fn into_vec(self) -> Vec<Rec> {
        match self {
            Store::Memory(v) => v,
            Store::Spill { out, path, .. } => {
                use std::io::Read;
                let mut recs = Vec::new();
                let file = out.into_inner().ok().and_then(|mut f| {
                    use std::io::Seek;
                    f.rewind().ok().map(|_| f)
                });
                if let Some(f) = file {
                    let len = f.metadata().map_or(0, |m| m.len() as usize);
                    recs.reserve_exact(len / record::REC_BYTES);
                    let mut r = std::io::BufReader::with_capacity(1 << 16, f);
                    let mut b = [0u8; record::REC_BYTES];
                    while r.read_exact(&mut b).is_ok() {
                        recs.extend(Rec::read(&b));
                    }
                }
                drop(path);
                recs
            }
        }
    }
}

/// What the family judges read at finish.
pub(crate) struct Cx<'a> {
    /// Sorted by event, content class, URL, arrival.
    pub recs: &'a [Rec],
    pub ids: &'a Interner,
    pub urls: &'a [UrlSpec],
    pub opts: &'a Options,
    pub closed_ms: Option<f64>,
    /// Bodies with a RelativePath (C7 ran on them).
    pub paths: u64,
}

impl Cx<'_> {
    pub fn url(&self, i: u16) -> &str {
        &self.urls[usize::from(i)].name
    }
    pub fn event(&self, r: &Rec) -> String {
        self.ids.text(r.id)
    }
    pub fn session(&self, k: Key) -> String {
        self.ids.text(k)
    }
    /// A finding about one request: its event, URL and source.
    pub fn at(&self, f: Finding, r: &Rec) -> Finding {
        f.event(self.event(r))
            .url(self.url(r.url))
            .source(Source::Request(u64::from(r.seq)))
    }
}

/// Judges a whole journal in memory (the library's and the tests' entry point).
pub fn judge(journal: &Journal, opts: &Options) -> Report {
    let mut j = Judge::new(&journal.meta, opts);
    for r in &journal.requests {
        j.push(r);
    }
    j.finish(journal.closed_ms, journal.quiet_ms, &mut &*journal)
}
