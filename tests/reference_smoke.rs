//! The reference sender against a tiny recording server: the faithful path (headers,
//! fan-out, retries, back-off, one byte array, v1 routing) and a few mutants.

mod common;

use brhook::testkit::gen::{self, Room};
use brhook::testkit::reference::{play, realistic_scenario, Mutant, Sender, SenderConfig, Step};
use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper::body::Incoming;
use hyper::header::HeaderMap;
use hyper::{Method, Request, Response, StatusCode, Version};
use serde_json::Value;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A property of one received request.
type HitTest = fn(&Hit) -> bool;

/// How long `/slow/...` holds its answer.
const SLOW: Duration = Duration::from_millis(300);

#[derive(Clone, Debug)]
struct Hit {
    method: Method,
    path: String,
    version: Version,
    headers: HeaderMap,
    body: Bytes,
    at: Instant,
}

#[derive(Default)]
struct State {
    hits: Vec<Hit>,
    /// `/fail2`: attempts seen per (path, body).
    seen: HashMap<(String, Bytes), usize>,
}

/// Answers by the path's first segment: `/ok` 204, `/fail2` 500 for the first 2 attempts
/// of each body then 204, `/always500` 500, `/slow` 204 after [`SLOW`].
struct Server {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
}

impl Server {
    async fn start() -> Server {
        let state = Arc::new(Mutex::new(State::default()));
        let st = Arc::clone(&state);
        let addr = common::serve(move |req| answer(Arc::clone(&st), req)).await;
        Server { addr, state }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    fn hits(&self, path: &str) -> Vec<Hit> {
        let st = self.state.lock().unwrap();
        st.hits.iter().filter(|h| h.path == path).cloned().collect()
    }

    fn all(&self) -> Vec<Hit> {
        self.state.lock().unwrap().hits.clone()
    }
}

async fn answer(
    state: Arc<Mutex<State>>,
    req: Request<Incoming>,
) -> Result<Response<Empty<Bytes>>, hyper::Error> {
    let at = Instant::now();
    let (parts, body) = req.into_parts();
    let body = body.collect().await?.to_bytes();
    let path = parts.uri.path().to_string();
    let status = {
        let mut st = state.lock().unwrap();
        st.hits.push(Hit {
            method: parts.method,
            path: path.clone(),
            version: parts.version,
            headers: parts.headers,
            body: body.clone(),
            at,
        });
        let first = path.split('/').nth(1).unwrap_or_default();
        match first {
            "fail2" => {
                let n = st.seen.entry((path.clone(), body)).or_default();
                *n += 1;
                if *n <= 2 {
                    500
                } else {
                    204
                }
            }
            "always500" => 500,
            _ => 204,
        }
    };
    if path.starts_with("/slow") {
        tokio::time::sleep(SLOW).await;
    }
    Ok(Response::builder()
        .status(StatusCode::from_u16(status).unwrap())
        .body(Empty::new())
        .unwrap())
}

/// 0 ms, 100 ms, 200 ms.
fn config(v2: Vec<String>, v1: Vec<String>) -> SenderConfig {
    SenderConfig::new(v2, v1).scaled(0.1)
}

fn one_event() -> Value {
    let t = gen::parse_time("2024-02-10T20:00:00.1234567+08:00");
    gen::session_started(
        &Room::doc_example(),
        uuid::Uuid::new_v4(),
        t,
        uuid::Uuid::new_v4(),
        true,
    )
}

fn id_of(body: &[u8]) -> String {
    let v: Value = serde_json::from_slice(body).unwrap();
    v.get("EventId")
        .or(v.get("EventRandomId"))
        .unwrap()
        .as_str()
        .unwrap()
        .to_string()
}

fn gaps(hits: &[Hit]) -> Vec<Duration> {
    hits.windows(2).map(|w| w[1].at - w[0].at).collect()
}

/// Sends one v2 event with this config and waits for the sender to be done.
async fn send_one(cfg: SenderConfig) -> (Value, Sender) {
    let sender = Sender::new(cfg);
    let ev = one_event();
    sender.send(&ev);
    sender.wait().await;
    (ev, sender)
}

#[tokio::test]
async fn faithful_scenario_reaches_every_url_once_with_exact_headers() {
    let srv = Server::start().await;
    let (a, b, v1) = (srv.url("/ok/a"), srv.url("/ok/b"), srv.url("/ok/v1"));
    // `a` twice: the real sender does not dedupe, so it gets every event twice.
    let sender = Sender::new(config(vec![a.clone(), b, a], vec![v1]));
    let steps = realistic_scenario(&Room::doc_example(), true, None);
    play(&sender, &steps, Duration::from_millis(2)).await;

    let v2: Vec<&Value> = steps
        .iter()
        .filter_map(|s| match s {
            Step::V2(v) => Some(v),
            _ => None,
        })
        .collect();
    let v1: Vec<&Value> = steps
        .iter()
        .filter_map(|s| match s {
            Step::V1(v) => Some(v),
            _ => None,
        })
        .collect();
    assert_eq!((v2.len(), v1.len()), (10, 3));

    for hit in srv.all() {
        assert_eq!(hit.method, Method::POST);
        assert_eq!(hit.version, Version::HTTP_11);
        let mut names: Vec<&str> = hit.headers.keys().map(|k| k.as_str()).collect();
        names.sort();
        assert_eq!(
            names,
            ["content-length", "content-type", "host", "user-agent"],
            "{hit:?}"
        );
        assert_eq!(hit.headers["content-type"], "application/json");
        assert_eq!(hit.headers["user-agent"], "BililiveRecorder/2.17.3");
        assert_eq!(hit.headers["content-length"], hit.body.len().to_string().as_str());
        assert_eq!(hit.headers["host"], srv.addr.to_string().as_str());
    }

    let (at_a, at_b, at_v1) = (srv.hits("/ok/a"), srv.hits("/ok/b"), srv.hits("/ok/v1"));
    assert_eq!(at_a.len(), 2 * v2.len());
    assert_eq!(at_b.len(), v2.len());
    assert_eq!(at_v1.len(), v1.len(), "v1 records go to the v1 URL only");
    // Each event: the one byte array, at every URL (twice at the duplicated one).
    for ev in &v2 {
        let bytes = gen::serialize(ev);
        assert_eq!(at_a.iter().filter(|h| h.body[..] == bytes[..]).count(), 2, "{ev}");
        assert_eq!(at_b.iter().filter(|h| h.body[..] == bytes[..]).count(), 1, "{ev}");
        let b = brhook::testkit::body::judge(&bytes);
        assert!(
            b.findings
                .iter()
                .all(|f| f.level == brhook::testkit::catalog::Level::Info),
            "{:?}",
            b.findings
        );
    }
    for rec in &v1 {
        let bytes = gen::serialize(rec);
        assert_eq!(
            at_v1.iter().filter(|h| h.body[..] == bytes[..]).count(),
            1,
            "{rec}"
        );
        assert!(!at_a.iter().chain(&at_b).any(|h| h.body[..] == bytes[..]));
    }
    assert!(sender.attempts().iter().all(|a| a.outcome.is_success()));
}

#[tokio::test]
async fn faithful_retries_with_backoff_and_identical_bytes() {
    let srv = Server::start().await;
    let (fail2, always, ok) = (srv.url("/fail2/x"), srv.url("/always500/y"), srv.url("/ok/z"));
    let (ev, sender) = send_one(config(vec![fail2, always, ok], vec![])).await;
    let bytes = gen::serialize(&ev);

    let (f, a, o) = (srv.hits("/fail2/x"), srv.hits("/always500/y"), srv.hits("/ok/z"));
    assert_eq!(f.len(), 3, "fail2: two 500s, then a 204");
    assert_eq!(a.len(), 3, "always500: gives up after 3 attempts");
    assert_eq!(o.len(), 1, "ok: one attempt, no retry after 2xx");
    for h in f.iter().chain(&a).chain(&o) {
        assert_eq!(h.body[..], bytes[..], "every attempt carries the same bytes");
    }
    // Scaled back-off: 100 ms, then 200 ms (generously: the gap also holds a round trip).
    for hits in [&f, &a] {
        let g = gaps(hits);
        assert!(g[0] >= Duration::from_millis(90), "{g:?}");
        assert!(g[1] >= Duration::from_millis(190), "{g:?}");
        assert!(g[1] < Duration::from_millis(1500), "{g:?}");
    }
    // Fan-out: the ok URL did not wait for the failing ones.
    assert!(o[0].at < f[1].at);
    let outcomes: Vec<_> = sender
        .attempts()
        .iter()
        .filter(|x| x.url_index == 0)
        .map(|x| x.outcome.clone())
        .collect();
    assert_eq!(outcomes.len(), 3);
    assert!(outcomes[2].is_success() && !outcomes[0].is_success());
}

#[tokio::test]
async fn faithful_fan_out_is_concurrent_and_sequential_mutant_is_not() {
    for mutant in [None, Some(Mutant::Sequential)] {
        let srv = Server::start().await;
        let urls = vec![srv.url("/slow/a"), srv.url("/ok/b")];
        send_one(config(urls, vec![]).with_mutant(mutant)).await;
        let (slow, ok) = (srv.hits("/slow/a"), srv.hits("/ok/b"));
        assert_eq!((slow.len(), ok.len()), (1, 1));
        let behind = ok[0].at.saturating_duration_since(slow[0].at);
        if mutant.is_none() {
            assert!(behind < SLOW / 2, "faithful: {behind:?} behind the slow URL");
        } else {
            assert!(behind >= SLOW, "sequential: only {behind:?} behind the slow URL");
        }
    }
}

#[tokio::test]
async fn delivery_mutants_do_what_they_say() {
    // FourthAttempt (D1): 4 attempts at a URL that always fails.
    let four = async {
        let srv = Server::start().await;
        send_one(config(vec![srv.url("/always500/a")], vec![]).with_mutant(Some(Mutant::FourthAttempt)))
            .await;
        assert_eq!(srv.hits("/always500/a").len(), 4);
    };
    // NoRetry (D2): one attempt only.
    let none = async {
        let srv = Server::start().await;
        send_one(config(vec![srv.url("/fail2/a")], vec![]).with_mutant(Some(Mutant::NoRetry))).await;
        assert_eq!(srv.hits("/fail2/a").len(), 1);
    };
    // ChangeBodyOnRetry (D3): three different byte arrays, one EventId.
    let change = async {
        let srv = Server::start().await;
        let cfg = config(vec![srv.url("/always500/a")], vec![]);
        send_one(cfg.with_mutant(Some(Mutant::ChangeBodyOnRetry))).await;
        let h = srv.hits("/always500/a");
        assert_eq!(h.len(), 3);
        assert!(h[0].body != h[1].body && h[1].body != h[2].body && h[0].body != h[2].body);
        assert!(h.iter().all(|x| id_of(&x.body) == id_of(&h[0].body)));
    };
    // RetryAfterSuccess (D4): a second attempt after the 204.
    let after = async {
        let srv = Server::start().await;
        send_one(config(vec![srv.url("/ok/a")], vec![]).with_mutant(Some(Mutant::RetryAfterSuccess))).await;
        assert_eq!(srv.hits("/ok/a").len(), 2);
    };
    // NoBackoff (D6): retries at once.
    let nowait = async {
        let srv = Server::start().await;
        send_one(config(vec![srv.url("/always500/a")], vec![]).with_mutant(Some(Mutant::NoBackoff))).await;
        let h = srv.hits("/always500/a");
        assert_eq!(h.len(), 3);
        assert!(
            gaps(&h).iter().all(|g| *g < Duration::from_millis(90)),
            "{:?}",
            gaps(&h)
        );
    };
    // RetryEverywhere (F4): the ok URL is attempted again because the other one failed.
    let everywhere = async {
        let srv = Server::start().await;
        let urls = vec![srv.url("/ok/a"), srv.url("/always500/b")];
        send_one(config(urls, vec![]).with_mutant(Some(Mutant::RetryEverywhere))).await;
        assert_eq!(srv.hits("/ok/a").len(), 3);
        assert_eq!(srv.hits("/always500/b").len(), 3);
    };
    tokio::join!(four, none, change, after, nowait, everywhere);
}

#[tokio::test]
async fn fan_out_and_wire_mutants_do_what_they_say() {
    // SkipUrl (F1): of two events, the second misses the last URL.
    let srv = Server::start().await;
    let sender = Sender::new(
        config(vec![srv.url("/ok/a"), srv.url("/ok/b")], vec![]).with_mutant(Some(Mutant::SkipUrl)),
    );
    sender.send(&one_event());
    sender.send(&one_event());
    sender.wait().await;
    assert_eq!((srv.hits("/ok/a").len(), srv.hits("/ok/b").len()), (2, 1));

    // BytesDifferPerUrl (F2): same event, same length, other bytes at the second URL.
    let srv = Server::start().await;
    let cfg = config(vec![srv.url("/ok/a"), srv.url("/ok/b")], vec![]);
    send_one(cfg.with_mutant(Some(Mutant::BytesDifferPerUrl))).await;
    let (a, b) = (&srv.hits("/ok/a")[0], &srv.hits("/ok/b")[0]);
    assert_ne!(a.body, b.body);
    assert_eq!(a.body.len(), b.body.len());
    let (va, vb): (Value, Value) = (
        serde_json::from_slice(&a.body).unwrap(),
        serde_json::from_slice(&b.body).unwrap(),
    );
    assert_eq!(va, vb);

    // Wire mutants: method and headers.
    let cases: [(Mutant, HitTest); 4] = [
        (Mutant::WrongMethod, |h| h.method == Method::PUT),
        (Mutant::Charset, |h| {
            h.headers["content-type"] == "application/json; charset=utf-8"
        }),
        (Mutant::NoUserAgent, |h| !h.headers.contains_key("user-agent")),
        (Mutant::ForeignUserAgent, |h| {
            h.headers["user-agent"] == "Mozilla/5.0"
        }),
    ];
    for (mutant, holds) in cases {
        let srv = Server::start().await;
        send_one(config(vec![srv.url("/ok/a")], vec![]).with_mutant(Some(mutant))).await;
        let h = srv.hits("/ok/a");
        assert_eq!(h.len(), 1, "{mutant}");
        assert!(holds(&h[0]), "{mutant}: {:?}", h[0]);
    }
}
