//! `Plan`: the seeded sequence of writes one writer sends (single events and batches), and the
//! halfway meeting point where the file is corrupted with `--corrupt`.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Barrier, Mutex};
use std::time::{Duration, Instant};

use super::writer::PlannedEvent;

const AGENTS: [&str; 4] = ["coding", "github", "linear", "review"];

/// Where all writers and the supervisor meet halfway (`--corrupt`).
pub(crate) struct Halfway {
    pub(crate) arrive: Barrier,
    pub(crate) resume: Barrier,
}

pub(crate) struct Plan<'a> {
    pub(crate) writer: usize,
    pub(crate) rng: fastrand::Rng,
    /// Events per writer, or `None` to run until `deadline`.
    pub(crate) ops: Option<usize>,
    pub(crate) deadline: Option<Instant>,
    pub(crate) halfway_at: Option<Instant>,
    pub(crate) halfway: Option<&'a Halfway>,
    pub(crate) sent: &'a Mutex<HashSet<String>>,
    pub(crate) acked_events: &'a AtomicU64,
    pub(crate) progress: &'a indicatif::ProgressBar,
    pub(crate) seq: usize,
    pub(crate) met_halfway: bool,
}

impl Plan<'_> {
    /// The next write (1 event 70% of the time, else a batch of 2 to 5), or `None` when done.
    pub(crate) fn next_write(&mut self) -> Option<Vec<PlannedEvent>> {
        if self.is_past_halfway() {
            self.meet_halfway();
        }
        let remaining = match (self.ops, self.deadline) {
            (Some(ops), _) => ops.saturating_sub(self.seq),
            (None, Some(deadline)) if Instant::now() < deadline => usize::MAX,
            _ => 0,
        };
        if remaining == 0 {
            return None;
        }
        let size = if self.rng.u8(..10) < 7 { 1 } else { self.rng.usize(2..=5) }.min(remaining);
        let write: Vec<PlannedEvent> = (self.seq..self.seq + size)
            .map(|n| PlannedEvent {
                id: format!("w{}-{n:06}", self.writer),
                agent: AGENTS[(self.writer + n) % AGENTS.len()].to_owned(),
                session: format!("s{}-{}", self.writer, n / 50),
            })
            .collect();
        self.seq += size;
        if let Ok(mut sent) = self.sent.lock() {
            sent.extend(write.iter().map(|event| event.id.clone()));
        }
        Some(write)
    }

    pub(crate) fn acknowledged(&self, events: usize) {
        self.acked_events.fetch_add(events as u64, Ordering::Relaxed);
        self.progress.inc(events as u64);
    }

    fn is_past_halfway(&self) -> bool {
        match (self.ops, self.halfway_at) {
            (Some(ops), _) => self.seq >= ops / 2,
            (None, Some(at)) => Instant::now() >= at,
            (None, None) => false,
        }
    }

    /// Waits at the halfway point (once) while the supervisor corrupts the file.
    pub(crate) fn meet_halfway(&mut self) {
        if let Some(halfway) = self.halfway
            && !self.met_halfway
        {
            self.met_halfway = true;
            halfway.arrive.wait();
            halfway.resume.wait();
        }
    }
}

/// The halfway instant of a timed run.
pub(crate) fn halfway_instant(duration: Option<f64>) -> Option<Instant> {
    duration.map(|secs| Instant::now() + Duration::from_secs_f64(secs / 2.0))
}
