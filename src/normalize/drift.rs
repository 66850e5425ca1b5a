//! Drift between two normalized captures: [`Drift`], and [`diff`], which compares the
//! fields of each event type and the headers of each URL name.

use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// One difference in shape between a baseline and a current capture.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Drift {
    /// `field-added`, `field-removed`, `type-changed`, `event-type-new`,
    /// `event-type-gone`, `header-changed`, `header-added` or `header-removed`.
    pub kind: &'static str,
    /// Where: `v2 FileClosed /EventData/RoomId`, `v1 record /FileSize`, `v2 FileClosed`
    /// (a whole event type), or `url plain: user-agent` (a header at one URL name).
    pub path: String,
    /// The baseline's form(s) or value(s), `|`-joined.
    pub was: Option<String>,
    /// The current form(s) or value(s), `|`-joined.
    pub now: Option<String>,
}

impl fmt::Display for Drift {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:<15} {}", self.kind, self.path)?;
        match (&self.was, &self.now) {
            (Some(w), Some(n)) => write!(f, ": was {w}, now {n}"),
            (Some(w), None) => write!(f, ": was {w}"),
            (None, Some(n)) => write!(f, ": now {n}"),
            (None, None) => Ok(()),
        }
    }
}

/// Path → forms seen there, per event group (`v2 FileClosed`, `v1 record`, `other`).
type Shapes = BTreeMap<String, BTreeMap<String, BTreeSet<String>>>;
/// URL name → header name → values seen.
type Headers = BTreeMap<String, BTreeMap<String, BTreeSet<String>>>;

fn collect(v: &Value) -> (Shapes, Headers) {
    let mut shapes = Shapes::new();
    let mut headers = Headers::new();
    for r in v["requests"].as_array().into_iter().flatten() {
        let kind = r["kind"].as_str().unwrap_or("other");
        let body = &r["body"];
        let group = match kind {
            "v2" => match body.get("EventType").and_then(Value::as_str) {
                Some(t) if !t.starts_with('<') => format!("v2 {t}"),
                _ => "v2 (no string EventType)".to_string(),
            },
            "v1" => "v1 record".to_string(),
            k => k.to_string(),
        };
        flatten(body, String::new(), shapes.entry(group).or_default());
        let url = r["url"].as_str().unwrap_or("?").to_string();
        let at = headers.entry(url).or_default();
        for (name, value) in r["headers"].as_object().into_iter().flatten() {
            let set = at.entry(name.clone()).or_default();
            match value {
                Value::Array(a) => set.extend(a.iter().map(text)),
                v => {
                    set.insert(text(v));
                }
            }
        }
    }
    (shapes, headers)
}

fn text(v: &Value) -> String {
    v.as_str().map_or_else(|| v.to_string(), str::to_string)
}

fn flatten(v: &Value, path: String, out: &mut BTreeMap<String, BTreeSet<String>>) {
    match v {
        Value::Object(m) => {
            out.entry(path.clone()).or_default().insert("<object>".into());
            for (k, x) in m {
                let k = crate::lexical::escape_token(k);
                flatten(x, format!("{path}/{k}"), out);
            }
        }
        Value::Array(a) => {
            out.entry(path.clone()).or_default().insert("<array>".into());
            for x in a {
                flatten(x, format!("{path}/*"), out);
            }
        }
        Value::String(s) => {
            out.entry(path).or_default().insert(generic(s));
        }
        other => {
            out.entry(path).or_default().insert(other.to_string());
        }
    }
}

/// Forms that differ between runs without being drift, made equal.
fn generic(s: &str) -> String {
    if s.starts_with("<event-") {
        "<event-id>".into()
    } else if s.starts_with("<session-") {
        "<session-id>".into()
    } else if s.starts_with("<not json:") {
        "<not json>".into()
    } else if s.starts_with("<not read:") {
        "<not read>".into()
    } else {
        s.to_string()
    }
}

fn join(set: &BTreeSet<String>) -> String {
    set.iter().cloned().collect::<Vec<_>>().join(" | ")
}

/// Drift from `baseline` to `current`, both [`normalize`](super::normalize)d: event types new or gone,
/// fields added, removed or of another form within an event type, headers added,
/// removed or changed at a URL name. Empty when the shapes agree.
pub fn diff(baseline: &Value, current: &Value) -> Vec<Drift> {
    let (bs, bh) = collect(baseline);
    let (cs, ch) = collect(current);
    let mut out = Vec::new();
    let drift = |kind, path: String, was: Option<String>, now: Option<String>| Drift { kind, path, was, now };
    let groups: BTreeSet<&String> = bs.keys().chain(cs.keys()).collect();
    for g in groups {
        let (b, c) = match (bs.get(g), cs.get(g)) {
            (Some(b), Some(c)) => (b, c),
            (Some(_), None) => {
                out.push(drift("event-type-gone", g.clone(), None, None));
                continue;
            }
            (None, _) => {
                out.push(drift("event-type-new", g.clone(), None, None));
                continue;
            }
        };
        let paths: BTreeSet<&String> = b.keys().chain(c.keys()).collect();
        let mut reported: Vec<&str> = Vec::new();
        for p in paths {
            if reported
                .iter()
                .any(|r| p.strip_prefix(r).is_some_and(|rest| rest.starts_with('/')))
            {
                continue;
            }
            let at = format!("{g} {}", if p.is_empty() { "/" } else { p });
            let d = match (b.get(p), c.get(p)) {
                (Some(w), None) => drift("field-removed", at, Some(join(w)), None),
                (None, Some(n)) => drift("field-added", at, None, Some(join(n))),
                (Some(w), Some(n)) if w != n => drift("type-changed", at, Some(join(w)), Some(join(n))),
                _ => continue,
            };
            out.push(d);
            reported.push(p);
        }
    }
    let empty = BTreeMap::new();
    let urls: BTreeSet<&String> = bh.keys().chain(ch.keys()).collect();
    for u in urls {
        let (b, c) = (bh.get(u).unwrap_or(&empty), ch.get(u).unwrap_or(&empty));
        let names: BTreeSet<&String> = b.keys().chain(c.keys()).collect();
        for n in names {
            let at = format!("url {u}: {n}");
            match (b.get(n), c.get(n)) {
                (Some(w), None) => out.push(drift("header-removed", at, Some(join(w)), None)),
                (None, Some(v)) => out.push(drift("header-added", at, None, Some(join(v)))),
                (Some(w), Some(v)) if w != v => {
                    out.push(drift("header-changed", at, Some(join(w)), Some(join(v))))
                }
                _ => {}
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drift_display() {
        let d = Drift {
            kind: "type-changed",
            path: "v2 FileClosed /EventData/RoomId".into(),
            was: Some("<integer>".into()),
            now: Some("<string>".into()),
        };
        assert_eq!(
            d.to_string(),
            "type-changed    v2 FileClosed /EventData/RoomId: was <integer>, now <string>"
        );
    }
}
