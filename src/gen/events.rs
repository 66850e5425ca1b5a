//! Proptest strategies for whole valid bodies: [`event_kind`], [`any_event_of`] a kind,
//! [`any_event`] of any kind, [`any_v1_record`], and [`any_body`] (mostly v2, some v1).
//! They combine the value strategies with the builders, and are the valid starting point
//! the single-field mutations work from.

use proptest::prelude::*;
use serde_json::Value;

use super::build::{v1_record, v2_event};
use super::model::{later, TICKS_PER_SECOND};
use super::values::{date_time, file, guid, room, v2x_for};
use crate::protocol::EventKind;

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
