//! The body and request judge (`brhook::testkit::body`) against the fixtures and against one
//! tripping input and one quiet input per check: T1–T5, S1–S7.
//!
//! "Trips exactly X" means: the distinct check IDs among the findings at warn or fail
//! level are {X} (for the info checks S3, S4, S7, T5: X is found at info level and
//! nothing is found at warn or fail).

use brhook::testkit::body::{judge, judge_request, Body, Kind};
use brhook::testkit::catalog::Level;
use brhook::testkit::report::Finding;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::path::Path;

// ---------------------------------------------------------------------------------
// Helpers

const DOC_V2: &[&str] = &[
    "doc/SessionStarted.json",
    "doc/FileOpening.json",
    "doc/FileClosed.json",
    "doc/SessionEnded.json",
];
const DOC_V1: &str = "doc/v1.json";
const CORPUS: &[&str] = &[
    "corpus/06-brec-docs2x-StreamStarted.json",
    "corpus/07-brec-docs2x-StreamEnded.json",
    "corpus/08-closely-SessionStarted.json",
    "corpus/23-closely-FileOpening.json",
];

fn all_fixtures() -> Vec<&'static str> {
    DOC_V2
        .iter()
        .copied()
        .chain([DOC_V1])
        .chain(CORPUS.iter().copied())
        .collect()
}

fn fixture(rel: &str) -> Vec<u8> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(rel);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn parse(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes).expect("fixture is JSON")
}

/// Compact JSON, as the real sender writes it (raw UTF-8, no whitespace).
fn compact(v: &Value) -> Vec<u8> {
    serde_json::to_vec(v).expect("serialises")
}

/// A 2.x-shaped event (with the three booleans) of a known type, as a `Value`.
fn event(event_type: &str) -> Value {
    match event_type {
        "StreamStarted" => parse(&fixture(CORPUS[0])),
        "StreamEnded" => parse(&fixture(CORPUS[1])),
        "SessionStarted" => parse(&fixture(CORPUS[2])),
        "FileOpening" => parse(&fixture(CORPUS[3])),
        "FileClosed" | "SessionEnded" => {
            let mut v = parse(&fixture(&format!("doc/{event_type}.json")));
            let data = v["EventData"].as_object_mut().unwrap();
            data.insert("Recording".into(), json!(false));
            data.insert("Streaming".into(), json!(true));
            data.insert("DanmakuConnected".into(), json!(true));
            v
        }
        other => panic!("no base event for {other}"),
    }
}

/// The doc's v1 record, as a `Value`.
fn v1() -> Value {
    parse(&fixture(DOC_V1))
}

/// `v` with the value at `pointer` replaced (the parent must exist).
fn with(mut v: Value, pointer: &str, new: Value) -> Value {
    let (parent, key) = pointer.rsplit_once('/').expect("a pointer");
    v.pointer_mut(parent)
        .and_then(Value::as_object_mut)
        .unwrap_or_else(|| panic!("no object at {parent:?}"))
        .insert(key.to_string(), new);
    v
}

/// `v` without the value at `pointer`.
fn without(mut v: Value, pointer: &str) -> Value {
    let (parent, key) = pointer.rsplit_once('/').expect("a pointer");
    let removed = v
        .pointer_mut(parent)
        .and_then(Value::as_object_mut)
        .unwrap_or_else(|| panic!("no object at {parent:?}"))
        .shift_remove(key);
    assert!(removed.is_some(), "{pointer} was not there");
    v
}

/// Replaces the one occurrence of `from` in `bytes` (raw bytes: for spellings a
/// `Value` cannot hold, like `23058.0` for an integer or a `\u` escape).
fn replace_once(bytes: &[u8], from: &str, to: &str) -> Vec<u8> {
    let text = std::str::from_utf8(bytes).expect("UTF-8");
    assert_eq!(text.matches(from).count(), 1, "{from:?} in {text}");
    text.replacen(from, to, 1).into_bytes()
}

/// Distinct check IDs among the findings at warn or fail.
fn loud(findings: &[Finding]) -> BTreeSet<&'static str> {
    findings
        .iter()
        .filter(|f| f.level >= Level::Warn)
        .map(|f| f.check.id())
        .collect()
}

fn of<'a>(findings: &'a [Finding], check: &str) -> Vec<&'a Finding> {
    findings.iter().filter(|f| f.check == check).collect()
}

/// Asserts the loud checks are exactly {check}; returns that check's findings.
fn trips<'a>(findings: &'a [Finding], check: &str) -> Vec<&'a Finding> {
    assert_eq!(
        loud(findings),
        BTreeSet::from([check]),
        "expected exactly {check} at warn/fail, got {findings:#?}"
    );
    of(findings, check)
}

/// Asserts `check` is found at info level and nothing at warn/fail.
fn notes<'a>(findings: &'a [Finding], check: &str) -> Vec<&'a Finding> {
    assert!(
        loud(findings).is_empty(),
        "expected nothing at warn/fail, got {findings:#?}"
    );
    let fs = of(findings, check);
    assert!(!fs.is_empty(), "expected {check} at info, got {findings:#?}");
    for f in &fs {
        assert_eq!(f.level, Level::Info, "{f:#?}");
    }
    fs
}

/// Asserts no finding of `check` at any level.
fn quiet(findings: &[Finding], check: &str) {
    assert!(
        of(findings, check).is_empty(),
        "expected no {check}, got {findings:#?}"
    );
}

/// Asserts nothing at all was found.
fn clean(body: &Body) {
    assert!(
        body.findings.is_empty(),
        "expected no findings, got {:#?}",
        body.findings
    );
}

fn one(fs: Vec<&Finding>) -> &Finding {
    assert_eq!(fs.len(), 1, "expected one finding, got {fs:#?}");
    fs[0]
}

