//! What `brhook send` sends, as a recorder would: rooms that record one session at a
//! time, times that increase within a room, one path per file (the recorder's default
//! file name template, stamped to the millisecond with the file's open time), a v1 record
//! sent together with its `FileClosed`. The probe cases are in [`super::probe`]; here are
//! the building blocks, the realistic recording, seeded random streams and the load mix.
//!
//! Every body comes from the [`crate::gen`] builders, so it is exactly what the real
//! sender writes.

use crate::catalog::Check;
use crate::gen::{self, EventKind, File, Room, Time, V2x, TICKS_PER_SECOND};
use crate::reference::{scenario::china, Step};
use chrono::FixedOffset;
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use serde_json::Value;
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;
use uuid::Uuid;

/// Between two events the recorder fires without waiting (fire-and-forget handlers).
pub(crate) const PACE: Duration = Duration::from_millis(20);

/// When an item is sent, relative to the items before it in its case.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Start {
    /// Once every earlier item of the case is delivered (2xx or given up): the
    /// receiver sees the case in exactly this order.
    Delivered,
    /// At the same moment as the item before it (a v1 record with its `FileClosed`).
    With,
    /// This long after the item before it was sent, whether or not it was delivered:
    /// the recorder's handlers are fire-and-forget.
    After(Duration),
}

/// What an item's answer time means for R10 (no head-of-line blocking).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Timing {
    /// Judged only by R2.
    Plain,
    /// Sent alone: how fast the receiver answers this kind when nothing else is held.
    Alone,
    /// The event the receiver may hold (a `FileClosed`, which receivers process).
    Held,
    /// Sent just after [`Timing::Held`], while it may be held.
    Beside,
}

/// One body of a case.
#[derive(Clone, Debug)]
pub(crate) struct Item {
    pub step: Step,
    /// What it is, for people: `FileClosed (1.3 shape)`.
    pub label: String,
    /// The check its answer is judged under.
    pub check: Check,
    pub start: Start,
    pub timing: Timing,
    /// Part of the probe's baseline: later cases' failures are compared with it.
    pub baseline: bool,
    /// The known type this body is a variation of, when its `EventType` is not one.
    pub like: Option<EventKind>,
}

/// A named group of bodies: one room (or one stream), sent together.
#[derive(Clone, Debug)]
pub(crate) struct Case {
    /// Stable, file-name-safe: `r6-file-closed-before-file-opening`.
    pub name: String,
    /// What the case does, for the report.
    pub about: String,
    /// Sent after every other case is done, so nothing else is in flight.
    pub alone: bool,
    pub items: Vec<Item>,
    /// How the next item starts unless said otherwise.
    default: Start,
}

impl Case {
    /// A case whose items start `default` (`Start::Delivered`: in order).
    pub(crate) fn new(name: &str, about: &str, default: Start) -> Case {
        Case {
            name: name.into(),
            about: about.into(),
            alone: false,
            items: Vec::new(),
            default,
        }
    }

    fn push(&mut self, step: Step, check: Check, label: String, start: Start) -> &mut Case {
        self.items.push(Item {
            step,
            label,
            check,
            start,
            timing: Timing::Plain,
            baseline: false,
            like: None,
        });
        self
    }

    pub(crate) fn v2(&mut self, check: Check, label: impl Into<String>, v: Value) -> &mut Case {
        let start = self.default;
        self.push(Step::V2(v), check, label.into(), start)
    }

    /// A v1 record, sent together with the item before it.
    pub(crate) fn v1(&mut self, check: Check, label: impl Into<String>, v: Value) -> &mut Case {
        self.push(Step::V1(v), check, label.into(), Start::With)
    }

    /// Sets how the last item starts and what its answer time means.
    pub(crate) fn last(&mut self, start: Start, timing: Timing) -> &mut Case {
        if let Some(it) = self.items.last_mut() {
            it.start = start;
            it.timing = timing;
        }
        self
    }
}

/// `t + seconds + ticks`.
pub(crate) fn at(t: Time, seconds: i64, ticks: i64) -> Time {
    gen::add_ticks(t, seconds * TICKS_PER_SECOND + ticks)
}

fn offset(minutes: i32) -> FixedOffset {
    FixedOffset::east_opt(minutes * 60).expect("offset within ±14:00")
}

