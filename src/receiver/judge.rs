//! The receiver judged: what brhook's sender saw of each body it sent ([`Attempt`]s),
//! turned into R findings. Each finding names its case (`source`), the URL, the event,
//! the receiver's `answer` (status and the start of its body) and, in `reproduce`, the
//! `curl` command that sends the body again: the body is shown once, there.
//!
//! One root cause, one finding: in the probe, a later case's failure counts against its
//! own check only when the same event type and shape was answered 2xx in the baseline
//! (the R1 cases); otherwise it joins the baseline's finding as one more source.

use super::answer::{
    self, answer_of, curl, fmt_duration, short, slow_expected, slow_level, why, Body, R2_FAIL_AFTER,
};
use super::{Latency, Sent, Timing};
use crate::catalog::{Check, Level};
use crate::gen::EventKind;
use crate::protocol::Setting;
use crate::reference::{Attempt, Outcome};
use crate::report::{Coverage, Finding, Skip};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::time::Duration;

/// Detailed findings per case, URL and check; the rest are counted in one more finding.
const MAX_DETAILED: usize = 5;

pub(crate) struct Options {
    pub slow_after: Duration,
    pub timeout: Duration,
    pub user_agent: String,
    /// The probe: replay the earlier bodies of a case too (cases whose order matters),
    /// compare with the baseline, judge R10.
    pub chains: bool,
}

/// What [`judge`] found.
pub(crate) struct Judged {
    pub findings: Vec<Finding>,
    pub cov: Coverage,
    /// Checks that could not be judged, and why; these override the generic reasons.
    pub skips: Vec<(Check, Skip)>,
}

/// `curl` posting this body as the real sender does (by its file when saved).
fn curl_sent(url: &str, ua: &str, sent: &Sent, show: bool) -> String {
    let body = match &sent.file {
        Some(f) => Body::File(f),
        None => Body::Bytes(&sent.bytes),
    };
    curl(url, ua, body, show)
}

/// The command(s) that reproduce the answer to `sent[i]` at `url`: with saved bodies and
/// `chains`, the case's earlier bodies of the same setting first, in order.
fn reproduce(sent: &[Sent], i: usize, url: &str, opts: &Options) -> String {
    let me = &sent[i];
    let earlier: Vec<&Sent> = sent
        .iter()
        .filter(|s| s.case == me.case && s.setting == me.setting && s.position < me.position)
        .collect();
    if !opts.chains || earlier.is_empty() {
        return curl_sent(url, &opts.user_agent, me, true);
    }
    if me.file.is_some() {
        let mut cmds: Vec<String> = earlier
            .iter()
            .map(|s| curl_sent(url, &opts.user_agent, s, false))
            .collect();
        cmds.push(curl_sent(url, &opts.user_agent, me, true));
        return cmds.join("; ");
    }
    let labels: Vec<&str> = earlier.iter().map(|s| s.label.as_str()).collect();
    format!(
        "{} (after this case's earlier bodies: {}; `--save-bodies DIR` writes them all and replays the whole case)",
        curl_sent(url, &opts.user_agent, me, true),
        labels.join(", ")
    )
}

/// A finding about `sent[i]` at `url`: its case, URL, event, answer and reproduction.
/// The body itself is in the `curl` command (or named by its file): shown once.
fn about(f: Finding, sent: &[Sent], i: usize, url: &str, a: &Attempt, opts: &Options) -> Finding {
    let s = &sent[i];
    let mut f = f
        .source(&s.case)
        .url(url)
        .reproduce(reproduce(sent, i, url, opts));
    if let Some(file) = &s.file {
        f = f.found(format!("body in {}", file.display()));
    }
    if let Some(e) = &s.event {
        f = f.event(e);
    }
    if let Some(ans) = answer_of(a) {
        f = f.answer(ans);
    }
    f
}

/// `answered 422 Unprocessable Entity (3 attempts: 422, 422, 422; the real sender then
/// gives up)`.
fn history(attempts: &[&Attempt]) -> String {
    let first = answer::status(&attempts[0].outcome);
    if attempts.len() == 1 {
        return first;
    }
    let n = attempts.len();
    format!(
        "{first} ({n} attempts: {})",
        answer::attempts(attempts.iter().copied())
    )
}

