//! The fake endpoint: a real HTTP/1.1 server that records every request, byte for byte,
//! into the journal and asks an answerer for each answer: each named URL's fault plan,
//! or for `brhook proxy` (`brhook::Proxy`, built on this server, never the other way
//! round) the plan in front of a forwarder to the URL's receiver.

mod answer;
mod commit;
mod hub;
mod serve;

pub use hub::Hub;

pub(crate) use answer::{After, Answer, Answerer, Call, FaultPlan, Out, Reply};

use crate::error::Error;
use crate::fault::Fault;
use crate::journal::Reader;
use crate::journal::{Journal, ProxyMeta, Request, Rotation, UrlSpec, Writer};
use crate::judge::{self, Options, Pushed, Sink};
use crate::report::Report;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::net::TcpListener;

pub use crate::body::DEFAULT_MAX_BODY;

/// Builds a proxy's answerer from the endpoint's URLs.
type MakeAnswerer = Box<dyn FnOnce(&[UrlSpec]) -> Arc<dyn Answerer> + Send>;

/// Configures and starts an [`Endpoint`].
#[must_use = "a builder does nothing until `start`"]
pub struct Builder {
    bind: SocketAddr,
    urls: Vec<UrlSpec>,
    journal: Option<PathBuf>,
    keep_in_memory: bool,
    max_body: usize,
    max_connections: usize,
    header_timeout: Duration,
    prefix: String,
    options: Options,
    sink: Option<Sink>,
    /// The quiet window [`Endpoint::verify`] waits for.
    quiet: Duration,
    /// Set by the proxy: what answers instead of the fault plan (made
    /// from the URLs once they are all known), and the proxy's thresholds.
    answerer: Option<MakeAnswerer>,
    proxy: Option<ProxyMeta>,
    /// Set by [`Builder::on_hub`]: no listener of its own.
    hub: Option<(Arc<hub::Shelf>, SocketAddr)>,
    recorded: Option<Recorded>,
    /// Append to the journal (a restart goes on with it) instead of truncating it.
    append: bool,
    rotation: Option<Rotation>,
    /// Where the temporary journal and the judge's scratch file go.
    scratch_dir: Option<PathBuf>,
}

/// Called with each request once its journal line is written, on the serving task.
type Recorded = Box<dyn Fn(&Request) + Send + Sync>;

