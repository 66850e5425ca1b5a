//! `brhook check`, `brhook normalize`, `brhook diff`: work on a saved journal, no
//! network. A journal judged offline gives the report the live capture gave.

use super::output::{emit, Format, ReportArgs};
use brhook::testkit::journal::{Journal, Reader};
use brhook::testkit::judge::Options;
use brhook::testkit::normalize::{self, FORMAT};
use clap::Args as ClapArgs;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::Duration;

#[derive(ClapArgs)]
pub struct CheckArgs {
    /// The journal to judge (written by `brhook listen --journal`, `brhook proxy
    /// --journal` or `brhook demo --journal`). Several files, a glob (`'prod.jsonl*'`)
    /// or a directory are judged as one capture: a journal and its rotated files, in
    /// the order their meta lines give.
    #[arg(value_name = "JOURNAL", required = true, num_args = 1..)]
    journal: Vec<PathBuf>,
    /// D6: a retry gap under this many milliseconds is a warning (use the value the
    /// capture was judged with live to get the same report).
    #[arg(long, default_value_t = 100, value_name = "MS")]
    min_retry_gap: u64,
    #[command(flatten)]
    report: ReportArgs,
}

pub fn check(args: CheckArgs) -> Result<i32, String> {
    let files = journal_files(&args.journal)?;
    let reader = Reader::open_set(&files)?;
    let options = Options {
        strict: args.report.strict,
        min_retry_gap: Duration::from_millis(args.min_retry_gap),
        examples: args.report.examples,
        ..Options::default()
    };
    let (report, reader) = brhook::testkit::judge::judge_journal(reader, &options, None, false)?;
    if files.len() > 1 {
        eprintln!(
            "brhook: note: judged {} files as one capture: {}",
            files.len(),
            reader
                .paths()
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    if let Some(note) = reader.runs_note() {
        eprintln!("brhook: note: {note}");
    }
    if reader.closed_ms.is_none() {
        eprintln!(
            "brhook: note: {} has no close line (the capture was cut short, or is still running); judging what it holds",
            reader.paths().last().unwrap_or(&args.journal[0]).display()
        );
    }
    emit(&report, &args.report)
}

/// The files named: each file as given, each directory's journals (files whose first
/// line is a journal's meta line), and a pattern with `*` or `?` in its last part (for a
/// glob the shell did not expand) matched in its directory.
fn journal_files(given: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let mut out = Vec::new();
    for p in given {
        let name = p
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if p.is_dir() {
            let mut found = listed(p, |path| Reader::open(path).is_ok())?;
            if found.is_empty() {
                return Err(format!("{}: no brhook journal in this directory", p.display()));
            }
            out.append(&mut found);
        } else if !p.exists() && (name.contains('*') || name.contains('?')) {
            let dir = match p.parent() {
                Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
                _ => PathBuf::from("."),
            };
            let mut found = listed(&dir, |path| {
                path.file_name()
                    .is_some_and(|n| wildcard(name.as_bytes(), n.to_string_lossy().as_bytes()))
            })?;
            if found.is_empty() {
                return Err(format!("{}: no file matches", p.display()));
            }
            out.append(&mut found);
        } else {
            out.push(p.clone());
        }
    }
    Ok(out)
}

/// The regular files in `dir` that `keep` takes, by name.
fn listed(dir: &Path, keep: impl Fn(&Path) -> bool) -> Result<Vec<PathBuf>, String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
    let mut out: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && keep(p))
        .collect();
    out.sort();
    Ok(out)
}

/// `*` (any run) and `?` (one byte) against a file name.
fn wildcard(pat: &[u8], name: &[u8]) -> bool {
    match (pat.first(), name.first()) {
        (None, None) => true,
        (Some(b'*'), _) => wildcard(&pat[1..], name) || (!name.is_empty() && wildcard(pat, &name[1..])),
        (Some(b'?'), Some(_)) => wildcard(&pat[1..], &name[1..]),
        (Some(a), Some(b)) if a == b => wildcard(&pat[1..], &name[1..]),
        _ => false,
    }
}

