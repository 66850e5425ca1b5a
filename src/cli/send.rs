//! `brhook send`: brhook acts as BililiveRecorder against a receiver and judges it (R1–R11).

use super::delivery::DeliveryArgs;
use super::output::{emit, Format, ReportArgs};
use brhook::testkit::receiver::{Probe, Scenario};
use clap::{Args as ClapArgs, ValueEnum};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Which {
    /// A recording: stream start, a session with three files, v1 records, session end,
    /// stream end; in 2.x shape and in 1.3 shape, fired as the recorder fires it.
    Realistic,
    /// The named cases behind R1–R10: a baseline of every known type in both shapes,
    /// then one variation per case (unknown type, extra fields, retry, out of order,
    /// stream events without SessionId, one value form, a file split sent at once).
    Probe,
    /// Random valid streams, sent at the same time; --seed fixes shapes and values.
    Random,
    /// Realistic bodies with --concurrency in flight; reports answers/s and latency.
    Load,
}

#[derive(ClapArgs)]
pub struct Args {
    /// What to send (default: realistic; load when --concurrency is given).
    #[arg(value_enum, value_name = "SCENARIO")]
    scenario: Option<Which>,
    /// The receiver's v2 URL (WebHookUrlsV2); repeat for more, all are sent to at once.
    #[arg(long = "to", required = true, value_name = "URL")]
    to: Vec<String>,
    /// A v1 URL (WebHookUrls) for the v1 records (R9); repeatable.
    #[arg(long = "v1-to", value_name = "URL")]
    v1_to: Vec<String>,
    /// random: the seed (default: a fresh one, printed); the same seed sends the same
    /// shapes and values, with fresh EventIds, SessionIds and EventRandomIds.
    #[arg(long, value_name = "N")]
    seed: Option<u64>,
    /// random: reproduce the ids too (the same bytes as the last run with this seed; a
    /// de-duplicating receiver will take them all for retries).
    #[arg(long)]
    exact: bool,
    /// random, load: how many bodies (default 20 for random, 1000 for load).
    #[arg(long, value_name = "N")]
    events: Option<usize>,
    /// load: bodies in flight at once.
    #[arg(long, value_name = "N")]
    concurrency: Option<usize>,
    #[command(flatten)]
    delivery: DeliveryArgs,
    /// Write every body sent to DIR; findings name the file and replay it with curl.
    #[arg(long, value_name = "DIR")]
    save_bodies: Option<PathBuf>,
    /// Write each recorded file at DIR/RelativePath (a real H.264 + AAC FLV, 32x32, of the
    /// FileSize and Duration its events state: ffprobe and ffmpeg read it) before any webhook naming it is sent, so a receiver
    /// that uploads or transcodes does its real work (answer times, R2, include it).
    /// The files stay while the receiver works on them: they are removed only once no
    /// process has had any of them open for the settle window (3 s; watched with
    /// inotify on Linux, a fixed 3 s elsewhere), unless --keep-files. Who opened each
    /// file is R12's evidence (a retried event processed again). A DIR that cannot be
    /// written is exit 2.
    #[arg(long, value_name = "DIR")]
    workdir: Option<PathBuf>,
    /// With --workdir: report every file the receiver never opened (info). Without
    /// it, only a file the receiver named in an answer body and never opened is.
    #[arg(long, requires = "workdir")]
    expect_open: bool,
    /// Keep the run's journal in FILE (the proxy's format: every attempt, what was sent
    /// and what the receiver answered, and which body of which case); `brhook check
    /// FILE` gives this report again. Default: a temporary file, removed at the end.
    /// Lines are written in batches (64 KiB or 50 ms): a killed run loses its last one.
    #[arg(long, value_name = "FILE")]
    journal: Option<PathBuf>,
    /// With --workdir: leave the files in DIR at the end.
    #[arg(long, requires = "workdir")]
    keep_files: bool,
    /// With --workdir: also write the danmaku XML beside each FLV (the same path with
    /// .xml), as the recorder does with danmaku recording on (BililiveRecorder's format:
    /// <i>, <BililiveRecorderRecordInfo>, <d p="...">, <gift>, <sc>, <guard>).
    #[arg(long, requires = "workdir")]
    danmaku: bool,
    /// R11: after the last answer, wait this many seconds, then connect to each receiver
    /// once more (a receiver that crashed after answering 200 is down by then).
    #[arg(long, default_value_t = 3.0, value_name = "SECS")]
    settle: f64,
    #[command(flatten)]
    report: ReportArgs,
}

