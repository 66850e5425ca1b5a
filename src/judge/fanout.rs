//! F1–F4: one setting's URLs. All URLs that received v2 events form one group, all
//! that received v1 records another. (F4 findings are made in `delivery`, where the
//! extra attempt is seen; its coverage is decided here.)

use super::record::Rec;
use super::Cx;
use crate::body::Kind;
use crate::catalog::{Check, Level};
use crate::report::{Coverage, Finding, Findings, Skip};
use std::collections::{BTreeMap, BTreeSet};

const ALL: [Check; 4] = [Check::F1, Check::F2, Check::F3, Check::F4];

pub(super) fn judge(cx: &Cx, reached: &[bool], out: &mut Findings, cov: &mut Coverage) {
    let urls_of =
        |k: Kind| -> BTreeSet<u16> { cx.recs.iter().filter(|r| r.kind == k).map(|r| r.url).collect() };
    let (v2, v1) = (urls_of(Kind::V2), urls_of(Kind::V1));
    for url in v2.intersection(&v1) {
        out.push(
            Finding::at(
                Check::F1,
                Level::Warn,
                "one URL received both v2 events and v1 records",
            )
            .url(cx.url(*url))
            .expected("v2 and v1 URLs kept apart (WebHookUrlsV2 and WebHookUrls are separate settings)")
            .found("both"),
        );
    }
    if reached.iter().any(|r| *r) {
        for (i, _) in reached.iter().enumerate().filter(|(_, r)| !**r) {
            // A URL of a setting whose other URLs received requests was skipped by the
            // sender: F1 fail. A whole setting that received nothing may simply not be
            // configured in the sender (its v1 URLs, say): warn.
            let setting = cx.urls[i].setting();
            let peers: Vec<&str> = (0..reached.len())
                .filter(|&j| reached[j] && cx.urls[j].setting() == setting)
                .map(|j| cx.url(j as u16))
                .collect();
            let f = if peers.is_empty() {
                Finding::at(Check::F1, Level::Warn, "a configured URL received no request")
                    .expected("every URL in the sender's settings receives every event")
                    .found("nothing (if this URL is in the sender's settings, the sender skipped it)")
            } else {
                Finding::new(
                    Check::F1,
                    "a URL received nothing while the other URLs of its setting received events",
                )
                .expected("every event at every URL of the setting")
                .found(format!(
                    "nothing here; {} received requests (the sender skipped this URL, or it is not in the sender's settings)",
                    peers.join(", ")
                ))
            };
            out.push(f.url(cx.url(i as u16)));
        }
    }
    let mut multi = false;
    let (mut delay_pair, mut fault_pair) = (false, false);
    // F3 runs only where it was shown: some event reached another URL while a delay
    // URL held its answer (or reached it only after, the failure).
    let mut witnessed = false;
    let mut delay_urls: BTreeSet<u16> = BTreeSet::new();
    for (kind, group) in [(Kind::V2, &v2), (Kind::V1, &v1)] {
        if group.len() < 2 {
            continue;
        }
        multi = true;
        let fault = |u: u16| cx.urls[usize::from(u)].fault.clone();
        delay_urls.extend(group.iter().filter(|u| fault(**u).delay_ms > 0));
        delay_pair |= group.iter().any(|u| fault(*u).delay_ms > 0);
        fault_pair |= group.iter().any(|u| fault(*u).can_fail());
        for event in cx.recs.chunk_by(|a, b| a.id == b.id) {
            // The URLs the event reached, with their attempts.
            let mut at: BTreeMap<u16, Vec<&Rec>> = BTreeMap::new();
            for r in event.iter().filter(|r| r.kind == kind && group.contains(&r.url)) {
                at.entry(r.url).or_default().push(r);
            }
            if at.is_empty() {
                continue;
            }
            let any = at.values().next().expect("one URL")[0];
            for missing in group.iter().filter(|u| !at.contains_key(*u)) {
                out.push(
                    Finding::new(Check::F1, "an event did not reach every URL of its setting")
                        .url(cx.url(*missing))
                        .event(cx.event(any))
                        .expected(format!("the event at all {} URLs", group.len()))
                        .found(format!(
                            "only at {}",
                            at.keys().map(|u| cx.url(*u)).collect::<Vec<_>>().join(", ")
                        )),
                );
            }
            bytes_everywhere(cx, &at, out);
            witnessed |= concurrency(cx, &at, out);
        }
    }
    if cx.recs.is_empty() {
        cov.family(&ALL, false, Skip::NoEvent);
        return;
    }
    // A fault URL that received nothing is the reason its check did not run: name it.
    let unreached = |want: &dyn Fn(&crate::fault::Fault) -> bool, otherwise: Skip| {
        unreached_urls(cx, reached, want).map_or(otherwise, Skip::Unreached)
    };
    let (no_delay, no_failing) = if multi {
        (Skip::NoDelayUrl, Skip::NoFailingUrl)
    } else {
        (Skip::OneUrlPerSetting, Skip::OneUrlPerSetting)
    };
    cov.family(&[Check::F1, Check::F2], multi, Skip::OneUrlPerSetting);
    let f3_skip = if multi && delay_pair {
        // The delay URL was always the last to get the event: a sequential sender
        // would pass unseen, so this is no pass.
        let names = delay_urls.iter().map(|u| {
            let spec = &cx.urls[usize::from(*u)];
            format!("{}={}", spec.name, spec.fault)
        });
        Skip::DelayUrlLast(names.collect::<Vec<_>>().join(", "))
    } else {
        unreached(&|f| f.delay_ms > 0, no_delay)
    };
    cov.family(&[Check::F3], multi && delay_pair && witnessed, f3_skip);
    cov.family(
        &[Check::F4],
        multi && fault_pair,
        unreached(&|f| f.can_fail(), no_failing),
    );
}

