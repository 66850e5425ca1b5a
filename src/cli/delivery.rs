//! The delivery flags `brhook send` and `brhook replay` share: how brhook, acting as the
//! real sender, retries and how long it waits. Declared and checked once so the two
//! commands cannot drift apart.

use clap::Args as ClapArgs;
use std::time::Duration;

#[derive(ClapArgs)]
pub struct DeliveryArgs {
    /// Multiplies the real sender's back-off before retries (1 s, then 2 s): 0.01 in
    /// tests and CI (10 ms, 20 ms); with 1, each body the receiver fails takes 3 s.
    #[arg(long, default_value_t = 1.0, value_name = "FACTOR")]
    pub backoff_scale: f64,
    /// R2: an answer slower than this many seconds is a warning; R10 (`send probe`): an
    /// event sent beside one held longer than this must still be answered within it.
    #[arg(long, default_value_t = 5.0, value_name = "SECS")]
    slow_after: f64,
    /// Per attempt: give up waiting for an answer after this many seconds (R2 fail).
    #[arg(long, default_value_t = 100.0, value_name = "SECS")]
    timeout: f64,
}

/// The flags, checked.
pub struct Delivery {
    pub backoff_scale: f64,
    pub slow_after: Duration,
    pub timeout: Duration,
}

impl DeliveryArgs {
    /// Each flag in its range (the error names the flag), as durations.
    pub fn check(&self) -> Result<Delivery, String> {
        if !(self.backoff_scale.is_finite() && (0.0..=10.0).contains(&self.backoff_scale)) {
            return Err(format!(
                "--backoff-scale {} must be between 0 and 10",
                self.backoff_scale
            ));
        }
        Ok(Delivery {
            backoff_scale: self.backoff_scale,
            slow_after: seconds("slow-after", self.slow_after, 100.0)?,
            timeout: seconds("timeout", self.timeout, 3600.0)?,
        })
    }
}

fn seconds(name: &str, v: f64, max: f64) -> Result<Duration, String> {
    if v.is_finite() && v > 0.0 && v <= max {
        Ok(Duration::from_secs_f64(v))
    } else {
        Err(format!("--{name} {v} must be above 0 and at most {max}"))
    }
}
