//! The receiver side of a proxy or replay journal: the R checks that real traffic can
//! show, judged from each forwarded request's record (the receiver's status and time).
//! Run only on journals with an upstream leg, at finish, from the same sorted records as
//! D, F and C, so `brhook check` on the journal judges it again the same way. Examples
//! quote the receiver's answer and a `curl` that sends the body again; each receiver URL
//! gets a latency line (info).
//!
//! Each rejected valid request is one finding under the one check that explains it
//! best: a retry of an event already accepted (R5), an event out of order (R6), a v1
//! record (R9), an unknown type (R3), a session-less stream event (R7), raw non-ASCII
//! text when the receiver took only ASCII (R8), else R1. An invalid body's rejection
//! is no fault of the receiver (the sender's findings say why).

use super::answer::{why, R2_FAIL_AFTER};
use super::latency::Histogram;
use super::record::{self, hash64, Leg, Rec, RAW_TEXT, VALID};
use super::{Cx, Detail};
use crate::body::Kind;
use crate::catalog::{Check, Level};
use crate::journal::ProxyMeta;
use crate::protocol::EventKind;
use crate::report::{Coverage, Finding, Findings, Forwarded, Skip};
use std::collections::{BTreeSet, HashMap};

/// Over this, an answer is R2 `fail`: the real sender's client has given up.
const FAIL_AFTER_MS: f64 = R2_FAIL_AFTER.as_millis() as f64;

use crate::common::fmt_ms as ms;

fn ok(r: &Rec) -> bool {
    r.leg == Leg::Answered && (200..300).contains(&r.up_status)
}

