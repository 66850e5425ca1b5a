//! `brhook check`, `brhook normalize`, `brhook diff`: work on a saved journal, no
//! network. A journal judged offline gives the report the live capture gave.

use super::output::{emit, ReportArgs};
use brhook::journal::{parse_request, Journal, Reader, Request};
use brhook::judge::{JournalFile, Judge, Options, Prejudged};
use brhook::normalize::{self, FORMAT};
use clap::Args as ClapArgs;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::Duration;

#[derive(ClapArgs)]
pub struct CheckArgs {
    /// The journal to judge (written by `brhook listen --journal` or `brhook demo
    /// --journal`).
    #[arg(value_name = "JOURNAL")]
    journal: PathBuf,
    /// D6: a retry gap under this many milliseconds is a warning (use the value the
    /// capture was judged with live to get the same report).
    #[arg(long, default_value_t = 100, value_name = "MS")]
    min_retry_gap: u64,
    #[command(flatten)]
    report: ReportArgs,
}

/// Lines handed to a parsing thread at a time.
const BATCH: usize = 256;

pub fn check(args: CheckArgs) -> Result<i32, String> {
    let reader = Reader::open(&args.journal)?;
    let options = Options {
        strict: args.report.strict,
        min_retry_gap: Duration::from_millis(args.min_retry_gap),
        examples: args.report.examples,
        ..Options::default()
    };
    // Line by line into the judge, in bounded memory. Reading and parsing lines runs
    // on its own thread beside the judge: the two halves of the work share two cores.
    // Records spill to a temporary file, read back once at the end: memory holds one
    // record per request only while the final checks run.
    let mut judge = Judge::new(&reader.meta, &options)
        .spill_to(&std::env::temp_dir())
        .map_err(|e| {
            format!(
                "cannot write a temporary file in {}: {e}",
                std::env::temp_dir().display()
            )
        })?;
    // Three stages over two cores: one thread reads lines, two parse them and judge their
    // bodies (most of the work, and stateless), this thread keeps the books. The judge
    // is order-insensitive, so batches may arrive in any order.
    type Batch = Vec<(usize, String)>;
    type Parsed = (Vec<(Request, Prejudged)>, Vec<(usize, String)>);
    let (raw_tx, raw_rx) = std::sync::mpsc::sync_channel::<Batch>(8);
    let raw_rx = std::sync::Arc::new(std::sync::Mutex::new(raw_rx));
    let (tx, rx) = std::sync::mpsc::sync_channel::<Parsed>(8);
    let mut reader = reader;
    let read = std::thread::spawn(move || -> Result<Reader, String> {
        loop {
            let mut batch = Vec::with_capacity(BATCH);
            while batch.len() < BATCH {
                match reader.next_raw()? {
                    Some(l) => batch.push(l),
                    None => break,
                }
            }
            let last = batch.len() < BATCH;
            if raw_tx.send(batch).is_err() || last {
                return Ok(reader);
            }
        }
    });
    let workers: Vec<_> = (0..2)
        .map(|_| {
            let (raw_rx, tx) = (raw_rx.clone(), tx.clone());
            std::thread::spawn(move || loop {
                let Ok(batch) = raw_rx.lock().expect("queue").recv() else {
                    return;
                };
                let mut out = (Vec::with_capacity(batch.len()), Vec::new());
                for (n, line) in batch {
                    match parse_request(&line) {
                        Ok(r) => {
                            let body = Prejudged::of(&r.body);
                            out.0.push((r, body));
                        }
                        Err(e) => out.1.push((n, e)),
                    }
                }
                if tx.send(out).is_err() {
                    return;
                }
            })
        })
        .collect();
    drop(tx);
    let mut bad: Option<(usize, String)> = None;
    for (batch, errors) in rx {
        for (r, body) in batch {
            judge.push_prejudged(&r, body);
        }
        for e in errors {
            if bad.as_ref().is_none_or(|b| e.0 < b.0) {
                bad = Some(e);
            }
        }
    }
    for w in workers {
        let _ = w.join();
    }
    let reader = read
        .join()
        .map_err(|_| "the journal reader failed".to_string())??;
    // A bad line is an error unless it is the last (torn by a kill mid-write).
    if let Some((n, e)) = bad.filter(|(n, _)| *n != reader.last_line()) {
        return Err(reader.bad_line(n, &e));
    }
    if reader.closed_ms.is_none() {
        eprintln!(
            "brhook: note: {} has no close line (the capture was cut short); judging what it holds",
            args.journal.display()
        );
    }
    let lookup = &mut JournalFile(args.journal.clone());
    let report = judge.finish(reader.closed_ms, reader.quiet_ms, lookup);
    emit(&report, &args.report)
}

#[derive(ClapArgs)]
pub struct NormalizeArgs {
    /// The journal to normalize.
    #[arg(value_name = "JOURNAL")]
    journal: PathBuf,
    /// Write the normalized JSON to FILE instead of stdout.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: Option<PathBuf>,
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
}

pub fn diff(args: DiffArgs) -> Result<i32, String> {
    let baseline = load(&args.baseline)?;
    let current = load(&args.current)?;
    let drift = normalize::diff(&baseline, &current);
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
