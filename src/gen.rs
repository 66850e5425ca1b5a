//! Generators of BililiveRecorder webhook bodies: plain builders that write an event the
//! way the real sender does (key order, value forms, bytes), and proptest strategies over
//! them, valid and single-field-mutated.
//!
//! Two layers, usable apart:
//! - the model ([`Room`], [`File`], [`State`], [`V2x`]) and the builders
//!   ([`session_started`], [`file_opening`], [`file_closed`], [`session_ended`],
//!   [`stream_started`], [`stream_ended`], [`v1_record`], [`serialize`]) are plain,
//!   deterministic functions: a reference sender can build a scenario without proptest;
//! - the strategies ([`room`], [`file()`], [`date_time`], [`any_event`], [`any_body`],
//!   [`mutated_event`], ...) draw the model's values in the real sender's forms
//!   (`sender-facts.md`, "Value formats"), so stream generators can reuse them.
//!
//! Knows about serde_json, uuid, chrono and proptest only: nothing of the judge.

use chrono::{DateTime, FixedOffset, NaiveDate, TimeDelta, Timelike};
use proptest::prelude::*;
use proptest::sample::Index;
use serde_json::{Map, Value};
use uuid::Uuid;

// ---------------------------------------------------------------------------------------
// The model
// ---------------------------------------------------------------------------------------

/// A date-time as the sender holds it: a local time with its UTC offset.
pub type Time = DateTime<FixedOffset>;

/// .NET's `DateTime` resolution: one tick is 100 ns, so 7 fraction digits at most.
pub const TICKS_PER_SECOND: i64 = 10_000_000;

/// The room fields every v2 `EventData` carries (and the v1 record's `RoomId`, `Name`,
/// `Title`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Room {
    pub room_id: i32,
    /// 0 when the room has no short id.
    pub short_id: i32,
    pub name: String,
    pub title: String,
    pub area_parent: String,
    pub area_child: String,
}

impl Room {
    /// The room of the documentation's v2 examples (23058, 3号直播间).
    pub fn doc_example() -> Room {
        Room {
            room_id: 23058,
            short_id: 3,
            name: "3号直播间".into(),
            title: "哔哩哔哩音悦台".into(),
            area_parent: "生活".into(),
            area_child: "影音馆".into(),
        }
    }
}

/// One recorded file: what `FileOpening`, `FileClosed` and the v1 record say of it.
/// `FileOpening` uses only `relative_path` and `open_time`.
#[derive(Clone, Debug, PartialEq)]
pub struct File {
    pub relative_path: String,
    pub open_time: Time,
    pub close_time: Time,
    /// Bytes; int64, may exceed 2^32.
    pub size: i64,
    /// Seconds of media; written as a JSON number (`4.992`, `5.0`, `0.0`).
    pub duration: f64,
}

impl File {
    /// The file of the documentation's `FileOpening`/`FileClosed` examples.
    pub fn doc_example() -> File {
        File {
            relative_path: "23058-3号直播间/录制-23058-20210514-175250-哔哩哔哩音悦台.flv".into(),
            open_time: parse_time("2021-05-14T17:52:50.5246401+08:00"),
            close_time: parse_time("2021-05-14T17:52:54.9461101+08:00"),
            size: 816412,
            duration: 4.992,
        }
    }
}

/// The six v2 event types the real sender sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EventKind {
    SessionStarted,
    FileOpening,
    FileClosed,
    SessionEnded,
    StreamStarted,
    StreamEnded,
}

impl EventKind {
    pub const ALL: [EventKind; 6] = [
        EventKind::SessionStarted,
        EventKind::FileOpening,
        EventKind::FileClosed,
        EventKind::SessionEnded,
        EventKind::StreamStarted,
        EventKind::StreamEnded,
    ];

    /// The `EventType` string.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::SessionStarted => "SessionStarted",
            EventKind::FileOpening => "FileOpening",
            EventKind::FileClosed => "FileClosed",
            EventKind::SessionEnded => "SessionEnded",
            EventKind::StreamStarted => "StreamStarted",
            EventKind::StreamEnded => "StreamEnded",
        }
    }

    pub fn parse(event_type: &str) -> Option<EventKind> {
        EventKind::ALL.into_iter().find(|k| k.as_str() == event_type)
    }

    /// Whether `EventData` carries a `SessionId` (all but the 2.x stream events).
    pub fn has_session(self) -> bool {
        !matches!(self, EventKind::StreamStarted | EventKind::StreamEnded)
    }
}

/// The room's state when an event was built: the 2.x booleans.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct State {
    pub recording: bool,
    pub streaming: bool,
    pub danmaku_connected: bool,
}

impl State {
    /// A plausible state for an event of this kind (the 2.x corpus shows
    /// `StreamStarted` as recording=false, streaming=true, danmaku=false).
    pub fn typical(kind: EventKind) -> State {
        let (recording, streaming, danmaku_connected) = match kind {
            EventKind::SessionStarted | EventKind::FileOpening | EventKind::FileClosed => (true, true, true),
            EventKind::SessionEnded => (false, false, true),
            EventKind::StreamStarted => (false, true, false),
            EventKind::StreamEnded => (false, false, false),
        };
        State {
            recording,
            streaming,
            danmaku_connected,
        }
    }
}

