//! The batch judge as it was before the incremental one (kept for the equivalence test only).
//!
//! F1–F4: one setting's URLs. All URLs that received v2 events form one group, all
//! that received v1 records another. (F4 findings are made in `delivery`, where the
//! extra attempt is seen; its coverage is decided here.)

use super::{Coverage, Finding, Seen};
use brhook::testkit::body::Kind;
use brhook::testkit::catalog::{Check, Level};
use brhook::testkit::journal::Journal;
use std::collections::{BTreeMap, BTreeSet};

pub(super) fn judge(seen: &[Seen], j: &Journal, out: &mut Vec<Finding>, cov: &mut Coverage) {
    let urls_of =
        |k: Kind| -> BTreeSet<&str> { seen.iter().filter(|s| s.body.kind == k).map(|s| s.url).collect() };
    let (v2, v1) = (urls_of(Kind::V2), urls_of(Kind::V1));
    for url in v2.intersection(&v1) {
        out.push(
            Finding::at(
                Check::F1,
                Level::Warn,
                "one URL received both v2 events and v1 records",
            )
            .url(*url)
            .expected("v2 and v1 URLs kept apart (WebHookUrlsV2 and WebHookUrls are separate settings)")
            .found("both"),
        );
    }
    let reached: BTreeSet<&str> = j.requests.iter().filter_map(|r| r.url.as_deref()).collect();
    if !reached.is_empty() {
        for u in j.meta.urls.iter().filter(|u| !reached.contains(u.name.as_str())) {
            // Adopted after the equivalence was shown (issue 9, declared settings): a URL
            // that got nothing while another URL of its setting got requests is a fail.
            let peers = j
                .meta
                .urls
                .iter()
                .any(|p| p.setting() == u.setting() && reached.contains(p.name.as_str()));
            let level = if peers { Level::Fail } else { Level::Warn };
            out.push(
                Finding::at(Check::F1, level, "a configured URL received no request")
                    .url(u.name.clone())
                    .expected("every URL in the sender's settings receives every event")
                    .found("nothing (if this URL is in the sender's settings, the sender skipped it)"),
            );
        }
    }
    let mut multi = false;
    let (mut delay_pair, mut fault_pair) = (false, false);
    let mut witnessed = false;
    for (kind, group) in [(Kind::V2, &v2), (Kind::V1, &v1)] {
        if group.len() < 2 {
            continue;
        }
        multi = true;
        let fault = |u: &str| j.fault(u).cloned().unwrap_or_default();
        delay_pair |= group.iter().any(|u| fault(u).delay_ms > 0);
        fault_pair |= group.iter().any(|u| fault(u).can_fail());
        // Per event: the URLs it reached, with their bodies and first attempts.
        let mut events: BTreeMap<&str, BTreeMap<&str, Vec<&Seen>>> = BTreeMap::new();
        for s in seen
            .iter()
            .filter(|s| s.body.kind == kind && group.contains(s.url))
        {
            events
                .entry(s.id())
                .or_default()
                .entry(s.url)
                .or_default()
                .push(s);
        }
        for (id, at) in &events {
            for missing in group.iter().filter(|u| !at.contains_key(*u)) {
                out.push(
                    Finding::new(Check::F1, "an event did not reach every URL of its setting")
                        .url(*missing)
                        .event(*id)
                        .expected(format!("the event at all {} URLs", group.len()))
                        .found(format!(
                            "only at {}",
                            at.keys().copied().collect::<Vec<_>>().join(", ")
                        )),
                );
            }
            // The first attempt of each delivery: a retry that changed the body is D3's.
            let bodies: BTreeMap<&str, BTreeSet<&[u8]>> = at
                .iter()
                .map(|(u, ss)| {
                    let mut firsts: BTreeMap<&str, &Seen> = BTreeMap::new();
                    for s in ss {
                        let f = firsts.entry(&s.class).or_insert(s);
                        if s.req.at_ms < f.req.at_ms {
                            *f = s;
                        }
                    }
                    (*u, firsts.values().map(|s| s.req.body.as_slice()).collect())
                })
                .collect();
            let mut distinct = bodies.values().collect::<Vec<_>>();
            distinct.dedup();
            if distinct.len() > 1 {
                let (u0, b0) = bodies.iter().next().expect("one");
                let (u1, b1) = bodies.iter().find(|(_, b)| *b != b0).expect("two");
                out.push(
                    Finding::new(
                        Check::F2,
                        "the same event arrived as different bytes at different URLs",
                    )
                    .event(*id)
                    .url(format!("{u0}, {u1}"))
                    .expected("one byte array sent to every URL")
                    .found(format!(
                        "{} byte(s) at {u0}, {} at {u1}",
                        b0.iter().next().map_or(0, |b| b.len()),
                        b1.iter().next().map_or(0, |b| b.len())
                    )),
                );
            }
            witnessed |= concurrency(id, at, j, out);
        }
    }
    if seen.is_empty() {
        for id in [Check::F1, Check::F2, Check::F3, Check::F4] {
            cov.skip(id, "no event was captured");
        }
        return;
    }
    if !multi {
        for id in [Check::F1, Check::F2, Check::F3, Check::F4] {
            cov.skip(
                id,
                "only one URL per setting received traffic: configure two or more URLs",
            );
        }
        return;
    }
    cov.ran(Check::F1);
    cov.ran(Check::F2);
    // Adopted after the equivalence was shown (issue 17): F3 runs only when an event
    // showed it (another URL reached after the delay URL got it).
    if delay_pair && witnessed {
        cov.ran(Check::F3);
    } else {
        cov.skip(
            Check::F3,
            "needs a URL with delay:MS and one other URL in the same setting",
        );
    }
    if fault_pair {
        cov.ran(Check::F4);
    } else {
        cov.skip(
            Check::F4,
            "needs a URL with a failing fault (fail:N, reset:N, status:CODE) and one other URL",
        );
    }
}

/// F3: while a `delay` URL holds its answer to an event's first attempt, the event
/// must already have reached the other URLs. (A sequential sender that happens to
/// post to the delay URL last escapes; two delay URLs close that gap.)
fn concurrency(id: &str, at: &BTreeMap<&str, Vec<&Seen>>, j: &Journal, out: &mut Vec<Finding>) -> bool {
    let mut shown = false;
    fn first<'a>(ss: &[&'a Seen<'a>]) -> Option<&'a brhook::testkit::journal::Request> {
        ss.iter()
            .min_by(|a, b| a.req.at_ms.total_cmp(&b.req.at_ms))
            .map(|s| s.req)
    }
    for (d, ss) in at {
        let Some(delay) = j.fault(d).map(|f| f.delay_ms).filter(|ms| *ms > 0) else {
            continue;
        };
        let Some(held) = first(ss) else { continue };
        for (o, os) in at.iter().filter(|(o, _)| *o != d) {
            let Some(other) = first(os) else { continue };
            shown |= other.at_ms >= held.at_ms;
            if other.at_ms > held.response.at_ms {
                out.push(
                    Finding::new(
                        Check::F3,
                        "the event reached this URL only after another URL's answer",
                    )
                    .url(*o)
                    .event(id)
                    .expected(format!(
                        "sent to all URLs at once, while {d} held its answer for {delay} ms"
                    ))
                    .found(format!(
                        "arrived {:.0} ms after {d} answered (URLs one after another)",
                        other.at_ms - held.response.at_ms
                    )),
                );
            }
        }
    }
    shown
}