fn has_expected_and_found(f: &Finding) {
    assert!(
        f.expected.as_deref().is_some_and(|s| !s.is_empty()),
        "no expected: {f:#?}"
    );
    assert!(
        f.found.as_deref().is_some_and(|s| !s.is_empty()),
        "no found: {f:#?}"
    );
}

fn headers(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect()
}

/// What the real sender sends, minus the header named `drop`, plus `extra`.
fn sender_headers(drop: &str, extra: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut h: Vec<_> = headers(&[
        ("Host", "receiver.example"),
        ("Content-Type", "application/json"),
        ("User-Agent", "BililiveRecorder/2.17.3"),
        ("Content-Length", "517"),
    ])
    .into_iter()
    .filter(|(n, _)| !n.eq_ignore_ascii_case(drop))
    .collect();
    h.extend(headers(extra));
    h
}

// ---------------------------------------------------------------------------------
// Fixtures

#[test]
fn no_fixture_fails() {
    for f in all_fixtures() {
        let b = judge(&fixture(f));
        let fails: Vec<_> = b.findings.iter().filter(|x| x.level == Level::Fail).collect();
        assert!(fails.is_empty(), "{f}: {fails:#?}");
    }
}

#[test]
fn pretty_fixtures_get_exactly_one_s6_whitespace_warn() {
    for f in all_fixtures() {
        let b = judge(&fixture(f));
        let loud: Vec<_> = b.findings.iter().filter(|x| x.level >= Level::Warn).collect();
        assert_eq!(loud.len(), 1, "{f}: {:#?}", b.findings);
        let w = loud[0];
        assert_eq!(w.check, "S6", "{f}: {w:#?}");
        assert_eq!(w.level, Level::Warn, "{f}: {w:#?}");
        assert_eq!(w.pointer.as_deref(), Some(""), "{f}: {w:#?}");
        assert!(w.message.contains("whitespace"), "{f}: {w:#?}");
        has_expected_and_found(w);
    }
}

#[test]
fn doc_v2_examples_get_s7_info_corpus_and_v1_do_not() {
    for f in DOC_V2 {
        let b = judge(&fixture(f));
        let s7 = one(of(&b.findings, "S7"));
        assert_eq!(s7.level, Level::Info, "{f}");
        assert_eq!(s7.pointer.as_deref(), Some("/EventData"), "{f}");
        for name in ["Recording", "Streaming", "DanmakuConnected"] {
            assert!(s7.message.contains(name), "{f}: {s7:#?}");
        }
        // S6 (whitespace) and S7: nothing else at all.
        let checks: BTreeSet<_> = b.findings.iter().map(|x| x.check.id()).collect();
        assert_eq!(checks, BTreeSet::from(["S6", "S7"]), "{f}: {:#?}", b.findings);
    }
    for f in CORPUS.iter().chain([&DOC_V1]) {
        let b = judge(&fixture(f));
        let checks: BTreeSet<_> = b.findings.iter().map(|x| x.check.id()).collect();
        assert_eq!(checks, BTreeSet::from(["S6"]), "{f}: {:#?}", b.findings);
    }
}

#[test]
fn fixtures_are_identified() {
    for f in DOC_V2.iter().chain(CORPUS) {
        let bytes = fixture(f);
        let v = parse(&bytes);
        let b = judge(&bytes);
        assert_eq!(b.kind, Kind::V2, "{f}");
        assert_eq!(b.event_type.as_deref(), v["EventType"].as_str(), "{f}");
        assert_eq!(Some(b.id.as_str()), v["EventId"].as_str(), "{f}");
        assert_eq!(b.value.as_ref(), Some(&v), "{f}");
        for x in &b.findings {
            assert_eq!(x.event.as_deref(), Some(b.id.as_str()), "{f}: {x:#?}");
        }
    }
    let b = judge(&fixture(DOC_V1));
    assert_eq!(b.kind, Kind::V1);
    assert_eq!(b.event_type, None);
    assert_eq!(b.id, "bc2d0a41-2711-4f9b-8619-e54104fe90d8");
}

#[test]
fn compact_2x_events_have_no_warn_or_fail() {
    for f in CORPUS {
        let b = judge(&compact(&parse(&fixture(f))));
        assert!(loud(&b.findings).is_empty(), "{f}: {:#?}", b.findings);
        clean(&b);
    }
    for t in ["FileClosed", "SessionEnded"] {
        clean(&judge(&compact(&event(t))));
    }
    // v1 has no booleans to miss: compact is entirely clean.
    clean(&judge(&compact(&v1())));
}

#[test]
fn fixtures_are_pretty_printed_as_published() {
    // Byte-level facts the tests above rely on: the files are as published, not
    // normalised (pretty, raw UTF-8, one final newline).
    for f in all_fixtures() {
        let bytes = fixture(f);
        assert!(bytes.starts_with(b"{\n  "), "{f}");
        assert!(bytes.ends_with(b"}\n"), "{f}");
        assert!(!bytes.starts_with(b"\xEF\xBB\xBF"), "{f}");
        assert!(!String::from_utf8(bytes).unwrap().contains("\\u"), "{f}");
    }
}

// ---------------------------------------------------------------------------------
// T1: method

#[test]
fn t1_trips_on_get_and_put() {
    for m in ["GET", "PUT", "post"] {
        let fs = judge_request(m, &sender_headers("", &[]));
        let f = one(trips(&fs, "T1"));
        assert_eq!(f.level, Level::Fail);
        assert_eq!(f.expected.as_deref(), Some("POST"));
        assert_eq!(f.found.as_deref(), Some(m));
    }
}