/// `replay`: brhook itself sent the capture (the texts say so), else a proxy forwarded
/// a sender's traffic.
pub(super) fn judge(cx: &Cx, proxy: &ProxyMeta, replay: bool, out: &mut Findings, cov: &mut Coverage) {
    let forwarded = |r: &&Rec| r.leg != Leg::None;
    let valid = |r: &Rec| r.flags & VALID != 0;
    let known = |r: &Rec| r.kind == Kind::V2 && r.ty.known();
    // R8 needs a contrast: raw text refused where plain ASCII of the same receiver passed.
    let n = cx.urls.len();
    let (mut took_raw, mut took_plain) = (vec![false; n], vec![false; n]);
    // R7 needs one too: a stream event without SessionId is refused for that only when
    // no known event without SessionId was accepted by the same receiver.
    let mut took_sessionless = vec![false; n];
    // R6: when each session started, and each file opened, at each receiver.
    let mut started: HashMap<(u16, record::Key), f64> = HashMap::new();
    let mut opened: HashMap<(u16, u64), f64> = HashMap::new();
    for r in cx.recs.iter().filter(forwarded) {
        let u = usize::from(r.url);
        if ok(r) && valid(r) && known(r) {
            took_sessionless[u] |= r.session == record::Key::default();
            if r.flags & RAW_TEXT != 0 {
                took_raw[u] = true;
            } else {
                took_plain[u] = true;
            }
        }
        let first = |m: &mut f64| *m = m.min(r.at);
        if r.ty.is(EventKind::SessionStarted) {
            first(started.entry((r.url, r.session)).or_insert(f64::MAX));
        }
        if r.ty.is(EventKind::FileOpening) {
            first(opened.entry((r.url, r.file)).or_insert(f64::MAX));
        }
    }
    let out_of_order = |r: &Rec| {
        // Sent the same moment as what it follows is no order at all: which went first
        // is scheduling noise, and R6 would flip between identical replays.
        let before = |t: Option<&f64>| t.is_some_and(|t| *t > r.at + SAME_MOMENT_MS);
        (!r.ty.is(EventKind::SessionStarted)
            && r.session != record::Key::default()
            && before(started.get(&(r.url, r.session))))
            || (r.ty.is(EventKind::FileClosed) && before(opened.get(&(r.url, r.file))))
    };
    let mut ran: BTreeSet<Check> = BTreeSet::new();
    let slow = proxy.slow_after_ms;
    // R10 first: a request slow because it waited in line is R10's, not also R2's.
    let (tested, in_line) = head_of_line(cx, slow, out);
    if tested {
        ran.insert(Check::R10);
    }
    for delivery in cx
        .recs
        .chunk_by(|a, b| (a.id, a.class, a.url) == (b.id, b.class, b.url))
    {
        // Whether the receiver had answered this event 2xx at this URL already.
        let mut accepted = false;
        for r in delivery.iter().filter(forwarded) {
            let was_accepted = accepted;
            accepted |= ok(r);
            ran.insert(Check::R2);
            let took = f64::from(r.took);
            if r.leg == Leg::TimedOut {
                out.push(answer(
                    cx,
                    Finding::at(
                        Check::R2,
                        Level::Fail,
                        format!(
                            "the receiver did not answer a {} within the timeout",
                            type_name(r)
                        ),
                    )
                    .expected(format!("an answer within {}", ms(proxy.timeout_ms))),
                    r,
                ));
                continue;
            }
            if took > FAIL_AFTER_MS || (took > slow && !in_line.contains(&r.seq)) {
                let ty = type_name(r);
                let (level, message) = if took > FAIL_AFTER_MS {
                    (
                        Level::Fail,
                        format!("the receiver answered a {ty} after the real sender gives up (100 s)"),
                    )
                } else {
                    (Level::Warn, format!("the receiver answered a {ty} slowly"))
                };
                out.push(
                    cx.at(Finding::at(Check::R2, level, message), r)
                        .expected(format!(
                            "an answer within {} (doc: answer as soon as possible)",
                            ms(slow)
                        ))
                        .measured(format!("answered after {}", ms(took))),
                );
            }
            if !valid(r) {
                continue;
            }
            let u = usize::from(r.url);
            let check = if was_accepted {
                Check::R5
            } else if out_of_order(r) {
                Check::R6
            } else if r.kind == Kind::V1 {
                Check::R9
            } else if r.kind != Kind::V2 {
                continue;
            } else if r.ty == record::Ty::Unknown {
                Check::R3
            } else if (r.ty.is(EventKind::StreamStarted) || r.ty.is(EventKind::StreamEnded))
                && r.session == record::Key::default()
                && (ok(r) || !took_sessionless[u])
            {
                Check::R7
            } else if r.flags & RAW_TEXT != 0 && !took_raw[u] && took_plain[u] {
                Check::R8
            } else {
                Check::R1
            };
            ran.insert(check);
            // The contexts a request exercised, besides the check that took it.
            if known(r) {
                ran.insert(Check::R1);
                if r.flags & RAW_TEXT != 0 {
                    ran.insert(Check::R8);
                }
            }
            if ok(r) {
                continue;
            }
            // Every message names the type: a receiver that refuses one type is one
            // cause per type.
            let ty = type_name(r);
            // No answer is one cause whatever the type (the receiver was unreachable):
            // one finding, its examples name their events.
            let message = if r.leg == Leg::Failed {
                if replay {
                    "the receiver gave no answer to what brhook sent".to_string()
                } else {
                    "the receiver gave no answer (the sender got a 502 from brhook)".to_string()
                }
            } else {
                match check {
                    Check::R5 => format!("the receiver refused a retry of a {ty} it had accepted"),
                    Check::R6 => format!("the receiver refused a {ty} that arrived out of order"),
                    Check::R9 => "the receiver refused a valid v1 record".to_string(),
                    Check::R3 => "the receiver refused an event of an unknown type".to_string(),
                    Check::R7 => format!("the receiver refused a {ty} without SessionId"),
                    Check::R8 => {
                        format!("the receiver refused a {ty} with raw UTF-8 text (it accepts ASCII)")
                    }
                    _ => format!("the receiver refused a valid {ty}"),
                }
            };
            out.push(answer(cx, Finding::new(check, message).expected(why(check)), r));
        }
    }
    let needs = [
        (Check::R1, Forwarded::KnownEvent),
        (Check::R2, Forwarded::Request),
        (Check::R3, Forwarded::UnknownType),
        (Check::R5, Forwarded::RetryAfterSuccess),
        (Check::R6, Forwarded::OutOfOrder),
        (Check::R7, Forwarded::StreamWithoutSession),
        (Check::R8, Forwarded::RawText),
        (Check::R9, Forwarded::V1Record),
        (Check::R10, Forwarded::WhileHeld),
    ];
    for (check, what) in needs {
        let skip = if replay {
            Skip::NoneReplayed(what)
        } else {
            Skip::NoneForwarded(what)
        };
        cov.family(&[check], ran.contains(&check), skip);
    }
    // Real traffic carries no crafted extra fields: only the probe sends them.
    cov.skip(Check::R4, Skip::OnlyProbe);
    cov.skip(Check::R11, Skip::OnlySend);
    latency(cx, out);
}

/// The event type a finding names: `FileClosed`, `v1 record`, `event of an unknown type`.
fn type_name(r: &Rec) -> &'static str {
    match (r.kind, r.ty.name()) {
        (Kind::V1, _) => "v1 record",
        (_, Some(t)) => t,
        _ if r.ty == record::Ty::Unknown => "event of an unknown type",
        _ => "request",
    }
}

/// Two sends this close are the same moment: the real sender fires events without
/// waiting, so which of two such went first says nothing of the capture's order.
const SAME_MOMENT_MS: f64 = 50.0;

