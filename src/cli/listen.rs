//! `brhook listen`: the endpoint on a real port, for a sender in another process.

use super::output::{emit, ReportArgs};
use super::ready::{ReadyFile, Urls};
use super::wrap::Wrapped;
use brhook::testkit::endpoint::Endpoint;
use brhook::testkit::fault::Fault;
use brhook::testkit::journal::{Setting, UrlSpec};
use brhook::testkit::judge::Options;
use clap::Args as ClapArgs;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

#[derive(ClapArgs)]
pub struct Args {
    /// A URL to serve, `NAME` or `NAME=FAULT` (repeatable). Faults: ok, status:CODE,
    /// fail:N[:CODE], reset:N, delay:MS, joined with + (e.g. b=fail:2+delay:300).
    /// Default: one URL `v2=ok`.
    #[arg(long = "url", value_name = "NAME[=FAULT]", value_parser = parse_url)]
    urls: Vec<UrlSpec>,
    /// A v1 URL (the sender's WebHookUrls setting, v1 records), `NAME` or `NAME=FAULT`
    /// (repeatable). Every event must reach every URL of its setting: a URL that gets
    /// nothing while the others of its setting get events fails F1. A `--url` named `v1`
    /// is taken as a v1 URL too.
    #[arg(long = "v1-url", value_name = "NAME[=FAULT]", value_parser = parse_url)]
    v1_urls: Vec<UrlSpec>,
    #[command(flatten)]
    capture: Capture,
}

/// What `listen` and `proxy` share: where to listen, how long to capture, the journal,
/// the limits and the report.
#[derive(ClapArgs)]
pub struct Capture {
    /// Address to listen on. The default takes a free port on loopback; binding to all
    /// interfaces (0.0.0.0) exposes it to the network.
    #[arg(long, default_value = "127.0.0.1:0", value_name = "ADDR")]
    pub bind: SocketAddr,
    /// Quiet window in seconds: the capture closes only after this long without a
    /// request. Keep it longer than the real sender's 2 s back-off, or a sender that is
    /// still retrying looks as if it gave up (D2).
    #[arg(
        long = "quiet-window",
        alias = "quiet",
        default_value_t = 5.0,
        value_name = "SECS"
    )]
    pub quiet: f64,
    /// Exit on its own once quiet after at least one request (otherwise Ctrl-C ends).
    /// For CI.
    #[arg(long)]
    pub until_quiet: bool,
    /// The longest a capture stays open, in seconds, whatever arrives (so that a CI job
    /// never hangs on a sender that sends nothing). Default: 600 for `listen`; none for
    /// `proxy`, which runs until Ctrl-C or SIGTERM.
    #[arg(long, value_name = "SECS")]
    pub max_wait: Option<f64>,
    /// Write every request to FILE (JSON Lines) as it is answered. `listen` begins FILE
    /// anew; `proxy` appends to it (a restart goes on with the same capture).
    #[arg(long, value_name = "FILE")]
    pub journal: Option<PathBuf>,
    /// No line per request (for CI logs); the report still follows.
    #[arg(long)]
    pub quiet_output: bool,
    /// D6: a retry gap under this many milliseconds is a warning.
    #[arg(long, default_value_t = 100, value_name = "MS")]
    pub min_retry_gap: u64,
    /// Serve the URLs under a random secret path prefix (`/TOKEN/NAME`); any other
    /// path is answered 404 and counted as stray. Use it whenever the port is
    /// reachable from a network.
    #[arg(long)]
    pub token: bool,
    /// Largest request body read, in bytes; a larger one is answered 413 and recorded.
    #[arg(long, default_value_t = brhook::testkit::endpoint::DEFAULT_MAX_BODY, value_name = "BYTES")]
    pub max_body: usize,
    /// Seconds a client may take to send a request head (also closes idle connections).
    #[arg(long, default_value_t = 10.0, value_name = "SECS")]
    pub header_timeout: f64,
    /// Connections served at once; more wait in the accept queue until one closes.
    #[arg(long, default_value_t = 1024, value_name = "N")]
    pub max_connections: usize,
    /// Once the URLs accept connections, write FILE (atomically) with the URLs as JSON:
    /// `urls` by name, `v2` and `v1` lists in order, `addr`, brhook's `pid` and
    /// `control` (null here). Removed on exit. For a sender's test suite that starts
    /// brhook itself: wait for FILE to exist, then read the URLs from it.
    #[arg(long, value_name = "FILE")]
    pub ready_file: Option<PathBuf>,
    #[command(flatten)]
    pub report: ReportArgs,
    /// A command to run once the URLs accept connections (after `--`): the sender or
    /// its test suite. It gets the URLs as BRHOOK_URL_<NAME> (upper-cased, other
    /// characters `_`) and BRHOOK_V2_URLS / BRHOOK_V1_URLS (one URL per line, in the
    /// order given); `{url:NAME}` in its arguments is replaced by that URL. When it
    /// exits, brhook waits the quiet window for retries in flight, judges, and exits 0
    /// only if the command succeeded and the verdict passes. Its output passes through
    /// (its stdout goes to stderr with --format json). --until-quiet does not apply.
    #[arg(last = true, value_name = "CMD")]
    pub command: Vec<String>,
}

