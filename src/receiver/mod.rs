//! Receiver mode (`brhook send`), as a library: brhook acts as BililiveRecorder, sends faithful webhook
//! traffic to a receiver, and judges the receiver's answers with checks R1–R10, and whether it stays up (R11).
//!
//! The traffic goes through the reference sender ([`crate::reference`]): compact raw-UTF-8
//! bodies serialised once, `POST` with exactly `Content-Type: application/json` and
//! `User-Agent: BililiveRecorder/2.17.3`, every URL of a setting at the same time, up to
//! 3 attempts per URL after 0 s, 1 s and 2 s (scaled by [`Probe::backoff_scale`]).
//!
//! The traffic is what a recorder could send: each case records in its own room, one
//! session at a time, times increasing; stream events only in 2.x shape; names without
//! control characters; every file's `RelativePath` is one of the recorder's file name
//! templates ([`template`]) stamped with its open time, so no two files share a path; a
//! v1 record goes together with its `FileClosed`. Cases (rooms, streams) are
//! sent at the same time. Each file is planned once, before any body naming it is
//! built ([`PlannedFile`], [`Probe::on_file`]: the workdir hook).
//!
//! What is sent ([`Scenario`]):
//! - [`Scenario::Probe`]: one named case per thing a receiver must survive. The two R1
//!   cases are the baseline: every known type in 1.3 and 2.x shape (stream events in 2.x
//!   only; with v1 records for R9, given a v1 URL). Then an unknown `EventType` (R3), extra fields (R4), a retry of
//!   an event already answered 2xx (R5), out-of-order delivery (R6), stream events
//!   without `SessionId` (R7), one value form per case (R8), and a file split whose
//!   `FileClosed` and next `FileOpening` go out at the same moment (R10, after the other
//!   cases). Inside a case, each body is delivered before the next is sent. A failure
//!   counts against a later case's check only when the same type and shape passed in the
//!   baseline; otherwise it joins the baseline's finding, which lists the cases it was
//!   also seen in.
//! - [`Scenario::Realistic`]: a recording (stream start, a session with three files, v1
//!   records, session end, stream end) in 2.x shape and in 1.3 shape (the session alone), fired as the
//!   recorder fires it (fire-and-forget, deliveries overlap).
//! - [`Scenario::Random`]: random valid streams from [`crate::gen`]'s strategies, driven
//!   by a ChaCha RNG seeded with `seed`: the same seed sends the same shapes and values,
//!   with fresh ids unless `exact`. Streams are sent at the same time, each fired as the
//!   recorder fires it.
//! - [`Scenario::Load`]: realistic recordings, `concurrency` bodies in flight; the run's
//!   [`LoadStats`] give answers/s and latency percentiles.
//!
//! After the last answer the run waits a settle window ([`Probe::settle`], 3 s by
//! default) and connects to each receiver once more: a receiver that stopped accepting
//! connections, during the run or after it, is R11.
//!
//! Every answer counts for R2 (answered within [`Probe::slow_after`], 5 s by default;
//! over 100 s is a failure; p50/p90/p99 reported as info). R10 compares the answer to
//! an event sent while another is held with the answer to the same kind sent alone.
//!
//! A receiver's own tests can run the probe against it:
//!
//! ```no_run
//! use brhook::{Probe, Scenario};
//!
//! # async fn my_receiver_conforms() {
//! // Your receiver, listening on a test port.
//! let report = Probe::new("http://127.0.0.1:8080/webhook/v2")
//!     .v1("http://127.0.0.1:8080/webhook/v1")
//!     .backoff_scale(0.01) // retries after 10 ms and 20 ms instead of 1 s and 2 s
//!     .run(Scenario::Probe)
//!     .await
//!     .expect("the receiver is reachable");
//! report.assert_pass(); // panics with the text report on any failure
//! # }
//! ```

mod book;
mod cases;
pub mod danmaku;
pub mod flv;
mod media;
mod probe;
mod random;
#[cfg(test)]
mod realism;
pub mod replay;
mod run;
mod settle;
pub mod template;
pub mod watch;
pub mod workdir;

pub(crate) use crate::judge::fmt_duration;
pub use crate::judge::{Latency, R2_FAIL_AFTER};
pub use cases::{relative_path, FileHook, PlannedFile, Timing};
pub use random::{random_steps, seed_bytes};
pub use settle::DEFAULT_SETTLE;

