//! A realistic recording, as the real sender would report it, and [`play`] to send it.
//!
//! The stream goes live, a session records three files (the second over an hour long and
//! over 4 GiB), the session ends, the stream ends:
//!
//! `StreamStarted`, `SessionStarted`, 3 × (`FileOpening`, `FileClosed` + its v1 record),
//! `SessionEnded`, `StreamEnded`.
//!
//! Structure, sizes, durations and time offsets are fixed; GUIDs (`EventId`, `SessionId`,
//! `EventRandomId`) are fresh on every call, and the times are placed so that the session
//! ends about now (or at a given start, [`realistic_scenario_at`]). Times are in +08:00
//! with 7 fraction digits. Scenario mutants ([`Mutant::is_scenario`]) are applied here.

use super::{Mutant, Sender};
use crate::gen::{self, EventKind, File, Room, State, Step, Time, V2x, TICKS_PER_SECOND};
use chrono::{FixedOffset, TimeDelta, Timelike};
use serde_json::Value;
use std::time::Duration;
use uuid::Uuid;

/// UTC+08:00, the recorder's home zone.
pub fn china() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).expect("+08:00 is a valid offset")
}

/// `t` with exactly 7 fraction digits when formatted (the last tick digit made non-zero).
pub(crate) fn seven_digits(t: Time) -> Time {
    let ticks = (t.nanosecond() % 1_000_000_000) / 100;
    if ticks % 10 == 0 {
        gen::add_ticks(t, 1)
    } else {
        t
    }
}

/// `t + seconds + ticks`, with 7 fraction digits.
fn at(t: Time, seconds: i64, ticks: i64) -> Time {
    seven_digits(gen::add_ticks(t, seconds * TICKS_PER_SECOND + ticks))
}

/// The three files: (seconds after the session start the file opens, length in
/// seconds, size in bytes, media duration).
const FILES: [(i64, i64, i64, f64); 3] = [
    (1, 5, 816_412, 4.992),
    (6, 3_600, 3_749_098_123, 3_599.968),
    (3_606, 61, 52_428_800, 60.0),
];

/// Seconds from the scenario's start to `StreamEnded`.
const SPAN_SECONDS: i64 = 3_670;

/// The scenario, ending about now. `v2x`: write the 2.x booleans (`Recording`,
/// `Streaming`, `DanmakuConnected`). `mutant`: scenario mutants change the steps; other
/// mutants leave them as they are.
pub fn realistic_scenario(room: &Room, v2x: bool, mutant: Option<Mutant>) -> Vec<Step> {
    let now = chrono::Utc::now().with_timezone(&china());
    let start = now - TimeDelta::seconds(SPAN_SECONDS);
    realistic_scenario_at(room, v2x, mutant, start)
}

