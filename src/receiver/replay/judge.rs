//! The streaming R judge of a replay: each event's attempts are judged as its delivery
//! ends and then dropped. Memory holds the grouped findings and one latency histogram
//! per URL, whatever the length of the journal.

use super::super::answer::{self, answer_of, curl, fmt_duration, short, slow_level, why, Body};
use super::super::latency::{Histogram, Latency};
use crate::catalog::{Check, Level};
use crate::reference::DEFAULT_USER_AGENT;
use crate::reference::{Attempt, Outcome};
use crate::report::{Coverage, Finding, Findings, Source};
use std::collections::BTreeMap;
use std::time::Duration;

/// What the judge knows of one replayed event.
#[derive(Debug, Clone)]
pub(crate) struct Event {
    /// The check its answer is judged under (R1 known type, R3 unknown, R9 v1 record).
    pub check: Check,
    /// `SessionEnded`, `RoomInfoChanged (unknown type)`, `v1 record`.
    pub label: String,
    /// The captured request it was first seen in.
    pub seq: u64,
    /// The id sent (fresh or original).
    pub id: Option<String>,
    /// The captured id, when a fresh one was sent instead.
    pub original: Option<String>,
    /// False when the captured body breaks the protocol itself: its answer is timed
    /// (R2) but not judged.
    pub judged: bool,
}

/// The judge's settings.
pub(crate) struct Options {
    pub slow_after: Duration,
    pub timeout: Duration,
}

/// Findings grouped as they come, what ran, and latency per URL.
pub(crate) struct Judge {
    opts: Options,
    pub findings: Findings,
    pub cov: Coverage,
    pub latency: BTreeMap<String, Histogram>,
    pub all: Histogram,
    pub attempts: u64,
}

impl Judge {
    pub(crate) fn new(opts: Options, examples: usize) -> Judge {
        Judge {
            opts,
            findings: Findings::new(examples),
            cov: Coverage::default(),
            latency: BTreeMap::new(),
            all: Histogram::default(),
            attempts: 0,
        }
    }

    fn finding(&self, ev: &Event, check: Check, level: Level, message: String, url: &str) -> Finding {
        let mut f = Finding::at(check, level, message)
            .source(Source::Request(ev.seq))
            .url(url);
        if let Some(id) = &ev.id {
            f = f.event(id);
        }
        f
    }

    /// Judges one event's attempts at every target URL; `bytes` is what was sent.
    pub(crate) fn push(&mut self, ev: &Event, mut attempts: Vec<Attempt>, bytes: &[u8]) {
        attempts.sort_by_key(|a| (a.url_index, a.attempt));
        self.attempts += attempts.len() as u64;
        for a in &attempts {
            if let Outcome::Status(_) = a.outcome {
                self.cov.ran(Check::R2);
                self.all.add(a.elapsed);
                self.latency.entry(a.url.clone()).or_default().add(a.elapsed);
                if a.elapsed > self.opts.slow_after {
                    let (level, limit) = slow_level(a.elapsed > answer::R2_FAIL_AFTER, self.opts.slow_after);
                    let msg = format!("{}: answered after more than {}", ev.label, fmt_duration(limit));
                    let f = self
                        .finding(ev, Check::R2, level, msg, &a.url)
                        .expected(answer::slow_expected(self.opts.slow_after))
                        .measured(format!(
                            "answered {} after {}",
                            short(&a.outcome),
                            fmt_duration(a.elapsed)
                        ));
                    self.findings.push(f);
                }
            }
        }
        // The first answer at each URL decides; the rest is the history shown.
        let mut i = 0;
        while i < attempts.len() {
            let url = attempts[i].url_index;
            let end = attempts[i..]
                .iter()
                .position(|a| a.url_index != url)
                .map_or(attempts.len(), |n| i + n);
            self.delivery(ev, &attempts[i..end], bytes);
            i = end;
        }
    }

    fn delivery(&mut self, ev: &Event, atts: &[Attempt], bytes: &[u8]) {
        let first = &atts[0];
        if !ev.judged && first.outcome != Outcome::Timeout {
            return;
        }
        if first.outcome.is_success() {
            self.cov.ran(ev.check);
            return;
        }
        let (check, msg, expected) = if first.outcome == Outcome::Timeout {
            self.cov.ran(Check::R2);
            (
                Check::R2,
                format!(
                    "{}: no answer within {}",
                    ev.label,
                    fmt_duration(self.opts.timeout)
                ),
                answer::timeout_expected(self.opts.timeout),
            )
        } else {
            self.cov.ran(ev.check);
            (
                ev.check,
                format!("{}: answered {}", ev.label, answer::status(&first.outcome)),
                why(ev.check).to_string(),
            )
        };
        let mut found = format!(
            "{} attempt{}: {}",
            atts.len(),
            if atts.len() == 1 { "" } else { "s" },
            answer::attempts(atts)
        );
        if let Some(o) = &ev.original {
            found.push_str(&format!(" (captured as event {o})"));
        }
        let mut f = self
            .finding(ev, check, Level::Fail, msg, &first.url)
            .expected(expected)
            .found(found)
            .reproduce(curl(&first.url, DEFAULT_USER_AGENT, Body::Bytes(bytes), true));
        if let Some(ans) = answer_of(first) {
            f = f.answer(ans);
        }
        self.findings.push(f);
    }

    /// Adds the latency summaries (info) once everything is judged.
    pub(crate) fn summaries(&mut self) {
        let lines: Vec<(String, Latency)> = self
            .latency
            .iter()
            .filter_map(|(u, h)| Some((u.clone(), h.latency()?)))
            .collect();
        for (url, l) in lines {
            self.findings.push(
                Finding::at(Check::R2, Level::Info, "latency measured")
                    .url(url)
                    .measured(l.to_string()),
            );
        }
    }
}
