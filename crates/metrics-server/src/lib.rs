#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

mod api;
mod auth;
mod config;
mod connections;
mod error;
pub mod exposition;
mod guard;
mod ingest;
mod page;
mod snapshot;

/// The store this server serves (and, through it, `metrics_types` and `atomic_fs`).
pub use metrics_store;

pub use crate::api::router;
pub use crate::config::{DEFAULT_LISTEN, ServerConfig, read_token_file};
pub use crate::connections::{ConnectionStats, RESERVED_DESCRIPTORS};
pub use crate::error::ServerError;
pub use crate::guard::ACCEPTED_CONTENT_TYPES;
pub use crate::ingest::{EventsReply, IDLE_CHECKPOINT, IngestStats};
pub use crate::snapshot::App;

/// Serves `store` on `listener` until `shutdown` resolves, then stops accepting, lets
/// requests in flight finish (the batch being written is written and acknowledged), and
/// returns.
///
/// Raises the process's descriptor limit to its hard limit, and caps connections below it
/// (see [`ServerConfig::max_connections`]).
pub async fn serve(
    store: metrics_store::MetricsStore,
    mut config: ServerConfig,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), ServerError> {
    let addr = listener
        .local_addr()
        .map_err(|source| ServerError::Bind { addr: config.listen, source })?;
    config.check_exposure(addr)?;
    if !addr.ip().is_loopback() && !config.token_for_reads {
        tracing::warn!(
            %addr,
            "reads (the page, /metrics, /api/v1) are open to anyone who can reach this address; --token-for-reads closes them"
        );
    }
    // The port actually bound (for `:0`) is the one `Host` must name.
    config.listen = addr;
    let cap = connections::effective_cap(
        config.max_connections,
        metrics_store::atomic_fs::raise_descriptor_limit(),
    );
    let app = App::start(store, config)?;
    tracing::info!(%addr, store = %app.store_path().display(), max_connections = cap, "serving");
    let routes = router(app.clone());
    let (stop, stopping) = tokio::sync::watch::channel(false);
    let closing = app.clone();
    tokio::spawn(async move {
        shutdown.await;
        tracing::info!("stopping: no new connections; finishing requests in flight");
        closing.close_streams();
        stop.send_replace(true);
    });
    let counters = std::sync::Arc::clone(&app.inner.connections);
    connections::serve_connections(listener, routes, &app.inner.config, cap, counters, stopping)
        .await;
    app.stop().await;
    tracing::info!("stopped");
    Ok(())
}
