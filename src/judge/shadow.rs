//! The shadow lines of a proxy journal (`--shadow`), tallied as they are read into the
//! report's comparison ([`ShadowReport`]): counts, a few examples and two histograms
//! per URL, whatever the length of the capture. Each line carries both receivers'
//! answers to one request, so nothing is joined and nothing is kept per request.

use super::latency::Histogram;
use crate::catalog::Check;
use crate::journal::{Shadow, UpstreamError};
use crate::report::shadow::{CheckDiff, ShadowReport, ShadowUrl, StatusDiff, Times};
use std::time::Duration;

/// Example requests kept per difference.
const EXAMPLES: usize = 3;

#[derive(Default)]
struct PerUrl {
    url: String,
    candidate: String,
    copies: u64,
    dropped: u64,
    same: u64,
    differs: Vec<StatusDiff>,
    /// R1, R2: (real only, candidate only, examples).
    checks: [(u64, u64, Vec<u64>); 2],
    real: Histogram,
    cand: Histogram,
}

/// The comparison so far.
#[derive(Default)]
pub(crate) struct Tally {
    urls: Vec<PerUrl>,
}

fn accepted(s: Option<u16>) -> bool {
    s.is_some_and(|s| (200..300).contains(&s))
}

fn add(h: &mut Histogram, ms: f64) {
    h.add(Duration::from_secs_f64(ms.max(0.0) / 1000.0));
}

impl Tally {
    /// Takes one shadow line; `slow_ms` is R2's threshold (the proxy's `--slow-after`).
    pub fn push(&mut self, s: &Shadow, slow_ms: f64) {
        let i = match self
            .urls
            .iter()
            .position(|u| u.url == s.url && u.candidate == s.to)
        {
            Some(i) => i,
            None => {
                self.urls.push(PerUrl {
                    url: s.url.clone(),
                    candidate: s.to.clone(),
                    ..PerUrl::default()
                });
                self.urls.len() - 1
            }
        };
        let u = &mut self.urls[i];
        u.copies += 1;
        let Some(leg) = &s.leg else {
            u.dropped += 1;
            return;
        };
        add(&mut u.real, s.real_took_ms);
        add(&mut u.cand, leg.took_ms());
        if s.real_status == leg.status {
            u.same += 1;
        } else {
            let d = match u
                .differs
                .iter_mut()
                .find(|d| (d.real, d.candidate) == (s.real_status, leg.status))
            {
                Some(d) => d,
                None => {
                    u.differs.push(StatusDiff {
                        real: s.real_status,
                        candidate: leg.status,
                        count: 0,
                        examples: Vec::new(),
                    });
                    u.differs.last_mut().expect("just pushed")
                }
            };
            d.count += 1;
            if d.examples.len() < EXAMPLES {
                d.examples.push(s.seq);
            }
        }
        // Judged from each answer alone: R1 wants a 2xx, R2 an answer within `slow_ms`.
        let fails = [
            (!accepted(s.real_status), !accepted(leg.status)),
            (
                s.real_took_ms > slow_ms,
                leg.took_ms() > slow_ms || leg.error == Some(UpstreamError::Timeout),
            ),
        ];
        for (c, (real, cand)) in u.checks.iter_mut().zip(fails) {
            if real != cand {
                if real {
                    c.0 += 1;
                } else {
                    c.1 += 1;
                }
                if c.2.len() < EXAMPLES {
                    c.2.push(s.seq);
                }
            }
        }
    }

    /// The report's section; `None` when the journal has no shadow line.
    pub fn report(self) -> Option<ShadowReport> {
        if self.urls.is_empty() {
            return None;
        }
        let times = |h: &Histogram| {
            h.latency().map(|l| Times {
                answers: l.answers as u64,
                p50_ms: l.p50.as_secs_f64() * 1000.0,
                p90_ms: l.p90.as_secs_f64() * 1000.0,
                p99_ms: l.p99.as_secs_f64() * 1000.0,
                max_ms: l.max.as_secs_f64() * 1000.0,
            })
        };
        let urls = self
            .urls
            .into_iter()
            .map(|mut u| {
                u.differs.sort_by(|a, b| b.count.cmp(&a.count));
                let checks = [Check::R1, Check::R2]
                    .into_iter()
                    .zip(u.checks)
                    .filter(|(_, c)| c.0 + c.1 > 0)
                    .map(|(check, (real_only, candidate_only, examples))| CheckDiff {
                        check,
                        real_only,
                        candidate_only,
                        examples,
                    })
                    .collect();
                ShadowUrl {
                    real: times(&u.real),
                    candidate_times: times(&u.cand),
                    url: u.url,
                    candidate: u.candidate,
                    copies: u.copies,
                    dropped: u.dropped,
                    same: u.same,
                    differs: u.differs,
                    checks,
                }
            })
            .collect();
        Some(ShadowReport { urls })
    }
}
