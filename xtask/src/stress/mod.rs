//! `cargo xtask stress`: real writer and reader processes on one store, with optional chaos
//! (SIGKILL of writers at random moments, corruption of the file between phases), then a
//! verdict on what the writers were told against what the store holds.
//!
//! Writers are `agent-metrics record stream` processes: each write (one event or a batch) is
//! acknowledged only once it is durably stored, and every acknowledgement is logged to the
//! writer's own file. Readers are `store-driver reader` processes (`benches/`) loading and
//! validating the store without the lock in a tight loop.

mod plan;
mod report;
mod verify;
mod writer;

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Barrier, Mutex};
use std::time::{Duration, Instant};

use crate::cmd::{cargo, exec, workspace_root};
use plan::{Halfway, Plan};
use verify::Observed;
use writer::{Slot, Writer, WriterOutcome};

/// Options of `cargo xtask stress`.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct Options {
    /// Writer processes
    #[arg(long, default_value_t = 8)]
    pub(crate) writers: usize,
    /// Events per writer (ignored with --duration)
    #[arg(long, default_value_t = 500)]
    pub(crate) ops: usize,
    /// Reader processes
    #[arg(long, default_value_t = 2)]
    pub(crate) readers: usize,
    /// Run for this many seconds instead of a number of events
    #[arg(long, value_name = "SECS")]
    pub(crate) duration: Option<f64>,
    /// SIGKILL random writers at random moments and restart them
    #[arg(long)]
    pub(crate) chaos: bool,
    /// How many kills with --chaos
    #[arg(long, default_value_t = 20)]
    pub(crate) kills: usize,
    /// Corrupt the store file between the two halves of the run
    #[arg(long)]
    pub(crate) corrupt: bool,
    /// Seed of the schedule (writes, batches, kills); printed so a run can be repeated
    #[arg(long)]
    pub(crate) seed: Option<u64>,
    /// Python writers beside ours: processes that follow the Python dashboard's protocol
    /// (its lock file, load check, backup copy and indented rewrite), each recording
    /// --python-ops events; with --corrupt they start after the corruption is recovered
    #[arg(long, default_value_t = 0)]
    pub(crate) python_writers: usize,
    /// Events per Python writer
    #[arg(long, default_value_t = 50)]
    pub(crate) python_ops: usize,
    /// Threads that spin for the whole run, to take CPU from the lock holder (e.g. two per
    /// core: a waiter that spins would then starve the holder)
    #[arg(long, default_value_t = 0)]
    pub(crate) busy_loops: usize,
    /// Run on a journal-mode store (`agent-metrics init` then `config --journal on`): each
    /// write appends to the journal, writers checkpoint every 64 entries or 2 seconds
    #[arg(long)]
    pub(crate) journal: bool,
    /// Keep the scratch directory for inspection
    #[arg(long)]
    pub(crate) keep: bool,
    /// Print the report as JSON
    #[arg(long)]
    pub(crate) json: bool,
}

impl Options {
    /// The short profile CI runs: 4 writers x 200 events, 2 readers, 20 kills, a corruption,
    /// and 2 Python writers x 30 events.
    pub(crate) fn ci() -> Options {
        Options {
            writers: 4,
            ops: 200,
            readers: 2,
            duration: None,
            chaos: true,
            kills: 20,
            corrupt: true,
            python_writers: 2,
            python_ops: 30,
            busy_loops: 0,
            seed: None,
            journal: false,
            keep: false,
            json: false,
        }
    }
}

impl Options {
    /// The short journal-mode profile CI runs after [`Options::ci`]: the same chaos on a
    /// journal-mode store, 4 writers x 100 events, 10 kills, a corruption, 2 Python writers
    /// x 20 events.
    pub(crate) fn ci_journal() -> Options {
        Options { ops: 100, kills: 10, python_ops: 20, journal: true, ..Options::ci() }
    }
}

