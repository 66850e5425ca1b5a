//! Fault plans: how one endpoint URL answers, so that retries and fan-out can be seen.
//!
//! Grammar (checks.md "Faults"): `ok`, `status:CODE`, `fail:N[:CODE]`, `reset:N`,
//! `delay:MS`, joined with `+` (e.g. `fail:2+delay:300`). "The first N attempts" count
//! per event at that URL. When `reset` and `fail` both cover an attempt, `reset` wins;
//! `status` overrides `fail`; `delay` holds every answer, resets included.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// How one URL answers each attempt; parses from and displays as the module's
/// grammar (`fail:2+delay:300`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fault {
    /// Always answer this status.
    pub status: Option<u16>,
    /// The first N attempts of each event get CODE.
    pub fail: Option<(u32, u16)>,
    /// The first N attempts of each event: connection closed with no response.
    pub reset: Option<u32>,
    /// Every answer held this many milliseconds.
    pub delay_ms: u64,
}

/// What the endpoint does with one attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// Answer with this HTTP status code.
    Status(u16),
    /// Close the connection without a response.
    Reset,
}

impl Fault {
    /// Every attempt gets 204 (`ok`).
    pub fn ok() -> Fault {
        Fault::default()
    }

    /// The first `n` attempts of each event get 500, the next 204 (`fail:N`).
    pub fn fail(n: u32) -> Fault {
        Fault {
            fail: Some((n, 500)),
            ..Fault::ok()
        }
    }

    /// Every attempt gets `code` (`status:CODE`).
    pub fn status(code: u16) -> Fault {
        Fault {
            status: Some(code),
            ..Fault::ok()
        }
    }

    /// The first `n` attempts of each event: the connection is closed without an answer
    /// (`reset:N`).
    pub fn reset(n: u32) -> Fault {
        Fault {
            reset: Some(n),
            ..Fault::ok()
        }
    }

    /// Every attempt gets 204, held this long (`delay:MS`), as [`Fault::fail`] is a
    /// plan of its own; [`Fault::with_delay`] holds another plan's answers.
    pub fn delay(d: std::time::Duration) -> Fault {
        Fault::ok().with_delay(d)
    }

    /// This plan, with every answer held this long (`+delay:MS`).
    pub fn with_delay(mut self, d: std::time::Duration) -> Fault {
        self.delay_ms = d.as_millis() as u64;
        self
    }

    /// The status a `fail` fault answers with (`fail:N:CODE`); no effect on others.
    pub fn code(mut self, code: u16) -> Fault {
        if let Some((n, _)) = self.fail {
            self.fail = Some((n, code));
        }
        self
    }

    /// The answer to the `attempt`-th (1-based) attempt of one event.
    pub fn answer(&self, attempt: u32) -> Answer {
        if self.reset.is_some_and(|n| attempt <= n) {
            return Answer::Reset;
        }
        if let Some(code) = self.status {
            return Answer::Status(code);
        }
        match self.fail {
            Some((n, code)) if attempt <= n => Answer::Status(code),
            _ => Answer::Status(204),
        }
    }

    /// True when some attempt can fail (non-2xx or reset): D2–D4 and F4 need one.
    pub fn can_fail(&self) -> bool {
        self.reset.is_some_and(|n| n > 0)
            || self.status.is_some_and(|c| !(200..300).contains(&c))
            || self.fail.is_some_and(|(n, c)| n > 0 && !(200..300).contains(&c))
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        if let Some(c) = self.status {
            parts.push(format!("status:{c}"));
        }
        if let Some((n, c)) = self.fail {
            parts.push(if c == 500 {
                format!("fail:{n}")
            } else {
                format!("fail:{n}:{c}")
            });
        }
        if let Some(n) = self.reset {
            parts.push(format!("reset:{n}"));
        }
        if self.delay_ms > 0 {
            parts.push(format!("delay:{}", self.delay_ms));
        }
        if parts.is_empty() {
            parts.push("ok".into());
        }
        f.write_str(&parts.join("+"))
    }
}

const GRAMMAR: &str =
    "ok, status:CODE, fail:N[:CODE], reset:N, delay:MS, joined with + (e.g. fail:2+delay:300)";

impl FromStr for Fault {
    type Err = String;

