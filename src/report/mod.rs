//! Findings → verdict. The report model is a contract (see the README): field names
//! are fixed, more may be added. Renderers live beside it.
//!
//! Findings are grouped by cause as they are collected ([`Findings`]): findings that
//! share check, level, message and pointer are one [`Group`] with a count and a few
//! examples, so a report stays small however large the capture.

pub mod html;
pub mod junit;
pub mod text;
pub mod timeline;

use crate::catalog::{Check, Level, CHECKS};
use crate::recent::Recent;
use serde::{Serialize, Serializer};
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::hash::{Hash, Hasher};

/// Finding identities remembered per half of the window that counts repeats once.
const RECENT: usize = 1 << 16;

pub use timeline::Timeline;

/// Where a finding was seen, besides its URL and event.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Source {
    /// A captured request, by its journal sequence number.
    Request(u64),
    /// An input of `brhook validate` (a file name, or `stdin`).
    Input(String),
    /// A session, by its SessionId.
    Session(String),
    /// A case of `brhook send`.
    Case(String),
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Request(n) => write!(f, "request #{n}"),
            Source::Input(s) | Source::Case(s) => f.write_str(s),
            Source::Session(s) => write!(f, "SessionId {s}"),
        }
    }
}

impl Serialize for Source {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl From<&str> for Source {
    fn from(s: &str) -> Source {
        Source::Input(s.to_string())
    }
}
impl From<String> for Source {
    fn from(s: String) -> Source {
        Source::Input(s)
    }
}
impl From<&String> for Source {
    fn from(s: &String) -> Source {
        Source::Input(s.clone())
    }
}

/// One thing a judge saw, keyed by its catalogue check.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    /// The catalogue check it is about.
    pub check: Check,
    /// How bad it is; may be below the check's catalogue level.
    pub level: Level,
    /// What is wrong, as a sentence that holds no value of one run (ids, times and
    /// measurements go to `event`, `sources`, `expected` and `found`), so findings of
    /// one cause share it.
    pub message: String,
    /// JSON pointer of the value the finding is about, if it is about one.
    pub pointer: Option<String>,
    /// URL names (endpoint) or URLs (sender) the finding was seen at.
    pub urls: Vec<String>,
    /// Event identity: EventId, EventRandomId, or `body:<hash>`.
    pub event: Option<String>,
    /// Requests, inputs, sessions or cases the finding was seen in.
    pub sources: Vec<Source>,
    /// What was expected, if stated.
    pub expected: Option<String>,
    /// What was found instead, if stated.
    pub found: Option<String>,
    /// `found` is a measurement (a time, a gap): it differs between runs.
    pub measured: bool,
    /// A command that sends the body again (`brhook send`: a `curl`), when there is one.
    pub reproduce: Option<String>,
    /// What the receiver answered (`brhook send`), when it answered.
    pub answer: Option<Answer>,
    /// Occurrences this finding stands for: 1 for an example, the group's count for
    /// the entry of a report's `findings`.
    pub count: u64,
    /// What the judge reads back from the journal once this is an example.
    pub(crate) detail: Option<crate::judge::Detail>,
    /// Stands for the text `detail` will fill in, so that findings that differ only
    /// there stay apart while the text is not at hand.
    pub(crate) detail_key: u64,
}

