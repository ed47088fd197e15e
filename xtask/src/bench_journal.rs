//! `cargo xtask bench-journal`: journal mode against whole-file mode, the durable floors and
//! SQLite, all measured in one run on the same disk, printed as markdown with the ratios.
//!
//! Everything runs as real processes of release binaries: `store-driver commits` (commits on
//! one long-lived handle, each timed) and `store-driver loads` (cold loads), from the
//! `agent-metrics-benches` package, and `agent-metrics record event` once per process. The peer is SQLite through Python's `sqlite3` (WAL,
//! `synchronous=FULL`, one commit per event), beside the floor of a journal commit (append
//! one line + `fdatasync`, from the same Python process).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use crate::cmd::{cargo, exec, workspace_root};

/// Options of `cargo xtask bench-journal`.
#[derive(Debug, clap::Args)]
pub(crate) struct Options {
    /// Commits per long-lived-handle measurement (and per SQLite and floor series)
    #[arg(long, default_value_t = 500)]
    commits: u32,
    /// Processes per one-process-per-event measurement
    #[arg(long, default_value_t = 100)]
    processes: u32,
}

/// The SQLite peer or the journal floor, one Python process per round: `DIR N KIND` →
/// JSON latencies. Rounds alternate with ours so that drift of the disk affects both alike.
const PEER: &str = r#"
import json, os, sqlite3, sys, time
directory, count, kind = sys.argv[1], int(sys.argv[2]), sys.argv[3]
body = json.dumps({"event_id": "x" * 36, "agent_name": "coding", "status": "success",
    "input_tokens": 1200, "output_tokens": 300, "estimated_cost_usd": 0.02,
    "duration_seconds": 30, "model_used": "claude-sonnet-4-5", "ticket_key": "AI-7",
    "session_id": "bench"})
