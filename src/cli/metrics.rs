//! `brhook proxy`'s service flags: `--metrics ADDR` (Prometheus text and `/healthz`)
//! and `--shadow NAME=URL` (a candidate receiver beside the real one).

use brhook::testkit::proxy::Builder;
use brhook::{Metrics, MetricsServer};
use clap::Args as ClapArgs;
use std::net::SocketAddr;
use std::sync::Arc;

/// The metrics, and where to serve them.
pub type ToServe = (Arc<Metrics>, SocketAddr);

#[derive(ClapArgs)]
pub struct ServiceArgs {
    /// Serve metrics on ADDR (e.g. 127.0.0.1:9464): `GET /metrics` in the Prometheus
    /// (OpenMetrics) text format, `GET /healthz` 200 while forwarding and recording,
    /// 503 when the journal cannot be written. Loopback only unless --metrics-public.
    #[arg(long, value_name = "ADDR")]
    metrics: Option<SocketAddr>,
    /// Allow --metrics on a non-loopback address (the metrics name your URLs and
    /// receivers' statuses: expose them only where that is fine).
    #[arg(long, requires = "metrics")]
    metrics_public: bool,
    /// Also send every request that URL NAME forwards, byte for byte, to a candidate
    /// receiver at URL (repeatable, one per NAME). Its answers are journaled and
    /// compared with the real receiver's in the report, never relayed to the recorder
    /// and never waited for; copies beyond 64 waiting at once are dropped (counted).
    #[arg(long = "shadow", value_name = "NAME=URL", value_parser = super::proxy::parse_to)]
    shadow: Vec<(String, String)>,
}

impl ServiceArgs {
    /// Adds the shadows and the metrics to the proxy being built; the metrics to serve
    /// once it has started.
    pub fn apply(&self, mut b: Builder) -> Result<(Builder, Option<ToServe>), String> {
        for (name, url) in &self.shadow {
            b = b.shadow(name, url);
        }
        let Some(addr) = self.metrics else {
            return Ok((b, None));
        };
        if !addr.ip().is_loopback() && !self.metrics_public {
            return Err(format!(
                "--metrics {addr} is not a loopback address: anyone who can reach it sees your URLs and traffic; give --metrics-public to allow it, or use 127.0.0.1:PORT"
            ));
        }
        let m = Arc::new(Metrics::new());
        Ok((b.metrics(m.clone()), Some((m, addr))))
    }

    /// A label for each shadowed URL, for the start-up lines.
    pub fn shadows(&self) -> &[(String, String)] {
        &self.shadow
    }
}

/// Starts the metrics server; the caller keeps it as long as the proxy runs.
pub async fn serve(m: Option<ToServe>) -> Result<Option<MetricsServer>, String> {
    let Some((m, addr)) = m else { return Ok(None) };
    m.serve(addr)
        .await
        .map(Some)
        .map_err(|e| format!("cannot serve --metrics on {addr}: {e}"))
}