impl Serialize for Finding {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let join = |v: Vec<String>| (!v.is_empty()).then(|| v.join(", "));
        let mut st = s.serialize_struct("Finding", 16)?;
        st.serialize_field("check", &self.check)?;
        st.serialize_field("side", &self.check.side())?;
        st.serialize_field("level", &self.level)?;
        st.serialize_field("message", &self.message)?;
        st.serialize_field("pointer", &self.pointer)?;
        st.serialize_field("url", &join(self.urls.clone()))?;
        st.serialize_field("event", &self.event)?;
        st.serialize_field(
            "source",
            &join(self.sources.iter().map(ToString::to_string).collect()),
        )?;
        st.serialize_field("expected", &self.expected)?;
        st.serialize_field("found", &self.found)?;
        st.serialize_field("count", &self.count)?;
        st.serialize_field("urls", &self.urls)?;
        st.serialize_field("sources", &self.sources)?;
        if self.measured {
            st.serialize_field("measured", &true)?;
        } else {
            st.skip_field("measured")?;
        }
        // Only receiver findings with an answer in hand set these: other reports stay as they were.
        match &self.reproduce {
            Some(r) => st.serialize_field("reproduce", r)?,
            None => st.skip_field("reproduce")?,
        }
        match &self.answer {
            Some(a) => st.serialize_field("answer", a)?,
            None => st.skip_field("answer")?,
        }
        st.end()
    }
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
            urls: Vec::new(),
            event: None,
            sources: Vec::new(),
            expected: None,
            found: None,
            measured: false,
            reproduce: None,
            answer: None,
            count: 1,
            detail: None,
            detail_key: 0,
        }
    }

    /// Sets the JSON pointer of the value the finding is about.
    pub fn pointer(mut self, p: impl Into<String>) -> Self {
        self.pointer = Some(p.into());
        self
    }
    /// Adds a URL the finding was seen at.
    pub fn url(mut self, u: impl Into<String>) -> Self {
        add_unique(&mut self.urls, u.into());
        self
    }
    /// Sets the event identity.
    pub fn event(mut self, e: impl Into<String>) -> Self {
        self.event = Some(e.into());
        self
    }
    /// Adds a source the finding was seen in.
    pub fn source(mut self, s: impl Into<Source>) -> Self {
        add_unique(&mut self.sources, s.into());
        self
    }
    /// Sets what was expected.
    pub fn expected(mut self, e: impl Into<String>) -> Self {
        self.expected = Some(e.into());
        self
    }
    /// Sets what was found; for a measurement use [`measured`](Self::measured).
    pub fn found(mut self, f: impl Into<String>) -> Self {
        self.found = Some(f.into());
        self
    }
    /// `found` that is a measurement: redacted in snapshots, never part of the cause.
    pub fn measured(mut self, f: impl Into<String>) -> Self {
        self.found = Some(f.into());
        self.measured = true;
        self
    }

    /// Sets the command that sends the body again.
    pub fn reproduce(mut self, cmd: impl Into<String>) -> Self {
        self.reproduce = Some(cmd.into());
        self
    }
    /// Sets what the receiver answered.
    pub fn answer(mut self, a: Answer) -> Self {
        self.answer = Some(a);
        self
    }

    /// Text to read back from the journal if this becomes an example; `key` hashes what
    /// that text depends on.
    pub(crate) fn detail(mut self, d: crate::judge::Detail, key: u64) -> Self {
        self.detail = Some(d);
        self.detail_key = key;
        self
    }

    /// Where the finding is, for people: sources, URLs, event, pointer.
    pub fn place(&self) -> Vec<String> {
        let mut at = Vec::new();
        if !self.sources.is_empty() {
            at.push(
                self.sources
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", "),
            );
        }
        if !self.urls.is_empty() {
            at.push(format!("url {}", self.urls.join(", ")));
        }
        if let Some(e) = &self.event {
            at.push(format!("event {e}"));
        }
        if let Some(p) = &self.pointer {
            at.push(if p.is_empty() {
                "at the body".into()
            } else {
                format!("at {p}")
            });
        }
        at
    }

    /// The identity of one finding: the same finding seen at another URL or in
    /// another request is one occurrence.
    fn identity(&self) -> u64 {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        (self.check, self.level, &self.message, &self.pointer, &self.event).hash(&mut h);
        (&self.expected, &self.found, self.detail_key, &self.reproduce).hash(&mut h);
        h.finish()
    }

    /// Examples are kept smallest-first by this key, so the examples a report shows do
    /// not depend on the order findings were collected in.
    fn example_key(&self) -> (Option<&Source>, Option<&String>, Option<&String>, &Option<String>) {
        (
            self.sources.first(),
            self.event.as_ref(),
            self.urls.first(),
            &self.found,
        )
    }
}

/// A receiver's answer: its status and the start of its body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Answer {
    /// The HTTP status.
    pub status: u16,
    /// The first 512 bytes of the answer's body, as text (invalid UTF-8 replaced).
    pub body: String,
}

/// `422 Unprocessable Entity`; the bare number when the status has no standard reason.
pub(crate) fn status_line(status: u16) -> String {
    match hyper::StatusCode::from_u16(status)
        .ok()
        .and_then(|c| c.canonical_reason())
    {
        Some(reason) => format!("{status} {reason}"),
        None => status.to_string(),
    }
}

