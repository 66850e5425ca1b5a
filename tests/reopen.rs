//! What a receiver does with the `--workdir` files after it answers: the files stay while
//! it works on them in the background, a retried event that makes it open the file
//! again is R12, and a file it never opened is an info line when asked.

mod common;
use common::scratch as dir;

use brhook::testkit::catalog::{Check, Level};
use brhook::testkit::receiver::replay::{Replay, Speed};
use brhook::testkit::receiver::{Probe, Scenario};
use brhook::testkit::report::{Skip, Status};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response};
use serde_json::Value;
use std::collections::HashSet;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How the fake receiver treats a FileClosed.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Mode {
    /// Answers at once, reads the file 300 ms later (a job queue).
    Background,
    /// Reads the file before it answers, every delivery (no de-duplication).
    EveryTime,
    /// Reads the file before it answers, once per EventId.
    Dedup,
    /// Never reads; answers `{"queued":"<RelativePath>"}`.
    NamesIt,
    /// Never reads; answers 204 with no body.
    Never,
}

#[derive(Default)]
struct Seen {
    /// One entry per read: the file, and the error when it could not be read.
    reads: Vec<(String, Option<String>)>,
    ids: HashSet<String>,
}

/// Opens the file and reads its head (the R8 case's file is over 4 GiB, sparse).
fn read_head(path: &Path) -> Option<String> {
    let mut head = [0u8; 1024];
    match std::fs::File::open(path).and_then(|mut f| f.read(&mut head)) {
        Ok(_) => None,
        Err(e) => Some(e.to_string()),
    }
}

