//! What the judge keeps per request: a fixed-size [`Rec`], about 100 bytes, whatever
//! the body. Bodies are judged once per distinct bytes ([`Judged`], held in a bounded
//! cache) and reduced to hashes and the few keys the cross-request checks compare.

use crate::body::{self, Body, Kind};
use crate::finding::Finding;
use crate::protocol::EventKind;
use serde_json::Value;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

/// An identity string (EventId, EventRandomId, SessionId, `body:<hash>`) in 17 bytes
/// when it is a GUID or a body hash, as the real sender's always are; other strings
/// are interned (a mutant's capture has few of them).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub(crate) struct Key {
    // Two u64s, not a u128: 8-byte alignment keeps a record small.
    bits: [u64; 2],
    form: Form,
}

fn split(b: u128) -> [u64; 2] {
    [(b >> 64) as u64, b as u64]
}

fn join(b: [u64; 2]) -> u128 {
    (u128::from(b[0]) << 64) | u128::from(b[1])
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
enum Form {
    #[default]
    None,
    LowerGuid,
    UpperGuid,
    BodyHash,
    Interned,
}

/// Strings that are neither GUIDs nor body hashes, by index.
#[derive(Default)]
pub(crate) struct Interner {
    index: HashMap<Arc<str>, u32>,
    strings: Vec<Arc<str>>,
}

impl Interner {
    pub fn key(&mut self, s: &str) -> Key {
        if let Some(k) = guid(s) {
            return k;
        }
        // Exactly 16 lowercase hex digits, as brhook writes them (round-trips).
        let hex = |h: &&str| h.len() == 16 && h.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        if let Some(h) = s.strip_prefix("body:").filter(hex) {
            if let Ok(v) = u64::from_str_radix(h, 16) {
                return Key {
                    bits: [0, v],
                    form: Form::BodyHash,
                };
            }
        }
        // Looked up by `&str` first: a string seen before allocates nothing.
        let i = match self.index.get(s) {
            Some(&i) => i,
            None => {
                let i = self.strings.len() as u32;
                let shared: Arc<str> = Arc::from(s);
                self.index.insert(Arc::clone(&shared), i);
                self.strings.push(shared);
                i
            }
        };
        Key {
            bits: [0, u64::from(i)],
            form: Form::Interned,
        }
    }

    /// The string a key stands for.
    pub fn text(&self, k: Key) -> String {
        let hex = |b: u128| format!("{b:032x}");
        match k.form {
            Form::None => String::new(),
            Form::LowerGuid | Form::UpperGuid => {
                let h = hex(join(k.bits));
                let s = format!(
                    "{}-{}-{}-{}-{}",
                    &h[..8],
                    &h[8..12],
                    &h[12..16],
                    &h[16..20],
                    &h[20..]
                );
                if k.form == Form::UpperGuid {
                    s.to_uppercase()
                } else {
                    s
                }
            }
            Form::BodyHash => format!("body:{:016x}", k.bits[1]),
            Form::Interned => self.strings[k.bits[1] as usize].to_string(),
        }
    }
}

/// A hyphenated GUID in one case, as 128 bits; mixed case is not a GUID here.
fn guid(s: &str) -> Option<Key> {
    let b = s.as_bytes();
    if b.len() != 36 || [8, 13, 18, 23].iter().any(|&i| b[i] != b'-') {
        return None;
    }
    // Read in place: this runs for every request's id.
    let (mut bits, mut lower, mut upper) = (0u128, false, false);
    for (i, &c) in b.iter().enumerate() {
        if matches!(i, 8 | 13 | 18 | 23) {
            continue;
        }
        let d = match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => {
                lower = true;
                c - b'a' + 10
            }
            b'A'..=b'F' => {
                upper = true;
                c - b'A' + 10
            }
            _ => return None,
        };
        bits = (bits << 4) | u128::from(d);
    }
    let form = match (lower, upper) {
        (true, true) => return None,
        (false, true) => Form::UpperGuid,
        _ => Form::LowerGuid,
    };
    Some(Key {
        bits: split(bits),
        form,
    })
}

