//! Snapshots of fixed runs, stored in the top-level `snapshots/` folder: the faithful
//! sender's capture in normalized form and its report, and one mutant's report, with
//! everything that varies between runs (ids, times, measured gaps, request numbers,
//! arrival order) redacted or sorted away, so the files change only when behaviour does.
//!
//! A missing snapshot fails (CI sets `INSTA_UPDATE=no`); accept new or changed ones
//! with `cargo insta review`, or `INSTA_UPDATE=always cargo test --test snapshots`.

use brhook::testkit::demo::Demo;
use brhook::testkit::journal::Journal;
use brhook::testkit::normalize::{normalize, redact_report};
use brhook::testkit::reference::Mutant;
use brhook::testkit::report::Report;

/// The fixed scenario: the demo's URLs and faults, back-off scaled to 0.1.
async fn run(mutant: Option<Mutant>) -> (Report, Journal) {
    Demo::fast(mutant).judge().await.expect("endpoint starts")
}

macro_rules! snapshot {
    ($name:expr, $value:expr) => {
        insta::with_settings!({
            snapshot_path => "../snapshots",
            prepend_module_to_snapshot => false,
        }, {
            insta::assert_json_snapshot!($name, $value);
        })
    };
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faithful_sender() {
    let (report, journal) = run(None).await;
    snapshot!("faithful_normalized", normalize(&journal));
    snapshot!("faithful_report", redact_report(&report, &journal));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn string_room_id_mutant() {
    let (report, journal) = run(Some(Mutant::StringRoomId)).await;
    snapshot!("string_room_id_report", redact_report(&report, &journal));
}
