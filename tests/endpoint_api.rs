//! The library endpoint's contract details that the matrix does not show.

use brhook::testkit::endpoint::Endpoint;
use std::io::{Read, Write};
use std::time::Duration;

fn post(addr: std::net::SocketAddr, path: &str) -> String {
    let body = r#"{"EventType":"X","EventTimestamp":"2021-05-14T17:52:44+08:00","EventId":"e3e1c9ec-f386-4bc3-9e5a-661bf3ed2fb2","EventData":{}}"#;
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        s,
        "POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nUser-Agent: BililiveRecorder/2.17.3\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut buf = [0u8; 1024];
    let n = s.read(&mut buf).unwrap_or(0);
    String::from_utf8_lossy(&buf[..n]).to_lowercase()
}

/// .NET's HttpClient re-sends a request whose reused connection closed without an
/// answer; with a reset fault configured, no connection is kept alive, so every reset
/// reaches the sender as its own failed attempt.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reset_fault_turns_keep_alive_off() {
    let ep = Endpoint::start(&[("a", "ok"), ("r", "reset:1")]).await.unwrap();
    let addr = ep.addr();
    let answer = tokio::task::spawn_blocking(move || post(addr, "/a"))
        .await
        .unwrap();
    assert!(answer.starts_with("http/1.1 204"), "{answer}");
    assert!(answer.contains("connection: close"), "{answer}");

    let plain = Endpoint::start(&[("a", "ok")]).await.unwrap();
    let addr = plain.addr();
    let answer = tokio::task::spawn_blocking(move || post(addr, "/a"))
        .await
        .unwrap();
    assert!(
        !answer.contains("connection: close"),
        "keep-alive stays on without resets: {answer}"
    );
    // Judged (or closed) before they go: dropping a capture unjudged panics.
    let _ = ep.close(Duration::from_millis(10)).await;
    let _ = plain.close(Duration::from_millis(10)).await;
}

/// Like wiremock's verify on drop: an endpoint that took requests and is dropped
/// without `finish`, `verify` or `close` panics, saying nothing was judged.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[should_panic(expected = "dropped without `finish`")]
async fn dropping_an_unjudged_capture_panics() {
    let ep = Endpoint::start(&[("a", "ok")]).await.unwrap();
    let addr = ep.addr();
    tokio::task::spawn_blocking(move || post(addr, "/a"))
        .await
        .unwrap();
    drop(ep);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn zero_requests_is_a_failure_that_says_so() {
    let ep = Endpoint::start(&[("a", "ok")]).await.unwrap();
    let report = ep.finish(Duration::from_millis(50)).await;
    assert!(!report.passed());
    assert!(
        report.note.as_deref().unwrap_or("").contains("no request"),
        "{:?}",
        report.note
    );
    assert!(report
        .checks
        .iter()
        .all(|c| c.status != brhook::testkit::report::Status::Passed));
}

/// HTTP/1.1 keep-alive: a client that sends its retry on the same connection (as a
/// pooled HttpClient does) is counted per event, and both requests share a connection id.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retries_on_one_keep_alive_connection_are_counted_per_event() {
    let ep = Endpoint::start(&[("b", "fail:1")]).await.unwrap();
    let addr = ep.addr();
    let answers = tokio::task::spawn_blocking(move || {
        let body = r#"{"EventType":"X","EventTimestamp":"2021-05-14T17:52:44+08:00","EventId":"e3e1c9ec-f386-4bc3-9e5a-661bf3ed2fb2","EventData":{}}"#;
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut answers = Vec::new();
        for _ in 0..2 {
            write!(
                s,
                "POST /b HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nUser-Agent: BililiveRecorder/2.17.3\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            )
            .unwrap();
            let mut buf = [0u8; 512];
            let n = s.read(&mut buf).unwrap();
            answers.push(String::from_utf8_lossy(&buf[..n]).lines().next().unwrap_or("").to_string());
        }
        answers
    })
    .await
    .unwrap();
    assert_eq!(
        answers,
        ["HTTP/1.1 500 Internal Server Error", "HTTP/1.1 204 No Content"]
    );
    let journal = ep.close(Duration::from_millis(50)).await;
    assert_eq!(journal.requests.len(), 2);
    assert_eq!(
        journal.requests[0].conn, journal.requests[1].conn,
        "one connection, kept alive"
    );
}

/// A sender that posts to one URL of its setting only: the URLs it skipped fail F1 (no
/// false PASS), and the checks their faults were meant for name them as the reason.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sender_that_skips_urls_fails_f1_and_the_skips_name_them() {
    use brhook::testkit::catalog::{Check, Level};
    use brhook::testkit::report::Status;
    let ep = Endpoint::start(&[("a", "ok"), ("b", "fail:2"), ("c", "delay:300")])
        .await
        .unwrap();
    let addr = ep.addr();
    tokio::task::spawn_blocking(move || post(addr, "/a"))
        .await
        .unwrap();
    let report = ep.finish(Duration::from_millis(100)).await;
    assert!(!report.passed(), "{}", report.to_json());
    assert_eq!(report.status(Check::F1), Some(Status::Failed));
    let f1 = report
        .groups
        .iter()
        .find(|g| g.check == Check::F1 && g.level == Level::Fail)
        .expect("an F1 fail");
    // One cause (the sender left URLs out), seen at both: one occurrence naming both.
    assert_eq!(f1.examples[0].urls, ["b", "c"]);
    let reason = |c: Check| {
        let r = report.checks.iter().find(|r| r.id == c).unwrap();
        (
            r.status,
            r.reason.as_ref().map(ToString::to_string).unwrap_or_default(),
        )
    };
    let (status, why) = reason(Check::D2);
    assert_eq!(status, Status::Skipped);
    assert!(why.contains("b=fail:2 received no request"), "{why}");
    let (_, why) = reason(Check::F3);
    assert!(why.contains("c=delay:300 received no request"), "{why}");

    // The same capture with only `a` configured: nothing was skipped, F1 has no finding.
    let ep = Endpoint::start(&[("a", "ok")]).await.unwrap();
    let addr = ep.addr();
    tokio::task::spawn_blocking(move || post(addr, "/a"))
        .await
        .unwrap();
    let report = ep.finish(Duration::from_millis(100)).await;
    assert!(
        report.findings_of(Check::F1).next().is_none(),
        "{}",
        report.to_json()
    );
}

