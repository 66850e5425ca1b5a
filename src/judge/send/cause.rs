//! One root cause, one finding, for a `send` journal's item checks: each body's first
//! answer at each URL, and what refused it.
//!
//! A refused body is put down to the first cause that explains it:
//! 1. the receiver was down (R11's finding, [`super::alive`]);
//! 2. a value form, found by contrast: the baseline of a type refused and a variation
//!    of the same type and shape accepted, differing in the fraction digits or the
//!    offset of its date-times, is R8 with both values; every refused body with the
//!    refused value joins it;
//! 3. a missing `SessionId`: the receiver refused known events without one, answered
//!    2xx to events with one and to none without: R7;
//! 4. the baseline's failure of its type and shape (the probe's later cases);
//! 5. else its own check.
//!
//! Each cause is one finding listing the types and cases it was seen in. A check is
//! passed only when a body that exercises it (not one that sets its case up) was
//! answered 2xx; otherwise it is skipped with the cause that took its bodies.

use super::{
    history, BaseKey, Collect, Cx, SentRec, BASELINE, CONNECT, KNOWN_V2, NO_SESSION, RECORDING, SETUP,
};
use crate::catalog::{Check, Level};
use crate::common::fmt_ms as ms;
use crate::common::plural_s;
use crate::journal::ProxyMeta;
use crate::judge::answer::{self, why};
use crate::judge::record::Leg;
use crate::report::{Coverage, Finding, Findings, Skip};
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

/// The value form of a body's date-times: the first one's fraction digits and offset
/// (minutes east of UTC), as written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Form {
    digits: u8,
    offset: i16,
}

const NO_DIGITS: u8 = u8::MAX;
const NO_OFFSET: i16 = i16::MIN;

impl Form {
    /// Read from the raw body: the first `EventTimestamp` (v2) or `StartRecordTime` (v1).
    pub(crate) fn of(body: &[u8]) -> Form {
        let none = Form {
            digits: NO_DIGITS,
            offset: NO_OFFSET,
        };
        let find = |key: &[u8]| {
            body.windows(key.len())
                .position(|w| w == key)
                .map(|i| i + key.len())
        };
        let Some(start) = find(br#""EventTimestamp":""#).or_else(|| find(br#""StartRecordTime":""#)) else {
            return none;
        };
        let rest = &body[start..];
        let t = &rest[..rest.iter().position(|&b| b == b'"').unwrap_or(rest.len())];
        let digits = match t.iter().position(|&b| b == b'.') {
            Some(dot) => t[dot + 1..].iter().take_while(|b| b.is_ascii_digit()).count() as u8,
            None => 0,
        };
        let offset = match t {
            [.., b'Z'] => 0,
            [.., sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
                let n = |a: u8, b: u8| i16::from(a.wrapping_sub(b'0')) * 10 + i16::from(b.wrapping_sub(b'0'));
                let m = n(*h1, *h2) * 60 + n(*m1, *m2);
                if *sign == b'-' {
                    -m
                } else {
                    m
                }
            }
            _ => NO_OFFSET,
        };
        Form { digits, offset }
    }
}

/// A part of the value form a contrast can name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Field {
    Digits,
    Offset,
}

impl Field {
    fn get(self, f: Form) -> Option<i16> {
        match self {
            Field::Digits => (f.digits != NO_DIGITS).then_some(i16::from(f.digits)),
            Field::Offset => (f.offset != NO_OFFSET).then_some(f.offset),
        }
    }
    fn name(self) -> &'static str {
        match self {
            Field::Digits => "fraction digits of the date-times",
            Field::Offset => "offset of the date-times",
        }
    }
    /// `7 fraction digits`, `offset +08:00`.
    fn show(self, v: i16) -> String {
        match self {
            Field::Digits => format!("{v} fraction digit{}", plural_s(v as u64)),
            Field::Offset => {
                let sign = if v < 0 { '-' } else { '+' };
                format!("offset {sign}{:02}:{:02}", v.abs() / 60, v.abs() % 60)
            }
        }
    }
}

/// What refused a body ([`deliveries`]' order of causes).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Cause {
    Down,
    Form {
        recv: u16,
        field: Field,
        refused: i16,
        accepted: i16,
    },
    NoSession {
        recv: u16,
        /// In the 2.x shape (the only one in which bodies lack SessionId).
        two: bool,
    },
    Baseline(BaseKey),
}

