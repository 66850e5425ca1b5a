//! The building blocks under the front door, for property tests and tools of your own:
//! the event generators and proptest strategies ([`gen`]), the body judge ([`body`]), the
//! lexical scanner of value forms ([`lexical`]) and the compiled schemas ([`schema`]).
//! brhook's own tests and benchmarks use them.
//!
//! They follow brhook's needs: expect them to change between minor versions, unlike the
//! root's types and the [`endpoint`](crate::endpoint), [`receiver`](crate::receiver),
//! [`reference`](crate::reference) and [`report`](crate::report) modules.

// The files stay beside lib.rs: the crate's own modules reach them as `crate::body`, ...
#[path = "body.rs"]
pub mod body;
#[path = "gen/mod.rs"]
pub mod gen;
#[path = "lexical.rs"]
pub mod lexical;
#[path = "schema.rs"]
pub mod schema;
