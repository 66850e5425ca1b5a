//! The reference sender: BililiveRecorder's webhook delivery, as `sender-facts.md` reads
//! it off the recorder's source, plus [`Mutant`]s that each break one check.
//!
//! The faithful path, per event:
//! - serialise once ([`crate::gen::serialize`]: compact, raw UTF-8, no BOM);
//! - one tokio task per event; inside it one sub-task per URL of the setting, all at the
//!   same time, joined (a slow or failing URL does not delay the others);
//! - per URL up to 3 attempts, attempt `i` first waiting `backoff[i]` (real: 0 s, 1 s,
//!   2 s); an attempt fails on a connection or request error, a timeout, or a non-2xx
//!   status; the first 2xx ends the URL's delivery; after the last failure, give up;
//! - every attempt: `POST`, HTTP/1.1, `Host`, `Content-Type: application/json`,
//!   `User-Agent: BililiveRecorder/2.17.3`, `Content-Length`, the same bytes.
//!
//! Mutants apply at the few points marked `MUTANT:` below (wire and delivery mutants) and
//! in [`scenario`] (what is sent). `config.mutant == None` is the real sender.
//!
//! A new TCP connection is made per attempt, unless the config keeps connections alive
//! ([`SenderConfig::keep_alive`], as .NET's `HttpClient` does; `send load` uses it): the
//! protocol does not care which. Only `http://` URLs can be sent to: an `https://` URL, like
//! any URL the real sender would refuse, is listed by [`Sender::ignored_urls`] and never
//! sent to.

pub mod mutant;
pub mod scenario;

pub use crate::gen::Step;
pub use mutant::Mutant;
pub use scenario::{play, realistic_scenario, realistic_scenario_at};
// The scenarios take a room; callers need not reach into the testkit for it.
pub use crate::gen::Room;

use crate::protocol::{self, BACKOFF, CONTENT_TYPE_JSON, MAX_ATTEMPTS, TIMEOUT};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper::header::{HeaderValue, CONTENT_TYPE, HOST, USER_AGENT};
use hyper::{Method, Request};
use hyper_util::rt::TokioIo;
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::net::TcpStream;
use tokio::task::JoinHandle;

/// Splits a settings text (`WebHookUrls`, `WebHookUrlsV2`) as the real sender does: one
/// URL per line (CR or LF), each trimmed, empty lines dropped, duplicates kept.
pub fn parse_url_setting(text: &str) -> Vec<String> {
    text.split(['\r', '\n'])
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect()
}

/// How the reference sender delivers: URLs, back-off, headers, timeout, and any mutant.
#[derive(Clone, Debug)]
pub struct SenderConfig {
    /// `WebHookUrlsV2`: where v2 events go.
    pub v2_urls: Vec<String>,
    /// `WebHookUrls`: where v1 records go.
    pub v1_urls: Vec<String>,
    /// The wait before attempt `i`; its length does not set the attempt count (always
    /// [`MAX_ATTEMPTS`] for the faithful sender). Real: `[0 s, 1 s, 2 s]`.
    pub backoff: Vec<Duration>,
    /// The `User-Agent` header sent. Real: [`protocol::USER_AGENT`].
    pub user_agent: String,
    /// Per attempt: connect, request and the whole response. Real: 100 s.
    pub timeout: Duration,
    /// `None`: the faithful sender.
    pub mutant: Option<Mutant>,
    /// Kept-alive connections shared by every sender of this config (and its clones);
    /// `None`: a new connection per attempt.
    pub pool: Option<Pool>,
}

/// Idle kept-alive connections by `host:port`, shared by the clones of a config.
#[derive(Clone, Default)]
pub struct Pool(Arc<Mutex<HashMap<String, Vec<Kept>>>>);

/// A kept-alive connection's sending half.
type Kept = SendRequest<Full<Bytes>>;

impl std::fmt::Debug for Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Pool")
    }
}

/// Idle connections kept per `host:port`; more are closed once answered.
const POOL_PER_HOST: usize = 256;

