//! Offline work on saved journals: `check` gives the live report, `normalize` is the
//! same for two runs of the same sender, `diff` finds shape drift and only that.

mod common;
use common::{brhook, dir};

use brhook::testkit::demo::Demo;
use brhook::testkit::journal::{Journal, Request};
use brhook::testkit::judge::{judge, Options};
use brhook::testkit::normalize::{diff, normalize, Drift};
use brhook::testkit::reference::Mutant;
use brhook::testkit::report::Report;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::Duration;

fn s(p: &Path) -> &str {
    p.to_str().expect("UTF-8 temp path")
}

/// The demo's URLs and faults, back-off scaled to 0.1 (D6 threshold 10 ms).
fn fixed(mutant: Option<Mutant>, journal: Option<PathBuf>) -> Demo {
    Demo {
        journal,
        ..Demo::fast(mutant)
    }
}

async fn run(d: Demo) -> (Report, Journal) {
    d.judge().await.expect("endpoint starts")
}

fn json(report: &Report) -> Value {
    serde_json::to_value(report).expect("report serialises")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_of_a_saved_journal_gives_the_live_report() {
    let d = dir("check");
    let cases = [(None, "faithful", 0), (Some(Mutant::NoRetry), "no-retry", 1)];
    let runs: Vec<_> = cases
        .iter()
        .map(|&(m, name, _)| tokio::spawn(run(fixed(m, Some(d.join(format!("{name}.jsonl")))))))
        .collect();
    for ((_, name, code), h) in cases.iter().zip(runs) {
        let (live, _) = h.await.expect("run did not panic");
        let path = d.join(format!("{name}.jsonl"));
        let saved = Journal::read(&path).expect("journal reads back");
        assert!(
            saved.closed_ms.is_some(),
            "{name}: the journal has its close line"
        );
        let options = Options {
            min_retry_gap: Duration::from_millis(10),
            ..Options::default()
        };
        let offline = judge(&saved, &options);
        assert_eq!(
            json(&offline),
            json(&live),
            "{name}: library judge of the saved journal"
        );

        let (got, out, err) = brhook(&["check", s(&path), "--format", "json", "--min-retry-gap", "10"]);
        assert_eq!(got, *code, "{name}: exit code; {err}");
        let cli: Value = serde_json::from_str(&out).expect("stdout is the JSON report");
        let live = json(&live);
        for key in [
            "verdict",
            "counts",
            "group_counts",
            "subject",
            "findings",
            "groups",
            "checks",
        ] {
            assert_eq!(
                cli[key], live[key],
                "{name}: `brhook check` differs from live in {key}"
            );
        }
    }
    let (code, _, err) = brhook(&["check", s(&d.join("missing.jsonl"))]);
    assert_eq!(code, 2);
    assert!(err.starts_with("brhook: cannot read journal"), "{err}");
    let _ = std::fs::remove_dir_all(&d);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn normalize_is_the_same_for_two_runs() {
    let d = dir("stable");
    let (a, b) = tokio::join!(
        run(fixed(None, Some(d.join("a.jsonl")))),
        run(fixed(None, Some(d.join("b.jsonl"))))
    );
    let (na, nb) = (normalize(&a.1), normalize(&b.1));
    assert_eq!(
        serde_json::to_string_pretty(&na).unwrap(),
        serde_json::to_string_pretty(&nb).unwrap(),
        "two runs normalize differently"
    );
    let text = serde_json::to_string(&na).unwrap();
    for volatile in ["127.0.0.1", "2.17.3", "+08:00", "at_ms"] {
        assert!(!text.contains(volatile), "normalized form contains {volatile}");
    }
    let requests = na["requests"].as_array().unwrap();
    assert_eq!(requests.len(), 63);
    assert!(requests.iter().all(|r| r["attempt"].as_u64().unwrap() <= 3));

    // The binary prints the same, to stdout or to a file.
    let (code, out, err) = brhook(&["normalize", s(&d.join("a.jsonl"))]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(serde_json::from_str::<Value>(&out).unwrap(), na);
    let file = d.join("a.json");
    let (code, _, err) = brhook(&["normalize", s(&d.join("b.jsonl")), "-o", s(&file)]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(std::fs::read_to_string(&file).unwrap().trim_end(), out.trim_end());
    let _ = std::fs::remove_dir_all(&d);
}

/// Rewrites every v2 body of `event_type` with `edit` (keys keep their order).
fn edit_bodies(j: &mut Journal, event_type: &str, edit: impl Fn(&mut Value)) {
    for r in &mut j.requests {
        let Ok(mut v) = serde_json::from_slice::<Value>(&r.body) else {
            continue;
        };
        if v["EventType"] == event_type {
            edit(&mut v);
            r.body = serde_json::to_vec(&v).unwrap();
        }
    }
}

fn kinds(drift: &[Drift]) -> Vec<(&str, &str)> {
    drift.iter().map(|d| (d.kind, d.path.as_str())).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn diff_finds_shape_drift_and_only_that() {
    let d = dir("diff");
    let (_, journal) = run(fixed(None, Some(d.join("base.jsonl")))).await;
    let baseline = normalize(&journal);
    assert!(diff(&baseline, &baseline).is_empty());

    // RoomId of FileClosed became a string.
    let mut changed = journal.clone();
    edit_bodies(&mut changed, "FileClosed", |v| {
        v["EventData"]["RoomId"] = Value::String(v["EventData"]["RoomId"].to_string());
    });
    let drift = diff(&baseline, &normalize(&changed));
    assert_eq!(
        drift,
        vec![Drift {
            kind: "type-changed",
            path: "v2 FileClosed /EventData/RoomId".into(),
            was: Some("<integer>".into()),
            now: Some("<string>".into()),
        }]
    );
    changed.write(&d.join("changed.jsonl")).unwrap();

    // Through the binary: normalized baseline vs journal, and journal vs journal.
    let base_json = d.join("baseline.json");
    let (code, _, err) = brhook(&["normalize", s(&d.join("base.jsonl")), "-o", s(&base_json)]);
    assert_eq!(code, 0, "{err}");
    let (code, out, err) = brhook(&["diff", s(&base_json), s(&d.join("changed.jsonl"))]);
    assert_eq!(code, 1, "drift exits 1: {out}{err}");
    assert!(
        out.lines()
            .any(|l| l.starts_with("type-changed") && l.contains("v2 FileClosed /EventData/RoomId")),
        "{out}"
    );
    // The same as JSON, for scripts: each difference a record.
    let (code, out, _) = brhook(&[
        "diff",
        s(&base_json),
        s(&d.join("changed.jsonl")),
        "--format",
        "json",
    ]);
    assert_eq!(code, 1);
    let v: Value = serde_json::from_str(&out).expect("diff --format json is JSON");
    let drift = v["drift"].as_array().unwrap();
    assert_eq!(v["differences"], drift.len());
    assert!(
        drift
            .iter()
            .any(|x| x["kind"] == "type-changed" && x["path"] == "v2 FileClosed /EventData/RoomId"),
        "{v}"
    );
    for (a, b) in [
        (&base_json, &d.join("base.jsonl")),
        (&d.join("base.jsonl"), &d.join("base.jsonl")),
        (&base_json, &base_json),
    ] {
        let (code, out, err) = brhook(&["diff", s(a), s(b)]);
        assert_eq!(code, 0, "identical inputs exit 0: {out}{err}");
        assert!(out.contains("no drift"), "{out}");
    }
    // JUnit for CI: a failed testcase per difference, one passed testcase without drift.
    let junit = d.join("diff.xml");
    let (code, _, _) = brhook(&[
        "diff",
        s(&base_json),
        s(&d.join("changed.jsonl")),
        "--junit",
        s(&junit),
    ]);
    assert_eq!(code, 1);
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(
        xml.contains("name=\"type-changed v2 FileClosed /EventData/RoomId\""),
        "{xml}"
    );
    assert_eq!(xml.matches("<failure").count(), drift.len(), "{xml}");
    let (code, _, _) = brhook(&["diff", s(&base_json), s(&base_json), "--junit", s(&junit)]);
    assert_eq!(code, 0);
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(
        xml.contains("name=\"no drift\"") && !xml.contains("<failure"),
        "{xml}"
    );
    let (code, _, err) = brhook(&["diff", s(&d.join("nothing.json")), s(&base_json)]);
    assert_eq!(code, 2);
    assert!(err.starts_with("brhook: cannot read "), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");

    // Every other kind of drift, in one capture.
    let mut other = journal.clone();
    edit_bodies(&mut other, "FileOpening", |v| {
        let data = v["EventData"].as_object_mut().unwrap();
        data.shift_remove("ShortId");
        data.insert("Cover".into(), Value::String("cover.jpg".into()));
    });
    other
        .requests
        .retain(|r: &Request| !String::from_utf8_lossy(&r.body).contains("\"StreamEnded\""));
    let extra = other
        .requests
        .iter()
        .find(|r| r.url.as_deref() == Some("plain"))
        .cloned()
        .unwrap();
    let mut unknown: Value = serde_json::from_slice(&extra.body).unwrap();
    unknown["EventType"] = "RoomChange".into();
    unknown["EventId"] = "00000000-0000-4000-8000-000000000001".into();
    other.requests.push(Request {
        seq: 10_000,
        body: serde_json::to_vec(&unknown).unwrap(),
        ..extra
    });
    for r in &mut other.requests {
        if r.url.as_deref() == Some("v1") {
            for (n, v) in &mut r.headers {
                if n == "user-agent" {
                    *v = "curl/8.0".into();
                }
            }
            r.headers.retain(|(n, _)| n != "content-length");
            r.headers.push(("x-extra".into(), "1".into()));
        }
    }
    let drift = diff(&baseline, &normalize(&other));
    assert_eq!(
        kinds(&drift),
        vec![
            ("field-added", "v2 FileOpening /EventData/Cover"),
            ("field-removed", "v2 FileOpening /EventData/ShortId"),
            ("event-type-new", "v2 RoomChange"),
            ("event-type-gone", "v2 StreamEnded"),
            ("header-removed", "url v1: content-length"),
            ("header-changed", "url v1: user-agent"),
            ("header-added", "url v1: x-extra"),
        ],
        "{}",
        drift.iter().map(|d| d.to_string()).collect::<Vec<_>>().join("\n")
    );
    let ua = &drift[5];
    assert_eq!(ua.was.as_deref(), Some("BililiveRecorder/<version>"));
    assert_eq!(ua.now.as_deref(), Some("curl/8.0"));

    // Counts are not drift: fewer retries, fewer events of a type.
    let mut fewer = journal.clone();
    let first_closed = fewer
        .requests
        .iter()
        .find(|r| String::from_utf8_lossy(&r.body).contains("\"FileClosed\""))
        .map(|r| brhook::testkit::body::identity(&r.body))
        .unwrap();
    // Each event's first attempt at each URL stays (the demo's flaky URL fails them
    // all): only the retries go.
    let mut first_attempts = std::collections::HashSet::new();
    fewer.requests.retain(|r| {
        let id = brhook::testkit::body::identity(&r.body);
        id != first_closed && (r.response.status != Some(500) || first_attempts.insert((r.url.clone(), id)))
    });
    assert!(diff(&baseline, &normalize(&fewer)).is_empty());
    let _ = std::fs::remove_dir_all(&d);
}

/// `check` streams the journal: a torn last line (a kill mid-write) is forgiven, a bad
/// line in the middle is named, an empty file is called empty.
#[test]
fn check_forgives_a_torn_last_line_and_names_a_bad_middle_one() {
    let d = dir("torn");
    let body = std::fs::read("tests/fixtures/doc/SessionStarted.json").unwrap();
    let body: Value = serde_json::from_slice(&body).unwrap();
    let mut j = common::journal::journal_a();
    for seq in 1..=3u64 {
        let bytes = serde_json::to_vec(&body).unwrap();
        j.requests
            .push(common::journal::request(seq, seq as f64, bytes, 204));
    }
    let path = d.join("j.jsonl");
    j.write(&path).unwrap();
    let whole = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, format!("{whole}{{\"type\":\"request\",\"seq\":4,")).unwrap();
    let (code, out, err) = brhook(&["check", s(&path), "--format", "json"]);
    assert_ne!(code, 2, "a torn last line is forgiven: {err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert!(v["subject"].as_str().unwrap().starts_with("3 requests"), "{v}");

    let mut lines: Vec<&str> = whole.lines().collect();
    lines.insert(2, "{\"type\":\"request\",\"seq\":");
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    let (code, _, err) = brhook(&["check", s(&path)]);
    assert_eq!(code, 2);
    assert!(err.contains("line 3: not a brhook journal line"), "{err}");

    std::fs::write(&path, "").unwrap();
    let (code, _, err) = brhook(&["check", s(&path)]);
    assert_eq!(code, 2);
    assert!(err.contains("empty"), "{err}");
    let _ = std::fs::remove_dir_all(&d);
}