/// A body's `EventType` as the judges keep it: one byte per record.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Ty {
    /// A type brhook has a schema for.
    Known(EventKind),
    /// A string naming another type (C7's unknown types, R3).
    Unknown,
    /// No `EventType` string (a v1 record, or not a webhook body).
    None,
}

impl Ty {
    pub(crate) fn of(t: Option<&str>) -> Ty {
        match t {
            None => Ty::None,
            Some(t) => EventKind::parse(t).map_or(Ty::Unknown, Ty::Known),
        }
    }
    /// The known type's name.
    pub(crate) fn name(self) -> Option<&'static str> {
        match self {
            Ty::Known(k) => Some(k.as_str()),
            _ => None,
        }
    }
    pub(crate) fn is(self, k: EventKind) -> bool {
        self == Ty::Known(k)
    }
    pub(crate) fn known(self) -> bool {
        matches!(self, Ty::Known(_))
    }
    fn byte(self) -> u8 {
        match self {
            Ty::Known(k) => EventKind::ALL.iter().position(|x| *x == k).unwrap_or(0) as u8,
            Ty::Unknown => 254,
            Ty::None => 255,
        }
    }
    fn from_byte(b: u8) -> Ty {
        match b {
            254 => Ty::Unknown,
            255 => Ty::None,
            i => EventKind::ALL
                .get(usize::from(i))
                .map_or(Ty::Unknown, |k| Ty::Known(*k)),
        }
    }
}

/// One request, as the judges need it after its body is gone.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Rec {
    pub id: Key,
    pub session: Key,
    /// Content identity: type and data (v2) or the record (v1), key order ignored.
    pub class: u64,
    /// Same file: SessionId, RelativePath, FileOpenTime (FileOpening, FileClosed).
    pub file: u64,
    /// What a v1 record shares with its FileClosed (C6).
    pub v1_pair: u64,
    pub at: f64,
    /// When the answer was released (milliseconds since capture start, as `at`: the
    /// checks compare the two exactly).
    pub answered: f64,
    /// When the sender closed the connection while the answer was held (it never read
    /// the answer); negative when it did not.
    pub gave_up: f64,
    pub seq: u32,
    /// Hashes of the body bytes, and of the Content-Type and User-Agent values.
    pub body: u32,
    pub content_type: u32,
    pub user_agent: u32,
    /// Hash of RoomId and ShortId (C5).
    pub room: u32,
    /// Hash of RelativePath (C6 shows the FileClosed of the same path).
    pub path: u32,
    /// Hash of FileOpenTime as written (C3 shows it).
    pub opened: u32,
    pub url: u16,
    /// Answer status, 0 for a reset.
    pub status: u16,
    pub kind: Kind,
    pub ty: Ty,
    /// Body length in bytes (F2 shows it).
    pub len: u32,
    /// Proxy: how long the receiver took, from forwarding to its answer (or failure),
    /// in milliseconds; the leg began as the request arrived (`at`), give or take the
    /// body's read. Meaningless unless `leg` says it was forwarded.
    pub took: f32,
    /// Proxy: the receiver's status, 0 when it gave none.
    pub up_status: u16,
    /// Proxy: what became of the forwarded leg ([`Leg`]).
    pub leg: Leg,
    /// [`VALID`], [`RAW_TEXT`].
    pub flags: u8,
}

/// The body and its headers had no `fail` finding (a receiver must accept it).
pub(crate) const VALID: u8 = 1;
/// The body carries raw (unescaped) non-ASCII text, as the real sender writes it (R8).
pub(crate) const RAW_TEXT: u8 = 2;

/// What became of a request's forwarded leg (proxy journals only).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub(crate) enum Leg {
    /// Not forwarded: not a proxy, or brhook answered it (a fault, 404, 413).
    #[default]
    None,
    /// The receiver answered (`up_status`).
    Answered,
    /// The receiver could not be reached, or the connection failed: relayed 502.
    Failed,
    /// No answer within the upstream timeout: relayed 504.
    TimedOut,
}

