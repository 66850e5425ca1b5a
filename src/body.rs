//! Judging one request: its headers (T1–T3, T5) and its body (T4, S1–S7).
//! Works on the raw bytes as they arrived; nothing is re-serialised before judging.

use crate::catalog::{Check, Level};
use crate::finding::Finding;
use crate::lexical;
use crate::schema::{self, Fields};
use serde_json::Value;

/// The largest body brhook reads and judges (a larger one is answered 413 and recorded
/// unjudged); the real sender's bodies are under 2 KiB.
pub const DEFAULT_MAX_BODY: usize = 16 * 1024 * 1024;

/// What a body is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// A v2 event (has the v2 envelope's fields).
    V2,
    /// A v1 record.
    V1,
    /// Not a webhook body: not JSON, not an object, or neither shape.
    Other,
}

impl Kind {
    /// Classifies a JSON object by its keys: any v2 envelope key makes a v2 event,
    /// else any v1-only key a v1 record.
    pub fn of(obj: &serde_json::Map<String, Value>) -> Kind {
        let has = |keys: &[&str]| keys.iter().any(|k| obj.contains_key(*k));
        if has(&["EventType", "EventTimestamp", "EventId", "EventData"]) {
            Kind::V2
        } else if has(&["EventRandomId", "StartRecordTime", "EndRecordTime"]) {
            Kind::V1
        } else {
            Kind::Other
        }
    }

    /// The name used in reports: `v2`, `v1` or `other`.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::V2 => "v2",
            Kind::V1 => "v1",
            Kind::Other => "other",
        }
    }
}

/// One judged body.
#[derive(Debug, Clone)]
pub struct Body {
    /// Whether the body is a v2 event, a v1 record or neither.
    pub kind: Kind,
    /// `EventType` when it is a string.
    pub event_type: Option<String>,
    /// Event identity: `EventId` (v2), `EventRandomId` (v1), else `body:<hash>`.
    pub id: String,
    /// The parsed body, when it parsed as a JSON object.
    pub value: Option<Value>,
    /// What judging the body found (T4, S1–S7).
    pub findings: Vec<Finding>,
}

/// FNV-1a: a stable, dependency-free hash that identifies a body across runs.
pub fn hash(bytes: &[u8]) -> String {
    format!("body:{:016x}", crate::common::fnv1a(bytes))
}

/// Event identity (checks.md): `EventId` of a v2 event, `EventRandomId` of a v1
/// record, else the hash of the bytes. The endpoint counts attempts by it before
/// answering; the judges group attempts by it.
pub fn identity(bytes: &[u8]) -> String {
    #[derive(serde::Deserialize)]
    #[allow(non_snake_case)]
    struct Ids {
        EventId: Option<String>,
        EventRandomId: Option<String>,
    }
    let b = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match serde_json::from_slice::<Ids>(b) {
        Ok(Ids {
            EventId: Some(id), ..
        }) => id,
        Ok(Ids {
            EventId: None,
            EventRandomId: Some(id),
        }) => id,
        _ => hash(bytes),
    }
}

/// The real sender writes no `\uXXXX` for non-ASCII, no whitespace, lowercase GUIDs,
/// up to 7 fraction digits and `+00:00` for UTC.
const SENDER_FORMS: &str = "the real sender (Newtonsoft.Json, Formatting.None)";

/// Judges a body. Never panics, whatever the bytes.
pub fn judge(bytes: &[u8]) -> Body {
    let mut findings = Vec::new();
    let other = |findings, id| Body {
        kind: Kind::Other,
        event_type: None,
        id,
        value: None,
        findings,
    };
    let mut b = bytes;
    if let Some(rest) = b.strip_prefix(b"\xEF\xBB\xBF") {
        findings.push(
            Finding::new(Check::T4, "body starts with a UTF-8 byte-order mark (EF BB BF)")
                .expected("UTF-8 without BOM")
                .found("BOM, then the body (judged without it)"),
        );
        b = rest;
    }
    let text = match std::str::from_utf8(b) {
        Ok(t) => t,
        Err(e) => {
            findings.push(
                Finding::new(Check::T4, "body is not valid UTF-8")
                    .expected("UTF-8 text")
                    .found(format!(
                        "byte 0x{:02X} at offset {} (the first bad byte)",
                        b[e.valid_up_to()],
                        e.valid_up_to()
                    )),
            );
            return other(findings, hash(bytes));
        }
    };
    if text.trim().is_empty() {
        findings.push(
            Finding::new(Check::T4, "body is empty")
                .expected("one JSON object")
                .found("no bytes"),
        );
        return other(findings, hash(bytes));
    }
    let value: Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) => {
            let what = if e.to_string().contains("trailing characters") {
                "body has trailing data after the JSON value"
            } else if e.to_string().contains("recursion limit") {
                "body nests too deeply to be a webhook (over 128 levels)"
            } else {
                "body is not JSON"
            };
            findings.push(
                Finding::new(Check::T4, what)
                    .expected("one JSON object")
                    .found(e.to_string()),
            );
            return other(findings, hash(bytes));
        }
    };
    let Some(obj) = value.as_object() else {
        findings.push(
            Finding::new(Check::T4, "body is JSON but not an object")
                .expected("one JSON object")
                .found(schema::short(&value)),
        );
        return other(findings, hash(bytes));
    };
    let lex = lexical::scan(text);
    let mut body = match Kind::of(obj) {
        Kind::V2 => judge_v2(&value, &lex, bytes, findings),
        Kind::V1 => judge_v1(&value, &lex, bytes, findings),
        Kind::Other => {
            findings.push(
            Finding::new(Check::S1, "body is neither a v2 event nor a v1 record")
                .pointer("")
                .expected("a v2 envelope (EventType, EventTimestamp, EventId, EventData) or a v1 record (EventRandomId, ...)")
                .found(format!("an object with keys {}", keys(obj))),
        );
            return other(findings, hash(bytes));
        }
    };
    body.value = Some(value);
    forms_of_text(&lex, &mut body.findings);
    duplicate_keys(body.kind, &lex, &mut body.findings);
    let id = body.id.clone();
    for f in &mut body.findings {
        f.event.get_or_insert_with(|| id.clone());
    }
    body
}

