//! Who opens the `--workdir` files, and when: an inotify watch (`IN_OPEN`, `IN_CLOSE_*`)
//! on every directory brhook writes files into. It serves two things:
//! - the files' lifetime: they are removed only once no process has had any of them
//!   open for the settle window ([`Watch::quiet_for`]), so a receiver that answers 200
//!   and works on the file in the background still finds it;
//! - the evidence for R12 and for "never opened": each file's opens, with their times,
//!   written to the journal at the end ([`Watch::opens`]).
//!
//! brhook's own writes are not the receiver's opens: a file is registered before brhook
//! writes it, and its events are discounted until brhook marks the write done by a
//! `chmod` to the same mode (an `IN_ATTRIB` the queue orders after the write's events).
//!
//! inotify is Linux's; elsewhere nothing is watched ([`Watch::watched`] is false) and
//! [`Watch::quiet_for`] waits the settle window alone.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub use crate::journal::MAX_SETTLE_WAIT;

/// Opens of one file, as the journal records them.
#[derive(Debug, Clone, PartialEq)]
pub struct Opened {
    /// `RelativePath`, as brhook wrote it.
    pub relative: String,
    /// When each open was seen.
    pub opens: Vec<Instant>,
    /// Still open by someone now (brhook gave up waiting at [`MAX_SETTLE_WAIT`]).
    pub still_open: bool,
}

#[derive(Default)]
struct File {
    relative: String,
    /// Opens not yet closed (never below 0: inotify may merge two identical events).
    open: u32,
    opens: Vec<Instant>,
    /// brhook is writing it: its events are brhook's own.
    own: bool,
}

#[derive(Default)]
struct State {
    /// Watch descriptor → its directory.
    dirs: HashMap<i32, PathBuf>,
    /// Path → index in `files`.
    index: HashMap<PathBuf, usize>,
    files: Vec<File>,
    /// Files open right now (by anyone but brhook).
    open: u32,
    /// The last time a file was opened or closed.
    last: Option<Instant>,
}

impl State {
    fn file(&mut self, path: &Path) -> Option<&mut File> {
        let i = *self.index.get(path)?;
        self.files.get_mut(i)
    }
}

/// The watch on a workdir's files. Cheap to share (`Arc` inside).
#[derive(Clone)]
pub struct Watch {
    state: Arc<Mutex<State>>,
    /// Stops the reading thread when the last clone goes.
    _stop: Arc<StopOnDrop>,
    #[cfg(target_os = "linux")]
    watches: Option<Arc<Mutex<inotify::Watches>>>,
}

impl std::fmt::Debug for Watch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Watch")
            .field("watched", &self.watched())
            .field("files", &self.lock().files.len())
            .finish()
    }
}

impl Watch {
    /// A watch, its reading thread started; on Linux unless inotify cannot start (then,
    /// as elsewhere, nothing is watched).
    pub fn start() -> Watch {
        let stop = Arc::new(AtomicBool::new(false));
        #[cfg_attr(not(target_os = "linux"), allow(unused_mut))]
        let mut w = Watch {
            state: Arc::default(),
            _stop: Arc::new(StopOnDrop(Arc::clone(&stop))),
            #[cfg(target_os = "linux")]
            watches: None,
        };
        #[cfg(target_os = "linux")]
        if let Ok(ino) = inotify::Inotify::init() {
            w.watches = Some(Arc::new(Mutex::new(ino.watches())));
            let state = Arc::clone(&w.state);
            let spawned = std::thread::Builder::new()
                .name("brhook-watch".into())
                .spawn(move || linux::read(ino, &state, &stop));
            if spawned.is_err() {
                w.watches = None;
            }
        }
        #[cfg(not(target_os = "linux"))]
        let _ = stop;
        w
    }

    /// Whether opens are watched (Linux, inotify started).
    pub fn watched(&self) -> bool {
        #[cfg(target_os = "linux")]
        return self.watches.is_some();
        #[cfg(not(target_os = "linux"))]
        false
    }

    /// Watches `dir` (a directory that holds or will hold files). Done before a file is
    /// written into it, so that the file's every event is seen.
    pub fn add_dir(&self, dir: &Path) {
        #[cfg(target_os = "linux")]
        if let Some(w) = &self.watches {
            use inotify::WatchMask as M;
            let mask = M::OPEN | M::CLOSE_WRITE | M::CLOSE_NOWRITE | M::ATTRIB | M::CREATE;
            let mut w = w.lock().unwrap_or_else(|e| e.into_inner());
            if let Ok(wd) = w.add(dir, mask) {
                self.lock()
                    .dirs
                    .insert(wd.get_watch_descriptor_id(), dir.to_path_buf());
            }
        }
        #[cfg(not(target_os = "linux"))]
        let _ = dir;
    }