impl Pool {
    fn take(&self, key: &str) -> Option<SendRequest<Full<Bytes>>> {
        let mut idle = self.0.lock().expect("pool lock");
        let list = idle.get_mut(key)?;
        while let Some(s) = list.pop() {
            if !s.is_closed() {
                return Some(s);
            }
        }
        None
    }
    fn put(&self, key: &str, s: SendRequest<Full<Bytes>>) {
        let mut idle = self.0.lock().expect("pool lock");
        let list = idle.entry(key.to_string()).or_default();
        if list.len() < POOL_PER_HOST {
            list.push(s);
        }
    }
}

impl SenderConfig {
    /// The real sender's settings for these URL lists.
    pub fn new(v2_urls: Vec<String>, v1_urls: Vec<String>) -> SenderConfig {
        SenderConfig {
            v2_urls,
            v1_urls,
            backoff: BACKOFF.to_vec(),
            user_agent: protocol::USER_AGENT.to_string(),
            timeout: TIMEOUT,
            mutant: None,
            pool: None,
        }
    }

    /// Connections kept alive and reused between attempts (one pool for this config and
    /// its clones), as the real sender's `HttpClient` does.
    pub fn keep_alive(mut self) -> SenderConfig {
        self.pool = Some(Pool::default());
        self
    }

    /// The back-off multiplied by `factor` (0.1 gives 0 ms, 100 ms, 200 ms).
    pub fn scaled(mut self, factor: f64) -> SenderConfig {
        for d in &mut self.backoff {
            *d = d.mul_f64(factor);
        }
        self
    }

    /// With this mutant (`None`: the faithful sender).
    pub fn with_mutant(mut self, mutant: Option<Mutant>) -> SenderConfig {
        self.mutant = mutant;
        self
    }

    /// With this per-attempt timeout.
    pub fn with_timeout(mut self, timeout: Duration) -> SenderConfig {
        self.timeout = timeout;
        self
    }
}

pub use crate::protocol::Setting;

/// How one attempt ended, as the sender saw it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// A response arrived (its body read to the end) with this status.
    Status(u16),
    /// Connection or request error.
    Error(String),
    /// No complete response within the configured timeout.
    Timeout,
}

impl Outcome {
    /// True for a 2xx status.
    pub fn is_success(&self) -> bool {
        matches!(self, Outcome::Status(s) if (200..300).contains(s))
    }
}

/// One attempt, from the sender's side (for `brhook send`: statuses and latencies).
#[derive(Clone, Debug)]
pub struct Attempt {
    /// The setting the event was sent under.
    pub setting: Setting,
    /// The sender's running event number (0-based, over both settings, in `send` order).
    pub event: usize,
    /// Index of the URL in its setting's list (duplicates have distinct indices).
    pub url_index: usize,
    /// The URL as configured.
    pub url: String,
    /// 0-based attempt number at this URL.
    pub attempt: usize,
    /// When the request was started (after the back-off wait).
    pub started: Instant,
    /// From start to the end of the response body (or the error).
    pub elapsed: Duration,
    /// How the attempt ended.
    pub outcome: Outcome,
    /// The first [`ANSWER_PREFIX`] bytes of the response body (empty without one).
    pub answer: Vec<u8>,
    /// The response's headers, names lowercase (empty without a response).
    pub answer_headers: Vec<(String, String)>,
}

/// How much of a response body an [`Attempt`] keeps: enough for an error message.
pub const ANSWER_PREFIX: usize = 512;

/// An `http://host:port/path?query` URL, split for a raw HTTP/1.1 connection.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Target {
    /// `host:port` to connect to (IPv6 in brackets).
    connect: String,
    /// `Host` header value: the authority as written (no user info).
    host_header: String,
    /// Origin-form request target: `/path?query`.
    path: String,
}

/// The `Host` header and request target the sender writes for `url` (for `brhook
/// replay`'s journal, which records what was sent); `None` for a URL it cannot send to.
pub(crate) fn host_and_path(url: &str) -> Option<(String, String)> {
    parse_target(url).ok().map(|t| (t.host_header, t.path))
}

