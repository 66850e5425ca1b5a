//! A whole run in one process: an endpoint with a useful set of URLs and faults, the
//! reference sender (or one mutant) playing the realistic scenario at it, the report.
//! `brhook demo` and the mutation-matrix tests both run through here.

use crate::endpoint::Endpoint;
use crate::journal::{Journal, Request, UrlSpec};
use crate::judge::{Options, Pushed};
use crate::reference::{play, realistic_scenario, Mutant, Sender, SenderConfig};
use crate::report::Report;
use std::path::PathBuf;
use std::time::Duration;

/// What to run.
#[derive(Debug, Clone)]
pub struct Demo {
    /// The mutant to run; `None` for the faithful sender.
    pub mutant: Option<Mutant>,
    /// v2 URLs with their faults, in the order the sender lists them.
    pub v2: Vec<UrlSpec>,
    /// v1 URLs with their faults.
    pub v1: Vec<UrlSpec>,
    /// Multiplies the real back-off (1 s, 2 s) and the D6 threshold (100 ms).
    pub backoff_scale: f64,
    /// Pause between the scenario's events.
    pub pace: Duration,
    /// Quiet window before the capture closes.
    pub quiet: Duration,
    /// Warnings fail.
    pub strict: bool,
    /// Where to write the capture's journal, if anywhere.
    pub journal: Option<PathBuf>,
    /// Sends the scenario in 2.x shape (with the three booleans).
    pub v2x: bool,
}

fn spec(name: &str, fault: &str) -> UrlSpec {
    UrlSpec {
        name: name.into(),
        fault: fault.parse().expect("built-in fault specs parse"),
        setting: None,
        upstream: None,
    }
}

impl Demo {
    /// The default set-up for the faithful sender or a mutant: a slow URL first (F3
    /// sees a sequential sender), a plain one, a flaky one failing every attempt (D1–D3, D6, F4), a second
    /// slow URL last (F3 is shown whichever end a sender starts from), and a v1 URL
    /// (C6). Mutants that need another set-up get it.
    pub fn new(mutant: Option<Mutant>) -> Demo {
        let v2 = match mutant {
            // Any failure elsewhere would explain the extra attempt as F4.
            Some(Mutant::RetryAfterSuccess) => vec![spec("plain", "ok"), spec("other", "ok")],
            // Four attempts need a URL that never succeeds.
            Some(Mutant::FourthAttempt) => vec![spec("plain", "ok"), spec("broken", "status:500")],
            _ => vec![
                spec("slow", "delay:300"),
                spec("plain", "ok"),
                spec("flaky", "fail:3"),
                spec("slow2", "delay:300"),
            ],
        };
        Demo {
            mutant,
            v2,
            v1: vec![spec("v1", "ok")],
            backoff_scale: 0.25,
            pace: Duration::from_millis(60),
            quiet: Duration::from_millis(1500),
            strict: false,
            journal: None,
            v2x: true,
        }
    }

    /// The judge options for this run: `strict`, and the D6 threshold scaled with the back-off.
    pub fn options(&self) -> Options {
        Options {
            strict: self.strict,
            min_retry_gap: crate::protocol::MIN_RETRY_GAP.mul_f64(self.backoff_scale),
            ..Options::default()
        }
    }

    /// The settings tests use: the real back-off (1 s, 2 s) scaled to 100 ms, 200 ms,
    /// events 40 ms apart, a quiet window of 800 ms (well above the longest back-off).
    pub fn fast(mutant: Option<Mutant>) -> Demo {
        Demo::new(mutant).with_fast_timing()
    }

    /// This demo with [`Demo::fast`]'s timing (its URLs and mutant kept).
    pub fn with_fast_timing(self) -> Demo {
        Demo {
            backoff_scale: 0.1,
            pace: Duration::from_millis(40),
            quiet: Duration::from_millis(800),
            ..self
        }
    }

    /// Runs the scenario without live lines: the report and the capture.
    pub async fn judge(&self) -> Result<(Report, Journal), crate::Error> {
        self.run(|_, _| {}).await
    }

    /// Runs the scenario; `live` sees each request as its answer is released.
    pub async fn run(
        &self,
        live: impl FnMut(&Request, &Pushed) + Send + 'static,
    ) -> Result<(Report, Journal), crate::Error> {
        let mut b = Endpoint::builder().options(self.options()).on_request(live);
        for u in self.v2.iter().chain(&self.v1) {
            b = b.url_spec(u.clone());
        }
        if let Some(j) = &self.journal {
            b = b.journal(j);
        }
        let ep = b.start().await?;
        let config = SenderConfig::new(
            self.v2.iter().map(|u| ep.url(&u.name)).collect(),
            self.v1.iter().map(|u| ep.url(&u.name)).collect(),
        )
        .scaled(self.backoff_scale)
        .with_mutant(self.mutant);
        let sender = Sender::new(config);
        let steps = realistic_scenario(&crate::gen::Room::doc_example(), self.v2x, self.mutant);
        play(&sender, &steps, self.pace).await;
        Ok(ep.finish_with_journal(self.quiet).await)
    }
}