    fn from_str(s: &str) -> Result<Fault, String> {
        let mut fault = Fault::default();
        for part in s.split('+') {
            let mut it = part.trim().split(':');
            let name = it.next().unwrap_or("");
            let args: Vec<&str> = it.collect();
            let num = |i: usize, what: &str| -> Result<u64, String> {
                args.get(i)
                    .ok_or_else(|| format!("fault {part:?} needs {what}; faults are {GRAMMAR}"))?
                    .parse::<u64>()
                    .map_err(|_| {
                        format!("fault {part:?}: {what} must be a whole number; faults are {GRAMMAR}")
                    })
            };
            let code = |v: u64| -> Result<u16, String> {
                u16::try_from(v)
                    .ok()
                    .filter(|c| (100..=599).contains(c))
                    .ok_or_else(|| format!("fault {part:?}: {v} is not an HTTP status (100-599)"))
            };
            let count = |v: u64| u32::try_from(v).map_err(|_| format!("fault {part:?}: {v} is too large"));
            match (name, args.len()) {
                ("ok", 0) => {}
                ("status", 1) => fault.status = Some(code(num(0, "a status code")?)?),
                ("fail", 1) => fault.fail = Some((count(num(0, "a count")?)?, 500)),
                ("fail", 2) => {
                    fault.fail = Some((count(num(0, "a count")?)?, code(num(1, "a status code")?)?))
                }
                ("reset", 1) => fault.reset = Some(count(num(0, "a count")?)?),
                ("delay", 1) => fault.delay_ms = num(0, "milliseconds")?,
                _ => {
                    let hint = ["ok", "status", "fail", "reset", "delay"]
                        .iter()
                        .find(|k| close(k, name))
                        .map(|k| format!(" (did you mean {k:?}?)"))
                        .unwrap_or_default();
                    return Err(format!("unknown fault {part:?}{hint}; faults are {GRAMMAR}"));
                }
            }
        }
        Ok(fault)
    }
}

/// Same letters in another order, or one letter off: enough to catch `fial`.
fn close(known: &str, typed: &str) -> bool {
    let mut a: Vec<char> = known.chars().collect();
    let mut b: Vec<char> = typed.chars().collect();
    if a.len() == b.len() && a.iter().zip(&b).filter(|(x, y)| x != y).count() <= 1 {
        return true;
    }
    a.sort_unstable();
    b.sort_unstable();
    a == b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_round_trip() {
        for s in [
            "ok",
            "status:503",
            "fail:2",
            "fail:1:429",
            "reset:1",
            "delay:300",
            "fail:2+delay:300",
        ] {
            let f: Fault = s.parse().unwrap();
            assert_eq!(f.to_string(), s);
        }
    }

    #[test]
    fn answers_attempts_in_order() {
        let f: Fault = "fail:2".parse().unwrap();
        assert_eq!(
            [1, 2, 3].map(|a| f.answer(a)),
            [Answer::Status(500), Answer::Status(500), Answer::Status(204)]
        );
        let r: Fault = "reset:1+fail:2:503".parse().unwrap();
        assert_eq!(
            [1, 2, 3].map(|a| r.answer(a)),
            [Answer::Reset, Answer::Status(503), Answer::Status(204)]
        );
        assert!(!Fault::ok().can_fail() && !"delay:10".parse::<Fault>().unwrap().can_fail());
    }

    #[test]
    fn bad_specs_say_what_is_wrong() {
        let e = "fial:2".parse::<Fault>().unwrap_err();
        assert!(e.contains("did you mean \"fail\""), "{e}");
        assert!("status:99"
            .parse::<Fault>()
            .unwrap_err()
            .contains("not an HTTP status"));
        assert!("fail:x".parse::<Fault>().unwrap_err().contains("whole number"));
        assert!("delay".parse::<Fault>().is_err());
    }
}

#[cfg(test)]
mod typed {
    use super::*;

    #[test]
    fn typed_faults_are_the_strings_the_cli_parses() {
        use std::time::Duration;
        let same = |f: Fault, s: &str| assert_eq!(f, s.parse::<Fault>().unwrap(), "{s}");
        same(Fault::ok(), "ok");
        same(Fault::fail(2), "fail:2");
        same(Fault::fail(2).code(503), "fail:2:503");
        same(Fault::status(404), "status:404");
        same(Fault::reset(1), "reset:1");
        same(
            Fault::fail(2).with_delay(Duration::from_millis(300)),
            "fail:2+delay:300",
        );
        same(Fault::delay(Duration::from_millis(300)), "delay:300");
        same(Fault::ok().with_delay(Duration::from_millis(300)), "delay:300");
    }
}