    /// Writes the file at `path` (named `relative` in the events) by `write`, its events
    /// discounted as brhook's own; from then on its opens are the receiver's.
    pub fn write<T>(
        &self,
        path: &Path,
        relative: &str,
        write: impl FnOnce() -> std::io::Result<T>,
    ) -> std::io::Result<T> {
        {
            let mut s = self.lock();
            let i = match s.index.get(path) {
                Some(&i) => i,
                None => {
                    let i = s.files.len();
                    s.files.push(File::default());
                    s.index.insert(path.to_path_buf(), i);
                    i
                }
            };
            let f = &mut s.files[i];
            f.relative = relative.to_string();
            f.own = self.watched();
        }
        let out = write();
        if self.watched() {
            // The end-of-write mark; when it fails (the file is gone) the write's own
            // events are still discounted up to the file's next `IN_ATTRIB`.
            let marked =
                std::fs::metadata(path).and_then(|m| std::fs::set_permissions(path, m.permissions()));
            if marked.is_err() {
                if let Some(f) = self.lock().file(path) {
                    f.own = false;
                }
            }
        }
        out
    }

    /// Resolves once no process has had any of the files open for `settle`: at least
    /// `settle` from now, longer while a file is open or was opened or closed less than
    /// `settle` ago, but never longer than [`MAX_SETTLE_WAIT`]. Unwatched: `settle`.
    /// Returns false when it gave up on a file still open.
    pub async fn quiet_for(&self, settle: Duration) -> bool {
        let start = Instant::now();
        if !self.watched() {
            tokio::time::sleep(settle).await;
            return true;
        }
        loop {
            let now = Instant::now();
            let (open, last) = {
                let s = self.lock();
                (s.open, s.last)
            };
            let since = last.map_or(start, |l| l.max(start));
            let quiet = now.saturating_duration_since(since);
            if open == 0 && quiet >= settle {
                return true;
            }
            if now.duration_since(start) >= MAX_SETTLE_WAIT.max(settle) {
                return false;
            }
            let step = if open > 0 {
                Duration::from_millis(50)
            } else {
                (settle - quiet).min(Duration::from_millis(250))
            };
            tokio::time::sleep(step.max(Duration::from_millis(5))).await;
        }
    }