impl Builder {
    /// Adds a URL `/NAME` answering by `fault` (see [`Fault`]'s grammar).
    /// Panics on a bad fault spec: this is for code; the CLI parses with errors.
    pub fn url(mut self, name: &str, fault: &str) -> Self {
        let fault = fault
            .parse::<Fault>()
            .unwrap_or_else(|e| panic!("url {name}: {e}"));
        self.urls.push(UrlSpec {
            name: name.to_string(),
            fault,
            setting: None,
            upstream: None,
        });
        self
    }
    /// Adds a v2 URL `/NAME` (the sender's WebHookUrlsV2 setting) answering by `fault`.
    pub fn v2(self, name: &str, fault: Fault) -> Self {
        self.url_spec(UrlSpec {
            name: name.to_string(),
            fault,
            setting: Some(crate::protocol::Setting::V2),
            upstream: None,
        })
    }
    /// Adds a v1 URL `/NAME` (the sender's WebHookUrls setting) answering by `fault`.
    pub fn v1(self, name: &str, fault: Fault) -> Self {
        self.url_spec(UrlSpec {
            name: name.to_string(),
            fault,
            setting: Some(crate::protocol::Setting::V1),
            upstream: None,
        })
    }
    /// The sender's back-off is the real one (1 s, then 2 s) times `scale`: the D6
    /// threshold (100 ms) and [`Endpoint::verify`]'s quiet window (5 s) scale with it.
    pub fn backoff_scale(mut self, scale: f64) -> Self {
        let scale = if scale.is_finite() && scale > 0.0 {
            scale
        } else {
            1.0
        };
        self.options.min_retry_gap = crate::protocol::MIN_RETRY_GAP.mul_f64(scale);
        self.quiet = Duration::from_secs_f64(5.0 * scale);
        self
    }
    /// Adds a URL as given in full: name, fault and setting.
    pub fn url_spec(mut self, spec: UrlSpec) -> Self {
        self.urls.push(spec);
        self
    }
    /// Address to listen on (default 127.0.0.1:0: a free loopback port).
    pub fn bind(mut self, addr: SocketAddr) -> Self {
        self.bind = addr;
        self
    }
    /// Appends the journal to FILE as JSON Lines, flushed per request.
    pub fn journal(mut self, path: impl Into<PathBuf>) -> Self {
        self.journal = Some(path.into());
        self
    }
    /// Appends to the journal file, as a new run of the capture it holds (request
    /// numbers and clock go on; `brhook check` judges every run as one capture), instead
    /// of truncating it.
    pub fn append(mut self, append: bool) -> Self {
        self.append = append;
        self
    }
    /// Rotates the journal file once it is full (see [`Rotation`]).
    pub fn rotation(mut self, rotation: Option<Rotation>) -> Self {
        self.rotation = rotation;
        self
    }
    /// Where the temporary journal (when no journal file is given) and the judge's
    /// scratch file go; both are unlinked as soon as they are open, so nothing is left
    /// there however brhook ends. Default: the system's temporary directory.
    pub fn scratch_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.scratch_dir = Some(dir.into());
        self
    }
    /// `false` keeps nothing in memory (memory stays flat under load): the capture is
    /// only in the journal file (a temporary one when none was given), read back by
    /// [`Endpoint::close`]. Default `true`, for [`Endpoint::journal`].
    pub fn keep_in_memory(mut self, keep: bool) -> Self {
        self.keep_in_memory = keep;
        self
    }
    /// Largest body read, in bytes; a larger one is answered 413
    /// (default [`DEFAULT_MAX_BODY`]).
    pub fn max_body(mut self, bytes: usize) -> Self {
        self.max_body = bytes;
        self
    }
    /// Most connections served at once (at least 1; default 1024).
    pub fn max_connections(mut self, n: usize) -> Self {
        self.max_connections = n.max(1);
        self
    }
    /// How long a connection may take to send a request head (default 10 s).
    pub fn header_timeout(mut self, t: Duration) -> Self {
        self.header_timeout = t;
        self
    }
    /// A secret path prefix (the CLI's `--token`): URLs become `/PREFIX/NAME`.
    pub fn prefix(mut self, p: &str) -> Self {
        self.prefix = p.trim_matches('/').to_string();
        self
    }
    /// How the capture is judged (strictness, retry-gap threshold).
    pub fn options(mut self, o: Options) -> Self {
        self.options = o;
        self
    }
    /// Calls `sink` with each request and its own findings as the judge takes it.
    pub fn on_request(mut self, sink: impl FnMut(&Request, &Pushed) + Send + 'static) -> Self {
        self.sink = Some(Box::new(sink));
        self
    }

    /// Calls `f` with each request as soon as its journal line is written, before its
    /// answer is released (the control API's counts: the judge's sink may lag, as the
    /// judge runs only when the CPU is idle). Keep it cheap: it runs on the request's task.
    pub(crate) fn on_record(mut self, f: impl Fn(&Request) + Send + Sync + 'static) -> Self {
        self.recorded = Some(Box::new(f));
        self
    }

    /// Makes this a proxy: `make` builds the answerer from the endpoint's URLs, and
    /// the journal's meta line keeps the proxy's thresholds (crate-private; the public
    /// face is `brhook::Proxy`).
    pub(crate) fn answerer(
        mut self,
        make: impl FnOnce(&[UrlSpec]) -> Arc<dyn Answerer> + Send + 'static,
        meta: ProxyMeta,
    ) -> Self {
        self.answerer = Some(Box::new(make));
        self.proxy = Some(meta);
        self
    }

    /// Serves on `hub`'s port under the prefix `key` (one path segment: URLs become
    /// `/KEY/NAME`) instead of a listener of its own; `bind` is then not used.
    pub fn on_hub(mut self, hub: &Hub, key: &str) -> Self {
        self.prefix = key.trim_matches('/').to_string();
        self.hub = Some((hub.shelf(), hub.addr()));
        self
    }

    /// Binds the address, opens the journal and starts serving and judging.
    pub async fn start(self) -> Result<Endpoint, Error> {
        let bind = |source| Error::Bind {
            addr: self.bind,
            source,
        };
        let (listener, addr) = match &self.hub {
            Some((_, addr)) => (None, *addr),
            None => {
                let listener = TcpListener::bind(self.bind).await.map_err(bind)?;
                let addr = listener.local_addr().map_err(bind)?;
                (Some(listener), addr)
            }
        };
        let mut journal = Journal::new(self.urls.clone(), self.prefix.clone());
        journal.meta.proxy = self.proxy.clone();
        let mut options = self.options.clone();
        if options.scratch_dir.is_none() {
            options.scratch_dir = self.scratch_dir.clone();
        }
        let scratch = options.scratch_dir.clone().unwrap_or_else(std::env::temp_dir);
        // The journal is always a file: the one asked for, or a temporary one.
        let temp = self.journal.is_none().then(|| {
            scratch.join(format!(
                "brhook-endpoint-{}-{}.jsonl",
                std::process::id(),
                uuid::Uuid::new_v4().simple()
            ))
        });
        let mut journal_path = self
            .journal
            .clone()
            .or_else(|| temp.clone())
            .expect("a journal path");
        let writer = match (&self.journal, self.append) {
            (Some(path), true) => Writer::append(path, &mut journal.meta, self.rotation),
            (Some(path), false) => Writer::create(path, &journal.meta).map(|w| w.rotate_at(self.rotation)),
            (None, _) => Writer::create(&journal_path, &journal.meta),
        }
        .map_err(Error::Journal)?;
        journal.meta = writer.meta().clone();
        let segment = journal
            .meta
            .segment
            .clone()
            .unwrap_or_else(crate::journal::Segment::first);
        // The temporary journal leaves the directory at once (Linux): the writer, the
        // judge and a read back all use open descriptors, named by /proc/self/fd.
        let temp = match temp {
            Some(path) => Some(Arc::new(TempJournal::unlinked(&path).map_err(|e| {
                Error::Journal(crate::journal::JournalError::Io {
                    doing: "read",
                    path: path.display().to_string(),
                    source: e,
                })
            })?)),
            None => None,
        };
        if let Some(t) = &temp {
            journal_path = t.path.clone();
        }
        let writer = Some(writer);
        let close_connections = self.urls.iter().any(|u| u.fault.reset.is_some_and(|n| n > 0));
        // The judge follows the journal on disk from its own thread, at low priority: a
        // capture under load keeps the CPU, and the journal holds what is not judged
        // yet; once the load stops the judge catches up. Memory stays flat either way.
        let closed = Arc::new(AtomicBool::new(false));
        let reader = Reader::open(&journal_path)
            .map_err(Error::Journal)?
            .follow(closed.clone());
        // An appended journal's earlier runs are judged again, but their lines were
        // shown live by those runs: only this run's are.
        let seq_base = segment.seq_base;
        let sink: Option<Sink> = self.sink.map(|mut s| -> Sink {
            Box::new(move |r: &Request, p: &Pushed| {
                if r.seq > seq_base {
                    s(r, p)
                }
            })
        });
        let judge_options = options.clone();
        let judging = std::thread::Builder::new()
            .name("brhook-judge".into())
            .spawn(move || {
                judge::judge_journal(reader, &judge_options, sink, true).map(|(report, _)| report)
            })?;
        let answerer: Arc<dyn Answerer> = match self.answerer {
            Some(make) => make(&self.urls),
            None => Arc::new(FaultPlan::new(&self.urls)),
        };
        let counters = Arc::new(Counters::default());
        let state = Arc::new(State {
            start: Instant::now(),
            base_ms: segment.ms_base,
            journal: Mutex::new(journal),
            commit: commit::Commit::new(writer, counters.clone()),
            counters,
            keep: self.keep_in_memory,
            seq: AtomicU64::new(segment.seq_base),
            conns: AtomicU64::new(0),
            in_flight: AtomicUsize::new(0),
            last: Mutex::new(Instant::now()),
            seen: AtomicU64::new(0),
            urls: self.urls,
            prefix: self.prefix,
            max_body: self.max_body,
            close_connections,
            problems: Mutex::new((None, 0)),
            tls: AtomicU64::new(0),
            finishing: AtomicBool::new(false),
            answerer,
            recorded: self.recorded,
        });
        let accept = match (listener, self.hub) {
            (Some(listener), _) => hub::Attach::Own(tokio::spawn(serve::accept_loop(
                listener,
                serve::Routes::One(state.clone()),
                self.max_connections,
                self.header_timeout,
            ))),
            (None, Some((shelf, _))) => hub::Attach::to_hub(shelf, &state.prefix, state.clone())
                .inspect_err(|_| closed.store(true, Ordering::SeqCst))?,
            (None, None) => unreachable!("a listener is bound unless on a hub"),
        };
        Ok(Endpoint {
            addr,
            state,
            accept,
            journal_path,
            quiet: self.quiet,
            temp,
            judge_closed: closed,
            stop_now: Arc::new(AtomicBool::new(false)),
            judging: Mutex::new(Some(judging)),
            closed: Mutex::new(None),
            options,
            own_file: self.journal.is_some(),
        })
    }
}

