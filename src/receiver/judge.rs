//! The receiver judged: what brhook's sender saw of each body it sent ([`Attempt`]s),
//! turned into R findings. Each finding names its case (`source`), the URL, the event,
//! the answer, the body (or the file it was saved in) and a `curl` command that replays it.

use super::{Latency, Sent};
use crate::catalog::{Check, Level};
use crate::reference::{Attempt, Outcome, Setting};
use crate::report::{Coverage, Finding};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

/// Over this, an answer is R2 `fail`: the real sender's client has given up (100 s).
pub const R2_FAIL_AFTER: Duration = Duration::from_secs(100);

/// Detailed findings per case, URL and check; the rest are counted in one more finding.
const MAX_DETAILED: usize = 5;

pub(crate) struct Options {
    pub slow_after: Duration,
    pub timeout: Duration,
    pub user_agent: String,
    /// Replay the earlier bodies of a case too (cases whose order matters).
    pub chains: bool,
}

/// `1.23 s`, `12.3 ms`, `0.42 ms`.
pub fn fmt_duration(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    if ms >= 1000.0 {
        format!("{:.2} s", ms / 1000.0)
    } else if ms >= 10.0 {
        format!("{ms:.1} ms")
    } else {
        format!("{ms:.2} ms")
    }
}

/// Single-quoted for a POSIX shell.
fn sh(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// `curl` posting this body as the real sender does. `last`: show the answer (`-i`);
/// otherwise print only the status code.
fn curl(url: &str, ua: &str, sent: &Sent, last: bool) -> String {
    let data = match &sent.file {
        Some(f) => format!("@{}", sh(&f.display().to_string())),
        None => sh(&String::from_utf8_lossy(&sent.bytes)),
    };
    let out = if last {
        "-i".to_string()
    } else {
        format!("-o /dev/null -w {}", sh("%{http_code}\\n"))
    };
    format!(
        "curl -sS {out} -X POST -H 'Content-Type: application/json' -H {} --data-binary {data} {}",
        sh(&format!("User-Agent: {ua}")),
        sh(url)
    )
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
        return curl(url, &opts.user_agent, me, true);
    }
    if me.file.is_some() {
        let mut cmds: Vec<String> = earlier
            .iter()
            .map(|s| curl(url, &opts.user_agent, s, false))
            .collect();
        cmds.push(curl(url, &opts.user_agent, me, true));
        return cmds.join("; ");
    }
    let labels: Vec<&str> = earlier.iter().map(|s| s.label.as_str()).collect();
    format!(
        "{} (after this case's earlier bodies: {}; `--save-bodies DIR` writes them all and replays the whole case)",
        curl(url, &opts.user_agent, me, true),
        labels.join(", ")
    )
}

fn body_of(sent: &Sent) -> String {
    match &sent.file {
        Some(f) => format!("body in {}", f.display()),
        None => format!("body {}", String::from_utf8_lossy(&sent.bytes)),
    }
}

fn outcome(o: &Outcome) -> String {
    match o {
        Outcome::Status(s) => {
            let reason = hyper::StatusCode::from_u16(*s)
                .ok()
                .and_then(|c| c.canonical_reason())
                .unwrap_or("");
            format!("{s} {reason}").trim_end().to_string()
        }
        Outcome::Error(e) => format!("connection error ({e})"),
        Outcome::Timeout => "no answer (timeout)".into(),
    }
}

fn short(o: &Outcome) -> String {
    match o {
        Outcome::Status(s) => s.to_string(),
        Outcome::Error(_) => "error".into(),
        Outcome::Timeout => "timeout".into(),
    }
}

/// `answered 422 Unprocessable Entity (3 attempts: 422, 422, 422; the real sender then
/// gives up)`.
fn history(attempts: &[&Attempt]) -> String {
    let first = outcome(&attempts[0].outcome);
    if attempts.len() == 1 {
        return first;
    }
    let all: Vec<String> = attempts.iter().map(|a| short(&a.outcome)).collect();
    let end = if attempts.last().is_some_and(|a| a.outcome.is_success()) {
        "accepted on the retry"
    } else {
        "the real sender then gives up"
    };
    format!("{first} ({} attempts: {}; {end})", attempts.len(), all.join(", "))
}

/// Why a 2xx is expected, per check.
fn why(check: Check) -> &'static str {
    match check {
        Check::R1 => "every valid event of a known type is answered 2xx (doc: answer 2xx)",
        Check::R3 => "an unknown EventType is answered 2xx: the doc warns more types may be added; ignore what you do not know",
        Check::R4 => "fields beyond the documented ones are tolerated and answered 2xx (forward compatibility)",
        Check::R5 => "a retry carries the same bytes and EventId: de-duplicate by EventId and answer 2xx again",
        Check::R6 => "out-of-order events are answered 2xx: neither send nor arrival order is guaranteed (doc)",
        Check::R7 => "2.x StreamStarted/StreamEnded carry no SessionId and are answered 2xx",
        Check::R8 => "the real sender's value forms are accepted (0-7 fraction digits, any offset, int64 sizes, raw UTF-8)",
        Check::R9 => "v1 records are answered 2xx",
        _ => "a 2xx answer",
    }
}

