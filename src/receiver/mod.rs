//! Receiver mode (`brhook send`), as a library: brhook acts as BililiveRecorder, sends faithful webhook
//! traffic to a receiver, and judges the receiver's answers with checks R1–R10.
//!
//! The traffic goes through the reference sender ([`crate::reference`]): compact raw-UTF-8
//! bodies serialised once, `POST` with exactly `Content-Type: application/json` and
//! `User-Agent: BililiveRecorder/2.17.3`, every URL of a setting at the same time, up to
//! 3 attempts per URL after 0 s, 1 s and 2 s (scaled by [`Probe::backoff_scale`]).
//!
//! The traffic is what a recorder could send: each case records in its own room, one
//! session at a time, times increasing; every file's `RelativePath` is the recorder's
//! default template stamped with its open time to the millisecond, so no two files share
//! a path; a v1 record goes together with its `FileClosed`. Cases (rooms, streams) are
//! sent at the same time. Each file is planned once, before any body naming it is
//! built ([`PlannedFile`], [`Probe::on_file`]: the workdir hook).
//!
//! What is sent ([`Scenario`]):
//! - [`Scenario::Probe`]: one named case per thing a receiver must survive. The two R1
//!   cases are the baseline: every known type in 1.3 and 2.x shape (with v1 records for
//!   R9, given a v1 URL). Then an unknown `EventType` (R3), extra fields (R4), a retry of
//!   an event already answered 2xx (R5), out-of-order delivery (R6), stream events
//!   without `SessionId` (R7), one value form per case (R8), and a file split whose
//!   `FileClosed` and next `FileOpening` go out at the same moment (R10, after the other
//!   cases). Inside a case, each body is delivered before the next is sent. A failure
//!   counts against a later case's check only when the same type and shape passed in the
//!   baseline; otherwise it joins the baseline's finding, which lists the cases it was
//!   also seen in.
//! - [`Scenario::Realistic`]: a recording (stream start, a session with three files, v1
//!   records, session end, stream end) in 2.x shape and in 1.3 shape, fired as the
//!   recorder fires it (fire-and-forget, deliveries overlap).
//! - [`Scenario::Random`]: random valid streams from [`crate::gen`]'s strategies, driven
//!   by a ChaCha RNG seeded with `seed`: the same seed sends the same shapes and values,
//!   with fresh ids unless `exact`. Streams are sent at the same time, each fired as the
//!   recorder fires it.
//! - [`Scenario::Load`]: realistic recordings, `concurrency` bodies in flight; the run's
//!   [`LoadStats`] give answers/s and latency percentiles.
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

pub(crate) mod answer;
mod cases;
pub mod flv;
mod judge;
pub(crate) mod latency;
mod probe;
mod random;
pub mod replay;
mod run;
pub mod workdir;

pub(crate) use answer::fmt_duration;
pub use answer::R2_FAIL_AFTER;
pub use cases::{relative_path, FileHook, PlannedFile, Timing};
pub use latency::Latency;
pub use random::{random_steps, seed_bytes};

