//! The binary, driven as a user would: `validate` exit codes and formats, and
//! `listen` against `curl` as the sender in another process.

mod common;
use common::{brhook, BIN};

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[test]
fn validate_passes_the_doc_examples_and_corpus() {
    let (code, out, _) = brhook(&[
        "validate",
        "tests/fixtures/doc/SessionStarted.json",
        "tests/fixtures/doc/FileOpening.json",
        "tests/fixtures/doc/FileClosed.json",
        "tests/fixtures/doc/SessionEnded.json",
        "tests/fixtures/doc/v1.json",
        "tests/fixtures/corpus/06-brec-docs2x-StreamStarted.json",
        "tests/fixtures/corpus/07-brec-docs2x-StreamEnded.json",
        "tests/fixtures/corpus/08-closely-SessionStarted.json",
        "tests/fixtures/corpus/23-closely-FileOpening.json",
    ]);
    assert_eq!(code, 0, "{out}");
    assert!(out.starts_with("brhook PASS"), "summary line first: {out}");
}

#[test]
fn validate_json_report_follows_the_contract() {
    let dir = std::env::temp_dir().join(format!("brhook-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("bad.json");
    std::fs::write(&bad, br#"{"EventType":"SessionStarted","EventTimestamp":"2021-05-14T17:52:44+08:00","EventId":"e3e1c9ec-f386-4bc3-9e5a-661bf3ed2fb2","EventData":{"SessionId":"7c7f3672-70ce-405a-aa12-886702ced6e5","RoomId":"23058","ShortId":3,"Name":"a","Title":"b","AreaNameParent":"c","AreaNameChild":"d"}}"#).unwrap();
    let (code, out, _) = brhook(&["validate", "--format", "json", bad.to_str().unwrap()]);
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(&out).expect("stdout is the JSON report");
    assert_eq!(v["tool"], "brhook");
    assert_eq!(v["verdict"], "fail");
    assert_eq!(v["counts"]["fail"], 1);
    let f = &v["findings"][0];
    assert_eq!(f["check"], "S2");
    assert_eq!(f["level"], "fail");
    assert_eq!(f["pointer"], "/EventData/RoomId");
    assert_eq!(f["event"], "e3e1c9ec-f386-4bc3-9e5a-661bf3ed2fb2");
    assert_eq!(f["source"], bad.to_str().unwrap());
    assert!(f["url"].is_null());
    let s2 = v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "S2")
        .unwrap();
    assert_eq!(s2["status"], "failed");
    let t1 = v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "T1")
        .unwrap();
    assert_eq!(t1["status"], "skipped");
    assert!(t1["reason"].is_string());
    // --strict turns the warning of a pretty-printed body into a failure.
    let (code, _, _) = brhook(&["validate", "tests/fixtures/corpus/08-closely-SessionStarted.json"]);
    assert_eq!(code, 0);
    let (code, _, _) = brhook(&[
        "validate",
        "--strict",
        "tests/fixtures/corpus/08-closely-SessionStarted.json",
    ]);
    assert_eq!(code, 1);
}

#[test]
fn validate_reads_stdin_and_reports_io_errors_with_exit_2() {
    let mut child = Command::new(BIN)
        .args(["validate", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all(b"\xEF\xBB\xBF{}").unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("T4"));
    let (code, _, err) = brhook(&["validate", "/nonexistent/brhook.json"]);
    assert_eq!(code, 2);
    assert_eq!(err.lines().count(), 1, "one-line reason: {err}");
    let (code, _, _) = brhook(&["validate"]);
    assert_eq!(code, 2, "usage error");
}

#[test]
fn checks_lists_the_whole_catalogue() {
    let (code, out, _) = brhook(&["checks"]);
    assert_eq!(code, 0);
    for c in brhook::testkit::catalog::CHECKS {
        assert!(out.lines().any(|l| l.starts_with(c.id.id())), "{} missing", c.id);
    }
}

#[test]
fn listen_judges_curl_as_the_sender() {
    if Command::new("curl").arg("--version").output().is_err() {
        eprintln!("skipped: curl is not installed");
        return;
    }
    let dir = std::env::temp_dir().join(format!("brhook-listen-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let report = dir.join("report.json");
    let journal = dir.join("journal.jsonl");
    let mut child = Command::new(BIN)
        .args([
            "listen",
            "--url",
            "a",
            "--url",
            "b=fail:1",
            "--quiet",
            "1",
            "--until-quiet",
        ])
        .args([
            "--report-json",
            report.to_str().unwrap(),
            "--journal",
            journal.to_str().unwrap(),
        ])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let base = lines
        .by_ref()
        .map_while(Result::ok)
        .find_map(|l| l.strip_prefix("brhook listening on ").map(str::to_string))
        .expect("listen prints its address");
    let body = r#"{"EventType":"SessionStarted","EventTimestamp":"2021-05-14T17:52:44.4960899+08:00","EventId":"e3e1c9ec-f386-4bc3-9e5a-661bf3ed2fb2","EventData":{"SessionId":"7c7f3672-70ce-405a-aa12-886702ced6e5","RoomId":23058,"ShortId":3,"Name":"3号直播间","Title":"t","AreaNameParent":"p","AreaNameChild":"c","Recording":true,"Streaming":true,"DanmakuConnected":true}}"#;
    let post = |url: &str| {
        let out = Command::new("curl")
            .args([
                "-s",
                "-o",
                "/dev/null",
                "-w",
                "%{http_code}",
                "-H",
                "Content-Type: application/json",
            ])
            .args(["-A", "BililiveRecorder/2.17.3", "--data-binary", body, url])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    assert_eq!(post(&format!("{base}/a")), "204");
    assert_eq!(post(&format!("{base}/b")), "500");
    assert_eq!(post(&format!("{base}/b")), "204", "fail:1 counts per event");
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "listen --until-quiet did not exit"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    assert_eq!(status.code(), Some(0), "{rest:?}");
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert_eq!(v["verdict"], "pass");
    // Judging the saved journal offline gives the same verdict and findings.
    let j = brhook::testkit::journal::Journal::read(&journal).unwrap();
    assert_eq!(j.requests.len(), 3);
    let offline = brhook::testkit::judge::judge(&j, &brhook::testkit::judge::Options::default());
    assert_eq!(serde_json::to_value(&offline).unwrap()["findings"], v["findings"]);
}

#[test]
fn listen_rejects_a_bad_fault_with_a_hint() {
    let (code, _, err) = brhook(&["listen", "--url", "a=fial:2"]);
    assert_eq!(code, 2);
    assert!(err.contains("did you mean \"fail\""), "{err}");
}

#[test]
fn errors_a_person_can_act_on() {
    // A taken port: one line naming the fix, exit 2.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let (code, _, err) = brhook(&["listen", "--bind", &addr]);
    assert_eq!(code, 2);
    assert!(err.contains("port is taken") && err.contains("--bind"), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    // An unwritable report path.
    let (code, _, err) = brhook(&[
        "validate",
        "--report-json",
        "/nonexistent/dir/r.json",
        "tests/fixtures/doc/v1.json",
    ]);
    assert_eq!(code, 2);
    assert!(
        err.contains("cannot write the JSON report to /nonexistent/dir/r.json"),
        "{err}"
    );
    // An unknown mutant.
    let (code, _, err) = brhook(&["demo", "--mutant", "nope"]);
    assert_eq!(code, 2);
    assert!(err.contains("--mutant list"), "{err}");
}

#[test]
fn demo_passes_and_a_mutant_fails_with_its_check() {
    let (code, out, _) = brhook(&["demo", "--backoff-scale", "0.1", "--quiet-output"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("brhook PASS"), "{out}");
    let (code, out, _) = brhook(&[
        "demo",
        "--mutant",
        "sequential",
        "--backoff-scale",
        "0.1",
        "--format",
        "json",
    ]);
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(&out).expect("--format json prints only the report");
    let failed: Vec<_> = v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["status"] == "failed")
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(failed, ["F3"]);
}

/// A CI job never hangs on a sender that sends nothing: `--max-wait` closes the capture,
/// and judging nothing fails with the reason in the text report itself.
#[test]
fn listen_with_nothing_arriving_closes_at_max_wait_and_fails() {
    let started = std::time::Instant::now();
    let (code, out, err) = brhook(&[
        "listen",
        "--until-quiet",
        "--quiet-window",
        "0.5",
        "--max-wait",
        "1",
        "--quiet-output",
    ]);
    assert_eq!(code, 1, "{out}\n{err}");
    assert!(started.elapsed() < std::time::Duration::from_secs(30));
    assert!(out.contains("no request reached a configured URL"), "{out}");
    assert!(err.contains("--max-wait 1 s"), "{err}");
    assert!(
        err.contains("shorter than the real sender's 2 s back-off"),
        "{err}"
    );
}

/// `check` of the wrong kind of file says what it is and what to run instead.
#[test]
fn check_names_the_kind_of_file_it_was_given() {
    let (code, _, err) = brhook(&["check", "tests/fixtures/doc/FileClosed.json"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("is a webhook body") && err.contains("brhook validate"),
        "{err}"
    );
    let dir = std::env::temp_dir().join(format!("brhook-kind-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let base = dir.join("base.json");
    std::fs::write(
        &base,
        r#"{"format": "brhook-normalized/1", "urls": [], "requests": []}"#,
    )
    .unwrap();
    let (code, _, err) = brhook(&["check", base.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(
        err.contains("normalized baseline") && err.contains("brhook diff"),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn checks_explains_one_check_and_rejects_a_wrong_id() {
    let (code, out, _) = brhook(&["checks", "F3"]);
    assert_eq!(code, 0);
    assert!(out.starts_with("F3 (fail): concurrent"), "{out}");
    assert!(out.contains("brhook demo --mutant sequential"), "{out}");
    // The worked example is a finding the mutant really produced.
    assert!(
        out.contains("\nExample: the finding `brhook demo --mutant sequential`"),
        "{out}"
    );
    assert!(out.contains("  F3 fail ×"), "{out}");
    let (code, out, _) = brhook(&["checks", "d2", "--format", "json"]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["id"], "D2");
    assert_eq!(v["example"]["group"]["check"], "D2", "{out}");
    assert_eq!(v["example"]["group"]["level"], "fail", "{out}");
    let (code, out, _) = brhook(&["checks", "--format", "json"]);
    assert_eq!(code, 0);
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&out)
            .unwrap()
            .as_array()
            .unwrap()
            .len(),
        brhook::testkit::catalog::CHECKS.len()
    );
    let (code, _, err) = brhook(&["checks", "Q9"]);
    assert_eq!(code, 2);
    assert!(err.contains("not a check ID"), "{err}");
}

/// Checks without a mutant sender are shown on a body that trips exactly them; checks
/// with no example say how to see them, and carry no example.
#[test]
fn checks_examples_for_body_checks_trip_their_check() {
    for id in ["T4", "S1", "S3", "S4", "S5", "S6", "S7"] {
        let (code, out, err) = brhook(&["checks", id, "--format", "json"]);
        assert_eq!(code, 0, "{id}: {err}");
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["example"]["group"]["check"], id, "{out}");
        assert!(
            v["example"]["from"].as_str().unwrap().contains("brhook validate"),
            "{out}"
        );
    }
    for id in ["D7", "R1", "T5"] {
        let (code, out, _) = brhook(&["checks", id, "--format", "json"]);
        assert_eq!(code, 0);
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert!(v["example"].is_null(), "{out}");
    }
    let (_, out, _) = brhook(&["checks", "D7"]);
    assert!(out.contains("delay:120000"), "{out}");
}