/// How the date-times of a session are written.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Form {
    /// +08:00, 7 fraction digits: what the recorder writes at home.
    Real,
    /// Whole seconds: no fraction at all (`...:44+08:00`).
    NoFraction,
    /// 7 fraction digits in this offset (minutes east of UTC).
    Offset(i32),
}

impl Form {
    pub(crate) fn apply(self, t: Time) -> Time {
        match self {
            Form::Real => crate::reference::scenario::seven_digits(t),
            Form::NoFraction => gen::truncate_fraction(t, 0),
            Form::Offset(m) => crate::reference::scenario::seven_digits(t.with_timezone(&offset(m))),
        }
    }
}

/// A room's clock: a room records one session at a time, so every time it hands out is
/// later than the last one.
pub(crate) struct Clock(Time);

impl Clock {
    /// A clock whose first session starts about `minutes_ago` minutes before now.
    pub(crate) fn minutes_ago(minutes: i64) -> Clock {
        Clock(at(chrono::Utc::now().with_timezone(&china()), -60 * minutes, 0))
    }

    /// `seconds + ticks` later than the last time handed out.
    fn tick(&mut self, seconds: i64, ticks: i64) -> Time {
        self.0 = at(self.0, seconds, ticks);
        self.0
    }
}

/// BililiveRecorder's default file name template, `{roomid}-{name}/录制-{roomid}-
/// {yyyyMMdd-HHmmss-fff}-{title}.flv`, the stamp in China time: no two files of a room
/// opened in different milliseconds share a path. Characters a file name cannot hold
/// are replaced, as the recorder does.
pub fn relative_path(room: &Room, open: Time) -> String {
    let clean = |s: &str| -> String {
        s.chars()
            .map(|c| {
                if c.is_control() || r#"\/:*?"<>|"#.contains(c) {
                    '_'
                } else {
                    c
                }
            })
            .collect()
    };
    format!(
        "{id}-{name}/录制-{id}-{stamp}-{title}.flv",
        id = room.room_id,
        name = clean(&room.name),
        stamp = open.with_timezone(&china()).format("%Y%m%d-%H%M%S-%3f"),
        title = clean(&room.title),
    )
}

/// One recorded file, decided before any body that names it is built.
///
/// **workdir hook**: this is the one place a file's `RelativePath`, open and close
/// times, `FileSize` and `Duration` are decided. [`FileHook`] sees each planned file
/// here, before its `FileOpening`, `FileClosed` and v1 record are built and serialised,
/// and may create the file (at `DIR/relative_path`) and write its real size and duration
/// back: every body then states what is on disk.
#[derive(Clone, Debug, PartialEq)]
pub struct PlannedFile {
    /// The file as the events will state it.
    pub file: File,
    /// The case (or random stream) that records it.
    pub case: String,
    /// The size is what the case is about (R8's `FileSize` above 2^32): a hook should
    /// not replace it with a real one.
    pub size_is_tested: bool,
}

/// Called once per planned file (the workdir hook, see [`PlannedFile`]); an `Err` stops
/// the run before anything is sent ([`super::SendError::Io`]).
pub type FileHook = Arc<dyn Fn(&mut PlannedFile) -> Result<(), String> + Send + Sync>;

/// What every builder needs: the file hook, and where ids come from.
pub(crate) struct Ctx {
    pub hook: Option<FileHook>,
}

impl Ctx {
    /// Runs the hook on a file just planned.
    pub(crate) fn plan(&self, case: &str, file: File, size_is_tested: bool) -> Result<File, String> {
        let mut p = PlannedFile {
            file,
            case: case.to_string(),
            size_is_tested,
        };
        if let Some(h) = &self.hook {
            h(&mut p)?;
        }
        Ok(p.file)
    }
}

/// What a session looks like.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Spec {
    pub files: usize,
    pub form: Form,
    pub v2x: bool,
    /// Every file's `FileSize`, when the case is about it.
    pub size: Option<i64>,
}

impl Spec {
    /// `files` ordinary files, real date-time form.
    pub(crate) fn new(files: usize, v2x: bool) -> Spec {
        Spec {
            files,
            form: Form::Real,
            v2x,
            size: None,
        }
    }
}

/// One recording session's worth of data: its id, the room, the files and the times.
pub(crate) struct Session {
    pub room: Room,
    pub id: Uuid,
    pub start: Time,
    pub files: Vec<File>,
    pub end: Time,
    form: Form,
    v2x: bool,
}