fn keys(obj: &serde_json::Map<String, Value>) -> String {
    let k: Vec<_> = obj.keys().take(8).map(|k| k.as_str()).collect();
    format!("[{}]", k.join(", "))
}

fn violations(check: Check, vs: Vec<schema::Violation>, out: &mut Vec<Finding>) {
    for v in vs {
        let at = if v.pointer.is_empty() { "/" } else { &v.pointer };
        let message = if v.found == "nothing" {
            format!("{at} is missing")
        } else {
            // "a date-time with an explicit offset, e.g. ..." → "... is not a date-time with an explicit offset"
            let short = v.expected.split(", e.g.").next().unwrap_or(&v.expected);
            format!("{at} is not {short}")
        };
        out.push(
            Finding::new(check, message)
                .pointer(v.pointer)
                .expected(v.expected)
                .found(v.found),
        );
    }
}

fn judge_v2(value: &Value, lex: &lexical::Lexical, bytes: &[u8], mut findings: Vec<Finding>) -> Body {
    violations(Check::S1, schema::check_envelope(value), &mut findings);
    let event_type = value.get("EventType").and_then(Value::as_str).map(str::to_string);
    let id = identity(bytes);
    let top = schema::envelope_fields();
    value_forms(value, "", top, &mut findings);
    if let Some(t) = &event_type {
        match schema::check_event(t, value) {
            None => findings.push(
                Finding::new(
                    Check::S3,
                    format!("unknown EventType {t:?}: only the envelope was checked"),
                )
                .pointer("/EventType")
                .found(t.clone()),
            ),
            Some(vs) => {
                violations(Check::S2, vs, &mut findings);
                let (top, data_fields) = schema::type_fields(t).expect("known type has fields");
                extra_fields(value, "", top, &mut findings);
                if let Some(data) = value.get("EventData") {
                    extra_fields(data, "/EventData", data_fields, &mut findings);
                    value_forms(data, "/EventData", data_fields, &mut findings);
                    integer_spelling(Check::S2, lex, "/EventData", data_fields, &mut findings);
                    absent_booleans(data, &mut findings);
                }
            }
        }
    }
    if event_type
        .as_deref()
        .is_none_or(|t| schema::type_fields(t).is_none())
    {
        extra_fields(value, "", top, &mut findings);
    }
    Body {
        kind: Kind::V2,
        event_type,
        id,
        value: None,
        findings,
    }
}

fn judge_v1(value: &Value, lex: &lexical::Lexical, bytes: &[u8], mut findings: Vec<Finding>) -> Body {
    violations(Check::S5, schema::check_v1(value), &mut findings);
    let fields = schema::v1_fields();
    extra_fields(value, "", fields, &mut findings);
    value_forms(value, "", fields, &mut findings);
    integer_spelling(Check::S5, lex, "", fields, &mut findings);
    let id = identity(bytes);
    Body {
        kind: Kind::V1,
        event_type: None,
        id,
        value: None,
        findings,
    }
}

/// S4: properties the schema does not declare.
fn extra_fields(obj: &Value, at: &str, fields: &Fields, out: &mut Vec<Finding>) {
    for k in obj.as_object().into_iter().flat_map(|o| o.keys()) {
        if !fields.contains_key(k) {
            out.push(
                Finding::new(Check::S4, format!("field {k:?} is beyond the schema"))
                    .pointer(format!("{at}/{}", lexical::escape_token(k)))
                    .found(schema::short(&obj[k])),
            );
        }
    }
}

