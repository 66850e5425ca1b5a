//! The protocol's words, defined once: the event kinds, the sender's two URL settings,
//! and the real sender's delivery limits (`sender-facts.md`). Everything above this
//! module (schemas, generators, the reference sender, the judges, receiver mode) names
//! these; nothing here knows about anything else in the crate.

use serde::{Deserialize, Serialize};
use std::time::Duration;

/// The six v2 event types the real sender sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EventKind {
    /// A recording session began.
    SessionStarted,
    /// A file was opened for writing.
    FileOpening,
    /// A file was finished.
    FileClosed,
    /// A recording session ended.
    SessionEnded,
    /// The room went live.
    StreamStarted,
    /// The room went offline.
    StreamEnded,
}

impl EventKind {
    /// Every kind, in declaration order.
    pub const ALL: [EventKind; 6] = [
        EventKind::SessionStarted,
        EventKind::FileOpening,
        EventKind::FileClosed,
        EventKind::SessionEnded,
        EventKind::StreamStarted,
        EventKind::StreamEnded,
    ];

    /// The `EventType` string.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::SessionStarted => "SessionStarted",
            EventKind::FileOpening => "FileOpening",
            EventKind::FileClosed => "FileClosed",
            EventKind::SessionEnded => "SessionEnded",
            EventKind::StreamStarted => "StreamStarted",
            EventKind::StreamEnded => "StreamEnded",
        }
    }

    /// The kind of this `EventType` string; `None` for an unknown type.
    pub fn parse(event_type: &str) -> Option<EventKind> {
        EventKind::ALL.into_iter().find(|k| k.as_str() == event_type)
    }

    /// Whether `EventData` carries a `SessionId` (all but the 2.x stream events).
    pub fn has_session(self) -> bool {
        !matches!(self, EventKind::StreamStarted | EventKind::StreamEnded)
    }
}

/// The sender's two URL settings: every event goes to every URL of its setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Setting {
    /// `WebHookUrlsV2`: v2 events.
    V2,
    /// `WebHookUrls`: v1 records.
    V1,
}

/// The real sender's attempts per URL.
pub const MAX_ATTEMPTS: usize = 3;

/// The real sender's wait before each attempt (`sender-facts.md`: 0 s, 1 s, 2 s).
pub const BACKOFF: [Duration; MAX_ATTEMPTS] =
    [Duration::ZERO, Duration::from_secs(1), Duration::from_secs(2)];

/// The shortest gap between two attempts that still counts as a back-off (D6), at the
/// real back-off; it scales with it.
pub const MIN_RETRY_GAP: Duration = Duration::from_millis(100);

/// The real sender's `User-Agent` (its GitVersion FullSemVer).
pub const USER_AGENT: &str = "BililiveRecorder/2.17.3";

/// The real sender's `Content-Type`.
pub const CONTENT_TYPE_JSON: &str = "application/json";

/// The .NET `HttpClient` default timeout: per attempt, connect to the whole answer. A
/// receiver slower than this has lost the event (R2 `fail`).
pub const TIMEOUT: Duration = Duration::from_secs(100);

/// R2: an answer slower than this is `warn` (a receiver that works inline).
pub const SLOW_AFTER: Duration = Duration::from_secs(5);
