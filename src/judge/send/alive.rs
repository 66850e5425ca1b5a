//! R11, from a `send` journal: the receiver stays up. During the run, an attempt that
//! could not connect means the receiver was not accepting connections; after it, the
//! reconnect line ([`Reconnect`]) says whether it still was, a settle window after the
//! last answer. A receiver that went down is one finding: the last events it answered
//! before, when the refusals began, and what was refused because of it (no other check
//! reports those bodies: [`super::cause`] puts them down to this).

use super::{cause, Cx, SentRec, CONNECT};
use crate::catalog::{Check, Level};
use crate::journal::Reconnect;
use crate::judge::answer::why;
use crate::judge::record::Leg;
use crate::report::{Coverage, Finding, Findings, Skip};
use std::collections::BTreeSet;

/// `1.42 s`: a moment of the run.
fn secs(ms: f64) -> String {
    format!("{:.2} s", ms / 1000.0)
}

/// Judges R11 per receiver.
pub(super) fn r11(
    cx: &Cx,
    reconnects: &[Reconnect],
    out: &mut Findings,
    cov: &mut Coverage,
    skips: &mut Vec<(Check, Skip)>,
) {
    let receivers: BTreeSet<u16> = cx.server.iter().copied().collect();
    let mut judged = false;
    for u in receivers {
        let mine = |r: &&SentRec| cx.server[usize::from(r.url)] == u;
        let down_at = cx
            .recs
            .iter()
            .filter(mine)
            .filter(|r| r.flags & CONNECT != 0)
            .map(|r| f64::from(r.at))
            .min_by(f64::total_cmp);
        let last = reconnects.iter().find(|c| {
            cx.meta
                .urls
                .iter()
                .position(|s| s.name == c.url)
                .is_some_and(|i| cx.server[i] == u)
        });
        if down_at.is_none() && last.is_none() {
            continue;
        }
        judged = true;
        // The last answers released before `t`, latest first.
        let before = |t: f64| -> String {
            let mut answered: Vec<&SentRec> = cx
                .recs
                .iter()
                .filter(mine)
                .filter(|r| r.leg == Leg::Answered && f64::from(r.at) + r.took() <= t)
                .collect();
            answered.sort_by(|a, b| {
                (f64::from(b.at) + b.took())
                    .total_cmp(&(f64::from(a.at) + a.took()))
                    .then(b.seq.cmp(&a.seq))
            });
            let shown: Vec<String> = answered
                .iter()
                .take(3)
                .map(|r| {
                    format!(
                        "answered {} to {} ({}) at {}",
                        r.status,
                        cx.label(r),
                        cx.case(r),
                        secs(f64::from(r.at) + r.took())
                    )
                })
                .collect();
            if shown.is_empty() {
                "it answered nothing before".into()
            } else {
                shown.join(", before that ")
            }
        };
        let f = match (down_at, last.and_then(|c| c.error.as_deref().map(|e| (c, e)))) {
            (Some(t), _) => {
                let refused: Vec<&SentRec> = cx
                    .recs
                    .iter()
                    .filter(mine)
                    .filter(|r| r.flags & CONNECT != 0)
                    .collect();
                let lost: Vec<&[SentRec]> = cx
                    .recs
                    .chunk_by(|a, b| (a.case, a.position, a.url) == (b.case, b.position, b.url))
                    .filter(|g| cx.server[usize::from(g[0].url)] == u && cause::down(g, cx.c))
                    .collect();
                let mut types: Vec<&str> = Vec::new();
                for g in &lost {
                    let l = cx.label(&g[0]);
                    if !types.contains(&l) {
                        types.push(l);
                    }
                }
                let back = cx
                    .recs
                    .iter()
                    .filter(mine)
                    .filter(|r| r.leg == Leg::Answered && f64::from(r.at) > t)
                    .map(|r| f64::from(r.at))
                    .min_by(f64::total_cmp);
                let end = match (back, last) {
                    (Some(b), _) => format!("; it accepted connections again from {} on", secs(b)),
                    (None, Some(c)) => match &c.error {
                        Some(e) => format!("; still down at the final reconnect ({e})"),
                        None => "; it accepted the final reconnect".into(),
                    },
                    (None, None) => String::new(),
                };
                let first = refused
                    .iter()
                    .min_by(|a, b| a.at.total_cmp(&b.at).then(a.seq.cmp(&b.seq)))
                    .copied()
                    .expect("a refusal began it");
                let f = Finding::at(
                    Check::R11,
                    Level::Fail,
                    format!(
                        "the receiver stopped accepting connections during the run: {}; connection refused from {} on",
                        before(t),
                        secs(t)
                    ),
                )
                .expected(why(Check::R11))
                .measured(format!(
                    "{} bod{} ({} attempt{}) refused because it was down: {}{end}",
                    lost.len(),
                    if lost.len() == 1 { "y" } else { "ies" },
                    refused.len(),
                    crate::common::plural_s(refused.len() as u64),
                    types.join(", ")
                ));
                cx.about(f, first)
            }
            (None, Some((c, e))) => {
                let f = Finding::at(
                    Check::R11,
                    Level::Fail,
                    format!(
                        "the receiver stopped accepting connections after the run: {}; the reconnect {} after the last answer failed ({e})",
                        before(c.at_ms),
                        secs(c.settle_ms)
                    ),
                )
                .expected(why(Check::R11))
                .measured(format!("reconnected at {}: {e}", secs(c.at_ms)));
                // The example sends the last body it answered again.
                match cx
                    .recs
                    .iter()
                    .filter(mine)
                    .filter(|r| r.leg == Leg::Answered)
                    .max_by(|a, b| (f64::from(a.at) + a.took()).total_cmp(&(f64::from(b.at) + b.took())))
                {
                    Some(r) => cx.about(f, r),
                    None => f.url(&c.url),
                }
            }
            (None, None) => continue,
        };
        out.push(f);
    }
    if judged {
        cov.ran(Check::R11);
    } else {
        skips.push((Check::R11, Skip::NoReconnect));
    }
}
