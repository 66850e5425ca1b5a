//! `brhook demo`: the reference sender (or a mutant) against a built-in endpoint.

use super::output::{emit, ReportArgs};
use brhook::testkit::demo::Demo;
use brhook::testkit::reference::Mutant;
use clap::Args as ClapArgs;
use std::path::PathBuf;
use std::time::Duration;

#[derive(ClapArgs)]
pub struct Args {
    /// Run this mutant sender instead of the faithful one, to see a failure
    /// (`brhook demo --mutant list` lists them).
    #[arg(long, value_name = "NAME")]
    mutant: Option<String>,
    /// Multiplies the real sender's back-off (1 s, then 2 s); 1.0 is real time.
    #[arg(long, default_value_t = 0.25, value_name = "FACTOR")]
    backoff_scale: f64,
    /// Also write the captured traffic to FILE (JSON Lines; judge it with `brhook check`).
    #[arg(long, value_name = "FILE")]
    journal: Option<PathBuf>,
    /// No line per request (for CI logs); the report still follows.
    #[arg(long)]
    quiet_output: bool,
    /// Send the scenario in 1.3 shape (without the 2.x booleans).
    #[arg(long)]
    v13: bool,
    #[command(flatten)]
    report: ReportArgs,
}

pub fn run(args: Args) -> Result<i32, String> {
    let mutant = match args.mutant.as_deref() {
        None => None,
        Some("list") => {
            say!("{:<28} {:<5} what it does", "mutant", "trips");
            for m in Mutant::ALL {
                say!("{:<28} {:<5} {}", m.name(), m.check(), m.description());
            }
            return Ok(0);
        }
        Some(name) => Some(
            Mutant::from_name(name)
                .ok_or_else(|| format!("unknown mutant {name:?}; `brhook demo --mutant list` lists them"))?,
        ),
    };
    if !(args.backoff_scale > 0.0 && args.backoff_scale <= 10.0) {
        return Err(format!(
            "--backoff-scale {} must be above 0 and at most 10",
            args.backoff_scale
        ));
    }
    let mut demo = Demo::new(mutant);
    demo.backoff_scale = args.backoff_scale;
    demo.quiet = Duration::from_secs_f64((6.0 * args.backoff_scale).max(1.0));
    demo.strict = args.report.strict;
    demo.journal = args.journal.clone();
    demo.v2x = !args.v13;
    let rt = tokio::runtime::Runtime::new().map_err(|e| format!("cannot start the runtime: {e}"))?;
    let text = args.report.format == super::output::Format::Text;
    if text {
        match mutant {
            Some(m) => say!(
                "brhook demo: mutant sender `{}` ({}), expected to trip {}",
                m.name(),
                m.description(),
                m.check()
            ),
            None => say!("brhook demo: the faithful reference sender plays a recording session"),
        }
        for u in demo.v2.iter().chain(&demo.v1) {
            say!("  URL {:<7} {}", u.name, u.fault);
        }
        say!();
    }
    let live = std::sync::Arc::new(std::sync::Mutex::new(super::live::Live::new(
        !text || args.quiet_output,
    )));
    super::live::Live::ticker(&live);
    let printer = live.clone();
    let (report, _journal) = rt
        .block_on(demo.run(move |r, p| printer.lock().expect("live lock").request(r, p)))
        .map_err(|e| format!("cannot start the endpoint: {e}"))?;
    live.lock().expect("live lock").finish();
    if text {
        say!();
    }
    emit(&report, &args.report)
}