impl Session {
    /// The room's next session on `clock`, with `spec.files` files of a few seconds,
    /// each planned through the workdir hook.
    pub(crate) fn new(
        ctx: &Ctx,
        case: &str,
        room: &Room,
        clock: &mut Clock,
        spec: Spec,
    ) -> Result<Session, String> {
        let form = spec.form;
        let start = form.apply(clock.tick(10, 1_234_567));
        let mut files = Vec::new();
        for k in 0..spec.files as i64 {
            let open = form.apply(clock.tick(1, 5_246_401 + 10_001 * k));
            let close = form.apply(at(open, 4, 4_214_700));
            clock.0 = close;
            let file = File {
                relative_path: relative_path(room, open),
                open_time: open,
                close_time: close,
                size: spec.size.unwrap_or(816_412 + 1_000 * k),
                duration: 4.992,
            };
            files.push(ctx.plan(case, file, spec.size.is_some())?);
        }
        let end = form.apply(clock.tick(1, 9_461_101));
        // StreamEnded is stamped a few seconds after the end: the next session is later.
        clock.tick(5, 0);
        Ok(Session {
            room: room.clone(),
            id: Uuid::new_v4(),
            start,
            files,
            end,
            form,
            v2x: spec.v2x,
        })
    }

    pub(crate) fn ts(&self, t: Time, ticks: i64) -> Time {
        self.form.apply(gen::add_ticks(t, ticks))
    }

    pub(crate) fn stream_started(&self) -> Value {
        gen::stream_started(
            &self.room,
            self.ts(self.start, -4_000_123),
            Uuid::new_v4(),
            self.v2x,
        )
    }

    pub(crate) fn session_started(&self) -> Value {
        gen::session_started(
            &self.room,
            self.id,
            self.ts(self.start, 123_457),
            Uuid::new_v4(),
            self.v2x,
        )
    }

    pub(crate) fn file_opening(&self, k: usize) -> Value {
        let f = &self.files[k];
        gen::file_opening(
            &self.room,
            self.id,
            f,
            self.ts(f.open_time, 9_993),
            Uuid::new_v4(),
            self.v2x,
        )
    }

    pub(crate) fn file_closed(&self, k: usize) -> Value {
        let f = &self.files[k];
        gen::file_closed(
            &self.room,
            self.id,
            f,
            self.ts(f.close_time, 2_001),
            Uuid::new_v4(),
            self.v2x,
        )
    }

    pub(crate) fn v1_record(&self, k: usize) -> Value {
        gen::v1_record(&self.room, &self.files[k], Uuid::new_v4())
    }

    pub(crate) fn session_ended(&self) -> Value {
        gen::session_ended(&self.room, self.id, self.end, Uuid::new_v4(), self.v2x)
    }

    pub(crate) fn stream_ended(&self) -> Value {
        gen::stream_ended(
            &self.room,
            self.ts(self.end, 25_432_109),
            Uuid::new_v4(),
            self.v2x,
        )
    }

    /// The session in order: SessionStarted, FileOpening/FileClosed per file (each
    /// FileClosed with its v1 record when `v1`), SessionEnded.
    pub(crate) fn in_order(&self, case: &mut Case, check: Check, note: &str, v1: bool) {
        case.v2(check, format!("SessionStarted{note}"), self.session_started());
        for k in 0..self.files.len() {
            case.v2(check, format!("FileOpening{note}"), self.file_opening(k));
            case.v2(check, format!("FileClosed{note}"), self.file_closed(k));
            if v1 {
                case.v1(Check::R9, "v1 record", self.v1_record(k));
            }
        }
        case.v2(check, format!("SessionEnded{note}"), self.session_ended());
    }

    /// The whole recording: StreamStarted, the session, StreamEnded.
    pub(crate) fn recording(&self, case: &mut Case, check: Check, note: &str, v1: bool) {
        case.v2(check, format!("StreamStarted{note}"), self.stream_started());
        self.in_order(case, check, note, v1);
        case.v2(check, format!("StreamEnded{note}"), self.stream_ended());
    }
}

/// The room of the doc's examples, as room `k` of a run: each case records in its own
/// room, so cases sent at the same time never overlap sessions in one room.
pub(crate) fn room(k: usize) -> Room {
    let mut r = Room::doc_example();
    r.room_id += k as i32;
    if k > 0 {
        r.short_id = 0;
    }
    r
}

