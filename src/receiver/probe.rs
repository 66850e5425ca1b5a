//! The probe: one case per thing R1–R10 ask of a receiver. Each case records in its own
//! room (cases are sent at the same time; a room records one session at a time), so
//! no two files share a path.
//!
//! The two R1 cases are the **baseline**: every known type in 1.3 and in 2.x shape,
//! with ordinary values (the stream events only in 2.x shape: 1.3 had none). Every later case varies one thing (extra fields, a retry, the
//! order, one value form); a failure there counts against its own check only when the
//! same type and shape was answered 2xx in the baseline. Which bodies are the baseline
//! is written to the run's journal, where the journal judge reads it.

use super::cases::{room, Case, Clock, Ctx, Form, Session, Spec, Start, Timing};
use super::template::Template;
use crate::catalog::Check;
use crate::gen::{self, Room};
use serde_json::{json, Value};
use std::time::Duration;
use uuid::Uuid;

/// R10: how long after the event that may be held its partner is sent: long enough that
/// the held one arrives first, short beside any `--slow-after`.
pub(crate) const R10_STAGGER: Duration = Duration::from_millis(25);

/// A room whose strings are what serialisers and parsers trip on: emoji (one a ZWJ
/// sequence), double quotes, backslashes, full-width punctuation.
fn tricky_room(k: usize) -> Room {
    Room {
        room_id: room(k).room_id,
        short_id: 0,
        name: "小司\"无常\"🎮\\直播间".into(),
        title: "【跨界冥神】打mua将！\"quoted\" back\\slash \\\\ 👨‍👩‍👧🎉".into(),
        area_parent: "网游🎲".into(),
        area_child: "英雄联盟 \"LoL\"".into(),
    }
}

/// A room whose name and title hold what a shell expands or splits on: `$`, backticks,
/// `'`, `&`, `;`, and `【】` and emoji. The recorder leaves them in the path.
fn shell_room(k: usize) -> Room {
    Room {
        room_id: room(k).room_id,
        short_id: 0,
        name: "$HOME的`id`直播间".into(),
        title: "【歌回】It's Tom & Jerry; $(date) 🎤🎶".into(),
        area_parent: "娱乐".into(),
        area_child: "唱见电台".into(),
    }
}

/// Adds fields at the top level of a v2 event.
fn with_top_level_extras(mut v: Value) -> Value {
    if let Some(m) = v.as_object_mut() {
        m.insert("EventVersion".into(), json!(3));
        m.insert(
            "Recorder".into(),
            json!({"Version": "9.0.0-preview.1", "Host": "rec-01"}),
        );
    }
    v
}

/// Adds fields inside `EventData`.
fn with_event_data_extras(mut v: Value) -> Value {
    if let Some(d) = v.get_mut("EventData").and_then(Value::as_object_mut) {
        d.insert("ParentAreaId".into(), json!(10));
        d.insert(
            "Cover".into(),
            json!("https://i0.hdslb.com/bfs/live/new_room_cover/cover.jpg"),
        );
        d.insert("Tags".into(), json!(["音乐", "翻唱"]));
        d.insert("Online".into(), json!({"Count": 12345, "Rank": null}));
    }
    v
}

/// Hands out one room per case.
struct Rooms(usize);

impl Rooms {
    fn next(&mut self) -> (Room, Clock) {
        self.0 += 1;
        (room(self.0 - 1), Clock::minutes_ago(30))
    }
}

