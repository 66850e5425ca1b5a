//! One cause, one finding: a capture whose every request shares one deviation gives a
//! report of a few lines, however many requests it holds; examples do not depend on the
//! order requests were judged in.

mod common;

use brhook::testkit::catalog::{Check, Level};
use brhook::testkit::journal::Journal;
use brhook::testkit::judge::{judge, Options};
use brhook::testkit::report::text::{render, Style};
use brhook::testkit::report::{Finding, Findings, Report};

const N: usize = 5_000;

/// The doc's FileClosed, compact, with its own (uppercase) EventId per request: each
/// body trips S6 once, and each is a FileClosed of a file opened before the capture.
fn closed(i: usize) -> Vec<u8> {
    let mut v: serde_json::Value =
        serde_json::from_slice(&std::fs::read("tests/fixtures/doc/FileClosed.json").unwrap()).unwrap();
    v["EventId"] = format!("98F85267-E08C-4F15-AD9A-{i:012X}").into();
    serde_json::to_vec(&v).unwrap()
}

fn capture() -> Journal {
    let mut j = common::journal::journal_a();
    for i in 0..N {
        j.requests
            .push(common::journal::request(i as u64 + 1, i as f64, closed(i), 204));
    }
    j.closed_ms = Some(N as f64 + 1000.0);
    j.quiet_ms = Some(1000.0);
    j
}