struct State {
    start: Instant,
    /// The journal's clock at `start`: after every time earlier runs of an appended
    /// journal wrote.
    base_ms: f64,
    journal: Mutex<Journal>,
    /// The journal writer, committing lines in groups.
    commit: commit::Commit,
    counters: Arc<Counters>,
    keep: bool,
    seq: AtomicU64,
    conns: AtomicU64,
    in_flight: AtomicUsize,
    last: Mutex<Instant>,
    seen: AtomicU64,
    urls: Vec<UrlSpec>,
    prefix: String,
    max_body: usize,
    /// With a `reset` fault, every answer says `Connection: close`: a client (.NET's
    /// HttpClient among them) silently re-sends a request whose *reused* connection
    /// closed without an answer, which would add an attempt the sender never made.
    /// On fresh connections a reset reaches the sender as the failure it is.
    close_connections: bool,
    /// The first thing that went wrong recording (a journal that cannot be written),
    /// and how many more: the report fails with it instead of a line on stderr.
    problems: Mutex<(Option<String>, u64)>,
    /// Connections that opened with a TLS handshake: a sender given https:// URLs.
    tls: AtomicU64,
    /// Set when the capture begins to finish: a report so far ([`Handle`]) would only
    /// race the final one.
    finishing: AtomicBool,
    /// What answers each request: the fault plan, or a proxy's plan and forwarder.
    answerer: Arc<dyn Answerer>,
    /// [`Builder::on_record`]'s hook.
    recorded: Option<Recorded>,
}

