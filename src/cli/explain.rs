//! `brhook checks ID`: one check explained, with a finding it really produces. The
//! example is judged live (a mutant sender against an endpoint, or a body through the
//! body judge), never quoted from a file, so it cannot drift from what brhook reports.

use brhook::testkit::catalog::{Check, Level, Scope};
use brhook::testkit::demo::Demo;
use brhook::testkit::reference::Mutant;
use brhook::testkit::report::text::{render_group, Style};
use brhook::testkit::report::{Group, Report};
use brhook::testkit::validate::{validate, Input};

/// A 2.x `SessionStarted` as the real sender writes it; each body example edits it once.
const SESSION_STARTED: &str = r#"{"EventType":"SessionStarted","EventTimestamp":"2021-05-14T17:52:54.9217245+08:00","EventId":"e3e4a0b8-e1b1-4b8e-9b8a-7e8b2b8c8f01","EventData":{"SessionId":"7c7f3115-be65-4efa-a9c6-e2a1d6e9f8a5","RoomId":23058,"ShortId":3,"Name":"3号直播间","Title":"哔哩哔哩音悦台","AreaNameParent":"生活","AreaNameChild":"影音馆","Recording":true,"Streaming":true,"DanmakuConnected":true}}"#;

/// A v1 record as the real sender writes it.
const V1_RECORD: &str = r#"{"RoomId":23058,"EventRandomId":"0f4a1d3b-5c8e-4f2a-9b7d-1e6c3a8f2d40","RelativePath":"23058-3号直播间/录制-23058-20210514-175254-123-哔哩哔哩音悦台.flv","FileSize":1048576,"StartRecordTime":"2021-05-14T17:52:54.1234567+08:00","EndRecordTime":"2021-05-14T18:52:54.1234567+08:00"}"#;