/// Where a baseline is kept: URL, event type, 2.x shape.
type BaseKey = (String, EventKind, bool);

/// All findings of one run, and which checks it exercised. `attempts`: index into `sent`
/// with what the sender saw.
pub(crate) fn judge(sent: &[Sent], attempts: &[(usize, Attempt)], opts: &Options) -> Judged {
    let mut findings = Vec::new();
    let mut cov = Coverage::default();
    let mut skips = Vec::new();

    // (body, setting, url index) → its attempts, in attempt order.
    let mut by_delivery: BTreeMap<(usize, u8, usize), Vec<&Attempt>> = BTreeMap::new();
    for (i, a) in attempts {
        let setting = u8::from(a.setting == Setting::V1);
        by_delivery.entry((*i, setting, a.url_index)).or_default().push(a);
    }
    for v in by_delivery.values_mut() {
        v.sort_by_key(|a| a.attempt);
    }
    let key = |i: usize, url: &str| -> Option<BaseKey> { sent[i].like.map(|(t, x)| (url.to_string(), t, x)) };

    // The baseline's failures: type and shape per URL not answered 2xx there.
    let mut base_failed: HashSet<BaseKey> = HashSet::new();
    for ((i, _, _), atts) in &by_delivery {
        if sent[*i].baseline && !atts[0].outcome.is_success() {
            if let Some(k) = key(*i, &atts[0].url) {
                base_failed.insert(k);
            }
        }
    }

    // Item checks: the first answer to each body at each URL.
    // (case, url, check) → bodies failed, outside the baseline.
    let mut seen: BTreeMap<(String, String, Check), usize> = BTreeMap::new();
    // Baseline finding (index into `findings`) per key, and the later cases that failed
    // the same way.
    let mut roots: HashMap<BaseKey, usize> = HashMap::new();
    let mut also: HashMap<BaseKey, BTreeSet<String>> = HashMap::new();
    let mut joined: BTreeSet<Check> = BTreeSet::new();
    for ((i, _, _), atts) in &by_delivery {
        let s = &sent[*i];
        let first = atts[0];
        let url = first.url.as_str();
        let (check, what) = match &first.outcome {
            o if o.is_success() => {
                cov.ran(s.check);
                continue;
            }
            Outcome::Timeout => {
                cov.ran(Check::R2);
                (
                    Check::R2,
                    format!("{}: no answer within {}", s.label, fmt_duration(opts.timeout)),
                )
            }
            _ => {
                // Not this case's own variation when the baseline failed the same type.
                let base = key(*i, url).filter(|k| opts.chains && base_failed.contains(k));
                if let (false, Some(k)) = (s.baseline, base) {
                    also.entry(k).or_default().insert(s.case.clone());
                    joined.insert(s.check);
                    continue;
                }
                cov.ran(s.check);
                (s.check, format!("{}: answered {}", s.label, history(atts)))
            }
        };
        // A root cause is always detailed: later cases join it.
        if !s.baseline {
            let n = seen.entry((s.case.clone(), url.to_string(), check)).or_default();
            *n += 1;
            if *n > MAX_DETAILED {
                continue;
            }
        }
        let expected = if check == Check::R2 {
            answer::timeout_expected(opts.timeout)
        } else {
            why(check).to_string()
        };
        let f = Finding::at(check, Level::Fail, what).expected(expected);
        if s.baseline {
            if let Some(k) = key(*i, url) {
                roots.insert(k, findings.len());
            }
        }
        findings.push(about(f, sent, *i, url, first, opts));
    }
    for (k, cases) in also {
        if let Some(&at) = roots.get(&k) {
            for c in cases {
                findings[at] = findings[at].clone().source(c);
            }
        }
    }
    for c in joined {
        if !cov.has_run(c) {
            skips.push((c, Skip::FailedInBaseline));
        }
    }
    for ((case, url, check), n) in seen {
        if n > MAX_DETAILED {
            findings.push(
                Finding::new(
                    check,
                    format!(
                        "{} more bodies of this case failed {check} the same way (only the first {MAX_DETAILED} are detailed)",
                        n - MAX_DETAILED
                    ),
                )
                .source(case)
                .url(url),
            );
        }
    }

    r2(sent, attempts, opts, &mut findings, &mut cov);
    if opts.chains {
        r10(sent, &by_delivery, opts, &mut findings, &mut cov, &mut skips);
    }
    Judged { findings, cov, skips }
}

