//! The events of a journal, read line by line: each captured event once (its first
//! request), with its arrival time, its setting and its bytes ready to send.

use super::ids::Ids;
use crate::body::Kind;
use crate::catalog::Level;
use crate::common::Recent;
use crate::gen::EventKind;
use crate::journal::{parse_request, Reader};
use crate::protocol::Setting;
use serde_json::Value;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::path::Path;

/// Event identities remembered per half of the window that sends each event once:
/// retries and fan-out copies of an event are captured within seconds of each other.
const RECENT_EVENTS: usize = 1 << 16;

/// Events held to put them back in arrival order: a journal line is written when its
/// answer is released, so an event held by a slow URL is written after later ones.
const REORDER: usize = 256;

/// One event to send, ordered by arrival (then by journal sequence).
pub(crate) struct Planned {
    /// Arrival of its first captured request, milliseconds since the capture started.
    pub at_ms: f64,
    pub setting: Setting,
    /// The bytes to send: the captured ones, ids rewritten unless kept.
    pub bytes: Vec<u8>,
    /// The captured request it was first seen in.
    pub seq: u64,
}

impl Planned {
    fn key(&self) -> (f64, u64) {
        (self.at_ms, self.seq)
    }
}

impl PartialEq for Planned {
    fn eq(&self, o: &Planned) -> bool {
        self.cmp(o) == std::cmp::Ordering::Equal
    }
}

impl Eq for Planned {}

impl PartialOrd for Planned {
    fn partial_cmp(&self, o: &Planned) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}

impl Ord for Planned {
    fn cmp(&self, o: &Planned) -> std::cmp::Ordering {
        let ((a, x), (b, y)) = (self.key(), o.key());
        a.total_cmp(&b).then(x.cmp(&y))
    }
}

/// What reading the journal found besides the events.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Tally {
    /// Captured requests read.
    pub requests: u64,
    /// Requests that repeat an event already taken (retries, copies at other URLs).
    pub repeats: u64,
    /// Requests not replayed: stray (no configured URL), body not read whole, or not a
    /// webhook body.
    pub not_replayable: u64,
    /// Events whose captured body breaks the protocol itself (a fail of T4/S1/S2/S5):
    /// sent, but their answers are not judged.
    pub invalid: u64,
    /// v1 records captured; with no v1 URL they are not sent.
    pub v1: u64,
    /// Events of an unknown `EventType`.
    pub unknown: u64,
    /// Events of a known type.
    pub known: u64,
    /// Id values that could not be rewritten (not a GUID, or escaped): sent as captured.
    pub ids_kept: u64,
}

/// Reads `path` and hands each event to `emit`, in arrival order within a window of
/// [`REORDER`] events; `emit` returns false to stop. `fresh`: rewrite ids. `v1`: v1
/// records are sent (a v1 URL was given). A bad line other than a torn last one is an
/// error once the journal is read: a first pass that emits nothing finds it before
/// anything is sent.
pub(crate) fn read(
    path: &Path,
    fresh: bool,
    v1: bool,
    mut emit: impl FnMut(Planned) -> bool,
) -> Result<Tally, String> {
    let mut r = Reader::open(path)?;
    let mut seen: Recent<String, ()> = Recent::new(RECENT_EVENTS);
    let mut ids = Ids::new();
    let mut t = Tally::default();
    let mut window: BinaryHeap<Reverse<Planned>> = BinaryHeap::new();
    let mut first_bad = None;
    while let Some((n, line)) = r.next_raw()? {
        let req = match parse_request(&line) {
            Ok(req) => req,
            Err(e) => {
                first_bad.get_or_insert((n, e));
                continue;
            }
        };
        t.requests += 1;
        if req.url.is_none() || req.body_error.is_some() {
            t.not_replayable += 1;
            continue;
        }
        if !seen.first_time(crate::body::identity(&req.body)) {
            t.repeats += 1;
            continue;
        }
        let mut bytes = req.body;
        let trimmed = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
        let value: Value = match serde_json::from_slice(trimmed) {
            Ok(v @ Value::Object(_)) => v,
            _ => {
                t.not_replayable += 1;
                continue;
            }
        };
        let kind = value.as_object().map_or(Kind::Other, Kind::of);
        let event_type = value.get("EventType").and_then(Value::as_str);
        let setting = match kind {
            Kind::Other => {
                t.not_replayable += 1;
                continue;
            }
            Kind::V1 => {
                t.v1 += 1;
                Setting::V1
            }
            Kind::V2 => match event_type {
                Some(ty) if EventKind::parse(ty).is_some() => {
                    t.known += 1;
                    Setting::V2
                }
                Some(_) => {
                    t.unknown += 1;
                    Setting::V2
                }
                None => {
                    t.not_replayable += 1;
                    continue;
                }
            },
        };
        if setting == Setting::V1 && !v1 {
            continue;
        }
        // A body the protocol itself rejects: sent, its answer not judged.
        let judged = crate::body::judge(&bytes);
        if judged.findings.iter().any(|f| f.level == Level::Fail) {
            t.invalid += 1;
        }
        if fresh {
            t.ids_kept += u64::from(ids.rewrite(&mut bytes, &value).kept);
        }
        let planned = Planned {
            at_ms: req.at_ms,
            setting,
            bytes,
            seq: req.seq,
        };
        window.push(Reverse(planned));
        if window.len() > REORDER {
            if let Some(Reverse(p)) = window.pop() {
                if !emit(p) {
                    return Ok(t);
                }
            }
        }
    }
    r.forgive_only_the_last(first_bad)?;
    while let Some(Reverse(p)) = window.pop() {
        if !emit(p) {
            break;
        }
    }
    Ok(t)
}
