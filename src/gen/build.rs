//! The event builders: [`session_started`], [`file_opening`], [`file_closed`],
//! [`session_ended`], [`stream_started`], [`stream_ended`] (or any of them by kind with
//! [`v2_event`]), the v1 record ([`v1_record`]), events of an unknown type
//! ([`unknown_event`]), and [`serialize`], which turns a body into the real sender's
//! bytes. Each writes its keys in the real sender's order from the plain model, with no
//! randomness, so a reference sender can build a fixed scenario without proptest.

use serde_json::{Map, Value};
use uuid::Uuid;

use super::model::{format_date_time, format_guid, File, Room, State, Time, V2x};
use crate::protocol::EventKind;

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
