//! C1–C8: the captured stream as a whole. Order-insensitive: arrival order and
//! EventTimestamp order are never judged (the doc guarantees neither).
//!
//! C4, C7 and C8 are about one event's values and are judged with its body
//! ([`single_event`]); the others compare events, from their records at finish.

use super::record::{self, Key, Rec};
use super::{Cx, Detail};
use crate::body::{Body, Kind};
use crate::catalog::{Check, Level};
use crate::protocol::EventKind;
use crate::report::{Coverage, Finding, Findings, Skip, Source};
use serde_json::Value;
use std::collections::{BTreeSet, HashSet};

/// C4, C7, C8: what one event's own values show.
pub(crate) fn single_event(b: &Body, v: &Value, out: &mut Vec<Finding>) {
    let ev = |f: Finding| f.event(b.id.clone());
    let data = v.get("EventData");
    let get = |k: &str| data.and_then(|d| d.get(k));
    let ty = b.event_type.as_deref().and_then(EventKind::parse);
    if b.kind == Kind::V2 && ty == Some(EventKind::FileClosed) {
        let s = |k: &str| get(k).and_then(Value::as_str);
        let (open, close) = (
            record::instant(s("FileOpenTime")),
            record::instant(s("FileCloseTime")),
        );
        if let (Some(o), Some(c)) = (open, close) {
            if c < o {
                out.push(ev(Finding::new(
                    Check::C4,
                    "FileCloseTime is before FileOpenTime",
                )
                .pointer("/EventData/FileCloseTime")
                .expected(format!(">= {}", s("FileOpenTime").unwrap_or("")))
                .found(s("FileCloseTime").unwrap_or("").to_string())));
            }
        }
        for field in ["FileSize", "Duration"] {
            if get(field).and_then(Value::as_f64).is_some_and(|x| x < 0.0) {
                out.push(ev(Finding::new(Check::C4, format!("{field} is negative"))
                    .pointer(format!("/EventData/{field}"))
                    .expected(">= 0")
                    .found(get(field).map(Value::to_string).unwrap_or_default())));
            }
        }
    }
    let path = match b.kind {
        Kind::V2 => get("RelativePath")
            .and_then(Value::as_str)
            .map(|p| (p, "/EventData/RelativePath")),
        Kind::V1 => v
            .get("RelativePath")
            .and_then(Value::as_str)
            .map(|p| (p, "/RelativePath")),
        Kind::Other => None,
    };
    if let Some((p, ptr)) = path {
        let bytes = p.as_bytes();
        let problem = if p.starts_with('/') || p.starts_with('\\') {
            Some("is absolute")
        } else if bytes.len() >= 2 && bytes[1] == b':' && bytes[0].is_ascii_alphabetic() {
            Some("has a drive letter")
        } else if p.split(['/', '\\']).any(|seg| seg == "..") {
            Some("has a .. segment")
        } else {
            None
        };
        if let Some(what) = problem {
            out.push(ev(Finding::new(Check::C7, format!("RelativePath {what}"))
                .pointer(ptr)
                .expected("a path relative to the recorder's work directory")
                .found(p.to_string())));
        }
    }
    let want = match ty {
        Some(EventKind::StreamStarted) => Some(true),
        Some(EventKind::StreamEnded) => Some(false),
        _ => None,
    };
    if let (Some(want), Some(got)) = (want, get("Streaming").and_then(Value::as_bool)) {
        if got != want {
            out.push(ev(Finding::new(
                Check::C8,
                format!("{} has Streaming: {got}", ty.map_or("", EventKind::as_str)),
            )
            .pointer("/EventData/Streaming")
            .expected(format!("Streaming: {want}"))
            .found(got.to_string())));
        }
    }
}

