//! Findings → verdict. The report model is a contract (see the README): field names
//! are fixed, more may be added. Renderers live beside it.
//!
//! Findings are grouped by cause as they are collected ([`Findings`]): findings that
//! share check, level, message and pointer are one [`Group`] with a count and a few
//! examples, so a report stays small however large the capture.

pub mod html;
pub mod junit;
pub mod shadow;
mod skip;
pub mod text;
pub mod timeline;

use crate::catalog::{Check, Level, CHECKS};
use crate::common::{hash64, Recent};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::fmt;

/// Finding identities remembered per half of the window that counts repeats once.
const RECENT: usize = 1 << 16;

pub(crate) use crate::finding::{add_unique, status_line};
pub use crate::finding::{Answer, Finding, Source};
pub use skip::{Forwarded, Skip, Status};
pub use timeline::Timeline;

/// Findings of one cause: same check, level, message and pointer.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Group {
    /// The check of every finding in the group.
    pub check: Check,
    /// The level of every finding in the group.
    pub level: Level,
    /// The message every finding in the group shares.
    pub message: String,
    /// The JSON pointer every finding in the group shares, if any.
    pub pointer: Option<String>,
    /// Occurrences: distinct findings of this cause.
    pub count: u64,
    /// Every URL the cause was seen at (URLs are few: the configured ones).
    pub urls: Vec<String>,
    /// The first few occurrences (smallest source first), in full.
    pub examples: Vec<Finding>,
    /// Occurrences not shown as examples.
    pub omitted: u64,
}

impl Group {
    /// Report order: worst level first, then catalogue order, pointer, message.
    pub fn order(a: &Group, b: &Group) -> std::cmp::Ordering {
        (std::cmp::Reverse(a.level), a.check, &a.pointer, &a.message).cmp(&(
            std::cmp::Reverse(b.level),
            b.check,
            &b.pointer,
            &b.message,
        ))
    }

    /// The group as one finding: its first example, with the group's count and URLs.
    pub fn summary(&self) -> Finding {
        let mut f = self.examples[0].clone();
        f.count = self.count;
        f.urls = self.urls.clone();
        f.sources = Vec::new();
        for s in self.examples.iter().flat_map(|e| e.sources.iter().cloned()) {
            add_unique(&mut f.sources, s);
        }
        f
    }
}

/// Collects findings into groups as they come: memory holds the identities of recent
/// findings (to count each once) and at most `examples` findings per group.
#[derive(Debug, Clone)]
pub struct Findings {
    examples: usize,
    groups: Vec<Group>,
    /// Group by the hash of its check, level, message and pointer.
    index: HashMap<u64, usize>,
    /// Identities of recent findings. Repeats of one finding (a retry, a fan-out copy,
    /// one delivery judged at several URLs) come close together, so a bounded window
    /// counts each once while memory stays flat, however long the capture.
    seen: Recent<u64, ()>,
    /// Identity of each kept example, parallel to `groups[i].examples`.
    ids: Vec<Vec<u64>>,
}

/// Sources one example names at most (the same finding seen again adds its source).
pub const MAX_SOURCES: usize = 8;

/// Examples per group unless the caller asks otherwise (`--examples N`).
pub const DEFAULT_EXAMPLES: usize = 3;

impl Default for Findings {
    fn default() -> Self {
        Findings::new(DEFAULT_EXAMPLES)
    }
}

impl Findings {
    /// An empty collection keeping at most `examples` examples per group (at least 1).
    pub fn new(examples: usize) -> Findings {
        Findings {
            examples: examples.max(1),
            groups: Vec::new(),
            index: HashMap::new(),
            seen: Recent::new(RECENT),
            ids: Vec::new(),
        }
    }

