//! The five figures of issue 15, side by side, in one run: each a ratio against a
//! baseline measured in the same run, in interleaved rounds so the machine's noise
//! falls on both sides alike.
//!
//! a. `brhook listen --url a --journal F` req/s vs a bare hyper server answering 204;
//! b. `brhook proxy --to a=BARE` req/s vs BARE direct, and the added p50;
//! c. `brhook send load --concurrency 32` answers/s vs the load generator at 32
//!    connections against the same bare server; and send's peak RSS at SMALL vs BIG events;
//! d. `brhook check` of N realistic requests vs one thread parsing every journal line and
//!    its body with serde_json (the floor);
//! e. every line `listen` printed (live lines and report) in its D seconds at full load.
//!
//! The load generator is in this bench (it stands in for `wrk -t2 -c32`, so nothing needs
//! installing): 2 threads, 32 keep-alive HTTP/1.1 connections, each sending the next
//! request as soon as its answer is read, the real sender's headers and the documented v2
//! bodies cycling SessionStarted, FileOpening, FileClosed, SessionEnded, every request its
//! own EventId and every four their own SessionId. The bare server runs in its own process
//! (this bench, re-run with `BRHOOK_RATIOS_ROLE=bare`), like brhook: neither shares the
//! generator's runtime. brhook is the release binary, driven as a separate process; the
//! bench builds it first (`cargo build --release --bin brhook`) unless BRHOOK_BIN names one.
//! Peak RSS is each child's own (`wait4`'s `ru_maxrss`).
//!
//! Run: cargo bench --bench ratios   (about 3 minutes)
//! Knobs (environment): BRHOOK_RATIOS_QUICK=1 (one round of 3 s, smaller counts: about
//! 40 s), BRHOOK_RATIOS_SECS (D, default 10), BRHOOK_RATIOS_ROUNDS (default 2),
//! BRHOOK_RATIOS_CHECK (N, default 300000), BRHOOK_RATIOS_SEND_SMALL / _BIG (events,
//! default 20000 / 200000), BRHOOK_BIN (a brhook binary to drive instead of building one),
//! BRHOOK_RATIOS_KEEP=1 (keep the scratch directory and say where).

