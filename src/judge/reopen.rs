//! What a receiver did with the `--workdir` files (R12, and files never opened), from a
//! `send` or `replay` journal: its request lines say which event named which file and
//! how it was answered, its file lines ([`FileLine`]) when each file was opened.
//!
//! R12 compares by contrast, so that a receiver's own way of reading a file (one open,
//! or ffprobe then ffmpeg then an upload) sets the measure: a file whose events were
//! each delivered once sets how often processing opens a file; a file whose event was
//! delivered again after the receiver had answered it 2xx, and that was opened more
//! often than that, some of it after the repeat, was processed again.

use super::record::Key;
use super::Interner;
use crate::catalog::{Check, Level};
use crate::journal::{FileLine, Meta, Request, WorkdirMeta};
use crate::report::{Coverage, Finding, Findings, Skip};
use std::collections::HashMap;

/// Files named in one finding's measurement, at most.
const EXAMPLES: usize = 3;

/// One delivery of an event that names a file.
struct Delivery {
    file: u32,
    id: Key,
    url: u16,
    sent: f64,
    answered: f64,
    ok: bool,
    /// `send`: the case index; `u32::MAX` otherwise.
    case: u32,
    /// `FileClosed`, `v1 record`.
    what: u32,
}

/// What the judge collects from the requests of a journal with `--workdir`.
pub(crate) struct Collect {
    meta: WorkdirMeta,
    index: HashMap<String, u32>,
    /// Per file: named in a 2xx answer's body.
    named: Vec<bool>,
    kinds: Vec<String>,
    deliveries: Vec<Delivery>,
}

impl Collect {
    pub(crate) fn new(meta: WorkdirMeta) -> Collect {
        Collect {
            meta,
            index: HashMap::new(),
            named: Vec::new(),
            kinds: Vec::new(),
            deliveries: Vec::new(),
        }
    }

    fn file(&mut self, path: &str) -> u32 {
        if let Some(&i) = self.index.get(path) {
            return i;
        }
        let i = self.named.len() as u32;
        self.index.insert(path.to_string(), i);
        self.named.push(false);
        i
    }

    /// One request brhook sent (`id`: its event, `url`: its URL index): kept when its
    /// body names a file.
    pub(crate) fn push(&mut self, r: &Request, id: Key, url: u16) {
        const KEY: &[u8] = b"\"RelativePath\"";
        if !r.body.windows(KEY.len()).any(|w| w == KEY) {
            return;
        }
        let Ok(v) = serde_json::from_slice::<serde_json::Value>(&r.body) else {
            return;
        };
        let (path, what) = match v.get("EventData") {
            Some(d) => (
                d.get("RelativePath"),
                v.get("EventType").and_then(|t| t.as_str()).unwrap_or("event"),
            ),
            None => (v.get("RelativePath"), "v1 record"),
        };
        let Some(path) = path.and_then(|p| p.as_str()) else {
            return;
        };
        let file = self.file(path);
        let (sent, answered, ok, answer) = match &r.upstream {
            Some(u) => (u.sent_ms, u.answered_ms, u.succeeded(), &u.answer_body[..]),
            None => (r.at_ms, r.response.at_ms, r.succeeded(), &[][..]),
        };
        if ok && names(answer, path) {
            self.named[file as usize] = true;
        }
        let what = match self.kinds.iter().position(|k| k == what) {
            Some(i) => i as u32,
            None => {
                self.kinds.push(what.to_string());
                self.kinds.len() as u32 - 1
            }
        };
        self.deliveries.push(Delivery {
            file,
            id,
            url,
            sent,
            answered,
            ok,
            case: r.sent.as_ref().map_or(u32::MAX, |s| s.case),
            what,
        });
    }
}