/// The realistic recording in 2.x shape and in 1.3 shape (two rooms, at the same time),
/// fired as the recorder fires it: each event [`PACE`] after the last, not waiting for
/// its delivery. v1 records only with `v1`.
pub(crate) fn realistic(ctx: &Ctx, v1: bool) -> Result<Vec<Case>, String> {
    let mut cases = Vec::new();
    for (k, (name, v2x, shape)) in [("realistic-2.x", true, "2.x"), ("realistic-1.3", false, "1.3")]
        .into_iter()
        .enumerate()
    {
        let mut c = Case::new(
            name,
            &format!("a recording in {shape} shape: stream start, a session with three files, v1 records, session end, stream end"),
            Start::After(PACE),
        );
        let mut clock = Clock::minutes_ago(10);
        let s = Session::new(ctx, name, &room(k), &mut clock, Spec::new(3, v2x))?;
        s.recording(&mut c, Check::R1, &format!(" ({shape} shape)"), v1);
        cases.push(c);
    }
    Ok(cases)
}

/// The load mix: realistic recordings in one room, one after another in time (2.x and
/// 1.3 shape in turn), until `events` bodies. v1 records only with `v1`.
pub(crate) fn load(ctx: &Ctx, events: usize, v1: bool) -> Result<Case, String> {
    let mut c = Case::new(
        "load",
        &format!("{events} bodies of realistic recordings"),
        Start::Delivered,
    );
    let mut clock = Clock::minutes_ago(60 + events as i64 / 2);
    let mut v2x = true;
    while c.items.len() < events {
        let s = Session::new(ctx, "load", &room(0), &mut clock, Spec::new(3, v2x))?;
        s.recording(&mut c, Check::R1, "", v1);
        v2x = !v2x;
    }
    c.items.truncate(events);
    Ok(c)
}

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

/// One random stream: a room going live, one session with 0–3 files, the session's end
/// and the stream's end.
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
/// Each file's path is the recorder's template ([`relative_path`]), unique in the run.
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
        let mut room = draw(r, gen::room());
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
        let mut steps = Vec::new();
        let live = draw(r, gen::date_time());
        let k = v2x(r, EventKind::StreamStarted);
        steps.push(Step::V2(gen::stream_started(&room, live, id(r), k)));
        let session = id(r);
        let start = delay(r, live, 30);
        let k = v2x(r, EventKind::SessionStarted);
        steps.push(Step::V2(gen::session_started(&room, session, start, id(r), k)));
        let mut open = delay(r, start, 5);
        let mut last = open;
        for _ in 0..draw(r, 0usize..=3) {
            let mut file = draw(r, gen::file_at(open));
            // One path per file: a later millisecond when this one is taken.
            while !paths.insert(relative_path(&room, file.open_time)) {
                let len = file.close_time - file.open_time;
                file.open_time = at(file.open_time, 0, 10_000);
                file.close_time = file.open_time + len;
            }
            file.relative_path = relative_path(&room, file.open_time);
            let file = ctx.plan(&case, file, false)?;
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
            // The next file opens after this one closed, a millisecond later at least.
            open = at(file.close_time, 0, 10_000);
            last = ts;
        }
        let end = delay(r, last, 2);
        let k = v2x(r, EventKind::SessionEnded);
        steps.push(Step::V2(gen::session_ended(&room, session, end, id(r), k)));
        let k = v2x(r, EventKind::StreamEnded);
        let gone = delay(r, end, 60);
        steps.push(Step::V2(gen::stream_ended(&room, gone, id(r), k)));
        steps.truncate(events - total);
        total += steps.len();
        streams.push(Stream {
            room_id: room.room_id,
            steps,
        });
    }
    Ok(streams)
}

/// The steps of [`random_streams`], one stream after another.
pub fn random_steps(seed: u64, events: usize, v1: bool, exact: bool) -> Vec<Step> {
    random_streams(&Ctx { hook: None }, seed, events, v1, exact)
        .map(|s| s.into_iter().flat_map(|s| s.steps).collect())
        .unwrap_or_default()
}

/// Label of a step: its `EventType`, or `v1 record`.
pub(crate) fn label_of(step: &Step) -> String {
    match step {
        Step::V2(v) => v["EventType"].as_str().unwrap_or("?").to_string(),
        Step::V1(_) => "v1 record".into(),
    }
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
