//! A journal file into the judge: `brhook check` reads one to its end, the endpoint
//! follows the one it is writing. Three stages over two cores: one thread reads lines,
//! two parse them and judge their bodies (most of the work, and stateless), the calling
//! thread keeps the books and feeds the live sink, in file order.

use super::{JournalFile, Judge, Options, Prejudged, Sink};
use crate::journal::{is_shadow, parse_request, parse_shadow, JournalError, Reader, Request, Shadow};
use crate::report::Report;
use std::collections::BTreeMap;
use std::sync::mpsc::sync_channel;
use std::sync::{Arc, Mutex};

/// Lines handed to a parsing thread at a time (fewer when a follower has no more).
const BATCH: usize = 256;

type Raw = (u64, Vec<(usize, String)>);
type Parsed = (
    u64,
    Vec<(Request, Prejudged)>,
    Vec<(usize, JournalError)>,
    Vec<Shadow>,
);

/// Judges what `reader` reads (to the end, or while it follows a capture) and returns
/// the report with the reader, which then knows the close line. `background` lowers
/// the judging threads' priority, so that a capture under load keeps the CPU and the
/// judge catches up when it is idle; its journal on disk holds what is not judged yet.
pub fn judge_journal(
    reader: Reader,
    opts: &Options,
    mut sink: Option<Sink>,
    background: bool,
) -> Result<(Report, Reader), String> {
    if background {
        lower_priority();
    }
    // Records spill to a temporary file, read back once at the end: memory holds one
    // record per request only while the final checks run.
    let temp = opts.scratch_dir.clone().unwrap_or_else(std::env::temp_dir);
    let mut judge = Judge::new(&reader.meta, opts)
        .spill_to(&temp)
        .map_err(|e| format!("cannot write a temporary file in {}: {e}", temp.display()))?;
    // A few batches in flight: enough to keep both parsers busy, few enough that what
    // waits in memory stays small.
    let (raw_tx, raw_rx) = sync_channel::<Raw>(4);
    let raw_rx = Arc::new(Mutex::new(raw_rx));
    let (tx, rx) = sync_channel::<Parsed>(4);
    let mut reader = reader.with_shadows();
    let read = std::thread::spawn(move || -> Result<Reader, String> {
        for n in 0.. {
            let mut batch = Vec::with_capacity(BATCH);
            let mut end = false;
            while batch.len() < BATCH {
                match reader.next_raw()? {
                    Some(l) => batch.push(l),
                    None => {
                        end = true;
                        break;
                    }
                }
                if reader.following() && !reader.buffered() {
                    break;
                }
            }
            if raw_tx.send((n, batch)).is_err() || end {
                break;
            }
        }
        Ok(reader)
    });
    let workers: Vec<_> = (0..2)
        .map(|_| {
            let (raw_rx, tx) = (raw_rx.clone(), tx.clone());
            std::thread::spawn(move || loop {
                let Ok((n, batch)) = raw_rx.lock().expect("queue").recv() else {
                    return;
                };
                let (mut ok, mut bad) = (Vec::with_capacity(batch.len()), Vec::new());
                let mut shadows = Vec::new();
                for (line_no, line) in batch {
                    if is_shadow(&line) {
                        match parse_shadow(&line) {
                            Ok(s) => shadows.push(s),
                            Err(e) => bad.push((line_no, e)),
                        }
                        continue;
                    }
                    match parse_request(&line) {
                        Ok(r) => {
                            let body = Prejudged::of(&r.body);
                            ok.push((r, body));
                        }
                        Err(e) => bad.push((line_no, e)),
                    }
                }
                if tx.send((n, ok, bad, shadows)).is_err() {
                    return;
                }
            })
        })
        .collect();
    drop(tx);
    // Batches come back in any order; they are taken in file order, so that live lines
    // come in the order answers were released.
    let (mut next, mut waiting) = (0u64, BTreeMap::new());
    let mut bad_lines: Vec<(usize, JournalError)> = Vec::new();
    for (n, ok, bad, shadows) in rx {
        waiting.insert(n, (ok, bad, shadows));
        while let Some((ok, bad, shadows)) = waiting.remove(&next) {
            next += 1;
            for s in &shadows {
                judge.push_shadow(s);
            }
            for (r, body) in ok {
                let pushed = judge.push_prejudged(&r, body);
                if let Some(s) = sink.as_mut() {
                    s(&r, &pushed);
                }
            }
            // The first bad line is kept, and a few after it: one torn at the end of a
            // file of a set is forgiven, and the next bad one must not be lost by it.
            bad_lines.extend(bad);
            bad_lines.sort_by_key(|b| b.0);
            bad_lines.truncate(16);
        }
    }
    for w in workers {
        let _ = w.join();
    }
    let mut reader = read
        .join()
        .map_err(|_| "the journal reader failed".to_string())??;
    let first_bad = bad_lines.into_iter().find(|b| !reader.forgives(b.0));
    reader.forgive_only_the_last(first_bad)?;
    judge.reconnected(&reader.reconnects);
    judge.files(std::mem::take(&mut reader.workdir_files));
    let mut files: Vec<JournalFile> = reader.paths().into_iter().map(JournalFile).collect();
    let mut report = judge.finish(reader.closed_ms, reader.quiet_ms, &mut files);
    // A journal that restarts appended to is one capture of several runs: say so, and
    // which were cut short.
    if let Some(note) = reader.runs_note() {
        report.subject.push_str(&format!("; {note}"));
    }
    Ok((report, reader))
}

/// The calling thread, and the threads it starts from now on, yield the CPU to others:
/// they run when the CPU would otherwise idle (SCHED_IDLE), at the lowest nice value.
fn lower_priority() {
    #[cfg(target_os = "linux")]
    // SAFETY: both calls only read their arguments (`param` is a valid, initialised
    // struct that outlives the call). On Linux, pid/who 0 means the calling thread alone;
    // threads it starts inherit its policy and nice value.
    unsafe {
        let param = libc::sched_param { sched_priority: 0 };
        libc::sched_setscheduler(0, libc::SCHED_IDLE, &param);
        libc::setpriority(libc::PRIO_PROCESS, 0, 19);
    }
}