impl fmt::Display for Answer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&status_line(self.status))?;
        let body = self.body.trim();
        if body.is_empty() {
            f.write_str(", empty body")
        } else {
            // One line: control characters (newlines) escaped, the rest as sent.
            let line: String = body
                .chars()
                .flat_map(|c| {
                    let e: Vec<char> = if c.is_control() {
                        c.escape_default().collect()
                    } else {
                        vec![c]
                    };
                    e
                })
                .collect();
            write!(f, ": {line}")
        }
    }
}

fn add_unique<T: PartialEq + Ord>(v: &mut Vec<T>, x: T) {
    if !v.contains(&x) {
        v.push(x);
        v.sort();
    }
}

/// Findings of one cause: same check, level, message and pointer.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Group {
    /// The check of every finding in the group.
    pub check: Check,
    /// The level of every finding in the group.
    pub level: Level,
    /// The message every finding in the group shares.
    pub message: String,
    /// The JSON pointer every finding in the group shares, if any.
    pub pointer: Option<String>,
    /// Occurrences: distinct findings of this cause.
    pub count: u64,
    /// Every URL the cause was seen at (URLs are few: the configured ones).
    pub urls: Vec<String>,
    /// The first few occurrences (smallest source first), in full.
    pub examples: Vec<Finding>,
    /// Occurrences not shown as examples.
    pub omitted: u64,
}

impl Group {
    /// Report order: worst level first, then catalogue order, pointer, message.
    pub fn order(a: &Group, b: &Group) -> std::cmp::Ordering {
        (std::cmp::Reverse(a.level), a.check, &a.pointer, &a.message).cmp(&(
            std::cmp::Reverse(b.level),
            b.check,
            &b.pointer,
            &b.message,
        ))
    }

    /// The group as one finding: its first example, with the group's count and URLs.
    pub fn summary(&self) -> Finding {
        let mut f = self.examples[0].clone();
        f.count = self.count;
        f.urls = self.urls.clone();
        f.sources = Vec::new();
        for s in self.examples.iter().flat_map(|e| e.sources.iter().cloned()) {
            add_unique(&mut f.sources, s);
        }
        f
    }
}

/// Collects findings into groups as they come: memory holds the identities of recent
/// findings (to count each once) and at most `examples` findings per group.
#[derive(Debug, Clone)]
pub struct Findings {
    examples: usize,
    groups: Vec<Group>,
    /// Group by the hash of its check, level, message and pointer.
    index: HashMap<u64, usize>,
    /// Identities of recent findings. Repeats of one finding (a retry, a fan-out copy,
    /// one delivery judged at several URLs) come close together, so a bounded window
    /// counts each once while memory stays flat, however long the capture.
    seen: Recent<u64, ()>,
    /// Identity of each kept example, parallel to `groups[i].examples`.
    ids: Vec<Vec<u64>>,
}

/// Sources one example names at most (the same finding seen again adds its source).
pub const MAX_SOURCES: usize = 8;

/// Examples per group unless the caller asks otherwise (`--examples N`).
pub const DEFAULT_EXAMPLES: usize = 3;

impl Default for Findings {
    fn default() -> Self {
        Findings::new(DEFAULT_EXAMPLES)
    }
}

impl Findings {
    /// An empty collection keeping at most `examples` examples per group (at least 1).
    pub fn new(examples: usize) -> Findings {
        Findings {
            examples: examples.max(1),
            groups: Vec::new(),
            index: HashMap::new(),
            seen: Recent::new(RECENT),
            ids: Vec::new(),
        }
    }

