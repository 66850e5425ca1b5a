//! `brhook proxy`: brhook between a live sender and its real receivers.

use super::listen::{judge_options, run_capture, secs, token, Capture, Served};
use brhook::testkit::fault::Fault;
use brhook::testkit::journal::Setting;
use brhook::Proxy;
use clap::Args as ClapArgs;
use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

#[derive(ClapArgs)]
pub struct Args {
    /// A v2 receiver, `NAME=URL` (repeatable): brhook serves `/NAME` and forwards each
    /// request to URL (http:// or https://). Put brhook's URL in the recorder's
    /// WebHookUrlsV2 in place of URL.
    #[arg(long = "to", value_name = "NAME=URL", value_parser = parse_to)]
    to: Vec<(String, String)>,
    /// A v1 receiver, `NAME=URL` (repeatable), for the recorder's WebHookUrls.
    #[arg(long = "v1-to", value_name = "NAME=URL", value_parser = parse_to)]
    v1_to: Vec<(String, String)>,
    /// A fault plan in front of a receiver, `NAME=FAULT` (the grammar of `listen`):
    /// an attempt the plan fails is answered by brhook and NOT forwarded; one it lets
    /// through is forwarded. `a=fail:2` tests the recorder's retries and delivers each
    /// event to the receiver once, on the third attempt.
    #[arg(long = "fault", value_name = "NAME=FAULT", value_parser = parse_fault)]
    faults: Vec<(String, Fault)>,
    /// Trust the PEM certificate(s) in FILE for https:// receivers, besides the public
    /// roots (a self-signed receiver, a private CA).
    #[arg(long, value_name = "FILE")]
    upstream_ca: Option<PathBuf>,
    /// Seconds a receiver may take to answer; then the recorder gets a 504 (a finding
    /// against the receiver). Default: the real recorder's own timeout.
    #[arg(long, default_value_t = 100.0, value_name = "SECS")]
    upstream_timeout: f64,
    /// R2: a receiver answering slower than this many seconds is a warning; R10: a
    /// request that waited this long behind another held answer is one too.
    #[arg(long, default_value_t = 5.0, value_name = "SECS")]
    slow_after: f64,
    /// Rotate the journal once it holds SIZE (e.g. 100MB, 1GiB): it becomes FILE.1
    /// (older ones FILE.2, …) and a new FILE begins. `brhook check FILE*` (the files, a
    /// glob or their directory) judges the set as one capture.
    #[arg(long, value_name = "SIZE", value_parser = super::service::parse_size, requires = "journal")]
    journal_max_size: Option<u64>,
    /// Rotated journal files kept besides FILE (with --journal-max-size); the oldest
    /// beyond it is deleted.
    #[arg(long, default_value_t = 10, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    journal_keep: u32,
    /// Where the judge's scratch file and, without --journal, the temporary journal go
    /// (default $TMPDIR). Both are unlinked as soon as they are open: nothing is left
    /// there however brhook ends, SIGKILL included.
    #[arg(long, value_name = "DIR")]
    tmp_dir: Option<PathBuf>,
    /// Rewrite --report-json, --junit and --html every DURATION (e.g. 10m, 1h, 30s)
    /// with the verdict so far, each file atomically. SIGUSR1 does it once.
    #[arg(long, value_name = "DURATION", value_parser = super::service::parse_duration)]
    report_every: Option<Duration>,
    #[command(flatten)]
    service: super::metrics::ServiceArgs,
    #[command(flatten)]
    capture: Capture,
}

pub(super) fn parse_to(s: &str) -> Result<(String, String), String> {
    let (name, url) = s
        .split_once('=')
        .ok_or_else(|| format!("{s:?}: give NAME=URL, e.g. --to hook=http://127.0.0.1:8080/webhook"))?;
    let spec = super::listen::parse_url(name)?;
    Ok((spec.name, url.trim().to_string()))
}

fn parse_fault(s: &str) -> Result<(String, Fault), String> {
    if !s.contains('=') {
        return Err(format!("{s:?}: give NAME=FAULT, e.g. --fault hook=fail:2"));
    }
    let spec = super::listen::parse_url(s)?;
    Ok((spec.name, spec.fault))
}

impl Served for Proxy {
    fn urls(&self) -> Vec<(String, String)> {
        Proxy::urls(self)
    }
    fn idle(&self) -> (Duration, usize) {
        Proxy::idle(self)
    }
    fn requests_seen(&self) -> u64 {
        Proxy::requests_seen(self)
    }
    fn interrupter(&self) -> std::sync::Arc<std::sync::atomic::AtomicBool> {
        Proxy::interrupter(self)
    }
    fn finish(self, quiet: Duration) -> impl std::future::Future<Output = brhook::Report> + Send {
        Proxy::finish(self, quiet)
    }
}

pub fn run(args: Args) -> Result<i32, String> {
    let rt = tokio::runtime::Runtime::new().map_err(|e| format!("cannot start the runtime: {e}"))?;
    rt.block_on(proxy(args))
}