#[test]
fn t1_quiet_on_post() {
    let fs = judge_request("POST", &sender_headers("", &[]));
    quiet(&fs, "T1");
    assert!(fs.is_empty(), "{fs:#?}");
}

// ---------------------------------------------------------------------------------
// T2: Content-Type

#[test]
fn t2_charset_parameter_is_warn() {
    for ct in [
        "application/json; charset=utf-8",
        "application/json;charset=UTF-8",
    ] {
        let fs = judge_request("POST", &sender_headers("content-type", &[("Content-Type", ct)]));
        let f = one(trips(&fs, "T2"));
        assert_eq!(f.level, Level::Warn, "{ct}");
        assert_eq!(f.found.as_deref(), Some(ct));
        has_expected_and_found(f);
    }
}

#[test]
fn t2_foreign_media_type_fails() {
    for ct in [
        "text/plain",
        "text/plain; charset=utf-8",
        "application/x-www-form-urlencoded",
    ] {
        let fs = judge_request("POST", &sender_headers("content-type", &[("Content-Type", ct)]));
        let f = one(trips(&fs, "T2"));
        assert_eq!(f.level, Level::Fail, "{ct}");
        assert_eq!(f.found.as_deref(), Some(ct));
        has_expected_and_found(f);
    }
}

#[test]
fn t2_missing_content_type_fails() {
    let fs = judge_request("POST", &sender_headers("content-type", &[]));
    let f = one(trips(&fs, "T2"));
    assert_eq!(f.level, Level::Fail);
    assert_eq!(f.found.as_deref(), Some("nothing"));
}

#[test]
fn t2_quiet_on_exact_header_any_name_case() {
    for name in ["Content-Type", "content-type", "CONTENT-TYPE"] {
        let fs = judge_request(
            "POST",
            &sender_headers("content-type", &[(name, "application/json")]),
        );
        quiet(&fs, "T2");
        assert!(fs.is_empty(), "{fs:#?}");
    }
}

// ---------------------------------------------------------------------------------
// T3: User-Agent

#[test]
fn t3_missing_user_agent_fails() {
    let fs = judge_request("POST", &sender_headers("user-agent", &[]));
    let f = one(trips(&fs, "T3"));
    assert_eq!(f.level, Level::Fail);
    assert_eq!(f.found.as_deref(), Some("nothing"));
    has_expected_and_found(f);
}

#[test]
fn t3_foreign_user_agent_fails() {
    for ua in [
        "curl/8.5.0",
        "BililiveRecorder",
        "BililiveRecorder/2.17",
        "Mozilla/5.0 BililiveRecorder/2.17.3",
    ] {
        let fs = judge_request("POST", &sender_headers("user-agent", &[("User-Agent", ua)]));
        let f = one(trips(&fs, "T3"));
        assert_eq!(f.level, Level::Fail, "{ua}");
        assert_eq!(f.found.as_deref(), Some(ua));
        has_expected_and_found(f);
    }
}

#[test]
fn t3_quiet_on_release_pre_release_and_build() {
    for ua in [
        "BililiveRecorder/2.17.3",
        "BililiveRecorder/1.3.1",
        "BililiveRecorder/2.6.0-beta.1",
        "BililiveRecorder/2.6.0-beta.1+Branch.dev.Sha.abc1234",
    ] {
        let fs = judge_request("POST", &sender_headers("user-agent", &[("User-Agent", ua)]));
        quiet(&fs, "T3");
        assert!(fs.is_empty(), "{ua}: {fs:#?}");
    }
}

// ---------------------------------------------------------------------------------
// T5: framing

#[test]
fn t5_missing_content_length_is_info() {
    let fs = judge_request("POST", &sender_headers("content-length", &[]));
    let f = one(notes(&fs, "T5"));
    assert_eq!(f.found.as_deref(), Some("nothing"));
    has_expected_and_found(f);
}

#[test]
fn t5_chunked_is_info_and_named() {
    let fs = judge_request(
        "POST",
        &sender_headers("content-length", &[("Transfer-Encoding", "chunked")]),
    );
    let f = one(notes(&fs, "T5"));
    assert!(f.message.contains("chunked"), "{f:#?}");
    assert!(f.found.as_deref().unwrap().contains("chunked"), "{f:#?}");
}

#[test]
fn t5_quiet_with_content_length() {
    let fs = judge_request(
        "POST",
        &sender_headers("content-length", &[("content-length", "0")]),
    );
    quiet(&fs, "T5");
    assert!(fs.is_empty(), "{fs:#?}");
}

// ---------------------------------------------------------------------------------
// T4: one UTF-8 JSON object

/// A valid compact 2.x event.
fn good() -> Vec<u8> {
    compact(&event("SessionStarted"))
}

#[test]
fn t4_quiet_on_compact_object() {
    let b = judge(&good());
    quiet(&b.findings, "T4");
    clean(&b);
}

#[test]
fn t4_bom_trips_and_rest_is_still_judged() {
    let mut bytes = b"\xEF\xBB\xBF".to_vec();
    bytes.extend(good());
    let b = judge(&bytes);
    let f = one(trips(&b.findings, "T4"));
    assert_eq!(f.level, Level::Fail);
    has_expected_and_found(f);
    assert_eq!(b.kind, Kind::V2);
    assert_eq!(b.id, "e3e1c9ec-f386-4bc3-9e5a-661bf3ed2fb2");
}

#[test]
fn t4_invalid_utf8_trips() {
    // A lone continuation byte and a truncated 3-byte sequence inside Name.
    for bad in [&b"\x80"[..], &b"\xE7\x9B"[..], &b"\xFF"[..]] {
        let text = String::from_utf8(good()).unwrap();
        let (head, tail) = text.split_once("3号直播间").unwrap();
        let mut bytes = head.as_bytes().to_vec();
        bytes.extend_from_slice(bad);
        bytes.extend_from_slice(tail.as_bytes());
        let b = judge(&bytes);
        let f = one(trips(&b.findings, "T4"));
        assert_eq!(f.level, Level::Fail);
        has_expected_and_found(f);
        assert_eq!(b.kind, Kind::Other);
        assert!(b.id.starts_with("body:"), "{}", b.id);
    }
}