impl Cause {
    /// Why a check whose bodies this cause took was not judged.
    fn skip(self) -> Skip {
        match self {
            Cause::Down => Skip::ReceiverDown,
            Cause::Form { .. } => Skip::RefusedFor(Check::R8),
            Cause::NoSession { .. } => Skip::RefusedFor(Check::R7),
            Cause::Baseline(_) => Skip::FailedInBaseline,
        }
    }
}

/// How a body's delivery at one URL ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fate {
    Ok,
    /// No attempt was answered and one was refused: the receiver was down.
    Down,
    Timeout,
    Refused,
}

fn fate(atts: &[SentRec], c: &Collect) -> Fate {
    let first = &atts[0];
    let refused = |a: &SentRec| a.flags & CONNECT != 0;
    if first.outcome(c).is_success() {
        Fate::Ok
    } else if refused(first) && atts.iter().any(|a| a.outcome(c).is_success()) {
        // Refused, then accepted: it came back up in time.
        Fate::Ok
    } else if atts.iter().all(|a| a.leg == Leg::Failed) && atts.iter().any(refused) {
        // Never answered, and refused: cut as the receiver went down (in flight, its
        // connection was reset), then refused on retry.
        Fate::Down
    } else if first.leg == Leg::TimedOut {
        Fate::Timeout
    } else {
        Fate::Refused
    }
}

/// Whether a delivery was the receiver being down (R11 counts these).
pub(super) fn down(atts: &[SentRec], c: &Collect) -> bool {
    fate(atts, c) == Fate::Down
}