impl State {
    fn ms(&self) -> f64 {
        self.base_ms + self.start.elapsed().as_secs_f64() * 1000.0
    }
    fn touch(&self) {
        *self.last.lock().expect("lock") = Instant::now();
    }
    /// The index of the URL a path names.
    fn route(&self, path: &str) -> Option<usize> {
        let path = path.strip_prefix('/')?;
        let rest = if self.prefix.is_empty() {
            path
        } else {
            path.strip_prefix(&self.prefix)?.strip_prefix('/')?
        };
        // A trailing slash pasted into the sender's settings still reaches the URL.
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        self.urls.iter().position(|u| u.name == rest)
    }
    /// Notes what went wrong (the first, and how many more): the report says it.
    fn problem(&self, what: String) {
        let mut p = self.problems.lock().expect("lock");
        if p.0.is_none() {
            p.0 = Some(what);
        } else {
            p.1 += 1;
        }
    }
    /// Writes the request's line (with others queued meanwhile: a group commit) and
    /// returns once it is written.
    fn record(&self, r: Request) {
        self.commit
            .append(r.seq, Writer::request_line(&r), |what| self.problem(what));
        if let Some(f) = &self.recorded {
            f(&r);
        }
        if self.keep {
            self.journal.lock().expect("lock").requests.push(r);
        }
        self.seen.fetch_add(1, Ordering::SeqCst);
        self.touch();
    }
}

