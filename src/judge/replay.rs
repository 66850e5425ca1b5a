//! A replay's journal (`brhook replay`): brhook's reference sender sent a capture to a
//! receiver, so only the receiver side is judged (by [`super::receiver`], as for a
//! proxy). Here: what a replay report says besides, from the journal alone, so that
//! `brhook check` on the journal gives the replay's report.

use super::record::VALID;
use super::Cx;
use crate::catalog::{Check, Level, Side, CHECKS};
use crate::common::plural_s;
use crate::journal::{ReplayMeta, UrlSpec};
use crate::protocol::Setting;
use crate::report::{Coverage, Finding, Findings, Skip};

/// The sender-side checks skipped, the replay's notes added; returns the subject.
pub(super) fn finish(
    cx: &Cx,
    m: &ReplayMeta,
    requests: u64,
    events: usize,
    out: &mut Findings,
    cov: &mut Coverage,
) -> String {
    // The sender here is brhook's reference sender: judging it says nothing of the
    // capture nor of the receiver.
    for c in CHECKS.iter().filter(|c| c.id.side() == Side::Sender) {
        cov.skip(c.id, Skip::NotExercised);
    }
    let v1_urls: Vec<&str> = urls(cx.urls, Setting::V1);
    if m.v1_not_sent > 0 && v1_urls.is_empty() {
        cov.skip(Check::R9, Skip::NoV1Url);
    }
    let invalid = cx
        .recs
        .chunk_by(|a, b| (a.id, a.class) == (b.id, b.class))
        .filter(|e| e[0].flags & VALID == 0)
        .count();
    if invalid > 0 {
        out.push(
            Finding::at(
                Check::R1,
                Level::Info,
                "captured bodies that break the protocol themselves were sent, their answers not judged",
            )
            .measured(format!(
                "{invalid} event{}; `brhook check {}` shows why",
                plural_s(invalid as u64),
                m.capture
            )),
        );
    }
    if m.ids_kept > 0 {
        out.push(
            Finding::at(
                Check::R1,
                Level::Info,
                "ids sent as captured: not a GUID, or written with \\u escapes",
            )
            .measured(format!("{} id values", m.ids_kept)),
        );
    }
    let mut to = urls(cx.urls, Setting::V2).join(", ");
    if !v1_urls.is_empty() {
        to.push_str(&format!(" (v1: {})", v1_urls.join(", ")));
    }
    let mut subject = format!(
        "replay of {}: {events} event{} to {to}, {requests} attempt{}, speed {}",
        m.capture,
        plural_s(events as u64),
        plural_s(requests),
        m.speed
    );
    if m.v1_not_sent > 0 && v1_urls.is_empty() {
        subject.push_str(&format!("; {} v1 records not sent (no --v1-to)", m.v1_not_sent));
    }
    subject
}

/// Why a replay that sent nothing fails.
pub(super) fn nothing(m: &ReplayMeta, all: &[UrlSpec]) -> &'static str {
    if m.v1_not_sent > 0 && urls(all, Setting::V1).is_empty() {
        "nothing was replayed: the journal holds only v1 records and no v1 URL was given (--v1-to URL)"
    } else {
        "nothing was replayed: the journal holds no webhook event"
    }
}

/// The receiver URLs of one setting, as given.
fn urls(all: &[UrlSpec], setting: Setting) -> Vec<&str> {
    all.iter()
        .filter(|u| u.setting() == setting)
        .map(|u| u.upstream.as_deref().unwrap_or(&u.name))
        .collect()
}