fn parse_target(url: &str) -> Result<Target, String> {
    let (scheme, rest) = url
        .split_once("://")
        .ok_or_else(|| format!("not an absolute URL: {url}"))?;
    if scheme.eq_ignore_ascii_case("https") {
        return Err(format!("https is not supported by the reference sender: {url}"));
    }
    if !scheme.eq_ignore_ascii_case("http") {
        return Err(format!("not an http URL: {url}"));
    }
    let rest = rest.split('#').next().unwrap_or_default();
    let split = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(split);
    let authority = authority.rsplit('@').next().unwrap_or_default();
    if authority.is_empty() {
        return Err(format!("URL without a host: {url}"));
    }
    let path = match path {
        "" => "/".to_string(),
        p if p.starts_with('?') => format!("/{p}"),
        p => p.to_string(),
    };
    // The port is after the last ':' unless that ':' is inside an IPv6 literal.
    let has_port = match authority.rfind(':') {
        Some(i) => !authority[i..].contains(']'),
        None => false,
    };
    let connect = if has_port {
        let (_, port) = authority.rsplit_once(':').unwrap_or_default();
        port.parse::<u16>()
            .map_err(|_| format!("bad port in URL: {url}"))?;
        authority.to_string()
    } else {
        format!("{authority}:80")
    };
    Ok(Target {
        connect,
        host_header: authority.to_string(),
        path,
    })
}

/// One event in flight: its value (for mutants that re-serialise) and its one byte array.
struct Event {
    setting: Setting,
    index: usize,
    value: Value,
    bytes: Bytes,
}

struct Inner {
    config: SenderConfig,
    v2: Vec<(String, Result<Target, String>)>,
    v1: Vec<(String, Result<Target, String>)>,
    next_event: AtomicUsize,
    tasks: Mutex<Vec<JoinHandle<()>>>,
    attempts: Mutex<Vec<Attempt>>,
    observer: Option<Observer>,
}

/// Sees each attempt as it ends ([`Sender::on_attempt`]).
type Observer = Box<dyn Fn(&Attempt) + Send + Sync>;

/// The reference sender. Cheap to share by reference; `send` must be called inside a
/// tokio runtime.
pub struct Sender {
    inner: Arc<Inner>,
}

impl Sender {
    /// Plays the realistic scenario (the documentation's room: one live stream, one
    /// session, three files with their v1 records; the 2.x stream events and booleans
    /// when `v2x`), an event every 10 ms, and waits for every delivery to end.
    pub async fn play_realistic(&self, v2x: bool) {
        let steps = realistic_scenario(&Room::doc_example(), v2x, None);
        play(self, &steps, Duration::from_millis(10)).await;
    }

    /// A sender with this configuration; URLs it cannot send to are set aside
    /// ([`Sender::ignored_urls`]).
    pub fn new(config: SenderConfig) -> Sender {
        let parse = |urls: &[String]| urls.iter().map(|u| (u.clone(), parse_target(u))).collect();
        Sender {
            inner: Arc::new(Inner {
                v2: parse(&config.v2_urls),
                v1: parse(&config.v1_urls),
                config,
                next_event: AtomicUsize::new(0),
                tasks: Mutex::new(Vec::new()),
                attempts: Mutex::new(Vec::new()),
                observer: None,
            }),
        }
    }

    /// Calls `f` with each attempt as it ends, before anything is sent (`brhook replay`
    /// and `brhook send` write each to their journal at once); [`Sender::attempts`] then
    /// keeps none. Panics once the sender has been shared.
    pub fn on_attempt(mut self, f: impl Fn(&Attempt) + Send + Sync + 'static) -> Sender {
        Arc::get_mut(&mut self.inner)
            .expect("set before sending")
            .observer = Some(Box::new(f));
        self
    }

    /// The configuration it was made with.
    pub fn config(&self) -> &SenderConfig {
        &self.inner.config
    }

    /// Sends a v2 event to every v2 URL, on its own task. Returns at once.
    pub fn send(&self, event: &Value) {
        self.dispatch(Setting::V2, event);
    }

    /// Sends a v1 record to every v1 URL, on its own task. Returns at once.
    pub fn send_v1(&self, record: &Value) {
        self.dispatch(Setting::V1, record);
    }