/// A running endpoint. Drop stops it; [`Endpoint::finish`] stops it and judges.
#[must_use = "an endpoint judges nothing until `finish` (or `verify`)"]
pub struct Endpoint {
    addr: SocketAddr,
    state: Arc<State>,
    accept: hub::Attach,
    /// The journal file: the one asked for, or a temporary one.
    journal_path: PathBuf,
    /// The quiet window of [`Endpoint::verify`].
    quiet: Duration,
    /// The journal file when none was asked for (removed once this and every
    /// [`Handle`] are dropped: its `/proc/self/fd` path is valid while one holds it).
    temp: Option<Arc<TempJournal>>,
    /// Set once the close line is written: the judge reads to it and ends.
    judge_closed: Arc<AtomicBool>,
    /// Set to stop waiting for the quiet window (a second Ctrl-C): close and judge now.
    stop_now: Arc<AtomicBool>,
    judging: Mutex<Option<std::thread::JoinHandle<Result<Report, String>>>>,
    /// When the capture closed and its quiet window, once it has.
    closed: Mutex<Option<(f64, f64)>>,
    options: Options,
    /// The journal is a file the user named (not the temporary one): it can be
    /// reopened and rotated.
    own_file: bool,
}

impl Endpoint {
    /// A builder with the defaults: loopback on a free port, no URLs.
    pub fn builder() -> Builder {
        Builder {
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            urls: Vec::new(),
            journal: None,
            keep_in_memory: true,
            max_body: DEFAULT_MAX_BODY,
            max_connections: 1024,
            header_timeout: Duration::from_secs(10),
            prefix: String::new(),
            options: Options::default(),
            sink: None,
            quiet: Duration::from_secs(5),
            answerer: None,
            proxy: None,
            hub: None,
            recorded: None,
            append: false,
            rotation: None,
            scratch_dir: None,
        }
    }

    /// Starts on a free loopback port with the given `(name, fault)` URLs.
    pub async fn start(urls: &[(&str, &str)]) -> Result<Endpoint, Error> {
        urls.iter()
            .fold(Endpoint::builder(), |b, (n, f)| b.url(n, f))
            .start()
            .await
    }

    /// The address the endpoint listens on (with the port actually bound).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The full URL of a configured name, ready to paste into a sender's settings.
    pub fn url(&self, name: &str) -> String {
        assert!(
            self.state.urls.iter().any(|u| u.name == name),
            "no URL named {name:?} is configured"
        );
        let prefix = if self.state.prefix.is_empty() {
            String::new()
        } else {
            format!("{}/", self.state.prefix)
        };
        format!("http://{}/{prefix}{name}", self.addr)
    }

    /// Every configured name with its full URL, in configuration order.
    pub fn urls(&self) -> Vec<(String, String)> {
        self.state
            .urls
            .iter()
            .map(|u| (u.name.clone(), self.url(&u.name)))
            .collect()
    }

    /// A switch that, once set, ends the wait for the quiet window of a `finish` or
    /// `close` in progress: the capture closes and is judged at once.
    pub fn interrupter(&self) -> Arc<AtomicBool> {
        self.stop_now.clone()
    }

    /// What the endpoint counts as it runs (journal bytes, requests not recorded), for
    /// a metrics endpoint or a health check.
    pub fn counters(&self) -> Arc<Counters> {
        self.state.counters.clone()
    }

