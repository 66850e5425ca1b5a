//! `brhook send` against small receivers written here: one correct, one per bug a real
//! receiver has had. Each R check must trip on its bug and stay quiet on the correct one.

mod common;

use brhook::testkit::catalog::Level;
use brhook::testkit::receiver::{Probe, Scenario, SendError};
use brhook::testkit::report::{Report, Status};
use bytes::Bytes;
use serde_json::Value;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::receivers::{Bug, Receiver};
use common::text;

fn reason(r: &Report, id: &str) -> String {
    r.checks
        .iter()
        .find(|c| c.id == id)
        .unwrap()
        .reason
        .as_ref()
        .map(ToString::to_string)
        .unwrap_or_default()
}

fn r_checks(r: &Report) -> Vec<&'static str> {
    r.tripped(Level::Warn)
        .into_iter()
        .filter(|c| c.family() == 'R')
        .map(|c| c.id())
        .collect()
}

async fn probe(bug: Bug) -> Report {
    let rx = Receiver::start(bug).await;
    rx.probe().run(Scenario::Probe).await.expect("the receiver is up")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_correct_receiver_passes_every_r_check() {
    let rx = Receiver::start(Bug::Correct).await;
    let run = rx.probe().run_detailed(Scenario::Probe).await.unwrap();
    let r = &run.report;
    assert!(r.passed(), "{}", text(r));
    for id in ["R1", "R2", "R3", "R4", "R5", "R6", "R7", "R8", "R9"] {
        assert_eq!(r.status(id.parse().unwrap()), Some(Status::Passed), "{id}");
    }
    assert!(
        r.findings.iter().all(|f| f.level == Level::Info),
        "{:?}",
        r.findings
    );
    // R2's latency summary is there as info: a template message, the run's values in
    // what was measured.
    assert!(r
        .findings_of(brhook::testkit::catalog::Check::R2)
        .any(|f| f.message == "latency measured"
            && f.found
                .as_deref()
                .is_some_and(|m| m.contains("p50") && m.contains("p99"))));
    // Every body reached the receiver exactly once (nothing failed, nothing retried) and
    // the retry case really sent the same bytes twice.
    let got = rx.bodies();
    assert_eq!(got.len(), run.sent.len());
    let r5: Vec<_> = run
        .sent
        .iter()
        .filter(|s| s.case == "r5-retry-after-2xx")
        .collect();
    assert_eq!(r5[2].bytes, r5[3].bytes);
    let v1 = got.iter().filter(|(p, _)| p == "/v1").count();
    assert_eq!(v1, 2);
    // Nothing was held, so R10 had nothing to judge: skipped, saying so.
    assert_eq!(
        r.status(brhook::testkit::catalog::Check::R10),
        Some(Status::Skipped)
    );
    assert!(reason(r, "R10").contains("no event's answer was held longer than --slow-after"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn each_bug_trips_its_check() {
    // Bugs that trip their check and nothing else.
    let isolated = [
        (Bug::Requires2x, "R1"),
        (Bug::ClosedEnum, "R3"),
        (Bug::DenyUnknownFields, "R4"),
        (Bug::EventIdPrimaryKey, "R5"),
        (Bug::OrderStrict, "R6"),
        (Bug::NoNegativeOffset, "R8"),
        (Bug::RejectV1, "R9"),
    ];
    let runs = isolated.map(|(bug, _)| tokio::spawn(probe(bug)));
    for ((bug, id), run) in isolated.into_iter().zip(runs) {
        let r = run.await.unwrap();
        assert_eq!(r_checks(&r), [id], "{bug:?}: {}", text(&r));
        assert!(!r.passed(), "{bug:?}");
    }
    // Issue 16: a KeyError on the stream events refuses every event without SessionId
    // and none with one: the missing SessionId is the cause, one R7 finding listing
    // the types and cases, not R1 of StreamStarted and StreamEnded.
    let r = probe(Bug::KeyErrorSessionId).await;
    assert_eq!(r_checks(&r), ["R7"], "{}", text(&r));
    let r7: Vec<_> = r.findings_of(brhook::testkit::catalog::Check::R7).collect();
    assert_eq!(r7.len(), 1, "{r7:#?}");
    assert!(
        r7[0].message.contains("StreamStarted, StreamEnded"),
        "{}",
        r7[0].message
    );
    assert!(r7[0].expected.as_deref().unwrap().contains("SessionId"));
    let sources: Vec<String> = r7[0].sources.iter().map(ToString::to_string).collect();
    for case in ["r1-shape-2.x", "r7-stream-events-without-session-id"] {
        assert!(sources.contains(&case.to_string()), "{case} in {sources:?}");
    }
    assert_eq!(
        r.status(brhook::testkit::catalog::Check::R1),
        Some(Status::Passed)
    );
    // Issue 16: Python's fromisoformat before 3.11 refuses the real sender's 7 digits
    // and accepts R8's 0-digit case: the contrast names the cause, one R8 finding with
    // both values, not R1 of every type. The v1 records (7 digits too) are in it, so
    // R9 is skipped with that reason; so is R3 (a StreamStarted otherwise).
    let r = probe(Bug::SixFractionDigits).await;
    assert_eq!(r_checks(&r), ["R8"], "{}", text(&r));
    let r8: Vec<_> = r.findings_of(brhook::testkit::catalog::Check::R8).collect();
    assert_eq!(r8.len(), 1, "{r8:#?}");
    assert!(r8[0].message.contains("7 fraction digits") && r8[0].message.contains("with 0 fraction digits"));
    let expected = r8[0].expected.as_deref().unwrap();
    assert!(expected.contains("fraction digits") && expected.contains('7') && expected.contains('0'));
    for id in ["R1", "R3", "R9"] {
        assert_eq!(r.status(id.parse().unwrap()), Some(Status::Skipped), "{id}");
        assert!(reason(&r, id).contains("R8"), "{id}: {}", reason(&r, id));
    }
    assert!(!r.findings.iter().any(|f| f.message.contains("more bodies")));
}

/// Issue 10: a receiver that answers 500 to every SessionEnded is reported once, under
/// R1, with the later cases it was also seen in; the checks whose variations it accepts
/// pass.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_root_cause_is_one_finding() {
    let r = probe(Bug::RejectSessionEnded).await;
    assert_eq!(r_checks(&r), ["R1"], "{}", text(&r));
    for id in ["R4", "R5", "R6", "R8"] {
        assert_eq!(r.status(id.parse().unwrap()), Some(Status::Passed), "{id}");
    }
    let r1: Vec<_> = r.findings_of(brhook::testkit::catalog::Check::R1).collect();
    // One cause per shape: SessionEnded (1.3 shape) and SessionEnded (2.x shape).
    assert_eq!(r1.len(), 2, "{r1:#?}");
    let two = r1.iter().find(|f| f.message.contains("2.x shape")).unwrap();
    let sources: Vec<String> = two.sources.iter().map(ToString::to_string).collect();
    for case in [
        "r1-shape-2.x",
        "r4-extra-top-level-fields",
        "r5-retry-after-2xx",
        "r6-file-closed-before-file-opening",
        "r8-fraction-digits-7",
        "r8-offset-minus-0700",
        "r10-file-split",
    ] {
        assert!(sources.contains(&case.to_string()), "{case} in {sources:?}");
    }
    let answer = two.answer.as_ref().unwrap();
    assert_eq!(answer.status, 500);
    assert!(answer.body.contains("NoneType"), "{answer:?}");
    // The same receiver's bug, isolated (every later case on a type the baseline
    // accepted) still counts against the later check: see each_bug_trips_its_check.
}

/// Issue 10: an int32 FileSize fails R8's case (6 GiB), not the 1.3 shape: the baseline
/// sizes are ordinary. The finding carries the receiver's answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_int32_file_size_is_r8_with_the_receivers_answer() {
    let rx = Receiver::start(Bug::Int32FileSize).await;
    let r = rx.probe().run(Scenario::Probe).await.unwrap();
    assert_eq!(r_checks(&r), ["R8"], "{}", text(&r));
    let f = r.findings_of(brhook::testkit::catalog::Check::R8).next().unwrap();
    assert_eq!(
        f.sources.first().map(ToString::to_string).as_deref(),
        Some("r8-file-size-above-2-32")
    );
    let a = f.answer.as_ref().unwrap();
    assert_eq!((a.status, a.body.as_str()), (500, "int32 overflow on FileSize"));
    assert!(text(&r).contains("answer:   500 Internal Server Error: int32 overflow on FileSize"));
    let json: Value = serde_json::from_str(&r.to_json()).unwrap();
    let jf = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["check"] == "R8")
        .unwrap();
    assert_eq!(jf["answer"]["status"], 500);
    assert_eq!(jf["answer"]["body"], "int32 overflow on FileSize");
    assert!(jf["reproduce"].as_str().unwrap().starts_with("curl "));
}

/// Issue 10: every file has its own path, so a receiver that keys files by path and
/// rejects a FileClosed for an unknown one fails R6 (and only R6), and one with a
/// unique index on paths passes everything.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn files_keyed_by_path() {
    let (keyed, unique) = tokio::join!(probe(Bug::PathKeyed), probe(Bug::UniquePath));
    assert_eq!(r_checks(&keyed), ["R6"], "{}", text(&keyed));
    let f = keyed
        .findings_of(brhook::testkit::catalog::Check::R6)
        .next()
        .unwrap();
    assert_eq!(
        f.sources.first().map(ToString::to_string).as_deref(),
        Some("r6-file-closed-before-file-opening")
    );
    assert!(
        unique.passed() && r_checks(&unique).is_empty(),
        "{}",
        text(&unique)
    );
}