impl Leg {
    pub(crate) fn byte(self) -> u8 {
        match self {
            Leg::None => 0,
            Leg::Answered => 1,
            Leg::Failed => 2,
            Leg::TimedOut => 3,
        }
    }
    fn of(b: u8) -> Leg {
        match b {
            1 => Leg::Answered,
            2 => Leg::Failed,
            3 => Leg::TimedOut,
            _ => Leg::None,
        }
    }
}

/// A record's size on disk (a spilled judge writes them to a file).
pub(crate) const REC_BYTES: usize = 2 * 17 + 6 * 8 + 8 * 4 + 2 * 2 + 2 + 4 + 2 + 2;

impl Key {
    fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.bits[0].to_le_bytes());
        out.extend_from_slice(&self.bits[1].to_le_bytes());
        out.push(self.form as u8);
    }
    fn read(b: &[u8]) -> Key {
        let form = match b[16] {
            1 => Form::LowerGuid,
            2 => Form::UpperGuid,
            3 => Form::BodyHash,
            4 => Form::Interned,
            _ => Form::None,
        };
        Key {
            bits: [u64_at(b, 0), u64_at(b, 8)],
            form,
        }
    }
}

fn u64_at(b: &[u8], i: usize) -> u64 {
    u64::from_le_bytes(b[i..i + 8].try_into().expect("8 bytes"))
}

fn u32_at(b: &[u8], i: usize) -> u32 {
    u32::from_le_bytes(b[i..i + 4].try_into().expect("4 bytes"))
}

fn u16_at(b: &[u8], i: usize) -> u16 {
    u16::from_le_bytes(b[i..i + 2].try_into().expect("2 bytes"))
}

impl Rec {
    /// Appends the record's [`REC_BYTES`] bytes.
    pub fn write(&self, out: &mut Vec<u8>) {
        self.id.write(out);
        self.session.write(out);
        for x in [
            self.class,
            self.file,
            self.v1_pair,
            self.at.to_bits(),
            self.answered.to_bits(),
            self.gave_up.to_bits(),
        ] {
            out.extend_from_slice(&x.to_le_bytes());
        }
        for x in [
            self.seq,
            self.body,
            self.content_type,
            self.user_agent,
            self.room,
            self.path,
            self.opened,
            self.len,
        ] {
            out.extend_from_slice(&x.to_le_bytes());
        }
        out.extend_from_slice(&self.url.to_le_bytes());
        out.extend_from_slice(&self.status.to_le_bytes());
        out.push(match self.kind {
            Kind::V2 => 0,
            Kind::V1 => 1,
            Kind::Other => 2,
        });
        out.push(self.ty.byte());
        out.extend_from_slice(&self.took.to_le_bytes());
        out.extend_from_slice(&self.up_status.to_le_bytes());
        out.push(self.leg.byte());
        out.push(self.flags);
    }

    /// A record from [`REC_BYTES`] bytes written by [`Rec::write`].
    pub fn read(b: &[u8]) -> Option<Rec> {
        if b.len() < REC_BYTES {
            return None;
        }
        let w = |k: usize| u32_at(b, 82 + 4 * k);
        Some(Rec {
            id: Key::read(&b[0..17]),
            session: Key::read(&b[17..34]),
            class: u64_at(b, 34),
            file: u64_at(b, 42),
            v1_pair: u64_at(b, 50),
            at: f64::from_bits(u64_at(b, 58)),
            answered: f64::from_bits(u64_at(b, 66)),
            gave_up: f64::from_bits(u64_at(b, 74)),
            seq: w(0),
            body: w(1),
            content_type: w(2),
            user_agent: w(3),
            room: w(4),
            path: w(5),
            opened: w(6),
            len: w(7),
            url: u16_at(b, 114),
            status: u16_at(b, 116),
            kind: match b[118] {
                0 => Kind::V2,
                1 => Kind::V1,
                _ => Kind::Other,
            },
            ty: Ty::from_byte(b[119]),
            took: f32::from_le_bytes(b[120..124].try_into().expect("4 bytes")),
            up_status: u16_at(b, 124),
            leg: Leg::of(b[126]),
            flags: b[127],
        })
    }

