//! Real files behind the webhooks (`--workdir DIR`): each recorded file is written at
//! `DIR/RelativePath` as a valid FLV of the size and duration its FileClosed reports,
//! before any webhook about it is sent, so a receiver that opens, uploads or transcodes
//! the file finds it and does its real work before it answers.
//!
//! Files are removed at the end unless kept, and only once no process has had any of
//! them open for the settle window ([`super::watch`]): a receiver that answers 200 and
//! reads the file in the background still finds it. A receiver that moved or deleted
//! one is fine. `RelativePath` never escapes the directory: an absolute path, a drive letter or
//! a `..` segment is refused.

use super::cases::{FileHook, PlannedFile};
use super::flv::Plan;
use super::{Probe, SendError};
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Mutex};

/// A directory brhook writes recorded files into, and what it wrote there.
#[derive(Debug)]
pub struct Workdir {
    root: PathBuf,
    keep: bool,
    /// Files written, in order.
    files: Vec<PathBuf>,
    /// Directories created for them (removed when empty at the end), parents first.
    dirs: Vec<PathBuf>,
    /// Who opens the files: they stay until it has seen none open for the settle window.
    watch: super::watch::Watch,
}

impl Workdir {
    /// Opens `root` (created if missing) and proves it writable by writing and removing
    /// a file there: a directory that cannot be written is one error before anything is
    /// sent. `keep`: leave the files at the end.
    pub fn open(root: &Path, keep: bool) -> Result<Workdir, SendError> {
        let bad = |e: std::io::Error| {
            SendError::Io(format!("--workdir {}: cannot write there: {e}", root.display()))
        };
        std::fs::create_dir_all(root).map_err(bad)?;
        let probe = root.join(format!(".brhook-write-test-{}", std::process::id()));
        std::fs::write(&probe, b"").map_err(bad)?;
        let _ = std::fs::remove_file(&probe);
        let watch = super::watch::Watch::start();
        watch.add_dir(root);
        Ok(Workdir {
            root: root.to_path_buf(),
            keep,
            files: Vec::new(),
            dirs: Vec::new(),
            watch,
        })
    }

    /// The directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where `relative` lives under the directory; an error when it would escape it.
    pub fn path_of(&self, relative: &str) -> Result<PathBuf, SendError> {
        let refuse = |why: &str| {
            SendError::Io(format!(
                "RelativePath {relative:?} {why}: it would leave --workdir {}",
                self.root.display()
            ))
        };
        // The recorder may write either separator; both split segments here.
        let normal = relative.replace('\\', "/");
        let bytes = normal.as_bytes();
        if bytes.len() >= 2 && bytes[1] == b':' && bytes[0].is_ascii_alphabetic() {
            return Err(refuse("has a drive letter"));
        }
        if normal.contains('\0') {
            return Err(refuse("holds a NUL byte"));
        }
        let mut out = self.root.clone();
        let mut any = false;
        for c in Path::new(&normal).components() {
            match c {
                Component::Normal(s) => {
                    out.push(s);
                    any = true;
                }
                Component::CurDir => {}
                Component::ParentDir => return Err(refuse("has a .. segment")),
                Component::RootDir | Component::Prefix(_) => return Err(refuse("is absolute")),
            }
        }
        if !any {
            return Err(refuse("names no file"));
        }
        Ok(out)
    }

    /// Writes the file `relative` as [`Plan`] lays it out; returns its path.
    pub fn write(&mut self, relative: &str, plan: &Plan) -> Result<PathBuf, SendError> {
        self.write_with(relative, |path| plan.write(path))
    }

    /// Writes `bytes` as the file `relative` (a danmaku XML); returns its path.
    pub fn write_bytes(&mut self, relative: &str, bytes: &[u8]) -> Result<PathBuf, SendError> {
        self.write_with(relative, |path| std::fs::write(path, bytes))
    }

    /// Creates the folders of `relative` and writes it with `write`, and remembers both
    /// for the end.
    fn write_with(
        &mut self,
        relative: &str,
        write: impl FnOnce(&Path) -> std::io::Result<()>,
    ) -> Result<PathBuf, SendError> {
        let path = self.path_of(relative)?;
        let io = |e: std::io::Error| SendError::Io(format!("cannot write {}: {e}", path.display()));
        if let Some(parent) = path.parent() {
            let mut missing = Vec::new();
            let mut p = parent;
            while p != self.root && !p.exists() {
                missing.push(p.to_path_buf());
                match p.parent() {
                    Some(up) => p = up,
                    None => break,
                }
            }
            std::fs::create_dir_all(parent).map_err(io)?;
            self.dirs.extend(missing.into_iter().rev());
            // Before the file exists: its every event is seen.
            self.watch.add_dir(parent);
        }
        self.watch.write(&path, relative, || write(&path)).map_err(io)?;
        self.files.push(path.clone());
        Ok(path)
    }