/// The body that shows a request-scope check without a mutant sender: what it does, and
/// its bytes.
fn example_body(c: Check) -> Option<(&'static str, Vec<u8>)> {
    let edit = |from: &str, to: &str| SESSION_STARTED.replacen(from, to, 1).into_bytes();
    Some(match c {
        Check::T4 => ("a body that starts with a UTF-8 BOM", {
            let mut b = b"\xEF\xBB\xBF".to_vec();
            b.extend_from_slice(SESSION_STARTED.as_bytes());
            b
        }),
        Check::S1 => (
            "an EventId that is not a GUID",
            edit("e3e4a0b8-e1b1-4b8e-9b8a-7e8b2b8c8f01", "evt-0001"),
        ),
        Check::S3 => (
            "an EventType brhook does not know",
            edit(r#""SessionStarted""#, r#""RecordingPaused""#),
        ),
        Check::S4 => (
            "an EventData field the schema does not list",
            edit(r#""RoomId":23058"#, r#""RoomId":23058,"Uid":1"#),
        ),
        Check::S5 => (
            "a v1 record whose FileSize is a string",
            V1_RECORD.replacen("1048576", r#""1048576""#, 1).into_bytes(),
        ),
        Check::S6 => (
            "an EventTimestamp written in UTC with Z, as Go and JavaScript do",
            edit("2021-05-14T17:52:54.9217245+08:00", "2021-05-14T09:52:54.921Z"),
        ),
        Check::S7 => (
            "a SessionStarted without the 2.x booleans",
            edit(
                r#","Recording":true,"Streaming":true,"DanmakuConnected":true"#,
                "",
            ),
        ),
        _ => return None,
    })
}

/// Where an example comes from, and the report it produced.
struct Example {
    how: String,
    report: Report,
}

fn run_example(c: Check) -> Result<Option<Example>, String> {
    if let Some(m) = Mutant::ALL.iter().copied().find(|m| m.check() == c) {
        let rt = tokio::runtime::Runtime::new().map_err(|e| format!("cannot start the runtime: {e}"))?;
        let (report, _) = rt
            .block_on(Demo::fast(Some(m)).judge())
            .map_err(|e| format!("the example run failed: {e}"))?;
        let how = format!(
            "`brhook demo --mutant {}` (a sender that {})",
            m.name(),
            m.description()
        );
        return Ok(Some(Example { how, report }));
    }
    Ok(example_body(c).map(|(what, bytes)| Example {
        how: format!("`brhook validate` on {what}"),
        report: validate(
            &[Input {
                source: "example.json".into(),
                bytes,
                truncated_at: None,
            }],
            false,
        ),
    }))
}

/// The group of `c` an example shows: its worst one.
fn group_of(r: &Report, c: Check) -> Option<&Group> {
    let rank = |l: Level| match l {
        Level::Fail => 0,
        Level::Warn => 1,
        Level::Info => 2,
    };
    r.groups
        .iter()
        .filter(|g| g.check == c)
        .min_by_key(|g| rank(g.level))
}

/// One check: its clause, where it is judged, what passes, what fails, and an example.
pub fn explain(c: Check, json: bool) -> Result<i32, String> {
    let info = c.info();
    let scope = match info.scope {
        Scope::Request => "on every request: its headers and body",
        Scope::Delivery => "over the attempts of one event at one URL",
        Scope::FanOut => "across the URLs of one setting",
        Scope::Stream => "over the whole captured stream",
        // Where each receiver check can run: some need brhook as the sender.
        Scope::Receiver => match c {
            Check::R4 => "by `brhook send probe` only: real traffic carries no crafted extra fields",
            Check::R11 => "by `brhook send` only: it watches refusals and connects again after --settle",
            Check::R12 => "by `brhook send` and `brhook replay` with --workdir (inotify, Linux): the receiver's opens of the files",
            _ => "by `brhook send`, against a receiver (and by `brhook proxy` and `brhook replay`, from real and captured traffic)",
        },
    };
    let mutants: Vec<Mutant> = Mutant::ALL.iter().copied().filter(|m| m.check() == c).collect();
    let example = run_example(c)?;
    let shown = example
        .as_ref()
        .and_then(|e| group_of(&e.report, c).map(|g| (e, g)));
    // A check whose example does not trip it is a defect of the example: say so.
    let missing = example.is_some() && shown.is_none();
    if json {
        let v = serde_json::json!({
            "id": c, "level": info.level, "title": info.title, "source": info.source,
            "scope": info.scope, "judged": scope,
            "tripped_by": mutants.iter().map(|m| serde_json::json!({
                "mutant": m.name(), "does": m.description(), "demo": format!("brhook demo --mutant {}", m.name()),
            })).collect::<Vec<_>>(),
            "example": shown.map(|(e, g)| serde_json::json!({"from": e.how, "group": g})),
        });
        say!("{}", serde_json::to_string_pretty(&v).expect("JSON serialises"));
        return Ok(if missing { 1 } else { 0 });
    }
    say!("{c} ({}): {}", info.level, info.title);
    say!("  source:  {}", info.source);
    say!("  judged:  {scope}");
    say!("  passes:  when a capture shows no finding of it, and it ran (a check that could not run is `skipped` with its reason, never passed)");
    if c == Check::F3 {
        // F3's run is itself a condition on timing: say which.
        say!("  runs:    only when some event reached another URL after a delay URL received it and before its answer was released; a sender that reaches the delay URL last every time leaves it `skipped` (put a delay URL first, or add a second one)");
    }
    if info.scope == Scope::Receiver {
        say!("  fails:   a receiver that does not meet it; `brhook send probe --to URL` sends the cases that show it, `brhook proxy --to NAME=URL` watches real traffic");
    } else if let Some((what, _)) = example_body(c).filter(|_| mutants.is_empty()) {
        let label = if info.level == Level::Info {
            "shown:  "
        } else {
            "fails:  "
        };
        say!("  {label} for example, {what}");
    } else if c == Check::D7 {
        say!("  fails:   a sender that closes the connection before 100 s while an answer is held (see it: `brhook listen --url slow=delay:120000`)");
    } else if mutants.is_empty() {
        say!("  fails:   see the title; brhook's reference sender has no mutant for it");
    }
    for m in &mutants {
        say!(
            "  fails:   a sender that {} (see it: `brhook demo --mutant {}`)",
            m.description(),
            m.name()
        );
    }
    match shown {
        Some((e, g)) => {
            say!("\nExample: the finding {} gives:", e.how);
            let style = Style {
                examples: 1,
                verbose: true,
                ..Style::plain()
            };
            print!("{}", render_group(g, &style));
        }
        None if missing => {
            say!("\nThe example run did not trip {c}: please report this as a brhook bug.");
            return Ok(1);
        }
        None => {}
    }
    Ok(0)
}
