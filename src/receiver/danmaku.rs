//! The danmaku (chat) XML the recorder writes beside each recording when danmaku
//! recording is on (`--danmaku`): the same path with `.xml`, in the format of
//! BililiveRecorder's `BasicDanmakuWriter` (UTF-8 with a BOM, two-space indents, root
//! `<i>` with the bilibili video-danmaku header elements, `<BililiveRecorder version>`,
//! `<BililiveRecorderRecordInfo>` with the room, then `<d>` comments, a `<gift>`, a
//! `<sc>` (Super Chat) and a `<guard>`). The recorder's embedded XSL style sheet is left
//! out. A few lines spread over the file's duration; their text holds what XML
//! escaping and shells trip on.

use crate::gen::{format_date_time, File, Room};

/// The version `<BililiveRecorder>` names (the User-Agent's example version).
const VERSION: &str = "2.17.3";

/// The `.xml` beside a recording: its path with the extension replaced (or added).
pub fn path_for(relative: &str) -> String {
    let name_start = relative.rfind(['/', '\\']).map_or(0, |i| i + 1);
    match relative[name_start..].rfind('.') {
        Some(dot) if dot > 0 => format!("{}.xml", &relative[..name_start + dot]),
        _ => format!("{relative}.xml"),
    }
}

/// What the recorder strips from every text before writing it: control characters but
/// tab, LF and CR, DEL to U+009F, U+FEFF, U+FFFE, U+FFFF (lone surrogates cannot occur
/// in a Rust string). A text of only white space is written empty.
fn clean(s: &str) -> String {
    if s.trim().is_empty() {
        return String::new();
    }
    s.chars()
        .filter(|&c| {
            !matches!(c, '\0'..='\u{8}' | '\u{b}' | '\u{c}' | '\u{e}'..='\u{1f}' | '\u{7f}'..='\u{9f}' | '\u{feff}' | '\u{fffe}' | '\u{ffff}')
        })
        .collect()
}

/// XML text: `&`, `<`, `>` escaped; in an attribute also `"` and the white space a
/// parser would normalise (as .NET's `XmlWriter` writes them).
fn escape(s: &str, attribute: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for c in clean(s).chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' if attribute => out.push_str("&quot;"),
            '\n' if attribute => out.push_str("&#xA;"),
            '\r' => out.push_str("&#xD;"),
            '\t' if attribute => out.push_str("&#x9;"),
            c => out.push(c),
        }
    }
    out
}

