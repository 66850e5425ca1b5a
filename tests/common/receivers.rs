//! The buggy-receiver zoo: one small HTTP receiver, correct or with one bug a real
//! receiver has had, for the binaries that judge receivers (`send` in receiver.rs,
//! `replay` in replay.rs). One zoo, so a bug means the same answer wherever it is used,
//! and each check's trip and quiet case are written against the same receivers.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use serde_json::Value;
use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Bug {
    /// None: answers 204, de-duplicates by EventId.
    Correct,
    /// R1: requires the 2.x booleans (rejects 1.3-shape events) with 400.
    Requires2x,
    /// R3: an enum of the known types; anything else is 422.
    ClosedEnum,
    /// R4: rejects fields it does not know with 400.
    DenyUnknownFields,
    /// R5: EventId as a primary key: a second insert is a 500.
    EventIdPrimaryKey,
    /// R6: 409 on a FileClosed without a prior FileOpening.
    OrderStrict,
    /// R7: `data["SessionId"]` in the handler of every known type: KeyError (500) on the
    /// stream events.
    KeyErrorSessionId,
    /// R8: a date parser that cannot read a negative offset (-07:00): 400.
    NoNegativeOffset,
    /// R8 (and R1): a date parser with at most 6 fraction digits: 400.
    SixFractionDigits,
    /// R9: v1 records (no EventType) rejected with 400.
    RejectV1,
    /// R2: holds every answer this long, then 204.
    Slow(Duration),
    /// R1: an old receiver that rejects the 2.x booleans (Recording present) with 400.
    Rejects2x,
    /// R1 (issue 10): 500 to every SessionEnded, whatever else the event carries.
    RejectSessionEnded,
    /// R8: an int32 FileSize column: 500 `int32 overflow on FileSize` above 2^31.
    Int32FileSize,
    /// R6: files keyed by RelativePath alone: 409 on a FileClosed for an unknown path.
    PathKeyed,
    /// None for a recorder's traffic: 409 on a FileOpening for a path already opened
    /// (a unique index on RelativePath).
    UniquePath,
    /// R10: one request at a time, and a FileClosed is processed this long before the
    /// answer.
    SingleThreaded(Duration),
    /// R2 only: a FileClosed is processed this long before the answer, requests in
    /// parallel.
    HoldFileClosed(Duration),
    /// None for a sender that retries: 500 to the first attempt of each body at a path,
    /// 204 to the retry.
    FirstAttempt500,
    /// R1 (issue 16): 500 to every FileClosed.
    RejectFileClosed,
    /// R11 (issue 16): answers 200 to its N-th FileClosed, then the process dies (the
    /// work on the file failed after the answer): every later connection is refused.
    CrashAfterFileClosed(usize),
    /// R11 (issue 16): answers everything, and dies once no request came for this long
    /// (after the run: its background work failed).
    CrashWhenIdle(Duration),
}

/// One request as it arrived.
#[derive(Clone)]
pub struct Hit {
    pub path: String,
    pub body: Bytes,
    /// When it arrived, before its body was read: replay's pacing is judged on it.
    pub at: Instant,
}

#[derive(Default)]
struct State {
    /// Every request received, in arrival order.
    hits: Vec<Hit>,
    /// FileClosed bodies answered.
    closed: usize,
    /// The process is dying: nothing more is answered.
    dead: bool,
    ids: HashSet<String>,
    opened: HashSet<(String, String)>,
    paths: HashSet<String>,
}

/// A running receiver with one bug (or none), on a free loopback port.
pub struct Receiver {
    pub addr: SocketAddr,
    state: Arc<Mutex<State>>,
}

