//! Argument parsing and wiring of the commands.

/// `println!` that ignores a closed stdout (`brhook demo | head`) instead of panicking.
macro_rules! say {
    () => { say!("") };
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

mod delivery;
mod demo;
mod explain;
mod listen;
mod live;
mod metrics;
mod offline;
mod output;
mod proxy;
mod ready;
mod replay;
mod send;
mod serve;
mod service;
mod validate;
mod wrap;

use clap::{Parser, Subcommand};

/// brhook: does this sender really speak BililiveRecorder's webhook protocol?
///
/// Judges webhook bodies and live sender traffic against the documented protocol and
/// the real sender's behaviour. Every finding names a check of the catalogue
/// (`brhook checks`). Exit codes: 0 pass, 1 at least one failure, 2 usage or I/O error.
#[derive(Parser)]
#[command(name = "brhook", version, about, long_about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the built-in reference sender against a built-in endpoint and judge it.
    ///
    /// A slow URL (delay) first, a plain one, a flaky one (fail:3), a second slow URL
    /// last and a v1 URL receive a realistic recording session: stream start, a session with three files, v1
    /// records, session end, stream end. `--mutant NAME` runs a broken sender instead.
    ///
    /// Example: brhook demo --mutant sequential
    Demo(demo::Args),
    /// Judge webhook bodies saved in files (`-` reads one body from stdin).
    ///
    /// Each file holds one request body. Checks T4 and S1–S7 run on each; header checks
    /// need a live request (`brhook listen`).
    ///
    /// Example: brhook validate body.json --format json
    Validate(validate::Args),
    /// Serve named URLs, record every request a sender posts, and judge the capture.
    ///
    /// Prints the URLs to paste into the sender's settings, answers each by its fault
    /// plan, and on Ctrl-C or SIGTERM (or --until-quiet) judges T, S, D, F and C checks.
    /// `-- CMD [ARGS…]` runs a sender (or its test suite) once the URLs accept
    /// connections, with the URLs in its environment (BRHOOK_URL_<NAME>,
    /// BRHOOK_V2_URLS, BRHOOK_V1_URLS) and `{url:NAME}` in ARGS, and judges when it
    /// exits; --ready-file FILE writes the URLs as JSON for a suite that starts brhook.
    ///
    /// Example: brhook listen --url slow=delay:500 --url plain --url flaky=fail:2 --url slow2=delay:500 --quiet-window 5 -- ./test-my-sender.sh
    Listen(listen::Args),
    /// Stand between a live recorder and its real receivers, forward everything, judge both.
    ///
    /// Serves one URL per receiver (`http://BIND/NAME`): put it in the recorder's settings
    /// in place of the receiver's URL. Each request is forwarded byte for byte (method,
    /// body, headers less hop-by-hop and Host) and the receiver's answer is relayed
    /// unchanged, so the recorder's retries follow the real answers. The recorder is
    /// judged as by `listen` (T, S, D, F, C); each receiver by the R checks real traffic
    /// shows (non-2xx to valid events, slow or missing answers). A receiver that is down
    /// or silent for --upstream-timeout gets the recorder a 502 or 504: a finding against
    /// the receiver. --fault NAME=FAULT fails attempts in front of a healthy receiver.
    ///
    /// Example: brhook proxy --to hook=https://example.com/webhook --journal prod.jsonl
    Proxy(proxy::Args),
    /// Judge a saved journal offline: the same report the live capture gave.
    ///
    /// Reads a journal written by `listen`, `proxy` or `demo --journal` and runs every
    /// check on it, with the report options of `listen`. Give the `--min-retry-gap` the
    /// capture was judged with live to get the identical report.
    ///
    /// Example: brhook check cap.jsonl --format json
    Check(offline::CheckArgs),
    /// Print a journal in canonical, redacted form, to commit as a baseline.
    ///
    /// Per request: URL name, event placeholder, attempt number, method, headers (host,
    /// length and version redacted), answer status and the body's shape (each value
    /// replaced by its type and form, e.g. <integer>, <date-time+offset>). No times,
    /// GUIDs or arrival order: two runs of the same sender print the same bytes.
    ///
    /// Example: brhook normalize cap.jsonl -o baseline.json
    Normalize(offline::NormalizeArgs),
    /// Show how a capture's shape drifted from a baseline; exit 1 on any drift.
    ///
    /// Each side is a normalized capture or a journal. Compares the fields and their
    /// forms per event type (v1 and v2 apart) and the headers per URL name; counts of
    /// requests and attempts are not drift. One line per difference: field-added,
    /// field-removed, type-changed, event-type-new, event-type-gone, header-added,
    /// header-removed, header-changed. Exit codes: 0 no drift, 1 drift, 2 error.
    ///
    /// Example: brhook diff baseline.json cap.jsonl
    Diff(offline::DiffArgs),
    /// Act as BililiveRecorder against a receiver and judge its answers and whether it stays up (R1–R11).
    ///
    /// Sends faithful traffic (exact headers, compact raw-UTF-8 bodies, all URLs at
    /// once, 3 attempts after 0 s, 1 s, 2 s; rooms at the same time, one path per file)
    /// and checks every answer is a prompt 2xx. Scenarios: realistic (default), probe
    /// (the R1–R10 cases: a baseline, then one variation per case), random --seed N
    /// --events N, load --concurrency N --events N. A failure the baseline shares is
    /// reported once, under R1; each finding carries the receiver's answer and a curl.
    ///
    /// Example: brhook send probe --to http://127.0.0.1:8080/hook --v1-to http://127.0.0.1:8080/v1
    Send(send::Args),
    /// Replay a saved capture against a receiver and judge its answers (R1-R3, R5-R10).
    ///
    /// Capture your recorder once (`brhook listen --journal cap.jsonl`), then replay it
    /// to your receiver in CI. Each captured event is sent once per URL (retries and
    /// copies at other URLs dropped), with the capture's timing (--speed divides the
    /// gaps), fresh ids written into the captured bytes (--original-ids keeps them), and
    /// the real sender's headers and retries. Nothing is re-serialised. The answers are
    /// judged as `brhook proxy` judges a receiver, from the replay's own journal
    /// (--journal FILE keeps it; `brhook check FILE` gives the same report); the
    /// sender-side checks are not exercised (brhook is the sender).
    ///
    /// Example: brhook replay cap.jsonl --to http://127.0.0.1:8080/hook --speed 10
    Replay(replay::Args),
    /// Serve a versioned HTTP control API for test suites in any language.
    ///
    /// A test creates a capture (POST /v1/captures with its URLs and faults), gives the
    /// sender the URLs it returns, waits for the deliveries (POST /v1/captures/ID/wait)
    /// and gets the report (POST /v1/captures/ID/finish: the --report-json JSON, or
    /// ?format=junit|html). Captures run side by side, each with its own URLs, journal
    /// and judge. GET /v1/openapi.json describes every route.
    ///
    /// Example: brhook serve --control 127.0.0.1:7700 --ready-file brhook.json
    Serve(serve::Args),
    /// List the check catalogue: ID, level, status in this version, title and source.
    Checks(output::ChecksArgs),
}

pub fn run() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return code;
        }
    };
    let result = match cli.command {
        Command::Validate(a) => validate::run(a),
        Command::Checks(a) => output::checks(a),
        Command::Demo(a) => demo::run(a),
        Command::Listen(a) => listen::run(a),
        Command::Proxy(a) => proxy::run(a),
        Command::Check(a) => offline::check(a),
        Command::Normalize(a) => offline::normalize(a),
        Command::Diff(a) => offline::diff(a),
        Command::Send(a) => send::run(a),
        Command::Replay(a) => replay::run(a),
        Command::Serve(a) => serve::run(a),
    };
    match result {
        Ok(code) => code,
        Err(msg) => {
            eprintln!("brhook: {msg}");
            2
        }
    }
}
