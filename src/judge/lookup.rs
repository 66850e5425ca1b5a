//! The few captured requests a report quotes in full, fetched back by sequence number
//! once judging is done: the judge keeps no body past its request, so what an example
//! shows of one (a path, the differing bytes of a retry) is read again from the journal.

use super::answer::{curl, Body};
use crate::finding::{Detail, Finding};
use crate::journal::{Journal, Request};
use std::collections::{BTreeSet, HashMap};
use std::io::BufRead;
use std::path::PathBuf;

/// Where captured requests can be read back.
pub trait Lookup {
    /// The requests with these sequence numbers (those that can be found).
    fn requests(&mut self, seqs: &BTreeSet<u64>) -> Vec<Request>;
}

impl Lookup for Journal {
    fn requests(&mut self, seqs: &BTreeSet<u64>) -> Vec<Request> {
        (&*self).requests(seqs)
    }
}

impl Lookup for &Journal {
    fn requests(&mut self, seqs: &BTreeSet<u64>) -> Vec<Request> {
        self.requests
            .iter()
            .filter(|r| seqs.contains(&r.seq))
            .cloned()
            .collect()
    }
}

/// A journal file, scanned once for the wanted lines (only those are parsed).
pub struct JournalFile(pub PathBuf);

impl Lookup for JournalFile {
    fn requests(&mut self, seqs: &BTreeSet<u64>) -> Vec<Request> {
        let mut out = Vec::new();
        if seqs.is_empty() {
            return out;
        }
        let Ok(f) = std::fs::File::open(&self.0) else {
            return out;
        };
        for line in std::io::BufReader::new(f).lines() {
            let Ok(line) = line else { break };
            // `{"type":"request","seq":N,...`: the sequence number is read off the
            // prefix, so a million lines are skimmed without being parsed.
            let Some(rest) = line.strip_prefix(r#"{"type":"request","seq":"#) else {
                continue;
            };
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            if digits.parse::<u64>().is_ok_and(|n| seqs.contains(&n)) {
                if let Ok(r) = crate::journal::parse_request(&line) {
                    out.push(r);
                }
            }
        }
        out
    }
}

/// A journal and its rotated files: each file is skimmed in turn.
impl Lookup for Vec<JournalFile> {
    fn requests(&mut self, seqs: &BTreeSet<u64>) -> Vec<Request> {
        self.iter_mut().flat_map(|f| f.requests(seqs)).collect()
    }
}

