//! A capture that outlives one process or one file: a restart appends a new run to the
//! same journal (its request numbers and clock go on from the previous run's), a full
//! file is rotated to a numbered name (`FILE.1`, `FILE.2`, …) and a reopened one
//! (SIGHUP, for logrotate) goes on in a new file. Each file begins with a meta line
//! that says which run wrote it and which part of that run it is, so that a set of
//! files is put back in order and judged as one capture.

use super::{b64, io_err, JournalError, Line, Meta};
use serde::{Deserialize, Serialize};
use std::io::BufRead;
use std::path::{Path, PathBuf};

/// Where a journal file stands in its capture.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Segment {
    /// The run (one start of brhook) that wrote it: a random id.
    pub run: String,
    /// 0 for the first file of the run; n for its n-th continuation (a rotation or a
    /// reopen).
    #[serde(default)]
    pub part: u32,
    /// The run's request numbers start after this one: the previous runs' highest.
    #[serde(default)]
    pub seq_base: u64,
    /// The run's clock (milliseconds, as every time in the journal) starts here:
    /// after every time the previous runs wrote.
    #[serde(default)]
    pub ms_base: f64,
    /// Part 0 of a run that was appended to an earlier one: how that one ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<Previous>,
}

impl Segment {
    /// The first file of a new capture.
    pub fn first() -> Segment {
        Segment {
            run: uuid::Uuid::new_v4().simple().to_string(),
            part: 0,
            seq_base: 0,
            ms_base: 0.0,
            after: None,
        }
    }
}

/// How the run before a restart ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "ended", rename_all = "lowercase")]
pub enum Previous {
    /// With its close line.
    Closed,
    /// Without one: killed, or the machine stopped. Every request it answered is in
    /// the journal (a line is written before its answer is released); the capture was
    /// cut short.
    Killed {
        /// The incomplete line it was writing when it died (a request whose answer was
        /// never released), moved here so that the file stays whole (base64).
        #[serde(with = "b64", default, skip_serializing_if = "Vec::is_empty")]
        torn: Vec<u8>,
    },
}

/// Rotation: once a file reaches `max_bytes` it becomes `FILE.1` (the older ones move
/// up: `FILE.1` to `FILE.2`, …) and a new `FILE` begins; at most `keep` rotated files
/// are kept (the oldest goes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rotation {
    /// A file is rotated once it holds this many bytes (at a line's end).
    pub max_bytes: u64,
    /// Rotated files kept besides `FILE` (at least 1).
    pub keep: u32,
}

/// The rotated name `FILE.n`.
pub fn numbered(path: &Path, n: u32) -> PathBuf {
    let mut s = path.as_os_str().to_os_string();
    s.push(format!(".{n}"));
    PathBuf::from(s)
}

/// What the journal's last run left: read on a restart, before appending.
pub(super) struct Prior {
    /// The highest request number.
    pub seq: u64,
    /// The latest time written (arrival or close), in milliseconds.
    pub ms: f64,
    /// The last meta line read (the last run's).
    pub meta: Option<Meta>,
    /// The last run wrote its close line.
    pub closed: bool,
    /// An incomplete last line: where it starts, and its bytes.
    pub torn: Option<(u64, Vec<u8>)>,
}

