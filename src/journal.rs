//! The journal: every request exactly as it arrived, and the answer it got. It is the
//! only input of the judges, so judging a saved journal equals judging live.
//!
//! File form (JSON Lines): a `meta` line, one `request` line per request (written and
//! flushed once its answer is released, so a kill loses nothing already answered), and
//! a `close` line when the capture ends.

use crate::fault::Fault;
pub use crate::protocol::Setting;
use base64::Engine;
use serde::{Deserialize, Serialize};
mod segment;

pub use segment::{candidates as rotated_set, numbered, Previous, Rotation, Segment};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// One endpoint URL the capture served: its name and how it answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UrlSpec {
    /// The URL name; it is served at `/NAME` (or `/PREFIX/NAME`).
    pub name: String,
    /// How the URL answers each attempt.
    pub fault: Fault,
    /// Which of the sender's settings the URL is in; `None` (journals written before it
    /// was declared) takes a URL named `v1` as a v1 URL and any other as a v2 URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub setting: Option<Setting>,
    /// `brhook proxy`: the receiver's URL that requests to this name are forwarded to
    /// (absent for the fake endpoint's URLs and in journals written before the proxy).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upstream: Option<String>,
}

impl UrlSpec {
    /// The URL's setting, declared or (for a URL named `v1`) by its name.
    pub fn setting(&self) -> Setting {
        self.setting.unwrap_or(if self.name == "v1" {
            Setting::V1
        } else {
            Setting::V2
        })
    }
}

/// The journal's first line: what wrote it, when, and the URLs it served.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Meta {
    /// Name of the writing tool (`brhook`).
    pub tool: String,
    /// Version of the writing tool.
    pub version: String,
    /// Wall-clock start (RFC 3339), for people; judges use the monotonic times.
    pub started: String,
    /// The endpoint URLs served, with their faults.
    pub urls: Vec<UrlSpec>,
    /// Path prefix (the `--token`), empty when none.
    #[serde(default)]
    pub prefix: String,
    /// `brhook proxy`: how the receivers were judged, so that `brhook check` judges the
    /// journal again as the live run did. Absent for the fake endpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proxy: Option<ProxyMeta>,
    /// `brhook replay`: brhook was the sender (its reference sender, replaying a
    /// capture), so only the receiver side is judged. Absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replay: Option<ReplayMeta>,
    /// `brhook send`: brhook was the sender (its reference sender, playing a scenario),
    /// so only the receiver side is judged, case by case ([`Request::sent`]). Absent
    /// otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub send: Option<SendMeta>,
    /// `--workdir`: brhook wrote the files the events name and watched who opened them;
    /// each file's opens are a [`FileLine`] before the close line. Absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workdir: Option<WorkdirMeta>,
    /// Which run wrote this file and where it stands in the capture (a journal that a
    /// restart appended to, a rotated set). Absent in journals written before segments.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub segment: Option<Segment>,
}

/// What a journal says of its `--workdir` (R12, files never opened).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkdirMeta {
    /// Opens were watched (inotify: Linux); otherwise the file lines list no opens.
    pub watched: bool,
    /// `--expect-open`: every file the receiver never opened is reported.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub expect_open: bool,
}

/// The longest the settle window waits for `--workdir` files to be closed: a receiver
/// that holds one open for good (a `tail -f`) must not hold brhook forever. A file still
/// open then is removed anyway, and its line says so ([`FileLine::still_open`]).
pub const MAX_SETTLE_WAIT: std::time::Duration = std::time::Duration::from_secs(120);

/// One file brhook wrote in `--workdir`, and when someone other than brhook opened it
/// (milliseconds since the start, as request times are).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileLine {
    /// `RelativePath`, as the events name it.
    pub path: String,
    /// Each open seen, in order.
    pub opens_ms: Vec<f64>,
    /// Someone still had it open when brhook stopped waiting for the settle window
    /// (after [`MAX_SETTLE_WAIT`]) and removed it. Absent when false (older readers).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub still_open: bool,
}

/// What a `send` journal says of the scenario it played: its cases, and how it was
/// sent. Each request line says which body of which case it carried ([`Sent`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SendMeta {
    /// `probe`, `realistic`, `random`, `load`.
    pub scenario: String,
    /// The cases, in the order their bodies were numbered.
    pub cases: Vec<CaseMeta>,
    /// `random`: the seed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// `random --exact`: the ids were reproduced too.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub exact: bool,
    /// `load`: bodies in flight at once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub concurrency: Option<u64>,
    /// The probe: a later case's failure is compared with the baseline's, `reproduce`
    /// replays a case's earlier bodies too, R10 is judged.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub chains: bool,
    /// Between the held body and the one sent beside it (R10's `reproduce`), in ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stagger_ms: Option<f64>,
}

/// One case of a `send` scenario.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseMeta {
    /// The name findings carry as their source (`r6-file-closed-before-file-opening`).
    pub name: String,
    /// What the case sends.
    pub about: String,
    /// Bodies it sends.
    pub bodies: u64,
}

/// `brhook send`: which body of which case a request carried, and how its answer is
/// judged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sent {
    /// Index of its case in [`SendMeta::cases`].
    pub case: u32,
    /// Position in its case, 0-based (a chain for `reproduce` is the earlier ones).
    pub position: u32,
    /// What it is: `FileClosed (1.3 shape)`.
    pub label: String,
    /// The check its answer is judged under, by id (`R4` for an extra-field case).
    pub check: String,
    /// 0-based attempt number at this URL.
    #[serde(default)]
    pub attempt: u32,
    /// Part of the probe's baseline (the R1 cases).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub baseline: bool,
    /// The baseline body it is compared with: a known type and its shape.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub like: Option<Like>,
    /// What its answer time means for R10.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timing: Option<Timing>,
    /// Where the body was saved (`--save-bodies`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// Sets its case up (the SessionStarted before an out-of-order FileClosed): its 2xx
    /// does not show that the case's check passed.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub setup: bool,
}