/// The store's event limit (the default; the writers do not change it).
const MAX_EVENTS: usize = 500;

pub(crate) fn run(options: &Options) -> Result<(), String> {
    if options.writers == 0 {
        return Err("--writers must be at least 1".to_owned());
    }
    let seed = options.seed.unwrap_or_else(|| fastrand::u64(..));
    exec(cargo(&["build", "--release", "--quiet", "-p", "agent-metrics"]).stdout(Stdio::null()))?;
    let driver = crate::cmd::build_store_driver()?;
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| workspace_root().join("target"), PathBuf::from);
    let binary = target.join("release/agent-metrics");
    let scratch = tempfile::Builder::new()
        .prefix("agent-metrics-stress-")
        .tempdir()
        .map_err(|err| err.to_string())?;
    let dir = scratch.path().to_owned();
    let store = dir.join(".agent_metrics.json");
    exec(
        Command::new(&binary)
            .arg("--file")
            .arg(&store)
            .args(["init", "--project", "stress"])
            .stdout(Stdio::null()),
    )?;
    if options.journal {
        exec(
            Command::new(&binary)
                .arg("--file")
                .arg(&store)
                .args(["config", "--journal", "on"])
                .stdout(Stdio::null()),
        )?;
    }

    let outcome = drive(options, seed, &Binaries { cli: &binary, driver: &driver }, &dir, &store)?;
    let report = report::Report::gather(options, seed, &binary, &dir, &store, outcome)?;
    report.print(options.json);
    if options.keep {
        let kept = scratch.keep();
        report::note(&format!("kept {}", kept.display()));
    }
    if report.passed() { Ok(()) } else { Err(format!("stress run failed (seed {seed})")) }
}

/// What the run produced, before the final inspection of the store.
pub(crate) struct RunOutcome {
    pub(crate) writers: Vec<WriterOutcome>,
    pub(crate) readers: Vec<verify::ReaderReport>,
    /// From just before the deliberate corruption to the first acknowledged write after it
    /// (ns since the Unix epoch): damaged reads that started inside it are expected.
    pub(crate) corruption_window: Option<(u128, u128)>,
    /// Loads by the Python writers that found the data file damaged (each fell back to the
    /// backup, as the dashboard does).
    pub(crate) python_damaged_loads: u64,
    pub(crate) kills: u64,
    pub(crate) lost_to_corruption: HashSet<String>,
    pub(crate) corruptions: u64,
    pub(crate) sent: HashSet<String>,
    pub(crate) elapsed: Duration,
}

/// The release `agent-metrics` the writers run, and `store-driver` the readers run.
struct Binaries<'a> {
    cli: &'a Path,
    driver: &'a Path,
}