    /// Sends `bytes` exactly as given (a captured body, for `brhook replay`) to every URL
    /// of `setting`, on its own task, with the faithful sender's headers, fan-out and
    /// retries. Returns at once. Nothing is parsed or re-serialised, so mutants that
    /// rebuild a body from its value do not apply to these bytes.
    pub fn send_bytes(&self, setting: Setting, bytes: impl Into<Bytes>) {
        let event = Event {
            setting,
            index: self.inner.next_event.fetch_add(1, Ordering::SeqCst),
            value: Value::Null,
            bytes: bytes.into(),
        };
        let inner = Arc::clone(&self.inner);
        let handle = tokio::spawn(async move { inner.deliver(Arc::new(event)).await });
        self.inner.tasks.lock().expect("task list").push(handle);
    }

    /// [`send_bytes`](Self::send_bytes) on the caller's task: returns once the event is
    /// delivered or given up (its attempts observed as usual). For a caller with one event
    /// to send at a time (`send load`'s workers), a spawn and a join less per event.
    pub(crate) async fn deliver_bytes(&self, setting: Setting, bytes: impl Into<Bytes>) {
        let event = Event {
            setting,
            index: self.inner.next_event.fetch_add(1, Ordering::SeqCst),
            value: Value::Null,
            bytes: bytes.into(),
        };
        Arc::clone(&self.inner).deliver(Arc::new(event)).await;
    }

    fn dispatch(&self, setting: Setting, value: &Value) {
        let event = Event {
            setting,
            index: self.inner.next_event.fetch_add(1, Ordering::SeqCst),
            value: value.clone(),
            // Serialised once: the same bytes go to every URL and into every attempt.
            bytes: Bytes::from(crate::gen::serialize(value)),
        };
        let inner = Arc::clone(&self.inner);
        let handle = tokio::spawn(async move { inner.deliver(Arc::new(event)).await });
        self.inner.tasks.lock().expect("task list").push(handle);
    }

    /// Waits until every event sent so far (and any sent while waiting) is delivered or
    /// given up. A panic inside a delivery task is resumed here.
    pub async fn wait(&self) {
        loop {
            let handles = std::mem::take(&mut *self.inner.tasks.lock().expect("task list"));
            if handles.is_empty() {
                return;
            }
            for h in handles {
                if let Err(e) = h.await {
                    if e.is_panic() {
                        std::panic::resume_unwind(e.into_panic());
                    }
                }
            }
        }
    }

    /// Every finished attempt so far, in completion order (none with [`Sender::on_attempt`]).
    pub fn attempts(&self) -> Vec<Attempt> {
        self.inner.attempts.lock().expect("attempt list").clone()
    }

    /// URLs never sent to, with the reason (not absolute `http://`; `https://`).
    pub fn ignored_urls(&self) -> Vec<(String, String)> {
        self.inner
            .v2
            .iter()
            .chain(&self.inner.v1)
            .filter_map(|(u, t)| t.as_ref().err().map(|e| (u.clone(), e.clone())))
            .collect()
    }
}

impl Inner {
    fn mutant(&self) -> Option<Mutant> {
        self.config.mutant
    }

    /// The URLs this event goes to: `(index in the setting, url, target)`.
    fn targets(&self, ev: &Event) -> Vec<(usize, String, Target)> {
        let list = match ev.setting {
            Setting::V2 => &self.v2,
            Setting::V1 => &self.v1,
        };
        let mut out: Vec<_> = list
            .iter()
            .enumerate()
            .filter_map(|(i, (u, t))| t.as_ref().ok().map(|t| (i, u.clone(), t.clone())))
            .collect();
        // MUTANT SkipUrl (F1): every other event misses the last URL.
        if self.mutant() == Some(Mutant::SkipUrl) && ev.index % 2 == 1 && out.len() > 1 {
            out.pop();
        }
        out
    }

