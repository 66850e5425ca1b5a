//! What a capture serves, told to a machine: the ready file (`--ready-file`) and the
//! environment of a wrapped command (`listen -- CMD`). One type for both, so the two
//! always say the same URLs in the same order.

use brhook::testkit::journal::Setting;
use serde_json::json;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// The URLs a running capture serves, in the order they were given, with the setting
/// of the sender each belongs in.
pub struct Urls {
    /// The bound address (the port actually taken).
    pub addr: SocketAddr,
    /// Name, full URL and setting of each URL, in configuration order.
    pub urls: Vec<(String, String, Setting)>,
}

impl Urls {
    /// From the server's `(name, url)` list; `setting` says which setting each name is in.
    pub fn new(addr: SocketAddr, named: Vec<(String, String)>, setting: impl Fn(&str) -> Setting) -> Urls {
        let urls = named
            .into_iter()
            .map(|(n, u)| {
                let s = setting(&n);
                (n, u, s)
            })
            .collect();
        Urls { addr, urls }
    }

    /// The URLs of one setting, in order: what `WebHookUrlsV2` / `WebHookUrls` take.
    pub fn of(&self, setting: Setting) -> Vec<&str> {
        self.urls
            .iter()
            .filter(|(_, _, s)| *s == setting)
            .map(|(_, u, _)| u.as_str())
            .collect()
    }

    /// The wrapped command's environment: `BRHOOK_URL_<NAME>` per URL (upper-cased,
    /// any other character than a letter or digit as `_`), and `BRHOOK_V2_URLS` /
    /// `BRHOOK_V1_URLS` with one URL per line.
    pub fn env(&self) -> Vec<(String, String)> {
        let mut env: Vec<(String, String)> = self
            .urls
            .iter()
            .map(|(n, u, _)| (env_name(n), u.clone()))
            .collect();
        env.push(("BRHOOK_V2_URLS".into(), self.of(Setting::V2).join("\n")));
        env.push(("BRHOOK_V1_URLS".into(), self.of(Setting::V1).join("\n")));
        env
    }