use crate::catalog::Check;
use crate::protocol::Setting;
use crate::reference::{Attempt, Sender, SenderConfig, Step};
use crate::report::Report;
use book::{Book, Output};
use cases::{Case, Ctx, Item};
use run::{run_case, Counter, Sink};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::task::JoinSet;

/// The R2 threshold: an answer slower than this is a warning (doc: answer as soon as
/// possible).
pub const DEFAULT_SLOW_AFTER: Duration = Duration::from_secs(5);

/// What to send.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scenario {
    /// A recording session in 2.x shape and in 1.3 shape (R1, R2, R9).
    Realistic,
    /// The cases behind R1–R10.
    Probe,
    /// `events` bodies of random valid streams; the same `seed` sends the same shapes
    /// and values (R1, R2, R9).
    Random {
        /// Seed of the ChaCha RNG that drives the strategies.
        seed: u64,
        /// Number of bodies to send.
        events: usize,
        /// Reproduce the ids (`EventId`, `SessionId`, `EventRandomId`) too: the same
        /// bytes as the last run with this seed. Otherwise each run draws fresh ids.
        exact: bool,
    },
    /// `events` realistic bodies with `concurrency` in flight (R1, R2, R9).
    Load {
        /// Number of bodies to send.
        events: usize,
        /// Bodies in flight at once.
        concurrency: usize,
    },
}

impl Scenario {
    /// Lowercase name, as the CLI spells it (`realistic`, `probe`, `random`, `load`).
    pub fn name(self) -> &'static str {
        match self {
            Scenario::Realistic => "realistic",
            Scenario::Probe => "probe",
            Scenario::Random { .. } => "random",
            Scenario::Load { .. } => "load",
        }
    }
}

/// Why a run could not start. Its `Display` is the one line to show.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SendError {
    /// No v2 URL to send to.
    NoUrl,
    /// A URL the sender cannot send to (not an absolute `http://` URL).
    BadUrl {
        /// The URL as given.
        url: String,
        /// Why it cannot be sent to.
        reason: String,
    },
    /// Nothing accepts a connection at the URL (checked before anything is sent).
    Unreachable {
        /// The URL as given.
        url: String,
        /// Why the connection failed (refused, an error, or no connection in time).
        reason: String,
    },
    /// `save_bodies`: the directory or a file could not be written.
    Io(String),
}

impl fmt::Display for SendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SendError::NoUrl => write!(f, "no receiver URL given (--to URL)"),
            SendError::BadUrl { url, reason } => write!(f, "cannot send to {url}: {reason}"),
            SendError::Unreachable { url, reason } => {
                write!(f, "cannot reach {url}: {reason} — is the receiver running?")
            }
            SendError::Io(e) => f.write_str(e),
        }
    }
}

impl std::error::Error for SendError {}

/// One body brhook sent.
#[derive(Clone, Debug)]
pub struct Sent {
    /// The case it belongs to (`r6-file-closed-before-file-opening`, `random-seed-42`).
    pub case: String,
    /// Its case's index among the run's cases.
    pub case_index: usize,
    /// Position in its case, 0-based.
    pub position: usize,
    /// What it is: `FileClosed (1.3 shape)`.
    pub label: String,
    /// The setting it was sent under (v2 event or v1 record).
    pub setting: Setting,
    /// The check its answer is judged under.
    pub check: Check,
    /// The exact bytes on the wire.
    pub bytes: Vec<u8>,
    /// `EventId` or `EventRandomId`.
    pub event: Option<String>,
    /// What its answer time means for R10.
    pub timing: Timing,
    /// Part of the probe's baseline (the R1 cases): a later case's failure of the same
    /// type and shape counts against the baseline, not the later case's check.
    pub baseline: bool,
    /// The baseline it is compared with: a known type and whether it is in 2.x shape
    /// (writes the 2.x booleans); `None` for v1 records.
    pub like: Option<(crate::gen::EventKind, bool)>,
    /// Where it was saved ([`Probe::save_bodies`]).
    pub file: Option<PathBuf>,
    /// Sets its case up: its 2xx does not pass the case's check.
    pub setup: bool,
}

/// What a load run measured.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LoadStats {
    /// Bodies sent (the scenario's `events`).
    pub events: usize,
    /// Bodies in flight at once (at least 1).
    pub concurrency: usize,
    /// Attempts answered (any status), retries included.
    pub answers: usize,
    /// Wall time from the first send to the last attempt's end.
    pub elapsed: Duration,
    /// `answers / elapsed`.
    pub answers_per_second: f64,
    /// Over the answered attempts; `None` when none was answered.
    pub latency: Option<Latency>,
}

