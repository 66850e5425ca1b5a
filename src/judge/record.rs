//! What the judge keeps per request: a fixed-size [`Rec`], about 100 bytes, whatever
//! the body. Bodies are judged once per distinct bytes ([`Judged`], held in a bounded
//! cache) and reduced to hashes and the few keys the cross-request checks compare.

use crate::body::{self, Body, Kind};
use crate::report::Finding;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
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
        if let Some(h) = s.strip_prefix("body:").filter(|h| h.len() == 16) {
            if let Ok(v) = u64::from_str_radix(h, 16) {
                if format!("{v:016x}") == h {
                    return Key {
                        bits: [0, v],
                        form: Form::BodyHash,
                    };
                }
            }
        }
        let next = self.strings.len() as u32;
        let i = *self.index.entry(Arc::from(s)).or_insert_with(|| next);
        if i == next {
            self.strings.push(Arc::from(s));
        }
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
    let hex: String = s.chars().filter(|c| *c != '-').collect();
    if hex.len() != 32 || !hex.bytes().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    let lower = !hex.bytes().any(|c| c.is_ascii_uppercase());
    let upper = !hex.bytes().any(|c| c.is_ascii_lowercase());
    let form = match (lower, upper) {
        (true, _) => Form::LowerGuid,
        (false, true) => Form::UpperGuid,
        _ => return None,
    };
    Some(Key {
        bits: split(u128::from_str_radix(&hex, 16).ok()?),
        form,
    })
}

impl Key {
    pub fn is_some(self) -> bool {
        self.form != Form::None
    }
}

/// The known v2 types by index; `UNKNOWN` for another type, `NONE` for no type.
pub(crate) const UNKNOWN: u8 = 254;
pub(crate) const NONE: u8 = 255;

pub(crate) fn type_index(t: Option<&str>) -> u8 {
    match t {
        None => NONE,
        Some(t) => crate::schema::V2_TYPES
            .iter()
            .position(|k| *k == t)
            .map_or(UNKNOWN, |i| i as u8),
    }
}

pub(crate) fn type_name(i: u8) -> Option<&'static str> {
    crate::schema::V2_TYPES.get(usize::from(i)).copied()
}

pub(crate) fn is(i: u8, name: &str) -> bool {
    type_name(i) == Some(name)
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
    /// Answer time minus arrival time, in milliseconds.
    pub held: f32,
    pub seq: u32,
    /// Hashes of the body bytes, and of the Content-Type and User-Agent values.
    pub body: u32,
    pub content_type: u32,
    pub user_agent: u32,
    /// Hash of RoomId and ShortId (C5).
    pub room: u32,
    /// Hash of RelativePath (C6 shows the FileClosed of the same path).
    pub path: u32,
    pub url: u16,
    /// Answer status, 0 for a reset.
    pub status: u16,
    pub kind: Kind,
    pub ty: u8,
    /// Body length in bytes (F2 shows it).
    pub len: u32,
}

impl Rec {
    pub fn answered(&self) -> f64 {
        self.at + f64::from(self.held)
    }
    pub fn succeeded(&self) -> bool {
        (200..300).contains(&self.status)
    }
    pub fn status(&self) -> Option<u16> {
        (self.status != 0).then_some(self.status)
    }
    pub fn answer(&self) -> String {
        match self.status() {
            Some(s) => s.to_string(),
            None => "no response (reset)".into(),
        }
    }
}

/// A body judged once: its findings (T4, S, and the single-event C4, C7, C8) and the
/// keys the cross-request checks compare.
pub(crate) struct Judged {
    pub kind: Kind,
    pub ty: u8,
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
    /// Has a RelativePath string (C7 ran).
    pub has_path: bool,
}

pub(crate) fn hash64(x: impl Hash) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    x.hash(&mut h);
    h.finish()
}

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
        let b = body::judge(bytes);
        let mut findings = b.findings.clone();
        let (mut session, mut file, mut v1_pair, mut room, mut path) = (None, 0, 0, 0, 0);
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
            ty: type_index(b.event_type.as_deref()),
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
            has_path,
        }
    }
}

/// Content identity: for a v2 event its EventType and EventData, for a v1 record the
/// record, canonicalised (keys sorted); for anything else the bytes.
fn class_of(b: &Body, bytes: &[u8]) -> u64 {
    let v = match (&b.kind, &b.value) {
        (Kind::V2, Some(v)) => serde_json::json!([v.get("EventType"), v.get("EventData")]),
        (Kind::V1, Some(v)) => v.clone(),
        _ => return hash64(bytes),
    };
    hash64(canonical(&v))
}

fn canonical(v: &Value) -> String {
    match v {
        Value::Object(m) => {
            let sorted: BTreeMap<_, _> = m.iter().collect();
            let parts: Vec<_> = sorted
                .into_iter()
                .map(|(k, v)| format!("{}:{}", Value::String(k.clone()), canonical(v)))
                .collect();
            format!("{{{}}}", parts.join(","))
        }
        Value::Array(a) => format!("[{}]", a.iter().map(canonical).collect::<Vec<_>>().join(",")),
        other => other.to_string(),
    }
}

/// A map that forgets its older half when full: recent keys are found, memory is
/// bounded. Retries and fan-out copies of one body arrive within seconds, so they hit.
pub(crate) struct Recent<K, V> {
    cap: usize,
    new: HashMap<K, V>,
    old: HashMap<K, V>,
}

impl<K: Hash + Eq + Clone, V: Clone> Recent<K, V> {
    pub fn new(cap: usize) -> Self {
        Recent {
            cap: cap.max(1),
            new: HashMap::new(),
            old: HashMap::new(),
        }
    }
    pub fn get(&mut self, k: &K) -> Option<V> {
        if let Some(v) = self.new.get(k) {
            return Some(v.clone());
        }
        let v = self.old.remove(k)?;
        self.insert(k.clone(), v.clone());
        Some(v)
    }
    pub fn insert(&mut self, k: K, v: V) {
        if self.new.len() >= self.cap {
            self.old = std::mem::take(&mut self.new);
        }
        self.new.insert(k, v);
    }
}