/// Whether (and how) an event carries the 2.x booleans. `true.into()` is
/// [`V2x::Typical`], `false.into()` is [`V2x::Absent`], a [`State`] is itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum V2x {
    /// A pre-2.0 sender: no `Recording`, `Streaming`, `DanmakuConnected`.
    Absent,
    /// 2.x, with [`State::typical`] of the event's kind.
    Typical,
    /// 2.x, with this state.
    State(State),
}

impl From<bool> for V2x {
    fn from(v2x: bool) -> V2x {
        if v2x {
            V2x::Typical
        } else {
            V2x::Absent
        }
    }
}

impl From<State> for V2x {
    fn from(s: State) -> V2x {
        V2x::State(s)
    }
}

impl From<Option<State>> for V2x {
    fn from(s: Option<State>) -> V2x {
        s.map_or(V2x::Absent, V2x::State)
    }
}

impl V2x {
    /// The booleans this event carries, if any.
    pub fn state(self, kind: EventKind) -> Option<State> {
        match self {
            V2x::Absent => None,
            V2x::Typical => Some(State::typical(kind)),
            V2x::State(s) => Some(s),
        }
    }
}

// ---------------------------------------------------------------------------------------
// Value forms
// ---------------------------------------------------------------------------------------

/// Newtonsoft.Json's default date-time form: `YYYY-MM-DDTHH:MM:SS[.fffffff]±HH:MM`, the
/// fraction in ticks with trailing zeros trimmed (none at all when zero), `+00:00` for
/// UTC (never `Z`). Nanoseconds below a tick are dropped, as .NET cannot hold them.
pub fn format_date_time(t: &Time) -> String {
    let ticks = (t.nanosecond() % 1_000_000_000) / 100;
    let mut s = t.format("%Y-%m-%dT%H:%M:%S").to_string();
    if ticks != 0 {
        let f = format!("{ticks:07}");
        s.push('.');
        s.push_str(f.trim_end_matches('0'));
    }
    s.push_str(&t.format("%:z").to_string());
    s
}

/// Parses an RFC 3339 date-time (for fixed scenarios); panics on a bad literal.
pub fn parse_time(s: &str) -> Time {
    DateTime::parse_from_rfc3339(s).unwrap_or_else(|e| panic!("bad date-time literal {s:?}: {e}"))
}

/// The sender's GUID form: 36 characters, lowercase, hyphenated.
pub fn format_guid(u: Uuid) -> String {
    u.hyphenated().to_string()
}

/// `t` plus `ticks` (100 ns each).
pub fn add_ticks(t: Time, ticks: i64) -> Time {
    t + TimeDelta::nanoseconds(ticks.saturating_mul(100))
}

/// `t` with its fraction cut to `digits` (0..=7) decimal digits.
pub fn truncate_fraction(t: Time, digits: u32) -> Time {
    let ticks = i64::from((t.nanosecond() % 1_000_000_000) / 100);
    let unit = 10_i64.pow(7 - digits.min(7));
    add_ticks(t, -(ticks % unit))
}

/// A time `ticks` after `start`, its fraction cut to `digits` digits, but never before
/// `start` (then it is `start` itself). For `FileCloseTime >= FileOpenTime` and event
/// timestamps after the fact, with the varied fraction lengths of real output.
pub fn later(start: Time, ticks: i64, digits: u32) -> Time {
    let t = truncate_fraction(add_ticks(start, ticks.max(0)), digits);
    if t < start {
        start
    } else {
        t
    }
}

// ---------------------------------------------------------------------------------------
// Builders: events in the real sender's key order
// ---------------------------------------------------------------------------------------

fn envelope(kind: EventKind, ts: Time, event_id: Uuid, data: Map<String, Value>) -> Value {
    let mut m = Map::new();
    m.insert("EventType".into(), kind.as_str().into());
    m.insert("EventTimestamp".into(), format_date_time(&ts).into());
    m.insert("EventId".into(), format_guid(event_id).into());
    m.insert("EventData".into(), Value::Object(data));
    Value::Object(m)
}

fn push_session(m: &mut Map<String, Value>, session_id: Uuid) {
    m.insert("SessionId".into(), format_guid(session_id).into());
}

fn push_room(m: &mut Map<String, Value>, room: &Room) {
    m.insert("RoomId".into(), room.room_id.into());
    m.insert("ShortId".into(), room.short_id.into());
    m.insert("Name".into(), room.name.clone().into());
    m.insert("Title".into(), room.title.clone().into());
    m.insert("AreaNameParent".into(), room.area_parent.clone().into());
    m.insert("AreaNameChild".into(), room.area_child.clone().into());
}

fn push_state(m: &mut Map<String, Value>, kind: EventKind, v2x: V2x) {
    if let Some(s) = v2x.state(kind) {
        m.insert("Recording".into(), s.recording.into());
        m.insert("Streaming".into(), s.streaming.into());
        m.insert("DanmakuConnected".into(), s.danmaku_connected.into());
    }
}

fn session_event(
    kind: EventKind,
    room: &Room,
    session_id: Uuid,
    ts: Time,
    event_id: Uuid,
    v2x: V2x,
) -> Value {
    let mut d = Map::new();
    push_session(&mut d, session_id);
    push_room(&mut d, room);
    push_state(&mut d, kind, v2x);
    envelope(kind, ts, event_id, d)
}