pub fn run(args: Args) -> Result<i32, String> {
    let which = match (args.scenario, args.concurrency) {
        (Some(w), _) => w,
        (None, Some(_)) => Which::Load,
        (None, None) => Which::Realistic,
    };
    if args.seed.is_some() && which != Which::Random {
        return Err("--seed applies to `brhook send random` only".into());
    }
    if args.exact && which != Which::Random {
        return Err("--exact applies to `brhook send random` only".into());
    }
    if args.concurrency.is_some() && which != Which::Load {
        return Err("--concurrency applies to `brhook send load` only".into());
    }
    if args.events.is_some() && !matches!(which, Which::Random | Which::Load) {
        return Err("--events applies to `brhook send random` and `brhook send load` only".into());
    }
    if args.events == Some(0) || args.concurrency == Some(0) {
        return Err("--events and --concurrency must be at least 1".into());
    }
    let delivery = args.delivery.check()?;
    if !(args.settle.is_finite() && (0.0..=3600.0).contains(&args.settle)) {
        return Err(format!("--settle {} must be between 0 and 3600", args.settle));
    }

    let scenario = match which {
        Which::Realistic => Scenario::Realistic,
        Which::Probe => Scenario::Probe,
        Which::Random => {
            let seed = args.seed.unwrap_or_else(|| {
                u64::from_le_bytes(
                    uuid::Uuid::new_v4().as_bytes()[..8]
                        .try_into()
                        .unwrap_or_default(),
                )
            });
            let events = args.events.unwrap_or(20);
            eprintln!(
                "brhook send random: seed {seed} (replay with --seed {seed} --events {events}{})",
                if args.exact { " --exact" } else { "" }
            );
            Scenario::Random {
                seed,
                events,
                exact: args.exact,
            }
        }
        Which::Load => Scenario::Load {
            events: args.events.unwrap_or(1000),
            concurrency: args.concurrency.unwrap_or(16),
        },
    };

    let mut probe = Probe::new(args.to[0].clone())
        .backoff_scale(delivery.backoff_scale)
        .slow_after(delivery.slow_after)
        .timeout(delivery.timeout)
        .settle(Duration::from_secs_f64(args.settle))
        .strict(args.report.strict);
    for u in &args.to[1..] {
        probe = probe.to(u.clone());
    }
    for u in &args.v1_to {
        probe = probe.v1(u.clone());
    }
    if let Some(dir) = &args.save_bodies {
        probe = probe.save_bodies(dir.clone());
    }
    if let Some(f) = &args.journal {
        probe = probe.journal(f.clone());
    }
    if let Some(dir) = &args.workdir {
        probe = probe
            .workdir(dir.clone())
            .keep_files(args.keep_files)
            .danmaku(args.danmaku)
            .expect_open(args.expect_open);
    }
    // Many bodies, each failing one waiting out the back-off: say so before the wait.
    if matches!(scenario, Scenario::Random { .. } | Scenario::Load { .. }) && delivery.backoff_scale >= 0.1 {
        let wait = |s: f64| format!("{:.2} s", s * delivery.backoff_scale);
        eprintln!(
            "brhook send {}: with this back-off, each body the receiver fails can take {} (3 attempts, after {} and {}); --backoff-scale 0.01 makes that 30 ms",
            scenario.name(),
            wait(3.0),
            wait(1.0),
            wait(2.0)
        );
    }
    let progress = std::io::stderr().is_terminal();
    if progress {
        let started = Instant::now();
        // (last redraw, most bodies seen): deliveries end concurrently, so a call may
        // carry fewer than the one before; the line never goes back.
        let state: Arc<Mutex<(Option<Instant>, usize)>> = Arc::new(Mutex::new((None, 0)));
        probe = probe.on_progress(move |done, total| {
            let mut st = state.lock().unwrap_or_else(|e| e.into_inner());
            st.1 = st.1.max(done);
            let recent = st.0.is_some_and(|t| t.elapsed() < Duration::from_millis(100));
            if st.1 < total && recent {
                return;
            }
            st.0 = Some(Instant::now());
            let secs = started.elapsed().as_secs_f64();
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r  {}/{total} bodies delivered in {secs:.1} s   ", st.1);
            let _ = err.flush();
        });
    }

    let text = args.report.format == Format::Text;
    let rt = tokio::runtime::Runtime::new().map_err(|e| format!("cannot start the runtime: {e}"))?;
    let run = rt
        .block_on(probe.run_detailed(scenario))
        .map_err(|e| e.to_string())?;
    if progress {
        eprintln!();
    }
    if text {
        let mut to = args.to.join(", ");
        if !args.v1_to.is_empty() {
            to.push_str(&format!(" (v1: {})", args.v1_to.join(", ")));
        }
        say!(
            "brhook send {}: acted as BililiveRecorder, to {to}",
            scenario.name()
        );
        if scenario == Scenario::Probe {
            for c in &run.cases {
                say!(
                    "  {:<40} {:>2} bod{} — {}",
                    c.name,
                    c.bodies,
                    if c.bodies == 1 { "y " } else { "ies" },
                    c.about
                );
            }
        }
        if let Some(l) = &run.load {
            say!("  load: {l}");
        }
        if let Some(dir) = &args.save_bodies {
            say!("  bodies saved in {}", dir.display());
        }
        if let Some(dir) = &args.workdir {
            let fate = if args.keep_files {
                "kept"
            } else {
                "removed at the end"
            };
            let what = if args.danmaku {
                "recorded files and their danmaku XML"
            } else {
                "recorded files"
            };
            say!("  {what} written under {} ({fate})", dir.display());
        }
        say!();
    }
    emit(&run.report, &args.report)
}
