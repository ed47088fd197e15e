//! `agent-metrics serve`: the server of `metrics-server` over this command's store, until
//! SIGTERM or SIGINT (Ctrl-C); then it stops accepting, finishes the batch in flight and
//! exits 0.

use std::time::Duration;

use metrics_server::{ServerConfig, ServerError, read_token_file, serve};

use crate::cli::ServeArgs;
use crate::commands::Context;
use crate::error::CliError;

pub(crate) fn run(context: &mut Context, args: &ServeArgs) -> Result<String, CliError> {
    init_logging();
    let listen = args.listen;
    let mut config = ServerConfig::default();
    config.listen = listen;
    config.max_body_bytes = args.max_body;
    config.token = args.token_file.as_deref().map(read_token_file).transpose()?;
    config.token_for_reads = args.token_for_reads;
    config.allowed_hosts = args.allowed_host.clone();
    config.header_timeout = Duration::from_secs(args.header_timeout.max(1));
    config.max_connections = args.max_connections;
    // Refuse before binding: nothing listens beyond loopback without a token.
    config.check_exposure(listen)?;
    let store = context.open_store()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|source| ServerError::Bind { addr: listen, source })?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .map_err(|source| ServerError::Bind { addr: listen, source })?;
        let bound =
            listener.local_addr().map_err(|source| ServerError::Bind { addr: listen, source })?;
        // The first line of output, for people and for scripts that asked for port 0.
        crate::output::line(&format!("listening on http://{bound}")).map_err(CliError::Stdout)?;
        serve(store, config, listener, stop_signal()).await?;
        Ok::<(), CliError>(())
    })?;
    Ok(String::new())
}

/// Resolves at the first SIGTERM or SIGINT.
async fn stop_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut int)) =
        (signal(SignalKind::terminate()), signal(SignalKind::interrupt()))
    else {
        // Without signal handlers the server runs until killed.
        return std::future::pending().await;
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
}

/// Structured logs on standard error; `RUST_LOG` chooses the level (default `info`).
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .try_init();
}