/// The answer body names the path: as is, or as a JSON string writes it.
fn names(answer: &[u8], path: &str) -> bool {
    let has = |needle: &[u8]| !needle.is_empty() && answer.windows(needle.len()).any(|w| w == needle);
    let escaped = serde_json::to_string(path).unwrap_or_default();
    has(path.as_bytes()) || has(escaped.trim_matches('"').as_bytes())
}

/// A repeated delivery of a file's event: after the receiver had answered it 2xx.
struct Repeat {
    sent: f64,
    delivery: usize,
}

/// Judges R12 and the files never opened.
pub(super) fn judge(
    c: Collect,
    files: &[FileLine],
    ids: &Interner,
    meta: &Meta,
    out: &mut Findings,
    cov: &mut Coverage,
) {
    let mut c = c;
    let opens: HashMap<&str, &[f64]> = files.iter().map(|f| (f.path.as_str(), &f.opens_ms[..])).collect();
    for f in files {
        c.file(&f.path);
    }
    let paths: Vec<&str> = {
        let mut v = vec![""; c.named.len()];
        for (p, &i) in &c.index {
            v[i as usize] = p.as_str();
        }
        v
    };
    let opens_of = |i: usize| opens.get(paths[i]).copied().unwrap_or(&[]);
    let counts: Vec<usize> = (0..paths.len()).map(|i| opens_of(i).len()).collect();
    never_opened(&c, &paths, &counts, c.meta.watched, out);
    still_open(files, out);
    if !c.meta.watched {
        cov.skip(Check::R12, Skip::NotWatched);
        return;
    }
    // A repeated URL reaches the same receiver: one receiver, one set of answers.
    let receiver: Vec<u16> = (0..meta.urls.len())
        .map(|i| {
            let same = |j: &usize| meta.urls[*j].upstream == meta.urls[i].upstream;
            (0..=i).find(same).unwrap_or(i) as u16
        })
        .collect();
    let recv = |u: u16| receiver.get(usize::from(u)).copied().unwrap_or(u);
    let mut order: Vec<usize> = (0..c.deliveries.len()).collect();
    order.sort_by(|&a, &b| {
        let (x, y) = (&c.deliveries[a], &c.deliveries[b]);
        (x.id, recv(x.url))
            .cmp(&(y.id, recv(y.url)))
            .then(x.sent.total_cmp(&y.sent))
    });
    let n = c.named.len();
    let mut repeat: Vec<Option<Repeat>> = (0..n).map(|_| None).collect();
    let mut clean = vec![true; n];
    for group in order.chunk_by(|&a, &b| {
        let (x, y) = (&c.deliveries[a], &c.deliveries[b]);
        (x.id, recv(x.url)) == (y.id, recv(y.url))
    }) {
        let mut answered_ok: Option<f64> = None;
        for &d in group {
            let del = &c.deliveries[d];
            let f = del.file as usize;
            if !del.ok {
                clean[f] = false;
            }
            if answered_ok.is_some_and(|at| at <= del.sent) {
                clean[f] = false;
                if repeat[f].as_ref().is_none_or(|r| del.sent < r.sent) {
                    repeat[f] = Some(Repeat {
                        sent: del.sent,
                        delivery: d,
                    });
                }
            }
            if del.ok {
                answered_ok = Some(answered_ok.map_or(del.answered, |a| a.min(del.answered)));
            }
        }
    }
    let base = (0..n)
        .filter(|&i| clean[i])
        .map(|i| opens_of(i).len())
        .max()
        .unwrap_or(0);
    let repeated: Vec<usize> = (0..n).filter(|&i| repeat[i].is_some()).collect();
    if repeated.is_empty() {
        cov.skip(Check::R12, Skip::NoRepeat);
        return;
    }
    if base == 0 {
        cov.skip(Check::R12, Skip::NoneOpened);
        return;
    }
    cov.ran(Check::R12);
    for i in repeated {
        let r = repeat[i].as_ref().expect("repeated");
        let all = opens_of(i);
        let after = all.iter().filter(|&&t| t >= r.sent).count();
        if all.len() <= base || after == 0 {
            continue;
        }
        let d = &c.deliveries[r.delivery];
        let what = &c.kinds[d.what as usize];
        let event = ids.text(d.id);
        let mut f = Finding::at(
            Check::R12,
            Level::Warn,
            format!("the receiver opened the file again after a retry of {what} it had answered 2xx: it does not de-duplicate by EventId"),
        )
        .expected(format!(
            "a {what} delivered again (same bytes, same EventId) after a 2xx answer is answered 2xx and not processed again: de-duplicate by EventId"
        ))
        .measured(format!(
            "{} opened {} times, {after} of them after the {what} was sent again at {}; a file whose events were delivered once was opened at most {base} time{}",
            paths[i],
            all.len(),
            crate::common::fmt_ms(r.sent),
            crate::common::plural_s(base as u64)
        ))
        .url(meta.urls.get(usize::from(d.url)).map_or("?", |u| u.name.as_str()));
        if !event.starts_with("body:") {
            f = f.event(event);
        }
        if let Some(case) = meta.send.as_ref().and_then(|s| s.cases.get(d.case as usize)) {
            f = f.source(case.name.as_str());
        }
        out.push(f);
    }
}