    /// Adds one finding to its group; a repeat of a recent one only adds its URLs and
    /// sources.
    pub fn push(&mut self, f: Finding) {
        let id = f.identity();
        let key = hash64((f.check, f.level, &f.message, &f.pointer));
        let g = match self.index.get(&key) {
            Some(&g) => g,
            None => {
                self.index.insert(key, self.groups.len());
                self.groups.push(Group {
                    check: f.check,
                    level: f.level,
                    message: f.message.clone(),
                    pointer: f.pointer.clone(),
                    count: 0,
                    urls: Vec::new(),
                    examples: Vec::new(),
                    omitted: 0,
                });
                self.ids.push(Vec::new());
                self.groups.len() - 1
            }
        };
        let group = &mut self.groups[g];
        for u in &f.urls {
            if !group.urls.contains(u) {
                group.urls.push(u.clone());
                group.urls.sort();
            }
        }
        let ids = &mut self.ids[g];
        if !self.seen.first_time(id) {
            // The same finding again (another URL, another attempt): one occurrence.
            if let Some(i) = ids.iter().position(|x| *x == id) {
                let e = &mut group.examples[i];
                for u in f.urls {
                    add_unique(&mut e.urls, u);
                }
                // A body seen in thousands of requests names the first few.
                for s in f.sources {
                    if e.sources.len() < MAX_SOURCES {
                        add_unique(&mut e.sources, s);
                    }
                }
            }
            return;
        }
        group.count += 1;
        if group.examples.len() < self.examples {
            group.examples.push(f);
            ids.push(id);
            return;
        }
        // Full: keep the smallest examples, whatever the order they came in.
        let (worst, _) = group
            .examples
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.example_key().cmp(&b.1.example_key()))
            .expect("a full group has examples");
        if f.example_key() < group.examples[worst].example_key() {
            group.examples[worst] = f;
            ids[worst] = id;
        }
    }

    /// Adds each finding as [`push`](Self::push) does.
    pub fn extend(&mut self, fs: impl IntoIterator<Item = Finding>) {
        for f in fs {
            self.push(f);
        }
    }

    /// True when no finding was collected.
    pub fn is_empty(&self) -> bool {
        self.groups.is_empty()
    }

    /// The examples kept so far (the judge fills in their details).
    pub(crate) fn examples_mut(&mut self) -> impl Iterator<Item = &mut Finding> {
        self.groups.iter_mut().flat_map(|g| g.examples.iter_mut())
    }

    /// The groups, sorted: worst level first, then catalogue order.
    pub fn into_groups(self) -> Vec<Group> {
        let mut groups = self.groups;
        for g in &mut groups {
            g.examples.sort_by(|a, b| a.example_key().cmp(&b.example_key()));
            g.omitted = g.count - g.examples.len() as u64;
        }
        groups.sort_by(Group::order);
        groups
    }
}

impl From<Vec<Finding>> for Findings {
    fn from(v: Vec<Finding>) -> Findings {
        let mut f = Findings::default();
        f.extend(v);
        f
    }
}

impl Extend<Finding> for Findings {
    fn extend<I: IntoIterator<Item = Finding>>(&mut self, iter: I) {
        Findings::extend(self, iter)
    }
}

/// One catalogue check's outcome in a report.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct CheckResult {
    /// The check.
    pub id: Check,
    /// Its catalogue title.
    pub title: &'static str,
    /// Its catalogue level.
    pub level: Level,
    /// What became of it in this run.
    pub status: Status,
    /// Why it did not run, when skipped or not implemented.
    pub reason: Option<Skip>,
}

/// Which checks a run could exercise. A check that did not run is `skipped` with its
/// reason, never `passed`: passing on nothing is the error this type exists to prevent.
#[derive(Debug, Clone, Default)]
pub struct Coverage {
    ran: BTreeMap<Check, ()>,
    skipped: BTreeMap<Check, Skip>,
}

