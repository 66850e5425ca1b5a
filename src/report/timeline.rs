//! The delivery timeline the HTML report draws: one row per (event, URL), each attempt
//! from its arrival to the release of its answer. Built by the judge from its compact
//! records; above [`MAX_ROWS`] rows it is a sample, and says so.

/// Rows drawn at most: the HTML file stays readable and small.
pub const MAX_ROWS: usize = 400;

/// The deliveries of a capture, ready to draw.
#[derive(Debug, Clone, Default)]
pub struct Timeline {
    /// Rows by first arrival of their event, URLs in configured order.
    pub rows: Vec<Row>,
    /// Rows there were in all; more than `rows.len()` when sampled.
    pub total_rows: usize,
    /// One row in this many was kept (1 when all were).
    pub stride: usize,
    /// Requests captured (stray ones included).
    pub requests: u64,
    /// Wall-clock start of the capture (RFC 3339).
    pub started: String,
    /// Milliseconds since start at which the capture closed; `None` if it did not.
    pub closed_ms: Option<f64>,
    /// The quiet window the capture waited for before closing, in milliseconds.
    pub quiet_ms: Option<f64>,
    /// Milliseconds from the start to the last answer or the close.
    pub span_ms: f64,
}

/// One event at one URL: its attempts.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// Event type (or "v1 record") and a short id.
    pub label: String,
    /// Rows of one event share this (a new event starts a new band).
    pub event: String,
    /// The URL name.
    pub url: String,
    /// Attempts in arrival order.
    pub attempts: Vec<Mark>,
}

/// One attempt: when it arrived, when its answer was released, and what it was.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Mark {
    /// Journal sequence number of the request.
    pub seq: u64,
    /// Milliseconds since capture start at which the request arrived.
    pub at_ms: f64,
    /// Milliseconds since capture start at which the answer was released (never before
    /// `at_ms`).
    pub answered_ms: f64,
    /// `None` for a reset.
    pub status: Option<u16>,
    /// `brhook proxy`: when the receiver answered (or failed), in milliseconds since
    /// capture start, and its status (`None` when it gave none); `None` when the
    /// attempt was not forwarded.
    pub upstream: Option<(f64, Option<u16>)>,
}

impl Mark {
    /// True when the attempt was answered 2xx.
    pub fn succeeded(&self) -> bool {
        self.status.is_some_and(|s| (200..300).contains(&s))
    }
}
