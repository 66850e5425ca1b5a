//! The JUnit and HTML reports: built from real demo runs over loopback (and from small
//! hand-made captures, judged, for escaping and the timeline sample; and from hand-made
//! findings for grouping), checked structurally, and the HTML rendered in headless
//! Chromium when it is installed.

mod common;

use brhook::testkit::catalog::{Check, Level, CHECKS};
use brhook::testkit::demo::Demo;
use brhook::testkit::journal::{Journal, Request};
use brhook::testkit::judge::{judge, Options};
use brhook::testkit::reference::Mutant;
use brhook::testkit::report::timeline::MAX_ROWS;
use brhook::testkit::report::{html, junit, Coverage, Finding, Findings, Report, Source};
use quick_junit::{NonSuccessKind, TestCase, TestCaseStatus};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

async fn demo(mutant: Option<Mutant>) -> (Report, Journal) {
    Demo::fast(mutant).judge().await.expect("endpoint starts")
}

fn cases(xml: &str) -> Vec<TestCase> {
    let parsed = quick_junit::Report::deserialize_from_str(xml).expect("the JUnit report parses");
    assert_eq!(parsed.test_suites.len(), 1, "one testsuite");
    assert_eq!(parsed.test_suites[0].name.as_str(), "brhook");
    parsed.test_suites.into_iter().next().unwrap().test_cases
}

