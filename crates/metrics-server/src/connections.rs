//! Accepting connections so that slow, idle and numerous clients cannot starve the server:
//!
//! - a client has [`ServerConfig::header_timeout`] to send a request's headers, and an idle
//!   keep-alive connection is closed after the same time (hyper's header-read timer runs
//!   whenever a connection waits for a request);
//! - at most `max_connections` are open; at the cap a new connection closes the oldest one
//!   with no request in progress, preferring one that never completed a request (a silent
//!   or half-header socket), and when every connection is busy the newcomer gets 503;
//! - the cap stays below the descriptor limit, raised to its hard limit at start, with
//!   [`RESERVED_DESCRIPTORS`] kept for the store's files, so sockets never take the
//!   descriptors the store's lock and replace need; if `accept` still runs out, the
//!   oldest idle connection is closed and accepting resumes.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::Request;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, watch};
use tower::ServiceExt;

use crate::ServerConfig;

/// Descriptors kept free for the store (lock file, data file, temporary file, backup,
/// journal, directory) and the runtime, whatever the connection cap.
pub const RESERVED_DESCRIPTORS: usize = 64;

/// The connection cap that fits under `descriptor_limit`.
pub(crate) fn effective_cap(configured: usize, descriptor_limit: Option<u64>) -> usize {
    let room = descriptor_limit.map_or(usize::MAX, |limit| {
        usize::try_from(limit).unwrap_or(usize::MAX).saturating_sub(RESERVED_DESCRIPTORS)
    });
    configured.min(room).max(1)
}

/// What the accept loop knows of one open connection.
#[derive(Debug, Default)]
struct Activity {
    /// Requests being answered now.
    in_flight: AtomicUsize,
    /// Requests received so far.
    requests: AtomicU64,
    /// Told to close (by eviction).
    evict: Notify,
}

/// The open connections, oldest first (ids count up).
#[derive(Debug, Default)]
struct Registry {
    next_id: u64,
    open: BTreeMap<u64, Arc<Activity>>,
}

impl Registry {
    /// Picks the connection to close for a newcomer: the oldest that never completed a
    /// request and has none in progress, else the oldest with none in progress.
    fn evict_one(&mut self) -> bool {
        let idle = |activity: &Arc<Activity>| activity.in_flight.load(Ordering::Acquire) == 0;
        let victim = self
            .open
            .iter()
            .find(|(_, a)| idle(a) && a.requests.load(Ordering::Acquire) == 0)
            .or_else(|| self.open.iter().find(|(_, a)| idle(a)))
            .map(|(id, _)| *id);
        match victim.and_then(|id| self.open.remove(&id)) {
            Some(activity) => {
                activity.evict.notify_one();
                true
            }
            None => false,
        }
    }
}

/// What the accept loop did since the server started, exported on `/metrics`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ConnectionStats {
    /// Connections accepted.
    pub accepted: u64,
    /// Connections closed to make room for a newcomer at the cap (or when out of descriptors).
    pub evicted: u64,
    /// Connections answered 503 because every open one was busy at the cap.
    pub refused_busy: u64,
    /// Connections open now.
    pub open: u64,
}

/// Counts of what the accept loop did, for `/metrics` and tests.
#[derive(Debug, Default)]
pub(crate) struct ConnectionCounters {
    pub(crate) accepted: AtomicU64,
    pub(crate) evicted: AtomicU64,
    pub(crate) refused_busy: AtomicU64,
    pub(crate) open: AtomicUsize,
}

impl ConnectionCounters {
    pub(crate) fn stats(&self) -> ConnectionStats {
        ConnectionStats {
            accepted: self.accepted.load(Ordering::Relaxed),
            evicted: self.evicted.load(Ordering::Relaxed),
            refused_busy: self.refused_busy.load(Ordering::Relaxed),
            open: self.open.load(Ordering::Relaxed) as u64,
        }
    }
}

