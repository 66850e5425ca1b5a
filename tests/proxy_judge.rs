//! The receiver-side judge on proxy journals written by hand: each R check real traffic
//! can show trips on the answer it is about and stays quiet on a 2xx, and `brhook
//! check` judges a proxy journal as the library does.

mod common;
use common::text;

use brhook::testkit::catalog::{Check, Level};
use brhook::testkit::journal::{Journal, ProxyMeta, Request, Upstream, UrlSpec};
use brhook::testkit::judge::{judge, Options};
use brhook::testkit::report::{Report, Status};
use serde_json::Value;

fn fixture(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// Compact, raw UTF-8: as the real sender writes it.
fn bytes(v: &Value) -> Vec<u8> {
    serde_json::to_vec(v).unwrap()
}

/// A proxy journal with one v2 URL `a` and one v1 URL `v1`.
fn journal(requests: Vec<Request>) -> Journal {
    let url = |name: &str, setting| UrlSpec {
        name: name.into(),
        fault: brhook::Fault::ok(),
        setting: Some(setting),
        upstream: Some(format!("http://127.0.0.1:9/{name}")),
    };
    let mut j = Journal::new(
        vec![
            url("a", brhook::testkit::journal::Setting::V2),
            url("v1", brhook::testkit::journal::Setting::V1),
        ],
        String::new(),
    );
    j.meta.proxy = Some(ProxyMeta {
        slow_after_ms: 5000.0,
        timeout_ms: 100_000.0,
    });
    j.requests = requests;
    j.closed_ms = Some(100_000.0);
    j.quiet_ms = Some(5000.0);
    j
}

/// A request forwarded to URL `url` at `at_ms`, the receiver answering `status`
/// (relayed as it was).
fn forwarded(seq: u64, at_ms: f64, url: &str, body: Vec<u8>, status: u16) -> Request {
    let mut r = common::journal::request(seq, at_ms, body, status);
    r.url = Some(url.into());
    r.target = format!("/{url}");
    r.upstream = Some(Upstream {
        headers: r.headers.clone(),
        sent_ms: at_ms + 0.1,
        answered_ms: at_ms + 0.4,
        status: Some(status),
        answer_headers: Vec::new(),
        answer_body: b"nope".to_vec(),
        error: None,
    });
    r
}

fn report(requests: Vec<Request>) -> Report {
    judge(&journal(requests), &Options::default())
}

/// The one receiver-side check that failed (asserting there is exactly one).
fn only_receiver_fail(r: &Report) -> Check {
    let fails: Vec<_> = r
        .tripped(Level::Fail)
        .into_iter()
        .filter(|c| c.family() == 'R')
        .collect();
    assert_eq!(fails.len(), 1, "{}", text(r));
    fails[0]
}

fn unknown_type() -> Vec<u8> {
    let mut v = fixture("doc/SessionStarted.json");
    v["EventType"] = "SomethingNew".into();
    bytes(&v)
}

#[test]
fn r3_an_unknown_type_refused_trips_and_accepted_passes() {
    let r = report(vec![forwarded(1, 0.0, "a", unknown_type(), 400)]);
    assert_eq!(only_receiver_fail(&r), Check::R3);
    let f = r.findings_of(Check::R3).next().unwrap();
    assert!(
        f.found.as_deref().unwrap().contains("400 Bad Request: \"nope\""),
        "{f:?}"
    );
    let r = report(vec![forwarded(1, 0.0, "a", unknown_type(), 204)]);
    assert_eq!(r.status(Check::R3), Some(Status::Passed), "{}", text(&r));
}

#[test]
fn r3_without_an_unknown_type_is_skipped_not_passed() {
    let r = report(vec![forwarded(
        1,
        0.0,
        "a",
        bytes(&fixture("doc/SessionStarted.json")),
        204,
    )]);
    assert_eq!(r.status(Check::R3), Some(Status::Skipped));
    assert_eq!(r.status(Check::R4), Some(Status::Skipped));
}

#[test]
fn r5_a_retry_refused_after_it_was_accepted_trips_and_accepted_again_passes() {
    let body = bytes(&fixture("doc/FileOpening.json"));
    let r = report(vec![
        forwarded(1, 0.0, "a", body.clone(), 204),
        forwarded(2, 1000.0, "a", body.clone(), 409),
    ]);
    assert_eq!(only_receiver_fail(&r), Check::R5);
    let r = report(vec![
        forwarded(1, 0.0, "a", body.clone(), 204),
        forwarded(2, 1000.0, "a", body, 200),
    ]);
    assert_eq!(r.status(Check::R5), Some(Status::Passed), "{}", text(&r));
}

#[test]
fn r6_an_event_ahead_of_the_one_it_follows_refused_trips() {
    let (open, close) = (fixture("doc/FileOpening.json"), fixture("doc/FileClosed.json"));
    // FileClosed forwarded before its FileOpening, and refused (100 ms: not the same
    // moment, whose order is noise).
    let r = report(vec![
        forwarded(1, 0.0, "a", bytes(&close), 422),
        forwarded(2, 100.0, "a", bytes(&open), 204),
    ]);
    assert_eq!(only_receiver_fail(&r), Check::R6);
    // Accepted out of order: passes. In order and refused: R1, not R6.
    let r = report(vec![
        forwarded(1, 0.0, "a", bytes(&close), 204),
        forwarded(2, 100.0, "a", bytes(&open), 204),
    ]);
    assert_eq!(r.status(Check::R6), Some(Status::Passed), "{}", text(&r));
    // Issue 16: sent the same moment, which went first is noise: no order to judge.
    let r = report(vec![
        forwarded(1, 0.0, "a", bytes(&close), 204),
        forwarded(2, 10.0, "a", bytes(&open), 204),
    ]);
    assert_eq!(r.status(Check::R6), Some(Status::Skipped), "{}", text(&r));
    let r = report(vec![
        forwarded(1, 0.0, "a", bytes(&open), 204),
        forwarded(2, 10.0, "a", bytes(&close), 422),
    ]);
    assert_eq!(only_receiver_fail(&r), Check::R1);
    assert_eq!(r.status(Check::R6), Some(Status::Skipped));
}

#[test]
fn r7_a_stream_event_without_session_refused_trips() {
    let started = bytes(&fixture("corpus/06-brec-docs2x-StreamStarted.json"));
    let r = report(vec![forwarded(1, 0.0, "a", started.clone(), 400)]);
    assert_eq!(only_receiver_fail(&r), Check::R7);
    let r = report(vec![forwarded(1, 0.0, "a", started.clone(), 204)]);
    assert_eq!(r.status(Check::R7), Some(Status::Passed), "{}", text(&r));
    // Issue 16: another event without SessionId accepted (a 2.x StreamEnded): the
    // missing SessionId is not why this one was refused; R1 names its type.
    let mut ended = fixture("corpus/06-brec-docs2x-StreamStarted.json");
    ended["EventType"] = "StreamEnded".into();
    ended["EventId"] = "6a2d5b5e-0000-4000-8000-000000000001".into();
    ended["EventData"]["Streaming"] = false.into();
    let r = report(vec![
        forwarded(1, 0.0, "a", started, 400),
        forwarded(2, 100.0, "a", bytes(&ended), 204),
    ]);
    assert_eq!(only_receiver_fail(&r), Check::R1, "{}", text(&r));
    assert!(r
        .findings_of(Check::R1)
        .any(|f| f.message.contains("StreamStarted")));
}

/// The event with every string made ASCII: what R8 contrasts raw UTF-8 with.
fn ascii(mut v: Value) -> Vec<u8> {
    for k in ["Name", "Title", "AreaNameParent", "AreaNameChild", "RelativePath"] {
        if let Some(x) = v["EventData"].get_mut(k) {
            *x = "ascii".into();
        }
    }
    bytes(&v)
}

#[test]
fn r8_raw_text_refused_where_ascii_passes_trips() {
    let plain = ascii(fixture("doc/SessionStarted.json"));
    let raw = bytes(&fixture("doc/FileOpening.json"));
    let r = report(vec![
        forwarded(1, 0.0, "a", plain.clone(), 204),
        forwarded(2, 10.0, "a", raw.clone(), 400),
    ]);
    assert_eq!(only_receiver_fail(&r), Check::R8);
    let r = report(vec![
        forwarded(1, 0.0, "a", plain, 204),
        forwarded(2, 10.0, "a", raw.clone(), 204),
    ]);
    assert_eq!(r.status(Check::R8), Some(Status::Passed), "{}", text(&r));
    // Without an accepted ASCII body there is no contrast: a refusal is R1's.
    let r = report(vec![forwarded(1, 0.0, "a", raw, 400)]);
    assert_eq!(only_receiver_fail(&r), Check::R1);
}

#[test]
fn r9_a_v1_record_refused_trips_and_accepted_passes() {
    let v1 = bytes(&fixture("doc/v1.json"));
    let r = report(vec![forwarded(1, 0.0, "v1", v1.clone(), 500)]);
    assert_eq!(only_receiver_fail(&r), Check::R9);
    let r = report(vec![forwarded(1, 0.0, "v1", v1, 204)]);
    assert_eq!(r.status(Check::R9), Some(Status::Passed), "{}", text(&r));
}

#[test]
fn an_invalid_body_refused_is_no_fault_of_the_receiver() {
    let r = report(vec![forwarded(1, 0.0, "a", b"{}".to_vec(), 400)]);
    assert!(
        r.tripped(Level::Fail).iter().all(|c| c.family() != 'R'),
        "{}",
        text(&r)
    );
    assert!(r.tripped(Level::Fail).contains(&Check::S1));
}

#[test]
fn a_journal_of_the_fake_endpoint_judges_no_receiver() {
    let mut j = journal(vec![common::journal::request(
        1,
        0.0,
        bytes(&fixture("doc/FileOpening.json")),
        204,
    )]);
    j.meta.proxy = None;
    let r = judge(&j, &Options::default());
    assert!(!r.both_sides);
    assert_eq!(r.status(Check::R1), Some(Status::Skipped));
    assert!(r.to_json().contains("\"side\": \"sender\""));
}

#[test]
fn brhook_check_judges_a_proxy_journal_as_the_library_does() {
    let body = bytes(&fixture("doc/FileOpening.json"));
    let j = journal(vec![
        forwarded(1, 0.0, "a", body.clone(), 204),
        forwarded(2, 1000.0, "a", body, 409),
    ]);
    let dir = std::env::temp_dir().join(format!("brhook-proxy-judge-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("proxy.jsonl");
    j.write(&path).unwrap();
    // Written and read back: both legs survive, answer bytes included.
    let back = Journal::read(&path).unwrap();
    assert_eq!(back.requests, j.requests);
    assert_eq!(back.meta.proxy, j.meta.proxy);
    let (code, out, err) = common::brhook(&["check", path.to_str().unwrap(), "--format", "json"]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(out.trim_end(), judge(&j, &Options::default()).to_json());
    let (_, text_out, _) = common::brhook(&["check", path.to_str().unwrap()]);
    assert!(text_out.contains("Findings about the receivers:"), "{text_out}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn r2_is_warn_past_slow_after_and_fail_past_the_real_senders_100_s() {
    let body = bytes(&fixture("doc/FileOpening.json"));
    let took = |ms: f64| {
        let mut r = forwarded(1, 0.0, "a", body.clone(), 204);
        let leg = r.upstream.as_mut().unwrap();
        leg.answered_ms = leg.sent_ms + ms;
        r.response.at_ms = leg.answered_ms + 0.1;
        r
    };
    let level = |r: &Report| r.findings_of(Check::R2).map(|f| f.level).max();
    assert_eq!(level(&report(vec![took(6_000.0)])), Some(Level::Warn));
    assert_eq!(level(&report(vec![took(120_000.0)])), Some(Level::Fail));
    let fast = report(vec![took(10.0)]);
    assert_eq!(level(&fast), Some(Level::Info), "only the latency line");
    assert_eq!(fast.status(Check::R2), Some(Status::Passed));
}

#[test]
fn r10_is_judged_per_receiver_whatever_the_names_pointing_at_it() {
    // Request 1 to `a` is held 8 s; request 2 to `b` arrives meanwhile and is answered
    // only after it, 7 s later; request 3, the same type later with nothing held, is
    // answered in 10 ms: request 2 waited in line.
    let held = |seq, at: f64, took: f64, url: &str, body| {
        let mut r = forwarded(seq, at, url, body, 204);
        let leg = r.upstream.as_mut().unwrap();
        leg.answered_ms = leg.sent_ms + took;
        r.response.at_ms = leg.answered_ms + 0.1;
        r
    };
    let opening = bytes(&fixture("doc/FileOpening.json"));
    let build = |b_upstream: &str, baseline: bool| {
        let mut reqs = vec![
            held(1, 0.0, 8_000.0, "a", bytes(&fixture("doc/SessionStarted.json"))),
            held(2, 1_000.0, 7_500.0, "b", opening.clone()),
        ];
        if baseline {
            reqs.push(held(3, 20_000.0, 10.0, "b", opening.clone()));
        }
        let mut j = journal(reqs);
        let mut b = j.meta.urls[0].clone();
        b.name = "b".into();
        b.upstream = Some(b_upstream.to_string());
        j.meta.urls.push(b);
        judge(&j, &Options::default())
    };
    let run = |b_upstream: &str| build(b_upstream, true);
    // Without a FileOpening answered in time otherwise, the late one may just be slow
    // (R2): a threaded receiver slow at everything is not blocked.
    let no_baseline = build("http://127.0.0.1:9/a", false);
    assert_eq!(
        no_baseline.findings_of(Check::R10).count(),
        0,
        "{}",
        text(&no_baseline)
    );
    assert_eq!(no_baseline.status(Check::R10), Some(Status::Skipped));
    let same = run("http://127.0.0.1:9/a");
    let r10: Vec<_> = same.findings_of(Check::R10).collect();
    assert_eq!(r10.len(), 1, "{}", text(&same));
    assert_eq!(
        (r10[0].level, r10[0].urls.as_slice()),
        (Level::Warn, ["b".to_string()].as_slice())
    );
    // Waiting in line is R10's, not also R2's: R2 warns for the held request alone.
    assert_eq!(same.occurrences(Check::R2, Level::Warn), 1, "{}", text(&same));
    // Two receivers: nothing waited behind anything.
    let apart = run("http://127.0.0.1:9/elsewhere");
    assert_eq!(
        apart.status(Check::R10),
        Some(Status::Skipped),
        "{}",
        text(&apart)
    );
}

#[test]
fn r10_takes_an_answer_released_with_the_held_one_as_behind_it_but_not_one_well_before() {
    // Request 1 is held 8 s; request 2 of another type arrives at 1 s and is answered
    // late; request 3, its type alone, is answered at once. A receiver answering one
    // at a time releases request 2 as it releases request 1: the two stamps may come in
    // either order, a few milliseconds apart. Answered 1.5 s before it (over a quarter
    // of --slow-after, 5 s), request 2 was slow, not in line.
    let held = |seq, at: f64, took: f64, body| {
        let mut r = forwarded(seq, at, "a", body, 204);
        let leg = r.upstream.as_mut().unwrap();
        leg.answered_ms = leg.sent_ms + took;
        r.response.at_ms = leg.answered_ms + 0.1;
        r
    };
    let opening = bytes(&fixture("doc/FileOpening.json"));
    let report = |took: f64| {
        judge(
            &journal(vec![
                held(1, 0.0, 8_000.0, bytes(&fixture("doc/SessionStarted.json"))),
                held(2, 1_000.0, took, opening.clone()),
                held(3, 20_000.0, 10.0, opening.clone()),
            ]),
            &Options::default(),
        )
    };
    let with_it = report(6_998.0);
    assert_eq!(
        with_it.occurrences(Check::R10, Level::Warn),
        1,
        "{}",
        text(&with_it)
    );
    let before = report(5_500.0);
    assert_eq!(before.findings_of(Check::R10).count(), 0, "{}", text(&before));
    assert_eq!(
        before.status(Check::R10),
        Some(Status::Passed),
        "{}",
        text(&before)
    );
    assert_eq!(before.occurrences(Check::R2, Level::Warn), 2, "{}", text(&before));
}