fn case<'a>(cases: &'a [TestCase], id: &str) -> &'a TestCase {
    let prefix = format!("{id} ");
    cases
        .iter()
        .find(|c| c.name.as_str().starts_with(&prefix))
        .unwrap_or_else(|| panic!("no testcase for {id}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn junit_has_one_case_per_check_and_fails_d2_for_a_sender_that_never_retries() {
    let (report, _) = demo(Some(Mutant::NoRetry)).await;
    let xml = junit::render(&report);
    assert_eq!(xml.matches("<testcase").count(), CHECKS.len(), "{xml}");
    let cases = cases(&xml);
    assert_eq!(cases.len(), CHECKS.len());
    for c in CHECKS {
        let tc = case(&cases, c.id.id());
        assert_eq!(tc.name.as_str(), format!("{} {}", c.id, c.title));
        let class = tc.classname.as_ref().map(|s| s.as_str().to_string());
        assert_eq!(class, Some(format!("brhook.{}", c.id.family())));
    }
    match &case(&cases, "D2").status {
        TestCaseStatus::NonSuccess {
            kind: NonSuccessKind::Failure,
            message: Some(m),
            description: Some(d),
            ..
        } => {
            // The message is the one-line summary; the details are the text.
            let m = m.as_str();
            assert!(
                m.starts_with("D2 ") && m.contains(" — ") && !m.contains('\n'),
                "{m}"
            );
            assert!(
                d.as_str().contains("D2 fail") && d.as_str().contains("expected"),
                "{d:?}"
            );
        }
        other => panic!("D2 should be a failure with a message, got {other:?}"),
    }
    for c in CHECKS.iter().filter(|c| !c.implemented) {
        match &case(&cases, c.id.id()).status {
            TestCaseStatus::Skipped { message: Some(m), .. } => assert_eq!(m.as_str(), "not implemented yet"),
            other => panic!("{} is not implemented: should be skipped, got {other:?}", c.id),
        }
    }
    assert!(matches!(
        case(&cases, "T1").status,
        TestCaseStatus::Success { .. }
    ));
    // Only D2 fails: the failure element sits under the D2 case alone.
    assert_eq!(xml.matches("<failure").count(), 1, "{xml}");
    let d2 = xml.find("<testcase name=\"D2 ").expect("D2 case");
    let failure = xml.find("<failure").expect("a failure");
    let next = xml[d2 + 1..].find("<testcase").map_or(xml.len(), |i| d2 + 1 + i);
    assert!(
        d2 < failure && failure < next,
        "the failure is inside the D2 case"
    );
}

#[test]
fn junit_passes_a_warning_unless_strict_and_never_passes_on_nothing() {
    let warn = || {
        vec![
            Finding::new(brhook::testkit::catalog::Check::S6, "GUID in upper case")
                .expected("lowercase")
                .found("ABC"),
        ]
    };
    let mut cov = Coverage::default();
    cov.ran(brhook::testkit::catalog::Check::S6);
    let lenient = cases(&junit::render(&Report::build("1 body", warn(), &cov, false)));
    let tc = case(&lenient, "S6");
    assert!(
        matches!(tc.status, TestCaseStatus::Success { .. }),
        "{:?}",
        tc.status
    );
    let out = tc.system_out.as_ref().expect("the warning is in system-out");
    assert!(out.as_str().contains("GUID in upper case") && out.as_str().contains("ABC"));
    let strict = cases(&junit::render(&Report::build("1 body", warn(), &cov, true)));
    assert!(matches!(
        case(&strict, "S6").status,
        TestCaseStatus::NonSuccess {
            kind: NonSuccessKind::Failure,
            ..
        }
    ));
    // A report that judged nothing fails in JUnit too, not only in its verdict.
    let mut empty = Report::build("0 requests", vec![], &Coverage::default(), false);
    empty.fail_on_nothing("no request reached a configured URL");
    let xml = junit::render(&empty);
    assert!(
        xml.contains("<failure") && xml.contains("no request reached"),
        "{xml}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn html_is_one_self_contained_file_with_every_check_and_a_timeline() {
    let (report, journal) = demo(Some(Mutant::NoRetry)).await;
    let page = html::render(&report);
    assert!(page.starts_with("<!DOCTYPE html>") && page.trim_end().ends_with("</html>"));
    assert_eq!(page.matches("<svg").count(), 1, "one inline SVG: the timeline");
    for external in [
        "src=",
        "href=\"http",
        "href='http",
        "http://",
        "https://",
        "<script",
        "<link",
        "@import",
    ] {
        assert!(
            !page.contains(external),
            "the page must not load anything: found {external:?}"
        );
    }
    for c in CHECKS {
        assert!(page.contains(&format!(">{}<", c.id)), "check {} is missing", c.id);
    }
    let title = format!("<h1>brhook {}: FAIL</h1>", env!("CARGO_PKG_VERSION"));
    assert!(page.contains(&title), "summary first");
    let summary = page.find("<h2>Checks").unwrap();
    assert!(
        page[..summary].contains("D2"),
        "the failed check is in the summary"
    );
    // One row per (event, URL): every URL of the demo labels a row.
    for u in journal.meta.urls.iter() {
        assert!(
            page.contains(&format!(">{}<", u.name)),
            "no timeline row for URL {}",
            u.name
        );
    }
    assert!(page.contains("capture closed at"));
    assert!(
        !page.contains("Timeline sampled"),
        "a small capture is drawn whole"
    );
    // A report without a timeline (nothing judged as traffic) draws none.
    let mut bare = report.clone();
    bare.timeline = None;
    let page = html::render(&bare);
    assert!(!page.contains("<svg") && !page.contains("Delivery timeline"));
}

/// A request with a content type alone: these reports are about rendering, not headers.
fn request(seq: u64, at: f64, url: Option<&str>, body: &str, status: Option<u16>, done: f64) -> Request {
    let mut r = common::journal::post(seq, url, at, body.as_bytes().to_vec(), status, done);
    r.headers.truncate(1);
    r
}

#[test]
fn html_escapes_what_senders_send() {
    let nasty = r#"<script>alert("x")</script> & 'q' 录播姬 🎉"#;
    let body = serde_json::json!({"EventType": nasty, "EventId": "3f1c", "EventData": {}}).to_string();
    let mut j = common::journal::journal(&[("a<b", "ok")], Vec::new(), 3000.0);
    j.requests
        .push(request(1, 10.0, Some("a<b"), &body, Some(500), 12.0));
    j.requests
        .push(request(2, 200.0, Some("a<b"), &body, None, 205.0));
    j.requests
        .push(request(3, 600.0, Some("a<b"), &body, Some(204), 601.0));
    j.requests.push(request(4, 700.0, None, "{}", Some(404), 701.0));
    let judged = judge(&j, &Options::default());
    assert!(judged.timeline.is_some(), "the judge draws the timeline");
    // The nasty text in a finding's message, found and URL, beside the judged timeline.
    let finding = Finding::at(Check::S3, Level::Info, nasty).found(nasty).url("a<b");
    assert_eq!(finding.urls, ["a<b"]);
    let mut report = Report::build(nasty, vec![finding], &Coverage::default(), false);
    report.timeline = judged.timeline.clone();
    for page in [html::render(&report), html::render(&judged)] {
        assert!(
            !page.contains("<script") && !page.contains("a<b"),
            "unescaped text"
        );
        assert!(page.contains("a&lt;b"), "the URL is shown, escaped");
        assert!(page.contains(">reset</text>") && page.contains(">500</text>"));
        assert!(!page.contains("request #4"), "a stray request is not a delivery");
    }
    let page = html::render(&report);
    assert!(page.contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;q&#39; 录播姬 🎉"));
    assert!(page.contains("url a&lt;b"), "the finding's URL is in its row");
}

#[test]
fn html_timeline_is_sampled() {
    let total = MAX_ROWS + 50;
    let mut j = common::journal::journal(&[("a", "ok")], Vec::new(), 3000.0);
    for i in 0..total as u64 {
        let body = format!(r#"{{"EventType":"SessionStarted","EventId":"id-{i:04}","EventData":{{}}}}"#);
        j.requests.push(request(
            i + 1,
            i as f64,
            Some("a"),
            &body,
            Some(204),
            i as f64 + 1.0,
        ));
    }
    let report = judge(&j, &Options::default());
    let tl = report.timeline.as_ref().expect("the judge draws the timeline");
    assert_eq!(tl.total_rows, total);
    assert!(
        tl.stride > 1 && tl.rows.len() <= MAX_ROWS,
        "{} rows, one in {}",
        tl.rows.len(),
        tl.stride
    );
    let page = html::render(&report);
    // One attempt per row: each drawn attempt is one row.
    let drawn = page.matches("<g><title>").count();
    assert!(drawn > 0 && drawn <= MAX_ROWS, "{drawn} rows drawn");
    assert_eq!(drawn, tl.rows.len());
    let note = format!(
        "Timeline sampled: showing {drawn} of {total} rows, one in {}",
        tl.stride
    );
    assert!(page.contains(&note), "the page says the timeline is a sample");
    // Sampled evenly over the capture, not cut after the first rows.
    assert!(
        page.contains(&format!("request #{total} ")) || page.contains(&format!("request #{} ", total - 1))
    );
}

/// One cause seen 20 times: the same F3 failure for 20 events, kept with `examples`
/// examples each.
fn twenty(examples: usize) -> Report {
    let mut findings = Findings::new(examples);
    for i in 1..=20u64 {
        findings.push(
            Finding::at(
                Check::F3,
                Level::Fail,
                "the event reached the URLs one after another",
            )
            .url("a")
            .url("b")
            .event(format!("ev-{i:02}"))
            .source(Source::Request(i))
            .expected("concurrent deliveries")
            .found(format!("sequential {i}")),
        );
    }
    let mut cov = Coverage::default();
    cov.ran(Check::F3);
    Report::build("20 events", findings, &cov, false)
}

fn failure(tc: &TestCase) -> (String, String) {
    match &tc.status {
        TestCaseStatus::NonSuccess {
            kind: NonSuccessKind::Failure,
            message: Some(m),
            description: Some(d),
            ..
        } => (m.as_str().to_string(), d.as_str().to_string()),
        other => panic!(
            "{} should be a failure with a message, got {other:?}",
            tc.name.as_str()
        ),
    }
}

#[test]
fn junit_reports_a_group_once_with_its_count() {
    let report = twenty(3);
    assert_eq!(report.groups.len(), 1);
    let xml = junit::render(&report);
    assert_eq!(xml.matches("<failure").count(), 1, "{xml}");
    let cases = cases(&xml);
    let (message, description) = failure(case(&cases, "F3"));
    // One line: the check, its count and the cause; the examples are in the text.
    let title = brhook::testkit::catalog::Check::F3.title();
    assert!(
        message.starts_with(&format!("F3 {title} — 20 findings: the event reached")),
        "{message}"
    );
    assert!(
        !message.contains("expected") && !message.contains("(and"),
        "{message}"
    );
    assert!(
        description.contains("url a, b") || description.contains("urls: a, b"),
        "{description}"
    );
    // One block for the group, with its examples, not one per occurrence.
    assert_eq!(description.matches("F3 fail").count(), 1, "{description}");
    assert_eq!(
        description.matches("expected: concurrent deliveries").count(),
        3,
        "{description}"
    );
    assert!(description.contains("request #1") && description.contains("ev-01"));
    assert!(
        !description.contains("ev-04"),
        "only the kept examples: {description}"
    );
}

#[test]
fn html_shows_a_group_in_one_row_with_its_count() {
    let report = twenty(3);
    let page = html::render(&report);
    let findings = &page[page.find("<h2>Findings").expect("findings table")..];
    let table = &findings[..findings.find("</table>").unwrap()];
    assert_eq!(table.matches("<tr").count(), 2, "a header and one row: {table}");
    assert_eq!(
        table.matches("<tr id='f-F3'>").count(),
        1,
        "the anchor is on the row"
    );
    assert_eq!(table.matches("×20").count(), 1, "{table}");
    assert!(table.contains("url a, b"));
    assert_eq!(table.matches("<div class='ex'>").count(), 3, "the kept examples");
    assert!(table.contains("<code>sequential 1</code>") && !table.contains("ev-04"));
    // The summary counts occurrences and links to the row.
    let summary = &page[..page.find("<h2>Checks").unwrap()];
    assert!(summary.contains("<a href='#f-F3'>20 findings</a>"), "{summary}");
    assert!(summary.contains("1 fail (20 occurrences)"), "{summary}");
}

#[test]
fn a_group_says_how_many_occurrences_were_left_out() {
    let report = twenty(3);
    assert_eq!(report.groups[0].omitted, 17);
    let (_, description) = failure(case(&cases(&junit::render(&report)), "F3"));
    assert!(description.contains("… and 17 more like these"), "{description}");
    assert!(html::render(&report).contains("… and 17 more like these"));
    // Every occurrence kept: nothing is said to be left out.
    let all = twenty(20);
    assert_eq!(all.groups[0].omitted, 0);
    let (_, description) = failure(case(&cases(&junit::render(&all)), "F3"));
    assert_eq!(description.matches("expected: concurrent deliveries").count(), 20);
    assert!(!description.contains("more like"), "{description}");
    let page = html::render(&all);
    assert!(!page.contains("more like") && page.contains("<code>sequential 20</code>"));
}

#[test]
fn junit_puts_info_and_lenient_warn_groups_in_system_out_one_block_each() {
    let mut findings = Findings::default();
    for i in 1..=5u64 {
        findings.push(
            Finding::new(Check::S6, "GUID in upper case")
                .event(format!("ev-{i}"))
                .source(Source::Request(i))
                .expected("lowercase")
                .found(format!("ABC{i}")),
        );
    }
    let mut cov = Coverage::default();
    cov.ran(Check::S6);
    let report = Report::build("5 bodies", findings, &cov, false);
    let cases = cases(&junit::render(&report));
    let tc = case(&cases, "S6");
    assert!(
        matches!(tc.status, TestCaseStatus::Success { .. }),
        "{:?}",
        tc.status
    );
    let out = tc
        .system_out
        .as_ref()
        .expect("the warning group is in system-out");
    let out = out.as_str();
    assert_eq!(out.matches("GUID in upper case").count(), 1, "{out}");
    assert!(
        out.contains("×5") && out.contains("… and 2 more like these"),
        "{out}"
    );
}

fn chromium() -> Option<PathBuf> {
    let fixed = Path::new("/usr/bin/chromium");
    if fixed.exists() {
        return Some(fixed.to_path_buf());
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|d| ["chromium", "chromium-browser"].map(|n| d.join(n)))
        .find(|p| p.is_file())
}

/// Needs Chromium: `.ci/run` installs it and runs this with `--ignored`; locally,
/// `apt-get install chromium && cargo test --test report_formats -- --ignored`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs chromium (apt-get install chromium); .ci/run runs it"]
async fn html_renders_in_headless_chromium() {
    let browser = chromium().expect("chromium is installed (apt-get install chromium)");
    let (report, _) = demo(Some(Mutant::NoRetry)).await;
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("report_formats");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let page = dir.join("report.html");
    std::fs::write(&page, html::render(&report)).unwrap();
    let shot = dir.join("shot.png");
    let mut child = Command::new(&browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ])
        .arg(format!("--user-data-dir={}", dir.join("profile").display()))
        .arg(format!("--screenshot={}", shot.display()))
        .arg("--window-size=1200,1600")
        .arg(format!("file://{}", page.display()))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromium starts");
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if start.elapsed() > Duration::from_secs(90) {
            let _ = child.kill();
            panic!("chromium did not finish the screenshot within 90 s");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(status.success(), "chromium exited with {status}");
    let size = std::fs::metadata(&shot).map(|m| m.len()).unwrap_or(0);
    assert!(size > 10_000, "the screenshot {} is {size} bytes", shot.display());
    println!("screenshot: {}", shot.display());
}
