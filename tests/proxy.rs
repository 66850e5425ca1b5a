//! `brhook proxy` end to end: the reference sender (or a mutant) posts through the
//! proxy to a receiver run by the test, over loopback. The back-off is scaled (100 ms,
//! 200 ms) and every wait is on a condition or the proxy's quiet window.

mod common;
use common::{text, timed};

use brhook::testkit::catalog::{Check, Level, Side};
use brhook::testkit::fault::Fault;
use brhook::testkit::gen::Room;
use brhook::testkit::journal::{Journal, UpstreamError};
use brhook::testkit::judge::Options;
use brhook::testkit::proxy::Builder;
use brhook::testkit::reference::{play, realistic_scenario, Mutant, Outcome, Sender, SenderConfig};
use brhook::testkit::report::{Report, Status};
use brhook::Proxy;
use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Full};
use hyper::client::conn::http1::SendRequest;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const SCALE: f64 = 0.1;
const QUIET: Duration = Duration::from_millis(800);

/// What the test's receiver saw of one request.
#[derive(Clone, Debug)]
struct Got {
    path: String,
    method: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

type Log = Arc<Mutex<Vec<Got>>>;

/// A receiver on a free loopback port: logs every request and answers `answer(body)`
/// with an `x-receiver` header, so the test can see its answers reach the sender.
async fn receiver(answer: fn(&[u8]) -> (u16, u64)) -> (std::net::SocketAddr, Log) {
    let log: Log = Arc::default();
    let kept = log.clone();
    let addr = common::serve(move |req: hyper::Request<hyper::body::Incoming>| {
        let log = kept.clone();
        async move {
            let path = req.uri().path().to_string();
            let method = req.method().to_string();
            let headers = req
                .headers()
                .iter()
                .map(|(n, v)| (n.to_string(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
                .collect();
            let body = req.into_body().collect().await?.to_bytes().to_vec();
            let (status, hold_ms) = answer(&body);
            log.lock().unwrap().push(Got {
                path,
                method,
                headers,
                body,
            });
            tokio::time::sleep(Duration::from_millis(hold_ms)).await;
            Ok(hyper::Response::builder()
                .status(status)
                .header("x-receiver", "test")
                .body(Empty::<Bytes>::new())
                .unwrap())
        }
    })
    .await;
    (addr, log)
}

fn options() -> Options {
    Options {
        min_retry_gap: Duration::from_secs_f64(0.1 * SCALE),
        ..Options::default()
    }
}

/// A proxy with the test's options and one v2 URL, `a`, forwarding to `upstream`.
fn to_a(upstream: &str) -> Builder {
    Proxy::builder().options(options()).v2("a", upstream)
}

/// `to_a` the receiver at `addr`, path `/hook`.
fn to_hook(addr: std::net::SocketAddr) -> Builder {
    to_a(&format!("http://{addr}/hook"))
}

async fn start(b: Builder) -> Proxy {
    b.start().await.unwrap()
}

/// A client connection, raw enough to send what the sender would not.
async fn connect(addr: impl tokio::net::ToSocketAddrs) -> SendRequest<Full<Bytes>> {
    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (s, conn) = hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(conn);
    s
}

/// Serves one connection, answering every request 200 with an empty body.
async fn answer_empty(io: impl tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static) {
    let svc = hyper::service::service_fn(|req: hyper::Request<hyper::body::Incoming>| async move {
        let _ = req.into_body().collect().await?;
        Ok::<_, hyper::Error>(hyper::Response::new(Empty::<Bytes>::new()))
    });
    let _ = hyper::server::conn::http1::Builder::new()
        .serve_connection(hyper_util::rt::TokioIo::new(io), svc)
        .await;
}

fn assert_status(report: &Report, check: Check, want: Status) {
    assert_eq!(report.status(check), Some(want), "{check}\n{}", text(report));
}

/// Every attempt the sender made was answered `status`.
fn all_answered(attempts: &[brhook::testkit::reference::Attempt], status: u16) -> bool {
    !attempts.is_empty() && attempts.iter().all(|a| a.outcome == Outcome::Status(status))
}

/// The realistic scenario through a started proxy: its report, journal and what the
/// sender saw.
async fn run(
    proxy: Proxy,
    v2: &[&str],
    v1: &[&str],
    mutant: Option<Mutant>,
) -> (Report, Journal, Vec<brhook::testkit::reference::Attempt>) {
    let config = SenderConfig::new(
        v2.iter().map(|n| proxy.url(n)).collect(),
        v1.iter().map(|n| proxy.url(n)).collect(),
    )
    .scaled(SCALE)
    .with_mutant(mutant);
    let sender = Sender::new(config);
    let steps = realistic_scenario(&Room::doc_example(), true, mutant);
    play(&sender, &steps, Duration::from_millis(40)).await;
    sender.wait().await;
    let attempts = sender.attempts();
    let (report, journal) = proxy.finish_with_journal(QUIET).await;
    (report, journal, attempts)
}

/// `run` through a proxy whose receiver never answers: brhook answers every attempt
/// 502 itself. The report, and why the first request could not be forwarded.
async fn run_unforwarded(proxy: Proxy) -> (Report, UpstreamError) {
    let (report, journal, attempts) = run(proxy, &["a"], &[], None).await;
    assert!(all_answered(&attempts, 502));
    let leg = journal.requests[0].upstream.clone().unwrap();
    (report, leg.error.expect("no answer from the receiver"))
}

fn ok(_: &[u8]) -> (u16, u64) {
    (202, 0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_byte_arrives_the_answers_come_back_and_the_sender_verdict_is_listens() {
    let (addr, log) = receiver(ok).await;
    let up = |p: &str| format!("http://{addr}/{p}?k=1");
    let proxy = Proxy::builder()
        .options(options())
        .v2("a", &up("a"))
        .v2("b", &up("b"))
        .v1("v1", &up("v1"))
        .start()
        .await
        .unwrap();
    let (report, journal, attempts) = run(proxy, &["a", "b"], &["v1"], None).await;
    let got = log.lock().unwrap().clone();
    // Every request was forwarded once, bytes and headers as they came.
    assert_eq!(got.len(), journal.requests.len(), "{}", text(&report));
    for r in &journal.requests {
        let leg = r.upstream.as_ref().expect("every request was forwarded");
        assert_eq!(leg.status, Some(202));
        let name = r.url.as_deref().unwrap();
        let at = got
            .iter()
            .find(|g| g.body == r.body && g.path == format!("/{name}"))
            .unwrap_or_else(|| panic!("request #{} never reached the receiver intact", r.seq));
        assert_eq!(at.method, r.method);
        for h in ["content-type", "user-agent", "content-length"] {
            let theirs = at.headers.iter().find(|(n, _)| n == h).map(|(_, v)| v.as_str());
            assert_eq!(theirs, r.header(h), "{h} forwarded unchanged");
        }
        assert!(at
            .headers
            .iter()
            .any(|(n, v)| n == "host" && *v == addr.to_string()));
        assert_eq!(
            leg.answer_headers
                .iter()
                .find(|(n, _)| n == "x-receiver")
                .map(|(_, v)| v.as_str()),
            Some("test")
        );
    }
    // The receiver's answers reached the sender.
    assert!(all_answered(&attempts, 202));
    // Both sides are judged; the healthy receiver passes what real traffic shows.
    report.assert_pass();
    // The HTML timeline shows when the receiver answered, inside each attempt.
    let html = brhook::testkit::report::html::render(&report);
    assert!(
        html.contains("; the receiver answered 202 at "),
        "no receiver time in the timeline"
    );
    assert!(report.both_sides);
    for c in [Check::R1, Check::R2, Check::R9] {
        assert_eq!(report.status(c), Some(Status::Passed), "{c}\n{}", text(&report));
    }
    // The sender's verdict equals the one `listen` gives for the same set-up.
    let mut demo = brhook::testkit::demo::Demo::fast(None);
    demo.v2 = ["a", "b"].iter().map(|n| common::journal::url(n, "ok")).collect();
    let (listened, _) = demo.judge().await.unwrap();
    for c in brhook::testkit::catalog::CHECKS
        .iter()
        .filter(|c| c.id.side() == Side::Sender)
    {
        assert_eq!(
            report.status(c.id),
            listened.status(c.id),
            "{} differs from listen's\nproxy:\n{}\nlisten:\n{}",
            c.id,
            text(&report),
            text(&listened)
        );
    }
}

fn refuse_file_closed(body: &[u8]) -> (u16, u64) {
    let closed = String::from_utf8_lossy(body).contains("\"EventType\":\"FileClosed\"");
    (if closed { 500 } else { 204 }, 0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receiver_refusing_one_type_is_r1_and_the_sender_retries_through_the_proxy() {
    let (addr, log) = receiver(refuse_file_closed).await;
    let proxy = start(to_hook(addr)).await;
    let (report, journal, _) = run(proxy, &["a"], &[], None).await;
    let closed: Vec<_> = log
        .lock()
        .unwrap()
        .iter()
        .filter(|g| refuse_file_closed(&g.body).0 == 500)
        .map(|g| g.body.clone())
        .collect();
    assert!(!closed.is_empty());
    for b in &closed {
        let n = closed.iter().filter(|c| *c == b).count();
        assert_eq!(n, 3, "each refused FileClosed is retried to 3 attempts");
    }
    let r1: Vec<_> = report.findings_of(Check::R1).collect();
    assert_eq!(r1.len(), 1, "one cause, one group\n{}", text(&report));
    assert_eq!(r1[0].level, Level::Fail);
    assert_eq!(
        r1[0].count as usize,
        closed.len() / 3,
        "one occurrence per refused event"
    );
    assert_eq!(r1[0].urls, ["a"]);
    assert_eq!(r1[0].message, "the receiver refused a valid FileClosed");
    assert!(r1[0].found.as_deref().unwrap().contains("500"), "{r1:?}");
    assert_status(&report, Check::D2, Status::Passed);
    assert_eq!(report.status(Check::D1), Some(Status::Passed));
    // The sender did nothing wrong: every fail is the receiver's.
    assert!(report
        .tripped(Level::Fail)
        .iter()
        .all(|c| c.side() == Side::Receiver));
    let t = text(&report);
    assert!(
        t.contains("Receivers (behind the proxy: R):") && t.contains("Findings about the receivers:"),
        "{t}"
    );
    // `brhook check` on the journal gives the same report.
    let again = brhook::testkit::judge::judge(&journal, &options());
    assert_eq!(again.to_json(), report.to_json());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_receiver_gets_the_sender_a_502_and_is_the_receivers_finding() {
    // A port that was free a moment ago: nothing listens there.
    let dead = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let proxy = start(to_a(&format!("http://{dead}/hook"))).await;
    let (report, error) = run_unforwarded(proxy).await;
    assert!(matches!(error, UpstreamError::Connect(_)), "{error:?}");
    let r1 = report.findings_of(Check::R1).next().expect("an R1 finding");
    assert_eq!(r1.check.side(), Side::Receiver);
    assert!(
        r1.found.as_deref().unwrap().contains("could not connect"),
        "{r1:?}"
    );
    // The sender retried each 502 as it should.
    assert_status(&report, Check::D2, Status::Passed);
    let json: serde_json::Value = serde_json::from_str(&report.to_json()).unwrap();
    let sides: Vec<_> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["check"] == "R1")
        .map(|f| f["side"].clone())
        .collect();
    assert_eq!(sides, [serde_json::json!("receiver")]);
}

fn hold_first(body: &[u8]) -> (u16, u64) {
    // SessionStarted is held long; everything else is prompt.
    let started = String::from_utf8_lossy(body).contains("\"EventType\":\"SessionStarted\"");
    (204, if started { 600 } else { 0 })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_answer_is_r2_and_a_receiver_answering_others_meanwhile_passes_r10() {
    let (addr, _) = receiver(hold_first).await;
    let proxy = start(to_hook(addr).slow_after(Duration::from_millis(300))).await;
    let (report, _, _) = run(proxy, &["a"], &[], None).await;
    // Besides the latency line (info).
    let r2: Vec<_> = report
        .findings_of(Check::R2)
        .filter(|f| f.level >= Level::Warn)
        .collect();
    assert_eq!(r2.len(), 1, "{}", text(&report));
    assert_eq!((r2[0].level, r2[0].count), (Level::Warn, 1));
    // Events came while SessionStarted was held, and were answered at once.
    assert_status(&report, Check::R10, Status::Passed);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receiver_answering_in_line_trips_r10() {
    // One answer at a time, and a FileClosed takes 600 ms (an upload before the
    // answer): the events behind it wait, though they are answered at once otherwise.
    static LINE: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    let addr = common::serve(|req: hyper::Request<hyper::body::Incoming>| async move {
        let body = req.into_body().collect().await?.to_bytes();
        let closed = String::from_utf8_lossy(&body).contains("\"EventType\":\"FileClosed\"");
        let _turn = LINE.lock().await;
        if closed {
            tokio::time::sleep(Duration::from_millis(600)).await;
        }
        Ok(hyper::Response::builder()
            .status(204)
            .body(Empty::<Bytes>::new())
            .unwrap())
    })
    .await;
    let proxy = start(
        to_hook(addr)
            .slow_after(Duration::from_millis(300))
            .v2("b", &format!("http://{addr}/hook")),
    )
    .await;
    let (report, _, _) = run(proxy, &["a", "b"], &[], None).await;
    let r10: Vec<_> = report.findings_of(Check::R10).collect();
    assert!(!r10.is_empty(), "{}", text(&report));
    assert_eq!(r10[0].level, Level::Warn);
    assert!(r10[0].found.as_deref().unwrap().contains("was held"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receiver_slow_at_everything_is_r2_not_r10() {
    // Threaded, every answer 500 ms: requests overlap and are answered late, but none
    // waited for another (a false R10 from timing alone, before the baseline rule).
    let addr = common::serve(|req: hyper::Request<hyper::body::Incoming>| async move {
        let _ = req.into_body().collect().await?;
        tokio::time::sleep(Duration::from_millis(500)).await;
        Ok(hyper::Response::builder()
            .status(204)
            .body(Empty::<Bytes>::new())
            .unwrap())
    })
    .await;
    let proxy = start(to_hook(addr).slow_after(Duration::from_millis(300))).await;
    let (report, _, _) = run(proxy, &["a"], &[], None).await;
    assert_eq!(report.findings_of(Check::R10).count(), 0, "{}", text(&report));
    assert_ne!(report.status(Check::R10), Some(Status::Warned));
    let r2 = report.findings_of(Check::R2).find(|f| f.level == Level::Warn);
    assert!(r2.is_some(), "{}", text(&report));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_receiver_gets_a_504_after_the_upstream_timeout_and_fails_r2() {
    fn silent(_: &[u8]) -> (u16, u64) {
        (204, 3_000)
    }
    let (addr, _) = receiver(silent).await;
    let proxy = start(to_hook(addr).upstream_timeout(Duration::from_millis(300))).await;
    let (report, journal, attempts) = run(proxy, &["a"], &[], None).await;
    assert!(all_answered(&attempts, 504));
    assert_eq!(
        journal.requests[0].upstream.as_ref().unwrap().error,
        Some(UpstreamError::Timeout)
    );
    let r2 = report.findings_of(Check::R2).next().expect("R2");
    assert_eq!(r2.level, Level::Fail, "{}", text(&report));
    assert!(r2.found.as_deref().unwrap().contains("504"), "{r2:?}");
    // A timeout is R2's finding, not also R1's.
    assert_eq!(report.findings_of(Check::R1).count(), 0, "{}", text(&report));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fault_in_front_answers_the_failed_attempts_itself_and_forwards_the_third() {
    let (addr, log) = receiver(ok).await;
    let proxy = start(to_hook(addr).fault("a", Fault::fail(2))).await;
    let (report, journal, _) = run(proxy, &["a"], &[], None).await;
    report.assert_pass();
    let got = log.lock().unwrap().clone();
    let attempts = journal.requests.len();
    assert_eq!(attempts, 3 * got.len(), "three attempts per event, one delivered");
    let mut bodies: Vec<_> = got.iter().map(|g| g.body.clone()).collect();
    bodies.sort();
    bodies.dedup();
    assert_eq!(bodies.len(), got.len(), "each event reached the receiver once");
    let forwarded = journal.requests.iter().filter(|r| r.upstream.is_some()).count();
    assert_eq!(forwarded, got.len());
    assert_eq!(report.status(Check::D2), Some(Status::Passed));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_paths_and_huge_bodies_are_answered_by_brhook_and_never_forwarded() {
    let (addr, log) = receiver(ok).await;
    let proxy = start(to_hook(addr).max_body(64)).await;
    let base = proxy.url("a");
    let post = |url: String, body: Vec<u8>| async move {
        let mut s = connect(proxy_addr(&url)).await;
        let path = url.splitn(4, '/').nth(3).map(|p| format!("/{p}")).unwrap();
        let req = hyper::Request::post(path)
            .header("host", "x")
            .body(http_body_util::Full::new(Bytes::from(body)))
            .unwrap();
        s.send_request(req).await.unwrap().status().as_u16()
    };
    assert_eq!(post(base.replace("/a", "/elsewhere"), b"{}".to_vec()).await, 404);
    assert_eq!(post(base.clone(), vec![b'x'; 1000]).await, 413);
    let (report, journal) = proxy.finish_with_journal(Duration::from_millis(100)).await;
    assert!(log.lock().unwrap().is_empty(), "nothing was forwarded");
    assert!(journal.requests.iter().all(|r| r.upstream.is_none()));
    assert!(report.subject.contains("1 stray"), "{}", report.subject);
}

fn proxy_addr(url: &str) -> String {
    url.trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap()
        .to_string()
}

/// An https receiver with the checked-in self-signed certificate (tests/fixtures/tls,
/// valid for 127.0.0.1 until 2126).
async fn tls_receiver() -> std::net::SocketAddr {
    use tokio_rustls::rustls;
    use tokio_rustls::rustls::pki_types::pem::PemObject;
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tls");
    let certs = rustls::pki_types::CertificateDer::pem_file_iter(dir.join("cert.pem"))
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let key = rustls::pki_types::PrivateKeyDer::from_pem_file(dir.join("key.pem")).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                if let Ok(tls) = acceptor.accept(tcp).await {
                    answer_empty(tls).await;
                }
            });
        }
    });
    addr
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_https_receiver_with_a_self_signed_certificate_needs_upstream_ca() {
    let addr = tls_receiver().await;
    let url = format!("https://127.0.0.1:{}/hook", addr.port());
    // By default the certificate is refused, and the finding says what to do.
    let proxy = start(to_a(&url)).await;
    let (report, error) = run_unforwarded(proxy).await;
    assert!(matches!(error, UpstreamError::Tls(_)), "{error:?}");
    let r1 = report.findings_of(Check::R1).next().expect("R1");
    let found = r1.found.as_deref().unwrap();
    assert!(
        found.contains("TLS") && found.contains("--upstream-ca"),
        "{found}"
    );
    // With the certificate trusted, everything goes through.
    let ca = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tls/cert.pem");
    let proxy = start(to_a(&url).upstream_ca(&ca)).await;
    let (report, _, attempts) = run(proxy, &["a"], &[], None).await;
    assert!(all_answered(&attempts, 200));
    report.assert_pass();
}

#[tokio::test]
async fn a_bad_upstream_url_or_ca_file_is_an_error_at_start() {
    let e = Proxy::builder().v2("a", "ftp://x/").start().await.err().unwrap();
    assert!(e.to_string().contains("http://"), "{e}");
    let e = Proxy::builder()
        .v2("a", "http://127.0.0.1:9/")
        .upstream_ca("/nonexistent/ca.pem")
        .start()
        .await
        .err()
        .unwrap();
    assert!(e.to_string().contains("--upstream-ca"), "{e}");
}

/// The mutant's run through a proxy to the receiver at `addr`: its report.
async fn mutant_run(m: Mutant, addr: std::net::SocketAddr) -> (Mutant, Report) {
    // The set-up `demo` gives the mutant, with the receiver behind each URL.
    let demo = brhook::testkit::demo::Demo::fast(Some(m));
    let options = if timed(m) {
        Options {
            min_retry_gap: Duration::from_millis(100),
            ..options()
        }
    } else {
        options()
    };
    let mut b = Proxy::builder().options(options);
    for u in &demo.v2 {
        b = b
            .v2(&u.name, &format!("http://{addr}/{}", u.name))
            .fault(&u.name, u.fault.clone());
    }
    for u in &demo.v1 {
        b = b
            .v1(&u.name, &format!("http://{addr}/{}", u.name))
            .fault(&u.name, u.fault.clone());
    }
    let v2: Vec<String> = demo.v2.iter().map(|u| u.name.clone()).collect();
    let v1: Vec<String> = demo.v1.iter().map(|u| u.name.clone()).collect();
    let v2: Vec<&str> = v2.iter().map(String::as_str).collect();
    let v1: Vec<&str> = v1.iter().map(String::as_str).collect();
    let (report, _, _) = run(b.start().await.unwrap(), &v2, &v1, Some(m)).await;
    (m, report)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_mutant_is_still_caught_through_the_proxy() {
    let (addr, _) = receiver(ok).await;
    // Four at a time: all 22 at once kept requests in line for up to 3 s on a loaded
    // machine, and a concurrent sender's request arriving after `slow` answered (300 ms)
    // was a false F3.
    let slots = Arc::new(tokio::sync::Semaphore::new(4));
    let runs: Vec<_> = Mutant::ALL
        .into_iter()
        .filter(|m| !timed(*m))
        .map(|m| {
            let slots = slots.clone();
            tokio::spawn(async move {
                let _slot = slots.acquire_owned().await.expect("semaphore open");
                mutant_run(m, addr).await
            })
        })
        .collect();
    let mut reports = Vec::new();
    for h in runs {
        reports.push(h.await.unwrap());
    }
    for m in Mutant::ALL.into_iter().filter(|m| timed(*m)) {
        reports.push(mutant_run(m, addr).await);
    }
    let mut problems = Vec::new();
    for (m, report) in reports {
        let tripped = report.findings_of(m.check()).any(|f| f.level == m.level());
        let others: Vec<_> = report
            .tripped(Level::Fail)
            .into_iter()
            .filter(|c| *c != m.check())
            .collect();
        if !tripped || !others.is_empty() {
            problems.push(format!(
                "mutant {} should trip {} and no other fail; tripped: {tripped}, others: {others:?}\n{}",
                m.name(),
                m.check(),
                text(&report)
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}

#[test]
fn the_cli_needs_a_receiver_names_unknown_faults_and_warns_on_all_interfaces() {
    let (code, _, err) = common::brhook(&["proxy"]);
    assert_eq!(code, 2);
    assert!(err.contains("--to NAME=URL"), "{err}");
    let (code, _, err) = common::brhook(&["proxy", "--to", "a=http://127.0.0.1:9/", "--fault", "b=fail:2"]);
    assert_eq!(code, 2);
    assert!(err.contains("no --to or --v1-to is named \"b\""), "{err}");
    let (code, _, err) = common::brhook(&["proxy", "--to", "a=ftp://x/"]);
    assert_eq!(code, 2);
    assert!(err.contains("http:// or https://"), "{err}");
    // Nothing arrives: the capture closes at --max-wait and fails on nothing.
    let (code, out, err) = common::brhook(&[
        "proxy",
        "--to",
        "a=http://127.0.0.1:9/",
        "--bind",
        "0.0.0.0:0",
        "--max-wait",
        "0.5",
        "--quiet-window",
        "0.2",
    ]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(err.contains("warning: listening on all interfaces"), "{err}");
    assert!(out.contains("(a → http://127.0.0.1:9/)"), "{out}");
    assert!(out.contains("no request reached a configured URL"), "{out}");
}

#[test]
fn proxy_help_teaches_the_one_url_change_and_the_fault_semantics() {
    let (code, out, _) = common::brhook(&["proxy", "--help"]);
    assert_eq!(code, 0);
    for want in [
        "in place of",
        "--upstream-ca",
        "NOT forwarded",
        "502 or 504",
        "--upstream-timeout",
    ] {
        assert!(out.contains(want), "{want} missing from\n{out}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_one_after_another_reuse_one_connection_to_the_receiver() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let accepted = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let count = accepted.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            tokio::spawn(answer_empty(stream));
        }
    });
    let proxy = start(to_hook(addr)).await;
    let mut s = connect(proxy.addr()).await;
    let body = std::fs::read(format!(
        "{}/tests/fixtures/doc/FileOpening.json",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    for _ in 0..5 {
        s.ready().await.unwrap();
        let req = hyper::Request::post("/a")
            .header("host", "x")
            .header("content-type", "application/json")
            .body(http_body_util::Full::new(Bytes::from(body.clone())))
            .unwrap();
        let answer = s.send_request(req).await.unwrap();
        assert_eq!(answer.status(), 200);
        let _ = answer.into_body().collect().await.unwrap();
    }
    let (_, journal) = proxy.finish_with_journal(Duration::from_millis(100)).await;
    assert_eq!(journal.requests.len(), 5);
    assert_eq!(
        accepted.load(std::sync::atomic::Ordering::SeqCst),
        1,
        "one kept-alive connection"
    );
}

/// Reads one HTTP/1.1 message (head and a Content-Length body) off a raw socket.
async fn read_message(s: &mut tokio::net::TcpStream) -> Vec<u8> {
    use tokio::io::AsyncReadExt;
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = s.read(&mut buf).await.unwrap();
        assert!(n > 0, "closed early: {:?}", String::from_utf8_lossy(&got));
        got.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&got).to_string();
        if let Some(end) = text.find("\r\n\r\n") {
            let len = text[..end]
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().parse::<usize>().unwrap())
                })
                .unwrap_or(0);
            if got.len() >= end + 4 + len {
                return got;
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn headers_keep_their_case_and_order_and_only_hop_by_hop_ones_are_dropped() {
    use tokio::io::AsyncWriteExt;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel();
    tokio::spawn(async move {
        let (mut s, _) = listener.accept().await.unwrap();
        let got = read_message(&mut s).await;
        s.write_all(b"HTTP/1.1 201 Created\r\nX-Answer: Yes\r\nContent-Length: 2\r\n\r\nok")
            .await
            .unwrap();
        let _ = tx.send(got);
    });
    let proxy = start(to_hook(addr)).await;
    let body = br#"{"EventType":"SessionStarted","raw":"\xe7\x9b\xb4"}"#;
    let mut head = format!(
        "POST /a HTTP/1.1\r\nHost: brhook\r\nContent-Type: application/json\r\nUser-Agent: BililiveRecorder/2.17.3\r\nX-Custom: One\r\nConnection: keep-alive, X-Hop\r\nX-Hop: 1\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    head.extend_from_slice(body);
    let mut s = tokio::net::TcpStream::connect(proxy.addr()).await.unwrap();
    s.write_all(&head).await.unwrap();
    let answer = String::from_utf8_lossy(&read_message(&mut s).await).to_string();
    let forwarded = rx.await.unwrap();
    let text = String::from_utf8_lossy(&forwarded).to_string();
    let (fhead, fbody) = text.split_once("\r\n\r\n").unwrap();
    assert_eq!(fbody.as_bytes(), body, "the body arrives byte for byte");
    assert!(fhead.starts_with("POST /hook HTTP/1.1\r\n"), "{fhead}");
    let lines: Vec<&str> = fhead.lines().skip(1).collect();
    assert_eq!(
        lines,
        [
            format!("Host: {addr}").as_str(),
            "Content-Type: application/json",
            "User-Agent: BililiveRecorder/2.17.3",
            "X-Custom: One",
            &format!("Content-Length: {}", body.len()),
        ],
        "{fhead}"
    );
    assert!(answer.starts_with("HTTP/1.1 201 Created\r\n"), "{answer}");
    assert!(
        answer.contains("\r\nX-Answer: Yes\r\n") && answer.ends_with("\r\n\r\nok"),
        "{answer}"
    );
    let _ = proxy.finish(Duration::from_millis(100)).await;
}