/// R10: a receiver that handles one request at a time and processes a FileClosed
/// before answering keeps the next FileOpening waiting; a threaded one does not.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn head_of_line_blocking_is_r10() {
    let hold = Duration::from_millis(800);
    let slow_after = Duration::from_millis(300);
    let run = |bug| async move {
        let rx = Receiver::start(bug).await;
        rx.probe()
            .slow_after(slow_after)
            .run(Scenario::Probe)
            .await
            .unwrap()
    };
    let (single, threaded) = tokio::join!(run(Bug::SingleThreaded(hold)), run(Bug::HoldFileClosed(hold)));
    let id = brhook::testkit::catalog::Check::R10;

    assert_eq!(r_checks(&single), ["R2", "R10"], "{}", text(&single));
    assert_eq!(single.status(id), Some(Status::Warned));
    let f = single.findings_of(id).next().unwrap();
    assert_eq!(f.level, Level::Warn);
    assert!(
        f.message
            .starts_with("FileOpening (file 2, beside file 1's FileClosed) waited for FileClosed (file 1)"),
        "{}",
        f.message
    );
    assert!(f.measured && f.found.as_deref().unwrap().contains("sent alone after"));
    let cmd = f.reproduce.as_deref().unwrap();
    assert!(
        cmd.contains(" & sleep 0.025; curl ") && cmd.ends_with("; wait"),
        "{cmd}"
    );

    // Slow FileClosed answers are R2's; nothing waited for them.
    assert_eq!(r_checks(&threaded), ["R2"], "{}", text(&threaded));
    assert_eq!(threaded.status(id), Some(Status::Passed));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn findings_name_case_answer_body_and_curl() {
    let rx = Receiver::start(Bug::ClosedEnum).await;
    let r = rx.probe().run(Scenario::Probe).await.unwrap();
    let f = r
        .findings_of(brhook::testkit::catalog::Check::R3)
        .next()
        .expect("an R3 finding");
    assert_eq!(
        f.sources.first().map(ToString::to_string).as_deref(),
        Some("r3-unknown-event-type")
    );
    assert_eq!(f.urls.first().map(String::as_str), Some(rx.url("/v2").as_str()));
    assert!(f.message.contains("422 Unprocessable Entity"), "{}", f.message);
    assert!(f.message.contains("3 attempts"), "{}", f.message);
    assert_eq!(f.answer.as_ref().map(|a| a.status), Some(422));
    // The body is shown once: in the command that reproduces the answer.
    let cmd = f.reproduce.as_deref().unwrap();
    assert!(cmd.starts_with("curl -sS -i -X POST -H 'Content-Type: application/json' -H 'User-Agent: BililiveRecorder/2.17.3' --data-binary '{"));
    assert!(cmd.contains("\"EventType\":\"RoomInfoChanged\""));
    let shown = text(&r);
    assert_eq!(
        shown.matches("\"EventType\":\"RoomInfoChanged\"").count(),
        1,
        "{shown}"
    );
    assert!(f.found.is_none() && !f.expected.as_deref().unwrap().contains("curl"));
    assert!(f.event.is_some());

    // With saved bodies, the finding names the file and the curl replays the whole case.
    let dir = std::env::temp_dir().join(format!("brhook-send-test-{}", uuid::Uuid::new_v4()));
    let rx = Receiver::start(Bug::OrderStrict).await;
    let run = rx
        .probe()
        .save_bodies(&dir)
        .run_detailed(Scenario::Probe)
        .await
        .unwrap();
    let f = run
        .report
        .findings_of(brhook::testkit::catalog::Check::R6)
        .next()
        .expect("an R6 finding");
    assert_eq!(
        f.sources.first().map(ToString::to_string).as_deref(),
        Some("r6-file-closed-before-file-opening")
    );
    assert!(f.message.contains("409 Conflict"), "{}", f.message);
    let file = dir.join("r6-file-closed-before-file-opening-001-FileClosed-before-its-FileOpening.json");
    assert!(file.exists());
    assert!(f.found.as_deref().unwrap().contains(&file.display().to_string()));
    let cmd = f.reproduce.as_deref().unwrap();
    assert!(cmd.contains("-000-SessionStarted.json'"), "{cmd}");
    assert!(cmd.contains(&format!("@'{}'", file.display())), "{cmd}");
    let saved = std::fs::read_dir(&dir).unwrap().count();
    assert_eq!(saved, run.sent.len());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_slow_receiver_is_a_warning_with_percentiles() {
    let rx = Receiver::start(Bug::Slow(Duration::from_millis(40))).await;
    let r = rx
        .probe()
        .slow_after(Duration::from_millis(15))
        .run(Scenario::Probe)
        .await
        .unwrap();
    assert_eq!(r_checks(&r), ["R2"]);
    assert_eq!(
        r.status(brhook::testkit::catalog::Check::R2),
        Some(Status::Warned)
    );
    assert!(r.passed(), "a warning does not fail the verdict");
    let warn = r
        .findings_of(brhook::testkit::catalog::Check::R2)
        .find(|f| f.level == Level::Warn)
        .unwrap();
    assert!(
        warn.message.contains("took longer than 15.0 ms"),
        "{}",
        warn.message
    );
    assert!(warn.reproduce.as_deref().unwrap().starts_with("curl "));
    // Everything is slow, the FileOpening sent alone too: no head-of-line blocking.
    assert_eq!(
        r.status(brhook::testkit::catalog::Check::R10),
        Some(Status::Skipped)
    );
    assert!(
        reason(&r, "R10").contains("as slow when sent alone"),
        "{}",
        reason(&r, "R10")
    );

    // The default threshold (5 s) is not crossed; strict turns the warning into a failure.
    let quiet = rx.probe().run(Scenario::Probe).await.unwrap();
    assert_eq!(
        quiet.status(brhook::testkit::catalog::Check::R2),
        Some(Status::Passed)
    );
    let strict = rx
        .probe()
        .slow_after(Duration::from_millis(15))
        .strict(true)
        .run(Scenario::Probe)
        .await
        .unwrap();
    assert!(!strict.passed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timeout_is_an_r2_failure() {
    let rx = Receiver::start(Bug::Slow(Duration::from_millis(300))).await;
    let r = Probe::new(rx.url("/v2"))
        .backoff_scale(0.0)
        .timeout(Duration::from_millis(50))
        .run(Scenario::Realistic)
        .await
        .unwrap();
    assert!(r
        .findings_of(brhook::testkit::catalog::Check::R2)
        .any(|f| f.level == Level::Fail && f.message.contains("no answer within")));
    assert!(!r.passed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn skips_say_why() {
    let rx = Receiver::start(Bug::Correct).await;
    let r = Probe::new(rx.url("/v2"))
        .backoff_scale(0.01)
        .run(Scenario::Realistic)
        .await
        .unwrap();
    assert!(r.passed());
    assert_eq!(
        r.status(brhook::testkit::catalog::Check::R1),
        Some(Status::Passed)
    );
    assert_eq!(
        r.status(brhook::testkit::catalog::Check::R9),
        Some(Status::Skipped)
    );
    assert!(reason(&r, "R9").contains("--v1-to"));
    assert_eq!(
        r.status(brhook::testkit::catalog::Check::R3),
        Some(Status::Skipped)
    );
    assert!(reason(&r, "R3").contains("probe"));
    // The realistic scenario is 2.x then 1.3 shape: 10 v2 events, then 8 (1.3 had no
    // stream events), no v1 records.
    assert_eq!(rx.bodies().len(), 18);
}

#[tokio::test]
async fn an_unreachable_receiver_is_one_clear_error() {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", l.local_addr().unwrap());
    drop(l);
    let err = Probe::new(&url).run(Scenario::Probe).await.unwrap_err();
    assert!(matches!(err, SendError::Unreachable { .. }));
    assert_eq!(
        err.to_string(),
        format!("cannot reach {url}: connection refused — is the receiver running?")
    );
    let err = Probe::new("https://example.com/hook")
        .run(Scenario::Probe)
        .await
        .unwrap_err();
    assert!(matches!(err, SendError::BadUrl { .. }), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_replays_its_seed() {
    // Streams are sent at the same time: arrival order is not the point, the bodies are.
    let bodies = |rx: &Receiver| -> Vec<Bytes> {
        let mut b: Vec<Bytes> = rx.bodies().into_iter().map(|(_, b)| b).collect();
        b.sort();
        b
    };
    let mut got = Vec::new();
    for seed in [42, 42, 43] {
        let rx = Receiver::start(Bug::Correct).await;
        let run = rx
            .probe()
            .run_detailed(Scenario::Random {
                seed,
                events: 25,
                exact: true,
            })
            .await
            .unwrap();
        assert!(
            run.report.passed(),
            "{}",
            brhook::testkit::report::text::render(
                &run.report,
                &brhook::testkit::report::text::Style::plain()
            )
        );
        assert!(run.report.subject.contains(&format!("seed {seed}")));
        assert_eq!(run.sent.len(), 25);
        got.push(bodies(&rx));
    }
    assert_eq!(got[0].len(), 25);
    assert_eq!(got[0], got[1], "the same seed sends the same bodies with --exact");
    assert_ne!(got[0], got[2]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn load_reports_throughput_and_percentiles() {
    let rx = Receiver::start(Bug::Correct).await;
    let done = Arc::new(Mutex::new(0));
    let d = Arc::clone(&done);
    let run = rx
        .probe()
        // Workers report concurrently: the count seen last may be one behind, so keep
        // the highest.
        .on_progress(move |n, _| {
            let mut d = d.lock().unwrap();
            *d = (*d).max(n);
        })
        .run_detailed(Scenario::Load {
            events: 300,
            concurrency: 8,
        })
        .await
        .unwrap();
    assert!(run.report.passed());
    let stats = run.load.expect("load stats");
    assert_eq!(stats.events, 300);
    assert_eq!(stats.answers, 300);
    assert!(stats.answers_per_second > 0.0);
    let l = stats.latency.unwrap();
    assert!(l.p50 <= l.p90 && l.p90 <= l.p99 && l.p99 <= l.max);
    assert_eq!(*done.lock().unwrap(), 300);
    assert_eq!(rx.bodies().len(), 300);
    let info = run
        .report
        .findings_of(brhook::testkit::catalog::Check::R2)
        .find(|f| f.message == "load measured")
        .unwrap();
    let found = info.found.as_deref().unwrap();
    assert!(found.contains("answers/s") && found.contains("p99"), "{found}");
}

/// The command line: exit 0 on a good receiver, 1 on a bad one, 2 and one line when
/// nothing listens.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn cli_exit_codes() {
    let good = Receiver::start(Bug::Correct).await;
    let (good_v2, good_v1) = (good.url("/v2"), good.url("/v1"));
    let (code, stdout, _) = common::brhook_async([
        "send",
        "probe",
        "--to",
        &good_v2,
        "--v1-to",
        &good_v1,
        "--backoff-scale",
        "0.01",
    ])
    .await;
    assert_eq!(code, 0, "{stdout}");
    assert!(stdout.contains("r6-file-closed-before-file-opening"), "{stdout}");
    assert!(stdout.contains("brhook PASS"), "{stdout}");

    let bad = Receiver::start(Bug::ClosedEnum).await;
    let bad_v2 = bad.url("/v2");
    let args = [
        "send",
        "probe",
        "--to",
        &bad_v2,
        "--backoff-scale",
        "0.01",
        "--format",
        "json",
    ];
    let (code, stdout, _) = common::brhook_async(args).await;
    assert_eq!(code, 1);
    let json: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(json["verdict"], "fail");

    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/", l.local_addr().unwrap());
    drop(l);
    let (code, _, stderr) = common::brhook_async(["send", "--to", &url]).await;
    assert_eq!(code, 2);
    assert_eq!(
        stderr.trim_end(),
        format!("brhook: cannot reach {url}: connection refused — is the receiver running?")
    );

    let args = [
        "send",
        "random",
        "--to",
        &good_v2,
        "--seed",
        "7",
        "--events",
        "5",
        "--backoff-scale",
        "0",
    ];
    let (code, _, stderr) = common::brhook_async(args).await;
    assert_eq!(code, 0);
    assert!(stderr.contains("seed 7"));

    // R11's settle window: a number of seconds, checked before anything is sent.
    let (code, _, stderr) = common::brhook_async(["send", "--to", &good_v2, "--settle", "5000"]).await;
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("--settle 5000"), "{stderr}");
}

/// Issue 10: `--seed` fixes shapes and values, not ids, so a second run against a
/// receiver that rejects a repeated EventId is not all duplicates; `exact` repeats them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_draws_fresh_ids_unless_exact() {
    for exact in [false, true] {
        let rx = Receiver::start(Bug::EventIdPrimaryKey).await;
        let scenario = Scenario::Random {
            seed: 42,
            events: 30,
            exact,
        };
        let first = rx.probe().run(scenario).await.unwrap();
        assert!(first.passed(), "{}", text(&first));
        let second = rx.probe().run(scenario).await.unwrap();
        assert_eq!(second.passed(), !exact, "exact {exact}: {}", text(&second));
        if exact {
            assert!(second.subject.contains("seed 42 (exact)"));
        }
    }
}

/// JUnit's failure message is one line, the summary; the details are its text.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn junit_failure_message_is_one_line() {
    let r = probe(Bug::RejectSessionEnded).await;
    let xml = brhook::testkit::report::junit::render(&r);
    let at = xml.find("<failure message=\"").expect("a failure") + "<failure message=\"".len();
    let message = &xml[at..at + xml[at..].find('"').unwrap()];
    assert!(
        message.starts_with("R1 every valid event of the six known types, 1.3 and 2.x shape, is answered 2xx — 2 findings: SessionEnded (1.3 shape): answered 500"),
        "{message}"
    );
    assert!(message.ends_with("(and 1 more cause)"), "{message}");
    assert!(!message.contains("curl") && !message.contains("&#10;") && !message.contains('\n'));
    assert!(xml.contains("reproduce: curl"), "the details keep the command");
}

/// The command line: the real back-off is announced for random and load, no progress
/// line when stderr is not a terminal, and --exact only with random.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_announces_the_back_off() {
    let rx = Receiver::start(Bug::Correct).await;
    let url = rx.url("/v2");
    let out = common::brhook_async(["send", "random", "--to", &url, "--seed", "3", "--events", "4"]).await;
    assert_eq!(out.0, 0, "{}", out.2);
    assert!(
        out.2
            .contains("each body the receiver fails can take 3.00 s (3 attempts, after 1.00 s and 2.00 s)")
            && out.2.contains("--backoff-scale 0.01"),
        "{}",
        out.2
    );
    assert!(
        !out.2.contains('\r'),
        "no progress line off a terminal: {:?}",
        out.2
    );

    let url = rx.url("/v2");
    let out = common::brhook_async(["send", "probe", "--to", &url, "--exact"]).await;
    assert_eq!(out.0, 2);
    assert_eq!(
        out.2.trim_end(),
        "brhook: --exact applies to `brhook send random` only"
    );
}

/// Progress is reported for every scenario, not only load: the CLI's progress line
/// counts up to every body sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn progress_counts_every_body() {
    let rx = Receiver::start(Bug::Correct).await;
    for scenario in [
        Scenario::Probe,
        Scenario::Realistic,
        Scenario::Random {
            seed: 5,
            events: 40,
            exact: false,
        },
    ] {
        let seen = Arc::new(Mutex::new((0, 0)));
        let s = Arc::clone(&seen);
        let run = rx
            .probe()
            .on_progress(move |done, total| {
                let mut s = s.lock().unwrap();
                *s = (s.0.max(done), total);
            })
            .run_detailed(scenario)
            .await
            .unwrap();
        let n = run.sent.len();
        assert_eq!(*seen.lock().unwrap(), (n, n), "{}", scenario.name());
    }
}

/// A receiver that rejects the whole 2.x shape fails every 2.x type of the baseline:
/// each is detailed (a root cause is never cut short), and every later 2.x case joins
/// them, so R3–R8 and R10 are skipped, saying why, instead of failing on its account.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_failing_shape_is_one_finding_per_type() {
    let r = probe(Bug::Rejects2x).await;
    assert_eq!(r_checks(&r), ["R1"], "{}", text(&r));
    let r1: Vec<_> = r.findings_of(brhook::testkit::catalog::Check::R1).collect();
    assert_eq!(r1.len(), 6, "{r1:#?}");
    assert!(r1.iter().all(|f| f.message.contains("(2.x shape)")));
    assert!(!r.findings.iter().any(|f| f.message.contains("more bodies")));
    for id in ["R3", "R4", "R5", "R6", "R7", "R8"] {
        assert_eq!(r.status(id.parse().unwrap()), Some(Status::Skipped), "{id}");
        assert!(reason(&r, id).contains("baseline"), "{id}: {}", reason(&r, id));
    }
    // R9's v1 records carry no booleans: answered, passed.
    assert_eq!(
        r.status(brhook::testkit::catalog::Check::R9),
        Some(Status::Passed)
    );
}

/// `brhook check` on a kept `send` journal gives the live run's report: the case
/// structure (baseline, variations, chains, R10's roles, load's stats) is in the journal,
/// and the one journal judge reads it back.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn check_on_a_kept_send_journal_gives_the_same_report() {
    let dir = std::env::temp_dir().join(format!("brhook-send-journal-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let cases: Vec<(&str, Bug, Scenario)> = vec![
        ("order", Bug::OrderStrict, Scenario::Probe),
        ("rejects2x", Bug::Rejects2x, Scenario::Probe),
        (
            "held",
            Bug::HoldFileClosed(Duration::from_millis(400)),
            Scenario::Probe,
        ),
        ("v1", Bug::RejectV1, Scenario::Realistic),
        // R11 from the journal: the refusals and the final reconnect are lines in it.
        ("dies", Bug::CrashAfterFileClosed(2), Scenario::Probe),
        ("sessionless", Bug::KeyErrorSessionId, Scenario::Probe),
        (
            "random",
            Bug::RejectSessionEnded,
            Scenario::Random {
                seed: 3,
                events: 30,
                exact: false,
            },
        ),
        (
            "load",
            Bug::Correct,
            Scenario::Load {
                events: 120,
                concurrency: 4,
            },
        ),
    ];
    for (name, bug, scenario) in cases {
        let rx = Receiver::start(bug).await;
        let kept = dir.join(format!("{name}.jsonl"));
        let live = rx
            .probe()
            .slow_after(Duration::from_millis(300))
            .journal(&kept)
            .run(scenario)
            .await
            .unwrap();
        let path = kept.clone();
        let checked = tokio::task::spawn_blocking(move || {
            let reader = brhook::testkit::journal::Reader::open(&path).unwrap();
            brhook::testkit::judge::judge_journal(
                reader,
                &brhook::testkit::judge::Options::default(),
                None,
                false,
            )
            .unwrap()
            .0
        })
        .await
        .unwrap();
        assert_eq!(
            serde_json::to_value(&live).unwrap(),
            serde_json::to_value(&checked).unwrap(),
            "{name}: check on the kept journal gives the live report"
        );
        assert!(!live.findings.is_empty(), "{name}");
    }
    // The CLI too: `send --journal FILE`, then `check FILE`.
    let rx = Receiver::start(Bug::ClosedEnum).await;
    let kept = dir.join("cli.jsonl");
    let k = kept.to_str().unwrap().to_string();
    let url = rx.url("/v2");
    // Exit 1: the receiver refuses the unknown type.
    let a =
        common::same_report_from_check(&["send", "probe", "--to", &url, "--backoff-scale", "0.01"], &k, 1)
            .await;
    assert!(
        a["subject"].as_str().unwrap().starts_with("probe: "),
        "{}",
        a["subject"]
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Issue 16: a receiver that answers 200 to a FileClosed and then dies (its work on
/// the file failed after the answer) is one R11 finding naming what it answered last;
/// nothing refused while it was down is reported again, under R1 or any other check.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_receiver_that_dies_mid_run_is_one_r11() {
    use brhook::testkit::catalog::Check;
    let r = probe(Bug::CrashAfterFileClosed(2)).await;
    assert_eq!(r_checks(&r), ["R11"], "{}", text(&r));
    let r11: Vec<_> = r.findings_of(Check::R11).collect();
    assert_eq!(r11.len(), 1, "{r11:#?}");
    let m = &r11[0].message;
    assert!(
        m.contains("during the run") && m.contains("answered 200 to FileClosed"),
        "{m}"
    );
    assert!(m.contains("connection refused from"), "{m}");
    let found = r11[0].found.as_deref().unwrap();
    assert!(found.contains("refused because it was down"), "{found}");
    assert!(!r
        .findings
        .iter()
        .any(|f| f.check == Check::R1 && f.level > Level::Info));
    // R10's case is sent after every other: all of it refused, so skipped, saying why.
    assert_eq!(r.status(Check::R10), Some(Status::Skipped));
    assert!(
        r.checks
            .iter()
            .any(|c| c.reason.as_ref().is_some_and(|w| w.to_string().contains("R11"))),
        "{}",
        text(&r)
    );
}

/// Issue 16: a receiver that dies after the run, when its last answer is long sent,
/// is caught by the reconnect after the settle window; one that stays up passes R11.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_receiver_that_dies_after_the_run_fails_the_final_reconnect() {
    use brhook::testkit::catalog::Check;
    let rx = Receiver::start(Bug::CrashWhenIdle(Duration::from_millis(1500))).await;
    let r = rx
        .probe()
        .settle(Duration::from_secs(4))
        .run(Scenario::Realistic)
        .await
        .unwrap();
    assert_eq!(r_checks(&r), ["R11"], "{}", text(&r));
    let r11: Vec<_> = r.findings_of(Check::R11).collect();
    assert_eq!(r11.len(), 1, "{r11:#?}");
    assert!(
        r11[0].message.contains("after the run") && r11[0].message.contains("4.00 s after the last answer"),
        "{}",
        r11[0].message
    );
    assert!(r11[0].message.contains("answered 200 to"), "{}", r11[0].message);
    // Quiet: a receiver that stays up.
    let r = probe(Bug::Correct).await;
    assert_eq!(r.status(Check::R11), Some(Status::Passed), "{}", text(&r));
}

/// Issue 16: a check passes only on an answer to a body that exercises it. A receiver
/// that refuses every FileClosed answers R5's setup (SessionStarted, FileOpening) but
/// refuses its retry, as the baseline's FileClosed: R5 is skipped, not passed.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_check_whose_bodies_were_all_refused_is_skipped() {
    use brhook::testkit::catalog::Check;
    let r = probe(Bug::RejectFileClosed).await;
    assert_eq!(r_checks(&r), ["R1"], "{}", text(&r));
    assert_eq!(r.status(Check::R5), Some(Status::Skipped), "{}", text(&r));
    assert!(reason(&r, "R5").contains("baseline"), "{}", reason(&r, "R5"));
    // R6's FileOpening before the previous FileClosed was answered: R6 passed.
    assert_eq!(r.status(Check::R6), Some(Status::Passed), "{}", text(&r));
}