impl fmt::Display for LoadStats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&crate::judge::latency::load_line(
            self.events as u64,
            self.concurrency as u64,
            self.elapsed,
            self.latency.as_ref(),
        ))
    }
}

/// One case of a run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CaseInfo {
    /// The name findings carry as `source`.
    pub name: String,
    /// What the case sends.
    pub about: String,
    /// Number of bodies it sends.
    pub bodies: usize,
}

/// A finished run: the report and what it was made from.
#[derive(Clone, Debug)]
pub struct Run {
    /// The judged findings.
    pub report: Report,
    /// The cases, in the order their bodies appear in `sent`.
    pub cases: Vec<CaseInfo>,
    /// Every body sent, in case order; empty for [`Scenario::Load`], whose bodies are
    /// built as they are sent and kept only in the journal ([`Probe::journal`]).
    pub sent: Vec<Sent>,
    /// Bodies sent.
    pub bodies: usize,
    /// Attempts made, retries included.
    pub attempts: u64,
    /// Over all answered attempts (histogram percentiles, within 2%).
    pub latency: Option<Latency>,
    /// Set by [`Scenario::Load`].
    pub load: Option<LoadStats>,
}

/// Called as bodies are delivered: `(done, total)`.
pub type Progress = Arc<dyn Fn(usize, usize) + Send + Sync>;

/// A receiver to probe, and how. Built like a request, run with [`Probe::run`].
#[derive(Clone)]
pub struct Probe {
    v2: Vec<String>,
    v1: Vec<String>,
    backoff_scale: f64,
    slow_after: Duration,
    timeout: Duration,
    strict: bool,
    save_bodies: Option<PathBuf>,
    progress: Option<Progress>,
    hook: Option<FileHook>,
    /// `--workdir`: real files (see [`workdir`]).
    workdir: Option<PathBuf>,
    keep_files: bool,
    /// `--danmaku`: a danmaku XML beside each file of the workdir.
    danmaku: bool,
    /// `--journal`: where the run's journal is kept.
    journal: Option<PathBuf>,
    /// `--settle`: how long after the last answer brhook connects once more (R11).
    settle: Duration,
    /// `--expect-open`: a workdir file the receiver never opened is reported.
    expect_open: bool,
}

impl fmt::Debug for Probe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Probe")
            .field("v2", &self.v2)
            .field("v1", &self.v1)
            .field("backoff_scale", &self.backoff_scale)
            .field("slow_after", &self.slow_after)
            .field("timeout", &self.timeout)
            .field("strict", &self.strict)
            .field("save_bodies", &self.save_bodies)
            .finish_non_exhaustive()
    }
}

impl Probe {
    /// A receiver of v2 events (`WebHookUrlsV2`) at `url`; the real sender's timing.
    pub fn new(url: impl Into<String>) -> Probe {
        Probe {
            v2: vec![url.into()],
            v1: Vec::new(),
            backoff_scale: 1.0,
            slow_after: DEFAULT_SLOW_AFTER,
            timeout: crate::protocol::TIMEOUT,
            strict: false,
            save_bodies: None,
            progress: None,
            hook: None,
            workdir: None,
            danmaku: false,
            keep_files: false,
            journal: None,
            settle: DEFAULT_SETTLE,
            expect_open: false,
        }
    }

    /// R11: after the last answer, wait `d` (default 3 s), then connect to each receiver
    /// once more: a receiver that crashed after answering is down by then.
    pub fn settle(mut self, d: Duration) -> Probe {
        self.settle = d;
        self
    }

    /// Keeps the run's journal at `path` (default: a temporary file, removed at the
    /// end): the proxy's format, one request line per attempt, with the receiver's
    /// answer and which body of which case it carried. `brhook check` on it gives the
    /// run's report.
    pub fn journal(mut self, path: impl Into<PathBuf>) -> Probe {
        self.journal = Some(path.into());
        self
    }

    /// Another v2 URL: every event goes to all of them at the same time.
    pub fn to(mut self, url: impl Into<String>) -> Probe {
        self.v2.push(url.into());
        self
    }

    /// A v1 URL (`WebHookUrls`): v1 records go there (R9).
    pub fn v1(mut self, url: impl Into<String>) -> Probe {
        self.v1.push(url.into());
        self
    }

