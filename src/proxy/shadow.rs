//! `--shadow NAME=URL`: every request that NAME forwards also goes, byte for byte and
//! with the same headers, to a candidate receiver (a new version of the uploader, say).
//! The candidate's answer is never relayed and never waited for: its copy runs on its
//! own task from the moment the real forward starts, at most [`Shadows::permits`] at
//! once. A copy that finds them all taken is dropped and journaled as dropped, never
//! queued, so a slow or dead candidate costs the real path nothing. Its answer is
//! journaled as a `shadow` line once in ([`crate::journal::Shadow`]).

use super::forward::{Forwarder, Target};
use crate::endpoint::{After, Call};
use crate::http::Relayed;
use crate::journal::{Shadow, Upstream, UpstreamError};
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::Semaphore;

/// Copies waiting on candidates at once, by default; more are dropped.
pub(crate) const DEFAULT_PERMITS: usize = 64;

/// The candidates of a proxy's URLs.
pub(crate) struct Shadows {
    /// Per URL, in the endpoint's order: its candidate and the candidate's URL.
    pub targets: Vec<Option<(Target, String)>>,
    pub client: Arc<Forwarder>,
    pub permits: Arc<Semaphore>,
    pub metrics: Option<Arc<super::Metrics>>,
}

/// A copy under way (or dropped), to be finished once the real answer is in.
pub(crate) struct Copy {
    url: String,
    to: String,
    headers: Vec<(String, String)>,
    sent_ms: f64,
    /// `None`: dropped.
    task: Option<tokio::task::JoinHandle<(Result<Relayed, UpstreamError>, f64)>>,
    metrics: Option<Arc<super::Metrics>>,
}

impl Shadows {
    /// Starts the copy of a request about to be forwarded, when its URL has a candidate.
    /// `headers` are the forwarded headers (as journaled for the real leg).
    pub fn start(&self, call: &Call, name: &str, headers: &[(String, String)]) -> Option<Copy> {
        let (target, to) = self.targets.get(call.url)?.as_ref()?;
        let sent_ms = call.ms();
        let task = self.permits.clone().try_acquire_owned().ok().map(|permit| {
            let (client, target) = (self.client.clone(), target.clone());
            let (head, body, since) = (call.head.clone(), call.body.clone(), call.since);
            tokio::spawn(async move {
                let result = client.forward(&target, head, body).await;
                drop(permit);
                (result, ms_since(since))
            })
        });
        Some(Copy {
            url: name.to_string(),
            to: to.clone(),
            headers: headers.to_vec(),
            sent_ms,
            task,
            metrics: self.metrics.clone(),
        })
    }
}

fn ms_since(since: Instant) -> f64 {
    since.elapsed().as_secs_f64() * 1000.0
}

impl Copy {
    /// The journal record of this copy, once the candidate is done, beside the real
    /// receiver's answer to the same request (`seq` is set by the endpoint).
    pub fn finish(self, real: &Upstream) -> After {
        let (real_status, real_took_ms) = (real.status, real.took_ms());
        Box::pin(async move {
            let mut shadow = Shadow {
                seq: 0,
                url: self.url,
                to: self.to,
                real_status,
                real_took_ms,
                leg: None,
                dropped: self.task.is_none(),
            };
            let count = |same| {
                if let Some(m) = &self.metrics {
                    m.shadow_copy(&shadow.url, same);
                }
            };
            let Some(task) = self.task else {
                count(None);
                return shadow;
            };
            let (result, answered_ms) = match task.await {
                Ok(done) => done,
                Err(e) => (Err(UpstreamError::Protocol(e.to_string())), self.sent_ms),
            };
            let mut leg = Upstream {
                headers: self.headers,
                sent_ms: self.sent_ms,
                answered_ms,
                status: None,
                answer_headers: Vec::new(),
                answer_body: Vec::new(),
                error: None,
            };
            match result {
                Ok(r) => {
                    leg.status = Some(r.parts.status.as_u16());
                    leg.answer_headers = crate::http::text_headers(&r.parts.headers);
                    leg.answer_body = r.body.to_vec();
                }
                Err(e) => leg.error = Some(e),
            }
            count(Some(leg.status == real_status));
            shadow.leg = Some(leg);
            shadow
        })
    }
}
