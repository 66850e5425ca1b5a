//! `brhook serve`: a versioned HTTP control API for test suites in any language
//! (WireMock's admin API is the model). A suite creates a capture with its URLs and
//! fault plans, points its sender at them, waits for the deliveries, and asks for the
//! verdict: the same report `listen` writes.
//!
//! Each capture is an [`Endpoint`] of its own (journal file, judge, fault plan, counts)
//! served on the one data port of a [`Hub`] under its id: `http://DATA/ID/NAME`. Two
//! captures never see each other's requests: a request goes to the capture its first
//! path segment names, and the id is unguessable (so a capture's URLs are their own
//! secret prefix too). The routes live in `api.rs`; `openapi.json` describes them.

mod api;
mod tally;

pub use api::ROUTES;
pub use tally::{Counts, Phase, Tally, MAX_URLS};

use crate::endpoint::{Endpoint, Hub};
use crate::error::Error;
use crate::journal::UrlSpec;
use crate::judge::Options;
use crate::report::Report;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The OpenAPI 3 description of every route (hand-written; a test holds it to the
/// router).
pub const OPENAPI: &str = include_str!("openapi.json");

/// How `brhook serve` is set up.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where the control API listens (loopback unless a token is given).
    pub control: SocketAddr,
    /// Where the captures' URLs are served.
    pub data: SocketAddr,
    /// Required in `Authorization: Bearer TOKEN` when set; required to bind the
    /// control API to anything but loopback.
    pub token: Option<String>,
    /// Keep each capture's journal here as `ID.jsonl` (otherwise a temporary directory,
    /// removed when a capture is deleted and when the server stops).
    pub journal_dir: Option<PathBuf>,
}

/// A running control server.
pub struct Control {
    addr: SocketAddr,
    shared: Arc<Shared>,
    server: tokio::task::JoinHandle<()>,
}

/// What the routes share.
pub(crate) struct Shared {
    hub: Hub,
    captures: Mutex<HashMap<String, Arc<Capture>>>,
    token: Option<String>,
    dir: PathBuf,
    /// The directory is ours (temporary): removed on shutdown.
    temp: bool,
}

/// One capture: its endpoint until finished, then its report.
pub(crate) struct Capture {
    pub id: String,
    /// Name, full URL and setting, in the order given.
    pub urls: Vec<(String, String, crate::protocol::Setting)>,
    pub endpoint: tokio::sync::Mutex<Option<Endpoint>>,
    pub report: Mutex<Option<Arc<Report>>>,
    pub journal: PathBuf,
    pub tally: Arc<Tally>,
    /// The quiet window `finish` waits for unless told otherwise.
    pub quiet: Duration,
}

/// What `POST /v1/captures` asks for, checked.
pub(crate) struct NewCapture {
    pub urls: Vec<UrlSpec>,
    pub backoff_scale: f64,
    pub quiet: Option<Duration>,
    pub strict: bool,
}

impl Control {
    /// Binds both ports and starts serving.
    pub async fn start(config: Config) -> Result<Control, Error> {
        if !config.control.ip().is_loopback() && config.token.is_none() {
            return Err(Error::Io(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!(
                    "the control API would listen on {} without a token: give --control-token TOKEN \
                     (clients then send `Authorization: Bearer TOKEN`), or bind it to 127.0.0.1",
                    config.control
                ),
            )));
        }
        let listener = tokio::net::TcpListener::bind(config.control)
            .await
            .map_err(|source| Error::Bind {
                addr: config.control,
                source,
            })?;
        let addr = listener.local_addr()?;
        let hub = Hub::bind(config.data).await?;
        let (dir, temp) = match config.journal_dir {
            Some(d) => (d, false),
            None => (
                std::env::temp_dir().join(format!(
                    "brhook-serve-{}-{}",
                    std::process::id(),
                    uuid::Uuid::new_v4().simple()
                )),
                true,
            ),
        };
        std::fs::create_dir_all(&dir)?;
        let shared = Arc::new(Shared {
            hub,
            captures: Mutex::new(HashMap::new()),
            token: config.token,
            dir,
            temp,
        });
        let server = tokio::spawn(api::serve(listener, shared.clone()));
        Ok(Control { addr, shared, server })
    }

    /// The control API's address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The data port's address (every capture's URLs).
    pub fn data_addr(&self) -> SocketAddr {
        self.shared.hub.addr()
    }

    /// The API's base URL, `http://ADDR` (the routes are under `/v1/`).
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops the API and closes every capture still open (their journals stay whole);
    /// a temporary journal directory is removed.
    pub async fn shutdown(self) {
        self.server.abort();
        let all: Vec<_> = self
            .shared
            .captures
            .lock()
            .expect("lock")
            .drain()
            .map(|(_, c)| c)
            .collect();
        for c in all {
            c.drop_endpoint(Phase::Deleted).await;
        }
        if self.shared.temp {
            let _ = std::fs::remove_dir_all(&self.shared.dir);
        }
    }
}

