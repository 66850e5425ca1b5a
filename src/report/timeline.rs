//! The delivery timeline the HTML report draws: one row per (event, URL), each attempt
//! from its arrival to the release of its answer. Built by the judge from its compact
//! records; above [`MAX_ROWS`] rows it is a sample, and says so.

/// Rows drawn at most: the HTML file stays readable and small.
pub const MAX_ROWS: usize = 400;

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
    pub closed_ms: Option<f64>,
    pub quiet_ms: Option<f64>,
    /// Milliseconds from the start to the last answer or the close.
    pub span_ms: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// Event type (or "v1 record") and a short id.
    pub label: String,
    /// Rows of one event share this (a new event starts a new band).
    pub event: String,
    pub url: String,
    pub attempts: Vec<Mark>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Mark {
    pub seq: u64,
    pub at_ms: f64,
    pub answered_ms: f64,
    /// `None` for a reset.
    pub status: Option<u16>,
}

impl Mark {
    pub fn succeeded(&self) -> bool {
        self.status.is_some_and(|s| (200..300).contains(&s))
    }
}
