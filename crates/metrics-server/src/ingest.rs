//! Group commit: every event request waiting while a write is in flight goes into the next
//! single durable write. One writer thread owns the writes; a request is answered only after
//! the write that holds its events returned (the data is on disk), with which of its ids
//! were new and which were already stored.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use metrics_store::{MetricsStore, StoreError};
use metrics_types::{AgentEvent, RecordOutcome, SessionInput, Timestamp};
use prometheus_client::metrics::histogram::Histogram;
use std::sync::mpsc;
use std::time::Duration;

use tokio::sync::oneshot;

/// In journal mode, how long the writer waits with no request before it folds what the
/// server appended into the file, so readers of the file alone (the Python dashboard) see
/// the server's writes within about a second after a burst ends instead of at the next
/// writer's checkpoint.
pub const IDLE_CHECKPOINT: Duration = Duration::from_secs(1);

/// What became of one request's events.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct EventsReply {
    /// Ids stored by this write.
    pub recorded: Vec<String>,
    /// Ids that were already stored (or repeated): nothing changed for them.
    pub duplicates: Vec<String>,
    /// Requests that shared the durable write (1 when alone).
    pub batch_requests: usize,
}

/// Why a request's write did not happen; nothing of it was applied.
#[derive(Debug)]
pub(crate) enum IngestError {
    /// The lock stayed held by another writer past the store's timeout.
    Busy(String),
    /// The state refused it (a total would overflow, a session breaks a rule).
    Rejected(String),
    /// The server is stopping.
    Stopped,
    /// The store failed (I/O, an unreadable file it will not overwrite).
    Store(String),
}

impl From<StoreError> for IngestError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::LockTimeout { .. } => IngestError::Busy(err.to_string()),
            StoreError::Rejected { source, .. } => IngestError::Rejected(source.to_string()),
            StoreError::Invalid { source, .. } => IngestError::Rejected(source.to_string()),
            other => IngestError::Store(other.to_string()),
        }
    }
}

enum Job {
    Events { events: Vec<AgentEvent>, reply: oneshot::Sender<Result<EventsReply, IngestError>> },
    Session { input: SessionInput, reply: oneshot::Sender<Result<RecordOutcome, IngestError>> },
}

/// Counters of the ingest path, exported on `/metrics`.
#[derive(Debug, Clone, Default)]
pub struct IngestStats {
    /// Event requests answered.
    pub requests: u64,
    /// Durable writes made for them.
    pub batches: u64,
    /// Events newly stored.
    pub events_recorded: u64,
    /// Events that were already stored.
    pub events_duplicate: u64,
    /// Requests that failed (busy, refused, store errors).
    pub failures: u64,
}

#[derive(Debug, Default)]
struct Counters {
    requests: AtomicU64,
    batches: AtomicU64,
    events_recorded: AtomicU64,
    events_duplicate: AtomicU64,
    failures: AtomicU64,
}

/// The queue and the writer thread.
#[derive(Debug)]
pub(crate) struct Ingest {
    queue: Mutex<Option<mpsc::Sender<Job>>>,
    writer: Mutex<Option<std::thread::JoinHandle<()>>>,
    counters: Arc<Counters>,
    /// Requests per durable write.
    pub(crate) batch_sizes: Histogram,
    /// Seconds per durable write (the store call: lock, append or replace, flush).
    pub(crate) write_seconds: Histogram,
}

impl Ingest {
    /// Starts the writer thread; fails when the thread cannot be started.
    pub(crate) fn start(store: Arc<MetricsStore>) -> std::io::Result<Ingest> {
        let (queue, jobs) = mpsc::channel();
        let counters = Arc::new(Counters::default());
        let batch_sizes = Histogram::new([1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0]);
        let write_seconds = Histogram::new(
            prometheus_client::metrics::histogram::exponential_buckets(0.000_125, 2.0, 12),
        );
        let writer = {
            let meters = Meters {
                counters: Arc::clone(&counters),
                batch_sizes: batch_sizes.clone(),
                write_seconds: write_seconds.clone(),
            };
            std::thread::Builder::new()
                .name("metrics-ingest".into())
                .spawn(move || write_loop(&store, jobs, &meters))?
        };
        Ok(Ingest {
            queue: Mutex::new(Some(queue)),
            writer: Mutex::new(Some(writer)),
            counters,
            batch_sizes,
            write_seconds,
        })
    }

