//! `cargo xtask bench-serve`: acknowledged durable events per second and the latency of each
//! acknowledgement through `agent-metrics serve`, with 1, 4 and 16 concurrent HTTP clients
//! (one event per request), beside one `record event` process per event and SQLite WAL
//! `synchronous=FULL` with one commit per event, all in one run on the same disk, printed as
//! markdown with the ratios and the server's CPU time.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Instant;

use crate::bench_journal::{Summary, ms, one_process_per_event, run_peer, summarize};
use crate::cmd::{cargo, exec, workspace_root};

/// Options of `cargo xtask bench-serve`.
#[derive(Debug, clap::Args)]
pub(crate) struct Options {
    /// Requests (one event each) per client count and round
    #[arg(long, default_value_t = 1600)]
    events: u32,
    /// Rounds; each runs every series once, so drift of the disk affects all alike
    #[arg(long, default_value_t = 3)]
    rounds: u32,
    /// Processes for the one-process-per-event CLI series
    #[arg(long, default_value_t = 100)]
    processes: u32,
}

/// A server process over a store in journal or whole-file mode.
struct Server {
    child: Child,
    url: String,
}

impl Server {
    fn start(binary: &Path, store: &Path) -> Result<Server, String> {
        let mut child = Command::new(binary)
            .arg("--file")
            .arg(store)
            .args(["serve", "--listen", "127.0.0.1:0"])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|err| err.to_string())?;
        let mut first = String::new();
        if let Some(stdout) = child.stdout.as_mut() {
            BufReader::new(stdout).read_line(&mut first).map_err(|err| err.to_string())?;
        }
        let url = first.trim().strip_prefix("listening on ").unwrap_or_default().to_owned();
        if url.is_empty() {
            let _ = child.kill();
            return Err(format!("serve printed {first:?}"));
        }
        Ok(Server { child, url })
    }

    /// (requests acknowledged, durable writes made for them) so far, from `/metrics`.
    fn ingest_counts(&self) -> (f64, f64) {
        let text = ureq::get(&format!("{}/metrics", self.url))
            .call()
            .ok()
            .and_then(|mut response| response.body_mut().read_to_string().ok())
            .unwrap_or_default();
        let counter = |name: &str| {
            text.lines()
                .find(|line| line.starts_with(name))
                .and_then(|line| line.rsplit(' ').next())
                .and_then(|value| value.parse().ok())
                .unwrap_or(0.0)
        };
        (
            counter("agent_metrics_ingest_requests_total"),
            counter("agent_metrics_ingest_batches_total"),
        )
    }

    /// User and system CPU seconds of the server so far.
    fn cpu_seconds(&self) -> f64 {
        let stat =
            std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).unwrap_or_default();
        let fields: Vec<&str> = stat
            .rsplit_once(')')
            .map(|(_, rest)| rest.split_whitespace().collect())
            .unwrap_or_default();
        let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok()).unwrap_or(0.0);
        (ticks(11) + ticks(12)) / 100.0
    }

    fn stop(mut self) -> Result<(), String> {
        exec(Command::new("sh").args(["-c", &format!("kill -TERM {}", self.child.id())]))?;
        let status = self.child.wait().map_err(|err| err.to_string())?;
        if status.success() { Ok(()) } else { Err(format!("serve ended with {status}")) }
    }
}

/// One measured series: events/s, latencies (µs), CPU seconds of the server, durable
/// writes it made.
struct Measured {
    events_per_second: f64,
    latencies: Vec<f64>,
    cpu: f64,
    writes: f64,
}

/// `clients` keep-alive connections on one async thread (so the load generator takes at
/// most one core), each POSTing `per_client` single-event requests one after the other, as
/// fast as acknowledgements come back.
fn load(server: &Server, clients: u32, per_client: u32, tag: &str) -> Result<Measured, String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|err| err.to_string())?;
    let address = server.url.trim_start_matches("http://").to_owned();
    let cpu_before = server.cpu_seconds();
    let (_, writes_before) = server.ingest_counts();
    let started = Instant::now();
    let results = runtime.block_on(async {
        let tasks: Vec<_> = (0..clients)
            .map(|client| {
                let (address, tag) = (address.clone(), tag.to_owned());
                tokio::spawn(async move { client_loop(&address, &tag, client, per_client).await })
            })
            .collect();
        let mut all = Vec::new();
        for task in tasks {
            all.push(task.await.map_err(|err| err.to_string()).and_then(|result| result));
        }
        all
    });
    let wall = started.elapsed().as_secs_f64();
    let mut latencies = Vec::new();
    for result in results {
        latencies.extend(result?);
    }
    Ok(Measured {
        events_per_second: latencies.len() as f64 / wall,
        latencies,
        cpu: server.cpu_seconds() - cpu_before,
        writes: server.ingest_counts().1 - writes_before,
    })
}

