#![doc = include_str!("../README.md")]
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