    /// A handle on the running capture for a service loop (SIGHUP, SIGUSR1, periodic
    /// reports), usable while `finish` waits.
    pub fn handle(&self) -> Handle {
        Handle {
            state: self.state.clone(),
            journal_path: self.journal_path.clone(),
            options: self.options.clone(),
            own_file: self.own_file,
            _temp: self.temp.clone(),
        }
    }

    /// Requests answered so far.
    pub fn requests_seen(&self) -> u64 {
        self.state.seen.load(Ordering::SeqCst)
    }

    /// What has been captured so far (in memory only; see `keep_in_memory`).
    pub fn journal(&self) -> Journal {
        let mut j = self.state.journal.lock().expect("lock").clone();
        j.requests.sort_by_key(|r| r.seq);
        j
    }

    /// Time since the last request arrived or was answered, and requests in flight.
    pub fn idle(&self) -> (Duration, usize) {
        (
            self.state.last.lock().expect("lock").elapsed(),
            self.state.in_flight.load(Ordering::SeqCst),
        )
    }

    /// Waits until nothing has arrived for `quiet` and nothing is in flight (at most
    /// `options.max_wait`), stops listening, closes the journal, and returns the report
    /// of the judge that took every request as it was answered.
    pub async fn finish(self, quiet: Duration) -> Report {
        self.stop(quiet).await;
        self.judgement().await
    }

    /// [`finish`](Self::finish) with the builder's quiet window (5 s, times
    /// [`Builder::backoff_scale`]).
    pub async fn verify(self) -> Report {
        let quiet = self.quiet;
        self.finish(quiet).await
    }

    /// As [`finish`](Self::finish), with the capture too (in memory unless the endpoint
    /// was built with a journal file and `keep_in_memory(false)`, then read back).
    pub async fn finish_with_journal(self, quiet: Duration) -> (Report, Journal) {
        self.stop(quiet).await;
        let journal = self.captured();
        (self.judgement().await, journal)
    }

    /// Stops as [`finish`](Self::finish) does and returns the closed journal without
    /// judging it.
    pub async fn close(&self, quiet: Duration) -> Journal {
        self.stop(quiet).await;
        self.captured()
    }

    /// Waits for the quiet window, stops listening and writes the journal's close line.
    async fn stop(&self, quiet: Duration) {
        if self.closed.lock().expect("lock").is_some() {
            return;
        }
        self.state.finishing.store(true, Ordering::SeqCst);
        let deadline = Instant::now() + self.options.max_wait;
        loop {
            let (idle, in_flight) = self.idle();
            if (in_flight == 0 && idle >= quiet) || self.stop_now.load(Ordering::SeqCst) {
                break;
            }
            if Instant::now() >= deadline {
                break;
            }
            let wait = if in_flight > 0 {
                Duration::from_millis(20)
            } else {
                quiet - idle
            };
            // In short steps: `interrupter` may cut the wait.
            let wait = wait.min(Duration::from_millis(50));
            tokio::time::sleep(wait.min(deadline.saturating_duration_since(Instant::now()))).await;
        }
        self.accept.detach();
        let closed = self.state.ms();
        let quiet_ms = quiet.as_secs_f64() * 1000.0;
        self.state
            .commit
            .finish(|what| self.state.problem(what), |w| w.close(closed, quiet_ms));
        *self.closed.lock().expect("lock") = Some((closed, quiet_ms));
        // After the close line: the judge reads up to it, then ends.
        self.judge_closed.store(true, Ordering::SeqCst);
    }

    /// The closed capture: in memory, or read back from the journal file.
    fn captured(&self) -> Journal {
        let mut j = if self.state.keep {
            self.journal()
        } else {
            Journal::read(&self.journal_path).unwrap_or_else(|e| {
                self.state
                    .problem(format!("the journal could not be read back: {e}"));
                self.journal()
            })
        };
        j.requests.sort_by_key(|r| r.seq);
        if let Some((c, q)) = *self.closed.lock().expect("lock") {
            j.closed_ms = Some(c);
            j.quiet_ms = Some(q);
        }
        j
    }

