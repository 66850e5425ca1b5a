//! `brhook serve`'s control API: from Python's standard library as a sender author's
//! suite drives it (tests/control/test_api.py, and the pytest example), and from Rust
//! with brhook's faithful sender on two captures at once.

mod common;

use brhook::testkit::control::{Config, Control};
use brhook::{Sender, SenderConfig};
use common::BIN;
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Command, Stdio};

/// `brhook serve` running, with the API's base URL from its first line.
struct Served {
    child: Child,
    base: String,
}

fn serve(args: &[&str]) -> Served {
    let mut child = Command::new(BIN)
        .arg("serve")
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("brhook serve starts");
    // The banner comes once both ports accept connections: no sleep, no retry.
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let base = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no URL in the banner {line:?}"))
        .trim_end_matches('/')
        .trim_end_matches("/v1")
        .to_string();
    Served { child, base }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn python(script: &str, served: &Served) {
    let out = Command::new("python3")
        .arg(script)
        .env("BRHOOK_CONTROL", &served.base)
        .env("BRHOOK", BIN)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("python3 is needed to run the API's tests (it is on CI)");
    assert!(
        out.status.success(),
        "{script} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_python_stdlib_suite_drives_the_api() {
    python("tests/control/test_api.py", &serve(&[]));
}

#[test]
fn the_pytest_example_passes_with_a_faithful_sender() {
    python("examples/control/python/test_brhook.py", &serve(&[]));
}

/// One blocking HTTP/1.1 call (`Connection: close`): status and body.
fn http(method: &str, url: &str, headers: &[(&str, &str)], body: &str) -> (u16, String) {
    let rest = url.strip_prefix("http://").expect("http URL");
    let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let mut s = std::net::TcpStream::connect(host).expect("connects");
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    write!(s, "{head}\r\n{body}").unwrap();
    let mut answer = String::new();
    s.read_to_string(&mut answer).unwrap();
    let status = answer[9..12].parse().expect("a status line");
    let body = answer.split_once("\r\n\r\n").map(|x| x.1).unwrap_or("");
    (status, body.to_string())
}

async fn call(method: &str, url: String, body: String) -> (u16, serde_json::Value) {
    let m = method.to_string();
    let (status, text) = tokio::task::spawn_blocking(move || http(&m, &url, &[], &body))
        .await
        .unwrap();
    (status, serde_json::from_str(&text).expect("a JSON answer"))
}

/// Two faithful senders on two captures at once, on the one data port (a slow URL, a
/// flaky one, a v1 one each): each capture holds only its own requests and passes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_faithful_senders_at_once_each_pass_on_their_own_capture() {
    let control = Control::start(Config {
        control: "127.0.0.1:0".parse().unwrap(),
        data: "127.0.0.1:0".parse().unwrap(),
        token: None,
        journal_dir: None,
    })
    .await
    .unwrap();
    let api = format!("{}/v1", control.url());
    let spec = serde_json::json!({"backoff_scale": 0.05, "urls": [
        {"name": "slow", "fault": "delay:300"}, {"name": "a"},
        {"name": "flaky", "fault": "fail:2"}, {"name": "old", "setting": "v1"}]})
    .to_string();
    let mut captures = Vec::new();
    for _ in 0..2 {
        let (status, c) = call("POST", format!("{api}/captures"), spec.clone()).await;
        assert_eq!(status, 201, "{c}");
        captures.push(c);
    }
    let list = |c: &serde_json::Value, k: &str| -> Vec<String> {
        c[k].as_array()
            .unwrap()
            .iter()
            .map(|u| u.as_str().unwrap().to_string())
            .collect()
    };
    let senders: Vec<_> = captures
        .iter()
        .map(|c| {
            let sender = Sender::new(SenderConfig::new(list(c, "v2"), list(c, "v1")).scaled(0.05));
            tokio::spawn(async move { sender.play_realistic(true).await })
        })
        .collect();
    for s in senders {
        s.await.unwrap();
    }
    for c in &captures {
        let id = c["id"].as_str().unwrap();
        let (status, counts) = call(
            "POST",
            format!("{api}/captures/{id}/wait"),
            r#"{"events": 1, "timeout_s": 60}"#.into(),
        )
        .await;
        assert_eq!(status, 200, "{counts}");
        let (status, report) = call(
            "POST",
            format!("{api}/captures/{id}/finish"),
            r#"{"quiet_s": 0.5}"#.into(),
        )
        .await;
        assert_eq!(status, 200);
        assert_eq!(report["verdict"], "pass", "{report:#}");
        assert_eq!(
            report["subject"].as_str().unwrap().split(' ').next(),
            counts["requests"].to_string().as_str().into(),
            "the report judged exactly the capture's requests"
        );
        let journal = {
            let url = format!("{api}/captures/{id}/journal");
            tokio::task::spawn_blocking(move || http("GET", &url, &[], ""))
                .await
                .unwrap()
                .1
        };
        let requests: Vec<serde_json::Value> = journal
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
            .filter(|l| l["type"] == "request")
            .collect();
        assert_eq!(requests.len() as u64, counts["requests"].as_u64().unwrap());
        assert!(
            requests
                .iter()
                .all(|r| r["target"].as_str().unwrap().starts_with(&format!("/{id}/"))),
            "a request of another capture is in {id}'s journal"
        );
    }
    control.shutdown().await;
}

/// Off loopback the control port needs a token; with one, every route but the health
/// check asks for it.
#[test]
fn the_control_port_needs_a_token_off_loopback() {
    let (code, _, err) = common::brhook(&["serve", "--control", "0.0.0.0:0"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--control-token"), "{err}");
    let served = serve(&["--control-token", "s3cret"]);
    let url = |p: &str| format!("{}/v1{p}", served.base);
    let (status, body) = http("POST", &url("/captures"), &[], r#"{"urls":[{"name":"a"}]}"#);
    assert_eq!(status, 401, "{body}");
    assert!(body.contains("Authorization: Bearer"), "{body}");
    let wrong = [("Authorization", "Bearer s3cre")];
    assert_eq!(http("GET", &url("/openapi.json"), &wrong, "").0, 401);
    let right = [("Authorization", "Bearer s3cret")];
    assert_eq!(http("GET", &url("/openapi.json"), &right, "").0, 200);
    assert_eq!(http("GET", &url("/health"), &[], "").0, 200);
}

/// The ready file names the control URL, the data address and the pid; SIGTERM with a
/// capture that has requests and was never finished still exits cleanly, and removes it.
#[test]
fn serve_writes_its_ready_file_and_removes_it_on_sigterm() {
    let dir = common::dir("serve-ready");
    let ready = dir.join("ready.json");
    let mut served = serve(&["--ready-file", ready.to_str().unwrap()]);
    let r: serde_json::Value = serde_json::from_slice(&std::fs::read(&ready).unwrap()).unwrap();
    assert_eq!(r["control"], served.base.as_str());
    assert_eq!(r["pid"], served.child.id());
    let (_, c) = http(
        "POST",
        &format!("{}/v1/captures", served.base),
        &[],
        r#"{"urls":[{"name":"a"}]}"#,
    );
    let c: serde_json::Value = serde_json::from_str(&c).unwrap();
    assert!(c["urls"]["a"]
        .as_str()
        .unwrap()
        .starts_with(&format!("http://{}/", r["addr"].as_str().unwrap())));
    assert_eq!(
        http("POST", c["urls"]["a"].as_str().unwrap(), &[], "{}").0 / 100,
        2
    );
    let pid = served.child.id().to_string();
    assert!(Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    let status = served.child.wait().unwrap();
    assert_eq!(status.code(), Some(0), "serve did not stop cleanly");
    assert!(!ready.exists(), "the ready file is left behind");
}

/// The README's pytest is the example file this suite runs, word for word.
#[test]
fn the_readme_shows_the_example_that_runs() {
    let readme = std::fs::read_to_string("README.md").unwrap();
    let start = readme
        .find("<!-- control-example:start -->\n```python\n")
        .expect("the README's control example");
    let block = &readme[start..];
    let block = &block[block.find("```python\n").unwrap() + 10..];
    let block = &block[..block.find("```\n<!-- control-example:end -->").expect("its end")];
    let file = std::fs::read_to_string("examples/control/python/test_brhook.py").unwrap();
    assert_eq!(
        block, file,
        "paste examples/control/python/test_brhook.py into the README"
    );
}
