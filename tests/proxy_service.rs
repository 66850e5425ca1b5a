//! `brhook proxy` as a service: `--metrics` (OpenMetrics text read by a real parser,
//! counts equal to what the sender sent), `/healthz`, and `--shadow` (a candidate
//! receiver that differs shows in the report, the journal and `check`; a slow or dead
//! one never slows the real path). The reference sender posts with a scaled back-off.

mod common;
use common::text;

use brhook::testkit::gen::Room;
use brhook::testkit::journal::{is_shadow, parse_shadow, Journal, Shadow, UpstreamError};
use brhook::testkit::judge::Options;
use brhook::testkit::reference::{play, realistic_scenario, Attempt, Outcome, Sender, SenderConfig};
use brhook::testkit::report::Report;
use brhook::{Check, Metrics, Proxy};
use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

const SCALE: f64 = 0.1;
const QUIET: Duration = Duration::from_millis(800);

fn options() -> Options {
    Options {
        min_retry_gap: Duration::from_secs_f64(0.1 * SCALE),
        ..Options::default()
    }
}

/// A receiver answering every request `status` after `hold_ms`.
async fn receiver(status: u16, hold_ms: u64) -> std::net::SocketAddr {
    common::serve(move |req: hyper::Request<hyper::body::Incoming>| async move {
        let _ = req.into_body().collect().await?;
        tokio::time::sleep(Duration::from_millis(hold_ms)).await;
        Ok(hyper::Response::builder()
            .status(status)
            .body(Empty::<Bytes>::new())
            .unwrap())
    })
    .await
}

/// A loopback port nothing listens on.
fn dead_port() -> std::net::SocketAddr {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap()
}

/// The realistic scenario sent to the proxy's v2 URLs `names`: what the sender saw.
async fn send(proxy: &Proxy, names: &[&str]) -> Vec<Attempt> {
    send_with(proxy, names, None).await
}

/// `send`, and then `extra` as a body of its own.
async fn send_with(proxy: &Proxy, names: &[&str], extra: Option<&'static [u8]>) -> Vec<Attempt> {
    let config = SenderConfig::new(names.iter().map(|n| proxy.url(n)).collect(), Vec::new()).scaled(SCALE);
    let sender = Sender::new(config);
    let steps = realistic_scenario(&Room::doc_example(), true, None);
    play(&sender, &steps, Duration::from_millis(40)).await;
    if let Some(bytes) = extra {
        sender.send_bytes(brhook::testkit::journal::Setting::V2, bytes);
    }
    sender.wait().await;
    sender.attempts()
}

/// `GET path` on `addr`: status and body.
async fn get(addr: std::net::SocketAddr, path: &str) -> (u16, String) {
    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (mut s, conn) = hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(conn);
    let req = hyper::Request::get(path)
        .header("host", addr.to_string())
        .body(Empty::<Bytes>::new())
        .unwrap();
    let res = s.send_request(req).await.unwrap();
    let status = res.status().as_u16();
    let body = res.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8(body.to_vec()).unwrap())
}

