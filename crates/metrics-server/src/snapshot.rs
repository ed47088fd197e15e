//! `App`: the server's shared state. It holds the store, the latest state read from it (a
//! [`Snapshot`], replaced whole on every change so a request never sees half of one), the
//! watcher that notices writes by any process, and the ingest queue.

use std::path::Path;
use std::sync::Arc;

use metrics_store::{ChangeMarker, MetricsStore};
use metrics_types::DashboardState;
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;

use crate::ingest::{Ingest, IngestStats};
use crate::{ServerConfig, ServerError};

/// One read of the store: its state and what a reader should be told about it.
#[derive(Debug, Clone)]
pub struct Snapshot {
    /// The state, with the journal applied.
    pub state: Arc<DashboardState>,
    /// Counts up by one per change seen; the live stream sends it.
    pub generation: u64,
    /// Set when the file could not be read and this is its backup, or the journal holds
    /// entries that could not be applied: said on the page and in `/healthz`.
    pub warning: Option<String>,
    /// How many of this server's acknowledged writes the state includes (it was read after
    /// they were durable), so a read after a client's write can wait for it.
    pub writes_seen: u64,
}

/// The server's shared state; cheap to clone (one `Arc`).
#[derive(Debug, Clone)]
pub struct App {
    pub(crate) inner: Arc<Inner>,
}

#[derive(Debug)]
pub(crate) struct Inner {
    pub(crate) store: Arc<MetricsStore>,
    pub(crate) config: ServerConfig,
    pub(crate) snapshot: watch::Sender<Arc<Snapshot>>,
    /// Wakes the watcher at once (after the server's own write).
    pub(crate) changed: Notify,
    pub(crate) ingest: Ingest,
    pub(crate) stop: Notify,
    /// Set when the server stops accepting: live streams end.
    pub(crate) closing: watch::Sender<bool>,
    /// The names `Host` may give (see `guard`).
    pub(crate) host_policy: crate::guard::HostPolicy,
    /// What the accept loop did.
    pub(crate) connections: Arc<crate::connections::ConnectionCounters>,
    /// Writes this server acknowledged (counted after each was durable).
    pub(crate) acknowledged: std::sync::atomic::AtomicU64,
    /// Wakes the watcher out of its pause between reads: a reader waits for a write.
    wanted: Notify,
    watcher: std::sync::Mutex<Option<JoinHandle<()>>>,
    /// Why the last read of the store failed (both the file and its backup unreadable, say):
    /// the server still serves the last state it read, and says so.
    read_error: std::sync::Mutex<Option<String>>,
}

impl App {
    /// Reads the store once (so a store that cannot be read stops the start with its
    /// error), then starts the watcher and the ingest writer. Must be called inside a
    /// tokio runtime.
    pub fn start(store: MetricsStore, config: ServerConfig) -> Result<App, ServerError> {
        let store = Arc::new(store);
        let marker = store.change_marker()?;
        let first = read_snapshot(&store, 0)?;
        let (snapshot, _) = watch::channel(Arc::new(first));
        let ingest =
            Ingest::start(Arc::clone(&store)).map_err(|source| ServerError::Writer { source })?;
        let host_policy = crate::guard::HostPolicy::new(config.listen, &config.allowed_hosts);
        let app = App {
            inner: Arc::new(Inner {
                host_policy,
                connections: Arc::default(),
                acknowledged: std::sync::atomic::AtomicU64::new(0),
                wanted: Notify::new(),
                store,
                config,
                snapshot,
                changed: Notify::new(),
                ingest,
                stop: Notify::new(),
                closing: watch::channel(false).0,
                watcher: std::sync::Mutex::new(None),
                read_error: std::sync::Mutex::new(None),
            }),
        };
        let watcher = tokio::spawn(watch_store(app.clone(), marker));
        if let Ok(mut slot) = app.inner.watcher.lock() {
            *slot = Some(watcher);
        }
        Ok(app)
    }

    /// The metrics file served.
    pub fn store_path(&self) -> &Path {
        self.inner.store.path()
    }

    /// The latest snapshot.
    pub fn snapshot(&self) -> Arc<Snapshot> {
        Arc::clone(&self.inner.snapshot.borrow())
    }

    /// A receiver that sees every new snapshot.
    pub fn subscribe(&self) -> watch::Receiver<Arc<Snapshot>> {
        self.inner.snapshot.subscribe()
    }

    /// The ingest counters (requests, batches, events).
    pub fn ingest_stats(&self) -> IngestStats {
        self.inner.ingest.stats()
    }

    /// The store's own counters (writes, lock waits, recoveries).
    pub fn store_stats(&self) -> metrics_store::StoreStats {
        self.inner.store.stats()
    }

    /// Ends the live streams (call when the server stops accepting).
    pub fn close_streams(&self) {
        self.inner.closing.send_replace(true);
    }

    /// Stops the watcher and waits for the ingest writer to finish what it was given.
    pub async fn stop(&self) {
        self.inner.stop.notify_one();
        let watcher = self.inner.watcher.lock().ok().and_then(|mut slot| slot.take());
        if let Some(watcher) = watcher {
            let _ = watcher.await;
        }
        self.inner.ingest.stop().await;
    }

