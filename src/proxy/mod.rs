//! `brhook proxy`: brhook between a live sender and its real receivers. Each named URL
//! forwards to its receiver byte for byte and relays the receiver's answer unchanged,
//! so the sender's retries follow the real answers. The journal keeps both legs; the
//! sender is judged as by the endpoint (T, S, D, F, C), the receiver by the R checks
//! real traffic can show.
//!
//! It is the [`Endpoint`] with an answer source behind its URLs: the fault plan first
//! (an attempt it fails is answered by brhook and never forwarded), then the receiver.

pub(crate) mod forward;
pub(crate) mod metrics;
pub(crate) mod shadow;

use crate::endpoint::{self, Answer, Answerer, Call, Endpoint, FaultPlan, Out, Reply};
use crate::error::Error;
use crate::fault;
use crate::fault::Fault;
use crate::http::{strip_hop_by_hop, text_headers, Relayed};
use crate::journal::UpstreamError;
use crate::journal::{Journal, ProxyMeta, Request, UrlSpec};
use crate::judge::{Options, Pushed};
use crate::protocol::Setting;
use crate::report::Report;
use bytes::Bytes;
use forward::{Forwarder, Target};
pub use metrics::{Metrics, MetricsServer};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

/// The proxy's answerer: each URL's fault plan first (an attempt it fails is brhook's
/// own answer and never reaches the receiver), then the URL's receiver, whose answer
/// is relayed unchanged once it is in (and the plan's delay, if any, is over).
struct Forwarding {
    plan: FaultPlan,
    client: Arc<Forwarder>,
    /// Per URL, in the endpoint's order: its receiver.
    targets: Vec<Option<Target>>,
    /// The candidate receivers (`--shadow`), if any.
    shadows: Option<shadow::Shadows>,
    /// Per URL, in the endpoint's order: its name (a shadow record names it).
    names: Vec<String>,
}

impl Answerer for Forwarding {
    fn answer(&self, call: Call) -> Answer {
        let (answer, delay) = self.plan.decide(&call);
        let target = match (answer, self.targets.get(call.url)) {
            (fault::Answer::Status(c), Some(Some(t))) if (200..300).contains(&c) => t.clone(),
            _ => return FaultPlan::reply(answer, delay),
        };
        let client = self.client.clone();
        let forwarded = forwarded_head(&call.head);
        let name = self.names.get(call.url).map_or("", String::as_str);
        let copy = self
            .shadows
            .as_ref()
            .and_then(|s| s.start(&call, name, &forwarded));
        Answer::Later(Box::pin(async move {
            let release = tokio::time::Instant::now() + delay;
            let (since, base_ms) = (call.since, call.base_ms);
            let sent_ms = call.ms();
            let result = client.forward(&target, call.head, call.body).await;
            let answered_ms = base_ms + since.elapsed().as_secs_f64() * 1000.0;
            if !delay.is_zero() {
                tokio::time::sleep_until(release).await;
            }
            let mut reply = relayed(forwarded, sent_ms, answered_ms, result);
            if let (Some(copy), Some(leg)) = (copy, &reply.leg) {
                reply.after = Some(copy.finish(leg));
            }
            reply
        }))
    }
    fn preserves_header_case(&self) -> bool {
        true
    }
}

/// The headers a forwarded request carries besides `Host`: the journal records them.
fn forwarded_head(head: &hyper::http::request::Parts) -> Vec<(String, String)> {
    let mut h = head.headers.clone();
    strip_hop_by_hop(&mut h);
    let mut all = text_headers(&h);
    all.retain(|(n, _)| n != "host");
    all
}

/// The record of a forwarded leg and what the sender gets for it.
fn relayed(
    headers: Vec<(String, String)>,
    sent_ms: f64,
    answered_ms: f64,
    result: Result<Relayed, UpstreamError>,
) -> Reply {
    let mut leg = crate::journal::Upstream {
        headers,
        sent_ms,
        answered_ms,
        status: None,
        answer_headers: Vec::new(),
        answer_body: Vec::new(),
        error: None,
    };
    match result {
        Ok(r) => {
            leg.status = Some(r.parts.status.as_u16());
            leg.answer_headers = crate::http::text_headers(&r.parts.headers);
            leg.answer_body = r.body.to_vec();
            Reply {
                out: Out::Relay(r),
                leg: Some(leg),
                after: None,
            }
        }
        Err(e) => {
            let text = Bytes::from(format!("brhook proxy: the receiver gave no answer: {e}\n"));
            let code = e.relayed_status();
            leg.error = Some(e);
            Reply {
                out: Out::Status(code, Some(text)),
                leg: Some(leg),
                after: None,
            }
        }
    }
}

