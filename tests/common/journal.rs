//! Journals written by hand: the request and URL builders the judge tests share, so a
//! hand-made journal looks the same (the real sender's headers, the listen defaults)
//! in every binary, and a test states only what it is about.

use brhook::testkit::journal::{Journal, Request, Response, UrlSpec};

/// The real sender's user agent.
pub const UA: &str = "BililiveRecorder/2.17.3";

/// The real sender's headers for `body`: JSON, its user agent, its length.
pub fn sender_headers(body: &[u8]) -> Vec<(String, String)> {
    vec![
        ("content-type".into(), "application/json".into()),
        ("user-agent".into(), UA.into()),
        ("content-length".into(), body.len().to_string()),
    ]
}

/// A POST of `body` to URL `url` (`None`: a path that names no URL) with the real
/// sender's headers, on a connection of its own, arriving at `at_ms`; answered
/// `status` (`None`: no answer) at `answered_ms`.
pub fn post(
    seq: u64,
    url: Option<&str>,
    at_ms: f64,
    body: Vec<u8>,
    status: Option<u16>,
    answered_ms: f64,
) -> Request {
    Request {
        seq,
        conn: seq,
        at_ms,
        method: "POST".into(),
        target: format!("/{}", url.unwrap_or("nowhere")),
        url: url.map(String::from),
        headers: sender_headers(&body),
        body,
        body_error: None,
        response: Response {
            status,
            at_ms: answered_ms,
            abandoned_ms: None,
        },
        upstream: None,
        sent: None,
    }
}

/// A POST of `body` to URL `a`, all on one kept-alive connection, arriving at `at_ms`
/// and answered `status` half a millisecond later.
pub fn request(seq: u64, at_ms: f64, body: Vec<u8>, status: u16) -> Request {
    Request {
        conn: 1,
        ..post(seq, Some("a"), at_ms, body, Some(status), at_ms + 0.5)
    }
}

/// URL `name` answering `fault` ("ok", "fail:2", ...): no setting, no upstream, as
/// `listen` and the demo name their URLs.
pub fn url(name: &str, fault: &str) -> UrlSpec {
    UrlSpec {
        name: name.into(),
        fault: fault.parse().expect("a fault"),
        setting: None,
        upstream: None,
    }
}

/// A journal of these URLs (name, fault) and requests, closed at `closed_ms` after
/// `listen`'s default quiet second.
pub fn journal(urls: &[(&str, &str)], requests: Vec<Request>, closed_ms: f64) -> Journal {
    let mut j = Journal::new(urls.iter().map(|(n, f)| url(n, f)).collect(), String::new());
    j.requests = requests;
    j.closed_ms = Some(closed_ms);
    j.quiet_ms = Some(1000.0);
    j
}

/// An empty journal with one URL, `a`, answering `ok`, not closed.
pub fn journal_a() -> Journal {
    Journal::new(vec![url("a", "ok")], String::new())
}