fn stream_event(kind: EventKind, room: &Room, ts: Time, event_id: Uuid, v2x: V2x) -> Value {
    let mut d = Map::new();
    push_room(&mut d, room);
    push_state(&mut d, kind, v2x);
    envelope(kind, ts, event_id, d)
}

/// `SessionStarted`: SessionId, room fields[, 2.x booleans].
pub fn session_started(
    room: &Room,
    session_id: Uuid,
    ts: Time,
    event_id: Uuid,
    v2x: impl Into<V2x>,
) -> Value {
    session_event(
        EventKind::SessionStarted,
        room,
        session_id,
        ts,
        event_id,
        v2x.into(),
    )
}

/// `SessionEnded`: SessionId, room fields[, 2.x booleans].
pub fn session_ended(room: &Room, session_id: Uuid, ts: Time, event_id: Uuid, v2x: impl Into<V2x>) -> Value {
    session_event(
        EventKind::SessionEnded,
        room,
        session_id,
        ts,
        event_id,
        v2x.into(),
    )
}

/// `FileOpening`: RelativePath, FileOpenTime, SessionId, room fields[, 2.x booleans].
pub fn file_opening(
    room: &Room,
    session_id: Uuid,
    file: &File,
    ts: Time,
    event_id: Uuid,
    v2x: impl Into<V2x>,
) -> Value {
    let kind = EventKind::FileOpening;
    let mut d = Map::new();
    d.insert("RelativePath".into(), file.relative_path.clone().into());
    d.insert("FileOpenTime".into(), format_date_time(&file.open_time).into());
    push_session(&mut d, session_id);
    push_room(&mut d, room);
    push_state(&mut d, kind, v2x.into());
    envelope(kind, ts, event_id, d)
}

/// `FileClosed`: RelativePath, FileSize, Duration, FileOpenTime, FileCloseTime,
/// SessionId, room fields[, 2.x booleans].
pub fn file_closed(
    room: &Room,
    session_id: Uuid,
    file: &File,
    ts: Time,
    event_id: Uuid,
    v2x: impl Into<V2x>,
) -> Value {
    let kind = EventKind::FileClosed;
    let mut d = Map::new();
    d.insert("RelativePath".into(), file.relative_path.clone().into());
    d.insert("FileSize".into(), file.size.into());
    d.insert("Duration".into(), duration_value(file.duration));
    d.insert("FileOpenTime".into(), format_date_time(&file.open_time).into());
    d.insert("FileCloseTime".into(), format_date_time(&file.close_time).into());
    push_session(&mut d, session_id);
    push_room(&mut d, room);
    push_state(&mut d, kind, v2x.into());
    envelope(kind, ts, event_id, d)
}

/// `StreamStarted` (2.x): room fields[, 2.x booleans]; no SessionId, no file fields.
pub fn stream_started(room: &Room, ts: Time, event_id: Uuid, v2x: impl Into<V2x>) -> Value {
    stream_event(EventKind::StreamStarted, room, ts, event_id, v2x.into())
}

/// `StreamEnded` (2.x): room fields[, 2.x booleans]; no SessionId, no file fields.
pub fn stream_ended(room: &Room, ts: Time, event_id: Uuid, v2x: impl Into<V2x>) -> Value {
    stream_event(EventKind::StreamEnded, room, ts, event_id, v2x.into())
}

/// Any of the six, by kind: `session_id` is ignored by the stream events, `file` by all
/// but the file events.
pub fn v2_event(
    kind: EventKind,
    room: &Room,
    session_id: Uuid,
    file: &File,
    ts: Time,
    event_id: Uuid,
    v2x: impl Into<V2x>,
) -> Value {
    let v2x = v2x.into();
    match kind {
        EventKind::SessionStarted => session_started(room, session_id, ts, event_id, v2x),
        EventKind::FileOpening => file_opening(room, session_id, file, ts, event_id, v2x),
        EventKind::FileClosed => file_closed(room, session_id, file, ts, event_id, v2x),
        EventKind::SessionEnded => session_ended(room, session_id, ts, event_id, v2x),
        EventKind::StreamStarted => stream_started(room, ts, event_id, v2x),
        EventKind::StreamEnded => stream_ended(room, ts, event_id, v2x),
    }
}

/// The v1 record of a closed file: EventRandomId, RoomId, Name, Title, RelativePath,
/// FileSize, StartRecordTime (= FileOpenTime), EndRecordTime (= FileCloseTime).
pub fn v1_record(room: &Room, file: &File, event_random_id: Uuid) -> Value {
    let mut m = Map::new();
    m.insert("EventRandomId".into(), format_guid(event_random_id).into());
    m.insert("RoomId".into(), room.room_id.into());
    m.insert("Name".into(), room.name.clone().into());
    m.insert("Title".into(), room.title.clone().into());
    m.insert("RelativePath".into(), file.relative_path.clone().into());
    m.insert("FileSize".into(), file.size.into());
    m.insert("StartRecordTime".into(), format_date_time(&file.open_time).into());
    m.insert("EndRecordTime".into(), format_date_time(&file.close_time).into());
    Value::Object(m)
}