    /// Queues `events` and waits until they are durable (or refused).
    pub(crate) async fn record_events(
        &self,
        events: Vec<AgentEvent>,
    ) -> Result<EventsReply, IngestError> {
        let (reply, answer) = oneshot::channel();
        self.send(Job::Events { events, reply })?;
        answer.await.unwrap_or_else(|_| Err(IngestError::writer_failed()))
    }

    /// Queues a session and waits until it is durable (or refused).
    pub(crate) async fn record_session(
        &self,
        input: SessionInput,
    ) -> Result<RecordOutcome, IngestError> {
        let (reply, answer) = oneshot::channel();
        self.send(Job::Session { input, reply })?;
        answer.await.unwrap_or_else(|_| Err(IngestError::writer_failed()))
    }

    fn send(&self, job: Job) -> Result<(), IngestError> {
        let queue = self.queue.lock().map_err(|_| IngestError::Stopped)?;
        let queue = queue.as_ref().ok_or(IngestError::Stopped)?;
        queue.send(job).map_err(|_| IngestError::Stopped)
    }

    /// Whether the writer thread is running (it ends only when the queue closes).
    pub(crate) fn is_running(&self) -> bool {
        let queue_open = self.queue.lock().is_ok_and(|queue| queue.is_some());
        let writer = self.writer.lock();
        queue_open && writer.is_ok_and(|writer| writer.as_ref().is_some_and(|w| !w.is_finished()))
    }

    pub(crate) fn stats(&self) -> IngestStats {
        let c = &self.counters;
        IngestStats {
            requests: c.requests.load(Ordering::Relaxed),
            batches: c.batches.load(Ordering::Relaxed),
            events_recorded: c.events_recorded.load(Ordering::Relaxed),
            events_duplicate: c.events_duplicate.load(Ordering::Relaxed),
            failures: c.failures.load(Ordering::Relaxed),
        }
    }

    /// Closes the queue; the writer finishes every job already queued, then exits.
    pub(crate) async fn stop(&self) {
        if let Ok(mut queue) = self.queue.lock() {
            queue.take();
        }
        let writer = self.writer.lock().ok().and_then(|mut slot| slot.take());
        if let Some(writer) = writer {
            let _ = tokio::task::spawn_blocking(move || writer.join()).await;
        }
    }
}

/// What the writer thread counts and times.
struct Meters {
    counters: Arc<Counters>,
    batch_sizes: Histogram,
    write_seconds: Histogram,
}

fn write_loop(store: &MetricsStore, jobs: mpsc::Receiver<Job>, meters: &Meters) {
    // Whether the server appended since it last folded the journal (idle or at the end).
    let mut unfolded = false;
    loop {
        let first = match jobs.recv_timeout(if unfolded { IDLE_CHECKPOINT } else { Duration::MAX })
        {
            Ok(job) => job,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                unfolded = !idle_checkpoint(store);
                continue;
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        };
        // Everything that queued up while the previous write was in flight.
        let mut waiting = vec![first];
        while let Ok(job) = jobs.try_recv() {
            waiting.push(job);
        }
        // A panic (a bug) while writing is caught so the writer keeps serving: the requests
        // of that batch are answered with an error (their reply channels are dropped) and
        // may be retried safely, since event ids make a retry idempotent.
        let wrote = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            write_jobs(store, waiting, meters)
        }));
        match wrote {
            Ok(true) => unfolded = true,
            Ok(false) => {}
            Err(_) => {
                meters.counters.failures.fetch_add(1, Ordering::Relaxed);
                tracing::error!(
                    "the ingest writer panicked on a batch (a bug); its requests were answered 500 and the writer goes on"
                );
                unfolded = true;
            }
        }
    }
    if unfolded {
        idle_checkpoint(store);
    }
}