    /// A captured event's file (`replay --workdir`): `relative` written as an FLV of
    /// `size` bytes (capped at 1 GiB, raised to the smallest FLV) and `duration` seconds,
    /// once per path: the events' bytes are the capture's, so they are not changed.
    /// `Ok(false)`: written before.
    pub fn write_captured(&mut self, relative: &str, size: i64, duration: f64) -> Result<bool, SendError> {
        let path = self.path_of(relative)?;
        if self.files.contains(&path) {
            return Ok(false);
        }
        let size = u64::try_from(size).unwrap_or(0).min(UNTESTED_SIZE_CAP);
        let duration = if duration.is_finite() {
            duration.clamp(0.0, 86_400.0)
        } else {
            0.0
        };
        self.write(relative, &Plan::new(size, duration))?;
        Ok(true)
    }

    /// Files written so far.
    pub fn files(&self) -> &[PathBuf] {
        &self.files
    }

    /// The watch on the files: who opened them, and when they have been quiet long
    /// enough to be removed ([`super::watch::Watch::quiet_for`]).
    pub fn watch(&self) -> &super::watch::Watch {
        &self.watch
    }
}

impl Drop for Workdir {
    /// Removes what was written, unless kept: when the run ends, however it ends. A file
    /// the receiver moved or deleted is not an error; a directory goes only when empty.
    fn drop(&mut self) {
        if self.keep {
            return;
        }
        for f in self.files.drain(..) {
            let _ = std::fs::remove_file(f);
        }
        for d in self.dirs.drain(..).rev() {
            let _ = std::fs::remove_dir(d);
        }
    }
}

/// A size no case is about is capped here (random streams draw any int64): real enough
/// for a pipeline, and a sparse file of it allocates under a megabyte.
const UNTESTED_SIZE_CAP: u64 = 1 << 30;

/// Bytes a path segment may have: file systems refuse names over 255 bytes.
const MAX_SEGMENT: usize = 200;

/// The workdir hook: writes each planned file and makes its events state what is on
/// disk. A size the case is about (R8's `FileSize` above 2^32) is written as is (a sparse
/// file); any other size is the FLV's real size (raised to the smallest valid FLV, capped
/// at 1 GiB). `Duration` becomes the last tag's timestamp (millisecond precision). A
/// segment of `RelativePath` too long for a file system is shortened (its extension
/// kept), and the events name the shortened path. With `danmaku`, the danmaku XML is
/// written beside it ([`super::danmaku`]). `then`, a caller's own hook
/// ([`super::Probe::on_file`]), sees the file as written.
pub(crate) fn hook(dir: Arc<Mutex<Workdir>>, then: Option<FileHook>, danmaku: bool) -> FileHook {
    Arc::new(move |p: &mut PlannedFile| {
        let f = &mut p.file;
        let mut wanted = u64::try_from(f.size).unwrap_or(0);
        if !p.size_is_tested {
            wanted = wanted.min(UNTESTED_SIZE_CAP);
        }
        let plan = Plan::new(wanted, f.duration);
        if p.size_is_tested && plan.size != wanted {
            return Err(format!(
                "{}: FileSize {} cannot be written as a real file (the smallest FLV is {} bytes)",
                p.case,
                f.size,
                Plan::new(0, f.duration).size
            ));
        }
        f.relative_path = shorten(&f.relative_path);
        let mut w = dir.lock().unwrap_or_else(|e| e.into_inner());
        w.write(&f.relative_path, &plan).map_err(|e| e.to_string())?;
        f.size = plan.size as i64;
        let secs = f64::from(plan.duration_ms) / 1000.0;
        if (secs - f.duration).abs() >= 0.0005 {
            f.duration = secs;
        }
        if danmaku {
            let xml = super::danmaku::xml(&p.room, f, secs);
            w.write_bytes(&super::danmaku::path_for(&f.relative_path), &xml)
                .map_err(|e| e.to_string())?;
        }
        drop(w);
        match &then {
            Some(h) => h(p),
            None => Ok(()),
        }
    })
}

/// `relative` with every segment of over [`MAX_SEGMENT`] bytes cut (at a character
/// boundary) so that it fits, its extension kept; unchanged when all fit.
fn shorten(relative: &str) -> String {
    if relative.split(['/', '\\']).all(|s| s.len() <= MAX_SEGMENT) {
        return relative.to_string();
    }
    let mut out = String::new();
    for (i, seg) in relative.split('/').enumerate() {
        if i > 0 {
            out.push('/');
        }
        if seg.len() <= MAX_SEGMENT {
            out.push_str(seg);
            continue;
        }
        let ext = seg.rfind('.').map_or("", |d| &seg[d..]);
        let ext = if ext.len() <= 16 { ext } else { "" };
        let mut end = MAX_SEGMENT - ext.len();
        while !seg.is_char_boundary(end) {
            end -= 1;
        }
        out.push_str(&seg[..end]);
        out.push_str(ext);
    }
    out
}

