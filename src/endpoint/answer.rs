//! What the capture server asks for each answer. The server reads a request whole,
//! records it, and asks an [`Answerer`] what to send back: the fake endpoint's is the
//! fault plan ([`FaultPlan`]); the proxy's is the fault plan in front of a forwarder.
//! The server knows neither: it only waits for the answer, watching the connection
//! while an answer is held, and records what was released.

use crate::fault::{self, Fault};
use crate::http::Relayed;
use crate::journal::UrlSpec;
use bytes::Bytes;
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// One request, as the server hands it to its answerer.
pub(crate) struct Call {
    /// Which of the endpoint's URLs it reached (index in configuration order).
    pub url: usize,
    /// The request's head, as the sender wrote it.
    pub head: hyper::http::request::Parts,
    /// The body, exactly as it arrived.
    pub body: Bytes,
    /// The capture's clock: journal times are milliseconds since this instant, plus
    /// `base_ms`.
    pub since: Instant,
    /// The journal's clock at `since` (after earlier runs of an appended journal).
    pub base_ms: f64,
}

impl Call {
    /// The journal's clock now, in milliseconds.
    pub fn ms(&self) -> f64 {
        self.base_ms + self.since.elapsed().as_secs_f64() * 1000.0
    }
}

/// What goes back to the sender, and (for a forwarded request) the record of the leg
/// to its receiver.
pub(crate) struct Reply {
    pub out: Out,
    pub leg: Option<crate::journal::Upstream>,
    /// Work that goes on after the answer is released (a proxy's shadow copy): the
    /// server runs it on its own task, counted in flight, and journals its result as a
    /// line of its own with the request's `seq`. The sender never waits for it.
    pub after: Option<After>,
}

/// See [`Reply::after`].
pub(crate) type After = Pin<Box<dyn Future<Output = crate::journal::Shadow> + Send>>;

/// What the sender gets.
pub(crate) enum Out {
    /// brhook's own answer: a status and an optional body (a fault, 404, 413, or a
    /// 502/504 for a receiver that gave none).
    Status(u16, Option<Bytes>),
    /// Close the connection without an answer.
    Reset,
    /// A receiver's answer, relayed unchanged.
    Relay(Relayed),
}

impl Reply {
    /// brhook's own answer with an empty body.
    pub fn status(code: u16) -> Reply {
        Reply {
            out: Out::Status(code, None),
            leg: None,
            after: None,
        }
    }
    /// No answer: the connection is closed.
    pub fn reset() -> Reply {
        Reply {
            out: Out::Reset,
            leg: None,
            after: None,
        }
    }
    /// The status the sender gets; `None` for a reset.
    pub fn status_code(&self) -> Option<u16> {
        match &self.out {
            Out::Status(c, _) => Some(*c),
            Out::Reset => None,
            Out::Relay(r) => Some(r.parts.status.as_u16()),
        }
    }
}

/// An answer now, or one that takes time (held, or waiting on a receiver). The server
/// watches the sender's connection only while a `Later` answer is pending, so an answer
/// that is never delayed costs no timer and no extra task.
// Moved once per request; boxing the common case (`Now`) would cost an allocation.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Answer {
    Now(Reply),
    Later(Pin<Box<dyn Future<Output = Reply> + Send>>),
}

/// Whatever answers the capture server's requests: a fault plan, a forwarder, or any
/// `Fn(Call) -> Answer` (as wiremock's `Respond`).
pub(crate) trait Answerer: Send + Sync + 'static {
    fn answer(&self, call: Call) -> Answer;

    /// Whether header names go on in the case the sender wrote them (a relay does).
    fn preserves_header_case(&self) -> bool {
        false
    }
}

impl<F> Answerer for F
where
    F: Fn(Call) -> Answer + Send + Sync + 'static,
{
    fn answer(&self, call: Call) -> Answer {
        self(call)
    }
}

/// The fault plans of an endpoint's URLs, answering each attempt by its number.
pub(crate) struct FaultPlan {
    faults: Vec<Fault>,
    /// Attempts so far per (URL, event identity): only plans that answer by attempt
    /// number (`fail:N`, `reset:N`) count, so other plans keep nothing per event.
    counts: Mutex<HashMap<(usize, String), u32>>,
}

impl FaultPlan {
    pub fn new(urls: &[UrlSpec]) -> FaultPlan {
        FaultPlan {
            faults: urls.iter().map(|u| u.fault.clone()).collect(),
            counts: Mutex::new(HashMap::new()),
        }
    }

    /// The plan's answer to this attempt, and how long to hold it.
    pub fn decide(&self, call: &Call) -> (fault::Answer, Duration) {
        let Some(f) = self.faults.get(call.url) else {
            return (fault::Answer::Status(404), Duration::ZERO);
        };
        let delay = Duration::from_millis(f.delay_ms);
        // An empty body names no event: it is a first attempt of its own.
        if (f.fail.is_none() && f.reset.is_none()) || call.body.is_empty() {
            return (f.answer(1), delay);
        }
        let id = crate::body::identity(&call.body);
        let mut counts = self.counts.lock().expect("lock");
        let n = counts.entry((call.url, id)).or_insert(0);
        *n += 1;
        (f.answer(*n), delay)
    }

    /// The plan's answer as a reply, held as long as the plan says.
    pub fn reply(answer: fault::Answer, delay: Duration) -> Answer {
        let reply = match answer {
            fault::Answer::Status(c) => Reply::status(c),
            fault::Answer::Reset => Reply::reset(),
        };
        if delay.is_zero() {
            Answer::Now(reply)
        } else {
            Answer::Later(Box::pin(async move {
                tokio::time::sleep(delay).await;
                reply
            }))
        }
    }
}

impl Answerer for FaultPlan {
    fn answer(&self, call: Call) -> Answer {
        let (answer, delay) = self.decide(&call);
        FaultPlan::reply(answer, delay)
    }
}