/// R2: how long each answer took.
fn r2(
    sent: &[Sent],
    attempts: &[(usize, Attempt)],
    opts: &Options,
    findings: &mut Vec<Finding>,
    cov: &mut Coverage,
) {
    let mut per_case: BTreeMap<(String, String), Vec<(usize, &Attempt)>> = BTreeMap::new();
    let mut per_url: BTreeMap<String, Vec<Duration>> = BTreeMap::new();
    for (i, a) in attempts {
        if let Outcome::Status(_) = a.outcome {
            cov.ran(Check::R2);
            per_case
                .entry((sent[*i].case.clone(), a.url.clone()))
                .or_default()
                .push((*i, a));
            per_url.entry(a.url.clone()).or_default().push(a.elapsed);
        }
    }
    for ((_, url), answers) in &per_case {
        let slow: Vec<&(usize, &Attempt)> = answers
            .iter()
            .filter(|(_, a)| a.elapsed > opts.slow_after)
            .collect();
        let Some(&&(i, worst)) = slow.iter().max_by_key(|(_, a)| a.elapsed) else {
            continue;
        };
        let over = answers.iter().filter(|(_, a)| a.elapsed > R2_FAIL_AFTER).count();
        let (level, limit) = slow_level(over > 0, opts.slow_after);
        let s = &sent[i];
        let f = Finding::at(
            Check::R2,
            level,
            format!(
                "{} of {} answers took longer than {} (slowest {}: {}, answered {})",
                slow.len().max(over),
                answers.len(),
                fmt_duration(limit),
                fmt_duration(worst.elapsed),
                s.label,
                short(&worst.outcome)
            ),
        )
        .expected(format!(
            "{}; reproduce sends the slowest",
            slow_expected(opts.slow_after)
        ));
        findings.push(about(f, sent, i, url, worst, opts));
    }
    for (url, mut d) in per_url {
        d.sort();
        if let Some(l) = Latency::of_sorted(&d) {
            findings.push(Finding::at(Check::R2, Level::Info, format!("latency: {l}")).url(url));
        }
    }
}

