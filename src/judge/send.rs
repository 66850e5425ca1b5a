//! The receiver side of a `send` journal: brhook's reference sender played a scenario
//! (probe, realistic, random, load) at a receiver, and each request line says which body
//! of which case it carried ([`crate::journal::Sent`]). Judged at finish from one small
//! record per attempt ([`SentRec`]); bodies and answers are read back from the journal
//! only for the examples a report shows ([`Detail::Sent`]).
//!
//! Each finding names its case (`source`), the URL, the event, the receiver's `answer`
//! and, in `reproduce`, the `curl` command that sends the body again (with the case's
//! earlier bodies first, for the probe).
//!
//! One root cause, one finding ([`cause`]): a receiver that went down (R11, [`alive`]),
//! a value form or a missing `SessionId` found by contrast (R8, R7), the baseline's
//! failure of a type and shape; each lists the types and cases it was seen in.

use super::answer::{self, fmt_duration, short, slow_expected, slow_level, Outcome, R2_FAIL_AFTER};
use super::latency::Histogram;
use super::record::{self, Key, Leg};
use super::{Detail, Interner};
use crate::catalog::{Check, Level};
use crate::common::plural_s;
use crate::journal::{Meta, ProxyMeta, Request, SendMeta, Timing};
use crate::protocol::Setting;
use crate::report::{Coverage, Finding, Findings, Skip};
use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

mod alive;
mod cause;

const BASELINE: u8 = 1;
const FILE: u8 = 2;
const RECORDING: u8 = 4;
/// The attempt could not connect: the receiver was not accepting connections (R11).
const CONNECT: u8 = 8;
/// A known v2 event without `SessionId` (R7's contrast).
const NO_SESSION: u8 = 16;
/// Sets its case up: its 2xx does not pass the case's check.
const SETUP: u8 = 32;
/// A known v2 event (with or without `SessionId`).
const KNOWN_V2: u8 = 64;

/// One attempt of a `send` journal, as the judge needs it after its line is gone.
#[derive(Clone, Copy, Debug)]
pub(crate) struct SentRec {
    id: Key,
    /// Milliseconds the receiver took (or until the failure).
    took: f32,
    /// When it was sent, in milliseconds since the run began.
    at: f32,
    seq: u32,
    position: u32,
    /// Interned label.
    label: u32,
    /// Interned error text of a failed attempt (`u32::MAX`: none).
    error: u32,
    case: u16,
    url: u16,
    status: u16,
    attempt: u8,
    check: Check,
    leg: Leg,
    /// [`BASELINE`], [`FILE`], [`RECORDING`] (the `like` shape).
    flags: u8,
    /// The type it is compared with (`Ty::None`: none).
    like: record::Ty,
    timing: Option<Timing>,
    /// Its date-times' value form ([`cause::Form`]): what a contrast with the baseline
    /// can name as a cause (R8).
    form: cause::Form,
}

/// What a `send` journal's judge collects as requests are pushed: one [`SentRec`] per
/// attempt, and the few distinct strings they name.
#[derive(Default)]
pub(crate) struct Collect {
    recs: Vec<SentRec>,
    strings: Vec<String>,
    index: HashMap<String, u32>,
}

impl Collect {
    fn intern(&mut self, s: &str) -> u32 {
        if let Some(&i) = self.index.get(s) {
            return i;
        }
        let i = self.strings.len() as u32;
        self.strings.push(s.to_string());
        self.index.insert(s.to_string(), i);
        i
    }

