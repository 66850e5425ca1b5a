//! The check catalogue: the one table of every check ID, its level, title and the
//! clause it comes from. Reports, `brhook checks`, JUnit and the README read it;
//! `../shared/spec/checks.md` is the human source it mirrors.

use serde::Serialize;
use std::fmt;

/// Verdict class of a check or finding (Autobahn-style: fail / non-strict / info).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Noted only; never fails a run.
    Info,
    /// Non-strict: a deviation that fails only under `--strict`.
    Warn,
    /// A conformance failure.
    Fail,
}

impl Level {
    /// The lowercase name: `info`, `warn` or `fail`.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Info => "info",
            Level::Warn => "warn",
            Level::Fail => "fail",
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which party a check judges: the sender (T, S, D, F, C) or the receiver (R).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    /// The webhook sender (the recorder).
    Sender,
    /// The webhook receiver (the uploader, the bot).
    Receiver,
}

impl Side {
    /// The lowercase name: `sender` or `receiver`.
    pub fn as_str(self) -> &'static str {
        match self {
            Side::Sender => "sender",
            Side::Receiver => "receiver",
        }
    }
}

/// Which part of brhook can exercise a check.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scope {
    /// Judged on every request (headers) or body.
    Request,
    /// Judged over the attempts of one event at one URL.
    Delivery,
    /// Judged across the URLs of one setting.
    FanOut,
    /// Judged over the whole captured stream.
    Stream,
    /// Judged on a receiver: by `brhook send`, and by `brhook proxy` from real traffic.
    Receiver,
}

/// One catalogue entry: a check's ID, level, title and the clause it comes from.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct CheckInfo {
    /// The check this entry describes.
    pub id: Check,
    /// The highest level this check reports (some checks also report lower levels,
    /// e.g. T2 is `fail` for a foreign media type but `warn` for a charset parameter).
    pub level: Level,
    /// One-line statement of what the check requires.
    pub title: &'static str,
    /// The clause it comes from (`doc:` the documentation, `facts:` the real sender).
    pub source: &'static str,
    /// Which part of brhook exercises it.
    pub scope: Scope,
    /// False while brhook cannot exercise the check yet; reports list it as
    /// `not-implemented` rather than hiding it.
    pub implemented: bool,
}

/// The table below generates both [`CHECKS`] and the [`Check`] enum, so a check ID that
/// is not in the catalogue does not compile.
macro_rules! checks {
    ($( $id:ident $level:ident $scope:ident $imp:literal $title:literal $source:literal ;)*) => {
        /// A check of the catalogue. Displays and parses as its ID (`"D2"`).
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Check {
            $(
                /// A check of the catalogue; see [`CHECKS`] for its title and level.
                $id,
            )*
        }

        /// Every check, in catalogue order.
        pub const CHECKS: &[CheckInfo] = &[
            $( CheckInfo { id: Check::$id, level: Level::$level, title: $title, source: $source, scope: Scope::$scope, implemented: $imp }, )*
        ];

        impl Check {
            /// Every check, in catalogue order.
            pub const ALL: &'static [Check] = &[ $( Check::$id, )* ];

            /// The ID as written in the catalogue.
            pub const fn id(self) -> &'static str {
                match self {
                    $( Check::$id => stringify!($id), )*
                }
            }
        }
    };
}

