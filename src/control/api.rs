//! The control API's routes: JSON in, JSON out, every mistake a 4xx that says what to
//! fix. The table [`ROUTES`] is the router's and `openapi.json`'s (a test holds the two
//! together).

use super::{Capture, NewCapture, Shared, MAX_URLS, OPENAPI};
use crate::fault::Fault;
use crate::journal::UrlSpec;
use crate::protocol::Setting;
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::{Method, StatusCode};
use serde::Deserialize;
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;

/// Every route, as `(method, path)` with `{id}` for a capture's id.
pub const ROUTES: &[(&str, &str)] = &[
    ("GET", "/v1/health"),
    ("GET", "/v1/openapi.json"),
    ("POST", "/v1/captures"),
    ("GET", "/v1/captures/{id}"),
    ("DELETE", "/v1/captures/{id}"),
    ("POST", "/v1/captures/{id}/wait"),
    ("GET", "/v1/captures/{id}/journal"),
    ("POST", "/v1/captures/{id}/finish"),
];

/// The largest request body the API reads.
const MAX_BODY: usize = 1 << 20;
/// The longest a `wait` may ask to block.
const MAX_TIMEOUT_S: f64 = 3600.0;

type Answer = hyper::Response<Full<Bytes>>;

/// A route, matched.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Route {
    Health,
    OpenApi,
    Create,
    Counts(String),
    Delete(String),
    Wait(String),
    Journal(String),
    Finish(String),
}

/// A 4xx (or 5xx) with what to fix.
#[derive(Debug)]
pub(crate) struct Problem(StatusCode, String);

fn problem(status: StatusCode, msg: impl Into<String>) -> Problem {
    Problem(status, msg.into())
}

/// Matches a method and path to a route, or says why none fits.
pub(crate) fn route(method: &Method, path: &str) -> Result<Route, Problem> {
    // `BASE/` + `/v1/...` doubles a slash: empty segments are no mistake worth a 404.
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let one = |want: Method, r: Route| {
        if *method == want {
            Ok(r)
        } else {
            Err(problem(
                StatusCode::METHOD_NOT_ALLOWED,
                format!("{path} takes {want}, not {method} (see GET /v1/openapi.json)"),
            ))
        }
    };
    match segs.as_slice() {
        ["v1", "health"] => one(Method::GET, Route::Health),
        ["v1", "openapi.json"] => one(Method::GET, Route::OpenApi),
        ["v1", "captures"] => one(Method::POST, Route::Create),
        ["v1", "captures", id] if *method == Method::DELETE => Ok(Route::Delete(id.to_string())),
        ["v1", "captures", id] => one(Method::GET, Route::Counts(id.to_string())),
        ["v1", "captures", id, "wait"] => one(Method::POST, Route::Wait(id.to_string())),
        ["v1", "captures", id, "journal"] => one(Method::GET, Route::Journal(id.to_string())),
        ["v1", "captures", id, "finish"] => one(Method::POST, Route::Finish(id.to_string())),
        _ => Err(problem(
            StatusCode::NOT_FOUND,
            format!(
                "no route {method} {path}: the API's routes are under /v1/ (GET /v1/openapi.json lists them)"
            ),
        )),
    }
}

