//! Findings → verdict. The report model is a contract (see the README): field names
//! are fixed, more may be added. Renderers live beside it.

pub mod html;
pub mod junit;
pub mod text;

use crate::catalog::{self, Level, CHECKS};
use serde::Serialize;
use std::collections::BTreeMap;

/// One thing a judge saw, keyed by its catalogue check.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Finding {
    pub check: &'static str,
    pub level: Level,
    pub message: String,
    /// JSON pointer of the value the finding is about, if it is about one.
    pub pointer: Option<String>,
    /// URL name (endpoint) or URL (sender) the finding is about.
    pub url: Option<String>,
    /// Event identity: EventId, EventRandomId, or `body:<hash>`.
    pub event: Option<String>,
    /// File name or request id the finding came from.
    pub source: Option<String>,
    pub expected: Option<String>,
    pub found: Option<String>,
}

impl Finding {
    /// A finding at the check's catalogue level.
    pub fn new(check: &'static str, message: impl Into<String>) -> Finding {
        Finding::at(check, catalog::check(check).level, message)
    }

    /// A finding at an explicit level (for checks that report more than one level).
    pub fn at(check: &'static str, level: Level, message: impl Into<String>) -> Finding {
        Finding {
            check,
            level,
            message: message.into(),
            pointer: None,
            url: None,
            event: None,
            source: None,
            expected: None,
            found: None,
        }
    }

    pub fn pointer(mut self, p: impl Into<String>) -> Self {
        self.pointer = Some(p.into());
        self
    }
    pub fn url(mut self, u: impl Into<String>) -> Self {
        self.url = Some(u.into());
        self
    }
    pub fn event(mut self, e: impl Into<String>) -> Self {
        self.event = Some(e.into());
        self
    }
    pub fn source(mut self, s: impl Into<String>) -> Self {
        self.source = Some(s.into());
        self
    }
    pub fn expected(mut self, e: impl Into<String>) -> Self {
        self.expected = Some(e.into());
        self
    }
    /// Where the finding is, for people: source, URL, event, pointer.
    pub fn place(&self) -> Vec<String> {
        let mut at = Vec::new();
        if let Some(s) = &self.source {
            at.push(s.clone());
        }
        if let Some(u) = &self.url {
            at.push(format!("url {u}"));
        }
        if let Some(e) = &self.event {
            at.push(format!("event {e}"));
        }
        if let Some(p) = &self.pointer {
            at.push(if p.is_empty() {
                "at the body".into()
            } else {
                format!("at {p}")
            });
        }
        at
    }

    pub fn found(mut self, f: impl Into<String>) -> Self {
        self.found = Some(f.into());
        self
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    Passed,
    Failed,
    Warned,
    Skipped,
    NotImplemented,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Passed => "passed",
            Status::Failed => "failed",
            Status::Warned => "warned",
            Status::Skipped => "skipped",
            Status::NotImplemented => "not-implemented",
        }
    }
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct CheckResult {
    pub id: &'static str,
    pub title: &'static str,
    pub level: Level,
    pub status: Status,
    pub reason: Option<String>,
}

/// Which checks a run could exercise. A check that did not run is `skipped` with its
/// reason, never `passed`: passing on nothing is the error this type exists to prevent.
#[derive(Debug, Clone, Default)]
pub struct Coverage {
    ran: BTreeMap<&'static str, ()>,
    skipped: BTreeMap<&'static str, String>,
}

impl Coverage {
    pub fn ran(&mut self, id: &'static str) {
        self.skipped.remove(id);
        self.ran.insert(id, ());
    }
    /// Marks a check skipped unless something already ran it.
    pub fn skip(&mut self, id: &'static str, reason: impl Into<String>) {
        if !self.ran.contains_key(id) {
            self.skipped.insert(id, reason.into());
        }
    }
    pub fn has_run(&self, id: &str) -> bool {
        self.ran.contains_key(id)
    }
}

