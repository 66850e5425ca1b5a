//! Single-field mutations of valid bodies: how a field is changed ([`Edit`]), one change
//! and the check it must fail ([`Mutation`]), every change this module knows for a body
//! ([`mutations`]), applying one ([`mutate`], giving a [`Mutated`]), and the strategies
//! over them ([`mutated_event`], [`mutated_event_bytes`]). Kept in one place because the
//! field table, the edits per kind of field and the raw-number splicing only make sense
//! together.

use crate::catalog::Check;
use proptest::prelude::*;
use proptest::sample::Index;
use serde_json::{Map, Value};

use super::build::serialize;
use super::events::any_body;
use crate::protocol::EventKind;

/// How one field is changed.
#[derive(Clone, Debug, PartialEq)]
pub enum Edit {
    /// The value replaced by another JSON value (wrong type, bad string, out of range).
    Replace(Value),
    /// The field removed (only fields the schemas require).
    Remove,
    /// The value replaced by this raw JSON text, for spellings a `Value` cannot hold
    /// (`23058.0`, `2.3058e4`): written through a placeholder, then spliced into the bytes.
    Raw(String),
}

/// One single-field mutation of a valid body.
#[derive(Clone, Debug, PartialEq)]
pub struct Mutation {
    /// JSON pointer of the field: `/Name` or `/EventData/Name`.
    pub pointer: String,
    /// What is done to the field.
    pub edit: Edit,
    /// The check that must fail: S1 (v2 envelope field), S2 (`EventData` field of a
    /// known type), S5 (v1 field).
    pub check: Check,
    /// What was done, e.g. `/EventData/RoomId: integer written as a float (23058.0)`.
    pub description: String,
}

/// A mutated body and how it came to be.
#[derive(Clone, Debug, PartialEq)]
pub struct Mutated {
    /// The valid body before the mutation.
    pub original: Value,
    /// The mutation applied.
    pub mutation: Mutation,
    /// The final bytes, as a sender would put them on the wire.
    pub bytes: Vec<u8>,
}

impl From<Mutated> for (Vec<u8>, Check, String) {
    fn from(m: Mutated) -> Self {
        (m.bytes, m.mutation.check, m.mutation.description)
    }
}

/// What a field holds, for choosing its mutations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum FieldKind {
    Text,
    DateTime,
    Guid,
    Int32,
    Int64,
    Number,
    Bool,
    Object,
}

fn field_kind(name: &str) -> Option<FieldKind> {
    use FieldKind::*;
    Some(match name {
        "EventType" | "Name" | "Title" | "AreaNameParent" | "AreaNameChild" | "RelativePath" => Text,
        "EventTimestamp" | "FileOpenTime" | "FileCloseTime" | "StartRecordTime" | "EndRecordTime" => DateTime,
        "EventId" | "SessionId" | "EventRandomId" => Guid,
        "RoomId" | "ShortId" => Int32,
        "FileSize" => Int64,
        "Duration" => Number,
        "Recording" | "Streaming" | "DanmakuConnected" => Bool,
        "EventData" => Object,
        _ => return None,
    })
}

/// The 2.x booleans are optional; every other field the builders write is required.
fn required(name: &str) -> bool {
    !matches!(name, "Recording" | "Streaming" | "DanmakuConnected")
}

/// Scientific spelling of a non-negative integer: 23058 → `2.3058e4`, 7 → `7.0e0`.
fn scientific(v: i64) -> String {
    let s = v.unsigned_abs().to_string();
    let sign = if v < 0 { "-" } else { "" };
    let (head, tail) = s.split_at(1);
    let tail = if tail.is_empty() { "0" } else { tail };
    format!("{sign}{head}.{tail}e{}", s.len() - 1)
}