    /// One event to all its URLs.
    async fn deliver(self: Arc<Self>, ev: Arc<Event>) {
        let targets = self.targets(&ev);
        match self.mutant() {
            // MUTANT Sequential (F3): one URL after another, each delivery awaited.
            Some(Mutant::Sequential) => {
                for (i, url, target) in targets {
                    self.deliver_to_url(&ev, i, &url, &target).await;
                }
            }
            // MUTANT RetryEverywhere (F4): rounds over all URLs; any failure repeats all.
            Some(Mutant::RetryEverywhere) => self.retry_everywhere(ev, targets).await,
            // One URL: nothing to run beside it, so no sub-task (a spawn and a join
            // less per event under load).
            _ if targets.len() == 1 => {
                let (i, url, target) = &targets[0];
                self.deliver_to_url(&ev, *i, url, target).await;
            }
            // Faithful: all URLs at the same time, one sub-task each, joined.
            _ => {
                let handles: Vec<_> = targets
                    .into_iter()
                    .map(|(i, url, target)| {
                        let (me, ev) = (Arc::clone(&self), Arc::clone(&ev));
                        tokio::spawn(async move { me.deliver_to_url(&ev, i, &url, &target).await })
                    })
                    .collect();
                for h in handles {
                    if let Err(e) = h.await {
                        if e.is_panic() {
                            std::panic::resume_unwind(e.into_panic());
                        }
                    }
                }
            }
        }
    }

    /// Attempts at one URL until a 2xx or the attempts run out. True on success.
    async fn deliver_to_url(&self, ev: &Event, url_index: usize, url: &str, target: &Target) -> bool {
        let bytes = self.bytes_for_url(ev, url_index);
        let max = match self.mutant() {
            Some(Mutant::NoRetry) => 1,       // MUTANT NoRetry (D2)
            Some(Mutant::FourthAttempt) => 4, // MUTANT FourthAttempt (D1)
            _ => MAX_ATTEMPTS,
        };
        for i in 0..max {
            self.wait_before(i).await;
            let body = self.bytes_for_attempt(ev, &bytes, i);
            if self.attempt(ev, url_index, url, target, i, body).await {
                // MUTANT RetryAfterSuccess (D4): one more attempt after the 2xx.
                if self.mutant() == Some(Mutant::RetryAfterSuccess) {
                    self.wait_before(i + 1).await;
                    self.attempt(ev, url_index, url, target, i + 1, bytes.clone())
                        .await;
                }
                return true;
            }
        }
        false
    }

    /// MUTANT RetryEverywhere (F4): attempt `i` goes to every URL (at the same time)
    /// whenever any URL failed attempt `i - 1`.
    async fn retry_everywhere(self: Arc<Self>, ev: Arc<Event>, targets: Vec<(usize, String, Target)>) {
        for i in 0..MAX_ATTEMPTS {
            self.wait_before(i).await;
            let handles: Vec<_> = targets
                .iter()
                .cloned()
                .map(|(ui, url, target)| {
                    let (me, ev) = (Arc::clone(&self), Arc::clone(&ev));
                    tokio::spawn(async move {
                        let body = me.bytes_for_url(&ev, ui);
                        me.attempt(&ev, ui, &url, &target, i, body).await
                    })
                })
                .collect();
            let mut all_ok = true;
            for h in handles {
                all_ok &= h.await.unwrap_or(false);
            }
            if all_ok {
                return;
            }
        }
    }

    /// Waits out the back-off before attempt `i`. A zero wait does not touch the
    /// timer: a zero `sleep` still parks until the timer's next tick, which a busy
    /// runtime serves late (the no-backoff mutant's retries came 24–700 ms after an
    /// answer, indistinguishable from a sender that waits).
    async fn wait_before(&self, i: usize) {
        let d = self.backoff(i);
        if !d.is_zero() {
            tokio::time::sleep(d).await;
        }
    }

    /// The wait before attempt `i`. Past the configured list, the last entry repeats.
    fn backoff(&self, i: usize) -> Duration {
        // MUTANT NoBackoff (D6): no wait at all.
        if self.mutant() == Some(Mutant::NoBackoff) {
            return Duration::ZERO;
        }
        let b = &self.config.backoff;
        b.get(i).or(b.last()).copied().unwrap_or_default()
    }

    /// The event's one byte array; mutants may give a URL other bytes.
    fn bytes_for_url(&self, ev: &Event, url_index: usize) -> Bytes {
        // MUTANT BytesDifferPerUrl (F2): the second URL gets the keys reversed, compact.
        if self.mutant() == Some(Mutant::BytesDifferPerUrl) && url_index == 1 {
            return Bytes::from(crate::gen::serialize(&reverse_keys(&ev.value)));
        }
        ev.bytes.clone()
    }

