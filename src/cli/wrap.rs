//! `listen -- CMD` / `proxy -- CMD`: the command a capture wraps (a sender's test
//! suite), started once the URLs accept connections, with the URLs in its environment.
//! Its end ends the capture, so a CI job needs no `&`, no sleep and no URL scraping.

use super::ready::Urls;
use std::process::{Command, ExitStatus, Stdio};
use tokio::sync::oneshot;

/// A running wrapped command.
pub struct Wrapped {
    /// The command as the user typed it (for the report).
    shown: String,
    pid: u32,
    exited: Option<oneshot::Receiver<std::io::Result<ExitStatus>>>,
}

/// How the wrapped command ended.
pub enum Ended {
    Status(ExitStatus),
    /// It could not be waited for (the OS error).
    Lost(String),
}

impl Wrapped {
    /// Starts `cmd` (program and arguments, `{url:NAME}` replaced) with the URLs in its
    /// environment. Its stdin, stdout and stderr are brhook's, except that with
    /// `stdout_to_stderr` (`--format json`) its stdout goes to stderr: brhook's stdout
    /// then carries the report alone.
    pub fn spawn(cmd: &[String], urls: &Urls, stdout_to_stderr: bool) -> Result<Wrapped, String> {
        let args = cmd
            .iter()
            .map(|a| urls.substitute(a))
            .collect::<Result<Vec<_>, _>>()?;
        let (program, rest) = args.split_first().ok_or("no command after --")?;
        let mut c = Command::new(program);
        c.args(rest).envs(urls.env());
        if stdout_to_stderr {
            c.stdout(Stdio::from(std::io::stderr()));
        }
        let mut child = c
            .spawn()
            .map_err(|e| format!("cannot run the command {program:?}: {e}"))?;
        let pid = child.id();
        let (tx, rx) = oneshot::channel();
        // A thread of its own waits: std's child (no tokio "process" feature needed),
        // and the runtime's threads stay free for the capture.
        std::thread::spawn(move || {
            let _ = tx.send(child.wait());
        });
        Ok(Wrapped {
            shown: shown(cmd),
            pid,
            exited: Some(rx),
        })
    }

    /// The command as typed, for messages.
    pub fn shown(&self) -> &str {
        &self.shown
    }

    /// Resolves when the command exits (at once on later calls: pending forever).
    pub async fn exited(&mut self) -> Ended {
        let Some(rx) = self.exited.as_mut() else {
            return std::future::pending().await;
        };
        let r = rx.await;
        self.exited = None;
        match r {
            Ok(Ok(s)) => Ended::Status(s),
            Ok(Err(e)) => Ended::Lost(e.to_string()),
            Err(_) => Ended::Lost("the waiting thread ended".into()),
        }
    }

    /// Asks the command to stop (SIGTERM), as brhook was; nothing once it has exited.
    pub fn stop(&self) {
        if self.exited.is_none() {
            return;
        }
        #[cfg(target_os = "linux")]
        // SAFETY: kill(2) takes any pid and a valid signal number. The pid is our own
        // child's, and it has not been seen to exit: it is reaped only by the waiting
        // thread, an instant before `exited` resolves.
        unsafe {
            libc::kill(self.pid as libc::pid_t, libc::SIGTERM);
        }
        #[cfg(not(target_os = "linux"))]
        {
            let _ = std::process::Command::new("kill")
                .arg(self.pid.to_string())
                .status();
        }
    }
}

impl Ended {
    /// None when the command succeeded, else what happened, as the report says it.
    pub fn failure(&self) -> Option<String> {
        match self {
            Ended::Status(s) if s.success() => None,
            Ended::Status(s) => Some(match (s.code(), signal(s)) {
                (Some(c), _) => format!("exited with status {c}"),
                (None, Some(sig)) => format!("was killed by signal {sig}"),
                (None, None) => format!("ended abnormally ({s})"),
            }),
            Ended::Lost(e) => Some(format!("could not be waited for ({e})")),
        }
    }
}

#[cfg(unix)]
fn signal(s: &ExitStatus) -> Option<i32> {
    std::os::unix::process::ExitStatusExt::signal(s)
}

#[cfg(not(unix))]
fn signal(_: &ExitStatus) -> Option<i32> {
    None
}

/// The command line, quoted where a word needs it.
fn shown(cmd: &[String]) -> String {
    cmd.iter()
        .map(|a| {
            if !a.is_empty()
                && a.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_./:=,{}@".contains(&b))
            {
                a.clone()
            } else {
                format!("'{}'", a.replace('\'', r"'\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}