    /// Waits for the judge to read the journal to its close line and takes its report.
    async fn judgement(&self) -> Report {
        self.judge_closed.store(true, Ordering::SeqCst);
        let handle = self.judging.lock().expect("lock").take();
        let judged = match handle {
            Some(h) => tokio::task::spawn_blocking(move || h.join())
                .await
                .ok()
                .and_then(Result::ok),
            None => None,
        };
        let mut report = match judged {
            Some(Ok(report)) => report,
            Some(Err(e)) => {
                self.state
                    .problem(format!("{e}; judged the capture as recorded instead"));
                judge::judge(&self.captured(), &self.options)
            }
            // The judge's thread died: judge the capture as it was recorded instead.
            None => judge::judge(&self.captured(), &self.options),
        };
        annotate(&self.state, &mut report);
        report
    }
}

/// What the report must say beyond the judge's findings: TLS spoken to a plain
/// port, and requests that were answered but could not be recorded.
fn annotate(state: &State, report: &mut Report) {
    // A sender that speaks https to the plain-HTTP endpoint gets nothing judged: say
    // so where the user looks first.
    let tls = state.tls.load(Ordering::SeqCst);
    if tls > 0 {
        let hint = format!(
            "{tls} connection{} spoke TLS (https): brhook serves plain http, so give the sender the http:// URLs",
            crate::common::plural_s(tls)
        );
        report.subject.push_str(&format!(", {hint}"));
        if let Some(n) = &mut report.note {
            n.push_str(&format!("; {hint}"));
        }
    }
    // Never a quiet pass over a capture that was not recorded whole.
    let (first, more) = state.problems.lock().expect("lock").clone();
    if let Some(what) = first {
        let more = if more > 0 {
            format!(" (and {more} more)")
        } else {
            String::new()
        };
        let lost = state.counters.unrecorded.load(Ordering::Relaxed);
        let lost = if lost > 0 {
            format!(
                "{lost} request{} answered but not recorded (the journal could not be written); ",
                crate::common::plural_s(lost)
            )
        } else {
            String::new()
        };
        report.fail_on_nothing(&format!("the capture is incomplete: {lost}{what}{more}"));
    }
}

/// What a service loop needs of a running capture ([`Endpoint::handle`]): it outlives
/// nothing (the capture's journal and counters are shared), and costs nothing idle.
#[derive(Clone)]
pub struct Handle {
    state: Arc<State>,
    journal_path: PathBuf,
    options: Options,
    own_file: bool,
    /// Keeps a temporary journal's descriptor, which `journal_path` names, open: a
    /// report asked for while the capture finishes must not find it closed (or its
    /// number reused by another file).
    _temp: Option<Arc<TempJournal>>,
}

impl Handle {
    /// Where this run stands in its journal: request numbers and clock it goes on
    /// from, and how the run before it ended.
    pub fn segment(&self) -> Option<crate::journal::Segment> {
        self.state.journal.lock().expect("lock").meta.segment.clone()
    }

    /// See [`Endpoint::counters`].
    pub fn counters(&self) -> Arc<Counters> {
        self.state.counters.clone()
    }

    /// The capture has begun to finish (its quiet window, then the final report): a
    /// service loop stops rewriting reports, which would race the final ones.
    pub fn finishing(&self) -> bool {
        self.state.finishing.load(Ordering::SeqCst)
    }

    /// When this run started (RFC 3339, as its meta line says) and the journal's clock
    /// then, in milliseconds: a journal time `t` is `started + (t - base)`.
    pub fn started(&self) -> (String, f64) {
        let j = self.state.journal.lock().expect("lock");
        (j.meta.started.clone(), self.state.base_ms)
    }

    /// Reopens the journal file at its path (SIGHUP after logrotate moved it): the old
    /// file ends with a line saying where the capture goes on, the new one begins with
    /// the run's meta line, and nothing else changes. `Ok(false)` for the temporary
    /// journal, which has no path to reopen.
    pub fn reopen_journal(&self) -> Result<bool, String> {
        if !self.own_file {
            return Ok(false);
        }
        match self.state.commit.with_writer(|w| w.reopen()) {
            Some(Err(e)) => Err(e.to_string()),
            _ => Ok(true),
        }
    }

