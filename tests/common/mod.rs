//! Helpers the test binaries share: each includes them with `mod common;` and uses a
//! part, so what one binary leaves unused is no warning. Each test binary stays its
//! own crate (some must run alone: timing, a process-wide lock, the binary under test);
//! what they share is written here once.
//!
//! - this file: running the binary (and live = `check` through it), scratch
//!   directories, the timed mutant, the plain report, the proptest set-up, a tiny HTTP
//!   server;
//! - [`journal`]: requests, URLs and journals written by hand;
//! - [`receivers`]: the buggy-receiver zoo that `send` and `replay` are judged against;
//! - [`mix`]: the property tests' seeded generator.
#![allow(dead_code)]

pub mod journal;
pub mod mix;
pub mod receivers;

use brhook::testkit::reference::Mutant;
use std::path::PathBuf;
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

/// [`brhook`] off the async runtime's threads, so a receiver the test runs keeps
/// answering while the binary talks to it.
pub async fn brhook_async<I, S>(args: I) -> (i32, String, String)
where
    I: IntoIterator<Item = S>,
    S: Into<String>,
{
    let args: Vec<String> = args.into_iter().map(Into::into).collect();
    tokio::task::spawn_blocking(move || {
        let a: Vec<&str> = args.iter().map(String::as_str).collect();
        brhook(&a)
    })
    .await
    .expect("the binary's thread did not panic")
}

/// The property tests' set-up: `cases` cases, and no proptest-regressions files, so a
/// run leaves tests/ untouched (a failing case is printed in the failure instead).
pub fn proptest_config(cases: u32) -> proptest::test_runner::Config {
    proptest::test_runner::Config {
        cases,
        failure_persistence: None,
        ..Default::default()
    }
}

/// The plain text report: what a failed assertion shows of a run.
pub fn text(r: &brhook::Report) -> String {
    brhook::testkit::report::text::render(r, &brhook::testkit::report::text::Style::plain())
}

/// Runs the command `args` keeping its journal at `kept` (a JSON report), then `brhook
/// check kept`: both must exit `code` and give the same report, for the journal is the
/// record and a report is what its judge makes of it. Returns the report.
pub async fn same_report_from_check(args: &[&str], kept: &str, code: i32) -> serde_json::Value {
    let mut live = args.to_vec();
    live.extend(["--journal", kept, "--format", "json"]);
    let (live_code, live, err) = brhook_async(live).await;
    assert_eq!(live_code, code, "{args:?}: {err}");
    let (check_code, checked, err) = brhook_async(["check", kept, "--format", "json"]).await;
    assert_eq!(check_code, code, "check: {err}");
    let (a, b): (serde_json::Value, serde_json::Value) = (
        serde_json::from_str(&live).expect("a JSON report"),
        serde_json::from_str(&checked).expect("a JSON report"),
    );
    assert_eq!(a, b, "check on the journal of {args:?} gives its report");
    a
}

/// A path for test `test`'s files, nothing there yet: under the temp dir, named by the
/// binary and the process, so parallel tests and runs never share one.
pub fn scratch(test: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!(
        "brhook-{}-{}-{test}",
        env!("CARGO_CRATE_NAME"),
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&d);
    d
}

/// [`scratch`], created: an empty directory of its own.
pub fn dir(test: &str) -> PathBuf {
    let d = scratch(test);
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}

/// The mutant judged on time alone (D6: a retry sooner than the threshold after the
/// answer). Among 22 other runs in step on two worker threads, every answer and every
/// next request waits in line behind theirs, and a sender that does not wait at all was
/// seen 15–1,200 ms after the answer (threshold 10 ms). So the mutation tests run it
/// alone, after the others, with the real threshold (100 ms): it never waits, so its
/// back-off scale costs it nothing, and it has 100 ms of scheduling to spare.
pub fn timed(m: Mutant) -> bool {
    m.check() == brhook::Check::D6
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
    serve_until(answer, std::sync::Arc::new(tokio::sync::Notify::new())).await
}

/// [`serve`], until `stop` is notified: then the listener is closed, as when the
/// receiver's process dies, and every later connection is refused.
pub async fn serve_until<F, Fut, B>(
    answer: F,
    stop: std::sync::Arc<tokio::sync::Notify>,
) -> std::net::SocketAddr
where
    F: Fn(hyper::Request<hyper::body::Incoming>) -> Fut + Clone + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<hyper::Response<B>, hyper::Error>> + Send + 'static,
    B: hyper::body::Body<Data = bytes::Bytes> + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        // Dropped at the stop: every connection still open is cut, as by a dead process.
        let mut conns = tokio::task::JoinSet::new();
        loop {
            let accepted = tokio::select! {
                a = listener.accept() => a,
                _ = stop.notified() => break,
            };
            let Ok((stream, _)) = accepted else { break };
            while conns.try_join_next().is_some() {}
            let answer = answer.clone();
            conns.spawn(async move {
                let svc = hyper::service::service_fn(answer);
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    addr
}
