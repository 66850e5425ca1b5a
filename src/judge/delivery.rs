//! D1–D6: the attempts of one event at one URL (and F4, which explains an extra
//! attempt at one URL by a failure at another).

use super::record::{hash64, Rec};
use super::{Cx, Detail};
use crate::catalog::{Check, Level};
use crate::common::secs;
use crate::report::{Coverage, Finding, Findings, Skip, Source};
use std::collections::BTreeMap;

/// Per retry position (2, 3, …): how many, and the shortest and longest gap.
type Gaps = BTreeMap<usize, (usize, f64, f64)>;

pub(super) fn judge(cx: &Cx, reached: &[bool], out: &mut Findings, cov: &mut Coverage) {
    let (mut any_failed, mut any_success, mut any_retry) = (false, false, false);
    // D1 is shown only where the sender had to stop: three failed attempts at a URL
    // (or a fourth attempt, its failure).
    let mut at_limit = false;
    let mut gaps = Gaps::new();
    for event in cx.recs.chunk_by(|a, b| a.id == b.id) {
        for attempts in event.chunk_by(|a, b| (a.class, a.url) == (b.class, b.url)) {
            any_failed |= attempts.iter().any(|a| !a.succeeded());
            any_success |= attempts.iter().any(Rec::succeeded);
            any_retry |= attempts.len() > 1;
            at_limit |= attempts.len() > 3 || attempts.iter().take(3).filter(|a| !a.succeeded()).count() == 3;
            delivery(cx, event, attempts, &mut gaps, out);
        }
        // D5: one identity, two different events.
        let classes: Vec<&[Rec]> = event.chunk_by(|a, b| a.class == b.class).collect();
        if classes.len() > 1 {
            let (a, b) = (&classes[0][0], &classes[1][0]);
            out.push(
                Finding::new(Check::D5, "one id carries different events")
                    .event(cx.event(a))
                    .source(Source::Request(u64::from(a.seq)))
                    .source(Source::Request(u64::from(b.seq)))
                    .expected(format!(
                        "one event per EventId / EventRandomId (receivers de-duplicate by it); here {} different events",
                        classes.len()
                    ))
                    .detail(
                        Detail::TwoEvents {
                            a: u64::from(a.seq),
                            b: u64::from(b.seq),
                        },
                        hash64((a.class, b.class)),
                    ),
            );
        }
    }
    if !gaps.is_empty() {
        let parts: Vec<_> = gaps
            .iter()
            .map(|(k, (n, lo, hi))| {
                format!(
                    "attempt {k}: {n} retr{}, {lo:.0}–{hi:.0} ms after the previous answer",
                    if *n == 1 { "y" } else { "ies" }
                )
            })
            .collect();
        out.push(Finding::at(Check::D6, Level::Info, "retry gaps measured").measured(parts.join("; ")));
    }
    const ALL: [Check; 7] = [
        Check::D1,
        Check::D2,
        Check::D3,
        Check::D4,
        Check::D5,
        Check::D6,
        Check::D7,
    ];
    if cx.recs.is_empty() {
        cov.family(&ALL, false, Skip::NoEvent);
        return;
    }
    cov.family(&[Check::D5], true, Skip::NoEvent);
    cov.family(&[Check::D1], at_limit, Skip::NoThirdFailure);
    // A failing URL that was configured but never reached is named: that is the fix.
    let no_failure = super::fanout::unreached_urls(cx, reached, &|f| f.can_fail())
        .map_or(Skip::NoFailedAttempt, Skip::Unreached);
    cov.family(&[Check::D4], any_success, Skip::NoSuccess);
    // A failing URL that was reached but never retried is named: D6 had a place to
    // measure and the sender gave up there (D2).
    let failing = cx
        .urls
        .iter()
        .enumerate()
        .filter(|(i, u)| reached[*i] && u.fault.can_fail())
        .map(|(_, u)| format!("{}={}", u.name, u.fault))
        .collect::<Vec<_>>();
    let no_retry = if !any_failed {
        no_failure.clone()
    } else if failing.is_empty() {
        Skip::NoRetry
    } else {
        Skip::NotRetried(failing.join(", "))
    };
    cov.family(&[Check::D2], any_failed, no_failure);
    cov.family(&[Check::D6], any_retry, no_retry.clone());
    // D3 compares a retry with its first attempt: none, nothing compared.
    cov.family(&[Check::D3], any_retry, no_retry);
    patience(cx, out, cov);
}