/// Serves `router` on `listener` until `shutdown` turns true, then lets every connection
/// finish its request in flight and returns.
pub(crate) async fn serve_connections(
    listener: TcpListener,
    router: Router,
    config: &ServerConfig,
    cap: usize,
    counters: Arc<ConnectionCounters>,
    mut shutdown: watch::Receiver<bool>,
) {
    let registry = Arc::new(Mutex::new(Registry::default()));
    let mut tasks = tokio::task::JoinSet::new();
    let header_timeout = config.header_timeout;
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = shutdown.wait_for(|stop| *stop) => break,
        };
        // Reap finished connection tasks so the set does not grow.
        while tasks.try_join_next().is_some() {}
        let stream = match accepted {
            Ok((stream, _)) => stream,
            Err(err) => {
                // Out of descriptors (EMFILE, ENFILE) or a connection reset before accept:
                // free one by closing the oldest idle connection, and go on.
                tracing::debug!(error = %err, "accept failed");
                if lock(&registry).evict_one() {
                    counters.evicted.fetch_add(1, Ordering::Relaxed);
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
                continue;
            }
        };
        counters.accepted.fetch_add(1, Ordering::Relaxed);
        let activity = {
            let mut registry = lock(&registry);
            if registry.open.len() >= cap {
                if registry.evict_one() {
                    counters.evicted.fetch_add(1, Ordering::Relaxed);
                } else {
                    drop(registry);
                    counters.refused_busy.fetch_add(1, Ordering::Relaxed);
                    tasks.spawn(refuse_busy(stream));
                    continue;
                }
            }
            let id = registry.next_id;
            registry.next_id += 1;
            let activity = Arc::new(Activity::default());
            registry.open.insert(id, Arc::clone(&activity));
            (id, activity)
        };
        counters.open.fetch_add(1, Ordering::Relaxed);
        let connection = Connection {
            id: activity.0,
            activity: activity.1,
            registry: Arc::clone(&registry),
            counters: Arc::clone(&counters),
        };
        tasks.spawn(connection.run(stream, router.clone(), header_timeout, shutdown.clone()));
    }
    // Stop accepting; each connection closes after its request in flight.
    drop(listener);
    while tasks.join_next().await.is_some() {}
}

fn lock(registry: &Mutex<Registry>) -> std::sync::MutexGuard<'_, Registry> {
    registry.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Answers a connection that cannot be served now (every connection is busy): 503.
async fn refuse_busy(mut stream: TcpStream) {
    let body = r#"{"error": "the server is at its connection limit with every connection busy; retry shortly"}"#;
    let response = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\nretry-after: 1\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ =
        tokio::time::timeout(Duration::from_secs(1), stream.write_all(response.as_bytes())).await;
}

/// One accepted connection and its place in the registry.
struct Connection {
    id: u64,
    activity: Arc<Activity>,
    registry: Arc<Mutex<Registry>>,
    counters: Arc<ConnectionCounters>,
}

impl Connection {
    async fn run(
        self,
        stream: TcpStream,
        router: Router,
        header_timeout: Duration,
        mut shutdown: watch::Receiver<bool>,
    ) {
        let activity = Arc::clone(&self.activity);
        let service = hyper::service::service_fn(move |request: hyper::Request<_>| {
            let router = router.clone();
            let activity = Arc::clone(&activity);
            async move {
                activity.requests.fetch_add(1, Ordering::AcqRel);
                activity.in_flight.fetch_add(1, Ordering::AcqRel);
                let _done = InFlight(&activity);
                let request = request.map(axum::body::Body::new);
                let response = router.oneshot(Request::from(request)).await;
                Ok::<_, Infallible>(match response {
                    Ok(response) => response,
                    Err(never) => match never {},
                })
            }
        });
        let mut builder = hyper::server::conn::http1::Builder::new();
        builder.timer(TokioTimer::new()).header_read_timeout(header_timeout).keep_alive(true);
        let connection = builder.serve_connection(TokioIo::new(stream), service).with_upgrades();
        tokio::pin!(connection);
        let mut closing = false;
        loop {
            tokio::select! {
                _ = connection.as_mut() => break,
                () = self.activity.evict.notified(), if !closing => {
                    self.counters.evicted.fetch_add(1, Ordering::Relaxed);
                    break;
                }
                _ = shutdown.wait_for(|stop| *stop), if !closing => {
                    closing = true;
                    connection.as_mut().graceful_shutdown();
                }
            }
        }
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        lock(&self.registry).open.remove(&self.id);
        self.counters.open.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Counts a request as finished when dropped (answered, or its future dropped).
struct InFlight<'a>(&'a Activity);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cap_leaves_room_for_the_store_under_the_descriptor_limit() {
        assert_eq!(effective_cap(512, Some(1024)), 512);
        assert_eq!(effective_cap(2000, Some(1024)), 1024 - RESERVED_DESCRIPTORS);
        assert_eq!(effective_cap(512, Some(10)), 1);
        assert_eq!(effective_cap(512, None), 512);
    }

    #[test]
    fn eviction_prefers_connections_that_never_sent_a_request_then_the_oldest_idle() {
        let mut registry = Registry::default();
        let served = Arc::new(Activity::default());
        served.requests.store(3, Ordering::Release);
        let silent = Arc::new(Activity::default());
        let busy = Arc::new(Activity::default());
        busy.requests.store(1, Ordering::Release);
        busy.in_flight.store(1, Ordering::Release);
        registry.open.insert(0, Arc::clone(&busy));
        registry.open.insert(1, Arc::clone(&served));
        registry.open.insert(2, Arc::clone(&silent));
        assert!(registry.evict_one());
        assert_eq!(registry.open.keys().copied().collect::<Vec<_>>(), [0, 1], "the silent one");
        assert!(registry.evict_one());
        assert_eq!(registry.open.keys().copied().collect::<Vec<_>>(), [0], "then the idle one");
        assert!(!registry.evict_one(), "a connection with a request in flight is never closed");
    }
}
