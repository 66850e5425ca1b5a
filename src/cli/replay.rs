//! `brhook replay`: a saved capture sent again to a receiver, the answers judged (R1, R2,
//! R3, R9).

use super::output::{emit, Format, ReportArgs};
use brhook::receiver::replay::{Replay, Speed, DEFAULT_CONCURRENCY};
use clap::Args as ClapArgs;
use std::path::PathBuf;
use std::time::Duration;

#[derive(ClapArgs)]
pub struct Args {
    /// The journal to replay (written by `brhook listen --journal FILE`).
    #[arg(value_name = "JOURNAL")]
    journal: PathBuf,
    /// The receiver's v2 URL: each captured v2 event is sent here once (repeat for more
    /// URLs, all sent to at once).
    #[arg(long = "to", required = true, value_name = "URL")]
    to: Vec<String>,
    /// The receiver's v1 URL for the captured v1 records (without it they are not sent
    /// and R9 is skipped); repeatable.
    #[arg(long = "v1-to", value_name = "URL")]
    v1_to: Vec<String>,
    /// Divides the capture's gaps between events: 1 as captured, 10 ten times faster,
    /// 0.5 half as fast, `max` without waiting (bounded by --concurrency).
    #[arg(long, default_value = "1", value_name = "FACTOR|max")]
    speed: String,
    /// Send the captured EventId, EventRandomId and SessionId values byte for byte
    /// (default: fresh GUIDs of the same length, one per captured id, written into the
    /// captured bytes; a receiver that saw the capture before would drop repeats).
    #[arg(long)]
    original_ids: bool,
    /// Multiplies the real sender's back-off before retries (1 s, then 2 s).
    #[arg(long, default_value_t = 1.0, value_name = "FACTOR")]
    backoff_scale: f64,
    /// R2: an answer slower than this many seconds is a warning.
    #[arg(long, default_value_t = 5.0, value_name = "SECS")]
    slow_after: f64,
    /// Per attempt: give up waiting for an answer after this many seconds (R2 fail).
    #[arg(long, default_value_t = 100.0, value_name = "SECS")]
    timeout: f64,
    /// Events in flight at most.
    #[arg(long, default_value_t = DEFAULT_CONCURRENCY, value_name = "N")]
    concurrency: usize,
    #[command(flatten)]
    report: ReportArgs,
}

fn seconds(name: &str, v: f64, max: f64) -> Result<Duration, String> {
    if v.is_finite() && v > 0.0 && v <= max {
        Ok(Duration::from_secs_f64(v))
    } else {
        Err(format!("--{name} {v} must be above 0 and at most {max}"))
    }
}

pub fn run(args: Args) -> Result<i32, String> {
    let speed: Speed = args.speed.parse()?;
    if !(args.backoff_scale.is_finite() && (0.0..=10.0).contains(&args.backoff_scale)) {
        return Err(format!(
            "--backoff-scale {} must be between 0 and 10",
            args.backoff_scale
        ));
    }
    if args.concurrency == 0 {
        return Err("--concurrency must be at least 1".into());
    }
    let mut replay = Replay::new(&args.journal, &args.to[0])
        .speed(speed)
        .original_ids(args.original_ids)
        .backoff_scale(args.backoff_scale)
        .slow_after(seconds("slow-after", args.slow_after, 100.0)?)
        .timeout(seconds("timeout", args.timeout, 3600.0)?)
        .strict(args.report.strict)
        .examples(args.report.examples)
        .concurrency(args.concurrency);
    for u in &args.to[1..] {
        replay = replay.to(u);
    }
    for u in &args.v1_to {
        replay = replay.v1(u);
    }
    let rt = tokio::runtime::Runtime::new().map_err(|e| format!("cannot start the runtime: {e}"))?;
    let run = rt.block_on(replay.run()).map_err(|e| e.to_string())?;
    if args.report.format == Format::Text {
        let t = &run.tally;
        say!(
            "brhook replay {}: acted as BililiveRecorder, {} events sent ({} known v2, {} unknown v2, {} v1 captured), {} repeats of them dropped (retries, other URLs)",
            args.journal.display(),
            run.events,
            t.known,
            t.unknown,
            t.v1,
            t.repeats
        );
        if run.late > 0 {
            say!(
                "  {} events left later than the capture's timing (--concurrency {} was full)",
                run.late,
                args.concurrency
            );
        }
        say!();
    }
    emit(&run.report, &args.report)
}
