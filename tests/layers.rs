//! The crate's layers import only downward: every `crate::X` path written in a module of
//! `src/` (code or doc link) names a module of a lower layer, so no two top-level modules
//! depend on each other, directly or through others. The table is `src/lib.rs`'s.

use std::collections::BTreeMap;
use std::path::Path;

/// Each top-level module and its layer (`src/lib.rs` documents the same table).
const LAYERS: &[(&str, u8)] = &[
    ("protocol", 0),
    ("catalog", 0),
    ("common", 0),
    ("schema", 1),
    ("lexical", 0),
    ("fault", 1),
    ("finding", 1),
    ("body", 2),
    ("journal", 2),
    ("gen", 2),
    ("report", 3),
    ("reference", 3),
    ("http", 3),
    ("error", 3),
    ("judge", 4),
    ("normalize", 4),
    ("endpoint", 5),
    ("validate", 5),
    ("receiver", 5),
    ("proxy", 6),
    ("demo", 6),
    ("control", 6),
    ("testkit", 7),
];

fn layer(m: &str) -> Option<u8> {
    LAYERS.iter().find(|(n, _)| *n == m).map(|(_, l)| *l)
}

/// The top-level module a file of `src/` belongs to (`None` for lib.rs, main.rs, cli/).
fn module_of(src: &Path, file: &Path) -> Option<String> {
    let rel = file.strip_prefix(src).ok()?;
    let first = rel.components().next()?.as_os_str().to_str()?;
    let m = first.strip_suffix(".rs").unwrap_or(first);
    (!matches!(m, "lib" | "main" | "cli")).then(|| m.to_string())
}

fn files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).expect("src is readable") {
        let p = e.expect("entry").path();
        if p.is_dir() {
            files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// `crate::NAME` paths in a text: the names, in order.
fn crate_paths(text: &str) -> Vec<&str> {
    text.match_indices("crate::")
        .filter(|(i, _)| {
            // `brhook::testkit::crate::` never occurs; skip `$crate::` in macros.
            !text[..*i].ends_with('$')
        })
        .map(|(i, m)| {
            let rest = &text[i + m.len()..];
            let end = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            &rest[..end]
        })
        .collect()
}

#[test]
fn every_module_imports_only_from_lower_layers() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut all = Vec::new();
    files(&src, &mut all);
    let mut upward: BTreeMap<(String, String), String> = BTreeMap::new();
    let mut unknown = Vec::new();
    for f in &all {
        let Some(m) = module_of(&src, f) else { continue };
        let Some(mine) = layer(&m) else {
            unknown.push(m);
            continue;
        };
        let text = std::fs::read_to_string(f).expect("source is UTF-8");
        for to in crate_paths(&text) {
            // Root items (`crate::Error`) and the module's own paths are not edges.
            if to == m || to.starts_with(char::is_uppercase) || to.is_empty() {
                continue;
            }
            match layer(to) {
                Some(theirs) if theirs < mine || m == "testkit" => {}
                Some(_) => {
                    upward
                        .entry((m.clone(), to.to_string()))
                        .or_insert_with(|| f.display().to_string());
                }
                None => unknown.push(to.to_string()),
            }
        }
    }
    unknown.sort();
    unknown.dedup();
    assert!(
        unknown.is_empty(),
        "modules missing from the layer table (add them here and in src/lib.rs): {unknown:?}"
    );
    assert!(
        upward.is_empty(),
        "imports that go up or sideways (move the item down, or the module up):\n{}",
        upward
            .iter()
            .map(|((a, b), f)| format!("  {a} -> {b} (first in {f})"))
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[test]
fn the_scan_sees_an_upward_import() {
    // The check can fail: a lower layer naming a higher one is an edge it reports.
    let text = "use crate::judge::Options;\n/// see [`crate::Error`]\n";
    assert_eq!(crate_paths(text), ["judge", "Error"]);
    assert!(layer("judge") > layer("body"));
}
