//! No pass on nothing (issue 17): F3 passes only when a delay URL was seen holding an
//! event another URL received meanwhile; S3 only when an unknown type arrived; D6's
//! skip names the failing URL that got no retry.

mod common;
use brhook::testkit::catalog::Check;
use brhook::testkit::demo::Demo;
use brhook::testkit::judge::{judge, Options};
use brhook::testkit::reference::Mutant;
use brhook::{Report, Status};
use common::journal::{journal, post};

fn body() -> Vec<u8> {
    std::fs::read("tests/fixtures/doc/SessionStarted.json").unwrap()
}

fn reason(r: &Report, c: Check) -> (Status, String) {
    let c = r.checks.iter().find(|x| x.id == c).unwrap();
    (
        c.status,
        c.reason.as_ref().map(ToString::to_string).unwrap_or_default(),
    )
}

/// One event to `slow=delay:300` and `plain`, each URL's (arrival, answer) given.
fn two_urls(slow_first: bool, slow: (f64, f64), plain: (f64, f64)) -> Report {
    let s = post(1, Some("slow"), slow.0, body(), Some(204), slow.1);
    let p = post(2, Some("plain"), plain.0, body(), Some(204), plain.1);
    let urls: &[(&str, &str)] = if slow_first {
        &[("slow", "delay:300"), ("plain", "ok")]
    } else {
        &[("plain", "ok"), ("slow", "delay:300")]
    };
    judge(&journal(urls, vec![s, p], 2000.0), &Options::default())
}

#[test]
fn f3_sequential_with_the_delay_url_first_fails() {
    // slow held 0–300 ms, plain only after it.
    let r = two_urls(true, (0.0, 300.0), (301.0, 301.5));
    assert_eq!(r.status(Check::F3), Some(Status::Failed));
}

#[test]
fn f3_sequential_with_the_delay_url_last_is_skipped_with_the_fix() {
    // plain first and answered at once, then slow: nothing was due while slow held.
    let r = two_urls(false, (1.0, 301.0), (0.0, 0.5));
    let (status, why) = reason(&r, Check::F3);
    assert_eq!(status, Status::Skipped, "never passed: {why}");
    assert!(why.contains("slow=delay:300"), "{why}");
    assert!(
        why.contains("put a delay URL first") && why.contains("second delay URL"),
        "{why}"
    );
    assert!(r.passed(), "a skip is no failure");
}