/// Serves the API until the task is aborted.
pub(super) async fn serve(listener: tokio::net::TcpListener, shared: Arc<Shared>) {
    loop {
        let stream = match listener.accept().await {
            Ok((s, _)) => s,
            Err(_) => {
                // Out of descriptors or similar: back off instead of spinning.
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let shared = shared.clone();
        tokio::spawn(async move {
            let svc = hyper::service::service_fn(move |req| {
                let shared = shared.clone();
                async move { Ok::<_, std::convert::Infallible>(answer(req, shared).await) }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .keep_alive(true)
                .serve_connection(hyper_util::rt::TokioIo::new(stream), svc)
                .await;
        });
    }
}

async fn answer(req: hyper::Request<hyper::body::Incoming>, shared: Arc<Shared>) -> Answer {
    match respond(req, shared).await {
        Ok(a) => a,
        Err(Problem(status, msg)) => json_answer(status, &json!({ "error": msg })),
    }
}

fn json_answer(status: StatusCode, v: &serde_json::Value) -> Answer {
    let text = serde_json::to_string_pretty(v).expect("JSON serialises") + "\n";
    typed(status, "application/json", text.into())
}

fn typed(status: StatusCode, content_type: &str, body: Bytes) -> Answer {
    hyper::Response::builder()
        .status(status)
        .header(hyper::header::CONTENT_TYPE, content_type)
        .body(Full::new(body))
        .expect("response builds")
}

/// The token check: only `/v1/health` answers without it.
fn authorised(shared: &Shared, req: &hyper::Request<hyper::body::Incoming>) -> Result<(), Problem> {
    let Some(token) = &shared.token else {
        return Ok(());
    };
    let given = req
        .headers()
        .get(hyper::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    // Compared in full whatever the first difference: the time says nothing.
    let same = given.len() == token.len()
        && given
            .bytes()
            .zip(token.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0;
    if same {
        Ok(())
    } else {
        Err(problem(
            StatusCode::UNAUTHORIZED,
            "send the --control-token value as `Authorization: Bearer TOKEN`",
        ))
    }
}

async fn respond(req: hyper::Request<hyper::body::Incoming>, shared: Arc<Shared>) -> Result<Answer, Problem> {
    let route = route(req.method(), req.uri().path())?;
    if route != Route::Health {
        authorised(&shared, &req)?;
    }
    let query = req.uri().query().unwrap_or("").to_string();
    let body = match Limited::new(req.into_body(), MAX_BODY).collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => {
            return Err(problem(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("the body is over {MAX_BODY} bytes (or was cut off)"),
            ))
        }
    };
    let capture = |id: &str| {
        shared.get(id).ok_or_else(|| {
            problem(
                StatusCode::NOT_FOUND,
                format!(
                    "no capture {id:?}: it was never created or was deleted (POST /v1/captures makes one)"
                ),
            )
        })
    };
    match route {
        Route::Health => Ok(json_answer(
            StatusCode::OK,
            &json!({ "status": "ok", "version": env!("CARGO_PKG_VERSION") }),
        )),
        Route::OpenApi => Ok(typed(
            StatusCode::OK,
            "application/json",
            Bytes::from_static(OPENAPI.as_bytes()),
        )),
        Route::Create => {
            let new = new_capture(&body)?;
            let c = shared.create(new).await.map_err(|e| {
                problem(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    format!("cannot start the capture: {e}"),
                )
            })?;
            Ok(json_answer(StatusCode::CREATED, &described(&c)))
        }
        Route::Counts(id) => {
            let c = capture(&id)?;
            let mut v = c.tally.now().to_json();
            v["id"] = id.into();
            Ok(json_answer(StatusCode::OK, &v))
        }
        Route::Delete(id) => {
            // On its own task: a client that hangs up cannot cut the close short.
            let s = shared.clone();
            let id2 = id.clone();
            let found = tokio::spawn(async move { s.delete(&id2).await })
                .await
                .unwrap_or(false);
            if found {
                Ok(json_answer(StatusCode::OK, &json!({ "id": id, "deleted": true })))
            } else {
                Err(capture(&id).err().expect("not found"))
            }
        }
        Route::Wait(id) => {
            let c = capture(&id)?;
            wait(&c, &body).await
        }
        Route::Journal(id) => {
            let c = capture(&id)?;
            let mut text = tokio::fs::read(&c.journal).await.map_err(|e| {
                problem(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    format!("cannot read the journal: {e}"),
                )
            })?;
            // Whole lines only: the last may be being written.
            let end = text.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
            text.truncate(end);
            Ok(typed(StatusCode::OK, "application/x-ndjson", text.into()))
        }
        Route::Finish(id) => {
            let c = capture(&id)?;
            let format = query_format(&query)?;
            let quiet = finish_body(&body)?;
            // On its own task: a client that hangs up cannot leave it half judged.
            let task = {
                let c = c.clone();
                tokio::spawn(async move { c.finish(quiet).await })
            };
            let report = task.await.ok().flatten().ok_or_else(|| {
                problem(
                    StatusCode::NOT_FOUND,
                    format!("capture {id:?} was deleted before it was judged"),
                )
            })?;
            Ok(match format {
                Format::Json => typed(
                    StatusCode::OK,
                    "application/json",
                    (report.to_json() + "\n").into(),
                ),
                Format::Junit => typed(
                    StatusCode::OK,
                    "application/xml",
                    crate::report::junit::render(&report).into(),
                ),
                Format::Html => typed(
                    StatusCode::OK,
                    "text/html; charset=utf-8",
                    crate::report::html::render(&report).into(),
                ),
            })
        }
    }
}

/// A capture as `POST /v1/captures` answers it: its id, URLs by name, and the two
/// settings' lists in order (what `WebHookUrlsV2` and `WebHookUrls` take).
fn described(c: &Capture) -> serde_json::Value {
    let urls: serde_json::Map<_, _> = c
        .urls
        .iter()
        .map(|(n, u, _)| (n.clone(), serde_json::Value::from(u.clone())))
        .collect();
    let list = |s: Setting| {
        c.urls
            .iter()
            .filter(|u| u.2 == s)
            .map(|u| u.1.clone())
            .collect::<Vec<_>>()
    };
    json!({ "id": c.id, "urls": urls, "v2": list(Setting::V2), "v1": list(Setting::V1) })
}

/// A JSON body, or a 400 that says what is wrong with it (`{}` when empty).
fn parse<T: serde::de::DeserializeOwned>(body: &[u8], example: &str) -> Result<T, Problem> {
    let body = if body.iter().all(u8::is_ascii_whitespace) {
        b"{}".as_slice()
    } else {
        body
    };
    serde_json::from_slice(body).map_err(|e| {
        problem(
            StatusCode::BAD_REQUEST,
            format!("malformed body: {e}; expected e.g. {example}"),
        )
    })
}

const CREATE_EXAMPLE: &str =
    r#"{"urls": [{"name": "a"}, {"name": "b", "fault": "fail:2"}], "backoff_scale": 0.05}"#;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateBody {
    urls: Vec<UrlBody>,
    backoff_scale: Option<f64>,
    quiet_s: Option<f64>,
    strict: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UrlBody {
    name: String,
    fault: Option<String>,
    setting: Option<Setting>,
}

fn bad(msg: String) -> Problem {
    problem(StatusCode::BAD_REQUEST, msg)
}

/// A positive, finite number of seconds, or a 400 naming the field.
fn seconds(field: &str, v: f64, max: f64) -> Result<Duration, Problem> {
    if v.is_finite() && v > 0.0 && v <= max {
        Ok(Duration::from_secs_f64(v))
    } else {
        Err(bad(format!(
            "{field} must be a number of seconds above 0 and at most {max}, not {v}"
        )))
    }
}

fn new_capture(body: &[u8]) -> Result<NewCapture, Problem> {
    let b: CreateBody = parse(body, CREATE_EXAMPLE)?;
    if b.urls.is_empty() {
        return Err(bad(format!(
            "urls is empty: give at least one URL, e.g. {CREATE_EXAMPLE}"
        )));
    }
    if b.urls.len() > MAX_URLS {
        return Err(bad(format!(
            "{} URLs: a capture takes at most {MAX_URLS}",
            b.urls.len()
        )));
    }
    let backoff_scale = b.backoff_scale.unwrap_or(1.0);
    if !(backoff_scale.is_finite() && backoff_scale > 0.0) {
        return Err(bad(format!(
            "backoff_scale must be a number above 0 (1 is the real sender's 1 s and 2 s; 0.05 makes them 50 ms and 100 ms), not {backoff_scale}"
        )));
    }
    let quiet = b.quiet_s.map(|q| seconds("quiet_s", q, 600.0)).transpose()?;
    let mut urls = Vec::new();
    for (i, u) in b.urls.into_iter().enumerate() {
        let name = u.name.trim_matches('/');
        if name.is_empty()
            || !name
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || b"-_.".contains(&c))
        {
            return Err(bad(format!(
                "urls[{i}].name {:?} must be letters, digits, '-', '_' or '.'",
                u.name
            )));
        }
        if urls.iter().any(|x: &UrlSpec| x.name == name) {
            return Err(bad(format!(
                "urls[{i}].name {name:?} is given twice: give each URL its own name"
            )));
        }
        let fault = u
            .fault
            .as_deref()
            .unwrap_or("ok")
            .parse::<Fault>()
            .map_err(|e| bad(format!("urls[{i}].fault: {e}")))?;
        urls.push(UrlSpec {
            name: name.to_string(),
            fault,
            setting: u.setting,
            upstream: None,
        });
    }
    Ok(NewCapture {
        urls,
        backoff_scale,
        quiet,
        strict: b.strict.unwrap_or(false),
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WaitBody {
    events: Option<u64>,
    requests: Option<u64>,
    timeout_s: Option<f64>,
}

const WAIT_EXAMPLE: &str = r#"{"events": 3, "timeout_s": 10}"#;

/// Blocks on the capture's counts until they reach the asked ones or the timeout.
async fn wait(c: &Capture, body: &[u8]) -> Result<Answer, Problem> {
    let b: WaitBody = parse(body, WAIT_EXAMPLE)?;
    let timeout = b.timeout_s.ok_or_else(|| {
        bad(format!(
            "timeout_s is required: the longest to wait, in seconds (e.g. {WAIT_EXAMPLE})"
        ))
    })?;
    let timeout = seconds("timeout_s", timeout, MAX_TIMEOUT_S)?;
    if b.events.is_none() && b.requests.is_none() {
        return Err(bad(format!(
            "say what to wait for: events, requests or both (e.g. {WAIT_EXAMPLE})"
        )));
    }
    let (events, requests) = (b.events.unwrap_or(0), b.requests.unwrap_or(0));
    let met = |c: &super::Counts| c.events >= events && c.requests >= requests;
    let mut rx = c.tally.watch();
    // Ends when met, or when the capture ends (its counts will not grow).
    let waited =
        tokio::time::timeout(timeout, rx.wait_for(|c| met(c) || c.phase != super::Phase::Open)).await;
    let now = c.tally.now();
    let mut v = now.to_json();
    v["reached"] = met(&now).into();
    let status = if met(&now) {
        StatusCode::OK
    } else if waited.is_err() {
        let mut so_far = Vec::new();
        if b.events.is_some() {
            so_far.push(format!("{} of {events} events", now.events));
        }
        if b.requests.is_some() {
            so_far.push(format!("{} of {requests} requests", now.requests));
        }
        v["error"] = format!(
            "timed out after {} s with {} so far",
            timeout.as_secs_f64(),
            so_far.join(" and ")
        )
        .into();
        StatusCode::REQUEST_TIMEOUT
    } else {
        v["error"] = format!(
            "the capture is {}: its counts will not reach the ones asked for",
            now.phase.as_str()
        )
        .into();
        StatusCode::CONFLICT
    };
    Ok(json_answer(status, &v))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FinishBody {
    quiet_s: Option<f64>,
}

fn finish_body(body: &[u8]) -> Result<Option<Duration>, Problem> {
    let b: FinishBody = parse(body, r#"{"quiet_s": 0.5}"#)?;
    b.quiet_s.map(|q| seconds("quiet_s", q, 600.0)).transpose()
}

enum Format {
    Json,
    Junit,
    Html,
}

fn query_format(query: &str) -> Result<Format, Problem> {
    let asked = query
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == "format")
        .map(|(_, v)| v);
    match asked {
        None | Some("json") => Ok(Format::Json),
        Some("junit") => Ok(Format::Junit),
        Some("html") => Ok(Format::Html),
        Some(other) => Err(bad(format!(
            "format={other}: use json (the default), junit or html"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The OpenAPI document lists exactly the router's routes, and each of them
    /// matches a route (none is answered "no route").
    #[test]
    fn openapi_lists_every_route_and_no_other() {
        let doc: serde_json::Value = serde_json::from_str(OPENAPI).expect("openapi.json is JSON");
        assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
        let mut documented = Vec::new();
        for (path, ops) in doc["paths"].as_object().expect("paths") {
            let methods = ops.as_object().expect("operations").keys();
            for method in methods.filter(|k| *k != "parameters") {
                documented.push((method.to_uppercase(), path.clone()));
            }
        }
        documented.sort();
        let mut routed: Vec<_> = ROUTES
            .iter()
            .map(|(m, p)| (m.to_string(), p.to_string()))
            .collect();
        routed.sort();
        assert_eq!(documented, routed, "openapi.json and ROUTES differ");
        for (m, p) in ROUTES {
            let method = Method::from_bytes(m.as_bytes()).unwrap();
            let r = route(&method, &p.replace("{id}", "abc"));
            assert!(r.is_ok(), "{m} {p} is not routed: {r:?}");
        }
    }

    #[test]
    fn a_wrong_method_or_path_says_what_to_use() {
        let e = route(&Method::GET, "/v1/captures/x/wait").unwrap_err();
        assert_eq!(e.0, StatusCode::METHOD_NOT_ALLOWED);
        assert!(e.1.contains("takes POST"), "{}", e.1);
        let e = route(&Method::GET, "/captures").unwrap_err();
        assert_eq!(e.0, StatusCode::NOT_FOUND);
        assert!(e.1.contains("/v1/openapi.json"), "{}", e.1);
    }

    #[test]
    fn bad_capture_bodies_say_what_to_fix() {
        let msg = |b: &str| new_capture(b.as_bytes()).err().expect("refused").1;
        assert!(msg(r#"{"urls": [{"name": "a", "fault": "fial:2"}]}"#).starts_with("urls[0].fault:"));
        assert!(msg(r#"{"urls": []}"#).contains("at least one URL"));
        assert!(msg(r#"{"url": []}"#).contains("unknown field `url`"));
        assert!(msg(r#"{"urls": [{"name": "a"}, {"name": "a"}]}"#).contains("twice"));
        assert!(msg(r#"{"urls": [{"name": "a/b"}]}"#).contains("letters, digits"));
        assert!(msg(r#"{"urls": [{"name": "a", "setting": "v3"}]}"#).contains("unknown variant"));
        assert!(msg(r#"{"urls": [{"name": "a"}], "backoff_scale": 0}"#).contains("backoff_scale"));
        assert!(msg("not json").starts_with("malformed body"));
        let ok = new_capture(br#"{"urls": [{"name": "a", "fault": "fail:2"}, {"name": "old", "setting": "v1"}], "strict": true}"#).unwrap();
        assert_eq!(ok.urls.len(), 2);
        assert!(ok.strict);
    }
}