    /// Multiplies the back-off before retries (real: 1 s, then 2 s).
    pub fn backoff_scale(mut self, factor: f64) -> Probe {
        self.backoff_scale = factor;
        self
    }

    /// R2: answers slower than this are a warning (default 5 s).
    pub fn slow_after(mut self, d: Duration) -> Probe {
        self.slow_after = d;
        self
    }

    /// Per attempt: no complete answer within this is R2 `fail` (default 100 s, the real
    /// sender's client timeout).
    pub fn timeout(mut self, d: Duration) -> Probe {
        self.timeout = d;
        self
    }

    /// Warnings fail the report.
    pub fn strict(mut self, strict: bool) -> Probe {
        self.strict = strict;
        self
    }

    /// Writes every body to `dir` (created if missing) as `CASE-NNN-LABEL.json`; findings
    /// then name the file and their `curl` commands replay the whole case from it.
    pub fn save_bodies(mut self, dir: impl Into<PathBuf>) -> Probe {
        self.save_bodies = Some(dir.into());
        self
    }

    /// Called as bodies are delivered: `(done, total)`. Deliveries finish concurrently,
    /// so a call may carry a smaller `done` than the one before it.
    pub fn on_progress(mut self, f: impl Fn(usize, usize) + Send + Sync + 'static) -> Probe {
        self.progress = Some(Arc::new(f));
        self
    }

    /// The workdir hook: called once per recorded file, after its path, times, size and
    /// duration are planned and before any body naming it is built ([`PlannedFile`]).
    /// It may create the file and write back its real size and duration; an `Err` stops
    /// the run before anything is sent, as [`SendError::Io`].
    pub fn on_file(
        mut self,
        f: impl Fn(&mut PlannedFile) -> Result<(), String> + Send + Sync + 'static,
    ) -> Probe {
        self.hook = Some(Arc::new(f));
        self
    }

    fn config(&self) -> SenderConfig {
        SenderConfig::new(self.v2.clone(), self.v1.clone())
            .scaled(self.backoff_scale)
            .with_timeout(self.timeout)
    }

    /// Sends the scenario and judges the answers.
    pub async fn run(&self, scenario: Scenario) -> Result<Report, SendError> {
        Ok(self.run_detailed(scenario).await?.report)
    }

