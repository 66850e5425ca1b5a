//! `brhook replay`: a capture from the reference sender (through brhook's endpoint) sent
//! again to small receivers. Each event once per target, bytes unchanged but for ids,
//! R checks that trip on a buggy receiver and stay quiet on a good one.

mod common;

use brhook::testkit::catalog::{Check, Level};
use brhook::testkit::demo::Demo;
use brhook::testkit::gen::{self, Room};
use brhook::testkit::journal::Journal;
use brhook::testkit::receiver::replay::{Replay, ReplayRun, Speed};
use brhook::testkit::report::{Skip, Status};
use bytes::Bytes;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use uuid::Uuid;

use common::receivers::{Bug, Receiver};
use common::{brhook_async as cli, dir};

/// A capture of the reference sender's realistic recording (retries at a flaky URL,
/// copies at four URLs, v1 records), through brhook's endpoint.
async fn capture(test: &str) -> PathBuf {
    let path = dir(test).join("capture.jsonl");
    let (report, _) = Demo {
        journal: Some(path.clone()),
        ..Demo::fast(None)
    }
    .judge()
    .await
    .expect("the demo runs");
    report.assert_pass();
    path
}

/// The first captured body of each event, by identity, v2 and v1 apart.
fn events(path: &Path) -> (Vec<Vec<u8>>, Vec<Vec<u8>>) {
    let j = Journal::read(path).unwrap();
    let (mut v2, mut v1, mut seen) = (Vec::new(), Vec::new(), std::collections::HashSet::new());
    for r in j.requests {
        if seen.insert(brhook::testkit::body::identity(&r.body)) {
            let v: Value = serde_json::from_slice(&r.body).unwrap();
            if v.get("EventType").is_some() {
                v2.push(r.body);
            } else {
                v1.push(r.body);
            }
        }
    }
    (v2, v1)
}

/// The id values a body carries: EventId / EventRandomId and SessionId.
fn ids(body: &[u8]) -> (String, Option<String>) {
    let v: Value = serde_json::from_slice(body).unwrap();
    let own = v
        .get("EventId")
        .or(v.get("EventRandomId"))
        .and_then(Value::as_str)
        .unwrap()
        .to_string();
    let session = v["EventData"]
        .get("SessionId")
        .and_then(Value::as_str)
        .map(String::from);
    (own, session)
}

/// The body with its id values blanked: what must not change in a replay.
fn masked(body: &[u8]) -> Vec<u8> {
    let (own, session) = ids(body);
    let mut text = String::from_utf8(body.to_vec()).unwrap();
    for id in std::iter::once(own).chain(session) {
        text = text.replace(&format!("\"{id}\""), &format!("\"{}\"", "#".repeat(36)));
    }
    text.into_bytes()
}