/// A run's workdir, shared with its hook; its files go when the last holder drops it.
pub(crate) type Files = Arc<Mutex<Workdir>>;

/// Real files for a probe (`brhook send --workdir DIR`).
impl Probe {
    /// Writes each recorded file at `DIR/RelativePath` (a valid FLV of the size and
    /// duration its events state) before any webhook naming it is sent, so a receiver's
    /// real pipeline (upload, transcode) runs and its answer time shows it (R2). A
    /// directory that cannot be written stops the run before anything is sent
    /// ([`SendError::Io`]). Files are removed when the run ends unless
    /// [`Probe::keep_files`].
    pub fn workdir(mut self, dir: impl Into<PathBuf>) -> Probe {
        self.workdir = Some(dir.into());
        self
    }

    /// With [`Probe::workdir`], also writes the danmaku XML beside each recording (the
    /// same path with `.xml`), as the recorder does with danmaku recording on
    /// ([`super::danmaku`]).
    pub fn danmaku(mut self, on: bool) -> Probe {
        self.danmaku = on;
        self
    }

    /// With [`Probe::workdir`]: every file the receiver never opened is an `info` line
    /// (without it, only a file the receiver named in an answer body is).
    pub fn expect_open(mut self, expect: bool) -> Probe {
        self.expect_open = expect;
        self
    }

    /// Leaves the files of [`Probe::workdir`] in place when the run ends.
    pub fn keep_files(mut self, keep: bool) -> Probe {
        self.keep_files = keep;
        self
    }

    /// The hook a run uses, and the directory it writes to (its files are removed when
    /// the returned value is dropped, unless kept).
    pub(crate) fn file_hook(&self) -> Result<(Option<FileHook>, Option<Files>), SendError> {
        let Some(dir) = &self.workdir else {
            return Ok((self.hook.clone(), None));
        };
        let w = Arc::new(Mutex::new(Workdir::open(dir, self.keep_files)?));
        let hook = hook(Arc::clone(&w), self.hook.clone(), self.danmaku);
        Ok((Some(hook), Some(w)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir(name: &str) -> PathBuf {
        std::env::temp_dir().join(format!("brhook-workdir-{}-{name}", std::process::id()))
    }

    #[test]
    fn relative_paths_never_escape() {
        let w = Workdir::open(&dir("escape"), false).unwrap();
        let ok = w.path_of("23058-room/rec-23058.flv").unwrap();
        assert_eq!(ok, w.root().join("23058-room").join("rec-23058.flv"));
        assert_eq!(w.path_of("a\\b.flv").unwrap(), w.root().join("a").join("b.flv"));
        for bad in [
            "../x.flv",
            "a/../../x.flv",
            "/etc/x.flv",
            "\\x.flv",
            "C:\\x.flv",
            "c:x.flv",
            "",
            ".",
            "a\0b",
        ] {
            assert!(w.path_of(bad).is_err(), "{bad:?} is refused");
        }
        let _ = std::fs::remove_dir_all(w.root());
    }

    #[test]
    fn long_segments_are_shortened_with_their_extension() {
        assert_eq!(shorten("room/a.flv"), "room/a.flv");
        let long = format!("room/{}.flv", "录".repeat(100));
        let s = shorten(&long);
        assert!(s.starts_with("room/录") && s.ends_with(".flv"), "{s}");
        assert!(s.split('/').all(|seg| seg.len() <= MAX_SEGMENT), "{s}");
        let root = dir("long");
        let mut w = Workdir::open(&root, false).unwrap();
        w.write(&s, &Plan::new(1000, 1.0)).unwrap();
        drop(w);
        let _ = std::fs::remove_dir_all(&root);
    }

    #[test]
    fn files_are_removed_at_the_end_unless_kept() {
        for keep in [false, true] {
            let root = dir(&format!("keep-{keep}"));
            let mut w = Workdir::open(&root, keep).unwrap();
            let plan = Plan::new(1000, 1.0);
            let a = w.write("room/sub/a.flv", &plan).unwrap();
            let b = w.write("room/b.flv", &Plan::new(1000, 1.0)).unwrap();
            assert_eq!(std::fs::metadata(&a).unwrap().len(), plan.size);
            // The receiver moved one away: not an error.
            std::fs::remove_file(&b).unwrap();
            drop(w);
            assert_eq!(a.exists(), keep);
            assert_eq!(root.join("room").exists(), keep, "created directories go too");
            assert!(root.exists(), "the directory itself stays");
            let _ = std::fs::remove_dir_all(&root);
        }
    }

    #[test]
    fn an_unwritable_directory_is_one_error() {
        // A path under a regular file can never be a directory, even for root.
        let file = dir("plain-file");
        std::fs::write(&file, b"x").unwrap();
        let e = Workdir::open(&file.join("sub"), false).unwrap_err();
        assert!(e.to_string().contains("cannot write there"), "{e}");
        let _ = std::fs::remove_file(&file);
    }
}
