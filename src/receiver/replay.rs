//! `brhook replay`: a capture (a journal from `brhook listen --journal`, for instance of a
//! real recorder) sent again to a receiver, and the answers judged with the R checks.
//!
//! - Each captured event is sent **once per target URL**: retries and the copies other
//!   URLs received are dropped (identity: v2 `EventId`, v1 `EventRandomId`, else the body
//!   hash). v2 events go to the v2 URLs, v1 records to the v1 URLs (none given: not sent,
//!   R9 skipped).
//! - The bytes are the captured ones, never re-serialised. Ids are fresh unless
//!   [`Replay::original_ids`]: each GUID of `EventId`, `EventRandomId` and `SessionId` is
//!   replaced in place by a fresh one of the same length, one fresh id per original.
//! - Delivery is the reference sender's: `POST`, `Content-Type: application/json`,
//!   `User-Agent: BililiveRecorder/2.17.3` (the real sender's headers, not the captured
//!   ones: the receiver is judged on what the real recorder sends), every URL at once,
//!   up to 3 attempts after 0 s, 1 s, 2 s (× [`Replay::backoff_scale`]).
//! - Timing keeps the capture's gaps (arrival of each event's first request) divided by
//!   [`Speed`]; at most [`Replay::concurrency`] events are in flight.
//! - Streaming: the journal is read line by line (once to check it and count, once to
//!   send), a bounded window of recent ids is kept, each attempt is written to the
//!   replay's own journal as it ends, and an event's bytes are dropped once its delivery
//!   ends.
//!
//! The replay's journal is the proxy's format: one request line per attempt, with the
//! bytes and headers sent, when, and the receiver's answer (status, headers, first
//! bytes, timing) or why there was none; its meta says brhook was the sender. The report
//! is the standard judge's on that journal ([`crate::judge::judge_journal`]): the
//! receiver side as for a proxy (R1, R2, R3, R6-R10; R4 only the probe sends, R5 needs
//! a wrong retry, which brhook never makes), the sender side not exercised. So
//! `brhook check` on a kept journal ([`Replay::journal`]) gives the same report.

mod ids;
mod source;

pub use source::Tally;

use super::book::{Book, Output};
use super::{fmt_duration, Latency, SendError, DEFAULT_SLOW_AFTER};
use crate::journal::{Meta, ProxyMeta, ReplayMeta, Writer};
use crate::reference::{Sender, SenderConfig};
use crate::report::Report;
use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{mpsc, Semaphore};
use tokio::task::JoinSet;
use tokio::time::Instant;

/// Events in flight unless [`Replay::concurrency`] says otherwise.
pub const DEFAULT_CONCURRENCY: usize = 64;

/// How fast the capture is replayed.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Speed {
    /// The capture's gaps divided by this factor (1: as captured, 2: twice as fast).
    Factor(f64),
    /// No waiting: as fast as the concurrency cap allows.
    Max,
}

impl FromStr for Speed {
    type Err = String;
    fn from_str(s: &str) -> Result<Speed, String> {
        if s.eq_ignore_ascii_case("max") {
            return Ok(Speed::Max);
        }
        match s.parse::<f64>() {
            Ok(x) if x.is_finite() && x > 0.0 => Ok(Speed::Factor(x)),
            _ => Err(format!(
                "--speed {s}: give a factor above 0 (1 as captured, 10 ten times faster) or `max` (no waiting)"
            )),
        }
    }
}

impl fmt::Display for Speed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Speed::Factor(x) => write!(f, "×{x}"),
            Speed::Max => f.write_str("max"),
        }
    }
}

/// Why a replay could not run. Its `Display` is the one line to show.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReplayError {
    /// The journal cannot be read, or is not a journal.
    Journal(String),
    /// A receiver URL is unusable or unreachable.
    Send(SendError),
}

