//! `brhook listen -- CMD` and `--ready-file`, driven as a CI job in any language would:
//! a Python sender as the command, a client racing the ready file, SIGTERM.

mod common;
use common::{brhook, dir, BIN};

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const SENDER: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/sender.py");

fn json(out: &str) -> serde_json::Value {
    serde_json::from_str(out).unwrap_or_else(|e| panic!("stdout is the JSON report alone ({e}): {out}"))
}

fn failed(v: &serde_json::Value) -> Vec<String> {
    let checks = v["checks"].as_array().unwrap();
    checks
        .iter()
        .filter(|c| c["status"] == "failed")
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn a_passing_sender_passes_and_its_output_stays_off_the_json_report() {
    let (code, out, err) = brhook(&[
        "listen",
        "--url",
        "slow=delay:300",
        "--url",
        "plain",
        "--url",
        "slow2=delay:300",
        "--quiet-window",
        "1",
        "--format",
        "json",
        "--",
        "python3",
        SENDER,
    ]);
    let v = json(&out);
    assert_eq!((code, v["verdict"].as_str()), (0, Some("pass")), "{out}\n{err}");
    assert_eq!(v["note"], serde_json::Value::Null);
    let f3 = v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "F3")
        .unwrap();
    assert_eq!(f3["status"], "passed", "two delay URLs, first and last, show F3");
    assert!(
        err.contains("sent 4 events to 3 URLs"),
        "the command's stdout goes to stderr: {err}"
    );
}

#[test]
fn a_failing_sender_fails_the_run_on_its_verdict() {
    // Sequential, the delay URL first: F3 fails, though the command itself succeeded.
    let (code, out, err) = brhook(&[
        "listen",
        "--url",
        "slow=delay:300",
        "--url",
        "plain",
        "--quiet-window",
        "1",
        "--format",
        "json",
        "--",
        "python3",
        SENDER,
        "--sequential",
    ]);
    let v = json(&out);
    assert_eq!(code, 1, "{err}");
    assert_eq!(failed(&v), ["F3"]);
    assert_eq!(v["note"], serde_json::Value::Null, "the command succeeded");
}

#[test]
fn a_command_that_sends_nothing_fails_within_seconds_naming_why() {
    for (cmd, why) in [
        (&["true"][..], "`true` succeeded"),
        (&["sh", "-c", "exit 3"][..], "exited with status 3"),
        (&["sh", "-c", "kill -9 $$"][..], "was killed by signal 9"),
    ] {
        let start = Instant::now();
        let mut args = vec![
            "listen",
            "--url",
            "a",
            "--quiet-window",
            "1",
            "--format",
            "json",
            "--",
        ];
        args.extend_from_slice(cmd);
        let (code, out, _) = brhook(&args);
        let took = start.elapsed();
        assert!(
            took < Duration::from_secs(60),
            "{cmd:?} took {took:?}: not --max-wait's 600 s"
        );
        let v = json(&out);
        assert_eq!(code, 1, "{cmd:?}");
        let note = v["note"].as_str().unwrap_or_default();
        assert!(note.contains("no request reached"), "{cmd:?}: {note}");
        if why.ends_with("succeeded") {
            assert!(!note.contains("the command"), "{cmd:?}: {note}");
        } else {
            assert!(
                note.starts_with("the command `") && note.contains(why),
                "{cmd:?}: {note}"
            );
        }
    }
}

