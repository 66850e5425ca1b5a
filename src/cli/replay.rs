//! `brhook replay`: a saved capture sent again to a receiver, the answers judged by the
//! proxy's receiver-side judge (R1-R3, R5-R10) from the replay's own journal.

use super::delivery::DeliveryArgs;
use super::output::{emit, Format, ReportArgs};
use brhook::testkit::receiver::replay::{Replay, Speed, DEFAULT_CONCURRENCY};
use clap::Args as ClapArgs;
use std::path::PathBuf;

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
    #[command(flatten)]
    delivery: DeliveryArgs,
    /// Keep the replay's own journal in FILE (the proxy's format: each attempt sent, with
    /// the receiver's answer); `brhook check FILE` gives this report again. Default: a
    /// temporary file, removed at the end.
    #[arg(long = "journal", value_name = "FILE")]
    keep: Option<PathBuf>,
    /// Write the file each captured FileOpening/FileClosed names at DIR/RelativePath (a
    /// valid FLV) before it is sent, and watch who opens it (R12: a retried event
    /// processed again). The files stay until no process has had any open for the
    /// settle window (3 s), then are removed unless --keep-files.
    #[arg(long, value_name = "DIR")]
    workdir: Option<PathBuf>,
    /// With --workdir: leave the files in DIR at the end.
    #[arg(long, requires = "workdir")]
    keep_files: bool,
    /// With --workdir: report every file the receiver never opened (info).
    #[arg(long, requires = "workdir")]
    expect_open: bool,
    /// Events in flight at most.
    #[arg(long, default_value_t = DEFAULT_CONCURRENCY, value_name = "N")]
    concurrency: usize,
    #[command(flatten)]
    report: ReportArgs,
}

pub fn run(args: Args) -> Result<i32, String> {
    let speed: Speed = args.speed.parse()?;
    let delivery = args.delivery.check()?;
    if args.concurrency == 0 {
        return Err("--concurrency must be at least 1".into());
    }
    let mut replay = Replay::new(&args.journal, &args.to[0])
        .speed(speed)
        .original_ids(args.original_ids)
        .backoff_scale(delivery.backoff_scale)
        .slow_after(delivery.slow_after)
        .timeout(delivery.timeout)
        .strict(args.report.strict)
        .examples(args.report.examples)
        .concurrency(args.concurrency);
    if let Some(dir) = &args.workdir {
        replay = replay
            .workdir(dir.clone())
            .keep_files(args.keep_files)
            .expect_open(args.expect_open);
    }
    for u in &args.to[1..] {
        replay = replay.to(u);
    }
    for u in &args.v1_to {
        replay = replay.v1(u);
    }
    if let Some(f) = &args.keep {
        replay = replay.journal(f);
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