impl fmt::Display for ReplayError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReplayError::Journal(e) => f.write_str(e),
            ReplayError::Send(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for ReplayError {}

/// A finished replay.
#[derive(Clone, Debug)]
pub struct ReplayRun {
    /// The judged findings.
    pub report: Report,
    /// What reading the journal found.
    pub tally: Tally,
    /// Events sent (each to every URL of its setting).
    pub events: u64,
    /// Attempts made, retries included.
    pub attempts: u64,
    /// Events sent more than 50 ms after their time because the concurrency cap was full.
    pub late: u64,
    /// Over every answered attempt (histogram percentiles, within 2%).
    pub latency: Option<Latency>,
}

/// A capture to replay at a receiver. Built like a request, run with [`Replay::run`].
#[derive(Clone, Debug)]
pub struct Replay {
    journal: PathBuf,
    v2: Vec<String>,
    v1: Vec<String>,
    speed: Speed,
    original_ids: bool,
    backoff_scale: f64,
    slow_after: Duration,
    timeout: Duration,
    strict: bool,
    examples: usize,
    concurrency: usize,
    keep: Option<PathBuf>,
    /// `--workdir`: the files the captured events name, written before they are sent.
    workdir: Option<PathBuf>,
    keep_files: bool,
    expect_open: bool,
}

impl Replay {
    /// Replays `journal` to the v2 URL `url` at the capture's speed, with fresh ids.
    pub fn new(journal: impl Into<PathBuf>, url: impl Into<String>) -> Replay {
        Replay {
            journal: journal.into(),
            v2: vec![url.into()],
            v1: Vec::new(),
            speed: Speed::Factor(1.0),
            original_ids: false,
            backoff_scale: 1.0,
            slow_after: DEFAULT_SLOW_AFTER,
            timeout: crate::protocol::TIMEOUT,
            strict: false,
            examples: crate::report::DEFAULT_EXAMPLES,
            concurrency: DEFAULT_CONCURRENCY,
            keep: None,
            workdir: None,
            keep_files: false,
            expect_open: false,
        }
    }

    /// Another v2 URL: every v2 event goes to all of them at the same time.
    pub fn to(mut self, url: impl Into<String>) -> Replay {
        self.v2.push(url.into());
        self
    }

    /// A v1 URL: the captured v1 records go there (R9).
    pub fn v1(mut self, url: impl Into<String>) -> Replay {
        self.v1.push(url.into());
        self
    }

    /// How fast (default: the capture's own gaps).
    pub fn speed(mut self, speed: Speed) -> Replay {
        self.speed = speed;
        self
    }

    /// Sends the captured ids byte for byte instead of fresh ones.
    pub fn original_ids(mut self, keep: bool) -> Replay {
        self.original_ids = keep;
        self
    }

    /// Multiplies the back-off before retries (real: 1 s, then 2 s).
    pub fn backoff_scale(mut self, factor: f64) -> Replay {
        self.backoff_scale = factor;
        self
    }

    /// R2: answers slower than this are a warning (default 5 s).
    pub fn slow_after(mut self, d: Duration) -> Replay {
        self.slow_after = d;
        self
    }

    /// Per attempt: no answer within this is R2 `fail` (default 100 s).
    pub fn timeout(mut self, d: Duration) -> Replay {
        self.timeout = d;
        self
    }

    /// Warnings fail the report.
    pub fn strict(mut self, strict: bool) -> Replay {
        self.strict = strict;
        self
    }

    /// Examples kept per group of findings.
    pub fn examples(mut self, n: usize) -> Replay {
        self.examples = n;
        self
    }

    /// Events in flight at most (each with its bytes); at least 1.
    pub fn concurrency(mut self, n: usize) -> Replay {
        self.concurrency = n.max(1);
        self
    }

    /// Keeps the replay's own journal at `path` (default: a temporary file, removed at
    /// the end): the proxy's format, one request line per attempt sent, with the
    /// receiver's answer. `brhook check` on it gives the replay's report.
    pub fn journal(mut self, path: impl Into<PathBuf>) -> Replay {
        self.keep = Some(path.into());
        self
    }

    /// Writes the file each captured `FileOpening`/`FileClosed` names at
    /// `DIR/RelativePath` (a valid FLV) before the first event naming it is sent, and
    /// watches who opens it, as `send --workdir` does (R12, files never opened). The
    /// files stay until no process has had any open for the settle window, then go
    /// unless [`Replay::keep_files`].
    pub fn workdir(mut self, dir: impl Into<PathBuf>) -> Replay {
        self.workdir = Some(dir.into());
        self
    }

    /// Leaves the files of [`Replay::workdir`] in place at the end.
    pub fn keep_files(mut self, keep: bool) -> Replay {
        self.keep_files = keep;
        self
    }

    /// With [`Replay::workdir`]: every file the receiver never opened is an `info` line.
    pub fn expect_open(mut self, expect: bool) -> Replay {
        self.expect_open = expect;
        self
    }

    /// Reads the journal, sends its events, writes each attempt to the replay's journal
    /// and judges that journal.
    pub async fn run(&self) -> Result<ReplayRun, ReplayError> {
        // A file that is no journal is told at once; a bad line anywhere after a full
        // read, still before anything is sent.
        crate::journal::Reader::open(&self.journal).map_err(|e| ReplayError::Journal(e.to_string()))?;
        let config = SenderConfig::new(self.v2.clone(), self.v1.clone())
            .scaled(self.backoff_scale)
            .with_timeout(self.timeout);
        preflight(&config, self.timeout)
            .await
            .map_err(ReplayError::Send)?;
        let (path, fresh, v1) = (self.journal.clone(), !self.original_ids, !self.v1.is_empty());
        let tally = blocking(move || source::read(&path, fresh, v1, |_| true)).await?;

        if let Some(keep) = &self.keep {
            // Writing the replay's journal over the capture would destroy what is read.
            let same = |p: &std::path::Path| std::fs::canonicalize(p).ok();
            if same(keep).is_some() && same(keep) == same(&self.journal) {
                return Err(ReplayError::Journal(format!(
                    "--journal {} is the capture being replayed: give another file",
                    keep.display()
                )));
            }
        }
        let mut files = match &self.workdir {
            Some(dir) => {
                Some(super::workdir::Workdir::open(dir, self.keep_files).map_err(ReplayError::Send)?)
            }
            None => None,
        };
        let out = Output::new(self.keep.clone(), "replay");
        let mut meta = self.meta(&tally);
        meta.workdir = files.as_ref().map(|w| crate::journal::WorkdirMeta {
            watched: w.watch().watched(),
            expect_open: self.expect_open,
        });
        let writer = Writer::create(out.path(), &meta).map_err(|e| ReplayError::Journal(e.to_string()))?;
        let names: Vec<String> = self.names();
        let book = Arc::new(Mutex::new(Book::new(writer, self.v2.len())));

        let (tx, mut rx) = mpsc::channel::<source::Planned>(self.concurrency);
        let path = self.journal.clone();
        let reader = tokio::task::spawn_blocking(move || {
            source::read(&path, fresh, v1, |p| tx.blocking_send(p).is_ok())
        });
        let slots = Arc::new(Semaphore::new(self.concurrency));
        let mut tasks = JoinSet::new();
        let (start, mut first_at, mut events, mut late) = (Instant::now(), None::<f64>, 0u64, 0u64);
        let origin = start.into_std();
        while let Some(p) = rx.recv().await {
            let due = match self.speed {
                Speed::Max => None,
                Speed::Factor(x) => {
                    let t0 = *first_at.get_or_insert(p.at_ms);
                    let gap = ((p.at_ms - t0) / 1000.0 / x).max(0.0);
                    Some(start + Duration::from_secs_f64(gap.min(1e9)))
                }
            };
            if let Some(due) = due {
                tokio::time::sleep_until(due).await;
            }
            let slot = Arc::clone(&slots)
                .acquire_owned()
                .await
                .expect("the semaphore is never closed");
            if due.is_some_and(|d| d.elapsed() > Duration::from_millis(50)) {
                late += 1;
            }
            events += 1;
            if let Some(w) = files.as_mut() {
                write_file(w, &p.bytes);
            }
            let (config, book, names) = (config.clone(), Arc::clone(&book), names.clone());
            tasks.spawn(async move {
                let bytes = bytes::Bytes::from(p.bytes);
                let sent = bytes.clone();
                // Each attempt goes to the journal as it ends, not when its event does.
                let sender = Sender::new(config).on_attempt(move |a| {
                    let mut b = book.lock().unwrap_or_else(|e| e.into_inner());
                    b.write(a, &names, origin, &sent, None);
                });
                sender.send_bytes(p.setting, bytes);
                sender.wait().await;
                drop(slot);
            });
            // Finished deliveries are reaped as we go: the task set stays bounded.
            while let Some(r) = tasks.try_join_next() {
                resume_panic(r);
            }
        }
        while let Some(r) = tasks.join_next().await {
            resume_panic(r);
        }
        reader
            .await
            .map_err(|e| ReplayError::Journal(format!("journal reader stopped: {e}")))?
            .map_err(ReplayError::Journal)?;
        let at = origin.elapsed().as_secs_f64() * 1000.0;
        if let Some(w) = &files {
            // The files stay while the receiver works on them; what it opened is R12's.
            let watch = w.watch().clone();
            watch.quiet_for(super::DEFAULT_SETTLE).await;
            book.lock()
                .unwrap_or_else(|e| e.into_inner())
                .files(&watch.opens(), origin);
        }
        let (seq, all) = Book::close(book, at).map_err(ReplayError::Journal)?;

        let opts = crate::judge::Options {
            strict: self.strict,
            examples: self.examples,
            ..crate::judge::Options::default()
        };
        let judged = out.path().to_path_buf();
        let report = blocking(move || {
            let reader = crate::journal::Reader::open(&judged)?;
            crate::judge::judge_journal(reader, &opts, None, false).map(|(r, _)| r)
        })
        .await?;
        Ok(ReplayRun {
            report,
            tally,
            events,
            attempts: seq,
            late,
            latency: all.latency(),
        })
    }

    /// The replay journal's meta: the proxy's, with what the report says of the capture.
    fn meta(&self, tally: &Tally) -> Meta {
        let specs = super::book::specs(&self.v2, &self.v1);
        let mut j = crate::journal::Journal::new(specs, String::new());
        j.meta.proxy = Some(ProxyMeta {
            slow_after_ms: self.slow_after.as_secs_f64() * 1000.0,
            timeout_ms: self.timeout.as_secs_f64() * 1000.0,
        });
        j.meta.replay = Some(ReplayMeta {
            capture: self.journal.display().to_string(),
            speed: self.speed.to_string(),
            v1_not_sent: if self.v1.is_empty() { tally.v1 } else { 0 },
            ids_kept: tally.ids_kept,
        });
        j.meta
    }

    /// One journal name per target, v2 then v1: the URL itself (a repeated URL gets
    /// `#2`, `#3`: the sender sends to each copy).
    fn names(&self) -> Vec<String> {
        super::book::names(&self.v2, &self.v1)
    }
}

/// The file a captured `FileOpening` or `FileClosed` names, written once. A path that
/// would leave the directory, or cannot be written, is left unwritten: the capture's
/// bytes are sent as captured either way.
fn write_file(w: &mut super::workdir::Workdir, bytes: &[u8]) {
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(bytes) else {
        return;
    };
    if !matches!(v["EventType"].as_str(), Some("FileOpening" | "FileClosed")) {
        return;
    }
    let d = &v["EventData"];
    let Some(rel) = d["RelativePath"].as_str() else {
        return;
    };
    let size = d["FileSize"].as_i64().unwrap_or(0);
    let duration = d["Duration"].as_f64().unwrap_or(0.0);
    let _ = w.write_captured(rel, size, duration);
}

/// Runs journal work off the runtime's threads.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, String> + Send + 'static,
) -> Result<T, ReplayError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ReplayError::Journal(format!("journal reader stopped: {e}")))?
        .map_err(ReplayError::Journal)
}