/// The scenario with its `StreamStarted` at `start` (in `start`'s offset).
pub fn realistic_scenario_at(room: &Room, v2x: bool, mutant: Option<Mutant>, start: Time) -> Vec<Step> {
    let m = |x: Mutant| mutant == Some(x);
    let start = seven_digits(start);
    let session = Uuid::new_v4();
    let id = Uuid::new_v4;

    // MUTANT StreamFlagsWrong (C8): the booleans are written, StreamStarted not streaming.
    let v2x_of = |kind: EventKind| -> V2x {
        if m(Mutant::StreamFlagsWrong) {
            let mut s = State::typical(kind);
            if kind == EventKind::StreamStarted {
                s.streaming = false;
            }
            return V2x::State(s);
        }
        v2x.into()
    };

    let mut steps = Vec::new();
    steps.push(Step::V2(gen::stream_started(
        room,
        start,
        id(),
        v2x_of(EventKind::StreamStarted),
    )));

    let session_start = at(start, 0, 123_457);
    let session_started = gen::session_started(
        room,
        session,
        session_start,
        id(),
        v2x_of(EventKind::SessionStarted),
    );
    // MUTANT SessionWithoutStart (C2): SessionStarted never sent.
    if !m(Mutant::SessionWithoutStart) {
        steps.push(Step::V2(session_started));
    }

    let mut first_opening_id = None;
    let mut last_close = session_start;
    for (k, &(open_after, length, size, duration)) in FILES.iter().enumerate() {
        let open_time = at(session_start, open_after, 10_001 * k as i64 + 4_321);
        let close_time = at(open_time, length, 2_345_671);
        let mut file = File {
            relative_path: relative_path(room, open_time),
            open_time,
            close_time,
            size,
            duration,
        };
        // MUTANT AbsolutePath (C7): every file event and v1 record names /rec/...
        if m(Mutant::AbsolutePath) {
            file.relative_path = format!("/rec/{}", file.relative_path);
        }
        // MUTANT NegativeDuration (C4): the second file's Duration below zero.
        if m(Mutant::NegativeDuration) && k == 1 {
            file.duration = -file.duration;
        }

        // The recorder stamps the event just after the fact.
        let opening_ts = at(open_time, 0, 9_871);
        let mut opening_id = id();
        // MUTANT ReuseEventId (D5): the second FileOpening reuses the first one's EventId.
        if m(Mutant::ReuseEventId) && k == 1 {
            opening_id = first_opening_id.unwrap_or(opening_id);
        }
        first_opening_id.get_or_insert(opening_id);
        let opening = gen::file_opening(
            room,
            session,
            &file,
            opening_ts,
            opening_id,
            v2x_of(EventKind::FileOpening),
        );
        // MUTANT FileClosedWithoutOpening (C3): the second file's FileOpening never sent.
        if !(m(Mutant::FileClosedWithoutOpening) && k == 1) {
            steps.push(Step::V2(opening));
        }
        // MUTANT SecondSessionStarted (C1): another SessionStarted, same session.
        if m(Mutant::SecondSessionStarted) && k == 0 {
            let again = gen::session_started(
                room,
                session,
                at(opening_ts, 0, 1_003),
                id(),
                v2x_of(EventKind::SessionStarted),
            );
            steps.push(Step::V2(again));
        }

        // MUTANT RoomIdChanges (C5): the FileClosed events (and their v1 records) name
        // another room id.
        let mut closed_room = room.clone();
        if m(Mutant::RoomIdChanges) {
            closed_room.room_id = room.room_id.wrapping_add(1);
        }
        let closed_ts = at(close_time, 0, 11_111);
        steps.push(Step::V2(gen::file_closed(
            &closed_room,
            session,
            &file,
            closed_ts,
            id(),
            v2x_of(EventKind::FileClosed),
        )));
        // The v1 record of the same file, from the same data, with its own random id.
        let mut v1_file = file.clone();
        // MUTANT V1Disagrees (C6): the v1 record's FileSize is off by one.
        if m(Mutant::V1Disagrees) {
            v1_file.size += 1;
        }
        steps.push(Step::V1(gen::v1_record(&closed_room, &v1_file, id())));
        last_close = closed_ts;
    }

    steps.push(Step::V2(gen::session_ended(
        room,
        session,
        at(last_close, 0, 20_003),
        id(),
        v2x_of(EventKind::SessionEnded),
    )));
    steps.push(Step::V2(gen::stream_ended(
        room,
        at(last_close, 2, 5_432_109),
        id(),
        v2x_of(EventKind::StreamEnded),
    )));

    // MUTANT StringRoomId (S2): RoomId as a JSON string in every v2 event.
    if m(Mutant::StringRoomId) {
        for step in &mut steps {
            if let Step::V2(v) = step {
                let rid = v["EventData"]["RoomId"].to_string();
                v["EventData"]["RoomId"] = Value::String(rid);
            }
        }
    }
    steps
}

/// BililiveRecorder 2.x's default file name template:
/// `{roomid}-{name}/录制-{roomid}-{yyyyMMdd-HHmmss-fff}-{title}.flv`.
fn relative_path(room: &Room, open: Time) -> String {
    format!(
        "{id}-{name}/录制-{id}-{stamp}-{title}.flv",
        id = room.room_id,
        name = room.name,
        stamp = open.format("%Y%m%d-%H%M%S-%3f"),
        title = room.title,
    )
}