/// Item checks: the first answer to each body at each URL, each refusal under the
/// cause that explains it.
pub(super) fn deliveries(
    cx: &Cx,
    proxy: &ProxyMeta,
    out: &mut Findings,
    cov: &mut Coverage,
    skips: &mut Vec<(Check, Skip)>,
) {
    let groups: Vec<&[SentRec]> = cx
        .recs
        .chunk_by(|a, b| (a.case, a.position, a.url) == (b.case, b.position, b.url))
        .collect();
    let fates: Vec<Fate> = groups.iter().map(|g| fate(g, cx.c)).collect();
    let recv = |r: &SentRec| cx.server[usize::from(r.url)];
    let all = || groups.iter().map(|g| &g[0]).zip(fates.iter().copied());

    // The baseline's refusals (type and shape per receiver), with the refused form; the
    // forms each type and shape was accepted in.
    let mut base_failed: BTreeMap<BaseKey, Form> = BTreeMap::new();
    let mut ok_forms: BTreeMap<BaseKey, BTreeSet<Form>> = BTreeMap::new();
    for (first, fate) in all() {
        let Some(k) = cx.base_key(first) else { continue };
        match fate {
            Fate::Refused if first.flags & BASELINE != 0 => {
                base_failed.entry(k).or_insert(first.form);
            }
            Fate::Ok => {
                ok_forms.entry(k).or_default().insert(first.form);
            }
            _ => {}
        }
    }
    // Contrast: the baseline's value refused, never accepted in its type, another value
    // accepted. Of several accepted values the lowest is named, per receiver and value.
    let mut forms: BTreeMap<(u16, Field, i16), i16> = BTreeMap::new();
    for (k, form) in &base_failed {
        let Some(oks) = ok_forms.get(k) else { continue };
        for field in [Field::Digits, Field::Offset] {
            let Some(v0) = field.get(*form) else { continue };
            if oks.iter().any(|f| field.get(*f) == Some(v0)) {
                continue;
            }
            if let Some(v1) = oks.iter().filter_map(|f| field.get(*f)).min() {
                let e = forms
                    .entry((cx.server[usize::from(k.0)], field, v0))
                    .or_insert(v1);
                *e = (*e).min(v1);
                break;
            }
        }
    }
    // R7's contrast, per receiver and shape: refused without SessionId, accepted with
    // one in the same shape, never accepted without. (Only 2.x bodies lack SessionId: a
    // receiver that refuses the 2.x shape refuses them for their shape, not for it.)
    let shape = |r: &SentRec| r.flags & RECORDING != 0;
    let mut sessionless: BTreeMap<(u16, bool), (bool, bool, bool)> = BTreeMap::new();
    for (first, fate) in all() {
        if first.flags & KNOWN_V2 == 0 {
            continue;
        }
        let e = sessionless.entry((recv(first), shape(first))).or_default();
        let without = first.flags & NO_SESSION != 0;
        match (fate, without) {
            (Fate::Refused, true) => e.0 = true,
            (Fate::Ok, true) => e.1 = true,
            (Fate::Ok, false) => e.2 = true,
            _ => {}
        }
    }
    let no_session = |u: u16, two: bool| {
        sessionless
            .get(&(u, two))
            .is_some_and(|&(refused, took, with)| refused && !took && with)
    };

    let cause_of = |first: &SentRec| -> Option<Cause> {
        let u = recv(first);
        for (&(r, field, refused), &accepted) in &forms {
            if r == u && field.get(first.form) == Some(refused) {
                return Some(Cause::Form {
                    recv: u,
                    field,
                    refused,
                    accepted,
                });
            }
        }
        if first.flags & NO_SESSION != 0 && no_session(u, shape(first)) {
            return Some(Cause::NoSession {
                recv: u,
                two: shape(first),
            });
        }
        let k = cx.base_key(first)?;
        (cx.send.chains && first.flags & BASELINE == 0 && base_failed.contains_key(&k))
            .then_some(Cause::Baseline(k))
    };

    let mut members: BTreeMap<Cause, Vec<usize>> = BTreeMap::new();
    // Findings of a body's own check, grouped by check, URL and answer.
    let mut own: BTreeMap<(Check, u16, String), Vec<usize>> = BTreeMap::new();
    let mut roots: Vec<(usize, BaseKey)> = Vec::new();
    // Per check: the cause that took its bodies (the first in the order of causes).
    let mut taken: BTreeMap<Check, Cause> = BTreeMap::new();
    for (i, (first, fate)) in all().enumerate() {
        let cause = match fate {
            Fate::Ok => {
                if first.flags & SETUP == 0 {
                    cov.ran(first.check);
                }
                continue;
            }
            Fate::Down => Some(Cause::Down),
            Fate::Timeout => {
                cov.ran(Check::R2);
                own.entry((Check::R2, first.url, "timeout".into()))
                    .or_default()
                    .push(i);
                continue;
            }
            Fate::Refused => cause_of(first),
        };
        match cause {
            Some(c) => {
                members.entry(c).or_default().push(i);
                let t = taken.entry(first.check).or_insert(c);
                *t = (*t).min(c);
            }
            None => {
                cov.ran(first.check);
                match cx.base_key(first).filter(|_| first.flags & BASELINE != 0) {
                    Some(k) => roots.push((i, k)),
                    None => {
                        let answer = answer::short(&first.outcome(cx.c));
                        own.entry((first.check, first.url, answer)).or_default().push(i);
                    }
                }
            }
        }
    }

    // The baseline's own failures, each with the later cases that failed the same way.
    for (i, k) in roots {
        let first = &groups[i][0];
        let label = cx.label(first);
        let mut f = cx.about(
            Finding::at(
                first.check,
                Level::Fail,
                format!("{label}: answered {}", history(cx, groups[i])),
            )
            .expected(why(first.check)),
            first,
        );
        for &j in members.get(&Cause::Baseline(k)).into_iter().flatten() {
            f = f.source(cx.case(&groups[j][0]));
        }
        out.push(f);
    }
    for ((check, _, _), list) in own {
        let first = &groups[list[0]][0];
        let (what, expected) = if check == Check::R2 {
            (
                format!("{}: no answer within {}", cx.label(first), ms(proxy.timeout_ms)),
                answer::timeout_expected(Duration::from_secs_f64(proxy.timeout_ms.max(0.0) / 1000.0)),
            )
        } else {
            (
                format!("{}: answered {}", cx.label(first), history(cx, groups[list[0]])),
                why(check).to_string(),
            )
        };
        let mut f = Finding::at(check, Level::Fail, what).expected(expected);
        if list.len() > 1 {
            f = f.measured(format!("the same answer to {}", seen_in(cx, &groups, &list)));
        }
        let mut f = cx.about(f, first);
        for &j in &list[1..] {
            f = f.source(cx.case(&groups[j][0]));
        }
        out.push(f);
    }
    for (cause, list) in &members {
        let first = &groups[list[0]][0];
        let f = match *cause {
            Cause::Form {
                recv: u,
                field,
                refused,
                accepted,
            } => {
                cov.ran(Check::R8);
                let took: Vec<usize> = (0..groups.len())
                    .filter(|&j| {
                        let g = &groups[j][0];
                        fates[j] == Fate::Ok && recv(g) == u && field.get(g.form) == Some(accepted)
                    })
                    .collect();
                Finding::at(
                    Check::R8,
                    Level::Fail,
                    format!(
                        "the receiver refused every body with {} in its date-times (the real sender's form) and accepted the same types with {}",
                        field.show(refused),
                        field.show(accepted)
                    ),
                )
                .expected(format!(
                    "{}: {} and {} both answered 2xx; {}",
                    field.name(),
                    field.show(refused),
                    field.show(accepted),
                    why(Check::R8)
                ))
                .measured(format!(
                    "refused with {}: {}; accepted with {}: {}",
                    field.show(refused),
                    seen_in(cx, &groups, list),
                    field.show(accepted),
                    seen_in(cx, &groups, &took)
                ))
            }
            Cause::NoSession { recv: u, two } => {
                cov.ran(Check::R7);
                let took: Vec<usize> = (0..groups.len())
                    .filter(|&j| {
                        let g = &groups[j][0];
                        fates[j] == Fate::Ok && recv(g) == u && g.flags & KNOWN_V2 != 0 && shape(g) == two
                    })
                    .collect();
                let mut types: Vec<&str> = Vec::new();
                for t in list.iter().filter_map(|&j| groups[j][0].like.name()) {
                    if !types.contains(&t) {
                        types.push(t);
                    }
                }
                Finding::at(
                    Check::R7,
                    Level::Fail,
                    format!(
                        "the receiver refused every event without SessionId ({}) and answered 2xx to events with one",
                        types.join(", ")
                    ),
                )
                .expected(format!("SessionId: absent answered 2xx as present is; {}", why(Check::R7)))
                .measured(format!(
                    "refused without SessionId: {}; answered 2xx with SessionId: {} bod{}",
                    seen_in(cx, &groups, list),
                    took.len(),
                    if took.len() == 1 { "y" } else { "ies" }
                ))
            }
            // R11's finding counts these; the baseline's are its roots' sources.
            Cause::Down | Cause::Baseline(_) => continue,
        };
        let mut f = cx.about(f, first);
        for &j in &list[1..] {
            f = f.source(cx.case(&groups[j][0]));
        }
        out.push(f);
    }
    for (check, cause) in taken {
        if !cov.has_run(check) {
            skips.push((check, cause.skip()));
        }
    }
}

