//! Proptest strategies for the model's values, each drawn in the real sender's forms
//! (`sender-facts.md`, "Value formats"): offsets and date-times with 0–7 fraction digits,
//! GUIDs, names and titles full of CJK, emoji and characters serialisers trip on,
//! relative paths, ids at their boundaries, sizes beyond 2^32, durations, whole rooms and
//! files, and the 2.x state. Kept apart from the event strategies so that the stream
//! generator can draw single values without drawing whole events.

use chrono::{FixedOffset, NaiveDate, TimeDelta};
use proptest::prelude::*;
use uuid::Uuid;

use super::model::{later, File, Room, State, Time, V2x, TICKS_PER_SECOND};
use crate::protocol::EventKind;

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

/// Characters of names and titles for judging bodies (not for traffic sent to receivers:
/// see [`name_char`]): CJK, ASCII, emoji, full-width punctuation, and the ones
/// serialisers trip on: quotes, backslashes, control characters, U+0085/2028/2029,
/// U+FEFF, a private-use-free set (U+F8FF is reserved for [`Edit::Raw`](super::Edit::Raw)).
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

/// Characters a real streamer's name or title can hold: [`text_char`]'s CJK, ASCII,
/// emoji, quotes, backslashes and separators, but no control character (C0, DEL, C1):
/// the site does not keep them, so a receiver that trips on one is no real-world finding.
fn name_char() -> impl Strategy<Value = char> {
    prop_oneof![
        4 => proptest::char::range('\u{4e00}', '\u{9fff}'),
        3 => proptest::char::range(' ', '~'),
        2 => proptest::char::range('\u{1f300}', '\u{1faff}'),
        1 => proptest::sample::select(vec!['【', '】', '！', '～', '「', '」', '·', 'é', 'ñ', 'ü', '\u{301}', '\u{200d}', 'ア', '한']),
        2 => proptest::sample::select(vec!['"', '\\', '\'', '/', '<', '>', '&', '$', '`', '\u{2028}', '\u{2029}', '\u{feff}', '\u{fffd}']),
    ]
}

/// A name, title or area name a real room could have: 0–24 characters (possibly
/// empty), never a control character. What `brhook send random` sends to receivers.
pub fn real_text() -> impl Strategy<Value = String> {
    proptest::collection::vec(name_char(), 0..24).prop_map(String::from_iter)
}

/// A room with an arbitrary id and short id and [`real_text`] names: a room a real
/// recorder could report.
pub fn real_room() -> impl Strategy<Value = Room> {
    (
        room_id(),
        short_id(),
        real_text(),
        real_text(),
        real_text(),
        real_text(),
    )
        .prop_map(|(room_id, short_id, name, title, area_parent, area_child)| Room {
            room_id,
            short_id,
            name,
            title,
            area_parent,
            area_child,
        })
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

/// A room with an arbitrary id, short id and texts.
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
/// Stream events exist only in 2.x, and every 2.x body has the booleans: for
/// `StreamStarted`/`StreamEnded` never [`V2x::Absent`] (`sender-facts.md`, "Event types").
pub fn v2x_for(kind: EventKind) -> BoxedStrategy<V2x> {
    let two_x = prop_oneof![
        1 => Just(V2x::Typical),
        2 => state_for(kind).prop_map(V2x::State),
    ];
    if kind.has_session() {
        prop_oneof![1 => Just(V2x::Absent), 3 => two_x].boxed()
    } else {
        two_x.boxed()
    }
}