/// Reads what `path` holds, skimming request lines (their number and arrival time are
/// read off the line's prefix); `None` for a file that is missing or empty.
pub(super) fn scan(path: &Path) -> Result<Option<Prior>, JournalError> {
    let shown = path.display().to_string();
    let f = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io_err("read", &shown)(e)),
    };
    let mut src = std::io::BufReader::with_capacity(1 << 16, f);
    let mut prior = Prior {
        seq: 0,
        ms: 0.0,
        meta: None,
        closed: false,
        torn: None,
    };
    let (mut line, mut at, mut first) = (Vec::new(), 0u64, true);
    loop {
        line.clear();
        let n = src.read_until(b'\n', &mut line).map_err(io_err("read", &shown))?;
        if n == 0 {
            break;
        }
        if line.last() != Some(&b'\n') {
            prior.torn = Some((at, line.clone()));
            break;
        }
        at += n as u64;
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        if let Some(rest) = line.strip_prefix(br#"{"type":"request","seq":"#) {
            prior.seq = prior.seq.max(number(rest) as u64);
            if let Some(i) = find(rest, br#""at_ms":"#) {
                prior.ms = prior.ms.max(number(&rest[i..]));
            }
        } else {
            match serde_json::from_slice::<Line>(&line) {
                // A continuation's meta line is its run's, start time and clock base
                // included: the last one read stands for the last run.
                Ok(Line::Meta(m)) => {
                    prior.meta = Some(*m);
                    prior.closed = false;
                }
                Ok(Line::Close { at_ms, .. }) => {
                    prior.closed = true;
                    prior.ms = prior.ms.max(at_ms);
                }
                _ => {}
            }
        }
        if first && prior.meta.is_none() {
            return Err(JournalError::NotAJournal(format!(
                "{shown} is not a brhook journal (no meta line first); brhook appends only to its own journals"
            )));
        }
        first = false;
    }
    Ok((at > 0 || prior.torn.is_some()).then_some(prior))
}

/// The number at the start of `b` (digits, `.`, `e`, `-`), 0 when there is none.
fn number(b: &[u8]) -> f64 {
    let end = b
        .iter()
        .position(|c| !(c.is_ascii_digit() || b".eE-+".contains(c)))
        .unwrap_or(b.len());
    std::str::from_utf8(&b[..end])
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0.0)
}

/// The position just after the first `needle` in `hay`.
fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len())
        .position(|w| w == needle)
        .map(|i| i + needle.len())
}

/// The segment of a run appended to what `prior` left: numbers and clock go on after
/// the previous runs' (the clock by the wall-clock time between the two starts, and at
/// least past every time written), and it says how the last run ended.
pub(super) fn after(prior: Option<&Prior>) -> Segment {
    let mut seg = Segment::first();
    let Some(p) = prior else { return seg };
    seg.seq_base = p.seq;
    let wall = p.meta.as_ref().and_then(|m| {
        let started = chrono::DateTime::parse_from_rfc3339(&m.started).ok()?;
        let gap = chrono::Local::now()
            .signed_duration_since(started)
            .num_milliseconds() as f64;
        let base = m.segment.as_ref().map_or(0.0, |s| s.ms_base);
        Some(base + gap.max(0.0))
    });
    seg.ms_base = wall.unwrap_or(0.0).max(p.ms + 1.0).ceil();
    seg.after = Some(if p.closed {
        Previous::Closed
    } else {
        Previous::Killed {
            torn: p.torn.as_ref().map(|t| t.1.clone()).unwrap_or_default(),
        }
    });
    seg
}

