//! What the benches that write journals share: a journal as `brhook listen --url a`
//! writes it, one answered request at a time. (A folder, so cargo does not take it for
//! a bench of its own.)

use brhook::testkit::fault::Fault;
use brhook::testkit::journal::{Meta, Request, Response, UrlSpec, Writer};
use std::path::Path;

/// A journal of one URL `a` answering 204, created at `path`.
pub fn listen_journal(path: &Path) -> Writer {
    let meta = Meta {
        tool: "brhook".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        started: chrono::Local::now().to_rfc3339(),
        urls: vec![UrlSpec {
            name: "a".into(),
            fault: Fault::ok(),
            setting: None,
            upstream: None,
        }],
        prefix: String::new(),
        proxy: None,
        replay: None,
        send: None,
        workdir: None,
        segment: None,
    };
    Writer::create(path, &meta).expect("journal created")
}

/// Request `seq` (from 1) to `/a`, on one of `conns` connections, arriving every 0.05 ms
/// and answered 204 0.2 ms later, with these headers (in this order) and body.
pub fn answered(seq: u64, conns: u64, headers: &[(&str, &str)], body: String) -> Request {
    let at_ms = (seq - 1) as f64 * 0.05;
    Request {
        seq,
        conn: (seq - 1) % conns + 1,
        at_ms,
        method: "POST".into(),
        target: "/a".into(),
        url: Some("a".into()),
        headers: headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        body: body.into_bytes(),
        body_error: None,
        response: Response {
            status: Some(204),
            at_ms: at_ms + 0.2,
            abandoned_ms: None,
        },
        upstream: None,
        sent: None,
    }
}
