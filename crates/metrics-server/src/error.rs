//! `ServerError`: why the server could not start or stopped.

use std::net::SocketAddr;
use std::path::PathBuf;

/// Why the server could not start, or stopped with an error.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServerError {
    /// The address could not be bound (in use, not local, no permission).
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// The system's reason.
        #[source]
        source: std::io::Error,
    },
    /// Listening beyond loopback without a token would let anyone on the network write.
    #[error(
        "refusing to listen on {addr} without --token-file: on any address but loopback, POST requests must carry a bearer token"
    )]
    TokenRequired {
        /// The address asked for.
        addr: SocketAddr,
    },
    /// `--token-for-reads` was given without a token to require.
    #[error("--token-for-reads needs --token-file: there is no token to require")]
    TokenForReadsWithoutToken,
    /// The ingest writer thread could not be started.
    #[error("cannot start the ingest writer thread: {source}")]
    Writer {
        /// The system's reason.
        #[source]
        source: std::io::Error,
    },
    /// The token file cannot be read.
    #[error("cannot read the token file {}: {source}", .path.display())]
    TokenFile {
        /// The token file.
        path: PathBuf,
        /// The system's reason.
        #[source]
        source: std::io::Error,
    },
    /// The token file holds fewer than 16 characters on its first line.
    #[error("the token in {} is empty or shorter than 16 characters", .path.display())]
    WeakToken {
        /// The token file.
        path: PathBuf,
    },
    /// The store could not be opened or read at start.
    #[error(transparent)]
    Store(#[from] metrics_store::StoreError),
    /// The HTTP server failed while running.
    #[error("the server stopped: {source}")]
    Serve {
        /// The reason.
        #[source]
        source: std::io::Error,
    },
}
