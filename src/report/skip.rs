//! A check's outcome in a report, and why a check could not run: typed, so reports,
//! JUnit and `brhook checks` say the same thing.

use serde::{Serialize, Serializer};
use std::fmt;
/// The outcome of one check in a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// It ran and found no warn or fail.
    Passed,
    /// A fail finding, or a warn one under `--strict`.
    Failed,
    /// A warn finding, without `--strict`.
    Warned,
    /// It could not run; the reason says why.
    Skipped,
    /// brhook cannot exercise it yet.
    NotImplemented,
}

impl Status {
    /// The kebab-case name, as in the JSON report.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Passed => "passed",
            Status::Failed => "failed",
            Status::Warned => "warned",
            Status::Skipped => "skipped",
            Status::NotImplemented => "not-implemented",
        }
    }
}

/// Why a check could not run. Each reason names what was missing and what to change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Skip {
    /// No request reached a configured URL.
    NoRequest,
    /// No body was judged.
    NoBody,
    /// No event was captured.
    NoEvent,
    /// No v2 event among the bodies.
    NoV2,
    /// No v2 event of a known type among the bodies.
    NoKnownV2,
    /// No v1 record among the bodies.
    NoV1,
    /// `validate` judges bodies without their requests.
    HeadersNotInFiles,
    /// No attempt failed (a URL with a failing fault is needed).
    NoFailedAttempt,
    /// No attempt was answered 2xx.
    NoSuccess,
    /// No retry was observed, so no back-off could be measured.
    NoRetry,
    /// The failing URLs (`name=fault`) were reached but no attempt there was retried
    /// (the sender gave up: D2 says so), so no back-off could be measured.
    NotRetried(String),
    /// No event failed three times at one URL: the sender never had to stop (D1).
    NoThirdFailure,
    /// No SessionStarted or SessionEnded with a SessionId was captured (C1).
    NoSessionBoundary,
    /// No session had two events to compare (C5).
    NoSessionPair,
    /// No v2 event of an unknown EventType arrived (S3 has nothing to judge).
    NoUnknownType,
    /// Every event reached the delay URLs (`name=fault`) last, after the other URLs of
    /// their setting: a sequential sender would look the same, so F3 was not shown.
    DelayUrlLast(String),
    /// No answer was held longer than the sender's patience (100 s, scaled).
    NoLongHold,
    /// Only one URL per setting received traffic.
    OneUrlPerSetting,
    /// No URL with `delay:MS` beside another URL in the same setting.
    NoDelayUrl,
    /// No URL with a failing fault beside another URL.
    NoFailingUrl,
    /// No event with a SessionId was captured.
    NoSession,
    /// No FileOpening or FileClosed was captured.
    NoFileEvent,
    /// No FileClosed was captured.
    NoFileClosed,
    /// No RelativePath was captured.
    NoRelativePath,
    /// The capture lacks v1 records or v2 FileClosed events.
    NoV1AndFileClosed,
    /// No StreamStarted or StreamEnded was captured.
    NoStreamEvent,
    /// `send`: only the probe scenario sends these cases.
    OnlyProbe,
    /// `send`: no v1 URL was given.
    NoV1Url,
    /// `send`: no answer was received to judge.
    NoAnswer,
    /// `send probe`: every body of the check's cases that failed, failed as the same
    /// event type and shape did in the baseline (R1), so the check's own variation was
    /// never judged; R1's finding lists the cases.
    FailedInBaseline,
    /// `send`: every body of the check's cases that exercises it was refused for a
    /// cause another check's finding names (R8's value form, R7's missing SessionId).
    RefusedFor(crate::catalog::Check),
    /// `send`: every body of the check's cases that exercises it was sent while the
    /// receiver was down (R11's finding).
    ReceiverDown,
    /// `send`: the journal has no final reconnect line (written before R11 existed).
    NoReconnect,
    /// `replay`, `proxy`: only `brhook send` looks whether the receiver stays up.
    OnlySend,
    /// `send probe`: no event's answer was held longer than `--slow-after`, so no
    /// event was sent while another was held (R10).
    NothingHeld,
    /// `send probe`: the event sent beside the held one is as slow when sent alone, so
    /// the wait is not the held one's doing (R2 reports the slowness).
    SlowAlone,
    /// R12: no `--workdir`, so no file was written and none watched.
    NoWorkdir,
    /// R12: file opens are watched with inotify, on Linux only.
    NotWatched,
    /// R12: no event naming a file was delivered again after a 2xx answer.
    NoRepeat,
    /// R12: the receiver opened none of the files whose events were delivered once, so
    /// there is nothing to compare a repeated delivery's opens with.
    NoneOpened,
    /// The URLs (`name=fault`) that would have exercised the check received no request.
    Unreached(String),
    /// `proxy`: no request of this kind was forwarded to a receiver and answered.
    NoneForwarded(Forwarded),
    /// `replay`: brhook sent no request of this kind (the capture had none).
    NoneReplayed(Forwarded),
    /// The command does not exercise this check at all.
    NotExercised,
    /// brhook cannot exercise this check yet.
    NotImplemented,
}