/// `send`: brhook connected once more to a receiver after the run's settle window, to
/// see whether it is still up (R11).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reconnect {
    /// The URL's name, as in [`Meta::urls`].
    pub url: String,
    /// When, in milliseconds since the run began.
    pub at_ms: f64,
    /// How long after the run's last answer (the settle window), in milliseconds.
    pub settle_ms: f64,
    /// Why the connection failed; `None` when it was accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// A known event type and shape, for comparing with the baseline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Like {
    /// `FileClosed`.
    #[serde(rename = "type")]
    pub event_type: String,
    /// In 2.x shape (it writes the 2.x booleans such as `Recording`).
    pub recording: bool,
}

/// R10's roles: the body whose answer may be held, the one sent beside it, and the same
/// kind sent alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Timing {
    /// Sent alone: how fast this kind is answered when nothing else is held.
    Alone,
    /// The body the receiver may hold.
    Held,
    /// Sent just after the held one, while it may be held.
    Beside,
}

/// What a replay's journal says of the capture it replayed, for its report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReplayMeta {
    /// The capture replayed, as given.
    pub capture: String,
    /// How fast: `×1`, `max`.
    pub speed: String,
    /// Captured v1 records not sent (no v1 URL was given).
    #[serde(default)]
    pub v1_not_sent: u64,
    /// Captured id values sent as captured (not a GUID, or escaped).
    #[serde(default)]
    pub ids_kept: u64,
}

/// What a proxy capture's receiver-side judge needs beyond the requests.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProxyMeta {
    /// R2: an answer slower than this many milliseconds is `warn` (R10 uses it too).
    pub slow_after_ms: f64,
    /// The upstream timeout in milliseconds: no answer by then is relayed as 504.
    pub timeout_ms: f64,
}

/// `brhook proxy`: the leg between brhook and the receiver, for a request brhook
/// forwarded (a request answered by a fault, a 404 or a 413 has none).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Upstream {
    /// The headers forwarded: the sender's, in its order, less hop-by-hop headers and
    /// `Host` (brhook sends the receiver's own `Host` first). The body is forwarded as
    /// it arrived, so it is not repeated.
    pub headers: Vec<(String, String)>,
    /// Milliseconds since capture start at which forwarding began.
    pub sent_ms: f64,
    /// Milliseconds since capture start at which the receiver's answer was read whole,
    /// or forwarding failed.
    pub answered_ms: f64,
    /// The receiver's status; `None` when it gave none (see `error`).
    pub status: Option<u16>,
    /// The receiver's answer headers, as relayed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub answer_headers: Vec<(String, String)>,
    /// The receiver's answer body, as relayed (base64 in the file).
    #[serde(with = "b64", default, skip_serializing_if = "Vec::is_empty")]
    pub answer_body: Vec<u8>,
    /// Why the receiver gave no answer; brhook then relayed 502 or 504 itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<UpstreamError>,
}

impl Upstream {
    /// Milliseconds the receiver took, from forwarding to its answer (or the failure).
    pub fn took_ms(&self) -> f64 {
        self.answered_ms - self.sent_ms
    }
    /// True when the receiver answered 2xx.
    pub fn succeeded(&self) -> bool {
        self.status.is_some_and(|s| (200..300).contains(&s))
    }
}

/// Why a forwarded request got no answer from the receiver.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "detail", rename_all = "kebab-case")]
pub enum UpstreamError {
    /// The receiver could not be reached (refused, no route, DNS): relayed 502.
    Connect(String),
    /// The TLS handshake failed (an untrusted certificate, say): relayed 502.
    Tls(String),
    /// The connection broke, or the answer was no HTTP: relayed 502.
    Protocol(String),
    /// No whole answer within the upstream timeout: relayed 504.
    Timeout,
    /// The answer's body was over the size limit: relayed 502.
    TooLarge,
}

impl UpstreamError {
    /// The status brhook relays in place of the receiver's answer.
    pub fn relayed_status(&self) -> u16 {
        match self {
            UpstreamError::Timeout => 504,
            _ => 502,
        }
    }
}

impl std::fmt::Display for UpstreamError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            UpstreamError::Connect(e) => write!(f, "could not connect: {e}"),
            UpstreamError::Tls(e) => write!(f, "TLS handshake failed: {e}"),
            UpstreamError::Protocol(e) => write!(f, "the connection failed: {e}"),
            UpstreamError::Timeout => f.write_str("no answer within the upstream timeout"),
            UpstreamError::TooLarge => f.write_str("the answer's body was over the size limit"),
        }
    }
}

/// `brhook proxy --shadow NAME=URL`: what a candidate receiver answered to a copy of a
/// request forwarded at NAME. A line of its own (`"type":"shadow"`), written when the
/// candidate is done, after the request's own line: the sender never waits for it.
/// Readers that do not ask for these lines ([`Reader::with_shadows`]) skip them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Shadow {
    /// The request's [`Request::seq`].
    pub seq: u64,
    /// The URL name that forwarded it.
    pub url: String,
    /// The candidate receiver's URL.
    pub to: String,
    /// The real receiver's status for the same request (`None`: it gave none).
    pub real_status: Option<u16>,
    /// Milliseconds the real receiver took.
    pub real_took_ms: f64,
    /// The candidate's leg (the same headers and body as forwarded); `None` when the
    /// copy was dropped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub leg: Option<Upstream>,
    /// Not sent: as many copies as allowed were already waiting on the candidate, so
    /// this one was dropped rather than queued.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub dropped: bool,
}

/// How a request was answered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Response {
    /// Status sent, or `None` when the connection was reset without one.
    pub status: Option<u16>,
    /// Milliseconds since capture start at which the answer was released.
    pub at_ms: f64,
    /// Set when the sender closed the connection while the answer was held, at this
    /// time (milliseconds since capture start): it gave up and never read the answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub abandoned_ms: Option<f64>,
}