/// The front door: typed faults, declared settings, one back-off scale for the D6
/// threshold and the quiet window, `verify`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_front_door_judges_a_faithful_sender() {
    use brhook::testkit::reference::{play, realistic_scenario, Sender, SenderConfig};
    use brhook::{Check, Endpoint, Fault, Level};
    let ep = Endpoint::builder()
        .v2("a", Fault::ok())
        .v2("b", Fault::fail(2))
        .v1("old", Fault::ok())
        .backoff_scale(0.05)
        .start()
        .await
        .unwrap();
    let config = SenderConfig::new(vec![ep.url("a"), ep.url("b")], vec![ep.url("old")]).scaled(0.05);
    let room = brhook::testkit::gen::Room::doc_example();
    play(
        &Sender::new(config),
        &realistic_scenario(&room, true, None),
        Duration::from_millis(5),
    )
    .await;
    let report = ep.verify().await;
    report.assert_pass();
    assert!(report.tripped(Level::Warn).is_empty(), "{}", report.to_json());
    assert_eq!(
        report.status(Check::D2),
        Some(brhook::testkit::report::Status::Passed)
    );
    assert_eq!(
        report.status(Check::C6),
        Some(brhook::testkit::report::Status::Passed)
    );
}

/// An empty body names no event: a GET and an unrelated empty POST are each judged on
/// their own (T1, T4), answered as first attempts, and are no attempts of one event.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn empty_bodies_are_no_attempts_of_one_event() {
    use brhook::{Check, Fault};
    let ep = Endpoint::builder().v2("a", Fault::fail(1)).start().await.unwrap();
    let addr = ep.addr();
    let answers = tokio::task::spawn_blocking(move || {
        ["GET", "POST"].map(|method| {
            let mut s = std::net::TcpStream::connect(addr).unwrap();
            s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
            write!(s, "{method} /a HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n").unwrap();
            let mut buf = [0u8; 256];
            let n = s.read(&mut buf).unwrap_or(0);
            String::from_utf8_lossy(&buf[..n]).to_string()
        })
    })
    .await
    .unwrap();
    for a in &answers {
        assert!(
            a.starts_with("HTTP/1.1 500"),
            "each is a first attempt under fail:1: {a}"
        );
    }
    let report = ep.finish(Duration::from_millis(100)).await;
    assert_eq!(
        report.status(Check::T4),
        Some(brhook::testkit::report::Status::Failed)
    );
    assert_eq!(
        report.status(Check::T1),
        Some(brhook::testkit::report::Status::Failed)
    );
    for c in [Check::D1, Check::D2, Check::D4] {
        assert!(
            report.findings_of(c).next().is_none(),
            "{c}: {}",
            report.to_json()
        );
    }
    assert!(report.subject.contains("carrying 0 events"), "{}", report.subject);
}

/// A sender given https:// URLs sends a TLS ClientHello to the plain-HTTP socket: the
/// report says so where the user looks first, instead of a bare "no request".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sender_speaking_https_is_told_to_use_http() {
    let ep = Endpoint::start(&[("a", "ok")]).await.unwrap();
    let addr = ep.addr();
    tokio::task::spawn_blocking(move || {
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        // The start of a TLS 1.2 ClientHello record.
        let _ = s.write_all(&[0x16, 0x03, 0x01, 0x00, 0x2f, 0x01, 0x00, 0x00, 0x2b, 0x03, 0x03]);
        let mut buf = [0u8; 256];
        let _ = s.read(&mut buf);
    })
    .await
    .unwrap();
    let report = ep.finish(Duration::from_millis(100)).await;
    assert!(!report.passed());
    let note = report.note.clone().unwrap_or_default();
    assert!(
        note.contains("spoke TLS (https)") && note.contains("http://"),
        "{note}"
    );
}

/// A service loop's handle outlives the capture it watches: once the capture began to
/// finish it says so (no report so far races the final one), and a report asked for
/// after the endpoint is gone still reads the temporary journal (its descriptor is the
/// handle's too; it was closed under it, and the number could name another file).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handle_knows_the_capture_is_finishing_and_still_reads_its_journal() {
    use brhook::Fault;
    let ep = Endpoint::builder().v2("a", Fault::ok()).start().await.unwrap();
    let handle = ep.handle();
    let addr = ep.addr();
    let answer = tokio::task::spawn_blocking(move || post(addr, "/a"))
        .await
        .unwrap();
    assert!(answer.starts_with("http/1.1 2"), "{answer}");
    assert!(!handle.finishing());
    let report = ep.finish(Duration::from_millis(100)).await;
    assert!(handle.finishing(), "the capture finished");
    let so_far = handle
        .report_so_far()
        .await
        .expect("the journal is still readable");
    assert_eq!(so_far.subject, report.subject);
}