impl Shared {
    /// Creates a capture on the hub.
    pub async fn create(&self, new: NewCapture) -> Result<Arc<Capture>, Error> {
        // 12 hex digits of a v4 UUID (48 random bits): the capture's own path.
        let id = uuid::Uuid::new_v4().simple().to_string()[..12].to_string();
        let journal = self.dir.join(format!("{id}.jsonl"));
        let tally = Arc::new(Tally::new(&new.urls));
        let sink = tally.clone();
        let mut b = Endpoint::builder()
            .options(Options {
                strict: new.strict,
                ..Options::default()
            })
            .backoff_scale(new.backoff_scale)
            .on_hub(&self.hub, &id)
            .journal(&journal)
            .keep_in_memory(false)
            .on_record(move |r| sink.take(r));
        let default_quiet = Duration::from_secs_f64(5.0 * new.backoff_scale);
        let settings: Vec<_> = new.urls.iter().map(UrlSpec::setting).collect();
        for u in new.urls {
            b = b.url_spec(u);
        }
        let ep = b.start().await?;
        let urls = ep
            .urls()
            .into_iter()
            .zip(settings)
            .map(|((n, u), s)| (n, u, s))
            .collect();
        let capture = Arc::new(Capture {
            id: id.clone(),
            urls,
            endpoint: tokio::sync::Mutex::new(Some(ep)),
            report: Mutex::new(None),
            journal,
            tally,
            quiet: new.quiet.unwrap_or(default_quiet),
        });
        self.captures.lock().expect("lock").insert(id, capture.clone());
        Ok(capture)
    }

    pub fn get(&self, id: &str) -> Option<Arc<Capture>> {
        self.captures.lock().expect("lock").get(id).cloned()
    }

    /// Drops a capture: it stops taking requests at once; its journal is removed when
    /// it was a temporary one.
    pub async fn delete(&self, id: &str) -> bool {
        let Some(c) = self.captures.lock().expect("lock").remove(id) else {
            return false;
        };
        c.drop_endpoint(Phase::Deleted).await;
        if self.temp {
            let _ = std::fs::remove_file(&c.journal);
        }
        true
    }
}

impl Capture {
    /// Waits the quiet window, judges, and keeps the report; later calls get the
    /// same report at once. `None`: the capture was deleted meanwhile.
    pub async fn finish(&self, quiet: Option<Duration>) -> Option<Arc<Report>> {
        let mut ep = self.endpoint.lock().await;
        if let Some(ep) = ep.take() {
            let report = Arc::new(ep.finish(quiet.unwrap_or(self.quiet)).await);
            *self.report.lock().expect("lock") = Some(report);
            self.tally.end(Phase::Finished);
        }
        self.report.lock().expect("lock").clone()
    }

    /// Closes the endpoint without waiting for a quiet window (nothing is judged).
    async fn drop_endpoint(&self, phase: Phase) {
        if let Some(ep) = self.endpoint.lock().await.take() {
            ep.interrupter().store(true, std::sync::atomic::Ordering::SeqCst);
            ep.close(Duration::ZERO).await;
        }
        self.tally.end(phase);
    }
}