/// S2/S5: a field the schema types as integer, spelled with a fraction or exponent.
/// JSON Schema's data model cannot see this (23058.0 == 23058); .NET, Go and Rust
/// receivers that parse into an integer type reject it.
fn integer_spelling(check: Check, lex: &lexical::Lexical, at: &str, fields: &Fields, out: &mut Vec<Finding>) {
    for n in &lex.non_integer_numbers {
        let Some(name) = n.pointer.strip_prefix(at).and_then(|p| p.strip_prefix('/')) else {
            continue;
        };
        if fields.get(name).is_some_and(|f| f.integer) {
            out.push(
                Finding::new(
                    check,
                    format!("integer field {name} is written with a fraction or exponent"),
                )
                .pointer(n.pointer.clone())
                .expected("an integer without fraction or exponent")
                .found(n.text.clone()),
            );
        }
    }
}

/// S7: the 2.x booleans.
fn absent_booleans(data: &Value, out: &mut Vec<Finding>) {
    if !data.is_object() {
        return; // S1 already says EventData is not an object
    }
    let absent: Vec<_> = ["Recording", "Streaming", "DanmakuConnected"]
        .into_iter()
        .filter(|k| data.get(*k).is_none())
        .collect();
    if !absent.is_empty() {
        out.push(
            Finding::new(
                Check::S7,
                format!("EventData has no {} (a pre-2.0 sender)", absent.join(", ")),
            )
            .pointer("/EventData")
            .expected("Recording, Streaming, DanmakuConnected (since 2.0)")
            .found("absent"),
        );
    }
}

/// S6: GUID and date-time forms of the declared fields.
fn value_forms(obj: &Value, at: &str, fields: &Fields, out: &mut Vec<Finding>) {
    for (name, info) in fields {
        let Some(s) = obj.get(name).and_then(Value::as_str) else {
            continue;
        };
        // Every problem of the value, each its own finding (a value may have several).
        let problems = match info.format.as_deref() {
            Some("uuid") => guid_form(s),
            Some("date-time") => date_time_form(s),
            _ => Vec::new(),
        };
        for (expected, what) in problems {
            out.push(
                Finding::at(
                    Check::S6,
                    Level::Warn,
                    format!("{name} {what}, unlike {SENDER_FORMS}"),
                )
                .pointer(format!("{at}/{name}"))
                .expected(expected)
                .found(s.to_string()),
            );
        }
    }
}

fn guid_form(s: &str) -> Vec<(&'static str, &'static str)> {
    let hyphenated = s.len() == 36
        && s.char_indices()
            .all(|(i, c)| matches!(i, 8 | 13 | 18 | 23) == (c == '-'));
    (hyphenated && s.chars().any(|c| c.is_ascii_uppercase()))
        .then_some((
            "a lowercase GUID such as e3e1c9ec-f386-4bc3-9e5a-661bf3ed2fb2",
            "is an uppercase GUID",
        ))
        .into_iter()
        .collect()
}

fn date_time_form(s: &str) -> Vec<(&'static str, &'static str)> {
    let mut problems = Vec::new();
    let Some(time) = s.split_once(['T', 't']).map(|(_, t)| t) else {
        return problems;
    };
    let fraction = time
        .split_once('.')
        .map(|(_, f)| f.chars().take_while(char::is_ascii_digit).count());
    if fraction.is_some_and(|n| n > 7) {
        problems.push((
            "at most 7 fraction digits, e.g. 2021-05-14T17:52:44.4960899+08:00",
            "has more than 7 fraction digits",
        ));
    }
    if s.ends_with(['Z', 'z']) {
        problems.push(("a numeric offset: +00:00 for UTC", "uses Z for UTC"));
    }
    problems
}

/// A key written twice in one object fails the S check of that object: receivers
/// disagree on which value wins (first or last), and the real sender never repeats one.
fn duplicate_keys(kind: Kind, lex: &lexical::Lexical, out: &mut Vec<Finding>) {
    for p in &lex.duplicate_keys {
        let check = match kind {
            Kind::V1 => Check::S5,
            _ if p.starts_with("/EventData/") => Check::S2,
            _ => Check::S1,
        };
        out.push(
            Finding::new(check, "a key is written twice in one object")
                .pointer(p.clone())
                .expected("each key once (receivers disagree on which of two values wins)")
                .found("the key twice"),
        );
    }
}

