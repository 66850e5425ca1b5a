//! How cases are sent: moment by moment (a v1 record with its `FileClosed`), each moment
//! on its own sender so that every event goes to all URLs at once, and deliveries counted
//! for the progress callback.

use super::cases::{Case, Start};
use super::{Progress, Sent};
use crate::reference::{Attempt, Sender, SenderConfig};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// Where each attempt goes as it ends, with the body it carried: the run's journal.
pub(crate) type Sink = Arc<dyn Fn(&Sent, &Attempt) + Send + Sync>;

/// Counts delivered bodies for [`Probe::on_progress`].
#[derive(Clone)]
pub(crate) struct Counter {
    done: Arc<AtomicUsize>,
    total: usize,
    progress: Option<Progress>,
}

impl Counter {
    pub(crate) fn new(progress: Option<Progress>, total: usize) -> Counter {
        Counter {
            done: Arc::new(AtomicUsize::new(0)),
            total,
            progress,
        }
    }

    pub(crate) fn add(&self, n: usize) {
        let d = self.done.fetch_add(n, Ordering::SeqCst) + n;
        if let Some(p) = &self.progress {
            p(d, self.total);
        }
    }
}

/// The case's items grouped into moments: an item with [`Start::With`] goes with the
/// one before it.
pub(crate) fn moments(case: &Case) -> Vec<std::ops::Range<usize>> {
    let mut out: Vec<std::ops::Range<usize>> = Vec::new();
    for (i, it) in case.items.iter().enumerate() {
        match out.last_mut() {
            Some(r) if it.start == Start::With => r.end = i + 1,
            _ => out.push(i..i + 1),
        }
    }
    out
}

/// One case, moment by moment: each moment on its own sender (all its URLs at once),
/// started as its first item's [`Start`] says. `first`: index of the case's first body
/// in `sent`; each attempt goes to `sink` as it ends.
pub(crate) async fn run_case(
    case: &Case,
    first: usize,
    config: SenderConfig,
    counter: &Counter,
    sent: Arc<Vec<Sent>>,
    sink: Sink,
) {
    let mut inflight = Vec::new();
    for (n, range) in moments(case).into_iter().enumerate() {
        match case.items[range.start].start {
            Start::After(d) if n > 0 => tokio::time::sleep(d).await,
            Start::After(_) => {}
            Start::Delivered | Start::With => {
                for h in inflight.drain(..) {
                    joined(h).await;
                }
            }
        }
        let bodies: Vec<usize> = range.clone().map(|i| first + i).collect();
        let (config, counter, sent, sink) = (
            config.clone(),
            counter.clone(),
            Arc::clone(&sent),
            Arc::clone(&sink),
        );
        inflight.push(tokio::spawn(async move {
            let (all, order) = (Arc::clone(&sent), bodies.clone());
            // The sender numbers events in send order: the moment's item order.
            let sender = Sender::new(config).on_attempt(move |a| sink(&all[order[a.event]], a));
            for &i in &bodies {
                sender.send_bytes(sent[i].setting, sent[i].bytes.clone());
            }
            sender.wait().await;
            counter.add(bodies.len());
        }));
    }
    for h in inflight {
        joined(h).await;
    }
}

/// Waits for a task; its panic resumed here.
async fn joined(h: tokio::task::JoinHandle<()>) {
    if let Err(e) = h.await {
        if e.is_panic() {
            std::panic::resume_unwind(e.into_panic());
        }
    }
}