checks! {
    T1 Fail Request true  "method is POST" "doc: request format";
    T2 Fail Request true  "Content-Type media type is application/json (a parameter such as charset is warn)" "doc: request format; facts: exact header";
    T3 Fail Request true  "User-Agent is present and matches BililiveRecorder/<semver>" "doc: request format";
    T4 Fail Request true  "body is one UTF-8 JSON object: no BOM, no trailing data, valid UTF-8" "facts: one byte array";
    T5 Info Request true  "body framing: Content-Length present (chunked is noted)" "facts";
    S1 Fail Request true  "v2 envelope: EventType string, EventTimestamp date-time with offset, EventId GUID, EventData object" "doc: v2 body";
    S2 Fail Request true  "EventData matches the schema of its EventType" "doc: each event; facts: 2.x types";
    S3 Info Request true  "unknown EventType: only the envelope is checked" "doc: more types may be added";
    S4 Info Request true  "fields beyond the schema" "forward compatibility";
    S5 Fail Request true  "v1 record matches the v1 schema" "doc: v1";
    S6 Warn Request true  "value form differs from the real sender (GUID case, fraction digits, Z offset, \\u escapes, pretty-printing)" "facts: value formats";
    S7 Info Request true  "2.x booleans Recording/Streaming/DanmakuConnected absent (pre-2.0 sender)" "facts";
    D1 Fail Delivery true "at most 3 attempts" "doc: at most three tries";
    D2 Fail Delivery true "after a failed attempt, another attempt arrives before the capture closes" "doc: retry on non-2xx or error";
    D3 Fail Delivery true "every attempt carries byte-identical body, Content-Type and User-Agent" "doc: all data unchanged on retry";
    D4 Fail Delivery true "no attempt after one answered 2xx" "doc: 2xx is success";
    D5 Fail Delivery true "one EventId / EventRandomId never carries two different bodies" "doc: EventId is the de-duplication key";
    D6 Warn Delivery true "gaps between attempts measured (about 1 s, then 2 s); a gap under 100 ms is warn" "facts: retries";
    D7 Warn Delivery true "the sender waits at least 100 s for an answer before giving up (HttpClient's default)" "facts: retries";
    F1 Fail FanOut true "every event that reached one URL of the group reached every URL of it" "doc: sends to all URLs";
    F2 Fail FanOut true "the bytes are identical at every URL" "facts: one byte array";
    F3 Fail FanOut true "concurrent: while one URL holds its response, the event reaches the others" "doc: at the same time";
    F4 Fail FanOut true "isolated: faults at one URL cause no extra attempts at another" "facts: fan-out";
    C1 Fail Stream true "a SessionId has at most one SessionStarted and one SessionEnded" "doc: session lifecycle";
    C2 Warn Stream true "a session seen without its SessionStarted, or without SessionEnded at close (info)" "doc: session lifecycle";
    C3 Fail Stream true "every FileClosed pairs with a FileOpening (SessionId, RelativePath, FileOpenTime)" "doc: file events";
    C4 Fail Stream true "FileCloseTime >= FileOpenTime, FileSize >= 0, Duration >= 0" "doc: FileClosed";
    C5 Fail Stream true "RoomId and ShortId are the same across one SessionId" "facts: room fields";
    C6 Fail Stream true "each v1 record matches a v2 FileClosed; a FileClosed with no v1 record is warn" "facts: v1";
    C7 Warn Stream true "RelativePath is relative: not absolute, no drive letter, no .. segment" "doc: RelativePath";
    C8 Warn Stream true "StreamStarted has Streaming: true, StreamEnded has Streaming: false" "facts: stream events";
    R1 Fail Receiver true  "every valid event of the six known types, 1.3 and 2.x shape, is answered 2xx" "doc: answer 2xx";
    R2 Warn Receiver true  "answered within 5 s (over 100 s is fail)" "doc: answer as soon as possible";
    R3 Fail Receiver true  "an unknown EventType is answered 2xx" "doc: more types may be added";
    R4 Fail Receiver true  "fields beyond the documented ones are tolerated" "forward compatibility";
    R5 Fail Receiver true  "a retry (same bytes, same EventId) is answered 2xx" "doc: de-duplicate by EventId";
    R6 Fail Receiver true  "events out of order are answered 2xx" "doc: order not guaranteed";
    R7 Fail Receiver true  "StreamStarted/StreamEnded without SessionId are answered 2xx" "facts: 2.x types";
    R8 Fail Receiver true  "real value forms are accepted (7 fraction digits, any offset, big FileSize, raw UTF-8, any template's path)" "facts: value formats";
    R9 Fail Receiver true  "v1 records are answered 2xx" "doc: v1";
    R10 Warn Receiver true "no head-of-line blocking: an event sent while another's answer is held is still answered within --slow-after" "doc: answer as soon as possible; facts: concurrent delivery";
    R11 Fail Receiver true "the receiver stays up: it accepts connections during the run and still does after the settle window (--settle) at its end" "doc: answer 2xx; a receiver that dies loses every later event";
    R12 Warn Receiver true "a retried or repeated event is not processed again: with --workdir, a delivery of an event already answered 2xx makes the receiver open its file again (inotify; Linux only)" "doc: de-duplicate by EventId";
}

impl Check {
    /// The catalogue entry of this check.
    pub fn info(self) -> &'static CheckInfo {
        &CHECKS[self as usize]
    }
    /// The catalogue level (the highest this check reports).
    pub fn level(self) -> Level {
        self.info().level
    }
    /// The catalogue title.
    pub fn title(self) -> &'static str {
        self.info().title
    }
    /// Which part of brhook exercises this check.
    pub fn scope(self) -> Scope {
        self.info().scope
    }
    /// The party the check judges: R checks the receiver, the others the sender.
    pub fn side(self) -> Side {
        if self.family() == 'R' {
            Side::Receiver
        } else {
            Side::Sender
        }
    }
    /// The family letter: T, S, D, F, C or R.
    pub fn family(self) -> char {
        self.id().as_bytes()[0] as char
    }
}

impl fmt::Display for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

impl std::str::FromStr for Check {
    type Err = String;
    fn from_str(s: &str) -> Result<Check, String> {
        let want = s.trim();
        Check::ALL
            .iter()
            .copied()
            .find(|c| c.id().eq_ignore_ascii_case(want))
            .ok_or_else(|| format!("{want:?} is not a check ID (see `brhook checks`)"))
    }
}

impl PartialEq<&str> for Check {
    fn eq(&self, other: &&str) -> bool {
        self.id() == *other
    }
}

impl PartialEq<Check> for &str {
    fn eq(&self, other: &Check) -> bool {
        *self == other.id()
    }
}

impl Serialize for Check {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.id())
    }
}

impl<'de> serde::Deserialize<'de> for Check {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Check, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// The checks of one scope, in catalogue order.
pub fn of_scope(scope: Scope) -> impl Iterator<Item = &'static CheckInfo> {
    CHECKS.iter().filter(move |c| c.scope == scope)
}

/// The catalogue as a Markdown table: `brhook checks --format markdown`, and the README's copy
/// (a test keeps the two equal).
pub fn markdown() -> String {
    let mut out =
        String::from("| ID | level | check | source | status |\n|----|-------|-------|--------|--------|\n");
    for c in CHECKS {
        let status = if c.implemented {
            "implemented"
        } else {
            "not implemented yet"
        };
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} |\n",
            c.id,
            c.level,
            c.title.replace('|', "\\|"),
            c.source,
            status
        ));
    }
    out
}
