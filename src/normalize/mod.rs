//! A capture in canonical, redacted form, for committing as a baseline, and the drift
//! between two such forms.
//!
//! [`normalize`] keeps what a sender controls and drops what varies from run to run:
//! per request (stray requests left out) the method, URL name, headers, answer status,
//! attempt number at that URL and the body's *shape*; never times, GUIDs, ports or
//! arrival order. Two runs of the same sender against the same URLs and faults give the
//! same value, byte for byte.
//!
//! - Requests are sorted by URL name, then event placeholder, then attempt number.
//! - Event ids (`EventId`, `EventRandomId`, or the hash of a body with neither) become
//!   `<event-1>`, `<event-2>`, ..., numbered by sorting the events on what is stable
//!   across runs: `EventType` (v1 records after v2 events), then the body's shape, then
//!   the kind (v2, v1, other), then how the event was delivered (URLs, attempts,
//!   answers). Events equal in all of these are interchangeable in the output, so
//!   arrival order only breaks ties that cannot show. `SessionId`s become `<session-1>`,
//!   ... in the order of the first event that names them.
//! - Headers: names lowercase, `host` → `<host>`, `content-length` → `<len>`, a
//!   `BililiveRecorder/<semver>` user agent → `BililiveRecorder/<version>`; other values
//!   as sent. A header sent twice keeps both values, as a list.
//! - Body shape: a JSON body is its tree with keys in arrival order and each leaf
//!   replaced by its type and form: `<guid>`, `<date-time+offset>`, `<date-time>` (no
//!   offset), `<string>`, `<integer>`, `<number>`, `<bool>`, `<null>`. A v2 body's
//!   `EventType` stays literal (it is the protocol); GUID-form event and session ids are
//!   their placeholders. A body that is not JSON is `<not json: N bytes>`; one that was
//!   not read whole is `<not read: why>`.
//!
//! [`diff`] compares two normalized captures by shape only: the fields of each event
//! type (per kind), and the headers each URL name received. Counts of requests, attempts
//! and answers are not drift.
//!
//! Source layout: `mod.rs` holds [`normalize`]; `placeholders.rs` parses a capture and
//! numbers its events and sessions ([`Names`], [`names`]); `shape.rs` redacts headers and
//! bodies to their forms ([`is_guid`]); `drift.rs` holds [`Drift`] and [`diff`];
//! `redact.rs` holds [`redact_report`].

mod drift;
mod placeholders;
mod redact;
mod shape;

pub use drift::{diff, Drift};
pub use placeholders::{names, Names};
pub use redact::redact_report;
pub use shape::is_guid;

use crate::journal::Journal;
use placeholders::{attempts, event_number, names_of, parse};
use serde_json::{json, Value};
use shape::{headers, shape};

/// The `format` member of a normalized capture; `brhook diff` tells a baseline from a
/// journal by it.
pub const FORMAT: &str = "brhook-normalized/1";

/// The capture in canonical, redacted form (see the module documentation).
pub fn normalize(j: &Journal) -> Value {
    let parsed = parse(j);
    let attempt = attempts(&parsed);
    let names = names_of(&parsed, &attempt);
    let number = |id: &str| -> usize { event_number(&names.events[id]).unwrap_or(usize::MAX) };
    let mut order: Vec<usize> = (0..parsed.len()).collect();
    order.sort_by_key(|&i| (parsed[i].url, number(&parsed[i].id), attempt[i]));
    let requests: Vec<Value> = order
        .into_iter()
        .map(|i| {
            let p = &parsed[i];
            json!({
                "url": p.url,
                "event": names.events[&p.id],
                "attempt": attempt[i],
                "kind": p.kind,
                "method": p.req.method,
                "headers": headers(&p.req.headers),
                "status": p.req.response.status,
                "body": shape(p.req, p.value.as_ref(), p.kind, &names),
            })
        })
        .collect();
    let urls: Vec<Value> = j
        .meta
        .urls
        .iter()
        .map(|u| json!({"name": u.name, "fault": u.fault.to_string()}))
        .collect();
    json!({
        "format": FORMAT,
        "urls": urls,
        "requests": requests,
    })
}
