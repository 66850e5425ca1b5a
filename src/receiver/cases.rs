//! What `brhook send` sends: the probe cases behind R1–R9, the realistic recording (2.x,
//! then 1.3 shape), seeded random streams and the load mix. Every body comes from the
//! [`crate::gen`] builders (or [`crate::reference::realistic_scenario`]), so it is exactly
//! what the real sender writes; only the cases that are about something else (an unknown
//! type, extra fields) change the built value afterwards.

use crate::catalog::Check;
use crate::gen::{self, EventKind, File, Room, Time, V2x, TICKS_PER_SECOND};
use crate::reference::{realistic_scenario, scenario::china, Step};
use chrono::FixedOffset;
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use serde_json::{json, Value};
use uuid::Uuid;

/// How a case's events are sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    /// One event at a time: each is delivered (2xx or given up) before the next is sent,
    /// so the receiver sees them in exactly this order.
    InOrder,
    /// As the recorder fires them: each event on its own task, a few ms apart, so
    /// deliveries overlap ([`crate::reference::play`]).
    Overlapping,
}

/// One body of a case.
#[derive(Clone, Debug)]
pub(crate) struct Item {
    pub step: Step,
    /// What it is, for people: `FileClosed (1.3 shape)`.
    pub label: String,
    /// The check its answer is judged under.
    pub check: Check,
}

/// A named group of bodies, sent together.
#[derive(Clone, Debug)]
pub(crate) struct Case {
    /// Stable, file-name-safe: `r6-file-closed-before-file-opening`.
    pub name: String,
    /// What the case does, for the report.
    pub about: String,
    pub mode: Mode,
    pub items: Vec<Item>,
}

impl Case {
    fn new(name: &str, about: &str, mode: Mode) -> Case {
        Case {
            name: name.into(),
            about: about.into(),
            mode,
            items: Vec::new(),
        }
    }

    fn v2(&mut self, check: Check, label: impl Into<String>, v: Value) -> &mut Case {
        self.items.push(Item {
            step: Step::V2(v),
            label: label.into(),
            check,
        });
        self
    }

    fn v1(&mut self, check: Check, label: impl Into<String>, v: Value) -> &mut Case {
        self.items.push(Item {
            step: Step::V1(v),
            label: label.into(),
            check,
        });
        self
    }
}

/// `t + seconds + ticks`.
fn at(t: Time, seconds: i64, ticks: i64) -> Time {
    gen::add_ticks(t, seconds * TICKS_PER_SECOND + ticks)
}

fn offset(minutes: i32) -> FixedOffset {
    FixedOffset::east_opt(minutes * 60).expect("offset within ±14:00")
}

/// How the date-times of a session are written.
#[derive(Clone, Copy, Debug)]
enum Form {
    /// +08:00, 7 fraction digits: what the recorder writes at home.
    Real,
    /// Whole seconds: no fraction at all (`...:44+08:00`).
    NoFraction,
    /// 7 fraction digits in this offset (minutes east of UTC).
    Offset(i32),
}

impl Form {
    fn apply(self, t: Time) -> Time {
        match self {
            Form::Real => crate::reference::scenario::seven_digits(t),
            Form::NoFraction => gen::truncate_fraction(t, 0),
            Form::Offset(m) => crate::reference::scenario::seven_digits(t.with_timezone(&offset(m))),
        }
    }
}

/// One recording session's worth of data: its id, the room, the files and the times.
struct Session {
    room: Room,
    id: Uuid,
    start: Time,
    files: Vec<File>,
    end: Time,
    form: Form,
    v2x: bool,
}

impl Session {
    /// A session that started a minute ago (in `form`), with `n` files of a few seconds.
    fn new(room: &Room, n: usize, form: Form, v2x: bool) -> Session {
        let now = chrono::Utc::now().with_timezone(&china());
        let start = form.apply(at(now, -60, 1_234_567));
        let files = (0..n as i64)
            .map(|k| {
                let open = form.apply(at(start, 1 + 10 * k, 5_246_401));
                let close = form.apply(at(open, 4, 4_214_700));
                File {
                    relative_path: format!(
                        "{id}-{name}/录制-{id}-{stamp}-{title}.flv",
                        id = room.room_id,
                        name = room.name,
                        stamp = open.format("%Y%m%d-%H%M%S-%3f"),
                        title = room.title,
                    ),
                    open_time: open,
                    close_time: close,
                    size: 816_412 + 1_000 * k,
                    duration: 4.992,
                }
            })
            .collect::<Vec<_>>();
        let end = form.apply(at(start, 2 + 10 * n as i64, 9_461_101));
        Session {
            room: room.clone(),
            id: Uuid::new_v4(),
            start,
            files,
            end,
            form,
            v2x,
        }
    }