pub(super) fn judge(cx: &Cx, out: &mut Findings, cov: &mut Coverage) {
    // One record per distinct event: its first capture.
    let firsts: Vec<&Rec> = cx
        .recs
        .chunk_by(|a, b| (a.id, a.class) == (b.id, b.class))
        .map(|rs| {
            rs.iter()
                .min_by(|a, b| (a.at, a.seq).partial_cmp(&(b.at, b.seq)).expect("finite"))
                .expect("a chunk has records")
        })
        .collect();
    let v2: Vec<&Rec> = firsts.iter().copied().filter(|r| r.kind == Kind::V2).collect();
    let v1: Vec<&Rec> = firsts.iter().copied().filter(|r| r.kind == Kind::V1).collect();
    // The capture's first event (by arrival): a session it belongs to began before.
    let first_session = v2
        .iter()
        // Ties in arrival time go to the smaller event id, then the earlier request,
        // whatever the push order.
        .min_by(|a, b| {
            a.at.total_cmp(&b.at)
                .then_with(|| cx.event(a).cmp(&cx.event(b)))
                .then(a.seq.cmp(&b.seq))
        })
        .map(|r| r.session)
        .filter(|s| *s != Key::default());
    let of = |k: EventKind| v2.iter().copied().filter(move |r| r.ty.is(k));
    sessions(cx, &v2, first_session, out, cov);
    files(cx, &v2, first_session, out, cov);
    v1_pairs(cx, &of(EventKind::FileClosed).collect::<Vec<_>>(), &v1, out, cov);
    cov.family(
        &[Check::C4],
        of(EventKind::FileClosed).next().is_some(),
        Skip::NoFileClosed,
    );
    cov.family(&[Check::C7], cx.paths > 0, Skip::NoRelativePath);
    let streams = of(EventKind::StreamStarted)
        .chain(of(EventKind::StreamEnded))
        .next()
        .is_some();
    cov.family(&[Check::C8], streams, Skip::NoStreamEvent);
}

fn seq(r: &Rec) -> u64 {
    u64::from(r.seq)
}

/// C1, C2, C5.
fn sessions(cx: &Cx, v2: &[&Rec], first_session: Option<Key>, out: &mut Findings, cov: &mut Coverage) {
    let mut by: Vec<&Rec> = v2
        .iter()
        .copied()
        .filter(|r| r.session != Key::default())
        .collect();
    cov.family(&[Check::C2], !by.is_empty(), Skip::NoSession);
    // C1 counts session boundaries and C5 compares a session's events: without them,
    // nothing was judged.
    let bounds = by
        .iter()
        .any(|r| r.ty.is(EventKind::SessionStarted) || r.ty.is(EventKind::SessionEnded));
    let empty = by.is_empty();
    let none = |other: Skip| if empty { Skip::NoSession } else { other };
    cov.family(&[Check::C1], bounds, none(Skip::NoSessionBoundary));
    let mut pair = false;
    by.sort_by(|a, b| {
        (a.session, a.at, a.seq)
            .partial_cmp(&(b.session, b.at, b.seq))
            .expect("finite")
    });
    for evs in by.chunk_by(|a, b| a.session == b.session) {
        let sid = evs[0].session;
        let session = Source::Session(cx.session(sid));
        let head = evs[0];
        for kind in [EventKind::SessionStarted, EventKind::SessionEnded] {
            let ty = kind.as_str();
            let ids: BTreeSet<Key> = evs.iter().filter(|e| e.ty.is(kind)).map(|e| e.id).collect();
            if ids.len() > 1 {
                let shown: Vec<String> = ids.iter().take(5).map(|k| cx.ids.text(*k)).collect();
                out.push(
                    cx.at(
                        Finding::new(Check::C1, format!("a session has more than one {ty}")),
                        head,
                    )
                    .expected(format!("at most one {ty} per SessionId"))
                    .found(format!("{} {ty} events: {}", ids.len(), shown.join(", "))),
                );
            }
        }
        if !evs.iter().any(|e| e.ty.is(EventKind::SessionStarted)) {
            let mid = first_session == Some(sid);
            let f = if mid {
                Finding::at(
                    Check::C2,
                    Level::Info,
                    "capture began mid-session: no SessionStarted for the first event's session",
                )
            } else {
                Finding::new(Check::C2, "a session was seen without its SessionStarted")
            };
            out.push(
                cx.at(f, head)
                    .source(session.clone())
                    .expected("a SessionStarted for every session")
                    .found(format!(
                        "{} event(s) of the session, no SessionStarted",
                        evs.len()
                    )),
            );
        }
        if !evs.iter().any(|e| e.ty.is(EventKind::SessionEnded)) {
            out.push(
                Finding::at(
                    Check::C2,
                    Level::Info,
                    "session still open at capture close (no SessionEnded)",
                )
                .event(cx.event(head))
                .source(session.clone()),
            );
        }
        pair |= evs.iter().any(|e| e.id != head.id);
        let mut rooms: Vec<&Rec> = Vec::new();
        for e in evs {
            if !rooms.iter().any(|r| r.room == e.room) {
                rooms.push(e);
            }
        }
        if rooms.len() > 1 {
            out.push(
                cx.at(
                    Finding::new(Check::C5, "RoomId/ShortId changed inside one session"),
                    head,
                )
                .source(session)
                .expected("one room per SessionId")
                .detail(
                    Detail::Rooms(rooms.iter().take(3).map(|r| seq(r)).collect()),
                    record::hash64(rooms.iter().take(3).map(|r| r.room).collect::<Vec<_>>()),
                ),
            );
        }
    }
    cov.family(&[Check::C5], pair, none(Skip::NoSessionPair));
}

