//! Safe defaults for a port that faces a network: the endpoint survives garbage, slow
//! and half-closed clients, oversize bodies and connection floods, records every
//! request that reached it, and `brhook listen` exposes the limits as flags.
//!
//! Every test asserts what the endpoint did (answers, journal, report), waiting on
//! conditions with generous deadlines rather than fixed sleeps.

use brhook::testkit::catalog::Level;
use brhook::testkit::endpoint::Endpoint;
use brhook::testkit::journal::Journal;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const BIN: &str = env!("CARGO_BIN_EXE_brhook");
/// Far longer than anything here should take on a loaded CI machine.
const PATIENCE: Duration = Duration::from_secs(5);
const QUIET: Duration = Duration::from_millis(50);

/// A valid v2 body, as the real sender writes it (compact).
fn body() -> Vec<u8> {
    let v: serde_json::Value =
        serde_json::from_slice(&std::fs::read("tests/fixtures/doc/SessionStarted.json").unwrap()).unwrap();
    serde_json::to_vec(&v).unwrap()
}

/// The bytes of a faithful request to `path`, closing the connection after it.
fn request(path: &str, body: &[u8]) -> Vec<u8> {
    let mut r = format!(
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
         User-Agent: BililiveRecorder/2.17.3\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    r.extend_from_slice(body);
    r
}

/// Writes `bytes`, then reads until the server closes (bounded by [`PATIENCE`]).
async fn exchange(addr: SocketAddr, bytes: &[u8]) -> Vec<u8> {
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(bytes).await.unwrap();
    read_to_close(&mut s).await
}

async fn read_to_close(s: &mut TcpStream) -> Vec<u8> {
    let mut out = Vec::new();
    // A reset after (or instead of) an answer is fine here; what was read is returned.
    let _ = tokio::time::timeout(PATIENCE, s.read_to_end(&mut out))
        .await
        .expect("the server closes the connection");
    out
}

/// The status code of a raw HTTP/1.1 answer.
fn status(answer: &[u8]) -> Option<u16> {
    let text = String::from_utf8_lossy(answer);
    text.strip_prefix("HTTP/1.1 ")?.get(..3)?.parse().ok()
}

async fn post(addr: SocketAddr, path: &str, body: &[u8]) -> Option<u16> {
    status(&exchange(addr, &request(path, body)).await)
}

/// Waits until `cond` holds, failing the test after [`PATIENCE`].
async fn until(what: &str, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(start.elapsed() < PATIENCE, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn path_of(url: &str) -> String {
    let rest = url.strip_prefix("http://").unwrap();
    rest[rest.find('/').unwrap()..].to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_on_the_socket_never_crashes_it() {
    let ep = Endpoint::builder().url("a", "ok").start().await.unwrap();
    let (addr, path) = (ep.addr(), path_of(&ep.url("a")));
    assert_eq!(post(addr, &path, &body()).await, Some(204));

    // Random bytes (a fixed xorshift stream, so a failure reproduces), then bytes that
    // are not HTTP at all, then a request line whose headers hold invalid bytes.
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let random: Vec<u8> = (0..4096)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect();
    let attempts: Vec<Vec<u8>> = vec![
        random,
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 TLS hello to a plain port\r\n\r\n".to_vec(),
        b"\0\0\0\0\r\n\r\n\r\n".to_vec(),
        b"POST /a HTTP/1.1\r\nHost: x\r\nBad\x01Name: v\r\nX: \x00\xff\r\nContent-Length: 2\r\n\r\n{}"
            .to_vec(),
        b"POST /a HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 7\r\n\r\nhello".to_vec(),
        b"GET / HTTP/9.9\r\n\r\n".to_vec(),
    ];
    for bytes in &attempts {
        let answer = exchange(addr, bytes).await;
        // hyper answers a malformed head 400 (or just closes); never a success.
        assert!(
            matches!(status(&answer), None | Some(400..=599)),
            "garbage got {:?}",
            String::from_utf8_lossy(&answer)
        );
    }
    // Garbage cut off mid-write by a client that vanishes.
    {
        let mut s = TcpStream::connect(addr).await.unwrap();
        s.write_all(b"POST /a HTTP/1.1\r\nHost: x\r\nConte")
            .await
            .unwrap();
    }

    assert_eq!(post(addr, &path, &body()).await, Some(204), "still serving");
    let journal = ep.close(QUIET).await;
    let seqs: Vec<_> = journal
        .requests
        .iter()
        .map(|r| (r.seq, r.response.status))
        .collect();
    assert_eq!(
        seqs,
        [(1, Some(204)), (2, Some(204))],
        "both valid requests recorded, nothing lost or invented"
    );
    assert!(journal
        .requests
        .iter()
        .all(|r| r.body == body() && r.url.as_deref() == Some("a")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slowloris_is_disconnected_after_the_header_timeout_while_others_are_served() {
    let timeout = Duration::from_millis(600);
    let ep = Endpoint::builder()
        .url("a", "ok")
        .header_timeout(timeout)
        .start()
        .await
        .unwrap();
    let (addr, path) = (ep.addr(), path_of(&ep.url("a")));

    let start = Instant::now();
    let mut slow = TcpStream::connect(addr).await.unwrap();
    slow.write_all(b"POST /a HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: Bili")
        .await
        .unwrap();
    // A client that connects and never sends a byte is held to the same timeout.
    let mut silent = TcpStream::connect(addr).await.unwrap();

    // Meanwhile others are served (in milliseconds: far inside the timeout), and the
    // stalled client is still connected, neither cut early nor blocking anyone.
    for _ in 0..3 {
        assert_eq!(post(addr, &path, &body()).await, Some(204));
    }
    assert!(start.elapsed() < timeout, "served while the slow client stalls");
    let mut probe = [0u8; 1];
    assert!(
        matches!(slow.try_read(&mut probe), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock),
        "the stalled client is still connected before its timeout"
    );

    let cut = read_to_close(&mut slow).await;
    let waited = start.elapsed();
    assert!(
        waited >= timeout - Duration::from_millis(20),
        "not cut before the timeout: {waited:?}"
    );
    assert!(waited < PATIENCE, "cut soon after the timeout: {waited:?}");
    assert!(
        matches!(status(&cut), None | Some(408)),
        "{:?}",
        String::from_utf8_lossy(&cut)
    );
    let _ = read_to_close(&mut silent).await;

    let journal = ep.close(QUIET).await;
    assert_eq!(
        journal.requests.len(),
        3,
        "a head never completed is not a request"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_half_closes_after_its_request_is_recorded_and_answered() {
    let ep = Endpoint::builder().url("a", "ok").start().await.unwrap();
    let (addr, path) = (ep.addr(), path_of(&ep.url("a")));
    // Keep-alive (no `Connection: close`), then shut the write half: the request is
    // whole, so it is recorded, and the answer still reaches the half-open socket.
    let mut bytes = format!(
        "POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
         User-Agent: BililiveRecorder/2.17.3\r\nContent-Length: {}\r\n\r\n",
        body().len()
    )
    .into_bytes();
    bytes.extend_from_slice(&body());
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(&bytes).await.unwrap();
    s.shutdown().await.unwrap();
    let answer = read_to_close(&mut s).await;
    until("the request to be recorded", || ep.requests_seen() == 1).await;
    assert_eq!(
        status(&answer),
        Some(204),
        "{:?}",
        String::from_utf8_lossy(&answer)
    );

    let report = ep.finish(QUIET).await;
    assert_eq!(report.verdict, "pass", "{}", report.to_json());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_cut_short_is_recorded_with_body_error_and_judged_t4() {
    let ep = Endpoint::builder().url("a", "ok").start().await.unwrap();
    let (addr, path) = (ep.addr(), path_of(&ep.url("a")));
    let head = |framing: &str| {
        format!(
            "POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
             User-Agent: BililiveRecorder/2.17.3\r\n{framing}\r\n\r\n"
        )
    };
    // (what is sent, whether the client only half-closes or goes away entirely)
    let cuts = [
        // Content-Length 100, then 10 bytes.
        (head("Content-Length: 100") + "{\"EventTyp", true),
        (head("Content-Length: 100") + "{\"EventTyp", false),
        // The head alone: not one byte of the promised body.
        (head("Content-Length: 100"), true),
        // Chunked, cut inside a chunk.
        (head("Transfer-Encoding: chunked") + "20\r\n{\"EventType\"", true),
    ];
    for (n, (bytes, half)) in cuts.iter().enumerate() {
        let mut s = TcpStream::connect(addr).await.unwrap();
        s.write_all(bytes.as_bytes()).await.unwrap();
        if *half {
            s.shutdown().await.unwrap();
            let _ = read_to_close(&mut s).await;
        }
        drop(s);
        until("the cut request to be recorded", || {
            ep.requests_seen() == n as u64 + 1
        })
        .await;
    }

    let journal = ep.close(QUIET).await;
    assert_eq!(journal.requests.len(), cuts.len(), "none lost");
    for r in &journal.requests {
        assert_eq!(r.url.as_deref(), Some("a"));
        let err = r.body_error.as_deref().expect("body_error is set");
        assert!(err.contains("could not be read"), "{err}");
        assert_eq!(r.response.status, None, "answered by closing the connection");
    }
    let report = brhook::testkit::judge::judge(&journal, &Default::default());
    let t4: Vec<_> = report.findings.iter().filter(|f| f.check == "T4").collect();
    assert_eq!(t4.len(), 1, "one merged finding: {}", report.to_json());
    assert_eq!(t4[0].level, Level::Fail);
    assert!(t4[0].message.contains("body not judged"), "{}", t4[0].message);
    let sources: Vec<String> = t4[0].sources.iter().map(ToString::to_string).collect();
    assert_eq!(
        sources.join(", "),
        "request #1, request #2, request #3, request #4"
    );
    assert_eq!(report.verdict, "fail");
    // No body was judged, yet the counted failure shows T4 failed, never skipped.
    assert_eq!(
        report.status(brhook::testkit::catalog::Check::T4),
        Some(brhook::testkit::report::Status::Failed)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_over_the_limit_is_answered_413_recorded_and_reported() {
    let ep = Endpoint::builder()
        .url("a", "ok")
        .max_body(1024)
        .start()
        .await
        .unwrap();
    let (addr, path) = (ep.addr(), path_of(&ep.url("a")));
    let mut big = b"{\"EventType\":\"".to_vec();
    big.resize(8 * 1024, b'x');
    assert_eq!(post(addr, &path, &big).await, Some(413));
    // The limit is on the body, not the connection: a normal one still passes.
    assert_eq!(post(addr, &path, &body()).await, Some(204));

    let journal = ep.close(QUIET).await;
    assert_eq!(journal.requests.len(), 2);
    let r = &journal.requests[0];
    assert_eq!(r.response.status, Some(413));
    assert!(r.body.is_empty(), "an oversize body is not kept");
    assert!(r.body_error.as_deref().unwrap().contains("1024 byte limit"));
    let report = brhook::testkit::judge::judge(&journal, &Default::default());
    let t4: Vec<_> = report.findings.iter().filter(|f| f.check == "T4").collect();
    assert_eq!(t4.len(), 1, "{}", report.to_json());
    assert!(t4[0].message.contains("over the size limit"), "{}", t4[0].message);
    assert!(
        t4[0]
            .found
            .as_deref()
            .unwrap()
            .contains("over the 1024 byte limit"),
        "{:?}",
        t4[0].found
    );
    assert_eq!(
        t4[0].sources.first().map(ToString::to_string).as_deref(),
        Some("request #1")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_a_token_only_the_secret_path_is_judged() {
    let ep = Endpoint::builder()
        .url("a", "ok")
        .prefix("0123456789abcdef")
        .start()
        .await
        .unwrap();
    let addr = ep.addr();
    assert!(ep.url("a").ends_with("/0123456789abcdef/a"), "{}", ep.url("a"));
    assert_eq!(post(addr, "/a", &body()).await, Some(404));
    assert_eq!(post(addr, "/0123456789abcdef", &body()).await, Some(404));
    assert_eq!(post(addr, "/0123456789abcdefa", &body()).await, Some(404));
    assert_eq!(post(addr, "/0123456789abcdef/a", &body()).await, Some(204));

    let journal = ep.close(QUIET).await;
    let urls: Vec<_> = journal.requests.iter().map(|r| r.url.as_deref()).collect();
    assert_eq!(urls, [None, None, None, Some("a")]);
    assert_eq!(journal.meta.prefix, "0123456789abcdef");
    let report = brhook::testkit::judge::judge(&journal, &Default::default());
    assert_eq!(report.verdict, "pass", "{}", report.to_json());
    assert!(report.subject.starts_with("1 request "), "{}", report.subject);
    assert!(report.subject.contains("3 stray"), "{}", report.subject);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn past_max_connections_a_connection_waits_and_is_served_once_one_closes() {
    let ep = Endpoint::builder()
        .url("a", "ok")
        .max_connections(2)
        .start()
        .await
        .unwrap();
    let (addr, path) = (ep.addr(), path_of(&ep.url("a")));
    // Two keep-alive connections, each proven served, then held open.
    let keep_alive = |path: &str| {
        let b = body();
        let mut r = format!(
            "POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
             User-Agent: BililiveRecorder/2.17.3\r\nContent-Length: {}\r\n\r\n",
            b.len()
        )
        .into_bytes();
        r.extend_from_slice(&b);
        r
    };
    let mut held = Vec::new();
    for _ in 0..2 {
        let mut s = TcpStream::connect(addr).await.unwrap();
        s.write_all(&keep_alive(&path)).await.unwrap();
        let mut buf = [0u8; 256];
        let n = tokio::time::timeout(PATIENCE, s.read(&mut buf))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(status(&buf[..n]), Some(204));
        held.push(s);
    }
    // The third connects (the kernel queues it) but is not served while both are held.
    let bytes = request(&path, &body());
    let third = tokio::spawn(async move { exchange(addr, &bytes).await });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        !third.is_finished(),
        "a third connection was served past the limit"
    );
    assert_eq!(ep.requests_seen(), 2);

    drop(held.remove(0));
    let answer = tokio::time::timeout(PATIENCE, third).await.unwrap().unwrap();
    assert_eq!(status(&answer), Some(204));
    drop(held);
    let journal = ep.close(QUIET).await;
    assert_eq!(journal.requests.len(), 3);
    assert_eq!(journal.requests[2].conn, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_journal_file_holds_each_request_before_the_capture_ends() {
    let dir = std::env::temp_dir().join(format!("brhook-robust-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("flushed.jsonl");
    let ep = Endpoint::builder()
        .url("a", "ok")
        .journal(&path)
        .keep_in_memory(false)
        .start()
        .await
        .unwrap();
    let (addr, url_path) = (ep.addr(), path_of(&ep.url("a")));
    assert_eq!(post(addr, &url_path, &body()).await, Some(204));
    // The answer is released after the line is written, so it is on disk already.
    let live = Journal::read(&path).unwrap();
    assert_eq!(live.requests.len(), 1);
    assert_eq!(live.requests[0].body, body());
    assert_eq!(live.closed_ms, None, "the capture is still open");
    assert_eq!(post(addr, &url_path, &body()).await, Some(204));
    assert_eq!(Journal::read(&path).unwrap().requests.len(), 2);

    let report = ep.finish(QUIET).await;
    assert!(report.subject.starts_with("2 requests"), "{}", report.subject);
    let closed = Journal::read(&path).unwrap();
    assert!(closed.closed_ms.is_some());
    std::fs::remove_dir_all(&dir).ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chunked_and_expect_100_continue_bodies_arrive_byte_identical() {
    if Command::new("curl").arg("--version").output().is_err() {
        eprintln!("skipped: curl is not installed");
        return;
    }
    let ep = Endpoint::builder().url("a", "ok").start().await.unwrap();
    let url = ep.url("a");
    // Small bodies and ones larger than one read, with non-ASCII so that chunk
    // boundaries fall mid-character; each its own event (and session), so that the
    // delivery and stream judges have nothing to say.
    let template: serde_json::Value = serde_json::from_slice(&body()).unwrap();
    let bodies: Vec<Vec<u8>> = (0..6)
        .map(|i| {
            let mut v = template.clone();
            v["EventId"] = format!("e3e1c9ec-f386-4bc3-9e5a-661bf3ed2fb{i}").into();
            v["EventData"]["SessionId"] = format!("7c7f3672-70ce-405a-aa12-886702ced6e{i}").into();
            if i >= 3 {
                v["EventData"]["Title"] = "哔哩哔哩音悦台".repeat(3000).into();
            }
            serde_json::to_vec(&v).unwrap()
        })
        .collect();
    let dir = std::env::temp_dir().join(format!("brhook-robust-curl-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let curl = |body: &[u8], extra: &[&str]| {
        let file = dir.join("body.json");
        std::fs::write(&file, body).unwrap();
        let out = Command::new("curl")
            .args(["-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "5"])
            .args([
                "-H",
                "Content-Type: application/json",
                "-A",
                "BililiveRecorder/2.17.3",
            ])
            .args(extra)
            .arg("--data-binary")
            .arg(format!("@{}", file.display()))
            .arg(&url)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let chunked: &[&str] = &["-H", "Transfer-Encoding: chunked"];
    let expect: &[&str] = &["-H", "Expect: 100-continue"];
    let both: &[&str] = &["-H", "Transfer-Encoding: chunked", "-H", "Expect: 100-continue"];
    for (b, extra) in bodies.iter().zip([chunked, expect, both].iter().cycle()) {
        assert_eq!(curl(b, extra), "204", "{extra:?}");
    }

    let journal = ep.close(QUIET).await;
    assert_eq!(journal.requests.len(), 6);
    for (r, want) in journal.requests.iter().zip(&bodies) {
        assert_eq!(&r.body, want, "request #{} is byte-identical", r.seq);
        assert_eq!(r.body_error, None);
    }
    let expected_100 = journal
        .requests
        .iter()
        .filter(|r| r.header("expect").is_some())
        .count();
    assert_eq!(expected_100, 4);
    let report = brhook::testkit::judge::judge(&journal, &Default::default());
    let t5: Vec<_> = report.findings.iter().filter(|f| f.check == "T5").collect();
    assert!(!t5.is_empty(), "{}", report.to_json());
    for f in &t5 {
        assert_eq!(f.level, Level::Info);
        assert!(f.message.contains("chunked"), "{}", f.message);
    }
    assert_eq!(report.verdict, "pass", "{}", report.to_json());
    std::fs::remove_dir_all(&dir).ok();
}

/// Starts `brhook listen ARGS`, returns the child and its base address line.
fn listen(args: &[&str]) -> (std::process::Child, Vec<String>) {
    let mut child = Command::new(BIN)
        .arg("listen")
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let lines: Vec<String> = BufReader::new(child.stdout.take().unwrap())
        .lines()
        .map_while(Result::ok)
        .take_while(|l| !l.starts_with("Waiting for requests"))
        .collect();
    (child, lines)
}

fn wait_exit(child: &mut std::process::Child) -> std::process::ExitStatus {
    let start = Instant::now();
    loop {
        if let Some(s) = child.try_wait().unwrap() {
            return s;
        }
        if start.elapsed() > Duration::from_secs(10) {
            child.kill().unwrap();
            panic!("brhook listen did not exit");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn listen_on_all_interfaces_warns() {
    let (mut child, lines) = listen(&["--bind", "0.0.0.0:0", "--until-quiet", "--quiet", "0.3"]);
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("brhook listening on http://0.0.0.0:")),
        "{lines:?}"
    );
    // The URLs to paste name addresses a sender can reach, never 0.0.0.0.
    let urls: Vec<&String> = lines
        .iter()
        .filter(|l| l.trim_start().starts_with("http://"))
        .collect();
    assert!(!urls.is_empty(), "{lines:?}");
    assert!(urls.iter().all(|l| !l.contains("0.0.0.0")), "{urls:?}");
    assert!(urls.iter().any(|l| l.contains("127.0.0.1")), "{urls:?}");
    // --until-quiet waits for a first request; none comes, so stop it.
    child.kill().unwrap();
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("warning"), "{err}");
    assert!(err.contains("all interfaces"), "{err}");
    assert!(err.contains("--token"), "suggests the token: {err}");

    let (mut child, _) = listen(&["--until-quiet", "--quiet", "0.3"]);
    child.kill().unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        !String::from_utf8_lossy(&out.stderr).contains("all interfaces"),
        "loopback is quiet"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listen_token_and_limits_are_flags() {
    let dir = std::env::temp_dir().join(format!("brhook-robust-listen-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let report = dir.join("report.json");
    let (mut child, lines) = listen(&[
        "--url",
        "a",
        "--token",
        "--max-body",
        "2048",
        "--header-timeout",
        "0.5",
        "--max-connections",
        "4",
        "--until-quiet",
        "--quiet",
        "0.5",
        "--report-json",
        report.to_str().unwrap(),
    ]);
    let base = lines
        .iter()
        .find_map(|l| l.strip_prefix("brhook listening on http://"))
        .expect("listen prints its address");
    let addr: SocketAddr = base.parse().unwrap();
    let url = lines
        .iter()
        .find_map(|l| l.trim().strip_prefix(&format!("http://{base}/")))
        .expect("listen prints the URL")
        .split_whitespace()
        .next()
        .unwrap()
        .to_string();
    let (token, name) = url.split_once('/').expect("URL is /TOKEN/NAME");
    assert_eq!(name, "a");
    assert_eq!(token.len(), 16, "{token}");
    assert!(
        token
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)),
        "{token}"
    );

    assert_eq!(
        post(addr, "/a", &body()).await,
        Some(404),
        "without the token: stray"
    );
    assert_eq!(
        post(addr, &format!("/{token}/a"), &vec![b' '; 4096]).await,
        Some(413)
    );
    assert_eq!(post(addr, &format!("/{token}/a"), &body()).await, Some(204));
    // --header-timeout applies: a stalled head is cut well before the 10 s default.
    let start = Instant::now();
    let mut slow = TcpStream::connect(addr).await.unwrap();
    slow.write_all(b"POST /").await.unwrap();
    let _ = read_to_close(&mut slow).await;
    assert!(start.elapsed() < Duration::from_secs(4), "{:?}", start.elapsed());

    let status = tokio::task::spawn_blocking(move || wait_exit(&mut child))
        .await
        .unwrap();
    assert_eq!(status.code(), Some(1), "the 413 is a T4 failure");
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    let subject = v["subject"].as_str().unwrap();
    assert!(subject.starts_with("2 requests"), "{subject}");
    assert!(subject.contains("1 stray"), "{subject}");
    let t4 = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["check"] == "T4")
        .unwrap();
    assert!(t4["found"].as_str().unwrap().contains("2048 byte limit"), "{t4}");
    std::fs::remove_dir_all(&dir).ok();
}

fn interrupt(child: &std::process::Child) {
    let ok = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(ok.success());
}

/// Reads stderr until a line containing `needle` (or the end).
fn stderr_until(err: &mut impl BufRead, needle: &str) -> String {
    let mut seen = String::new();
    let mut line = String::new();
    while err.read_line(&mut line).unwrap_or(0) > 0 {
        seen.push_str(&line);
        if line.contains(needle) {
            break;
        }
        line.clear();
    }
    seen
}

/// Ctrl-C says what it waits for; a second one judges at once (an answer held 20 s is
/// not waited for); a third aborts with 130.
#[test]
fn ctrl_c_says_what_it_waits_for_judges_on_the_second_and_aborts_on_the_third() {
    for presses in [2, 3] {
        let (mut child, lines) = listen(&["--url", "slow=delay:20000", "--quiet-window", "5"]);
        let url = lines
            .iter()
            .find_map(|l| {
                l.split_whitespace()
                    .find(|w| w.starts_with("http://") && w.ends_with("/slow"))
            })
            .expect("the URL is printed")
            .to_string();
        let addr = url
            .trim_start_matches("http://")
            .split('/')
            .next()
            .unwrap()
            .to_string();
        // A request whose answer is held 20 s: in flight when Ctrl-C comes.
        std::thread::spawn(move || {
            let mut s = std::net::TcpStream::connect(addr).unwrap();
            let body = "{}";
            let _ = std::io::Write::write_fmt(
                &mut s,
                format_args!("POST /slow HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            ));
            let mut buf = [0u8; 256];
            let _ = std::io::Read::read(&mut s, &mut buf);
        });
        std::thread::sleep(Duration::from_millis(500));
        let started = Instant::now();
        let mut err = BufReader::new(child.stderr.take().unwrap());
        interrupt(&child);
        let said = stderr_until(&mut err, "Ctrl-C again");
        assert!(said.contains("waiting up to 5 s"), "{said}");
        interrupt(&child);
        if presses == 3 {
            let said = stderr_until(&mut err, "judging now");
            assert!(said.contains("judging now"), "{said}");
            interrupt(&child);
        }
        let status = wait_exit(&mut child);
        assert!(started.elapsed() < Duration::from_secs(10), "not waited out");
        // A tiny capture may be judged before the third Ctrl-C lands: then it exits as
        // judged; when the third lands first, it aborts with 130 and says so.
        let rest = stderr_until(&mut err, "\u{0}");
        match status.code() {
            Some(130) => assert!(presses == 3 && rest.contains("aborted"), "{rest}"),
            code => assert!(matches!(code, Some(0 | 1)), "judged: {status:?} {rest}"),
        }
    }
}

/// The bytes of a faithful keep-alive request to `path`.
fn keep_alive_request(path: &str, body: &[u8]) -> Vec<u8> {
    let mut bytes = format!(
        "POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
         User-Agent: BililiveRecorder/2.17.3\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

/// D7: a sender that closes the connection while an answer is held gave up on it: the
/// journal says so, the 2xx it never read is no success (no false D4), and D7 warns. A
/// sender that waits for the answer, or half-closes right after sending, is quiet.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sender_that_stops_waiting_trips_d7_and_no_false_d4() {
    use brhook::{Check, Fault};
    // Back-off scale 0.01: the real sender's 100 s patience is 1 s; answers held 2 s.
    let ep = Endpoint::builder()
        .v2("slow", Fault::delay(Duration::from_millis(2000)))
        .backoff_scale(0.01)
        .start()
        .await
        .unwrap();
    let (addr, path) = (ep.addr(), path_of(&ep.url("slow")));
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(&keep_alive_request(&path, &body())).await.unwrap();
    // Counted from its arrival: closed sooner than 50 ms after it, it would be a half
    // close (still listening), which a busy endpoint reading it late could make it.
    until("the request to arrive", || ep.idle().1 == 1).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    drop(s); // gives up after 0.3 s, before the answer
    let (report, journal) = ep.finish_with_journal(Duration::from_millis(2500)).await;
    let r = &journal.requests[0];
    let gave_up = r.response.abandoned_ms.expect("recorded as abandoned");
    assert!(gave_up < r.response.at_ms, "{r:?}");
    // D7, and D2: from the sender's side the attempt failed, and it never retried.
    assert_eq!(
        report.tripped(Level::Warn),
        vec![Check::D2, Check::D7],
        "{}",
        report.to_json()
    );
    assert!(report.findings_of(Check::D4).next().is_none());

    // Waiting for the answer (or half-closing at once) is the real sender's behaviour.
    let ep = Endpoint::builder()
        .v2("slow", Fault::delay(Duration::from_millis(1200)))
        .backoff_scale(0.01)
        .start()
        .await
        .unwrap();
    let (addr, path) = (ep.addr(), path_of(&ep.url("slow")));
    for half_close in [false, true] {
        let mut s = TcpStream::connect(addr).await.unwrap();
        s.write_all(&keep_alive_request(&path, &body())).await.unwrap();
        if half_close {
            s.shutdown().await.unwrap();
        }
        let mut buf = [0u8; 512];
        let n = s.read(&mut buf).await.unwrap();
        assert_eq!(status(&buf[..n]), Some(204));
    }
    let (report, journal) = ep.finish_with_journal(QUIET).await;
    assert!(
        journal.requests.iter().all(|r| r.response.abandoned_ms.is_none()),
        "{journal:?}"
    );
    assert_eq!(
        report.status(Check::D7),
        Some(brhook::testkit::report::Status::Passed),
        "{}",
        report.to_json()
    );
}