    fn ts(&self, t: Time, ticks: i64) -> Time {
        self.form.apply(gen::add_ticks(t, ticks))
    }

    fn stream_started(&self) -> Value {
        gen::stream_started(
            &self.room,
            self.ts(self.start, -4_000_123),
            Uuid::new_v4(),
            self.v2x,
        )
    }

    fn session_started(&self) -> Value {
        gen::session_started(
            &self.room,
            self.id,
            self.ts(self.start, 123_457),
            Uuid::new_v4(),
            self.v2x,
        )
    }

    fn file_opening(&self, k: usize) -> Value {
        let f = &self.files[k];
        gen::file_opening(
            &self.room,
            self.id,
            f,
            self.ts(f.open_time, 9_993),
            Uuid::new_v4(),
            self.v2x,
        )
    }

    fn file_closed(&self, k: usize) -> Value {
        let f = &self.files[k];
        gen::file_closed(
            &self.room,
            self.id,
            f,
            self.ts(f.close_time, 2_001),
            Uuid::new_v4(),
            self.v2x,
        )
    }

    fn session_ended(&self) -> Value {
        gen::session_ended(&self.room, self.id, self.end, Uuid::new_v4(), self.v2x)
    }

    fn stream_ended(&self) -> Value {
        gen::stream_ended(
            &self.room,
            self.ts(self.end, 25_432_109),
            Uuid::new_v4(),
            self.v2x,
        )
    }

    /// The session in order: SessionStarted, FileOpening/FileClosed per file, SessionEnded.
    fn in_order(&self, case: &mut Case, check: Check, note: &str) {
        case.v2(check, format!("SessionStarted{note}"), self.session_started());
        for k in 0..self.files.len() {
            case.v2(check, format!("FileOpening{note}"), self.file_opening(k));
            case.v2(check, format!("FileClosed{note}"), self.file_closed(k));
        }
        case.v2(check, format!("SessionEnded{note}"), self.session_ended());
    }
}

