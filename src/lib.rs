//! brhook: a protocol-conformance harness for BililiveRecorder's webhooks.
#![warn(missing_docs)]
pub mod catalog;
mod common;
pub mod demo;
pub mod endpoint;
pub mod error;
pub mod fault;
pub mod finding;
mod http;
pub mod journal;
pub mod judge;
pub mod normalize;
pub mod protocol;
pub mod proxy;
pub mod receiver;

pub mod reference;
pub mod report;
pub mod validate;

pub mod testkit;
pub(crate) use testkit::{body, gen, lexical, schema};

// The front door: what a sender's `cargo test` needs.
pub use catalog::{Check, Level};
pub use endpoint::Endpoint;
pub use error::Error;
pub use fault::Fault;
pub use proxy::Proxy;
pub use report::{Finding, Group, Report};

/// The README's Rust examples run as doctests, so the documented API stays true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
