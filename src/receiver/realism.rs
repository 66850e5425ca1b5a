//! Tests that everything `brhook send` sends is traffic a real recorder could send
//! (`sender-facts.md`): stream events only in 2.x shape, no control characters in
//! names, paths from every template, unique and relative. A receiver that trips on
//! anything else would be no real-world finding.

use super::cases::{load, realistic, Case, Ctx};
use super::probe::probe;
use super::random::{random, random_steps};
use super::template::Template;
use crate::reference::Step;
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use serde_json::Value;
use std::collections::HashSet;

fn ctx() -> Ctx {
    Ctx { hook: None }
}

/// Every mode's cases: probe, realistic, load, and random over a few seeds.
fn every_mode() -> Vec<(String, Vec<Case>)> {
    let mut out = vec![
        ("probe".to_string(), probe(&ctx(), true).unwrap()),
        ("realistic".to_string(), realistic(&ctx(), true).unwrap()),
        ("load".to_string(), vec![load(&ctx(), 300, true).unwrap()]),
    ];
    for seed in 0..12 {
        out.push((
            format!("random {seed}"),
            random(&ctx(), seed, 120, true, true).unwrap(),
        ));
    }
    out
}

fn steps(cases: &[Case]) -> impl Iterator<Item = &Step> {
    cases.iter().flat_map(|c| c.items.iter().map(|it| &it.step))
}

#[test]
fn stream_events_only_in_2x_shape() {
    let mut seen = 0;
    for (mode, cases) in every_mode() {
        for s in steps(&cases) {
            if matches!(s.event_type(), Some("StreamStarted" | "StreamEnded")) {
                seen += 1;
                let d = &s.value()["EventData"];
                for k in ["Recording", "Streaming", "DanmakuConnected"] {
                    assert!(
                        d[k].is_boolean(),
                        "{mode}: a 1.3-shape stream event: {}",
                        s.value()
                    );
                }
            }
        }
    }
    assert!(seen > 20, "stream events were sent: {seen}");
    // The body strategies too: never a stream event without the booleans.
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    for kind in [
        crate::gen::EventKind::StreamStarted,
        crate::gen::EventKind::StreamEnded,
    ] {
        for _ in 0..64 {
            let v = crate::gen::any_event_of(kind)
                .new_tree(&mut runner)
                .unwrap()
                .current();
            assert!(v["EventData"]["Recording"].is_boolean(), "{v}");
        }
    }
}

#[test]
fn paths_come_from_every_template_unique_and_relative() {
    let mut forms = HashSet::new();
    for (mode, cases) in every_mode() {
        let mut paths = HashSet::new();
        for s in steps(&cases) {
            let v = s.value();
            let d = v.get("EventData").unwrap_or(v);
            let Some(p) = d["RelativePath"].as_str() else {
                continue;
            };
            if s.event_type() == Some("FileOpening") {
                assert!(paths.insert(p.to_string()), "{mode}: {p} twice");
            }
            assert!(p.ends_with(".flv") && !p.starts_with('/'), "{mode}: {p}");
            assert!(
                p.split('/')
                    .all(|seg| !seg.is_empty() && seg != "." && seg != ".."),
                "{mode}: {p}"
            );
            assert!(!p.contains(['\0', '\\']), "{mode}: {p:?}");
            // Which template: by the folders and the stamp's shape.
            let segs: Vec<&str> = p.split('/').collect();
            let form = match segs.len() {
                1 => Template::NoFolder,
                3 => Template::TwoFolders,
                _ if segs[1].split('-').nth(4).is_some_and(|ms| ms.len() == 3) => Template::V2Default,
                _ => Template::V1Default,
            };
            forms.insert((mode.split(' ').next().unwrap().to_string(), form));
        }
    }
    for t in Template::ALL {
        assert!(
            forms.contains(&("probe".into(), t)),
            "the probe sends {}",
            t.name()
        );
        assert!(forms.contains(&("random".into(), t)), "random sends {}", t.name());
    }
    // The probe's path forms are R8 cases of their own, and the shell characters reach
    // the path unchanged.
    let probe = probe(&ctx(), false).unwrap();
    let shell = probe
        .iter()
        .find(|c| c.name == "r8-path-shell-characters")
        .unwrap();
    let p = shell.items[1].step.value()["EventData"]["RelativePath"]
        .as_str()
        .unwrap();
    for c in ["$", "`", "'", "&", "【", "】", "🎤"] {
        assert!(p.contains(c), "{c} in {p}");
    }
    let flat = probe.iter().find(|c| c.name == "r8-path-without-folder").unwrap();
    assert!(flat.items.iter().all(|it| it.check == crate::catalog::Check::R8));
}

/// Every string a body holds, keys excepted.
fn strings(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => out.push(s.clone()),
        Value::Array(a) => a.iter().for_each(|x| strings(x, out)),
        Value::Object(m) => m.values().for_each(|x| strings(x, out)),
        _ => {}
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Random names, titles, areas and paths hold no control character (C0, DEL, C1),
    /// for any seed; emoji, quotes and backslashes stay possible.
    #[test]
    fn random_sends_no_control_characters(seed in any::<u64>()) {
        let mut all = Vec::new();
        for s in random_steps(seed, 60, true, true) {
            strings(s.value(), &mut all);
        }
        for s in &all {
            prop_assert!(!s.chars().any(char::is_control), "{s:?}");
        }
    }

    #[test]
    fn real_text_has_no_control_characters(s in crate::gen::real_text()) {
        prop_assert!(!s.chars().any(char::is_control), "{s:?}");
    }
}

#[test]
fn real_text_keeps_what_serialisers_trip_on() {
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let mut all = String::new();
    for _ in 0..400 {
        all.push_str(&crate::gen::real_text().new_tree(&mut runner).unwrap().current());
    }
    for c in ['"', '\\', '\'', '$', '`', '&', '【'] {
        assert!(all.contains(c), "{c:?} drawn");
    }
    assert!(
        all.chars().any(|c| ('\u{1f300}'..='\u{1faff}').contains(&c)),
        "emoji drawn"
    );
}