/// A room whose strings are what serialisers and parsers trip on: emoji (one a ZWJ
/// sequence), double quotes, backslashes, full-width punctuation.
fn tricky_room() -> Room {
    Room {
        room_id: 14_846_654,
        short_id: 0,
        name: "小司\"无常\"🎮\\直播间".into(),
        title: "【跨界冥神】打mua将！\"quoted\" back\\slash \\\\ 👨‍👩‍👧🎉".into(),
        area_parent: "网游🎲".into(),
        area_child: "英雄联盟 \"LoL\"".into(),
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

/// The probe: one case per thing R1–R9 ask of a receiver. `v1`: include the v1 records.
pub(crate) fn probe(v1: bool) -> Vec<Case> {
    let room = Room::doc_example();
    let mut cases = Vec::new();

    // R1: the six known types, in order, in 1.3 shape and in 2.x shape. Their files get
    // the v1 records of R9, as the real sender sends both for each closed file.
    let mut closed_files = Vec::new();
    for (name, v2x, shape) in [("r1-shape-1.3", false, "1.3"), ("r1-shape-2.x", true, "2.x")] {
        let mut c = Case::new(
            name,
            &format!("every known event type in {shape} shape, in order"),
            Mode::InOrder,
        );
        let mut s = Session::new(&room, 1, Form::Real, v2x);
        if !v2x {
            // The doc's v1 example size: above 2^31.
            s.files[0].size = 3_749_098_123;
        }
        closed_files.push(s.files[0].clone());
        let note = format!(" ({shape} shape)");
        c.v2(Check::R1, format!("StreamStarted{note}"), s.stream_started());
        s.in_order(&mut c, Check::R1, &note);
        c.v2(Check::R1, format!("StreamEnded{note}"), s.stream_ended());
        cases.push(c);
    }

    // R3: a type this version of the protocol does not know.
    let mut c = Case::new(
        "r3-unknown-event-type",
        "an EventType the receiver cannot know (RoomInfoChanged)",
        Mode::InOrder,
    );
    let s = Session::new(&room, 0, Form::Real, true);
    let mut v = gen::stream_started(&room, s.start, Uuid::new_v4(), true);
    v["EventType"] = "RoomInfoChanged".into();
    c.v2(Check::R3, "RoomInfoChanged (unknown type)", v);
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
        let mut c = Case::new(name, about, Mode::InOrder);
        let s = Session::new(&room, 1, Form::Real, true);
        let mut plain = Case::new(name, about, Mode::InOrder);
        s.in_order(&mut plain, Check::R4, note);
        for it in plain.items {
            c.v2(Check::R4, it.label, add(it.step.value().clone()));
        }
        cases.push(c);
    }

    // R5: a retry of an event already answered 2xx: the same bytes, the same EventId.
    let mut c = Case::new(
        "r5-retry-after-2xx",
        "a FileClosed sent again after its 2xx (same bytes, same EventId), as after a lost answer",
        Mode::InOrder,
    );
    let s = Session::new(&room, 1, Form::Real, true);
    let closed = s.file_closed(0);
    c.v2(Check::R5, "SessionStarted", s.session_started());
    c.v2(Check::R5, "FileOpening", s.file_opening(0));
    c.v2(Check::R5, "FileClosed", closed.clone());
    c.v2(Check::R5, "FileClosed again (same bytes, same EventId)", closed);
    c.v2(Check::R5, "SessionEnded", s.session_ended());
    cases.push(c);

    // R6: out of order, as the doc's own examples.
    let mut c = Case::new(
        "r6-session-ended-before-file-closed",
        "SessionEnded arrives (and is stamped) before the session's last FileClosed",
        Mode::InOrder,
    );
    let s = Session::new(&room, 1, Form::Real, true);
    let closed = s.file_closed(0);
    let ended_at = s.ts(s.files[0].close_time, -10_000);
    let ended = gen::session_ended(&room, s.id, ended_at, Uuid::new_v4(), true);
    c.v2(Check::R6, "SessionStarted", s.session_started());
    c.v2(Check::R6, "FileOpening", s.file_opening(0));
    c.v2(Check::R6, "SessionEnded (before FileClosed)", ended);
    c.v2(Check::R6, "FileClosed (after SessionEnded)", closed);
    cases.push(c);

    let mut c = Case::new(
        "r6-file-closed-before-file-opening",
        "a file's FileClosed arrives before its FileOpening",
        Mode::InOrder,
    );
    let s = Session::new(&room, 1, Form::Real, true);
    c.v2(Check::R6, "SessionStarted", s.session_started());
    c.v2(Check::R6, "FileClosed (before its FileOpening)", s.file_closed(0));
    c.v2(Check::R6, "FileOpening (after its FileClosed)", s.file_opening(0));
    c.v2(Check::R6, "SessionEnded", s.session_ended());
    cases.push(c);

    let mut c = Case::new(
        "r6-next-file-opening-before-file-closed",
        "the next file's FileOpening arrives before the previous file's FileClosed",
        Mode::InOrder,
    );
    let s = Session::new(&room, 2, Form::Real, true);
    c.v2(Check::R6, "SessionStarted", s.session_started());
    c.v2(Check::R6, "FileOpening (file 1)", s.file_opening(0));
    c.v2(
        Check::R6,
        "FileOpening (file 2, before file 1 closed)",
        s.file_opening(1),
    );
    c.v2(Check::R6, "FileClosed (file 1)", s.file_closed(0));
    c.v2(Check::R6, "FileClosed (file 2)", s.file_closed(1));
    c.v2(Check::R6, "SessionEnded", s.session_ended());
    cases.push(c);

    // R7: the 2.x stream events, which carry no SessionId.
    let mut c = Case::new(
        "r7-stream-events-without-session-id",
        "StreamStarted and StreamEnded (2.x): room fields, no SessionId, no file fields",
        Mode::InOrder,
    );
    let s = Session::new(&room, 0, Form::Real, true);
    c.v2(Check::R7, "StreamStarted (no SessionId)", s.stream_started());
    c.v2(Check::R7, "StreamEnded (no SessionId)", s.stream_ended());
    cases.push(c);

    // R8: value forms the real sender writes.
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
        let mut c = Case::new(name, about, Mode::InOrder);
        Session::new(&room, 1, form, true).in_order(&mut c, Check::R8, "");
        cases.push(c);
    }
    let mut c = Case::new(
        "r8-file-size-above-2-32",
        "a FileClosed whose FileSize is above 2^32 (6 GiB)",
        Mode::InOrder,
    );
    let mut s = Session::new(&room, 1, Form::Real, true);
    s.files[0].size = 6_442_450_944;
    s.files[0].duration = 7_199.968;
    s.in_order(&mut c, Check::R8, "");
    cases.push(c);
    let mut c = Case::new(
        "r8-names-emoji-quotes-backslashes",
        "names, title and path in raw UTF-8 with emoji, double quotes and backslashes",
        Mode::InOrder,
    );
    Session::new(&tricky_room(), 1, Form::Real, true).in_order(&mut c, Check::R8, "");
    cases.push(c);

    // R9: v1 records, in the doc's form (value-form edge cases are R8's, on v2 events):
    // those of the files the R1 cases closed.
    if v1 {
        let mut c = Case::new(
            "r9-v1-records",
            "the v1 records of the files closed in r1-shape-1.3 (3.7 GB) and r1-shape-2.x",
            Mode::InOrder,
        );
        for (k, f) in closed_files.iter().enumerate() {
            c.v1(
                Check::R9,
                format!("v1 record (file {})", k + 1),
                gen::v1_record(&room, f, Uuid::new_v4()),
            );
        }
        cases.push(c);
    }
    cases
}

