//! The end of a `send` run (R11): after the last answer, brhook waits a settle window,
//! then connects to each receiver once more. A receiver that crashes after answering
//! 200 (its work on the event failed after the answer) is down by then: the last look
//! catches what no answer shows. Each look is a journal line ([`Reconnect`]), so
//! `brhook check` of a kept journal judges R11 the same way.

use crate::journal::Reconnect;
use std::time::{Duration, Instant};

/// The window's default (`--settle`): long enough for a receiver's background work on
/// the last events to start (and, when it fails, to take the process down).
pub const DEFAULT_SETTLE: Duration = Duration::from_secs(3);

/// Waits the settle window after the run's last answer: the one place it is waited.
/// With `--workdir` files, it lasts until no process has had any of them open for the
/// window (a receiver still working on a file keeps it).
pub(crate) async fn settle(window: Duration, files: Option<&super::watch::Watch>) {
    match files {
        Some(w) => {
            w.quiet_for(window).await;
        }
        None => tokio::time::sleep(window).await,
    }
}

/// Connects once to each host and port of `urls` (journal name, URL), `settle` after
/// the last answer; one [`Reconnect`] each, named by its first URL.
pub(crate) async fn reconnect(
    urls: &[(String, String)],
    origin: Instant,
    settle: Duration,
    limit: Duration,
) -> Vec<Reconnect> {
    let mut seen = std::collections::BTreeSet::new();
    let mut out = Vec::new();
    for (name, url) in urls {
        // One look per host and port: one process answers all its paths.
        let authority = url
            .parse::<hyper::Uri>()
            .ok()
            .and_then(|u| u.authority().map(|a| a.as_str().to_ascii_lowercase()))
            .unwrap_or_else(|| url.clone());
        if !seen.insert(authority) {
            continue;
        }
        let at_ms = origin.elapsed().as_secs_f64() * 1000.0;
        out.push(Reconnect {
            url: name.clone(),
            at_ms,
            settle_ms: settle.as_secs_f64() * 1000.0,
            error: connect(url, limit).await.err(),
        });
    }
    out
}

/// Whether something accepts a TCP connection at `url`'s host and port within `limit`.
pub(crate) async fn connect(url: &str, limit: Duration) -> Result<(), String> {
    let uri: hyper::Uri = url.parse().map_err(|e| format!("{e}"))?;
    let host = uri.host().ok_or("no host")?;
    let host = host.trim_start_matches('[').trim_end_matches(']').to_string();
    let port = uri.port_u16().unwrap_or(80);
    match tokio::time::timeout(limit, tokio::net::TcpStream::connect((host.as_str(), port))).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionRefused => Err("connection refused".into()),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err(format!(
            "no connection within {}",
            crate::judge::fmt_duration(limit)
        )),
    }
}