/// F2: the first attempt of each content class at each URL carries the same bytes
/// everywhere (a retry that changed the body is D3's).
fn bytes_everywhere(cx: &Cx, at: &BTreeMap<u16, Vec<&Rec>>, out: &mut Findings) {
    let bodies: BTreeMap<u16, BTreeSet<(u32, u32)>> = at
        .iter()
        .map(|(u, rs)| {
            let mut firsts: BTreeMap<u64, &Rec> = BTreeMap::new();
            for r in rs {
                let f = firsts.entry(r.class).or_insert(r);
                if r.at < f.at {
                    *f = r;
                }
            }
            (*u, firsts.values().map(|r| (r.body, r.len)).collect())
        })
        .collect();
    let mut distinct = bodies.values().collect::<Vec<_>>();
    distinct.dedup();
    if distinct.len() > 1 {
        let (u0, b0) = bodies.iter().next().expect("one");
        let (u1, b1) = bodies.iter().find(|(_, b)| *b != b0).expect("two");
        let len = |b: &BTreeSet<(u32, u32)>| b.iter().next().map_or(0, |x| x.1);
        let (n0, n1) = (cx.url(*u0), cx.url(*u1));
        out.push(
            Finding::new(
                Check::F2,
                "the same event arrived as different bytes at different URLs",
            )
            .event(cx.event(at[u0][0]))
            .url(n0)
            .url(n1)
            .expected("one byte array sent to every URL")
            .found(format!("{} byte(s) at {n0}, {} at {n1}", len(b0), len(b1))),
        );
    }
}

/// F3: while a `delay` URL holds its answer to an event's first attempt, the event
/// must already have reached the other URLs. True when the event showed it either way:
/// another URL got it after the delay URL did and before its answer was released (the
/// witness of concurrency), or only after that answer (the failure). A sequential
/// sender that posts to the delay URL last shows neither; two delay URLs close that gap.
fn concurrency(cx: &Cx, at: &BTreeMap<u16, Vec<&Rec>>, out: &mut Findings) -> bool {
    let mut shown = false;
    let first = |rs: &[&Rec]| -> Option<Rec> {
        rs.iter()
            .min_by(|a, b| a.at.total_cmp(&b.at).then(a.seq.cmp(&b.seq)))
            .map(|r| **r)
    };
    for (d, rs) in at {
        let delay = cx.urls[usize::from(*d)].fault.delay_ms;
        if delay == 0 {
            continue;
        }
        let Some(held) = first(rs) else { continue };
        for (o, os) in at.iter().filter(|(o, _)| *o != d) {
            let Some(other) = first(os) else { continue };
            shown |= other.at >= held.at;
            if other.at > held.seen() {
                out.push(
                    Finding::new(
                        Check::F3,
                        "the event reached this URL only after another URL's answer",
                    )
                    .url(cx.url(*o))
                    .event(cx.event(&other))
                    .expected(format!(
                        "sent to all URLs at once, while {} held its answer for {delay} ms",
                        cx.url(*d)
                    ))
                    .measured(format!(
                        "arrived {:.0} ms after {} answered (URLs one after another)",
                        other.at - held.seen(),
                        cx.url(*d)
                    )),
                );
            }
        }
    }
    shown
}

/// The configured URLs with a fault `want` picks that received no request, as
/// `name=fault` joined (what a skip reason names), or `None` when there are none.
pub(super) fn unreached_urls(
    cx: &Cx,
    reached: &[bool],
    want: &dyn Fn(&crate::fault::Fault) -> bool,
) -> Option<String> {
    let names: Vec<String> = cx
        .urls
        .iter()
        .enumerate()
        .filter(|(i, u)| !reached[*i] && want(&u.fault))
        .map(|(_, u)| format!("{}={}", u.name, u.fault))
        .collect();
    (!names.is_empty()).then(|| names.join(", "))
}