/// Moves `FILE` to `FILE.1` and each `FILE.n` to `FILE.n+1`; the one past `keep` goes.
pub(super) fn shift(path: &Path, keep: u32) -> std::io::Result<()> {
    let keep = keep.max(1);
    match std::fs::remove_file(numbered(path, keep)) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    for n in (1..keep).rev() {
        match std::fs::rename(numbered(path, n), numbered(path, n + 1)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
    }
    std::fs::rename(path, numbered(path, 1))
}

/// The journal at `path` and its rotated files (`FILE.1`, `FILE.2`, … as far as they
/// go), newest first: a follower looks there for the part it reads next.
pub fn candidates(path: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = Some(path.to_path_buf())
        .filter(|p| p.exists())
        .into_iter()
        .collect();
    let mut n = 1;
    while numbered(path, n).exists() {
        out.push(numbered(path, n));
        n += 1;
    }
    out
}

/// The order files of a set are read in: by run (its clock base), then part; files
/// written before segments keep the order they were given in.
pub(super) fn order_key(meta: &Meta, given: usize) -> (u64, u32, usize) {
    match &meta.segment {
        Some(s) => (s.ms_base.max(0.0) as u64, s.part, given),
        None => (0, 0, given),
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Journal, Reader, Request, Response, Writer};
    use super::*;

    fn request(seq: u64, at_ms: f64) -> Request {
        Request {
            seq,
            conn: 1,
            at_ms,
            method: "POST".into(),
            target: "/a".into(),
            url: Some("a".into()),
            headers: Vec::new(),
            body: b"{}".to_vec(),
            body_error: None,
            response: Response {
                status: Some(204),
                at_ms: at_ms + 0.5,
                abandoned_ms: None,
            },
            upstream: None,
            sent: None,
        }
    }

    fn dir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("brhook-segment-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    /// Every request number read from the reader, in file order.
    fn read_all(mut r: Reader) -> (Vec<u64>, Reader) {
        let mut seqs = Vec::new();
        while let Some((_, line)) = r.next_raw().unwrap() {
            seqs.push(super::super::parse_request(&line).unwrap().seq);
        }
        (seqs, r)
    }

    #[test]
    fn an_appended_run_goes_on_after_the_last_and_says_how_it_ended() {
        let d = dir("append");
        let path = d.join("j.jsonl");
        let meta = Journal::new(Vec::new(), String::new()).meta;
        let mut w = Writer::create(&path, &meta).unwrap();
        // Lines are written as answers are released: the highest number is not last.
        for (seq, at) in [(1, 10.0), (3, 30.0), (2, 20.0)] {
            w.request(&request(seq, at)).unwrap();
        }
        drop(w);
        let mut m2 = meta.clone();
        let mut w = Writer::append(&path, &mut m2, None).unwrap();
        let seg = m2.segment.clone().unwrap();
        assert_eq!(seg.seq_base, 3);
        assert!(seg.ms_base > 30.0, "{seg:?}");
        assert_eq!(seg.after, Some(Previous::Killed { torn: Vec::new() }));
        w.request(&request(4, seg.ms_base + 1.0)).unwrap();
        w.close(seg.ms_base + 2.0, 5.0).unwrap();
        drop(w);
        let mut m3 = meta.clone();
        drop(Writer::append(&path, &mut m3, None).unwrap());
        assert_eq!(m3.segment.as_ref().unwrap().after, Some(Previous::Closed));
        let (seqs, r) = read_all(Reader::open(&path).unwrap());
        assert_eq!(seqs, vec![1, 3, 2, 4]);
        assert_eq!(r.runs.len(), 3);
        assert_eq!(r.closed_ms, None, "the last run has not closed");
        assert!(
            r.runs_note().unwrap().contains("run 1 (started"),
            "{:?}",
            r.runs_note()
        );
        // Not a journal: never appended to.
        let other = d.join("notes.txt");
        std::fs::write(&other, "hello\n").unwrap();
        assert!(Writer::append(&other, &mut meta.clone(), None).is_err());
        assert_eq!(std::fs::read_to_string(&other).unwrap(), "hello\n");
    }

    #[test]
    fn rotation_keeps_n_files_of_whole_lines_and_a_set_reads_in_its_own_order() {
        let d = dir("rotate");
        let path = d.join("j.jsonl");
        let meta = Journal::new(Vec::new(), String::new()).meta;
        let rot = Rotation {
            max_bytes: 600,
            keep: 3,
        };
        let mut w = Writer::create(&path, &meta).unwrap().rotate_at(Some(rot));
        for seq in 1..=40 {
            w.lines(&Writer::request_line(&request(seq, seq as f64))).unwrap();
        }
        w.close(50.0, 5.0).unwrap();
        drop(w);
        let mut set = candidates(&path);
        assert_eq!(set.len(), 4, "FILE and 3 kept: {set:?}");
        assert!(!numbered(&path, 4).exists());
        for f in &set {
            let text = std::fs::read_to_string(f).unwrap();
            assert!(
                text.ends_with('\n') && text.starts_with(r#"{"type":"meta""#),
                "{f:?}"
            );
        }
        set.reverse();
        set.swap(0, 2);
        let (seqs, r) = read_all(Reader::open_set(&set).unwrap());
        let n = seqs.len();
        assert!((8..40).contains(&n), "the oldest files went: {n}");
        assert_eq!(seqs, ((41 - n as u64)..=40).collect::<Vec<_>>(), "in order");
        assert_eq!(r.closed_ms, Some(50.0));
        assert_eq!(r.runs.len(), 1, "rotation is no restart");
    }

    #[test]
    fn a_torn_line_is_forgiven_at_the_end_of_a_file_of_a_set_but_not_inside_one() {
        let d = dir("torn");
        let meta = Journal::new(Vec::new(), String::new()).meta;
        let (a, b) = (d.join("a.jsonl"), d.join("b.jsonl"));
        let mut w = Writer::create(&a, &meta).unwrap();
        w.request(&request(1, 1.0)).unwrap();
        drop(w);
        let mut m = meta.clone();
        let mut w = Writer::create(&b, &meta).unwrap();
        w.request(&request(2, 2.0)).unwrap();
        drop(w);
        m.segment = None;
        // `a` torn at its end (moved by logrotate while a kill tore it): forgiven.
        let mut f = std::fs::OpenOptions::new().append(true).open(&a).unwrap();
        std::io::Write::write_all(&mut f, br#"{"type":"request","se"#).unwrap();
        let mut r = Reader::open_set(&[a.clone(), b.clone()]).unwrap();
        let mut bad = Vec::new();
        while let Some((n, line)) = r.next_raw().unwrap() {
            if super::super::parse_request(&line).is_err() {
                bad.push(n);
            }
        }
        assert_eq!(bad.len(), 1);
        assert!(r.forgives(bad[0]));
        // The same bytes inside a file: named, with its own line number.
        std::io::Write::write_all(&mut f, b"\n").unwrap();
        let mut w = Writer::open(&a, m, None).unwrap();
        w.request(&request(3, 3.0)).unwrap();
        let mut r = Reader::open_set(&[a.clone(), b.clone()]).unwrap();
        let mut first = None;
        while let Some((n, line)) = r.next_raw().unwrap() {
            if let Err(e) = super::super::parse_request(&line) {
                first.get_or_insert((n, e));
            }
        }
        let e = r.forgive_only_the_last(first).unwrap_err().to_string();
        assert!(e.contains("a.jsonl line 3"), "{e}");
    }

    /// A follower that reads `continued`, finds the next part's file and opens it while
    /// the writer rotates again must read that part, not the one after it (it did open
    /// the path a second time, and skipped a whole file's lines when it had moved).
    #[test]
    fn a_follower_racing_the_rotations_reads_every_line_once() {
        use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
        use std::sync::Arc;
        let d = dir("follow-race");
        let path = d.join("j.jsonl");
        let mut meta = Journal::new(Vec::new(), String::new()).meta;
        // A file per line: every line is followed by a rotation.
        let rot = Rotation {
            max_bytes: 1,
            keep: 40,
        };
        let mut w = Writer::append(&path, &mut meta, Some(rot)).unwrap();
        let closed = Arc::new(AtomicBool::new(false));
        let read = Arc::new(AtomicU64::new(0));
        let mut reader = Reader::open(&path).unwrap().follow(Arc::clone(&closed));
        let progress = Arc::clone(&read);
        let follower = std::thread::spawn(move || {
            let mut seqs = Vec::new();
            while let Some((_, line)) = reader.next_raw().unwrap() {
                seqs.push(super::super::parse_request(&line).unwrap().seq);
                progress.fetch_add(1, Ordering::SeqCst);
            }
            seqs
        });
        const N: u64 = 400;
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        for seq in 1..=N {
            // Never further ahead than the files kept: the race, not --journal-keep. (A
            // follower that lost lines never catches up: the deadline ends the wait.)
            while seq - read.load(Ordering::SeqCst) > 8 && std::time::Instant::now() < deadline {
                std::thread::yield_now();
            }
            w.lines(&Writer::request_line(&request(seq, seq as f64))).unwrap();
        }
        w.close(N as f64 + 1.0, 0.0).unwrap();
        closed.store(true, Ordering::SeqCst);
        let mut seqs = follower.join().unwrap();
        seqs.sort_unstable();
        assert_eq!(seqs, (1..=N).collect::<Vec<_>>());
    }
}