    /// The bytes of attempt `i`: always `bytes`, except for one mutant.
    fn bytes_for_attempt(&self, ev: &Event, bytes: &Bytes, i: usize) -> Bytes {
        // MUTANT ChangeBodyOnRetry (D3): each retry re-serialised with a new timestamp.
        if self.mutant() == Some(Mutant::ChangeBodyOnRetry) && i > 0 {
            if let Some(obj) = ev.value.as_object() {
                if obj.contains_key("EventTimestamp") {
                    let mut v = ev.value.clone();
                    let now = chrono::Utc::now().with_timezone(&scenario::china());
                    // Shifted by the attempt number so two retries within one tick differ.
                    let now = crate::gen::add_ticks(now, i as i64);
                    v["EventTimestamp"] = crate::gen::format_date_time(&now).into();
                    return Bytes::from(crate::gen::serialize(&v));
                }
            }
        }
        bytes.clone()
    }

    /// One request; records it; true on 2xx.
    async fn attempt(
        &self,
        ev: &Event,
        url_index: usize,
        url: &str,
        target: &Target,
        attempt: usize,
        body: Bytes,
    ) -> bool {
        let started = Instant::now();
        let (outcome, answer, answer_headers) =
            match tokio::time::timeout(self.config.timeout, self.post(target, body)).await {
                Ok(Ok((status, answer, headers))) => (Outcome::Status(status), answer, headers),
                Ok(Err(e)) => (Outcome::Error(e), Vec::new(), Vec::new()),
                Err(_) => (Outcome::Timeout, Vec::new(), Vec::new()),
            };
        let ok = outcome.is_success();
        let a = Attempt {
            setting: ev.setting,
            event: ev.index,
            url_index,
            url: url.to_string(),
            attempt,
            started,
            elapsed: started.elapsed(),
            outcome,
            answer,
            answer_headers,
        };
        // An observer takes the attempts (into a journal): none are kept, so a sender
        // that runs as long as a capture holds memory flat.
        match &self.observer {
            Some(f) => f(&a),
            None => self.attempts.lock().expect("attempt list").push(a),
        }
        ok
    }

    /// One HTTP/1.1 request (on a kept connection when the config pools them, else on a
    /// new one); the status, the start of the response body (once the body is read) and
    /// the response's headers.
    async fn post(
        &self,
        target: &Target,
        body: Bytes,
    ) -> Result<(u16, Vec<u8>, Vec<(String, String)>), String> {
        let mut method = Method::POST;
        let mut content_type = HeaderValue::from_static(CONTENT_TYPE_JSON);
        let mut user_agent = HeaderValue::from_str(&self.config.user_agent).ok();
        match self.mutant() {
            Some(Mutant::WrongMethod) => method = Method::PUT, // MUTANT (T1)
            Some(Mutant::Charset) => {
                // MUTANT (T2)
                content_type = HeaderValue::from_static("application/json; charset=utf-8")
            }
            Some(Mutant::NoUserAgent) => user_agent = None, // MUTANT (T3)
            Some(Mutant::ForeignUserAgent) => user_agent = Some(HeaderValue::from_static("Mozilla/5.0")), // MUTANT (T3)
            _ => {}
        }

        let mut head = Request::builder()
            .method(method)
            .uri(&target.path)
            .header(HOST, &target.host_header)
            .header(CONTENT_TYPE, content_type);
        if let Some(ua) = user_agent {
            head = head.header(USER_AGENT, ua);
        }
        // Full<Bytes> has an exact size: hyper writes Content-Length, never chunked.
        let mut req = head.body(Full::new(body)).map_err(|e| format!("request: {e}"))?;
        let pool = self.config.pool.as_ref();
        let mut kept = pool.and_then(|p| p.take(&target.connect));
        let (resp, send, _conn) = loop {
            // A kept connection finishes its previous exchange first; one that closed
            // meanwhile is replaced.
            let ready = match kept.take() {
                Some(mut s) => s.ready().await.is_ok().then_some(s),
                None => None,
            };
            let (mut send, conn, reused) = match ready {
                Some(s) => (s, None, true),
                None => {
                    let (s, c) = connect(target, pool.is_some()).await?;
                    (s, c, false)
                }
            };
            match send.try_send_request(req).await {
                Ok(r) => break (r, send, conn),
                Err(mut e) => match e.take_message() {
                    // Never written (a kept connection the receiver had closed): it goes
                    // once on a new connection, as HttpClient retries a stale one.
                    Some(back) if reused => req = back,
                    _ => return Err(format!("request: {}", e.into_error())),
                },
            }
        };
        let status = resp.status().as_u16();
        let headers: Vec<(String, String)> = resp
            .headers()
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        // Like HttpClient.PostAsync: the response is read to its end.
        let answer = resp
            .into_body()
            .collect()
            .await
            .map_err(|e| format!("response body: {e}"))?
            .to_bytes();
        let close = headers
            .iter()
            .any(|(n, v)| n == "connection" && v.eq_ignore_ascii_case("close"));
        if let (Some(p), false) = (pool, close) {
            p.put(&target.connect, send);
        }
        Ok((
            status,
            answer[..answer.len().min(ANSWER_PREFIX)].to_vec(),
            headers,
        ))
    }
}

