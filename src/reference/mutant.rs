//! Mutants: deliberately broken senders, one per check a sender can break.
//!
//! Each variant names the check it must trip and the endpoint setup it needs (the URL
//! faults of `checks.md`: `ok`, `status:CODE`, `fail:N[:CODE]`, `reset:N`, `delay:MS`).
//! Where a mutant applies:
//! - scenario mutants ([`Mutant::is_scenario`]) change what is sent; they apply in
//!   [`super::scenario::realistic_scenario`];
//! - wire mutants change the request bytes or headers; they apply in the sender's
//!   request building;
//! - delivery mutants change retries and fan-out; they apply in the sender's loops.
//!
//! A mutant may trip more checks than the one it names (e.g. `RetryEverywhere` retries a
//! URL that already answered 2xx, which D4 also sees); [`Mutant::check`] is the one it is
//! built to trip.

use crate::catalog::Check;
use std::fmt;

/// A deliberately broken sender, built to trip one check.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Mutant {
    /// D2: gives up after the first failed attempt. Needs a `fail:N` (or `status:500`) URL.
    NoRetry,
    /// D1: up to 4 attempts per URL. Needs a `status:500` URL (or `fail:N` with N >= 3).
    FourthAttempt,
    /// D3: re-serialises the event with a new `EventTimestamp` on each retry (v2 events;
    /// v1 records are unaffected). Needs a `fail:N` or `status:500` URL.
    ChangeBodyOnRetry,
    /// D4: one extra attempt (same bytes) after a 2xx answer. Any URL that answers 2xx.
    RetryAfterSuccess,
    /// D5: the second event of a type (the second `FileOpening`, second `FileClosed`)
    /// reuses the first one's `EventId` with different `EventData`. Any URL.
    ReuseEventId,
    /// F1: skips the last URL for every other event (events 1, 3, 5, ... of the sender).
    /// Needs at least 2 URLs in the setting.
    SkipUrl,
    /// F2: the second URL gets the event with its keys in a different (reversed) order,
    /// still compact. Needs at least 2 URLs.
    BytesDifferPerUrl,
    /// F3: posts to the URLs one after another, awaiting each URL's whole delivery before
    /// the next. Needs at least 2 URLs, the first with a `delay:MS` fault.
    Sequential,
    /// F4: when any URL of an event fails, every URL of the event is attempted again.
    /// Needs at least 2 URLs, one `ok` and one `fail:N` (or `status:500`).
    RetryEverywhere,
    /// T2 (warn): `Content-Type: application/json; charset=utf-8`. Any URL.
    Charset,
    /// T3: no `User-Agent` header. Any URL.
    NoUserAgent,
    /// T3: `User-Agent: Mozilla/5.0`. Any URL.
    ForeignUserAgent,
    /// T1: `PUT` instead of `POST`. Any URL.
    WrongMethod,
    /// S2: `RoomId` written as a string (`"23058"`) in every v2 event. Any URL.
    StringRoomId,
    /// C1: a second, distinct `SessionStarted` for the same `SessionId`. Any URL.
    SecondSessionStarted,
    /// C2 (warn): the session's `SessionStarted` is never sent; `StreamStarted` is still
    /// sent first, so the capture did not begin mid-session. Any URL.
    SessionWithoutStart,
    /// C3: the second file's `FileOpening` is never sent, its `FileClosed` is. Any URL.
    FileClosedWithoutOpening,
    /// C4: the second file's `FileClosed` has a negative `Duration`. Any URL.
    NegativeDuration,
    /// C5: `RoomId` differs (+1) in the `FileClosed` events (and their v1 records, built
    /// from the same data). Any URL.
    RoomIdChanges,
    /// C6: each v1 record's `FileSize` differs (+1) from its v2 `FileClosed`. Needs both a
    /// v2 and a v1 URL.
    V1Disagrees,
    /// C7 (warn): `RelativePath` is absolute (`/rec/...`) in every file event and v1
    /// record. Any URL.
    AbsolutePath,
    /// C8 (warn): `StreamStarted` has `Streaming: false` (the 2.x booleans are written
    /// even when the scenario was built without them). Any URL.
    StreamFlagsWrong,
    /// D6 (warn): retries at once, with no wait. Needs a `fail:N` or `status:500` URL.
    NoBackoff,
}