/// One event's attempts at one URL, in arrival order.
fn delivery(cx: &Cx, event: &[Rec], attempts: &[Rec], gaps: &mut Gaps, out: &mut Findings) {
    let n = attempts.len();
    let first = &attempts[0];
    let seq = |r: &Rec| u64::from(r.seq);
    if n > 3 {
        out.push(
            cx.at(
                Finding::new(Check::D1, "more than 3 attempts of one event at one URL"),
                &attempts[3],
            )
            .expected("at most 3 attempts")
            .found(format!("{n} attempts")),
        );
    }
    for a in &attempts[1..] {
        let changed = |what: &str, detail: Detail, key: u64| {
            cx.at(Finding::new(Check::D3, format!("a retry changed the {what}")), a)
                .expected(format!("the {what} of attempt 1, unchanged"))
                .detail(detail, key)
        };
        let (f, r) = (seq(first), seq(a));
        if a.body != first.body {
            let key = hash64((first.body, a.body));
            out.push(changed("body", Detail::BodyDiff { first: f, retry: r }, key));
        }
        let headers = [
            ("content-type", "Content-Type", first.content_type, a.content_type),
            ("user-agent", "User-Agent", first.user_agent, a.user_agent),
        ];
        for (name, shown, was, now) in headers {
            if was != now {
                let d = Detail::Header {
                    name,
                    first: f,
                    retry: r,
                };
                out.push(changed(shown, d, hash64((name, was, now))));
            }
        }
    }
    // D4 / F4: an attempt after one answered 2xx.
    if let Some(ok) = attempts.iter().position(Rec::succeeded) {
        if let Some(extra) = attempts.get(ok + 1) {
            let failed_elsewhere = event
                .iter()
                .any(|o| o.url != first.url && !o.succeeded() && o.seen() <= extra.at);
            let f = if failed_elsewhere {
                Finding::new(Check::F4, "a failure at another URL caused an extra attempt here")
                    .expected("one attempt here: this URL answered 2xx")
                    .found(format!("attempt {} after the 2xx of attempt {}", ok + 2, ok + 1))
            } else {
                Finding::new(Check::D4, "an attempt arrived after one answered 2xx")
                    .expected(format!(
                        "no attempt after attempt {} (answered {})",
                        ok + 1,
                        attempts[ok].answer()
                    ))
                    .found(format!("attempt {}", ok + 2))
            };
            out.push(cx.at(f, extra));
        }
    }
    let last = &attempts[n - 1];
    if !last.succeeded() && n < 3 {
        let waited = cx.closed_ms.map(|c| c - last.seen());
        // The real sender's longest back-off is 2 s (20 times the D6 threshold, which
        // tests scale with their back-off): a shorter wait may be the window's doing.
        let longest_backoff = 20.0 * cx.opts.min_retry_gap.as_secs_f64() * 1000.0;
        let waited_text = waited
            .map(|w| {
                let short = if w < longest_backoff {
                    format!(
                        " (shorter than the sender's {} back-off: the window may have closed first; use a longer quiet window)",
                        secs(longest_backoff)
                    )
                } else {
                    String::new()
                };
                format!("nothing in the {} until the capture closed{short}", secs(w))
            })
            .unwrap_or_else(|| "nothing while the capture was open (judged before it closed)".into());
        out.push(
            cx.at(
                Finding::new(Check::D2, "the sender gave up: no retry after a failed attempt"),
                last,
            )
            .expected("another attempt after a failure (up to 3 in all; the real sender waits 1 s, then 2 s)")
            .measured(format!(
                "attempt {n} answered {}, then {waited_text}",
                last.answer()
            )),
        );
    }
    let min = cx.opts.min_retry_gap.as_secs_f64() * 1000.0;
    for (i, pair) in attempts.windows(2).enumerate() {
        let gap = pair[1].at - pair[0].seen();
        let g = gaps.entry(i + 2).or_insert((0, f64::MAX, f64::MIN));
        *g = (g.0 + 1, g.1.min(gap), g.2.max(gap));
        if gap < min {
            out.push(
                cx.at(
                    Finding::at(
                        Check::D6,
                        Level::Warn,
                        "a retry came sooner than the minimum back-off",
                    ),
                    &pair[1],
                )
                .expected(format!(
                    "a back-off of at least {min:.0} ms (the real sender waits 1 s, then 2 s)"
                ))
                .measured(format!(
                    "attempt {}: {gap:.1} ms after the previous answer",
                    i + 2
                )),
            );
        }
    }
}

/// D7: the real sender's HttpClient waits 100 s for an answer (scaled with the back-off
/// in tests, as the D6 threshold is: 1000 times it). A sender that closed the connection
/// sooner, while an answer was held, gave up early. Judged only where an answer was held
/// that long, or the sender gave up on one.
fn patience(cx: &Cx, out: &mut Findings, cov: &mut Coverage) {
    let patience = 1000.0 * cx.opts.min_retry_gap.as_secs_f64() * 1000.0;
    let mut tested = false;
    for r in cx.recs {
        tested |= r.abandoned() || r.answered() - r.at >= patience;
        let waited = r.gave_up - r.at;
        if r.abandoned() && waited < patience {
            out.push(
                cx.at(
                    Finding::new(Check::D7, "the sender gave up waiting for an answer"),
                    r,
                )
                .expected(format!(
                    "an answer awaited for {} (the real sender's HttpClient waits 100 s)",
                    secs(patience)
                ))
                .measured(format!(
                    "closed the connection after {}; the answer was released after {}",
                    secs(waited),
                    secs(r.answered() - r.at)
                )),
            );
        }
    }
    cov.family(&[Check::D7], tested, Skip::NoLongHold);
}