fn drive(
    options: &Options,
    seed: u64,
    binaries: &Binaries<'_>,
    dir: &Path,
    store: &Path,
) -> Result<RunOutcome, String> {
    let binary = binaries.cli;
    let stop_readers = dir.join("stop-readers");
    let readers: Vec<Child> = (0..options.readers)
        .map(|_| {
            Command::new(binaries.driver)
                .arg("--file")
                .arg(store)
                .arg("reader")
                .arg("--until-exists")
                .arg(&stop_readers)
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
                .map_err(|err| format!("cannot start a reader: {err}"))
        })
        .collect::<Result<_, _>>()?;

    let total = options.writers * options.ops;
    let progress =
        report::progress(options.duration.is_none().then_some(total as u64), options.json);
    let deadline = options.duration.map(|secs| Instant::now() + Duration::from_secs_f64(secs));
    let halfway_at = plan::halfway_instant(options.duration);
    let acks = Arc::new(AtomicU64::new(0));
    let events_acked = AtomicU64::new(0);
    let slots: Vec<Slot> = (0..options.writers).map(|_| Arc::new(Mutex::new(None))).collect();
    let done = AtomicBool::new(false);
    let halfway = options.corrupt.then(|| Halfway {
        arrive: Barrier::new(options.writers + 1),
        resume: Barrier::new(options.writers + 1),
    });
    let sent: Mutex<HashSet<String>> = Mutex::new(HashSet::new());
    let started = Instant::now();

    let busy = BusyLoops::start(options.busy_loops);
    let (writers, kills, corruption, python) = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..options.writers)
            .map(|index| {
                let writer = Writer {
                    index,
                    binary: binary.to_owned(),
                    store: store.to_owned(),
                    ack_log: dir.join(format!("writer-{index}.acks")),
                    slot: slots[index].clone(),
                    acks: acks.clone(),
                };
                let mut plan = Plan {
                    writer: index,
                    rng: fastrand::Rng::with_seed(
                        seed ^ (index as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15),
                    ),
                    ops: options.duration.is_none().then_some(options.ops),
                    deadline,
                    halfway_at,
                    halfway: halfway.as_ref(),
                    sent: &sent,
                    acked_events: &events_acked,
                    progress: &progress,
                    seq: 0,
                    met_halfway: false,
                };
                scope.spawn(move || {
                    let result = writer.run(&mut plan);
                    // A writer that ended early still meets the others halfway.
                    plan.meet_halfway();
                    result
                })
            })
            .collect();

        let chaos_thread = options
            .chaos
            .then(|| scope.spawn(|| chaos(options, seed, &slots, &events_acked, &done, total)));
        let corruption = halfway.as_ref().map(|halfway| {
            halfway.arrive.wait();
            let last = acks.load(Ordering::SeqCst);
            let corrupted_at = now_ns();
            let garbage = b"{\"version\": 1, \"events\": [{\"event_id\": \"torn";
            #[expect(
                clippy::disallowed_methods,
                reason = "corrupting the file in place is the point"
            )]
            let written = std::fs::write(store, garbage);
            halfway.resume.wait();
            // The first write acknowledged after the corruption recovered the file: reads
            // that start later must see whole generations again.
            let give_up = Instant::now() + Duration::from_secs(60);
            while acks.load(Ordering::SeqCst) == last && Instant::now() < give_up {
                std::thread::sleep(Duration::from_micros(200));
            }
            (last, written, (corrupted_at, now_ns()))
        });
        let python = if options.python_writers == 0 {
            Vec::new()
        } else {
            // With a corruption they start after it was recovered: the Python dashboard
            // overwrites a damaged file without keeping it, which the run would count as
            // the loss of the write acknowledged last before the corruption.
            python_writers(options, dir, store)
        };

        let writers: Vec<Result<WriterOutcome, String>> = handles
            .into_iter()
            .map(|handle| {
                handle.join().unwrap_or_else(|_| Err("a writer thread panicked".to_owned()))
            })
            .collect();
        let python: Vec<Result<PythonOutcome, String>> =
            python.into_iter().map(PythonWriter::finish).collect();
        done.store(true, Ordering::SeqCst);
        let kills = chaos_thread.map_or(0, |thread| thread.join().unwrap_or(0));
        (writers, kills, corruption, python)
    });
    progress.finish_and_clear();
    drop(busy);
    let elapsed = started.elapsed();
    let mut writers: Vec<WriterOutcome> = writers.into_iter().collect::<Result<_, _>>()?;
    let python: Vec<PythonOutcome> = python.into_iter().collect::<Result<_, _>>()?;
    let python_damaged_loads = python.iter().map(|outcome| outcome.damaged_loads).sum();
    let mut sent = sent.into_inner().unwrap_or_default();
    for outcome in python {
        sent.extend(outcome.sent);
        writers.push(outcome.writer);
    }

    let mut lost_to_corruption = HashSet::new();
    let mut corruption_window = None;
    if let Some((last_counter, written, window)) = corruption {
        corruption_window = Some(window);
        written.map_err(|err| format!("cannot corrupt the store: {err}"))?;
        // The write acknowledged last before the corruption lived only in the corrupted
        // generation; the backup is the one before it.
        if let Some(ids) = writers
            .iter()
            .flat_map(|outcome| outcome.acked_writes.iter())
            .filter(|(counter, _)| last_counter > 0 && *counter == last_counter - 1)
            .map(|(_, ids)| ids)
            .next()
        {
            lost_to_corruption.extend(ids.iter().cloned());
        }
    }

    #[expect(clippy::disallowed_methods, reason = "a scratch stop signal, not data")]
    std::fs::write(&stop_readers, b"").map_err(|err| err.to_string())?;
    let readers = readers
        .into_iter()
        .map(|child| {
            let output = child.wait_with_output().map_err(|err| err.to_string())?;
            let report: serde_json::Value = serde_json::from_slice(&output.stdout)
                .map_err(|err| format!("a reader's report: {err}"))?;
            Ok(verify::ReaderReport {
                reads: report["reads"].as_u64().unwrap_or(0),
                damaged: report["damaged"].as_u64().unwrap_or(0),
                damaged_reads: report["damaged_reads"]
                    .as_array()
                    .map(|reads| {
                        reads
                            .iter()
                            .filter_map(|read| {
                                let start = read[0].as_u64()?;
                                Some((u128::from(start), u128::from(read[1].as_u64()?)))
                            })
                            .collect()
                    })
                    .unwrap_or_default(),
                errors: report["errors"]
                    .as_array()
                    .map(|errors| {
                        errors.iter().filter_map(|e| e.as_str().map(str::to_owned)).collect()
                    })
                    .unwrap_or_default(),
            })
        })
        .collect::<Result<Vec<verify::ReaderReport>, String>>()?;
    Ok(RunOutcome {
        writers,
        readers,
        corruption_window,
        python_damaged_loads,
        kills,
        corruptions: u64::from(options.corrupt),
        lost_to_corruption,
        sent,
        elapsed,
    })
}

