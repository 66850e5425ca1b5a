//! Group commit of journal lines: each request serialises its own line, queues it, and
//! is released once a write that holds it has been flushed to the OS. Whoever finds
//! the writer free writes everything queued by then with one `write` and one flush; the
//! others queued meanwhile are released by that write. Nothing is answered before its
//! line is written, and under load one system call covers many requests.
//!
//! No thread, no channel: a request that finds the writer free (every request on an
//! idle endpoint) writes its own line on its own task at once, as before.

use crate::journal::{JournalError, Writer};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use tokio::sync::Notify;

pub(super) struct Commit {
    queue: Mutex<Queue>,
    writer: Mutex<Option<Writer>>,
    /// Lines written and flushed so far (tickets up to this are released).
    written: AtomicU64,
    /// Woken after each write, for the requests whose lines it held.
    done: Notify,
}

#[derive(Default)]
struct Queue {
    bytes: Vec<u8>,
    /// Tickets handed out (lines queued so far, written or not).
    tickets: u64,
    /// The first request seq in `bytes`: a failed write names it.
    first_seq: Option<u64>,
}

impl Commit {
    pub fn new(writer: Option<Writer>) -> Commit {
        Commit {
            queue: Mutex::new(Queue::default()),
            writer: Mutex::new(writer),
            written: AtomicU64::new(0),
            done: Notify::new(),
        }
    }

    /// Queues a line; [`Commit::written`] with the ticket returns once it is written.
    pub fn queue(&self, seq: u64, line: Vec<u8>) -> u64 {
        let mut q = self.queue.lock().expect("lock");
        if q.bytes.is_empty() {
            q.bytes = line;
            q.first_seq = Some(seq);
        } else {
            q.bytes.extend_from_slice(&line);
        }
        q.tickets += 1;
        q.tickets
    }

    /// Returns once the line of `ticket` is written (or its write failed: `problem` was
    /// told), writing what is queued if nobody else is. Cancelling the wait loses
    /// nothing: the line is queued, and whoever writes next writes it.
    pub async fn written(&self, ticket: u64, problem: impl Fn(String)) {
        loop {
            // The usual case first, with no waiter registered: the writer is free, and
            // this request writes its own line (and any queued with it).
            if self.written.load(Ordering::Acquire) >= ticket {
                return;
            }
            if self.write_queued(&problem) {
                continue;
            }
            let notified = self.done.notified();
            tokio::pin!(notified);
            // Registered before looking again: a write that ends after the look wakes it.
            notified.as_mut().enable();
            if self.written.load(Ordering::Acquire) >= ticket {
                return;
            }
            if self.write_queued(&problem) {
                continue;
            }
            // Someone else is writing; that write, or the one it runs after it,
            // holds this line.
            notified.await;
        }
    }

    /// Writes what is queued if the writer is free: `false` if someone else holds it.
    /// The writer loops until it finds the queue empty after letting the writer go, so
    /// a line queued while it wrote is never left behind by a request that saw it busy.
    fn write_queued(&self, problem: &impl Fn(String)) -> bool {
        let mut wrote = false;
        loop {
            let Ok(mut w) = self.writer.try_lock() else {
                return wrote;
            };
            wrote = true;
            let (bytes, upto, first) = {
                let mut q = self.queue.lock().expect("lock");
                (std::mem::take(&mut q.bytes), q.tickets, q.first_seq.take())
            };
            if !bytes.is_empty() {
                if let Some(w) = w.as_mut() {
                    if let Err(e) = w.lines(&bytes) {
                        problem(format!("{e} (request #{})", first.unwrap_or(0)));
                    }
                }
            }
            self.written.fetch_max(upto, Ordering::Release);
            drop(w);
            self.done.notify_waiters();
            if self.queue.lock().expect("lock").bytes.is_empty() {
                return true;
            }
        }
    }

    /// Writes what is still queued, then `last` with the writer held (the close line).
    pub fn finish(
        &self,
        problem: impl Fn(String),
        last: impl FnOnce(&mut Writer) -> Result<(), JournalError>,
    ) {
        let mut w = self.writer.lock().expect("lock");
        let (bytes, upto) = {
            let mut q = self.queue.lock().expect("lock");
            (std::mem::take(&mut q.bytes), q.tickets)
        };
        if let Some(w) = w.as_mut() {
            if !bytes.is_empty() {
                if let Err(e) = w.lines(&bytes) {
                    problem(e.to_string());
                }
            }
            if let Err(e) = last(w) {
                problem(e.to_string());
            }
        }
        self.written.fetch_max(upto, Ordering::Release);
        drop(w);
        self.done.notify_waiters();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::Journal;
    use std::sync::Arc;

    /// Many requests at once on two workers: each is released only once its own line
    /// is in the file, every line is there once, and the close line comes last.
    #[test]
    fn every_line_is_on_disk_before_its_request_is_released() {
        let path = std::env::temp_dir().join(format!("brhook-commit-{}.jsonl", std::process::id()));
        let meta = Journal::new(Vec::new(), String::new()).meta;
        let commit = Arc::new(Commit::new(Some(Writer::create(&path, &meta).unwrap())));
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .unwrap();
        const N: u64 = 400;
        rt.block_on(async {
            let tasks: Vec<_> = (1..=N)
                .map(|seq| {
                    let (commit, path) = (commit.clone(), path.clone());
                    tokio::spawn(async move {
                        let line = format!("{{\"line\":{seq}}}\n");
                        let ticket = commit.queue(seq, line.clone().into_bytes());
                        commit.written(ticket, |e| panic!("{e}")).await;
                        let text = std::fs::read_to_string(&path).unwrap();
                        assert!(
                            text.contains(&line),
                            "request {seq} released before its line was written"
                        );
                    })
                })
                .collect();
            for t in tasks {
                t.await.unwrap();
            }
        });
        commit.finish(|e| panic!("{e}"), |w| w.close(1.0, 1.0));
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len() as u64, N + 2, "meta, every request once, close");
        assert!(lines.last().unwrap().contains("\"close\""));
        std::fs::remove_file(&path).ok();
    }
}