/// One request as it arrived, and the answer it got.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Request {
    /// Sequence number, from 1, in arrival order.
    pub seq: u64,
    /// Connection number, from 1: requests on one keep-alive connection share it.
    pub conn: u64,
    /// Milliseconds since capture start (monotonic) at which the head arrived.
    pub at_ms: f64,
    /// HTTP method as sent.
    pub method: String,
    /// Path and query as sent.
    pub target: String,
    /// The URL name it was addressed to; `None` for a stray request (unknown path).
    pub url: Option<String>,
    /// Headers in arrival order, names as hyper reports them (lowercase).
    pub headers: Vec<(String, String)>,
    /// Body bytes as received (base64 in the file).
    #[serde(with = "b64")]
    pub body: Vec<u8>,
    /// Set when the body could not be read whole (over the size limit, cut off).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_error: Option<String>,
    /// How the request was answered (by a proxy: what it relayed to the sender).
    pub response: Response,
    /// `brhook proxy`: the forwarded leg, when the request was forwarded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upstream: Option<Upstream>,
    /// `brhook send`: the body of the scenario it carried.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sent: Option<Sent>,
}

impl Request {
    /// The first header of this name (case-insensitive), if any.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    /// True when the answer was a 2xx.
    pub fn succeeded(&self) -> bool {
        self.response.status.is_some_and(|s| (200..300).contains(&s))
    }
}

/// A whole capture.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Journal {
    /// The capture's meta line.
    pub meta: Meta,
    /// Requests in sequence order.
    pub requests: Vec<Request>,
    /// Milliseconds since start at which the capture closed; `None` while open.
    pub closed_ms: Option<f64>,
    /// The quiet window the capture waited for before closing, in milliseconds.
    pub quiet_ms: Option<f64>,
}

#[derive(Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
enum Line {
    Meta(Box<Meta>),
    Request(Box<Request>),
    File(FileLine),
    Close {
        at_ms: f64,
        quiet_ms: f64,
    },
    /// The file is full (rotation) or was moved (SIGHUP): the capture goes on in a new
    /// file at the same path, whose first meta line has this run and part.
    Continued {
        part: u32,
    },
    Shadow(Box<Shadow>),
    Reconnect(Reconnect),
}

/// How a shadow line begins, as [`Writer::shadow_line`] writes it.
const SHADOW_PREFIX: &str = r#"{"type":"shadow","#;

/// True for a shadow line ([`Shadow`]) as returned by [`Reader::next_raw`].
pub fn is_shadow(line: &str) -> bool {
    line.starts_with(SHADOW_PREFIX)
}

/// Parses a shadow line ([`is_shadow`]).
pub fn parse_shadow(line: &str) -> Result<Shadow, JournalError> {
    match serde_json::from_str::<Line>(line) {
        Ok(Line::Shadow(s)) => Ok(*s),
        Ok(_) => Err(JournalError::Line("not a shadow line".into())),
        Err(e) => Err(JournalError::Line(e.to_string())),
    }
}

/// A file line written by reference.
#[derive(Serialize)]
#[serde(tag = "type", rename_all = "lowercase")]
enum LineRefFile<'a> {
    File(&'a FileLine),
}

/// A request line written by reference: [`Line`]'s form without copying the request.
#[derive(Serialize)]
#[serde(tag = "type", rename_all = "lowercase")]
enum LineRef<'a> {
    Request(&'a Request),
    Shadow(&'a Shadow),
}

impl Journal {
    /// An open, empty journal for these URLs and path prefix, started now.
    pub fn new(urls: Vec<UrlSpec>, prefix: String) -> Journal {
        Journal {
            meta: Meta {
                tool: "brhook".into(),
                version: env!("CARGO_PKG_VERSION").into(),
                started: chrono::Local::now().to_rfc3339(),
                urls,
                prefix,
                proxy: None,
                replay: None,
                send: None,
                workdir: None,
                segment: None,
            },
            requests: Vec::new(),
            closed_ms: None,
            quiet_ms: None,
        }
    }

    /// The fault plan of the URL of this name; `None` for an unknown name.
    pub fn fault(&self, url: &str) -> Option<&Fault> {
        self.meta.urls.iter().find(|u| u.name == url).map(|u| &u.fault)
    }

    /// Reads a JSON Lines journal into memory. A torn last line (a kill mid-write) is
    /// ignored. For large journals, [`Reader`] streams it instead.
    pub fn read(path: &Path) -> Result<Journal, JournalError> {
        let mut r = Reader::open(path)?;
        let (mut requests, mut first_bad) = (Vec::new(), None);
        while let Some((n, line)) = r.next_raw()? {
            match parse_request(&line) {
                Ok(req) => requests.push(req),
                Err(e) => {
                    first_bad.get_or_insert((n, e));
                }
            }
        }
        r.forgive_only_the_last(first_bad)?;
        requests.sort_by_key(|r| r.seq);
        Ok(Journal {
            meta: r.meta,
            requests,
            closed_ms: r.closed_ms,
            quiet_ms: r.quiet_ms,
        })
    }

    /// Writes the whole journal as JSON Lines.
    pub fn write(&self, path: &Path) -> Result<(), JournalError> {
        let mut w = Writer::create(path, &self.meta)?;
        for r in &self.requests {
            w.request(r)?;
        }
        if let (Some(c), Some(q)) = (self.closed_ms, self.quiet_ms) {
            w.close(c, q)?;
        }
        Ok(())
    }
}

/// Why a journal could not be read or written.
#[derive(Debug)]
pub enum JournalError {
    /// The file could not be opened, read or written.
    Io {
        /// What was being done: `read` or `write`.
        doing: &'static str,
        /// The journal's path.
        path: String,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// The file is not a brhook journal; the text says what it seems to be instead.
    NotAJournal(String),
    /// A line that is not a journal line, before the last (a torn last line is
    /// forgiven).
    BadLine {
        /// The journal's path.
        path: String,
        /// The line's number, from 1.
        line: usize,
        /// What is wrong with it.
        why: String,
    },
    /// One line that does not parse as a request line (its place is not known here).
    Line(String),
}

impl std::fmt::Display for JournalError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            JournalError::Io {
                doing: "write",
                path,
                source,
            } => write!(
                f,
                "cannot write journal {path}: {source} (choose a writable path)"
            ),
            JournalError::Io { doing, path, source } => write!(f, "cannot {doing} journal {path}: {source}"),
            JournalError::NotAJournal(why) | JournalError::Line(why) => f.write_str(why),
            JournalError::BadLine { path, line, why } => {
                write!(f, "{path} line {line}: not a brhook journal line: {why}")
            }
        }
    }
}