/// The danmaku XML of `file`, recorded in `room`: UTF-8 bytes with the BOM.
pub fn xml(room: &Room, file: &File, duration_secs: f64) -> Vec<u8> {
    let a = |s: &str| escape(s, true);
    let start_ms = file.open_time.timestamp_millis();
    // Comments at a tenth, a third, a half and nine tenths of the file.
    let at = |fraction: f64| (duration_secs.max(0.0) * fraction * 1000.0).round() / 1000.0;
    let mut x = String::from("\u{feff}<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<i>\n");
    x.push_str(&format!(
        "  <!--\nmikufans录播姬 {VERSION} (as written by brhook)\nhttps://rec.danmuji.org/user/danmaku/\n本文件的弹幕信息兼容mikufans主站视频弹幕XML格式\n\nsc 为SuperChat\ngift为礼物\nguard为上船\n-->\n"
    ));
    for (k, v) in [
        ("chatserver", "chat.bilibili.com"),
        ("chatid", "0"),
        ("mission", "0"),
        ("maxlimit", "1000"),
        ("state", "0"),
        ("real_name", "0"),
        ("source", "0"),
    ] {
        x.push_str(&format!("  <{k}>{v}</{k}>\n"));
    }
    x.push_str(&format!("  <BililiveRecorder version=\"{VERSION}\" />\n"));
    x.push_str(&format!(
        "  <BililiveRecorderRecordInfo roomid=\"{}\" shortid=\"{}\" name=\"{}\" title=\"{}\" areanameparent=\"{}\" areanamechild=\"{}\" start_time=\"{}\" />\n",
        room.room_id,
        room.short_id,
        a(&room.name),
        a(&room.title),
        a(&room.area_parent),
        a(&room.area_child),
        format_date_time(&file.open_time),
    ));
    let comments: [(f64, u32, &str, &str); 4] = [
        (at(0.1), 1001, "观众甲", "来了来了 (=・ω・=)"),
        (
            at(0.33),
            2002,
            "Tom & \"Jerry\"",
            "<b>不是标签</b> & 不是实体 &amp;",
        ),
        (at(0.5), 3003, "$USER", "$(rm -rf ~) `id` it's fine 🎉"),
        (at(0.9), 4004, "【舰长】小明", "下次见！"),
    ];
    for (ts, uid, user, text) in comments {
        let st = start_ms + (ts * 1000.0) as i64;
        x.push_str(&format!(
            "  <d p=\"{ts:.3},1,25,16777215,{st},0,{uid},0\" user=\"{}\">{}</d>\n",
            a(user),
            escape(text, false)
        ));
    }
    x.push_str(&format!(
        "  <gift ts=\"{:.3}\" user=\"观众甲\" uid=\"1001\" giftname=\"辣条\" giftcount=\"5\" />\n",
        at(0.2)
    ));
    x.push_str(&format!(
        "  <sc ts=\"{:.3}\" user=\"Tom &amp; &quot;Jerry&quot;\" uid=\"2002\" price=\"30\" time=\"60\">{}</sc>\n",
        at(0.4),
        escape("醒目留言 <3 & 'quotes'", false)
    ));
    x.push_str(&format!(
        "  <guard ts=\"{:.3}\" user=\"【舰长】小明\" uid=\"4004\" level=\"3\" count=\"1\" />\n",
        at(0.6)
    ));
    x.push_str("</i>");
    x.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn beside_the_recording() {
        assert_eq!(path_for("23058-房间/录制-23058.flv"), "23058-房间/录制-23058.xml");
        assert_eq!(path_for("a.b/c.flv"), "a.b/c.xml");
        assert_eq!(path_for("a.b/c"), "a.b/c.xml");
        assert_eq!(path_for("flat.flv"), "flat.xml");
    }

    #[test]
    fn texts_are_escaped_and_cleaned() {
        assert_eq!(
            escape("a&b<c>\"d\"\n", true),
            "a&amp;b&lt;c&gt;&quot;d&quot;&#xA;"
        );
        assert_eq!(escape("a\"b\u{1}\u{85}\u{feff}c", false), "a\"bc");
        assert_eq!(escape("   ", true), "");
    }

    /// A strict reader of the XML subset the writer uses: the declaration, comments,
    /// elements with double-quoted attributes, text; every `&` an entity of the five or
    /// a character reference, no `<` in text or attributes, tags balanced, one root.
    /// Returns the elements' names in document order.
    fn well_formed(x: &str) -> Result<Vec<String>, String> {
        fn entities_ok(s: &str) -> bool {
            s.split('&').skip(1).all(|rest| {
                let Some(end) = rest.find(';') else { return false };
                let e = &rest[..end];
                ["amp", "lt", "gt", "quot", "apos"].contains(&e)
                    || e.strip_prefix("#x")
                        .is_some_and(|h| u32::from_str_radix(h, 16).is_ok())
            }) && !s.contains('<')
        }
        let x = x.strip_prefix('\u{feff}').ok_or("no BOM")?;
        let mut rest = x
            .strip_prefix("<?xml version=\"1.0\" encoding=\"utf-8\"?>")
            .ok_or("no declaration")?;
        let (mut stack, mut names, mut roots) = (Vec::<String>::new(), Vec::new(), 0);
        while !rest.is_empty() {
            let lt = rest.find('<').unwrap_or(rest.len());
            let text = &rest[..lt];
            if !entities_ok(text) || (stack.is_empty() && !text.trim().is_empty()) {
                return Err(format!("bad text {text:?}"));
            }
            rest = &rest[lt..];
            if rest.is_empty() {
                break;
            }
            if let Some(c) = rest.strip_prefix("<!--") {
                let end = c.find("-->").ok_or("open comment")?;
                if c[..end].contains("--") {
                    return Err("-- in a comment".into());
                }
                rest = &c[end + 3..];
                continue;
            }
            let gt = rest.find('>').ok_or("open tag")?;
            let tag = &rest[1..gt];
            rest = &rest[gt + 1..];
            if let Some(name) = tag.strip_prefix('/') {
                if stack.pop().as_deref() != Some(name) {
                    return Err(format!("</{name}> closes nothing open"));
                }
                continue;
            }
            let empty = tag.ends_with('/');
            let tag = tag.trim_end_matches('/').trim_end();
            let (name, mut attrs) = tag.split_once(' ').unwrap_or((tag, ""));
            if name.is_empty() || !name.chars().all(|c| c.is_alphanumeric() || c == '_') {
                return Err(format!("bad name {name:?}"));
            }
            while !attrs.trim().is_empty() {
                let eq = attrs.find("=\"").ok_or(format!("bad attribute in {tag}"))?;
                let key = attrs[..eq].trim();
                if key.is_empty() || !key.chars().all(|c| c.is_alphanumeric() || c == '_') {
                    return Err(format!("bad attribute name {key:?}"));
                }
                let v = &attrs[eq + 2..];
                let end = v.find('"').ok_or("open attribute")?;
                if !entities_ok(&v[..end]) {
                    return Err(format!("bad attribute value {:?}", &v[..end]));
                }
                attrs = &v[end + 1..];
            }
            if stack.is_empty() {
                roots += 1;
            }
            names.push(name.to_string());
            if !empty {
                stack.push(name.to_string());
            }
        }
        if !stack.is_empty() || roots != 1 {
            return Err(format!("unclosed {stack:?} or {roots} roots"));
        }
        Ok(names)
    }

    #[test]
    fn the_xml_is_well_formed_in_the_recorder_s_format() {
        let mut room = Room::doc_example();
        room.name = "Tom & \"Jerry\" <b> $HOME \u{1}".into();
        room.title = "【歌回】it's 🎤 &amp;".into();
        let file = File::doc_example();
        let x = String::from_utf8(xml(&room, &file, file.duration)).unwrap();
        let names = well_formed(&x).unwrap_or_else(|e| panic!("{e}\n{x}"));
        assert_eq!(names[0], "i");
        for n in [
            "chatserver",
            "BililiveRecorder",
            "BililiveRecorderRecordInfo",
            "d",
            "gift",
            "sc",
            "guard",
        ] {
            assert!(names.iter().any(|m| m == n), "<{n}> in\n{x}");
        }
        assert!(
            x.contains("name=\"Tom &amp; &quot;Jerry&quot; &lt;b&gt; $HOME \""),
            "{x}"
        );
        assert!(
            x.contains("start_time=\"2021-05-14T17:52:50.5246401+08:00\""),
            "{x}"
        );
        // A comment's `p`: seconds into the file (3 decimals), type, size, colour, unix
        // ms, pool, uid, 0; the last one before the file's end.
        assert!(
            x.contains("<d p=\"4.493,1,25,16777215,1620985975017,0,4004,0\""),
            "{x}"
        );
        // The checker refuses what is not well-formed.
        assert!(
            well_formed("\u{feff}<?xml version=\"1.0\" encoding=\"utf-8\"?><i><d>a & b</d></i>").is_err()
        );
        assert!(well_formed("\u{feff}<?xml version=\"1.0\" encoding=\"utf-8\"?><i><d></i></d>").is_err());
    }
}
