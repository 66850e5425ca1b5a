//! Fresh ids for a replay, written into the captured bytes without re-serialising them.
//!
//! Each GUID value of `EventId`, `EventRandomId` and `EventData.SessionId` is replaced,
//! in every JSON string of the body that is exactly that GUID, by a fresh GUID of the
//! same length and letter case. One original id always maps to the same fresh id (a session's events keep one
//! `SessionId`), through a bounded map of recent ids.

use crate::common::Recent;
use serde_json::Value;
use uuid::Uuid;

/// Ids remembered per half of the window: a session's ids stay found while it lasts.
const RECENT_IDS: usize = 1 << 16;

/// The original → fresh id map of one replay.
pub(crate) struct Ids {
    map: Recent<Uuid, Uuid>,
}

/// What rewriting one body did.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Rewritten {
    /// The body's own id (`EventId` or `EventRandomId`) after rewriting, when it had one.
    pub id: Option<String>,
    /// Id values left as they were: not a GUID, or not written literally (`\u` escapes).
    pub kept: u32,
}

impl Ids {
    pub(crate) fn new() -> Ids {
        Ids {
            map: Recent::new(RECENT_IDS),
        }
    }

    /// The fresh id of `original`, made on first sight.
    fn fresh(&mut self, original: Uuid) -> Uuid {
        if let Some(f) = self.map.get(&original) {
            return f;
        }
        let f = Uuid::new_v4();
        self.map.insert(original, f);
        f
    }

    /// Rewrites the id values of `body` (parsed as `value`) in `bytes`, in place.
    pub(crate) fn rewrite(&mut self, bytes: &mut [u8], value: &Value) -> Rewritten {
        let own = value
            .get("EventId")
            .or_else(|| value.get("EventRandomId"))
            .and_then(Value::as_str);
        let session = value
            .get("EventData")
            .and_then(|d| d.get("SessionId"))
            .and_then(Value::as_str);
        let mut out = Rewritten::default();
        let mut own_new = None;
        for (text, is_own) in [(own, true), (session, false)] {
            let Some(text) = text else { continue };
            match self.replace(bytes, text) {
                Some(new) => {
                    if is_own {
                        own_new = Some(new);
                    }
                }
                None => out.kept += 1,
            }
        }
        out.id = own_new.or(own.map(String::from));
        out
    }

    /// Replaces every JSON string that is exactly the GUID `text` (quotes included, so a
    /// match never starts inside an escape); the fresh text, or `None` when `text` is no
    /// 36-character GUID or is not written literally.
    fn replace(&mut self, bytes: &mut [u8], text: &str) -> Option<String> {
        if text.len() != 36 {
            return None;
        }
        let original = Uuid::try_parse(text).ok()?;
        let fresh = self.fresh(original).hyphenated().to_string();
        let fresh = if text.bytes().any(|b| b.is_ascii_uppercase()) {
            fresh.to_ascii_uppercase()
        } else {
            fresh
        };
        let needle = format!("\"{text}\"");
        let needle = needle.as_bytes();
        let mut found = false;
        let mut i = 0;
        while i + needle.len() <= bytes.len() {
            if &bytes[i..i + needle.len()] == needle {
                bytes[i + 1..i + 1 + fresh.len()].copy_from_slice(fresh.as_bytes());
                found = true;
                i += needle.len();
            } else {
                i += 1;
            }
        }
        found.then_some(fresh)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rewrite(ids: &mut Ids, body: &str) -> (String, Rewritten) {
        let v: Value = serde_json::from_str(body).unwrap();
        let mut b = body.as_bytes().to_vec();
        let r = ids.rewrite(&mut b, &v);
        (String::from_utf8(b).unwrap(), r)
    }

    #[test]
    fn same_length_consistent_and_case_kept() {
        let mut ids = Ids::new();
        let a = r#"{"EventType":"FileOpening","EventId":"e3e1c9ec-f386-4bc3-9e5a-661bf3ed2fb2","EventData":{"SessionId":"7eb0b5d5-c4d3-43c6-9b3b-0c3a4d9ad0cf","Title":"e3e1c9ec"}}"#;
        let b = r#"{"EventType":"FileClosed","EventId":"98F85267-E08C-4F15-AD9A-1FC463D42B0B","EventData":{"SessionId":"7eb0b5d5-c4d3-43c6-9b3b-0c3a4d9ad0cf"}}"#;
        let (ra, ia) = rewrite(&mut ids, a);
        let (rb, ib) = rewrite(&mut ids, b);
        assert_eq!((ra.len(), rb.len()), (a.len(), b.len()), "same length");
        assert!(
            !ra.contains("e3e1c9ec-f386") && !ra.contains("7eb0b5d5") && ra.contains(r#""Title":"e3e1c9ec""#)
        );
        let session = |s: &str| serde_json::from_str::<Value>(s).unwrap()["EventData"]["SessionId"].clone();
        assert_eq!(
            session(&ra),
            session(&rb),
            "one session keeps one fresh SessionId"
        );
        let idb = ib.id.clone().unwrap();
        assert_eq!(idb, idb.to_ascii_uppercase(), "an uppercase GUID stays uppercase");
        assert_ne!(ia.id, ib.id);
        // The same event again (a retry, another URL) gets the same fresh id.
        let (ra2, _) = rewrite(&mut ids, a);
        assert_eq!(ra, ra2);
    }

    #[test]
    fn ids_that_cannot_be_rewritten_are_kept_and_counted() {
        let mut ids = Ids::new();
        let body = r#"{"EventType":"X","EventId":"123","EventData":{"SessionId":"\u0037eb0b5d5-c4d3-43c6-9b3b-0c3a4d9ad0cf"}}"#;
        let (out, r) = rewrite(&mut ids, body);
        assert_eq!(out, body);
        assert_eq!(r.kept, 2);
        assert_eq!(r.id.as_deref(), Some("123"));
    }
}
