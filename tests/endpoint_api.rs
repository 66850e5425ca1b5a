//! The library endpoint's contract details that the matrix does not show.

use brhook::endpoint::Endpoint;
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
        .all(|c| c.status != brhook::report::Status::Passed));
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