fn edits_for(kind: FieldKind, name: &str, value: &Value) -> Vec<(Edit, String)> {
    use Edit::*;
    let mut out: Vec<(Edit, String)> = Vec::new();
    let mut push = |e: Edit, what: String| out.push((e, what));
    let s = value.as_str().unwrap_or_default();
    match kind {
        FieldKind::Text => {
            push(Replace(23058.into()), "string written as a number".into());
            push(Replace(true.into()), "string written as a boolean".into());
            push(Replace(Value::Null), "string written as null".into());
            push(
                Replace(Value::Array(vec![value.clone()])),
                "string wrapped in an array".into(),
            );
            push(
                Replace(Value::Object(Map::new())),
                "string written as an object".into(),
            );
        }
        FieldKind::DateTime => {
            push(Replace(Value::Null), "date-time written as null".into());
            push(
                Replace(1_620_985_964.into()),
                "date-time written as Unix seconds".into(),
            );
            push(
                Replace("1620985964".into()),
                "date-time written as a string of Unix seconds".into(),
            );
            if s.len() > 19 {
                let naive = &s[..s.len() - 6];
                push(
                    Replace(naive.into()),
                    format!("date-time without offset ({naive})"),
                );
                push(Replace(s[..10].into()), format!("date only ({})", &s[..10]));
                let month = format!("{}13{}", &s[..5], &s[7..]);
                push(
                    Replace(month.clone().into()),
                    format!("date-time with month 13 ({month})"),
                );
                let hour = format!("{}24{}", &s[..11], &s[13..]);
                push(
                    Replace(hour.clone().into()),
                    format!("date-time with hour 24 ({hour})"),
                );
                let off = format!("{naive}+24:00");
                push(
                    Replace(off.clone().into()),
                    format!("date-time with offset +24:00 ({off})"),
                );
                let space = format!("{} {}", &s[..10], &s[11..]);
                push(
                    Replace(space.clone().into()),
                    format!("date and time separated by a space ({space})"),
                );
            }
        }
        FieldKind::Guid => {
            push(Replace(Value::Null), "GUID written as null".into());
            push(Replace(12345.into()), "GUID written as a number".into());
            push(Replace("not-a-guid".into()), "GUID replaced by not-a-guid".into());
            if s.len() == 36 {
                let braces = format!("{{{s}}}");
                push(
                    Replace(braces.clone().into()),
                    format!("GUID in braces ({braces})"),
                );
                let simple = s.replace('-', "");
                push(
                    Replace(simple.clone().into()),
                    format!("GUID of 32 hex digits without hyphens ({simple})"),
                );
                let short = &s[..35];
                push(Replace(short.into()), format!("GUID one digit short ({short})"));
                let nonhex = format!("g{}", &s[1..]);
                push(
                    Replace(nonhex.clone().into()),
                    format!("GUID with a non-hex digit ({nonhex})"),
                );
                let urn = format!("urn:uuid:{s}");
                push(Replace(urn.clone().into()), format!("GUID as a URN ({urn})"));
            }
        }
        FieldKind::Int32 | FieldKind::Int64 => {
            let v = value.as_i64().unwrap_or(0);
            push(
                Replace(v.to_string().into()),
                format!("integer written as a string (\"{v}\")"),
            );
            push(
                Raw(format!("{v}.0")),
                format!("integer written as a float ({v}.0)"),
            );
            let sci = scientific(v);
            push(
                Raw(sci.clone()),
                format!("integer written with an exponent ({sci})"),
            );
            push(
                Raw(format!("{v}.5")),
                format!("integer field holding a fraction ({v}.5)"),
            );
            push(Replace(true.into()), "integer written as a boolean".into());
            push(Replace(Value::Null), "integer written as null".into());
            if kind == FieldKind::Int32 {
                let big = i64::from(i32::MAX) + 1;
                push(Replace(big.into()), format!("int32 field beyond int32 ({big})"));
            } else {
                let big = i64::MAX as u64 + 1;
                push(Replace(big.into()), format!("int64 field beyond int64 ({big})"));
            }
        }
        FieldKind::Number => {
            let text = value.to_string();
            push(
                Replace(text.clone().into()),
                format!("number written as a string (\"{text}\")"),
            );
            push(Replace(true.into()), "number written as a boolean".into());
            push(Replace(Value::Null), "number written as null".into());
            push(Replace(Value::Array(vec![])), "number written as an array".into());
        }
        FieldKind::Bool => {
            let b = value.as_bool().unwrap_or(true);
            push(
                Replace(b.to_string().into()),
                format!("boolean written as a string (\"{b}\")"),
            );
            push(
                Replace(u8::from(b).into()),
                format!("boolean written as a number ({})", u8::from(b)),
            );
            push(Replace(Value::Null), "boolean written as null".into());
        }
        FieldKind::Object => {
            push(Replace(Value::Array(vec![])), "object written as an array".into());
            push(Replace(Value::Null), "object written as null".into());
            push(
                Replace(value.to_string().into()),
                "object written as a JSON string".into(),
            );
        }
    }
    if required(name) {
        push(Remove, "required field removed".into());
    }
    out
}

