//! `--workdir` files real tools read: every FLV is H.264 + AAC that ffprobe sizes and
//! times (its duration the event's `Duration`) and `ffmpeg -c copy` remuxes to MP4 with
//! no error; the 6 GiB one stays sparse and its first seconds decode. With `--danmaku`
//! the danmaku XML lies beside each FLV.
//!
//! The ffmpeg test needs ffmpeg and ffprobe, so it is `#[ignore]`d in `cargo test`;
//! `.ci/run` installs ffmpeg and runs it with `--ignored`.

mod common;
use common::dir;

use brhook::testkit::receiver::{Probe, Scenario};
use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper::body::Incoming;
use hyper::{Request, Response};
use serde_json::Value;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};

/// What the receiver saw of each FileClosed: its `EventData`, and whether the danmaku
/// XML beside the file was there (and looked like the recorder's) at that moment.
type Seen = Arc<Mutex<Vec<(Value, Option<String>)>>>;

async fn answer(
    root: PathBuf,
    seen: Seen,
    req: Request<Incoming>,
) -> Result<Response<Empty<Bytes>>, hyper::Error> {
    let body = req.into_body().collect().await?.to_bytes();
    let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    if v["EventType"] == "FileClosed" {
        let d = v["EventData"].clone();
        let rel = d["RelativePath"].as_str().unwrap_or("");
        let xml = root.join(rel).with_extension("xml");
        let text = std::fs::read_to_string(xml).ok();
        seen.lock().unwrap().push((d, text));
    }
    Ok(Response::builder().status(204).body(Empty::new()).unwrap())
}

async fn receiver(root: &Path) -> (String, Seen) {
    let seen: Seen = Arc::default();
    let (r, s) = (root.to_path_buf(), Arc::clone(&seen));
    let addr = common::serve(move |req| answer(r.clone(), Arc::clone(&s), req)).await;
    (format!("http://{addr}/v2"), seen)
}

