//! `brhook proxy` as a service, end to end through the binary: it runs until stopped,
//! its journal survives restarts, rotation and logrotate's SIGHUP, its scratch files
//! leave nothing behind, it reports while it runs, and a full disk never stops the
//! forwarding. Every wait is on a condition (a line printed, a file written), with
//! generous deadlines: this machine is slow and shared.

mod common;
use common::BIN;

use bytes::Bytes;
use http_body_util::Empty;
use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A receiver answering 204 to everything, counting what it got.
struct Receiver {
    addr: SocketAddr,
    got: Arc<AtomicU64>,
    _rt: tokio::runtime::Runtime,
}

fn receiver() -> Receiver {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let got = Arc::new(AtomicU64::new(0));
    let counted = got.clone();
    let addr = rt.block_on(common::serve(move |_req| {
        let counted = counted.clone();
        async move {
            counted.fetch_add(1, Ordering::SeqCst);
            Ok::<_, hyper::Error>(
                hyper::Response::builder()
                    .status(204)
                    .body(Empty::<Bytes>::new())
                    .unwrap(),
            )
        }
    }));
    Receiver { addr, got, _rt: rt }
}

/// A running `brhook proxy` child: its URL base, and its stderr lines as they come.
struct Running {
    child: Child,
    base: String,
    /// `--metrics`' address, as the banner names it.
    metrics: Option<String>,
    stdout: std::sync::mpsc::Receiver<String>,
    stderr: std::sync::mpsc::Receiver<String>,
}

/// Every line of `r`, sent as it is read.
fn lines_of(r: impl Read + Send + 'static) -> std::sync::mpsc::Receiver<String> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for l in BufReader::new(r).lines().map_while(Result::ok) {
            if tx.send(l).is_err() {
                return;
            }
        }
    });
    rx
}

/// Starts `brhook proxy --to hook=RECEIVER ARGS…` and waits for its address.
fn proxy(rx: &Receiver, args: &[&str], pre: impl FnOnce(&mut Command)) -> Running {
    let mut cmd = Command::new(BIN);
    cmd.args(["proxy", "--to", &format!("hook=http://{}/webhook", rx.addr)])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    pre(&mut cmd);
    let mut child = cmd.spawn().expect("brhook runs");
    let stdout = lines_of(child.stdout.take().unwrap());
    let stderr = lines_of(child.stderr.take().unwrap());
    let deadline = Instant::now() + Duration::from_secs(60);
    let title = loop {
        let l = stdout
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .expect("the proxy prints its address");
        if l.starts_with("brhook proxy listening on ") {
            break l;
        }
    };
    // "brhook proxy listening on http://A:P: …; metrics on http://M/metrics, …"
    let after = |marker: &str| {
        let rest = &title[title.find(marker)? + marker.len()..];
        let addr: String = rest
            .chars()
            .take_while(|c| c.is_ascii_digit() || *c == '.' || *c == ':')
            .collect();
        Some(addr.trim_end_matches(':').to_string())
    };
    let base = format!("http://{}", after("listening on http://").expect("an address"));
    let metrics = after("metrics on http://");
    // Up to the banner's last line: the service loop's signal handlers are installed.
    let deadline = Instant::now() + Duration::from_secs(60);
    while !stdout
        .recv_timeout(deadline.saturating_duration_since(Instant::now()))
        .expect("the banner ends")
        .starts_with("Waiting for requests")
    {}
    Running {
        child,
        base,
        metrics,
        stdout,
        stderr,
    }
}

/// A SessionStarted body with its own EventId and SessionId.
fn body() -> String {
    let id = uuid::Uuid::new_v4();
    let session = uuid::Uuid::new_v4();
    format!(
        r#"{{"EventType":"SessionStarted","EventTimestamp":"2021-05-14T17:52:44.4960899+08:00","EventId":"{id}","EventData":{{"SessionId":"{session}","RoomId":23058,"ShortId":3,"Name":"n","Title":"t","AreaNameParent":"p","AreaNameChild":"c","Recording":true,"Streaming":true,"DanmakuConnected":true}}}}"#
    )
}

/// POSTs one event as the real sender does (on a connection of its own); the status.
fn post(base: &str, path: &str) -> u16 {
    let addr = base.trim_start_matches("http://");
    let body = body();
    let mut s = TcpStream::connect(addr).expect("the proxy accepts");
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    write!(
        s,
        "POST /{path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json; charset=utf-8\r\nUser-Agent: BililiveRecorder/2.17.3\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut answer = String::new();
    let _ = s.read_to_string(&mut answer);
    answer
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0)
}