    /// Takes one request of a `send` journal (`id`: its event's key, `url`: its URL
    /// index). A line without `sent` (not written by `send`) is not judged.
    pub(crate) fn push(&mut self, r: &Request, id: Key, url: u16, session: Option<bool>) {
        let Some(s) = &r.sent else { return };
        let Some(up) = &r.upstream else { return };
        let error = match &up.error {
            Some(crate::journal::UpstreamError::Timeout) | None => u32::MAX,
            Some(e) => self.intern(error_text(e)),
        };
        let like = s
            .like
            .as_ref()
            .map_or(record::Ty::None, |l| record::Ty::of(Some(&l.event_type)));
        let flags = if s.baseline { BASELINE } else { 0 }
            | if s.file.is_some() { FILE } else { 0 }
            | if s.like.as_ref().is_some_and(|l| l.recording) {
                RECORDING
            } else {
                0
            }
            | if matches!(up.error, Some(crate::journal::UpstreamError::Connect(_))) {
                CONNECT
            } else {
                0
            }
            | match session {
                Some(true) => KNOWN_V2,
                Some(false) => KNOWN_V2 | NO_SESSION,
                None => 0,
            }
            | if s.setup { SETUP } else { 0 };
        let rec = SentRec {
            id,
            took: up.took_ms() as f32,
            at: r.at_ms as f32,
            seq: r.seq as u32,
            position: s.position,
            label: self.intern(&s.label),
            error,
            case: s.case as u16,
            url,
            status: up.status.unwrap_or(0),
            attempt: s.attempt.min(255) as u8,
            check: s.check.parse().unwrap_or(Check::R1),
            leg: match &up.error {
                None => Leg::Answered,
                Some(crate::journal::UpstreamError::Timeout) => Leg::TimedOut,
                Some(_) => Leg::Failed,
            },
            flags,
            like,
            timing: s.timing,
            form: cause::Form::of(&r.body),
        };
        self.recs.push(rec);
    }

    fn text(&self, i: u32) -> &str {
        &self.strings[i as usize]
    }
}

/// The sender's own words for a failed attempt (what `send` printed before journals).
fn error_text(e: &crate::journal::UpstreamError) -> &str {
    use crate::journal::UpstreamError::*;
    match e {
        Connect(s) | Tls(s) | Protocol(s) => s,
        Timeout => "timeout",
        TooLarge => "the answer's body was over the size limit",
    }
}

impl SentRec {
    fn outcome<'a>(&self, c: &'a Collect) -> Outcome<'a> {
        match self.leg {
            Leg::Answered => Outcome::Status(self.status),
            Leg::TimedOut => Outcome::Timeout,
            _ => Outcome::Error(if self.error == u32::MAX {
                ""
            } else {
                c.text(self.error)
            }),
        }
    }
    fn took(&self) -> f64 {
        f64::from(self.took)
    }
}

use crate::common::fmt_ms as ms;

/// Where a baseline is kept: receiver, event type, 2.x shape.
type BaseKey = (u16, record::Ty, bool);

struct Cx<'a> {
    c: &'a Collect,
    ids: &'a Interner,
    meta: &'a Meta,
    send: &'a SendMeta,
    /// Sorted by case, position, URL, attempt.
    recs: &'a [SentRec],
    /// URL index → the first URL index with the same receiver (a repeated URL is one).
    receiver: Vec<u16>,
    /// URL index → the first URL index with the same host and port (one process).
    server: Vec<u16>,
}

impl Cx<'_> {
    fn case(&self, r: &SentRec) -> &str {
        self.send
            .cases
            .get(usize::from(r.case))
            .map_or("?", |c| c.name.as_str())
    }
    fn name(&self, u: u16) -> &str {
        &self.meta.urls[usize::from(u)].name
    }
    /// Where the body was sent: the receiver's URL.
    fn to(&self, u: u16) -> String {
        let spec = &self.meta.urls[usize::from(u)];
        spec.upstream.clone().unwrap_or_else(|| spec.name.clone())
    }
    fn label(&self, r: &SentRec) -> &str {
        self.c.text(r.label)
    }
    fn base_key(&self, r: &SentRec) -> Option<BaseKey> {
        (r.like != record::Ty::None).then(|| {
            (
                self.receiver[usize::from(r.url)],
                r.like,
                r.flags & RECORDING != 0,
            )
        })
    }
    /// The first attempt of a body at a URL (its delivery), when there is one.
    fn first_at(&self, case: u16, position: u32, url: u16) -> Option<&SentRec> {
        let i = self
            .recs
            .partition_point(|r| (r.case, r.position, r.url) < (case, position, url));
        self.recs
            .get(i)
            .filter(|r| (r.case, r.position, r.url) == (case, position, url))
    }

    /// A finding about the attempt `r`: its case, URL, event, and (once an example) the
    /// receiver's answer and the `curl` that reproduces it.
    fn about(&self, f: Finding, r: &SentRec) -> Finding {
        let mut f = f.source(self.case(r)).url(self.name(r.url));
        let event = self.ids.text(r.id);
        if !event.starts_with("body:") {
            f = f.event(event);
        }
        let (mut before, mut after) = (Vec::new(), None);
        if self.send.chains && r.position > 0 {
            // The case's earlier bodies at this URL (so, of the same setting), in order.
            let earlier: Vec<&SentRec> = (0..r.position)
                .filter_map(|p| self.first_at(r.case, p, r.url))
                .collect();
            if r.flags & FILE != 0 {
                before = earlier.iter().map(|e| u64::from(e.seq)).collect();
            } else if !earlier.is_empty() {
                let labels: Vec<&str> = earlier.iter().map(|e| self.label(e)).collect();
                after = Some(labels.join(", "));
            }
        }
        f.detail(
            Detail::Sent {
                seq: u64::from(r.seq),
                to: self.to(r.url),
                before,
                after,
                held: None,
            },
            record::hash64(r.seq),
        )
    }
}