/// A double as a JSON number; serde_json writes a whole value as `5.0`, like Newtonsoft.
/// Non-finite values (which Newtonsoft would write as strings) are not modelled: 0.0.
fn duration_value(d: f64) -> Value {
    serde_json::Number::from_f64(d).map_or(Value::from(0.0), Value::Number)
}

/// The real sender's bytes: compact (`Formatting.None`), raw UTF-8, no BOM. Newtonsoft
/// escapes `"`, `\`, and control characters like serde_json does (`\n`, `\u001f`, ...),
/// and additionally U+0085, U+2028 and U+2029 (as `\u0085`, `\u2028`, `\u2029`), which
/// serde_json writes raw; this function writes them as Newtonsoft does.
pub fn serialize(v: &Value) -> Vec<u8> {
    let s = serde_json::to_string(v).expect("a serde_json Value always serialises");
    if !s.contains(['\u{85}', '\u{2028}', '\u{2029}']) {
        return s.into_bytes();
    }
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        match c {
            // Outside strings compact JSON has only ASCII, so these are inside strings.
            '\u{85}' => out.push_str("\\u0085"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out.into_bytes()
}

// ---------------------------------------------------------------------------------------
// Strategies: values in the real sender's forms
// ---------------------------------------------------------------------------------------

/// A UTC offset from -12:00 to +14:00 in quarter hours (all real zones are), weighted
/// towards +08:00 (the recorder's home) and +00:00.
pub fn offset() -> impl Strategy<Value = FixedOffset> {
    prop_oneof![
        3 => Just(8 * 60),
        2 => Just(0),
        1 => Just(-12 * 60),
        1 => Just(14 * 60),
        6 => (-48i32..=56).prop_map(|q| q * 15),
    ]
    .prop_map(|minutes| FixedOffset::east_opt(minutes * 60).expect("offset within ±14:00"))
}

/// A valid local date-time (years 2000–2099, leap days included) with 0–7 fraction
/// digits (after trimming trailing zeros, so often fewer) and an [`offset`].
pub fn date_time() -> impl Strategy<Value = Time> {
    (
        (2000i32..=2099, 1u32..=12, 1u32..=31),
        (0u32..24, 0u32..60, 0u32..60),
        (0u32..=7, any::<u32>()),
        offset(),
    )
        .prop_filter_map(
            "no such calendar day",
            |((y, mo, d), (h, mi, s), (digits, r), off)| {
                let naive = NaiveDate::from_ymd_opt(y, mo, d)?.and_hms_opt(h, mi, s)?;
                let ticks = if digits == 0 {
                    0
                } else {
                    (r % 10u32.pow(digits)) * 10u32.pow(7 - digits)
                };
                let local = naive + TimeDelta::nanoseconds(i64::from(ticks) * 100);
                local.and_local_timezone(off).single()
            },
        )
}

/// A time at or after `start`, at most `max_ticks` later (see [`later`]).
pub fn date_time_after(start: Time, max_ticks: i64) -> impl Strategy<Value = Time> {
    (0..=max_ticks.max(0), 0u32..=7).prop_map(move |(t, d)| later(start, t, d))
}

/// A random (v4) GUID, as .NET's `Guid.NewGuid()`.
pub fn guid() -> impl Strategy<Value = Uuid> {
    any::<[u8; 16]>().prop_map(|b| uuid::Builder::from_random_bytes(b).into_uuid())
}

/// Characters of names and titles: CJK, ASCII, emoji, full-width punctuation, and the
/// ones serialisers trip on: quotes, backslashes, control characters, U+0085/2028/2029,
/// U+FEFF, a private-use-free set (U+F8FF is reserved for [`Edit::Raw`]).
fn text_char() -> impl Strategy<Value = char> {
    prop_oneof![
        4 => proptest::char::range('\u{4e00}', '\u{9fff}'),
        3 => proptest::char::range(' ', '~'),
        2 => proptest::char::range('\u{1f300}', '\u{1faff}'),
        1 => proptest::sample::select(vec!['【', '】', '！', '～', '「', '」', '·', 'é', 'ñ', 'ü', '\u{301}', '\u{200d}', 'ア', '한']),
        2 => proptest::sample::select(vec!['"', '\\', '\'', '/', '<', '>', '&', '\u{7f}', '\u{85}', '\u{2028}', '\u{2029}', '\u{feff}', '\u{fffd}']),
        1 => proptest::char::range('\u{0}', '\u{1f}'),
    ]
}

/// A name, title or area name: 0–24 characters (possibly empty) of CJK, ASCII, emoji, quotes, backslashes and control characters.
pub fn text() -> impl Strategy<Value = String> {
    proptest::collection::vec(text_char(), 0..24).prop_map(String::from_iter)
}

/// Characters of path segments: what survives the recorder's file-name cleaning on any
/// OS, minus `\` and `:` (no drive letters, no second separator).
fn path_char() -> impl Strategy<Value = char> {
    prop_oneof![
        4 => proptest::char::range('\u{4e00}', '\u{9fff}'),
        4 => proptest::sample::select(
            "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_ .()[]".chars().collect::<Vec<_>>()
        ),
        1 => proptest::char::range('\u{1f300}', '\u{1faff}'),
        1 => proptest::sample::select(vec!['【', '】', '！', '"', '\'', '&', '#', '%', '+', ',', '=', '@', '~']),
    ]
}

fn path_segment() -> impl Strategy<Value = String> {
    proptest::collection::vec(path_char(), 1..16).prop_map(|cs| {
        let s = String::from_iter(cs);
        // A segment of dots only would be `.` or `..`: not a relative file path.
        if s.chars().all(|c| c == '.') {
            format!("x{s}")
        } else {
            s
        }
    })
}

/// A relative path with 1–3 segments separated by `/`, ending in `.flv`: no leading `/`,
/// no drive letter, no `..` segment, but CJK, emoji, spaces and quotes.
pub fn relative_path() -> impl Strategy<Value = String> {
    proptest::collection::vec(path_segment(), 1..=3).prop_map(|segs| format!("{}.flv", segs.join("/")))
}

/// A room id: positive int32, boundaries included.
pub fn room_id() -> impl Strategy<Value = i32> {
    prop_oneof![Just(1), Just(i32::MAX), 1..100_000i32, 1..=i32::MAX,]
}

/// A short id: 0 (no short id) often, else a positive int32.
pub fn short_id() -> impl Strategy<Value = i32> {
    prop_oneof![
        3 => Just(0),
        2 => 1..10_000i32,
        1 => 1..=i32::MAX,
    ]
}

pub fn room() -> impl Strategy<Value = Room> {
    (room_id(), short_id(), text(), text(), text(), text()).prop_map(
        |(room_id, short_id, name, title, area_parent, area_child)| Room {
            room_id,
            short_id,
            name,
            title,
            area_parent,
            area_child,
        },
    )
}

/// A file size: 0..=i64::MAX, with 0, sizes above 2^32 and i64::MAX.
pub fn file_size() -> impl Strategy<Value = i64> {
    prop_oneof![
        Just(0),
        Just(i64::MAX),
        0..(1i64 << 32),
        (1i64 << 32)..(1i64 << 40),
        0..=i64::MAX,
    ]
}

/// A duration in seconds: 0.0, whole numbers (written `5.0`), or milliseconds (`4.992`).
/// Kept below 10^7 s so serde_json and Newtonsoft write the same digits.
pub fn duration() -> impl Strategy<Value = f64> {
    prop_oneof![
        1 => Just(0.0),
        2 => (0u32..=100_000).prop_map(f64::from),
        4 => (0u64..=9_999_999_999).prop_map(|ms| ms as f64 / 1000.0),
    ]
}

/// A file opened at `open`: closed 0–6 h later (never before), any size, any duration.
pub fn file_at(open: Time) -> impl Strategy<Value = File> {
    (
        relative_path(),
        date_time_after(open, 6 * 3600 * TICKS_PER_SECOND),
        file_size(),
        duration(),
    )
        .prop_map(move |(relative_path, close_time, size, duration)| File {
            relative_path,
            open_time: open,
            close_time,
            size,
            duration,
        })
}

/// A file with `FileCloseTime >= FileOpenTime`.
pub fn file() -> impl Strategy<Value = File> {
    (
        relative_path(),
        date_time(),
        (0..=6 * 3600 * TICKS_PER_SECOND, 0u32..=7),
        file_size(),
        duration(),
    )
        .prop_map(|(relative_path, open_time, (len, digits), size, duration)| File {
            relative_path,
            open_time,
            close_time: later(open_time, len, digits),
            size,
            duration,
        })
}

/// The 2.x booleans for an event of `kind`: random, except that `Streaming` is true for
/// `StreamStarted` and false for `StreamEnded` (as the real sender's C8 behaviour).
pub fn state_for(kind: EventKind) -> impl Strategy<Value = State> {
    any::<(bool, bool, bool)>().prop_map(move |(recording, streaming, danmaku_connected)| State {
        recording,
        streaming: match kind {
            EventKind::StreamStarted => true,
            EventKind::StreamEnded => false,
            _ => streaming,
        },
        danmaku_connected,
    })
}

/// Pre-2.0 (no booleans), 2.x typical, or 2.x with a random [`state_for`] the kind.
pub fn v2x_for(kind: EventKind) -> impl Strategy<Value = V2x> {
    prop_oneof![
        1 => Just(V2x::Absent),
        1 => Just(V2x::Typical),
        2 => state_for(kind).prop_map(V2x::State),
    ]
}

/// One of the six kinds.
pub fn event_kind() -> impl Strategy<Value = EventKind> {
    proptest::sample::select(EventKind::ALL.to_vec())
}

/// A valid event of `kind`. File events are stamped 0–2 s after their file time.
pub fn any_event_of(kind: EventKind) -> BoxedStrategy<Value> {
    (
        room(),
        guid(),
        file(),
        (date_time(), 0..2 * TICKS_PER_SECOND, 0u32..=7),
        guid(),
        v2x_for(kind),
    )
        .prop_map(move |(room, session, file, (ts, delay, digits), event_id, v2x)| {
            let ts = match kind {
                EventKind::FileOpening => later(file.open_time, delay, digits),
                EventKind::FileClosed => later(file.close_time, delay, digits),
                _ => ts,
            };
            v2_event(kind, &room, session, &file, ts, event_id, v2x)
        })
        .boxed()
}

/// A valid v2 event of any of the six types, with and without the 2.x booleans.
pub fn any_event() -> impl Strategy<Value = Value> {
    event_kind().prop_flat_map(any_event_of)
}

/// A valid v1 record.
pub fn any_v1_record() -> impl Strategy<Value = Value> {
    (room(), file(), guid()).prop_map(|(room, file, id)| v1_record(&room, &file, id))
}

/// A valid body: mostly v2 events, some v1 records.
pub fn any_body() -> impl Strategy<Value = Value> {
    prop_oneof![
        6 => any_event(),
        1 => any_v1_record(),
    ]
}

// ---------------------------------------------------------------------------------------
// Single-field mutations
// ---------------------------------------------------------------------------------------

/// How one field is changed.
#[derive(Clone, Debug, PartialEq)]
pub enum Edit {
    /// The value replaced by another JSON value (wrong type, bad string, out of range).
    Replace(Value),
    /// The field removed (only fields the schemas require).
    Remove,
    /// The value replaced by this raw JSON text, for spellings a `Value` cannot hold
    /// (`23058.0`, `2.3058e4`): written through a placeholder, then spliced into the bytes.
    Raw(String),
}

/// One single-field mutation of a valid body.
#[derive(Clone, Debug, PartialEq)]
pub struct Mutation {
    /// JSON pointer of the field: `/Name` or `/EventData/Name`.
    pub pointer: String,
    pub edit: Edit,
    /// The check that must fail: S1 (v2 envelope field), S2 (`EventData` field of a
    /// known type), S5 (v1 field).
    pub check: &'static str,
    /// What was done, e.g. `/EventData/RoomId: integer written as a float (23058.0)`.
    pub description: String,
}

/// A mutated body and how it came to be.
#[derive(Clone, Debug, PartialEq)]
pub struct Mutated {
    /// The valid body before the mutation.
    pub original: Value,
    pub mutation: Mutation,
    /// The final bytes, as a sender would put them on the wire.
    pub bytes: Vec<u8>,
}

impl From<Mutated> for (Vec<u8>, &'static str, String) {
    fn from(m: Mutated) -> Self {
        (m.bytes, m.mutation.check, m.mutation.description)
    }
}

/// What a field holds, for choosing its mutations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum FieldKind {
    Text,
    DateTime,
    Guid,
    Int32,
    Int64,
    Number,
    Bool,
    Object,
}

fn field_kind(name: &str) -> Option<FieldKind> {
    use FieldKind::*;
    Some(match name {
        "EventType" | "Name" | "Title" | "AreaNameParent" | "AreaNameChild" | "RelativePath" => Text,
        "EventTimestamp" | "FileOpenTime" | "FileCloseTime" | "StartRecordTime" | "EndRecordTime" => DateTime,
        "EventId" | "SessionId" | "EventRandomId" => Guid,
        "RoomId" | "ShortId" => Int32,
        "FileSize" => Int64,
        "Duration" => Number,
        "Recording" | "Streaming" | "DanmakuConnected" => Bool,
        "EventData" => Object,
        _ => return None,
    })
}

/// The 2.x booleans are optional; every other field the builders write is required.
fn required(name: &str) -> bool {
    !matches!(name, "Recording" | "Streaming" | "DanmakuConnected")
}

/// Scientific spelling of a non-negative integer: 23058 → `2.3058e4`, 7 → `7.0e0`.
fn scientific(v: i64) -> String {
    let s = v.unsigned_abs().to_string();
    let sign = if v < 0 { "-" } else { "" };
    let (head, tail) = s.split_at(1);
    let tail = if tail.is_empty() { "0" } else { tail };
    format!("{sign}{head}.{tail}e{}", s.len() - 1)
}

fn edits_for(kind: FieldKind, name: &str, value: &Value) -> Vec<(Edit, String)> {
    use Edit::*;
    let mut out: Vec<(Edit, String)> = Vec::new();
    let mut push = |e: Edit, what: String| out.push((e, what));
    let s = value.as_str().unwrap_or_default();
    match kind {
        FieldKind::Text => {
            push(Replace(23058.into()), "string written as a number".into());
            push(Replace(true.into()), "string written as a boolean".into());
            push(Replace(Value::Null), "string written as null".into());
            push(
                Replace(Value::Array(vec![value.clone()])),
                "string wrapped in an array".into(),
            );
            push(
                Replace(Value::Object(Map::new())),
                "string written as an object".into(),
            );
        }
        FieldKind::DateTime => {
            push(Replace(Value::Null), "date-time written as null".into());
            push(
                Replace(1_620_985_964.into()),
                "date-time written as Unix seconds".into(),
            );
            push(
                Replace("1620985964".into()),
                "date-time written as a string of Unix seconds".into(),
            );
            if s.len() > 19 {
                let naive = &s[..s.len() - 6];
                push(
                    Replace(naive.into()),
                    format!("date-time without offset ({naive})"),
                );
                push(Replace(s[..10].into()), format!("date only ({})", &s[..10]));
                let month = format!("{}13{}", &s[..5], &s[7..]);
                push(
                    Replace(month.clone().into()),
                    format!("date-time with month 13 ({month})"),
                );
                let hour = format!("{}24{}", &s[..11], &s[13..]);
                push(
                    Replace(hour.clone().into()),
                    format!("date-time with hour 24 ({hour})"),
                );
                let off = format!("{naive}+24:00");
                push(
                    Replace(off.clone().into()),
                    format!("date-time with offset +24:00 ({off})"),
                );
                let space = format!("{} {}", &s[..10], &s[11..]);
                push(
                    Replace(space.clone().into()),
                    format!("date and time separated by a space ({space})"),
                );
            }
        }
        FieldKind::Guid => {
            push(Replace(Value::Null), "GUID written as null".into());
            push(Replace(12345.into()), "GUID written as a number".into());
            push(Replace("not-a-guid".into()), "GUID replaced by not-a-guid".into());
            if s.len() == 36 {
                let braces = format!("{{{s}}}");
                push(
                    Replace(braces.clone().into()),
                    format!("GUID in braces ({braces})"),
                );
                let simple = s.replace('-', "");
                push(
                    Replace(simple.clone().into()),
                    format!("GUID of 32 hex digits without hyphens ({simple})"),
                );
                let short = &s[..35];
                push(Replace(short.into()), format!("GUID one digit short ({short})"));
                let nonhex = format!("g{}", &s[1..]);
                push(
                    Replace(nonhex.clone().into()),
                    format!("GUID with a non-hex digit ({nonhex})"),
                );
                let urn = format!("urn:uuid:{s}");
                push(Replace(urn.clone().into()), format!("GUID as a URN ({urn})"));
            }
        }
        FieldKind::Int32 | FieldKind::Int64 => {
            let v = value.as_i64().unwrap_or(0);
            push(
                Replace(v.to_string().into()),
                format!("integer written as a string (\"{v}\")"),
            );
            push(
                Raw(format!("{v}.0")),
                format!("integer written as a float ({v}.0)"),
            );
            let sci = scientific(v);
            push(
                Raw(sci.clone()),
                format!("integer written with an exponent ({sci})"),
            );
            push(
                Raw(format!("{v}.5")),
                format!("integer field holding a fraction ({v}.5)"),
            );
            push(Replace(true.into()), "integer written as a boolean".into());
            push(Replace(Value::Null), "integer written as null".into());
            if kind == FieldKind::Int32 {
                let big = i64::from(i32::MAX) + 1;
                push(Replace(big.into()), format!("int32 field beyond int32 ({big})"));
            } else {
                let big = i64::MAX as u64 + 1;
                push(Replace(big.into()), format!("int64 field beyond int64 ({big})"));
            }
        }
        FieldKind::Number => {
            let text = value.to_string();
            push(
                Replace(text.clone().into()),
                format!("number written as a string (\"{text}\")"),
            );
            push(Replace(true.into()), "number written as a boolean".into());
            push(Replace(Value::Null), "number written as null".into());
            push(Replace(Value::Array(vec![])), "number written as an array".into());
        }
        FieldKind::Bool => {
            let b = value.as_bool().unwrap_or(true);
            push(
                Replace(b.to_string().into()),
                format!("boolean written as a string (\"{b}\")"),
            );
            push(
                Replace(u8::from(b).into()),
                format!("boolean written as a number ({})", u8::from(b)),
            );
            push(Replace(Value::Null), "boolean written as null".into());
        }
        FieldKind::Object => {
            push(Replace(Value::Array(vec![])), "object written as an array".into());
            push(Replace(Value::Null), "object written as null".into());
            push(
                Replace(value.to_string().into()),
                "object written as a JSON string".into(),
            );
        }
    }
    if required(name) {
        push(Remove, "required field removed".into());
    }
    out
}

/// Every single-field mutation of a valid body (v2 event or v1 record) this module knows,
/// for the fields the body holds; each names the check it must fail.
pub fn mutations(body: &Value) -> Vec<Mutation> {
    let Some(obj) = body.as_object() else {
        return Vec::new();
    };
    let v2 = ["EventType", "EventTimestamp", "EventId", "EventData"]
        .iter()
        .any(|k| obj.contains_key(*k));
    let mut out = Vec::new();
    let fields = |m: &Map<String, Value>, at: &str, check: &'static str, out: &mut Vec<Mutation>| {
        for (name, value) in m {
            let Some(kind) = field_kind(name) else { continue };
            let pointer = format!("{at}/{name}");
            for (edit, what) in edits_for(kind, name, value) {
                out.push(Mutation {
                    description: format!("{pointer}: {what}"),
                    pointer: pointer.clone(),
                    edit,
                    check,
                });
            }
        }
    };
    if v2 {
        fields(obj, "", "S1", &mut out);
        let known = obj
            .get("EventType")
            .and_then(Value::as_str)
            .and_then(EventKind::parse)
            .is_some();
        if let (true, Some(data)) = (known, obj.get("EventData").and_then(Value::as_object)) {
            fields(data, "/EventData", "S2", &mut out);
        }
    } else {
        fields(obj, "", "S5", &mut out);
    }
    out
}