async fn replay(r: Replay) -> ReplayRun {
    r.backoff_scale(0.01)
        .speed(Speed::Max)
        .run()
        .await
        .expect("the replay runs")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_event_arrives_once_per_target_with_only_its_ids_changed() {
    let journal = capture("good").await;
    let (v2, v1) = events(&journal);
    assert!(
        v2.len() >= 8 && !v1.is_empty(),
        "the capture has events and v1 records"
    );
    let rx = Receiver::start(Bug::Correct).await;
    let run = replay(
        Replay::new(&journal, rx.url("/a"))
            .to(rx.url("/b"))
            .v1(rx.url("/v1")),
    )
    .await;
    run.report.assert_pass();
    assert_eq!(run.events as usize, v2.len() + v1.len());
    assert!(
        run.tally.repeats > 0,
        "retries and copies at other URLs were dropped"
    );
    for c in [Check::R1, Check::R2, Check::R9] {
        assert_eq!(run.report.status(c), Some(Status::Passed), "{c}");
    }
    assert_eq!(
        run.report.status(Check::R3),
        Some(Status::Skipped),
        "the capture has no unknown type"
    );

    let originals: HashMap<Vec<u8>, &Vec<u8>> = v2.iter().chain(&v1).map(|b| (masked(b), b)).collect();
    assert_eq!(
        originals.len(),
        v2.len() + v1.len(),
        "each event is told apart by its bytes"
    );
    let mut sessions: BTreeMap<String, String> = BTreeMap::new();
    for (path, count) in [("/a", v2.len()), ("/b", v2.len()), ("/v1", v1.len())] {
        let hits = rx.hits(path);
        assert_eq!(hits.len(), count, "{path}: each event exactly once");
        let mut matched = std::collections::HashSet::new();
        for (body, _) in &hits {
            let original = originals
                .get(&masked(body))
                .expect("the captured bytes, ids aside");
            assert!(matched.insert(masked(body)), "{path}: no event twice");
            let ((o_id, o_session), (n_id, n_session)) = (ids(original), ids(body));
            assert_ne!(o_id, n_id, "a fresh id");
            assert_eq!(o_id.len(), n_id.len());
            if let (Some(o), Some(n)) = (o_session, n_session) {
                assert_ne!(o, n);
                let prev = sessions.entry(o).or_insert(n.clone());
                assert_eq!(*prev, n, "one captured session, one fresh SessionId");
            }
        }
    }
    assert!(!sessions.is_empty());
    let fresh: std::collections::HashSet<_> = sessions.values().collect();
    assert_eq!(fresh.len(), sessions.len(), "two sessions never share a fresh id");
    let _ = std::fs::remove_dir_all(journal.parent().unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn original_ids_are_kept_byte_for_byte_and_retries_carry_the_same_fresh_id() {
    let journal = capture("ids").await;
    let (v2, _) = events(&journal);
    let rx = Receiver::start(Bug::Correct).await;
    replay(Replay::new(&journal, rx.url("/a")).original_ids(true))
        .await
        .report
        .assert_pass();
    let mut got: Vec<Vec<u8>> = rx.hits("/a").into_iter().map(|h| h.0.to_vec()).collect();
    let mut want = v2.clone();
    got.sort();
    want.sort();
    assert_eq!(got, want, "the captured bytes, exactly");

    // A receiver that fails each first attempt: the retry carries the same fresh id.
    let flaky = Receiver::start(Bug::FirstAttempt500).await;
    let run = replay(Replay::new(&journal, flaky.url("/a"))).await;
    assert!(
        run.report.occurrences(Check::R1, Level::Fail) > 0,
        "a first answer of 500 is R1"
    );
    let hits = flaky.hits("/a");
    assert_eq!(
        hits.len(),
        2 * v2.len(),
        "each event: a failed attempt, then its retry"
    );
    let mut per_id: HashMap<String, Vec<Bytes>> = HashMap::new();
    for (b, _) in hits {
        per_id.entry(ids(&b).0).or_default().push(b);
    }
    assert_eq!(per_id.len(), v2.len());
    let captured: std::collections::HashSet<String> = v2.iter().map(|b| ids(b).0).collect();
    for (id, bodies) in per_id {
        assert!(!captured.contains(&id), "fresh");
        assert_eq!(bodies.len(), 2);
        assert_eq!(bodies[0], bodies[1], "the retry is the same bytes");
    }
    let _ = std::fs::remove_dir_all(journal.parent().unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_500_on_session_ended_is_one_r1_group_and_v1_without_url_is_skipped() {
    let journal = capture("bug").await;
    let (v2, _) = events(&journal);
    let ended = v2
        .iter()
        .filter(|b| ids(b).1.is_some() && String::from_utf8_lossy(b).contains("\"SessionEnded\""))
        .count();
    let rx = Receiver::start(Bug::RejectSessionEnded).await;
    let run = replay(Replay::new(&journal, rx.url("/a"))).await;
    let r1: Vec<_> = run
        .report
        .groups
        .iter()
        .filter(|g| g.check == Check::R1 && g.level == Level::Fail)
        .collect();
    assert_eq!(r1.len(), 1, "one cause, one group: {}", run.report.to_json());
    assert_eq!(r1[0].count as usize, ended);
    assert!(r1[0].message.contains("SessionEnded"), "{}", r1[0].message);
    assert!(
        r1[0].examples[0].found.as_deref().unwrap_or("").contains("500"),
        "{:?}",
        r1[0].examples[0]
    );
    let example = &r1[0].examples[0];
    let cmd = example.reproduce.as_deref().unwrap_or("");
    assert!(
        cmd.starts_with("curl ") && cmd.contains("\"SessionEnded\"") && cmd.contains("/a"),
        "{cmd}"
    );
    assert_eq!(example.answer.as_ref().map(|a| a.status), Some(500));
    assert!(!run.report.passed());
    assert!(rx.hits("/v1").is_empty());
    let r9 = run.report.checks.iter().find(|c| c.id == Check::R9).unwrap();
    assert_eq!(
        (r9.status, r9.reason.clone()),
        (Status::Skipped, Some(Skip::NoV1Url))
    );
    let _ = std::fs::remove_dir_all(journal.parent().unwrap());
}

/// A journal of v2 bodies arriving at these times (ms): SessionStarted events, with an
/// unknown type and a body that breaks the protocol where asked.
fn crafted(test: &str, at_ms: &[f64], unknown: bool, invalid: bool) -> PathBuf {
    let room = Room::doc_example();
    let ts = gen::parse_time("2021-05-14T17:52:44.4960899+08:00");
    let mut j = common::journal::journal_a();
    let mut seq = 0;
    let mut push = |body: Vec<u8>, at: f64| {
        seq += 1;
        j.requests.push(common::journal::request(seq, at, body, 204));
    };
    for &at in at_ms {
        push(
            gen::serialize(&gen::session_started(
                &room,
                Uuid::new_v4(),
                ts,
                Uuid::new_v4(),
                true,
            )),
            at,
        );
    }
    let last = at_ms.last().copied().unwrap_or(0.0);
    if unknown {
        push(
            gen::serialize(&gen::unknown_event(
                "RoomInfoChanged",
                &room,
                ts,
                Uuid::new_v4(),
                None,
            )),
            last + 1.0,
        );
    }
    if invalid {
        let mut v = gen::session_started(&room, Uuid::new_v4(), ts, Uuid::new_v4(), true);
        v["EventData"]["RoomId"] = "23058".into();
        push(gen::serialize(&v), last + 2.0);
    }
    let path = dir(test).join("crafted.jsonl");
    j.write(&path).unwrap();
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_types_are_r3_and_invalid_captured_bodies_are_not_judged() {
    let journal = crafted("r3", &[0.0, 1.0], true, true);
    let closed = Receiver::start(Bug::ClosedEnum).await;
    let run = replay(Replay::new(&journal, closed.url("/a"))).await;
    assert_eq!(
        run.report.tripped(Level::Warn),
        vec![Check::R3],
        "{}",
        run.report.to_json()
    );
    let good = Receiver::start(Bug::Correct).await;
    let run = replay(Replay::new(&journal, good.url("/a"))).await;
    run.report.assert_pass();
    assert_eq!(run.report.status(Check::R3), Some(Status::Passed));
    assert_eq!(run.tally.invalid, 1);
    assert!(
        run.report
            .findings_of(Check::R1)
            .any(|f| f.level == Level::Info && f.message.contains("not judged")),
        "the invalid body is sent but its answer not judged"
    );
    let _ = std::fs::remove_dir_all(journal.parent().unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_answers_are_r2() {
    // 500 ms apart at ×2, each held 300 ms: slow, never overlapping (so no R10).
    let journal = crafted("r2", &[0.0, 1000.0, 2000.0], false, false);
    let run_at = |url: String| {
        let r = Replay::new(&journal, url)
            .slow_after(Duration::from_millis(100))
            .speed(Speed::Factor(2.0));
        async move { r.run().await }
    };
    let slow = Receiver::start(Bug::Slow(Duration::from_millis(300))).await;
    let run = run_at(slow.url("/a")).await.unwrap();
    assert_eq!(run.report.tripped(Level::Warn), vec![Check::R2]);
    assert_eq!(run.report.occurrences(Check::R2, Level::Warn), 3);
    let fast = Receiver::start(Bug::Correct).await;
    let run = run_at(fast.url("/a")).await.unwrap();
    assert!(
        run.report.tripped(Level::Warn).is_empty(),
        "{}",
        run.report.to_json()
    );
    assert!(run.latency.is_some_and(|l| l.answers == 3));
    let _ = std::fs::remove_dir_all(journal.parent().unwrap());
}

/// The span from the first arrival to the last.
fn span(hits: &[(Bytes, Instant)]) -> Duration {
    let first = hits.iter().map(|h| h.1).min().unwrap();
    let last = hits.iter().map(|h| h.1).max().unwrap();
    last - first
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn speed_divides_the_captured_gaps() {
    // Four events 800 ms apart: 2.4 s as captured.
    let journal = crafted("speed", &[0.0, 800.0, 1600.0, 2400.0], false, false);
    let mut spans = Vec::new();
    for speed in [Speed::Factor(2.0), Speed::Factor(8.0), Speed::Max] {
        let rx = Receiver::start(Bug::Correct).await;
        Replay::new(&journal, rx.url("/a"))
            .speed(speed)
            .run()
            .await
            .unwrap()
            .report
            .assert_pass();
        let hits = rx.hits("/a");
        assert_eq!(hits.len(), 4);
        let mut at: Vec<Instant> = hits.iter().map(|h| h.1).collect();
        at.sort();
        spans.push((span(&hits), at));
    }
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let (x2, x8, max) = (ms(spans[0].0), ms(spans[1].0), ms(spans[2].0));
    // Never early (a small allowance for the receiver's clock); late only by noise.
    assert!((1150.0..2400.0).contains(&x2), "×2: {x2} ms, expected 1200");
    for w in spans[0].1.windows(2) {
        assert!(
            ms(w[1] - w[0]) >= 350.0,
            "×2: each gap about 400 ms: {:?}",
            ms(w[1] - w[0])
        );
    }
    assert!((270.0..1200.0).contains(&x8), "×8: {x8} ms, expected 300");
    assert!(x2 / x8 > 1.8, "×2 takes longer than ×8: {x2} / {x8}");
    assert!(max < 600.0, "max: no waiting (2400 ms as captured), {max} ms");
    let _ = std::fs::remove_dir_all(journal.parent().unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lines_written_out_of_arrival_order_are_sent_in_arrival_order() {
    // A journal line is written when its answer is released: a held event comes later.
    let journal = crafted("reorder", &[0.0, 900.0, 300.0, 600.0], false, false);
    let captured: Vec<(f64, String)> = Journal::read(&journal)
        .unwrap()
        .requests
        .iter()
        .map(|r| (r.at_ms, ids(&r.body).0))
        .collect();
    let rx = Receiver::start(Bug::Correct).await;
    Replay::new(&journal, rx.url("/a"))
        .speed(Speed::Factor(2.0))
        .original_ids(true)
        .run()
        .await
        .unwrap()
        .report
        .assert_pass();
    let mut hits = rx.hits("/a");
    hits.sort_by_key(|h| h.1);
    let got: Vec<String> = hits.iter().map(|h| ids(&h.0).0).collect();
    let mut want = captured.clone();
    want.sort_by(|a, b| a.0.total_cmp(&b.0));
    let want: Vec<String> = want.into_iter().map(|c| c.1).collect();
    assert_eq!(got, want, "sent by arrival time, not by line");
    for w in hits.windows(2) {
        let gap = (w[1].1 - w[0].1).as_secs_f64() * 1000.0;
        assert!(gap >= 100.0, "captured 300 ms apart, at ×2 about 150 ms: {gap}");
    }
    let _ = std::fs::remove_dir_all(journal.parent().unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_journal_without_events_fails_instead_of_passing() {
    let journal = crafted("empty", &[], false, false);
    let rx = Receiver::start(Bug::Correct).await;
    let run = replay(Replay::new(&journal, rx.url("/a"))).await;
    assert!(!run.report.passed());
    assert!(run
        .report
        .note
        .as_deref()
        .unwrap_or("")
        .contains("nothing was replayed"));
    assert_eq!(run.report.status(Check::R1), Some(Status::Skipped));
    assert_eq!(rx.total(), 0);
    let _ = std::fs::remove_dir_all(journal.parent().unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_forgives_a_torn_last_line_and_refuses_what_is_not_a_journal() {
    let journal = crafted("cli", &[0.0, 5.0], false, false);
    let rx = Receiver::start(Bug::Correct).await;
    let whole = std::fs::read_to_string(&journal).unwrap();
    std::fs::write(&journal, format!("{whole}{{\"type\":\"request\",\"seq\":9,")).unwrap();
    let p = journal.to_str().unwrap().to_string();
    let args = |extra: &[&str]| {
        let mut a: Vec<String> = ["replay", &p, "--to", &rx.url("/a"), "--backoff-scale", "0.01"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        a.extend(extra.iter().map(|s| s.to_string()));
        a
    };
    let (code, out, err) = cli(args(&["--speed", "max", "--format", "json"])).await;
    assert_eq!(code, 0, "a torn last line is forgiven: {err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["verdict"], "pass");
    assert_eq!(rx.hits("/a").len(), 2);

    let (code, _, err) = cli(args(&["--speed", "0"])).await;
    assert_eq!(code, 2);
    assert!(err.contains("--speed 0") && err.contains("max"), "{err}");

    // A bad line in the middle: one error, nothing sent.
    let mut lines: Vec<&str> = whole.lines().collect();
    lines.insert(2, "{\"type\":\"request\",\"seq\":");
    std::fs::write(&journal, lines.join("\n") + "\n").unwrap();
    let before = rx.total();
    let (code, _, err) = cli(args(&[])).await;
    assert_eq!((code, err.lines().count()), (2, 1), "{err}");
    assert!(err.contains("line 3: not a brhook journal line"), "{err}");
    assert_eq!(rx.total(), before, "nothing was sent");

    // Nothing listening: one line, exit 2, before the journal's events are read.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}/hook", l.local_addr().unwrap())
    };
    let (code, _, err) = cli(vec!["replay".into(), p.clone(), "--to".into(), closed]).await;
    assert_eq!((code, err.lines().count()), (2, 1), "{err}");
    assert!(
        err.contains("cannot reach") && err.contains("is the receiver running?"),
        "{err}"
    );

    for (file, says) in [
        (
            "tests/fixtures/doc/SessionStarted.json",
            "is a webhook body, not a journal",
        ),
        ("/nonexistent/capture.jsonl", "cannot read journal"),
    ] {
        let (code, _, err) = cli(vec!["replay".into(), file.into(), "--to".into(), rx.url("/a")]).await;
        assert_eq!((code, err.lines().count()), (2, 1), "{file}: {err}");
        assert!(err.starts_with("brhook: ") && err.contains(says), "{file}: {err}");
    }
    let _ = std::fs::remove_dir_all(journal.parent().unwrap());
}

/// A FileClosed, then SessionStarted events 100 ms apart while it may still be held,
/// and two more 2 s in, when nothing is held: the receiver's time for the type alone.
fn file_closed_then_more(test: &str) -> PathBuf {
    let room = Room::doc_example();
    let ts = gen::parse_time("2021-05-14T17:52:44.4960899+08:00");
    let mut j = common::journal::journal_a();
    let closed = gen::file_closed(
        &room,
        Uuid::new_v4(),
        &gen::File::doc_example(),
        ts,
        Uuid::new_v4(),
        true,
    );
    j.requests
        .push(common::journal::request(1, 0.0, gen::serialize(&closed), 204));
    for (i, at) in [100.0, 200.0, 300.0, 2_000.0, 2_100.0].into_iter().enumerate() {
        let v = gen::session_started(&room, Uuid::new_v4(), ts, Uuid::new_v4(), true);
        j.requests.push(common::journal::request(
            i as u64 + 2,
            at,
            gen::serialize(&v),
            204,
        ));
    }
    let path = dir(test).join("file-closed.jsonl");
    j.write(&path).unwrap();
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receiver_answering_one_request_at_a_time_is_r10() {
    let journal = file_closed_then_more("r10");
    let run_at = |url: String| {
        let r = Replay::new(&journal, url)
            .slow_after(Duration::from_millis(300))
            .backoff_scale(0.01);
        async move { r.run().await }
    };
    let serial = Receiver::start(Bug::SingleThreaded(Duration::from_secs(1))).await;
    let run = run_at(serial.url("/a")).await.unwrap();
    assert!(
        run.report.occurrences(Check::R10, Level::Warn) >= 1,
        "the events behind the held FileClosed waited: {}",
        run.report.to_json()
    );
    let threaded = Receiver::start(Bug::HoldFileClosed(Duration::from_secs(1))).await;
    let run = run_at(threaded.url("/a")).await.unwrap();
    assert_eq!(
        run.report.status(Check::R10),
        Some(Status::Passed),
        "{}",
        run.report.to_json()
    );
    assert_eq!(
        run.report.tripped(Level::Warn),
        vec![Check::R2],
        "the held FileClosed is slow"
    );
    let _ = std::fs::remove_dir_all(journal.parent().unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sender_side_is_not_exercised_and_check_gives_the_same_report() {
    let journal = crafted("check", &[0.0, 1.0], true, false);
    let rx = Receiver::start(Bug::ClosedEnum).await;
    let kept = journal.with_file_name("replayed.jsonl");
    let p = journal.to_str().unwrap().to_string();
    let k = kept.to_str().unwrap().to_string();
    let to = rx.url("/a");
    let replay = [
        "replay",
        &p,
        "--to",
        &to,
        "--speed",
        "max",
        "--backoff-scale",
        "0.01",
    ];
    // Exit 1: the receiver refuses the unknown type.
    let a = common::same_report_from_check(&replay, &k, 1).await;
    assert!(
        a["subject"].as_str().unwrap().starts_with("replay of "),
        "{}",
        a["subject"]
    );
    for c in a["checks"].as_array().unwrap() {
        let id = c["id"].as_str().unwrap();
        if !id.starts_with('R') {
            assert_eq!(
                (c["status"].as_str(), c["reason"].as_str()),
                (Some("skipped"), Some(Skip::NotExercised.to_string().as_str())),
                "{id}: brhook is the sender in a replay"
            );
        }
    }
    assert_eq!(
        a["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == "R3")
            .unwrap()["status"],
        "failed"
    );
    // The replay's journal never goes over the capture it reads.
    let over = vec![
        "replay".into(),
        p.clone(),
        "--to".into(),
        rx.url("/a"),
        "--journal".into(),
        p.clone(),
    ];
    let (code, _, err) = cli(over).await;
    assert_eq!((code, err.lines().count()), (2, 1), "{err}");
    assert!(err.contains("is the capture being replayed"), "{err}");
    assert!(Journal::read(&journal).is_ok(), "the capture is intact");
    let _ = std::fs::remove_dir_all(journal.parent().unwrap());
}

/// Issue 16: identical replays of one capture judge R6 the same way (events sent the
/// same moment are in no order), and replay's texts say what replay did.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identical_replays_judge_r6_alike_in_replay_s_own_words() {
    let journal = capture("r6-alike").await;
    let rx = Receiver::start(Bug::OrderStrict).await;
    let mut seen = Vec::new();
    for _ in 0..4 {
        let run = replay(Replay::new(&journal, rx.url("/a")).v1(rx.url("/v1"))).await;
        let r = &run.report;
        seen.push(r.status(Check::R6));
        for c in &r.checks {
            let why = c.reason.as_ref().map(ToString::to_string).unwrap_or_default();
            assert!(!why.contains("forwarded"), "{}: {why}", c.id);
        }
        assert!(!r.findings.iter().any(|f| f.message.contains("502")));
        // Every refusal names its event type.
        for f in r.findings.iter().filter(|f| f.level > Level::Info) {
            assert!(
                ["Session", "File", "Stream", "v1 record", "unknown type"]
                    .iter()
                    .any(|t| f.message.contains(t)),
                "{}",
                f.message
            );
        }
    }
    assert!(seen.windows(2).all(|w| w[0] == w[1]), "{seen:?}");
}