/// Judges a `send` journal's attempts; returns the report's subject.
pub(super) fn judge(
    c: Collect,
    ids: &Interner,
    meta: &Meta,
    closed_ms: Option<f64>,
    reconnects: &[crate::journal::Reconnect],
    out: &mut Findings,
    cov: &mut Coverage,
) -> String {
    let Some(send) = &meta.send else {
        return String::new();
    };
    // Journals always carry R2's limits; the defaults are `send`'s own.
    let proxy = &meta.proxy.clone().unwrap_or(ProxyMeta {
        slow_after_ms: 5000.0,
        timeout_ms: 100_000.0,
    });
    let mut c = c;
    let mut recs = std::mem::take(&mut c.recs);
    recs.sort_unstable_by_key(|r| (r.case, r.position, r.url, r.attempt, r.seq));
    let receiver: Vec<u16> = (0..meta.urls.len())
        .map(|i| {
            let same = |j: &usize| meta.urls[*j].upstream == meta.urls[i].upstream;
            (0..=i).find(same).unwrap_or(i) as u16
        })
        .collect();
    // One process answers every path of a host and port: R11 and the causes found by
    // contrast are its, whichever of its URLs (v2, v1) showed them.
    let authority = |i: usize| {
        let u = meta.urls[i].upstream.as_deref().unwrap_or("");
        u.parse::<hyper::Uri>()
            .ok()
            .and_then(|u| u.authority().map(|a| a.as_str().to_ascii_lowercase()))
            .unwrap_or_else(|| u.to_string())
    };
    let server: Vec<u16> = (0..meta.urls.len())
        .map(|i| (0..=i).find(|&j| authority(j) == authority(i)).unwrap_or(i) as u16)
        .collect();
    let cx = Cx {
        c: &c,
        ids,
        meta,
        send,
        recs: &recs,
        receiver,
        server,
    };
    let probe = send.scenario == "probe";
    let mut skips: Vec<(Check, Skip)> = Vec::new();
    cause::deliveries(&cx, proxy, out, cov, &mut skips);
    alive::r11(&cx, reconnects, out, cov, &mut skips);
    r2(&cx, proxy, out, cov);
    if send.chains {
        r10(&cx, proxy, out, cov, &mut skips);
    }
    let v1 = meta.urls.iter().any(|u| u.setting() == Setting::V1);
    if let Some(concurrency) = send.concurrency {
        let mut all = Histogram::default();
        for r in recs.iter().filter(|r| r.leg == Leg::Answered) {
            all.add(Duration::from_secs_f64(r.took().max(0.0) / 1000.0));
        }
        let events: u64 = send.cases.iter().map(|c| c.bodies).sum();
        let elapsed = Duration::from_secs_f64(closed_ms.unwrap_or(0.0).max(0.0) / 1000.0);
        out.push(
            Finding::at(Check::R2, Level::Info, "load measured").measured(super::latency::load_line(
                events,
                concurrency,
                elapsed,
                all.latency().as_ref(),
            )),
        );
    }
    use Check::*;
    for id in [R1, R2, R3, R4, R5, R6, R7, R8, R9, R10, R11] {
        let reason = match id {
            R9 if !v1 => Skip::NoV1Url,
            R3 | R4 | R5 | R6 | R7 | R8 | R10 if !probe => Skip::OnlyProbe,
            _ => Skip::NoAnswer,
        };
        cov.skip(id, reason);
    }
    // What the judge knows of why a check could not run beats the generic reason.
    for (id, reason) in skips {
        cov.skip(id, reason);
    }
    let bodies: u64 = send.cases.iter().map(|c| c.bodies).sum();
    let n_cases = send.cases.len() as u64;
    let urls = |s: Setting| -> Vec<String> {
        (0..meta.urls.len() as u16)
            .filter(|&u| meta.urls[usize::from(u)].setting() == s)
            .map(|u| cx.to(u))
            .collect()
    };
    let mut to = urls(Setting::V2).join(", ");
    if v1 {
        to.push_str(&format!(" (v1: {})", urls(Setting::V1).join(", ")));
    }
    let mut subject = format!(
        "{}: {bodies} bod{} in {n_cases} case{} to {to}, {} attempts",
        send.scenario,
        if bodies == 1 { "y" } else { "ies" },
        plural_s(n_cases),
        recs.len()
    );
    if let Some(seed) = send.seed {
        subject.push_str(&format!(
            ", seed {seed}{}",
            if send.exact { " (exact)" } else { "" }
        ));
    }
    subject
}