/// One connection sending its requests in turn; returns each acknowledgement's latency (µs).
async fn client_loop(
    address: &str,
    tag: &str,
    client: u32,
    count: u32,
) -> Result<Vec<f64>, String> {
    use http_body_util::BodyExt as _;
    let stream = tokio::net::TcpStream::connect(address).await.map_err(|err| err.to_string())?;
    stream.set_nodelay(true).map_err(|err| err.to_string())?;
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
            .await
            .map_err(|err| err.to_string())?;
    tokio::spawn(connection);
    let mut latencies = Vec::with_capacity(count as usize);
    for i in 0..count {
        let body = format!(
            r#"{{"event_id":"{tag}-{client}-{i}","agent_name":"agent-{}","status":"success","input_tokens":1200,"output_tokens":300,"estimated_cost_usd":0.02,"duration_seconds":30,"model_used":"claude-sonnet-4-5","ticket_key":"AI-7","session_id":"bench"}}"#,
            client % 4
        );
        let request = hyper::Request::post("/api/v1/events")
            .header("host", address)
            .header("content-type", "application/json")
            .body(http_body_util::Full::new(hyper::body::Bytes::from(body)))
            .map_err(|err| err.to_string())?;
        let sent = Instant::now();
        let response = sender.send_request(request).await.map_err(|err| err.to_string())?;
        let status = response.status();
        let answer =
            response.into_body().collect().await.map_err(|err| err.to_string())?.to_bytes();
        if status != 200 {
            return Err(format!("status {status}: {}", String::from_utf8_lossy(&answer)));
        }
        latencies.push(sent.elapsed().as_secs_f64() * 1e6);
    }
    Ok(latencies)
}

/// A store of 500 events (the default cap, so every write is the steady state).
fn seeded_store(binary: &Path, dir: &Path, journal: bool) -> Result<PathBuf, String> {
    std::fs::create_dir_all(dir).map_err(|err| err.to_string())?;
    let store = dir.join(".agent_metrics.json");
    let run = |args: &[&str], stdin: &str| -> Result<(), String> {
        use std::io::Write as _;
        let mut child = Command::new(binary)
            .arg("--file")
            .arg(&store)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .map_err(|err| err.to_string())?;
        if let Some(mut input) = child.stdin.take() {
            input.write_all(stdin.as_bytes()).map_err(|err| err.to_string())?;
        }
        let status = child.wait().map_err(|err| err.to_string())?;
        if status.success() { Ok(()) } else { Err(format!("agent-metrics {args:?}: {status}")) }
    };
    run(&["init", "--project", "bench"], "")?;
    let lines: String = (0..500)
        .map(|i| format!("{{\"event_id\":\"seed-{i}\",\"agent_name\":\"coding\",\"status\":\"success\",\"input_tokens\":1200,\"ticket_key\":\"AI-{i}\"}}\n"))
        .collect();
    run(&["record", "event", "--json", "-"], &lines)?;
    if journal {
        run(&["config", "--journal", "on"], "")?;
    }
    Ok(store)
}

/// One `record event` process per event: wall-clock latencies (µs).
fn processes(binary: &Path, store: &Path, count: u32) -> Result<Vec<f64>, String> {
    one_process_per_event(count, |index| {
        let id = format!("proc-{index}-{}", fastrand::u64(..));
        let mut command = Command::new(binary);
        command.arg("--file").arg(store);
        command.args(["record", "event", "--agent", "coding", "--status", "success"]);
        command.args(["--event-id", &id]);
        command
    })
}

/// The rounds of one mode and client count, added up.
#[derive(Default)]
struct Series {
    mode: &'static str,
    clients: u32,
    latencies: Vec<f64>,
    events: f64,
    seconds: f64,
    cpu: f64,
    writes: f64,
}

impl Series {
    fn add(&mut self, measured: &Measured) {
        let events = measured.latencies.len() as f64;
        self.latencies.extend(&measured.latencies);
        self.events += events;
        self.seconds += events / measured.events_per_second;
        self.cpu += measured.cpu;
        self.writes += measured.writes;
    }
}

