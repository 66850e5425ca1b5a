//! `--workdir`: real files behind the webhooks. A receiver that opens the file a webhook
//! names (as uploaders and transcoders do) passes with it and fails without it.

mod common;
use common::scratch as dir;

use brhook::testkit::catalog::{Check, Level};
use brhook::testkit::receiver::{Probe, Scenario, SendError};
use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use serde_json::Value;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// What the file-checking receiver saw: files checked, and what was wrong.
#[derive(Default)]
struct Seen {
    checked: usize,
    problems: Vec<String>,
}

/// Answers 500 unless the file a body names exists at `root/RelativePath` and, for
/// FileClosed and v1 records, has exactly `FileSize` bytes.
async fn answer(
    root: PathBuf,
    seen: Arc<Mutex<Seen>>,
    req: Request<Incoming>,
) -> Result<Response<Empty<Bytes>>, hyper::Error> {
    let body = req.into_body().collect().await?.to_bytes();
    let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let data = v.get("EventData").unwrap_or(&v);
    let mut code = 204;
    if let Some(rel) = data.get("RelativePath").and_then(Value::as_str) {
        let path = root.join(rel);
        let mut st = seen.lock().unwrap();
        st.checked += 1;
        let want = data.get("FileSize").and_then(Value::as_u64);
        match (std::fs::metadata(&path), want) {
            (Err(e), _) => {
                st.problems.push(format!("{}: {e}", path.display()));
                code = 500;
            }
            (Ok(m), Some(size)) if m.len() != size => {
                st.problems
                    .push(format!("{}: {} bytes, FileSize {size}", path.display(), m.len()));
                code = 500;
            }
            _ => {}
        }
    }
    Ok(Response::builder()
        .status(StatusCode::from_u16(code).unwrap())
        .body(Empty::new())
        .unwrap())
}

async fn receiver(root: &Path) -> (String, String, Arc<Mutex<Seen>>) {
    let seen = Arc::new(Mutex::new(Seen::default()));
    let (r, s) = (root.to_path_buf(), Arc::clone(&seen));
    let addr = common::serve(move |req| answer(r.clone(), Arc::clone(&s), req)).await;
    (format!("http://{addr}/v2"), format!("http://{addr}/v1"), seen)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receiver_that_opens_the_file_passes_with_workdir_and_fails_without() {
    let root = dir("opens");
    let (v2, v1, seen) = receiver(&root).await;
    let probe = Probe::new(&v2).v1(&v1).backoff_scale(0.01);

    let with = probe
        .clone()
        .workdir(&root)
        .run(Scenario::Realistic)
        .await
        .unwrap();
    {
        let st = seen.lock().unwrap();
        assert!(st.problems.is_empty(), "{:?}", st.problems);
        assert!(
            st.checked >= 6,
            "FileOpening, FileClosed and v1 records were checked: {}",
            st.checked
        );
    }
    with.assert_pass();
    assert!(
        std::fs::read_dir(&root).unwrap().next().is_none(),
        "the files are removed at the end"
    );

    let without = probe.run(Scenario::Realistic).await.unwrap();
    assert!(!without.passed());
    assert!(
        without.occurrences(Check::R1, Level::Fail) > 0,
        "{}",
        without.to_json()
    );
    let _ = std::fs::remove_dir_all(&root);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keep_files_leaves_valid_flv_files_and_big_ones_are_sparse() {
    let root = dir("keep");
    let (v2, v1, seen) = receiver(&root).await;
    let report = Probe::new(&v2)
        .v1(&v1)
        .backoff_scale(0.01)
        .workdir(&root)
        .keep_files(true)
        .run(Scenario::Probe)
        .await
        .unwrap();
    assert!(
        seen.lock().unwrap().problems.is_empty(),
        "{:?}",
        seen.lock().unwrap().problems
    );
    assert_eq!(
        report.occurrences(Check::R1, Level::Fail),
        0,
        "{}",
        report.to_json()
    );
    let mut files = Vec::new();
    let mut stack = vec![root.clone()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                files.push(p);
            }
        }
    }
    assert!(files.len() >= 3, "the files are kept: {files:?}");
    for f in &files {
        let mut head = [0u8; 3];
        std::io::Read::read_exact(&mut std::fs::File::open(f).unwrap(), &mut head).unwrap();
        assert_eq!(&head, b"FLV", "{}", f.display());
    }
    let big: Vec<_> = files
        .iter()
        .map(|f| std::fs::metadata(f).unwrap())
        .filter(|m| m.len() > 1 << 32)
        .collect();
    assert!(
        !big.is_empty(),
        "R8's FileSize above 2^32 is a real (sparse) file"
    );
    for m in big {
        assert!(
            m.blocks() * 512 < 64 << 20,
            "{} bytes allocated",
            m.blocks() * 512
        );
    }
    let _ = std::fs::remove_dir_all(&root);
}

