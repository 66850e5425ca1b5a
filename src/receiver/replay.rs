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
//! - Streaming: the journal is read line by line, a bounded window of recent ids is kept,
//!   and each event's attempts are judged and dropped as its delivery ends.
//!
//! Checks: R1 (known types answered 2xx), R2 (answer times), R3 (when the capture has
//! unknown types), R9 (v1 records). The rest are `skipped` with the reason.

mod ids;
mod judge;
mod source;

pub use source::Tally;

use super::{fmt_duration, Latency, SendError, DEFAULT_SLOW_AFTER};
use crate::catalog::{Check, Level};
use crate::reference::{Sender, SenderConfig};
use crate::report::{Finding, Report, Skip};
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
            timeout: crate::reference::DEFAULT_TIMEOUT,
            strict: false,
            examples: crate::report::DEFAULT_EXAMPLES,
            concurrency: DEFAULT_CONCURRENCY,
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

    /// Reads the journal, sends its events, judges the answers.
    pub async fn run(&self) -> Result<ReplayRun, ReplayError> {
        // A file that is no journal is told at once; a bad line anywhere after a full
        // read, still before anything is sent.
        crate::journal::Reader::open(&self.journal).map_err(ReplayError::Journal)?;
        let config = SenderConfig::new(self.v2.clone(), self.v1.clone())
            .scaled(self.backoff_scale)
            .with_timeout(self.timeout);
        preflight(&config, self.timeout)
            .await
            .map_err(ReplayError::Send)?;
        let path = self.journal.clone();
        tokio::task::spawn_blocking(move || source::check(&path))
            .await
            .map_err(|e| ReplayError::Journal(format!("journal reader stopped: {e}")))?
            .map_err(ReplayError::Journal)?;

        let (tx, mut rx) = mpsc::channel::<source::Planned>(self.concurrency);
        let (path, fresh, v1) = (self.journal.clone(), !self.original_ids, !self.v1.is_empty());
        let reader = tokio::task::spawn_blocking(move || {
            source::read(&path, fresh, v1, |p| tx.blocking_send(p).is_ok())
        });

        let opts = judge::Options {
            slow_after: self.slow_after,
            timeout: self.timeout,
        };
        let judge = Arc::new(Mutex::new(judge::Judge::new(opts, self.examples)));
        let slots = Arc::new(Semaphore::new(self.concurrency));
        let mut tasks = JoinSet::new();
        let (start, mut first_at, mut events, mut late) = (Instant::now(), None::<f64>, 0u64, 0u64);
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
            let (config, judge) = (config.clone(), Arc::clone(&judge));
            tasks.spawn(async move {
                let sender = Sender::new(config);
                let bytes = bytes::Bytes::from(p.bytes);
                sender.send_bytes(p.setting, bytes.clone());
                sender.wait().await;
                let attempts = sender.attempts();
                judge
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(&p.event, attempts, &bytes);
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
        let tally = reader
            .await
            .map_err(|e| ReplayError::Journal(format!("journal reader stopped: {e}")))?
            .map_err(ReplayError::Journal)?;

        let mut j = Arc::try_unwrap(judge)
            .ok()
            .expect("every delivery task has ended")
            .into_inner()
            .unwrap_or_else(|e| e.into_inner());
        j.summaries();
        Ok(self.report(j, tally, events, late))
    }

    fn report(&self, mut j: judge::Judge, tally: Tally, events: u64, late: u64) -> ReplayRun {
        if tally.invalid > 0 {
            j.findings.push(
                Finding::at(
                    Check::R1,
                    Level::Info,
                    "captured bodies that break the protocol themselves were sent, their answers not judged",
                )
                .measured(format!(
                    "{} event{}; `brhook check {}` shows why",
                    tally.invalid,
                    if tally.invalid == 1 { "" } else { "s" },
                    self.journal.display()
                )),
            );
        }
        if tally.ids_kept > 0 {
            j.findings.push(
                Finding::at(
                    Check::R1,
                    Level::Info,
                    "ids sent as captured: not a GUID, or written with \\u escapes",
                )
                .measured(format!("{} id values", tally.ids_kept)),
            );
        }
        let v1 = !self.v1.is_empty();
        use Check::*;
        let mut cov = std::mem::take(&mut j.cov);
        for id in [R1, R2, R3, R4, R5, R6, R7, R8, R9, R10] {
            let reason = match id {
                _ if events == 0 => Skip::NoEvent,
                R1 => Skip::NoKnownV2,
                R3 if tally.unknown == 0 => Skip::NoUnknownType,
                R4 | R5 | R6 | R7 | R8 => Skip::OnlyProbe,
                R9 if tally.v1 == 0 => Skip::NoV1,
                R9 if !v1 => Skip::NoV1Url,
                R10 => Skip::NotExercised,
                _ => Skip::NoAnswer,
            };
            cov.skip(id, reason);
        }
        let mut to = self.v2.join(", ");
        if v1 {
            to.push_str(&format!(" (v1: {})", self.v1.join(", ")));
        }
        let mut subject = format!(
            "replay of {}: {events} event{} to {to}, {} attempts, speed {}",
            self.journal.display(),
            if events == 1 { "" } else { "s" },
            j.attempts,
            self.speed
        );
        if tally.v1 > 0 && !v1 {
            subject.push_str(&format!("; {} v1 records not sent (no --v1-to)", tally.v1));
        }
        let latency = j.all.latency();
        let attempts = j.attempts;
        let mut report = Report::build(subject, j.findings, &cov, self.strict);
        if events == 0 {
            report.fail_on_nothing(if tally.v1 > 0 && !v1 {
                "nothing was replayed: the journal holds only v1 records and no v1 URL was given (--v1-to URL)"
            } else {
                "nothing was replayed: the journal holds no webhook event"
            });
        }
        ReplayRun {
            report,
            tally,
            events,
            attempts,
            late,
            latency,
        }
    }
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
