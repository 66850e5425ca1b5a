//! Properties of `brhook::testkit::gen` against the body judge:
//! (a) every generated valid body (v2 event, v1 record) has no finding at warn or fail;
//! (b) every single-field mutation fails its expected check, and no other check fails.

mod common;

use brhook::testkit::body::{judge, Body, Kind};
use brhook::testkit::catalog::Level;
use brhook::testkit::gen::{self, EventKind, File, Room, State, V2x};
use proptest::prelude::*;
use serde_json::Value;

fn above_info(b: &Body) -> Vec<String> {
    b.findings
        .iter()
        .filter(|f| f.level > Level::Info)
        .map(|f| {
            format!(
                "{} {} {:?} {}: {:?}",
                f.level, f.check, f.pointer, f.message, f.found
            )
        })
        .collect()
}

fn assert_clean(v: &Value, kind: Kind) -> Result<(), TestCaseError> {
    let bytes = gen::serialize(v);
    let b = judge(&bytes);
    prop_assert_eq!(b.kind, kind, "body: {}", String::from_utf8_lossy(&bytes));
    let bad = above_info(&b);
    prop_assert!(
        bad.is_empty(),
        "{:#?}\nbody: {}",
        bad,
        String::from_utf8_lossy(&bytes)
    );
    Ok(())
}

/// Checks a mutated body: its check fails, and no other check fails.
fn assert_mutation_caught(m: &gen::Mutated) -> Result<(), TestCaseError> {
    let b = judge(&m.bytes);
    let expected = m.mutation.check;
    let text = String::from_utf8_lossy(&m.bytes);
    let fails: Vec<_> = b.findings.iter().filter(|f| f.level == Level::Fail).collect();
    prop_assert!(
        fails.iter().any(|f| f.check == expected),
        "{}: no {} failure; findings {:#?}\nbody: {}",
        m.mutation.description,
        expected,
        b.findings,
        text
    );
    let others: Vec<_> = fails.iter().filter(|f| f.check != expected).collect();
    prop_assert!(
        others.is_empty(),
        "{}: unexpected failures {:#?}\nbody: {}",
        m.mutation.description,
        others,
        text
    );
    Ok(())
}

proptest! {
    #![proptest_config(common::proptest_config(256))]

    #[test]
    fn valid_v2_events_are_clean(ev in gen::any_event()) {
        assert_clean(&ev, Kind::V2)?;
    }

    #[test]
    fn valid_v1_records_are_clean(rec in gen::any_v1_record()) {
        assert_clean(&rec, Kind::V1)?;
    }

    #[test]
    fn mutations_fail_their_check(m in gen::mutated_event()) {
        assert_mutation_caught(&m)?;
    }

    #[test]
    fn generated_forms_are_the_senders(t in gen::date_time(), u in gen::guid(), p in gen::relative_path()) {
        let s = gen::format_date_time(&t);
        prop_assert!(is_sender_date_time(&s), "{}", s);
        prop_assert_eq!(gen::parse_time(&s), t);
        let g = gen::format_guid(u);
        prop_assert!(g.len() == 36 && !g.chars().any(|c| c.is_ascii_uppercase()), "{}", g);
        prop_assert!(!p.starts_with('/') && !p.contains('\\') && !p.contains(':'), "{}", p);
        prop_assert!(p.split('/').all(|seg| !seg.is_empty() && seg != ".." && seg != "."), "{}", p);
    }

    #[test]
    fn files_close_after_they_open(f in gen::file()) {
        prop_assert!(f.close_time >= f.open_time);
        prop_assert!(f.size >= 0 && f.duration >= 0.0);
    }
}

/// `YYYY-MM-DDTHH:MM:SS[.d{0,6}[1-9]]±HH:MM`, offset within -12:00..=+14:00.
fn is_sender_date_time(s: &str) -> bool {
    let b = s.as_bytes();
    let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    if b.len() < 25 || !digits(0..4) || !digits(5..7) || !digits(8..10) || !digits(11..13) {
        return false;
    }
    if &s[4..5] != "-" || &s[7..8] != "-" || &s[10..11] != "T" || &s[13..14] != ":" || &s[16..17] != ":" {
        return false;
    }
    let (main, off) = s.split_at(s.len() - 6);
    let frac = &main[19..];
    let frac_ok = frac.is_empty()
        || (frac.starts_with('.')
            && (2..=8).contains(&frac.len())
            && frac[1..].bytes().all(|c| c.is_ascii_digit())
            && !frac.ends_with('0'));
    let ob = off.as_bytes();
    let off_ok =
        matches!(ob[0], b'+' | b'-') && off[1..3].bytes().all(|c| c.is_ascii_digit()) && ob[3] == b':';
    let minutes = off[1..3].parse::<i32>().unwrap_or(99) * 60 + off[4..6].parse::<i32>().unwrap_or(99);
    let signed = if ob[0] == b'-' { -minutes } else { minutes };
    frac_ok && off_ok && (-720..=840).contains(&signed)
}

