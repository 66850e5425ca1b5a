//! Live output for `listen` and `demo`: one line per request as it is answered, and on
//! a terminal a status line with running counts. Judges only what one request shows
//! (T and S checks); delivery, fan-out and stream checks come with the final report.

use brhook::testkit::catalog::Level;
use brhook::testkit::journal::Request;
use brhook::testkit::judge::Kind;
use brhook::testkit::judge::Pushed;
use std::io::{IsTerminal, Write};

pub struct Live {
    color: bool,
    tty: bool,
    quiet: bool,
    requests: usize,
    /// First attempts seen (an estimate of events: counts stay bounded).
    events: usize,
    fails: usize,
    warns: usize,
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
        }
    }

    fn paint(&self, code: &str, s: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }

    /// Prints the line for one answered request (and refreshes the status line).
    pub fn request(&mut self, r: &Request, p: &Pushed) {
        // Quiet: no line and no status line, so nothing to format or count.
        if self.quiet {
            return;
        }
        let line = self.line(r, p);
        let mut out = std::io::stdout().lock();
        if self.tty {
            let _ = write!(out, "\r\x1b[2K");
        }
        let _ = writeln!(out, "{line}");
        if self.tty {
            let _ = write!(out, "{}", self.status());
        }
        let _ = out.flush();
    }

    /// Clears the status line before the report.
    pub fn finish(&self) {
        if self.tty && !self.quiet {
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

    /// time, URL, event type, room, attempt k/3, answer, findings of this request (as
    /// the judge found them: the live line never judges on its own).
    pub fn line(&mut self, r: &Request, p: &Pushed) -> String {
        self.requests += 1;
        let answer = match r.response.status {
            Some(s) if (200..300).contains(&s) => self.paint("32", &s.to_string()),
            Some(s) => self.paint("31", &s.to_string()),
            None => self.paint("31", "reset"),
        };
        let Some(url) = &p.url else {
            return format!(
                "  {:>8.3}s {:<8} {} {} -> {answer} (stray: unknown path, not judged)",
                r.at_ms / 1000.0,
                "-",
                r.method,
                r.target
            );
        };
        if p.attempt == 1 {
            self.events += 1;
        }
        let kind = match (&p.kind, &p.event_type) {
            (Kind::V1, _) => "v1 record".to_string(),
            (_, Some(t)) => t.clone(),
            _ => "?".to_string(),
        };
        let room = p.room.clone().unwrap_or_else(|| "-".into());
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
            "  {:>8.3}s {:<8} {:<15} room {:<9} attempt {attempt}/3 -> {answer}{loud}",
            r.at_ms / 1000.0,
            url,
            kind,
            room
        )
    }
}
