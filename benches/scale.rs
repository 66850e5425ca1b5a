//! Scale: the release `brhook` binary, driven as a separate process, on big journals and
//! under load. Builds nothing: run `cargo build --release` first, then
//! `cargo bench --bench scale`.
//!
//! 1. `brhook check` of a generated journal of N requests: realistic v2 sessions (the
//!    documented SessionStarted, FileOpening, FileClosed, SessionEnded, compact), each
//!    request its own lowercase EventId, each four their own SessionId, so it judges
//!    clean; and a "one deviation" variant, every EventId uppercase (S6 warn once per
//!    body), whose text report (lines) and JSON report (bytes) should stay small. Wall
//!    time, peak RSS (`VmHWM` polled every 20 ms) and requests/s of each run; baseline:
//!    reading the same journal line by line into `serde_json::Value` in this process.
//!    A pilot on N/20 requests predicts the full runs, which are skipped over the cap.
//! 2. `brhook listen --url a --journal F` (live lines to a file) under `wrk -t2 -c50` for D
//!    seconds against a bare hyper server answering 204 in this process (same script:
//!    the same sessions, the real sender's headers). Then a memory run to M requests:
//!    listen's `VmRSS` at every tenth of M and at the end, and the time from
//!    SIGINT to exit (listen judges the capture and prints its report in that time).
//!
//! Knobs (environment): BRHOOK_BIN (the binary; default `$CARGO_TARGET_DIR`, else
//! `target`, then `/release/brhook`), BRHOOK_SCALE_REQUESTS (N, default 1000000),
//! BRHOOK_SCALE_SECS (D, default 10), BRHOOK_SCALE_ROUNDS (interleaved bare/listen
//! throughput rounds, default 3), BRHOOK_SCALE_ONLY (`check` or `listen`: one section), BRHOOK_SCALE_LISTEN_REQUESTS (M, default 1000000),
//! BRHOOK_SCALE_CAP (seconds, default 600: a step predicted longer is skipped, a child
//! running longer is killed), BRHOOK_SCALE_DIR (scratch, default the temp dir; about
//! 0.9 KB per journal line), BRHOOK_SCALE_KEEP=1 keeps journals and reports.
//! Section 2 needs `wrk` on PATH (Debian/Ubuntu: apt-get install wrk); skipped without.