async fn proxy(all: Args) -> Result<i32, String> {
    let args = &all.capture;
    if all.to.is_empty() && all.v1_to.is_empty() {
        return Err("give at least one receiver: --to NAME=URL (or --v1-to NAME=URL)".into());
    }
    let text = args.report.format == super::output::Format::Text;
    let human = text && !args.quiet_output;
    let mut b = Proxy::builder()
        .bind(args.bind)
        .options(judge_options(args))
        .max_body(args.max_body)
        .header_timeout(secs("--header-timeout", args.header_timeout, "10")?)
        .max_connections(args.max_connections)
        .upstream_timeout(secs("--upstream-timeout", all.upstream_timeout, "100")?)
        .slow_after(secs("--slow-after", all.slow_after, "5")?)
        .keep_in_memory(false);
    // A service: no time limit unless one is asked for (CI).
    let max_wait = match args.max_wait {
        Some(t) => Some(secs("--max-wait", t, "600")?),
        None => None,
    };
    let r = &args.report;
    if all.report_every.is_some() && r.report_json.is_none() && r.junit.is_none() && r.html.is_none() {
        return Err(
            "--report-every rewrites the report files: give --report-json, --junit or --html too".into(),
        );
    }
    // Appended, not truncated: a restart goes on with the same capture.
    b = b.append(true).rotation(
        all.journal_max_size
            .map(|max_bytes| brhook::testkit::journal::Rotation {
                max_bytes,
                keep: all.journal_keep,
            }),
    );
    if let Some(dir) = &all.tmp_dir {
        if !dir.is_dir() {
            return Err(format!("--tmp-dir {}: no such directory", dir.display()));
        }
        b = b.scratch_dir(dir);
    }
    if args.token {
        b = b.prefix(&token());
    }
    let mut labels = HashMap::new();
    let all_urls = all
        .to
        .iter()
        .map(|t| (t, Setting::V2))
        .chain(all.v1_to.iter().map(|t| (t, Setting::V1)));
    for ((name, url), setting) in all_urls {
        if labels.contains_key(name) {
            return Err(format!(
                "URL name {name:?} is given twice; give each --to its own name"
            ));
        }
        labels.insert(name.clone(), format!("{name} → {url}"));
        b = match setting {
            Setting::V2 => b.v2(name, url),
            Setting::V1 => b.v1(name, url),
        };
    }
    for (name, fault) in &all.faults {
        let Some(label) = labels.get_mut(name) else {
            return Err(format!("--fault {name}=…: no --to or --v1-to is named {name:?}"));
        };
        label.push_str(&format!(", fault {fault} in front"));
        b = b.fault(name, fault.clone());
    }
    if let Some(ca) = &all.upstream_ca {
        b = b.upstream_ca(ca);
    }
    if let Some(j) = &args.journal {
        b = b.journal(j);
    }
    for (name, url) in all.service.shadows() {
        if let Some(label) = labels.get_mut(name) {
            label.push_str(&format!(", shadowed to {url}"));
        }
    }
    let (mut b, metrics) = all.service.apply(b)?;
    let live = std::sync::Arc::new(std::sync::Mutex::new(super::live::Live::new(!human)));
    super::live::Live::ticker(&live);
    let printer = live.clone();
    b = b.on_request(move |r, p| printer.lock().expect("live lock").request(r, p));
    super::service::survive_file_size_limit();
    let proxy = b.start().await.map_err(|e| e.to_string())?;
    let server = super::metrics::serve(metrics).await?;
    live.lock().expect("live lock").clock(proxy.handle().started());
    if let (Some(j), Some(seg)) = (&args.journal, proxy.handle().segment()) {
        use brhook::testkit::journal::Previous;
        let how = match &seg.after {
            None => None,
            Some(Previous::Closed) => Some("the run before ended with its close line"),
            Some(Previous::Killed { .. }) => {
                Some("the run before ended WITHOUT its close line (killed); its requests are kept")
            }
        };
        if let Some(how) = how {
            eprintln!(
                "brhook: note: appending to {} (requests from #{} on): {how}",
                j.display(),
                seg.seq_base + 1
            );
        }
    }
    super::service::spawn(proxy.handle(), args.report.clone(), all.report_every);
    let mut title = format!(
        "brhook proxy listening on http://{}: every request is forwarded to its receiver and both sides are judged",
        proxy.addr()
    );
    if let Some(s) = &server {
        title.push_str(&format!(
            "; metrics on http://{0}/metrics, health on http://{0}/healthz",
            s.addr()
        ));
    }
    let v1: Vec<&str> = all.v1_to.iter().map(|(n, _)| n.as_str()).collect();
    let served = super::ready::Urls::new(proxy.addr(), proxy.urls(), |n| {
        if v1.contains(&n) {
            Setting::V1
        } else {
            Setting::V2
        }
    });
    run_capture(proxy, args, &title, labels, live, max_wait, served).await
}
