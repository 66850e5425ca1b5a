//! A request with run-dependent values redacted: its headers, and its body's shape
//! (each leaf replaced by its type and form, ids by their placeholders), with the
//! GUID and date-time scanners the redactions share.

use super::Names;
use crate::journal::Request;
use serde_json::{json, Map, Value};

/// Headers with names lowercased and run-dependent values redacted.
pub(super) fn headers(hs: &[(String, String)]) -> Map<String, Value> {
    let mut out = Map::new();
    for (name, value) in hs {
        let name = name.to_ascii_lowercase();
        let value = match name.as_str() {
            "host" => "<host>".to_string(),
            "content-length" => "<len>".to_string(),
            "user-agent" if crate::body::is_recorder_agent(value) => "BililiveRecorder/<version>".to_string(),
            _ => value.clone(),
        };
        match out.get_mut(&name) {
            None => {
                out.insert(name, Value::String(value));
            }
            Some(Value::Array(a)) => a.push(Value::String(value)),
            Some(first) => *first = json!([first.take(), value]),
        }
    }
    out
}

pub(super) fn shape(req: &Request, value: Option<&Value>, kind: &str, names: &Names) -> Value {
    if let Some(e) = &req.body_error {
        return Value::String(format!("<not read: {e}>"));
    }
    match value {
        Some(v) => tree(v, kind == "v2", None, names),
        None => Value::String(format!("<not json: {} bytes>", req.body.len())),
    }
}

fn tree(v: &Value, root_v2: bool, key: Option<&str>, names: &Names) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, x)| {
                    let s = match (k.as_str(), x) {
                        ("EventType", Value::String(t)) if root_v2 => Value::String(t.clone()),
                        _ => tree(x, false, Some(k), names),
                    };
                    (k.clone(), s)
                })
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(|x| tree(x, false, None, names)).collect()),
        Value::String(s) => {
            let placeholder = match key {
                Some("EventId" | "EventRandomId") if is_guid(s) => names.events.get(s.as_str()),
                Some("SessionId") if is_guid(s) => names.sessions.get(s.as_str()),
                _ => None,
            };
            Value::String(match placeholder {
                Some(p) => p.clone(),
                None => form(s).to_string(),
            })
        }
        Value::Number(n) if n.is_i64() || n.is_u64() => "<integer>".into(),
        Value::Number(_) => "<number>".into(),
        Value::Bool(_) => "<bool>".into(),
        Value::Null => "<null>".into(),
    }
}

/// The form of a string leaf.
fn form(s: &str) -> &'static str {
    if is_guid(s) {
        return "<guid>";
    }
    match date_time_at(s.as_bytes(), 0) {
        Some((n, true)) if n == s.len() => "<date-time+offset>",
        Some((n, false)) if n == s.len() => "<date-time>",
        _ => "<string>",
    }
}

/// `8-4-4-4-12` hex digits, either case.
pub fn is_guid(s: &str) -> bool {
    guid_bytes(s.as_bytes())
}

pub(super) fn guid_bytes(b: &[u8]) -> bool {
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// An ISO 8601 date-time starting at `i`: `YYYY-MM-DDTHH:MM:SS[.fff][Z|±HH:MM]`.
/// Returns its length in bytes and whether it has an offset.
pub(super) fn date_time_at(b: &[u8], i: usize) -> Option<(usize, bool)> {
    let digits =
        |from: usize, n: usize| from + n <= b.len() && b[from..from + n].iter().all(u8::is_ascii_digit);
    let at = |k: usize, c: u8| b.get(k) == Some(&c);
    let ok = digits(i, 4)
        && at(i + 4, b'-')
        && digits(i + 5, 2)
        && at(i + 7, b'-')
        && digits(i + 8, 2)
        && at(i + 10, b'T')
        && digits(i + 11, 2)
        && at(i + 13, b':')
        && digits(i + 14, 2)
        && at(i + 16, b':')
        && digits(i + 17, 2);
    if !ok {
        return None;
    }
    let mut k = i + 19;
    if at(k, b'.') && digits(k + 1, 1) {
        k += 1;
        while b.get(k).is_some_and(u8::is_ascii_digit) {
            k += 1;
        }
    }
    if at(k, b'Z') {
        return Some((k + 1 - i, true));
    }
    if (at(k, b'+') || at(k, b'-')) && digits(k + 1, 2) && at(k + 3, b':') && digits(k + 4, 2) {
        return Some((k + 6 - i, true));
    }
    Some((k - i, false))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms() {
        assert_eq!(form("e3e1c9ec-f386-4bc3-9e5a-661bf3ed2fb2"), "<guid>");
        assert_eq!(form("2021-05-14T17:52:44.4182643+08:00"), "<date-time+offset>");
        assert_eq!(form("2021-05-14T17:52:44Z"), "<date-time+offset>");
        assert_eq!(form("2021-05-14T17:52:44.123"), "<date-time>");
        assert_eq!(form("2021-05-14T17:52:44+08:00 later"), "<string>");
        assert_eq!(form("录制"), "<string>");
    }
}