#[test]
fn t4_trailing_data_trips() {
    let mut two = good();
    two.extend(good());
    let mut junk = good();
    junk.extend(b"x");
    let mut nul = good();
    nul.push(0);
    for bytes in [two, junk, nul] {
        let b = judge(&bytes);
        let f = one(trips(&b.findings, "T4"));
        assert!(f.message.contains("trailing"), "{f:#?}");
        has_expected_and_found(f);
        assert_eq!(b.kind, Kind::Other);
    }
}

#[test]
fn t4_empty_body_trips() {
    for bytes in [&b""[..], &b"   \r\n"[..]] {
        let b = judge(bytes);
        let f = one(trips(&b.findings, "T4"));
        assert!(f.message.contains("empty"), "{f:#?}");
        has_expected_and_found(f);
        assert_eq!(b.kind, Kind::Other);
    }
}

#[test]
fn t4_non_object_json_trips() {
    let mut array = b"[".to_vec();
    array.extend(good());
    array.extend(b"]");
    for bytes in [array, b"null".to_vec(), b"\"x\"".to_vec(), b"42".to_vec()] {
        let b = judge(&bytes);
        let f = one(trips(&b.findings, "T4"));
        assert!(f.message.contains("not an object"), "{f:#?}");
        has_expected_and_found(f);
        assert_eq!(b.kind, Kind::Other);
        assert_eq!(b.value, None);
    }
}

#[test]
fn t4_not_json_trips() {
    for bytes in [&b"{\"EventType\":"[..], &b"EventType=SessionStarted"[..]] {
        let b = judge(bytes);
        one(trips(&b.findings, "T4"));
    }
}

#[test]
fn t4_deep_nesting_neither_panics_nor_overflows() {
    let n = 10_000;
    let open = "[".repeat(n);
    let closed = format!("{}{}", "[".repeat(n), "]".repeat(n));
    let objects = format!("{}1{}", "{\"a\":".repeat(n), "}".repeat(n));
    let in_event = {
        // Deep nesting inside an otherwise valid event, as an extra field.
        let text = String::from_utf8(good()).unwrap();
        let tail = format!(",\"Extra\":{}{}}}", "[".repeat(n), "]".repeat(n));
        format!("{}{tail}", &text[..text.len() - 1])
    };
    for body in [open, closed, objects, in_event] {
        // Judge on a thread with an ordinary 2 MiB stack (like a test or tokio thread).
        let b = std::thread::Builder::new()
            .stack_size(2 * 1024 * 1024)
            .spawn(move || judge(body.as_bytes()))
            .unwrap()
            .join()
            .expect("judge panicked or overflowed");
        let f = one(trips(&b.findings, "T4"));
        has_expected_and_found(f);
        assert_eq!(b.kind, Kind::Other);
    }
}

#[test]
fn t4_twenty_megabyte_string_body_does_not_panic() {
    let big = "直".repeat(20 * 1024 * 1024 / 3);
    // A bare JSON string: not an object.
    let b = judge(format!("\"{big}\"").as_bytes());
    let f = one(trips(&b.findings, "T4"));
    assert!(f.found.as_deref().unwrap().chars().count() <= 80, "found is cut");
    // Not JSON at all.
    let b = judge(big.as_bytes());
    one(trips(&b.findings, "T4"));
    // A valid event whose Title is 20 MB: still one JSON object, judged quietly.
    let b = judge(&compact(&with(
        event("SessionStarted"),
        "/EventData/Title",
        json!(big),
    )));
    clean(&b);
}

// ---------------------------------------------------------------------------------
// S1: the v2 envelope

#[test]
fn s1_missing_event_id() {
    let bytes = compact(&without(event("SessionStarted"), "/EventId"));
    let b = judge(&bytes);
    let f = one(trips(&b.findings, "S1"));
    assert_eq!(f.pointer.as_deref(), Some("/EventId"));
    assert_eq!(f.found.as_deref(), Some("nothing"));
    has_expected_and_found(f);
    assert_eq!(b.kind, Kind::V2);
    assert!(b.id.starts_with("body:"), "no EventId: identity is the hash");
}

#[test]
fn s1_missing_each_envelope_field() {
    for field in ["EventType", "EventTimestamp", "EventId"] {
        let b = judge(&compact(&without(event("SessionStarted"), &format!("/{field}"))));
        let f = one(trips(&b.findings, "S1"));
        assert_eq!(f.pointer.as_deref(), Some(&format!("/{field}")[..]));
        assert_eq!(f.found.as_deref(), Some("nothing"));
    }
}

#[test]
fn s1_missing_event_data() {
    let b = judge(&compact(&without(event("SessionStarted"), "/EventData")));
    let f = one(trips(&b.findings, "S1"));
    assert_eq!(f.pointer.as_deref(), Some("/EventData"));
    assert_eq!(f.found.as_deref(), Some("nothing"));
}

#[test]
fn s1_event_timestamp_without_offset() {
    for ts in ["2021-05-14T17:52:44.4960899", "2021-05-14 17:52:44"] {
        let b = judge(&compact(&with(
            event("SessionStarted"),
            "/EventTimestamp",
            json!(ts),
        )));
        let f = one(trips(&b.findings, "S1"));
        assert_eq!(f.pointer.as_deref(), Some("/EventTimestamp"));
        assert_eq!(f.found.as_deref(), Some(&format!("\"{ts}\"")[..]));
        has_expected_and_found(f);
    }
}