#[derive(ClapArgs)]
pub struct NormalizeArgs {
    /// The journal to normalize.
    #[arg(value_name = "JOURNAL")]
    journal: PathBuf,
    /// Write the normalized JSON to FILE instead of stdout.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: Option<PathBuf>,
    /// The normalized form is JSON; `--format json` is accepted like every command's.
    #[arg(long, value_enum, default_value = "json")]
    format: NormalizeFormat,
}

#[derive(Clone, Copy, clap::ValueEnum, PartialEq, Eq)]
pub enum NormalizeFormat {
    Json,
}

pub fn normalize(args: NormalizeArgs) -> Result<i32, String> {
    let journal = Journal::read(&args.journal)?;
    let text = serde_json::to_string_pretty(&normalize::normalize(&journal)).expect("JSON serialises");
    match &args.output {
        Some(path) => {
            std::fs::write(path, text + "\n").map_err(|e| format!("cannot write {}: {e}", path.display()))?
        }
        None => say!("{text}"),
    }
    Ok(0)
}

#[derive(ClapArgs)]
pub struct DiffArgs {
    /// The baseline: a normalized capture (`brhook normalize`) or a journal.
    #[arg(value_name = "BASELINE")]
    baseline: PathBuf,
    /// The capture to compare: a journal or a normalized capture.
    #[arg(value_name = "JOURNAL")]
    current: PathBuf,
    /// What goes to stdout: one line per difference (text), or
    /// `{"drift": [...], "differences": N}` (json).
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
    /// Also write a JUnit XML report to FILE: one failed testcase per difference (named
    /// by its kind and path), or one passed testcase "no drift".
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,
}

pub fn diff(args: DiffArgs) -> Result<i32, String> {
    let baseline = load(&args.baseline)?;
    let current = load(&args.current)?;
    let drift = normalize::diff(&baseline, &current);
    if let Some(path) = &args.junit {
        std::fs::write(path, drift_junit(&drift))
            .map_err(|e| format!("cannot write the JUnit report to {}: {e}", path.display()))?;
    }
    if args.format == Format::Json {
        let v = serde_json::json!({"drift": drift, "differences": drift.len()});
        say!("{}", serde_json::to_string_pretty(&v).expect("JSON serialises"));
        return Ok(if drift.is_empty() { 0 } else { 1 });
    }
    for d in &drift {
        say!("{d}");
    }
    if drift.is_empty() {
        say!("brhook diff: no drift from the baseline");
        Ok(0)
    } else {
        say!(
            "brhook diff: {} difference{} from the baseline",
            drift.len(),
            if drift.len() == 1 { "" } else { "s" }
        );
        Ok(1)
    }
}

/// `diff`'s JUnit: a suite "brhook diff", a failed testcase per difference, or one
/// passed testcase when there is none (an empty suite would read as nothing run).
fn drift_junit(drift: &[normalize::Drift]) -> String {
    use quick_junit::{NonSuccessKind, TestCase, TestCaseStatus, TestSuite};
    let mut suite = TestSuite::new("brhook diff");
    for d in drift {
        let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
        status.set_message(d.to_string()).set_type(d.kind);
        let mut case = TestCase::new(format!("{} {}", d.kind, d.path), status);
        case.set_classname("brhook.diff");
        suite.add_test_case(case);
    }
    if drift.is_empty() {
        let mut case = TestCase::new("no drift", TestCaseStatus::success());
        case.set_classname("brhook.diff");
        suite.add_test_case(case);
    }
    let mut out = quick_junit::Report::new("brhook");
    out.add_test_suite(suite);
    out.to_string().expect("a JUnit report always serialises")
}

/// A normalized capture, from a normalized JSON file or from a journal.
fn load(path: &Path) -> Result<Value, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    if let Ok(v) = serde_json::from_str::<Value>(&text) {
        match v.get("format").and_then(Value::as_str) {
            Some(FORMAT) => return Ok(v),
            Some(f) if f.starts_with("brhook-normalized/") => {
                return Err(format!(
                    "cannot read {}: normalized form {f:?} is not {FORMAT:?} (written by another brhook version; normalize the journal again)",
                    path.display()
                ))
            }
            _ => {}
        }
    }
    match Journal::read(path) {
        Ok(j) => Ok(normalize::normalize(&j)),
        Err(_) => Err(format!(
            "cannot read {}: neither a normalized capture (brhook normalize) nor a brhook journal",
            path.display()
        )),
    }
}