use base64::Engine;
mod support;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Full};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use std::io::{BufRead, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const EVENTS: [&str; 4] = ["SessionStarted", "FileOpening", "FileClosed", "SessionEnded"];
const UA: &str = "BililiveRecorder/2.17.3";
/// Connections of the load generator (the issue measured with `wrk -t2 -c32`), and the
/// concurrency of `send load`.
const CONNS: usize = 32;
const GEN_THREADS: usize = 2;

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn manifest(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
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

/// Request `i` of stream `stream`: a realistic body of its own.
fn body(t: &[String], stream: u64, i: u64) -> String {
    let eid = format!("{stream:08x}-0000-4000-8000-{i:012x}");
    let sid = format!("{stream:08x}-0000-4000-9000-{:012x}", i / 4);
    t[(i % 4) as usize]
        .replace("@EID@", &eid)
        .replace("@SID@", &sid)
        .replace("@N@", &format!("{stream}-{}", i / 4))
}

// ---------------------------------------------------------------------------------------
// The bare server (its own process)

/// A bare hyper 1.x HTTP/1.1 server that reads each body whole and answers 204: the same
/// hyper and tokio as brhook, and nothing else. Prints its port, serves until killed.
fn bare_main() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        println!("PORT {}", listener.local_addr().expect("addr").port());
        std::io::stdout().flush().ok();
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let _ = stream.set_nodelay(true);
            tokio::spawn(async move {
                let svc = service_fn(|req: hyper::Request<hyper::body::Incoming>| async move {
                    let _ = req.into_body().collect().await;
                    Ok::<_, std::convert::Infallible>(
                        hyper::Response::builder()
                            .status(204)
                            .body(Empty::<Bytes>::new())
                            .expect("response builds"),
                    )
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .keep_alive(true)
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
}

// ---------------------------------------------------------------------------------------
// Children

/// Waits for a child and returns its exit code and its own peak RSS in MiB.
fn wait_peak(child: Child) -> (i32, f64) {
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: `rusage` is plain data; wait4 fills it for this child only.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(r, pid, "wait4 failed");
    // The child was reaped here: `Child`'s own drop does not wait, so nothing else does.
    drop(child);
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        -1
    };
    (code, usage.ru_maxrss as f64 / 1024.0)
}

fn interrupt(child: &Child) {
    // SAFETY: a signal to our own child.
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGINT) };
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

/// Waits until something accepts on `port` (a child that has started serving).
fn wait_listening(port: u16, child: &mut Child, what: &str) {
    let start = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if let Ok(Some(s)) = child.try_wait() {
            panic!("{what} exited before serving: {s}");
        }
        assert!(start.elapsed() < Duration::from_secs(20), "{what} never listened");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn count_lines(path: &Path) -> u64 {
    let f = std::fs::File::open(path).expect("output file");
    std::io::BufReader::new(f).split(b'\n').count() as u64
}

// ---------------------------------------------------------------------------------------
// The load generator

#[derive(Debug, Clone, Copy, Default)]
struct Load {
    requests: u64,
    secs: f64,
    p50_ms: f64,
    p99_ms: f64,
    errors: u64,
}

impl Load {
    fn rate(&self) -> f64 {
        self.requests as f64 / self.secs
    }
}

/// CONNS keep-alive connections to `addr`, each sending its next request as soon as the
/// answer is read, for `secs`. A connection that fails is counted and made again.
fn generate(rt: &tokio::runtime::Runtime, addr: SocketAddr, path: &str, secs: f64, t: &[String]) -> Load {
    let start = Instant::now();
    let end = start + Duration::from_secs_f64(secs);
    let results = rt.block_on(async {
        let mut set = tokio::task::JoinSet::new();
        for c in 0..CONNS {
            let (t, path) = (t.to_vec(), path.to_string());
            set.spawn(async move {
                // Each connection its own stream of ids (each capture is a fresh journal).
                let stream = c as u64 + 1;
                let (mut lat, mut errors, mut i) = (Vec::with_capacity(1 << 16), 0u64, 0u64);
                'conn: while Instant::now() < end {
                    let Ok(s) = tokio::net::TcpStream::connect(addr).await else {
                        errors += 1;
                        tokio::time::sleep(Duration::from_millis(10)).await;
                        continue;
                    };
                    let _ = s.set_nodelay(true);
                    let Ok((mut send, conn)) =
                        hyper::client::conn::http1::handshake::<_, Full<Bytes>>(TokioIo::new(s)).await
                    else {
                        errors += 1;
                        continue;
                    };
                    let task = tokio::spawn(conn);
                    while Instant::now() < end {
                        let b = body(&t, stream, i);
                        i += 1;
                        let req = hyper::Request::post(path.as_str())
                            .header("host", addr.to_string())
                            .header("content-type", "application/json")
                            .header("user-agent", UA)
                            .body(Full::new(Bytes::from(b)))
                            .expect("request builds");
                        let sent = Instant::now();
                        let ok = match send.send_request(req).await {
                            Ok(resp) => {
                                let ok = resp.status().is_success();
                                ok && resp.into_body().collect().await.is_ok()
                            }
                            Err(_) => false,
                        };
                        if !ok {
                            errors += 1;
                            task.abort();
                            continue 'conn;
                        }
                        lat.push(sent.elapsed().as_micros() as u32);
                    }
                    task.abort();
                }
                (lat, errors)
            });
        }
        let mut all = Vec::new();
        while let Some(r) = set.join_next().await {
            all.push(r.expect("connection task"));
        }
        all
    });
    let secs = start.elapsed().as_secs_f64();
    let errors = results.iter().map(|r| r.1).sum();
    let mut lat: Vec<u32> = results.into_iter().flat_map(|r| r.0).collect();
    lat.sort_unstable();
    let pct = |p: f64| -> f64 {
        if lat.is_empty() {
            return f64::NAN;
        }
        lat[((lat.len() - 1) as f64 * p) as usize] as f64 / 1000.0
    };
    Load {
        requests: lat.len() as u64,
        secs,
        p50_ms: pct(0.5),
        p99_ms: pct(0.99),
        errors,
    }
}

// ---------------------------------------------------------------------------------------
// The figures

struct Bench {
    bin: PathBuf,
    dir: PathBuf,
    t: Vec<String>,
    rt: tokio::runtime::Runtime,
    bare: SocketAddr,
    secs: f64,
}

/// A capture run (listen or proxy) under the generator: its load, its stdout lines, its
/// peak RSS.
struct Captured {
    load: Load,
    lines: u64,
    peak_mib: f64,
    code: i32,
}

impl Bench {
    fn capture(&self, tag: &str, args: &[String]) -> Captured {
        let port = free_port();
        let out = self.dir.join(format!("{tag}.out"));
        let err = self.dir.join(format!("{tag}.err"));
        let mut child = Command::new(&self.bin)
            .args(args)
            .args(["--bind", &format!("127.0.0.1:{port}"), "--quiet-window", "1"])
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&out).expect("stdout file"))
            .stderr(std::fs::File::create(&err).expect("stderr file"))
            .spawn()
            .expect("brhook runs");
        wait_listening(port, &mut child, tag);
        let addr: SocketAddr = ([127, 0, 0, 1], port).into();
        let load = generate(&self.rt, addr, "/a", self.secs, &self.t);
        interrupt(&child);
        let (code, peak_mib) = wait_peak(child);
        Captured {
            load,
            lines: count_lines(&out),
            peak_mib,
            code,
        }
    }

    fn listen(&self, round: usize) -> Captured {
        let j = self.dir.join(format!("listen-{round}.jsonl"));
        let args = ["listen", "--url", "a", "--journal"].map(String::from);
        let mut args = args.to_vec();
        args.push(j.display().to_string());
        let c = self.capture(&format!("listen-{round}"), &args);
        std::fs::remove_file(j).ok();
        c
    }

    fn proxy(&self, round: usize) -> Captured {
        let j = self.dir.join(format!("proxy-{round}.jsonl"));
        let args = vec![
            "proxy".to_string(),
            "--to".into(),
            format!("a=http://{}/a", self.bare),
            "--journal".into(),
            j.display().to_string(),
        ];
        let c = self.capture(&format!("proxy-{round}"), &args);
        std::fs::remove_file(j).ok();
        c
    }

    /// `brhook send load`: its own answers/s (the sending phase, from its report), its
    /// wall time and peak RSS.
    fn send(&self, events: u64) -> (f64, f64, f64) {
        let start = Instant::now();
        let child = Command::new(&self.bin)
            .args(["send", "load", "--concurrency", &CONNS.to_string(), "--events"])
            .arg(events.to_string())
            .arg("--to")
            .arg(format!("http://{}/a", self.bare))
            .args(["--format", "json"])
            .env("NO_COLOR", "1")
            .stdout(std::fs::File::create(self.dir.join("send.out")).expect("stdout file"))
            .stderr(Stdio::null())
            .spawn()
            .expect("brhook runs");
        let (_, peak) = wait_peak(child);
        let wall = start.elapsed().as_secs_f64();
        let text = std::fs::read_to_string(self.dir.join("send.out")).unwrap_or_default();
        let rate = answers_per_second(&text).unwrap_or_else(|| {
            panic!(
                "send load reported no answers/s:\n{}",
                &text[..text.len().min(2000)]
            )
        });
        (rate, wall, peak)
    }

    /// Writes a closed journal of `n` realistic requests as listen records them.
    fn journal(&self, n: u64) -> PathBuf {
        let path = self.dir.join("check.jsonl");
        let mut w = support::listen_journal(&path);
        for i in 0..n {
            let body = body(&self.t, 1, i);
            let len = body.len().to_string();
            let headers = [
                ("host", "127.0.0.1:8080"),
                ("content-type", "application/json"),
                ("user-agent", UA),
                ("content-length", &len),
            ];
            let r = support::answered(i + 1, 32, &headers, body);
            w.request(&r).expect("journal line written");
        }
        w.close(n as f64 * 0.05 + 5000.0, 5000.0).expect("close line");
        path
    }

    fn check(&self, journal: &Path) -> (f64, f64, i32) {
        let start = Instant::now();
        let child = Command::new(&self.bin)
            .arg("check")
            .arg(journal)
            .env("NO_COLOR", "1")
            .stdout(std::fs::File::create(self.dir.join("check.out")).expect("stdout file"))
            .stderr(Stdio::null())
            .spawn()
            .expect("brhook runs");
        let (code, peak) = wait_peak(child);
        (start.elapsed().as_secs_f64(), peak, code)
    }
}

/// The floor of `check`: one thread reads every journal line, parses it with serde_json,
/// and parses its body (base64 in the line) too. Returns seconds and the lines parsed.
fn floor(journal: &Path) -> (f64, u64) {
    let start = Instant::now();
    let f = std::fs::File::open(journal).expect("journal");
    let mut n = 0u64;
    for line in std::io::BufReader::with_capacity(1 << 16, f).lines() {
        let line = line.expect("line");
        let v: serde_json::Value = serde_json::from_str(&line).expect("journal line is JSON");
        if let Some(b) = v.get("body").and_then(|b| b.as_str()) {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(b)
                .expect("base64 body");
            let body: serde_json::Value = serde_json::from_slice(&bytes).expect("body is JSON");
            std::hint::black_box(body);
            n += 1;
        }
    }
    (start.elapsed().as_secs_f64(), n)
}

/// `… 12345.6 answers/s` in send's report.
fn answers_per_second(text: &str) -> Option<f64> {
    let at = text.find(" answers/s")?;
    let head = &text[..at];
    let num = head.rsplit(|c: char| !(c.is_ascii_digit() || c == '.')).next()?;
    num.parse().ok()
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len().max(1) as f64
}

fn met(ok: bool) -> &'static str {
    if ok {
        "met"
    } else {
        "**not met**"
    }
}

