//! One data port for many captures: `brhook serve` gives each capture its own path
//! prefix (`/ID/NAME`) on one listener, and each request goes to the capture its first
//! path segment names. Per request, not per connection: a test suite's HTTP client
//! keeps its connections alive from one capture to the next.
//!
//! Each capture is an [`Endpoint`](super::Endpoint) of its own (journal, judge, fault
//! plan, counters); the hub only owns the listener and the table of prefixes.

use super::State;
use crate::error::Error;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpListener;

/// A listener shared by captures, each under its own first path segment.
pub struct Hub {
    addr: SocketAddr,
    shelf: Arc<Shelf>,
    accept: tokio::task::JoinHandle<()>,
}

/// The captures on a hub, by prefix, and what is counted before a request names one.
pub(super) struct Shelf {
    captures: Mutex<HashMap<String, Arc<State>>>,
    /// Connection numbers, shared: a connection may carry requests to several captures.
    pub conns: AtomicU64,
    /// TLS handshakes: they come before any path, so no capture can be told.
    pub tls: AtomicU64,
}

impl Shelf {
    /// The capture a request path belongs to (by its first segment).
    pub fn pick(&self, path: &str) -> Option<Arc<State>> {
        let first = path.trim_start_matches('/').split('/').next()?;
        self.captures.lock().expect("lock").get(first).cloned()
    }
}

impl Hub {
    /// Listens on `addr` (port 0: a free one) with the endpoint's defaults (1024
    /// connections, 10 s to send a request head).
    pub async fn bind(addr: SocketAddr) -> Result<Hub, Error> {
        let bind = |source| Error::Bind { addr, source };
        let listener = TcpListener::bind(addr).await.map_err(bind)?;
        let addr = listener.local_addr().map_err(bind)?;
        let shelf = Arc::new(Shelf {
            captures: Mutex::new(HashMap::new()),
            conns: AtomicU64::new(0),
            tls: AtomicU64::new(0),
        });
        let accept = tokio::spawn(super::serve::accept_loop(
            listener,
            super::serve::Routes::Hub(shelf.clone()),
            1024,
            Duration::from_secs(10),
        ));
        Ok(Hub { addr, shelf, accept })
    }

    /// The address the hub listens on (with the port actually bound).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub(super) fn shelf(&self) -> Arc<Shelf> {
        self.shelf.clone()
    }
}

impl Drop for Hub {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

/// How an endpoint receives its requests: its own listener, or a prefix on a hub.
pub(super) enum Attach {
    Own(tokio::task::JoinHandle<()>),
    Hub(Arc<Shelf>, String),
}

impl Attach {
    /// Puts the capture on the hub under `prefix`; an error if one is there already.
    pub fn to_hub(shelf: Arc<Shelf>, prefix: &str, state: Arc<State>) -> Result<Attach, Error> {
        use std::collections::hash_map::Entry;
        match shelf.captures.lock().expect("lock").entry(prefix.to_string()) {
            Entry::Occupied(_) => {
                return Err(Error::Io(std::io::Error::new(
                    std::io::ErrorKind::AlreadyExists,
                    format!("a capture with the path prefix {prefix:?} is on this hub already"),
                )))
            }
            Entry::Vacant(v) => {
                v.insert(state);
            }
        }
        Ok(Attach::Hub(shelf, prefix.to_string()))
    }

    /// Stops taking requests: the listener stops, or the hub forgets the prefix (its
    /// paths are answered 404 from then on, recorded by no capture).
    pub fn detach(&self) {
        match self {
            Attach::Own(accept) => accept.abort(),
            Attach::Hub(shelf, prefix) => {
                shelf.captures.lock().expect("lock").remove(prefix);
            }
        }
    }
}
