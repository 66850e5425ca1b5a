//! The journal a `replay` or a `send` writes as it sends: one request line per attempt,
//! in the proxy's format (the bytes and headers sent, when, and the receiver's answer or
//! why there was none), so the journal judge judges it as it judges a proxy's.

use crate::journal::{Request, Response, Upstream, UpstreamError, Writer};
use crate::judge::latency::Histogram;
use crate::protocol::{CONTENT_TYPE_JSON, USER_AGENT};
use crate::reference::{Attempt, Outcome};
use std::path::PathBuf;

/// A `replay` or `send` journal as it is written, and what is summed over it.
///
/// brhook is the sender here, so no answer waits on a line: request lines are written in
/// batches (up to [`BATCH_BYTES`], at most [`BATCH_AGE`] apart while attempts come, and
/// always before any other line and at close) instead of one `write` each. A `send`
/// killed mid-run loses at most its last batch; every line of a finished run is there.
pub(crate) struct Book {
    writer: Writer,
    /// v2 URLs (the first names).
    v2: usize,
    pub seq: u64,
    pub all: Histogram,
    failed: Option<String>,
    /// Request lines not yet written.
    pending: Vec<u8>,
    last_write: std::time::Instant,
}

/// A batch of request lines is written once it holds this much.
const BATCH_BYTES: usize = 64 * 1024;
/// ... or when an attempt comes this long after the last write.
const BATCH_AGE: std::time::Duration = std::time::Duration::from_millis(50);

impl Book {
    /// A journal begun by `writer` (its meta line written), for `v2` v2 URLs.
    pub fn new(writer: Writer, v2: usize) -> Book {
        Book {
            writer,
            v2,
            seq: 0,
            all: Histogram::default(),
            failed: None,
            pending: Vec::with_capacity(BATCH_BYTES + 4096),
            last_write: std::time::Instant::now(),
        }
    }

    /// Writes the request lines held back.
    fn write_pending(&mut self) {
        self.last_write = std::time::Instant::now();
        if self.pending.is_empty() {
            return;
        }
        if let Err(e) = self.writer.lines(&self.pending) {
            self.failed.get_or_insert(e.to_string());
        }
        self.pending.clear();
    }

    /// Once every delivery has ended: the first line that could not be written, if any,
    /// else the journal closed with its close line at `at_ms` (and the file closed), with
    /// the attempts written and their answer times.
    pub fn close(
        book: std::sync::Arc<std::sync::Mutex<Book>>,
        at_ms: f64,
    ) -> Result<(u64, Histogram), String> {
        let mut b = std::sync::Arc::try_unwrap(book)
            .ok()
            .expect("every delivery has ended")
            .into_inner()
            .unwrap_or_else(|e| e.into_inner());
        b.write_pending();
        if let Some(e) = b.failed.take() {
            return Err(e);
        }
        b.writer.close(at_ms, 0.0).map_err(|e| e.to_string())?;
        Ok((b.seq, b.all))
    }

    /// A reconnect line ([`crate::journal::Reconnect`]): the run's last look at a receiver.
    pub fn reconnect(&mut self, c: &crate::journal::Reconnect) {
        self.write_pending();
        if let Err(e) = self.writer.reconnect(c) {
            self.failed.get_or_insert(e.to_string());
        }
    }

    /// The `--workdir` files' lines: each file with the receiver's opens of it.
    pub fn files(&mut self, opened: &[super::watch::Opened], origin: std::time::Instant) {
        self.write_pending();
        for o in opened {
            let ms = |t: &std::time::Instant| t.saturating_duration_since(origin).as_secs_f64() * 1000.0;
            let line = crate::journal::FileLine {
                path: o.relative.clone(),
                opens_ms: o.opens.iter().map(ms).collect(),
                still_open: o.still_open,
            };
            if let Err(e) = self.writer.file(&line) {
                self.failed.get_or_insert(e.to_string());
            }
        }
    }

