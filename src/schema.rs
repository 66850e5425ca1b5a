//! The JSON Schemas of `schemas/`, embedded in the binary and compiled once.
//!
//! Field rules live in the schema files only: this module compiles them, runs them, and
//! reads the property names they declare (for S4), but states no field rule itself.

use crate::protocol::EventKind;
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::OnceLock;

/// Base URI of every schema's `$id`. `.invalid` never resolves: nothing is fetched.
pub const BASE: &str = "https://brhook.invalid/schemas/";

/// The schema files, by file name, as shipped in `schemas/`.
pub const FILES: &[(&str, &str)] = &[
    ("defs.json", include_str!("../schemas/defs.json")),
    ("v2-envelope.json", include_str!("../schemas/v2-envelope.json")),
    (
        "v2-SessionStarted.json",
        include_str!("../schemas/v2-SessionStarted.json"),
    ),
    (
        "v2-FileOpening.json",
        include_str!("../schemas/v2-FileOpening.json"),
    ),
    (
        "v2-FileClosed.json",
        include_str!("../schemas/v2-FileClosed.json"),
    ),
    (
        "v2-SessionEnded.json",
        include_str!("../schemas/v2-SessionEnded.json"),
    ),
    (
        "v2-StreamStarted.json",
        include_str!("../schemas/v2-StreamStarted.json"),
    ),
    (
        "v2-StreamEnded.json",
        include_str!("../schemas/v2-StreamEnded.json"),
    ),
    ("v1-record.json", include_str!("../schemas/v1-record.json")),
];

/// One schema violation: where in the instance, and what is wrong there.
#[derive(Debug, Clone, PartialEq)]
pub struct Violation {
    /// JSON pointer of the offending value (for a missing property: where it should be).
    pub pointer: String,
    /// What the schema expected.
    pub expected: String,
    /// What the body holds there (compact JSON, or "nothing" when missing).
    pub found: String,
}

struct Compiled {
    envelope: jsonschema::Validator,
    v1: jsonschema::Validator,
    types: Vec<(&'static str, jsonschema::Validator)>,
    /// Properties each schema declares: top level and inside EventData.
    envelope_fields: Fields,
    v1_fields: Fields,
    type_fields: Vec<(&'static str, Fields, Fields)>,
}

fn doc(name: &str) -> Value {
    let text = FILES
        .iter()
        .find(|(n, _)| *n == name)
        .unwrap_or_else(|| panic!("schema {name} is not embedded"))
        .1;
    serde_json::from_str(text).unwrap_or_else(|e| panic!("schema {name} is not JSON: {e}"))
}

fn compiled() -> &'static Compiled {
    static C: OnceLock<Compiled> = OnceLock::new();
    C.get_or_init(|| {
        let mut registry = jsonschema::Registry::new();
        for (name, _) in FILES {
            registry = registry
                .add(format!("{BASE}{name}"), doc(name))
                .unwrap_or_else(|e| panic!("schema {name}: {e}"));
        }
        let registry = registry.prepare().expect("schemas form a registry");
        let build = |name: &str| {
            jsonschema::options()
                .with_draft(jsonschema::Draft::Draft202012)
                .should_validate_formats(true)
                .with_registry(&registry)
                .build(&doc(name))
                .unwrap_or_else(|e| panic!("schema {name} does not compile: {e}"))
        };
        let types = EventKind::ALL
            .iter()
            .map(|k| (k.as_str(), build(&format!("v2-{}.json", k.as_str()))))
            .collect();
        let type_fields = EventKind::ALL
            .iter()
            .map(|k| {
                let t = k.as_str();
                let d = doc(&format!("v2-{t}.json"));
                let data = d.pointer("/properties/EventData").cloned().unwrap_or_default();
                (t, declared(&d), declared(&data))
            })
            .collect();
        Compiled {
            envelope: build("v2-envelope.json"),
            v1: build("v1-record.json"),
            types,
            envelope_fields: declared(&doc("v2-envelope.json")),
            v1_fields: declared(&doc("v1-record.json")),
            type_fields,
        }
    })
}

/// What a schema says of one declared property, as far as the judge's lexical and
/// value-form checks need it (S2/S5 integer spelling, S6 forms).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FieldInfo {
    /// `"type": "integer"`: JSON Schema cannot tell `1` from `1.0`, receivers can.
    pub integer: bool,
    /// The `format` keyword (`uuid`, `date-time`), if any.
    pub format: Option<String>,
}

/// Declared properties of a (sub)schema, by name.
pub type Fields = BTreeMap<String, FieldInfo>;

/// Properties a (sub)schema declares, following `allOf` and `$ref` into the embedded
/// files, so S4 knows what "beyond the schema" means without a second list.
fn declared(schema: &Value) -> Fields {
    let mut out = Fields::new();
    collect(schema, "", &mut out, 0);
    out
}