/// A positive number of seconds, or an error naming the option.
pub fn secs(option: &str, value: f64, example: &str) -> Result<Duration, String> {
    Duration::try_from_secs_f64(value)
        .ok()
        .filter(|t| !t.is_zero())
        .ok_or_else(|| format!("{option} must be a positive number of seconds (e.g. {example}), not {value}"))
}

pub fn parse_url(s: &str) -> Result<UrlSpec, String> {
    let (name, fault) = s.split_once('=').unwrap_or((s, "ok"));
    let name = name.trim().trim_matches('/');
    if name.is_empty()
        || !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
    {
        return Err(format!(
            "URL name {name:?} must be letters, digits, '-', '_' or '.' (e.g. --url a=fail:2)"
        ));
    }
    Ok(UrlSpec {
        name: name.to_string(),
        fault: fault.parse::<Fault>()?,
        setting: None,
        upstream: None,
    })
}

pub fn run(args: Args) -> Result<i32, String> {
    let rt = tokio::runtime::Runtime::new().map_err(|e| format!("cannot start the runtime: {e}"))?;
    rt.block_on(listen(args))
}

async fn listen(all: Args) -> Result<i32, String> {
    let args = &all.capture;
    // With --format json, stdout carries the report alone: the banner goes to stderr.
    let text = args.report.format == super::output::Format::Text;
    let human = text && !args.quiet_output;
    let mut urls = if all.urls.is_empty() && all.v1_urls.is_empty() {
        vec![parse_url("v2=ok")?]
    } else {
        all.urls.clone()
    };
    if urls.iter().any(|u| u.name == "v1") {
        eprintln!("brhook: note: the URL named v1 is taken as a v1 URL (WebHookUrls); --v1-url NAME says so for any name");
    }
    urls.extend(all.v1_urls.iter().cloned().map(|mut u| {
        u.setting = Some(Setting::V1);
        u
    }));
    let mut names = std::collections::BTreeSet::new();
    if let Some(dup) = urls.iter().find(|u| !names.insert(u.name.clone())) {
        return Err(format!(
            "URL name {:?} is given twice; give each --url its own name",
            dup.name
        ));
    }
    let options = judge_options(args);
    let header_timeout = secs("--header-timeout", args.header_timeout, "10")?;
    let max_wait = Some(secs("--max-wait", args.max_wait.unwrap_or(600.0), "600")?);
    let mut b = Endpoint::builder()
        .bind(args.bind)
        .options(options)
        .max_body(args.max_body)
        .header_timeout(header_timeout)
        .max_connections(args.max_connections);
    if args.token {
        b = b.prefix(&token());
    }
    let specs = urls.clone();
    for u in urls {
        b = b.url_spec(u);
    }
    // The journal is the record, on disk (a temporary file without --journal): nothing
    // of the capture is kept in memory, which stays flat however long it runs.
    if let Some(j) = &args.journal {
        b = b.journal(j);
    }
    b = b.keep_in_memory(false);
    let live = std::sync::Arc::new(std::sync::Mutex::new(super::live::Live::new(!human)));
    super::live::Live::ticker(&live);
    let printer = live.clone();
    b = b.on_request(move |r, p| printer.lock().expect("live lock").request(r, p));
    let ep = b.start().await.map_err(|e| e.to_string())?;
    let labels = specs
        .iter()
        .map(|u| (u.name.clone(), format!("{}: {}", u.name, u.fault)))
        .collect();
    let title = format!("brhook listening on http://{}", ep.addr());
    let served = Urls::new(ep.addr(), ep.urls(), |n| {
        specs
            .iter()
            .find(|u| u.name == n)
            .map_or(Setting::V2, UrlSpec::setting)
    });
    run_capture(ep, args, &title, labels, live, max_wait, served).await
}