/// One info line per receiver URL: how long its answers took (histogram percentiles).
fn latency(cx: &Cx, out: &mut Findings) {
    let mut per_url = vec![Histogram::default(); cx.urls.len()];
    for r in cx.recs.iter().filter(|r| r.leg == Leg::Answered) {
        per_url[usize::from(r.url)].add(std::time::Duration::from_secs_f64(
            f64::from(r.took).max(0.0) / 1000.0,
        ));
    }
    for (i, h) in per_url.iter().enumerate() {
        if let Some(l) = h.latency() {
            out.push(
                Finding::at(Check::R2, Level::Info, "latency measured")
                    .url(cx.url(i as u16))
                    .measured(l.to_string()),
            );
        }
    }
}

/// A finding about the receiver's answer to `r`, quoting the answer (or the failure)
/// once it is an example.
fn answer(cx: &Cx, f: Finding, r: &Rec) -> Finding {
    let to = cx.urls[usize::from(r.url)].upstream.clone();
    cx.at(f, r).detail(
        Detail::Answer {
            seq: u64::from(r.seq),
            to,
        },
        hash64((r.up_status, r.leg.byte())),
    )
}

/// Two answers released back to back (a receiver answering one request at a time
/// frees the next as the held one goes) are stamped by different tasks, so their order
/// is scheduling noise: an answer this fraction of `slow` before the held one, or
/// later, came with it (R10). Measured: the three answers behind a held one stamped
/// up to 1.5 ms before it, with the other core busy.
const TOGETHER: f64 = 0.25;

/// R10: a request that arrived while another's answer from the same receiver was held
/// past `slow`, and was itself answered only with or after that one ([`TOGETHER`]),
/// past `slow` too, although the receiver answers its type within `slow` when no
/// answer of it is held: it waited in line. Without that last condition a threaded receiver that is slow at
/// everything would look blocked (that is R2's finding). Says whether any request
/// beside a held answer could be judged, and which requests waited in line.
fn head_of_line(cx: &Cx, slow: f64, out: &mut Findings) -> (bool, BTreeSet<u32>) {
    let mut in_line = BTreeSet::new();
    // (URL, arrival, answer, seq) of every forwarded request that got an answer or
    // timed out; at finish, the records are in memory anyway.
    // Names that forward to the same receiver URL are one receiver here.
    let receiver: Vec<u16> = (0..cx.urls.len())
        .map(|i| {
            let same = |j: &usize| cx.urls[*j].upstream == cx.urls[i].upstream;
            (0..=i).find(same).unwrap_or(i) as u16
        })
        .collect();
    let mut legs: Vec<(u16, f64, f64, &Rec)> = cx
        .recs
        .iter()
        .filter(|r| r.leg != Leg::None)
        .map(|r| (receiver[usize::from(r.url)], r.at, r.at + f64::from(r.took), r))
        .collect();
    legs.sort_by(|a, b| (a.0, a.1).partial_cmp(&(b.0, b.1)).expect("times are finite"));
    let mut tested = false;
    for group in legs.chunk_by(|a, b| a.0 == b.0) {
        // Which held answer each request arrived beside: the slow answer released last
        // among the earlier arrivals, while it was still held.
        let mut held: Option<(f64, &Rec)> = None;
        let beside: Vec<Option<(f64, &Rec)>> = group
            .iter()
            .map(|&(_, at, done, r)| {
                let b = held.filter(|(until, _)| at < *until);
                if done - at > slow && held.is_none_or(|(until, _)| done > until) {
                    held = Some((done, r));
                }
                b
            })
            .collect();
        // The types this receiver answers within `slow` when no answer of it is held.
        let fast_unheld: BTreeSet<(Kind, record::Ty)> = group
            .iter()
            .zip(&beside)
            .filter(|((_, at, done, _), b)| b.is_none() && done - at <= slow)
            .map(|((_, _, _, r), _)| (r.kind, r.ty))
            .collect();
        for (&(_, at, done, r), b) in group.iter().zip(&beside) {
            let Some((until, first)) = *b else { continue };
            // Answered in time beside a held answer: no line. Answered late: a line only
            // if its type is answered in time otherwise (else it is slow anyway, R2).
            let in_time = done - at <= slow;
            if !in_time && !fast_unheld.contains(&(r.kind, r.ty)) {
                continue;
            }
            tested = true;
            if !in_time && done >= until - TOGETHER * slow {
                in_line.insert(r.seq);
                out.push(
                    cx.at(
                        Finding::new(
                            Check::R10,
                            format!("a {} waited behind another's held answer", type_name(r)),
                        ),
                        r,
                    )
                    .expected(format!(
                        "an answer within {} whatever else is in flight (the real sender posts concurrently)",
                        ms(slow)
                    ))
                    .measured(format!(
                        "arrived while request #{}'s answer was held, answered {} later, when or after it was (the same type is answered in time when nothing is held)",
                        first.seq,
                        ms(done - at)
                    )),
                );
            }
        }
    }
    (tested, in_line)
}