/// Follows a `$ref` (relative to `file`) to (its file, its schema).
fn resolve(r: &str, file: &str) -> (String, Value) {
    let (f, pointer) = r.split_once('#').unwrap_or((r, ""));
    let f = if f.is_empty() { file } else { f };
    let target = doc(f).pointer(pointer).cloned().unwrap_or(Value::Null);
    (f.to_string(), target)
}

fn collect(schema: &Value, file: &str, out: &mut Fields, depth: usize) {
    if depth > 16 {
        return; // our schemas are shallow; this only guards against a cyclic edit
    }
    if let Some(props) = schema.get("properties").and_then(Value::as_object) {
        for (name, sub) in props {
            let info = out.entry(name.clone()).or_default();
            describe(sub, file, info, depth + 1);
        }
    }
    for sub in schema
        .get("allOf")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        collect(sub, file, out, depth + 1);
    }
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        let (f, target) = resolve(r, file);
        collect(&target, &f, out, depth + 1);
    }
}

fn describe(schema: &Value, file: &str, info: &mut FieldInfo, depth: usize) {
    if depth > 16 {
        return;
    }
    if schema.get("type").and_then(Value::as_str) == Some("integer") {
        info.integer = true;
    }
    if let Some(f) = schema.get("format").and_then(Value::as_str) {
        info.format = Some(f.to_string());
    }
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        let (f, target) = resolve(r, file);
        describe(&target, &f, info, depth + 1);
    }
}

fn violations(validator: &jsonschema::Validator, instance: &Value) -> Vec<Violation> {
    let mut out: Vec<Violation> = validator
        .iter_errors(instance)
        .map(|e| {
            let at = e.instance_path().to_string();
            match e.kind() {
                jsonschema::error::ValidationErrorKind::Required { property } => Violation {
                    pointer: format!(
                        "{at}/{}",
                        crate::lexical::escape_token(property.as_str().unwrap_or_default())
                    ),
                    expected: format!("required property {property}"),
                    found: "nothing".into(),
                },
                _ => Violation {
                    pointer: at,
                    expected: expectation(&e),
                    found: short(e.instance()),
                },
            }
        })
        .collect();
    out.sort_by(|a, b| a.pointer.cmp(&b.pointer));
    out.dedup();
    out
}

/// The library's message names the instance first ("x is not of type y"); reports show
/// expected and found apart, so keep only what follows the instance.
fn expectation(e: &jsonschema::ValidationError<'_>) -> String {
    let full = e.to_string();
    let instance = e.instance().to_string();
    let rest = full.strip_prefix(&instance).unwrap_or(&full).trim();
    let rest = rest.strip_prefix("is ").unwrap_or(rest);
    let rest = rest.strip_prefix("not ").unwrap_or(rest);
    match rest {
        r#"a "date-time""# => {
            "a date-time with an explicit offset, e.g. 2021-05-14T17:52:44.4960899+08:00".into()
        }
        r#"a "uuid""# => "a GUID, e.g. e3e1c9ec-f386-4bc3-9e5a-661bf3ed2fb2".into(),
        r#"of type "integer""# => "a JSON integer, e.g. 23058 (not a string or a float)".into(),
        other => other.to_string(),
    }
}

/// A compact rendering of a found value, cut to keep findings one line.
pub fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 80 {
        format!("{}…", s.chars().take(79).collect::<String>())
    } else {
        s
    }
}

/// S1: the v2 envelope.
pub fn check_envelope(body: &Value) -> Vec<Violation> {
    violations(&compiled().envelope, body)
}

/// S2: the whole event against its type's schema; `None` for an unknown type.
/// Violations outside `/EventData` repeat the envelope's and are dropped here.
pub fn check_event(event_type: &str, body: &Value) -> Option<Vec<Violation>> {
    let (_, v) = compiled().types.iter().find(|(t, _)| *t == event_type)?;
    Some(
        violations(v, body)
            .into_iter()
            .filter(|x| x.pointer.starts_with("/EventData/"))
            .collect(),
    )
}

/// S5: a v1 record.
pub fn check_v1(body: &Value) -> Vec<Violation> {
    violations(&compiled().v1, body)
}

/// Top-level properties of the v2 envelope.
pub fn envelope_fields() -> &'static Fields {
    &compiled().envelope_fields
}

/// Properties of a v1 record.
pub fn v1_fields() -> &'static Fields {
    &compiled().v1_fields
}

/// (top-level, EventData) properties of a known v2 type.
pub fn type_fields(event_type: &str) -> Option<(&'static Fields, &'static Fields)> {
    compiled()
        .type_fields
        .iter()
        .find(|(t, _, _)| *t == event_type)
        .map(|(_, top, data)| (top, data))
}

/// Compiles every schema now, so a broken schema fails at start-up, not mid-capture.
pub fn warm() {
    let _ = compiled();
}