    /// What keeps the server from doing its job now, in words; empty when healthy: the
    /// store cannot be read (the last state read is served), its directory cannot be
    /// written, or the ingest writer is not running.
    pub fn health_problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if let Some(error) = lock(&self.inner.read_error).clone() {
            problems
                .push(format!("the store cannot be read ({error}); showing the last state read"));
        }
        let path = self.inner.store.path();
        let dir = match path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir,
            _ => Path::new("."),
        };
        if let Err(err) = metrics_store::atomic_fs::check_dir_writable(dir) {
            problems.push(format!(
                "the store's directory {} cannot be written ({err}); writes will fail",
                dir.display()
            ));
        }
        if !self.inner.ingest.is_running() {
            problems.push("the ingest writer is not running; writes are refused".to_owned());
        }
        problems
    }

    /// After a write of ours was acknowledged: counts it, and asks the watcher to look now.
    pub(crate) fn store_changed(&self) {
        self.inner.acknowledged.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.inner.changed.notify_one();
    }

    /// The latest snapshot once it includes every write this server acknowledged so far:
    /// a GET that follows a client's 2xx POST sees that POST's events (read your writes).
    /// Waits for the watcher's next read when needed, at most 2 s (then the latest).
    pub async fn fresh_snapshot(&self) -> Arc<Snapshot> {
        let target = self.inner.acknowledged.load(std::sync::atomic::Ordering::SeqCst);
        let mut updates = self.subscribe();
        if updates.borrow().writes_seen >= target {
            return self.snapshot();
        }
        self.inner.changed.notify_one();
        self.inner.wanted.notify_one();
        let wait = updates.wait_for(|snapshot| snapshot.writes_seen >= target);
        let _ = tokio::time::timeout(std::time::Duration::from_secs(2), wait).await;
        self.snapshot()
    }
}

/// Marks the current snapshot as including the first `writes` of this server's writes
/// (nothing changed on disk, or the store cannot be read: waiting would not help a reader).
fn catch_up(inner: &Inner, writes: u64) {
    // The borrow must end before the write lock is taken.
    let behind = inner.snapshot.borrow().writes_seen < writes;
    if behind {
        inner.snapshot.send_modify(|snapshot| {
            let mut same = Snapshot::clone(snapshot);
            same.writes_seen = writes;
            *snapshot = Arc::new(same);
        });
    }
}

fn lock<T>(mutex: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Reads the store into a snapshot.
fn read_snapshot(store: &MetricsStore, generation: u64) -> Result<Snapshot, ServerError> {
    let loaded = store.load()?;
    let mut warnings = Vec::new();
    if let Some(fallback) = &loaded.fallback {
        warnings.push(fallback.to_string());
    }
    if let Some(journal) = &loaded.journal {
        let skipped = journal.problems.iter().chain(&journal.refused);
        warnings.extend(skipped.map(|problem| format!("{}: {problem}", journal.path.display())));
    }
    Ok(Snapshot {
        state: Arc::new(loaded.state),
        generation,
        warning: (!warnings.is_empty()).then(|| warnings.join("; ")),
        writes_seen: 0,
    })
}

/// Checks the store's identity every `watch_interval` (or at once when told of a write of
/// ours) and reads it only when it changed.
async fn watch_store(app: App, mut marker: ChangeMarker) {
    let inner = &app.inner;
    let mut generation = 0u64;
    loop {
        tokio::select! {
            () = inner.stop.notified() => return,
            () = inner.changed.notified() => {}
            () = tokio::time::sleep(inner.config.watch_interval) => {}
        }
        let store = Arc::clone(&inner.store);
        let next = generation + 1;
        // Captured before the read: every write counted here was durable before it began.
        let writes = inner.acknowledged.load(std::sync::atomic::Ordering::SeqCst);
        let read = tokio::task::spawn_blocking(move || {
            let now = store.change_marker()?;
            if now == marker {
                return Ok(None);
            }
            read_snapshot(&store, next).map(|snapshot| Some((now, snapshot)))
        })
        .await;
        match read {
            Ok(Ok(Some((now, mut snapshot)))) => {
                lock(&inner.read_error).take();
                marker = now;
                generation = next;
                snapshot.writes_seen = writes;
                tracing::debug!(generation, "store changed");
                inner.snapshot.send_replace(Arc::new(snapshot));
                // Under a stream of writes, read at most once per gap: a read parses the
                // whole store, and readers need it within a second, not per write; a reader
                // waiting for its own write cuts the gap short.
                tokio::select! {
                    () = inner.stop.notified() => return,
                    () = tokio::time::sleep(inner.config.reload_gap) => {}
                    () = inner.wanted.notified() => {}
                }
            }
            // Nothing changed on disk (the writes were duplicates): the state already holds
            // them.
            Ok(Ok(None)) => catch_up(inner, writes),
            Ok(Err(err)) => {
                let error = err.to_string();
                let mut last = lock(&inner.read_error);
                // Said once per distinct failure, not at every tick.
                if last.as_deref() != Some(error.as_str()) {
                    tracing::warn!(error = %error, "cannot read the store; still serving the last state read");
                }
                *last = Some(error);
                drop(last);
                // Waiting cannot help a reader while the store cannot be read: it gets the
                // last state, and the warning saying why.
                catch_up(inner, writes);
                continue;
            }
            Err(err) => tracing::warn!(error = %err, "the store reader stopped"),
        }
    }
}
