//! One cause, one finding: a capture whose every request shares one deviation gives a
//! report of a few lines, however many requests it holds; examples do not depend on the
//! order requests were judged in.

use brhook::catalog::{Check, Level};
use brhook::fault::Fault;
use brhook::journal::{Journal, Request, Response, UrlSpec};
use brhook::judge::{judge, Options};
use brhook::report::text::{render, Style};
use brhook::report::{Finding, Findings, Report};

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
    let mut j = Journal::new(
        vec![UrlSpec {
            name: "a".into(),
            fault: Fault::ok(),
            setting: None,
        }],
        String::new(),
    );
    for i in 0..N {
        let at = i as f64;
        j.requests.push(Request {
            seq: i as u64 + 1,
            conn: 1,
            at_ms: at,
            method: "POST".into(),
            target: "/a".into(),
            url: Some("a".into()),
            headers: vec![
                ("content-type".into(), "application/json".into()),
                ("user-agent".into(), "BililiveRecorder/2.17.3".into()),
            ],
            body: closed(i),
            body_error: None,
            response: Response {
                status: Some(204),
                at_ms: at + 0.5,
                abandoned_ms: None,
            },
        });
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
        .source(brhook::report::Source::Request(i))
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
        .map(|i| brhook::validate::Input {
            source: format!("body-{i}.json"),
            bytes: body.clone(),
            truncated_at: None,
        })
        .collect();
    let report = brhook::validate::validate(&inputs, false);
    let text = render(&report, &Style::plain());
    assert!(text.lines().count() < 30, "{text}");
    let s7 = report.groups.iter().find(|g| g.check == Check::S7).unwrap();
    assert_eq!(s7.count, 1, "the same body is one finding, seen in {N} inputs");
    assert_eq!(
        s7.examples[0].sources.len(),
        brhook::report::MAX_SOURCES,
        "names a few"
    );
}
