//! brhook: a protocol-conformance harness for BililiveRecorder's webhooks.
pub mod body;
pub mod catalog;
pub mod lexical;
pub mod report;
pub mod schema;
pub mod validate;