/// Stands in for an [`Edit::Raw`] value until the bytes are written. U+F8FF is never
/// produced by the text strategies.
const RAW_PLACEHOLDER: &str = "\u{f8ff}brhook-raw-number\u{f8ff}";

impl Mutation {
    /// The body with this mutation applied, as final bytes ([`serialize`]d, key order kept).
    pub fn apply(&self, body: &Value) -> Vec<u8> {
        let mut v = body.clone();
        let (parent, name) = self.pointer.rsplit_once('/').expect("a pointer starts with /");
        let target = if parent.is_empty() {
            v.as_object_mut()
        } else {
            v.pointer_mut(parent).and_then(Value::as_object_mut)
        }
        .expect("the mutated field's parent is an object");
        match &self.edit {
            Edit::Replace(x) => {
                target.insert(name.into(), x.clone());
            }
            Edit::Remove => {
                target.shift_remove(name);
            }
            Edit::Raw(_) => {
                target.insert(name.into(), RAW_PLACEHOLDER.into());
            }
        }
        let bytes = serialize(&v);
        match &self.edit {
            Edit::Raw(text) => {
                let s = String::from_utf8(bytes).expect("serialize writes UTF-8");
                s.replacen(&format!("\"{RAW_PLACEHOLDER}\""), text, 1)
                    .into_bytes()
            }
            _ => bytes,
        }
    }
}

