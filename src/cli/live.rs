//! Live output for `listen` and `demo`: one line per request as it is answered, and on
//! a terminal a status line with running counts. Judges only what one request shows
//! (T and S checks); delivery, fan-out and stream checks come with the final report.
//!
//! Faster than a person reads (more than [`RATE`] requests in a second), the lines are
//! coalesced ([`Coalescer`]): the first lines of a burst and the first request of every
//! kind of finding are still shown whole, the rest as one line per second of counts by
//! answer and by finding. A run at full load prints tens of lines, not one per request.

use brhook::testkit::catalog::Level;
use brhook::testkit::journal::Request;
use brhook::testkit::judge::Kind;
use brhook::testkit::judge::Pushed;
use std::collections::{BTreeMap, HashSet, VecDeque};
use std::io::{IsTerminal, Write};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

/// Requests per second a person can still read one by one.
pub const RATE: usize = 20;
/// A coalesced line covers this long.
const WINDOW: Duration = Duration::from_secs(1);

pub struct Live {
    color: bool,
    tty: bool,
    quiet: bool,
    requests: usize,
    /// First attempts seen (an estimate of events: counts stay bounded).
    events: usize,
    fails: usize,
    warns: usize,
    start: Instant,
    coalesce: Coalescer,
    /// The wall clock at journal time `base` ms: a line's local time is this plus the
    /// request's journal time less `base`.
    wall: (chrono::DateTime<chrono::FixedOffset>, f64),
}

impl Live {
    /// `quiet` prints nothing per request (for CI logs).
    pub fn new(quiet: bool) -> Live {
        Live {
            color: super::output::color(),
            tty: std::io::stdout().is_terminal(),
            quiet,
            requests: 0,
            events: 0,
            fails: 0,
            warns: 0,
            start: Instant::now(),
            coalesce: Coalescer::default(),
            wall: (chrono::Local::now().fixed_offset(), 0.0),
        }
    }

    /// Sets the wall clock from the capture's start (RFC 3339) and its journal time
    /// then, in milliseconds (a restart's journal goes on from the runs before).
    pub fn clock(&mut self, (started, base_ms): (String, f64)) {
        if let Ok(t) = chrono::DateTime::parse_from_rfc3339(&started) {
            self.wall = (t, base_ms);
        }
    }

    /// `2026-12-04 13:05:09.123+08:00  +12.345s`: the local time a request arrived, with
    /// its offset from UTC, and the journal's own time (seconds since the capture began,
    /// as the report counts them), so that a line of a week-long run is found in either.
    fn when(&self, at_ms: f64) -> String {
        let since = chrono::Duration::microseconds(((at_ms - self.wall.1) * 1000.0) as i64);
        let local = (self.wall.0 + since).with_timezone(&chrono::Local);
        format!(
            "{} {:>9}",
            local.format("%Y-%m-%d %H:%M:%S%.3f%:z"),
            format!("+{:.3}s", at_ms / 1000.0)
        )
    }

    /// Calls [`Live::tick`] four times a second while `live` is alive, so that the
    /// counts of a burst that ended are printed without waiting for the next request.
    pub fn ticker(live: &Arc<Mutex<Live>>) {
        let weak: Weak<Mutex<Live>> = Arc::downgrade(live);
        std::thread::spawn(move || loop {
            std::thread::sleep(Duration::from_millis(250));
            let Some(live) = weak.upgrade() else { return };
            let Ok(mut l) = live.lock() else { return };
            l.tick();
        });
    }

    /// Prints the coalesced line of a second that is over.
    pub fn tick(&mut self) {
        if self.quiet {
            return;
        }
        let now = self.start.elapsed();
        if let Some(line) = self.coalesce.tick(now) {
            self.print(&[line]);
        }
    }

    fn print(&self, lines: &[String]) {
        if lines.is_empty() {
            return;
        }
        let mut out = std::io::stdout().lock();
        if self.tty {
            let _ = write!(out, "\r\x1b[2K");
        }
        for line in lines {
            let _ = writeln!(out, "{line}");
        }
        if self.tty {
            let _ = write!(out, "{}", self.status());
        }
        let _ = out.flush();
    }

    fn paint(&self, code: &str, s: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }

    /// Prints the line for one answered request (and refreshes the status line), or
    /// counts it into the second's coalesced line when requests come too fast to read.
    pub fn request(&mut self, r: &Request, p: &Pushed) {
        // Quiet: no line and no status line, so nothing to format or count.
        if self.quiet {
            return;
        }
        let now = self.start.elapsed();
        let (answer, loud) = self.tally(r, p);
        let mut coalesce = std::mem::take(&mut self.coalesce);
        let mut lines = Vec::new();
        let new = coalesce.unseen(&loud);
        let shown = coalesce.take(now, answer, &loud, || self.format(r, p));
        // A kind of finding seen for the first time gets a line of its own, above the
        // request's, that says what it is and where: the one line an operator watching
        // a busy proxy must not miss (later ones of its kind are counted).
        for f in p.findings.iter().filter(|f| f.level >= Level::Warn) {
            if new.iter().any(|t| *t == format!("{} {}", f.check, f.level)) {
                let url = p.url.as_deref().unwrap_or("-");
                let head = self.paint("1;33", &format!("NEW {} {}", f.check, f.level));
                lines.push(format!(
                    "  {} {head} at {url} (request #{}): {}",
                    self.when(r.at_ms),
                    r.seq,
                    f.message
                ));
            }
        }
        lines.extend(shown);
        self.coalesce = coalesce;
        self.print(&lines);
    }

    /// Prints what is still counted, and clears the status line before the report.
    pub fn finish(&mut self) {
        if self.quiet {
            return;
        }
        if let Some(line) = self.coalesce.flush() {
            self.print(&[line]);
        }
        if self.tty {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "\r\x1b[2K{}", self.status());
        }
    }

    fn status(&self) -> String {
        format!(
            "  {} requests · {} events · {} fail · {} warn (request checks so far)",
            self.requests, self.events, self.fails, self.warns
        )
    }

    /// Counts one request into the run's totals; its answer and its loud findings'
    /// tags (`S6 warn`), for the coalesced line.
    fn tally(&mut self, r: &Request, p: &Pushed) -> (String, Vec<String>) {
        self.requests += 1;
        let answer = match r.response.status {
            Some(s) => s.to_string(),
            None => "reset".to_string(),
        };
        if p.url.is_none() {
            return (answer, Vec::new());
        }
        if p.attempt == 1 {
            self.events += 1;
        }
        let mut loud: Vec<String> = Vec::new();
        for f in p.findings.iter().filter(|f| f.level >= Level::Warn) {
            if f.level == Level::Fail {
                self.fails += 1;
            } else {
                self.warns += 1;
            }
            let tag = format!("{} {}", f.check, f.level);
            if !loud.contains(&tag) {
                loud.push(tag);
            }
        }
        (answer, loud)
    }

    /// time, URL, event type, room, attempt k/3, answer, findings of this request (as
    /// the judge found them: the live line never judges on its own).
    fn format(&self, r: &Request, p: &Pushed) -> String {
        let answer = match r.response.status {
            Some(s) if (200..300).contains(&s) => self.paint("32", &s.to_string()),
            Some(s) => self.paint("31", &s.to_string()),
            None => self.paint("31", "reset"),
        };
        let Some(url) = &p.url else {
            return format!(
                "  {} {:<8} {} {} -> {answer} (stray: unknown path, not judged)",
                self.when(r.at_ms),
                "-",
                r.method,
                r.target
            );
        };
        let kind = match (&p.kind, &p.event_type) {
            (Kind::V1, _) => "v1 record".to_string(),
            (_, Some(t)) => t.clone(),
            _ => "?".to_string(),
        };
        let room = p.room.clone().unwrap_or_else(|| "-".into());
        let mut loud: Vec<String> = Vec::new();
        for f in p.findings.iter().filter(|f| f.level >= Level::Warn) {
            let tag = format!("{} {}", f.check, f.level);
            if !loud.contains(&tag) {
                loud.push(tag);
            }
        }
        let loud = if loud.is_empty() {
            String::new()
        } else {
            format!("  {}", self.paint("33", &format!("[{}]", loud.join(", "))))
        };
        let attempt = p.attempt;
        // Lines come as answers are released, stamped with the arrival: a held answer
        // says how long it was held, so the times read right.
        let held = r.response.at_ms - r.at_ms;
        let answer = if held >= 100.0 && r.upstream.is_none() {
            format!("{answer} (held {held:.0} ms)")
        } else {
            answer
        };
        // A proxy says whose answer it was: the receiver's, or brhook's own for a
        // receiver that gave none (a fault's answer is never forwarded).
        let answer = match &r.upstream {
            Some(u) => match &u.error {
                Some(e) => format!("{answer} {}", self.paint("31", &format!("(receiver: {e})"))),
                None => format!("{answer} (receiver, {:.0} ms)", u.took_ms()),
            },
            None => answer,
        };
        let answer = match r.response.abandoned_ms {
            Some(t) => format!(
                "{answer} {}",
                self.paint(
                    "33",
                    &format!(
                        "(never read: the sender gave up after {:.1} s)",
                        (t - r.at_ms) / 1000.0
                    )
                )
            ),
            None => answer,
        };
        format!(
            "  {} {:<8} {:<15} room {:<9} attempt {attempt}/3 -> {answer}{loud}",
            self.when(r.at_ms),
            url,
            kind,
            room
        )
    }
}