#[test]
fn the_command_gets_the_urls_by_name_by_setting_and_in_its_arguments() {
    let d = dir("wrap-env");
    let seen = d.join("seen.txt");
    let script = format!(
        "printf '%s|%s|%s|%s|%s' \"$BRHOOK_URL_B_2\" \"$BRHOOK_V2_URLS\" \"$BRHOOK_V1_URLS\" \"$1\" > {}",
        seen.display()
    );
    let (code, _, err) = brhook(&[
        "listen",
        "--url",
        "a",
        "--url",
        "b-2=fail:1",
        "--v1-url",
        "old",
        "--quiet-window",
        "1",
        "--",
        "sh",
        "-c",
        &script,
        "sh",
        "--hook={url:old}",
    ]);
    assert_eq!(code, 1, "nothing was sent: {err}");
    let text = std::fs::read_to_string(&seen).unwrap();
    let parts: Vec<&str> = text.split('|').collect();
    let port = parts[0]
        .trim_start_matches("http://127.0.0.1:")
        .split('/')
        .next()
        .unwrap();
    let u = |n: &str| format!("http://127.0.0.1:{port}/{n}");
    assert_eq!(parts[0], u("b-2"));
    assert_eq!(
        parts[1],
        format!("{}\n{}", u("a"), u("b-2")),
        "in the order given"
    );
    assert_eq!(parts[2], u("old"));
    assert_eq!(parts[3], format!("--hook={}", u("old")));

    // An unknown name is a usage error that lists the names, before anything runs.
    let (code, _, err) = brhook(&["listen", "--url", "a", "--", "echo", "{url:nope}"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("\"nope\"") && err.contains("the names are a"),
        "{err}"
    );
}

/// Waits (polling, bounded) for `path` to exist; the time it took.
fn wait_for(path: &Path) -> Duration {
    let start = Instant::now();
    while !path.exists() {
        assert!(start.elapsed() < Duration::from_secs(60), "no ready file");
        std::thread::sleep(Duration::from_millis(2));
    }
    start.elapsed()
}

#[cfg(target_os = "linux")]
fn sigterm(pid: u32) {
    let ok = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap();
    assert!(ok.success());
}

#[cfg(target_os = "linux")]
#[test]
fn a_client_racing_the_ready_file_is_never_refused_and_sigterm_judges_and_removes_it() {
    let d = dir("ready-race");
    for i in 0..8 {
        let ready = d.join(format!("ready-{i}.json"));
        let mut child = Command::new(BIN)
            .args([
                "listen",
                "--url",
                "a",
                "--v1-url",
                "v1",
                "--quiet-window",
                "0.3",
                "--format",
                "json",
            ])
            .arg("--ready-file")
            .arg(&ready)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        wait_for(&ready);
        // Read at once: the rename makes the file whole or absent, never half-written.
        let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&ready).unwrap()).unwrap();
        assert_eq!(v["pid"], child.id());
        assert_eq!(v["v1"].as_array().unwrap().len(), 1);
        assert_eq!(v["v2"][0], v["urls"]["a"]);
        assert!(v["control"].is_null());
        let addr = v["addr"].as_str().unwrap();
        let body = std::fs::read("tests/fixtures/doc/SessionStarted.json").unwrap();
        let mut s = TcpStream::connect(addr).unwrap_or_else(|e| panic!("run {i}: refused: {e}"));
        write!(
            s,
            "POST /a HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nUser-Agent: BililiveRecorder/2.17.3\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        )
        .unwrap();
        s.write_all(&body).unwrap();
        let mut answer = String::new();
        s.read_to_string(&mut answer).unwrap();
        assert!(answer.starts_with("HTTP/1.1 204"), "run {i}: {answer}");
        // SIGTERM judges as Ctrl-C does, and the ready file goes with brhook.
        sigterm(child.id());
        let mut out = String::new();
        child.stdout.take().unwrap().read_to_string(&mut out).unwrap();
        let code = child.wait().unwrap().code();
        let v = json(&out);
        assert_eq!(
            v["subject"].as_str().unwrap().split(' ').next(),
            Some("1"),
            "{out}"
        );
        assert!(code == Some(0) || code == Some(1), "judged, not killed: {code:?}");
        assert!(!ready.exists(), "run {i}: the ready file outlived brhook");
    }
}

#[cfg(target_os = "linux")]
#[test]
fn sigterm_stops_the_wrapped_command_too() {
    let d = dir("wrap-term");
    let ready = d.join("ready.json");
    let pidfile = d.join("cmd.pid");
    let mut child = Command::new(BIN)
        .args([
            "listen",
            "--url",
            "a",
            "--quiet-window",
            "0.3",
            "--quiet-output",
            "--ready-file",
        ])
        .arg(&ready)
        .args(["--", "sh", "-c"])
        .arg(format!("echo $$ > {}; exec sleep 600", pidfile.display()))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for(&ready);
    wait_for(&pidfile);
    let start = Instant::now();
    sigterm(child.id());
    let code = child.wait().unwrap().code();
    assert_eq!(code, Some(1), "interrupted with nothing sent: a failure");
    assert!(start.elapsed() < Duration::from_secs(30));
    let pid = std::fs::read_to_string(&pidfile).unwrap();
    // The command got SIGTERM: it is gone (or a zombie brhook's exit leaves to init).
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", pid.trim())).unwrap_or_default();
        if stat.is_empty() || stat.contains(") Z ") {
            break;
        }
        assert!(Instant::now() < deadline, "the command still runs: {stat}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn proxy_wraps_a_command_and_writes_the_ready_file_too() {
    let d = dir("wrap-proxy");
    let (ready, copy) = (d.join("ready.json"), d.join("copy.json"));
    let (code, _, err) = brhook(&[
        "proxy",
        "--to",
        "hook=http://127.0.0.1:9/x",
        "--v1-to",
        "old=http://127.0.0.1:9/y",
        "--quiet-window",
        "0.5",
        "--ready-file",
        ready.to_str().unwrap(),
        "--",
        "cp",
        ready.to_str().unwrap(),
        copy.to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "nothing was sent: {err}");
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&copy).unwrap()).unwrap();
    assert_eq!(v["v2"], serde_json::json!([v["urls"]["hook"]]));
    assert_eq!(v["v1"], serde_json::json!([v["urls"]["old"]]));
    assert!(!ready.exists());
}