/// An uploader: on FileClosed it moves the file out of `root` into `to`, then answers.
async fn upload(
    root: PathBuf,
    to: PathBuf,
    req: Request<Incoming>,
) -> Result<Response<Empty<Bytes>>, hyper::Error> {
    let body = req.into_body().collect().await?.to_bytes();
    let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let mut code = 204;
    if v["EventType"] == "FileClosed" {
        let rel = v["EventData"]["RelativePath"].as_str().unwrap_or("");
        let name = format!("{}.flv", v["EventId"].as_str().unwrap_or("x"));
        if std::fs::rename(root.join(rel), to.join(name)).is_err() {
            code = 500;
        }
    }
    Ok(Response::builder()
        .status(StatusCode::from_u16(code).unwrap())
        .body(Empty::new())
        .unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receiver_that_moves_the_files_away_is_fine() {
    let root = dir("moved");
    let to = dir("moved-uploads");
    std::fs::create_dir_all(&to).unwrap();
    let (r, t) = (root.clone(), to.clone());
    let addr = common::serve(move |req| upload(r.clone(), t.clone(), req)).await;
    let report = Probe::new(format!("http://{addr}/v2"))
        .backoff_scale(0.01)
        .workdir(&root)
        .run(Scenario::Realistic)
        .await
        .unwrap();
    report.assert_pass();
    let moved = std::fs::read_dir(&to).unwrap().count();
    assert!(moved >= 3, "every FileClosed's file was moved: {moved}");
    assert!(
        std::fs::read_dir(&root).unwrap().next().is_none(),
        "what is left (the emptied directories) is removed"
    );
    let _ = std::fs::remove_dir_all(&root);
    let _ = std::fs::remove_dir_all(&to);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_streams_get_real_files_too() {
    // Random streams draw any int64 FileSize and any title: sizes are capped to real
    // ones, long names shortened, and the events say so.
    let root = dir("random");
    let (v2, v1, seen) = receiver(&root).await;
    for seed in 1..=4 {
        let report = Probe::new(&v2)
            .v1(&v1)
            .backoff_scale(0.01)
            .workdir(&root)
            .run(Scenario::Random {
                seed,
                events: 60,
                exact: false,
            })
            .await
            .unwrap();
        assert_eq!(
            report.occurrences(Check::R1, Level::Fail),
            0,
            "seed {seed}: {}",
            report.to_json()
        );
    }
    let st = seen.lock().unwrap();
    assert!(st.problems.is_empty(), "{:?}", st.problems);
    assert!(st.checked > 0);
    let _ = std::fs::remove_dir_all(&root);
}

#[tokio::test]
async fn an_unwritable_workdir_is_one_error_before_anything_is_sent() {
    let root = dir("unwritable");
    let (v2, _, seen) = receiver(&root).await;
    // Under a regular file nothing can be created, whoever runs the test.
    std::fs::create_dir_all(root.parent().unwrap()).unwrap();
    std::fs::write(&root, b"a file").unwrap();
    let e = Probe::new(&v2)
        .workdir(root.join("sub"))
        .run(Scenario::Realistic)
        .await
        .unwrap_err();
    assert!(matches!(e, SendError::Io(_)), "{e:?}");
    assert_eq!(seen.lock().unwrap().checked, 0, "nothing was sent");

    let (code, out, err) = common::brhook(&[
        "send",
        "--to",
        &v2,
        "--workdir",
        root.join("sub").to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "{out}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("--workdir") && err.contains("cannot write there"),
        "{err}"
    );
    let _ = std::fs::remove_file(&root);
}