impl Mutant {
    /// Every mutant, in declaration order.
    pub const ALL: [Mutant; 23] = [
        Mutant::NoRetry,
        Mutant::FourthAttempt,
        Mutant::ChangeBodyOnRetry,
        Mutant::RetryAfterSuccess,
        Mutant::ReuseEventId,
        Mutant::SkipUrl,
        Mutant::BytesDifferPerUrl,
        Mutant::Sequential,
        Mutant::RetryEverywhere,
        Mutant::Charset,
        Mutant::NoUserAgent,
        Mutant::ForeignUserAgent,
        Mutant::WrongMethod,
        Mutant::StringRoomId,
        Mutant::SecondSessionStarted,
        Mutant::SessionWithoutStart,
        Mutant::FileClosedWithoutOpening,
        Mutant::NegativeDuration,
        Mutant::RoomIdChanges,
        Mutant::V1Disagrees,
        Mutant::AbsolutePath,
        Mutant::StreamFlagsWrong,
        Mutant::NoBackoff,
    ];

    /// Kebab-case name, e.g. `no-retry`.
    pub fn name(self) -> &'static str {
        match self {
            Mutant::NoRetry => "no-retry",
            Mutant::FourthAttempt => "fourth-attempt",
            Mutant::ChangeBodyOnRetry => "change-body-on-retry",
            Mutant::RetryAfterSuccess => "retry-after-success",
            Mutant::ReuseEventId => "reuse-event-id",
            Mutant::SkipUrl => "skip-url",
            Mutant::BytesDifferPerUrl => "bytes-differ-per-url",
            Mutant::Sequential => "sequential",
            Mutant::RetryEverywhere => "retry-everywhere",
            Mutant::Charset => "charset",
            Mutant::NoUserAgent => "no-user-agent",
            Mutant::ForeignUserAgent => "foreign-user-agent",
            Mutant::WrongMethod => "wrong-method",
            Mutant::StringRoomId => "string-room-id",
            Mutant::SecondSessionStarted => "second-session-started",
            Mutant::SessionWithoutStart => "session-without-start",
            Mutant::FileClosedWithoutOpening => "file-closed-without-opening",
            Mutant::NegativeDuration => "negative-duration",
            Mutant::RoomIdChanges => "room-id-changes",
            Mutant::V1Disagrees => "v1-disagrees",
            Mutant::AbsolutePath => "absolute-path",
            Mutant::StreamFlagsWrong => "stream-flags-wrong",
            Mutant::NoBackoff => "no-backoff",
        }
    }

    /// The mutant of this kebab-case name ([`Mutant::name`]); `None` for an unknown one.
    pub fn from_name(name: &str) -> Option<Mutant> {
        Mutant::ALL.into_iter().find(|m| m.name() == name)
    }

    /// The level at which the mutant trips its check: the catalogue's, except where
    /// the check reports a lower level for this deviation (a charset parameter).
    pub fn level(self) -> crate::catalog::Level {
        match self {
            Mutant::Charset => crate::catalog::Level::Warn,
            _ => self.check().level(),
        }
    }

    /// The check ID this mutant is built to trip.
    pub fn check(self) -> Check {
        match self {
            Mutant::NoRetry => Check::D2,
            Mutant::FourthAttempt => Check::D1,
            Mutant::ChangeBodyOnRetry => Check::D3,
            Mutant::RetryAfterSuccess => Check::D4,
            Mutant::ReuseEventId => Check::D5,
            Mutant::NoBackoff => Check::D6,
            Mutant::SkipUrl => Check::F1,
            Mutant::BytesDifferPerUrl => Check::F2,
            Mutant::Sequential => Check::F3,
            Mutant::RetryEverywhere => Check::F4,
            Mutant::WrongMethod => Check::T1,
            Mutant::Charset => Check::T2,
            Mutant::NoUserAgent | Mutant::ForeignUserAgent => Check::T3,
            Mutant::StringRoomId => Check::S2,
            Mutant::SecondSessionStarted => Check::C1,
            Mutant::SessionWithoutStart => Check::C2,
            Mutant::FileClosedWithoutOpening => Check::C3,
            Mutant::NegativeDuration => Check::C4,
            Mutant::RoomIdChanges => Check::C5,
            Mutant::V1Disagrees => Check::C6,
            Mutant::AbsolutePath => Check::C7,
            Mutant::StreamFlagsWrong => Check::C8,
        }
    }

    /// One line: what the mutant does wrong.
    pub fn description(self) -> &'static str {
        match self {
            Mutant::NoRetry => "gives up after the first failed attempt",
            Mutant::FourthAttempt => "makes up to 4 attempts per URL instead of 3",
            Mutant::ChangeBodyOnRetry => "re-serialises the event with a new EventTimestamp on each retry",
            Mutant::RetryAfterSuccess => "sends one more attempt after a 2xx answer",
            Mutant::ReuseEventId => "reuses an earlier EventId for a different event of the same type",
            Mutant::SkipUrl => "skips the last URL for every other event",
            Mutant::BytesDifferPerUrl => "sends the second URL the keys in a different order",
            Mutant::Sequential => "posts to the URLs one after another instead of at the same time",
            Mutant::RetryEverywhere => "retries every URL of an event when any one of them fails",
            Mutant::Charset => "sends Content-Type: application/json; charset=utf-8",
            Mutant::NoUserAgent => "sends no User-Agent header",
            Mutant::ForeignUserAgent => "sends User-Agent: Mozilla/5.0",
            Mutant::WrongMethod => "uses PUT instead of POST",
            Mutant::StringRoomId => "writes RoomId as a JSON string",
            Mutant::SecondSessionStarted => "sends a second SessionStarted for the same SessionId",
            Mutant::SessionWithoutStart => "never sends the session's SessionStarted",
            Mutant::FileClosedWithoutOpening => "sends a FileClosed whose FileOpening was never sent",
            Mutant::NegativeDuration => "sends a FileClosed with a negative Duration",
            Mutant::RoomIdChanges => "changes RoomId within a session (in FileClosed)",
            Mutant::V1Disagrees => "sends v1 records whose FileSize differs from the v2 FileClosed",
            Mutant::AbsolutePath => "writes RelativePath as an absolute path",
            Mutant::StreamFlagsWrong => "sends StreamStarted with Streaming: false",
            Mutant::NoBackoff => "retries at once, without the 1 s / 2 s back-off",
        }
    }

    /// The endpoint setup the mutant needs to show (URL count and faults).
    pub fn needs(self) -> &'static str {
        match self {
            Mutant::NoRetry | Mutant::ChangeBodyOnRetry | Mutant::NoBackoff => {
                "a v2 URL with a fail:N (or status:500) fault"
            }
            Mutant::FourthAttempt => "a v2 URL with a status:500 fault",
            Mutant::SkipUrl | Mutant::BytesDifferPerUrl => "at least 2 v2 URLs",
            Mutant::Sequential => "at least 2 v2 URLs, the first with a delay:MS fault",
            Mutant::RetryEverywhere => "at least 2 v2 URLs, one ok and one with a fail:N fault",
            Mutant::V1Disagrees => "a v2 URL and a v1 URL",
            _ => "any v2 URL",
        }
    }

    /// True when the mutant changes what is sent (applied by the scenario builder), false
    /// when it changes how it is sent (applied by the [`super::Sender`]).
    pub fn is_scenario(self) -> bool {
        matches!(
            self,
            Mutant::ReuseEventId
                | Mutant::StringRoomId
                | Mutant::SecondSessionStarted
                | Mutant::SessionWithoutStart
                | Mutant::FileClosedWithoutOpening
                | Mutant::NegativeDuration
                | Mutant::RoomIdChanges
                | Mutant::V1Disagrees
                | Mutant::AbsolutePath
                | Mutant::StreamFlagsWrong
        )
    }
}

impl fmt::Display for Mutant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