impl std::error::Error for JournalError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            JournalError::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

// Callers whose own errors are text (the CLI's) keep using `?`.
impl From<JournalError> for String {
    fn from(e: JournalError) -> String {
        e.to_string()
    }
}

fn io_err<'a>(doing: &'static str, path: &'a str) -> impl FnOnce(std::io::Error) -> JournalError + 'a {
    move |source| JournalError::Io {
        doing,
        path: path.to_string(),
        source,
    }
}

/// One run of a capture, as the reader met its first meta line: a journal that
/// restarts appended to holds several.
#[derive(Debug, Clone, PartialEq)]
pub struct Run {
    /// Its wall-clock start (RFC 3339).
    pub started: String,
    /// How the run before it ended (`None` for the first run).
    pub after: Option<Previous>,
    /// Its close line was read.
    pub closed: bool,
}

/// Reads a journal line by line: the meta line first, then one request at a time, so a
/// journal of any size is judged in constant memory. A bad line is an error unless it
/// is the last of its file (torn by a kill mid-write). With [`Reader::follow`] it reads
/// a journal that is still being written, as `tail -f` does, until the capture closes,
/// going on in the next file when the writer rotates or reopens it. A set of files
/// ([`Reader::open_set`]: a journal and its rotated files) is read as one capture.
pub struct Reader {
    src: std::io::BufReader<std::fs::File>,
    buf: String,
    path: String,
    /// The journal's own path (a follower finds the next part by it).
    base: PathBuf,
    /// Counted over every file read, so that a line number is one place in the set.
    line_no: usize,
    last_line: usize,
    /// The last line number of each file read to its end (a torn line there is
    /// forgiven), and the first line number and path of each file, for messages.
    ends: Vec<usize>,
    files: Vec<(usize, PathBuf)>,
    /// Files of the set still to read, in order.
    rest: std::collections::VecDeque<PathBuf>,
    follow: Option<Arc<AtomicBool>>,
    /// Whether [`Reader::next_raw`] returns shadow lines (else it skips them).
    shadows: bool,
    /// The run whose lines are being read, for a follower's next part.
    run: Option<String>,
    /// The journal's meta line, read on open (the first file's first).
    pub meta: Meta,
    /// Set once the close line has been read (at the end); a later run's meta line
    /// clears it again.
    pub closed_ms: Option<f64>,
    /// The quiet window from the close line, in milliseconds; set with `closed_ms`.
    pub quiet_ms: Option<f64>,
    /// `send`'s reconnect lines, one per receiver (R11).
    pub reconnects: Vec<Reconnect>,
    /// The `--workdir` files' lines read so far ([`FileLine`]): one per file.
    pub workdir_files: Vec<FileLine>,
    /// The runs read so far (one per start of brhook that wrote to the journal).
    pub runs: Vec<Run>,
}

impl Reader {
    /// Opens a journal and reads its meta line; an error when the file is not a journal.
    pub fn open(path: &Path) -> Result<Reader, JournalError> {
        let shown = path.display().to_string();
        let f = std::fs::File::open(path).map_err(io_err("read", &shown))?;
        let mut r = Reader {
            src: std::io::BufReader::with_capacity(1 << 16, f),
            buf: String::new(),
            path: shown.clone(),
            base: path.to_path_buf(),
            line_no: 0,
            last_line: 0,
            ends: Vec::new(),
            files: vec![(1, path.to_path_buf())],
            rest: Default::default(),
            follow: None,
            shadows: false,
            run: None,
            meta: Meta {
                tool: String::new(),
                version: String::new(),
                started: String::new(),
                urls: Vec::new(),
                prefix: String::new(),
                proxy: None,
                replay: None,
                send: None,
                workdir: None,
                segment: None,
            },
            closed_ms: None,
            quiet_ms: None,
            reconnects: Vec::new(),
            workdir_files: Vec::new(),
            runs: Vec::new(),
        };
        r.meta = loop {
            let Some(line) = r.next_line()? else {
                return Err(JournalError::NotAJournal(not_a_journal(path)));
            };
            if line.trim().is_empty() {
                continue;
            }
            match serde_json::from_str::<Line>(&line) {
                Ok(Line::Meta(m)) => break *m,
                _ => return Err(JournalError::NotAJournal(not_a_journal(path))),
            }
        };
        r.met(&r.meta.clone());
        r.last_line = r.line_no;
        Ok(r)
    }

    /// Opens a set of journal files as one capture (a journal and its rotated files,
    /// in any order given): each must be a journal; they are read in the order their
    /// meta lines give (run, then part), files without one in the order given.
    pub fn open_set(paths: &[PathBuf]) -> Result<Reader, JournalError> {
        let mut keyed = Vec::with_capacity(paths.len());
        for (i, p) in paths.iter().enumerate() {
            let r = Reader::open(p)?;
            keyed.push((segment::order_key(&r.meta, i), p.clone()));
        }
        keyed.sort();
        let mut order: std::collections::VecDeque<PathBuf> = keyed.into_iter().map(|(_, p)| p).collect();
        let Some(first) = order.pop_front() else {
            return Err(JournalError::NotAJournal("no journal file was given".into()));
        };
        let mut r = Reader::open(&first)?;
        r.rest = order;
        Ok(r)
    }

    /// Reads on at the end of the file until `closed` is set (the capture wrote its close
    /// line), waiting for lines as they are written; a line is taken only once whole.
    pub fn follow(mut self, closed: Arc<AtomicBool>) -> Reader {
        self.follow = Some(closed);
        self
    }

