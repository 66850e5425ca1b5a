//! A receiver's answer as the R judges word it ([`super::receiver`] for proxy and
//! replay journals, [`super::send`] for `send` journals). Kept in one place so a finding
//! reads the same whichever mode found it: the status, the attempts, why 2xx was
//! expected, the R2 limits and the `curl` command that reproduces the answer. Plain
//! free functions: small helpers other layers use too.

use crate::catalog::{Check, Level};
use crate::report::status_line;
use std::time::Duration;

/// Over this, an answer is R2 `fail`: the real sender's client has given up (100 s).
pub use crate::protocol::TIMEOUT as R2_FAIL_AFTER;

pub(crate) use crate::common::fmt_duration;
pub(crate) use crate::common::{curl, CurlBody as Body};

/// How one attempt ended, as brhook's sender saw it (read back from a journal's
/// upstream leg).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Outcome<'a> {
    /// An answer with this status.
    Status(u16),
    /// A connection or request error, as the sender worded it.
    Error(&'a str),
    /// No complete answer within the timeout.
    Timeout,
}

impl Outcome<'_> {
    pub(crate) fn is_success(&self) -> bool {
        matches!(self, Outcome::Status(s) if (200..300).contains(s))
    }
}

/// `422 Unprocessable Entity`, `connection error (…)`, `no answer (timeout)`.
pub(crate) fn status(o: &Outcome<'_>) -> String {
    match o {
        Outcome::Status(s) => status_line(*s),
        Outcome::Error(e) => format!("connection error ({e})"),
        Outcome::Timeout => "no answer (timeout)".into(),
    }
}

/// One attempt in a list of attempts: `422`, `error (…)`, `timeout`.
pub(crate) fn short(o: &Outcome<'_>) -> String {
    match o {
        Outcome::Status(s) => s.to_string(),
        Outcome::Error(e) => format!("error ({e})"),
        Outcome::Timeout => "timeout".into(),
    }
}

/// `422, 422, 422; the real sender then gives up`: every attempt of one delivery, and
/// how the delivery ended.
pub(crate) fn attempts<'a>(atts: impl IntoIterator<Item = Outcome<'a>>) -> String {
    let mut last_ok = false;
    let all: Vec<String> = atts
        .into_iter()
        .map(|o| {
            last_ok = o.is_success();
            short(&o)
        })
        .collect();
    let end = if last_ok {
        "accepted on a retry"
    } else {
        "the real sender then gives up"
    };
    format!("{}; {end}", all.join(", "))
}

/// Why a 2xx is expected, per check: the one table of every R judge.
pub(crate) fn why(check: Check) -> &'static str {
    match check {
        Check::R1 => "every valid event of a known type is answered 2xx (doc: answer 2xx)",
        Check::R3 => "an unknown EventType is answered 2xx: the doc warns more types may be added; ignore what you do not know",
        Check::R4 => "fields beyond the documented ones are tolerated and answered 2xx (forward compatibility)",
        Check::R5 => "a retry carries the same bytes and EventId: de-duplicate by EventId and answer 2xx again",
        Check::R6 => "out-of-order events are answered 2xx: neither send nor arrival order is guaranteed (doc)",
        Check::R7 => "2.x StreamStarted/StreamEnded carry no SessionId and are answered 2xx",
        Check::R8 => "the real sender's value forms are accepted (0-7 fraction digits, any offset, int64 sizes, raw UTF-8, paths from any file name template)",
        Check::R9 => "v1 records are answered 2xx",
        Check::R11 => "the receiver keeps accepting connections during the run and after it: a receiver that dies loses every later event (doc: answer 2xx)",
        _ => "a 2xx answer",
    }
}

/// R2 expected, when brhook stopped waiting after `timeout`.
pub(crate) fn timeout_expected(timeout: Duration) -> String {
    format!(
        "an answer within {} (the real sender's client gives up after 100 s and retries)",
        fmt_duration(timeout)
    )
}

/// R2 expected, when an answer took longer than `slow_after`.
pub(crate) fn slow_expected(slow_after: Duration) -> String {
    format!(
        "an answer within {} (answer at once, do slow work after answering)",
        fmt_duration(slow_after)
    )
}

/// R2's level and the limit named, for a slow answer: past [`R2_FAIL_AFTER`] the real
/// sender has given up (fail), otherwise it only waited (warn).
pub(crate) fn slow_level(gave_up: bool, slow_after: Duration) -> (Level, Duration) {
    if gave_up {
        (Level::Fail, R2_FAIL_AFTER)
    } else {
        (Level::Warn, slow_after)
    }
}