impl fmt::Display for Skip {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Skip::Unreached(urls) => {
                return write!(
                    f,
                    "not exercised: {urls} received no request (is it in the sender's settings?)"
                )
            }
            Skip::NotRetried(urls) => {
                return write!(
                    f,
                    "no retry was observed: {urls} failed attempts but got no retry (the sender gave up, see D2), so no back-off could be measured"
                )
            }
            Skip::DelayUrlLast(urls) => {
                return write!(
                    f,
                    "not exercised: every event reached {urls} last, so concurrency could not be told from URLs one after another; put a delay URL first in the sender's list of URLs, or add a second delay URL (e.g. --url slow2=delay:500)"
                )
            }
            Skip::NoneForwarded(what) => {
                return write!(f, "the forwarded traffic had no {}", what.as_str())
            }
            Skip::NoneReplayed(what) => {
                return write!(f, "brhook sent no {}: the capture had none", what.as_str())
            }
            Skip::NoRequest => "no request reached a configured URL",
            Skip::NoBody => "no body was judged",
            Skip::NoEvent => "no event was captured",
            Skip::NoV2 => "no v2 event among the bodies",
            Skip::NoKnownV2 => "no v2 event of a known type among the bodies",
            Skip::NoV1 => "no v1 record among the bodies",
            Skip::NoThirdFailure => {
                "no event failed 3 times at one URL, so the sender never had to stop: add a URL that fails every attempt (fail:3 or status:500)"
            }
            Skip::NoSessionBoundary => "no SessionStarted or SessionEnded with a SessionId was captured",
            Skip::NoSessionPair => "no session had two events to compare",
            Skip::NoUnknownType => "no v2 event of an unknown EventType arrived (nothing to check)",
            Skip::HeadersNotInFiles => "headers are judged on live requests (listen, check), not on files",
            Skip::NoFailedAttempt => {
                "no attempt failed: add a URL with a failing fault (fail:N, reset:N or status:CODE)"
            }
            Skip::NoSuccess => "no attempt was answered 2xx",
            Skip::NoRetry => "no retry was observed: add a URL with fail:N to measure back-off",
            Skip::NoLongHold => {
                "no answer was held longer than the sender's patience: add a URL with delay:MS over 100 s (scaled with the back-off) to measure it"
            }
            Skip::OneUrlPerSetting => "only one URL per setting received traffic: configure two or more URLs",
            Skip::NoDelayUrl => "needs a URL with delay:MS and one other URL in the same setting",
            Skip::NoFailingUrl => {
                "needs a URL with a failing fault (fail:N, reset:N, status:CODE) and one other URL"
            }
            Skip::NoSession => "no event with a SessionId was captured",
            Skip::NoFileEvent => "no FileOpening or FileClosed was captured",
            Skip::NoFileClosed => "no FileClosed was captured",
            Skip::NoRelativePath => "no RelativePath was captured",
            Skip::NoV1AndFileClosed => "needs both v1 records and v2 FileClosed events in one capture",
            Skip::NoStreamEvent => "no StreamStarted or StreamEnded was captured",
            Skip::OnlyProbe => "only `brhook send probe` (Scenario::Probe) sends these cases",
            Skip::NoV1Url => "no v1 URL given (--v1-to URL): v1 records were not sent",
            Skip::NoAnswer => "no answer was received to judge",
            Skip::FailedInBaseline => {
                "every failure of its cases was the baseline's failure of the same type and shape (see R1, which lists the cases)"
            }
            Skip::RefusedFor(c) => {
                return write!(
                    f,
                    "every body of its cases that exercises it was refused for the cause {c} names (see {c})"
                )
            }
            Skip::ReceiverDown => {
                "every body of its cases that exercises it was sent while the receiver was down (see R11)"
            }
            Skip::NoReconnect => "the journal has no final reconnect (written by a brhook without R11)",
            Skip::OnlySend => "only `brhook send` watches whether the receiver stays up",
            Skip::NothingHeld => {
                "no event's answer was held longer than --slow-after, so nothing was sent while one was held"
            }
            Skip::SlowAlone => {
                "the event sent beside the held one is as slow when sent alone: that is R2's finding, not head-of-line blocking"
            }
            Skip::NoWorkdir => {
                "needs --workdir DIR: brhook then writes the files the events name and watches who opens them"
            }
            Skip::NotWatched => "file opens are watched with inotify, on Linux only",
            Skip::NoRepeat => {
                "no event naming a file was delivered again after the receiver answered it 2xx (`send probe` sends one: its R5 case)"
            }
            Skip::NoneOpened => {
                "the receiver opened none of the files whose events were delivered once: nothing to compare a repeated delivery's opens with"
            }
            Skip::NotExercised => "not exercised by this command",
            Skip::NotImplemented => "not implemented yet",
        })
    }
}

