//! The recorder's file name templates: where `RelativePath` comes from
//! (`sender-facts.md`, "Files on disk"). A path is the user's template rendered with the
//! room and the file's open time, then cleaned as the recorder cleans it
//! (`FileNameGenerator.RemoveInvalidFileName`): on Linux only NUL is replaced inside
//! the values, and a space or dot before a separator gets `_` after it. So `$`,
//! backticks, `'`, `&`, `"`, `【】` and emoji reach the receiver as they are.
//!
//! Four templates: the 2.x default, the 1.x default (stamped to the second), a custom
//! one with no folder and a custom one with two folders. All stamp the open time in
//! China time, as the 2.x default does.

use crate::gen::{Room, Time, TICKS_PER_SECOND};
use crate::reference::scenario::china;

/// A file name template a recorder may be configured with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Template {
    /// `{{ roomId }}-{{ name }}/录制-{{ roomId }}-{{ "now" | format_date: "yyyyMMdd-HHmmss-fff" }}-{{ title }}.flv`
    V2Default,
    /// 1.x's `{roomid}-{name}/录制-{roomid}-{date}-{time}-{title}.flv`: to the second.
    V1Default,
    /// A custom template without a folder: `{{ roomId }}_{{ "now" | format_date:
    /// "yyyyMMdd_HHmmss_fff" }}_{{ title }}.flv`.
    NoFolder,
    /// A custom template with two folders: `{{ name }}/{{ "now" | format_date:
    /// "yyyy-MM-dd" }}/{{ roomId }}-{{ "now" | format_date: "HHmmss-fff" }}-{{ title }}.flv`.
    TwoFolders,
}

impl Template {
    /// Every template, the 2.x default first.
    pub const ALL: [Template; 4] = [
        Template::V2Default,
        Template::V1Default,
        Template::NoFolder,
        Template::TwoFolders,
    ];

    /// For people: `2.x default`, `no folder`, ...
    pub fn name(self) -> &'static str {
        match self {
            Template::V2Default => "2.x default",
            Template::V1Default => "1.x default",
            Template::NoFolder => "no folder",
            Template::TwoFolders => "two folders",
        }
    }

    /// Files opened this close together may get the same path: the stamp's resolution.
    pub fn resolution_ticks(self) -> i64 {
        match self {
            Template::V1Default => TICKS_PER_SECOND,
            _ => TICKS_PER_SECOND / 1000,
        }
    }

    /// The `RelativePath` of a file of `room` opened at `open`.
    pub fn render(self, room: &Room, open: Time) -> String {
        let t = open.with_timezone(&china());
        let (id, name, title) = (room.room_id, value(&room.name), value(&room.title));
        let path = match self {
            Template::V2Default => format!(
                "{id}-{name}/录制-{id}-{}-{title}.flv",
                t.format("%Y%m%d-%H%M%S-%3f")
            ),
            Template::V1Default => format!(
                "{id}-{name}/录制-{id}-{}-{}-{title}.flv",
                t.format("%Y%m%d"),
                t.format("%H%M%S")
            ),
            Template::NoFolder => format!("{id}_{}_{title}.flv", t.format("%Y%m%d_%H%M%S_%3f")),
            // An empty name would make the path absolute: the recorder finds it outside
            // its work directory and falls back to the default template.
            Template::TwoFolders if name.is_empty() => return Template::V2Default.render(room, open),
            Template::TwoFolders => format!(
                "{name}/{}/{id}-{}-{title}.flv",
                t.format("%Y-%m-%d"),
                t.format("%H%M%S-%3f")
            ),
        };
        before_separator(&path)
    }
}

/// A name or title as it lands in a path. The recorder replaces the OS's invalid file
/// name characters: on Linux only NUL (its `/` would be a folder of the template's
/// making, so it is replaced too). `\` is replaced as well: a Windows receiver, and
/// `--workdir`, read it as a separator, so a path must mean the same everywhere.
fn value(s: &str) -> String {
    s.chars()
        .map(|c| if matches!(c, '\0' | '/' | '\\') { '_' } else { c })
        .collect()
}

/// The recorder's last cleaning step, `([ .])([\\/])` → `$1_$2`: a segment may not end
/// in a space or a dot.
fn before_separator(path: &str) -> String {
    let mut out = String::with_capacity(path.len() + 4);
    let mut prev = None;
    for c in path.chars() {
        if matches!(c, '/' | '\\') && matches!(prev, Some(' ' | '.')) {
            out.push('_');
        }
        out.push(c);
        prev = Some(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gen::parse_time;

    fn room(name: &str, title: &str) -> Room {
        Room {
            name: name.into(),
            title: title.into(),
            ..Room::doc_example()
        }
    }

    #[test]
    fn each_template_renders_as_the_recorder_does() {
        let r = Room::doc_example();
        let t = parse_time("2021-05-14T17:52:50.5246401+08:00");
        let out: Vec<String> = Template::ALL.iter().map(|k| k.render(&r, t)).collect();
        assert_eq!(
            out,
            [
                "23058-3号直播间/录制-23058-20210514-175250-524-哔哩哔哩音悦台.flv",
                "23058-3号直播间/录制-23058-20210514-175250-哔哩哔哩音悦台.flv",
                "23058_20210514_175250_524_哔哩哔哩音悦台.flv",
                "3号直播间/2021-05-14/23058-175250-524-哔哩哔哩音悦台.flv",
            ]
        );
        // China time whatever the offset the event is written in.
        let utc = parse_time("2021-05-14T09:52:50.5246401+00:00");
        assert_eq!(Template::V2Default.render(&r, utc), out[0]);
    }

    #[test]
    fn shell_characters_stay_and_separators_do_not() {
        let r = room("$HOME `id` it's A&B 【歌】🎤", "a/b\\c\0d. ");
        let p = Template::V2Default.render(&r, parse_time("2021-05-14T17:52:50+08:00"));
        assert_eq!(
            p,
            "23058-$HOME `id` it's A&B 【歌】🎤/录制-23058-20210514-175250-000-a_b_c_d. .flv"
        );
        // A name ending in a dot or a space, as a folder of its own: `_` after it.
        let p = Template::TwoFolders.render(&room("dots.", "t"), parse_time("2021-05-14T17:52:50+08:00"));
        assert!(p.starts_with("dots._/2021-05-14/"), "{p}");
        let p = Template::V2Default.render(&room("sp ", "t"), parse_time("2021-05-14T17:52:50+08:00"));
        assert!(p.starts_with("23058-sp _/"), "{p}");
        // An empty name as a whole folder: the recorder falls back to its default.
        let p = Template::TwoFolders.render(&room("", "t"), parse_time("2021-05-14T17:52:50+08:00"));
        assert!(p.starts_with("23058-/录制-"), "{p}");
    }
}