/// S6: escapes and whitespace, read off the raw text.
fn forms_of_text(lex: &lexical::Lexical, out: &mut Vec<Finding>) {
    for e in &lex.foreign_escapes {
        out.push(
            Finding::at(
                Check::S6,
                Level::Warn,
                format!("a character written as a \\u escape, unlike {SENDER_FORMS}"),
            )
            .pointer(e.pointer.clone())
            .expected(
                "raw UTF-8 (e.g. 直播间 and &, <, >, not \\u76f4\\u64ad\\u95f4 or \\u0026, \\u003c, \\u003e); \\u only for control characters",
            )
            .found(format!("{} (the first such escape in the string)", e.escape)),
        );
    }
    if lex.whitespace {
        out.push(
            Finding::at(
                Check::S6,
                Level::Warn,
                format!("body has whitespace between tokens (pretty-printed), unlike {SENDER_FORMS}"),
            )
            .pointer("")
            .expected("compact JSON with no whitespace outside strings")
            .found("whitespace outside strings"),
        );
    }
}

/// One request header, as it arrived.
pub type Header = (String, String);

fn header<'a>(headers: &'a [Header], name: &str) -> Vec<&'a str> {
    headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
        .collect()
}

/// T1, T2, T3, T5 of one request.
pub fn judge_request(method: &str, headers: &[Header]) -> Vec<Finding> {
    let mut out = Vec::new();
    if method != "POST" {
        out.push(
            Finding::new(Check::T1, format!("method is {method}"))
                .expected("POST")
                .found(method),
        );
    }
    match header(headers, "content-type").as_slice() {
        [] => out.push(
            Finding::new(Check::T2, "no Content-Type header")
                .expected("application/json")
                .found("nothing"),
        ),
        [ct] => {
            let (media, params) = ct.split_once(';').unwrap_or((ct, ""));
            if !media.trim().eq_ignore_ascii_case("application/json") {
                out.push(
                    Finding::new(Check::T2, "Content-Type is not application/json")
                        .expected("application/json")
                        .found(*ct),
                );
            } else if !params.trim().is_empty() || media != "application/json" {
                out.push(
                    Finding::at(
                        Check::T2,
                        Level::Warn,
                        "Content-Type differs from the real sender's exact header",
                    )
                    .expected("application/json (no parameter)")
                    .found(*ct),
                );
            }
        }
        many => out.push(
            Finding::new(Check::T2, "more than one Content-Type header")
                .expected("application/json")
                .found(many.join(" | ")),
        ),
    }
    match header(headers, "user-agent").as_slice() {
        [ua] if is_recorder_agent(ua) => {}
        [] => out.push(
            Finding::new(Check::T3, "no User-Agent header")
                .expected("BililiveRecorder/<semver>, e.g. BililiveRecorder/2.17.3")
                .found("nothing"),
        ),
        uas => out.push(
            Finding::new(Check::T3, "User-Agent is not BililiveRecorder/<semver>")
                .expected("BililiveRecorder/<semver>, e.g. BililiveRecorder/2.17.3")
                .found(uas.join(" | ")),
        ),
    }
    let chunked = header(headers, "transfer-encoding")
        .iter()
        .any(|v| v.to_ascii_lowercase().contains("chunked"));
    if header(headers, "content-length").is_empty() {
        out.push(
            Finding::new(
                Check::T5,
                if chunked {
                    "body sent chunked, without Content-Length"
                } else {
                    "no Content-Length header"
                },
            )
            .expected("Content-Length (the real sender sets it)")
            .found(if chunked {
                "Transfer-Encoding: chunked"
            } else {
                "nothing"
            }),
        );
    }
    out
}

/// `BililiveRecorder/<semver>`: MAJOR.MINOR.PATCH, optional `-pre.release` and `+build`.
pub fn is_recorder_agent(ua: &str) -> bool {
    let Some(v) = ua.strip_prefix("BililiveRecorder/") else {
        return false;
    };
    let (v, build) = match v.split_once('+') {
        Some((v, b)) => (v, Some(b)),
        None => (v, None),
    };
    let (core, pre) = match v.split_once('-') {
        Some((c, p)) => (c, Some(p)),
        None => (v, None),
    };
    let numeric =
        |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) && (s == "0" || !s.starts_with('0'));
    let ident = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    let parts: Vec<_> = core.split('.').collect();
    parts.len() == 3
        && parts.iter().all(|p| numeric(p))
        && pre.is_none_or(|p| p.split('.').all(ident))
        && build.is_none_or(|b| b.split('.').all(ident))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recorder_agents() {
        for ok in [
            "BililiveRecorder/2.17.3",
            "BililiveRecorder/2.6.0-beta.1",
            "BililiveRecorder/1.3.1+Branch.dev.Sha.abc",
        ] {
            assert!(is_recorder_agent(ok), "{ok}");
        }
        for bad in [
            "BililiveRecorder",
            "BililiveRecorder/2.17",
            "curl/8.0",
            "BililiveRecorder/02.1.0",
            "BililiveRecorder/2.1.0-",
            "bililiverecorder/2.1.0",
        ] {
            assert!(!is_recorder_agent(bad), "{bad}");
        }
    }
}