use crate::catalog::Check;
use crate::protocol::Setting;
use crate::reference::{Attempt, Sender, SenderConfig, Step};
use crate::report::{Findings, Report, Skip};
use cases::{Case, Ctx};
use run::{dispatch, moments, run_case, Counter};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::task::JoinSet;

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
        write!(
            f,
            "{} bodies at concurrency {} in {}: {:.1} answers/s",
            self.events,
            self.concurrency,
            fmt_duration(self.elapsed),
            self.answers_per_second
        )?;
        if let Some(l) = &self.latency {
            write!(f, "; {l}")?;
        }
        Ok(())
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
    /// Every body sent, in case order.
    pub sent: Vec<Sent>,
    /// Every attempt: the index into `sent` and what the sender saw.
    pub attempts: Vec<(usize, Attempt)>,
    /// Over all answered attempts.
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
            slow_after: crate::protocol::SLOW_AFTER,
            timeout: crate::protocol::TIMEOUT,
            strict: false,
            save_bodies: None,
            progress: None,
            hook: None,
            workdir: None,
            keep_files: false,
        }
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

    /// [`Probe::run`], with the bodies, attempts and measurements behind the report.
    pub async fn run_detailed(&self, scenario: Scenario) -> Result<Run, SendError> {
        self.preflight().await?;
        let v1 = !self.v1.is_empty();
        // Held to the end of the run: dropping it removes the workdir's files.
        let (hook, _files) = self.file_hook()?;
        let ctx = Ctx { hook };
        let cases = match scenario {
            Scenario::Realistic => cases::realistic(&ctx, v1),
            Scenario::Probe => probe::probe(&ctx, v1),
            Scenario::Random { seed, events, exact } => random::random(&ctx, seed, events, v1, exact),
            Scenario::Load { events, .. } => cases::load(&ctx, events, v1).map(|c| vec![c]),
        }
        .map_err(SendError::Io)?;
        let sent = self.record(&cases)?;
        let started = Instant::now();
        let attempts = match scenario {
            Scenario::Load { concurrency, .. } => self.load(&cases[0], concurrency.max(1)).await,
            _ => self.cases(&cases).await,
        };
        let elapsed = started.elapsed();

        let opts = judge::Options {
            slow_after: self.slow_after,
            timeout: self.timeout,
            user_agent: crate::protocol::USER_AGENT.to_string(),
            chains: scenario == Scenario::Probe,
        };
        let judge::Judged {
            mut findings,
            mut cov,
            skips,
        } = judge::judge(&sent, &attempts, &opts);
        let all: Vec<Attempt> = attempts.iter().map(|(_, a)| a.clone()).collect();
        let latency = Latency::of(&all);
        let load = match scenario {
            Scenario::Load { events, concurrency } => {
                let answers = latency.map_or(0, |l| l.answers);
                let stats = LoadStats {
                    events,
                    concurrency: concurrency.max(1),
                    answers,
                    elapsed,
                    answers_per_second: answers as f64 / elapsed.as_secs_f64().max(1e-9),
                    latency,
                };
                findings.push(
                    crate::report::Finding::at(Check::R2, crate::catalog::Level::Info, "load measured")
                        .measured(stats.to_string()),
                );
                Some(stats)
            }
            _ => None,
        };

        use Check::*;
        for id in [R1, R2, R3, R4, R5, R6, R7, R8, R9, R10] {
            let reason = match id {
                R9 if !v1 => Skip::NoV1Url,
                R3 | R4 | R5 | R6 | R7 | R8 | R10 if scenario != Scenario::Probe => Skip::OnlyProbe,
                _ => Skip::NoAnswer,
            };
            cov.skip(id, reason);
        }
        // What the judge knows of why a check could not run beats the generic reason.
        for (id, reason) in skips {
            cov.skip(id, reason);
        }
        let bodies = sent.len();
        let n_cases = cases.len();
        let mut to = self.v2.join(", ");
        if v1 {
            to.push_str(&format!(" (v1: {})", self.v1.join(", ")));
        }
        let mut subject = format!(
            "{}: {bodies} bod{} in {n_cases} case{} to {to}, {} attempts",
            scenario.name(),
            if bodies == 1 { "y" } else { "ies" },
            crate::common::plural_s(n_cases as u64),
            attempts.len()
        );
        if let Scenario::Random { seed, exact, .. } = scenario {
            subject.push_str(&format!(", seed {seed}{}", if exact { " (exact)" } else { "" }));
        }
        let mut grouped = Findings::default();
        grouped.extend(findings);
        let report = Report::build(subject, grouped, &cov, self.strict);
        let cases = cases
            .iter()
            .map(|c| CaseInfo {
                name: c.name.clone(),
                about: c.about.clone(),
                bodies: c.items.len(),
            })
            .collect();
        Ok(Run {
            report,
            cases,
            sent,
            attempts,
            latency,
            load,
        })
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
        if let Some(dir) = &self.save_bodies {
            std::fs::create_dir_all(dir)
                .map_err(|e| SendError::Io(format!("cannot create {}: {e}", dir.display())))?;
        }
        let mut out = Vec::new();
        for c in cases {
            let width = c.items.len().to_string().len().max(3);
            for (position, it) in c.items.iter().enumerate() {
                let v = it.step.value();
                let bytes = crate::gen::serialize(v);
                let event = v
                    .get("EventId")
                    .or(v.get("EventRandomId"))
                    .and_then(|x| x.as_str())
                    .map(String::from);
                let file = match &self.save_bodies {
                    Some(dir) => Some(save(dir, &c.name, position, width, &it.label, &bytes)?),
                    None => None,
                };
                out.push(Sent {
                    case: c.name.clone(),
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
                });
            }
        }
        Ok(out)
    }

    /// All cases at the same time (cases marked `alone` after the others are done);
    /// returns the attempts with the index of their body in the order of
    /// [`Probe::record`].
    async fn cases(&self, cases: &[Case]) -> Vec<(usize, Attempt)> {
        let total: usize = cases.iter().map(|c| c.items.len()).sum();
        let counter = Counter::new(self.progress.clone(), total);
        let mut first = Vec::new();
        let mut base = 0;
        for c in cases {
            first.push(base);
            base += c.items.len();
        }
        let mut out = Vec::new();
        for alone in [false, true] {
            let mut set = JoinSet::new();
            for (c, &first) in cases.iter().zip(&first).filter(|(c, _)| c.alone == alone) {
                let (c, config, counter) = (c.clone(), self.config(), counter.clone());
                set.spawn(async move { run_case(&c, first, config, &counter).await });
            }
            while let Some(r) = set.join_next().await {
                match r {
                    Ok(v) => out.extend(v),
                    Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
                    Err(_) => {}
                }
            }
        }
        out.sort_by_key(|(i, a)| (*i, a.setting == Setting::V1, a.url_index, a.attempt));
        out
    }

    /// `concurrency` workers, each its own sender with one body in flight.
    /// A v1 record goes with its `FileClosed`: a worker takes both.
    async fn load(&self, case: &Case, concurrency: usize) -> Vec<(usize, Attempt)> {
        let moments = Arc::new(moments(case));
        let items = Arc::new(case.items.clone());
        let next = Arc::new(AtomicUsize::new(0));
        let counter = Counter::new(self.progress.clone(), items.len());
        let out = Arc::new(Mutex::new(Vec::new()));
        let mut set = JoinSet::new();
        for _ in 0..concurrency.min(moments.len().max(1)) {
            let (items, moments, next, out) = (
                Arc::clone(&items),
                Arc::clone(&moments),
                Arc::clone(&next),
                Arc::clone(&out),
            );
            let (config, counter) = (self.config(), counter.clone());
            set.spawn(async move {
                let sender = Sender::new(config);
                let mut order = Vec::new();
                loop {
                    let m = next.fetch_add(1, Ordering::SeqCst);
                    let Some(range) = moments.get(m) else {
                        break;
                    };
                    for i in range.clone() {
                        order.push(i);
                        dispatch(&sender, &items[i].step);
                    }
                    sender.wait().await;
                    counter.add(range.len());
                }
                let mine: Vec<_> = sender
                    .attempts()
                    .into_iter()
                    .map(|a| (order[a.event], a))
                    .collect();
                out.lock().expect("attempt list").extend(mine);
            });
        }
        while let Some(r) = set.join_next().await {
            if let Err(e) = r {
                if e.is_panic() {
                    std::panic::resume_unwind(e.into_panic());
                }
            }
        }
        let mut out = std::mem::take(&mut *out.lock().expect("attempt list"));
        out.sort_by_key(|(i, a)| (*i, a.setting == Setting::V1, a.url_index, a.attempt));
        out
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