/// The realistic recording ([`realistic_scenario`]) in 2.x shape, then in 1.3 shape,
/// sent as the recorder fires it (overlapping deliveries). v1 records only with `v1`.
pub(crate) fn realistic(v1: bool) -> Vec<Case> {
    let room = Room::doc_example();
    [("realistic-2.x", true, "2.x"), ("realistic-1.3", false, "1.3")]
        .into_iter()
        .map(|(name, v2x, shape)| {
            let mut c = Case::new(
                name,
                &format!("a recording in {shape} shape: stream start, a session with three files, v1 records, session end, stream end"),
                Mode::Overlapping,
            );
            for step in realistic_scenario(&room, v2x, None) {
                match step {
                    Step::V2(v) => {
                        let label = format!("{} ({shape} shape)", v["EventType"].as_str().unwrap_or("?"));
                        c.v2(Check::R1, label, v);
                    }
                    Step::V1(v) if v1 => {
                        c.v1(Check::R9, "v1 record", v);
                    }
                    Step::V1(_) => {}
                }
            }
            c
        })
        .collect()
}

/// The 32-byte ChaCha seed of a `--seed N`.
pub fn seed_bytes(seed: u64) -> [u8; 32] {
    let mut b = [0u8; 32];
    b[..8].copy_from_slice(&seed.to_le_bytes());
    b
}

fn draw<S: Strategy>(runner: &mut TestRunner, s: S) -> S::Value {
    s.new_tree(runner)
        .expect("the gen strategies always produce a value")
        .current()
}

/// Seeded random valid streams: each stream is a room going live, one session with 0–3
/// files (each `FileClosed` followed by its v1 record when `v1`), the session's end and the
/// stream's end; streams follow each other until `events` bodies, the last one cut
/// short. Everything (rooms, names, times, offsets, fraction digits, sizes, GUIDs, the
/// 1.3 or 2.x shape) is drawn from [`crate::gen`]'s strategies by a `TestRunner` whose
/// ChaCha RNG is seeded with `seed`: the same seed gives the same bodies, byte for byte.
pub fn random_steps(seed: u64, events: usize, v1: bool) -> Vec<Step> {
    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &seed_bytes(seed));
    let mut runner = TestRunner::new_with_rng(Config::default(), rng);
    let r = &mut runner;
    let mut steps = Vec::new();
    while steps.len() < events {
        let room = draw(r, gen::room());
        let v2x_on = draw(r, any::<bool>());
        let v2x = |r: &mut TestRunner, kind: EventKind| -> V2x {
            if v2x_on {
                V2x::State(draw(r, gen::state_for(kind)))
            } else {
                V2x::Absent
            }
        };
        let delay = |r: &mut TestRunner, t: Time, max_seconds: i64| -> Time {
            draw(r, gen::date_time_after(t, max_seconds * TICKS_PER_SECOND))
        };
        let live = draw(r, gen::date_time());
        let k = v2x(r, EventKind::StreamStarted);
        steps.push(Step::V2(gen::stream_started(
            &room,
            live,
            draw(r, gen::guid()),
            k,
        )));
        let session = draw(r, gen::guid());
        let start = delay(r, live, 30);
        let k = v2x(r, EventKind::SessionStarted);
        steps.push(Step::V2(gen::session_started(
            &room,
            session,
            start,
            draw(r, gen::guid()),
            k,
        )));
        let mut open = delay(r, start, 5);
        let mut last = open;
        for _ in 0..draw(r, 0usize..=3) {
            let file = draw(r, gen::file_at(open));
            let ts = delay(r, file.open_time, 2);
            let k = v2x(r, EventKind::FileOpening);
            steps.push(Step::V2(gen::file_opening(
                &room,
                session,
                &file,
                ts,
                draw(r, gen::guid()),
                k,
            )));
            let ts = delay(r, file.close_time, 2);
            let k = v2x(r, EventKind::FileClosed);
            steps.push(Step::V2(gen::file_closed(
                &room,
                session,
                &file,
                ts,
                draw(r, gen::guid()),
                k,
            )));
            let record = gen::v1_record(&room, &file, draw(r, gen::guid()));
            if v1 {
                steps.push(Step::V1(record));
            }
            open = file.close_time;
            last = ts;
        }
        let end = delay(r, last, 2);
        let k = v2x(r, EventKind::SessionEnded);
        steps.push(Step::V2(gen::session_ended(
            &room,
            session,
            end,
            draw(r, gen::guid()),
            k,
        )));
        let k = v2x(r, EventKind::StreamEnded);
        let gone = delay(r, end, 60);
        steps.push(Step::V2(gen::stream_ended(&room, gone, draw(r, gen::guid()), k)));
    }
    steps.truncate(events);
    steps
}