/// Decides, request by request, what the live output prints, by the clock it is given
/// (a fake one in tests): each line while requests come slower than [`RATE`] a second;
/// faster, the first [`RATE`] lines of the burst, then one line per second of counts.
/// A request with a kind of finding not seen before in the run is shown whole anyway.
#[derive(Default)]
pub struct Coalescer {
    /// Arrival times of the last `RATE + 1` requests (bounded).
    recent: VecDeque<Duration>,
    /// The second being counted.
    pending: Option<Counted>,
    /// Tags of the findings shown so far (bounded by the catalogue: check and level).
    seen: HashSet<String>,
}

struct Counted {
    since: Duration,
    last: Duration,
    requests: u64,
    answers: BTreeMap<String, u64>,
    /// In order of first appearance.
    findings: Vec<(String, u64)>,
}

impl Coalescer {
    /// Of these finding tags, the ones not seen yet in the run (before `take` sees them).
    pub fn unseen(&self, findings: &[String]) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for f in findings {
            if !self.seen.contains(f) && !out.contains(f) {
                out.push(f.clone());
            }
        }
        out
    }

    /// The lines to print for one request arriving `now`, its answer and its loud
    /// findings' tags; `line` makes its own line, only when it is shown.
    pub fn take(
        &mut self,
        now: Duration,
        answer: String,
        findings: &[String],
        line: impl FnOnce() -> String,
    ) -> Vec<String> {
        let mut out: Vec<String> = self.tick(now).into_iter().collect();
        self.recent.push_back(now);
        while self.recent.len() > RATE + 1 {
            self.recent.pop_front();
        }
        let fast = self.recent.len() > RATE && now.saturating_sub(self.recent[0]) < WINDOW;
        let mut first = false;
        for f in findings {
            first |= self.seen.insert(f.clone());
        }
        if !fast || first {
            // Slow again: what was counted comes first, then lines one by one.
            if !fast {
                out.extend(self.flush());
            }
            out.push(line());
            return out;
        }
        let c = self.pending.get_or_insert_with(|| Counted {
            since: now,
            last: now,
            requests: 0,
            answers: BTreeMap::new(),
            findings: Vec::new(),
        });
        c.requests += 1;
        c.last = now;
        *c.answers.entry(answer).or_insert(0) += 1;
        for f in findings {
            match c.findings.iter_mut().find(|(t, _)| t == f) {
                Some((_, n)) => *n += 1,
                None => c.findings.push((f.clone(), 1)),
            }
        }
        out
    }

    /// The counted line, once its second is over.
    pub fn tick(&mut self, now: Duration) -> Option<String> {
        match &self.pending {
            Some(c) if now.saturating_sub(c.since) >= WINDOW => self.flush(),
            _ => None,
        }
    }

    /// The counted line now, if anything is counted.
    pub fn flush(&mut self) -> Option<String> {
        let c = self.pending.take()?;
        // From the first request counted to the last: a pause after a burst is no part
        // of it.
        let secs = c.last.saturating_sub(c.since).as_secs_f64().max(0.1);
        let answers: Vec<String> = c
            .answers
            .iter()
            .map(|(a, n)| format!("{} × {a}", thousands(*n)))
            .collect();
        let mut line = format!(
            "  +{} requests in {secs:.1} s: {}",
            thousands(c.requests),
            answers.join(", ")
        );
        if !c.findings.is_empty() {
            let f: Vec<String> = c
                .findings
                .iter()
                .map(|(t, n)| format!("{t} ×{}", thousands(*n)))
                .collect();
            line.push_str(&format!("; {}", f.join(", ")));
        }
        Some(line)
    }
}