    /// Adds one finding to its group; a repeat of a recent one only adds its URLs and
    /// sources.
    pub fn push(&mut self, f: Finding) {
        let id = f.identity();
        let mut h = std::collections::hash_map::DefaultHasher::new();
        (f.check, f.level, &f.message, &f.pointer).hash(&mut h);
        let key = h.finish();
        let g = match self.index.get(&key) {
            Some(&g) => g,
            None => {
                self.index.insert(key, self.groups.len());
                self.groups.push(Group {
                    check: f.check,
                    level: f.level,
                    message: f.message.clone(),
                    pointer: f.pointer.clone(),
                    count: 0,
                    urls: Vec::new(),
                    examples: Vec::new(),
                    omitted: 0,
                });
                self.ids.push(Vec::new());
                self.groups.len() - 1
            }
        };
        let group = &mut self.groups[g];
        for u in &f.urls {
            if !group.urls.contains(u) {
                group.urls.push(u.clone());
                group.urls.sort();
            }
        }
        let ids = &mut self.ids[g];
        if !self.seen.first_time(id) {
            // The same finding again (another URL, another attempt): one occurrence.
            if let Some(i) = ids.iter().position(|x| *x == id) {
                let e = &mut group.examples[i];
                for u in f.urls {
                    add_unique(&mut e.urls, u);
                }
                // A body seen in thousands of requests names the first few.
                for s in f.sources {
                    if e.sources.len() < MAX_SOURCES {
                        add_unique(&mut e.sources, s);
                    }
                }
            }
            return;
        }
        group.count += 1;
        if group.examples.len() < self.examples {
            group.examples.push(f);
            ids.push(id);
            return;
        }
        // Full: keep the smallest examples, whatever the order they came in.
        let (worst, _) = group
            .examples
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.example_key().cmp(&b.1.example_key()))
            .expect("a full group has examples");
        if f.example_key() < group.examples[worst].example_key() {
            group.examples[worst] = f;
            ids[worst] = id;
        }
    }

    /// Adds each finding as [`push`](Self::push) does.
    pub fn extend(&mut self, fs: impl IntoIterator<Item = Finding>) {
        for f in fs {
            self.push(f);
        }
    }

    /// True when no finding was collected.
    pub fn is_empty(&self) -> bool {
        self.groups.is_empty()
    }

    /// The examples kept so far (the judge fills in their details).
    pub(crate) fn examples_mut(&mut self) -> impl Iterator<Item = &mut Finding> {
        self.groups.iter_mut().flat_map(|g| g.examples.iter_mut())
    }

    /// The groups, sorted: worst level first, then catalogue order.
    pub fn into_groups(self) -> Vec<Group> {
        let mut groups = self.groups;
        for g in &mut groups {
            g.examples.sort_by(|a, b| a.example_key().cmp(&b.example_key()));
            g.omitted = g.count - g.examples.len() as u64;
        }
        groups.sort_by(Group::order);
        groups
    }
}

impl From<Vec<Finding>> for Findings {
    fn from(v: Vec<Finding>) -> Findings {
        let mut f = Findings::default();
        f.extend(v);
        f
    }
}

impl Extend<Finding> for Findings {
    fn extend<I: IntoIterator<Item = Finding>>(&mut self, iter: I) {
        Findings::extend(self, iter)
    }
}

/// The outcome of one check in a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// It ran and found no warn or fail.
    Passed,
    /// A fail finding, or a warn one under `--strict`.
    Failed,
    /// A warn finding, without `--strict`.
    Warned,
    /// It could not run; the reason says why.
    Skipped,
    /// brhook cannot exercise it yet.
    NotImplemented,
}

impl Status {
    /// The kebab-case name, as in the JSON report.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Passed => "passed",
            Status::Failed => "failed",
            Status::Warned => "warned",
            Status::Skipped => "skipped",
            Status::NotImplemented => "not-implemented",
        }
    }
}

/// Why a check could not run. Each reason names what was missing and what to change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Skip {
    /// No request reached a configured URL.
    NoRequest,
    /// No body was judged.
    NoBody,
    /// No event was captured.
    NoEvent,
    /// No v2 event among the bodies.
    NoV2,
    /// No v2 event of a known type among the bodies.
    NoKnownV2,
    /// No v1 record among the bodies.
    NoV1,
    /// `validate` judges bodies without their requests.
    HeadersNotInFiles,
    /// No attempt failed (a URL with a failing fault is needed).
    NoFailedAttempt,
    /// No attempt was answered 2xx.
    NoSuccess,
    /// No retry was observed, so no back-off could be measured.
    NoRetry,
    /// No answer was held longer than the sender's patience (100 s, scaled).
    NoLongHold,
    /// Only one URL per setting received traffic.
    OneUrlPerSetting,
    /// No URL with `delay:MS` beside another URL in the same setting.
    NoDelayUrl,
    /// No URL with a failing fault beside another URL.
    NoFailingUrl,
    /// No event with a SessionId was captured.
    NoSession,
    /// No FileOpening or FileClosed was captured.
    NoFileEvent,
    /// No FileClosed was captured.
    NoFileClosed,
    /// No RelativePath was captured.
    NoRelativePath,
    /// The capture lacks v1 records or v2 FileClosed events.
    NoV1AndFileClosed,
    /// No StreamStarted or StreamEnded was captured.
    NoStreamEvent,
    /// `send`: only the probe scenario sends these cases.
    OnlyProbe,
    /// `send`: no v1 URL was given.
    NoV1Url,
    /// `send`: no answer was received to judge.
    NoAnswer,
    /// `send probe`: every body of the check's cases that failed, failed as the same
    /// event type and shape did in the baseline (R1), so the check's own variation was
    /// never judged; R1's finding lists the cases.
    FailedInBaseline,
    /// `send probe`: no event's answer was held longer than `--slow-after`, so no
    /// event was sent while another was held (R10).
    NothingHeld,
    /// `send probe`: the event sent beside the held one is as slow when sent alone, so
    /// the wait is not the held one's doing (R2 reports the slowness).
    SlowAlone,
    /// The URLs (`name=fault`) that would have exercised the check received no request.
    Unreached(String),
    /// `proxy`: no request of this kind was forwarded to a receiver and answered.
    NoneForwarded(Forwarded),
    /// The command does not exercise this check at all.
    NotExercised,
    /// brhook cannot exercise this check yet.
    NotImplemented,
}

