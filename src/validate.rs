//! `brhook validate`: judge bodies on their own, without a request around them.

use crate::body::{self, Kind};
use crate::catalog::Check;
use crate::report::{Coverage, Findings, Report, Skip};

pub use crate::body::DEFAULT_MAX_BODY;

/// One input: a name for the report and the bytes (or a reason they were not judged).
pub struct Input {
    /// Name of the input in the report (a file path, or `stdin`).
    pub source: String,
    /// The body as read.
    pub bytes: Vec<u8>,
    /// Set when the input was larger than the limit: only the first bytes were read.
    pub truncated_at: Option<usize>,
}

/// Judges each body on its own (T4, S1–S7) and builds the report.
pub fn validate(inputs: &[Input], strict: bool) -> Report {
    validate_with(inputs, strict, crate::report::DEFAULT_EXAMPLES)
}

/// As [`validate`], keeping `examples` examples per group of findings.
pub fn validate_with(inputs: &[Input], strict: bool, examples: usize) -> Report {
    let mut findings = Findings::new(examples);
    let mut cov = Coverage::default();
    let (mut v2, mut v1, mut known, mut unknown) = (0u64, 0u64, 0u64, 0u64);
    for input in inputs {
        if let Some(limit) = input.truncated_at {
            findings.push(
                crate::report::Finding::new(Check::T4, "body is larger than the size limit; not judged")
                    .source(input.source.clone())
                    .expected(format!("a webhook body (at most {limit} bytes; see --max-body)"))
                    .found(format!("more than {limit} bytes")),
            );
            continue;
        }
        let b = body::judge(&input.bytes);
        match b.kind {
            Kind::V2 => {
                v2 += 1;
                match b.event_type.as_deref().map(crate::protocol::EventKind::parse) {
                    Some(Some(_)) => known += 1,
                    Some(None) => unknown += 1,
                    None => {}
                }
            }
            Kind::V1 => v1 += 1,
            Kind::Other => {}
        }
        findings.extend(b.findings.into_iter().map(|f| f.source(input.source.clone())));
    }
    cov.bodies(inputs.len() as u64, v2, known, unknown, v1);
    let headers = [Check::T1, Check::T2, Check::T3, Check::T5];
    cov.family(&headers, false, Skip::HeadersNotInFiles);
    let n = inputs.len();
    Report::build(
        format!("{n} bod{}", if n == 1 { "y" } else { "ies" }),
        findings,
        &cov,
        strict,
    )
}