/// Writes one batch of queued jobs: the events in one durable write, then each session.
/// Returns whether anything was written.
fn write_jobs(store: &MetricsStore, waiting: Vec<Job>, meters: &Meters) -> bool {
    let mut batch = Vec::new();
    let mut sessions = Vec::new();
    for job in waiting {
        match job {
            Job::Events { events, reply } => batch.push((events, reply)),
            Job::Session { input, reply } => sessions.push((input, reply)),
        }
    }
    let wrote = !batch.is_empty() || !sessions.is_empty();
    if !batch.is_empty() {
        write_events(store, batch, meters);
    }
    for (input, reply) in sessions {
        let outcome = store
            .record_session_with(|state| input.into_session(state, Timestamp::now()))
            .map_err(IngestError::from);
        let _ = reply.send(outcome);
    }
    wrote
}

/// Folds the journal into the file (nothing to do in whole-file mode, or when a writer's
/// own checkpoint already did); returns whether it succeeded. A failure is logged and
/// retried at the next idle moment: the journal still holds every acknowledged entry.
fn idle_checkpoint(store: &MetricsStore) -> bool {
    match store.checkpoint() {
        Ok(folded) => {
            if folded > 0 {
                tracing::debug!(folded, "idle checkpoint");
            }
            true
        }
        Err(err) => {
            tracing::warn!(error = %err, "idle checkpoint failed; the journal keeps every entry");
            false
        }
    }
}

type EventJob = (Vec<AgentEvent>, oneshot::Sender<Result<EventsReply, IngestError>>);

/// One durable write for every request in `batch`. If the state refuses the merged batch,
/// each request is written alone, so one bad request never fails the others.
fn write_events(store: &MetricsStore, batch: Vec<EventJob>, meters: &Meters) {
    let counters = &meters.counters;
    let requests = batch.len();
    let merged: Vec<AgentEvent> = batch.iter().flat_map(|(events, _)| events.clone()).collect();
    counters.batches.fetch_add(1, Ordering::Relaxed);
    meters.batch_sizes.observe(requests as f64);
    let started = std::time::Instant::now();
    let written = store.record_events(merged);
    meters.write_seconds.observe(started.elapsed().as_secs_f64());
    match written {
        Ok(outcome) => {
            let mut answers = Answers::new(&batch, &outcome.duplicate_ids);
            for (events, reply) in batch {
                let reply_body = answers.answer(&events, requests);
                counters.requests.fetch_add(1, Ordering::Relaxed);
                counters
                    .events_recorded
                    .fetch_add(reply_body.recorded.len() as u64, Ordering::Relaxed);
                counters
                    .events_duplicate
                    .fetch_add(reply_body.duplicates.len() as u64, Ordering::Relaxed);
                let _ = reply.send(Ok(reply_body));
            }
        }
        Err(StoreError::Rejected { .. } | StoreError::Invalid { .. }) if requests > 1 => {
            for job in batch {
                write_events(store, vec![job], meters);
            }
        }
        Err(err) => {
            let message = IngestError::from(err);
            for (_, reply) in batch {
                counters.failures.fetch_add(1, Ordering::Relaxed);
                let _ = reply.send(Err(message.clone_message()));
            }
        }
    }
}

impl IngestError {
    /// The writer dropped the request without answering: it panicked on its batch.
    fn writer_failed() -> IngestError {
        IngestError::Store(
            "the writer failed while writing this request (a bug, logged by the server); it may not be recorded: retry it, event ids make a retry safe".to_owned(),
        )
    }

    fn clone_message(&self) -> IngestError {
        match self {
            IngestError::Busy(m) => IngestError::Busy(m.clone()),
            IngestError::Rejected(m) => IngestError::Rejected(m.clone()),
            IngestError::Stopped => IngestError::Stopped,
            IngestError::Store(m) => IngestError::Store(m.clone()),
        }
    }
}

/// Tells each request which of its ids the merged write stored. The state stores the first
/// occurrence of an id in the batch unless it was already stored, so an id that occurs `n`
/// times and is reported duplicate `d` times was stored by its first occurrence iff `d < n`.
struct Answers {
    stored_first: HashMap<String, bool>,
}