/// R10, per URL: the event sent while another's answer is held ([`Timing::Beside`]) is
/// answered within `slow_after`, unless the same kind sent alone ([`Timing::Alone`]) is
/// as slow (then it is R2's finding).
fn r10(
    sent: &[Sent],
    by_delivery: &BTreeMap<(usize, u8, usize), Vec<&Attempt>>,
    opts: &Options,
    findings: &mut Vec<Finding>,
    cov: &mut Coverage,
    skips: &mut Vec<(Check, Skip)>,
) {
    // url index → (timing → (body, first attempt)).
    let mut per_url: BTreeMap<usize, BTreeMap<u8, (usize, &Attempt)>> = BTreeMap::new();
    for ((i, setting, u), atts) in by_delivery {
        let role = match sent[*i].timing {
            Timing::Plain => continue,
            Timing::Alone => 0,
            Timing::Held => 1,
            Timing::Beside => 2,
        };
        if *setting == 0 {
            per_url.entry(*u).or_default().insert(role, (*i, atts[0]));
        }
    }
    let mut reason = None;
    for roles in per_url.values() {
        let (Some(&(_, alone)), Some(&(hi, held)), Some(&(bi, beside))) =
            (roles.get(&0), roles.get(&1), roles.get(&2))
        else {
            continue;
        };
        if held.elapsed <= opts.slow_after {
            reason.get_or_insert(Skip::NothingHeld);
            continue;
        }
        if beside.elapsed <= opts.slow_after {
            cov.ran(Check::R10);
            continue;
        }
        if alone.elapsed > opts.slow_after {
            reason.get_or_insert(Skip::SlowAlone);
            continue;
        }
        cov.ran(Check::R10);
        let fail = beside.elapsed > R2_FAIL_AFTER || beside.outcome == Outcome::Timeout;
        let (h, b) = (&sent[hi], &sent[bi]);
        let f = Finding::at(
            Check::R10,
            if fail { Level::Fail } else { Level::Warn },
            format!(
                "{} waited for {}: sent while its answer was held, it was not answered within {}",
                b.label,
                h.label,
                fmt_duration(opts.slow_after)
            ),
        )
        .expected(format!(
            "an event sent while another's answer is held is answered within {} (the real sender sends concurrently: handle requests concurrently, or answer before the slow work); reproduce sends the held one, then {} later the other",
            fmt_duration(opts.slow_after),
            fmt_duration(super::probe::R10_STAGGER)
        ))
        .measured(format!(
            "the held one answered after {}; the one beside it after {}; the same kind sent alone after {}",
            fmt_duration(held.elapsed),
            fmt_duration(beside.elapsed),
            fmt_duration(alone.elapsed)
        ));
        let mut f = about(f, sent, bi, &beside.url, beside, opts);
        // Both at once: the held body in the background, the other after the stagger.
        let both = format!(
            "{} & sleep {}; {}; wait",
            curl_sent(&held.url, &opts.user_agent, h, false),
            super::probe::R10_STAGGER.as_secs_f64(),
            curl_sent(&beside.url, &opts.user_agent, b, true)
        );
        f.reproduce = Some(both);
        findings.push(f);
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
    use std::time::Instant;

    fn body(position: usize, label: &str, timing: Timing) -> Sent {
        Sent {
            case: "r10-file-split".into(),
            position,
            label: label.into(),
            setting: Setting::V2,
            check: Check::R1,
            bytes: b"{}".to_vec(),
            event: None,
            timing,
            baseline: false,
            like: Some((EventKind::FileOpening, true)),
            file: None,
        }
    }

    fn attempt(event: usize, ms: u64, outcome: Outcome) -> (usize, Attempt) {
        let a = Attempt {
            setting: Setting::V2,
            event,
            url_index: 0,
            url: "http://rx/hook".into(),
            attempt: 0,
            started: Instant::now(),
            elapsed: Duration::from_millis(ms),
            outcome,
            answer: Vec::new(),
            answer_headers: Vec::new(),
        };
        (event, a)
    }

    /// R10 on what the sender saw: (alone, held, beside) answer times in ms, the
    /// beside answer timing out when `None`.
    fn r10_of(alone: u64, held: u64, beside: Option<u64>) -> (Vec<Finding>, Option<Skip>, bool) {
        let sent = [
            body(0, "FileOpening (alone)", Timing::Alone),
            body(1, "FileClosed", Timing::Held),
            body(2, "FileOpening (beside)", Timing::Beside),
        ];
        let ok = || Outcome::Status(204);
        let attempts = [
            attempt(0, alone, ok()),
            attempt(1, held, ok()),
            match beside {
                Some(ms) => attempt(2, ms, ok()),
                None => attempt(2, 1_000, Outcome::Timeout),
            },
        ];
        let opts = Options {
            slow_after: Duration::from_millis(300),
            timeout: Duration::from_secs(1),
            user_agent: "BililiveRecorder/2.17.3".into(),
            chains: true,
        };
        let j = judge(&sent, &attempts, &opts);
        let r10: Vec<Finding> = j.findings.into_iter().filter(|f| f.check == Check::R10).collect();
        let skip = j
            .skips
            .into_iter()
            .find(|(c, _)| *c == Check::R10)
            .map(|(_, r)| r);
        (r10, skip, j.cov.has_run(Check::R10))
    }

    #[test]
    fn r10_levels_and_reasons() {
        // Held, and the one beside it waited although it is fast alone: warn.
        let (f, skip, ran) = r10_of(5, 900, Some(850));
        assert_eq!((f.len(), f[0].level, skip, ran), (1, Level::Warn, None, true));
        assert!(f[0]
            .found
            .as_deref()
            .unwrap()
            .contains("sent alone after 5.00 ms"));
        // The one beside it never answered (the sender gave up): fail.
        let (f, _, _) = r10_of(5, 900, None);
        assert_eq!(f[0].level, Level::Fail);
        // Answered promptly beside a held one: passed.
        assert_eq!(r10_of(5, 900, Some(20)), (vec![], None, true));
        // Nothing held: skipped, saying so.
        assert_eq!(r10_of(5, 20, Some(20)), (vec![], Some(Skip::NothingHeld), false));
        // As slow alone: R2's finding, not R10's.
        assert_eq!(
            r10_of(400, 900, Some(850)),
            (vec![], Some(Skip::SlowAlone), false)
        );
    }
}