/// Runs `scenario` with `--workdir root --keep-files`, `--danmaku` when asked.
async fn run(root: &Path, url: &str, scenario: Scenario, danmaku: bool) {
    let report = Probe::new(url)
        .backoff_scale(0.01)
        .workdir(root)
        .keep_files(true)
        .danmaku(danmaku)
        .run(scenario)
        .await
        .unwrap();
    assert_eq!(
        report.occurrences(brhook::Check::R1, brhook::Level::Fail),
        0,
        "{}",
        report.to_json()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn danmaku_xml_lies_beside_each_file_only_with_danmaku() {
    let root = dir("danmaku");
    let (url, seen) = receiver(&root).await;
    run(&root, &url, Scenario::Realistic, true).await;
    let with = std::mem::take(&mut *seen.lock().unwrap());
    assert!(with.len() >= 3, "{}", with.len());
    for (d, xml) in &with {
        let xml = xml
            .as_deref()
            .unwrap_or_else(|| panic!("no XML beside {}", d["RelativePath"]));
        assert!(
            xml.starts_with("\u{feff}<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<i>\n"),
            "{xml}"
        );
        assert!(xml.ends_with("</i>"), "{xml}");
        let info = format!(
            "<BililiveRecorderRecordInfo roomid=\"{}\" shortid=\"{}\"",
            d["RoomId"], d["ShortId"]
        );
        assert!(xml.contains(&info), "{info} in {xml}");
        assert!(xml.contains("<d p=\""), "{xml}");
    }
    let _ = std::fs::remove_dir_all(&root);

    let root = dir("no-danmaku");
    let (url, seen) = receiver(&root).await;
    run(&root, &url, Scenario::Realistic, false).await;
    let without = seen.lock().unwrap();
    assert!(without.len() >= 3);
    assert!(
        without.iter().all(|(_, xml)| xml.is_none()),
        "no XML without --danmaku"
    );
    let _ = std::fs::remove_dir_all(&root);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_writes_danmaku_beside_the_files_and_needs_workdir_for_it() {
    let root = dir("cli");
    let (url, seen) = receiver(&root).await;
    let dir_arg = root.display().to_string();
    let args = [
        "send",
        "--to",
        &url,
        "--backoff-scale",
        "0.01",
        "--workdir",
        &dir_arg,
        "--danmaku",
    ];
    let (code, out, err) = common::brhook_async(args).await;
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("recorded files and their danmaku XML written under"),
        "{out}"
    );
    let seen = seen.lock().unwrap();
    assert!(
        seen.len() >= 3 && seen.iter().all(|(_, xml)| xml.is_some()),
        "{}",
        seen.len()
    );
    let left = std::fs::read_dir(&root).unwrap().count();
    assert_eq!(left, 0, "the XML files are removed with the FLVs");
    let _ = std::fs::remove_dir_all(&root);

    let (code, _, err) = common::brhook(&["send", "--to", &url, "--danmaku"]);
    assert_eq!(code, 2, "--danmaku needs --workdir: {err}");
    assert!(err.contains("--workdir"), "{err}");
}

fn tool(name: &str) -> String {
    match Command::new(name).arg("-version").output() {
        Ok(o) if o.status.success() => name.to_string(),
        _ => panic!("{name} is not installed: this test needs ffmpeg's tools (apt-get install ffmpeg)"),
    }
}

/// ffprobe's view of a file: (h264 width, height), whether it has an aac stream, the
/// format's duration.
fn probe(ffprobe: &str, f: &Path) -> (Option<(u64, u64)>, bool, f64) {
    let out = Command::new(ffprobe)
        .args([
            "-v",
            "error",
            "-show_entries",
            "stream=codec_name,width,height:format=duration",
            "-of",
            "json",
        ])
        .arg(f)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && err.trim().is_empty(),
        "ffprobe {}: {err}",
        f.display()
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let streams = v["streams"].as_array().cloned().unwrap_or_default();
    let video = streams
        .iter()
        .find(|s| s["codec_name"] == "h264")
        .and_then(|s| Some((s["width"].as_u64()?, s["height"].as_u64()?)));
    let aac = streams.iter().any(|s| s["codec_name"] == "aac");
    let duration = v["format"]["duration"]
        .as_str()
        .and_then(|d| d.parse().ok())
        .unwrap_or(f64::NAN);
    (video, aac, duration)
}

/// Runs ffmpeg with `args`; it must succeed and say nothing at `-v error`.
fn ffmpeg(ffmpeg: &str, args: &[&std::ffi::OsStr]) {
    let out = Command::new(ffmpeg)
        .args(["-v", "error", "-nostdin", "-y"])
        .args(args)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && err.trim().is_empty(),
        "ffmpeg {args:?}: {err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs ffmpeg/ffprobe: run with --ignored (.ci/run installs ffmpeg and does)"]
async fn ffprobe_and_ffmpeg_read_every_file() {
    let (ffprobe, ffmpeg_bin) = (tool("ffprobe"), tool("ffmpeg"));
    let root = dir("ffmpeg");
    let out = dir("ffmpeg-out");
    let (url, seen) = receiver(&root).await;
    run(&root, &url, Scenario::Probe, false).await;
    for seed in [3, 11] {
        let random = Scenario::Random {
            seed,
            events: 40,
            exact: true,
        };
        run(&root, &url, random, false).await;
    }
    let files = std::mem::take(&mut *seen.lock().unwrap());
    assert!(files.len() >= 15, "{} files", files.len());
    let (mut big, mut long) = (0, 0);
    for (n, (d, _)) in files.iter().enumerate() {
        let f = root.join(d["RelativePath"].as_str().unwrap());
        let m = std::fs::metadata(&f).unwrap();
        assert_eq!(m.len(), d["FileSize"].as_u64().unwrap(), "{}", f.display());
        let (video, aac, duration) = probe(&ffprobe, &f);
        let (w, h) = video.unwrap_or_else(|| panic!("no sized h264 stream in {}", f.display()));
        assert!(w > 0 && h > 0 && aac, "{}: {w}x{h}, aac {aac}", f.display());
        let want = d["Duration"].as_f64().unwrap();
        assert!(
            (duration - want).abs() <= 0.5,
            "{}: ffprobe {duration} s, Duration {want}",
            f.display()
        );
        long += usize::from(want > 3600.0);
        let mp4 = out.join(format!("{n}.mp4"));
        ffmpeg(
            &ffmpeg_bin,
            &[
                "-i".as_ref(),
                f.as_os_str(),
                "-c".as_ref(),
                "copy".as_ref(),
                mp4.as_os_str(),
            ],
        );
        assert!(std::fs::metadata(&mp4).unwrap().len() > 0);
        let _ = std::fs::remove_file(&mp4);
        if m.len() > 1 << 32 {
            big += 1;
            assert!(
                m.blocks() * 512 < 16 << 20,
                "sparse: {} bytes allocated",
                m.blocks() * 512
            );
            // Its first seconds decode, video and audio.
            ffmpeg(
                &ffmpeg_bin,
                &[
                    "-t".as_ref(),
                    "2".as_ref(),
                    "-i".as_ref(),
                    f.as_os_str(),
                    "-f".as_ref(),
                    "null".as_ref(),
                    "-".as_ref(),
                ],
            );
        }
    }
    assert_eq!(big, 1, "the probe's 6 GiB file was checked");
    assert!(long > 0, "random's long Durations were checked");
    let _ = std::fs::remove_dir_all(&root);
    let _ = std::fs::remove_dir_all(&out);
}
