//! The placeholders of a capture: each request to a configured URL parsed once, its
//! attempt number, and the `<event-N>` / `<session-N>` names that stand for event and
//! session ids.

use super::shape::{headers, is_guid, shape};
use crate::journal::{Journal, Request};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Placeholders of one capture: event identity → `<event-N>`, SessionId → `<session-N>`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Names {
    /// Event identity ([`crate::body::identity`]) → its `<event-N>` placeholder.
    pub events: BTreeMap<String, String>,
    /// `SessionId` → its `<session-N>` placeholder.
    pub sessions: BTreeMap<String, String>,
}

impl Names {
    /// The placeholder of an event id or session id, if the capture has it.
    pub fn of(&self, id: &str) -> Option<&str> {
        self.events
            .get(id)
            .or_else(|| self.sessions.get(id))
            .map(String::as_str)
    }
}

/// The `N` of an `<event-N>` placeholder.
pub(super) fn event_number(placeholder: &str) -> Option<usize> {
    placeholder
        .strip_prefix("<event-")?
        .strip_suffix('>')?
        .parse()
        .ok()
}

/// One request to a configured URL, parsed once.
pub(super) struct Parsed<'a> {
    pub req: &'a Request,
    pub url: &'a str,
    pub id: String,
    pub kind: &'static str,
    pub value: Option<Value>,
    /// The body's shape with generic id forms (no placeholders yet), as text.
    pub generic: String,
}

pub(super) fn parse(j: &Journal) -> Vec<Parsed<'_>> {
    let mut out: Vec<Parsed> = j
        .requests
        .iter()
        .filter_map(|req| {
            let url = req.url.as_deref()?;
            let value = match &req.body_error {
                None => serde_json::from_slice::<Value>(&req.body).ok(),
                Some(_) => None,
            };
            let kind = kind_of(value.as_ref());
            let generic = shape(req, value.as_ref(), kind, &Names::default()).to_string();
            Some(Parsed {
                req,
                url,
                id: crate::body::identity(&req.body),
                kind,
                value,
                generic,
            })
        })
        .collect();
    out.sort_by_key(|p| p.req.seq);
    out
}

/// v2 or v1 by the same rule as the body judge; anything else is `other`.
fn kind_of(value: Option<&Value>) -> &'static str {
    value
        .and_then(Value::as_object)
        .map_or("other", |obj| crate::body::Kind::of(obj).as_str())
}

fn event_type<'a>(value: Option<&'a Value>, kind: &str) -> Option<&'a str> {
    match kind {
        "v2" => value?.get("EventType")?.as_str(),
        _ => None,
    }
}

/// Attempt numbers: k-th request (by arrival) of one event at one URL.
pub(super) fn attempts(parsed: &[Parsed]) -> Vec<usize> {
    let mut seen: HashMap<(&str, &str), usize> = HashMap::new();
    parsed
        .iter()
        .map(|p| {
            let n = seen.entry((p.url, p.id.as_str())).or_insert(0);
            *n += 1;
            *n
        })
        .collect()
}

/// The placeholders of a capture, as [`normalize`](super::normalize) assigns them.
pub fn names(j: &Journal) -> Names {
    let parsed = parse(j);
    names_of(&parsed, &attempts(&parsed))
}

pub(super) fn names_of(parsed: &[Parsed], attempt: &[usize]) -> Names {
    #[derive(Default)]
    struct Ev<'a> {
        ty: Option<&'a str>,
        shapes: BTreeSet<&'a str>,
        kinds: BTreeSet<&'static str>,
        delivery: Vec<String>,
        first: u64,
        members: Vec<usize>,
    }
    let mut events: HashMap<&str, Ev> = HashMap::new();
    for (i, p) in parsed.iter().enumerate() {
        let e = events.entry(p.id.as_str()).or_insert_with(|| Ev {
            first: p.req.seq,
            ..Ev::default()
        });
        if e.ty.is_none() {
            e.ty = event_type(p.value.as_ref(), p.kind);
        }
        e.shapes.insert(&p.generic);
        e.kinds.insert(p.kind);
        e.delivery.push(format!(
            "{}|{}|{}|{:?}|{}",
            p.url,
            attempt[i],
            p.req.method,
            p.req.response.status,
            Value::Object(headers(&p.req.headers))
        ));
        e.members.push(i);
    }
    let mut list: Vec<(&str, Ev)> = events.into_iter().collect();
    for (_, e) in &mut list {
        e.delivery.sort();
    }
    list.sort_by(|(_, a), (_, b)| {
        (a.ty.is_none(), a.ty, &a.shapes, &a.kinds, &a.delivery, a.first).cmp(&(
            b.ty.is_none(),
            b.ty,
            &b.shapes,
            &b.kinds,
            &b.delivery,
            b.first,
        ))
    });
    let mut names = Names::default();
    for (n, (id, e)) in list.iter().enumerate() {
        names.events.insert(id.to_string(), format!("<event-{}>", n + 1));
        for &i in &e.members {
            let mut found = Vec::new();
            if let Some(v) = &parsed[i].value {
                session_ids(v, &mut found);
            }
            for s in found {
                let next = names.sessions.len() + 1;
                names
                    .sessions
                    .entry(s.to_string())
                    .or_insert_with(|| format!("<session-{next}>"));
            }
        }
    }
    names
}

fn session_ids<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                match x.as_str() {
                    Some(s) if k == "SessionId" && is_guid(s) => out.push(s),
                    _ => session_ids(x, out),
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|x| session_ids(x, out)),
        _ => {}
    }
}