/// Files the receiver never opened, when it named them in an answer or `--expect-open`
/// asked: one `info` line each way, with a few of the files.
fn never_opened(c: &Collect, paths: &[&str], counts: &[usize], watched: bool, out: &mut Findings) {
    if !watched {
        return;
    }
    let never: Vec<usize> = (0..paths.len()).filter(|&i| counts[i] == 0).collect();
    let named: Vec<usize> = never.iter().copied().filter(|&i| c.named[i]).collect();
    let list = |v: &[usize]| few(v.iter().map(|&i| paths[i]), v.len());
    if c.meta.expect_open && !never.is_empty() {
        out.push(
            Finding::at(
                Check::R12,
                Level::Info,
                "the receiver never opened some of the files in --workdir (--expect-open)",
            )
            .measured(format!(
                "{} of {} files never opened: {}",
                never.len(),
                paths.len(),
                list(&never)
            )),
        );
    } else if !named.is_empty() {
        out.push(
            Finding::at(
                Check::R12,
                Level::Info,
                "the receiver named a file in its answer but never opened it",
            )
            .measured(format!(
                "{} file{} never opened: {}",
                named.len(),
                crate::common::plural_s(named.len() as u64),
                list(&named)
            )),
        );
    }
}

/// The first [`EXAMPLES`] of `total` paths, sorted, and how many more: `a, b and 3 more`.
fn few<'a>(paths: impl Iterator<Item = &'a str>, total: usize) -> String {
    let mut shown: Vec<&str> = paths.take(EXAMPLES).collect();
    shown.sort_unstable();
    let more = total.saturating_sub(EXAMPLES);
    let mut t = shown.join(", ");
    if more > 0 {
        t.push_str(&format!(" and {more} more"));
    }
    t
}