/// GETs `path` from `addr` (HTTP/1.1, closed after): the status and the body.
fn get(addr: &str, path: &str) -> (u16, String) {
    let mut s = TcpStream::connect(addr).expect("the metrics server accepts");
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    let _ = s.read_to_string(&mut answer);
    let status = answer
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = answer.split_once("\r\n\r\n").map_or("", |(_, b)| b).to_string();
    (status, body)
}

fn signal(child: &Child, sig: &str) {
    let ok = Command::new("kill")
        .args([&format!("-{sig}"), &child.id().to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok, "kill -{sig}");
}

/// Stops the proxy with SIGTERM; its exit code, stdout and stderr after the banner.
fn stop(mut r: Running) -> (i32, String, String) {
    signal(&r.child, "TERM");
    let status = r.child.wait().unwrap();
    // Read to the end: the readers end at the pipes' EOF.
    let out: Vec<String> = r.stdout.iter().collect();
    let err: Vec<String> = r.stderr.iter().collect();
    (status.code().unwrap_or(-1), out.join("\n"), err.join("\n"))
}

/// Waits until `f` holds (at most a minute).
fn until(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// `brhook check ARGS… --format json`: exit code, report, stderr.
fn check(args: &[&str]) -> (i32, Value, String) {
    let out = Command::new(BIN)
        .arg("check")
        .args(args)
        .args(["--format", "json"])
        .output()
        .unwrap();
    let report = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (
        out.status.code().unwrap_or(-1),
        report,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The request numbers of every request line in these files.
fn seqs(files: &[PathBuf]) -> Vec<u64> {
    let mut out = Vec::new();
    for f in files {
        for l in std::fs::read_to_string(f).unwrap().lines() {
            let v: Value = serde_json::from_str(l).unwrap();
            if v["type"] == "request" {
                out.push(v["seq"].as_u64().unwrap());
            }
        }
    }
    out
}

fn subject(report: &Value) -> String {
    report["subject"].as_str().unwrap_or_default().to_string()
}

#[test]
fn the_proxy_has_no_time_limit_by_default_and_the_ci_flags_still_end_it() {
    let rx = receiver();
    // The default: no window at all. Idle longer than --until-quiet's window below and
    // listen's CI window would have allowed for a quiet capture, then it forwards.
    let run = proxy(&rx, &["--quiet-output"], |_| {});
    std::thread::sleep(Duration::from_secs(3));
    assert!(run.child.id() > 0);
    assert_eq!(post(&run.base, "hook"), 204, "still forwarding after idling");
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(post(&run.base, "hook"), 204);
    let (code, out, err) = stop(run);
    assert_eq!(rx.got.load(Ordering::SeqCst), 2);
    assert!(code == 0 || code == 1, "{code} {err}");
    assert!(!err.contains("--max-wait"), "no time limit ended it: {err}");
    assert!(out.contains("2 requests") || out.contains("2 events"), "{out}");
    // --max-wait is for CI: it still ends the capture.
    let run = proxy(
        &rx,
        &["--quiet-output", "--max-wait", "1", "--quiet-window", "0.2"],
        |_| {},
    );
    let mut child = run.child;
    let status = child.wait().unwrap();
    assert!(status.code().is_some(), "ended on its own");
    let err: Vec<String> = run.stderr.iter().collect();
    assert!(err.join("\n").contains("--max-wait 1 s"), "{err:?}");
    // --help says it runs until stopped.
    let (_, help, _) = common::brhook(&["proxy", "--help"]);
    let help = help.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        help.contains("none for `proxy`, which runs until Ctrl-C or SIGTERM"),
        "{help}"
    );
}

#[test]
fn a_restart_appends_a_run_numbers_stay_unique_and_a_killed_run_is_told() {
    let rx = receiver();
    let dir = common::dir("restart");
    let j = dir.join("prod.jsonl");
    let args = ["--quiet-output", "--journal", s(&j)];
    // Run 1: killed (SIGKILL): no close line.
    let mut run = proxy(&rx, &args, |_| {});
    for _ in 0..3 {
        assert_eq!(post(&run.base, "hook"), 204);
    }
    run.child.kill().unwrap();
    run.child.wait().unwrap();
    // A kill mid-write leaves a torn line: the next run keeps its bytes in its meta line.
    std::fs::OpenOptions::new()
        .append(true)
        .open(&j)
        .unwrap()
        .write_all(br#"{"type":"request","seq":99,"#)
        .unwrap();
    // Run 2 goes on with the same journal, and says the last run was killed.
    let run = proxy(&rx, &args, |_| {});
    for _ in 0..2 {
        assert_eq!(post(&run.base, "hook"), 204);
    }
    let (code, _out, err) = stop(run);
    assert!(code == 0 || code == 1, "{err}");
    assert!(err.contains("WITHOUT its close line"), "{err}");
    assert!(err.contains("requests from #4 on"), "{err}");
    // Run 3 after a clean stop.
    let run = proxy(&rx, &args, |_| {});
    assert_eq!(post(&run.base, "hook"), 204);
    let (_, out, err) = stop(run);
    assert!(err.contains("the run before ended with its close line"), "{err}");
    assert!(out.contains("3 runs"), "the live report judged every run: {out}");
    // One file, three runs, request numbers 1 to 6 once each.
    let mut all = seqs(std::slice::from_ref(&j));
    all.sort();
    assert_eq!(all, vec![1, 2, 3, 4, 5, 6]);
    let text = std::fs::read_to_string(&j).unwrap();
    let metas: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|v| v["type"] == "meta")
        .collect();
    assert_eq!(metas.len(), 3);
    assert_eq!(metas[1]["segment"]["after"]["ended"], "killed");
    assert!(
        metas[1]["segment"]["after"]["torn"].is_string(),
        "the torn bytes are kept"
    );
    assert_eq!(metas[2]["segment"]["after"]["ended"], "closed");
    // The clock goes on: every arrival of run 2 is after every one of run 1.
    let times: Vec<f64> = text
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|v| v["type"] == "request")
        .map(|v| v["at_ms"].as_f64().unwrap())
        .collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");
    // check judges all runs as one capture and says which one was killed.
    let (_, report, err) = check(&[s(&j)]);
    assert!(subject(&report).contains("6 requests"), "{report}");
    assert!(
        err.contains("3 runs") && err.contains("ended without its close line"),
        "{err}"
    );
    assert!(subject(&report).contains("run 1"), "{report}");
}

#[test]
fn a_rotated_journal_is_judged_as_one_set_by_files_glob_or_directory() {
    let rx = receiver();
    let dir = common::dir("rotate");
    let j = dir.join("prod.jsonl");
    // About two requests per file.
    let run = proxy(
        &rx,
        &[
            "--quiet-output",
            "--journal",
            s(&j),
            "--journal-max-size",
            "3kB",
            "--journal-keep",
            "50",
        ],
        |_| {},
    );
    for _ in 0..12 {
        assert_eq!(post(&run.base, "hook"), 204);
    }
    let (code, out, err) = stop(run);
    assert!(code == 0 || code == 1, "{err}");
    assert!(
        out.contains("12 requests"),
        "the live judge followed every file: {out}"
    );
    let mut files = brhook::testkit::journal::rotated_set(&j);
    assert!(files.len() >= 4, "rotated: {files:?}");
    for f in &files {
        assert!(std::fs::metadata(f).unwrap().len() < 6000, "{f:?} is bounded");
    }
    let mut all = seqs(&files);
    all.sort();
    assert_eq!(all, (1..=12).collect::<Vec<_>>(), "nothing lost, nothing twice");
    // In any order given, by name, glob or directory: one capture of 12 requests.
    files.reverse();
    let names: Vec<&str> = files.iter().map(|f| s(f)).collect();
    let (_, by_files, err) = check(&names);
    assert!(subject(&by_files).contains("12 requests"), "{by_files} {err}");
    assert!(err.contains("as one capture"), "{err}");
    let glob = format!("{}*", s(&j));
    let (_, by_glob, _) = check(&[&glob]);
    let (_, by_dir, _) = check(&[s(&dir)]);
    assert_eq!(by_glob["subject"], by_files["subject"]);
    assert_eq!(by_dir["subject"], by_files["subject"]);
    assert_eq!(by_dir["verdict"], by_files["verdict"]);
    // The newest file alone is only part of it.
    let (_, part, _) = check(&[s(&j)]);
    assert!(!subject(&part).contains("12 requests"), "{part}");
    // Keep bounds the disk: with --journal-keep 2, at most FILE, FILE.1, FILE.2.
    let j2 = dir.join("kept.jsonl");
    let run = proxy(
        &rx,
        &[
            "--quiet-output",
            "--journal",
            s(&j2),
            "--journal-max-size",
            "3kB",
            "--journal-keep",
            "2",
        ],
        |_| {},
    );
    for _ in 0..12 {
        assert_eq!(post(&run.base, "hook"), 204);
    }
    stop(run);
    assert_eq!(brhook::testkit::journal::rotated_set(&j2).len(), 3);
    assert!(!brhook::testkit::journal::numbered(&j2, 3).exists());
}

#[test]
fn sighup_after_logrotate_moved_the_journal_goes_on_in_a_new_file_and_loses_nothing() {
    let rx = receiver();
    let dir = common::dir("sighup");
    let j = dir.join("prod.jsonl");
    let moved = dir.join("prod.jsonl.1");
    let mut run = proxy(&rx, &["--quiet-output", "--journal", s(&j)], |_| {});
    for _ in 0..3 {
        assert_eq!(post(&run.base, "hook"), 204);
    }
    // logrotate: mv, then SIGHUP. A request between the two still lands in the old file.
    std::fs::rename(&j, &moved).unwrap();
    assert_eq!(post(&run.base, "hook"), 204);
    signal(&run.child, "HUP");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let l = run
            .stderr
            .recv_timeout(deadline - Instant::now())
            .expect("SIGHUP is told");
        if l.contains("SIGHUP") {
            assert!(l.contains("reopened"), "{l}");
            break;
        }
    }
    assert!(j.exists(), "a new file at the journal's path");
    for _ in 0..2 {
        assert_eq!(post(&run.base, "hook"), 204);
    }
    // SIGHUP changed nothing else: still running, still forwarding.
    assert!(run.child.try_wait().unwrap().is_none());
    let (code, out, err) = stop(run);
    assert!(code == 0 || code == 1, "{err}");
    assert!(
        out.contains("6 requests"),
        "the live judge followed into the new file: {out}"
    );
    assert_eq!(seqs(std::slice::from_ref(&moved)), vec![1, 2, 3, 4]);
    assert_eq!(
        seqs(std::slice::from_ref(&j)),
        vec![5, 6],
        "new lines in the new file"
    );
    let (_, both, _) = check(&[s(&moved), s(&j)]);
    assert!(subject(&both).contains("6 requests"), "{both}");
}

#[test]
fn sigkill_leaves_nothing_in_the_tmp_dir() {
    let rx = receiver();
    let tmp = common::dir("tmpdir");
    // No --journal: the temporary journal and the judge's scratch file both go there.
    let mut run = proxy(&rx, &["--quiet-output", "--tmp-dir", s(&tmp)], |_| {});
    for _ in 0..5 {
        assert_eq!(post(&run.base, "hook"), 204);
    }
    let listed = || std::fs::read_dir(&tmp).unwrap().count();
    assert_eq!(listed(), 0, "unlinked as soon as opened, even while running");
    run.child.kill().unwrap();
    run.child.wait().unwrap();
    assert_eq!(listed(), 0, "SIGKILL leaves nothing behind");
    // A stopped run's report still judged every request (read through the open files).
    let run = proxy(&rx, &["--quiet-output", "--tmp-dir", s(&tmp)], |_| {});
    for _ in 0..3 {
        assert_eq!(post(&run.base, "hook"), 204);
    }
    let (_, out, _) = stop(run);
    assert!(out.contains("3 requests"), "{out}");
    assert_eq!(listed(), 0);
    let (code, _, err) = common::brhook(&[
        "proxy",
        "--to",
        "a=http://127.0.0.1:1/",
        "--tmp-dir",
        "/nonexistent/dir",
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("--tmp-dir"), "{err}");
}

#[test]
fn report_every_rewrites_the_reports_atomically_and_sigusr1_does_it_once() {
    let rx = receiver();
    let dir = common::dir("report-every");
    let json = dir.join("report.json");
    let junit = dir.join("report.xml");
    let run = proxy(
        &rx,
        &[
            "--quiet-output",
            "--report-every",
            "200ms",
            "--report-json",
            s(&json),
            "--junit",
            s(&junit),
        ],
        |_| {},
    );
    // A reader polling the file never sees half of one: every read is whole JSON.
    let reads = Arc::new(AtomicU64::new(0));
    let stop_reading = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let reader = {
        let (json, reads, stop_reading) = (json.clone(), reads.clone(), stop_reading.clone());
        std::thread::spawn(move || {
            while !stop_reading.load(Ordering::SeqCst) {
                if let Ok(text) = std::fs::read_to_string(&json) {
                    let v: Value = serde_json::from_str(&text)
                        .unwrap_or_else(|e| panic!("a half-written report: {e}: {text:?}"));
                    assert!(v["verdict"].is_string());
                    reads.fetch_add(1, Ordering::SeqCst);
                }
            }
        })
    };
    let subject_now = || {
        std::fs::read_to_string(&json)
            .ok()
            .and_then(|t| serde_json::from_str::<Value>(&t).ok())
            .map(|v| subject(&v))
            .unwrap_or_default()
    };
    until("a first report", || json.exists() && junit.exists());
    for _ in 0..3 {
        assert_eq!(post(&run.base, "hook"), 204);
    }
    until("the report to count 3 requests", || {
        subject_now().contains("3 requests")
    });
    assert!(std::fs::read_to_string(&junit).unwrap().contains("<testsuites"));
    stop_reading.store(true, Ordering::SeqCst);
    reader.join().expect("every read was whole JSON");
    assert!(reads.load(Ordering::SeqCst) > 10);
    let (_, _, err) = stop(run);
    assert!(!err.contains("could not be judged"), "{err}");
    // SIGUSR1: once, on demand (no period).
    let json2 = dir.join("once.json");
    let run = proxy(&rx, &["--quiet-output", "--report-json", s(&json2)], |_| {});
    assert_eq!(post(&run.base, "hook"), 204);
    std::thread::sleep(Duration::from_millis(300));
    assert!(!json2.exists(), "no report before it is asked for");
    signal(&run.child, "USR1");
    until("the SIGUSR1 report", || json2.exists());
    let v: Value = serde_json::from_str(&std::fs::read_to_string(&json2).unwrap()).unwrap();
    assert!(subject(&v).contains("1 request"), "{v}");
    assert!(run.child.id() > 0);
    stop(run);
    // --report-every needs a file to rewrite.
    let (code, _, err) = common::brhook(&["proxy", "--to", "a=http://127.0.0.1:1/", "--report-every", "1m"]);
    assert_eq!(code, 2);
    assert!(err.contains("--report-json"), "{err}");
}

#[test]
fn live_lines_carry_the_local_time_and_a_new_finding_gets_a_line_of_its_own() {
    let rx = receiver();
    let run = proxy(&rx, &[], |_| {});
    assert_eq!(post(&run.base, "hook"), 204);
    // A stray path: no finding, but a line; then a body that is no JSON: a new finding.
    let addr = run.base.trim_start_matches("http://").to_string();
    let mut st = TcpStream::connect(&addr).unwrap();
    write!(
        st,
        "POST /hook HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json; charset=utf-8\r\nUser-Agent: BililiveRecorder/2.17.3\r\nContent-Length: 5\r\nConnection: close\r\n\r\nnope!"
    )
    .unwrap();
    let mut sink = String::new();
    let _ = st.read_to_string(&mut sink);
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut seen = Vec::new();
    let done = |seen: &[String]| {
        seen.iter()
            .any(|l| l.contains("NEW ") && l.contains("request #2"))
            && seen.iter().any(|l| l.contains("attempt 1/3"))
    };
    while !done(&seen) {
        let l = run.stdout.recv_timeout(deadline - Instant::now());
        seen.push(l.unwrap_or_else(|_| panic!("live lines: {seen:#?}")));
    }
    let (_, _, _) = stop(run);
    let line = seen.iter().find(|l| l.contains("attempt 1/3")).unwrap();
    // `  2026-12-04 13:05:09.123+08:00    +0.123s hook …`
    let stamp: String = line.trim_start().chars().take(29).collect();
    assert!(
        chrono::DateTime::parse_from_str(&stamp, "%Y-%m-%d %H:%M:%S%.3f%:z").is_ok(),
        "{line}"
    );
    assert!(line.contains('s') && line.contains(" +"), "{line}");
    let new = seen
        .iter()
        .find(|l| l.contains("NEW ") && l.contains("request #2"))
        .unwrap();
    assert!(new.contains("fail") && new.contains("at hook"), "{new}");
}

#[test]
fn a_full_disk_never_stops_the_forwarding_and_the_report_counts_what_was_not_recorded() {
    let rx = receiver();
    let dir = common::dir("full-disk");
    let j = dir.join("prod.jsonl");
    // A file size limit of 8 KiB on the child (RLIMIT_FSIZE, as `ulimit -f 8`): the
    // journal fills after a few requests, as on a full disk.
    let args = ["--quiet-output", "--journal", s(&j), "--metrics", "127.0.0.1:0"];
    let run = proxy(&rx, &args, |cmd| {
        use std::os::unix::process::CommandExt;
        // SAFETY: setrlimit is async-signal-safe; it only reads the struct.
        unsafe {
            cmd.pre_exec(|| {
                let lim = libc::rlimit {
                    rlim_cur: 8192,
                    rlim_max: 8192,
                };
                if libc::setrlimit(libc::RLIMIT_FSIZE, &lim) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
    });
    for _ in 0..30 {
        assert_eq!(post(&run.base, "hook"), 204, "forwarded though not recorded");
    }
    assert_eq!(
        rx.got.load(Ordering::SeqCst),
        30,
        "every webhook reached the receiver"
    );
    // While it cannot record, the health check says so and a metric counts the loss.
    let metrics = run.metrics.clone().expect("the banner names the metrics address");
    let (status, why) = get(&metrics, "/healthz");
    assert_eq!(status, 503, "{why}");
    assert!(why.contains("journal"), "{why}");
    let (_, text) = get(&metrics, "/metrics");
    let unrecorded: f64 = text
        .lines()
        .find_map(|l| l.strip_prefix("brhook_journal_unrecorded_requests_total "))
        .unwrap_or_else(|| panic!("no unrecorded metric in\n{text}"))
        .trim()
        .parse()
        .unwrap();
    let (code, out, _) = stop(run);
    assert_eq!(code, 1, "an incomplete capture never passes");
    let recorded = seqs(std::slice::from_ref(&j)).len() as u64;
    assert!(recorded > 0 && recorded < 30, "{recorded}");
    assert!(
        out.contains(&format!("{} requests answered but not recorded", 30 - recorded)),
        "{out}"
    );
    assert_eq!(
        unrecorded as u64,
        30 - recorded,
        "the metric counts the same loss"
    );
    assert!(std::fs::metadata(&j).unwrap().len() <= 8192);
    // The journal holds whole lines only: check reads it.
    let (_, r, err) = check(&[s(&j)]);
    assert!(r["verdict"].is_string(), "{err}");
}

#[test]
fn the_systemd_unit_in_examples_starts_a_proxy_with_those_flags() {
    let unit = std::fs::read_to_string("examples/brhook-proxy.service").unwrap();
    let joined = unit.replace("\\\n", " ");
    let exec = joined
        .lines()
        .find_map(|l| l.strip_prefix("ExecStart="))
        .expect("an ExecStart line");
    assert!(unit.contains("Restart=on-failure") && unit.contains("StateDirectory="));
    assert!(exec.contains("--report-every") && exec.contains("--journal-max-size"));
    assert!(exec.contains("--metrics 127.0.0.1:"), "{exec}");
    assert!(
        !exec.contains("--until-quiet") && !exec.contains("--max-wait"),
        "{exec}"
    );
    // Its flags, run for a second in a directory of the test's own.
    let dir = common::dir("unit");
    let rx = receiver();
    let args: Vec<String> = exec
        .split_whitespace()
        .skip(2)
        .map(|a| a.replace("/var/lib/brhook-proxy", s(&dir)))
        .map(|a| match a.strip_prefix("uploader=") {
            Some(_) => format!("uploader=http://{}/webhook", rx.addr),
            None => a,
        })
        .map(|a| {
            if a == "127.0.0.1:8090" || a == "127.0.0.1:9464" {
                "127.0.0.1:0".into()
            } else {
                a
            }
        })
        .collect();
    let out = Command::new(BIN)
        .arg("proxy")
        .args(&args)
        .args(["--max-wait", "1", "--quiet-window", "0.2"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(1),
        "nothing captured fails, and no usage error: {err}"
    );
    assert!(
        dir.join("prod.jsonl").exists() && dir.join("report.json").exists(),
        "{err}"
    );
}