impl fmt::Display for Skip {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Skip::Unreached(urls) => {
                return write!(
                    f,
                    "not exercised: {urls} received no request (is it in the sender's settings?)"
                )
            }
            Skip::NoneForwarded(what) => {
                return write!(f, "the forwarded traffic had no {}", what.as_str())
            }
            Skip::NoRequest => "no request reached a configured URL",
            Skip::NoBody => "no body was judged",
            Skip::NoEvent => "no event was captured",
            Skip::NoV2 => "no v2 event among the bodies",
            Skip::NoKnownV2 => "no v2 event of a known type among the bodies",
            Skip::NoV1 => "no v1 record among the bodies",
            Skip::HeadersNotInFiles => "headers are judged on live requests (listen, check), not on files",
            Skip::NoFailedAttempt => {
                "no attempt failed: add a URL with a failing fault (fail:N, reset:N or status:CODE)"
            }
            Skip::NoSuccess => "no attempt was answered 2xx",
            Skip::NoRetry => "no retry was observed: add a URL with fail:N to measure back-off",
            Skip::NoLongHold => {
                "no answer was held longer than the sender's patience: add a URL with delay:MS over 100 s (scaled with the back-off) to measure it"
            }
            Skip::OneUrlPerSetting => "only one URL per setting received traffic: configure two or more URLs",
            Skip::NoDelayUrl => "needs a URL with delay:MS and one other URL in the same setting",
            Skip::NoFailingUrl => {
                "needs a URL with a failing fault (fail:N, reset:N, status:CODE) and one other URL"
            }
            Skip::NoSession => "no event with a SessionId was captured",
            Skip::NoFileEvent => "no FileOpening or FileClosed was captured",
            Skip::NoFileClosed => "no FileClosed was captured",
            Skip::NoRelativePath => "no RelativePath was captured",
            Skip::NoV1AndFileClosed => "needs both v1 records and v2 FileClosed events in one capture",
            Skip::NoStreamEvent => "no StreamStarted or StreamEnded was captured",
            Skip::OnlyProbe => "only `brhook send probe` (Scenario::Probe) sends these cases",
            Skip::NoV1Url => "no v1 URL given (--v1-to URL): v1 records were not sent",
            Skip::NoAnswer => "no answer was received to judge",
            Skip::FailedInBaseline => {
                "every failure of its cases was the baseline's failure of the same type and shape (see R1, which lists the cases)"
            }
            Skip::NothingHeld => {
                "no event's answer was held longer than --slow-after, so nothing was sent while one was held"
            }
            Skip::SlowAlone => {
                "the event sent beside the held one is as slow when sent alone: that is R2's finding, not head-of-line blocking"
            }
            Skip::NotExercised => "not exercised by this command",
            Skip::NotImplemented => "not implemented yet",
        })
    }
}

/// What a proxy's receiver-side check needs forwarded ([`Skip::NoneForwarded`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Forwarded {
    /// A valid event of a known type (R1).
    KnownEvent,
    /// Any request (R2).
    Request,
    /// A valid event of an unknown EventType (R3).
    UnknownType,
    /// A retry of an event the receiver had answered 2xx (R5).
    RetryAfterSuccess,
    /// An event ahead of one it follows: a FileClosed before its FileOpening, a
    /// session's event before its SessionStarted (R6).
    OutOfOrder,
    /// A StreamStarted or StreamEnded without SessionId (R7).
    StreamWithoutSession,
    /// A valid event with raw non-ASCII text (R8).
    RawText,
    /// A valid v1 record (R9).
    V1Record,
    /// A request arriving while another's answer was held past --slow-after (R10).
    WhileHeld,
}