mod support;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use std::io::{BufRead, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

const EVENTS: [&str; 4] = ["SessionStarted", "FileOpening", "FileClosed", "SessionEnded"];
const UA: &str = "BililiveRecorder/2.17.3";
const WRK: [&str; 4] = ["-t2", "-c50", "--timeout", "10s"];
/// The quiet window given to listen, in seconds (when it has the flag).
const QUIET_SECS: f64 = 1.0;
/// Numbers the wrk runs, so that no two runs send the same EventId.
static WRK_RUNS: AtomicU64 = AtomicU64::new(0);

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    let v = std::env::var(name).ok();
    v.and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn manifest(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

fn mib(kib: u64) -> String {
    format!("{:.0} MiB", kib as f64 / 1024.0)
}

/// A `kB` field of `/proc/PID/status`: `VmHWM:` (peak RSS) or `VmRSS:` (current).
fn proc_kib(pid: u32, key: &str) -> u64 {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let v = s.lines().find_map(|l| l.strip_prefix(key)).unwrap_or("");
    v.trim().trim_end_matches("kB").trim().parse().unwrap_or(0)
}

fn signal(pid: u32, sig: &str) {
    let args = [format!("-{sig}"), pid.to_string()];
    let _ = Command::new("kill").args(args).status();
}

/// Newlines in the first `limit` bytes of a file.
fn count_lines(path: &Path, limit: u64) -> u64 {
    let (mut buf, mut n) = (vec![0u8; 1 << 16], 0);
    let mut f = std::fs::File::open(path).expect("file opens").take(limit);
    while let Ok(k @ 1..) = f.read(&mut buf) {
        n += buf[..k].iter().filter(|&&b| b == b'\n').count() as u64;
    }
    n
}

fn file_len(path: &Path) -> u64 {
    std::fs::metadata(path).map_or(0, |m| m.len())
}

/// A finished child: wall time, peak RSS, exit code (or how it ended).
struct Watched {
    secs: f64,
    peak: String,
    exit: String,
}

/// `Watched::exit` of a child killed at the cap.
const KILLED: &str = "killed at the cap";

/// Waits for `child`, a second thread polling its `VmHWM` every 20 ms (and killing it
/// once `start` is older than `cap`). The time is taken when `wait` returns.
fn watch(mut child: Child, start: Instant, cap: Duration) -> Watched {
    let pid = child.id();
    let (done, killed, peak) = (AtomicBool::new(false), AtomicBool::new(false), AtomicU64::new(0));
    let status = std::thread::scope(|s| {
        s.spawn(|| {
            while !done.load(Relaxed) {
                peak.fetch_max(proc_kib(pid, "VmHWM:"), Relaxed);
                if start.elapsed() > cap && !killed.swap(true, Relaxed) {
                    signal(pid, "KILL");
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        });
        let status = child.wait().expect("child waits");
        done.store(true, Relaxed);
        status
    });
    let (secs, peak) = (start.elapsed().as_secs_f64(), mib(peak.load(Relaxed)));
    let exit = status.code().map_or(status.to_string(), |c| c.to_string());
    let exit = if killed.load(Relaxed) { KILLED.into() } else { exit };
    Watched { secs, peak, exit }
}

/// The four documented v2 bodies, compact, with `@EID@` (EventId), `@SID@` (SessionId)
/// and `@N@` (in RelativePath: each session records its own file) to fill in.
fn templates() -> Vec<String> {
    let template = |name: &str| {
        let path = manifest(&format!("tests/fixtures/doc/{name}.json"));
        let text = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let mut v: serde_json::Value = serde_json::from_slice(&text).expect("fixture is JSON");
        v["EventId"] = "@EID@".into();
        v["EventData"]["SessionId"] = "@SID@".into();
        if let Some(p) = v["EventData"]["RelativePath"].as_str() {
            v["EventData"]["RelativePath"] = p.replace(".flv", "-@N@.flv").into();
        }
        serde_json::to_string(&v).expect("serialises")
    };
    EVENTS.iter().map(|name| template(name)).collect()
}

/// The verdict line of a text report (`PASS: 0 fail, 0 warn, 3 info`), subject cut.
fn verdict(report: &Path) -> String {
    let text = std::fs::read_to_string(report).unwrap_or_default();
    let mut lines = text.lines().filter_map(|l| l.strip_prefix("brhook "));
    let line = lines.find(|l| l.contains(" fail, "));
    let line = line.unwrap_or("(no verdict line)");
    line.split(" — ").next().unwrap_or(line).into()
}

struct Bench {
    bin: PathBuf,
    dir: PathBuf,
    cap: Duration,
    keep: bool,
    templates: Vec<String>,
}

impl Bench {
    fn remove(&self, paths: &[&Path]) {
        for p in paths.iter().filter(|_| !self.keep) {
            std::fs::remove_file(p).ok();
        }
    }

    /// Writes a closed journal of `n` requests as listen records them (20k requests/s,
    /// 50 connections, the real sender's headers); `upper`: EventIds in upper case.
    fn journal(&self, name: &str, n: u64, upper: bool) -> PathBuf {
        let (path, start) = (self.dir.join(name), Instant::now());
        let mut w = support::listen_journal(&path);
        for i in 0..n {
            let eid = format!("e3e1c9ec-0000-4000-8000-{i:012x}");
            let eid = if upper { eid.to_uppercase() } else { eid };
            let sid = format!("7c7f3672-0000-4000-9000-{:012x}", i / 4);
            let body = self.templates[(i % 4) as usize].replace("@EID@", &eid);
            let body = body.replace("@SID@", &sid).replace("@N@", &(i / 4).to_string());
            let len = body.len().to_string();
            let headers = [
                ("content-type", "application/json"),
                ("user-agent", UA),
                ("host", "127.0.0.1:8080"),
                ("content-length", &len),
            ];
            let r = support::answered(i + 1, 50, &headers, body);
            w.request(&r).expect("journal line written");
        }
        w.close(n as f64 * 0.05 + 5000.0, 5000.0).expect("close line");
        let (size, secs) = (mib(file_len(&path) / 1024), start.elapsed().as_secs_f64());
        println!("generated {name}: {n} requests, {size}, in {secs:.1} s");
        path
    }

    /// One `brhook check` run: what it cost, and its table row.
    fn check(&self, journal: &Path, n: u64, json: bool, base: f64) -> (Watched, String) {
        let out = journal.with_extension(if json { "report.json" } else { "report.txt" });
        let format: &[&str] = if json { &["--format", "json"] } else { &[] };
        let mut cmd = Command::new(&self.bin);
        cmd.arg("check").arg(journal).args(format).stderr(Stdio::null());
        cmd.stdout(std::fs::File::create(&out).expect("report file"));
        let w = watch(cmd.spawn().expect("brhook runs"), Instant::now(), self.cap);
        let (size, verdict) = if json {
            (format!("{} bytes", file_len(&out)), String::new())
        } else {
            (format!("{} lines", count_lines(&out, u64::MAX)), verdict(&out))
        };
        self.remove(&[&out]);
        let name = journal.file_name().unwrap_or_default().to_string_lossy();
        let run = [&["check", &*name][..], format].concat().join(" ");
        let (secs, rate, x) = (w.secs, n as f64 / w.secs, w.secs / base);
        let cost = format!("{secs:.2} s | {rate:.0} | {x:.1} | {} | {}", w.peak, w.exit);
        let row = format!("| `{run}` | {n} | {cost} | {size} | {verdict} |");
        (w, row)
    }

    fn section_check(&self) {
        let n: u64 = env_or("BRHOOK_SCALE_REQUESTS", 1_000_000);
        let pilot = (n / 20).max(1000).min(n);
        println!("## 1. `brhook check` of a journal of {n} requests\n");
        println!("reproduce: `BRHOOK_SCALE_REQUESTS={n} cargo bench --bench scale`; each run is");
        let bin = self.bin.display();
        println!("`{bin} check JOURNAL [--format json] > REPORT`\n");
        let clean = self.journal("clean.jsonl", n, false);
        // Baseline: the same journal read line by line, each parsed into a Value, here.
        let start = Instant::now();
        let f = std::fs::File::open(&clean).expect("journal opens");
        for line in std::io::BufReader::with_capacity(1 << 16, f).lines() {
            let v = serde_json::from_str::<serde_json::Value>(&line.expect("journal reads"));
            std::hint::black_box(v.expect("a JSON line"));
        }
        let (base, what) = (start.elapsed().as_secs_f64(), "`from_str::<Value>` per line");
        let rate = n as f64 / base;
        let baseline = format!("| baseline: {what} | {n} | {base:.2} s | {rate:.0} | 1.0 | | | | |");
        let mut rows = vec![baseline];
        let upper = self.journal("one-deviation.jsonl", n, true);
        let mut runs = vec![(&clean, false), (&upper, false), (&upper, true)];
        if pilot < n {
            let p = self.journal("pilot.jsonl", pilot, false);
            let (w, r) = self.check(&p, pilot, false, base * pilot as f64 / n as f64);
            rows.push(r);
            self.remove(&[&p]);
            let secs = w.secs * n as f64 / pilot as f64;
            println!("pilot: {n} requests predicted (linear) to take {secs:.0} s");
            if secs > self.cap.as_secs_f64() || w.exit == KILLED {
                println!("SKIPPED: the full runs, predicted over the cap (BRHOOK_SCALE_CAP)");
                runs.clear();
            }
        }
        for (journal, json) in runs {
            let (w, r) = self.check(journal, n, json, base);
            rows.push(r);
            if w.exit == KILLED {
                println!("SKIPPED: the runs after one killed at the cap");
                break;
            }
        }
        self.remove(&[&clean, &upper]);
        let head = "| run | requests | wall | requests/s | × baseline | peak RSS | exit | report | verdict |";
        println!("\n{head}\n|---|---:|---:|---:|---:|---:|---:|---:|---|");
        rows.iter().for_each(|r| println!("{r}"));
        println!();
    }

    /// `brhook listen` started, its URL read from the banner: (child, URL, journal, stdout).
    fn listen(&self, tag: &str, quiet: &[String]) -> (Child, String, PathBuf, PathBuf) {
        let journal = self.dir.join(format!("listen-{tag}.jsonl"));
        let out = self.dir.join(format!("listen-{tag}.out"));
        let mut cmd = Command::new(&self.bin);
        // Live lines on, to a file: listen as a user runs it, stdout redirected.
        cmd.args(["listen", "--url", "a"]).args(quiet);
        cmd.arg("--journal").arg(&journal).stderr(Stdio::null());
        cmd.stdout(std::fs::File::create(&out).expect("stdout file"));
        let mut child = cmd.spawn().expect("brhook listen runs");
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let text = std::fs::read_to_string(&out).unwrap_or_default();
            let mut words = text.split_whitespace();
            if let Some(url) = words.find(|w| w.starts_with("http://127.0.0.1:") && w.ends_with("/a")) {
                return (child, url.to_string(), journal, out);
            }
            if Instant::now() > deadline || child.try_wait().ok().flatten().is_some() {
                signal(child.id(), "KILL");
                panic!("brhook listen printed no http://127.0.0.1:PORT/a URL:\n{text}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGINT to listen once idle past the quiet window, timed to its exit.
    fn interrupt(&self, child: Child) -> Watched {
        std::thread::sleep(Duration::from_secs_f64(QUIET_SECS + 0.3));
        let start = Instant::now();
        signal(child.id(), "INT");
        watch(child, start, self.cap)
    }

    fn section_listen(&self) {
        let secs: u64 = env_or("BRHOOK_SCALE_SECS", 10);
        let total: u64 = env_or("BRHOOK_SCALE_LISTEN_REQUESTS", 1_000_000);
        println!("## 2. `brhook listen` under `wrk {}`\n", WRK.join(" "));
        if Command::new("wrk").arg("--version").output().is_err() {
            println!("SKIPPED: wrk is not installed (Debian/Ubuntu: apt-get install wrk)\n");
            return;
        }
        // The quiet-window flag is read from `listen --help`, not assumed.
        let help = Command::new(&self.bin).args(["listen", "--help"]).output();
        let help = String::from_utf8_lossy(&help.expect("brhook runs").stdout).into_owned();
        let mut words = help.split_whitespace();
        let flag = words.find(|w| w.starts_with("--quiet") && *w != "--quiet-output");
        let quiet: Vec<String> = flag.map_or(vec![], |f| vec![f.into(), QUIET_SECS.to_string()]);
        let (bin, q) = (self.bin.display(), quiet.join(" "));
        println!("quiet-window flag in `listen --help`: {}", flag.unwrap_or("none"));
        println!("reproduce: `BRHOOK_SCALE_SECS={secs} BRHOOK_SCALE_LISTEN_REQUESTS={total} cargo bench --bench scale`");
        println!("listen runs as `{bin} listen --url a --journal FILE {q} > OUT` (live lines to OUT),");
        println!("interrupted (SIGINT) once idle past the quiet window\n");
        let script = self.dir.join("webhook.lua");
        std::fs::write(&script, lua_script(&self.templates)).expect("script written");
        let rt = tokio::runtime::Runtime::new().expect("runtime");
        let bare = format!("http://{}/a", rt.block_on(bare_server()));

        // Rounds interleave the two servers: the machine's noise (±15 %) hits both.
        let rounds: usize = env_or("BRHOOK_SCALE_ROUNDS", 3);
        let (child, url, journal, out) = self.listen("throughput", &quiet);
        rate(&script, &bare, 1); // warm-up
        rate(&script, &url, 1); // warm-up (journaled too)
        println!("| {secs} s each | bare hyper (204) | brhook listen | ratio |\n|---|---:|---:|---:|");
        let (mut bs, mut ls) = (0.0, 0.0);
        for round in 1..=rounds.max(1) {
            let b = rate(&script, &bare, secs);
            let l = rate(&script, &url, secs);
            println!("| round {round} requests/s | {b:.0} | {l:.0} | {:.3} |", l / b);
            (bs, ls) = (bs + b, ls + l);
        }
        let n = rounds.max(1) as f64;
        let (b, l) = (bs / n, ls / n);
        println!("| mean | {b:.0} | {l:.0} | **{:.3}** |\n", l / b);
        let w = self.interrupt(child);
        let recorded = count_lines(&journal, u64::MAX).saturating_sub(2);
        let (peak, exit, v, s) = (w.peak, w.exit, verdict(&out), w.secs);
        println!("listen: {recorded} recorded; SIGINT → exit {s:.2} s, peak {peak}, exit {exit}, {v}\n");
        self.remove(&[&journal, &out]);

        let predicted = total as f64 / l;
        if predicted > self.cap.as_secs_f64() {
            println!("SKIPPED: the memory run ({total} requests), predicted to take {predicted:.0} s\n");
            return;
        }
        let (child, url, journal, out) = self.listen("memory", &quiet);
        let pid = child.id();
        let mut samples = vec![("0 (started)".to_string(), proc_kib(pid, "VmRSS:"))];
        // A sample at every tenth of the run: flat memory shows as a flat column.
        let step = (total / 10).max(1);
        let mut mark = step;
        let mut driver = wrk(&script, &url, self.cap.as_secs()).spawn().expect("wrk runs");
        let (start, mut line_bytes) = (Instant::now(), f64::INFINITY);
        loop {
            std::thread::sleep(Duration::from_millis(20));
            // Requests estimated from the journal's size (listen flushes a line per request).
            let len = file_len(&journal);
            if line_bytes.is_infinite() && len > 1 << 20 {
                line_bytes = len as f64 / count_lines(&journal, len).max(1) as f64;
            }
            let seen = (len as f64 / line_bytes) as u64;
            if seen >= mark && mark < total {
                samples.push((format!("about {seen}"), proc_kib(pid, "VmRSS:")));
                mark += step;
            }
            let wrk_ended = driver.try_wait().ok().flatten().is_some();
            if seen >= total || start.elapsed() > self.cap || wrk_ended {
                break;
            }
        }
        signal(driver.id(), "INT");
        let (sent, wrk_rate, errors) = parse_wrk(&driver.wait_with_output().expect("wrk exits"));
        let rss_end = proc_kib(pid, "VmRSS:");
        let w = self.interrupt(child);
        let recorded = count_lines(&journal, u64::MAX).saturating_sub(2);
        samples.push((format!("{recorded} (wrk stopped)"), rss_end));
        println!("memory run: wrk sent {sent} at {wrk_rate:.0}/s, {errors} errors or non-2xx\n");
        println!("| requests recorded | listen VmRSS |\n|---:|---:|");
        for (n, kib) in &samples {
            println!("| {n} | {} |", mib(*kib));
        }
        println!("\n| SIGINT → exit | peak RSS (VmHWM) | exit | verdict |\n|---:|---:|---:|---|");
        let (s, peak, exit, v) = (w.secs, w.peak, w.exit, verdict(&out));
        println!("| {s:.2} s | {peak} | {exit} | {v} |\n");
        self.remove(&[&journal, &out]);
    }
}

/// The wrk script: the journals' sessions; ids unique per wrk run (its argument) and
/// thread.
fn lua_script(t: &[String]) -> String {
    let mut fns = String::new();
    for body in t {
        assert!(!body.contains("]==]"), "a template breaks the Lua long string");
        let body = body.replace("@EID@", "]==] .. eid .. [==[");
        let body = body.replace("@SID@", "]==] .. sid .. [==[");
        let body = body.replace("@N@", "]==] .. n .. [==[");
        fns.push_str(&format!("  function(eid, sid, n) return [==[{body}]==] end,\n"));
    }
    format!(
        r#"-- generated by benches/scale.rs
local T = {{
{fns}}}
local n, counter, run, probe = 0, 0, 0, false
function setup(thread)
  counter = counter + 1
  thread:set("tid", counter)
end
function init(args)
  run = tonumber(args[1]) or 0
  -- wrk calls request() once on its first thread to check it, and never sends that one
  probe = tid == 1
end
local headers = {{ ["Content-Type"] = "application/json", ["User-Agent"] = "{UA}" }}
function request()
  if probe then
    probe = false
    return wrk.format("POST", nil, headers, "{{}}")
  end
  local s = math.floor(n / 4)
  local eid = string.format("e3e1c9ec-%04x-4%03x-8000-%012x", run, tid, n)
  local sid = string.format("7c7f3672-%04x-4%03x-9000-%012x", run, tid, s)
  local body = T[n % 4 + 1](eid, sid, run .. "-" .. tid .. "-" .. s)
  n = n + 1
  return wrk.format("POST", nil, headers, body)
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("BRHOOK %d %d %d\n", summary.requests, summary.duration,
    e.connect + e.read + e.write + e.timeout + e.status))
end
"#
    )
}

fn wrk(script: &Path, url: &str, secs: u64) -> Command {
    let run = (WRK_RUNS.fetch_add(1, Relaxed) + 1).to_string();
    let mut c = Command::new("wrk");
    c.args(WRK).arg(format!("-d{secs}s")).arg("-s").arg(script);
    c.args([url, "--", &run]).stdout(Stdio::piped());
    c.stderr(Stdio::piped());
    c
}

/// What wrk's `done` printed: (requests, requests/s, errors and non-2xx).
fn parse_wrk(out: &std::process::Output) -> (u64, f64, u64) {
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text.lines().find_map(|l| l.strip_prefix("BRHOOK ")).unwrap_or("");
    let v: Vec<u64> = line.split(' ').filter_map(|w| w.parse().ok()).collect();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(v.len(), 3, "wrk printed no summary:\n{text}\n{err}");
    (v[0], v[0] as f64 * 1e6 / v[1] as f64, v[2])
}

/// Requests/s of a fixed-duration wrk run, which must see no error.
fn rate(script: &Path, url: &str, secs: u64) -> f64 {
    let (_, rate, errors) = parse_wrk(&wrk(script, url, secs).output().expect("wrk runs"));
    assert_eq!(errors, 0, "wrk saw errors or non-2xx answers from {url}");
    rate
}

/// A bare hyper 1.x HTTP/1.1 server: reads each body whole, answers 204.
async fn bare_server() -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let _ = stream.set_nodelay(true);
            let svc = service_fn(|req: hyper::Request<hyper::body::Incoming>| async move {
                let _ = req.into_body().collect().await;
                let resp = hyper::Response::builder().status(204).body(Empty::<Bytes>::new());
                Ok::<_, std::convert::Infallible>(resp.expect("response builds"))
            });
            let http = hyper::server::conn::http1::Builder::new();
            tokio::spawn(http.serve_connection(TokioIo::new(stream), svc));
        }
    });
    addr
}

fn main() {
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| manifest("target"), PathBuf::from);
    let bin = std::env::var_os("BRHOOK_BIN").map_or_else(|| target.join("release/brhook"), PathBuf::from);
    let Ok(built) = std::fs::metadata(&bin).and_then(|m| m.modified()) else {
        let bin = bin.display();
        eprintln!("scale bench: {bin} not found: run `cargo build --release` first, or set BRHOOK_BIN");
        std::process::exit(1);
    };
    let built = chrono::DateTime::<chrono::Local>::from(built).format("%F %T");
    let cap = Duration::from_secs(env_or("BRHOOK_SCALE_CAP", 600));
    let keep = std::env::var_os("BRHOOK_SCALE_KEEP").is_some();
    let base = std::env::var_os("BRHOOK_SCALE_DIR").map_or_else(std::env::temp_dir, PathBuf::from);
    let dir = base.join(format!("brhook-scale-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch dir");
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let (b, d, c) = (bin.display(), dir.display(), cap.as_secs());
    println!("# brhook at scale\n\nbinary {b} (built {built}); {cores} cores; scratch {d}");
    println!("every step capped at {c} s (BRHOOK_SCALE_CAP)\n");
    let templates = templates();
    let b = Bench {
        bin,
        dir,
        cap,
        keep,
        templates,
    };
    // BRHOOK_SCALE_ONLY=check or =listen runs one section.
    let only = std::env::var("BRHOOK_SCALE_ONLY").unwrap_or_default();
    if only != "listen" {
        b.section_check();
    }
    if only != "check" {
        b.section_listen();
    }
    if !keep {
        std::fs::remove_dir_all(&b.dir).ok();
    }
}