/// The forwarding client of these settings.
fn client_or_err(b: &Builder) -> Result<Forwarder, Error> {
    Forwarder::new(b.upstream_ca.as_deref(), b.timeout, b.max_body).map_err(Error::Upstream)
}

/// Configures and starts a [`Proxy`].
#[must_use = "a builder does nothing until `start`"]
pub struct Builder {
    inner: endpoint::Builder,
    urls: Vec<UrlSpec>,
    upstream_ca: Option<PathBuf>,
    timeout: Duration,
    slow_after: Duration,
    max_body: usize,
    /// `--shadow`: (URL name, candidate URL).
    shadows: Vec<(String, String)>,
    shadow_permits: usize,
    shadow_timeout: Option<Duration>,
    metrics: Option<Arc<Metrics>>,
    sink: Option<crate::judge::Sink>,
    journal_path: Option<PathBuf>,
}

impl Builder {
    /// Also sends every request the named URL forwards to the candidate receiver at
    /// `url`, byte for byte; its answers are journaled and compared in the report, never
    /// relayed, never waited for (see [`shadow`]). The name is checked at `start`.
    pub fn shadow(mut self, name: &str, url: &str) -> Self {
        self.shadows.push((name.to_string(), url.to_string()));
        self
    }
    /// Most copies waiting on candidates at once (default 64); a copy beyond them is
    /// dropped (and journaled as dropped), never queued.
    pub fn shadow_concurrency(mut self, n: usize) -> Self {
        self.shadow_permits = n.max(1);
        self
    }
    /// Counts what the proxy sees into `m` (serve it with [`Metrics::serve`]).
    pub fn metrics(mut self, m: Arc<Metrics>) -> Self {
        self.metrics = Some(m);
        self
    }
    /// How long a candidate may take to answer (default: the upstream timeout).
    pub fn shadow_timeout(mut self, t: Duration) -> Self {
        self.shadow_timeout = Some(t);
        self
    }
    /// Adds a v2 URL `/NAME` (the sender's WebHookUrlsV2) forwarding to `upstream`.
    pub fn v2(self, name: &str, upstream: &str) -> Self {
        self.url(name, upstream, Setting::V2)
    }
    /// Adds a v1 URL `/NAME` (the sender's WebHookUrls) forwarding to `upstream`.
    pub fn v1(self, name: &str, upstream: &str) -> Self {
        self.url(name, upstream, Setting::V1)
    }
    fn url(mut self, name: &str, upstream: &str, setting: Setting) -> Self {
        self.urls.push(UrlSpec {
            name: name.to_string(),
            fault: Fault::ok(),
            setting: Some(setting),
            upstream: Some(upstream.to_string()),
        });
        self
    }
    /// A fault plan in front of the named URL's receiver: an attempt the plan fails is
    /// answered by brhook and not forwarded; one it lets through is forwarded. So
    /// `fail:2` delivers each event to the receiver once, on the third attempt.
    /// Panics when no URL of that name was added (this is for code; the CLI checks).
    pub fn fault(mut self, name: &str, fault: Fault) -> Self {
        let u = self
            .urls
            .iter_mut()
            .find(|u| u.name == name)
            .unwrap_or_else(|| panic!("no URL named {name:?} was added"));
        u.fault = fault;
        self
    }
    /// Trusts the PEM certificates in FILE for `https://` receivers, besides the
    /// webpki roots (a self-signed receiver, a private CA).
    pub fn upstream_ca(mut self, path: impl Into<PathBuf>) -> Self {
        self.upstream_ca = Some(path.into());
        self
    }
    /// How long a receiver may take to answer whole (default 100 s, the real sender's
    /// HttpClient default); after it the sender gets a 504.
    pub fn upstream_timeout(mut self, t: Duration) -> Self {
        self.timeout = t;
        self
    }
    /// R2: a receiver's answer slower than this is `warn` (default 5 s).
    pub fn slow_after(mut self, t: Duration) -> Self {
        self.slow_after = t;
        self
    }
    /// Address to listen on (default 127.0.0.1:0: a free loopback port).
    pub fn bind(mut self, addr: SocketAddr) -> Self {
        self.inner = self.inner.bind(addr);
        self
    }
    /// Appends the journal to FILE as JSON Lines, flushed per request.
    pub fn journal(mut self, path: impl Into<PathBuf>) -> Self {
        let path = path.into();
        self.journal_path = Some(path.clone());
        self.inner = self.inner.journal(path);
        self
    }
    /// See [`endpoint::Builder::append`].
    pub fn append(mut self, append: bool) -> Self {
        self.inner = self.inner.append(append);
        self
    }
    /// See [`endpoint::Builder::rotation`].
    pub fn rotation(mut self, rotation: Option<crate::journal::Rotation>) -> Self {
        self.inner = self.inner.rotation(rotation);
        self
    }
    /// See [`endpoint::Builder::scratch_dir`].
    pub fn scratch_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.inner = self.inner.scratch_dir(dir);
        self
    }
    /// See [`endpoint::Builder::keep_in_memory`].
    pub fn keep_in_memory(mut self, keep: bool) -> Self {
        self.inner = self.inner.keep_in_memory(keep);
        self
    }
    /// Largest body read, in bytes, of a request (a larger one is answered 413 and not
    /// forwarded) and of a receiver's answer (a larger one is relayed as 502).
    pub fn max_body(mut self, bytes: usize) -> Self {
        self.max_body = bytes;
        self.inner = self.inner.max_body(bytes);
        self
    }
    /// Most sender connections served at once (default 1024).
    pub fn max_connections(mut self, n: usize) -> Self {
        self.inner = self.inner.max_connections(n);
        self
    }
    /// How long a sender's connection may take to send a request head (default 10 s).
    pub fn header_timeout(mut self, t: Duration) -> Self {
        self.inner = self.inner.header_timeout(t);
        self
    }
    /// A secret path prefix: URLs become `/PREFIX/NAME`.
    pub fn prefix(mut self, p: &str) -> Self {
        self.inner = self.inner.prefix(p);
        self
    }
    /// How the sender is judged (strictness, retry-gap threshold, `max_wait`).
    pub fn options(mut self, o: Options) -> Self {
        self.inner = self.inner.options(o);
        self
    }
    /// See [`endpoint::Builder::backoff_scale`].
    pub fn backoff_scale(mut self, scale: f64) -> Self {
        self.inner = self.inner.backoff_scale(scale);
        self
    }
    /// Calls `sink` with each request and its own findings as the judge takes it.
    pub fn on_request(mut self, sink: impl FnMut(&Request, &Pushed) + Send + 'static) -> Self {
        self.sink = Some(Box::new(sink));
        self
    }

    /// Checks the receivers' URLs and the CA file, binds, and starts forwarding.
    pub async fn start(self) -> Result<Proxy, Error> {
        if self.urls.is_empty() {
            return Err(Error::Upstream(
                "a proxy needs at least one URL and its receiver".into(),
            ));
        }
        let mut targets = HashMap::new();
        for u in &self.urls {
            let up = u.upstream.as_deref().unwrap_or_default();
            targets.insert(u.name.clone(), Target::parse(up).map_err(Error::Upstream)?);
        }
        let client = Arc::new(client_or_err(&self)?);
        let mut shadow_targets = HashMap::new();
        for (name, url) in &self.shadows {
            if !self.urls.iter().any(|u| &u.name == name) {
                return Err(Error::Upstream(format!(
                    "--shadow {name}=…: no --to or --v1-to is named {name:?}"
                )));
            }
            let t = Target::parse(url).map_err(|e| Error::Upstream(format!("--shadow: {e}")))?;
            if shadow_targets.insert(name.clone(), (t, url.clone())).is_some() {
                return Err(Error::Upstream(format!("--shadow {name}=…: given twice")));
            }
        }
        let shadow_client = if shadow_targets.is_empty() {
            None
        } else {
            let timeout = self.shadow_timeout.unwrap_or(self.timeout);
            let f = Forwarder::new(self.upstream_ca.as_deref(), timeout, self.max_body);
            Some(Arc::new(f.map_err(Error::Upstream)?))
        };
        let permits = Arc::new(tokio::sync::Semaphore::new(self.shadow_permits));
        let metrics = self.metrics.clone();
        let shadow_metrics = metrics.clone();
        let meta = ProxyMeta {
            slow_after_ms: self.slow_after.as_secs_f64() * 1000.0,
            timeout_ms: self.timeout.as_secs_f64() * 1000.0,
        };
        let make = move |urls: &[UrlSpec]| -> Arc<dyn Answerer> {
            let shadows = shadow_client.map(|client| shadow::Shadows {
                targets: urls
                    .iter()
                    .map(|u| shadow_targets.get(&u.name).cloned())
                    .collect(),
                client,
                permits,
                metrics: shadow_metrics,
            });
            Arc::new(Forwarding {
                plan: FaultPlan::new(urls),
                client,
                targets: urls.iter().map(|u| targets.get(&u.name).cloned()).collect(),
                shadows,
                names: urls.iter().map(|u| u.name.clone()).collect(),
            })
        };
        let mut b = self.inner.answerer(make, meta);
        let mut sink = self.sink;
        let watched = metrics.clone();
        if let Some(m) = metrics {
            if let Some(p) = &self.journal_path {
                m.journal_path(p);
            }
            b = b.on_request(move |r, p| {
                m.request(r, p);
                if let Some(s) = sink.as_mut() {
                    s(r, p);
                }
            });
        } else if let Some(s) = sink.take() {
            b = b.on_request(s);
        }
        for u in self.urls {
            b = b.url_spec(u);
        }
        let ep = b.start().await?;
        // The journal's own counters (a write that failed, requests not recorded) drive
        // `/healthz` and the unrecorded metric.
        if let Some(m) = watched {
            m.watch_journal(ep.counters());
        }
        Ok(Proxy { ep })
    }
}