    /// [`Reader::next_raw`] returns shadow lines too ([`is_shadow`], [`parse_shadow`]).
    pub fn with_shadows(mut self) -> Reader {
        self.shadows = true;
        self
    }
    /// A meta line was read: a new run begins at part 0 (or in a journal without
    /// segments), and the first file read begins one whatever its part (a set whose
    /// oldest files were rotated out).
    fn met(&mut self, m: &Meta) {
        if let Some(s) = &m.segment {
            self.run = Some(s.run.clone());
        }
        if self.runs.is_empty() || m.segment.as_ref().is_none_or(|s| s.part == 0) {
            self.closed_ms = None;
            self.quiet_ms = None;
            self.runs.push(Run {
                started: m.started.clone(),
                after: m.segment.as_ref().and_then(|s| s.after.clone()),
                closed: false,
            });
        }
    }

    /// The next line, without its newline; `None` at the end.
    fn next_line(&mut self) -> Result<Option<String>, JournalError> {
        // Set once a read has begun after the capture was seen closed: the close line is
        // written before the flag is set, but perhaps after the read that found the end,
        // so the end is the end only when found again after that.
        let mut read_after_close = false;
        loop {
            let n = std::io::BufRead::read_line(&mut self.src, &mut self.buf)
                .map_err(io_err("read", &self.path))?;
            if self.buf.ends_with('\n') {
                break;
            }
            // At the end of the file, perhaps inside a line that is still being written.
            match &self.follow {
                Some(closed) if !closed.load(Ordering::SeqCst) => {
                    std::thread::sleep(std::time::Duration::from_millis(2));
                    continue;
                }
                Some(_) if n > 0 || !read_after_close => {
                    read_after_close = true;
                    continue;
                }
                _ if self.buf.is_empty() => match self.rest.pop_front() {
                    Some(next) => {
                        self.switch_to(&next)?;
                        continue;
                    }
                    None => return Ok(None),
                },
                _ => break,
            }
        }
        self.line_no += 1;
        let mut line = std::mem::take(&mut self.buf);
        if line.ends_with('\n') {
            line.pop();
        }
        Ok(Some(line))
    }

    /// Goes on reading in `next`: this file is read to its end.
    fn switch_to(&mut self, next: &Path) -> Result<(), JournalError> {
        let shown = next.display().to_string();
        let f = std::fs::File::open(next).map_err(io_err("read", &shown))?;
        self.switch_to_file(f, next)
    }

    /// Goes on reading `f` (opened at `next`) from its start: this file is read to its end.
    fn switch_to_file(&mut self, mut f: std::fs::File, next: &Path) -> Result<(), JournalError> {
        let shown = next.display().to_string();
        std::io::Seek::rewind(&mut f).map_err(io_err("read", &shown))?;
        self.src = std::io::BufReader::with_capacity(1 << 16, f);
        self.buf.clear();
        self.ends.push(self.line_no);
        self.files.push((self.line_no + 1, next.to_path_buf()));
        self.path = shown;
        Ok(())
    }

    /// A follower read `continued`: the writer went on in a new file at the journal's
    /// path, which by now may have been rotated further: the file whose meta line is
    /// this run's `part` is found among the path and its rotated names.
    fn follow_to(&mut self, part: u32) -> Result<(), JournalError> {
        let run = self.run.clone();
        let mut last_try = false;
        loop {
            for p in segment::candidates(&self.base) {
                let Ok(r) = Reader::open(&p) else { continue };
                let seg = r.meta.segment.as_ref();
                if seg.is_some_and(|s| Some(&s.run) == run.as_ref() && s.part == part) {
                    // The file whose meta line was just read, not the path again: the
                    // writer may have rotated it away meanwhile, and the path would
                    // then name the part after it (its lines were skipped that way).
                    self.switch_to_file(r.src.into_inner(), &p)?;
                    return Ok(());
                }
            }
            if last_try {
                return Err(JournalError::Line(format!(
                    "part {part} of journal {} was gone before it was judged (rotated out by --journal-keep)",
                    self.base.display()
                )));
            }
            // The new file may not have its meta line yet; once the capture closed, one
            // more look and no more.
            last_try = self.follow.as_ref().is_none_or(|c| c.load(Ordering::SeqCst));
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
    }
}

impl Reader {
    /// The next request line unparsed, with its line number, for callers that parse
    /// lines on several threads ([`parse_request`]). Meta and close lines are read here.
    /// A line that is no journal line is returned too: [`parse_request`] names it, and
    /// [`Reader::forgive_only_the_last`] tells whether it was the last (torn by a kill).
    pub fn next_raw(&mut self) -> Result<Option<(usize, String)>, JournalError> {
        while let Some(line) = self.next_line()? {
            if line.trim().is_empty() {
                continue;
            }
            self.last_line = self.line_no;
            if line.starts_with(r#"{"type":"request","#) {
                return Ok(Some((self.line_no, line)));
            }
            if is_shadow(&line) {
                if self.shadows {
                    return Ok(Some((self.line_no, line)));
                }
                continue;
            }
            match serde_json::from_str::<Line>(&line) {
                Ok(Line::Close { at_ms, quiet_ms }) => {
                    self.closed_ms = Some(at_ms);
                    self.quiet_ms = Some(quiet_ms);
                    if let Some(r) = self.runs.last_mut() {
                        r.closed = true;
                    }
                }
                Ok(Line::Meta(m)) => self.met(&m),
                Ok(Line::Continued { part }) => {
                    if self.following() {
                        self.follow_to(part)?;
                    }
                }
                Ok(Line::Reconnect(c)) => self.reconnects.push(c),
                Ok(Line::File(f)) => self.workdir_files.push(f),
                // A request line of another spelling, or a bad line: the parser decides.
                _ => return Ok(Some((self.line_no, line))),
            }
        }
        Ok(None)
    }

    /// True when following a journal that is still being written.
    pub fn following(&self) -> bool {
        self.follow.is_some()
    }

    /// The journal's path (the first file of a set).
    pub fn path(&self) -> &Path {
        &self.files[0].1
    }