impl Forwarded {
    /// What it is, in a sentence.
    pub fn as_str(self) -> &'static str {
        match self {
            Forwarded::KnownEvent => "valid event of a known type",
            Forwarded::Request => "request (nothing reached a receiver)",
            Forwarded::UnknownType => "valid event of an unknown EventType (the recorder sent none)",
            Forwarded::RetryAfterSuccess => "retry of an event the receiver had already answered 2xx",
            Forwarded::OutOfOrder => "event out of order (a FileClosed before its FileOpening, an event before its session's SessionStarted)",
            Forwarded::StreamWithoutSession => "StreamStarted or StreamEnded without SessionId",
            Forwarded::RawText => "valid event with raw non-ASCII text",
            Forwarded::V1Record => "valid v1 record",
            Forwarded::WhileHeld => "request arriving while another's answer was held past --slow-after",
        }
    }
}

impl Serialize for Skip {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// One catalogue check's outcome in a report.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct CheckResult {
    /// The check.
    pub id: Check,
    /// Its catalogue title.
    pub title: &'static str,
    /// Its catalogue level.
    pub level: Level,
    /// What became of it in this run.
    pub status: Status,
    /// Why it did not run, when skipped or not implemented.
    pub reason: Option<Skip>,
}

/// Which checks a run could exercise. A check that did not run is `skipped` with its
/// reason, never `passed`: passing on nothing is the error this type exists to prevent.
#[derive(Debug, Clone, Default)]
pub struct Coverage {
    ran: BTreeMap<Check, ()>,
    skipped: BTreeMap<Check, Skip>,
}

impl Coverage {
    /// Marks a check run, clearing any skip recorded for it.
    pub fn ran(&mut self, id: Check) {
        self.skipped.remove(&id);
        self.ran.insert(id, ());
    }
    /// Marks a check skipped unless something already ran it.
    pub fn skip(&mut self, id: Check, reason: Skip) {
        if !self.ran.contains_key(&id) {
            self.skipped.insert(id, reason);
        }
    }
    /// Runs `ids` when `ran`, else skips them all for `reason`: a judge family states
    /// once which checks it runs and what they need.
    pub fn family(&mut self, ids: &[Check], ran: bool, reason: Skip) {
        for &id in ids {
            if ran {
                self.ran(id);
            } else {
                self.skip(id, reason.clone());
            }
        }
    }
    /// True when the check was marked run.
    pub fn has_run(&self, id: Check) -> bool {
        self.ran.contains_key(&id)
    }
}

/// A number per level.
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq)]
pub struct Counts {
    /// At level `fail`.
    pub fail: u64,
    /// At level `warn`.
    pub warn: u64,
    /// At level `info`.
    pub info: u64,
}

impl Counts {
    fn add(&mut self, level: Level, n: u64) {
        match level {
            Level::Fail => self.fail += n,
            Level::Warn => self.warn += n,
            Level::Info => self.info += n,
        }
    }
}

/// The outcome of a whole run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// No fail finding (nor warn under `--strict`), and something was judged.
    Pass,
    /// A fail finding, a warn one under `--strict`, or nothing to judge.
    Fail,
}