/// A running proxy. [`Proxy::finish`] stops it and judges both sides.
#[must_use = "a proxy judges nothing until `finish`"]
pub struct Proxy {
    ep: Endpoint,
}

impl Proxy {
    /// A builder with the defaults: loopback on a free port, no URLs, a 100 s upstream
    /// timeout, R2 slow after 5 s.
    pub fn builder() -> Builder {
        Builder {
            inner: Endpoint::builder(),
            urls: Vec::new(),
            upstream_ca: None,
            timeout: crate::protocol::TIMEOUT,
            slow_after: crate::protocol::SLOW_AFTER,
            max_body: endpoint::DEFAULT_MAX_BODY,
            shadows: Vec::new(),
            shadow_permits: shadow::DEFAULT_PERMITS,
            shadow_timeout: None,
            metrics: None,
            sink: None,
            journal_path: None,
        }
    }
    /// The address the proxy listens on.
    pub fn addr(&self) -> SocketAddr {
        self.ep.addr()
    }
    /// The URL of a configured name, to paste into the sender's settings in place of
    /// the receiver's.
    pub fn url(&self, name: &str) -> String {
        self.ep.url(name)
    }
    /// Every configured name with its URL, in configuration order.
    pub fn urls(&self) -> Vec<(String, String)> {
        self.ep.urls()
    }
    /// See [`Endpoint::interrupter`].
    pub fn interrupter(&self) -> Arc<AtomicBool> {
        self.ep.interrupter()
    }
    /// Requests answered so far.
    pub fn requests_seen(&self) -> u64 {
        self.ep.requests_seen()
    }
    /// See [`Endpoint::counters`].
    pub fn counters(&self) -> Arc<endpoint::Counters> {
        self.ep.counters()
    }
    /// See [`Endpoint::handle`].
    pub fn handle(&self) -> endpoint::Handle {
        self.ep.handle()
    }
    /// Time since the last request arrived or was answered, and requests in flight.
    pub fn idle(&self) -> (Duration, usize) {
        self.ep.idle()
    }
    /// Waits until nothing has arrived for `quiet` and nothing is in flight, stops,
    /// and returns the report on the sender and the receivers.
    pub async fn finish(self, quiet: Duration) -> Report {
        self.ep.finish(quiet).await
    }
    /// As [`finish`](Self::finish), with the capture too.
    pub async fn finish_with_journal(self, quiet: Duration) -> (Report, Journal) {
        self.ep.finish_with_journal(quiet).await
    }
}