impl Answers {
    fn new(batch: &[EventJob], duplicate_ids: &[String]) -> Answers {
        let mut occurrences: HashMap<&str, usize> = HashMap::new();
        for (events, _) in batch {
            for event in events {
                *occurrences.entry(event.event_id()).or_default() += 1;
            }
        }
        let mut duplicates: HashMap<&str, usize> = HashMap::new();
        for id in duplicate_ids {
            *duplicates.entry(id.as_str()).or_default() += 1;
        }
        let stored_first = occurrences
            .iter()
            .map(|(id, n)| ((*id).to_owned(), duplicates.get(id).copied().unwrap_or(0) < *n))
            .collect();
        Answers { stored_first }
    }

    fn answer(&mut self, events: &[AgentEvent], batch_requests: usize) -> EventsReply {
        let mut reply =
            EventsReply { recorded: Vec::new(), duplicates: Vec::new(), batch_requests };
        for event in events {
            let id = event.event_id();
            // Taking the flag answers only the first occurrence as stored.
            if self.stored_first.get_mut(id).is_some_and(std::mem::take) {
                reply.recorded.push(id.to_owned());
            } else {
                reply.duplicates.push(id.to_owned());
            }
        }
        reply
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use metrics_types::EventInput;

    fn event(id: &str, input_tokens: u64) -> AgentEvent {
        let json = format!(
            r#"{{"event_id": "{id}", "agent": "a", "status": "success", "input_tokens": {input_tokens}}}"#
        );
        EventInput::parse_many(&json)
            .unwrap()
            .remove(0)
            .into_event(Timestamp::now(), String::new)
            .unwrap()
    }

    fn meters() -> Meters {
        Meters {
            counters: Arc::new(Counters::default()),
            batch_sizes: Histogram::new([1.0]),
            write_seconds: Histogram::new([1.0]),
        }
    }

    #[test]
    fn a_request_the_state_refuses_does_not_fail_the_others_in_its_batch() {
        let dir = tempfile::tempdir().unwrap();
        let store = MetricsStore::open(&dir.path().join("m.json")).unwrap();
        let huge = i64::MAX as u64;
        let (good, good_answer) = oneshot::channel();
        let (bad, bad_answer) = oneshot::channel();
        let (late, late_answer) = oneshot::channel();
        let batch = vec![
            (vec![event("ok-1", 10)], good),
            // Two events whose tokens together overflow the agent's total: the state refuses.
            (vec![event("big-1", huge), event("big-2", huge)], bad),
            (vec![event("ok-2", 10)], late),
        ];
        write_events(&store, batch, &meters());
        let good = good_answer.blocking_recv().unwrap().unwrap();
        assert_eq!(good.recorded, ["ok-1"]);
        assert!(matches!(bad_answer.blocking_recv().unwrap(), Err(IngestError::Rejected(_))));
        assert_eq!(late_answer.blocking_recv().unwrap().unwrap().recorded, ["ok-2"]);
        let ids: Vec<String> =
            store.load().unwrap().state.events().iter().map(|e| e.event_id().to_owned()).collect();
        assert_eq!(ids, ["ok-1", "ok-2"], "nothing of the refused request was applied");
    }

    #[test]
    fn each_request_is_told_which_of_its_ids_the_merged_write_stored() {
        let dir = tempfile::tempdir().unwrap();
        let store = MetricsStore::open(&dir.path().join("m.json")).unwrap();
        let _ = store.record_event(event("old", 1)).unwrap();
        let (first, first_answer) = oneshot::channel();
        let (second, second_answer) = oneshot::channel();
        let batch = vec![
            (vec![event("old", 1), event("x", 1), event("x", 1)], first),
            (vec![event("x", 1), event("y", 1)], second),
        ];
        write_events(&store, batch, &meters());
        let first = first_answer.blocking_recv().unwrap().unwrap();
        assert_eq!(
            (first.recorded, first.duplicates),
            (vec!["x".to_owned()], vec!["old".to_owned(), "x".to_owned()])
        );
        let second = second_answer.blocking_recv().unwrap().unwrap();
        assert_eq!(
            (second.recorded, second.duplicates),
            (vec!["y".to_owned()], vec!["x".to_owned()])
        );
        assert_eq!(second.batch_requests, 2);
    }
}