/// Nanoseconds since the Unix epoch, the clock the readers stamp their reads with.
fn now_ns() -> u128 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos())
}

/// The Python dashboard's protocol, as the CLI's tests drive it.
const PYTHON_WRITER: &str = "crates/metrics-cli/tests/python/dashboard_writer.py";

/// A running Python writer.
struct PythonWriter {
    name: String,
    ops: usize,
    acks: PathBuf,
    child: Result<Child, String>,
}

/// What a Python writer did, as a writer log for the verifier.
struct PythonOutcome {
    writer: WriterOutcome,
    sent: HashSet<String>,
    damaged_loads: u64,
}

fn python_writers(options: &Options, dir: &Path, store: &Path) -> Vec<PythonWriter> {
    let script = workspace_root().join(PYTHON_WRITER);
    (0..options.python_writers)
        .map(|idx| {
            let name = format!("python-{idx}");
            let acks = dir.join(format!("{name}.acks"));
            let child = Command::new("python3")
                .arg(&script)
                .arg(store.parent().unwrap_or(dir))
                .arg(&name)
                .arg(options.python_ops.to_string())
                .arg(&acks)
                .stderr(Stdio::piped())
                .stdout(Stdio::null())
                .spawn()
                .map_err(|err| format!("cannot start python3 (needed by --python-writers): {err}"));
            PythonWriter { name, ops: options.python_ops, acks, child }
        })
        .collect()
}

impl PythonWriter {
    fn finish(self) -> Result<PythonOutcome, String> {
        let output = self.child?.wait_with_output().map_err(|err| err.to_string())?;
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        // Exit 3 reports damaged loads (each fell back to the backup); anything else failed.
        let damaged_loads = match output.status.code() {
            Some(0) => 0,
            Some(3) => stderr.split_whitespace().next().and_then(|n| n.parse().ok()).unwrap_or(1),
            _ => return Err(format!("{} failed: {stderr}", self.name)),
        };
        let acked: Vec<(String, String)> = std::fs::read_to_string(&self.acks)
            .unwrap_or_default()
            .lines()
            .map(|id| (id.to_owned(), self.name.clone()))
            .collect();
        let sent = (0..self.ops).map(|idx| format!("{}-{idx}", self.name)).collect();
        let writer = WriterOutcome {
            log: verify::WriterLog { acked, in_flight: Vec::new() },
            restarts: 0,
            stats: Vec::new(),
            acked_writes: Vec::new(),
        };
        Ok(PythonOutcome { writer, sent, damaged_loads })
    }
}