/// The probe cases. `v1`: the baseline's files get their v1 records (R9), each sent
/// together with its `FileClosed`.
pub(crate) fn probe(ctx: &Ctx, v1: bool) -> Result<Vec<Case>, String> {
    let mut rooms = Rooms(0);
    let mut cases = Vec::new();
    let session = |name: &str, rooms: &mut Rooms, spec: Spec| -> Result<Session, String> {
        let (room, mut clock) = rooms.next();
        let room = if name.starts_with("r8-names") {
            tricky_room(rooms.0 - 1)
        } else if name == "r8-path-shell-characters" {
            shell_room(rooms.0 - 1)
        } else {
            room
        };
        Session::new(ctx, name, &room, &mut clock, spec)
    };

    // R1, the baseline: the known types, in order, in 1.3 shape (the four session
    // events) and in 2.x shape (all six), with ordinary values (a FileSize far below 2^31).
    for (name, v2x, shape) in [("r1-shape-1.3", false, "1.3"), ("r1-shape-2.x", true, "2.x")] {
        let mut c = Case::new(
            name,
            &format!("every known event type of {shape} shape, in order (the baseline)"),
            Start::Delivered,
        );
        let s = session(name, &mut rooms, Spec::new(1, v2x))?;
        s.recording(&mut c, Check::R1, &format!(" ({shape} shape)"), v1);
        for it in &mut c.items {
            it.baseline = true;
        }
        cases.push(c);
    }

    // R3: a type this version of the protocol does not know.
    let name = "r3-unknown-event-type";
    let mut c = Case::new(
        name,
        "an EventType the receiver cannot know (RoomInfoChanged)",
        Start::Delivered,
    );
    let s = session(name, &mut rooms, Spec::new(0, true))?;
    let mut v = s.stream_started();
    v["EventType"] = "RoomInfoChanged".into();
    c.v2(Check::R3, "RoomInfoChanged (unknown type)", v);
    // Otherwise a StreamStarted: a failure its baseline shares is not R3's.
    if let Some(it) = c.items.last_mut() {
        it.like = Some(crate::gen::EventKind::StreamStarted);
    }
    cases.push(c);

    // R4: fields beyond the documented ones, at the top level and in EventData.
    type Extra = fn(Value) -> Value;
    let extras: [(&str, &str, &str, Extra); 2] = [
        (
            "r4-extra-top-level-fields",
            "a session whose events carry extra top-level fields (EventVersion, Recorder)",
            " (+ top-level fields)",
            with_top_level_extras,
        ),
        (
            "r4-extra-event-data-fields",
            "a session whose EventData carry extra fields (ParentAreaId, Cover, Tags, Online)",
            " (+ EventData fields)",
            with_event_data_extras,
        ),
    ];
    for (name, about, note, add) in extras {
        let s = session(name, &mut rooms, Spec::new(1, true))?;
        let mut plain = Case::new(name, about, Start::Delivered);
        s.in_order(&mut plain, Check::R4, note, false);
        let mut c = Case::new(name, about, Start::Delivered);
        for it in plain.items {
            c.v2(Check::R4, it.label, add(it.step.value().clone()));
        }
        cases.push(c);
    }

    // R5: a retry of an event already answered 2xx: the same bytes, the same EventId.
    let name = "r5-retry-after-2xx";
    let mut c = Case::new(
        name,
        "a FileClosed sent again after its 2xx (same bytes, same EventId), as after a lost answer",
        Start::Delivered,
    );
    let s = session(name, &mut rooms, Spec::new(1, true))?;
    let closed = s.file_closed(0);
    // Only the retry shows R5: the rest set it up.
    c.v2(Check::R5, "SessionStarted", s.session_started()).setup();
    c.v2(Check::R5, "FileOpening", s.file_opening(0)).setup();
    c.v2(Check::R5, "FileClosed", closed.clone()).setup();
    c.v2(Check::R5, "FileClosed again (same bytes, same EventId)", closed);
    c.v2(Check::R5, "SessionEnded", s.session_ended()).setup();
    cases.push(c);

    // R6: out of order, as the doc's own examples.
    let name = "r6-session-ended-before-file-closed";
    let mut c = Case::new(
        name,
        "SessionEnded arrives (and is stamped) before the session's last FileClosed",
        Start::Delivered,
    );
    let s = session(name, &mut rooms, Spec::new(1, true))?;
    let ended_at = s.ts(s.files[0].close_time, -10_000);
    let ended = gen::session_ended(&s.room, s.id, ended_at, Uuid::new_v4(), true);
    c.v2(Check::R6, "SessionStarted", s.session_started()).setup();
    c.v2(Check::R6, "FileOpening", s.file_opening(0)).setup();
    c.v2(Check::R6, "SessionEnded (before FileClosed)", ended);
    c.v2(Check::R6, "FileClosed (after SessionEnded)", s.file_closed(0));
    cases.push(c);

    let name = "r6-file-closed-before-file-opening";
    let mut c = Case::new(
        name,
        "a file's FileClosed arrives before its FileOpening",
        Start::Delivered,
    );
    let s = session(name, &mut rooms, Spec::new(1, true))?;
    c.v2(Check::R6, "SessionStarted", s.session_started()).setup();
    c.v2(Check::R6, "FileClosed (before its FileOpening)", s.file_closed(0));
    c.v2(Check::R6, "FileOpening (after its FileClosed)", s.file_opening(0));
    c.v2(Check::R6, "SessionEnded", s.session_ended()).setup();
    cases.push(c);

    let name = "r6-next-file-opening-before-file-closed";
    let mut c = Case::new(
        name,
        "the next file's FileOpening arrives before the previous file's FileClosed",
        Start::Delivered,
    );
    let s = session(name, &mut rooms, Spec::new(2, true))?;
    c.v2(Check::R6, "SessionStarted", s.session_started()).setup();
    c.v2(Check::R6, "FileOpening (file 1)", s.file_opening(0)).setup();
    c.v2(
        Check::R6,
        "FileOpening (file 2, before file 1 closed)",
        s.file_opening(1),
    );
    c.v2(Check::R6, "FileClosed (file 1)", s.file_closed(0));
    c.v2(Check::R6, "FileClosed (file 2)", s.file_closed(1)).setup();
    c.v2(Check::R6, "SessionEnded", s.session_ended()).setup();
    cases.push(c);

    // R7: the 2.x stream events, which carry no SessionId.
    let name = "r7-stream-events-without-session-id";
    let mut c = Case::new(
        name,
        "StreamStarted and StreamEnded (2.x): room fields, no SessionId, no file fields",
        Start::Delivered,
    );
    let s = session(name, &mut rooms, Spec::new(0, true))?;
    c.v2(Check::R7, "StreamStarted (no SessionId)", s.stream_started());
    c.v2(Check::R7, "StreamEnded (no SessionId)", s.stream_ended());
    cases.push(c);

    // R8: value forms the real sender writes, one form per case.
    let forms: [(&str, &str, Form); 5] = [
        (
            "r8-fraction-digits-0",
            "date-times with no fraction at all (...:44+08:00)",
            Form::NoFraction,
        ),
        (
            "r8-fraction-digits-7",
            "date-times with 7 fraction digits (.NET ticks: ...:44.4960899+08:00)",
            Form::Real,
        ),
        (
            "r8-offset-minus-0700",
            "date-times in -07:00 (a recorder in Mountain Time)",
            Form::Offset(-7 * 60),
        ),
        (
            "r8-offset-plus-0000",
            "date-times in +00:00 (UTC, written +00:00, not Z)",
            Form::Offset(0),
        ),
        (
            "r8-offset-plus-0545",
            "date-times in +05:45 (Nepal: a non-whole-hour offset)",
            Form::Offset(5 * 60 + 45),
        ),
    ];
    for (name, about, form) in forms {
        let mut c = Case::new(name, about, Start::Delivered);
        let spec = Spec {
            form,
            ..Spec::new(1, true)
        };
        session(name, &mut rooms, spec)?.in_order(&mut c, Check::R8, "", false);
        cases.push(c);
    }
    let name = "r8-file-size-above-2-32";
    let mut c = Case::new(
        name,
        "a FileClosed whose FileSize is above 2^32 (6 GiB)",
        Start::Delivered,
    );
    let spec = Spec {
        size: Some(6_442_450_944),
        ..Spec::new(1, true)
    };
    session(name, &mut rooms, spec)?.in_order(&mut c, Check::R8, "", false);
    cases.push(c);
    // Paths from the recorder's other templates, and names a shell would expand: each
    // form a case of its own, so the one a receiver refuses is named.
    let paths: [(&str, &str, Template); 4] = [
        (
            "r8-path-without-folder",
            "a RelativePath with no folder (a custom template: 23058_20210514_175250_524_title.flv)",
            Template::NoFolder,
        ),
        (
            "r8-path-two-folders",
            "a RelativePath two folders deep (a custom template: name/2021-05-14/23058-175250-524-title.flv)",
            Template::TwoFolders,
        ),
        (
            "r8-path-1x-default",
            "a RelativePath from the 1.x default template (to the second, no milliseconds)",
            Template::V1Default,
        ),
        (
            "r8-path-shell-characters",
            "names and path with $, backticks, ', &, 【】 and emoji, left as they are by the recorder",
            Template::V2Default,
        ),
    ];
    for (name, about, template) in paths {
        let mut c = Case::new(name, about, Start::Delivered);
        let spec = Spec {
            template,
            ..Spec::new(1, true)
        };
        session(name, &mut rooms, spec)?.in_order(&mut c, Check::R8, "", false);
        cases.push(c);
    }
    let name = "r8-names-emoji-quotes-backslashes";
    let mut c = Case::new(
        name,
        "names, title and path in raw UTF-8 with emoji, double quotes and backslashes",
        Start::Delivered,
    );
    session(name, &mut rooms, Spec::new(1, true))?.in_order(&mut c, Check::R8, "", false);
    cases.push(c);

    // R10: a file split, as the recorder does it: file 1's FileClosed and file 2's
    // FileOpening at the same moment. Sent after every other case, so the only answer
    // that can be held is this case's own; file 1's FileOpening, sent alone before,
    // shows how fast a FileOpening is answered when nothing is held.
    let name = "r10-file-split";
    let mut c = Case::new(
        name,
        "a file split: a FileClosed and the next FileOpening sent at the same moment, after every other case",
        Start::Delivered,
    );
    c.alone = true;
    let s = session(name, &mut rooms, Spec::new(2, true))?;
    c.v2(Check::R1, "SessionStarted", s.session_started());
    c.v2(Check::R1, "FileOpening (file 1, alone)", s.file_opening(0))
        .last(Start::Delivered, Timing::Alone);
    c.v2(Check::R1, "FileClosed (file 1)", s.file_closed(0))
        .last(Start::Delivered, Timing::Held);
    c.v2(
        Check::R1,
        "FileOpening (file 2, beside file 1's FileClosed)",
        s.file_opening(1),
    )
    .last(Start::After(R10_STAGGER), Timing::Beside);
    c.v2(Check::R1, "FileClosed (file 2)", s.file_closed(1));
    c.v2(Check::R1, "SessionEnded", s.session_ended());
    cases.push(c);
    Ok(cases)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn cases() -> Vec<Case> {
        probe(&Ctx { hook: None }, true).unwrap()
    }

    #[test]
    fn probe_bodies_are_valid_except_where_meant() {
        for case in cases() {
            assert!(!case.items.is_empty(), "{}", case.name);
            for it in &case.items {
                let b = crate::body::judge(&gen::serialize(it.step.value()));
                let bad: Vec<_> = b
                    .findings
                    .iter()
                    .filter(|f| f.level > crate::catalog::Level::Info)
                    .collect();
                assert!(bad.is_empty(), "{}: {}: {bad:?}", case.name, it.label);
            }
        }
    }

    #[test]
    fn files_rooms_and_sizes_are_a_recorder_s() {
        let cases = cases();
        let mut paths = HashSet::new();
        let mut rooms = HashSet::new();
        for c in &cases {
            let mut room = HashSet::new();
            let mut last = String::new();
            for it in &c.items {
                let v = it.step.value();
                let d = v.get("EventData").unwrap_or(v);
                room.insert(d["RoomId"].as_i64().unwrap());
                if it.step.event_type() == Some("FileOpening") {
                    let p = d["RelativePath"].as_str().unwrap().to_string();
                    assert!(paths.insert(p.clone()), "{}: {p} twice", c.name);
                }
                // Times increase within a room (R6's cases are stamped out of order on
                // purpose: only their file opening times are compared there).
                if it.step.event_type() == Some("FileOpening") {
                    let t = d["FileOpenTime"].as_str().unwrap().to_string();
                    let parse = |s: &str| chrono::DateTime::parse_from_rfc3339(s).unwrap();
                    if !last.is_empty() && !c.name.starts_with("r6-file-closed") {
                        assert!(parse(&t) > parse(&last), "{}", c.name);
                    }
                    last = t;
                }
                // Only R8's case has a FileSize above 2^31.
                if let Some(size) = d.get("FileSize").and_then(Value::as_i64) {
                    assert_eq!(
                        size > i64::from(i32::MAX),
                        c.name == "r8-file-size-above-2-32",
                        "{}",
                        c.name
                    );
                }
            }
            assert_eq!(room.len(), 1, "{}: one room per case", c.name);
            assert!(
                rooms.insert(room.into_iter().next().unwrap()),
                "{}: a room of its own",
                c.name
            );
        }
    }

    #[test]
    fn value_forms() {
        let cases = cases();
        let body = |name: &str, i: usize| -> String {
            let c = cases.iter().find(|c| c.name == name).unwrap();
            String::from_utf8(gen::serialize(c.items[i].step.value())).unwrap()
        };
        let ts = |name: &str| -> String {
            let v: Value = serde_json::from_str(&body(name, 0)).unwrap();
            v["EventTimestamp"].as_str().unwrap().to_string()
        };
        assert!(ts("r8-offset-minus-0700").ends_with("-07:00"));
        assert!(ts("r8-offset-plus-0000").ends_with("+00:00"));
        assert!(ts("r8-offset-plus-0545").ends_with("+05:45"));
        assert!(!ts("r8-fraction-digits-0").contains('.'));
        assert_eq!(ts("r8-fraction-digits-7").split('.').nth(1).unwrap().len(), 13);
        let big = body("r8-file-size-above-2-32", 2);
        assert!(big.contains("\"FileSize\":6442450944") && big.contains("\"Duration\":4.992"));
        let tricky = body("r8-names-emoji-quotes-backslashes", 0);
        assert!(tricky.contains("🎮") && tricky.contains("\\\"无常\\\"") && tricky.contains("\\\\"));
        let r7 = body("r7-stream-events-without-session-id", 0);
        assert!(!r7.contains("SessionId"));
        let r5 = cases.iter().find(|c| c.name == "r5-retry-after-2xx").unwrap();
        assert_eq!(r5.items[2].step, r5.items[3].step);
        // The baseline's v1 records go with their FileClosed.
        let r1 = cases.iter().find(|c| c.name == "r1-shape-1.3").unwrap();
        let i = r1.items.iter().position(|it| it.check == Check::R9).unwrap();
        assert_eq!(r1.items[i].start, Start::With);
        assert_eq!(r1.items[i - 1].step.event_type(), Some("FileClosed"));
    }
}
