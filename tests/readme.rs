//! The README stays true: its catalogue is `brhook checks --format markdown`, its CI
//! example runs as written, its ready-file example has the real keys.

#[test]
fn readme_catalogue_matches_the_code() {
    let readme = std::fs::read_to_string("README.md").unwrap();
    let start = readme
        .find("<!-- catalogue:start")
        .expect("catalogue start marker");
    let start = readme[start..].find('\n').unwrap() + start + 1;
    let end = readme
        .find("<!-- catalogue:end -->")
        .expect("catalogue end marker");
    assert_eq!(
        readme[start..end].trim_end(),
        brhook::testkit::catalog::markdown().trim_end(),
        "README catalogue is stale: paste the output of `brhook checks --format markdown`"
    );
}

/// The text between `<!-- NAME:start -->` and `<!-- NAME:end -->`, inside its code fence.
fn block(name: &str) -> String {
    let readme = std::fs::read_to_string("README.md").unwrap();
    let start = readme
        .find(&format!("<!-- {name}:start -->"))
        .unwrap_or_else(|| panic!("{name} start marker"));
    let end = readme[start..]
        .find(&format!("<!-- {name}:end -->"))
        .expect("end marker")
        + start;
    let inner = &readme[start..end];
    let code = inner.split_once("```sh\n").expect("a sh block").1;
    code.split_once("```").expect("closed fence").0.to_string()
}

/// The README's CI example, run as written: brhook wraps the stand-in Python sender,
/// exits 0, and leaves the journal, JUnit and HTML files it names.
#[test]
fn readme_ci_example_runs_and_passes() {
    let script = block("ci-example");
    assert!(script.starts_with("brhook listen"), "{script}");
    let dir = std::env::temp_dir().join(format!("brhook-readme-ci-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let sender = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/sender.py");
    let script = script
        .replacen("brhook", env!("CARGO_BIN_EXE_brhook"), 1)
        .replace("examples/sender.py", sender);
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(&script)
        .current_dir(&dir)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.starts_with("brhook listening") || text.contains("brhook PASS"),
        "{text}"
    );
    for f in ["capture.jsonl", "brhook.xml", "brhook.html"] {
        assert!(dir.join(f).exists(), "{f}");
    }
    let junit = std::fs::read_to_string(dir.join("brhook.xml")).unwrap();
    assert!(!junit.contains("<failure"), "{junit}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// The ready file the README shows has the keys brhook writes.
#[test]
fn readme_ready_file_example_has_the_real_keys() {
    let readme = std::fs::read_to_string("README.md").unwrap();
    let at = readme
        .find("\"urls\": {\"slow\"")
        .expect("the ready-file example");
    let start = readme[..at].rfind("```json\n").unwrap() + 8;
    let end = readme[start..].find("```").unwrap() + start;
    let shown: serde_json::Value = serde_json::from_str(&readme[start..end]).unwrap();
    let dir = std::env::temp_dir().join(format!("brhook-readme-ready-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (ready, copy) = (dir.join("ready.json"), dir.join("copy.json"));
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_brhook"))
        .args([
            "listen",
            "--url",
            "slow",
            "--quiet-window",
            "0.5",
            "--quiet-output",
            "--ready-file",
        ])
        .arg(&ready)
        .arg("--")
        .arg("cp")
        .arg(&ready)
        .arg(&copy)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(1), "nothing was sent");
    let real: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&copy).unwrap()).unwrap();
    let keys = |v: &serde_json::Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(keys(&shown), keys(&real));
    let _ = std::fs::remove_dir_all(&dir);
}
