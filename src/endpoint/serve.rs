//! Serving one connection: each request is read whole, answered by the endpoint's
//! [`Answerer`] (a fault plan, or a proxy's plan and forwarder), and recorded with its
//! answer before the answer is released.

use super::answer::{Answer, Call, Out, Reply};
use super::State;
use crate::http::{strip_hop_by_hop, text_headers};
use crate::journal::{Request, Response, Writer};
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

/// Where a connection's requests go: one endpoint, or the captures of a hub (chosen per
/// request by its path).
#[derive(Clone)]
pub(super) enum Routes {
    One(Arc<State>),
    Hub(Arc<super::hub::Shelf>),
}

impl Routes {
    fn counters(&self) -> (&AtomicU64, &AtomicU64) {
        match self {
            Routes::One(s) => (&s.conns, &s.tls),
            Routes::Hub(h) => (&h.conns, &h.tls),
        }
    }
    fn relay(&self) -> bool {
        match self {
            Routes::One(s) => s.answerer.preserves_header_case(),
            Routes::Hub(_) => false,
        }
    }
    fn pick(&self, path: &str) -> Option<Arc<State>> {
        match self {
            Routes::One(s) => Some(s.clone()),
            Routes::Hub(h) => h.pick(path),
        }
    }
}

pub(super) async fn accept_loop(
    listener: TcpListener,
    routes: Routes,
    max_conns: usize,
    header_timeout: Duration,
) {
    let permits = Arc::new(Semaphore::new(max_conns));
    loop {
        let Ok(permit) = permits.clone().acquire_owned().await else {
            return;
        };
        let (stream, _) = match listener.accept().await {
            Ok(s) => s,
            Err(_) => {
                // Out of descriptors or similar: back off instead of spinning.
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let conn = routes.counters().0.fetch_add(1, Ordering::SeqCst) + 1;
        let routes = routes.clone();
        let relay = routes.relay();
        tokio::spawn(async move {
            let stream = Arc::new(stream);
            let io = Shared {
                io: stream.clone(),
                routes: routes.clone(),
                first: true,
            };
            let svc = service_fn(move |req| dispatch(req, routes.clone(), conn, stream.clone()));
            let _ = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(header_timeout)
                .keep_alive(true)
                // A sender may shut down its write half once its request is sent. Without
                // this, hyper treats that EOF as an error while the request is in flight
                // and drops the connection, and with it the handler before it recorded
                // anything: the request was lost and the sender got no answer.
                .half_close(true)
                // A proxy forwards header names in the case the sender wrote them.
                .preserve_header_case(relay)
                .serve_connection(TokioIo::new(io), svc)
                .await;
            drop(permit);
        });
    }
}

impl State {
    /// Records a request with its answer, then hands the answer back for release:
    /// nothing is answered before its journal line is written.
    fn release(self: &Arc<Self>, mut record: Request, reply: Reply) -> Out {
        record.response.status = reply.status_code();
        record.response.at_ms = self.ms();
        record.upstream = reply.leg;
        let seq = record.seq;
        self.record(record);
        if let Some(after) = reply.after {
            // Counted in flight, so that the capture closes only after its line.
            self.in_flight.fetch_add(1, Ordering::SeqCst);
            let guard = InFlight(self.clone());
            tokio::spawn(async move {
                let mut shadow = after.await;
                shadow.seq = seq;
                let state = &guard.0;
                state
                    .commit
                    .append(seq, Writer::shadow_line(&shadow), |what| state.problem(what));
                drop(guard);
            });
        }
        reply.out
    }
}

/// Counts a request in flight until dropped.
struct InFlight(Arc<State>);
impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
        self.0.touch();
    }
}

#[derive(Debug)]
struct ResetConnection;
impl std::fmt::Display for ResetConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection reset by fault plan")
    }
}
impl std::error::Error for ResetConnection {}

type Served = Result<hyper::Response<Full<Bytes>>, ResetConnection>;

/// A sender's connection, shared: hyper reads and writes it, and an answer held by a
/// `delay` fault watches it meanwhile, to see a sender that closes it and gives up.
/// (hyper does not read while an answer is pending, so it would not notice.)
struct Shared {
    io: Arc<tokio::net::TcpStream>,
    routes: Routes,
    /// Nothing read yet: the first bytes tell a TLS ClientHello (a sender speaking https).
    first: bool,
}

impl tokio::io::AsyncRead for Shared {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        loop {
            std::task::ready!(self.io.poll_read_ready(cx))?;
            match self.io.try_read(buf.initialize_unfilled()) {
                Ok(n) => {
                    buf.advance(n);
                    let got = buf.filled();
                    if self.first && n > 0 {
                        self.first = false;
                        // A TLS handshake record: 0x16, then version 3.x.
                        if got.len() >= 2
                            && got[got.len() - n] == 0x16
                            && got.get(got.len() - n + 1) == Some(&3)
                        {
                            self.routes.counters().1.fetch_add(1, Ordering::SeqCst);
                        }
                    }
                    return std::task::Poll::Ready(Ok(()));
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
                Err(e) => return std::task::Poll::Ready(Err(e)),
            }
        }
    }
}

impl tokio::io::AsyncWrite for Shared {
    fn poll_write(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        loop {
            std::task::ready!(self.io.poll_write_ready(cx))?;
            match self.io.try_write(buf) {
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
                other => return std::task::Poll::Ready(other),
            }
        }
    }
    fn poll_flush(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }
    // The socket closes when its last holder drops it.
    fn poll_shutdown(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }
}

