//! `brhook proxy` as a service: SIGHUP reopens the journal (for logrotate), SIGUSR1
//! and `--report-every` rewrite the report files with the verdict so far. SIGINT and
//! SIGTERM (stop, judge, report) are the capture's own (`listen::run_capture`).

use super::output::ReportArgs;
use brhook::Handle;
use std::time::Duration;

/// Starts the service loop on the runtime. The signal handlers are installed before
/// this returns, so that a signal sent once the banner is out is never lost.
pub fn spawn(handle: Handle, report: ReportArgs, every: Option<Duration>) {
    #[cfg(unix)]
    let (mut hup, mut usr1) = {
        use tokio::signal::unix::{signal, SignalKind};
        (
            signal(SignalKind::hangup()).ok(),
            signal(SignalKind::user_defined1()).ok(),
        )
    };
    tokio::spawn(async move {
        let mut tick = every.map(|t| tokio::time::interval_at(tokio::time::Instant::now() + t, t));
        loop {
            #[cfg(unix)]
            tokio::select! {
                _ = next(&mut hup) => reopen(&handle),
                _ = next(&mut usr1) => rewrite(&handle, &report, "SIGUSR1").await,
                _ = tick_of(&mut tick) => rewrite(&handle, &report, "--report-every").await,
            }
            #[cfg(not(unix))]
            {
                tick_of(&mut tick).await;
                rewrite(&handle, &report, "--report-every").await;
            }
        }
    });
}

#[cfg(unix)]
async fn next(s: &mut Option<tokio::signal::unix::Signal>) {
    match s.as_mut() {
        Some(s) => {
            s.recv().await;
        }
        None => std::future::pending().await,
    }
}

async fn tick_of(t: &mut Option<tokio::time::Interval>) {
    match t.as_mut() {
        Some(t) => {
            t.tick().await;
        }
        None => std::future::pending().await,
    }
}

fn reopen(handle: &Handle) {
    match handle.reopen_journal() {
        Ok(true) => eprintln!("brhook: SIGHUP: the journal was reopened"),
        Ok(false) => eprintln!("brhook: SIGHUP: no --journal to reopen; nothing changed"),
        Err(e) => eprintln!("brhook: SIGHUP: cannot reopen the journal ({e}); still writing the old file"),
    }
}

/// Judges the journal so far and rewrites the report files; without any, prints the
/// verdict so far on stderr.
///
/// Once the capture is finishing, nothing: the final report comes next, and a report
/// so far written after it would replace it.
async fn rewrite(handle: &Handle, args: &ReportArgs, why: &str) {
    if handle.finishing() {
        return;
    }
    let report = match handle.report_so_far().await {
        Ok(r) => r,
        Err(e) => {
            eprintln!("brhook: {why}: the report so far could not be judged: {e}");
            return;
        }
    };
    if handle.finishing() {
        return;
    }
    let files = args.report_json.is_some() || args.junit.is_some() || args.html.is_some();
    if !files {
        let verdict = if report.passed() { "pass" } else { "fail" };
        eprintln!("brhook: {why}: so far {verdict}: {}", report.subject);
        return;
    }
    if let Err(e) = super::output::write_files(&report, args) {
        eprintln!("brhook: {why}: {e}");
    }
}

/// A file-size limit (`ulimit -f`, systemd's LimitFSIZE) makes a write past it fail
/// (EFBIG) instead of killing brhook with SIGXFSZ: the proxy goes on forwarding, and
/// counts what it could not record.
pub fn survive_file_size_limit() {
    #[cfg(target_os = "linux")]
    // SAFETY: setting a signal's disposition to SIG_IGN installs no handler code and
    // touches no memory of ours.
    unsafe {
        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
    }
}

/// `100MB`, `1.5GiB`, `500k`, `4096`: bytes (k, M, G are powers of 1000; Ki, Mi, Gi of
/// 1024; a trailing `B` is optional).
pub fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: f64 = num
        .parse()
        .map_err(|_| format!("{s:?}: give a size such as 100MB, 1GiB or 500000"))?;
    let unit = unit.trim().trim_end_matches(['B', 'b']);
    let mult: f64 = match unit.to_ascii_lowercase().as_str() {
        "" => 1.0,
        "k" => 1e3,
        "m" => 1e6,
        "g" => 1e9,
        "t" => 1e12,
        "ki" => 1024.0,
        "mi" => 1024.0 * 1024.0,
        "gi" => 1024.0 * 1024.0 * 1024.0,
        "ti" => 1024f64.powi(4),
        _ => return Err(format!("{s:?}: unknown unit {unit:?} (k, M, G, KiB, MiB, GiB)")),
    };
    let bytes = (n * mult).round();
    if bytes < 1.0 || !bytes.is_finite() {
        return Err(format!("{s:?}: the size must be at least 1 byte"));
    }
    Ok(bytes as u64)
}

/// `30s`, `10m`, `1h`, `1d`, `500ms`, `90` (seconds): a positive duration.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let t = s.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: f64 = num
        .parse()
        .map_err(|_| format!("{s:?}: give a duration such as 30s, 10m or 1h"))?;
    let secs = match unit.trim() {
        "" | "s" => n,
        "ms" => n / 1000.0,
        "m" | "min" => n * 60.0,
        "h" => n * 3600.0,
        "d" => n * 86400.0,
        u => return Err(format!("{s:?}: unknown unit {u:?} (ms, s, m, h, d)")),
    };
    Duration::try_from_secs_f64(secs)
        .ok()
        .filter(|d| !d.is_zero())
        .ok_or_else(|| format!("{s:?}: the duration must be positive"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_durations_parse_as_people_write_them() {
        assert_eq!(parse_size("100MB"), Ok(100_000_000));
        assert_eq!(parse_size("1GiB"), Ok(1 << 30));
        assert_eq!(parse_size("500k"), Ok(500_000));
        assert_eq!(parse_size("4096"), Ok(4096));
        assert!(parse_size("0").is_err() && parse_size("10 parsecs").is_err());
        assert_eq!(parse_duration("10m"), Ok(Duration::from_secs(600)));
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("90"), Ok(Duration::from_secs(90)));
        assert!(parse_duration("0s").is_err() && parse_duration("soon").is_err());
    }
}