    /// [`Probe::run`], with the bodies and measurements behind the report. Every attempt
    /// is written to the run's journal as it ends; the report is the journal judge's on
    /// that journal ([`crate::judge::judge_journal`]), as for `proxy` and `replay`.
    pub async fn run_detailed(&self, scenario: Scenario) -> Result<Run, SendError> {
        self.preflight().await?;
        let v1 = !self.v1.is_empty();
        // Held to the end of the run: dropping it removes the workdir's files.
        let (hook, files) = self.file_hook()?;
        let ctx = Ctx { hook };
        let (cases, load) = match scenario {
            Scenario::Realistic => (cases::realistic(&ctx, v1), None),
            Scenario::Probe => (probe::probe(&ctx, v1), None),
            Scenario::Random { seed, events, exact } => (random::random(&ctx, seed, events, v1, exact), None),
            Scenario::Load { events, .. } => (Ok(Vec::new()), Some(cases::LoadGen::new(ctx, events, v1))),
        };
        let cases = cases.map_err(SendError::Io)?;
        if let Some(dir) = &self.save_bodies {
            std::fs::create_dir_all(dir)
                .map_err(|e| SendError::Io(format!("cannot create {}: {e}", dir.display())))?;
        }
        let sent = self.record(&cases)?;
        let infos: Vec<CaseInfo> = match &load {
            Some(g) => {
                let (name, about) = g.about();
                let bodies = match scenario {
                    Scenario::Load { events, .. } => events,
                    _ => 0,
                };
                vec![CaseInfo { name, about, bodies }]
            }
            None => cases
                .iter()
                .map(|c| CaseInfo {
                    name: c.name.clone(),
                    about: c.about.clone(),
                    bodies: c.items.len(),
                })
                .collect(),
        };
        let bodies: usize = infos.iter().map(|c| c.bodies).sum();

        let out = Output::new(self.journal.clone(), "send");
        let watch = files
            .as_ref()
            .map(|f| f.lock().unwrap_or_else(|e| e.into_inner()).watch().clone());
        let mut meta = self.meta(scenario, &infos);
        meta.workdir = watch.as_ref().map(|w| crate::journal::WorkdirMeta {
            watched: w.watched(),
            expect_open: self.expect_open,
        });
        let writer =
            crate::journal::Writer::create(out.path(), &meta).map_err(|e| SendError::Io(e.to_string()))?;
        let names = Arc::new(book::names(&self.v2, &self.v1));
        let book = Arc::new(Mutex::new(Book::new(writer, self.v2.len())));
        let origin = std::time::Instant::now();
        let sink: Sink = {
            let (book, names) = (Arc::clone(&book), Arc::clone(&names));
            Arc::new(move |s: &Sent, a: &Attempt| {
                let mut b = book.lock().unwrap_or_else(|e| e.into_inner());
                b.write(a, &names, origin, &s.bytes, Some(s.journal(a.attempt)));
            })
        };
        match load {
            Some(g) => {
                let concurrency = match scenario {
                    Scenario::Load { concurrency, .. } => concurrency.max(1),
                    _ => 1,
                };
                let width = bodies.to_string().len().max(3);
                self.load(g, width, bodies, concurrency, &sink).await?
            }
            None => self.cases(&cases, Arc::new(sent.clone()), &sink).await,
        }
        drop(sink);
        // Measured before the settle window: load's throughput is the sending's.
        let elapsed_ms = origin.elapsed().as_secs_f64() * 1000.0;
        // The files stay while the receiver works on them; what it opened is R12's.
        settle::settle(self.settle, watch.as_ref()).await;
        if let Some(w) = &watch {
            book.lock()
                .unwrap_or_else(|e| e.into_inner())
                .files(&w.opens(), origin);
        }
        let targets: Vec<(String, String)> = names
            .iter()
            .cloned()
            .zip(self.v2.iter().chain(&self.v1).cloned())
            .collect();
        let limit = self.timeout.min(Duration::from_secs(10));
        for c in settle::reconnect(&targets, origin, self.settle, limit).await {
            book.lock().unwrap_or_else(|e| e.into_inner()).reconnect(&c);
        }
        let (seq, all) = Book::close(book, elapsed_ms).map_err(SendError::Io)?;

        let opts = crate::judge::Options {
            strict: self.strict,
            ..crate::judge::Options::default()
        };
        let judged = out.path().to_path_buf();
        let report = tokio::task::spawn_blocking(move || {
            let reader = crate::journal::Reader::open(&judged)?;
            crate::judge::judge_journal(reader, &opts, None, false).map(|(r, _)| r)
        })
        .await
        .map_err(|e| SendError::Io(format!("the judge stopped: {e}")))?
        .map_err(SendError::Io)?;
        let latency = all.latency();
        let load = match scenario {
            Scenario::Load { events, concurrency } => {
                let answers = latency.map_or(0, |l| l.answers);
                let elapsed = Duration::from_secs_f64(elapsed_ms / 1000.0);
                Some(LoadStats {
                    events,
                    concurrency: concurrency.max(1),
                    answers,
                    elapsed,
                    answers_per_second: answers as f64 / elapsed.as_secs_f64().max(1e-9),
                    latency,
                })
            }
            _ => None,
        };
        drop(out);
        Ok(Run {
            report,
            cases: infos,
            sent,
            bodies,
            attempts: seq,
            latency,
            load,
        })
    }

    /// The journal's meta: the URLs (each forwarding to its receiver), R2's limits, and
    /// the scenario's cases.
    fn meta(&self, scenario: Scenario, cases: &[CaseInfo]) -> crate::journal::Meta {
        let mut j = crate::journal::Journal::new(book::specs(&self.v2, &self.v1), String::new());
        j.meta.proxy = Some(crate::journal::ProxyMeta {
            slow_after_ms: self.slow_after.as_secs_f64() * 1000.0,
            timeout_ms: self.timeout.as_secs_f64() * 1000.0,
        });
        let (seed, exact) = match scenario {
            Scenario::Random { seed, exact, .. } => (Some(seed), exact),
            _ => (None, false),
        };
        j.meta.send = Some(crate::journal::SendMeta {
            scenario: scenario.name().to_string(),
            cases: cases
                .iter()
                .map(|c| crate::journal::CaseMeta {
                    name: c.name.clone(),
                    about: c.about.clone(),
                    bodies: c.bodies as u64,
                })
                .collect(),
            seed,
            exact,
            concurrency: match scenario {
                Scenario::Load { concurrency, .. } => Some(concurrency.max(1) as u64),
                _ => None,
            },
            chains: scenario == Scenario::Probe,
            stagger_ms: (scenario == Scenario::Probe).then(|| probe::R10_STAGGER.as_millis() as f64),
        });
        j.meta
    }