    /// Every file written, with the receiver's opens of it (none when unwatched).
    pub fn opens(&self) -> Vec<Opened> {
        self.lock()
            .files
            .iter()
            .map(|f| Opened {
                relative: f.relative.clone(),
                opens: f.opens.clone(),
                still_open: f.open > 0,
            })
            .collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Set when the last [`Watch`] goes: the reading thread holds the flag, not a `Watch`.
struct StopOnDrop(Arc<AtomicBool>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

#[cfg(target_os = "linux")]
mod linux {
    use super::State;
    use inotify::EventMask as E;
    use std::os::fd::AsRawFd;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Mutex;
    use std::time::Instant;

    /// Reads events until `stop`: each wakes this thread at once (poll), and is stamped
    /// as it is read.
    pub(super) fn read(mut ino: inotify::Inotify, state: &Mutex<State>, stop: &AtomicBool) {
        let mut buf = vec![0u8; 64 * 1024];
        while !stop.load(Ordering::SeqCst) {
            let mut fds = libc::pollfd {
                fd: ino.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            };
            // SAFETY: `fds` is one valid pollfd that outlives the call.
            let n = unsafe { libc::poll(&mut fds, 1, 100) };
            if n <= 0 {
                continue;
            }
            let Ok(events) = ino.read_events(&mut buf) else {
                continue;
            };
            let now = Instant::now();
            let mut s = state.lock().unwrap_or_else(|e| e.into_inner());
            let mut new_dirs = Vec::new();
            for e in events {
                let Some(name) = e.name else { continue };
                let Some(dir) = s.dirs.get(&e.wd.get_watch_descriptor_id()) else {
                    continue;
                };
                let path = dir.join(name);
                if e.mask.contains(E::ISDIR) {
                    if e.mask.contains(E::CREATE) {
                        new_dirs.push(path);
                    }
                    continue;
                }
                take(&mut s, &path, e.mask, now);
            }
            drop(s);
            // A directory made by someone else (brhook watches its own before writing):
            // watched too, so that files moved or written there are seen.
            for d in new_dirs {
                let mask = inotify::WatchMask::OPEN
                    | inotify::WatchMask::CLOSE_WRITE
                    | inotify::WatchMask::CLOSE_NOWRITE
                    | inotify::WatchMask::ATTRIB
                    | inotify::WatchMask::CREATE;
                if let Ok(wd) = ino.watches().add(&d, mask) {
                    let mut s = state.lock().unwrap_or_else(|e| e.into_inner());
                    s.dirs.insert(wd.get_watch_descriptor_id(), d);
                }
            }
        }
    }

    /// One event of a file: an open or a close by someone else, or the end of brhook's
    /// own write.
    fn take(s: &mut State, path: &std::path::Path, mask: E, now: Instant) {
        let Some(&i) = s.index.get(path) else { return };
        let f = &mut s.files[i];
        if f.own {
            if mask.contains(E::ATTRIB) {
                f.own = false;
            }
            return;
        }
        let mut delta: i64 = 0;
        if mask.contains(E::OPEN) {
            f.open += 1;
            f.opens.push(now);
            delta += 1;
        }
        if mask.intersects(E::CLOSE_WRITE | E::CLOSE_NOWRITE) && f.open > 0 {
            f.open -= 1;
            delta -= 1;
        }
        if delta != 0 || mask.intersects(E::OPEN | E::CLOSE_WRITE | E::CLOSE_NOWRITE) {
            s.open = s.open.saturating_add_signed(delta as i32);
            s.last = Some(now);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("brhook-watch-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    /// Waits for `cond`, up to 10 s (slow shared machines).
    fn eventually(mut cond: impl FnMut() -> bool) -> bool {
        let end = Instant::now() + Duration::from_secs(10);
        while Instant::now() < end {
            if cond() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        false
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn own_writes_are_not_opens_and_later_reads_are() {
        let root = dir("own");
        let w = Watch::start();
        assert!(w.watched());
        w.add_dir(&root);
        let sub = root.join("sub");
        std::fs::create_dir_all(&sub).unwrap();
        w.add_dir(&sub);
        let p = sub.join("a.flv");
        w.write(&p, "sub/a.flv", || std::fs::write(&p, b"FLV")).unwrap();
        // An unrelated file in a watched directory is nobody's business.
        std::fs::write(root.join("other"), b"x").unwrap();
        std::thread::sleep(Duration::from_millis(200));
        assert!(w.opens()[0].opens.is_empty(), "brhook's own write is not an open");
        assert_eq!(std::fs::read(&p).unwrap(), b"FLV");
        assert!(eventually(|| w.opens()[0].opens.len() == 1), "{:?}", w.opens());
        assert!(eventually(|| w.lock().open == 0), "closed again");
        let _ = std::fs::remove_dir_all(&root);
    }

    #[tokio::test]
    #[cfg(target_os = "linux")]
    async fn quiet_waits_while_a_file_is_open() {
        let root = dir("quiet");
        let w = Watch::start();
        w.add_dir(&root);
        let p = root.join("b.flv");
        w.write(&p, "b.flv", || std::fs::write(&p, b"FLV")).unwrap();
        let held = std::fs::File::open(&p).unwrap();
        let w2 = w.clone();
        assert!(
            tokio::task::spawn_blocking(move || eventually(|| w2.lock().open == 1))
                .await
                .unwrap(),
            "the open is seen"
        );
        let settle = Duration::from_millis(100);
        let t = tokio::spawn({
            let w = w.clone();
            async move { w.quiet_for(settle).await }
        });
        tokio::time::sleep(Duration::from_millis(400)).await;
        assert!(!t.is_finished(), "a file still open holds the settle");
        drop(held);
        let started = Instant::now();
        assert!(tokio::time::timeout(Duration::from_secs(10), t)
            .await
            .unwrap()
            .unwrap());
        assert!(
            started.elapsed() >= settle,
            "quiet for the window after the close"
        );
        let _ = std::fs::remove_dir_all(&root);
    }

    #[tokio::test]
    async fn quiet_waits_at_least_the_window() {
        let w = Watch::start();
        let started = Instant::now();
        assert!(w.quiet_for(Duration::from_millis(150)).await);
        assert!(started.elapsed() >= Duration::from_millis(150));
    }
}