    /// One attempt as a request line: what brhook sent and what the receiver answered
    /// (`sent`: which body of a `send` scenario it carried).
    pub fn write(
        &mut self,
        a: &Attempt,
        names: &[String],
        origin: std::time::Instant,
        body: &[u8],
        case: Option<crate::journal::Sent>,
    ) {
        self.seq += 1;
        // The names are the v2 URLs' then the v1 URLs'.
        let name = match a.setting {
            crate::protocol::Setting::V2 => &names[a.url_index],
            crate::protocol::Setting::V1 => &names[self.v2 + a.url_index],
        };
        let ms = |t: std::time::Instant| t.saturating_duration_since(origin).as_secs_f64() * 1000.0;
        let (sent, answered) = (ms(a.started), ms(a.started + a.elapsed));
        let (host, target) = crate::reference::host_and_path(&a.url).unwrap_or_default();
        let headers: Vec<(String, String)> = vec![
            ("host".into(), host),
            ("content-type".into(), CONTENT_TYPE_JSON.into()),
            ("user-agent".into(), USER_AGENT.into()),
            ("content-length".into(), body.len().to_string()),
        ];
        let (status, error) = match &a.outcome {
            Outcome::Status(s) => {
                self.all.add(a.elapsed);
                (Some(*s), None)
            }
            Outcome::Timeout => (None, Some(UpstreamError::Timeout)),
            Outcome::Error(e) if e.starts_with("connect") => (None, Some(UpstreamError::Connect(e.clone()))),
            Outcome::Error(e) => (None, Some(UpstreamError::Protocol(e.clone()))),
        };
        let r = Request {
            seq: self.seq,
            conn: self.seq,
            at_ms: sent,
            method: "POST".into(),
            target,
            url: Some(name.clone()),
            headers: headers.clone(),
            body: body.to_vec(),
            body_error: None,
            response: Response {
                status,
                at_ms: answered,
                abandoned_ms: None,
            },
            upstream: Some(Upstream {
                headers,
                sent_ms: sent,
                answered_ms: answered,
                status,
                answer_headers: a.answer_headers.clone(),
                answer_body: a.answer.clone(),
                error,
            }),
            sent: case,
        };
        Writer::push_request_line(&mut self.pending, &r);
        if self.pending.len() >= BATCH_BYTES || self.last_write.elapsed() >= BATCH_AGE {
            self.write_pending();
        }
    }
}

/// Where the run's journal goes: the file asked for, or a temporary one removed when the
/// run ends (on every path: it goes when this is dropped, on an error or a panic too).
pub(crate) struct Output {
    path: PathBuf,
    temporary: bool,
}

impl Output {
    pub fn new(keep: Option<PathBuf>, what: &str) -> Output {
        match keep {
            Some(path) => Output {
                path,
                temporary: false,
            },
            None => Output {
                path: std::env::temp_dir().join(format!(
                    "brhook-{what}-{}-{}.jsonl",
                    std::process::id(),
                    uuid::Uuid::new_v4().simple()
                )),
                temporary: true,
            },
        }
    }
    pub fn path(&self) -> &std::path::Path {
        &self.path
    }
}

impl Drop for Output {
    fn drop(&mut self) {
        if self.temporary {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// One journal name per target, v2 then v1: the URL itself (a repeated URL gets `#2`,
/// `#3`: the sender sends to each copy).
pub(crate) fn names(v2: &[String], v1: &[String]) -> Vec<String> {
    let all: Vec<&String> = v2.iter().chain(v1).collect();
    all.iter()
        .enumerate()
        .map(|(i, u)| match all[..i].iter().filter(|x| *x == u).count() {
            0 => u.to_string(),
            n => format!("{u}#{}", n + 1),
        })
        .collect()
}

/// The journal's URLs: one per target, named by [`names`], forwarding to it.
pub(crate) fn specs(v2: &[String], v1: &[String]) -> Vec<crate::journal::UrlSpec> {
    use crate::journal::Setting;
    names(v2, v1)
        .into_iter()
        .zip(
            v2.iter()
                .map(|u| (u, Setting::V2))
                .chain(v1.iter().map(|u| (u, Setting::V1))),
        )
        .map(|(name, (url, setting))| crate::journal::UrlSpec {
            name,
            fault: crate::fault::Fault::ok(),
            setting: Some(setting),
            upstream: Some(url.clone()),
        })
        .collect()
}
