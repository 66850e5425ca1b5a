//! Helpers the test binaries share: each includes them with `mod common;` and uses a
//! part, so what one binary leaves unused is no warning.
#![allow(dead_code)]

use brhook::testkit::fault::Fault;
use brhook::testkit::journal::{Journal, Request, Response, UrlSpec};
use std::process::Command;

/// The brhook binary cargo built for the tests.
pub const BIN: &str = env!("CARGO_BIN_EXE_brhook");

/// Runs the binary: its exit code, stdout and stderr.
pub fn brhook(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(BIN).args(args).output().expect("brhook runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A POST of `body` to URL `a` with the real sender's headers, arriving at `at_ms` and
/// answered `status` half a millisecond later.
pub fn request(seq: u64, at_ms: f64, body: Vec<u8>, status: u16) -> Request {
    Request {
        seq,
        conn: 1,
        at_ms,
        method: "POST".into(),
        target: "/a".into(),
        url: Some("a".into()),
        headers: vec![
            ("content-type".into(), "application/json".into()),
            ("user-agent".into(), "BililiveRecorder/2.17.3".into()),
            ("content-length".into(), body.len().to_string()),
        ],
        body,
        body_error: None,
        response: Response {
            status: Some(status),
            at_ms: at_ms + 0.5,
            abandoned_ms: None,
        },
        upstream: None,
        sent: None,
    }
}

/// An empty journal with one URL, `a`, answering `ok`.
pub fn journal_a() -> Journal {
    Journal::new(
        vec![UrlSpec {
            name: "a".into(),
            fault: Fault::ok(),
            setting: None,
            upstream: None,
        }],
        String::new(),
    )
}

/// A tiny HTTP/1.1 receiver on a free loopback port: every request goes to `answer`,
/// whose response body may be any body of bytes (`Empty`, `Full`).
pub async fn serve<F, Fut, B>(answer: F) -> std::net::SocketAddr
where
    F: Fn(hyper::Request<hyper::body::Incoming>) -> Fut + Clone + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<hyper::Response<B>, hyper::Error>> + Send + 'static,
    B: hyper::body::Body<Data = bytes::Bytes> + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let answer = answer.clone();
            tokio::spawn(async move {
                let svc = hyper::service::service_fn(answer);
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    addr
}

/// splitmix64: a tiny deterministic generator for the property tests' random choices
/// (shuffles, picks), seeded by proptest so a failing case replays.
pub struct Mix(pub u64);

impl Mix {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// 0..n (0 when n is 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
    /// True `percent` times in 100.
    pub fn chance(&mut self, percent: u32) -> bool {
        self.next() % 100 < u64::from(percent)
    }
    pub fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[self.below(xs.len())]
    }
    pub fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            let j = self.below(i + 1);
            v.swap(i, j);
        }
    }
}
