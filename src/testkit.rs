//! The layers under the front door, re-exported as they are: for property tests, tools
//! of your own, and brhook's own command line (which uses nothing else).
//!
//! They follow brhook's needs: expect them to change between minor versions, unlike the
//! crate root's types.

/// The protocol's words: event kinds, the two URL settings, the real sender's limits.
pub mod protocol {
    pub use crate::protocol::*;
}
/// The check catalogue: every check's ID, level, title and source.
pub mod catalog {
    pub use crate::catalog::*;
}
/// Fault plans: how a URL of the fake endpoint answers each attempt.
pub mod fault {
    pub use crate::fault::*;
}
/// One finding and the details an example quotes.
pub mod finding {
    pub use crate::finding::*;
}
/// The compiled JSON Schemas of every v1 and v2 body.
pub mod schema {
    pub use crate::schema::*;
}
/// The lexical scanner of value forms (numbers, escapes, dates as written).
pub mod lexical {
    pub use crate::lexical::*;
}
/// One body judged on its own (T4, S1–S7).
pub mod body {
    pub use crate::body::*;
}
/// The journal: its model, writer and reader.
pub mod journal {
    pub use crate::journal::*;
}
/// Event builders and proptest strategies in the real sender's forms.
pub mod gen {
    pub use crate::gen::*;
}
/// Grouping, verdicts and the text, JSON, JUnit and HTML renderers.
pub mod report {
    pub use crate::report::*;
}
/// The faithful reference sender and its mutants.
pub mod reference {
    pub use crate::reference::*;
}
/// The judges over journal records (every check, live and offline).
pub mod judge {
    pub use crate::judge::*;
}
/// Normalized captures and drift between them (snapshot baselines).
pub mod normalize {
    pub use crate::normalize::*;
}
/// The fake endpoint and its builder.
pub mod endpoint {
    pub use crate::endpoint::*;
}
/// `brhook validate`: bodies judged without a request around them.
pub mod validate {
    pub use crate::validate::*;
}
/// Receiver mode: probe, realistic, random and load traffic, and replay.
pub mod receiver {
    pub use crate::receiver::*;
}
/// `brhook proxy`: the endpoint with a forwarder behind its URLs.
pub mod proxy {
    pub use crate::proxy::*;
}
/// `brhook serve`: the HTTP control API over captures on one data port.
pub mod control {
    pub use crate::control::*;
}
/// The demo wiring: an endpoint, the reference sender (or a mutant), the report.
pub mod demo {
    pub use crate::demo::*;
}