#[test]
fn a_deviation_shared_by_every_request_is_one_group() {
    let report = judge(&capture(), &Options::default());
    let s6: Vec<_> = report.groups.iter().filter(|g| g.check == Check::S6).collect();
    assert_eq!(s6.len(), 1, "{:#?}", report.groups);
    assert_eq!(s6[0].count, N as u64);
    assert_eq!(s6[0].examples.len(), 3);
    assert_eq!(s6[0].omitted, N as u64 - 3);
    assert_eq!(report.counts.warn, N as u64, "occurrences are counted");
    assert_eq!(report.group_counts.warn, 1, "as one cause");
    let text = render(&report, &Style::plain());
    assert!(text.lines().count() < 40, "{text}");
    assert!(text.contains(&format!("S6 warn ×{N}")), "{text}");
    assert!(text.contains(&format!("and {} more", N - 3)), "{text}");
    let json = report.to_json();
    assert!(json.len() < 64 * 1024, "JSON report is {} bytes", json.len());
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let g = v["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["check"] == "S6")
        .unwrap();
    assert_eq!(g["count"], N as u64);
    assert_eq!(g["omitted"], N as u64 - 3);
}

#[test]
fn info_groups_take_one_line_unless_verbose() {
    let report = judge(&capture(), &Options::default());
    let c3 = report.groups.iter().find(|g| g.check == Check::C3).unwrap();
    assert_eq!((c3.level, c3.count), (Level::Info, N as u64), "{c3:#?}");
    let line = |verbose| {
        let text = render(
            &report,
            &Style {
                verbose,
                ..Style::plain()
            },
        );
        text.lines().filter(|l| l.contains("C3 info")).count()
            + text.lines().filter(|l| l.contains("e.g.")).count()
    };
    assert!(line(true) > line(false), "verbose shows the info examples");
    // Examples quote the request they came from, read back after judging.
    let e = &c3.examples[0];
    assert!(
        e.found.as_deref().unwrap().contains(".flv opened 2021-05-14"),
        "{e:#?}"
    );
}

#[test]
fn examples_do_not_depend_on_order() {
    let f = |i: u64| {
        Finding::new(
            Check::F3,
            "the event reached this URL only after another URL's answer",
        )
        .event(format!("e{i:03}"))
        .url("b")
        .source(brhook::testkit::report::Source::Request(i))
    };
    let mut a = Findings::new(3);
    let mut b = Findings::new(3);
    a.extend((1..=50).map(f));
    b.extend((1..=50).rev().map(f));
    let (ra, rb) = (
        Report::build("a", a, &Default::default(), false),
        Report::build("b", b, &Default::default(), false),
    );
    assert_eq!(ra.groups, rb.groups);
    assert_eq!(ra.groups[0].count, 50);
    // The same finding seen again (another URL) is one occurrence, its URLs merged.
    let mut c = Findings::new(3);
    c.push(f(1));
    c.push(f(1).url("c"));
    let rc = Report::build("c", c, &Default::default(), false);
    assert_eq!(rc.groups[0].count, 1);
    assert_eq!(rc.groups[0].examples[0].urls, vec!["b", "c"]);
}

#[test]
fn validate_of_many_old_bodies_is_one_line_of_s7() {
    let body = std::fs::read("tests/fixtures/doc/SessionStarted.json").unwrap();
    let inputs: Vec<_> = (0..N)
        .map(|i| brhook::testkit::validate::Input {
            source: format!("body-{i}.json"),
            bytes: body.clone(),
            truncated_at: None,
        })
        .collect();
    let report = brhook::testkit::validate::validate(&inputs, false);
    let text = render(&report, &Style::plain());
    assert!(text.lines().count() < 30, "{text}");
    let s7 = report.groups.iter().find(|g| g.check == Check::S7).unwrap();
    assert_eq!(s7.count, 1, "the same body is one finding, seen in {N} inputs");
    assert_eq!(
        s7.examples[0].sources.len(),
        brhook::testkit::report::MAX_SOURCES,
        "names a few"
    );
}

/// The text people read, reviewed as a snapshot: a capture of one deviation shared by
/// every request is a few lines (all its values are fixed, so nothing is redacted).
#[test]
fn text_report_of_a_shared_deviation() {
    let report = judge(&capture(), &Options::default());
    insta::assert_snapshot!(render(&report, &Style::plain()), @r#"
    brhook PASS: 0 fail, 1 warn (5000 occurrences), 4 info (10002 occurrences) — 5000 requests carrying 5000 events to 1 URL
      ! S6 value form differs from the real sender (GUID case, fraction digits, Z offset, \u escapes, pretty-printing) — 5000 findings
      16 checks passed, 14 skipped, 12 not run by this command

    Findings:
      S6 warn ×5000: EventId is an uppercase GUID, unlike the real sender (Newtonsoft.Json, Formatting.None) (at /EventId)
           e.g. request #1, url a, event 98F85267-E08C-4F15-AD9A-000000000000
                expected: a lowercase GUID such as e3e1c9ec-f386-4bc3-9e5a-661bf3ed2fb2
                found:    98F85267-E08C-4F15-AD9A-000000000000
           e.g. request #2, url a, event 98F85267-E08C-4F15-AD9A-000000000001
                expected: a lowercase GUID such as e3e1c9ec-f386-4bc3-9e5a-661bf3ed2fb2
                found:    98F85267-E08C-4F15-AD9A-000000000001
           e.g. request #3, url a, event 98F85267-E08C-4F15-AD9A-000000000002
                expected: a lowercase GUID such as e3e1c9ec-f386-4bc3-9e5a-661bf3ed2fb2
                found:    98F85267-E08C-4F15-AD9A-000000000002
           … and 4997 more like these (--examples N shows more; --format json counts them all)
      S7 info ×5000: EventData has no Recording, Streaming, DanmakuConnected (a pre-2.0 sender) (at /EventData): absent
      C2 info: capture began mid-session: no SessionStarted for the first event's session: 5000 event(s) of the session, no SessionStarted
      C2 info: session still open at capture close (no SessionEnded)
      C3 info ×5000: FileClosed of a file opened before the capture began: 23058-3号直播间/录制-23058-20210514-175250-哔哩哔哩音悦台.flv opened 2021-05-14T17:52:50.5246401+08:00

    Skipped (could not run here; never counted as passed):
      S3: no v2 event of an unknown EventType arrived (nothing to check)
      S5: no v1 record among the bodies
      D1: no event failed 3 times at one URL, so the sender never had to stop: add a URL that fails every attempt (fail:3 or status:500)
      D2, D3, D6: no attempt failed: add a URL with a failing fault (fail:N, reset:N or status:CODE)
      D7: no answer was held longer than the sender's patience: add a URL with delay:MS over 100 s (scaled with the back-off) to measure it
      F1, F2, F3, F4: only one URL per setting received traffic: configure two or more URLs
      C1: no SessionStarted or SessionEnded with a SessionId was captured
      C6: needs both v1 records and v2 FileClosed events in one capture
      C8: no StreamStarted or StreamEnded was captured
    "#);
}

/// The text of `validate` on the imitator's body: one block per cause.
#[test]
fn text_report_of_an_imitators_body() {
    let bytes = std::fs::read("examples/imitator-FileClosed.json").unwrap();
    let inputs = [brhook::testkit::validate::Input {
        source: "imitator-FileClosed.json".into(),
        bytes,
        truncated_at: None,
    }];
    let report = brhook::testkit::validate::validate(&inputs, false);
    insta::assert_snapshot!(render(&report, &Style::plain()), @r#"
    brhook FAIL: 3 fail, 1 warn, 1 info — 1 body
      ✗ S1 v2 envelope: EventType string, EventTimestamp date-time with offset, EventId GUID, EventData object — 1 finding
      ✗ S2 EventData matches the schema of its EventType — 2 findings
      ! S6 value form differs from the real sender (GUID case, fraction digits, Z offset, \u escapes, pretty-printing) — 1 finding
      3 checks passed, 6 skipped, 31 not run by this command

    Findings:
      S1 fail: /EventTimestamp is not a date-time with an explicit offset
           imitator-FileClosed.json, event 98F85267-E08C-4F15-AD9A-1FC463D42B0B
           expected: a date-time with an explicit offset, e.g. 2021-05-14T17:52:44.4960899+08:00
           found:    "2021-05-14T17:52:54.9461101"
      S2 fail: /EventData/FileSize is not a JSON integer
           imitator-FileClosed.json, event 98F85267-E08C-4F15-AD9A-1FC463D42B0B
           expected: a JSON integer, e.g. 23058 (not a string or a float)
           found:    "816412"
      S2 fail: integer field RoomId is written with a fraction or exponent (at /EventData/RoomId)
           imitator-FileClosed.json, event 98F85267-E08C-4F15-AD9A-1FC463D42B0B
           expected: an integer without fraction or exponent
           found:    23058.0
      S6 warn: EventId is an uppercase GUID, unlike the real sender (Newtonsoft.Json, Formatting.None) (at /EventId)
           imitator-FileClosed.json, event 98F85267-E08C-4F15-AD9A-1FC463D42B0B
           expected: a lowercase GUID such as e3e1c9ec-f386-4bc3-9e5a-661bf3ed2fb2
           found:    98F85267-E08C-4F15-AD9A-1FC463D42B0B
      S7 info: EventData has no Recording, Streaming, DanmakuConnected (a pre-2.0 sender) (at /EventData): absent

    Skipped (could not run here; never counted as passed):
      T1, T2, T3, T5: headers are judged on live requests (listen, check), not on files
      S3: no v2 event of an unknown EventType arrived (nothing to check)
      S5: no v1 record among the bodies
    "#);
}
