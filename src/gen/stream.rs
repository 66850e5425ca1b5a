//! Whole captures for sending over HTTP: [`Stream`] (the steps, v2 events and v1 records,
//! of one or two rooms, in firing order), [`any_stream`], which draws a plan of rooms,
//! sessions and files and builds it into a valid stream with distinct ids and a clock
//! that never runs backwards, and [`any_fault_plan`] over [`STREAM_FAULTS`] for the URLs
//! a stream is sent to. Each step is a [`Step`].

use proptest::prelude::*;
use serde_json::Value;
use uuid::Uuid;

use super::build::{
    file_closed, file_opening, session_ended, session_started, stream_ended, stream_started, unknown_event,
    v1_record,
};
use super::model::{later, File, Room, State, Step, Time, V2x, TICKS_PER_SECOND};
use super::values::{date_time, duration, file_size, relative_path, room};
use crate::protocol::EventKind;

/// The unknown event type random streams sometimes carry: an `EventType` a future
/// recorder might add, with the room fields (and the 2.x booleans when the stream has
/// them) as `EventData`. A judge checks only its envelope (S3, `info`).
pub const UNKNOWN_EVENT_TYPE: &str = "RoomChanged";

/// A valid capture, in the order a sender fires it (play it with
/// the reference sender's `play`): per room, optionally `StreamStarted`, then 0–2 sessions
/// (`SessionStarted`, 0–3 × (`FileOpening`, `FileClosed` [+ its v1 record]),
/// `SessionEnded`), then optionally `StreamEnded` (stream events only in 2.x streams); sometimes one [`UNKNOWN_EVENT_TYPE`]
/// event between sessions; two rooms' events interleaved. A v1 record follows its
/// `FileClosed` directly, as the recorder fires both from one handler.
///
/// Valid means: every session started and ended once, every `FileClosed` paired with its
/// `FileOpening`, `FileCloseTime >= FileOpenTime`, one room per session, relative paths
/// (unique within the stream), one v1 record per `FileClosed` or none at all,
/// `Streaming` true in `StreamStarted` and false in `StreamEnded`, every `EventId`,
/// `EventRandomId` and `SessionId` distinct, the 2.x booleans in every event or in none.
#[derive(Clone, Debug, PartialEq)]
pub struct Stream {
    /// The bodies in send order: v2 events, each v1 record after its `FileClosed`.
    pub steps: Vec<Step>,
}

impl Stream {
    /// The v2 events, in order.
    pub fn v2_events(&self) -> impl Iterator<Item = &Value> {
        self.steps.iter().filter_map(|s| match s {
            Step::V2(v) => Some(v),
            Step::V1(_) => None,
        })
    }

    /// The v1 records, in order.
    pub fn v1_records(&self) -> impl Iterator<Item = &Value> {
        self.steps.iter().filter_map(|s| match s {
            Step::V1(v) => Some(v),
            Step::V2(_) => None,
        })
    }

    /// True when the stream has v1 records (and so wants a v1 URL).
    pub fn has_v1(&self) -> bool {
        self.v1_records().next().is_some()
    }

    /// How many v2 events have this `EventType`.
    pub fn count(&self, event_type: &str) -> usize {
        self.v2_events()
            .filter(|v| v["EventType"].as_str() == Some(event_type))
            .count()
    }

    /// One line per step: `EventType` (or `v1`) and the session, path or room it is about.
    pub fn summary(&self) -> String {
        let mut out = String::new();
        for (i, s) in self.steps.iter().enumerate() {
            let v = s.value();
            let line = match s {
                Step::V2(v) => {
                    let d = &v["EventData"];
                    let about = d["SessionId"]
                        .as_str()
                        .map(|s| format!("session {}", &s[..8.min(s.len())]))
                        .unwrap_or_else(|| format!("room {}", d["RoomId"]));
                    let path = d["RelativePath"]
                        .as_str()
                        .map(|p| format!(" {p:?}"))
                        .unwrap_or_default();
                    format!("{} {about}{path}", v["EventType"].as_str().unwrap_or("?"))
                }
                Step::V1(_) => {
                    format!("v1 {:?}", v["RelativePath"].as_str().unwrap_or("?"))
                }
            };
            out.push_str(&format!("{i:>2}: {line}\n"));
        }
        out
    }
}

/// One file of a session plan: its path (made unique when built), size and duration.
#[derive(Clone, Debug)]
struct FilePlan {
    path: String,
    size: i64,
    duration: f64,
}

#[derive(Clone, Debug)]
struct RoomPlan {
    room: Room,
    /// `StreamStarted` first and `StreamEnded` last (forced when there is no session).
    stream_events: bool,
    sessions: Vec<Vec<FilePlan>>,
    /// The room's `DanmakuConnected` throughout.
    danmaku: bool,
    /// Before which session (or after the last one) the unknown event goes.
    unknown_at: Option<usize>,
    base: Time,
}

