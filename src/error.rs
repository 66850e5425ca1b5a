//! The library's one error type: returned, never printed.

use std::fmt;
use std::net::SocketAddr;

/// What can stop brhook from capturing or judging.
#[derive(Debug)]
pub enum Error {
    /// The endpoint could not listen on its address.
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// Why listening failed.
        source: std::io::Error,
    },
    /// A journal could not be written, or read back.
    Journal(crate::journal::JournalError),
    /// Any other I/O error (starting a thread, a temporary file).
    Io(std::io::Error),
    /// A proxy's receiver could not be set up: a bad upstream URL or CA file.
    Upstream(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Bind { addr, source } if source.kind() == std::io::ErrorKind::AddrInUse => write!(
                f,
                "cannot listen on {addr}: the port is taken; choose another with --bind, or port 0 for a free one"
            ),
            Error::Bind { addr, source } => write!(f, "cannot listen on {addr}: {source}"),
            Error::Journal(e) => write!(f, "{e}"),
            Error::Upstream(e) => f.write_str(e),
            Error::Io(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Bind { source, .. } | Error::Io(source) => Some(source),
            Error::Journal(e) => Some(e),
            Error::Upstream(_) => None,
        }
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Error {
        Error::Io(e)
    }
}