#[test]
fn f3_passes_when_another_url_got_the_event_while_the_delay_url_held_it() {
    let r = two_urls(true, (0.0, 300.0), (2.0, 2.5));
    assert_eq!(r.status(Check::F3), Some(Status::Passed));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn f3_with_the_reference_senders_and_a_delay_url_at_each_end() {
    // The demo's set-up: slow first, slow2 last. The faithful sender shows F3 and passes
    // it; the sequential one fails it whichever end it starts from.
    let (faithful, _) = Demo::fast(None).judge().await.unwrap();
    assert_eq!(
        faithful.status(Check::F3),
        Some(Status::Passed),
        "{:?}",
        faithful.checks
    );
    assert!(faithful.findings_of(Check::F3).next().is_none());
    let mut seq = Demo::fast(Some(Mutant::Sequential));
    let (first, _) = seq.judge().await.unwrap();
    assert_eq!(first.status(Check::F3), Some(Status::Failed));
    seq.v2.reverse();
    let (last, _) = seq.judge().await.unwrap();
    assert_eq!(last.status(Check::F3), Some(Status::Failed));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn f3_the_faithful_sender_with_one_delay_url_last_stays_quiet() {
    let mut d = Demo::fast(None);
    d.v2 = vec![
        common::journal::url("plain", "ok"),
        common::journal::url("slow", "delay:300"),
    ];
    let (r, _) = d.judge().await.unwrap();
    // Concurrent: passed or (if slow always came last) skipped; never failed.
    assert_ne!(r.status(Check::F3), Some(Status::Failed), "{:?}", r.checks);
    assert!(r.findings_of(Check::F3).next().is_none());
}

#[test]
fn s3_is_skipped_when_no_unknown_type_arrived_and_runs_when_one_did() {
    let r = judge(
        &journal(
            &[("a", "ok")],
            vec![post(1, Some("a"), 0.0, body(), Some(204), 1.0)],
            2000.0,
        ),
        &Options::default(),
    );
    let (status, why) = reason(&r, Check::S3);
    assert_eq!(status, Status::Skipped);
    assert!(why.contains("unknown EventType"), "{why}");

    let text = String::from_utf8(body())
        .unwrap()
        .replace("\"SessionStarted\"", "\"FutureEvent\"");
    let r = judge(
        &journal(
            &[("a", "ok")],
            vec![post(1, Some("a"), 0.0, text.into_bytes(), Some(204), 1.0)],
            2000.0,
        ),
        &Options::default(),
    );
    assert_eq!(r.status(Check::S3), Some(Status::Passed));
    assert!(
        r.findings_of(Check::S3).next().is_some(),
        "the info finding names the type"
    );
}

#[test]
fn validate_skips_s3_on_known_types_only() {
    let input = brhook::testkit::validate::Input {
        source: "a.json".into(),
        bytes: body(),
        truncated_at: None,
    };
    let r = brhook::testkit::validate::validate(&[input], false);
    assert_eq!(r.status(Check::S3), Some(Status::Skipped));
}

#[test]
fn d6_names_the_failing_url_that_got_no_retry() {
    // b=fail:2 answered 500 once and the sender never came back.
    let reqs = vec![
        post(1, Some("a"), 0.0, body(), Some(204), 1.0),
        post(2, Some("b"), 0.0, body(), Some(500), 1.0),
    ];
    let r = judge(
        &journal(&[("a", "ok"), ("b", "fail:2")], reqs, 5000.0),
        &Options::default(),
    );
    assert_eq!(r.status(Check::D2), Some(Status::Failed));
    let (status, why) = reason(&r, Check::D6);
    assert_eq!(status, Status::Skipped);
    assert!(why.contains("b=fail:2") && !why.contains("add a URL"), "{why}");
}

fn doc(name: &str) -> Vec<u8> {
    std::fs::read(format!("tests/fixtures/doc/{name}.json")).unwrap()
}

#[test]
fn d1_runs_only_where_three_attempts_failed_and_d3_only_on_a_retry() {
    // One attempt, answered: nothing to count or compare.
    let one = vec![post(1, Some("a"), 0.0, body(), Some(204), 1.0)];
    let r = judge(&journal(&[("a", "ok")], one, 2000.0), &Options::default());
    assert_eq!(r.status(Check::D1), Some(Status::Skipped));
    assert_eq!(r.status(Check::D3), Some(Status::Skipped));
    // fail:2: retried and delivered on the third; the sender never had to stop.
    let three = |last: u16| {
        vec![
            post(1, Some("a"), 0.0, body(), Some(500), 1.0),
            post(2, Some("a"), 1001.0, body(), Some(500), 1002.0),
            post(3, Some("a"), 3002.0, body(), Some(last), 3003.0),
        ]
    };
    let r = judge(
        &journal(&[("a", "fail:2")], three(204), 9000.0),
        &Options::default(),
    );
    let (status, why) = reason(&r, Check::D1);
    assert_eq!(status, Status::Skipped);
    assert!(why.contains("status:500"), "{why}");
    assert_eq!(r.status(Check::D3), Some(Status::Passed));
    // Three failures, then it stopped: D1 shown and passed.
    let r = judge(
        &journal(&[("a", "status:500")], three(500), 9000.0),
        &Options::default(),
    );
    assert_eq!(r.status(Check::D1), Some(Status::Passed));
}

#[test]
fn c1_c3_c5_need_a_boundary_a_closed_file_and_two_events_of_a_session() {
    let opening = vec![post(1, Some("a"), 0.0, doc("FileOpening"), Some(204), 1.0)];
    let r = judge(&journal(&[("a", "ok")], opening, 2000.0), &Options::default());
    for c in [Check::C1, Check::C3, Check::C5] {
        assert_eq!(r.status(c), Some(Status::Skipped), "{c}");
    }
    assert_eq!(r.status(Check::C2), Some(Status::Passed), "a session was seen");
    let whole = ["SessionStarted", "FileOpening", "FileClosed", "SessionEnded"]
        .iter()
        .enumerate()
        .map(|(i, n)| {
            post(
                i as u64 + 1,
                Some("a"),
                i as f64 * 10.0,
                doc(n),
                Some(204),
                i as f64 * 10.0 + 1.0,
            )
        })
        .collect();
    let r = judge(&journal(&[("a", "ok")], whole, 2000.0), &Options::default());
    for c in [Check::C1, Check::C3, Check::C5] {
        assert_eq!(r.status(c), Some(Status::Passed), "{c}");
    }
}