/// How the sender is judged, from the shared options.
pub(super) fn judge_options(args: &Capture) -> Options {
    Options {
        strict: args.report.strict,
        min_retry_gap: Duration::from_millis(args.min_retry_gap),
        examples: args.report.examples,
        ..Options::default()
    }
}

/// A secret path prefix: 16 lowercase hex digits of a v4 UUID (60 random bits).
pub(super) fn token() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..16].to_string()
}

/// A running capture, endpoint or proxy, as the commands drive it.
pub(super) trait Served {
    fn urls(&self) -> Vec<(String, String)>;
    fn idle(&self) -> (Duration, usize);
    fn requests_seen(&self) -> u64;
    fn interrupter(&self) -> std::sync::Arc<std::sync::atomic::AtomicBool>;
    fn finish(self, quiet: Duration) -> impl std::future::Future<Output = brhook::Report> + Send;
}

impl Served for Endpoint {
    fn urls(&self) -> Vec<(String, String)> {
        Endpoint::urls(self)
    }
    fn idle(&self) -> (Duration, usize) {
        Endpoint::idle(self)
    }
    fn requests_seen(&self) -> u64 {
        Endpoint::requests_seen(self)
    }
    fn interrupter(&self) -> std::sync::Arc<std::sync::atomic::AtomicBool> {
        Endpoint::interrupter(self)
    }
    fn finish(self, quiet: Duration) -> impl std::future::Future<Output = brhook::Report> + Send {
        Endpoint::finish(self, quiet)
    }
}