/// A new HTTP/1.1 connection. Without a pool its task is aborted when the attempt ends
/// (the guard); a pooled one lives as long as its kept sender.
async fn connect(
    target: &Target,
    pooled: bool,
) -> Result<(SendRequest<Full<Bytes>>, Option<AbortOnDrop>), String> {
    let stream = TcpStream::connect(&target.connect)
        .await
        .map_err(|e| format!("connect {}: {e}", target.connect))?;
    let _ = stream.set_nodelay(true);
    let (send, conn) = hyper::client::conn::http1::handshake::<_, Full<Bytes>>(TokioIo::new(stream))
        .await
        .map_err(|e| format!("handshake: {e}"))?;
    let task = tokio::spawn(async move {
        let _ = conn.await;
    });
    // (Not `then_some`: its argument is built either way, and dropping the guard aborts.)
    let guard = if pooled { None } else { Some(AbortOnDrop(task)) };
    Ok((send, guard))
}

/// Aborts the connection task when the attempt ends (or times out).
struct AbortOnDrop(JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// The same object with its keys (top level and `EventData`) in reverse order.
fn reverse_keys(v: &Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut out = Map::new();
            for (k, x) in m.iter().rev() {
                let x = if k == "EventData" {
                    reverse_keys(x)
                } else {
                    x.clone()
                };
                out.insert(k.clone(), x);
            }
            Value::Object(out)
        }
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_split_like_the_real_sender() {
        let text = " http://a/x \r\n\r\nhttp://b/y\nhttp://a/x\r";
        assert_eq!(
            parse_url_setting(text),
            ["http://a/x", "http://b/y", "http://a/x"]
        );
    }

    #[test]
    fn targets_parse() {
        let t = parse_target("http://127.0.0.1:8080/hook/a?x=1").unwrap();
        assert_eq!(t.connect, "127.0.0.1:8080");
        assert_eq!(t.host_header, "127.0.0.1:8080");
        assert_eq!(t.path, "/hook/a?x=1");
        let t = parse_target("HTTP://example.com").unwrap();
        assert_eq!((t.connect.as_str(), t.path.as_str()), ("example.com:80", "/"));
        let t = parse_target("http://[::1]:9/p").unwrap();
        assert_eq!(t.connect, "[::1]:9");
        let t = parse_target("http://[::1]/p").unwrap();
        assert_eq!(t.connect, "[::1]:80");
        let t = parse_target("http://u:p@h:1?q").unwrap();
        assert_eq!((t.host_header.as_str(), t.path.as_str()), ("h:1", "/?q"));
        assert!(parse_target("https://h/").is_err());
        assert!(parse_target("ftp://h/").is_err());
        assert!(parse_target("h/x").is_err());
        assert!(parse_target("http://h:99999/").is_err());
    }

    #[test]
    fn scaled_backoff() {
        let c = SenderConfig::new(vec![], vec![]).scaled(0.1);
        assert_eq!(c.backoff, [0, 100, 200].map(Duration::from_millis));
    }

    #[test]
    fn mutant_names_round_trip() {
        for m in Mutant::ALL {
            assert_eq!(Mutant::from_name(m.name()), Some(m));
        }
    }
}