#[test]
fn s1_event_id_not_a_guid() {
    let b = judge(&compact(&with(
        event("SessionStarted"),
        "/EventId",
        json!("not-a-guid"),
    )));
    let f = one(trips(&b.findings, "S1"));
    assert_eq!(f.pointer.as_deref(), Some("/EventId"));
    assert_eq!(f.found.as_deref(), Some("\"not-a-guid\""));
    has_expected_and_found(f);
}

#[test]
fn s1_event_data_a_string() {
    let b = judge(&compact(&with(
        event("SessionStarted"),
        "/EventData",
        json!("{\"RoomId\":23058}"),
    )));
    let fs = trips(&b.findings, "S1");
    let f = one(fs);
    assert_eq!(f.pointer.as_deref(), Some("/EventData"));
    has_expected_and_found(f);
}

#[test]
fn s1_event_data_a_string_unknown_type() {
    let v = with(event("SessionStarted"), "/EventType", json!("RoomChanged"));
    let b = judge(&compact(&with(v, "/EventData", json!("x"))));
    let f = one(trips(&b.findings, "S1"));
    assert_eq!(f.pointer.as_deref(), Some("/EventData"));
}

#[test]
fn s1_event_type_not_a_string() {
    let b = judge(&compact(&with(event("SessionStarted"), "/EventType", json!(1))));
    let f = one(trips(&b.findings, "S1"));
    assert_eq!(f.pointer.as_deref(), Some("/EventType"));
    assert_eq!(b.event_type, None);
}