/// Writes the ready file, prints the URLs to paste (each with its `labels` entry),
/// starts the wrapped command, waits for the capture to end (the command's exit,
/// Ctrl-C or SIGTERM, `--until-quiet`, `--max-wait`), judges it and writes the report.
pub(super) async fn run_capture<S: Served>(
    ep: S,
    args: &Capture,
    title: &str,
    labels: std::collections::HashMap<String, String>,
    live: std::sync::Arc<std::sync::Mutex<super::live::Live>>,
    max_wait: Option<Duration>,
    served: Urls,
) -> Result<i32, String> {
    let text = args.report.format == super::output::Format::Text;
    // The server is bound: a connection made from now on is queued, never refused.
    let ready = match &args.ready_file {
        Some(path) => Some(ReadyFile::write(path, &served, None)?),
        None => None,
    };
    let banner = |line: String| {
        if text {
            say!("{line}");
        } else {
            eprintln!("{line}");
        }
    };
    if args.bind.ip().is_unspecified() {
        eprintln!("brhook: warning: listening on all interfaces ({}); anyone who can reach this machine can post to it", args.bind);
        if !args.token {
            eprintln!("brhook: hint: add --token to serve the URLs under a secret path");
        }
    }
    banner(title.to_string());
    banner("Paste into the sender's settings (one URL per line; v2 URLs in WebHookUrlsV2, v1 URLs in WebHookUrls):".into());
    // Bound to all interfaces, `0.0.0.0` is no address a sender can reach: print the
    // machine's own (the one its default route leaves by) and loopback instead.
    let hosts = if args.bind.ip().is_unspecified() {
        reachable_hosts(args.bind.is_ipv6())
    } else {
        Vec::new()
    };
    for (name, url) in ep.urls() {
        let fault = labels.get(&name).cloned().unwrap_or_default();
        if hosts.is_empty() {
            banner(format!("  {url}    ({fault})"));
        }
        for h in &hosts {
            let unspecified = if args.bind.is_ipv6() { "[::]" } else { "0.0.0.0" };
            let shown = url.replacen(unspecified, &h.to_string(), 1);
            banner(format!("  {shown}    ({fault})"));
        }
    }
    let mut cmd = match args.command.is_empty() {
        true => None,
        false => Some(Wrapped::spawn(&args.command, &served, !text)?),
    };
    let at_most = match max_wait {
        Some(t) => format!(" (at most {} s in all)", t.as_secs_f64()),
        None => String::new(),
    };
    banner(format!(
        "Waiting for requests; {}{at_most}.",
        if let Some(c) = &cmd {
            format!(
                "running `{}`; the capture closes {} s after it exits",
                c.shown(),
                args.quiet
            )
        } else if args.until_quiet {
            format!("the capture closes after {} s without one", args.quiet)
        } else {
            "press Ctrl-C (or send SIGTERM) to stop and judge".to_string()
        }
    ));
    let quiet = Duration::from_secs_f64(args.quiet.max(0.0));
    if args.quiet < 2.0 {
        eprintln!(
            "brhook: warning: the quiet window ({} s) is shorter than the real sender's 2 s back-off: \
             a sender still retrying may be judged as giving up (D2); --quiet-window 5 is safe",
            args.quiet
        );
    }
    // One listener for every Ctrl-C of the run, made before the first can come: a
    // signal that arrives between two stages is kept, never lost.
    let mut interrupts = Interrupts::new();
    let until_quiet = args.until_quiet && cmd.is_none();
    let stop = wait_for_stop(&ep, &mut interrupts, quiet, until_quiet, max_wait, cmd.as_mut()).await;
    // What went wrong with the wrapped command, for the report: the run fails on it.
    let mut cmd_failure = None;
    match &stop {
        Stop::Signal => eprintln!(
            "\nbrhook: stopping: waiting up to {} s for retries in flight (Ctrl-C again to judge now, a third time to abort)",
            args.quiet
        ),
        Stop::MaxWait => eprintln!(
            "brhook: the capture was open for --max-wait {} s; closing it",
            max_wait.unwrap_or_default().as_secs_f64()
        ),
        Stop::Quiet => {}
        Stop::Exited(end) => {
            cmd_failure = end.failure();
            eprintln!(
                "brhook: the command {}; waiting {} s for retries in flight, then judging",
                cmd_failure.as_deref().unwrap_or("succeeded"),
                args.quiet
            );
        }
    }
    if let (Some(c), None) = (&cmd, &stop.exited()) {
        // Interrupted or out of time: the command stops with brhook.
        c.stop();
        cmd_failure = Some(match stop {
            Stop::MaxWait => format!(
                "was still running at --max-wait {} s (stopped)",
                max_wait.map_or(0.0, |t| t.as_secs_f64())
            ),
            _ => "was stopped (brhook was interrupted)".into(),
        });
    }
    let cmd_failure = cmd_failure.map(|f| {
        let shown = cmd.as_ref().map_or("", |c| c.shown());
        format!("the command `{shown}` {f}")
    });
    // Ctrl-C from here on: the first judges at once, the next aborts (the journal keeps
    // what was captured).
    let now = ep.interrupter();
    let ready_path = ready.as_ref().map(|r| r.path().to_path_buf());
    tokio::spawn(async move {
        interrupts.next().await;
        now.store(true, std::sync::atomic::Ordering::SeqCst);
        eprintln!("\nbrhook: judging now (Ctrl-C again to abort)");
        interrupts.next().await;
        eprintln!("\nbrhook: aborted; the journal keeps what was captured");
        // exit skips destructors: the ready file goes by hand.
        if let Some(p) = ready_path {
            let _ = std::fs::remove_file(p);
        }
        std::process::exit(130);
    });
    let mut report = ep.finish(quiet).await;
    drop(ready);
    live.lock().expect("live lock").finish();
    if text {
        say!();
    }
    if let Some(f) = cmd_failure {
        // The command's failure fails the run, named first; the judge's own note
        // (e.g. that no request arrived) follows it.
        let note = match report.note.take() {
            Some(n) => format!("{f}; {n}"),
            None => f,
        };
        report.fail_on_nothing(&note);
    }
    emit(&report, &args.report)
}