    /// Every URL parses and accepts a TCP connection, before anything is sent.
    async fn preflight(&self) -> Result<(), SendError> {
        if self.v2.is_empty() {
            return Err(SendError::NoUrl);
        }
        let sender = Sender::new(self.config());
        if let Some((url, reason)) = sender.ignored_urls().into_iter().next() {
            return Err(SendError::BadUrl { url, reason });
        }
        let mut seen = std::collections::BTreeSet::new();
        for url in self.v2.iter().chain(&self.v1) {
            if !seen.insert(url.clone()) {
                continue;
            }
            let bad = |reason: &str| SendError::BadUrl {
                url: url.clone(),
                reason: reason.to_string(),
            };
            let uri: hyper::Uri = url.parse().map_err(|e| bad(&format!("{e}")))?;
            let host = uri.host().ok_or_else(|| bad("no host"))?;
            let host = host.trim_start_matches('[').trim_end_matches(']').to_string();
            let port = uri.port_u16().unwrap_or(80);
            let limit = self.timeout.min(Duration::from_secs(10));
            let unreachable = |reason: String| SendError::Unreachable {
                url: url.clone(),
                reason,
            };
            match tokio::time::timeout(limit, tokio::net::TcpStream::connect((host.as_str(), port))).await {
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

    /// The bodies of all cases, in order, saved when asked.
    fn record(&self, cases: &[Case]) -> Result<Vec<Sent>, SendError> {
        let mut out = Vec::new();
        for (ci, c) in cases.iter().enumerate() {
            let width = c.items.len().to_string().len().max(3);
            for (position, it) in c.items.iter().enumerate() {
                out.push(self.describe(ci, &c.name, position, width, it)?);
            }
        }
        Ok(out)
    }

    /// One body of case `ci` (named `case`), serialised once and saved when asked.
    fn describe(
        &self,
        ci: usize,
        case: &str,
        position: usize,
        width: usize,
        it: &Item,
    ) -> Result<Sent, SendError> {
        let v = it.step.value();
        let bytes = crate::gen::serialize(v);
        let event = v
            .get("EventId")
            .or(v.get("EventRandomId"))
            .and_then(|x| x.as_str())
            .map(String::from);
        let file = match &self.save_bodies {
            Some(dir) => Some(save(dir, case, position, width, &it.label, &bytes)?),
            None => None,
        };
        Ok(Sent {
            case: case.to_string(),
            case_index: ci,
            position,
            label: it.label.clone(),
            setting: match it.step {
                Step::V2(_) => Setting::V2,
                Step::V1(_) => Setting::V1,
            },
            check: it.check,
            bytes,
            event,
            timing: it.timing,
            baseline: it.baseline,
            like: match &it.step {
                Step::V2(v) => it
                    .like
                    .or_else(|| crate::gen::EventKind::parse(v["EventType"].as_str()?))
                    .map(|k| (k, v["EventData"].get("Recording").is_some())),
                Step::V1(_) => None,
            },
            file,
            setup: it.setup,
        })
    }

    /// All cases at the same time (cases marked `alone` after the others are done);
    /// each attempt goes to `sink` with its body as it ends.
    async fn cases(&self, cases: &[Case], sent: Arc<Vec<Sent>>, sink: &Sink) {
        let total: usize = cases.iter().map(|c| c.items.len()).sum();
        let counter = Counter::new(self.progress.clone(), total);
        let mut first = Vec::new();
        let mut base = 0;
        for c in cases {
            first.push(base);
            base += c.items.len();
        }
        for alone in [false, true] {
            let mut set = JoinSet::new();
            for (c, &first) in cases.iter().zip(&first).filter(|(c, _)| c.alone == alone) {
                let (c, config, counter) = (c.clone(), self.config(), counter.clone());
                let (sent, sink) = (Arc::clone(&sent), Arc::clone(sink));
                set.spawn(async move { run_case(&c, first, config, &counter, sent, sink).await });
            }
            while let Some(r) = set.join_next().await {
                match r {
                    Ok(()) => {}
                    Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
                    Err(_) => {}
                }
            }
        }
    }

    /// `concurrency` workers, each sending one moment at a time (a v1 record goes with
    /// its `FileClosed`) on a sender of its own. The bodies are built as they are taken:
    /// memory holds the recordings in flight, not the run.
    async fn load(
        &self,
        gen: cases::LoadGen,
        width: usize,
        total: usize,
        concurrency: usize,
        sink: &Sink,
    ) -> Result<(), SendError> {
        let gen_shared = Arc::new(Mutex::new(gen));
        let counter = Counter::new(self.progress.clone(), total);
        let failed: Arc<Mutex<Option<SendError>>> = Arc::new(Mutex::new(None));
        let mut set = JoinSet::new();
        // Load keeps its connections alive, as the real sender's HttpClient does: a new
        // connection per attempt would measure brhook's connects, not the receiver.
        let config = self.config().keep_alive();
        for _ in 0..concurrency.min(total.max(1)) {
            let (gen, failed, sink) = (Arc::clone(&gen_shared), Arc::clone(&failed), Arc::clone(sink));
            let (config, counter, me) = (config.clone(), counter.clone(), self.clone());
            set.spawn(async move {
                loop {
                    let next = gen.lock().expect("load generator").next_moment();
                    let (at, items) = match next {
                        Ok(Some(m)) => m,
                        Ok(None) => break,
                        Err(e) => {
                            failed.lock().expect("load error").get_or_insert(SendError::Io(e));
                            break;
                        }
                    };
                    let mut moment = Vec::with_capacity(items.len());
                    for (k, it) in items.iter().enumerate() {
                        match me.describe(0, "load", at + k, width, it) {
                            Ok(s) => moment.push(s),
                            Err(e) => {
                                failed.lock().expect("load error").get_or_insert(e);
                                return;
                            }
                        }
                    }
                    let moment = Arc::new(moment);
                    let m = Arc::clone(&moment);
                    let sink = Arc::clone(&sink);
                    // The sender numbers events in send order: the moment's order.
                    let sender = Sender::new(config.clone()).on_attempt(move |a| sink(&m[a.event], a));
                    match &moment[..] {
                        [one] => sender.deliver_bytes(one.setting, one.bytes.clone()).await,
                        many => {
                            for s in many {
                                sender.send_bytes(s.setting, s.bytes.clone());
                            }
                            sender.wait().await;
                        }
                    }
                    counter.add(moment.len());
                }
            });
        }
        while let Some(r) = set.join_next().await {
            if let Err(e) = r {
                if e.is_panic() {
                    std::panic::resume_unwind(e.into_panic());
                }
            }
        }
        let e = failed.lock().expect("load error").take();
        match e {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

impl Sent {
    /// What the journal says of this body, for its `attempt` (0-based).
    fn journal(&self, attempt: usize) -> crate::journal::Sent {
        crate::journal::Sent {
            case: self.case_index as u32,
            position: self.position as u32,
            label: self.label.clone(),
            check: self.check.id().to_string(),
            attempt: attempt as u32,
            baseline: self.baseline,
            like: self.like.map(|(k, recording)| crate::journal::Like {
                event_type: k.as_str().to_string(),
                recording,
            }),
            timing: match self.timing {
                Timing::Plain => None,
                Timing::Alone => Some(crate::journal::Timing::Alone),
                Timing::Held => Some(crate::journal::Timing::Held),
                Timing::Beside => Some(crate::journal::Timing::Beside),
            },
            file: self.file.as_ref().map(|f| f.display().to_string()),
            setup: self.setup,
        }
    }
}

/// `DIR/CASE-NNN-LABEL.json`, the label reduced to letters, digits, `.` and `-`.
fn save(
    dir: &Path,
    case: &str,
    position: usize,
    width: usize,
    label: &str,
    bytes: &[u8],
) -> Result<PathBuf, SendError> {
    let mut slug = String::new();
    for ch in label.chars() {
        if ch.is_ascii_alphanumeric() || ch == '.' {
            slug.push(ch);
        } else if !slug.ends_with('-') {
            slug.push('-');
        }
    }
    let slug = slug.trim_matches('-');
    let path = dir.join(format!("{case}-{position:0width$}-{slug}.json"));
    std::fs::write(&path, bytes)
        .map_err(|e| SendError::Io(format!("cannot write {}: {e}", path.display())))?;
    Ok(path)
}
