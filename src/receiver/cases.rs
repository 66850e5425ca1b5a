//! What `brhook send` sends, as a recorder would: rooms that record one session at a
//! time, times that increase within a room, one path per file (the recorder's default
//! file name template, stamped to the millisecond with the file's open time), a v1 record
//! sent together with its `FileClosed`. The probe cases are in [`super::probe`], seeded
//! random streams in [`super::random`]; here are the building blocks, the realistic
//! recording and the load mix.
//!
//! Every body comes from the [`crate::gen`] builders, so it is exactly what the real
//! sender writes.

use super::template::Template;
use crate::catalog::Check;
use crate::gen::{self, EventKind, File, Room, Time, TICKS_PER_SECOND};
use crate::reference::{scenario::china, Step};
use chrono::FixedOffset;
use serde_json::Value;
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
    /// Sets the case up (not its variation): its 2xx does not pass the case's check.
    pub setup: bool,
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
            setup: false,
        });
        self
    }

    /// Marks the last item as setting the case up ([`Item::setup`]).
    pub(crate) fn setup(&mut self) -> &mut Case {
        if let Some(it) = self.items.last_mut() {
            it.setup = true;
        }
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

/// BililiveRecorder's default file name template (2.x), `{roomId}-{name}/录制-{roomId}-
/// {yyyyMMdd-HHmmss-fff}-{title}.flv`, the stamp in China time: no two files of a room
/// opened in different milliseconds share a path. Names are cleaned as the recorder
/// cleans them ([`Template`]).
pub fn relative_path(room: &Room, open: Time) -> String {
    Template::V2Default.render(room, open)
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
    /// The room that records it (for the danmaku XML's record info).
    pub room: Room,
    /// The case (or random stream) that records it.
    pub case: String,
    /// The size is what the case is about (R8's `FileSize` above 2^32): a hook should
    /// not replace it with a real one.
    pub size_is_tested: bool,
}

/// Called once per planned file (the workdir hook, see [`PlannedFile`]); an `Err` stops
/// the run before anything is sent ([`super::SendError::Io`]).
pub type FileHook = Arc<dyn Fn(&mut PlannedFile) -> Result<(), String> + Send + Sync>;

/// What every builder needs: the workdir hook.
pub(crate) struct Ctx {
    pub hook: Option<FileHook>,
}

impl Ctx {
    /// Runs the hook on a file just planned.
    pub(crate) fn plan(
        &self,
        case: &str,
        room: &Room,
        file: File,
        size_is_tested: bool,
    ) -> Result<File, String> {
        let mut p = PlannedFile {
            file,
            room: room.clone(),
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
    /// The recorder's file name template.
    pub template: Template,
}

impl Spec {
    /// `files` ordinary files, real date-time form, the default template of the shape's
    /// era (a 1.3-shape session's paths follow the 1.x default).
    pub(crate) fn new(files: usize, v2x: bool) -> Spec {
        Spec {
            files,
            form: Form::Real,
            v2x,
            size: None,
            template: if v2x {
                Template::V2Default
            } else {
                Template::V1Default
            },
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
                relative_path: spec.template.render(room, open),
                open_time: open,
                close_time: close,
                size: spec.size.unwrap_or(816_412 + 1_000 * k),
                duration: 4.992,
            };
            files.push(ctx.plan(case, room, file, spec.size.is_some())?);
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

    /// The whole recording: StreamStarted, the session, StreamEnded. Stream events
    /// exist only in 2.x: a 1.3-shape recording is the session alone.
    pub(crate) fn recording(&self, case: &mut Case, check: Check, note: &str, v1: bool) {
        if self.v2x {
            case.v2(check, format!("StreamStarted{note}"), self.stream_started());
        }
        self.in_order(case, check, note, v1);
        if self.v2x {
            case.v2(check, format!("StreamEnded{note}"), self.stream_ended());
        }
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
            &format!(
                "a recording in {shape} shape: {}a session with three files, v1 records, session end{}",
                if v2x { "stream start, " } else { "" },
                if v2x {
                    ", stream end"
                } else {
                    " (1.3 has no stream events)"
                },
            ),
            Start::After(PACE),
        );
        let mut clock = Clock::minutes_ago(10);
        let s = Session::new(ctx, name, &room(k), &mut clock, Spec::new(3, v2x))?;
        s.recording(&mut c, Check::R1, &format!(" ({shape} shape)"), v1);
        cases.push(c);
    }
    Ok(cases)
}

/// `events` bodies of realistic recordings, alternating 2.x and 1.3 shape, built a
/// recording at a time as they are sent ([`LoadGen::next_moment`]): the bodies are
/// those of one long case, but memory holds only the recording being sent.
pub(crate) struct LoadGen {
    ctx: Ctx,
    clock: Clock,
    v2x: bool,
    v1: bool,
    events: usize,
    /// Bodies built so far (at most `events`).
    made: usize,
    /// Bodies handed out so far: the next one's position in the case.
    next: usize,
    pending: std::collections::VecDeque<Item>,
}

impl LoadGen {
    pub(crate) fn new(ctx: Ctx, events: usize, v1: bool) -> LoadGen {
        LoadGen {
            ctx,
            clock: Clock::minutes_ago(60 + events as i64 / 2),
            v2x: true,
            v1,
            events,
            made: 0,
            next: 0,
            pending: std::collections::VecDeque::new(),
        }
    }

    /// The load case's name and what it sends.
    pub(crate) fn about(&self) -> (String, String) {
        (
            "load".into(),
            format!("{} bodies of realistic recordings", self.events),
        )
    }

    fn refill(&mut self) -> Result<(), String> {
        while self.pending.is_empty() && self.made < self.events {
            let mut c = Case::new("load", "", Start::Delivered);
            let s = Session::new(
                &self.ctx,
                "load",
                &room(0),
                &mut self.clock,
                Spec::new(3, self.v2x),
            )?;
            s.recording(&mut c, Check::R1, "", self.v1);
            self.v2x = !self.v2x;
            let take = c.items.len().min(self.events - self.made);
            self.made += take;
            self.pending.extend(c.items.into_iter().take(take));
        }
        Ok(())
    }

    /// The next moment (an item and those sent with it), with its first item's position;
    /// `None` once `events` bodies are handed out.
    pub(crate) fn next_moment(&mut self) -> Result<Option<(usize, Vec<Item>)>, String> {
        self.refill()?;
        let Some(first) = self.pending.pop_front() else {
            return Ok(None);
        };
        let at = self.next;
        let mut moment = vec![first];
        while self.pending.front().is_some_and(|it| it.start == Start::With) {
            moment.extend(self.pending.pop_front());
        }
        self.next += moment.len();
        Ok(Some((at, moment)))
    }
}

/// The whole load case at once (tests compare it with other mixes).
#[cfg(test)]
pub(crate) fn load(ctx: &Ctx, events: usize, v1: bool) -> Result<Case, String> {
    let mut g = LoadGen::new(
        Ctx {
            hook: ctx.hook.clone(),
        },
        events,
        v1,
    );
    let (name, about) = g.about();
    let mut c = Case::new(&name, &about, Start::Delivered);
    while let Some((_, items)) = g.next_moment()? {
        c.items.extend(items);
    }
    Ok(c)
}
