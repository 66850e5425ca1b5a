//! `brhook validate`: judge bodies on their own, without a request around them.

use crate::body::{self, Kind};
use crate::report::{Coverage, Report};

/// Bodies brhook judges at most; the real sender's are under 2 KiB.
pub const DEFAULT_MAX_BODY: usize = 16 * 1024 * 1024;

/// One input: a name for the report and the bytes (or a reason they were not judged).
pub struct Input {
    pub source: String,
    pub bytes: Vec<u8>,
    /// Set when the input was larger than the limit: only the first bytes were read.
    pub truncated_at: Option<usize>,
}

/// Judges each body on its own (T4, S1–S7) and builds the report.
pub fn validate(inputs: &[Input], strict: bool) -> Report {
    let mut findings = Vec::new();
    let mut cov = Coverage::default();
    let (mut v2, mut v1, mut known) = (0, 0, 0);
    for input in inputs {
        if let Some(limit) = input.truncated_at {
            findings.push(
                crate::report::Finding::new("T4", format!("body is larger than {limit} bytes; not judged"))
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
                if b.event_type
                    .as_deref()
                    .is_some_and(|t| crate::schema::V2_TYPES.contains(&t))
                {
                    known += 1;
                }
            }
            Kind::V1 => v1 += 1,
            Kind::Other => {}
        }
        findings.extend(b.findings.into_iter().map(|f| f.source(input.source.clone())));
    }
    body_coverage(&mut cov, inputs.len(), v2, known, v1);
    for id in ["T1", "T2", "T3", "T5"] {
        cov.skip(
            id,
            "headers are judged on live requests (listen, check), not on files",
        );
    }
    let n = inputs.len();
    Report::build(
        format!("{n} bod{}", if n == 1 { "y" } else { "ies" }),
        findings,
        &cov,
        strict,
    )
}

/// Which body checks a set of bodies exercised, with the reason for each that it did not.
pub fn body_coverage(cov: &mut Coverage, bodies: usize, v2: usize, known_v2: usize, v1: usize) {
    if bodies == 0 {
        for id in ["T4", "S1", "S2", "S3", "S4", "S5", "S6", "S7"] {
            cov.skip(id, "no body was judged");
        }
        return;
    }
    for id in ["T4", "S4", "S6"] {
        cov.ran(id);
    }
    let mut ran_if = |seen: usize, ids: &[&'static str], reason: &str| {
        for &id in ids {
            if seen > 0 {
                cov.ran(id);
            } else {
                cov.skip(id, reason);
            }
        }
    };
    ran_if(v2, &["S1", "S3"], "no v2 event among the bodies");
    ran_if(
        known_v2,
        &["S2", "S7"],
        "no v2 event of a known type among the bodies",
    );
    ran_if(v1, &["S5"], "no v1 record among the bodies");
}
