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
    /// The last run's first meta line.
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
                Ok(Line::Meta(m)) => {
                    if m.segment.as_ref().is_none_or(|s| s.part == 0) {
                        prior.meta = Some(*m);
                        prior.closed = false;
                    }
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
        let gap = chrono::Local::now().signed_duration_since(started).num_milliseconds() as f64;
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
    let mut out: Vec<PathBuf> = Some(path.to_path_buf()).filter(|p| p.exists()).into_iter().collect();
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
