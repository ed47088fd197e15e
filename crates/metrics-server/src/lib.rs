//! The agent-metrics server: one long-running process over one metrics store that serves
//!
//! - `GET /`: the live dashboard, one page from the binary (no CDN, no build step);
//! - `GET /metrics`: the store as OpenMetrics or Prometheus text, chosen by `Accept`;
//! - `GET /api/v1/status|agents|agents/{name}|events|sessions`: the typed views of
//!   [`metrics_types::view`], the same the CLI prints with `--json`;
//! - `GET /api/v1/stream`: server-sent events, one per change of the store by any writer;
//! - `POST /api/v1/events` and `POST /api/v1/sessions`: durable, idempotent ingest, with
//!   concurrent requests group-committed into one write;
//! - `GET /healthz`.
//!
//! Other writers (the CLI, library handles, the Python dashboard) keep writing the same file
//! under the same lock; the server notices their writes by the file's and the journal's
//! identity (two `stat` calls per tick, no parse when nothing changed).
//!
//! A downstream crate can mount the routes in its own axum server with [`router`]; the
//! `agent-metrics serve` command is [`serve`] with a signal handler.
//!
//! ```no_run
//! use metrics_server::{ServerConfig, serve};
//! use metrics_store::MetricsStore;
//!
//! # async fn run() -> Result<(), metrics_server::ServerError> {
//! let store = MetricsStore::open(std::path::Path::new(".agent_metrics.json"))?;
//! let config = ServerConfig::default();
//! let listener = tokio::net::TcpListener::bind(config.listen).await.map_err(|source| {
//!     metrics_server::ServerError::Bind { addr: config.listen, source }
//! })?;
//! serve(store, config, listener, std::future::pending()).await
//! # }
//! ```
#![warn(missing_docs)]

mod api;
mod auth;
mod config;
mod error;
pub mod exposition;
mod ingest;
mod page;
mod snapshot;

/// The store this server serves (and, through it, `metrics_types` and `atomic_fs`).
pub use metrics_store;

pub use crate::api::router;
pub use crate::config::{DEFAULT_LISTEN, ServerConfig, read_token_file};
pub use crate::error::ServerError;
pub use crate::ingest::{EventsReply, IDLE_CHECKPOINT, IngestStats};
pub use crate::snapshot::App;

/// Serves `store` on `listener` until `shutdown` resolves, then stops accepting, lets
/// requests in flight finish (the batch being written is written and acknowledged), and
/// returns.
pub async fn serve(
    store: metrics_store::MetricsStore,
    config: ServerConfig,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), ServerError> {
    let addr = listener
        .local_addr()
        .map_err(|source| ServerError::Bind { addr: config.listen, source })?;
    config.check_exposure(addr)?;
    let app = App::start(store, config)?;
    tracing::info!(%addr, store = %app.store_path().display(), "serving");
    let routes = router(app.clone());
    let closing = app.clone();
    let shutdown = async move {
        shutdown.await;
        tracing::info!("stopping: no new connections; finishing requests in flight");
        closing.close_streams();
    };
    let served = axum::serve(listener, routes).with_graceful_shutdown(shutdown).await;
    app.stop().await;
    tracing::info!("stopped");
    served.map_err(|source| ServerError::Serve { source })
}