/// Files someone still had open when the settle window's wait ran out: removed while
/// in use, so what the receiver did with them afterwards is not brhook's to judge.
fn still_open(files: &[FileLine], out: &mut Findings) {
    let open: Vec<&str> = files
        .iter()
        .filter(|f| f.still_open)
        .map(|f| f.path.as_str())
        .collect();
    if open.is_empty() {
        return;
    }
    let list = few(open.iter().copied(), open.len());
    out.push(
        Finding::at(
            Check::R12,
            Level::Info,
            "the receiver still had files open when brhook stopped waiting for them to be closed: they were removed while in use",
        )
        .expected(format!(
            "every --workdir file closed within {} of the last answer (or pass --keep-files)",
            crate::common::fmt_duration(crate::journal::MAX_SETTLE_WAIT)
        ))
        .measured(format!(
            "{} file{} still open: {list}",
            open.len(),
            crate::common::plural_s(open.len() as u64)
        )),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_names_a_path_as_is_or_json_escaped() {
        assert!(names(br#"{"queued":"room/a.flv"}"#, "room/a.flv"));
        assert!(names(br#"{"queued":"room\\b \"x\".flv"}"#, r#"room\b "x".flv"#));
        assert!(!names(b"ok", "room/a.flv"));
        assert!(!names(b"", ""));
    }

    /// A journal's worth: file 0 delivered once, file 1's event delivered again at
    /// 100 ms after a 2xx answer at 50 ms; `opens` per file.
    fn judged(opens: [&[f64]; 2]) -> (Findings, Coverage) {
        let meta = crate::journal::Journal::new(
            vec![crate::journal::UrlSpec {
                name: "a".into(),
                fault: crate::fault::Fault::ok(),
                setting: None,
                upstream: Some("http://r/".into()),
            }],
            String::new(),
        )
        .meta;
        let mut ids = Interner::default();
        let mut c = Collect::new(WorkdirMeta {
            watched: true,
            expect_open: false,
        });
        let (f0, f1) = (c.file("a.flv"), c.file("b.flv"));
        c.kinds.push("FileClosed".into());
        let d = |file, id, sent, answered| Delivery {
            file,
            id,
            url: 0,
            sent,
            answered,
            ok: true,
            case: u32::MAX,
            what: 0,
        };
        let (e0, e1) = (ids.key("e0"), ids.key("e1"));
        c.deliveries.push(d(f0, e0, 0.0, 40.0));
        c.deliveries.push(d(f1, e1, 10.0, 50.0));
        c.deliveries.push(d(f1, e1, 100.0, 140.0));
        let files: Vec<FileLine> = ["a.flv", "b.flv"]
            .iter()
            .zip(opens)
            .map(|(p, o)| FileLine {
                path: p.to_string(),
                opens_ms: o.to_vec(),
                still_open: false,
            })
            .collect();
        let (mut out, mut cov) = (Findings::new(3), Coverage::default());
        judge(c, &files, &ids, &meta, &mut out, &mut cov);
        (out, cov)
    }

    #[test]
    fn opens_beyond_a_file_delivered_once_after_the_repeat_are_r12() {
        let (out, cov) = judged([&[20.0], &[30.0, 110.0]]);
        assert!(cov.has_run(Check::R12));
        let groups = out.into_groups();
        assert_eq!(groups.len(), 1);
        assert_eq!((groups[0].check, groups[0].level), (Check::R12, Level::Warn));
    }

    #[test]
    fn as_many_opens_or_none_after_the_repeat_stay_quiet() {
        for opens in [[&[20.0][..], &[110.0][..]], [&[20.0][..], &[30.0, 35.0][..]]] {
            let (out, cov) = judged(opens);
            assert!(cov.has_run(Check::R12));
            assert!(out.is_empty(), "{opens:?}");
        }
        // Nothing opened at all: nothing to compare with, never a pass.
        let (_, cov) = judged([&[], &[110.0]]);
        assert!(!cov.has_run(Check::R12));
    }

    #[test]
    fn a_file_still_open_when_the_wait_ran_out_is_one_info_line_naming_it() {
        let line = |p: &str, still_open| FileLine {
            path: p.into(),
            opens_ms: vec![5.0],
            still_open,
        };
        let mut out = Findings::new(3);
        still_open(&[line("a.flv", false), line("b.flv", true)], &mut out);
        let groups = out.into_groups();
        assert_eq!(groups.len(), 1);
        assert_eq!((groups[0].check, groups[0].level), (Check::R12, Level::Info));
        let f = &groups[0].examples[0];
        assert_eq!(f.found.as_deref(), Some("1 file still open: b.flv"), "{f:?}");
        // Every file closed in time: nothing said.
        let mut quiet = Findings::new(3);
        still_open(&[line("a.flv", false)], &mut quiet);
        assert!(quiet.is_empty());
    }
}