/// The addresses a sender can use for an endpoint bound to all interfaces: the one the
/// default route leaves by (a UDP `connect` sends nothing), and loopback.
fn reachable_hosts(v6: bool) -> Vec<String> {
    let (any, probe, lo) = if v6 {
        ("[::]:0", "[2001:db8::1]:9", "[::1]")
    } else {
        ("0.0.0.0:0", "192.0.2.1:9", "127.0.0.1")
    };
    let mut hosts = Vec::new();
    if let Some(ip) = std::net::UdpSocket::bind(any)
        .and_then(|s| s.connect(probe).and_then(|_| s.local_addr()))
        .ok()
        .map(|a| a.ip())
        .filter(|ip| !ip.is_unspecified() && !ip.is_loopback())
    {
        hosts.push(if ip.is_ipv6() {
            format!("[{ip}]")
        } else {
            ip.to_string()
        });
    }
    hosts.push(lo.to_string());
    hosts
}

/// Ctrl-C (and, on Unix, SIGTERM), listened to for the whole run.
struct Interrupts {
    #[cfg(unix)]
    int: Option<tokio::signal::unix::Signal>,
    #[cfg(unix)]
    term: Option<tokio::signal::unix::Signal>,
}

impl Interrupts {
    fn new() -> Interrupts {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            Interrupts {
                int: signal(SignalKind::interrupt()).ok(),
                term: signal(SignalKind::terminate()).ok(),
            }
        }
        #[cfg(not(unix))]
        Interrupts {}
    }

    /// The next Ctrl-C or SIGTERM (every one delivered since `new` is kept).
    async fn next(&mut self) {
        #[cfg(unix)]
        {
            async fn one(s: &mut Option<tokio::signal::unix::Signal>) {
                match s.as_mut() {
                    Some(s) => {
                        s.recv().await;
                    }
                    None => std::future::pending().await,
                }
            }
            tokio::select! {
                _ = one(&mut self.int) => {}
                _ = one(&mut self.term) => {}
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

/// What ended the capture's wait.
enum Stop {
    /// Ctrl-C or SIGTERM.
    Signal,
    /// The quiet window passed after requests (`--until-quiet`).
    Quiet,
    MaxWait,
    /// The wrapped command exited.
    Exited(super::wrap::Ended),
}

impl Stop {
    fn exited(&self) -> Option<&super::wrap::Ended> {
        match self {
            Stop::Exited(e) => Some(e),
            _ => None,
        }
    }
}

/// Waits for Ctrl-C (or SIGTERM), for the quiet window with `until_quiet`, for the
/// wrapped command's exit, or for `max_wait`.
async fn wait_for_stop<S: Served>(
    ep: &S,
    interrupts: &mut Interrupts,
    quiet: Duration,
    until_quiet: bool,
    max_wait: Option<Duration>,
    cmd: Option<&mut Wrapped>,
) -> Stop {
    let exited = async {
        match cmd {
            Some(c) => c.exited().await,
            None => std::future::pending().await,
        }
    };
    let signal = interrupts.next();
    let quiet_stop = async {
        loop {
            tokio::time::sleep(Duration::from_millis(100)).await;
            let (idle, in_flight) = ep.idle();
            if until_quiet && ep.requests_seen() > 0 && in_flight == 0 && idle >= quiet {
                return;
            }
        }
    };
    tokio::select! {
        _ = signal => Stop::Signal,
        _ = quiet_stop => Stop::Quiet,
        end = exited => Stop::Exited(end),
        _ = async {
            match max_wait {
                Some(t) => tokio::time::sleep(t).await,
                None => std::future::pending().await,
            }
        } => Stop::MaxWait,
    }
}
