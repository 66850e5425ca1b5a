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
//! The code lives in private submodules, each re-exported here in full, so every item
//! is used as `brhook::testkit::gen::X`:
//! - `model`: the model, [`Time`] and its helpers ([`format_date_time`], [`later`], ...);
//! - `build`: the event builders, [`unknown_event`] and [`serialize`];
//! - `values`: strategies for single values in the sender's forms;
//! - `events`: strategies for whole valid bodies ([`any_event`], [`any_body`], ...);
//! - `mutate`: single-field mutations ([`Edit`], [`Mutation`], [`mutate()`], ...);
//! - `stream`: whole captures ([`Stream`], [`any_stream`]) and [`any_fault_plan`].
//!
//! Knows about serde_json, uuid, chrono and proptest, and of this crate only the
//! protocol's words and the check catalogue: nothing of the sender or the judge.

mod build;
mod events;
mod model;
mod mutate;
mod stream;
mod values;

pub use crate::protocol::EventKind;
pub use build::{
    file_closed, file_opening, serialize, session_ended, session_started, stream_ended, stream_started,
    unknown_event, v1_record, v2_event,
};
pub use events::{any_body, any_event, any_event_of, any_v1_record, event_kind};
pub use model::{
    add_ticks, format_date_time, format_guid, later, parse_time, truncate_fraction, File, Room, State, Step,
    Time, V2x, TICKS_PER_SECOND,
};
pub use mutate::{mutate, mutated_event, mutated_event_bytes, mutations, Edit, Mutated, Mutation};
pub use stream::{any_fault_plan, any_stream, Stream, STREAM_FAULTS, UNKNOWN_EVENT_TYPE};
pub use values::{
    date_time, date_time_after, duration, file, file_at, file_size, guid, offset, real_room, real_text,
    relative_path, room, room_id, short_id, state_for, text, v2x_for,
};