fn build_binary() -> PathBuf {
    if let Some(b) = std::env::var_os("BRHOOK_BIN") {
        return PathBuf::from(b);
    }
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    println!("building the release binary (cargo build --release --bin brhook) …");
    let ok = Command::new(cargo)
        .args(["build", "--release", "--bin", "brhook"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .status()
        .expect("cargo runs")
        .success();
    assert!(ok, "cargo build --release failed");
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| manifest("target"));
    target.join("release/brhook")
}

fn main() {
    if std::env::var("BRHOOK_RATIOS_ROLE").as_deref() == Ok("bare") {
        return bare_main();
    }
    let quick = std::env::var_os("BRHOOK_RATIOS_QUICK").is_some();
    let secs: f64 = env_or("BRHOOK_RATIOS_SECS", if quick { 3.0 } else { 10.0 });
    let rounds: usize = env_or("BRHOOK_RATIOS_ROUNDS", if quick { 1 } else { 2 });
    let check_n: u64 = env_or("BRHOOK_RATIOS_CHECK", if quick { 50_000 } else { 300_000 });
    let small: u64 = env_or("BRHOOK_RATIOS_SEND_SMALL", if quick { 5_000 } else { 20_000 });
    let big: u64 = env_or("BRHOOK_RATIOS_SEND_BIG", if quick { 50_000 } else { 200_000 });
    let keep = std::env::var_os("BRHOOK_RATIOS_KEEP").is_some();
    let bin = build_binary();
    assert!(bin.exists(), "no brhook binary at {}", bin.display());
    let dir = std::env::temp_dir().join(format!("brhook-ratios-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch dir");

    // The bare server: this bench again, in its own process.
    let mut bare_child = Command::new(std::env::current_exe().expect("own path"))
        .env("BRHOOK_RATIOS_ROLE", "bare")
        .stdout(Stdio::piped())
        .spawn()
        .expect("bare server runs");
    let mut first = String::new();
    std::io::BufReader::new(bare_child.stdout.take().expect("piped"))
        .read_line(&mut first)
        .expect("bare server prints its port");
    let port: u16 = first
        .trim()
        .strip_prefix("PORT ")
        .and_then(|p| p.parse().ok())
        .expect("PORT line");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(GEN_THREADS)
        .enable_all()
        .build()
        .expect("runtime");
    let b = Bench {
        bin,
        dir: dir.clone(),
        t: templates(),
        rt,
        bare: ([127, 0, 0, 1], port).into(),
        secs,
    };
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!(
        "machine: {cores} cores; binary {}; generator: {GEN_THREADS} threads, {CONNS} keep-alive connections, \
         in this process; bare server, brhook: their own processes; loopback; {rounds} round(s) of {secs} s",
        b.bin.display()
    );
    generate(&b.rt, b.bare, "/a", 1.0, &b.t); // warm-up

    // a, b, e: bare, listen, proxy, interleaved.
    let (mut bare, mut listen, mut proxy) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..rounds {
        let d = generate(&b.rt, b.bare, "/a", secs, &b.t);
        println!(
            "round {}: bare   {:>8.0} req/s  p50 {:.2} ms  p99 {:.2} ms  errors {}",
            round + 1,
            d.rate(),
            d.p50_ms,
            d.p99_ms,
            d.errors
        );
        let l = b.listen(round);
        println!(
            "round {}: listen {:>8.0} req/s  p50 {:.2} ms  p99 {:.2} ms  errors {}  ratio {:.3}; {} lines printed, peak {:.0} MiB, exit {}",
            round + 1,
            l.load.rate(),
            l.load.p50_ms,
            l.load.p99_ms,
            l.load.errors,
            l.load.rate() / d.rate(),
            l.lines,
            l.peak_mib,
            l.code
        );
        let p = b.proxy(round);
        println!(
            "round {}: proxy  {:>8.0} req/s  p50 {:.2} ms  p99 {:.2} ms  errors {}  ratio {:.3}, p50 +{:.2} ms; {} lines, peak {:.0} MiB, exit {}",
            round + 1,
            p.load.rate(),
            p.load.p50_ms,
            p.load.p99_ms,
            p.load.errors,
            p.load.rate() / d.rate(),
            p.load.p50_ms - d.p50_ms,
            p.lines,
            p.peak_mib,
            p.code
        );
        bare.push(d);
        listen.push(l);
        proxy.push(p);
    }

    // c: the generator against bare vs send load against bare, interleaved; then the
    // memory pair.
    let (mut gen_rates, mut send_rates) = (Vec::new(), Vec::new());
    let mut small_peak = f64::NAN;
    for round in 0..rounds {
        let g = generate(&b.rt, b.bare, "/a", secs, &b.t);
        let (rate, wall, peak) = b.send(small);
        small_peak = if small_peak.is_nan() {
            peak
        } else {
            small_peak.max(peak)
        };
        println!(
            "round {}: generator {:>8.0} req/s | send load ({small} events) {:>8.0} answers/s, {wall:.1} s wall, peak {peak:.0} MiB | ratio {:.3}",
            round + 1,
            g.rate(),
            rate,
            rate / g.rate()
        );
        gen_rates.push(g.rate());
        send_rates.push(rate);
    }
    let (big_rate, big_wall, big_peak) = b.send(big);
    println!(
        "send load ({big} events): {big_rate:.0} answers/s, {big_wall:.1} s wall, peak {big_peak:.0} MiB"
    );

    // d: check vs the floor, interleaved.
    let t = Instant::now();
    let journal = b.journal(check_n);
    let mib = std::fs::metadata(&journal).map_or(0.0, |m| m.len() as f64 / 1048576.0);
    println!(
        "generated {check_n} requests ({mib:.0} MiB) in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    let (mut floors, mut checks, mut check_peak) = (Vec::new(), Vec::new(), 0f64);
    for round in 0..rounds {
        let (f, n) = floor(&journal);
        assert_eq!(n, check_n, "the floor parsed every request");
        let (c, peak, code) = b.check(&journal);
        check_peak = check_peak.max(peak);
        println!(
            "round {}: floor {f:.2} s ({:.0} req/s) | check {c:.2} s ({:.0} req/s), peak {peak:.0} MiB, exit {code} | ratio {:.3} (time {:.2}× the floor's)",
            round + 1,
            n as f64 / f,
            n as f64 / c,
            f / c,
            c / f
        );
        floors.push(f);
        checks.push(c);
    }

    // Done: the bare server goes (it is ours), the scratch too.
    let _ = bare_child.kill();
    let _ = bare_child.wait();
    if keep {
        println!("scratch kept in {}", dir.display());
    } else {
        std::fs::remove_dir_all(&dir).ok();
    }

    let rate = |v: &[Load]| mean(&v.iter().map(Load::rate).collect::<Vec<_>>());
    let p50 = |v: &[Load]| mean(&v.iter().map(|l| l.p50_ms).collect::<Vec<_>>());
    let loads = |v: &[Captured]| v.iter().map(|c| c.load).collect::<Vec<_>>();
    let (bare_r, listen_r, proxy_r) = (rate(&bare), rate(&loads(&listen)), rate(&loads(&proxy)));
    let (bare_p, listen_p, proxy_p) = (p50(&bare), p50(&loads(&listen)), p50(&loads(&proxy)));
    let (gen_r, send_r) = (mean(&gen_rates), mean(&send_rates));
    let (floor_s, check_s) = (mean(&floors), mean(&checks));
    let lines = listen.iter().map(|c| c.lines).max().unwrap_or(0);
    println!();
    println!("| figure | brhook | baseline | ratio | target | |");
    println!("|---|---:|---:|---:|---|---|");
    println!(
        "| a. `listen --url a --journal F` req/s (p50) | {listen_r:.0} ({listen_p:.2} ms) | bare {bare_r:.0} ({bare_p:.2} ms) | **{:.3}** | ≥ 0.8 | {} |",
        listen_r / bare_r,
        met(listen_r / bare_r >= 0.8)
    );
    println!(
        "| b. `proxy --to a=BARE` req/s (p50) | {proxy_r:.0} ({proxy_p:.2} ms) | bare {bare_r:.0} ({bare_p:.2} ms) | **{:.3}**, p50 +{:.2} ms | ≥ 0.7, ≤ +0.5 ms | {} |",
        proxy_r / bare_r,
        proxy_p - bare_p,
        met(proxy_r / bare_r >= 0.7 && proxy_p - bare_p <= 0.5)
    );
    println!(
        "| c. `send load --concurrency {CONNS}` answers/s | {send_r:.0} | generator {gen_r:.0} | **{:.3}** | ≥ 0.5 | {} |",
        send_r / gen_r,
        met(send_r / gen_r >= 0.5)
    );
    println!(
        "| c. `send load` peak RSS, {small} → {big} events | {small_peak:.0} → {big_peak:.0} MiB | | +{:.0} MiB | ≤ +20 MB | {} |",
        big_peak - small_peak,
        met((big_peak - small_peak) * 1.048576 <= 20.0)
    );
    println!(
        "| d. `check` of {check_n} requests | {check_s:.2} s ({:.0} req/s, peak {check_peak:.0} MiB) | floor {floor_s:.2} s | **{:.3}** ({:.2}× the time) | ≥ 0.6 | {} |",
        check_n as f64 / check_s,
        floor_s / check_s,
        check_s / floor_s,
        met(floor_s / check_s >= 0.6)
    );
    println!(
        "| e. lines `listen` printed in {secs} s at full load, report included | {lines} | | | < 130 | {} |",
        met(lines < 130)
    );
}