/// C3: FileOpening and FileClosed pair up by SessionId, RelativePath and FileOpenTime.
fn files(cx: &Cx, v2: &[&Rec], first_session: Option<Key>, out: &mut Findings, cov: &mut Coverage) {
    let opened: Vec<&Rec> = v2
        .iter()
        .copied()
        .filter(|r| r.ty.is(EventKind::FileOpening))
        .collect();
    let closed: Vec<&Rec> = v2
        .iter()
        .copied()
        .filter(|r| r.ty.is(EventKind::FileClosed))
        .collect();
    // C3 pairs each FileClosed with its FileOpening: openings alone pair nothing.
    let c3_skip = if opened.is_empty() {
        Skip::NoFileEvent
    } else {
        Skip::NoFileClosed
    };
    cov.family(&[Check::C3], !closed.is_empty(), c3_skip);
    let started: HashSet<Key> = v2
        .iter()
        .filter(|r| r.ty.is(EventKind::SessionStarted) && r.session != Key::default())
        .map(|r| r.session)
        .collect();
    // Keys looked up, not compared pairwise: judging stays linear.
    let opened_keys: HashSet<u64> = opened.iter().map(|r| r.file).collect();
    let closed_keys: HashSet<u64> = closed.iter().map(|r| r.file).collect();
    for c in &closed {
        if opened_keys.contains(&c.file) {
            continue;
        }
        // A file opened before a mid-session capture began is no fault of the sender.
        let mid =
            c.session != Key::default() && !started.contains(&c.session) && first_session == Some(c.session);
        let f = if mid {
            Finding::at(
                Check::C3,
                Level::Info,
                "FileClosed of a file opened before the capture began",
            )
            .event(cx.event(c))
        } else {
            cx.at(
                Finding::new(Check::C3, "FileClosed without a matching FileOpening"),
                c,
            )
        };
        out.push(
            f.expected("a FileOpening with the same SessionId, RelativePath and FileOpenTime")
                .detail(Detail::FileOf(seq(c)), record::hash64((c.path, c.opened))),
        );
    }
    for o in opened {
        if !closed_keys.contains(&o.file) {
            out.push(
                Finding::at(Check::C3, Level::Info, "FileOpening never closed by capture end")
                    .event(cx.event(o))
                    .detail(Detail::PathOf(seq(o)), u64::from(o.path)),
            );
        }
    }
}

/// C6: v1 records against v2 FileClosed.
fn v1_pairs(cx: &Cx, closed: &[&Rec], v1: &[&Rec], out: &mut Findings, cov: &mut Coverage) {
    let both = !v1.is_empty() && !closed.is_empty();
    cov.family(&[Check::C6], both, Skip::NoV1AndFileClosed);
    if !both {
        return;
    }
    let closed_pairs: HashSet<u64> = closed.iter().map(|c| c.v1_pair).collect();
    let v1_pairs: HashSet<u64> = v1.iter().map(|r| r.v1_pair).collect();
    // The FileClosed of the same RelativePath, to show beside an unmatched record.
    let mut by_path: std::collections::HashMap<u32, &Rec> = std::collections::HashMap::new();
    for c in closed {
        by_path.entry(c.path).or_insert(c);
    }
    for r in v1 {
        if !closed_pairs.contains(&r.v1_pair) {
            out.push(
                cx.at(Finding::new(Check::C6, "v1 record matches no v2 FileClosed"), r)
                    .expected(
                        "a FileClosed with the same RelativePath, FileSize, RoomId, Name, Title and times",
                    )
                    .detail(
                        Detail::V1Record {
                            record: seq(r),
                            near: by_path.get(&r.path).map(|c| seq(c)),
                        },
                        record::hash64((r.class, by_path.get(&r.path).map(|c| c.class))),
                    ),
            );
        }
    }
    for c in closed {
        if !v1_pairs.contains(&c.v1_pair) {
            out.push(
                Finding::at(Check::C6, Level::Warn, "FileClosed has no v1 record")
                    .event(cx.event(c))
                    .expected("one v1 record per closed file")
                    .detail(Detail::PathOf(seq(c)), u64::from(c.path)),
            );
        }
    }
}