latencies = []
if kind == "sqlite":
    db = sqlite3.connect(os.path.join(directory, "peer.sqlite"), isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.execute("CREATE TABLE IF NOT EXISTS events (id TEXT PRIMARY KEY, body TEXT)")
    prefix = str(time.time_ns())
    for i in range(count):
        start = time.perf_counter()
        db.execute("BEGIN")
        db.execute("INSERT INTO events VALUES (?, ?)", (f"{prefix}-{i}", body))
        db.execute("COMMIT")
        latencies.append((time.perf_counter() - start) * 1e6)
else:
    fd = os.open(os.path.join(directory, "floor.journal"), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    line = ("1 00000000 " + body + "\n").encode()
    for i in range(count):
        start = time.perf_counter()
        os.write(fd, line)
        os.fdatasync(fd)
        latencies.append((time.perf_counter() - start) * 1e6)
print(json.dumps(latencies))
"#;

/// One round of the SQLite peer (`kind` = `sqlite`) or the journal floor (`floor`) in
/// `directory`: each of `count` commits' latency in microseconds.
pub(crate) fn run_peer(directory: &Path, kind: &str, count: u32) -> Result<Vec<f64>, String> {
    let output = Command::new("python3")
        .args(["-c", PEER])
        .arg(directory)
        .arg(count.to_string())
        .arg(kind)
        .output()
        .map_err(|err| format!("python3 (for the SQLite peer): {err}"))?;
    let latencies: serde_json::Value = serde_json::from_slice(&output.stdout).map_err(|err| {
        format!("the {kind} peer failed: {err} {}", String::from_utf8_lossy(&output.stderr))
    })?;
    Ok(floats(&latencies))
}

/// Rounds of the per-commit comparison; each runs every series in turn.
const ROUNDS: u32 = 5;

/// Latencies in microseconds, summarized.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Summary {
    pub(crate) p50: f64,
    pub(crate) p99: f64,
    pub(crate) mean: f64,
}

pub(crate) fn summarize(values: &[f64]) -> Summary {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let at = |q: f64| sorted[((sorted.len() as f64 - 1.0) * q).round() as usize];
    Summary { p50: at(0.5), p99: at(0.99), mean: sorted.iter().sum::<f64>() / sorted.len() as f64 }
}

pub(crate) fn ms(us: f64) -> String {
    format!("{:.3}", us / 1000.0)
}

struct Bench {
    binary: PathBuf,
    /// `store-driver`, the measuring process.
    driver: PathBuf,
    scratch: tempfile::TempDir,
    next: u32,
}

impl Bench {
    /// A fresh store of `events` events (written in one batch), in journal mode or not.
    fn store(&mut self, events: u32, journal: bool) -> Result<PathBuf, String> {
        self.next += 1;
        let dir = self.scratch.path().join(format!("store-{}", self.next));
        std::fs::create_dir(&dir).map_err(|err| err.to_string())?;
        let store = dir.join(".agent_metrics.json");
        self.run(&store, &["init", "--project", "bench"], None)?;
        let lines: String = (0..events)
            .map(|i| {
                let agent = ["coding", "review", "github", "testing"][i as usize % 4];
                format!(
                    "{{\"event_id\":\"seed-{i}\",\"agent_name\":\"{agent}\",\"status\":\"success\",\"input_tokens\":1200,\"output_tokens\":300,\"estimated_cost_usd\":0.02,\"duration_seconds\":30,\"model_used\":\"claude-sonnet-4-5\",\"ticket_key\":\"AI-{i}\",\"session_id\":\"s-1\",\"artifacts\":[\"src/main.rs\"]}}\n"
                )
            })
            .collect();
        if events > 0 {
            self.run(&store, &["record", "event", "--json", "-"], Some(&lines))?;
        }
        if journal {
            self.run(&store, &["config", "--journal", "on"], None)?;
        }
        Ok(store)
    }

    fn command(&self, store: &Path, args: &[&str]) -> Command {
        let mut command = Command::new(&self.binary);
        command.arg("--file").arg(store).args(["--max-events", "100000"]).args(args);
        command
    }

    fn run(&self, store: &Path, args: &[&str], stdin: Option<&str>) -> Result<String, String> {
        use std::io::Write as _;
        let mut child = self
            .command(store, args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|err| err.to_string())?;
        if let Some(input) = stdin {
            child
                .stdin
                .take()
                .expect("piped")
                .write_all(input.as_bytes())
                .map_err(|err| err.to_string())?;
        }
        drop(child.stdin.take());
        let output = child.wait_with_output().map_err(|err| err.to_string())?;
        if !output.status.success() {
            return Err(format!("agent-metrics {args:?} failed with {}", output.status));
        }
        String::from_utf8(output.stdout).map_err(|err| err.to_string())
    }

    /// Runs `store-driver` on `store` and parses its JSON report.
    fn json(&self, store: &Path, args: &[&str]) -> Result<serde_json::Value, String> {
        let output = Command::new(&self.driver)
            .arg("--file")
            .arg(store)
            .args(["--max-events", "100000"])
            .args(args)
            .stderr(Stdio::inherit())
            .output()
            .map_err(|err| err.to_string())?;
        if !output.status.success() {
            return Err(format!("store-driver {args:?} failed with {}", output.status));
        }
        serde_json::from_slice(&output.stdout).map_err(|err| err.to_string())
    }

    /// `store-driver commits` on one handle: (all latencies, latencies of commits without a
    /// checkpoint, checkpoints).
    fn handle(&self, store: &Path, count: u32) -> Result<(Vec<f64>, Vec<f64>, usize), String> {
        self.handle_with(store, count, 64)
    }

    /// [`Bench::handle`] with another checkpoint threshold.
    fn handle_with(
        &self,
        store: &Path,
        count: u32,
        checkpoint_entries: usize,
    ) -> Result<(Vec<f64>, Vec<f64>, usize), String> {
        let (count, entries) = (count.to_string(), checkpoint_entries.to_string());
        let prefix = format!("h{}", fastrand::u64(..));
        let args =
            ["commits", "--count", &count, "--prefix", &prefix, "--checkpoint-entries", &entries];
        let report = self.json(store, &args)?;
        let all = floats(&report["latencies_us"]);
        let checkpointed: Vec<u64> =
            report["checkpointed"].as_array().map_or_else(Vec::new, |list| {
                list.iter().filter_map(serde_json::Value::as_u64).collect()
            });
        let plain = all
            .iter()
            .enumerate()
            .filter(|(index, _)| !checkpointed.contains(&(*index as u64)))
            .map(|(_, latency)| *latency)
            .collect();
        Ok((all, plain, checkpointed.len()))
    }

    /// Cold loads of one state of `events` events: with its last `pending` in the journal,
    /// then all in the file after a checkpoint.
    fn cold_loads(
        &mut self,
        events: u32,
        pending: u32,
        checkpoint_entries: usize,
        loads: u32,
    ) -> Result<(Summary, Summary), String> {
        let store = self.store(events - pending, true)?;
        self.handle_with(&store, pending, checkpoint_entries)?;
        // A copy of the same state, checkpointed: loads of the two alternate in rounds so
        // that drift of the machine affects both alike.
        let folded_dir = store.with_file_name("").join("folded");
        let _ = std::fs::create_dir(&folded_dir);
        let folded = folded_dir.join(".agent_metrics.json");
        for name in [".agent_metrics.json", ".agent_metrics.json.bak", ".agent_metrics.journal"] {
            std::fs::copy(store.with_file_name(name), folded_dir.join(name))
                .map_err(|err| err.to_string())?;
        }
        self.run(&folded, &["checkpoint"], None)?;
        let count = (loads / ROUNDS).max(1).to_string();
        let (mut with_journal, mut without) = (Vec::new(), Vec::new());
        for _ in 0..ROUNDS {
            with_journal
                .extend(floats(&self.json(&store, &["loads", "--count", &count])?["latencies_us"]));
            without.extend(floats(
                &self.json(&folded, &["loads", "--count", &count])?["latencies_us"],
            ));
        }
        Ok((summarize(&with_journal), summarize(&without)))
    }

    /// One `record event` process per event: wall-clock latencies.
    fn processes(&self, store: &Path, count: u32) -> Result<Vec<f64>, String> {
        one_process_per_event(count, |index| {
            let id = format!("p-{}-{index}", self.next);
            let args = ["record", "event", "--agent", "coding", "--status", "success"];
            let mut command = self.command(store, &args);
            command.args(["--input-tokens", "1200", "--event-id", &id]);
            command
        })
    }

    /// `writers` processes committing `count` events each at once: (events/s, latencies,
    /// CPU seconds in all).
    fn concurrent(
        &self,
        store: &Path,
        writers: u32,
        count: u32,
    ) -> Result<(f64, Vec<f64>, f64), String> {
        let started = Instant::now();
        let children: Vec<_> = (0..writers)
            .map(|writer| {
                Command::new(&self.driver)
                    .arg("--file")
                    .arg(store)
                    .args(["--max-events", "100000", "commits", "--count"])
                    .arg(count.to_string())
                    .args(["--prefix", &format!("w{writer}")])
                    .stdout(Stdio::piped())
                    .spawn()
                    .map_err(|err| err.to_string())
            })
            .collect::<Result<_, _>>()?;
        let mut latencies = Vec::new();
        let mut cpu = 0.0;
        for child in children {
            let output = child.wait_with_output().map_err(|err| err.to_string())?;
            let report: serde_json::Value =
                serde_json::from_slice(&output.stdout).map_err(|err| err.to_string())?;
            latencies.extend(floats(&report["latencies_us"]));
            cpu += report["cpu_seconds"].as_f64().unwrap_or(0.0);
        }
        let wall = started.elapsed().as_secs_f64();
        Ok((f64::from(writers * count) / wall, latencies, cpu))
    }
}

pub(crate) fn floats(value: &serde_json::Value) -> Vec<f64> {
    value
        .as_array()
        .map_or_else(Vec::new, |list| list.iter().filter_map(serde_json::Value::as_f64).collect())
}

#[expect(clippy::print_stdout, reason = "the report is the task's output")]
pub(crate) fn run(options: &Options) -> Result<(), String> {
    exec(cargo(&["build", "--release", "--quiet", "-p", "agent-metrics"]).stdout(Stdio::null()))?;
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| workspace_root().join("target"), PathBuf::from);
    // The scratch directory lives under target/ (a real disk), not in a tmpfs /tmp, so that
    // every fsync costs what it costs for a user.
    let scratch = tempfile::Builder::new()
        .prefix("bench-journal-")
        .tempdir_in(&target)
        .map_err(|err| err.to_string())?;
    let driver = crate::cmd::build_store_driver()?;
    let mut bench =
        Bench { binary: target.join("release/agent-metrics"), driver, scratch, next: 0 };
    let n = options.commits;

    let peer_dir = bench.scratch.path().join("peer");
    std::fs::create_dir(&peer_dir).map_err(|err| err.to_string())?;
    let peer = |kind: &str, count: u32| run_peer(&peer_dir, kind, count);
    let whole_store = bench.store(500, false)?;
    let journal_store = bench.store(500, true)?;
    let per_round = n / ROUNDS;
    let (mut sqlite, mut floor, mut whole_all, mut journal_all, mut journal_plain) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut checkpoints = 0;
    for _ in 0..ROUNDS {
        floor.extend(peer("floor", per_round)?);
        sqlite.extend(peer("sqlite", per_round)?);
        let (all, plain, folded) = bench.handle(&journal_store, per_round)?;
        journal_all.extend(all);
        journal_plain.extend(plain);
        checkpoints += folded;
        whole_all.extend(bench.handle(&whole_store, per_round / 5)?.0);
    }
    let (sqlite, floor) = (summarize(&sqlite), summarize(&floor));
    let whole = summarize(&whole_all);
    let journal = summarize(&journal_all);
    let journal_plain = summarize(&journal_plain);
    let n = per_round * ROUNDS;

    println!("## Journal mode, measured in one run (`cargo xtask bench-journal`)\n");
    println!(
        "Per-commit latency on one long-lived handle, 500-event store, {n} commits per series in {ROUNDS} interleaved rounds (whole-file: {} commits) (ms):\n",
        whole_all.len()
    );
    println!("| series | p50 | p99 | mean | mean / SQLite WAL FULL |");
    println!("|---|---|---|---|---|");
    let row = |name: &str, summary: Summary| {
        println!(
            "| {name} | {} | {} | {} | {:.2}x |",
            ms(summary.p50),
            ms(summary.p99),
            ms(summary.mean),
            summary.mean / sqlite.mean
        );
    };
    row("floor: append one line + fdatasync (Python)", floor);
    row("SQLite WAL, synchronous=FULL, one commit per event (Python sqlite3)", sqlite);
    row("`record_event`, journal mode, checkpoints included", journal);
    row("`record_event`, journal mode, commits without a checkpoint", journal_plain);
    row("`record_event`, whole-file mode", whole);
    let amortized = journal.mean - journal_plain.mean;
    println!(
        "\nCheckpoints: {checkpoints} in {n} commits; their amortized cost is {} ms per commit (the mean with them minus the mean without).\n",
        ms(amortized)
    );

    println!(
        "One `agent-metrics record event` process per event, {} processes each (ms, wall clock):\n",
        options.processes
    );
    println!("| store | whole-file p50 | journal p50 | journal / whole-file |");
    println!("|---|---|---|---|");
    for size in [50, 500, 5000] {
        let whole_store = bench.store(size, false)?;
        let whole = summarize(&bench.processes(&whole_store, options.processes)?);
        let journal_store = bench.store(size, true)?;
        let journal = summarize(&bench.processes(&journal_store, options.processes)?);
        println!(
            "| {size} events | {} | {} | {:.2}x |",
            ms(whole.p50),
            ms(journal.p50),
            journal.p50 / whole.p50
        );
    }

    let per_writer = n / 2;
    println!("\nFour writer processes at once, {per_writer} commits each, 500-event store:\n");
    println!("| mode | events/s | p50 ms | p99 ms | CPU s in all |");
    println!("|---|---|---|---|---|");
    let mut throughputs = Vec::new();
    for (name, journal) in [("whole-file", false), ("journal", true)] {
        let store = bench.store(500, journal)?;
        let (throughput, latencies, cpu) = bench.concurrent(&store, 4, per_writer)?;
        let summary = summarize(&latencies);
        println!(
            "| {name} | {throughput:.0} | {} | {} | {cpu:.2} |",
            ms(summary.p50),
            ms(summary.p99)
        );
        throughputs.push(throughput);
    }
    println!("\nJournal / whole-file throughput: {:.2}x.\n", throughputs[1] / throughputs[0]);

    let loads = 50;
    let (with_journal, without) = bench.cold_loads(500, 63, 64, loads)?;
    println!(
        "Cold load of a 500-event state, {loads} loads each, the same state with its last 63 events in the journal (one short of a checkpoint) and after `checkpoint` (ms):\n"
    );
    println!("| store | p50 | mean |");
    println!("|---|---|---|");
    println!("| file only (after a checkpoint) | {} | {} |", ms(without.p50), ms(without.mean));
    println!(
        "| file + 63 journal entries | {} | {} |",
        ms(with_journal.p50),
        ms(with_journal.mean)
    );
    println!("\nJournal / file-only cold load: {:.2}x (p50).\n", with_journal.p50 / without.p50);

    println!("The checkpoint threshold K (entries), 500-event store:\n");
    println!(
        "| K | mean commit ms (handle) | amortized checkpoint ms per commit | `record event` process p50 ms | cold load with K-1 entries / file only |"
    );
    println!("|---|---|---|---|---|");
    for k in [16u32, 32, 64, 128, 256] {
        let store = bench.store(500, true)?;
        let (all, plain, _) = bench.handle_with(&store, (4 * k).max(n / 2), k as usize)?;
        let (all, plain) = (summarize(&all), summarize(&plain));
        let cli_store = bench.store(500, true)?;
        bench.handle_with(&cli_store, k - 1, k as usize)?;
        let cli = summarize(&bench.processes(&cli_store, 20)?);
        let (cold_with, cold_without) = bench.cold_loads(500, k - 1, k as usize, loads)?;
        println!(
            "| {k} | {} | {} | {} | {:.2}x |",
            ms(all.mean),
            ms(all.mean - plain.mean),
            ms(cli.p50),
            cold_with.p50 / cold_without.p50
        );
    }
    Ok(())
}

/// Runs `count` processes one after another, each recording one event (`command(index)`
/// builds it), and returns their wall-clock latencies in microseconds: what one `record
/// event` per event costs a script.
pub(crate) fn one_process_per_event(
    count: u32,
    mut command: impl FnMut(u32) -> Command,
) -> Result<Vec<f64>, String> {
    let mut latencies = Vec::with_capacity(count as usize);
    for index in 0..count {
        let mut process = command(index);
        let started = Instant::now();
        let status = process.stdout(Stdio::null()).status().map_err(|err| err.to_string())?;
        latencies.push(started.elapsed().as_secs_f64() * 1e6);
        if !status.success() {
            return Err(format!("record event failed with {status}"));
        }
    }
    Ok(latencies)
}
