//! brhook: a protocol-conformance harness for BililiveRecorder's webhooks.
//!
//! The root is the front door: what a sender's or a receiver's `cargo test` needs
//! ([`Endpoint`], [`Fault`], [`Proxy`], [`Probe`] with its [`Scenario`]s, the [`Report`] with its [`Group`]s,
//! [`Finding`]s, [`Check`]s, [`Level`]s and [`Status`]es, and the [`Error`]), plus the
//! faithful [`Sender`] that stands in for yours in examples. Everything else sits in
//! private layers, each importing only from the ones below it:
//!
//! | layer | modules |
//! |---|---|
//! | 0 | `protocol` (event kinds, settings, the real sender's limits), `catalog`, `common`, `lexical` |
//! | 1 | `schema`, `fault`, `finding` |
//! | 2 | `body`, `journal`, `gen` |
//! | 3 | `report`, `reference`, `http`, `error` (which wraps the journal's) |
//! | 4 | `judge`, `normalize` |
//! | 5 | `endpoint` (the capture server asks an answerer), `validate`, `receiver` |
//! | 6 | `proxy` (endpoint + forwarder), `demo`, `control` (`brhook serve`'s API: captures on one hub) |
//!
//! `tests/layers.rs` holds every import to this table. [`testkit`] re-exports those
//! layers for property tests, tools and brhook's own CLI.
#![warn(missing_docs)]

mod body;
mod catalog;
mod common;
mod control;
mod demo;
mod endpoint;
mod error;
mod fault;
mod finding;
mod gen;
mod http;
mod journal;
mod judge;
mod lexical;
mod normalize;
mod protocol;
mod proxy;
mod receiver;
mod reference;
mod report;
mod schema;
mod validate;

pub mod testkit;

pub use catalog::{Check, Level};
pub use endpoint::{Counters, Endpoint, Handle};
pub use error::Error;
pub use fault::Fault;
pub use finding::Finding;
pub use proxy::{Metrics, MetricsServer, Proxy};
pub use receiver::{Probe, Scenario};
pub use reference::{Sender, SenderConfig};
pub use report::{Group, Report, Status};

/// The README's Rust examples run as doctests, so the documented API stays true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
