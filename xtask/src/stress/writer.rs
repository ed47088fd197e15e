//! A writer: one `agent-metrics record stream` process fed one write (an event or a batch) at a
//! time, every acknowledgement logged; restarted when chaos kills it, resending the write that
//! was in flight.

use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use super::plan::Plan;
use super::verify::WriterLog;

/// A writer that dies this often is failing on its own, not being killed.
const MAX_RESTARTS: u64 = 500;

/// One event to send.
#[derive(Debug, Clone)]
pub(crate) struct PlannedEvent {
    pub(crate) id: String,
    pub(crate) agent: String,
    pub(crate) session: String,
}

/// What a writer thread reports when done.
#[derive(Debug, Default)]
pub(crate) struct WriterOutcome {
    pub(crate) log: WriterLog,
    pub(crate) restarts: u64,
    /// The `stats {...}` lines of the processes that ended normally.
    pub(crate) stats: Vec<serde_json::Value>,
    /// Global acknowledgement counter value and ids of each acknowledged write.
    pub(crate) acked_writes: Vec<(u64, Vec<String>)>,
}

/// The running process, shared with the chaos thread so it can kill it.
pub(crate) type Slot = Arc<Mutex<Option<Child>>>;

pub(crate) struct Writer {
    pub(crate) index: usize,
    pub(crate) binary: PathBuf,
    pub(crate) store: PathBuf,
    pub(crate) ack_log: PathBuf,
    pub(crate) slot: Slot,
    pub(crate) acks: Arc<AtomicU64>,
}

struct Pipes {
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl Writer {
    fn start(&self) -> Result<Pipes, String> {
        let mut child = Command::new(&self.binary)
            .arg("--file")
            .arg(&self.store)
            .args(["--lock-timeout", "120", "record", "stream", "--stats"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|err| format!("cannot start writer {}: {err}", self.index))?;
        let pipes = Pipes {
            stdin: child.stdin.take().ok_or("no stdin")?,
            stdout: BufReader::new(child.stdout.take().ok_or("no stdout")?),
        };
        *self.slot.lock().map_err(|_| "poisoned")? = Some(child);
        Ok(pipes)
    }

    /// Sends every write of the plan; returns the log.
    pub(crate) fn run(&self, plan: &mut Plan<'_>) -> Result<WriterOutcome, String> {
        let mut outcome = WriterOutcome::default();
        // The acknowledgement log is append-only evidence, not a durable store.
        #[expect(clippy::disallowed_methods, reason = "a plain log file")]
        let mut ack_file = File::create(&self.ack_log)
            .map_err(|err| format!("{}: {err}", self.ack_log.display()))?;
        let mut pipes = self.start()?;
        let mut resend: Option<Vec<PlannedEvent>> = None;
        while let Some(write) = resend.take().or_else(|| plan.next_write()) {
            match send(&mut pipes, &write) {
                Ok(()) => {
                    let counter = self.acks.fetch_add(1, Ordering::SeqCst);
                    for event in &write {
                        writeln!(ack_file, "{}", event.id).map_err(|err| err.to_string())?;
                        outcome.log.acked.push((event.id.clone(), event.agent.clone()));
                    }
                    outcome
                        .acked_writes
                        .push((counter, write.iter().map(|event| event.id.clone()).collect()));
                    plan.acknowledged(write.len());
                }
                Err(()) if outcome.restarts >= MAX_RESTARTS => {
                    return Err(format!(
                        "writer {} died {MAX_RESTARTS} times; giving up",
                        self.index
                    ));
                }
                Err(()) => {
                    // Killed mid-write: the write may or may not be stored. Restart and resend
                    // it; the store recognises ids it already holds.
                    self.reap();
                    outcome.restarts += 1;
                    outcome
                        .log
                        .in_flight
                        .extend(write.iter().map(|event| (event.id.clone(), event.agent.clone())));
                    resend = Some(write);
                    pipes = self.start()?;
                }
            }
        }
        drop(pipes.stdin);
        let mut line = String::new();
        while pipes.stdout.read_line(&mut line).unwrap_or(0) > 0 {
            if let Some(stats) = line.trim().strip_prefix("stats ") {
                outcome.stats.extend(serde_json::from_str::<serde_json::Value>(stats).ok());
            }
            line.clear();
        }
        self.reap();
        Ok(outcome)
    }

    fn reap(&self) {
        if let Ok(mut slot) = self.slot.lock()
            && let Some(mut child) = slot.take()
        {
            let _ = child.wait();
        }
    }
}

/// Sends one write and reads its acknowledgements; `Err` if the process died.
fn send(pipes: &mut Pipes, write: &[PlannedEvent]) -> Result<(), ()> {
    let events: Vec<serde_json::Value> = write
        .iter()
        .map(|event| {
            serde_json::json!({
                "event_id": event.id,
                "agent_name": event.agent,
                "session_id": event.session,
                "status": if event.id.ends_with('7') { "error" } else { "success" },
                "input_tokens": 1000,
                "output_tokens": 250,
                "estimated_cost_usd": 0.01,
                "duration_seconds": 2.5,
            })
        })
        .collect();
    let line = if events.len() == 1 {
        events[0].to_string()
    } else {
        serde_json::Value::from(events).to_string()
    };
    writeln!(pipes.stdin, "{line}").and_then(|()| pipes.stdin.flush()).map_err(|_| ())?;
    let mut acked = 0;
    let mut reply = String::new();
    while acked < write.len() {
        reply.clear();
        if pipes.stdout.read_line(&mut reply).unwrap_or(0) == 0 {
            return Err(());
        }
        let id =
            reply.trim().strip_prefix("ok ").or_else(|| reply.trim().strip_prefix("duplicate "));
        if id == Some(write[acked].id.as_str()) {
            acked += 1;
        } else {
            return Err(());
        }
    }
    Ok(())
}
