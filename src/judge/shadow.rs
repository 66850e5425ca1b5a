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
                u.differs.sort_by_key(|d| std::cmp::Reverse(d.count));
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::Upstream;

    fn line(seq: u64, real: u16, cand: Option<u16>, cand_ms: f64) -> Shadow {
        Shadow {
            seq,
            url: "a".into(),
            to: "http://new/".into(),
            real_status: Some(real),
            real_took_ms: 2.0,
            leg: cand.map(|status| Upstream {
                headers: Vec::new(),
                sent_ms: 10.0,
                answered_ms: 10.0 + cand_ms,
                status: Some(status),
                answer_headers: Vec::new(),
                answer_body: Vec::new(),
                error: None,
            }),
            dropped: cand.is_none(),
        }
    }

    #[test]
    fn differences_are_counted_by_status_pair_and_by_check_either_way() {
        let mut t = Tally::default();
        t.push(&line(1, 204, Some(204), 1.0), 5000.0);
        t.push(&line(2, 204, Some(500), 1.0), 5000.0);
        t.push(&line(3, 204, Some(500), 1.0), 5000.0);
        t.push(&line(4, 500, Some(204), 6000.0), 5000.0);
        t.push(&line(5, 204, None, 0.0), 5000.0);
        let r = t.report().unwrap();
        let u = &r.urls[0];
        assert_eq!((u.copies, u.dropped, u.same), (5, 1, 1));
        assert_eq!(
            u.differs
                .iter()
                .map(|d| (d.real, d.candidate, d.count, d.examples.clone()))
                .collect::<Vec<_>>(),
            [
                (Some(204), Some(500), 2, vec![2, 3]),
                (Some(500), Some(204), 1, vec![4])
            ]
        );
        let by = |c: Check| {
            u.checks
                .iter()
                .find(|d| d.check == c)
                .map(|d| (d.real_only, d.candidate_only))
        };
        assert_eq!(by(Check::R1), Some((1, 2)));
        assert_eq!(by(Check::R2), Some((0, 1)), "only the candidate was slow");
        assert_eq!(u.candidate_times.unwrap().answers, 4);
        assert!(u.candidate_times.unwrap().max_ms >= 6000.0);
        assert!(Tally::default().report().is_none(), "no shadow lines, no section");
    }

    #[test]
    fn the_same_answers_make_no_difference() {
        let mut t = Tally::default();
        t.push(&line(1, 204, Some(204), 1.0), 5000.0);
        let u = &t.report().unwrap().urls[0];
        assert!(u.differs.is_empty() && u.checks.is_empty());
    }
}