impl Receiver {
    pub async fn start(bug: Bug) -> Receiver {
        let state = Arc::new(Mutex::new(State::default()));
        // The single-threaded receiver's one thread: its own, so two such receivers
        // running at once do not wait on each other.
        let line = Arc::new(tokio::sync::Mutex::new(()));
        let st = Arc::clone(&state);
        let stop = Arc::new(tokio::sync::Notify::new());
        let dies = Arc::clone(&stop);
        let addr = super::serve_until(
            move |req| answer(bug, Arc::clone(&st), Arc::clone(&line), Arc::clone(&dies), req),
            Arc::clone(&stop),
        )
        .await;
        if let Bug::CrashWhenIdle(idle) = bug {
            let st = Arc::clone(&state);
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(idle / 8).await;
                    let last = st.lock().unwrap().hits.last().map(|h| h.at);
                    if last.is_some_and(|t| t.elapsed() > idle) {
                        stop.notify_one();
                        return;
                    }
                }
            });
        }
        Receiver { addr, state }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Every (path, body) received, in arrival order.
    pub fn bodies(&self) -> Vec<(String, Bytes)> {
        let st = self.state.lock().unwrap();
        st.hits.iter().map(|h| (h.path.clone(), h.body.clone())).collect()
    }

    /// The bodies received at `path` and when each arrived.
    pub fn hits(&self, path: &str) -> Vec<(Bytes, Instant)> {
        let st = self.state.lock().unwrap();
        st.hits
            .iter()
            .filter(|h| h.path == path)
            .map(|h| (h.body.clone(), h.at))
            .collect()
    }

    /// How many requests arrived, at any path.
    pub fn total(&self) -> usize {
        self.state.lock().unwrap().hits.len()
    }

    /// A probe at `/v2` (and `/v1`), back-off in ms.
    pub fn probe(&self) -> brhook::Probe {
        brhook::Probe::new(self.url("/v2"))
            .v1(self.url("/v1"))
            .backoff_scale(0.01)
            // R11's last look: soon after the run (the receivers here crash at once).
            .settle(Duration::from_millis(200))
    }
}

// What the strict receivers know: the documented types, top-level fields, EventData
// fields and date-time fields.
fn known(t: &str) -> bool {
    brhook::testkit::protocol::EventKind::parse(t).is_some()
}
const TOP: [&str; 4] = ["EventType", "EventTimestamp", "EventId", "EventData"];
const DATA: [&str; 15] = [
    "SessionId",
    "RoomId",
    "ShortId",
    "Name",
    "Title",
    "AreaNameParent",
    "AreaNameChild",
    "RelativePath",
    "FileSize",
    "Duration",
    "FileOpenTime",
    "FileCloseTime",
    "Recording",
    "Streaming",
    "DanmakuConnected",
];
const TIMES: [&str; 5] = [
    "EventTimestamp",
    "FileOpenTime",
    "FileCloseTime",
    "StartRecordTime",
    "EndRecordTime",
];

/// The date-time strings of a body (top level and EventData).
fn times(v: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for obj in [Some(v), v.get("EventData")].into_iter().flatten() {
        for k in TIMES {
            if let Some(s) = obj.get(k).and_then(Value::as_str) {
                out.push(s.to_string());
            }
        }
    }
    out
}

fn fraction_digits(t: &str) -> usize {
    let Some((_, frac)) = t.split_once('.') else {
        return 0;
    };
    frac.chars().take_while(char::is_ascii_digit).count()
}

fn status(bug: Bug, st: &mut State, v: &Value) -> (u16, &'static str) {
    let code = status_code(bug, st, v);
    let body = match (bug, code) {
        (Bug::Int32FileSize, 500) => "int32 overflow on FileSize",
        (Bug::RejectSessionEnded, 500) => "Internal Server Error: 'NoneType' object is not subscriptable",
        _ => "",
    };
    (code, body)
}