    pub fn answered(&self) -> f64 {
        self.answered
    }
    /// When the sender saw the attempt end: the answer, or its own giving up.
    pub fn seen(&self) -> f64 {
        if self.abandoned() {
            self.gave_up
        } else {
            self.answered
        }
    }
    pub fn abandoned(&self) -> bool {
        self.gave_up >= 0.0
    }
    /// Answered 2xx, and the sender read it.
    pub fn succeeded(&self) -> bool {
        (200..300).contains(&self.status) && !self.abandoned()
    }
    pub fn status(&self) -> Option<u16> {
        (self.status != 0).then_some(self.status)
    }
    pub fn answer(&self) -> String {
        let answer = match self.status() {
            Some(s) => s.to_string(),
            None => "no response (reset)".into(),
        };
        if self.abandoned() {
            format!("{answer}, never read (the sender closed the connection first)")
        } else {
            answer
        }
    }
}

/// A body judged once: its findings (T4, S, and the single-event C4, C7, C8) and the
/// keys the cross-request checks compare.
pub(crate) struct Judged {
    pub kind: Kind,
    pub ty: Ty,
    /// The event identity as it arrived.
    pub id: String,
    pub event_type: Option<String>,
    pub room_text: Option<String>,
    pub findings: Vec<Finding>,
    pub session: Option<String>,
    pub class: u64,
    pub file: u64,
    pub v1_pair: u64,
    pub room: u32,
    pub path: u32,
    pub opened: u32,
    /// Has a RelativePath string (C7 ran).
    pub has_path: bool,
    /// Carries raw non-ASCII text (R8).
    pub raw_text: bool,
}

pub(crate) use crate::common::hash64;

pub(crate) fn instant(s: Option<&str>) -> Option<chrono::DateTime<chrono::FixedOffset>> {
    s.and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
}

/// Values, not JSON types, are compared across v1 and v2: a wrongly typed field is
/// S2/S5's finding.
fn loose(v: Option<&Value>) -> Option<String> {
    match v {
        Some(Value::String(s)) => Some(s.clone()),
        other => other.map(Value::to_string),
    }
}

impl Judged {
    pub fn of(bytes: &[u8]) -> Judged {
        let mut b = body::judge(bytes);
        // Moved, not cloned: `single_event` and `class_of` read the body, not its findings.
        let mut findings = std::mem::take(&mut b.findings);
        let (mut session, mut file, mut v1_pair, mut room, mut path, mut opened) = (None, 0, 0, 0, 0, 0);
        let mut has_path = false;
        let mut room_text = None;
        if let Some(v) = &b.value {
            let data = if b.kind == Kind::V2 {
                v.get("EventData")
            } else {
                Some(v)
            };
            let get = |k: &str| data.and_then(|d| d.get(k));
            let str_of = |k: &str| get(k).and_then(Value::as_str);
            session = (b.kind == Kind::V2)
                .then(|| str_of("SessionId").map(str::to_string))
                .flatten();
            let shown = |v: Option<&Value>| v.map_or_else(|| "absent".to_string(), Value::to_string);
            room = hash64(format!("{} {}", shown(get("RoomId")), shown(get("ShortId")))) as u32;
            room_text = get("RoomId").map(Value::to_string);
            path = hash64(loose(get("RelativePath"))) as u32;
            opened = hash64(str_of("FileOpenTime")) as u32;
            has_path = str_of("RelativePath").is_some();
            let ty = b.event_type.as_deref();
            if matches!(ty, Some("FileOpening" | "FileClosed")) {
                file = hash64((&session, str_of("RelativePath"), instant(str_of("FileOpenTime"))));
            }
            let pair = |open: &str, close: &str| {
                hash64((
                    loose(get("RelativePath")),
                    loose(get("FileSize")),
                    loose(get("RoomId")),
                    loose(get("Name")),
                    loose(get("Title")),
                    instant(str_of(open)),
                    instant(str_of(close)),
                ))
            };
            if b.kind == Kind::V1 {
                v1_pair = pair("StartRecordTime", "EndRecordTime");
            } else if ty == Some("FileClosed") {
                v1_pair = pair("FileOpenTime", "FileCloseTime");
            }
            super::stream::single_event(&b, v, &mut findings);
        }
        Judged {
            kind: b.kind,
            ty: Ty::of(b.event_type.as_deref()),
            class: class_of(&b, bytes),
            id: b.id,
            event_type: b.event_type,
            room_text,
            findings,
            session,
            file,
            v1_pair,
            room,
            path,
            opened,
            has_path,
            raw_text: !bytes.is_ascii(),
        }
    }
}

