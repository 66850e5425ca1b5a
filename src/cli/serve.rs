//! `brhook serve`: the control API for test suites in any language.

use brhook::testkit::control::{Config, Control};
use brhook::testkit::journal::Setting;
use clap::Args as ClapArgs;
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(ClapArgs)]
pub struct Args {
    /// Where the control API listens (`http://ADDR/v1/`). Loopback unless
    /// --control-token is given; port 0 takes a free one (printed, and in --ready-file).
    #[arg(long, default_value = "127.0.0.1:0", value_name = "ADDR")]
    control: SocketAddr,
    /// A secret every request must carry as `Authorization: Bearer TOKEN` (all routes
    /// but /v1/health); required to bind --control to anything but loopback.
    #[arg(long, value_name = "TOKEN")]
    control_token: Option<String>,
    /// Where the captures' URLs are served (`http://ADDR/ID/NAME`, one port for all).
    #[arg(long, default_value = "127.0.0.1:0", value_name = "ADDR")]
    bind: SocketAddr,
    /// Keep each capture's journal here as ID.jsonl (by default a temporary directory,
    /// removed with the capture).
    #[arg(long, value_name = "DIR")]
    journal_dir: Option<PathBuf>,
    /// Once both ports accept connections, write JSON with the control URL, the data
    /// address and brhook's pid to FILE (atomically); removed on exit.
    #[arg(long, value_name = "FILE")]
    ready_file: Option<PathBuf>,
}

pub fn run(args: Args) -> Result<i32, String> {
    let rt = tokio::runtime::Runtime::new().map_err(|e| format!("cannot start the runtime: {e}"))?;
    rt.block_on(serve(args))
}

async fn serve(args: Args) -> Result<i32, String> {
    if let Some(t) = &args.control_token {
        if t.is_empty() || t.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err("--control-token must be non-empty, without spaces".into());
        }
    }
    // Listening for the signals before anyone can know we are up: a SIGTERM sent as soon
    // as the ready file appears must stop us cleanly, not kill us.
    let stop = stopped();
    let control = Control::start(Config {
        control: args.control,
        data: args.bind,
        token: args.control_token.clone(),
        journal_dir: args.journal_dir.clone(),
    })
    .await
    .map_err(|e| e.to_string())?;
    // `serve` has no URLs of its own (each capture gets its own): the file names the
    // control URL and the data port.
    let _ready = match &args.ready_file {
        Some(path) => {
            let none = super::ready::Urls::new(control.data_addr(), Vec::new(), |_| Setting::V2);
            Some(super::ready::ReadyFile::write(path, &none, Some(&control.url()))?)
        }
        None => None,
    };
    say!(
        "brhook control API on {}/v1/ (routes: GET {}/v1/openapi.json)",
        control.url(),
        control.url()
    );
    say!(
        "captures' URLs on http://{}/ID/NAME; Ctrl-C or SIGTERM stops",
        control.data_addr()
    );
    stop.await;
    control.shutdown().await;
    Ok(0)
}

/// Resolves on Ctrl-C or (on Unix) SIGTERM; both are listened to from the call on, so
/// a signal that comes before the future is first polled is kept.
fn stopped() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    let (mut int, mut term) = {
        use tokio::signal::unix::{signal, SignalKind};
        (
            signal(SignalKind::interrupt()).ok(),
            signal(SignalKind::terminate()).ok(),
        )
    };
    async move {
        #[cfg(unix)]
        {
            async fn one(s: &mut Option<tokio::signal::unix::Signal>) {
                match s.as_mut() {
                    Some(s) => {
                        s.recv().await;
                    }
                    None => std::future::pending().await,
                }
            }
            tokio::select! {
                _ = one(&mut int) => {}
                _ = one(&mut term) => {}
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