/// Applies mutation number `n` (modulo their count) of [`mutations`] of `body`; `None`
/// when the body has no mutable field.
pub fn mutate(body: Value, n: usize) -> Option<Mutated> {
    let all = mutations(&body);
    if all.is_empty() {
        return None;
    }
    let mutation = all[n % all.len()].clone();
    let bytes = mutation.apply(&body);
    Some(Mutated {
        original: body,
        mutation,
        bytes,
    })
}

/// A valid body (v2 or v1) with exactly one field mutated so that its check must fail.
pub fn mutated_event() -> impl Strategy<Value = Mutated> {
    (any_body(), any::<Index>()).prop_filter_map("body has no mutable field", |(b, i)| {
        let n = i.index(mutations(&b).len().max(1));
        mutate(b, n)
    })
}

/// [`mutated_event`] as `(bytes, expected check, description)`.
pub fn mutated_event_bytes() -> impl Strategy<Value = (Vec<u8>, &'static str, String)> {
    mutated_event().prop_map(Into::into)
}

// ---------------------------------------------------------------------------------------
// Streams: whole captures of one or two rooms, for sending over HTTP
// ---------------------------------------------------------------------------------------

/// The unknown event type random streams sometimes carry: an `EventType` a future
/// recorder might add, with the room fields (and the 2.x booleans when the stream has
/// them) as `EventData`. A judge checks only its envelope (S3, `info`).
pub const UNKNOWN_EVENT_TYPE: &str = "RoomChanged";