async fn answer(
    mode: Mode,
    root: PathBuf,
    seen: Arc<Mutex<Seen>>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, hyper::Error> {
    let body = req.into_body().collect().await?.to_bytes();
    let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let closed = v["EventType"] == "FileClosed";
    let rel = v["EventData"]["RelativePath"].as_str().map(String::from);
    let id = v["EventId"].as_str().unwrap_or_default().to_string();
    let mut answer = Bytes::new();
    if let (true, Some(rel)) = (closed, rel) {
        let path = root.join(&rel);
        match mode {
            Mode::Background => {
                let seen = Arc::clone(&seen);
                tokio::spawn(async move {
                    tokio::time::sleep(Duration::from_millis(300)).await;
                    let r = tokio::task::spawn_blocking(move || read_head(&path))
                        .await
                        .unwrap();
                    seen.lock().unwrap().reads.push((rel, r));
                });
            }
            Mode::EveryTime => {
                let r = read_head(&path);
                seen.lock().unwrap().reads.push((rel, r));
            }
            Mode::Dedup => {
                if seen.lock().unwrap().ids.insert(id) {
                    let r = read_head(&path);
                    seen.lock().unwrap().reads.push((rel, r));
                }
            }
            Mode::NamesIt => answer = Bytes::from(serde_json::json!({ "queued": rel }).to_string()),
            Mode::Never => {}
        }
    }
    Ok(Response::builder()
        .status(if answer.is_empty() { 204 } else { 200 })
        .header("content-type", "application/json")
        .body(Full::new(answer))
        .unwrap())
}

async fn receiver(mode: Mode, root: &Path) -> (String, Arc<Mutex<Seen>>) {
    let seen = Arc::new(Mutex::new(Seen::default()));
    let (r, s) = (root.to_path_buf(), Arc::clone(&seen));
    let addr = common::serve(move |req| answer(mode, r.clone(), Arc::clone(&s), req)).await;
    (format!("http://{addr}/v2"), seen)
}

fn status(r: &brhook::Report, id: Check) -> (Status, Option<Skip>) {
    let c = r.checks.iter().find(|c| c.id == id).expect("in the catalogue");
    (c.status, c.reason.clone())
}

fn info_texts(r: &brhook::Report) -> Vec<String> {
    r.findings_of(Check::R12)
        .filter(|f| f.level == Level::Info)
        .map(|f| format!("{} {}", f.message, f.found.clone().unwrap_or_default()))
        .collect()
}

/// The distinct files a run's bodies name.
fn files_named(run: &brhook::testkit::receiver::Run) -> usize {
    let paths: HashSet<String> = run
        .sent
        .iter()
        .filter_map(|s| {
            let v: Value = serde_json::from_slice(&s.bytes).ok()?;
            let d = v.get("EventData").unwrap_or(&v);
            d.get("RelativePath")?.as_str().map(String::from)
        })
        .collect();
    paths.len()
}

/// Waits for `cond` (slow shared machines: generous).
async fn eventually(mut cond: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + Duration::from_secs(20);
    while Instant::now() < end {
        if cond() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_stay_while_a_receiver_reads_them_in_the_background() {
    let root = dir("background");
    let (v2, seen) = receiver(Mode::Background, &root).await;
    let run = Probe::new(&v2)
        .backoff_scale(0.01)
        .workdir(&root)
        .run_detailed(Scenario::Realistic)
        .await
        .unwrap();
    let closed = run
        .sent
        .iter()
        .filter(|s| s.label.starts_with("FileClosed"))
        .count();
    assert!(closed >= 2, "{closed}");
    // The run waited out the settle window: every background job has read its file.
    assert!(
        eventually(|| seen.lock().unwrap().reads.len() == closed).await,
        "{:?}",
        seen.lock().unwrap().reads
    );
    let failed: Vec<_> = seen
        .lock()
        .unwrap()
        .reads
        .iter()
        .filter(|r| r.1.is_some())
        .cloned()
        .collect();
    assert!(failed.is_empty(), "the files were still there: {failed:?}");
    run.report.assert_pass();
    // Realistic delivers every event once: nothing to judge R12 on, never a pass.
    assert_eq!(
        status(&run.report, Check::R12),
        (Status::Skipped, Some(Skip::NoRepeat))
    );
    assert!(
        eventually(|| std::fs::read_dir(&root).unwrap().next().is_none()).await,
        "removed after the settle window"
    );
    let _ = std::fs::remove_dir_all(&root);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receiver_that_processes_a_retried_file_closed_again_is_r12() {
    let root = dir("again");
    let (v2, _seen) = receiver(Mode::EveryTime, &root).await;
    let journal = root.with_extension("jsonl");
    let report = Probe::new(&v2)
        .backoff_scale(0.01)
        .workdir(&root)
        .journal(&journal)
        .run(Scenario::Probe)
        .await
        .unwrap();
    assert_eq!(
        report.tripped(Level::Warn),
        vec![Check::R12],
        "{}",
        report.to_json()
    );
    assert!(report.tripped(Level::Fail).is_empty(), "{}", report.to_json());
    let f = report
        .findings_of(Check::R12)
        .find(|f| f.level == Level::Warn)
        .unwrap();
    assert!(
        f.message.contains("again after a retry of FileClosed"),
        "{}",
        f.message
    );
    assert!(
        f.message.contains("does not de-duplicate by EventId"),
        "{}",
        f.message
    );
    let measured = f.found.clone().unwrap_or_default();
    assert!(measured.contains("opened 2 times"), "{measured}");
    assert_eq!(
        f.sources.first().map(|s| s.to_string()).as_deref(),
        Some("r5-retry-after-2xx")
    );
    // The evidence is in the journal: `check` gives the same R12.
    let again = {
        let reader = brhook::testkit::journal::Reader::open(&journal).unwrap();
        brhook::testkit::judge::judge_journal(reader, &Default::default(), None, false)
            .unwrap()
            .0
    };
    assert_eq!(again.occurrences(Check::R12, Level::Warn), 1);
    let _ = std::fs::remove_file(&journal);
    let _ = std::fs::remove_dir_all(&root);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receiver_that_deduplicates_by_event_id_stays_quiet() {
    let root = dir("dedup");
    let (v2, seen) = receiver(Mode::Dedup, &root).await;
    let report = Probe::new(&v2)
        .backoff_scale(0.01)
        .workdir(&root)
        .run(Scenario::Probe)
        .await
        .unwrap();
    assert!(!seen.lock().unwrap().reads.is_empty());
    report.assert_pass();
    assert_eq!(
        status(&report, Check::R12),
        (Status::Passed, None),
        "{}",
        report.to_json()
    );
    let _ = std::fs::remove_dir_all(&root);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_workdir_r12_is_skipped_with_the_reason() {
    let root = dir("none");
    let (v2, _seen) = receiver(Mode::EveryTime, &root).await;
    let report = Probe::new(&v2)
        .backoff_scale(0.01)
        .run(Scenario::Probe)
        .await
        .unwrap();
    assert_eq!(
        status(&report, Check::R12),
        (Status::Skipped, Some(Skip::NoWorkdir))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_never_opened_is_an_info_line_when_named_or_expected() {
    // Named in the answer body, never opened: an info line, without --expect-open.
    let root = dir("named");
    let (v2, _) = receiver(Mode::NamesIt, &root).await;
    let report = Probe::new(&v2)
        .backoff_scale(0.01)
        .workdir(&root)
        .run(Scenario::Realistic)
        .await
        .unwrap();
    let infos = info_texts(&report);
    assert_eq!(infos.len(), 1, "{infos:?}");
    assert!(
        infos[0].contains("named a file in its answer but never opened it"),
        "{infos:?}"
    );
    report.assert_pass();
    let _ = std::fs::remove_dir_all(&root);

    // Neither named nor expected: nothing said.
    let root = dir("never");
    let (v2, _) = receiver(Mode::Never, &root).await;
    let probe = Probe::new(&v2).backoff_scale(0.01).workdir(&root);
    let quiet = probe.clone().run(Scenario::Realistic).await.unwrap();
    assert!(info_texts(&quiet).is_empty(), "{:?}", info_texts(&quiet));
    // --expect-open: every file never opened is reported.
    let expected = probe
        .expect_open(true)
        .run_detailed(Scenario::Realistic)
        .await
        .unwrap();
    let infos = info_texts(&expected.report);
    assert_eq!(infos.len(), 1, "{infos:?}");
    assert!(infos[0].contains("--expect-open"), "{infos:?}");
    // brhook's own writes are not opens: every file it wrote is one never opened.
    let files = files_named(&expected);
    assert!(files >= 2, "{files}");
    assert!(
        infos[0].contains(&format!("{files} of {files} files never opened")),
        "{infos:?}"
    );
    // A receiver that opens nothing gives R12 nothing to compare with: skipped.
    let probed = Probe::new(&v2)
        .backoff_scale(0.01)
        .workdir(&root)
        .run(Scenario::Probe)
        .await
        .unwrap();
    assert_eq!(
        status(&probed, Check::R12),
        (Status::Skipped, Some(Skip::NoneOpened))
    );
    let _ = std::fs::remove_dir_all(&root);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replay_with_workdir_writes_and_watches_the_captured_files() {
    // A capture: the realistic recording as a send journal (request lines with bodies).
    let root = dir("replay");
    std::fs::create_dir_all(&root).unwrap();
    let capture = root.join("capture.jsonl");
    let (v2, _) = receiver(Mode::Never, &root).await;
    let _ = Probe::new(&v2)
        .backoff_scale(0.01)
        .journal(&capture)
        .run(Scenario::Realistic)
        .await
        .unwrap();

    let files = root.join("files");
    let (v2, seen) = receiver(Mode::EveryTime, &files).await;
    let run = Replay::new(&capture, &v2)
        .speed(Speed::Max)
        .backoff_scale(0.01)
        .workdir(&files)
        .expect_open(true)
        .run()
        .await
        .unwrap();
    let reads = seen.lock().unwrap().reads.clone();
    assert!(!reads.is_empty());
    assert!(
        reads.iter().all(|r| r.1.is_none()),
        "the captured files were written: {reads:?}"
    );
    // Every file was opened: no info line; no event delivered again: R12 skipped.
    assert!(
        info_texts(&run.report).is_empty(),
        "{:?}",
        info_texts(&run.report)
    );
    assert_eq!(
        status(&run.report, Check::R12),
        (Status::Skipped, Some(Skip::NoRepeat))
    );
    assert!(!files.join("x").exists());
    let _ = std::fs::remove_dir_all(&root);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_workdir_on_the_command_line_gives_r12_and_check_gives_it_again() {
    let root = dir("cli");
    let (v2, _seen) = receiver(Mode::EveryTime, &root).await;
    let kept = root.with_extension("cli.jsonl");
    let (root_s, kept_s) = (root.display().to_string(), kept.display().to_string());
    let args = [
        "send",
        "probe",
        "--to",
        &v2,
        "--backoff-scale",
        "0.01",
        "--workdir",
        &root_s,
    ];
    // A warning alone does not fail the run.
    let report = common::same_report_from_check(&args, &kept_s, 0).await;
    let r12 = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "R12")
        .cloned()
        .unwrap();
    assert_eq!(r12["status"], "warned", "{r12}");
    let _ = std::fs::remove_file(&kept);
    let _ = std::fs::remove_dir_all(&root);
}
