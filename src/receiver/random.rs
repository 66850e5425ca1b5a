//! Seeded random valid streams for `brhook send random`: each stream a room of its own,
//! sent at the same time as the others, its events fired as the recorder fires them.

use super::cases::{at, Case, Ctx, Start, PACE};
use super::template::Template;
use crate::catalog::Check;
use crate::gen::{self, EventKind, Time, V2x, TICKS_PER_SECOND};
use crate::reference::Step;
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use std::collections::HashSet;
use uuid::Uuid;

/// The 32-byte ChaCha seed of a `--seed N`.
pub fn seed_bytes(seed: u64) -> [u8; 32] {
    let mut b = [0u8; 32];
    b[..8].copy_from_slice(&seed.to_le_bytes());
    b
}

fn draw<S: Strategy>(runner: &mut TestRunner, s: S) -> S::Value {
    s.new_tree(runner)
        .expect("the gen strategies always produce a value")
        .current()
}

/// One random stream: a room going live (2.x), one session with 0–3 files, the
/// session's end and the stream's end (2.x).
pub(crate) struct Stream {
    /// The room id, for the case name.
    pub room_id: i32,
    pub steps: Vec<Step>,
}

/// Seeded random valid streams, until `events` bodies (the last stream cut short).
/// Everything (rooms, names, times, offsets, fraction digits, sizes, the 1.3 or 2.x
/// shape) is drawn by a `TestRunner` whose ChaCha RNG is seeded with `seed`: the same
/// seed gives the same shapes and values. Ids (`EventId`, `SessionId`,
/// `EventRandomId`) are drawn too, but only kept with `exact`; otherwise each run gets
/// fresh ones, so a second run against a de-duplicating receiver is not all duplicates.
/// Each file's path is one of the recorder's templates ([`Template`], one per stream),
/// unique in the run. Names are what a real room could have ([`gen::real_room`]: no
/// control characters); pre-2.0 streams have no stream events.
pub(crate) fn random_streams(
    ctx: &Ctx,
    seed: u64,
    events: usize,
    v1: bool,
    exact: bool,
) -> Result<Vec<Stream>, String> {
    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &seed_bytes(seed));
    let mut runner = TestRunner::new_with_rng(Config::default(), rng);
    let r = &mut runner;
    let mut paths = HashSet::new();
    let mut streams = Vec::new();
    let mut total = 0;
    let id = |r: &mut TestRunner| -> Uuid {
        let drawn = draw(r, gen::guid());
        if exact {
            drawn
        } else {
            Uuid::new_v4()
        }
    };
    let mut room_ids = HashSet::new();
    while total < events {
        let mut room = draw(r, gen::real_room());
        // Streams are sent at the same time, and a room records one session at a time:
        // one stream per room (the strategy favours edge ids such as i32::MAX).
        while !room_ids.insert(room.room_id) {
            room.room_id = if room.room_id > 1 {
                room.room_id - 1
            } else {
                i32::MAX
            };
        }
        let case = format!("random-seed-{seed}-room-{}", room.room_id);
        let v2x_on = draw(r, any::<bool>());
        let v2x = |r: &mut TestRunner, kind: EventKind| -> V2x {
            if v2x_on {
                V2x::State(draw(r, gen::state_for(kind)))
            } else {
                V2x::Absent
            }
        };
        let delay = |r: &mut TestRunner, t: Time, max_seconds: i64| -> Time {
            draw(r, gen::date_time_after(t, max_seconds * TICKS_PER_SECOND))
        };
        // One recorder per stream, so one template: a 2.x recorder's any of them, a
        // pre-2.0 one's the 1.x default.
        let template = if v2x_on {
            draw(r, proptest::sample::select(Template::ALL.to_vec()))
        } else {
            Template::V1Default
        };
        let mut steps = Vec::new();
        let live = draw(r, gen::date_time());
        let k = v2x(r, EventKind::StreamStarted);
        let started = gen::stream_started(&room, live, id(r), k);
        // Stream events exist only in 2.x (the draw above is kept for the same values).
        if v2x_on {
            steps.push(Step::V2(started));
        }
        let session = id(r);
        let start = delay(r, live, 30);
        let k = v2x(r, EventKind::SessionStarted);
        steps.push(Step::V2(gen::session_started(&room, session, start, id(r), k)));
        let mut open = delay(r, start, 5);
        let mut last = open;
        for _ in 0..draw(r, 0usize..=3) {
            let mut file = draw(r, gen::file_at(open));
            // One path per file: a later stamp when this one is taken.
            while !paths.insert(template.render(&room, file.open_time)) {
                let len = file.close_time - file.open_time;
                file.open_time = at(file.open_time, 0, template.resolution_ticks());
                file.close_time = file.open_time + len;
            }
            file.relative_path = template.render(&room, file.open_time);
            let file = ctx.plan(&case, &room, file, false)?;
            let ts = delay(r, file.open_time, 2);
            let k = v2x(r, EventKind::FileOpening);
            steps.push(Step::V2(gen::file_opening(&room, session, &file, ts, id(r), k)));
            let ts = delay(r, file.close_time, 2);
            let k = v2x(r, EventKind::FileClosed);
            steps.push(Step::V2(gen::file_closed(&room, session, &file, ts, id(r), k)));
            let record = gen::v1_record(&room, &file, id(r));
            if v1 {
                steps.push(Step::V1(record));
            }
            // The next file opens after this one closed, a stamp later at least.
            open = at(file.close_time, 0, template.resolution_ticks());
            last = ts;
        }
        let end = delay(r, last, 2);
        let k = v2x(r, EventKind::SessionEnded);
        steps.push(Step::V2(gen::session_ended(&room, session, end, id(r), k)));
        let k = v2x(r, EventKind::StreamEnded);
        let gone = delay(r, end, 60);
        let ended = gen::stream_ended(&room, gone, id(r), k);
        if v2x_on {
            steps.push(Step::V2(ended));
        }
        steps.truncate(events - total);
        total += steps.len();
        streams.push(Stream {
            room_id: room.room_id,
            steps,
        });
    }
    Ok(streams)
}