/// What a proxy's receiver-side check needs forwarded ([`Skip::NoneForwarded`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Forwarded {
    /// A valid event of a known type (R1).
    KnownEvent,
    /// Any request (R2).
    Request,
    /// A valid event of an unknown EventType (R3).
    UnknownType,
    /// A retry of an event the receiver had answered 2xx (R5).
    RetryAfterSuccess,
    /// An event ahead of one it follows: a FileClosed before its FileOpening, a
    /// session's event before its SessionStarted (R6).
    OutOfOrder,
    /// A StreamStarted or StreamEnded without SessionId (R7).
    StreamWithoutSession,
    /// A valid event with raw non-ASCII text (R8).
    RawText,
    /// A valid v1 record (R9).
    V1Record,
    /// A request arriving while another's answer was held past --slow-after (R10).
    WhileHeld,
}

impl Forwarded {
    /// What it is, in a sentence.
    pub fn as_str(self) -> &'static str {
        match self {
            Forwarded::KnownEvent => "valid event of a known type",
            Forwarded::Request => "request (nothing reached a receiver)",
            Forwarded::UnknownType => "valid event of an unknown EventType (the recorder sent none)",
            Forwarded::RetryAfterSuccess => "retry of an event the receiver had already answered 2xx",
            Forwarded::OutOfOrder => "event out of order (a FileClosed before its FileOpening, an event before its session's SessionStarted)",
            Forwarded::StreamWithoutSession => "StreamStarted or StreamEnded without SessionId",
            Forwarded::RawText => "valid event with raw non-ASCII text",
            Forwarded::V1Record => "valid v1 record",
            Forwarded::WhileHeld => "request arriving while another's answer was held past --slow-after",
        }
    }
}

impl Serialize for Skip {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}
