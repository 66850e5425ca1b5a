//! How long a receiver took to answer, summed up as nearest-rank percentiles. Journals
//! may be any length, so the judge (and `send`, `replay` as they run) keep a
//! [`Histogram`], never the list of answer times.

use super::answer::fmt_duration;
use std::fmt;
use std::time::Duration;

/// Latency of answered attempts (nearest-rank percentiles).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Latency {
    /// Attempts measured.
    pub answers: usize,
    /// Median.
    pub p50: Duration,
    /// 90th percentile.
    pub p90: Duration,
    /// 99th percentile.
    pub p99: Duration,
    /// Slowest.
    pub max: Duration,
}

impl fmt::Display for Latency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} answer{}, p50 {}, p90 {}, p99 {}, max {}",
            self.answers,
            crate::common::plural_s(self.answers as u64),
            fmt_duration(self.p50),
            fmt_duration(self.p90),
            fmt_duration(self.p99),
            fmt_duration(self.max)
        )
    }
}

/// `300 bodies at concurrency 8 in 1.20 s: 250.0 answers/s; 300 answers, p50 …`: what
/// a load run measured (the report's info line and `send`'s summary say the same).
pub fn load_line(events: u64, concurrency: u64, elapsed: Duration, latency: Option<&Latency>) -> String {
    let answers = latency.map_or(0, |l| l.answers);
    let mut s = format!(
        "{events} bodies at concurrency {concurrency} in {}: {:.1} answers/s",
        fmt_duration(elapsed),
        answers as f64 / elapsed.as_secs_f64().max(1e-9)
    );
    if let Some(l) = latency {
        s.push_str(&format!("; {l}"));
    }
    s
}

/// The 1-based nearest rank of percentile `p` among `n` values (`n` at least 1).
fn nearest_rank(p: f64, n: u64) -> u64 {
    (((p / 100.0) * n as f64).ceil() as u64).clamp(1, n.max(1))
}

/// Nearest-rank percentile of sorted durations.
#[cfg(test)]
fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[nearest_rank(p, sorted.len() as u64) as usize - 1]
}

/// Latency histogram: exact below 128 µs, then 64 buckets per power of two (under 1.6%
/// error), so percentiles need no list of answers.
#[derive(Debug, Default, Clone)]
pub(crate) struct Histogram {
    counts: Vec<u64>,
    total: u64,
    max: Duration,
}

fn bucket(us: u64) -> usize {
    if us < 128 {
        return us as usize;
    }
    let shift = 63 - us.leading_zeros() - 6;
    128 + (shift as usize - 1) * 64 + ((us >> shift) as usize - 64)
}

/// The largest value of bucket `b`.
fn upper(b: usize) -> u64 {
    if b < 128 {
        return b as u64;
    }
    let shift = (b - 128) / 64 + 1;
    let top = ((b - 128) % 64 + 64) as u64;
    ((top + 1) << shift) - 1
}

impl Histogram {
    pub(crate) fn add(&mut self, d: Duration) {
        let b = bucket(d.as_micros().min(u64::MAX as u128) as u64);
        if self.counts.len() <= b {
            self.counts.resize(b + 1, 0);
        }
        self.counts[b] += 1;
        self.total += 1;
        self.max = self.max.max(d);
    }

    /// Nearest-rank percentile, as the bucket's upper bound (never above the maximum).
    fn percentile(&self, p: f64) -> Duration {
        let rank = nearest_rank(p, self.total);
        let mut seen = 0;
        for (b, n) in self.counts.iter().enumerate() {
            seen += n;
            if seen >= rank {
                return Duration::from_micros(upper(b)).min(self.max);
            }
        }
        self.max
    }

    pub(crate) fn latency(&self) -> Option<Latency> {
        (self.total > 0).then(|| Latency {
            answers: self.total as usize,
            p50: self.percentile(50.0),
            p90: self.percentile(90.0),
            p99: self.percentile(99.0),
            max: self.max,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_nearest_rank() {
        let d: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        assert_eq!(percentile(&d, 50.0), Duration::from_millis(50));
        assert_eq!(percentile(&d, 99.0), Duration::from_millis(99));
        assert_eq!(percentile(&d[..1], 99.0), Duration::from_millis(1));
        assert_eq!(percentile(&[], 50.0), Duration::ZERO);
    }

    #[test]
    fn histogram_buckets_round_trip_within_two_percent() {
        for us in [
            0u64,
            1,
            127,
            128,
            129,
            1000,
            65_535,
            1_000_000,
            100_000_000,
            u64::MAX / 2,
        ] {
            let b = bucket(us);
            assert!(upper(b) >= us, "{us}");
            assert!(upper(b) as f64 <= us as f64 * 1.016 + 1.0, "{us} → {}", upper(b));
            if b > 0 {
                assert!(upper(b - 1) < us, "{us} is in the first bucket that holds it");
            }
        }
        let mut h = Histogram::default();
        for ms in 1..=100 {
            h.add(Duration::from_millis(ms));
        }
        let l = h.latency().unwrap();
        assert_eq!(l.answers, 100);
        assert_eq!(l.max, Duration::from_millis(100));
        let p50 = l.p50.as_secs_f64() * 1000.0;
        assert!((50.0..=51.0).contains(&p50), "{p50}");
    }
}