impl Verdict {
    /// The lowercase name: `pass` or `fail`.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail => "fail",
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<&str> for Verdict {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// The judged outcome of a run: verdict, findings grouped by cause, and every check's
/// status.
#[derive(Debug, Clone, Serialize)]
#[must_use = "a report says nothing until it is asserted, printed or written"]
pub struct Report {
    /// Always `brhook`.
    pub tool: &'static str,
    /// The brhook version that wrote the report.
    pub version: &'static str,
    /// Pass or fail for the whole run.
    pub verdict: Verdict,
    /// Whether warnings failed the run (`--strict`).
    pub strict: bool,
    /// Occurrences per level (every finding counted, shown as an example or not).
    pub counts: Counts,
    /// Groups (causes) per level.
    pub group_counts: Counts,
    /// What was judged, e.g. "3 bodies" or "42 requests carrying 12 events to 3 URLs".
    pub subject: String,
    /// Set when nothing could be judged; the verdict is then `fail`.
    pub note: Option<String>,
    /// One entry per group: its first example, with the group's `count` and `urls`.
    pub findings: Vec<Finding>,
    /// Every group (cause), worst level first, with its examples.
    pub groups: Vec<Group>,
    /// Every catalogue check, in catalogue order, with its status.
    pub checks: Vec<CheckResult>,
    /// True when the run judged both a sender and its receivers (`brhook proxy`): the
    /// text report then shows each side under its own heading.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub both_sides: bool,
    /// The delivery timeline for the HTML report (not part of the JSON contract).
    #[serde(skip)]
    pub timeline: Option<Timeline>,
}

impl Report {
    /// Builds the verdict. `strict` makes warnings fail (the verdict and the check).
    pub fn build(
        subject: impl Into<String>,
        findings: impl Into<Findings>,
        cov: &Coverage,
        strict: bool,
    ) -> Report {
        let groups = findings.into().into_groups();
        let (mut counts, mut group_counts) = (Counts::default(), Counts::default());
        let mut worst: HashMap<Check, Level> = HashMap::new();
        for g in &groups {
            counts.add(g.level, g.count);
            group_counts.add(g.level, 1);
            let w = worst.entry(g.check).or_insert(g.level);
            *w = (*w).max(g.level);
        }
        let checks = CHECKS
            .iter()
            .map(|c| {
                let worst = worst.get(&c.id).copied();
                // A check with a fail or warn finding shows it, whatever else was
                // decided: a counted failure is never under a skipped check.
                let (status, reason) = match worst {
                    Some(Level::Fail) => (Status::Failed, None),
                    Some(Level::Warn) if strict => (Status::Failed, None),
                    Some(Level::Warn) => (Status::Warned, None),
                    _ => {
                        if let Some(r) = cov.skipped.get(&c.id) {
                            (Status::Skipped, Some(r.clone()))
                        } else if cov.ran.contains_key(&c.id) || worst.is_some() {
                            (Status::Passed, None)
                        } else if !c.implemented {
                            (Status::NotImplemented, Some(Skip::NotImplemented))
                        } else {
                            (Status::Skipped, Some(Skip::NotExercised))
                        }
                    }
                };
                CheckResult {
                    id: c.id,
                    title: c.title,
                    level: c.level,
                    status,
                    reason,
                }
            })
            .collect();
        let failed = counts.fail > 0 || (strict && counts.warn > 0);
        Report {
            tool: "brhook",
            version: env!("CARGO_PKG_VERSION"),
            verdict: if failed { Verdict::Fail } else { Verdict::Pass },
            strict,
            counts,
            group_counts,
            subject: subject.into(),
            note: None,
            findings: groups.iter().map(Group::summary).collect(),
            groups,
            checks,
            both_sides: false,
            timeline: None,
        }
    }

    /// Never pass on nothing: marks the report failed, saying why.
    pub fn fail_on_nothing(&mut self, why: &str) {
        self.verdict = Verdict::Fail;
        self.note = Some(why.to_string());
    }

    /// True when the verdict is `pass`.
    pub fn passed(&self) -> bool {
        self.verdict == Verdict::Pass
    }

    /// The status of one check.
    pub fn status(&self, id: Check) -> Option<Status> {
        self.checks.iter().find(|c| c.id == id).map(|c| c.status)
    }

    /// Findings of one check: one per group, with the group's count.
    pub fn findings_of(&self, id: Check) -> impl Iterator<Item = &Finding> + '_ {
        self.findings.iter().filter(move |f| f.check == id)
    }

    /// Occurrences of one check at `level` or above.
    pub fn occurrences(&self, id: Check, level: Level) -> u64 {
        self.groups
            .iter()
            .filter(|g| g.check == id && g.level >= level)
            .map(|g| g.count)
            .sum()
    }

    /// The checks with at least one finding at `level` or above, in catalogue order.
    pub fn tripped(&self, level: Level) -> Vec<Check> {
        let mut ids: Vec<_> = self
            .groups
            .iter()
            .filter(|g| g.level >= level)
            .map(|g| g.check)
            .collect();
        ids.sort();
        ids.dedup();
        ids
    }

    /// The report as pretty-printed JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a report always serialises")
    }

    /// Panics with the text report unless the verdict is `pass`: for `cargo test`.
    #[track_caller]
    pub fn assert_pass(&self) {
        if !self.passed() {
            panic!(
                "brhook: the sender does not conform\n\n{}",
                text::render(self, &text::Style::plain())
            );
        }
    }
}