/// An event of a type the six builders do not know: the envelope, then `EventData` with
/// the room fields and, given a state, the 2.x booleans. No `SessionId`.
pub fn unknown_event(event_type: &str, room: &Room, ts: Time, event_id: Uuid, state: Option<State>) -> Value {
    let mut d = Map::new();
    push_room(&mut d, room);
    if let Some(s) = state {
        d.insert("Recording".into(), s.recording.into());
        d.insert("Streaming".into(), s.streaming.into());
        d.insert("DanmakuConnected".into(), s.danmaku_connected.into());
    }
    let mut m = Map::new();
    m.insert("EventType".into(), event_type.into());
    m.insert("EventTimestamp".into(), format_date_time(&ts).into());
    m.insert("EventId".into(), format_guid(event_id).into());
    m.insert("EventData".into(), Value::Object(d));
    Value::Object(m)
}

/// A valid capture, in the order a sender fires it (play it with
/// [`crate::sender::play`]): per room, optionally `StreamStarted`, then 0–2 sessions
/// (`SessionStarted`, 0–3 × (`FileOpening`, `FileClosed` [+ its v1 record]),
/// `SessionEnded`), then optionally `StreamEnded`; sometimes one [`UNKNOWN_EVENT_TYPE`]
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
    pub steps: Vec<crate::sender::Step>,
}