    /// Every file read so far, in the order read; for a follower, the journal and the
    /// rotated files it has now (the files it read have been renamed since).
    pub fn paths(&self) -> Vec<PathBuf> {
        if self.following() {
            let set = segment::candidates(&self.base);
            if !set.is_empty() {
                return set;
            }
        }
        self.files.iter().map(|f| f.1.clone()).collect()
    }

    /// True while lines read ahead are waiting: the next line comes without waiting on
    /// the file (a follower sends what it has before it waits).
    pub fn buffered(&self) -> bool {
        !self.src.buffer().is_empty()
    }

    /// The one rule for bad lines, given the first (line number and why): an error
    /// unless it is the last line of its file (torn by a kill mid-write, forgiven).
    pub fn forgive_only_the_last(
        &self,
        first_bad: Option<(usize, JournalError)>,
    ) -> Result<(), JournalError> {
        match first_bad {
            Some((line, e)) if line != self.last_line && !self.ends.contains(&line) => {
                // The place in its own file.
                let (first, path) = self
                    .files
                    .iter()
                    .rev()
                    .find(|(first, _)| *first <= line)
                    .cloned()
                    .unwrap_or((1, self.base.clone()));
                Err(JournalError::BadLine {
                    path: path.display().to_string(),
                    line: line + 1 - first,
                    why: e.to_string(),
                })
            }
            _ => Ok(()),
        }
    }

    /// A bad line the rule of [`Reader::forgive_only_the_last`] forgives (the last of
    /// its file): callers keep the first bad line that is not.
    pub fn forgives(&self, line: usize) -> bool {
        line == self.last_line || self.ends.contains(&line)
    }

    /// What the runs tell a reader of the report: restarts, and runs cut short. `None`
    /// for a journal of one run.
    pub fn runs_note(&self) -> Option<String> {
        if self.runs.len() < 2 {
            return None;
        }
        let killed: Vec<String> = self
            .runs
            .iter()
            .enumerate()
            .skip(1)
            .filter(|(_, r)| matches!(r.after, Some(Previous::Killed { .. })))
            .map(|(i, _)| format!("run {} (started {})", i, self.runs[i - 1].started))
            .collect();
        let mut note = format!(
            "{} runs (brhook was restarted {} time{}), judged as one capture",
            self.runs.len(),
            self.runs.len() - 1,
            crate::common::plural_s((self.runs.len() - 1) as u64)
        );
        if !killed.is_empty() {
            note.push_str(&format!(
                "; {} ended without its close line (killed): {}",
                if killed.len() == 1 { "one run" } else { "runs" },
                killed.join(", ")
            ));
        }
        Some(note)
    }
}

/// Why a file is not a journal, saying what it is when that can be told, and what to
/// run instead.
fn not_a_journal(path: &Path) -> String {
    let shown = path.display();
    let head = std::fs::File::open(path).ok().map(|f| {
        let mut b = Vec::new();
        let _ = std::io::Read::read_to_end(&mut std::io::Read::take(f, 16 << 20), &mut b);
        b
    });
    let Some(bytes) = head.filter(|b| !b.iter().all(u8::is_ascii_whitespace)) else {
        return format!(
            "{shown} is empty: no capture was written to it (brhook listen --journal FILE writes one)"
        );
    };
    let text = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
    let value = serde_json::from_slice::<serde_json::Value>(text).ok();
    let has = |k: &str| value.as_ref().is_some_and(|v| v.get(k).is_some());
    if value
        .as_ref()
        .and_then(|v| v.get("format"))
        .and_then(|f| f.as_str())
        .is_some_and(|f| f.starts_with("brhook-normalized/"))
    {
        return format!(
            "{shown} is a normalized baseline, not a journal: compare a capture with it by `brhook diff {shown} JOURNAL`"
        );
    }
    if has("EventType") || has("EventId") || has("EventRandomId") || has("EventData") {
        return format!("{shown} is a webhook body, not a journal: judge it with `brhook validate {shown}`");
    }
    format!("{shown}: no meta line; is this a brhook journal? (brhook listen --journal FILE writes one)")
}

/// Parses one request line returned by [`Reader::next_raw`].
pub fn parse_request(line: &str) -> Result<Request, JournalError> {
    let bad = |e: serde_json::Error| JournalError::Line(e.to_string());
    if line.starts_with(r#"{"type":"request","#) {
        return serde_json::from_str::<Request>(line).map_err(bad);
    }
    match serde_json::from_str::<Line>(line) {
        Ok(Line::Request(r)) => Ok(*r),
        Ok(_) => Err(JournalError::Line("not a request line".into())),
        Err(e) => Err(bad(e)),
    }
}

/// Appends journal lines to a file, each group with one `write` (unbuffered: a line is
/// in the file, for the judge and for a kill, once the call returns). A write that
/// fails part-way is cut back off, so the file stays whole lines and a later write
/// (once there is room again) goes on after the last whole line.
pub struct Writer {
    file: std::fs::File,
    path: PathBuf,
    shown: String,
    /// Bytes in the file (where the next line begins).
    len: u64,
    /// The run's meta line: a continuation file begins with it, its part counted on.
    meta: Meta,
    rotation: Option<Rotation>,
}

impl Writer {
    /// Creates (truncating) the file and writes the meta line (a new capture: a new run,
    /// its first part, unless the meta says otherwise).
    pub fn create(path: &Path, meta: &Meta) -> Result<Writer, JournalError> {
        let shown = path.display().to_string();
        std::fs::File::create(path).map_err(io_err("write", &shown))?;
        let mut meta = meta.clone();
        meta.segment.get_or_insert_with(Segment::first);
        Writer::open(path, meta, None)
    }

