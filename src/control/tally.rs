//! A capture's counts as each request is recorded, published on a watch channel:
//! a `wait` blocks on the channel until its counts are reached (no polling), and
//! `GET /v1/captures/{id}` reads the last value.
//!
//! An event counts once it has reached every URL of its setting (retries and the
//! other URLs' copies are one event). To know that, the tally keeps one entry per
//! distinct event: a 64-bit hash of (setting, identity) and a bit per URL reached,
//! 16 bytes and the map's overhead. That is the one thing that grows with a capture;
//! the journal on disk is the record.

use crate::journal::{Request, UrlSpec};
use crate::protocol::Setting;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::Mutex;
use tokio::sync::watch;

/// The most URLs a capture may have: one bit each, and one for "counted".
pub const MAX_URLS: usize = 63;
const COUNTED: u64 = 1 << 63;

/// Where a capture is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Taking requests.
    Open,
    /// Judged: nothing more is recorded.
    Finished,
    /// Dropped by `DELETE`.
    Deleted,
}

impl Phase {
    /// The word the API answers with.
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Open => "open",
            Phase::Finished => "finished",
            Phase::Deleted => "deleted",
        }
    }
}

/// A capture's counts so far.
#[derive(Debug, Clone, PartialEq)]
pub struct Counts {
    /// Every request recorded, strays included.
    pub requests: u64,
    /// Distinct events that reached every URL of their setting.
    pub events: u64,
    /// Requests to a path of the capture that names none of its URLs.
    pub stray: u64,
    /// Requests per URL, in the order the URLs were given.
    pub urls: Vec<(String, u64)>,
    /// Open, finished or deleted.
    pub phase: Phase,
}

impl Counts {
    /// The counts as the API's JSON object.
    pub fn to_json(&self) -> serde_json::Value {
        let urls: serde_json::Map<String, serde_json::Value> =
            self.urls.iter().map(|(n, c)| (n.clone(), (*c).into())).collect();
        serde_json::json!({
            "requests": self.requests,
            "events": self.events,
            "stray": self.stray,
            "urls": urls,
            "state": self.phase.as_str(),
        })
    }
}

/// The counts of one capture, fed by its judge's sink.
pub struct Tally {
    inner: Mutex<Inner>,
    tx: watch::Sender<Counts>,
}

struct Inner {
    names: Vec<String>,
    settings: Vec<Setting>,
    /// Per setting, the bits of all its URLs: an event is complete at its setting's mask.
    need: HashMap<Setting, u64>,
    /// Per distinct event (hash of setting and identity): the URLs it reached.
    reached: HashMap<u64, u64>,
    counts: Counts,
}

impl Tally {
    /// A tally for these URLs (at most [`MAX_URLS`]; the caller checks).
    pub fn new(urls: &[UrlSpec]) -> Tally {
        let mut need = HashMap::new();
        for (i, u) in urls.iter().enumerate().take(MAX_URLS) {
            *need.entry(u.setting()).or_insert(0) |= 1u64 << i;
        }
        let counts = Counts {
            requests: 0,
            events: 0,
            stray: 0,
            urls: urls.iter().map(|u| (u.name.clone(), 0)).collect(),
            phase: Phase::Open,
        };
        Tally {
            inner: Mutex::new(Inner {
                names: urls.iter().map(|u| u.name.clone()).collect(),
                settings: urls.iter().map(UrlSpec::setting).collect(),
                need,
                reached: HashMap::new(),
                counts: counts.clone(),
            }),
            tx: watch::channel(counts).0,
        }
    }

    /// Counts one request (called as each is recorded, before it is answered).
    pub fn take(&self, r: &Request) {
        let mut inner = self.inner.lock().expect("lock");
        let inner = &mut *inner;
        inner.counts.requests += 1;
        let url = r
            .url
            .as_ref()
            .and_then(|n| inner.names.iter().position(|x| x == n));
        match url {
            None => inner.counts.stray += 1,
            Some(i) => {
                inner.counts.urls[i].1 += 1;
                // An empty body names no event.
                if !r.body.is_empty() && i < MAX_URLS {
                    let setting = inner.settings[i];
                    let mut h = std::collections::hash_map::DefaultHasher::new();
                    (setting, crate::body::identity(&r.body)).hash(&mut h);
                    let bits = inner.reached.entry(h.finish()).or_insert(0);
                    *bits |= 1 << i;
                    let need = inner.need.get(&setting).copied().unwrap_or(0);
                    if *bits & COUNTED == 0 && *bits & need == need {
                        *bits |= COUNTED;
                        inner.counts.events += 1;
                    }
                }
            }
        }
        self.tx.send_replace(inner.counts.clone());
    }

    /// The capture is finished or deleted: waiters see it at once.
    pub fn end(&self, phase: Phase) {
        let mut inner = self.inner.lock().expect("lock");
        inner.counts.phase = phase;
        self.tx.send_replace(inner.counts.clone());
    }

    /// The counts so far.
    pub fn now(&self) -> Counts {
        self.tx.borrow().clone()
    }

    /// A receiver to wait on.
    pub fn watch(&self) -> watch::Receiver<Counts> {
        self.tx.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fault::Fault;
    use crate::journal::Response;

    fn url(name: &str, setting: Setting) -> UrlSpec {
        UrlSpec {
            name: name.into(),
            fault: Fault::default(),
            setting: Some(setting),
            upstream: None,
        }
    }

    fn req(url: Option<&str>, body: &str) -> Request {
        Request {
            seq: 1,
            conn: 1,
            at_ms: 0.0,
            method: "POST".into(),
            target: "/".into(),
            url: url.map(Into::into),
            headers: Vec::new(),
            body: body.as_bytes().to_vec(),
            body_error: None,
            response: Response {
                status: Some(200),
                at_ms: 0.0,
                abandoned_ms: None,
            },
            upstream: None,
            sent: None,
        }
    }

    /// An event counts once every URL of its setting has it; retries and a v1 record
    /// count apart; a stray request counts as a request only.
    #[test]
    fn an_event_counts_once_it_reached_every_url_of_its_setting() {
        let t = Tally::new(&[
            url("a", Setting::V2),
            url("b", Setting::V2),
            url("old", Setting::V1),
        ]);
        let e1 = r#"{"EventType":"SessionStarted","EventId":"e1"}"#;
        t.take(&req(Some("a"), e1));
        t.take(&req(Some("a"), e1));
        assert_eq!(t.now().events, 0, "b has not got it yet");
        t.take(&req(Some("b"), e1));
        assert_eq!(t.now().events, 1);
        t.take(&req(Some("b"), e1));
        assert_eq!(t.now().events, 1, "a retry is the same event");
        t.take(&req(Some("old"), r#"{"EventRandomId":"r1"}"#));
        t.take(&req(None, e1));
        t.take(&req(Some("a"), ""));
        let c = t.now();
        assert_eq!((c.events, c.requests, c.stray), (2, 7, 1));
        assert_eq!(c.urls, vec![("a".into(), 3), ("b".into(), 2), ("old".into(), 1)]);
    }
}