/// Threads that spin until dropped.
struct BusyLoops {
    stop: Arc<AtomicBool>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl BusyLoops {
    fn start(count: usize) -> BusyLoops {
        let stop = Arc::new(AtomicBool::new(false));
        let threads = (0..count)
            .map(|_| {
                let stop = stop.clone();
                std::thread::spawn(move || {
                    let mut spins = 0u64;
                    while !stop.load(Ordering::Relaxed) {
                        spins = std::hint::black_box(spins.wrapping_add(1));
                    }
                })
            })
            .collect();
        BusyLoops { stop, threads }
    }
}

impl Drop for BusyLoops {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}

/// Kills a random writer at random moments: after a random number of acknowledged events
/// (or at random times with --duration), plus up to 2 ms so that kills land mid-write.
fn chaos(
    options: &Options,
    seed: u64,
    slots: &[Slot],
    acked: &AtomicU64,
    done: &AtomicBool,
    total: usize,
) -> u64 {
    let mut rng = fastrand::Rng::with_seed(seed.rotate_left(17));
    let mut points: Vec<u64> = match options.duration {
        Some(secs) => (0..options.kills).map(|_| (rng.f64() * secs * 1000.0) as u64).collect(),
        None => (0..options.kills).map(|_| rng.u64(1..total.max(2) as u64)).collect(),
    };
    points.sort_unstable();
    let started = Instant::now();
    let mut kills = 0;
    for point in points {
        loop {
            if done.load(Ordering::SeqCst) {
                return kills;
            }
            let reached = match options.duration {
                Some(_) => started.elapsed().as_millis() as u64 >= point,
                None => acked.load(Ordering::Relaxed) >= point,
            };
            if reached {
                break;
            }
            std::thread::sleep(Duration::from_micros(200));
        }
        std::thread::sleep(Duration::from_micros(rng.u64(0..2000)));
        let victim = rng.usize(..slots.len());
        if let Ok(mut slot) = slots[victim].lock()
            && let Some(child) = slot.as_mut()
            && child.kill().is_ok()
        {
            kills += 1;
        }
    }
    kills
}

/// The final per-agent totals and stored ids, read through the binary's JSON export.
pub(crate) fn observe(
    binary: &Path,
    store: &Path,
    outcome: &RunOutcome,
) -> Result<Observed, String> {
    let output = Command::new(binary)
        .arg("--file")
        .arg(store)
        .args(["export", "--format", "json"])
        .output()
        .map_err(|err| err.to_string())?;
    if !output.status.success() {
        return Err(format!("export failed: {}", String::from_utf8_lossy(&output.stderr)));
    }
    let state: serde_json::Value =
        serde_json::from_slice(&output.stdout).map_err(|err| err.to_string())?;
    let stored = state["events"]
        .as_array()
        .map(|events| {
            events
                .iter()
                .filter_map(|event| event["event_id"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    let agent_totals: BTreeMap<String, u64> = state["agents"]
        .as_object()
        .map(|agents| {
            agents
                .iter()
                .map(|(name, profile)| {
                    (name.clone(), profile["total_invocations"].as_u64().unwrap_or(0))
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(Observed {
        writers: outcome.writers.iter().map(|writer| writer.log.clone()).collect(),
        lost_to_corruption: outcome.lost_to_corruption.clone(),
        sent: outcome.sent.clone(),
        stored,
        agent_totals,
        max_events: MAX_EVENTS,
    })
}