    /// `arg` with every `{url:NAME}` replaced by that URL; an unknown NAME is an error
    /// that lists the names there are.
    pub fn substitute(&self, arg: &str) -> Result<String, String> {
        let mut out = String::new();
        let mut rest = arg;
        while let Some(at) = rest.find("{url:") {
            out.push_str(&rest[..at]);
            let after = &rest[at + 5..];
            let Some(end) = after.find('}') else {
                out.push_str(&rest[at..]);
                return Ok(out);
            };
            let name = &after[..end];
            let Some((_, url, _)) = self.urls.iter().find(|(n, _, _)| n == name) else {
                let names: Vec<&str> = self.urls.iter().map(|(n, _, _)| n.as_str()).collect();
                return Err(format!(
                    "{{url:{name}}} in the command: no URL is named {name:?} (the names are {})",
                    names.join(", ")
                ));
            };
            out.push_str(url);
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        Ok(out)
    }

    /// The ready file's JSON: `urls` by name, `v2` and `v1` in order, `addr`, brhook's
    /// `pid` and `control` (the control API's URL, or null).
    pub fn to_json(&self, control: Option<&str>) -> serde_json::Value {
        let by_name: serde_json::Map<String, serde_json::Value> =
            self.urls.iter().map(|(n, u, _)| (n.clone(), json!(u))).collect();
        json!({
            "urls": by_name,
            "v2": self.of(Setting::V2),
            "v1": self.of(Setting::V1),
            "addr": self.addr.to_string(),
            "pid": std::process::id(),
            "control": control,
        })
    }
}

/// `BRHOOK_URL_` and the name upper-cased, any other character than A–Z, 0–9 as `_`.
pub fn env_name(name: &str) -> String {
    let tail: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    format!("BRHOOK_URL_{tail}")
}

/// A written ready file; removed when dropped (brhook's exit, normal or by error).
pub struct ReadyFile {
    path: PathBuf,
}

impl ReadyFile {
    /// Writes `urls` (and the control URL, where there is one) to `path` atomically: a
    /// temporary file beside it, then a rename, so a reader that sees the file sees all
    /// of it. Call it once the server accepts connections.
    pub fn write(path: &Path, urls: &Urls, control: Option<&str>) -> Result<ReadyFile, String> {
        let text =
            serde_json::to_string_pretty(&urls.to_json(control)).expect("JSON value serialises") + "\n";
        let mut tmp = path.as_os_str().to_owned();
        tmp.push(format!(".{}.tmp", std::process::id()));
        let tmp = PathBuf::from(tmp);
        let fail = |e: std::io::Error| format!("cannot write the ready file {}: {e}", path.display());
        std::fs::write(&tmp, text).map_err(fail)?;
        std::fs::rename(&tmp, path).map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            fail(e)
        })?;
        Ok(ReadyFile {
            path: path.to_path_buf(),
        })
    }

    /// The file's path (for an exit that skips destructors).
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for ReadyFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn urls() -> Urls {
        let named = vec![
            ("slow".to_string(), "http://127.0.0.1:9/slow".to_string()),
            ("v1".to_string(), "http://127.0.0.1:9/v1".to_string()),
            ("b-2".to_string(), "http://127.0.0.1:9/b-2".to_string()),
        ];
        Urls::new("127.0.0.1:9".parse().unwrap(), named, |n| {
            if n == "v1" {
                Setting::V1
            } else {
                Setting::V2
            }
        })
    }

    #[test]
    fn env_names_urls_and_lists_each_setting_in_order() {
        let env = urls().env();
        let get = |k: &str| env.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        assert_eq!(get("BRHOOK_URL_B_2"), Some("http://127.0.0.1:9/b-2"));
        assert_eq!(get("BRHOOK_URL_SLOW"), Some("http://127.0.0.1:9/slow"));
        assert_eq!(
            get("BRHOOK_V2_URLS"),
            Some("http://127.0.0.1:9/slow\nhttp://127.0.0.1:9/b-2")
        );
        assert_eq!(get("BRHOOK_V1_URLS"), Some("http://127.0.0.1:9/v1"));
    }

    #[test]
    fn substitute_replaces_every_placeholder_and_names_an_unknown_one() {
        let u = urls();
        assert_eq!(
            u.substitute("--to={url:slow},{url:v1}").unwrap(),
            "--to=http://127.0.0.1:9/slow,http://127.0.0.1:9/v1"
        );
        assert_eq!(u.substitute("plain {url:").unwrap(), "plain {url:");
        let e = u.substitute("{url:nope}").unwrap_err();
        assert!(e.contains("\"nope\"") && e.contains("slow, v1, b-2"), "{e}");
    }

    #[test]
    fn ready_file_is_whole_and_removed_on_drop() {
        let dir = std::env::temp_dir().join(format!("brhook-ready-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("ready.json");
        let f = ReadyFile::write(&path, &urls(), Some("http://127.0.0.1:10")).unwrap();
        let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(v["urls"]["b-2"], "http://127.0.0.1:9/b-2");
        assert_eq!(
            v["v2"],
            json!(["http://127.0.0.1:9/slow", "http://127.0.0.1:9/b-2"])
        );
        assert_eq!(v["v1"], json!(["http://127.0.0.1:9/v1"]));
        assert_eq!(v["addr"], "127.0.0.1:9");
        assert_eq!(v["pid"], std::process::id());
        assert_eq!(v["control"], "http://127.0.0.1:10");
        assert_eq!(
            std::fs::read_dir(&dir).unwrap().count(),
            1,
            "no temporary file left"
        );
        drop(f);
        assert!(!path.exists());
        let _ = std::fs::remove_dir(&dir);
    }
}
