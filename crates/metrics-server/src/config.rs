//! `ServerConfig`: where to listen, who may write, and the limits.

use std::net::SocketAddr;
use std::time::Duration;

use crate::ServerError;

/// The default address: loopback only, the port Prometheus's exporter list gives
/// agent-metrics' neighbours (9464 is the OpenTelemetry Prometheus exporter's default).
pub const DEFAULT_LISTEN: &str = "127.0.0.1:9464";

/// How the server runs.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ServerConfig {
    /// The address to listen on.
    pub listen: SocketAddr,
    /// The bearer token `POST` requests must carry. Required when listening on anything
    /// but loopback; optional (and then enforced) on loopback.
    pub token: Option<String>,
    /// The largest request body accepted; larger ones get 413.
    pub max_body_bytes: usize,
    /// The most events one request may carry; more get 413.
    pub max_events_per_request: usize,
    /// How often the store's identity is checked for writes by other processes.
    pub watch_interval: Duration,
    /// The shortest time between two reads of a changing store: a read parses the whole
    /// store, so under a stream of writes it happens at most this often (live views lag by
    /// at most this much plus `watch_interval`).
    pub reload_gap: Duration,
    /// How many latest events `/api/v1/status` includes.
    pub status_events: usize,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: DEFAULT_LISTEN
                .parse()
                .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 9464))),
            token: None,
            max_body_bytes: 1 << 20,
            max_events_per_request: 10_000,
            watch_interval: Duration::from_millis(100),
            reload_gap: Duration::from_millis(250),
            status_events: 20,
        }
    }
}

impl ServerConfig {
    /// Refuses to serve writes to the network without a token: on any address but
    /// loopback, a token is required.
    pub fn check_exposure(&self, addr: SocketAddr) -> Result<(), ServerError> {
        if !addr.ip().is_loopback() && self.token.is_none() {
            return Err(ServerError::TokenRequired { addr });
        }
        Ok(())
    }
}

/// Reads a token file: its first line, trimmed; one shorter than 16 characters is refused.
pub fn read_token_file(path: &std::path::Path) -> Result<String, ServerError> {
    let contents = std::fs::read_to_string(path)
        .map_err(|source| ServerError::TokenFile { path: path.to_path_buf(), source })?;
    let token = contents.lines().next().unwrap_or("").trim().to_owned();
    if token.len() < 16 {
        return Err(ServerError::WeakToken { path: path.to_path_buf() });
    }
    Ok(token)
}