/// `1204` as `1,204`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    /// Drives the coalescer as `n` requests, one every `gap_ms`, starting at `from_ms`;
    /// request `i` carries the findings `tags(i)`. Returns the lines printed.
    fn drive(
        c: &mut Coalescer,
        from_ms: u64,
        n: u64,
        gap_ms: u64,
        tags: impl Fn(u64) -> Vec<String>,
    ) -> Vec<String> {
        let mut out = Vec::new();
        for i in 0..n {
            let at = ms(from_ms + i * gap_ms);
            out.extend(c.take(at, "204".into(), &tags(i), || format!("line {i}")));
        }
        out
    }

    #[test]
    fn slow_requests_are_each_shown() {
        let mut c = Coalescer::default();
        // 10 a second for 5 s: every one readable.
        let lines = drive(&mut c, 0, 50, 100, |_| Vec::new());
        assert_eq!(lines.len(), 50);
        assert!(lines.iter().all(|l| l.starts_with("line ")), "{lines:?}");
        assert_eq!(c.flush(), None, "nothing was counted");
    }

    #[test]
    fn a_burst_is_shown_first_then_counted_once_a_second() {
        let mut c = Coalescer::default();
        let s6 = || vec!["S6 warn".to_string()];
        // 1,000 a second for 10 s, every request with the same S6 warn.
        let mut lines = drive(&mut c, 0, 10_000, 1, |_| s6());
        lines.extend(c.flush());
        let shown: Vec<&String> = lines.iter().filter(|l| l.starts_with("line ")).collect();
        let counted: Vec<&String> = lines.iter().filter(|l| l.starts_with("  +")).collect();
        // The first RATE lines of the burst are shown (the first S6 among them), then
        // nothing but one counted line per second.
        assert_eq!(shown.len(), RATE, "{lines:?}");
        assert_eq!(counted.len(), 10, "{lines:?}");
        assert_eq!(
            counted[0].as_str(),
            "  +1,000 requests in 1.0 s: 1,000 × 204; S6 warn ×1,000"
        );
        // Every request is in a line or a count.
        let total: u64 = counted
            .iter()
            .map(|l| {
                let n = l.trim_start_matches("  +").split(' ').next().unwrap();
                n.replace(',', "").parse::<u64>().unwrap()
            })
            .sum();
        assert_eq!(total + shown.len() as u64, 10_000);
        assert!(lines.len() < 130);
    }

    #[test]
    fn a_first_finding_inside_a_burst_is_shown_whole_and_a_pause_ends_the_burst() {
        let mut c = Coalescer::default();
        // 500 quiet requests in 0.5 s, then one with a new finding, then 499 quiet again.
        let tags = |i: u64| {
            if i == 500 || i == 700 {
                vec!["T2 fail".to_string()]
            } else {
                Vec::new()
            }
        };
        let lines = drive(&mut c, 0, 1000, 1, tags);
        assert!(lines.contains(&"line 500".to_string()), "{lines:?}");
        assert!(
            !lines.contains(&"line 700".to_string()),
            "only the first of a kind is shown"
        );
        // A pause: the next request is slow again, shown whole after what was counted
        // (requests 20 to 999 but the one shown).
        let after = drive(&mut c, 5000, 1, 1, |_| Vec::new());
        assert_eq!(
            after,
            vec![
                "  +979 requests in 1.0 s: 979 × 204; T2 fail ×1".to_string(),
                "line 0".into()
            ]
        );
        // The ticker prints a second that is over without a request to end it.
        let mut c = Coalescer::default();
        drive(&mut c, 0, 100, 1, |_| Vec::new());
        assert_eq!(c.tick(ms(500)), None, "the second is not over");
        assert_eq!(
            c.tick(ms(1100)).as_deref(),
            Some("  +80 requests in 0.1 s: 80 × 204")
        );
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(thousands(999), "999");
    }
}