/// The samples of an OpenMetrics text, `name{labels}` → value, as Python's
/// `prometheus_client` OpenMetrics parser reads them (it refuses anything malformed).
fn parse(text: &str) -> HashMap<String, f64> {
    const SCRIPT: &str = r#"
import json, sys
from prometheus_client.openmetrics.parser import text_string_to_metric_families
out = {}
for fam in text_string_to_metric_families(sys.stdin.read()):
    for s in fam.samples:
        labels = ",".join(f'{k}="{v}"' for k, v in sorted(s.labels.items()))
        out[f"{s.name}{{{labels}}}"] = s.value
print(json.dumps(out))
"#;
    use std::io::Write;
    let mut child = std::process::Command::new("python3")
        .args(["-c", SCRIPT])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("python3 runs (install it, and `pip install prometheus-client`)");
    child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "the OpenMetrics parser refused the text (or is missing: `pip install prometheus-client`): {}\n{text}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn sample(m: &HashMap<String, f64>, key: &str) -> f64 {
    *m.get(key)
        .unwrap_or_else(|| panic!("no sample {key}; have {:?}", m.keys().collect::<Vec<_>>()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_what_the_sender_sent_and_parse_as_openmetrics() {
    let up = receiver(204, 0).await;
    let metrics = Arc::new(Metrics::new());
    let found: Arc<std::sync::Mutex<HashMap<String, f64>>> = Arc::default();
    let seen = found.clone();
    let dir = common::dir("metrics");
    let journal = dir.join("j.jsonl");
    let proxy = Proxy::builder()
        .options(options())
        .v2("a", &format!("http://{up}/hook"))
        .v2("b", &format!("http://{}/hook", dead_port()))
        .journal(&journal)
        .metrics(metrics.clone())
        .on_request(move |_, p| {
            for f in &p.findings {
                *seen
                    .lock()
                    .unwrap()
                    .entry(format!("{}/{}", f.check, f.level))
                    .or_insert(0.0) += 1.0;
            }
        })
        .start()
        .await
        .unwrap();
    let server = metrics.serve("127.0.0.1:0".parse().unwrap()).await.unwrap();
    // Besides the scenario, a torn body, which has findings of its own as it is judged.
    let attempts = send_with(&proxy, &["a", "b"], Some(br#"{"EventType":"#)).await;
    // A stray request: a path that names no URL.
    let (stray, _) = get(proxy.addr(), "/nowhere").await;
    assert_eq!(stray, 404);
    let report = proxy.finish(QUIET).await;
    let (code, body) = get(server.addr(), "/metrics").await;
    assert_eq!(code, 200);
    let m = parse(&body);
    let sent = |url: &str| {
        attempts
            .iter()
            .filter(|a| a.url.ends_with(&format!("/{url}")))
            .count() as f64
    };
    let events = |url: &str| {
        let e: HashSet<usize> = attempts
            .iter()
            .filter(|a| a.url.ends_with(&format!("/{url}")))
            .map(|a| a.event)
            .collect();
        e.len() as f64
    };
    assert!(sent("a") > 0.0 && sent("b") > sent("a"), "b's events are retried");
    assert!(attempts
        .iter()
        .filter(|a| a.url.ends_with("/a"))
        .all(|a| a.outcome == Outcome::Status(204)));
    assert_eq!(
        sample(&m, r#"brhook_requests_total{status="204",url="a"}"#),
        sent("a")
    );
    assert_eq!(
        sample(&m, r#"brhook_requests_total{status="502",url="b"}"#),
        sent("b")
    );
    assert_eq!(
        sample(&m, r#"brhook_requests_total{status="404",url="none"}"#),
        1.0
    );
    assert_eq!(sample(&m, r#"brhook_attempts_total{url="a"}"#), sent("a"));
    assert_eq!(sample(&m, r#"brhook_attempts_total{url="b"}"#), sent("b"));
    assert_eq!(sample(&m, r#"brhook_events_total{url="a"}"#), events("a"));
    assert_eq!(sample(&m, r#"brhook_events_total{url="b"}"#), events("b"));
    assert_eq!(
        sample(&m, r#"brhook_upstream_answer_seconds_count{url="a"}"#),
        sent("a")
    );
    assert_eq!(
        sample(&m, r#"brhook_upstream_errors_total{kind="connect",url="b"}"#),
        sent("b")
    );
    // Findings by check and level, as the judge found them request by request.
    let found = found.lock().unwrap().clone();
    assert!(!found.is_empty(), "the torn body has findings: {}", text(&report));
    let counted: HashMap<String, f64> = m
        .iter()
        .filter_map(|(k, v)| {
            let rest = k.strip_prefix("brhook_findings_total{check=\"")?;
            let (check, rest) = rest.split_once("\",level=\"")?;
            Some((format!("{check}/{}", rest.strip_suffix("\"}")?), *v))
        })
        .collect();
    assert_eq!(counted, found, "{}", text(&report));
    let size = std::fs::metadata(&journal).unwrap().len() as f64;
    assert_eq!(sample(&m, "brhook_journal_file_bytes{}"), size);
    assert_eq!(sample(&m, "brhook_journal_unrecorded_requests_total{}"), 0.0);
    assert!(body.contains("# HELP brhook_requests "), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthz_is_200_while_recording_and_503_once_the_journal_cannot_be_written() {
    let metrics = Arc::new(Metrics::new());
    let server = metrics.serve("127.0.0.1:0".parse().unwrap()).await.unwrap();
    assert_eq!(get(server.addr(), "/healthz").await.0, 200);
    // The seam the proxy's journal writer calls for each request it could not record.
    metrics.journal_failed("cannot write journal j.jsonl: No space left on device");
    metrics.journal_failed("cannot write journal j.jsonl: No space left on device");
    let (code, body) = get(server.addr(), "/healthz").await;
    assert_eq!(code, 503);
    assert!(body.contains("No space left on device"), "{body}");
    let m = parse(&get(server.addr(), "/metrics").await.1);
    assert_eq!(sample(&m, "brhook_journal_unrecorded_requests_total{}"), 2.0);
    metrics.journal_recovered();
    assert_eq!(get(server.addr(), "/healthz").await.0, 200);
    assert_eq!(get(server.addr(), "/other").await.0, 404);
}

/// The shadow lines of a journal file.
fn shadows(path: &std::path::Path) -> Vec<Shadow> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|l| is_shadow(l))
        .map(|l| parse_shadow(l).unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_candidate_that_differs_shows_in_the_report_the_journal_and_check() {
    let real = receiver(204, 0).await;
    let candidate = receiver(500, 0).await;
    let metrics = Arc::new(Metrics::new());
    let dir = common::dir("shadow-differs");
    let journal = dir.join("j.jsonl");
    let proxy = Proxy::builder()
        .options(options())
        .v2("a", &format!("http://{real}/hook"))
        .shadow("a", &format!("http://{candidate}/new"))
        .journal(&journal)
        .metrics(metrics.clone())
        .start()
        .await
        .unwrap();
    let attempts = send(&proxy, &["a"]).await;
    let report = proxy.finish(QUIET).await;
    // The sender saw only the real receiver's answers: one attempt per event.
    assert!(!attempts.is_empty());
    assert!(attempts.iter().all(|a| a.outcome == Outcome::Status(204)));
    let n = attempts.len() as u64;
    // The journal: every request once, and a shadow line for each, answered 500.
    let j = Journal::read(&journal).unwrap();
    assert_eq!(j.requests.len() as u64, n);
    let lines = shadows(&journal);
    assert_eq!(lines.len() as u64, n);
    let seqs: HashSet<u64> = lines.iter().map(|s| s.seq).collect();
    assert_eq!(seqs, j.requests.iter().map(|r| r.seq).collect());
    for s in &lines {
        let leg = s.leg.as_ref().unwrap();
        assert_eq!((s.real_status, leg.status), (Some(204), Some(500)));
        let r = j.requests.iter().find(|r| r.seq == s.seq).unwrap();
        assert_eq!(
            leg.headers,
            r.upstream.as_ref().unwrap().headers,
            "the same headers"
        );
    }
    // The report's comparison.
    let shadow = report.shadow.clone().expect("a shadow section");
    let u = &shadow.urls[0];
    assert_eq!((u.url.as_str(), u.copies, u.dropped, u.same), ("a", n, 0, 0));
    assert_eq!(u.differs.len(), 1);
    assert_eq!(
        (u.differs[0].real, u.differs[0].candidate, u.differs[0].count),
        (Some(204), Some(500), n)
    );
    let r1 = u.checks.iter().find(|c| c.check == Check::R1).unwrap();
    assert_eq!((r1.real_only, r1.candidate_only), (0, n));
    assert_eq!(u.real.unwrap().answers, n);
    assert_eq!(u.candidate_times.unwrap().answers, n);
    let shown = text(&report);
    assert!(
        shown.contains("Shadow receivers") && shown.contains("status 204 here, 500 at the candidate"),
        "{shown}"
    );
    // The candidate's refusals are no finding against the real receiver.
    assert!(report.passed(), "{shown}");
    // `check` of the journal gives the same comparison.
    let (code, json, err) =
        common::brhook_async(["check", journal.to_str().unwrap(), "--format", "json"]).await;
    assert_eq!(code, 0, "{err}");
    let checked: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(checked["shadow"], serde_json::to_value(&shadow).unwrap());
    let live: serde_json::Value = serde_json::to_value(&report).unwrap();
    assert_eq!(live["shadow"], checked["shadow"]);
    // And the metrics counted each copy as different.
    let m = parse(&metrics.encode());
    assert_eq!(
        sample(&m, r#"brhook_shadow_copies_total{outcome="different",url="a"}"#),
        n as f64
    );
}

/// The slowest answer the sender got.
fn slowest(attempts: &[Attempt]) -> Duration {
    attempts.iter().map(|a| a.elapsed).max().unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_or_dead_candidate_never_slows_the_real_path() {
    const HOLD_MS: u64 = 4000;
    let real = receiver(204, 0).await;
    let slow = receiver(204, HOLD_MS).await;
    let dir = common::dir("shadow-slow");
    let journal = dir.join("j.jsonl");
    let proxy = Proxy::builder()
        .options(options())
        .v2("a", &format!("http://{real}/hook"))
        .v2("b", &format!("http://{real}/hook"))
        .shadow("a", &format!("http://{slow}/hook"))
        .shadow("b", &format!("http://{}/hook", dead_port()))
        .shadow_concurrency(2)
        .journal(&journal)
        .start()
        .await
        .unwrap();
    let attempts = send(&proxy, &["a", "b"]).await;
    // Every answer the real receiver's, and prompt: far under the candidate's hold
    // (a generous margin for a busy machine).
    assert!(attempts.iter().all(|a| a.outcome == Outcome::Status(204)));
    assert!(
        slowest(&attempts) < Duration::from_millis(HOLD_MS / 2),
        "a sender waited {:?} behind the candidate",
        slowest(&attempts)
    );
    let report: Report = proxy.finish(QUIET).await;
    let lines = shadows(&journal);
    assert_eq!(
        lines.len(),
        attempts.len(),
        "every copy is journaled, sent or dropped"
    );
    let at = |url: &'static str| lines.iter().filter(move |s| s.url == url);
    // At most two copies wait on the slow candidate at once: the rest were dropped.
    let sent_a = at("a").filter(|s| !s.dropped).count();
    assert!(at("a").any(|s| s.dropped), "copies beyond the limit are dropped");
    assert!((1..=attempts.len()).contains(&sent_a));
    // The dead one: each copy sent failed to connect (or was dropped while others tried).
    assert!(at("b")
        .filter_map(|s| s.leg.as_ref())
        .all(|l| matches!(l.error, Some(UpstreamError::Connect(_)))));
    let u = report.shadow.as_ref().unwrap();
    let a = u.urls.iter().find(|u| u.url == "a").unwrap();
    assert_eq!(a.dropped as usize, at("a").filter(|s| s.dropped).count());
    assert!(report.passed(), "{}", text(&report));
}

#[test]
fn the_cli_keeps_metrics_on_loopback_and_shadows_only_named_urls() {
    let (code, _, err) =
        common::brhook(&["proxy", "--to", "a=http://127.0.0.1:9/", "--metrics", "0.0.0.0:0"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("not a loopback address") && err.contains("--metrics-public"),
        "{err}"
    );
    let (code, _, err) = common::brhook(&[
        "proxy",
        "--to",
        "a=http://127.0.0.1:9/",
        "--shadow",
        "b=http://127.0.0.1:9/",
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("no --to or --v1-to is named \"b\""), "{err}");
    let (code, _, err) =
        common::brhook(&["proxy", "--to", "a=http://127.0.0.1:9/", "--shadow", "a=ftp://x/"]);
    assert_eq!(code, 2);
    assert!(err.contains("http:// or https://"), "{err}");
}

/// A free loopback port (bound and released: nothing else here takes ports meanwhile).
fn free_port() -> std::net::SocketAddr {
    dead_port()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_serves_metrics_and_health_and_reports_the_shadow() {
    let real = receiver(204, 0).await;
    let candidate = receiver(500, 0).await;
    let (bind, metrics) = (free_port(), free_port());
    let args: Vec<String> = [
        "proxy",
        "--to",
        &format!("a=http://{real}/hook"),
        "--shadow",
        &format!("a=http://{candidate}/hook"),
        "--bind",
        &bind.to_string(),
        "--metrics",
        &metrics.to_string(),
        "--max-wait",
        "120",
        "--quiet-window",
        "0.5",
        "--format",
        "json",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    // Up once it says so (with --format json the banner is on stderr). Polling the
    // port instead could connect the test to itself (a loopback self-connect).
    let mut child = std::process::Command::new(common::BIN)
        .args(&args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let banner = tokio::task::spawn_blocking(move || {
        use std::io::BufRead;
        let mut lines = std::io::BufReader::new(stderr).lines();
        let mut seen = String::new();
        for line in lines.by_ref() {
            let line = line.unwrap();
            seen.push_str(&line);
            seen.push('\n');
            if line.contains("metrics on") {
                // Drain the rest, so the child never blocks on a full pipe.
                std::thread::spawn(move || lines.for_each(drop));
                return seen;
            }
        }
        panic!("the proxy never said it serves metrics:\n{seen}");
    });
    let seen = banner.await.unwrap();
    assert!(seen.contains(&format!("http://{metrics}/metrics")), "{seen}");
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    assert_eq!(get(metrics, "/healthz").await.0, 200);
    let body = std::fs::read(format!(
        "{}/tests/fixtures/doc/FileOpening.json",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let stream = tokio::net::TcpStream::connect(bind).await.unwrap();
    let (mut s, conn) = hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(conn);
    let req = hyper::Request::post("/a")
        .header("host", bind.to_string())
        .header("content-type", "application/json")
        .body(http_body_util::Full::new(Bytes::from(body)))
        .unwrap();
    assert_eq!(s.send_request(req).await.unwrap().status(), 204);
    // Counted once the judge has taken it.
    let counted = r#"brhook_requests_total{status="204",url="a"}"#;
    loop {
        let m = parse(&get(metrics, "/metrics").await.1);
        if m.get(counted) == Some(&1.0) {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "never counted: {m:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    drop(s);
    // Stopped as an operator stops it: Ctrl-C.
    let pid = child.id().to_string();
    assert!(std::process::Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .unwrap()
        .success());
    let out = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap();
    let (code, out) = (out.status.code(), String::from_utf8(out.stdout).unwrap());
    // One lone FileOpening breaks stream checks (a fail): the shadow is what is tested.
    assert!(matches!(code, Some(0 | 1)), "{out}");
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    let u = &report["shadow"]["urls"][0];
    assert_eq!(
        (u["copies"].as_u64(), u["same"].as_u64()),
        (Some(1), Some(0)),
        "{u}"
    );
    assert_eq!(u["differs"][0]["candidate"].as_u64(), Some(500), "{u}");
}