    /// The verdict so far, judged from the journal on disk as `brhook check` judges it
    /// (the journal and the rotated files still kept), on a low-priority thread of its
    /// own: for reports rewritten while the capture runs. The live judge goes on apart.
    pub async fn report_so_far(&self) -> Result<Report, String> {
        let files = if self.own_file {
            crate::journal::rotated_set(&self.journal_path)
        } else {
            vec![self.journal_path.clone()]
        };
        let opts = self.options.clone();
        let (tx, rx) = tokio::sync::oneshot::channel();
        std::thread::Builder::new()
            .name("brhook-report".into())
            .spawn(move || {
                let judged = Reader::open_set(&files)
                    .map_err(|e| e.to_string())
                    .and_then(|r| judge::judge_journal(r, &opts, None, true))
                    .map(|(report, _)| report);
                let _ = tx.send(judged);
            })
            .map_err(|e| format!("cannot start a thread: {e}"))?;
        let mut report = rx.await.map_err(|_| "the judge stopped".to_string())??;
        annotate(&self.state, &mut report);
        Ok(report)
    }
}

/// A temporary journal file, unlinked as soon as it is open (so a kill leaves nothing)
/// and read through the descriptor kept here; where a file cannot be unlinked while
/// open, removed when the endpoint goes.
struct TempJournal {
    /// Keeps the unlinked file alive for the judge's lookups and a read back.
    _open: std::fs::File,
    /// Where it is read: `/proc/self/fd/N` on Linux, else its name.
    path: PathBuf,
    name: PathBuf,
}

impl TempJournal {
    fn unlinked(name: &std::path::Path) -> std::io::Result<TempJournal> {
        let open = std::fs::File::open(name)?;
        #[cfg(target_os = "linux")]
        {
            use std::os::fd::AsRawFd;
            let path = PathBuf::from(format!("/proc/self/fd/{}", open.as_raw_fd()));
            if std::fs::metadata(&path).is_ok() {
                std::fs::remove_file(name)?;
                return Ok(TempJournal {
                    _open: open,
                    path,
                    name: PathBuf::new(),
                });
            }
        }
        Ok(TempJournal {
            _open: open,
            path: name.to_path_buf(),
            name: name.to_path_buf(),
        })
    }
}

impl Drop for TempJournal {
    fn drop(&mut self) {
        if !self.name.as_os_str().is_empty() {
            let _ = std::fs::remove_file(&self.name);
        }
    }
}

/// What an endpoint counts as it runs, for a metrics endpoint or a health check
/// ([`Endpoint::counters`]): atomics the hot path bumps, read without a lock.
#[derive(Debug, Default)]
pub struct Counters {
    /// Requests answered whose journal line could not be written (a full disk, an
    /// unwritable file): answered (forwarded) all the same, but not recorded.
    pub unrecorded: AtomicU64,
    /// Bytes this run wrote to the journal (every file of a rotation).
    pub journal_bytes: AtomicU64,
    /// The last journal write failed (a health check answers 503 while it does).
    pub journal_failing: AtomicBool,
}

impl Drop for Endpoint {
    fn drop(&mut self) {
        // The judge follows the journal until it is told the capture closed.
        self.judge_closed.store(true, Ordering::SeqCst);
        self.accept.detach();
        // Like wiremock's verify on drop: a capture nobody judged is a test that
        // asserts nothing. (Not while the thread already panics: that would abort.)
        let judged = self.closed.lock().map(|c| c.is_some()).unwrap_or(true);
        if !judged && self.requests_seen() > 0 && !std::thread::panicking() {
            panic!(
                "brhook: the endpoint received {} request(s) and was dropped without `finish`, `verify` or `close`: nothing was judged",
                self.requests_seen()
            );
        }
    }
}
