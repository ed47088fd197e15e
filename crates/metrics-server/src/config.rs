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
    /// Host names (without port) the server answers to beside IP literals and `localhost`,
    /// for a reverse proxy or a DNS name (`--allowed-host`). See `docs/server.md`, "Security".
    pub allowed_hosts: Vec<String>,
    /// Require the token on reads as well as writes (`/healthz` excepted).
    pub token_for_reads: bool,
    /// How long a client may take to send a request's headers, and how long an idle
    /// keep-alive connection stays open; then the server closes it.
    pub header_timeout: Duration,
    /// How long a client may take to send a request's body (408 after).
    pub body_timeout: Duration,
    /// The most connections open at once. At the cap, a new connection closes the oldest
    /// one that has no request in progress (idle or still sending its headers); when every
    /// connection is busy, the new one is answered 503. Lowered at start to what the
    /// process's descriptor limit allows beside the store's own files.
    pub max_connections: usize,
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
            allowed_hosts: Vec::new(),
            token_for_reads: false,
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(30),
            max_connections: 512,
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
        if self.token_for_reads && self.token.is_none() {
            return Err(ServerError::TokenForReadsWithoutToken);
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