/// Every single-field mutation of a valid body (v2 event or v1 record) this module knows,
/// for the fields the body holds; each names the check it must fail.
pub fn mutations(body: &Value) -> Vec<Mutation> {
    let Some(obj) = body.as_object() else {
        return Vec::new();
    };
    let v2 = ["EventType", "EventTimestamp", "EventId", "EventData"]
        .iter()
        .any(|k| obj.contains_key(*k));
    let mut out = Vec::new();
    let fields = |m: &Map<String, Value>, at: &str, check: Check, out: &mut Vec<Mutation>| {
        for (name, value) in m {
            let Some(kind) = field_kind(name) else { continue };
            let pointer = format!("{at}/{name}");
            for (edit, what) in edits_for(kind, name, value) {
                out.push(Mutation {
                    description: format!("{pointer}: {what}"),
                    pointer: pointer.clone(),
                    edit,
                    check,
                });
            }
        }
    };
    if v2 {
        fields(obj, "", Check::S1, &mut out);
        let known = obj
            .get("EventType")
            .and_then(Value::as_str)
            .and_then(EventKind::parse)
            .is_some();
        if let (true, Some(data)) = (known, obj.get("EventData").and_then(Value::as_object)) {
            fields(data, "/EventData", Check::S2, &mut out);
        }
    } else {
        fields(obj, "", Check::S5, &mut out);
    }
    out
}

/// Stands in for an [`Edit::Raw`] value until the bytes are written. U+F8FF is never
/// produced by the text strategies.
const RAW_PLACEHOLDER: &str = "\u{f8ff}brhook-raw-number\u{f8ff}";

impl Mutation {
    /// The body with this mutation applied, as final bytes ([`serialize`]d, key order kept).
    pub fn apply(&self, body: &Value) -> Vec<u8> {
        let mut v = body.clone();
        let (parent, name) = self.pointer.rsplit_once('/').expect("a pointer starts with /");
        let target = if parent.is_empty() {
            v.as_object_mut()
        } else {
            v.pointer_mut(parent).and_then(Value::as_object_mut)
        }
        .expect("the mutated field's parent is an object");
        match &self.edit {
            Edit::Replace(x) => {
                target.insert(name.into(), x.clone());
            }
            Edit::Remove => {
                target.shift_remove(name);
            }
            Edit::Raw(_) => {
                target.insert(name.into(), RAW_PLACEHOLDER.into());
            }
        }
        let bytes = serialize(&v);
        match &self.edit {
            Edit::Raw(text) => {
                let s = String::from_utf8(bytes).expect("serialize writes UTF-8");
                s.replacen(&format!("\"{RAW_PLACEHOLDER}\""), text, 1)
                    .into_bytes()
            }
            _ => bytes,
        }
    }
}

/// Applies mutation number `n` (modulo their count) of [`mutations`] of `body`; `None`
/// when the body has no mutable field.
pub fn mutate(body: Value, n: usize) -> Option<Mutated> {
    let all = mutations(&body);
    if all.is_empty() {
        return None;
    }
    let mutation = all[n % all.len()].clone();
    let bytes = mutation.apply(&body);
    Some(Mutated {
        original: body,
        mutation,
        bytes,
    })
}

/// A valid body (v2 or v1) with exactly one field mutated so that its check must fail.
pub fn mutated_event() -> impl Strategy<Value = Mutated> {
    (any_body(), any::<Index>()).prop_filter_map("body has no mutable field", |(b, i)| {
        let n = i.index(mutations(&b).len().max(1));
        mutate(b, n)
    })
}

/// [`mutated_event`] as `(bytes, expected check, description)`.
pub fn mutated_event_bytes() -> impl Strategy<Value = (Vec<u8>, Check, String)> {
    mutated_event().prop_map(Into::into)
}