impl Stream {
    /// The v2 events, in order.
    pub fn v2_events(&self) -> impl Iterator<Item = &Value> {
        self.steps.iter().filter_map(|s| match s {
            crate::sender::Step::V2(v) => Some(v),
            crate::sender::Step::V1(_) => None,
        })
    }

    /// The v1 records, in order.
    pub fn v1_records(&self) -> impl Iterator<Item = &Value> {
        self.steps.iter().filter_map(|s| match s {
            crate::sender::Step::V1(v) => Some(v),
            crate::sender::Step::V2(_) => None,
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
                crate::sender::Step::V2(v) => {
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
                crate::sender::Step::V1(_) => format!("v1 {:?}", v["RelativePath"].as_str().unwrap_or("?")),
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
    fn room(&mut self, r: &RoomPlan) -> Vec<Vec<crate::sender::Step>> {
        use crate::sender::Step::{V1, V2};
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
/// booleans (for the whole stream), with or without v1 records (one per `FileClosed`),
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
        .prop_map(|(rooms, v2x, v1, interleave, id_seed, clock)| {
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
/// succeeds: a faithful sender gives up after its 3 attempts, which is allowed.
pub const STREAM_FAULTS: [&str; 8] = [
    "ok",
    "fail:1",
    "fail:2",
    "reset:1",
    "delay:50",
    "fail:1+delay:30",
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