/// Seeded random valid streams, one after another: `events` bodies (the last stream cut
/// short). The same seed gives the same shapes and values; ids are fresh each call unless
/// `exact`. Each file's path is one of the recorder's templates ([`Template`]).
pub fn random_steps(seed: u64, events: usize, v1: bool, exact: bool) -> Vec<Step> {
    random_streams(&Ctx { hook: None }, seed, events, v1, exact)
        .map(|s| s.into_iter().flat_map(|s| s.steps).collect())
        .unwrap_or_default()
}

/// Label of a step: its `EventType` and shape, or `v1 record`, with the value form of
/// its date-times (`FileClosed (2.x shape, 3 fraction digits, +05:45)`): what a finding
/// needs to say which form a receiver refused.
pub(crate) fn label_of(step: &Step) -> String {
    let (name, shape, time) = match step {
        Step::V2(v) => {
            let shape = if v["EventData"].get("Recording").is_some() {
                "2.x shape, "
            } else {
                "1.3 shape, "
            };
            (
                v["EventType"].as_str().unwrap_or("?"),
                shape,
                &v["EventTimestamp"],
            )
        }
        Step::V1(v) => ("v1 record", "", &v["StartRecordTime"]),
    };
    let Some(t) = time.as_str() else {
        return name.to_string();
    };
    let digits = t
        .split_once('.')
        .map_or(0, |(_, f)| f.chars().take_while(char::is_ascii_digit).count());
    let offset = if t.ends_with('Z') {
        "Z"
    } else {
        t.get(t.len().saturating_sub(6)..).unwrap_or("")
    };
    format!(
        "{name} ({shape}{digits} fraction digit{}, {offset})",
        if digits == 1 { "" } else { "s" }
    )
}

/// One case per random stream, all sent at the same time (streams are rooms); inside a
/// stream, events are fired [`PACE`] apart as the recorder fires them, a v1 record
/// together with its `FileClosed`.
pub(crate) fn random(
    ctx: &Ctx,
    seed: u64,
    events: usize,
    v1: bool,
    exact: bool,
) -> Result<Vec<Case>, String> {
    let streams = random_streams(ctx, seed, events, v1, exact)?;
    let width = streams.len().to_string().len();
    Ok(streams
        .into_iter()
        .enumerate()
        .map(|(n, s)| {
            let mut c = Case::new(
                &format!("random-seed-{seed}-stream-{n:0width$}"),
                &format!("random stream {n} of seed {seed} (room {})", s.room_id),
                Start::After(PACE),
            );
            for step in s.steps {
                let label = label_of(&step);
                match step {
                    Step::V2(v) => c.v2(Check::R1, label, v),
                    Step::V1(v) => c.v1(Check::R9, label, v),
                };
            }
            c
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::receiver::cases::load;
    use serde_json::Value;

    #[test]
    fn random_is_seeded() {
        let a = random_steps(7, 40, true, true);
        assert_eq!(a.len(), 40);
        assert_eq!(a, random_steps(7, 40, true, true));
        assert_ne!(a, random_steps(8, 40, true, true));
        for s in &a {
            let b = crate::body::judge(&gen::serialize(s.value()));
            assert!(
                b.findings.iter().all(|f| f.level == crate::catalog::Level::Info),
                "{:?}",
                b.findings
            );
        }
    }

    #[test]
    fn without_exact_the_same_seed_has_the_same_values_and_fresh_ids() {
        let strip = |steps: Vec<Step>| -> Vec<Value> {
            steps
                .into_iter()
                .map(|s| {
                    let mut v = s.value().clone();
                    for k in ["EventId", "EventRandomId"] {
                        v.as_object_mut().unwrap().remove(k);
                    }
                    if let Some(d) = v.get_mut("EventData").and_then(Value::as_object_mut) {
                        d.remove("SessionId");
                    }
                    v
                })
                .collect()
        };
        let (a, b) = (random_steps(9, 60, true, false), random_steps(9, 60, true, false));
        assert_ne!(a, b, "fresh ids each run");
        assert_eq!(strip(a), strip(b), "the same shapes and values");
    }

    #[test]
    fn every_file_has_its_own_path() {
        let ctx = Ctx { hook: None };
        let mut paths = HashSet::new();
        for seed in 0..20 {
            for step in random_steps(seed, 80, false, true) {
                if step.event_type() == Some("FileClosed") {
                    let p = step.value()["EventData"]["RelativePath"]
                        .as_str()
                        .unwrap()
                        .to_string();
                    assert!(paths.insert(p.clone()), "{p}");
                }
            }
        }
        for c in load(&ctx, 300, false).unwrap().items {
            if c.step.event_type() == Some("FileClosed") {
                let p = c.step.value()["EventData"]["RelativePath"]
                    .as_str()
                    .unwrap()
                    .to_string();
                assert!(paths.insert(p.clone()), "{p}");
            }
        }
    }
}