/// Resolves when the sender closes (or resets) its connection; never while it stays
/// open, nor when more bytes wait on it (a next request: then nothing can be seen).
async fn closed_by_sender(stream: &tokio::net::TcpStream) {
    let mut one = [0u8; 1];
    match stream.peek(&mut one).await {
        Ok(0) | Err(_) => {}
        Ok(_) => std::future::pending().await,
    }
}

/// A sender that shuts its side right after sending a request (a half close) still
/// reads the answer; one that closes later, while the answer is held, gave up on it.
const HALF_CLOSE_MS: f64 = 50.0;

/// Hands the request to the endpoint its path belongs to; on a hub, a path of no
/// capture is answered 404 and recorded nowhere (no capture owns it).
async fn dispatch(
    req: hyper::Request<Incoming>,
    routes: Routes,
    conn: u64,
    stream: Arc<tokio::net::TcpStream>,
) -> Served {
    match routes.pick(req.uri().path()) {
        Some(state) => handle(req, state, conn, stream).await,
        None => Ok(hyper::Response::builder()
            .status(hyper::StatusCode::NOT_FOUND)
            .body(Full::new(Bytes::from_static(
                b"brhook: no capture of this server has this path (finished or deleted?)\n",
            )))
            .expect("response builds")),
    }
}

async fn handle(
    req: hyper::Request<Incoming>,
    state: Arc<State>,
    conn: u64,
    stream: Arc<tokio::net::TcpStream>,
) -> Served {
    state.in_flight.fetch_add(1, Ordering::SeqCst);
    let guard = InFlight(state.clone());
    state.touch();
    let at_ms = state.ms();
    let close_connections = state.close_connections;
    let seq = state.seq.fetch_add(1, Ordering::SeqCst) + 1;
    let (head, incoming) = req.into_parts();
    let method = head.method.to_string();
    let target = head
        .uri
        .path_and_query()
        .map(|p| p.to_string())
        .unwrap_or_else(|| "/".into());
    let headers = text_headers(&head.headers);
    let spec = state.route(head.uri.path());
    let (body, body_error) = match Limited::new(incoming, state.max_body).collect().await {
        Ok(b) => (b.to_bytes(), None),
        Err(e) if e.downcast_ref::<http_body_util::LengthLimitError>().is_some() => (
            Bytes::new(),
            Some(format!(
                "body over the {} byte limit (answered 413)",
                state.max_body
            )),
        ),
        Err(e) => (Bytes::new(), Some(format!("body could not be read: {e}"))),
    };
    let mut record = Request {
        seq,
        conn,
        at_ms,
        method,
        target,
        url: spec.map(|i| state.urls[i].name.clone()),
        headers,
        body: body.to_vec(),
        body_error,
        response: Response {
            status: None,
            at_ms,
            abandoned_ms: None,
        },
        upstream: None,
        sent: None,
    };
    let answer = match (spec, &record.body_error) {
        (None, _) => Answer::Now(Reply::status(404)),
        (Some(_), Some(e)) if e.contains("limit") => Answer::Now(Reply::status(413)),
        (Some(_), Some(_)) => Answer::Now(Reply::reset()),
        (Some(url), None) => state.answerer.answer(Call {
            url,
            head,
            body,
            since: state.start,
            base_ms: state.base_ms,
        }),
    };
    let out = match answer {
        // Nothing to wait for: recorded and released at once, on this task (no await
        // point is left at which the sender hanging up could cancel the record).
        Answer::Now(reply) => state.release(record, reply),
        // A held answer runs on its own task, so that a sender hanging up meanwhile
        // cannot cancel it (every request that arrived is recorded), and watches its
        // connection: a sender that closes it now gave up.
        Answer::Later(work) => {
            let task = tokio::spawn(async move {
                // Counted from here, not from the arrival: the body's read and this
                // task's start can take longer than HALF_CLOSE_MS on a busy runtime, and
                // a half close already waiting when it is first looked for is no giving up.
                let watched_ms = state.ms();
                tokio::pin!(work);
                let mut abandoned_ms = None;
                let reply = tokio::select! {
                    r = &mut work => r,
                    _ = closed_by_sender(&stream) => {
                        let at = state.ms();
                        // Shut right after sending (a half close) is still listening.
                        if at > watched_ms + HALF_CLOSE_MS {
                            abandoned_ms = Some(at);
                        }
                        work.await
                    }
                };
                drop(stream);
                record.response.abandoned_ms = abandoned_ms;
                let out = state.release(record, reply);
                drop(guard);
                out
            });
            match task.await {
                Ok(out) => out,
                Err(_) => return Err(ResetConnection),
            }
        }
    };
    let answer = match out {
        Out::Status(code, text) => {
            let status =
                hyper::StatusCode::from_u16(code).unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR);
            let body = match (code, text) {
                (_, Some(t)) => t,
                (404, None) => Bytes::from_static(b"brhook: no URL of this endpoint has this path\n"),
                _ => Bytes::new(),
            };
            hyper::Response::builder()
                .status(status)
                .body(Full::new(body))
                .expect("response builds")
        }
        Out::Relay(r) => {
            let mut parts = r.parts;
            // hyper frames the relayed body itself: the receiver's framing and
            // connection headers were about its own connection.
            strip_hop_by_hop(&mut parts.headers);
            parts.version = hyper::Version::HTTP_11;
            hyper::Response::from_parts(parts, Full::new(r.body))
        }
        Out::Reset => return Err(ResetConnection),
    };
    let mut answer = answer;
    if close_connections {
        answer.headers_mut().insert(
            hyper::header::CONNECTION,
            hyper::header::HeaderValue::from_static("close"),
        );
    }
    Ok(answer)
}