/// `answered 422 Unprocessable Entity (3 attempts: 422, 422, 422; the real sender then
/// gives up)`.
fn history(cx: &Cx, atts: &[SentRec]) -> String {
    let first = answer::status(&atts[0].outcome(cx.c));
    if atts.len() == 1 {
        return first;
    }
    format!(
        "{first} ({} attempts: {})",
        atts.len(),
        answer::attempts(atts.iter().map(|a| a.outcome(cx.c)))
    )
}

/// R2: how long each answer took, per case and URL; a latency line per URL.
fn r2(cx: &Cx, proxy: &ProxyMeta, out: &mut Findings, cov: &mut Coverage) {
    #[derive(Default)]
    struct Acc {
        answers: usize,
        slow: usize,
        over: usize,
        worst: Option<usize>,
    }
    let slow_after = proxy.slow_after_ms;
    let mut per_case: BTreeMap<(u16, u16), Acc> = BTreeMap::new();
    let mut per_url: BTreeMap<u16, Histogram> = BTreeMap::new();
    for (i, r) in cx.recs.iter().enumerate() {
        if r.leg != Leg::Answered {
            continue;
        }
        cov.ran(Check::R2);
        let a = per_case.entry((r.case, r.url)).or_default();
        a.answers += 1;
        let took = r.took();
        if took > slow_after {
            a.slow += 1;
            // The slowest; of equals, the last (as the probe always chose).
            if a.worst.is_none_or(|w| took >= cx.recs[w].took()) {
                a.worst = Some(i);
            }
        }
        a.over += usize::from(took > R2_FAIL_AFTER.as_secs_f64() * 1000.0);
        per_url
            .entry(r.url)
            .or_default()
            .add(Duration::from_secs_f64(took.max(0.0) / 1000.0));
    }
    let slow_after_d = Duration::from_secs_f64(slow_after.max(0.0) / 1000.0);
    for a in per_case.values() {
        let Some(w) = a.worst else { continue };
        let worst = &cx.recs[w];
        let (level, limit) = slow_level(a.over > 0, slow_after_d);
        let f = Finding::at(
            Check::R2,
            level,
            format!(
                "{} of {} answers took longer than {} (slowest {}: {}, answered {})",
                a.slow.max(a.over),
                a.answers,
                fmt_duration(limit),
                ms(worst.took()),
                cx.label(worst),
                short(&worst.outcome(cx.c))
            ),
        )
        .expected(format!(
            "{}; reproduce sends the slowest",
            slow_expected(slow_after_d)
        ));
        out.push(cx.about(f, worst));
    }
    for (url, h) in per_url {
        if let Some(l) = h.latency() {
            out.push(
                Finding::at(Check::R2, Level::Info, "latency measured")
                    .url(cx.name(url))
                    .measured(l.to_string()),
            );
        }
    }
}