impl Detail {
    fn apply(&self, got: &HashMap<u64, Request>, f: &mut Finding) {
        let value = |s: &u64| -> Option<serde_json::Value> {
            let r = got.get(s)?;
            let b = r.body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&r.body);
            serde_json::from_slice(b).ok()
        };
        let data = |v: &serde_json::Value| v.get("EventData").cloned().unwrap_or_else(|| v.clone());
        let field = |s: &u64, k: &str| -> String {
            value(s)
                .map(|v| data(&v))
                .and_then(|d| d.get(k).and_then(|x| x.as_str()).map(str::to_string))
                .unwrap_or_else(|| "?".into())
        };
        let missing = || {
            format!(
                "(request{} {} not at hand: see the journal)",
                crate::common::plural_s(self.seqs().len() as u64),
                self.seqs()
                    .iter()
                    .map(|s| format!("#{s}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        if !self.seqs().iter().all(|s| got.contains_key(s)) {
            f.found = Some(missing());
            return;
        }
        match self {
            Detail::BodyDiff { first, retry } => {
                f.found = Some(first_difference(&got[first].body, &got[retry].body));
            }
            Detail::Header { name, first, retry } => {
                let h = |s: &u64| got[s].header(name).unwrap_or("nothing").to_string();
                f.found = Some(format!("{:?} then {:?}", h(first), h(retry)));
            }
            Detail::TwoEvents { a, b } => {
                let describe = |s: &u64| {
                    let v = value(s).unwrap_or_default();
                    let t = v.get("EventType").and_then(|t| t.as_str()).unwrap_or("record");
                    format!("{t} {}", crate::schema::short(&data(&v)))
                };
                f.found = Some(format!("{} vs {}", describe(a), describe(b)));
            }
            Detail::FileOf(s) => {
                f.found = Some(format!(
                    "{} opened {}",
                    field(s, "RelativePath"),
                    field(s, "FileOpenTime")
                ));
            }
            Detail::PathOf(s) => f.found = Some(field(s, "RelativePath")),
            Detail::Answer { seq, to } => {
                let r = &got[seq];
                f.found = r.upstream.as_ref().map(answer_of);
                f.answer = r.upstream.as_ref().and_then(|u| {
                    Some(crate::report::Answer {
                        status: u.status?,
                        body: String::from_utf8_lossy(&u.answer_body).into_owned(),
                    })
                });
                if let Some(to) = to {
                    let ua = r.header("user-agent").unwrap_or_default();
                    f.reproduce = Some(curl(to, ua, Body::Bytes(&r.body), true));
                }
            }
            Detail::Sent {
                seq,
                to,
                before,
                after,
                held,
            } => {
                let r = &got[seq];
                let body = |r: &'_ Request| -> (Option<PathBuf>, Vec<u8>) {
                    let file = r.sent.as_ref().and_then(|s| s.file.as_ref()).map(PathBuf::from);
                    (file, r.body.clone())
                };
                let ua = r.header("user-agent").unwrap_or_default();
                let cmd = |r: &Request, show: bool| {
                    let (file, bytes) = body(r);
                    match &file {
                        Some(f) => curl(to, ua, Body::File(f), show),
                        None => curl(to, ua, Body::Bytes(&bytes), show),
                    }
                };
                let me = cmd(r, true);
                f.reproduce = Some(if let Some((h, stagger)) = held {
                    format!("{} & sleep {stagger}; {me}; wait", cmd(&got[h], false))
                } else if !before.is_empty() {
                    let mut all: Vec<String> = before.iter().map(|s| cmd(&got[s], false)).collect();
                    all.push(me);
                    all.join("; ")
                } else if let Some(labels) = after {
                    format!("{me} (after this case's earlier bodies: {labels}; `--save-bodies DIR` writes them all and replays the whole case)")
                } else {
                    me
                });
                if let Some(file) = body(r).0 {
                    f.found = Some(format!("body in {}", file.display()));
                }
                f.answer = r.upstream.as_ref().and_then(|u| {
                    Some(crate::report::Answer {
                        status: u.status?,
                        body: String::from_utf8_lossy(&u.answer_body).into_owned(),
                    })
                });
            }
            Detail::Rooms(seqs) => {
                let room = |s: &u64| {
                    let d = value(s).map(|v| data(&v)).unwrap_or_default();
                    let shown = |k: &str| d.get(k).map_or_else(|| "absent".into(), |x| x.to_string());
                    format!("RoomId {} ShortId {}", shown("RoomId"), shown("ShortId"))
                };
                f.found = Some(seqs.iter().map(room).collect::<Vec<_>>().join(" vs "));
            }
            Detail::V1Record { record, near } => {
                f.found = value(record).map(|v| crate::schema::short(&v));
                if let Some(n) = near {
                    let d = value(n).map(|v| data(&v)).unwrap_or_default();
                    f.expected = Some(format!(
                        "the FileClosed of the same file: {}",
                        crate::schema::short(&d)
                    ));
                }
            }
        }
    }
}

/// Fills in the details of examples, reading their requests back in one pass.
pub(crate) fn fill<'a>(examples: impl Iterator<Item = &'a mut Finding>, lookup: &mut dyn Lookup) {
    let mut pending: Vec<&mut Finding> = examples.filter(|f| f.detail.is_some()).collect();
    let seqs: BTreeSet<u64> = pending
        .iter()
        .flat_map(|f| f.detail.as_ref().map(Detail::seqs).unwrap_or_default())
        .collect();
    let got: HashMap<u64, Request> = lookup.requests(&seqs).into_iter().map(|r| (r.seq, r)).collect();
    for f in &mut pending {
        if let Some(d) = f.detail.take() {
            d.apply(&got, f);
        }
    }
}

/// `answered 500 Internal Server Error: "db down"`, or why there was no answer.
fn answer_of(u: &crate::journal::Upstream) -> String {
    if let Some(e) = &u.error {
        return format!("no answer: {e} (brhook relayed {})", e.relayed_status());
    }
    let status = crate::report::status_line(u.status.unwrap_or(0));
    let body = String::from_utf8_lossy(&u.answer_body[..u.answer_body.len().min(120)]).into_owned();
    let body = body.trim();
    let mut text = format!("answered {status}");
    if !body.is_empty() {
        text.push_str(&format!(": {body:?}"));
    }
    text
}

/// Where two bodies first differ, as a short excerpt of each.
fn first_difference(a: &[u8], b: &[u8]) -> String {
    let i = a
        .iter()
        .zip(b)
        .position(|(x, y)| x != y)
        .unwrap_or(a.len().min(b.len()));
    let cut =
        |s: &[u8]| String::from_utf8_lossy(&s[i.saturating_sub(10)..(i + 30).min(s.len())]).into_owned();
    format!("bodies differ from byte {i}: {:?} vs {:?}", cut(a), cut(b))
}