#[test]
fn s1_neither_v2_nor_v1() {
    let b = judge(br#"{"hello":"world"}"#);
    let f = one(trips(&b.findings, "S1"));
    assert_eq!(f.pointer.as_deref(), Some(""));
    assert!(f.found.as_deref().unwrap().contains("hello"), "{f:#?}");
    assert_eq!(b.kind, Kind::Other);
}

#[test]
fn s1_quiet_on_real_envelopes() {
    // Offsets other than +08:00, 0-7 fraction digits, uppercase T: all real forms.
    for ts in [
        "2021-05-14T17:52:44.4960899+08:00",
        "2021-05-14T17:52:44.49+08:00",
        "2021-05-14T17:52:44+08:00",
        "2021-05-14T09:52:44.4960899+00:00",
        "2021-05-14T04:52:44.5-05:00",
    ] {
        let b = judge(&compact(&with(
            event("SessionStarted"),
            "/EventTimestamp",
            json!(ts),
        )));
        quiet(&b.findings, "S1");
        clean(&b);
    }
}

// ---------------------------------------------------------------------------------
// S2: EventData against its type

#[test]
fn s2_room_id_as_string() {
    let b = judge(&compact(&with(
        event("SessionStarted"),
        "/EventData/RoomId",
        json!("23058"),
    )));
    let f = one(trips(&b.findings, "S2"));
    assert_eq!(f.pointer.as_deref(), Some("/EventData/RoomId"));
    assert_eq!(f.found.as_deref(), Some("\"23058\""));
    has_expected_and_found(f);
}

#[test]
fn s2_room_id_as_float_spelling() {
    let bytes = replace_once(&good(), "\"RoomId\":23058,", "\"RoomId\":23058.0,");
    let b = judge(&bytes);
    let fs = trips(&b.findings, "S2");
    assert!(!fs.is_empty());
    for f in &fs {
        assert_eq!(f.pointer.as_deref(), Some("/EventData/RoomId"), "{f:#?}");
        has_expected_and_found(f);
    }
    assert!(
        fs.iter().any(|f| f.found.as_deref() == Some("23058.0")),
        "{fs:#?}"
    );
    // Exponent spelling too.
    let bytes = replace_once(&good(), "\"ShortId\":3,", "\"ShortId\":3e0,");
    let b = judge(&bytes);
    let fs = trips(&b.findings, "S2");
    assert!(fs
        .iter()
        .all(|f| f.pointer.as_deref() == Some("/EventData/ShortId")));
}

#[test]
fn s2_file_size_missing_in_file_closed() {
    let b = judge(&compact(&without(event("FileClosed"), "/EventData/FileSize")));
    let f = one(trips(&b.findings, "S2"));
    assert_eq!(f.pointer.as_deref(), Some("/EventData/FileSize"));
    assert_eq!(f.found.as_deref(), Some("nothing"));
    assert!(f.message.contains("missing"), "{f:#?}");
    has_expected_and_found(f);
}

#[test]
fn s2_recording_not_boolean() {
    let b = judge(&compact(&with(
        event("SessionStarted"),
        "/EventData/Recording",
        json!(1),
    )));
    let f = one(trips(&b.findings, "S2"));
    assert_eq!(f.pointer.as_deref(), Some("/EventData/Recording"));
    assert_eq!(f.found.as_deref(), Some("1"));
    has_expected_and_found(f);
    quiet(&b.findings, "S7");
}

#[test]
fn s2_more_type_rules() {
    // SessionId missing where required, a local time without offset in a file field,
    // RoomId beyond int32, Duration a string.
    let cases = [
        (
            without(event("FileOpening"), "/EventData/SessionId"),
            "/EventData/SessionId",
        ),
        (
            with(
                event("FileClosed"),
                "/EventData/FileOpenTime",
                json!("2021-05-14T17:52:50.5246401"),
            ),
            "/EventData/FileOpenTime",
        ),
        (
            with(
                event("SessionEnded"),
                "/EventData/RoomId",
                json!(2_147_483_648_i64),
            ),
            "/EventData/RoomId",
        ),
        (
            with(event("FileClosed"), "/EventData/Duration", json!("4.992")),
            "/EventData/Duration",
        ),
    ];
    for (v, pointer) in cases {
        let b = judge(&compact(&v));
        let f = one(trips(&b.findings, "S2"));
        assert_eq!(f.pointer.as_deref(), Some(pointer), "{f:#?}");
        has_expected_and_found(f);
    }
}

#[test]
fn s2_quiet_on_real_values() {
    let cases = [
        // FileSize above 2^32, Duration a whole double, ShortId 0, empty strings.
        with(
            event("FileClosed"),
            "/EventData/FileSize",
            json!(3_749_098_123_u64),
        ),
        with(event("SessionStarted"), "/EventData/ShortId", json!(0)),
        with(event("SessionStarted"), "/EventData/AreaNameChild", json!("")),
        // StreamStarted/StreamEnded have no SessionId.
        event("StreamStarted"),
        event("StreamEnded"),
    ];
    for v in cases {
        let b = judge(&compact(&v));
        quiet(&b.findings, "S2");
        clean(&b);
    }
    // Duration 5.0: a number field may carry a fraction (raw bytes).
    let bytes = replace_once(
        &compact(&event("FileClosed")),
        "\"Duration\":4.992,",
        "\"Duration\":5.0,",
    );
    clean(&judge(&bytes));
    // Fraction elsewhere in the body, in a field that is not an integer field.
    let bytes = replace_once(&good(), "\"RoomId\":23058,", "\"RoomId\":23058,\"Ratio\":1.0,");
    let b = judge(&bytes);
    quiet(&b.findings, "S2");
}

// ---------------------------------------------------------------------------------
// S3: unknown EventType

#[test]
fn s3_unknown_event_type_is_info() {
    let v = with(event("SessionStarted"), "/EventType", json!("RoomChanged"));
    let b = judge(&compact(&v));
    let f = one(notes(&b.findings, "S3"));
    assert_eq!(f.pointer.as_deref(), Some("/EventType"));
    assert_eq!(f.found.as_deref(), Some("RoomChanged"));
    assert_eq!(b.event_type.as_deref(), Some("RoomChanged"));
    // Only the envelope is checked: EventData may hold anything.
    let v = with(v, "/EventData", json!({"RoomId": "x", "Whatever": [1.5]}));
    let b = judge(&compact(&v));
    one(notes(&b.findings, "S3"));
    quiet(&b.findings, "S4");
}

#[test]
fn s3_quiet_on_known_types() {
    for t in brhook::testkit::protocol::EventKind::ALL.map(|k| k.as_str()) {
        let b = judge(&compact(&event(t)));
        quiet(&b.findings, "S3");
    }
}

// ---------------------------------------------------------------------------------
// S4: fields beyond the schema

#[test]
fn s4_extra_field_in_event_data() {
    let v = with(event("FileClosed"), "/EventData/Bitrate", json!(6000));
    let b = judge(&compact(&v));
    let f = one(notes(&b.findings, "S4"));
    assert_eq!(f.pointer.as_deref(), Some("/EventData/Bitrate"));
    assert!(f.message.contains("Bitrate"), "{f:#?}");
    assert_eq!(f.found.as_deref(), Some("6000"));
}

#[test]
fn s4_extra_field_at_top_level() {
    let v = with(event("SessionStarted"), "/EventVersion", json!(2));
    let b = judge(&compact(&v));
    let f = one(notes(&b.findings, "S4"));
    assert_eq!(f.pointer.as_deref(), Some("/EventVersion"));
    assert!(f.message.contains("EventVersion"), "{f:#?}");
}

#[test]
fn s4_extra_field_name_is_escaped_in_pointer() {
    let v = with(event("SessionStarted"), "/EventData/a~b", json!(true));
    let v = {
        // `with` splits on '/', so insert a key holding '/' directly.
        let mut v = v;
        v["EventData"]
            .as_object_mut()
            .unwrap()
            .insert("x/y".into(), json!(1));
        v
    };
    let b = judge(&compact(&v));
    let ptrs: BTreeSet<_> = notes(&b.findings, "S4")
        .iter()
        .map(|f| f.pointer.clone().unwrap())
        .collect();
    assert_eq!(
        ptrs,
        BTreeSet::from(["/EventData/a~0b".to_string(), "/EventData/x~1y".to_string()])
    );
}

#[test]
fn s4_extra_field_in_v1() {
    let b = judge(&compact(&with(v1(), "/Duration", json!(3600.0))));
    let f = one(notes(&b.findings, "S4"));
    assert_eq!(f.pointer.as_deref(), Some("/Duration"));
}

#[test]
fn s4_quiet_on_declared_fields() {
    // The 2.x booleans and the file fields are declared, not extras; StreamStarted's
    // EventData has exactly the room fields.
    for t in ["SessionStarted", "FileOpening", "FileClosed", "StreamStarted"] {
        quiet(&judge(&compact(&event(t))).findings, "S4");
    }
    quiet(&judge(&compact(&v1())).findings, "S4");
}

// ---------------------------------------------------------------------------------
// S5: v1 record

#[test]
fn s5_v1_file_size_as_string() {
    let b = judge(&compact(&with(v1(), "/FileSize", json!("3749098123"))));
    let f = one(trips(&b.findings, "S5"));
    assert_eq!(f.pointer.as_deref(), Some("/FileSize"));
    assert_eq!(f.found.as_deref(), Some("\"3749098123\""));
    has_expected_and_found(f);
    assert_eq!(b.kind, Kind::V1);
}

#[test]
fn s5_v1_missing_event_random_id() {
    let b = judge(&compact(&without(v1(), "/EventRandomId")));
    let f = one(trips(&b.findings, "S5"));
    assert_eq!(f.pointer.as_deref(), Some("/EventRandomId"));
    assert_eq!(f.found.as_deref(), Some("nothing"));
    has_expected_and_found(f);
    assert_eq!(b.kind, Kind::V1);
    assert!(b.id.starts_with("body:"), "{}", b.id);
}

#[test]
fn s5_v1_room_id_as_float_spelling() {
    let bytes = replace_once(&compact(&v1()), "\"RoomId\":14846654,", "\"RoomId\":14846654.0,");
    let b = judge(&bytes);
    let fs = trips(&b.findings, "S5");
    assert!(
        fs.iter().any(|f| f.found.as_deref() == Some("14846654.0")),
        "{fs:#?}"
    );
    for f in &fs {
        assert_eq!(f.pointer.as_deref(), Some("/RoomId"));
        has_expected_and_found(f);
    }
}

#[test]
fn s5_v1_local_time_without_offset() {
    let b = judge(&compact(&with(
        v1(),
        "/EndRecordTime",
        json!("2021-01-07T16:06:16.1693244"),
    )));
    let f = one(trips(&b.findings, "S5"));
    assert_eq!(f.pointer.as_deref(), Some("/EndRecordTime"));
}

#[test]
fn s5_quiet_on_the_doc_record() {
    // FileSize 3749098123 exceeds 2^32 and is a valid int64.
    let b = judge(&compact(&v1()));
    quiet(&b.findings, "S5");
    clean(&b);
    // Other fraction spelling in a v1 record outside integer fields: not S5.
    let b = judge(&compact(&with(v1(), "/Duration", json!(1.5))));
    quiet(&b.findings, "S5");
}

// ---------------------------------------------------------------------------------
// S6: value forms of the real sender

fn s6_at(b: &Body, pointer: &str) {
    let f = one(trips(&b.findings, "S6"));
    assert_eq!(f.level, Level::Warn);
    assert_eq!(f.pointer.as_deref(), Some(pointer), "{f:#?}");
    has_expected_and_found(f);
}

#[test]
fn s6_uppercase_event_id() {
    let b = judge(&compact(&with(
        event("SessionStarted"),
        "/EventId",
        json!("E3E1C9EC-F386-4BC3-9E5A-661BF3ED2FB2"),
    )));
    s6_at(&b, "/EventId");
    // The same for SessionId inside EventData.
    let b = judge(&compact(&with(
        event("FileClosed"),
        "/EventData/SessionId",
        json!("7C7F3672-70CE-405A-AA12-886702CED6E5"),
    )));
    s6_at(&b, "/EventData/SessionId");
}

#[test]
fn s6_eight_fraction_digits() {
    let b = judge(&compact(&with(
        event("SessionStarted"),
        "/EventTimestamp",
        json!("2021-05-14T17:52:44.49608991+08:00"),
    )));
    s6_at(&b, "/EventTimestamp");
    let b = judge(&compact(&with(
        event("FileOpening"),
        "/EventData/FileOpenTime",
        json!("2021-05-14T17:52:50.52464012+08:00"),
    )));
    s6_at(&b, "/EventData/FileOpenTime");
}

#[test]
fn s6_z_instead_of_offset() {
    let b = judge(&compact(&with(
        event("SessionStarted"),
        "/EventTimestamp",
        json!("2021-05-14T09:52:44.4960899Z"),
    )));
    s6_at(&b, "/EventTimestamp");
    let b = judge(&compact(&with(
        v1(),
        "/StartRecordTime",
        json!("2021-01-07T07:06:16.1387156Z"),
    )));
    s6_at(&b, "/StartRecordTime");
}

#[test]
fn s6_unicode_escape_in_name() {
    let bytes = replace_once(&good(), "\"Name\":\"3号直播间\"", "\"Name\":\"3号\\u76f4播间\"");
    let b = judge(&bytes);
    s6_at(&b, "/EventData/Name");
    // It is the same value: only the spelling differs.
    assert_eq!(b.value.as_ref().unwrap()["EventData"]["Name"], "3号直播间");
}

#[test]
fn s6_pretty_printed() {
    let bytes = serde_json::to_vec_pretty(&event("SessionStarted")).unwrap();
    let b = judge(&bytes);
    s6_at(&b, "");
    // One space after a colon is enough.
    let bytes = replace_once(&good(), "\"ShortId\":3,", "\"ShortId\": 3,");
    s6_at(&judge(&bytes), "");
}

#[test]
fn s6_quiet_on_sender_forms() {
    let cases = [
        // 7 digits, trimmed digits, none; +00:00 for UTC.
        with(
            event("SessionStarted"),
            "/EventTimestamp",
            json!("2021-05-14T17:52:44.4960899+08:00"),
        ),
        with(
            event("SessionStarted"),
            "/EventTimestamp",
            json!("2021-05-14T17:52:44.49+08:00"),
        ),
        with(
            event("SessionStarted"),
            "/EventTimestamp",
            json!("2021-05-14T17:52:44+08:00"),
        ),
        with(
            event("SessionStarted"),
            "/EventTimestamp",
            json!("2021-05-14T09:52:44.4960899+00:00"),
        ),
        // Raw emoji, quotes and backslashes in a name.
        with(
            event("SessionStarted"),
            "/EventData/Name",
            json!("3号\"直播\"间\\😀"),
        ),
        // A string that merely looks uppercase-ish but is not a GUID field.
        with(
            event("SessionStarted"),
            "/EventData/Title",
            json!("E3E1C9EC-F386-4BC3-9E5A-661BF3ED2FB2"),
        ),
    ];
    for v in cases {
        let b = judge(&compact(&v));
        quiet(&b.findings, "S6");
        clean(&b);
    }
    // Escapes the sender does write: ASCII controls and quotes.
    let bytes = replace_once(
        &good(),
        "\"Title\":\"哔哩哔哩音悦台\"",
        "\"Title\":\"哔哩\\n\\u0001\\\"音悦台\"",
    );
    let b = judge(&bytes);
    quiet(&b.findings, "S6");
    clean(&b);
    // Spaces inside strings are not whitespace between tokens.
    let b = judge(&compact(&with(
        event("SessionStarted"),
        "/EventData/Title",
        json!("a b\tc"),
    )));
    quiet(&b.findings, "S6");
}

// ---------------------------------------------------------------------------------
// S7: the 2.x booleans

#[test]
fn s7_absent_booleans_is_info() {
    // The doc's (1.3-era) example, compact.
    let b = judge(&compact(&parse(&fixture("doc/FileClosed.json"))));
    let f = one(notes(&b.findings, "S7"));
    assert_eq!(f.pointer.as_deref(), Some("/EventData"));
    has_expected_and_found(f);
    // Only one of the three missing: it is named, the others are not.
    let b = judge(&compact(&without(
        event("SessionStarted"),
        "/EventData/Streaming",
    )));
    let f = one(notes(&b.findings, "S7"));
    assert!(f.message.contains("Streaming"), "{f:#?}");
    assert!(!f.message.contains("Recording"), "{f:#?}");
}

#[test]
fn s7_quiet_when_present_or_v1() {
    for t in ["SessionStarted", "FileClosed", "StreamEnded"] {
        quiet(&judge(&compact(&event(t))).findings, "S7");
    }
    // Present but false is present.
    let v = with(event("SessionStarted"), "/EventData/Recording", json!(false));
    quiet(&judge(&compact(&v)).findings, "S7");
    // v1 records never had them.
    quiet(&judge(&compact(&v1())).findings, "S7");
}

#[test]
fn s7_quiet_when_event_data_is_not_an_object() {
    let b = judge(&compact(&with(event("SessionStarted"), "/EventData", json!("x"))));
    quiet(&b.findings, "S7");
}

/// Other .NET GUID forms (32 hex digits, braced) fail S1: the schema's `format: uuid`
/// is the hyphenated form the doc shows and receivers parse; S6 covers only the
/// uppercase spelling of that form.
#[test]
fn s1_guid_in_other_form_fails() {
    for id in [
        "e3e1c9ecf3864bc39e5a661bf3ed2fb2",
        "{e3e1c9ec-f386-4bc3-9e5a-661bf3ed2fb2}",
    ] {
        let b = judge(&compact(&with(event("SessionStarted"), "/EventId", json!(id))));
        let loud: Vec<_> = loud(&b.findings).into_iter().collect();
        assert_eq!(loud, ["S1"], "{id}");
    }
}

// ---------------------------------------------------------------------------------
// Duplicate keys: the S check of the object that holds them

#[test]
fn a_key_written_twice_fails_the_s_check_of_its_object() {
    // In EventData: S2. The value that wins differs between receivers.
    let body = compact(&event("SessionStarted"));
    let dup = replace_once(&body, "\"RoomId\":23058", "\"RoomId\":23058,\"RoomId\":1");
    let b = judge(&dup);
    let f = one(trips(&b.findings, "S2"));
    assert_eq!(f.pointer.as_deref(), Some("/EventData/RoomId"));
    has_expected_and_found(f);
    // In the envelope: S1.
    let dup = replace_once(
        &body,
        "{\"EventType\":",
        "{\"EventType\":\"FileOpening\",\"EventType\":",
    );
    let b = judge(&dup);
    let f = one(trips(&b.findings, "S1"));
    assert_eq!(f.pointer.as_deref(), Some("/EventType"));
    // In a v1 record: S5.
    let rec = compact(&v1());
    let dup = replace_once(&rec, "\"RoomId\":", "\"RoomId\":1,\"RoomId\":");
    let b = judge(&dup);
    let f = one(trips(&b.findings, "S5"));
    assert_eq!(f.pointer.as_deref(), Some("/RoomId"));
    // The same key in two different objects is no duplicate.
    quiet(&judge(&body).findings, "S2");
    let nested = br#"{"a":{"k":1},"b":{"k":2}}"#;
    assert!(
        brhook::testkit::lexical::scan(std::str::from_utf8(nested).unwrap())
            .duplicate_keys
            .is_empty()
    );
}

#[test]
fn s6_names_every_problem_of_a_value() {
    let b = judge(&compact(&with(
        event("SessionStarted"),
        "/EventTimestamp",
        json!("2021-05-14T09:52:44.123456789Z"),
    )));
    let fs = trips(&b.findings, "S6");
    assert_eq!(fs.len(), 2, "{fs:#?}");
    assert!(fs.iter().all(|f| f.pointer.as_deref() == Some("/EventTimestamp")));
    assert!(fs
        .iter()
        .any(|f| f.message.contains("more than 7 fraction digits")));
    assert!(fs.iter().any(|f| f.message.contains("uses Z")));
}

#[test]
fn s6_html_safe_escapes_are_not_the_senders() {
    // Go's encoding/json writes & < > as \u0026 \u003c \u003e; Newtonsoft writes them raw.
    for esc in ["\\u0026", "\\u003c", "\\u003e"] {
        let bytes = replace_once(
            &good(),
            "\"Title\":\"哔哩哔哩音悦台\"",
            &format!("\"Title\":\"a{esc}b\""),
        );
        let b = judge(&bytes);
        s6_at(&b, "/EventData/Title");
    }
    // The same characters raw are the sender's form.
    let bytes = replace_once(&good(), "\"Title\":\"哔哩哔哩音悦台\"", "\"Title\":\"a&<>'b\"");
    quiet(&judge(&bytes).findings, "S6");
}
