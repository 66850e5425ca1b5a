//! One finding: the check it trips, where it was seen, what was expected and found,
//! and (for receivers) the answer and a command that reproduces it.

use crate::catalog::{Check, Level};
use crate::common::hash64;
use serde::{Serialize, Serializer};
use std::fmt;
use std::hash::Hash;
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
    pub(crate) detail: Option<Detail>,
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
    pub(crate) fn detail(mut self, d: Detail, key: u64) -> Self {
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
    pub(super) fn identity(&self) -> u64 {
        hash64((
            (self.check, self.level, &self.message, &self.pointer, &self.event),
            (&self.expected, &self.found, self.detail_key, &self.reproduce),
        ))
    }

    /// Examples are kept smallest-first by this key, so the examples a report shows do
    /// not depend on the order findings were collected in.
    pub(super) fn example_key(&self) -> (Option<&Source>, Option<&String>, Option<&String>, &Option<String>) {
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

/// What an example quotes from captured requests, filled in once it is an example.
#[derive(Debug, Clone, PartialEq)]
pub enum Detail {
    /// D3: where a retry's body first differs from attempt 1's.
    BodyDiff {
        /// Sequence number of attempt 1.
        first: u64,
        /// Sequence number of the retry.
        retry: u64,
    },
    /// D3: a header's value at attempt 1 and at the retry.
    Header {
        /// The header's name.
        name: &'static str,
        /// Sequence number of attempt 1.
        first: u64,
        /// Sequence number of the retry.
        retry: u64,
    },
    /// D5: the two events that share one id.
    TwoEvents {
        /// Sequence number of a request with one body.
        a: u64,
        /// Sequence number of the request with the other body.
        b: u64,
    },
    /// C3: the file a FileClosed names, and when it was opened.
    FileOf(u64),
    /// C3, C6: the RelativePath of an event.
    PathOf(u64),
    /// C5: the rooms of one session.
    Rooms(Vec<u64>),
    /// R: what the receiver answered a forwarded request (status and the start of its
    /// body), or why it gave no answer; with the `curl` that sends its body again.
    Answer {
        /// Sequence number of the request.
        seq: u64,
        /// The receiver's URL it was sent to, when known.
        to: Option<String>,
    },
    /// `send`: the receiver's answer to a body brhook sent, with the `curl` that sends
    /// it again (after the case's earlier bodies, or beside the held one for R10) and
    /// the file it was saved in.
    Sent {
        /// Sequence number of the attempt.
        seq: u64,
        /// The receiver's URL.
        to: String,
        /// Saved bodies sent first, in order (the case's earlier bodies).
        before: Vec<u64>,
        /// Bodies not saved: the labels of the case's earlier bodies, named instead.
        after: Option<String>,
        /// R10: the held body, sent in the background this many seconds earlier.
        held: Option<(u64, f64)>,
    },
    /// C6: a v1 record, and the FileClosed with the same RelativePath if any.
    V1Record {
        /// Sequence number of the v1 record.
        record: u64,
        /// Sequence number of the FileClosed with the same RelativePath, if any.
        near: Option<u64>,
    },
}

impl Detail {
    pub(crate) fn seqs(&self) -> Vec<u64> {
        match self {
            Detail::BodyDiff { first, retry } | Detail::Header { first, retry, .. } => vec![*first, *retry],
            Detail::TwoEvents { a, b } => vec![*a, *b],
            Detail::FileOf(s) | Detail::PathOf(s) | Detail::Answer { seq: s, .. } => vec![*s],
            Detail::Rooms(s) => s.clone(),
            Detail::Sent {
                seq, before, held, ..
            } => std::iter::once(*seq)
                .chain(before.iter().copied())
                .chain(held.map(|h| h.0))
                .collect(),
            Detail::V1Record { record, near } => std::iter::once(*record).chain(*near).collect(),
        }
    }
}

/// Adds `x` to a short sorted list unless it is there.
pub(crate) fn add_unique<T: PartialEq + Ord>(v: &mut Vec<T>, x: T) {
    if !v.contains(&x) {
        v.push(x);
        v.sort();
    }
}