fn status_code(bug: Bug, st: &mut State, v: &Value) -> u16 {
    let ty = v.get("EventType").and_then(Value::as_str);
    let data = v.get("EventData").cloned().unwrap_or(Value::Null);
    let s = |k: &str| data.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    match bug {
        Bug::FirstAttempt500 => {
            // The hit just pushed is this one: an earlier copy makes it a retry.
            let last = st.hits.last().expect("this request");
            let copies = st
                .hits
                .iter()
                .filter(|h| h.path == last.path && h.body == last.body)
                .count();
            if copies == 1 {
                500
            } else {
                204
            }
        }
        Bug::Correct | Bug::Slow(_) | Bug::SingleThreaded(_) | Bug::HoldFileClosed(_) => {
            // De-duplicates by EventId: a retry is answered like the first time.
            if let Some(id) = v.get("EventId").and_then(Value::as_str) {
                st.ids.insert(id.to_string());
            }
            204
        }
        Bug::Requires2x if ty.is_some() && data.get("Recording").is_none() => 400,
        Bug::ClosedEnum if ty.is_some_and(|t| !known(t)) => 422,
        Bug::DenyUnknownFields if ty.is_some() => {
            let top_ok = v.as_object().unwrap().keys().all(|k| TOP.contains(&k.as_str()));
            let data_ok = data
                .as_object()
                .is_some_and(|d| d.keys().all(|k| DATA.contains(&k.as_str())));
            if top_ok && data_ok {
                200
            } else {
                400
            }
        }
        Bug::EventIdPrimaryKey => {
            let id = v
                .get("EventId")
                .or(v.get("EventRandomId"))
                .and_then(Value::as_str)
                .unwrap_or("");
            if st.ids.insert(id.to_string()) {
                201
            } else {
                500
            }
        }
        Bug::OrderStrict => match ty {
            Some("FileOpening") => {
                st.opened.insert((s("SessionId"), s("RelativePath")));
                200
            }
            Some("FileClosed") if !st.opened.contains(&(s("SessionId"), s("RelativePath"))) => 409,
            _ => 200,
        },
        Bug::KeyErrorSessionId if ty.is_some_and(known) && data.get("SessionId").is_none() => 500,
        Bug::NoNegativeOffset
            if times(v)
                .iter()
                .any(|t| t.len() > 6 && t.as_bytes()[t.len() - 6] == b'-') =>
        {
            400
        }
        Bug::SixFractionDigits if times(v).iter().any(|t| fraction_digits(t) > 6) => 400,
        Bug::RejectV1 if ty.is_none() => 400,
        Bug::RejectSessionEnded if ty == Some("SessionEnded") => 500,
        Bug::Rejects2x if data.get("Recording").is_some() => 400,
        Bug::Int32FileSize
            if [Some(v), v.get("EventData")].into_iter().flatten().any(|o| {
                o.get("FileSize")
                    .and_then(Value::as_i64)
                    .is_some_and(|n| n > i64::from(i32::MAX))
            }) =>
        {
            500
        }
        Bug::PathKeyed => match ty {
            Some("FileOpening") => {
                st.paths.insert(s("RelativePath"));
                200
            }
            Some("FileClosed") if !st.paths.contains(&s("RelativePath")) => 409,
            _ => 200,
        },
        Bug::UniquePath if ty == Some("FileOpening") && !st.paths.insert(s("RelativePath")) => 409,
        Bug::RejectFileClosed if ty == Some("FileClosed") => 500,
        _ => 200,
    }
}

async fn answer(
    bug: Bug,
    state: Arc<Mutex<State>>,
    line: Arc<tokio::sync::Mutex<()>>,
    dies: Arc<tokio::sync::Notify>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, hyper::Error> {
    let at = Instant::now();
    let path = req.uri().path().to_string();
    let body = req.into_body().collect().await?.to_bytes();
    // The single-threaded receiver handles one request at a time, start to answer.
    let _thread = match bug {
        Bug::SingleThreaded(_) => Some(line.lock().await),
        _ => None,
    };
    if state.lock().unwrap().dead {
        // Cut when the process is gone (the stop drops the connection).
        std::future::pending::<()>().await;
    }
    let (code, text, closed) = {
        let mut st = state.lock().unwrap();
        st.hits.push(Hit {
            path,
            body: body.clone(),
            at,
        });
        match serde_json::from_slice::<Value>(&body) {
            Ok(v) => {
                let (code, text) = status(bug, &mut st, &v);
                (code, text, v["EventType"] == "FileClosed")
            }
            Err(_) => (400, "", false),
        }
    };
    let mut dying = false;
    if closed {
        let mut st = state.lock().unwrap();
        st.closed += 1;
        if matches!(bug, Bug::CrashAfterFileClosed(k) if k == st.closed) {
            // Answers this one, then dies: nothing else is answered from now on.
            st.dead = true;
            dying = true;
            tokio::spawn(async move {
                // Time for this answer to reach the sender before the connections go.
                tokio::time::sleep(Duration::from_millis(200)).await;
                dies.notify_one();
            });
        }
    }
    if !dying && state.lock().unwrap().dead {
        std::future::pending::<()>().await;
    }
    if dying {
        // Its answer goes out well after every other (those still in flight are never
        // answered), so it is the last the sender saw, scheduling noise and all.
        tokio::time::sleep(Duration::from_millis(60)).await;
    }
    match bug {
        Bug::Slow(d) => tokio::time::sleep(d).await,
        Bug::SingleThreaded(d) | Bug::HoldFileClosed(d) if closed => tokio::time::sleep(d).await,
        _ => {}
    }
    Ok(Response::builder()
        .status(StatusCode::from_u16(code).unwrap())
        .body(Full::new(Bytes::from_static(text.as_bytes())))
        .unwrap())
}