impl Coverage {
    /// Marks a check run, clearing any skip recorded for it.
    pub fn ran(&mut self, id: Check) {
        self.skipped.remove(&id);
        self.ran.insert(id, ());
    }
    /// Marks a check skipped unless something already ran it.
    pub fn skip(&mut self, id: Check, reason: Skip) {
        if !self.ran.contains_key(&id) {
            self.skipped.insert(id, reason);
        }
    }
    /// Runs `ids` when `ran`, else skips them all for `reason`: a judge family states
    /// once which checks it runs and what they need.
    pub fn family(&mut self, ids: &[Check], ran: bool, reason: Skip) {
        for &id in ids {
            if ran {
                self.ran(id);
            } else {
                self.skip(id, reason.clone());
            }
        }
    }
    /// True when the check was marked run.
    pub fn has_run(&self, id: Check) -> bool {
        self.ran.contains_key(&id)
    }
    /// Which body checks a set of bodies exercised (`bodies` in all, `v2` events of
    /// which `known_v2` of a known type and `unknown_v2` of an unknown one, `v1`
    /// records), with the reason for each that it did not.
    pub(crate) fn bodies(&mut self, bodies: u64, v2: u64, known_v2: u64, unknown_v2: u64, v1: u64) {
        use Check::*;
        if bodies == 0 {
            self.family(&[T4, S1, S2, S3, S4, S5, S6, S7], false, Skip::NoBody);
            return;
        }
        self.family(&[T4, S4, S6], true, Skip::NoBody);
        self.family(&[S1], v2 > 0, Skip::NoV2);
        // S3 judges unknown types only: none arrived is no pass.
        let none = if v2 > 0 { Skip::NoUnknownType } else { Skip::NoV2 };
        self.family(&[S3], unknown_v2 > 0, none);
        self.family(&[S2, S7], known_v2 > 0, Skip::NoKnownV2);
        self.family(&[S5], v1 > 0, Skip::NoV1);
    }
}

/// A number per level.
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq)]
pub struct Counts {
    /// At level `fail`.
    pub fail: u64,
    /// At level `warn`.
    pub warn: u64,
    /// At level `info`.
    pub info: u64,
}

impl Counts {
    fn add(&mut self, level: Level, n: u64) {
        match level {
            Level::Fail => self.fail += n,
            Level::Warn => self.warn += n,
            Level::Info => self.info += n,
        }
    }
}

/// The outcome of a whole run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// No fail finding (nor warn under `--strict`), and something was judged.
    Pass,
    /// A fail finding, a warn one under `--strict`, or nothing to judge.
    Fail,
}