#[derive(Clone, Debug)]
struct StreamPlan {
    rooms: Vec<RoomPlan>,
    v2x: bool,
    v1: bool,
    /// Which room's next event comes next while both have events left.
    interleave: Vec<bool>,
    /// The fixed part of every GUID of the stream; a counter makes them distinct, even
    /// when shrinking drives these bytes to zero.
    id_seed: [u8; 12],
    /// Fractions (per million of a step's longest gap) and fraction digits for the
    /// clock, used in turn.
    clock: Vec<(u32, u32)>,
}

/// splitmix64's finaliser: spreads a seed's bits.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Builds a [`StreamPlan`] into steps.
struct StreamBuilder<'a> {
    plan: &'a StreamPlan,
    next_id: u32,
    tick: usize,
    files: usize,
}

impl StreamBuilder<'_> {
    /// A fresh GUID: random-looking bytes from the seed and a counter, the counter
    /// (masked by the seed) in the last 4 bytes so that no two are equal. Only bytes 6
    /// and 8 carry the version and variant: the counter survives.
    fn id(&mut self) -> Uuid {
        let n = self.next_id;
        self.next_id += 1;
        let seed = &self.plan.id_seed;
        let word = |i: usize| u64::from_le_bytes(seed[i..i + 8].try_into().expect("8 bytes"));
        let (a, b) = (mix(word(0) ^ u64::from(n)), mix(word(4) ^ (u64::from(n) << 32)));
        let mut bytes = [0u8; 16];
        bytes[..8].copy_from_slice(&a.to_le_bytes());
        bytes[8..12].copy_from_slice(&b.to_le_bytes()[..4]);
        let mask = mix(word(0) ^ word(4)) as u32;
        bytes[12..].copy_from_slice(&(n ^ mask).to_be_bytes());
        uuid::Builder::from_random_bytes(bytes).into_uuid()
    }

    /// A time at or after `t`, at most `max_seconds` later.
    fn after(&mut self, t: Time, max_seconds: i64) -> Time {
        let (ppm, digits) = self.plan.clock[self.tick % self.plan.clock.len()];
        self.tick += 1;
        let ticks = i128::from(max_seconds * TICKS_PER_SECOND) * i128::from(ppm) / 1_000_000;
        later(t, ticks as i64, digits)
    }

    fn state(&self, r: &RoomPlan, kind: EventKind, last_session: bool) -> V2x {
        if !self.plan.v2x {
            return V2x::Absent;
        }
        let recording = matches!(
            kind,
            EventKind::SessionStarted | EventKind::FileOpening | EventKind::FileClosed
        );
        let streaming = match kind {
            EventKind::StreamEnded => false,
            // The stream ending is what ends the last session.
            EventKind::SessionEnded => !(r.stream_events && last_session),
            _ => true,
        };
        V2x::State(State {
            recording,
            streaming,
            danmaku_connected: r.danmaku,
        })
    }

    /// One room's steps, in units that stay together when rooms are interleaved.
    fn room(&mut self, r: &RoomPlan) -> Vec<Vec<Step>> {
        use Step::{V1, V2};
        let room = &r.room;
        let mut units = Vec::new();
        let mut t = r.base;
        let unknown_at = r.unknown_at.map(|k| k.min(r.sessions.len()));
        if r.stream_events {
            let (id, st) = (self.id(), self.state(r, EventKind::StreamStarted, false));
            units.push(vec![V2(stream_started(room, t, id, st))]);
        }
        for (k, files) in r.sessions.iter().enumerate() {
            let last_session = k + 1 == r.sessions.len();
            if unknown_at == Some(k) {
                t = self.after(t, 60);
                units.push(vec![V2(self.unknown(r, t))]);
            }
            t = self.after(t, 60);
            let session = self.id();
            let (id, st) = (self.id(), self.state(r, EventKind::SessionStarted, last_session));
            units.push(vec![V2(session_started(room, session, t, id, st))]);
            for f in files {
                self.files += 1;
                // Opened, stamped just after, closed later still: FileOpening's
                // timestamp is never after the file's close.
                let open_time = self.after(t, 10);
                let ts = self.after(open_time, 1);
                let file = File {
                    relative_path: format!("{}-{}", self.files, f.path),
                    open_time,
                    close_time: self.after(ts, 2 * 3600),
                    size: f.size,
                    duration: f.duration,
                };
                let (id, st) = (self.id(), self.state(r, EventKind::FileOpening, last_session));
                units.push(vec![V2(file_opening(room, session, &file, ts, id, st))]);
                t = self.after(file.close_time, 1);
                let (id, st) = (self.id(), self.state(r, EventKind::FileClosed, last_session));
                let mut unit = vec![V2(file_closed(room, session, &file, t, id, st))];
                if self.plan.v1 {
                    unit.push(V1(v1_record(room, &file, self.id())));
                }
                units.push(unit);
            }
            t = self.after(t, 5);
            let (id, st) = (self.id(), self.state(r, EventKind::SessionEnded, last_session));
            units.push(vec![V2(session_ended(room, session, t, id, st))]);
        }
        if unknown_at == Some(r.sessions.len()) {
            t = self.after(t, 60);
            units.push(vec![V2(self.unknown(r, t))]);
        }
        if r.stream_events {
            t = self.after(t, 10);
            let (id, st) = (self.id(), self.state(r, EventKind::StreamEnded, true));
            units.push(vec![V2(stream_ended(room, t, id, st))]);
        }
        units
    }

    fn unknown(&mut self, r: &RoomPlan, t: Time) -> Value {
        let id = self.id();
        let state = self.plan.v2x.then_some(State {
            recording: false,
            streaming: r.stream_events,
            danmaku_connected: r.danmaku,
        });
        unknown_event(UNKNOWN_EVENT_TYPE, &r.room, t, id, state)
    }

    fn build(mut self) -> Stream {
        let plan = self.plan;
        let mut rooms: Vec<std::collections::VecDeque<_>> =
            plan.rooms.iter().map(|r| self.room(r).into()).collect();
        let mut steps = Vec::new();
        let mut choices = plan.interleave.iter();
        while rooms.iter().filter(|r| !r.is_empty()).count() > 1 {
            let pick = usize::from(choices.next().copied().unwrap_or(false));
            if let Some(unit) = rooms[pick].pop_front() {
                steps.extend(unit);
            }
        }
        for r in &mut rooms {
            steps.extend(r.drain(..).flatten());
        }
        Stream { steps }
    }
}