/// Content identity: for a v2 event its EventType and EventData, for a v1 record the
/// record, key order ignored; for anything else the bytes. Hashed as it is walked: no
/// canonical text is built.
fn class_of(b: &Body, bytes: &[u8]) -> u64 {
    let mut h = crate::common::Fast::default();
    match (&b.kind, &b.value) {
        (Kind::V2, Some(v)) => {
            canonical(v.get("EventType").unwrap_or(&Value::Null), &mut h);
            canonical(v.get("EventData").unwrap_or(&Value::Null), &mut h);
        }
        (Kind::V1, Some(v)) => canonical(v, &mut h),
        _ => return hash64(bytes),
    }
    h.finish()
}

fn canonical(v: &Value, h: &mut impl Hasher) {
    match v {
        Value::Object(m) => {
            // Pairs, sorted by key: no second (hashed) lookup per key.
            let mut pairs: Vec<(&String, &Value)> = m.iter().collect();
            pairs.sort_unstable_by_key(|(k, _)| *k);
            h.write_u8(b'{');
            h.write_usize(pairs.len());
            for (k, v) in pairs {
                k.hash(h);
                canonical(v, h);
            }
        }
        Value::Array(a) => {
            h.write_u8(b'[');
            h.write_usize(a.len());
            for x in a {
                canonical(x, h);
            }
        }
        Value::String(s) => {
            h.write_u8(b's');
            s.hash(h);
        }
        // Numbers by their JSON text: 1 and 1.0 are different bodies.
        Value::Number(n) => {
            h.write_u8(b'n');
            n.to_string().hash(h);
        }
        Value::Bool(b) => h.write_u8(if *b { b't' } else { b'f' }),
        Value::Null => h.write_u8(b'0'),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_give_back_their_text_and_records_stay_small() {
        let mut i = Interner::default();
        for s in [
            "98f85267-e08c-4f15-ad9a-1fc463d42b0b",
            "98F85267-E08C-4F15-AD9A-1FC463D42B0B",
            "body:00ff00ff00ff00ff",
            "3f1c",
            "98f85267-E08C-4f15-ad9a-1fc463d42b0b",
        ] {
            let k = i.key(s);
            assert_eq!(i.text(k), s);
        }
        assert_eq!(i.strings.len(), 2, "only the odd ones are interned");
        // A record per request is what the judge keeps: it must stay about 140 bytes.
        assert!(
            std::mem::size_of::<Rec>() <= 144,
            "{}",
            std::mem::size_of::<Rec>()
        );
        let r = Rec {
            id: i.key("98f85267-e08c-4f15-ad9a-1fc463d42b0b"),
            session: i.key("3f1c"),
            class: 1,
            file: 2,
            v1_pair: 3,
            at: 4.5,
            answered: 6.25,
            gave_up: 5.5,
            seq: 7,
            body: 8,
            content_type: 9,
            user_agent: 10,
            room: 11,
            path: 12,
            opened: 17,
            url: 13,
            status: 14,
            kind: Kind::V1,
            ty: Ty::Known(EventKind::StreamEnded),
            len: 16,
            took: 18.5,
            up_status: 19,
            leg: Leg::TimedOut,
            flags: VALID | RAW_TEXT,
        };
        let mut buf = Vec::new();
        r.write(&mut buf);
        assert_eq!(buf.len(), REC_BYTES);
        let back = Rec::read(&buf[..]).unwrap();
        assert_eq!(format!("{back:?}"), format!("{r:?}"));
    }
}