/// A body's type and shape, `FileClosed (2.x shape)`, whatever its case varies; its
/// label when it is no known type (`RoomInfoChanged (unknown type)`, `v1 record`).
fn kind(cx: &Cx, r: &SentRec) -> String {
    let label = cx.label(r);
    match r.like.name() {
        Some(t) if label.starts_with(t) => {
            format!(
                "{t} ({} shape)",
                if r.flags & RECORDING != 0 { "2.x" } else { "1.3" }
            )
        }
        _ => label.to_string(),
    }
}

/// `3 bodies: FileClosed (2.x shape), SessionEnded (2.x shape) in r1-shape-2.x,
/// r5-retry-after-2xx`: the types (labels) and cases of the deliveries `list`.
fn seen_in(cx: &Cx, groups: &[&[SentRec]], list: &[usize]) -> String {
    let mut labels: Vec<String> = Vec::new();
    let mut cases: Vec<&str> = Vec::new();
    for &j in list {
        let g = &groups[j][0];
        let (l, c) = (kind(cx, g), cx.case(g));
        if !labels.contains(&l) {
            labels.push(l);
        }
        if !cases.contains(&c) {
            cases.push(c);
        }
    }
    format!(
        "{} bod{} ({}) in {}",
        list.len(),
        if list.len() == 1 { "y" } else { "ies" },
        labels.join(", "),
        cases.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_form_is_read_from_the_first_date_time() {
        let f = Form::of(br#"{"EventType":"x","EventTimestamp":"2024-01-01T00:00:00.1234567+08:00"}"#);
        assert_eq!((f.digits, f.offset), (7, 480));
        let f = Form::of(br#"{"EventTimestamp":"2024-01-01T00:00:00-07:00"}"#);
        assert_eq!((f.digits, f.offset), (0, -420));
        let f = Form::of(br#"{"StartRecordTime":"2024-01-01T00:00:00.5Z"}"#);
        assert_eq!((f.digits, f.offset), (1, 0));
        assert_eq!(Form::of(b"{}").digits, NO_DIGITS);
        assert_eq!(Field::Offset.show(345), "offset +05:45");
        assert_eq!(Field::Digits.show(7), "7 fraction digits");
    }
}
