//! The batch judge as it was before the incremental one (kept for the equivalence test only).
//!
//! D1–D6: the attempts of one event at one URL (and F4, which explains an extra
//! attempt at one URL by a failure at another).

use super::{Coverage, Finding, Seen};
use brhook::testkit::catalog::{Check, Level};
use brhook::testkit::journal::{Journal, Request};
use brhook::testkit::judge::Options;
use std::collections::{BTreeMap, BTreeSet, HashMap};

fn answer(r: &Request) -> String {
    match r.response.status {
        Some(s) => s.to_string(),
        None => "no response (reset)".into(),
    }
}

/// Seconds with one decimal, for people.
fn secs(ms: f64) -> String {
    format!("{:.1} s", ms / 1000.0)
}

pub(super) fn judge(seen: &[Seen], j: &Journal, opts: &Options, out: &mut Vec<Finding>, cov: &mut Coverage) {
    // A delivery: one event (id and content) at one URL, attempts in arrival order.
    let mut deliveries: BTreeMap<(&str, &str, &str), Vec<&Seen>> = BTreeMap::new();
    for s in seen {
        deliveries.entry((s.url, s.id(), &s.class)).or_default().push(s);
    }
    for attempts in deliveries.values_mut() {
        attempts.sort_by(|a, b| {
            a.req
                .at_ms
                .total_cmp(&b.req.at_ms)
                .then(a.req.seq.cmp(&b.req.seq))
        });
    }
    let closed = j.closed_ms;
    // Indexes by event id, so that no check scans the whole capture per event.
    let mut by_id: HashMap<&str, Vec<&Seen>> = HashMap::new();
    for s in seen {
        by_id.entry(s.id()).or_default().push(s);
    }
    let (mut any_failed, mut any_success, mut any_retry) = (false, false, false);
    let mut at_limit = false;
    let mut gaps: BTreeMap<usize, Vec<f64>> = BTreeMap::new();
    for ((url, id, _), attempts) in &deliveries {
        let n = attempts.len();
        let ev = |f: Finding| f.url(*url).event(*id);
        any_failed |= attempts.iter().any(|a| !a.req.succeeded());
        any_success |= attempts.iter().any(|a| a.req.succeeded());
        any_retry |= n > 1;
        at_limit |= n > 3 || attempts.iter().take(3).filter(|a| !a.req.succeeded()).count() == 3;
        if n > 3 {
            out.push(ev(Finding::new(
                Check::D1,
                format!("{n} attempts of one event at one URL"),
            )
            .source(attempts[3].source())
            .expected("at most 3 attempts")
            .found(format!("{n} attempts"))));
        }
        let first = attempts[0];
        for a in &attempts[1..] {
            let body_differs = a.req.body != first.req.body;
            for (what, differs) in [
                ("body", body_differs),
                (
                    "Content-Type",
                    a.req.header("content-type") != first.req.header("content-type"),
                ),
                (
                    "User-Agent",
                    a.req.header("user-agent") != first.req.header("user-agent"),
                ),
            ] {
                if differs {
                    let found = if what == "body" {
                        // With both bodies' hashes: two retries whose 30-byte excerpts
                        // happen to match were merged into one finding only because the
                        // shown text was cut alike (a display artefact, not a judgement).
                        format!(
                            "{} ({} then {})",
                            first_difference(&first.req.body, &a.req.body),
                            brhook::testkit::body::hash(&first.req.body),
                            brhook::testkit::body::hash(&a.req.body)
                        )
                    } else {
                        format!(
                            "{:?} then {:?}",
                            first.req.header(what).unwrap_or("nothing"),
                            a.req.header(what).unwrap_or("nothing")
                        )
                    };
                    out.push(ev(Finding::new(Check::D3, format!("a retry changed the {what}"))
                        .source(a.source())
                        .expected(format!("the {what} of attempt 1, unchanged"))
                        .found(found)));
                }
            }
        }
        // D4 / F4: an attempt after one answered 2xx.
        if let Some(ok) = attempts.iter().position(|a| a.req.succeeded()) {
            if let Some(extra) = attempts.get(ok + 1) {
                let failed_elsewhere = by_id[*id].iter().any(|o| {
                    o.url != *url
                        && o.id() == *id
                        && !o.req.succeeded()
                        && o.req.response.at_ms <= extra.req.at_ms
                });
                let f = if failed_elsewhere {
                    Finding::new(Check::F4, "a failure at another URL caused an extra attempt here")
                        .expected("one attempt here: this URL answered 2xx")
                        .found(format!("attempt {} after the 2xx of attempt {}", ok + 2, ok + 1))
                } else {
                    Finding::new(Check::D4, "an attempt arrived after one answered 2xx")
                        .expected(format!(
                            "no attempt after attempt {} (answered {})",
                            ok + 1,
                            answer(attempts[ok].req)
                        ))
                        .found(format!("attempt {}", ok + 2))
                };
                out.push(ev(f.source(extra.source())));
            }
        }
        let last = attempts[n - 1];
        if !last.req.succeeded() && n < 3 {
            let waited = closed.map(|c| c - last.req.response.at_ms);
            let waited_text = waited
                .map(|w| format!("in the {} until the capture closed", secs(w)))
                .unwrap_or_else(|| "while the capture was open (judged before it closed)".into());
            out.push(ev(Finding::new(
                Check::D2,
                format!(
                    "the sender gave up after {n} attempt{}: no retry {waited_text}",
                    if n == 1 { "" } else { "s" }
                ),
            )
            .source(last.source())
            .expected("another attempt after a failure (up to 3 in all; the real sender waits 1 s, then 2 s)")
            .found(format!("attempt {n} answered {}, then nothing", answer(last.req)))));
        }
        for (i, pair) in attempts.windows(2).enumerate() {
            let gap = pair[1].req.at_ms - pair[0].req.response.at_ms;
            gaps.entry(i + 2).or_default().push(gap);
            let min = opts.min_retry_gap.as_secs_f64() * 1000.0;
            if gap < min {
                out.push(ev(Finding::at(
                    Check::D6,
                    Level::Warn,
                    format!("attempt {} came {gap:.0} ms after the previous answer", i + 2),
                )
                .source(pair[1].source())
                .expected(format!(
                    "a back-off of at least {min:.0} ms (the real sender waits 1 s, then 2 s)"
                ))
                .found(format!("{gap:.1} ms"))));
            }
        }
    }
    if !gaps.is_empty() {
        let parts: Vec<_> = gaps
            .iter()
            .map(|(k, g)| {
                let (lo, hi) = g
                    .iter()
                    .fold((f64::MAX, f64::MIN), |(l, h), x| (l.min(*x), h.max(*x)));
                format!(
                    "attempt {k}: {}, {lo:.0}–{hi:.0} ms after the previous answer",
                    plural_n(g.len(), "retry")
                )
            })
            .collect();
        out.push(Finding::at(
            Check::D6,
            Level::Info,
            format!("retry gaps measured: {}", parts.join("; ")),
        ));
    }
    let ids: BTreeSet<_> = seen.iter().map(|s| s.id()).collect();
    if seen.is_empty() {
        for id in [Check::D1, Check::D2, Check::D3, Check::D4, Check::D5, Check::D6] {
            cov.skip(id, "no event was captured");
        }
        return;
    }
    // Adopted after the equivalence was shown (issue 17): D1 runs where the sender had
    // to stop (three failures at a URL), D3 where there was a retry to compare.
    cov.ran(Check::D5);
    if at_limit {
        cov.ran(Check::D1);
    } else {
        cov.skip(Check::D1, "no event failed 3 times at one URL");
    }
    if any_retry {
        cov.ran(Check::D3);
    } else {
        cov.skip(Check::D3, "no retry was observed");
    }
    if any_failed {
        cov.ran(Check::D2);
    } else {
        cov.skip(
            Check::D2,
            "no attempt failed: add a URL with a failing fault (fail:N, reset:N or status:CODE)",
        );
    }
    if any_success {
        cov.ran(Check::D4);
    } else {
        cov.skip(Check::D4, "no attempt was answered 2xx");
    }
    if any_retry {
        cov.ran(Check::D6);
    } else {
        cov.skip(
            Check::D6,
            "no retry was observed: add a URL with fail:N to measure back-off",
        );
    }
    // D5: one identity, two different events.
    for id in ids {
        let classes: BTreeMap<&str, &Seen> = by_id[id].iter().map(|s| (&*s.class, *s)).collect();
        if classes.len() > 1 {
            let mut it = classes.values();
            let (a, b) = (it.next().expect("two"), it.next().expect("two"));
            out.push(
                Finding::new(
                    Check::D5,
                    format!("one id carries {} different events", classes.len()),
                )
                .event(id)
                .source(format!("{} and {}", a.source(), b.source()))
                .expected("one event per EventId / EventRandomId (receivers de-duplicate by it)")
                .found(format!("{} vs {}", describe(a), describe(b))),
            );
        }
    }
}

fn plural_n(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {}", word.replace('y', "ies"))
    }
}

fn describe(s: &Seen) -> String {
    let t = s.body.event_type.as_deref().unwrap_or("record");
    let data = s
        .body
        .value
        .as_ref()
        .and_then(|v| v.get("EventData").or(Some(v)))
        .map(brhook::testkit::schema::short);
    format!("{t} {}", data.unwrap_or_default())
}

/// Where two bodies first differ, as a short excerpt of each.
fn first_difference(a: &[u8], b: &[u8]) -> String {
    let i = a
        .iter()
        .zip(b)
        .position(|(x, y)| x != y)
        .unwrap_or(a.len().min(b.len()));
    let cut =
        |s: &[u8]| String::from_utf8_lossy(&s[i.saturating_sub(10)..(i + 30).min(s.len())]).into_owned();
    format!("bodies differ from byte {i}: {:?} vs {:?}", cut(a), cut(b))
}