    /// Appends a new run to the journal at `path` (a restart): `meta`'s segment is set
    /// to go on from what the file holds (request numbers, clock, and whether the last
    /// run was killed; an incomplete last line it left is moved into the new meta line).
    /// A missing or empty file begins a new capture; one that was rotated away (`FILE`
    /// gone, `FILE.1` there) is gone on from too.
    pub fn append(path: &Path, meta: &mut Meta, rotation: Option<Rotation>) -> Result<Writer, JournalError> {
        let shown = path.display().to_string();
        let here = segment::scan(path)?;
        let prior = here.as_ref();
        let rotated = if prior.is_none() {
            segment::scan(&segment::numbered(path, 1)).ok().flatten()
        } else {
            None
        };
        meta.segment = Some(segment::after(prior.or(rotated.as_ref())));
        if let Some((at, _)) = here.as_ref().and_then(|p| p.torn.as_ref()) {
            let f = std::fs::OpenOptions::new()
                .write(true)
                .open(path)
                .map_err(io_err("write", &shown))?;
            f.set_len(*at).map_err(io_err("write", &shown))?;
        }
        Writer::open(path, meta.clone(), rotation)
    }

    /// Opens `path` to append, and writes `meta` first.
    fn open(path: &Path, meta: Meta, rotation: Option<Rotation>) -> Result<Writer, JournalError> {
        let mut w = Writer::open_bare(path, meta, rotation)?;
        let meta = Line::Meta(Box::new(w.meta.clone()));
        w.line(&meta)?;
        Ok(w)
    }

    /// Opens `path` to append, writing nothing yet.
    fn open_bare(path: &Path, meta: Meta, rotation: Option<Rotation>) -> Result<Writer, JournalError> {
        let shown = path.display().to_string();
        // O_APPEND: a file truncated under brhook (logrotate's copytruncate) is written
        // from its new end, with no hole.
        let file = std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(path)
            .map_err(io_err("write", &shown))?;
        let len = file.metadata().map_err(io_err("write", &shown))?.len();
        Ok(Writer {
            file,
            path: path.to_path_buf(),
            shown,
            len,
            meta,
            rotation,
        })
    }

    /// Rotates once a file reaches `max_bytes` (see [`Rotation`]).
    pub fn rotate_at(mut self, rotation: Option<Rotation>) -> Writer {
        self.rotation = rotation;
        self
    }

    /// Appends a request line.
    pub fn request(&mut self, r: &Request) -> Result<(), JournalError> {
        self.line(&LineRef::Request(r))
    }
    /// A request's line as [`Writer::request`] writes it, newline included: serialised
    /// by the request's own task, outside the writer's lock, for [`Writer::lines`].
    pub fn request_line(r: &Request) -> Vec<u8> {
        let mut v = Vec::with_capacity(256 + r.body.len() * 4 / 3);
        Writer::push_request_line(&mut v, r);
        v
    }
    /// Appends a request's line, newline included, to `out` (a batch of lines for
    /// [`Writer::lines`]).
    pub fn push_request_line(out: &mut Vec<u8>, r: &Request) {
        serde_json::to_writer(&mut *out, &LineRef::Request(r)).expect("journal lines serialise");
        out.push(b'\n');
    }
    /// A shadow's line, newline included, for [`Writer::lines`].
    pub fn shadow_line(s: &Shadow) -> Vec<u8> {
        let mut v = serde_json::to_vec(&LineRef::Shadow(s)).expect("journal lines serialise");
        v.push(b'\n');
        v
    }
    /// Appends whole lines (a group commit: several requests' lines) with one write,
    /// then rotates the file if it is full.
    pub fn lines(&mut self, bytes: &[u8]) -> Result<(), JournalError> {
        self.write(bytes)?;
        match self.rotation {
            Some(r) if self.len >= r.max_bytes => self.continue_in_new_file(true),
            _ => Ok(()),
        }
    }
    /// Appends a reconnect line (`send`'s last look at a receiver, R11).
    pub fn reconnect(&mut self, c: &Reconnect) -> Result<(), JournalError> {
        self.line(&Line::Reconnect(c.clone()))
    }
    /// Appends a `--workdir` file's line.
    pub fn file(&mut self, f: &FileLine) -> Result<(), JournalError> {
        self.line(&LineRefFile::File(f))
    }
    /// Appends the close line: closed at `at_ms` after a quiet window of `quiet_ms`.
    pub fn close(&mut self, at_ms: f64, quiet_ms: f64) -> Result<(), JournalError> {
        self.line(&Line::Close { at_ms, quiet_ms })
    }
    /// Reopens the file at the journal's path (SIGHUP, after logrotate moved it): the
    /// old file ends with a line saying so and the capture goes on in the new one.
    pub fn reopen(&mut self) -> Result<(), JournalError> {
        self.continue_in_new_file(false)
    }
    /// Bytes in the current file.
    pub fn len(&self) -> u64 {
        self.len
    }
    /// True when the current file holds nothing yet.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
    /// The run's meta line as this file began with it.
    pub fn meta(&self) -> &Meta {
        &self.meta
    }

    /// Ends this file with a `continued` line and goes on in a new one at the same
    /// path: after moving this one to `FILE.1` (`rotate`), or at whatever the path now
    /// names (a reopen).
    fn continue_in_new_file(&mut self, rotate: bool) -> Result<(), JournalError> {
        if rotate {
            let keep = self.rotation.map_or(1, |r| r.keep);
            segment::shift(&self.path, keep).map_err(io_err("rotate", &self.shown))?;
        }
        let mut meta = self.meta.clone();
        let seg = meta.segment.get_or_insert_with(Segment::first);
        seg.part += 1;
        seg.after = None;
        let part = seg.part;
        // The new file first: if it cannot be opened, this one goes on (a reader never
        // looks for a file that is not there).
        let mut next = Writer::open_bare(&self.path, meta, self.rotation)?;
        self.line(&Line::Continued { part })?;
        let meta = Line::Meta(Box::new(next.meta.clone()));
        next.line(&meta)?;
        *self = next;
        Ok(())
    }

    fn line(&mut self, l: &impl Serialize) -> Result<(), JournalError> {
        let mut s = serde_json::to_vec(l).expect("journal lines serialise");
        s.push(b'\n');
        self.write(&s)
    }

