//! The HTML report's timeline, from the judge's records (no body is needed).

use super::record::{self, Rec};
use super::Cx;
use crate::body::Kind;
use crate::journal::Meta;
use crate::report::timeline::{Mark, Row, Timeline, MAX_ROWS};

pub(super) fn build(
    cx: &Cx,
    meta: &Meta,
    closed_ms: Option<f64>,
    quiet_ms: Option<f64>,
    requests: u64,
) -> Timeline {
    // A row is one (event, URL): an event's records are together in the sorted records
    // (its content classes, then URLs, inside). Rows are counted first, then only every
    // `stride`-th is built: memory holds the rows drawn, not one per delivery.
    let events = || cx.recs.chunk_by(|a, b| a.id == b.id);
    let urls_of = |ev: &[Rec]| {
        let mut urls: Vec<u16> = ev.iter().map(|r| r.url).collect();
        urls.sort_unstable();
        urls.dedup();
        urls
    };
    let total_rows: usize = events().map(|ev| urls_of(ev).len()).sum();
    let stride = total_rows.div_ceil(MAX_ROWS).max(1);
    let mut kept: Vec<(f64, usize, Row)> = Vec::new();
    let mut i = 0;
    for ev in events() {
        let first = ev.iter().map(|r| r.at).fold(f64::MAX, f64::min);
        for url in urls_of(ev) {
            i += 1;
            if (i - 1) % stride != 0 {
                continue;
            }
            let rs: Vec<&Rec> = ev.iter().filter(|r| r.url == url).collect();
            let mut marks: Vec<Mark> = rs
                .iter()
                .map(|r| Mark {
                    seq: u64::from(r.seq),
                    at_ms: r.at,
                    answered_ms: r.answered().max(r.at),
                    status: r.status(),
                    upstream: (r.leg != record::Leg::None).then(|| {
                        let done = (r.at + f64::from(r.took)).clamp(r.at, r.answered().max(r.at));
                        (done, (r.leg == record::Leg::Answered).then_some(r.up_status))
                    }),
                })
                .collect();
            marks.sort_by(|a, b| a.at_ms.total_cmp(&b.at_ms));
            let id = cx.event(rs[0]);
            let kind = match (rs[0].kind, rs[0].ty.name()) {
                (Kind::V1, _) => "v1 record".to_string(),
                (_, Some(t)) => t.to_string(),
                _ => "?".to_string(),
            };
            let short: String = id.trim_start_matches("body:").chars().take(8).collect();
            kept.push((
                first,
                usize::from(url),
                Row {
                    label: format!("{kind} {short}"),
                    event: id,
                    url: cx.url(url).to_string(),
                    attempts: marks,
                },
            ));
        }
    }
    kept.sort_by(|a, b| {
        (a.0, &a.2.event, a.1)
            .partial_cmp(&(b.0, &b.2.event, b.1))
            .expect("finite")
    });
    let last = cx.recs.iter().map(|r| r.answered().max(r.at));
    let span_ms = last.fold(closed_ms.unwrap_or(0.0), f64::max).max(1.0);
    Timeline {
        rows: kept.into_iter().map(|(_, _, r)| r).collect(),
        total_rows,
        stride,
        requests,
        started: meta.started.clone(),
        closed_ms,
        quiet_ms,
        span_ms,
    }
}
