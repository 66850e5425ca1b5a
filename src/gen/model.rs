//! The model a scenario is written in: [`Room`], [`File`], [`EventKind`], [`State`] and
//! [`V2x`] (whether an event carries the 2.x booleans), plus [`Time`] and the helpers
//! that write and step it the way the real sender does ([`format_date_time`],
//! [`format_guid`], [`add_ticks`], [`later`], ...). Plain data and deterministic
//! functions with no proptest in sight, so that the builders, the strategies and the
//! stream generator can all share one vocabulary.

use crate::protocol::EventKind;
use chrono::{DateTime, Datelike, FixedOffset, TimeDelta, Timelike};
use serde_json::Value;
use uuid::Uuid;

/// A date-time as the sender holds it: a local time with its UTC offset.
pub type Time = DateTime<FixedOffset>;

/// .NET's `DateTime` resolution: one tick is 100 ns, so 7 fraction digits at most.
pub const TICKS_PER_SECOND: i64 = 10_000_000;

/// The room fields every v2 `EventData` carries (and the v1 record's `RoomId`, `Name`,
/// `Title`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Room {
    /// `RoomId`: the room's long id.
    pub room_id: i32,
    /// 0 when the room has no short id.
    pub short_id: i32,
    /// `Name`: the streamer's name.
    pub name: String,
    /// `Title`: the stream title.
    pub title: String,
    /// `AreaNameParent`: the parent area.
    pub area_parent: String,
    /// `AreaNameChild`: the child area.
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
    /// `RelativePath`: the file's path under the recorder's working directory.
    pub relative_path: String,
    /// `FileOpenTime` (v1: `StartRecordTime`).
    pub open_time: Time,
    /// `FileCloseTime` (v1: `EndRecordTime`).
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

/// The room's state when an event was built: the 2.x booleans.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct State {
    /// `Recording`: the recorder is recording the room.
    pub recording: bool,
    /// `Streaming`: the room is live.
    pub streaming: bool,
    /// `DanmakuConnected`: the danmaku (chat) connection is up.
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
    use std::fmt::Write;
    // Written field by field: chrono's `format` parses its pattern on every call, which
    // `send load` did for every body it built.
    let mut s = String::with_capacity(33);
    let year = t.year();
    if (0..=9999).contains(&year) {
        let _ = write!(
            s,
            "{year:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
            t.month(),
            t.day(),
            t.hour(),
            t.minute(),
            t.second()
        );
    } else {
        s.push_str(&t.format("%Y-%m-%dT%H:%M:%S").to_string());
    }
    let ticks = (t.nanosecond() % 1_000_000_000) / 100;
    if ticks != 0 {
        let f = format!("{ticks:07}");
        s.push('.');
        s.push_str(f.trim_end_matches('0'));
    }
    // `%:z`: the offset's sign, hours and minutes (seconds of an offset are dropped).
    let off = t.offset().local_minus_utc();
    let minutes = off.unsigned_abs() / 60;
    let sign = if off < 0 { '-' } else { '+' };
    let _ = write!(s, "{sign}{:02}:{:02}", minutes / 60, minutes % 60);
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

/// What to send next: one body of a scenario, for the URLs of its setting.
#[derive(Clone, Debug, PartialEq)]
pub enum Step {
    /// A v2 event, for the v2 URLs.
    V2(Value),
    /// A v1 record, for the v1 URLs.
    V1(Value),
}

impl Step {
    /// The body, v2 event or v1 record.
    pub fn value(&self) -> &Value {
        match self {
            Step::V2(v) | Step::V1(v) => v,
        }
    }

    /// `EventType` of a v2 step.
    pub fn event_type(&self) -> Option<&str> {
        match self {
            Step::V2(v) => v["EventType"].as_str(),
            Step::V1(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn date_times_are_written_as_chrono_formats_them() {
        for (s, offset) in [
            ("2021-05-14T17:52:44.4960899+08:00", 8 * 3600),
            ("0999-01-02T03:04:05+00:00", 0),
            ("2026-12-04T23:59:59.1-05:30", -(5 * 3600 + 1800)),
            ("2026-12-04T00:00:00.0000001-00:30", -1800),
        ] {
            let t = parse_time(s).with_timezone(&FixedOffset::east_opt(offset).unwrap());
            let chrono = {
                let ticks = t.nanosecond() / 100;
                let mut c = t.format("%Y-%m-%dT%H:%M:%S").to_string();
                if ticks != 0 {
                    c.push('.');
                    c.push_str(format!("{ticks:07}").trim_end_matches('0'));
                }
                c + &t.format("%:z").to_string()
            };
            assert_eq!(format_date_time(&t), chrono);
            assert_eq!(format_date_time(&t), s);
        }
    }
}