fn resume_panic(r: Result<(), tokio::task::JoinError>) {
    if let Err(e) = r {
        if e.is_panic() {
            std::panic::resume_unwind(e.into_panic());
        }
    }
}

/// Every URL is one the sender can use and accepts a TCP connection, before anything is
/// sent: a receiver that is not running is one error, not a report of failures.
async fn preflight(config: &SenderConfig, timeout: Duration) -> Result<(), SendError> {
    let sender = Sender::new(config.clone());
    if let Some((url, reason)) = sender.ignored_urls().into_iter().next() {
        return Err(SendError::BadUrl { url, reason });
    }
    let limit = timeout.min(Duration::from_secs(10));
    for url in config.v2_urls.iter().chain(&config.v1_urls) {
        let unreachable = |reason: String| SendError::Unreachable {
            url: url.clone(),
            reason,
        };
        let uri: hyper::Uri = url.parse().map_err(|e| SendError::BadUrl {
            url: url.clone(),
            reason: format!("{e}"),
        })?;
        let host = uri
            .host()
            .unwrap_or_default()
            .trim_start_matches('[')
            .trim_end_matches(']');
        let port = uri.port_u16().unwrap_or(80);
        match tokio::time::timeout(limit, tokio::net::TcpStream::connect((host, port))).await {
            Ok(Ok(_)) => {}
            Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
                return Err(unreachable("connection refused".into()))
            }
            Ok(Err(e)) => return Err(unreachable(e.to_string())),
            Err(_) => {
                return Err(unreachable(format!(
                    "no connection within {}",
                    fmt_duration(limit)
                )))
            }
        }
    }
    Ok(())
}
