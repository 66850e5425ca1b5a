//! `brhook proxy --metrics ADDR`: what the proxy has seen so far, for Prometheus
//! (`GET /metrics`, the OpenMetrics text format, encoded by `prometheus-client`), and
//! whether it is well (`GET /healthz`). Requests, findings and receiver answers are
//! counted as the judge takes each request (the proxy's `on_request` feed), so a count
//! lags the traffic by the judge's backlog, never by more; shadow copies are counted
//! as the candidate answers. Memory is one series per label set: URLs, statuses,
//! checks and error kinds are few.

use crate::journal::{Request, UpstreamError};
use crate::judge::Pushed;
use bytes::Bytes;
use http_body_util::Full;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

type One = [(&'static str, String); 1];
type Two = [(&'static str, String); 2];
type Seconds = Family<One, Histogram, fn() -> Histogram>;

/// The upstream answer-time buckets: 1 ms to about 65 s, doubling (R2's 5 s and the
/// real sender's 100 s give-up fall in the last ones).
fn answer_buckets() -> Histogram {
    Histogram::new(exponential_buckets(0.001, 2.0, 17))
}

/// The proxy's metrics and health. Shared (`Arc`) between the proxy, which feeds it,
/// and the metrics server, which encodes it on each scrape.
pub struct Metrics {
    registry: Registry,
    requests: Family<Two, Counter>,
    attempts: Family<One, Counter>,
    events: Family<One, Counter>,
    findings: Family<Two, Counter>,
    answer_seconds: Seconds,
    upstream_errors: Family<Two, Counter>,
    shadow: Family<Two, Counter>,
    journal_bytes: Gauge,
    unrecorded: Counter,
    journal_path: Mutex<Option<PathBuf>>,
    /// Why the journal cannot be written, while it cannot (`/healthz` is then 503).
    journal_failure: Mutex<Option<String>>,
    healthy: AtomicBool,
    /// The endpoint's journal counters, read on each scrape and health check, with the
    /// unrecorded count already added to the metric.
    journal: Mutex<Option<(Arc<crate::endpoint::Counters>, u64)>>,
}

/// A label value for a status: `204`, or `none` when the connection was reset.
fn status(s: Option<u16>) -> String {
    s.map_or_else(|| "none".to_string(), |s| s.to_string())
}

/// The error kind, as the journal spells it.
fn kind(e: &UpstreamError) -> &'static str {
    match e {
        UpstreamError::Connect(_) => "connect",
        UpstreamError::Tls(_) => "tls",
        UpstreamError::Protocol(_) => "protocol",
        UpstreamError::Timeout => "timeout",
        UpstreamError::TooLarge => "too-large",
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    /// Empty metrics, every name registered (prefix `brhook_`).
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("brhook");
        let requests = Family::<Two, Counter>::default();
        registry.register(
            "requests",
            "Requests the proxy answered, by URL name (\"none\": an unknown path) and the status the sender got (\"none\": reset)",
            requests.clone(),
        );
        let attempts = Family::<One, Counter>::default();
        registry.register(
            "attempts",
            "Requests to a configured URL, retries included, by URL name",
            attempts.clone(),
        );
        let events = Family::<One, Counter>::default();
        registry.register(
            "events",
            "Distinct events per URL name: first attempts only",
            events.clone(),
        );
        let findings = Family::<Two, Counter>::default();
        registry.register(
            "findings",
            "Per-request findings as they are found (header, body and single-event checks), by check and level; findings judged at the end of a capture are in its report",
            findings.clone(),
        );
        let answer_seconds: Seconds = Family::new_with_constructor(answer_buckets);
        registry.register(
            "upstream_answer_seconds",
            "Time the receiver took to answer a forwarded request, by URL name",
            answer_seconds.clone(),
        );
        let upstream_errors = Family::<Two, Counter>::default();
        registry.register(
            "upstream_errors",
            "Forwarded requests the receiver gave no answer to, by URL name and kind (connect, tls, protocol, timeout, too-large)",
            upstream_errors.clone(),
        );
        let shadow = Family::<Two, Counter>::default();
        registry.register(
            "shadow_copies",
            "Copies sent to a --shadow candidate, by URL name and outcome: same (status as the real receiver's), different, dropped (too many already waiting)",
            shadow.clone(),
        );
        let journal_bytes = Gauge::default();
        registry.register(
            "journal_file_bytes",
            "Size of the journal file being written",
            journal_bytes.clone(),
        );
        let unrecorded = Counter::default();
        registry.register(
            "journal_unrecorded_requests",
            "Requests forwarded but not recorded: the journal could not be written",
            unrecorded.clone(),
        );
        Metrics {
            registry,
            requests,
            attempts,
            events,
            findings,
            answer_seconds,
            upstream_errors,
            shadow,
            journal_bytes,
            unrecorded,
            journal_path: Mutex::new(None),
            journal: Mutex::new(None),
            journal_failure: Mutex::new(None),
            healthy: AtomicBool::new(true),
        }
    }

    /// Counts one request as the judge took it (the proxy's `on_request` feed).
    pub fn request(&self, r: &Request, p: &Pushed) {
        let url = r.url.clone().unwrap_or_else(|| "none".into());
        self.requests
            .get_or_create(&[("url", url.clone()), ("status", status(r.response.status))])
            .inc();
        if r.url.is_some() {
            self.attempts.get_or_create(&[("url", url.clone())]).inc();
            if p.attempt == 1 {
                self.events.get_or_create(&[("url", url.clone())]).inc();
            }
        }
        for f in &p.findings {
            self.findings
                .get_or_create(&[("check", f.check.to_string()), ("level", f.level.to_string())])
                .inc();
        }
        if let Some(up) = &r.upstream {
            match &up.error {
                Some(e) => {
                    let labels = [("url", url), ("kind", kind(e).to_string())];
                    self.upstream_errors.get_or_create(&labels).inc();
                }
                None => self
                    .answer_seconds
                    .get_or_create(&[("url", url)])
                    .observe(up.took_ms().max(0.0) / 1000.0),
            }
        }
    }

    /// Counts one shadow copy: `None` when it was dropped, else whether the candidate's
    /// status was the real receiver's.
    pub fn shadow_copy(&self, url: &str, same_status: Option<bool>) {
        let outcome = match same_status {
            None => "dropped",
            Some(true) => "same",
            Some(false) => "different",
        };
        self.shadow
            .get_or_create(&[("url", url.to_string()), ("outcome", outcome.to_string())])
            .inc();
    }

    /// The journal file whose size `brhook_journal_file_bytes` shows (read on scrape).
    pub fn journal_path(&self, path: impl Into<PathBuf>) {
        *self.journal_path.lock().expect("lock") = Some(path.into());
    }

    /// The seam for a journal that cannot be written: one request was forwarded but
    /// not recorded, and `/healthz` answers 503 (saying `why`) until
    /// [`journal_recovered`](Self::journal_recovered).
    pub fn journal_failed(&self, why: &str) {
        self.unrecorded.inc();
        *self.journal_failure.lock().expect("lock") = Some(why.to_string());
        self.healthy.store(false, Ordering::SeqCst);
    }

    /// The journal is written again: `/healthz` answers 200.
    pub fn journal_recovered(&self) {
        *self.journal_failure.lock().expect("lock") = None;
        self.healthy.store(true, Ordering::SeqCst);
    }

    /// Reads the endpoint's journal counters from now on: a write that fails turns
    /// `/healthz` 503 until one succeeds, and each request not recorded is counted.
    pub(crate) fn watch_journal(&self, counters: Arc<crate::endpoint::Counters>) {
        *self.journal.lock().expect("lock") = Some((counters, 0));
    }

    /// Takes the journal counters' news into the metrics and the health.
    fn sync_journal(&self) {
        let mut j = self.journal.lock().expect("lock");
        let Some((c, counted)) = j.as_mut() else {
            return;
        };
        let now = c.unrecorded.load(Ordering::SeqCst);
        if now > *counted {
            self.unrecorded.inc_by(now - *counted);
            *counted = now;
        }
        let failing = c.journal_failing.load(Ordering::SeqCst);
        drop(j);
        match (failing, self.healthy.load(Ordering::SeqCst)) {
            (true, true) => {
                *self.journal_failure.lock().expect("lock") = Some(
                    "the journal cannot be written (full disk or file-size limit?): requests are forwarded but not recorded"
                        .into(),
                );
                self.healthy.store(false, Ordering::SeqCst);
            }
            (false, false) if self.journal.lock().expect("lock").is_some() => self.journal_recovered(),
            _ => {}
        }
    }

    /// Requests not recorded so far.
    pub fn unrecorded(&self) -> u64 {
        self.sync_journal();
        self.unrecorded.get()
    }

    /// `Ok` while the proxy can record what it forwards; else why not.
    pub fn health(&self) -> Result<(), String> {
        self.sync_journal();
        if self.healthy.load(Ordering::SeqCst) {
            return Ok(());
        }
        let why = self.journal_failure.lock().expect("lock").clone();
        Err(why.unwrap_or_else(|| "the journal cannot be written".into()))
    }

    /// The OpenMetrics text of every metric now.
    pub fn encode(&self) -> String {
        self.sync_journal();
        let path = self.journal_path.lock().expect("lock").clone();
        if let Some(len) = path.and_then(|p| std::fs::metadata(p).ok()).map(|m| m.len()) {
            self.journal_bytes.set(i64::try_from(len).unwrap_or(i64::MAX));
        }
        let mut out = String::new();
        encode(&mut out, &self.registry).expect("writing to a String cannot fail");
        out
    }

    /// Serves `GET /metrics` and `GET /healthz` on `addr` until the server is dropped.
    pub async fn serve(self: &Arc<Self>, addr: SocketAddr) -> std::io::Result<MetricsServer> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let metrics = self.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                };
                let m = metrics.clone();
                tokio::spawn(async move {
                    let svc = service_fn(move |req| {
                        let m = m.clone();
                        async move { Ok::<_, std::convert::Infallible>(m.answer(&req)) }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), svc)
                        .await;
                });
            }
        });
        Ok(MetricsServer { addr, task })
    }

    fn answer<B>(&self, req: &hyper::Request<B>) -> hyper::Response<Full<Bytes>> {
        let reply = |code: u16, ty: &str, body: String| {
            hyper::Response::builder()
                .status(code)
                .header("content-type", ty)
                .body(Full::new(Bytes::from(body)))
                .expect("response builds")
        };
        let text = "text/plain; charset=utf-8";
        if req.method() != hyper::Method::GET && req.method() != hyper::Method::HEAD {
            return reply(405, text, "GET /metrics or GET /healthz\n".into());
        }
        match req.uri().path() {
            "/metrics" => reply(
                200,
                "application/openmetrics-text; version=1.0.0; charset=utf-8",
                self.encode(),
            ),
            "/healthz" => match self.health() {
                Ok(()) => reply(200, text, "ok: forwarding and recording\n".into()),
                Err(why) => reply(503, text, format!("unhealthy: forwarding, but {why}\n")),
            },
            _ => reply(404, text, "brhook metrics: GET /metrics or GET /healthz\n".into()),
        }
    }
}

/// A running metrics server; dropping it stops it.
pub struct MetricsServer {
    addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl MetricsServer {
    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for MetricsServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}