#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq)]
pub struct Counts {
    pub fail: usize,
    pub warn: usize,
    pub info: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub tool: &'static str,
    pub version: &'static str,
    pub verdict: &'static str,
    pub strict: bool,
    pub counts: Counts,
    /// What was judged, e.g. "3 bodies" or "42 requests, 12 events at 3 URLs".
    pub subject: String,
    /// Set when nothing could be judged; the verdict is then `fail`.
    pub note: Option<String>,
    pub findings: Vec<Finding>,
    pub checks: Vec<CheckResult>,
}

impl Report {
    /// Builds the verdict. `strict` makes warnings fail (the verdict and the check).
    pub fn build(
        subject: impl Into<String>,
        mut findings: Vec<Finding>,
        cov: &Coverage,
        strict: bool,
    ) -> Report {
        findings.sort_by(|a, b| {
            (b.level, order(a.check), &a.url, &a.event, &a.source, &a.pointer).cmp(&(
                a.level,
                order(b.check),
                &b.url,
                &b.event,
                &b.source,
                &b.pointer,
            ))
        });
        let mut counts = Counts::default();
        for f in &findings {
            match f.level {
                Level::Fail => counts.fail += 1,
                Level::Warn => counts.warn += 1,
                Level::Info => counts.info += 1,
            }
        }
        let checks = CHECKS
            .iter()
            .map(|c| {
                let worst = findings.iter().filter(|f| f.check == c.id).map(|f| f.level).max();
                let (status, reason) = if let Some(r) = cov.skipped.get(c.id) {
                    (Status::Skipped, Some(r.clone()))
                } else if cov.ran.contains_key(c.id) || worst.is_some() {
                    let s = match worst {
                        Some(Level::Fail) => Status::Failed,
                        Some(Level::Warn) if strict => Status::Failed,
                        Some(Level::Warn) => Status::Warned,
                        _ => Status::Passed,
                    };
                    (s, None)
                } else if !c.implemented {
                    (Status::NotImplemented, Some("not implemented yet".to_string()))
                } else {
                    (Status::Skipped, Some("not exercised by this command".to_string()))
                };
                CheckResult {
                    id: c.id,
                    title: c.title,
                    level: c.level,
                    status,
                    reason,
                }
            })
            .collect();
        let failed = counts.fail > 0 || (strict && counts.warn > 0);
        Report {
            tool: "brhook",
            version: env!("CARGO_PKG_VERSION"),
            verdict: if failed { "fail" } else { "pass" },
            strict,
            counts,
            subject: subject.into(),
            note: None,
            findings,
            checks,
        }
    }

    /// Never pass on nothing: marks the report failed, saying why.
    pub fn fail_on_nothing(&mut self, why: &str) {
        self.verdict = "fail";
        self.note = Some(why.to_string());
    }

    pub fn passed(&self) -> bool {
        self.verdict == "pass"
    }

    pub fn status(&self, id: &str) -> Option<Status> {
        self.checks.iter().find(|c| c.id == id).map(|c| c.status)
    }

    /// Findings of one check.
    pub fn findings_of<'a>(&'a self, id: &'a str) -> impl Iterator<Item = &'a Finding> + 'a {
        self.findings.iter().filter(move |f| f.check == id)
    }

    /// The IDs of checks with at least one finding at `level` or above, sorted.
    pub fn tripped(&self, level: Level) -> Vec<&'static str> {
        let mut ids: Vec<_> = self
            .findings
            .iter()
            .filter(|f| f.level >= level)
            .map(|f| f.check)
            .collect();
        ids.sort_by_key(|id| order(id));
        ids.dedup();
        ids
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a report always serialises")
    }

    /// Panics with the text report unless the verdict is `pass`: for `cargo test`.
    #[track_caller]
    pub fn assert_pass(&self) {
        if !self.passed() {
            panic!(
                "brhook: the sender does not conform\n\n{}",
                text::render(self, false)
            );
        }
    }
}

/// Catalogue position, for stable ordering of findings and IDs.
pub fn order(id: &str) -> usize {
    CHECKS.iter().position(|c| c.id == id).unwrap_or(usize::MAX)
}