/// Nearest-rank percentile of sorted durations.
pub(crate) fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// All findings of one run, and which checks it exercised. `attempts`: index into `sent`
/// with what the sender saw.
pub(crate) fn judge(
    sent: &[Sent],
    attempts: &[(usize, Attempt)],
    opts: &Options,
) -> (Vec<Finding>, Coverage) {
    let mut findings = Vec::new();
    let mut cov = Coverage::default();

    // (body, setting, url index) → its attempts, in attempt order.
    let mut by_delivery: BTreeMap<(usize, u8, usize), Vec<&Attempt>> = BTreeMap::new();
    for (i, a) in attempts {
        let setting = u8::from(a.setting == Setting::V1);
        by_delivery.entry((*i, setting, a.url_index)).or_default().push(a);
    }
    for v in by_delivery.values_mut() {
        v.sort_by_key(|a| a.attempt);
    }

    // Item checks: the first answer to each body at each URL.
    // (case, url, check) → (detailed findings, bodies not detailed).
    let mut seen: BTreeMap<(String, String, Check), usize> = BTreeMap::new();
    for ((i, _, _), atts) in &by_delivery {
        let s = &sent[*i];
        let first = atts[0];
        let url = first.url.as_str();
        let (check, level, what) = match &first.outcome {
            o if o.is_success() => {
                cov.ran(s.check);
                continue;
            }
            Outcome::Timeout => {
                cov.ran(Check::R2);
                (
                    Check::R2,
                    Level::Fail,
                    format!("{}: no answer within {}", s.label, fmt_duration(opts.timeout)),
                )
            }
            _ => {
                cov.ran(s.check);
                (
                    s.check,
                    Level::Fail,
                    format!("{}: answered {}", s.label, history(atts)),
                )
            }
        };
        let n = seen.entry((s.case.clone(), url.to_string(), check)).or_default();
        *n += 1;
        if *n > MAX_DETAILED {
            continue;
        }
        let expected = if check == Check::R2 {
            format!(
                "an answer within {} (the real sender's client gives up after 100 s and retries); reproduce: {}",
                fmt_duration(opts.timeout),
                reproduce(sent, *i, url, opts)
            )
        } else {
            format!("{}; reproduce: {}", why(check), reproduce(sent, *i, url, opts))
        };
        let mut f = Finding::at(check, level, what)
            .source(&s.case)
            .url(url)
            .expected(expected)
            .found(body_of(s));
        if let Some(e) = &s.event {
            f = f.event(e);
        }
        findings.push(f);
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

    // R2: how long each answer took.
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
    for ((case, url), answers) in &per_case {
        let slow: Vec<&(usize, &Attempt)> = answers
            .iter()
            .filter(|(_, a)| a.elapsed > opts.slow_after)
            .collect();
        let Some(&&(i, worst)) = slow.iter().max_by_key(|(_, a)| a.elapsed) else {
            continue;
        };
        let over = answers.iter().filter(|(_, a)| a.elapsed > R2_FAIL_AFTER).count();
        let level = if over > 0 { Level::Fail } else { Level::Warn };
        let limit = if over > 0 { R2_FAIL_AFTER } else { opts.slow_after };
        let s = &sent[i];
        let mut f = Finding::at(
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
        .source(case)
        .url(url)
        .expected(format!(
            "an answer within {} (answer at once, do slow work after answering); reproduce the slowest: {}",
            fmt_duration(opts.slow_after),
            reproduce(sent, i, url, opts)
        ))
        .found(body_of(s));
        if let Some(e) = &s.event {
            f = f.event(e);
        }
        findings.push(f);
    }
    for (url, mut d) in per_url {
        d.sort();
        if let Some(l) = Latency::of_sorted(&d) {
            findings.push(Finding::at(Check::R2, Level::Info, format!("latency: {l}")).url(url));
        }
    }
    (findings, cov)
}

impl std::fmt::Display for Latency {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut s = String::new();
        let _ = write!(
            s,
            "{} answer{}, p50 {}, p90 {}, p99 {}, max {}",
            self.answers,
            if self.answers == 1 { "" } else { "s" },
            fmt_duration(self.p50),
            fmt_duration(self.p90),
            fmt_duration(self.p99),
            fmt_duration(self.max)
        );
        f.write_str(&s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_nearest_rank() {
        let d: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        assert_eq!(percentile(&d, 50.0), Duration::from_millis(50));
        assert_eq!(percentile(&d, 99.0), Duration::from_millis(99));
        assert_eq!(percentile(&d[..1], 99.0), Duration::from_millis(1));
        assert_eq!(percentile(&[], 50.0), Duration::ZERO);
    }

    #[test]
    fn shell_quoting() {
        assert_eq!(sh("it's"), "'it'\\''s'");
        assert_eq!(fmt_duration(Duration::from_millis(1500)), "1.50 s");
        assert_eq!(fmt_duration(Duration::from_micros(420)), "0.42 ms");
    }
}
