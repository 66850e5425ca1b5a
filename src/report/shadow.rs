//! `brhook proxy --shadow`: the real receiver and its candidate, side by side. Each
//! shadowed request was answered by both; what differs is counted here (status, and
//! the R checks judged from one answer alone: R1 accepted or refused, R2 in time or
//! slow) with a few example requests, and both receivers' answer times.

use crate::catalog::Check;
use serde::Serialize;

/// Answer-time percentiles, in milliseconds (nearest rank, within 1.6 %).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Times {
    /// Answers measured.
    pub answers: u64,
    /// Median.
    pub p50_ms: f64,
    /// 90th percentile.
    pub p90_ms: f64,
    /// 99th percentile.
    pub p99_ms: f64,
    /// Slowest.
    pub max_ms: f64,
}

/// One pair of statuses (real, candidate) that differed, `None` for no answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StatusDiff {
    /// What the real receiver answered.
    pub real: Option<u16>,
    /// What the candidate answered.
    pub candidate: Option<u16>,
    /// Requests answered so.
    pub count: u64,
    /// The first few requests' `seq`.
    pub examples: Vec<u64>,
}

/// A check one receiver failed on a request and the other passed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CheckDiff {
    /// The check (R1: a 2xx for the event; R2: an answer in time).
    pub check: Check,
    /// Requests where the real receiver failed it and the candidate passed.
    pub real_only: u64,
    /// Requests where the candidate failed it and the real receiver passed.
    pub candidate_only: u64,
    /// The first few requests' `seq`, either way.
    pub examples: Vec<u64>,
}

/// One URL's real receiver beside its candidate.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ShadowUrl {
    /// The URL name.
    pub url: String,
    /// The candidate's URL.
    pub candidate: String,
    /// Requests copied to the candidate (sent or dropped).
    pub copies: u64,
    /// Copies dropped, not sent: the candidate already had as many waiting as allowed.
    pub dropped: u64,
    /// Copies sent that got the same status from both.
    pub same: u64,
    /// Status pairs that differed, most frequent first.
    pub differs: Vec<StatusDiff>,
    /// R checks one failed and the other passed.
    pub checks: Vec<CheckDiff>,
    /// The real receiver's answer times, on the requests copied and sent.
    pub real: Option<Times>,
    /// The candidate's answer times.
    pub candidate_times: Option<Times>,
}

/// The comparison of every shadowed URL.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ShadowReport {
    /// Per shadowed URL, in the order first seen.
    pub urls: Vec<ShadowUrl>,
}

impl ShadowReport {
    /// The text report's section.
    pub fn text(&self) -> String {
        use std::fmt::Write;
        let mut out = String::from("  Shadow receivers (the candidate's answers were not relayed):\n");
        let status = |s: Option<u16>| s.map_or("no answer".to_string(), |s| s.to_string());
        let times = |t: &Option<Times>| match t {
            Some(t) => format!(
                "p50 {:.1} ms, p90 {:.1} ms, p99 {:.1} ms, max {:.1} ms ({} answers)",
                t.p50_ms, t.p90_ms, t.p99_ms, t.max_ms, t.answers
            ),
            None => "no answers".into(),
        };
        for u in &self.urls {
            let sent = u.copies - u.dropped;
            let _ = writeln!(
                out,
                "    {} → candidate {}: {} cop{} sent, {} dropped; same status {}, different {}",
                u.url,
                u.candidate,
                sent,
                if sent == 1 { "y" } else { "ies" },
                u.dropped,
                u.same,
                sent - u.same
            );
            for d in &u.differs {
                let _ = writeln!(
                    out,
                    "      status {} here, {} at the candidate: {} (e.g. request #{})",
                    status(d.real),
                    status(d.candidate),
                    d.count,
                    d.examples
                        .iter()
                        .map(u64::to_string)
                        .collect::<Vec<_>>()
                        .join(", #")
                );
            }
            for c in &u.checks {
                let _ = writeln!(
                    out,
                    "      {} fails only at the receiver: {}, only at the candidate: {}",
                    c.check, c.real_only, c.candidate_only
                );
            }
            let _ = writeln!(out, "      answer time, receiver:  {}", times(&u.real));
            let _ = writeln!(out, "      answer time, candidate: {}", times(&u.candidate_times));
        }
        out
    }
}