    fn write(&mut self, bytes: &[u8]) -> Result<(), JournalError> {
        match self.file.write_all(bytes) {
            Ok(()) => {
                self.len += bytes.len() as u64;
                Ok(())
            }
            Err(e) => {
                // A full disk may take part of the write: cut it off, so that the file
                // holds whole lines only.
                let _ = self.file.set_len(self.len);
                Err(io_err("write", &self.shown)(e))
            }
        }
    }
}

pub(crate) mod b64 {
    use super::*;
    pub fn serialize<S: serde::Serializer>(b: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&base64::engine::general_purpose::STANDARD.encode(b))
    }
    pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        // Decoded from the text as the parser holds it: no String per body.
        struct Text;
        impl serde::de::Visitor<'_> for Text {
            type Value = Vec<u8>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a base64 string")
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Vec<u8>, E> {
                base64::engine::general_purpose::STANDARD
                    .decode(s)
                    .map_err(E::custom)
            }
        }
        d.deserialize_str(Text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(seq: u64) -> Request {
        Request {
            seq,
            conn: 1,
            at_ms: seq as f64,
            method: "POST".into(),
            target: "/a".into(),
            url: Some("a".into()),
            headers: vec![("content-type".into(), "application/json".into())],
            body: b"{\"x\":\"\xE7\x9B\xB4\"}\xFF".to_vec(),
            body_error: None,
            response: Response {
                status: Some(204),
                at_ms: seq as f64 + 0.5,
                abandoned_ms: None,
            },
            upstream: None,
            sent: None,
        }
    }

    #[test]
    fn round_trips_raw_bytes_and_survives_a_torn_last_line() {
        let dir = std::env::temp_dir().join(format!("brhook-journal-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("j.jsonl");
        let mut j = Journal::new(
            vec![UrlSpec {
                name: "a".into(),
                fault: Fault::ok(),
                setting: None,
                upstream: None,
            }],
            String::new(),
        );
        j.requests = vec![request(1), request(2)];
        j.write(&path).unwrap();
        let back = Journal::read(&path).unwrap();
        assert_eq!(
            back.requests, j.requests,
            "bytes, invalid UTF-8 included, come back exactly"
        );
        // A kill mid-write tears the last line: what was written before is kept.
        let mut text = std::fs::read_to_string(&path).unwrap();
        text.push_str("{\"type\":\"request\",\"seq\":3,");
        std::fs::write(&path, &text).unwrap();
        assert_eq!(Journal::read(&path).unwrap().requests.len(), 2);
        // A bad line in the middle is an error that names the line.
        text.push_str("\n{\"type\":\"close\",\"at_ms\":1.0,\"quiet_ms\":1.0}\n");
        std::fs::write(&path, &text).unwrap();
        let e = Journal::read(&path).unwrap_err();
        assert!(matches!(e, JournalError::BadLine { line: 4, .. }), "{e}");
        assert!(e.to_string().contains("line 4"), "{e}");
    }

    #[test]
    fn shadow_lines_round_trip_and_only_readers_that_ask_see_them() {
        let dir = std::env::temp_dir().join(format!("brhook-journal-shadow-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("j.jsonl");
        let mut j = Journal::new(Vec::new(), String::new());
        j.requests = vec![request(1)];
        j.write(&path).unwrap();
        let shadow = Shadow {
            seq: 1,
            url: "a".into(),
            to: "http://127.0.0.1:9/new".into(),
            real_status: Some(204),
            real_took_ms: 1.5,
            leg: None,
            dropped: true,
        };
        let line = Writer::shadow_line(&shadow);
        let text = std::str::from_utf8(&line).unwrap().trim_end().to_string();
        assert!(is_shadow(&text), "{text}");
        assert_eq!(parse_shadow(&text).unwrap(), shadow);
        assert!(parse_request(&text).is_err(), "a shadow line is no request");
        let mut all = std::fs::read(&path).unwrap();
        all.extend_from_slice(&line);
        all.extend_from_slice(&Writer::request_line(&request(2)));
        std::fs::write(&path, all).unwrap();
        // A reader that does not ask skips it (the request after it is read).
        assert_eq!(Journal::read(&path).unwrap().requests.len(), 2);
        let mut r = Reader::open(&path).unwrap().with_shadows();
        let mut seen = Vec::new();
        while let Some((_, l)) = r.next_raw().unwrap() {
            seen.push(is_shadow(&l));
        }
        assert_eq!(seen, [false, true, false]);
    }

    #[test]
    fn journals_written_before_the_proxy_still_read_and_proxy_lines_round_trip() {
        // A request line as the endpoint wrote it before the proxy existed.
        let old = r#"{"type":"request","seq":1,"conn":1,"at_ms":1.0,"method":"POST","target":"/a","url":"a","headers":[],"body":"e30=","response":{"status":204,"at_ms":1.5}}"#;
        let r = parse_request(old).unwrap();
        assert_eq!((r.upstream, r.body), (None, b"{}".to_vec()));
        let meta: Meta = serde_json::from_str(
            r#"{"tool":"brhook","version":"0.1.0","started":"x","urls":[{"name":"a","fault":{"status":null,"fail":null,"reset":null,"delay_ms":0}}]}"#,
        )
        .unwrap();
        assert_eq!((meta.proxy, meta.urls[0].upstream.clone()), (None, None));
        // A proxied request: both legs come back exactly, the error typed.
        let mut r = request(2);
        r.upstream = Some(Upstream {
            headers: vec![("content-type".into(), "application/json".into())],
            sent_ms: 2.1,
            answered_ms: 3.0,
            status: None,
            answer_headers: Vec::new(),
            answer_body: b"\xFF".to_vec(),
            error: Some(UpstreamError::Connect("refused".into())),
        });
        let line = serde_json::to_string(&Line::Request(Box::new(r.clone()))).unwrap();
        assert!(
            line.contains(r#""error":{"kind":"connect","detail":"refused"}"#),
            "{line}"
        );
        assert_eq!(parse_request(&line).unwrap(), r);
        assert_eq!(UpstreamError::Timeout.relayed_status(), 504);
    }
}