fn file_plan() -> impl Strategy<Value = FilePlan> {
    (relative_path(), file_size(), duration()).prop_map(|(path, size, duration)| FilePlan {
        path,
        size,
        duration,
    })
}

fn room_plan() -> impl Strategy<Value = RoomPlan> {
    (
        room(),
        any::<bool>(),
        proptest::collection::vec(proptest::collection::vec(file_plan(), 0..=3), 0..=2),
        any::<bool>(),
        proptest::option::weighted(0.3, 0..=2usize),
        date_time(),
    )
        .prop_map(
            |(room, stream_events, sessions, danmaku, unknown_at, base)| RoomPlan {
                stream_events: stream_events || sessions.is_empty(),
                room,
                sessions,
                danmaku,
                unknown_at,
                base,
            },
        )
}

/// A random valid [`Stream`]: 1–2 rooms, each with 0–2 sessions of 0–3 files (a room
/// without a session still has `StreamStarted`/`StreamEnded`), with or without the 2.x
/// booleans (for the whole stream; without them, no stream events and at least one
/// session per room, as a pre-2.0 recorder), with or without v1 records (one per `FileClosed`),
/// sometimes an [`UNKNOWN_EVENT_TYPE`] event. Never empty; every room has at least one
/// event of a known type.
pub fn any_stream() -> impl Strategy<Value = Stream> {
    (
        proptest::collection::vec(room_plan(), 1..=2),
        any::<bool>(),
        any::<bool>(),
        proptest::collection::vec(any::<bool>(), 0..48),
        any::<[u8; 12]>(),
        proptest::collection::vec((0u32..=1_000_000, 0u32..=7), 1..=16),
    )
        .prop_map(|(mut rooms, v2x, v1, interleave, id_seed, clock)| {
            if !v2x {
                // Stream events exist only in 2.x: a pre-2.0 room records sessions only
                // (one, empty, when it drew none).
                for r in &mut rooms {
                    r.stream_events = false;
                    if r.sessions.is_empty() {
                        r.sessions.push(Vec::new());
                    }
                }
            }
            let plan = StreamPlan {
                rooms,
                v2x,
                v1,
                interleave,
                id_seed,
                clock,
            };
            StreamBuilder {
                plan: &plan,
                next_id: 0,
                tick: 0,
                files: 0,
            }
            .build()
        })
}

/// The faults [`any_fault_plan`] draws from (`checks.md`, "Faults"). `status:500` never
/// succeeds: a faithful sender gives up after its 3 attempts, which is allowed. A delay
/// is F3's window (the other URLs' requests must arrive while it holds): 30 ms was less
/// than a concurrent sender's sibling requests can lag on a loaded 2-core machine.
pub const STREAM_FAULTS: [&str; 8] = [
    "ok",
    "fail:1",
    "fail:2",
    "reset:1",
    "delay:150",
    "fail:1+delay:100",
    "status:500",
    "status:202",
];

/// 1–3 v2 URLs as `(name, fault)`, faults from [`STREAM_FAULTS`] (repeats allowed),
/// names unique (`v2-0-fail-1`, `v2-1-ok`, ...) and safe as a path segment.
pub fn any_fault_plan() -> impl Strategy<Value = Vec<(String, String)>> {
    proptest::collection::vec(proptest::sample::select(STREAM_FAULTS.to_vec()), 1..=3).prop_map(|faults| {
        faults
            .into_iter()
            .enumerate()
            .map(|(i, f)| (format!("v2-{i}-{}", f.replace([':', '+'], "-")), f.to_string()))
            .collect()
    })
}