/// Compacts a pretty-printed fixture, keeping its key order.
fn compact(path: &str) -> Vec<u8> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let v: Value = serde_json::from_str(&text).unwrap();
    gen::serialize(&v)
}

fn doc_ids() -> [uuid::Uuid; 5] {
    [
        "7c7f3672-70ce-405a-aa12-886702ced6e5", // session
        "e3e1c9ec-f386-4bc3-9e5a-661bf3ed2fb2", // SessionStarted
        "6e7b33e5-4695-4d25-87ee-b09f66e20ba0", // FileOpening
        "98f85267-e08c-4f15-ad9a-1fc463d42b0b", // FileClosed
        "e1f4a36e-e34c-4ada-80bb-f6cfc90e99e9", // SessionEnded
    ]
    .map(|s| s.parse().unwrap())
}

/// The doc's four v2 examples and its v1 example, rebuilt by the builders.
fn doc_bodies() -> Vec<(&'static str, Value)> {
    let room = Room::doc_example();
    let file = File::doc_example();
    let [session, started, opening, closed, ended] = doc_ids();
    let t = gen::parse_time;
    let v1_room = Room {
        room_id: 14846654,
        short_id: 0,
        name: "小司无常".into(),
        title: "【跨界冥神】打mua将！".into(),
        area_parent: String::new(),
        area_child: String::new(),
    };
    let v1_file = File {
        relative_path: "14846654/record/20210107/150616.flv".into(),
        open_time: t("2021-01-07T15:06:16.1387156+08:00"),
        close_time: t("2021-01-07T16:06:16.1693244+08:00"),
        size: 3749098123,
        duration: 3600.0,
    };
    vec![
        (
            "SessionStarted",
            gen::session_started(
                &room,
                session,
                t("2021-05-14T17:52:44.4960899+08:00"),
                started,
                false,
            ),
        ),
        (
            "FileOpening",
            gen::file_opening(
                &room,
                session,
                &file,
                t("2021-05-14T17:52:50.5256394+08:00"),
                opening,
                false,
            ),
        ),
        (
            "FileClosed",
            gen::file_closed(
                &room,
                session,
                &file,
                t("2021-05-14T17:52:54.9461101+08:00"),
                closed,
                false,
            ),
        ),
        (
            "SessionEnded",
            gen::session_ended(
                &room,
                session,
                t("2021-05-14T17:52:54.9481095+08:00"),
                ended,
                false,
            ),
        ),
        (
            "v1",
            gen::v1_record(
                &v1_room,
                &v1_file,
                "bc2d0a41-2711-4f9b-8619-e54104fe90d8".parse().unwrap(),
            ),
        ),
    ]
}

#[test]
fn builders_reproduce_the_doc_examples_byte_for_byte() {
    for (name, v) in doc_bodies() {
        let want = compact(&format!("tests/fixtures/doc/{name}.json"));
        assert_eq!(
            String::from_utf8(gen::serialize(&v)).unwrap(),
            String::from_utf8(want).unwrap(),
            "{name}"
        );
    }
}

#[test]
fn builders_reproduce_the_2x_corpus_byte_for_byte() {
    let room = Room {
        area_parent: "电台".into(),
        area_child: "唱见电台".into(),
        ..Room::doc_example()
    };
    let t = gen::parse_time;
    let started = gen::stream_started(
        &room,
        t("2022-05-17T18:17:29.1604718+08:00"),
        "2aafd4be-4a6d-44f6-9178-5b04d1929140".parse().unwrap(),
        true,
    );
    let ended = gen::stream_ended(
        &room,
        t("2022-05-17T18:18:21.3751494+08:00"),
        "b49b0ed1-2d8f-43a6-b5c6-dece91e5402d".parse().unwrap(),
        true,
    );
    let [session, s_id, o_id, ..] = doc_ids();
    let doc_room = Room::doc_example();
    let all_true = State {
        recording: true,
        streaming: true,
        danmaku_connected: true,
    };
    let session_started = gen::session_started(
        &doc_room,
        session,
        t("2021-05-14T17:52:44.4960899+08:00"),
        s_id,
        all_true,
    );
    let file_opening = gen::file_opening(
        &doc_room,
        session,
        &File::doc_example(),
        t("2021-05-14T17:52:50.5256394+08:00"),
        o_id,
        Some(all_true),
    );
    for (file, v) in [
        ("06-brec-docs2x-StreamStarted", started),
        ("07-brec-docs2x-StreamEnded", ended),
        ("08-closely-SessionStarted", session_started),
        ("23-closely-FileOpening", file_opening),
    ] {
        let want = compact(&format!("tests/fixtures/corpus/{file}.json"));
        assert_eq!(
            String::from_utf8(gen::serialize(&v)).unwrap(),
            String::from_utf8(want).unwrap(),
            "{file}"
        );
    }
}