impl Verdict {
    /// The lowercase name: `pass` or `fail`.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail => "fail",
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<&str> for Verdict {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// The judged outcome of a run: verdict, findings grouped by cause, and every check's
/// status.
#[derive(Debug, Clone, Serialize)]
#[must_use = "a report says nothing until it is asserted, printed or written"]
pub struct Report {
    /// Always `brhook`.
    pub tool: &'static str,
    /// The brhook version that wrote the report.
    pub version: &'static str,
    /// Pass or fail for the whole run.
    pub verdict: Verdict,
    /// Whether warnings failed the run (`--strict`).
    pub strict: bool,
    /// Occurrences per level (every finding counted, shown as an example or not).
    pub counts: Counts,
    /// Groups (causes) per level.
    pub group_counts: Counts,
    /// What was judged, e.g. "3 bodies" or "42 requests carrying 12 events to 3 URLs".
    pub subject: String,
    /// Set when nothing could be judged; the verdict is then `fail`.
    pub note: Option<String>,
    /// One entry per group: its first example, with the group's `count` and `urls`.
    pub findings: Vec<Finding>,
    /// Every group (cause), worst level first, with its examples.
    pub groups: Vec<Group>,
    /// Every catalogue check, in catalogue order, with its status.
    pub checks: Vec<CheckResult>,
    /// True when the run judged both a sender and its receivers (`brhook proxy`): the
    /// text report then shows each side under its own heading.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub both_sides: bool,
    /// The delivery timeline for the HTML report (not part of the JSON contract).
    #[serde(skip)]
    pub timeline: Option<Timeline>,
    /// `brhook proxy --shadow`: each real receiver beside its candidate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shadow: Option<shadow::ShadowReport>,
}

impl Report {
    /// Builds the verdict. `strict` makes warnings fail (the verdict and the check).
    pub fn build(
        subject: impl Into<String>,
        findings: impl Into<Findings>,
        cov: &Coverage,
        strict: bool,
    ) -> Report {
        let groups = findings.into().into_groups();
        let (mut counts, mut group_counts) = (Counts::default(), Counts::default());
        let mut worst: HashMap<Check, Level> = HashMap::new();
        for g in &groups {
            counts.add(g.level, g.count);
            group_counts.add(g.level, 1);
            let w = worst.entry(g.check).or_insert(g.level);
            *w = (*w).max(g.level);
        }
        let checks = CHECKS
            .iter()
            .map(|c| {
                let worst = worst.get(&c.id).copied();
                // A check with a fail or warn finding shows it, whatever else was
                // decided: a counted failure is never under a skipped check.
                let (status, reason) = match worst {
                    Some(Level::Fail) => (Status::Failed, None),
                    Some(Level::Warn) if strict => (Status::Failed, None),
                    Some(Level::Warn) => (Status::Warned, None),
                    _ => {
                        if let Some(r) = cov.skipped.get(&c.id) {
                            (Status::Skipped, Some(r.clone()))
                        } else if cov.ran.contains_key(&c.id) || worst.is_some() {
                            (Status::Passed, None)
                        } else if !c.implemented {
                            (Status::NotImplemented, Some(Skip::NotImplemented))
                        } else {
                            (Status::Skipped, Some(Skip::NotExercised))
                        }
                    }
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
            verdict: if failed { Verdict::Fail } else { Verdict::Pass },
            strict,
            counts,
            group_counts,
            subject: subject.into(),
            note: None,
            findings: groups.iter().map(Group::summary).collect(),
            groups,
            checks,
            both_sides: false,
            timeline: None,
            shadow: None,
        }
    }

    /// Never pass on nothing: marks the report failed, saying why.
    pub fn fail_on_nothing(&mut self, why: &str) {
        self.verdict = Verdict::Fail;
        self.note = Some(why.to_string());
    }

    /// True when the verdict is `pass`.
    pub fn passed(&self) -> bool {
        self.verdict == Verdict::Pass
    }

    /// The status of one check.
    pub fn status(&self, id: Check) -> Option<Status> {
        self.checks.iter().find(|c| c.id == id).map(|c| c.status)
    }

    /// Findings of one check: one per group, with the group's count.
    pub fn findings_of(&self, id: Check) -> impl Iterator<Item = &Finding> + '_ {
        self.findings.iter().filter(move |f| f.check == id)
    }

    /// Occurrences of one check at `level` or above.
    pub fn occurrences(&self, id: Check, level: Level) -> u64 {
        self.groups
            .iter()
            .filter(|g| g.check == id && g.level >= level)
            .map(|g| g.count)
            .sum()
    }

    /// The checks with at least one finding at `level` or above, in catalogue order.
    pub fn tripped(&self, level: Level) -> Vec<Check> {
        let mut ids: Vec<_> = self
            .groups
            .iter()
            .filter(|g| g.level >= level)
            .map(|g| g.check)
            .collect();
        ids.sort();
        ids.dedup();
        ids
    }

    /// The report as pretty-printed JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a report always serialises")
    }

    /// Panics with the text report unless the verdict is `pass`: for `cargo test`.
    #[track_caller]
    pub fn assert_pass(&self) {
        if !self.passed() {
            panic!(
                "brhook: the sender does not conform\n\n{}",
                text::render(self, &text::Style::plain())
            );
        }
    }
}