/// Sends the steps in order, `pace` apart (a v1 record goes right after the `FileClosed`
/// before it, as the real recorder fires both from one handler). Each event is on its
/// own task, so deliveries overlap. Returns when the sender is done with all of them.
pub async fn play(sender: &Sender, steps: &[Step], pace: Duration) {
    for (i, step) in steps.iter().enumerate() {
        match step {
            Step::V2(v) => {
                if i > 0 && !pace.is_zero() {
                    tokio::time::sleep(pace).await;
                }
                sender.send(v);
            }
            Step::V1(v) => sender.send_v1(v),
        }
    }
    sender.wait().await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Check;

    fn types(steps: &[Step]) -> Vec<&str> {
        steps.iter().map(|s| s.event_type().unwrap_or("v1")).collect()
    }

    #[test]
    fn faithful_shape() {
        let steps = realistic_scenario(&Room::doc_example(), true, None);
        assert_eq!(
            types(&steps),
            [
                "StreamStarted",
                "SessionStarted",
                "FileOpening",
                "FileClosed",
                "v1",
                "FileOpening",
                "FileClosed",
                "v1",
                "FileOpening",
                "FileClosed",
                "v1",
                "SessionEnded",
                "StreamEnded"
            ]
        );
        assert_eq!(steps[0].value()["EventData"]["Streaming"], true);
        assert_eq!(steps[12].value()["EventData"]["Streaming"], false);
        let ts = steps[1].value()["EventTimestamp"].as_str().unwrap();
        assert!(ts.ends_with("+08:00"), "{ts}");
        assert_eq!(ts.split('.').nth(1).unwrap().len(), "1234567+08:00".len(), "{ts}");
        // v1 from the same data as its FileClosed.
        let (c, v1) = (&steps[3].value()["EventData"], steps[4].value());
        assert_eq!(v1["StartRecordTime"], c["FileOpenTime"]);
        assert_eq!(v1["EndRecordTime"], c["FileCloseTime"]);
        assert_eq!(v1["FileSize"], c["FileSize"]);
        assert_eq!(v1["RelativePath"], c["RelativePath"]);
        // Every body valid and fresh ids distinct.
        let mut ids: Vec<_> = steps
            .iter()
            .map(|s| {
                let v = s.value();
                v.get("EventId")
                    .or(v.get("EventRandomId"))
                    .unwrap()
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), steps.len());
        let plain = realistic_scenario(&Room::doc_example(), false, None);
        assert!(plain[0].value()["EventData"].get("Streaming").is_none());
    }

    #[test]
    fn every_time_has_seven_digits() {
        fn times<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
            match v {
                Value::Object(m) => m.values().for_each(|x| times(x, out)),
                Value::String(s) if s.ends_with("+08:00") => out.push(s),
                _ => {}
            }
        }
        let mut all = Vec::new();
        let steps = realistic_scenario(&Room::doc_example(), false, None);
        for step in &steps {
            times(step.value(), &mut all);
        }
        assert_eq!(all.len(), 2 + 3 * (2 + 3 + 2) + 2);
        for t in all {
            let frac = t.split_once('.').map(|x| x.1).unwrap_or_default();
            assert_eq!(frac.len(), "1234567+08:00".len(), "{t}");
        }
    }

    #[test]
    fn scenario_mutants_change_the_steps() {
        let room = Room::doc_example();
        let start = gen::parse_time("2024-02-10T20:00:00.1234567+08:00");
        let faithful = realistic_scenario_at(&room, true, None, start);
        for mutant in Mutant::ALL {
            let steps = realistic_scenario_at(&room, true, Some(mutant), start);
            let same_shape = types(&steps) == types(&faithful);
            let strip = |s: &[Step]| -> Vec<Value> {
                s.iter()
                    .map(|s| {
                        let mut v = s.value().clone();
                        if let Some(o) = v.as_object_mut() {
                            o.shift_remove("EventId");
                            o.shift_remove("EventRandomId");
                            if let Some(d) = o.get_mut("EventData").and_then(Value::as_object_mut) {
                                d.shift_remove("SessionId");
                            }
                        }
                        v
                    })
                    .collect()
            };
            let same_data = same_shape && strip(&steps) == strip(&faithful);
            let reused =
                mutant == Mutant::ReuseEventId && steps[5].value()["EventId"] == steps[2].value()["EventId"];
            assert_eq!(
                mutant.is_scenario(),
                !same_data || reused,
                "{mutant}: is_scenario disagrees with what the builder does"
            );
        }
    }

    #[test]
    fn bodies_judge_clean_and_string_room_id_trips_s2() {
        use crate::catalog::Level;
        let room = Room::doc_example();
        for v2x in [false, true] {
            for step in realistic_scenario(&room, v2x, None) {
                let b = crate::body::judge(&gen::serialize(step.value()));
                let bad: Vec<_> = b.findings.iter().filter(|f| f.level > Level::Info).collect();
                assert!(bad.is_empty(), "{bad:?} in {}", step.value());
            }
        }
        let steps = realistic_scenario(&room, true, Some(Mutant::StringRoomId));
        let b = crate::body::judge(&gen::serialize(steps[1].value()));
        assert!(
            b.findings.iter().any(|f| f.check == Check::S2),
            "{:?}",
            b.findings
        );
    }
}