#[test]
fn file_closed_key_order_with_2x_booleans() {
    let room = Room::doc_example();
    let file = File::doc_example();
    let [session, _, _, closed, _] = doc_ids();
    let v = gen::file_closed(&room, session, &file, file.close_time, closed, true);
    let keys: Vec<_> = v["EventData"].as_object().unwrap().keys().cloned().collect();
    assert_eq!(
        keys,
        [
            "RelativePath",
            "FileSize",
            "Duration",
            "FileOpenTime",
            "FileCloseTime",
            "SessionId",
            "RoomId",
            "ShortId",
            "Name",
            "Title",
            "AreaNameParent",
            "AreaNameChild",
            "Recording",
            "Streaming",
            "DanmakuConnected"
        ]
    );
    let top: Vec<_> = v.as_object().unwrap().keys().cloned().collect();
    assert_eq!(top, ["EventType", "EventTimestamp", "EventId", "EventData"]);
}

#[test]
fn value_forms() {
    let t = gen::parse_time;
    for (s, want) in [
        (
            "2021-05-14T17:52:44.4960899+08:00",
            "2021-05-14T17:52:44.4960899+08:00",
        ),
        (
            "2021-05-14T17:52:44.4900000+08:00",
            "2021-05-14T17:52:44.49+08:00",
        ),
        ("2021-05-14T17:52:44.0000000+08:00", "2021-05-14T17:52:44+08:00"),
        ("2021-05-14T09:52:44Z", "2021-05-14T09:52:44+00:00"),
        (
            "2021-05-14T09:52:44.123456789-09:30",
            "2021-05-14T09:52:44.1234567-09:30",
        ),
    ] {
        assert_eq!(gen::format_date_time(&t(s)), want);
    }
    let open = t("2021-05-14T17:52:44.4960899+08:00");
    assert_eq!(gen::later(open, 0, 0), open, "never before start");
    assert_eq!(
        gen::format_date_time(&gen::later(open, 6_000_000, 2)),
        "2021-05-14T17:52:45.09+08:00"
    );

    let mut room = Room::doc_example();
    room.name = "a\u{2028}b\u{85}c\"\\\n\u{1}😀".into();
    let v = gen::stream_started(&room, open, uuid::Uuid::nil(), false);
    let s = String::from_utf8(gen::serialize(&v)).unwrap();
    assert!(s.contains(r#""Name":"a\u2028b\u0085c\"\\\n\u0001😀""#), "{s}");
    let mut f = File::doc_example();
    for (d, text) in [(0.0, "0.0"), (5.0, "5.0"), (4.992, "4.992")] {
        f.duration = d;
        let v = gen::file_closed(&room, uuid::Uuid::nil(), &f, open, uuid::Uuid::nil(), false);
        let s = String::from_utf8(gen::serialize(&v)).unwrap();
        assert!(s.contains(&format!("\"Duration\":{text},")), "{s}");
    }
}

#[test]
fn every_mutation_of_every_known_shape_is_caught() {
    let room = Room {
        short_id: 0,
        ..Room::doc_example()
    };
    let file = File {
        size: i64::MAX,
        duration: 0.0,
        ..File::doc_example()
    };
    let [session, a, ..] = doc_ids();
    let ts = file.close_time;
    let mut bodies: Vec<Value> = doc_bodies().into_iter().map(|(_, v)| v).collect();
    for kind in EventKind::ALL {
        for v2x in [V2x::Absent, V2x::Typical] {
            bodies.push(gen::v2_event(kind, &room, session, &file, ts, a, v2x));
        }
    }
    bodies.push(gen::v1_record(&room, &file, a));
    let mut n = 0;
    for body in bodies {
        assert_clean(
            &body,
            if body.get("EventType").is_some() {
                Kind::V2
            } else {
                Kind::V1
            },
        )
        .unwrap();
        for m in gen::mutations(&body) {
            let bytes = m.apply(&body);
            let mutated = gen::Mutated {
                original: body.clone(),
                mutation: m,
                bytes,
            };
            assert_mutation_caught(&mutated).unwrap();
            n += 1;
        }
    }
    assert!(n > 500, "only {n} mutations");
}

#[test]
fn raw_number_mutations_reach_the_bytes() {
    let room = Room::doc_example();
    let v = gen::stream_ended(
        &room,
        gen::parse_time("2021-05-14T17:52:44+08:00"),
        uuid::Uuid::nil(),
        false,
    );
    let ms = gen::mutations(&v);
    let float = ms
        .iter()
        .find(|m| m.pointer == "/EventData/RoomId" && m.edit == gen::Edit::Raw("23058.0".into()))
        .expect("a float spelling of RoomId");
    let s = String::from_utf8(float.apply(&v)).unwrap();
    assert!(s.contains(r#""RoomId":23058.0,"ShortId":3"#), "{s}");
    let sci = ms
        .iter()
        .find(|m| m.pointer == "/EventData/RoomId" && matches!(&m.edit, gen::Edit::Raw(r) if r.contains('e')))
        .unwrap();
    assert_eq!(sci.edit, gen::Edit::Raw("2.3058e4".into()));
    let (bytes, check, what): (Vec<u8>, brhook::testkit::catalog::Check, String) =
        gen::mutate(v.clone(), 0).unwrap().into();
    assert_eq!(check, "S1");
    assert!(what.starts_with("/EventType"), "{what}");
    assert!(!bytes.is_empty());
}