#[expect(clippy::print_stdout, reason = "the report is the task's output")]
pub(crate) fn run(options: &Options) -> Result<(), String> {
    exec(cargo(&["build", "--release", "--quiet", "-p", "agent-metrics"]).stdout(Stdio::null()))?;
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| workspace_root().join("target"), PathBuf::from);
    let binary = target.join("release/agent-metrics");
    // Under target/ (a real disk), not a tmpfs /tmp: every fsync costs what it costs a user.
    let scratch = tempfile::Builder::new()
        .prefix("bench-serve-")
        .tempdir_in(&target)
        .map_err(|err| err.to_string())?;
    let peer_dir = scratch.path().join("peer");
    std::fs::create_dir_all(&peer_dir).map_err(|err| err.to_string())?;
    let client_counts = [1u32, 4, 16];
    let modes = [("whole-file", false), ("journal", true)];
    // (mode, clients) -> measurements over the rounds.
    let mut series: Vec<Series> = Vec::new();
    let mut sqlite_latencies = Vec::new();
    let mut sqlite_seconds = 0.0;
    let mut servers = Vec::new();
    for (name, journal) in modes {
        let store = seeded_store(&binary, &scratch.path().join(name), journal)?;
        servers.push((name, Server::start(&binary, &store)?));
    }
    for round in 0..options.rounds {
        let started = Instant::now();
        let latencies = run_peer(&peer_dir, "sqlite", options.events)?;
        sqlite_seconds += started.elapsed().as_secs_f64();
        sqlite_latencies.extend(latencies);
        for (name, server) in &servers {
            for clients in client_counts {
                let per_client = (options.events / clients).max(1);
                let measured = load(server, clients, per_client, &format!("r{round}-c{clients}"))?;
                let index =
                    match series.iter().position(|s| s.mode == *name && s.clients == clients) {
                        Some(index) => index,
                        None => {
                            series.push(Series { mode: name, clients, ..Series::default() });
                            series.len() - 1
                        }
                    };
                series[index].add(&measured);
            }
        }
    }
    for (_, server) in servers {
        server.stop()?;
    }
    let cli_store = seeded_store(&binary, &scratch.path().join("cli"), false)?;
    let cli = processes(&binary, &cli_store, options.processes)?;
    let cli_journal_store = seeded_store(&binary, &scratch.path().join("cli-journal"), true)?;
    let cli_journal = processes(&binary, &cli_journal_store, options.processes)?;

    let sqlite_summary = summarize(&sqlite_latencies);
    let sqlite_rate = sqlite_latencies.len() as f64 / (sqlite_latencies.iter().sum::<f64>() / 1e6);
    let _ = sqlite_seconds;
    println!("## The server, measured in one run (`cargo xtask bench-serve`)\n");
    println!(
        "Acknowledged durable events, one event per request, 500-event store, {} rounds of {} requests per client count; the peers in the same run:\n",
        options.rounds, options.events
    );
    println!(
        "| series | clients | events/s | p50 ms | p99 ms | server CPU ms per event | events/s / SQLite |"
    );
    println!("|---|---|---|---|---|---|---|");
    let row = |name: &str, clients: &str, rate: f64, summary: Summary, cpu: Option<f64>| {
        println!(
            "| {name} | {clients} | {rate:.0} | {} | {} | {} | {:.2}x |",
            ms(summary.p50),
            ms(summary.p99),
            cpu.map_or_else(|| "–".to_owned(), |cpu| format!("{:.3}", cpu * 1e3)),
            rate / sqlite_rate
        );
    };
    row(
        "SQLite WAL `synchronous=FULL`, one commit per event (Python `sqlite3`)",
        "1",
        sqlite_rate,
        sqlite_summary,
        None,
    );
    for (label, latencies) in [
        ("`record event`, one process per event, whole-file", &cli),
        ("`record event`, one process per event, journal", &cli_journal),
    ] {
        let summary = summarize(latencies);
        row(label, "1", 1e6 / summary.mean, summary, None);
    }
    for s in &series {
        let summary = summarize(&s.latencies);
        let label = format!(
            "`serve`, {} store, {:.1} requests per durable write",
            s.mode,
            s.events / s.writes
        );
        row(&label, &s.clients.to_string(), s.events / s.seconds, summary, Some(s.cpu / s.events));
    }
    Ok(())
}