/// R10, per v2 URL: the event sent while another's answer is held ([`Timing::Beside`])
/// is answered within `slow_after`, unless the same kind sent alone ([`Timing::Alone`])
/// is as slow (then it is R2's finding).
fn r10(cx: &Cx, proxy: &ProxyMeta, out: &mut Findings, cov: &mut Coverage, skips: &mut Vec<(Check, Skip)>) {
    let slow = proxy.slow_after_ms;
    // url → (role → first attempt); the last body of a role wins, as it always did.
    let mut per_url: BTreeMap<u16, BTreeMap<u8, &SentRec>> = BTreeMap::new();
    for atts in cx
        .recs
        .chunk_by(|a, b| (a.case, a.position, a.url) == (b.case, b.position, b.url))
    {
        let first = &atts[0];
        let role = match first.timing {
            None => continue,
            Some(Timing::Alone) => 0,
            Some(Timing::Held) => 1,
            Some(Timing::Beside) => 2,
        };
        if cx.meta.urls[usize::from(first.url)].setting() == Setting::V2 {
            per_url.entry(first.url).or_default().insert(role, first);
        }
    }
    let stagger_ms = cx.send.stagger_ms.unwrap_or(0.0);
    let mut reason = None;
    for roles in per_url.values() {
        let (Some(alone), Some(held), Some(beside)) = (roles.get(&0), roles.get(&1), roles.get(&2)) else {
            continue;
        };
        if held.took() <= slow {
            reason.get_or_insert(Skip::NothingHeld);
            continue;
        }
        if beside.took() <= slow {
            cov.ran(Check::R10);
            continue;
        }
        if alone.took() > slow {
            reason.get_or_insert(Skip::SlowAlone);
            continue;
        }
        cov.ran(Check::R10);
        let fail = beside.took() > R2_FAIL_AFTER.as_secs_f64() * 1000.0 || beside.leg == Leg::TimedOut;
        let f = Finding::at(
            Check::R10,
            if fail { Level::Fail } else { Level::Warn },
            format!(
                "{} waited for {}: sent while its answer was held, it was not answered within {}",
                cx.label(beside),
                cx.label(held),
                ms(slow)
            ),
        )
        .expected(format!(
            "an event sent while another's answer is held is answered within {} (the real sender sends concurrently: handle requests concurrently, or answer before the slow work); reproduce sends the held one, then {} later the other",
            ms(slow),
            ms(stagger_ms)
        ))
        .measured(format!(
            "the held one answered after {}; the one beside it after {}; the same kind sent alone after {}",
            ms(held.took()),
            ms(beside.took()),
            ms(alone.took())
        ));
        let mut f = cx.about(f, beside);
        // Both at once: the held body in the background, the other after the stagger.
        if let Some(Detail::Sent { held: h, .. }) = f.detail.as_mut() {
            *h = Some((u64::from(held.seq), stagger_ms / 1000.0));
        }
        out.push(f);
    }
    if !cov.has_run(Check::R10) {
        if let Some(r) = reason {
            skips.push((Check::R10, r));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_attempt_stays_small() {
        // What a `send` journal's judge keeps per attempt, its memory per event.
        assert!(
            std::mem::size_of::<SentRec>() <= 64,
            "{}",
            std::mem::size_of::<SentRec>()
        );
    }

    #[test]
    fn a_send_line_round_trips_and_a_line_without_it_still_reads() {
        let line = r#"{"type":"request","seq":1,"conn":1,"at_ms":1.0,"method":"POST","target":"/a","url":"a","headers":[],"body":"e30=","response":{"status":204,"at_ms":1.5},"sent":{"case":2,"position":3,"label":"FileClosed (1.3 shape)","check":"R6","attempt":1,"like":{"type":"FileClosed","recording":false},"timing":"held"}}"#;
        let r = crate::journal::parse_request(line).unwrap();
        let s = r.sent.clone().unwrap();
        assert_eq!((s.case, s.position, s.check.as_str(), s.attempt), (2, 3, "R6", 1));
        assert_eq!((s.baseline, s.timing, s.file), (false, Some(Timing::Held), None));
        let back = crate::journal::parse_request(&serde_json::to_string(&r).unwrap().replacen(
            '{',
            r#"{"type":"request","#,
            1,
        ));
        assert_eq!(back.unwrap(), r);
        let old = r#"{"type":"request","seq":1,"conn":1,"at_ms":1.0,"method":"POST","target":"/a","url":"a","headers":[],"body":"e30=","response":{"status":204,"at_ms":1.5}}"#;
        assert_eq!(crate::journal::parse_request(old).unwrap().sent, None);
    }
}
