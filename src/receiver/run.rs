//! How cases are sent: moment by moment (a v1 record with its `FileClosed`), each moment
//! on its own sender so that every event goes to all URLs at once, and deliveries counted
//! for the progress callback.

use super::cases::{Case, Start};
use super::Progress;
use crate::reference::{Attempt, Sender, SenderConfig, Step};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

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
/// started as its first item's [`Start`] says. `first`: index of the case's first body.
pub(crate) async fn run_case(
    case: &Case,
    first: usize,
    config: SenderConfig,
    counter: &Counter,
) -> Vec<(usize, Attempt)> {
    let mut out = Vec::new();
    let mut inflight = Vec::new();
    for (n, range) in moments(case).into_iter().enumerate() {
        match case.items[range.start].start {
            Start::After(d) if n > 0 => tokio::time::sleep(d).await,
            Start::After(_) => {}
            Start::Delivered | Start::With => {
                for h in inflight.drain(..) {
                    out.extend(joined(h).await);
                }
            }
        }
        let steps: Vec<(usize, Step)> = range
            .clone()
            .map(|i| (first + i, case.items[i].step.clone()))
            .collect();
        let (config, counter) = (config.clone(), counter.clone());
        inflight.push(tokio::spawn(async move {
            let sender = Sender::new(config);
            for (_, step) in &steps {
                dispatch(&sender, step);
            }
            sender.wait().await;
            counter.add(steps.len());
            // The sender numbers events in dispatch order: the moment's item order.
            sender
                .attempts()
                .into_iter()
                .map(|a| (steps[a.event].0, a))
                .collect::<Vec<_>>()
        }));
    }
    for h in inflight {
        out.extend(joined(h).await);
    }
    out
}

/// A task's result; its panic resumed here.
async fn joined<T>(h: tokio::task::JoinHandle<Vec<T>>) -> Vec<T> {
    match h.await {
        Ok(v) => v,
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Err(_) => Vec::new(),
    }
}

/// Sends one step the way its setting is sent.
pub(crate) fn dispatch(sender: &Sender, step: &Step) {
    match step {
        Step::V2(v) => sender.send(v),
        Step::V1(v) => sender.send_v1(v),
    }
}