/// Label of a step: its `EventType`, or `v1 record`.
pub(crate) fn label_of(step: &Step) -> String {
    match step {
        Step::V2(v) => v["EventType"].as_str().unwrap_or("?").to_string(),
        Step::V1(_) => "v1 record".into(),
    }
}

/// One case of random streams, sent in order (a replay of a seed is the same sequence).
pub(crate) fn random(seed: u64, events: usize, v1: bool) -> Vec<Case> {
    let mut c = Case::new(
        &format!("random-seed-{seed}"),
        &format!("{events} bodies of random valid streams, seed {seed}"),
        Mode::InOrder,
    );
    for step in random_steps(seed, events, v1) {
        let label = label_of(&step);
        match step {
            Step::V2(v) => c.v2(Check::R1, label, v),
            Step::V1(v) => c.v1(Check::R9, label, v),
        };
    }
    vec![c]
}

/// The load mix: realistic recordings (alternately 2.x and 1.3 shape, fresh ids each)
/// until `events` bodies. v1 records only with `v1`.
pub(crate) fn load(events: usize, v1: bool) -> Case {
    let room = Room::doc_example();
    let mut c = Case::new(
        "load",
        &format!("{events} bodies of realistic recordings"),
        Mode::InOrder,
    );
    let mut v2x = true;
    while c.items.len() < events {
        for step in realistic_scenario(&room, v2x, None) {
            let label = label_of(&step);
            match step {
                Step::V2(v) => c.v2(Check::R1, label, v),
                Step::V1(v) if v1 => c.v1(Check::R9, label, v),
                Step::V1(_) => &mut c,
            };
        }
        v2x = !v2x;
    }
    c.items.truncate(events);
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probe_bodies_are_valid_except_where_meant() {
        for case in probe(true) {
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
    fn value_forms() {
        let cases = probe(false);
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
        assert!(body("r8-file-size-above-2-32", 2).contains("\"FileSize\":6442450944"));
        let tricky = body("r8-names-emoji-quotes-backslashes", 0);
        assert!(tricky.contains("🎮") && tricky.contains("\\\"无常\\\"") && tricky.contains("\\\\"));
        let r7 = body("r7-stream-events-without-session-id", 0);
        assert!(!r7.contains("SessionId"));
        let r5 = cases.iter().find(|c| c.name == "r5-retry-after-2xx").unwrap();
        assert_eq!(r5.items[2].step, r5.items[3].step);
    }

    #[test]
    fn random_is_seeded() {
        let a = random_steps(7, 40, true);
        assert_eq!(a.len(), 40);
        assert_eq!(a, random_steps(7, 40, true));
        assert_ne!(a, random_steps(8, 40, true));
        for s in &a {
            let b = crate::body::judge(&gen::serialize(s.value()));
            assert!(
                b.findings.iter().all(|f| f.level == crate::catalog::Level::Info),
                "{:?}",
                b.findings
            );
        }
    }
}
